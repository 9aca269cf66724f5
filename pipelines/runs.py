"""Run directories: every ``star run`` keeps its results under its own directory, never overwritten.

A run directory is ``<results_dir>/runs/<report year>-<config hash[:8]>`` (or ``--out``). It holds
the stage outputs (``survival/``, ``reproduction/``, ...), ``provenance.json`` and ``run.json``
(report year, configuration hash, code fingerprint, extract digest, data end, status). A run with
the same configuration, code and extract is the same run (its directory is reused, the stage cache
serves it); when one of them differs, the run gets a new directory (``...-2``, ``-3``, ...), so a
directory's results always belong to the record in its ``run.json``.

``<results_dir>/latest`` names the newest completed run, and its tables are copied to the top of
``<results_dir>`` (``results/survival/``, ``results/provenance.json``, ...), the layout ``star
report`` and ``make report`` read. :func:`compare_runs` puts the headline statistics of two runs
side by side.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from pipelines.config import StarConfig, config_hash
from pipelines.provenance import run_time
from pipelines.results_registry import REGISTRY

RUNS = "runs"
LATEST = "latest"
RUN_RECORD = "run.json"
RUN_CONTENTS: tuple[str, ...] = (
    *sorted({spec.path.split("/")[0] for spec in REGISTRY.values()}),
    "provenance",
)
"""Folders of a run directory copied to the top of the results directory: every stage folder
the results registry declares a table in, and the provenance."""


def extract_digest(raw_dir: Path) -> str:
    """SHA-256 over the names and contents of the extract's files (the tables, not ground truth)."""
    from pipelines.run import tree_hashes

    files = [p for p in sorted(Path(raw_dir).glob("*")) if p.is_file()]
    h = hashlib.sha256()
    for path, digest in sorted(tree_hashes(files).items()):
        h.update(Path(path).name.encode() + b"\0" + digest.encode() + b"\0")
    return h.hexdigest()


def run_identity(config: StarConfig, raw_dir: Path, fingerprint: str) -> dict[str, object]:
    """What makes two runs the same run: configuration, code and extract."""
    return {
        "report_year": config.report.year,
        "config_hash": config_hash(config),
        "code": fingerprint,
        "extract": extract_digest(raw_dir),
        "raw_dir": str(raw_dir),
    }


def _read_record(run_dir: Path) -> dict | None:
    path = Path(run_dir) / RUN_RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _same(record: dict | None, identity: dict) -> bool:
    keys = ("config_hash", "code", "extract")
    return record is not None and all(record.get(k) == identity[k] for k in keys)


def resolve_run_dir(results_root: Path, identity: dict, out: Path | None = None) -> Path:
    """The run directory of ``identity``: ``out`` when given (refused when it holds another run),
    else ``<results_root>/runs/<year>-<hash8>`` with a suffix when that name holds another run."""
    if out is not None:
        record = _read_record(out)
        if record is not None and not _same(record, identity):
            raise ValueError(
                f"{out}: holds another run (config {record.get('config_hash', '?')[:8]}, extract "
                f"{record.get('extract', '?')[:8]}); runs are never overwritten: choose another --out"
            )
        return Path(out)
    base = f"{identity['report_year']}-{str(identity['config_hash'])[:8]}"
    runs = Path(results_root) / RUNS
    for n in range(1, 1000):
        candidate = runs / (base if n == 1 else f"{base}-{n}")
        record = _read_record(candidate)
        if record is None and not candidate.exists():
            return candidate
        if _same(record, identity):
            return candidate
    raise RuntimeError(f"{runs}: more than 999 runs named {base}")


def write_record(run_dir: Path, identity: dict, status: str, **extra: object) -> Path:
    """Write ``run.json`` (identity, status, time) into the run directory."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {
        **identity,
        "run_id": run_dir.name,
        "status": status,
        "created": run_time().isoformat(timespec="seconds"),
        **extra,
    }
    path = run_dir / RUN_RECORD
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def publish_latest(results_root: Path, run_dir: Path) -> None:
    """Copy the run's tables to the top of ``results_root`` and point ``latest`` at the run."""
    results_root, run_dir = Path(results_root), Path(run_dir)
    for name in RUN_CONTENTS:
        src = run_dir / name
        if not src.is_dir():
            continue
        dst = results_root / name
        tmp = results_root / f".{name}.publish-tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp)
        if dst.exists():
            shutil.rmtree(dst)
        tmp.replace(dst)
    manifest = run_dir / "provenance" / "provenance.json"
    if manifest.exists():
        shutil.copyfile(manifest, results_root / "provenance.json")
    inside = _inside(run_dir, results_root)
    rel = run_dir.resolve().relative_to(results_root.resolve()) if inside else run_dir.resolve()
    (results_root / LATEST).write_text(f"{rel}\n", encoding="utf-8")


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True


def list_runs(results_root: Path) -> pd.DataFrame:
    """One row per run directory under ``<results_root>/runs``: run, year, hash, created, extract,
    data end, status, latest."""
    latest = Path(results_root) / LATEST
    latest_name = Path(latest.read_text(encoding="utf-8").strip()).name if latest.exists() else ""
    rows = []
    for d in sorted((Path(results_root) / RUNS).glob("*")):
        rec = _read_record(d)
        if rec is None:
            continue
        rows.append(
            {
                "run": d.name,
                "year": rec.get("report_year"),
                "config_hash": str(rec.get("config_hash", ""))[:8],
                "created": rec.get("created", ""),
                "extract": str(rec.get("extract", ""))[:8],
                "data_end": rec.get("data_end", ""),
                "status": rec.get("status", ""),
                "latest": d.name == latest_name,
            }
        )
    cols = ["run", "year", "config_hash", "created", "extract", "data_end", "status", "latest"]
    return pd.DataFrame(rows, columns=cols)


def find_run(results_root: Path, name: str | Path) -> Path:
    """A run directory from its name (``2021-3fa9c2d1``), a unique prefix, ``latest`` or a path."""
    p = Path(name)
    if (p / RUN_RECORD).exists() or (p / "reproduction").is_dir():
        return p
    runs = Path(results_root) / RUNS
    if str(name) == LATEST and (Path(results_root) / LATEST).exists():
        target = (Path(results_root) / LATEST).read_text(encoding="utf-8").strip()
        return Path(target) if Path(target).is_absolute() else Path(results_root) / target
    hits = sorted(d for d in runs.glob(f"{name}*") if d.is_dir())
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(d.name for d in sorted(runs.glob("*"))) or "none"
    what = "is ambiguous" if hits else "not found"
    raise FileNotFoundError(f"run {name!r} {what} in {runs} (runs: {known})")


# statistics of star2022.csv in percent of persons that are not a share of persons (no
# binomial standard error): time shares, municipal percentiles, changes
_NOT_PERSON_SHARES = {("R6", "all"), ("R8", "municipal_p10"), ("R8", "municipal_p90")}


def _standard_errors(df: pd.DataFrame) -> pd.Series:
    """Standard error of each row's ``reproduced`` (same unit), NaN where none is known: binomial
    for shares of persons (``pct`` with ``n``), from the 95 % interval for model estimates."""
    p = df["reproduced"] / 100.0
    n = pd.to_numeric(df["n"], errors="coerce")
    keys = list(zip(df["id"], df["part"], strict=True))
    excluded = pd.Series([k in _NOT_PERSON_SHARES for k in keys], index=df.index)
    share = (df["unit"] == "pct") & n.gt(0) & p.between(0, 1) & ~excluded
    var = (p * (1 - p) / n).where(share)
    se = 100 * np.sqrt(var)
    lo, hi = (
        pd.to_numeric(df["lower"], errors="coerce"),
        pd.to_numeric(df["upper"], errors="coerce"),
    )
    model = df["tolerance"].astype(str).str.startswith("published within")
    return se.where(~model, (hi - lo) / (2 * stats.norm.ppf(0.975)))


def compare_runs(run_a: Path, run_b: Path, alpha: float = 0.05) -> pd.DataFrame:
    """Every headline statistic (``reproduction/star2022.csv``) of two runs side by side.

    Columns: id, part, statistic, unit, value_a, value_b, n_a, n_b, difference (b - a), and where
    both have a standard error: se_a, se_b, the normal-approximation interval of the difference
    (``conf_low``, ``conf_high``) and the two-sided ``p_value`` of the independent-samples z test
    ``(b - a) / sqrt(se_a^2 + se_b^2)``. Two report years share many persons (the long-term stock
    of one year is largely the next year's), so the samples are not independent: for positively
    correlated estimates the variance of the difference is smaller than the sum, and the interval
    is conservative (too wide) -- an approximation, not an exact test.
    """
    z = stats.norm.ppf(1 - alpha / 2)
    tabs = []
    for tag, d in (("a", run_a), ("b", run_b)):
        path = Path(d) / "reproduction" / "star2022.csv"
        if not path.exists():
            raise FileNotFoundError(f"{path}: no headline statistics in run {Path(d).name}")
        t = pd.read_csv(path)
        t["se"] = _standard_errors(t)
        tabs.append(
            t[["id", "part", "statistic", "unit", "reproduced", "n", "se"]].rename(
                columns={"reproduced": f"value_{tag}", "n": f"n_{tag}", "se": f"se_{tag}"}
            )
        )
    keys = ["id", "part", "statistic", "unit"]
    order = pd.concat([tabs[1][keys], tabs[0][keys]]).drop_duplicates()
    out = order.merge(tabs[0], on=keys, how="left").merge(tabs[1], on=keys, how="left")
    out["difference"] = out["value_b"] - out["value_a"]
    se = np.sqrt(out["se_a"] ** 2 + out["se_b"] ** 2)
    out["conf_low"] = out["difference"] - z * se
    out["conf_high"] = out["difference"] + z * se
    zstat = out["difference"] / se.where(se > 0)
    out["p_value"] = 2 * stats.norm.sf(zstat.abs())
    cols = ["id", "part", "statistic", "unit", "value_a", "value_b", "difference", "se_a", "se_b",
            "conf_low", "conf_high", "p_value", "n_a", "n_b"]  # fmt: skip
    out[["n_a", "n_b"]] = out[["n_a", "n_b"]].astype("Int64")
    return out[cols]

"""Disclosure audit of everything about to be published.

``star audit RESULTS_DIR`` scans every results table (CSV/Parquet, recursively) and, when given,
the tables underlying the rendered documents, for:

- person counts below the disclosure threshold: columns ``n`` and ``n_*`` must hold 0, a missing
  (suppressed) value, or at least the threshold;
- curve steps backed by too few persons: in tables with ``time`` and ``n_risk`` columns every
  published row needs ``n_risk`` >= threshold, and ``n_event`` (when present) per step >= threshold
  or 0;
- exact minima/maxima of individual values: columns named ``min``, ``max``, ``minimum``,
  ``maximum`` (or ending in ``_min``/``_max``);
- person ids: columns named like person ids, values that look like raw CPR numbers, and values equal
  to a person id of the input (when the validated persons table is given); also in rendered HTML;
- the results registry (:mod:`pipelines.results_registry`): a file ``<area>/<file>.csv`` of a
  stage's area must be declared there, with only declared columns of the declared kinds.

It is an independent check of the output, deliberately not sharing code with the suppression in
:mod:`analysis.disclosure`, so a bug there is caught here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from data_schema.ids import looks_like_cpr

ID_COLUMN = re.compile(r"^(person_?id|pnr|cpr(_?nr)?|id_?person|personnummer)$", re.IGNORECASE)
COUNT_COLUMN = re.compile(r"^n(_[a-z0-9_]+)?$")
EXTREME_COLUMN = re.compile(r"^(min|max|minimum|maximum)$|_(min|max)$", re.IGNORECASE)


@dataclass(frozen=True)
class AuditViolation:
    file: str
    row: int | None
    column: str | None
    rule: str
    value: str = ""

    def __str__(self) -> str:
        where = (
            self.file
            + (f" row {self.row}" if self.row is not None else "")
            + (f", column {self.column}" if self.column else "")
        )
        return f"{where}: {self.rule}" + (f" ({self.value})" if self.value else "")


def _read(path: Path) -> pd.DataFrame:
    """Read a table with every value as text, so ids keep leading zeros; counts are parsed later."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype("string")
    return pd.read_csv(path, dtype=str, keep_default_na=True)


def audit_table(
    df: pd.DataFrame, name: str, threshold: int, known_ids: frozenset[str] = frozenset()
) -> list[AuditViolation]:
    """Audit one table; ``name`` is used in the messages. Rows are 1-based data rows."""
    out: list[AuditViolation] = []
    for col in df.columns:
        col_s = str(col)
        if ID_COLUMN.match(col_s):
            out.append(AuditViolation(name, None, col_s, "column looks like a person id"))
        if EXTREME_COLUMN.search(col_s):
            out.append(
                AuditViolation(
                    name, None, col_s, "exact minimum/maximum of individual values is published"
                )
            )
        s = df[col]
        if COUNT_COLUMN.match(col_s):
            num = pd.to_numeric(s, errors="coerce")
            small = num.notna() & (num > 0) & (num < threshold)
            for i in small[small].index[:50]:
                out.append(
                    AuditViolation(
                        name,
                        int(i) + 1,
                        col_s,
                        f"count below the disclosure threshold {threshold}",
                        str(s[i]),
                    )
                )
        if not pd.api.types.is_float_dtype(s.dtype):
            txt = s.dropna().astype(str).str.strip()
            if len(txt):
                cpr = looks_like_cpr(txt)
                for i in cpr[cpr].index[:20]:
                    out.append(
                        AuditViolation(
                            name, int(i) + 1, col_s, "value looks like a raw CPR number", "<hidden>"
                        )
                    )
                if known_ids:
                    # membership over the column's distinct values against a Python set: pandas'
                    # isin with a large set rebuilds it per call (minutes on 600 columns)
                    found = {v for v in txt.unique() if v in known_ids}
                    hit = txt.isin(found) if found else pd.Series(False, index=txt.index)
                    for i in hit[hit].index[:20]:
                        out.append(
                            AuditViolation(
                                name,
                                int(i) + 1,
                                col_s,
                                "value is a person id of the input",
                                "<hidden>",
                            )
                        )
    if "time" in df.columns and "n_risk" in df.columns:
        # the count rule above already flags 0 < n_risk < threshold; a published step with n_risk 0 is also a problem
        n_risk = pd.to_numeric(df["n_risk"], errors="coerce")
        estimate = (
            pd.to_numeric(df["estimate"], errors="coerce")
            if "estimate" in df.columns
            else pd.Series(float("nan"), index=df.index)
        )
        zero = n_risk.notna() & (n_risk == 0) & estimate.notna()
        for i in zero[zero].index[:20]:
            out.append(
                AuditViolation(
                    name, int(i) + 1, "n_risk", "curve step published with nobody at risk"
                )
            )
    return out


def results_files(directories: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for d in directories:
        d = Path(d)
        if d.is_file():
            files.append(d)
        elif d.is_dir():
            files += sorted(
                p for p in d.rglob("*") if p.suffix in (".csv", ".parquet") and p.is_file()
            )
    return files


def registry_violations(path: Path, root: Path) -> list[AuditViolation]:
    """Violations of the results registry by one file under the results directory ``root``.

    Only files ``<area>/<file>.csv`` (``recovery/<study>/<file>.csv``: at the depth the area's
    declared tables have) in the area of a declared table are checked: such a file must be
    declared, and its columns declared with their kinds (other files pass).
    """
    from pipelines.results_registry import REGISTRY, check_frame, spec_for_path

    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    depths: dict[str, set[int]] = {}
    for spec in REGISTRY.values():
        depths.setdefault(spec.path.split("/")[0], set()).add(spec.path.count("/"))
    if path.suffix != ".csv" or rel.count("/") not in depths.get(rel.split("/")[0], set()):
        return []
    spec = spec_for_path(rel)
    if spec is None:
        return [AuditViolation(str(path), None, None, "results table not declared in the registry")]
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return []  # reported as unreadable by the disclosure checks
    return [
        AuditViolation(str(path), None, None, f"registry ({spec.name}): {problem}")
        for problem in check_frame(spec, df)
    ]


def audit(
    results_dirs: Iterable[Path],
    threshold: int,
    known_ids: Iterable[str] = (),
    html_files: Iterable[Path] = (),
    *,
    registry: bool = True,
) -> list[AuditViolation]:
    """Audit every results table under ``results_dirs`` and every rendered HTML file given.

    ``registry``: also check the files of the stages' areas against the results registry.
    """
    ids = frozenset(str(i) for i in known_ids)
    out: list[AuditViolation] = []
    if registry:
        for d in results_dirs:
            if Path(d).is_dir():
                for path in results_files([d]):
                    out += registry_violations(path, Path(d))
    for path in results_files(results_dirs):
        try:
            df = _read(path)
        except Exception as exc:  # an unreadable results file cannot be vouched for
            out.append(
                AuditViolation(
                    str(path), None, None, f"cannot be read: {type(exc).__name__}: {exc}"
                )
            )
            continue
        out += audit_table(df, str(path), threshold, ids)
    if ids:
        for html in html_files:
            text = Path(html).read_text(encoding="utf-8", errors="replace")
            tokens = set(re.findall(r"[A-Za-z0-9_.\-]{3,64}", text))
            leaked = tokens & ids
            if leaked:
                out.append(
                    AuditViolation(
                        str(html),
                        None,
                        None,
                        f"{len(leaked)} person id(s) of the input appear in the document",
                        "<hidden>",
                    )
                )
    return out

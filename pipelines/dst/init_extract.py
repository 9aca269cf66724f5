"""``star init-extract DIR``: recognise the layouts of a research-server extract by its variable
names and write a starting configuration.

Only headers / metadata are read. Each file is matched against every layout in
``data_schema/layouts`` (all ``required`` variables present, at least one of ``any_of`` when
given; DREAM: a person variable and at least ``week_columns_at_least`` week columns); the best
match is the layout with the most of its variables present. Written to ``OUT``:

``extract.yaml``
    the files with their layouts (edit to correct a guess) and ``unknown_codes``;
``state_mapping.yaml``
    the shipped states with the codes of the DREAM and KYAARX code lists (edit: add your codes);
``star.yaml``
    a run configuration pointing at the mapping copy and the extract directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from data_schema.mapping import DEFAULT_MAPPING_PATH, load_state_mapping
from pipelines.dst import dream, sources
from pipelines.dst.adapt import OTHER_CODE
from pipelines.dst.layouts import Layout, codelist, layouts

BENEFIT_CODELISTS = ("dream_ydelser", "kyaarx")


@dataclass
class Inspection:
    """Recognised files (file -> layout), unrecognised files with the reason, per-file notes."""

    recognised: dict[str, str] = field(default_factory=dict)
    unrecognised: dict[str, str] = field(default_factory=dict)
    unmatched_columns: dict[str, list[str]] = field(default_factory=dict)


def _score(lay: Layout, cols: set[str], names: list[str]) -> int | None:
    if lay.role == "dream_wide":
        weeks, _ = dream.week_columns(
            names, (lay.week_columns or {}).get("pattern", dream.DEFAULT_PATTERN)
        )
        if not set(lay.required) <= cols or len(weeks.names) < 4:
            return None
        return 100 + len(weeks.names)
    if not set(lay.required) <= cols or (lay.any_of and not set(lay.any_of) & cols):
        return None
    return sum(c.source in cols for c in lay.columns)


def inspect_extract(raw_dir: Path) -> Inspection:
    """Match every CSV / Parquet / SAS file in ``raw_dir`` to a layout by its variable names."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir}: extract directory not found")
    res = Inspection()
    for path in sorted(raw_dir.iterdir()):
        if not path.is_file() or path.suffix.lower() not in sources.FORMATS:
            continue
        try:
            names = sources.header(path)
        except Exception as exc:  # an unreadable file is reported, not fatal
            res.unrecognised[path.name] = f"cannot read the header: {type(exc).__name__}: {exc}"
            continue
        cols = {n.strip().upper() for n in names}
        scored = [
            (s, lay.name)
            for lay in layouts().values()
            if (s := _score(lay, cols, names)) is not None
        ]
        if not scored:
            res.unrecognised[path.name] = f"no layout matches its variables {sorted(cols)[:12]}"
            continue
        best = max(scored)[1]
        res.recognised[path.name] = best
        lay = layouts()[best]
        used = {c.source for c in lay.columns}
        extra = sorted(
            c
            for c in cols
            if c not in used and not (lay.role == "dream_wide" and c.startswith("Y_"))
        )
        if extra:
            res.unmatched_columns[path.name] = extra
    return res


def mapping_copy() -> dict:
    """The shipped state mapping with the codes of the DST benefit code lists (and ``OTHER``)."""
    base = yaml.safe_load(DEFAULT_MAPPING_PATH.read_text(encoding="utf-8"))
    load_state_mapping(DEFAULT_MAPPING_PATH)  # validated
    codes = {}
    for name in BENEFIT_CODELISTS:
        cl = codelist(name)
        for code, a in cl.codes.items():
            entry = {"state": a["state"], "label": str(a.get("label", ""))}
            if a.get("kh_group"):
                entry["kh_group"] = a["kh_group"]
            codes[code] = entry
    codes[OTHER_CODE] = {
        "state": "other_benefit",
        "label": "unknown code mapped to other (unknown_codes: other)",
    }
    base["codes"] = codes
    return base


def write_config(
    raw_dir: Path, out: Path, insp: Inspection, unknown_codes: str = "stop"
) -> dict[str, Path]:
    """Write extract.yaml, state_mapping.yaml and star.yaml into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    extract = {
        "version": 1,
        "unknown_codes": unknown_codes,
        "benefits": "auto",
        "dream_output": "records",
        "files": [{"file": f, "layout": lay} for f, lay in insp.recognised.items()],
    }
    paths = {
        "extract": out / "extract.yaml",
        "mapping": out / "state_mapping.yaml",
        "config": out / "star.yaml",
    }
    header = (
        "# Written by `star init-extract`; edit freely. Layouts: data_schema/layouts/*.yaml.\n"
        "# unknown_codes: stop (refuse) | quarantine (rows kept out by ingest) | other (benefit "
        "codes -> OTHER)\n"
    )
    paths["extract"].write_text(
        header + yaml.safe_dump(extract, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    paths["mapping"].write_text(
        "# Copy of the state mapping with the DST code lists' benefit codes; add the codes of your\n"
        "# extract that `star validate --extract` reports as unknown.\n"
        + yaml.safe_dump(mapping_copy(), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    load_state_mapping(paths["mapping"])  # the copy must be valid as written
    cfg = {"paths": {"raw_dir": str(raw_dir)}, "state_mapping": str(paths["mapping"])}
    paths["config"].write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return paths

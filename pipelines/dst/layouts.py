"""DST-style register layouts and code lists, declared as YAML (one file per register and version).

A layout (``data_schema/layouts/<name>.yaml``) says how a register file is recognised (its
variable names), which of the project's columns each source variable becomes (``from``), its type
(text, int, float, bool, date with ``date_format``) and the code list that translates its codes.
A code list (``data_schema/codelists/<name>.yaml``) gives, per code, the project's ``value`` (or a
``state``/``kh_group`` for benefit codes), a short label, the validity period, whether the meaning
is publicly documented, and the source page. ``ranges`` code lists match numeric codes by interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "data_schema"
LAYOUT_DIR = SCHEMA_DIR / "layouts"
CODELIST_DIR = SCHEMA_DIR / "codelists"
TYPES = ("text", "int", "float", "bool", "date")


class LayoutError(ValueError):
    """A layout or code list file is invalid; the message names the file and key."""


@dataclass(frozen=True)
class ColumnSpec:
    target: str
    source: str
    type: str = "text"
    codelist: str | None = None
    date_format: str | None = None
    optional: bool = False
    keep_code: bool = False


@dataclass(frozen=True)
class Layout:
    name: str
    version: str
    register: str
    source: str
    role: str
    required: tuple[str, ...]
    any_of: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    week_columns: dict[str, Any] | None = None
    path: Path | None = None

    def column(self, target: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.target == target), None)


@dataclass(frozen=True)
class CodeList:
    """``codes``: {code: attributes}; ``ranges``: [(low, high, attributes)] matched in order."""

    name: str
    source: str
    documented: bool
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    ranges: tuple[tuple[int, int, dict[str, Any]], ...] = ()
    notes: str = ""

    def lookup(self, code: str) -> dict[str, Any] | None:
        if code in self.codes:
            return self.codes[code]
        try:
            num = int(float(code))
        except ValueError:
            return None
        return next((attrs for lo, hi, attrs in self.ranges if lo <= num <= hi), None)


def _load_yaml(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LayoutError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise LayoutError(f"{path}: expected a mapping")
    return raw


def _parse_layout(path: Path) -> Layout:
    raw = _load_yaml(path)
    for key in ("layout", "role", "recognise", "columns"):
        if key not in raw:
            raise LayoutError(f"{path}: missing key {key!r}")
    cols = []
    for target, spec in raw["columns"].items():
        if not isinstance(spec, dict) or "from" not in spec:
            raise LayoutError(f"{path}: columns.{target}: needs a 'from' source variable")
        typ = spec.get("type", "text")
        if typ not in TYPES:
            raise LayoutError(f"{path}: columns.{target}.type: {typ!r} is not one of {TYPES}")
        unknown = set(spec) - {"from", "type", "codelist", "date_format", "optional", "keep_code"}
        if unknown:
            raise LayoutError(f"{path}: columns.{target}: unknown keys {sorted(unknown)}")
        cols.append(
            ColumnSpec(
                target,
                str(spec["from"]).upper(),
                typ,
                spec.get("codelist"),
                spec.get("date_format"),
                bool(spec.get("optional", False)),
                bool(spec.get("keep_code", False)),
            )
        )
    rec = raw["recognise"]
    return Layout(
        name=str(raw["layout"]),
        version=str(raw.get("version", "")),
        register=str(raw.get("register", "")),
        source=str(raw.get("source", "")),
        role=str(raw["role"]),
        required=tuple(str(v).upper() for v in rec.get("required", [])),
        any_of=tuple(str(v).upper() for v in rec.get("any_of", [])),
        columns=tuple(cols),
        week_columns=raw.get("week_columns"),
        path=path,
    )


@cache
def layouts(directory: Path = LAYOUT_DIR) -> dict[str, Layout]:
    """Every layout in ``directory`` by name."""
    out = {}
    for p in sorted(Path(directory).glob("*.yaml")):
        lay = _parse_layout(p)
        if lay.name in out:
            raise LayoutError(f"{p}: layout {lay.name!r} is also defined in {out[lay.name].path}")
        out[lay.name] = lay
    return out


def _codes_block(path: Path, block: Any, where: str) -> dict[str, dict[str, Any]]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise LayoutError(f"{path}: {where}: expected a mapping of code -> attributes")
    return {str(k): dict(v or {}) for k, v in block.items()}


@cache
def codelist(name: str, directory: Path = CODELIST_DIR) -> CodeList:
    """Code list ``name`` (``file`` or ``file.group`` for a file with ``groups``)."""
    file, _, group = name.partition(".")
    path = Path(directory) / f"{file}.yaml"
    if not path.exists():
        raise LayoutError(f"code list {name!r}: {path} not found")
    raw = _load_yaml(path)
    if group:
        groups = raw.get("groups") or {}
        if group not in groups:
            raise LayoutError(f"{path}: no group {group!r} (groups: {sorted(groups)})")
        codes = _codes_block(path, groups[group], f"groups.{group}")
    else:
        codes = _codes_block(path, raw.get("codes"), "codes")
    ranges = []
    for i, r in enumerate(raw.get("ranges") or []):
        try:
            ranges.append(
                (
                    int(r["from"]),
                    int(r["to"]),
                    {k: v for k, v in r.items() if k not in ("from", "to")},
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LayoutError(f"{path}: ranges[{i}]: needs integer 'from' and 'to'") from exc
    return CodeList(
        name=name,
        source=str(raw.get("source", "")),
        documented=bool(raw.get("documented", False)),
        codes=codes,
        ranges=tuple(ranges),
        notes=str(raw.get("notes", "")),
    )

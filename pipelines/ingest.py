"""Ingest: read a register extract, validate every table, keep accepted rows, quarantine the rest.

For each table file in the raw directory (``<table>.csv``, ``.parquet``, ``.sas7bdat`` or ``.xpt``;
names as in :data:`data_schema.tables.TABLES`):

1. read it (CSV in UTF-8 or Latin-1, detected or configured; separator detected or configured);
2. refuse the whole table when it is unusable: unreadable, empty, a required column missing, or
   person ids that look like raw CPR numbers (unless the config allows them);
3. convert each column to its declared type, recording every value that does not convert;
4. check every rule of the pandera model (allowed values, ranges, cross-column rules such as
   start <= end and no overlapping spells), the extract window, the state mapping (unknown benefit
   codes) and that every person id exists in the persons table; exact duplicate rows are rejected;
5. write accepted rows to ``validated/<table>.parquet``, rejected rows to
   ``quarantine/<table>.csv`` with their reasons, and every violation (file, row, line, column, rule,
   value) to ``quarantine/violations.csv``; counts reconcile: read = accepted + quarantined.

Row numbers: ``row`` is the 1-based data row (the first row after the header is row 1); for CSV
files ``line`` is the line number in the file (header = line 1).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.parquet as pq

from data_schema.ids import looks_like_cpr, mask_cpr_frame, mask_cpr_text
from data_schema.mapping import StateMapping, load_state_mapping
from data_schema.tables import TABLES, table_schema
from pipelines.config import StarConfig

log = logging.getLogger(__name__)

READERS = {
    ".csv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xport",
}
# Tables validated first: others are checked against their ids.
ORDER = ("municipalities", "persons")
VIOLATION_COLUMNS = ["table", "file", "row", "line", "column", "rule", "value"]

_TRUE = {"1", "true", "t", "yes", "y", "ja", "j"}
_FALSE = {"0", "false", "f", "no", "n", "nej"}


class TableUnusable(Exception):
    """A table cannot be used at all (wrong file, missing column, empty, CPR-like ids)."""

    def __init__(self, table: str, file: Path | None, reason: str):
        self.table, self.file, self.reason = table, file, reason
        super().__init__(f"{file or table}: {reason}")


@dataclass(frozen=True)
class TableResult:
    """Outcome of validating one table file."""

    table: str
    file: Path | None
    format: str | None
    encoding: str | None
    n_read: int
    n_accepted: int
    n_quarantined: int
    fatal: str | None = None
    ignored_columns: tuple[str, ...] = ()
    n_blank: int = 0
    """Blank (empty or whitespace-only) lines in a CSV file: skipped, counted, not rows."""
    notes: tuple[str, ...] = ()
    """Layout remarks (trailing delimiter, blank line numbers)."""
    accepted: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    quarantined: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    violations: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def reconciles(self) -> bool:
        return self.n_read == self.n_accepted + self.n_quarantined

    def summary_dict(self) -> dict:
        return {
            "table": self.table,
            "file": str(self.file) if self.file else None,
            "format": self.format,
            "encoding": self.encoding,
            "n_read": self.n_read,
            "n_accepted": self.n_accepted,
            "n_quarantined": self.n_quarantined,
            "reconciles": self.reconciles,
            "fatal": self.fatal,
            "ignored_columns": list(self.ignored_columns),
            "n_blank": self.n_blank,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ExtractResult:
    """Outcome of validating a whole extract directory."""

    raw_dir: Path
    tables: dict[str, TableResult]
    problems: tuple[str, ...] = ()
    """Extract-level problems (missing required tables, unknown files)."""

    @property
    def ok(self) -> bool:
        """True when no table is unusable and no required table is missing."""
        return not self.problems and all(t.fatal is None for t in self.tables.values())

    def violations(self) -> pd.DataFrame:
        frames = [
            t.violations
            for t in self.tables.values()
            if t.violations is not None and len(t.violations)
        ]
        if not frames:
            return pd.DataFrame(columns=VIOLATION_COLUMNS)
        return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# locating and reading files


def locate_tables(raw_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Map table names to files in ``raw_dir``; return problems for ambiguous or unknown files."""
    found: dict[str, list[Path]] = {}
    problems: list[str] = []
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir}: raw data directory not found")
    for p in sorted(raw_dir.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        suffix = p.suffix.lower()
        stem = p.stem.lower()
        if suffix not in READERS:
            continue
        if stem not in TABLES:
            problems.append(
                f"{p}: not a known table name (known: {', '.join(TABLES)}); file ignored"
            )
            continue
        found.setdefault(stem, []).append(p)
    files: dict[str, Path] = {}
    for name, paths in found.items():
        if len(paths) > 1:
            problems.append(
                f"table {name}: several files {[str(p) for p in paths]}; keep exactly one"
            )
        else:
            files[name] = paths[0]
    for name, spec in TABLES.items():
        if spec.required and name not in files:
            problems.append(
                f"table {name}: required file {name}.csv/.parquet/.sas7bdat not found in {raw_dir}"
            )
    if "benefit_spells" not in files and "weekly_benefit_codes" not in files:
        problems.append(
            f"benefits: neither benefit_spells nor weekly_benefit_codes found in {raw_dir}"
        )
    return files, problems


def _detect_separator(header: str, configured: str) -> str:
    if configured != "auto":
        return configured
    counts = {sep: header.count(sep) for sep in (";", ",", "\t", "|")}
    return max(counts, key=lambda k: counts[k]) if max(counts.values()) > 0 else ","


def read_raw(
    path: Path, config: StarConfig, table: str
) -> tuple[pd.DataFrame, str, str | None, str | None, dict]:
    """Read a table file as it is (CSV as strings), with lower-cased, stripped column names.

    Returns
    -------
    (frame, format, encoding, csv separator, CSV line info (see :func:`_read_csv`))

    Raises
    ------
    TableUnusable
        When the file is empty or cannot be read.
    """
    fmt = READERS[path.suffix.lower()]
    if path.stat().st_size == 0:
        raise TableUnusable(table, path, "file is empty (0 bytes, no header)")
    encoding: str | None = None
    sep: str | None = None
    info: dict = {}
    try:
        if fmt == "csv":
            df, encoding, sep, info = _read_csv(path, config)
        elif fmt == "parquet":
            df = pd.read_parquet(path)
        elif fmt == "sas7bdat":
            import pyreadstat

            df, _ = pyreadstat.read_sas7bdat(str(path))
        else:
            import pyreadstat

            df, _ = pyreadstat.read_xport(str(path))
    except TableUnusable as exc:
        raise TableUnusable(table, path, exc.reason) from None
    except Exception as exc:  # any reader error means the file is not what it claims to be
        raise TableUnusable(
            table, path, f"cannot be read as {fmt}: {type(exc).__name__}: {exc}"
        ) from None
    original = [str(c).strip() for c in df.columns]
    lowered = [c.lower() for c in original]
    seen: dict[str, str] = {}
    for orig, low in zip(original, lowered, strict=True):
        if low in seen:
            raise TableUnusable(
                table,
                path,
                f"duplicate column name: {seen[low]!r} and {orig!r} are the same column "
                "(names are matched ignoring letter case and surrounding spaces); keep one",
            )
        seen[low] = orig
    df.columns = lowered
    return df.reset_index(drop=True), fmt, encoding, sep, info


def _decode(path: Path, data: bytes, encoding: str) -> tuple[str, str]:
    """Decode file bytes: UTF-16 by BOM, UTF-8 (BOM stripped), else Latin-1 (auto) or as configured."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise TableUnusable(
                "?", path, f"not decodable as UTF-16 (has a UTF-16 BOM): {exc.reason}"
            ) from None
    order = ["utf-8", "latin-1"] if encoding == "auto" else [encoding]
    for enc in order:
        try:
            text = data.decode("utf-8-sig" if enc == "utf-8" else enc)
            return text, enc
        except (UnicodeDecodeError, LookupError) as exc:
            last = exc
    raise TableUnusable("?", path, f"not decodable as {encoding}: {last}")


def _read_csv(path: Path, config: StarConfig) -> tuple[pd.DataFrame, str, str, dict]:
    """Line-aware CSV reader: every physical line is a header, a blank line or part of a record.

    Returns the frame (all values text; ragged rows padded and flagged) and ``info`` with the file
    line of each record (``lines``), per-record parse rules (``parse_rules``), the blank line numbers
    (``blank``) and ``notes`` (trailing delimiter, ...).
    """
    data = path.read_bytes()
    text, encoding = _decode(path, data, config.input.encoding)
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if physical and physical[-1] == "":
        physical.pop()  # the newline ending the last line
    blank: list[int] = []
    i = 0
    while i < len(physical) and not physical[i].strip():
        blank.append(i + 1)
        i += 1
    if i == len(physical):
        raise TableUnusable("?", path, "no header line (the file holds only blank lines)")
    header_line = physical[i]
    sep = _detect_separator(header_line, config.input.csv_separator)
    header = next(csv.reader([header_line.replace("\x00", "")], delimiter=sep))
    notes: list[str] = []
    trailing = len(header) > 1 and not header[-1].strip()
    if trailing:
        header = header[:-1]
        notes.append(
            "trailing delimiter at the end of the header: the empty last column is ignored"
        )
    n = len(header)
    records: list[list[str]] = []
    lines: list[int] = []
    rules: list[str | None] = []
    extra_trailing = 0
    pos = i + 1
    while pos < len(physical):
        start = pos
        line = physical[pos]
        if not line.strip():
            blank.append(pos + 1)
            pos += 1
            continue
        nul = "\x00" in line
        fields = next(csv.reader([line.replace("\x00", "")], delimiter=sep))
        quoted_nl = line.count('"') % 2 == 1
        if quoted_nl:  # an open quote: join following lines until the quote closes
            joined, end = line, pos
            while end + 1 < len(physical) and joined.count('"') % 2 == 1:
                end += 1
                joined += "\n" + physical[end]
            cand = next(csv.reader([joined.replace("\x00", "")], delimiter=sep), [])
            if joined.count('"') % 2 == 0 and len(cand) in (n, n + 1):
                fields, pos = cand, end
            else:  # unbalanced quote: do not let it swallow lines; this line alone is bad
                records.append(_fit(fields, n))
                lines.append(start + 1)
                rules.append(f'unbalanced quote (") on line {start + 1}; the line is not parsed')
                pos += 1
                continue
        rule = None
        if len(fields) == n + 1 and not fields[-1].strip():
            fields = fields[:-1]
            extra_trailing += 1
        elif len(fields) != n:
            rule = f"ragged row: expected {n} fields, found {len(fields)}" + (
                " (the header has a trailing delimiter)" if trailing else ""
            )
        if nul:
            rule = "contains NUL byte(s)" + (f"; {rule}" if rule else "")
        records.append(_fit(fields, n))
        lines.append(start + 1)
        rules.append(rule)
        pos += 1
    if extra_trailing:
        notes.append(
            f"{extra_trailing} data line(s) end with a trailing delimiter (empty unnamed last field; ignored)"
        )
    names = [h.strip() or f"(unnamed column {k + 1})" for k, h in enumerate(header)]
    df = (
        pd.DataFrame(records, columns=range(n), dtype=object)
        if records
        else pd.DataFrame(columns=range(n))
    )
    df.columns = names
    info = {
        "lines": np.asarray(lines, dtype=np.int64),
        "parse_rules": rules,
        "blank": blank,
        "notes": notes,
    }
    return df, encoding, sep, info


def _fit(fields: list[str], n: int) -> list[str]:
    return (fields + [""] * n)[:n]


# --------------------------------------------------------------------------------------------
# type conversion with per-value violations


def _is_missing(s: pd.Series) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        return s.isna() | (s.astype("string").str.strip() == "")
    return s.isna()


SAS_EPOCH = pd.Timestamp("1960-01-01")


def _convert(
    s: pd.Series, dtype: str, config: StarConfig, decimal_comma: bool, fmt: str | None = None
) -> tuple[pd.Series, pd.Series, str]:
    """Convert ``s`` to ``dtype``; return (converted, failed mask, rule text for failures).

    In SAS files a numeric date column without a date format holds days since 1960-01-01.
    """
    missing = _is_missing(s)
    if dtype.startswith("datetime64"):
        if fmt in ("sas7bdat", "xport") and pd.api.types.is_numeric_dtype(s.dtype):
            days = pd.to_numeric(s, errors="coerce")
            whole = days.notna() & (days == days.round()) & days.abs().lt(200_000)
            out = SAS_EPOCH + pd.to_timedelta(days.where(whole), unit="D")
            rule = "not a valid SAS date (days since 1960-01-01)"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out = pd.to_datetime(s).dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
            out = out.dt.normalize()
            rule = "not a valid date"
        else:
            fmt = config.input.date_format or "%Y-%m-%d"
            out = pd.to_datetime(
                s.where(~missing).astype("string").str.strip(), format=fmt, errors="coerce"
            )
            rule = f"not a valid date (expected format {'YYYY-MM-DD' if config.input.date_format is None else fmt})"
        years = out.dt.year
        out = out.where(years.between(1678, 2261))
        out = out.astype("datetime64[ns]")
        failed = out.isna() & ~missing
        return out, failed, rule
    if dtype in ("int64", "Int64"):
        if pd.api.types.is_numeric_dtype(s.dtype):
            num = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            num = pd.to_numeric(
                s.where(~missing).astype("string").str.strip(), errors="coerce"
            ).astype("float64")
        whole = np.isfinite(num) & (num == np.round(num))
        ok = whole & (num.abs() < 2.0**63)
        failed = ~ok & ~missing
        out = num.where(ok).astype("Int64")
        too_big = (whole & ~ok & ~missing).any()
        rule = "not an integer" + (" (or beyond the int64 range +-9.2e18)" if too_big else "")
        return out, failed, rule
    if dtype == "float64":
        if pd.api.types.is_numeric_dtype(s.dtype):
            num = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            txt = s.where(~missing).astype("string").str.strip()
            if decimal_comma:  # "1.234,5": '.' groups thousands, ',' is the decimal mark
                grouped = (
                    txt.str.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d*)?").fillna(False).astype(bool)
                )
                txt = txt.where(~grouped, txt.str.replace(".", "", regex=False))
                txt = txt.str.replace(",", ".", regex=False)
            num = pd.to_numeric(txt, errors="coerce").astype("float64")
        failed = (num.isna() | ~np.isfinite(num.fillna(0))) & ~missing
        return num.where(~failed), failed, "not a number"
    if dtype in ("bool", "boolean"):
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype("boolean"), pd.Series(False, index=s.index), ""
        txt = s.astype("string").str.strip().str.lower()
        txt = txt.str.replace(r"\.0+$", "", regex=True)  # SAS numeric 1.0/0.0
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[txt.isin(_TRUE).fillna(False).astype(bool)] = True
        out[txt.isin(_FALSE).fillna(False).astype(bool)] = False
        failed = out.isna() & ~missing
        return out, failed, "not a boolean (expected 0/1/true/false)"
    # strings: numbers read from SAS/Parquet become their integer text ("123", not "123.0")
    if pd.api.types.is_float_dtype(s.dtype):
        txt = s.map(
            lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v))
        )
    else:
        txt = s.astype("string")
    # astype("str") before masking: on pandas 2 it turns a missing value into the text "<NA>"
    # (object dtype), on pandas 3 it keeps it missing (str dtype); masking after works on both.
    out = txt.str.strip().astype("str").where(~missing)
    return out, pd.Series(False, index=s.index), ""


def _refuse_cpr_ids(table: str, path: Path, raw: pd.DataFrame, schema) -> None:
    """Refuse the table when any identifier column (text ``*_id`` column) holds a CPR-like value.

    The rule is :func:`data_schema.ids.looks_like_cpr`; the message names rows, never values.
    """
    for col, column in schema.columns.items():
        if not col.endswith("_id") or not (
            "str" in str(column.dtype) or str(column.dtype) == "object"
        ):
            continue
        cpr = looks_like_cpr(raw[col])
        if cpr.any():
            first = np.flatnonzero(cpr.to_numpy())[:5] + 1
            raise TableUnusable(
                table,
                path,
                f"column {col}: {int(cpr.sum())} value(s) look like raw CPR numbers (DDMMYY + 4 "
                "digits, also with a space or dash, or 9 digits with the leading zero dropped), "
                f"first at row(s) {first.tolist()}; pseudonymise the ids or set "
                "privacy.allow_cpr_like_ids: true",
            )


def _violations(
    table: str, path: Path | None, fmt: str | None, rows: pd.Index, column: str, rule: str, values
) -> pd.DataFrame:
    rows = np.asarray(rows, dtype=np.int64)
    return pd.DataFrame(
        {
            "table": table,
            "file": str(path) if path else "",
            "row": rows + 1,
            "line": rows + 2 if fmt == "csv" else pd.array([pd.NA] * len(rows), dtype="Int64"),
            "column": column,
            "rule": rule,
            "value": pd.Series(values, dtype="object").astype("string").to_numpy()
            if len(rows)
            else [],
        },
        columns=VIOLATION_COLUMNS,
    )


# --------------------------------------------------------------------------------------------
# validation of one table


def validate_table(
    table: str,
    path: Path,
    config: StarConfig,
    mapping: StateMapping,
    known_persons: pd.Index | None = None,
    known_municipalities: pd.Index | None = None,
) -> TableResult:
    """Read and validate one table file. Never raises for bad content: an unusable table comes back
    with ``fatal`` set and nothing accepted.
    """
    try:
        return _validate_table(table, path, config, mapping, known_persons, known_municipalities)
    except TableUnusable as exc:
        return TableResult(
            table,
            path,
            READERS.get(path.suffix.lower()),
            None,
            0,
            0,
            0,
            fatal=mask_cpr_text(exc.reason),
        )


def _validate_table(
    table, path, config, mapping, known_persons, known_municipalities
) -> TableResult:
    spec = TABLES[table]
    raw, fmt, encoding, sep, info = read_raw(path, config, table)
    n_read = len(raw)
    blank = info.get("blank", [])
    notes = list(info.get("notes", []))
    if blank:
        shown = ", ".join(map(str, blank[:10])) + (" ..." if len(blank) > 10 else "")
        notes.append(f"{len(blank)} blank line(s) skipped (line {shown})")
    schema = table_schema(table, (config.extract_window.start, config.extract_window.end))
    missing_cols = [c for c in schema.columns if c not in raw.columns]
    if missing_cols:
        raise TableUnusable(
            table, path, f"missing required column(s) {missing_cols}; found {list(raw.columns)}"
        )
    if n_read == 0:
        raise TableUnusable(table, path, "no data rows (header only)")
    ignored = tuple(c for c in raw.columns if c not in schema.columns)
    if ignored:
        names = [mask_cpr_text(c) for c in ignored]
        log.warning("%s: columns not in the %s schema are ignored: %s", path, table, names)
    if not config.privacy.allow_cpr_like_ids:
        _refuse_cpr_ids(table, path, raw, schema)

    decimal_comma = fmt == "csv" and sep != ","  # Danish CSVs: ';' separator with decimal comma
    typed = {}
    viol: list[pd.DataFrame] = []
    bad = pd.Series(False, index=raw.index)
    parse_rules = info.get("parse_rules") or [None] * n_read
    parse_bad = pd.Series([r is not None for r in parse_rules], index=raw.index, dtype=bool)
    if parse_bad.any():
        viol.append(
            _violations(
                table, path, fmt, raw.index[parse_bad], "(line)",
                pd.Series(parse_rules, index=raw.index)[parse_bad].tolist(),
                [""] * int(parse_bad.sum()),
            )
        )  # fmt: skip
        bad |= parse_bad
    for col, column in schema.columns.items():
        dtype = str(column.dtype)
        conv, failed, rule = _convert(raw[col], dtype, config, decimal_comma, fmt)
        typed[col] = conv
        if failed.any():
            viol.append(
                _violations(table, path, fmt, raw.index[failed], col, rule, raw.loc[failed, col])
            )
            bad |= failed
        if not column.nullable:
            miss = conv.isna() & ~failed
            if miss.any():
                viol.append(
                    _violations(
                        table,
                        path,
                        fmt,
                        raw.index[miss],
                        col,
                        "missing value",
                        [""] * int(miss.sum()),
                    )
                )
                bad |= miss
    df = pd.DataFrame(typed, index=raw.index)
    for col, column in schema.columns.items():  # final dtypes as declared
        dtype = str(column.dtype)
        if dtype in ("int64",):
            df[col] = df[col].astype("Int64")
        elif dtype == "bool":
            df[col] = df[col].astype("boolean")

    # Exact duplicate rows: keep the first, reject the rest.
    cols = list(schema.columns)
    dup = df.duplicated(cols, keep="first") & ~bad
    if dup.any():
        first_of = df[cols].astype("string").fillna("\x00").agg("\x1f".join, axis=1)
        first_row = first_of.groupby(first_of, sort=False).transform(lambda s: s.index[0])
        viol.append(
            _violations(
                table,
                path,
                fmt,
                raw.index[dup],
                "(row)",
                "exact duplicate of an earlier row",
                [f"duplicate of row {int(r) + 1}" for r in first_row[dup]],
            )
        )
        bad |= dup

    # Rules of the pandera model + extract window, on rows that converted cleanly.
    more, hit = _schema_violations(table, path, fmt, schema, df, bad, raw)
    viol += more
    bad |= hit
    # The state mapping and the other tables: codes and ids must be known.
    more, hit = _reference_violations(
        table, path, fmt, df, raw, mapping if spec.has_benefit_code else None, known_persons,
        known_municipalities,
    )  # fmt: skip
    viol += more
    bad |= hit

    violations = (
        pd.concat(viol, ignore_index=True) if viol else pd.DataFrame(columns=VIOLATION_COLUMNS)
    )
    if parse_bad.any():  # a line that did not parse has only its parse rule
        in_bad = parse_bad.to_numpy()[violations["row"].to_numpy(dtype=np.int64) - 1]
        violations = violations[~in_bad | (violations["column"] == "(line)")]
    violations = violations.sort_values(["row", "column"], kind="mergesort").reset_index(drop=True)
    if fmt == "csv" and len(violations):
        violations["line"] = info["lines"][violations["row"].to_numpy(dtype=np.int64) - 1]
    violations["value"] = violations["value"].map(
        lambda v: mask_cpr_text(v) if isinstance(v, str) else v
    )
    accepted = df.loc[~bad].reset_index(drop=True)
    for col, column in schema.columns.items():
        if str(column.dtype) == "int64" and not accepted[col].isna().any():
            accepted[col] = accepted[col].astype("int64")
        elif str(column.dtype) == "bool" and not accepted[col].isna().any():
            accepted[col] = accepted[col].astype(bool)
    quarantined = mask_cpr_frame(raw.loc[bad])
    reasons = (
        violations.assign(reason=violations["column"] + ": " + violations["rule"])
        .groupby("row")["reason"]
        .agg("; ".join)
    )
    quarantined.insert(0, "quarantine_row", quarantined.index + 1)
    quarantined.insert(1, "quarantine_reasons", reasons.reindex(quarantined.index + 1).to_numpy())
    result = TableResult(
        table,
        path,
        fmt,
        encoding,
        n_read,
        len(accepted),
        int(bad.sum()),
        ignored_columns=ignored,
        n_blank=len(blank),
        notes=tuple(notes),
        accepted=accepted,
        quarantined=quarantined,
        violations=violations,
    )
    if not result.reconciles:  # an internal invariant; never expected
        raise AssertionError(f"{path}: counts do not reconcile: {result.summary_dict()}")
    return result


def _schema_violations(
    table: str,
    path: Path,
    fmt: str,
    schema: pa.DataFrameSchema,
    df: pd.DataFrame,
    bad: pd.Series,
    raw: pd.DataFrame,
) -> tuple[list[pd.DataFrame], pd.Series]:
    """Violations of the pandera model's checks (and the extract window) among the rows not yet
    ``bad``, and the mask of the rows they reject."""
    viol: list[pd.DataFrame] = []
    hit = pd.Series(False, index=df.index)
    clean = df.loc[~bad].copy()
    for col, column in schema.columns.items():
        dtype = str(column.dtype)
        if dtype == "int64" and not clean[col].isna().any():
            clean[col] = clean[col].astype("int64")
        elif dtype == "bool" and not clean[col].isna().any():
            clean[col] = clean[col].astype(bool)
    if not len(clean):
        return viol, hit
    try:
        schema.validate(clean, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        frame_level = fc["schema_context"] == "DataFrameSchema"
        for check, grp in fc[frame_level].groupby("check", sort=False):
            idx = pd.Index(grp["index"].astype(np.int64).unique())
            viol.append(
                _violations(
                    table, path, fmt, idx, "(row)", _rule_text(str(check)),
                    _row_values(clean.loc[idx]),
                )
            )  # fmt: skip
            hit.loc[idx] = True
        for (col, check), grp in fc[~frame_level].groupby(["column", "check"], sort=False):
            idx = pd.Index(grp["index"].astype(np.int64).unique())
            viol.append(
                _violations(
                    table, path, fmt, idx, str(col), _rule_text(str(check)), raw.loc[idx, col]
                )
            )
            hit.loc[idx] = True
    return viol, hit


def _reference_violations(
    table: str,
    path: Path,
    fmt: str,
    df: pd.DataFrame,
    raw: pd.DataFrame,
    mapping: StateMapping | None,
    known_persons,
    known_municipalities,
) -> tuple[list[pd.DataFrame], pd.Series]:
    """Unknown codes and ids: benefit codes not in the state mapping (``mapping``, None = the
    table has none), person and municipality ids not in their tables; the violations and the mask
    of the rows they reject."""
    checks = []
    if mapping is not None:
        checks.append(
            ("benefit_code", set(mapping.codes), "unknown benefit code (not in the state mapping)")
        )
    if known_persons is not None and table != "persons" and "person_id" in df.columns:
        checks.append(("person_id", known_persons, "person_id not in the persons table"))
    if (
        known_municipalities is not None
        and table != "municipalities"
        and "municipality_id" in df.columns
    ):
        checks.append(
            (
                "municipality_id",
                known_municipalities,
                "municipality_id not in the municipalities table",
            )
        )
    viol: list[pd.DataFrame] = []
    hit = pd.Series(False, index=df.index)
    for col, known, rule in checks:
        unknown = ~df[col].isin(known) & df[col].notna()
        if unknown.any():
            viol.append(
                _violations(table, path, fmt, raw.index[unknown], col, rule, df.loc[unknown, col])
            )
            hit |= unknown
    return viol, hit


def _row_values(rows: pd.DataFrame) -> list[str]:
    keep = [
        c
        for c in rows.columns
        if c
        in ("person_id", "start_date", "end_date", "benefit_code", "week_start", "month", "outcome")
    ]
    return [
        ", ".join(
            f"{c}={'' if pd.isna(v) else (v.date() if isinstance(v, pd.Timestamp) else v)}"
            for c, v in r.items()
        )
        for _, r in rows[keep].iterrows()
    ]


def _rule_text(check: str) -> str:
    """Readable rule text from a pandera check description."""
    replacements = {
        "isin(": "must be one of ",
        "str_matches(": "must match the pattern ",
        "greater_than_or_equal_to(": "must be >= ",
        "less_than_or_equal_to(": "must be <= ",
        "greater_than(": "must be > ",
        "in_range(": "must be in range ",
        "field_uniqueness": "must be unique (value repeated)",
        "column_uniqueness": "must be unique",
    }
    for key, text in replacements.items():
        if check.startswith(key):
            return text + check[len(key) :].rstrip(")") if key.endswith("(") else text
    return check


# --------------------------------------------------------------------------------------------
# the whole extract


def validate_extract(
    raw_dir: Path,
    config: StarConfig,
    mapping: StateMapping | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ExtractResult:
    """Validate every table file in ``raw_dir`` (see module docstring). Does not write anything."""
    mapping = mapping or load_state_mapping(config.state_mapping)
    files, problems = locate_tables(Path(raw_dir))
    names = [n for n in ORDER if n in files] + [n for n in TABLES if n in files and n not in ORDER]
    results: dict[str, TableResult] = {}
    persons = municipalities = None
    for i, name in enumerate(names):
        if progress:
            progress(name, i, len(names))
        res = validate_table(name, files[name], config, mapping, persons, municipalities)
        results[name] = res
        if name == "persons" and res.accepted is not None:
            persons = pd.Index(res.accepted["person_id"])
        if name == "municipalities" and res.accepted is not None:
            municipalities = pd.Index(res.accepted["municipality_id"])
        log.debug(
            "%s: read %d, accepted %d, quarantined %d%s",
            name,
            res.n_read,
            res.n_accepted,
            res.n_quarantined,
            f" — UNUSABLE: {res.fatal}" if res.fatal else "",
        )
    if progress:
        progress("done", len(names), len(names))
    return ExtractResult(Path(raw_dir), results, tuple(problems))


def ingest(
    raw_dir: Path,
    work_dir: Path,
    config: StarConfig,
    mapping: StateMapping | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ExtractResult:
    """Validate the extract and write ``work_dir/validated/*.parquet`` and ``work_dir/quarantine/``.

    Nothing is written for an unusable table; the caller decides to stop (the CLI exits non-zero
    when ``result.ok`` is false).
    """
    result = validate_extract(raw_dir, config, mapping, progress)
    validated = Path(work_dir) / "validated"
    quarantine = Path(work_dir) / "quarantine"
    validated.mkdir(parents=True, exist_ok=True)
    quarantine.mkdir(parents=True, exist_ok=True)
    for name, res in result.tables.items():
        if res.fatal is not None or res.accepted is None:
            continue
        write_parquet(res.accepted, validated / f"{name}.parquet")
        qfile = quarantine / f"{name}.csv"
        if res.n_quarantined:
            res.quarantined.to_csv(qfile, index=False)
        elif qfile.exists():
            qfile.unlink()
    result.violations().to_csv(quarantine / "violations.csv", index=False)
    report = {
        "raw_dir": str(raw_dir),
        "ok": result.ok,
        "problems": list(result.problems),
        "tables": {n: r.summary_dict() for n, r in result.tables.items()},
    }
    (Path(work_dir) / "ingest_report.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    return result


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` to Parquet atomically and deterministically (no pandas index, fixed row groups)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    table = pa_arrow.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20)
    tmp.replace(path)
    return path


def read_validated(work_dir: Path, tables: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read validated tables back (all that exist, or the ones named)."""
    validated = Path(work_dir) / "validated"
    names = tables or [p.stem for p in sorted(validated.glob("*.parquet"))]
    return {n: pd.read_parquet(validated / f"{n}.parquet") for n in names}


def window_tuple(config: StarConfig) -> tuple[date, date]:
    return config.extract_window.start, config.extract_window.end

"""DST-style register extract -> the project's register tables (``data_schema.tables``).

The extract configuration (``extract.yaml``, written by ``star init-extract``) lists each file
with its layout (:mod:`pipelines.dst.layouts`). Every file becomes a DuckDB view with the
project's column names, types and translated codes; the views are then combined by role into
the project's tables, written as Parquet to ``<out>/tables/`` for ``star ingest`` (which applies
every rule of the data dictionary). Codes missing from a code list or from the state mapping are
counted per file, column and code, with their share of person-weeks (:data:`UNKNOWN_COLUMNS`);
``unknown_codes`` decides what happens to them:

``stop`` (default)
    nothing is written; :class:`UnknownCodesError` carries the table of unknown codes;
``quarantine``
    rows keep their raw code, so ingest quarantines them with the rule they break;
``other``
    unknown benefit codes become ``OTHER`` (mapped to ``other_benefit`` in the mapping copy);
    other unknown codes are quarantined as above.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from data_schema.mapping import StateMapping
from pipelines.dst import dream, sources
from pipelines.dst.layouts import CodeList, ColumnSpec, Layout, LayoutError, codelist, layouts

OTHER_CODE = "OTHER"
UNKNOWN_COLUMNS = ["file", "layout", "column", "code", "rows", "person_weeks", "share_person_weeks"]
AUX_ROLES = ("labour_market_status",)


class UnknownCodesError(ValueError):
    """Codes not in the code lists or the state mapping, with ``unknown_codes: stop``."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        lines = [
            f"  {r.file} {r.column}={r.code}: {r.rows} rows, {r.person_weeks} person-weeks "
            f"({r.share_person_weeks:.2%})"
            for r in table.head(30).itertuples()
        ]
        super().__init__(
            f"{len(table)} unknown code(s) (extract.yaml unknown_codes: stop); add them to the "
            "code lists / state mapping, or set unknown_codes to quarantine or other:\n"
            + "\n".join(lines)
        )


class FileEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    file: str
    layout: str


class ExtractConfig(BaseModel):
    """``extract.yaml``: which file has which layout, and what to do with unknown codes."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = 1
    unknown_codes: Literal["stop", "quarantine", "other"] = "stop"
    benefits: Literal["auto", "cases", "dream"] = "auto"
    """Source of benefit_spells: case registers (KY, benefit periods) or DREAM; ``auto`` prefers
    cases (day precision) and only checks DREAM's codes."""
    dream_output: Literal["records", "weekly"] = "records"
    """DREAM as runs of one code (benefit_spells; compact) or as the long weekly panel."""
    files: list[FileEntry] = Field(default_factory=list)


def load_extract_config(path: Path) -> ExtractConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return ExtractConfig.model_validate(raw)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: extract configuration not found") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: invalid extract configuration: {exc}") from exc


@dataclass
class AdaptResult:
    """What :func:`adapt_extract` did: tables written (rows), unknown codes, notes."""

    out_dir: Path
    tables: dict[str, int] = field(default_factory=dict)
    unknown: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNKNOWN_COLUMNS))
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# one source column -> SQL expression


def _code_text(col: str, duck_type: str) -> str:
    """A code as trimmed text; numeric codes without a trailing .0."""
    q = f'"{col}"'
    if duck_type in ("DOUBLE", "FLOAT") or duck_type.startswith("DECIMAL"):
        return f"CASE WHEN {q} = round({q}) THEN CAST(CAST({q} AS BIGINT) AS VARCHAR) ELSE CAST({q} AS VARCHAR) END"
    return f"NULLIF(trim(CAST({q} AS VARCHAR)), '')"


def _typed(spec: ColumnSpec, duck_type: str) -> str:
    q = f'"{spec.source}"'
    if spec.type == "date":
        if duck_type in ("DATE",) or duck_type.startswith("TIMESTAMP"):
            return f"CAST({q} AS DATE)"
        if duck_type in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER") and spec.date_format != "%Y%m":
            return f"DATE '1960-01-01' + CAST({q} AS INTEGER)"  # SAS days without a format
        fmts = [f for f in (spec.date_format, "%Y-%m-%d") if f]
        fl = "[" + ", ".join(f"'{f}'" for f in fmts) + "]"
        return f"CAST(try_strptime({_code_text(spec.source, duck_type)}, {fl}) AS DATE)"
    if spec.type == "int":
        return f"TRY_CAST(round(TRY_CAST({q} AS DOUBLE)) AS BIGINT)"
    if spec.type == "float":
        return f"TRY_CAST(replace(CAST({q} AS VARCHAR), ',', '.') AS DOUBLE)"
    if spec.type == "bool":
        t = f"lower({_code_text(spec.source, duck_type)})"
        return (
            f"CASE WHEN {t} IN ('1', 'true', 't', 'j', 'ja', 'y', 'yes') THEN true "
            f"WHEN {t} IN ('0', 'false', 'f', 'n', 'nej', 'no') THEN false END"
        )
    return _code_text(spec.source, duck_type)


def _lookup_sql(cl: CodeList, code_sql: str, attr: str) -> str | None:
    """SQL CASE giving attribute ``attr`` of each code (NULL when unknown)."""
    arms = [f"WHEN {code_sql} = '{c}' THEN '{a[attr]}'" for c, a in cl.codes.items() if attr in a]
    num = f"TRY_CAST({code_sql} AS DOUBLE)"
    arms += [
        f"WHEN {num} BETWEEN {lo} AND {hi} THEN '{a[attr]}'" for lo, hi, a in cl.ranges if attr in a
    ]
    return f"CASE {' '.join(arms)} END" if arms else None


def _attrs(cl: CodeList) -> list[str]:
    keys = {k for a in [*cl.codes.values(), *(r[2] for r in cl.ranges)] for k in a}
    return sorted(keys - {"label", "valid_from", "valid_to", "documented"})


# --------------------------------------------------------------------------------------------
# one file -> a standardised view + its unknown codes


@dataclass
class Source:
    entry: FileEntry
    layout: Layout
    view: str
    rows: int = 0


def _standardise(con, src: Source, mapping: StateMapping, policy: str) -> list[dict]:
    """Create ``<view>_std`` with the layout's target columns; return unknown-code records."""
    types = dict(
        con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {src.view})").fetchall()
    )
    sel, unknown = [], []
    weeks_sql = _person_weeks_sql(src.layout)
    for spec in src.layout.columns:
        if spec.source not in types:
            if not spec.optional:
                raise ValueError(
                    f"{src.entry.file}: variable {spec.source} (layout {src.layout.name}, "
                    f"column {spec.target}) not found; found {sorted(types)}"
                )
            sel.append(f"NULL AS {spec.target}")
            continue
        typed = _typed(spec, types[spec.source])
        if spec.codelist is None:
            sel.append(f"{typed} AS {spec.target}")
            continue
        code = _code_text(spec.source, types[spec.source])
        if spec.keep_code and spec.target == "benefit_code":
            known = "(" + ", ".join(f"'{c}'" for c in mapping.codes) + ")"
            bad = f"{code} IS NOT NULL AND {code} NOT IN {known}"
            value = (
                f"CASE WHEN {bad} THEN '{OTHER_CODE}' ELSE {code} END"
                if policy == "other"
                else code
            )
        else:
            cl = codelist(spec.codelist)
            attrs = _attrs(cl)
            main = "value" if "value" in attrs else (attrs[0] if attrs else None)
            look = _lookup_sql(cl, code, main) if main else None
            if spec.keep_code or look is None:
                known_codes = (
                    "(" + ", ".join(f"'{c}'" for c in cl.codes) + ")" if cl.codes else "('')"
                )
                bad = (
                    f"{code} IS NOT NULL AND {code} NOT IN {known_codes}"
                    if not cl.ranges
                    else f"{code} IS NOT NULL AND ({look}) IS NULL"
                )
                value = code if spec.keep_code else typed
            else:
                bad = f"{code} IS NOT NULL AND ({look}) IS NULL"
                raw = "CAST(" + code + " AS VARCHAR)"
                value = f"coalesce({look}, {raw})"
                if spec.type == "int":
                    value = f"TRY_CAST({value} AS BIGINT)"
            for attr in attrs:
                if attr != main and (extra := _lookup_sql(cl, code, attr)):
                    sel.append(f"{extra} AS {spec.target}__{attr}")
        sel.append(f"{value} AS {spec.target}")
        rows = con.execute(
            f"SELECT {code} AS code, count(*) AS n, sum({weeks_sql}) AS pw FROM {src.view} "
            f"WHERE {bad} GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        unknown += [
            {"file": src.entry.file, "layout": src.layout.name, "column": spec.source,
             "code": c, "rows": int(n), "person_weeks": float(pw or 0)}
            for c, n, pw in rows
        ]  # fmt: skip
    con.execute(f"CREATE OR REPLACE VIEW {src.view}_std AS SELECT {', '.join(sel)} FROM {src.view}")
    src.rows = int(con.execute(f"SELECT count(*) FROM {src.view}").fetchone()[0])
    return unknown


def types_of(con, view: str) -> dict[str, str]:
    """{column: DuckDB type} of a view."""
    return dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {view})").fetchall())


DATE_TARGETS = ("start_date", "conversation_date", "birth_date", "month")


def _validity_notes(con, src: Source, types: dict[str, str]) -> list[str]:
    """Rows whose code is used outside the code's validity period (by the row's first date).

    A warning, not a rule: code lists are checked against a date the row carries; rows are kept.
    """
    date_spec = next((src.layout.column(t) for t in DATE_TARGETS if src.layout.column(t)), None)
    if date_spec is None or date_spec.source not in types:
        return []
    day = _typed(date_spec, types[date_spec.source])
    notes = []
    for spec in src.layout.columns:
        if spec.codelist is None or spec.source not in types:
            continue
        code = _code_text(spec.source, types[spec.source])
        conds, limits = [], {}
        for c, a in codelist(spec.codelist).codes.items():
            lo, hi = a.get("valid_from"), a.get("valid_to")
            if lo is None and hi is None:
                continue
            out = [f"{day} < DATE '{lo}'"] * (lo is not None) + [f"{day} > DATE '{hi}'"] * (
                hi is not None
            )
            conds.append(f"({code} = '{c}' AND ({' OR '.join(out)}))")
            limits[c] = (lo, hi)
        if not conds:
            continue
        rows = con.execute(
            f"SELECT {code}, count(*) FROM {src.view} WHERE {' OR '.join(conds)} GROUP BY 1 ORDER BY 1"
        ).fetchall()
        for c, n in rows:
            lo, hi = limits[c]
            notes.append(
                f"{src.entry.file}: {spec.source}={c} in {n} row(s) dated outside its validity "
                f"{lo or '...'}..{hi or '...'} (code list {spec.codelist}); rows kept"
            )
    return notes


def _person_weeks_sql(layout: Layout) -> str:
    """Person-weeks a row stands for: a period's days / 7 (open end: 1 week), else 1."""
    start, end = layout.column("start_date"), layout.column("end_date")
    if start is None:
        return "1"
    s = f'TRY_CAST("{start.source}" AS DATE)' if start.type == "date" else "NULL"
    e = f'TRY_CAST("{end.source}" AS DATE)' if end is not None else "NULL"
    return f"coalesce(greatest(date_diff('day', {s}, {e}) + 1, 1) / 7.0, 1)"


# --------------------------------------------------------------------------------------------
# the whole extract


def adapt_extract(
    raw_dir: Path,
    extract: ExtractConfig,
    out_dir: Path,
    mapping: StateMapping,
    window: tuple[date, date],
    *,
    threads: int = 2,
    memory_limit: str = "4GB",
) -> AdaptResult:
    """Convert the files of ``extract`` in ``raw_dir`` to the project's tables in ``out_dir/tables``.

    Raises :class:`UnknownCodesError` (``unknown_codes: stop``) before writing anything.
    """
    out_dir = Path(out_dir)
    tables_dir, cache = out_dir / "tables", out_dir / "cache"
    tables_dir.mkdir(parents=True, exist_ok=True)
    result = AdaptResult(out_dir)
    known = layouts()
    con = duckdb.connect()
    con.execute(f"SET threads={threads}; SET memory_limit='{memory_limit}'")
    try:
        srcs: list[Source] = []
        unknown: list[dict] = []
        dream_srcs = []
        for i, entry in enumerate(extract.files):
            if entry.layout not in known:
                raise LayoutError(f"extract: {entry.file}: unknown layout {entry.layout!r}")
            lay = known[entry.layout]
            path = Path(raw_dir) / entry.file
            if not path.exists():
                raise FileNotFoundError(f"{path}: listed in the extract configuration, not found")
            if lay.role == "dream_wide":
                dream_srcs.append((entry, lay, path))
                continue
            src = Source(entry, lay, sources.register_view(con, f"src{i}", path, cache))
            unknown += _standardise(con, src, mapping, extract.unknown_codes)
            result.notes += _validity_notes(con, src, types_of(con, src.view))
            srcs.append(src)
        by_role: dict[str, list[Source]] = {}
        for s in srcs:
            by_role.setdefault(s.layout.role, []).append(s)
        use_dream = bool(dream_srcs) and (
            extract.benefits == "dream"
            or (extract.benefits == "auto" and "benefit_cases" not in by_role)
        )
        dream_tallies = [
            _dream(entry, lay, path, cache, mapping, extract, use_dream)
            for entry, lay, path in dream_srcs
        ]
        for entry, lay, tally in dream_tallies:
            unknown += _dream_unknown(entry, lay, tally, mapping)
        result.unknown = _unknown_frame(unknown, srcs, dream_tallies, con)
        if len(result.unknown) and extract.unknown_codes == "stop":
            raise UnknownCodesError(result.unknown)
        _assemble(con, by_role, tables_dir, result, window)
        if use_dream:
            _dream_tables(con, dream_tallies, by_role, tables_dir, result, extract, window, mapping)
        elif dream_srcs:
            result.notes.append("DREAM: codes checked only; benefits come from the case registers")
    finally:
        con.close()
    (out_dir / "adapt_report.json").write_text(
        json.dumps(
            {"tables": result.tables, "notes": result.notes,
             "unknown_codes": result.unknown.to_dict(orient="records")},
            indent=2, default=str,
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return result


def _unknown_frame(unknown, srcs, dream_tallies, con) -> pd.DataFrame:
    """Unknown codes with the share of the person-weeks of their file."""
    if not unknown:
        return pd.DataFrame(columns=UNKNOWN_COLUMNS)
    totals: dict[str, float] = {}
    for s in srcs:
        totals[s.entry.file] = float(
            con.execute(f"SELECT sum({_person_weeks_sql(s.layout)}) FROM {s.view}").fetchone()[0]
            or 0
        )
    for entry, _, (tally, _) in dream_tallies:
        totals[entry.file] = float(sum(tally.counts().values()))
    df = pd.DataFrame(unknown)
    df["share_person_weeks"] = df["person_weeks"] / df["file"].map(totals).replace(0, float("nan"))
    df["person_weeks"] = df["person_weeks"].round(1)
    return (
        df[UNKNOWN_COLUMNS]
        .sort_values(["file", "column", "rows"], ascending=[True, True, False])
        .reset_index(drop=True)
    )


def _copy(con, sql: str, path: Path) -> int:
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    return int(con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0])


def _union(role_srcs: list[Source], cols: str) -> str:
    return " UNION ALL ".join(f"SELECT {cols} FROM {s.view}_std" for s in role_srcs)


TS = "CAST({} AS TIMESTAMP)"
SIMPLE = {
    "monthly_paid_hours": "person_id, {month} AS month, paid_hours, earnings_dkk",
    "caseworker_assignments": "person_id, caseworker_id, municipality_id, {start_date} AS start_date, {end_date} AS end_date",
    "conversations": "person_id, {conversation_date} AS conversation_date, conversation_type, municipality_id, caseworker_id",
    "activation_offers": "person_id, offer_id, offer_type, {start_date} AS start_date, {end_date} AS end_date, outcome",
    "exemptions": "person_id, {start_date} AS start_date, {end_date} AS end_date, reason",
}
ROLE_OF = {"monthly_paid_hours": "monthly_hours"}


def _fmt(cols: str) -> str:
    names = ("month", "start_date", "end_date", "conversation_date")
    return cols.format(**{n: TS.format(n) for n in names})


def _assemble(con, by_role, tables_dir: Path, result: AdaptResult, window) -> None:
    """Write persons, municipalities, benefit_spells and the jobcentre tables."""
    if "persons_base" in by_role:
        result.tables["persons"] = _copy(
            con, _persons_sql(con, by_role, result), tables_dir / "persons.parquet"
        )
    kom = codelist("kom")
    rows = [(int(a["value"]), a["label"], a["region"]) for a in kom.codes.values()]
    con.execute(
        "CREATE OR REPLACE TABLE _kom (municipality_id BIGINT, name VARCHAR, region VARCHAR)"
    )
    con.executemany("INSERT INTO _kom VALUES (?, ?, ?)", rows)
    result.tables["municipalities"] = _copy(
        con, "SELECT * FROM _kom ORDER BY municipality_id", tables_dir / "municipalities.parquet"
    )
    result.notes.append("municipalities: from code list kom (data_schema/codelists/kom.yaml)")
    if "benefit_cases" in by_role:
        parts = []
        for s in by_role["benefit_cases"]:
            parts.append(
                f"SELECT person_id, coalesce(case_id, '{s.layout.name}' || CAST(row_number() OVER () AS VARCHAR)) AS case_id, "
                f"benefit_code, CAST(start_date AS TIMESTAMP) AS start_date, CAST(end_date AS TIMESTAMP) AS end_date, "
                f"municipality_id, match_group FROM {s.view}_std"
            )
        sql = " UNION ALL ".join(parts) + " ORDER BY person_id, start_date, case_id"
        result.tables["benefit_spells"] = _copy(con, sql, tables_dir / "benefit_spells.parquet")
    for table, cols in SIMPLE.items():
        role = ROLE_OF.get(table, table)
        if role in by_role:
            result.tables[table] = _copy(
                con, _union(by_role[role], _fmt(cols)), tables_dir / f"{table}.parquet"
            )
    for role in AUX_ROLES:
        if role in by_role:
            aux = tables_dir.parent / "auxiliary"
            aux.mkdir(exist_ok=True)
            n = _copy(
                con,
                _union(by_role[role], "person_id, period, status_code"),
                aux / f"{role}.parquet",
            )
            result.notes.append(f"auxiliary/{role}.parquet: {n} rows (not used by the analyses)")


def _persons_sql(con, by_role, result: AdaptResult) -> str:
    base = by_role["persons_base"][0]
    if len(by_role["persons_base"]) > 1:
        raise ValueError("persons: more than one population-register file; keep one")
    edu = by_role.get("education", [None])[0]
    flags = by_role.get("person_flags", [None])[0]
    cols = {r[0] for r in con.execute(f"DESCRIBE {base.view}_std").fetchall()}
    menapt = (
        "coalesce(b.opr_land__menapt = 'True', false)" if "opr_land__menapt" in cols else "false"
    )
    origin = (
        "CASE WHEN b.ie_type = 'danish' THEN 'danish' "
        "WHEN b.ie_type IN ('immigrant', 'descendant') AND b.opr_land IN ('western', 'non_western') THEN b.opr_land "
        "ELSE coalesce(b.ie_type, '') || '/' || coalesce(b.opr_land, '') END"
    )
    if edu is None:
        result.notes.append(
            "persons.education: no education register in the extract; all 'unknown'"
        )
    if flags is None:
        result.notes.append(
            "persons: no person_flags table; psychiatric_diagnosis, substance_abuse_treatment, "
            "has_children set to false"
        )
    e_join = f"LEFT JOIN {edu.view}_std e USING (person_id)" if edu else ""
    f_join = f"LEFT JOIN {flags.view}_std f USING (person_id)" if flags else ""
    fl = (lambda c: f"coalesce(f.{c}, false)") if flags else (lambda c: "false")
    placed = "coalesce(f.children_placed, false)" if flags else "false"
    return f"""
        SELECT person_id, CAST(year(b.birth_date) AS BIGINT) AS birth_year, b.sex,
               {origin} AS origin, ({menapt} AND ({origin}) = 'non_western') AS menapt,
               {"coalesce(e.education, 'unknown')" if edu else "'unknown'"} AS education,
               {fl("psychiatric_diagnosis")} AS psychiatric_diagnosis,
               {fl("substance_abuse_treatment")} AS substance_abuse_treatment,
               {fl("has_children")} AS has_children,
               CASE WHEN {fl("has_children")} THEN {placed} END AS children_placed,
               b.municipality_id
        FROM {base.view}_std b {e_join} {f_join}
        ORDER BY person_id"""


# --------------------------------------------------------------------------------------------
# DREAM


def _dream(entry, lay: Layout, path: Path, cache: Path, mapping, extract, convert: bool):
    """Tally DREAM's codes (and, when it is the benefit source, write its long or run layout)."""
    pq_path = sources.as_parquet(path, cache)
    import pyarrow.parquet as pq

    names = pq.read_schema(pq_path).names
    wc = lay.week_columns or {}
    weeks, invalid = dream.week_columns(
        names,
        wc.get("pattern", dream.DEFAULT_PATTERN),
        int(wc.get("year_pivot", 90)),
        wc.get("numbering", "iso"),
    )
    if invalid:
        raise ValueError(f"{path}: week columns that are not a valid week: {invalid[:10]}")
    pcol = next((n for n in names if n.upper() == lay.column("person_id").source), None)
    if pcol is None:
        raise ValueError(f"{path}: person variable {lay.column('person_id').source} not found")
    tally = dream.CodeTally()
    out = cache / f"{Path(entry.file).stem}.{extract.dream_output if convert else 'tally'}.parquet"
    if convert and extract.dream_output == "weekly":
        dream.write_blocks(dream.long_blocks(pq_path, pcol, weeks, tally), out)
    elif convert:
        dream.write_blocks(dream.record_blocks(pq_path, pcol, weeks, tally), out)
    else:
        for batch in dream.iter_blocks(pq_path, pcol, weeks):
            dream._code_matrix(batch, weeks, tally)
    return entry, lay, (tally, out if convert else None)


def _dream_unknown(entry, lay, tally_out, mapping: StateMapping) -> list[dict]:
    tally, _ = tally_out
    return [
        {"file": entry.file, "layout": lay.name, "column": "y_YYWW", "code": code,
         "rows": n, "person_weeks": float(n)}
        for code, n in tally.counts().items() if code not in mapping.codes and n
    ]  # fmt: skip


def _dream_tables(
    con, dream_tallies, by_role, tables_dir, result, extract, window, mapping
) -> None:
    """DREAM as the benefit source: weekly panel, or runs as benefit_spells (municipality from
    the population register; a run reaching the extract end is open)."""
    if len(dream_tallies) > 1:
        raise ValueError("DREAM: more than one DREAM file; keep one")
    entry, _, (tally, path) = dream_tallies[0]
    code = (
        _other_sql("benefit_code", mapping.codes)
        if extract.unknown_codes == "other"
        else "benefit_code"
    )
    p = str(path)
    if extract.dream_output == "weekly":
        sql = f"SELECT person_id, week_start, {code} AS benefit_code FROM read_parquet('{p}')"
        result.tables["weekly_benefit_codes"] = _copy(
            con, sql, tables_dir / "weekly_benefit_codes.parquet"
        )
        return
    if "persons_base" not in by_role:
        raise ValueError("DREAM as benefit_spells needs the population register (municipality)")
    base = by_role["persons_base"][0]
    end = f"DATE '{window[1].isoformat()}'"
    sql = f"""
        SELECT r.person_id, 'D' || lpad(CAST(row_number() OVER (ORDER BY r.person_id, r.start_date) AS VARCHAR), 10, '0') AS case_id,
               {code.replace("benefit_code", "r.benefit_code")} AS benefit_code,
               r.start_date, CASE WHEN CAST(r.end_date AS DATE) >= {end} THEN NULL ELSE r.end_date END AS end_date,
               b.municipality_id, CAST(NULL AS VARCHAR) AS match_group
        FROM read_parquet('{p}') r LEFT JOIN {base.view}_std b USING (person_id)
        ORDER BY r.person_id, r.start_date"""
    result.tables["benefit_spells"] = _copy(con, sql, tables_dir / "benefit_spells.parquet")
    result.notes.append(
        "benefit_spells: DREAM runs (municipality = residence in the population register)"
    )


def _other_sql(col: str, codes) -> str:
    """``col`` when it is a mapped code, else ``OTHER``."""
    known = "(" + ", ".join(f"'{c}'" for c in codes) + ")"
    return f"CASE WHEN {col} IN {known} THEN {col} ELSE '{OTHER_CODE}' END"

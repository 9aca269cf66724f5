"""Cohorts: stocks on a date or in a quarter, inflow cohorts, the yearly cohorts of the annual report.

Definitions (each member is listed once per cohort, with the spell that puts them in it):

Stock on a date ``r`` (label ``stock-YYYY-MM-DD``)
    Everyone in a KH spell on ``r`` (``spell_start <= r <= spell_end``, open spells included).
    Being in a spell includes days in a bridged administrative gap (databrud). Reference date =
    ``r``; seniority = ``r - spell_start`` in days.
Stock in a period / quarter (label e.g. ``2018Q1``)
    Everyone with at least one KH day in the quarter, i.e. a spell overlapping it (under the
    default gap rule a bridged gap is shorter than a quarter, so a spell overlapping the quarter
    always has a benefit day in it). When a person has several such spells, the first. Reference
    date = the member's first day in a spell inside the quarter = ``max(quarter start,
    spell_start)``; seniority at entry = reference date - spell_start (so members whose spell
    started before the quarter enter with seniority already accrued: delayed entry).
Inflow in a period (label ``inflow-YYYY`` for a calendar year)
    Everyone whose spell starts in the period (first such spell); reference date = spell_start,
    seniority 0.
Yearly cohorts (``cohorts.annual_years``)
    For each year: the stock on the configured reference date's month and day in that year (e.g.
    30 November) and the inflow cohort of the calendar year.

Enrichment adds the person characteristics (``persons``), age at the reference date (reference
year minus birth year; the register has birth years only), the match group, KH benefit group and
municipality of the latest KH case started on or before the reference date within the spell (for
the weekly shape a case is a run of weeks with one code, and there is no match group or
municipality: the municipality then comes from the case-worker assignment running on the
reference date, else ``persons.municipality_id``), and the share of the
two years before the reference date spent in KH spells with the low/high attachment split.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from data_schema.mapping import StateMapping
from pipelines.config.model import StarConfig
from pipelines.derive._common import (
    BENEFIT_COLUMNS,
    Shape,
    Window,
    engine_for,
    kh_codes_sql,
    mapping_view,
    quarter_bounds,
    resolve,
    seniority_group_sql,
)
from pipelines.derive._engine import Engine, Source, lit_date, lit_str
from pipelines.derive.spells import kh_share_sql
from pipelines.derive.weekly import as_records

COHORT_CORE = (
    "person_id, cohort, reference_date, period_start, period_end, spell_id, spell_start, "
    "seniority_days, seniority_group, prior_contact_3y, left_truncated"
)

PERSON_COLUMNS = (
    "sex",
    "origin",
    "menapt",
    "education",
    "psychiatric_diagnosis",
    "substance_abuse_treatment",
    "has_children",
    "children_placed",
    "birth_year",
)


def _cohort_select(spells: str, ref_expr: str, where: str, label: str, lo: str, hi: str) -> str:
    """First qualifying spell per person, with reference date ``ref_expr`` (SQL on the spell)."""
    return f"""
    SELECT person_id, {lit_str(label)} AS cohort, reference_date, {lo} AS period_start,
           {hi} AS period_end, spell_id, spell_start,
           date_diff('day', spell_start, reference_date) AS seniority_days,
           {seniority_group_sql("spell_start", "reference_date")} AS seniority_group,
           prior_contact_3y, left_truncated
    FROM (
        SELECT person_id, spell_id, spell_start::DATE AS spell_start, {ref_expr} AS reference_date,
               prior_contact_3y, left_truncated,
               row_number() OVER (PARTITION BY person_id ORDER BY spell_start) AS k
        FROM {spells} WHERE {where}
    ) WHERE k = 1"""


def stock_on_date_sql(spells: str, reference_date: date | str, label: str | None = None) -> str:
    r = lit_date(reference_date)
    label = label or f"stock-{pd.Timestamp(reference_date).date().isoformat()}"
    where = f"spell_start::DATE <= {r} AND (spell_end IS NULL OR spell_end::DATE >= {r})"
    return _cohort_select(spells, r, where, label, r, r)


def stock_in_period_sql(spells: str, start: date | str, end: date | str, label: str) -> str:
    lo, hi = lit_date(start), lit_date(end)
    where = f"spell_start::DATE <= {hi} AND (spell_end IS NULL OR spell_end::DATE >= {lo})"
    return _cohort_select(spells, f"greatest(spell_start::DATE, {lo})", where, label, lo, hi)


def inflow_sql(spells: str, start: date | str, end: date | str, label: str) -> str:
    lo, hi = lit_date(start), lit_date(end)
    where = f"spell_start::DATE BETWEEN {lo} AND {hi} AND NOT left_truncated"
    return _cohort_select(spells, "spell_start::DATE", where, label, lo, hi)


def standard_cohort_sqls(
    spells: str, config: StarConfig, trend_years: tuple[int, ...] = ()
) -> dict[str, str]:
    """The cohorts a run builds: the quarter stock (hovedveje), the stock on the reference date and
    the yearly stock and inflow cohorts, and for each of ``trend_years`` its hovedveje quarter
    (Q1 three years before) and its 30 November stock. Keys are the cohort labels."""
    q = config.cohorts.stock_quarter
    qlo, qhi = quarter_bounds(q)
    out = {q: stock_in_period_sql(spells, qlo, qhi, q)}
    for year in trend_years:
        tq = f"{year - 3}Q1"
        tlo, thi = quarter_bounds(tq)
        out.setdefault(tq, stock_in_period_sql(spells, tlo, thi, tq))
        lab = f"stock-{year}-11-30"
        out.setdefault(lab, stock_on_date_sql(spells, date(year, 11, 30), lab))
    ref = pd.Timestamp(config.cohorts.reference_date)
    label = f"stock-{ref.date().isoformat()}"
    out[label] = stock_on_date_sql(spells, ref.date(), label)
    for year in config.cohorts.annual_years:
        try:
            r = ref.replace(year=year)
        except ValueError:  # 29 February in a non-leap year
            r = ref.replace(year=year, day=28)
        lab = f"stock-{r.date().isoformat()}"
        out.setdefault(lab, stock_on_date_sql(spells, r.date(), lab))
        out[f"inflow-{year}"] = inflow_sql(
            spells, date(year, 1, 1), date(year, 12, 31), f"inflow-{year}"
        )
    window_end = pd.Timestamp(config.extract_window.end)
    return {
        k: v
        for k, v in out.items()
        if not k.startswith("stock-") or pd.Timestamp(k.removeprefix("stock-")) <= window_end
    }


def enrich_sql(
    eng: Engine,
    cohort: str,
    spells: str,
    *,
    persons: str | None,
    benefits: str | None,
    caseworker_assignments: str | None,
    mapping: StateMapping,
    config: StarConfig,
) -> str:
    """SQL adding characteristics, age, match group, KH group, municipality and attachment.

    ``benefits`` is records-shaped (a weekly panel after
    :func:`pipelines.derive.weekly.as_records`, where a case is a run of weeks with one code)."""
    mv = mapping_view(eng, mapping)
    kh = kh_codes_sql(mapping)
    thr = float(config.states.attachment_share_threshold)
    joins, cols = [], []
    if persons is not None:
        pcols = {c.lower() for c in eng.columns(persons)}
        have = [c for c in PERSON_COLUMNS if c in pcols]
        cols += [f"p.{c}" for c in have]
        if "birth_year" in have:
            cols.append("(year(c.reference_date) - p.birth_year)::BIGINT AS age")
        joins.append(f"LEFT JOIN {persons} p ON p.person_id::VARCHAR = c.person_id")
    # the latest KH case started on or before the reference date (it belongs to the current spell)
    if benefits is not None:
        bcols = {c.lower() for c in eng.columns(benefits)}
        mg = "match_group::VARCHAR" if "match_group" in bcols else "NULL::VARCHAR"
        mu = "municipality_id::BIGINT" if "municipality_id" in bcols else "NULL::BIGINT"
        cur = f"""SELECT person_id::VARCHAR AS person_id, start_date::DATE AS s,
                         benefit_code::VARCHAR AS code, {mg} AS match_group,
                         {mu} AS municipality_id
                  FROM {benefits} WHERE benefit_code::VARCHAR IN {kh}"""
    else:
        cur = None
    sql_cur = None
    if cur is not None:
        sql_cur = eng.table(
            f"""SELECT c.person_id, k.code, k.match_group, k.municipality_id, m.kh_group
                FROM {cohort} c ASOF JOIN ({cur}) k
                  ON c.person_id = k.person_id AND c.reference_date >= k.s
                LEFT JOIN {mv} m ON m.code = k.code"""
        )
        joins.append(f"LEFT JOIN {sql_cur} cur ON cur.person_id = c.person_id")
        cols += ["cur.match_group", "cur.kh_group"]
    muni = ["cur.municipality_id"] if sql_cur else []
    if caseworker_assignments is not None:
        cw = eng.table(
            f"""SELECT c.person_id, a.municipality_id::BIGINT AS municipality_id
                FROM {cohort} c ASOF JOIN (SELECT person_id::VARCHAR AS person_id,
                      start_date::DATE AS s, end_date::DATE AS e, municipality_id
                      FROM {caseworker_assignments}) a
                  ON c.person_id = a.person_id AND c.reference_date >= a.s
                WHERE a.e IS NULL OR a.e >= c.reference_date"""
        )
        joins.append(f"LEFT JOIN {cw} cw ON cw.person_id = c.person_id")
        muni.append("cw.municipality_id")
    if persons is not None and "municipality_id" in {c.lower() for c in eng.columns(persons)}:
        muni.append("p.municipality_id::BIGINT")
    cols.append(
        f"coalesce({', '.join(muni)}, NULL)::BIGINT AS municipality_id"
        if muni
        else "NULL::BIGINT AS municipality_id"
    )
    share = eng.table(kh_share_sql(spells, cohort, 2))
    joins.append(f"LEFT JOIN {share} sh ON sh.person_id = c.person_id")
    cols += [
        "sh.kh_share AS kh_share_2y",
        f"CASE WHEN sh.kh_share >= {thr} THEN 'high' ELSE 'low' END AS attachment",
    ]
    return f"SELECT c.*, {', '.join(cols)} FROM {cohort} c {' '.join(joins)}"


COHORT_OUT = (
    "* REPLACE (reference_date::TIMESTAMP AS reference_date, period_start::TIMESTAMP AS period_start,"
    " period_end::TIMESTAMP AS period_end, spell_start::TIMESTAMP AS spell_start)"
)


def cohorts_table(
    eng: Engine,
    spells: str,
    config: StarConfig,
    mapping: StateMapping,
    *,
    persons: str | None,
    benefits: str | None,
    caseworker_assignments: str | None,
    which: dict[str, str] | None = None,
    trend_years: tuple[int, ...] = (),
) -> str:
    """All standard cohorts (or ``which``: label -> SQL), enriched, in one table."""
    sqls = which or standard_cohort_sqls(spells, config, tuple(trend_years))
    parts = []
    for sql in sqls.values():
        core = eng.table(f"SELECT {COHORT_CORE} FROM ({sql})")
        parts.append(
            eng.table(
                enrich_sql(
                    eng,
                    core,
                    spells,
                    persons=persons,
                    benefits=benefits,
                    caseworker_assignments=caseworker_assignments,
                    mapping=mapping,
                    config=config,
                )
            )
        )
    return eng.table(" UNION ALL BY NAME ".join(f"SELECT * FROM {p}" for p in parts))


def build_cohorts(
    spells: Source,
    *,
    persons: Source | None = None,
    benefits: Source | None = None,
    shape: Shape = "records",
    caseworker_assignments: Source | None = None,
    stock_dates: list[date | str] | None = None,
    quarters: list[str] | None = None,
    inflow_years: list[int] | None = None,
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    engine: Engine | None = None,
    out=None,
) -> pd.DataFrame:
    """Cohorts per ``data_schema.derived.Cohort`` plus characteristics (see module docstring).

    Without ``stock_dates``/``quarters``/``inflow_years`` the standard set of the configuration is
    built (quarter stock, stock on the reference date, yearly stocks and inflows); with any of them,
    exactly the cohorts asked for. One row per person and cohort.
    """
    config, mapping = resolve(config, mapping)
    eng, own = engine_for(engine, config)
    try:
        sp = eng.view(spells, ["person_id", "spell_id", "spell_start", "spell_end"])
        scols = {c.lower() for c in eng.columns(sp)}
        extra = []
        if "left_truncated" not in scols:
            extra.append("false AS left_truncated")
        if "prior_contact_3y" not in scols:
            extra.append(
                "coalesce(lag(spell_end::DATE) OVER (PARTITION BY person_id ORDER BY spell_start)"
                " >= spell_start::DATE - INTERVAL 3 YEAR, false) AS prior_contact_3y"
            )
        if extra:
            sp = eng.table(f"SELECT *, {', '.join(extra)} FROM {sp}")
        which = None
        if stock_dates or quarters or inflow_years:
            which = {}
            for d in stock_dates or []:
                which[f"stock-{pd.Timestamp(d).date()}"] = stock_on_date_sql(sp, d)
            for q in quarters or []:
                lo, hi = quarter_bounds(q)
                which[q] = stock_in_period_sql(sp, lo, hi, q)
            for y in inflow_years or []:
                which[f"inflow-{y}"] = inflow_sql(sp, date(y, 1, 1), date(y, 12, 31), f"inflow-{y}")
        t = cohorts_table(
            eng,
            sp,
            config,
            mapping,
            persons=eng.view(persons) if persons is not None else None,
            benefits=as_records(
                eng, eng.view(benefits, BENEFIT_COLUMNS[shape]), shape, Window.of(config)
            )
            if benefits is not None
            else None,
            caseworker_assignments=eng.view(caseworker_assignments)
            if caseworker_assignments is not None
            else None,
            which=which,
        )
        return eng.output(f"SELECT {COHORT_OUT} FROM {t} ORDER BY cohort, person_id", out)
    finally:
        if own:
            eng.close()


__all__ = [
    "build_cohorts",
    "cohorts_table",
    "enrich_sql",
    "inflow_sql",
    "standard_cohort_sqls",
    "stock_in_period_sql",
    "stock_on_date_sql",
]

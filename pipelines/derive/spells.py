"""Spells in the kontanthjælp system, seniority (anciennitet) and prior contact.

One uninterrupted stay in the kontanthjælp (KH) system is recorded as many administrative cases:
moves between municipalities, cases closed and reopened, reforms that moved people to a new benefit
group (uddannelseshjælp, integrationsydelse), case-system conversions. The spell builder merges
every benefit record whose code maps to the state ``kh`` (all KH groups count as one system) into
uninterrupted spells by a gap rule (``config.spells.gap_rule``):

``calendar_month`` (default; the jobindsats rule since 2018)
    A spell ends after one full calendar month without KH: two records belong to separate spells
    iff at least one complete calendar month lies strictly between the last KH day before the gap
    and the first KH day after it. With ``m(d)`` = the month index of day ``d``, the gap
    ``(end, start)`` breaks iff ``m(start) - m(end) >= 2``. So 31 January -> 2 March breaks
    (February is free), 1 January -> 28 February does not (58 free days, no whole month).
``strict``
    Any day without KH breaks; records on adjacent days (end + 1 = start) merge.
``weeks``
    A gap of ``gap_weeks`` x 7 days or more (days strictly between) breaks.

Overlapping or touching records always merge. The gap is measured from the latest end of all
earlier records (a long case that encloses shorter ones keeps the spell open).

Weekly panels and the calendar-month rule: a DREAM week cannot be split between two months, so a
week counts in the month that holds its Thursday (ISO 8601: the month with most of its days), and a
calendar month is without KH when none of its weeks carries a KH code. With ``T(d)`` = the Thursday
of the week of day ``d`` the gap breaks iff ``m(T(start)) - m(T(end)) >= 2`` (every month has at
least four Thursdays, so a month strictly between holds a whole free week). Applying the day rule
to Monday..Sunday runs instead would let a week that only reaches 1-3 days into a month make that
month "not free" and bridge a true full-month gap.

Left truncation: a spell is ``left_truncated`` when the gap rule cannot rule out that it continues
a spell running before the extract window, i.e. when a KH day on the last day before the window
(for weekly panels: before the first Monday in the window, since earlier weeks are not in the
extract) would NOT break the spell. Under the calendar-month rule that is every spell starting in
the window's first calendar month (month of the first week for weekly panels); its seniority is
then only a lower bound.

Both input shapes run through the same SQL: ``benefit_spells`` records directly; the weekly
DREAM-style panel is first run-length encoded (consecutive weeks with the same code become one
record from the first Monday to the last Sunday, :mod:`pipelines.derive.weekly`), then merged by the
same gap rule. Nothing is loaded into pandas on the way.
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
    check_codes,
    engine_for,
    kh_codes_sql,
    resolve,
    seniority_group_sql,
)
from pipelines.derive._engine import Engine, Source, lit_date, month_index
from pipelines.derive.states import exit_states_table, state_intervals_table
from pipelines.derive.weekly import as_records

GAP_RULES = ("calendar_month", "strict", "weeks")


def thursday_sql(day: str) -> str:
    """SQL: the Thursday of the (Monday-based) week of a DATE expression."""
    return f"(date_trunc('week', {day})::DATE + 3)"


def gap_breaks_sql(
    prev_end: str, start: str, rule: str, gap_weeks: int = 4, shape: Shape = "records"
) -> str:
    """SQL condition: the gap between the last KH day ``prev_end`` and the next KH day ``start``
    ends the spell under ``rule`` (documented in the module docstring; for ``shape="weekly"`` the
    calendar-month rule compares the months of the weeks' Thursdays)."""
    if rule == "calendar_month":
        a, b = (
            (thursday_sql(prev_end), thursday_sql(start))
            if shape == "weekly"
            else (prev_end, start)
        )
        return f"({start} > {prev_end} + 1 AND {month_index(b)} - {month_index(a)} >= 2)"
    if rule == "strict":
        return f"({start} > {prev_end} + 1)"
    if rule == "weeks":
        return f"(date_diff('day', {prev_end}, {start}) - 1 >= {7 * int(gap_weeks)})"
    raise ValueError(f"unknown gap rule {rule!r}; use one of {GAP_RULES}")


def gap_breaks(
    prev_end: date,
    start: date,
    rule: str = "calendar_month",
    gap_weeks: int = 4,
    shape: Shape = "records",
) -> bool:
    """Python version of :func:`gap_breaks_sql` for one gap (for documentation and checks)."""
    prev_end, start = pd.Timestamp(prev_end), pd.Timestamp(start)
    free_days = (start - prev_end).days - 1
    if free_days <= 0:
        return False
    if rule == "calendar_month":
        a, b = prev_end, start
        if shape == "weekly":
            a, b = (d + pd.Timedelta(days=3 - d.weekday()) for d in (a, b))
        return (b.year * 12 + b.month) - (a.year * 12 + a.month) >= 2
    if rule == "strict":
        return True
    if rule == "weeks":
        return free_days >= 7 * gap_weeks
    raise ValueError(f"unknown gap rule {rule!r}; use one of {GAP_RULES}")


# --------------------------------------------------------------------------------------------
# table-level steps (engine + view names in, temp table names out)
# --------------------------------------------------------------------------------------------


def kh_records_table(eng: Engine, records: str, mapping: StateMapping, window: Window) -> str:
    """KH records (person_id, s, e, is_open, benefit_code, n) clipped to the window, from a
    records-shaped table (``benefit_spells``, or a weekly panel after
    :func:`pipelines.derive.weekly.as_records`)."""
    kh = kh_codes_sql(mapping)
    sql = f"""
        SELECT person_id::VARCHAR AS person_id,
               greatest(start_date::DATE, {window.sql_start}) AS s,
               least(coalesce(end_date::DATE, {window.sql_end}), {window.sql_end}) AS e,
               (end_date IS NULL OR end_date::DATE >= {window.sql_end}) AS is_open,
               benefit_code::VARCHAR AS benefit_code, 1 AS n
        FROM {records} WHERE benefit_code::VARCHAR IN {kh}"""
    return eng.table(f"SELECT * FROM ({sql}) WHERE s <= e")


def last_unobserved_day_sql(window: Window, shape: Shape) -> str:
    """SQL DATE: the last day before the observable part of the extract - the day before the
    window for records; for a weekly panel the day before the first Monday on or after the window
    start (weeks starting earlier are not in a DREAM extract that is cut by ``week_start``)."""
    if shape == "weekly":
        first_monday = f"(date_trunc('week', {window.sql_start} + 6)::DATE)"
        return f"({first_monday} - 1)"
    return f"({window.sql_start} - 1)"


def merge_spells_table(
    eng: Engine,
    kh_records: str,
    rule: str,
    gap_weeks: int,
    window: Window,
    shape: Shape = "records",
) -> str:
    """Merge KH records into spells by the gap rule; return a table with the columns of
    ``data_schema.derived.Spells`` except ``exit_state`` (plus ``prior_contact_3y`` and
    ``prev_spell_end``), dates as DATE."""
    brk = gap_breaks_sql("prev_end", "s", rule, gap_weeks, shape)
    # left truncated: a KH day just before the observable window would not break the spell
    trunc = f"NOT {gap_breaks_sql(last_unobserved_day_sql(window, shape), 'spell_start', rule, gap_weeks, shape)}"
    sql = f"""
    WITH o AS (
        SELECT person_id, s, e, is_open, n,
               max(e) OVER (PARTITION BY person_id ORDER BY s, e
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
        FROM {kh_records}
    ),
    f AS (SELECT *, CASE WHEN prev_end IS NULL OR {brk} THEN 1 ELSE 0 END AS new_spell FROM o),
    g AS (
        SELECT *, sum(new_spell) OVER (PARTITION BY person_id ORDER BY s, e
                                       ROWS UNBOUNDED PRECEDING) AS spell_id
        FROM f
    ),
    sp AS (
        SELECT person_id, spell_id::BIGINT AS spell_id, min(s) AS spell_start, max(e) AS last_day,
               sum(n)::BIGINT AS n_records, bool_or(is_open) OR max(e) >= {window.sql_end} AS is_open
        FROM g GROUP BY person_id, spell_id
    )
    SELECT person_id, spell_id, spell_start,
           CASE WHEN is_open THEN NULL ELSE last_day END AS spell_end,
           n_records, {trunc} AS left_truncated,
           lag(last_day) OVER (PARTITION BY person_id ORDER BY spell_id) AS prev_spell_end
    FROM sp"""
    t = eng.table(sql)
    return eng.table(
        f"""SELECT *, coalesce(prev_spell_end >= spell_start - INTERVAL 3 YEAR, false)
                      AS prior_contact_3y FROM {t}"""
    )


def spells_table(
    eng: Engine,
    benefits: str,
    shape: Shape,
    mapping: StateMapping,
    config: StarConfig,
    *,
    paid_hours: str | None = None,
) -> tuple[str, str, str]:
    """Spells with exit states. Returns (spells, state intervals, benefit records) tables; the
    intervals (bridged KH spells, other benefits, job months) and the records (a weekly panel
    run-length encoded) are reused by the later stages."""
    w = Window.of(config)
    records = as_records(eng, benefits, shape, w)
    check_codes(eng, records, mapping)
    rec = kh_records_table(eng, records, mapping, w)
    sp = merge_spells_table(eng, rec, config.spells.gap_rule, config.spells.gap_weeks, w, shape)
    iv = state_intervals_table(eng, records, mapping, config, kh_spells=sp, paid_hours=paid_hours)
    ex = exit_states_table(eng, sp, iv, mapping, config)
    out = eng.table(
        f"""SELECT sp.*, ex.exit_state FROM {sp} sp
            LEFT JOIN {ex} ex ON sp.person_id = ex.person_id AND sp.spell_id = ex.spell_id"""
    )
    return out, iv, records


SPELL_COLUMNS = (
    "person_id, spell_id, spell_start::TIMESTAMP AS spell_start, spell_end::TIMESTAMP AS spell_end, "
    "n_records, left_truncated, exit_state, prior_contact_3y, prev_spell_end::TIMESTAMP AS prev_spell_end"
)


# --------------------------------------------------------------------------------------------
# public frame-level API
# --------------------------------------------------------------------------------------------


def build_spells(
    benefits: Source,
    *,
    shape: Shape = "records",
    paid_hours: Source | None = None,
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    gap_rule: str | None = None,
    gap_weeks: int | None = None,
    engine: Engine | None = None,
    out=None,
) -> pd.DataFrame:
    """Uninterrupted KH spells from benefit records or a weekly panel.

    Parameters
    ----------
    benefits
        ``benefit_spells`` (``shape="records"``; columns person_id, benefit_code, start_date,
        end_date) or ``weekly_benefit_codes`` (``shape="weekly"``; person_id, week_start,
        benefit_code) as a DataFrame or Parquet path. All benefits may be given; non-KH records
        are used for the exit state.
    paid_hours
        ``monthly_paid_hours``, so that exits to a job are recognised (optional).
    config, mapping
        Run configuration (gap rule, extract window, job threshold) and state mapping.
    gap_rule, gap_weeks
        Override ``config.spells``.
    out
        Parquet path to write to instead of returning a DataFrame.

    Returns
    -------
    DataFrame per ``data_schema.derived.Spells``: person_id, spell_id (1, 2, ... in time order),
    spell_start, spell_end (NaT when running at the extract end), n_records, left_truncated,
    exit_state, prior_contact_3y (a KH day in the 3 years before spell_start), prev_spell_end.
    """
    config, mapping = resolve(config, mapping)
    upd = {}
    if gap_rule is not None:
        upd["gap_rule"] = gap_rule
    if gap_weeks is not None:
        upd["gap_weeks"] = gap_weeks
    if upd:
        config = config.model_copy(update={"spells": config.spells.model_copy(update=upd)})
    eng, own = engine_for(engine, config)
    try:
        b = eng.view(benefits, BENEFIT_COLUMNS[shape])
        ph = (
            eng.view(paid_hours, ["person_id", "month", "paid_hours"])
            if paid_hours is not None
            else None
        )
        sp, _, _ = spells_table(eng, b, shape, mapping, config, paid_hours=ph)
        return eng.output(f"SELECT {SPELL_COLUMNS} FROM {sp} ORDER BY person_id, spell_id", out)
    finally:
        if own:
            eng.close()


def seniority_sql(spells: str, ref: str) -> str:
    """SQL: for each person in a spell on the SQL date ``ref``: person_id, spell_id, spell_start,
    seniority_days (ref - spell_start), seniority_group, left_truncated."""
    return f"""
    SELECT person_id, spell_id, spell_start::DATE AS spell_start,
           date_diff('day', spell_start::DATE, {ref}) AS seniority_days,
           {seniority_group_sql("spell_start::DATE", ref)} AS seniority_group, left_truncated
    FROM {spells}
    WHERE spell_start::DATE <= {ref} AND (spell_end IS NULL OR spell_end::DATE >= {ref})"""


def seniority_at(
    spells: Source, reference_date: date | str, *, engine: Engine | None = None
) -> pd.DataFrame:
    """Seniority (anciennitet) of everyone in a KH spell on ``reference_date``.

    Seniority is the number of days from the spell's first day to the reference date
    (0 when the spell starts that day); ``seniority_group`` uses calendar years (see
    :func:`pipelines.derive._common.seniority_group_sql`). Being in a spell includes days in a
    bridged administrative gap. For left-truncated spells the value is a lower bound.
    """
    eng, own = (engine, False) if engine is not None else (Engine(), True)
    try:
        v = eng.view(spells, ["person_id", "spell_id", "spell_start", "spell_end"])
        if "left_truncated" not in [c.lower() for c in eng.columns(v)]:
            v = eng.table(f"SELECT *, false AS left_truncated FROM {v}")
        ref = lit_date(reference_date)
        return eng.df(
            f"""SELECT person_id, spell_id, spell_start::TIMESTAMP AS spell_start, seniority_days,
                       seniority_days / 365.25 AS seniority_years, seniority_group, left_truncated
                FROM ({seniority_sql(v, ref)}) ORDER BY person_id"""
        )
    finally:
        if own:
            eng.close()


def naive_case_seniority(
    benefits: Source,
    reference_date: date | str,
    *,
    shape: Shape = "records",
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """ "Naive" seniority: days since the start of the KH case open on ``reference_date``.

    This is what a case system's list of open cases gives (``seeds/000``): a move, a closed and
    reopened case, a reform or a system conversion restarts the clock. With several KH cases open
    on the date the most recently started one is the current case. For the weekly shape a "case" is
    a run of consecutive weeks with the same KH code. Persons with no KH case open on the date (for
    instance in an administrative gap) are not listed.
    """
    config, mapping = resolve(config, mapping)
    eng, own = engine_for(engine, config)
    try:
        w = Window.of(config)
        b = as_records(eng, eng.view(benefits, BENEFIT_COLUMNS[shape]), shape, w)
        rec = kh_records_table(eng, b, mapping, w)
        ref = lit_date(reference_date)
        return eng.df(
            f"""SELECT person_id, max(s)::TIMESTAMP AS case_start,
                       date_diff('day', max(s), {ref}) AS naive_seniority_days,
                       {seniority_group_sql("max(s)", ref)} AS naive_seniority_group
                FROM {rec} WHERE s <= {ref} AND e >= {ref}
                GROUP BY person_id ORDER BY person_id"""
        )
    finally:
        if own:
            eng.close()


def kh_share_sql(spells: str, members: str, years: int = 2) -> str:
    """SQL: (person_id, kh_share) = share of the days in the ``years`` years before each member's
    ``reference_date`` (``members`` has person_id, reference_date) spent in a KH spell (bridged
    days included; an open spell runs to the reference date)."""
    return f"""
    WITH m AS (
        SELECT person_id, reference_date::DATE AS r,
               (reference_date::DATE - INTERVAL {int(years)} YEAR)::DATE AS lo
        FROM {members}
    )
    SELECT m.person_id,
           -- (greatest/least skip NULLs in DuckDB, hence the explicit CASE for no spell)
           coalesce(sum(CASE WHEN sp.spell_start IS NULL THEN 0 ELSE greatest(0, date_diff('day',
                greatest(sp.spell_start::DATE, m.lo),
                least(coalesce(sp.spell_end::DATE, m.r - 1), m.r - 1)) + 1) END), 0)
           / date_diff('day', m.lo, m.r) AS kh_share
    FROM m LEFT JOIN {spells} sp
      ON sp.person_id = m.person_id AND sp.spell_start::DATE < m.r
         AND coalesce(sp.spell_end::DATE, m.r) >= m.lo
    GROUP BY m.person_id, m.lo, m.r"""


__all__ = [
    "GAP_RULES",
    "build_spells",
    "gap_breaks",
    "gap_breaks_sql",
    "kh_records_table",
    "kh_share_sql",
    "merge_spells_table",
    "naive_case_seniority",
    "seniority_at",
    "seniority_sql",
    "spells_table",
]

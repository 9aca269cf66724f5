"""Person-period frames: start-stop (counting process) and person-month frames.

Time-varying covariates (the same definitions in both frames), valid from the start of a day:

``cw_changes`` / ``cw_changes_12m``
    Case-worker changes: an assignment whose case worker differs from the person's previous
    assignment and that takes over from it (the previous one still running or ended at most 31 days
    before). ``cw_changes`` counts changes within the current spell (after its first day) up to and
    including the day; ``cw_changes_12m`` those in the last ``frames.caseworker_window_days`` (365)
    days, within the spell in the start-stop frame and regardless of spells in the person-month
    frame (where ``cw_changes`` is not given).
``conv_3m`` / ``conv_12m`` / ``jobconv_3m`` / ``jobconv_12m``
    Conversations (all / job conversations) on the ``frames.conversation_windows_days``
    (91 / 365) days *before* the day (a conversation counts from the next day on).
``in_activation``
    An activation offer runs on the day. ``exempt`` / ``exempt_illness``: an exemption (any /
    illness) runs on the day.
``paid_hours`` / ``has_paid_hours``
    Paid hours of the calendar month containing the day (start-stop only; contemporaneous with a
    job exit, so use with care) and ``paid_hours_lag1``: hours of the previous month.
``age``
    Calendar year of the day minus birth year (rows split on 1 January).

Start-stop frame (``data_schema.derived.StartStop``): for each member of the cohort, the spell
containing the reference date (``spell_id`` of the cohort); time is days since spell start, a day
``d`` occupies ``(d - spell_start, d - spell_start + 1]``; the first row starts at the seniority at
entry (delayed entry). Follow-up ends at the first of: the spell's last day, the reference date
plus ``frames.follow_up_years``, the extract end. ``event`` on the last row = EXIT_CODES of the
spell's exit state when the spell ended inside the follow-up, else 0. Rows are split where any
covariate changes and merged where nothing changes.

Person-month frame: one row per member and calendar month from the month of the reference date to
the month in which the follow-up window ends (not only while on KH, so returns are seen): the
month's state and the next month's state (``data_schema.derived.MonthlyStates`` rule),
``seniority_months`` (calendar months since the month in which the KH spell overlapping the month
started, so 0 in the first month; missing when the month's state is not ``kh``), covariates at the month's first day,
baseline characteristics.
"""

from __future__ import annotations

import pandas as pd

from data_schema.derived import EXIT_CODES
from data_schema.mapping import StateMapping
from pipelines.config.model import StarConfig
from pipelines.derive._common import BENEFIT_COLUMNS, Shape, Window, engine_for, resolve
from pipelines.derive._engine import Engine, Source, lit_str
from pipelines.derive._packing import Packing
from pipelines.derive.states import (
    classify_periods_table,
    month_periods_table,
    state_intervals_table,
)
from pipelines.derive.weekly import as_records

HANDOVER_DAYS = 31
"""A new assignment counts as a case-worker change when the previous assignment ran until at most
this many days before it (a take-over, not a new case after a long break)."""

COUNT_PACKING = Packing(
    ("cw_changes", "cw_changes_12m", "conv_3m", "conv_12m", "jobconv_3m", "jobconv_12m",
     "offers", "exempt_n", "exempt_ill_n"),
    13,
)  # fmt: skip
HOURS_PACKING = Packing(("paid_hours", "paid_hours_lag1"), 20)

BASELINE_SKIP = {"person_id", "cohort", "spell_id", "spell_start", "period_start", "period_end"}


def _members_table(eng: Engine, cohort: str, spells: str, config: StarConfig, w: Window) -> str:
    """Cohort members with their spell, follow-up end t1 and exit code."""
    months = round(config.frames.follow_up_years * 12)
    cases = " ".join(f"WHEN {lit_str(k)} THEN {v}" for k, v in EXIT_CODES.items())
    return eng.table(
        f"""SELECT c.person_id::VARCHAR AS person_id, c.cohort, c.spell_id,
                   c.spell_start::DATE AS spell_start, c.reference_date::DATE AS t0,
                   least(coalesce(s.spell_end::DATE, {w.sql_end}),
                         (c.reference_date::DATE + INTERVAL {months} MONTH)::DATE - 1,
                         {w.sql_end}) AS t1,
                   CASE WHEN s.spell_end IS NOT NULL
                         AND s.spell_end::DATE <= (c.reference_date::DATE + INTERVAL {months} MONTH)::DATE - 1
                         AND s.spell_end::DATE < {w.sql_end}
                        THEN CASE s.exit_state {cases} ELSE 0 END ELSE 0 END AS exit_code
            FROM {cohort} c JOIN {spells} s
              ON s.person_id::VARCHAR = c.person_id::VARCHAR AND s.spell_id = c.spell_id"""
    )


def _events_sql(
    members: str,
    *,
    caseworker_assignments: str | None,
    conversations: str | None,
    activation_offers: str | None,
    exemptions: str | None,
    paid_hours: str | None,
    config: StarConfig,
    within_spell: bool,
) -> str:
    """Long table (person_id, d, var, delta) of covariate changes of the members' persons."""
    w3, w12 = (int(x) for x in config.frames.conversation_windows_days)
    wcw = int(config.frames.caseworker_window_days)
    mp = f"(SELECT DISTINCT person_id FROM {members})"
    parts = []
    if caseworker_assignments is not None:
        spell_cond = "AND ch.c > m.spell_start" if within_spell else ""
        parts.append(
            f"""
            SELECT m.person_id, ch.c + v.lagd AS d, v.var, v.delta
            FROM (
                SELECT person_id, start_date AS c FROM (
                    SELECT a.person_id::VARCHAR AS person_id, a.caseworker_id::VARCHAR AS cw,
                           a.start_date::DATE AS start_date,
                           lag(a.caseworker_id::VARCHAR) OVER w AS prev_cw,
                           lag(coalesce(a.end_date::DATE, DATE '9999-12-31')) OVER w AS prev_end
                    FROM {caseworker_assignments} a SEMI JOIN {mp} mp
                      ON a.person_id::VARCHAR = mp.person_id
                    WINDOW w AS (PARTITION BY a.person_id ORDER BY a.start_date, a.end_date)
                ) WHERE prev_cw IS NOT NULL AND prev_cw <> cw
                    AND prev_end >= start_date - {HANDOVER_DAYS}
            ) ch JOIN {members} m ON ch.person_id = m.person_id {spell_cond}
            CROSS JOIN (VALUES ('cw_changes', 0, 1.0), ('cw_changes_12m', 0, 1.0),
                               ('cw_changes_12m', {wcw}, -1.0)) v(var, lagd, delta)
            """
        )
    if conversations is not None:
        parts.append(
            f"""
            SELECT c.person_id::VARCHAR AS person_id, c.conversation_date::DATE + 1 + v.lagd AS d,
                   v.var, v.delta
            FROM {conversations} c SEMI JOIN {mp} mp ON c.person_id::VARCHAR = mp.person_id
            CROSS JOIN (VALUES ('conv_3m', 0, 1.0, false), ('conv_3m', {w3}, -1.0, false),
                               ('conv_12m', 0, 1.0, false), ('conv_12m', {w12}, -1.0, false),
                               ('jobconv_3m', 0, 1.0, true), ('jobconv_3m', {w3}, -1.0, true),
                               ('jobconv_12m', 0, 1.0, true), ('jobconv_12m', {w12}, -1.0, true))
                 v(var, lagd, delta, job_only)
            WHERE NOT v.job_only OR c.conversation_type::VARCHAR = 'job'
            """
        )

    def running(table: str, var: str, cond: str = "true") -> str:
        return f"""
            SELECT t.person_id::VARCHAR AS person_id, t.start_date::DATE AS d, '{var}' AS var, 1.0 AS delta
            FROM {table} t SEMI JOIN {mp} mp ON t.person_id::VARCHAR = mp.person_id WHERE {cond}
            UNION ALL
            SELECT t.person_id::VARCHAR, t.end_date::DATE + 1, '{var}', -1.0
            FROM {table} t SEMI JOIN {mp} mp ON t.person_id::VARCHAR = mp.person_id
            WHERE t.end_date IS NOT NULL AND {cond}"""

    if activation_offers is not None:
        parts.append(running(activation_offers, "offers"))
    if exemptions is not None:
        parts.append(running(exemptions, "exempt_n"))
        parts.append(running(exemptions, "exempt_ill_n", "t.reason::VARCHAR = 'illness'"))
    if paid_hours is not None:
        parts.append(
            f"""
            SELECT h.person_id::VARCHAR AS person_id, (h.month::DATE + INTERVAL (v.lagm) MONTH)::DATE AS d,
                   v.var, v.sign * h.paid_hours::DOUBLE AS delta
            FROM {paid_hours} h SEMI JOIN {mp} mp ON h.person_id::VARCHAR = mp.person_id
            CROSS JOIN (VALUES ('paid_hours', 0, 1.0), ('paid_hours', 1, -1.0),
                               ('paid_hours_lag1', 1, 1.0), ('paid_hours_lag1', 2, -1.0)) v(var, lagm, sign)
            WHERE h.paid_hours > 0
            """
        )
    if not parts:
        return "SELECT NULL::VARCHAR AS person_id, NULL::DATE AS d, NULL::VARCHAR AS var, 0.0 AS delta WHERE false"
    return " UNION ALL ".join(f"({p})" for p in parts)


def covariate_timeline_table(
    eng: Engine,
    members: str,
    *,
    persons: str | None,
    caseworker_assignments: str | None,
    conversations: str | None,
    activation_offers: str | None,
    exemptions: str | None,
    paid_hours: str | None,
    config: StarConfig,
    within_spell: bool,
) -> str:
    """Covariate values per member from ``t0`` to ``t1`` (columns of ``members``): one row per
    stretch of days (date_start..date_stop) with constant covariates.

    A sweep line: every source adds (date, counter, +/-) events; the counters are packed into two
    running sums (:mod:`pipelines.derive._packing`: counts in 13-bit fields, i.e. below 8,192;
    paid hours in hundredths in 20-bit fields)."""
    ev = _events_sql(
        members,
        caseworker_assignments=caseworker_assignments,
        conversations=conversations,
        activation_offers=activation_offers,
        exemptions=exemptions,
        paid_hours=paid_hours,
        config=config,
        within_spell=within_spell,
    )
    counts, hours = COUNT_PACKING, HOURS_PACKING
    birth = (
        f"LEFT JOIN (SELECT person_id::VARCHAR AS person_id, birth_year FROM {persons}) p USING (person_id)"
        if persons is not None
        else ""
    )
    age = "(year(d) - p.birth_year)::BIGINT" if persons is not None else "NULL::BIGINT"

    def n(name: str) -> str:
        return counts.word_field("rc_", name)

    def h(name: str) -> str:
        return f"({hours.word_field('rh_', name)} / 100.0)"

    words = ", ".join([*counts.words("rc", "rc_"), *hours.words("rh", "rh_")])

    return eng.table(
        f"""
        WITH e AS (
            SELECT m.person_id, greatest(e.d, m.t0) AS d, false AS split,
                   {counts.delta("e.var", "e.delta")} AS dc,
                   {hours.delta("e.var", "round(e.delta * 100)")} AS dh
            FROM ({ev}) e JOIN {members} m ON e.person_id = m.person_id
            WHERE e.d <= m.t1
            UNION ALL SELECT person_id, t0, true, 0::HUGEINT, 0::HUGEINT FROM {members}
            UNION ALL
            SELECT person_id, make_date(y, 1, 1), true, 0::HUGEINT, 0::HUGEINT
            FROM (SELECT person_id, t0, t1, unnest(range(year(t0) + 1, year(t1) + 1)) AS y FROM {members})
        ),
        -- a date where no covariate changes (and that is neither the entry nor 1 January, when
        -- age changes) does not start a new row
        agg AS (
            SELECT * FROM (
                SELECT person_id, d, bool_or(split) AS split, sum(dc) AS dc, sum(dh) AS dh
                FROM e GROUP BY person_id, d)
            WHERE split OR dc <> 0 OR dh <> 0
        ),
        cum AS (
            SELECT person_id, d, lead(d) OVER (PARTITION BY person_id ORDER BY d) AS d_next,
                   sum(dc) OVER w AS rc, sum(dh) OVER w AS rh
            FROM agg
            WINDOW w AS (PARTITION BY person_id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
        SELECT cum.person_id, cum.d AS date_start, coalesce(cum.d_next - 1, m.t1) AS date_stop,
               {n("cw_changes")} AS cw_changes, {n("cw_changes_12m")} AS cw_changes_12m,
               {n("conv_3m")} AS conv_3m, {n("conv_12m")} AS conv_12m,
               {n("jobconv_3m")} AS jobconv_3m, {n("jobconv_12m")} AS jobconv_12m,
               {n("offers")} > 0 AS in_activation, {n("exempt_n")} > 0 AS exempt,
               {n("exempt_ill_n")} > 0 AS exempt_illness,
               {h("paid_hours")} AS paid_hours, {h("paid_hours")} > 0 AS has_paid_hours,
               {h("paid_hours_lag1")} AS paid_hours_lag1,
               {age} AS age
        FROM (SELECT *, {words} FROM cum) cum JOIN {members} m USING (person_id) {birth}
        """
    )


def _baseline_cols(eng: Engine, cohort: str) -> list[str]:
    cols = []
    for c in eng.columns(cohort):
        if c.lower() in BASELINE_SKIP:
            continue
        if c == "reference_date":
            cols.append("c.reference_date::TIMESTAMP AS entry_date")
        elif c == "seniority_days":
            cols.append("c.seniority_days AS seniority_entry_days")
        elif c == "seniority_group":
            cols.append("c.seniority_group AS seniority_group_entry")
        elif c == "age":
            cols.append("c.age AS age_entry")
        else:
            cols.append(f"c.{c}")
    return cols


def start_stop_table(
    eng: Engine,
    cohort: str,
    spells: str,
    *,
    persons: str | None,
    caseworker_assignments: str | None,
    conversations: str | None,
    activation_offers: str | None,
    exemptions: str | None,
    paid_hours: str | None,
    config: StarConfig,
) -> str:
    """The start-stop frame of one cohort as a table (see module docstring)."""
    w = Window.of(config)
    mem = _members_table(eng, cohort, spells, config, w)
    tl = covariate_timeline_table(
        eng,
        mem,
        persons=persons,
        caseworker_assignments=caseworker_assignments,
        conversations=conversations,
        activation_offers=activation_offers,
        exemptions=exemptions,
        paid_hours=paid_hours,
        config=config,
        within_spell=True,
    )
    base = _baseline_cols(eng, cohort)
    return eng.table(
        f"""
        SELECT tl.person_id, m.cohort, m.spell_id,
               date_diff('day', m.spell_start, tl.date_start)::DOUBLE AS tstart,
               (date_diff('day', m.spell_start, tl.date_stop) + 1)::DOUBLE AS tstop,
               CASE WHEN tl.date_stop = m.t1 THEN m.exit_code ELSE 0 END::BIGINT AS event,
               tl.date_start::TIMESTAMP AS date_start, tl.date_stop::TIMESTAMP AS date_stop,
               tl.* EXCLUDE (person_id, date_start, date_stop), {", ".join(base)}
        FROM {tl} tl JOIN {mem} m USING (person_id)
        JOIN {cohort} c ON c.person_id::VARCHAR = tl.person_id
        """
    )


def person_month_table(
    eng: Engine,
    cohort: str,
    spells: str,
    intervals: str,
    mapping: StateMapping,
    *,
    persons: str | None,
    caseworker_assignments: str | None,
    conversations: str | None,
    activation_offers: str | None,
    exemptions: str | None,
    paid_hours: str | None,
    config: StarConfig,
) -> str:
    """The person-month frame of one cohort as a table (see module docstring)."""
    w = Window.of(config)
    months = round(config.frames.follow_up_years * 12)
    mem = eng.table(
        f"""SELECT person_id::VARCHAR AS person_id, cohort, spell_id,
                   date_trunc('month', reference_date::DATE)::DATE AS t0,
                   least(date_trunc('month', (reference_date::DATE + INTERVAL {months} MONTH)::DATE - 1)::DATE,
                         date_trunc('month', {w.sql_end})::DATE) AS t1,
                   spell_start::DATE AS spell_start
            FROM {cohort}"""
    )
    # states of the months t0 .. t1 + 1 month (for the next state)
    per = month_periods_table(
        eng, mem, "t0", f"least((t1 + INTERVAL 2 MONTH)::DATE - 1, {w.sql_end})"
    )
    cl = classify_periods_table(eng, intervals, per, mapping)
    col = "predominant" if config.states.month_rule == "predominant" else "end_state"
    st = eng.table(
        f"""SELECT c.person_id, p.p_start AS month, c.{col} AS state
            FROM {cl} c JOIN {per} p USING (person_id, period_id)"""
    )
    tl = covariate_timeline_table(
        eng,
        mem,
        persons=persons,
        caseworker_assignments=caseworker_assignments,
        conversations=conversations,
        activation_offers=activation_offers,
        exemptions=exemptions,
        paid_hours=paid_hours,
        config=config,
        within_spell=False,
    )
    base = _baseline_cols(eng, cohort)
    return eng.table(
        f"""
        WITH pm AS (
            SELECT m.person_id, m.cohort, s.month, s.state,
                   lead(s.state) OVER (PARTITION BY m.person_id ORDER BY s.month) AS next_state,
                   date_diff('month', m.t0, s.month) + 1 AS month_index, m.t1
            FROM {mem} m JOIN {st} s ON s.person_id = m.person_id AND s.month >= m.t0
        ),
        sen AS (
            SELECT pm.person_id, pm.month, max(sp.spell_start::DATE) AS spell_start
            FROM pm JOIN {spells} sp ON sp.person_id::VARCHAR = pm.person_id
             AND sp.spell_start::DATE <= (pm.month + INTERVAL 1 MONTH)::DATE - 1
             AND (sp.spell_end IS NULL OR sp.spell_end::DATE >= pm.month)
            WHERE pm.state = 'kh' GROUP BY pm.person_id, pm.month
        )
        SELECT pm.person_id, pm.cohort, pm.month::TIMESTAMP AS month, pm.month_index::BIGINT AS month_index,
               pm.state, pm.next_state,
               CASE WHEN pm.state = 'kh'
                    THEN greatest(date_diff('month', date_trunc('month', sen.spell_start), pm.month), 0)
                    END::DOUBLE AS seniority_months,
               tl.* EXCLUDE (person_id, date_start, date_stop, cw_changes, paid_hours, has_paid_hours),
               tl.paid_hours_lag1 > 0 AS has_paid_hours_lag1, {", ".join(base)}
        FROM pm
        LEFT JOIN sen ON sen.person_id = pm.person_id AND sen.month = pm.month
        ASOF LEFT JOIN {tl} tl ON tl.person_id = pm.person_id AND pm.month >= tl.date_start
        JOIN {cohort} c ON c.person_id::VARCHAR = pm.person_id
        WHERE pm.month <= pm.t1
        """
    )


def _views(eng: Engine, **tables: Source | None) -> dict[str, str | None]:
    return {k: (eng.view(v) if v is not None else None) for k, v in tables.items()}


def build_start_stop(
    cohort: Source,
    spells: Source,
    *,
    persons: Source | None = None,
    caseworker_assignments: Source | None = None,
    conversations: Source | None = None,
    activation_offers: Source | None = None,
    exemptions: Source | None = None,
    paid_hours: Source | None = None,
    config: StarConfig | None = None,
    engine: Engine | None = None,
    out=None,
) -> pd.DataFrame:
    """Start-stop frame (``data_schema.derived.StartStop`` plus covariates) of one cohort.

    ``cohort`` is one cohort from :func:`pipelines.derive.cohorts.build_cohorts` (its baseline
    columns are carried along); ``spells`` from :func:`pipelines.derive.spells.build_spells`.
    """
    config, _ = resolve(config, None)
    eng, own = engine_for(engine, config)
    try:
        c = eng.view(cohort, ["person_id", "cohort", "reference_date", "spell_id", "spell_start"])
        _check_one_cohort(eng, c)
        sp = eng.view(spells, ["person_id", "spell_id", "spell_start", "spell_end", "exit_state"])
        v = _views(
            eng,
            persons=persons,
            caseworker_assignments=caseworker_assignments,
            conversations=conversations,
            activation_offers=activation_offers,
            exemptions=exemptions,
            paid_hours=paid_hours,
        )
        t = start_stop_table(eng, c, sp, config=config, **v)
        return eng.output(f"SELECT * FROM {t} ORDER BY person_id, tstart", out)
    finally:
        if own:
            eng.close()


def build_person_month(
    cohort: Source,
    spells: Source,
    benefits: Source,
    *,
    shape: Shape = "records",
    persons: Source | None = None,
    caseworker_assignments: Source | None = None,
    conversations: Source | None = None,
    activation_offers: Source | None = None,
    exemptions: Source | None = None,
    paid_hours: Source | None = None,
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    engine: Engine | None = None,
    out=None,
) -> pd.DataFrame:
    """Person-month frame of one cohort for discrete-time transition models."""
    config, mapping = resolve(config, mapping)
    eng, own = engine_for(engine, config)
    try:
        c = eng.view(cohort, ["person_id", "cohort", "reference_date", "spell_id", "spell_start"])
        _check_one_cohort(eng, c)
        sp = eng.view(spells, ["person_id", "spell_id", "spell_start", "spell_end"])
        b = as_records(eng, eng.view(benefits, BENEFIT_COLUMNS[shape]), shape, Window.of(config))
        v = _views(
            eng,
            persons=persons,
            caseworker_assignments=caseworker_assignments,
            conversations=conversations,
            activation_offers=activation_offers,
            exemptions=exemptions,
            paid_hours=paid_hours,
        )
        iv = state_intervals_table(
            eng, b, mapping, config, kh_spells=sp, paid_hours=v["paid_hours"]
        )
        t = person_month_table(eng, c, sp, iv, mapping, config=config, **v)
        return eng.output(f"SELECT * FROM {t} ORDER BY person_id, month", out)
    finally:
        if own:
            eng.close()


def _check_one_cohort(eng: Engine, cohort: str) -> None:
    n = eng.scalar(f"SELECT count(DISTINCT cohort) FROM {cohort}")
    if n > 1:
        raise ValueError("a person-period frame is built for one cohort; filter the cohorts first")


__all__ = [
    "build_person_month",
    "build_start_stop",
    "covariate_timeline_table",
    "person_month_table",
    "start_stop_table",
]

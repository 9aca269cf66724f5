"""State classification per period (day, month, half-year, the days after a spell).

Rules (documented here once, used by every stage):

1. **Day states.** On each day every source gives candidate states:

   * benefit records (or weekly codes, each week covering Monday-Sunday) give the state their code
     maps to in the state mapping YAML;
   * the kontanthjælp system (``kh``) holds on every day of a *bridged* KH spell (from
     :func:`pipelines.derive.spells.build_spells`), so days in administrative gaps between cases
     (databrud) count as ``kh`` and do not create spurious transitions;
   * ``job`` holds on every day of a calendar month with ``paid_hours >=
     states.job_hours_threshold`` (default 80) - or, when ``states.job_earnings_threshold_dkk`` is
     set, also with earnings at or above it. KH recipients with a few paid hours (løntimer, below
     the threshold) therefore stay ``kh``;
   * ``self_support`` is the residual: no other candidate.

   The day's state is the candidate ranked highest in the mapping's priority order
   (dead_or_emigrated > fp > fj > rf > job > edu > kh > other_benefit > self_support by default).

2. **Period states** (months, half-years): ``predominant`` = the state held on most days of the
   period, ties broken by priority; ``end`` = the state on the period's last day.

3. **Exit state of a spell**: the first day state other than ``self_support`` in the
   ``spells.exit_window_days`` days after the spell's last KH day (and before the next KH spell);
   ``self_support`` when there is none.

Implementation: a sweep line in DuckDB. Every interval contributes +1 to its state's counter on its
first day and -1 the day after its last; period borders add empty events. A running sum per person
(all state counters packed into one integer, :mod:`pipelines.derive._packing`) gives, between
consecutive event days, which states are active; the top-ranked one wins. Segments are then summed
per period. One sort per person, out-of-core.
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
    resolve,
)
from pipelines.derive._engine import Engine, Source, lit_date, lit_str
from pipelines.derive._packing import packings
from pipelines.derive.weekly import as_records

# --------------------------------------------------------------------------------------------
# state intervals
# --------------------------------------------------------------------------------------------


def job_condition(config: StarConfig) -> str:
    """SQL condition on a monthly_paid_hours row (columns paid_hours, earnings_dkk) for ``job``."""
    cond = f"paid_hours >= {float(config.states.job_hours_threshold)}"
    if config.states.job_earnings_threshold_dkk is not None:
        cond = f"({cond} OR coalesce(earnings_dkk, 0) >= {float(config.states.job_earnings_threshold_dkk)})"
    return cond


def state_intervals_table(
    eng: Engine,
    records: str,
    mapping: StateMapping,
    config: StarConfig,
    *,
    kh_spells: str | None,
    paid_hours: str | None,
    include_kh: bool = True,
) -> str:
    """Materialise (person_id, state, s, e) intervals of every candidate state; return the table.

    ``records`` is records-shaped (``benefit_spells``, or a weekly panel after
    :func:`pipelines.derive.weekly.as_records`). ``kh_spells`` is a table with (person_id,
    spell_start, spell_end) - the bridged spells; when it is ``None`` the raw KH records are used
    instead. Dates are clipped to the extract window and an open end becomes the window's last day.
    """
    w = Window.of(config)
    mv = mapping_view(eng, mapping)
    raw_kh = kh_spells is None and include_kh  # take kh from the raw records (unbridged)
    kh_filter = "" if raw_kh else "WHERE state <> 'kh'"
    parts = [
        f"""SELECT * FROM (
            SELECT b.person_id::VARCHAR AS person_id, m.state,
               greatest(b.start_date::DATE, {w.sql_start}) AS s,
               least(coalesce(b.end_date::DATE, {w.sql_end}), {w.sql_end}) AS e
            FROM {records} b JOIN {mv} m ON b.benefit_code::VARCHAR = m.code) {kh_filter}"""
    ]
    if include_kh and kh_spells is not None:
        parts.append(
            f"""SELECT person_id::VARCHAR, 'kh', spell_start::DATE,
                   coalesce(spell_end::DATE, {w.sql_end}) FROM {kh_spells}"""
        )
    if paid_hours is not None:
        parts.append(
            f"""SELECT person_id::VARCHAR, 'job', month::DATE,
                   least((month::DATE + INTERVAL 1 MONTH)::DATE - 1, {w.sql_end})
            FROM {paid_hours} WHERE {job_condition(config)}"""
        )
    sql = " UNION ALL ".join(f"({p})" for p in parts)
    return eng.table(f"SELECT * FROM ({sql}) WHERE s <= e")


# --------------------------------------------------------------------------------------------
# period classification
# --------------------------------------------------------------------------------------------


def classify_periods_table(eng: Engine, intervals: str, periods: str, mapping: StateMapping) -> str:
    """Classify periods; return a table (person_id, period_id, predominant, end_state,
    first_state, n_days).

    ``periods`` has (person_id, period_id, p_start, p_end) with non-overlapping periods per person.
    ``first_state`` is the first day state that is not ``self_support`` (else ``self_support``).
    The counters of active intervals per state are packed into one running sum
    (:mod:`pipelines.derive._packing`; 15 bits, i.e. up to 32,767 overlapping intervals of a state).
    """
    states = [s for s in mapping.state_codes if s != "self_support"]
    packs = packings(states, 15)
    deltas = ", ".join(f"{pk.delta('state', 'delta')} AS d{g}" for g, pk in enumerate(packs))
    sums = ", ".join(f"sum(d{g}) AS d{g}" for g in range(len(packs)))
    nonzero = " OR ".join(f"d{g} <> 0" for g in range(len(packs)))
    cums = ", ".join(f"sum(d{g}) OVER w AS c{g}" for g in range(len(packs)))
    words = ", ".join(w for g, pk in enumerate(packs) for w in pk.words(f"c{g}", f"w{g}_"))
    active = [(pk.word_field(f"w{g}_", st), st) for g, pk in enumerate(packs) for st in pk.names]
    top = (
        "CASE "
        + " ".join(f"WHEN {f} > 0 THEN {lit_str(st)}" for f, st in active)
        + " ELSE 'self_support' END"
    )
    rank = (
        "CASE "
        + " ".join(f"WHEN {f} > 0 THEN {i}" for i, (f, _) in enumerate(active))
        + f" ELSE {len(states)} END"
    )
    sql = f"""
    WITH span AS (
        SELECT person_id, min(p_start) AS lo, max(p_end) AS hi FROM {periods} GROUP BY person_id
    ),
    iv AS (
        SELECT i.person_id, i.state, greatest(i.s, sp.lo) AS s, least(i.e, sp.hi) AS e
        FROM {intervals} i JOIN span sp ON i.person_id = sp.person_id
        WHERE i.s <= sp.hi AND i.e >= sp.lo
    ),
    ev AS (
        SELECT person_id, d, false AS border, {deltas} FROM (
            SELECT person_id, s AS d, state, 1 AS delta FROM iv
            UNION ALL SELECT person_id, e + 1, state, -1 FROM iv)
        UNION ALL SELECT person_id, p_start, true, {", ".join("0::HUGEINT" for _ in packs)} FROM {periods}
        UNION ALL SELECT person_id, p_end + 1, true, {", ".join("0::HUGEINT" for _ in packs)} FROM {periods}
    ),
    -- dates where nothing changes and no period starts or ends cannot start a new segment
    agg AS (
        SELECT * FROM (SELECT person_id, d, bool_or(border) AS border, {sums} FROM ev GROUP BY person_id, d)
        WHERE border OR {nonzero}
    ),
    cum AS (
        SELECT person_id, d, lead(d) OVER (PARTITION BY person_id ORDER BY d) AS d_next, {cums}
        FROM agg
        WINDOW w AS (PARTITION BY person_id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    seg AS (
        SELECT person_id, d AS seg_start, d_next - 1 AS seg_end, {top} AS state, {rank} AS rnk
        FROM (SELECT person_id, d, d_next, {words} FROM cum WHERE d_next IS NOT NULL)
    ),
    segp AS (
        SELECT s.*, p.period_id, p.p_end
        FROM seg s ASOF JOIN {periods} p ON s.person_id = p.person_id AND s.seg_start >= p.p_start
        WHERE s.seg_start <= p.p_end
    ),
    by_state AS (
        SELECT person_id, period_id, state, min(rnk) AS rnk,
               sum(date_diff('day', seg_start, seg_end) + 1) AS n_days
        FROM segp GROUP BY person_id, period_id, state
    ),
    pred AS (
        SELECT person_id, period_id, arg_max(state, n_days * 1000 - rnk) AS predominant,
               sum(n_days) AS n_days
        FROM by_state GROUP BY person_id, period_id
    ),
    ends AS (
        SELECT person_id, period_id, arg_max(state, seg_start) AS end_state,
               coalesce(arg_min(state, seg_start) FILTER (WHERE state <> 'self_support'),
                        'self_support') AS first_state
        FROM segp GROUP BY person_id, period_id
    )
    SELECT pred.person_id, pred.period_id, predominant, end_state, first_state, n_days
    FROM pred JOIN ends ON pred.person_id = ends.person_id AND pred.period_id = ends.period_id
    """
    return eng.table(sql)


def month_periods_table(eng: Engine, persons: str, first_month: str, last_day: str) -> str:
    """Periods (person_id, period_id, p_start, p_end) = calendar months per person.

    ``first_month`` (a first-of-month) and ``last_day`` are SQL DATE expressions; they may refer
    to columns of ``persons`` (which must have ``person_id``) to give each person its own range.
    The last month is cut at ``last_day``.
    """
    return eng.table(
        f"""SELECT person_id, (year(m) * 12 + month(m) - 1)::BIGINT AS period_id,
                   m::DATE AS p_start, least((m + INTERVAL 1 MONTH)::DATE - 1, last_d) AS p_end
            FROM (SELECT person_id, {last_day} AS last_d,
                         unnest(generate_series({first_month}::TIMESTAMP, ({last_day})::TIMESTAMP,
                                                INTERVAL 1 MONTH)) AS m
                  FROM {persons})"""
    )


def monthly_states(
    benefits: Source,
    spells: Source,
    *,
    shape: Shape = "records",
    paid_hours: Source | None = None,
    persons: pd.Series | pd.DataFrame | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    rule: str | None = None,
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    engine: Engine | None = None,
    out=None,
) -> pd.DataFrame:
    """State of each person in each calendar month (``data_schema.derived.MonthlyStates``).

    Parameters
    ----------
    benefits
        ``benefit_spells`` (``shape="records"``) or ``weekly_benefit_codes`` (``"weekly"``).
    spells
        The bridged KH spells of :func:`pipelines.derive.spells.build_spells`.
    paid_hours
        ``monthly_paid_hours`` (job months); without it nobody is ever in ``job``.
    persons
        Person ids to classify (default: everyone with a spell).
    start, end
        First and last month (any day inside them); default the extract window.
    rule
        ``predominant`` or ``end``; default ``config.states.month_rule``.
    """
    config, mapping = resolve(config, mapping)
    eng, own = engine_for(engine, config)
    try:
        w = Window.of(config)
        b = as_records(eng, eng.view(benefits, BENEFIT_COLUMNS[shape]), shape, w)
        sp = eng.view(spells)
        ph = eng.view(paid_hours) if paid_hours is not None else None
        if persons is None:
            pv = eng.table(f"SELECT DISTINCT person_id::VARCHAR AS person_id FROM {sp}")
        else:
            ids = persons["person_id"] if isinstance(persons, pd.DataFrame) else pd.Series(persons)
            pv = eng.view(pd.DataFrame({"person_id": ids.astype(str).drop_duplicates()}))
        first = lit_date(pd.Timestamp(start or w.start).to_period("M").start_time)
        last = lit_date(
            min(pd.Timestamp(end).to_period("M").end_time.normalize(), pd.Timestamp(w.end))
            if end
            else w.end
        )
        iv = state_intervals_table(eng, b, mapping, config, kh_spells=sp, paid_hours=ph)
        per = month_periods_table(eng, pv, first, last)
        cl = classify_periods_table(eng, iv, per, mapping)
        col = "predominant" if (rule or config.states.month_rule) == "predominant" else "end_state"
        sql = f"""SELECT c.person_id, p.p_start::TIMESTAMP AS month, c.{col} AS state
                  FROM {cl} c JOIN {per} p USING (person_id, period_id)
                  ORDER BY c.person_id, month"""
        return eng.output(sql, out)
    finally:
        if own:
            eng.close()


def exit_states_table(
    eng: Engine, spells: str, intervals: str, mapping: StateMapping, config: StarConfig
) -> str:
    """Table (person_id, spell_id, exit_state) for spells that ended before the extract end.

    ``intervals`` must not contain ``kh`` (between spells there is no KH day by construction).
    """
    w = Window.of(config)
    k = int(config.spells.exit_window_days)
    periods = eng.table(
        f"""SELECT person_id, spell_id AS period_id, spell_end + 1 AS p_start,
                   least(spell_end + {k}, coalesce(next_start - 1, {w.sql_end}), {w.sql_end}) AS p_end
            FROM (SELECT person_id, spell_id, spell_start, spell_end,
                         lead(spell_start) OVER (PARTITION BY person_id ORDER BY spell_start) AS next_start
                  FROM {spells})
            WHERE spell_end IS NOT NULL AND spell_end < {w.sql_end}"""
    )
    nonkh = eng.table(f"SELECT * FROM {intervals} WHERE state <> 'kh'")
    cl = classify_periods_table(eng, nonkh, periods, mapping)
    return eng.table(
        f"SELECT person_id, period_id AS spell_id, first_state AS exit_state FROM {cl}"
    )


__all__ = [
    "classify_periods_table",
    "exit_states_table",
    "job_condition",
    "kh_codes_sql",
    "monthly_states",
    "state_intervals_table",
]

"""State sequences over half-years after a cohort's reference date (input of the hovedveje analysis).

Half-year ``k`` (1, 2, ...) of a member runs from ``anchor + 6(k-1)`` months to the day before
``anchor + 6k`` months, where the anchor is the member's reference date
(``cohorts.sequence_anchor = entry``, default; for a quarter stock the first KH day in the quarter)
or the day after the cohort period (``after_period``; for 2018Q1 that is 2018-04-01). Its state is
the predominant day state (ties by priority; ``states.half_year_rule = predominant``, default) or
the state on its last day (``end``); day states as in :mod:`pipelines.derive.states`, with
bridged KH gaps counting as KH. Only half-years that end inside the extract window are listed.
"""

from __future__ import annotations

import pandas as pd

from data_schema.mapping import StateMapping
from pipelines.config.model import StarConfig
from pipelines.derive._common import BENEFIT_COLUMNS, Shape, Window, engine_for, resolve
from pipelines.derive._engine import Engine, Source
from pipelines.derive.states import classify_periods_table, state_intervals_table
from pipelines.derive.weekly import as_records


def half_year_periods_table(
    eng: Engine, cohort: str, n_half_years: int, anchor: str, window: Window
) -> str:
    """Periods (person_id, period_id = half-year number, p_start, p_end) for one cohort."""
    a = "reference_date::DATE" if anchor == "entry" else "(period_end::DATE + 1)"
    return eng.table(
        f"""SELECT person_id, k AS period_id,
                   (a + INTERVAL (6 * (k - 1)) MONTH)::DATE AS p_start,
                   (a + INTERVAL (6 * k) MONTH)::DATE - 1 AS p_end
            FROM (SELECT person_id, {a} AS a, unnest(range(1, {int(n_half_years) + 1})) AS k
                  FROM {cohort})
            WHERE (a + INTERVAL (6 * k) MONTH)::DATE - 1 <= {window.sql_end}"""
    )


def sequences_table(
    eng: Engine,
    cohorts: str,
    intervals: str,
    mapping: StateMapping,
    config: StarConfig,
) -> str:
    """Sequences for every cohort in ``cohorts`` (classified cohort by cohort, since a person's
    half-years of two cohorts overlap). Columns: person_id, cohort, half_year, state,
    period_start, period_end."""
    w = Window.of(config)
    rule = "predominant" if config.states.half_year_rule == "predominant" else "end_state"
    labels = [
        r[0]
        for r in eng.con.execute(f"SELECT DISTINCT cohort FROM {cohorts} ORDER BY 1").fetchall()
    ]
    parts = []
    for lab in labels:
        c = eng.table(f"SELECT * FROM {cohorts} WHERE cohort = '{lab}'")
        per = half_year_periods_table(
            eng, c, config.cohorts.n_half_years, config.cohorts.sequence_anchor, w
        )
        cl = classify_periods_table(eng, intervals, per, mapping)
        parts.append(
            eng.table(
                f"""SELECT c.person_id, '{lab}' AS cohort, c.period_id::BIGINT AS half_year,
                           c.{rule} AS state, p.p_start AS period_start, p.p_end AS period_end
                    FROM {cl} c JOIN {per} p USING (person_id, period_id)"""
            )
        )
    if not parts:
        return eng.table(
            "SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS cohort, NULL::BIGINT AS half_year,"
            " NULL::VARCHAR AS state, NULL::DATE AS period_start, NULL::DATE AS period_end WHERE false"
        )
    return eng.table(" UNION ALL ".join(f"SELECT * FROM {p}" for p in parts))


def build_sequences(
    cohort: Source,
    benefits: Source,
    spells: Source,
    *,
    shape: Shape = "records",
    paid_hours: Source | None = None,
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    engine: Engine | None = None,
    out=None,
) -> pd.DataFrame:
    """Half-year state sequences (``data_schema.derived.Sequences`` plus period_start/period_end)
    of the members of ``cohort`` (one or several cohorts, from :func:`build_cohorts`)."""
    config, mapping = resolve(config, mapping)
    eng, own = engine_for(engine, config)
    try:
        c = eng.view(cohort, ["person_id", "cohort", "reference_date", "period_end"])
        b = as_records(eng, eng.view(benefits, BENEFIT_COLUMNS[shape]), shape, Window.of(config))
        sp = eng.view(spells, ["person_id", "spell_start", "spell_end"])
        ph = eng.view(paid_hours) if paid_hours is not None else None
        iv = state_intervals_table(eng, b, mapping, config, kh_spells=sp, paid_hours=ph)
        t = sequences_table(eng, c, iv, mapping, config)
        return eng.output(
            f"""SELECT person_id, cohort, half_year, state, period_start::TIMESTAMP AS period_start,
                       period_end::TIMESTAMP AS period_end FROM {t}
                ORDER BY cohort, person_id, half_year""",
            out,
        )
    finally:
        if own:
            eng.close()


__all__ = ["build_sequences", "half_year_periods_table", "sequences_table"]

"""Derived analysis frames: the contract between the pipeline stages and the analyses.

These are not inputs a user supplies; they are what ``pipelines`` derives from the register tables
(spells, cohorts, state sequences, person-period frames) and what ``analysis`` consumes. Keeping
their shape here lets each side be built and tested on its own.

Time conventions: dates are calendar days; durations ``tstart``/``tstop`` are days since the start
of the uninterrupted spell in the kontanthjælp system (so ``tstart`` at cohort entry is the
seniority at entry, which gives delayed entry for stock samples).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from data_schema.tables import PERSON_ID_PATTERN

# Integer codes for exits from the kontanthjælp system, as used in ``event`` columns of start-stop
# frames (0 = censored). Fixed so that results are comparable across runs and years.
EXIT_CODES: Final = MappingProxyType(
    {
        "job": 1,
        "fp": 2,
        "rf": 3,
        "fj": 4,
        "edu": 5,
        "self_support": 6,
        "other_benefit": 7,
        "dead_or_emigrated": 8,
    }
)
# The exits modelled as competing causes (job, førtidspension, ressourceforløb); the others are
# pooled or censored. The one list every estimator, stage and plot defaults to.
MODEL_CAUSES: Final = ("job", "fp", "rf")


class Spells(pa.DataFrameModel):
    """Uninterrupted spells in the kontanthjælp system (KH, uddannelseshjælp, integrationsydelse/SHO
    counted as one system), built from benefit records by the configured gap rule."""

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    spell_id: Series[int] = pa.Field(ge=1, description="1, 2, ... in time order within person.")
    spell_start: Series[pa.DateTime] = pa.Field(description="First day on benefit in the spell.")
    spell_end: Series[pa.DateTime] = pa.Field(
        nullable=True, description="Last day on benefit; missing when ongoing at extract end."
    )
    n_records: Series[int] = pa.Field(ge=1, description="Benefit records (cases) merged into it.")
    left_truncated: Series[bool] = pa.Field(
        description="The spell may have been running before the extract window: a benefit day "
        "just before the window would not break it under the gap rule (calendar-month rule: it "
        "starts in the window's first month), so its true start (and seniority) is only known to "
        "be no later than spell_start."
    )
    exit_state: Series[str] = pa.Field(
        nullable=True,
        description="State the person moved to after the spell (missing when ongoing): the first "
        "day state other than self_support within config.spells.exit_window_days after the last "
        "KH day, else self_support.",
    )
    prior_contact_3y: Series[bool] = pa.Field(
        description="A KH day (an earlier spell) in the 3 years before spell_start."
    )
    prev_spell_end: Series[pa.DateTime] = pa.Field(
        nullable=True,
        description="Last day of the person's previous spell (missing for the first).",
    )


class MonthlyStates(pa.DataFrameModel):
    """One state per person and calendar month (priority order of the state mapping)."""

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    month: Series[pa.DateTime] = pa.Field(description="First day of the month.")
    state: Series[str] = pa.Field(description="State code from the state mapping.")


class Cohort(pa.DataFrameModel):
    """Members of a cohort (a stock on a reference date/quarter, or an inflow cohort).

    One row per person and cohort; a frame may hold several cohorts (e.g. all yearly cohorts), so
    person_id is unique within each cohort. Besides the columns below, ``pipelines.derive``
    adds person characteristics (sex, origin, menapt, education, psychiatric_diagnosis,
    substance_abuse_treatment, has_children, children_placed, birth_year), ``age`` (reference
    year minus birth year), ``match_group``, ``kh_group`` and ``municipality_id`` at the
    reference date, ``kh_share_2y`` (share of the two years before the reference date spent in
    KH spells) and ``attachment`` (``low``/``high`` by config.states.attachment_share_threshold).
    """

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    cohort: Series[str] = pa.Field(
        description="Cohort label, e.g. '2018Q1', 'stock-2021-11-30' or 'inflow-2019'."
    )
    reference_date: Series[pa.DateTime] = pa.Field(
        description="Entry date into observation: the stock date; for a quarter stock the first "
        "day in a spell inside the quarter; for an inflow cohort the spell start."
    )
    period_start: Series[pa.DateTime] = pa.Field(description="First day of the cohort period.")
    period_end: Series[pa.DateTime] = pa.Field(description="Last day of the cohort period.")
    spell_id: Series[int] = pa.Field(ge=1)
    spell_start: Series[pa.DateTime]
    seniority_days: Series[int] = pa.Field(ge=0, description="Days in the spell at reference_date.")
    seniority_group: Series[str] = pa.Field(
        description="Code from data_schema.codes.SENIORITY_GROUPS."
    )
    prior_contact_3y: Series[bool] = pa.Field(
        description="Any day in the kontanthjælp system in the 3 years before spell_start."
    )
    left_truncated: Series[bool] = pa.Field(
        description="The spell may have been running before the extract window (see "
        "Spells.left_truncated); seniority is a lower bound."
    )

    @pa.dataframe_check(error="a person is listed twice in the same cohort")
    def unique_person_per_cohort(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["cohort", "person_id"], keep="first")


class Sequences(pa.DataFrameModel):
    """State of each cohort member in each half-year after the cohort reference date."""

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    cohort: Series[str]
    half_year: Series[int] = pa.Field(ge=1, description="1 = first half-year after entry.")
    state: Series[str]
    period_start: Series[pa.DateTime] = pa.Field(description="First day of the half-year.")
    period_end: Series[pa.DateTime] = pa.Field(description="Last day of the half-year.")


TIME_VARYING_COVARIATES: Final = (
    "cw_changes",
    "cw_changes_12m",
    "conv_3m",
    "conv_12m",
    "jobconv_3m",
    "jobconv_12m",
    "in_activation",
    "exempt",
    "exempt_illness",
    "paid_hours",
    "has_paid_hours",
    "paid_hours_lag1",
    "age",
)
"""Time-varying covariates of the start-stop frame (definitions in pipelines/derive/frames.py):
case-worker changes in the spell and in the last 12 months; conversations (all / job) in the last
3 and 12 months before the day; an activation offer running; an exemption (any / illness) running;
paid hours of the current month (and whether > 0) and of the previous month; age (calendar year
minus birth year)."""


class StartStop(pa.DataFrameModel):
    """Counting-process (start-stop) frame: one row per person and interval (tstart, tstop] within a
    spell, with time-varying covariates constant inside the interval; ``event`` is non-zero only on
    the last row of a spell that ends in an exit.

    ``pipelines.derive`` also writes ``cohort``, ``date_start``/``date_stop`` (calendar days
    covered by the row, inclusive), the :data:`TIME_VARYING_COVARIATES` and the member's baseline
    columns from the cohort (``entry_date``, ``seniority_entry_days``, ``seniority_group_entry``,
    ``age_entry``, characteristics, ``match_group``, ``municipality_id``, ...).
    """

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    spell_id: Series[int] = pa.Field(ge=1)
    tstart: Series[float] = pa.Field(ge=0, description="Days since spell start, interval start.")
    tstop: Series[float] = pa.Field(gt=0, description="Days since spell start, interval end.")
    event: Series[int] = pa.Field(
        isin=[0, *EXIT_CODES.values()], description="0 = censored/no exit, else EXIT_CODES."
    )

    @pa.dataframe_check(error="tstart must be below tstop")
    def start_lt_stop(cls, df: pd.DataFrame) -> pd.Series:
        return df["tstart"] < df["tstop"]


class PersonMonth(pa.DataFrameModel):
    """Person-month frame for discrete-time transition models: one row per cohort member and
    calendar month from the month of the reference date to the end of follow-up (also after leaving
    KH). Covariates (the :data:`TIME_VARYING_COVARIATES` except cw_changes and the current month's
    paid hours) are measured on the month's first day; baseline columns as in the start-stop frame."""

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    cohort: Series[str]
    month: Series[pa.DateTime] = pa.Field(description="First day of the month.")
    month_index: Series[int] = pa.Field(ge=1, description="1 = the month of the reference date.")
    state: Series[str] = pa.Field(description="State of the month (MonthlyStates rule).")
    next_state: Series[str] = pa.Field(
        nullable=True, description="State of the following month; missing after the extract end."
    )
    seniority_months: Series[float] = pa.Field(
        nullable=True,
        ge=0,
        description="Calendar months since the month the current KH spell started (0 in that "
        "month); missing when the month's state is not kh.",
    )

    @pa.dataframe_check(error="more than one row for the same person and month")
    def one_row_per_month(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["person_id", "month"], keep="first")

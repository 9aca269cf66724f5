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
        description="The spell was already running on the first day of the extract window, so "
        "its true start (and seniority) is only known to be no later than spell_start."
    )
    exit_state: Series[str] = pa.Field(
        nullable=True,
        description="State the person moved to after the spell (missing when ongoing).",
    )


class MonthlyStates(pa.DataFrameModel):
    """One state per person and calendar month (priority order of the state mapping)."""

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    month: Series[pa.DateTime] = pa.Field(description="First day of the month.")
    state: Series[str] = pa.Field(description="State code from the state mapping.")


class Cohort(pa.DataFrameModel):
    """Members of a cohort (a stock on a reference date/quarter, or an inflow cohort)."""

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN, unique=True)
    cohort: Series[str] = pa.Field(description="Cohort label, e.g. '2018Q1' or 'stock-2021-11-30'.")
    reference_date: Series[pa.DateTime] = pa.Field(description="Entry date into observation.")
    spell_id: Series[int] = pa.Field(ge=1)
    spell_start: Series[pa.DateTime]
    seniority_days: Series[int] = pa.Field(ge=0, description="Days in the spell at reference_date.")
    seniority_group: Series[str] = pa.Field(
        description="Code from data_schema.codes.SENIORITY_GROUPS."
    )
    prior_contact_3y: Series[bool] = pa.Field(
        description="Any day in the kontanthjælp system in the 3 years before spell_start."
    )


class Sequences(pa.DataFrameModel):
    """State of each cohort member in each half-year after the cohort reference date."""

    person_id: Series[str] = pa.Field(str_matches=PERSON_ID_PATTERN)
    cohort: Series[str]
    half_year: Series[int] = pa.Field(ge=1, description="1 = first half-year after entry.")
    state: Series[str]


class StartStop(pa.DataFrameModel):
    """Counting-process (start-stop) frame: one row per person and interval (tstart, tstop] within a
    spell, with time-varying covariates constant inside the interval; ``event`` is non-zero only on
    the last row of a spell that ends in an exit."""

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

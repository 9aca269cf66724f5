"""Derived analysis frames: spells, seniority, states, cohorts, sequences, person-period frames.

Public stage API (each takes DataFrames or Parquet paths plus the run configuration and returns a
DataFrame, or writes Parquet when given ``out=``):

* :func:`build_spells` - uninterrupted KH spells (gap rule), exit states, prior contact;
* :func:`seniority_at`, :func:`naive_case_seniority`, :func:`seniority_group` - anciennitet;
* :func:`monthly_states` - state per person and month;
* :func:`build_cohorts` - stock/quarter/inflow/yearly cohorts with characteristics;
* :func:`build_sequences` - half-year state sequences (hovedveje);
* :func:`build_start_stop`, :func:`build_person_month` - person-period frames;
* :func:`build_all` - the whole stage from the validated Parquet directory;
* :func:`write_seniority_validation` - rebuilt vs true spells on the synthetic register.

All computation runs in DuckDB (:class:`Engine`), out-of-core over Parquet at national scale.
"""

from pipelines.derive._common import Window, quarter_bounds, seniority_group
from pipelines.derive._engine import Engine
from pipelines.derive.build import OUTPUTS, benefit_shape, build_all
from pipelines.derive.cohorts import build_cohorts
from pipelines.derive.frames import build_person_month, build_start_stop
from pipelines.derive.sequences import build_sequences
from pipelines.derive.spells import (
    GAP_RULES,
    build_spells,
    gap_breaks,
    naive_case_seniority,
    seniority_at,
)
from pipelines.derive.states import monthly_states
from pipelines.derive.validation import (
    gap_rule_comparison,
    seniority_accuracy,
    seniority_errors,
    seniority_validation,
    spell_match,
    write_seniority_validation,
)

__all__ = [
    "GAP_RULES",
    "OUTPUTS",
    "Engine",
    "Window",
    "benefit_shape",
    "build_all",
    "build_cohorts",
    "build_person_month",
    "build_sequences",
    "build_spells",
    "build_start_stop",
    "gap_breaks",
    "gap_rule_comparison",
    "monthly_states",
    "naive_case_seniority",
    "quarter_bounds",
    "seniority_accuracy",
    "seniority_at",
    "seniority_errors",
    "seniority_group",
    "seniority_validation",
    "spell_match",
    "write_seniority_validation",
]

"""Parameters of the synthetic register: a frozen pydantic model loaded from ``defaults.yaml``.

Every number the generator uses lives here (nothing is hard-coded in the dynamics), so
``parameters.json`` in the ground truth is a complete description of the data-generating process.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.synthetic import design

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")
CALIBRATED_PATH = Path(__file__).with_name("calibrated.yaml")
K = len(design.SUBGROUPS)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _probs(v: list[float], n: int, what: str) -> list[float]:
    if len(v) != n:
        raise ValueError(f"{what}: expected {n} values, got {len(v)}")
    if any(x < 0 for x in v) or abs(sum(v) - 1) > 1e-6:
        raise ValueError(f"{what}: must be non-negative and sum to 1, got {v}")
    return v


def _per_group(v: list[float], what: str) -> list[float]:
    if len(v) != K:
        raise ValueError(f"{what}: expected one value per subgroup ({K}), got {len(v)}")
    return v


class TimeParams(_Frozen):
    start_year: int = Field(ge=1950)
    end_year: int
    record_from: str
    retirement_age: int = Field(ge=50, le=80)


class SubgroupParams(_Frozen):
    entry_share: dict[int, list[float]]
    female: list[float]
    origin: dict[str, list[float]]
    menapt_given_non_western: list[float]
    education: dict[str, list[float]]
    psychiatric_diagnosis: list[float]
    substance_abuse_treatment: list[float]
    has_children: list[float]
    children_placed_given_children: list[float]
    entry_age_mean: list[float]
    entry_age_sd: list[float]
    entry_age_range: tuple[int, int]
    municipality_tilt: dict[int, list[float]]
    newcomer_share: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> SubgroupParams:
        for y, v in self.entry_share.items():
            _probs(v, K, f"subgroups.entry_share.{y}")
        for name in (
            "female",
            "menapt_given_non_western",
            "psychiatric_diagnosis",
            "substance_abuse_treatment",
            "has_children",
            "children_placed_given_children",
            "entry_age_mean",
            "entry_age_sd",
        ):
            _per_group(getattr(self, name), f"subgroups.{name}")
        for table, levels in (("origin", design.ORIGIN), ("education", design.EDUCATION)):
            d = getattr(self, table)
            if set(d) != set(design.SUBGROUPS):
                raise ValueError(
                    f"subgroups.{table}: needs one row per subgroup {design.SUBGROUPS}"
                )
            for g, v in d.items():
                _probs(v, len(levels), f"subgroups.{table}.{g}")
        for m, v in self.municipality_tilt.items():
            _per_group(v, f"subgroups.municipality_tilt.{m}")
        return self


class HealthParams(_Frozen):
    onset: dict[str, float]
    recovery: dict[str, float]


class MunicipalityParams(_Frozen):
    trait_seed: int
    kh_weight_factor: dict[int, float] = Field(default_factory=dict)
    caseload_median: float = Field(gt=0)
    caseload_log_sd: float = Field(ge=0)
    caseload_range: tuple[float, float]
    caseload_fixed: dict[int, float]
    caseload_from_2017: dict[int, float]
    caseload_copenhagen_before_2017: float
    job_ready_caseload_factor: float = Field(gt=0)
    turnover_base: float = Field(ge=0, le=1)
    turnover_caseload_elasticity: float
    turnover_log_sd: float = Field(ge=0)
    turnover_fixed: dict[int, float]
    conversation_log_sd: float = Field(ge=0)
    conversation_fixed: dict[int, float]
    activation_sd: float = Field(ge=0)
    paid_hours_sd: float = Field(ge=0)
    job_effect_sd: float = Field(0.0, ge=0)
    fp_rf_effect_sd: float = Field(0.0, ge=0)
    conversion_dates: dict[int, str]
    conversion_gap_share: float = Field(ge=0, le=1)


class CaseworkerParams(_Frozen):
    transfer: dict[str, float]
    move_probability: float = Field(ge=0, le=1)
    same_region_share: float = Field(ge=0, le=1)


class ConversationParams(_Frozen):
    job_log_rate: float
    log_caseload: float
    poor_health: float
    exempt_other: float
    log_dur: float
    period: dict[str, float]
    other_rate: float = Field(ge=0)
    caseworker_missing: float = Field(ge=0, le=1)


class ActivationParams(_Frozen):
    start_intercept: float
    person_sd: float = Field(ge=0)
    age10: float
    period: dict[str, float]
    types: list[str]
    type_share: list[float]
    mean_months: list[float]
    chain_continue: float = Field(ge=0, le=1)
    passive_months: tuple[float, float]
    active_months: float = Field(ge=1)
    first_active_months: float = Field(ge=1)
    passive_shift: float
    mentor_support: dict[str, float]
    absence: dict[str, float]

    @model_validator(mode="after")
    def _check(self) -> ActivationParams:
        _probs(self.type_share, len(self.types), "activation.type_share")
        if self.types[-1] != "mentor":
            raise ValueError("activation.types: mentor must be the last type")
        if len(self.mean_months) != len(self.types) or min(self.mean_months) < 1:
            raise ValueError("activation.mean_months: one value >= 1 per offer type")
        return self


class PaidHoursParams(_Frozen):
    start_intercept: float
    poor_health: float
    activity_ready: float = 0.0
    edu_vocational: float
    edu_higher: float
    age10: float
    period: dict[str, float]
    continue_: float = Field(alias="continue", ge=0, le=1)
    hours: tuple[float, float]
    job_hours_full_time: tuple[float, float]
    job_hours_part_time: tuple[float, float]
    job_part_time_share: float
    fj_hours: tuple[float, float]
    edu_side_job_share: float
    edu_hours: tuple[float, float]
    wage_dkk: tuple[float, float]

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _separated(self) -> PaidHoursParams:
        if self.hours[1] >= self.job_hours_part_time[0]:
            raise ValueError("paid_hours.hours: løntimer on kh must stay below job hours")
        return self


class ExemptionParams(_Frozen):
    maternity_start: float
    maternity_months: tuple[int, int]
    other_start: float
    other_months: tuple[int, int]


class MatchGroupParams(_Frozen):
    intercept: float
    poor_health: float
    psych: float
    substance: float
    long_seniority: float
    subgroup: list[float]
    revisit_probability: float


class DatabrudParams(_Frozen):
    closure_probability: float
    closure_substance_factor: float
    closure_gap_days: tuple[int, int]
    move_gap_days: tuple[int, int]
    uddannelseshjaelp_from: str
    integrationsydelse_from: str
    sho_from: str

    @field_validator("closure_gap_days")
    @classmethod
    def _gap(cls, v: tuple[int, int]) -> tuple[int, int]:
        # a gap must never make a month predominantly non-kh, nor cover a full calendar month
        if not (1 <= v[0] <= v[1] <= 12):
            raise ValueError("closure gaps must be within 1..12 days")
        return v


class SynthParams(_Frozen):
    """All parameters of the generator."""

    version: int
    time: TimeParams
    sizes: dict[str, float]
    inflow_per_year: dict[int, float]
    stock_target: dict[int, float]
    subgroups: SubgroupParams
    health: HealthParams
    transitions: dict[str, dict[str, dict[str, float]]]
    municipalities: MunicipalityParams
    caseworkers: CaseworkerParams
    conversations: ConversationParams
    activation: ActivationParams
    paid_hours: PaidHoursParams
    exemptions: ExemptionParams
    match_group: MatchGroupParams
    databrud: DatabrudParams

    @field_validator("transitions")
    @classmethod
    def _transitions(cls, v: dict) -> dict:
        for origin, dests in v.items():
            if origin not in design.DESTINATIONS:
                raise ValueError(
                    f"transitions.{origin}: not a non-absorbing state {design.ORIGINS}"
                )
            for dest, coefs in dests.items():
                if dest not in design.DESTINATIONS[origin]:
                    raise ValueError(
                        f"transitions.{origin}.{dest}: not allowed from {origin}; "
                        f"allowed {design.DESTINATIONS[origin]}"
                    )
                bad = [c for c in coefs if c not in design.COVARIATE_INDEX]
                if bad:
                    raise ValueError(f"transitions.{origin}.{dest}: unknown covariates {bad}")
                if origin != "kh":
                    kh_only = [c for c in coefs if c in design.KH_ONLY and coefs[c] != 0]
                    if kh_only:
                        raise ValueError(
                            f"transitions.{origin}.{dest}: {kh_only} are only observable on kh"
                        )
        missing = [o for o in design.ORIGINS if o not in v]
        if missing:
            raise ValueError(f"transitions: missing origins {missing}")
        return v

    def scale(self, size: str | float) -> float:
        """Persons relative to the national population for a size name or a number."""
        if isinstance(size, str):
            if size not in self.sizes:
                raise ValueError(f"unknown size {size!r}; choose one of {sorted(self.sizes)}")
            return float(self.sizes[size])
        return float(size)

    def updated(self, changes: dict[str, Any]) -> SynthParams:
        """A copy with dotted-key changes, e.g. ``{"transitions.kh.job.intercept": -3.4}``."""
        raw = self.model_dump(by_alias=True)
        for dotted, value in changes.items():
            node = raw
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[_key(node, key)]
            node[_key(node, leaf, create=True)] = value
        return SynthParams.model_validate(raw)

    def to_json_dict(self) -> dict[str, Any]:
        return json.loads(self.model_dump_json(by_alias=True))


def _key(node: dict, key: str, create: bool = False) -> Any:
    if key in node:
        return key
    try:
        k = int(key)
    except ValueError:
        k = None
    if k is not None and (k in node or create):
        return k
    if create:
        return key
    raise KeyError(key)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def load_params(path: str | Path | None = None, calibrated: bool = True) -> SynthParams:
    """Load and validate parameters.

    Parameters
    ----------
    path
        A full parameter YAML; default the shipped ``defaults.yaml``.
    calibrated
        When ``path`` is None, overlay ``calibrated.yaml`` (written by the calibration) if present.
    """
    raw = yaml.safe_load(Path(path or DEFAULTS_PATH).read_text(encoding="utf-8"))
    if path is None and calibrated and CALIBRATED_PATH.exists():
        raw = _merge(raw, yaml.safe_load(CALIBRATED_PATH.read_text(encoding="utf-8")) or {})
    return SynthParams.model_validate(copy.deepcopy(raw))

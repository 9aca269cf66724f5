"""The effects study of issue 8: every estimator for every exposure and exit, side by side.

:func:`prepare_frame` builds the monthly analysis frame (exposures, treatments, confounders) from
the start-stop frame and the register's conversations and case-worker assignments;
:func:`estimate_effects` fits the estimators of :mod:`analysis.effects.estimators`;
:func:`policy_scenarios` runs the g-computation scenarios. Pure functions: frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis.effects.data import (
    add_departure_changes,
    add_match_group,
    add_monthly_conversations,
    add_spell_months,
    departure_changes,
    monthly_frame,
)
from analysis.effects.estimators import EffectResult, ExposureEffect
from analysis.effects.gformula import GFormula
from analysis.effects.sensitivity import cumulative_hazard_months, evalue, job_probability_change
from data_schema.codes import SENIORITY_GROUPS

__all__ = [
    "BASELINE",
    "CAUSES",
    "CONFOUNDERS",
    "EFFECT_GROUPS",
    "ESTIMATE_COLUMNS",
    "EXPOSURE_SPECS",
    "ExposureSpec",
    "caseload_multipliers",
    "estimate_effects",
    "estimates_by_group",
    "policy_scenarios",
    "prepare_frame",
]

CAUSES: dict[str, int] = {"job": 1, "fp": 2, "rf": 3}
"""Exits analysed (data_schema.derived.EXIT_CODES)."""

BASELINE: tuple[str, ...] = (
    "sex",
    "origin",
    "education",
    "psychiatric_diagnosis",
    "substance_abuse_treatment",
    "children_placed_b",
    "age10",
    "age10_sq",
    "age_ge55",
    "exempt_illness_entry",
    "log_seniority_entry",
    "period_2020",
    "activity_ready_entry",
)
"""Baseline covariates (measured at cohort entry; ``period_2020`` is calendar time, treated as
baseline because it is the same for everyone at a given follow-up month; ``activity_ready_entry``:
the match group of the case at entry, which decides the team and so the case worker's caseload).
The municipality enters as the strata of the Cox models (see :func:`estimate_effects`)."""

CONFOUNDERS: tuple[str, ...] = (
    "exempt_illness_any",
    "exempt_other_any",
    "in_activation_any",
    "has_paid_hours_any",
    "activity_ready",
)
"""Time-varying confounders: health proxy (illness exemption), other exemptions, activation,
paid hours - each on any day of the month - and the current match group (``activity_ready`` at
the end of the month: it decides the team and so the caseload, which drives case-worker changes
and conversations, and it is re-assessed from health and the person's latent profile, which
drive job exits; the match group at entry alone leaves this path open)."""


@dataclass(frozen=True)
class ExposureSpec:
    """An exposure: its column, the incident treatment the weights model, and its truth key."""

    name: str
    column: str
    treatment: str
    family: str
    past: str
    truth_key: str | None
    other: str


EXPOSURE_SPECS: tuple[ExposureSpec, ...] = (
    ExposureSpec(
        "caseworker_change_12m",
        "x_cw12",
        "new_cw_changes",
        "binomial",
        "lag_cw12",
        "cw_changes_12m",
        "x_conv3",
    ),
    ExposureSpec(
        "conversations_3m",
        "x_conv3",
        "new_conversations",
        "poisson",
        "lag_conv3",
        "conv_3m",
        "x_cw12",
    ),
)
"""Case-worker changes in the last 12 months (per change, capped at 4) and job conversations in
the last 3 months (per conversation, capped at 3)."""

_TIME_VARYING = (
    "cw_changes",
    "cw_changes_12m",
    "jobconv_3m",
    "jobconv_12m",
    "in_activation",
    "exempt",
    "exempt_illness",
    "has_paid_hours",
    "age",
)
_BASE_COLS = (
    "sex",
    "origin",
    "education",
    "psychiatric_diagnosis",
    "substance_abuse_treatment",
    "children_placed",
    "seniority_entry_days",
    "seniority_group_entry",
    "municipality_id",
    "match_group",
)


def prepare_frame(
    start_stop: pd.DataFrame,
    conversations: pd.DataFrame,
    assignments: pd.DataFrame,
    benefit_spells: pd.DataFrame,
    *,
    max_age: int = 63,
) -> pd.DataFrame:
    """Monthly analysis frame of one cohort's start-stop frame.

    Adds the exposures (``x_cw12`` = case-worker changes in the last 365 days capped at 4,
    ``x_conv3`` = job conversations dated in the month and the two calendar months before it,
    capped at 3 - the generator's ``conv_3m``; a 91-day window ending the day before misses the
    month's last day and reaches into month m-3 -, ``x_dep`` = departure changes in the last
    365 days), their incident treatments (``new_cw_changes``, ``new_conversations``), lagged
    exposures, the :data:`BASELINE` and :data:`CONFOUNDERS` (the current match group from
    ``benefit_spells``: ``person_id, start_date, match_group``).
    Persons older than ``max_age`` at entry are left out (they leave the population at 65, which
    the register shows as self-support).
    """
    ss = start_stop
    if "cohort" in ss.columns and ss["cohort"].nunique() > 1:
        raise ValueError("the start-stop frame holds several cohorts; pass one")
    m = monthly_frame(
        ss, baseline=[c for c in _BASE_COLS if c in ss.columns], time_varying=list(_TIME_VARYING)
    )
    m = add_monthly_conversations(m, conversations, window_months=3)
    m = add_match_group(m, benefit_spells)
    m = add_departure_changes(m, departure_changes(assignments))
    m["x_cw12"] = m["cw_changes_12m"].clip(upper=4).astype(float)
    m["x_conv3"] = m["conversations_window"].clip(upper=3).astype(float)
    m["x_dep"] = (
        np.minimum(m["departure_changes_12m"], m["cw_changes_12m"]).clip(upper=4).astype(float)
    )
    g = m.groupby("person_id", sort=False)
    m["lag_cw12"] = (
        g["x_cw12"].shift(1).fillna(m["cw_changes_12m_entry"].clip(upper=4)).astype(float)
    )
    m["lag_conv3"] = m["conversations_window_lag"].clip(upper=3).astype(float)
    m["exempt_other_any"] = m["exempt_any"] & ~m["exempt_illness_any"]
    age_entry = g["age"].transform("first")
    m = m[age_entry <= max_age].copy()
    m["age10"] = (m["age"] - 40) / 10.0
    m["age10_sq"] = m["age10"] ** 2
    m["age_ge55"] = m["age"] >= 55
    m["children_placed_b"] = m["children_placed"].fillna(False).astype(bool)
    m["log_seniority_entry"] = np.log1p(m["seniority_entry_days"].to_numpy(float) / 30.4)
    m["log_seniority"] = np.log1p(m["tstop"].to_numpy(float) / 30.4)
    m["period_2020"] = m["month"] >= pd.Timestamp("2020-01-01")
    mg = m["match_group"] if "match_group" in m.columns else pd.Series("", index=m.index)
    m["activity_ready_entry"] = mg.astype(str).eq("activity_ready").to_numpy()
    return add_spell_months(m.reset_index(drop=True))


ESTIMATE_COLUMNS: tuple[str, ...] = (
    "exposure",
    "outcome",
    "estimator",
    "estimate",
    "conf_low",
    "conf_high",
    "truth",
    "std_error",
    "n_events",
)
"""Columns of the table of :func:`estimate_effects` (hazard-ratio scale)."""


def _estimate_table(rows: list[dict]) -> pd.DataFrame:
    """The estimates table of ``rows``; without rows, empty with text and float columns."""
    if rows:
        return pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))
    text = ("exposure", "outcome", "estimator")
    return pd.DataFrame({c: pd.Series(dtype=str if c in text else float) for c in ESTIMATE_COLUMNS})


def estimate_effects(
    frame: pd.DataFrame,
    *,
    methods: Sequence[str] = ("naive", "adjusted", "msm_iptw", "departure_iv"),
    causes: Mapping[str, int] = CAUSES,
    exposures: Sequence[ExposureSpec] = EXPOSURE_SPECS,
    truncation: tuple[float, float] = (0.01, 0.99),
    truth: Mapping | None = None,
    conf_level: float = 0.95,
    baseline: Sequence[str] = BASELINE,
    confounders: Sequence[str] = CONFOUNDERS,
    strata: str | None = "municipality_id",
    clock: Literal["month", "day"] = "month",
) -> tuple[pd.DataFrame, dict[tuple[str, str, str], EffectResult]]:
    """Fit every method for every exposure and exit.

    ``clock``: the Cox time scale: ``month`` (default) = months of the spell
    (:func:`analysis.effects.data.add_spell_months`: exits happen at month ends, so the risk set
    of an exit is the persons in the same month of their spell); ``day`` = days since spell start
    (``tstart``/``tstop``). On the default synthetic register the day clock put both job-exit
    hazard ratios below the generator's truth (``benchmarks/results.json``, key ``effects``,
    ``paired_hr_differences``: the day-clock minus month-clock estimate on the same draws).

    ``baseline`` and ``confounders`` (time-varying; each exposure's ``other`` exposure is added)
    enter the adjusted model, the weight models and the MSM as the estimators describe.
    ``strata``: the Cox baseline hazard of every estimator except the naive one is stratified
    by this column (default the municipality of the case at entry: municipalities differ in
    caseloads, turnover, conversation practice and exit rates, so they confound both exposures;
    a stratum per municipality costs nothing per municipality, unlike ~100 indicator columns;
    ignored when the frame lacks the column).

    Returns the table :data:`ESTIMATE_COLUMNS` (hazard-ratio scale; ``truth`` from
    ``parameters.json["true_effects"]`` when ``truth`` is given) and the fitted results keyed by
    ``(exposure, outcome, estimator)``.
    The departure design is fitted for case-worker changes only.
    """
    rows, fitted = [], {}
    base = list(baseline)
    if clock == "month" and "spell_month" not in frame.columns:
        if not {"month", "value_day"} <= set(frame.columns):
            raise ValueError(
                "clock='month' needs spell_month or month and value_day; or clock='day'"
            )
        frame = add_spell_months(frame)
    duration, entry = (
        ("spell_month", "spell_month_start") if clock == "month" else ("tstop", "tstart")
    )
    strata = strata if strata is not None and strata in frame.columns else None
    for spec in exposures:
        # the treatment weights do not depend on the exit: fitted once per exposure
        weights = {
            m: ExposureEffect(m, conf_level=conf_level, truncation=truncation).treatment_weights(
                frame,
                treatment=spec.treatment,
                family=spec.family,
                baseline=base,
                confounders=[*confounders, spec.other],
                past_treatment=[spec.past],
            )
            for m in ("msm_iptw", "dr_msm")
            if m in methods
        }
        for outcome, cause in causes.items():
            if not (frame["event"] == cause).any():
                continue
            for method in methods:
                if method == "departure_iv" and spec.column != "x_cw12":
                    continue
                est = ExposureEffect(method, conf_level=conf_level, truncation=truncation)
                res = est.fit(
                    frame,
                    msm_weights=weights.get(method),
                    exposure=spec.column,
                    cause=cause,
                    baseline=base,
                    confounders=[*confounders, spec.other],
                    treatment=spec.treatment,
                    family=spec.family,
                    past_treatment=[spec.past],
                    instrument="x_dep",
                    strata=None if method == "naive" else strata,
                    duration=duration,
                    entry=entry,
                )
                lo, hi = res.conf_int()[["conf_low", "conf_high"]].iloc[0]
                t = np.nan
                if truth is not None and spec.truth_key in truth:
                    t = float(
                        truth[spec.truth_key]
                        .get(f"kh->{outcome}", {})
                        .get("hazard_ratio_approx", np.nan)
                    )
                rows.append(
                    {
                        "exposure": spec.name,
                        "outcome": outcome,
                        "estimator": method,
                        "estimate": res.hazard_ratio,
                        "conf_low": lo,
                        "conf_high": hi,
                        "truth": t,
                        "std_error": res.std_error,
                        "n_events": res.n_events,
                    }
                )
                fitted[(spec.name, outcome, method)] = res
    return _estimate_table(rows), fitted


def job_probability_table(
    frame: pd.DataFrame, estimates: pd.DataFrame, job_cause: int = 1
) -> pd.DataFrame:
    """``exposure, estimator, relative_change, conf_low, conf_high``: the implied relative change
    in the probability of a job within 12 months per unit of exposure held over the year
    (:func:`analysis.effects.sensitivity.job_probability_change` with the frame's 12-month
    cumulative job hazard)."""
    h = cumulative_hazard_months(frame, job_cause, 12)
    e = estimates[estimates["outcome"] == "job"]
    out = pd.DataFrame(
        {
            "exposure": e["exposure"].to_numpy(),
            "estimator": e["estimator"].to_numpy(),
            "relative_change": [job_probability_change(v, h) for v in e["estimate"]],
            "conf_low": [job_probability_change(v, h) for v in e["conf_low"]],
            "conf_high": [job_probability_change(v, h) for v in e["conf_high"]],
        }
    )
    return out


def evalue_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """``exposure, outcome, estimator, evalue_point, evalue_ci`` for every estimate."""
    ev = [evalue(r.estimate, r.conf_low, r.conf_high) for r in estimates.itertuples()]
    return pd.DataFrame(
        {
            "exposure": estimates["exposure"].to_numpy(),
            "outcome": estimates["outcome"].to_numpy(),
            "estimator": estimates["estimator"].to_numpy(),
            "evalue_point": [p for p, _ in ev],
            "evalue_ci": [c for _, c in ev],
        }
    )


def municipal_caseload(assignments: pd.DataFrame, date: pd.Timestamp) -> pd.Series:
    """Clients per case worker of each municipality on ``date`` (assignments open that day)."""
    a = assignments
    open_ = (a["start_date"] <= date) & (a["end_date"].isna() | (a["end_date"] >= date))
    g = a[open_].groupby("municipality_id")
    return (g["person_id"].nunique() / g["caseworker_id"].nunique()).rename("caseload")


def caseload_multipliers(
    frame: pd.DataFrame, caseload: pd.Series, target: float = 45.0, current: float = 100.0
) -> dict[str, float]:
    """Rate multipliers of case-worker changes and job conversations when the caseload goes from
    ``current`` to ``target``: Poisson regressions of the monthly counts on the log caseload of
    the person's municipality (the observed relation; slope per log unit, so the register's
    scale of caseloads does not matter), evaluated at ``log(target / current)``."""
    lc = np.log(frame["municipality_id"].map(caseload).to_numpy(float))
    ok = np.isfinite(lc)
    x = sm.add_constant(lc[ok])
    out = {}
    for name, col in (("x_cw12", "new_cw_changes"), ("x_conv3", "new_conversations")):
        y = frame[col].to_numpy(float)[ok]
        slope = sm.Poisson(y, x).fit(disp=0).params[1]
        out[name] = float(np.exp(slope * np.log(target / current)))
    return out


def policy_scenarios(
    frame: pd.DataFrame,
    *,
    caseload: pd.Series | None = None,
    cost_per_person_year: float = 250_000.0,
    horizon: int = 24,
    n_draws: int = 200,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Scenarios ``halve_changes``, ``min_4_conversations`` (at least one job conversation in
    every 3 months, i.e. 4 a year) and ``caseload_45`` (exposures scaled by
    :func:`caseload_multipliers`): extra persons in job and person-years saved on KH over
    ``horizon`` months, with intervals, and the saving in DKK at ``cost_per_person_year`` (an
    assumption). Returns the table and details (multipliers)."""
    scen = {
        "halve_changes": lambda f: f.assign(x_cw12=f["x_cw12"] * 0.5),
        "min_4_conversations": lambda f: f.assign(x_conv3=f["x_conv3"].clip(lower=1.0)),
    }
    details: dict = {}
    if caseload is not None and caseload.notna().any():
        mult = caseload_multipliers(frame, caseload)
        details["caseload_multipliers"] = mult
        scen["caseload_45"] = lambda f: f.assign(
            x_cw12=(f["x_cw12"] * mult["x_cw12"]).clip(upper=4),
            x_conv3=(f["x_conv3"] * mult["x_conv3"]).clip(upper=3),
        )
    covs = ["x_cw12", "x_conv3", *BASELINE, *CONFOUNDERS, "log_seniority"]
    res = GFormula(horizon=horizon, n_draws=n_draws, seed=seed).fit(
        frame,
        covariates=covs,
        scenarios=scen,
        advance={"tstop": 30.4},
        update=lambda f: f.assign(log_seniority=np.log1p(f["tstop"].to_numpy(float) / 30.4)),
    )
    t = res.table.copy()
    for c in ("", "_low", "_high"):
        t[f"saving_dkk{c}"] = t[f"person_years_saved{c}"] * cost_per_person_year
    details["n_persons"] = res.n_persons
    return t, details


def _target_group(frame: pd.DataFrame) -> pd.Series:
    """The study's target groups from register characteristics (first match wins): women of
    non-western origin, Danish-origin men treated for substance abuse, others with a psychiatric
    diagnosis, everyone else."""
    nw_women = frame["sex"].astype(str).eq("F") & frame["origin"].astype(str).eq("non_western")
    dk_men_sub = (
        frame["sex"].astype(str).eq("M")
        & frame["origin"].astype(str).eq("danish")
        & frame["substance_abuse_treatment"].astype(bool)
    )
    psych = frame["psychiatric_diagnosis"].astype(bool)
    out = np.select(
        [nw_women, dk_men_sub, psych],
        ["nonwestern_women", "danish_men_substance", "psychiatric_diagnosis"],
        "other",
    )
    return pd.Series(out, index=frame.index)


EFFECT_GROUPS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "seniority_at_entry": lambda f: pd.Series(
        pd.Categorical(
            f["seniority_group_entry"].astype(str),
            categories=[code for code, *_ in SENIORITY_GROUPS],
            ordered=True,
        ),
        index=f.index,
    ),
    "target_group": _target_group,
    "match_group_at_entry": lambda f: pd.Series(
        np.where(f["activity_ready_entry"], "activity_ready", "job_ready"), index=f.index
    ),
}
"""Person-level groupings (all measured at entry) for :func:`estimates_by_group`; a categorical
grouping is reported in the order of its categories (seniority from the shortest), others
alphabetically."""


def estimates_by_group(
    frame: pd.DataFrame,
    *,
    groups: Mapping[str, Callable[[pd.DataFrame], pd.Series]] = EFFECT_GROUPS,
    methods: Sequence[str] = ("adjusted",),
    exposures: Sequence[ExposureSpec] = EXPOSURE_SPECS,
    job_cause: int = 1,
    truth: Mapping | None = None,
    min_events: int = 10,
    baseline: Sequence[str] = BASELINE,
    confounders: Sequence[str] = CONFOUNDERS,
    strata: str | None = "municipality_id",
    clock: Literal["month", "day"] = "month",
) -> pd.DataFrame:
    """Job-exit hazard ratios of each exposure within groups of persons (effect modification).

    Fits :func:`estimate_effects` (same ``baseline``, ``confounders``, ``strata`` and ``clock``) on the
    months of each group (every grouping of ``groups`` labels persons by characteristics at
    entry). Groups with fewer than ``min_events`` job exits are skipped. Returns ``grouping,
    group`` and :data:`ESTIMATE_COLUMNS` (the synthetic register's parameter is the same in every
    group: it has no effect modification).
    """
    rows = []
    for grouping, label_of in groups.items():
        labels = label_of(frame)
        ordered = isinstance(labels.dtype, pd.CategoricalDtype)
        for group in labels.cat.categories if ordered else sorted(labels.unique()):
            sub = frame[(labels == group).to_numpy()]
            if sub.empty or int((sub["event"] == job_cause).sum()) < min_events:
                continue
            est, _ = estimate_effects(
                sub,
                methods=methods,
                causes={"job": job_cause},
                exposures=exposures,
                truth=truth,
                baseline=baseline,
                confounders=confounders,
                strata=strata,
                clock=clock,
            )
            rows.append(est.assign(grouping=grouping, group=group))
    columns = ["grouping", "group", *ESTIMATE_COLUMNS]
    if not rows:
        text = pd.Series(dtype=str)
        return _estimate_table([]).assign(grouping=text, group=text)[columns]
    return pd.concat(rows, ignore_index=True)[columns]

"""Effect estimators for time-varying exposures on cause-specific exits (issue 8).

All estimators fit a cause-specific Cox model (:class:`analysis.cox.CoxPH`) to the monthly
start-stop frame of :func:`analysis.effects.data.monthly_frame` (interval ``(entry, duration]``:
by default ``(tstart, tstop]`` in days since spell start; the effects study uses the months of
the spell, :func:`analysis.effects.data.add_spell_months`; delayed entry at the first month, exits
of other causes censored) with cluster-robust (person) standard errors, and report the hazard
ratio of the exposure:

``naive``
    the exposure alone;
``adjusted``
    the exposure plus baseline and time-varying confounders (conditional effect);
``msm_iptw``
    marginal structural Cox model: the exposure plus baseline covariates, weighted by stabilised
    inverse-probability-of-treatment weights of the monthly treatment process
    (:class:`analysis.effects.weights.StabilisedWeights`, truncated), robust SEs. Valid when the
    time-varying confounders are affected by past exposure, where the adjusted model is not;
``dr_msm``
    doubly robust weighted Cox: the adjusted model's terms (exposure, baseline and time-varying
    confounders: the outcome regression), weighted by stabilised IPT weights whose denominator
    model is flexible (the confounders, their pairwise products, a cubic in log seniority
    ``log_seniority`` and its products with the confounders) and cross-fitted
    (:data:`DR_FOLDS` folds of persons, out-of-fold probabilities). The exposure coefficient is
    consistent when either model is right: with a correct outcome model any weights that are
    functions of the conditioning variables leave its score unbiased; with correct weights the
    exposure is independent of the measured confounders in the weighted population, so a
    misspecified confounder part cannot confound it (on the hazard-ratio scale this second
    property is exact only without effect modification, because hazard ratios are not
    collapsible: the target is the conditional hazard ratio of the adjusted model);
``departure_iv``
    case-worker departures as a source of variation unrelated to the client: the count of
    changes caused by the old case worker leaving (``instrument``), with the remaining changes as a
    separate term, baseline covariates only. Under the assumption that departures are unrelated to
    the client's health, its hazard ratio is an unconfounded estimate of the effect of a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis._base import require_columns
from analysis.cox import CoxPH, CoxPHResult
from analysis.effects.weights import StabilisedWeights, WeightsResult

__all__ = ["METHODS", "MIN_LEVEL_EVENTS", "EffectResult", "ExposureEffect", "guard_covariates"]

Method = Literal["naive", "adjusted", "msm_iptw", "dr_msm", "departure_iv"]
METHODS: tuple[str, ...] = ("naive", "adjusted", "msm_iptw", "dr_msm", "departure_iv")

DR_FOLDS = 2
"""Cross-fitting folds of the doubly robust estimator's treatment models."""


@dataclass(frozen=True)
class EffectResult:
    """Hazard ratio of one exposure on one cause-specific exit by one estimator."""

    exposure: str
    cause: int
    method: str
    log_hr: float
    std_error: float
    conf_level: float
    n_persons: int
    n_events: int
    cox: CoxPHResult = field(repr=False)
    weights: WeightsResult | None = field(default=None, repr=False)
    design_notes: tuple[str, ...] = ()
    """Covariates pooled or left out by :func:`guard_covariates` (sparse levels, aliasing)."""

    @property
    def hazard_ratio(self) -> float:
        return float(np.exp(self.log_hr))

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald interval of the hazard ratio (robust SE, log scale) at level ``1 - alpha``
        (default: ``conf_level``): one row ``term, conf_low, conf_high``."""
        level = self.conf_level if alpha is None else 1.0 - alpha
        z = float(stats.norm.ppf(0.5 + level / 2))
        return pd.DataFrame(
            {
                "term": [self.exposure],
                "conf_low": [float(np.exp(self.log_hr - z * self.std_error))],
                "conf_high": [float(np.exp(self.log_hr + z * self.std_error))],
            }
        )

    @property
    def nobs(self) -> int:
        """Persons in the fitted Cox model."""
        return self.n_persons

    def glance(self) -> pd.DataFrame:
        """One row ``method, exposure, cause, nobs, n_events, loglik`` (``loglik`` of the
        outcome Cox model, weighted for the weighted estimators)."""
        row = {"method": self.method, "exposure": self.exposure, "cause": self.cause,
               "nobs": self.n_persons, "n_events": self.n_events,
               "loglik": float(self.cox.loglik)}  # fmt: skip
        return pd.DataFrame([row])

    def tidy(self) -> pd.DataFrame:
        """One row ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` with
        estimate and interval on the hazard-ratio scale (std_error of the log hazard ratio)."""
        z = self.log_hr / self.std_error
        lo, hi = self.conf_int()[["conf_low", "conf_high"]].iloc[0]
        return pd.DataFrame(
            {
                "term": [self.exposure],
                "estimate": [self.hazard_ratio],
                "std_error": [self.std_error],
                "statistic": [z],
                "p_value": [float(2 * stats.norm.sf(abs(z)))],
                "conf_low": [lo],
                "conf_high": [hi],
            }
        )

    def summary(self) -> str:
        lo, hi = self.conf_int()[["conf_low", "conf_high"]].iloc[0]
        text = (
            f"{self.method}: exposure {self.exposure}, cause {self.cause}: HR {self.hazard_ratio:.3f} "
            f"({lo:.3f}-{hi:.3f}), {self.n_events} events, {self.n_persons} persons\n"
            + self.cox.summary()
        )
        if self.design_notes:
            text += "\ncovariates changed: " + "; ".join(self.design_notes)
        if self.weights is not None:
            text += "\n" + self.weights.summary()
        return text


@dataclass(frozen=True)
class ExposureEffect:
    """Cause-specific hazard ratio of a time-varying exposure by one of :data:`METHODS`.

    Parameters
    ----------
    method
        ``naive``, ``adjusted``, ``msm_iptw`` or ``departure_iv`` (see the module docstring).
    conf_level
        Level of the Wald interval.
    truncation
        Percentiles at which the MSM weights are truncated.
    ties
        Tie handling of the Cox model.
    """

    method: Method = "adjusted"
    conf_level: float = 0.95
    truncation: tuple[float, float] = (0.01, 0.99)
    ties: Literal["efron", "breslow"] = "breslow"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")

    def treatment_weights(
        self,
        data: pd.DataFrame,
        *,
        treatment: str,
        family: Literal["binomial", "poisson"] = "binomial",
        baseline: Sequence[str] = (),
        confounders: Sequence[str] = (),
        past_treatment: Sequence[str] = (),
        id_col: str = "person_id",
    ) -> WeightsResult:
        """Stabilised IPT weights: numerator on baseline and past treatment, the denominator
        also on the time-varying confounders (``msm_iptw``); for ``dr_msm`` the denominator
        adds the flexible terms of :func:`flexible_terms` and both models are cross-fitted."""
        num = [*baseline, *past_treatment]
        den = [*num, *[c for c in confounders if c not in num]]
        folds = 1
        if self.method == "dr_msm":
            data, extra = flexible_terms(data, [c for c in confounders if c not in num])
            den, folds = [*den, *extra], DR_FOLDS
        return StabilisedWeights(family=family, truncation=self.truncation, folds=folds).fit(
            data,
            treatment=treatment,
            numerator=num,
            denominator=den,
            id_col=id_col,
        )

    def fit(
        self,
        data: pd.DataFrame,
        *,
        exposure: str,
        cause: int,
        baseline: Sequence[str] = (),
        confounders: Sequence[str] = (),
        treatment: str | None = None,
        family: Literal["binomial", "poisson"] = "binomial",
        past_treatment: Sequence[str] = (),
        instrument: str | None = None,
        duration: str = "tstop",
        entry: str = "tstart",
        event: str = "event",
        id_col: str = "person_id",
        strata: str | Sequence[str] | None = None,
        msm_weights: WeightsResult | None = None,
    ) -> EffectResult:
        """Fit the estimator.

        Parameters
        ----------
        data
            Monthly frame, one row per person and month (``id_col``, ``month_no``,
            ``entry``/``duration`` in days, ``event`` = exit code on the last month).
        exposure
            Exposure column (e.g. case-worker changes in the last 12 months).
        cause
            Exit code whose cause-specific hazard is modelled (others are censored).
        baseline
            Baseline covariates (adjusted, MSM numerator and outcome model, departure design).
        confounders
            Time-varying confounders (adjusted model; MSM denominator).
        treatment, family, past_treatment
            MSM only: the incident treatment of the month (``family`` binomial: any, poisson:
            count) and columns summarising past treatment (both weight models).
        instrument
            Departure design only: the part of ``exposure`` caused by case-worker departures.
        strata
            Strata of the Cox baseline hazard.
        msm_weights
            MSM only: weights already fitted on ``data`` (same rows) with the same treatment
            models; the weights do not depend on the outcome, so one fit serves every exit.
        """
        require_columns(data, [exposure, duration, entry, event, id_col], "effects data")
        # a copy of the columns the fit can use only (a whole monthly frame is copied once per
        # fit otherwise: most of the stage's memory traffic)
        strata_cols = [strata] if isinstance(strata, str) else list(strata or ())
        extra = [treatment, instrument, "log_seniority", "month_no"]
        use = [exposure, duration, entry, event, id_col, *baseline, *confounders,
               *past_treatment, *strata_cols, *(c for c in extra if c is not None)]  # fmt: skip
        frame = data[[c for c in dict.fromkeys(use) if c in data.columns]].copy()
        frame["_event"] = (frame[event].to_numpy() == cause).astype(np.int8)
        weights = None
        w_col = None
        if self.method == "naive":
            covs, term = [exposure], exposure
        elif self.method == "adjusted":
            covs, term = [exposure, *baseline, *confounders], exposure
        elif self.method in ("msm_iptw", "dr_msm"):
            if treatment is None:
                raise ValueError(f"{self.method} needs the incident 'treatment' column")
            weights = msm_weights or self.treatment_weights(
                frame,
                treatment=treatment,
                family=family,
                baseline=baseline,
                confounders=confounders,
                past_treatment=past_treatment,
                id_col=id_col,
            )
            if len(weights.truncated) != len(frame):
                raise ValueError("msm_weights were fitted on other rows than data")
            frame["_w"] = weights.truncated.to_numpy()
            w_col = "_w"
            covs, term = [exposure, *baseline], exposure
            if self.method == "dr_msm":  # the outcome regression: the adjusted model's terms
                covs = [exposure, *baseline, *confounders]
        else:  # departure_iv
            if instrument is None:
                raise ValueError("departure_iv needs the 'instrument' column")
            frame["_other_changes"] = np.maximum(
                frame[exposure].to_numpy(float) - frame[instrument].to_numpy(float), 0.0
            )
            covs, term = [instrument, "_other_changes", *baseline], instrument
        frame, covs, notes = guard_covariates(frame, covs, event="_event", keep=term)
        cox = CoxPH(ties=self.ties, conf_level=self.conf_level, variance="robust").fit(
            frame,
            duration=duration,
            entry=entry,
            event="_event",
            covariates=covs,
            weights=w_col,
            cluster=id_col,
            strata=strata,
        )
        i = list(cox.terms).index(term)
        return EffectResult(
            exposure=exposure,
            cause=int(cause),
            method=self.method,
            log_hr=float(cox.coef[i]),
            std_error=float(np.sqrt(cox.var[i, i])),
            conf_level=self.conf_level,
            n_persons=int(frame[id_col].nunique()),
            n_events=int(frame["_event"].sum()),
            cox=cox,
            weights=weights,
            design_notes=notes,
        )


def flexible_terms(
    data: pd.DataFrame, confounders: Sequence[str], seniority: str = "log_seniority"
) -> tuple[pd.DataFrame, list[str]]:
    """``data`` with the flexible terms of the ``dr_msm`` treatment model and their names:
    pairwise products of the (numeric or boolean) ``confounders``, the square and cube of
    ``seniority`` (log months since spell start) and its products with each confounder."""
    num = [
        c for c in confounders if pd.api.types.is_numeric_dtype(data[c]) or data[c].dtype == bool
    ]
    cols: dict[str, np.ndarray] = {}
    v = {c: data[c].to_numpy(float) for c in num}
    for i, a in enumerate(num):
        for b in num[i + 1 :]:
            cols[f"_x_{a}_{b}"] = v[a] * v[b]
    if seniority in data.columns:
        s = data[seniority].to_numpy(float)
        cols[f"_{seniority}"] = s
        cols[f"_{seniority}_2"] = s**2
        cols[f"_{seniority}_3"] = s**3
        for a in num:
            cols[f"_x_{seniority}_{a}"] = s * v[a]
    return data.assign(**cols), list(cols)


MIN_LEVEL_EVENTS = 3
"""Levels of a covariate with fewer events of the modelled cause than this are reported as sparse
(:func:`guard_covariates`)."""


def guard_covariates(
    frame: pd.DataFrame,
    covs: Sequence[str],
    *,
    event: str,
    keep: str,
    min_events: int = MIN_LEVEL_EVENTS,
) -> tuple[pd.DataFrame, list[str], tuple[str, ...]]:
    """The rows and covariates of the Cox model of ``frame`` that it can estimate, and the changes.

    A level (value) of a binary, text or categorical covariate without any event (``event`` = 1)
    has a Cox coefficient of minus infinity and a singular information matrix (a sparse match
    group, an education level or calendar period without exits on a small register). In that
    limit its rows carry no weight in any risk set, so the fit without those rows is the limit
    of the maximum-likelihood fit: such rows are left out. Leaving the covariate out instead
    would be wrong: a strong confounder (poor health: almost no job exits) is exactly such a
    covariate. Levels with 1 to ``min_events - 1`` events keep a finite estimate and are only
    reported. Then duplicates and constant columns are left out, and a covariate whose design
    columns are linear combinations of the columns before it (exposure first: pivot-free QR of the
    standardised design) is left out as aliased. ``keep`` (the exposure) is never changed: if it
    would be, ``ValueError``.

    Returns the rows kept, the covariates and notes such as
    ``"period_2020: 1520 rows at True left out (0 events)"``, ``"education: 2 events at unknown"``
    or ``"activity_ready: aliased"``.
    """
    from analysis._design import build_design
    from analysis.effects.weights import _independent_columns

    notes: list[str] = []
    covs = list(dict.fromkeys(covs))
    for c in covs:
        col = frame[c]
        if c == keep or col.nunique(dropna=False) <= 1:
            continue
        discrete = col.dtype == bool or not pd.api.types.is_numeric_dtype(col) or col.nunique() == 2
        if not discrete:
            continue
        counts = pd.Series(frame[event].to_numpy() == 1).groupby(col.to_numpy()).sum()
        for lev, n in counts[counts < min_events].items():
            at = (frame[c] == lev).to_numpy()
            if n == 0 and at.sum() < len(frame):
                notes.append(f"{c}: {int(at.sum())} rows at {lev} left out (0 events)")
                frame = frame[~at]
            elif n > 0:
                notes.append(f"{c}: {int(n)} events at {lev}")
    out = [c for c in covs if frame[c].nunique(dropna=False) > 1]
    if keep not in out:
        raise ValueError(f"the exposure {keep!r} is constant in the rows that can be fitted")
    design, x = build_design(frame, out)
    indep = set(_independent_columns(x).tolist())
    drop = {term.strip("`") for term, pos in design.assign if not set(pos) <= indep}
    if keep in drop:
        raise ValueError(f"the exposure {keep!r} is collinear with the covariates")
    notes += [f"{c}: aliased" for c in out if c in drop]
    return frame, [c for c in out if c not in drop], tuple(notes)

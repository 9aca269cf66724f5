"""Competing-risks regression: cause-specific Cox models and the Fine-Gray subdistribution model.

* :class:`CauseSpecificCox` -- a :class:`analysis.cox.CoxPH` fit in which only exits of type
  ``cause`` count as events (exits of other types censor). Same arguments and result as CoxPH.
* :class:`FineGray` -- proportional subdistribution hazards (Fine & Gray 1999). Subjects who
  exit by a competing cause stay in the risk set after their exit with a weight equal to the
  ratio of censoring survival probabilities ``W(t) / W(T_i)`` (inverse probability of censoring
  weighting). Baseline covariates only: the subdistribution hazard is not defined for
  time-varying covariates, so start-stop data with several rows per subject is refused.

Two reference implementations are reproduced, chosen by the data:

* no ``entry``, no ``weights``, ``ties="breslow"`` (the default) -- ``cmprsk::crr``: censoring
  distribution ``W(t) = G(t-)`` from the Kaplan-Meier estimate of censoring (with ``crr``'s
  tie convention: subjects failing at a censoring time are in the censoring risk set), and
  standard errors from ``crr``'s sandwich, which adds to each subject's score residual the
  term for estimating ``G`` (Fine & Gray 1999, section 4);
* otherwise (``entry=`` for delayed entry, case ``weights=``, or Efron ties) --
  ``survival::finegray`` followed by ``coxph(Surv(fgstart, fgstop, fgstatus) ~ ...,
  weights = fgwt, cluster = id)``: ``G`` is a left-truncated Kaplan-Meier of censoring with
  events before censorings at tied times, times the reverse-time Kaplan-Meier of the entry
  times when entry is delayed (``finegray``'s truncation correction). The default standard
  errors are then the robust sandwich clustered by subject (``coxph(..., cluster=id)`` on the
  expanded data): it treats the weights as known, so it omits the (usually small) term for
  estimating ``G``; ``se="model"`` gives the model-based inverse information instead.

The weighted risk sets are computed directly (no data expansion), see
:mod:`analysis._coxengine`, so 150,000 subjects take seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis._base import MissingPolicy, VarianceOption, require_columns, wald_table
from analysis._coxengine import (
    CoxProblem,
    Moments,
    build_index,
    invert_information,
    sandwich,
)
from analysis._design import Design
from analysis.cox import CoxPH, CoxPHResult, Ties, prepare_data

__all__ = ["CauseSpecificCox", "FineGray", "FineGrayResult"]


def cause_codes(values: pd.Series, column: str) -> np.ndarray:
    """Integer cause codes (0 = censored, k > 0 = exit type) with a clear error otherwise."""
    if values.dtype == bool:
        return values.to_numpy().astype(np.int64)
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if np.any(np.isnan(num)) or np.any(num < 0) or np.any(num != np.round(num)):
        shown = sorted(pd.unique(values).tolist(), key=str)[:10]
        raise ValueError(
            f"event column '{column}' must hold 0 (censored) and positive integer cause codes, "
            f"found {shown}"
        )
    return num.astype(np.int64)


def _check_cause(codes: np.ndarray, cause: int, column: str) -> None:
    if not np.any(codes == cause):
        present = sorted(set(np.unique(codes).tolist()) - {0})
        raise ValueError(f"cause {cause} does not occur in column '{column}' (causes: {present})")


# --------------------------------------------------------------------------------------------
# cause-specific Cox
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CauseSpecificCox:
    """Cause-specific Cox model for exit type ``cause`` (other exits censor).

    Parameters are those of :class:`analysis.cox.CoxPH`; ``fit`` takes the same arguments,
    with ``event`` holding 0 for censored and an integer cause code otherwise. The result is a
    :class:`analysis.cox.CoxPHResult` with ``cause`` set.
    """

    cause: int
    ties: Ties = "efron"
    conf_level: float = 0.95
    variance: VarianceOption = "auto"
    max_iter: int = 50
    tol: float = 1e-12
    missing: MissingPolicy = "drop"

    def fit(
        self,
        data: pd.DataFrame,
        *,
        duration: str,
        event: str,
        covariates: str | Sequence[str],
        entry: str | None = None,
        weights: str | None = None,
        strata: str | Sequence[str] | None = None,
        cluster: str | None = None,
    ) -> CoxPHResult:
        """Fit; see :meth:`analysis.cox.CoxPH.fit` for the arguments."""
        cox = CoxPH(
            self.ties, self.conf_level, self.variance, self.max_iter, self.tol, self.missing
        )
        prep = prepare_data(
            data,
            duration=duration,
            event=event,
            covariates=covariates,
            entry=entry,
            weights=weights,
            strata=strata,
            cluster=cluster,
            missing=self.missing,
        )
        codes = cause_codes(prep.event_raw, event)
        _check_cause(codes, self.cause, event)
        strata_label = (
            None if strata is None else strata if isinstance(strata, str) else ", ".join(strata)
        )
        labels = {"duration": duration, "event": event, "entry": entry, "weights": weights}
        labels |= {"strata": strata_label, "cluster": cluster}
        return replace(cox.fit_prepared(prep, codes == self.cause, labels), cause=self.cause)


# --------------------------------------------------------------------------------------------
# censoring weights
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _StepWeight:
    """Left-continuous step function ``W(t) = value at the last cut point < t`` (1 before)."""

    cut: np.ndarray
    value: np.ndarray

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return np.concatenate([[1.0], self.value])[np.searchsorted(self.cut, t, side="left")]


def _crr_weights(stop: np.ndarray, censored: np.ndarray) -> _StepWeight:
    """cmprsk::crr: Kaplan-Meier of censoring (risk set = all with time >= t), W(t) = G(t-)."""
    ct, dc = np.unique(stop[censored], return_counts=True)
    n_risk = stop.shape[0] - np.searchsorted(np.sort(stop), ct, side="left")
    return _StepWeight(ct, np.cumprod(1.0 - dc / n_risk))


def _finegray_weights(start: np.ndarray | None, stop: np.ndarray, censored: np.ndarray):
    """survival::finegray weights: left-truncated KM of censoring on ranked times with events
    placed before censorings at the same time, times (if entry is delayed) the reverse-time KM
    of the entry times. Reproduces finegray()'s ``ctime``/``cprob`` construction."""
    delay = start is not None and bool(np.any(start > stop.min()))
    if start is None:
        low = stop.min()
        start = np.full(stop.shape[0], 0.0 if low > 0 else 2 * low - 1)
    utime = np.unique(np.concatenate([start, stop]))
    s_rank = np.searchsorted(utime, start) + 1
    e_rank = np.searchsorted(utime, stop) + 1
    e_shift = np.where(censored, e_rank, e_rank - 0.2)
    ct, dc = np.unique(e_rank[censored], return_counts=True)
    n_risk = (e_shift.shape[0] - np.searchsorted(np.sort(e_shift), ct, side="left")) - (
        s_rank.shape[0] - np.searchsorted(np.sort(s_rank), ct, side="left")
    )
    g = np.cumprod(1.0 - dc / n_risk)
    if not delay:
        return _StepWeight(utime[ct - 1], g)
    dtime, de = np.unique(s_rank, return_counts=True)
    n_entry = np.searchsorted(np.sort(s_rank), dtime, side="right") - np.searchsorted(
        np.sort(e_rank), dtime, side="right"
    )
    factor = 1.0 - de / n_entry
    # dprob[k] = prod over entry times after dtime[k]
    after = np.concatenate([np.cumprod(factor[::-1])[::-1][1:], [1.0]])
    cut = np.union1d(dtime, ct)
    h = after[np.searchsorted(dtime, cut, side="right") - 1]
    gc = np.concatenate([[1.0], g])[np.searchsorted(ct, cut, side="right")]
    return _StepWeight(utime[cut - 1], h * gc)


# --------------------------------------------------------------------------------------------
# Fine-Gray
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FineGray:
    """Fine-Gray proportional subdistribution hazards model for exit type ``cause``.

    Parameters
    ----------
    cause
        Cause code of interest in the ``event`` column (0 = censored).
    ties
        ``"breslow"`` (as cmprsk::crr) or ``"efron"`` (then the finegray/coxph reference).
    conf_level
        Level of the Wald intervals.
    se
        ``"auto"``: crr's variance in crr mode (no entry, no weights, Breslow), otherwise the
        subject-clustered robust sandwich; ``"robust"``, ``"model"`` (inverse information) or
        ``"crr"`` (crr mode only) to choose explicitly.
    """

    cause: int
    ties: Ties = "breslow"
    conf_level: float = 0.95
    se: Literal["auto", "crr", "robust", "model"] = "auto"
    max_iter: int = 50
    tol: float = 1e-12

    def __post_init__(self) -> None:
        if self.ties not in ("efron", "breslow"):
            raise ValueError(f"ties must be 'efron' or 'breslow', not {self.ties!r}")
        if self.se not in ("auto", "crr", "robust", "model"):
            raise ValueError(f"se must be 'auto', 'crr', 'robust' or 'model', not {self.se!r}")

    def fit(
        self,
        data: pd.DataFrame,
        *,
        duration: str,
        event: str,
        covariates: str | Sequence[str],
        entry: str | None = None,
        weights: str | None = None,
        id: str | None = None,
    ) -> FineGrayResult:
        """Fit the model (one row per subject, baseline covariates).

        Parameters
        ----------
        data
            One row per subject.
        duration
            Time of exit or censoring (e.g. days since spell start).
        event
            0 = censored, positive integers = exit type.
        covariates
            List of columns or a right-hand-side formula (baseline values).
        entry
            Delayed-entry time (left truncation): the subject is observed from ``entry``.
        weights
            Positive case weights.
        id
            Optional subject id column; if given, it must be unique (several rows per subject
            -- start-stop data with time-varying covariates -- are refused).
        """
        if id is not None:
            require_columns(data, [id])
            dup = data[id].duplicated()
            if dup.any():
                raise ValueError(
                    f"FineGray takes one row per subject with baseline covariates, but id "
                    f"column '{id}' has {int(dup.sum())} repeated value(s): the subdistribution "
                    "hazard is not defined for time-varying covariates. Collapse to one row per "
                    "subject (baseline values, entry = first start, duration = last stop), or "
                    "use CauseSpecificCox for time-varying covariates."
                )
        prep = prepare_data(
            data,
            duration=duration,
            event=event,
            covariates=covariates,
            entry=entry,
            weights=weights,
            what="data",
        )
        codes = cause_codes(prep.event_raw, event)
        _check_cause(codes, self.cause, event)
        is_cause = codes == self.cause
        censored = codes == 0
        competing = ~is_cause & ~censored
        crr_mode = entry is None and weights is None and self.ties == "breslow"
        se = self.se
        if se == "auto":
            se = "crr" if crr_mode else "robust"
        if se == "crr" and not crr_mode:
            raise ValueError(
                "se='crr' needs the cmprsk::crr setting: no entry, no weights, ties='breslow'"
            )
        stop, start = prep.stop, prep.start
        if crr_mode:
            weight_fn = _crr_weights(stop, censored)
        else:
            weight_fn = _finegray_weights(start, stop, censored)
        index = build_index(stop, is_cause, start, None, self.ties)
        ext = np.flatnonzero(competing)
        index = index.with_extension(ext, 1.0 / weight_fn(stop[ext]), weight_fn(index.group_time))
        w = prep.weights
        means = (w @ prep.x) / w.sum()
        problem = CoxProblem(index, prep.x - means, w, stop, start)
        mom, info, iterations, converged, loglik_null = problem.fit(
            max_iter=self.max_iter, tol=self.tol
        )
        naive_var = invert_information(info)
        if se == "model":
            var = naive_var
        else:
            resid = problem.score_residuals(mom) * w[:, None]
            if se == "crr":
                resid = resid + _crr_censoring_term(
                    problem, mom, weight_fn, stop, censored, competing
                )
            var = sandwich(naive_var, resid, None)
        return FineGrayResult(
            terms=prep.design.columns,
            coef=mom.beta.copy(),
            var=var,
            naive_var=naive_var,
            se_type=se,
            reference="cmprsk::crr" if crr_mode else "survival::finegray + coxph",
            loglik=mom.loglik,
            loglik_null=loglik_null,
            n=int(stop.shape[0]),
            n_events=int(is_cause.sum()),
            n_competing=int(competing.sum()),
            n_censored=int(censored.sum()),
            n_dropped=prep.n_missing,
            cause=self.cause,
            ties=self.ties,
            conf_level=self.conf_level,
            iterations=iterations,
            converged=converged,
            means=means,
            event_time=index.group_time.copy(),
            baseline_hazard=mom.alpha * np.exp(-means @ mom.beta),
            design=prep.design,
        )


def _crr_censoring_term(
    problem: CoxProblem,
    mom: Moments,
    weight_fn: _StepWeight,
    stop: np.ndarray,
    censored: np.ndarray,
    competing: np.ndarray,
) -> np.ndarray:
    """cmprsk::crr's psi_i: the contribution of estimating the censoring distribution to each
    subject's score (crrvv in crr.f), ``psi_i = int q(u) / Y(u) dM^c_i(u)`` with
    ``q(u) = sum_{t_g >= u} d_g W_g / S0_g sum_{j comp, T_j < u} r_j (x_j - xbar_g) / W(T_j)``.
    All sums are cumulative sums over sorted times (crr loops over subject pairs)."""
    idx = problem.idx
    n, p = problem.x.shape
    wr = problem.w * mom.r
    s0 = problem.group_sums(wr)
    s1 = problem.group_sums(wr[:, None] * problem.x)
    xbar = s1 / s0[:, None]
    d = idx.deaths_per_group
    gw = idx.group_ext_weight
    a = d * gw / s0
    # reverse cumulative sums over groups with t_g >= u (padded with a zero row)
    ra = np.concatenate([np.cumsum(a[::-1])[::-1], [0.0]])
    rb = np.vstack([np.cumsum((a[:, None] * xbar)[::-1], axis=0)[::-1], np.zeros((1, p))])
    # competing-event subjects, sorted by time: cumulative r x / W(T) and r / W(T)
    comp = np.flatnonzero(competing)
    comp = comp[np.argsort(stop[comp], kind="stable")]
    comp_t = stop[comp]
    rw = mom.r[comp] / weight_fn(comp_t)
    c0 = np.concatenate([[0.0], np.cumsum(rw)])
    c1 = np.vstack([np.zeros((1, p)), np.cumsum(rw[:, None] * problem.x[comp], axis=0)])
    cu, dnc = np.unique(stop[censored], return_counts=True)
    k = np.searchsorted(idx.group_time, cu, side="left")
    j = np.searchsorted(comp_t, cu, side="left")
    q = c1[j] * ra[k][:, None] - c0[j][:, None] * rb[k]
    y = n - np.searchsorted(np.sort(stop), cu, side="left")
    cum = np.vstack([np.zeros((1, p)), np.cumsum(q * (dnc / y**2)[:, None], axis=0)])
    psi = -cum[np.searchsorted(cu, stop, side="right")]
    cens = np.flatnonzero(censored)
    pos = np.searchsorted(cu, stop[cens])
    psi[cens] += q[pos] / y[pos][:, None]
    return psi


@dataclass(frozen=True)
class FineGrayResult:
    """Fitted Fine-Gray model (immutable).

    Attributes
    ----------
    coef
        Log subdistribution hazard ratios.
    var, naive_var, se_type
        Variance used for inference (``se_type``: "crr", "robust" or "model") and the
        model-based inverse information.
    reference
        The R computation this fit reproduces.
    loglik, loglik_null
        Weighted log pseudo partial likelihood at the estimate and at zero.
    n, n_events, n_competing, n_censored, n_dropped
        Subjects used; exits of the cause of interest; competing exits; censored; rows dropped
        for missing values.
    event_time, baseline_hazard
        Distinct event times of the cause and the jumps of the baseline cumulative
        subdistribution hazard there (at covariates = 0; crr's ``bfitj``).
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    var: np.ndarray
    naive_var: np.ndarray
    se_type: str
    reference: str
    loglik: float
    loglik_null: float
    n: int
    n_events: int
    n_competing: int
    n_censored: int
    n_dropped: int
    cause: int
    ties: str
    conf_level: float
    iterations: int
    converged: bool
    means: np.ndarray
    event_time: np.ndarray
    baseline_hazard: np.ndarray
    design: Design = field(repr=False)

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(np.diag(self.var))

    def tidy(self, exponentiate: bool = False) -> pd.DataFrame:
        """``term, estimate, std_error, statistic, p_value, conf_low, conf_high``; estimate =
        log subdistribution hazard ratio (exponentiated, with its interval, if asked)."""
        table = wald_table(self.terms, self.coef, self.std_error, self.conf_level)
        if exponentiate:
            for col in ("estimate", "conf_low", "conf_high"):
                table[col] = np.exp(table[col])
        return table

    def subdistribution_hazard_ratios(self) -> pd.DataFrame:
        t = self.tidy(exponentiate=True)
        return t[["term", "estimate", "conf_low", "conf_high"]].rename(
            columns={"estimate": "subdistribution_hazard_ratio"}
        )

    def baseline_cumulative_hazard(self) -> pd.DataFrame:
        """``time, cumulative_hazard``: baseline cumulative subdistribution hazard at
        covariates = 0 (cumulative sum of crr's ``bfitj``)."""
        return pd.DataFrame(
            {"time": self.event_time, "cumulative_hazard": np.cumsum(self.baseline_hazard)}
        )

    def predict_cif(
        self, newdata: pd.DataFrame, times: Sequence[float] | np.ndarray | None = None
    ) -> pd.DataFrame:
        """Cumulative incidence of the cause for covariate profiles, as ``cmprsk::predict.crr``:
        ``F(t | x) = 1 - exp(-Lambda0(t) exp(x'beta))``.

        Returns
        -------
        DataFrame ``row, time, cumulative_hazard, estimate`` (estimate = cumulative incidence,
        a probability; ``time`` defaults to the distinct event times of the cause).
        """
        x = self.design.matrix(newdata)
        lp = x @ self.coef
        t_grid = self.event_time if times is None else np.asarray(times, dtype=float)
        pos = np.searchsorted(self.event_time, t_grid, side="right")
        cum0 = np.concatenate([[0.0], np.cumsum(self.baseline_hazard)])[pos]
        cum = np.exp(lp)[:, None] * cum0[None, :]
        out = pd.DataFrame(
            {
                "row": np.repeat(np.arange(len(lp)), t_grid.shape[0]),
                "time": np.tile(t_grid, len(lp)),
                "cumulative_hazard": cum.ravel(),
            }
        )
        out["estimate"] = 1.0 - np.exp(-out["cumulative_hazard"])
        return out

    def summary(self) -> str:
        """Text like ``summary(crr)``."""
        z = self.coef / self.std_error
        table = pd.DataFrame(
            {
                "coef": self.coef,
                "exp(coef)": np.exp(self.coef),
                "se(coef)": self.std_error,
                "z": z,
                "p-value": 2 * stats.norm.sf(np.abs(z)),
            },
            index=list(self.terms),
        )
        lr = 2 * (self.loglik - self.loglik_null)
        return "\n".join(
            [
                f"Fine-Gray competing-risks regression, cause {self.cause} ({self.ties} ties; "
                f"as {self.reference}; SE: {self.se_type})",
                "",
                table.to_string(float_format=lambda v: f"{v:.5g}"),
                "",
                f"Num. events of the cause = {self.n_events}, competing = {self.n_competing}, "
                f"censored = {self.n_censored}, n = {self.n}",
                f"Pseudo log-likelihood = {self.loglik:.6g}, pseudo likelihood ratio test = "
                f"{lr:.4g} on {len(self.coef)} df",
                "" if self.converged else "WARNING: did not converge",
            ]
        ).rstrip()

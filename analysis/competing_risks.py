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
  estimating ``G``; ``variance="model"`` gives the model-based inverse information instead.

Censoring strata (``strata=``): ``G`` is estimated separately in each stratum, as
``crr(..., cengroup=)`` in crr mode and ``finegray(Surv(...) ~ . + strata(s))`` otherwise; the
subdistribution hazard model itself is not stratified. Predicted cumulative incidences
(:meth:`FineGrayResult.predict_cif`) come with R ``survfit.coxph``'s standard errors and
log-scale confidence intervals. Missing values: :func:`analysis._base.drop_missing`.

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

from analysis._base import (
    MissingPolicy,
    RegressionResultMixin,
    VarianceOption,
    drop_missing,
    frozen,
)
from analysis._coxengine import (
    CoxProblem,
    Moments,
    RiskSetIndex,
    _bincount_cols,
    build_index,
    invert_information,
    sandwich,
)
from analysis._design import Design, formula_variables
from analysis.cox import CoxPH, CoxPHResult, PreparedData, Ties, prepare_data

__all__ = ["CauseSpecificCox", "FineGray", "FineGrayResult"]


def cause_codes(values: pd.Series, column: str) -> np.ndarray:
    """Integer cause codes (0 = censored, k > 0 = exit type) with a clear error otherwise."""
    if values.dtype == bool:
        flags: np.ndarray = values.to_numpy()
        return flags.astype(np.int64)
    num: np.ndarray = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
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


def _finegray_weights(
    start: np.ndarray | None, stop: np.ndarray, censored: np.ndarray, delay: bool | None = None
) -> _StepWeight:
    """survival::finegray weights: left-truncated KM of censoring on ranked times with events
    placed before censorings at the same time, times (if entry is delayed) the reverse-time KM
    of the entry times. Reproduces finegray()'s ``ctime``/``cprob`` construction (one censoring
    stratum; ``delay`` = whether entry is delayed anywhere in the data, as finegray decides it
    once for all strata)."""
    if delay is None:
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


@dataclass(frozen=True)
class _CensoringModel:
    """Censoring distribution of each censoring stratum and the resulting IPC weights.

    ``weight_fns[k]`` is ``W_k(t)`` of stratum ``k``; ``group_weight[k, g]`` the weight factor
    ``W_k(t_g)`` of a competing exit of stratum ``k`` at the ``g``-th event time of the cause
    (0 where that exit is not in the risk set); ``stratum`` the stratum code of every row.
    """

    weight_fns: tuple[_StepWeight, ...]
    group_weight: np.ndarray
    stratum: np.ndarray
    levels: tuple[str, ...] | None
    interval_ends: tuple[np.ndarray, ...] | None = None

    def risk_stop(self, stop: np.ndarray, competing: np.ndarray) -> np.ndarray:
        """Times up to which rows are in the risk set with weight 1: finegray keeps a
        competing exit at risk up to the end of the interval between censoring times that
        holds its exit time (its first, unweighted piece), whether or not that interval holds
        an event of the cause; the extension starts there. Unchanged in crr mode."""
        if self.interval_ends is None:
            return stop
        out = stop.copy()
        for k, ends in enumerate(self.interval_ends):
            rows = np.flatnonzero(competing & (self.stratum == k))
            out[rows] = ends[np.searchsorted(ends, stop[rows], side="left")]
        return out


def _censoring_model(
    crr_mode: bool,
    start: np.ndarray | None,
    stop: np.ndarray,
    censored: np.ndarray,
    is_cause: np.ndarray,
    group_time: np.ndarray,
    stratum: np.ndarray,
    levels: tuple[str, ...] | None,
) -> _CensoringModel:
    """Weights ``W_k`` per censoring stratum (crr's ``cengroup`` / finegray's ``strata()``).

    finegray + coxph: a competing exit of stratum ``k`` stays in the risk set only up to the
    last time observed in its stratum, and only in the intervals between censoring times of
    ``k`` that contain an event of the cause in ``k`` (finegray expands only those; with one
    stratum this changes nothing). crr keeps it at risk at every later event time.
    """
    n_strata = int(stratum.max()) + 1 if stratum.size else 1
    delay = start is not None and bool(np.any(start > stop.min()))
    fns, rows, ends = [], [], []
    for k in range(n_strata):
        sel = stratum == k
        if crr_mode:
            fn = _crr_weights(stop[sel], censored[sel])
            # crr sets G_k to 0 after the last time of stratum k
            rows.append(np.where(group_time <= stop[sel].max(), fn(group_time), 0.0))
        else:
            times_k = stop[sel & is_cause]
            if times_k.size == 0:
                name = levels[k] if levels else str(k)
                raise ValueError(
                    f"censoring stratum '{name}' has no exit of the cause: survival::finegray "
                    "drops such a stratum; merge it with another one or drop its rows"
                )
            fn = _finegray_weights(
                None if start is None else start[sel], stop[sel], censored[sel], delay
            )
            ct2 = np.concatenate([fn.cut, [stop[sel].max()]])
            kept = np.union1d([0], np.searchsorted(ct2, times_k, side="left"))
            at_risk = np.isin(np.searchsorted(ct2, group_time, side="left"), kept)
            rows.append(np.where(at_risk, fn(group_time), 0.0))
            ends.append(ct2)
        fns.append(fn)
    return _CensoringModel(
        tuple(fns), np.vstack(rows), stratum, levels, None if crr_mode else tuple(ends)
    )


class _ExtendedProblem(CoxProblem):
    """Cox problem in which competing exits stay at risk after their exit with the weight
    ``W_k(t) / W_k(T_i)`` of their censoring stratum ``k`` (several IPCW extensions, one per
    stratum, added to the ordinary risk sets of :class:`analysis._coxengine.CoxProblem`)."""

    def __init__(
        self,
        index: RiskSetIndex,
        x: np.ndarray,
        weights: np.ndarray,
        stop: np.ndarray,
        start: np.ndarray | None,
        ext_rows: np.ndarray,
        ext_scale: np.ndarray,
        cens: _CensoringModel,
    ) -> None:
        super().__init__(index, x, weights, stop, start)
        keep = index.hi[ext_rows] < index.n_groups  # exits after the last event add nothing
        self.ext_rows = ext_rows[keep]
        self.ext_scale = ext_scale[keep]
        self.ext_hi = index.hi[self.ext_rows]
        self.group_weight = cens.group_weight
        ext_stratum = cens.stratum[self.ext_rows]
        self.ext_members = [
            np.flatnonzero(ext_stratum == k) for k in range(cens.group_weight.shape[0])
        ]

    def group_sums(self, v: np.ndarray) -> np.ndarray:
        one = v.ndim == 1
        v2 = v[:, None] if one else v
        out = super().group_sums(v2)
        g = self.idx.n_groups
        scaled = v2[self.ext_rows] * self.ext_scale[:, None]
        for k, members in enumerate(self.ext_members):
            if members.size:
                e = _bincount_cols(self.ext_hi[members], scaled[members], g + 1)[:g]
                out += self.group_weight[k][:, None] * np.cumsum(e, axis=0)
        return out[:, 0] if one else out

    def row_sums(self, f: np.ndarray) -> np.ndarray:
        one = f.ndim == 1
        f2 = f[:, None] if one else f
        out = super().row_sums(f2)
        for k, members in enumerate(self.ext_members):
            if members.size:
                fw = f2 * self.group_weight[k][:, None]
                tail = np.vstack([np.cumsum(fw[::-1], axis=0)[::-1], np.zeros((1, f2.shape[1]))])
                rows = self.ext_rows[members]
                out[rows] += self.ext_scale[members, None] * tail[self.ext_hi[members]]
        return out[:, 0] if one else out


# --------------------------------------------------------------------------------------------
# Fine-Gray
# --------------------------------------------------------------------------------------------
FineGrayVariance = Literal["auto", "crr", "robust", "model"]


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
        Level of the Wald intervals and of the predicted cumulative incidences.
    variance
        ``"auto"``: crr's variance in crr mode (no entry, no weights, Breslow), otherwise the
        subject-clustered robust sandwich; ``"robust"``, ``"model"`` (inverse information) or
        ``"crr"`` (crr mode only; with censoring strata crr's ``cengroup`` variance) to choose
        explicitly.
    reference
        ``"auto"``: crr mode when there is no entry, no weights and Breslow ties, the
        finegray + coxph computation otherwise; ``"finegray"`` forces the latter (its censoring
        weights differ from crr's at tied times); ``"crr"`` insists on crr mode.
    missing
        ``"drop"`` (default, R's ``na.omit``): rows with a missing value in a used column are
        dropped and counted in ``n_missing``; ``"raise"``: refuse them.
    """

    cause: int
    ties: Ties = "breslow"
    conf_level: float = 0.95
    variance: FineGrayVariance = "auto"
    reference: Literal["auto", "crr", "finegray"] = "auto"
    missing: MissingPolicy = "drop"
    max_iter: int = 50
    tol: float = 1e-12

    def __post_init__(self) -> None:
        if self.ties not in ("efron", "breslow"):
            raise ValueError(f"ties must be 'efron' or 'breslow', not {self.ties!r}")
        if self.variance not in ("auto", "crr", "robust", "model"):
            raise ValueError(
                f"variance must be 'auto', 'crr', 'robust' or 'model', not {self.variance!r}"
            )
        if self.reference not in ("auto", "crr", "finegray"):
            raise ValueError(
                f"reference must be 'auto', 'crr' or 'finegray', not {self.reference!r}"
            )
        if self.missing not in ("drop", "raise"):
            raise ValueError(f"missing must be 'drop' or 'raise', not {self.missing!r}")

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
        strata
            Column(s) defining censoring strata: the censoring distribution ``G`` is estimated
            separately in each stratum (R ``finegray(Surv(...) ~ . + strata(s))``, cmprsk
            ``crr(cengroup=)``); the subdistribution hazard model itself is not stratified.
        id
            Optional subject id column; if given, it must be unique (several rows per subject
            -- start-stop data with time-varying covariates -- are refused).
        """
        strata_cols = (
            [] if strata is None else [strata] if isinstance(strata, str) else list(strata)
        )
        used = [duration, event, entry, weights, id, *strata_cols, *formula_variables(covariates)]
        data, n_missing = drop_missing(data, used, self.missing)
        if id is not None:
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
            strata=strata_cols or None,
            what="data",
        )
        codes = cause_codes(prep.event_raw, event)
        _check_cause(codes, self.cause, event)
        crr_setting = entry is None and weights is None and self.ties == "breslow"
        if self.reference == "crr" and not crr_setting:
            raise ValueError(
                "reference='crr' needs the cmprsk::crr setting: no entry, no weights, "
                "ties='breslow'"
            )
        crr_mode = crr_setting and self.reference != "finegray"
        variance = self.variance
        if variance == "auto":
            variance = "crr" if crr_mode else "robust"
        if variance == "crr" and not crr_mode:
            raise ValueError(
                "variance='crr' needs the cmprsk::crr setting: no entry, no weights, ties='breslow'"
            )
        return self._fit_prepared(prep, codes, crr_mode, variance, n_missing)

    def _fit_prepared(
        self,
        prep: PreparedData,
        codes: np.ndarray,
        crr_mode: bool,
        variance: str,
        n_missing: int,
    ) -> FineGrayResult:
        is_cause = codes == self.cause
        censored = codes == 0
        competing = ~is_cause & ~censored
        stop, start, w = prep.stop, prep.start, prep.weights
        stratum = np.zeros(stop.shape[0], np.int64) if prep.strata is None else prep.strata
        group_time = np.unique(stop[is_cause])  # the event groups of the index below
        cens = _censoring_model(
            crr_mode, start, stop, censored, is_cause, group_time, stratum, prep.strata_levels
        )
        index = build_index(cens.risk_stop(stop, competing), is_cause, start, None, self.ties)
        ext = np.flatnonzero(competing)
        ext_w = np.empty(ext.shape[0])
        for k, fn in enumerate(cens.weight_fns):
            sel = stratum[ext] == k
            ext_w[sel] = fn(stop[ext[sel]])
        means = (w @ prep.x) / w.sum()
        problem = _ExtendedProblem(index, prep.x - means, w, stop, start, ext, 1.0 / ext_w, cens)
        mom, info, iterations, converged, loglik_null = problem.fit(
            max_iter=self.max_iter, tol=self.tol
        )
        naive_var = invert_information(info)
        if variance == "model":
            var = naive_var
        else:
            resid = problem.score_residuals(mom) * w[:, None]
            if variance == "crr":
                resid = resid + _crr_censoring_term(problem, mom, cens, stop, censored, competing)
            var = sandwich(naive_var, resid, None)
        dg = index.death_group
        return FineGrayResult(
            terms=prep.design.columns,
            coef=frozen(mom.beta),
            var=frozen(var),
            naive_var=frozen(naive_var),
            variance=variance,
            reference="cmprsk::crr" if crr_mode else "survival::finegray + coxph",
            loglik=float(mom.loglik),
            loglik_null=float(loglik_null),
            nobs=int(stop.shape[0]),
            n_events=int(is_cause.sum()),
            n_competing=int(competing.sum()),
            n_censored=int(censored.sum()),
            n_missing=int(n_missing),  # drop_missing ran first: prepare_data drops nothing
            cause=self.cause,
            ties=self.ties,
            conf_level=self.conf_level,
            iterations=iterations,
            converged=converged,
            censoring_strata=cens.levels,
            means=frozen(means),
            event_time=frozen(index.group_time),
            baseline_hazard=frozen(mom.alpha * np.exp(-means @ mom.beta)),
            hazard_centered=frozen(mom.alpha),
            hazard_var=frozen(np.bincount(dg, mom.h**2 / problem.slot_weight, index.n_groups)),
            hazard_xbar=frozen(_bincount_cols(dg, mom.h[:, None] * mom.xbar, index.n_groups)),
            design=prep.design,
        )


def _crr_censoring_term(
    problem: _ExtendedProblem,
    mom: Moments,
    cens: _CensoringModel,
    stop: np.ndarray,
    censored: np.ndarray,
    competing: np.ndarray,
) -> np.ndarray:
    """cmprsk::crr's psi_i: the contribution of estimating the censoring distribution to each
    subject's score (crrvv in crr.f, cmprsk 2.2-11). For subject ``i`` of censoring stratum
    ``k``, ``psi_i = int q_k(u) / Y_k(u) dM^c_i(u)`` with ``Y_k`` the number at risk and ``M^c_i``
    the censoring martingale in stratum ``k``, and ``q_k(u) = sum_{t_g >= u} d_gk / S0_g
    sum_{j comp in k, T_j < u} r_j (x_j - xbar_g) W_k(t_g) / W_k(T_j)`` (``d_gk`` = events of the
    cause of stratum ``k`` at ``t_g``). All sums are cumulative sums over sorted times (crr
    loops over subject pairs)."""
    idx = problem.idx
    n, p = problem.x.shape
    wr = problem.w * mom.r
    s0 = problem.group_sums(wr)
    xbar = problem.group_sums(wr[:, None] * problem.x) / s0[:, None]
    death_stratum = cens.stratum[idx.death_rows]
    psi = np.zeros((n, p))
    for k, weight_fn in enumerate(cens.weight_fns):
        in_k = cens.stratum == k
        cu, dnc = np.unique(stop[censored & in_k], return_counts=True)
        if cu.size == 0:
            continue
        d_k = np.bincount(idx.death_group[death_stratum == k], minlength=idx.n_groups)
        a = d_k * cens.group_weight[k] / s0
        # reverse cumulative sums over groups with t_g >= u (padded with a zero row)
        ra = np.concatenate([np.cumsum(a[::-1])[::-1], [0.0]])
        rb = np.vstack([np.cumsum((a[:, None] * xbar)[::-1], axis=0)[::-1], np.zeros((1, p))])
        # competing exits of the stratum, sorted by time: cumulative r x / W_k and r / W_k
        comp = np.flatnonzero(competing & in_k)
        comp = comp[np.argsort(stop[comp], kind="stable")]
        comp_t = stop[comp]
        rw = mom.r[comp] / weight_fn(comp_t)
        c0 = np.concatenate([[0.0], np.cumsum(rw)])
        c1 = np.vstack([np.zeros((1, p)), np.cumsum(rw[:, None] * problem.x[comp], axis=0)])
        g = np.searchsorted(idx.group_time, cu, side="left")
        j = np.searchsorted(comp_t, cu, side="left")
        q = c1[j] * ra[g][:, None] - c0[j][:, None] * rb[g]
        stop_k = np.sort(stop[in_k])
        y = stop_k.shape[0] - np.searchsorted(stop_k, cu, side="left")
        cum = np.vstack([np.zeros((1, p)), np.cumsum(q * (dnc / y**2)[:, None], axis=0)])
        members = np.flatnonzero(in_k)
        psi[members] = -cum[np.searchsorted(cu, stop[members], side="right")]
        cens_rows = np.flatnonzero(censored & in_k)
        pos = np.searchsorted(cu, stop[cens_rows])
        psi[cens_rows] += q[pos] / y[pos][:, None]
    return psi


ConfType = Literal["log", "plain"]


@dataclass(frozen=True)
class FineGrayResult(RegressionResultMixin):
    """Fitted Fine-Gray model (immutable, read-only arrays).

    Follows the regression-result protocol of :mod:`analysis._base` (``params``,
    ``cov_params()``, ``std_error``, ``conf_int()``, ``aic``/``bic`` of the log pseudo partial
    likelihood with BIC's ``n`` = number of events of the cause, ``tidy()``, ``glance()``).

    Attributes
    ----------
    coef
        Log subdistribution hazard ratios.
    var, naive_var, variance
        Variance used for inference (``variance``: "crr", "robust" or "model") and the
        model-based inverse information.
    reference
        The R computation this fit reproduces.
    loglik, loglik_null
        Weighted log pseudo partial likelihood at the estimate and at zero.
    nobs, n_events, n_competing, n_censored, n_missing
        Subjects used; exits of the cause of interest; competing exits; censored; rows dropped
        for missing values.
    censoring_strata
        Levels of the censoring strata (``None``: one censoring distribution).
    event_time, baseline_hazard
        Distinct event times of the cause and the jumps of the baseline cumulative
        subdistribution hazard there (at covariates = 0; crr's ``bfitj``).
    hazard_centered, hazard_var, hazard_xbar
        At the covariate means: hazard jumps, their variance terms and the jumps of the
        hazard-weighted mean covariate (R ``agsurv``'s ``hazard``, ``varhaz``, ``xbar``), for
        the standard errors of predicted cumulative incidences.
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    var: np.ndarray
    naive_var: np.ndarray
    variance: str
    reference: str
    loglik: float
    loglik_null: float
    nobs: int
    n_events: int
    n_competing: int
    n_censored: int
    n_missing: int
    cause: int
    ties: str
    conf_level: float
    iterations: int
    converged: bool
    censoring_strata: tuple[str, ...] | None
    means: np.ndarray
    event_time: np.ndarray
    baseline_hazard: np.ndarray
    hazard_centered: np.ndarray = field(repr=False)
    hazard_var: np.ndarray = field(repr=False)
    hazard_xbar: np.ndarray = field(repr=False)
    design: Design = field(repr=False)

    @property
    def bic_n(self) -> int:
        """Events of the cause (R's ``BIC.coxph`` convention for partial likelihoods)."""
        return self.n_events

    def glance_extra(self) -> dict[str, float | int | str | None]:
        return {
            "n_events": self.n_events,
            "n_competing": self.n_competing,
            "n_censored": self.n_censored,
            "n_missing": self.n_missing,
            "variance": self.variance,
            "reference": self.reference,
        }

    def tidy(self, conf_level: float | None = None, exponentiate: bool = False) -> pd.DataFrame:
        """``term, estimate, std_error, statistic, p_value, conf_low, conf_high``; estimate =
        log subdistribution hazard ratio (exponentiated, with its interval, if asked)."""
        table = super().tidy(conf_level)
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
        self,
        newdata: pd.DataFrame,
        times: Sequence[float] | np.ndarray | None = None,
        conf_type: ConfType = "log",
    ) -> pd.DataFrame:
        """Cumulative incidence of the cause for covariate profiles, with SE and CI.

        ``F(t | x) = 1 - S(t | x)``, ``S(t | x) = exp(-Lambda0(t) exp(x'beta))`` (as
        ``cmprsk::predict.crr`` and ``survfit(coxph(... weights = fgwt), newdata)``). The
        standard error is R ``survfit.coxph``'s: ``var Lambda(t | x) = exp(2 x'beta) [sum_t
        varhaz + d(t)' V d(t)]``, ``d(t) = sum_{s <= t} (xbar_s - x) dLambda0(s)`` with ``V``
        the coefficient variance used for inference (``var``); ``std_error = S sd Lambda``.

        Parameters
        ----------
        newdata
            Covariate profiles (the columns of the model formula).
        times
            Time points (unit of ``duration``); default the distinct event times of the cause.
        conf_type
            ``"log"`` (R's default: ``S exp(+- z sd Lambda)``, upper limit of ``S`` at most 1)
            or ``"plain"`` (``S +- z std_error``, clipped to [0, 1]); limits of ``F`` are one
            minus those of ``S``.

        Returns
        -------
        DataFrame ``row, time, cumulative_hazard, estimate, std_error, conf_low, conf_high``
        (estimate = cumulative incidence, a probability; ``row`` = position in ``newdata``).
        """
        if conf_type not in ("log", "plain"):
            raise ValueError(f"conf_type must be 'log' or 'plain', not {conf_type!r}")
        xc = self.design.matrix(newdata) - self.means
        risk = np.exp(xc @ self.coef)
        t_grid = self.event_time if times is None else np.asarray(times, dtype=float)
        pos = np.searchsorted(self.event_time, t_grid, side="right")
        cum0 = np.concatenate([[0.0], np.cumsum(self.hazard_centered)])[pos]
        var0 = np.concatenate([[0.0], np.cumsum(self.hazard_var)])[pos]
        p = xc.shape[1]
        xsum = np.vstack([np.zeros((1, p)), np.cumsum(self.hazard_xbar, axis=0)])[pos]
        d = xsum[None, :, :] - cum0[None, :, None] * xc[:, None, :]
        quad = np.einsum("mtp,pq,mtq->mt", d, self.var, d)
        cum = risk[:, None] * cum0[None, :]
        sd = risk[:, None] * np.sqrt(var0[None, :] + quad)
        surv = np.exp(-cum)
        se = surv * sd
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        if conf_type == "log":
            low_s, high_s = surv * np.exp(-z * sd), np.minimum(1.0, surv * np.exp(z * sd))
        else:
            low_s, high_s = np.clip(surv - z * se, 0, 1), np.clip(surv + z * se, 0, 1)
        return pd.DataFrame(
            {
                "row": np.repeat(np.arange(len(risk)), t_grid.shape[0]),
                "time": np.tile(t_grid, len(risk)),
                "cumulative_hazard": cum.ravel(),
                "estimate": 1.0 - surv.ravel(),
                "std_error": se.ravel(),
                "conf_low": 1.0 - high_s.ravel(),
                "conf_high": 1.0 - low_s.ravel(),
            }
        )

    def summary(self) -> str:
        """Text like ``summary(crr)``."""
        table = self.tidy().set_index("term")
        table = pd.DataFrame(
            {
                "coef": table["estimate"],
                "exp(coef)": np.exp(table["estimate"]),
                "se(coef)": table["std_error"],
                "z": table["statistic"],
                "p-value": table["p_value"],
            }
        )
        table.index.name = None
        lr = 2 * (self.loglik - self.loglik_null)
        strata = (
            f", censoring strata: {', '.join(self.censoring_strata)}"
            if self.censoring_strata
            else ""
        )
        return "\n".join(
            [
                f"Fine-Gray competing-risks regression, cause {self.cause} ({self.ties} ties; "
                f"as {self.reference}; variance: {self.variance}{strata})",
                "",
                table.to_string(float_format=lambda v: f"{v:.5g}"),
                "",
                f"Num. events of the cause = {self.n_events}, competing = {self.n_competing}, "
                f"censored = {self.n_censored}, n = {self.nobs}"
                + (f", dropped (missing) = {self.n_missing}" if self.n_missing else ""),
                f"Pseudo log-likelihood = {self.loglik:.6g}, pseudo likelihood ratio test = "
                f"{lr:.4g} on {len(self.coef)} df",
                "" if self.converged else "WARNING: did not converge",
            ]
        ).rstrip()

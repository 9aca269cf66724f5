"""Kaplan-Meier survival and Aalen-Johansen cumulative incidence, matching R ``survival::survfit``.

Data are one row per person (or per person-interval with ``entry``): the person is at risk on
``(entry, duration]`` (left truncation / delayed entry: a stock sample enters observation with
seniority ``entry`` already accrued) and has ``event`` at ``duration`` (0 = censored). Time is in
whatever unit the columns are in (days in this project). Ties are exact: all events at the same
time are processed together (no jitter, no ``timefix`` rounding - times are compared as given).

Conventions follow :mod:`analysis._base`: estimators store options; ``fit`` returns a frozen result
with ``tidy()`` (fresh DataFrame), ``summary()`` (text) and ``evaluate(times)`` (the right-continuous
step function at given times). Plots live in :mod:`analysis.plots` (:func:`~analysis.plots.plot_survival`,
:func:`~analysis.plots.plot_cumulative_incidence`) with a disclosure guard (:func:`analysis._curves.guard_curve`).

Why own code rather than lifelines (0.30): its ``KaplanMeierFitter`` is right for the estimate and
its log-log Greenwood CI (tested against it in ``tests/analysis``), but it has no IJ (robust)
variance for non-integer weights and no groups in one call. Its ``AalenJohansenFitter`` agrees with
this estimator (estimate and variance) only when there are no tied times: with ties it warns and
*jitters* the times at random, so the result is not the Aalen-Johansen estimate of the data and
depends on a seed; its ``confidence_interval_`` columns are labelled the wrong way round
(``AJ_estimate_upper_0.95`` holds the lower limit); its CI transform differs from survfit's; and it
has no delayed entry, weights or Gray test.

Inference on Kaplan-Meier curves, as R survival 3.5-3: :meth:`KaplanMeierResult.quantile` /
``median`` (``quantile.survfit``), :meth:`KaplanMeierResult.rmst` and ``table``
(``summary(fit, rmean=)$table``), :func:`logrank_test` (``survdiff``, G-rho, strata), robust IJ
standard errors with ``cluster=`` / ``id=``. Missing values: every estimator and test takes
``missing="drop"`` (R's ``na.omit``; the count is ``n_missing`` on the result) or ``"raise"``.

Weights: ``KaplanMeier`` with ``variance="greenwood"`` uses weighted counts in Greenwood's formula
(frequency-weight reading, as R does for integer weights); the IJ standard errors (robust KM,
Aalen-Johansen, multi-state) are ``sqrt(sum_i w_i^2 U_i^2)`` as R computes them, i.e. weights are
read as sampling weights. For frequency weights in the Aalen-Johansen, expand rows instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis import _curves
from analysis._aj_engine import aalen_johansen
from analysis._base import MissingPolicy, TestResult, drop_missing
from analysis._curves import guard_curve

__all__ = [
    "AalenJohansen",
    "AalenJohansenResult",
    "CumulativeIncidenceCurves",
    "GrayTestResult",
    "KaplanMeier",
    "KaplanMeierResult",
    "LogRankResult",
    "SurvivalCurve",
    "gray_test",
    "guard_curve",
    "logrank_test",
]

ConfType = Literal["log", "log-log", "plain"]
Variance = Literal["auto", "greenwood", "robust"]

_KM_COLUMNS = ["time", "estimate", "std_error", "conf_low", "conf_high", "n_risk", "n_event"]
_AJ_COLUMNS = [
    "cause", "time", "estimate", "std_error", "conf_low", "conf_high", "n_risk", "n_event",
]  # fmt: skip


def _frozen(*arrays: np.ndarray) -> None:
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan-Meier curve of one group, one entry per distinct event time.

    Attributes
    ----------
    time
        Distinct event times (time unit of the input).
    estimate
        S(t) just after each time.
    std_error
        Standard error of S(t) on the probability scale (R: ``summary(fit)$std.err``, i.e.
        ``surv * std.err`` for Greenwood; the IJ standard error itself for the robust variance).
    conf_low, conf_high
        Pointwise confidence limits.
    n_risk, n_event
        Numbers of rows (persons) at risk / with an event at each time (unweighted).
    weighted_n_risk, weighted_n_event
        Weighted versions (R's ``n.risk``, ``n.event`` when weights are given).
    first_time, last_time
        Smallest and largest exit time of the group's rows, events or not (R's first and last
        ``survfit`` time; the quantiles and the restricted mean need them).
    """

    time: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    weighted_n_risk: np.ndarray
    weighted_n_event: np.ndarray
    first_time: float = np.nan
    last_time: float = np.nan

    def __post_init__(self) -> None:
        _frozen(*(getattr(self, f) for f in self.__dataclass_fields__))


_QUANTILE_TOL = float(np.sqrt(np.finfo(float).eps))  # R's tolerance for S(t) == 1 - p


def _findq(x: np.ndarray, y: np.ndarray, probs: np.ndarray, xmax: float) -> np.ndarray:
    """Times at which the step function ``y`` (= 1 - S, at times ``x``) reaches ``probs``.

    R's ``survival:::findq``: the first time with ``y >= p``; where ``y`` equals ``p`` (within
    ``sqrt(eps)``) on a flat step, the midpoint of that step (the step from the last point to
    ``xmax``, the last follow-up time, for the last one); missing (NaN) values of ``y`` are
    skipped; NaN where ``p`` is not reached.
    """
    out = np.full(probs.shape, np.nan)
    finite = ~np.isnan(y)
    if not finite.any() or np.nanmax(y) < probs.min():
        return out
    # drop repeated values (keep the first; all NaN count as one value), as R's duplicated()
    _, first = np.unique(np.where(finite, y, np.inf), return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    n = y.size
    ok = ~np.isnan(y)
    order = np.flatnonzero(ok)[np.argsort(y[ok], kind="stable")]  # approx() sorts the knots
    knots = y[order]

    def index(shift: float) -> np.ndarray:
        # approx(y + shift, 1:n, p, method = "constant", f = 1): smallest knot >= p, NaN outside
        v = knots + shift
        k = np.searchsorted(v, probs, side="left")
        inside = (k < v.size) & (probs >= v[0])
        res = np.full(probs.shape, -1)
        res[inside] = order[k[inside]]
        return res

    i1, i2 = index(_QUANTILE_TOL), index(-_QUANTILE_TOL)
    both = (i1 >= 0) & (i2 >= 0)
    out[both] = (x[i1[both]] + x[i2[both]]) / 2
    out[probs == 0] = x[0]
    if not np.isnan(y[n - 1]):
        last = np.abs(probs - y[n - 1]) < _QUANTILE_TOL  # overrides p = 0 too, as in R
        out[last] = np.where(i1[last] >= 0, (x[i1[last]] + xmax) / 2, np.nan)
    return out


def _first_below_half(y: np.ndarray, x: np.ndarray) -> float:
    """print.survfit's median of a curve ``y`` at times ``x`` (R's ``minmin``): first time with
    ``y <= 0.5``; if ``y`` is 0.5 there (within ``sqrt(eps)``), the midpoint to the next drop."""
    keep = ~np.isnan(y) & (y < 0.5 + _QUANTILE_TOL)
    if not keep.any():
        return np.nan
    x, y = x[keep], y[keep]
    lower = np.flatnonzero(y < y[0])
    if abs(y[0] - 0.5) < _QUANTILE_TOL and lower.size:
        return float((x[0] + x[lower[0]]) / 2)
    return float(x[0])


def _rmst(c: SurvivalCurve, tau: float, start: float) -> tuple[float, float]:
    """Restricted mean ``int_start^tau S(t) dt`` and its SE as R's ``survmean``: variance
    ``sum_j A_j^2 d_j / (n_j (n_j - d_j))`` over event times ``t_j <= tau``, with
    ``A_j = int_{t_j}^tau S`` and weighted counts ``n_j, d_j`` (0 where ``n_j = d_j``)."""
    keep = c.time <= tau
    t, s = c.time[keep], c.estimate[keep]
    n, d = c.weighted_n_risk[keep], c.weighted_n_event[keep]
    grid = np.concatenate([[start], t, [tau]])
    height = np.concatenate([[1.0], s])
    rect = np.diff(grid) * height
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    after = np.cumsum(rect[::-1])[::-1][1:]  # area after each event time, up to tau
    return float(rect.sum() + start), float(np.sqrt(np.sum(after**2 * hh)))


@dataclass(frozen=True)
class KaplanMeierResult:
    """Result of :meth:`KaplanMeier.fit`: one :class:`SurvivalCurve` per group.

    ``n`` holds the number of rows used per group and ``n_missing`` the number of rows dropped
    for missing values (R: "k observations deleted due to missingness").
    """

    curves: MappingProxyType[Hashable, SurvivalCurve]
    group: str | None
    conf_level: float
    conf_type: str
    variance: str
    n: MappingProxyType[Hashable, int] = field(default_factory=lambda: MappingProxyType({}))
    n_missing: int = 0
    cluster: str | None = None

    def _frame(self, rows: list[dict]) -> pd.DataFrame:
        out = pd.DataFrame(rows)
        if self.group is None:
            return out.drop(columns="group")
        return out.rename(columns={"group": self.group})

    def tidy(self, weighted_counts: bool = False) -> pd.DataFrame:
        """Long table ``[group,] time, estimate, std_error, conf_low, conf_high, n_risk, n_event``.

        One row per group and distinct event time. ``n_risk``/``n_event`` count rows (persons);
        with ``weighted_counts=True`` the weighted sums are added as ``risk_weight``/``event_weight``.
        """
        frames = []
        for key, c in self.curves.items():
            d = {
                "time": c.time,
                "estimate": c.estimate,
                "std_error": c.std_error,
                "conf_low": c.conf_low,
                "conf_high": c.conf_high,
                "n_risk": c.n_risk,
                "n_event": c.n_event,
            }
            if weighted_counts:
                d["risk_weight"] = c.weighted_n_risk
                d["event_weight"] = c.weighted_n_event
            f = pd.DataFrame({k: np.array(v) for k, v in d.items()})
            if self.group is not None:
                f.insert(0, self.group, key)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def glance(self) -> pd.DataFrame:
        """One row per group: ``[group,] nobs, n_event, n_missing, variance, conf_level,
        conf_type`` (``nobs`` rows used, ``n_event`` events, unweighted)."""
        events = {k: float(np.sum(c.n_event)) for k, c in self.curves.items()}
        return _curves.curve_glance(self.group, self.n, events, self.n_missing, self.variance,
                                    self.conf_level, self.conf_type)  # fmt: skip

    def evaluate(self, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """S(t), its standard error and CI at ``times`` (right-continuous; 1 before the first event)."""
        at = np.asarray(times, dtype=float)
        frames = []
        for key, c in self.curves.items():
            f = pd.DataFrame(
                {
                    "time": at,
                    "estimate": _curves.step_values(c.time, c.estimate, at, 1.0),
                    "std_error": _curves.step_values(c.time, c.std_error, at, 0.0),
                    "conf_low": _curves.step_values(c.time, c.conf_low, at, 1.0),
                    "conf_high": _curves.step_values(c.time, c.conf_high, at, 1.0),
                }
            )
            if self.group is not None:
                f.insert(0, self.group, key)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def quantile(self, probs: Sequence[float] | float = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Quantiles of the survival time with confidence limits, as R ``quantile.survfit``.

        The ``p`` quantile is the first time with ``S(t) <= 1 - p``. Where ``S`` equals ``1 - p``
        exactly (within ``sqrt(machine eps)``) on a flat step, it is the midpoint of the step
        (e.g. ``S = 0.5`` from 52 to the next event at 53 gives a median of 52.5; on the last step
        the midpoint with the last follow-up time). ``conf_low``/``conf_high`` are the same
        quantile of the lower/upper pointwise confidence curve (``conf_type`` bands; Brookmeyer-
        Crowley style). NaN where the curve does not reach ``1 - p``.

        Returns
        -------
        DataFrame ``[group,] prob, estimate, conf_low, conf_high`` (time unit of the input).
        """
        p = np.atleast_1d(np.asarray(probs, dtype=float))
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise ValueError(f"probs must be in [0, 1], got {probs!r}")
        rows = []
        for key, c in self.curves.items():
            # R's survfit times: 0 first, then a point with S = 1 if a row leaves before the first
            # event (where a log-log limit is missing), then the event times
            pre = c.first_time < c.time[0] if c.time.size else True
            one_low, one_high = _curves.confint(np.ones(1), np.zeros(1), self.conf_level,
                                                self.conf_type)  # fmt: skip
            x = np.concatenate([[0.0], [c.first_time] if pre else [], c.time])

            q, lo, hi = (
                _findq(
                    x, np.concatenate([[0.0], 1.0 - at_one if pre else [], 1.0 - v]), p, c.last_time
                )  # fmt: skip
                for v, at_one in (
                    (c.estimate, np.ones(1)),
                    (c.conf_low, one_low),
                    (c.conf_high, one_high),
                )  # fmt: skip
            )
            for i, pi in enumerate(p):
                rows.append({"group": key, "prob": float(pi), "estimate": q[i],
                             "conf_low": lo[i], "conf_high": hi[i]})  # fmt: skip
        return self._frame(rows)

    def median(self) -> pd.DataFrame:
        """Median survival time per group with its CI: :meth:`quantile` at 0.5 (R
        ``quantile(fit, 0.5)``); columns ``[group,] median, conf_low, conf_high``."""
        q = self.quantile([0.5]).drop(columns="prob")
        return q.rename(columns={"estimate": "median"})

    def _tau(self, tau: float | str) -> dict:
        if isinstance(tau, str):
            if tau not in ("common", "individual"):
                raise ValueError(f"tau must be a number, 'common' or 'individual', got {tau!r}")
            last = {k: c.last_time for k, c in self.curves.items()}
            if tau == "individual":
                return last
            return dict.fromkeys(last, max(last.values()))
        tau = float(tau)
        if not tau >= min(c.first_time for c in self.curves.values()):
            raise ValueError(f"tau = {tau:g} is before the first time of the data")
        return dict.fromkeys(self.curves, tau)

    def rmst(self, tau: float | str = "common") -> pd.DataFrame:
        """Restricted mean survival time ``int_0^tau S(t) dt`` with its standard error.

        As R ``summary(fit, rmean = tau)$table[, c("rmean", "se(rmean)")]``: ``tau`` a time,
        ``"common"`` (R's default: the largest follow-up time of all groups, the same for every
        group) or ``"individual"`` (each group's own last follow-up time). ``S`` is extended
        flat beyond its last time. The SE is R's formula ``sum_j A_j^2 d_j / (n_j (n_j - d_j))``
        (``A_j`` the area under ``S`` from the event time ``t_j`` to ``tau``, weighted counts)
        whatever the ``variance`` of the fit (R does the same; it is not a robust SE).
        The integral starts at ``min(0, first time)``, as R.

        Returns
        -------
        DataFrame ``[group,] tau, estimate, std_error`` (time unit of the input).
        """
        taus = self._tau(tau)
        start = min(0.0, min(c.first_time for c in self.curves.values()))
        rows = []
        for key, c in self.curves.items():
            est, se = _rmst(c, taus[key], start)
            rows.append({"group": key, "tau": taus[key], "estimate": est, "std_error": se})
        return self._frame(rows)

    def table(self, tau: float | str = "common") -> pd.DataFrame:
        """R's ``summary(fit, rmean = tau)$table``: per group ``records, events, rmean,
        se_rmean, median, conf_low, conf_high, tau``.

        ``records`` are rows used, ``events`` the (weighted) number of events, ``rmean`` and
        ``se_rmean`` as :meth:`rmst`. The median and its limits follow ``print.survfit``, which
        differs from :meth:`median` (``quantile.survfit``) in one case only: when ``S = 0.5``
        exactly on the *last* step, ``print.survfit`` gives the start of the step and
        ``quantile.survfit`` the midpoint with the last follow-up time.
        """
        rm = self.rmst(tau)
        rows = []
        for i, (key, c) in enumerate(self.curves.items()):
            x = np.concatenate([[c.first_time], c.time]) if c.time.size else np.array([np.nan])
            pad = np.ones(1)
            rows.append(
                {
                    "group": key,
                    "records": self.n.get(key, 0),
                    "events": float(c.weighted_n_event.sum()),
                    "rmean": rm["estimate"].iloc[i],
                    "se_rmean": rm["std_error"].iloc[i],
                    "median": _first_below_half(np.concatenate([pad, c.estimate]), x),
                    "conf_low": _first_below_half(np.concatenate([pad, c.conf_low]), x),
                    "conf_high": _first_below_half(np.concatenate([pad, c.conf_high]), x),
                    "tau": rm["tau"].iloc[i],
                }
            )
        return self._frame(rows)

    def summary(self) -> str:
        """Short text: per group, persons, events, median with CI and S at the last event time."""
        lines = [
            f"Kaplan-Meier ({self.variance} variance, {self.conf_type} {self.conf_level:.0%} CI)"
        ]
        if self.n_missing:
            lines.append(f"  {self.n_missing} observations deleted due to missingness")
        med = self.median()
        for i, (key, c) in enumerate(self.curves.items()):
            label = "all" if self.group is None else f"{self.group}={key}"
            last = f"S({c.time[-1]:g}) = {c.estimate[-1]:.4f}" if c.time.size else "no events"
            m = med.iloc[i]
            lines.append(
                f"  {label}: n = {self.n.get(key, 0)}, events = {int(c.n_event.sum())}, "
                f"median = {m['median']:g} ({m['conf_low']:g}, {m['conf_high']:g}), {last}"
            )
        return "\n".join(lines)


class KaplanMeier:
    """Kaplan-Meier estimator with delayed entry, case weights, clusters and R-``survfit``
    variances.

    Parameters
    ----------
    conf_level
        Confidence level of the pointwise intervals.
    conf_type
        ``"log"`` (R's default: CI for log S), ``"log-log"`` or ``"plain"``.
    variance
        ``"greenwood"``: Greenwood's formula with weighted counts (R for unit/integer weights);
        ``"robust"``: infinitesimal jackknife (IJ), one unit per cluster, per id or per row;
        ``"auto"`` (default): R's rule - robust iff a ``cluster`` is given, some weight is not an
        integer, or an ``id`` has more than one event.
    missing
        ``"drop"`` (default, R's ``na.omit``): rows with a missing value in a used column are
        dropped and counted in ``n_missing``; ``"raise"``: raise instead.
    """

    def __init__(
        self,
        conf_level: float = 0.95,
        conf_type: ConfType = "log",
        variance: Variance = "auto",
        missing: MissingPolicy = "drop",
    ) -> None:
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.variance = variance
        self.missing = missing

    def fit(
        self,
        df: pd.DataFrame,
        duration: str,
        event: str,
        entry: str | None = None,
        weights: str | None = None,
        group: str | None = None,
        cluster: str | None = None,
        id: str | None = None,
    ) -> KaplanMeierResult:
        """Fit the curves.

        Parameters
        ----------
        df
            One row per person (or per person-interval with ``entry``).
        duration
            Exit time of the row (end of ``(entry, duration]``).
        event
            Event indicator: non-zero = event at ``duration`` (any code), 0 = censored.
        entry
            Entry time (delayed entry / left truncation): at risk only on ``(entry, duration]``.
        weights
            Positive case weights (survfit ``weights`` semantics).
        group
            Column whose values define separate curves.
        cluster
            Cluster identifier: robust (IJ) standard errors with the cluster as the independent
            unit, ``sqrt(sum_c (sum_{i in c} w_i U_i(t))^2)`` (R ``survfit(..., cluster=)``).
        id
            Person identifier for several rows per person: with the robust variance the person is
            the unit (R ``survfit(..., id=, robust=TRUE)``); ignored when ``cluster`` is given.
        """
        _curves.check_conf(self.conf_level, self.conf_type)
        if self.variance not in ("auto", "greenwood", "robust"):
            raise ValueError(f"variance must be auto, greenwood or robust, got {self.variance!r}")
        if cluster is not None and self.variance == "greenwood":
            raise ValueError("a cluster needs the robust variance (variance='auto' or 'robust')")
        used = [duration, event, entry, weights, group, cluster, id]
        df, n_missing = drop_missing(df, used, self.missing)
        _curves.require(df, used)
        start, stop = _curves.interval_columns(df, duration, entry)
        status = _curves.numeric_column(df, event, "event") != 0
        w = _curves.weight_column(df, weights)
        labels, codes = _curves.group_codes(df, group, _KM_COLUMNS)
        unit_col = cluster if cluster is not None else id
        units = None if unit_col is None else pd.factorize(df[unit_col])[0].astype(np.int64)
        variance = self.variance
        if variance == "auto":
            repeated = id is not None and np.bincount(units[status]).max(initial=0) > 1
            robust = cluster is not None or bool(np.any(w != np.floor(w))) or repeated
            variance = "robust" if robust else "greenwood"
        if units is None:
            units = np.arange(stop.size)
        curves, counts = {}, {}
        for g, label in enumerate(labels):
            rows = np.flatnonzero(codes == g)
            curves[label] = self._curve(
                start[rows], stop[rows], status[rows], w[rows], units[rows], variance
            )
            counts[label] = int(rows.size)
        return KaplanMeierResult(
            curves=MappingProxyType(curves),
            group=group,
            conf_level=self.conf_level,
            conf_type=self.conf_type,
            variance=variance,
            n=MappingProxyType(counts),
            n_missing=n_missing,
            cluster=unit_col if variance == "robust" else None,
        )

    def _curve(
        self,
        start: np.ndarray,
        stop: np.ndarray,
        status: np.ndarray,
        w: np.ndarray,
        units: np.ndarray,
        variance: str,
    ) -> SurvivalCurve:
        times = np.unique(stop[status])
        # at risk at t: entry < t <= stop = (stop >= t) minus (entry >= t); weighted sums are taken
        # from the end (as R does), so late small risk sets carry no rounding from early ones
        stop_sorted = np.argsort(stop, kind="stable")
        start_sorted = np.argsort(start, kind="stable")
        stop_vals, start_vals = stop[stop_sorted], start[start_sorted]
        tail_stop = np.concatenate([np.cumsum(w[stop_sorted][::-1])[::-1], [0.0]])
        tail_start = np.concatenate([np.cumsum(w[start_sorted][::-1])[::-1], [0.0]])
        i_stop = np.searchsorted(stop_vals, times, side="left")  # rows from here: stop >= t
        i_start = np.searchsorted(start_vals, times, side="left")  # rows from here: entry >= t
        n_risk = (stop.size - i_stop) - (start.size - i_start)
        n_risk_w = tail_stop[i_stop] - tail_start[i_start]
        ev_idx = np.searchsorted(times, stop[status])
        n_event = np.bincount(ev_idx, minlength=times.size)
        n_event_w = np.bincount(ev_idx, weights=w[status], minlength=times.size)
        n_risk_w = np.where(n_risk > 0, n_risk_w, 0.0)
        n_risk_w = np.where(n_event == n_risk, n_event_w, n_risk_w)  # all at risk fail: exact 0
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1.0 - n_event_w / n_risk_w)
            if variance == "greenwood":
                gw = np.cumsum(n_event_w / (n_risk_w * (n_risk_w - n_event_w)))
                std = surv * np.sqrt(gw)
                std = np.where(np.isfinite(gw), std, np.nan)
            else:
                std = _km_ij_std(start, stop, status, w, units, times, n_risk_w, n_event_w, surv)
        low, high = _curves.confint(surv, std, self.conf_level, self.conf_type)
        return SurvivalCurve(
            time=times,
            estimate=surv,
            std_error=std,
            conf_low=low,
            conf_high=high,
            n_risk=n_risk.astype(np.int64),
            n_event=n_event.astype(np.int64),
            weighted_n_risk=n_risk_w,
            weighted_n_event=n_event_w,
            first_time=float(stop.min()),
            last_time=float(stop.max()),
        )


def _km_ij_std(
    start: np.ndarray,
    stop: np.ndarray,
    status: np.ndarray,
    w: np.ndarray,
    units: np.ndarray,
    times: np.ndarray,
    n: np.ndarray,
    d: np.ndarray,
    surv: np.ndarray,
) -> np.ndarray:
    """Infinitesimal-jackknife SE of the Kaplan-Meier curve with clusters (R ``survfitkm.c``).

    The influence of row ``i`` on ``S(t_j)`` is ``S(t_j) B_i(j)`` with
    ``B_i(j) = sum_{l <= j} Y_il d_l / (n_l (n_l - d_l)) - dN_il / (n_l - d_l)`` (weighted counts
    ``n, d``), and ``Var S(t_j) = S(t_j)^2 sum_c (sum_{i in c} w_i B_i(j))^2``. Between status
    changes of its rows a cluster's sum is ``alpha_c + beta_c A_j`` with
    ``A_j = sum_{l <= j} d_l / (n_l (n_l - d_l))``, so the sum of squares over clusters is carried
    by three running totals (``sum alpha^2``, ``sum alpha beta``, ``sum beta^2``) updated where a
    cluster's ``(alpha, beta)`` changes: O(rows log rows), no per-cluster loop. After ``S`` reaches
    0 the influence is 0 (so is the SE), as in R.
    """
    k = times.size
    if k == 0:
        return np.zeros(0)
    alive = n > d  # S(t_j) > 0 (once n = d, S = 0 from then on)
    k_ok = int(np.argmin(alive)) if not alive.all() else k  # event times before S hits 0
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(alive, d / (n * (n - d)), 0.0)
        e = np.where(alive, 1.0 / (n - d), 0.0)
    a_cum = np.concatenate([[0.0], np.cumsum(c)])  # A at grid 0..K
    # grid index: a row is at risk at event index j (1-based) iff k_e < j <= k_x
    k_e = np.searchsorted(times, start, side="right")
    k_x = np.searchsorted(times, stop, side="right")
    at_all = k_x > k_e
    r = np.flatnonzero(at_all)
    ev = np.flatnonzero(status & at_all)
    # changes (grid position, d_alpha, d_beta) of the unit's sum, effective from that position
    pos = np.concatenate([k_e[r] + 1, k_x[r] + 1, k_x[ev]])
    d_alpha = np.concatenate([-w[r] * a_cum[k_e[r]], w[r] * a_cum[k_x[r]], -w[ev] * e[k_x[ev] - 1]])
    d_beta = np.concatenate([w[r], -w[r], np.zeros(ev.size)])
    unit = np.concatenate([units[r], units[r], units[ev]])
    order = np.lexsort((pos, unit))
    pos, d_alpha, d_beta, unit = pos[order], d_alpha[order], d_beta[order], unit[order]
    # running (alpha, beta) of each unit after each change; cumulative sums restart per unit
    first = np.ones(unit.size, dtype=bool)
    first[1:] = unit[1:] != unit[:-1]
    seg = np.cumsum(first) - 1
    base_a = np.concatenate([[0.0], np.cumsum(d_alpha)])[np.flatnonzero(first)]
    base_b = np.concatenate([[0.0], np.cumsum(d_beta)])[np.flatnonzero(first)]
    alpha = np.cumsum(d_alpha) - base_a[seg]
    beta = np.cumsum(d_beta) - base_b[seg]
    # each change opens a segment up to the unit's next change (or the end)
    nxt = np.empty(unit.size, dtype=np.int64)
    nxt[:-1] = np.where(first[1:], k + 1, pos[1:])
    nxt[-1] = k + 1
    valid = nxt > pos  # several changes at one position: only the last one opens a segment
    size = k + 2
    tot = np.zeros((3, size))
    for row, val in enumerate((alpha * alpha, alpha * beta, beta * beta)):
        tot[row] += np.bincount(pos[valid], weights=val[valid], minlength=size)
        tot[row] -= np.bincount(nxt[valid], weights=val[valid], minlength=size)
    s_aa, s_ab, s_bb = np.cumsum(tot, axis=1)[:, 1 : k + 1]
    a = a_cum[1:]
    var = s_aa + 2.0 * a * s_ab + a * a * s_bb
    std = surv * np.sqrt(np.maximum(var, 0.0))
    std[k_ok:] = 0.0
    return std


# --------------------------------------------------------------------------------------------
# Log-rank and G-rho tests (survdiff)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRankResult(TestResult):
    """:class:`analysis._base.TestResult` of :func:`logrank_test` with ``rho`` and ``n_missing``.

    ``details`` has one row per group: ``group, n, observed, expected, (O-E)^2/E, (O-E)^2/V,
    variance`` (observed and expected weighted by ``S(t-)^rho``, summed over strata; ``variance``
    the diagonal of the variance matrix), as R's ``print.survdiff``.
    """

    rho: float = 0.0
    n_missing: int = 0

    def summary(self) -> str:
        """R-like text: the test line, rows deleted for missing values, the group table."""
        text = super().summary()
        if not self.n_missing:
            return text
        head, _, rest = text.partition("\n")
        note = f"{self.n_missing} observations deleted due to missingness"
        return "\n".join(x for x in (head, note, rest) if x)


def _survdiff_stratum(
    time: np.ndarray, status: np.ndarray, group: np.ndarray, ng: int, rho: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected and variance matrix of one stratum (R's ``survdiff2.c``, vectorised
    over the distinct times). Weight at time t: ``S(t-)^rho``, the pooled KM just before t."""
    ut, t_idx = np.unique(time, return_inverse=True)
    nt = ut.size
    deaths_g = np.zeros((nt, ng))
    np.add.at(deaths_g, (t_idx, group), status.astype(float))
    leave_g = np.zeros((nt, ng))
    np.add.at(leave_g, (t_idx, group), 1.0)
    risk_g = leave_g[::-1].cumsum(axis=0)[::-1]  # time >= t
    risk = risk_g.sum(axis=1)
    deaths = deaths_g.sum(axis=1)
    km_before = np.concatenate([[1.0], np.cumprod((risk - deaths) / risk)[:-1]])
    wt = km_before**rho if rho != 0 else np.ones(nt)
    observed = (wt[:, None] * deaths_g).sum(axis=0)
    expected = (wt[:, None] * deaths[:, None] * risk_g / risk[:, None]).sum(axis=0)
    use = (deaths > 0) & (risk > 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(use, wt**2 * deaths * (risk - deaths) / (risk * (risk - 1)), 0.0)
    var = np.diag((f[:, None] * risk_g).sum(axis=0))
    var -= np.einsum("t,ti,tj->ij", np.where(use, f / risk, 0.0), risk_g, risk_g)
    return observed, expected, var


def logrank_test(
    df: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    strata: str | None = None,
    rho: float = 0.0,
    entry: str | None = None,
    missing: MissingPolicy = "drop",
) -> LogRankResult:
    """Log-rank test (``rho = 0``) and the Harrington-Fleming G-rho family, as R ``survdiff``.

    ``survdiff(Surv(duration, event) ~ group + strata(strata), rho = rho)``: at each event time
    the weight is ``S(t-)^rho`` (``S`` the Kaplan-Meier curve of all groups of the stratum,
    ``rho = 1`` the Peto-Peto-Prentice Wilcoxon-type test); observed minus expected events and
    their variance are summed over strata; the statistic uses the groups with expected > 0 and
    has (their number - 1) degrees of freedom. As ``survdiff`` (survival 3.5-3) it has no delayed
    entry and no case weights: passing ``entry`` raises ``ValueError``. Times are compared exactly
    (no ``timefix`` rounding).

    Parameters
    ----------
    df
        One row per person.
    duration, event
        Follow-up time and event indicator (non-zero = event).
    group
        Groups to compare (at least two; sorted labels as R's factor levels).
    strata
        Optional stratification column.
    rho
        Power of the weight ``S(t-)^rho``.
    missing
        ``"drop"`` (default): rows with a missing value in a used column are dropped and
        counted in ``n_missing``; ``"raise"``: raise.

    Returns
    -------
    :class:`LogRankResult` (chi-square ``statistic``, ``df``, ``p_value``, ``details`` table).
    """
    if entry is not None:
        raise ValueError("the log-rank test (as survdiff) needs right-censored data: no entry")
    used = [duration, event, group, strata]
    df, n_missing = drop_missing(df, used, missing)
    _curves.require(df, used)
    _, time = _curves.interval_columns(df, duration, None)
    status = _curves.numeric_column(df, event, "event") != 0
    labels, codes = _curves.group_codes(df, group, ())
    ng = len(labels)
    if ng < 2:
        raise ValueError(f"the log-rank test needs at least two groups in {group!r}")
    scodes = np.zeros(codes.size, dtype=np.int64)
    if strata is not None:
        scodes = _curves.group_codes(df, strata, ())[1]
    observed, expected, var = np.zeros(ng), np.zeros(ng), np.zeros((ng, ng))
    for s in np.unique(scodes):
        sel = scodes == s
        o, e, v = _survdiff_stratum(time[sel], status[sel], codes[sel], ng, rho)
        observed += o
        expected += e
        var += v
    used_g = np.flatnonzero(expected > 0)
    dof = used_g.size - 1
    stat = 0.0
    if dof >= 1:
        diff = (observed - expected)[used_g][1:]
        vv = var[np.ix_(used_g, used_g)][1:, 1:]
        try:
            stat = float(diff @ np.linalg.solve(vv, diff))
        except np.linalg.LinAlgError:
            stat = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        details = pd.DataFrame(
            {
                "group": labels,
                "n": np.bincount(codes, minlength=ng),
                "observed": observed,
                "expected": expected,
                "(O-E)^2/E": (observed - expected) ** 2 / expected,
                "(O-E)^2/V": (observed - expected) ** 2 / np.diag(var),
                "variance": np.diag(var),
            }
        )
    p = float(stats.chi2.sf(stat, dof)) if dof >= 1 and np.isfinite(stat) else np.nan
    name = "log-rank" if rho == 0 else f"G-rho log-rank (rho = {rho:g})"
    return LogRankResult(name, stat, float(dof), p, "chi2", details, float(rho), n_missing)


# --------------------------------------------------------------------------------------------
# Aalen-Johansen cumulative incidence (competing risks)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CumulativeIncidenceCurves:
    """Cumulative incidence of every cause for one group, one row per distinct event time.

    Attributes
    ----------
    time
        Distinct event times (any cause), shape (K,).
    causes
        Cause codes, in column order of the arrays below.
    estimate
        Cumulative incidence F_k(t) = P(T <= t, cause k), shape (K, C).
    std_error
        IJ standard errors (probability scale) exactly as R ``survfit`` multi-state ``std.err``.
    conf_low, conf_high
        Pointwise CIs (R survfit's, default ``"log"``).
    survival
        Event-free probability S(t) = 1 - sum_k F_k(t) (the Kaplan-Meier of any event), shape (K,).
    n_risk
        Number of rows (persons) event-free and at risk at each time (unweighted), shape (K,).
    n_event
        Number of events of each cause at each time (unweighted), shape (K, C).
    weighted_n_risk, weighted_n_event
        Weighted versions.
    """

    time: np.ndarray
    causes: tuple[int, ...]
    estimate: np.ndarray
    std_error: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    survival: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    weighted_n_risk: np.ndarray
    weighted_n_event: np.ndarray

    def __post_init__(self) -> None:
        _frozen(*(getattr(self, f) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class AalenJohansenResult:
    """Result of :meth:`AalenJohansen.fit`: one :class:`CumulativeIncidenceCurves` per group."""

    curves: MappingProxyType[Hashable, CumulativeIncidenceCurves]
    group: str | None
    causes: tuple[int, ...]
    conf_level: float
    conf_type: str
    n: MappingProxyType[Hashable, int]
    _gray_data: tuple | None = field(default=None, repr=False)
    n_missing: int = 0
    variance: str = "ij"

    def glance(self) -> pd.DataFrame:
        """One row per group: ``[group,] nobs, n_event, n_missing, variance, conf_level,
        conf_type`` (``nobs`` persons, ``n_event`` events of any cause, unweighted)."""
        events = {k: float(np.sum(c.n_event)) for k, c in self.curves.items()}
        return _curves.curve_glance(self.group, self.n, events, self.n_missing, self.variance,
                                    self.conf_level, self.conf_type)  # fmt: skip

    def tidy(self, weighted_counts: bool = False) -> pd.DataFrame:
        """Long table ``[group,] cause, time, estimate, std_error, conf_low, conf_high, n_risk,
        n_event``: for each group and cause one row per distinct event time (of any cause).

        ``estimate`` is the cumulative incidence (right-continuous), ``n_risk`` the number of persons
        event-free and at risk at the time, ``n_event`` the events of this cause at the time.
        """
        frames = []
        for key, c in self.curves.items():
            k = c.time.size
            for j, cause in enumerate(c.causes):
                d = {
                    "cause": np.repeat(np.asarray([cause]), k),
                    "time": c.time,
                    "estimate": c.estimate[:, j],
                    "std_error": c.std_error[:, j],
                    "conf_low": c.conf_low[:, j],
                    "conf_high": c.conf_high[:, j],
                    "n_risk": c.n_risk,
                    "n_event": c.n_event[:, j],
                }
                if weighted_counts:
                    d["risk_weight"] = c.weighted_n_risk
                    d["event_weight"] = c.weighted_n_event[:, j]
                f = pd.DataFrame({name: np.array(v) for name, v in d.items()})
                if self.group is not None:
                    f.insert(0, self.group, key)
                frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def evaluate(self, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """F_k(t) with standard errors and CI at ``times`` (right-continuous; 0 before any event)."""
        at = np.asarray(times, dtype=float)
        frames = []
        for key, c in self.curves.items():
            est = _curves.step_values(c.time, c.estimate, at, 0.0)
            se = _curves.step_values(c.time, c.std_error, at, 0.0)
            low = _curves.step_values(c.time, c.conf_low, at, np.nan)
            high = _curves.step_values(c.time, c.conf_high, at, np.nan)
            for j, cause in enumerate(c.causes):
                f = pd.DataFrame(
                    {
                        "cause": np.repeat(np.asarray([cause]), at.size),
                        "time": at,
                        "estimate": est[:, j],
                        "std_error": se[:, j],
                        "conf_low": low[:, j],
                        "conf_high": high[:, j],
                    }
                )
                if self.group is not None:
                    f.insert(0, self.group, key)
                frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def gray_test(self, rho: float = 0.0) -> GrayTestResult:
        """Gray's test of equal cumulative incidence across the groups (see :func:`gray_test`)."""
        if self._gray_data is None:
            raise ValueError(
                "Gray's test needs a fit with a group column, no entry and no weights "
                "(cmprsk::cuminc has neither delayed entry nor weights)"
            )
        time, event, codes, labels = self._gray_data
        res = _gray_test_arrays(time, event, codes, labels, np.zeros_like(codes), rho)
        return dataclasses.replace(res, n_missing=self.n_missing)

    def summary(self) -> str:
        """Short text: per group, persons, events per cause and F_k at the last event time."""
        lines = [f"Aalen-Johansen cumulative incidence ({self.conf_type} {self.conf_level:.0%} CI)"]
        if self.n_missing:
            lines.append(f"  {self.n_missing} observations deleted due to missingness")
        for key, c in self.curves.items():
            label = "all" if self.group is None else f"{self.group}={key}"
            parts = []
            for j, cause in enumerate(c.causes):
                last = c.estimate[-1, j] if c.time.size else 0.0
                parts.append(f"cause {cause}: {int(c.n_event[:, j].sum())} events, F = {last:.4f}")
            lines.append(f"  {label} (n = {self.n.get(key, 0)}): " + "; ".join(parts))
        return "\n".join(lines)


class AalenJohansen:
    """Aalen-Johansen estimator of cumulative incidence for competing risks.

    Equivalent to R ``survfit(Surv(entry, time, factor(event)) ~ group, id = id, weights = w)``:
    estimates, IJ standard errors (``std.err``) and CIs (``conf.type``) agree to rounding error.

    Parameters
    ----------
    conf_level
        Confidence level.
    conf_type
        ``"log"`` (R's default), ``"log-log"`` or ``"plain"``.
    variance
        ``"ij"`` (the only one): infinitesimal-jackknife standard errors, R ``survfit``'s
        ``std.err`` for multi-state curves.
    missing
        ``"drop"`` (default, R's ``na.omit``): rows with a missing value in a used column are
        dropped and counted in ``n_missing``; ``"raise"``: raise instead.
    """

    def __init__(
        self,
        conf_level: float = 0.95,
        conf_type: ConfType = "log",
        variance: Literal["ij"] = "ij",
        missing: MissingPolicy = "drop",
    ) -> None:
        if variance != "ij":
            raise ValueError(f"variance must be 'ij', got {variance!r}")
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.variance = variance
        self.missing = missing

    def fit(
        self,
        df: pd.DataFrame,
        duration: str,
        event: str,
        entry: str | None = None,
        weights: str | None = None,
        group: str | None = None,
        id: str | None = None,
    ) -> AalenJohansenResult:
        """Fit cumulative incidence curves.

        Parameters
        ----------
        df
            One row per person, or with ``id`` several consecutive rows per person (start-stop
            data; only the last row of a person may carry an event).
        duration
            Exit time of the row.
        event
            0 = censored, any other integer code = cause of the exit at ``duration``.
        entry
            Entry time (delayed entry): at risk only on ``(entry, duration]``.
        weights
            Positive case weights. Standard errors use them as R does (``sum w_i^2 U_i^2``).
        group
            Column whose values define separate curves (and the groups of :meth:`gray_test`).
        id
            Person identifier for start-stop data with several rows per person (the IJ variance
            then treats the person as the unit, as R does with ``id=``).
        """
        _curves.check_conf(self.conf_level, self.conf_type)
        used = [duration, event, entry, weights, group, id]
        df, n_missing = drop_missing(df, used, self.missing)
        _curves.require(df, used)
        start, stop = _curves.interval_columns(df, duration, entry)
        ev = _curves.numeric_column(df, event, "event")
        if np.any(ev != np.round(ev)):
            raise ValueError(f"event column {event!r} must hold integer codes (0 = censored)")
        ev = ev.astype(np.int64)
        w = _curves.weight_column(df, weights)
        labels, codes = _curves.group_codes(df, group, _AJ_COLUMNS)
        causes = tuple(int(c) for c in np.unique(ev[ev != 0]))
        if not causes:
            raise ValueError("no events: every row is censored")
        cause_index = np.searchsorted(np.asarray(causes), ev) + 1  # state 0 = event-free
        to_state = np.where(ev != 0, cause_index, -1)
        if id is not None:
            person = _person_codes(df, id)
            _check_single_spell_chain(person, start, stop, ev != 0, codes)
        else:
            person = np.arange(len(df))
        curves, counts = {}, {}
        for g, label in enumerate(labels):
            rows = np.flatnonzero(codes == g)
            local_person, uniq = pd.factorize(person[rows])
            n_persons = int(uniq.size)
            out = aalen_johansen(
                entry=start[rows],
                exit=stop[rows],
                from_state=np.zeros(rows.size, dtype=np.int64),
                to_state=to_state[rows],
                weight=w[rows],
                person=local_person,
                n_states=len(causes) + 1,
                p0=np.eye(len(causes) + 1)[0],
            )
            assert out.std_error is not None
            est = out.pstate[:, 1:]
            se = out.std_error[:, 1:]
            low, high = _curves.confint(est, se, self.conf_level, self.conf_type)
            curves[label] = CumulativeIncidenceCurves(
                time=out.times,
                causes=causes,
                estimate=est,
                std_error=se,
                conf_low=low,
                conf_high=high,
                survival=out.pstate[:, 0],
                n_risk=out.n_risk[:, 0],
                n_event=out.n_transition[:, 0, 1:],
                weighted_n_risk=out.weighted_n_risk[:, 0],
                weighted_n_event=out.weighted_n_transition[:, 0, 1:],
            )
            counts[label] = n_persons
        gray = None
        if group is not None and entry is None and weights is None and id is None:
            gray = (stop, ev, codes, labels)
        return AalenJohansenResult(
            curves=MappingProxyType(curves),
            group=group,
            causes=causes,
            conf_level=self.conf_level,
            conf_type=self.conf_type,
            n=MappingProxyType(counts),
            _gray_data=gray,
            n_missing=n_missing,
            variance=self.variance,
        )


def _person_codes(df: pd.DataFrame, id: str) -> np.ndarray:
    values = df[id]
    if values.isna().any():
        raise ValueError(f"id column {id!r} has missing values")
    codes: np.ndarray = pd.factorize(values)[0]
    return codes.astype(np.int64)


def _check_single_spell_chain(
    person: np.ndarray, start: np.ndarray, stop: np.ndarray, event: np.ndarray, group: np.ndarray
) -> None:
    """Rows of a person must not overlap, only the last may carry an event, one group each."""
    order = np.lexsort((stop, start, person))
    p, s0, s1, e, g = person[order], start[order], stop[order], event[order], group[order]
    same = p[1:] == p[:-1]
    if np.any(same & (s0[1:] < s1[:-1])):
        raise ValueError("rows of the same person overlap in time")
    if np.any(same & e[:-1]):
        raise ValueError("a person has rows after an event (only the last row may have an event)")
    if np.any(same & (g[1:] != g[:-1])):
        raise ValueError("a person's rows belong to different groups")


# --------------------------------------------------------------------------------------------
# Gray's test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrayTestResult:
    """Gray's k-sample test of equal cumulative incidence, one row per cause.

    Attributes
    ----------
    table
        Columns ``cause, statistic, df, p_value`` (chi-square statistic with ``groups - 1``
        degrees of freedom), as ``cmprsk::cuminc(...)$Tests``.
    groups
        Group labels in the order used.
    rho
        Power of the weight function ``(1 - F(t-))^rho``.
    """

    table: pd.DataFrame
    groups: tuple
    rho: float
    n_missing: int = 0

    def test(self, cause: int) -> TestResult:
        """The test of one cause as an :class:`analysis._base.TestResult`."""
        row = self.table[self.table["cause"] == cause]
        if row.empty:
            raise ValueError(f"no cause {cause!r}; causes: {list(self.table['cause'])}")
        r = row.iloc[0]
        return TestResult.chi2(f"Gray (cause {cause})", r["statistic"], r["df"])

    def tidy(self) -> pd.DataFrame:
        """Fresh copy of :attr:`table`."""
        return self.table.copy()

    def summary(self) -> str:
        """Text table of the tests."""
        lines = [f"Gray's test (rho = {self.rho:g}), groups: {', '.join(map(str, self.groups))}"]
        if self.n_missing:
            lines.append(f"  {self.n_missing} observations deleted due to missingness")
        for r in self.table.itertuples(index=False):
            lines.append(
                f"  cause {r.cause}: chi2 = {r.statistic:.4f}, df = {r.df}, p = {r.p_value:.4g}"
            )
        return "\n".join(lines)


def gray_test(
    df: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    strata: str | None = None,
    rho: float = 0.0,
    entry: str | None = None,
    missing: MissingPolicy = "drop",
) -> GrayTestResult:
    """Gray's (1988) test that the cumulative incidence of each cause is equal across groups.

    Reproduces ``cmprsk::cuminc(ftime, fstatus, group, strata, rho)$Tests`` (statistic and
    p-value). Like ``cuminc`` it has no delayed entry and no weights: passing ``entry`` raises
    ``ValueError`` (the test's score and variance assume everyone is at risk from time 0).

    Parameters
    ----------
    df
        One row per person.
    duration, event
        Time and event code (0 = censored, other codes = causes).
    group
        Groups to compare (at least two).
    strata
        Optional stratification column (scores and variances summed over strata).
    rho
        Power of the weight function (0 = the log-rank-like default).
    missing
        ``"drop"`` (default, as ``cuminc``'s removal of missing values): rows with a missing
        value in a used column are dropped and counted in ``n_missing``; ``"raise"``: raise.
    """
    if entry is not None:
        raise ValueError(
            "Gray's test (as cmprsk::cuminc) does not handle delayed entry; fit without entry"
        )
    used = [duration, event, group, strata]
    df, n_missing = drop_missing(df, used, missing)
    _curves.require(df, used)
    _, stop = _curves.interval_columns(df, duration, None)
    ev = _curves.numeric_column(df, event, "event")
    labels, codes = _curves.group_codes(df, group, ())
    if strata is None:
        scodes = np.zeros(len(df), dtype=np.int64)
    else:
        scodes = _curves.group_codes(df, strata, ())[1]
    res = _gray_test_arrays(stop, ev.astype(np.int64), codes, labels, scodes, rho)
    return dataclasses.replace(res, n_missing=n_missing)


def _gray_test_arrays(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    labels: list[Hashable],
    strata: np.ndarray,
    rho: float,
) -> GrayTestResult:
    ng = len(labels)
    if ng < 2:
        raise ValueError("Gray's test needs at least two groups")
    causes = np.unique(event[event != 0])
    rows = []
    for cause in causes:
        m = np.where(event == 0, 0, np.where(event == cause, 1, 2))
        score = np.zeros(ng - 1)
        var = np.zeros((ng - 1, ng - 1))
        for st in np.unique(strata):
            sel = strata == st
            s_, v_ = _gray_score(time[sel], m[sel], group[sel], ng, rho)
            score += s_
            var += v_
        stat = np.nan
        if np.linalg.matrix_rank(var) == ng - 1:
            stat = float(score @ np.linalg.solve(var, score))
        rows.append(
            {
                "cause": int(cause),
                "statistic": stat,
                "df": ng - 1,
                "p_value": float(stats.chi2.sf(stat, ng - 1)) if np.isfinite(stat) else np.nan,
            }
        )
    return GrayTestResult(table=pd.DataFrame(rows), groups=tuple(labels), rho=float(rho))


def _gray_score(
    time: np.ndarray, m: np.ndarray, group: np.ndarray, ng: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Score and variance of Gray's test in one stratum: cmprsk's ``crst`` (Fortran) vectorised
    over event times. ``m`` is 0 censored, 1 cause of interest, 2 other cause."""
    ut, t_idx = np.unique(time, return_inverse=True)
    nt = ut.size
    d1 = np.zeros((nt, ng))
    d2 = np.zeros((nt, ng))
    np.add.at(d1, (t_idx[m == 1], group[m == 1]), 1.0)
    np.add.at(d2, (t_idx[m == 2], group[m == 2]), 1.0)
    leave = np.zeros((nt, ng))
    np.add.at(leave, (t_idx, group), 1.0)
    rs_all = leave[::-1].cumsum(axis=0)[::-1]  # at risk: time >= t
    keep = (d1 + d2).sum(axis=1) > 0
    d1, d2, rs = d1[keep], d2[keep], rs_all[keep]
    td = d1 + d2
    pos = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(pos, (rs - td) / rs, 1.0)
        skm = np.cumprod(factor, axis=0)
        skmm = np.vstack([np.ones((1, ng)), skm[:-1]])
        f1 = np.cumsum(np.where(pos, skmm * d1 / rs, 0.0), axis=0)
        f1m = np.vstack([np.zeros((1, ng)), f1[:-1]])
        t1 = np.where(pos, rs / skmm, 0.0)
        tr = t1.sum(axis=1)
        tq = np.where(pos, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
        nd1 = d1.sum(axis=1)
        nd2 = d2.sum(axis=1)
        f = np.cumsum(nd1 / tr)
        fm = np.concatenate([[0.0], f[:-1]])
        fb = (1 - fm) ** rho
        # a(i,j) = fb (diag(t1) - t1 t1' / tr), zero for empty risk sets
        a = -fb[:, None, None] * t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
        diag = np.arange(ng)
        a[:, diag, diag] = fb[:, None] * t1 * (1 - t1 / tr[:, None])
        a = np.where(pos[:, :, None] & pos[:, None, :], a, 0.0)
        inc = a * (nd1 / (tr * (1 - fm)))[:, None, None]
        inc = np.where(a != 0, inc, 0.0)
        c = np.cumsum(inc, axis=0)  # c after this time's update
        score = (np.where(pos, fb[:, None] * (d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None])), 0.0)).sum(axis=0)  # fmt: skip

        # cause-of-interest part (times with nd1 > 0, groups with rs > 0)
        t4 = np.where(skm > 0, 1 - (1 - f[:, None]) / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = t5 * skmm * nd1[:, None] / (tr[:, None] * rs)
        use1 = pos & (nd1[:, None] > 0)
        t3 = np.where(use1, t3, 0.0)
        t4 = np.where(use1, t4, 0.0)
        v3 = (t4 * t4 * t3).sum(axis=0)
        t1m = a - t4[:, None, :] * c  # (time, i, k)
        v2 = np.einsum("tik,tk->ik", t1m, t4 * t3)
        v = np.einsum("tik,tjk,tk->ij", t1m, t1m, t3)

        # other-cause part (times with nd2 > 0, groups with skm > 0 and d2 > 0)
        use2 = (nd2[:, None] > 0) & (skm > 0) & (d2 > 0)
        t4b = np.where(use2, (1 - f[:, None]) / skm, 0.0)
        t5b = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t3b = np.where(use2, t5b * skmm**2 * d2 / rs**2, 0.0)
        v3 += (t4b * t4b * t3b).sum(axis=0)
        t1b = t4b[:, None, :] * c
        v2 -= np.einsum("tik,tk->ik", t1b, t4b * t3b)
        v += np.einsum("tik,tjk,tk->ij", t1b, t1b, t3b)

    cf = c[-1]
    v = v + (cf * v3) @ cf.T + cf @ v2.T + v2 @ cf.T
    k = ng - 1
    return score[:k], v[:k, :k]

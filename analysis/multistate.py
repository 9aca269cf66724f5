"""Multi-state Aalen-Johansen estimator of state-occupation probabilities, matching R ``survfit``.

Input is transition data in counting-process form: one row per person and sojourn, the person is in
``from_state`` on ``(entry, exit]`` and moves to ``to_state`` at ``exit`` (missing / ``censored`` =
no transition observed). A person's rows must chain: the next row starts in the state the previous
row ended in, and rows do not overlap (gaps are allowed: the person is simply not at risk during a
gap - R's ``survfit`` refuses gaps). Delayed entry is natural: a stock sample enters at its accrued
time ``entry > 0``.

The estimate is ``p(t) = p0 prod_{s <= t} H(s)`` where row ``a`` of ``H(s)`` holds the (weighted)
fractions of those at risk in state ``a`` just before ``s`` who are in each state just after ``s``.
``p0`` is, by default, the weighted distribution of states among rows at risk at the first
transition time (R's default); a ``start_state`` or an ``initial`` distribution can be given
instead (R's ``p0=``). Standard errors are the infinitesimal-jackknife ones of R
``survfit(Surv(entry, exit, to) ~ group, id = id, istate = from, weights = w)`` (``std.err``),
computed by the fast engine in :mod:`analysis._aj_engine`; confidence intervals as R's
``conf.type`` (default ``"log"``). With ``p0_variance=True`` the standard errors also include the
variability of the estimated ``p0`` (R: ``influence = TRUE``; R's default leaves it out).

Equivalent R call (tested in ``tests/analysis/test_multistate_r.py`` against fixtures from
``tests/r/nonparametric_fixtures.R``)::

    survfit(Surv(entry, exit, factor(to, c("censor", states))) ~ group, data, id = id,
            istate = factor(from, states), weights = w)

Transition probabilities ``P(s, t)`` (:meth:`MultiStateResult.transition_probabilities`): every
entry ``P_ab(s, t)`` = probability of being in ``b`` at ``t`` given ``a`` at ``s`` (Markov
Aalen-Johansen, transitions in ``(s, t]``; persons entering late - left truncation - count from
their entry) with standard errors of either kind (tested in
``tests/analysis/test_multistate_inference_r.py`` against ``tests/r/multistate_inference_fixtures.R``):

* ``variance="ij"`` (default, the kind of the occupation standard errors): infinitesimal jackknife,
  row ``a`` = R ``survfit(..., id = id, istate = from, start.time = s, p0 = e_a)``'s ``std.err``;
  weights allowed.
* ``variance="greenwood"``: the Greenwood-type delta-method variance of R ``etm(..., s = s,
  covariance = TRUE)``; unweighted data only (etm has no weights).

Missing values (``missing=``, the rule of :func:`analysis._base.drop_missing`): a row with a
missing ``id``, ``entry``, ``exit``, ``from_state``, ``weights`` or ``group`` value is dropped and
counted in ``n_missing``; a missing ``to_state`` is not missing data but censoring (see ``fit``).
Dropping a row leaves a gap in the person's history, during which the person is at risk nowhere.
If the states on both sides of that gap differ (the dropped row held a transition), the person
re-enters at the end of the gap in the state of their next row - the transition itself is lost,
like a left-truncated re-entry; the chain check is waived only there (same person, after a dropped
row, across a gap). R ``survfit`` refuses such a history (survcheck "jump"); its estimate equals
ours on the rows kept with the rows after each gap given a new id.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis import _curves
from analysis._aj_engine import (
    aalen_johansen,
    transition_greenwood_variance,
    transition_ij_std_error,
)
from analysis._base import MissingPolicy, drop_missing

__all__ = [
    "MultiStateAalenJohansen",
    "MultiStateResult",
    "StateOccupationCurves",
]

_TIDY = ["state", "time", "estimate", "std_error", "conf_low", "conf_high", "n_risk", "n_event"]
_TRANSITION_COLUMNS = ["from_state", "to_state", "s", "time", "estimate", "std_error",
                       "conf_low", "conf_high"]  # fmt: skip
TRANSITION_CONF_TYPES = ("log", "log-log", "plain", "cloglog")


@dataclass(frozen=True)
class StateOccupationCurves:
    """State-occupation probabilities of one group at each distinct transition time.

    Attributes
    ----------
    time
        Distinct transition times, shape (K,).
    states
        State labels, in column order.
    estimate
        P(in state j at time t), shape (K, S); rows sum to one.
    std_error
        IJ standard errors (probability scale), as R ``survfit`` ``std.err``.
    conf_low, conf_high
        Pointwise confidence limits.
    n_risk
        Persons (rows) at risk in each state just before each time, shape (K, S).
    n_event
        Transitions into each state at each time (R's ``n.event``), shape (K, S).
    n_transition
        Transitions ``from -> to`` at each time, shape (K, S, S).
    hazard_matrices
        Aalen-Johansen factors ``H(t)`` (rows sum to one), shape (K, S, S).
    p0
        Initial distribution, shape (S,).
    p0_std_error
        Standard error of ``p0`` (zero unless estimated with ``p0_variance=True``).
    """

    time: np.ndarray
    states: tuple[Hashable, ...]
    estimate: np.ndarray
    std_error: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_transition: np.ndarray
    hazard_matrices: np.ndarray
    p0: np.ndarray
    p0_std_error: np.ndarray

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False


@dataclass(frozen=True)
class _Rows:
    """Fitted rows of one group (sorted by person and entry), kept for the IJ variance of
    ``P(s, t)``. ``person`` is an integer code, not the input id."""

    entry: np.ndarray
    exit: np.ndarray
    from_state: np.ndarray
    to_state: np.ndarray
    weight: np.ndarray
    person: np.ndarray

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).flags.writeable = False


@dataclass(frozen=True)
class MultiStateResult:
    """Result of :meth:`MultiStateAalenJohansen.fit`: one curve set per group.

    ``n`` = persons per group; ``n_missing`` = input rows dropped for missing values;
    ``weighted`` = case weights other than one were used.
    """

    curves: MappingProxyType[Hashable, StateOccupationCurves]
    group: str | None
    states: tuple[Hashable, ...]
    conf_level: float
    conf_type: str
    n: MappingProxyType[Hashable, int]
    n_missing: int = 0
    weighted: bool = False
    _rows: MappingProxyType[Hashable, _Rows] | None = field(default=None, repr=False, compare=False)
    variance: str = "ij"

    def glance(self) -> pd.DataFrame:
        """One row per group: ``[group,] nobs, n_event, n_missing, variance, conf_level,
        conf_type`` (``nobs`` persons, ``n_event`` transitions, unweighted)."""
        events = {k: float(np.sum(c.n_event)) for k, c in self.curves.items()}
        return _curves.curve_glance(self.group, self.n, events, self.n_missing, self.variance,
                                    self.conf_level, self.conf_type)  # fmt: skip

    def tidy(self) -> pd.DataFrame:
        """Long table ``[group,] state, time, estimate, std_error, conf_low, conf_high, n_risk,
        n_event``: one row per group, state and distinct transition time. ``n_risk`` = persons at
        risk in the state just before the time, ``n_event`` = transitions into the state at it."""
        frames = []
        for key, c in self.curves.items():
            k = c.time.size
            for j, state in enumerate(c.states):
                f = pd.DataFrame(
                    {
                        "state": np.repeat(np.asarray([state], dtype=object), k),
                        "time": np.array(c.time),
                        "estimate": np.array(c.estimate[:, j]),
                        "std_error": np.array(c.std_error[:, j]),
                        "conf_low": np.array(c.conf_low[:, j]),
                        "conf_high": np.array(c.conf_high[:, j]),
                        "n_risk": np.array(c.n_risk[:, j]),
                        "n_event": np.array(c.n_event[:, j]),
                    }
                )
                if self.group is not None:
                    f.insert(0, self.group, key)
                frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def evaluate(self, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """Occupation probabilities, standard errors and CIs at ``times`` (right-continuous; ``p0``
        and its standard error before the first transition)."""
        at = np.asarray(times, dtype=float)
        frames = []
        for key, c in self.curves.items():
            est = _curves.step_values(c.time, c.estimate, at, c.p0)
            se = _curves.step_values(c.time, c.std_error, at, c.p0_std_error)
            low0, high0 = _curves.confint(c.p0, c.p0_std_error, self.conf_level, self.conf_type)
            low = _curves.step_values(c.time, c.conf_low, at, low0)
            high = _curves.step_values(c.time, c.conf_high, at, high0)
            for j, state in enumerate(c.states):
                f = pd.DataFrame(
                    {
                        "state": np.repeat(np.asarray([state], dtype=object), at.size),
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

    def transition_matrix(self, s: float, t: float, group: Hashable | None = None) -> pd.DataFrame:
        """Aalen-Johansen transition-probability matrix ``P(s, t)`` (rows: state at ``s``, columns:
        state at ``t``) = product of ``H(u)`` over transition times ``s < u <= t``.

        Estimates only (as ``etm::etm(..., s = s)``'s ``est``); no standard errors.
        """
        if t < s:
            raise ValueError(f"need s <= t, got s={s}, t={t}")
        c = self._curve(group)
        lo, hi = np.searchsorted(c.time, [s, t], side="right")
        p = np.eye(len(c.states))
        for h in c.hazard_matrices[lo:hi]:
            p = p @ h
        labels = pd.Index(list(c.states), dtype=object)
        return pd.DataFrame(p, index=labels.rename("from"), columns=labels.rename("to"))

    def transition_probabilities(
        self,
        s: float,
        t: float | Sequence[float] | np.ndarray,
        group: Hashable | None = None,
        variance: Literal["ij", "greenwood"] = "ij",
        conf_type: str | None = None,
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """All entries of ``P(s, t)`` with standard errors and pointwise confidence intervals.

        Parameters
        ----------
        s
            Conditioning time: ``P_ab(s, t)`` = P(in ``b`` at ``t`` | in ``a`` at ``s``), using
            the transitions in ``(s, t]`` (time unit of ``entry``/``exit``).
        t
            One time or several, each ``>= s``.
        group
            One group; by default every group (a group column is added when grouped).
        variance
            ``"ij"``: infinitesimal jackknife, as R ``survfit(..., start.time = s, p0 = e_a)``
            ``std.err`` for row ``a`` (``s`` between transition times; R counts a transition at
            exactly ``start.time``). ``"greenwood"``: Greenwood-type variance of R
            ``etm(..., s = s)`` (unweighted fits only).
        conf_type
            ``"log"``, ``"log-log"``, ``"plain"`` (R survfit's / etm's ``"log"``, ``"log-log"``,
            ``"linear"``) or ``"cloglog"`` (etm: on ``log(-log(1 - P))``); default: the fit's.
        conf_level
            Default: the fit's.

        Returns
        -------
        Long table ``[group,] from_state, to_state, s, time, estimate, std_error, conf_low,
        conf_high``: one row per group, ``t`` and ordered pair of states (S^2 per time);
        ``std_error`` on the probability scale. The confidence limits are missing where the
        transform is undefined (``P`` = 0 for ``"log"``; 0 or 1 for ``"log-log"``/``"cloglog"``).
        """
        conf_type = self.conf_type if conf_type is None else conf_type
        conf_level = self.conf_level if conf_level is None else conf_level
        if conf_type not in TRANSITION_CONF_TYPES:
            raise ValueError(f"conf_type must be one of {TRANSITION_CONF_TYPES}, got {conf_type!r}")
        _curves.check_conf(conf_level, "log")
        at = np.atleast_1d(np.asarray(t, dtype=float))
        if not np.isfinite(s) or np.any(~np.isfinite(at)) or np.any(at < s):
            raise ValueError(f"need finite s <= t, got s={s}, t={at.tolist()}")
        if variance not in ("ij", "greenwood"):
            raise ValueError(f"variance must be 'ij' or 'greenwood', got {variance!r}")
        if variance == "greenwood" and self.weighted:
            raise ValueError(
                "variance='greenwood' (etm) is defined for unweighted data; use variance='ij'"
            )
        keys = list(self.curves) if group is None else [group]
        frames = []
        for key in keys:
            c = self._curve(key)
            if variance == "ij":
                if self._rows is None:
                    raise ValueError("this result carries no rows for the IJ variance")
                r = self._rows[key]
                est, se = transition_ij_std_error(
                    r.entry, r.exit, r.from_state, r.to_state, r.weight, r.person,
                    len(c.states), float(s), at,
                )  # fmt: skip
            else:
                est, se = _greenwood_at(c, float(s), at)
            low, high = _transition_confint(est, se, conf_level, conf_type)
            sn = len(c.states)
            lab = np.asarray(c.states, dtype=object)
            f = pd.DataFrame(
                {
                    "from_state": np.tile(np.repeat(lab, sn), at.size),
                    "to_state": np.tile(np.tile(lab, sn), at.size),
                    "s": float(s),
                    "time": np.repeat(at, sn * sn),
                    "estimate": est.ravel(),
                    "std_error": se.ravel(),
                    "conf_low": low.ravel(),
                    "conf_high": high.ravel(),
                },
                columns=_TRANSITION_COLUMNS,
            )
            if self.group is not None:
                f.insert(0, self.group, key)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def _curve(self, group: Hashable | None) -> StateOccupationCurves:
        if group is None:
            if len(self.curves) != 1:
                raise ValueError(f"several groups fitted; choose one of {list(self.curves)}")
            return next(iter(self.curves.values()))
        if group not in self.curves:
            raise KeyError(f"no group {group!r}; groups: {list(self.curves)}")
        return self.curves[group]

    def summary(self) -> str:
        """Short text: per group, persons, transitions and the occupation at the last time."""
        lines = [
            f"Multi-state Aalen-Johansen ({self.conf_type} {self.conf_level:.0%} CI); "
            f"rows dropped for missing values: {self.n_missing}"
        ]
        for key, c in self.curves.items():
            label = "all" if self.group is None else f"{self.group}={key}"
            last = c.estimate[-1] if c.time.size else c.p0
            occ = ", ".join(f"{st}: {p:.3f}" for st, p in zip(c.states, last, strict=True))
            t_last = f"{c.time[-1]:g}" if c.time.size else "start"
            lines.append(
                f"  {label}: n = {self.n.get(key, 0)}, transitions = {int(c.n_event.sum())}; "
                f"at {t_last}: {occ}"
            )
        return "\n".join(lines)


class MultiStateAalenJohansen:
    """Multi-state Aalen-Johansen estimator (state occupation over time).

    Parameters
    ----------
    conf_level
        Confidence level.
    conf_type
        ``"log"`` (R's default), ``"log-log"`` or ``"plain"``.
    p0_variance
        Add the variance of the estimated initial distribution (R ``influence=TRUE``); only
        matters when ``p0`` is estimated and not degenerate.
    variance
        ``"ij"`` (the only one): infinitesimal-jackknife standard errors of the occupation
        probabilities (R ``survfit``'s ``std.err``); the transition matrix offers more, see
        :meth:`MultiStateResult.transition_probabilities`.
    missing
        ``"drop"`` (default): drop rows with a missing ``id``, ``entry``, ``exit``,
        ``from_state``, ``weights`` or ``group`` and count them in ``n_missing`` (a change of
        state across the gap a dropped row leaves is accepted, see the module docstring);
        ``"raise"``: refuse them.
    """

    def __init__(
        self,
        conf_level: float = 0.95,
        conf_type: Literal["log", "log-log", "plain"] = "log",
        p0_variance: bool = False,
        variance: Literal["ij"] = "ij",
        missing: MissingPolicy = "drop",
    ) -> None:
        if variance != "ij":
            raise ValueError(f"variance must be 'ij', got {variance!r}")
        self.variance = variance
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.p0_variance = p0_variance
        self.missing = missing

    def fit(
        self,
        df: pd.DataFrame,
        id: str,
        entry: str,
        exit: str,
        from_state: str,
        to_state: str,
        weights: str | None = None,
        group: str | None = None,
        start_state: Hashable | None = None,
        initial: Mapping[Hashable, float] | None = None,
        states: Sequence[Hashable] | None = None,
        censored: Hashable | None = None,
    ) -> MultiStateResult:
        """Fit state-occupation curves.

        Parameters
        ----------
        df
            One row per person and sojourn.
        id
            Person identifier.
        entry, exit
            Sojourn interval ``(entry, exit]`` (time since origin, e.g. days of seniority).
        from_state
            State occupied during the row.
        to_state
            State entered at ``exit``; missing (or equal to ``censored``) = censored - so a
            missing ``to_state`` never drops a row. A value equal to ``from_state`` is not a
            transition (as in R).
        weights
            Positive case weights (one per row; R uses the weight of a person's current row).
        group
            Column defining separate curves (constant within person).
        start_state
            Start everybody in this state (``p0`` = indicator), instead of the estimated ``p0``.
        initial
            Initial distribution ``{state: probability}`` (sums to 1), instead of the estimate.
        states
            Order of the states in the output (default: sorted labels).
        censored
            Extra ``to_state`` value meaning censored (e.g. ``0`` or ``"censor"``).
        """
        _curves.check_conf(self.conf_level, self.conf_type)
        if self.missing not in ("drop", "raise"):
            raise ValueError(f"missing must be 'drop' or 'raise', got {self.missing!r}")
        _curves.require(df, [id, entry, exit, from_state, to_state, weights, group])
        if start_state is not None and initial is not None:
            raise ValueError("give start_state or initial, not both")
        df, broken, origin = _drop_missing_rows(
            df, [id, entry, exit, from_state, weights, group], id, self.missing
        )
        n_missing = len(broken)
        start, stop = _curves.interval_columns(df, exit, entry)
        w = _curves.weight_column(df, weights)
        if df[from_state].isna().any():
            raise ValueError(f"from_state column {from_state!r} has missing values")
        to_raw = df[to_state]
        is_cens = to_raw.isna().to_numpy().copy()
        if censored is not None:
            is_cens |= (to_raw == censored).to_numpy()
        labels = _state_labels(df[from_state], to_raw[~is_cens], states)
        lookup = {lab: i for i, lab in enumerate(labels)}
        from_idx = _codes(df[from_state], labels)
        to_idx = np.where(is_cens, -1, _codes(to_raw.where(~is_cens), labels))
        person = _curves_person(df, id)
        waive = df[id].isin(broken).to_numpy() if n_missing else np.zeros(len(df), dtype=bool)
        gl, codes = _curves.group_codes(df, group, _TIDY)
        # sort once by person and entry (skipped when already sorted); everything below is sorted
        order = _person_order(person, start)
        if order is not None:
            person, start, stop, from_idx, to_idx, codes, w, waive = (
                a[order] for a in (person, start, stop, from_idx, to_idx, codes, w, waive)
            )
        origin = origin if order is None else origin[order]  # input row of each sorted row
        _check_chain(person, start, stop, from_idx, to_idx, codes, labels, origin, waive)

        p0 = None
        s = len(labels)
        if start_state is not None:
            if start_state not in lookup:
                raise ValueError(f"start_state {start_state!r} is not a state: {labels}")
            p0 = np.eye(s)[lookup[start_state]]
        elif initial is not None:
            p0 = np.zeros(s)
            for lab, prob in initial.items():
                if lab not in lookup:
                    raise ValueError(f"initial state {lab!r} is not a state: {labels}")
                p0[lookup[lab]] = float(prob)
            if np.any(p0 < 0) or abs(p0.sum() - 1.0) > 1e-8:
                raise ValueError("initial distribution must be non-negative and sum to 1")

        curves, counts, kept = {}, {}, {}
        for g, key in enumerate(gl):
            rows = np.flatnonzero(codes == g)
            local_person, uniq = pd.factorize(person[rows])
            n_persons = int(uniq.size)
            out = aalen_johansen(
                entry=start[rows],
                exit=stop[rows],
                from_state=from_idx[rows],
                to_state=to_idx[rows],
                weight=w[rows],
                person=local_person,
                n_states=s,
                p0=p0,
                p0_variance=self.p0_variance,
                presorted=True,
            )
            assert out.std_error is not None
            low, high = _curves.confint(out.pstate, out.std_error, self.conf_level, self.conf_type)
            curves[key] = StateOccupationCurves(
                time=out.times,
                states=tuple(labels),
                estimate=out.pstate,
                std_error=out.std_error,
                conf_low=low,
                conf_high=high,
                n_risk=out.n_risk,
                n_event=out.n_transition.sum(axis=1),
                n_transition=out.n_transition,
                hazard_matrices=out.hazard_matrices,
                p0=out.p0,
                p0_std_error=out.p0_std_error,
            )
            counts[key] = n_persons
            kept[key] = _Rows(start[rows], stop[rows], from_idx[rows], to_idx[rows], w[rows],
                              local_person.astype(np.int64))  # fmt: skip
        return MultiStateResult(
            curves=MappingProxyType(curves),
            group=group,
            states=tuple(labels),
            conf_level=self.conf_level,
            conf_type=self.conf_type,
            n=MappingProxyType(counts),
            n_missing=n_missing,
            weighted=bool(np.any(w != 1.0)),
            _rows=MappingProxyType(kept),
            variance=self.variance,
        )


def _drop_missing_rows(
    df: pd.DataFrame, columns: list, id: str, policy: MissingPolicy
) -> tuple[pd.DataFrame, list, np.ndarray]:
    """Rows kept (:func:`analysis._base.drop_missing`), the person id of each dropped row
    (``None`` when the id itself is missing) and the input position of each kept row."""
    kept, n_drop = drop_missing(df, columns, policy, what="multi-state data")
    if n_drop == 0:
        return kept, [], np.arange(len(df))
    if len(kept) == 0:
        raise ValueError(f"all {n_drop} rows have missing values in {[c for c in columns if c]}")
    bad = df[[c for c in dict.fromkeys(columns) if c is not None]].isna().any(axis=1).to_numpy()
    dropped = df[id].to_numpy()[bad]
    return kept, [None if pd.isna(v) else v for v in dropped], np.flatnonzero(~bad)


def _greenwood_at(
    c: StateOccupationCurves, s: float, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``P(s, t)`` and etm's Greenwood-type standard errors at each ``t`` in ``at``."""
    lo = int(np.searchsorted(c.time, s, side="right"))
    est, se = [], []
    for t in at:
        hi = int(np.searchsorted(c.time, t, side="right"))
        p, var = transition_greenwood_variance(
            c.hazard_matrices[lo:hi], c.n_transition[lo:hi], c.n_risk[lo:hi]
        )
        est.append(p)
        se.append(np.sqrt(var))
    return np.array(est), np.array(se)


def _transition_confint(
    p: np.ndarray, se: np.ndarray, conf_level: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of transition probabilities: :func:`analysis._curves.confint` for ``"log"``,
    ``"log-log"``, ``"plain"``; ``"cloglog"`` as etm ``ci.fun = "cloglog"``:
    ``1 - (1 - P)^exp(-/+ z se / ((1 - P) log(1 - P)))``, missing where ``P`` is 1 or (``P``
    is 0 and ``se > 0``); ``[0, 0]`` where ``P = 0`` with zero ``se`` (as etm)."""
    if conf_type != "cloglog":
        with np.errstate(over="ignore"):  # log-log near P = 1: limits go to 0 / 1
            return _curves.confint(p, se, conf_level, conf_type)
    z = stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0)
    q = np.where((p <= 0) | (p >= 1), np.nan, 1.0 - p)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        h = z * se / (q * np.log(q))
        low = 1.0 - q ** np.exp(h)
        high = 1.0 - q ** np.exp(-h)
    zero = (p == 0) & (se == 0)
    low, high = np.where(zero, 0.0, low), np.where(zero, 0.0, high)
    return np.maximum(low, 0.0), np.minimum(high, 1.0)


def _state_labels(
    from_values: pd.Series, to_values: pd.Series, states: Sequence[Hashable] | None
) -> list:
    seen = list(pd.unique(pd.concat([pd.Series(pd.unique(from_values)),
                                     pd.Series(pd.unique(to_values))], ignore_index=True)))  # fmt: skip
    if states is None:
        try:
            return sorted(seen)
        except TypeError:
            return seen
    if len(set(states)) != len(states):
        raise ValueError("states has duplicates")
    missing = [x for x in seen if x not in set(states)]
    if missing:
        raise ValueError(f"states {missing} occur in the data but not in states={list(states)}")
    return list(states)


def _codes(values: pd.Series, labels: list) -> np.ndarray:
    """Integer code of each value in ``labels`` (-1 for missing), hash-based (fast for strings)."""
    codes: np.ndarray = pd.Categorical(values, categories=labels).codes
    return codes.astype(np.int64)


def _curves_person(df: pd.DataFrame, id: str) -> np.ndarray:
    values = df[id]
    if values.isna().any():
        raise ValueError(f"id column {id!r} has missing values")
    codes: np.ndarray = pd.factorize(values)[0]
    return codes.astype(np.int64)


def _person_order(person: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """Permutation sorting rows by (person, entry), or ``None`` if they already are."""
    dp = np.diff(person)
    if np.all((dp > 0) | ((dp == 0) & (np.diff(start) >= 0))):
        return None
    return np.lexsort((start, person))


def _check_chain(
    person: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    from_idx: np.ndarray,
    to_idx: np.ndarray,
    group: np.ndarray,
    labels: list,
    order: np.ndarray | None,
    waive: np.ndarray | None = None,
) -> None:
    """Rows sorted by person and entry must not overlap, must chain in state, stay in one group.

    ``order`` maps sorted positions to input row positions (for the error message). ``waive`` marks
    rows of persons who lost rows to missing values: for them a change of state across a gap
    (the place of a dropped row) is accepted."""
    same = person[1:] == person[:-1]

    def row(i: int) -> int:
        return int(order[i + 1]) if order is not None else i + 1

    overlap = same & (start[1:] < stop[:-1])
    if overlap.any():
        raise ValueError(
            f"rows of the same person overlap in time (e.g. row {row(np.flatnonzero(overlap)[0])})"
        )
    after = np.where(to_idx >= 0, to_idx, from_idx)  # state after each row
    bad = same & (from_idx[1:] != after[:-1])
    if waive is not None:
        bad &= ~(waive[1:] & (start[1:] > stop[:-1]))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row(i)} starts in state {labels[from_idx[i + 1]]!r} but the person's previous "
            f"row ended in {labels[after[i]]!r}"
        )
    if np.any(same & (group[1:] != group[:-1])):
        raise ValueError("a person's rows belong to different groups")

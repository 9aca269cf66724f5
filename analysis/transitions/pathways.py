"""Predicted pathways: state occupation over time from a fitted monthly transition model.

Time-varying seniority makes the process semi-Markov in the state alone; it is Markov in the pair
(state, months in the state). Two engines use that:

:func:`predict_occupation` (exact)
    A Markov chain on (state, duration) for one covariate profile: the probability mass over the
    reachable cells (the start cell, and every state with each duration below the elapsed time) is
    pushed forward month by month with the model's transition probabilities, so the occupation
    probabilities carry no simulation error. The design matrices of the cells do not depend on the
    coefficients, so a parametric bootstrap (coefficients drawn from their estimated normal
    distribution, cluster-robust covariance; origins drawn independently) re-uses them: uncertainty
    bands cost one matrix product per draw and step.
:func:`simulate_paths` (microsimulation)
    Individual monthly paths for many persons (e.g. the members of a cohort, each with their own
    covariates), needed for summaries that depend on the whole path such as the predominant state
    of each half-year (the hovedveje definition).

Along a path the :class:`Clock` updates the time-varying covariates: months in the current state
(and seniority on KH), calendar month, age (calendar year minus birth year) and the derived clock
terms; every other covariate (characteristics, and the exposures of a profile such as "no paid
hours") is held at its starting value - a profile's exposures are conditions that are assumed to
persist while on KH, not forecasts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.transitions.frames import add_clock_columns
from analysis.transitions.model import TransitionModelResult

__all__ = [
    "Clock",
    "OccupationPrediction",
    "predict_occupation",
    "simulate_paths",
]


@dataclass(frozen=True)
class Clock:
    """How the time-varying covariates of a row move along a path.

    Attributes
    ----------
    state, duration
        Columns of the current state and the months spent in it (0 in the first month).
    seniority
        Column set to ``duration`` while in ``kh_state`` and missing otherwise (``None``: none).
    month, month_index
        Calendar month (first day) and month counter, advanced by one per step (``None``: none).
    age, birth_year
        Age in years = calendar year of ``month`` minus ``birth_year`` (``None``: age fixed).
    features
        Function recomputing derived covariates in place (default:
        :func:`analysis.transitions.frames.add_clock_columns`).
    """

    state: str = "state"
    duration: str = "duration_months"
    seniority: str | None = "seniority_months"
    kh_state: Hashable = "kh"
    month: str | None = "month"
    month_index: str | None = "month_index"
    age: str | None = "age"
    birth_year: str | None = "birth_year"
    features: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=add_clock_columns)

    def frame(
        self,
        base: pd.DataFrame,
        rows: np.ndarray,
        state: np.ndarray,
        duration: np.ndarray,
        step: int,
    ) -> pd.DataFrame:
        """Rows ``rows`` of ``base`` moved ``step`` months on, in ``state`` with ``duration``."""
        cols = list(base.columns)
        if self.state in cols:  # replaced below: not copied (a string column is slow to take)
            at = cols.index(self.state)
            f = base.iloc[rows, [i for i in range(len(cols)) if i != at]].reset_index(drop=True)
            f.insert(at, self.state, pd.Series(np.asarray(state, dtype=object), dtype=object))
        else:
            f = base.iloc[rows].reset_index(drop=True)
            f[self.state] = pd.Series(np.asarray(state, dtype=object), dtype=object)
        f[self.duration] = np.asarray(duration, dtype=float)
        if self.seniority is not None:
            on = np.asarray(state, dtype=object) == self.kh_state
            f[self.seniority] = np.where(on, f[self.duration].to_numpy(), np.nan)
        has_month = self.month is not None and self.month in f
        if has_month:
            moved, year = _move_months(f[self.month], step)
            if step:
                f[self.month] = moved
        if step and self.month_index is not None and self.month_index in f:
            f[self.month_index] = f[self.month_index] + step
        if self.age is not None and self.birth_year is not None and self.birth_year in f:
            if has_month:
                f[self.age] = year - f[self.birth_year]
        if self.features is not None:
            self.features(f)
        return f


def _move_months(month: pd.Series, step: int) -> tuple[pd.Series | pd.DatetimeIndex, pd.Series]:
    """``month`` moved ``step`` months on, and the calendar year of the moved month. Each distinct
    month is moved once (a cohort enters in a few months; the rows are many)."""
    if pd.api.types.is_datetime64_dtype(month.dtype) and not month.isna().any():
        codes, uniq = pd.factorize(month)
        moved = pd.DatetimeIndex(uniq) + pd.DateOffset(months=step) if step else uniq
        years = pd.DatetimeIndex(moved).year
        out = pd.Series(moved.take(codes), index=month.index, dtype=month.dtype)
        return out, pd.Series(years.to_numpy()[codes], index=month.index, dtype=years.dtype)
    moved = pd.DatetimeIndex(month) + pd.DateOffset(months=step) if step else month
    return moved, pd.Series(pd.DatetimeIndex(moved).year, index=month.index)


@dataclass(frozen=True)
class OccupationPrediction:
    """State-occupation probabilities of one profile over months.

    Attributes
    ----------
    states
        State labels (columns).
    estimate
        ``(n_months + 1, S)``: row ``t`` = probabilities after ``t`` monthly transitions (row 0 =
        the starting month).
    draws
        ``(n_draws, n_months + 1, S)`` from the parametric bootstrap (empty without draws).
    """

    states: tuple
    estimate: np.ndarray
    draws: np.ndarray

    def tidy(self, conf_level: float = 0.95) -> pd.DataFrame:
        """``month`` (transitions since the start), ``state``, ``probability`` and, with draws,
        percentile ``conf_low``/``conf_high``."""
        t = np.arange(self.estimate.shape[0])
        out = pd.DataFrame(
            {
                "month": np.repeat(t, len(self.states)),
                "state": np.tile(np.asarray(self.states, dtype=object), len(t)),
                "probability": self.estimate.ravel(),
            }
        )
        if self.draws.size:
            a = (1 - conf_level) / 2
            out["conf_low"] = np.quantile(self.draws, a, axis=0).ravel()
            out["conf_high"] = np.quantile(self.draws, 1 - a, axis=0).ravel()
        return out

    def at_months(self, months: list[int] | np.ndarray, conf_level: float = 0.95) -> pd.DataFrame:
        """:meth:`tidy` restricted to the given months (e.g. 5, 11, 17, 23 = the last month of
        each half-year when month 0 is the entry month)."""
        t = self.tidy(conf_level)
        return t[t["month"].isin(list(months))].reset_index(drop=True)


def _softmax_ref(eta: np.ndarray) -> np.ndarray:
    """Probabilities with a zero reference column first; ``eta`` (..., J)."""
    m = (
        np.maximum(eta.max(axis=-1, keepdims=True), 0.0)
        if eta.shape[-1]
        else np.zeros(eta.shape[:-1] + (1,))
    )
    e = np.exp(eta - m)
    ref = np.exp(-m)
    denom = ref + e.sum(axis=-1, keepdims=True)
    return np.concatenate([ref, e], axis=-1) / denom


def predict_occupation(
    model: TransitionModelResult,
    profile: Mapping[str, object] | pd.DataFrame,
    n_months: int,
    *,
    start_state: Hashable | None = None,
    start_duration: float | None = None,
    clock: Clock | None = None,
    n_draws: int = 0,
    seed: int | np.random.Generator | None = None,
    coef_draws: Mapping[Hashable, np.ndarray] | None = None,
) -> OccupationPrediction:
    """Exact state occupation of one profile over ``n_months`` monthly transitions.

    Parameters
    ----------
    model
        Fitted monthly transition model (one multinomial logit per origin).
    profile
        One row of covariates in the model frame's columns (clock columns included: state,
        duration/seniority, month, age, birth_year ...).
    n_months
        Number of monthly transitions to predict.
    start_state, start_duration
        Starting state and months already spent in it (default: the profile's values).
    clock
        Covariate clock (default :class:`Clock`).
    n_draws, seed
        Parametric bootstrap draws of the coefficients (0 = point estimate only).
    coef_draws
        Pre-drawn coefficients ``{origin: (n_draws, K, J)}`` instead of ``n_draws``/``seed`` (e.g.
        the same draws for several profiles).
    """
    clock = clock or Clock()
    base = profile if isinstance(profile, pd.DataFrame) else pd.DataFrame([dict(profile)])
    if len(base) != 1:
        raise ValueError("predict_occupation needs exactly one profile row")
    base = base.reset_index(drop=True)
    states = list(model.states)
    s_idx = {s: i for i, s in enumerate(states)}
    s0 = start_state if start_state is not None else base.loc[0, clock.state]
    if s0 not in s_idx:
        raise ValueError(f"start state {s0!r} is not a state of the model: {states}")
    d0 = float(start_duration if start_duration is not None else base.loc[0, clock.duration])
    if not np.isfinite(d0) or d0 < 0:
        raise ValueError("the starting duration must be a non-negative number of months")
    d0 = int(round(d0))

    if coef_draws is None and n_draws > 0:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        coef_draws = {o: m.draw_coefficients(n_draws, rng) for o, m in model.models.items()}
    n_b = 0 if coef_draws is None else len(next(iter(coef_draws.values()))) if coef_draws else 0
    # coefficient stacks: index 0 = point estimate, then the draws
    coefs = {
        o: np.concatenate([m.coef[None], coef_draws[o]]) if n_b else m.coef[None]
        for o, m in model.models.items()
    }
    n_sets = 1 + n_b
    n_s = len(states)
    max_d = d0 + n_months + 1
    # mass[b, s, d]; absorbing states keep everything at d = 0
    mass = np.zeros((n_sets, n_s, max_d + 1))
    mass[:, s_idx[s0], d0] = 1.0
    occ = np.zeros((n_sets, n_months + 1, n_s))
    occ[:, 0, s_idx[s0]] = 1.0
    for t in range(n_months):
        new = np.zeros_like(mass)
        for s in states:
            i = s_idx[s]
            if s not in model.models:
                new[:, i, 0] += mass[:, i, :].sum(axis=1)
                continue
            # reachable durations at time t: below t (entered after the start) and d0 + t
            ds = np.arange(t) if s != s0 else np.append(np.arange(t), d0 + t)
            ds = np.unique(ds)
            if ds.size == 0:
                continue
            m = mass[:, i, ds]
            if not m.any():
                continue
            rows = clock.frame(
                base, np.zeros(ds.size, np.int64), np.full(ds.size, s, dtype=object), ds, t
            )
            mod = model.models[s]
            x = mod.design_matrix(rows)
            eta = np.einsum("nk,bkj->bnj", x, coefs[s])
            p = _softmax_ref(eta)  # (B, n, J+1), column 0 = stay
            new[:, i, ds + 1] += m * p[:, :, 0]
            for jj, dest in enumerate(mod.outcomes[1:], start=1):
                new[:, s_idx[dest], 0] += (m * p[:, :, jj]).sum(axis=1)
        mass = new
        occ[:, t + 1, :] = mass.sum(axis=2)
    return OccupationPrediction(
        states=tuple(states),
        estimate=occ[0],
        draws=occ[1:] if n_b else np.zeros((0, n_months + 1, n_s)),
    )


def _slim(frame: pd.DataFrame, model: TransitionModelResult, clock: Clock) -> pd.DataFrame:
    """Only the columns the models and the clock read (copying rows of a wide model frame at
    every step costs more than the predictions)."""
    needed = {v for m in model.models.values() for v in m.builder.variables}
    needed |= {c for c in (clock.state, clock.duration, clock.seniority, clock.month,
                           clock.month_index, clock.age, clock.birth_year) if c}  # fmt: skip
    return frame[[c for c in frame.columns if c in needed]].reset_index(drop=True)


def simulate_paths(
    model: TransitionModelResult,
    start: pd.DataFrame,
    n_months: int,
    *,
    n_rep: int = 1,
    seed: int | np.random.Generator | None = None,
    clock: Clock | None = None,
) -> np.ndarray:
    """Microsimulate monthly state paths.

    Parameters
    ----------
    model
        Fitted monthly transition model.
    start
        One row per person: covariates at the start (clock columns included).
    n_months
        Monthly transitions to simulate.
    n_rep
        Paths per person.
    seed
        Random seed or generator.
    clock
        Covariate clock (default :class:`Clock`).

    Returns
    -------
    State codes ``(n_rep * len(start), n_months + 1)`` as indices into ``model.states``; row
    ``r * len(start) + i`` is replicate ``r`` of person ``i``; column 0 is the starting state.
    """
    clock = clock or Clock()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    states = list(model.states)
    s_idx = {s: i for i, s in enumerate(states)}
    base = _slim(start, model, clock)
    n = len(base) * n_rep
    person = np.tile(np.arange(len(base)), n_rep)
    cur = np.array([s_idx[s] for s in base[clock.state]], dtype=np.int64)[person]
    dur = base[clock.duration].to_numpy(dtype=float)[person].copy()
    if np.any(~np.isfinite(dur)):
        raise ValueError("every starting row needs a known duration in its state")
    paths = np.zeros((n, n_months + 1), np.int64)
    paths[:, 0] = cur
    for t in range(n_months):
        nxt = cur.copy()
        u = rng.random(n)
        for s in states:
            i = s_idx[s]
            rows = np.flatnonzero(cur == i)
            if rows.size == 0 or s not in model.models:
                continue
            mod = model.models[s]
            f = clock.frame(base, person[rows], np.full(rows.size, s, dtype=object), dur[rows], t)
            p = mod.probabilities(mod.design_matrix(f))
            choice = (u[rows, None] > np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)
            codes = np.array([s_idx[o] for o in mod.outcomes])
            nxt[rows] = codes[choice]
        dur = np.where(nxt == cur, dur + 1, 0.0)
        cur = nxt
        paths[:, t + 1] = cur
    return paths

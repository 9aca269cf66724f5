"""Plots of fitted curves: Kaplan-Meier survival, cumulative incidence, state occupation.

Plotting lives here, apart from the estimators (:mod:`analysis.survival`,
:mod:`analysis.multistate`); every plot applies the disclosure rule of
:func:`analysis._curves.guard_curve` (``min_at_risk``/``min_events``). matplotlib is imported
when a plot is drawn, so the estimators import without it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from analysis import _curves
from analysis.multistate import MultiStateResult
from analysis.survival import AalenJohansenResult, KaplanMeierResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

__all__ = ["plot_cumulative_incidence", "plot_state_occupation", "plot_survival"]


def _step_xy(
    time: np.ndarray, values: np.ndarray, start: float, initial: float
) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([[start], time]), np.concatenate([[initial], values])


def _draw_guarded(ax: Axes, c_time: np.ndarray, est: np.ndarray, low: np.ndarray,
                  high: np.ndarray, n_risk: np.ndarray, n_event: np.ndarray, initial: float,
                  min_at_risk: int | None, min_events: int | None, conf_int: bool,
                  label: str | None, **kwargs: Any) -> Line2D:  # fmt: skip
    rows = _curves.guard_curve(c_time, n_risk, n_event, min_at_risk, min_events)
    start = min(0.0, float(c_time[0])) if c_time.size else 0.0
    x, y = _step_xy(c_time[rows], est[rows], start, initial)
    (line,) = ax.step(x, y, where="post", label=label, **kwargs)
    if conf_int and rows.size:
        _, lo = _step_xy(c_time[rows], low[rows], start, initial)
        _, hi = _step_xy(c_time[rows], high[rows], start, initial)
        ax.fill_between(x, lo, hi, step="post", alpha=0.2, color=line.get_color(), linewidth=0)
    return line


def plot_survival(
    result: KaplanMeierResult,
    ax: Axes | None = None,
    conf_int: bool = True,
    min_at_risk: int | None = None,
    min_events: int | None = None,
    **kwargs: Any,
) -> Axes:
    """Step plot of Kaplan-Meier curves (one line per group) with pointwise CI bands.

    ``min_at_risk``/``min_events`` apply the disclosure rule of :func:`guard_curve` (the rule of
    :func:`analysis.disclosure.guard_curve`): each drawn step aggregates at least ``min_events``
    events, every step merged into it had at least ``min_at_risk`` persons at risk, and the curve
    ends at its last drawn step. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    for key, c in result.curves.items():
        label = None if result.group is None else f"{key}"
        _draw_guarded(ax, c.time, c.estimate, c.conf_low, c.conf_high, c.n_risk, c.n_event, 1.0,
                      min_at_risk, min_events, conf_int, label, **kwargs)  # fmt: skip
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time")
    ax.set_ylabel("survival probability")
    if result.group is not None:
        ax.legend(title=result.group)
    return ax


def plot_cumulative_incidence(
    result: AalenJohansenResult,
    ax: Axes | None = None,
    causes: Sequence[int] | None = None,
    conf_int: bool = True,
    min_at_risk: int | None = None,
    min_events: int | None = None,
    cause_labels: Mapping[int, str] | None = None,
    **kwargs: Any,
) -> Axes:
    """Step plot of cumulative incidence curves (one line per group and cause) with CI bands.

    Disclosure arguments as in :func:`plot_survival`; events are counted per cause (each drawn step
    of a cause's curve aggregates at least ``min_events`` events of that cause). Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    chosen = result.causes if causes is None else tuple(causes)
    unknown = set(chosen) - set(result.causes)
    if unknown:
        raise ValueError(f"unknown causes {sorted(unknown)}; fitted causes: {result.causes}")
    names = cause_labels or {}
    for key, c in result.curves.items():
        for cause in chosen:
            j = c.causes.index(cause)
            parts = [] if result.group is None else [str(key)]
            parts.append(str(names.get(cause, cause)))
            _draw_guarded(ax, c.time, c.estimate[:, j], c.conf_low[:, j], c.conf_high[:, j],
                          c.n_risk, c.n_event[:, j], 0.0, min_at_risk, min_events, conf_int,
                          ", ".join(parts), **kwargs)  # fmt: skip
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time")
    ax.set_ylabel("cumulative incidence")
    ax.legend()
    return ax


def plot_state_occupation(
    result: MultiStateResult,
    ax: Axes | None = None,
    group: Hashable | None = None,
    kind: Literal["lines", "stacked"] = "lines",
    conf_int: bool = True,
    min_at_risk: int | None = None,
    min_events: int | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot state occupation of one group: step lines with CI bands, or a stacked area.

    Disclosure (``min_at_risk``/``min_events``, rule of :func:`analysis.survival.guard_curve`) uses
    the total number at risk (all states) and, if ``min_events`` is given, the total number of
    transitions per time.
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    c = result._curve(group)
    rows = _curves.guard_curve(
        c.time,
        c.n_risk.sum(axis=1),
        c.n_event.sum(axis=1) if min_events else None,
        min_at_risk,
        min_events,
    )
    x = np.concatenate([[min(0.0, float(c.time[0])) if c.time.size else 0.0], c.time[rows]])
    est = np.vstack([c.p0, c.estimate[rows]])
    lo = np.vstack([c.p0, c.conf_low[rows]])
    hi = np.vstack([c.p0, c.conf_high[rows]])
    if kind == "stacked":
        ax.stackplot(x, est.T, labels=[str(s) for s in c.states], step="post", **kwargs)
        ax.set_ylim(0, 1)
    else:
        for j, state in enumerate(c.states):
            (line,) = ax.step(x, est[:, j], where="post", label=str(state), **kwargs)
            if conf_int:
                ax.fill_between(x, lo[:, j], hi[:, j], step="post", alpha=0.2,
                                color=line.get_color(), linewidth=0)  # fmt: skip
        ax.set_ylim(0, 1.02)
    ax.set_xlabel("time")
    ax.set_ylabel("probability in state")
    ax.legend()
    return ax

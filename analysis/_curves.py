"""Small shared helpers for the non-parametric curve estimators (validation, CIs, step functions,
disclosure guard for drawn curves)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._base import require_columns

CONF_TYPES = ("log", "log-log", "plain")


def check_conf(conf_level: float, conf_type: str) -> None:
    """Raise ``ValueError`` for a confidence level outside (0, 1) or an unknown CI type."""
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}")
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")


def confint(
    p: np.ndarray, se: np.ndarray, conf_level: float, conf_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of a probability ``p`` with standard error ``se`` (on the probability scale).

    Same as R ``survival:::survfit_confint(p, se, logse=FALSE, conf.type, conf.int)``:
    ``"log"``: ``p * exp(-/+ z se / p)``, upper capped at 1, missing where ``p == 0``;
    ``"log-log"``: on ``log(-log p)``, missing where ``p`` is 0 or 1;
    ``"plain"``: ``p -/+ z se`` clipped to [0, 1].
    """
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    z = stats.norm.ppf(1.0 - (1.0 - conf_level) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_log = np.where(se == 0, 0.0, se / p)  # se of log p
        if conf_type == "plain":
            half = se_log * p * z
            return np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            return xx * np.exp(-z * se_log), np.minimum(xx * np.exp(z * se_log), 1.0)
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            half = z * se_log / np.log(xx)
            loglog = np.log(-np.log(xx))
            return np.exp(-np.exp(loglog - half)), np.exp(-np.exp(loglog + half))
    raise ValueError(f"unknown conf_type {conf_type!r}")


def numeric_column(df: pd.DataFrame, name: str, what: str) -> np.ndarray:
    """Column ``name`` as a float array; ``ValueError`` if missing values or non-numeric."""
    try:
        values: np.ndarray = pd.to_numeric(df[name], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} column {name!r} must be numeric") from exc
    if np.isnan(values).any():
        raise ValueError(f"{what} column {name!r} has {int(np.isnan(values).sum())} missing values")
    return values


def interval_columns(
    df: pd.DataFrame, duration: str, entry: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(entry, exit)`` arrays; entry is ``-inf`` when not given."""
    stop = numeric_column(df, duration, "duration")
    if not np.isfinite(stop).all():
        raise ValueError(f"duration column {duration!r} has infinite values")
    if entry is None:
        return np.full(stop.shape, -np.inf), stop
    start = numeric_column(df, entry, "entry")
    bad = ~(start < stop)
    if bad.any():
        raise ValueError(
            f"entry must be below duration (interval (entry, duration]); "
            f"{int(bad.sum())} rows have {entry!r} >= {duration!r}"
        )
    return start, stop


def weight_column(df: pd.DataFrame, weights: str | None) -> np.ndarray:
    """Validated positive finite case weights (ones when not given)."""
    if weights is None:
        return np.ones(len(df))
    w = numeric_column(df, weights, "weights")
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError(f"weights column {weights!r} must be finite and > 0")
    return w


def group_codes(
    df: pd.DataFrame, group: str | None, reserved: Sequence[str]
) -> tuple[list[Hashable], np.ndarray]:
    """Sorted group labels and the integer code of each row (a single group ``None`` if no column)."""
    if group is None:
        return [None], np.zeros(len(df), dtype=np.int64)
    if group in reserved:
        raise ValueError(f"group column name {group!r} clashes with an output column")
    values = df[group]
    if values.isna().any():
        raise ValueError(f"group column {group!r} has missing values")
    codes, labels = pd.factorize(values, sort=True)
    return list(labels), codes.astype(np.int64)


def require(df: pd.DataFrame, columns: Sequence[str | None]) -> None:
    """``KeyError`` naming missing columns; ``ValueError`` for an empty frame."""
    require_columns(df, columns)
    if len(df) == 0:
        raise ValueError("data has no rows")


def step_values(
    times: np.ndarray, values: np.ndarray, at: np.ndarray, initial: np.ndarray | float
) -> np.ndarray:
    """Right-continuous step function: value at the last ``times <= at``; ``initial`` before.

    ``values`` has shape (K, ...); the result has shape (len(at), ...).
    """
    at = np.asarray(at, dtype=float)
    idx = np.searchsorted(times, at, side="right") - 1
    init = np.broadcast_to(np.asarray(initial, dtype=float), values.shape[1:])
    padded = np.concatenate([init[None, ...], values], axis=0)
    return padded[idx + 1]


def guard_curve(
    time: np.ndarray,
    n_risk: np.ndarray,
    n_event: np.ndarray | None,
    min_at_risk: int | None = None,
    min_events: int | None = None,
) -> np.ndarray:
    """Indices of the steps of a curve that may be drawn under disclosure control.

    The rule of :func:`analysis.disclosure.guard_curve` (BRIEF section 9) with separate thresholds
    for persons at risk and events; see :func:`analysis.disclosure.curve_steps`, which this calls.
    ``time`` is accepted for the callers' convenience (the steps are in time order).
    """
    from analysis.disclosure import curve_steps

    rows, _ = curve_steps(n_risk, n_event, min_at_risk, min_events)
    return rows


def curve_glance(
    group: str | None,
    n: Mapping[Hashable, int],
    n_event: Mapping[Hashable, float],
    n_missing: int,
    variance: str,
    conf_level: float,
    conf_type: str,
) -> pd.DataFrame:
    """One row per group ``[group,] nobs, n_event, n_missing, variance, conf_level, conf_type``
    (broom's ``glance`` for fitted curves; ``n_missing`` counts rows dropped over all groups)."""
    rows = [
        {
            "group": key,
            "nobs": int(n.get(key, 0)),
            "n_event": float(n_event[key]),
            "n_missing": int(n_missing),
            "variance": variance,
            "conf_level": float(conf_level),
            "conf_type": conf_type,
        }
        for key in n_event
    ]
    out = pd.DataFrame(rows)
    if group is None:
        return out.drop(columns="group")
    return out.rename(columns={"group": group})

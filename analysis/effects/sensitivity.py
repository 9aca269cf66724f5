"""E-values and the implied change in the probability of a job within 12 months."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._base import require_columns

__all__ = ["cumulative_hazard_months", "evalue", "job_probability_change"]


def _evalue_rr(rr: float) -> float:
    rr = 1.0 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1.0)))


def evalue(
    estimate: float, conf_low: float | None = None, conf_high: float | None = None
) -> tuple[float, float]:
    """E-value of a hazard ratio (VanderWeele & Ding 2017; rare outcome, HR ~ RR).

    Returns ``(evalue_point, evalue_ci)``: the minimum strength of association (risk-ratio
    scale) an unmeasured confounder would need with both exposure and outcome to explain away
    the estimate, and the confidence limit closest to 1 (1 when the interval contains 1; NaN
    when no interval is given).
    """
    if not estimate > 0:
        raise ValueError("the hazard ratio must be positive")
    point = _evalue_rr(estimate)
    if conf_low is None or conf_high is None or not np.isfinite([conf_low, conf_high]).all():
        return point, float("nan")
    if conf_low <= 1 <= conf_high:
        return point, 1.0
    limit = conf_high if estimate < 1 else conf_low
    return point, _evalue_rr(limit)


def cumulative_hazard_months(
    data: pd.DataFrame,
    cause: int,
    months: int = 12,
    *,
    event: str = "event",
    month: str = "month_no",
) -> float:
    """Nelson-Aalen cumulative cause-specific hazard over the first ``months`` months of
    follow-up of a monthly frame (discrete months: sum of events / at risk per month)."""
    require_columns(data, [event, month], "monthly frame")
    d = data[data[month] <= months]
    g = d.groupby(month)[event].agg(at_risk="size", events=lambda e: int((e == cause).sum()))
    return float((g["events"] / g["at_risk"]).sum())


def job_probability_change(hazard_ratio: float, cumulative_hazard: float) -> float:
    """Relative change in the probability of the event within the horizon for a hazard ratio.

    ``P0 = 1 - exp(-H)`` with ``H`` the cumulative cause-specific hazard over the horizon,
    ``P1 = 1 - exp(-HR * H)``; returns ``P1 / P0 - 1`` (e.g. -0.2 = 20 % lower). Competing
    exits are ignored, which is close when the horizon's cumulative incidences are small.
    """
    if cumulative_hazard <= 0:
        raise ValueError("cumulative hazard must be positive")
    p0 = -np.expm1(-cumulative_hazard)
    p1 = -np.expm1(-hazard_ratio * cumulative_hazard)
    return float(p1 / p0 - 1.0)

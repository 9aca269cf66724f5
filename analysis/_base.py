"""Shared conventions for estimators and their results.

Estimators store options in ``__init__`` and do no work there; ``fit(data, ...)`` returns an
immutable result object. Result objects expose ``tidy()`` returning a fresh DataFrame with the
columns in :data:`TIDY_COLUMNS` (for coefficient tables) and ``summary()`` returning text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)


def wald_table(
    terms: Sequence[str],
    estimate: np.ndarray,
    std_error: np.ndarray,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Tidy coefficient table with Wald z statistics, two-sided p-values and normal CIs.

    Parameters
    ----------
    terms
        Coefficient names.
    estimate, std_error
        Point estimates and standard errors, same length as ``terms``.
    conf_level
        Confidence level of ``conf_low``/``conf_high``.
    """
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    return pd.DataFrame(
        {
            "term": list(terms),
            "estimate": estimate,
            "std_error": std_error,
            "statistic": statistic,
            "p_value": 2 * stats.norm.sf(np.abs(statistic)),
            "conf_low": estimate - z * std_error,
            "conf_high": estimate + z * std_error,
        },
        columns=list(TIDY_COLUMNS),
    )


def require_columns(df: pd.DataFrame, columns: Sequence[str | None], what: str = "data") -> None:
    """Raise ``KeyError`` naming every column of ``columns`` (ignoring ``None``) missing from ``df``."""
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"{what} has no column(s) {missing}; available: {list(df.columns)}")

"""Shared conventions for estimators and their results.

Estimators store options in ``__init__`` and do no work there; ``fit(data, ...)`` returns an
immutable result object. Result objects expose ``tidy()`` returning a fresh DataFrame with the
columns in :data:`TIDY_COLUMNS` (for coefficient tables) and ``summary()`` returning text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

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


# --------------------------------------------------------------------------------------------
# Missing values: one policy for every estimator (R's na.action = na.omit)
# --------------------------------------------------------------------------------------------

MissingPolicy = Literal["drop", "raise"]


class MissingValuesError(ValueError):
    """Rows with missing values in a used column while ``missing="raise"``."""


def drop_missing(
    df: pd.DataFrame,
    columns: Sequence[str | None],
    policy: MissingPolicy = "drop",
    what: str = "data",
) -> tuple[pd.DataFrame, int]:
    """Drop rows with a missing value in any of ``columns`` (``None`` entries ignored).

    The one missing-value rule of ``analysis/`` (as R's default ``na.action = na.omit``): every
    estimator calls this on the columns it uses (duration, event, entry, weights, group, strata,
    cluster, id, covariates) before fitting and reports the count as ``n_missing`` on its result.

    Parameters
    ----------
    df
        Input rows.
    columns
        Columns whose missing values (``NaN``, ``None``, ``pd.NA``, ``NaT``) exclude a row.
    policy
        ``"drop"`` (default): drop and count; ``"raise"``: raise :class:`MissingValuesError`
        naming each column and its number of missing values.
    what
        Name of the input in messages.

    Returns
    -------
    (rows kept, number of rows dropped). ``df`` itself is returned unchanged (not copied) when no
    row is dropped.
    """
    cols = list(dict.fromkeys(c for c in columns if c is not None))
    require_columns(df, cols, what)
    if not cols or len(df) == 0:
        return df, 0
    na = df[cols].isna()
    bad = na.any(axis=1).to_numpy()
    n_bad = int(bad.sum())
    if n_bad == 0:
        return df, 0
    if policy == "raise":
        counts = {c: int(k) for c, k in na.sum().items() if k}
        raise MissingValuesError(
            f"{what}: {n_bad} row(s) with missing values (by column: {counts}); "
            "pass missing='drop' to drop them"
        )
    if policy != "drop":
        raise ValueError(f"missing must be 'drop' or 'raise', got {policy!r}")
    return df.loc[~bad], n_bad


# --------------------------------------------------------------------------------------------
# Hypothesis tests: one result type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """Result of a hypothesis test (chi-square, z or similar).

    Attributes
    ----------
    test
        Name, e.g. ``"log-rank"``, ``"score"``, ``"likelihood ratio"``.
    statistic
        Test statistic (chi-square unless ``distribution`` says otherwise).
    df
        Degrees of freedom (``nan`` where not defined).
    p_value
        Upper-tail p-value.
    distribution
        Reference distribution of ``statistic``: ``"chi2"`` or ``"normal"``.
    details
        Optional per-group / per-term table (e.g. observed and expected counts), or ``None``.
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float
    df: float
    p_value: float
    distribution: str = "chi2"
    details: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @classmethod
    def chi2(
        cls, test: str, statistic: float, df: float, details: pd.DataFrame | None = None
    ) -> TestResult:
        """Chi-square test: ``p_value = P(chi2_df > statistic)``."""
        p = float(stats.chi2.sf(statistic, df)) if df > 0 else float("nan")
        return cls(test, float(statistic), float(df), p, "chi2", details)

    def tidy(self) -> pd.DataFrame:
        """One row: ``test, statistic, df, p_value``."""
        return pd.DataFrame(
            {
                "test": [self.test],
                "statistic": [self.statistic],
                "df": [self.df],
                "p_value": [self.p_value],
            }
        )

    def summary(self) -> str:
        """One line, as R prints a test."""
        if self.distribution == "chi2":
            head = f"{self.test}: chi2 = {self.statistic:.4g} on {self.df:g} df, p = {self.p_value:.4g}"
        else:
            head = f"{self.test}: z = {self.statistic:.4g}, p = {self.p_value:.4g}"
        if self.details is None:
            return head
        return head + "\n" + self.details.to_string(index=False)

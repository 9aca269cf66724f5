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
        return head + "\n" + str(self.details.to_string(index=False))


# --------------------------------------------------------------------------------------------
# The estimator protocol (one vocabulary for every fitted model in analysis/)
# --------------------------------------------------------------------------------------------
#
# Options: the variance option is always called ``variance=`` (never ``robust=``, ``se=`` or
# ``cov_type=``). Regression models accept ``"auto" | "model" | "robust"`` ("auto": robust when
# ``cluster=`` or sampling weights are given, as R's coxph); curve estimators accept their own
# named estimators (``"greenwood"``, ``"ij"``, ``"aalen"``, ...). Missing values: ``missing=``
# (:data:`MissingPolicy`), count on the result as ``n_missing``.
#
# Results of regression models follow :class:`RegressionResultMixin`: ``params`` (terms as
# index), ``cov_params()``, ``std_error``, ``conf_int(alpha)``, ``loglik``, ``nobs``,
# ``df_model``, ``aic``/``bic`` (where a likelihood is defined), ``tidy()`` and ``glance()``
# (broom's vocabulary), tests as :class:`TestResult`. Arrays on results are read-only
# (:func:`frozen`).

VarianceOption = Literal["auto", "model", "robust"]


def frozen(array: np.ndarray | Sequence[float]) -> np.ndarray:
    """Read-only float copy of ``array`` (results never expose writable arrays)."""
    out = np.array(array, dtype=float, copy=True)
    out.setflags(write=False)
    return out


class RegressionResultMixin:
    """Shared inference vocabulary for fitted regression models (Cox, Fine-Gray, logit, ...).

    A result class using this mixin defines ``terms`` (tuple of names), ``coef`` (estimates),
    ``var`` (variance matrix used for inference), ``loglik`` (log (partial) likelihood at the
    estimate, ``nan`` if not defined), ``nobs`` (rows used) and ``conf_level``. It gets:
    ``params``, ``cov_params()``, ``std_error``, ``conf_int()``, ``df_model``, ``aic``, ``bic``,
    ``glance()`` and the default ``tidy()``.

    ``aic = -2 loglik + 2 df_model`` and ``bic = -2 loglik + log(n_bic) df_model`` with ``n_bic``
    the number of events for partial likelihoods (R's ``BIC.coxph`` convention: ``nevent``) and
    ``nobs`` otherwise; override :attr:`bic_n` to change it.
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    var: np.ndarray
    loglik: float
    conf_level: float
    # ``nobs`` is a field of the result (a property here would shadow a dataclass field)
    nobs: int

    @property
    def params(self) -> pd.Series:
        """Estimates indexed by term (a fresh Series)."""
        return pd.Series(
            np.asarray(self.coef, dtype=float), index=list(self.terms), name="estimate"
        )

    def cov_params(self) -> pd.DataFrame:
        """Variance matrix used for inference, terms as index and columns (a fresh DataFrame)."""
        return pd.DataFrame(np.array(self.var, dtype=float), index=self.terms, columns=self.terms)

    @property
    def std_error(self) -> np.ndarray:
        """Standard errors (square root of the diagonal of :meth:`cov_params`)."""
        return np.sqrt(np.diag(np.asarray(self.var, dtype=float)))

    @property
    def df_model(self) -> int:
        """Number of estimated coefficients."""
        return len(self.terms)

    @property
    def bic_n(self) -> int:
        """Sample size in the BIC penalty (``nobs`` unless a subclass says otherwise)."""
        return int(self.nobs)

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``-2 loglik + 2 df_model``."""
        return float(-2.0 * self.loglik + 2.0 * self.df_model)

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``-2 loglik + log(bic_n) df_model``."""
        return float(-2.0 * self.loglik + np.log(self.bic_n) * self.df_model)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals ``term, conf_low, conf_high`` at level ``1 - alpha`` (default: the
        result's ``conf_level``)."""
        level = self.conf_level if alpha is None else 1.0 - alpha
        table = wald_table(self.terms, self.coef, self.std_error, level)
        return table[["term", "conf_low", "conf_high"]]

    def tidy(self, conf_level: float | None = None) -> pd.DataFrame:
        """Coefficient table with the columns of :data:`TIDY_COLUMNS` (Wald z tests)."""
        level = self.conf_level if conf_level is None else conf_level
        return wald_table(self.terms, self.coef, self.std_error, level)

    def glance_extra(self) -> dict[str, float | int | str | None]:
        """Model-specific columns appended to :meth:`glance` (override; default none)."""
        return {}

    def glance(self) -> pd.DataFrame:
        """One-row model summary: ``nobs, df_model, loglik, aic, bic`` plus
        :meth:`glance_extra` (broom's ``glance``)."""
        row: dict[str, float | int | str | None] = {
            "nobs": int(self.nobs),
            "df_model": self.df_model,
            "loglik": float(self.loglik),
            "aic": self.aic,
            "bic": self.bic,
        }
        row.update(self.glance_extra())
        return pd.DataFrame([row])

"""Benchmarking of units (municipalities) adjusted for composition: indirect standardisation.

The pieces, each usable on its own:

* :class:`IndirectStandardization` — a pooled discrete-time hazard model (logistic regression on
  unit-period rows at risk, e.g. person-months) of an event from characteristics and seniority;
  the *expected* count of a group is the sum of its rows' predicted probabilities, the *observed*
  count the sum of its events. ``O/E`` (an SMR-like ratio) compares a group with the pooled
  population of the same composition; the interval is exact Poisson (Garwood) for ``O`` divided
  by ``E`` (``E`` treated as fixed, the usual convention) or normal (``O/E ± z sqrt(O)/E``).
* :func:`funnel_limits` — control limits of ``O/E`` around a target by expected count: exact
  Poisson limits with the interpolation of Spiegelhalter (2005, Stat Med 24:1185, appendix A.1.1).
* :func:`dersimonian_laird` — method-of-moments between-group variance ``tau²`` of estimates with
  known within-group variances (DerSimonian & Laird 1986), with Cochran's Q test.
* :class:`EmpiricalBayes` — shrunken ratios with intervals: ``"gamma_poisson"`` (``O ~ Poisson(E
  theta)``, ``theta ~ Gamma(alpha, alpha)`` with mean 1, ``alpha`` by maximum marginal
  (negative-binomial) likelihood; posterior ``Gamma(alpha + O, alpha + E)``) or ``"normal_dl"``
  (normal-normal on ``y = log((O + 1/2) / E)`` with ``v = 1 / (O + 1/2)`` and DerSimonian-Laird
  ``tau²``; the interval includes the uncertainty of the estimated mean).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis._base import (
    MissingPolicy,
    RegressionResultMixin,
    TestResult,
    drop_missing,
    frozen,
    require_columns,
)
from analysis._design import build_design

IntervalOption = Literal["exact", "normal"]
ShrinkageMethod = Literal["gamma_poisson", "normal_dl"]
TIDY = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


# --------------------------------------------------------------------------------------------
# Poisson building blocks
# --------------------------------------------------------------------------------------------


def poisson_exact_ci(
    observed: Sequence[float] | np.ndarray, conf_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a Poisson mean given the observed count(s).

    ``low = chi2_{a/2}(2 O) / 2`` (0 when ``O = 0``), ``high = chi2_{1-a/2}(2 O + 2) / 2`` with
    ``a = 1 - conf_level``: the means at which ``P(X >= O) = a/2`` and ``P(X <= O) = a/2``.
    """
    o = np.asarray(observed, dtype=float)
    if np.any(o < 0) or np.any(o != np.floor(o)):
        raise ValueError("observed counts must be non-negative integers")
    a = 1.0 - conf_level
    low = np.where(o > 0, stats.chi2.ppf(a / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
    high = stats.chi2.ppf(1 - a / 2, 2 * o + 2) / 2
    return low, high


def poisson_test_p(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Two-sided exact p-value of ``O`` against ``Poisson(E)``: ``min(1, 2 min(P(X<=O), P(X>=O)))``."""
    o, e = np.asarray(observed, float), np.asarray(expected, float)
    lower: np.ndarray = stats.poisson.cdf(o, e)
    upper: np.ndarray = stats.poisson.sf(o - 1, e)
    p: np.ndarray = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    return p


def ratio_table(
    observed: np.ndarray,
    expected: np.ndarray,
    conf_level: float = 0.95,
    interval: IntervalOption = "exact",
) -> pd.DataFrame:
    """``ratio = O/E`` with ``std_error = sqrt(O)/E``, ``statistic = (O - E)/sqrt(E)``, the exact
    Poisson p-value and the interval (``exact``: Garwood limits / E; ``normal``: ratio ± z se)."""
    o, e = np.asarray(observed, float), np.asarray(expected, float)
    if np.any(e <= 0):
        raise ValueError("expected counts must be positive")
    ratio = o / e
    se = np.sqrt(o) / e
    if interval == "exact":
        low, high = poisson_exact_ci(o, conf_level)
        low, high = low / e, high / e
    elif interval == "normal":
        z = stats.norm.ppf(0.5 + conf_level / 2)
        low, high = np.maximum(ratio - z * se, 0.0), ratio + z * se
    else:
        raise ValueError(f"interval must be 'exact' or 'normal', got {interval!r}")
    return pd.DataFrame(
        {
            "observed": o,
            "expected": e,
            "ratio": ratio,
            "std_error": se,
            "statistic": (o - e) / np.sqrt(e),
            "p_value": poisson_test_p(o, e),
            "conf_low": low,
            "conf_high": high,
        }
    )


def funnel_limits(
    expected: Sequence[float] | np.ndarray,
    levels: Sequence[float] = (0.95, 0.998),
    target: float = 1.0,
) -> pd.DataFrame:
    """Funnel-plot control limits of ``O/E`` at each expected count (exact Poisson, interpolated).

    For probability ``p`` the limit of the count is ``r_p - a`` with ``r_p`` the ``p``-quantile of
    ``Poisson(target E)`` (smallest ``r`` with ``F(r) >= p``) and ``a = (F(r_p) - p) / (F(r_p) -
    F(r_p - 1))`` (Spiegelhalter 2005, A.1.1), divided by ``E``; a lower limit below 0 is 0.

    Returns
    -------
    One row per expected count and level: ``expected, level, lower, upper``.
    """
    e = np.asarray(expected, dtype=float)
    if np.any(e <= 0):
        raise ValueError("expected counts must be positive")
    mu = target * e
    rows = []
    for level in levels:
        bounds = []
        for p in ((1 - level) / 2, (1 + level) / 2):
            r = stats.poisson.ppf(p, mu)
            f_r, f_rm1 = stats.poisson.cdf(r, mu), stats.poisson.cdf(r - 1, mu)
            a = np.where(f_r > f_rm1, (f_r - p) / np.maximum(f_r - f_rm1, 1e-300), 0.0)
            bounds.append(np.maximum(r - a, 0.0) / e)
        rows.append(
            pd.DataFrame({"expected": e, "level": level, "lower": bounds[0], "upper": bounds[1]})
        )
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Indirect standardisation
# --------------------------------------------------------------------------------------------


def _ridge_logit(
    y: np.ndarray, X: np.ndarray, penalty: float, tol: float = 1e-10, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray, float]:
    """Newton-Raphson for the logistic log-likelihood minus ``penalty/2 |beta[1:]|²``.

    Returns the coefficients, the inverse (penalised) information and the unpenalised
    log-likelihood at the estimate.
    """
    pen = np.full(X.shape[1], penalty)
    pen[0] = 0.0
    beta = np.zeros(X.shape[1])
    beta[0] = special.logit(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    for _ in range(max_iter):
        p = special.expit(X @ beta)
        grad = X.T @ (y - p) - pen * beta
        info = (X * (p * (1 - p))[:, None]).T @ X + np.diag(pen)
        step = np.linalg.solve(info + 1e-12 * np.eye(len(beta)), grad)
        step *= min(1.0, 5.0 / max(np.max(np.abs(step)), 1e-300))  # damped far from the optimum
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    p = special.expit(X @ beta)
    info = (X * (p * (1 - p))[:, None]).T @ X + np.diag(pen)
    loglik = float(np.sum(special.xlogy(y, p) + special.xlogy(1 - y, 1 - p)))
    return beta, np.linalg.pinv(info), loglik


@dataclass(frozen=True)
class HazardModel(RegressionResultMixin):
    """The pooled logistic model behind the expected counts (log-odds per period)."""

    terms: tuple[str, ...]
    coef: np.ndarray
    var: np.ndarray
    loglik: float
    n_events: int
    nobs: int  # rows (periods at risk) used in the fit
    conf_level: float = 0.95


@dataclass(frozen=True)
class StandardizationResult:
    """Observed and expected events per group (``tidy()``: one row per group, ``term`` = group).

    ``table`` columns: ``group, n_units, n_periods, observed, expected, ratio, std_error,
    statistic, p_value, conf_low, conf_high`` (ratio = O/E; interval per ``interval``).
    """

    table: pd.DataFrame = field(repr=False)
    model: HazardModel = field(repr=False)
    interval: str
    conf_level: float
    n_missing: int

    @property
    def observed(self) -> np.ndarray:
        return frozen(self.table["observed"])

    @property
    def expected(self) -> np.ndarray:
        return frozen(self.table["expected"])

    @property
    def ratio(self) -> np.ndarray:
        return frozen(self.table["ratio"])

    def tidy(self) -> pd.DataFrame:
        """Protocol columns with ``estimate`` = O/E and ``term`` = group (a fresh frame)."""
        t = self.table.rename(columns={"group": "term", "ratio": "estimate"})
        return t[TIDY + ["n_units", "observed", "expected"]].copy()

    def summary(self) -> str:
        t = self.table
        return (
            f"Indirect standardisation: {len(t)} groups, {int(t['observed'].sum())} events "
            f"(expected {t['expected'].sum():.1f}), {self.model.nobs} periods at risk; "
            f"O/E from {t['ratio'].min():.3g} to {t['ratio'].max():.3g}; "
            f"{self.interval} {self.conf_level:.0%} intervals"
        )


class IndirectStandardization:
    """Observed/expected events per group from a pooled discrete-time hazard model.

    Parameters
    ----------
    conf_level
        Level of the per-group intervals.
    interval
        ``"exact"`` (Garwood Poisson limits of ``O`` over ``E``) or ``"normal"``.
    missing
        Missing-value policy for the used columns.
    penalty
        Ridge precision on the non-intercept log-odds (0 = maximum likelihood); keeps the
        expected counts finite when a characteristic has no event (small registers).
    """

    def __init__(
        self,
        conf_level: float = 0.95,
        interval: IntervalOption = "exact",
        missing: MissingPolicy = "drop",
        penalty: float = 0.0,
    ) -> None:
        if penalty < 0:
            raise ValueError("penalty must be >= 0")
        self.penalty = penalty
        if interval not in ("exact", "normal"):
            raise ValueError(f"interval must be 'exact' or 'normal', got {interval!r}")
        self.conf_level = conf_level
        self.interval = interval
        self.missing = missing

    def fit(
        self,
        data: pd.DataFrame,
        *,
        event: str,
        group: str,
        covariates: str | Sequence[str],
        unit: str | None = None,
    ) -> StandardizationResult:
        """Fit the model on ``data`` (one row per unit and period at risk; ``event`` 0/1 in that
        period) and compare the groups.

        ``group`` is not a covariate (indirect standardisation: the reference is the pooled
        population); ``unit`` (e.g. a person id column) is only counted (``n_units``).
        """
        from analysis._design import formula_variables

        cols = [event, group, unit, *formula_variables(covariates)]
        require_columns(data, [c for c in cols if c], "data")
        df, n_missing = drop_missing(data, cols, self.missing, "data")
        y = df[event].to_numpy(dtype=float)
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError(f"data: column {event!r} must be 0/1 (an event in the period)")
        if y.sum() == 0:
            raise ValueError(f"data: no events in column {event!r}")
        design, x = build_design(df, covariates)
        X = np.column_stack([np.ones(len(df)), x])
        coef, var, loglik = _ridge_logit(y, X, self.penalty)
        p = special.expit(X @ coef)
        g = df[group].to_numpy()
        frame = pd.DataFrame({"group": g, "y": y, "p": p})
        if unit is not None:
            frame["unit"] = df[unit].to_numpy()
        agg = frame.groupby("group", sort=True).agg(
            observed=("y", "sum"), expected=("p", "sum"), n_periods=("y", "size")
        )
        agg["n_units"] = (
            frame.groupby("group", sort=True)["unit"].nunique() if unit else agg["n_periods"]
        )
        table = ratio_table(agg["observed"], agg["expected"], self.conf_level, self.interval)
        table.insert(0, "group", agg.index.to_numpy())
        table.insert(1, "n_units", agg["n_units"].to_numpy().astype(int))
        table.insert(2, "n_periods", agg["n_periods"].to_numpy().astype(int))
        model = HazardModel(
            terms=("(Intercept)", *design.columns),
            coef=frozen(coef),
            var=frozen(var),
            loglik=loglik,
            nobs=len(df),
            n_events=int(y.sum()),
            conf_level=self.conf_level,
        )
        return StandardizationResult(table, model, self.interval, self.conf_level, n_missing)


# --------------------------------------------------------------------------------------------
# Between-group heterogeneity and shrinkage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeterogeneityResult:
    """DerSimonian-Laird random-effects summary: ``tau2``, the pooled mean ``mu`` (inverse-
    variance weights ``1/(v + tau2)``) with ``mu_se``, Cochran's ``q`` on ``df`` = k - 1, ``i2``."""

    tau2: float
    mu: float
    mu_se: float
    q: float
    df: int
    i2: float
    conf_level: float = 0.95

    def test(self) -> TestResult:
        """Cochran's Q test of homogeneity (chi-square on k - 1 df)."""
        return TestResult.chi2("Cochran Q (homogeneity)", self.q, self.df)

    def tidy(self) -> pd.DataFrame:
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        return pd.DataFrame(
            {
                "term": ["mu", "tau2"],
                "estimate": [self.mu, self.tau2],
                "std_error": [self.mu_se, np.nan],
                "statistic": [self.mu / self.mu_se, self.q],
                "p_value": [2 * stats.norm.sf(abs(self.mu / self.mu_se)), self.test().p_value],
                "conf_low": [self.mu - z * self.mu_se, np.nan],
                "conf_high": [self.mu + z * self.mu_se, np.nan],
            }
        )

    def summary(self) -> str:
        return (
            f"DerSimonian-Laird: tau2 = {self.tau2:.4g}, mu = {self.mu:.4g} (se {self.mu_se:.3g}), "
            f"Q = {self.q:.4g} on {self.df} df, I2 = {self.i2:.1%}"
        )


def dersimonian_laird(
    y: Sequence[float] | np.ndarray, v: Sequence[float] | np.ndarray, conf_level: float = 0.95
) -> HeterogeneityResult:
    """Method-of-moments between-group variance of estimates ``y`` with within variances ``v``:
    ``tau2 = max(0, (Q - (k-1)) / (S1 - S2/S1))``, ``Q = sum w (y - ybar_w)²``, ``w = 1/v``."""
    y, v = np.asarray(y, float), np.asarray(v, float)
    if y.shape != v.shape or y.ndim != 1 or len(y) < 2:
        raise ValueError("y and v must be 1-d of the same length >= 2")
    if np.any(v <= 0):
        raise ValueError("within-group variances v must be positive")
    w = 1.0 / v
    ybar = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - ybar) ** 2))
    k = len(y)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - (k - 1)) / c)
    ws = 1.0 / (v + tau2)
    mu = float(np.sum(ws * y) / np.sum(ws))
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    return HeterogeneityResult(tau2, mu, float(np.sqrt(1 / np.sum(ws))), q, k - 1, i2, conf_level)


def gamma_poisson_alpha(observed: np.ndarray, expected: np.ndarray) -> float:
    """Maximum marginal-likelihood ``alpha`` of ``O ~ Poisson(E theta)``, ``theta ~ Gamma(alpha,
    alpha)`` (mean 1, variance ``1/alpha``); ``inf`` when the likelihood grows towards no
    heterogeneity (searched over ``log alpha`` in [-10, 20]; ``1/alpha < 1e-6`` counts as none)."""
    o, e = np.asarray(observed, float), np.asarray(expected, float)

    def nll(la: float) -> float:
        a = np.exp(la)
        ll = (
            special.gammaln(a + o)
            - special.gammaln(a)
            + a * np.log(a / (a + e))
            + o * np.log(e / (a + e))
        )
        return -float(np.sum(ll))

    res = optimize.minimize_scalar(nll, bounds=(-10.0, 20.0), method="bounded")
    # between-group variance 1/alpha below 1e-6: no heterogeneity (the likelihood is flat there)
    return float("inf") if res.x > np.log(1e6) else float(np.exp(res.x))


@dataclass(frozen=True)
class ShrinkageResult:
    """Shrunken ratios per group (``tidy()``: ``term`` = group, ``estimate`` = shrunken ratio).

    ``table`` columns: ``group, observed, expected, ratio, shrunken, conf_low, conf_high,
    shrinkage`` (weight of the group's own data, 0-1). ``tau2``: between-group variance of the log
    ratio (``normal_dl``) or ``log(1 + 1/alpha)`` (``gamma_poisson``); ``alpha`` is ``nan`` for
    ``normal_dl``.
    """

    table: pd.DataFrame = field(repr=False)
    method: str
    tau2: float
    alpha: float
    conf_level: float

    @property
    def shrunken(self) -> np.ndarray:
        return frozen(self.table["shrunken"])

    def tidy(self) -> pd.DataFrame:
        t = self.table.rename(columns={"group": "term", "shrunken": "estimate"})
        t["std_error"] = np.nan
        t["statistic"] = np.nan
        t["p_value"] = np.nan
        return t[TIDY + ["ratio", "shrinkage"]].copy()

    def summary(self) -> str:
        return (
            f"Empirical Bayes ({self.method}): {len(self.table)} groups, tau2 = {self.tau2:.4g}"
            + (f", alpha = {self.alpha:.4g}" if np.isfinite(self.alpha) else "")
        )


class EmpiricalBayes:
    """Shrunken O/E ratios with intervals (see the module docstring for the two models).

    Parameters
    ----------
    method
        ``"gamma_poisson"`` (default) or ``"normal_dl"``.
    conf_level
        Level of the posterior intervals (equal-tailed).
    """

    def __init__(self, method: ShrinkageMethod = "gamma_poisson", conf_level: float = 0.95):
        if method not in ("gamma_poisson", "normal_dl"):
            raise ValueError(f"method must be 'gamma_poisson' or 'normal_dl', got {method!r}")
        self.method = method
        self.conf_level = conf_level

    def fit(
        self,
        observed: Sequence[float] | np.ndarray,
        expected: Sequence[float] | np.ndarray,
        groups: Sequence[Hashable] | np.ndarray | None = None,
    ) -> ShrinkageResult:
        """Shrink the ratios ``observed / expected`` (arrays, one entry per group)."""
        o, e = np.asarray(observed, float), np.asarray(expected, float)
        if o.shape != e.shape or len(o) < 2:
            raise ValueError("observed and expected must have the same length >= 2")
        if np.any(e <= 0) or np.any(o < 0):
            raise ValueError("expected must be positive and observed non-negative")
        g = np.arange(len(o)) if groups is None else np.asarray(groups)
        a2 = (1 - self.conf_level) / 2
        if self.method == "gamma_poisson":
            alpha = gamma_poisson_alpha(o, e)
            if np.isfinite(alpha):
                shape, rate = alpha + o, alpha + e
                est = shape / rate
                low = stats.gamma.ppf(a2, shape, scale=1 / rate)
                high = stats.gamma.ppf(1 - a2, shape, scale=1 / rate)
                weight = e / (alpha + e)
                tau2 = float(np.log1p(1 / alpha))
            else:
                est, low, high = np.ones_like(o), np.ones_like(o), np.ones_like(o)
                weight, tau2 = np.zeros_like(o), 0.0
        else:
            alpha = float("nan")
            y, v = np.log((o + 0.5) / e), 1.0 / (o + 0.5)
            dl = dersimonian_laird(y, v)
            tau2 = dl.tau2
            weight = tau2 / (tau2 + v)
            post = dl.mu + weight * (y - dl.mu)
            # posterior variance given tau2, plus the uncertainty of the estimated mean
            pvar = weight * v + (1 - weight) ** 2 * dl.mu_se**2
            z = stats.norm.ppf(1 - a2)
            est = np.exp(post)
            low, high = np.exp(post - z * np.sqrt(pvar)), np.exp(post + z * np.sqrt(pvar))
        table = pd.DataFrame(
            {
                "group": g,
                "observed": o,
                "expected": e,
                "ratio": o / e,
                "shrunken": est,
                "conf_low": low,
                "conf_high": high,
                "shrinkage": weight,
            }
        )
        return ShrinkageResult(table, self.method, float(tau2), float(alpha), self.conf_level)

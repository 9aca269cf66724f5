"""Stabilised inverse-probability-of-treatment weights for a monthly treatment process.

Weights of person i in month m (Robins, Hernán & Brumback 2000):

    sw_im = prod_{k <= m} f(A_ik | numerator covariates) / f(A_ik | denominator covariates)

``A_ik`` is the incident treatment of month k (a new case-worker change: binary, logistic model;
the number of job conversations: count, Poisson model). The numerator conditions on baseline
covariates and past treatment only, the denominator also on the time-varying confounders of the
month. Both models are pooled GLMs over all person-months (statsmodels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis._base import require_columns

__all__ = ["StabilisedWeights", "WeightsResult", "design_matrix"]

Family = Literal["binomial", "poisson"]


def design_matrix(
    data: pd.DataFrame, columns: Sequence[str], drop_constant: bool = True
) -> pd.DataFrame:
    """Numeric design with an intercept: booleans as 0/1, strings/categories as dummies
    (first level dropped), numbers as they are; constant columns dropped unless
    ``drop_constant`` is false."""
    parts = [pd.Series(1.0, index=data.index, name="intercept")]
    for c in columns:
        s = data[c]
        if s.dtype == bool or str(s.dtype) == "boolean":
            parts.append(s.fillna(False).astype(float).rename(c))
        elif pd.api.types.is_numeric_dtype(s):
            parts.append(s.astype(float).rename(c))
        else:
            d = pd.get_dummies(s.astype(str), prefix=c, drop_first=True, dtype=float)
            parts.extend(d[k] for k in d.columns)
    x = pd.concat(parts, axis=1)
    if not drop_constant:
        return x
    keep = x.columns[(x.std(ddof=0) > 0) | (x.columns == "intercept")]
    return x[keep]


def _person_folds(key: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold (0 .. folds-1) of each row: persons assigned at random, all their rows together."""
    if folds < 1:
        raise ValueError(f"folds must be at least 1, got {folds}")
    _, person = np.unique(key, return_inverse=True)
    if folds == 1:
        return np.zeros(len(key), np.int64)
    rng = np.random.default_rng(seed)
    of_person = rng.permutation(person.max() + 1) % folds
    return of_person[person]


def _independent_columns(x: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """Indices of columns of ``x`` that are linearly independent of the columns before them
    (pivot-free QR of the standardised design: a column constant or collinear within a
    cross-fitting fold is left out of that fold's model)."""
    scale = np.sqrt((x**2).mean(axis=0))
    scale[scale == 0] = 1.0
    r = np.linalg.qr(x / scale, mode="r")
    d = np.abs(np.diag(r)) / np.sqrt(len(x))
    return np.flatnonzero(d > tol)


def _pmf(mu: np.ndarray, y: np.ndarray, family: Family) -> np.ndarray:
    if family == "binomial":
        return np.where(y > 0, mu, 1 - mu)
    return stats.poisson.pmf(y, mu)


@dataclass(frozen=True)
class WeightsResult:
    """Weights of each row (aligned with the fitted frame's index) and their diagnostics."""

    stabilised: pd.Series
    truncated: pd.Series
    truncation: tuple[float, float]
    bounds: tuple[float, float]
    numerator_terms: tuple[str, ...]
    denominator_terms: tuple[str, ...]
    denominator_coef: pd.Series = field(repr=False)

    @property
    def truncated_share(self) -> float:
        """Share of rows whose weight was cut at a bound."""
        s, t = self.stabilised.to_numpy(), self.truncated.to_numpy()
        return float(np.mean(~np.isclose(s, t)))

    def distribution(self, quantile=np.quantile) -> pd.DataFrame:
        """``weight (stabilised/truncated), p01, p25, p50, p75, p99, mean, truncated_share``.

        ``quantile(values, q)`` computes the percentiles (pass
        :func:`analysis.disclosure.safe_quantile` for published tables)."""
        rows = []
        for name, w in (("stabilised", self.stabilised), ("truncated", self.truncated)):
            v = w.to_numpy(float)
            row = {"weight": name}
            for q in (0.01, 0.25, 0.5, 0.75, 0.99):
                row[f"p{round(q * 100):02d}"] = float(quantile(v, q))
            row["mean"] = float(v.mean())
            row["truncated_share"] = self.truncated_share if name == "truncated" else 0.0
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> str:
        d = self.distribution()
        return (
            f"Stabilised IPT weights, truncation at percentiles {self.truncation} "
            f"(bounds {self.bounds[0]:.3g}, {self.bounds[1]:.3g})\n" + d.to_string(index=False)
        )


@dataclass(frozen=True)
class StabilisedWeights:
    """Stabilised IPT weights, cumulative over each person's months.

    Parameters
    ----------
    family
        ``"binomial"`` (binary treatment, logistic model) or ``"poisson"`` (count of treatments
        in the month, log-linear model).
    truncation
        Percentiles (fractions) at which the cumulative weights are truncated (Cole & Hernán
        2008); ``(0, 1)`` keeps them as they are.
    folds
        Cross-fitting: with ``folds > 1`` persons are split at random (``seed``) into ``folds``
        groups and each person's probabilities come from models fitted on the other groups
        (out-of-fold predictions: a flexible treatment model cannot fit its own noise into the
        weights). ``1``: one fit on all rows (the classic weights).
    """

    family: Family = "binomial"
    truncation: tuple[float, float] = (0.01, 0.99)
    folds: int = 1
    seed: int = 0

    def fit(
        self,
        data: pd.DataFrame,
        *,
        treatment: str,
        numerator: Sequence[str],
        denominator: Sequence[str],
        id_col: str = "person_id",
        order: str = "month_no",
    ) -> WeightsResult:
        """Fit numerator and denominator models and cumulate the ratio per ``id_col``.

        ``data`` is one row per person and month; rows are cumulated in the order of ``order``
        within each person. ``denominator`` should contain every column of ``numerator``.
        """
        require_columns(data, [treatment, id_col, order, *numerator, *denominator], "weights data")
        lo, hi = self.truncation
        if not 0 <= lo < hi <= 1:
            raise ValueError(f"truncation must satisfy 0 <= low < high <= 1, got {self.truncation}")
        y = data[treatment].to_numpy(float)
        if self.family == "binomial":
            y = (y > 0).astype(float)
        # statsmodels' discrete Logit / Poisson rather than GLM: same estimates, a fraction of
        # the memory at millions of person-months
        model = sm.Logit if self.family == "binomial" else sm.Poisson
        ratio = np.ones(len(data))
        coefs = None
        terms: dict[str, tuple[str, ...]] = {}
        key = data[id_col].to_numpy()
        fold = _person_folds(key, self.folds, self.seed)
        for part, cols in (("num", numerator), ("den", denominator)):
            x = design_matrix(data, cols)
            terms[part] = tuple(x.columns)
            xa = x.to_numpy(float)
            mu = np.empty(len(y))
            for k in range(self.folds):
                test = fold == k
                train = ~test if self.folds > 1 else test
                keep = _independent_columns(xa[train])
                res = model(y[train], xa[train][:, keep]).fit(disp=0, method="newton", maxiter=100)
                mu[test] = np.asarray(res.predict(xa[test][:, keep]), float)
            if self.folds > 1:  # out-of-fold predictions can reach 0 or 1 in a sparse fold
                lo_mu, hi_mu = (1e-6, 1 - 1e-6) if self.family == "binomial" else (1e-8, 1e3)
                mu = np.clip(np.nan_to_num(mu, nan=float(y.mean())), lo_mu, hi_mu)
            p = _pmf(mu, y, self.family)
            ratio = ratio * p if part == "num" else ratio / p
            if part == "den":
                coefs = pd.Series(res.params, index=x.columns[keep])
        order_idx = np.lexsort((data[order].to_numpy(), key))
        logr = np.log(ratio)[order_idx]
        k = key[order_idx]
        start = np.ones(len(k), bool)
        start[1:] = k[1:] != k[:-1]
        cs = np.cumsum(logr)
        base = np.maximum.accumulate(np.where(start, np.arange(len(k)), 0))
        before = np.concatenate([[0.0], cs])[base]  # cumulative sum before each person's first row
        cum = np.empty(len(k))
        # log weights bounded: a cumulated product over long follow-up cannot overflow
        cum[order_idx] = np.exp(np.clip(cs - before, -50.0, 50.0))
        sw = pd.Series(cum, index=data.index, name="sw")
        bounds = (float(np.quantile(cum, lo)), float(np.quantile(cum, hi)))
        tw = sw.clip(*bounds).rename("sw_truncated")
        return WeightsResult(
            stabilised=sw,
            truncated=tw,
            truncation=(lo, hi),
            bounds=bounds,
            numerator_terms=terms["num"],
            denominator_terms=terms["den"],
            denominator_coef=coefs,
        )

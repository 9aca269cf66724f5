"""Latent class analysis (finite mixture) for mixed categorical and continuous indicators.

Model: person ``i`` belongs to one of ``K`` latent classes with probabilities ``w_k``; given the
class, the indicators are independent (local independence): a categorical indicator ``j`` takes
level ``l`` with probability ``theta_kjl``, a continuous indicator is normal with class mean
``mu_kj`` and variance ``s2_kj``. Missing values are skipped in the likelihood (full information
maximum likelihood, valid when values are missing at random given the class).

Estimation by EM from several random starts (seeded, deterministic): every start runs a few
iterations, the best starts are run to convergence and the highest log-likelihood wins. Classes
are numbered 1..K by decreasing size.

Why our own EM rather than StepMix's: StepMix (installed; the tests check this module against it)
fits the same model and reaches the same maximum, but its per-iteration overhead (one-hot
re-encoding and parameter copies in every EM step, uniform-random starts that need hundreds of
iterations to break symmetry) makes one 5-class fit on ~6,500 persons take about a minute; model
selection over K = 1..8 plus a bootstrap of 20+ refits would take most of an hour. The vectorised
EM below (one matrix product per E- and M-step, data-based starts) does the same fits in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis._base import require_columns

Kind = Literal["categorical", "continuous"]

_LOG_FLOOR = 1e-300
_PROB_FLOOR = 1e-12


@dataclass(frozen=True)
class Indicator:
    """One indicator of the measurement model.

    Attributes
    ----------
    name
        Column name.
    kind
        ``categorical`` (levels as strings) or ``continuous`` (normal within class).
    levels
        Levels of a categorical indicator, in display order; ``()`` for continuous ones.
    """

    name: str
    kind: Kind
    levels: tuple[str, ...] = ()


def _levels_of(s: pd.Series) -> tuple[str, ...]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().astype(str))
        return tuple(str(c) for c in s.cat.categories if str(c) in present)
    return tuple(sorted(pd.unique(s.dropna().astype(str))))


def infer_indicators(
    df: pd.DataFrame, indicators: Sequence[str] | Mapping[str, Kind]
) -> tuple[Indicator, ...]:
    """Indicator specifications from data.

    ``indicators`` is a list of columns (kind inferred: float/int columns with more than 12
    distinct values are continuous, everything else categorical) or a mapping column -> kind.
    Categorical levels are the observed values as strings (pandas categorical order when the column
    is categorical, else sorted).
    """
    items = (
        dict(indicators) if isinstance(indicators, Mapping) else {c: None for c in indicators}  # type: ignore[misc]
    )
    require_columns(df, list(items), "indicator data")
    out = []
    for name, kind in items.items():
        s = df[name]
        if kind is None:
            numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(
                s.dtype
            )
            kind = "continuous" if numeric and s.nunique(dropna=True) > 12 else "categorical"
        if kind == "categorical":
            levels = _levels_of(s)
            if not levels:
                raise ValueError(f"indicator {name!r} has no observed values")
            out.append(Indicator(name, "categorical", levels))
        elif kind == "continuous":
            if not pd.api.types.is_numeric_dtype(s.dtype):
                raise ValueError(f"continuous indicator {name!r} is not numeric")
            out.append(Indicator(name, "continuous"))
        else:
            raise ValueError(f"unknown indicator kind {kind!r} for {name!r}")
    if not out:
        raise ValueError("no indicators given")
    return tuple(out)


@dataclass(frozen=True)
class _Encoded:
    """Data in the matrices the EM works on."""

    onehot: np.ndarray  # (N, T) float, one column per categorical level; all-zero when missing
    var_of_col: np.ndarray  # (T,) index of the categorical indicator of each column
    observed: np.ndarray  # (N, V) float 1/0: categorical indicator observed
    x: np.ndarray  # (N, C) continuous values, 0 where missing
    x_obs: np.ndarray  # (N, C) float 1/0


def _encode(df: pd.DataFrame, spec: Sequence[Indicator]) -> _Encoded:
    require_columns(df, [s.name for s in spec], "indicator data")
    n = len(df)
    blocks, var_of_col, observed, xs, xo = [], [], [], [], []
    v = 0
    for s in spec:
        col = df[s.name]
        if s.kind == "categorical":
            txt = col.astype(object).where(col.notna(), None).to_numpy()
            txt = np.array([None if t is None else str(t) for t in txt], dtype=object)
            code = pd.Index(list(s.levels), dtype=object).get_indexer(txt)  # -1: missing/unseen
            b = np.zeros((n, len(s.levels)))
            ok = code >= 0
            b[np.flatnonzero(ok), code[ok]] = 1.0
            blocks.append(b)
            var_of_col += [v] * len(s.levels)
            observed.append(ok.astype(float))
            v += 1
        else:
            vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(vals)
            xs.append(np.where(ok, vals, 0.0))
            xo.append(ok.astype(float))
    return _Encoded(
        onehot=np.hstack(blocks) if blocks else np.zeros((n, 0)),
        var_of_col=np.asarray(var_of_col, dtype=np.int64),
        observed=np.column_stack(observed) if observed else np.zeros((n, 0)),
        x=np.column_stack(xs) if xs else np.zeros((n, 0)),
        x_obs=np.column_stack(xo) if xo else np.zeros((n, 0)),
    )


@dataclass(frozen=True)
class _Params:
    log_w: np.ndarray  # (K,)
    theta: np.ndarray  # (K, T)
    mean: np.ndarray  # (K, C)
    var: np.ndarray  # (K, C)


def _log_joint(enc: _Encoded, p: _Params) -> np.ndarray:
    """log w_k + log f(x_i | k), shape (N, K)."""
    out = enc.onehot @ np.log(np.maximum(p.theta, _LOG_FLOOR)).T
    if enc.x.shape[1]:
        inv = 1.0 / p.var  # (K, C)
        # sum_j obs_ij * [-(x_ij - mu_kj)^2 / (2 s2_kj) - log(2 pi s2_kj) / 2], expanded
        x, o = enc.x, enc.x_obs
        quad = (x * x) @ inv.T - 2.0 * x @ (p.mean * inv).T + o @ (p.mean**2 * inv).T
        out += -0.5 * quad - 0.5 * (o @ np.log(2 * np.pi * p.var).T)
    return out + p.log_w


def _e_step(enc: _Encoded, p: _Params) -> tuple[np.ndarray, np.ndarray]:
    """Per-person log-likelihood (N,) and posterior class probabilities (N, K)."""
    lj = _log_joint(enc, p)
    top = lj.max(axis=1)
    e = np.exp(lj - top[:, None])
    s = e.sum(axis=1)
    return np.log(s) + top, e / s[:, None]


def _m_step(enc: _Encoded, resp: np.ndarray, case_w: np.ndarray, var_floor: np.ndarray) -> _Params:
    r = resp * case_w[:, None]
    nk = r.sum(axis=0)
    w = np.maximum(nk / case_w.sum(), _PROB_FLOOR)
    num = r.T @ enc.onehot  # (K, T)
    den = (r.T @ enc.observed)[:, enc.var_of_col] if enc.onehot.shape[1] else num
    theta = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0 / np.maximum(1, num.shape[1]))
    theta = np.maximum(theta, _PROB_FLOOR)
    if enc.x.shape[1]:
        ro = r.T @ enc.x_obs  # (K, C)
        safe = np.where(ro > 0, ro, 1.0)
        mean = (r.T @ enc.x) / safe
        var = (r.T @ (enc.x * enc.x)) / safe - mean**2
        var = np.maximum(var, var_floor[None, :])
    else:
        mean = var = np.zeros((len(nk), 0))
    return _Params(np.log(w / w.sum()), theta, mean, var)


def _compress(enc: _Encoded) -> tuple[_Encoded, np.ndarray]:
    """Distinct response patterns and each person's pattern (EM runs on patterns with frequency
    weights: with categorical indicators there are far fewer patterns than persons)."""
    key = np.hstack([enc.onehot, enc.x, enc.x_obs])
    if key.shape[0] == 0:
        return enc, np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    pick = np.asarray(first)
    return (
        _Encoded(
            onehot=enc.onehot[pick],
            var_of_col=enc.var_of_col,
            observed=enc.observed[pick],
            x=enc.x[pick],
            x_obs=enc.x_obs[pick],
        ),
        np.asarray(inverse).reshape(-1),
    )


def _normalise_theta(theta: np.ndarray, var_of_col: np.ndarray) -> np.ndarray:
    if not theta.shape[1]:
        return theta
    sums = np.zeros((theta.shape[0], int(var_of_col.max()) + 1))
    np.add.at(sums.T, var_of_col, theta.T)
    return theta / sums[:, var_of_col]


def _start(enc: _Encoded, k: int, case_w: np.ndarray, rng: np.random.Generator) -> _Params:
    """A random start seeded by ``k`` distinct persons: each class's level probabilities are half
    the seed person's own levels and half the overall shares (a data-based start far from the
    symmetric point, so EM separates the classes in few iterations)."""
    share = case_w / case_w.sum()
    seeds = rng.choice(share.size, size=k, replace=np.count_nonzero(share) < k, p=share)
    marg_num = case_w @ enc.onehot
    marg_den = (case_w @ enc.observed)[enc.var_of_col] if enc.onehot.shape[1] else marg_num
    marg = marg_num / np.where(marg_den > 0, marg_den, 1.0)
    own = enc.onehot[seeds]
    own_obs = enc.observed[seeds][:, enc.var_of_col] if enc.onehot.shape[1] else own
    theta = np.where(own_obs > 0, 0.5 * own + 0.5 * marg, marg) + 1e-3
    theta = _normalise_theta(theta, enc.var_of_col)
    if enc.x.shape[1]:
        den = case_w @ enc.x_obs
        m = (case_w @ enc.x) / np.where(den > 0, den, 1.0)
        v = (case_w @ (enc.x * enc.x)) / np.where(den > 0, den, 1.0) - m**2
        mean = np.where(enc.x_obs[seeds] > 0, enc.x[seeds], m)
        var = np.tile(np.maximum(v, 1e-6), (k, 1))
    else:
        mean = var = np.zeros((k, 0))
    return _Params(np.full(k, -np.log(k)), theta, mean, var)


def _vec(p: _Params) -> np.ndarray:
    return np.concatenate([np.exp(p.log_w), p.theta.ravel(), p.mean.ravel(), p.var.ravel()])


def _unvec(v: np.ndarray, like: _Params) -> _Params | None:
    """Parameters from a vector (None when outside the parameter space)."""
    k, t, c = like.log_w.size, like.theta.shape[1], like.mean.shape[1]
    w = v[:k]
    theta = v[k : k + k * t].reshape(k, t)
    mean = v[k + k * t : k + k * t + k * c].reshape(k, c)
    var = v[k + k * t + k * c :].reshape(k, c)
    if np.any(w <= 0) or np.any(theta <= 0) or np.any(var <= 0) or not np.all(np.isfinite(v)):
        return None
    return _Params(np.log(w / w.sum()), theta, mean, var)


def _run_em(
    enc: _Encoded,
    p: _Params,
    case_w: np.ndarray,
    var_floor: np.ndarray,
    max_iter: int,
    tol: float,
    accelerate: bool = True,
) -> tuple[_Params, float, int, bool]:
    """EM from ``p`` until the weighted mean log-likelihood per person gains less than ``tol``
    in an iteration; returns parameters, log-likelihood, iterations and convergence.

    With ``accelerate``, each iteration is one SQUAREM step (Varadhan & Roland 2008, scheme S3):
    two EM steps, a squared extrapolation along them, and one EM step from the extrapolated point;
    when the extrapolation leaves the parameter space the step length is halved towards plain EM,
    and when it does not increase the likelihood the two plain EM steps are kept, so the
    likelihood never decreases. EM crawls when classes overlap (hundreds of iterations for the
    last digits); SQUAREM reaches the same maximum in a fraction of the steps.
    """
    total = case_w.sum()

    def em(q: _Params) -> tuple[_Params, float]:
        li, resp = _e_step(enc, q)
        return _m_step(enc, resp, case_w, var_floor), float(case_w @ li) / total

    prev = -np.inf
    for it in range(1, max_iter + 1):
        p1, ll0 = em(p)
        if ll0 - prev < tol:
            return p, ll0 * total, it, True
        prev = ll0
        if not accelerate:
            p = p1
            continue
        p2, ll1 = em(p1)
        v0, v1, v2 = _vec(p), _vec(p1), _vec(p2)
        r = v1 - v0
        d = v2 - 2 * v1 + v0
        nd = np.linalg.norm(d)
        if nd == 0:
            p = p2
            continue
        alpha = min(-np.linalg.norm(r) / nd, -1.0)
        cand = None
        while cand is None and alpha < -1.0:
            cand = _unvec(v0 - 2 * alpha * r + alpha**2 * d, p)
            if cand is None:
                alpha = (alpha - 1.0) / 2
                if alpha > -1.01:
                    alpha = -1.0
        if cand is None:
            p = p2
            continue
        p3, ll_cand = em(cand)
        p = p3 if ll_cand >= ll1 else p2
    li, _ = _e_step(enc, p)
    return p, float(case_w @ li), max_iter, False


def _order_by_size(p: _Params) -> _Params:
    order = np.argsort(-p.log_w, kind="mergesort")
    return _Params(p.log_w[order], p.theta[order], p.mean[order], p.var[order])


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)


@dataclass(frozen=True)
class LatentClassResult:
    """A fitted latent class model (:meth:`LatentClassModel.fit`).

    Attributes
    ----------
    indicators
        The measurement model's indicators.
    weights
        Class sizes (prior class probabilities), shape (K,), decreasing; classes are 1..K.
    theta
        Class-conditional level probabilities of the categorical indicators, shape (K, T) with the
        levels of all categorical indicators side by side (see :meth:`probabilities`).
    means, variances
        Class means and variances of the continuous indicators, shape (K, C).
    posterior
        Posterior class probabilities of the fitted persons, shape (N, K), in data row order.
    log_likelihood
        Maximised log-likelihood (weighted by the case weights).
    n_obs
        Number of persons (sum of case weights).
    iterations, converged
        EM iterations of the winning start and whether it met the tolerance.
    start_log_likelihoods
        Converged log-likelihood of each refined start (best first): how often the maximum was
        replicated tells whether it is the global one.
    """

    indicators: tuple[Indicator, ...]
    weights: np.ndarray
    theta: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    posterior: np.ndarray
    log_likelihood: float
    n_obs: float
    iterations: int
    converged: bool
    start_log_likelihoods: np.ndarray
    index: pd.Index = field(repr=False)

    def __post_init__(self) -> None:
        _readonly(
            self.weights,
            self.theta,
            self.means,
            self.variances,
            self.posterior,
            self.start_log_likelihoods,
        )

    # -- model size and fit -------------------------------------------------------------------
    @property
    def n_classes(self) -> int:
        return int(self.weights.size)

    @property
    def n_parameters(self) -> int:
        """Free parameters: K-1 class sizes, K*(L_j-1) per categorical and 2K per continuous."""
        k = self.n_classes
        cat = sum(len(s.levels) - 1 for s in self.indicators if s.kind == "categorical")
        cont = sum(1 for s in self.indicators if s.kind == "continuous")
        return (k - 1) + k * cat + 2 * k * cont

    @property
    def aic(self) -> float:
        return -2 * self.log_likelihood + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        return -2 * self.log_likelihood + self.n_parameters * np.log(self.n_obs)

    @property
    def sabic(self) -> float:
        """Sample-size adjusted BIC (Sclove 1987): ``log((N + 2) / 24)`` per parameter."""
        return -2 * self.log_likelihood + self.n_parameters * np.log((self.n_obs + 2) / 24)

    @property
    def caic(self) -> float:
        """Consistent AIC (Bozdogan 1987): ``log(N) + 1`` per parameter."""
        return -2 * self.log_likelihood + self.n_parameters * (np.log(self.n_obs) + 1)

    @property
    def entropy(self) -> float:
        """Classification entropy ``-sum_i sum_k p_ik log p_ik`` (nats)."""
        p = np.clip(self.posterior, 1e-300, 1.0)
        return max(0.0, float(-(self.posterior * np.log(p)).sum()))

    @property
    def icl(self) -> float:
        """ICL-BIC (Biernacki et al. 2000; McLachlan & Peel): ``BIC + 2 * entropy``."""
        return self.bic + 2 * self.entropy

    @property
    def relative_entropy(self) -> float:
        """``1 - entropy / (N log K)``: 1 = every person certainly classified, 0 = none (NaN for
        K = 1)."""
        if self.n_classes == 1:
            return float("nan")
        return 1.0 - self.entropy / (self.posterior.shape[0] * np.log(self.n_classes))

    @property
    def classes(self) -> np.ndarray:
        """Modal class (1..K) of each fitted person."""
        return self.posterior.argmax(axis=1) + 1

    def average_posterior(self) -> pd.DataFrame:
        """Per class: ``weight`` (model class size), ``share_modal`` (share of persons whose modal
        class it is) and ``avepp`` (mean posterior probability of the class among them; > 0.7 is
        the usual rule of thumb for well-separated classes)."""
        cls = self.classes
        k = np.arange(1, self.n_classes + 1)
        post = self.posterior[np.arange(len(cls)), cls - 1]
        counts = np.bincount(cls, minlength=self.n_classes + 1)[1:]
        sums = np.bincount(cls, weights=post, minlength=self.n_classes + 1)[1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            avepp = sums / counts
        return pd.DataFrame(
            {
                "class": k,
                "weight": self.weights,
                "share_modal": counts / max(1, len(cls)),
                "avepp": avepp,
            }
        )

    # -- parameters ----------------------------------------------------------------------------
    def probabilities(self) -> pd.DataFrame:
        """Long table ``indicator, level, class, probability`` of the categorical indicators."""
        rows = []
        col = 0
        for s in self.indicators:
            if s.kind != "categorical":
                continue
            for lev in s.levels:
                for k in range(self.n_classes):
                    rows.append((s.name, lev, k + 1, float(self.theta[k, col])))
                col += 1
        return pd.DataFrame(rows, columns=["indicator", "level", "class", "probability"])

    def continuous_parameters(self) -> pd.DataFrame:
        """Long table ``indicator, class, mean, sd`` of the continuous indicators."""
        rows = []
        c = 0
        for s in self.indicators:
            if s.kind != "continuous":
                continue
            for k in range(self.n_classes):
                rows.append(
                    (s.name, k + 1, float(self.means[k, c]), float(np.sqrt(self.variances[k, c])))
                )
            c += 1
        return pd.DataFrame(rows, columns=["indicator", "class", "mean", "sd"])

    def fit_statistics(self) -> dict[str, float]:
        """Log-likelihood, parameters and information criteria in one dict."""
        return {
            "classes": self.n_classes,
            "log_likelihood": self.log_likelihood,
            "k_params": self.n_parameters,
            "aic": self.aic,
            "bic": self.bic,
            "sabic": self.sabic,
            "caic": self.caic,
            "icl": self.icl,
            "entropy": self.entropy,
            "relative_entropy": self.relative_entropy,
            "smallest_class": float(self.weights.min()),
            "best_ll_replicated": int(
                np.sum(self.start_log_likelihoods >= self.log_likelihood - 0.01)
            ),
            "iterations": self.iterations,
            "converged": self.converged,
        }

    def tidy(self) -> pd.DataFrame:
        """All parameters in one long table ``class, indicator, level, parameter, estimate``
        (``parameter`` is ``weight``, ``probability``, ``mean`` or ``sd``)."""
        parts = [
            pd.DataFrame(
                {
                    "class": np.arange(1, self.n_classes + 1),
                    "indicator": "",
                    "level": "",
                    "parameter": "weight",
                    "estimate": self.weights,
                }
            )
        ]
        pr = self.probabilities()
        if len(pr):
            parts.append(
                pr.rename(columns={"probability": "estimate"}).assign(parameter="probability")
            )
        cp = self.continuous_parameters()
        if len(cp):
            for par in ("mean", "sd"):
                parts.append(
                    cp[["indicator", "class", par]]
                    .rename(columns={par: "estimate"})
                    .assign(level="", parameter=par)
                )
        out = pd.concat(parts, ignore_index=True)
        return out[["class", "indicator", "level", "parameter", "estimate"]]

    def summary(self) -> str:
        """Short text: fit statistics and class sizes."""
        fs = self.fit_statistics()
        ap = self.average_posterior()
        lines = [
            f"Latent class model, {self.n_classes} classes, {len(self.indicators)} indicators, "
            f"N = {self.n_obs:.0f}",
            f"  log-likelihood {fs['log_likelihood']:.2f}, parameters {fs['k_params']}, "
            f"BIC {fs['bic']:.1f}, AIC {fs['aic']:.1f}, relative entropy "
            f"{fs['relative_entropy']:.3f}",
        ]
        for r in ap.itertuples(index=False):
            lines.append(f"  class {r[0]}: size {r[1]:.3f}, AvePP {r[3]:.3f}")
        return "\n".join(lines)

    # -- prediction ----------------------------------------------------------------------------
    def _params(self) -> _Params:
        return _Params(np.log(self.weights), self.theta, self.means, self.variances)

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Posterior class probabilities (N, K) of new persons (levels not seen in the fit count as
        missing)."""
        with threadpool_limits(1, user_api="blas"):
            _, resp = _e_step(_encode(df, self.indicators), self._params())
        return resp

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Modal class (1..K) of new persons."""
        return self.predict_proba(df).argmax(axis=1) + 1

    def log_likelihood_of(self, df: pd.DataFrame) -> float:
        """Log-likelihood of ``df`` under the fitted parameters."""
        with threadpool_limits(1, user_api="blas"):
            li, _ = _e_step(_encode(df, self.indicators), self._params())
        return float(li.sum())


class LatentClassModel:
    """Latent class model with ``n_classes`` classes (see the module docstring).

    Parameters
    ----------
    n_classes
        Number of latent classes K.
    n_starts
        Random starts; each runs ``start_iterations`` EM steps.
    n_refine
        Best starts run to convergence (the highest final log-likelihood wins).
    start_iterations
        EM iterations of each start before the best are refined.
    max_iter
        Maximum EM iterations of a refined start.
    tol
        Convergence tolerance on the change of the mean log-likelihood per person (nats).
    seed
        Seed of the random starts: the same seed, data and options give the same result.
    min_variance
        Floor of the within-class variance of a continuous indicator, as a share of its overall
        variance (prevents degenerate classes on one value).
    """

    def __init__(
        self,
        n_classes: int,
        *,
        n_starts: int = 20,
        n_refine: int = 4,
        start_iterations: int = 30,
        max_iter: int = 5000,
        tol: float = 1e-10,
        seed: int = 0,
        min_variance: float = 1e-3,
    ) -> None:
        if n_classes < 1:
            raise ValueError("n_classes must be at least 1")
        self.n_classes = n_classes
        self.n_starts = n_starts
        self.n_refine = n_refine
        self.start_iterations = start_iterations
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.min_variance = min_variance

    def fit(
        self,
        df: pd.DataFrame,
        indicators: Sequence[str] | Mapping[str, Kind] | Sequence[Indicator],
        weights: np.ndarray | pd.Series | None = None,
    ) -> LatentClassResult:
        """Fit the model.

        Parameters
        ----------
        df
            One row per person.
        indicators
            Columns (kind inferred), a mapping column -> ``categorical``/``continuous``, or
            :class:`Indicator` objects (fixing the levels).
        weights
            Non-negative case weights (frequency weights, e.g. bootstrap counts); default 1.
        """
        if len(indicators) and all(isinstance(i, Indicator) for i in indicators):
            spec = tuple(indicators)  # type: ignore[arg-type]
        else:
            spec = infer_indicators(df, indicators)  # type: ignore[arg-type]
        n = len(df)
        case_w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        if case_w.shape != (n,) or np.any(case_w < 0) or case_w.sum() <= 0:
            raise ValueError("weights must be non-negative, one per row, not all zero")
        if np.count_nonzero(case_w) < self.n_classes:
            raise ValueError(f"fewer persons than classes ({self.n_classes})")
        enc, inverse = _compress(_encode(df, spec))
        pat_w = np.bincount(inverse, weights=case_w, minlength=enc.onehot.shape[0])
        with threadpool_limits(1, user_api="blas"):  # small matrices: threads only cost time
            ll, p, it, conv, start_lls = self._fit_patterns(enc, pat_w)
            _, post = _e_step(enc, p)
        post = post[inverse]
        return LatentClassResult(
            indicators=spec,
            weights=np.exp(p.log_w),
            theta=p.theta,
            means=p.mean,
            variances=p.var,
            posterior=post,
            log_likelihood=ll,
            n_obs=float(case_w.sum()),
            iterations=it,
            converged=conv,
            start_log_likelihoods=start_lls,
            index=df.index,
        )

    def _fit_patterns(
        self, enc: _Encoded, case_w: np.ndarray
    ) -> tuple[float, _Params, int, bool, np.ndarray]:
        """Random starts, short runs, refinement of the best; returns the winner (ordered by size)."""
        var_floor = np.zeros(enc.x.shape[1])
        if enc.x.shape[1]:
            den = case_w @ enc.x_obs
            m = (case_w @ enc.x) / np.where(den > 0, den, 1.0)
            v = (case_w @ (enc.x * enc.x)) / np.where(den > 0, den, 1.0) - m**2
            var_floor = np.maximum(self.min_variance * v, 1e-12)
        rng = np.random.default_rng([self.seed, self.n_classes])
        k = self.n_classes
        starts = []
        for _ in range(1 if k == 1 else self.n_starts):
            p0 = _start(enc, k, case_w, rng)
            p, ll, _, _ = _run_em(enc, p0, case_w, var_floor, self.start_iterations, self.tol)
            starts.append((ll, p))
        order = np.argsort([-s[0] for s in starts], kind="mergesort")[: max(1, self.n_refine)]
        refined = []
        for i in order:
            p, ll, it, conv = _run_em(enc, starts[i][1], case_w, var_floor, self.max_iter, self.tol)
            refined.append((ll, p, it, conv))
        refined.sort(key=lambda r: -r[0])
        ll, p, it, conv = refined[0]
        return ll, _order_by_size(p), it, conv, np.array([r[0] for r in refined])


def parameters_result(
    indicators: Sequence[Indicator],
    weights: Sequence[float],
    probabilities: Mapping[str, np.ndarray] | None = None,
    normal: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
) -> LatentClassResult:
    """A :class:`LatentClassResult` with given (e.g. true) parameters, for prediction only.

    Parameters
    ----------
    indicators
        Indicators with their levels.
    weights
        Class sizes (K,), need not be ordered.
    probabilities
        ``{indicator: array (K, levels)}`` of class-conditional level probabilities.
    normal
        ``{indicator: (means (K,), sds (K,))}`` of continuous indicators.
    """
    probabilities = dict(probabilities or {})
    normal = dict(normal or {})
    w = np.asarray(weights, dtype=float)
    k = w.size
    thetas, means, variances = [], [], []
    for s in indicators:
        if s.kind == "categorical":
            a = np.asarray(probabilities[s.name], dtype=float)
            if a.shape != (k, len(s.levels)):
                raise ValueError(f"{s.name}: probabilities must have shape {(k, len(s.levels))}")
            thetas.append(a)
        else:
            mu, sd = normal[s.name]
            means.append(np.asarray(mu, dtype=float))
            variances.append(np.asarray(sd, dtype=float) ** 2)
    theta = np.hstack(thetas) if thetas else np.zeros((k, 0))
    return LatentClassResult(
        indicators=tuple(indicators),
        weights=w / w.sum(),
        theta=np.maximum(theta, 0.0),
        means=np.column_stack(means) if means else np.zeros((k, 0)),
        variances=np.column_stack(variances) if variances else np.zeros((k, 0)),
        posterior=np.zeros((0, k)),
        log_likelihood=float("nan"),
        n_obs=0.0,
        iterations=0,
        converged=True,
        start_log_likelihoods=np.zeros(0),
        index=pd.RangeIndex(0),
    )

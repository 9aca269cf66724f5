"""Numerical engine of the multinomial logit: Newton-Raphson on compressed data, sandwich variances.

Own implementation rather than ``statsmodels.MNLogit`` because of the size of the person-month
frames (1-5 million rows, 8 destinations, 20-40 covariates):

* the person-month design has few distinct rows relative to its length (characteristics, integer
  durations and exposure counts), so the likelihood is evaluated on the distinct rows with outcome
  counts (exactly the same likelihood, often 5-50x fewer rows);
* the cluster-robust variance needs per-person score sums; statsmodels materialises the full
  ``n x (K*J)`` score matrix (several GB at national scale), here it is accumulated in row chunks;
* coefficients can be constrained to zero per destination (``free`` mask), which statsmodels'
  MNLogit cannot do (needed to fit the generator's model with its known zero terms, and to give
  rare destinations an intercept-only model).

Parametrisation: ``beta`` is ``(K, J)`` for ``J`` non-reference outcomes (outcome 0 is the
reference, e.g. staying in the origin state); the free parameters are ordered destination-major
(all covariates of destination 1, then destination 2, ...), as in statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import blas

_CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class Compressed:
    """Distinct design rows with (weighted) outcome counts.

    Attributes
    ----------
    x
        Distinct design rows, shape (G, K).
    counts
        Weighted number of rows with each outcome, shape (G, J + 1) (column 0 = reference).
    inverse
        Index of each input row's distinct row, shape (n,).
    """

    x: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray


def row_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each distinct row of ``x`` and the first row holding each code.

    Column-wise hash factorisation combined pairwise (mixed radix, re-factorised before int64
    overflow): linear time, unlike ``np.unique(axis=0)`` which sorts rows lexicographically.
    """
    n, k = x.shape
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = np.zeros(n, np.int64)
    size = 1
    for c in range(k):
        codes, uniq = pd.factorize(x[:, c])
        m = max(len(uniq), 1)
        if size * m >= 2**62:
            key, u = pd.factorize(key)
            size = max(len(u), 1)
        key = key * m + codes
        size *= m
    inverse, uniq = pd.factorize(key)
    first = np.full(len(uniq), -1, np.int64)
    # first occurrence of each code: assign in reverse so the smallest index wins
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    return inverse.astype(np.int64), first


def compress(x: np.ndarray, y: np.ndarray, n_outcomes: int, w: np.ndarray | None) -> Compressed:
    """Group identical design rows; ``y`` holds outcome codes 0..n_outcomes-1."""
    inverse, first = row_codes(x)
    g = len(first)
    flat = inverse * n_outcomes + y
    counts = np.bincount(flat, weights=w, minlength=g * n_outcomes).reshape(g, n_outcomes)
    return Compressed(x=x[first], counts=counts.astype(float), inverse=inverse)


def probabilities(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Outcome probabilities ``(n, J + 1)`` (column 0 = reference) for design ``x`` ``(n, K)`` and
    coefficients ``beta`` ``(K, J)``; numerically stable softmax."""
    eta = x @ beta
    m = np.maximum(eta.max(axis=1, keepdims=True), 0.0) if eta.shape[1] else np.zeros((len(x), 1))
    e = np.exp(eta - m)
    ref = np.exp(-m)
    denom = ref + e.sum(axis=1, keepdims=True)
    return np.concatenate([ref, e], axis=1) / denom


def _loglik(counts: np.ndarray, p: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(p), 0.0)
    return float(terms.sum())


_TINY = 1e-150
"""Probabilities below this are treated as 0 in the information matrix and score: products of
such values are subnormal floats, which make BLAS calls orders of magnitude slower (quasi-separated
fits drive some probabilities towards 0) and contribute nothing."""


def _flush(p: np.ndarray) -> np.ndarray:
    return np.where(p < _TINY, 0.0, p)


def information(x: np.ndarray, n_row: np.ndarray, p: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Fisher information (minus the Hessian of the log-likelihood) of the free parameters.

    ``x`` (G, K) distinct rows, ``n_row`` (G,) total weight per row, ``p`` (G, J+1), ``free``
    (K, J) boolean. Block (j, l) is ``X_j' diag(n p_j (delta_jl - p_l)) X_l`` (``X_j`` = the free
    columns of destination j), computed as ``blockdiag_j(X_j' diag(n p_j) X_j) - B'B`` with
    ``B = [sqrt(n) p_1 X_1, ..., sqrt(n) p_J X_J]``: one symmetric rank-k update (BLAS ``syrk``)
    per row chunk instead of J(J+1)/2 small products, and only over free coefficients.
    """
    p = _flush(p)
    cols = [np.flatnonzero(free[:, j]) for j in range(free.shape[1])]
    offsets = np.cumsum([0] + [len(c) for c in cols])
    n_free = int(offsets[-1])
    full = np.zeros((n_free, n_free))
    if n_free == 0:
        return full
    rows = max(1, min(len(x), 2**24 // n_free))
    for lo in range(0, len(x), rows):
        xc = x[lo : lo + rows]
        nc = n_row[lo : lo + rows]
        pc = p[lo : lo + rows, 1:]
        sq = np.sqrt(nc)
        b = np.empty((len(xc), n_free), order="F")
        for j, c in enumerate(cols):
            if len(c) == 0:
                continue
            xj = xc[:, c]
            a, e = offsets[j], offsets[j + 1]
            full[a:e, a:e] += xj.T @ (xj * (nc * pc[:, j])[:, None])
            b[:, a:e] = xj * (sq * pc[:, j])[:, None]
        full -= np.triu(blas.dsyrk(1.0, b, trans=1, lower=0))
    full = np.triu(full)
    return full + np.triu(full, 1).T


def gradient(x: np.ndarray, counts: np.ndarray, p: np.ndarray, free_idx: np.ndarray) -> np.ndarray:
    """Score vector of the free parameters (destination-major order)."""
    n_row = counts.sum(axis=1)
    resid = counts[:, 1:] - n_row[:, None] * _flush(p[:, 1:])
    return (x.T @ resid).T.ravel()[free_idx]


@dataclass(frozen=True)
class NewtonFit:
    """Maximum-likelihood fit on compressed data.

    ``loglik`` is the log-likelihood (without the penalty); ``information`` includes the penalty
    (it is the bread of the sandwich for the penalised estimate)."""

    beta: np.ndarray
    loglik: float
    information: np.ndarray
    iterations: int
    converged: bool
    max_abs_gradient: float


def newton(
    comp: Compressed,
    free: np.ndarray,
    max_iter: int = 100,
    tol: float = 1e-8,
    start: np.ndarray | None = None,
    penalty: float = 0.0,
) -> NewtonFit:
    """Newton-Raphson with step halving.

    Parameters
    ----------
    comp
        Compressed data.
    free
        Boolean ``(K, J)``: which coefficients are estimated (others fixed at 0).
    max_iter, tol
        Iteration limit; convergence when the largest Newton step is below ``tol`` or a full
        step changes the objective by less than ``1e-13 * (1 + |objective|)``.
    start
        Starting coefficients ``(K, J)``; default 0 with intercepts (a constant column of ones) at
        the log-odds of the marginal outcome frequencies.
    penalty
        Ridge precision ``lambda``: maximise ``loglik - lambda / 2 * sum(beta^2)`` over the
        coefficients of non-constant columns (a normal prior with sd ``1 / sqrt(lambda)``). Keeps
        estimates finite under (quasi-)separation; 0 = plain maximum likelihood.
    """
    x, counts = comp.x, comp.counts
    k, j_out = free.shape
    free_idx = np.flatnonzero(free.T.ravel())
    n_row = counts.sum(axis=1)
    const = np.flatnonzero(np.all(x == 1.0, axis=0)) if len(x) else np.zeros(0, np.int64)
    pen_mask = np.ones((k, j_out), bool)
    pen_mask[const, :] = False
    pen = penalty * pen_mask.T.ravel()[free_idx].astype(float)
    beta = np.zeros((k, j_out)) if start is None else np.array(start, dtype=float)
    if start is None and const.size:
        tot = counts.sum(axis=0)
        lo = np.log(np.maximum(tot[1:], 0.5) / max(tot[0], 0.5))
        beta[const[0], :] = np.where(free[const[0]], lo, 0.0)

    def objective(b: np.ndarray, ll: float) -> float:
        return ll - 0.5 * float((pen * b.T.ravel()[free_idx] ** 2).sum())

    p = probabilities(x, beta)
    ll = _loglik(counts, p)
    obj = objective(beta, ll)
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        grad = gradient(x, counts, p, free_idx) - pen * beta.T.ravel()[free_idx]
        info = information(x, n_row, p, free) + np.diag(pen)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        full_step = np.zeros(k * j_out)
        full_step[free_idx] = step
        step_mat = full_step.reshape(j_out, k).T
        t = 1.0
        for _ in range(40):
            cand = beta + t * step_mat
            p_new = probabilities(x, cand)
            ll_new = _loglik(counts, p_new)
            obj_new = objective(cand, ll_new)
            if np.isfinite(obj_new) and obj_new >= obj - 1e-12 * (1 + abs(obj)):
                break
            t /= 2
        else:
            break
        change = obj_new - obj
        beta, p, ll, obj = cand, p_new, ll_new, obj_new
        if np.max(np.abs(t * step), initial=0.0) < tol or (
            t == 1.0 and 0 <= change < 1e-13 * (1 + abs(obj))
        ):
            converged = True
            break
    grad = gradient(x, counts, p, free_idx) - pen * beta.T.ravel()[free_idx]
    info = information(x, n_row, p, free) + np.diag(pen)
    return NewtonFit(
        beta=beta,
        loglik=ll,
        information=info,
        iterations=it,
        converged=converged,
        max_abs_gradient=float(np.max(np.abs(grad), initial=0.0)),
    )


def cluster_scores(
    comp: Compressed,
    y: np.ndarray,
    w: np.ndarray | None,
    beta: np.ndarray,
    free: np.ndarray,
    cluster: np.ndarray,
    n_clusters: int,
) -> np.ndarray:
    """Per-cluster sums of the score contributions ``w_i (y_i - p_i) (x) x_i``, shape
    ``(n_clusters, n_free)``, accumulated in row chunks (never the full ``n x n_free`` matrix)."""
    x, inverse = comp.x, comp.inverse
    k, j_out = free.shape
    free_idx = np.flatnonzero(free.T.ravel())
    p_rows = _flush(probabilities(x, beta))
    out = np.zeros((n_clusters, free_idx.size))
    n = len(y)
    eye = np.eye(j_out + 1)
    for lo in range(0, n, _CHUNK_ROWS):
        hi = min(n, lo + _CHUNK_ROWS)
        g = inverse[lo:hi]
        resid = eye[y[lo:hi], 1:] - p_rows[g, 1:]
        if w is not None:
            resid = resid * w[lo:hi, None]
        xc = x[g]
        z = (resid[:, :, None] * xc[:, None, :]).reshape(hi - lo, j_out * k)[:, free_idx]
        m = sparse.csr_matrix(
            (np.ones(hi - lo), (cluster[lo:hi], np.arange(hi - lo))), shape=(n_clusters, hi - lo)
        )
        out += m @ z
    return out


__all__ = [
    "Compressed",
    "NewtonFit",
    "cluster_scores",
    "compress",
    "gradient",
    "information",
    "newton",
    "probabilities",
    "row_codes",
]

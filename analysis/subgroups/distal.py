"""Class-specific distributions of a categorical distal outcome (or covariate) after a latent class
fit: modal assignment and the bias-corrected three-step estimators BCH and ML.

Step 1 is the measurement model (:class:`~analysis.subgroups.lca.LatentClassModel`), step 2 the
modal class ``W`` of each person, step 3 the outcome ``Y`` by class. Tabulating ``Y`` by ``W``
(modal assignment) attenuates class differences: a share of every class is classified elsewhere.
With the posterior probabilities ``p_ic`` of the fit, the classification-error matrix is

    D[c, s] = P(W = s | X = c) = sum_i p_ic 1[W_i = s] / sum_i p_ic       (Vermunt 2010, eq. 6)

and the corrections are

``bch``
    Bolck, Croon & Hagenaars (2004), Vermunt (2010): person ``i`` gets the weight
    ``(D^-1)[W_i, c]`` for class ``c``; the weighted shares of ``Y`` are unbiased for P(Y | X = c).
    Weights can be negative, so a share can fall slightly outside [0, 1] in small classes; it is
    clipped to [0, 1] and the row renormalised.
``ml``
    Vermunt (2010), Bakk, Tekle & Vermunt (2013): maximum likelihood of the (W, Y) table under
    P(W = s, Y = y) = sum_c w_c D[c, s] pi_cy, with ``D`` and the class sizes ``w_c`` (mean
    posterior) fixed, by EM over ``pi``. Estimates are proper probabilities.

Standard errors (``std_errors``, ``tidy()``, ``conf_int``) treat the step-1 quantities (``D`` and the
class sizes) as known, as StepMix and Latent GOLD do by default, so they ignore the step-1
uncertainty (slightly too small when the measurement model is poorly determined):

- ``bch``: robust (sandwich) variance of the weighted-share ratio estimator with the BCH weights as
  fixed, possibly negative, frequency weights (Bakk, Tekle & Vermunt 2013; Vermunt 2010):
  ``Var p_cy = sum_i w_ic^2 (1[y_i = y] - p_cy)^2 / (sum_i w_ic)^2``.
- ``ml``: inverse observed information of the step-3 log-likelihood
  ``sum_{s,y} n_sy log sum_c w_c D_cs pi_cy`` (``D``, ``w`` fixed), delta method to all L levels.
- ``modal``: multinomial ``p (1 - p) / n_s`` within the modal class.

Both depend on ``(W, Y)`` only through their cross-table, so they cost nothing beyond the fit.
With the empirical ``D`` the model class sizes reproduce the modal shares exactly, so when no BCH
share is clipped the ML fixed point fits the (W, Y) table exactly and equals BCH; the two differ
when a BCH share leaves [0, 1] (small or badly separated classes) or outcomes are missing.

Why our own code rather than ``StepMix(n_steps=3, correction=...)``: StepMix's three-step ``fit``
always re-estimates the measurement model itself (about a minute per fit on the register, see
:mod:`.lca`) and takes no posterior matrix, while the corrections given our posterior are the
two table operations above. The tests check both against StepMix's estimates computed from
StepMix's own posterior (same D, same BCH weights, same ML fixed point; StepMix also keeps the
class sizes fixed in the ML step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Method = Literal["modal", "bch", "ml"]
METHODS: tuple[str, ...] = ("modal", "bch", "ml")


def classification_error(posterior: np.ndarray) -> np.ndarray:
    """``D[c, s] = P(modal class = s | true class = c)`` estimated from the posterior (N, K)."""
    post = np.asarray(posterior, dtype=float)
    if post.ndim != 2 or post.shape[0] == 0:
        raise ValueError("posterior must be a non-empty (N, K) matrix")
    k = post.shape[1]
    modal = np.eye(k)[post.argmax(axis=1)]
    num = post.T @ modal
    return num / num.sum(axis=1, keepdims=True)


def bch_weights(posterior: np.ndarray) -> np.ndarray:
    """BCH weights (N, K): row ``W_i`` of ``D^-1`` for each person (may be negative)."""
    post = np.asarray(posterior, dtype=float)
    d_inv = np.linalg.inv(classification_error(post))
    return d_inv[post.argmax(axis=1)]


@dataclass(frozen=True)
class DistalResult:
    """Class-specific outcome distribution.

    Attributes
    ----------
    method
        ``modal``, ``bch`` or ``ml``.
    levels
        Outcome levels (columns of ``probabilities``).
    probabilities
        (K, L): P(Y = level | class), class 1..K in the rows.
    class_sizes
        (K,) class shares used (model class sizes for bch/ml; modal shares for modal).
    classification_error
        (K, K) matrix ``D`` (see module docstring).
    n_obs
        Persons with an observed outcome.
    iterations
        EM iterations (ml; 0 otherwise).
    std_errors
        (K, L) standard errors of ``probabilities`` (module docstring: step 1 taken as known).
    """

    method: str
    levels: tuple[str, ...]
    probabilities: np.ndarray
    class_sizes: np.ndarray
    classification_error: np.ndarray
    n_obs: int
    iterations: int = 0
    std_errors: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.std_errors is None:
            object.__setattr__(self, "std_errors", np.full(self.probabilities.shape, np.nan))
        for a in (self.probabilities, self.class_sizes, self.classification_error, self.std_errors):
            a.setflags(write=False)

    @property
    def std_error(self) -> np.ndarray:
        """Standard errors flattened like ``tidy()`` rows (class-major)."""
        return self.std_errors.ravel()

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """Wald intervals (K * L, 2), rows as in ``tidy()``; not clipped to [0, 1]."""
        from scipy.stats import norm

        z = norm.ppf(1 - alpha / 2)
        est = self.probabilities.ravel()
        return np.column_stack([est - z * self.std_error, est + z * self.std_error])

    def tidy(self) -> pd.DataFrame:
        """One row per class and level: ``term`` (``class:level``), ``class``, ``level``,
        ``estimate``, ``std_error`` and the 95 % Wald interval; ``statistic`` and ``p_value``
        (a test of a share against 0) are left missing as meaningless here."""
        k, n_lev = self.probabilities.shape
        cls = np.repeat(np.arange(1, k + 1), n_lev)
        lev = np.tile(np.asarray(self.levels, dtype=object), k)
        nan = np.full(cls.size, np.nan)
        ci = self.conf_int()
        return pd.DataFrame(
            {
                "term": [f"{c}:{v}" for c, v in zip(cls, lev, strict=True)],
                "class": cls,
                "level": lev,
                "estimate": self.probabilities.ravel(),
                "std_error": self.std_error,
                "statistic": nan,
                "p_value": nan,
                "conf_low": ci[:, 0],
                "conf_high": ci[:, 1],
            }
        )

    def summary(self) -> str:
        rows = [f"Distal outcome by class ({self.method}), N = {self.n_obs}"]
        for c, p in enumerate(self.probabilities, start=1):
            cells = ", ".join(f"{lv} {v:.3f}" for lv, v in zip(self.levels, p, strict=True))
            rows.append(f"  class {c}: {cells}")
        return "\n".join(rows)


def _codes(outcome: Sequence | np.ndarray | pd.Series, levels: Sequence[str] | None):
    y = pd.Series(np.asarray(outcome, dtype=object))
    ok = y.notna().to_numpy()
    txt = y[ok].astype(str)
    lev = tuple(levels) if levels is not None else tuple(sorted(pd.unique(txt)))
    code = pd.Index(lev).get_indexer(txt)
    if (code < 0).any():
        bad = sorted(set(txt[code < 0]))
        raise ValueError(f"outcome values {bad} are not among the levels {list(lev)}")
    return ok, code, lev


def _ml(
    table: np.ndarray, d: np.ndarray, w: np.ndarray, start: np.ndarray, tol: float, max_iter: int
):
    """EM for pi (K, L) in P(s, y) = sum_c w_c D[c, s] pi[c, y]; ``table`` (K, L) counts n[s, y]."""
    pi = start.copy()
    prev = -np.inf
    for it in range(1, max_iter + 1):
        # joint[c, s, y] = w_c D[c, s] pi[c, y]
        joint = w[:, None, None] * d[:, :, None] * pi[:, None, :]
        marg = joint.sum(axis=0)
        ll = float((table * np.log(np.maximum(marg, 1e-300))).sum())
        resp = joint / np.where(marg > 0, marg, 1.0)[None]
        num = (resp * table[None]).sum(axis=1)
        pi = num / np.maximum(num.sum(axis=1, keepdims=True), 1e-300)
        if ll - prev < tol:
            return pi, it
        prev = ll
    return pi, max_iter


def _se_bch(table: np.ndarray, d_inv: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Sandwich SE (K, L) of the BCH shares; ``table`` n[s, y], weights ``d_inv[s, c]`` fixed."""
    w2 = d_inv**2  # (S, K)
    tot = d_inv.T @ table.sum(axis=1)  # (K,) sum_i w_ic
    n_s = table.sum(axis=1)  # (S,)
    # sum_i w_ic^2 (1[y_i=y] - p)^2 = sum_s w_sc^2 [n_sy (1 - 2p) + n_s p^2]
    num = (w2.T @ table) * (1 - 2 * probs) + (w2.T @ n_s)[:, None] * probs**2
    return np.sqrt(np.maximum(num, 0.0)) / np.maximum(np.abs(tot), 1e-300)[:, None]


def _se_ml(table: np.ndarray, d: np.ndarray, w: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """SE (K, L) of ``pi`` from the observed information of the step-3 log-likelihood, free
    parameters pi[c, :L-1] per class; ``D`` and ``w`` fixed."""
    k, n_lev = pi.shape
    if n_lev < 2:
        return np.zeros_like(pi)
    m = np.einsum("c,cs,cy->sy", w, d, pi)
    # dm[s, y] / dpi[c, j] = w_c D_cs (1[y = j] - 1[y = L-1]) for j < L-1
    a = w[:, None] * d  # (K, S)
    eye = np.eye(n_lev)[:, : n_lev - 1]  # (L, L-1)
    eye[n_lev - 1] = -1.0
    grad = np.einsum("cs,yj->sycj", a, eye).reshape(*m.shape, -1)  # (S, L, K*(L-1))
    wt = np.divide(table, m**2, out=np.zeros_like(m), where=m > 0)
    info = np.einsum("sy,syp,syq->pq", wt, grad, grad)
    cov = np.linalg.pinv(info)
    # pi = A theta + const: level j < L-1 is theta, level L-1 is minus their sum
    amap = np.zeros((k, n_lev, k, n_lev - 1))
    for c in range(k):
        amap[c, :, c, :] = eye
    amap = amap.reshape(k * n_lev, -1)
    var = np.einsum("ip,pq,iq->i", amap, cov, amap)
    return np.sqrt(np.maximum(var, 0.0)).reshape(k, n_lev)


def distal_outcome(
    posterior: np.ndarray,
    outcome: Sequence | np.ndarray | pd.Series,
    method: Method = "bch",
    *,
    levels: Sequence[str] | None = None,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> DistalResult:
    """P(outcome level | latent class) by modal assignment or a bias-corrected three-step method.

    Parameters
    ----------
    posterior
        Posterior class probabilities (N, K) of the fitted measurement model.
    outcome
        Categorical outcome of the same N persons; missing = not observed (left out of the
        outcome table; ``D`` is estimated from all N persons).
    method
        ``modal``, ``bch`` or ``ml`` (module docstring).
    levels
        Outcome levels in display order (default: the observed values, sorted).
    tol, max_iter
        Convergence of the ML EM (change of the log-likelihood).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    post = np.asarray(posterior, dtype=float)
    d = classification_error(post)
    ok, code, lev = _codes(outcome, levels)
    if ok.size != post.shape[0]:
        raise ValueError(f"outcome has {ok.size} values, posterior {post.shape[0]} rows")
    k = post.shape[1]
    modal = post.argmax(axis=1)[ok]
    table = np.zeros((k, len(lev)))
    np.add.at(table, (modal, code), 1.0)
    rows = table.sum(axis=1, keepdims=True)
    p_modal = table / np.where(rows > 0, rows, 1.0)
    it = 0
    if method == "modal":
        probs, sizes = p_modal, rows.ravel() / max(1.0, rows.sum())
        se = np.sqrt(probs * (1 - probs) / np.where(rows > 0, rows, np.nan))
    elif method == "bch":
        d_inv = np.linalg.inv(d)
        wt = d_inv.T @ table  # (K, L): sum_i Dinv[W_i, c] 1[y_i = y]
        wt = np.clip(wt, 0.0, None)
        probs = wt / np.maximum(wt.sum(axis=1, keepdims=True), 1e-300)
        sizes = post.mean(axis=0)
        se = _se_bch(table, d_inv, probs)
    else:
        sizes = post.mean(axis=0)
        start = np.where(rows > 0, p_modal, 1.0 / len(lev))
        probs, it = _ml(table, d, sizes, np.maximum(start, 1e-6), tol, max_iter)
        se = _se_ml(table, d, sizes, probs)
    return DistalResult(
        method=method,
        levels=lev,
        probabilities=np.asarray(probs, dtype=float),
        class_sizes=np.asarray(sizes, dtype=float),
        classification_error=d,
        n_obs=int(ok.sum()),
        iterations=it,
        std_errors=np.asarray(se, dtype=float),
    )


def outcome_shares(
    groups: Sequence | np.ndarray | pd.Series,
    outcome: Sequence | np.ndarray | pd.Series,
    levels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Observed shares of each outcome level by known group (e.g. the true subgroup): rows =
    groups (sorted), columns = levels; missing outcomes left out."""
    g = pd.Series(np.asarray(groups, dtype=object)).astype(str)
    ok, code, lev = _codes(outcome, levels)
    tab = pd.crosstab(g[ok].to_numpy(), np.asarray(lev, dtype=object)[code])
    tab = tab.reindex(columns=list(lev), fill_value=0)
    return tab.div(tab.sum(axis=1), axis=0)

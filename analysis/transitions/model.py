"""Discrete-time transition models: multinomial logit of the next state given the current one.

:class:`MultinomialLogit` fits one multinomial logit (reference outcome = the first level, e.g.
staying); :class:`TransitionModel` fits one per origin state of a person-period frame (equivalent
to a pooled model with every coefficient interacted with the origin) with staying in the origin as
the reference outcome, so ``exp(beta)`` is the odds ratio of moving to a destination rather than
staying. Standard errors: cluster-robust by person (sandwich ``I^-1 B I^-1`` with ``B`` the
cross-product of per-person score sums, times statsmodels' small-sample factor
``G/(G-1) (N-1)/(N-P)``), or model-based (inverse observed information), or heteroskedasticity-
robust (each row its own cluster).

The numerical work is in :mod:`analysis.transitions._mnlogit` (why not statsmodels: see there).
Tested against ``statsmodels.discrete.discrete_model.MNLogit`` (coefficients, log-likelihood,
model-based and cluster-robust covariance) in ``tests/transitions/test_mnlogit.py``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import linalg, stats
from threadpoolctl import threadpool_limits

from analysis._base import TIDY_COLUMNS, VarianceOption, require_columns, wald_table
from analysis._design import Design, _quote, build_design, formula_variables
from analysis.transitions import _mnlogit as eng

__all__ = [
    "INTERCEPT",
    "MultinomialLogit",
    "MultinomialLogitResult",
    "NoStayersError",
    "TransitionModel",
    "TransitionModelResult",
]

INTERCEPT = "intercept"
"""Name of the constant term in tidy tables and ``free`` specifications."""

CovariateSpec = str | Sequence[str]


class NoStayersError(ValueError):
    """An origin state that is left in every one of its periods: staying, the reference outcome
    of the origin's multinomial logit, never occurs, so the model is not identified (typical of
    small registers and coarse periods, e.g. half-years)."""


@dataclass(frozen=True)
class _DesignBuilder:
    """Intercept plus the covariates' design (``design`` is ``None`` for intercept-only models)."""

    design: Design | None

    @property
    def terms(self) -> tuple[str, ...]:
        return (INTERCEPT, *(self.design.columns if self.design is not None else ()))

    @property
    def variables(self) -> tuple[str, ...]:
        return self.design.variables if self.design is not None else ()

    def matrix(self, data: pd.DataFrame) -> np.ndarray:
        ones = np.ones((len(data), 1))
        if self.design is None:
            return ones
        d = self.design
        plain = d.columns == d.variables and d.formula == " + ".join(_quote(c) for c in d.variables)
        if (
            plain
            and all(c in data.columns for c in d.variables)
            and all(pd.api.types.is_numeric_dtype(data[c].dtype) for c in d.variables)
        ):
            # a sum of numeric columns: the design is the columns themselves (formulaic's
            # per-call overhead matters when predicting month by month along simulated paths)
            return np.hstack([ones, data[list(d.variables)].to_numpy(dtype=float)])
        return np.hstack([ones, d.matrix(data)])


def _build(data: pd.DataFrame, covariates: CovariateSpec) -> tuple[_DesignBuilder, np.ndarray]:
    empty = (isinstance(covariates, str) and covariates.strip() in ("", "1")) or (
        not isinstance(covariates, str) and len(list(covariates)) == 0
    )
    if empty:
        b = _DesignBuilder(None)
        return b, b.matrix(data)
    design, x = build_design(data, covariates)
    return _DesignBuilder(design), np.hstack([np.ones((len(data), 1)), x])


@dataclass(frozen=True)
class MultinomialLogitResult:
    """Fitted multinomial logit (one origin of a transition model, or a stand-alone model).

    Attributes
    ----------
    outcomes
        Outcome levels; ``outcomes[0]`` is the reference (staying, in a transition model).
    terms
        Design columns (``intercept`` first), rows of ``coef``.
    coef
        Coefficients, shape (K, J) for the J non-reference outcomes; constrained ones are 0.
    free
        Boolean (K, J): which coefficients were estimated.
    cov
        Covariance of the free coefficients (destination-major order), ``variance`` (``"model"`` or ``"robust"``).
    loglik
        Maximised log-likelihood (weighted when weights were given).
    n_obs
        Rows used (person-periods); ``n_clusters`` persons (clusters) behind them.
    n_missing
        Rows dropped because the outcome or a covariate was missing.
    converged, iterations
        Newton-Raphson convergence.
    aliased
        Covariate columns dropped because they are constant or collinear in the data.
    outcome_counts
        Weighted number of rows with each outcome.
    """

    outcomes: tuple
    terms: tuple[str, ...]
    coef: np.ndarray
    free: np.ndarray
    cov: np.ndarray
    variance: str
    conf_level: float
    loglik: float
    n_obs: int
    n_clusters: int
    n_missing: int
    converged: bool
    iterations: int
    aliased: tuple[str, ...]
    outcome_counts: tuple[float, ...]
    builder: _DesignBuilder = field(repr=False)
    keep_columns: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("coef", "free", "cov", "keep_columns"):
            getattr(self, name).flags.writeable = False

    @property
    def n_parameters(self) -> int:
        """Number of estimated coefficients."""
        return int(self.free.sum())

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        return -2 * self.loglik + np.log(max(self.n_obs, 1)) * self.n_parameters

    @property
    def std_error(self) -> np.ndarray:
        """Standard errors shaped like ``coef`` (NaN for constrained coefficients)."""
        se = np.full(self.coef.shape, np.nan)
        idx = np.flatnonzero(self.free.T.ravel())
        flat = se.T.ravel().copy()
        flat[idx] = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        return flat.reshape(self.coef.shape[::-1]).T

    def tidy(self) -> pd.DataFrame:
        """One row per estimated coefficient: ``destination, term`` and the standard columns
        ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` (log odds of the
        destination relative to the reference outcome)."""
        se = self.std_error
        rows_t, rows_d, est, ses = [], [], [], []
        for j, dest in enumerate(self.outcomes[1:]):
            for k, term in enumerate(self.terms):
                if self.free[k, j]:
                    rows_t.append(term)
                    rows_d.append(dest)
                    est.append(self.coef[k, j])
                    ses.append(se[k, j])
        out = wald_table(rows_t, np.asarray(est), np.asarray(ses), self.conf_level)
        out.insert(0, "destination", pd.Series(rows_d, dtype=object))
        return out

    def design_matrix(self, data: pd.DataFrame) -> np.ndarray:
        """Design matrix (with intercept) of new data, in the columns of ``terms``."""
        x = self.builder.matrix(data)
        return x[:, self.keep_columns]

    def probabilities(self, x: np.ndarray, coef: np.ndarray | None = None) -> np.ndarray:
        """Outcome probabilities ``(n, J + 1)`` for a design matrix (column 0 = reference)."""
        return eng.probabilities(np.asarray(x, float), self.coef if coef is None else coef)

    def predict_proba(self, data: pd.DataFrame) -> pd.DataFrame:
        """Outcome probabilities of new data, one column per outcome level."""
        p = self.probabilities(self.design_matrix(data))
        return pd.DataFrame(
            p, columns=pd.Index(list(self.outcomes), dtype=object), index=data.index
        )

    def draw_coefficients(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """Parametric draws ``(n_draws, K, J)`` from the normal approximation N(coef, cov)."""
        idx = np.flatnonzero(self.free.T.ravel())
        mean = self.coef.T.ravel()[idx]
        draws = np.zeros((n_draws, self.coef.size))
        if idx.size:
            draws[:, idx] = rng.multivariate_normal(mean, self.cov, size=n_draws, method="eigh")
        k, j = self.coef.shape
        return draws.reshape(n_draws, j, k).transpose(0, 2, 1)

    def summary(self) -> str:
        """Short text: sample, fit statistics and the coefficient table."""
        head = (
            f"Multinomial logit, reference outcome {self.outcomes[0]!r}; {self.n_obs} rows, "
            f"{self.n_clusters} clusters; log L = {self.loglik:.3f}, {self.n_parameters} "
            f"parameters, AIC = {self.aic:.1f}; SE: {self.variance}"
            + ("" if self.converged else "; NOT CONVERGED")
        )
        if self.aliased:
            head += f"\n  aliased (dropped): {', '.join(self.aliased)}"
        return head + "\n" + self.tidy().to_string(index=False, float_format=lambda v: f"{v:.4g}")


class MultinomialLogit:
    """Multinomial logit by maximum likelihood (Newton-Raphson on distinct design rows).

    Parameters
    ----------
    conf_level
        Confidence level of the Wald intervals.
    variance
        ``"auto"`` (default): robust when ``cluster=`` is given, else model; ``"model"`` (inverse
        information) or ``"robust"`` (sandwich, one cluster per ``cluster=`` value, or each row
        its own cluster without ``cluster=``).
    small_sample
        Multiply sandwich variances by ``G/(G-1) (N-1)/(N-P)`` (statsmodels' default).
    max_iter, tol
        Newton-Raphson limits (``tol`` on the largest step, log-odds scale).
    penalty
        Ridge precision on the non-intercept coefficients (normal prior with sd
        ``1 / sqrt(penalty)`` on the log-odds scale); keeps estimates finite when a covariate
        level has no move to a destination (separation). 0 = maximum likelihood.
    """

    def __init__(
        self,
        conf_level: float = 0.95,
        variance: VarianceOption = "auto",
        small_sample: bool = True,
        max_iter: int = 100,
        tol: float = 1e-8,
        penalty: float = 0.0,
    ) -> None:
        self.conf_level = conf_level
        self.variance = variance
        self.small_sample = small_sample
        self.max_iter = max_iter
        self.tol = tol
        self.penalty = penalty

    def fit(
        self,
        data: pd.DataFrame,
        outcome: str,
        covariates: CovariateSpec = (),
        *,
        outcomes: Sequence[Hashable] | None = None,
        cluster: str | None = None,
        weights: str | None = None,
        free: Mapping[Hashable, Sequence[str]] | None = None,
        start: MultinomialLogitResult | None = None,
    ) -> MultinomialLogitResult:
        """Fit the model.

        Parameters
        ----------
        data
            One row per observation (person-period).
        outcome
            Column with the outcome (e.g. next state).
        covariates
            Column names or a right-hand-side formula; an intercept is always added.
        outcomes
            Outcome levels, reference first (default: sorted levels present). Levels listed but
            absent from the data are dropped.
        cluster
            Column of cluster ids (person) for cluster-robust standard errors.
        weights
            Column of non-negative case weights.
        free
            ``{outcome level: [terms]}``: estimate only these coefficients for that outcome
            (others fixed at 0); terms are design-column names or ``intercept``. Outcomes not
            listed get every term.
        start
            A fit to start Newton-Raphson from, typically of a nested model on the same rows:
            coefficients are matched by term and outcome (0 where absent). It saves iterations
            when fitting a sequence of nested models; the estimate does not depend on it.
        """
        if self.variance not in ("auto", "model", "robust"):
            raise ValueError(f"variance must be 'auto', 'model' or 'robust', not {self.variance!r}")
        if self.variance == "model" and cluster is not None:
            raise ValueError("cluster= needs the robust variance; drop variance='model'")
        variance = (
            "model"
            if self.variance == "model" or (self.variance == "auto" and cluster is None)
            else "robust"
        )
        variables = formula_variables(covariates) if _nonempty(covariates) else []
        require_columns(data, [outcome, cluster, weights, *variables], "data")
        needed = (
            [outcome, *variables] + ([cluster] if cluster else []) + ([weights] if weights else [])
        )
        ok = data[needed].notna().all(axis=1).to_numpy()
        frame = data.loc[ok] if not ok.all() else data
        n_missing = int((~ok).sum())
        if len(frame) == 0:
            raise ValueError("no complete rows to fit")
        levels = _levels(frame[outcome], outcomes)
        y = pd.Categorical(frame[outcome], categories=levels).codes.astype(np.int64)
        if np.any(y < 0):
            bad = sorted(set(frame[outcome][y < 0].astype(str)))
            raise ValueError(f"outcome values {bad} are not in outcomes={list(levels)}")
        builder, x = _build(frame, covariates)
        w = None
        if weights is not None:
            w = frame[weights].to_numpy(dtype=float)
            if np.any(w < 0):
                raise ValueError("weights must be non-negative")
        cl, n_cl = None, len(frame)
        if cluster is not None:
            cl_codes, uniq = pd.factorize(frame[cluster])
            cl, n_cl = cl_codes.astype(np.int64), len(uniq)
        # single-threaded BLAS: the products are tall and skinny (K <= ~50 columns), where
        # OpenBLAS threads gain nothing and, on a loaded machine, wait for each other at every
        # call (measured: 10-50x slower with 2 threads on 2 busy cores)
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit_arrays(
                x, y, levels, builder, w, cl, n_cl, variance, free, n_missing, start
            )

    def _fit_arrays(
        self,
        x: np.ndarray,
        y: np.ndarray,
        levels: list,
        builder: _DesignBuilder,
        w: np.ndarray | None,
        cluster: np.ndarray | None,
        n_clusters: int,
        variance: str,
        free_spec: Mapping[Hashable, Sequence[str]] | None,
        n_missing: int,
        start: MultinomialLogitResult | None = None,
    ) -> MultinomialLogitResult:
        terms_all = builder.terms
        comp = eng.compress(x, y, len(levels), w)
        keep = _independent_columns(comp)
        aliased = tuple(t for t, kp in zip(terms_all, keep, strict=True) if not kp)
        if not keep.all():
            x = x[:, keep]
            comp = eng.Compressed(comp.x[:, keep], comp.counts, comp.inverse)
        terms = tuple(t for t, kp in zip(terms_all, keep, strict=True) if kp)
        free = np.ones((len(terms), len(levels) - 1), bool)
        if free_spec:
            for dest, allowed in free_spec.items():
                if dest not in levels[1:]:
                    continue
                j = levels.index(dest) - 1
                unknown = [t for t in allowed if t not in terms_all]
                if unknown:
                    raise ValueError(f"free terms {unknown} for {dest!r} are not design columns")
                free[:, j] = [t in set(allowed) for t in terms]
        beta0 = _start_values(start, terms, levels, free) if start is not None else None
        fit = eng.newton(comp, free, self.max_iter, self.tol, start=beta0, penalty=self.penalty)
        k_free = int(free.sum())
        try:
            bread = linalg.inv(fit.information) if k_free else np.zeros((0, 0))
        except (linalg.LinAlgError, ValueError):
            bread = linalg.pinv(fit.information)
        n_obs = len(y)
        if variance == "model":
            cov = bread
        else:
            if cluster is None:
                cluster = np.arange(n_obs, dtype=np.int64)
                n_clusters = n_obs
            scores = eng.cluster_scores(comp, y, w, fit.beta, free, cluster, n_clusters)
            meat = scores.T @ scores
            cov = bread @ meat @ bread
            if self.small_sample and n_clusters > 1 and n_obs > k_free:
                cov = cov * (n_clusters / (n_clusters - 1.0)) * ((n_obs - 1.0) / (n_obs - k_free))
        cov = (cov + cov.T) / 2
        return MultinomialLogitResult(
            outcomes=tuple(levels),
            terms=terms,
            coef=fit.beta,
            free=free,
            cov=cov,
            variance=variance,
            conf_level=self.conf_level,
            loglik=fit.loglik,
            n_obs=n_obs,
            n_clusters=int(n_clusters),
            n_missing=n_missing,
            converged=fit.converged,
            iterations=fit.iterations,
            aliased=aliased,
            outcome_counts=tuple(float(c) for c in comp.counts.sum(axis=0)),
            builder=builder,
            keep_columns=keep,
        )


def _start_values(
    start: MultinomialLogitResult, terms: Sequence[str], levels: Sequence, free: np.ndarray
) -> np.ndarray:
    """``start``'s coefficients laid out for ``terms`` x ``levels[1:]`` (0 where ``start`` has
    no such term or outcome, or the coefficient is not free)."""
    beta = np.zeros((len(terms), len(levels) - 1))
    t_old = {t: i for i, t in enumerate(start.terms)}
    o_old = {o: j for j, o in enumerate(start.outcomes[1:])}
    for j, lev in enumerate(levels[1:]):
        if lev not in o_old:
            continue
        for i, t in enumerate(terms):
            if t in t_old:
                beta[i, j] = start.coef[t_old[t], o_old[lev]]
    return np.where(free, beta, 0.0)


def _nonempty(covariates: CovariateSpec) -> bool:
    if isinstance(covariates, str):
        return covariates.strip() not in ("", "1")
    return len(list(covariates)) > 0


def _levels(values: pd.Series, outcomes: Sequence[Hashable] | None) -> list:
    present = list(pd.unique(values))
    if outcomes is None:
        try:
            return sorted(present)
        except TypeError:
            return present
    levels = [o for o in outcomes if o in set(present)]
    if not levels or levels[0] != outcomes[0]:
        raise ValueError(f"the reference outcome {outcomes[0]!r} does not occur in the data")
    return levels


def _independent_columns(comp: eng.Compressed) -> np.ndarray:
    """Columns kept after dropping constant/collinear ones (pivoted QR of the weighted distinct
    rows, tolerance relative to the largest diagonal element; the intercept is kept first)."""
    x = comp.x
    k = x.shape[1]
    if k == 1 or len(x) == 0:
        return np.ones(k, bool)
    wts = np.sqrt(comp.counts.sum(axis=1))
    z = x * wts[:, None]
    scale = np.sqrt((z**2).sum(axis=0))
    scale[scale == 0] = 1.0
    z = z / scale
    # the intercept (column 0) must stay: put it first and do not let pivoting move it
    r = linalg.qr(z[:, 1:] - np.outer(z[:, 0], z[:, 0] @ z[:, 1:]) / max(z[:, 0] @ z[:, 0], 1e-300),
                  mode="r", pivoting=True)  # fmt: skip
    rr, piv = r[0], r[1]
    d = np.abs(np.diag(rr)) if rr.size else np.zeros(0)
    tol = max(d.max(initial=0.0), 1.0) * 1e-9 * max(z.shape)
    rank = int((d > tol).sum())
    keep = np.zeros(k, bool)
    keep[0] = True
    keep[1 + np.sort(piv[:rank])] = True
    return keep


# ---------------------------------------------------------------------------------------------
# Transition model: one multinomial logit per origin state
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionModelResult:
    """One fitted multinomial logit per origin state (staying is the reference outcome).

    Attributes
    ----------
    models
        ``{origin: MultinomialLogitResult}``; outcome 0 of each is the origin itself.
    states
        Every state (column order of predicted transition matrices).
    absorbing
        States without a model (no move observed, or declared absorbing): they stay put.
    origin, destination
        Column names the model was fitted with.
    """

    models: Mapping
    states: tuple
    absorbing: tuple
    origin: str
    destination: str
    conf_level: float
    rare: Mapping = field(default_factory=lambda: MappingProxyType({}))

    @property
    def loglik(self) -> float:
        return float(sum(m.loglik for m in self.models.values()))

    @property
    def n_parameters(self) -> int:
        return int(sum(m.n_parameters for m in self.models.values()))

    @property
    def n_obs(self) -> int:
        return int(sum(m.n_obs for m in self.models.values()))

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        return -2 * self.loglik + np.log(max(self.n_obs, 1)) * self.n_parameters

    @property
    def converged(self) -> bool:
        return all(m.converged for m in self.models.values())

    def tidy(self) -> pd.DataFrame:
        """``origin, destination, term, estimate, std_error, statistic, p_value, conf_low,
        conf_high``: log odds of moving to the destination rather than staying."""
        frames = []
        for o, m in self.models.items():
            t = m.tidy()
            t.insert(0, "origin", pd.Series([o] * len(t), dtype=object))
            frames.append(t)
        if not frames:
            return pd.DataFrame(columns=["origin", "destination", *TIDY_COLUMNS])
        return pd.concat(frames, ignore_index=True)

    def fit_statistics(self) -> pd.DataFrame:
        """Per origin: rows, persons, log-likelihood, parameters, AIC, BIC, convergence."""
        rows = [
            {
                "origin": o,
                "rows": m.n_obs,
                "clusters": m.n_clusters,
                "loglik": m.loglik,
                "k_params": m.n_parameters,
                "aic": m.aic,
                "bic": m.bic,
                "converged": m.converged,
                "aliased": ";".join(m.aliased),
            }
            for o, m in self.models.items()
        ]
        return pd.DataFrame(rows)

    def transition_probabilities(
        self, data: pd.DataFrame, coef: Mapping[Hashable, np.ndarray] | None = None
    ) -> np.ndarray:
        """Probability of each next state ``(n, len(states))`` for rows of ``data`` (each row
        uses the model of its own origin, column ``self.origin``); absorbing origins stay.

        ``coef`` optionally replaces the coefficients of some origins (``{origin: (K, J)}``).
        """
        require_columns(data, [self.origin], "data")
        out = np.zeros((len(data), len(self.states)))
        col = {s: i for i, s in enumerate(self.states)}
        org = data[self.origin].to_numpy()
        for s in pd.unique(org):
            rows = np.flatnonzero(org == s)
            if s in self.models:
                m = self.models[s]
                p = m.probabilities(
                    m.design_matrix(data.iloc[rows]), None if coef is None else coef.get(s)
                )
                out[np.ix_(rows, [col[o] for o in m.outcomes])] = p
            elif s in col:
                out[rows, col[s]] = 1.0
            else:
                raise ValueError(f"origin {s!r} is not a state of the model: {self.states}")
        return out

    def transition_matrix(self, profile: Mapping[str, object] | pd.DataFrame) -> pd.DataFrame:
        """Predicted one-step transition matrix (rows: from, columns: to) for one covariate
        profile, i.e. the profile's covariates with each state as the origin."""
        base = profile if isinstance(profile, pd.DataFrame) else pd.DataFrame([dict(profile)])
        if len(base) != 1:
            raise ValueError("transition_matrix needs exactly one profile row")
        rows = pd.concat([base] * len(self.states), ignore_index=True)
        rows[self.origin] = pd.Series(list(self.states), dtype=object)
        p = self.transition_probabilities(rows)
        labels = pd.Index(list(self.states), dtype=object)
        return pd.DataFrame(p, index=labels.rename("from"), columns=labels.rename("to"))

    def summary(self) -> str:
        lines = [
            f"Transition model ({len(self.models)} origin models, staying = reference): "
            f"{self.n_obs} person-periods, log L = {self.loglik:.2f}, {self.n_parameters} "
            f"parameters, AIC = {self.aic:.1f}, BIC = {self.bic:.1f}"
        ]
        if self.absorbing:
            lines.append(f"  absorbing (no model): {', '.join(map(str, self.absorbing))}")
        for o, m in self.models.items():
            dests = ", ".join(
                f"{d} ({int(c)})" for d, c in zip(m.outcomes[1:], m.outcome_counts[1:], strict=True)
            )
            lines.append(
                f"  from {o}: {m.n_obs} rows, {m.n_clusters} persons, moves to {dests}"
                + ("" if m.converged else " - NOT CONVERGED")
            )
            if self.rare.get(o):
                lines.append(f"    intercept only (rare): {', '.join(map(str, self.rare[o]))}")
        return "\n".join(lines)


class TransitionModel:
    """Discrete-time multi-state model: a multinomial logit of the next state for each origin.

    Parameters
    ----------
    conf_level, variance, small_sample, max_iter, tol
        As :class:`MultinomialLogit`.
    penalty
        Ridge precision on non-intercept coefficients (see :class:`MultinomialLogit`).
    rare_threshold
        A destination with fewer observed moves than this from an origin gets an intercept-only
        model (its probability is the same for everyone in that origin); ``None`` = never.
    """

    def __init__(
        self,
        conf_level: float = 0.95,
        variance: VarianceOption = "auto",
        small_sample: bool = True,
        max_iter: int = 100,
        tol: float = 1e-8,
        penalty: float = 0.0,
        rare_threshold: int | None = None,
    ) -> None:
        self.conf_level = conf_level
        self.variance = variance
        self.small_sample = small_sample
        self.max_iter = max_iter
        self.tol = tol
        self.penalty = penalty
        self.rare_threshold = rare_threshold

    def fit(
        self,
        data: pd.DataFrame,
        origin: str,
        destination: str,
        covariates: CovariateSpec | Mapping[Hashable, CovariateSpec] = (),
        *,
        cluster: str | None = None,
        weights: str | None = None,
        states: Sequence[Hashable] | None = None,
        absorbing: Sequence[Hashable] = (),
        free: Mapping[Hashable, Mapping[Hashable, Sequence[str]]] | None = None,
        start: TransitionModelResult | None = None,
    ) -> TransitionModelResult:
        """Fit one multinomial logit per origin state.

        Parameters
        ----------
        data
            Person-period frame: one row per person and period with the state in the period and
            the state in the next period.
        origin, destination
            Columns with the current and the next state (rows with a missing next state are
            dropped: end of follow-up).
        covariates
            Column names or formula for every origin, or ``{origin: spec}`` with an optional
            ``"*"`` default (e.g. exposures that only exist on KH).
        cluster
            Person id column: cluster-robust standard errors by person.
        weights
            Case weights.
        states
            All states, in output order (default: sorted states seen).
        absorbing
            States given no model (they never move), in addition to states never left.
        free
            ``{origin: {destination: [terms]}}``: coefficients to estimate (others 0).
        start
            A fit (typically of a nested model on the same rows) whose coefficients start each
            origin's Newton-Raphson (see :meth:`MultinomialLogit.fit`); does not change the
            estimate.
        """
        require_columns(data, [origin, destination], "data")
        seen = pd.unique(pd.concat([data[origin], data[destination].dropna()], ignore_index=True))
        if states is None:
            try:
                states = sorted(seen)
            except TypeError:
                states = list(seen)
        states = list(states)
        unknown = [s for s in seen if s not in set(states)]
        if unknown:
            raise ValueError(f"states {unknown} occur in the data but not in states={states}")
        est = MultinomialLogit(
            self.conf_level,
            self.variance,
            self.small_sample,
            self.max_iter,
            self.tol,
            penalty=self.penalty,
        )
        models: dict = {}
        rare: dict = {}
        no_model = []
        org = data[origin].to_numpy()
        for s in states:
            sub = data.loc[org == s]
            sub = sub[sub[destination].notna()]
            moves = sub[destination][sub[destination] != s]
            if s in set(absorbing) or len(moves) == 0 or len(sub) == 0:
                no_model.append(s)
                continue
            if len(moves) == len(sub):
                raise NoStayersError(
                    f"origin state {s!r}: all {len(sub)} periods move to another state, none "
                    "stays (staying is the reference outcome); merge it with another state or use "
                    "shorter periods"
                )
            spec = _spec_for(covariates, s)
            counts = moves.value_counts()
            dests = [d for d in states if d != s and counts.get(d, 0) > 0]
            free_s = dict(free.get(s, {})) if free else {}
            if self.rare_threshold is not None:
                few = [
                    d for d in dests if counts.get(d, 0) < self.rare_threshold and d not in free_s
                ]
                for d in few:
                    free_s[d] = [INTERCEPT]
                if few:
                    rare[s] = tuple(few)
            models[s] = est.fit(
                sub,
                destination,
                spec,
                outcomes=[s, *dests],
                cluster=cluster,
                weights=weights,
                free=free_s or None,
                start=start.models.get(s) if start is not None else None,
            )
        return TransitionModelResult(
            models=MappingProxyType(models),
            states=tuple(states),
            absorbing=tuple(no_model),
            origin=origin,
            destination=destination,
            conf_level=self.conf_level,
            rare=MappingProxyType(rare),
        )


def _spec_for(covariates, state) -> CovariateSpec:
    if isinstance(covariates, Mapping):
        if state in covariates:
            return covariates[state]
        return covariates.get("*", ())
    return covariates


def lr_test(restricted: TransitionModelResult, full: TransitionModelResult) -> dict[str, float]:
    """Likelihood-ratio test of nested transition models fitted on the same rows."""
    stat = 2 * (full.loglik - restricted.loglik)
    df = full.n_parameters - restricted.n_parameters
    return {
        "lr_statistic": float(stat),
        "df": int(df),
        "p_value": float(stats.chi2.sf(stat, df)) if df > 0 else float("nan"),
    }

"""Counting-process Cox proportional-hazards regression that reproduces R ``survival::coxph``.

``CoxPH(ties=...).fit(df, duration=, event=, covariates=, entry=, weights=, strata=, cluster=)``
fits the model to ``(entry, duration]`` rows (start-stop data: several rows per subject with
time-varying covariates, delayed entry), with case weights, strata (separate baseline hazards)
and cluster-robust sandwich standard errors (R's ``coxph(..., cluster=id)``).

Times are in the unit of the ``duration`` column (days in this project). Coefficients are log
hazard ratios per unit of the covariate. The numerical engine is :mod:`analysis._coxengine`
(written here because lifelines and statsmodels are wrong or slow for this data; see there).

Inference on the result (:class:`CoxPHResult`, the estimator protocol of :mod:`analysis._base`):
``likelihood_ratio_test()``, ``wald_test()``, ``score_test()`` (``TestResult``),
``concordance()`` (Harrell's C with its infinitesimal-jackknife SE, O(n log n)),
``residuals(type=)`` (martingale, deviance, score, schoenfeld, scaledsch, dfbeta, dfbetas;
``collapse=`` by id), ``predict_survival(newdata, times)`` with SEs and log / log-log / plain
intervals, ``proportional_hazards_test()`` (cox.zph; its ``coefficient_curves()`` are the
smoothed beta(t) curves of ``plot(cox.zph)``), ``glance()``.

Ties: ``"efron"`` (R's default), ``"breslow"`` or ``"exact"`` -- the exact (discrete, conditional
logistic) partial likelihood of R's ``coxph(ties="exact")``: each event time with ``d`` tied
events among ``n`` rows at risk contributes the probability that exactly those ``d`` fail, whose
denominator is a sum over all ``C(n, d)`` subsets, computed by the Gail-Lubin-Rubinstein
recursion in O(d n p^2) operations per tied time (:func:`analysis._coxengine.exact_group_terms`;
an event time whose ``d n (p + 1)^2`` exceeds ``EXACT_MAX_WORK`` = 1e8, about a second, raises and
names the time). As in R, exact ties take no case weights and have no robust variance (R defines
no score residuals for them); martingale/deviance residuals, the baseline hazard, predicted
survival and cox.zph then use the Breslow hazard at the exact estimate (R's ``survfit`` and
``cox.zph`` on an exact fit), and score/Schoenfeld/dfbeta residuals raise as in R.

Checked against R 4.2 / survival 3.5-3: ``tests/analysis/test_cox_r.py`` and
``tests/analysis/test_cox_inference_r.py`` (fixtures produced by ``tests/r/regression_fixtures.R``
and ``tests/r/cox_inference_fixtures.R``); the beta(t) curves in
``tests/analysis/test_cox_zph_plot_r.py`` (``tests/r/cox_zph_plot_fixtures.R``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis._base import (
    MissingPolicy,
    RegressionResultMixin,
    TestResult,
    VarianceOption,
    drop_missing,
    frozen,
    require_columns,
    wald_table,
)
from analysis._concordance import Concordance, concordance
from analysis._coxengine import (
    CoxProblem,
    ExactCoxProblem,
    Moments,
    build_index,
    cluster_sums,
    invert_information,
    sandwich,
)
from analysis._design import Design, build_design, formula_variables

Ties = Literal["efron", "breslow", "exact"]
ConfType = Literal["log", "log-log", "plain"] | None
ResidualType = Literal[
    "martingale", "deviance", "score", "schoenfeld", "scaledsch", "dfbeta", "dfbetas"
]


# --------------------------------------------------------------------------------------------
# data preparation shared with analysis.competing_risks
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreparedData:
    """Complete-case arrays of one fit (internal)."""

    design: Design
    x: np.ndarray
    stop: np.ndarray
    start: np.ndarray | None
    event_raw: pd.Series
    weights: np.ndarray
    strata: np.ndarray | None
    strata_levels: tuple[str, ...] | None
    cluster: np.ndarray | None
    n_clusters: int | None
    n_missing: int


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def stratum_codes(frame: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer stratum codes (sorted levels, like an R factor) and their labels."""
    if len(cols) == 1:
        codes, uniques = pd.factorize(frame[cols[0]], sort=True)
        return codes.astype(np.int64), tuple(str(u) for u in uniques)
    key = (
        frame[cols]
        .astype(str)
        .apply(lambda row: ", ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True)), axis=1)
    )
    codes, uniques = pd.factorize(key, sort=True)
    return codes.astype(np.int64), tuple(uniques)


def prepare_data(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    covariates: str | Sequence[str],
    entry: str | None = None,
    weights: str | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    what: str = "data",
    missing: MissingPolicy = "drop",
) -> PreparedData:
    """Validate columns, drop incomplete rows (:func:`analysis._base.drop_missing`, R's
    ``na.omit``; ``missing="raise"`` refuses them) and build the design matrix."""
    strata_cols = _as_list(strata)
    variables = formula_variables(covariates)
    used = [duration, event, entry, weights, cluster, *strata_cols, *variables]
    frame, n_missing = drop_missing(data, used, missing, what)
    if frame.shape[0] == 0:
        used_unique = list(dict.fromkeys(c for c in used if c is not None))
        raise ValueError(f"{what} has no complete rows in columns {used_unique}")
    stop = frame[duration].to_numpy(dtype=float)
    start = None if entry is None else frame[entry].to_numpy(dtype=float)
    if not np.all(np.isfinite(stop)):
        raise ValueError(f"duration column '{duration}' has infinite values")
    if start is not None and np.any(start >= stop):
        bad = int(np.sum(start >= stop))
        raise ValueError(
            f"{bad} row(s) have entry '{entry}' >= duration '{duration}'; every row must be a "
            "non-empty interval (entry, duration]"
        )
    if weights is None:
        w = np.ones(frame.shape[0])
    else:
        w = frame[weights].to_numpy(dtype=float)
        if np.any(~np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"weights column '{weights}' must be finite and > 0")
    design, x = build_design(frame, covariates)
    strata_arr, levels = (None, None)
    if strata_cols:
        strata_arr, levels = stratum_codes(frame, strata_cols)
    cluster_arr, n_clusters = None, None
    if cluster is not None:
        codes, uniques = pd.factorize(frame[cluster])
        cluster_arr, n_clusters = codes.astype(np.int64), len(uniques)
    return PreparedData(
        design=design,
        x=x,
        stop=stop,
        start=start,
        event_raw=frame[event],
        weights=w,
        strata=strata_arr,
        strata_levels=levels,
        cluster=cluster_arr,
        n_clusters=n_clusters,
        n_missing=n_missing,
    )


def binary_event(values: pd.Series, column: str) -> np.ndarray:
    """Boolean event indicator from a boolean or 0/1 column; clear error otherwise."""
    if values.dtype == bool:
        return values.to_numpy()
    num = pd.to_numeric(values, errors="coerce")
    uniq = np.unique(num.to_numpy(dtype=float))
    if num.isna().any() or not np.all(np.isin(uniq, [0.0, 1.0])):
        shown = sorted(pd.unique(values).tolist(), key=str)[:10]
        raise ValueError(
            f"event column '{column}' must be boolean or 0/1, found values {shown}; for cause "
            "codes (0 = censored, k = exit type) use analysis.competing_risks.CauseSpecificCox"
        )
    return num.to_numpy(dtype=float) == 1.0


def r_means(x: np.ndarray, w: np.ndarray, counting: bool) -> np.ndarray:
    """Centring used by R's coxph (``fit$means``): column means -- weighted for right-censored
    data (``coxph.fit``), unweighted for (start, stop] data (``agreg.fit``) -- except columns
    whose values all lie in {-1, 0, 1} (indicators), which are not centred (mean 0)."""
    means = (w @ x) / w.sum() if not counting else x.mean(axis=0)
    indicator = np.all(np.isin(x, [-1.0, 0.0, 1.0]), axis=0)
    return np.where(indicator, 0.0, means)


# --------------------------------------------------------------------------------------------
# estimator and result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoxPH:
    """Cox proportional-hazards model for counting-process ``(entry, duration]`` data.

    Parameters
    ----------
    ties
        ``"efron"`` (R's default), ``"breslow"`` or ``"exact"`` (the discrete partial
        likelihood; unweighted, model-based variance only -- see the module docstring)
        handling of tied event times.
    conf_level
        Level of the Wald confidence intervals in :meth:`CoxPHResult.tidy`.
    variance
        ``"auto"`` (default) follows R's coxph: the robust sandwich variance when ``cluster``
        is given (clustered) or when weights are not whole numbers (sampling weights; one
        cluster per row), the model-based inverse information otherwise. ``"robust"``: always
        the sandwich (per row without ``cluster``). ``"model"``: model-based (``cluster`` then
        errors).
    missing
        Rows with a missing value in a used column: ``"drop"`` (default, counted in
        ``n_missing``, R's ``na.omit``) or ``"raise"``.
    max_iter, tol
        Newton-Raphson limits; iterations stop when the relative log-likelihood change is below
        ``tol`` or the Newton step is below 1e-10.
    """

    ties: Ties = "efron"
    conf_level: float = 0.95
    variance: VarianceOption = "auto"
    max_iter: int = 50
    tol: float = 1e-12
    missing: MissingPolicy = "drop"

    def __post_init__(self) -> None:
        if self.ties not in ("efron", "breslow", "exact"):
            raise ValueError(f"ties must be 'efron', 'breslow' or 'exact', not {self.ties!r}")
        if self.variance not in ("auto", "model", "robust"):
            raise ValueError(f"variance must be 'auto', 'model' or 'robust', not {self.variance!r}")
        if self.missing not in ("drop", "raise"):
            raise ValueError(f"missing must be 'drop' or 'raise', not {self.missing!r}")
        if not 0 < self.conf_level < 1:
            raise ValueError(f"conf_level must be in (0, 1), not {self.conf_level}")

    def fit(
        self,
        data: pd.DataFrame,
        *,
        duration: str,
        event: str,
        covariates: str | Sequence[str],
        entry: str | None = None,
        weights: str | None = None,
        strata: str | Sequence[str] | None = None,
        cluster: str | None = None,
    ) -> CoxPHResult:
        """Fit the model.

        Parameters
        ----------
        data
            One row per interval ``(entry, duration]`` (one row per subject without ``entry``).
        duration
            End of the interval (time of event or censoring), e.g. days since spell start.
        event
            Boolean or 0/1: the interval ends with the event.
        covariates
            List of columns, or a right-hand-side formula (``"age + C(education) + x:z"``);
            string/categorical columns are expanded against their first level.
        entry
            Start of the interval (delayed entry / start-stop rows); the row is at risk at
            times ``entry < t <= duration``. ``None``: at risk from time 0 (or earlier).
        weights
            Positive case weights.
        strata
            Column(s) defining strata with separate baseline hazards.
        cluster
            Column identifying clusters (e.g. person id) for the robust sandwich variance.
        """
        prep = prepare_data(
            data,
            duration=duration,
            event=event,
            covariates=covariates,
            entry=entry,
            weights=weights,
            strata=strata,
            cluster=cluster,
            missing=self.missing,
        )
        ev = binary_event(prep.event_raw, event)
        labels = {"duration": duration, "event": event, "entry": entry, "weights": weights}
        labels |= {"strata": ", ".join(_as_list(strata)) or None, "cluster": cluster}
        return self.fit_prepared(prep, ev, labels)

    def fit_prepared(
        self, prep: PreparedData, event: np.ndarray, labels: dict[str, str | None]
    ) -> CoxPHResult:
        """Fit to prepared arrays (used by CauseSpecificCox; not part of the public API)."""
        if not event.any():
            raise ValueError(f"no events in column '{labels['event']}': nothing to fit")
        means = r_means(prep.x, prep.weights, counting=prep.start is not None)
        xc = prep.x - means
        _check_rank(xc, prep.design.columns)
        exact = self.ties == "exact"
        if exact:
            _check_exact(prep, labels, self.variance)
        index = build_index(
            prep.stop, event, prep.start, prep.strata, "breslow" if exact else self.ties
        )
        # exact ties: the discrete likelihood is maximised, the Breslow problem at its estimate
        # gives residuals, baseline hazard and cox.zph (as R's survfit/cox.zph on an exact fit)
        problem = CoxProblem(index, xc, prep.weights, prep.stop, prep.start, prep.strata)
        fit_problem = ExactCoxProblem(index, xc) if exact else problem
        mom, info, iterations, converged, loglik_null = fit_problem.fit(
            max_iter=self.max_iter, tol=self.tol
        )
        loglik = mom.loglik
        if exact:
            mom = problem.moments(mom.beta)
        naive_var = invert_information(info)
        if self.variance == "model" and prep.cluster is not None:
            raise ValueError(
                f"cluster='{labels['cluster']}' needs the robust variance; drop variance='model'"
            )
        sampling_weights = bool(np.any(prep.weights != np.floor(prep.weights)))
        robust = self.variance == "robust"
        if self.variance == "auto":
            robust = prep.cluster is not None or sampling_weights
        var = naive_var
        if robust:
            resid = problem.score_residuals(mom) * prep.weights[:, None]
            var = sandwich(naive_var, resid, prep.cluster)
        score_null = _score_test(fit_problem, index.n_groups)
        return CoxPHResult(
            terms=prep.design.columns,
            coef=frozen(mom.beta),
            var=frozen(var),
            naive_var=frozen(naive_var),
            variance="robust" if robust else "model",
            loglik=loglik,
            loglik_null=loglik_null,
            score_statistic=score_null,
            nobs=int(prep.stop.shape[0]),
            n_events=int(event.sum()),
            n_missing=prep.n_missing,
            n_clusters=prep.n_clusters,
            iterations=iterations,
            converged=converged,
            ties=self.ties,
            conf_level=self.conf_level,
            means=frozen(means),
            strata_levels=prep.strata_levels,
            labels=labels,
            design=prep.design,
            _problem=problem,
            _moments=mom,
            _cluster=prep.cluster,
        )


def _check_exact(prep: PreparedData, labels: dict[str, str | None], variance: str) -> None:
    """Refuse what R's ``coxph(ties="exact")`` refuses: case weights and the robust variance."""
    if np.any(prep.weights != 1):
        raise ValueError(
            f"ties='exact' takes no case weights (weights='{labels['weights']}' has values other "
            "than 1); R's coxph refuses them too ('Case weights are not supported for the exact "
            "method'): use ties='efron'"
        )
    if prep.cluster is not None or variance == "robust":
        raise ValueError(
            "ties='exact' has no robust variance (R defines no score residuals for the exact "
            "method); drop cluster= / variance='robust' or use ties='efron'"
        )


def _score_test(problem: CoxProblem, n_groups: int) -> float:
    """Score (log-rank) statistic ``U(0)' I(0)^-1 U(0)`` of all coefficients = 0 (R's
    ``fit$score``)."""
    mom0 = problem.moments(np.zeros(problem.p))
    info0 = problem.information(mom0)
    return float(mom0.score @ np.linalg.lstsq(info0, mom0.score, rcond=None)[0])


def survival_interval(
    surv: np.ndarray, se_cum: np.ndarray, conf_type: str, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval of a survival probability ``surv`` with ``se_cum`` = SE of the
    cumulative hazard, as R's ``survfit`` (``conf.type`` "log", "log-log" or "plain")."""
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se_cum * surv
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            s = np.where(surv == 0, np.nan, surv)
            return s * np.exp(-z * se_cum), np.minimum(s * np.exp(z * se_cum), 1.0)
        s = np.where((surv == 0) | (surv == 1), np.nan, surv)
        step = z * se_cum / np.log(s)
        loglog = np.log(-np.log(s))
        return np.exp(-np.exp(loglog - step)), np.exp(-np.exp(loglog + step))


def _collapse(values: np.ndarray, ids, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``values`` (rows) within ``ids`` (R's ``rowsum``: sorted unique ids)."""
    ids = np.asarray(ids)
    if ids.shape[0] != n:
        raise ValueError(
            f"collapse= needs one id per row used in the fit ({n}), got {ids.shape[0]}"
        )
    uniq, inv = np.unique(ids, return_inverse=True)
    if values.ndim == 1:
        return uniq, np.bincount(inv, values, uniq.shape[0])
    return uniq, np.column_stack(
        [np.bincount(inv, values[:, c], uniq.shape[0]) for c in range(values.shape[1])]
    ).reshape(uniq.shape[0], values.shape[1])


def _check_rank(xc: np.ndarray, names: Sequence[str]) -> None:
    gram = xc.T @ xc
    scale = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    corr = gram / np.outer(scale, scale)
    eig, vec = np.linalg.eigh(corr)
    if np.any(np.diag(gram) == 0) or eig.min() < 1e-10:
        weak = vec[:, 0]
        involved = [n for n, v in zip(names, weak, strict=True) if abs(v) > 0.1]
        raise ValueError(
            f"covariates are collinear or constant (involving {involved}); drop or merge them"
        )


@dataclass(frozen=True)
class CoxPHResult(RegressionResultMixin):
    """Fitted Cox model (immutable; follows :class:`analysis._base.RegressionResultMixin`).

    Attributes
    ----------
    terms
        Coefficient names (design-matrix columns).
    coef
        Log hazard ratios.
    var, naive_var
        Variance matrix used for inference (``variance``: "robust" sandwich or "model") and
        the model-based inverse information.
    loglik, loglik_null
        Log partial likelihood at the estimate and at zero coefficients.
    score_statistic
        Score (log-rank) chi-square of all coefficients = 0, model-based (R's ``fit$score``).
    nobs, n_events, n_missing, n_clusters
        Rows used, events, rows dropped for missing values, clusters (if ``cluster``).
    means
        Centring of each design column (R's ``fit$means``); the "centred" baseline hazard is the
        hazard at these covariate values.
    cause
        Cause code for cause-specific models fitted by ``CauseSpecificCox``.
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    var: np.ndarray
    naive_var: np.ndarray
    variance: str
    loglik: float
    loglik_null: float
    score_statistic: float
    nobs: int
    n_events: int
    n_missing: int
    n_clusters: int | None
    iterations: int
    converged: bool
    ties: str
    conf_level: float
    means: np.ndarray
    strata_levels: tuple[str, ...] | None
    labels: dict[str, str | None]
    design: Design = field(repr=False)
    cause: int | None = None
    _problem: CoxProblem = field(repr=False, compare=False, default=None)
    _moments: Moments = field(repr=False, compare=False, default=None)
    _cluster: np.ndarray | None = field(repr=False, compare=False, default=None)

    # ---- coefficient tables --------------------------------------------------------------
    @property
    def bic_n(self) -> int:
        """BIC sample size: the number of events (R's ``BIC.coxph``)."""
        return int(self.n_events)

    @property
    def naive_std_error(self) -> np.ndarray:
        """Model-based standard errors (inverse information), R's ``se(coef)``."""
        return np.sqrt(np.diag(self.naive_var))

    def tidy(self, exponentiate: bool = False) -> pd.DataFrame:
        """Coefficient table ``term, estimate, std_error, statistic, p_value, conf_low,
        conf_high``; estimate = log hazard ratio (hazard ratio with ``exponentiate=True``, then
        estimate and the interval are exponentiated, std_error stays on the log scale)."""
        table = wald_table(self.terms, self.coef, self.std_error, self.conf_level)
        if exponentiate:
            for col in ("estimate", "conf_low", "conf_high"):
                table[col] = np.exp(table[col])
        return table

    def hazard_ratios(self) -> pd.DataFrame:
        """``term, hazard_ratio, conf_low, conf_high`` (Wald interval on the log scale)."""
        t = self.tidy(exponentiate=True)
        return t[["term", "estimate", "conf_low", "conf_high"]].rename(
            columns={"estimate": "hazard_ratio"}
        )

    def likelihood_ratio_test(self) -> TestResult:
        """Likelihood-ratio test of all coefficients = 0 (R ``summary(fit)$logtest``)."""
        stat = 2 * (self.loglik - self.loglik_null)
        return TestResult.chi2("likelihood ratio", stat, len(self.coef))

    def wald_test(self) -> TestResult:
        """Wald test of all coefficients = 0 with the inference variance (robust if
        ``variance == "robust"``; R ``summary(fit)$waldtest``)."""
        stat = float(self.coef @ np.linalg.solve(self.var, self.coef))
        return TestResult.chi2("Wald", stat, len(self.coef))

    def score_test(self) -> TestResult:
        """Score (log-rank) test of all coefficients = 0, model-based information at zero
        (R ``summary(fit)$sctest``)."""
        return TestResult.chi2("score", self.score_statistic, len(self.coef))

    def robust_score_test(self) -> TestResult:
        """Robust score test of all coefficients = 0: ``U(0)' (S'S)^-1 U(0)`` with ``S`` the
        cluster sums of the weighted score residuals at ``beta = 0`` (R ``fit$rscore``, printed
        as "Robust = ..." by ``summary(coxph(..., cluster=id))``)."""
        if self.ties == "exact":
            raise ValueError("ties='exact' has no score residuals, hence no robust score test")
        problem = self._problem
        mom0 = problem.moments(np.zeros(problem.p))
        resid = cluster_sums(problem.score_residuals(mom0) * problem.w[:, None], self._cluster)
        u = resid.sum(axis=0)
        stat = float(u @ np.linalg.lstsq(resid.T @ resid, u, rcond=None)[0])
        return TestResult.chi2("robust score", stat, len(self.coef))

    def global_tests(self) -> dict[str, TestResult]:
        """The tests of all coefficients = 0 that R's ``summary(coxph)`` prints, by name:
        ``likelihood_ratio``, ``wald``, ``score`` and, with the robust variance,
        ``robust_score``."""
        tests = {
            "likelihood_ratio": self.likelihood_ratio_test(),
            "wald": self.wald_test(),
            "score": self.score_test(),
        }
        if self.variance == "robust":
            tests["robust_score"] = self.robust_score_test()
        return tests

    def concordance(self) -> Concordance:
        """Harrell's C of the linear predictor with R's conventions (``concordance(fit)``:
        pairs within strata, comparable when the shorter time is an event and, for (start,
        stop] rows, the other row is at risk then; higher risk score with the shorter time is
        concordant; score ties count 1/2; tied event times are not compared; case weights
        multiply) and its infinitesimal-jackknife standard error (per ``cluster`` if given).
        O(n log n); see :mod:`analysis._concordance`."""
        prob = self._problem
        event = np.zeros(prob.idx.n_rows, dtype=bool)
        event[prob.idx.death_rows] = True
        strata = None if self.strata_levels is None else prob.row_strata
        return concordance(
            prob.x @ self.coef, prob.row_stop, event, prob.w, prob.row_start, strata, self._cluster
        )

    def glance_extra(self) -> dict[str, float | int | str | None]:
        """``n_events, n_missing, concordance, concordance_se`` and the three global tests."""
        c = self.concordance()
        out: dict[str, float | int | str | None] = {
            "n_events": self.n_events,
            "n_missing": self.n_missing,
            "concordance": c.estimate,
            "concordance_se": c.std_error,
        }
        tests = self.global_tests()
        for key, name in (("lr", "likelihood_ratio"), ("score", "score"), ("wald", "wald")):
            test = tests[name]
            out[f"{key}_statistic"] = test.statistic
            out[f"{key}_p_value"] = test.p_value
        out["variance"] = self.variance
        return out

    def summary(self) -> str:
        """Text like R's ``print(coxph)``."""
        head = f"CoxPH ({self.ties} ties)"
        if self.cause is not None:
            head = f"Cause-specific CoxPH, cause {self.cause} ({self.ties} ties)"
        rows = {
            "coef": self.coef,
            "exp(coef)": np.exp(self.coef),
            "se(coef)": self.naive_std_error,
        }
        if self.variance == "robust":
            rows["robust se"] = self.std_error
        rows["z"] = self.coef / self.std_error
        rows["p"] = 2 * stats.norm.sf(np.abs(rows["z"]))
        table = pd.DataFrame(rows, index=list(self.terms))
        lr_test, wald_test, sc_test = (
            self.likelihood_ratio_test(),
            self.wald_test(),
            self.score_test(),
        )
        lr, df, p = lr_test.statistic, int(lr_test.df), lr_test.p_value
        wald, pw = wald_test.statistic, wald_test.p_value
        robust = self.variance == "robust"
        lines = [
            head,
            "",
            table.to_string(float_format=lambda v: f"{v:.5g}"),
            "",
            f"Likelihood ratio test = {lr:.4g} on {df} df, p = {p:.4g}",
            f"Wald test{' (robust)' if robust else ''} = {wald:.4g} on {df} df, p = {pw:.4g}",
            f"Score (logrank) test = {sc_test.statistic:.4g} on {df} df, p = {sc_test.p_value:.4g}",
            f"n = {self.nobs} rows, number of events = {self.n_events}"
            + (f", clusters = {self.n_clusters}" if self.n_clusters else "")
            + (f", dropped (missing) = {self.n_missing}" if self.n_missing else ""),
        ]
        if robust:
            rs = self.robust_score_test()
            lines.insert(
                -1, f"Robust score test = {rs.statistic:.4g} on {df} df, p = {rs.p_value:.4g}"
            )
        if self.strata_levels:
            lines.append(f"strata ({self.labels.get('strata')}): {len(self.strata_levels)}")
        if not self.converged:
            lines.append("WARNING: did not converge")
        return "\n".join(lines)

    # ---- residuals -------------------------------------------------------------------------
    def residuals(
        self,
        type: ResidualType = "martingale",
        collapse: Sequence | np.ndarray | pd.Series | None = None,
    ) -> np.ndarray | pd.DataFrame:
        """Residuals as R ``residuals(fit, type=, collapse=)`` (survival 3.5-3 conventions).

        Parameters
        ----------
        type
            ``"martingale"`` (event indicator minus expected events, unweighted),
            ``"deviance"``, ``"score"`` (unweighted score residuals), ``"schoenfeld"`` (one row
            per event, ordered by stratum and time; unweighted), ``"scaledsch"`` (Schoenfeld
            times ``naive_var`` times the number of events, plus the coefficients),
            ``"dfbeta"`` (case weight times score residuals times ``naive_var``: approximate
            change of the coefficients when the row is left out) or ``"dfbetas"`` (dfbeta
            divided by the model-based standard errors).
        collapse
            Optional id per row used in the fit (length ``nobs``, e.g. the person id): sums
            the residuals within ids (R's ``collapse=``; rows then ordered by sorted id).
            Not for the Schoenfeld types.

        Returns
        -------
        Martingale and deviance: array of length ``nobs`` (or number of ids); other types:
        DataFrame with one column per term (Schoenfeld types also ``[stratum,] time``).
        """
        prob, mom = self._problem, self._moments
        if self.ties == "exact" and type not in ("martingale", "deviance"):
            raise ValueError(
                f"{type} residuals are not available for ties='exact' (as in R); refit with "
                "ties='efron'"
            )
        if type in ("schoenfeld", "scaledsch"):
            if collapse is not None:
                raise ValueError(f"collapse= is not defined for {type} residuals")
            return self._schoenfeld(scaled=type == "scaledsch")
        if type in ("martingale", "deviance"):
            status = np.zeros(prob.idx.n_rows)
            status[prob.idx.death_rows] = 1.0
            resid = status - self._expected_events()
            if collapse is not None:
                resid, status = (_collapse(v, collapse, self.nobs)[1] for v in (resid, status))
            if type == "deviance":
                with np.errstate(divide="ignore", invalid="ignore"):
                    log_term = np.where(status == 0, 0.0, status * np.log(status - resid))
                resid = np.sign(resid) * np.sqrt(-2 * (resid + log_term))
            return frozen(resid)
        if type not in ("score", "dfbeta", "dfbetas"):
            raise ValueError(
                "type must be one of martingale, deviance, score, schoenfeld, scaledsch, "
                f"dfbeta, dfbetas; not {type!r}"
            )
        resid = prob.score_residuals(mom)
        if type != "score":
            resid = (resid @ self.naive_var) * prob.w[:, None]
            if type == "dfbetas":
                resid = resid / np.sqrt(np.diag(self.naive_var))
        index = None
        if collapse is not None:
            index, resid = _collapse(resid, collapse, self.nobs)
        return pd.DataFrame(resid, columns=list(self.terms), index=index)

    def _expected_events(self) -> np.ndarray:
        """Expected number of events of each row, ``r_i * Lambda0`` over its risk interval
        (Efron: the row's own tied group counts with weights ``1 - k/m``)."""
        prob, mom = self._problem, self._moments
        cum = prob.row_sums(mom.alpha)
        if prob.efron:
            dr, dg = prob.idx.death_rows, prob.idx.death_group
            cum[dr] -= mom.frac_alpha[dg]
        return mom.r * cum

    def _schoenfeld(self, scaled: bool) -> pd.DataFrame:
        prob = self._problem
        idx = prob.idx
        resid = prob.schoenfeld(self._moments)
        if scaled:
            resid = resid @ self.naive_var * idx.death_rows.shape[0] + self.coef
        out = pd.DataFrame(resid, columns=list(self.terms))
        out.insert(0, "time", idx.group_time[idx.death_group])
        if self.strata_levels is not None:
            labels = np.asarray(self.strata_levels, dtype=object)
            out.insert(0, "stratum", labels[idx.group_stratum[idx.death_group]])
        return out

    # ---- baseline hazard and predictions --------------------------------------------------
    def _stratum_frame(self) -> pd.DataFrame:
        idx = self._problem.idx
        frame = pd.DataFrame(
            {
                "stratum": idx.group_stratum,
                "time": idx.group_time,
                "hazard": self._moments.alpha,  # increment at the centre (R: survfit ctype)
            }
        )
        frame["cumulative_hazard"] = frame.groupby("stratum", sort=False)["hazard"].cumsum()
        return frame

    def baseline_cumulative_hazard(self, centered: bool = True) -> pd.DataFrame:
        """Breslow (``ties="breslow"``) or Efron-type (``"efron"``) cumulative baseline hazard at
        each event time, as R ``basehaz(fit, centered=)`` / ``survfit(fit)$cumhaz``.

        Parameters
        ----------
        centered
            ``True``: hazard at the covariate means ``means`` (R's default); ``False``: at all
            covariates = 0.

        Returns
        -------
        DataFrame with ``[stratum,] time, cumulative_hazard`` (unit: expected events).
        """
        frame = self._stratum_frame()
        if not centered:
            frame["cumulative_hazard"] *= np.exp(-self.means @ self.coef)
        out = frame[["stratum", "time", "cumulative_hazard"]].copy()
        if self.strata_levels is None:
            return out.drop(columns="stratum").reset_index(drop=True)
        out["stratum"] = np.asarray(self.strata_levels, dtype=object)[out["stratum"]]
        return out.reset_index(drop=True)

    def predict_log_hazard_ratio(self, newdata: pd.DataFrame, centered: bool = False) -> np.ndarray:
        """Linear predictor ``x'beta`` of each row of ``newdata`` (log hazard ratio against all
        covariates = 0); ``centered=True`` gives ``(x - means)'beta`` as R's
        ``predict(fit, newdata, type="lp")``."""
        x = self.design.matrix(newdata)
        return (x - self.means) @ self.coef if centered else x @ self.coef

    def predict_survival(
        self,
        newdata: pd.DataFrame,
        times: Sequence[float] | np.ndarray | None = None,
        conf_type: ConfType = "log",
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Predicted survival curves with standard errors and confidence intervals for
        covariate profiles, as R ``summary(survfit(fit, newdata), times=, extend=TRUE)``.

        ``S(t | x) = exp(-Lambda(t | x))``, ``Lambda(t | x) = Lambda0(t) exp((x - means)'beta)``
        with the Breslow/Efron baseline of the profile's stratum (``newdata`` needs the strata
        column(s) in a stratified model). Variance of ``Lambda(t | x)`` (Tsiatis; R's default
        for coxph): ``r^2 [sum_k h_k / S0_k + d(t)' V d(t)]``, ``r = exp((x - means)'beta)``,
        ``d(t) = sum_k h_k (x - xbar_k)`` over the (Efron slot) hazard increments ``h_k`` up to
        ``t`` and ``V = var`` (the inference variance, robust if ``variance == "robust"``,
        as R uses ``fit$var``).

        Parameters
        ----------
        newdata
            One row per profile (covariates held fixed over time).
        times
            Times to evaluate (the step functions are right-continuous); default: all event
            times of the stratum.
        conf_type
            Scale of the pointwise interval: ``"log"`` (R's default; ``S exp(+-z se(Lambda))``,
            upper limit capped at 1), ``"log-log"``, ``"plain"`` (``S +- z se(S)``, clipped to
            [0, 1]) or ``None`` (no interval columns).
        conf_level
            Interval level; default the result's ``conf_level``.

        Returns
        -------
        DataFrame ``row, [stratum,] time, cumulative_hazard, estimate, std_error, conf_low,
        conf_high``: estimate = survival probability, std_error = its standard error
        (``S se(Lambda)``, R's ``summary(...)$std.err``); ``row`` is the position of the
        profile in ``newdata``.
        """
        if conf_type not in ("log", "log-log", "plain", None):
            raise ValueError(
                f"conf_type must be 'log', 'log-log', 'plain' or None, not {conf_type!r}"
            )
        xc = self.design.matrix(newdata) - self.means
        lp = xc @ self.coef
        if self.strata_levels is None:
            strata = np.zeros(len(newdata), dtype=np.int64)
        else:
            strata = self._newdata_strata(newdata)
        gstrat, gtime, cum_h, cum_v, cum_hx = self._hazard_terms()
        var = np.asarray(self.var)
        parts = []
        for i, (s, eta) in enumerate(zip(strata, lp, strict=True)):
            sel = np.flatnonzero(gstrat == s)
            t_grid = gtime[sel] if times is None else np.asarray(times, dtype=float)
            pos = np.searchsorted(gtime[sel], t_grid, side="right")

            def at(v, sel=sel, pos=pos):
                pad = np.zeros((1,) + v.shape[1:])
                return np.concatenate([pad, v[sel]])[pos]

            r = np.exp(eta)
            cum = at(cum_h) * r
            d = at(cum_h)[:, None] * xc[i] - at(cum_hx)
            var_lambda = r**2 * (at(cum_v) + np.einsum("tj,jk,tk->t", d, var, d))
            part = pd.DataFrame(
                {"row": i, "time": t_grid, "cumulative_hazard": cum, "_se": np.sqrt(var_lambda)}
            )
            if self.strata_levels is not None:
                part.insert(1, "stratum", self.strata_levels[s])
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        surv = np.exp(-out["cumulative_hazard"].to_numpy())
        se_cum = out.pop("_se").to_numpy()
        out["estimate"] = surv
        out["std_error"] = surv * se_cum
        if conf_type is not None:
            level = self.conf_level if conf_level is None else conf_level
            out["conf_low"], out["conf_high"] = survival_interval(surv, se_cum, conf_type, level)
        return out

    def _hazard_terms(self):
        """Per event group (ordered by stratum, time): stratum, time and within-stratum
        cumulative sums of the hazard increment ``sum_k h_k``, of ``sum_k h_k / S0_k`` and of
        ``sum_k h_k xbar_k`` (centred x; Efron slots k of the group)."""
        prob, mom = self._problem, self._moments
        idx = prob.idx
        g = idx.n_groups
        scale = np.exp(-mom.shift)  # h is per exp(eta - shift); undo the shift
        h = mom.h * scale
        d2 = prob.slot_weight / mom.h * np.exp(mom.shift)
        haz = np.bincount(idx.death_group, h, g)
        vh = np.bincount(idx.death_group, h / d2, g)
        hx = np.column_stack(
            [np.bincount(idx.death_group, h * mom.xbar[:, c], g) for c in range(prob.p)]
        ).reshape(g, prob.p)
        first = np.r_[True, idx.group_stratum[1:] != idx.group_stratum[:-1]]
        seg = np.cumsum(first) - 1

        def seg_cumsum(v):
            c = np.cumsum(v, axis=0)
            offs = np.concatenate([np.zeros((1,) + v.shape[1:]), c])[np.flatnonzero(first)]
            return c - offs[seg]

        return idx.group_stratum, idx.group_time, seg_cumsum(haz), seg_cumsum(vh), seg_cumsum(hx)

    def _newdata_strata(self, newdata: pd.DataFrame) -> np.ndarray:
        cols = [c.strip() for c in (self.labels.get("strata") or "").split(",") if c.strip()]
        require_columns(newdata, cols, "newdata")
        if len(cols) == 1:
            labels = newdata[cols[0]].astype(str)
        else:
            labels = (
                newdata[cols]
                .astype(str)
                .apply(
                    lambda row: ", ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True)),
                    axis=1,
                )
            )
        lookup = {lab: k for k, lab in enumerate(self.strata_levels)}
        unknown = sorted(set(labels) - set(lookup))
        if unknown:
            raise ValueError(f"newdata has strata not in the fit: {unknown}")
        return labels.map(lookup).to_numpy(dtype=np.int64)

    # ---- proportional-hazards test --------------------------------------------------------
    def proportional_hazards_test(
        self,
        transform: Literal["km", "identity", "rank", "log"] = "km",
        terms: bool = True,
        global_test: bool = True,
    ) -> ProportionalHazardsTest:
        """Score test of proportional hazards from scaled Schoenfeld residuals, exactly as R
        ``survival::cox.zph`` (survival >= 3.0): for each term, the score test of adding
        ``x * g(t)`` at the fitted coefficients, using the full information matrix.

        Parameters
        ----------
        transform
            Time scale ``g(t)``: ``"km"`` (1 - left-continuous Kaplan-Meier of all rows,
            R's default), ``"identity"``, ``"rank"`` or ``"log"``.
        terms
            Test model terms (a factor's indicators jointly) rather than single columns.
        global_test
            Add the global test of all terms.
        """
        return _cox_zph(self, transform, terms, global_test)


@dataclass(frozen=True)
class ProportionalHazardsTest:
    """Result of :meth:`CoxPHResult.proportional_hazards_test` (R ``cox.zph``).

    Attributes
    ----------
    table
        ``term, chisq, df, p_value`` (last row ``GLOBAL`` if requested).
    residuals
        Scaled Schoenfeld residuals of each event (``time``, ``transformed_time``, one column
        per term; ``beta(t)`` estimates for plotting), ordered by stratum and time.
    transform
        The time transform used.
    variance
        R's ``cox.zph(fit)$var``: inverse of the mean information per event, term x term; the
        variance of one scaled residual (used for the band of :meth:`coefficient_curves`).
    fitted
        Per term, the constant ``beta(t)`` under proportional hazards: the fitted coefficient, or
        1 for a term of several columns (its residuals are multiples of the fitted coefficients).
    """

    table: pd.DataFrame
    residuals: pd.DataFrame
    transform: str
    variance: pd.DataFrame | None = None
    fitted: pd.Series | None = None

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()

    def coefficient_curves(self, df: int = 4, n_points: int = 40) -> pd.DataFrame:
        """Smoothed time-varying coefficient ``beta(t)`` of each term with a +-2 SE band, exactly
        as R ``plot.cox.zph(x, df=4, nsmo=40)`` draws it.

        For each term, a natural cubic spline in the transformed time (``df`` basis functions
        with intercept, knots as R's ``ns``) is fitted by least squares to the scaled Schoenfeld
        residuals and evaluated on ``n_points`` equally spaced transformed times spanning the
        event times; the band is ``yhat +- 2 sqrt(var_k * s(t))`` with ``var_k`` this test's
        variance of the term and ``s(t)`` the spline's leverage at ``t``. A flat curve means a
        constant log hazard ratio (proportional hazards). Terms whose spline fit is singular are
        skipped, as in R.

        Parameters
        ----------
        df
            Degrees of freedom (basis functions, with intercept) of the natural spline.
        n_points
            Grid points (R's ``nsmo``).

        Returns
        -------
        ``term, time, transformed_time, estimate, std_error, conf_low, conf_high, fitted``
        (``fitted``: the constant under proportional hazards, see the class): ``time`` in
        the unit of the model's duration (for the ``km`` and ``rank`` transforms interpolated
        linearly between event times, as R's axis labels), ``estimate`` the smoothed log hazard
        ratio (per unit of the covariate; for a factor term, a multiple of its fitted
        coefficients, 1 = as fitted), ``conf_low``/``conf_high`` = estimate -+ 2 ``std_error``.
        """
        if self.variance is None:
            raise ValueError("this test has no variance (constructed without one)")
        res = self.residuals
        xx = res["transformed_time"].to_numpy(dtype=float)
        grid = np.linspace(xx.min(), xx.max(), n_points)
        basis = _natural_spline_basis(np.concatenate([grid, xx]), df)
        pmat, xmat = basis[:n_points], basis[n_points:]
        if self.transform == "log":
            times = np.exp(grid)
        elif self.transform == "identity":
            times = grid
        else:  # R's approx() over the first row of each distinct transformed time
            first = ~pd.Series(xx).duplicated().to_numpy()
            order = np.argsort(xx[first], kind="mergesort")
            times = np.interp(grid, xx[first][order], res["time"].to_numpy(float)[first][order])
        parts = []
        for k, term in enumerate(self.variance.columns):
            y = res[term].to_numpy(dtype=float)
            keep = ~np.isnan(y)
            q, r = np.linalg.qr(xmat[keep])
            if np.linalg.matrix_rank(r) < df:
                warnings.warn(f"spline fit is singular, term {term} skipped", stacklevel=2)
                continue
            yhat = pmat @ np.linalg.solve(r, q.T @ y[keep])
            pr = np.linalg.solve(r.T, pmat.T).T  # P R^-1: rows' squared norms = P (X'X)^-1 P'
            se = np.sqrt(self.variance.iloc[k, k] * np.sum(pr**2, axis=1))
            parts.append(
                pd.DataFrame(
                    {
                        "term": term,
                        "time": times,
                        "transformed_time": grid,
                        "estimate": yhat,
                        "std_error": se,
                        "conf_low": yhat - 2 * se,
                        "conf_high": yhat + 2 * se,
                        "fitted": np.nan if self.fitted is None else self.fitted[term],
                    }
                )
            )
        cols = ["term", "time", "transformed_time", "estimate", "std_error", "conf_low",
                "conf_high", "fitted"]  # fmt: skip
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)

    def summary(self) -> str:
        return (
            f"Proportional-hazards test (cox.zph, transform={self.transform})\n"
            + self.table.set_index("term").to_string(float_format=lambda v: f"{v:.4g}")
        )


def _natural_spline_basis(x: np.ndarray, df: int) -> np.ndarray:
    """A basis of the natural cubic splines of R's ``ns(x, df, intercept=TRUE)``: boundary knots
    ``range(x)``, ``df - 2`` interior knots at R's (type 7) quantiles of ``x``.

    R's ``ns`` uses a QR-projected B-spline basis; we use the truncated-power basis of the same
    space (Hastie, Tibshirani & Friedman, eq. 5.4-5.5) on ``x`` rescaled to [0, 1], which keeps it
    well conditioned for 4-6 knots. Least-squares fits and their leverages depend only on the
    space, so they equal R's (checked in tests/analysis/test_cox_zph_plot_r.py).
    """
    lo, hi = float(np.min(x)), float(np.max(x))
    z = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    n_inner = df - 2
    inner = np.quantile(z, np.linspace(0, 1, n_inner + 2)[1:-1]) if n_inner > 0 else []
    knots = np.concatenate([[0.0], inner, [1.0]])

    def d(k: int) -> np.ndarray:
        return (np.clip(z - knots[k], 0, None) ** 3 - np.clip(z - knots[-1], 0, None) ** 3) / (
            knots[-1] - knots[k]
        )

    cols = [np.ones_like(z), z] + [d(k) - d(len(knots) - 2) for k in range(len(knots) - 2)]
    return np.column_stack(cols[:df])


def _km_left(stop: np.ndarray, start: np.ndarray | None, event: np.ndarray, at: np.ndarray):
    """1 - Kaplan-Meier(t-) of all rows (unweighted, delayed entry), evaluated at ``at``."""
    ut, d = np.unique(stop[event], return_counts=True)
    s_stop = np.sort(stop)
    n_risk = stop.shape[0] - np.searchsorted(s_stop, ut, side="left")
    if start is not None:
        s_start = np.sort(start)
        n_risk -= start.shape[0] - np.searchsorted(s_start, ut, side="left")
    surv = np.cumprod(1 - d / n_risk)
    pos = np.searchsorted(ut, at, side="left")  # event times strictly before `at`
    return 1 - np.concatenate([[1.0], surv])[pos]


def _cox_zph(res: CoxPHResult, transform: str, terms: bool, global_test: bool):
    prob, mom = res._problem, res._moments
    idx = prob.idx
    p = len(res.coef)
    dr, dg = idx.death_rows, idx.death_group
    # transformed time of every row's stop time; R centres by the mean over event rows
    stop_all = _row_stop(res)
    event_rows = np.zeros(idx.n_rows, dtype=bool)
    event_rows[dr] = True
    start_all = _row_start(res)
    if transform == "km":
        ttimes = _km_left(stop_all, start_all, event_rows, stop_all)
    elif transform == "identity":
        ttimes = stop_all
    elif transform == "rank":
        ttimes = stats.rankdata(stop_all)
    elif transform == "log":
        ttimes = np.log(stop_all)
    else:
        raise ValueError(f"transform must be 'km', 'identity', 'rank' or 'log', not {transform!r}")
    gtime = ttimes - ttimes[event_rows].mean()
    g_group = np.zeros(idx.n_groups)
    g_group[dg] = gtime[dr]
    u2 = (prob.wd * g_group[dg]) @ prob.xd - (prob.slot_weight * g_group[dg]) @ mom.xbar
    i0 = prob.information(mom)
    i1 = prob.information(mom, g_group)
    i2 = prob.information(mom, g_group**2)
    imat = np.block([[i0, i1], [i1, i2]])
    u = np.concatenate([np.zeros(p), u2])
    if terms:
        assign = [(label, list(cols)) for label, cols in res.design.assign]
    else:
        assign = [(name, [j]) for j, name in enumerate(res.terms)]
    rows = []
    for label, cols in assign:
        kk = list(range(p)) + [p + j for j in cols]
        stat = float(u[kk] @ np.linalg.solve(imat[np.ix_(kk, kk)], u[kk]))
        rows.append((label, stat, len(cols)))
    if global_test:
        rows.append(("GLOBAL", float(u @ np.linalg.solve(imat, u)), p))
    table = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    table["p_value"] = stats.chi2.sf(table["chisq"], table["df"])

    # scaled Schoenfeld residuals (R's cox.zph()$y), strata handled as in R
    schoen = prob.schoenfeld(mom)
    stratum_of_death = idx.group_stratum[dg]
    n_strata = int(idx.group_stratum.max()) + 1 if idx.n_groups else 1
    x_all = prob.x
    strata_rows = _row_strata(res)
    used = np.zeros((n_strata, p))
    for s in range(n_strata):
        in_s = strata_rows == s
        varies = np.ptp(x_all[in_s], axis=0) > 0 if in_s.any() else np.zeros(p, bool)
        used[s] = np.where(varies, np.sum(stratum_of_death == s), 0)
    for _, cols in assign:
        if len(cols) > 1 and np.any(used[:, cols] == 0):
            used[:, cols] = used[:, cols].max(axis=1, keepdims=True)
    wtmat = sum(np.minimum.outer(used[s], used[s]) for s in range(n_strata))
    vmean = i0 / np.where(wtmat == 0, 1, wtmat)
    names = [label for label, _ in assign]
    if terms and any(len(cols) > 1 for _, cols in assign):
        temp = np.zeros((p, len(assign)))
        for k, (_, cols) in enumerate(assign):
            temp[cols, k] = 1.0 if len(cols) == 1 else res.coef[cols]
        schoen = schoen @ temp
        vmean = temp.T @ vmean @ temp
        used = used[:, [cols[0] for _, cols in assign]]
    sres = np.full_like(schoen, np.nan)
    for s in range(n_strata):
        k = np.flatnonzero(used[s] > 0)
        j = stratum_of_death == s
        if k.size:
            sres[np.ix_(j, k)] = np.linalg.solve(vmean[np.ix_(k, k)], schoen[np.ix_(j, k)].T).T
    for k, (_, cols) in enumerate(assign):
        sres[:, k] += res.coef[cols[0]] if len(cols) == 1 else 1.0
    resid = pd.DataFrame(sres, columns=names)
    resid.insert(0, "transformed_time", ttimes[dr])
    resid.insert(0, "time", idx.group_time[dg])
    if res.strata_levels is not None:
        resid.insert(0, "stratum", np.asarray(res.strata_levels, dtype=object)[stratum_of_death])
    variance = pd.DataFrame(np.linalg.inv(vmean), index=names, columns=names)  # R's zph$var
    fitted = pd.Series(
        [res.coef[cols[0]] if len(cols) == 1 else 1.0 for _, cols in assign], index=names
    )
    return ProportionalHazardsTest(
        table=table, residuals=resid, transform=transform, variance=variance, fitted=fitted
    )


def _row_stop(res: CoxPHResult) -> np.ndarray:
    return res._problem.row_stop


def _row_start(res: CoxPHResult) -> np.ndarray | None:
    return res._problem.row_start


def _row_strata(res: CoxPHResult) -> np.ndarray:
    return res._problem.row_strata


__all__ = ["CoxPH", "CoxPHResult", "ProportionalHazardsTest"]

"""Policy scenarios by parametric g-computation with discrete-time exit models.

Two pooled logistic models on the monthly frame give the monthly probability of a job exit and
of any other exit, given the exposures, baseline covariates and time-varying covariates. For
every person of the frame the months ``1..horizon`` of follow-up are predicted twice - with the
exposures as observed (natural course) and as the scenario changes them - and

    P(job by horizon) = sum_k S(k-1) h_job(k),   S(k) = S(k-1) (1 - h_job(k) - h_other(k)),
    expected months on KH = sum_k S(k-1).

Covariates after a person's last observed month are carried forward (duration, age and
calendar period advance). Holding the confounder paths fixed while changing the exposure
assumes that the exposures do not affect the later confounders (no treatment-confounder
feedback); the synthetic register is built that way, real data need not be. Intervals come
from drawing the coefficients of both models from their (person-clustered) sampling
distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis._base import require_columns
from analysis.effects.weights import design_matrix

__all__ = ["GFormula", "GFormulaResult", "extend_to_horizon"]

Scenario = Callable[[pd.DataFrame], pd.DataFrame]


def extend_to_horizon(
    data: pd.DataFrame,
    horizon: int,
    *,
    id_col: str = "person_id",
    month: str = "month_no",
    advance: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Each person's months ``1..horizon``: observed rows, then the last row carried forward
    (``month`` counted on, each ``advance`` column increased by its value per month)."""
    d = data[data[month] <= horizon].sort_values([id_col, month], kind="stable")
    last = d.groupby(id_col, sort=False).tail(1)
    need = horizon - last[month].to_numpy()
    rep = last.loc[last.index.repeat(need)].copy()
    step = np.arange(len(rep)) - np.repeat(np.cumsum(need) - need, need) + 1
    rep[month] = rep[month].to_numpy() + step
    for col, per_month in (advance or {}).items():
        rep[col] = rep[col].to_numpy(float) + per_month * step
    out = pd.concat([d, rep], ignore_index=True)
    return out.sort_values([id_col, month], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class GFormulaResult:
    """Scenario contrasts: ``scenario, extra_in_job, person_years_saved`` with intervals."""

    table: pd.DataFrame
    horizon: int
    n_persons: int
    job_model: pd.Series = field(repr=False)
    other_model: pd.Series = field(repr=False)

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return (
            f"G-computation over {self.horizon} months for {self.n_persons} persons\n"
            + self.table.to_string(index=False)
        )


@dataclass(frozen=True)
class GFormula:
    """Parametric g-computation of exposure scenarios.

    Parameters
    ----------
    horizon
        Months of follow-up predicted (24 = two years).
    n_draws
        Coefficient draws for the intervals.
    conf_level
        Level of the percentile intervals.
    seed
        Seed of the coefficient draws.
    chunk_rows
        Person-months predicted at once (memory: about ``chunk_rows * n_draws * 40`` bytes).
    """

    horizon: int = 24
    n_draws: int = 200
    conf_level: float = 0.95
    seed: int = 0
    chunk_rows: int = 50_000

    def fit(
        self,
        data: pd.DataFrame,
        *,
        covariates: Sequence[str],
        scenarios: Mapping[str, Scenario],
        job_cause: int = 1,
        event: str = "event",
        id_col: str = "person_id",
        month: str = "month_no",
        advance: Mapping[str, float] | None = None,
        update: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    ) -> GFormulaResult:
        """Fit both exit models and predict every scenario against the natural course.

        ``scenarios`` maps a name to a function returning the frame with the exposures changed.
        ``covariates`` enter both logistic models (with ``log(month)`` added). ``advance``:
        columns increased per carried-forward month; ``update`` recomputes derived columns of
        the extended frame (e.g. log duration from the advanced duration).
        """
        require_columns(data, [event, id_col, month, *covariates], "g-formula data")
        # only the columns the models, the carry-forward and the scenarios use (memory: the
        # extended frame is copied once per scenario)
        keep = list(dict.fromkeys([id_col, month, event, *covariates, *(advance or {})]))
        data = data[keep]
        d = data.copy()
        d["_log_month"] = np.log(d[month].to_numpy(float))
        cols = [*covariates, "_log_month"]
        x = design_matrix(d, cols)
        groups = pd.factorize(d[id_col])[0]
        ev = d[event].to_numpy()
        # statsmodels' discrete Logit: the same estimates as GLM Binomial with a fraction of its
        # memory (GLM keeps several n x k working arrays: +3 GB at a million person-months);
        # only coefficients and their person-clustered covariance are kept
        # an exit that never occurs has monthly probability 0: not fitted (its logit has no finite
        # maximum; statsmodels would iterate to maxiter towards an intercept of minus infinity)
        fits: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        for name, y in (("job", ev == job_cause), ("other", (ev != 0) & (ev != job_cause))):
            if not y.any():
                fits[name] = None
                continue
            res = sm.Logit(y.astype(float), x.to_numpy(float)).fit(
                disp=0, maxiter=100, cov_type="cluster", cov_kwds={"groups": groups}
            )
            fits[name] = (np.asarray(res.params), np.asarray(res.cov_params()))
            del res
        ext = extend_to_horizon(data, self.horizon, id_col=id_col, month=month, advance=advance)
        if update is not None:
            ext = update(ext)
        ext["_log_month"] = np.log(ext[month].to_numpy(float))
        rng = np.random.default_rng(self.seed)
        draws = {
            k: np.vstack([params, rng.multivariate_normal(params, cov, self.n_draws)])
            for k, fit in fits.items()
            if fit is not None
            for params, cov in [fit]
        }
        pid = pd.factorize(ext[id_col])[0]
        n_persons = int(pid.max() + 1) if len(pid) else 0

        # persons in chunks: rows x draws matrices of a whole national cohort would not fit in
        # memory (1 million person-months x 200 draws x 8 bytes = 1.6 GB per matrix)
        first = np.r_[True, pid[1:] != pid[:-1]] if len(pid) else np.zeros(0, bool)
        starts = np.flatnonzero(first)
        per_chunk = max(1, self.chunk_rows // max(1, self.horizon))
        bounds = [*starts[::per_chunk], len(pid)]

        def predict(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
            job = np.zeros(self.n_draws + 1)
            months_on_kh = np.zeros(self.n_draws + 1)
            # the design of the whole frame (dummy levels as in the fit), then rows in chunks
            x_all = _align(design_matrix(frame, cols, drop_constant=False), x.columns)
            x_all = x_all.to_numpy(float)
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                xs = x_all[lo:hi]
                hj, ho = (
                    _expit(xs @ draws[k].T) if k in draws else np.zeros((len(xs), self.n_draws + 1))
                    for k in ("job", "other")
                )  # rows x draws
                # in place (rows x draws temporaries dominate the time): the same operations
                # in the same order as log(max(clip(1 - hj - ho, 0, 1), 1e-300))
                log_s = np.subtract(1.0, hj)
                log_s -= ho
                np.clip(log_s, 0, 1, out=log_s)
                np.maximum(log_s, 1e-300, out=log_s)
                np.log(log_s, out=log_s)
                # survival before each row = exp(cumulative log survival of the person's
                # earlier rows)
                cs = np.cumsum(log_s, axis=0)
                p = pid[lo:hi]
                f = np.r_[True, p[1:] != p[:-1]]
                start_idx = np.maximum.accumulate(np.where(f, np.arange(len(p)), 0))
                before = np.vstack([np.zeros((1, cs.shape[1])), cs])[start_idx]
                s_prev = np.subtract(cs, log_s, out=cs)
                s_prev -= before
                np.exp(s_prev, out=s_prev)
                job += (s_prev * hj).sum(axis=0)
                months_on_kh += s_prev.sum(axis=0)
            return job, months_on_kh

        base_job, base_months = predict(ext)
        alpha = (1 - self.conf_level) / 2
        rows = []
        for name, fn in scenarios.items():
            job, months = predict(fn(ext.copy()))
            extra = job - base_job
            saved = (base_months - months) / 12.0
            rows.append(
                {
                    "scenario": name,
                    "extra_in_job": extra[0],
                    "extra_in_job_low": float(np.quantile(extra[1:], alpha)),
                    "extra_in_job_high": float(np.quantile(extra[1:], 1 - alpha)),
                    "person_years_saved": saved[0],
                    "person_years_saved_low": float(np.quantile(saved[1:], alpha)),
                    "person_years_saved_high": float(np.quantile(saved[1:], 1 - alpha)),
                    "in_job_natural": base_job[0],
                    "person_years_natural": base_months[0] / 12.0,
                }
            )
        return GFormulaResult(
            table=pd.DataFrame(rows),
            horizon=self.horizon,
            n_persons=n_persons,
            job_model=_coefficients(fits["job"], x.columns),
            other_model=_coefficients(fits["other"], x.columns),
        )


def _coefficients(fit: tuple[np.ndarray, np.ndarray] | None, columns: pd.Index) -> pd.Series:
    """The fitted coefficients by design column (NaN for an exit without events: not fitted)."""
    return pd.Series(np.nan if fit is None else fit[0], index=columns, dtype=float)


def _expit(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))``, overwriting ``z`` (a temporary of the caller)."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.divide(1.0, z, out=z)


def _align(x: pd.DataFrame, columns: pd.Index) -> pd.DataFrame:
    """Design columns of the fitted model (dummy levels absent in ``x`` are 0)."""
    return x.reindex(columns=columns, fill_value=0.0)

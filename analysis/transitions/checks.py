"""Model checks: calibration of predicted state occupation and the Markov assumption.

Calibration compares, half-year by half-year, the share of a cohort in each state as observed with
the share predicted by the transition model for the same persons from their entry (paths
microsimulated from each member's covariates at entry, so the prediction uses nothing observed
after entry). Both sides use the same half-year rule (:func:`analysis.transitions.frames.half_year_states`).

The Markov comparison fits nested transition models on the same person-months (state only; state
and seniority/duration; with characteristics; ...) and reports log-likelihood, parameters, AIC,
BIC and the likelihood-ratio test against the previous model in the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.transitions.frames import half_year_states
from analysis.transitions.model import TransitionModelResult

__all__ = ["CALIBRATION_SUPPRESSION", "calibration_table", "compare_models", "paths_frame"]

CALIBRATION_SUPPRESSION = {
    "counts": {"n_persons": ["observed"]},
    "denominator": "n",
    "denominator_keys": ["half_year"],
    "partitions": [["half_year"]],
}


def paths_frame(paths: np.ndarray, states: Sequence[str]) -> pd.DataFrame:
    """Simulated paths ``(n_paths, T)`` of state indices as a long frame
    ``person_id`` (path number), ``month_index`` (1 = start), ``state``."""
    n, t = paths.shape
    st = np.asarray(list(states), dtype=object)
    return pd.DataFrame(
        {
            "person_id": np.repeat(np.arange(n), t),
            "month_index": np.tile(np.arange(1, t + 1), n),
            "state": st[paths.ravel()],
        }
    )


def calibration_table(
    observed: pd.DataFrame,
    predicted: pd.DataFrame,
    states: Sequence[str],
    rule: str = "predominant",
    priority: Sequence[str] | None = None,
    n_half_years: int = 4,
) -> pd.DataFrame:
    """Observed vs predicted share in each state by half-year.

    Parameters
    ----------
    observed
        Monthly states of the cohort (``person_id, month_index, state``).
    predicted
        Simulated monthly states (:func:`paths_frame`), same months.
    states
        All states (every state gets a row).
    rule, priority
        Half-year rule of :func:`analysis.transitions.frames.half_year_states`.

    Returns
    -------
    ``half_year, state, n, n_persons, observed, predicted, difference`` (``n`` persons observed in
    the half-year, ``n_persons`` of them in the state; shares are fractions; difference =
    predicted - observed).
    """
    obs = half_year_states(observed, rule, priority, n_half_years)
    pred = half_year_states(predicted, rule, priority, n_half_years)
    o = pd.crosstab(obs["half_year"], obs["state"]).reindex(columns=list(states), fill_value=0)
    p = pd.crosstab(pred["half_year"], pred["state"], normalize="index").reindex(
        columns=list(states), fill_value=0.0
    )
    rows = []
    for h in o.index:
        n = int(o.loc[h].sum())
        for s in states:
            obs_share = o.loc[h, s] / n if n else np.nan
            pr = float(p.loc[h, s]) if h in p.index else np.nan
            rows.append((int(h), s, n, int(o.loc[h, s]), obs_share, pr))
    out = pd.DataFrame(
        rows, columns=["half_year", "state", "n", "n_persons", "observed", "predicted"]
    )
    out["difference"] = out["predicted"] - out["observed"]
    return out


def compare_models(
    fits: Mapping[str, TransitionModelResult], against: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Fit statistics of nested transition models fitted on the same rows.

    ``model, loglik, n_parameters (= k_params), aic, bic, rows`` and the likelihood-ratio test of
    each model against the model it extends: ``against[name]`` (default: the previous model in
    ``fits``): ``compared_with``, ``lr_statistic``, ``df``, ``p_value``.
    """
    names = list(fits)
    rows = []
    for i, name in enumerate(names):
        f = fits[name]
        base = (against or {}).get(name) if against is not None else (names[i - 1] if i else None)
        row = {
            "model": name,
            "loglik": f.loglik,
            "n_parameters": f.n_parameters,
            "k_params": f.n_parameters,
            "aic": f.aic,
            "bic": f.bic,
            "rows": f.n_obs,
            "compared_with": base or "",
            "lr_statistic": np.nan,
            "df": np.nan,
            "p_value": np.nan,
        }
        if base is not None:
            b = fits[base]
            if b.n_obs != f.n_obs:
                raise ValueError(f"models {base!r} and {name!r} were fitted on different rows")
            stat = 2 * (f.loglik - b.loglik)
            df = f.n_parameters - b.n_parameters
            row.update(
                lr_statistic=stat,
                df=df,
                p_value=float(stats.chi2.sf(stat, df)) if df > 0 else np.nan,
            )
        rows.append(row)
    return pd.DataFrame(rows)

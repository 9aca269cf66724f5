"""Recovery of known transition parameters (the synthetic generator's, or any ``{origin: {dest:
{term: beta}}}`` specification) by a correctly specified monthly transition model.

:func:`fit_specified` fits one multinomial logit per origin with exactly the terms that are
non-zero in the truth (other coefficients fixed at 0, as the generator's), on a design frame that
holds those terms (e.g. :func:`analysis.transitions.register_design.calendar_month_design`), and
:func:`recovery_table` sets the estimates beside the true values with coverage of the Wald
intervals. Terms that do not vary in the rows (e.g. calendar periods outside the fitted years) are
not estimable and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.transitions.model import INTERCEPT, TransitionModel, TransitionModelResult
from analysis.transitions.register_design import calendar_month_design

__all__ = [
    "estimable_terms",
    "fit_specified",
    "recovery_table",
    "register_recovery",
    "summarise_recovery",
]

Truth = Mapping[str, Mapping[str, Mapping[str, float]]]


def estimable_terms(rows: pd.DataFrame, terms: Sequence[str]) -> list[str]:
    """Terms (columns of ``rows``) that vary among the rows; the intercept always counts."""
    out = []
    for t in terms:
        if t == INTERCEPT:
            out.append(t)
        elif t in rows and rows[t].nunique(dropna=True) > 1:
            out.append(t)
    return out


def fit_specified(
    design: pd.DataFrame,
    truth: Truth,
    *,
    states: Sequence[str],
    origin: str = "state",
    destination: str = "next_state",
    cluster: str | None = "person_id",
    conf_level: float = 0.95,
) -> TransitionModelResult:
    """Fit the truth's model (its non-zero terms per origin and destination) to ``design``.

    Rows whose origin has no truth entry, or whose next state is not an allowed destination of
    the truth (or the origin itself), are an error: the data do not come from this model.
    """
    frames = []
    free: dict[str, dict[str, list[str]]] = {}
    covs: dict[str, list[str]] = {}
    for o, dests in truth.items():
        rows = design[design[origin] == o]
        if rows.empty:
            continue
        bad = set(rows[destination].dropna()) - set(dests) - {o}
        if bad:
            raise ValueError(f"moves {o} -> {sorted(bad)} are not in the true model")
        used = sorted(
            {t for d in dests.values() for t, b in d.items() if b != 0 and t != INTERCEPT}
        )
        used = estimable_terms(rows, used)
        covs[o] = used
        free[o] = {
            d: [t for t in (INTERCEPT, *used) if dests[d].get(t, 0.0) != 0 or t == INTERCEPT]
            for d in dests
        }
        frames.append(rows)
    data = pd.concat(frames, ignore_index=True) if frames else design.iloc[:0]
    return TransitionModel(conf_level=conf_level).fit(
        data, origin, destination, covs, cluster=cluster, states=list(states), free=free
    )


def recovery_table(fit: TransitionModelResult, truth: Truth) -> pd.DataFrame:
    """``origin, destination, term, truth, estimate, std_error, conf_low, conf_high, covered,
    z`` (``z`` = (estimate - truth) / std_error) for every estimated coefficient."""
    t = fit.tidy()
    t["truth"] = [
        float(truth.get(o, {}).get(d, {}).get(term, 0.0))
        for o, d, term in zip(t["origin"], t["destination"], t["term"], strict=True)
    ]
    t["covered"] = (t["conf_low"] <= t["truth"]) & (t["truth"] <= t["conf_high"])
    with np.errstate(divide="ignore", invalid="ignore"):
        t["z"] = (t["estimate"] - t["truth"]) / t["std_error"]
    cols = ["origin", "destination", "term", "truth", "estimate", "std_error", "conf_low",
            "conf_high", "covered", "z"]  # fmt: skip
    return t[cols]


def register_recovery(
    tables: Mapping[str, pd.DataFrame],
    monthly_states: pd.DataFrame,
    spells: pd.DataFrame,
    subgroups: pd.DataFrame,
    truth: Truth,
    *,
    states: Sequence[str],
    subgroup_levels: Sequence[str],
    first_month: str = "2013-01",
    last_month: str = "2023-12",
) -> pd.DataFrame:
    """One draw of the recovery study: the generator's design from the register tables
    (:func:`~analysis.transitions.register_design.calendar_month_design`), the correctly
    specified model fitted on the months ``first_month``..``last_month`` (from 2013 the
    ressourceforløb exists, so no structural zeros), and :func:`recovery_table` with ``n_moves``
    (observed moves origin -> destination)."""
    design = calendar_month_design(
        dict(tables), monthly_states, spells, subgroups=subgroups,
        subgroup_levels=list(subgroup_levels), first_month=first_month, last_month=last_month,
    )  # fmt: skip
    design = design[design["duration_months"].notna()]
    fit = fit_specified(design, truth, states=states)
    out = recovery_table(fit, truth)
    moved = design[design["next_state"] != design["state"]]
    moves = moved.groupby(["state", "next_state"]).size()
    out["n_moves"] = [
        int(moves.get((o, d), 0)) for o, d in zip(out["origin"], out["destination"], strict=True)
    ]
    return out


def summarise_recovery(draws: Sequence[pd.DataFrame], min_moves: int = 0) -> pd.DataFrame:
    """Repeated draws of :func:`register_recovery` -> ``parameter`` (``origin->destination:term``),
    ``origin, destination, term, truth, mean_estimate, bias, sd_estimate, mean_std_error,
    coverage, n_reps`` (draws in which it was estimated), ``mean_moves``. Parameters whose mean
    number of moves is below ``min_moves`` are left out (too few events for the normal
    approximation)."""
    d = pd.concat([t.assign(rep=i) for i, t in enumerate(draws)], ignore_index=True)
    g = d.groupby(["origin", "destination", "term"], sort=False)
    out = g.agg(
        truth=("truth", "first"),
        mean_estimate=("estimate", "mean"),
        sd_estimate=("estimate", "std"),
        mean_std_error=("std_error", "mean"),
        coverage=("covered", "mean"),
        n_reps=("rep", "nunique"),
        mean_moves=("n_moves", "mean"),
    ).reset_index()
    out["bias"] = out["mean_estimate"] - out["truth"]
    out.insert(0, "parameter", out["origin"] + "->" + out["destination"] + ":" + out["term"])
    out = out[out["mean_moves"] >= min_moves].reset_index(drop=True)
    cols = ["parameter", "origin", "destination", "term", "truth", "mean_estimate", "bias",
            "sd_estimate", "mean_std_error", "coverage", "n_reps", "mean_moves"]  # fmt: skip
    return out[cols]

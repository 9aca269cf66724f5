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

__all__ = ["estimable_terms", "fit_specified", "recovery_table"]

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
        used = sorted({t for d in dests.values() for t, b in d.items() if b != 0 and t != INTERCEPT})
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

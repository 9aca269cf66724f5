"""Half-year transition model: the state in half-year k given the state in half-year k-1.

Data: the derived half-year sequences (``data_schema.derived.Sequences``; the state of a half-year
is its predominant state, the hovedveje definition), with the state at cohort entry (KH) as
half-year 0, and baseline characteristics of the cohort members. The model is one multinomial logit
per origin state with staying as reference and covariates fixed at entry: characteristics, age at
entry, seniority group at entry, and indicators of the step (``step_2`` ... against step 1: the
first half-year differs because everybody starts on KH at entry, and later steps may differ
too). Given the covariates the model is a (step-inhomogeneous) Markov chain over half-years, so
predicted occupation is an exact product of the per-person transition matrices
(:func:`predict_half_year_occupation`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.transitions.frames import add_person_columns, half_year_transitions
from analysis.transitions.model import TransitionModelResult

__all__ = ["half_year_frame", "predict_half_year_occupation", "seniority_terms", "step_terms"]


def seniority_terms(levels: Sequence[str]) -> tuple[str, ...]:
    """``sen_<level>`` indicator names for seniority groups (first level = reference)."""
    return tuple(f"sen_{lev}" for lev in list(levels)[1:])


def step_terms(n_half_years: int) -> tuple[str, ...]:
    """``step_2`` .. ``step_<n>`` (step 1 = reference)."""
    return tuple(f"step_{k}" for k in range(2, n_half_years + 1))


def _add_terms(
    df: pd.DataFrame, seniority_levels: Sequence[str], n_half_years: int
) -> pd.DataFrame:
    out = add_person_columns(df)
    if "age_entry" in out:
        a10 = (out["age_entry"].to_numpy(dtype=float) - 40.0) / 10.0
        out["age10"], out["age10_sq"] = a10, a10**2
        out["age_ge55"] = (out["age_entry"].to_numpy(dtype=float) >= 55).astype(float)
    if "seniority_group" in out:
        g = out["seniority_group"].astype(str)
        for lev in list(seniority_levels)[1:]:
            out[f"sen_{lev}"] = (g == lev).astype(float)
    if "step" in out:
        for k in range(2, n_half_years + 1):
            out[f"step_{k}"] = (out["step"].to_numpy() == k).astype(float)
    return out


def half_year_frame(
    sequences: pd.DataFrame,
    cohort: pd.DataFrame,
    seniority_levels: Sequence[str],
    n_half_years: int = 4,
    entry_state: str = "kh",
    max_age: int | None = 64,
) -> pd.DataFrame:
    """Half-year transitions of one cohort with covariate terms.

    Parameters
    ----------
    sequences
        ``person_id, half_year, state`` of one cohort.
    cohort
        One row per member: ``person_id``, characteristics, ``age`` (at entry) and
        ``seniority_group`` (at entry), ``birth_year``.
    seniority_levels
        Seniority-group codes in order (first = reference).
    n_half_years
        Half-years used.
    entry_state
        State at entry (half-year 0).
    max_age
        Members older than this at the end of the last half-year are left out.
    """
    base = cohort.drop_duplicates("person_id").rename(columns={"age": "age_entry"})
    if max_age is not None and "age_entry" in base:
        base = base[base["age_entry"] + (n_half_years + 1) // 2 <= max_age]
    seq = sequences[sequences["half_year"] <= n_half_years]
    seq = seq[seq["person_id"].isin(base["person_id"].unique())]
    keep = [c for c in base.columns if c not in ("cohort", "half_year", "state")]
    tr = half_year_transitions(seq, entry_state=entry_state, baseline=base[keep])
    return _add_terms(tr, seniority_levels, n_half_years)


def predict_half_year_occupation(
    model: TransitionModelResult,
    members: pd.DataFrame,
    seniority_levels: Sequence[str],
    n_half_years: int = 4,
    entry_state: str = "kh",
) -> pd.DataFrame:
    """Predicted share in each state by half-year, averaged over ``members`` (one row each, the
    baseline columns of :func:`half_year_frame`), from ``entry_state`` at entry.

    Returns ``half_year, state, predicted``.
    """
    states = list(model.states)
    s_idx = {s: i for i, s in enumerate(states)}
    base = members.drop_duplicates("person_id").reset_index(drop=True)
    if "age" in base and "age_entry" not in base:
        base = base.rename(columns={"age": "age_entry"})
    n = len(base)
    prob = np.zeros((n, len(states)))
    prob[:, s_idx[entry_state]] = 1.0
    rows = []
    for k in range(1, n_half_years + 1):
        new = np.zeros_like(prob)
        for s in states:
            mass = prob[:, s_idx[s]]
            if not mass.any():
                continue
            f = base.assign(step=k)
            f = _add_terms(f, seniority_levels, n_half_years)
            f[model.origin] = s
            p = model.transition_probabilities(f)
            new += mass[:, None] * p
        prob = new
        share = prob.mean(axis=0)
        rows += [(k, st, float(share[i])) for i, st in enumerate(states)]
    return pd.DataFrame(rows, columns=["half_year", "state", "predicted"])

"""The design matrix and linear predictors of the generator's monthly transition model.

This module is the contract for anyone who wants to fit the generator's own model (issue 7:
parameter recovery; issue 8: effects). Every covariate is computable from the register tables
(plus the true subgroup from ``ground_truth/true_subgroups.parquet``); the exact definitions are
in :data:`COVARIATE_DEFINITIONS` and in ``pipelines/synthetic/README.md``.

Model, for a person in non-absorbing state ``s`` in calendar month ``m`` (the generator's clock is
monthly; state changes happen on the first day of a month)::

    P(state in m+1 = k | state in m = s, x) = exp(eta_sk) / (1 + sum_j exp(eta_sj)),
    eta_sk = sum_c beta[s][k][c] * x[c],          staying in s is the reference outcome,

with ``j`` running over the destinations allowed from ``s`` (:data:`DESTINATIONS`). Structural
zeros: ``rf`` (ressourceforløb) did not exist before 2013, so every transition into ``rf`` has
probability 0 in months before 2013-01.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from data_schema import codes

STATES: tuple[str, ...] = tuple(codes.STATES)
"""The states (data_schema.codes.STATES); the order is the simulation's state index."""
STATE_INDEX: dict[str, int] = {s: i for i, s in enumerate(STATES)}
ABSORBING: frozenset[str] = frozenset({"fp", "dead_or_emigrated"})

# Destinations allowed from each non-absorbing state (staying is the reference outcome).
DESTINATIONS: dict[str, tuple[str, ...]] = {
    "kh": ("job", "fp", "rf", "fj", "edu", "self_support", "other_benefit", "dead_or_emigrated"),
    "job": ("kh", "fp", "edu", "self_support", "other_benefit", "dead_or_emigrated"),
    "rf": ("kh", "job", "fp", "fj", "self_support", "dead_or_emigrated"),
    "fj": ("kh", "job", "fp", "self_support", "other_benefit", "dead_or_emigrated"),
    "edu": ("kh", "job", "self_support", "other_benefit", "dead_or_emigrated"),
    "self_support": ("kh", "job", "fp", "edu", "other_benefit", "dead_or_emigrated"),
    "other_benefit": ("kh", "job", "fp", "rf", "fj", "self_support", "dead_or_emigrated"),
}
ORIGINS: tuple[str, ...] = tuple(DESTINATIONS)

SUBGROUPS: tuple[str, ...] = (
    "close_to_labour",
    "young_psychiatric",
    "nonwestern_women_family",
    "danish_men_substance",
    "diffuse_challenges",
)
"""True latent subgroups; ``close_to_labour`` is the reference category of the ``sg_*`` terms."""

EDUCATION: tuple[str, ...] = ("basic", "upper_secondary", "vocational", "higher", "unknown")
ORIGIN: tuple[str, ...] = ("danish", "western", "non_western")

# Calendar periods (by the calendar year of month m); 2016-2019 is the reference.
PERIODS: tuple[tuple[str, int, int], ...] = (
    ("p_1978_1993", 1978, 1993),
    ("p_1994_2003", 1994, 2003),
    ("p_2004_2008", 2004, 2008),
    ("p_2009_2012", 2009, 2012),
    ("p_2013_2015", 2013, 2015),
    ("p_2020_2023", 2020, 2023),
)
RF_FIRST_YEAR = 2013

CAP_CW_CHANGES = 4
CAP_CONVERSATIONS = 3

COVARIATE_DEFINITIONS: dict[str, str] = {
    "intercept": "1",
    "log_dur": "log(1 + d), d = whole months since the current state spell began (month m minus "
    "the first month of the spell; 0 in the first month). In kh, d is the seniority in the true "
    "uninterrupted KH spell (the jobindsats spell rule recovers it).",
    "dur_lt6": "1 if d < 6",
    "age10": "(a - 40) / 10 with a = calendar year of m minus birth_year",
    "age10_sq": "age10 ** 2",
    "age_ge55": "1 if a >= 55",
    "female": "sex == 'F'",
    "western": "origin == 'western'",
    "non_western": "origin == 'non_western'",
    "menapt": "menapt (only possible when non_western)",
    "edu_upper_secondary": "education == 'upper_secondary' (reference: basic)",
    "edu_vocational": "education == 'vocational'",
    "edu_higher": "education == 'higher'",
    "edu_unknown": "education == 'unknown'",
    "psych": "psychiatric_diagnosis",
    "substance": "substance_abuse_treatment",
    "children_placed": "children_placed (False when no children)",
    "sg_young_psychiatric": "true subgroup == young_psychiatric (reference: close_to_labour)",
    "sg_nonwestern_women_family": "true subgroup == nonwestern_women_family",
    "sg_danish_men_substance": "true subgroup == danish_men_substance",
    "sg_diffuse_challenges": "true subgroup == diffuse_challenges",
    "poor_health": "kh only: an exemptions row with reason 'illness' covers month m (every "
    "poor-health KH month is covered, and only those); 0 outside kh",
    "cw_changes_12m": f"kh only: min({CAP_CW_CHANGES}, number of case-worker changes dated in "
    "calendar months m-11..m); a change is a caseworker_assignments row that is not the first "
    "assignment of a KH spell (its start_date is not the spell's first day); 0 outside kh",
    "conv_3m": f"kh only: min({CAP_CONVERSATIONS}, number of conversations of type 'job' dated in "
    "calendar months m-2..m); 0 outside kh",
    "in_activation": "kh only: an activation_offers row covers at least one day of month m",
    "paid_hours": "kh only: monthly_paid_hours has paid_hours > 0 for month m (løntimer, always "
    "< the job threshold while on kh)",
    "muni_copenhagen": "kh only: the KH case open at the end of month m is in municipality 101",
    "muni_slagelse": "kh only: the KH case open at the end of month m is in municipality 330",
    **{
        name: f"1 if the calendar year of m is in {lo}-{hi} (reference 2016-2019)"
        for name, lo, hi in PERIODS
    },
}
COVARIATES: tuple[str, ...] = tuple(COVARIATE_DEFINITIONS)
COVARIATE_INDEX: dict[str, int] = {c: i for i, c in enumerate(COVARIATES)}
KH_ONLY: frozenset[str] = frozenset(
    {
        "poor_health",
        "cw_changes_12m",
        "conv_3m",
        "in_activation",
        "paid_hours",
        "muni_copenhagen",
        "muni_slagelse",
    }
)

STATIC_COVARIATES: tuple[str, ...] = (
    "intercept",
    "female",
    "western",
    "non_western",
    "menapt",
    "edu_upper_secondary",
    "edu_vocational",
    "edu_higher",
    "edu_unknown",
    "psych",
    "substance",
    "children_placed",
    "sg_young_psychiatric",
    "sg_nonwestern_women_family",
    "sg_danish_men_substance",
    "sg_diffuse_challenges",
)
"""Covariates that never change for a person (the generator precomputes their contribution)."""
DYNAMIC_COVARIATES: tuple[str, ...] = tuple(c for c in COVARIATES if c not in STATIC_COVARIATES)


def period_columns(year: np.ndarray) -> dict[str, np.ndarray]:
    """Period indicator columns for calendar years ``year``."""
    year = np.asarray(year)
    return {name: ((year >= lo) & (year <= hi)).astype(np.float64) for name, lo, hi in PERIODS}


def static_columns(persons: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Static covariate columns from person characteristics.

    ``persons`` needs ``sex`` ('M'/'F'), ``origin``, ``menapt``, ``education``,
    ``psychiatric_diagnosis``, ``substance_abuse_treatment``, ``children_placed`` (missing/None
    counts as False) and ``subgroup`` (names as in :data:`SUBGROUPS`), each an array of equal
    length.
    """
    sex = np.asarray(persons["sex"]).astype(str)
    origin = np.asarray(persons["origin"]).astype(str)
    edu = np.asarray(persons["education"]).astype(str)
    sg = np.asarray(persons["subgroup"]).astype(str)
    n = len(sex)
    f = np.float64
    out = {
        "intercept": np.ones(n),
        "female": (sex == "F").astype(f),
        "western": (origin == "western").astype(f),
        "non_western": (origin == "non_western").astype(f),
        "menapt": np.asarray(persons["menapt"]).astype(f),
        "psych": np.asarray(persons["psychiatric_diagnosis"]).astype(f),
        "substance": np.asarray(persons["substance_abuse_treatment"]).astype(f),
        "children_placed": _bool_or_false(persons.get("children_placed"), n),
    }
    for e in EDUCATION[1:]:
        out[f"edu_{e}"] = (edu == e).astype(f)
    for g in SUBGROUPS[1:]:
        out[f"sg_{g}"] = (sg == g).astype(f)
    return out


def _bool_or_false(x: object, n: int) -> np.ndarray:
    """Booleans as 0/1 floats; missing (None/NA, e.g. children_placed without children) is 0."""
    if x is None:
        return np.zeros(n)
    import pandas as pd

    return pd.Series(x).astype("boolean").fillna(False).to_numpy(dtype=np.float64)


def dynamic_columns(
    *,
    state: str,
    dur_months: np.ndarray,
    age: np.ndarray,
    year: np.ndarray,
    poor_health: np.ndarray | None = None,
    cw_changes_12m: np.ndarray | None = None,
    conv_3m: np.ndarray | None = None,
    in_activation: np.ndarray | None = None,
    paid_hours: np.ndarray | None = None,
    municipality_id: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Time-varying covariate columns for persons in origin ``state`` in one or more months.

    Parameters
    ----------
    state
        Origin state; the kh-only exposures are set to 0 for other states.
    dur_months
        Whole months since the current state spell began (0 in its first month).
    age
        Calendar year minus birth year, years.
    year
        Calendar year of the month.
    poor_health, cw_changes_12m, conv_3m, in_activation, paid_hours
        The kh exposures (raw counts are capped here); ignored unless ``state == 'kh'``.
    municipality_id
        Municipality code of the KH case at the end of the month (kh only).
    """
    dur = np.asarray(dur_months, dtype=np.float64)
    age = np.asarray(age, dtype=np.float64)
    n = len(dur)
    a10 = (age - 40.0) / 10.0
    out = {
        "log_dur": np.log1p(dur),
        "dur_lt6": (dur < 6).astype(np.float64),
        "age10": a10,
        "age10_sq": a10**2,
        "age_ge55": (age >= 55).astype(np.float64),
    }
    zero = np.zeros(n)
    if state == "kh":
        out["poor_health"] = _arr(poor_health, n)
        out["cw_changes_12m"] = np.minimum(_arr(cw_changes_12m, n), CAP_CW_CHANGES)
        out["conv_3m"] = np.minimum(_arr(conv_3m, n), CAP_CONVERSATIONS)
        out["in_activation"] = _arr(in_activation, n)
        out["paid_hours"] = _arr(paid_hours, n)
        mu = _arr(municipality_id, n)
        out["muni_copenhagen"] = (mu == 101).astype(np.float64)
        out["muni_slagelse"] = (mu == 330).astype(np.float64)
    else:
        for c in KH_ONLY:
            out[c] = zero
    year = np.broadcast_to(np.asarray(year), (n,))
    out.update(period_columns(year))
    return out


def _arr(x: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n) if x is None else np.asarray(x, dtype=np.float64)


def design_matrix(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Stack covariate columns into an ``(n, len(COVARIATES))`` matrix in :data:`COVARIATES` order."""
    missing = [c for c in COVARIATES if c not in columns]
    if missing:
        raise KeyError(f"design_matrix: missing covariate columns {missing}")
    return np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in COVARIATES])


def coefficient_matrix(coef: Mapping[str, Mapping[str, float]], origin: str) -> np.ndarray:
    """``(len(COVARIATES), n_destinations)`` matrix of beta for ``origin`` (missing terms are 0).

    ``coef`` maps destination -> {covariate: value}, as in ``parameters.json``
    (``transitions[origin]``).
    """
    dests = DESTINATIONS[origin]
    b = np.zeros((len(COVARIATES), len(dests)))
    for j, d in enumerate(dests):
        for c, v in coef.get(d, {}).items():
            b[COVARIATE_INDEX[c], j] = v
    return b


def linear_predictors(
    x: np.ndarray,
    coef: Mapping[str, Mapping[str, float]],
    origin: str,
    year: np.ndarray | None = None,
) -> np.ndarray:
    """eta, ``(n, n_destinations)`` in :data:`DESTINATIONS` ``[origin]`` order.

    Transitions into ``rf`` before 2013 get ``-inf`` (structural zero) when ``year`` is given.
    """
    eta = np.asarray(x, dtype=np.float64) @ coefficient_matrix(coef, origin)
    if year is not None and "rf" in DESTINATIONS[origin]:
        j = DESTINATIONS[origin].index("rf")
        eta[np.broadcast_to(np.asarray(year), (len(eta),)) < RF_FIRST_YEAR, j] = -np.inf
    return eta


def transition_probabilities(eta: np.ndarray) -> np.ndarray:
    """Multinomial-logit probabilities ``(n, n_destinations + 1)``; the last column is staying."""
    m = np.maximum(eta.max(axis=1, keepdims=True), 0.0)
    e = np.exp(eta - m)
    stay = np.exp(-m)
    denom = stay + e.sum(axis=1, keepdims=True)
    return np.concatenate([e / denom, stay / denom], axis=1)

"""The results files the documents read: where they are and which columns they must have.

This is the contract between the pipeline stages (which write ``results/<area>/*.csv``) and the
documents. A document asks for a table by key (``ctx.read("stock")``); a file that is absent or
lacks a required column is "not available in this run" and the document says so instead of
failing. Adding a results file to the documents = one entry here + a few lines in a ``.qmd``.

Conventions of the results tables: shares are fractions (0.342, not 34.2); ``n_persons`` (or
another ``n_*`` column) is the number of persons in the cell and ``n`` its denominator (``star
audit`` checks every ``n``/``n_*`` column); suppressed cells are empty; time is in
months unless a column says otherwise; codes (states, exits, estimators) are the machine names
of :mod:`pipelines.report.labels`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class ResultSpec:
    """One results table.

    Parameters
    ----------
    path
        Path relative to the results directory.
    columns
        Columns the documents need (others are allowed and ignored).
    area
        Producing area (issue), for the "not available" note.
    suppress
        Keyword arguments of :func:`analysis.disclosure.suppress` describing the table's cells
        (``counts``, ``denominator``, ``denominator_keys``, ``partitions``, ``lines``, ``stats``);
        ``None`` for tables without person counts; or a function of the table returning them
        (wide tables whose count columns vary). ``denominator_keys=("__all__",)`` means one
        denominator shared by every row.
    curve
        Keyword arguments of :func:`analysis.disclosure.guard_curve` (``by``, ``n_event``) for
        survival / cumulative-incidence / state-occupation curves; ``None`` otherwise.
    """

    path: str
    columns: tuple[str, ...]
    area: str
    suppress: dict[str, Any] | Callable[[pd.DataFrame], dict[str, Any]] | None = None
    curve: dict[str, Any] | None = None


def _wide_counts(df: pd.DataFrame) -> dict[str, Any]:
    """Suppression of the wide efforts/continuity tables: every ``n_<flag>`` count with its
    ``share_<flag>``, the denominator ``n`` and the pooled statistics over it."""
    counts = {
        c: [f"share_{c[2:]}"] if f"share_{c[2:]}" in df.columns else []
        for c in df.columns
        if c.startswith("n_") and c != "n"
    }
    stats = [
        c
        for c in df.columns
        if c not in counts
        and c not in ("n", "population", "group_type", "group", "suppressed")
        and pd.api.types.is_numeric_dtype(df[c])
        and not any(c in deps for deps in counts.values())
    ]
    lines = (
        [["population", "group_type"]] if {"population", "group_type"} <= set(df.columns) else []
    )
    return {"counts": counts, "denominator": "n", "stats": stats, "denominator_lines": lines}


CATALOG: dict[str, ResultSpec] = {
    # --- STAR 2022 reproduction (issue 5, pipelines/reproduction.py, already suppressed there)
    "star2022": ResultSpec(
        "reproduction/star2022.csv",
        ("id", "statistic", "published", "reproduced", "tolerance", "within", "n"),
        "reproduction",
    ),
    "characteristics": ResultSpec(
        "reproduction/characteristics.csv",
        ("seniority_group", "characteristic", "level", "base", "n", "n_persons", "share"),
        "reproduction",
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["seniority_group", "base"],
        },
    ),
    "efforts": ResultSpec(
        "reproduction/efforts.csv",
        ("population", "group_type", "group", "n"),
        "reproduction",
        suppress=_wide_counts,
    ),
    "continuity": ResultSpec(
        "reproduction/continuity.csv",
        ("population", "group_type", "group", "n"),
        "reproduction",
        suppress=_wide_counts,
    ),
    "hovedveje": ResultSpec(
        "reproduction/hovedveje.csv",
        ("group_type", "group", "measure", "state", "n", "n_persons", "share"),
        "reproduction",
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["group_type", "group"],
        },
    ),
    "sequences": ResultSpec(
        "reproduction/hovedveje_sequences.csv",
        ("group_type", "group", "rank", "sequence", "n", "n_persons", "share"),
        "reproduction",
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["group_type", "group"],
        },
    ),
    "municipal": ResultSpec(
        "reproduction/municipal.csv",
        ("statistic", "municipality", "n", "n_persons", "share"),
        "reproduction",
        suppress={"counts": {"n_persons": ["share"]}, "denominator": "n", "stats": ["value"]},
    ),
    "caseloads": ResultSpec(
        "reproduction/caseloads.csv",
        ("statistic", "value"),
        "reproduction",
    ),
    "national_counts": ResultSpec(
        "reproduction/national_counts.csv",
        ("date", "n"),
        "reproduction",
    ),
    "stock_by_year": ResultSpec(
        "reproduction/stock_by_year.csv",
        ("year", "seniority_group", "n", "n_persons", "share"),
        "reproduction (annual runs)",
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["year"],
            "partitions": [["year"]],
        },
    ),
    "state_distribution": ResultSpec(
        "transitions/state_distribution.csv",
        ("cohort", "group", "half_year", "state", "n", "n_persons", "share"),
        "transitions",
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["cohort", "group", "half_year"],
            "partitions": [["cohort", "group", "half_year"]],
        },
    ),
    # --- survival and competing risks (issue 6 estimators, wired by the pipeline)
    "cif": ResultSpec(
        "survival/cif.csv",
        ("cohort", "cause", "time", "estimate", "conf_low", "conf_high", "n_risk", "n_event"),
        "survival",
        curve={"by": ["cohort", "cause"], "n_event": "n_event"},
    ),
    "ph_tests": ResultSpec(
        "survival/ph_tests.csv",
        ("model", "cause", "term", "statistic", "df", "p_value"),
        "survival",
    ),
    "cause_specific_cox": ResultSpec(
        "survival/cause_specific_cox.csv",
        ("cause", "term", "estimate", "conf_low", "conf_high", "p_value"),
        "survival",
    ),
    # --- transitions (issue 7)
    "state_occupation": ResultSpec(
        "transitions/state_occupation.csv",
        ("group", "time", "state", "estimate", "conf_low", "conf_high", "n_risk"),
        "transitions",
        curve={"by": ["group", "state"], "n_event": None},
    ),
    "pathways": ResultSpec(
        "transitions/predicted_pathways.csv",
        ("profile", "half_year", "state", "probability"),
        "transitions",
    ),
    "calibration": ResultSpec(
        "transitions/calibration.csv",
        ("half_year", "state", "observed", "predicted"),
        "transitions",
    ),
    "markov_check": ResultSpec(
        "transitions/markov_comparison.csv",
        ("model", "loglik", "n_parameters", "aic", "bic"),
        "transitions",
    ),
    "transitions_simulation": ResultSpec(
        "transitions/simulation.csv",
        ("parameter", "truth", "mean_estimate", "coverage", "n_reps"),
        "transitions",
    ),
    # --- effects of case-worker changes and conversations (issue 8)
    "effects": ResultSpec(
        "effects/estimates.csv",
        ("exposure", "outcome", "estimator", "estimate", "conf_low", "conf_high", "truth"),
        "effects",
    ),
    "job_probability": ResultSpec(
        "effects/job_probability_12m.csv",
        ("exposure", "estimator", "relative_change", "conf_low", "conf_high"),
        "effects",
    ),
    "scenarios": ResultSpec(
        "effects/scenarios.csv",
        (
            "scenario",
            "extra_in_job",
            "extra_in_job_low",
            "extra_in_job_high",
            "person_years_saved",
            "person_years_saved_low",
            "person_years_saved_high",
            "saving_dkk",
            "saving_dkk_low",
            "saving_dkk_high",
        ),
        "effects",
    ),
    "weights": ResultSpec(
        "effects/weights.csv",
        ("exposure", "weight", "p01", "p25", "p50", "p75", "p99", "mean", "truncated_share"),
        "effects",
    ),
    "effects_by_group": ResultSpec(
        "effects/estimates_by_group.csv",
        (
            "grouping",
            "group",
            "exposure",
            "estimator",
            "estimate",
            "conf_low",
            "conf_high",
            "n_events",
        ),
        "effects",
    ),
    "evalues": ResultSpec(
        "effects/evalues.csv",
        ("exposure", "outcome", "estimator", "evalue_point", "evalue_ci"),
        "effects",
    ),
    "effects_simulation": ResultSpec(
        "effects/simulation.csv",
        ("exposure", "estimator", "truth", "mean_estimate", "bias", "coverage", "n_reps"),
        "effects",
    ),
    # --- municipal benchmarking adjusted for composition (issue 21, pipelines/benchmarking.py;
    # merged/suppressed there: every unit has n and n_observed >= the threshold or is empty)
    "benchmark_municipal": ResultSpec(
        "benchmarking/municipal.csv",
        (
            "cause",
            "unit",
            "merged",
            "n",
            "n_observed",
            "expected",
            "ratio",
            "conf_low",
            "conf_high",
            "shrunken",
            "shrunken_low",
            "shrunken_high",
            "funnel",
        ),
        "benchmarking",
    ),
    "benchmark_funnel": ResultSpec(
        "benchmarking/funnel.csv",
        ("cause", "expected", "level", "lower", "upper"),
        "benchmarking",
    ),
    "benchmark_recovery": ResultSpec(
        "benchmarking/recovery.csv",
        ("cause", "estimator", "municipalities", "correlation", "coverage", "true_sd_log"),
        "benchmarking (synthetic registers only)",
    ),
    # --- subgroups (issue 9)
    "subgroup_sizes": ResultSpec(
        "subgroups/sizes.csv",
        ("group", "label", "n_persons", "n", "share"),
        "subgroups",
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["__all__"],
            "partitions": [["__all__"]],
        },
    ),
    "subgroup_profiles": ResultSpec(
        "subgroups/profiles.csv",
        ("group", "indicator", "prevalence"),
        "subgroups",
    ),
    "subgroup_selection": ResultSpec(
        "subgroups/selection.csv",
        ("k", "bic", "aic", "entropy"),
        "subgroups",
    ),
    "subgroup_recovery": ResultSpec(
        "subgroups/recovery.csv",
        ("method", "ari"),
        "subgroups",
    ),
    # state at the horizons by class: modal vs BCH/ML-corrected vs truth (issue 23); counts only
    # on the modal and truth rows (the BCH/ML rows have none and pass through)
    "subgroup_pathways_corrected": ResultSpec(
        "subgroups/pathways_corrected.csv",
        ("horizon_years", "group", "label", "exit", "method", "estimate"),
        "subgroups",
        suppress={
            "counts": {"n_persons": ["estimate"]},
            "denominator": "n",
            "denominator_keys": ["horizon_years", "method", "group"],
            "partitions": [["horizon_years", "method", "group"]],
        },
    ),
}

"""The results registry: every results table of ``star run``, declared once.

One :class:`TableSpec` per table gives its name, file (relative to the results directory), the
stage (area) that writes it, a description, its columns with their kinds, the columns the
documents read, and its disclosure rule. The registry is used by

- the stages, which write every table through :func:`write_table` (columns and kinds checked,
  the declared disclosure rule asserted, then :func:`analysis.disclosure.assert_publishable`);
- the documents (``ctx.read(name)`` / ``ctx.get(name)`` in :mod:`pipelines.report.context`, via
  :data:`pipelines.report.catalog.CATALOG`, which is this registry), which re-apply the rule;
- ``star audit``, which reports results files that are not declared or whose columns differ;
- the tests (every CSV of a tiny run is declared and every declared table is written).

It sits in the pipeline layer, below the report layer, so stages import it without importing
the report layer.

Column kinds (:data:`KINDS`): ``count`` (persons; integer-valued, empty when suppressed),
``number``, ``text`` (codes, labels, keys: any value, written as text), ``bool``, ``date``.

Conventions of the results tables: shares are fractions (0.342, not 34.2); ``n_persons`` (or
another ``n_*`` column) is the number of persons in the cell and ``n`` its denominator (``star
audit`` checks every ``n``/``n_*`` column); suppressed cells are empty; time is in months unless
a column says otherwise; codes (states, exits, estimators) are the machine names of
:mod:`pipelines.report.labels`.

Adding a table: one ``_table(...)`` entry in :data:`TABLES` (name, path, description, columns,
``reads=`` for the documents, ``suppress=``/``curve=`` for its disclosure rule), then write it
in its stage with ``write_table(name, df, results_dir, threshold=..., known_ids=...)``. An entry
in the older catalog format, ``"key": ResultSpec(path, columns, area, suppress=..., curve=...)``,
is still accepted (:func:`ResultSpec` builds a :class:`TableSpec` whose columns are of kind
``any``); port it by moving it into :data:`TABLES` as ``_table(key, path, description,
"col:kind ...", reads=columns, suppress=..., curve=...)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.disclosure import assert_publishable
from analysis.transitions.sequences import FLOW_SUPPRESSION
from pipelines.protect import protect_curve, protect_table

__all__ = [
    "KINDS",
    "REGISTRY",
    "ResultSpec",
    "SchemaError",
    "TableSpec",
    "check_frame",
    "area_of_dir",
    "spec_for_path",
    "staging_dir",
    "write_table",
]

KINDS = ("count", "number", "text", "bool", "date", "any")
"""Column kinds of the results tables (see the module docstring)."""

Rule = dict[str, Any] | Callable[[pd.DataFrame], dict[str, Any]]


class SchemaError(ValueError):
    """A results table does not match its declaration; the message names table, column, rule."""


@dataclass(frozen=True)
class TableSpec:
    """One results table.

    Attributes
    ----------
    name
        Registry key (``ctx.read(name)`` in the documents).
    path
        Path relative to the results directory (``<area>/<file>.csv``).
    description
        What one row is and what the table holds (plain words).
    schema
        Column name -> kind (:data:`KINDS`), in the order the stage writes them.
    area
        Producing stage, for the documents' "not available" note.
    reads
        Columns the documents need (a file lacking one is "not available"); default: none.
    suppress
        Keyword arguments of :func:`analysis.disclosure.suppress` for the table's cells
        (``counts``, ``denominator``, ``denominator_keys``, ``partitions``, ``lines``, ``stats``),
        or a function of the table returning them (wide tables); ``denominator_keys=("__all__",)``
        means one denominator shared by every row. ``None``: no person counts to protect.
    curve
        Keyword arguments of :func:`analysis.disclosure.guard_curve` (``by``, ``n_event``) for
        curves; ``None`` otherwise.
    extra
        Regular expression of further column names the table may have (wide tables whose
        ``n_<flag>``/``share_<flag>`` columns follow the configuration); ``None``: none.
    """

    name: str
    path: str
    description: str
    schema: Mapping[str, str]
    area: str
    reads: tuple[str, ...] = ()
    suppress: Rule | None = None
    curve: dict[str, Any] | None = None
    extra: str | None = None
    _extra_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        bad = {c: k for c, k in self.schema.items() if k not in KINDS}
        if bad:
            raise ValueError(f"{self.name}: unknown column kind(s) {bad}; use one of {KINDS}")
        lacking = [c for c in self.reads if c not in self.schema]
        if lacking and "any" not in self.schema.values():
            raise ValueError(f"{self.name}: reads undeclared column(s) {lacking}")
        if self.extra is not None:
            object.__setattr__(self, "_extra_re", re.compile(self.extra))

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the documents need (the older catalog's ``columns``)."""
        return self.reads

    def declares(self, column: str) -> bool:
        return column in self.schema or bool(self._extra_re and self._extra_re.match(column))

    def kind(self, column: str) -> str:
        if column in self.schema:
            return self.schema[column]
        return "count" if column == "n" or column.startswith("n_") else "number"

    def rule(self, df: pd.DataFrame) -> dict[str, Any] | None:
        """The suppression arguments for ``df`` (``None`` when the table has no suppression)."""
        if self.suppress is None:
            return None
        return self.suppress(df) if callable(self.suppress) else dict(self.suppress)

    def protect(self, df: pd.DataFrame, threshold: int):
        """The declared disclosure rule applied to ``df`` (:class:`pipelines.protect.Protected`)."""
        from pipelines.protect import Protected

        if self.curve is not None:
            return protect_curve(df, threshold=threshold, **self.curve)
        rule = self.rule(df)
        if rule is not None:
            return protect_table(df, threshold=threshold, **rule)
        return Protected(df.copy())


def _parse_columns(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for token in text.split():
        name, _, kind = token.partition(":")
        out[name] = kind or "any"
    return out


def _table(
    name: str, path: str, description: str, columns: str, *, area: str | None = None, **kw: Any
) -> TableSpec:
    return TableSpec(
        name, path, description, _parse_columns(columns), area or path.split("/")[0], **kw
    )


def ResultSpec(  # the older catalog's constructor, kept for entries not yet ported
    path: str,
    columns: tuple[str, ...],
    area: str,
    suppress: Rule | None = None,
    curve: dict[str, Any] | None = None,
    *,
    name: str = "",
    description: str = "",
) -> TableSpec:
    """A :class:`TableSpec` from an entry in the older catalog format (columns of kind ``any``)."""
    return TableSpec(
        name or Path(path).stem,
        path,
        description,
        {c: "any" for c in columns},
        area,
        reads=tuple(columns),
        suppress=suppress,
        curve=curve,
        extra=r".*",
    )


_CORRECTED_PATHWAYS = "horizon_years:number group:text label:text label_da:text label_en:text exit:text method:text estimate:number std_error:number conf_low:number conf_high:number n_persons:count n:count subgroup:text suppressed:bool"
"""Columns of the exit pathways by latent class (subgroups stage) and of their truth rows."""
_CORRECTED_PATHWAYS_READS = ("horizon_years", "group", "label", "exit", "method", "estimate")


def _corrected_rule(key: str) -> dict[str, Any]:
    """Suppression of a by-class table with counted rows (``n_persons`` of ``n`` per ``key``,
    method and class; :func:`pipelines.subgroups.corrected_by_class`)."""
    keys = [key, "method", "group"]
    return {
        "counts": {"n_persons": ["estimate"]},
        "denominator": "n",
        "denominator_keys": keys,
        "partitions": [keys],
    }


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


TABLES: tuple[TableSpec, ...] = (
    _table(
        "effects",
        "effects/estimates.csv",
        "Effect of each exposure (case-worker change, conversations) on each outcome by estimator (naive, MSM/IPW, ...): hazard ratio with 95 % CI",
        "exposure:text outcome:text estimator:text estimate:number conf_low:number conf_high:number std_error:number n_events:count",
        reads=("exposure", "outcome", "estimator", "estimate", "conf_low", "conf_high"),
    ),
    _table(
        "effects_by_group",
        "effects/estimates_by_group.csv",
        "Effect estimates within subgroups (grouping, group) with the number of events behind each",
        "grouping:text group:text exposure:text outcome:text estimator:text estimate:number conf_low:number conf_high:number std_error:number n_events:count",
        reads=(
            "grouping",
            "group",
            "exposure",
            "estimator",
            "estimate",
            "conf_low",
            "conf_high",
            "n_events",
        ),
    ),
    _table(
        "evalues",
        "effects/evalues.csv",
        "E-values (point and CI limit) of the effect estimates: how strong unmeasured confounding would have to be",
        "exposure:text outcome:text estimator:text evalue_point:number evalue_ci:number",
        reads=("exposure", "outcome", "estimator", "evalue_point", "evalue_ci"),
    ),
    _table(
        "job_probability",
        "effects/job_probability_12m.csv",
        "Relative change in the 12-month probability of a job exit by exposure and estimator, with CI",
        "exposure:text estimator:text relative_change:number conf_low:number conf_high:number",
        reads=("exposure", "estimator", "relative_change", "conf_low", "conf_high"),
    ),
    _table(
        "scenarios",
        "effects/scenarios.csv",
        "Policy scenarios: extra persons in job, person-years of benefit saved and saving in DKK, with intervals",
        "scenario:text extra_in_job:number extra_in_job_low:number extra_in_job_high:number person_years_saved:number person_years_saved_low:number person_years_saved_high:number in_job_natural:number person_years_natural:number saving_dkk:number saving_dkk_low:number saving_dkk_high:number",
        reads=(
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
    ),
    _table(
        "effects_simulation",
        "effects/simulation.csv",
        "Simulation study of the effect estimators on the synthetic register: bias (with its Monte Carlo SE, SD over draws / sqrt(draws)) and CI coverage against the truth",
        "exposure:text estimator:text truth:number mean_estimate:number bias:number bias_mc_se:number coverage:number n_reps:count mean_std_error:number sd_log_estimate:number",
        reads=("exposure", "estimator", "truth", "mean_estimate", "bias", "coverage", "n_reps"),
    ),
    _table(
        "weights",
        "effects/weights.csv",
        "Distribution of the inverse-probability weights (percentiles, mean, share truncated) by exposure",
        "exposure:text weight:text p01:number p25:number p50:number p75:number p99:number mean:number truncated_share:number",
        reads=("exposure", "weight", "p01", "p25", "p50", "p75", "p99", "mean", "truncated_share"),
    ),
    _table(
        "caseloads",
        "reproduction/caseloads.csv",
        "Case-worker caseload statistics (persons per case worker); value per statistic",
        "statistic:text value:number units:number",
        reads=("statistic", "value"),
    ),
    _table(
        "characteristics",
        "reproduction/characteristics.csv",
        "Characteristics of the stock by seniority group (lt1...ge10, ge5, all): persons with each level and share of the base, population benchmark",
        "seniority_group:text characteristic:text level:text base:text n:count n_persons:count share:number benchmark:number suppressed:bool",
        reads=("seniority_group", "characteristic", "level", "base", "n", "n_persons", "share"),
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["seniority_group", "base"],
        },
    ),
    _table(
        "continuity",
        "reproduction/continuity.csv",
        "As efforts.csv, by number of case-worker changes (group_type caseworker_changes, group 0/1/2/3+); wide: n_<flag>/share_<flag>",
        "population:text group_type:text group:text n:count kh_person_years:number share_activated:number mean_share_activated:number share_activated_company_placement:number share_activated_wage_subsidy:number share_activated_guidance_upskilling:number share_activated_utility_work:number share_activated_mentor:number job_conversations_per_year:number conversations_per_year:number n_min_conversations:count n_passive_over_1y:count n_exempt:count n_interrupted_absence:count n_interrupted:count n_employment_offer:count n_paid_hours:count n_paid_hours_month:count n_coordinated:count share_min_conversations:number share_passive_over_1y:number share_exempt:number share_interrupted_absence:number share_interrupted:number share_employment_offer:number share_paid_hours:number share_paid_hours_month:number share_coordinated:number suppressed:bool",
        reads=("population", "group_type", "group", "n"),
        suppress=_wide_counts,
        extra=r"^(n|share)_[a-z0-9_]+$",
    ),
    _table(
        "efforts",
        "reproduction/efforts.csv",
        "Efforts received (activation types, conversations, offers) by population (stock_<date>/case_review_<date>), group_type and group; wide: n_<flag>/share_<flag>",
        "population:text group_type:text group:text n:count kh_person_years:number share_activated:number mean_share_activated:number share_activated_company_placement:number share_activated_wage_subsidy:number share_activated_guidance_upskilling:number share_activated_utility_work:number share_activated_mentor:number job_conversations_per_year:number conversations_per_year:number n_min_conversations:count n_passive_over_1y:count n_exempt:count n_interrupted_absence:count n_interrupted:count n_employment_offer:count n_paid_hours:count n_paid_hours_month:count n_coordinated:count share_min_conversations:number share_passive_over_1y:number share_exempt:number share_interrupted_absence:number share_interrupted:number share_employment_offer:number share_paid_hours:number share_paid_hours_month:number share_coordinated:number suppressed:bool",
        reads=("population", "group_type", "group", "n"),
        suppress=_wide_counts,
        extra=r"^(n|share)_[a-z0-9_]+$",
    ),
    _table(
        "hovedveje",
        "reproduction/hovedveje.csv",
        "Main pathways (hovedveje) of the cohort: persons by state and measure (all_kh/ever/last/first_exit), with shares",
        "group_type:text group:text measure:text state:text n:count n_persons:count share:number suppressed:bool",
        reads=("group_type", "group", "measure", "state", "n", "n_persons", "share"),
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["group_type", "group"],
        },
    ),
    _table(
        "sequences",
        "reproduction/hovedveje_sequences.csv",
        "Most frequent half-year state sequences of the cohort (kh-kh-job-job), ranked, with persons and shares",
        "group_type:text group:text rank:number sequence:text n:count n_persons:count share:number suppressed:bool",
        reads=("group_type", "group", "rank", "sequence", "n", "n_persons", "share"),
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["group_type", "group"],
        },
    ),
    _table(
        "municipal",
        "reproduction/municipal.csv",
        "Municipal statistics of STAR 2022: persons, shares and values per municipality",
        "statistic:text municipality:text date:text n:count n_persons:count share:number value:number suppressed:bool",
        reads=("statistic", "municipality", "n", "n_persons", "share"),
        suppress={"counts": {"n_persons": ["share"]}, "denominator": "n", "stats": ["value"]},
    ),
    _table(
        "national_counts",
        "reproduction/national_counts.csv",
        "Persons in the stock at each reference date and the national estimate",
        "date:text n:count national_estimate:number suppressed:bool",
        reads=("date", "n"),
    ),
    _table(
        "star2022",
        "reproduction/star2022.csv",
        "Every number of STAR 2022: published, reproduced, tolerance and whether it lies within; unit pct/count/days/direction/...",
        "id:text part:text statistic:text published:number published_text:text reproduced:number reproduced_text:text tolerance:text lower:number upper:number within:bool n:count unit:text note:text source:text definition:text",
        reads=("id", "statistic", "published", "reproduced", "tolerance", "within", "n"),
    ),
    _table(
        "stock_by_year",
        "reproduction/stock_by_year.csv",
        "Stock on the reference date by seniority group and report year (the trend section of the annual report)",
        "year:number seniority_group:text n:count n_persons:count share:number suppressed:bool",
        reads=("year", "seniority_group", "n", "n_persons", "share"),
        area="reproduction (annual runs)",
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["year"],
            "partitions": [["year"]],
        },
    ),
    _table(
        "subgroup_case_review",
        "subgroups/case_review_groups.csv",
        "Latent classes against the case-review group definitions: share meeting each definition",
        "definition:text group:text share_meeting:number share_of_definition:number label:text size:number published_share:number",
    ),
    _table(
        "subgroup_efforts",
        "subgroups/efforts.csv",
        "Efforts received by latent class (as reproduction/efforts.csv, per class)",
        "population:text group_type:text group:text label:text n:count kh_person_years:number share_activated:number mean_share_activated:number share_activated_company_placement:number share_activated_wage_subsidy:number share_activated_guidance_upskilling:number share_activated_utility_work:number share_activated_mentor:number job_conversations_per_year:number conversations_per_year:number n_min_conversations:count n_passive_over_1y:count n_exempt:count n_interrupted_absence:count n_interrupted:count n_employment_offer:count n_paid_hours:count n_paid_hours_month:count n_coordinated:count share_min_conversations:number share_passive_over_1y:number share_exempt:number share_interrupted_absence:number share_interrupted:number share_employment_offer:number share_paid_hours:number share_paid_hours_month:number share_coordinated:number suppressed:bool",
        extra=r"^(n|share)_[a-z0-9_]+$",
    ),
    _table(
        "subgroup_labels",
        "subgroups/labels.csv",
        "Labels (da/en) and defining terms of the latent classes",
        "group:text label:text label_da:text label_en:text terms:text",
    ),
    _table(
        "subgroup_parameters",
        "subgroups/parameters.csv",
        "Latent class model parameters: probability of each indicator level by class",
        "class:number indicator:text level:text parameter:text estimate:number suppressed:bool",
    ),
    _table(
        "subgroup_pathways",
        "subgroups/pathways.csv",
        "Cumulative incidence of exits by latent class (curve)",
        "time_scale:text group:text exit:text time:number estimate:number std_error:number conf_low:number conf_high:number n_risk:count n_event:count",
        curve={"by": ["time_scale", "group", "exit"], "n_event": "n_event"},
    ),
    _table(
        "subgroup_pathways_corrected",
        "subgroups/pathways_corrected.csv",
        "State at the horizons by class: modal vs BCH/ML-corrected; counts only on the modal rows",
        _CORRECTED_PATHWAYS,
        reads=_CORRECTED_PATHWAYS_READS,
        suppress=_corrected_rule("horizon_years"),
    ),
    _table(
        "subgroup_pathways_summary",
        "subgroups/pathways_summary.csv",
        "Exit probabilities at the horizons by latent class, with CI",
        "group:text exit:text horizon_years:number n:count estimate:number conf_low:number conf_high:number label:text suppressed:bool",
    ),
    _table(
        "subgroup_profiles",
        "subgroups/profiles.csv",
        "Profiles of the latent classes: prevalence of each indicator level, overall prevalence and lift",
        "group:text indicator:text variable:text level:text indicator_da:text indicator_en:text n:count n_level:count prevalence:number overall_prevalence:number lift:number suppressed:bool",
        reads=("group", "indicator", "prevalence"),
    ),
    _table(
        "subgroup_profiles_corrected",
        "subgroups/profiles_corrected.csv",
        "Class profiles by method (modal, BCH/ML-corrected)",
        "variable:text group:text label:text level:text method:text estimate:number std_error:number conf_low:number conf_high:number n_persons:count n:count subgroup:text suppressed:bool",
    ),
    _table(
        "subgroup_selection",
        "subgroups/selection.csv",
        "Model selection of the latent class model by number of classes: fit criteria, entropy, stability",
        "k:number log_likelihood:number k_params:number aic:number bic:number sabic:number caic:number icl:number classification_entropy:number entropy:number smallest_class:number min_avepp:number best_ll_replicated:number iterations:number converged:bool admissible:bool chosen:bool best_aic:bool best_bic:bool best_sabic:bool best_caic:bool best_icl:bool stability_ari:number stability_ari_p10:number",
        reads=("k", "bic", "aic", "entropy"),
    ),
    _table(
        "subgroup_sizes",
        "subgroups/sizes.csv",
        "Size of each latent class: persons and share, posterior-probability diagnostics",
        "population:text group:text label:text label_da:text label_en:text n_persons:count n:count share:number size:number avepp:number relative_entropy:number suppressed:bool",
        reads=("group", "label", "n_persons", "n", "share"),
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["__all__"],
            "partitions": [["__all__"]],
        },
    ),
    _table(
        "subgroup_stability",
        "subgroups/stability.csv",
        "Bootstrap stability of the latent class solutions by number of classes",
        "k:number statistic:text reference:number mean:number sd:number p10:number p50:number p90:number replicates:number chosen:bool",
    ),
    _table(
        "cause_specific_cox",
        "survival/cause_specific_cox.csv",
        "Cause-specific Cox models of the exits: coefficients and hazard ratios with CI",
        "cause:text term:text estimate:number std_error:number statistic:number p_value:number conf_low:number conf_high:number hazard_ratio:number hr_conf_low:number hr_conf_high:number n_event:count",
        reads=("cause", "term", "estimate", "conf_low", "conf_high", "p_value"),
    ),
    _table(
        "cif",
        "survival/cif.csv",
        "Cumulative incidence of each exit by cohort (Aalen-Johansen), with CI, at risk and events per step",
        "cohort:text cause:text time:number estimate:number std_error:number conf_low:number conf_high:number n_risk:count n_event:count",
        reads=("cohort", "cause", "time", "estimate", "conf_low", "conf_high", "n_risk", "n_event"),
        curve={"by": ["cohort", "cause"], "n_event": "n_event"},
    ),
    _table(
        "cif_by_seniority",
        "survival/cif_by_seniority.csv",
        "Cumulative incidence of each exit by seniority group of the stock (curve)",
        "seniority_group:text cause:text time:number estimate:number std_error:number conf_low:number conf_high:number n_risk:count n_event:count",
        curve={"by": ["seniority_group", "cause"], "n_event": "n_event"},
    ),
    _table(
        "cohort_sizes",
        "survival/cohort_sizes.csv",
        "Persons in each cohort of the survival analysis",
        "cohort:text n:count suppressed:bool",
        suppress={"counts": ["n"], "denominator": None},
    ),
    _table(
        "fine_gray",
        "survival/fine_gray.csv",
        "Fine-Gray model of the job exit: coefficients and subdistribution hazard ratios",
        "cause:text term:text estimate:number std_error:number statistic:number p_value:number conf_low:number conf_high:number subdistribution_hr:number n_event:count",
    ),
    _table(
        "ph_tests",
        "survival/ph_tests.csv",
        "Tests of proportional hazards (Schoenfeld residuals) per model, cause and term",
        "model:text cause:text term:text statistic:number df:number p_value:number",
        reads=("model", "cause", "term", "statistic", "df", "p_value"),
    ),
    _table(
        "ph_residual_curves",
        "survival/ph_residual_curves.csv",
        "Smoothed time-varying log hazard ratio beta(t) of each term of the cause-specific Cox models with +-2 SE band (R plot(cox.zph(fit)): natural spline, df 4, through the scaled Schoenfeld residuals on 40 points; time in months since the spell's start; fitted = the constant beta(t) under proportional hazards). Disclosure: only points between the k-th smallest and the k-th largest event time of the model (k = the disclosure threshold; n_event_before/n_event_after >= k), so no point reveals a single person's event time",
        "model:text cause:text term:text time:number estimate:number std_error:number conf_low:number conf_high:number fitted:number n_event_before:count n_event_after:count",
        reads=("model", "cause", "term", "time", "estimate", "conf_low", "conf_high", "fitted"),
        suppress={
            "counts": {
                c: ["time", "estimate", "std_error", "conf_low", "conf_high"]
                for c in ("n_event_before", "n_event_after")
            },
            "denominator": None,
        },
    ),
    _table(
        "cox_fit",
        "survival/cox_fit.csv",
        "Fit of the cause-specific Cox models: Harrell's C with SE, likelihood-ratio, Wald, score and robust score tests",
        "cause:text measure:text estimate:number std_error:number df:number p_value:number n_event:count",
        reads=("cause", "measure", "estimate", "std_error", "df", "p_value"),
    ),
    _table(
        "calibration",
        "transitions/calibration.csv",
        "Calibration of the main transition model: observed vs predicted state shares by half-year",
        "half_year:number state:text n:count n_persons:count observed:number predicted:number difference:number suppressed:bool model:text rule:text",
        reads=("half_year", "state", "observed", "predicted"),
    ),
    _table(
        "calibration_models",
        "transitions/calibration_models.csv",
        "Calibration of every transition model and gap rule: observed vs predicted by half-year",
        "model:text rule:text half_year:number state:text n:count n_persons:count observed:number predicted:number difference:number suppressed:bool",
    ),
    _table(
        "transition_coefficients",
        "transitions/coefficients.csv",
        "Coefficients of the monthly multinomial transition models by origin and destination",
        "origin:text destination:text term:text estimate:number std_error:number statistic:number p_value:number conf_low:number conf_high:number odds_ratio:number n_moves:count suppressed:bool",
    ),
    _table(
        "flows",
        "transitions/flows.csv",
        "Half-year flows between states of the cohorts: persons and shares",
        "cohort:text group:text from_half_year:number from_state:text to_state:text n:count n_persons:count share:number suppressed:bool",
        suppress=FLOW_SUPPRESSION,
    ),
    _table(
        "halfyear_coefficients",
        "transitions/halfyear_coefficients.csv",
        "Coefficients of the half-year transition model",
        "origin:text destination:text term:text estimate:number std_error:number statistic:number p_value:number conf_low:number conf_high:number n_moves:count",
    ),
    _table(
        "markov_check",
        "transitions/markov_comparison.csv",
        "Markov check: fit of the transition models with more history, likelihood-ratio tests",
        "model:text loglik:number n_parameters:count k_params:number aic:number bic:number rows:number compared_with:text lr_statistic:number df:number p_value:number",
        reads=("model", "loglik", "n_parameters", "aic", "bic"),
    ),
    _table(
        "transition_model_fit",
        "transitions/model_fit.csv",
        "Fit of each origin's transition model: person-months, persons, log-likelihood, AIC/BIC",
        "origin:text person_months:number n_persons:count loglik:number k_params:number aic:number bic:number converged:bool aliased:text suppressed:bool",
        suppress={"counts": ["n_persons"], "denominator": None},
    ),
    _table(
        "pathways",
        "transitions/predicted_pathways.csv",
        "Predicted state probabilities over time for the example profiles, with CI",
        "profile_id:text profile:text profile_en:text half_year:number month:number state:text probability:number conf_low:number conf_high:number model:text",
        reads=("profile", "half_year", "state", "probability"),
    ),
    _table(
        "transition_profiles",
        "transitions/profiles.csv",
        "Example profiles (characteristics) for which pathways are predicted",
        "profile_id:text label_da:text label_en:text sex:text origin:text education:text age:number seniority_months:number psychiatric_diagnosis:bool substance_abuse_treatment:bool poor_health:number cw_changes_12m:number conv_3m:number in_activation:number paid_hours:number",
    ),
    _table(
        "transition_sequences",
        "transitions/sequences.csv",
        "Most frequent half-year sequences by cohort and group",
        "cohort:text group:text rank:number sequence:text n:count n_persons:count share:number suppressed:bool",
    ),
    _table(
        "transitions_simulation",
        "transitions/simulation.csv",
        "Simulation study of the transition models: bias and coverage against the truth",
        "parameter:text origin:text destination:text term:text truth:number mean_estimate:number bias:number sd_estimate:number mean_std_error:number coverage:number n_reps:count mean_moves:number",
        reads=("parameter", "truth", "mean_estimate", "coverage", "n_reps"),
    ),
    _table(
        "state_distribution",
        "transitions/state_distribution.csv",
        "State distribution of the cohorts by half-year: persons and shares",
        "cohort:text group:text half_year:number state:text n:count n_persons:count share:number suppressed:bool",
        reads=("cohort", "group", "half_year", "state", "n", "n_persons", "share"),
        suppress={
            "counts": {"n_persons": ["share"]},
            "denominator": "n",
            "denominator_keys": ["cohort", "group", "half_year"],
            "partitions": [["cohort", "group", "half_year"]],
        },
    ),
    _table(
        "state_occupation",
        "transitions/state_occupation.csv",
        "State occupation probabilities by seniority group (Aalen-Johansen, curve)",
        "group:text time_scale:text state:text time:number estimate:number std_error:number conf_low:number conf_high:number n_risk:count n_event:count",
        reads=("group", "time", "state", "estimate", "conf_low", "conf_high", "n_risk"),
        curve={"by": ["group", "state"], "n_event": None},
    ),
    _table(
        "state_occupation_entry",
        "transitions/state_occupation_entry.csv",
        "State occupation probabilities of the entry cohort (curve)",
        "group:text time_scale:text state:text time:number estimate:number std_error:number conf_low:number conf_high:number n_risk:count n_event:count",
        curve={"by": ["group", "state"], "n_event": None},
    ),
    _table(
        "transition_matrices",
        "transitions/transition_matrices.csv",
        "Predicted one-step transition matrices of the example profiles",
        "profile_id:text profile:text profile_en:text from:text to:text probability:number",
    ),
    # --- issue 23 inference tables (pipelines/survival.py, pipelines/transitions.py)
    _table(
        "km_summary",
        "survival/km_summary.csv",
        "Kaplan-Meier of the time to any exit from the reference date per cohort and seniority group: median (months) with 95 % CI (R's conventions), restricted mean survival time up to tau with its SE",
        "group_type:text group:text n:count n_events:count median:number median_conf_low:number median_conf_high:number rmst:number rmst_std_error:number tau:number suppressed:bool",
        reads=(
            "group_type",
            "group",
            "n",
            "n_events",
            "median",
            "median_conf_low",
            "median_conf_high",
            "rmst",
            "rmst_std_error",
            "tau",
        ),
        suppress={
            "counts": {"n_events": ["median", "median_conf_low", "median_conf_high"]},
            "denominator": "n",
            "stats": ["rmst", "rmst_std_error"],
        },
    ),
    _table(
        "logrank",
        "survival/logrank.csv",
        "Log-rank test (R survdiff, rho = 0) of the time to any exit between the seniority groups",
        "comparison:text cohort:text test:text statistic:number df:number p_value:number",
        reads=("comparison", "cohort", "test", "statistic", "df", "p_value"),
    ),
    _table(
        "fine_gray_cif",
        "survival/fine_gray_cif.csv",
        "Fine-Gray predicted cumulative incidence of each exit for a reference profile, with SE and 95 % CI, by month since the reference date",
        "cause:text profile:text time:number cumulative_hazard:number estimate:number std_error:number conf_low:number conf_high:number",
        reads=("cause", "profile", "time", "estimate", "std_error", "conf_low", "conf_high"),
    ),
    _table(
        "transition_probabilities",
        "transitions/transition_probabilities.csv",
        "Aalen-Johansen transition probabilities P(s, t) between states (months since entry) with IJ standard errors and 95 % CI; n = persons in the from-state at s, n_persons = of them in the to-state at t",
        "s:number time:number from_state:text to_state:text n:count n_persons:count estimate:number std_error:number conf_low:number conf_high:number suppressed:bool",
        reads=(
            "s",
            "time",
            "from_state",
            "to_state",
            "n",
            "n_persons",
            "estimate",
            "std_error",
            "conf_low",
            "conf_high",
        ),
        suppress={
            "counts": {"n_persons": ["estimate", "std_error", "conf_low", "conf_high"]},
            "denominator": "n",
            "denominator_keys": ["from_state"],
            "partitions": [["from_state"]],
        },
    ),
    # --- issue 21 municipal benchmarking (pipelines/benchmarking.py; small municipalities merged
    # into regional / national groups there, a group still below the threshold emptied)
    _table(
        "benchmark_municipal",
        "benchmarking/municipal.csv",
        "Exits per published unit (a municipality, or a merged group of small ones) and exit type over the follow-up: observed, expected from the individual-level model (indirect standardisation), O/E ratio with exact Poisson CI, shrunken (empirical-Bayes) ratio with interval, position in the funnel",
        "cause:text cohort:text unit:text merged:bool municipalities:number n:count n_observed:count expected:number ratio:number conf_low:number conf_high:number p_value:number shrunken:number shrunken_low:number shrunken_high:number funnel:text",
        reads=(
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
    ),
    _table(
        "benchmark_model",
        "benchmarking/model.csv",
        "Coefficients of the individual-level monthly exit model (no municipality term) per exit type",
        "cause:text term:text estimate:number std_error:number statistic:number p_value:number conf_low:number conf_high:number",
    ),
    _table(
        "benchmark_funnel",
        "benchmarking/funnel.csv",
        "Funnel-plot control limits of the O/E ratio (exact Poisson, 95 % and 99.8 %) on a grid of expected counts",
        "cause:text expected:number level:number lower:number upper:number",
        reads=("cause", "expected", "level", "lower", "upper"),
    ),
    # --- recovery studies of a synthetic register (pipelines/recovery.py; issue 24): written only
    # when the register has a ground_truth/, never by a production stage
    _table(
        "transition_recovery",
        "recovery/transitions/recovery.csv",
        "Recovery of the planted transition coefficients on the synthetic register",
        "origin:text destination:text term:text estimate:number std_error:number statistic:number p_value:number conf_low:number conf_high:number truth:number covered:bool definition:text intercept_only:bool",
    ),
    _table(
        "subgroup_recovery",
        "recovery/subgroups/recovery.csv",
        "Recovery of the planted classes on the synthetic register: adjusted Rand index by method",
        "method:text ari:number classes:number ratio_to_oracle:number n:count",
        reads=("method", "ari"),
    ),
    _table(
        "subgroup_recovery_groups",
        "recovery/subgroups/recovery_groups.csv",
        "Planted subgroups against the estimated classes (synthetic register)",
        "subgroup:text true_share:number class:number class_size:number modal_share:number share_of_subgroup_in_class:number n:count suppressed:bool",
    ),
    _table(
        "subgroup_pathways_truth",
        "recovery/subgroups/pathways_truth.csv",
        "Synthetic registers only: state at the horizons in the true subgroup matched to each latent class (method truth; to set beside subgroups/pathways_corrected.csv)",
        _CORRECTED_PATHWAYS,
        reads=_CORRECTED_PATHWAYS_READS,
        suppress=_corrected_rule("horizon_years"),
    ),
    _table(
        "subgroup_profiles_truth",
        "recovery/subgroups/profiles_truth.csv",
        "Synthetic registers only: profile indicators in the true subgroup matched to each latent class (method truth; to set beside subgroups/profiles_corrected.csv)",
        "variable:text group:text label:text level:text method:text estimate:number std_error:number conf_low:number conf_high:number n_persons:count n:count subgroup:text suppressed:bool",
        suppress=_corrected_rule("variable"),
    ),
    _table(
        "effect_recovery",
        "recovery/effects/estimates.csv",
        "Synthetic registers only: the published effect estimates (effects/estimates.csv) with the true hazard ratio of the generator and whether the 95 % CI covers it",
        "exposure:text outcome:text estimator:text estimate:number conf_low:number conf_high:number std_error:number n_events:count truth:number covered:bool",
        reads=("exposure", "outcome", "estimator", "estimate", "conf_low", "conf_high", "truth")
        + ("covered",),
    ),
    _table(
        "effect_recovery_by_group",
        "recovery/effects/estimates_by_group.csv",
        "Synthetic registers only: the effect estimates by group (effects/estimates_by_group.csv) with the true hazard ratio (the same in every group) and coverage",
        "grouping:text group:text exposure:text outcome:text estimator:text estimate:number conf_low:number conf_high:number std_error:number n_events:count truth:number covered:bool",
    ),
    _table(
        "benchmark_recovery",
        "recovery/benchmarking/recovery.csv",
        "Synthetic registers only: recovery of the planted municipality effects (correlation of estimated with true log effects, plain and weighted; RMSE; interval coverage) per exit and estimator",
        "cause:text estimator:text municipalities:number correlation:number correlation_weighted:number rmse_log:number coverage:number conf_level:number true_sd_log:number",
        reads=("cause", "estimator", "municipalities", "correlation", "coverage", "true_sd_log"),
    ),
    # --- issue 21 trends over report years (pipelines/reproduction.py)
    _table(
        "trends",
        "reproduction/trends.csv",
        "Headline statistics per report year (R1, R8, R12, R13-R15 exits, persons per case worker): persons and share of the denominator, SE of the share, or a value",
        "year:number statistic:text part:text n:count n_persons:count share:number std_error:number value:number suppressed:bool",
        reads=("year", "statistic", "part", "n", "n_persons", "share", "value"),
        suppress={"counts": {"n_persons": ["share", "std_error"]}, "denominator": "n"},
    ),
)

REGISTRY: dict[str, TableSpec] = {t.name: t for t in TABLES}
"""Every results table by name."""
_BY_PATH: dict[str, TableSpec] = {t.path: t for t in TABLES}
if len(REGISTRY) != len(TABLES) or len(_BY_PATH) != len(TABLES):
    raise RuntimeError("results registry: a table name or path is declared twice")


_STAGING = re.compile(r"^\.(?P<area>.+)\.tmp-\d+$")


def staging_dir(out: Path) -> Path:
    """Where a stage writes before its output directory ``out`` is swapped in (``.<area>.tmp-<pid>``)."""
    import os

    return out.with_name(f".{out.name}.tmp-{os.getpid()}")


def area_of_dir(directory: Path) -> str:
    """The area (``results/<area>``) of a stage's output directory, or of its staging copy."""
    m = _STAGING.match(directory.name)
    return m.group("area") if m else directory.name


def spec_for_path(path: str | Path) -> TableSpec | None:
    """The declaration of a results file, by its path relative to the results directory."""
    return _BY_PATH.get(Path(path).as_posix())


# --------------------------------------------------------------------------- checks


def _is_integral(values: pd.Series) -> bool:
    v = pd.to_numeric(values, errors="coerce")
    return bool(((v % 1) == 0).all())


def _kind_problem(s: pd.Series, kind: str) -> str | None:
    """Why column ``s`` is not of ``kind`` (``None`` when it is)."""
    values = s.dropna()
    if kind in ("any", "text") or values.empty:
        return None
    if kind == "bool":
        if pd.api.types.is_bool_dtype(s) or set(values.map(type)) <= {bool}:
            return None
        if set(values.astype(str)) <= {"True", "False"}:
            return None
        return f"not true/false (dtype {s.dtype})"
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(s):
            return None
        parsed = pd.to_datetime(values.astype(str), errors="coerce", format="%Y-%m-%d")
        return None if parsed.notna().all() else "not a date YYYY-MM-DD"
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return f"not numeric (dtype {s.dtype})"
    if kind == "count":
        if not _is_integral(values):
            return "count with a non-integer value"
        if (values < 0).any():
            return "negative count"
    return None


def check_frame(spec: TableSpec, df: pd.DataFrame) -> list[str]:
    """Problems of ``df`` against its declaration: undeclared columns, columns the documents
    read that are missing, values not of the declared kind (empty list = conforms)."""
    problems = [f"column {c!r} is not declared" for c in df.columns if not spec.declares(str(c))]
    problems += [f"column {c!r} (read by the documents) is missing" for c in spec.reads
                 if c not in df.columns]  # fmt: skip
    for c in df.columns:
        if spec.declares(str(c)):
            why = _kind_problem(df[c], spec.kind(str(c)))
            if why:
                problems.append(f"column {c!r} ({spec.kind(str(c))}): {why}")
    return problems


def _same_cells(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same rows and the same empty cells per column (the rules may reorder rows)."""
    if len(a) != len(b):
        return False
    cols = [c for c in a.columns if c in b.columns]
    return bool((a[cols].isna().sum() == b[cols].isna().sum()).all())


def rule_problem(spec: TableSpec, df: pd.DataFrame, threshold: int) -> str | None:
    """Why ``df`` is not closed under its declared disclosure rule (``None`` when it is):
    re-applying the rule would suppress a further cell or drop a curve step."""
    if (spec.curve is None and spec.suppress is None) or df.empty:
        return None  # an empty table (nothing publishable in this run) is closed under any rule
    got = spec.protect(df, threshold)
    if got.frame is None:
        return f"the declared rule withholds the whole table ({got.reason})"
    if not _same_cells(df.reset_index(drop=True), got.frame.reset_index(drop=True)):
        return "re-applying the declared disclosure rule suppresses further cells or steps"
    return None


# --------------------------------------------------------------------------- writing


def write_table(
    name: str,
    df: pd.DataFrame,
    results_dir: str | Path,
    *,
    threshold: int,
    known_ids: Iterable[str] | None = None,
    float_format: str | None = None,
    out_dir: str | Path | None = None,
) -> Path:
    """Write results table ``name`` (UTF-8 CSV, dates ``YYYY-MM-DD``) after checking it.

    The frame must match its declaration (:func:`check_frame`), be closed under its declared
    disclosure rule (:func:`rule_problem`) and pass :func:`analysis.disclosure.assert_publishable`
    (no cell below ``threshold``, no person id of ``known_ids``, ...). The file goes to
    ``results_dir / spec.path``, or to ``out_dir / <file name>`` when a stage was given its own
    output directory.

    Raises
    ------
    KeyError
        ``name`` is not declared in :data:`REGISTRY`.
    SchemaError
        The frame does not match the declaration or its disclosure rule.
    """
    if name not in REGISTRY:
        raise KeyError(f"results table {name!r} is not declared in pipelines.results_registry")
    spec = REGISTRY[name]
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    problems = check_frame(spec, out)
    why = rule_problem(spec, out, threshold)
    if why:
        problems.append(why)

    if problems:
        raise SchemaError(f"results table {name} ({spec.path}): " + "; ".join(problems))
    path = (Path(out_dir) / Path(spec.path).name) if out_dir is not None else (
        Path(results_dir) / spec.path
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    assert_publishable(out, threshold, known_ids, name=path.name)
    out.to_csv(path, index=False, encoding="utf-8", float_format=float_format)
    return path


def markdown_table() -> str:
    """The registry as a Markdown table (name, file, description, columns)."""
    rows = ["| name | file | description | columns |", "|---|---|---|---|"]
    for spec in TABLES:
        cols = ", ".join(f"{c} ({k})" for c, k in spec.schema.items())
        rows.append(f"| {spec.name} | `{spec.path}` | {spec.description} | {cols} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())

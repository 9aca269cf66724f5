"""The run configuration, validated by pydantic.

Every option has a default, so an empty file is a valid configuration; ``default.yaml`` beside
this module spells out the defaults with comments. Paths are resolved relative to the directory
the command is run from.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.yaml")


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the file and each offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Paths(_Section):
    raw_dir: Path = Path("data/raw")
    """Directory with the register extract (one file per table, e.g. persons.csv)."""
    work_dir: Path = Path("data/work")
    """Validated and derived Parquet files, quarantine files and the stage cache."""
    results_dir: Path = Path("results")
    """Results tables (CSV) and figures read by the reports."""
    reports_dir: Path = Path("reports")
    """The Quarto project."""
    output_dir: Path = Path("reports/_output")
    """Rendered documents."""


class ExtractWindow(_Section):
    start: date = date(1991, 1, 1)
    end: date = date(2023, 12, 31)

    @model_validator(mode="after")
    def _ordered(self) -> ExtractWindow:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class InputOptions(_Section):
    encoding: Literal["auto", "utf-8", "latin-1"] = "auto"
    """CSV encoding; ``auto`` reads UTF-8 and falls back to Latin-1 when the bytes are not UTF-8."""
    csv_separator: Literal["auto", ",", ";", "\t", "|"] = "auto"
    date_format: str | None = None
    """strftime format of dates in CSV files; ``None`` means ISO 8601 (YYYY-MM-DD)."""
    benefits: Literal["auto", "spells", "weekly"] = "auto"
    """Which benefit table to use when both are present (``auto`` prefers benefit_spells)."""


class SpellOptions(_Section):
    gap_rule: Literal["calendar_month", "strict", "weeks"] = "calendar_month"
    """``calendar_month``: a spell ends after one full calendar month without benefit (jobindsats);
    ``strict``: any day without benefit ends it; ``weeks``: a gap of ``gap_weeks`` or more weeks ends it."""
    gap_weeks: int = Field(4, ge=1, le=52)
    exit_window_days: int = Field(31, ge=1, le=366)
    """Days after a spell's last KH day searched for its exit state: the first day in this window
    (and before the next KH spell) whose state is not self-support gives the exit state; when there
    is none, the exit is to self-support."""


class StateOptions(_Section):
    job_hours_threshold: float = Field(80.0, ge=0)
    """Paid hours in a month from which the month counts as employment (job)."""
    job_earnings_threshold_dkk: float | None = Field(None, ge=0)
    """Alternative/additional: earnings in a month from which it counts as employment."""
    half_year_rule: Literal["predominant", "end"] = "predominant"
    """State of a half-year: the state held most of the time, or the state at its last day."""
    month_rule: Literal["predominant", "end"] = "predominant"
    """State of a calendar month, by the same two rules as half-years."""
    attachment_share_threshold: float = Field(0.5, ge=0, le=1)
    """Share of days in the kontanthjælp system in the two years before the reference date from
    which a cohort member counts as having high (rather than low) prior attachment."""


class CohortOptions(_Section):
    reference_date: date = date(2021, 11, 30)
    """Reference date of the characteristics/efforts analysis (STAR: November 2021). In a YAML
    file ``null`` (the shipped default) = 30 November of ``report.year``."""
    stock_quarter: str = Field("2018Q1", pattern=r"^\d{4}Q[1-4]$")
    """Quarter of the hovedveje cohort (STAR: everyone on kontanthjælp in Q1 2018); ``null`` = Q1
    three years before ``report.year`` (its four half-years end before the reference date)."""
    n_half_years: int = Field(4, ge=1, le=20)
    annual_years: list[int] = Field(default_factory=lambda: [2019, 2020, 2021])
    """Years of the yearly cohorts the annual report compares; ``null`` = the report year and the
    two before it."""
    trend_from: int = Field(2018, ge=1991, le=2100)
    """First report year of the trend section; the trend runs from it to ``report.year`` (years
    whose follow-up does not fit in the extract are left out)."""
    sequence_anchor: Literal["entry", "after_period"] = "entry"
    """Where the half-years of a sequence start: ``entry`` = each member's reference date (for a
    quarter stock the first KH day in the quarter); ``after_period`` = the day after the cohort
    period (for 2018Q1: 2018-04-01)."""


class FrameOptions(_Section):
    cohort: Literal["stock_quarter", "stock_reference_date"] = "stock_quarter"
    """Cohort whose start-stop and person-month frames are built."""
    follow_up_years: float = Field(2.0, gt=0, le=20)
    """Follow-up from each member's reference date, in years (also cut at the extract end)."""
    conversation_windows_days: tuple[int, int] = (91, 365)
    """Look-back windows (days) of the 'conversations in the last 3 / 12 months' covariates."""
    caseworker_window_days: int = Field(365, ge=1)
    """Look-back window (days) of 'case-worker changes in the last 12 months'."""


class EngineOptions(_Section):
    duckdb_memory_limit: str = "6GB"
    """DuckDB memory limit for the out-of-core derivation (it spills to ``temp_dir`` beyond it)."""
    duckdb_threads: int = Field(2, ge=1)
    temp_dir: Path | None = None
    """Spill directory; ``None`` = a ``.duckdb_tmp`` folder inside the output directory."""


class DisclosureOptions(_Section):
    threshold: int = Field(5, ge=1)
    """Minimum number of persons behind every published cell (Statistics Denmark: 3, health data 5)."""


class PrivacyOptions(_Section):
    allow_cpr_like_ids: bool = False
    """Accept person ids that look like raw CPR numbers (10 digits starting with a valid DDMMYY)."""


class SyntheticOptions(_Section):
    size: Literal["tiny", "default", "national"] = "default"
    seed: int = 1


class ReportOptions(_Section):
    year: int = Field(2021, ge=1995, le=2100)
    """Report year: moves the reference date (30 November), the stock, the hovedveje cohort (Q1
    three years before), the yearly cohorts, the case-review and subgroup dates (1 March of the
    year before) -- every key of those that is ``null`` or absent (see :func:`year_defaults`)."""
    lang: Literal["da", "en"] = "da"
    formats: list[Literal["pdf", "html"]] = Field(default_factory=lambda: ["pdf", "html"])


class EffectOptions(_Section):
    """Effects of case-worker changes and conversations (analysis.effects, pipelines.effects)."""

    cost_per_person_year_dkk: float = Field(250_000.0, gt=0)
    """Assumed public cost of one person-year on kontanthjælp (benefit plus administration), DKK.
    An assumption for the policy scenarios, not a published figure."""
    max_persons: int | None = Field(60_000, ge=100)
    """The models are fitted on a simple random sample of this many cohort members when the
    cohort is larger (national registers: about 120,000); ``None`` = everyone. The sample keeps
    the national run within its time budget; intervals widen accordingly, and the scenario
    counts are scaled back to the whole cohort."""
    horizon_months: int = Field(24, ge=1, le=120)
    """Months of follow-up of the policy scenarios (two years)."""
    n_draws: int = Field(200, ge=10, le=5000)
    """Coefficient draws for the scenario intervals."""
    group_min_events: int = Field(100, ge=1)
    """Job exits a group needs before its own hazard ratios are estimated (estimates_by_group.csv;
    never fewer than the disclosure threshold): the adjusted model has about 20 covariates and
    a baseline hazard per municipality, which a few dozen events cannot carry."""
    simulation_summary: Path | None = Path("benchmarks/results/effects_simulation.csv")
    """Summary of the coverage study (benchmarks/bench_effects.py), copied to
    results/effects/simulation.csv when it exists."""


class ReproductionOptions(_Section):
    """The STAR 2022 reproduction (analysis.star2022, pipelines.reproduction)."""

    review_date: date = date(2020, 3, 1)
    """Date of the case-review population (activity-ready, >= 5 years; BDO: 1 March 2020)."""
    count_scale: float | None = Field(None, gt=0)
    """Factor from register counts to national counts (R19, R20); ``None`` = 120,000 / the
    register's hovedveje cohort (the national Q1-2018 cohort size); 1 for a national extract."""
    caseload_date: date | None = None
    """Date of the caseload count (R22); ``None`` = cohorts.reference_date."""
    municipal_min_persons: int = Field(30, ge=1)
    """Minimum case-review persons of a municipality in the R8 spread of municipal paid-hours
    shares (never below the disclosure threshold)."""


class SubgroupOptions(_Section):
    """Subgroups of long-term recipients (analysis.subgroups, pipelines.subgroups)."""

    reference_date: date = date(2020, 3, 1)
    """Population date. Default: the case-review population (BDO: activity-ready recipients with at
    least 5 uninterrupted years on 1 March 2020), which the R16 shares (24 % / 14 %) refer to."""
    min_seniority_years: int = Field(5, ge=0, le=40)
    """Minimum uninterrupted seniority (calendar years) on the reference date."""
    match_group: Literal["activity_ready", "job_ready"] | None = "activity_ready"
    """Match group of the current case on the reference date; ``None`` = everyone (e.g. the whole
    long-term stock: reference_date 2021-11-30, match_group null)."""
    indicators: list[str] = Field(
        default_factory=lambda: [
            "sex",
            "origin",
            "education",
            "psychiatric_diagnosis",
            "substance_abuse_treatment",
            "children",
            "debut_age",
        ]
    )
    """Indicators of the latent class model (analysis.subgroups.indicators)."""
    profile_indicators: list[str] = Field(
        default_factory=lambda: [
            "sex",
            "age_band",
            "origin",
            "education",
            "psychiatric_diagnosis",
            "substance_abuse_treatment",
            "children",
            "debut_age",
            "seniority",
            "prior_contact",
        ]
    )
    """Characteristics shown in the profiles (and used for the labels)."""
    debut_washout_years: int = Field(3, ge=0, le=20)
    """Debut age counts as unknown (``before_window``) when the first spell in the register starts
    within this many years of the extract window's start (earlier spells cannot be ruled out)."""
    max_classes: int = Field(8, ge=1, le=20)
    """Models with 1..max_classes classes are compared."""
    criterion: Literal["bic", "aic", "sabic", "caic", "icl"] = "bic"
    """Information criterion that chooses the number of classes."""
    min_class_share: float = Field(0.05, ge=0, lt=1)
    """Smallest admissible class (share of the population)."""
    n_starts: int = Field(20, ge=1)
    """Random starts per model."""
    n_bootstrap: int = Field(20, ge=0)
    """Bootstrap refits for the stability check (0 = none)."""
    bootstrap_starts: int = Field(5, ge=1)
    """Random starts per bootstrap refit (the full-data fits use ``n_starts``)."""
    stability_all_k: bool = True
    """Bootstrap every number of classes (selection.csv: stability_ari per K), not only the chosen."""
    n_jobs: int = Field(2, ge=1, le=64)
    """Processes for the bootstrap refits (results do not depend on it)."""
    language: Literal["da", "en"] = "da"
    """Language of the group labels (both are written; this one is the ``label`` column)."""
    horizons_years: list[float] = Field(default_factory=lambda: [1.0, 2.0, 3.0])
    """Follow-up horizons of the pathway summary (years after the reference date)."""


class TransitionOptions(_Section):
    """Transition models and hovedveje (results/transitions)."""

    max_age: int = Field(64, ge=18, le=100)
    """Person-months in which the person is older (or becomes older next month) are left out."""
    min_moves: int = Field(30, ge=0)
    """A destination with fewer moves than this from an origin gets an intercept-only model."""
    penalty: float = Field(0.01, ge=0)
    """Ridge precision on non-intercept log-odds (prior sd 1/sqrt(penalty) = 10); keeps estimates
    finite when a characteristic has no move to a rare destination. 0 = plain maximum likelihood."""
    n_simulations: int = Field(5, ge=1, le=100)
    """Microsimulated paths per cohort member for the calibration check."""
    calibration_max_persons: int | None = Field(50_000, ge=1000)
    """The calibration check simulates paths from a random sample of this many cohort members
    when there are more (observed shares always use every member; with 50,000 members the
    standard error of a predicted share from the sampling is at most 0.25 percentage points).
    None = all."""
    n_bootstrap: int = Field(200, ge=0, le=5000)
    """Parametric bootstrap draws of the coefficients for the profile pathways' bands."""
    pathway_half_years: int = Field(8, ge=1, le=40)
    """Half-years of the predicted pathways of the profiles."""
    top_sequences: int = Field(10, ge=1, le=100)
    """Most frequent four-half-year sequences listed."""
    markov_comparison: bool = True
    """Fit the nested models of the Markov comparison (five fits of the monthly model)."""
    profiles: Path | None = None
    """YAML file with covariate profiles (structure of analysis.transitions.profiles); None =
    the shipped profiles."""
    simulation_summary: Path | None = Path("benchmarks/results/transitions_simulation.csv")
    """Summary of the recovery simulation study (benchmarks/bench_transitions_recovery.py),
    copied to results/transitions/simulation.csv when it exists."""


class BenchmarkingOptions(_Section):
    """Municipal benchmarking adjusted for composition (pipelines.benchmarking, issue 21)."""

    cohort: str | None = None
    """Benchmarked cohort label in cohorts.parquet; ``None`` = the 30 November stock of the latest
    of ``cohorts.annual_years``."""
    horizon_months: int = Field(24, ge=1, le=120)
    """Months of follow-up from the reference date."""
    causes: list[Literal["job", "fp", "rf"]] = Field(default_factory=lambda: ["job", "fp", "rf"])
    """Exits benchmarked (one hazard model each)."""
    min_persons: int = Field(50, ge=1)
    """Persons a municipality needs to be published alone (never below the disclosure threshold);
    smaller ones are merged into their region's group."""
    shrinkage: Literal["gamma_poisson", "normal_dl"] = "gamma_poisson"
    """Empirical-Bayes model of the shrunken ratios."""
    conf_level: float = Field(0.95, gt=0, lt=1)
    penalty: float = Field(0.01, ge=0)
    """Ridge precision on the hazard models' non-intercept log-odds (prior sd 10), as in
    transitions.penalty: keeps expected counts finite when a characteristic has no exit."""


class StarConfig(_Section):
    """The whole run configuration."""

    paths: Paths = Paths()
    extract_window: ExtractWindow = ExtractWindow()
    input: InputOptions = InputOptions()
    state_mapping: Path | None = None
    """Path to a state mapping YAML; ``None`` uses the shipped data_schema/state_mapping.yaml."""
    spells: SpellOptions = SpellOptions()
    states: StateOptions = StateOptions()
    cohorts: CohortOptions = CohortOptions()
    frames: FrameOptions = FrameOptions()
    engine: EngineOptions = EngineOptions()
    disclosure: DisclosureOptions = DisclosureOptions()
    privacy: PrivacyOptions = PrivacyOptions()
    synthetic: SyntheticOptions = SyntheticOptions()
    report: ReportOptions = ReportOptions()
    effects: EffectOptions = EffectOptions()
    reproduction: ReproductionOptions = ReproductionOptions()
    subgroups: SubgroupOptions = SubgroupOptions()
    transitions: TransitionOptions = TransitionOptions()
    benchmarking: BenchmarkingOptions = BenchmarkingOptions()
    seed: int = 20221
    """Seed for every random step of the analyses (bootstrap, cross-fitting, simulation)."""


def year_defaults(year: int) -> dict[str, dict[str, object]]:
    """The keys that follow the report year, by section, for report year ``year``.

    The offsets are those of STAR 2022 (report year 2021): stock on 30 November 2021, the Q1 2018
    cohort followed four half-years (to Q1 2020), the yearly cohorts 2019-2021, the case review
    and the subgroup population on 1 March 2020 (two-year look-back windows end the day before).
    """
    return {
        "cohorts": {
            "reference_date": date(year, 11, 30),
            "stock_quarter": f"{year - 3}Q1",
            "annual_years": [year - 2, year - 1, year],
        },
        "reproduction": {"review_date": date(year - 1, 3, 1)},
        "subgroups": {"reference_date": date(year - 1, 3, 1)},
    }


def _fill_year_defaults(raw: dict) -> dict:
    """Fill the year-dependent keys that are ``null`` or absent from ``report.year`` (default 2021)."""
    report = raw.get("report") if isinstance(raw.get("report"), dict) else {}
    year = report.get("year", ReportOptions.model_fields["year"].default)
    if not isinstance(year, int) or isinstance(year, bool):
        return raw  # pydantic reports the bad value
    out = dict(raw)
    for section, keys in year_defaults(year).items():
        sec = out.get(section)
        if sec is None:
            sec = {}
        if not isinstance(sec, dict):
            continue
        sec = dict(sec)
        for key, value in keys.items():
            if sec.get(key) is None:
                sec[key] = value
        out[section] = sec
    return out


def load_config(path: str | Path | None = None, **overrides: object) -> StarConfig:
    """Load a YAML configuration file (default: the shipped defaults) and validate it.

    ``overrides`` are dotted keys, e.g. ``load_config(p, **{"synthetic.size": "tiny"})``.

    Raises
    ------
    ConfigError
        Naming the file and every invalid key.
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    try:
        return StarConfig.model_validate(_fill_year_defaults(raw))
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise ConfigError(f"{path}: invalid configuration:\n" + "\n".join(lines)) from exc


def config_hash(config: StarConfig) -> str:
    """SHA-256 of the configuration's canonical JSON form (stable across runs and machines)."""
    payload = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()

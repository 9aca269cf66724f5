"""Effects of case-worker changes and conversations, and policy scenarios (results/effects).

Reads the hovedveje cohort's start-stop frame (derive stage) and the validated conversations and
case-worker assignments, builds the monthly analysis frame (:func:`analysis.effects.study.
prepare_frame`) and writes, each table through :func:`analysis.disclosure.assert_publishable`:

``estimates.csv``
    ``exposure, outcome, estimator, estimate, conf_low, conf_high, std_error, n_events``:
    cause-specific hazard ratios (job, førtidspension, ressourceforløb) of case-worker changes in
    the last 12 months and job conversations in the last 3 months by the naive, adjusted, MSM
    (stabilised IPT weights), doubly robust (``dr_msm``: weighted Cox with the adjusted model's
    terms and cross-fitted flexible weights) and departure estimators. Estimates from fewer than
    ``disclosure.threshold`` events and
    degenerate fits (hazard ratio outside [1e-3, 1e3]) are left empty.
``job_probability_12m.csv``
    implied relative change in the probability of a job within 12 months (to set against BIP's
    -22 % per change).
``estimates_by_group.csv``
    ``grouping, group, exposure, outcome, estimator, estimate, conf_low, conf_high, std_error,
    n_events``: job-exit hazard ratios of both exposures by the adjusted estimator within
    seniority groups, target groups and match groups at entry (effect modification; groups
    with fewer than ``effects.group_min_events`` job exits are left out).
``evalues.csv``
    E-values of every estimate.
``weights.csv``
    distribution of the MSM weights per exposure (percentiles as means of ``threshold`` order
    statistics).
``scenarios.csv``
    g-computation scenarios over two years: extra persons in job, person-years saved on KH and
    the saving at the configured (assumed) cost per person-year; for the whole cohort.
``simulation.csv``
    copy of the coverage study's summary (``benchmarks/bench_effects.py``) when it exists.

The comparison with a synthetic register's true effects is :func:`pipelines.recovery.
recovery_effects` (``results/recovery/effects``); this stage does not read it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.disclosure import safe_quantile
from analysis.effects.study import (
    CAUSES,
    ESTIMATE_COLUMNS,
    estimate_effects,
    estimates_by_group,
    evalue_table,
    job_probability_table,
    municipal_caseload,
    policy_scenarios,
    prepare_frame,
)
from pipelines.config import StarConfig
from pipelines.publish import write_table

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

HR_RANGE = (1e-3, 1e3)
"""Hazard ratios outside this range come from fits without information (e.g. a departure design
with almost no departure changes before the exit) and are not published."""


def sample_persons(
    frame: pd.DataFrame, max_persons: int | None, seed: int
) -> tuple[pd.DataFrame, float]:
    """A simple random sample of ``max_persons`` persons (all their months) when the frame has
    more, and the factor from the sample to the whole frame (1 without sampling)."""
    ids = pd.unique(frame["person_id"])
    if max_persons is None or len(ids) <= max_persons:
        return frame, 1.0
    rng = np.random.default_rng(seed)
    keep = rng.choice(ids, size=max_persons, replace=False)
    out = frame[frame["person_id"].isin(set(keep))].reset_index(drop=True)
    return out, len(ids) / max_persons


PUBLISHED_COLUMNS: tuple[str, ...] = tuple(c for c in ESTIMATE_COLUMNS if c != "truth")
"""Columns of the published estimates (the estimators' table without its ``truth`` column)."""


def publishable_estimates(estimates: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Estimates with too few events or outside :data:`HR_RANGE` blanked (kept as rows); the
    grouping columns of a by-group table (``grouping, group``) come first."""
    e = estimates.copy()
    lo, hi = HR_RANGE
    bad = (
        (e["n_events"] < threshold) | ~e["estimate"].between(lo, hi) | ~np.isfinite(e["std_error"])
    )
    e.loc[bad, ["estimate", "conf_low", "conf_high", "std_error"]] = np.nan
    e["n_events"] = e["n_events"].where(e["n_events"] >= threshold)
    keys = [c for c in ("grouping", "group") if c in e.columns]
    return e[[*keys, *PUBLISHED_COLUMNS]]


def weights_table(fitted: dict, threshold: int) -> pd.DataFrame:
    """Distribution of the MSM weights of each exposure (one fit per exposure)."""
    rows = []
    seen: set[str] = set()
    for (exposure, _outcome, method), res in fitted.items():
        if method != "msm_iptw" or res.weights is None or exposure in seen:
            continue
        seen.add(exposure)
        d = res.weights.distribution(quantile=lambda v, q: safe_quantile(v, q, threshold))
        rows.append(d.assign(exposure=exposure))
    cols = ["exposure", "weight", "p01", "p25", "p50", "p75", "p99", "mean", "truncated_share"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


class EffectsData(NamedTuple):
    """What the effects models are fitted on (:func:`load_effects_data`)."""

    frame: pd.DataFrame
    """Person-month frame of :func:`analysis.effects.study.prepare_frame` (sampled persons)."""
    assignments: pd.DataFrame
    """Every case-worker assignment of the register (not only the cohort's)."""
    scale: float
    """Cohort persons per sampled person (1 without sampling)."""
    cohort_ids: set[str]
    """Person ids of the whole cohort (the disclosure audit checks outputs against them)."""


def load_effects_data(
    validated_dir: str | Path, derived_dir: str | Path, config: StarConfig | None = None
) -> EffectsData:
    """Read the stock cohort's start-stop frame, sample it (``effects.max_persons``), attach its
    conversations and the case-worker assignments, and build the person-month frame.

    Parameters
    ----------
    validated_dir
        Ingest output (``conversations.parquet``, ``caseworker_assignments.parquet``,
        ``benefit_spells.parquet``: the match group of each case).
    derived_dir
        Derive output (``start_stop.parquet``).
    config
        Sections ``cohorts`` (``stock_quarter``), ``effects`` (``max_persons``); ``seed``.
    """
    config = config or StarConfig()
    ss = pd.read_parquet(Path(derived_dir) / "start_stop.parquet")
    cohort = config.cohorts.stock_quarter
    if "cohort" in ss.columns:
        ss = ss[ss["cohort"].astype(str) == cohort]
    if ss.empty:
        raise ValueError(f"the start-stop frame has no rows of cohort {cohort}")
    ss = ss.assign(person_id=ss["person_id"].astype(str))
    cohort_ids = set(ss["person_id"].unique())
    # sample persons before anything is built (memory: national cohorts and their conversations)
    ss, scale = sample_persons(ss, config.effects.max_persons, config.seed)
    if scale > 1:
        log.info(
            "effects: a random sample of %d persons (1 in %.2f of the cohort; effects.max_persons)",
            config.effects.max_persons,
            scale,
        )
    ids = sorted(ss["person_id"].unique())
    v = Path(validated_dir)
    conv = pd.read_parquet(
        v / "conversations.parquet",
        columns=["person_id", "conversation_date", "conversation_type"],
        filters=[("person_id", "in", ids)],
    )
    # all assignments: whether a case worker left is seen from every client, not only the cohort's
    asg = pd.read_parquet(
        v / "caseworker_assignments.parquet",
        columns=["person_id", "caseworker_id", "municipality_id", "start_date", "end_date"],
    )
    spells = pd.read_parquet(
        v / "benefit_spells.parquet",
        columns=["person_id", "start_date", "match_group"],
        filters=[("person_id", "in", ids)],
    )
    return EffectsData(prepare_frame(ss, conv, asg, spells), asg, scale, cohort_ids)


def run_effects(
    validated_dir: str | Path,
    derived_dir: str | Path,
    out_dir: str | Path,
    config: StarConfig | None = None,
    *,
    progress: Progress | None = None,
) -> list[Path]:
    """Run the effects analysis and write its tables (see the module docstring).

    Parameters
    ----------
    validated_dir
        Ingest output (``conversations.parquet``, ``caseworker_assignments.parquet``).
    derived_dir
        Derive output (``start_stop.parquet``: the hovedveje cohort's start-stop frame).
    out_dir
        Where the tables go (``results/effects``).
    config
        Sections ``effects``, ``cohorts``, ``disclosure``; ``seed``.
    progress
        Optional ``progress(step, done, total)``.
    """
    config = config or StarConfig()
    opt = config.effects
    thr = config.disclosure.threshold
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    steps = ["frame", "estimates", "scenarios", "tables"]

    def say(i: int) -> None:
        log.info("effects: %s", steps[i])
        if progress:
            progress(steps[i], i, len(steps))

    say(0)
    data = load_effects_data(validated_dir, derived_dir, config)
    frame, asg, scale = data.frame, data.assignments, data.scale

    def write(df: pd.DataFrame, name: str) -> Path:
        return write_table(df, out / name, thr, data.cohort_ids, float_format="%.10g")

    say(1)
    estimates, fitted = estimate_effects(frame, causes=CAUSES)
    pub = publishable_estimates(estimates, thr)
    job = job_probability_table(frame, estimates[estimates["n_events"] >= thr])
    written = [
        write(pub, "estimates.csv"),
        write(job, "job_probability_12m.csv"),
        write(
            publishable_estimates(
                estimates_by_group(frame, min_events=max(thr, opt.group_min_events)),
                thr,
            ),
            "estimates_by_group.csv",
        ),
        write(evalue_table(pub.dropna(subset=["estimate"])), "evalues.csv"),
        write(weights_table(fitted, thr), "weights.csv"),
    ]

    say(2)
    on = pd.Timestamp(config.cohorts.reference_date)
    scen, details = policy_scenarios(
        frame,
        caseload=municipal_caseload(asg, on),
        cost_per_person_year=opt.cost_per_person_year_dkk,
        horizon=opt.horizon_months,
        n_draws=opt.n_draws,
        seed=config.seed,
    )
    counts = [
        c
        for c in scen.columns
        if c.startswith(("extra_in_job", "person_years", "saving_dkk", "in_job"))
    ]
    scen[counts] = scen[counts] * scale  # from the sample to the whole cohort
    log.info("effects: scenario multipliers %s", details.get("caseload_multipliers"))
    written.append(write(scen, "scenarios.csv"))

    say(3)
    if opt.simulation_summary is not None and Path(opt.simulation_summary).exists():
        sim = pd.read_csv(opt.simulation_summary)
        written.append(write(sim, "simulation.csv"))
    return written


def run_stage(ctx, out: Path) -> None:
    """Adapter for :class:`pipelines.run.Stage` (output ``ctx.results_dir / "effects"``)."""
    run_effects(ctx.validated_dir, ctx.derived_dir, out, ctx.config, progress=ctx.progress)

"""The transitions stage: derived frames -> ``results/transitions/*.csv`` + figures.

Input (``derived_dir``, the derive stage's output): ``person_month.parquet`` (the frame cohort,
default the 2018Q1 stock followed two years), ``sequences.parquet`` and ``cohorts.parquet``.

Steps

1. Model frame (:func:`analysis.transitions.frames.model_frame`): months in the current state
   (seniority on KH), clock, person and exposure terms; person-months beyond ``max_age`` dropped.
2. Monthly transition models (one multinomial logit per origin, staying = reference, cluster-
   robust SEs by person) on the same person-months: ``markov`` (state only), ``markov_seniority``
   (+ months in state), ``characteristics`` (+ characteristics, age, period),
   ``characteristics_seniority`` (both: the forecast model) and ``full`` (+ the KH exposures at
   the month's first day). Destinations with fewer than ``min_moves`` moves from an origin get an
   intercept-only model; a ridge ``penalty`` keeps rare-cell estimates finite.
3. Calibration: every cohort member's monthly path is microsimulated from entry (covariates at
   entry, seniority and age updated along the path, ``n_simulations`` paths each) with each model,
   and the predicted share in each state per half-year is compared with the observed share
   (predominant state of the half-year's months, ties by the state priority; and the state in
   the half-year's last month). The half-year model (sequences) is checked against the derived
   sequences themselves.
4. Profiles: one-month transition matrices and predicted pathways over ``pathway_half_years``
   (exact Markov chain on state x months in state, from the full model with the profile's
   exposures held fixed while on KH), with parametric-bootstrap bands.
5. Hovedveje: state distribution per half-year, most frequent sequences and half-year flows, by
   seniority group at entry; multi-state Aalen-Johansen occupation curves from KH by seniority
   group (seniority time scale with delayed entry, and months since entry).
6. ``simulation.csv`` is the summary of the repeated-draw recovery study
   (``benchmarks/bench_transitions_recovery.py``), copied when present. The comparison of the full
   model (+ true subgroup) with a synthetic register's parameters is
   :func:`pipelines.recovery.recovery_transitions` (``results/recovery/transitions``); this stage
   does not read the synthetic truth.

Files (person counts through :mod:`analysis.disclosure`; every table checked with
:func:`~analysis.disclosure.assert_publishable`): ``coefficients.csv``, ``model_fit.csv``,
``markov_comparison.csv``, ``calibration.csv`` (forecast model, predominant rule: the table the
technical report shows), ``calibration_models.csv`` (every model and rule),
``transition_matrices.csv``, ``predicted_pathways.csv``, ``profiles.csv``,
``state_distribution.csv``, ``sequences.csv``, ``flows.csv``, ``state_occupation.csv``,
``state_occupation_entry.csv``, ``transition_probabilities.csv`` (``P(s, t)`` with CIs, see
:func:`transition_probability_table`), ``halfyear_coefficients.csv``; figures ``state_distribution.png``,
``flows.png``, ``state_occupation.png``, ``predicted_pathways.png``, ``calibration.png``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import yaml

from analysis.disclosure import suppress
from analysis.transitions import (
    BASE_TERMS,
    DEFAULT_PROFILES,
    DURATION_TERMS,
    EXPOSURE_TERMS,
    NoStayersError,
    TransitionModel,
    TransitionModelResult,
    calibration_table,
    compare_models,
    model_frame,
    paths_frame,
    predict_occupation,
    profile_frame,
    simulate_paths,
    sojourns,
)
from analysis.transitions.checks import CALIBRATION_SUPPRESSION
from analysis.transitions.frames import half_year_states
from analysis.transitions.halfyear import (
    half_year_frame,
    predict_half_year_occupation,
    seniority_terms,
    step_terms,
)
from analysis.transitions.plots import (
    plot_calibration,
    plot_flows,
    plot_occupation,
    plot_pathways,
    plot_state_distribution,
)
from analysis.transitions.sequences import (
    DISTRIBUTION_SUPPRESSION,
    FLOW_SUPPRESSION,
    SEQUENCE_SUPPRESSION,
    frequent_sequences,
    half_year_flows,
    occupation_curves,
    publishable_occupation,
    state_distribution,
)
from data_schema.codes import SENIORITY_GROUPS, STATES, label
from data_schema.mapping import StateMapping, load_state_mapping
from pipelines.config import StarConfig
from pipelines.publish import save_figure, write_table

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

GROUP = "seniority_group_entry"
"""Grouping column of the hovedveje tables and curves (seniority group at cohort entry)."""
SENIORITY_LEVELS = tuple(code for code, *_ in SENIORITY_GROUPS)
ABSORBING = ("fp", "dead_or_emigrated")
N_HALF_YEARS = 4


def model_specs(with_subgroup: tuple[str, ...] = ()) -> dict[str, dict[str, list[str]]]:
    """Covariates of the nested monthly models, ``{name: {origin or '*': terms}}``."""
    base, dur, exp = list(BASE_TERMS), list(DURATION_TERMS), list(EXPOSURE_TERMS)
    sg = list(with_subgroup)
    return {
        "markov": {"*": []},
        "markov_seniority": {"*": dur},
        "characteristics": {"*": base + sg},
        "characteristics_seniority": {"*": base + dur + sg},
        "full": {"kh": base + dur + exp + sg, "*": base + dur + sg},
    }


NESTING = {
    "markov_seniority": "markov",
    "characteristics": "markov",
    "characteristics_seniority": "characteristics",
    "full": "characteristics_seniority",
}
FORECAST_MODEL = "characteristics_seniority"


FIGURE_LANG = "en"
"""Language of the stage's working figures. Fixed, not the report language: the documents draw
their own figures from the tables, and changing their language must not rerun the models."""


def _labels(lang: str) -> tuple[dict[str, str], None, Callable[[str], str]]:
    """State labels (data_schema.codes.STATES), no colours (the plots' default palette) and a
    seniority-group labeller for the stage's working figures."""
    states = {k: label(STATES, k, lang) for k in STATES}
    sen = {code: (da if lang == "da" else en) for code, _lo, _hi, da, en in SENIORITY_GROUPS}
    sen["all"] = "Alle" if lang == "da" else "All"
    return states, None, lambda g: sen.get(g, g)


def load_profiles(path: Path | None) -> Mapping[str, Mapping[str, object]]:
    """Profiles from a YAML file (``{key: {label_da, label_en, sex, ...}}``) or the shipped ones."""
    if path is None:
        return DEFAULT_PROFILES
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected a mapping of profiles")
    return data


def _free_terms(data: pd.DataFrame, min_moves: int) -> dict[str, dict[str, list[str]]]:
    """Intercept-only destinations (fewer than ``min_moves`` moves) per origin."""
    free: dict[str, dict[str, list[str]]] = {}
    moved = data[data["next_state"] != data["state"]]
    counts = moved.groupby(["state", "next_state"]).size()
    for (o, d), c in counts.items():
        if c < min_moves:
            free.setdefault(o, {})[d] = ["intercept"]
    return free


def fit_models(
    mf: pd.DataFrame,
    specs: dict[str, dict[str, list[str]]],
    config: StarConfig,
    states: list[str],
    progress: Callable[[str], None] | None = None,
    start: Mapping[str, TransitionModelResult] | None = None,
) -> dict[str, TransitionModelResult]:
    """Fit every model of ``specs`` on the same person-months (complete in all covariates).

    A model nested in an earlier one of ``specs`` (see ``NESTING``) starts Newton-Raphson from
    that fit (fewer iterations, same estimates); ``start`` gives starting fits by model name
    (e.g. the register model when refitting it with the true subgroups).
    """
    opt = config.transitions
    terms = sorted({t for spec in specs.values() for v in spec.values() for t in v})
    rows = mf[mf["next_state"].notna()]
    rows = rows[rows[terms].notna().all(axis=1)] if terms else rows
    free = _free_terms(rows, opt.min_moves)
    est = TransitionModel(penalty=opt.penalty)
    fits = {}
    for name, spec in specs.items():
        if progress:
            progress(name)
        begin = (start or {}).get(name) or fits.get(NESTING.get(name, ""))
        fits[name] = est.fit(
            rows,
            "state",
            "next_state",
            spec,
            cluster="person_id",
            states=states,
            absorbing=[s for s in ABSORBING if s in states],
            free=free,
            start=begin,
        )
    return fits


def _moves_table(mf: pd.DataFrame) -> pd.Series:
    m = mf[mf["next_state"].notna() & (mf["next_state"] != mf["state"])]
    return m.groupby(["state", "next_state"]).size()


def coefficient_table(fit: TransitionModelResult, moves: pd.Series, threshold: int) -> pd.DataFrame:
    """Tidy coefficients with ``n_moves`` (observed moves origin -> destination) and the odds
    ratio; estimates of destinations with fewer than ``threshold`` moves are blanked (an
    intercept-only model of 2 moves reveals the count)."""
    t = fit.tidy()
    t["odds_ratio"] = np.exp(t["estimate"])
    t["n_moves"] = [
        int(moves.get((o, d), 0)) for o, d in zip(t["origin"], t["destination"], strict=True)
    ]
    small = (t["n_moves"] > 0) & (t["n_moves"] < threshold)
    cols = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "odds_ratio"]
    t.loc[small, cols] = np.nan
    t["n_moves"] = t["n_moves"].astype("Int64").mask(small)
    t["suppressed"] = small
    return t


def calibration_members(mf: pd.DataFrame, n_months: int) -> pd.DataFrame:
    """Entry rows of the members observed for all ``n_months`` months from entry (month_index 1)."""
    n = mf.groupby("person_id")["month_index"].transform("size")
    ok = (n >= n_months) & (mf["month_index"] == 1) & mf["duration_months"].notna()
    full = mf.loc[mf["month_index"] <= n_months].groupby("person_id")["month_index"].nunique()
    ids = full[full == n_months].index
    return mf[ok & mf["person_id"].isin(ids)].reset_index(drop=True)


def calibration_tables(
    fits: dict[str, TransitionModelResult],
    mf: pd.DataFrame,
    sequences: pd.DataFrame | None,
    priority: list[str],
    states: list[str],
    config: StarConfig,
) -> pd.DataFrame:
    """Observed vs predicted half-year occupation of the cohort for every model and rule
    (``model, rule, half_year, state, n, n_persons, observed, predicted, difference``); paths are
    simulated from at most ``transitions.calibration_max_persons`` members (a seeded sample)."""
    opt = config.transitions
    months = 6 * N_HALF_YEARS
    start = calibration_members(mf, months)
    ids = start["person_id"].unique()
    obs = mf[mf["person_id"].isin(ids) & (mf["month_index"] <= months)]
    sq = None
    if sequences is not None:
        sq = sequences[sequences["person_id"].isin(ids) & (sequences["half_year"] <= N_HALF_YEARS)]
    cap = opt.calibration_max_persons
    sim_start = start.sample(n=cap, random_state=config.seed) if cap and len(start) > cap else start
    frames = []
    for name, fit in fits.items():
        paths = simulate_paths(
            fit, sim_start, months - 1, n_rep=opt.n_simulations, seed=config.seed
        )
        pred = paths_frame(paths, fit.states)
        for rule in ("predominant", "end"):
            c = calibration_table(obs, pred, states, rule, priority, N_HALF_YEARS)
            frames.append(c.assign(model=name, rule=rule))
        if sq is not None:
            c = _calibration_against_sequences(sq, pred, states, priority)
            frames.append(c.assign(model=name, rule="sequences"))
    out = pd.concat(frames, ignore_index=True)
    return out[
        [
            "model",
            "rule",
            "half_year",
            "state",
            "n",
            "n_persons",
            "observed",
            "predicted",
            "difference",
        ]
    ]


def _calibration_against_sequences(
    sq: pd.DataFrame, pred: pd.DataFrame, states: list[str], priority: list[str]
) -> pd.DataFrame:
    """Observed = derived sequences (day-based predominant state); predicted = simulated paths
    classified by the month-based predominant rule."""
    p = half_year_states(pred, "predominant", priority, N_HALF_YEARS)
    o = pd.crosstab(sq["half_year"], sq["state"]).reindex(columns=states, fill_value=0)
    pr = pd.crosstab(p["half_year"], p["state"], normalize="index").reindex(
        columns=states, fill_value=0.0
    )
    rows = []
    for h in o.index:
        n = int(o.loc[h].sum())
        for s in states:
            rows.append((int(h), s, n, int(o.loc[h, s]), o.loc[h, s] / n if n else np.nan,
                         float(pr.loc[h, s]) if h in pr.index else np.nan))  # fmt: skip
    out = pd.DataFrame(
        rows, columns=["half_year", "state", "n", "n_persons", "observed", "predicted"]
    )
    out["difference"] = out["predicted"] - out["observed"]
    return out


def _suppress_calibration(cal: pd.DataFrame, threshold: int, keys: list[str]) -> pd.DataFrame:
    spec = dict(CALIBRATION_SUPPRESSION)
    spec["denominator_keys"] = [*keys, "half_year"]
    spec["partitions"] = [[*keys, "half_year"]]
    out = suppress(cal, threshold=threshold, **spec)
    out["difference"] = out["difference"].where(out["observed"].notna())
    return out


def pathway_tables(
    fit: TransitionModelResult,
    profiles: Mapping[str, Mapping[str, object]],
    config: StarConfig,
    start: pd.Timestamp,
    subgroup_levels: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Profile rows, one-month transition matrices and predicted pathways by half-year."""
    opt = config.transitions
    prof = profile_frame(profiles, start, subgroup_levels=subgroup_levels)
    rng = np.random.default_rng(config.seed)
    draws = (
        {o: m.draw_coefficients(opt.n_bootstrap, rng) for o, m in fit.models.items()}
        if opt.n_bootstrap
        else None
    )
    months = 6 * opt.pathway_half_years
    mats, paths = [], []
    for i in range(len(prof)):
        row = prof.iloc[[i]].reset_index(drop=True)
        key, da, en = row.loc[0, "profile"], row.loc[0, "label_da"], row.loc[0, "label_en"]
        tm = fit.transition_matrix(row).stack().rename("probability").reset_index()
        mats.append(tm.assign(profile_id=key, profile=da, profile_en=en))
        pred = predict_occupation(fit, row, months, coef_draws=draws)
        at = pred.at_months([6 * k - 1 for k in range(1, opt.pathway_half_years + 1)])
        at["half_year"] = (at["month"] + 1) // 6
        paths.append(at.assign(profile_id=key, profile=da, profile_en=en))
    cols = ["profile_id", "profile", "profile_en"]
    mat = pd.concat(mats, ignore_index=True)
    mat = mat[cols + ["from", "to", "probability"]]
    pw = pd.concat(paths, ignore_index=True)
    pw = pw[
        cols
        + ["half_year", "month", "state", "probability"]
        + [c for c in ("conf_low", "conf_high") if c in pw]
    ]
    keep = ["profile", "label_da", "label_en", "sex", "origin", "education", "age", "seniority_months",
            "psychiatric_diagnosis", "substance_abuse_treatment", *EXPOSURE_TERMS]  # fmt: skip
    prof_out = prof[[c for c in keep if c in prof]].rename(columns={"profile": "profile_id"})
    return prof_out, mat, pw


class TransitionData(NamedTuple):
    """The derived frames of the transitions stage (:func:`load_frames`)."""

    pm: pd.DataFrame
    """Person-month frame of the frame cohort (``person_id`` as text)."""
    mf: pd.DataFrame
    """Model frame (:func:`analysis.transitions.model_frame`, ages above ``max_age`` dropped)."""
    seq: pd.DataFrame
    """Half-year sequences of the frame cohort."""
    cohort: pd.DataFrame
    """The frame cohort's rows of ``cohorts.parquet``."""
    cohort_label: str
    states: list[str]
    """States seen in the frame, in the mapping's priority order."""
    known_ids: set[str]
    """Person ids of the frame (the disclosure audit checks outputs against them)."""


def load_frames(
    derived_dir: str | Path, config: StarConfig, mapping: StateMapping
) -> TransitionData:
    """Read the derive stage's person-month frame, sequences and cohort and build the model frame.

    Raises
    ------
    ValueError
        The person-month frame has no rows after the age restriction.
    """
    derived_dir = Path(derived_dir)
    pm = pd.read_parquet(derived_dir / "person_month.parquet")
    pm["person_id"] = pm["person_id"].astype(str)
    known_ids = set(pm["person_id"].unique())
    cohort_label = str(pm["cohort"].iloc[0]) if len(pm) else ""
    seq = pd.read_parquet(derived_dir / "sequences.parquet")
    seq["person_id"] = seq["person_id"].astype(str)
    seq = seq[seq["cohort"] == cohort_label]
    cohorts = pd.read_parquet(derived_dir / "cohorts.parquet")
    cohorts["person_id"] = cohorts["person_id"].astype(str)
    cohort = cohorts[cohorts["cohort"] == cohort_label]
    seen = set(pm["state"].unique()) | set(pm["next_state"].dropna().unique())
    states = [s for s in mapping.state_codes if s in seen]
    mf = model_frame(pm, max_age=config.transitions.max_age)
    if mf.empty:
        raise ValueError("the person-month frame has no rows after the age restriction")
    return TransitionData(pm, mf, seq, cohort, cohort_label, states, known_ids)


def run_transitions(
    derived_dir: str | Path,
    results_dir: str | Path,
    config: StarConfig | None = None,
    *,
    mapping: StateMapping | None = None,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Run the transition analysis and write its tables and figures.

    Parameters
    ----------
    derived_dir
        Derive-stage output (``person_month.parquet``, ``sequences.parquet``,
        ``cohorts.parquet``).
    results_dir
        Results root; files go to ``<results_dir>/transitions`` unless ``out_dir`` is given.
    config
        Run configuration (sections ``transitions``, ``disclosure``, ``state_mapping``,
        ``seed``; the figures' language is :data:`FIGURE_LANG`, not the report's).
    mapping
        State mapping (priority order for half-year ties; default: the configured one).
    progress
        Optional ``progress(step, done, total)``.

    Returns
    -------
    Paths written.
    """
    config = config or StarConfig()
    mapping = mapping or load_state_mapping(config.state_mapping)
    opt = config.transitions
    thr = config.disclosure.threshold
    out = Path(out_dir) if out_dir is not None else Path(results_dir) / "transitions"
    out.mkdir(parents=True, exist_ok=True)
    derived_dir = Path(derived_dir)
    steps = ["frames", "models", "calibration", "half-year model", "profiles", "hovedveje"]
    steps += ["curves", "simulation"]
    done = 0

    def say(step: str) -> None:
        nonlocal done
        log.info("transitions: %s", step)
        if progress:
            progress(step, done, len(steps))
        done += 1

    say("frames")
    d = load_frames(derived_dir, config, mapping)
    pm, mf, seq, cohort, states, known_ids = d.pm, d.mf, d.seq, d.cohort, d.states, d.known_ids
    cohort_label, priority = d.cohort_label, list(mapping.state_codes)
    written: list[Path] = []
    lang = FIGURE_LANG
    state_labels, colours, group_label = _labels(lang)
    hy_label = "halvår" if lang == "da" else "half-year"

    say("models")
    specs = model_specs()
    if not opt.markov_comparison:
        specs = {k: v for k, v in specs.items() if k in (FORECAST_MODEL, "full")}
    fits = fit_models(mf, specs, config, states)
    full = fits["full"]
    moves = _moves_table(mf)
    written.append(
        write_table(coefficient_table(full, moves, thr), out / "coefficients.csv", thr, known_ids)
    )
    fs = full.fit_statistics().rename(columns={"rows": "person_months", "clusters": "n_persons"})
    fs = suppress(fs, ["n_persons"], denominator=None, threshold=thr)
    written.append(write_table(fs, out / "model_fit.csv", thr, known_ids))
    if opt.markov_comparison:
        mk = compare_models(fits, against=NESTING)
        written.append(write_table(mk, out / "markov_comparison.csv", thr, known_ids))

    say("calibration")
    cal = calibration_tables(fits, mf, seq, priority, states, config)
    say("half-year model")
    hy_cal, hy_coef = _half_year(seq, cohort, states, priority, config, moves_threshold=thr)
    if hy_cal is not None:
        cal = pd.concat([cal, hy_cal], ignore_index=True)
    cal_pub = _suppress_calibration(cal, thr, ["model", "rule"])
    written.append(write_table(cal_pub, out / "calibration_models.csv", thr, known_ids))
    main = cal_pub[(cal_pub["model"] == FORECAST_MODEL) & (cal_pub["rule"] == "predominant")]
    main = main.drop(columns=["model", "rule"]).assign(model=FORECAST_MODEL, rule="predominant")
    written.append(write_table(main, out / "calibration.csv", thr, known_ids))
    written.append(save_figure(plot_calibration(main.dropna(subset=["observed"]), priority, state_labels, colours),
                         out / "calibration.png"))  # fmt: skip
    if hy_coef is not None:
        written.append(write_table(hy_coef, out / "halfyear_coefficients.csv", thr, known_ids))

    say("profiles")
    profiles = load_profiles(opt.profiles)
    start = pd.Timestamp(pm["month"].min())
    prof, mats, pw = pathway_tables(full, profiles, config, start)
    written.append(write_table(prof, out / "profiles.csv", thr, known_ids))
    written.append(write_table(mats, out / "transition_matrices.csv", thr, known_ids))
    written.append(
        write_table(pw.assign(model="full"), out / "predicted_pathways.csv", thr, known_ids)
    )
    pw_fig = pw.assign(profile=pw["profile"] if lang == "da" else pw["profile_en"])
    written.append(
        save_figure(
            plot_pathways(pw_fig, priority, state_labels, colours, xlabel=hy_label),
            out / "predicted_pathways.png",
        )
    )

    say("hovedveje")
    written += _hovedveje(seq, cohort, cohort_label, states, priority, config, out, known_ids)
    say("curves")
    written += _occupation(pm, cohort, mf, states, priority, thr, out, known_ids)

    say("simulation")
    if opt.simulation_summary is not None and Path(opt.simulation_summary).exists():
        written.append(_simulation_summary(Path(opt.simulation_summary), thr, out, known_ids))
    import matplotlib.pyplot as plt

    plt.close("all")
    return written


def _simulation_summary(path: Path, thr: int, out: Path, known_ids: set[str]) -> Path:
    """``simulation.csv``: the repeated-draw recovery summary of the benchmark, rows with fewer
    than ``thr`` draws left out."""
    sim = pd.read_csv(path)
    # n_reps counts draws, not persons, but star audit reads every n_* column as a count
    few = sim["n_reps"] < thr
    if few.any():
        log.warning("transitions: %d recovery rows with fewer than %d draws left out",
                    int(few.sum()), thr)  # fmt: skip
    return write_table(sim[~few], out / "simulation.csv", thr, known_ids)


def _hovedveje(
    seq: pd.DataFrame,
    cohort: pd.DataFrame,
    cohort_label: str,
    states: list[str],
    priority: list[str],
    config: StarConfig,
    out: Path,
    known_ids: set[str],
) -> list[Path]:
    """The cohort's half-year state distribution, frequent sequences and flows (tables, figures)."""
    opt, thr = config.transitions, config.disclosure.threshold
    state_labels, colours, group_label = _labels(FIGURE_LANG)
    hy_label = "halvår" if FIGURE_LANG == "da" else "half-year"
    written: list[Path] = []
    seq_g = seq.merge(cohort[["person_id", "seniority_group"]].rename(columns={"seniority_group": GROUP}),
                      on="person_id", how="left")  # fmt: skip
    dist = state_distribution(seq_g, GROUP, states, N_HALF_YEARS)
    dist = suppress(dist, threshold=thr, **DISTRIBUTION_SUPPRESSION)
    dist.insert(0, "cohort", cohort_label)
    written.append(write_table(dist, out / "state_distribution.csv", thr, known_ids))
    top = frequent_sequences(seq_g, GROUP, opt.top_sequences, N_HALF_YEARS)
    top = suppress(top, threshold=thr, **SEQUENCE_SUPPRESSION)
    top.insert(0, "cohort", cohort_label)
    written.append(write_table(top, out / "sequences.csv", thr, known_ids))
    flows = half_year_flows(seq_g, GROUP, states, N_HALF_YEARS)
    flows = suppress(flows, threshold=thr, **FLOW_SUPPRESSION)
    flows.insert(0, "cohort", cohort_label)
    written.append(write_table(flows, out / "flows.csv", thr, known_ids))
    groups = ["all"] + [g for g in SENIORITY_LEVELS if g in set(dist["group"])]
    written.append(save_figure(plot_state_distribution(dist, groups, priority, state_labels, group_label, colours, xlabel=hy_label),
                         out / "state_distribution.png"))  # fmt: skip
    written.append(
        save_figure(
            plot_flows(dist, flows, "all", priority, state_labels, colours, xlabel=hy_label),
            out / "flows.png",
        )
    )
    return written


def _occupation(
    pm: pd.DataFrame,
    cohort: pd.DataFrame,
    mf: pd.DataFrame,
    states: list[str],
    priority: list[str],
    thr: int,
    out: Path,
    known_ids: set[str],
) -> list[Path]:
    """State occupation curves by seniority and since entry (tables, figure), on the model
    frame's person-months."""
    state_labels, colours, group_label = _labels(FIGURE_LANG)
    lang = FIGURE_LANG
    written: list[Path] = []
    pm_g = pm.merge(cohort[["person_id", "seniority_group"]].rename(columns={"seniority_group": GROUP}),
                    on="person_id", how="left") if GROUP not in pm else pm  # fmt: skip
    pm_g = pm_g[
        pm_g.set_index(["person_id", "month_index"]).index.isin(
            mf.set_index(["person_id", "month_index"]).index
        )
    ]
    occ_frames = {}
    for scale in ("seniority", "entry"):
        soj = sojourns(pm_g, time_scale=scale, group=GROUP)
        curves = occupation_curves(soj, GROUP, states)
        occ_frames[scale] = publishable_occupation(curves, thr, scale)
        if scale == "entry":
            tp = transition_probability_table(curves["all"], soj, *TP_WINDOW, thr)
            written.append(write_table(tp, out / "transition_probabilities.csv", thr, known_ids))
    written.append(
        write_table(occ_frames["seniority"], out / "state_occupation.csv", thr, known_ids)
    )
    written.append(
        write_table(occ_frames["entry"], out / "state_occupation_entry.csv", thr, known_ids)
    )
    occ_groups = ["all"] + [g for g in SENIORITY_LEVELS if g in set(occ_frames["entry"]["group"])]
    written.append(save_figure(plot_occupation(occ_frames["entry"], occ_groups, priority, state_labels, group_label,
                                         colours, xlabel="måneder siden indgang" if lang == "da" else "months since entry"),
                         out / "state_occupation.png"))  # fmt: skip
    return written


def _half_year(
    seq: pd.DataFrame,
    cohort: pd.DataFrame,
    states: list[str],
    priority: list[str],
    config: StarConfig,
    moves_threshold: int,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Half-year model fit and its calibration against the sequences."""
    opt = config.transitions
    if seq.empty or cohort.empty:
        return None, None
    hf = half_year_frame(seq, cohort, SENIORITY_LEVELS, N_HALF_YEARS, max_age=opt.max_age)
    terms = [t for t in (*BASE_TERMS[:-1], "age10", "age10_sq") if t in hf]
    terms = list(dict.fromkeys(terms))
    sen = [t for t in seniority_terms(SENIORITY_LEVELS) if t in hf]
    steps = [t for t in step_terms(N_HALF_YEARS) if t in hf]
    terms = [t for t in terms if t not in ("p_2020_2023", "age_ge55")] + sen + steps
    hf = hf[hf[terms].notna().all(axis=1)]
    moved = hf[hf["to_state"] != hf["from_state"]].groupby(["from_state", "to_state"]).size()
    free: dict[str, dict[str, list[str]]] = {}
    for (o, d), c in moved.items():
        if c < opt.min_moves:
            free.setdefault(o, {})[d] = ["intercept"]
    try:
        fit = TransitionModel(penalty=opt.penalty).fit(
            hf, "from_state", "to_state", terms, cluster="person_id", states=states,
            absorbing=[s for s in ABSORBING if s in states], free=free,
        )  # fmt: skip
    except NoStayersError as err:  # a state nobody stays in for a half-year (tiny registers)
        log.warning("half-year model skipped: %s", err)
        return None, None
    members = hf.drop_duplicates("person_id")
    pred = predict_half_year_occupation(fit, members, SENIORITY_LEVELS, N_HALF_YEARS)
    sq = seq[
        seq["person_id"].isin(members["person_id"].unique()) & (seq["half_year"] <= N_HALF_YEARS)
    ]
    o = pd.crosstab(sq["half_year"], sq["state"]).reindex(columns=states, fill_value=0)
    rows = []
    p = pred.set_index(["half_year", "state"])["predicted"]
    for h in o.index:
        n = int(o.loc[h].sum())
        for s in states:
            rows.append(("half_year", "sequences", int(h), s, n, int(o.loc[h, s]),
                         o.loc[h, s] / n if n else np.nan, float(p.get((int(h), s), np.nan))))  # fmt: skip
    cal = pd.DataFrame(
        rows,
        columns=["model", "rule", "half_year", "state", "n", "n_persons", "observed", "predicted"],
    )
    cal["difference"] = cal["predicted"] - cal["observed"]
    moves = moved.rename(None)
    coef = fit.tidy()
    coef["n_moves"] = [
        int(moves.get((a, b), 0)) for a, b in zip(coef["origin"], coef["destination"], strict=True)
    ]
    small = (coef["n_moves"] > 0) & (coef["n_moves"] < moves_threshold)
    num = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    coef.loc[small, num] = np.nan
    coef["n_moves"] = coef["n_moves"].astype("Int64").mask(small)
    return cal, coef


TP_WINDOW = (6.0, 18.0)  # (s, t) of P(s, t), months since cohort entry


def _states_at(soj: pd.DataFrame, u: float) -> pd.Series:
    """State of each person at time ``u`` from sojourn rows ``(entry, exit]`` (the state just
    after ``u``; after a person's last row: its ``to_state`` if it has one, else unknown)."""
    cover = soj[(soj["entry"] <= u) & (soj["exit"] > u)]
    state = cover.drop_duplicates("person_id").set_index("person_id")["from_state"]
    last = soj.sort_values("exit", kind="mergesort").drop_duplicates("person_id", keep="last")
    done = last[(last["exit"] <= u) & last["to_state"].notna()].set_index("person_id")["to_state"]
    return pd.concat([state, done[~done.index.isin(state.index)]])


def transition_probability_table(
    res, soj: pd.DataFrame, s: float, t: float, threshold: int
) -> pd.DataFrame:
    """Aalen-Johansen transition probability matrix ``P(s, t)`` of the whole cohort (months since
    entry) with infinitesimal-jackknife SEs and log-scale 95 % CIs
    (:meth:`analysis.multistate.MultiStateResult.transition_probabilities`; R ``survfit(...,
    start.time = s)``), from the sojourn rows ``soj`` the curves were fitted on.

    Disclosure: ``n_persons`` of cell ``(a, b)`` = persons in ``a`` at ``s`` and in ``b`` at
    ``t`` (observed at both times), ``n`` = their row total; the cells of a row partition ``n``
    (primary and complementary suppression; estimate, SE and limits blanked with their count).
    The estimate itself also uses the persons censored in between."""
    cols = ["s", "time", "from_state", "to_state", "n", "n_persons", "estimate", "std_error",
            "conf_low", "conf_high"]  # fmt: skip
    c = next(iter(res.curves.values()))
    if t <= s or not np.any(c.time > s):
        return pd.DataFrame(columns=cols)
    tp = res.transition_probabilities(s, t)
    both = pd.concat({"from_state": _states_at(soj, s), "to_state": _states_at(soj, t)}, axis=1)
    cells = both.dropna().value_counts().rename("n_persons").reset_index()
    tp = tp.merge(cells, on=["from_state", "to_state"], how="left")
    tp["n_persons"] = tp["n_persons"].fillna(0).astype(int)
    tp["n"] = tp.groupby("from_state")["n_persons"].transform("sum")
    tp = tp[cols]
    return suppress(
        tp,
        counts={"n_persons": ["estimate", "std_error", "conf_low", "conf_high"]},
        denominator="n",
        denominator_keys=["from_state"],
        partitions=[["from_state"]],
        threshold=threshold,
    )


def run_stage(ctx, out: Path) -> None:
    """Adapter for :class:`pipelines.run.Stage`: ``run=run_stage`` with output
    ``ctx.results_dir / "transitions"``, inputs ``[ctx.derived_dir]`` plus
    ``config.transitions.simulation_summary`` when it exists, and config sections
    ``("transitions", "disclosure", "state_mapping", "seed")``."""
    run_transitions(
        ctx.derived_dir, ctx.results_dir, ctx.config, out_dir=out, progress=ctx.progress
    )

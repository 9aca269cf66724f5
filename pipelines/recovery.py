"""Recovery studies of a synthetic register: the estimates set beside the generator's truth.

The production stages (transitions, subgroups, effects, benchmarking) never read a synthetic
register's ``ground_truth/``; these stages do, and run only when ``<raw_dir>/ground_truth/``
exists (:func:`pipelines.stages.run_stages` leaves them out otherwise, so a run on a real register
writes no ``results/recovery``). Each writes into ``results/recovery/<study>/``, every table
declared in :mod:`pipelines.results_registry`:

``transitions/recovery.csv`` (:func:`recovery_transitions`)
    the full monthly transition model with the true subgroup, refitted on the register-derived
    frame, against the generator's coefficients (``covered``: the 95 % interval contains the truth).
``subgroups/recovery.csv``, ``recovery_groups.csv``, ``pathways_truth.csv``, ``profiles_truth.csv``
    (:func:`recovery_subgroups`) adjusted Rand index of the latent classes (the chosen K of the
    subgroups stage's ``selection.csv``, refitted with the same options) and of an oracle that knows
    the true parameters; true subgroup -> matched class; the exit pathways and profiles in the true
    subgroup matched to each class (``method = truth``, to set beside the stage's
    ``pathways_corrected.csv`` / ``profiles_corrected.csv``).
``effects/estimates.csv``, ``estimates_by_group.csv`` (:func:`recovery_effects`)
    the effects stage's published estimates with the true hazard ratio
    (``parameters.json["true_effects"]``, :data:`analysis.effects.study.EXPOSURE_SPECS` truth key)
    and whether the interval covers it.
``benchmarking/recovery.csv`` (:func:`recovery_benchmarking`)
    correlation and coverage of the municipal O/E ratios (raw and shrunken) against the planted
    municipality effects.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.benchmarking import EmpiricalBayes, ratio_table
from analysis.disclosure import suppress
from analysis.effects.study import EXPOSURE_SPECS
from analysis.subgroups import infer_indicators, recovery, restrict, synthetic_oracle
from analysis.transitions import BASE_TERMS, model_frame
from analysis.transitions.frames import subgroup_terms
from data_schema.mapping import load_state_mapping
from pipelines.benchmarking import municipal_fits
from pipelines.config import StarConfig
from pipelines.publish import write_table
from pipelines.subgroups import (
    latent_class_model,
    pathway_frame,
    pathways_corrected,
    profiles_corrected,
    subgroup_data,
)
from pipelines.synthetic.design import SUBGROUPS  # the generator's, when parameters.json has none
from pipelines.transitions import fit_models, load_frames, model_specs

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- truth readers


def load_parameters(truth: Path) -> dict:
    """``parameters.json`` of a ground truth (``{}`` when absent)."""
    p = Path(truth) / "parameters.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def load_true_subgroups(truth: Path) -> pd.DataFrame | None:
    """``true_subgroups.parquet`` (or ``.csv``) of a ground truth, ``person_id`` as text."""
    names = ("true_subgroups.parquet", "true_subgroups.csv")
    sub = next((Path(truth) / n for n in names if (Path(truth) / n).exists()), None)
    if sub is None:
        return None
    df = pd.read_parquet(sub) if sub.suffix == ".parquet" else pd.read_csv(sub)
    df["person_id"] = df["person_id"].astype(str)
    return df


def load_true_effects(truth: Path | None) -> dict | None:
    """``true_effects`` of a ground truth's ``parameters.json`` (``None`` without one)."""
    if truth is None or not (Path(truth) / "parameters.json").exists():
        return None
    return load_parameters(truth).get("true_effects")


def true_subgroup_names(true: pd.DataFrame, params: dict) -> pd.Series:
    """True subgroup name by person id (class indices mapped to the generator's names)."""
    sp = _subgroup_params(params)
    raw = true.set_index("person_id")["subgroup"]
    if sp and pd.api.types.is_integer_dtype(raw.dtype):
        raw = raw.map(dict(enumerate(sp["origin"])))
    return raw.astype(str)


def _subgroup_params(params: dict) -> dict | None:
    return params.get("subgroups") or params.get("parameters", {}).get("subgroups")


# --------------------------------------------------------------------------- transitions

TERM_MATCH = {
    **{t: "same" for t in ("intercept", *BASE_TERMS[:-1], "age10", "age10_sq", "age_ge55")},
    "log_dur": "same (KH: seniority in the spell; other states: months since entering the state)",
    "dur_lt6": "same",
    "p_2020_2023": "same",
    "poor_health": "first day of the month (generator: any day of the month)",
    "cw_changes_12m": "365 days up to the month's first day (generator: calendar months m-11..m)",
    "conv_3m": "job conversations in the 91 days before the month (generator: calendar months m-2..m)",
    "in_activation": "offer on the month's first day (generator: any day of the month)",
    "paid_hours": "paid hours in the previous month (generator: this month)",
}
"""How each term of the register model matches the generator's definition."""


def transition_recovery_table(
    mf: pd.DataFrame, truth: Path, config: StarConfig, states: list[str]
) -> pd.DataFrame | None:
    """Full monthly model with the true subgroup, fitted on the register-derived model frame
    ``mf``, against the generator's coefficients (one draw; the repeated-draw study is the
    benchmark): the model's ``tidy()`` with ``truth`` (log-odds), ``covered``, ``definition`` and
    ``intercept_only``. ``None`` when the truth has no subgroups or transition parameters."""
    sub, params = load_true_subgroups(truth), load_parameters(truth)
    tr = params.get("transitions")
    if sub is None or not tr:
        log.warning("recovery: no true subgroups / transition parameters in %s", truth)
        return None
    levels = list((_subgroup_params(params) or {}).get("origin", {}) or SUBGROUPS)
    mfs = model_frame(
        mf.drop(columns=[c for c in mf.columns if c.startswith("sg_")] + ["subgroup"], errors="ignore"),
        max_age=config.transitions.max_age, subgroups=sub, subgroup_levels=levels,
    )  # fmt: skip
    spec = model_specs(subgroup_terms(levels))["full"]
    fit = fit_models(mfs, {"full": spec}, config, states)["full"]
    t = fit.tidy()
    t["truth"] = [float(tr.get(o, {}).get(d, {}).get(term, 0.0)) for o, d, term in
                  zip(t["origin"], t["destination"], t["term"], strict=True)]  # fmt: skip
    t["covered"] = (t["conf_low"] <= t["truth"]) & (t["truth"] <= t["conf_high"])
    t["definition"] = t["term"].map(
        lambda x: TERM_MATCH.get(x, "same" if x.startswith("sg_") else "?")
    )
    rare = {(o, d) for o, ds in fit.rare.items() for d in ds}
    t["intercept_only"] = [
        (o, d) in rare for o, d in zip(t["origin"], t["destination"], strict=True)
    ]
    return t


def recovery_transitions(
    derived_dir: str | Path, truth: str | Path, out_dir: str | Path, config: StarConfig
) -> list[Path]:
    """Write ``recovery.csv`` of the transition models (:func:`transition_recovery_table`).

    Parameters
    ----------
    derived_dir
        Derive-stage output (``person_month.parquet``, ``sequences.parquet``, ``cohorts.parquet``).
    truth
        The synthetic register's ``ground_truth/`` (``true_subgroups.parquet``,
        ``parameters.json``).
    out_dir
        ``results/recovery/transitions``.
    config
        Sections ``transitions``, ``disclosure``, ``state_mapping``; ``seed``.
    """
    d = load_frames(derived_dir, config, load_state_mapping(config.state_mapping))
    rec = transition_recovery_table(d.mf, Path(truth), config, d.states)
    if rec is None:
        return []
    thr = config.disclosure.threshold
    path = Path(out_dir) / "recovery.csv"
    return [write_table(rec, path, thr, d.known_ids, table="transition_recovery")]


# --------------------------------------------------------------------------- subgroups


def chosen_k(subgroups_dir: str | Path) -> int:
    """The number of classes the subgroups stage chose (``selection.csv``, ``chosen``)."""
    sel = pd.read_csv(Path(subgroups_dir) / "selection.csv")
    chosen = sel.loc[sel["chosen"].astype(str) == "True", "k"]
    if chosen.empty:
        raise ValueError(f"{subgroups_dir}/selection.csv has no chosen number of classes")
    return int(chosen.iloc[0])


def recovery_subgroups(
    validated_dir: str | Path,
    derived_dir: str | Path,
    subgroups_dir: str | Path,
    truth: str | Path,
    out_dir: str | Path,
    config: StarConfig,
) -> list[Path]:
    """Recovery of the true subgroups by the latent class model of the subgroups stage.

    The model with the K of ``selection.csv`` is refitted with the stage's options
    (:func:`pipelines.subgroups.latent_class_model`: same data, starts and seed, so the same
    classes; the class sizes are checked against ``sizes.csv``).

    Parameters
    ----------
    validated_dir, derived_dir
        Inputs of the subgroups stage.
    subgroups_dir
        The subgroups stage's output (``selection.csv``, ``sizes.csv``, ``labels.csv``).
    truth
        The synthetic register's ``ground_truth/``.
    out_dir
        ``results/recovery/subgroups``.
    config
        Sections ``subgroups``, ``disclosure``, ``extract_window``, ``state_mapping``; ``seed``.
    """
    opt, thr = config.subgroups, config.disclosure.threshold
    true_df, par = load_true_subgroups(Path(truth)), load_parameters(Path(truth))
    if true_df is None:
        log.warning("recovery: no true_subgroups file in %s; subgroup recovery skipped", truth)
        return []
    d = subgroup_data(validated_dir, derived_dir, config, load_state_mapping(config.state_mapping))
    data, k = d.data, chosen_k(subgroups_dir)
    spec = infer_indicators(data, {c: "categorical" for c in opt.indicators})
    fit = latent_class_model(config, k).fit(data, spec)
    _check_sizes(fit.classes, k, Path(subgroups_dir))
    true = true_subgroup_names(true_df, par).reindex(data.index)
    out, written = Path(out_dir), []

    def write(df: pd.DataFrame, name: str, table: str) -> None:
        written.append(write_table(df, out / name, thr, d.known_ids, table=table))

    tables = subgroup_recovery_tables(data, fit, true, par, list(opt.indicators), thr)
    if tables is not None:
        write(tables[0], "recovery.csv", "subgroup_recovery")
        write(tables[1], "recovery_groups.csv", "subgroup_recovery_groups")
    post = pd.DataFrame(fit.posterior, index=data.index)
    groups = pd.Series(fit.classes.astype(str), index=data.index, name="group")
    frame = pathway_frame(d.members, groups, d.spells, config)
    pw = pathways_corrected(post, frame, opt.horizons_years, true, threshold=thr)
    write(_truth_rows_only(pw, subgroups_dir), "pathways_truth.csv", "subgroup_pathways_truth")
    pr = profiles_corrected(post, data, list(opt.profile_indicators), true, threshold=thr)
    pr = _truth_rows_only(pr, subgroups_dir, label_cols=("label",))
    write(pr, "profiles_truth.csv", "subgroup_profiles_truth")
    return written


def _check_sizes(classes: np.ndarray, k: int, subgroups_dir: Path) -> None:
    """Warn when the refitted classes' sizes differ from the subgroups stage's ``sizes.csv``."""
    p = subgroups_dir / "sizes.csv"
    if not p.exists():
        return
    pub = pd.read_csv(p).set_index(pd.read_csv(p)["group"].astype(str))["n_persons"]
    mine = pd.Series(
        np.bincount(classes, minlength=k + 1)[1:], index=[str(j) for j in range(1, k + 1)]
    )
    both = pub.dropna().index.intersection(mine.index)
    if not (pub[both].astype(int) == mine[both]).all():
        log.warning("recovery: the refitted latent classes differ from the subgroups stage's")


def _truth_rows_only(
    t: pd.DataFrame,
    subgroups_dir: str | Path,
    label_cols: tuple[str, ...] = ("label", "label_da", "label_en"),
) -> pd.DataFrame:
    """The ``method = truth`` rows of a corrected table, with the stage's class labels."""
    t = t[t["method"] == "truth"].reset_index(drop=True)
    lab_path = Path(subgroups_dir) / "labels.csv"
    lab = (
        pd.read_csv(lab_path, dtype={"group": str}).set_index("group")
        if lab_path.exists()
        else None
    )
    for i, col in enumerate(label_cols):  # after the keys, where the subgroups stage puts them
        values = t["group"].map(lab[col]) if lab is not None and col in lab else ""
        t.insert(2 + i, col, values)
    return t


def subgroup_recovery_tables(
    data: pd.DataFrame,
    fit,
    true: pd.Series,
    par: dict,
    indicators: list[str],
    thr: int,
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``recovery.csv`` (ARI of the latent classes and of the oracle) and ``recovery_groups.csv``
    (true subgroup -> matched class, sizes) for the persons of ``data`` with a true subgroup."""
    sp = _subgroup_params(par)
    ok = true.notna().to_numpy()
    if not ok.any():
        log.warning("recovery: no member of the subgroup population is in the ground truth")
        return None
    shares = true[ok].value_counts(normalize=True).to_dict()
    names = list(sp["origin"]) if sp else sorted(shares)
    if sp:
        oracle, names_t = synthetic_oracle(sp, shares, names)
        usable = [c for c in indicators if c in {s.name for s in oracle.indicators}]
        oracle_cls = restrict(oracle, usable).predict(data[ok])
        oracle_lab = np.asarray(names_t)[oracle_cls - 1]
    else:
        log.warning("recovery: parameters.json has no 'subgroups' section; no oracle")
        oracle_lab = np.full(int(ok.sum()), "?")
    measures, grp = recovery(
        true[ok].to_numpy(),
        fit.classes[ok],
        oracle_lab,
        recovered_sizes=fit.weights,
        true_names=names,
    )
    m = measures.set_index("measure")["value"]
    rec = pd.DataFrame(
        {
            "method": ["latent_class", "oracle"],
            "ari": [m["ari_recovered"], m["ari_oracle"]],
            "classes": [int(m["classes_recovered"]), int(m["classes_true"])],
            "ratio_to_oracle": [m["ratio"], 1.0],
            "n": int(ok.sum()),
        }
    )
    grp["n"] = (
        true[ok].value_counts().reindex(grp["subgroup"]).fillna(0).astype("int64")
    ).to_numpy()
    grp = suppress(grp, {"n": ["true_share"]}, denominator=None, threshold=thr, complement=False)
    return rec, grp


# --------------------------------------------------------------------------- effects


def with_true_effects(estimates: pd.DataFrame, true_effects: dict) -> pd.DataFrame:
    """``estimates`` (the effects stage's published table) with ``truth``, the true hazard ratio
    ``true_effects[<truth key>]["kh-><outcome>"]["hazard_ratio_approx"]`` (empty where the truth
    has none), and ``covered`` (the 95 % interval contains it; empty where either is missing)."""
    key = {s.name: s.truth_key for s in EXPOSURE_SPECS}

    def true_hr(exposure: str, outcome: str) -> float:
        k = key.get(exposure)
        eff = true_effects.get(k, {}) if k else {}
        return float(eff.get(f"kh->{outcome}", {}).get("hazard_ratio_approx", np.nan))

    e = estimates.copy()
    e["truth"] = [true_hr(x, o) for x, o in zip(e["exposure"], e["outcome"], strict=True)]
    known = e["truth"].notna() & e["conf_low"].notna() & e["conf_high"].notna()
    cov = (e["conf_low"] <= e["truth"]) & (e["truth"] <= e["conf_high"])
    e["covered"] = pd.array(cov.where(known, pd.NA), dtype="boolean")
    return e


def recovery_effects(
    effects_dir: str | Path, truth: str | Path, out_dir: str | Path, config: StarConfig
) -> list[Path]:
    """Write the effects stage's ``estimates.csv`` and ``estimates_by_group.csv`` with the true
    hazard ratios (:func:`with_true_effects`) into ``out_dir`` (``results/recovery/effects``)."""
    true_effects = load_true_effects(Path(truth))
    if not true_effects:
        log.warning(
            "recovery: no true_effects in %s/parameters.json; effects recovery skipped", truth
        )
        return []
    thr, written = config.disclosure.threshold, []
    for name, table in (("estimates.csv", "effect_recovery"),
                        ("estimates_by_group.csv", "effect_recovery_by_group")):  # fmt: skip
        src = Path(effects_dir) / name
        if not src.exists():
            continue
        est = pd.read_csv(src, dtype={"group": str})
        rec = with_true_effects(est, true_effects)
        written.append(
            write_table(rec, Path(out_dir) / name, thr, None, float_format="%.10g", table=table)
        )
    return written


# --------------------------------------------------------------------------- benchmarking


def municipal_recovery(
    raw: pd.DataFrame, effects: dict, cause: str, conf_level: float
) -> list[dict]:
    """Correlation and coverage of the raw and shrunken O/E ratios of ``raw`` (one row per
    municipality: ``municipality_id, observed, expected``) against the planted log effects
    ``effects[cause]`` (municipality code -> log-odds), over municipalities expecting at least one
    exit; the true ratio is relative to the expected-weighted mean of the effects."""
    eff = effects.get(cause)
    if not eff:
        return []
    d = raw[raw["expected"] >= 1].copy()  # municipalities expecting at least one exit
    d["true_log"] = d["municipality_id"].astype(int).astype(str).map(eff).astype(float)
    d = d.dropna(subset=["true_log"])
    if len(d) < 3:
        return []
    w = d["expected"].to_numpy()
    true_ratio = (np.exp(d["true_log"]) / (np.sum(w * np.exp(d["true_log"])) / w.sum())).to_numpy()
    lt = np.log(true_ratio)
    t = ratio_table(d["observed"], d["expected"], conf_level)
    est = {"raw": (np.log((d["observed"] + 0.5) / d["expected"]), t["conf_low"], t["conf_high"])}
    for method in ("gamma_poisson", "normal_dl"):
        eb = EmpiricalBayes(method, conf_level).fit(d["observed"], d["expected"]).table
        est[method] = (np.log(eb["shrunken"]), eb["conf_low"], eb["conf_high"])
    rows = []
    for name, (le, lo, hi) in est.items():
        le = np.asarray(le, float)
        cover = (np.asarray(lo) <= true_ratio) & (true_ratio <= np.asarray(hi))
        rows.append(
            {
                "cause": cause,
                "estimator": name,
                "municipalities": len(d),
                "correlation": _wcorr(le, lt),
                "correlation_weighted": _wcorr(le, lt, w),
                "rmse_log": float(np.sqrt(np.mean((le - lt) ** 2))),
                "coverage": float(cover.mean()),
                "conf_level": conf_level,
                "true_sd_log": float(np.std(lt)),
            }
        )
    return rows


def _wcorr(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted Pearson correlation; NaN when either side is constant (e.g. every municipality
    shrunk to the national rate), which has no correlation, rather than a divide warning."""
    w = np.ones(len(x)) if w is None else np.asarray(w, float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    cov = np.average((x - mx) * (y - my), weights=w)
    var = np.average((x - mx) ** 2, weights=w) * np.average((y - my) ** 2, weights=w)
    return float(cov / np.sqrt(var))


def recovery_benchmarking(
    derived_dir: str | Path, truth: str | Path, out_dir: str | Path, config: StarConfig
) -> list[Path]:
    """Refit the benchmarking models (:func:`pipelines.benchmarking.municipal_fits`, the same
    fits as the benchmarking stage) and write ``recovery.csv`` (:func:`municipal_recovery` per
    exit) into ``out_dir`` (``results/recovery/benchmarking``)."""
    effects = load_parameters(Path(truth)).get("municipality_effects")
    if not effects:
        log.warning("recovery: no municipality_effects in %s; benchmarking recovery skipped", truth)
        return []
    _, fits = municipal_fits(Path(derived_dir), config)
    rows: list[dict] = []
    for cause, (_res, raw) in fits.items():
        rows += municipal_recovery(raw, effects, cause, config.benchmarking.conf_level)
    if not rows:
        return []
    thr = config.disclosure.threshold
    path = Path(out_dir) / "recovery.csv"
    return [write_table(pd.DataFrame(rows), path, thr, None, table="benchmark_recovery")]

"""The subgroups stage: validated tables + derived spells -> ``results/subgroups/*.csv`` + figures.

Population (``config.subgroups``): everyone in a KH-system spell on the reference date with at
least ``min_seniority_years`` uninterrupted years and (optionally) the given match group of the
current case. Default: the case-review population (activity-ready, >= 5 years on 1 March 2020),
the population of the R16 shares.

Steps: person indicators (:mod:`analysis.subgroups.indicators`) -> latent class models with
1..max_classes classes, K chosen by the criterion among classes of at least ``min_class_share``
-> bootstrap stability -> profiles, labels, sizes -> exit pathways (Aalen-Johansen, both time
scales) and efforts (analysis.star2022.efforts) by group. The recovery of a synthetic register's
true subgroups is :func:`pipelines.recovery.recovery_subgroups` (``results/recovery/subgroups``);
this stage does not read the synthetic truth.

Files written (all person counts through :mod:`analysis.disclosure`, every table checked with
:func:`~analysis.disclosure.assert_publishable`):

- ``selection.csv``: per number of classes ``k``: log-likelihood, parameters (``k_params``), AIC,
  BIC, SABIC, CAIC, ICL, ``entropy`` (relative entropy, 0-1, as Mplus reports it), smallest class,
  smallest average posterior probability, bootstrap ``stability_ari``, ``admissible``, ``chosen``
- ``stability.csv``: per K the bootstrap ARI, agreement and class sizes (mean, sd, p10/p50/p90)
- ``parameters.csv``: class sizes and class-conditional level probabilities of the chosen model
- ``sizes.csv``: per group ``label`` (and ``label_da``/``label_en``), persons (``n_persons`` of
  ``n``, modal class), ``share``, model class ``size``, average posterior probability ``avepp``
- ``labels.csv``: Danish and English labels and the terms behind them
- ``profiles.csv``: per group (and ``all``) and ``indicator`` (= ``variable=level``, readable as
  ``indicator_da``/``indicator_en``): ``n``, ``n_level``, ``prevalence``, ``overall_prevalence``,
  ``lift``
- ``case_review_groups.csv``: the groups matching the case review's two subgroups (R16)
- ``pathways.csv``: cumulative incidence curves (job, fp, rf) by group, two time scales
- ``pathways_summary.csv``: cumulative incidence at the horizons
- ``pathways_corrected.csv``: state at each horizon (job, fp, rf, other exit, still in the spell)
  by group: ``method`` modal (modal class), bch and ml (bias-corrected three-step estimates,
  :mod:`analysis.subgroups.distal`); ``n_persons`` of ``n`` for the modal groups
- ``profiles_corrected.csv``: prevalence of the profile indicators by group, the same three ways
- ``efforts.csv``: efforts in the two years before the reference date, by group
- ``model_selection.png``, ``profiles_heatmap.png``, ``pathways.png``
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.disclosure import suppress
from analysis.star2022 import efforts as ef
from analysis.star2022.params import StarParameters
from analysis.star2022.populations import at_least_years, kh_case_on, stock_on
from analysis.subgroups import (
    LatentClassModel,
    bootstrap_stability,
    find_case_review_groups,
    label_groups,
    pathway_curves,
    pathway_summary,
    person_indicators,
    profile_table,
    publish_profiles,
    select_n_classes,
)
from analysis.subgroups.distal import distal_outcome, outcome_shares
from analysis.subgroups.pathways import (
    DEFAULT_CAUSES,
    cause_labels,
    exit_by_horizon,
    follow_up_frame,
    horizon_levels,
)
from analysis.subgroups.plots import plot_model_selection, plot_pathways, plot_profile_heatmap
from analysis.subgroups.profiles import row_names
from analysis.subgroups.selection import match_classes
from data_schema.mapping import StateMapping, load_state_mapping
from pipelines.config import StarConfig
from pipelines.publish import save_figure, write_table
from pipelines.reproduction import load_register

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


def population(
    spells: pd.DataFrame,
    benefit_spells: pd.DataFrame,
    config: StarConfig,
    kh_codes: frozenset[str],
) -> pd.DataFrame:
    """Members of the analysed population (``config.subgroups``): ``person_id, spell_id,
    spell_start, spell_end, seniority_days, seniority_group`` (+ ``match_group``)."""
    opt = config.subgroups
    st = stock_on(spells, opt.reference_date)
    st = st[at_least_years(st["spell_start"], opt.reference_date, opt.min_seniority_years)]
    if opt.match_group is not None:
        case = kh_case_on(benefit_spells, opt.reference_date, kh_codes)
        st = st.merge(case, on="person_id", how="left")
        st = st[st["match_group"] == opt.match_group]
    return st.reset_index(drop=True)


def _parameters_table(fit, n: int, threshold: int) -> pd.DataFrame:
    """Class sizes and level probabilities; a probability is blanked when the expected number of
    persons behind it (or behind its complement) is positive but below the threshold."""
    t = fit.tidy()
    w = pd.Series(fit.weights, index=np.arange(1, fit.n_classes + 1))
    size = t["class"].map(w) * n
    expected = np.where(t["parameter"] == "weight", t["estimate"] * n, t["estimate"] * size)
    comp = np.where(t["parameter"] == "weight", n - expected, size - expected)
    small = ((expected > 0.5) & (expected < threshold)) | ((comp > 0.5) & (comp < threshold))
    t["estimate"] = t["estimate"].where(~small)
    t["suppressed"] = small
    return t


def _population_label(config: StarConfig) -> str:
    """E.g. ``activity_ready_5y_2020-03-01``."""
    opt = config.subgroups
    who = opt.match_group or "all"
    return f"{who}_{opt.min_seniority_years}y_{opt.reference_date.isoformat()}"


def _selection_table(sel, stability: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """The model-selection table as published (``selection.csv``): ``k`` classes; ``entropy`` is
    the relative entropy (0-1, as Mplus reports it), ``classification_entropy`` the raw entropy
    (nats); ``stability_ari`` (and ``stability_ari_p10``) the bootstrap ARI of each K."""
    t = sel.tidy().rename(
        columns={
            "classes": "k",
            "entropy": "classification_entropy",
            "relative_entropy": "entropy",
        }
    )
    t["classification_entropy"] = t["classification_entropy"].clip(lower=0.0)
    ari = {kk: st.set_index("statistic").loc["ari"] for kk, st in stability.items()}
    t["stability_ari"] = t["k"].map({kk: r["mean"] for kk, r in ari.items()})
    t["stability_ari_p10"] = t["k"].map({kk: r["p10"] for kk, r in ari.items()})
    return t


def _profiles_out(prof: pd.DataFrame) -> pd.DataFrame:
    """The profile table as published (``profiles.csv``): ``indicator`` is the row key
    ``variable=level``, ``indicator_da``/``indicator_en`` readable row names, ``prevalence`` the
    share of the group with the level, ``overall_prevalence`` the share in the population."""
    out = prof.rename(
        columns={
            "indicator": "variable",
            "share": "prevalence",
            "overall_share": "overall_prevalence",
        }
    )
    out.insert(1, "indicator", out["variable"] + "=" + out["level"].astype(str))
    out.insert(4, "indicator_da", row_names(prof, "da").to_numpy())
    out.insert(5, "indicator_en", row_names(prof, "en").to_numpy())
    return out


class SubgroupData(NamedTuple):
    """The subgroup population and its indicators (:func:`subgroup_data`)."""

    register: dict[str, pd.DataFrame]
    """Validated register tables (``person_id`` as text)."""
    spells: pd.DataFrame
    """Derived spells (``person_id`` as text)."""
    members: pd.DataFrame
    """The population (:func:`population`)."""
    data: pd.DataFrame
    """Person indicators indexed by person id (:func:`analysis.subgroups.person_indicators`)."""
    known_ids: set[str]
    kh_codes: frozenset[str]


def subgroup_data(
    validated_dir: str | Path, derived_dir: str | Path, config: StarConfig, mapping: StateMapping
) -> SubgroupData:
    """Read the register, select the population and build its person indicators.

    Raises
    ------
    ValueError
        The population is smaller than the threshold or twice ``max_classes``.
    KeyError
        A configured indicator is not among the person indicators.
    """
    opt, thr = config.subgroups, config.disclosure.threshold
    register = load_register(validated_dir)
    spells = pd.read_parquet(Path(derived_dir) / "spells.parquet")
    spells["person_id"] = spells["person_id"].astype(str)
    for name in register:
        if "person_id" in register[name].columns:
            register[name]["person_id"] = register[name]["person_id"].astype(str)
    known_ids = set(register["persons"]["person_id"])
    kh_codes = frozenset(mapping.kh_codes())
    members = population(spells, register["benefit_spells"], config, kh_codes)
    if len(members) < max(thr, 2 * opt.max_classes):
        raise ValueError(
            f"the subgroup population has only {len(members)} persons on {opt.reference_date}"
        )
    log.info("subgroups: %d persons on %s", len(members), opt.reference_date)
    data = person_indicators(
        members,
        register["persons"],
        spells,
        opt.reference_date,
        window_start=config.extract_window.start,
        debut_washout_years=opt.debut_washout_years,
    )
    missing = [c for c in [*opt.indicators, *opt.profile_indicators] if c not in data.columns]
    if missing:
        raise KeyError(f"unknown subgroup indicators {missing}; available: {list(data.columns)}")
    return SubgroupData(register, spells, members, data, known_ids, kh_codes)


def latent_class_model(config: StarConfig, k: int) -> LatentClassModel:
    """The latent class model with ``k`` classes the stage fits (``subgroups.n_starts``, ``seed``):
    the same options give the same fit."""
    return LatentClassModel(k, n_starts=config.subgroups.n_starts, seed=int(config.seed))


def pathway_frame(
    members: pd.DataFrame, groups: pd.Series, spells: pd.DataFrame, config: StarConfig
) -> pd.DataFrame:
    """Follow-up frame of the members from the reference date to the extract's end, with their
    ``group`` (:func:`analysis.subgroups.pathways.follow_up_frame`)."""
    mem = members[["person_id", "spell_start", "seniority_days"]].merge(
        groups.reset_index(), on="person_id"
    )
    return follow_up_frame(
        mem,
        spells,
        pd.Timestamp(config.subgroups.reference_date),
        pd.Timestamp(config.extract_window.end),
    )


def run_subgroups(
    validated_dir: str | Path,
    derived_dir: str | Path,
    results_dir: str | Path,
    config: StarConfig | None = None,
    *,
    mapping: StateMapping | None = None,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Run the subgroup analysis and write its tables and figures.

    Parameters
    ----------
    validated_dir
        Validated register tables (``<table>.parquet``): persons, benefit_spells and the effort
        tables.
    derived_dir
        Derive-stage output (``spells.parquet``).
    results_dir
        Results root; files go to ``<results_dir>/subgroups`` unless ``out_dir`` is given.
    config
        Run configuration (section ``subgroups``; ``seed``; ``disclosure.threshold``).
    mapping
        State mapping (default: the configured one).
    progress
        Optional ``progress(step, done, total)``.

    Returns
    -------
    Paths written.
    """
    config = config or StarConfig()
    mapping = mapping or load_state_mapping(config.state_mapping)
    opt = config.subgroups
    thr = config.disclosure.threshold
    out = Path(out_dir) if out_dir is not None else Path(results_dir) / "subgroups"
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda *_: None)

    d = subgroup_data(validated_dir, derived_dir, config, mapping)
    register, spells, members, data = d.register, d.spells, d.members, d.data
    known_ids, kh_codes = d.known_ids, d.kh_codes
    seed = int(config.seed)

    def model(k: int) -> LatentClassModel:
        return latent_class_model(config, k)

    sel = select_n_classes(
        data,
        {c: "categorical" for c in opt.indicators},
        range(1, opt.max_classes + 1),
        criterion=opt.criterion,
        min_class_share=opt.min_class_share,
        model=model,
        progress=say,
    )
    fit = sel.best
    k = fit.n_classes
    log.info("subgroups: %d classes by %s", k, opt.criterion)
    groups = pd.Series(fit.classes.astype(str), index=data.index, name="group")
    written: list[Path] = []

    # stability: bootstrap refits of every K >= 2 (the chosen K's summary in stability.csv)
    stability: dict[int, pd.DataFrame] = {}
    if opt.n_bootstrap > 0:
        ks = [kk for kk in sel.fits if kk >= 2 and (opt.stability_all_k or kk == k)]
        for i, kk in enumerate(ks):
            stab = bootstrap_stability(
                data,
                sel.fits[kk],
                n_boot=opt.n_bootstrap,
                seed=seed + kk,
                model=lambda k2, s2: LatentClassModel(k2, n_starts=opt.bootstrap_starts, seed=s2),
                n_jobs=opt.n_jobs,
            )
            stability[kk] = stab.tidy().assign(k=kk)
            say("bootstrap", i + 1, len(ks))
    written.append(
        write_table(_selection_table(sel, stability), out / "selection.csv", thr, known_ids)
    )
    if stability:
        st = pd.concat(stability.values(), ignore_index=True)
        st = st[["k", *[c for c in st.columns if c != "k"]]]
        st["chosen"] = st["k"] == k
        written.append(write_table(st, out / "stability.csv", thr, known_ids))
    written.append(
        write_table(_parameters_table(fit, len(data), thr), out / "parameters.csv", thr, known_ids)
    )

    # profiles and labels
    prof = publish_profiles(profile_table(data, groups, opt.profile_indicators), thr)
    labels = label_groups(prof, language=opt.language)
    lab = labels.set_index("group")
    written.append(write_table(_profiles_out(prof), out / "profiles.csv", thr, known_ids))
    written.append(write_table(labels, out / "labels.csv", thr, known_ids))

    # sizes and posterior diagnostics
    ap = fit.average_posterior()
    sizes = pd.DataFrame(
        {
            "group": ap["class"].astype(str),
            "label": ap["class"].astype(str).map(lab["label"]),
            "label_da": ap["class"].astype(str).map(lab["label_da"]),
            "label_en": ap["class"].astype(str).map(lab["label_en"]),
            "n_persons": np.bincount(fit.classes, minlength=k + 1)[1:].astype("int64"),
            "n": len(data),
            "size": ap["weight"],
            "avepp": ap["avepp"],
        }
    )
    sizes.insert(6, "share", sizes["n_persons"] / sizes["n"])
    sizes["relative_entropy"] = fit.relative_entropy
    sizes.insert(0, "population", _population_label(config))
    sizes = suppress(
        sizes,
        {"n_persons": ["share", "size", "avepp"]},
        denominator="n",
        denominator_keys=["population"],
        partitions=[["population"]],
        threshold=thr,
        complement=False,
    )
    written.append(write_table(sizes, out / "sizes.csv", thr, known_ids))

    cr = find_case_review_groups(data, groups)
    cr["label"] = cr["group"].map(lab["label"])
    cr["size"] = cr["group"].astype(int).map(dict(zip(ap["class"], ap["weight"], strict=True)))
    cr["published_share"] = cr["definition"].map(
        {"non_western_women": 0.24, "danish_men_substance": 0.14}
    )
    written.append(write_table(cr, out / "case_review_groups.csv", thr, known_ids))

    # pathways
    frame = pathway_frame(members, groups, spells, config)
    curves, _ = pathway_curves(frame, threshold=thr)
    written.append(write_table(curves, out / "pathways.csv", thr, known_ids))
    summ = pathway_summary(curves, frame, opt.horizons_years, threshold=thr)
    summ["label"] = summ["group"].map(lab["label"])
    summ = suppress(
        summ, [], denominator="n", stats=["estimate", "conf_low", "conf_high"], threshold=thr
    )
    written.append(write_table(summ, out / "pathways_summary.csv", thr, known_ids))

    # efforts in the two years before the reference date
    params = StarParameters(kh_codes=kh_codes)
    pe = ef.person_efforts(
        members["person_id"],
        opt.reference_date,
        spells=spells,
        activation_offers=register["activation_offers"],
        exemptions=register["exemptions"],
        conversations=register["conversations"],
        monthly_paid_hours=register["monthly_paid_hours"],
        caseworker_assignments=register["caseworker_assignments"],
        params=params,
    )
    order = [str(j) for j in range(1, k + 1)]
    eff = ef.efforts_table(pe, {"subgroup": (groups, order)}, _population_label(config))
    eff = ef.publish_efforts(eff, thr)
    eff.insert(3, "label", eff["group"].map(lab["label"]).fillna(""))
    written.append(write_table(eff, out / "efforts.csv", thr, known_ids))

    # figures
    written.append(save_figure(plot_model_selection(sel.table), out / "model_selection.png"))
    size_map = dict(zip(ap["class"].astype(str), ap["weight"], strict=True))
    written.append(
        save_figure(
            plot_profile_heatmap(prof, dict(lab["label"]), size_map, language=opt.language),
            out / "profiles_heatmap.png",
        )
    )
    written.append(
        save_figure(
            plot_pathways(curves, dict(lab["label"]), exit_names=cause_labels(opt.language)),
            out / "pathways.png",
        )
    )

    # exit pathways by group: modal assignment vs bias-corrected three-step
    corrected = pathways_corrected(
        pd.DataFrame(fit.posterior, index=data.index), frame, opt.horizons_years, threshold=thr
    )
    for i, col in enumerate(("label", "label_da", "label_en")):
        corrected.insert(2 + i, col, corrected["group"].map(lab[col]))
    written.append(write_table(corrected, out / "pathways_corrected.csv", thr, known_ids))
    prof_c = profiles_corrected(
        pd.DataFrame(fit.posterior, index=data.index),
        data,
        list(opt.profile_indicators),
        threshold=thr,
    )
    prof_c.insert(2, "label", prof_c["group"].map(lab["label"]))
    written.append(write_table(prof_c, out / "profiles_corrected.csv", thr, known_ids))
    return written


def pathways_corrected(
    posterior: pd.DataFrame,
    frame: pd.DataFrame,
    horizons: list[float],
    reference: pd.Series | None = None,
    *,
    threshold: int,
) -> pd.DataFrame:
    """State at each horizon by latent class, four ways (``pathways_corrected.csv``).

    Parameters
    ----------
    posterior
        Posterior class probabilities of the fit (columns = classes 1..K), indexed by person id.
    frame
        :func:`~analysis.subgroups.pathways.follow_up_frame` of the same persons.
    horizons
        Years after the reference date; a horizon at which anyone is censored before it is
        skipped (the state would be unknown for them).
    reference
        A known grouping by person id (the synthetic register's true subgroups, passed by
        :mod:`pipelines.recovery`): adds ``method = truth``.
    threshold
        Disclosure threshold.

    Returns
    -------
    ``horizon_years, group, exit, method, estimate, n_persons, n, subgroup, suppressed``
    (:func:`corrected_by_class`).
    """
    post = posterior.reindex(frame["person_id"])
    true = None if reference is None else reference.reindex(frame["person_id"])
    levels = horizon_levels(DEFAULT_CAUSES)
    parts = []
    for h in horizons:
        state = exit_by_horizon(frame, h)
        if state.isna().any():
            log.warning("subgroups: %d persons censored before %s years; horizon skipped",
                        int(state.isna().sum()), h)  # fmt: skip
            continue
        t = corrected_by_class(post, state.to_numpy(dtype=object), levels, true, threshold)
        parts.append(t.rename(columns={"level": "exit"}).assign(horizon_years=float(h)))
    cols = ["horizon_years", "group", "exit", "method", "estimate", "std_error", "conf_low",
            "conf_high", "n_persons", "n", "subgroup"]  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=[*cols, "suppressed"])
    out = pd.concat(parts, ignore_index=True)
    return out[[*cols, *[c for c in out.columns if c not in cols]]]


def profiles_corrected(
    posterior: pd.DataFrame,
    data: pd.DataFrame,
    indicators: list[str],
    reference: pd.Series | None = None,
    *,
    threshold: int,
) -> pd.DataFrame:
    """Prevalence of each profile indicator level by latent class, four ways
    (``profiles_corrected.csv``): ``variable, group, level, method, estimate, n_persons, n,
    subgroup, suppressed`` (:func:`corrected_by_class`; missing values of an indicator are left
    out of its ``n``; ``reference`` as in :func:`pathways_corrected`). The modal rows equal the
    prevalences of ``profiles.csv``."""
    post = posterior.reindex(data.index)
    true = None if reference is None else reference.reindex(data.index)
    parts = []
    for ind in indicators:
        col = data[ind]
        levels = (
            tuple(str(c) for c in col.cat.categories)
            if isinstance(col.dtype, pd.CategoricalDtype)
            else tuple(sorted(pd.unique(col.dropna().astype(str))))
        )
        y = np.array([None if pd.isna(v) else str(v) for v in col], dtype=object)
        t = corrected_by_class(post, y, levels, true, threshold)
        parts.append(t.assign(variable=ind))
    out = pd.concat(parts, ignore_index=True)
    first = ["variable", "group", "level", "method"]
    return out[[*first, *[c for c in out.columns if c not in first]]]


def corrected_by_class(
    posterior: pd.DataFrame,
    y: np.ndarray,
    levels: tuple[str, ...],
    true: pd.Series | None,
    threshold: int,
) -> pd.DataFrame:
    """One categorical outcome by latent class: ``method`` modal (modal class), bch and ml
    (:func:`analysis.subgroups.distal.distal_outcome`) and, with ``true`` (true subgroup by row),
    truth: the observed shares in the true subgroup matched (Hungarian, on the cross-table with
    the modal classes) to each class, named in ``subgroup``.

    Modal and truth rows carry person counts (``n_persons`` of ``n``, the persons of the group
    with an observed outcome; primary and secondary suppression with the levels of a group as a
    partition of ``n``); bch and ml rows are model estimates without counts, blanked when the
    expected number of persons behind the estimate or its complement (estimate x class size x
    observed N) is positive but below the threshold.

    Returns
    -------
    ``group, level, method, estimate, std_error, conf_low, conf_high, n_persons, n, subgroup,
    suppressed`` (95 % Wald CI from :class:`~analysis.subgroups.distal.DistalResult`; missing on
    truth rows and wherever the estimate is blanked), sorted by group,
    level (in ``levels`` order) and method.
    """
    post = posterior.to_numpy(dtype=float)
    k = post.shape[1]
    cls = post.argmax(axis=1) + 1
    obs = pd.notna(y)
    rows: list[pd.DataFrame] = []
    for method in ("modal", "bch", "ml"):
        r = distal_outcome(post, y, method, levels=levels)
        t = pd.DataFrame(r.probabilities, index=np.arange(1, k + 1), columns=list(levels))
        long = t.stack().rename("estimate").rename_axis(["group", "level"]).reset_index()
        ci = r.conf_int()
        long = long.assign(std_error=r.std_error, conf_low=ci[:, 0], conf_high=ci[:, 1])
        if method == "modal":
            n_g = np.bincount(cls[obs], minlength=k + 1)[1:]
        else:
            n_g = r.class_sizes * r.n_obs
        long["n_g"] = np.asarray(n_g, dtype=float)[long["group"].to_numpy() - 1]
        rows.append(long.assign(method=method))
    if true is not None:
        rows.append(_truth_rows(true.to_numpy(dtype=object), cls, y, levels, k))
    t = pd.concat(rows, ignore_index=True)
    t["group"] = t["group"].astype(str)
    t["subgroup"] = t["subgroup"].fillna("") if "subgroup" in t else ""
    counted = t["method"].isin(["modal", "truth"]).to_numpy()
    t["n_persons"] = pd.array(np.where(counted, np.rint(t["estimate"] * t["n_g"]), np.nan))
    t["n_persons"] = t["n_persons"].astype("Int64")
    t["n"] = pd.array(np.where(counted, t["n_g"], np.nan)).astype("Int64")
    expected = t["estimate"] * t["n_g"]
    comp = t["n_g"] - expected
    small = ((expected > 0.5) & (expected < threshold)) | ((comp > 0.5) & (comp < threshold))
    model = t[~counted].copy()
    model.loc[small[~counted].to_numpy(), "estimate"] = np.nan
    model["suppressed"] = small[~counted].to_numpy()
    keys = ["method", "group"]
    cnt = suppress(
        t[counted].drop(columns="n_g"),
        {"n_persons": ["estimate"]},
        denominator="n",
        denominator_keys=keys,
        partitions=[keys],
        threshold=threshold,
    )
    out = pd.concat([cnt, model.drop(columns="n_g")], ignore_index=True)
    order = {"modal": 0, "bch": 1, "ml": 2, "truth": 3}
    out = out.assign(
        _g=out["group"].astype(int), _m=out["method"].map(order), _l=out["level"].map(levels.index)
    )
    out = out.sort_values(["_g", "_l", "_m"], kind="mergesort")
    inf = ["std_error", "conf_low", "conf_high"]
    out[inf] = out[inf].where(out["estimate"].notna())
    cols = ["group", "level", "method", "estimate", *inf, "n_persons", "n", "subgroup"]
    return out[[*cols, "suppressed"]].reset_index(drop=True)


def _truth_rows(
    true: np.ndarray, cls: np.ndarray, y: np.ndarray, levels: tuple[str, ...], k: int
) -> pd.DataFrame:
    """Observed shares of each level in the true subgroup matched to each class (persons with a
    true subgroup; ``n_g`` = those of the subgroup with an observed outcome)."""
    ok = pd.notna(true)
    names = sorted(pd.unique(true[ok].astype(str)))
    code = pd.Categorical(true[ok].astype(str), categories=names).codes + 1
    kk = max(k, len(names))
    mapping = match_classes(code, cls[ok], kk)  # class j -> true subgroup index mapping[j - 1]
    shares = outcome_shares(true[ok].astype(str), y[ok], levels)
    both = ok & pd.notna(y)
    sizes = pd.Series(true[both].astype(str)).value_counts()
    rows = []
    for j in range(1, k + 1):
        i = int(mapping[j - 1])
        if i < 1 or i > len(names) or names[i - 1] not in shares.index:
            continue
        g = names[i - 1]
        for lev in levels:
            rows.append((j, lev, float(shares.loc[g, lev]), float(sizes[g]), g))
    return pd.DataFrame(rows, columns=["group", "level", "estimate", "n_g", "subgroup"]).assign(
        method="truth"
    )


def run_stage(ctx, out: Path) -> None:
    """Adapter for :class:`pipelines.run.Stage`: ``run=run_stage`` with output
    ``ctx.results_dir / "subgroups"``, inputs ``[ctx.validated_dir, ctx.derived_dir]`` and
    config sections ``("subgroups", "disclosure", "extract_window", "state_mapping", "seed")``."""
    run_subgroups(
        ctx.validated_dir,
        ctx.derived_dir,
        ctx.results_dir,
        ctx.config,
        out_dir=out,
        progress=ctx.progress,
    )

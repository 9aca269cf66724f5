"""The subgroups stage end to end on a small simulated register with known latent classes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.disclosure import disclosure_problems
from pipelines.config import load_config
from pipelines.subgroups import run_subgroups

NAMES = ["women_family", "men_substance", "young_psych"]
PARAMS = {
    "female": [0.92, 0.08, 0.5],
    "origin": {
        "women_family": [0.1, 0.05, 0.85],
        "men_substance": [0.9, 0.05, 0.05],
        "young_psych": [0.8, 0.1, 0.1],
    },
    "menapt_given_non_western": [0.7, 0.5, 0.5],
    "education": {
        "women_family": [0.5, 0.05, 0.05, 0.05, 0.35],
        "men_substance": [0.55, 0.05, 0.3, 0.05, 0.05],
        "young_psych": [0.6, 0.25, 0.1, 0.03, 0.02],
    },
    "psychiatric_diagnosis": [0.2, 0.4, 0.85],
    "substance_abuse_treatment": [0.03, 0.85, 0.15],
    "has_children": [0.9, 0.4, 0.15],
    "children_placed_given_children": [0.3, 0.5, 0.3],
    "entry_age_mean": [33.0, 38.0, 20.0],
    "entry_age_sd": [5.0, 6.0, 2.0],
    "entry_age_range": [18, 60],
}
SHARES = [0.4, 0.25, 0.35]
#: P(exit | class) of job, fp, rf, self_support.
EXITS = np.array([[0.15, 0.15, 0.6, 0.1], [0.1, 0.7, 0.1, 0.1], [0.6, 0.1, 0.2, 0.1]])


def _register(n: int, seed: int):
    rng = np.random.default_rng(seed)
    cls = rng.choice(3, size=n, p=SHARES)
    pid = np.array([f"P{i:06d}" for i in range(n)])

    def bern(key: str) -> np.ndarray:
        return rng.random(n) < np.asarray(PARAMS[key])[cls]

    def cat(key: str) -> np.ndarray:
        p = np.array([PARAMS[key][g] for g in NAMES])[cls]
        return (rng.random(n)[:, None] > p.cumsum(axis=1)).sum(axis=1)

    origin = np.array(["danish", "western", "non_western"])[cat("origin")]
    has = bern("has_children")
    start_year = rng.integers(2000, 2015, n)
    age = np.rint(
        np.asarray(PARAMS["entry_age_mean"])[cls]
        + np.asarray(PARAMS["entry_age_sd"])[cls] * rng.standard_normal(n)
    )
    age = np.clip(np.where(age < 18, 36 - age, age), 18, 60).astype(int)
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "birth_year": start_year - age,
            "sex": np.where(bern("female"), "F", "M"),
            "origin": origin,
            "menapt": (origin == "non_western") & bern("menapt_given_non_western"),
            "education": np.array(["basic", "upper_secondary", "vocational", "higher", "unknown"])[
                cat("education")
            ],
            "psychiatric_diagnosis": bern("psychiatric_diagnosis"),
            "substance_abuse_treatment": bern("substance_abuse_treatment"),
            "has_children": has,
            "children_placed": pd.array(
                np.where(has, bern("children_placed_given_children"), False), dtype="boolean"
            ),
            "municipality_id": 101,
        }
    )
    persons.loc[~has, "children_placed"] = pd.NA
    start = pd.to_datetime(
        [f"{y}-{m:02d}-01" for y, m in zip(start_year, rng.integers(1, 13, n), strict=True)]
    )
    ends = pd.Timestamp("2020-03-02") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D")
    ongoing = ends > pd.Timestamp("2023-12-31")
    # exits depend on the class (EXITS rows), so the pathways by class differ
    u = rng.random(n)
    exit_state = np.array(["job", "fp", "rf", "self_support"])[
        (u[:, None] > EXITS[cls].cumsum(axis=1)).sum(axis=1)
    ]
    spells = pd.DataFrame(
        {
            "person_id": pid,
            "spell_id": 1,
            "spell_start": start,
            "spell_end": pd.Series(ends).where(~ongoing),
            "n_records": 1,
            "left_truncated": False,
            "exit_state": pd.Series(exit_state, dtype=object).where(~ongoing),
            "prior_contact_3y": rng.random(n) < 0.5,
            "prev_spell_end": pd.NaT,
        }
    )
    benefit = pd.DataFrame(
        {
            "person_id": pid,
            "case_id": [f"C{i}" for i in range(n)],
            "benefit_code": "130",
            "start_date": start,
            "end_date": spells["spell_end"],
            "municipality_id": 101,
            "match_group": np.where(rng.random(n) < 0.9, "activity_ready", "job_ready"),
        }
    )
    truth = pd.DataFrame({"person_id": pid, "subgroup": np.array(NAMES)[cls]})
    return persons, spells, benefit, truth


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("subgroups_stage")
    persons, spells, benefit, truth = _register(2500, seed=7)
    (tmp / "validated").mkdir()
    (tmp / "derived").mkdir()
    (tmp / "truth").mkdir()
    persons.to_parquet(tmp / "validated" / "persons.parquet")
    benefit.to_parquet(tmp / "validated" / "benefit_spells.parquet")
    spells.to_parquet(tmp / "derived" / "spells.parquet")
    truth.to_parquet(tmp / "truth" / "true_subgroups.parquet")
    (tmp / "truth" / "parameters.json").write_text(
        json.dumps({"parameters": {"subgroups": PARAMS}}), encoding="utf-8"
    )
    paths = run_subgroups(tmp / "validated", tmp / "derived", tmp / "results", _config())
    return tmp / "results" / "subgroups", paths, persons


def _config():
    return load_config(
        None,
        **{
            "subgroups.max_classes": 5,
            "subgroups.n_starts": 6,
            "subgroups.n_bootstrap": 3,
            "subgroups.horizons_years": [1, 2],
        },
    )


@pytest.fixture(scope="module")
def recovered(stage):
    """The recovery study (pipelines.recovery) on the stage's output and the planted truth."""
    from pipelines.recovery import recovery_subgroups

    out, _, _ = stage
    tmp = out.parent.parent
    rec = tmp / "results" / "recovery" / "subgroups"
    rec.mkdir(parents=True)
    paths = recovery_subgroups(
        tmp / "validated", tmp / "derived", out, tmp / "truth", rec, _config()
    )
    return rec, paths


def _with_truth(out, rec, name: str) -> pd.DataFrame:
    """A corrected table of the stage with the recovery's truth rows of the same classes."""
    return pd.concat(
        [_read(out, f"{name}_corrected"), _read(rec, f"{name}_truth")], ignore_index=True
    )


def _read(out, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", dtype={"group": str})


def test_every_file_is_written_and_publishable(stage):
    out, paths, persons = stage
    names = {p.name for p in paths}
    for f in (
        "selection.csv",
        "parameters.csv",
        "profiles.csv",
        "labels.csv",
        "sizes.csv",
        "stability.csv",
        "case_review_groups.csv",
        "pathways.csv",
        "pathways_summary.csv",
        "pathways_corrected.csv",
        "profiles_corrected.csv",
        "efforts.csv",
        "model_selection.png",
        "profiles_heatmap.png",
        "pathways.png",
    ):
        assert f in names, f
        assert (out / f).stat().st_size > 0
    for p in paths:
        if p.suffix == ".csv":
            assert disclosure_problems(pd.read_csv(p), 5, set(persons["person_id"])) == [], p.name
    assert not (out / "recovery.csv").exists()  # the production stage does not read the truth


def test_recovery_files_are_written_and_publishable(stage, recovered):
    _, _, persons = stage
    rec, paths = recovered
    assert sorted(p.name for p in paths) == [
        "pathways_truth.csv", "profiles_truth.csv", "recovery.csv", "recovery_groups.csv"
    ]  # fmt: skip
    for p in paths:
        assert disclosure_problems(pd.read_csv(p), 5, set(persons["person_id"])) == [], p.name


def test_true_number_of_classes_and_recovery(stage, recovered):
    out, _, _ = stage
    rec_dir, _ = recovered
    sel = _read(out, "selection")
    assert int(sel.loc[sel["chosen"], "k"].iloc[0]) == 3
    assert sel["entropy"].iloc[1:].between(0, 1).all()
    # stability per K >= 2; the true K is stable
    st = sel.set_index("k")["stability_ari"]
    assert st.iloc[1:].notna().all() and st[3] > 0.7
    rec = _read(rec_dir, "recovery").set_index("method")
    assert rec.loc["oracle", "classes"] == 3 and rec.loc["latent_class", "classes"] == 3
    assert rec.loc["oracle", "ari"] > 0.5
    assert rec.loc["latent_class", "ratio_to_oracle"] >= 0.9
    assert rec.loc["latent_class", "ratio_to_oracle"] == pytest.approx(
        rec.loc["latent_class", "ari"] / rec.loc["oracle", "ari"]
    )
    g = _read(rec_dir, "recovery_groups").set_index("subgroup")
    # the recovery refits the stage's chosen model: the same classes as the published sizes
    size = _read(out, "sizes").set_index("group")["size"]
    for cls, class_size in zip(g["class"].dropna(), g["class_size"].dropna(), strict=True):
        assert class_size == pytest.approx(size[str(int(cls))], abs=1e-9)
    for name, share in zip(NAMES, SHARES, strict=True):
        # population = activity-ready persons, a random 90 %: the shares stay the sampling ones
        assert g.loc[name, "class_size"] == pytest.approx(share, abs=0.04)


def test_labels_sizes_and_case_review_groups(stage):
    out, _, _ = stage
    lab = _read(out, "labels")
    assert len(lab) == 3 and lab["label_da"].is_unique and lab["label_en"].notna().all()
    sizes = _read(out, "sizes").set_index("group")
    assert (sizes["n"] == sizes["n_persons"].sum()).all()
    assert sizes["share"].sum() == pytest.approx(1.0)
    assert sizes["size"].sum() == pytest.approx(1.0)
    assert list(sizes["label"]) == list(
        lab.set_index("group").loc[sizes.index.astype(str), "label"]
    )
    prof = _read(out, "profiles")
    assert {"group", "indicator", "prevalence", "indicator_da"} <= set(prof.columns)
    one = prof[(prof["group"] == "all") & (prof["indicator"] == "sex=F")]
    assert one["indicator_da"].iloc[0] == "Køn: kvinde"
    cr = _read(out, "case_review_groups").set_index("definition")
    women = lab.set_index("group").loc[cr.loc["non_western_women", "group"], "label_da"]
    assert "Kvinder" in women and "ikke-vestlig" in women
    men = lab.set_index("group").loc[cr.loc["danish_men_substance", "group"], "label_da"]
    assert "misbrugsbehandling" in men


def test_pathways_and_efforts_by_group(stage):
    out, _, _ = stage
    pw = _read(out, "pathways")
    assert set(pw["group"].astype(str)) == {"1", "2", "3"}
    assert set(pw["exit"]) <= {"job", "fp", "rf"}
    summ = _read(out, "pathways_summary")
    assert set(summ["horizon_years"]) == {1.0, 2.0}
    assert summ["estimate"].between(0, 1).all()
    eff = _read(out, "efforts")
    assert set(eff["group"].astype(str)) >= {"all", "1", "2", "3"}
    stab = _read(out, "stability")
    chosen = stab[stab["chosen"]].set_index("statistic")
    assert chosen.loc["ari", "replicates"] == 3 and chosen.loc["ari", "mean"] > 0.5
    assert set(stab["k"]) == {2, 3, 4, 5}


def test_pathways_modal_corrected_and_truth(stage, recovered):
    out, _, _ = stage
    assert set(_read(out, "pathways_corrected")["method"]) == {"modal", "bch", "ml"}
    pc = _with_truth(out, recovered[0], "pathways")
    assert set(pc["method"]) == {"modal", "bch", "ml", "truth"}
    assert set(pc["horizon_years"]) == {1.0, 2.0}
    assert set(pc["exit"]) == {"job", "fp", "rf", "other_exit", "in_spell"}
    # every method's states of a group add up to 1 where nothing is suppressed; a blank estimate
    # is always flagged
    assert (pc["estimate"].isna() == pc["suppressed"].astype(bool)).all()
    assert pc["estimate"].notna().mean() > 0.8
    cell = pc.groupby(["horizon_years", "method", "group"])["estimate"]
    full = cell.count() == cell.size()
    np.testing.assert_allclose(cell.sum()[full].to_numpy(), 1.0, atol=1e-9)
    # counted rows: n_persons / n is the estimate
    c = pc[pc["method"].isin(["modal", "truth"])]
    np.testing.assert_allclose(c["n_persons"] / c["n"], c["estimate"], atol=1e-9)
    assert c["n_persons"].notna().all()
    assert pc.loc[pc["method"].isin(["bch", "ml"]), "n_persons"].isna().all()
    est = pc.dropna(subset=["estimate"])
    corr = est[est["method"].isin(["bch", "ml"])]
    assert (corr["std_error"] > 0).any() and (corr["conf_low"] <= corr["estimate"]).all()
    assert (corr["estimate"] <= corr["conf_high"]).all()
    assert est.loc[est["method"] == "truth", "std_error"].isna().all()
    # the truth rows name each class's matched subgroup; corrected estimates are close to truth
    truth = pc[pc["method"] == "truth"]
    assert set(truth["subgroup"]) == set(NAMES)
    wide = pc.pivot_table(
        index=["horizon_years", "group", "exit"], columns="method", values="estimate"
    )
    err = {m: float((wide[m] - wide["truth"]).abs().mean()) for m in ("modal", "bch", "ml")}
    assert err["bch"] < 0.03 and err["ml"] < 0.03, err
    assert err["bch"] <= err["modal"] + 0.005, err


def test_catalog_reads_and_protects_the_subgroup_tables(stage):
    from pipelines.report.catalog import CATALOG
    from pipelines.report.protect import protect_table

    out, _, _ = stage
    specs = {k: v for k, v in CATALOG.items() if v.path.startswith("subgroups/")}
    assert "subgroup_pathways_corrected" in specs
    for key, spec in specs.items():
        df = pd.read_csv(out.parent / spec.path)
        assert set(spec.columns) <= set(df.columns), key
    spec = CATALOG["subgroup_pathways_corrected"]
    df = pd.read_csv(out.parent / spec.path)
    prot = protect_table(df, threshold=5, **spec.suppress)
    # the stage already suppressed at 5: the report's protection blanks nothing more
    assert prot.frame["estimate"].isna().sum() == df["estimate"].isna().sum()
    # a higher report threshold suppresses counted cells only; BCH/ML rows pass through
    hi = protect_table(df, threshold=50, **spec.suppress).frame
    model = hi["method"].isin(["bch", "ml"])
    assert hi.loc[model, "estimate"].isna().sum() == df.loc[model, "estimate"].isna().sum()
    assert hi.loc[~model, "estimate"].isna().sum() > df.loc[~model, "estimate"].isna().sum()


def test_profiles_corrected(stage, recovered):
    out, _, _ = stage
    assert set(_read(out, "profiles_corrected")["method"]) == {"modal", "bch", "ml"}
    pc = _with_truth(out, recovered[0], "profiles")
    assert set(pc["method"]) == {"modal", "bch", "ml", "truth"}
    prof = _read(out, "profiles")
    modal = pc[pc["method"] == "modal"].merge(
        prof, on=["variable", "group", "level"], suffixes=("", "_profile")
    )
    assert len(modal) == (pc["method"] == "modal").sum()
    both = modal["estimate"].notna() & modal["prevalence"].notna()
    assert both.mean() > 0.7
    np.testing.assert_allclose(
        modal.loc[both, "estimate"], modal.loc[both, "prevalence"], atol=1e-9
    )
    # a measurement indicator with a known truth: corrected prevalences are close to it
    sub = pc[pc["variable"] == "substance_abuse_treatment"]
    wide = sub.pivot_table(index=["group", "level"], columns="method", values="estimate")
    err = {m: float((wide[m] - wide["truth"]).abs().mean()) for m in ("modal", "bch", "ml")}
    assert err["bch"] < 0.03 and err["ml"] < 0.03, err

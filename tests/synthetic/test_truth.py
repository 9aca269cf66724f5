"""Ground truth is what the register shows: spells, monthly states, databrud, subgroups."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from reference import build_spells, monthly_states


def test_jobindsats_rule_rebuilds_every_true_spell_exactly(tiny_dir):
    b = pd.read_parquet(tiny_dir / "benefit_spells.parquet")
    truth = pd.read_parquet(tiny_dir / "ground_truth" / "true_spells.parquet")
    built = build_spells(b)
    truth = truth.assign(spell_start=truth["spell_start"].clip(lower=pd.Timestamp("1991-01-01")))
    m = built.merge(truth, on=["person_id", "spell_start"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m["_merge"].value_counts()
    same_end = (m["spell_end_x"] == m["spell_end_y"]) | (
        m["spell_end_x"].isna() & m["spell_end_y"].isna()
    )
    assert same_end.all()


def test_monthly_classification_of_the_register_reproduces_true_states(tiny_dir):
    b = pd.read_parquet(tiny_dir / "benefit_spells.parquet")
    h = pd.read_parquet(tiny_dir / "monthly_paid_hours.parquet")
    tm = pd.read_parquet(tiny_dir / "ground_truth" / "true_monthly_states.parquet")
    persons = sorted(tm["person_id"].unique())[::5]
    ref = monthly_states(b, h, persons)
    t = tm[tm["person_id"].isin(persons)].assign(month=lambda d: d["month"].dt.to_period("M"))
    m = t.merge(ref, on=["person_id", "month"], how="left", suffixes=("_true", "_reg"))
    m["state_reg"] = m["state_reg"].fillna("self_support")
    assert len(m) > 10_000
    assert (m["state_true"] == m["state_reg"]).all()
    assert set(m["state_true"]) >= {
        "kh",
        "job",
        "fp",
        "rf",
        "fj",
        "edu",
        "self_support",
        "other_benefit",
    }


def test_naive_case_start_seniority_is_visibly_wrong(tiny_dir):
    """The Slagelse problem: seniority from the start date of the open case understates it."""
    b = pd.read_parquet(tiny_dir / "benefit_spells.parquet")
    truth = pd.read_parquet(tiny_dir / "ground_truth" / "true_spells.parquet")
    ref = pd.Timestamp("2021-11-30")
    open_ = truth[
        (truth["spell_start"] <= ref) & (truth["spell_end"].isna() | (truth["spell_end"] >= ref))
    ]
    kh = b[b["benefit_code"].isin(["130", "131", "132", "133"])]
    case = kh[(kh["start_date"] <= ref) & (kh["end_date"].isna() | (kh["end_date"] >= ref))]
    m = open_.merge(case[["person_id", "start_date"]], on="person_id")
    true_years = (ref - m["spell_start"]).dt.days / 365.25
    naive_years = (ref - m["start_date"]).dt.days / 365.25
    assert len(m) > 100
    assert (naive_years <= true_years + 1e-9).all()
    assert (true_years - naive_years > 1 / 12).mean() > 0.3  # most long spells are split
    assert (true_years >= 5).mean() - (naive_years >= 5).mean() > 0.1
    long = truth[
        (truth["spell_end"].fillna(pd.Timestamp("2023-12-31")) - truth["spell_start"]).dt.days > 730
    ]
    assert (long["n_cases"] > 1).mean() > 0.5  # spells of 2+ years are mostly several cases


def test_reform_codes_appear_only_in_their_periods(tiny_dir):
    b = pd.read_parquet(tiny_dir / "benefit_spells.parquet")
    start = b["start_date"]
    assert (start[b["benefit_code"] == "131"] >= "2014-01-01").all()
    s132 = start[b["benefit_code"] == "132"]
    assert len(s132) and (s132 >= "2016-01-01").all() and (s132 < "2020-01-01").all()
    assert (start[b["benefit_code"] == "133"] >= "2020-01-01").all()
    # the 2014 reform closed and re-opened cases on 2014-01-01
    assert (b.loc[b["benefit_code"] == "131", "start_date"] == "2014-01-01").sum() > 0


def test_case_system_conversion_in_slagelse(tiny_dir):
    b = pd.read_parquet(tiny_dir / "benefit_spells.parquet")
    kh = b[b["benefit_code"].isin(["130", "131", "132", "133"]) & (b["municipality_id"] == 330)]
    conv = kh["start_date"].between("2018-03-01", "2018-03-06")
    assert conv.sum() >= 1


def test_left_truncated_spells_exist_and_long_seniority_in_1991(tiny_dir):
    truth = pd.read_parquet(tiny_dir / "ground_truth" / "true_spells.parquet")
    lt = truth["left_truncated"]
    assert lt.any() and (truth.loc[lt, "spell_start"] < "1991-01-01").all()
    assert (truth.loc[~lt, "spell_start"] >= "1991-01-01").all()
    assert (truth["spell_start"] < "1985-01-01").any()


def test_true_subgroups_cover_persons_with_case_review_groups(tiny_dir):
    sg = pd.read_parquet(tiny_dir / "ground_truth" / "true_subgroups.parquet")
    p = pd.read_parquet(tiny_dir / "persons.parquet")
    assert set(sg["person_id"]) == set(p["person_id"])
    m = sg.merge(p, on="person_id")
    women = m[m["subgroup"] == "nonwestern_women_family"]
    men = m[m["subgroup"] == "danish_men_substance"]
    assert (women["sex"] == "F").mean() > 0.8 and (women["origin"] == "non_western").mean() > 0.7
    assert (men["sex"] == "M").mean() > 0.8 and men["substance_abuse_treatment"].mean() > 0.5
    # overlap: no characteristic identifies a group on its own
    assert 0.05 < (m.loc[m["subgroup"] == "close_to_labour", "sex"] == "F").mean() < 0.95


def test_parameters_json_documents_effects_and_predictors(tiny_dir):
    doc = json.loads((tiny_dir / "ground_truth" / "parameters.json").read_text())
    job = doc["true_effects"]["cw_changes_12m"]["kh->job"]
    assert abs(job["odds_ratio"] - 0.78) < 1e-6 and abs(job["hazard_ratio_approx"] - 0.78) < 1e-6
    assert doc["true_effects"]["conv_3m"]["kh->job"]["odds_ratio"] > 1
    assert "no_feedback" in doc["time_varying_confounding"]
    assert set(doc["model"]["covariates"]) == set(doc["model"]["covariate_order"])
    assert len(doc["municipality_traits"]) == 98
    stats = json.loads((tiny_dir / "ground_truth" / "expected_statistics.json").read_text())
    assert 0 < stats["truth_month_level"]["R1"] < 1
    assert 0.2 < stats["oracle_ari_nov2021_stock"] < 0.95


def test_adjusted_rand_index_matches_scikit_learn():
    from sklearn.metrics import adjusted_rand_score

    from pipelines.synthetic.quickstats import adjusted_rand_index

    rng = np.random.default_rng(3)
    for _ in range(5):
        a = rng.integers(0, 5, 500)
        b = np.where(rng.random(500) < 0.5, a, rng.integers(0, 6, 500))
        assert abs(adjusted_rand_index(a, b) - adjusted_rand_score(a, b)) < 1e-12

"""run_reproduction end to end on the case-review miniature register written as Parquet files."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.audit import audit
from pipelines.config import load_config
from pipelines.reproduction import run_reproduction

SEQ = {
    "P1": "kh kh kh kh",
    "P2": "kh kh kh kh",
    "P3": "kh kh job job",
    "P4": "kh kh kh kh",
    "P5": "kh kh kh kh",
    "P6": "kh kh kh fp",
}


@pytest.fixture
def dirs(tmp_path, reg, review_register):
    validated = tmp_path / "validated"
    derived = tmp_path / "derived"
    results = tmp_path / "results"
    for d in (validated, derived, results / "effects"):
        d.mkdir(parents=True)
    persons = pd.DataFrame(
        [
            reg.person("P1", sex="F", origin="non_western", menapt=True),
            reg.person("P2", birth_year=1960, substance_abuse_treatment=True),
            reg.person("P3"),
            reg.person("P4"),
            reg.person("P5", psychiatric_diagnosis=True, has_children=True, children_placed=True),
            reg.person("P6"),
        ],
        columns=reg.table("persons").columns,
    )
    persons.to_parquet(validated / "persons.parquet")
    for name, df in review_register.items():
        if name != "spells":
            df.to_parquet(validated / f"{name}.parquet")
    spells = review_register["spells"]
    spells.to_parquet(derived / "spells.parquet")
    cohort = spells[spells["person_id"].isin(SEQ)].drop_duplicates("person_id").copy()
    cohort["cohort"] = "2018Q1"
    cohort["reference_date"] = pd.Timestamp("2018-01-01")
    cohort["seniority_days"] = (cohort["reference_date"] - cohort["spell_start"]).dt.days
    cohort["seniority_group"] = "5_10"
    cohort["prior_contact_3y"] = False
    cohort.to_parquet(derived / "cohorts.parquet")
    seq = pd.DataFrame(
        [(p, "2018Q1", h + 1, s) for p, q in SEQ.items() for h, s in enumerate(q.split())],
        columns=["person_id", "cohort", "half_year", "state"],
    )
    seq.to_parquet(derived / "sequences.parquet")
    pd.DataFrame(
        {
            "exposure": ["caseworker_change_12m"],
            "outcome": ["job"],
            "estimator": ["msm_iptw"],
            "estimate": [0.80],
            "conf_low": [0.70],
            "conf_high": [0.95],
        }
    ).to_csv(results / "effects" / "estimates.csv", index=False)
    return validated, derived, results


def test_run_reproduction_writes_every_row_and_passes_the_audit(dirs):
    validated, derived, results = dirs
    cfg = load_config(**{"disclosure.threshold": 1, "reproduction.count_scale": 1000})
    paths = run_reproduction(validated, derived, results, cfg)
    assert paths[0].name == "star2022.csv"
    names = {p.stem for p in paths}
    assert {"characteristics", "efforts", "continuity", "hovedveje", "municipal"} <= names
    t = pd.read_csv(paths[0]).set_index(["id", "part"])
    assert set(t.index.get_level_values("id")) == {f"R{i}" for i in range(1, 23)}
    # hand-computed values (see test_efforts for the case-review persons)
    assert t.loc[("R7", "case_review"), "reproduced"] == pytest.approx(200 / 3)
    assert t.loc[("R9", "case_review"), "reproduced"] == pytest.approx(100 / 3)
    assert t.loc[("R12", "case_review"), "reproduced"] == pytest.approx(100.0)
    assert t.loc[("R13", "all"), "reproduced"] == pytest.approx(400 / 6)
    assert t.loc[("R14", "all"), "reproduced"] == pytest.approx(100 / 6)
    assert t.loc[("R15", "fp"), "reproduced"] == pytest.approx(100 / 6)
    # R16: P1 is a non-western woman; P2 a Danish man aged 60 in 2020 with substance abuse
    assert t.loc[("R16", "non_western_women"), "reproduced"] == pytest.approx(100 / 3)
    assert t.loc[("R16", "danish_men_50_substance"), "reproduced"] == pytest.approx(100 / 3)
    # stock on 2021-11-30: P1-P5, all with 5+ years (P4 since 2016-01-01)
    assert t.loc[("R1", "all"), "reproduced"] == pytest.approx(100.0)
    assert t.loc[("R1", "all"), "n"] == 5
    # R17 from the effects table: HR 0.80 -> -20 %, CI (-30 %, -5 %) covers -22 %
    assert t.loc[("R17", "all"), "reproduced"] == pytest.approx(-20.0)
    assert bool(t.loc[("R17", "all"), "within"]) is True
    # R19: 1000 x the stock of 2015 (P1, P2, P3, P5, P6; P4 starts 2016) and 2021 (P1-P5)
    assert t.loc[("R19", "2015"), "reproduced"] == 5000
    assert t.loc[("R19", "2021"), "reproduced"] == 5000
    assert t.loc[("R19", "change"), "reproduced"] == pytest.approx(0.0)
    assert audit([results], threshold=1, known_ids=[f"P{i}" for i in range(1, 7)]) == []


def test_run_reproduction_with_threshold_5_suppresses_without_crashing(dirs):
    validated, derived, results = dirs
    paths = run_reproduction(validated, derived, results, load_config())
    t = pd.read_csv(paths[0]).set_index(["id", "part"])
    # the case review has 3 persons: suppressed, with the reason
    assert pd.isna(t.loc[("R7", "case_review"), "reproduced"])
    assert "suppressed" in t.loc[("R7", "case_review"), "note"]
    # the 2021 stock has 5 persons: R1 (5 of 5) is published; R3 under 1 year has nobody
    assert t.loc[("R1", "all"), "reproduced"] == 100.0
    # R4 for 5+ years: 1 of 1 with children (P5) -> suppressed
    assert pd.isna(t.loc[("R4", "ge5"), "reproduced"])
    shares = t[(t["unit"] == "pct") & t["n"].notna() & t["reproduced"].notna()].drop(
        ("R6", "all")
    )  # R6: share of time
    implied = (shares["reproduced"] * shares["n"] / 100).round()
    assert not ((implied > 0) & (implied < 5)).any()
    assert not ((shares["n"] - implied > 0) & (shares["n"] - implied < 5)).any()
    assert audit([results], threshold=5, known_ids=[f"P{i}" for i in range(1, 7)]) == []
    eff = pd.read_csv(results / "reproduction" / "efforts.csv")
    review = eff[eff["population"].str.startswith("case_review")]
    assert review["n"].isna().all() and review["share_activated"].isna().all()
    stock_all = eff[eff["population"].str.startswith("stock") & (eff["group"] == "all")]
    assert stock_all["n"].tolist() == [5]

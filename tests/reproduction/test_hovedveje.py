"""Hovedveje (R13-R15) on six hand-made sequences."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.star2022.hovedveje import (
    attachment_groups,
    pathways_table,
    person_pathways,
    publish_pathways,
    top_sequences,
)

SEQS = {
    "H1": "kh kh kh kh",
    "H2": "kh job job kh",
    "H3": "kh kh fp fp",
    "H4": "rf rf kh kh",
    "H5": "kh self_support job job",
    "H6": "kh kh kh kh",
}


@pytest.fixture
def sequences():
    rows = [
        (pid, "2018Q1", h + 1, s) for pid, seq in SEQS.items() for h, s in enumerate(seq.split())
    ]
    return pd.DataFrame(rows, columns=["person_id", "cohort", "half_year", "state"])


def test_person_pathways(sequences):
    p = person_pathways(sequences, 4)
    assert p.loc["H2", "sequence"] == "kh-job-job-kh"
    assert p["all_kh"].sum() == 2
    assert p["first_exit"].to_dict() == {
        "H1": "none",
        "H2": "job",
        "H3": "fp",
        "H4": "rf",
        "H5": "self_support",
        "H6": "none",
    }
    assert p.loc["H3", "last"] == "fp"
    short = person_pathways(sequences[sequences["half_year"] <= 3], 4)
    assert short.loc["H1", "h4"] == "missing" and not short.loc["H1", "all_kh"]


def test_pathway_shares_by_group(sequences):
    p = person_pathways(sequences, 4)
    sen = pd.Series(
        {"H1": "lt1", "H2": "lt1", "H3": "ge10", "H4": "ge10", "H5": "5_10", "H6": "ge10"}
    )
    att = attachment_groups(
        pd.Series({"H1": 0.9, "H2": 0.2, "H3": 0.5, "H4": 0.49, "H5": 1.0, "H6": 0.0}), 0.5
    )
    assert att.to_dict() == {
        "H1": "high",
        "H2": "low",
        "H3": "high",
        "H4": "low",
        "H5": "high",
        "H6": "low",
    }
    t = pathways_table(p, {"seniority_group": sen, "attachment": att}, 4)
    cell = t.set_index(["group_type", "group", "measure", "state"])["share"]
    assert cell[("all", "all", "all_kh", "kh")] == pytest.approx(2 / 6)  # R13
    assert cell[("all", "all", "ever", "job")] == pytest.approx(2 / 6)  # R14
    assert cell[("all", "all", "ever", "fp")] == pytest.approx(1 / 6)  # R15
    assert cell[("all", "all", "ever", "rf")] == pytest.approx(1 / 6)
    assert cell[("all", "all", "ever", "self_support")] == pytest.approx(1 / 6)
    assert cell[("all", "all", "last", "job")] == pytest.approx(1 / 6)
    assert cell[("seniority_group", "ge10", "all_kh", "kh")] == pytest.approx(1 / 3)
    assert cell[("attachment", "high", "ever", "job")] == pytest.approx(1 / 3)
    # last and first_exit partition each group
    for m in ("last", "first_exit"):
        sums = t[t["measure"] == m].groupby(["group_type", "group"])["n_persons"].sum()
        n = t[t["measure"] == m].groupby(["group_type", "group"])["n"].first()
        assert (sums == n).all()
    # empty seniority groups are present with n 0
    assert (t[(t["group"] == "1_2")]["n"] == 0).all()
    pub = publish_pathways(t, threshold=5)
    v = pd.to_numeric(pub["n_persons"], errors="coerce")
    assert not ((v > 0) & (v < 5)).any()


def test_top_sequences_keep_the_remainder_publishable(sequences):
    p = person_pathways(sequences, 4)
    top = top_sequences(p, {}, top=10, threshold=2)
    assert top[["sequence", "n_persons"]].values.tolist() == [["kh-kh-kh-kh", 2], ["other", 4]]
    top5 = top_sequences(p, {}, top=10, threshold=5)
    assert top5[["sequence", "n_persons"]].values.tolist() == [["other", 6]]
    # a remainder of 1 (< threshold 2) pulls the smallest listed sequence back into 'other'
    extra = pd.concat(
        [p, p.loc[["H2"]].rename(index={"H2": "H7"}), p.loc[["H3"]].rename(index={"H3": "H8"})]
    )
    extra = extra.drop(index=["H4", "H5"])
    # now: kh-kh-kh-kh 2, kh-job-job-kh 2, kh-kh-fp-fp 2 -> remainder 0: all listed
    t = top_sequences(extra, {}, top=10, threshold=2)
    assert t["n_persons"].tolist() == [2, 2, 2]
    t2 = top_sequences(extra, {}, top=2, threshold=2)
    assert t2["sequence"].tolist()[-1] == "other" and t2["n_persons"].tolist() == [2, 2, 2]
    extra2 = pd.concat([extra, p.loc[["H4"]]])
    t3 = top_sequences(extra2, {}, top=10, threshold=2)
    # three sequences of 2 and one of 1: listing all three leaves 1 -> list two, other = 3
    assert t3["n_persons"].tolist() == [2, 2, 3]

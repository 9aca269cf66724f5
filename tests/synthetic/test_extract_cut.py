"""`star synth --extract-end`: this year's and next year's delivery of the same population."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipelines.synthetic import generate

TABLES = {
    "benefit_spells": "start_date",
    "monthly_paid_hours": "month",
    "caseworker_assignments": "start_date",
    "conversations": "conversation_date",
    "activation_offers": "start_date",
    "exemptions": "start_date",
}
EARLY, LATE = pd.Timestamp("2021-12-31"), pd.Timestamp("2022-12-31")


@pytest.fixture(scope="module")
def cuts(tmp_path_factory):
    root = tmp_path_factory.mktemp("cuts")
    for name, end in (("early", EARLY), ("late", LATE)):
        generate("tiny", 5, root / name, extract_end=end.date(), statistics=False)
    return root / "early", root / "late"


def _as_of(df: pd.DataFrame, start: str, cut: pd.Timestamp, persons: pd.Series) -> pd.DataFrame:
    """What a delivery ending on ``cut`` holds of ``df`` (by the rule, written independently)."""
    out = df[df["person_id"].isin(persons) & (df[start] <= cut)].copy()
    if "end_date" in out:
        late = out["end_date"] > cut
        out.loc[late, "end_date"] = pd.NaT
        if "outcome" in out:
            out.loc[late, "outcome"] = "ongoing"
    return out.reset_index(drop=True)


def test_same_persons_and_histories_up_to_the_earlier_cut(cuts):
    early, late = cuts
    pe, pl = (pd.read_parquet(d / "persons.parquet") for d in (early, late))
    assert set(pe["person_id"]) < set(pl["person_id"])  # new entrants only in the later delivery
    pd.testing.assert_frame_equal(
        pe.reset_index(drop=True),
        pl[pl["person_id"].isin(pe["person_id"])].reset_index(drop=True),
    )
    for table, start in TABLES.items():
        a = pd.read_parquet(early / f"{table}.parquet")
        b = pd.read_parquet(late / f"{table}.parquet")
        assert a[start].max() <= EARLY and b[start].max() <= LATE, table
        assert len(b) > len(a), table  # one more year of data
        want = _as_of(b, start, EARLY, pe["person_id"])
        pd.testing.assert_frame_equal(a, want, check_categorical=False, obj=table)


def test_open_records_at_the_cut_and_the_record_of_the_cut(cuts):
    early, _ = cuts
    b = pd.read_parquet(early / "benefit_spells.parquet")
    assert b["end_date"].isna().any() and (b["end_date"].dropna() <= EARLY).all()
    o = pd.read_parquet(early / "activation_offers.parquet")
    assert ((o["outcome"] == "ongoing") == o["end_date"].isna()).all()
    doc = json.loads((early / "ground_truth" / "parameters.json").read_text())
    assert doc["extract_end"] == "2021-12-31"


def test_every_person_has_a_benefit_record_before_the_cut(cuts):
    early, _ = cuts
    p = pd.read_parquet(early / "persons.parquet")
    b = pd.read_parquet(early / "benefit_spells.parquet")
    assert np.array_equal(np.sort(p["person_id"].unique()), np.sort(b["person_id"].unique()))

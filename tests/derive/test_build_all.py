"""The whole derive stage from validated Parquet files, in both benefit shapes."""

import json

import pandas as pd
import pytest
from spellkit import to_weekly
from test_cohorts import persons as cohort_persons
from test_cohorts import register as cohort_register
from test_frames import register_tables

from data_schema import derived
from pipelines.config.model import StarConfig
from pipelines.derive import OUTPUTS, build_all


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    frames = register_tables()
    d = tmp_path_factory.mktemp("validated")
    benefits = pd.concat([cohort_register(), frames["benefits"]], ignore_index=True)
    persons = pd.concat([cohort_persons(), frames["persons"]], ignore_index=True)
    benefits.to_parquet(d / "benefit_spells.parquet")
    persons.to_parquet(d / "persons.parquet")
    for name in ("caseworker_assignments", "conversations", "activation_offers", "exemptions"):
        frames[name].to_parquet(d / f"{name}.parquet")
    frames["paid_hours"].to_parquet(d / "monthly_paid_hours.parquet")
    return d, benefits


def read(paths, name):
    return pd.read_parquet(paths[name])


def test_build_all_records(validated, tmp_path):
    d, _ = validated
    paths = build_all(d, tmp_path / "derived", StarConfig())
    assert set(OUTPUTS) <= set(paths)
    derived.Spells.validate(read(paths, "spells"))
    co = read(paths, "cohorts")
    derived.Cohort.validate(co)
    derived.MonthlyStates.validate(read(paths, "monthly_states"))
    derived.Sequences.validate(read(paths, "sequences"))
    ss = read(paths, "start_stop")
    derived.StartStop.validate(ss)
    derived.PersonMonth.validate(read(paths, "person_month"))
    assert sorted(co[co.cohort == "2018Q1"].person_id) == ["A", "B", "D", "P", "Q"]
    p = ss[ss.person_id == "P"]
    assert len(p) == 14 and p.tstart.min() == 214 and p.event.tolist()[-1] == 1
    # B leaves KH on 2018-09-30 for sickness benefit (other_benefit = 7)
    assert ss[ss.person_id == "B"].event.tolist()[-1] == 7
    manifest = json.loads(paths["manifest"].read_text())
    assert manifest["benefit_shape"] == "records" and manifest["cohort_sizes"]["2018Q1"] == 5
    ms = read(paths, "monthly_states")
    assert ms.month.min() == pd.Timestamp("2016-01-01")  # two years before the earliest cohort date


def test_build_all_weekly_matches_records_up_to_weeks(validated, tmp_path):
    d, benefits = validated
    wk = tmp_path / "weekly"
    wk.mkdir()
    for f in d.glob("*.parquet"):
        if f.name != "benefit_spells.parquet":
            (wk / f.name).write_bytes(f.read_bytes())
    to_weekly(benefits).to_parquet(wk / "weekly_benefit_codes.parquet")
    paths = build_all(wk, tmp_path / "derived_w", StarConfig())
    rec = build_all(d, tmp_path / "derived_r", StarConfig())
    a = read(rec, "cohorts").set_index(["cohort", "person_id"])
    b = read(paths, "cohorts").set_index(["cohort", "person_id"])
    assert sorted(a.index) == sorted(b.index)
    diff = (a.spell_start - b.spell_start.reindex(a.index)).dt.days
    assert diff.between(0, 6).all()  # weekly spells start on the Monday of the record start's week
    assert json.loads(paths["manifest"].read_text())["benefit_shape"] == "weekly"

"""State classification on hand-made registers (expected states worked out by hand)."""

from datetime import date as D

import pandas as pd
import pytest
from spellkit import records

from data_schema.derived import MonthlyStates
from pipelines.config.model import StarConfig, StateOptions
from pipelines.derive import Engine, build_spells, monthly_states


@pytest.fixture(scope="module")
def eng():
    e = Engine()
    yield e
    e.close()


def hours(*rows):
    return pd.DataFrame(
        [
            {
                "person_id": p,
                "month": pd.Timestamp(m),
                "paid_hours": float(h),
                "earnings_dkk": float(e),
            }
            for p, m, h, e in rows
        ]
    )


def states_of(recs, eng, paid=None, start="2015-01", end="2015-12", config=None, **kw):
    sp = build_spells(recs, paid_hours=paid, engine=eng, config=config)
    ms = monthly_states(
        recs, sp, paid_hours=paid, start=start, end=end, engine=eng, config=config, **kw
    )
    MonthlyStates.validate(ms)
    return {
        (r.person_id, pd.Timestamp(r.month).strftime("%Y-%m")): r.state for r in ms.itertuples()
    }


def test_databrud_gap_counts_as_kh(eng):
    # case closed 10 March, reopened 20 April (no whole month free): one spell, March-April are KH
    recs = records((130, D(2015, 1, 1), D(2015, 3, 10)), (130, D(2015, 4, 20), D(2015, 8, 31)))
    s = states_of(recs, eng)
    assert [s[("p1", f"2015-{m:02d}")] for m in range(1, 13)] == ["kh"] * 8 + ["self_support"] * 4
    # unbridged, April would have been self-support on most days (19 of 30)


def test_priority_and_job_threshold(eng):
    recs = records(
        (130, D(2015, 1, 1), D(2015, 12, 31)),
        (621, D(2015, 10, 1), None),  # førtidspension outranks everything but death
        (651, D(2015, 2, 1), D(2015, 2, 28)),  # SU (edu) outranks kh
        (890, D(2015, 3, 1), D(2015, 3, 31)),  # sickness benefit is below kh
    )
    paid = hours(
        ("p1", "2015-05-01", 80, 0), ("p1", "2015-06-01", 79.5, 0), ("p1", "2015-11-01", 160, 0)
    )
    s = states_of(recs, eng, paid)
    got = [s[("p1", f"2015-{m:02d}")] for m in range(1, 13)]
    assert got == ["kh", "edu", "kh", "kh", "job", "kh", "kh", "kh", "kh", "fp", "fp", "fp"]


def test_earnings_threshold_is_an_alternative(eng):
    recs = records((130, D(2015, 1, 1), D(2015, 12, 31)))
    paid = hours(("p1", "2015-05-01", 30, 25000))
    cfg = StarConfig(states=StateOptions(job_earnings_threshold_dkk=20000))
    assert states_of(recs, eng, paid)[("p1", "2015-05")] == "kh"
    assert states_of(recs, eng, paid, config=cfg)[("p1", "2015-05")] == "job"


def test_predominant_end_and_ties(eng):
    recs = records(
        (130, D(2015, 1, 1), D(2015, 1, 20)),  # January: 20 kh days, then 11 days sickness benefit
        (890, D(2015, 1, 21), D(2015, 2, 28)),
        (
            130,
            D(2015, 4, 1),
            D(2015, 4, 15),
        ),  # April: 15 kh, 15 edu -> tie -> edu (higher priority)
        (651, D(2015, 4, 16), D(2015, 4, 30)),
        person="p2",
    )
    pred = states_of(recs, eng, start="2015-01", end="2015-04")
    end = states_of(recs, eng, start="2015-01", end="2015-04", rule="end")
    assert pred[("p2", "2015-01")] == "kh" and end[("p2", "2015-01")] == "other_benefit"
    assert pred[("p2", "2015-02")] == "other_benefit"
    assert pred[("p2", "2015-03")] == "self_support"
    assert pred[("p2", "2015-04")] == "edu" and end[("p2", "2015-04")] == "edu"


def test_weekly_shape_gives_same_states_on_week_aligned_data(eng):
    # KH weeks 5 Jan - 29 Mar 2015, then førtidspension from 30 March (a Monday)
    recs = records((130, D(2015, 1, 5), D(2015, 3, 29)), (621, D(2015, 3, 30), D(2015, 12, 27)))
    weeks = []
    for code, a, b in (("130", "2015-01-05", "2015-03-23"), ("621", "2015-03-30", "2015-12-21")):
        for w in pd.date_range(a, b, freq="7D"):
            weeks.append(("p1", w, code))
    weekly = pd.DataFrame(weeks, columns=["person_id", "week_start", "benefit_code"])
    a = states_of(recs, eng)
    sp = build_spells(weekly, shape="weekly", engine=eng)
    ms = monthly_states(weekly, sp, shape="weekly", start="2015-01", end="2015-12", engine=eng)
    b = {(r.person_id, pd.Timestamp(r.month).strftime("%Y-%m")): r.state for r in ms.itertuples()}
    assert a == b
    assert a[("p1", "2015-03")] == "kh" and a[("p1", "2015-04")] == "fp"

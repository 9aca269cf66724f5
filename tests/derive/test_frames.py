"""Start-stop and person-month frames on a hand-made register; every expected row is written out
by hand from the covariate definitions in pipelines/derive/frames.py."""

from datetime import date as D

import pandas as pd
import pytest
from spellkit import records

from data_schema.derived import EXIT_CODES, PersonMonth, StartStop
from pipelines.derive import (
    Engine,
    build_cohorts,
    build_person_month,
    build_spells,
    build_start_stop,
)

T = pd.Timestamp


@pytest.fixture(scope="module")
def eng():
    e = Engine()
    yield e
    e.close()


@pytest.fixture(scope="module")
def register():
    return register_tables()


def register_tables() -> dict[str, pd.DataFrame]:
    """Two persons: P (a spell 2017-06-01 - 2018-10-31 with every kind of covariate change, then a
    job) and Q (left-truncated, still on KH)."""
    benefits = pd.concat(
        [
            records((130, D(2017, 6, 1), D(2018, 10, 31), "P")),
            records((130, D(1991, 1, 1), None, "Q")),  # left-truncated, still running
        ],
        ignore_index=True,
    )
    hours = pd.DataFrame(
        [("P", T("2018-03-01"), 20.0)]
        + [("P", m, 150.0) for m in pd.date_range("2018-11-01", "2019-12-01", freq="MS")],
        columns=["person_id", "month", "paid_hours"],
    ).assign(earnings_dkk=0.0)
    cw = pd.DataFrame(
        [
            ("P", "w", "2017-01-01", "2017-05-31"),  # before the spell
            (
                "P",
                "x",
                "2017-06-01",
                "2018-01-31",
            ),  # takes over on the spell's first day: no change in the spell
            ("P", "y", "2018-02-01", "2018-04-30"),  # change 1
            ("P", "y", "2018-05-01", "2018-06-30"),  # same case worker again: no change
            ("P", "z", "2018-07-01", None),  # change 2
        ],
        columns=["person_id", "caseworker_id", "start_date", "end_date"],
    ).assign(municipality_id=101)
    for c in ("start_date", "end_date"):
        cw[c] = pd.to_datetime(cw[c])
    conv = pd.DataFrame(
        {
            "person_id": ["P", "P", "P"],
            "conversation_date": pd.to_datetime(["2017-12-20", "2018-01-15", "2018-03-01"]),
            "conversation_type": ["job", "job", "other"],
            "municipality_id": 101,
        }
    )
    offers = pd.DataFrame(
        {
            "person_id": ["P"],
            "offer_id": ["o1"],
            "offer_type": ["mentor"],
            "start_date": [T("2018-02-10")],
            "end_date": [T("2018-03-10")],
            "outcome": ["completed"],
        }
    )
    exemptions = pd.DataFrame(
        {
            "person_id": ["P"],
            "start_date": [T("2018-04-01")],
            "end_date": [T("2018-04-15")],
            "reason": ["illness"],
        }
    )
    persons = pd.DataFrame({"person_id": ["P", "Q"], "birth_year": [1980, 1960], "sex": ["F", "M"]})
    return dict(
        benefits=benefits,
        paid_hours=hours,
        caseworker_assignments=cw,
        conversations=conv,
        activation_offers=offers,
        exemptions=exemptions,
        persons=persons,
    )


@pytest.fixture(scope="module")
def cohort_and_spells(register, eng):
    sp = build_spells(register["benefits"], paid_hours=register["paid_hours"], engine=eng)
    co = build_cohorts(
        sp,
        persons=register["persons"],
        benefits=register["benefits"],
        quarters=["2018Q1"],
        engine=eng,
    )
    return co, sp


COLS = ["cw_changes", "cw_changes_12m", "conv_3m", "conv_12m", "jobconv_3m", "jobconv_12m",
        "in_activation", "exempt", "exempt_illness", "paid_hours", "paid_hours_lag1"]  # fmt: skip

# date_start, date_stop, then COLS; the conversation of 2017-12-20 counts from 2017-12-21 for
# 91 days (to 2018-03-21) in the 3-month window
EXPECTED_P = [
    ("2018-01-01", "2018-01-15", 0, 0, 1, 1, 1, 1, False, False, False, 0, 0),
    ("2018-01-16", "2018-01-31", 0, 0, 2, 2, 2, 2, False, False, False, 0, 0),
    ("2018-02-01", "2018-02-09", 1, 1, 2, 2, 2, 2, False, False, False, 0, 0),
    ("2018-02-10", "2018-02-28", 1, 1, 2, 2, 2, 2, True, False, False, 0, 0),
    ("2018-03-01", "2018-03-01", 1, 1, 2, 2, 2, 2, True, False, False, 20, 0),
    ("2018-03-02", "2018-03-10", 1, 1, 3, 3, 2, 2, True, False, False, 20, 0),
    ("2018-03-11", "2018-03-21", 1, 1, 3, 3, 2, 2, False, False, False, 20, 0),
    ("2018-03-22", "2018-03-31", 1, 1, 2, 3, 1, 2, False, False, False, 20, 0),
    ("2018-04-01", "2018-04-15", 1, 1, 2, 3, 1, 2, False, True, True, 0, 20),
    ("2018-04-16", "2018-04-16", 1, 1, 2, 3, 1, 2, False, False, False, 0, 20),
    ("2018-04-17", "2018-04-30", 1, 1, 1, 3, 0, 2, False, False, False, 0, 20),
    ("2018-05-01", "2018-05-31", 1, 1, 1, 3, 0, 2, False, False, False, 0, 0),
    ("2018-06-01", "2018-06-30", 1, 1, 0, 3, 0, 2, False, False, False, 0, 0),
    ("2018-07-01", "2018-10-31", 2, 2, 0, 3, 0, 2, False, False, False, 0, 0),
]


def test_start_stop_rows_by_hand(register, cohort_and_spells, eng):
    co, sp = cohort_and_spells
    ss = build_start_stop(
        co, sp, engine=eng, **{k: v for k, v in register.items() if k != "benefits"}
    )
    StartStop.validate(ss)
    p = ss[ss.person_id == "P"].reset_index(drop=True)
    assert len(p) == len(EXPECTED_P)
    spell_start = T("2017-06-01")
    for row, exp in zip(p.itertuples(), EXPECTED_P, strict=True):
        a, b, *vals = exp
        assert (row.date_start, row.date_stop) == (T(a), T(b))
        assert (
            row.tstart == (T(a) - spell_start).days and row.tstop == (T(b) - spell_start).days + 1
        )
        assert [getattr(row, c) for c in COLS] == vals, a
        assert row.age == 38 and row.seniority_entry_days == 214
    # the spell ends on 2018-10-31 and November is a job month: job exit on the last row only
    assert p.event.tolist() == [0] * 13 + [EXIT_CODES["job"]]
    assert p.tstart.iloc[0] == 214  # delayed entry at the seniority on 2018-01-01


def test_start_stop_left_truncated_censored(register, cohort_and_spells, eng):
    co, sp = cohort_and_spells
    ss = build_start_stop(co, sp, persons=register["persons"], engine=eng)
    q = ss[ss.person_id == "Q"].reset_index(drop=True)
    t0 = (T("2018-01-01") - T("1991-01-01")).days
    # two years of follow-up (to 2019-12-31), split on 1 January for age, censored (event 0)
    assert q[["tstart", "tstop"]].values.tolist() == [[t0, t0 + 365], [t0 + 365, t0 + 730]]
    assert q.age.tolist() == [58, 59] and q.event.tolist() == [0, 0]
    assert q.left_truncated.all()


def test_person_month_rows_by_hand(register, cohort_and_spells, eng):
    co, sp = cohort_and_spells
    pm = build_person_month(co, sp, engine=eng, **register)
    PersonMonth.validate(pm)
    p = pm[pm.person_id == "P"].set_index(pm[pm.person_id == "P"].month.dt.strftime("%Y-%m"))
    assert len(p) == 24 and p.month_index.tolist() == list(range(1, 25))
    assert p.loc["2018-10", "state"] == "kh" and p.loc["2018-10", "next_state"] == "job"
    assert p.loc["2018-11", "state"] == "job" and pd.isna(p.loc["2018-11", "seniority_months"])
    assert p.loc["2018-01", "seniority_months"] == 7 and p.loc["2018-10", "seniority_months"] == 16
    assert p.loc["2019-12", "next_state"] == "self_support"  # no job hours after December 2019
    # covariates on the month's first day; outside the start-stop frame's spell restriction the
    # take-over on 2017-06-01 (w -> x) is a change in the last 12 months
    assert p.loc["2018-01", "cw_changes_12m"] == 1 and p.loc["2018-02", "cw_changes_12m"] == 2
    assert (
        p.loc["2018-06", "cw_changes_12m"] == 1
    )  # the 2017-06-01 change dropped out on 2018-06-01
    assert p.loc["2018-02", "conv_3m"] == 2 and p.loc["2018-04", "conv_3m"] == 2
    assert p.loc["2018-03", "in_activation"] and not p.loc["2018-04", "in_activation"]
    assert p.loc["2018-04", "exempt_illness"] and p.loc["2018-04", "paid_hours_lag1"] == 20
    assert p.loc["2018-03", "paid_hours_lag1"] == 0
    q = pm[pm.person_id == "Q"]
    assert (q.state == "kh").all() and q.seniority_months.iloc[0] == (2018 - 1991) * 12

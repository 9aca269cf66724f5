"""Cohorts, seniority and sequences on a hand-made register (expected values by hand)."""

from datetime import date as D

import pandas as pd
import pytest
from spellkit import records

from data_schema.derived import Cohort, Sequences
from pipelines.config.model import CohortOptions, StarConfig
from pipelines.derive import (
    Engine,
    build_cohorts,
    build_sequences,
    build_spells,
    naive_case_seniority,
    seniority_at,
    seniority_group,
)


@pytest.fixture(scope="module")
def eng():
    e = Engine()
    yield e
    e.close()


def register():
    return pd.concat(
        [
            # A: one true spell since 2012-03-01 split into three cases (a move on 2015-06-01, a
            # closed-and-reopened case with a 3-week gap in 2017, a reform to uddannelseshjælp)
            records(
                (130, D(2012, 3, 1), D(2015, 5, 31), "A"),
                (130, D(2015, 6, 1), D(2017, 2, 10), "A"),
                (131, D(2017, 3, 3), None, "A"),
            ),
            # B: spell starting mid-quarter 2018-02-14, ends 2018-09-30, then sygedagpenge
            records(
                (132, D(2018, 2, 14), D(2018, 9, 30), "B"),
                (890, D(2018, 10, 1), D(2019, 3, 31), "B"),
            ),
            # C: spell ended before the quarter (2017-12-31): not in the 2018Q1 stock
            records((130, D(2016, 1, 1), D(2017, 12, 31), "C")),
            # D: two spells in the quarter under the strict rule (gap 10-14 Feb), one under the
            # default; earlier spell ended 2015-01-20 (< 3 years before 2018-01-05 -> contact)
            records(
                (130, D(2014, 6, 1), D(2015, 1, 20), "D"),
                (130, D(2018, 1, 5), D(2018, 2, 9), "D"),
                (130, D(2018, 2, 15), D(2022, 6, 30), "D"),
            ),
        ],
        ignore_index=True,
    )


def persons():
    return pd.DataFrame(
        {
            "person_id": ["A", "B", "C", "D"],
            "birth_year": [1970, 1995, 1980, 1988],
            "sex": ["F", "M", "M", "F"],
            "origin": ["non_western", "danish", "danish", "western"],
        }
    )


def test_stock_and_quarter_cohorts(eng):
    recs = register()
    sp = build_spells(recs, engine=eng)
    cfg = StarConfig(cohorts=CohortOptions(annual_years=[2019]))
    co = build_cohorts(sp, persons=persons(), benefits=recs, config=cfg, engine=eng)
    Cohort.validate(co)
    q = co[co.cohort == "2018Q1"].set_index("person_id")
    assert sorted(q.index) == ["A", "B", "D"]
    assert q.loc["A", "reference_date"] == pd.Timestamp("2018-01-01")
    assert q.loc["A", "spell_start"] == pd.Timestamp("2012-03-01")
    assert (
        q.loc["A", "seniority_days"]
        == (pd.Timestamp("2018-01-01") - pd.Timestamp("2012-03-01")).days
    )
    assert q.loc["A", "seniority_group"] == "5_10"
    assert q.loc["A", "kh_group"] == "uddannelseshjaelp" and q.loc["A", "age"] == 48
    assert (
        q.loc["B", "reference_date"] == pd.Timestamp("2018-02-14")
        and q.loc["B", "seniority_days"] == 0
    )
    assert q.loc["D", "reference_date"] == pd.Timestamp("2018-01-05")
    assert q.loc["D", "prior_contact_3y"] and not q.loc["A", "prior_contact_3y"]
    # share of the 2 years before 2018-01-05 in KH: 2016-01-05 .. 2018-01-04 -> none
    assert q.loc["D", "kh_share_2y"] == 0 and q.loc["D", "attachment"] == "low"
    assert q.loc["A", "kh_share_2y"] == 1 and q.loc["A", "attachment"] == "high"
    # stock on 2021-11-30: A (open) and D
    s = co[co.cohort == "stock-2021-11-30"].set_index("person_id")
    assert sorted(s.index) == ["A", "D"]
    assert s.loc["D", "seniority_group"] == "3_5"  # since 2018-01-05: 3 years 10 months
    # yearly cohorts of 2019: the stock on 30 November 2019 (A, D); nobody entered in 2019
    assert sorted(co[co.cohort == "stock-2019-11-30"].person_id) == ["A", "D"]
    assert set(co.cohort) == {"2018Q1", "stock-2021-11-30", "stock-2019-11-30"}
    # inflow 2018: B (2018-02-14) and D (2018-01-05)
    cfg = StarConfig(cohorts=CohortOptions(annual_years=[2018]))
    co = build_cohorts(sp, config=cfg, engine=eng)
    inflow = co[co.cohort == "inflow-2018"].set_index("person_id")
    assert sorted(inflow.index) == ["B", "D"]
    assert (inflow.seniority_days == 0).all()
    assert inflow.loc["B", "reference_date"] == pd.Timestamp("2018-02-14")


def test_strict_rule_quarter_stock_takes_first_spell(eng):
    recs = register()
    sp = build_spells(recs, gap_rule="strict", engine=eng)
    co = build_cohorts(sp, quarters=["2018Q1"], inflow_years=[2018], engine=eng)
    d = co[(co.cohort == "2018Q1") & (co.person_id == "D")].iloc[0]
    assert d.spell_start == pd.Timestamp("2018-01-05")
    inflow = co[co.cohort == "inflow-2018"].set_index("person_id")
    assert sorted(inflow.index) == ["B", "D"]
    assert inflow.loc["D", "reference_date"] == pd.Timestamp("2018-01-05")
    # under the strict rule A's 2017 gap breaks the spell: A's spell starts 2017-03-03
    a = co[(co.cohort == "2018Q1") & (co.person_id == "A")].iloc[0]
    assert a.spell_start == pd.Timestamp("2017-03-03") and a.seniority_group == "lt1"


def test_naive_case_start_seniority(eng):
    recs = register()
    naive = naive_case_seniority(recs, "2018-01-01", engine=eng).set_index("person_id")
    assert naive.loc["A", "case_start"] == pd.Timestamp("2017-03-03")
    assert naive.loc["A", "naive_seniority_group"] == "lt1"
    true = seniority_at(build_spells(recs, engine=eng), "2018-01-01").set_index("person_id")
    assert true.loc["A", "seniority_group"] == "5_10"


@pytest.mark.parametrize(
    ("start", "ref", "group"),
    [
        ("2016-11-30", "2021-11-30", "5_10"),  # exactly five years
        ("2016-12-01", "2021-11-30", "3_5"),  # one day short
        ("2016-02-29", "2021-02-28", "3_5"),  # leap-day start: five years only on 1 March
        ("2016-02-29", "2021-03-01", "5_10"),
        ("2021-11-30", "2021-11-30", "lt1"),
        ("2011-11-30", "2021-11-30", "ge10"),
        ("2020-11-30", "2021-11-30", "1_2"),
    ],
)
def test_seniority_group_boundaries(eng, start, ref, group):
    assert seniority_group(start, ref) == group
    sp = pd.DataFrame(
        {
            "person_id": ["x"],
            "spell_id": [1],
            "spell_start": [pd.Timestamp(start)],
            "spell_end": [pd.NaT],
        }
    )
    assert seniority_at(sp, ref, engine=eng).seniority_group.tolist() == [group]


def test_sequences_half_years(eng):
    recs = register()
    sp = build_spells(recs, engine=eng)
    co = build_cohorts(sp, quarters=["2018Q1"], engine=eng)
    seq = build_sequences(co, recs, sp, engine=eng)
    Sequences.validate(seq)
    got = {(r.person_id, r.half_year): r.state for r in seq.itertuples()}
    # A: on KH throughout
    assert [got[("A", k)] for k in (1, 2, 3, 4)] == ["kh"] * 4
    # B enters 2018-02-14: HY1 = 14 Feb - 13 Aug 2018 kh; HY2 = 14 Aug 2018 - 13 Feb 2019:
    # kh until 30 Sep (48 days), sygedagpenge 1 Oct - 13 Feb (136 days) -> other_benefit;
    # HY3 = 14 Feb - 13 Aug 2019: sygedagpenge until 31 Mar (46 days), then self-support
    assert [got[("B", k)] for k in (1, 2, 3, 4)] == [
        "kh",
        "other_benefit",
        "self_support",
        "self_support",
    ]
    b = seq[(seq.person_id == "B") & (seq.half_year == 2)].iloc[0]
    assert b.period_start == pd.Timestamp("2018-08-14") and b.period_end == pd.Timestamp(
        "2019-02-13"
    )
    # anchored after the quarter, all half-years start on 1 April / 1 October
    cfg = StarConfig(cohorts=CohortOptions(sequence_anchor="after_period"))
    seq2 = build_sequences(co, recs, sp, config=cfg, engine=eng)
    assert set(seq2.period_start.dt.strftime("%m-%d")) == {"04-01", "10-01"}
    got2 = {(r.person_id, r.half_year): r.state for r in seq2.itertuples()}
    # B from 2018-04-01: HY1 Apr-Sep kh; HY2 Oct-Mar other_benefit; HY3 self-support
    assert [got2[("B", k)] for k in (1, 2, 3)] == ["kh", "other_benefit", "self_support"]

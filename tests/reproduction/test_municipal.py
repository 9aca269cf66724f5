"""R19-R22 on miniature registers computed by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis.star2022 import StarParameters
from analysis.star2022.municipal import (
    caseload_summary,
    caseloads,
    municipal_table,
    national_scale,
    stock_counts,
)

NaT = None
PARAMS = StarParameters()


def test_copenhagen_and_slagelse_shares(reg):
    rows_sp, rows_b = [], []

    def add(pid, start, mun, group="activity_ready", end=NaT):
        rows_sp.append((pid, start, end))
        rows_b.append((pid, f"c{pid}", "130", start, end, mun, group))

    # Copenhagen on 2019-07-31: 3 years = started on or before 2016-07-31
    add("K1", "2015-01-01", 101)  # >= 3, < 10
    add("K2", "2008-01-01", 101)  # >= 10
    add("K3", "2019-01-01", 101)  # < 3
    add("K4", "2016-07-31", 101)  # exactly 3 years
    add("K5", "2010-01-01", 101, group="job_ready")  # not activity-ready
    add("K6", "2010-01-01", 330, end="2019-06-30")  # gone before both dates
    # Slagelse on 2023-05-08: 10 years = started on or before 2013-05-08
    add("S1", "2010-01-01", 330)
    add("S2", "2020-01-01", 330)
    add("O1", "2012-01-01", 751)
    add("O2", "2022-01-01", 751)
    add("O3", "2021-01-01", 561)
    t = municipal_table(reg.spells(rows_sp), reg.table("benefit_spells", rows_b), PARAMS)
    t = t.set_index(["statistic", "municipality"])
    # K1-K4 are activity-ready in 101 in July 2019 (S1 is in 330)
    assert t.loc[("activity_ready_ge3y", "101"), "n"] == 4
    assert t.loc[("activity_ready_ge3y", "101"), "share"] == pytest.approx(3 / 4)
    assert t.loc[("activity_ready_ge10y", "101"), "share"] == pytest.approx(1 / 4)
    assert t.loc[("activity_ready_ge10y", "330"), "share"] == pytest.approx(1 / 2)
    # comparison: everyone activity-ready in May 2023 outside 330, 101 and 461: O1-O3
    assert t.loc[("activity_ready_ge10y", "comparison"), "n"] == 3
    assert t.loc[("activity_ready_ge10y", "comparison"), "share"] == pytest.approx(1 / 3)
    days = (pd.Timestamp("2023-05-08") - pd.Timestamp("2010-01-01")).days
    assert t.loc[("mean_seniority_days_ge10y", "330"), "value"] == days


def test_stock_counts_and_scale(reg):
    spells = reg.spells(
        [
            ("A", "2014-01-01", "2016-01-01"),
            ("B", "2015-11-30", NaT),
            ("C", "2021-11-30", NaT),
            ("D", "2015-01-01", "2015-11-29"),
        ]
    )
    c = stock_counts(spells, PARAMS.count_dates, scale=10.0)
    assert c["n"].tolist() == [2, 2]
    assert c["national_estimate"].tolist() == [20.0, 20.0]
    assert national_scale(30_000) == 4.0


def test_caseload_summary_by_hand():
    loads = pd.DataFrame(
        {
            "caseworker_id": list("abcdefghijk"),
            "municipality_id": [101] * 6 + [330] * 5,
            "caseload": [10, 20, 30, 40, 50, 60, 210, 220, 230, 240, 250],
        }
    )
    s = caseload_summary(loads, threshold=5, very_large=200).set_index("statistic")
    # median of 11: the 5 values around position 5 are 40, 50, 60, 210, 220
    assert s.loc["caseload_p50", "value"] == pytest.approx(116.0)
    assert s.loc["caseload_p50", "units"] == 11
    # municipal medians: 101 -> mean of 10..50 = 30; 330 -> mean of all five = 230
    assert s.loc["municipalities_median_caseload_over_200", "value"] == 1
    assert s.loc["municipalities_median_caseload_over_200", "units"] == 2
    small = caseload_summary(loads.iloc[:4], threshold=5, very_large=200).set_index("statistic")
    assert pd.isna(small.loc["caseload_p50", "value"])


def test_caseloads_count_activity_ready_recipients_with_a_running_assignment(reg):
    spells = reg.spells(
        [("P1", "2015-01-01", NaT), ("P2", "2015-01-01", NaT), ("P3", "2015-01-01", NaT)]
    )
    benefit = reg.table(
        "benefit_spells",
        [
            ("P1", "c1", "130", "2015-01-01", NaT, 101, "activity_ready"),
            ("P2", "c2", "130", "2015-01-01", NaT, 101, "activity_ready"),
            ("P3", "c3", "130", "2015-01-01", NaT, 101, "job_ready"),
        ],
    )
    ca = reg.table(
        "caseworker_assignments",
        [
            ("P1", "A", 101, "2020-01-01", NaT),
            ("P2", "A", 101, "2019-01-01", "2021-11-29"),  # ended the day before
            ("P2", "B", 101, "2021-11-30", NaT),
            ("P3", "A", 101, "2020-01-01", NaT),  # job-ready: not counted
        ],
    )
    loads = caseloads(spells, benefit, ca, date(2021, 11, 30), PARAMS)
    assert loads.set_index("caseworker_id")["caseload"].to_dict() == {"A": 1, "B": 1}


def test_caseload_summary_scales_sampled_caseloads():
    # a 1-in-4 sample of persons: raw caseloads 30 and 60 are national caseloads 120 and 240
    loads = pd.DataFrame(
        {
            "caseworker_id": list("abcdefghij"),
            "municipality_id": [101] * 5 + [330] * 5,
            "caseload": [30] * 5 + [60] * 5,
        }
    )
    raw = caseload_summary(loads, threshold=5, very_large=200).set_index("statistic")
    assert raw.loc["municipalities_median_caseload_over_200", "value"] == 0
    s = caseload_summary(loads, threshold=5, very_large=200, scale=4.0).set_index("statistic")
    assert s.loc["municipalities_median_caseload_over_200", "value"] == 1
    # median of 10 (position 4.5): sorted values 3..7 are 30, 30, 30, 60, 60 (x4)
    assert s.loc["caseload_p50", "value"] == pytest.approx(4 * (30 * 3 + 60 * 2) / 5)


def test_municipal_spread_leaves_out_small_municipalities():
    from analysis.star2022.table import municipal_spread

    pop = "case_review"
    efforts = pd.DataFrame(
        {
            "population": [pop] * 5 + ["other"],
            "group_type": ["municipality"] * 6,
            "group": ["101", "147", "330", "461", "751", "101"],
            "n": [40, 30, 50, 6, 29, 100],
            "share_paid_hours": [0.05, 0.10, 0.20, 0.0, 0.0, 0.5],
        }
    )
    v = municipal_spread(efforts, pop, "share_paid_hours", min_persons=30)
    # three municipalities with >= 30 persons: 0.05, 0.10, 0.20 -> p10 = 6 %, p90 = 18 %
    assert v[("R8", "municipal_p10")].value == pytest.approx(6.0)
    assert v[("R8", "municipal_p90")].value == pytest.approx(18.0)
    assert v[("R8", "municipal_p10")].n == 120
    none = municipal_spread(efforts, pop, "share_paid_hours", min_persons=45)
    assert none[("R8", "municipal_p10")].value is None

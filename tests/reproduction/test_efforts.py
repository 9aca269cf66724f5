"""Efforts statistics (R6-R12, R16, R18) on miniature registers computed by hand.

Case-review window: 2018-03-01 .. 2020-02-29 (731 days). Stock window (reference 2021-11-30):
2019-11-30 .. 2021-11-29 (731 days).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.star2022 import StarParameters
from analysis.star2022.efforts import (
    continuity_direction,
    continuity_table,
    efforts_table,
    person_efforts,
    publish_efforts,
)
from analysis.star2022.populations import case_review_population

NaT = None
PARAMS = StarParameters()


def _efforts(r, members, end):
    return person_efforts(
        members,
        end,
        spells=r["spells"],
        activation_offers=r["activation_offers"],
        exemptions=r["exemptions"],
        conversations=r["conversations"],
        monthly_paid_hours=r["monthly_paid_hours"],
        caseworker_assignments=r["caseworker_assignments"],
        params=PARAMS,
    )


def test_case_review_population_is_activity_ready_with_five_years(review_register):
    pop = case_review_population(
        review_register["spells"], review_register["benefit_spells"], PARAMS
    )
    assert sorted(pop["person_id"]) == ["P1", "P2", "P5"]
    assert pop.set_index("person_id").loc["P5", "municipality_id"] == 330


def test_person_efforts_in_the_case_review_window(review_register):
    pe = _efforts(review_register, pd.Series(["P1", "P2", "P5"]), date(2020, 3, 1))
    expected = pd.DataFrame(
        {
            "window_days": [731, 731, 731],
            "kh_days": [731, 731, 731],
            "activated_days": [122, 364, 731],
            "days_mentor": [0, 92, 0],
            "job_conversations": [8, 5, 10],
            "conversations": [9, 5, 10],
            "meets_minimum": [True, False, True],
            "longest_passive_days": [425, 184, 0],
            "passive_over_1y": [True, False, False],
            "exempt": [True, False, True],
            "interrupted_absence": [False, True, False],
            "interrupted": [False, True, False],
            "employment_offer": [True, True, True],
            "paid_hours": [True, False, False],
            "caseworker_changes": [1, 2, 0],
            "coordinated": [False, True, False],
        },
        index=pd.Index(["P1", "P2", "P5"], name="person_id"),
    )
    got = pe.loc[expected.index, expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_case_review_shares_and_municipal_groups(review_register):
    pe = _efforts(review_register, pd.Series(["P1", "P2", "P5"]), date(2020, 3, 1))
    groups = pd.Series({"P1": "101", "P2": "101", "P5": "330"})
    t = efforts_table(pe, {"municipality": (groups, None)}, "review").set_index("group")
    a = t.loc["all"]
    assert a["n"] == 3
    assert a["share_min_conversations"] == pytest.approx(2 / 3)  # R7
    assert a["share_passive_over_1y"] == pytest.approx(1 / 3)  # R9
    assert a["share_exempt"] == pytest.approx(2 / 3)  # R10
    assert a["share_interrupted_absence"] == pytest.approx(1 / 3)  # R11
    assert a["share_employment_offer"] == pytest.approx(1.0)  # R12
    assert a["share_paid_hours"] == pytest.approx(1 / 3)  # R8 case review
    assert a["share_activated"] == pytest.approx((122 + 364 + 731) / (3 * 731))
    assert a["job_conversations_per_year"] == pytest.approx(23 / (3 * 731 / 365.25))
    assert t.loc["101", "n"] == 2 and t.loc["330", "n_paid_hours"] == 0
    # with threshold 5 every group is too small: all suppressed, nothing crashes
    pub = publish_efforts(t.reset_index(), threshold=5)
    assert pub["n"].isna().all() and pub["share_activated"].isna().all()
    assert pub["suppressed"].all()


def test_stock_window_with_breaks_short_spells_and_first_day_conversation(reg):
    spells = reg.spells(
        [
            ("S1", "2015-01-01", "2020-05-31"),
            ("S1", "2020-08-15", NaT),  # 75 days off KH in the window
            ("S2", "2021-06-01", NaT),  # started inside the window
            ("S3", "2021-11-30", NaT),  # starts on the reference date: no KH day in the window
        ]
    )
    offers = reg.table(
        "activation_offers",
        [
            ("S1", "o1", "company_placement", "2020-05-01", "2020-09-30", "completed"),
            ("S2", "o2", "guidance_upskilling", "2021-01-01", "2021-07-31", "completed"),
        ],
    )
    conversations = reg.table(
        "conversations",
        [
            ("S1", "2020-08-15", "job", 101, "A"),  # on the spell's first day: counts
            ("S1", "2020-07-01", "job", 101, "A"),  # off KH: does not count
            ("S2", "2021-06-01", "job", 101, "A"),
            ("S2", "2021-09-01", "job", 101, "A"),
        ],
    )
    r = dict(
        spells=spells,
        activation_offers=offers,
        exemptions=reg.table("exemptions"),
        conversations=conversations,
        monthly_paid_hours=reg.table(
            "monthly_paid_hours",
            [
                ("S1", "2021-10-01", 12.0, 2000.0),  # in the window, not the last month
                ("S1", "2020-07-01", 40.0, 6000.0),  # while off KH: not "on KH"
                ("S2", "2021-11-01", 8.0, 1200.0),  # the reference month
            ],
        ),
        caseworker_assignments=reg.table("caseworker_assignments"),
    )
    pe = _efforts(r, pd.Series(["S1", "S2", "S3"]), date(2021, 11, 30))
    assert pe["paid_hours"].tolist() == [True, True, False]
    assert pe["paid_hours_month"].tolist() == [False, True, False]
    assert pe.loc["S1", "kh_days"] == 656
    assert pe.loc["S1", "activated_days"] == 78  # 31 in May + 47 after the return
    assert pe.loc["S1", "job_conversations"] == 1
    assert not pe.loc["S1", "meets_minimum"]  # needs 8 * 656 / 731 = 7.2
    assert pe.loc["S1", "longest_passive_days"] == 425 and pe.loc["S1", "passive_over_1y"]
    assert pe.loc["S2", "kh_days"] == 182 and pe.loc["S2", "activated_days"] == 61
    assert pe.loc["S2", "meets_minimum"]  # 2 >= 8 * 182 / 731 = 1.99
    assert pe.loc["S2", "longest_passive_days"] == 182 - 61
    assert pe.loc["S3", "kh_days"] == 0
    t = efforts_table(pe, {}, "stock").set_index("group")
    assert t.loc["all", "n"] == 2  # S3 has no KH day in the window
    assert t.loc["all", "share_activated"] == pytest.approx(139 / 838)  # R6, pooled
    assert t.loc["all", "mean_share_activated"] == pytest.approx((78 / 656 + 61 / 182) / 2)
    assert t.loc["all", "share_activated_company_placement"] == pytest.approx(78 / 838)


def test_continuity_by_case_worker_changes(review_register):
    pe = _efforts(review_register, pd.Series(["P1", "P2", "P5"]), date(2020, 3, 1))
    t = continuity_table(pe, "review")
    g = t[t["group_type"] == "caseworker_changes"].set_index("group")
    assert g["n"].to_dict() == {"0": 1, "1": 1, "2": 1, "3+": 0}
    assert np.isnan(g.loc["3+", "share_interrupted"])  # zero-denominator group, no crash
    d = continuity_direction(t)
    # 0 changes (P5: 10 conv, not coordinated) vs 2 changes (P2: 5 conv, coordinated, interrupted)
    assert d["compared"] == "2"
    assert d["within"] is False  # P2 is the coordinated one, so the direction fails on coordination
    pe2 = pe.copy()
    pe2.loc["P5", "coordinated"] = True
    pe2.loc["P2", "coordinated"] = False
    assert continuity_direction(continuity_table(pe2, "review"))["within"] is True

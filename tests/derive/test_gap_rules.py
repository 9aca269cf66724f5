"""The gap rules on hand-made cases (expected spells worked out by hand)."""

from datetime import date, timedelta

import pandas as pd
import pytest
from spellkit import records, spans

from pipelines.derive import build_spells, gap_breaks

D = date


def one_person(rule, *rows, **kw):
    return [(s, e) for _, s, e in spans(build_spells(records(*rows), gap_rule=rule, **kw))]


# (first record end, next record start, breaks under calendar_month?, why)
CALENDAR_MONTH_CASES = [
    (D(2015, 1, 31), D(2015, 3, 1), True, "February lies wholly in the gap"),
    (D(2015, 1, 30), D(2015, 3, 1), True, "31 Jan and all February free"),
    (D(2015, 1, 31), D(2015, 2, 28), False, "27 free days inside February only"),
    (D(2015, 2, 1), D(2015, 3, 31), False, "58 free days, no whole calendar month"),
    (D(2015, 1, 10), D(2015, 1, 12), False, "one-day gap"),
    (D(2015, 1, 31), D(2015, 2, 1), False, "adjacent days"),
    (D(2016, 1, 31), D(2016, 2, 29), False, "leap year: 28 free days in February 2016"),
    (D(2016, 1, 31), D(2016, 3, 1), True, "leap year: all 29 days of February 2016 free"),
    (D(2016, 2, 28), D(2016, 3, 31), False, "29 Feb and March 1-30 free: March not whole"),
    (D(2016, 2, 29), D(2016, 4, 1), True, "March 2016 wholly free"),
    (D(2019, 12, 31), D(2020, 2, 1), True, "January wholly free across the year end"),
    (D(2019, 12, 15), D(2020, 1, 31), False, "gap across the year end without a whole month"),
    (D(2015, 3, 31), D(2015, 5, 1), True, "April (30 days) wholly free"),
    (D(2015, 4, 1), D(2015, 5, 31), False, "gap of 59 days spanning two partial months"),
]


@pytest.mark.parametrize(("end", "start", "expected", "why"), CALENDAR_MONTH_CASES)
def test_calendar_month_rule_hand_cases(end, start, expected, why):
    assert gap_breaks(end, start, "calendar_month") is expected, why
    last = D(start.year + 1, 6, 1)
    got = one_person("calendar_month", (130, D(2014, 6, 1), end), (130, start, last))
    if expected:
        assert got == [(D(2014, 6, 1), end), (start, last)], why
    else:
        assert got == [(D(2014, 6, 1), last)], why


def test_strict_rule_merges_adjacent_days_only():
    assert one_person(
        "strict", (130, D(2015, 1, 1), D(2015, 1, 10)), (131, D(2015, 1, 11), D(2015, 2, 1))
    ) == [(D(2015, 1, 1), D(2015, 2, 1))]
    assert one_person(
        "strict", (130, D(2015, 1, 1), D(2015, 1, 10)), (131, D(2015, 1, 12), D(2015, 2, 1))
    ) == [
        (D(2015, 1, 1), D(2015, 1, 10)),
        (D(2015, 1, 12), D(2015, 2, 1)),
    ]


@pytest.mark.parametrize(("free_days", "n_spells"), [(27, 1), (28, 2), (1, 1), (60, 2)])
def test_weeks_rule_breaks_at_n_weeks(free_days, n_spells):
    end = D(2015, 3, 1)
    start = end + timedelta(days=free_days + 1)
    got = one_person("weeks", (130, D(2015, 1, 1), end), (130, start, D(2015, 12, 31)), gap_weeks=4)
    assert len(got) == n_spells


def test_weeks_rule_other_n():
    end = D(2015, 3, 1)
    rows = ((130, D(2015, 1, 1), end), (130, D(2015, 3, 16), D(2015, 12, 31)))  # 14 free days
    assert len(one_person("weeks", *rows, gap_weeks=2)) == 2
    assert len(one_person("weeks", *rows, gap_weeks=3)) == 1


def test_open_ended_record_gives_open_spell():
    sp = build_spells(records((130, D(2019, 1, 1), D(2019, 5, 31)), (133, D(2019, 6, 5), None)))
    assert len(sp) == 1
    assert pd.isna(sp.spell_end.iloc[0]) and pd.isna(sp.exit_state.iloc[0])
    assert sp.n_records.iloc[0] == 2


def test_record_ending_on_window_end_is_open_and_one_before_is_closed():
    sp = build_spells(records((130, D(2020, 1, 1), D(2023, 12, 31))))
    assert pd.isna(sp.spell_end.iloc[0])
    sp = build_spells(records((130, D(2020, 1, 1), D(2023, 12, 30))))
    assert pd.Timestamp(sp.spell_end.iloc[0]) == pd.Timestamp("2023-12-30")


def test_overlapping_records_of_different_kh_codes_merge():
    sp = build_spells(
        records(
            (130, D(2014, 1, 1), D(2014, 6, 30)),
            (131, D(2014, 3, 1), D(2014, 12, 31)),
            (132, D(2014, 12, 31), D(2015, 2, 1)),
        )
    )
    assert spans(sp) == [("p1", D(2014, 1, 1), D(2015, 2, 1))]
    assert sp.n_records.iloc[0] == 3


def test_gap_is_measured_from_latest_end_of_enclosing_record():
    # a long case encloses a short one; the next case starts 40 days after the short one ended
    # but only 10 days after the long one ended -> one spell under every rule
    rows = (
        (130, D(2014, 1, 1), D(2014, 12, 31)),
        (131, D(2014, 2, 1), D(2014, 2, 10)),
        (130, D(2015, 1, 11), D(2015, 3, 1)),
    )
    for rule in ("calendar_month", "strict", "weeks"):
        expected = 1 if rule != "strict" else 2
        assert len(one_person(rule, *rows)) == expected, rule


def test_non_kh_benefits_neither_bridge_nor_break():
    rows = (
        (130, D(2015, 1, 1), D(2015, 1, 31)),
        (890, D(2015, 2, 1), D(2015, 2, 28)),  # sickness benefit fills February
        (130, D(2015, 3, 1), D(2015, 5, 31)),
        (651, D(2015, 4, 1), D(2015, 4, 30)),  # SU overlapping KH
    )
    assert one_person("calendar_month", *rows) == [
        (D(2015, 1, 1), D(2015, 1, 31)),
        (D(2015, 3, 1), D(2015, 5, 31)),
    ]


def test_left_truncation_and_prior_contact():
    sp = build_spells(
        records(
            (130, D(1991, 1, 1), D(2000, 1, 31)),
            (130, D(2003, 1, 31), D(2003, 5, 1)),  # prev end exactly 3 years before -> contact
            (130, D(2006, 5, 3), D(2006, 9, 1)),  # prev end 3 years and 2 days before -> none
        )
    )
    assert sp.left_truncated.tolist() == [True, False, False]
    assert sp.prior_contact_3y.tolist() == [False, True, False]
    assert sp.spell_id.tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("start", "truncated", "why"),
    [
        (D(1991, 1, 1), True, "runs on the window's first day"),
        (D(1991, 1, 20), True, "a KH day on 31 Dec 1990 would be bridged: January is not free"),
        (D(1991, 1, 31), True, "last day of the first month"),
        (D(1991, 2, 1), False, "January 1991 wholly free: cannot continue an earlier spell"),
    ],
)
def test_left_truncated_when_the_rule_cannot_exclude_an_earlier_spell(start, truncated, why):
    sp = build_spells(records((130, start, D(1995, 1, 1))))
    assert sp.left_truncated.tolist() == [truncated], why
    strict = build_spells(records((130, start, D(1995, 1, 1))), gap_rule="strict")
    assert strict.left_truncated.tolist() == [start == D(1991, 1, 1)]


def weekly(*runs, person="p1"):
    """Weekly panel from (code, first Monday, last Monday) runs."""
    rows = []
    for code, first, last in runs:
        w = first
        while w <= last:
            rows.append((person, pd.Timestamp(w), str(code)))
            w += timedelta(weeks=1)
    df = pd.DataFrame(rows, columns=["person_id", "week_start", "benefit_code"])
    return df.astype({"week_start": "datetime64[us]"})


# Weekly panels under the calendar-month rule: a week counts in the month of its Thursday. The
# cases are the boundary weeks of month-aligned cases seen in the synthetic register.
# (last KH week, other-benefit weeks, next KH week, breaks?, why)
WEEKLY_CASES = [
    # KH to Thu 30 Sep 2021, other benefit October, KH from Mon 1 Nov: the week of 27 Sep (4 KH
    # days) is a September week, so October has no KH week
    (D(2021, 9, 27), (D(2021, 10, 4), D(2021, 10, 25)), D(2021, 11, 1), True, "October free"),
    # KH to Mon 31 May, other benefit June, KH from Thu 1 Jul: week of 28 Jun (Thu 1 Jul) is July's
    (D(2021, 5, 24), (D(2021, 5, 31), D(2021, 6, 21)), D(2021, 6, 28), True, "June free"),
    # a 12-day closure gap 13-24 June 2021 inside a spell: weeks of 14 and 21 Jun without KH
    (D(2021, 6, 7), (D(2021, 6, 14), D(2021, 6, 21)), D(2021, 6, 28), False, "databrud"),
    # 4 free weeks whose Thursdays are 4-25 Feb 2021 = every Thursday of February
    (D(2021, 1, 25), (D(2021, 2, 1), D(2021, 2, 22)), D(2021, 3, 1), True, "February's 4 weeks"),
    # 4 free weeks with Thursdays 7, 14, 21, 28 Jan 2021 = every Thursday of January
    (D(2020, 12, 28), (D(2021, 1, 4), D(2021, 1, 25)), D(2021, 2, 1), True, "January free"),
    # 4 free weeks with Thursdays 10 Dec .. 31 Dec 2020: December also has Thursday 3 Dec (KH)
    (D(2020, 11, 30), (D(2020, 12, 7), D(2020, 12, 28)), D(2021, 1, 4), False, "3 Dec is KH"),
]


@pytest.mark.parametrize(("last_kh", "other", "next_kh", "expected", "why"), WEEKLY_CASES)
def test_weekly_calendar_month_rule_uses_the_month_of_each_weeks_thursday(
    last_kh, other, next_kh, expected, why
):
    first = D(2020, 6, 1)
    panel = weekly((130, first, last_kh), (890, *other), (130, next_kh, D(2022, 6, 27)))
    sp = spans(build_spells(panel, shape="weekly"))
    got = [(s, e) for _, s, e in sp]
    end_last = D(2022, 6, 27) + timedelta(days=6)
    if expected:
        assert got == [(first, last_kh + timedelta(days=6)), (next_kh, end_last)], why
    else:
        assert got == [(first, end_last)], why
    assert gap_breaks(last_kh + timedelta(days=6), next_kh, shape="weekly") is expected


def test_weekly_left_truncation_counts_from_the_first_monday_in_the_window():
    # the window starts Tue 1 Jan 1991; the first week a DREAM extract holds is 7 Jan 1991.
    # A KH week of 31 Dec 1990 (a January week) would be bridged to any spell whose first week
    # is a January or February 1991 week; a first week in March 1991 starts a new spell.
    for first, truncated in [(D(1991, 1, 7), True), (D(1991, 2, 25), True), (D(1991, 3, 4), False)]:
        sp = build_spells(weekly((130, first, D(1992, 1, 6))), shape="weekly")
        assert sp.left_truncated.tolist() == [truncated], first


def test_exit_states():
    base = (130, D(2015, 1, 1), D(2015, 3, 31))
    hours = pd.DataFrame(
        {
            "person_id": ["p1"],
            "month": [pd.Timestamp("2015-05-01")],
            "paid_hours": [120.0],
            "earnings_dkk": [20000.0],
        }
    )
    cases = {
        "fp": ((621, D(2015, 4, 20), None),),  # førtidspension 19 days later
        "self_support": ((621, D(2015, 5, 10), None),),  # 39 days later: outside the 31-day window
        "dead_or_emigrated": ((998, D(2015, 4, 2), None),),
        # on the first day after the spell both sickness benefit and rf start: rf outranks
        "rf": ((890, D(2015, 4, 1), D(2015, 4, 30)), (764, D(2015, 4, 1), D(2016, 1, 1))),
        # the first state after the spell counts, even if a higher-ranked one follows
        "other_benefit": ((890, D(2015, 4, 10), D(2015, 4, 30)), (621, D(2015, 4, 25), None)),
    }
    for expected, extra in cases.items():
        sp = build_spells(records(base, *extra))
        assert sp.exit_state.tolist() == [expected], expected
    # a job month starting within the window (May, 31 days after 31 March is 1 May)
    sp = build_spells(records(base), paid_hours=hours)
    assert sp.exit_state.tolist() == ["job"]
    # 40 paid hours (løntimer level) is not a job
    sp = build_spells(records(base), paid_hours=hours.assign(paid_hours=40.0))
    assert sp.exit_state.tolist() == ["self_support"]


def test_unknown_benefit_code_is_refused():
    with pytest.raises(ValueError, match="not in the state mapping: 555"):
        build_spells(records((555, D(2015, 1, 1), D(2015, 2, 1))))

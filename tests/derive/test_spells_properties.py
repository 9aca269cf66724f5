"""Property-based tests of the spell builder against an independent day-set reference."""

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spellkit import WINDOW, breaks, breaks_weekly, days, records, spans, to_weekly

from pipelines.derive import Engine, build_spells

KH = ["130", "131", "132", "133"]
RULES = ["calendar_month", "strict", "weeks"]
BASES = [WINDOW[0], date(2012, 1, 30), date(2016, 1, 1), date(2019, 11, 25), date(2022, 6, 1)]
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def eng():
    e = Engine()
    yield e
    e.close()


@st.composite
def kh_records(draw, aligned: bool = False):
    """A few persons with KH records at random distances (some open, some overlapping)."""
    rows = []
    for p in range(draw(st.integers(1, 3))):
        base = draw(st.sampled_from(BASES[1:] if aligned else BASES))
        if aligned:
            base = base - timedelta(days=base.weekday())  # Monday
        for _ in range(draw(st.integers(1, 6))):
            if aligned:
                start = base + timedelta(weeks=draw(st.integers(0, 200)))
                end = start + timedelta(weeks=draw(st.integers(0, 20)), days=6)
            else:
                start = base + timedelta(days=draw(st.integers(0, 1500)))
                end = start + timedelta(days=draw(st.integers(0, 150)))
            is_open = draw(st.integers(0, 12)) == 0
            last_start = WINDOW[1] - timedelta(days=WINDOW[1].weekday() if aligned else 0)
            start, end = min(start, last_start), min(end, WINDOW[1])
            rows.append((draw(st.sampled_from(KH)), start, None if is_open else end, f"p{p}"))
    return records(*rows)


def kh_days(df: pd.DataFrame) -> dict[str, set[date]]:
    out: dict[str, set[date]] = {}
    for r in df.itertuples():
        end = WINDOW[1] if pd.isna(r.end_date) else pd.Timestamp(r.end_date).date()
        out.setdefault(r.person_id, set()).update(days(pd.Timestamp(r.start_date).date(), end))
    return out


def runs(day_set: set[date]) -> list[tuple[date, date]]:
    """Maximal runs of consecutive days."""
    out, cur = [], None
    for d in sorted(day_set):
        if cur and d == cur[1] + timedelta(1):
            cur = (cur[0], d)
        else:
            if cur:
                out.append(cur)
            cur = (d, d)
    if cur:
        out.append(cur)
    return out


@PROPS
@given(recs=kh_records(), rule=st.sampled_from(RULES), gap_weeks=st.integers(1, 8))
def test_spells_are_exactly_the_merge_of_kh_days_by_the_rule(eng, recs, rule, gap_weeks):
    """No KH day is lost, no day is invented except bridged gaps, and every bridged gap is one the
    rule bridges while every gap between spells is one the rule breaks (brute force on days)."""
    sp = build_spells(recs, gap_rule=rule, gap_weeks=gap_weeks, engine=eng)
    truth = kh_days(recs)
    got: dict[str, list] = {}
    for person, start, end in spans(sp):
        got.setdefault(person, []).append((start, end))
    assert set(got) == set(truth)
    for person, kh in truth.items():
        spell_list = got[person]
        covered: set[date] = set()
        for i, (start, end) in enumerate(spell_list):
            last = end or WINDOW[1]
            assert start in kh and last in kh
            assert (end is None) == (WINDOW[1] in kh and i == len(spell_list) - 1)
            inside = days(start, last)
            assert not (covered & inside), "spells overlap"
            covered |= inside
            for g0, g1 in runs(inside - kh):  # bridged gaps
                assert not breaks(days(g0, g1), rule, gap_weeks), (person, g0, g1)
            if i:
                prev_last = spell_list[i - 1][1]
                gap = days(prev_last + timedelta(1), start - timedelta(1))
                assert breaks(gap, rule, gap_weeks), (person, prev_last, start)
        assert kh <= covered, "a KH day was lost"
    # left truncated iff a KH day on the day before the window would not break the spell
    for r in sp.itertuples():
        start = pd.Timestamp(r.spell_start).date()
        free = days(WINDOW[0], start - timedelta(1)) if start > WINDOW[0] else set()
        assert r.left_truncated == (not breaks(free, rule, gap_weeks)), (r.person_id, start)


@PROPS
@given(recs=kh_records(), rule=st.sampled_from(RULES), data=st.data())
def test_order_independent(eng, recs, rule, data):
    perm = data.draw(st.permutations(range(len(recs))))
    a = build_spells(recs, gap_rule=rule, engine=eng)
    b = build_spells(recs.iloc[list(perm)].reset_index(drop=True), gap_rule=rule, engine=eng)
    pd.testing.assert_frame_equal(a, b)


@PROPS
@given(recs=kh_records(), rule=st.sampled_from(RULES))
def test_idempotent(eng, recs, rule):
    a = build_spells(recs, gap_rule=rule, engine=eng)
    again = records(
        *[
            ("130", r.spell_start, None if pd.isna(r.spell_end) else r.spell_end, r.person_id)
            for r in a.itertuples()
        ]
    )
    b = build_spells(again, gap_rule=rule, engine=eng)
    assert spans(a) == spans(b)
    assert b.n_records.eq(1).all()
    pd.testing.assert_series_equal(a.left_truncated, b.left_truncated)


@PROPS
@given(recs=kh_records(aligned=True), rule=st.sampled_from(RULES), gap_weeks=st.integers(1, 8))
def test_weekly_spells_are_the_merge_of_kh_weeks_by_the_rule(eng, recs, rule, gap_weeks):
    """Weekly panel: each spell runs from the Monday of its first KH week to the Sunday of its
    last (open at the extract end); consecutive KH weeks are merged unless the free weeks between
    them break by the weekly statement of the rule (brute force over the weeks' Thursdays)."""
    panel = to_weekly(recs)
    sp = build_spells(panel, shape="weekly", gap_rule=rule, gap_weeks=gap_weeks, engine=eng)
    expected = []
    for person, g in panel.groupby("person_id"):
        weeks = sorted(pd.Timestamp(w).date() for w in g["week_start"])
        first = prev = weeks[0]
        for w in [*weeks[1:], None]:
            if w is not None:
                free = {prev + timedelta(weeks=k) for k in range(1, (w - prev).days // 7)}
                if not breaks_weekly(free, rule, gap_weeks):
                    prev = w
                    continue
            end = prev + timedelta(days=6)
            expected.append((person, max(first, WINDOW[0]), None if end >= WINDOW[1] else end))
            first = prev = w
    assert spans(sp) == sorted(expected, key=lambda t: (t[0], t[1]))


@FEWER
@given(
    recs=kh_records(aligned=True),
    rule=st.sampled_from(["strict", "weeks"]),
    gap_weeks=st.integers(1, 8),
)
def test_weekly_and_records_agree_exactly_on_week_aligned_data(eng, recs, rule, gap_weeks):
    """(Not under the calendar-month rule: a week that reaches 1-3 days into a month counts in the
    other month in a weekly panel, see test_gap_rules.WEEKLY_CASES.)"""
    a = build_spells(recs, gap_rule=rule, gap_weeks=gap_weeks, engine=eng)
    b = build_spells(
        to_weekly(recs), shape="weekly", gap_rule=rule, gap_weeks=gap_weeks, engine=eng
    )
    assert spans(a) == spans(b)


@FEWER
@given(recs=kh_records(), rule=st.sampled_from(["strict", "weeks"]))
def test_weekly_panel_coarsens_record_spells_by_whole_weeks(eng, recs, rule):
    """On arbitrary data the weekly panel only widens KH days to whole weeks: each weekly spell is
    a run of consecutive record spells, starting on the Monday of the first one's start week and
    ending on the Sunday of the last one's end week (open if that one is open). Under the strict
    and weeks rules only: the calendar-month rule places weeks in months by their Thursday."""
    a = spans(build_spells(recs, gap_rule=rule, engine=eng))
    b = spans(build_spells(to_weekly(recs), shape="weekly", gap_rule=rule, engine=eng))

    def monday(d):
        return max(d - timedelta(days=d.weekday()), WINDOW[0])

    def sunday(d):
        return None if d is None else d + timedelta(days=6 - d.weekday())

    i = 0
    for person, ws, we in b:
        first = a[i]
        assert first[0] == person and monday(first[1]) == ws
        while i + 1 < len(a) and a[i + 1][0] == person and monday(a[i + 1][1]) <= (we or WINDOW[1]):
            i += 1
        last_end = sunday(a[i][2])
        if last_end is not None and last_end >= WINDOW[1]:
            last_end = None
        assert last_end == we
        i += 1
    assert i == len(a)

"""Helpers for the derive tests: hand-made register tables and an independent day-set reference."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pandas as pd

WINDOW = (date(1991, 1, 1), date(2023, 12, 31))


def records(*rows, person: str = "p1") -> pd.DataFrame:
    """benefit_spells rows from (code, start, end[, person]) tuples; end None = open."""
    out = []
    for i, r in enumerate(rows):
        code, start, end, *rest = r
        out.append(
            {
                "person_id": rest[0] if rest else person,
                "case_id": f"c{i}",
                "benefit_code": str(code),
                "start_date": pd.Timestamp(start),
                "end_date": pd.Timestamp(end) if end is not None else pd.NaT,
                "municipality_id": 101,
                "match_group": "job_ready" if str(code).startswith("13") else None,
            }
        )
    df = pd.DataFrame(out)
    df["end_date"] = df["end_date"].astype("datetime64[us]")
    df["start_date"] = df["start_date"].astype("datetime64[us]")
    return df


def spans(df: pd.DataFrame) -> list[tuple]:
    """(person, start, end-or-None) of a spells frame, as python dates, sorted."""
    out = []
    for r in df.itertuples():
        end = None if pd.isna(r.spell_end) else pd.Timestamp(r.spell_end).date()
        out.append((r.person_id, pd.Timestamp(r.spell_start).date(), end))
    return sorted(out, key=lambda t: (t[0], t[1]))


def days(start: date, end: date) -> set[date]:
    return {start + timedelta(k) for k in range((end - start).days + 1)}


def contains_full_month(gap: set[date]) -> bool:
    """Brute force: does the set of free days hold every day of some calendar month?"""
    months = {(d.year, d.month) for d in gap}
    for y, m in months:
        n = calendar.monthrange(y, m)[1]
        if all(date(y, m, k) in gap for k in range(1, n + 1)):
            return True
    return False


def breaks(gap: set[date], rule: str, gap_weeks: int = 4) -> bool:
    """Independent statement of the gap rules on the set of free days between two KH days."""
    if not gap:
        return False
    if rule == "strict":
        return True
    if rule == "weeks":
        return len(gap) >= 7 * gap_weeks
    if rule == "calendar_month":
        return contains_full_month(gap)
    raise ValueError(rule)


def thursdays(year: int, month: int) -> set[date]:
    """Every Thursday of a calendar month."""
    n = calendar.monthrange(year, month)[1]
    return {date(year, month, k) for k in range(1, n + 1) if date(year, month, k).weekday() == 3}


def breaks_weekly(free_mondays: set[date], rule: str, gap_weeks: int = 4) -> bool:
    """Independent statement of the gap rules for a weekly panel, on the set of free weeks
    (their Mondays) between two KH weeks: under the calendar-month rule a month is free when every
    week whose Thursday falls in it is free (ISO 8601 assignment of weeks to months)."""
    if not free_mondays:
        return False
    if rule == "strict":
        return True
    if rule == "weeks":
        return len(free_mondays) >= gap_weeks
    if rule == "calendar_month":
        free_thu = {m + timedelta(days=3) for m in free_mondays}
        months = {(d.year, d.month) for d in free_thu}
        return any(thursdays(y, m) <= free_thu for y, m in months)
    raise ValueError(rule)


def to_weekly(recs: pd.DataFrame) -> pd.DataFrame:
    """Expand records to a DREAM-style panel: a week carries the smallest code of the records
    covering any of its days (so a KH code wins over the other codes used in the tests)."""
    rows = {}
    for r in recs.itertuples():
        start = pd.Timestamp(r.start_date).date()
        end = WINDOW[1] if pd.isna(r.end_date) else pd.Timestamp(r.end_date).date()
        monday = start - timedelta(days=start.weekday())
        while monday <= end:
            key = (r.person_id, monday)
            rows[key] = min(rows.get(key, r.benefit_code), r.benefit_code)
            monday += timedelta(weeks=1)
    df = pd.DataFrame(
        [(p, pd.Timestamp(w), c) for (p, w), c in rows.items()],
        columns=["person_id", "week_start", "benefit_code"],
    )
    return df.astype({"week_start": "datetime64[us]"})

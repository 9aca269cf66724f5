"""Study populations: stocks on a date, seniority, the case-review population, prior contact.

All from the derived ``Spells`` frame (uninterrupted spells in the KH system, data_schema.derived)
and the ``benefit_spells`` register table (for the match group and the municipality of the case).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.star2022 import _intervals as iv
from analysis.star2022.params import StarParameters
from data_schema.codes import SENIORITY_GROUPS

SENIORITY_ORDER: tuple[str, ...] = tuple(g[0] for g in SENIORITY_GROUPS)
LONG_TERM_GROUPS: tuple[str, ...] = tuple(g[0] for g in SENIORITY_GROUPS if g[1] >= 5)


def seniority_group(spell_start: pd.Series, on: date | pd.Timestamp) -> np.ndarray:
    """Seniority group code (data_schema.codes.SENIORITY_GROUPS) of spells started on
    ``spell_start`` at date ``on``.

    Calendar years: seniority is at least k years when the spell started on or before the same
    calendar day k years before ``on`` (the rule of the spells helper,
    ``pipelines.derive._common.seniority_group_sql``).
    """
    start = pd.to_datetime(spell_start).to_numpy(dtype="datetime64[D]")
    conditions, choices = [], []
    for code, _low, high, *_ in SENIORITY_GROUPS:
        if np.isinf(high):
            continue
        cut = np.datetime64(iv.shift_years(on, -int(high)).date(), "D")
        conditions.append(start > cut)
        choices.append(code)
    return np.select(conditions, choices, default=SENIORITY_GROUPS[-1][0]).astype(object)


def at_least_years(spell_start: pd.Series, on: date | pd.Timestamp, years: int) -> np.ndarray:
    """True where a spell started on ``spell_start`` has at least ``years`` calendar years'
    seniority at ``on`` (started on or before the same calendar day ``years`` years earlier)."""
    cut = np.datetime64(iv.shift_years(on, -years).date(), "D")
    start: np.ndarray = pd.to_datetime(spell_start).to_numpy(dtype="datetime64[D]")
    return start <= cut


def stock_on(spells: pd.DataFrame, on: date | pd.Timestamp) -> pd.DataFrame:
    """Everyone in a KH-system spell on day ``on`` (bridged administrative gaps included).

    Returns
    -------
    One row per person: ``person_id, spell_id, spell_start, spell_end, seniority_days`` (days from
    the spell's first day to ``on``; 0 when it starts that day), ``seniority_group``.
    """
    require_columns(spells, ["person_id", "spell_id", "spell_start", "spell_end"], "spells")
    d = iv.day(on)
    s = iv.days(spells["spell_start"])
    e = iv.days(spells["spell_end"], fill=iv.OPEN_END)
    st = spells.loc[(s <= d) & (e >= d)].copy()
    st = st.sort_values(["person_id", "spell_start"]).drop_duplicates("person_id", keep="last")
    st["seniority_days"] = d - iv.days(st["spell_start"])
    st["seniority_group"] = seniority_group(st["spell_start"], on)
    cols = [
        "person_id",
        "spell_id",
        "spell_start",
        "spell_end",
        "seniority_days",
        "seniority_group",
    ]
    return st[cols].reset_index(drop=True)


def prior_contact(spells: pd.DataFrame, members: pd.DataFrame, years: int = 3) -> pd.Series:
    """Whether each member had any day in the KH system in the ``years`` years before the start of
    the member's current spell (``[spell_start - years, spell_start - 1 day]``).

    ``members`` has ``person_id`` and ``spell_start``; the result is aligned with its rows.
    """
    starts = members[["person_id", "spell_start"]].reset_index(drop=True)
    earlier = spells[["person_id", "spell_start", "spell_end"]].merge(
        starts.rename(columns={"spell_start": "current_start"}), on="person_id"
    )
    cur = iv.days(earlier["current_start"])
    lo = iv.days(pd.Series(pd.to_datetime(earlier["current_start"]) - pd.DateOffset(years=years)))
    s = iv.days(earlier["spell_start"])
    e = iv.days(earlier["spell_end"], fill=iv.OPEN_END)
    hit = (s < cur) & (e >= lo)
    who = set(earlier.loc[hit, "person_id"])
    return pd.Series(starts["person_id"].isin(who).to_numpy(), index=members.index)


def kh_case_on(
    benefit_spells: pd.DataFrame, on: date | pd.Timestamp, kh_codes: Iterable[str]
) -> pd.DataFrame:
    """Match group and municipality of each person's current KH case on day ``on``.

    The current case is the KH-system case (benefit code in ``kh_codes``) with the latest start on
    or before ``on``; for a person in a KH spell on ``on`` it belongs to that spell (also when ``on``
    falls in a bridged gap between two cases).

    Returns
    -------
    ``person_id, match_group, municipality_id`` (one row per person with such a case).
    """
    require_columns(
        benefit_spells,
        ["person_id", "benefit_code", "start_date", "municipality_id", "match_group"],
        "benefit_spells",
    )
    codes = {str(c) for c in kh_codes}
    b = benefit_spells[benefit_spells["benefit_code"].astype(str).isin(codes)]
    b = b[iv.days(b["start_date"]) <= iv.day(on)]
    b = b.sort_values(["person_id", "start_date"], kind="mergesort").drop_duplicates(
        "person_id", keep="last"
    )
    return b[["person_id", "match_group", "municipality_id"]].reset_index(drop=True)


def window(members: pd.Series | pd.DataFrame, end: date | pd.Timestamp, years: int) -> pd.DataFrame:
    """Look-back window ``[end - years, end - 1 day]`` per person, as day numbers ``lo``, ``hi``.

    ``members`` is a Series of person ids, or a frame with ``person_id`` and (optionally) a
    per-person ``reference_date`` that replaces ``end``.
    """
    if isinstance(members, pd.Series):
        frame = pd.DataFrame({"person_id": members.to_numpy()})
    else:
        frame = members.reset_index(drop=True)
    if isinstance(members, pd.DataFrame) and "reference_date" in frame.columns:
        ref = pd.to_datetime(frame["reference_date"])
    else:
        ref = pd.Series(pd.Timestamp(end), index=frame.index)
    lo = iv.days(pd.Series(ref - pd.DateOffset(years=years)))
    hi = iv.days(ref) - 1
    return pd.DataFrame({"person_id": frame["person_id"].to_numpy(), "lo": lo, "hi": hi})


def kh_blocks(spells: pd.DataFrame, win: pd.DataFrame) -> pd.DataFrame:
    """Days in the KH system inside each person's window, as disjoint blocks."""
    spell_iv = iv.intervals(spells, "spell_start", "spell_end")
    return iv.union(iv.clip(spell_iv, win))


def kh_share(spells: pd.DataFrame, win: pd.DataFrame) -> pd.Series:
    """Share of each person's window spent in the KH system (indexed by person id)."""
    days_in = iv.length(kh_blocks(spells, win), win["person_id"])
    width = pd.Series((win["hi"] - win["lo"] + 1).to_numpy(), index=win["person_id"].to_numpy())
    return (days_in / width.groupby(level=0).first().reindex(days_in.index)).rename("kh_share")


def case_review_population(
    spells: pd.DataFrame, benefit_spells: pd.DataFrame, params: StarParameters
) -> pd.DataFrame:
    """The case-review population: in a KH spell on ``params.review_date`` with at least
    ``params.review_min_years`` calendar years' uninterrupted seniority and current match group
    ``params.review_match_group`` (BDO: activity-ready, at least 5 years on 1 March 2020).

    Returns the :func:`stock_on` columns plus ``match_group`` and ``municipality_id``.
    """
    st = stock_on(spells, params.review_date)
    st = st[at_least_years(st["spell_start"], params.review_date, params.review_min_years)]
    case = kh_case_on(benefit_spells, params.review_date, params.kh_codes)
    st = st.merge(case, on="person_id", how="left")
    return st[st["match_group"] == params.review_match_group].reset_index(drop=True)

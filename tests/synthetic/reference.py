"""Independent reference implementations used by the synthetic-register tests.

Written from the definitions in BRIEF section 3 / COORDINATION.md, not from the generator code:
a month classifier (state priority, job from paid hours) and a spell builder with the jobindsats
gap rule (a spell ends after one full calendar month without benefit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_schema.mapping import load_state_mapping

WINDOW_END = pd.Timestamp("2023-12-31")


def build_spells(benefit: pd.DataFrame) -> pd.DataFrame:
    """Merge KH-system cases into spells: a gap that contains a whole calendar month breaks."""
    mapping = load_state_mapping()
    kh = benefit[benefit["benefit_code"].isin(mapping.kh_codes())].copy()
    kh["end"] = kh["end_date"].fillna(WINDOW_END)
    kh = kh.sort_values(["person_id", "start_date"], kind="mergesort")
    out = []
    for pid, g in kh.groupby("person_id", sort=True):
        cur_s, cur_e = None, None
        for s, e in zip(g["start_date"], g["end"], strict=True):
            if cur_s is None:
                cur_s, cur_e = s, e
                continue
            gap_first = cur_e + pd.Timedelta(days=1)
            month_start = (
                gap_first if gap_first.day == 1 else (gap_first + pd.offsets.MonthBegin(1))
            )
            month_end = month_start + pd.offsets.MonthEnd(0)
            if s > cur_e + pd.Timedelta(days=1) and month_end <= s - pd.Timedelta(days=1):
                out.append((pid, cur_s, cur_e))
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        out.append((pid, cur_s, cur_e))
    df = pd.DataFrame(out, columns=["person_id", "spell_start", "spell_end"])
    df.loc[df["spell_end"] >= WINDOW_END, "spell_end"] = pd.NaT
    return df


def monthly_states(
    benefit: pd.DataFrame, hours: pd.DataFrame, persons: list[str], threshold: float = 80.0
) -> pd.DataFrame:
    """State per person and month: highest-priority state with any benefit day in the month,
    job when paid hours >= threshold, else self_support."""
    mapping = load_state_mapping()
    prio = {s: i for i, s in enumerate(mapping.state_codes)}
    code_state = mapping.code_to_state()
    b = benefit[benefit["person_id"].isin(persons)].copy()
    b["state"] = b["benefit_code"].map(code_state)
    b["m0"] = b["start_date"].dt.to_period("M")
    b["m1"] = b["end_date"].fillna(WINDOW_END).dt.to_period("M")
    rows = []
    for r in b.itertuples(index=False):
        for m in pd.period_range(r.m0, r.m1, freq="M"):
            rows.append((r.person_id, m, r.state))
    bm = pd.DataFrame(rows, columns=["person_id", "month", "state"])
    h = hours[(hours["paid_hours"] >= threshold) & hours["person_id"].isin(persons)]
    jm = pd.DataFrame(
        {"person_id": h["person_id"], "month": h["month"].dt.to_period("M"), "state": "job"}
    )
    allm = pd.concat([bm, jm], ignore_index=True)
    allm["p"] = allm["state"].map(prio)
    best = allm.sort_values("p", kind="mergesort").drop_duplicates(
        ["person_id", "month"], keep="first"
    )
    return best[["person_id", "month", "state"]].reset_index(drop=True)


__all__ = ["build_spells", "monthly_states", "np"]

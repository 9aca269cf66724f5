"""Benefit codes missing from the state mapping, with counts and share of person-weeks.

Works on the result of :func:`pipelines.ingest.validate_extract` (any extract, native or
converted): for ``weekly_benefit_codes`` one row is one person-week; for ``benefit_spells`` a case
counts its days / 7 (an open case: up to the extract end).
"""

from __future__ import annotations

import pandas as pd

from pipelines.dst.adapt import UNKNOWN_COLUMNS

RULE = "unknown benefit code (not in the state mapping)"


def unknown_benefit_codes(result) -> pd.DataFrame:
    """One row per (table, code) missing from the mapping: rows, person-weeks and their share."""
    out = []
    for name, res in result.tables.items():
        v = res.violations
        if v is None or not len(v) or res.quarantined is None:
            continue
        bad = v[v["rule"] == RULE]
        if not len(bad):
            continue
        raw = res.quarantined.set_index("quarantine_row")
        weeks = _person_weeks(raw, name)
        total = _total_weeks(res, name)
        for code, grp in bad.groupby("value"):
            pw = float(weeks.reindex(grp["row"].to_numpy()).sum())
            out.append(
                {"file": str(res.file.name if res.file else name), "layout": name,
                 "column": "benefit_code", "code": code, "rows": len(grp), "person_weeks": round(pw, 1),
                 "share_person_weeks": pw / total if total else float("nan")}
            )  # fmt: skip
    return pd.DataFrame(out, columns=UNKNOWN_COLUMNS)


def _person_weeks(frame: pd.DataFrame, table: str) -> pd.Series:
    if table == "weekly_benefit_codes" or "start_date" not in frame:
        return pd.Series(1.0, index=frame.index)
    s = pd.to_datetime(frame["start_date"], errors="coerce")
    e = pd.to_datetime(frame["end_date"], errors="coerce").fillna(s.max())
    return ((e - s).dt.days.clip(lower=0) + 1).fillna(7) / 7


def _total_weeks(res, table: str) -> float:
    acc = res.accepted if res.accepted is not None else pd.DataFrame()
    parts = [_person_weeks(acc, table).sum() if len(acc) else 0.0]
    if res.quarantined is not None and len(res.quarantined):
        parts.append(_person_weeks(res.quarantined, table).sum())
    return float(sum(parts))

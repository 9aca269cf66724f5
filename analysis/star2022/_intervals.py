"""Vectorised day-interval arithmetic per person (closed intervals of whole days).

Dates are turned into integer day numbers (days since 1970-01-01). An interval frame has columns
``person_id``, ``s``, ``e`` (first and last day, both included) and possibly others; a window frame
has ``person_id``, ``lo``, ``hi``. All functions are pure and loop-free (sort + grouped cumulative
operations), so they scale to national registers.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

OPEN_END = np.int64(10**6)  # day number far beyond any extract (year ~4700): an open end


def day(d: date | pd.Timestamp | str) -> int:
    """Day number of a date."""
    return int(np.datetime64(pd.Timestamp(d).date(), "D").astype(np.int64))


def to_date(d: int | np.integer) -> pd.Timestamp:
    """Date of a day number."""
    return pd.Timestamp(np.datetime64(int(d), "D"))


def days(s: pd.Series, fill: int | np.integer | None = None) -> np.ndarray:
    """Day numbers of a datetime Series; missing dates become ``fill`` (default: stay NaT-int)."""
    a: np.ndarray = pd.to_datetime(s).to_numpy(dtype="datetime64[D]")
    out = a.astype(np.int64)
    if fill is not None:
        out[np.isnat(a)] = fill
    return out


def shift_years(d: date | pd.Timestamp, years: int) -> pd.Timestamp:
    """``d`` moved by whole calendar years (29 February falls back to 28 February)."""
    return pd.Timestamp(d) + pd.DateOffset(years=years)


def intervals(
    df: pd.DataFrame,
    start: str,
    end: str,
    keep: tuple[str, ...] = (),
    open_end: int | np.integer = OPEN_END,
) -> pd.DataFrame:
    """Interval frame (``person_id, s, e, *keep``) from date columns; an open end runs forever."""
    out = pd.DataFrame(
        {
            "person_id": df["person_id"].to_numpy(),
            "s": days(df[start]),
            "e": days(df[end], fill=open_end),
        }
    )
    for k in keep:
        out[k] = df[k].to_numpy()
    return out


def clip(iv: pd.DataFrame, win: pd.DataFrame) -> pd.DataFrame:
    """Intervals cut to each person's window; persons without a window and empty results drop."""
    m = iv.merge(win[["person_id", "lo", "hi"]], on="person_id", how="inner")
    m["s"] = np.maximum(m["s"].to_numpy(), m["lo"].to_numpy())
    m["e"] = np.minimum(m["e"].to_numpy(), m["hi"].to_numpy())
    return m[m["s"] <= m["e"]].drop(columns=["lo", "hi"]).reset_index(drop=True)


def union(iv: pd.DataFrame) -> pd.DataFrame:
    """Disjoint blocks (``person_id, s, e``) covering the same days; overlapping or adjacent
    intervals of a person are merged."""
    if iv.empty:
        return pd.DataFrame({"person_id": pd.Series(dtype=object), "s": [], "e": []}).astype(
            {"s": np.int64, "e": np.int64}
        )
    x = iv[["person_id", "s", "e"]].sort_values(["person_id", "s", "e"], kind="mergesort")
    pid = x["person_id"].to_numpy()
    s = x["s"].to_numpy()
    e = x["e"].to_numpy()
    reach = pd.Series(e).groupby(pid, sort=False).cummax().to_numpy()
    new_person = np.r_[True, pid[1:] != pid[:-1]]
    prev_reach = np.r_[np.int64(0), reach[:-1]]
    new_block = new_person | (s > prev_reach + 1)
    block = np.cumsum(new_block)
    out = (
        pd.DataFrame({"block": block, "person_id": pid, "s": s, "e": e})
        .groupby("block", sort=True)
        .agg(person_id=("person_id", "first"), s=("s", "min"), e=("e", "max"))
    )
    return out.reset_index(drop=True)


def length(blocks: pd.DataFrame, persons: pd.Series | np.ndarray | None = None) -> pd.Series:
    """Days covered per person (sum of ``e - s + 1``; blocks must be disjoint), indexed by person;
    persons listed in ``persons`` without blocks get 0."""
    n = (blocks["e"] - blocks["s"] + 1).groupby(blocks["person_id"]).sum()
    if persons is not None:
        n = n.reindex(pd.Index(pd.unique(np.asarray(persons)), name="person_id"), fill_value=0)
    return n.astype(np.int64)


def intersect(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Pairwise intersections of two interval frames of the same persons (columns of ``a`` kept)."""
    m = a.merge(b[["person_id", "s", "e"]], on="person_id", suffixes=("", "_b"))
    m["s"] = np.maximum(m["s"].to_numpy(), m["s_b"].to_numpy())
    m["e"] = np.minimum(m["e"].to_numpy(), m["e_b"].to_numpy())
    return m[m["s"] <= m["e"]].drop(columns=["s_b", "e_b"]).reset_index(drop=True)


def gaps(blocks: pd.DataFrame, win: pd.DataFrame) -> pd.DataFrame:
    """Days of each window not covered by ``blocks`` (disjoint, inside the window), as intervals.

    Persons of ``win`` without blocks get their whole window as one gap.
    """
    w = win[["person_id", "lo", "hi"]]
    before = pd.DataFrame({"person_id": w["person_id"], "s": w["lo"] - 1, "e": w["lo"] - 1})
    after = pd.DataFrame({"person_id": w["person_id"], "s": w["hi"] + 1, "e": w["hi"] + 1})
    b = blocks[blocks["person_id"].isin(w["person_id"].unique())][["person_id", "s", "e"]]
    allb = pd.concat([before, b, after], ignore_index=True).sort_values(
        ["person_id", "s"], kind="mergesort"
    )
    pid = allb["person_id"].to_numpy()
    s = allb["s"].to_numpy()
    e = allb["e"].to_numpy()
    same = np.r_[pid[1:] == pid[:-1], False]
    nxt_s = np.r_[s[1:], np.int64(0)]
    gap = same & (nxt_s > e + 1)
    return pd.DataFrame({"person_id": pid[gap], "s": e[gap] + 1, "e": nxt_s[gap] - 1})


def points_in(points: pd.DataFrame, at: str, blocks: pd.DataFrame) -> np.ndarray:
    """Boolean per row of ``points`` (with ``person_id`` and the day-number column ``at``): the day
    lies in one of the person's disjoint ``blocks``."""
    hit = np.zeros(len(points), dtype=bool)
    if points.empty or blocks.empty:
        return hit
    p = pd.DataFrame(
        {
            "person_id": points["person_id"].to_numpy(),
            "d": points[at].to_numpy(),
            "row": np.arange(len(points)),
        }
    )
    m = p.merge(blocks[["person_id", "s", "e"]], on="person_id", how="inner")
    rows = m.loc[(m["d"] >= m["s"]) & (m["d"] <= m["e"]), "row"].to_numpy()
    hit[rows] = True
    return hit

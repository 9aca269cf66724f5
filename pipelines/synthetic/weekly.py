"""DREAM-style weekly benefit codes from the benefit cases, streamed to Parquet/CSV in chunks.

One row per person and ISO week (``week_start`` = Monday) with any benefit day; the week's code is
the code of the case covering most days of that week (ties: the later case). Weeks whose Monday
falls before the first day of the register window are dropped (the window check applies to
``week_start``). At national size this is a few hundred million rows, so it is built in blocks of
persons straight into a ``ParquetWriter``, never as one frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines.synthetic.events import Calendar, Columns
from pipelines.synthetic.writer import TS, write_table

CHUNK_ROWS = 8_000_000


def _monday(d: np.ndarray) -> np.ndarray:
    n = d.astype("datetime64[D]").astype(np.int64)
    return n - (n + 3) % 7  # 1970-01-01 was a Thursday


def weekly_rows(
    cases: Columns, cal: Calendar
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (person, week_start day number, benefit_code) blocks, sorted by person and week."""
    person = cases["person"]
    start = cases["start_date"].astype(np.int64)
    end = np.where(np.isnat(cases["end_date"]), cal.hi, cases["end_date"]).astype(np.int64)
    code = cases["benefit_code"]
    w0, w1 = _monday(start), _monday(end)
    nweeks = (w1 - w0) // 7 + 1
    cum = np.cumsum(nweeks)
    lo_day = cal.lo.astype(np.int64)
    i = 0
    n = len(person)
    while i < n:
        base = cum[i - 1] if i else 0
        j = int(np.searchsorted(cum, base + CHUNK_ROWS, side="right"))
        j = max(j, i + 1)
        while j < n and person[j] == person[j - 1]:
            j += 1
        nw = nweeks[i:j]
        row = np.repeat(np.arange(i, j), nw)
        k = np.arange(nw.sum()) - np.repeat(np.cumsum(nw) - nw, nw)
        week = w0[row] + 7 * k
        days = np.minimum(end[row], week + 6) - np.maximum(start[row], week) + 1
        p = person[row]
        # several cases in one week (boundary weeks): keep the one with most days, ties -> later
        new_group = np.r_[True, (p[1:] != p[:-1]) | (week[1:] != week[:-1])]
        grp = np.cumsum(new_group) - 1
        score = days.astype(np.int64) * (1 << 40) + np.arange(len(row))
        best = np.full(grp[-1] + 1, -1, np.int64)
        np.maximum.at(best, grp, score)
        keep = score == best[grp]
        keep &= week >= lo_day
        yield p[keep], week[keep], code[row][keep]
        i = j


def write_weekly(
    cases: Columns,
    cal: Calendar,
    pid: Callable[[np.ndarray], pa.Array],
    path: Path,
    fmt: str = "parquet",
) -> tuple[Path, int]:
    """Write ``weekly_benefit_codes``; returns the path and the number of rows."""
    count = 0

    def tables() -> Iterator[pa.Table]:
        nonlocal count
        for p, w, c in weekly_rows(cases, cal):
            count += len(p)
            yield pa.table(
                {
                    "person_id": pid(p),
                    "week_start": pa.array(w.astype("datetime64[D]").astype("datetime64[us]"), TS),
                    "benefit_code": pa.array(c.astype(str), pa.string()),
                }
            )

    out = write_table(tables(), path, fmt)
    return out, count

"""Weekly DREAM-style panel -> benefit records (run-length encoding), out-of-core.

A weekly panel has one benefit code per person and week (``week_start`` = Monday). Consecutive
weeks with the same code become one record from the first Monday to the last Sunday, so the rest of
the pipeline (spells, states, cohorts) runs on records exactly as for ``benefit_spells``; a record
whose last week reaches the extract end is open (``end_date`` missing).

How: DuckDB groups the panel by (person, code) into sorted lists of week numbers (a hash
aggregate, which streams over Parquet), and a vectorised numpy pass over each Arrow batch of lists
finds the runs (a new run wherever the week number jumps by more than one). This replaces the
textbook gaps-and-islands window query (``week - row_number() OVER (PARTITION BY person, code
ORDER BY week)``), which DuckDB runs 10-20 times slower on this shape (measured: 3-6 s vs 0.3 s
for 17 million person-weeks); at 400 million person-weeks that is the difference between minutes
and the 5-minute budget. Large panels are processed in ``hash(person_id)`` partitions of at most
:data:`ROWS_PER_PARTITION` rows so the list aggregate stays well inside DuckDB's memory limit.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.derive._common import Window
from pipelines.derive._engine import Engine

ROWS_PER_PARTITION = 60_000_000
"""Person-weeks aggregated at once (about 1-2 GB of DuckDB list state)."""

EPOCH_MONDAY = "DATE '1970-01-05'"  # week number 0


def runs_of_batch(batch: pa.RecordBatch) -> pa.Table:
    """Runs of consecutive week numbers in a batch of (person_id, benefit_code, sorted list l)."""
    lists = batch.column(batch.schema.get_field_index("l"))
    weeks = pc.list_flatten(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    parent = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    if len(weeks) == 0:
        return pa.table({"person_id": pa.array([], pa.string()), "benefit_code": pa.array([], pa.string()),
                         "w_start": pa.array([], pa.int64()), "w_end": pa.array([], pa.int64())})  # fmt: skip
    new = np.ones(len(weeks), dtype=bool)
    # a run continues when the next week follows directly (or repeats, which the schema forbids)
    new[1:] = (parent[1:] != parent[:-1]) | (np.diff(weeks) > 1)
    last = np.ones(len(weeks), dtype=bool)
    last[:-1] = new[1:]
    group = pa.array(parent[new])
    return pa.table(
        {
            "person_id": batch.column(batch.schema.get_field_index("person_id")).take(group),
            "benefit_code": batch.column(batch.schema.get_field_index("benefit_code")).take(group),
            "w_start": pa.array(weeks[new]),
            "w_end": pa.array(weeks[last]),
        }
    )


def weekly_records_table(
    eng: Engine, weekly: str, window: Window, *, partitions: int | None = None
) -> str:
    """Records (person_id, benefit_code, start_date, end_date) from a weekly panel view.

    ``end_date`` is missing when the run's last week reaches the extract end; ``start_date`` is the
    Monday of the first week (it may lie before the window start; later steps clip).
    """
    n = int(eng.scalar(f"SELECT count(*) FROM {weekly}"))
    k = partitions or max(1, math.ceil(n / ROWS_PER_PARTITION))
    pieces: list[pa.Table] = []
    for part in range(k):
        where = f"WHERE hash(person_id::VARCHAR) % {k} = {part}" if k > 1 else ""
        reader = eng.con.sql(
            f"""SELECT person_id, benefit_code, list(wi ORDER BY wi) AS l
                FROM (SELECT person_id::VARCHAR AS person_id, benefit_code::VARCHAR AS benefit_code,
                             date_diff('day', {EPOCH_MONDAY}, week_start::DATE) // 7 AS wi
                      FROM {weekly} {where})
                GROUP BY person_id, benefit_code"""
        ).to_arrow_reader(1_000_000)
        pieces.extend(runs_of_batch(b) for b in reader)
    runs = (
        pa.concat_tables(pieces)
        if pieces
        else runs_of_batch(pa.record_batch({"person_id": pa.array([], pa.string()),
                                            "benefit_code": pa.array([], pa.string()),
                                            "l": pa.array([], pa.list_(pa.int64()))}))
    )  # fmt: skip
    name = f"_weekly_runs_{id(runs)}"
    eng.con.register(name, runs)
    try:
        return eng.table(
            f"""SELECT person_id, benefit_code,
                       ({EPOCH_MONDAY} + 7 * w_start::INTEGER) AS start_date,
                       CASE WHEN {EPOCH_MONDAY} + 7 * w_end::INTEGER + 6 >= {window.sql_end} THEN NULL
                            ELSE {EPOCH_MONDAY} + 7 * w_end::INTEGER + 6 END AS end_date
                FROM {name}"""
        )
    finally:
        eng.con.unregister(name)


def as_records(eng: Engine, benefits: str, shape: str, window: Window) -> str:
    """The benefit input as a records view/table: unchanged for ``records``, run-length encoded
    for ``weekly``."""
    if shape == "records":
        return benefits
    if shape == "weekly":
        return weekly_records_table(eng, benefits, window)
    raise ValueError(f"unknown benefit shape {shape!r}; use 'records' or 'weekly'")


__all__ = ["ROWS_PER_PARTITION", "as_records", "runs_of_batch", "weekly_records_table"]

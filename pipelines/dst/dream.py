"""DREAM wide weekly layout -> long weekly benefit codes or runs (spells), out of core.

DREAM stores one row per person and one column per week (``y_9130`` = 1991 week 30, ...), each cell
a benefit code or empty. The file is read in blocks of rows (Arrow record batches of at most
``batch_rows`` persons; CSV and SAS files are first converted to Parquet by DuckDB / pyreadstat in
:mod:`pipelines.dst.sources`), so memory is bounded by one block whatever the number of persons.
Each block becomes an ``int16`` matrix (persons x weeks) of code ids (-1 = empty); numpy then finds
the non-empty cells (long layout) or the runs of one code over consecutive weeks (records).

Why not ``UNPIVOT`` + a window query in DuckDB: unpivoting materialises every non-empty cell as a
row and the run detection needs a sort per person; the matrix pass does both in one read and
never sorts (rows are persons, columns are already in week order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TS = pa.timestamp("us")
DEFAULT_PATTERN = r"^y_(\d{2})(\d{2})$"


@dataclass(frozen=True)
class WeekColumns:
    """The week columns of a wide file: names in week order and the Monday of each week."""

    names: tuple[str, ...]
    mondays: np.ndarray  # datetime64[D]

    @property
    def adjacent(self) -> np.ndarray:
        """``adjacent[j]`` is True when column j is the week right after column j-1."""
        d = self.mondays.astype(np.int64)
        out = np.zeros(len(d), dtype=bool)
        out[1:] = np.diff(d) == 7
        return out


def week_monday(year: int, week: int, numbering: str = "iso") -> date:
    """Monday of ``week`` in ``year`` (ISO 8601 week numbering; week 1 contains 4 January)."""
    if numbering != "iso":
        raise ValueError(f"week numbering {numbering!r} is not supported (only 'iso')")
    return date.fromisocalendar(year, week, 1)


def week_columns(
    columns: list[str], pattern: str = DEFAULT_PATTERN, year_pivot: int = 90, numbering: str = "iso"
) -> tuple[WeekColumns, list[str]]:
    """Recognise the week columns among ``columns`` (case-insensitive).

    ``pattern`` has two groups, the two-digit year and the week; years ``>= year_pivot`` are 19xx,
    the others 20xx. Returns the week columns sorted by week and the names that match the pattern
    but are not a valid week (for example week 53 of a year with 52 weeks).
    """
    rx = re.compile(pattern, re.IGNORECASE)
    found: list[tuple[date, str]] = []
    invalid: list[str] = []
    for c in columns:
        m = rx.match(c)
        if not m:
            continue
        yy, ww = int(m.group(1)), int(m.group(2))
        year = (1900 if yy >= year_pivot else 2000) + yy
        try:
            found.append((week_monday(year, ww, numbering), c))
        except ValueError:
            invalid.append(c)
    found.sort()
    names = tuple(c for _, c in found)
    mondays = np.array([d for d, _ in found], dtype="datetime64[D]")
    if len(set(mondays.tolist())) != len(mondays):
        raise ValueError("two week columns name the same week")
    return WeekColumns(names, mondays), invalid


def dream_column_name(monday: date) -> str:
    """The DREAM-style column name ``y_YYWW`` of the ISO week starting on ``monday``."""
    iso = monday.isocalendar()
    return f"y_{iso.year % 100:02d}{iso.week:02d}"


@dataclass
class CodeTally:
    """Cells per raw code (person-weeks) and persons seen, accumulated over blocks."""

    vocab: dict[str, int] = field(default_factory=dict)
    cells: list[int] = field(default_factory=list)
    persons: int = 0
    weeks: int = 0

    def ids(self, values: list[str]) -> np.ndarray:
        out = np.empty(len(values), dtype=np.int16)
        for i, v in enumerate(values):
            if v not in self.vocab:
                if len(self.vocab) >= np.iinfo(np.int16).max:
                    raise ValueError("more than 32767 distinct codes in the week columns")
                self.vocab[v] = len(self.vocab)
                self.cells.append(0)
            out[i] = self.vocab[v]
        return out

    def add_counts(self, mat: np.ndarray) -> None:
        counts = np.bincount(mat[mat >= 0].ravel(), minlength=len(self.vocab))
        for i, n in enumerate(counts.tolist()):
            self.cells[i] += n

    def counts(self) -> dict[str, int]:
        """``{code: person-weeks}``."""
        return {code: self.cells[i] for code, i in self.vocab.items()}


def _code_matrix(batch: pa.RecordBatch, weeks: WeekColumns, tally: CodeTally) -> np.ndarray:
    """``int16`` matrix (rows x weeks) of global code ids; -1 where the cell is empty."""
    n = batch.num_rows
    mat = np.full((n, len(weeks.names)), -1, dtype=np.int16)
    for j, name in enumerate(weeks.names):
        col = batch.column(name)
        if col.null_count == n:
            continue
        if not pa.types.is_dictionary(col.type):
            if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
                col = _codes_as_text(col)
            col = pc.dictionary_encode(col)
        values = [str(v).strip() for v in col.dictionary.to_pylist()]
        lut = tally.ids(values)
        empty = np.array([v == "" for v in values], dtype=bool)
        lut = np.where(empty, -1, lut).astype(np.int16)
        idx = col.indices.fill_null(0).to_numpy(zero_copy_only=False)
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        mat[valid, j] = lut[idx[valid]]
    tally.add_counts(mat)
    tally.persons += n
    tally.weeks = len(weeks.names)
    return mat


def _codes_as_text(col: pa.Array) -> pa.Array:
    """Numeric codes (SAS numeric, Parquet int) as their integer text: 130.0 -> '130'."""
    if pa.types.is_floating(col.type):
        col = pc.cast(pc.round(col), pa.int64())
    return pc.cast(col, pa.string())


def iter_blocks(
    path: Path, person_col: str, weeks: WeekColumns, batch_rows: int = 65_536
) -> Iterator[pa.RecordBatch]:
    """Blocks of (person column, week columns) from a Parquet file, one row group at a time, with
    strings read as dictionaries. Row groups longer than ``2 * batch_rows`` are refused (rewrite
    the file with :func:`pipelines.dst.sources.to_parquet`); pyarrow's batch iterator reads ahead
    and its memory grows with the file, a row group at a time does not."""
    pf = pq.ParquetFile(path, read_dictionary=list(weeks.names))
    longest = max((pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)), default=0)
    if longest > 2 * batch_rows:
        raise ValueError(
            f"{path}: row groups of {longest} rows; rewrite with row groups of <= {batch_rows}"
        )
    for i in range(pf.num_row_groups):
        table = pf.read_row_group(i, columns=[person_col, *weeks.names])
        yield from table.combine_chunks().to_batches()
        del table


def long_blocks(
    path: Path, person_col: str, weeks: WeekColumns, tally: CodeTally, batch_rows: int = 65_536
) -> Iterator[pa.Table]:
    """Long layout (person_id, week_start, benefit_code), one table per block, sorted by person
    and week within the block (cells are visited row by row)."""
    for batch in iter_blocks(path, person_col, weeks, batch_rows):
        mat = _code_matrix(batch, weeks, tally)
        rows, cols = np.nonzero(mat >= 0)
        vocab = np.array(list(tally.vocab), dtype=object)
        pid = pc.cast(batch.column(person_col), pa.string())
        yield pa.table(
            {
                "person_id": pid.take(pa.array(rows)),
                "week_start": pa.array(weeks.mondays[cols].astype("datetime64[us]"), TS),
                "benefit_code": pa.array(vocab[mat[rows, cols]].tolist(), pa.string()),
            }
        )


def runs_of_matrix(mat: np.ndarray, adjacent: np.ndarray) -> tuple[np.ndarray, ...]:
    """Runs of one code over consecutive week columns: (row, first column, last column, code id).

    A run starts where the cell is non-empty and differs from the previous column (or the previous
    column is not the week before); it ends where the next column starts a new run or is empty.
    """
    nonempty = mat >= 0
    start = nonempty.copy()
    start[:, 1:] &= (mat[:, 1:] != mat[:, :-1]) | ~adjacent[None, 1:]
    end = nonempty.copy()
    end[:, :-1] &= start[:, 1:] | ~nonempty[:, 1:]
    r0, c0 = np.nonzero(start)
    r1, c1 = np.nonzero(end)
    if len(r0) != len(r1) or not np.array_equal(r0, r1):  # an internal invariant
        raise AssertionError("run starts and ends do not pair up")
    return r0, c0, c1, mat[r0, c0]


def record_blocks(
    path: Path, person_col: str, weeks: WeekColumns, tally: CodeTally, batch_rows: int = 65_536
) -> Iterator[pa.Table]:
    """Records (person_id, benefit_code, start_date = first Monday, end_date = last Sunday)."""
    adj = weeks.adjacent
    for batch in iter_blocks(path, person_col, weeks, batch_rows):
        mat = _code_matrix(batch, weeks, tally)
        rows, c0, c1, code = runs_of_matrix(mat, adj)
        vocab = np.array(list(tally.vocab), dtype=object)
        pid = pc.cast(batch.column(person_col), pa.string())
        yield pa.table(
            {
                "person_id": pid.take(pa.array(rows)),
                "benefit_code": pa.array(vocab[code].tolist(), pa.string()),
                "start_date": pa.array(weeks.mondays[c0].astype("datetime64[us]"), TS),
                "end_date": pa.array((weeks.mondays[c1] + 6).astype("datetime64[us]"), TS),
            }
        )


def write_blocks(tables: Iterator[pa.Table], path: Path) -> int:
    """Stream tables into one Parquet file (zstd); returns the number of rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    n = 0
    try:
        for t in tables:
            if writer is None:
                writer = pq.ParquetWriter(path, t.schema, compression="zstd")
            if t.num_rows:
                writer.write_table(t, row_group_size=1 << 20)
            n += t.num_rows
        if writer is None:
            raise ValueError(f"{path}: the DREAM file has no rows")
    finally:
        if writer is not None:
            writer.close()
    return n

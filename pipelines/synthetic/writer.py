"""Arrow conversion and file writing of the register tables (Parquet or CSV), deterministic.

Tables are built as pyarrow tables straight from numpy columns (no pandas), sorted by person and
date, and written with fixed options, so the same simulation gives byte-identical files. Person
ids are ``P`` + 7 digits in person order (never CPR-like); case-worker ids ``K<kommune>-<serial>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data_schema import codes
from data_schema.tables import TABLES
from pipelines.synthetic import design
from pipelines.synthetic.events import OUTCOMES, REASONS, Columns
from pipelines.synthetic.municipalities import municipality_frame

TS = pa.timestamp("us")
ROW = "_row"
"""Column of cut tables: the record's row in the uncut table (keeps case and offer ids stable)."""
ROW_GROUP = 1_000_000
OFFER_TYPES = np.array(list(codes.OFFER_TYPE))
CONV_TYPES = np.array(["job", "other"])


def sequential_ids(
    prefix: str, n: int, width: int, offset: int = 0, rows: np.ndarray | None = None
) -> pa.Array:
    """``<prefix><offset+1 zero-padded to width>`` ... (vectorised in Arrow); with ``rows``
    (0-based row numbers of an uncut table), ``<prefix><rows+1>`` so ids survive an extract cut."""
    numbers = np.arange(offset, offset + n, dtype=np.int64) if rows is None else rows
    if len(numbers) and int(numbers.max()) + 1 >= 10**width:
        raise ValueError(f"ids with prefix {prefix!r} have only {width} digits")
    nums = pa.array(numbers.astype(np.int64) + 1).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(nums, width, padding="0"), "")


def person_ids(n: int) -> pa.Array:
    """``P0000001`` ... for ranks 0..n-1 (never CPR-like: a letter and 7 digits)."""
    return sequential_ids("P", n, 7)


def _dates(d: np.ndarray) -> pa.Array:
    return pa.array(d.astype("datetime64[us]"), TS)


def _strings(labels: np.ndarray, codes_: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """A string column as an Arrow dictionary array (labels[codes]); written to Parquet as
    dictionary-encoded strings, read back as plain strings (no Arrow schema is stored)."""
    dict_arr = pa.array(labels.astype(str), pa.string())
    idx = pa.array(codes_.astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(idx, dict_arr)


class Converter:
    """Column dicts (person indices, category codes) -> arrow tables in the register schema."""

    def __init__(self, kept: np.ndarray, caseworker_ids: np.ndarray, n_persons: int):
        self.kept = kept
        self.ids = person_ids(len(kept))
        rank = np.full(n_persons, -1, np.int64)
        rank[kept] = np.arange(len(kept))
        self.rank = rank
        self.cw_ids = pa.array(caseworker_ids.astype(str), pa.string())

    def pid(self, person: np.ndarray) -> pa.Array:
        r = self.rank[person]
        if (r < 0).any():
            raise ValueError("a record of a person outside the extract population")
        return pa.DictionaryArray.from_arrays(pa.array(r.astype(np.int32)), self.ids)

    def table(self, name: str, c: Columns) -> pa.Table:
        cols = getattr(self, f"_{name}")(c)
        return pa.table({k: cols[k] for k in TABLES[name].columns})

    def _persons(self, c: Columns) -> dict:
        return {
            "person_id": self.pid(c["person"]),
            "birth_year": pa.array(c["birth_year"], pa.int64()),
            "sex": pa.array(np.where(c["sex"], "F", "M")),
            "origin": _strings(np.asarray(design.ORIGIN), c["origin"]),
            "menapt": pa.array(c["menapt"], pa.bool_()),
            "education": _strings(np.asarray(design.EDUCATION), c["education"]),
            "psychiatric_diagnosis": pa.array(c["psychiatric_diagnosis"], pa.bool_()),
            "substance_abuse_treatment": pa.array(c["substance_abuse_treatment"], pa.bool_()),
            "has_children": pa.array(c["has_children"], pa.bool_()),
            "children_placed": pa.array(c["children_placed"], pa.bool_(), mask=~c["has_children"]),
            "municipality_id": pa.array(c["municipality_id"], pa.int64()),
        }

    def _benefit_spells(self, c: Columns) -> dict:
        n = len(c["person"])
        mg = c["match_group"]
        return {
            "person_id": self.pid(c["person"]),
            "case_id": sequential_ids("C", n, 9, rows=c.get(ROW)),
            "benefit_code": pa.array(c["benefit_code"].astype(str), pa.string()),
            "start_date": _dates(c["start_date"]),
            "end_date": _dates(c["end_date"]),
            "municipality_id": pa.array(c["municipality_id"], pa.int64()),
            "match_group": _strings(
                np.array(["job_ready", "activity_ready"]), np.maximum(mg, 0), null=mg < 0
            ),
        }

    def _monthly_paid_hours(self, c: Columns) -> dict:
        return {
            "person_id": self.pid(c["person"]),
            "month": _dates(c["month"]),
            "paid_hours": pa.array(c["paid_hours"], pa.float64()),
            "earnings_dkk": pa.array(c["earnings_dkk"], pa.float64()),
        }

    def _caseworker_assignments(self, c: Columns) -> dict:
        return {
            "person_id": self.pid(c["person"]),
            "caseworker_id": pa.DictionaryArray.from_arrays(
                pa.array(c["cw"].astype(np.int32)), self.cw_ids
            ),
            "municipality_id": pa.array(c["municipality_id"], pa.int64()),
            "start_date": _dates(c["start_date"]),
            "end_date": _dates(c["end_date"]),
        }

    def _conversations(self, c: Columns) -> dict:
        cw = c["cw"]
        return {
            "person_id": self.pid(c["person"]),
            "conversation_date": _dates(c["conversation_date"]),
            "conversation_type": _strings(CONV_TYPES, c["conversation_type"]),
            "municipality_id": pa.array(c["municipality_id"], pa.int64()),
            "caseworker_id": pa.DictionaryArray.from_arrays(
                pa.array(np.maximum(cw, 0).astype(np.int32), mask=cw < 0), self.cw_ids
            ),
        }

    def _activation_offers(self, c: Columns) -> dict:
        n = len(c["person"])
        return {
            "person_id": self.pid(c["person"]),
            "offer_id": sequential_ids("O", n, 9, rows=c.get(ROW)),
            "offer_type": _strings(OFFER_TYPES, c["offer_type"]),
            "start_date": _dates(c["start_date"]),
            "end_date": _dates(c["end_date"]),
            "outcome": _strings(OUTCOMES, c["outcome"]),
        }

    def _exemptions(self, c: Columns) -> dict:
        return {
            "person_id": self.pid(c["person"]),
            "start_date": _dates(c["start_date"]),
            "end_date": _dates(c["end_date"]),
            "reason": _strings(REASONS, c["reason"]),
        }


def municipalities_table() -> pa.Table:
    df = municipality_frame()
    return pa.table(
        {
            "municipality_id": pa.array(df["municipality_id"].to_numpy(), pa.int64()),
            "name": pa.array(df["name"].tolist(), pa.string()),
            "region": pa.array(df["region"].tolist(), pa.string()),
        }
    )


def write_table(table: pa.Table | Iterator[pa.Table], path: Path, fmt: str) -> Path:
    """Write a table (or an iterator of record batches' tables, for big tables) deterministically."""
    path = Path(path).with_suffix(f".{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = [table] if isinstance(table, pa.Table) else table
    writer = None
    try:
        for part in parts:
            if fmt == "parquet":
                if writer is None:
                    writer = pq.ParquetWriter(
                        path,
                        part.schema,
                        compression="zstd",
                        compression_level=3,
                        write_statistics=True,
                        store_schema=False,  # dictionary columns are read back as plain strings
                    )
                writer.write_table(part, row_group_size=ROW_GROUP)
            else:
                if writer is None:
                    writer = pacsv.CSVWriter(path, _csv_schema(part.schema))
                writer.write_table(_csv_cast(part))
        if writer is None:  # empty iterator
            raise ValueError(f"nothing to write to {path}")
    finally:
        if writer is not None:
            writer.close()
    return path


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    def plain(t: pa.DataType) -> pa.DataType:
        if t == TS:
            return pa.date32()
        if pa.types.is_dictionary(t):
            return t.value_type
        return t

    return pa.schema([pa.field(f.name, plain(f.type)) for f in schema])


def _csv_cast(t: pa.Table) -> pa.Table:
    """Dates as ISO days (YYYY-MM-DD) in CSV."""
    return t.cast(_csv_schema(t.schema))


def to_pandas(table: pa.Table, name: str) -> pd.DataFrame:
    """A register table as pandas with the dtypes of data_schema.tables."""
    table = table.cast(
        pa.schema(
            [
                pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                for f in table.schema
            ]
        )
    )
    df = table.to_pandas()
    for col in TABLES[name].columns:
        if col.endswith("_date") or col in ("month", "week_start", "conversation_date"):
            df[col] = df[col].astype("datetime64[ns]")
    if name == "persons":
        df["children_placed"] = df["children_placed"].astype("boolean")
        df["municipality_id"] = df["municipality_id"].astype("Int64")
    return df


def chunked(
    n_rows: int, make: Callable[[int, int], pa.Table], chunk: int = 5_000_000
) -> Iterator[pa.Table]:
    """Yield ``make(lo, hi)`` for consecutive row ranges."""
    for lo in range(0, max(n_rows, 1), chunk):
        yield make(lo, min(lo + chunk, n_rows))


CUT_START = {
    "benefit_spells": "start_date",
    "monthly_paid_hours": "month",
    "caseworker_assignments": "start_date",
    "conversations": "conversation_date",
    "activation_offers": "start_date",
    "exemptions": "start_date",
}
"""The date column whose value after the extract end drops a record (a later delivery's row)."""


def cut_columns(name: str, c: Columns, cut: np.datetime64 | None, persons: np.ndarray) -> Columns:
    """The records of table ``name`` as a delivery ending on ``cut`` would hold them.

    Records starting after ``cut`` and records of persons outside ``persons`` (who first enter the
    kontanthjælp system after the cut) are dropped; an ``end_date`` after ``cut`` becomes missing
    (still open at the extract end) and an offer running past it is ``ongoing``. Everything up to
    the cut is unchanged, so the same seed gives the same persons and histories in every cut.
    ``cut`` None returns ``c`` unchanged.
    """
    if cut is None:
        return c
    keep = np.isin(c["person"], persons)
    if name in CUT_START:
        keep &= c[CUT_START[name]] <= cut
    out = {k: v[keep] for k, v in c.items()}
    out[ROW] = np.flatnonzero(keep)
    if "end_date" in out:
        end = out["end_date"]
        late = ~np.isnat(end) & (end > cut)
        out["end_date"] = np.where(late, np.datetime64("NaT"), end).astype(end.dtype)
        if name == "activation_offers":
            ongoing = int(np.flatnonzero(OUTCOMES == "ongoing")[0])
            out["outcome"] = np.where(late, ongoing, out["outcome"]).astype(out["outcome"].dtype)
    return out


def persons_by(benefit: Columns, cut: np.datetime64 | None) -> np.ndarray:
    """Person indices with a benefit record starting on or before ``cut`` (all when None)."""
    starts = benefit["person"] if cut is None else benefit["person"][benefit["start_date"] <= cut]
    return np.unique(starts)

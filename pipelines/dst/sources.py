"""Reading register files of any format: their variable names only, or as a DuckDB view.

CSV (UTF-8 or Latin-1, separator detected) and Parquet are read by DuckDB directly; SAS files
(``.sas7bdat``, ``.xpt``) are converted to Parquet in chunks by pyreadstat first, so no format is
ever loaded whole into memory. Header inspection reads the metadata only.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xport",
}
SAS_CHUNK_ROWS = 100_000


def csv_dialect(path: Path) -> tuple[str, str]:
    """(encoding, separator) of a CSV file from its first line: UTF-8 when it decodes, else Latin-1."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    try:
        head.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    first = head.decode(encoding, errors="replace").splitlines()[0] if head else ""
    counts = {sep: first.count(sep) for sep in (";", ",", "\t", "|")}
    sep = max(counts, key=lambda k: counts[k]) if max(counts.values()) > 0 else ","
    return encoding, sep


def header(path: Path) -> list[str]:
    """The variable names of a register file, read from its header or metadata only."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt == "csv":
        encoding, sep = csv_dialect(path)
        with open(path, encoding=encoding, newline="") as fh:
            first = fh.readline().rstrip("\r\n")
        return [c.strip().strip('"') for c in first.split(sep)]
    if fmt == "parquet":
        return list(pq.read_schema(path).names)
    if fmt in ("sas7bdat", "xport"):
        import pyreadstat

        reader = pyreadstat.read_sas7bdat if fmt == "sas7bdat" else pyreadstat.read_xport
        _, meta = reader(str(path), metadataonly=True)
        return list(meta.column_names)
    raise ValueError(f"{path}: not a CSV, Parquet or SAS file")


def sas_to_parquet(path: Path, out: Path, chunk_rows: int = SAS_CHUNK_ROWS) -> Path:
    """Convert a SAS file to Parquet chunk by chunk (SAS date formats become dates)."""
    import pyreadstat

    fmt = FORMATS[path.suffix.lower()]
    reader = pyreadstat.read_sas7bdat if fmt == "sas7bdat" else pyreadstat.read_xport
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    try:
        for df, _ in pyreadstat.read_file_in_chunks(reader, str(path), chunksize=chunk_rows):
            table = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(out, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema), row_group_size=65_536)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise ValueError(f"{path}: the SAS file has no rows")
    return out


def register_view(con, name: str, path: Path, cache_dir: Path) -> str:
    """Create DuckDB view ``name`` over ``path`` (column names upper-cased); returns the name."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt in ("sas7bdat", "xport"):
        path = sas_to_parquet(path, cache_dir / f"{path.stem}.parquet")
        fmt = "parquet"
    p = str(path).replace("'", "''")
    if fmt == "csv":
        encoding, sep = csv_dialect(path)
        src = (
            f"read_csv('{p}', delim='{sep}', header=true, all_varchar=true, encoding='{encoding}')"
        )
    elif fmt == "parquet":
        src = f"read_parquet('{p}')"
    else:
        raise ValueError(f"{path}: not a CSV, Parquet or SAS file")
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    select = ", ".join(f'"{c}" AS "{c.strip().upper()}"' for c in cols)
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {select} FROM {src}")
    return name


def as_parquet(path: Path, cache_dir: Path, row_group: int = 65_536) -> Path:
    """``path`` as a Parquet file with row groups of at most ``row_group`` rows (CSV and SAS are
    converted, Parquet with long row groups rewritten; DuckDB streams, nothing is loaded whole)."""
    import duckdb

    fmt = FORMATS.get(path.suffix.lower())
    if fmt in ("sas7bdat", "xport"):
        return sas_to_parquet(path, cache_dir / f"{path.stem}.parquet")
    if fmt == "parquet":
        md = pq.ParquetFile(path).metadata
        longest = max((md.row_group(i).num_rows for i in range(md.num_row_groups)), default=0)
        if longest <= 2 * row_group:
            return path
    out = cache_dir / f"{path.stem}.wide.parquet"
    cache_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        register_view(con, "src", path, cache_dir)
        con.execute(
            f"COPY (SELECT * FROM src) TO '{out}' (FORMAT parquet, ROW_GROUP_SIZE {row_group})"
        )
    finally:
        con.close()
    return out

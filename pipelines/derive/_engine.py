"""The DuckDB engine behind every derivation stage.

All heavy lifting of ``pipelines.derive`` is SQL run by DuckDB, so the same code handles a
hand-made pandas frame in a test and a 400-million-row Parquet panel on a research server: inputs
are registered as views (a DataFrame is scanned in place, a Parquet path is scanned lazily), and
results are either fetched as a DataFrame or written to Parquet with ``COPY`` without passing
through pandas. DuckDB spills to disk beyond its memory limit.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

Source = pd.DataFrame | Path | str
"""A table: a pandas DataFrame or the path of a Parquet file (or a glob of Parquet files)."""

_counter = itertools.count()


@dataclass
class Engine:
    """A DuckDB connection with sensible limits for a small machine.

    Parameters
    ----------
    memory_limit
        DuckDB's memory limit (e.g. ``"6GB"``); beyond it DuckDB spills to ``temp_dir``.
    threads
        Worker threads.
    temp_dir
        Spill directory; when ``None`` a fresh temporary directory, removed by :meth:`close`
        (or when the engine is garbage-collected or the process exits).
    """

    memory_limit: str = "4GB"
    threads: int = 2
    temp_dir: Path | None = None
    con: duckdb.DuckDBPyConnection = field(init=False, repr=False)
    _cleanup: weakref.finalize | None = field(init=False, repr=False, default=None)
    """Removes the spill directory the engine made itself (``None`` when ``temp_dir`` was given)."""

    def __post_init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        tmp = self.temp_dir
        if tmp is None:
            tmp = Path(tempfile.mkdtemp(prefix="star_duckdb_"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, tmp, ignore_errors=True)
        Path(tmp).mkdir(parents=True, exist_ok=True)
        self.con.execute(f"SET memory_limit = '{self.memory_limit}'")
        self.con.execute(f"SET threads = {int(self.threads)}")
        self.con.execute(f"SET temp_directory = '{_sql_str(str(tmp))}'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")

    @classmethod
    def from_config(cls, engine_options, out_dir: Path | None = None) -> Engine:
        """Engine from a :class:`pipelines.config.model.EngineOptions` section."""
        tmp = engine_options.temp_dir
        if tmp is None and out_dir is not None:
            tmp = Path(out_dir) / ".duckdb_tmp"
        return cls(engine_options.duckdb_memory_limit, engine_options.duckdb_threads, tmp)

    # -- inputs ------------------------------------------------------------------------------
    def view(
        self, src: Source | None, columns: list[str] | None = None, name: str | None = None
    ) -> str:
        """Register ``src`` under a fresh (or the given) name and return the name.

        ``None`` gives an empty view with ``columns`` (all VARCHAR), so optional tables can be
        left out.
        """
        name = name or f"_src{next(_counter)}"
        if src is None:
            if not columns:
                raise ValueError("an empty source needs its column names")
            cols = ", ".join(f"NULL::VARCHAR AS {c}" for c in columns)
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} WHERE false")
        elif isinstance(src, pd.DataFrame):
            self.con.register(name, src)
        else:
            path = str(src)
            if not any(ch in path for ch in "*?[") and not Path(path).exists():
                raise FileNotFoundError(f"{path}: input table not found")
            self.con.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet('{_sql_str(path)}')"
            )
        if columns:
            have = {c.lower() for c in self.columns(name)}
            missing = [c for c in columns if c.lower() not in have]
            if missing:
                raise ValueError(f"input table {_describe(src)} lacks columns {missing}")
        return name

    def columns(self, name: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()]

    # -- execution ---------------------------------------------------------------------------
    def table(self, sql: str, name: str | None = None) -> str:
        """Materialise ``sql`` as a temp table and return its name."""
        name = name or f"_t{next(_counter)}"
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return name

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def scalar(self, sql: str):
        return self.con.execute(sql).fetchall()[0][0]

    def write_parquet(self, sql: str, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(
            f"COPY ({sql}) TO '{_sql_str(str(path))}' (FORMAT parquet, COMPRESSION zstd)"
        )
        return path

    def output(self, sql: str, out: Path | None) -> pd.DataFrame | Path:
        """Write ``sql`` to ``out`` (Parquet) when given, else return it as a DataFrame."""
        return self.write_parquet(sql, out) if out is not None else self.df(sql)

    def close(self) -> None:
        self.con.close()
        if self._cleanup is not None:
            self._cleanup()


def _sql_str(s: str) -> str:
    return s.replace("'", "''")


def _describe(src: Source | None) -> str:
    return "(DataFrame)" if isinstance(src, pd.DataFrame) else str(src)


def lit_date(d: date | pd.Timestamp | str) -> str:
    """SQL DATE literal."""
    return f"DATE '{pd.Timestamp(d).date().isoformat()}'"


def lit_str(s: str) -> str:
    return "'" + _sql_str(s) + "'"


def month_index(expr: str) -> str:
    """SQL: months since year 0 of a DATE expression (consecutive calendar months differ by 1)."""
    return f"(year({expr}) * 12 + month({expr}))"

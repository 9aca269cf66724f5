"""Small shared pieces of the derivation stages: options, the mapping as a table, SQL snippets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

import pandas as pd

from data_schema.codes import SENIORITY_GROUPS
from data_schema.mapping import StateMapping, load_state_mapping
from pipelines.config.model import StarConfig
from pipelines.derive._engine import Engine, lit_date, lit_str

Shape = Literal["records", "weekly"]
"""Shape of the benefit input: ``records`` = ``benefit_spells`` (start/end per case),
``weekly`` = ``weekly_benefit_codes`` (one code per person-week)."""

BENEFIT_COLUMNS: dict[str, list[str]] = {
    "records": ["person_id", "benefit_code", "start_date", "end_date"],
    "weekly": ["person_id", "week_start", "benefit_code"],
}


@dataclass(frozen=True)
class Window:
    """The extract window: first and last day (inclusive) covered by the register extract."""

    start: date
    end: date

    @classmethod
    def of(cls, config: StarConfig) -> Window:
        return cls(config.extract_window.start, config.extract_window.end)

    @property
    def sql_start(self) -> str:
        return lit_date(self.start)

    @property
    def sql_end(self) -> str:
        return lit_date(self.end)


@lru_cache(maxsize=8)
def _mapping(path: str | None) -> StateMapping:
    return load_state_mapping(path)  # immutable, so safe to share


def resolve(
    config: StarConfig | None, mapping: StateMapping | None
) -> tuple[StarConfig, StateMapping]:
    """The given configuration and mapping, or the defaults (the mapping the config points at)."""
    config = config or StarConfig()
    if mapping is None:
        mapping = _mapping(str(config.state_mapping) if config.state_mapping else None)
    return config, mapping


def engine_for(engine: Engine | None, config: StarConfig) -> tuple[Engine, bool]:
    """The given engine, or a new one from the config (second value: caller must close it)."""
    if engine is not None:
        return engine, False
    return Engine(
        config.engine.duckdb_memory_limit, config.engine.duckdb_threads, config.engine.temp_dir
    ), True


def mapping_view(eng: Engine, mapping: StateMapping) -> str:
    """Register the code -> state mapping as a view (code, state, rank, kh_group)."""
    rows = [
        (code, d.state, mapping.priority(d.state), d.kh_group) for code, d in mapping.codes.items()
    ]
    df = pd.DataFrame(rows, columns=["code", "state", "rank", "kh_group"]).astype(
        {"code": "str", "state": "str", "kh_group": "object"}
    )
    return eng.view(df)


def kh_codes_sql(mapping: StateMapping) -> str:
    """SQL list literal of the benefit codes of the kontanthjælp system."""
    return "(" + ", ".join(lit_str(c) for c in sorted(mapping.kh_codes())) + ")"


def check_codes(eng: Engine, benefits: str, mapping: StateMapping) -> None:
    """Raise when the benefit input holds codes the mapping does not list (never guess)."""
    known = "(" + ", ".join(lit_str(c) for c in sorted(mapping.codes)) + ")"
    bad = eng.df(
        f"SELECT benefit_code::VARCHAR AS code, count(*) AS n FROM {benefits} "
        f"WHERE benefit_code::VARCHAR NOT IN {known} GROUP BY 1 ORDER BY 2 DESC LIMIT 20"
    )
    if len(bad):
        listing = ", ".join(f"{c} ({n} rows)" for c, n in zip(bad["code"], bad["n"], strict=True))
        raise ValueError(
            f"benefit codes not in the state mapping: {listing}; add them to the mapping YAML"
        )


def seniority_group_sql(start: str, ref: str) -> str:
    """SQL CASE giving the SENIORITY_GROUPS code of a spell started on ``start`` at ``ref``.

    Calendar years: seniority is at least k years when the spell started on or before the same
    calendar day k years before the reference date (29 February falls back to 28 February).
    """
    parts = []
    for code, _low, high, *_ in SENIORITY_GROUPS:
        if high == float("inf"):
            continue
        parts.append(f"WHEN {start} > {ref} - INTERVAL {int(high)} YEAR THEN '{code}'")
    last = SENIORITY_GROUPS[-1][0]
    return "CASE " + " ".join(parts) + f" ELSE '{last}' END"


def seniority_group(spell_start: date | pd.Timestamp, reference_date: date | pd.Timestamp) -> str:
    """SENIORITY_GROUPS code of a spell started on ``spell_start`` at ``reference_date``."""
    s, r = pd.Timestamp(spell_start), pd.Timestamp(reference_date)
    if s > r:
        raise ValueError("the spell starts after the reference date")
    for code, _low, high, *_ in SENIORITY_GROUPS:
        if high == float("inf") or s > r - pd.DateOffset(years=int(high)):
            return code
    raise AssertionError("unreachable")


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter written like ``2018Q1``."""
    p = pd.Period(quarter, freq="Q")
    return p.start_time.date(), p.end_time.date()


def as_date(d) -> date:
    return pd.Timestamp(d).date()

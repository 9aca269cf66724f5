"""National-scale derive benchmark: weekly DREAM-style panel -> spells -> Q1-2018 cohort ->
start-stop frame, out-of-core in DuckDB.

Goal (issue 4): under 5 minutes and under 8 GB peak memory on 2 cores, measured in a child process
(peak RSS of the child includes DuckDB's buffers).

Input (full run): the ``national`` synthetic register (seed 1) with its weekly panel, taken from
``STAR_BENCH_NATIONAL_DIR`` if that directory holds ``weekly_benefit_codes.parquet``, else generated
once with ``pipelines.synthetic.generate("national", weekly=True)`` and cached under
``benchmarks/_work/derive/national`` (the generation is not timed). Set
``STAR_BENCH_DERIVE_PANEL=1`` to use instead a panel generated here by SQL (500,000 persons with
~10 benefit episodes each over 1991-2023, ~70 % of weeks in KH codes, about 400 million
person-weeks, plus the other tables for 2014-2023). ``quick`` uses that SQL panel with 20,000
persons.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb

from benchmarks._measure import run_python

WORK = Path(__file__).parent / "_work" / "derive"
GOAL_SECONDS = 300
GOAL_MB = 8 * 1024
GENERATOR_VERSION = 2


def _codes_case(h: str) -> str:
    # 70 % KH codes (130 most common), the rest other benefits
    return f"""CASE
        WHEN {h} < 50 THEN '130' WHEN {h} < 60 THEN '131' WHEN {h} < 65 THEN '132'
        WHEN {h} < 70 THEN '133' WHEN {h} < 78 THEN '111' WHEN {h} < 86 THEN '890'
        WHEN {h} < 91 THEN '651' WHEN {h} < 95 THEN '764' WHEN {h} < 98 THEN '771' ELSE '783' END"""


def make_panel(out: Path, n_persons: int, episodes: int = 10) -> dict:
    """Write a synthetic national-size register (weekly shape) to ``out``; return its sizes."""
    marker = out / "_panel.json"
    want = {"n_persons": n_persons, "episodes": episodes, "version": GENERATOR_VERSION}
    if marker.exists() and json.loads(marker.read_text()).get("params") == want:
        return json.loads(marker.read_text())
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET memory_limit = '6GB'; SET threads = 2; SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = '{out / '.tmp'}'")
    t0 = time.perf_counter()
    n = int(n_persons)
    # episodes: lengths 1-200 weeks; 60 % of gaps are databrud-like 1-4 weeks, the rest 8-157 weeks
    con.execute(
        f"""
        CREATE TABLE ep AS
        WITH e AS (
            SELECT i, j, 1 + hash(i, j, 1) % 200 AS len,
                   CASE WHEN hash(i, j, 2) % 10 < 6 THEN 1 + hash(i, j, 3) % 4
                        ELSE 8 + hash(i, j, 3) % 150 END AS gap,
                   {_codes_case("hash(i, j, 4) % 100")} AS code,
                   hash(i) % 900 AS first_week
            FROM range({n}) p(i), range({episodes}) q(j)
        )
        SELECT i, code, len::BIGINT AS len,
               (first_week + coalesce(sum(len + gap) OVER (PARTITION BY i ORDER BY j
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::BIGINT AS start_week
        FROM e
        """
    )
    # week 0 = Monday 1990-12-31 (the week holding the window's first day); last week starts 2023-12-25
    con.execute(
        f"""
        COPY (
            SELECT 'P' || lpad(i::VARCHAR, 7, '0') AS person_id,
                   (DATE '1990-12-31' + 7 * (start_week + k)::INTEGER)::TIMESTAMP AS week_start,
                   code AS benefit_code
            FROM ep, unnest(range(len)) u(k)
            WHERE start_week + k <= 1712
        ) TO '{out / "weekly_benefit_codes.parquet"}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
        """
    )
    pid = "'P' || lpad(i::VARCHAR, 7, '0')"
    tables = {
        "persons": f"""
            SELECT {pid} AS person_id, (1940 + hash(i, 11) % 65)::BIGINT AS birth_year,
                   CASE WHEN hash(i, 12) % 2 = 0 THEN 'M' ELSE 'F' END AS sex,
                   CASE hash(i, 13) % 5 WHEN 0 THEN 'non_western' WHEN 1 THEN 'western' ELSE 'danish' END AS origin,
                   false AS menapt, 'basic' AS education, hash(i, 14) % 8 = 0 AS psychiatric_diagnosis,
                   hash(i, 15) % 12 = 0 AS substance_abuse_treatment, false AS has_children,
                   NULL::BOOLEAN AS children_placed, (101 + hash(i, 16) % 700)::BIGINT AS municipality_id
            FROM range({n}) p(i)""",
        # ten one-year assignments 2014-2023, sometimes the same case worker again
        "caseworker_assignments": f"""
            SELECT {pid} AS person_id, 'CW' || (hash(i, k, 21) % 3 + hash(i, 22) % 5000)::VARCHAR AS caseworker_id,
                   (101 + hash(i, 16) % 700)::BIGINT AS municipality_id,
                   (DATE '2014-01-01' + INTERVAL (k) YEAR)::TIMESTAMP AS start_date,
                   CASE WHEN k < 9 THEN (DATE '2014-12-31' + INTERVAL (k) YEAR)::TIMESTAMP END AS end_date
            FROM range({n}) p(i), range(10) q(k)""",
        "conversations": f"""
            SELECT {pid} AS person_id,
                   (DATE '2014-01-01' + (k * 60 + hash(i, k, 31) % 50)::INTEGER)::TIMESTAMP AS conversation_date,
                   CASE WHEN hash(i, k, 32) % 3 = 0 THEN 'other' ELSE 'job' END AS conversation_type,
                   (101 + hash(i, 16) % 700)::BIGINT AS municipality_id, NULL::VARCHAR AS caseworker_id
            FROM range({n}) p(i), range(60) q(k)""",
        "activation_offers": f"""
            SELECT {pid} AS person_id, 'O' || i::VARCHAR || '_' || k::VARCHAR AS offer_id, 'mentor' AS offer_type,
                   (DATE '2014-01-01' + (k * 365 + hash(i, k, 41) % 200)::INTEGER)::TIMESTAMP AS start_date,
                   (DATE '2014-01-01' + (k * 365 + hash(i, k, 41) % 200 + 13 + hash(i, k, 42) % 120)::INTEGER)::TIMESTAMP AS end_date,
                   'completed' AS outcome
            FROM range({n}) p(i), range(9) q(k) WHERE hash(i, k, 43) % 3 > 0""",
        "exemptions": f"""
            SELECT {pid} AS person_id,
                   (DATE '2014-01-01' + (k * 730 + hash(i, k, 51) % 400)::INTEGER)::TIMESTAMP AS start_date,
                   (DATE '2014-01-01' + (k * 730 + hash(i, k, 51) % 400 + 30 + hash(i, k, 52) % 200)::INTEGER)::TIMESTAMP AS end_date,
                   CASE WHEN hash(i, k, 53) % 2 = 0 THEN 'illness' ELSE 'other' END AS reason
            FROM range({n}) p(i), range(5) q(k) WHERE hash(i, k, 54) % 3 = 0""",
        "monthly_paid_hours": f"""
            SELECT {pid} AS person_id, (DATE '2014-01-01' + INTERVAL (k) MONTH)::TIMESTAMP AS month,
                   (5 + hash(i, k, 61) % 160)::DOUBLE AS paid_hours, 10000.0 AS earnings_dkk
            FROM range({n}) p(i), range(120) q(k) WHERE hash(i, 62) % 5 = 0 AND hash(i, k, 63) % 3 = 0""",
    }
    for name, sql in tables.items():
        con.execute(
            f"COPY ({sql}) TO '{out / (name + '.parquet')}' (FORMAT parquet, COMPRESSION zstd)"
        )
    sizes = {
        name: con.execute(
            f"SELECT count(*) FROM read_parquet('{out / (name + '.parquet')}')"
        ).fetchall()[0][0]
        for name in ["weekly_benefit_codes", *tables]
    }
    con.close()
    shutil.rmtree(out / ".tmp", ignore_errors=True)
    info = {"params": want, "rows": sizes, "generate_s": round(time.perf_counter() - t0, 1)}
    marker.write_text(json.dumps(info, indent=2))
    return info


def national_register(out: Path) -> Path:
    """The national synthetic register with its weekly panel, generated once into ``out``."""
    if not (out / "weekly_benefit_codes.parquet").exists():
        from pipelines.synthetic import generate

        shutil.rmtree(out, ignore_errors=True)
        generate("national", 1, out, weekly=True, statistics=False)
    return out


CHILD = """
import json, time
from pathlib import Path
from pipelines.config.model import StarConfig, EngineOptions
from data_schema.mapping import load_state_mapping
from pipelines.derive._engine import Engine
from pipelines.derive.spells import spells_table, SPELL_COLUMNS
from pipelines.derive.cohorts import stock_in_period_sql, cohorts_table
from pipelines.derive.frames import start_stop_table

d, out = Path({d!r}), Path({out!r})
config = StarConfig(engine=EngineOptions(duckdb_memory_limit={mem!r}, duckdb_threads=2))
mapping = load_state_mapping()
eng = Engine.from_config(config.engine, out)
v = lambda n: eng.view(d / (n + ".parquet"))
times = {{}}
t = time.perf_counter()
b = v("weekly_benefit_codes")
sp, iv, recs = spells_table(eng, b, "weekly", mapping, config, paid_hours=v("monthly_paid_hours"))
eng.write_parquet(f"SELECT {{SPELL_COLUMNS}} FROM {{sp}}", out / "spells.parquet")
times["spells_s"] = round(time.perf_counter() - t, 1); t = time.perf_counter()
q = {{"2018Q1": stock_in_period_sql(sp, "2018-01-01", "2018-03-31", "2018Q1")}}
co = cohorts_table(eng, sp, config, mapping, persons=v("persons"), benefits=recs,
                   caseworker_assignments=v("caseworker_assignments"), which=q)
eng.write_parquet(f"SELECT * FROM {{co}}", out / "cohort_2018Q1.parquet")
times["cohort_s"] = round(time.perf_counter() - t, 1); t = time.perf_counter()
ss = start_stop_table(eng, co, sp, persons=v("persons"), caseworker_assignments=v("caseworker_assignments"),
                      conversations=v("conversations"), activation_offers=v("activation_offers"),
                      exemptions=v("exemptions"), paid_hours=v("monthly_paid_hours"), config=config)
eng.write_parquet(f"SELECT * FROM {{ss}}", out / "start_stop.parquet")
times["start_stop_s"] = round(time.perf_counter() - t, 1)
rows = {{k: eng.scalar(f"SELECT count(*) FROM read_parquet('{{out / (k + '.parquet')}}')")
        for k in ("spells", "cohort_2018Q1", "start_stop")}}
import os, resource
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"steps": times, "rows": rows, "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
                  "load_avg_1min_end": round(os.getloadavg()[0], 1)}}))
"""


def run(quick: bool = False) -> dict:
    ext = os.environ.get("STAR_BENCH_NATIONAL_DIR")
    if ext and (Path(ext) / "weekly_benefit_codes.parquet").exists():
        data, source = Path(ext), f"national synthetic register ({ext})"
        info = {}
    elif not quick and not os.environ.get("STAR_BENCH_DERIVE_PANEL"):
        data = national_register(WORK / "national")
        source, info = "national synthetic register (seed 1, weekly)", {}
    else:
        n = 20_000 if quick else 500_000
        data = WORK / f"panel_{n}"
        info = make_panel(data, n)
        source = "benchmark generator (bench_derive.make_panel)"
    if not info:
        import pyarrow.parquet as pq

        info = {
            "rows": {
                name: pq.ParquetFile(data / f"{name}.parquet").metadata.num_rows
                for name in ("weekly_benefit_codes", "persons", "benefit_spells")
                if (data / f"{name}.parquet").exists()
            }
        }
    out = WORK / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    mem = "5GB"
    # wall time is only meaningful on an otherwise idle machine: the load average is recorded
    load_start = round(os.getloadavg()[0], 1)
    res = run_python(CHILD.format(d=str(data), out=str(out), mem=mem), timeout=3600)
    child = json.loads(res["stdout"].strip().splitlines()[-1])
    result = {
        "input": source,
        "input_rows": info.get("rows"),
        "duckdb_memory_limit": mem,
        "wall_s": res["wall_s"],
        "load_avg_1min_start": load_start,
        "peak_mb": res["peak_mb"],
        **child,
        "goal": f"< {GOAL_SECONDS} s and < {GOAL_MB} MB",
        "goal_met": (res["wall_s"] < GOAL_SECONDS and res["peak_mb"] < GOAL_MB)
        if not quick
        else None,
    }
    shutil.rmtree(out, ignore_errors=True)
    return result


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))

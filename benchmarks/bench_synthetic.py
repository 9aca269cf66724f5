"""Benchmark of the synthetic register: generation wall time and peak memory per size.

Goal (issue 3): ``national`` generates in under 3 minutes and under 6 GB peak memory on 2 cores.
Each measurement runs in a fresh child process (benchmarks/_measure.py), so peak RSS is the
stage's own. The weekly DREAM-style export is timed separately: a second child reads the written
``benefit_spells.parquet`` and streams ``weekly_benefit_codes.parquet``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from benchmarks._measure import run_python

GOAL_SECONDS = 180.0
GOAL_MB = 6 * 1024.0

_GENERATE = """
import json
from pipelines.calibration.expected import synthesize
r = synthesize({size!r}, 1, {out!r}, statistics={statistics})
print(json.dumps({{"rows": r.rows, "seconds": {{k: round(v, 1) for k, v in r.seconds.items()}}}}))
"""

_WEEKLY = """
import json, time
import numpy as np, pyarrow.compute as pc, pyarrow.parquet as pq
from pipelines.synthetic.events import Calendar
from pipelines.synthetic.weekly import write_weekly
from pipelines.synthetic.writer import person_ids
t0 = time.perf_counter()
tab = pq.read_table({src!r}, columns=["person_id", "benefit_code", "start_date", "end_date"])
# person ids are P + rank (1-based), in rank order
rank = pc.cast(pc.utf8_slice_codeunits(tab.column("person_id"), 1), "int64").to_numpy() - 1
cases = {{
    "person": rank,
    "benefit_code": pc.cast(tab.column("benefit_code"), "int16").to_numpy(),
    "start_date": tab.column("start_date").to_numpy().astype("datetime64[D]"),
    "end_date": tab.column("end_date").to_numpy().astype("datetime64[D]"),
}}
ids = person_ids(int(rank.max()) + 1)
cal = Calendar(1978, 552, np.datetime64("1991-01-01"), np.datetime64("2023-12-31"))
import pyarrow as pa
pid = lambda p: pa.DictionaryArray.from_arrays(pa.array(p.astype(np.int32)), ids)
path, n = write_weekly(cases, cal, pid, {out!r})
print(json.dumps({{"rows": n, "seconds": round(time.perf_counter() - t0, 1)}}))
"""


def _generate(size: str, out: Path, statistics: bool = True) -> dict:
    m = run_python(_GENERATE.format(size=size, out=str(out), statistics=statistics))
    info = json.loads(m["stdout"].strip().splitlines()[-1])
    return {"wall_s": m["wall_s"], "peak_mb": m["peak_mb"], **info}


def _weekly(src: Path, out: Path) -> dict:
    m = run_python(_WEEKLY.format(src=str(src), out=str(out)))
    info = json.loads(m["stdout"].strip().splitlines()[-1])
    return {"wall_s": m["wall_s"], "peak_mb": m["peak_mb"], **info}


def run(quick: bool = False) -> dict:
    """Measure generation of ``default`` and ``national`` (quick: ``default`` only) and the
    weekly export of the largest size."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_synthetic_"))
    try:
        out: dict = {"goal": {"national_wall_s": GOAL_SECONDS, "national_peak_mb": GOAL_MB}}
        sizes = ["default"] if quick else ["default", "national"]
        for size in sizes:
            out[size] = _generate(size, tmp / size)
        big = sizes[-1]
        out[f"weekly_{big}"] = _weekly(tmp / big / "benefit_spells.parquet", tmp / f"weekly_{big}")
        if not quick:
            nat = out["national"]
            out["national_within_goal"] = bool(
                nat["wall_s"] < GOAL_SECONDS and nat["peak_mb"] < GOAL_MB
            )
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(run(quick=True), indent=2))

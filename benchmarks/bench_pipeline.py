"""End-to-end benchmark: raw register files to the four PDFs, per stage wall time and peak memory.

Goal (issue 11): the ``national`` synthetic register end to end in under 20 minutes and under
12 GB peak memory on 2 cores. ``quick`` uses the ``default`` register.

Every stage runs as ``star run --only <stage>`` in its own fresh process (benchmarks/_measure.py),
so the peak resident memory reported for a stage is that stage's own, and the sum of the stage
times is the end-to-end wall time of a cold run (the stage cache is emptied first). The last step
is ``star report`` (audit, then PDF and HTML of the four documents).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks._measure import run_python

GOAL_SECONDS = 20 * 60.0
GOAL_MB = 12 * 1024.0

_STAR = """
from pipelines.cli import app
try:
    app({args!r}, standalone_mode=False)
except SystemExit as exc:
    if exc.code:
        raise
"""


def _stage_names() -> list[str]:
    from pipelines.stages import pipeline_stages

    return [s.name for s in pipeline_stages(synthetic=True)]


def run(quick: bool) -> dict:
    size = "default" if quick else "national"
    root = Path("data") / "bench" / size
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    config = root / "star.yaml"
    config.write_text(
        f"paths:\n  work_dir: {root / 'work'}\n  results_dir: {root / 'results'}\n"
        f"  output_dir: {root / 'documents'}\nsynthetic:\n  size: {size}\n  seed: 1\n"
    )
    common = ["--config", str(config)]
    stages: dict[str, dict] = {}
    for name in _stage_names():
        args = ["run", *common, "--synthetic", size, "--seed", "1", "--only", name, "--force"]
        m = run_python(_STAR.format(args=args))
        stages[name] = {"wall_s": m["wall_s"], "cpu_s": m["cpu_s"], "peak_mb": m["peak_mb"]}
        print(f"  {name}: {m['wall_s']} s, {m['cpu_s']} s CPU, {m['peak_mb']} MB", flush=True)
    m = run_python(_STAR.format(args=["report", *common, "--format", "pdf", "--format", "html"]))
    stages["report"] = {"wall_s": m["wall_s"], "cpu_s": m["cpu_s"], "peak_mb": m["peak_mb"]}
    print(f"  report: {m['wall_s']} s, {m['cpu_s']} s CPU, {m['peak_mb']} MB", flush=True)

    raw = next((Path("data") / "synthetic").glob(f"{size}-seed1"))
    rows = {p.stem: _rows(p) for p in sorted(raw.glob("*.parquet"))}
    total = round(sum(s["wall_s"] for s in stages.values()), 1)
    cpu_total = round(sum(s["cpu_s"] for s in stages.values()), 1)
    peak = max(s["peak_mb"] for s in stages.values())
    pdfs = sorted(p.name for p in (root / "documents").glob("*.pdf"))
    return {
        "size": size,
        "register_rows": rows,
        "stages": stages,
        "end_to_end_s": total,
        "end_to_end_cpu_s": cpu_total,
        "peak_mb": peak,
        "pdfs": pdfs,
        "goal": {"seconds": GOAL_SECONDS, "peak_mb": GOAL_MB},
        "meets_goal": bool(total <= GOAL_SECONDS and peak <= GOAL_MB and len(pdfs) == 4),
        "results_dir": str(root / "results"),
        "stage_outputs": json.loads(json.dumps(_sizes(root))),
    }


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _sizes(root: Path) -> dict[str, float]:
    """Disk use (MB) of the work and results directories."""
    out = {}
    for sub in ("work", "results", "documents"):
        files = [p for p in (root / sub).rglob("*") if p.is_file()]
        out[sub] = round(sum(p.stat().st_size for p in files) / 2**20, 1)
    return out

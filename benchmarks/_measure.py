"""Helpers for benchmarks: wall time and peak memory of a child process or a callable."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def run_python(code: str, timeout: float | None = None) -> dict:
    """Run ``code`` in a fresh Python process; return wall seconds, CPU seconds (user + system
    of the child), peak RSS (MB) and stdout.

    Peak memory of a child is the honest figure for a stage (it includes everything the stage
    imports and allocates, and nothing the parent held). CPU time is the figure to compare on a
    machine shared with other jobs (wall time there includes waiting for a core).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAP.format(code=code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-4000:]}")
    lines = proc.stdout.strip().splitlines()
    peak_mb = float(lines[-1].split("=", 1)[1])
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_mb": round(peak_mb, 1),
        "stdout": "\n".join(lines[:-1]),
    }


_WRAP = """
import resource
{code}
print("PEAK_MB=" + str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time over ``repeat`` calls of ``fn`` and the last return value."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

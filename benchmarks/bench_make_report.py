"""The first impression: ``make report`` on a fresh clone, as a new user runs it (issue 24).

Clones the committed HEAD of this repository into a temporary directory and runs ``make report``
there (environment set-up from the lock, the ``default`` synthetic register, the whole pipeline
with ``--jobs 2``, the four documents). Goal: under 5 minutes on 2 cores. Recorded: wall and CPU
seconds of the whole command, the stage times ``star run`` prints, and the set-up time. The
package cache of uv is shared with the machine (a fresh machine downloads the wheels once more).
``quick`` runs the same command with ``SIZE=tiny``.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 5 * 60.0
_STAGE_ROW = re.compile(r"│\s*(\w+)\s*│\s*ran\s*│\s*([\d.]+)\s*│")
_SETUP_DONE = "touch .venv/.installed"


def run(quick: bool) -> dict:
    repo = Path(__file__).resolve().parents[1]
    size = "tiny" if quick else "default"
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        setup_s = None
        lines = []
        with subprocess.Popen(
            ["make", "report", f"SIZE={size}"],
            cwd=clone,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"},
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if setup_s is None and _SETUP_DONE in line:
                    setup_s = round(time.perf_counter() - t0, 1)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError("make report failed:\n" + "".join(lines[-40:]))
        pdfs = sorted(p.name for p in (clone / "reports" / "_output").glob("*.pdf"))
    stages = {m.group(1): float(m.group(2)) for m in map(_STAGE_ROW.search, lines) if m}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "size": size,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "setup_wall_s": setup_s,
        "stage_wall_s": stages,
        "pdfs": pdfs,
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": bool(wall <= GOAL_SECONDS and len(pdfs) >= 4),
    }

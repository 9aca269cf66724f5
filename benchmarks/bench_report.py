"""Report stage: wall time of rendering the documents without Quarto, from the fixture results.

Goal (issue 11: `make report` under 15 minutes in total on 2 cores): the four documents in both
formats well under a minute. The peak memory is the renderer's process only; the Jupyter kernel
that executes the documents is a separate process and not included.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks._measure import run_python

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "report" / "fixtures" / "results"
GOAL_S = 60.0


def run(quick: bool) -> dict:
    docs = ["brief"] if quick else ["annual", "brief", "technical", "reproduction"]
    formats = ["html"] if quick else ["pdf", "html"]
    with tempfile.TemporaryDirectory() as out:
        code = (
            "from pipelines.report import render_reports\n"
            f"files = render_reports({str(FIXTURE)!r}, {out!r}, {{'lang': 'da'}}, {formats!r},"
            f" documents={docs!r}, engine='builtin')\n"
            "print(len(files))\n"
        )
        res = run_python(code, timeout=900)
    return {
        "documents": docs,
        "formats": formats,
        "files": int(res["stdout"].strip() or 0),
        "wall_s": res["wall_s"],
        "renderer_peak_mb": res["peak_mb"],
        "goal_wall_s": GOAL_S,
        "pass": res["wall_s"] <= GOAL_S,
    }

"""End to end on the `tiny` synthetic register: `star run` then `star report`, twice, in two fresh
directories and two separate processes (so hash randomisation and import order differ).

Guarantees tested (issue 11):
- determinism: the same input + config + seed gives byte-identical results tables, figures,
  provenance and rendered documents (the run date pinned by ``SOURCE_DATE_EPOCH``);
- every stage runs from raw files to documents with no step by hand;
- a rerun in the same directory is served from the stage cache and changes no byte;
- the results pass `star audit`, and no person id of the input appears in any output.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cdp_browser import LAYOUT_PROBE, Chromium, find_browser, layout_problems

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("end_to_end")]

CONFIG = """\
paths:
  work_dir: work
  results_dir: results
  output_dir: documents
subgroups:
  n_bootstrap: 3
"""


def _star(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # SOURCE_DATE_EPOCH pins the run date printed in provenance and documents (the only
    # time-dependent field); everything else must be identical without help
    env = {
        **os.environ,
        "PYTHONHASHSEED": "random",
        "NO_COLOR": "1",
        "COLUMNS": "120",
        "SOURCE_DATE_EPOCH": "1795000000",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import app; app()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"star {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "_build" not in p.parts
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    dirs = []
    for name in ("a", "b"):
        d = tmp_path_factory.mktemp(f"e2e_{name}")
        (d / "star.yaml").write_text(CONFIG)
        _star(d, "run", "--config", "star.yaml", "--synthetic", "tiny", "--seed", "3")
        _star(d, "report", "--config", "star.yaml", "--format", "html")
        dirs.append(d)
    return dirs[0], dirs[1]


def test_results_and_documents_are_byte_identical(two_runs):
    a, b = two_runs
    results_a, results_b = _digests(a / "results"), _digests(b / "results")
    assert len(results_a) >= 20, sorted(results_a)
    assert results_a == results_b, sorted(k for k in results_a if results_a[k] != results_b.get(k))
    docs_a, docs_b = _digests(a / "documents"), _digests(b / "documents")
    assert {Path(k).name for k in docs_a} >= {
        "annual.html", "brief.html", "technical.html", "reproduction.html",
    }  # fmt: skip
    assert docs_a == docs_b, sorted(k for k in docs_a if docs_a[k] != docs_b.get(k))


def test_rerun_is_served_from_cache_and_changes_nothing(two_runs):
    a, _ = two_runs
    before = _digests(a / "results")
    proc = _star(a, "run", "--config", "star.yaml", "--synthetic", "tiny", "--seed", "3")
    out = proc.stdout + proc.stderr
    assert " ran " not in out and "cached" in out, out[-2000:]
    assert _digests(a / "results") == before


def test_outputs_pass_the_audit_and_hold_no_person_id(two_runs):
    a, _ = two_runs
    _star(a, "audit", "results")
    raw = next((a / "data" / "synthetic").iterdir())
    ids = pd.read_parquet(raw / "persons.parquet", columns=["person_id"])["person_id"].astype(str)
    # ids long enough not to occur by chance inside numbers of a table
    long_ids = [i for i in ids if len(i) >= 8]
    assert long_ids, "the tiny register should have person ids of 8+ characters"
    sample = set(long_ids[:2000])
    for path in list((a / "results").rglob("*.csv")) + list((a / "documents").glob("*.html")):
        text = path.read_text(encoding="utf-8", errors="replace")
        leaked = [i for i in sample if i in text]
        assert not leaked, f"{path.name} contains person ids {leaked[:3]}"


@pytest.mark.skipif(find_browser() is None, reason="no Chromium on PATH (apt-get install chromium)")
def test_documents_in_a_phone_width_browser(two_runs):
    """The tiny register's HTML documents in headless Chromium at 375 px: every image loads, no
    console error, no sideways scrolling of the page (see tests/report/test_browser_pdf.py)."""
    a, _ = two_runs
    pages = sorted((a / "documents").glob("*.html"))
    assert len(pages) == 4
    with Chromium(find_browser()) as browser:  # type: ignore[arg-type]
        for page in pages:
            report = browser.load(page, LAYOUT_PROBE, width=375)
            assert report.value["images"], page.name
            assert layout_problems(report) == [], page.name


# Declared tables a run does not write, and why: never (yet), or only under a condition.
NEVER_WRITTEN: dict[str, str] = {}
CONDITIONAL = {
    "effects_simulation": "only with effects.simulation_summary (a file of the benchmark)",
    "transitions_simulation": "only with transitions.simulation_summary",
    "markov_check": "only with transitions.markov_comparison",
    "halfyear_coefficients": "only when the half-year model can be fitted",
    "transition_recovery": "only on a synthetic register with its truth",
    "subgroup_stability": "only with subgroups.n_bootstrap > 0",
    "cause_specific_cox": "only when the cause-specific models can be fitted",
    "ph_tests": "only when the cause-specific models can be fitted",
    "cox_fit": "only when the cause-specific models can be fitted",
    "ph_residual_curves": "only when the cause-specific models can be fitted",
    "fine_gray": "only with at least 20 job exits",
    "fine_gray_cif": "only with at least 20 job exits",
    "benchmark_municipal": "only with at least 10 exits of one type in the benchmarking cohort",
    "benchmark_model": "only with at least 10 exits of one type in the benchmarking cohort",
    "benchmark_funnel": "only with at least 10 exits of one type in the benchmarking cohort",
    "benchmark_recovery": "only on a synthetic register with >= 3 municipalities expecting exits",
}


def test_every_results_table_is_declared_and_every_declared_table_written(two_runs):
    """The results registry and a run agree: each CSV under results/ is declared (and matches
    its declaration), each declared table is written (or listed above with the reason)."""
    from pipelines.results_registry import REGISTRY, check_frame, spec_for_path

    a, _ = two_runs
    results = a / "results"
    # the published top of results/ (runs/<run id>/ holds the same files per run)
    written = {
        p.relative_to(results).as_posix(): p
        for p in results.rglob("*.csv")
        if p.relative_to(results).parts[0] not in ("runs", "compare")
    }
    undeclared = sorted(rel for rel in written if spec_for_path(rel) is None)
    assert undeclared == []
    for rel, path in written.items():
        assert check_frame(spec_for_path(rel), pd.read_csv(path)) == [], rel
    declared = {spec.path: name for name, spec in REGISTRY.items()}
    absent = {name for path, name in declared.items() if path not in written}
    assert absent >= set(NEVER_WRITTEN)
    assert absent - set(NEVER_WRITTEN) <= set(CONDITIONAL), sorted(absent)
    assert len(written) >= len(declared) - len(NEVER_WRITTEN) - len(CONDITIONAL)

"""`star report` command line: refuses results that fail the disclosure audit, checks its options.
(Rendering itself is tested in test_render.py; these tests start no kernel.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from pipelines.cli import app

FIXTURE = Path(__file__).with_name("fixtures") / "results"


def test_report_refuses_results_that_fail_the_audit(tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results)
    stock = pd.read_csv(results / "reproduction" / "stock_by_year.csv")
    stock.loc[0, "n_persons"] = 3  # a cell of 3 persons
    stock.to_csv(results / "reproduction" / "stock_by_year.csv", index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["report", "--results", str(results), "--out", str(out)])
    assert res.exit_code == 1
    assert not out.exists()  # nothing rendered


def test_report_rejects_unknown_language(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", "--results", str(FIXTURE), "--lang", "de"])
    assert res.exit_code == 2


def test_report_needs_a_results_directory(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["report", "--no-audit", "--results", str(tmp_path / "none"), "--out", str(tmp_path)]
    )
    assert res.exit_code == 2

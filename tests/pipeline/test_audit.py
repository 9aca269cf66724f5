"""star audit finds planted disclosure problems and passes clean results."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from pipelines.audit import audit
from pipelines.cli import app


def _clean(results):
    # a table in a subdirectory that is not a stage's area (a file in results/reproduction/
    # would have to be declared in the results registry: tests/pipeline/test_results_registry.py)
    (results / "extra").mkdir(parents=True)
    pd.DataFrame(
        {"group": ["a", "b", "c"], "n": [120, 0, None], "share": [0.4, None, None]}
    ).to_csv(results / "extra" / "t.csv", index=False)
    pd.DataFrame(
        {"time": [10, 20], "estimate": [0.1, 0.2], "n_risk": [500, 400], "n_event": [6, 0]}
    ).to_csv(results / "curve.csv", index=False)
    pd.DataFrame({"term": ["age"], "estimate": [0.1], "p10": [1.0]}).to_csv(
        results / "coef.csv", index=False
    )


def test_clean_results_pass(tmp_path):
    _clean(tmp_path)
    assert audit([tmp_path], 5, known_ids=["P0001", "P0002"]) == []


def test_planted_problems_are_each_found(tmp_path):
    _clean(tmp_path)
    pd.DataFrame({"group": ["x", "y"], "n": [3, 50], "n_with_paid_hours": [10, 4]}).to_csv(
        tmp_path / "small.csv", index=False
    )
    pd.DataFrame({"label": ["ok", "P0002"], "value": [1, 2]}).to_csv(
        tmp_path / "leak.csv", index=False
    )
    pd.DataFrame({"person_id": ["Q1"], "x": [1]}).to_csv(tmp_path / "idcol.csv", index=False)
    pd.DataFrame({"pnr_like": ["0101801234"]}).to_csv(tmp_path / "cpr.csv", index=False)
    pd.DataFrame({"municipality": ["a"], "max": [744]}).to_csv(
        tmp_path / "extreme.csv", index=False
    )
    pd.DataFrame(
        {"time": [1, 2], "estimate": [0.1, 0.2], "n_risk": [2, 100], "n_event": [1, 7]}
    ).to_parquet(tmp_path / "thin_curve.parquet")
    found = {
        (v.file.rsplit("/", 1)[-1], v.row, v.column, v.rule)
        for v in audit([tmp_path], 5, known_ids=["P0001", "P0002"])
    }
    assert found == {
        ("small.csv", 1, "n", "count below the disclosure threshold 5"),
        ("small.csv", 2, "n_with_paid_hours", "count below the disclosure threshold 5"),
        ("leak.csv", 2, "label", "value is a person id of the input"),
        ("idcol.csv", None, "person_id", "column looks like a person id"),
        ("cpr.csv", 1, "pnr_like", "value looks like a raw CPR number"),
        ("extreme.csv", None, "max", "exact minimum/maximum of individual values is published"),
        ("thin_curve.parquet", 1, "n_risk", "count below the disclosure threshold 5"),
        ("thin_curve.parquet", 1, "n_event", "count below the disclosure threshold 5"),
    }


def test_person_id_in_rendered_html(tmp_path):
    _clean(tmp_path)
    html = tmp_path / "doc.html"
    html.write_text("<p>Person P0002 left.</p>")
    v = audit([tmp_path], 5, known_ids=["P0002"], html_files=[html])
    assert [x.rule for x in v] == ["1 person id(s) of the input appear in the document"]


def test_cli_audit_exit_codes(tmp_path):
    _clean(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", str(tmp_path), "--work-dir", str(tmp_path / "nowork")])
    assert ok.exit_code == 0, ok.output
    pd.DataFrame({"n": [2]}).to_csv(tmp_path / "bad.csv", index=False)
    bad = runner.invoke(app, ["audit", str(tmp_path), "--work-dir", str(tmp_path / "nowork")])
    assert bad.exit_code == 1 and "count below the disclosure threshold 5" in bad.output

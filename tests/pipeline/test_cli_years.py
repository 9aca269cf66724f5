"""`star run --report-year` twice on one register, `star runs`, `star compare`, and a report year
the extract cannot follow (the CLI, in-process, on the tiny register; the model stages left out)."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app

pytestmark = pytest.mark.slow  # about 20 s of CPU (three runs of the year-dependent stages)

STAGES = ["ingest", "register", "derive", "reproduction", "provenance"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_years")
    (d / "star.yaml").write_text("paths:\n  work_dir: work\n  results_dir: results\n")
    old = os.getcwd()
    os.chdir(d)
    try:
        r = CliRunner().invoke(app, ["synth", "--size", "tiny", "--seed", "4", "--out", "raw",
                                     "--extract-end", "2021-12-31"])  # fmt: skip
        assert r.exit_code == 0, r.output
        for year in ("2020", "2021"):
            args = ["run", "--config", "star.yaml", "--raw-dir", "raw", "--report-year", year]
            r = CliRunner().invoke(app, args + [a for s in STAGES for a in ("--only", s)])
            assert r.exit_code == 0, r.output
        yield d
    finally:
        os.chdir(old)


def test_two_run_directories_and_the_list(workdir):
    runs = sorted(p.name for p in (workdir / "results" / "runs").iterdir())
    assert [r[:5] for r in runs] == ["2020-", "2021-"]
    r = CliRunner().invoke(app, ["runs", "--config", "star.yaml"])
    assert r.exit_code == 0 and "2020" in r.output and "2021" in r.output


def test_compare_the_two_years(workdir):
    r = CliRunner().invoke(app, ["compare", "2020", "2021", "--config", "star.yaml"])
    assert r.exit_code == 0, r.output
    (csv,) = (workdir / "results" / "compare").glob("*.csv")
    t = pd.read_csv(csv).set_index(["id", "part"])
    trends = pd.read_csv(
        next((workdir / "results" / "runs").glob("2021-*")) / "reproduction" / "trends.csv"
    )
    r1 = trends[trends["statistic"] == "R1"].set_index("year")["share"]
    assert t.loc[("R1", "all"), "value_a"] == pytest.approx(100 * r1[2020], abs=0.051)
    assert t.loc[("R1", "all"), "value_b"] == pytest.approx(100 * r1[2021], abs=0.051)
    assert t.loc[("R1", "all"), "conf_low"] < t.loc[("R1", "all"), "difference"]


def test_year_past_the_extract_is_refused(workdir):
    args = ["run", "--config", "star.yaml", "--raw-dir", "raw", "--report-year", "2022"]
    r = CliRunner().invoke(app, args + [a for s in STAGES for a in ("--only", s)])
    assert r.exit_code == 2
    assert "the extract ends on 2021-12-31" in r.output and "stock on 2022-11-30" in r.output


def test_next_years_extract_gives_the_same_earlier_years(tmp_path):
    """This year's and next year's delivery of one population: every trend statistic of the years
    both can follow is the same (the later delivery only adds its year)."""
    from pipelines.config import load_config
    from pipelines.run import RunContext, run_pipeline
    from pipelines.stages import DERIVE, INGEST, REGISTER, REPRODUCTION
    from pipelines.synthetic import generate

    tabs = {}
    for year in (2021, 2022):
        raw = tmp_path / f"x{year}"
        generate("tiny", 4, raw, extract_end=f"{year}-12-31", statistics=False)
        cfg = load_config(None, **{"report.year": year})
        ctx = RunContext(cfg, raw, tmp_path / f"w{year}", tmp_path / f"r{year}", run_id=str(year))
        run_pipeline([INGEST, REGISTER, DERIVE, REPRODUCTION], ctx)
        tabs[year] = pd.read_csv(tmp_path / f"r{year}" / "reproduction" / "trends.csv")
    assert sorted(tabs[2022]["year"].unique()) == [2018, 2019, 2020, 2021, 2022]
    keys = ["year", "statistic", "part"]
    m = tabs[2021].merge(tabs[2022], on=keys, suffixes=("_a", "_b"))
    assert len(m) == len(tabs[2021]) == 40
    pd.testing.assert_series_equal(m["share_a"], m["share_b"], check_names=False)
    pd.testing.assert_series_equal(m["n_a"], m["n_b"], check_names=False)

"""A second report year on the same extract: ingest and the register (spells) stage are reused,
the year-dependent stages rerun; the trend table agrees with the one-year statistics."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.config import load_config
from pipelines.run import RunContext, run_pipeline
from pipelines.stages import DERIVE, INGEST, REGISTER, REPRODUCTION
from pipelines.synthetic import generate


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    root = tmp_path_factory.mktemp("years")
    generate("tiny", 3, root / "raw", statistics=False)
    ran = {}
    for year in (2020, 2021):
        cfg = load_config(None, **{"report.year": year})
        ctx = RunContext(cfg, root / "raw", root / "work", root / f"run{year}", run_id=str(year))
        ran[year] = {o.name: not o.skipped for o in run_pipeline([INGEST, REGISTER, DERIVE], ctx)}
    ctx = RunContext(cfg, root / "raw", root / "work", root / "run2021", run_id="2021")
    run_pipeline([REPRODUCTION], ctx)
    return ran, root


def test_second_year_reuses_ingest_and_register(two_years):
    ran, _ = two_years
    assert ran[2020] == {"ingest": True, "register": True, "derive": True}
    assert ran[2021] == {"ingest": False, "register": False, "derive": True}


def test_trends_match_the_one_year_statistics(two_years):
    _, root = two_years
    rep = root / "run2021" / "reproduction"
    trends = pd.read_csv(rep / "trends.csv")
    assert sorted(trends["year"].unique()) == [2018, 2019, 2020, 2021]
    star = pd.read_csv(rep / "star2022.csv").set_index(["id", "part"])["reproduced"]
    now = trends[trends["year"] == 2021].set_index(["statistic", "part"])
    for key in [("R1", "all"), ("R8", "all"), ("R12", "case_review"), ("R13", "all"),
                ("R14", "all"), ("R15", "fp"), ("R15", "rf")]:  # fmt: skip
        assert 100 * now.loc[key, "share"] == pytest.approx(star.loc[key], abs=0.051), key


def test_trend_stock_by_hand(two_years):
    """R1 of 2019 from the spells: in a spell on 30 November 2019 that began 5+ years before."""
    _, root = two_years
    sp = pd.read_parquet(root / "work" / "derived" / "spells.parquet")
    ref = pd.Timestamp("2019-11-30")
    on = sp[(sp["spell_start"] <= ref) & (sp["spell_end"].isna() | (sp["spell_end"] >= ref))]
    long = on[on["spell_start"] <= ref - pd.DateOffset(years=5)]
    trends = pd.read_csv(root / "run2021" / "reproduction" / "trends.csv")
    r1 = trends[(trends["statistic"] == "R1") & (trends["year"] == 2019)].iloc[0]
    assert (r1["n"], r1["n_persons"]) == (on["person_id"].nunique(), long["person_id"].nunique())
    stock = pd.read_csv(root / "run2021" / "reproduction" / "stock_by_year.csv")
    assert stock[stock["year"] == 2019]["n_persons"].sum() == r1["n"]

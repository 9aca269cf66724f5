"""The reproduction table: tolerance rules, missing rows, suppression; the published figures file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.star2022 import (
    REPRODUCTION_COLUMNS,
    PublishedFigure,
    Reproduced,
    r17_from_effects,
    reproduction_table,
)
from pipelines.reproduction import load_published


def fig(id_, bound, published=None, tol=None, part="all"):
    return PublishedFigure(
        id=id_,
        part=part,
        statistic=id_,
        unit="pct",
        bound=bound,
        published=published,
        tolerance=tol,
    )


def test_within_rules_by_bound():
    figures = [
        fig("R1", "two_sided", 34, 2),
        fig("R2", "two_sided", 34, 2),
        fig("R19", "relative", 90_000, 0.10),
        fig("R8a", "at_least", 4, 3),
        fig("R8b", "at_most", 19, 3),
        fig("R5", "direction"),
        fig("R17", "model", -22, 3),
        fig("R17b", "model", -22, 3),
        fig("R13", "two_sided", 54, 2),
        fig("R3", "two_sided", 33, 3),
    ]
    values = {
        ("R1", "all"): Reproduced(value=35.9, n=100),  # inside +2
        ("R2", "all"): Reproduced(value=36.1, n=100),  # outside
        ("R19", "all"): Reproduced(value=98_000, n=100),  # within 10 %
        ("R8a", "all"): Reproduced(value=1.0, n=100),  # exactly at 4 - 3
        ("R8b", "all"): Reproduced(value=22.5, n=100),  # above 19 + 3
        ("R5", "all"): Reproduced(within=True, text="women +3 pts"),
        ("R17", "all"): Reproduced(value=-15.0, lower=-30.0, upper=-2.0),  # CI covers -22
        ("R17b", "all"): Reproduced(value=-21.0),  # no CI: +-3 points
        ("R3", "all"): Reproduced(value=30.0, n=3),  # too few persons: suppressed
    }
    t = reproduction_table(figures, values, threshold=5).set_index("id")
    assert list(t.reset_index().columns) == list(REPRODUCTION_COLUMNS)
    assert t.loc["R1", "within"] and not t.loc["R2", "within"]
    assert t.loc["R19", "within"] and t.loc["R19", "lower"] == pytest.approx(81_000)
    assert t.loc["R8a", "within"] and np.isnan(t.loc["R8a", "upper"])
    assert not t.loc["R8b", "within"]
    assert t.loc["R5", "within"] and t.loc["R5", "reproduced_text"] == "women +3 pts"
    assert t.loc["R17", "within"] and t.loc["R17", "lower"] == -30.0
    assert t.loc["R17b", "within"]
    # not computed: kept, empty, with a reason
    assert pd.isna(t.loc["R13", "reproduced"]) and pd.isna(t.loc["R13", "within"])
    assert t.loc["R13", "note"] == "not computed"
    # resting on 3 persons: suppressed, the reason said
    assert pd.isna(t.loc["R3", "reproduced"]) and pd.isna(t.loc["R3", "n"])
    assert "suppressed" in t.loc["R3", "note"]


def test_r17_from_effects_prefers_the_robust_estimator():
    eff = pd.DataFrame(
        {
            "exposure": ["caseworker_change_12m", "caseworker_change_12m", "conversations_3m"],
            "outcome": ["job", "job", "job"],
            "estimator": ["naive_cox", "msm_iptw", "msm_iptw"],
            "estimate": [0.60, 0.80, 1.2],
            "conf_low": [0.55, 0.70, 1.1],
            "conf_high": [0.65, 0.90, 1.3],
        }
    )
    r = r17_from_effects(eff)
    assert r.value == pytest.approx(-20.0)
    assert r.lower == pytest.approx(-30.0) and r.upper == pytest.approx(-10.0)
    assert "msm_iptw" in r.text
    assert r17_from_effects(None).value is None
    assert "effects analysis" in r17_from_effects(None).note


def test_published_figures_file_covers_r1_to_r22():
    figures = load_published()
    ids = {f.id for f in figures}
    assert ids == {f"R{i}" for i in range(1, 23)}
    keys = [f.key for f in figures]
    assert len(keys) == len(set(keys))
    for f in figures:
        assert f.bound in {"two_sided", "relative", "at_least", "at_most", "direction", "model"}
        assert f.definition and f.source.startswith("seeds/")
        if f.bound != "direction":
            assert f.published is not None and f.tolerance is not None
    tol = {f.key: f.tolerance for f in figures}
    assert tol[("R1", "all")] == 2 and tol[("R13", "all")] == 2 and tol[("R14", "all")] == 2
    assert tol[("R9", "case_review")] == 3


def test_figures_resting_on_a_suppressed_detail_cell_are_blanked():
    from analysis.star2022.table import StarResults, cell

    detail = pd.DataFrame(
        {
            "population": ["p", "p"],
            "group_type": ["all", "x"],
            "n": [50, 50],
            "n_exempt": [pd.NA, 20],  # hidden (say as a complementary cell) in the published table
        }
    )
    values = {
        ("R10", "case_review"): Reproduced(
            value=40.0, n=50, count=20, sources=(cell("efforts", "n_exempt", group_type="all"),)
        ),
        ("R9", "case_review"): Reproduced(
            value=40.0, n=50, count=20, sources=(cell("efforts", "n_exempt", group_type="x"),)
        ),
    }
    res = StarResults(tables={}, values=values)
    out = res.published_values({"efforts": detail})
    assert out[("R10", "case_review")].value is None
    assert "efforts.csv" in out[("R10", "case_review")].note
    assert out[("R9", "case_review")].value == 40.0

"""Disclosure control at the document boundary, on hand-made tables whose suppressed cells are
known by hand (primary: 0 < count < 5; secondary: the smallest other cell of the same margin)."""

from __future__ import annotations

import pandas as pd

from pipelines.report.catalog import CATALOG
from pipelines.report.context import ReportContext
from pipelines.report.protect import protect_curve, protect_table

STOCK = CATALOG["stock_by_year"].suppress
assert STOCK is not None


def _stock(small: int) -> pd.DataFrame:
    counts = [120, small, 300, 80]
    return pd.DataFrame(
        {
            "year": [2021] * 4,
            "seniority_group": ["lt1", "1_2", "2_3", "ge5"],
            "n_persons": counts,
            "n": [sum(counts)] * 4,
            "share": [c / sum(counts) for c in counts],
        }
    )


def test_small_cell_and_its_complement_are_suppressed() -> None:
    out = protect_table(_stock(3), threshold=5, **STOCK)
    frame = out.frame
    assert frame is not None
    hidden = frame[frame["n_persons"].isna()]["seniority_group"].tolist()
    # primary: the 3; secondary: the smallest other group of the year (80), so that the 3
    # cannot be recovered as n minus the published groups
    assert hidden == ["1_2", "ge5"]
    assert frame["share"].isna().tolist() == [False, True, False, True]
    assert out.n_suppressed == 2
    assert frame["n"].tolist() == [503] * 4  # the total itself is safe


def test_safe_table_passes_unchanged() -> None:
    df = _stock(40)
    out = protect_table(df, threshold=5, **STOCK)
    assert out.n_suppressed == 0
    pd.testing.assert_frame_equal(out.frame, df)


def test_reapplying_to_a_protected_table_changes_nothing() -> None:
    once = protect_table(_stock(3), threshold=5, **STOCK).frame
    twice = protect_table(once, threshold=5, **STOCK).frame
    pd.testing.assert_frame_equal(once, twice)


def test_one_denominator_for_all_rows() -> None:
    sizes = pd.DataFrame(
        {"group": [1, 2, 3], "label": ["a", "b", "c"], "n_persons": [400, 2, 98], "n": [500] * 3}
    ).assign(share=lambda d: d["n_persons"] / d["n"])
    out = protect_table(sizes, threshold=5, **CATALOG["subgroup_sizes"].suppress)
    assert out.frame["n_persons"].isna().tolist() == [False, True, True]
    assert "__all__" not in out.frame.columns


def test_curve_guard_drops_thin_tail() -> None:
    curve = pd.DataFrame(
        {
            "cohort": ["2021"] * 4,
            "cause": ["job"] * 4,
            "time": [0, 3, 6, 9],
            "estimate": [0.0, 0.1, 0.2, 0.3],
            "n_risk": [100, 80, 60, 4],
            "n_event": [0, 10, 8, 6],
        }
    )
    out = protect_curve(curve, threshold=5, **CATALOG["cif"].curve)
    assert out.frame["time"].tolist() == [0, 3, 6]
    assert out.n_suppressed == 1


def test_context_uses_the_stricter_threshold(tmp_path) -> None:
    (tmp_path / "provenance.json").write_text('{"config": {"disclosure": {"threshold": 10}}}')
    assert ReportContext(tmp_path, threshold=5).threshold == 10
    assert ReportContext(tmp_path, threshold=20).threshold == 20
    assert ReportContext(tmp_path / "nowhere").threshold == 5


def test_wide_efforts_table_suppresses_each_count_with_its_share() -> None:
    efforts = pd.DataFrame(
        {
            "population": ["stock_2021-11-30"] * 3,
            "group_type": ["all", "seniority_group", "seniority_group"],
            "group": ["all", "lt1", "ge10"],
            "n": [300, 120, 180],
            "share_activated": [0.3, 0.35, 0.27],
            "n_exempt": [90, 2, 88],
            "share_exempt": [0.3, 2 / 120, 88 / 180],
        }
    )
    spec = CATALOG["efforts"].suppress
    out = protect_table(efforts, threshold=5, **spec(efforts)).frame
    assert out["n_exempt"].isna().tolist() == [False, True, False]
    assert out["share_exempt"].isna().tolist() == [False, True, False]
    assert out["share_activated"].notna().all()  # a pooled statistic over a safe denominator

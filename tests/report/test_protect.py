"""Disclosure control at the document boundary: a small cell never reaches a document.

The checks hold whether ``analysis.disclosure`` is installed (cells suppressed) or not (the
table or curve is withheld whole).
"""

from __future__ import annotations

import pandas as pd

from pipelines.report.protect import protect_curve, protect_table


def _table(small: int) -> pd.DataFrame:
    counts = [120, small, 300, 80]
    return pd.DataFrame(
        {
            "year": [2021] * 4,
            "group": ["<1", "1-2", "2-5", "5+"],
            "count": counts,
            "n": [sum(counts)] * 4,
            "share": [c / sum(counts) for c in counts],
        }
    )


def test_small_cell_is_not_published() -> None:
    df = _table(3)
    out = protect_table(df, counts=["count"], values=["share"], margins=["year"], threshold=5)
    if out.withheld:
        assert out.frame is None and out.reason
    else:
        row = out.frame[out.frame["group"] == "1-2"].iloc[0]
        assert pd.isna(row["count"]) and pd.isna(row["share"])
        # secondary suppression: the small cell cannot be recovered from the margin total
        assert out.frame["count"].isna().sum() >= 2
    assert out.n_suppressed >= 1


def test_safe_table_passes_unchanged() -> None:
    df = _table(40)
    out = protect_table(df, counts=["count"], values=["share"], margins=["year"], threshold=5)
    assert not out.withheld
    pd.testing.assert_frame_equal(out.frame, df)
    assert out.n_suppressed == 0


def test_zero_cells_are_not_small() -> None:
    out = protect_table(_table(0), counts=["count"], threshold=5)
    assert not out.withheld


def test_curve_guard() -> None:
    curve = pd.DataFrame(
        {
            "time": [0, 3, 6, 9],
            "estimate": [0.0, 0.1, 0.2, 0.3],
            "n_risk": [100, 80, 60, 4],
            "n_event": [0, 10, 8, 6],
        }
    )
    out = protect_curve(curve, threshold=5)
    if not out.withheld:  # a backend removes the points that fail
        assert (out.frame["n_risk"] >= 5).all()
    safe = protect_curve(curve.iloc[:3], threshold=5)
    assert not safe.withheld and len(safe.frame) == 3

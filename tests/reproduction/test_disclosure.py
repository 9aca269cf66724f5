"""Disclosure control on hand-made tables whose correct suppression pattern is known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import (
    DisclosureError,
    assert_no_person_ids,
    assert_publishable,
    describe_distribution,
    disclosure_problems,
    guard_curve,
    person_id_columns,
    safe_quantile,
    suppress,
    suppressed_share,
)


def _missing(s: pd.Series) -> list[bool]:
    return s.isna().tolist()


# --- primary suppression -------------------------------------------------------------------


def test_small_count_and_its_share_are_suppressed_and_input_untouched():
    df = pd.DataFrame({"group": ["a", "b"], "n": [40, 50], "n_yes": [3, 20]})
    df["share"] = df["n_yes"] / df["n"]
    before = df.copy()
    out = suppress(df, {"n_yes": ["share"]}, threshold=5)
    pd.testing.assert_frame_equal(df, before)
    assert _missing(out["n_yes"]) == [True, False]
    assert _missing(out["share"]) == [True, False]
    assert out["n"].tolist() == [40, 50]
    assert out["suppressed"].tolist() == [True, False]
    assert str(out["n_yes"].dtype) == "Int64"


def test_complement_rule_hides_a_share_of_nearly_everyone():
    # 58 of 60: the 2 persons without the property would be revealed
    df = pd.DataFrame({"n": [60, 60], "n_yes": [58, 55]})
    out = suppress(df, ["n_yes"], threshold=5)
    assert _missing(out["n_yes"]) == [True, False]
    out2 = suppress(df, ["n_yes"], threshold=5, complement=False)
    assert not out2["n_yes"].isna().any()


def test_small_denominator_suppresses_the_whole_row_but_zeros_are_published():
    df = pd.DataFrame({"n": [4, 0, 30], "n_yes": [4, 0, 0]})
    df["share"] = suppressed_share(df["n_yes"], df["n"])
    out = suppress(df, {"n_yes": ["share"]}, threshold=5)
    # 100 % of 4 persons: both the count and the denominator go
    assert _missing(out["n"]) == [True, False, False]
    assert _missing(out["n_yes"]) == [True, False, False]
    # zero-denominator group: nothing to hide, no crash, share undefined
    assert out.loc[1, "n"] == 0 and np.isnan(out.loc[1, "share"])
    assert out.loc[2, "n_yes"] == 0 and out.loc[2, "share"] == 0


def test_threshold_is_configurable():
    df = pd.DataFrame({"n": [100], "n_yes": [3]})
    assert suppress(df, ["n_yes"], threshold=3)["n_yes"].notna().all()
    assert suppress(df, ["n_yes"], threshold=5)["n_yes"].isna().all()


# --- secondary suppression -----------------------------------------------------------------


def test_one_dimensional_line_with_total_gets_one_complementary_cell():
    df = pd.DataFrame({"group": ["a", "b", "c", "all"], "n_x": [2, 10, 20, 32]})
    out = suppress(df, ["n_x"], denominator=None, lines=[[]])
    # a is primary; b (smallest positive other cell) protects it from 32 - 10 - 20
    assert _missing(out["n_x"]) == [True, True, False, False]


def test_two_way_table_by_hand():
    # sex within seniority group, with an 'all' margin row; group n published.
    rows = []
    for g, f, m in [("g1", 3, 20), ("g2", 10, 12), ("g3", 15, 30), ("all", 28, 62)]:
        rows += [(g, "F", f, f + m), (g, "M", m, f + m)]
    df = pd.DataFrame(rows, columns=["group", "sex", "n_persons", "n"])
    out = suppress(
        df,
        ["n_persons"],
        denominator_keys=["group"],
        lines=[["sex"]],  # F over g1, g2, g3, all; M likewise (all is the total)
        partitions=[["group"]],  # F + M = n within each group
        denominator_lines=[[]],
        complement=False,
    )
    hidden = set(
        out.loc[out["n_persons"].isna(), ["group", "sex"]].itertuples(index=False, name=None)
    )
    # by hand: g1F primary; F line -> g2F (10 < 15 < 28); g1 partition -> g1M (20 < n 23);
    # g2 partition -> g2M (12 < n 22); then every line has 0 or >= 2 hidden cells.
    assert hidden == {("g1", "F"), ("g2", "F"), ("g1", "M"), ("g2", "M")}
    assert out["n"].notna().all()
    # and the hidden cells are not determined by the published margins: two solutions exist
    for f1 in (3, 4):
        f2, m1 = 13 - f1, 23 - f1
        m2 = 22 - f2
        assert m1 + m2 == 62 - 30


def test_denominator_secondary_suppression_across_groups():
    df = pd.DataFrame(
        {"group": ["g1", "g2", "g3", "all"], "n": [3, 40, 50, 93], "n_x": [1, 12, 20, 33]}
    )
    out = suppress(df, ["n_x"], lines=[[]], denominator_lines=[[]], complement=False)
    # n: g1 primary, g2 (smallest other positive denominator) complementary
    assert _missing(out["n"]) == [True, True, False, False]
    # n_x: g1 hidden with its denominator, g2 complementary (12 < 20 < 33)
    assert _missing(out["n_x"]) == [True, True, False, False]
    assert out["suppressed"].tolist() == [True, True, False, False]


def test_fixed_point_cascades_through_several_lines():
    # 3x3 table of counts with row and column totals, written long; one small cell
    grid = np.array([[2, 7, 9], [8, 30, 40], [12, 50, 60]])
    rows = []
    for i in range(4):
        for j in range(4):
            if i < 3 and j < 3:
                v = grid[i, j]
            elif i < 3:
                v = grid[i].sum()
            elif j < 3:
                v = grid[:, j].sum()
            else:
                v = grid.sum()
            rows.append((i, j, int(v)))
    df = pd.DataFrame(rows, columns=["r", "c", "n_x"])
    out = suppress(df, ["n_x"], denominator=None, lines=[["r"], ["c"]])
    hidden = {(r, c) for r, c in out.loc[out["n_x"].isna(), ["r", "c"]].itertuples(index=False)}
    # by hand: (0,0)=2 primary; row 0 -> (0,1)=7; column 0 -> (1,0)=8; column 1 -> (1,1)=30
    # (30 < 50 < 87); row 1 now has (1,0),(1,1): done.
    assert hidden == {(0, 0), (0, 1), (1, 0), (1, 1)}
    # every line has 0 or at least 2 hidden cells
    for key in ("r", "c"):
        counts = out.groupby(key)["n_x"].apply(lambda s: int(s.isna().sum()))
        assert not (counts == 1).any()


def test_series_line_labels_and_flag_composition():
    df = pd.DataFrame(
        {"g": ["5_10", "ge10", "ge5"], "n_x": [30, 2, 32], "suppressed": [False, False, True]}
    )
    out = suppress(df, ["n_x"], denominator=None, lines=[pd.Series(["h", "h", "h"])])
    assert _missing(out["n_x"]) == [True, True, False]
    assert out["suppressed"].tolist() == [True, True, True]


def test_stats_follow_their_denominator_and_bad_input_is_refused():
    df = pd.DataFrame({"n": [4, 12], "mean_days": [100.0, 200.0]})
    out = suppress(df, [], stats=["mean_days"])
    assert _missing(out["mean_days"]) == [True, False]
    with pytest.raises(KeyError):
        suppress(df, ["n_missing"])
    with pytest.raises(ValueError):
        suppress(
            pd.DataFrame({"g": [1, 1], "n": [10, 11], "n_x": [5, 6]}),
            ["n_x"],
            denominator_keys=["g"],
        )


# --- curves ----------------------------------------------------------------------------------


def test_curve_steps_are_merged_until_enough_events_and_tail_dropped():
    curve = pd.DataFrame(
        {
            "time": [0, 1, 2, 3, 4, 5, 6, 7, 8],
            "estimate": [1.0, 0.9, 0.72, 0.67, 0.56, 0.38, 0.32, 0.24, 0.0],
            "n_risk": [20, 20, 18, 15, 12, 9, 6, 4, 3],
            "n_event": [0, 2, 3, 1, 2, 2, 1, 1, 1],
        }
    )
    out = guard_curve(curve, threshold=5)
    assert out["time"].tolist() == [0, 2, 5]
    assert out["n_event"].tolist() == [0, 5, 5]
    assert out["estimate"].tolist() == [1.0, 0.72, 0.38]
    assert (out["n_risk"] >= 5).all()


def test_curve_with_delayed_entry_drops_small_early_risk_sets_by_group():
    one = pd.DataFrame(
        {
            "time": [1, 2, 3, 4, 5, 6],
            "estimate": np.linspace(0.1, 0.6, 6),
            "n_risk": [3, 4, 10, 12, 11, 10],
            "n_event": [2, 3, 1, 4, 2, 3],
        }
    )
    curve = pd.concat([one.assign(cause="job"), one.assign(cause="fp", n_risk=20)])
    out = guard_curve(curve, threshold=5, by="cause")
    job = out[out["cause"] == "job"]
    fp = out[out["cause"] == "fp"]
    assert job["time"].tolist() == [4, 6] and job["n_event"].tolist() == [5, 5]
    assert fp["time"].tolist() == [2, 4, 6]


def test_curve_without_events_keeps_rows_with_enough_at_risk():
    curve = pd.DataFrame({"time": [1, 2, 3], "estimate": [0.5, 0.4, 0.3], "n_risk": [9, 5, 4]})
    assert guard_curve(curve, n_event=None)["time"].tolist() == [1, 2]


# --- guards ----------------------------------------------------------------------------------


def test_person_id_detection():
    df = pd.DataFrame(
        {
            "id": ["R1", "R2"],
            "pnr": ["a", "b"],
            "label": ["0101801234", "x"],
            "who": ["P0001", "z"],
            "share": [0.5, 0.2],
        }
    )
    found = dict(person_id_columns(df, known_ids=["P0001"]))
    assert set(found) == {"pnr", "label", "who"}
    with pytest.raises(DisclosureError):
        assert_no_person_ids(df)
    assert_no_person_ids(df[["id", "share"]], known_ids=["P0001"])


def test_publishable_checks_counts_extremes_and_ids():
    df = pd.DataFrame({"n": [3, 10], "max": [1, 2], "person_id": ["a", "b"]})
    problems = disclosure_problems(df, threshold=5)
    assert len(problems) == 3
    with pytest.raises(DisclosureError, match="not publishable"):
        assert_publishable(df)
    assert_publishable(pd.DataFrame({"n": [0, 5, np.nan], "p90": [1.0, 2.0, 3.0]}))


def test_safe_quantile_averages_neighbours_and_never_returns_an_extreme():
    v = np.arange(1, 11)
    assert safe_quantile(v, 0.5) == 5.0
    assert safe_quantile(v, 0.0) == 3.0
    assert safe_quantile(v, 1.0) == 8.0
    assert np.isnan(safe_quantile([1, 2, 3, 4], 0.5))


def test_describe_distribution_suppresses_small_groups():
    df = pd.DataFrame({"g": ["a"] * 10 + ["b"] * 3, "days": list(range(1, 11)) + [5, 6, 7]})
    out = describe_distribution(df, "days", by="g").set_index("g")
    assert out.loc["a", "n"] == 10 and out.loc["a", "p50"] == 5.0 and out.loc["a", "mean"] == 5.5
    assert pd.isna(out.loc["b", "n"]) and pd.isna(out.loc["b", "p50"])
    assert not {"min", "max"} & set(out.columns)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=5),
        min_size=2,
        max_size=5,
    ).filter(lambda g: len({len(r) for r in g}) == 1),
    st.integers(min_value=2, max_value=6),
)
def test_two_way_tables_with_margins_satisfy_the_suppression_invariants(grid, threshold):
    g = np.array(grid)
    full = np.zeros((g.shape[0] + 1, g.shape[1] + 1), dtype=int)
    full[:-1, :-1] = g
    full[:-1, -1] = g.sum(axis=1)
    full[-1, :-1] = g.sum(axis=0)
    full[-1, -1] = g.sum()
    rows = [(i, j, int(full[i, j])) for i in range(full.shape[0]) for j in range(full.shape[1])]
    df = pd.DataFrame(rows, columns=["r", "c", "n_x"])
    out = suppress(df, ["n_x"], denominator=None, lines=[["r"], ["c"]], threshold=threshold)
    hidden = out["n_x"].isna().to_numpy()
    v = df["n_x"].to_numpy()
    # primary cells are hidden, nothing small is shown
    assert hidden[(v > 0) & (v < threshold)].all()
    shown = v[~hidden]
    assert not ((shown > 0) & (shown < threshold)).any()
    # no line has exactly one hidden cell unless every other cell of it is zero
    for key in ("r", "c"):
        for _, line in out.assign(h=hidden, v=v).groupby(key):
            if line["h"].sum() == 1:
                assert (line.loc[~line["h"], "v"] == 0).all()
    assert out["suppressed"].tolist() == hidden.tolist()


def test_guard_curve_of_an_empty_curve_is_empty():
    """A subgroup or cohort without rows gives an empty curve, not an error (tiny registers)."""
    empty = pd.DataFrame({"group": [], "time": [], "estimate": [], "n_risk": [], "n_event": []})
    out = guard_curve(empty, threshold=5, by=["group"])
    assert out.empty
    assert list(out.columns) == list(empty.columns)

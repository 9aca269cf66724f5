"""The issue-23 inference tables of the survival and transitions stages on hand-made data: the
Kaplan-Meier median / RMST table (hand-computed values, disclosure of small groups) and the
transition-probability table P(s, t) (exact proportions without censoring, cell suppression)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.transitions.sequences import occupation_curves
from pipelines.survival import km_exit_summary
from pipelines.transitions import transition_probability_table


def _follow_up() -> pd.DataFrame:
    # cohort A: ten persons leaving at months 1..10 (seniority group lt1) and ten never leaving
    # (group ge10, followed 12 months); cohort B: the same twenty once more
    one = pd.DataFrame(
        {
            "seniority_group": ["lt1"] * 10 + ["ge10"] * 10,
            "time": np.r_[np.arange(1.0, 11.0), np.full(10, 12.0)],
            "event": np.r_[np.ones(10, int), np.zeros(10, int)],
        }
    )
    return pd.concat([one.assign(cohort="A"), one.assign(cohort="B")], ignore_index=True)


def test_km_summary_hand_values_and_logrank():
    table, tests = km_exit_summary(_follow_up(), "A", threshold=5)
    row = table.set_index(["group_type", "group"]).loc[("seniority_group", "lt1")]
    # S = 0.5 exactly on the step [5, 6): R's median is the midpoint 5.5
    assert row["median"] == 5.5 and row["n"] == 10 and row["n_events"] == 10
    # RMST up to tau = 12 (the common last time): 1 + 0.9 + ... + 0.1 = 5.5, then S = 0
    assert row["tau"] == 12.0 and row["rmst"] == pytest.approx(5.5, abs=1e-12)
    never = table.set_index(["group_type", "group"]).loc[("seniority_group", "ge10")]
    assert never["n_events"] == 0 and np.isnan(never["median"])  # not reached
    assert never["rmst"] == pytest.approx(12.0)
    assert tests.loc[0, "test"] == "log-rank" and tests.loc[0, "df"] == 1
    assert tests.loc[0, "p_value"] < 1e-3


def test_km_summary_blanks_the_median_of_a_group_with_few_exits():
    fu = _follow_up()
    fu.loc[(fu["seniority_group"] == "lt1") & (fu["time"] > 3), "event"] = 0  # 3 exits left
    table = km_exit_summary(fu, "A", threshold=5)[0].set_index(["group_type", "group"])
    small = table.loc[("seniority_group", "lt1")]
    assert pd.isna(small["n_events"]) and pd.isna(small["median_conf_low"])
    assert small["n"] == 10 and not np.isnan(small["rmst"])  # ten persons: RMST published


def _sojourns(n_back: int) -> pd.DataFrame:
    # 30 persons in kh from 0; 12 move to a job at month 3; n_back of them return to kh at 7;
    # everyone is followed to month 10
    rows = []
    for i in range(30):
        if i >= 12:
            rows.append((i, 0.0, 10.0, "kh", None))
            continue
        rows.append((i, 0.0, 3.0, "kh", "job"))
        if i < n_back:
            rows += [(i, 3.0, 7.0, "job", "kh"), (i, 7.0, 10.0, "kh", None)]
        else:
            rows.append((i, 3.0, 10.0, "job", None))
    return pd.DataFrame(rows, columns=["person_id", "entry", "exit", "from_state", "to_state"])


def test_transition_probabilities_are_the_proportions_without_censoring():
    soj = _sojourns(n_back=6)
    res = occupation_curves(soj, None, ["kh", "job"])["all"]
    tp = transition_probability_table(res, soj, 5.0, 9.0, threshold=5)
    cell = tp.set_index(["from_state", "to_state"])
    assert cell.loc[("job", "kh"), "estimate"] == pytest.approx(0.5)
    assert cell.loc[("job", "kh"), "n_persons"] == 6 and cell.loc[("job", "kh"), "n"] == 12
    assert cell.loc[("kh", "kh"), "estimate"] == pytest.approx(1.0)
    assert cell.loc[("kh", "job"), "n_persons"] == 0 and cell.loc[("kh", "kh"), "n"] == 18
    ok = cell["conf_low"].notna()  # a log-scale limit is undefined where P = 0
    assert (cell.loc[ok, "conf_low"] <= cell.loc[ok, "estimate"]).all() and ok.sum() == 3


def test_transition_probabilities_suppress_small_cells_and_their_complement():
    soj = _sojourns(n_back=2)
    res = occupation_curves(soj, None, ["kh", "job"])["all"]
    cell = transition_probability_table(res, soj, 5.0, 9.0, threshold=5).set_index(
        ["from_state", "to_state"]
    )
    # two of twelve returned: the cell, and the diagonal that would reveal it, are blanked
    assert np.isnan(cell.loc[("job", "kh"), "estimate"])
    assert np.isnan(cell.loc[("job", "job"), "estimate"])
    assert cell.loc[("kh", "kh"), "estimate"] == pytest.approx(1.0)

"""Transition probabilities P(s, t) with standard errors and CIs, and the missing-value rule, of
:class:`analysis.multistate.MultiStateAalenJohansen` against R (etm 1.1.1, survival 3.5-3).

Fixtures from ``tests/r/multistate_inference_fixtures.R`` on public data shipped with R: etm's
``sir.cont`` (illness-death with recovery, ties) and ``abortion`` (competing risks, left
truncation, two groups), survival's ``mgus2`` made multi-state as in survival's vignette (two
groups), and the simulated ``ms_data`` (delayed entry, back-transitions, non-integer weights).
``variance="greenwood"`` is checked against ``etm(..., s = s)`` + ``summary(ci.fun = ...)``,
``variance="ij"`` against ``survfit(..., start.time = s, p0 = e_a)`` for each start state ``a``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rcheck import close_to_r

from analysis._base import MissingValuesError
from analysis.multistate import MultiStateAalenJohansen

FIX = Path(__file__).parents[1] / "fixtures" / "r" / "multistate_inference"
TOL = 1e-8
CI_NAME = {"linear": "plain", "log": "log", "cloglog": "cloglog", "log-log": "log-log"}
MS_KW = dict(id="id", entry="tstart", exit="tstop", from_state="from", to_state="to",
             censored="censor")  # fmt: skip
SIR_KW = dict(id="id", entry="entry", exit="exit", from_state="from", to_state="to",
              censored="cens")  # fmt: skip


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"{name}.csv", dtype={"from": str, "to": str})


def _ours(res, ref: pd.DataFrame, s: float, variance: str, conf: str, group=None) -> pd.DataFrame:
    """Reference rows merged with our transition_probabilities at the same (from, to, time)."""
    tp = res.transition_probabilities(s, np.unique(ref.time), group=group, variance=variance,
                                      conf_type=conf)  # fmt: skip
    tp = tp.assign(from_state=tp.from_state.astype(str), to_state=tp.to_state.astype(str))
    m = ref.merge(tp, left_on=["from", "to", "time"], right_on=["from_state", "to_state", "time"],
                  suffixes=("_r", ""))  # fmt: skip
    assert len(m) == len(ref) > 0
    return m


def _close(actual, expected, tol=TOL, what=""):
    close_to_r(actual, expected, tol, what)


def _check_greenwood(m: pd.DataFrame, what: str) -> None:
    _close(m.estimate, m.estimate_r, 1e-12, what + " estimate")
    _close(m.std_error**2, m["var"], 1e-12, what + " var")
    _close(m.std_error, np.sqrt(m["var"]), TOL, what + " std_error")
    # limits where the transform is defined and not degenerate (R's 1^NaN = 1 aside)
    ok = (m.estimate_r > 1e-10) & (m.estimate_r < 1 - 1e-10) & (m["var"] > 1e-14)
    assert ok.sum() > 20
    _close(m.conf_low[ok], m.lower[ok], TOL, what + " conf_low")
    _close(m.conf_high[ok], m.upper[ok], TOL, what + " conf_high")


@pytest.mark.parametrize("case", ["sir", "sir_F"])
def test_greenwood_matches_etm_sir(case):
    data = _read("sir_data")
    if case == "sir_F":
        data = data[data.sex == "F"]
    res = MultiStateAalenJohansen().fit(data, **SIR_KW)
    ref = _read("etm_sir")
    ref = ref[ref.case == case]
    for (s, ci), sub in ref.groupby(["s", "ci"]):
        _check_greenwood(_ours(res, sub, s, "greenwood", CI_NAME[ci]), f"{case} s={s} {ci}")


def test_greenwood_matches_etm_abortion_groups_left_truncated():
    res = MultiStateAalenJohansen().fit(
        _read("abortion_data"), id="id", entry="entry", exit="exit", from_state="from",
        to_state="to", group="group",
    )  # fmt: skip
    ref = _read("etm_abortion")
    for (case, s, ci), sub in ref.groupby(["case", "s", "ci"]):
        g = int(case.rsplit("_", 1)[1])
        m = _ours(res, sub, s, "greenwood", CI_NAME[ci], group=g)
        _check_greenwood(m, f"{case} s={s} {ci}")


def test_greenwood_matches_etm_mgus2_delayed_entry_into_pcm():
    data = _read("mgus2_data")
    res = MultiStateAalenJohansen().fit(data[data.sex == "M"], **MS_KW)
    for (s, ci), sub in _read("etm_mgus2").groupby(["s", "ci"]):
        _check_greenwood(_ours(res, sub, s, "greenwood", CI_NAME[ci]), f"mgus2 s={s} {ci}")


IJ_CASES = {
    # case: (data, fixture, fit keywords, s, conf_type)
    "mgus2": ("mgus2_data", "ij_mgus2", MS_KW, 0.0, "log"),
    "mgus2_sex": ("mgus2_data", "ij_mgus2", dict(MS_KW, group="sex"), 60.25, "log-log"),
    "ms": ("ms_data", "ij_ms", MS_KW, 4.5, "log"),
    "ms_group_w": ("ms_data", "ij_ms", dict(MS_KW, group="group", weights="w"), 10.5, "plain"),
    "sir": ("sir_data", "ij_sir", SIR_KW, 10.25, "log"),
}


@pytest.mark.parametrize("case", sorted(IJ_CASES))
def test_ij_matches_survfit_start_time_p0(case):
    data_name, fix, kw, s, conf = IJ_CASES[case]
    res = MultiStateAalenJohansen(conf_type=conf).fit(_read(data_name), **kw)
    ref = _read(fix)
    ref = ref[ref.case == case]
    for g, sub in ref.groupby("group"):
        m = _ours(res, sub, s, "ij", conf, group=None if g == "all" else g)
        what = f"{case} {g}"
        _close(m.estimate, m.estimate_r, 1e-12, what + " estimate")
        _close(m.std_error, m.std_err, TOL, what + " std_error")
        _close(m.conf_low, m.lower, TOL, what + " conf_low")
        _close(m.conf_high, m.upper, TOL, what + " conf_high")
        assert (m.std_error > 0.01).sum() > 10  # not a trivially zero comparison


def _illness_death() -> pd.DataFrame:
    """Six persons from time 0 in h (healthy); i = ill, d = dead; three tied transitions at 2."""
    rows = [
        (1, 0, 2, "h", "i"), (1, 2, 4, "i", "d"),
        (2, 0, 2, "h", "d"),
        (3, 0, 2, "h", "i"), (3, 2, 5, "i", None),
        (4, 0, 3, "h", None),
        (5, 0, 4, "h", "d"),
        (6, 0, 6, "h", None),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["id", "tstart", "tstop", "from", "to"])


def test_hand_checked_illness_death_with_ties():
    """At 2: 6 at risk in h, 2 -> i, 1 -> d; at 4: 2 in h, 1 -> d; 2 in i, 1 -> d. So
    P(0, 4) row h = (1/4, 1/6, 7/12). P_hh is a Kaplan-Meier curve: Greenwood variance
    S^2 sum d / (Y (Y - d)) = 1/16 (3/18 + 1/2) = 1/24. P_hi: Greenwood (delta method) at 2:
    (6 * 1/2 - 1^2) / 6^3 = 1/108, at 4: P_hi(0, 4-)^2 (2 - 1) / 2^3 = 1/72, total 5/216.
    IJ: person influences on P_hh are (-1, -1, -1, 1, -2, 4) / 24, sum of squares 1/24; on P_hi
    (-1, -1, 5, -1, -1, -1) / 36, sum of squares 5/216 - in this progressive example without
    back-transitions the two variances coincide (they differ on sir.cont, checked above).
    P(2.5, 4) row i = (0, 1/2, 1/2), Var P_ii = 1/4 * 1/2 = 1/8 (both)."""
    kw = dict(id="id", entry="tstart", exit="tstop", from_state="from", to_state="to",
              states=["h", "i", "d"])  # fmt: skip
    res = MultiStateAalenJohansen().fit(_illness_death(), **kw)
    for variance in ["greenwood", "ij"]:
        tp = res.transition_probabilities(0, 4, variance=variance).set_index(
            ["from_state", "to_state"]
        )
        _close(tp.loc["h"].estimate, [1 / 4, 1 / 6, 7 / 12], 1e-15)
        _close(tp.loc["i"].estimate, [0, 1 / 2, 1 / 2], 1e-15)
        _close(tp.loc["d"].estimate, [0, 0, 1], 1e-15)
        _close(tp.loc[("h", "h"), "std_error"], np.sqrt(1 / 24), 1e-15)
        _close(tp.loc[("h", "i"), "std_error"], np.sqrt(5 / 216), 1e-15)
        _close(tp.loc["d"].std_error, [0, 0, 0], 0)
        later = res.transition_probabilities(2.5, 4, variance=variance).set_index(
            ["from_state", "to_state"]
        )
        _close(later.loc["i"].estimate, [0, 1 / 2, 1 / 2], 1e-15)
        _close(later.loc[("i", "i"), "std_error"], np.sqrt(1 / 8), 1e-15)
        # before any transition after s: the identity with zero standard errors
        none = res.transition_probabilities(4, 4.5, variance=variance)
        _close(none.estimate, np.eye(3).ravel(), 0)
        _close(none.std_error, np.zeros(9), 0)


def test_transition_probabilities_agree_with_transition_matrix_and_tidy_shape():
    res = MultiStateAalenJohansen().fit(_read("ms_data"), **MS_KW, group="group", weights="w")
    tp = res.transition_probabilities(3.5, [9, 20])
    assert list(tp.columns) == ["group", "from_state", "to_state", "s", "time", "estimate",
                                "std_error", "conf_low", "conf_high"]  # fmt: skip
    assert len(tp) == 2 * 2 * 16
    for g in ["a", "b"]:
        p = res.transition_matrix(3.5, 20, group=g)
        sub = tp[(tp.group == g) & (tp.time == 20)]
        got = sub.pivot(index="from_state", columns="to_state", values="estimate")
        _close(got.loc[p.index, p.columns].to_numpy(), p.to_numpy(), 1e-14)
    with pytest.raises(ValueError, match="unweighted"):
        res.transition_probabilities(3.5, 9, group="a", variance="greenwood")
    with pytest.raises(ValueError, match="s <= t"):
        res.transition_probabilities(10, 9, group="a")
    with pytest.raises(ValueError, match="conf_type"):
        res.transition_probabilities(1, 9, group="a", conf_type="arcsin")


def test_result_is_immutable():
    res = MultiStateAalenJohansen().fit(_read("ms_data"), **MS_KW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_missing = 3
    rows = res._rows[None]
    with pytest.raises(ValueError):
        rows.weight[0] = 2.0
    with pytest.raises(ValueError):
        res.curves[None].hazard_matrices[0, 0, 0] = 2.0


def test_missing_values_dropped_as_documented_matches_survfit():
    """13 rows with a missing from/tstart/w are dropped; across the gap a dropped transition row
    leaves, the person re-enters in the next row's state. R refuses that history; its estimate on
    the kept rows with the rows after each gap under a new id is the reference."""
    data = _read("ms_missing_data")
    res = MultiStateAalenJohansen().fit(data, **MS_KW, weights="w")
    assert res.n_missing == 13
    assert "rows dropped for missing values: 13" in res.summary()
    ref = _read("ms_missing")
    ev = res.evaluate(np.unique(ref.time)).merge(ref, on=["state", "time"])
    assert len(ev) == len(ref)
    _close(ev.estimate, ev.pstate, 1e-12)
    m = res.tidy().merge(ref, on=["state", "time"])  # R also lists censoring-only times
    assert len(m) == len(res.tidy())
    np.testing.assert_array_equal(m.n_risk_x, m.n_risk_y)
    tp = res.transition_probabilities(4.5, 20)
    assert np.isfinite(tp.std_error).all()
    with pytest.raises(MissingValuesError, match="13 row"):
        MultiStateAalenJohansen(missing="raise").fit(data, **MS_KW, weights="w")


def test_missing_to_state_is_censoring_not_missing():
    df = _illness_death()
    res = MultiStateAalenJohansen(missing="raise").fit(
        df, id="id", entry="tstart", exit="tstop", from_state="from", to_state="to"
    )
    assert res.n_missing == 0
    assert sum(res.n.values()) == 6
    with pytest.raises(ValueError, match="missing must be"):
        MultiStateAalenJohansen(missing="ignore").fit(
            df, id="id", entry="tstart", exit="tstop", from_state="from", to_state="to"
        )


def test_chain_rule_after_dropping_is_only_waived_across_a_gap():
    kw = dict(id="id", entry="tstart", exit="tstop", from_state="from", to_state="to")
    df = _illness_death()
    # person 1 loses its first row (h -> i): observed from 2 on, in i (delayed entry)
    lost = df.copy()
    lost.loc[0, "from"] = None
    res = MultiStateAalenJohansen().fit(lost, **kw)
    assert res.n_missing == 1
    # same rows without the missing value: the person's second row starts in i after h -> i
    # at 2; a jump with no dropped row is still refused, naming the input row
    bad = df.copy()
    bad.loc[1, "from"] = "h"
    with pytest.raises(ValueError, match="row 1 starts in state 'h'"):
        MultiStateAalenJohansen().fit(bad, **kw)
    # a person with a dropped row but a jump at a contiguous boundary is refused too
    three = pd.DataFrame(
        {"id": [1, 1, 1], "tstart": [0, 2, 4], "tstop": [2, 4, 6], "from": ["h", "h", "h"],
         "to": ["i", None, None], "w": [1.0, 1.0, np.nan]}
    )  # fmt: skip
    with pytest.raises(ValueError, match="previous row ended in 'i'"):
        MultiStateAalenJohansen().fit(three, **kw, weights="w")

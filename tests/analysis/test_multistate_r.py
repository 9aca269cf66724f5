"""Multi-state Aalen-Johansen against R ``survfit`` multi-state (survival 3.5-3) and ``etm``.

Data (``ms_data.csv``): states kh, job, edu, fp with back-transitions (kh -> job -> kh, edu -> kh),
a stock with delayed entry, persons starting in kh or job, censoring, non-integer weights, two
groups. Reference values from ``tests/r/nonparametric_fixtures.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rcheck import close_to_r

from analysis.multistate import MultiStateAalenJohansen

FIX = Path(__file__).parents[1] / "fixtures" / "r" / "nonparam"
TOL = 1e-10
KW = dict(id="id", entry="tstart", exit="tstop", from_state="from", to_state="to",
          censored="censor")  # fmt: skip


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"{name}.csv")


def _close(actual, expected, tol=TOL, what=""):
    close_to_r(actual, expected, tol, what)


CASES = {
    "ms_plain": (dict(), dict()),
    "ms_group_w": (dict(weights="w", group="group"), dict()),
    "ms_p0_kh": (dict(start_state="kh"), dict()),
    "ms_influence_w": (dict(weights="w"), dict(p0_variance=True)),
    "ms_loglog": (dict(), dict(conf_type="log-log")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_occupation_matches_survfit(name):
    fit_kw, est_kw = CASES[name]
    res = MultiStateAalenJohansen(**est_kw).fit(_read("ms_data"), **KW, **fit_kw)
    ref = _read(name)
    group = fit_kw.get("group")
    for (g, state), sub in ref.groupby(["group", "state"]):
        ev = res.evaluate(sub.time.to_numpy())
        if group is not None:
            ev = ev[ev[group] == g]
        ev = ev[ev.state == state]
        what = f"{name} {g} {state}"
        _close(ev.estimate, sub.pstate, what=what + " estimate")
        _close(ev.std_error, sub.std_err, what=what + " std_error")
        _close(ev.conf_low, sub.lower, what=what + " conf_low")
        _close(ev.conf_high, sub.upper, what=what + " conf_high")


@pytest.mark.parametrize("name", ["ms_plain", "ms_group_w"])
def test_counts_match_survfit(name):
    fit_kw, _ = CASES[name]
    tidy = MultiStateAalenJohansen().fit(_read("ms_data"), **KW, **fit_kw).tidy()
    if "group" not in tidy:
        tidy.insert(0, "group", "all")
    m = tidy.merge(_read(name), on=["group", "state", "time"], suffixes=("", "_r"))
    assert len(m) == len(tidy)
    np.testing.assert_array_equal(m.n_risk, m.n_risk_r)
    np.testing.assert_array_equal(m.n_event, m.n_event_r)


def test_initial_distribution_matches_survfit_p0():
    res = MultiStateAalenJohansen().fit(_read("ms_data"), **KW)
    ref = _read("ms_plain_p0").set_index("state")["p0"]
    c = res.curves[None]
    _close([c.p0[c.states.index(s)] for s in ref.index], ref.to_numpy())


def test_transition_matrix_matches_etm():
    """P(s, t) for s = 0 and s = 5 against etm::etm's Aalen-Johansen estimates."""
    res = MultiStateAalenJohansen().fit(_read("ms_data"), **KW)
    ref = _read("etm_transition")
    for (s, t), sub in ref.groupby(["s", "time"]):
        p = res.transition_matrix(s, t)
        got = [p.loc[f, to] for f, to in zip(sub["from"], sub["to"], strict=True)]
        _close(got, sub.estimate, 1e-12, what=f"P({s}, {t})")


def test_row_order_does_not_matter():
    data = _read("ms_data")
    a = MultiStateAalenJohansen().fit(data, **KW, weights="w").tidy()
    b = MultiStateAalenJohansen().fit(data.sample(frac=1, random_state=3), **KW, weights="w").tidy()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-13)


def test_no_censoring_gives_empirical_occupation():
    """Without censoring or delayed entry, p(t) is the observed share in each state at t, and the
    IJ variance of a share is the binomial p(1-p)/n (hand-checkable ground truth)."""
    rows = [
        # id, tstart, tstop, from, to
        (1, 0, 2, "kh", "job"), (1, 2, 5, "job", "kh"), (1, 5, 9, "kh", None),
        (2, 0, 3, "kh", "job"), (2, 3, 9, "job", None),
        (3, 0, 2, "kh", "fp"),
        (4, 0, 4, "job", "kh"), (4, 4, 9, "kh", None),
        (5, 0, 9, "kh", None),
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=["id", "tstart", "tstop", "from", "to"])
    # p0_variance=True: the initial distribution (4/5 in kh, 1/5 in job) is estimated too
    res = MultiStateAalenJohansen(p0_variance=True).fit(
        df, id="id", entry="tstart", exit="tstop", from_state="from", to_state="to"
    )
    ev = res.evaluate([0, 1, 2, 3, 4, 5, 8]).pivot(index="time", columns="state")
    expected = (
        pd.DataFrame(
            {
                "fp": [0, 0, 1, 1, 1, 1, 1],
                "job": [1, 1, 2, 3, 2, 1, 1],
                "kh": [4, 4, 2, 1, 2, 3, 3],
            },
            index=[0, 1, 2, 3, 4, 5, 8],
        )
        / 5.0
    )
    for state in ["fp", "job", "kh"]:
        _close(ev["estimate"][state].to_numpy(), expected[state].to_numpy(), 1e-15)
    p = expected.to_numpy()
    se = ev["std_error"][["fp", "job", "kh"]].to_numpy()
    _close(se, np.sqrt(p * (1 - p) / 5), 1e-15)


def test_gap_in_observation_is_allowed():
    """A person unobserved between two rows is not at risk in the gap (R refuses gaps); the
    estimate equals that of the same rows given as two separate persons."""
    df = pd.DataFrame(
        {
            "id": [1, 1, 2, 3, 4],
            "tstart": [0, 6, 0, 0, 0],
            "tstop": [3, 9, 5, 8, 9],
            "from": ["kh", "kh", "kh", "kh", "kh"],
            "to": [None, "job", "job", "job", None],
        }
    )
    kw = dict(entry="tstart", exit="tstop", from_state="from", to_state="to")
    a = MultiStateAalenJohansen().fit(df, id="id", **kw).tidy()
    b = MultiStateAalenJohansen().fit(df.assign(id=range(5)), id="id", **kw).tidy()
    _close(a.estimate, b.estimate, 1e-15)
    np.testing.assert_array_equal(a.n_risk, b.n_risk)


def test_invalid_chains_are_refused():
    base = pd.DataFrame(
        {"id": [1, 1], "tstart": [0, 3], "tstop": [3, 6], "from": ["kh", "job"],
         "to": ["job", None]}
    )  # fmt: skip
    kw = dict(id="id", entry="tstart", exit="tstop", from_state="from", to_state="to")
    MultiStateAalenJohansen().fit(base, **kw)
    with pytest.raises(ValueError, match="overlap"):
        MultiStateAalenJohansen().fit(base.assign(tstart=[0, 2]), **kw)
    with pytest.raises(ValueError, match="previous row ended in 'job'"):
        MultiStateAalenJohansen().fit(base.assign(**{"from": ["kh", "edu"]}), **kw)
    with pytest.raises(ValueError, match="entry must be below"):
        MultiStateAalenJohansen().fit(base.assign(tstop=[3, 3]), **kw)
    with pytest.raises(KeyError, match="tstart"):
        MultiStateAalenJohansen().fit(base.drop(columns="tstart"), **kw)
    with pytest.raises(ValueError, match="not a state"):
        MultiStateAalenJohansen().fit(base, **kw, start_state="nowhere")
    with pytest.raises(ValueError, match="sum to 1"):
        MultiStateAalenJohansen().fit(base, **kw, initial={"kh": 0.5})


def test_initial_distribution_argument():
    """initial={kh: 1} is the same as start_state='kh' (R's p0 argument)."""
    data = _read("ms_data")
    a = MultiStateAalenJohansen().fit(data, **KW, start_state="kh").tidy()
    b = MultiStateAalenJohansen().fit(data, **KW, initial={"kh": 1.0}).tidy()
    pd.testing.assert_frame_equal(a, b)


def test_low_memory_propagation_gives_same_result(monkeypatch):
    """With no memory budget the binary-lifting tables are rebuilt per call: same numbers."""
    import analysis._aj_engine as engine

    data = _read("ms_data")
    a = MultiStateAalenJohansen().fit(data, **KW, weights="w").tidy()
    monkeypatch.setattr(engine, "_TABLE_BUDGET_BYTES", 0)
    b = MultiStateAalenJohansen().fit(data, **KW, weights="w").tidy()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-14)

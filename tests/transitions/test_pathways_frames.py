"""Predicted pathways, frames and hovedveje tables against hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.transitions import (
    Clock,
    TransitionModel,
    half_year_states,
    predict_occupation,
    simulate_paths,
    sojourns,
)
from analysis.transitions.checks import calibration_table, paths_frame
from analysis.transitions.frames import state_durations
from analysis.transitions.sequences import (
    frequent_sequences,
    half_year_flows,
    state_distribution,
)

NO_CLOCK = Clock(seniority=None, month=None, month_index=None, age=None, birth_year=None,
                 features=None)  # fmt: skip


def _markov_data(seed=0, n=6000):
    """Person-months of a homogeneous Markov chain on a, b, c (c absorbing)."""
    rng = np.random.default_rng(seed)
    p = {"a": [0.8, 0.15, 0.05], "b": [0.3, 0.6, 0.1]}
    org = rng.choice(["a", "b"], size=n)
    nxt = [rng.choice(["a", "b", "c"], p=p[o]) for o in org]
    return pd.DataFrame({"state": org, "next_state": nxt, "duration_months": 0.0})


def test_exact_occupation_of_markov_model_is_matrix_power():
    fit = TransitionModel(variance="model").fit(
        _markov_data(), "state", "next_state", (), states=["a", "b", "c"]
    )
    P = fit.transition_matrix({}).to_numpy()
    pred = predict_occupation(fit, {"state": "a", "duration_months": 0}, 12, clock=NO_CLOCK)
    start = np.array([1.0, 0.0, 0.0])
    for t in (1, 5, 12):
        np.testing.assert_allclose(
            pred.estimate[t], start @ np.linalg.matrix_power(P, t), atol=1e-12
        )
    np.testing.assert_allclose(pred.estimate.sum(axis=1), 1.0, atol=1e-12)


def test_exact_occupation_agrees_with_microsimulation_under_duration_dependence():
    """A semi-Markov model (moving out of a depends on months in a): the exact chain on
    (state, duration) and simulated paths agree within Monte Carlo error."""
    rng = np.random.default_rng(1)
    n = 20000
    state = rng.choice(["a", "b"], size=n)
    dur = rng.integers(0, 24, size=n).astype(float)
    logit = np.where(state == "a", -1.0 - 0.6 * np.log1p(dur), -1.5)
    move = rng.random(n) < 1 / (1 + np.exp(-logit))
    nxt = np.where(move, np.where(state == "a", "b", "a"), state)
    d = pd.DataFrame({"state": state, "next_state": nxt, "duration_months": dur})
    d["log_dur"] = np.log1p(d["duration_months"])

    def log_dur(f: pd.DataFrame) -> pd.DataFrame:
        f["log_dur"] = np.log1p(f["duration_months"])
        return f

    clock = Clock(seniority=None, month=None, month_index=None, age=None, birth_year=None,
                  features=log_dur)  # fmt: skip
    fit = TransitionModel(variance="model").fit(d, "state", "next_state", ["log_dur"])
    start = pd.DataFrame({"state": ["a"], "duration_months": [3.0], "log_dur": [np.log(4.0)]})
    exact = predict_occupation(fit, start, 18, clock=clock).estimate
    paths = simulate_paths(fit, start, 18, n_rep=20000, seed=2, clock=clock)
    sim = np.stack([(paths == i).mean(axis=0) for i in range(2)], axis=1)
    np.testing.assert_allclose(sim, exact, atol=0.015)
    assert exact[18, 0] != pytest.approx(exact[1, 0], abs=0.05)  # not trivially flat


def test_parametric_bootstrap_bands_cover_point_estimate():
    fit = TransitionModel(variance="model").fit(
        _markov_data(), "state", "next_state", (), states=["a", "b", "c"]
    )
    pred = predict_occupation(fit, {"state": "a", "duration_months": 0}, 6, clock=NO_CLOCK,
                              n_draws=200, seed=1)  # fmt: skip
    t = pred.tidy()
    assert {"conf_low", "conf_high"} <= set(t.columns)
    inside = (t["conf_low"] <= t["probability"] + 1e-12) & (
        t["probability"] <= t["conf_high"] + 1e-12
    )
    assert inside.all()
    late = t[(t["month"] == 6) & (t["state"] == "c")].iloc[0]
    assert 0 < late["conf_high"] - late["conf_low"] < 0.1


def test_state_durations_by_hand():
    d = pd.DataFrame({
        "person_id": ["p"] * 6 + ["q"] * 3,
        "month_index": [1, 2, 3, 4, 5, 6, 1, 2, 3],
        "state": ["kh", "kh", "job", "job", "kh", "kh", "job", "job", "kh"],
        "seniority_months": [10, 11, np.nan, np.nan, 0, 1, np.nan, np.nan, 0],
    })  # fmt: skip
    dur = state_durations(d)
    # kh: seniority; job entered in month 3 -> 0, 1; q's first job stay left-censored -> NaN
    np.testing.assert_array_equal(dur, [10, 11, 0, 1, 0, 1, np.nan, np.nan, 0])


def test_sojourns_by_hand():
    d = pd.DataFrame({
        "person_id": ["p"] * 5,
        "month_index": [1, 2, 3, 4, 5],
        "state": ["kh", "kh", "job", "job", "kh"],
        "next_state": ["kh", "job", "job", "kh", None],
        "seniority_months": [7, 8, np.nan, np.nan, 0],
    })  # fmt: skip
    s = sojourns(d, time_scale="seniority")
    assert s[["entry", "exit"]].to_numpy().tolist() == [[7, 9], [9, 11], [11, 12]]
    assert s["from_state"].tolist() == ["kh", "job", "kh"]
    assert s["to_state"].tolist()[:2] == ["job", "kh"] and pd.isna(s["to_state"].iloc[2])
    e = sojourns(d, time_scale="entry")
    assert e[["entry", "exit"]].to_numpy().tolist() == [[0, 2], [2, 4], [4, 5]]


def test_half_year_states_by_hand():
    months = list(range(1, 13))
    st = ["kh"] * 3 + ["job"] * 3 + ["job"] * 4 + ["kh"] * 2
    d = pd.DataFrame({"person_id": "p", "month_index": months, "state": st})
    # half-year 1: 3 kh / 3 job tie -> priority (job before kh); half-year 2: job
    pre = half_year_states(d, "predominant", ["job", "kh"], n_half_years=2)
    assert pre["state"].tolist() == ["job", "job"]
    pre2 = half_year_states(d, "predominant", ["kh", "job"], n_half_years=2)
    assert pre2["state"].tolist() == ["kh", "job"]
    end = half_year_states(d, "end", n_half_years=2)
    assert end["state"].tolist() == ["job", "kh"]
    # an incomplete half-year is left out
    assert len(half_year_states(d.iloc[:10], "predominant", n_half_years=2)) == 1


def test_half_year_states_agree_with_a_groupby_reference():
    rng = np.random.default_rng(7)
    n = 200
    d = pd.DataFrame(
        {
            "person_id": np.repeat([f"p{i:03d}" for i in rng.permutation(n)], 24),
            "month_index": np.tile(np.arange(1, 25), n),
            "state": rng.choice(["kh", "job", "edu", "fp"], size=24 * n, p=[0.5, 0.2, 0.2, 0.1]),
        }
    )
    d = d[rng.random(len(d)) > 0.02].sample(frac=1, random_state=1)  # gaps, shuffled rows
    priority = ["fp", "job", "edu", "kh"]
    got = half_year_states(d, "predominant", priority, n_half_years=4)
    # reference: counts per (person, half-year, state); most months, then priority
    r = d.assign(half_year=(d["month_index"] - 1) // 6 + 1)
    full = r.groupby(["person_id", "half_year"]).size()
    full = full[full == 6].index
    c = r.groupby(["person_id", "half_year", "state"]).size().rename("c").reset_index()
    c["rank"] = c["state"].map({s: i for i, s in enumerate(priority)})
    c = c.sort_values(["person_id", "half_year", "c", "rank"], ascending=[True, True, False, True])
    ref = c.drop_duplicates(["person_id", "half_year"]).set_index(["person_id", "half_year"])
    ref = ref.loc[full, "state"]
    assert len(got) == len(ref)
    assert got.set_index(["person_id", "half_year"])["state"].astype(str).equals(ref.astype(str))
    end = half_year_states(d, "end", n_half_years=4).set_index(["person_id", "half_year"])
    last = r[r["month_index"] % 6 == 0].set_index(["person_id", "half_year"])["state"]
    assert end["state"].astype(str).equals(last.loc[end.index].astype(str))
    assert set(end.index) == set(full)


def _seq() -> pd.DataFrame:
    paths = {"p1": "kh kh job job", "p2": "kh kh job job", "p3": "kh kh kh kh", "p4": "kh fp fp fp",
             "p5": "kh kh job"}  # fmt: skip
    rows = [(p, h + 1, s) for p, seq in paths.items() for h, s in enumerate(seq.split())]
    d = pd.DataFrame(rows, columns=["person_id", "half_year", "state"])
    d["g"] = d["person_id"].map({"p1": "x", "p2": "y", "p3": "x", "p4": "y", "p5": "x"})
    return d


def test_state_distribution_sequences_and_flows_by_hand():
    d = _seq()
    dist = state_distribution(d, "g", ["kh", "job", "fp"])
    a = dist[(dist["group"] == "all") & (dist["half_year"] == 3)].set_index("state")
    assert a["n"].tolist() == [4, 4, 4]  # p5 incomplete
    assert a["n_persons"].to_dict() == {"kh": 1, "job": 2, "fp": 1}
    assert a.loc["job", "share"] == 0.5
    top = frequent_sequences(d, "g", top=2)
    al = top[top["group"] == "all"]
    assert al["sequence"].tolist() == ["kh-kh-job-job", "kh-fp-fp-fp", "other"]
    assert al["n_persons"].tolist() == [2, 1, 1]
    x = top[top["group"] == "x"].set_index("sequence")["n_persons"]
    assert x.to_dict() == {"kh-kh-job-job": 1, "kh-fp-fp-fp": 0, "other": 1}
    fl = half_year_flows(d, None, ["kh", "job", "fp"])
    f2 = fl[(fl["from_half_year"] == 2) & (fl["from_state"] == "kh")].set_index("to_state")
    assert f2["n"].iloc[0] == 3
    assert f2["n_persons"].to_dict() == {"kh": 1, "job": 2, "fp": 0}


def test_calibration_table_by_hand():
    obs = pd.DataFrame({"person_id": np.repeat(["p", "q"], 6), "month_index": np.tile(range(1, 7), 2),
                        "state": ["kh"] * 6 + ["job"] * 6})  # fmt: skip
    paths = np.array([[0] * 6, [0] * 6, [0] * 6, [1] * 6])  # 3 of 4 simulated paths on kh
    pred = paths_frame(paths, ["kh", "job"])
    c = calibration_table(obs, pred, ["kh", "job"], n_half_years=1).set_index("state")
    assert c.loc["kh", "observed"] == 0.5 and c.loc["kh", "predicted"] == 0.75
    assert c.loc["job", "difference"] == pytest.approx(-0.25)
    assert c.loc["kh", "n"] == 2 and c.loc["kh", "n_persons"] == 1

"""Hand-computed cases, input validation, step evaluation, disclosure guard and plots."""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from analysis._curves import guard_curve
from analysis.multistate import MultiStateAalenJohansen
from analysis.plots import plot_cumulative_incidence, plot_state_occupation, plot_survival
from analysis.survival import AalenJohansen, KaplanMeier, gray_test


def test_kaplan_meier_by_hand():
    df = pd.DataFrame({"t": [1, 2, 2, 3, 4], "e": [1, 1, 0, 1, 0]})
    t = KaplanMeier().fit(df, "t", "e").tidy()
    np.testing.assert_array_equal(t.time, [1, 2, 3])
    surv = np.array([4 / 5, 4 / 5 * 3 / 4, 4 / 5 * 3 / 4 * 1 / 2])
    np.testing.assert_allclose(t.estimate, surv, atol=1e-15)
    greenwood = np.cumsum([1 / (5 * 4), 1 / (4 * 3), 1 / (2 * 1)])
    np.testing.assert_allclose(t.std_error, surv * np.sqrt(greenwood), atol=1e-15)
    np.testing.assert_allclose(t.conf_low, surv * np.exp(-1.959963984540054 * np.sqrt(greenwood)))
    np.testing.assert_array_equal(t.n_risk, [5, 4, 2])
    np.testing.assert_array_equal(t.n_event, [1, 1, 1])


def test_kaplan_meier_delayed_entry_by_hand():
    # row 3 enters at 2: not at risk at t=1; a row entering at t is not at risk at t
    df = pd.DataFrame({"a": [0, 0, 2, 0, 3], "t": [1, 3, 4, 5, 6], "e": [1, 1, 1, 0, 1]})
    t = KaplanMeier().fit(df, "t", "e", entry="a").tidy()
    np.testing.assert_array_equal(t.time, [1, 3, 4, 6])
    np.testing.assert_array_equal(t.n_risk, [3, 3, 3, 1])
    np.testing.assert_allclose(t.estimate, [2 / 3, 4 / 9, 8 / 27, 0.0], atol=1e-15)


def test_integer_weights_equal_duplicated_rows():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {"t": rng.integers(1, 10, 60), "e": rng.integers(0, 3, 60), "w": rng.integers(1, 4, 60)}
    )
    dup = df.loc[df.index.repeat(df.w)]
    km_w = KaplanMeier().fit(df.assign(any=df.e > 0), "t", "any", weights="w").tidy()
    km_d = KaplanMeier().fit(dup.assign(any=dup.e > 0), "t", "any").tidy()
    np.testing.assert_allclose(km_w.estimate, km_d.estimate, atol=1e-14)
    np.testing.assert_allclose(km_w.std_error, km_d.std_error, atol=1e-14)  # Greenwood
    aj_w = AalenJohansen().fit(df, "t", "e", weights="w").tidy()
    aj_d = AalenJohansen().fit(dup, "t", "e").tidy()
    # estimates agree; SEs do not: weights are sampling weights (sum w^2 U^2), as in R
    np.testing.assert_allclose(aj_w.estimate, aj_d.estimate, atol=1e-14)


def test_aalen_johansen_survival_equals_kaplan_meier():
    rng = np.random.default_rng(3)
    n = 300
    a = rng.integers(0, 5, n)
    df = pd.DataFrame({"a": a, "t": a + rng.integers(1, 30, n), "e": rng.integers(0, 4, n),
                       "w": rng.uniform(0.5, 2, n)})  # fmt: skip
    aj = AalenJohansen().fit(df, "t", "e", entry="a", weights="w").curves[None]
    km = KaplanMeier().fit(df.assign(any=df.e > 0), "t", "any", entry="a", weights="w")
    np.testing.assert_allclose(aj.survival, km.curves[None].estimate, atol=1e-13)
    np.testing.assert_allclose(aj.estimate.sum(axis=1) + aj.survival, 1.0, atol=1e-13)


def test_evaluate_is_right_continuous():
    df = pd.DataFrame({"t": [1, 2, 2, 3, 4], "e": [1, 1, 0, 1, 0]})
    ev = KaplanMeier().fit(df, "t", "e").evaluate([0, 0.999, 1, 1.5, 2, 10])
    np.testing.assert_allclose(ev.estimate, [1, 1, 0.8, 0.8, 0.6, 0.3])
    cif = AalenJohansen().fit(df, "t", "e").evaluate([0.5, 1, 3.5])
    np.testing.assert_allclose(cif.estimate, [0, 0.2, 1 - 0.3])
    assert np.isnan(cif.conf_low.iloc[0])  # log CI undefined at F = 0 (R gives NA)


def test_results_are_immutable_and_tidy_is_fresh():
    df = pd.DataFrame({"t": [1, 2, 2, 3, 4], "e": [1, 1, 0, 1, 0]})
    res = KaplanMeier().fit(df, "t", "e")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.conf_level = 0.9  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.curves[None].estimate[0] = 0.5
    t1 = res.tidy()
    t1.loc[0, "estimate"] = -1
    assert res.tidy().loc[0, "estimate"] == pytest.approx(0.8)
    assert "median = 3" in res.summary()


def test_input_errors():
    df = pd.DataFrame({"a": [0, 2], "t": [1, 2], "e": [1, 0], "w": [1.0, 0.0]})
    with pytest.raises(KeyError, match="nope"):
        KaplanMeier().fit(df, "t", "nope")
    with pytest.raises(ValueError, match="entry must be below"):
        KaplanMeier().fit(df, "t", "e", entry="a")
    with pytest.raises(ValueError, match="> 0"):
        AalenJohansen().fit(df, "t", "e", weights="w")
    with pytest.raises(ValueError, match="missing"):  # default missing="drop" drops the row
        KaplanMeier(missing="raise").fit(df.assign(t=[1, np.nan]), "t", "e")
    with pytest.raises(ValueError, match="integer codes"):
        AalenJohansen().fit(df.assign(e=[1.5, 0]), "t", "e")
    with pytest.raises(ValueError, match="no events"):
        AalenJohansen().fit(df.assign(e=0), "t", "e")
    with pytest.raises(ValueError, match="conf_type"):
        KaplanMeier(conf_type="logit").fit(df, "t", "e")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="two groups"):
        gray_test(df.assign(g="x"), "t", "e", "g")
    with pytest.raises(ValueError, match="clashes"):
        KaplanMeier().fit(df.assign(time=1), "t", "e", group="time")


def test_aalen_johansen_id_refuses_rows_after_event():
    df = pd.DataFrame({"id": [1, 1], "a": [0, 2], "t": [2, 4], "e": [1, 0]})
    with pytest.raises(ValueError, match="after an event"):
        AalenJohansen().fit(df, "t", "e", entry="a", id="id")


def test_guard_curve_by_hand():
    time = np.array([1.0, 2, 3, 4, 5])
    rows = guard_curve(time, np.array([50, 40, 30, 4, 3]), np.array([2, 3, 1, 4, 1]), 5, 5)
    # 2+3 events complete a step at t=2; 1+4 complete one at t=4 but t=4 had only 4 at risk, so it
    # is dropped; the 1 event left at t=5 is not drawn
    np.testing.assert_array_equal(rows, [1])
    rows = guard_curve(time, np.full(5, 100), np.array([2, 3, 6, 1, 4]), 5, 5)
    np.testing.assert_array_equal(rows, [1, 2, 4])  # 2+3 -> t=2; 6 -> t=3; 1+4 -> t=5
    rows = guard_curve(time, np.array([3, 9, 9, 9, 9]), np.array([5, 0, 5, 0, 5]), 5, None)
    np.testing.assert_array_equal(rows, [2, 4])  # delayed entry: small risk set early on
    rows = guard_curve(time, np.array([3, 9, 9, 9, 9]), None, 5)
    np.testing.assert_array_equal(rows, [1, 2, 3, 4])


def test_guard_curve_agrees_with_disclosure_module():
    """Same rule as analysis.disclosure.guard_curve (another helper's implementation)."""
    from analysis.disclosure import guard_curve as disclosure_guard

    rng = np.random.default_rng(0)
    for _ in range(20):
        k = 150
        curve = pd.DataFrame(
            {
                "time": np.arange(1.0, k + 1),
                "estimate": np.linspace(1, 0, k),
                "n_risk": np.concatenate([rng.integers(1, 12, 10), rng.integers(0, 60, k - 10)]),
                "n_event": rng.integers(1, 4, k),  # every row an event (a tidy KM table)
            }
        )
        ref = disclosure_guard(curve, threshold=5)
        rows = guard_curve(curve.time, curve.n_risk, curve.n_event, 5, 5)
        np.testing.assert_array_equal(curve.time.to_numpy()[rows], ref.time.to_numpy())


def test_guard_curve_merging_rule_counts():
    rng = np.random.default_rng(0)
    ev = rng.integers(0, 4, 200)
    rows = guard_curve(np.arange(200.0), np.full(200, 1000), ev, None, 7)
    groups = np.split(ev, rows + 1)[:-1]
    assert all(g.sum() >= 7 for g in groups)  # each drawn step aggregates >= 7 events
    assert ev[rows[-1] + 1 :].sum() < 7  # only a remainder below the threshold is left out


def test_plots_draw_only_guarded_steps():
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({"t": rng.integers(1, 60, n), "e": rng.integers(0, 3, n),
                       "g": rng.choice(["a", "b"], n)})  # fmt: skip
    km = KaplanMeier().fit(df.assign(any=df.e > 0), "t", "any", group="g")
    ax = plot_survival(km, min_at_risk=20, min_events=10)
    for line, (_, c) in zip(ax.get_lines(), km.curves.items(), strict=True):
        x = line.get_xdata()[1:]  # first point is the start (time 0, S = 1)
        i = np.searchsorted(c.time, x)
        assert (c.n_risk[i] >= 20).all()  # drawn only where >= 20 at risk
        before = np.concatenate([[0], np.cumsum(c.n_event)])
        assert (np.diff(before[np.concatenate([[0], i + 1])]) >= 10).all()  # >= 10 events a step
    plt.close("all")
    aj = AalenJohansen().fit(df, "t", "e", group="g")
    ax = plot_cumulative_incidence(aj, min_at_risk=10, min_events=5, cause_labels={1: "job"})
    assert len(ax.get_lines()) == 4
    plt.close("all")
    ms = pd.DataFrame({"id": [1, 1, 2, 3], "a": [0, 2, 0, 0], "b": [2, 5, 4, 6],
                       "f": ["kh", "job", "kh", "kh"], "to": ["job", None, "job", None]})  # fmt: skip
    res = MultiStateAalenJohansen().fit(ms, id="id", entry="a", exit="b", from_state="f",
                                        to_state="to")  # fmt: skip
    plot_state_occupation(res)
    plot_state_occupation(res, kind="stacked")
    plt.close("all")
    # 3 persons, 2 transitions (kh -> job twice), nothing missing
    assert res.glance().iloc[0][["nobs", "n_event", "n_missing"]].tolist() == [3, 2, 0]


def test_curve_glance_counts_rows_events_and_missing():
    # by hand: group a has 3 rows / 2 events, group b 2 rows / 1 event, one row with a missing time
    df = pd.DataFrame(
        {
            "t": [1.0, 2.0, 3.0, 1.0, 2.0, np.nan],
            "e": [1, 1, 0, 0, 2, 1],
            "g": ["a", "a", "a", "b", "b", "b"],
        }
    )
    for res, variance in (
        (KaplanMeier(variance="greenwood").fit(df, "t", "e", group="g"), "greenwood"),
        (AalenJohansen().fit(df, "t", "e", group="g"), "ij"),
    ):
        g = res.glance().set_index("g")
        assert g.loc["a", "nobs"] == 3 and g.loc["b", "nobs"] == 2
        assert g.loc["a", "n_event"] == 2 and g.loc["b", "n_event"] == 1
        assert (g["n_missing"] == 1).all() and (g["variance"] == variance).all()
    with pytest.raises(ValueError, match="variance"):
        AalenJohansen(variance="greenwood")
    with pytest.raises(ValueError, match="variance"):
        MultiStateAalenJohansen(variance="greenwood")

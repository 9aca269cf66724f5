"""Multinomial logit and transition model: statsmodels' MNLogit and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.transitions import MultinomialLogit, NoStayersError, TransitionModel, lr_test
from analysis.transitions.checks import compare_models


def _mn_data(n=2000, seed=3):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n).astype(float)
    eta = np.column_stack(
        [np.zeros(n), -1 + 0.5 * x1 - 0.3 * x2, -1.5 - 0.2 * x1 + 0.6 * x2, -2 + 0.8 * x1]
    )
    p = np.exp(eta)
    p /= p.sum(1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(p, 1)[:, :-1]).sum(1)
    return pd.DataFrame({"pid": np.repeat(np.arange(n // 4), 4), "y": y, "x1": x1, "x2": x2})


@pytest.fixture(scope="module")
def mn():
    return _mn_data()


@pytest.fixture(scope="module")
def statsmodels_fit(mn):
    exog = sm.add_constant(mn[["x1", "x2"]])
    return sm.MNLogit(mn["y"], exog).fit(
        method="newton", disp=False, tol=1e-12, cov_type="cluster", cov_kwds={"groups": mn["pid"]}
    )


def test_coefficients_and_loglik_match_statsmodels(mn, statsmodels_fit):
    fit = MultinomialLogit(tol=1e-12).fit(mn, "y", ["x1", "x2"], outcomes=[0, 1, 2, 3])
    np.testing.assert_allclose(fit.coef, statsmodels_fit.params.to_numpy(), atol=1e-7)
    assert fit.loglik == pytest.approx(statsmodels_fit.llf, abs=1e-8)
    assert fit.n_parameters == 9


def test_cluster_robust_covariance_matches_statsmodels(mn, statsmodels_fit):
    fit = MultinomialLogit(tol=1e-12).fit(
        mn, "y", ["x1", "x2"], outcomes=[0, 1, 2, 3], cluster="pid"
    )
    assert fit.variance == "robust" and fit.n_clusters == 500
    np.testing.assert_allclose(fit.cov, statsmodels_fit.cov_params().to_numpy(), rtol=1e-6)
    # tidy: standard columns, destination-major
    t = fit.tidy()
    assert list(t.columns[:3]) == ["destination", "term", "estimate"]
    np.testing.assert_allclose(t["std_error"], statsmodels_fit.bse.to_numpy().T.ravel(), rtol=1e-6)


def test_model_covariance_matches_statsmodels(mn):
    exog = sm.add_constant(mn[["x1", "x2"]])
    ref = sm.MNLogit(mn["y"], exog).fit(method="newton", disp=False, tol=1e-12)
    fit = MultinomialLogit(variance="model", tol=1e-12).fit(mn, "y", ["x1", "x2"])
    np.testing.assert_allclose(fit.cov, ref.cov_params().to_numpy(), rtol=1e-6)


def test_intercept_only_is_log_odds_of_counts():
    y = ["stay"] * 60 + ["a"] * 30 + ["b"] * 10
    d = pd.DataFrame({"y": y})
    fit = MultinomialLogit(variance="model").fit(d, "y", (), outcomes=["stay", "a", "b"])
    np.testing.assert_allclose(fit.coef[0], [np.log(30 / 60), np.log(10 / 60)], atol=1e-9)
    # var of log(n_a/n_0) = 1/n_a + 1/n_0
    np.testing.assert_allclose(fit.std_error[0, 0], np.sqrt(1 / 30 + 1 / 60), rtol=1e-8)


def test_integer_weights_equal_replicated_rows(mn):
    sub = mn.iloc[:400].copy()
    sub["w"] = np.tile([1.0, 2.0, 3.0, 1.0], 100)
    rep = sub.loc[sub.index.repeat(sub["w"].astype(int))]
    a = MultinomialLogit(variance="model").fit(sub, "y", ["x1"], weights="w")
    b = MultinomialLogit(variance="model").fit(rep, "y", ["x1"])
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-8)
    assert a.loglik == pytest.approx(b.loglik)


def test_free_constraint_fixes_coefficients_at_zero(mn):
    fit = MultinomialLogit(variance="model").fit(
        mn, "y", ["x1", "x2"], outcomes=[0, 1, 2, 3], free={3: ["intercept", "x1"]}
    )
    assert fit.coef[2, 2] == 0.0 and not fit.free[2, 2]
    assert fit.n_parameters == 8
    # the constrained model is nested: LR statistic for x2 -> 3 (true value 0) is small
    full = MultinomialLogit(variance="model").fit(mn, "y", ["x1", "x2"], outcomes=[0, 1, 2, 3])
    assert 0 <= 2 * (full.loglik - fit.loglik) < 6.6


def test_collinear_column_is_aliased(mn):
    d = mn.assign(x3=2 * mn["x1"])
    fit = MultinomialLogit(variance="model").fit(d, "y", ["x1", "x3", "x2"])
    assert fit.aliased == ("x3",)
    assert fit.terms == ("intercept", "x1", "x2")


# --- transition model: one logit per origin -----------------------------------------------


def _moves() -> pd.DataFrame:
    """Hand-made person-months: from a 6 stay, 3 -> b, 1 -> c; from b 2 stay, 2 -> a; c absorbing."""
    rows = [("a", "a")] * 6 + [("a", "b")] * 3 + [("a", "c")] + [("b", "b")] * 2 + [("b", "a")] * 2
    rows += [("c", "c")] * 3
    d = pd.DataFrame(rows, columns=["state", "next_state"])
    d["pid"] = np.arange(len(d))
    return d


def test_intercept_only_transition_matrix_is_empirical():
    fit = TransitionModel(variance="model").fit(
        _moves(), "state", "next_state", (), states=["a", "b", "c"]
    )
    assert fit.absorbing == ("c",)
    m = fit.transition_matrix({})
    expected = np.array([[0.6, 0.3, 0.1], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(m.to_numpy(), expected, atol=1e-9)
    assert list(m.index) == ["a", "b", "c"]
    # log L by hand: sum n_ij log p_ij
    ll = 6 * np.log(0.6) + 3 * np.log(0.3) + np.log(0.1) + 4 * np.log(0.5)
    assert fit.loglik == pytest.approx(ll, abs=1e-9)
    tidy = fit.tidy()
    assert set(tidy["origin"]) == {"a", "b"} and len(tidy) == 3


def test_an_origin_nobody_stays_in_is_a_named_error():
    """Staying is the reference outcome; an origin left in every period cannot be fitted. The
    error is its own type (the pipeline skips only this case, never other errors)."""
    d = pd.DataFrame(
        {"state": ["a"] * 4 + ["b"] * 3, "next_state": ["a", "a", "b", "c", "a", "c", "a"]}
    )
    with pytest.raises(NoStayersError, match="origin state 'b': all 3 periods move"):
        TransitionModel(variance="model").fit(d, "state", "next_state", states=["a", "b", "c"])


def test_rare_destinations_get_intercept_only():
    d = _mn_data(800).assign(state="s")
    d["next_state"] = np.array(["s", "a", "b", "c"])[d["y"]]
    d.loc[d.index[:3], "next_state"] = "r"  # three moves to r
    fit = TransitionModel(rare_threshold=5).fit(
        d, "state", "next_state", ["x1"], cluster="pid", states=["s", "a", "b", "c", "r"]
    )
    assert fit.rare["s"] == ("r",)
    t = fit.tidy()
    assert t[t["destination"] == "r"]["term"].tolist() == ["intercept"]


def test_lr_test_and_markov_comparison():
    d = _mn_data(1200).assign(state="s")
    d["next_state"] = np.array(["s", "a", "b", "c"])[d["y"]]
    est = TransitionModel(variance="model")
    m0 = est.fit(d, "state", "next_state", ())
    m1 = est.fit(d, "state", "next_state", ["x1"])
    lr = lr_test(m0, m1)
    assert lr["df"] == 3
    assert lr["lr_statistic"] == pytest.approx(2 * (m1.loglik - m0.loglik))
    assert lr["p_value"] < 1e-6  # x1 has real effects
    tab = compare_models({"markov": m0, "x1": m1})
    assert list(tab["model"]) == ["markov", "x1"]
    assert tab.loc[1, "aic"] == pytest.approx(-2 * m1.loglik + 2 * m1.n_parameters)
    assert tab.loc[1, "bic"] == pytest.approx(-2 * m1.loglik + np.log(1200) * m1.n_parameters)
    assert tab.loc[1, "lr_statistic"] == pytest.approx(lr["lr_statistic"])


def test_start_from_nested_fit_gives_the_same_estimate_in_fewer_iterations(mn, statsmodels_fit):
    est = MultinomialLogit(tol=1e-12)
    nested = est.fit(mn, "y", ["x1"], outcomes=[0, 1, 2, 3])
    cold = est.fit(mn, "y", ["x1", "x2"], outcomes=[0, 1, 2, 3])
    warm = est.fit(mn, "y", ["x1", "x2"], outcomes=[0, 1, 2, 3], start=nested)
    np.testing.assert_allclose(warm.coef, statsmodels_fit.params.to_numpy(), atol=1e-7)
    np.testing.assert_allclose(warm.cov, cold.cov, rtol=1e-8)
    assert warm.converged and warm.iterations < cold.iterations
    # transition model: the start is taken per origin, by term and destination
    d = mn.assign(state="s", next_state=np.array(["s", "a", "b", "c"])[mn["y"]])
    tm = TransitionModel(tol=1e-12, variance="model")
    m1 = tm.fit(d, "state", "next_state", ["x1"])
    m2 = tm.fit(d, "state", "next_state", ["x1", "x2"], start=m1)
    np.testing.assert_allclose(m2.models["s"].coef, statsmodels_fit.params.to_numpy(), atol=1e-7)

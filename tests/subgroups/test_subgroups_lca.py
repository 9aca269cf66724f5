"""Latent class model: recovery of known parameters, agreement with StepMix, likelihood by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lcakit import PROBS, WEIGHTS, levels, simulate

from analysis.subgroups import (
    Indicator,
    LatentClassModel,
    match_classes,
    parameters_result,
    select_n_classes,
)


@pytest.fixture(scope="module")
def big() -> tuple[pd.DataFrame, np.ndarray]:
    return simulate(5000, seed=11)


@pytest.fixture(scope="module")
def big_fit(big):
    df, _ = big
    return LatentClassModel(3, n_starts=10, seed=1).fit(df, list(df.columns))


def test_recovers_class_conditional_probabilities(big, big_fit):
    df, truth = big
    fit = big_fit
    mapping = match_classes(truth, fit.classes, 3)  # fitted class j -> true class mapping[j-1]
    n = len(df)
    w_true = WEIGHTS[mapping - 1]
    # class sizes: binomial-scale error inflated for classification uncertainty
    se_w = np.sqrt(w_true * (1 - w_true) / n) / fit.relative_entropy
    assert np.all(np.abs(fit.weights - w_true) < 4 * se_w + 0.005)
    pr = fit.probabilities()
    worst = 0.0
    for name, p in PROBS.items():
        for j in range(3):
            true_row = p[mapping[j] - 1]
            est = pr[(pr["indicator"] == name) & (pr["class"] == j + 1)].set_index("level")
            est = est["probability"].reindex(list(levels(name))).to_numpy()
            se = np.sqrt(true_row * (1 - true_row) / (n * w_true[j])) / fit.relative_entropy
            worst = max(worst, float(np.max(np.abs(est - true_row) / se)))
    assert worst < 4.5, f"largest standardised error {worst:.2f}"


def test_reaches_the_stepmix_maximum():
    """StepMix (an independent EM implementation) and ours reach the same maximum likelihood."""
    stepmix = pytest.importorskip("stepmix")
    df, _ = simulate(1500, seed=3)
    codes = np.column_stack([df[c].map({"a": 0, "b": 1, "c": 2}).to_numpy() for c in df])
    sm = stepmix.StepMix(
        n_components=3,
        measurement="categorical",
        n_init=5,
        random_state=0,
        progress_bar=0,
        abs_tol=1e-9,
        max_iter=5000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm.fit(codes)
    ll_stepmix = sm.score(codes) * len(codes)
    ours = LatentClassModel(3, n_starts=10, seed=0).fit(df, list(df.columns))
    assert ours.log_likelihood >= ll_stepmix - 1e-3
    assert abs(ours.log_likelihood - ll_stepmix) < 0.01
    assert ours.n_parameters == sm.n_parameters
    np.testing.assert_allclose(np.sort(ours.weights), np.sort(sm.weights_), atol=2e-3)


def test_bic_chooses_the_true_number_of_classes(big):
    df, _ = big
    sel = select_n_classes(
        df, list(df.columns), range(1, 6), model=lambda k: LatentClassModel(k, n_starts=6, seed=2)
    )
    assert sel.n_classes == 3
    t = sel.table.set_index("classes")
    assert t.loc[3, "bic"] < t.loc[2, "bic"] and t.loc[3, "bic"] < t.loc[4, "bic"]
    # BIC by its formula
    fit = sel.fits[3]
    assert fit.bic == pytest.approx(-2 * fit.log_likelihood + fit.n_parameters * np.log(len(df)))
    # K-1 sizes + per class (levels - 1) per indicator: 2 + 3 * (1 + 2 + 1 + 2 + 1)
    assert fit.n_parameters == 2 + 3 * 7


def test_same_seed_same_result_and_seed_matters_little(big):
    df, _ = big
    a = LatentClassModel(3, n_starts=4, seed=5).fit(df, list(df.columns))
    b = LatentClassModel(3, n_starts=4, seed=5).fit(df, list(df.columns))
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.posterior, b.posterior)
    c = LatentClassModel(3, n_starts=4, seed=6).fit(df, list(df.columns))
    assert c.log_likelihood == pytest.approx(a.log_likelihood, abs=1e-3)


def test_likelihood_and_posterior_by_hand_with_missing_values():
    spec = [
        Indicator("x1", "categorical", ("a", "b")),
        Indicator("x2", "categorical", ("a", "b")),
    ]
    model = parameters_result(
        spec,
        [0.6, 0.4],
        {"x1": np.array([[0.9, 0.1], [0.3, 0.7]]), "x2": np.array([[0.2, 0.8], [0.5, 0.5]])},
    )
    df = pd.DataFrame({"x1": ["a", None, None, "z"], "x2": ["b", "a", None, "a"]})
    # person 1: 0.6*0.9*0.8 + 0.4*0.3*0.5 = 0.492; person 2 (x1 missing): 0.6*0.2 + 0.4*0.5 = 0.32
    # person 3: nothing observed -> 1; person 4: unseen level "z" counts as missing -> 0.32
    expected = np.log(0.492) + np.log(0.32) + 0.0 + np.log(0.32)
    assert model.log_likelihood_of(df) == pytest.approx(expected, rel=1e-12)
    post = model.predict_proba(df)
    assert post[0, 0] == pytest.approx(0.432 / 0.492)
    assert post[1, 0] == pytest.approx(0.12 / 0.32)
    np.testing.assert_allclose(post[2], [0.6, 0.4])


def test_frequency_weights_equal_duplicated_rows():
    df, _ = simulate(600, seed=8)
    w = LatentClassModel(3, n_starts=5, seed=0).fit(df, list(df.columns), weights=np.full(600, 2.0))
    d = LatentClassModel(3, n_starts=5, seed=0).fit(
        pd.concat([df, df], ignore_index=True), list(df.columns)
    )
    assert w.log_likelihood == pytest.approx(d.log_likelihood, abs=1e-4)
    np.testing.assert_allclose(w.weights, d.weights, atol=1e-4)
    assert w.n_obs == d.n_obs == 1200


def test_missing_at_random_values_do_not_bias(big):
    df, truth = simulate(5000, seed=11, missing=0.2)
    fit = LatentClassModel(3, n_starts=8, seed=1).fit(df, list(df.columns))
    mapping = match_classes(truth, fit.classes, 3)
    np.testing.assert_allclose(fit.weights, WEIGHTS[mapping - 1], atol=0.04)


def test_continuous_indicator_means_are_recovered():
    rng = np.random.default_rng(4)
    n = 3000
    cls = rng.choice(2, size=n, p=[0.6, 0.4])
    x = np.where(cls == 0, rng.normal(20, 3, n), rng.normal(35, 5, n))
    b = np.where(rng.random(n) < np.where(cls == 0, 0.2, 0.8), "y", "n")
    df = pd.DataFrame({"age": x, "flag": b})
    fit = LatentClassModel(2, n_starts=5, seed=0).fit(
        df, {"age": "continuous", "flag": "categorical"}
    )
    cp = fit.continuous_parameters().set_index("class")
    # class 1 is the larger one (0.6)
    assert cp.loc[1, "mean"] == pytest.approx(20, abs=4 * 3 / np.sqrt(0.6 * n) + 0.1)
    assert cp.loc[2, "mean"] == pytest.approx(35, abs=4 * 5 / np.sqrt(0.4 * n) + 0.1)
    assert cp.loc[1, "sd"] == pytest.approx(3, rel=0.1)
    assert cp.loc[2, "sd"] == pytest.approx(5, rel=0.1)
    assert fit.n_parameters == 1 + 2 * 1 + 2 * 2


def test_result_is_frozen_and_tidy(big_fit):
    with pytest.raises(ValueError):
        big_fit.theta[0, 0] = 0.5
    t = big_fit.tidy()
    assert set(t["parameter"]) == {"weight", "probability"}
    sums = t[t["parameter"] == "probability"].groupby(["class", "indicator"])["estimate"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    ap = big_fit.average_posterior()
    assert ap["share_modal"].sum() == pytest.approx(1.0)
    assert 0 < big_fit.relative_entropy < 1
    assert big_fit.icl == pytest.approx(big_fit.bic + 2 * big_fit.entropy)
    assert "3 classes" in big_fit.summary()

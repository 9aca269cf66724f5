"""Oracle classifier, ARI recovery table, generator entry-age distribution, class matching."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lcakit import PROBS, WEIGHTS, simulate
from sklearn.metrics import adjusted_rand_score

from analysis.subgroups import (
    Indicator,
    LatentClassModel,
    bootstrap_stability,
    infer_indicators,
    match_classes,
    parameters_result,
    recovery,
    restrict,
    select_n_classes,
    synthetic_oracle,
)
from analysis.subgroups.recovery import band_probabilities, rounded_reflected_normal


def _tiny_oracle():
    spec = [Indicator("x", "categorical", ("0", "1"))]
    return parameters_result(spec, [0.5, 0.5], {"x": np.array([[0.1, 0.9], [0.8, 0.2]])})


def test_oracle_ari_by_hand():
    oracle = _tiny_oracle()
    # P(class 1 | x=1) = 0.5*0.9 / (0.5*0.9 + 0.5*0.2) = 0.818..., P(class 1 | x=0) = 0.1/0.9
    df = pd.DataFrame({"x": ["1", "1", "1", "0", "0", "1"]})
    post = oracle.predict_proba(df)
    assert post[0, 0] == pytest.approx(0.45 / 0.55)
    assert post[3, 0] == pytest.approx(0.05 / 0.45)
    pred = oracle.predict(df)
    np.testing.assert_array_equal(pred, [1, 1, 1, 2, 2, 1])
    truth = np.array(["a", "a", "a", "b", "b", "b"])
    # cross-table [[3, 0], [1, 2]]: sum C(n_ij, 2) = 3 + 1 = 4; rows 3+3 = 6; cols C(4,2)+C(2,2) = 7
    # expected 6*7/C(6,2) = 2.8; max (6+7)/2 = 6.5; ARI = (4-2.8)/(6.5-2.8) = 1.2/3.7
    measures, groups = recovery(truth, pred, pred, recovered_sizes=np.array([0.6, 0.4]))
    m = measures.set_index("measure")["value"]
    assert m["ari_oracle"] == pytest.approx(1.2 / 3.7)
    assert m["ari_recovered"] == pytest.approx(1.2 / 3.7)
    assert m["ratio"] == pytest.approx(1.0)
    g = groups.set_index("subgroup")
    assert g.loc["a", "class"] == 1 and g.loc["b", "class"] == 2
    assert g.loc["b", "class_size"] == pytest.approx(0.4)
    assert g.loc["a", "share_of_subgroup_in_class"] == pytest.approx(1.0)
    assert g.loc["b", "share_of_subgroup_in_class"] == pytest.approx(2 / 3)


def test_recovery_with_fewer_classes_than_truth():
    truth = np.array(list("aabbcc"))
    rec = np.array([1, 1, 2, 2, 2, 2])
    measures, groups = recovery(truth, rec, rec)
    g = groups.set_index("subgroup")
    assert g["class"].isna().sum() == 1  # one true group has no class of its own
    assert measures.set_index("measure").loc["classes_recovered", "value"] == 2


def test_oracle_is_the_bayes_rule_and_the_fit_comes_close():
    df, truth = simulate(4000, seed=21)
    spec = infer_indicators(df, list(df.columns))
    oracle = parameters_result(spec, WEIGHTS, {s.name: PROBS[s.name] for s in spec})
    # independent Bayes rule with numpy
    logp = np.log(WEIGHTS)[None, :].repeat(len(df), 0)
    for name, p in PROBS.items():
        code = df[name].map({"a": 0, "b": 1, "c": 2}).to_numpy()
        logp += np.log(p[:, code].T)
    np.testing.assert_array_equal(oracle.predict(df), logp.argmax(axis=1) + 1)
    fit = LatentClassModel(3, n_starts=8, seed=0).fit(df, spec)
    a_oracle = adjusted_rand_score(truth, oracle.predict(df))
    a_fit = adjusted_rand_score(truth, fit.classes)
    assert a_fit >= 0.9 * a_oracle


def test_restrict_keeps_the_named_indicators():
    df, _ = simulate(50, seed=1)
    spec = infer_indicators(df, list(df.columns))
    oracle = parameters_result(spec, WEIGHTS, {s.name: PROBS[s.name] for s in spec})
    sub = restrict(oracle, ["x2", "x4"])
    assert [s.name for s in sub.indicators] == ["x2", "x4"]
    np.testing.assert_allclose(sub.theta, np.hstack([PROBS["x2"], PROBS["x4"]]))


def test_reflected_rounded_normal_matches_the_generators_draws():
    """Monte Carlo of the generator's own recipe (reflect once at the bounds, round, clip)."""
    rng = np.random.default_rng(0)
    lo, hi = 18, 60
    for mean, sd in ((21.0, 2.5), (38.0, 7.0), (58.0, 6.0)):
        x = mean + sd * rng.standard_normal(400_000)
        x = np.where(x < lo, 2 * lo - x, x)
        x = np.where(x > hi, 2 * hi - x, x)
        a = np.clip(np.rint(x), lo, hi).astype(int)
        emp = np.bincount(a - lo, minlength=hi - lo + 1) / a.size
        ages, p = rounded_reflected_normal(mean, sd, lo, hi)
        assert ages[0] == lo and ages[-1] == hi
        se = np.sqrt(p * (1 - p) / a.size)
        assert np.all(np.abs(emp - p) < 5 * se + 1e-5)
    bands = band_probabilities([21.0, 38.0], [2.5, 7.0], lo, hi)
    np.testing.assert_allclose(bands.sum(axis=1), 1.0)


def test_synthetic_oracle_assembles_the_generator_parameters():
    names = ["g1", "g2"]
    sp = {
        "female": [0.9, 0.1],
        "origin": {"g1": [0.1, 0.1, 0.8], "g2": [0.9, 0.05, 0.05]},
        "menapt_given_non_western": [0.75, 0.5],
        "education": {"g1": [0.5, 0.1, 0.1, 0.1, 0.2], "g2": [0.2, 0.2, 0.4, 0.1, 0.1]},
        "psychiatric_diagnosis": [0.3, 0.6],
        "substance_abuse_treatment": [0.05, 0.8],
        "has_children": [0.8, 0.4],
        "children_placed_given_children": [0.25, 0.5],
        "entry_age_mean": [30.0, 40.0],
        "entry_age_sd": [5.0, 6.0],
        "entry_age_range": [18, 60],
    }
    oracle, order = synthetic_oracle(sp, {"g1": 0.3, "g2": 0.7})
    assert order == tuple(names)
    np.testing.assert_allclose(oracle.weights, [0.3, 0.7])
    pr = oracle.probabilities().set_index(["indicator", "level", "class"])["probability"]
    assert pr[("origin", "non_western_menapt", 1)] == pytest.approx(0.8 * 0.75)
    assert pr[("origin", "non_western_other", 1)] == pytest.approx(0.8 * 0.25)
    assert pr[("children", "placed", 2)] == pytest.approx(0.4 * 0.5)
    assert pr[("children", "none", 2)] == pytest.approx(0.6)
    assert pr[("sex", "F", 1)] == pytest.approx(0.9)
    assert pr[("substance_abuse_treatment", "yes", 2)] == pytest.approx(0.8)
    # debut_age 'before_window' is not a level of the oracle: it counts as missing
    df = pd.DataFrame(
        {
            "sex": ["F"],
            "origin": ["non_western_menapt"],
            "education": ["basic"],
            "psychiatric_diagnosis": ["no"],
            "substance_abuse_treatment": ["no"],
            "children": ["placed"],
            "debut_age": ["before_window"],
        }
    )
    no_debut = restrict(oracle, [c for c in df.columns if c != "debut_age"])
    np.testing.assert_allclose(oracle.predict_proba(df), no_debut.predict_proba(df))


def test_match_classes_by_hand():
    ref = np.array([1, 1, 2, 2, 3])
    other = np.array([2, 2, 3, 3, 1])
    np.testing.assert_array_equal(match_classes(ref, other, 3), [3, 1, 2])


def test_bootstrap_stability_of_a_clear_solution():
    probs = {k: np.clip(v, 0.03, 0.97) for k, v in PROBS.items()}
    probs["x3"] = np.array([[0.97, 0.03], [0.95, 0.05], [0.03, 0.97]])
    probs["x1"] = np.array([[0.97, 0.03], [0.03, 0.97], [0.5, 0.5]])
    df, _ = simulate(1500, seed=2, probs=probs)
    ref = LatentClassModel(3, n_starts=5, seed=0).fit(df, list(df.columns))
    stab = bootstrap_stability(
        df, ref, n_boot=4, seed=1, model=lambda k, s: LatentClassModel(k, n_starts=4, seed=s)
    )
    t = stab.tidy().set_index("statistic")
    assert t.loc["ari", "replicates"] == 4
    assert t.loc["ari", "mean"] > 0.85
    for k in (1, 2, 3):
        assert t.loc[f"size_{k}", "mean"] == pytest.approx(ref.weights[k - 1], abs=0.04)
    # same resamples and seeds whether the refits run in one process or two
    again = bootstrap_stability(
        df,
        ref,
        n_boot=4,
        seed=1,
        model=lambda k, s: LatentClassModel(k, n_starts=4, seed=s),
        n_jobs=2,
    )
    pd.testing.assert_frame_equal(stab.replicates, again.replicates)


def test_min_class_share_makes_tiny_classes_inadmissible():
    probs = {
        "x1": np.array([[0.9, 0.1], [0.1, 0.9], [0.02, 0.98]]),
        "x2": np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.02, 0.02, 0.96]]),
        "x3": np.array([[0.9, 0.1], [0.9, 0.1], [0.02, 0.98]]),
        "x4": np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.02, 0.02, 0.96]]),
    }
    df, _ = simulate(3000, seed=5, weights=np.array([0.6, 0.37, 0.03]), probs=probs)
    make = lambda k: LatentClassModel(k, n_starts=5, seed=0)  # noqa: E731
    free = select_n_classes(df, list(df.columns), range(1, 5), min_class_share=0.0, model=make)
    assert free.n_classes == 3
    strict = select_n_classes(df, list(df.columns), range(1, 5), min_class_share=0.05, model=make)
    assert strict.n_classes == 2
    assert not strict.table.set_index("classes").loc[3, "admissible"]

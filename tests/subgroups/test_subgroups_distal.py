"""Distal outcomes by latent class: modal assignment vs the BCH and ML three-step corrections,
against simulated truth, a hand-computed case and StepMix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lcakit import simulate

from analysis.subgroups import LatentClassModel, match_classes
from analysis.subgroups.distal import (
    bch_weights,
    classification_error,
    coverage_draw,
    distal_outcome,
    outcome_shares,
    summarise_coverage,
)
from analysis.subgroups.pathways import exit_by_horizon, horizon_levels

#: Three classes with deliberately noisy indicators (relative entropy about 0.45): modal
#: assignment puts a large share of every class elsewhere.
WEIGHTS = np.array([0.5, 0.3, 0.2])
NOISY = {
    "x0": np.array([[0.75, 0.25], [0.3, 0.7], [0.5, 0.5]]),
    "x1": np.array([[0.7, 0.3], [0.7, 0.3], [0.2, 0.8]]),
    "x2": np.array([[0.3, 0.7], [0.75, 0.25], [0.7, 0.3]]),
    "x3": np.array([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]]),
    "x4": np.array([[0.7, 0.3], [0.35, 0.65], [0.3, 0.7]]),
}
#: P(outcome | class): distinct distributions of a three-level distal outcome.
OUTCOME = np.array([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6], [0.2, 0.6, 0.2]])
LEVELS = ("u", "v", "w")


def _draw(seed: int, n: int = 3000):
    df, cls = simulate(n, seed, WEIGHTS, NOISY)
    rng = np.random.default_rng(1000 + seed)
    code = (rng.random(n)[:, None] > OUTCOME[cls - 1].cumsum(axis=1)).sum(axis=1)
    return df, cls, np.asarray(LEVELS, dtype=object)[code]


def test_classification_error_by_hand():
    post = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])  # modal classes 1, 1, 2
    d = classification_error(post)
    expected = np.array([[1.5 / 1.7, 0.2 / 1.7], [0.5 / 1.3, 0.8 / 1.3]])
    np.testing.assert_allclose(d, expected, rtol=1e-12)
    w = bch_weights(post)
    np.testing.assert_allclose(w, np.linalg.inv(expected)[[0, 0, 1]], rtol=1e-12)
    # the BCH weights of each class sum (over persons) to the expected class size
    np.testing.assert_allclose(w.sum(axis=0), post.sum(axis=0), rtol=1e-12)


def test_perfect_classification_gives_the_modal_table():
    post = np.eye(3)[[0, 0, 1, 2, 2, 2]]
    y = ["a", "b", "a", "b", "b", "a"]
    for method in ("modal", "bch", "ml"):
        r = distal_outcome(post, y, method)
        np.testing.assert_allclose(r.probabilities, [[0.5, 0.5], [1, 0], [1 / 3, 2 / 3]])


def _stepmix_three_step(correction: str, **options):
    """Data draw 3 (n = 1000) coded for StepMix and a three-step StepMix model with ``options``."""
    stepmix = pytest.importorskip("stepmix")
    df, _, y = _draw(3, n=1000)
    codes = np.column_stack([df[c].map({"a": 0, "b": 1, "c": 2}).to_numpy() for c in df])
    y_code = pd.Index(LEVELS).get_indexer(y).reshape(-1, 1)
    sm = stepmix.StepMix(
        n_components=3,
        measurement="categorical",
        structural="categorical",
        n_steps=3,
        correction=correction,
        random_state=0,
        progress_bar=0,
        **options,
    )
    return df, y, codes, y_code, sm


@pytest.mark.parametrize("correction", ["BCH", "ML"])
def test_agrees_with_stepmix_on_its_own_posterior(correction):
    """StepMix's three-step estimates, recomputed by our code from StepMix's posterior."""
    df, y, codes, y_code, sm = _stepmix_three_step(
        correction, n_init=1, abs_tol=1e-10, max_iter=5000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm.fit(codes, y_code)
    post = sm.predict_proba_class(codes)
    from stepmix.corrections import compute_bch_matrix

    np.testing.assert_allclose(classification_error(post), compute_bch_matrix(post)[0], atol=1e-12)
    ours = distal_outcome(post, y, correction.lower(), levels=LEVELS)
    theirs = sm.get_parameters()["structural"]["pis"]
    np.testing.assert_allclose(
        ours.probabilities, theirs, atol=1e-12 if correction == "BCH" else 1e-4
    )


def test_corrected_estimates_are_closer_to_the_truth_than_modal():
    """Over five draws: mean absolute error of P(outcome | class) against the true classes'
    observed shares. Modal assignment attenuates (error ~0.08), BCH and ML do not (~0.03)."""
    errors = {m: [] for m in ("modal", "bch", "ml")}
    for seed in range(5):
        df, cls, y = _draw(seed)
        fit = LatentClassModel(3, n_starts=10, seed=seed).fit(df, list(df.columns))
        mapping = match_classes(cls, fit.classes, 3)  # fitted class j -> true class
        truth = outcome_shares(cls, y, LEVELS).to_numpy()[mapping - 1]
        for m in errors:
            est = distal_outcome(fit.posterior, y, m, levels=LEVELS).probabilities
            errors[m].append(float(np.abs(est - truth).mean()))
    modal, bch, ml = (np.array(errors[m]) for m in ("modal", "bch", "ml"))
    assert modal.mean() > 0.05, "the design must make modal assignment visibly biased"
    assert np.all(bch < modal) and np.all(ml < modal), errors
    assert bch.mean() < 0.6 * modal.mean() and ml.mean() < 0.6 * modal.mean(), errors
    assert bch.mean() < 0.045 and ml.mean() < 0.045, errors


def test_ml_stays_in_the_parameter_space_where_bch_is_clipped():
    # a tiny, badly classified class: BCH weights push shares outside [0, 1] before clipping
    rng = np.random.default_rng(5)
    post = rng.dirichlet([2, 2, 0.3], size=300)
    y = rng.choice(["a", "b"], size=300)
    for method in ("bch", "ml"):
        p = distal_outcome(post, y, method).probabilities
        assert np.all(p >= 0) and np.all(p <= 1)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_missing_outcomes_are_left_out_and_bad_levels_named():
    post = np.eye(2)[[0, 0, 1, 1]]
    r = distal_outcome(post, ["a", None, "b", "a"], "bch")
    assert r.n_obs == 3
    np.testing.assert_allclose(r.probabilities, [[1, 0], [0.5, 0.5]])
    with pytest.raises(ValueError, match="'c'"):
        distal_outcome(post, ["a", "c", "b", "a"], "ml", levels=["a", "b"])
    t = r.tidy()
    assert list(t.columns[:4]) == ["term", "class", "level", "estimate"]
    assert {"std_error", "p_value", "conf_low", "conf_high"} <= set(t.columns)


def test_exit_by_horizon():
    frame = pd.DataFrame(
        {
            "follow_up": [0.5, 1.5, 0.7, 2.0, 0.4, 1.0],
            "event": [1, 1, 0, 0, 99, 3],
        }
    )
    from data_schema.derived import EXIT_CODES

    frame.loc[0, "event"] = EXIT_CODES["job"]
    frame.loc[1, "event"] = EXIT_CODES["fp"]
    frame.loc[4, "event"] = EXIT_CODES["edu"]
    frame.loc[5, "event"] = EXIT_CODES["rf"]
    s = exit_by_horizon(frame, 1.0)
    # job by 0.5; fp after the horizon -> in spell; censored at 0.7 -> missing; still followed;
    # other exit; exit exactly at the horizon counts
    assert s.tolist() == ["job", "in_spell", None, "in_spell", "other_exit", "rf"]
    assert set(s.dropna()) <= set(horizon_levels())


def test_standard_errors_by_hand_under_perfect_classification():
    """With D = I all three estimators are the modal shares and the SE is sqrt(p (1-p) / n_s)."""
    post = np.eye(2)[[0, 0, 0, 0, 1, 1, 1, 1, 1]]
    y = ["a", "a", "a", "b", "a", "b", "b", "b", "b"]
    p = np.array([[0.75, 0.25], [0.2, 0.8]])
    expected = np.sqrt(p * (1 - p) / np.array([[4.0], [5.0]]))
    for method in ("modal", "bch", "ml"):
        r = distal_outcome(post, y, method)
        np.testing.assert_allclose(r.std_errors, expected, rtol=1e-9, err_msg=method)
        t = r.tidy()
        np.testing.assert_allclose(
            t["conf_high"] - t["conf_low"], 2 * 1.959964 * expected.ravel(), rtol=1e-6
        )


def test_corrected_standard_errors_cover_the_truth():
    """Coverage of 95 % Wald intervals over 40 draws (calibrated posterior, 3 x 3 cells; the
    study of benchmarks/bench_subgroups_distal.py with 300 draws): near 0.95 for BCH and ML, far
    below for modal assignment (biased), and the corrected SE exceed the modal SE
    (misclassification costs)."""
    draws = [coverage_draw(seed) for seed in range(40)]
    summary = summarise_coverage(draws).set_index("method")
    for m in ("bch", "ml"):
        assert 0.88 < summary.loc[m, "coverage"] < 0.99, summary
    assert summary.loc["modal", "coverage"] < 0.6, summary
    for d in draws:
        se = d.pivot_table(index=["class", "level"], columns="method", values="std_error")
        assert (se["bch"] > se["modal"]).all()


@pytest.mark.parametrize("correction", ["BCH", "ML"])
def test_three_step_estimates_agree_with_stepmix_end_to_end(correction):
    """StepMix's whole three-step pipeline (its own step-1 EM, modal step 2, BCH or ML step 3)
    against ours (LatentClassModel, then distal_outcome) on the same simulated noisy data.

    Both step-1 fits maximise the same latent class likelihood; the test first checks that they
    reach the same maximum (log-likelihood to 1e-8 relative, posteriors to 2e-4). StepMix's EM creeps towards the
    maximum on this flat likelihood (about 900 iterations at abs_tol=1e-13; its posterior then
    still differs from ours by ~5e-5), and the corrections multiply such differences by D^-1
    (entries up to ~2.1 here). Measured: the class-specific outcome probabilities differ by 5e-6;
    they are compared to 1e-4 absolute (room for StepMix's stopping point) -- far below the
    modal-assignment bias (~0.08) the corrections remove and their standard errors (>= 0.024)."""
    df, y, codes, y_code, sm = _stepmix_three_step(
        correction, n_init=3, abs_tol=1e-13, rel_tol=0, max_iter=100_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm.fit(codes, y_code)
    fit = LatentClassModel(3, n_starts=20, seed=0).fit(df, list(df.columns))
    if correction == "BCH":  # (after ML, lower_bound_ is the step-3 likelihood)
        np.testing.assert_allclose(sm.lower_bound_ * len(df), fit.log_likelihood, rtol=1e-8)
    post = sm.predict_proba_class(codes)
    # StepMix's class k is our class perm[k]: match on the posterior
    perm = [
        int(np.argmin([np.abs(post[:, j] - fit.posterior[:, k]).max() for j in range(3)]))
        for k in range(3)
    ]
    assert sorted(perm) == [0, 1, 2]
    assert np.abs(post[:, perm] - fit.posterior).max() < 2e-4
    theirs = sm.get_parameters()["structural"]["pis"][perm]
    ours = distal_outcome(fit.posterior, y, correction.lower(), levels=LEVELS).probabilities
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    modal = distal_outcome(fit.posterior, y, "modal", levels=LEVELS).probabilities
    assert np.abs(modal - theirs).max() > 0.05  # the comparison can tell modal from corrected

"""Effect estimators on cases with known answers: hand-computed stabilised weights, weights that
must be 1, cross-fitted weights by hand, a randomised exposure (every estimator agrees and covers the truth) and time-varying
confounding (the naive estimate is biased, the adjusted, MSM and doubly robust estimates cover
the truth); the
E-value and the 12-month job-probability conversion by hand; the municipality strata (equal to
direct stratified fits), target groups by hand, and by-group estimates equal to fits within each
group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.effects import study
from analysis.effects.estimators import ExposureEffect
from analysis.effects.gformula import GFormula
from analysis.effects.sensitivity import evalue, job_probability_change
from analysis.effects.weights import StabilisedWeights

TRUE_HR = 0.78


def simulate(n: int, seed: int, confounded: bool, months: int = 36) -> pd.DataFrame:
    """Monthly person frame: health ``poor`` (Markov chain, not affected by the exposure),
    a case-worker change each month with probability depending on ``poor`` when ``confounded``,
    exposure ``x`` = changes in the last 12 months (capped at 4), and a job exit with the logit
    of its monthly probability ``-3.2 + log(TRUE_HR) x - 1.2 poor + 0.4 z``."""
    rng = np.random.default_rng(seed)
    z = rng.random(n) < 0.5
    poor = rng.random(n) < 0.3
    hist = np.zeros((n, 12), int)
    alive = np.ones(n, bool)
    rows = []
    for m in range(1, months + 1):
        if m > 1:
            p_poor = np.where(poor, 0.85, 0.06)
            poor = rng.random(n) < p_poor
        logit_a = -2.6 + (1.6 * poor if confounded else 0.0)
        new = (rng.random(n) < 1 / (1 + np.exp(-logit_a))).astype(int)
        past = hist.sum(axis=1).clip(max=4)
        hist = np.roll(hist, 1, axis=1)
        hist[:, 0] = new
        x = hist.sum(axis=1).clip(max=4)
        eta = -3.2 + np.log(TRUE_HR) * x - 1.2 * poor + 0.4 * z
        job = rng.random(n) < 1 / (1 + np.exp(-eta))
        idx = np.flatnonzero(alive)
        rows.append(
            pd.DataFrame(
                {
                    "person_id": idx.astype(str),
                    "month_no": m,
                    "tstart": (m - 1) * 30.0,
                    "tstop": m * 30.0,
                    "event": np.where(job[idx], 1, 0),
                    "x": x[idx].astype(float),
                    "lag_x": past[idx].astype(float),
                    "new_change": new[idx],
                    "poor": poor[idx],
                    "z": z[idx],
                }
            )
        )
        alive &= ~job
    return pd.concat(rows, ignore_index=True)


def fit(method: str, frame: pd.DataFrame):
    return ExposureEffect(method).fit(
        frame,
        exposure="x",
        cause=1,
        baseline=["z"],
        confounders=["poor"],
        treatment="new_change",
        family="binomial",
        past_treatment=["lag_x"],
    )


@pytest.fixture(scope="module")
def randomised():
    return simulate(6000, seed=11, confounded=False)


@pytest.fixture(scope="module")
def confounded():
    return simulate(6000, seed=12, confounded=True)


def test_weights_by_hand_on_a_saturated_model():
    # one binary confounder, binary treatment: both logistic models are saturated, so the
    # fitted probabilities are the observed frequencies
    d = pd.DataFrame(
        {
            "person_id": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "month_no": [1, 2] * 4,
            "poor": [1, 1, 1, 0, 0, 0, 0, 1],
            "a": [1, 0, 1, 0, 0, 1, 0, 1],
        }
    )
    w = StabilisedWeights(truncation=(0.0, 1.0)).fit(
        d, treatment="a", numerator=[], denominator=["poor"]
    )
    p_marg = d["a"].mean()  # 1/2
    p_poor = d.groupby("poor")["a"].mean()  # poor: 3/4, not poor: 1/4
    f_num = np.where(d["a"] == 1, p_marg, 1 - p_marg)
    pd_ = d["poor"].map(p_poor).to_numpy()
    f_den = np.where(d["a"] == 1, pd_, 1 - pd_)
    ratio = pd.Series(f_num / f_den)
    expected = ratio.groupby(d["person_id"]).cumprod().to_numpy()
    np.testing.assert_allclose(w.stabilised.to_numpy(), expected, rtol=1e-6)
    # person a: (1/2 / 3/4) * (1/2 / 1/4) = 4/3
    assert w.stabilised.iloc[1] == pytest.approx(4 / 3, rel=1e-6)


def test_cross_fitted_weights_by_hand_on_a_saturated_model():
    """With two folds each person's probabilities are the treatment frequencies among the other
    fold's persons (saturated models), and all rows of a person are in one fold."""
    from analysis.effects.weights import _person_folds

    rng = np.random.default_rng(3)
    n = 40
    d = pd.DataFrame(
        {
            "person_id": np.repeat([f"p{i}" for i in range(n)], 3),
            "month_no": np.tile([1, 2, 3], n),
            "poor": rng.random(3 * n) < 0.4,
            "a": rng.random(3 * n) < 0.3,
        }
    )
    d["a"] = (d["a"] | (d["poor"] & (rng.random(3 * n) < 0.4))).astype(int)
    w = StabilisedWeights(truncation=(0.0, 1.0), folds=2, seed=7).fit(
        d, treatment="a", numerator=[], denominator=["poor"]
    )
    fold = _person_folds(d["person_id"].to_numpy(), 2, 7)
    assert (pd.Series(fold).groupby(d["person_id"].to_numpy()).nunique() == 1).all()
    f_num, f_den = np.empty(len(d)), np.empty(len(d))
    for k in (0, 1):
        other = d[fold != k]
        p_marg = other["a"].mean()
        p_poor = other.groupby("poor")["a"].mean()
        here = fold == k
        a = d.loc[here, "a"].to_numpy()
        pk = d.loc[here, "poor"].map(p_poor).to_numpy()
        f_num[here] = np.where(a == 1, p_marg, 1 - p_marg)
        f_den[here] = np.where(a == 1, pk, 1 - pk)
    expected = pd.Series(f_num / f_den).groupby(d["person_id"]).cumprod().to_numpy()
    np.testing.assert_allclose(w.stabilised.to_numpy(), expected, rtol=1e-6)


def test_weights_are_one_when_the_denominator_adds_nothing(randomised):
    w = StabilisedWeights().fit(
        randomised, treatment="new_change", numerator=["z", "lag_x"], denominator=["z", "lag_x"]
    )
    np.testing.assert_allclose(w.stabilised.to_numpy(), 1.0, atol=1e-10)


def test_weights_near_one_for_a_randomised_exposure(randomised):
    w = StabilisedWeights().fit(
        randomised, treatment="new_change", numerator=["z"], denominator=["z", "poor"]
    )
    v = w.stabilised.to_numpy()
    assert abs(v.mean() - 1) < 0.01
    assert np.quantile(v, 0.99) < 1.1 and np.quantile(v, 0.01) > 0.9
    assert w.truncated_share <= 0.03


def test_randomised_exposure_every_estimator_agrees_and_covers_the_truth(randomised):
    res = {m: fit(m, randomised) for m in ("naive", "adjusted", "msm_iptw", "dr_msm")}
    for m, r in res.items():
        lo, hi = r.conf_int()[["conf_low", "conf_high"]].iloc[0]
        assert lo <= TRUE_HR <= hi, (m, r.hazard_ratio, lo, hi)
    logs = [r.log_hr for r in res.values()]
    assert max(logs) - min(logs) < 0.5 * res["naive"].std_error
    # protocol: conf_int(alpha) on the HR scale (z_0.95 = 1.6448536, a table value), glance()
    r = res["naive"]
    lo90, hi90 = r.conf_int(alpha=0.10)[["conf_low", "conf_high"]].iloc[0]
    assert lo90 == pytest.approx(np.exp(r.log_hr - 1.6448536 * r.std_error), rel=1e-6)
    assert hi90 == pytest.approx(np.exp(r.log_hr + 1.6448536 * r.std_error), rel=1e-6)
    g = r.glance().iloc[0]
    assert g["nobs"] == randomised["person_id"].nunique() == 6000
    assert g["n_events"] == r.n_events and g["method"] == "naive"


def test_time_varying_confounding_biases_the_naive_estimate(confounded):
    naive = fit("naive", confounded)
    adjusted = fit("adjusted", confounded)
    msm = fit("msm_iptw", confounded)
    dr = fit("dr_msm", confounded)
    # poor health brings changes and keeps people from jobs: the naive HR is too low
    assert naive.conf_int().at[0, "conf_high"] < TRUE_HR
    assert (np.log(TRUE_HR) - naive.log_hr) > 3 * naive.std_error
    for r in (adjusted, msm, dr):
        lo, hi = r.conf_int()[["conf_low", "conf_high"]].iloc[0]
        assert lo <= TRUE_HR <= hi, (r.method, r.hazard_ratio, lo, hi)
    # stabilised weights have mean 1 when the treatment model is right
    assert msm.weights is not None and 0.9 < msm.weights.stabilised.mean() < 1.1
    tidy = msm.tidy()
    assert list(tidy.columns) == [
        "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high",
    ]  # fmt: skip
    assert tidy["estimate"].iloc[0] == pytest.approx(msm.hazard_ratio)


def test_gformula_scenario_without_a_change_is_zero_and_halving_raises_jobs(randomised):
    d = randomised.assign(log_month=np.log(randomised["month_no"]))
    res = GFormula(horizon=12, n_draws=30, seed=1).fit(
        d,
        covariates=["x", "z", "poor"],
        scenarios={"same": lambda f: f, "halve": lambda f: f.assign(x=f["x"] * 0.5)},
    )
    t = res.table.set_index("scenario")
    assert t.loc["same", "extra_in_job"] == pytest.approx(0.0, abs=1e-9)
    assert t.loc["same", "person_years_saved"] == pytest.approx(0.0, abs=1e-9)
    # fewer changes with HR < 1 per change: more jobs, fewer months on KH
    assert t.loc["halve", "extra_in_job_low"] > 0
    assert t.loc["halve", "person_years_saved"] > 0
    # chunked prediction gives the same numbers as one chunk
    small = GFormula(horizon=12, n_draws=30, seed=1, chunk_rows=500).fit(
        d,
        covariates=["x", "z", "poor"],
        scenarios={"same": lambda f: f, "halve": lambda f: f.assign(x=f["x"] * 0.5)},
    )
    pd.testing.assert_frame_equal(small.table, res.table)


def test_evalue_by_hand():
    # VanderWeele & Ding: RR < 1 is inverted; E = RR + sqrt(RR (RR - 1))
    rr = 1 / 0.78
    point, ci = evalue(0.78, 0.70, 0.87)
    assert point == pytest.approx(rr + np.sqrt(rr * (rr - 1)))
    lim = 1 / 0.87
    assert ci == pytest.approx(lim + np.sqrt(lim * (lim - 1)))
    assert evalue(1.3, 0.9, 1.8)[1] == 1.0  # interval contains 1
    assert evalue(2.0)[0] == pytest.approx(2 + np.sqrt(2))


def test_job_probability_change_by_hand():
    h = 0.25  # cumulative hazard over 12 months
    p0, p1 = 1 - np.exp(-h), 1 - np.exp(-0.78 * h)
    assert job_probability_change(0.78, h) == pytest.approx(p1 / p0 - 1)
    assert job_probability_change(1.0, h) == pytest.approx(0.0)


def test_every_estimator_but_the_naive_one_is_stratified_by_municipality():
    """The municipality enters as Cox strata (a baseline hazard per municipality): the adjusted
    and MSM rows equal direct stratified fits, the naive row an unstratified one; a frame
    without the column is fitted unstratified."""
    f = simulate(4000, seed=5, confounded=True)
    f["municipality_id"] = f["person_id"].astype(int) % 3 + 101
    spec = study.ExposureSpec("change", "x", "new_change", "binomial", "lag_x", None, "z")
    # the simulated frame has no calendar: its days are 30-day months (clock "day" = months)
    opts = {"exposures": [spec], "baseline": ["z"], "confounders": ["poor"], "causes": {"job": 1},
            "clock": "day"}  # fmt: skip
    tab, fitted = study.estimate_effects(f, methods=("naive", "adjusted", "msm_iptw"), **opts)
    est = tab.set_index("estimator")["estimate"]
    common = {"exposure": "x", "cause": 1, "baseline": ["z"], "confounders": ["poor", "z"]}
    naive = ExposureEffect("naive").fit(f, **common)
    adjusted = ExposureEffect("adjusted").fit(f, strata="municipality_id", **common)
    flat = ExposureEffect("adjusted").fit(f, **common)
    assert est["naive"] == naive.hazard_ratio
    assert est["adjusted"] == adjusted.hazard_ratio != flat.hazard_ratio
    msm = ExposureEffect("msm_iptw").fit(
        f, strata="municipality_id", treatment="new_change", past_treatment=["lag_x"],
        msm_weights=fitted[("change", "job", "msm_iptw")].weights, **common,
    )  # fmt: skip
    assert est["msm_iptw"] == msm.hazard_ratio
    unstratified, _ = study.estimate_effects(
        f.drop(columns="municipality_id"), methods=("adjusted",), **opts
    )
    assert unstratified["estimate"].iloc[0] == flat.hazard_ratio


def test_target_groups_by_hand():
    f = pd.DataFrame(
        {
            "sex": ["F", "M", "M", "F", "M"],
            "origin": ["non_western", "danish", "danish", "danish", "western"],
            "substance_abuse_treatment": [True, True, False, False, False],
            "psychiatric_diagnosis": [True, True, True, False, False],
        }
    )
    assert study._target_group(f).tolist() == [
        "nonwestern_women", "danish_men_substance", "psychiatric_diagnosis", "other", "other",
    ]  # fmt: skip


def test_seniority_groups_are_reported_from_the_shortest():
    f = pd.DataFrame({"seniority_group_entry": ["5_10", "lt1", "1_2", "lt1"]})
    labels = study.EFFECT_GROUPS["seniority_at_entry"](f)
    assert labels.tolist() == ["5_10", "lt1", "1_2", "lt1"]
    assert list(labels.cat.categories[:3]) == ["lt1", "1_2", "2_3"]


def test_estimates_by_group_are_the_fits_within_each_group():
    f = simulate(8000, seed=3, confounded=True)
    f["half"] = np.where(f["person_id"].astype(int) % 2 == 0, "even", "odd")
    spec = study.ExposureSpec("change", "x", "new_change", "binomial", "lag_x", None, "z")
    groups = {"half": lambda d: d["half"]}
    opts = {"exposures": [spec], "baseline": ["z"], "confounders": ["poor"], "clock": "day"}
    tab = study.estimates_by_group(f, groups=groups, methods=("adjusted",), **opts)
    assert tab["group"].tolist() == ["even", "odd"]
    assert (tab["grouping"] == "half").all() and (tab["outcome"] == "job").all()
    for row in tab.itertuples():
        sub = f[f["half"] == row.group]
        direct = ExposureEffect("adjusted").fit(
            sub, exposure="x", cause=1, baseline=["z"], confounders=["poor", "z"]
        )
        assert row.estimate == direct.hazard_ratio
        assert row.n_events == int((sub["event"] == 1).sum())
        # the effect is the same in both halves: each adjusted interval covers it
        assert row.conf_low <= TRUE_HR <= row.conf_high
    few = study.estimates_by_group(f, groups=groups, min_events=10**6, **opts)
    assert few.empty and list(few.columns[:2]) == ["grouping", "group"]

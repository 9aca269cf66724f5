"""Cox and Fine-Gray on small data whose partial likelihood has a closed form, plus identities
that hold by construction (independent of R): weights = duplicated rows, split rows = one row,
Fine-Gray without competing events = Cox, Fine-Gray without censoring = Cox on data where the
competing exits never leave the risk set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.competing_risks import CauseSpecificCox, FineGray
from analysis.cox import CoxPH


def _fit(df, **kw):
    ties = kw.pop("ties", "efron")
    return CoxPH(ties=ties).fit(df, duration="t", event="d", covariates=["x"], **kw)


def test_binary_covariate_closed_form():
    # risk sets: t=1 {x=1,x=0,x=1,x=0}, t=2 {x=0,x=1,x=0}, t=3 {x=1,x=0}
    # logL = 2b - log(2e^b + 2) - log(e^b + 2) - log(e^b + 1)  =>  e^b = (1 + sqrt(17)) / 2
    df = pd.DataFrame({"t": [1, 2, 3, 4], "d": [1, 1, 1, 0], "x": [1, 0, 1, 0]})
    theta = (1 + np.sqrt(17)) / 2
    info = 2 * theta / (theta + 1) ** 2 + 2 * theta / (theta + 2) ** 2
    loglik = 2 * np.log(theta) - np.log(2 * theta + 2) - np.log(theta + 2) - np.log(theta + 1)
    for ties in ("efron", "breslow"):  # no tied events: both the same
        res = _fit(df, ties=ties)
        assert res.coef[0] == pytest.approx(np.log(theta), abs=1e-10)
        assert res.std_error[0] == pytest.approx(1 / np.sqrt(info), rel=1e-9)
        assert res.loglik == pytest.approx(loglik, abs=1e-10)
        assert res.loglik_null == pytest.approx(-np.log(4) - np.log(3) - np.log(2), abs=1e-12)


def test_tied_events_efron_and_breslow_closed_form():
    # two events tied at t=1 (x=1 and x=0), risk set {1, 0, 1, 0}; then t=2 {x=1, x=0}
    # Efron: logL = 2 log th - log(2th+2) - log(1.5th+1.5) - log(th+1)
    # Breslow: logL = 2 log th - 2 log(2th+2) - log(th+1); both maximised at th = 2
    df = pd.DataFrame({"t": [1, 1, 2, 3], "d": [1, 1, 1, 0], "x": [1, 0, 1, 0]})
    th = 2.0
    efron = _fit(df, ties="efron")
    breslow = _fit(df, ties="breslow")
    assert efron.coef[0] == pytest.approx(np.log(2), abs=1e-10)
    assert breslow.coef[0] == pytest.approx(np.log(2), abs=1e-10)
    assert efron.std_error[0] == pytest.approx(np.sqrt((th + 1) ** 2 / (3 * th)), rel=1e-9)
    ll_e = 2 * np.log(th) - np.log(2 * th + 2) - np.log(1.5 * th + 1.5) - np.log(th + 1)
    ll_b = 2 * np.log(th) - 2 * np.log(2 * th + 2) - np.log(th + 1)
    assert efron.loglik == pytest.approx(ll_e, abs=1e-10)
    assert breslow.loglik == pytest.approx(ll_b, abs=1e-10)
    # baseline hazard at x = 0 (Breslow): t=1: 2 / (2th + 2); t=2: 1 / (th + 1)
    bh = breslow.baseline_cumulative_hazard(centered=False)
    np.testing.assert_allclose(bh["cumulative_hazard"], [2 / 6, 2 / 6 + 1 / 3], rtol=1e-9)
    # Efron: t=1: (1/(2th+2) + 1/(1.5th+1.5)) ... at the centre x=0 (indicator: not centred)
    be = efron.baseline_cumulative_hazard(centered=True)
    np.testing.assert_allclose(be["cumulative_hazard"].iloc[0], 1 / 6 + 1 / 4.5, rtol=1e-9)


def test_delayed_entry_closed_form():
    # subject 3 enters at 1.5: risk sets t=1 {1, 0, 0}, t=2 {0, 1, 0}, t=3 {1, 0}
    # logL = 2b - 2 log(e^b + 2) - log(e^b + 1)  =>  e^b = 1 + sqrt(5)
    df = pd.DataFrame(
        {"e": [0, 0, 1.5, 0], "t": [1, 2, 3, 4], "d": [1, 1, 1, 0], "x": [1, 0, 1, 0]}
    )
    res = _fit(df, entry="e")
    assert res.coef[0] == pytest.approx(np.log(1 + np.sqrt(5)), abs=1e-10)
    # entering at time 1 exactly: not at risk at t=1 (risk set is entry < t <= stop)
    df2 = df.assign(e=[0, 0, 1.0, 0])
    assert _fit(df2, entry="e").coef[0] == pytest.approx(np.log(1 + np.sqrt(5)), abs=1e-10)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 300
    x = rng.normal(size=n)
    z = rng.integers(0, 2, n)
    t = np.ceil(rng.exponential(10 * np.exp(-0.5 * x + 0.3 * z)))
    c = np.ceil(rng.exponential(15, n))
    cause = rng.integers(1, 3, n)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "t": np.minimum(t, c),
            "d": (t <= c).astype(int),
            "ev": np.where(t <= c, cause, 0),
            "x": x,
            "z": z,
            "w": rng.integers(1, 4, n),
        }
    )


def test_integer_weights_equal_duplicated_rows_breslow(sim):
    dup = sim.loc[sim.index.repeat(sim["w"])]
    a = CoxPH(ties="breslow").fit(sim, duration="t", event="d", covariates="x + z", weights="w")
    b = CoxPH(ties="breslow").fit(dup, duration="t", event="d", covariates="x + z")
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-10)
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=1e-9)
    assert a.variance == "model"  # whole-number weights are frequency weights, as in R


def test_splitting_rows_changes_nothing(sim):
    split = sim.assign(start=0.0, stop=sim["t"])
    cut = split["t"] > 3
    first = split[cut].assign(stop=2.0, d=0)
    second = split[cut].assign(start=2.0)
    long = pd.concat([split[~cut], first, second], ignore_index=True)
    a = CoxPH().fit(sim, duration="t", event="d", covariates="x + z", cluster="id")
    b = CoxPH().fit(
        long, duration="stop", entry="start", event="d", covariates="x + z", cluster="id"
    )
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-10)
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=1e-9)  # cluster = person
    np.testing.assert_allclose(a.loglik, b.loglik, atol=1e-9)


def test_fine_gray_without_competing_events_is_cox(sim):
    one = sim.assign(ev=sim["d"])  # only cause 1
    fg = FineGray(cause=1, variance="model").fit(one, duration="t", event="ev", covariates="x + z")
    cox = CoxPH(ties="breslow").fit(one, duration="t", event="d", covariates="x + z")
    np.testing.assert_allclose(fg.coef, cox.coef, atol=1e-10)
    np.testing.assert_allclose(fg.std_error, cox.std_error, rtol=1e-9)


def test_fine_gray_without_censoring_keeps_competing_exits_at_risk(sim):
    full = sim.assign(ev=np.where(sim["ev"] == 0, 2, sim["ev"]))  # nobody censored: weights 1
    fg = FineGray(cause=1).fit(full, duration="t", event="ev", covariates="x + z")
    # equivalent Cox data: a competing exit stays in the risk set until the end
    cox_data = full.assign(
        t2=np.where(full["ev"] == 2, full["t"].max() + 1, full["t"]), d1=(full["ev"] == 1)
    )
    cox = CoxPH(ties="breslow").fit(cox_data, duration="t2", event="d1", covariates="x + z")
    np.testing.assert_allclose(fg.coef, cox.coef, atol=1e-10)
    np.testing.assert_allclose(fg.loglik, cox.loglik, atol=1e-9)


def test_cause_specific_is_cox_on_indicator(sim):
    a = CauseSpecificCox(cause=2).fit(sim, duration="t", event="ev", covariates=["x", "z"])
    b = CoxPH().fit(sim.assign(e2=sim["ev"] == 2), duration="t", event="e2", covariates=["x", "z"])
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)
    assert a.cause == 2 and b.cause is None


def test_clear_errors(sim):
    with pytest.raises(KeyError, match="nope"):
        CoxPH().fit(sim, duration="t", event="d", covariates=["x", "nope"])
    with pytest.raises(ValueError, match="CauseSpecificCox"):
        CoxPH().fit(sim, duration="t", event="ev", covariates=["x"])
    with pytest.raises(ValueError, match="entry"):
        CoxPH().fit(sim.assign(e=sim["t"]), duration="t", entry="e", event="d", covariates=["x"])
    with pytest.raises(ValueError, match="collinear"):
        CoxPH().fit(sim.assign(x2=2 * sim["x"]), duration="t", event="d", covariates=["x", "x2"])
    with pytest.raises(ValueError, match="cause 7 does not occur"):
        FineGray(cause=7).fit(sim, duration="t", event="ev", covariates=["x"])
    twice = pd.concat([sim, sim.head(3)])
    with pytest.raises(ValueError, match="time-varying covariates"):
        FineGray(cause=1).fit(twice, duration="t", event="ev", covariates=["x"], id="id")
    with pytest.raises(ValueError, match="ties"):
        CoxPH(ties="discrete")


def test_missing_values_are_dropped_like_na_omit(sim):
    holes = sim.copy()
    holes.loc[[3, 10], "x"] = np.nan
    a = CoxPH().fit(holes, duration="t", event="d", covariates="x + z")
    b = CoxPH().fit(sim.drop(index=[3, 10]), duration="t", event="d", covariates="x + z")
    assert a.n_missing == 2 and a.nobs == len(sim) - 2
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)


def test_newton_keeps_the_last_finite_estimate_when_every_step_overflows(monkeypatch):
    """Coefficients running off to infinity can overflow the likelihood at every halved step
    (seen on a 12-event weighted fit with numpy 1.26): the fit must stop at the last finite
    estimate and warn, not hand a NaN information matrix to the next Newton step."""
    import dataclasses
    import warnings

    import numpy as np
    import pandas as pd

    from analysis import _coxengine
    from analysis.cox import CoxPH

    df = pd.DataFrame(
        {"t": [1.0, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 0, 1], "x": [0.0, 1, 0, 1, 1, 0]}
    )
    reference = CoxPH().fit(df, duration="t", event="e", covariates=["x"]).params["x"]
    real = _coxengine.CoxProblem.moments

    def overflowing(self, beta):  # the likelihood is lost beyond the first iterate
        mom = real(self, beta)
        if np.any(np.abs(beta) > 1e-3):
            mom = dataclasses.replace(mom, loglik=float("nan"))
        return mom

    monkeypatch.setattr(_coxengine.CoxProblem, "moments", overflowing)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = CoxPH().fit(df, duration="t", event="e", covariates=["x"])
    assert any("did not converge" in str(w.message) for w in caught)
    assert np.isfinite(fit.params["x"]) and abs(fit.params["x"]) <= 1e-3
    assert abs(reference) > 1e-3  # the unhindered fit does move

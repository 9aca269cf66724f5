"""CauseSpecificCox and FineGray against R (fixtures from tests/r/regression_fixtures.R).

* no entry / no weights: ``cmprsk::crr`` (coefficients, crr's standard errors that account for
  estimating the censoring distribution, log pseudo-likelihoods, ``bfitj``, ``predict.crr``);
* delayed entry, case weights, Efron ties: ``survival::finegray`` + ``coxph(..., weights=fgwt,
  cluster=id)`` (coefficients, model-based and robust SEs, ``survfit`` cumulative incidence).

Tolerances: estimates 1e-6 (absolute), standard errors 1e-4 (relative).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.competing_risks import CauseSpecificCox, FineGray

FIXTURES = Path(__file__).parents[1] / "fixtures" / "r" / "regression"
COEF_TOL = 1e-6
SE_RTOL = 1e-4
FORMULA = "x1 + x2 + grp"
NEW = pd.DataFrame({"x1": [0.0, 1.0], "x2": [0, 1], "grp": ["a", "b"]})


@cache
def case(name: str) -> dict:
    return json.loads((FIXTURES / "results.json").read_text())["cases"][name]


@cache
def fg_data() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "fg.csv")


@pytest.mark.parametrize(
    ("name", "time", "cause"),
    [
        ("crr_ties_cause1", "time", 1),
        ("crr_ties_cause2", "time", 2),
        ("crr_noties_cause1", "time_c", 1),
    ],
)
def test_fine_gray_matches_crr(name, time, cause):
    ref = case(name)
    res = FineGray(cause=cause).fit(fg_data(), duration=time, event="ev", covariates=FORMULA)
    assert res.reference == "cmprsk::crr" and res.variance == "crr"
    assert res.terms == ("x1", "x2", "grp[b]", "grp[c]")
    np.testing.assert_allclose(res.coef, ref["coef"], rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(res.std_error, ref["se"], rtol=SE_RTOL)
    np.testing.assert_allclose(
        [res.loglik, res.loglik_null], [ref["loglik"], ref["loglik_null"]], rtol=0, atol=COEF_TOL
    )
    np.testing.assert_allclose(res.event_time, ref["uftime"], rtol=0, atol=0)
    np.testing.assert_allclose(res.baseline_hazard, ref["bfitj"], rtol=1e-7, atol=1e-12)
    pred = res.predict_cif(NEW)  # at every event time of the cause, as predict.crr
    r_cif = np.array(ref["predict_cif"])
    for j in range(len(NEW)):
        got = pred.loc[pred["row"] == j]
        np.testing.assert_allclose(got["time"], ref["predict_time"], atol=0)
        np.testing.assert_allclose(got["estimate"], r_cif[:, j], rtol=0, atol=COEF_TOL)


@pytest.mark.parametrize(
    ("name", "kwargs", "ties"),
    [
        ("fg_entry_breslow", {"entry": "entry"}, "breslow"),
        ("fg_entry_efron", {"entry": "entry"}, "efron"),
        ("fg_weights_breslow", {"weights": "w"}, "breslow"),
        ("fg_plain_efron", {}, "efron"),
    ],
)
def test_fine_gray_matches_finegray_coxph(name, kwargs, ties):
    ref = case(name)
    data = fg_data()
    res = FineGray(cause=1, ties=ties).fit(
        data, duration="time", event="ev", covariates=FORMULA, id="id", **kwargs
    )
    assert res.reference == "survival::finegray + coxph" and res.variance == "robust"
    np.testing.assert_allclose(res.coef, ref["coef"], rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(np.sqrt(np.diag(res.naive_var)), ref["naive_se"], rtol=SE_RTOL)
    np.testing.assert_allclose(res.std_error, ref["se"], rtol=SE_RTOL)
    np.testing.assert_allclose(res.loglik, ref["loglik"][1], rtol=0, atol=COEF_TOL)
    model = FineGray(cause=1, ties=ties, variance="model").fit(
        data, duration="time", event="ev", covariates=FORMULA, **kwargs
    )
    np.testing.assert_allclose(model.std_error, ref["naive_se"], rtol=SE_RTOL)
    pred = res.predict_cif(NEW, times=ref["cif_times"])
    r_cif = np.array(ref["cif"])
    for j in range(len(NEW)):
        got = pred.loc[pred["row"] == j, "estimate"]
        np.testing.assert_allclose(got, r_cif[:, j], rtol=0, atol=COEF_TOL)


def test_cause_specific_cox_matches_coxph_with_other_causes_censored():
    ref = case("cause_specific_1")
    res = CauseSpecificCox(cause=1).fit(
        fg_data(), duration="time", event="ev", entry="entry", covariates=FORMULA, cluster="id"
    )
    assert res.cause == 1 and res.variance == "robust"
    np.testing.assert_allclose(res.coef, ref["coef"], rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(res.naive_std_error, ref["naive_se"], rtol=SE_RTOL)
    np.testing.assert_allclose(res.std_error, ref["se"], rtol=SE_RTOL)
    assert res.n_events == ref["n_events"]
    assert "Cause-specific" in res.summary()

"""CoxPH inference against R survival 3.5-3 (fixtures from tests/r/cox_inference_fixtures.R):
concordance and its standard error, the score / likelihood-ratio / Wald tests, residuals of
every type (with ``collapse``), and the estimator protocol (n_missing, nobs, BIC).

Tolerance: 1e-8 absolute (R's fit converged with eps = 1e-12).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis._base import MissingValuesError, TestResult
from analysis.cox import CoxPH
from tests.analysis.rcheck import close_to_r

FIXTURES = Path(__file__).parents[1] / "fixtures" / "r" / "cox_inference"
TOL = 1e-8
LUNG = ["age", "sex", "ph.ecog", "wt.loss"]


@cache
def case(name: str) -> dict:
    return json.loads((FIXTURES / "results.json").read_text())["cases"][name]


@cache
def data(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{name}.csv")


def fit(name: str):
    """The model of fixture case ``name`` (same formula, ties, strata, weights as the R script)."""
    if name in ("lung", "lung_breslow"):
        ties = "breslow" if name == "lung_breslow" else "efron"
        return CoxPH(ties=ties).fit(data("lung"), duration="time", event="status", covariates=LUNG)
    if name == "veteran_strata":
        return CoxPH(ties="breslow").fit(
            data("veteran"),
            duration="time",
            event="status",
            covariates=["trt", "karno", "age"],
            strata="celltype",
        )
    kw = {"weights": "w", "cluster": "id", "strata": "surgery"} if name == "heart_weighted" else {}
    return CoxPH().fit(
        data("heart"),
        duration="stop",
        entry="start",
        event="event",
        covariates=["age", "year", "transplant"],
        **kw,
    )


R_CELLTYPE_LEVELS = ["squamous", "smallcell", "adeno", "large"]  # levels(veteran$celltype)
CASES = ["lung", "lung_breslow", "veteran_strata", "heart_weighted", "heart"]


@pytest.mark.parametrize("name", CASES)
def test_coefficients_and_protocol(name):
    ref, res = case(name), fit(name)
    close_to_r(res.coef, ref["coef"], TOL, "coef")
    close_to_r(res.std_error, ref["se"], 1e-7, "se")
    assert res.nobs == ref["n"] and res.n_events == ref["nevent"]
    assert res.n_missing == ref["n_missing"]
    assert not res.coef.flags.writeable and not res.var.flags.writeable
    assert res.bic == pytest.approx(-2 * res.loglik + np.log(ref["nevent"]) * len(res.coef))
    close_to_r(res.conf_int()["conf_low"], res.tidy()["conf_low"], 1e-12)
    g = res.glance()
    assert g.loc[0, "n_events"] == ref["nevent"] and g.loc[0, "nobs"] == ref["n"]


@pytest.mark.parametrize("name", CASES)
def test_global_tests(name):
    ref, res = case(name)["tests"], fit(name)
    for test, key in (
        (res.likelihood_ratio_test(), "logtest"),
        (res.score_test(), "sctest"),
    ):
        assert isinstance(test, TestResult)
        close_to_r([test.statistic, test.df], ref[key][:2], TOL, key)
        close_to_r(test.p_value, ref[key][2], 1e-12, key)
    wald = res.wald_test()
    # R prints the Wald statistic rounded to 2 decimals in summary()$waldtest
    assert abs(wald.statistic - ref["waldtest"][0]) < 0.005 and wald.df == ref["waldtest"][1]


@pytest.mark.parametrize("name", CASES)
def test_concordance(name):
    ref, c = case(name)["concordance"], fit(name).concordance()
    close_to_r(c.estimate, ref["value"], 1e-12, "C")
    close_to_r(c.std_error, ref["se"], TOL, "se(C)")
    counts = [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy]
    close_to_r(counts, ref["count"], 1e-9, "counts")


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    "kind", ["martingale", "deviance", "score", "schoenfeld", "scaledsch", "dfbeta", "dfbetas"]
)
def test_residuals(name, kind):
    ref, res = case(name), fit(name)
    got = res.residuals(kind)
    expected = np.asarray(ref[kind], dtype=float)
    if isinstance(got, pd.DataFrame):
        if "stratum" in got and name == "veteran_strata":
            # R orders strata by factor level (not alphabetically as the CSV-read column)
            order = pd.Categorical(got["stratum"], R_CELLTYPE_LEVELS, ordered=True)
            got = got.iloc[np.argsort(order.codes, kind="stable")]
        if kind in ("schoenfeld", "scaledsch"):
            close_to_r(got["time"], ref["schoenfeld_time"], 0, "time")
        got = got[list(res.terms)].to_numpy()
        expected = expected.reshape(got.shape[0], -1) if expected.ndim == 1 else expected
    close_to_r(got, expected, TOL, kind)


@pytest.mark.parametrize("name", ["heart_weighted", "heart"])
@pytest.mark.parametrize("kind", ["martingale", "deviance", "dfbeta", "score"])
def test_collapsed_residuals(name, kind):
    ref, res = case(name)["collapsed"], fit(name)
    got = res.residuals(kind, collapse=data("heart")["id"])
    got = got.to_numpy() if isinstance(got, pd.DataFrame) else got
    close_to_r(got, ref[kind], TOL, kind)


def test_missing_raise_and_variance_option():
    with pytest.raises(MissingValuesError, match="wt.loss"):
        CoxPH(missing="raise").fit(data("lung"), duration="time", event="status", covariates=LUNG)
    with pytest.raises(ValueError, match="variance"):
        CoxPH(variance="sandwich")
    with pytest.raises(ValueError, match="variance='model'"):
        CoxPH(variance="model").fit(
            data("heart"),
            duration="stop",
            entry="start",
            event="event",
            covariates=["age"],
            cluster="id",
        )


NEWDATA = {
    "lung": pd.DataFrame({"age": [50, 70], "sex": [1, 2], "ph.ecog": [0, 2], "wt.loss": [0, 10]}),
    "veteran_strata": pd.DataFrame(
        {"trt": [1, 2], "karno": [60, 80], "age": [60, 50], "celltype": ["squamous", "adeno"]}
    ),
    "heart_weighted": pd.DataFrame(
        {"age": [-5, 5], "year": [1, 4], "transplant": [0, 1], "surgery": [0, 1]}
    ),
}
NEWDATA["lung_breslow"] = NEWDATA["lung"]
NEWDATA["heart"] = NEWDATA["heart_weighted"]


@pytest.mark.parametrize("name", CASES)
def test_predicted_survival_se_and_ci(name):
    ref, res = case(name)["surv"], fit(name)
    pred = res.predict_survival(NEWDATA[name], times=ref["times"])
    for col, key in (
        ("estimate", "surv"),
        ("std_error", "std_err"),
        ("conf_low", "lower"),
        ("conf_high", "upper"),
    ):
        got = pred.pivot(index="time", columns="row", values=col).to_numpy()
        close_to_r(got, ref[key], TOL, key)


@pytest.mark.parametrize("name", ["lung", "lung_breslow", "heart"])
@pytest.mark.parametrize("conf_type", ["log-log", "plain"])
def test_predicted_survival_other_intervals(name, conf_type):
    ref = case(name)[f"surv_{conf_type.replace('-', '')}"]
    times = case(name)["surv"]["times"]
    pred = fit(name).predict_survival(NEWDATA[name], times=times, conf_type=conf_type)
    for col, key in (("conf_low", "lower"), ("conf_high", "upper")):
        got = pred.pivot(index="time", columns="row", values=col).to_numpy()
        close_to_r(got, ref[key], TOL, f"{conf_type} {key}")

"""FineGray against R on public data (mgus2 from survival 3.5-3): censoring strata, SE and CI
of predicted cumulative incidences, missing values, the regression-result protocol.

Fixtures: ``tests/r/cox_inference_fixtures.R`` (cases ``fg_mgus2``, ``fg_mgus2_strata``) and
``tests/r/finegray_inference_fixtures.R`` (crr with ``cengroup``, finegray with Breslow ties,
delayed entry, model-based variance, ``conf.type = "plain"``). The CIF reference is
``summary(survfit(coxph(Surv(fgstart, fgstop, fgstatus) ~ ..., weights = fgwt, cluster = id),
newdata), times)``: CIF = 1 - surv, its std.err, and the limits 1 - upper, 1 - lower.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis._base import MissingValuesError
from analysis.competing_risks import FineGray
from tests.analysis.rcheck import close_to_r

R_DIR = Path(__file__).parents[1] / "fixtures" / "r"
TOL = 1e-8
FORMULA = "age + male + hgb"
NEW = pd.DataFrame({"age": [60, 80], "male": [0, 1], "hgb": [13, 11]})


@cache
def cases(folder: str) -> dict:
    return json.loads((R_DIR / folder / "results.json").read_text())["cases"]


@cache
def mgus2() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "finegray_inference" / "mgus2.csv")


def fit(model: FineGray, **kwargs):
    return model.fit(mgus2(), duration="etime", event="event", covariates=FORMULA, **kwargs)


def check_cif(res, ref: dict, conf_type: str = "log") -> None:
    cif = ref["cif"]
    pred = res.predict_cif(NEW, times=cif["times"], conf_type=conf_type)
    wide = {c: pred.pivot(index="time", columns="row", values=c).to_numpy() for c in pred}
    close_to_r(wide["estimate"], 1 - np.array(cif["surv"]), TOL, "CIF")
    close_to_r(wide["std_error"], cif["std_err"], TOL, "CIF std.err")
    low, up = ("lower", "upper") if conf_type == "log" else ("plain_lower", "plain_upper")
    close_to_r(wide["conf_low"], 1 - np.array(cif[up]), TOL, "CIF lower limit")
    close_to_r(wide["conf_high"], 1 - np.array(cif[low]), TOL, "CIF upper limit")


FINEGRAY_CASES = [
    ("cox_inference", "fg_mgus2", FineGray(1, ties="efron"), {}),
    ("cox_inference", "fg_mgus2_strata", FineGray(1, ties="efron"), {"strata": "sex"}),
    ("finegray_inference", "fg_breslow", FineGray(1, reference="finegray"), {"id": "id"}),
    ("finegray_inference", "fg_efron_model", FineGray(1, "efron", variance="model"), {}),
    (
        "finegray_inference",
        "fg_strata_sex_breslow",
        FineGray(1, reference="finegray"),
        {"strata": "sex"},
    ),
    ("finegray_inference", "fg_strata_agegrp_efron", FineGray(1, "efron"), {"strata": ["agegrp"]}),
    (
        "finegray_inference",
        "fg_entry_strata_sex_efron",
        FineGray(1, "efron"),
        {"strata": "sex", "entry": "entry"},
    ),
]


@pytest.mark.parametrize(("folder", "name", "model", "kwargs"), FINEGRAY_CASES)
def test_finegray_coxph_and_cif_match_r(folder, name, model, kwargs):
    ref = cases(folder)[name]
    res = fit(model, **kwargs)
    assert res.reference == "survival::finegray + coxph"
    assert res.n_missing == 13 and res.nobs == len(mgus2()) - 13  # 13 rows without hgb
    close_to_r(res.coef, ref["coef"], TOL, "coef")
    close_to_r(res.std_error, ref["se"], TOL, "se")
    if ref.get("naive_se") is not None:
        close_to_r(np.sqrt(np.diag(res.naive_var)), ref["naive_se"], TOL, "naive se")
    close_to_r([res.loglik_null, res.loglik], ref["loglik"], 1e-8, "loglik")
    check_cif(res, ref)
    if "plain_lower" in ref["cif"]:
        check_cif(res, ref, "plain")


@pytest.mark.parametrize(
    ("name", "strata"),
    [("crr", None), ("crr_cengroup_sex", "sex"), ("crr_cengroup_agegrp", "agegrp")],
)
def test_crr_with_censoring_groups_matches_r(name, strata):
    ref = cases("finegray_inference")[name]
    res = fit(FineGray(1), strata=strata)
    assert res.reference == "cmprsk::crr"
    close_to_r(res.coef, ref["coef"], 1e-7, "coef")  # crr stops at gtol = 1e-6
    close_to_r([res.loglik_null, res.loglik], [ref["loglik_null"], ref["loglik"]], 1e-8)
    assert res.variance == "crr"  # with censoring groups: crr's cengroup variance
    close_to_r(res.std_error, ref["se"], 1e-8, "se")
    if strata is not None:
        assert res.censoring_strata is not None and len(res.censoring_strata) == 2


def test_strata_change_the_fit_and_censoring_strata_without_events_are_refused():
    plain, strat = fit(FineGray(1, "efron")), fit(FineGray(1, "efron"), strata="sex")
    assert np.abs(plain.coef - strat.coef).max() > 1e-3
    assert strat.censoring_strata == ("F", "M")
    data = mgus2().assign(s=lambda d: d["sex"])
    data.loc[data.index[:3], "s"] = "lonely"  # three rows, none an exit of the cause
    data.loc[data.index[:3], "event"] = 2
    with pytest.raises(ValueError, match="stratum 'lonely' has no exit of the cause"):
        FineGray(1, "efron").fit(
            data, duration="etime", event="event", covariates=FORMULA, strata="s"
        )


def test_missing_policy_and_result_protocol():
    data = mgus2()
    with pytest.raises(MissingValuesError, match="hgb"):
        FineGray(1, missing="raise").fit(data, duration="etime", event="event", covariates=FORMULA)
    holes = data.assign(sex=data["sex"].where(data.index != 0))  # strata column missing
    res = FineGray(1, "efron").fit(
        holes, duration="etime", event="event", covariates=FORMULA, strata="sex"
    )
    assert not np.isnan(data["hgb"].iloc[0])
    assert res.n_missing == 14 and res.nobs == len(data) - 14
    ref = cases("cox_inference")["fg_mgus2"]
    res = fit(FineGray(1, "efron"))
    assert list(res.params.index) == ["age", "male", "hgb"]
    close_to_r(res.params, ref["coef"], TOL)
    close_to_r(np.sqrt(np.diag(res.cov_params())), ref["se"], TOL)
    ci = res.conf_int()
    close_to_r(ci["conf_low"], np.array(ref["coef"]) - 1.959963984540054 * np.array(ref["se"]), TOL)
    g = res.glance().iloc[0]
    assert g["nobs"] == res.nobs and g["n_missing"] == 13 and g["df_model"] == 3
    # R: AIC(fit) = -2 loglik + 2 df; BIC uses the number of events (BIC.coxph)
    close_to_r(g["aic"], -2 * ref["loglik"][1] + 6, 1e-8)
    close_to_r(g["bic"], -2 * ref["loglik"][1] + 3 * np.log(res.n_events), 1e-8)
    for arr in (res.coef, res.var, res.event_time, res.baseline_hazard):
        assert not arr.flags.writeable
    assert "censoring strata" not in res.summary() and "dropped (missing) = 13" in res.summary()

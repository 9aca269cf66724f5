"""Smoothed beta(t) curves of the proportional-hazards test vs R survival 3.5-3
``plot(cox.zph(fit))``: natural spline (df 4) through the scaled Schoenfeld residuals on 40 points
of transformed time, with the +-2 SE band. Fixtures from tests/r/cox_zph_plot_fixtures.R (R's own
``ns``/``qr`` in plot.cox.zph's code) on lung and veteran, four transforms, strata and a factor
term."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cox import CoxPH
from tests.analysis.rcheck import close_to_r

FIX = Path(__file__).parents[1] / "fixtures" / "r" / "cox_zph_plot"
CURVES = pd.read_csv(FIX / "curves.csv")
COEF = pd.read_csv(FIX / "coef.csv")

CASES = {
    "lung_km": ("lung", dict(duration="time", event="event", covariates=["age", "sex", "ph.ecog"])),
    "lung_log_strata": (
        "lung",
        dict(duration="time", event="event", covariates=["age", "ph.ecog"], strata="sex"),
    ),
    "veteran_identity_strata": (
        "veteran",
        dict(duration="time", event="status", covariates=["trt", "karno", "age"], strata="prior"),
    ),
    "veteran_rank_factor": (
        "veteran",
        dict(duration="time", event="status", covariates="karno + C(celltype)"),
    ),
}


CELLTYPE = ["squamous", "smallcell", "adeno", "large"]  # levels(veteran$celltype), R's order


def fit(case: str):
    data, kw = CASES[case]
    df = pd.read_csv(FIX / f"{data}.csv")
    if data == "veteran":
        df["celltype"] = pd.Categorical(df["celltype"], categories=CELLTYPE)
    return CoxPH().fit(df, **kw)


@pytest.mark.parametrize("case", list(CASES))
def test_coefficient_curves_match_plot_cox_zph(case):
    ref = CURVES[CURVES["case"] == case].reset_index(drop=True)
    res = fit(case)
    close_to_r(res.coef, COEF.loc[COEF["case"] == case, "coef"], 1e-8, "coef")
    got = res.proportional_hazards_test(transform=ref["transform"].iloc[0]).coefficient_curves()
    assert got["term"].str.replace("C(celltype)", "celltype").tolist() == ref["term"].tolist()
    fitted = got.groupby("term", sort=False)["fitted"].first().to_numpy()
    if case == "veteran_rank_factor":  # a factor term's curve is in multiples of its coefficients
        np.testing.assert_array_equal(fitted, [res.coef[0], 1.0])
    else:
        np.testing.assert_array_equal(fitted, res.coef)
    for col in ("transformed_time", "time", "estimate", "std_error", "conf_low", "conf_high"):
        close_to_r(got[col], ref[col], 1e-8, col)


def test_band_is_two_standard_errors_and_curve_smooths_residuals():
    """Checks independent of R: other df and grid sizes keep the band at +-2 SE, and constant
    residuals (a constant beta(t)) give a flat curve at that constant (the basis has an intercept)."""
    res = fit("lung_km")
    got = res.proportional_hazards_test().coefficient_curves(df=6, n_points=15)
    assert len(got) == 3 * 15
    np.testing.assert_allclose(got["conf_high"] - got["estimate"], 2 * got["std_error"])
    np.testing.assert_allclose(got["estimate"] - got["conf_low"], 2 * got["std_error"])
    test = res.proportional_hazards_test()
    flat = test.residuals.assign(age=0.25, sex=0.25, **{"ph.ecog": 0.25})
    curves = type(test)(test.table, flat, test.transform, test.variance).coefficient_curves()
    assert curves["fitted"].isna().all()
    np.testing.assert_allclose(curves["estimate"], 0.25, atol=1e-12)

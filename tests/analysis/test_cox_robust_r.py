"""Cox robust score test and Wald test vs R survival 3.5-3 (``fit$rscore``, ``fit$wald.test``);
fixtures from tests/r/cox_robust_fixtures.R."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cox import CoxPH

FIX = Path(__file__).parents[1] / "fixtures" / "r" / "cox_robust"
REF = pd.read_csv(FIX / "tests.csv")
LUNG = ["age", "sex", "ph.ecog"]


def fit(case: str):
    """The model of fixture case ``case`` (same formula, weights and cluster as the R script)."""
    if case.startswith("heart"):
        heart = pd.read_csv(FIX / "heart.csv")
        return CoxPH().fit(
            heart,
            duration="stop",
            entry="start",
            event="event",
            covariates=["age", "year", "surgery", "transplant"],
            cluster="id",
        )
    lung = pd.read_csv(FIX / "lung.csv")
    kw = {
        "lung_cluster_inst": ({}, {"cluster": "inst"}),
        "lung_robust": ({"variance": "robust"}, {}),
        "lung_weighted": ({"variance": "robust"}, {"weights": "w"}),
        "lung_model": ({}, {}),
    }[case]
    return CoxPH(**kw[0]).fit(lung, duration="time", event="event", covariates=LUNG, **kw[1])


@pytest.mark.parametrize("row", REF.to_dict("records"), ids=lambda r: f"{r['case']}-{r['test']}")
def test_tests_match_r(row):
    res = fit(row["case"])
    test = {"wald": res.wald_test, "score": res.score_test, "robust_score": res.robust_score_test}
    got = test[row["test"]]()
    assert got.df == row["df"]
    np.testing.assert_allclose(got.statistic, row["statistic"], rtol=1e-8)
    np.testing.assert_allclose(got.p_value, row["p_value"], rtol=1e-7)

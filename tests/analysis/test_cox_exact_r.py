"""Cox regression with exact ties vs R survival 3.5-3 ``coxph(ties="exact")`` (coxexact.fit
and, for start-stop rows, agexact.fit); fixtures from tests/r/cox_exact_fixtures.R on lung,
veteran and heart. Also a brute-force check of the likelihood (all subsets enumerated) and the
refusals that mirror R."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import _coxengine
from analysis.cox import CoxPH
from tests.analysis.rcheck import close_to_r

FIX = Path(__file__).parents[1] / "fixtures" / "r" / "cox_exact"
COEF = pd.read_csv(FIX / "coef.csv")
FIT = pd.read_csv(FIX / "fit.csv").set_index("case")

CASES = {
    "lung_days": (
        "lung",
        dict(duration="time", event="event", covariates=["age", "sex", "ph.ecog"]),
    ),
    "lung_months": (
        "lung",
        dict(duration="months", event="event", covariates=["age", "ph.ecog"], strata="sex"),
    ),
    "veteran": (
        "veteran",
        dict(duration="time", event="status", covariates=["trt", "karno", "age", "prior"]),
    ),
    "heart": (
        "heart",
        dict(
            duration="stop",
            entry="start",
            event="event",
            covariates=["age", "year", "surgery", "transplant"],
        ),
    ),
    "heart_strata": (
        "heart",
        dict(
            duration="stop",
            entry="start",
            event="event",
            covariates=["age", "year", "transplant"],
            strata="surgery",
        ),
    ),
}


def fit(case: str):
    data, kw = CASES[case]
    return CoxPH(ties="exact").fit(pd.read_csv(FIX / f"{data}.csv"), **kw)


@pytest.mark.parametrize("case", list(CASES))
def test_exact_ties_match_r(case):
    res = fit(case)
    ref = COEF[COEF["case"] == case]
    assert list(res.terms) == ref["term"].str.replace("transplant1", "transplant").tolist()
    close_to_r(res.coef, ref["coef"], 1e-8, "coef")
    close_to_r(res.std_error, ref["se"], 1e-8, "se")
    row = FIT.loc[case]
    close_to_r(res.loglik, row["loglik"], 1e-8, "loglik")
    close_to_r(res.loglik_null, row["loglik_null"], 1e-8, "loglik_null")
    close_to_r(res.score_test().statistic, row["score"], 1e-7, "score test")
    assert (res.nobs, res.n_events) == (row["n"], row["nevent"])
    assert res.variance == "model"
    assert "exact ties" in res.summary()


def test_exact_differs_from_efron_on_heavy_ties():
    """The fixture really exercises ties: efron and exact differ by far more than the tolerance."""
    data, kw = CASES["lung_months"]
    efron = CoxPH().fit(pd.read_csv(FIX / f"{data}.csv"), **kw)
    assert np.max(np.abs(efron.coef - fit("lung_months").coef)) > 1e-4


def test_martingale_residuals_and_baseline_hazard_match_r():
    """R's residuals and basehaz of an exact fit use the Breslow hazard at the exact estimate."""
    res = fit("lung_months")
    close_to_r(res.residuals("martingale"), pd.read_csv(FIX / "martingale.csv")["martingale"], 1e-8)
    ref = pd.read_csv(FIX / "basehaz.csv")
    ref["stratum"] = ref["stratum"].str.replace("sex=", "")
    ours = res.baseline_cumulative_hazard()  # event times only; R also lists censoring times
    both = ours.merge(ref, on=["stratum", "time"], how="left")
    assert len(both) == res._problem.idx.n_groups
    close_to_r(both["cumulative_hazard"], both["hazard"], 1e-8)


def test_loglik_equals_enumeration_of_all_subsets():
    """Hand check: the denominator summed over every size-d subset of the risk set, with start-stop
    rows and strata."""
    rng = np.random.default_rng(3)
    n = 36
    df = pd.DataFrame(
        {
            "start": rng.integers(0, 2, n).astype(float),
            "stop": rng.integers(2, 6, n).astype(float),
            "e": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "s": rng.integers(0, 2, n),
        }
    )
    beta = np.array([0.7])
    index = _coxengine.build_index(df["stop"], df["e"], df["start"], df["s"])
    x = df[["x"]].to_numpy()
    prob = _coxengine.ExactCoxProblem(index, x - x.mean())
    eta = df["x"].to_numpy() * beta[0]
    total = 0.0
    for (s, t), grp in df[df["e"] == 1].groupby(["s", "stop"]):
        at_risk = np.flatnonzero((df["s"] == s) & (df["start"] < t) & (df["stop"] >= t))
        den = sum(np.exp(eta[list(c)].sum()) for c in itertools.combinations(at_risk, len(grp)))
        total += eta[grp.index].sum() - np.log(den)
    # the engine centres x; the log-likelihood is invariant to centring within risk sets
    assert prob.moments(beta).loglik == pytest.approx(total, abs=1e-10)


def test_refusals_mirror_r():
    data, kw = CASES["lung_days"]
    lung = pd.read_csv(FIX / f"{data}.csv").assign(w=2.5, one=1.0, id=np.arange(227) // 2)
    with pytest.raises(ValueError, match="case weights"):
        CoxPH(ties="exact").fit(lung, weights="w", **kw)
    CoxPH(ties="exact").fit(lung, weights="one", **kw)  # all-1 weights are allowed, as in R
    with pytest.raises(ValueError, match="robust variance"):
        CoxPH(ties="exact").fit(lung, cluster="id", **kw)
    with pytest.raises(ValueError, match="robust variance"):
        CoxPH(ties="exact", variance="robust").fit(lung, **kw)
    res = fit("lung_days")
    for kind in ("score", "schoenfeld", "dfbeta"):
        with pytest.raises(ValueError, match="not available for ties='exact'"):
            res.residuals(kind)


def test_too_large_tied_group_raises_naming_time_and_size():
    n = 8000
    df = pd.DataFrame({"t": np.r_[np.full(4000, 7.0), np.full(n - 4000, 9.0)]})
    df["e"] = (np.arange(n) < 4000).astype(int)
    df["x"] = np.random.default_rng(0).normal(size=n)
    with pytest.raises(ValueError, match=r"tied event time 7 .*4000 events among 8000 rows"):
        CoxPH(ties="exact").fit(df, duration="t", event="e", covariates=["x"])

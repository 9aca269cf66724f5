"""Transitions against R (fixtures from ``tests/r/transitions_fixtures.R``; CI has no R).

* State occupation from KH: person-months -> :func:`analysis.transitions.sojourns` ->
  :func:`analysis.transitions.sequences.occupation_curves` against ``survival::survfit``
  multi-state (R builds the sojourn intervals itself from the same month rows), on the seniority
  scale with delayed entry and on months since entry, whole cohort and one seniority group.
* Multinomial logit against ``nnet::multinom`` (coefficients, model-based SEs, log-likelihood).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.transitions import MultinomialLogit, sojourns
from analysis.transitions.sequences import occupation_curves

FIX = Path(__file__).parents[1] / "fixtures" / "r" / "transitions"
STATES = ["kh", "job", "fp", "rf", "fj", "edu", "self_support", "other_benefit",
          "dead_or_emigrated"]  # fmt: skip


@pytest.fixture(scope="module")
def months() -> pd.DataFrame:
    m = pd.read_csv(FIX / "months.csv", dtype={"id": str})
    return m.rename(columns={"id": "person_id"})


@pytest.fixture(scope="module")
def survfit_ref() -> pd.DataFrame:
    return pd.read_csv(FIX / "occupation_survfit.csv")


@pytest.mark.parametrize("scale", ["seniority", "entry"])
@pytest.mark.parametrize("group", ["all", "lt1"])
def test_state_occupation_matches_survfit(months, survfit_ref, scale, group):
    soj = sojourns(months, time_scale=scale, group="group")
    curves = occupation_curves(soj, "group", STATES)
    got = curves[group].tidy()
    ref = survfit_ref[(survfit_ref["group"] == group) & (survfit_ref["time_scale"] == scale)]
    # survfit also lists times with only entries/censorings: compare the step functions at
    # every survfit time (Python's value = its last step at or before that time)
    assert set(got["time"]) <= set(ref["time"]) | {0.0}
    for state in STATES:
        r = ref[ref["state"] == state].astype({"time": float}).sort_values("time")
        g = got[got["state"] == state].sort_values("time")
        m = pd.merge_asof(r, g, on="time", suffixes=("_r", ""))
        assert m["estimate"].notna().all()
        np.testing.assert_allclose(m["estimate"], m["estimate_r"], atol=1e-6, rtol=0)
        np.testing.assert_allclose(m["std_error"], m["std_error_r"], atol=1e-6, rtol=0)
    # persons under observation (all states together) at the event times
    nr = got[got["time"] > 0].groupby("time")["n_risk"].sum()
    rr = ref.drop_duplicates("time").set_index("time")["n_risk"]
    np.testing.assert_array_equal(nr.to_numpy(), rr.reindex(nr.index).to_numpy())


def test_occupation_sums_to_one(months):
    soj = sojourns(months, time_scale="entry")
    t = occupation_curves(soj, None, STATES)["all"].tidy()
    np.testing.assert_allclose(t.groupby("time")["estimate"].sum(), 1.0, atol=1e-12)


def test_multinomial_logit_matches_nnet():
    d = pd.read_csv(FIX / "mn.csv")
    ref = pd.read_csv(FIX / "multinom_nnet.csv")
    fit = MultinomialLogit(variance="model", tol=1e-12).fit(
        d, "y", "x1 + x2 + g", outcomes=["stay", "a", "b", "c"]
    )
    t = fit.tidy()
    t["term"] = t["term"].str.replace(r"^g\[(\w)\]$", r"g\1", regex=True)
    m = ref.merge(t, on=["destination", "term"], suffixes=("_r", ""), validate="one_to_one")
    assert len(m) == len(ref) == 15
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], atol=1e-5)
    np.testing.assert_allclose(m["std_error"], m["std_error_r"], rtol=1e-4)
    assert fit.loglik == pytest.approx(ref["loglik"].iloc[0], abs=1e-6)

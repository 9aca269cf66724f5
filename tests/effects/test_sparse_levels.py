"""The effect estimators' covariate guard (issue 23): a confounder level with 0-2 events, an
aliased confounder and a sparse category do not break the Cox fit; rows at a level without events
are left out (the limit of the fit, whose coefficient of that level is minus infinity), what was
changed is reported, and the exposure estimate is R survival's ``coxph`` of the reported model
(breslow ties, robust SE clustered on persons)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from analysis.effects.estimators import ExposureEffect, guard_covariates
from tests.effects.test_estimators import simulate


@pytest.fixture(scope="module")
def sparse_frame() -> pd.DataFrame:
    """The confounded frame of test_estimators plus ``rare`` (True on rows of 40 persons who
    never exit to a job: 0 events at True), ``rare2`` (True on 2 event rows and 30 others:
    2 events), ``z_copy`` (= ``z``: aliased) and ``grp`` (a/b by person, level c on rows with
    one job exit)."""
    f = simulate(3000, seed=5, confounded=True, months=24)
    rng = np.random.default_rng(1)
    no_job = f.groupby("person_id")["event"].transform("max").eq(0)
    ids = rng.choice(f.loc[no_job, "person_id"].unique(), 40, replace=False)
    f["rare"] = f["person_id"].isin(ids)
    ev = np.flatnonzero(f["event"].to_numpy() == 1)
    non = np.flatnonzero(f["event"].to_numpy() == 0)
    f["rare2"] = False
    f.loc[np.r_[ev[:2], non[:30]], "rare2"] = True
    f["z_copy"] = f["z"].astype(float)
    f["grp"] = np.where(f["person_id"].astype(int) % 2 == 0, "a", "b")
    f.loc[np.r_[ev[5:6], non[100:150]], "grp"] = "c"
    f["_event"] = f["event"]
    return f


def test_sparse_levels_and_aliases_are_handled_and_reported(sparse_frame):
    covs = ["x", "z", "poor", "rare", "rare2", "z_copy", "grp"]
    out, kept, notes = guard_covariates(sparse_frame, covs, event="_event", keep="x")
    n_rare = int(sparse_frame["rare"].sum())
    assert n_rare > 40
    # rare: its True rows go (then it is constant); rare2 and grp keep finite estimates
    assert kept == ["x", "z", "poor", "rare2", "grp"]
    assert notes == (
        f"rare: {n_rare} rows at True left out (0 events)",
        "rare2: 2 events at True",
        "grp: 1 events at c",
        "z_copy: aliased",
    )
    assert len(out) == len(sparse_frame) - n_rare and not out["rare"].any()
    with pytest.raises(ValueError, match="exposure"):
        guard_covariates(sparse_frame.assign(x=sparse_frame["z_copy"]), ["z", "x"],
                         event="_event", keep="x")  # fmt: skip


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R with survival")
def test_guarded_fit_equals_r_coxph_of_the_reported_model(sparse_frame, tmp_path):
    res = ExposureEffect("adjusted").fit(
        sparse_frame.drop(columns="_event"),
        exposure="x",
        cause=1,
        confounders=["z", "poor", "rare", "rare2", "z_copy", "grp"],
    )
    assert len(res.design_notes) == 4 and res.n_persons == 3000 - 40
    assert "covariates changed" in res.summary()
    f, kept, _ = guard_covariates(
        sparse_frame, ["x", "z", "poor", "rare", "rare2", "z_copy", "grp"], event="_event", keep="x"
    )
    csv = tmp_path / "d.csv"
    f[["person_id", "tstart", "tstop", "_event", *kept]].to_csv(csv, index=False)
    script = (
        "suppressMessages(library(survival)); d <- read.csv(commandArgs(TRUE)[1]);"
        f"m <- coxph(Surv(tstart, tstop, X_event) ~ {' + '.join(kept)}, data = d,"
        " ties = 'breslow', cluster = person_id);"
        "cat(sprintf('[%.10f, %.10f]', coef(m)[['x']], sqrt(vcov(m)['x', 'x'])))"
    )
    r = subprocess.run(["Rscript", "-e", script, str(csv)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    coef, se = json.loads(r.stdout)
    assert res.log_hr == pytest.approx(coef, abs=1e-6)
    assert res.std_error == pytest.approx(se, rel=1e-4)


def test_two_levels_without_events_in_one_covariate(sparse_frame):
    non = np.flatnonzero(sparse_frame["_event"].to_numpy() == 0)
    f = sparse_frame.assign(grp3="a")
    f.iloc[non[:20], f.columns.get_loc("grp3")] = "d"
    f.iloc[non[20:50], f.columns.get_loc("grp3")] = "e"
    out, kept, notes = guard_covariates(f, ["x", "grp3"], event="_event", keep="x")
    assert notes == (
        "grp3: 20 rows at d left out (0 events)",
        "grp3: 30 rows at e left out (0 events)",
    )
    assert len(out) == len(f) - 50 and kept == ["x"]

"""The transitions stage end to end on a tiny synthetic register: the catalog's files and
columns, disclosure audit, and internal consistency of what is published."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.audit import audit
from pipelines.config import StarConfig
from pipelines.report.catalog import CATALOG


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory):
    from pipelines.derive.build import build_all
    from pipelines.synthetic import generate
    from pipelines.transitions import run_transitions

    root = tmp_path_factory.mktemp("transitions_stage")
    generate("tiny", seed=5, out_dir=root / "raw", statistics=False)
    build_all(root / "raw", root / "derived", StarConfig())
    cfg = StarConfig.model_validate(
        {
            "transitions": {
                "n_bootstrap": 20,
                "n_simulations": 2,
                "pathway_half_years": 4,
                "simulation_summary": None,
            }
        }  # fmt: skip
    )
    calls = []
    paths = run_transitions(
        root / "raw", root / "derived", root / "results", cfg,
        progress=lambda s, d, n: calls.append((s, d, n)),
    )  # fmt: skip
    persons = pd.read_parquet(root / "raw" / "persons.parquet")
    return root / "results" / "transitions", paths, calls, cfg, set(persons["person_id"])


def test_catalog_files_and_columns(stage_run):
    out, paths, calls, _, _ = stage_run
    assert all(p.exists() and p.parent == out for p in paths)
    specs = {k: v for k, v in CATALOG.items() if v.path.startswith("transitions/")}
    for key, spec in specs.items():
        f = out.parent / spec.path
        if key == "transitions_simulation":
            assert not f.exists()  # no summary configured
            continue
        assert f.exists(), spec.path
        cols = pd.read_csv(f, nrows=0).columns
        assert set(spec.columns) <= set(cols), (spec.path, set(spec.columns) - set(cols))
    assert (out / "recovery.csv").exists()  # synthetic register: ground truth present
    assert calls[0][0] == "frames" and calls[-1][1] == calls[-1][2] - 1


def test_published_tables_pass_the_audit(stage_run):
    out, _, _, cfg, ids = stage_run
    violations = audit([out], cfg.disclosure.threshold, ids)
    assert violations == [], [str(v) for v in violations[:5]]


def test_state_distribution_partitions_and_calibration_is_close(stage_run):
    out = stage_run[0]
    dist = pd.read_csv(out / "state_distribution.csv")
    allg = dist[dist["group"] == "all"]
    # each half-year's states partition the cohort (shares sum to one where nothing is hidden)
    for _, g in allg.groupby("half_year"):
        if g["share"].notna().all():
            assert g["share"].sum() == pytest.approx(1.0)
        assert g["n"].nunique() == 1
    cal = pd.read_csv(out / "calibration.csv")
    assert set(cal["half_year"]) == {1, 2, 3, 4}
    # a tiny cohort (about 400) and two simulated paths each: a loose check only
    assert np.nanmax(np.abs(cal["difference"])) < 0.06


def test_pathways_and_markov_table(stage_run):
    out = stage_run[0]
    pw = pd.read_csv(out / "predicted_pathways.csv")
    sums = pw.groupby(["profile_id", "half_year"])["probability"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    assert set(pw["half_year"]) == {1, 2, 3, 4}
    assert (pw["conf_low"] <= pw["probability"] + 1e-12).all()
    mk = pd.read_csv(out / "markov_comparison.csv").set_index("model")
    assert list(mk.index)[:2] == ["markov", "markov_seniority"]
    # nested models: adding terms never lowers the maximised log-likelihood (ridge aside)
    assert mk.loc["markov_seniority", "loglik"] > mk.loc["markov", "loglik"]
    assert mk.loc["full", "n_parameters"] > mk.loc["markov", "n_parameters"]
    occ = pd.read_csv(out / "state_occupation.csv")
    tot = occ.groupby(["group", "time"])["estimate"].sum()
    np.testing.assert_allclose(tot, 1.0, atol=1e-9)
    assert (occ["n_risk"] >= 5).all()

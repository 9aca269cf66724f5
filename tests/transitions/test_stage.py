"""The transitions stage end to end on a tiny synthetic register: the catalog's files and
columns, disclosure audit, and internal consistency of what is published; the recovery study
(pipelines.recovery) against the generator's parameters read from parameters.json."""

from __future__ import annotations

import json

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
        root / "derived", root / "results", cfg, progress=lambda s, d, n: calls.append((s, d, n))
    )
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
    assert not (out / "recovery.csv").exists()  # the production stage does not read the truth
    assert calls[0][0] == "frames" and calls[-1][1] == calls[-1][2] - 1


def test_recovery_table_against_the_generators_parameters(stage_run, tmp_path):
    from pipelines.recovery import recovery_transitions

    out, _, _, cfg, ids = stage_run
    truth = out.parent.parent / "raw" / "ground_truth"
    (path,) = recovery_transitions(out.parent.parent / "derived", truth, tmp_path, cfg)
    rec = pd.read_csv(path)
    tr = json.loads((truth / "parameters.json").read_text())["transitions"]
    expected = [tr.get(o, {}).get(d, {}).get(t, 0.0)
                for o, d, t in zip(rec["origin"], rec["destination"], rec["term"], strict=True)]  # fmt: skip
    assert rec["truth"].to_numpy() == pytest.approx(np.asarray(expected, float))
    assert rec["term"].str.startswith("sg_").any()  # fitted with the true subgroup
    inside = (rec["conf_low"] <= rec["truth"]) & (rec["truth"] <= rec["conf_high"])
    assert (rec["covered"] == inside).all()
    assert not audit([tmp_path], cfg.disclosure.threshold)


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

"""The effects stage on a tiny synthetic register (catalog files and columns, disclosure audit,
no truth in the published estimates, R17 input), its recovery table (the synthetic truth joined by
pipelines.recovery), and the departure-change rule by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.effects.data import departure_changes
from pipelines.audit import audit
from pipelines.config import StarConfig
from pipelines.report.catalog import CATALOG


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory):
    from pipelines.derive.build import build_all
    from pipelines.effects import run_effects
    from pipelines.synthetic import generate

    root = tmp_path_factory.mktemp("effects_stage")
    generate("tiny", seed=5, out_dir=root / "raw", statistics=False)
    build_all(root / "raw", root / "derived", StarConfig())
    cfg = StarConfig.model_validate(
        {"effects": {"n_draws": 30, "max_persons": 300, "simulation_summary": None}}
    )
    calls = []
    paths = run_effects(
        root / "raw",
        root / "derived",
        root / "results" / "effects",
        cfg,
        progress=lambda s, d, n: calls.append((s, d, n)),
    )
    persons = pd.read_parquet(root / "raw" / "persons.parquet")
    return root / "results" / "effects", paths, calls, cfg, set(persons["person_id"])


def test_catalog_files_and_columns(stage_run):
    out, paths, calls, _, _ = stage_run
    assert all(p.exists() and p.parent == out for p in paths)
    for key, spec in CATALOG.items():
        if not spec.path.startswith("effects/"):  # recovery/effects/: test_recovery_table
            continue
        f = out.parent / spec.path
        if key == "effects_simulation":
            assert not f.exists()  # no summary configured
            continue
        assert f.exists(), spec.path
        cols = pd.read_csv(f, nrows=0).columns
        assert set(spec.columns) <= set(cols), (spec.path, set(spec.columns) - set(cols))
    assert [c[0] for c in calls] == ["frame", "estimates", "scenarios", "tables"]


def test_estimates_table(stage_run):
    out, *_ = stage_run
    e = pd.read_csv(out / "estimates.csv")
    assert set(e["exposure"]) == {"caseworker_change_12m", "conversations_3m"}
    assert {"naive", "adjusted", "msm_iptw", "departure_iv"} <= set(e["estimator"])
    assert "truth" not in e.columns  # the production stage does not read the ground truth
    ok = e.dropna(subset=["estimate"])
    assert ((ok["conf_low"] <= ok["estimate"]) & (ok["estimate"] <= ok["conf_high"])).all()
    assert (ok["n_events"] >= 5).all()
    s = pd.read_csv(out / "scenarios.csv").set_index("scenario")
    assert {"halve_changes", "min_4_conversations"} <= set(s.index)
    # the saving is the person-years saved at the configured cost
    cost = StarConfig().effects.cost_per_person_year_dkk
    assert s["saving_dkk"].to_numpy() == pytest.approx(s["person_years_saved"].to_numpy() * cost)


def test_recovery_table_joins_the_generators_true_effects(stage_run, tmp_path):
    """recovery/effects/estimates.csv = the published estimates + the true hazard ratio read here
    straight from parameters.json, + whether the interval covers it."""
    from pipelines.recovery import recovery_effects

    out, _, _, cfg, _ = stage_run
    truth = out.parent.parent / "raw" / "ground_truth"
    paths = recovery_effects(out, truth, tmp_path / "recovery" / "effects", cfg)
    assert [p.name for p in paths] == ["estimates.csv", "estimates_by_group.csv"]
    rec = pd.read_csv(paths[0])
    pub = pd.read_csv(out / "estimates.csv")
    pd.testing.assert_frame_equal(rec[pub.columns], pub)
    true = json.loads((truth / "parameters.json").read_text())["true_effects"]
    key = {"caseworker_change_12m": "cw_changes_12m", "conversations_3m": "conv_3m"}
    for r in rec.itertuples():
        expected = true[key[r.exposure]].get(f"kh->{r.outcome}", {}).get("hazard_ratio_approx")
        assert (pd.isna(r.truth) and expected is None) or r.truth == pytest.approx(expected)
    job = rec[(rec["outcome"] == "job") & (rec["exposure"] == "caseworker_change_12m")]
    assert (job["truth"] == 0.78).all()  # the generator's parameter, per change
    ok = rec.dropna(subset=["estimate"])
    inside = (ok["conf_low"] <= ok["truth"]) & (ok["truth"] <= ok["conf_high"])
    assert (ok["covered"].astype(bool) == inside).all()
    problems = audit([tmp_path], cfg.disclosure.threshold)
    assert not problems, problems


def test_published_tables_pass_the_audit(stage_run):
    out, _, _, cfg, ids = stage_run
    for f in out.glob("*.csv"):
        text = f.read_text()
        assert not any(i in text for i in ids), f.name
    problems = audit([out.parent], cfg.disclosure.threshold)
    assert not problems, problems


def test_departure_changes_by_hand():
    a = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4"],
            "caseworker_id": ["W1", "W2", "W1", "W3", "W4", "W5", "W4", "W4"],
            "start_date": pd.to_datetime(
                [
                    "2019-01-01",
                    "2019-06-01",
                    "2019-02-01",
                    "2019-06-01",
                    "2019-01-01",
                    "2019-03-01",
                    "2019-01-01",
                    "2019-03-01",
                ]
            ),  # fmt: skip
            "end_date": pd.to_datetime(
                ["2019-05-31", None, "2019-05-31", None, "2019-02-28", None, "2019-02-28", None]
            ),
        }
    )
    ch = departure_changes(a).set_index("person_id")
    # W1 has no client after 31 May and both of its clients moved on 1 June: departures
    assert ch.loc["p1", "departure"] and ch.loc["p2", "departure"]
    # W4 keeps p4 after p3 moves: an ordinary change; p4 stays with W4 (no change at all)
    assert not ch.loc["p3", "departure"]
    assert "p4" not in ch.index

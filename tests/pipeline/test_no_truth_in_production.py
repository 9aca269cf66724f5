"""Issue 24: the production stages do not read a synthetic register's ground truth.

- statically: no production stage module names the truth's files or sections, and no production
  stage declares ``ground_truth/`` (or anything in it) as an input;
- by running: on the same tiny register with and without ``ground_truth/`` the production stages
  write byte-identical outputs, the run without it writes no ``results/recovery``, and the run
  with it writes the recovery tables, whose ``truth`` columns are the values of
  ``parameters.json`` (read here directly).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.audit import audit
from pipelines.config import StarConfig
from pipelines.run import RunContext, run_pipeline
from pipelines.stages import analysis_stages, recovery_stages, register_stages, run_stages

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = [
    *(f"pipelines/{m}.py" for m in ("transitions", "subgroups", "effects", "benchmarking")),
    *(f"pipelines/{m}.py" for m in ("survival", "reproduction", "ingest")),
    *(
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "pipelines" / "derive").glob("*.py"))
        # the spell validation of `star validate-spells` (no stage calls it) compares with the
        # synthetic register's true spells by design
        if p.name != "validation.py"
    ),
]
TRUTH_WORDS = re.compile(
    r"ground_truth|parameters\.json|true_subgroups|true_effects|true_spells|true_monthly_states"
    r"|municipality_effects|load_truth|pipelines\.recovery|from pipelines import recovery"
)


@pytest.mark.parametrize("module", PRODUCTION)
def test_production_modules_do_not_refer_to_the_truth(module):
    text = (ROOT / module).read_text(encoding="utf-8")
    hits = [m.group(0) for m in TRUTH_WORDS.finditer(text)]
    # a docstring may point to where the recovery study is; no code may read the truth
    code = re.sub(r'"""(?:.|\n)*?"""', "", text)
    assert [m.group(0) for m in TRUTH_WORDS.finditer(code)] == [], (module, hits)


def test_no_production_stage_declares_the_truth_as_input(tmp_path):
    raw = tmp_path / "raw"
    (raw / "ground_truth").mkdir(parents=True)
    (raw / "persons.parquet").write_bytes(b"")
    ctx = RunContext(StarConfig(), raw, tmp_path / "work", tmp_path / "results")
    truth = (raw / "ground_truth").resolve()
    for stage in [*register_stages(), *analysis_stages()]:
        for p in stage.inputs(ctx):
            p = Path(p).resolve()
            assert p != truth and truth not in p.parents and p not in truth.parents, (stage.name, p)
    names = [s.name for s in run_stages(ctx)]
    assert names[-1] == "provenance" and {s.name for s in recovery_stages()} <= set(names)
    for stage in recovery_stages(ctx):
        assert truth in [Path(p).resolve() for p in stage.inputs(ctx)], stage.name
    shutil.rmtree(raw / "ground_truth")
    assert recovery_stages(ctx) == []
    assert not {s.name for s in recovery_stages()} & {s.name for s in run_stages(ctx)}


CONFIG = {
    "transitions": {
        "n_bootstrap": 10,
        "n_simulations": 2,
        "pathway_half_years": 4,
        "markov_comparison": False,
        "simulation_summary": None,
    },
    "subgroups": {"max_classes": 3, "n_starts": 2, "n_bootstrap": 0},
    "effects": {"n_draws": 20, "max_persons": 300, "simulation_summary": None},
}


def _run(raw: Path, root: Path) -> Path:
    cfg = StarConfig.model_validate(CONFIG)
    ctx = RunContext(cfg, raw, root / "work", root / "results")
    run_pipeline([*register_stages(), *run_stages(ctx)], ctx)
    return root / "results"


def _digests(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from pipelines.synthetic import generate

    root = tmp_path_factory.mktemp("no_truth")
    generate("tiny", seed=5, out_dir=root / "synthetic", statistics=False)
    shutil.copytree(
        root / "synthetic", root / "real", ignore=shutil.ignore_patterns("ground_truth")
    )
    assert not (root / "real" / "ground_truth").exists()
    synthetic = _run(root / "synthetic", root / "a")
    real = _run(root / "real", root / "b")
    return root, synthetic, real


@pytest.mark.slow
def test_production_outputs_are_byte_identical_without_the_truth(two_runs):
    _, synthetic, real = two_runs
    assert not (real / "recovery").exists()
    assert (synthetic / "recovery").is_dir()
    for stage in analysis_stages():
        area = stage.name
        a, b = _digests(synthetic / area), _digests(real / area)
        assert a and a == b, (area, sorted(set(a.items()) ^ set(b.items()))[:5])


@pytest.mark.slow
def test_recovery_tables_agree_with_the_truth(two_runs):
    root, synthetic, _ = two_runs
    params = json.loads((root / "synthetic" / "ground_truth" / "parameters.json").read_text())
    rec = synthetic / "recovery"
    # effects: the published estimates + the generator's hazard ratio
    eff = pd.read_csv(rec / "effects" / "estimates.csv")
    pub = pd.read_csv(synthetic / "effects" / "estimates.csv")
    pd.testing.assert_frame_equal(eff[pub.columns], pub)
    key = {"caseworker_change_12m": "cw_changes_12m", "conversations_3m": "conv_3m"}
    true = params["true_effects"]
    for r in eff.itertuples():
        want = true[key[r.exposure]].get(f"kh->{r.outcome}", {}).get("hazard_ratio_approx")
        assert (want is None and pd.isna(r.truth)) or r.truth == pytest.approx(want)
    # transitions: the generator's coefficient of every estimated term (0 where it has none)
    tr = pd.read_csv(rec / "transitions" / "recovery.csv")
    coef = params["transitions"]
    want = [coef.get(o, {}).get(d, {}).get(t, 0.0)
            for o, d, t in zip(tr["origin"], tr["destination"], tr["term"], strict=True)]  # fmt: skip
    np.testing.assert_allclose(tr["truth"], want)
    # subgroups: ARI of the classes and the oracle on the persons of the stage's population
    sg = pd.read_csv(rec / "subgroups" / "recovery.csv").set_index("method")
    assert set(sg.index) == {"latent_class", "oracle"} and sg["ari"].between(-1, 1).all()
    sel = pd.read_csv(synthetic / "subgroups" / "selection.csv")
    assert sg.loc["latent_class", "classes"] == int(sel.loc[sel["chosen"], "k"].iloc[0])
    pw = pd.read_csv(rec / "subgroups" / "pathways_truth.csv")
    assert set(pw["method"]) == {"truth"}
    assert set(pw["subgroup"]) <= set(params["parameters"]["subgroups"]["origin"])
    # every recovery table passes the disclosure audit and its registry declaration
    ids = set(pd.read_parquet(root / "synthetic" / "persons.parquet")["person_id"].astype(str))
    assert audit([synthetic], 5, ids) == []


def test_audit_checks_recovery_tables_against_the_registry(tmp_path):
    (tmp_path / "recovery" / "effects").mkdir(parents=True)
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "recovery" / "effects" / "other.csv", index=False)
    pd.DataFrame({"exposure": ["a"]}).to_csv(
        tmp_path / "recovery" / "effects" / "estimates.csv", index=False
    )
    problems = [p.rule for p in audit([tmp_path], 5)]
    assert any("not declared" in p for p in problems), problems
    assert any("effect_recovery" in p for p in problems), problems

"""The stage pool: independent stages run in worker processes, dependants wait, failures name the stage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.run import RunContext, Stage, StageFailed, run_pipeline, tree_hashes


def _ctx(tmp_path: Path) -> RunContext:
    raw = tmp_path / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "data.txt").write_text("x")
    return RunContext(
        load_config(), raw, tmp_path / "work", tmp_path / "results", fingerprint="code-v1"
    )


def _stage(name: str, src: str, fail: bool = False) -> Stage:
    def run(ctx: RunContext, out: Path) -> None:
        if fail:
            raise ValueError("boom in " + name)
        text = Path(ctx.work_dir if src != "raw" else ctx.raw_dir) / src / "data.txt"
        if src == "raw":
            text = ctx.raw_dir / "data.txt"
        (out / "data.txt").write_text(text.read_text() + name)
        (out / "pid.txt").write_text(str(os.getpid()))

    inputs = (lambda c: [c.raw_dir]) if src == "raw" else (lambda c: [c.work_dir / src])
    return Stage(name, lambda c: c.work_dir / name, inputs, (), run)


def _stages(fail: str | None = None) -> list[Stage]:
    # a <- raw; b, c, d <- a (independent); e <- b
    return [
        _stage("a", "raw"),
        _stage("b", "a", fail == "b"),
        _stage("c", "a", fail == "c"),
        _stage("d", "a"),
        _stage("e", "b"),
    ]


def _contents(ctx: RunContext) -> dict[str, str]:
    return {n: (ctx.work_dir / n / "data.txt").read_text() for n in "abcde"}


def test_pool_gives_the_sequential_outputs_and_records(tmp_path):
    seq, par = _ctx(tmp_path / "seq"), _ctx(tmp_path / "par")
    out_seq = run_pipeline(_stages(), seq, jobs=1)
    out_par = run_pipeline(_stages(), par, jobs=2)
    assert [o.name for o in out_par] == [o.name for o in out_seq] == list("abcde")
    assert (
        _contents(par)
        == _contents(seq)
        == {"a": "xa", "b": "xab", "c": "xac", "d": "xad", "e": "xabe"}
    )
    # the independent stages ran in worker processes, the lone first stage in this one
    pids = {n: (par.work_dir / n / "pid.txt").read_text() for n in "abcd"}
    assert pids["a"] == str(os.getpid())
    assert pids["b"] != str(os.getpid())
    # cache records written by the workers: a second pooled run skips everything
    again = run_pipeline(_stages(), par, jobs=2)
    assert all(o.skipped for o in again)
    assert tree_hashes([par.work_dir / "e"])


def test_worker_failure_names_the_stage_and_its_traceback(tmp_path):
    ctx = _ctx(tmp_path)
    with pytest.raises(StageFailed, match=r"stage c failed:(.|\n)*ValueError: boom in c"):
        run_pipeline(_stages(fail="c"), ctx, jobs=2)
    assert not (ctx.work_dir / "c").exists()


def test_a_stage_leaves_no_joblib_worker_processes_behind(tmp_path):
    """A stage that used ``joblib.Parallel`` (the subgroups bootstrap does) must not leave loky's
    idle workers alive: a pool worker joins its children when it exits, and loky keeps idle
    workers for 300 s, so ``star run`` waited five minutes after its last stage."""
    import multiprocessing as mp

    from pipelines.run import run_stage

    def run(ctx: RunContext, out: Path) -> None:
        from joblib import Parallel, delayed

        total = sum(Parallel(n_jobs=2, return_as="generator")(delayed(abs)(-i) for i in range(4)))
        assert any("Loky" in p.name for p in mp.active_children())  # the workers did start
        (out / "sum.txt").write_text(str(total))

    ctx = _ctx(tmp_path)
    stage = Stage("parallel", lambda c: c.work_dir / "parallel", lambda c: [c.raw_dir], (), run)
    run_stage(stage, ctx)
    assert (ctx.work_dir / "parallel" / "sum.txt").read_text() == "6"
    assert [p.name for p in mp.active_children() if "Loky" in p.name] == []

"""Stage caching: skip when fresh, re-run exactly what is downstream of a change, resume after a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.run import RunContext, Stage, run_pipeline


def _ctx(tmp_path: Path) -> RunContext:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    return RunContext(
        load_config(), raw, tmp_path / "work", tmp_path / "results", fingerprint="code-v1"
    )


def _stages(calls: list[str], fail_in: str | None = None) -> list[Stage]:
    def copy_upper(name, src):
        def run(ctx, out):
            calls.append(name)
            if fail_in == name:
                (out / "partial.txt").write_text("half")
                raise RuntimeError("killed")
            text = (src(ctx) / "data.txt").read_text()
            suffix = "!" if name == "b" and ctx.config.states.half_year_rule == "end" else ""
            (out / "data.txt").write_text(text.upper() + name + suffix)

        return run

    a = Stage(
        "a",
        lambda c: c.work_dir / "a",
        lambda c: [c.raw_dir],
        ("spells",),
        copy_upper("a", lambda c: c.raw_dir),
    )
    b = Stage(
        "b",
        lambda c: c.work_dir / "b",
        lambda c: [c.work_dir / "a"],
        ("states",),
        copy_upper("b", lambda c: c.work_dir / "a"),
    )
    c_ = Stage(
        "c",
        lambda c: c.work_dir / "c",
        lambda c: [c.work_dir / "b"],
        (),
        copy_upper("c", lambda c: c.work_dir / "b"),
    )
    return [a, b, c_]


def test_second_run_skips_everything(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.raw_dir / "data.txt").write_text("x")
    calls: list[str] = []
    run_pipeline(_stages(calls), ctx)
    assert calls == ["a", "b", "c"]
    outcomes = run_pipeline(_stages(calls), ctx)
    assert calls == ["a", "b", "c"] and all(o.skipped for o in outcomes)
    assert (ctx.work_dir / "c" / "data.txt").read_text() == "XABc"


def test_changed_input_reruns_downstream_only(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.raw_dir / "data.txt").write_text("x")
    calls: list[str] = []
    run_pipeline(_stages(calls), ctx)
    calls.clear()
    # a config section only stage b depends on: a is skipped, b re-runs, and c because b changed
    ctx.config = load_config(None, **{"states.half_year_rule": "end"})
    run_pipeline(_stages(calls), ctx)
    assert calls == ["b", "c"]
    calls.clear()
    # an input change that leaves b's output identical would stop there; this one changes a
    (ctx.raw_dir / "data.txt").write_text("y")
    run_pipeline(_stages(calls), ctx)
    assert calls == ["a", "b", "c"]
    assert (ctx.work_dir / "c" / "data.txt").read_text() == "YAB!c"


def test_code_change_invalidates(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.raw_dir / "data.txt").write_text("x")
    calls: list[str] = []
    run_pipeline(_stages(calls), ctx)
    calls.clear()
    ctx.fingerprint = "code-v2"
    run_pipeline(_stages(calls), ctx)
    assert calls == ["a", "b", "c"]


def test_killed_stage_leaves_old_output_and_resumes(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.raw_dir / "data.txt").write_text("x")
    calls: list[str] = []
    run_pipeline(_stages(calls), ctx)
    before = (ctx.work_dir / "b" / "data.txt").read_text()
    (ctx.raw_dir / "data.txt").write_text("z")
    calls.clear()
    with pytest.raises(RuntimeError, match="killed"):
        run_pipeline(_stages(calls, fail_in="b"), ctx)
    assert calls == ["a", "b"]
    # b's old output is intact, no partial files anywhere
    assert (ctx.work_dir / "b" / "data.txt").read_text() == before
    assert not list(ctx.work_dir.glob(".*tmp*"))
    assert not (ctx.work_dir / "b" / "partial.txt").exists()
    calls.clear()
    run_pipeline(_stages(calls), ctx)
    assert calls == ["b", "c"]  # a finished before the crash and is not redone
    assert (ctx.work_dir / "c" / "data.txt").read_text() == "ZABc"


def test_tampered_output_is_rebuilt(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.raw_dir / "data.txt").write_text("x")
    calls: list[str] = []
    run_pipeline(_stages(calls), ctx)
    (ctx.work_dir / "c" / "data.txt").write_text("edited by hand")
    calls.clear()
    run_pipeline(_stages(calls), ctx)
    assert calls == ["c"]


def test_unchanged_intermediate_output_stops_the_cascade(tmp_path):
    ctx = _ctx(tmp_path)
    (ctx.raw_dir / "data.txt").write_text("x")
    calls: list[str] = []
    run_pipeline(_stages(calls), ctx)
    calls.clear()
    (ctx.raw_dir / "data.txt").write_text("X")  # a upper-cases: same output as before
    run_pipeline(_stages(calls), ctx)
    assert calls == ["a"]

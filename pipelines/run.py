"""The pipeline: stages run in order, each cached by a hash of its inputs, configuration and code.

Data flows one way: raw extract -> validated tables -> derived frames -> results tables ->
documents. Each :class:`Stage` declares the files it reads, the configuration sections it depends
on, and the directory it writes. A stage is skipped when its key (SHA-256 of the code fingerprint,
those configuration sections and the contents of its input files) equals the key recorded when its
outputs were last written and the outputs are unchanged; otherwise it runs into a temporary
directory that replaces the old output atomically, so an interrupted run leaves either the old or
the new output, never a half-written one, and the next run resumes at the first stage whose key
changed. A changed input therefore re-runs exactly the stages downstream of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.config import StarConfig
from pipelines.errors import PipelineError
from pipelines.provenance import file_sha256
from pipelines.results_registry import staging_dir

log = logging.getLogger(__name__)

CODE_PACKAGES = ("analysis", "pipelines", "data_schema")
Progress = Callable[[str, int, int], None]


def code_fingerprint(root: Path | None = None) -> str:
    """SHA-256 over the source files (.py, .yaml) of the package, so code changes invalidate caches."""
    root = root or Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for pkg in CODE_PACKAGES:
        for p in sorted((root / pkg).rglob("*")):
            if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def tree_hashes(paths: Iterable[Path]) -> dict[str, str]:
    """{relative file path: sha256} for every file under the given files/directories."""
    out: dict[str, str] = {}
    for base in paths:
        base = Path(base)
        if base.is_file():
            out[str(base)] = file_sha256(base)
        elif base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file():
                    out[str(p)] = file_sha256(p)
    return out


@dataclass
class RunContext:
    """What stages share: the configuration, resolved directories and the code fingerprint."""

    config: StarConfig
    raw_dir: Path
    work_dir: Path
    results_dir: Path
    fingerprint: str = field(default_factory=code_fingerprint)
    progress: Progress | None = None
    run_id: str | None = None
    """Name of the run directory (``results_dir`` is then ``<results>/runs/<run_id>``): the cache
    records of the stages that write into it are kept per run, so runs of different report years
    never invalidate each other's records."""

    @property
    def validated_dir(self) -> Path:
        return self.work_dir / "ingest" / "validated"

    @property
    def register_dir(self) -> Path:
        """Spells, state intervals and benefit records: the year-independent derivation."""
        return self.work_dir / "register"

    @property
    def derived_dir(self) -> Path:
        return self.work_dir / "derived"

    @property
    def cache_dir(self) -> Path:
        return self.work_dir / "cache"

    def record_dir_for_results(self) -> Path:
        """Where the cache records of stages writing under ``results_dir`` go."""
        return self.cache_dir / "runs" / self.run_id if self.run_id else self.cache_dir


@dataclass(frozen=True)
class Stage:
    """One pipeline stage.

    ``run(ctx, out_dir)`` writes everything into ``out_dir`` (a fresh temporary directory).
    """

    name: str
    output: Callable[[RunContext], Path]
    inputs: Callable[[RunContext], list[Path]]
    config_sections: tuple[str, ...]
    run: Callable[[RunContext, Path], None]


@dataclass(frozen=True)
class StageOutcome:
    name: str
    skipped: bool
    seconds: float
    key: str


def stage_key(stage: Stage, ctx: RunContext) -> str:
    cfg = ctx.config.model_dump(mode="json")
    payload = {
        "stage": stage.name,
        "code": ctx.fingerprint,
        "config": {s: cfg.get(s) for s in sorted(stage.config_sections)},
        "inputs": tree_hashes(stage.inputs(ctx)),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _record_path(stage: Stage, ctx: RunContext) -> Path:
    out = stage.output(ctx)
    in_results = Path(ctx.results_dir) in out.parents and Path(ctx.work_dir) not in out.parents
    return (ctx.record_dir_for_results() if in_results else ctx.cache_dir) / f"{stage.name}.json"


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def is_fresh(stage: Stage, ctx: RunContext, key: str) -> bool:
    """True when the stage's recorded key equals ``key`` and its outputs are as recorded."""
    rec = _record_path(stage, ctx)
    out = stage.output(ctx)
    if not rec.exists() or not out.exists():
        return False
    record = json.loads(rec.read_text(encoding="utf-8"))
    return record.get("key") == key and record.get("outputs") == tree_hashes([out])


def run_stage(stage: Stage, ctx: RunContext, force: bool = False) -> StageOutcome:
    """Run ``stage`` unless its cached output is fresh; replace its output directory atomically."""
    key = stage_key(stage, ctx)
    if not force and is_fresh(stage, ctx, key):
        log.info("stage %s: up to date, skipped", stage.name)
        return StageOutcome(stage.name, True, 0.0, key)
    out = stage.output(ctx)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_dir(out)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    log.info("stage %s: running", stage.name)
    try:
        stage.run(ctx, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        release_joblib_workers()
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.replace(old)
    tmp.replace(out)
    shutil.rmtree(old, ignore_errors=True)
    record = {"stage": stage.name, "key": key, "outputs": tree_hashes([out])}
    _atomic_write_text(_record_path(stage, ctx), json.dumps(record, indent=1, sort_keys=True))
    seconds = time.perf_counter() - t0
    log.info("stage %s: done in %.1f s", stage.name, seconds)
    return StageOutcome(stage.name, False, seconds, key)


def release_joblib_workers() -> None:
    """Shut down joblib's reusable loky executor, if a stage started one.

    Its idle worker processes otherwise live on for loky's idle timeout (300 s), and a process
    that exits joins its multiprocessing children first: a pool worker that ran a stage with
    ``joblib.Parallel`` (the subgroups bootstrap) kept ``star run`` waiting about 5 minutes after
    its last stage. joblib has no public "shut down the executor if one exists" call
    (``get_reusable_executor()`` would start one), so the module attribute is read here.
    """
    import sys

    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None) if module is not None else None
    if executor is not None:
        executor.shutdown(wait=True)


STAGE_COST = {
    "effects": 142,
    "transitions": 122,
    "subgroups": 68,
    "reproduction": 22,
    "survival": 20,
    "benchmarking": 3,
}
"""CPU seconds per stage on the default register (issue 24): the pool starts the longest first."""


class StageFailed(RuntimeError):
    """A stage run in a worker process failed; the message names it and carries its traceback."""


_POOL: dict[str, object] = {}


def _worker(name: str, force: bool) -> StageOutcome:
    """Run one stage in a forked worker (stages and context come from the parent's memory)."""
    import traceback

    stage = _POOL["stages"][name]  # type: ignore[index]
    ctx = _POOL["ctx"]
    try:
        return run_stage(stage, ctx, force=force)  # type: ignore[arg-type]
    except Exception as exc:
        if isinstance(exc, PipelineError):
            raise
        raise StageFailed(f"stage {name} failed:\n{traceback.format_exc()}") from None


def _depends(stage: Stage, earlier: Stage, ctx: RunContext) -> bool:
    """True when ``stage`` reads (a file in, or a parent of) the output of ``earlier``."""
    out = Path(earlier.output(ctx)).resolve()
    for p in stage.inputs(ctx):
        p = Path(p).resolve()
        if p == out or out in p.parents or p in out.parents:
            return True
    return False


def default_jobs() -> int:
    """Worker processes for independent stages: min(2, cpu count)."""
    return max(1, min(2, os.cpu_count() or 1))


def run_pipeline(
    stages: list[Stage],
    ctx: RunContext,
    force: bool = False,
    only: list[str] | None = None,
    jobs: int = 1,
) -> list[StageOutcome]:
    """Run ``stages`` (all, or the ones named in ``only``) respecting their declared inputs.

    A stage waits for every earlier stage whose output it reads. With ``jobs`` > 1, stages that are
    ready together run in a pool of forked worker processes, longest (:data:`STAGE_COST`) first; a
    stage that is alone ready runs in this process. Outcomes are returned in stage order.
    """
    selected = [s for s in stages if not only or s.name in only]
    deps = {
        s.name: {e.name for e in selected[:i] if _depends(s, e, ctx)}
        for i, s in enumerate(selected)
    }
    import multiprocessing as mp

    if jobs <= 1 or "fork" not in mp.get_all_start_methods():
        return _run_sequential(selected, ctx, force)
    return _run_pool(selected, deps, ctx, force, jobs)


def _run_sequential(selected: list[Stage], ctx: RunContext, force: bool) -> list[StageOutcome]:
    outcomes = []
    for i, stage in enumerate(selected):
        if ctx.progress:
            ctx.progress(stage.name, i, len(selected))
        outcomes.append(run_stage(stage, ctx, force=force))
    if ctx.progress:
        ctx.progress("done", len(selected), len(selected))
    return outcomes


def _run_pool(
    selected: list[Stage], deps: dict[str, set[str]], ctx: RunContext, force: bool, jobs: int
) -> list[StageOutcome]:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    done: dict[str, StageOutcome] = {}
    running: dict[object, str] = {}
    pending = [s.name for s in selected]
    by_name = {s.name: s for s in selected}
    n = len(selected)
    progress, pool = ctx.progress, None
    try:
        while pending or running:
            ready = [k for k in pending if deps[k] <= done.keys()]
            ready.sort(key=lambda k: -STAGE_COST.get(k, 0))
            if not running and len(ready) == 1:
                name = ready[0]
                pending.remove(name)
                if progress:
                    progress(name, len(done), n)
                done[name] = run_stage(by_name[name], ctx, force=force)
                continue
            if pool is None and ready:
                _POOL.update(stages=by_name, ctx=ctx)
                ctx.progress = None  # workers do not draw the parent's progress bar
                pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork"))
                ctx.progress = progress
            for name in ready[: max(0, jobs - len(running))]:
                pending.remove(name)
                if progress:
                    progress(", ".join([*running.values(), name]), len(done), n)
                running[pool.submit(_worker, name, force)] = name  # type: ignore[union-attr]
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                done[running.pop(fut)] = fut.result()  # type: ignore[attr-defined]
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _POOL.clear()
    if progress:
        progress("done", n, n)
    return [done[s.name] for s in selected]

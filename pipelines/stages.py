"""The stages of ``star run``, in order, wired to the stage functions of each area.

Each stage reads only what it declares (``inputs``) and writes only into its output directory; see
:mod:`pipelines.run` for caching and atomic replacement.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.run import RunContext, Stage


class PipelineError(RuntimeError):
    """A stage cannot produce valid output; the message says why (the CLI exits with code 2)."""


def _ingest(ctx: RunContext, out: Path) -> None:
    from pipelines.ingest import ingest

    result = ingest(ctx.raw_dir, out, ctx.config)
    if not result.ok:
        reasons = [f"{t.file}: {t.fatal}" for t in result.tables.values() if t.fatal] + list(
            result.problems
        )
        raise PipelineError("the extract is unusable:\n  " + "\n  ".join(reasons))


def _mapping_file(ctx: RunContext) -> list[Path]:
    from data_schema.mapping import DEFAULT_MAPPING_PATH

    return [Path(ctx.config.state_mapping or DEFAULT_MAPPING_PATH)]


INGEST = Stage(
    name="ingest",
    output=lambda ctx: ctx.work_dir / "ingest",
    inputs=lambda ctx: [ctx.raw_dir, *_mapping_file(ctx)],
    config_sections=("extract_window", "input", "privacy", "state_mapping"),
    run=_ingest,
)


def pipeline_stages() -> list[Stage]:
    """All stages of a run, in order."""
    return [INGEST]

"""The stages of ``star run``, in order, wired to the stage functions of each area.

Each stage reads only what it declares (``inputs``) and writes only into its output directory; see
:mod:`pipelines.run` for caching and atomic replacement. Order: (synthetic register) -> ingest ->
derive -> survival, transitions, subgroups, effects, benchmarking -> reproduction (reads the effects
estimate for R17) -> the recovery studies (synthetic register only: they read ``ground_truth/``,
which no production stage reads) -> provenance.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.errors import PipelineError
from pipelines.run import RunContext, Stage


def _mapping_file(ctx: RunContext) -> list[Path]:
    from data_schema.mapping import DEFAULT_MAPPING_PATH

    return [Path(ctx.config.state_mapping or DEFAULT_MAPPING_PATH)]


def has_ground_truth(ctx: RunContext) -> bool:
    """True on a synthetic register (``<raw_dir>/ground_truth/`` exists)."""
    return (ctx.raw_dir / "ground_truth").is_dir()


def _synth(ctx: RunContext, out: Path) -> None:
    from pipelines.calibration.expected import synthesize

    s = ctx.config.synthetic

    def progress(label: str, done: int, total: int) -> None:
        if ctx.progress:
            ctx.progress(f"synth: {label}", done, total)

    synthesize(s.size, s.seed, out, progress=progress)


def synthetic_dir(config) -> Path:
    """Where ``star run --synthetic`` writes the register of the configured size and seed."""
    return Path("data") / "synthetic" / f"{config.synthetic.size}-seed{config.synthetic.seed}"


SYNTH = Stage(
    name="synth",
    output=lambda ctx: ctx.raw_dir,
    inputs=lambda ctx: [],
    config_sections=("synthetic",),
    run=_synth,
)


def _ingest(ctx: RunContext, out: Path) -> None:
    from pipelines.ingest import ingest

    result = ingest(ctx.raw_dir, out, ctx.config)
    if not result.ok:
        reasons = [f"{t.file}: {t.fatal}" for t in result.tables.values() if t.fatal] + list(
            result.problems
        )
        raise PipelineError("the extract is unusable:\n  " + "\n  ".join(reasons))


INGEST = Stage(
    name="ingest",
    output=lambda ctx: ctx.work_dir / "ingest",
    # the raw register tables only: a synthetic register's ground truth is not input data
    inputs=lambda ctx: (
        [p for p in sorted(ctx.raw_dir.glob("*")) if p.is_file()] + _mapping_file(ctx)
    ),
    config_sections=("extract_window", "input", "privacy", "state_mapping"),
    run=_ingest,
)


def _register(ctx: RunContext, out: Path) -> None:
    from pipelines.derive.build import build_register

    build_register(ctx.validated_dir, out, ctx.config)


REGISTER = Stage(
    name="register",
    output=lambda ctx: ctx.register_dir,
    inputs=lambda ctx: [ctx.validated_dir, *_mapping_file(ctx)],
    # not "cohorts" or "report": the spells do not depend on the report year
    config_sections=("extract_window", "input", "spells", "states", "state_mapping"),
    run=_register,
)


def register_data_end(ctx: RunContext) -> str | None:
    """Last day of data of the extract, from the register stage's manifest (None if unknown)."""
    path = ctx.register_dir / "register_manifest.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("data_end")


def _derive(ctx: RunContext, out: Path) -> None:
    from pipelines.derive import build_all
    from pipelines.years import FollowUpError, check_follow_up, trend_years

    end = register_data_end(ctx)
    try:
        check_follow_up(ctx.config, end)
    except FollowUpError as exc:
        raise PipelineError(str(exc)) from None
    build_all(
        ctx.validated_dir,
        out,
        ctx.config,
        register_dir=ctx.register_dir,
        trend_years=tuple(trend_years(ctx.config, end)),
    )


DERIVE = Stage(
    name="derive",
    output=lambda ctx: ctx.derived_dir,
    inputs=lambda ctx: [ctx.validated_dir, ctx.register_dir, *_mapping_file(ctx)],
    config_sections=(
        "extract_window",
        "spells",
        "states",
        "cohorts",
        "frames",
        "report",
        "state_mapping",
    ),  # fmt: skip
    run=_derive,
)


def _survival(ctx: RunContext, out: Path) -> None:
    from pipelines.survival import run_stage

    run_stage(ctx, out)


SURVIVAL = Stage(
    name="survival",
    output=lambda ctx: ctx.results_dir / "survival",
    inputs=lambda ctx: [ctx.derived_dir, ctx.validated_dir / "persons.parquet"],
    config_sections=("extract_window", "cohorts", "disclosure"),
    run=_survival,
)


def _transitions(ctx: RunContext, out: Path) -> None:
    from pipelines.transitions import run_stage

    run_stage(ctx, out)


def _if_present(path: Path | str | None) -> list[Path]:
    """``[path]`` when it is configured and exists (an optional input, e.g. a benchmark summary)."""
    return [Path(path)] if path and Path(path).exists() else []


def _transitions_inputs(ctx: RunContext) -> list[Path]:
    summary = ctx.config.transitions.simulation_summary
    return [ctx.derived_dir, *_if_present(summary)]


TRANSITIONS = Stage(
    name="transitions",
    output=lambda ctx: ctx.results_dir / "transitions",
    inputs=_transitions_inputs,
    config_sections=("transitions", "disclosure", "state_mapping", "seed"),
    run=_transitions,
)


def _subgroups(ctx: RunContext, out: Path) -> None:
    from pipelines.subgroups import run_stage

    run_stage(ctx, out)


SUBGROUPS = Stage(
    name="subgroups",
    output=lambda ctx: ctx.results_dir / "subgroups",
    inputs=lambda ctx: [ctx.validated_dir, ctx.derived_dir],
    config_sections=("subgroups", "disclosure", "extract_window", "state_mapping", "seed"),
    run=_subgroups,
)


def _effects(ctx: RunContext, out: Path) -> None:
    from pipelines.effects import run_stage

    run_stage(ctx, out)


def _effects_inputs(ctx: RunContext) -> list[Path]:
    v = ctx.validated_dir
    return [
        ctx.derived_dir / "start_stop.parquet",
        v / "conversations.parquet",
        v / "caseworker_assignments.parquet",
        *_if_present(ctx.config.effects.simulation_summary),
    ]


EFFECTS = Stage(
    name="effects",
    output=lambda ctx: ctx.results_dir / "effects",
    inputs=_effects_inputs,
    config_sections=("effects", "cohorts", "disclosure", "seed"),
    run=_effects,
)


def _benchmarking(ctx: RunContext, out: Path) -> None:
    from pipelines.benchmarking import run_stage

    run_stage(ctx, out)


BENCHMARKING = Stage(
    name="benchmarking",
    output=lambda ctx: ctx.results_dir / "benchmarking",
    inputs=lambda ctx: [
        ctx.derived_dir / "cohorts.parquet",
        ctx.derived_dir / "spells.parquet",
    ],
    config_sections=("benchmarking", "cohorts", "disclosure", "extract_window"),
    run=_benchmarking,
)


def _reproduction(ctx: RunContext, out: Path) -> None:
    from pipelines.reproduction import run_stage

    run_stage(ctx, out)


REPRODUCTION = Stage(
    name="reproduction",
    output=lambda ctx: ctx.results_dir / "reproduction",
    inputs=lambda ctx: [ctx.validated_dir, ctx.derived_dir, ctx.results_dir / "effects"],
    config_sections=(
        "cohorts",
        "disclosure",
        "reproduction",
        "state_mapping",
        "extract_window",
        "report",
    ),  # fmt: skip
    run=_reproduction,
)


def _recovery(study: str):
    """The run function of the recovery stage of ``study`` (:mod:`pipelines.recovery`)."""

    def run(ctx: RunContext, out: Path) -> None:
        from pipelines import recovery

        truth = ctx.raw_dir / "ground_truth"
        results = ctx.results_dir
        if study == "transitions":
            recovery.recovery_transitions(ctx.derived_dir, truth, out, ctx.config)
        elif study == "subgroups":
            recovery.recovery_subgroups(
                ctx.validated_dir, ctx.derived_dir, results / "subgroups", truth, out, ctx.config
            )
        elif study == "effects":
            recovery.recovery_effects(results / "effects", truth, out, ctx.config)
        else:
            recovery.recovery_benchmarking(ctx.derived_dir, truth, out, ctx.config)

    return run


def _truth_inputs(ctx: RunContext) -> list[Path]:
    return [ctx.raw_dir / "ground_truth"]


RECOVERY_TRANSITIONS = Stage(
    name="recovery_transitions",
    output=lambda ctx: ctx.results_dir / "recovery" / "transitions",
    inputs=lambda ctx: [*_truth_inputs(ctx), ctx.derived_dir],
    config_sections=("transitions", "disclosure", "state_mapping", "seed"),
    run=_recovery("transitions"),
)

RECOVERY_SUBGROUPS = Stage(
    name="recovery_subgroups",
    output=lambda ctx: ctx.results_dir / "recovery" / "subgroups",
    inputs=lambda ctx: [
        *_truth_inputs(ctx),
        ctx.validated_dir,
        ctx.derived_dir,
        ctx.results_dir / "subgroups",
    ],
    config_sections=SUBGROUPS.config_sections,
    run=_recovery("subgroups"),
)

RECOVERY_EFFECTS = Stage(
    name="recovery_effects",
    output=lambda ctx: ctx.results_dir / "recovery" / "effects",
    inputs=lambda ctx: [*_truth_inputs(ctx), ctx.results_dir / "effects"],
    config_sections=("disclosure",),
    run=_recovery("effects"),
)

RECOVERY_BENCHMARKING = Stage(
    name="recovery_benchmarking",
    output=lambda ctx: ctx.results_dir / "recovery" / "benchmarking",
    inputs=lambda ctx: [*_truth_inputs(ctx), *BENCHMARKING.inputs(ctx)],
    config_sections=BENCHMARKING.config_sections,
    run=_recovery("benchmarking"),
)


def recovery_stages(ctx: RunContext | None = None) -> list[Stage]:
    """The recovery studies of a synthetic register (:mod:`pipelines.recovery`): all of them
    without ``ctx``; with it, none unless the register has a ground truth."""
    if ctx is not None and not has_ground_truth(ctx):
        return []
    return [RECOVERY_TRANSITIONS, RECOVERY_SUBGROUPS, RECOVERY_EFFECTS, RECOVERY_BENCHMARKING]


def _provenance(ctx: RunContext, out: Path) -> None:
    from pipelines.provenance import build_manifest

    inputs = {p.name: p for p in sorted(ctx.raw_dir.glob("*")) if p.is_file()}
    manifest = build_manifest(ctx.config, inputs)
    manifest["data_source"] = (
        f"synthetic:{ctx.config.synthetic.size}:seed{ctx.config.synthetic.seed}"
        if has_ground_truth(ctx)
        else "register"
    )
    records = [*ctx.cache_dir.glob("*.json"), *ctx.record_dir_for_results().glob("*.json")]
    manifest["stages"] = sorted({p.stem for p in records})
    manifest["report_year"] = ctx.config.report.year
    manifest["data_end"] = register_data_end(ctx)
    (out / "provenance.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def analysis_stages() -> list[Stage]:
    """The production stages after ingest and derive, in order (they never read a ground truth)."""
    return [SURVIVAL, TRANSITIONS, SUBGROUPS, EFFECTS, BENCHMARKING, REPRODUCTION]


PROVENANCE = Stage(
    name="provenance",
    output=lambda ctx: ctx.results_dir / "provenance",
    inputs=lambda ctx: (
        [p for p in sorted(ctx.raw_dir.glob("*")) if p.is_file()]
        + [s.output(ctx) for s in [*analysis_stages(), *recovery_stages(ctx)]]
    ),
    config_sections=tuple(
        (
            "paths",
            "extract_window",
            "input",
            "state_mapping",
            "spells",
            "states",
            "cohorts",
            "disclosure",
            "privacy",
            "synthetic",
            "report",
            "effects",
            "transitions",
            "subgroups",
            "reproduction",
            "benchmarking",
            "seed",
        )
    ),
    run=_provenance,
)


def pipeline_stages(synthetic: bool) -> list[Stage]:
    """All stages of a run, in order (``synthetic``: generate the register first)."""
    return [*([SYNTH] if synthetic else []), *register_stages(), *run_stages()]


def register_stages() -> list[Stage]:
    """The stages whose output is shared by every run on the same extract (in the work dir)."""
    return [INGEST, REGISTER]


def run_stages(ctx: RunContext | None = None) -> list[Stage]:
    """The stages of one report year: derive into the work dir, the rest into the run dir.

    Without ``ctx`` every stage that can run (the names); with it, the recovery stages only when
    the register has a ground truth (a real register gets no ``results/recovery``; a synthetic
    register's truth is there once the synth stage has run)."""
    return [DERIVE, *analysis_stages(), *recovery_stages(ctx), PROVENANCE]

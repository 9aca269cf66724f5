"""The ``star`` command line. Logging and progress display are set up here and only here.

Exit codes: 0 success; 1 the input has quarantined rows (``validate`` and ``ingest``); 2 the input or the
configuration is unusable (the message says why); 3 an unexpected internal error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Long-term kontanthjælp spells: validate and ingest register extracts, run the analyses, render the reports.",
)
console = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("star")
_state = {"verbose": False}

ConfigOption = typer.Option(
    None, "--config", "-c", help="Run configuration YAML (default: the shipped defaults)."
)


ExtractOption = typer.Option(
    None,
    "--extract",
    help="extract.yaml of a DST-style extract (written by `star init-extract`): convert it first.",
)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=verbose)],
        force=True,
    )


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected errors into a one-line message and exit code 2 (no bare tracebacks)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from data_schema.mapping import MappingError
        from pipelines.config import ConfigError
        from pipelines.privacy import PrivacyError

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except (ConfigError, MappingError, PrivacyError, FileNotFoundError, ValueError) as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}")
            if _state["verbose"]:
                console.print_exception()
            raise typer.Exit(2) from None
        except Exception as exc:  # unexpected: say so, point at --verbose
            console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}")
            console.print("run with --verbose for the traceback")
            if _state["verbose"]:
                console.print_exception()
            raise typer.Exit(3) from None

    return wrapper


class ProgressBar:
    """A rich progress bar usable as a stage ``progress(label, done, total)`` callback."""

    def __init__(self, description: str):
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[label]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task(description, total=None, label="")

    def __enter__(self) -> ProgressBar:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def __call__(self, label: str, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total, label=label)


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging and tracebacks."),
) -> None:
    _state["verbose"] = verbose
    _setup_logging(verbose)


@app.command()
def version() -> None:
    """Print the package version."""
    from importlib.metadata import version as _v

    typer.echo(_v("star-kh"))


def _print_extract_result(result, max_violations: int = 20) -> None:
    table = Table(title=f"Extract {escape(str(result.raw_dir))}")
    cols = (
        "table",
        "file",
        "format",
        "encoding",
        "read",
        "accepted",
        "quarantined",
        "blank",
        "status",
    )
    for col in cols:
        table.add_column(
            col,
            justify="right" if col in ("read", "accepted", "quarantined", "blank") else "left",
            overflow="fold",
        )
    for name, r in result.tables.items():
        status = (
            f"[red]UNUSABLE: {escape(_short(r.fatal, 200))}[/]"
            if r.fatal
            else ("[green]ok[/]" if not r.n_quarantined else "[yellow]rows quarantined[/]")
        )
        table.add_row(
            name,
            escape(r.file.name) if r.file else "",
            r.format or "",
            r.encoding or "",
            str(r.n_read),
            str(r.n_accepted),
            str(r.n_quarantined),
            str(r.n_blank),
            status,
        )
    console.print(table)
    for p in result.problems:
        console.print(f"[red]problem:[/] {escape(p)}")
    for name, r in result.tables.items():
        for note in r.notes:
            console.print(f"[yellow]note:[/] {escape(name)}: {escape(note)}")
    v = result.violations()
    if len(v):
        console.print(f"{len(v)} violation(s); first {min(len(v), max_violations)}:")
        for row in v.head(max_violations).itertuples(index=False):
            where = f"{escape(str(row.file))} row {row.row}" + (
                f" (line {row.line})" if not _isna(row.line) else ""
            )
            value = "" if _isna(row.value) else escape(_short(str(row.value)))
            console.print(
                f"  {where}, column {escape(str(row.column))}: {escape(str(row.rule))} [dim]{value}[/]"
            )


def _short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (newlines shown as ``\\n``)."""
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _isna(x: object) -> bool:
    import pandas as pd

    return bool(pd.isna(x))


@app.command()
@friendly_errors
def validate(
    raw_dir: Path = typer.Argument(
        ..., help="Directory with the register extract (one file per table)."
    ),
    config: Path | None = ConfigOption,
    extract: Path | None = ExtractOption,
) -> None:
    """Validate a register extract without writing anything; list every violation.

    Exit 0 when every row is valid, 1 when rows would be quarantined, 2 when a table is unusable.
    With --extract (a DST-style extract), the files are first converted by their layouts and every
    code missing from the code lists or the state mapping is listed with its counts.
    """
    from pipelines.config import load_config
    from pipelines.ingest import validate_extract

    cfg = load_config(config)
    if extract is not None:
        raw_dir = _adapt_for_cli(raw_dir, extract, cfg, policy="quarantine")
    with ProgressBar("validating") as bar:
        result = validate_extract(raw_dir, cfg, progress=bar)
    _print_extract_result(result)
    _print_unknown_benefit_codes(result)
    if not result.ok:
        raise typer.Exit(2)
    if len(result.violations()):
        raise typer.Exit(1)


@app.command()
@friendly_errors
def ingest(
    raw_dir: Path = typer.Argument(
        ..., help="Directory with the register extract (one file per table)."
    ),
    config: Path | None = ConfigOption,
    work_dir: Path | None = typer.Option(
        None, help="Output directory (default: paths.work_dir of the config)."
    ),
    extract: Path | None = ExtractOption,
) -> None:
    """Validate a register extract and write accepted rows to Parquet, rejected rows to quarantine.

    Exit 0 when every row is accepted, 1 when rows were quarantined, 2 when a table is unusable.
    With --extract, a DST-style extract is converted first; unknown codes stop it unless
    extract.yaml says unknown_codes: quarantine or other.
    """
    from pipelines.config import load_config
    from pipelines.ingest import ingest as run_ingest

    cfg = load_config(config)
    out = work_dir or cfg.paths.work_dir
    if extract is not None:
        raw_dir = _adapt_for_cli(raw_dir, extract, cfg)
    with ProgressBar("ingesting") as bar:
        result = run_ingest(raw_dir, out, cfg, progress=bar)
    _print_extract_result(result)
    console.print(
        f"validated tables in {escape(str(out / 'validated'))}, "
        f"quarantine in {escape(str(out / 'quarantine'))}"
    )
    if not result.ok:
        raise typer.Exit(2)
    if len(result.violations()):
        raise typer.Exit(1)


@app.command("run")
@friendly_errors
def run_cmd(
    config: Path | None = ConfigOption,
    synthetic: str | None = typer.Option(
        None,
        help="Generate and use the built-in synthetic register of this size (tiny, default, national).",
    ),
    seed: int | None = typer.Option(
        None, help="Seed of the synthetic register (default: synthetic.seed)."
    ),
    raw_dir: Path | None = typer.Option(None, help="Register extract (default: paths.raw_dir)."),
    report_year: int | None = typer.Option(
        None,
        "--report-year",
        help="Report year (default: report.year): moves the reference date (30 November), the "
        "stock, the hovedveje cohort (Q1 three years before) and the two-year windows.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Run directory (default: <results_dir>/runs/<year>-<config hash>); never overwritten.",
    ),
    force: bool = typer.Option(
        False, help="Re-run every stage even when its cached output is fresh."
    ),
    only: list[str] | None = typer.Option(None, help="Run only these stages (repeatable)."),
    extract: Path | None = ExtractOption,
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Worker processes for the analysis stages that only read derive output "
        "(default: min(2, cpu count); 1 = one stage at a time).",
    ),
) -> None:
    """Run the whole pipeline: (synthetic register,) ingest, derive, analyses, results.

    Each stage is skipped when its inputs, configuration and code are unchanged since it last ran;
    an interrupted run resumes where it stopped. The results of a run go to its own run directory
    (paths.results_dir/runs/<year>-<hash>), copied to the top of paths.results_dir when it
    completes (what `star report` reads); `star runs` lists the runs.
    """
    import shutil

    from pipelines.config import load_config
    from pipelines.errors import PipelineError
    from pipelines.run import RunContext, default_jobs, is_fresh, run_pipeline, stage_key
    from pipelines.runs import publish_latest, resolve_run_dir, run_identity, write_record
    from pipelines.stages import (
        pipeline_stages,
        register_data_end,
        run_stages,
        synthetic_dir,
    )

    overrides: dict[str, object] = {}
    if synthetic:
        overrides["synthetic.size"] = synthetic
    if seed is not None:
        overrides["synthetic.seed"] = seed
    if report_year is not None:
        overrides["report.year"] = report_year
    cfg = load_config(config, **overrides)
    raw = raw_dir or (synthetic_dir(cfg) if synthetic else cfg.paths.raw_dir)
    root = Path(cfg.paths.results_dir)
    ctx = RunContext(cfg, Path(raw), cfg.paths.work_dir, root)
    stages = pipeline_stages(synthetic=bool(synthetic))
    if extract is not None:
        from pipelines.dst.stage import adapt_stage

        stages = [adapt_stage(ctx, extract), *stages]
    per_run = {s.name for s in run_stages()}
    if not (Path(raw) / "ground_truth").is_dir() and not synthetic:
        console.print("[dim]no ground_truth/ in the register: the recovery studies are skipped[/]")
    shared = [s for s in stages if s.name not in per_run]
    with ProgressBar("star run") as bar:
        ctx.progress = bar
        try:
            outcomes = run_pipeline(shared, ctx, force=force, only=only)
            identity = run_identity(cfg, ctx.raw_dir, ctx.fingerprint)
            run_dir = resolve_run_dir(root, identity, out)
            ctx.results_dir, ctx.run_id = run_dir, run_dir.name
            write_record(run_dir, identity, "running")
            try:
                outcomes += run_pipeline(
                    run_stages(ctx), ctx, force=force, only=only, jobs=jobs or default_jobs()
                )
            except BaseException:
                write_record(run_dir, identity, "failed", data_end=register_data_end(ctx))
                raise
        except PipelineError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
    # complete when every stage of the run has its output (also after several `--only` calls)
    complete = all(is_fresh(s, ctx, stage_key(s, ctx)) for s in run_stages(ctx))
    manifest = run_dir / "provenance" / "provenance.json"
    if manifest.exists():  # `star report --results RUN_DIR` reads it there
        shutil.copyfile(manifest, run_dir / "provenance.json")
    write_record(
        run_dir, identity, "complete" if complete else "partial", data_end=register_data_end(ctx)
    )
    if complete and out is None:
        publish_latest(root, run_dir)
    table = Table(title=f"star run {run_dir.name}")
    for col in ("stage", "status", "seconds"):
        table.add_column(col)
    for o in outcomes:
        table.add_row(o.name, "cached" if o.skipped else "ran", f"{o.seconds:.1f}")
    console.print(table)
    where = f"; latest results in {root}" if complete and out is None else ""
    console.print(f"results in {run_dir}{where}")


@app.command("runs")
@friendly_errors
def runs_cmd(config: Path | None = ConfigOption) -> None:
    """List the run directories (report year, config hash, date, extract, status)."""
    from pipelines.config import load_config
    from pipelines.runs import list_runs

    cfg = load_config(config)
    runs = list_runs(cfg.paths.results_dir)
    if runs.empty:
        console.print(f"no runs in {cfg.paths.results_dir / 'runs'}")
        return
    table = Table(title=f"Runs in {cfg.paths.results_dir / 'runs'}")
    for col in runs.columns:
        table.add_column(col)
    for r in runs.itertuples(index=False):
        table.add_row(*["*" if v is True else "" if v is False else str(v) for v in r])
    console.print(table)


@app.command("compare")
@friendly_errors
def compare_cmd(
    run_a: str = typer.Argument(..., help="First run: name (2020-3fa9c2d1), prefix, or path."),
    run_b: str = typer.Argument(..., help="Second run (the difference is b - a)."),
    config: Path | None = ConfigOption,
    out: Path | None = typer.Option(
        None, "--out", help="CSV to write (default: <results_dir>/compare/<a>_vs_<b>.csv)."
    ),
) -> None:
    """Every headline statistic of two runs side by side, with the difference and, where both have
    a standard error, its 95 % interval and z-test p-value (independent samples: conservative when
    the runs share persons, e.g. two report years)."""
    import pandas as pd

    from pipelines.config import load_config
    from pipelines.runs import compare_runs, find_run

    cfg = load_config(config)
    root = Path(cfg.paths.results_dir)
    a, b = find_run(root, run_a), find_run(root, run_b)
    table = compare_runs(a, b)
    path = out or root / "compare" / f"{a.name}_vs_{b.name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8")
    t = Table(title=f"{a.name} -> {b.name}")
    for col in ("id", "part", "value_a", "value_b", "difference", "95% CI", "p"):
        t.add_column(col, justify="left" if col in ("id", "part") else "right")

    def num(x: float, fmt: str = "{:.1f}") -> str:
        return "" if pd.isna(x) else fmt.format(x)

    for r in table.itertuples(index=False):
        ci = "" if pd.isna(r.conf_low) else f"{r.conf_low:+.1f}..{r.conf_high:+.1f}"
        t.add_row(
            str(r.id), str(r.part), num(r.value_a), num(r.value_b), num(r.difference), ci,
            num(r.p_value, "{:.3f}"),
        )  # fmt: skip
    console.print(t)
    console.print(f"wrote {path}")


@app.command()
@friendly_errors
def audit(
    results_dir: Path = typer.Argument(..., help="Results directory to scan (recursively)."),
    config: Path | None = ConfigOption,
    work_dir: Path | None = typer.Option(
        None,
        help="Work directory whose validated persons table gives the ids to look for (default: paths.work_dir).",
    ),
    documents: Path | None = typer.Option(
        None, help="Directory of rendered documents (HTML) to scan for person ids."
    ),
) -> None:
    """Check results for disclosure problems: small cells, person ids, exact minima/maxima, thin curve steps.

    Exit 0 when clean, 1 with the list of violations otherwise.
    """
    import pandas as pd

    from pipelines.audit import audit as run_audit
    from pipelines.config import load_config

    cfg = load_config(config)
    persons = (work_dir or cfg.paths.work_dir) / "ingest" / "validated" / "persons.parquet"
    ids = pd.read_parquet(persons, columns=["person_id"])["person_id"] if persons.exists() else []
    html = sorted(documents.rglob("*.html")) if documents else []
    violations = run_audit([results_dir], cfg.disclosure.threshold, ids, html)
    if violations:
        console.print(f"[bold red]{len(violations)} disclosure violation(s):[/]")
        for v in violations:
            console.print(f"  {v}")
        raise typer.Exit(1)
    console.print(
        f"[green]audit passed[/]: {results_dir} (threshold {cfg.disclosure.threshold}{', checked against ' + str(len(ids)) + ' input ids' if len(ids) else ''})"
    )


@app.command()
@friendly_errors
def reproduce(
    config: Path | None = ConfigOption,
    validated_dir: Path | None = typer.Option(
        None, help="Validated register tables (default: <work_dir>/ingest/validated)."
    ),
    derived_dir: Path | None = typer.Option(
        None, help="Derived frames of the derive stage (default: <work_dir>/derived)."
    ),
    results_dir: Path | None = typer.Option(
        None, help="Results root (default: paths.results_dir)."
    ),
) -> None:
    """Reproduce the STAR 2022 figures (R1-R22): writes results/reproduction/star2022.csv and the
    detailed tables, all after disclosure control."""
    from pipelines.config import load_config
    from pipelines.reproduction import run_reproduction

    cfg = load_config(config)
    work = cfg.paths.work_dir
    paths = run_reproduction(
        validated_dir or work / "ingest" / "validated",
        derived_dir or work / "derived",
        results_dir or cfg.paths.results_dir,
        cfg,
    )
    import pandas as pd

    table = pd.read_csv(paths[0])
    decided = table["within"].notna().sum()
    console.print(
        f"[green]wrote[/] {len(paths)} tables to {paths[0].parent}; "
        f"{int((table['within'] == True).sum())} of {decided} decidable rows within tolerance"  # noqa: E712
    )


@app.command()
@friendly_errors
def subgroups(
    config: Path | None = ConfigOption,
    validated_dir: Path | None = typer.Option(
        None, help="Validated register tables (default: <work_dir>/ingest/validated)."
    ),
    derived_dir: Path | None = typer.Option(
        None, help="Derived frames of the derive stage (default: <work_dir>/derived)."
    ),
    results_dir: Path | None = typer.Option(
        None, help="Results root (default: paths.results_dir); files go to <results_dir>/subgroups."
    ),
) -> None:
    """Subgroups of long-term recipients (latent class analysis): model selection, stability,
    profiles with labels, exit pathways and efforts by group, written to results/subgroups."""
    from pipelines.config import load_config
    from pipelines.subgroups import run_subgroups

    cfg = load_config(config)
    work = cfg.paths.work_dir
    with ProgressBar("subgroups") as bar:
        paths = run_subgroups(
            validated_dir or work / "ingest" / "validated",
            derived_dir or work / "derived",
            results_dir or cfg.paths.results_dir,
            cfg,
            progress=bar,
        )
    import pandas as pd

    sel = pd.read_csv(paths[0])
    k = int(sel.loc[sel["chosen"], "k"].iloc[0])
    console.print(f"[green]wrote[/] {len(paths)} files to {paths[0].parent}; {k} groups")


@app.command()
@friendly_errors
def effects(
    config: Path | None = ConfigOption,
    work_dir: Path | None = typer.Option(
        None, help="Work directory with ingest/validated and derived (default: paths.work_dir)."
    ),
    results_dir: Path | None = typer.Option(
        None, help="Results root (default: paths.results_dir); files go to <results_dir>/effects."
    ),
) -> None:
    """Effects of case-worker changes and conversations on exits (naive, adjusted, MSM and
    departure estimators side by side), E-values and policy scenarios, written to
    results/effects."""
    from pipelines.config import load_config
    from pipelines.effects import run_effects

    cfg = load_config(config)
    work = work_dir or cfg.paths.work_dir
    out = (results_dir or cfg.paths.results_dir) / "effects"
    with ProgressBar("effects") as bar:
        paths = run_effects(
            work / "ingest" / "validated",
            work / "derived",
            out,
            cfg,
            progress=bar,
        )
    console.print(f"[green]wrote[/] {len(paths)} files to {out}")


@app.command()
@friendly_errors
def transitions(
    config: Path | None = ConfigOption,
    derived_dir: Path | None = typer.Option(
        None, help="Derived frames of the derive stage (default: <work_dir>/derived)."
    ),
    results_dir: Path | None = typer.Option(
        None,
        help="Results root (default: paths.results_dir); files go to <results_dir>/transitions.",
    ),
) -> None:
    """Transition models and hovedveje: monthly multinomial-logit transition models, Markov
    check, calibration, predicted pathways of profiles, sequences and state-occupation curves,
    written to results/transitions."""
    from pipelines.config import load_config
    from pipelines.transitions import run_transitions

    cfg = load_config(config)
    work = cfg.paths.work_dir
    with ProgressBar("transitions") as bar:
        paths = run_transitions(
            derived_dir or work / "derived",
            results_dir or cfg.paths.results_dir,
            cfg,
            progress=bar,
        )
    import pandas as pd

    out = paths[0].parent
    console.print(f"[green]wrote[/] {len(paths)} files to {out}")
    cal = out / "calibration.csv"
    if cal.exists():
        c = pd.read_csv(cal)
        console.print(
            f"calibration ({c['model'].iloc[0]}): largest |predicted - observed| "
            f"{c['difference'].abs().max() * 100:.2f} percentage points"
        )


@app.command()
@friendly_errors
def report(
    config: Path | None = ConfigOption,
    year: int | None = typer.Option(
        None,
        help="Year of the annual report (default: the report year of the run in --results, else report.year).",
    ),
    lang: str | None = typer.Option(
        None, "--lang", help="Language: da or en (default: report.lang of the config)."
    ),
    results: Path | None = typer.Option(
        None, "--results", help="Results directory (default: paths.results_dir of the config)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default: paths.output_dir of the config)."
    ),
    formats: list[str] | None = typer.Option(
        None, "--format", help="pdf and/or html; repeat the option (default: report.formats)."
    ),
    documents: list[str] | None = typer.Option(
        None,
        "--document",
        help="Render only these documents (annual, brief, technical, reproduction).",
    ),
    engine: str = typer.Option(
        "auto", help="auto (Quarto when on PATH, else built-in), quarto or builtin."
    ),
    audit: bool = typer.Option(
        True, "--audit/--no-audit", help="Audit the results before and the HTML after rendering."
    ),
) -> None:
    """Render the four documents (annual report, policy brief, technical appendix, STAR 2022
    reproduction) to PDF and HTML from the results of `star run`.

    The results directory is audited first (`star audit`); with violations nothing is rendered
    (exit 1). The rendered HTML is checked for person ids of the input; documents that fail are
    deleted (exit 1).
    """
    from pipelines.config import load_config
    from pipelines.report import DOCUMENTS, ReportParams, render_reports

    cfg = load_config(config)
    lang = lang or cfg.report.lang
    if lang not in ("da", "en"):
        raise ValueError(f"--lang must be da or en, not {lang!r}")
    if engine not in ("auto", "quarto", "builtin"):
        raise ValueError(f"--engine must be auto, quarto or builtin, not {engine!r}")
    run_year, run_cohort = _run_year_and_cohort(Path(results or cfg.paths.results_dir))
    params = ReportParams(
        year=year or run_year or cfg.report.year,
        cohort=run_cohort or cfg.cohorts.stock_quarter,
        lang=lang,  # type: ignore[arg-type]
        threshold=cfg.disclosure.threshold,
    )
    from pipelines.report.render import DEFAULT_PROJECT_DIR

    results_dir = results or cfg.paths.results_dir
    out_dir = out or cfg.paths.output_dir
    project_dir = cfg.paths.reports_dir
    if not project_dir.is_dir() and project_dir == Path("reports"):
        project_dir = DEFAULT_PROJECT_DIR  # run outside the repository: the package's own project
    if audit:
        _audit_or_exit(Path(results_dir), cfg, html=[])
    with ProgressBar("rendering") as bar:
        written = render_reports(
            results_dir,
            out_dir,
            params,
            formats or cfg.report.formats,
            documents=documents or DOCUMENTS,
            project_dir=project_dir,
            engine=engine,  # type: ignore[arg-type]
            progress=bar,
        )
    if audit:
        try:
            _audit_or_exit(Path(results_dir), cfg, html=[p for p in written if p.suffix == ".html"])
        except typer.Exit:
            for path in written:
                path.unlink(missing_ok=True)
            console.print("[bold red]the rendered documents failed the audit and were deleted[/]")
            raise
    for path in written:
        console.print(f"wrote {path}")


def _run_year_and_cohort(results_dir: Path) -> tuple[int | None, str | None]:
    """Report year and hovedveje cohort of the run whose results are in ``results_dir`` (from its
    provenance.json), so that `star report` describes the run it renders; (None, None) if unknown."""
    import json

    path = results_dir / "provenance.json"
    if not path.exists():
        return None, None
    try:
        cfg = json.loads(path.read_text(encoding="utf-8")).get("config", {})
    except ValueError:
        return None, None
    return cfg.get("report", {}).get("year"), cfg.get("cohorts", {}).get("stock_quarter")


def _audit_or_exit(results_dir: Path, cfg: Any, html: list[Path]) -> None:
    """Run the disclosure audit (results tables; HTML against the input's person ids)."""
    import pandas as pd

    from pipelines.audit import audit as run_audit

    persons = cfg.paths.work_dir / "ingest" / "validated" / "persons.parquet"
    ids = pd.read_parquet(persons, columns=["person_id"])["person_id"] if persons.exists() else []
    violations = run_audit([] if html else [results_dir], cfg.disclosure.threshold, ids, html)
    if violations:
        console.print(f"[bold red]{len(violations)} disclosure violation(s):[/]")
        for v in violations[:50]:
            console.print(f"  {v}")
        raise typer.Exit(1)


@app.command()
@friendly_errors
def derive(
    config: Path | None = ConfigOption,
    validated_dir: Path | None = typer.Option(
        None, help="Validated register tables (default: <work_dir>/ingest/validated)."
    ),
    out: Path | None = typer.Option(None, help="Output directory (default: <work_dir>/derived)."),
) -> None:
    """Derive spells, cohorts, monthly states, half-year sequences, start-stop and person-month
    frames (Parquet) from the validated register tables."""
    from pipelines.config import load_config
    from pipelines.derive import build_all

    cfg = load_config(config)
    work = cfg.paths.work_dir
    paths = build_all(
        validated_dir or work / "ingest" / "validated",
        out or work / "derived",
        cfg,
        progress=lambda msg: log.info("derive: %s", msg),
    )
    console.print(f"[green]wrote[/] {len(paths)} files to {paths['spells'].parent}")


@app.command("check-spells")
@friendly_errors
def check_spells(
    synthetic_dir: Path = typer.Argument(
        ..., help="A synthetic register (with ground_truth/true_spells.parquet)."
    ),
    config: Path | None = ConfigOption,
    out: Path | None = typer.Option(
        None, help="Where the CSVs go (default: <results_dir>/derive)."
    ),
    compare_rules: bool = typer.Option(
        False, help="Also rebuild under the alternative gap rules and write gap_rules.csv."
    ),
) -> None:
    """Compare rebuilt (and naive case-start) seniority with the synthetic register's true spells
    at the configured reference date; writes seniority_accuracy.csv and seniority_errors.csv
    (and gap_rules.csv with --compare-rules)."""
    import pandas as pd

    from pipelines.config import load_config
    from pipelines.derive import benefit_shape, build_spells, write_seniority_validation

    cfg = load_config(config)
    bpath, shape = benefit_shape(synthetic_dir, cfg)
    hours = synthetic_dir / "monthly_paid_hours.parquet"
    spells = build_spells(
        bpath, shape=shape, paid_hours=hours if hours.exists() else None, config=cfg
    )
    paths = write_seniority_validation(
        spells,
        synthetic_dir / "ground_truth" / "true_spells.parquet",
        cfg.cohorts.reference_date,
        out or cfg.paths.results_dir / "derive",
        benefits=bpath,
        shape=shape,
        config=cfg,
        compare_rules=compare_rules,
    )
    acc = pd.read_csv(paths["accuracy"])
    for r in acc.itertuples():
        console.print(
            f"{r.method}: {r.n_true} on KH on {cfg.cohorts.reference_date}; exact {r.share_exact:.1%}, "
            f"within 31 days {r.share_within_31d:.1%}, same seniority group {r.share_same_group:.1%}; "
            f"true start inside the window ({r.n_observable}): within 31 days "
            f"{r.share_within_31d_observable:.1%}; started before the window: {r.n_left_truncated_true}"
        )


def _adapt_for_cli(raw_dir: Path, extract: Path, cfg: Any, policy: str | None = None) -> Path:
    """Convert a DST-style extract into <work_dir>/dst; print unknown codes; return the tables dir."""
    from data_schema.mapping import load_state_mapping
    from pipelines.dst.adapt import UnknownCodesError, adapt_extract, load_extract_config

    ext = load_extract_config(extract)
    if policy is not None:
        ext = ext.model_copy(update={"unknown_codes": policy})
    out = cfg.paths.work_dir / "dst"
    try:
        res = adapt_extract(
            Path(raw_dir),
            ext,
            out,
            load_state_mapping(cfg.state_mapping),
            (cfg.extract_window.start, cfg.extract_window.end),
            threads=cfg.engine.duckdb_threads,
        )
    except UnknownCodesError as exc:
        _print_unknown(exc.table)
        raise
    _print_unknown(res.unknown)
    for note in res.notes:
        console.print(f"[dim]note:[/] {note}")
    return out / "tables"


def _print_unknown(table) -> None:
    if not len(table):
        console.print("[green]every code is in the code lists and the state mapping[/]")
        return
    t = Table(title="Codes missing from the code lists / state mapping")
    for col in ("file", "column", "code", "rows", "person-weeks", "share"):
        t.add_column(col, justify="right" if col in ("rows", "person-weeks", "share") else "left")
    for r in table.itertuples():
        t.add_row(r.file, r.column, str(r.code), f"{r.rows:,}", f"{r.person_weeks:,.0f}",
                  f"{r.share_person_weeks:.2%}")  # fmt: skip
    console.print(t)


def _print_unknown_benefit_codes(result) -> None:
    """Benefit codes missing from the state mapping, with counts and share of person-weeks."""
    from pipelines.dst.codes_report import unknown_benefit_codes

    table = unknown_benefit_codes(result)
    if len(table):
        _print_unknown(table)


@app.command("init-extract")
@friendly_errors
def init_extract(
    raw_dir: Path = typer.Argument(
        ..., help="Directory with the DST-style extract (SAS/CSV/Parquet)."
    ),
    out: Path = typer.Option(
        Path("extract-config"),
        "--out",
        help="Where extract.yaml, state_mapping.yaml, star.yaml go.",
    ),
    unknown_codes: str = typer.Option(
        "stop", help="What ingest does with unknown codes: stop, quarantine or other."
    ),
) -> None:
    """Recognise the registers of an extract by their variable names (headers only) and write a
    configuration and a state-mapping copy to edit; list what was not recognised."""
    from pipelines.dst.init_extract import inspect_extract, write_config

    if unknown_codes not in ("stop", "quarantine", "other"):
        raise ValueError(
            f"--unknown-codes must be stop, quarantine or other, not {unknown_codes!r}"
        )
    insp = inspect_extract(raw_dir)
    t = Table(title=f"Registers in {raw_dir}")
    t.add_column("file")
    t.add_column("layout")
    for f, lay in insp.recognised.items():
        t.add_row(f, lay)
    for f, why in insp.unrecognised.items():
        t.add_row(f, f"[red]not recognised[/]: {why}")
    console.print(t)
    for f, cols in insp.unmatched_columns.items():
        console.print(f"[yellow]{f}[/]: variables not used by its layout: {', '.join(cols)}")
    paths = write_config(Path(raw_dir), out, insp, unknown_codes)
    for p in paths.values():
        console.print(f"wrote {p}")
    console.print(
        f"next: star validate {raw_dir} --config {paths['config']} --extract {paths['extract']}\n"
        f"      star run --raw-dir {raw_dir} --config {paths['config']} --extract {paths['extract']}"
    )


@app.command()
@friendly_errors
def synth(
    size: str = typer.Option(
        "default", "--size", help="tiny (tests), default (the demo) or national (full scale)."
    ),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives identical files."),
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default: data/synthetic/<size>)."
    ),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv."),
    weekly: bool = typer.Option(
        False, "--weekly", help="Also write weekly_benefit_codes (large at national size)."
    ),
    layout: str = typer.Option(
        "native",
        "--layout",
        help="native (the project's tables) or dst (DST-style registers: SAS .xpt, Latin-1 CSV, "
        "DREAM wide Parquet; the native tables in <out>/native).",
    ),
    extract_end: str | None = typer.Option(
        None,
        "--extract-end",
        help="Last day of the extract (YYYY-MM-DD; default: the end of the simulation): the same "
        "persons and histories cut there, e.g. this year's and next year's delivery.",
    ),
) -> None:
    """Generate the synthetic register (all tables + ground_truth/) into a directory."""
    from pipelines.calibration.expected import synthesize

    if layout not in ("native", "dst"):
        raise ValueError(f"--layout must be native or dst, not {layout!r}")
    if layout == "dst":
        from pipelines.dst.synth import synth_dst

        if extract_end is not None:
            raise ValueError("--extract-end is supported with --layout native only")
        out_dir = out or Path("data/synthetic") / f"{size}-dst"
        with ProgressBar(f"synthetic register ({size}, DST layout)") as bar:
            files = synth_dst(size, seed, out_dir, progress=bar)
        for name, path in files.items():
            console.print(f"{name:16} {path}")
        console.print(f"next: star init-extract {out_dir}")
        return

    if size not in ("tiny", "default", "national"):
        raise ValueError(f"--size must be tiny, default or national, not {size!r}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"--format must be parquet or csv, not {fmt!r}")
    out_dir = out or Path("data/synthetic") / size
    with ProgressBar(f"synthetic register ({size})") as bar:
        result = synthesize(
            size, seed, out_dir, fmt=fmt, weekly=weekly, progress=bar, extract_end=extract_end
        )
    table = Table(title=f"Synthetic register in {out_dir}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in result.rows.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    console.print(f"ground truth in {out_dir / 'ground_truth'}; {timing}")


if __name__ == "__main__":
    app()

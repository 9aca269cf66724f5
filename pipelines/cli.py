"""The ``star`` command line. Logging and progress display are set up here and only here.

Exit codes: 0 success; 1 the input has quarantined rows (``validate`` only); 2 the input or the
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
            console.print(f"[bold red]error:[/] {exc}")
            if _state["verbose"]:
                console.print_exception()
            raise typer.Exit(2) from None
        except Exception as exc:  # unexpected: say so, point at --verbose
            console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}")
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
    table = Table(title=f"Extract {result.raw_dir}")
    for col in ("table", "file", "format", "encoding", "read", "accepted", "quarantined", "status"):
        table.add_column(
            col, justify="right" if col in ("read", "accepted", "quarantined") else "left"
        )
    for name, r in result.tables.items():
        status = (
            f"[red]UNUSABLE: {r.fatal}[/]"
            if r.fatal
            else ("[green]ok[/]" if not r.n_quarantined else "[yellow]rows quarantined[/]")
        )
        table.add_row(
            name,
            r.file.name if r.file else "",
            r.format or "",
            r.encoding or "",
            str(r.n_read),
            str(r.n_accepted),
            str(r.n_quarantined),
            status,
        )
    console.print(table)
    for p in result.problems:
        console.print(f"[red]problem:[/] {p}")
    v = result.violations()
    if len(v):
        console.print(f"{len(v)} violation(s); first {min(len(v), max_violations)}:")
        for row in v.head(max_violations).itertuples(index=False):
            where = f"{row.file} row {row.row}" + (
                f" (line {row.line})" if not _isna(row.line) else ""
            )
            console.print(f"  {where}, column {row.column}: {row.rule} [dim]{row.value}[/]")


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
) -> None:
    """Validate a register extract without writing anything; list every violation.

    Exit 0 when every row is valid, 1 when rows would be quarantined, 2 when a table is unusable.
    """
    from pipelines.config import load_config
    from pipelines.ingest import validate_extract

    cfg = load_config(config)
    with ProgressBar("validating") as bar:
        result = validate_extract(raw_dir, cfg, progress=bar)
    _print_extract_result(result)
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
) -> None:
    """Validate a register extract and write accepted rows to Parquet, rejected rows to quarantine.

    Exit 0 when every table is usable (quarantined rows are listed), 2 when a table is unusable.
    """
    from pipelines.config import load_config
    from pipelines.ingest import ingest as run_ingest

    cfg = load_config(config)
    out = work_dir or cfg.paths.work_dir
    with ProgressBar("ingesting") as bar:
        result = run_ingest(raw_dir, out, cfg, progress=bar)
    _print_extract_result(result)
    console.print(f"validated tables in {out / 'validated'}, quarantine in {out / 'quarantine'}")
    if not result.ok:
        raise typer.Exit(2)


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
) -> None:
    """Generate the synthetic register (all tables + ground_truth/) into a directory."""
    from pipelines.synthetic import generate

    if size not in ("tiny", "default", "national"):
        raise ValueError(f"--size must be tiny, default or national, not {size!r}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"--format must be parquet or csv, not {fmt!r}")
    out_dir = out or Path("data/synthetic") / size
    with ProgressBar(f"synthetic register ({size})") as bar:
        result = generate(size, seed, out_dir, fmt=fmt, weekly=weekly, progress=bar)
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

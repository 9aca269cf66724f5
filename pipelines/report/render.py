"""The report stage: render the four documents of ``reports/`` to PDF and HTML.

``quarto render`` is used when ``quarto`` is on PATH (engine ``auto``/``quarto``); otherwise the
package renders the same ``.qmd`` sources itself (:mod:`pipelines.report.builtin`). Either way the
documents read only the results directory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from . import builtin
from .colophon import run_date
from .fmt import fmt_date

log = logging.getLogger("star.report")

DOCUMENTS: tuple[str, ...] = ("annual", "brief", "technical", "reproduction")
"""The documents of the Quarto project, in rendering order (``reports/<name>.qmd``)."""
Format = Literal["pdf", "html"]
Engine = Literal["auto", "quarto", "builtin"]
Progress = Callable[[str, int, int], None]

DEFAULT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "reports"


@dataclass(frozen=True)
class ReportParams:
    """Parameters of the documents (Quarto's parameters cell).

    Attributes
    ----------
    year
        Year of the annual report (compared with the previous years).
    cohort
        Hovedveje cohort, a quarter such as ``2018Q1``.
    lang
        ``da`` (default) or ``en``.
    threshold
        Disclosure threshold; ``None`` = the run's configuration from the provenance manifest.
    """

    year: int = 2021
    cohort: str = "2018Q1"
    lang: Literal["da", "en"] = "da"
    threshold: int | None = None


def _params(params: ReportParams | Mapping[str, Any] | None) -> ReportParams:
    if params is None:
        return ReportParams()
    if isinstance(params, ReportParams):
        return params
    known = set(ReportParams.__dataclass_fields__)
    unknown = set(params) - known
    if unknown:
        raise ValueError(f"unknown report parameter(s): {sorted(unknown)}; known: {sorted(known)}")
    return ReportParams(**dict(params))


def output_stem(document: str, lang: str) -> str:
    """File name stem of a rendered document: ``brief`` (Danish) or ``brief-en`` (English)."""
    return document if lang == "da" else f"{document}-{lang}"


def _provenance(results_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((results_dir / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _timestamp(iso: str | None) -> int:
    """Seconds since the epoch of the run's date (PDF creation date), 0 when unknown."""
    if not iso:
        return 0
    ts = pd.Timestamp(iso)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.timestamp())


def quarto_available() -> bool:
    return shutil.which("quarto") is not None


def render_document(
    qmd: Path,
    results_dir: Path,
    out_dir: Path,
    params: ReportParams,
    formats: Sequence[Format] = ("pdf", "html"),
    *,
    engine: Engine = "auto",
    progress: Callable[[str], None] | None = None,
    session: builtin.KernelSession | None = None,
) -> list[Path]:
    """Render one document; return the written files (PDF and/or HTML).

    Intermediate files (Markdown, Typst source, figures) are kept under
    ``out_dir/_build/<stem>/`` for inspection. ``session`` is a running kernel to reuse
    (built-in engine); without it a kernel is started for this document.
    """
    qmd, results_dir, out_dir = Path(qmd).resolve(), Path(results_dir).resolve(), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir = out_dir.resolve()
    stem = output_stem(qmd.stem, params.lang)
    use_quarto = engine == "quarto" or (engine == "auto" and quarto_available())
    if engine == "quarto" and not quarto_available():
        raise FileNotFoundError("engine 'quarto' requested but quarto is not on PATH")
    provenance = _provenance(results_dir)
    created = run_date(provenance)
    date = fmt_date(created, params.lang) if created else None
    values = {
        "year": params.year,
        "cohort": params.cohort,
        "results_dir": str(results_dir),
        "lang": params.lang,
        "threshold": params.threshold,
    }
    if use_quarto:
        return _render_quarto(qmd, out_dir, stem, values, formats, date, progress)

    project = _project_config(qmd.parent)
    front, _ = builtin.split_front_matter(qmd.read_text(encoding="utf-8"))
    defaults = {**(project.get("execute") or {}), **(front.get("execute") or {})}
    resources = builtin.Resources.of_project(qmd.parent)
    build = out_dir / "_build" / stem
    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)

    if progress:
        progress(f"{stem}: executing")
    nb = builtin.read_notebook(qmd.read_text(encoding="utf-8"))
    builtin.prepare_inline(nb)
    builtin.inject_parameters(nb, values)
    if session is not None:
        session.execute(nb, qmd.parent, name=qmd.name)
    else:
        builtin.execute(nb, qmd.parent, name=qmd.name)
    body = builtin.assemble(
        nb, defaults, stem=stem, lang=params.lang, figures_dir=build / "figures"
    )
    meta = builtin.pandoc_metadata(front, params.lang, date)
    markdown = builtin.markdown_document(meta, body)
    (build / f"{stem}.md").write_text(markdown, encoding="utf-8")

    written: list[Path] = []
    if "html" in formats:
        if progress:
            progress(f"{stem}: HTML")
        written.append(
            builtin.to_html(
                markdown, out_dir / f"{stem}.html", resources=resources, build_dir=build, meta=meta
            )
        )
    if "pdf" in formats:
        if progress:
            progress(f"{stem}: PDF")
        typ = builtin.to_typst(
            markdown, build / f"{stem}.typ", resources=resources, build_dir=build
        )
        written.append(builtin.to_pdf(typ, out_dir / f"{stem}.pdf", timestamp=_timestamp(created)))
    return written


def _project_config(project_dir: Path) -> dict[str, Any]:
    import yaml

    path = project_dir / "_quarto.yml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _render_quarto(
    qmd: Path,
    out_dir: Path,
    stem: str,
    values: Mapping[str, Any],
    formats: Sequence[Format],
    date: str | None,
    progress: Callable[[str], None] | None,
) -> list[Path]:
    """``quarto render`` of one document into ``out_dir`` (PDF through Quarto's Typst format)."""
    written = []
    for fmt in formats:
        if progress:
            progress(f"{stem}: quarto {fmt}")
        to = "typst" if fmt == "pdf" else "html"
        target = f"{stem}.{fmt}"
        cmd = ["quarto", "render", str(qmd), "--to", to, "--output", target]
        for k, v in values.items():
            if v is not None:
                cmd += ["-P", f"{k}:{v}"]
        cmd += ["-M", f"lang:{values['lang']}"]
        if date:
            cmd += ["-M", f"date:{date}"]
        proc = subprocess.run(cmd, cwd=qmd.parent, capture_output=True, text=True)
        if proc.returncode != 0:
            raise builtin.RenderError(f"quarto render {qmd.name} failed:\n{proc.stderr[-4000:]}")
        produced = qmd.parent / target
        if not produced.is_file():  # inside a project Quarto writes to the project's output-dir
            produced = qmd.parent / "_output" / target
        final = out_dir / target
        if produced.resolve() != final.resolve():
            shutil.move(str(produced), final)
        written.append(final)
    return written


def render_reports(
    results_dir: Path | str,
    out_dir: Path | str,
    params: ReportParams | Mapping[str, Any] | None = None,
    formats: Iterable[Format] = ("pdf", "html"),
    *,
    documents: Sequence[str] = DOCUMENTS,
    project_dir: Path | str | None = None,
    engine: Engine = "auto",
    progress: Progress | None = None,
) -> list[Path]:
    """Render the documents of the Quarto project from a results directory.

    Parameters
    ----------
    results_dir
        Directory written by ``star run`` (tables under ``<area>/``, ``provenance.json``).
    out_dir
        Where the PDFs and HTMLs are written (``<doc>.pdf``; ``<doc>-en.pdf`` in English).
    params
        :class:`ReportParams` or a mapping of its fields (year, cohort, lang, threshold).
    formats
        Any of ``pdf``, ``html``.
    documents
        Names of the documents (``reports/<name>.qmd``), default all four.
    project_dir
        The Quarto project (default: ``reports/`` of this repository).
    engine
        ``auto`` (Quarto when on PATH, else built-in), ``quarto`` or ``builtin``.
    progress
        Callback ``progress(label, done, total)`` after each step.

    Returns
    -------
    list of Path
        The files written, in order.
    """
    p = _params(params)
    formats = [f for f in formats]
    bad = [f for f in formats if f not in ("pdf", "html")]
    if bad:
        raise ValueError(f"unknown format(s) {bad}; use pdf and/or html")
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(
            f"{results_dir}: results directory not found (run `star run` first)"
        )
    project = Path(project_dir) if project_dir else DEFAULT_PROJECT_DIR
    missing = [d for d in documents if not (project / f"{d}.qmd").is_file()]
    if missing:
        raise FileNotFoundError(f"{project}: no document(s) {missing}")
    total = len(documents) * (1 + len(formats))
    done = 0
    written: list[Path] = []

    def step(label: str) -> None:
        nonlocal done
        if progress:
            progress(label, done, total)
        done += 1

    log.info("rendering %s to %s with %s", ", ".join(documents), out_dir, asdict(p))
    use_builtin = engine == "builtin" or (engine == "auto" and not quarto_available())
    with contextlib.ExitStack() as stack:
        session = (
            stack.enter_context(builtin.KernelSession(project.resolve())) if use_builtin else None
        )
        for doc in documents:
            written += render_document(
                project / f"{doc}.qmd",
                results_dir,
                Path(out_dir),
                p,
                formats,
                engine=engine,
                progress=step,
                session=session,
            )
    if progress:
        progress("done", total, total)
    return written

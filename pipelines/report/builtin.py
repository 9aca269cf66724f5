"""Render a Quarto ``.qmd`` document without Quarto: Jupyter kernel + Pandoc + Typst.

Quarto is not installable from Python's package index, so where it is missing the package renders
the same sources itself, following what Quarto does with a Jupyter document:

1. ``jupytext`` reads the ``.qmd`` (R-Markdown chunk syntax ```` ```{python} ````) into a notebook;
   cell options are the leading ``#|`` YAML lines of a cell.
2. The parameter values are injected in a new cell after the cell tagged ``parameters``
   (as Quarto and papermill do); a hidden setup cell configures inline PNG figures.
3. ``nbclient`` executes the notebook on a kernel running this very Python (a kernel spec is
   written to a private directory, so it works in a fresh virtual environment without
   ``jupyter kernelspec install``). The working directory is the document's directory.
4. Outputs become Markdown, honouring the cell options ``echo``, ``output`` (``false``/``asis``),
   ``include``, ``warning``, ``label``, ``fig-cap``, ``tbl-cap``; figures are written as PNG
   files; ``@fig-…``/``@tbl-…`` references are numbered in document order ("Figur 1").
5. Pandoc (``pypandoc-binary``) writes self-contained HTML and Typst (with the project's
   template and Lua filter); Typst (``typst`` package) compiles the PDF with its embedded fonts
   only, so the PDF does not depend on the fonts installed on the machine.

Same inputs give the same Markdown, HTML, Typst and PDF: no clock is read (the date shown is the
run's date from the provenance manifest, passed in as metadata).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("star.report")
_QUIET = logging.getLogger("star.report.kernel")
_QUIET.setLevel(logging.WARNING)  # nbclient logs every execution at INFO

CELL_OPTION = re.compile(r"^#\|\s?(.*)$")
CROSSREF = re.compile(r"(?<![\w@\\])\??@((?:fig|tbl)-[A-Za-z0-9_:-]*[A-Za-z0-9_])")
PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
PIPE_SEP = re.compile(r"^\s*\|(\s*:?-{3,}:?\s*\|)+\s*$")
INLINE = re.compile(r"`\{python\}\s+([^`]+?)`")
KERNEL_NAME = "star-kh-python3"
INLINE_MARK = "\x1estar-inline\x1e"

# Keys of the document's metadata passed on to Pandoc (Quarto-only keys are dropped).
PANDOC_META = (
    "title",
    "subtitle",
    "short-title",
    "abstract",
    "toc",
    "toc-title",
    "toc-depth",
    "number-sections",
)

WORDS = {
    "da": {"fig": "Figur", "tbl": "Tabel", "toc": "Indhold", "page": "Side", "of": "af"},
    "en": {"fig": "Figure", "tbl": "Table", "toc": "Contents", "page": "Page", "of": "of"},
}


class RenderError(RuntimeError):
    """A document could not be rendered; the message names the document and the cell."""


@dataclass(frozen=True)
class Resources:
    """Files of the Quarto project used by the renderer."""

    lua_filter: Path
    typst_template: Path
    css: Path

    @classmethod
    def of_project(cls, project_dir: Path) -> Resources:
        res = project_dir / "_resources"
        out = cls(res / "star.lua", res / "star-template.typ", res / "star.css")
        for p in (out.lua_filter, out.typst_template, out.css):
            if not p.is_file():
                raise FileNotFoundError(f"{p}: report resource missing from the Quarto project")
        return out


@dataclass
class Block:
    """A piece of the output document: Markdown text or a figure image."""

    markdown: str = ""
    image: bytes | None = None
    image_name: str = ""


@dataclass
class CellResult:
    options: dict[str, Any]
    blocks: list[Block] = field(default_factory=list)


# --------------------------------------------------------------------------- parsing


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Front matter (YAML between ``---`` lines at the top) and the rest of the document."""
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, flags=re.S)
    if not m:
        return {}, text
    return (yaml.safe_load(m.group(1)) or {}), text[m.end() :]


def cell_options(source: str) -> tuple[dict[str, Any], str]:
    """Quarto cell options (leading ``#|`` YAML lines) and the code without them."""
    lines = source.splitlines()
    opt_lines = []
    i = 0
    while i < len(lines) and CELL_OPTION.match(lines[i]):
        opt_lines.append(CELL_OPTION.match(lines[i]).group(1))  # type: ignore[union-attr]
        i += 1
    try:
        opts = yaml.safe_load("\n".join(opt_lines)) or {} if opt_lines else {}
    except yaml.YAMLError as exc:
        raise RenderError(f"invalid cell options {opt_lines!r}: {exc}") from exc
    return opts, "\n".join(lines[i:]).strip("\n")


def read_notebook(qmd_text: str) -> Any:
    """The ``.qmd`` source as a notebook (``jupytext``'s R-Markdown reader handles ``{python}``)."""
    import jupytext

    _, body = split_front_matter(qmd_text)
    nb = jupytext.reads(body, fmt="Rmd")
    nb.cells = [c for c in nb.cells if c.cell_type != "raw"]
    for c in nb.cells:
        if c.cell_type == "code":
            opts, _ = cell_options(c.source)
            c.metadata["quarto"] = opts
    return nb


def prepare_inline(nb: Any) -> None:
    """Evaluate inline expressions (`` `{python} expr` ``) in the kernel, in document order.

    Before each Markdown cell that has inline expressions a hidden cell is inserted that prints
    their values (``str``); :func:`assemble` puts the values in place of the expressions.
    """
    import nbformat

    cells = []
    for c in nb.cells:
        exprs = INLINE.findall(c.source) if c.cell_type == "markdown" else []
        if exprs:
            body = ", ".join(f"str({e.strip()})" for e in exprs)
            code = f"print({INLINE_MARK!r} + __import__('json').dumps([{body}]))"
            cells.append(nbformat.v4.new_code_cell(code, metadata={"star_inline": True}))
        cells.append(c)
    nb.cells = cells


def inject_parameters(nb: Any, params: Mapping[str, Any]) -> None:
    """Insert the parameter values after the cell tagged ``parameters`` (else at the top)."""
    import nbformat

    code = "# injected parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(code, metadata={"star_injected": True})
    at = 0
    for i, c in enumerate(nb.cells):
        tags = list(c.metadata.get("quarto", {}).get("tags", [])) + list(c.metadata.get("tags", []))
        if c.cell_type == "code" and "parameters" in tags:
            at = i + 1
            break
    nb.cells.insert(at, cell)


SETUP_CODE = """\
import matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as _star_plt
_star_plt.close("all")
from matplotlib_inline.backend_inline import set_matplotlib_formats as _star_formats
_star_formats("png")
del _star_formats, _star_plt
"""


# --------------------------------------------------------------------------- execution


def _kernel_dir(root: Path) -> Path:
    """A kernel spec for this Python, in a private directory (no global registration needed)."""
    kdir = root / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (star-kh)",
        "language": "python",
        "env": {"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "0", "MPLBACKEND": "Agg"},
    }
    (kdir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return root / "kernels"


class KernelSession:
    """One Jupyter kernel (running this Python) shared by the documents of one rendering.

    Starting a kernel and importing pandas/matplotlib takes most of a document's rendering time,
    so the documents of one ``render_reports`` call share a kernel. Each document starts with
    ``%reset -f`` (an empty namespace) and the same setup, so its output does not depend on the
    documents rendered before it.
    """

    def __init__(self, cwd: Path, *, timeout: int = 900):
        self.cwd = Path(cwd)
        self.timeout = timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._kernel_log: Any = None
        self.km: Any = None
        self.kc: Any = None

    def __enter__(self) -> KernelSession:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        self._tmp = tempfile.TemporaryDirectory(prefix="star-kernel-")
        tmp = Path(self._tmp.name)
        ksm = KernelSpecManager(kernel_dirs=[str(_kernel_dir(tmp))])
        self.km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm, transport="ipc")
        self.km.ip = str(tmp / "ipc")  # IPC sockets in the private directory, not in cwd
        # The kernel's own stdout/stderr go to a log file (shown when the kernel fails), not
        # to the terminal of `star report`.
        self._kernel_log = open(tmp / "kernel.log", "wb")  # closed in __exit__
        self.km.start_kernel(cwd=str(self.cwd), stdout=self._kernel_log, stderr=self._kernel_log)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=120)
        except RuntimeError as exc:
            self.__exit__(None, None, None)
            raise RenderError(f"the Jupyter kernel did not start: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        finally:
            if self._kernel_log is not None:
                self._kernel_log.close()
                self._kernel_log = None
            if self._tmp is not None:
                self._tmp.cleanup()
            self.kc = self.km = self._tmp = None

    def execute(self, nb: Any, cwd: Path, *, name: str = "document") -> Any:
        """Execute the notebook in place; raise :class:`RenderError` on a cell error."""
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        if self.km is None:
            raise RuntimeError("KernelSession.execute outside its with-block")
        setup = RESET_CODE.format(cwd=str(Path(cwd).resolve())) + SETUP_CODE
        nb.cells.insert(0, nbformat.v4.new_code_cell(setup, metadata={"star_injected": True}))
        client = NotebookClient(
            nb,
            km=self.km,
            timeout=self.timeout,
            allow_errors=False,
            record_timing=False,
            log=_QUIET,
        )
        client.kc = self.kc
        try:
            client.execute()
        except CellExecutionError as exc:
            raise RenderError(f"{name}: a code cell failed:\n{exc}") from None
        except (RuntimeError, TimeoutError) as exc:  # the kernel died or hung
            raise RenderError(
                f"{name}: the kernel failed: {exc}\n{self.kernel_log_tail()}"
            ) from None
        return nb

    def kernel_log_tail(self, n_chars: int = 3000) -> str:
        """The end of the kernel's own output (for error messages)."""
        if self._tmp is None:
            return ""
        path = Path(self._tmp.name) / "kernel.log"
        try:
            return path.read_bytes()[-n_chars:].decode("utf-8", "replace")
        except OSError:
            return ""


RESET_CODE = """\
get_ipython().run_line_magic("reset", "-f")
import os as _os
_os.chdir({cwd!r})
del _os
"""


def execute(nb: Any, cwd: Path, *, timeout: int = 900, name: str = "document") -> Any:
    """Execute one notebook on a fresh kernel (see :class:`KernelSession` to share one)."""
    with KernelSession(cwd, timeout=timeout) as session:
        return session.execute(nb, cwd, name=name)


# --------------------------------------------------------------------------- outputs


def _fenced(text: str, lang: str = "") -> str:
    return f"\n```{lang}\n{text.rstrip()}\n```\n"


def cell_blocks(cell: Any, defaults: Mapping[str, Any], stem: str, index: int) -> CellResult:
    """Markdown blocks of one executed code cell, by its Quarto options."""
    opts = {**defaults, **cell.metadata.get("quarto", {})}
    result = CellResult(opts)
    if cell.metadata.get("star_injected") or opts.get("include") is False:
        return result
    _, code = cell_options(cell.source)
    if opts.get("echo") is True and code:
        result.blocks.append(Block(_fenced(code, "python")))
    output = opts.get("output", True)
    if output is False:
        return result
    asis = output == "asis"
    label = str(opts.get("label") or f"cell-{index}")
    stream: list[str] = []

    def flush() -> None:
        if stream:
            text = "".join(stream)
            result.blocks.append(Block(("\n" + text + "\n") if asis else _fenced(text)))
            stream.clear()

    n_img = 0
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            if out.get("name") == "stdout":
                stream.append(out.get("text", ""))
            elif opts.get("warning") is True:
                flush()
                result.blocks.append(Block(_fenced(out.get("text", ""))))
            else:
                for line in out.get("text", "").splitlines():
                    if line.strip():
                        log.info("%s [%s]: %s", stem, label, line)
            continue
        flush()
        if kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            if "image/png" in data:
                n_img += 1
                name = f"{label}.png" if n_img == 1 else f"{label}-{n_img}.png"
                result.blocks.append(
                    Block(image=base64.b64decode(data["image/png"]), image_name=name)
                )
            elif "text/markdown" in data:
                result.blocks.append(Block("\n" + data["text/markdown"] + "\n"))
            elif "text/plain" in data and kind == "execute_result":
                result.blocks.append(Block(_fenced(data["text/plain"])))
        elif kind == "error":  # only with allow_errors
            raise RenderError(f"{stem}: cell {label}: {out.get('ename')}: {out.get('evalue')}")
    flush()
    return result


def _has_table(text: str) -> bool:
    lines = text.splitlines()
    return any(
        PIPE_ROW.match(a) and PIPE_SEP.match(b) for a, b in zip(lines, lines[1:], strict=False)
    )


def _add_table_caption(text: str, caption: str) -> str:
    """Put a Pandoc table caption (``: caption {#tbl-x}``) right after the first pipe table."""
    lines = text.splitlines()
    start = next(
        i
        for i, (a, b) in enumerate(zip(lines, lines[1:], strict=False))
        if PIPE_ROW.match(a) and PIPE_SEP.match(b)
    )
    end = start
    while end + 1 < len(lines) and PIPE_ROW.match(lines[end + 1]):
        end += 1
    return "\n".join([*lines[: end + 1], "", caption, "", *lines[end + 1 :]])


def _escape_caption(text: str) -> str:
    return " ".join(str(text).split())


def assemble(
    nb: Any,
    defaults: Mapping[str, Any],
    *,
    stem: str,
    lang: str,
    figures_dir: Path,
    figures_rel: str = "figures",
) -> str:
    """The document body as Pandoc Markdown with numbered figures/tables and resolved references."""
    words = WORDS.get(lang, WORDS["en"])
    cells: list[tuple[str, Any]] = []
    inline_values: list[str] = []
    for i, c in enumerate(nb.cells):
        if c.metadata.get("star_inline"):
            text = "".join(
                o.get("text", "") for o in c.get("outputs", []) if o.get("name") == "stdout"
            )
            inline_values = json.loads(text.split(INLINE_MARK, 1)[1]) if INLINE_MARK in text else []
        elif c.cell_type == "markdown":
            source = c.source
            if inline_values:
                values = iter(inline_values)
                source = INLINE.sub(lambda _m, v=values: next(v, ""), source)
                inline_values = []
            cells.append(("md", source))
        elif c.cell_type == "code":
            cells.append(("code", cell_blocks(c, defaults, stem, i)))

    # Pass 1: numbers, in document order, for figures/tables that actually appear.
    numbers: dict[str, str] = {}
    counters = {"fig": 0, "tbl": 0}
    for kind, item in cells:
        if kind != "code":
            continue
        label = str(item.options.get("label") or "")
        if label.startswith("fig-") and any(b.image for b in item.blocks):
            counters["fig"] += 1
            numbers[label] = f"{words['fig']} {counters['fig']}"
        elif label.startswith("tbl-") and any(_has_table(b.markdown) for b in item.blocks):
            counters["tbl"] += 1
            numbers[label] = f"{words['tbl']} {counters['tbl']}"

    def resolve(text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            label = m.group(1)
            if label in numbers:
                return f"[{numbers[label]}](#{label})"
            log.warning("%s: unresolved cross-reference @%s", stem, label)
            return f"{words[label[:3]]} ?"

        return CROSSREF.sub(sub, text)

    # Pass 2: Markdown.
    figures_dir.mkdir(parents=True, exist_ok=True)
    parts: list[str] = []
    for kind, item in cells:
        if kind == "md":
            parts.append(resolve(item))
            continue
        label = str(item.options.get("label") or "")
        fig_cap = item.options.get("fig-cap")
        tbl_cap = item.options.get("tbl-cap")
        first_image, table_done = True, False
        for b in item.blocks:
            if b.image is not None:
                (figures_dir / b.image_name).write_bytes(b.image)
                src = f"{figures_rel}/{b.image_name}"
                if label in numbers and first_image and label.startswith("fig-"):
                    cap = f"{numbers[label]}" + (
                        f": {resolve(_escape_caption(fig_cap))}" if fig_cap else ""
                    )
                    parts.append(f"\n![{cap}]({src}){{#{label}}}\n")
                else:
                    parts.append(f"\n![]({src})\n")
                first_image = False
            else:
                text = resolve(b.markdown)
                if (
                    label in numbers
                    and label.startswith("tbl-")
                    and not table_done
                    and _has_table(text)
                ):
                    cap = f"{numbers[label]}" + (
                        f": {resolve(_escape_caption(tbl_cap))}" if tbl_cap else ""
                    )
                    text = _add_table_caption(text, f": {cap} {{#{label}}}")
                    table_done = True
                parts.append(text)
    body = "\n\n".join(p.strip("\n") for p in parts if p.strip())
    return re.sub(r"\n{3,}", "\n\n", body) + "\n"


# --------------------------------------------------------------------------- pandoc / typst


def pandoc_metadata(front: Mapping[str, Any], lang: str, date: str | None) -> dict[str, Any]:
    """Metadata passed to Pandoc: the document's own keys plus language words and the run date."""
    words = WORDS.get(lang, WORDS["en"])
    meta = {k: front[k] for k in PANDOC_META if k in front}
    meta["lang"] = lang
    meta.setdefault("toc-title", words["toc"])
    meta["page-label"] = words["page"]
    meta["page-of"] = words["of"]
    if date:
        meta["date"] = date
    return meta


def markdown_document(meta: Mapping[str, Any], body: str) -> str:
    header = yaml.safe_dump(dict(meta), allow_unicode=True, sort_keys=True, width=1000)
    return f"---\n{header}---\n\n{body}"


def to_html(
    markdown: str, out: Path, *, resources: Resources, build_dir: Path, meta: Mapping[str, Any]
) -> Path:
    """Self-contained HTML (figures embedded) with Pandoc."""
    import pypandoc

    args = [
        "--standalone",
        "--embed-resources",
        f"--resource-path={build_dir}",
        f"--css={resources.css}",
        f"--lua-filter={resources.lua_filter}",
        "--wrap=none",
        "--columns=100",
    ]
    if meta.get("toc"):
        args.append("--toc")
        args.append(f"--toc-depth={meta.get('toc-depth', 2)}")
    if meta.get("number-sections"):
        args.append("--number-sections")
    pypandoc.convert_text(
        markdown,
        "html5",
        format="markdown",
        outputfile=str(out),
        extra_args=args,
        cworkdir=str(build_dir),
    )
    return out


def to_typst(markdown: str, out: Path, *, resources: Resources, build_dir: Path) -> Path:
    """Typst source with the project's template (figure paths relative to ``build_dir``)."""
    import pypandoc

    args = [
        "--standalone",
        f"--template={resources.typst_template}",
        f"--lua-filter={resources.lua_filter}",
        "--wrap=none",
        "--columns=100",
    ]
    pypandoc.convert_text(
        markdown,
        "typst",
        format="markdown",
        outputfile=str(out),
        extra_args=args,
        cworkdir=str(build_dir),
    )
    return out


# Typst writes the catalog entry ``/MarkInfo<</Marked true/Suspects false>>`` (a tagged PDF).
# That is valid PDF (ISO 32000-1, 14.7.1: Suspects is optional, default false), but poppler up
# to 25.11 reports every ``/Suspects false`` as "Syntax Error: Suspects object is wrong type
# (boolean)" (Catalog::getMarkInfo tests ``isBool() && getBool()`` before ``!isNull()``), so
# pdfinfo/pdftotext print that error for every document. The entry says nothing beyond the
# default, so it is blanked out: overwritten by spaces of the same length, which keeps every
# byte offset of the cross-reference table valid (qpdf --check stays clean).
_MARKINFO_SUSPECTS = re.compile(rb"(/MarkInfo\s*<<[^<>]*?)(/Suspects\s*false)")


def drop_default_suspects(pdf: bytes) -> bytes:
    """``pdf`` with the default ``/Suspects false`` of its ``/MarkInfo`` blanked (same length).

    Only an uncompressed catalog is touched (Typst writes it so); anything else is returned
    unchanged.
    """
    return _MARKINFO_SUSPECTS.sub(lambda m: m.group(1) + b" " * len(m.group(2)), pdf, count=1)


def to_pdf(typ: Path, out: Path, *, timestamp: int | None = None) -> Path:
    """Compile Typst to PDF with Typst's embedded fonts only (machine-independent)."""
    import typst

    pdf = typst.compile(
        str(typ),
        root=str(typ.parent),
        ignore_system_fonts=True,
        timestamp=timestamp if timestamp is not None else 0,
    )
    Path(out).write_bytes(drop_default_suspects(pdf))
    return out

"""The rendered documents as their readers meet them: HTML in a real browser, PDF in two readers.

The four documents are rendered (HTML and PDF) from the committed results fixture. Each HTML
file is opened in headless Chromium at a phone's width (375 CSS px, mobile emulation) over the
DevTools protocol (``tests/cdp_browser.py``): every image must load, the browser must report no console
error, exception or failed load, and the page must not be wider than the screen (wide tables
scroll inside their own box). Each PDF must pass ``qpdf --check`` and be read by poppler
(``pdfinfo``, ``pdftotext``) without a message on stderr. The same browser check runs on the tiny
register's documents in ``tests/pipeline/test_end_to_end.py``.

The browser and the PDF tools are system programs (Debian: ``apt-get install chromium qpdf
poppler-utils``); where one is missing its tests are skipped and say which.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cdp_browser import LAYOUT_PROBE, Chromium, find_browser, layout_problems

from pipelines.report import ReportParams
from pipelines.report.builtin import KernelSession, drop_default_suspects
from pipelines.report.render import DEFAULT_PROJECT_DIR, DOCUMENTS, render_document

pytestmark = pytest.mark.xdist_group("report-render")

FIXTURE = Path(__file__).with_name("fixtures") / "results"
BROWSER = find_browser()
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium on PATH (apt-get install chromium): browser check skipped"
)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (apt-get install qpdf poppler-utils)")
    return path


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("documents")
    with KernelSession(DEFAULT_PROJECT_DIR) as session:
        for doc in DOCUMENTS:
            render_document(
                DEFAULT_PROJECT_DIR / f"{doc}.qmd",
                FIXTURE,
                out,
                ReportParams(),
                ("html", "pdf"),
                engine="builtin",
                session=session,
            )
    return out


@pytest.fixture(scope="module")
def browser():
    with Chromium(BROWSER) as b:  # type: ignore[arg-type]
        yield b


@pytest.mark.slow  # the four documents render in ~15-30 s (one kernel, shared by both checks)
@needs_browser
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_html_in_a_phone_width_browser(documents: Path, browser: Chromium, doc: str) -> None:
    report = browser.load(documents / f"{doc}.html", LAYOUT_PROBE, width=375)
    v = report.value
    assert v["view"] == 375
    assert v["images"], f"{doc}.html has no image: the check would test nothing"
    assert layout_problems(report) == []
    if doc == "annual":  # its characteristics table is wider than a phone: it must scroll
        assert any(s["scrolls"] for s in v["scrollers"]), v["scrollers"]


BAD_PAGE = """<!DOCTYPE html><html><head><meta name="viewport"
content="width=device-width, initial-scale=1"></head><body>
<img src="missing-figure.png">
<table><tr><td style="white-space:nowrap">{wide}</td></tr></table>
<script>console.error("boom")</script>
</body></html>"""


@needs_browser
def test_the_browser_check_catches_a_bad_page(browser: Chromium, tmp_path: Path) -> None:
    """A missing image, a console error and a table wider than the phone are all reported."""
    page = tmp_path / "bad.html"
    page.write_text(BAD_PAGE.format(wide="wide " * 80), encoding="utf-8")
    problems = "\n".join(layout_problems(browser.load(page, LAYOUT_PROBE, width=375)))
    assert "image not loaded: missing-figure.png" in problems
    assert "boom" in problems
    assert "px wide in a 375 px viewport" in problems
    assert "1 table(s) not inside a div.table-scroll" in problems


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_pdf_passes_qpdf_and_poppler(documents: Path, doc: str) -> None:
    pdf = documents / f"{doc}.pdf"
    check = subprocess.run([_tool("qpdf"), "--check", str(pdf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors found" in check.stdout
    for cmd in ([_tool("pdfinfo"), str(pdf)], [_tool("pdftotext"), str(pdf), "-"]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0 and proc.stderr == "", (cmd[0], proc.stderr)
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True).stdout
    assert "Tagged:          yes" in info  # still a tagged PDF after the clean-up


def test_drop_default_suspects_keeps_length_and_offsets() -> None:
    catalog = b"1 0 obj\n<</Type/Catalog/MarkInfo<</Marked true/Suspects false>>/Lang(da)>>\n"
    pdf = b"%PDF-1.7\n" + catalog + b"xref\n"
    out = drop_default_suspects(pdf)
    assert len(out) == len(pdf)
    assert b"/Suspects" not in out
    assert b"/MarkInfo<</Marked true" in out and out.endswith(b"/Lang(da)>>\nxref\n")
    # a true flag is information: kept; and nothing outside /MarkInfo is touched
    assert drop_default_suspects(pdf.replace(b"false", b"true")) == pdf.replace(b"false", b"true")
    other = b"%PDF-1.7\n(/Suspects false) Tj\n"
    assert drop_default_suspects(other) == other

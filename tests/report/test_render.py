"""Render the documents from a small results directory and read what they say.

The results directory is the committed fixture (``fixtures/results``, column shapes of the real
results tables) copied to a temporary directory, with one planted small cell (a sequence with 3
persons, as an older or foreign results file could hold) and one area removed. Expected numbers
are computed here from the fixture CSVs, by hand, not by the package.
All renders share one kernel (the first costs ~10 s for imports, the others ~2 s each).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipelines.report import ReportParams
from pipelines.report.builtin import KernelSession
from pipelines.report.render import DEFAULT_PROJECT_DIR, render_document

pytestmark = pytest.mark.xdist_group("report-render")

FIXTURE = Path(__file__).with_name("fixtures") / "results"
NB = "\u00a0"
SMALL_SEQUENCE = "kh-fj-fj-fj"  # planted with 3 persons: must not be published


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results")
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True)
    seq = pd.read_csv(root / "reproduction" / "hovedveje_sequences.csv")
    planted = pd.DataFrame(
        [
            {
                "group_type": "all",
                "group": "all",
                "rank": 9,
                "sequence": SMALL_SEQUENCE,
                "n": 8200,
                "n_persons": 3,
                "share": 3 / 8200,
                "suppressed": False,
            }
        ]
    )
    pd.concat([seq, planted]).to_csv(root / "reproduction" / "hovedveje_sequences.csv", index=False)
    shutil.rmtree(root / "transitions")  # an area that has not landed yet
    return root


@pytest.fixture(scope="module")
def session() -> KernelSession:
    with KernelSession(DEFAULT_PROJECT_DIR) as s:
        yield s


def _render(
    doc: str,
    results: Path,
    out: Path,
    session: KernelSession,
    lang: str = "da",
    formats: tuple[str, ...] = ("html",),
) -> list[Path]:
    return render_document(
        DEFAULT_PROJECT_DIR / f"{doc}.qmd",
        results,
        out,
        ReportParams(lang=lang),
        formats,
        engine="builtin",
        session=session,
    )


def _text(html: str) -> str:
    """Visible text of an HTML document (tags removed, entities for NBSP kept as NBSP)."""
    body = html.split("<body", 1)[1]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", body, flags=re.S)
    return re.sub(r"<[^>]+>", "", body).replace("&nbsp;", NB)


@pytest.fixture(scope="module")
def annual(results: Path, session: KernelSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("annual")
    _render("annual", results, out, session, formats=("html", "pdf"))
    return out


def test_annual_headings_and_danish_numbers(annual: Path, results: Path) -> None:
    text = _text((annual / "annual.html").read_text(encoding="utf-8"))
    for heading in (
        "Bestand og anciennitet",
        "Karakteristika",
        "Indsatser",
        "Hovedveje",
        "Afgange fra kontanthjælp",
        "Virkninger af sagsbehandlerskift og samtaler",
        "Kolofon",
    ):
        assert heading in text
    assert "Stock and seniority" not in text  # the English spans are dropped
    stock = pd.read_csv(results / "reproduction" / "stock_by_year.csv")
    now = stock[stock["year"] == 2021]
    long_term = now[now["seniority_group"].isin(["5_10", "ge10"])]["n_persons"].sum()
    total = f"{int(now['n'].iloc[0]):,}".replace(",", ".")  # 9.012
    share = f"{round(100 * long_term / now['n'].iloc[0])}{NB}%"  # 34 %
    assert f"I 2021 var {total} personer i kontanthjælpssystemet, og {share} af dem" in text
    # a figure and a table are numbered, and the colophon carries the run's date
    assert "Figur 1: Bestanden fordelt på anciennitet" in text
    assert "Tabel 1: Bestanden efter anciennitet" in text
    assert "22. november 2026" in text


def test_missing_area_gets_a_note(annual: Path) -> None:
    text = _text((annual / "annual.html").read_text(encoding="utf-8"))
    assert "Ikke tilgængelig i denne kørsel" in text
    assert "transitions/state_occupation.csv" in text


def test_small_cell_is_suppressed_in_the_document(annual: Path) -> None:
    md = (annual / "_build" / "annual" / "annual.md").read_text(encoding="utf-8")
    rows = [line for line in md.splitlines() if "KH → FJ → FJ → FJ" in line]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip().strip("|").split("|")]
    assert cells[2:] == ["..", ".."]  # count and share suppressed, not "3" / "0,0 %"
    assert "..: diskretioneret (færre end 5 personer bag tallet" in md
    html = (annual / "annual.html").read_text(encoding="utf-8")
    assert f"0,0{NB}%" not in _text(html)


def test_pdf_has_danish_text(annual: Path) -> None:
    pdf = annual / "annual.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Langvarige kontanthjælpsforløb" in text
    assert "Førtidspension" in text or "førtidspension" in text
    assert "Side 1 af" in text


def test_english_brief(results: Path, session: KernelSession, tmp_path: Path) -> None:
    (html,) = _render("brief", results, tmp_path, session, lang="en")
    assert html.name == "brief-en.html"
    text = _text(html.read_text(encoding="utf-8"))
    assert "Key messages" in text and "Hovedbudskaber" not in text
    assert "What the numbers can – and cannot – say" in text
    assert "Figure 1:" in text
    stock = pd.read_csv(results / "reproduction" / "stock_by_year.csv")
    assert f"{int(stock[stock['year'] == 2021]['n'].iloc[0]):,} persons" in text  # 9,012
    # the change since last year (fixture trends.csv: R1 0.32 -> 0.34, R14 0.09 -> 0.10)
    assert "Since last year" in text
    assert (
        "From 2020 to 2021 the share with at least five years on social assistance without a "
        "break is up (32% to 34%), and 10% of the newest cohort found a job within "
        "two years against 9%." in text
    )
    assert "Figure 1: Share with five years or more" in text


def test_annual_trend_section(annual: Path) -> None:
    text = _text((annual / "annual.html").read_text(encoding="utf-8"))
    assert "Udviklingen over årene" in text
    assert f"steget (32{NB}% til 34{NB}%)" in text
    assert "Figur 2: Udviklingen i nøgletallene" in text
    md = (annual / "_build" / "annual" / "annual.md").read_text(encoding="utf-8")
    row = [ln for ln in md.splitlines() if ln.startswith("| Anciennitet 5 år og derover")]
    cells = [c.strip() for c in row[0].strip().strip("|").split("|")]
    assert cells[1:] == [f"31{NB}%", f"32{NB}%", f"34{NB}%"]
    # 3 persons in 2019: suppressed, the other years shown
    row = [ln for ln in md.splitlines() if ln.startswith("| Kohorte: selvforsørgelse")]
    assert [c.strip() for c in row[0].strip().strip("|").split("|")][1:] == [
        "..",
        f"1{NB}%",
        f"1{NB}%",
    ]
    row = [ln for ln in md.splitlines() if ln.startswith("| Personer pr. sagsbehandler (median)")]
    assert row and "88" in row[0] and "84" in row[0]


def test_rerender_is_identical(
    annual: Path, results: Path, session: KernelSession, tmp_path: Path
) -> None:
    """Same inputs, same document: HTML, Typst source and PDF byte for byte (after other
    documents ran in the same kernel)."""
    _render("annual", results, tmp_path, session, formats=("html", "pdf"))
    for rel in ("annual.html", "_build/annual/annual.typ", "_build/annual/annual.md", "annual.pdf"):
        assert (tmp_path / rel).read_bytes() == (annual / rel).read_bytes(), rel


def test_reproduction_table_row_by_row(
    results: Path, session: KernelSession, tmp_path: Path
) -> None:
    (html,) = _render("reproduction", results, tmp_path, session)
    text = _text(html.read_text(encoding="utf-8"))
    star = pd.read_csv(results / "reproduction" / "star2022.csv")
    for rid in star["id"]:
        assert re.search(rf"\b{rid}\b", text), rid
    computable = star["within"].notna().sum()
    ok = (star["within"].astype(str) == "True").sum()
    assert f"Af de {len(star)} tal fra STAR 2022 kan {computable} beregnes" in text
    assert f"og {ok} af dem ligger inden for" in text

"""Number and table formatting, checked against hand-written expected strings."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.report.fmt import (
    Col,
    fmt_auto,
    fmt_date,
    fmt_dkk,
    fmt_int,
    fmt_number,
    fmt_pct,
    fmt_pp,
    md_table,
    pipe_table,
    wide_table,
)

NB = "\u00a0"


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "expected"),
    [
        (12345.678, "da", 1, "12.345,7"),
        (12345.678, "en", 1, "12,345.7"),
        (1234567, "da", 0, "1.234.567"),
        (999, "da", 0, "999"),
        (-0.5, "en", 2, "\u22120.50"),
        (-0.0004, "da", 2, "0,00"),  # rounds to zero: no minus sign
        (0.0, "da", 0, "0"),
    ],
)
def test_fmt_number(value: float, lang: str, decimals: int, expected: str) -> None:
    assert fmt_number(value, lang, decimals) == expected


def test_fmt_pct_and_counts() -> None:
    assert fmt_pct(0.342, "da", 1) == f"34,2{NB}%"
    assert fmt_pct(0.342, "en", 1) == "34.2%"
    assert fmt_pct(0.34, "da") == f"34{NB}%"
    assert fmt_pct(float("nan"), "da") == "–"
    assert fmt_int(9012, "da") == "9.012"
    assert fmt_int(9012, "en") == "9,012"
    assert fmt_pp(0.021, "da", 1) == f"+2,1{NB}pct.-point"
    assert fmt_pp(-0.021, "en", 0) == f"\u22122{NB}pp"


def test_fmt_dkk_scales() -> None:
    assert fmt_dkk(12_345_678, "da") == f"12,3{NB}mio.{NB}kr."
    assert fmt_dkk(12_345_678, "en") == f"DKK{NB}12.3{NB}million"
    assert fmt_dkk(2_400_000_000, "da") == f"2,4{NB}mia.{NB}kr."
    assert fmt_dkk(250_000, "da") == f"250.000{NB}kr."


def test_fmt_auto_and_date() -> None:
    assert fmt_auto(0.34, "da") == f"34{NB}%"
    assert fmt_auto(0.105, "da") == f"10,5{NB}%"
    assert fmt_auto(-0.22, "en") == "\u221222%"
    assert fmt_auto(90000, "da") == "90.000"
    assert fmt_auto("retning", "da") == "retning"
    assert fmt_date("2026-11-22T08:45:00+00:00", "da") == "22. november 2026"
    assert fmt_date("2026-03-01", "en") == "1 March 2026"


def test_pipe_table_escapes_and_aligns() -> None:
    text = pipe_table(["Navn", "Antal"], [["a|b", "1.234"]])
    lines = text.splitlines()
    assert lines[0] == "| Navn | Antal |"
    assert lines[1].startswith("|:") and lines[1].endswith(":|")  # left, right aligned
    assert lines[2] == "| a\\|b | 1.234 |"


def test_md_table_marks_suppressed_cells() -> None:
    df = pd.DataFrame({"g": ["a", "b"], "count": [1234.0, float("nan")], "share": [0.5, None]})
    text = md_table(
        df, [Col("g", "Gruppe"), Col("count", "Antal", "int"), Col("share", "Andel", "pct")], "da"
    )
    rows = text.splitlines()[2:]
    assert rows[0] == f"| a | 1.234 | 50{NB}% |"
    assert rows[1] == "| b | .. | .. |"


def test_wide_table_pivots_in_given_order() -> None:
    df = pd.DataFrame(
        {
            "ch": ["x", "x", "y"],
            "grp": ["<1", "5+", "<1"],
            "share": [0.1, 0.25, 0.333],
        }
    )
    text = wide_table(df, "ch", "grp", "share", "pct", "en", column_order=["<1", "5+"])
    rows = text.splitlines()
    assert rows[0] == "| ch | <1 | 5+ |"
    assert rows[2] == "| x | 10% | 25% |"
    assert rows[3] == "| y | 33% | .. |"  # absent cell


def test_pipe_table_widths_leave_room_for_padding() -> None:
    """A short numeric column beside a long label column gets more than its header word's share
    (cell padding counts in every column), so its header is not hyphenated in the PDF."""
    text = pipe_table(["Gruppe", "Jobafgange"], [["Psykiatrisk diagnose (øvrige) i alt", "1.236"]])
    label, number = text.splitlines()[1].strip("|").split("|")
    share = (len(number) - 1) / (len(label) + len(number) - 2)  # without the alignment colons
    assert share > len("Jobafgange") / (
        len("Psykiatrisk diagnose (øvrige) i alt") + len("Jobafgange")
    )

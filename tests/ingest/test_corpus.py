"""Damaged copies of the tiny extract through the CLI: exact exit code and counts, no traceback.

Each case changes one table of the valid extract (conftest.VALID) and states the expected outcome:
exit code, rows read / accepted / quarantined / blank of that table, and a text the rule must contain.
"""

from __future__ import annotations

import json

import pytest
from conftest import VALID, write_extract
from rich.console import Console
from typer.testing import CliRunner

from data_schema.ids import MASK
from pipelines import cli

P = VALID["persons"]
H, R1, R2, R3 = P
CW = VALID["caseworker_assignments"]
MH = VALID["monthly_paid_hours"]
BS = VALID["benefit_spells"]


def _b(lines, sep="\n", enc="utf-8"):
    return (sep.join(lines) + sep).encode(enc)


def _col(lines, i, value):
    """Replace field ``i`` of data line 1 by ``value``."""
    f = lines[1].split(",")
    f[i] = value
    return [lines[0], ",".join(f), *lines[2:]]


CASES = {
    # --- column names
    "upper_header": ("persons", [H.upper(), R1, R2, R3], 0, (3, 3, 0, 0), None),
    "mixed_case_header": (
        "persons",
        [H.replace("person_id", "Person_ID"), R1, R2, R3],
        0,
        (3, 3, 0, 0),
        None,
    ),
    "case_collision": (
        "persons",
        [H + ",Person_ID", R1 + ",x", R2 + ",y", R3 + ",z"],
        2,
        None,
        "duplicate column name",
    ),
    "duplicate_header": (
        "persons",
        [H + ",sex", R1 + ",F", R2 + ",M", R3 + ",F"],
        2,
        None,
        "duplicate column name",
    ),
    "space_header": ("persons", [H.replace("sex", " sex "), R1, R2, R3], 0, (3, 3, 0, 0), None),
    "extra_column": (
        "persons",
        [H + ",note", R1 + ",a", R2 + ",b", R3 + ",c"],
        0,
        (3, 3, 0, 0),
        None,
    ),
    "missing_column": (
        "persons",
        [H.replace(",sex", ",sexx"), R1, R2, R3],
        2,
        None,
        "missing required column",
    ),
    "unnamed_middle_column": (
        "persons",
        [H + ",,x", R1 + ",,1", R2 + ",,2", R3 + ",,3"],
        0,
        (3, 3, 0, 0),
        None,
    ),
    # --- integers
    "int_beyond_int64": (
        "persons",
        _col(P, 1, "99999999999999999999999"),
        1,
        (3, 2, 1, 0),
        "int64",
    ),
    "int_negative_huge": (
        "persons",
        _col(P, 1, "-99999999999999999999999"),
        1,
        (3, 2, 1, 0),
        "int64",
    ),
    "int_float_text": ("persons", _col(P, 1, "1970.5"), 1, (3, 2, 1, 0), "not an integer"),
    "int_exp_notation": ("persons", _col(P, 1, "1.97e3"), 0, (3, 3, 0, 0), None),
    "int_word": ("persons", _col(P, 1, "nineteen"), 1, (3, 2, 1, 0), "not an integer"),
    "int_spaces": ("persons", _col(P, 1, "  1970 "), 0, (3, 3, 0, 0), None),
    "muni_huge": ("persons", _col(P, 10, "1" * 30), 1, (3, 2, 1, 0), "int64"),
    # --- markup in values / names
    "markup_bold": ("persons", _col(P, 5, "[bold]x"), 1, (3, 2, 1, 0), "must be one of"),
    "markup_close": ("persons", _col(P, 5, "[/x]"), 1, (3, 2, 1, 0), "must be one of"),
    "markup_link": (
        "persons",
        _col(P, 5, "[link=http://a]b[/link]"),
        1,
        (3, 2, 1, 0),
        "must be one of",
    ),
    "markup_id": ("persons", _col(P, 0, "[/]"), 1, (3, 2, 1, 0), "must match the pattern"),
    "markup_header": (
        "persons",
        [H + ",[bold]", R1 + ",1", R2 + ",2", R3 + ",3"],
        0,
        (3, 3, 0, 0),
        None,
    ),
    "markup_bad_header": ("persons", [H.replace("sex", "[/sex]"), R1, R2, R3], 2, None, "[/sex]"),
    # --- encodings and bytes
    "bom": ("persons", b"\xef\xbb\xbf" + _b(P), 0, (3, 3, 0, 0), None),
    "latin1": ("municipalities", _b(VALID["municipalities"], enc="latin-1"), 0, (2, 2, 0, 0), None),
    "utf16": (
        "municipalities",
        "\n".join(VALID["municipalities"]).encode("utf-16"),
        0,
        (2, 2, 0, 0),
        None,
    ),
    "nul_in_row": (
        "persons",
        _b([H, R1.replace("basic", "ba\x00sic"), R2, R3]),
        1,
        (3, 2, 1, 0),
        "NUL",
    ),
    "mixed_encoding": (
        "municipalities",
        _b(VALID["municipalities"][:2]) + "330,Sæby,sjaelland\n".encode("latin-1"),
        0,
        (2, 2, 0, 0),
        None,
    ),
    "crlf": ("persons", _b(P, sep="\r\n"), 0, (3, 3, 0, 0), None),
    "cr_only": ("persons", _b(P, sep="\r"), 0, (3, 3, 0, 0), None),
    "empty_file": ("persons", b"", 2, None, "file is empty"),
    "only_blank_lines": ("persons", b"\n\n  \n", 2, None, "only blank lines"),
    "header_only": ("persons", _b([H]), 2, None, "no data rows"),
    "binary_garbage": ("persons", bytes(range(256)) * 4, 2, None, "cannot be read as csv"),
    # --- dialect
    "trailing_delim_all": ("persons", _b([line + "," for line in P]), 0, (3, 3, 0, 0), None),
    "trailing_delim_data": (
        "persons",
        _b([H] + [line + "," for line in P[1:]]),
        0,
        (3, 3, 0, 0),
        None,
    ),
    "trailing_delim_value": (
        "persons",
        _b([H + ","] + [R1 + ",x", R2 + ",", R3 + ","]),
        1,
        (3, 2, 1, 0),
        "expected 11 fields, found 12",
    ),
    "ragged_long": (
        "persons",
        [H, R1 + ",a,b", R2, R3],
        1,
        (3, 2, 1, 0),
        "expected 11 fields, found 13",
    ),
    "ragged_short": (
        "persons",
        [H, R1.rsplit(",", 3)[0], R2, R3],
        1,
        (3, 2, 1, 0),
        "expected 11 fields, found 8",
    ),
    "blank_lines_middle": ("persons", [H, R1, "", "   ", R2, R3], 0, (3, 3, 0, 2), None),
    "blank_line_before_header": ("persons", ["", H, R1, R2, R3], 0, (3, 3, 0, 1), None),
    "blank_trailing": ("persons", [*P, "", ""], 0, (3, 3, 0, 2), None),
    "unbalanced_quote": (
        "persons",
        [H, R1.replace("basic", '"basic'), R2, R3],
        1,
        (3, 2, 1, 0),
        "unbalanced quote",
    ),
    "unbalanced_quote_last": (
        "persons",
        [H, R1, R2, R3.replace("higher", '"higher')],
        1,
        (3, 2, 1, 0),
        "unbalanced quote",
    ),
    "multiline_quoted": (
        "municipalities",
        ["municipality_id,name,region", '101,"Køben\nhavn",hovedstaden', "330,Slagelse,sjaelland"],
        0,
        (2, 2, 0, 0),
        None,
    ),
    "quoted_values": (
        "persons",
        [H, ",".join(f'"{v}"' for v in R1.split(",")), R2, R3],
        0,
        (3, 3, 0, 0),
        None,
    ),
    "semicolon": ("persons", [line.replace(",", ";") for line in P], 0, (3, 3, 0, 0), None),
    "tab": ("persons", [line.replace(",", "\t") for line in P], 0, (3, 3, 0, 0), None),
    "semicolon_decimal_comma": (
        "monthly_paid_hours",
        [MH[0].replace(",", ";"), "P001;2017-03-01;12,5;1.234,5", "P002;2020-01-01;160;32000"],
        0,
        (2, 2, 0, 0),
        None,
    ),
    "only_delimiters_row": (
        "persons",
        [H, R1, ",,,,,,,,,,", R2, R3],
        1,
        (4, 3, 1, 0),
        "missing value",
    ),
    # --- dates and numbers
    "date_dmy": ("benefit_spells", _col(BS, 3, "05-01-2015"), 1, (4, 3, 1, 0), "not a valid date"),
    "date_slash": (
        "benefit_spells",
        _col(BS, 3, "2015/01/05"),
        1,
        (4, 3, 1, 0),
        "not a valid date",
    ),
    "date_impossible": (
        "benefit_spells",
        _col(BS, 3, "2015-02-30"),
        1,
        (4, 3, 1, 0),
        "not a valid date",
    ),
    "date_spaces": ("benefit_spells", _col(BS, 3, " 2015-01-05 "), 0, (4, 4, 0, 0), None),
    "float_comma_in_comma_file": (
        "monthly_paid_hours",
        [MH[0], 'P001,2017-03-01,"12,5",2400', MH[2]],
        1,
        (2, 1, 1, 0),
        "not a number",
    ),
    "float_inf": ("monthly_paid_hours", _col(MH, 2, "inf"), 1, (2, 1, 1, 0), "not a number"),
    "float_exp": ("monthly_paid_hours", _col(MH, 3, "2.4e3"), 0, (2, 2, 0, 0), None),
    # --- CPR-like ids
    "cpr_person": ("persons", _col(P, 0, "0101901234"), 2, None, "look like raw CPR"),
    "cpr_dash": ("persons", _col(P, 0, "010190-1234"), 2, None, "look like raw CPR"),
    "cpr_space": ("persons", _col(P, 0, "010190 1234"), 2, None, "look like raw CPR"),
    "cpr_nine": ("persons", _col(P, 0, "101901234"), 2, None, "look like raw CPR"),
    "cpr_float": ("persons", _col(P, 0, "0101901234.0"), 2, None, "look like raw CPR"),
    "cpr_caseworker": (
        "caseworker_assignments",
        _col(CW, 1, "3112851234"),
        2,
        None,
        "caseworker_id",
    ),
    "cpr_case_id": ("benefit_spells", _col(BS, 1, "290288-1234"), 2, None, "case_id"),
    "not_cpr_bad_date": (
        "caseworker_assignments",
        _col(CW, 1, "3213901234"),
        0,
        (3, 3, 0, 0),
        None,
    ),
    "cpr_extra_column_bad_row": (
        "persons",
        [H + ",cpr", R1.replace("basic", "nope") + ",0101901234", R2 + ",x", R3 + ",y"],
        1,
        (3, 2, 1, 0),
        "must be one of",
    ),
    "cpr_extra_column_in_bad_value": (
        "persons",
        _col(P, 5, "x0101901234"),
        1,
        (3, 2, 1, 0),
        "must be one of",
    ),
    # --- long values
    "long_value": ("persons", _col(P, 5, "x" * 5000), 1, (3, 2, 1, 0), "must be one of"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_corpus_case(case, tmp_path):
    table, content, code, counts, text = CASES[case]
    raw = write_extract(tmp_path / "raw", {table: content})
    work = tmp_path / "work"
    out = CliRunner().invoke(cli.app, ["ingest", str(raw), "--work-dir", str(work)])
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    assert "Traceback" not in out.output and "internal error" not in out.output, out.output
    assert out.exit_code == code, out.output
    val = CliRunner().invoke(cli.app, ["validate", str(raw)])
    assert val.exit_code == code and "Traceback" not in val.output
    report = json.loads((work / "ingest_report.json").read_text())["tables"][table]
    if counts is not None:
        got = (report["n_read"], report["n_accepted"], report["n_quarantined"], report["n_blank"])
        assert got == counts, report
    if text is not None:
        assert text in out.output.replace("\n", "") or text in json.dumps(report), out.output
    # nothing CPR-like ever reaches an output
    blobs = [out.output, val.output] + [p.read_text(errors="replace") for p in work.rglob("*.csv")]
    blobs.append((work / "ingest_report.json").read_text())
    for blob in blobs:
        for cpr in (
            "0101901234",
            "010190-1234",
            "010190 1234",
            "101901234",
            "3112851234",
            "290288-1234",
        ):
            assert cpr not in blob
    if case.startswith("cpr_extra_column"):
        assert MASK in (work / "quarantine" / "persons.csv").read_text()


def test_line_numbers_after_blank_and_multiline(tmp_path):
    lines = ["municipality_id,name,region", "", '101,"a\nb",hovedstaden', "", "330,S,nowhere"]
    raw = write_extract(tmp_path / "raw", {"municipalities": lines})
    from pipelines.config import load_config
    from pipelines.ingest import validate_extract

    v = validate_extract(raw, load_config()).tables["municipalities"].violations
    assert v[["row", "line", "column"]].values.tolist() == [[2, 6, "region"]]


def test_narrow_console_shows_full_file_names(tmp_path, monkeypatch):
    name = "caseworker_assignments"
    raw = write_extract(tmp_path / "raw", {name: _col(CW, 1, "[bold]" + "w" * 200)})
    narrow = Console(width=40, record=True, force_terminal=False)
    monkeypatch.setattr(cli, "console", narrow)
    from pipelines.config import load_config
    from pipelines.ingest import validate_extract

    cli._print_extract_result(validate_extract(raw, load_config()))
    text = narrow.export_text()
    assert "…" not in text.split("violation")[0]
    assert name + ".csv" in text.replace("\n", "").replace(" ", "").replace("│", "")
    assert "[bold]" in text and "w" * 61 not in text

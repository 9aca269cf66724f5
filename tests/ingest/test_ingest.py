"""Ingest of malformed extracts: exact reasons, reconciled counts, nothing silently dropped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from conftest import VALID
from typer.testing import CliRunner

from data_schema.mapping import load_state_mapping
from data_schema.tables import table_schema
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.ingest import ingest, validate_extract, validate_table

CFG = load_config()
MAPPING = load_state_mapping()
FIXTURES = Path(__file__).parents[1] / "fixtures"


def _reasons(result, table):
    v = result.tables[table].violations
    return [(int(r.row), r.column, r.rule) for r in v.itertuples()]


def _assert_reconciles(result):
    for t in result.tables.values():
        assert t.n_read == t.n_accepted + t.n_quarantined, t.summary_dict()


def test_valid_extract_is_accepted_whole(extract):
    res = validate_extract(extract(), CFG)
    assert res.ok and res.problems == ()
    assert len(res.violations()) == 0
    assert {n: t.n_accepted for n, t in res.tables.items()} == {
        n: len(v) - 1 for n, v in VALID.items()
    }


def test_missing_column_makes_table_unusable(extract):
    header, *rows = VALID["persons"]
    cols = header.split(",")
    i = cols.index("sex")
    broken = [
        ",".join(c for j, c in enumerate(line.split(",")) if j != i) for line in VALID["persons"]
    ]
    res = validate_extract(extract({"persons": broken}), CFG)
    assert not res.ok
    assert res.tables["persons"].fatal.startswith("missing required column(s) ['sex']")
    assert res.tables["persons"].n_accepted == 0


def test_wrong_file_is_unusable(extract):
    res = validate_extract(extract({"persons": VALID["conversations"]}), CFG)
    assert "missing required column(s)" in res.tables["persons"].fatal


def test_bad_dates_are_quarantined_with_row_and_line(extract):
    rows = VALID["conversations"] + ["P001,2017-02-30,job,101,W2", "P001,01-03-2017,job,101,W2"]
    res = validate_extract(extract({"conversations": rows}), CFG)
    assert _reasons(res, "conversations") == [
        (3, "conversation_date", "not a valid date (expected format YYYY-MM-DD)"),
        (4, "conversation_date", "not a valid date (expected format YYYY-MM-DD)"),
    ]
    v = res.tables["conversations"].violations
    assert v["line"].tolist() == [4, 5]
    assert v["value"].tolist() == ["2017-02-30", "01-03-2017"]
    t = res.tables["conversations"]
    assert (t.n_read, t.n_accepted, t.n_quarantined) == (4, 2, 2)


def test_end_before_start(extract):
    rows = VALID["exemptions"] + ["P002,2019-05-01,2019-04-30,other"]
    res = validate_extract(extract({"exemptions": rows}), CFG)
    assert _reasons(res, "exemptions") == [(2, "(row)", "start_date must be on or before end_date")]


def test_overlapping_spells_of_same_benefit(extract):
    rows = VALID["benefit_spells"] + [
        "P001,C9,130,2016-03-01,2016-03-15,101,activity_ready",  # overlaps C1 (same code): rejected
        "P001,C10,131,2016-03-01,2016-03-15,101,activity_ready",  # other code may overlap: accepted
    ]
    res = validate_extract(extract({"benefit_spells": rows}), CFG)
    assert _reasons(res, "benefit_spells") == [
        (5, "(row)", "overlaps an earlier case with the same benefit_code for this person")
    ]
    assert res.tables["benefit_spells"].n_accepted == 5


def test_unknown_benefit_code(extract):
    rows = VALID["benefit_spells"] + ["P002,C9,777,2020-01-01,2020-02-01,330,"]
    res = validate_extract(extract({"benefit_spells": rows}), CFG)
    assert _reasons(res, "benefit_spells") == [
        (5, "benefit_code", "unknown benefit code (not in the state mapping)")
    ]


def test_duplicated_rows_keep_the_first(extract):
    rows = VALID["conversations"] + [VALID["conversations"][1]]
    res = validate_extract(extract({"conversations": rows}), CFG)
    v = res.tables["conversations"].violations
    assert _reasons(res, "conversations") == [(3, "(row)", "exact duplicate of an earlier row")]
    assert v["value"].tolist() == ["duplicate of row 1"]


def test_latin1_with_danish_letters_is_detected(tmp_path, extract):
    raw = extract()
    (raw / "municipalities.csv").write_bytes(
        "municipality_id;name;region\n101;København;hovedstaden\n330;Slagelse;sjaelland\n851;Aalborg Ø;nordjylland\n".encode(
            "latin-1"
        )
    )
    res = validate_extract(raw, CFG)
    t = res.tables["municipalities"]
    assert t.encoding == "latin-1" and t.n_accepted == 3
    assert t.accepted["name"].tolist() == ["København", "Slagelse", "Aalborg Ø"]
    # the same file forced to UTF-8 is refused, with the reason
    cfg_utf8 = load_config(None, **{"input.encoding": "utf-8"})
    t2 = validate_table("municipalities", raw / "municipalities.csv", cfg_utf8, MAPPING)
    assert t2.fatal is not None and "not decodable as utf-8" in t2.fatal


def test_semicolon_and_decimal_comma(extract):
    rows = ["person_id;month;paid_hours;earnings_dkk", "P001;2017-03-01;12,5;2400,75"]
    res = validate_extract(extract({"monthly_paid_hours": rows}), CFG)
    acc = res.tables["monthly_paid_hours"].accepted
    assert acc["paid_hours"].tolist() == [12.5] and acc["earnings_dkk"].tolist() == [2400.75]


def test_cpr_like_ids_are_refused_unless_allowed(extract, tmp_path):
    rows = [VALID["persons"][0], "0101801234,1980,F,danish,0,basic,0,0,0,,101"]
    raw = extract({"persons": rows})
    res = ingest(raw, tmp_path / "work", CFG)
    assert not res.ok
    fatal = res.tables["persons"].fatal
    assert (
        "column person_id: 1 value(s) look like raw CPR numbers" in fatal and "row(s) [1]" in fatal
    )
    assert not (tmp_path / "work" / "validated" / "persons.parquet").exists()
    allowed = load_config(None, **{"privacy.allow_cpr_like_ids": True})
    assert validate_table("persons", raw / "persons.csv", allowed, MAPPING).fatal is None


def test_empty_and_header_only_files(extract):
    res = validate_extract(
        extract({"exemptions": b"", "conversations": VALID["conversations"][:1]}), CFG
    )
    assert res.tables["exemptions"].fatal == "file is empty (0 bytes, no header)"
    assert res.tables["conversations"].fatal == "no data rows (header only)"
    assert not res.ok


def test_orphans_and_window_and_allowed_values(extract):
    rows = VALID["activation_offers"] + [
        "P404,O3,mentor,2019-01-01,2019-02-01,completed",
        "P001,O4,bootcamp,1985-01-01,2019-02-01,completed",
        "P001,O5,mentor,2019-01-01,2019-02-01,ongoing",
    ]
    res = validate_extract(extract({"activation_offers": rows}), CFG)
    assert _reasons(res, "activation_offers") == [
        (3, "person_id", "person_id not in the persons table"),
        (
            4,
            "offer_type",
            "must be one of ['company_placement', 'wage_subsidy', 'guidance_upskilling', 'utility_work', 'mentor']",
        ),
        (4, "start_date", "must be within the extract window 1991-01-01..2023-12-31"),
        (5, "(row)", "outcome is ongoing exactly when end_date is missing"),
    ]


def test_missing_required_table_is_an_extract_problem(extract):
    res = validate_extract(extract({"persons": None}), CFG)
    assert not res.ok
    assert any("table persons: required file" in p for p in res.problems)


def test_ingest_writes_typed_parquet_quarantine_and_report(extract, tmp_path):
    rows = VALID["exemptions"] + ["P002,2019-05-01,2019-04-30,other", "P002,2019-05-01,,holiday"]
    work = tmp_path / "work"
    res = ingest(extract({"exemptions": rows}), work, CFG)
    assert res.ok
    ex = pd.read_parquet(work / "validated" / "exemptions.parquet")
    table_schema("exemptions").validate(ex)  # typed as declared
    q = pd.read_csv(work / "quarantine" / "exemptions.csv")
    assert q["quarantine_row"].tolist() == [2, 3]
    assert q["quarantine_reasons"].tolist() == [
        "(row): start_date must be on or before end_date",
        "reason: must be one of ['illness', 'maternity', 'other']",
    ]
    report = json.loads((work / "ingest_report.json").read_text())
    assert report["tables"]["exemptions"] | {} == report["tables"]["exemptions"]
    assert (
        report["tables"]["exemptions"]["n_read"],
        report["tables"]["exemptions"]["n_accepted"],
        report["tables"]["exemptions"]["n_quarantined"],
    ) == (3, 1, 2)
    assert all(t["reconciles"] for t in report["tables"].values())
    viol = pd.read_csv(work / "quarantine" / "violations.csv")
    assert set(viol["table"]) == {"exemptions"} and len(viol) == 2


def test_sas7bdat_input(extract):
    raw = extract({"exemptions": None, "municipalities": None})
    for name in ("exemptions", "municipalities"):
        shutil.copy(FIXTURES / "sas" / f"{name}.sas7bdat", raw / f"{name}.sas7bdat")
    res = validate_extract(raw, CFG)
    ex, mu = res.tables["exemptions"], res.tables["municipalities"]
    assert ex.format == "sas7bdat" and (ex.n_read, ex.n_accepted, ex.n_quarantined) == (3, 2, 1)
    assert ex.accepted["start_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2016-06-01",
        "2019-03-01",
    ]
    assert _reasons(res, "exemptions") == [(3, "(row)", "start_date must be on or before end_date")]
    assert mu.accepted["municipality_id"].tolist() == [101, 330, 851]
    assert mu.accepted["name"].tolist()[0] == "København"


def test_parquet_input_round_trip(extract, tmp_path):
    raw = extract()
    df = pd.read_csv(raw / "persons.csv", dtype=str, keep_default_na=False)
    (raw / "persons.csv").unlink()
    df.to_parquet(raw / "persons.parquet")
    res = validate_extract(raw, CFG)
    assert res.tables["persons"].format == "parquet" and res.tables["persons"].n_accepted == 3
    assert res.ok


def test_cli_exit_codes(extract, tmp_path):
    runner = CliRunner()
    raw = extract()
    assert runner.invoke(app, ["validate", str(raw)]).exit_code == 0
    (raw / "exemptions.csv").write_text(
        "\n".join(VALID["exemptions"] + ["P001,2020-01-01,2019-01-01,other"]) + "\n"
    )
    assert runner.invoke(app, ["validate", str(raw)]).exit_code == 1
    (raw / "persons.csv").write_text("person_id\nP001\n")
    out = runner.invoke(app, ["ingest", str(raw), "--work-dir", str(tmp_path / "w")])
    assert out.exit_code == 2
    assert "Traceback" not in out.output
    missing = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "raw data directory not found" in missing.output

"""The shipped layouts and code lists load, name their sources and agree with the project."""

from __future__ import annotations

import pytest

from data_schema import codes
from data_schema.mapping import load_state_mapping
from data_schema.tables import TABLES
from pipelines.dst.layouts import CODELIST_DIR, LAYOUT_DIR, codelist, layouts

TARGETS = {
    "persons_base": {"person_id", "sex", "birth_date", "ie_type", "opr_land", "municipality_id"},
    "benefit_cases": set(TABLES["benefit_spells"].columns),
    "conversations": set(TABLES["conversations"].columns),
    "activation_offers": set(TABLES["activation_offers"].columns),
    "caseworker_assignments": set(TABLES["caseworker_assignments"].columns),
    "exemptions": set(TABLES["exemptions"].columns),
    "monthly_hours": set(TABLES["monthly_paid_hours"].columns),
}


def test_every_layout_loads_and_names_a_source():
    lays = layouts()
    assert len(lays) == len(list(LAYOUT_DIR.glob("*.yaml")))
    for lay in lays.values():
        assert lay.source, lay.name
        assert lay.column("person_id") is not None, lay.name
        for col in lay.columns:
            if col.codelist:
                codelist(col.codelist)  # raises when missing


@pytest.mark.parametrize("role", sorted(TARGETS))
def test_layouts_fill_the_project_columns(role):
    for lay in (x for x in layouts().values() if x.role == role):
        assert {c.target for c in lay.columns} == TARGETS[role], lay.name


def test_every_codelist_has_a_source_and_a_documented_flag():
    import yaml

    for p in CODELIST_DIR.glob("*.yaml"):
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        assert raw.get("source"), p.name
        assert isinstance(raw.get("documented"), bool), p.name


def test_codelist_values_are_project_codes():
    assert {a["value"] for a in codelist("koen").codes.values()} == set(codes.SEX)
    assert {a["value"] for _, _, a in codelist("hfaudd").ranges} == set(codes.EDUCATION)
    assert {a["value"] for a in codelist("jobcenter.tilbudstype").codes.values()} == set(
        codes.OFFER_TYPE
    )
    assert {a["value"] for a in codelist("jobcenter.afslutning").codes.values()} == set(
        codes.OFFER_OUTCOME
    )
    assert set(a["value"] for a in codelist("kom").codes.values()) >= {101, 851}


def test_hfaudd_ranges_follow_the_documented_grouping():
    cl = codelist("hfaudd")
    assert cl.lookup("1009")["value"] == "basic"
    assert cl.lookup("2010")["value"] == "upper_secondary"
    assert cl.lookup("3510")["value"] == "vocational"
    assert cl.lookup("5166")["value"] == "higher"
    assert cl.lookup("9999")["value"] == "unknown"
    assert cl.lookup("9500") is None  # not covered: reported as unknown, never guessed


def test_benefit_code_lists_agree_with_the_shipped_mapping():
    m = load_state_mapping()
    for code, a in codelist("dream_ydelser").codes.items():
        assert m.codes[code].state == a["state"], code
        assert m.codes[code].kh_group == a.get("kh_group"), code

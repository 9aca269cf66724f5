"""A small valid register extract written as CSV files, to be broken by individual tests."""

from __future__ import annotations

from pathlib import Path

import pytest

VALID = {
    "municipalities": [
        "municipality_id,name,region",
        "101,København,hovedstaden",
        "330,Slagelse,sjaelland",
    ],
    "persons": [
        "person_id,birth_year,sex,origin,menapt,education,psychiatric_diagnosis,substance_abuse_treatment,has_children,children_placed,municipality_id",
        "P001,1970,F,non_western,1,basic,0,0,1,0,101",
        "P002,1985,M,danish,0,vocational,1,1,0,,330",
        "P003,1990,F,danish,0,higher,0,0,1,1,",
    ],
    "benefit_spells": [
        "person_id,case_id,benefit_code,start_date,end_date,municipality_id,match_group",
        "P001,C1,130,2015-01-05,2016-03-31,101,activity_ready",
        "P001,C2,130,2016-04-10,,101,activity_ready",
        "P002,C3,131,2018-02-01,2019-12-31,330,job_ready",
        "P003,C4,621,2019-01-01,,101,",
    ],
    "monthly_paid_hours": [
        "person_id,month,paid_hours,earnings_dkk",
        "P001,2017-03-01,12.5,2400",
        "P002,2020-01-01,160,32000",
    ],
    "caseworker_assignments": [
        "person_id,caseworker_id,municipality_id,start_date,end_date",
        "P001,W1,101,2015-01-05,2017-06-30",
        "P001,W2,101,2017-07-01,",
        "P002,W9,330,2018-02-01,2019-12-31",
    ],
    "conversations": [
        "person_id,conversation_date,conversation_type,municipality_id,caseworker_id",
        "P001,2015-01-05,job,101,W1",
        "P001,2017-08-01,other,101,",
    ],
    "activation_offers": [
        "person_id,offer_id,offer_type,start_date,end_date,outcome",
        "P001,O1,company_placement,2016-05-01,2016-07-31,interrupted_absence",
        "P002,O2,mentor,2019-01-01,,ongoing",
    ],
    "exemptions": [
        "person_id,start_date,end_date,reason",
        "P001,2016-06-01,2016-09-30,illness",
    ],
}


def write_extract(
    directory: Path, overrides: dict[str, list[str] | bytes | None] | None = None
) -> Path:
    """Write the valid extract to ``directory``; ``overrides`` replaces (or with None removes) tables."""
    directory.mkdir(parents=True, exist_ok=True)
    tables = {**VALID, **(overrides or {})}
    for name, content in tables.items():
        if content is None:
            continue
        path = directory / f"{name}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text("\n".join(content) + "\n", encoding="utf-8")
    return directory


@pytest.fixture
def extract(tmp_path):
    def make(overrides=None):
        return write_extract(tmp_path / "raw", overrides)

    return make

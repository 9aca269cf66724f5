"""Stock, seniority and characteristics (R1-R5) on a miniature register computed by hand.

Reference date 2021-11-30: under 1 year = started after 2020-11-30; 5 years or more = started on or
before 2016-11-30; 10 years or more = on or before 2011-11-30.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.star2022.characteristics import (
    characteristics_table,
    long_term_directions,
    person_characteristics,
    publish_characteristics,
    share_of,
)
from analysis.star2022.populations import prior_contact, stock_on

REF = date(2021, 11, 30)
NaT = None


@pytest.fixture
def stock_register(reg):
    spells = reg.spells(
        [
            ("C1", "2019-01-01", "2020-12-31"),  # earlier spell inside the 3 years before
            ("C1", "2021-06-01", NaT),  # lt1
            ("C2", "2015-01-01", "2018-01-14"),  # ends the day before the 3-year window
            ("C2", "2021-01-15", NaT),  # lt1
            ("C3", "2016-11-30", NaT),  # exactly 5 years: 5_10
            ("C4", "2016-12-01", NaT),  # one day short of 5 years: 3_5
            ("C5", "2005-03-01", NaT),  # ge10
            ("C6", "2008-01-01", "2009-10-31"),
            ("C6", "2010-01-01", NaT),  # ge10, prior contact
            ("C7", "2015-01-01", "2021-10-31"),  # not in the stock
        ]
    )
    persons = pd.DataFrame(
        [
            reg.person(
                "C1",
                sex="F",
                origin="non_western",
                menapt=True,
                birth_year=1990,
                psychiatric_diagnosis=True,
                has_children=True,
                children_placed=True,
            ),
            reg.person("C2", sex="M", education="vocational", birth_year=2000),
            reg.person(
                "C3",
                sex="F",
                origin="non_western",
                menapt=True,
                birth_year=1975,
                psychiatric_diagnosis=True,
                has_children=True,
                children_placed=False,
            ),
            reg.person(
                "C4",
                sex="M",
                origin="western",
                education="higher",
                birth_year=1960,
                has_children=True,
                children_placed=True,
            ),
            reg.person("C5", sex="F", origin="non_western", menapt=False, birth_year=1971),
            reg.person(
                "C6",
                sex="F",
                origin="non_western",
                menapt=True,
                birth_year=1980,
                education="upper_secondary",
                psychiatric_diagnosis=True,
                has_children=True,
                children_placed=True,
            ),
            reg.person("C7", sex="M"),
        ],
        columns=reg.table("persons").columns,
    )
    return spells, persons


def test_stock_and_seniority_groups(stock_register):
    spells, _ = stock_register
    st = stock_on(spells, REF).set_index("person_id")
    assert sorted(st.index) == ["C1", "C2", "C3", "C4", "C5", "C6"]
    assert st["seniority_group"].to_dict() == {
        "C1": "lt1",
        "C2": "lt1",
        "C3": "5_10",
        "C4": "3_5",
        "C5": "ge10",
        "C6": "ge10",
    }
    assert st.loc["C1", "seniority_days"] == (pd.Timestamp(REF) - pd.Timestamp("2021-06-01")).days
    pc = prior_contact(spells, st.reset_index())
    assert pc.tolist() == [True, False, False, False, False, True]


def test_characteristics_by_hand(stock_register):
    spells, persons = stock_register
    st = stock_on(spells, REF)
    st["prior_contact_3y"] = prior_contact(spells, st)
    people = person_characteristics(st, persons, REF)
    t = characteristics_table(people)
    n = t[t["base"] == "all"].drop_duplicates("seniority_group").set_index("seniority_group")["n"]
    assert n["all"] == 6 and n["ge5"] == 3 and n["lt1"] == 2 and n["1_2"] == 0
    assert n["ge5"] / n["all"] == 0.5  # R1
    assert share_of(t, "prior_contact_3y", "yes", "all") == (pytest.approx(2 / 6), 6)  # R2
    assert share_of(t, "psychiatric_diagnosis", "yes", "lt1") == (0.5, 2)  # R3
    assert share_of(t, "psychiatric_diagnosis", "yes", "ge5") == (pytest.approx(2 / 3), 3)
    # R4: denominators are persons with children (C2 and C5 have none)
    assert share_of(t, "children_placed", "yes", "lt1") == (1.0, 1)
    assert share_of(t, "children_placed", "yes", "ge5") == (0.5, 2)
    assert share_of(t, "children_placed", "yes", "all") == (0.75, 4)
    # categorical levels add up to the group, empty groups have n 0 and no share
    sex = t[(t["characteristic"] == "sex") & (t["seniority_group"] == "all")]
    assert sex.set_index("level")["n_persons"].to_dict() == {"F": 4, "M": 2}
    empty = t[(t["seniority_group"] == "2_3") & (t["characteristic"] == "sex")]
    assert (empty["n"] == 0).all() and empty["share"].isna().all()
    ages = t[(t["characteristic"] == "age_group") & (t["seniority_group"] == "all")]
    assert ages.set_index("level")["n_persons"].to_dict() == {
        "lt30": 1,
        "30_39": 1,
        "40_49": 2,
        "50_59": 1,
        "ge60": 1,
    }
    origin = t[(t["characteristic"] == "origin") & (t["seniority_group"] == "ge5")]
    assert origin.set_index("level")["n_persons"].to_dict() == {
        "danish": 0,
        "western": 0,
        "non_western_menapt": 2,
        "non_western_other": 1,
    }
    bench = t.set_index(["seniority_group", "characteristic", "level"])["benchmark"]
    assert bench[("all", "psychiatric_diagnosis", "yes")] == 0.12
    assert bench[("all", "children_placed", "yes")] == 0.10
    d = long_term_directions(t)  # R5
    assert d["women_pts"] == pytest.approx(50.0)
    assert d["non_western_pts"] == pytest.approx(50.0)
    assert d["menapt_of_non_western_pct"] == pytest.approx(200 / 3)
    assert d["basic_education_pts"] == pytest.approx(100 * (2 / 3 - 1 / 2))


def test_characteristics_publication_suppresses_everything_small(stock_register):
    spells, persons = stock_register
    st = stock_on(spells, REF)
    st["prior_contact_3y"] = prior_contact(spells, st)
    t = characteristics_table(person_characteristics(st, persons, REF))
    pub = publish_characteristics(t, threshold=5)
    # only the 'all' group has 5+ persons; all its cells below 5 or with a complement below 5 go
    assert pub.loc[pub["seniority_group"] != "all", "n_persons"].fillna(0).eq(0).all()
    n_all = pub.loc[pub["seniority_group"] == "all", "n"]
    assert set(n_all.dropna().unique()) <= {6}
    vals = pd.to_numeric(pub["n_persons"], errors="coerce")
    assert not ((vals > 0) & (vals < 5)).any()
    assert np.isnan(pub.loc[pub["n_persons"].isna(), "share"]).all()

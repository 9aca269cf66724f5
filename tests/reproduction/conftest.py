"""Builders for hand-made miniature registers (a handful of persons, answers known by hand)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from data_schema.tables import TABLES

T = pd.Timestamp


def _dates(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    for c in cols:
        if c in df.columns:
            df[c] = pd.to_datetime(df[c])
    return df


def make_table(name: str, rows: list[tuple] | None = None) -> pd.DataFrame:
    """A register table with exactly the columns of data_schema.tables, from tuples in order."""
    cols = list(TABLES[name].columns)
    df = pd.DataFrame(rows or [], columns=cols)
    return _dates(df, list(TABLES[name].date_columns))


def make_spells(rows: list[tuple]) -> pd.DataFrame:
    """Derived Spells frame from ``(person_id, spell_start, spell_end)``; spell ids in time order."""
    df = pd.DataFrame(rows, columns=["person_id", "spell_start", "spell_end"])
    df = _dates(df, ["spell_start", "spell_end"]).sort_values(["person_id", "spell_start"])
    df["spell_id"] = df.groupby("person_id").cumcount() + 1
    df["n_records"] = 1
    df["left_truncated"] = False
    df["exit_state"] = None
    return df.reset_index(drop=True)


def person(pid: str, **kw) -> tuple:
    """A persons row with defaults (Danish man born 1980, no flags, no children)."""
    d = dict(
        birth_year=1980,
        sex="M",
        origin="danish",
        menapt=False,
        education="basic",
        psychiatric_diagnosis=False,
        substance_abuse_treatment=False,
        has_children=False,
        children_placed=None,
        municipality_id=101,
    )
    d.update(kw)
    return (pid, *[d[c] for c in list(TABLES["persons"].columns)[1:]])


@pytest.fixture
def reg() -> SimpleNamespace:
    """``reg.table(name, rows)``, ``reg.spells(rows)``, ``reg.person(pid, **kw)``."""
    return SimpleNamespace(table=make_table, spells=make_spells, person=person)


NaT = None


@pytest.fixture
def review_register(reg):
    """Case-review scenario (window 2018-03-01 .. 2020-02-29); see test_efforts for the answers."""
    spells = reg.spells(
        [
            ("P1", "2010-01-01", NaT),
            ("P2", "2014-06-01", NaT),
            ("P3", "2012-01-01", NaT),  # job-ready: not in the case review
            ("P4", "2016-01-01", NaT),  # under 5 years on 2020-03-01
            ("P5", "2008-01-01", NaT),  # two cases (databrud), second activity-ready in 330
            ("P6", "2013-01-01", "2019-06-30"),  # left before the review date
        ]
    )
    benefit = reg.table(
        "benefit_spells",
        [
            ("P1", "c1", "130", "2010-01-01", NaT, 101, "activity_ready"),
            ("P2", "c2", "130", "2014-06-01", NaT, 101, "activity_ready"),
            ("P3", "c3", "130", "2012-01-01", NaT, 101, "job_ready"),
            ("P4", "c4", "130", "2016-01-01", NaT, 101, "activity_ready"),
            ("P5", "c5a", "130", "2008-01-01", "2017-12-31", 101, "job_ready"),
            ("P5", "c5b", "131", "2018-01-15", NaT, 330, "activity_ready"),
            ("P6", "c6", "130", "2013-01-01", "2019-06-30", 101, "activity_ready"),
            ("P6", "c6fp", "621", "2019-07-01", NaT, 101, None),
        ],
    )
    offers = reg.table(
        "activation_offers",
        [
            # P1: straddles the window start; 122 days inside (Mar-Jun 2018)
            ("P1", "o1", "company_placement", "2018-01-01", "2018-06-30", "completed"),
            # P2: 181 + 183 activated days; mentor on top of the wage subsidy (coordinated)
            ("P2", "o2", "wage_subsidy", "2018-09-01", "2019-02-28", "interrupted_absence"),
            ("P2", "o3", "mentor", "2018-10-01", "2018-12-31", "completed"),
            ("P2", "o4", "guidance_upskilling", "2019-06-01", "2019-11-30", "completed"),
            # P5: ongoing since 2017, the whole window
            ("P5", "o5", "utility_work", "2017-06-01", NaT, "ongoing"),
        ],
    )
    exemptions = reg.table(
        "exemptions",
        [
            ("P1", "2018-06-01", "2018-12-31", "illness"),  # overlaps P1's offer in June
            ("P5", "2019-01-01", "2019-03-31", "illness"),  # inside P5's offer
        ],
    )
    conv = []
    for d in [
        "2018-03-01",
        "2018-06-01",
        "2018-09-01",
        "2018-12-01",
        "2019-03-01",
        "2019-06-01",
        "2019-09-01",
        "2019-12-01",
    ]:
        conv.append(("P1", d, "job", 101, "A"))
    conv += [
        ("P1", "2019-02-01", "other", 101, "A"),
        ("P1", "2018-02-15", "job", 101, "A"),
        ("P1", "2020-03-01", "job", 101, "B"),
    ]
    conv += [("P2", f"2018-{m:02d}-10", "job", 101, "A") for m in (4, 7, 10)]
    conv += [("P2", f"2019-{m:02d}-10", "job", 101, "B") for m in (4, 8)]
    conv += [("P5", f"2018-{m:02d}-05", "job", 330, "C") for m in (3, 5, 7, 9, 11)]
    conv += [("P5", f"2019-{m:02d}-05", "job", 330, "C") for m in (1, 3, 5, 7, 9)]
    conversations = reg.table("conversations", conv)
    paid = reg.table(
        "monthly_paid_hours",
        [
            ("P1", "2019-05-01", 20.0, 3000.0),
            ("P2", "2019-01-01", 0.0, 0.0),  # a zero row is no paid hours
            ("P5", "2020-03-01", 30.0, 4000.0),  # after the window
            ("P5", "2018-02-01", 10.0, 1500.0),  # before the window
        ],
    )
    assignments = reg.table(
        "caseworker_assignments",
        [
            ("P1", "A", 101, "2015-01-01", "2018-12-31"),
            ("P1", "B", 101, "2019-01-01", NaT),
            ("P2", "A", 101, "2016-01-01", "2018-05-31"),
            ("P2", "B", 101, "2018-06-01", "2019-05-31"),
            ("P2", "C", 101, "2019-06-01", NaT),
            ("P5", "C", 330, "2010-01-01", NaT),
        ],
    )
    return dict(
        spells=spells,
        benefit_spells=benefit,
        activation_offers=offers,
        exemptions=exemptions,
        conversations=conversations,
        monthly_paid_hours=paid,
        caseworker_assignments=assignments,
    )

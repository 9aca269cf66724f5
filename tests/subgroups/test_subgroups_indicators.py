"""Person indicators and follow-up frames from hand-made register rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.subgroups import follow_up_frame, pathway_curves, pathway_summary, person_indicators
from analysis.survival import AalenJohansen

T = pd.Timestamp


def _persons() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4"],
            "birth_year": [1960, 1995, 1980, 1970],
            "sex": ["M", "F", "F", "M"],
            "origin": ["danish", "non_western", "non_western", "western"],
            "menapt": [False, True, False, False],
            "education": ["basic", "unknown", "higher", "vocational"],
            "psychiatric_diagnosis": [True, False, True, False],
            "substance_abuse_treatment": [True, False, False, False],
            "has_children": [True, True, False, True],
            "children_placed": [True, False, None, False],
            "municipality_id": [101, 101, 330, 461],
        }
    )


def _spells() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p2", "p3", "p4"],
            "spell_id": [1, 2, 1, 1, 1],
            "spell_start": [
                T("1991-01-01"),
                T("2008-05-01"),
                T("2014-02-01"),
                T("1992-06-01"),
                T("2001-03-01"),
            ],
            "spell_end": [T("2005-01-31"), pd.NaT, T("2021-06-30"), T("2020-09-30"), pd.NaT],
            "left_truncated": [True, False, False, False, False],
            "prior_contact_3y": [False, False, False, False, False],
            "exit_state": [None, None, "job", "fp", None],
        }
    )


def _members() -> pd.DataFrame:
    ref = T("2020-03-01")
    sp = _spells()
    cur = sp[(sp["spell_start"] <= ref) & (sp["spell_end"].isna() | (sp["spell_end"] >= ref))]
    m = cur[["person_id", "spell_start"]].copy()
    m["seniority_days"] = (ref - m["spell_start"]).dt.days
    return m.reset_index(drop=True)


def test_person_indicators_by_hand():
    d = person_indicators(
        _members(), _persons(), _spells(), T("2020-03-01"), window_start=T("1991-01-01")
    )
    assert list(d.index) == ["p1", "p2", "p3", "p4"]
    assert d.loc["p1", "age_band"] == "50+"  # 2020 - 1960 = 60
    assert d.loc["p2", "age_band"] == "18-29"  # 25
    assert d.loc["p2", "origin"] == "non_western_menapt"
    assert d.loc["p3", "origin"] == "non_western_other"
    assert d.loc["p4", "origin"] == "western"
    assert d.loc["p1", "psychiatric_diagnosis"] == "yes"
    assert d.loc["p2", "substance_abuse_treatment"] == "no"
    assert d.loc["p1", "children"] == "placed"
    assert d.loc["p2", "children"] == "not_placed"
    assert d.loc["p3", "children"] == "none"
    # debut: p1's first spell is left-truncated; p3's first spell starts in 1992, within the 3-year
    # wash-out; p2 debuts 2014 at 19; p4 in 2001 at 31
    assert d.loc["p1", "debut_age"] == "before_window"
    assert d.loc["p3", "debut_age"] == "before_window"
    assert d.loc["p2", "debut_age"] == "18-21"
    assert d.loc["p4", "debut_age"] == "30-34"
    # seniority on 2020-03-01: p1 since 2008-05 (11 y), p2 since 2014-02 (6 y), p4 since 2001 (19 y)
    assert d.loc["p1", "seniority"] == "10-14"
    assert d.loc["p2", "seniority"] == "5-9"
    assert d.loc["p4", "seniority"] == "15+"
    assert (d["prior_contact"] == "no").all()
    assert isinstance(d["debut_age"].dtype, pd.CategoricalDtype) and d["debut_age"].cat.ordered


def test_without_washout_an_early_debut_counts():
    d = person_indicators(
        _members(),
        _persons(),
        _spells(),
        T("2020-03-01"),
        window_start=T("1991-01-01"),
        debut_washout_years=0,
    )
    # p3 was born 1980 and first on KH in 1992 (age 12): the lowest band takes younger ages too
    assert d.loc["p3", "debut_age"] == "18-21"
    assert d.loc["p1", "debut_age"] == "before_window"  # left-truncated regardless


def test_follow_up_frame_by_hand():
    m = _members().assign(group=["1", "1", "2", "2"])
    f = follow_up_frame(m, _spells(), T("2020-03-01"), T("2023-12-31")).set_index("person_id")
    # p2 leaves to job on 2021-06-30: 486 days; p3 to fp on 2020-09-30: 213 days
    assert f.loc["p2", "follow_up"] == pytest.approx(486 / 365.25)
    assert f.loc["p2", "event"] == 1
    assert f.loc["p3", "event"] == 2
    assert f.loc["p3", "follow_up"] == pytest.approx(213 / 365.25)
    # p1 and p4 are censored at the end of the data
    assert f.loc["p1", "event"] == 0
    assert f.loc["p4", "follow_up"] == pytest.approx(
        (T("2023-12-31") - T("2020-03-01")).days / 365.25
    )
    assert f.loc["p4", "entry_seniority"] == pytest.approx(
        (T("2020-03-01") - T("2001-03-01")).days / 365.25
    )
    assert f.loc["p4", "exit_seniority"] == pytest.approx(
        f.loc["p4", "entry_seniority"] + f.loc["p4", "follow_up"]
    )


def test_pathway_curves_are_the_guarded_aalen_johansen():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "group": rng.choice(["1", "2"], n),
            "follow_up": np.round(rng.exponential(3, n), 1) + 0.1,
            "event": rng.choice([0, 1, 2, 3, 7], n, p=[0.4, 0.2, 0.15, 0.15, 0.1]),
            "entry_seniority": rng.uniform(5, 15, n),
        }
    )
    frame["exit_seniority"] = frame["entry_seniority"] + frame["follow_up"]
    curves, fits = pathway_curves(frame, threshold=5)
    assert set(curves["time_scale"]) == {"since_reference", "seniority"}
    assert set(curves["exit"]) == {"job", "fp", "rf"}
    # every published step aggregates at least 5 events and has at least 5 at risk
    assert (curves["n_event"].iloc[1:] >= 0).all()
    pub = curves[curves["n_event"] > 0]
    assert (pub["n_event"] >= 5).all() and (pub["n_risk"] >= 5).all()
    # published estimates are those of the unguarded fit at the same times
    direct = AalenJohansen().fit(frame, duration="follow_up", event="event", group="group")
    ev = direct.evaluate(np.unique(pub["time"]))
    c = pub[(pub["time_scale"] == "since_reference") & (pub["exit"] == "job")]
    chk = c.merge(ev[ev["cause"] == 1], on=["group", "time"], suffixes=("", "_d"))
    assert len(chk) == len(c) > 0
    np.testing.assert_allclose(chk["estimate"], chk["estimate_d"])
    s = pathway_summary(curves, frame, [1.0, 2.0], threshold=5)
    assert set(s["exit"]) == {"job", "fp", "rf"}
    one = s[(s["group"] == "1") & (s["exit"] == "job") & (s["horizon_years"] == 2.0)].iloc[0]
    at = direct.evaluate([2.0])
    truth = at[(at["group"] == "1") & (at["cause"] == 1)]["estimate"].iloc[0]
    # the summary is read off the published curve: at most the unguarded value, close to it
    assert one["estimate"] <= truth + 1e-12
    assert one["estimate"] == pytest.approx(truth, abs=0.05)

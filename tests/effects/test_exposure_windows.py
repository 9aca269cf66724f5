"""The effects exposures follow the synthetic generator's rules (pipelines/synthetic/design.py):
``conv_3m`` = job conversations dated in calendar months m-2..m, and the current match group."""

from __future__ import annotations

import pandas as pd

from analysis.effects.data import (
    add_match_group,
    add_monthly_conversations,
    add_spell_months,
    monthly_frame,
)
from pipelines.synthetic import design


def _one_person_monthly() -> pd.DataFrame:
    """P1 on KH from 2019-01-01, followed from 2019-12-15 to 2020-03-31 (exit at its end)."""
    ss = pd.DataFrame(
        {
            "person_id": ["P1"],
            "tstart": [348.0],  # 2019-12-15 is day 349 of the spell
            "tstop": [456.0],  # 2020-03-31
            "event": [1],
            "date_start": pd.to_datetime(["2019-12-15"]),
            "date_stop": pd.to_datetime(["2020-03-31"]),
            "age": [40],
        }
    )
    return monthly_frame(ss, time_varying=["age"])


def test_conversation_window_is_the_generators_three_calendar_months():
    assert "calendar months m-2..m" in design.COVARIATE_DEFINITIONS["conv_3m"]
    m = _one_person_monthly()
    assert m["month"].dt.strftime("%Y-%m").tolist() == ["2019-12", "2020-01", "2020-02", "2020-03"]
    conv = pd.DataFrame(
        {
            "person_id": ["P1"] * 6,
            "conversation_date": pd.to_datetime(
                [
                    "2019-10-01",  # months m-2..m of 2019-12 (before entry): counts there
                    "2019-11-30",
                    "2020-01-31",  # last day of a month: counts in that month (91-day rule: not)
                    "2020-02-10",  # "other": never counted
                    "2020-03-31",  # last day of the exit month: counts before the exit
                    "2019-12-29",  # in 2020-03, a 91-day window reaches back to 2019-12-31 only
                ]
            ),
            "conversation_type": ["job", "job", "job", "other", "job", "job"],
        }
    )
    out = add_monthly_conversations(m, conv, window_months=3)
    # by hand: 2019-12 -> Oct, Nov, Dec = 3; 2020-01 -> Nov, Dec, Jan = 3; 2020-02 -> Dec, Jan,
    # Feb = 2; 2020-03 -> Jan, Feb, Mar = 2
    assert out["conversations_window"].tolist() == [3, 3, 2, 2]
    assert out["new_conversations"].tolist() == [1, 1, 0, 1]
    # one month earlier: 2019-09..11 = 2, 2019-10..12 = 3, 2019-11..2020-01 = 3, Dec..Feb = 2
    assert out["conversations_window_lag"].tolist() == [2, 3, 3, 2]
    assert out["value_day"].dt.strftime("%m-%d").tolist() == ["12-31", "01-31", "02-29", "03-31"]


def test_current_match_group_is_the_case_open_on_the_value_day():
    m = _one_person_monthly()
    spells = pd.DataFrame(
        {
            "person_id": ["P1", "P1", "P1", "P2"],
            "start_date": pd.to_datetime(["2019-01-01", "2020-01-31", "2020-02-10", "2019-01-01"]),
            "match_group": ["job_ready", "activity_ready", None, "activity_ready"],
        }
    )
    out = add_match_group(m, spells)
    # Dec: job_ready; Jan: the case starting on its last day; Feb, Mar: the row without a match
    # group (another benefit) is skipped, so still activity_ready
    assert out["activity_ready"].tolist() == [False, True, True, True]


def test_spell_months_count_calendar_months_from_the_spell_start():
    # P1's spell starts 2019-01-01: follow-up months 2019-12 .. 2020-03 are spell months 12 .. 15
    m = add_spell_months(_one_person_monthly())
    assert m["spell_month"].tolist() == [12.0, 13.0, 14.0, 15.0]
    assert m["spell_month_start"].tolist() == [11.0, 12.0, 13.0, 14.0]
    # a spell starting mid-month (2019-01-20, day 1 = tstop 1): the first calendar month is 1
    ss = pd.DataFrame({"person_id": ["P2"], "tstart": [0.0], "tstop": [40.0], "event": [0],
                       "date_start": pd.to_datetime(["2019-01-20"]),
                       "date_stop": pd.to_datetime(["2019-02-28"]), "age": [30]})  # fmt: skip
    m2 = add_spell_months(monthly_frame(ss, time_varying=["age"]))
    assert m2["spell_month"].tolist() == [1.0, 2.0]


def test_effects_are_fitted_on_the_monthly_clock():
    """estimate_effects' default clock: the Cox time is the spell month (an adjusted fit on
    ``(spell_month_start, spell_month]`` directly gives the same hazard ratio)."""
    import numpy as np

    from analysis.effects.estimators import ExposureEffect
    from analysis.effects.study import ExposureSpec, estimate_effects
    from tests.effects.test_estimators import simulate

    f = simulate(3000, seed=8, confounded=True, months=24)
    # calendar: everybody's spell starts on a different 1st of a month in 2015-2016
    m0 = pd.Period("2015-01", "M")
    offs = (f["person_id"].astype(int) % 24).to_numpy()
    first = pd.PeriodIndex([m0 + int(o) for o in offs]).to_timestamp()
    f["month"] = pd.PeriodIndex(
        [m0 + int(o) + int(k) - 1 for o, k in zip(offs, f["month_no"], strict=True)]
    ).to_timestamp()
    f["value_day"] = f["month"] + pd.offsets.MonthEnd(0)
    f["tstop"] = (f["value_day"] - first).dt.days.to_numpy(float) + 1.0
    f["tstart"] = (f["month"] - first).dt.days.to_numpy(float)
    spec = ExposureSpec("change", "x", "new_change", "binomial", "lag_x", None, "z")
    tab, _ = estimate_effects(f, methods=("adjusted",), exposures=[spec], baseline=["z"],
                              confounders=["poor"], causes={"job": 1}, strata=None)  # fmt: skip
    direct = ExposureEffect("adjusted").fit(
        f.assign(k=f["month_no"].astype(float), k0=f["month_no"] - 1.0), exposure="x", cause=1,
        baseline=["z"], confounders=["poor", "z"], duration="k", entry="k0",
    )  # fmt: skip
    assert tab["estimate"].iloc[0] == direct.hazard_ratio
    assert np.isfinite(direct.hazard_ratio)

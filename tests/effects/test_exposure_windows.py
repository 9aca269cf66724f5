"""The effects exposures follow the synthetic generator's rules (pipelines/synthetic/design.py):
``conv_3m`` = job conversations dated in calendar months m-2..m, and the current match group."""

from __future__ import annotations

import pandas as pd

from analysis.effects.data import add_match_group, add_monthly_conversations, monthly_frame
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

"""Report year as a parameter: the dates it moves, the follow-up check, the trend years."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.config import ConfigError, load_config
from pipelines.years import (
    FollowUpError,
    check_follow_up,
    config_for_year,
    max_report_year,
    required_ends,
    trend_years,
)


def test_default_is_star_2022():
    cfg = load_config()
    assert cfg.report.year == 2021
    assert cfg.cohorts.reference_date == date(2021, 11, 30)
    assert cfg.cohorts.stock_quarter == "2018Q1"
    assert cfg.cohorts.annual_years == [2019, 2020, 2021]
    assert cfg.reproduction.review_date == date(2020, 3, 1)
    assert cfg.subgroups.reference_date == date(2020, 3, 1)


def test_report_year_moves_every_date():
    cfg = load_config(None, **{"report.year": 2019})
    assert cfg.cohorts.reference_date == date(2019, 11, 30)
    assert cfg.cohorts.stock_quarter == "2016Q1"
    assert cfg.cohorts.annual_years == [2017, 2018, 2019]
    assert cfg.reproduction.review_date == date(2018, 3, 1)
    assert cfg.subgroups.reference_date == date(2018, 3, 1)
    # the same as moving a loaded configuration
    assert config_for_year(load_config(), 2019) == cfg


def test_explicit_key_wins_over_the_report_year(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("report:\n  year: 2020\ncohorts:\n  stock_quarter: 2017Q3\n")
    cfg = load_config(p)
    assert cfg.cohorts.stock_quarter == "2017Q3"
    assert cfg.cohorts.reference_date == date(2020, 11, 30)


def test_bad_report_year_names_the_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("report:\n  year: twenty\n")
    with pytest.raises(ConfigError, match="report.year"):
        load_config(p)


def test_follow_up_ends_by_hand():
    ends = required_ends(load_config())
    # stock 2021-11-30 + 31 days; 2018Q1 ends 2018-03-31, + 4 half-years = 2020-03-31, + 31 days;
    # frames: 2018-01-01 + 2 years - 1 day
    assert sorted(ends.values()) == [date(2019, 12, 31), date(2020, 5, 1), date(2021, 12, 31)]


def test_report_year_past_the_extract_is_refused_with_the_reason():
    cfg = load_config(None, **{"report.year": 2022})
    with pytest.raises(FollowUpError) as err:
        check_follow_up(cfg, "2021-12-31")
    msg = str(err.value)
    assert "report year 2022" in msg and "2021-12-31" in msg
    assert "stock on 2022-11-30" in msg and "needs data to 2022-12-31" in msg
    assert "latest report year it supports is 2021" in msg
    check_follow_up(load_config(), "2021-12-31")  # 2021 fits exactly
    with pytest.raises(FollowUpError):
        check_follow_up(load_config(), "2021-12-30")


def test_max_report_year_and_trend_years():
    cfg = load_config()
    assert max_report_year(cfg, date(2023, 12, 31)) == 2023
    assert max_report_year(cfg, date(2022, 6, 30)) == 2021
    assert trend_years(cfg, "2023-12-31") == [2018, 2019, 2020, 2021]
    assert trend_years(load_config(None, **{"report.year": 2019}), None) == [2018, 2019]
    assert trend_years(load_config(None, **{"cohorts.trend_from": 2020}), "2021-06-30") == [2020]

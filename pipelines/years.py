"""Report years: the follow-up each statistic of a report year needs, and which years an extract holds.

A report year moves every date of the run (:func:`pipelines.config.model.year_defaults`). Its
statistics look forward from their populations: the stock on the reference date needs the exit
window after it, the hovedveje cohort its half-years, the start-stop frames their follow-up. A
report year whose follow-up runs past the last day of the extract gives wrong (censored) numbers,
so :func:`check_follow_up` refuses it with a message that names the statistic, the day it needs
and the extract's last day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from pipelines.config import StarConfig
from pipelines.config.model import year_defaults


class FollowUpError(ValueError):
    """The extract ends before the follow-up a report year needs."""


def _add_months(d: date, months: int) -> date:
    return (pd.Timestamp(d) + pd.DateOffset(months=months)).date()


def required_ends(config: StarConfig) -> dict[str, date]:
    """Last day of data each statistic of the configured report year needs, by statistic."""
    c, f = config.cohorts, config.frames
    exit_window = timedelta(days=config.spells.exit_window_days)
    q_start = pd.Period(c.stock_quarter, freq="Q").start_time.date()
    q_end = pd.Period(c.stock_quarter, freq="Q").end_time.date()
    return {
        f"stock on {c.reference_date} (exit window {config.spells.exit_window_days} days)": (
            c.reference_date + exit_window
        ),
        f"hovedveje cohort {c.stock_quarter} ({c.n_half_years} half-years)": (
            _add_months(q_end, 6 * c.n_half_years) + exit_window
        ),
        f"start-stop frames of {c.stock_quarter} ({f.follow_up_years:g} years)": (
            _add_months(q_start, round(12 * f.follow_up_years)) - timedelta(days=1)
        ),
    }


def missing_follow_up(config: StarConfig, data_end: date) -> dict[str, date]:
    """The statistics of :func:`required_ends` that need data after ``data_end``."""
    return {k: v for k, v in required_ends(config).items() if v > data_end}


def check_follow_up(config: StarConfig, data_end: date | str | None) -> None:
    """Raise :class:`FollowUpError` when the extract ends before the report year's follow-up."""
    if data_end is None:
        return
    end = pd.Timestamp(data_end).date()
    short = missing_follow_up(config, end)
    if short:
        lines = [f"  {k}: needs data to {v}" for k, v in short.items()]
        last = max_report_year(config, end)
        hint = f"; the latest report year it supports is {last}" if last else ""
        raise FollowUpError(
            f"report year {config.report.year}: the extract ends on {end}, before the follow-up "
            f"of\n" + "\n".join(lines) + f"\n(use an extract with one more year of data{hint})"
        )


def config_for_year(config: StarConfig, year: int) -> StarConfig:
    """``config`` with report year ``year`` and every year-dependent date moved to it."""
    update: dict[str, object] = {
        "report": config.report.model_copy(update={"year": year}),
    }
    for section, keys in year_defaults(year).items():
        update[section] = getattr(config, section).model_copy(update=keys)
    return config.model_copy(update=update)


def max_report_year(config: StarConfig, data_end: date) -> int | None:
    """The latest report year whose follow-up fits in an extract ending on ``data_end``."""
    for year in range(data_end.year, 1994, -1):
        if not missing_follow_up(config_for_year(config, year), data_end):
            return year
    return None


def trend_years(config: StarConfig, data_end: date | str | None) -> list[int]:
    """Report years of the trend section: ``cohorts.trend_from`` .. ``report.year``, keeping the
    years whose follow-up fits in the extract (all of them when ``data_end`` is unknown)."""
    years = range(config.cohorts.trend_from, config.report.year + 1)
    if data_end is None:
        return list(years)
    end = pd.Timestamp(data_end).date()
    return [y for y in years if not missing_follow_up(config_for_year(config, y), end)]

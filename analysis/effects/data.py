"""Monthly analysis frame for the effect estimators, built from a start-stop frame.

The estimators of :mod:`analysis.effects` work on a person-month grid: one row per person and
calendar month of follow-up, the interval ``(tstart, tstop]`` in days since spell start (the time
scale of the start-stop frame, so seniority; delayed entry at the first month), covariates as they
stand on the month's last day of follow-up, and ``event`` (exit code, 0 = none) on the last row.
Measuring everything at the end of the month puts the exposures of the month (a case-worker change
on the 12th, conversations until the month's end) and the month's health state before the exit,
which in monthly register data takes effect on the first day of the next month; the exposure
models of the weighting step then describe a clean sequence: confounders of month m, exposure of
month m, exit at the end of month m.

Exposures (:data:`EXPOSURES`): case-worker changes in the last 12 months (count, capped) and any
change; job conversations in the month and the two calendar months before it (count, capped:
the synthetic generator's ``conv_3m``) and whether the legal minimum of 4
job conversations a year is met (``jobconv_12m >= 4``). Incident exposures per month (the
treatment process that the inverse-probability weights model): new case-worker changes in the
month (increments of the within-spell count ``cw_changes``) and job conversations in the month
(from the conversations table when given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._base import require_columns

ANY_DAY_FLAGS: tuple[str, ...] = ("in_activation", "exempt", "exempt_illness", "has_paid_hours")
"""Flags summarised as "on any day of the month" by :func:`monthly_frame`."""

__all__ = [
    "ANY_DAY_FLAGS",
    "EXPOSURES",
    "Exposure",
    "add_departure_changes",
    "add_spell_months",
    "add_match_group",
    "add_monthly_conversations",
    "departure_changes",
    "monthly_frame",
]


@dataclass(frozen=True)
class Exposure:
    """A time-varying exposure of the effects analysis.

    Attributes
    ----------
    name
        Name in the results (contains ``caseworker`` for case-worker changes, as R17 expects).
    column
        Column of the monthly frame holding it.
    source
        Start-stop column it is computed from.
    cap
        Counts above ``cap`` are set to ``cap`` (``None``: binary exposure).
    threshold
        Binary exposures: 1 when ``source >= threshold``.
    truth_key
        Key in ``parameters.json["true_effects"]`` of the synthetic register whose per-unit
        effect this exposure estimates (``None``: no parameter, e.g. binary versions).
    unit
        What one unit of the exposure is (for tables).
    """

    name: str
    column: str
    source: str
    cap: int | None = None
    threshold: int | None = None
    truth_key: str | None = None
    unit: str = ""


EXPOSURES: tuple[Exposure, ...] = (
    Exposure(
        "caseworker_changes_12m",
        "x_cw12",
        "cw_changes_12m",
        cap=4,
        truth_key="cw_changes_12m",
        unit="per case-worker change in the last 12 months (capped at 4)",
    ),
    Exposure(
        "job_conversations_3m",
        "x_conv3",
        "conversations_window",
        cap=3,
        truth_key="conv_3m",
        unit="per job conversation in the month and the 2 before it (capped at 3)",
    ),
    Exposure(
        "caseworker_any_change_12m",
        "x_cw_any",
        "cw_changes_12m",
        threshold=1,
        unit="any case-worker change in the last 12 months vs none",
    ),
    Exposure(
        "conversation_minimum_met_12m",
        "x_conv_min",
        "jobconv_12m",
        threshold=4,
        unit="at least 4 job conversations in the last 12 months vs fewer",
    ),
)
"""Exposures of the effects analysis; the first two have per-unit truths on synthetic data."""


def _month_index(dates: np.ndarray) -> np.ndarray:
    """Months since year 0 (year * 12 + month - 1) of datetime64 values."""
    d = dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return d + 1970 * 12


def monthly_frame(
    start_stop: pd.DataFrame,
    *,
    baseline: Sequence[str] = (),
    time_varying: Sequence[str] | None = None,
    any_day: Sequence[str] = ANY_DAY_FLAGS,
) -> pd.DataFrame:
    """Person-month grid of a start-stop frame, covariates at the end of each month.

    Parameters
    ----------
    start_stop
        ``data_schema.derived.StartStop`` rows with ``person_id, tstart, tstop, event,
        date_start, date_stop`` (``date_*`` inclusive calendar days of the row) and the
        covariates; one spell per person (the frame of one cohort).
    baseline
        Person-level columns carried along unchanged (taken from the person's first row).
    time_varying
        Covariates taken at the month's last day of follow-up (default: every other column of
        the frame except the bookkeeping ones).
    any_day
        Boolean covariates (of those present) that are also given as ``<col>_any``: true when
        the flag holds on any day of the month's follow-up. Running offers and exemptions end
        inside the month of an exit, so their end-of-month value is biased by the exit itself
        (an offer is ended because the person left); the any-day version is not.

    Returns
    -------
    DataFrame with one row per person and calendar month of follow-up: ``person_id``,
    ``month`` (first day), ``month_no`` (1 = month of entry), ``tstart``/``tstop`` (days since
    spell start; ``tstart`` of the first month is the entry seniority), ``value_day`` (the day
    the covariates are taken: the month's last day, or the last day of follow-up in the final
    month), ``event`` (exit code on
    the last month, else 0), the time-varying covariates at the end of the month (or at the
    last day of follow-up in the final month), their values at entry (``<col>_entry`` for
    ``cw_changes``, ``cw_changes_12m``, ``jobconv_3m``, ``jobconv_12m``, ``exempt_illness``,
    ``exempt``), ``new_cw_changes`` (changes in the month: increments of ``cw_changes``) and the
    baseline columns.
    """
    need = ["person_id", "tstart", "tstop", "event", "date_start", "date_stop"]
    require_columns(start_stop, need, "start-stop frame")
    ss = start_stop.sort_values(["person_id", "tstart"], kind="stable").reset_index(drop=True)
    skip = set(need) | {"cohort", "spell_id"} | set(baseline)
    if time_varying is None:
        time_varying = [c for c in ss.columns if c not in skip]
    time_varying = list(time_varying)
    require_columns(ss, [*time_varying, *baseline], "start-stop frame")

    ds = ss["date_start"].to_numpy(dtype="datetime64[D]")
    de = ss["date_stop"].to_numpy(dtype="datetime64[D]")
    pid = ss["person_id"].to_numpy()
    last = np.ones(len(ss), bool)
    last[:-1] = pid[1:] != pid[:-1]
    first = np.ones(len(ss), bool)
    first[1:] = pid[1:] != pid[:-1]

    ms, me = _month_index(ds), _month_index(de)
    de_is_eom = (de + 1).astype("datetime64[M]") != de.astype("datetime64[M]")
    # month ends inside the row; the person's last row also ends its final (partial) month
    k = (me - ms) + de_is_eom.astype(np.int64) + (last & ~de_is_eom).astype(np.int64)
    rows = np.repeat(np.arange(len(ss)), k)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(k) - k, k)
    month = ms[rows] + offset
    month_first = (month - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    eom = (month - 1970 * 12 + 1).astype("datetime64[M]").astype("datetime64[D]") - 1
    value_day = np.minimum(eom, de[rows])
    tstop = ss["tstop"].to_numpy(float)[rows] - (de[rows] - value_day).astype(np.int64)
    is_final = last[rows] & (value_day == de[rows])

    out = pd.DataFrame({"person_id": pid[rows]})
    out["month"] = pd.to_datetime(month_first)
    pm_first = np.ones(len(rows), bool)
    pm_first[1:] = out["person_id"].to_numpy()[1:] != out["person_id"].to_numpy()[:-1]
    month_no = np.arange(len(rows)) - np.maximum.accumulate(
        np.where(pm_first, np.arange(len(rows)), 0)
    )
    out["month_no"] = month_no + 1
    entry_t = ss["tstart"].to_numpy(float)[first]
    person_entry = np.repeat(entry_t, np.bincount(np.cumsum(pm_first) - 1))
    tstart = np.empty(len(rows))
    tstart[1:] = tstop[:-1]
    tstart = np.where(pm_first, person_entry, tstart)
    out["tstart"] = tstart
    out["tstop"] = tstop
    out["value_day"] = pd.to_datetime(value_day)
    out["event"] = np.where(is_final, ss["event"].to_numpy()[rows], 0).astype(np.int64)
    for c in time_varying:
        out[c] = ss[c].to_numpy()[rows]
    entry_rows = np.repeat(np.flatnonzero(first), np.bincount(np.cumsum(pm_first) - 1))
    for c in (
        "cw_changes",
        "cw_changes_12m",
        "jobconv_3m",
        "jobconv_12m",
        "exempt_illness",
        "exempt",
    ):
        if c in ss.columns:
            out[f"{c}_entry"] = ss[c].to_numpy()[entry_rows]
    if "cw_changes" in ss.columns:
        cw = out["cw_changes"].to_numpy(np.int64)
        prev = np.empty_like(cw)
        prev[1:] = cw[:-1]
        prev = np.where(pm_first, out["cw_changes_entry"].to_numpy(np.int64), prev)
        out["new_cw_changes"] = np.maximum(cw - prev, 0)
    flags = [c for c in any_day if c in ss.columns]
    if flags:
        # every (row, month) overlap, then the maximum of each flag per person-month
        n_over = me - ms + 1
        r2 = np.repeat(np.arange(len(ss)), n_over)
        m2 = ms[r2] + (np.arange(len(r2)) - np.repeat(np.cumsum(n_over) - n_over, n_over))
        # map (person, month) of the overlaps to rows of ``out`` (both sorted by person, month)
        pcode = np.cumsum(first) - 1
        key_out = pcode[rows].astype(np.int64) * 100_000 + month
        key_over = pcode[r2].astype(np.int64) * 100_000 + m2
        pos = np.searchsorted(key_out, key_over)
        ok = (pos < len(key_out)) & (key_out[np.minimum(pos, len(key_out) - 1)] == key_over)
        for c in flags:
            v = np.zeros(len(out), bool)
            np.logical_or.at(v, pos[ok], ss[c].to_numpy(bool)[r2[ok]])
            out[f"{c}_any"] = v
    for c in baseline:
        out[c] = ss[c].to_numpy()[entry_rows]
    bad = out["tstop"].to_numpy() <= out["tstart"].to_numpy()
    if bad.any():  # a follow-up that starts on the last day of a month gives no empty interval
        raise ValueError(f"{int(bad.sum())} person-months with tstop <= tstart (check the frame)")
    return out


def _month_number(dates: pd.Series) -> np.ndarray:
    return _month_index(dates.to_numpy(dtype="datetime64[D]"))


def add_spell_months(monthly: pd.DataFrame) -> pd.DataFrame:
    """Add the monthly clock of the spell: ``spell_month`` = number of the row's calendar month in
    the spell (1 = the calendar month of the spell's first day) and ``spell_month_start`` =
    ``spell_month - 1``, so that ``(spell_month_start, spell_month]`` is the row's interval in
    months. The spell's first day is ``value_day - tstop + 1`` (``tstop`` counts days since the
    day before the spell start; needs ``month``, ``value_day``, ``tstop``).

    Exits from a monthly register happen at the end of a calendar month (the synthetic
    generator draws the state of month m+1 at the end of month m), so the persons who can exit
    together are those in the same month of their spell: the Cox models of
    :func:`analysis.effects.study.estimate_effects` use this clock (ties per month) instead of
    days since spell start, whose risk set at an exit day mixes persons at different points of
    their months (spells that started in months of other lengths end their months on other days).
    """
    require_columns(monthly, ["month", "value_day", "tstop"], "monthly frame")
    first_day = pd.to_datetime(monthly["value_day"]) - pd.to_timedelta(
        monthly["tstop"].to_numpy(float) - 1.0, unit="D"
    )
    k = _month_number(monthly["month"]) - _month_number(first_day) + 1
    return monthly.assign(spell_month=k.astype(float), spell_month_start=k - 1.0)


def _person_month_counts(persons: pd.Series, dates: pd.Series) -> pd.Series:
    """Number of events per (person id as text, calendar month index) of the event dates."""
    key = pd.DataFrame({"person_id": persons.astype(str).to_numpy(), "m": _month_number(dates)})
    return key.groupby(["person_id", "m"], sort=False).size()


def _months_window(
    monthly: pd.DataFrame, counts: pd.Series, first_back: int, last_back: int
) -> np.ndarray:
    """Per row: events in calendar months ``month - first_back`` .. ``month - last_back``."""
    pid = monthly["person_id"].astype(str).to_numpy()
    m = _month_number(monthly["month"])
    out = np.zeros(len(monthly), np.int64)
    for k in range(last_back, first_back + 1):
        idx = pd.MultiIndex.from_arrays([pid, m - k])
        out += counts.reindex(idx).fillna(0).to_numpy(np.int64)
    return out


def add_monthly_conversations(
    monthly: pd.DataFrame,
    conversations: pd.DataFrame,
    *,
    conversation_type: str | None = "job",
    window_months: int = 3,
) -> pd.DataFrame:
    """Add conversation counts by calendar month (of ``conversation_type``; ``None`` = all).

    ``new_conversations``: conversations dated in the row's calendar month (the incident
    treatment of the conversation exposure); ``conversations_window``: those dated in the
    ``window_months`` calendar months up to and including the row's month (months
    ``m - window_months + 1 .. m``, the synthetic generator's ``conv_3m`` rule: the month's own
    conversations all count before an exit at its end); ``conversations_window_lag``: the same
    window one month earlier (``m - window_months .. m - 1``; before the first month of follow-up
    it reaches before entry). Conversations after the person's last day of follow-up in a final
    partial month are counted too (they are dated in the month; the register has no time of day).
    """
    require_columns(conversations, ["person_id", "conversation_date"], "conversations")
    if window_months < 1:
        raise ValueError(f"window_months must be at least 1, got {window_months}")
    c = conversations
    if conversation_type is not None and "conversation_type" in c.columns:
        c = c[c["conversation_type"].astype(str) == conversation_type]
    counts = _person_month_counts(c["person_id"], c["conversation_date"])
    out = monthly.copy()
    out["new_conversations"] = _months_window(out, counts, 0, 0)
    out["conversations_window"] = _months_window(out, counts, window_months - 1, 0)
    out["conversations_window_lag"] = _months_window(out, counts, window_months, 1)
    return out


def add_match_group(monthly: pd.DataFrame, benefit_spells: pd.DataFrame) -> pd.DataFrame:
    """Add ``activity_ready``: the match group of the person's KH case on the row's value day is
    ``activity_ready`` (the latest ``benefit_spells`` row with a match group that starts on or
    before ``value_day``; rows without a match group, i.e. other benefits, are skipped; no such
    row: False). The match group decides the team of the case and so its case worker's caseload,
    which drives both case-worker changes and conversations."""
    require_columns(benefit_spells, ["person_id", "start_date", "match_group"], "benefit_spells")
    require_columns(monthly, ["person_id", "value_day"], "monthly frame")
    b = benefit_spells[benefit_spells["match_group"].notna()]
    b = pd.DataFrame(
        {
            "person_id": b["person_id"].astype(str).to_numpy(),
            "day": b["start_date"].to_numpy(dtype="datetime64[ns]"),
            "ar": b["match_group"].astype(str).eq("activity_ready").to_numpy(),
        }
    ).sort_values("day", kind="stable")
    q = pd.DataFrame(
        {
            "person_id": monthly["person_id"].astype(str).to_numpy(),
            "day": monthly["value_day"].to_numpy(dtype="datetime64[ns]"),
            "row": np.arange(len(monthly)),
        }
    ).sort_values("day", kind="stable")
    m = pd.merge_asof(q, b, on="day", by="person_id", direction="backward").sort_values("row")
    out = monthly.copy()
    out["activity_ready"] = m["ar"].fillna(False).to_numpy(dtype=bool)
    return out


def departure_changes(assignments: pd.DataFrame, *, min_clients: int = 2) -> pd.DataFrame:
    """Case-worker changes of each person, flagged when caused by the old case worker leaving.

    A change is an assignment that starts the day after the person's previous assignment ended,
    with another case worker. It is a *departure* change when the previous case worker has no
    assignment after that day at all (the case worker left) and at least ``min_clients`` persons
    changed away from them on that same day (all clients of a leaving case worker move at once).

    Returns
    -------
    DataFrame ``person_id, change_date, departure`` (one row per change).
    """
    require_columns(
        assignments,
        ["person_id", "caseworker_id", "start_date", "end_date"],
        "caseworker_assignments",
    )
    a = assignments.sort_values(["person_id", "start_date"], kind="stable").reset_index(drop=True)
    pid = a["person_id"].astype(str).to_numpy()
    cw = a["caseworker_id"].astype(str).to_numpy()
    start = a["start_date"].to_numpy(dtype="datetime64[D]")
    end = a["end_date"].to_numpy(dtype="datetime64[D]")
    same = np.zeros(len(a), bool)
    same[1:] = pid[1:] == pid[:-1]
    prev_end = np.empty_like(end)
    prev_end[1:] = end[:-1]
    prev_cw = np.empty_like(cw)
    prev_cw[1:] = cw[:-1]
    contiguous = same & ~np.isnat(prev_end) & (start == prev_end + 1)
    is_change = contiguous & (prev_cw != cw)
    ch = pd.DataFrame(
        {"person_id": pid[is_change], "change_date": start[is_change], "old": prev_cw[is_change]}
    )
    # last day each case worker has any client (open assignments: never leaves within the extract)
    last_day = (
        pd.Series(np.where(np.isnat(end), np.datetime64("2262-01-01"), end)).groupby(cw).max()
    )
    gone = ch["change_date"].to_numpy() - 1 >= last_day.reindex(ch["old"]).to_numpy(
        dtype="datetime64[D]"
    )
    n_moved = ch.groupby(["old", "change_date"])["person_id"].transform("size").to_numpy()
    ch["departure"] = gone & (n_moved >= min_clients)
    ch["change_date"] = pd.to_datetime(ch["change_date"])
    return ch[["person_id", "change_date", "departure"]]


def add_departure_changes(
    monthly: pd.DataFrame, changes: pd.DataFrame, *, window_days: int = 365
) -> pd.DataFrame:
    """Add ``departure_changes_12m``: departure changes (:func:`departure_changes`) dated in the
    ``window_days`` days up to the row's value day (end of month, or the last day of follow-up),
    the same window as the start-stop frame's ``cw_changes_12m``."""
    d = changes[changes["departure"]]
    out = monthly.copy()
    eom = (out["month"] + pd.offsets.MonthEnd(0)).to_numpy(dtype="datetime64[D]")
    pids = out["person_id"].astype(str).to_numpy()
    counts = np.zeros(len(out), np.int64)
    if len(d):
        dd = d.sort_values(["person_id", "change_date"])
        dp = dd["person_id"].astype(str).to_numpy()
        dt = dd["change_date"].to_numpy(dtype="datetime64[D]")
        # rank persons consistently, then search (person, day) keys in one sorted array
        cats = pd.Index(np.unique(np.concatenate([dp, pids])))
        kd = cats.get_indexer(dp).astype(np.int64) * 1_000_000 + dt.astype(np.int64)
        order = np.argsort(kd, kind="stable")
        kd = kd[order]
        ko = cats.get_indexer(pids).astype(np.int64) * 1_000_000
        hi = np.searchsorted(kd, ko + eom.astype(np.int64), side="right")
        lo = np.searchsorted(kd, ko + eom.astype(np.int64) - window_days, side="right")
        counts = hi - lo
    out["departure_changes_12m"] = counts
    return out

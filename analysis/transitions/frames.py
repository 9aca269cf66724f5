"""Model frames for the transition models, built from the derived person-period frames.

The person-month frame of ``pipelines.derive`` (``data_schema.derived.PersonMonth``) has one row per
cohort member and calendar month with the month's state and the next month's state, seniority on
KH, exposures at the month's first day and baseline characteristics. :func:`model_frame` turns it
into the frame the models read:

``duration_months``
    Whole months since the current stay in the state began (0 in its first month). On KH it is the
    seniority of the uninterrupted KH spell (``seniority_months``, the jobindsats spell rule, so a
    stay on KH that began before the cohort entry counts from the spell start); in other states it
    is counted from the month the person entered the state inside the follow-up (unknown, and the
    row dropped, for a non-KH stay already running in the first month).
Clock terms (:func:`add_clock_columns`; recomputed along predicted paths)
    ``log_dur`` = log(1 + duration_months), ``dur_lt6`` = duration below 6 months, ``age10`` =
    (age - 40) / 10, ``age10_sq``, ``age_ge55``, ``p_2020_2023`` = calendar year 2020-2023.
Person terms (:func:`add_person_columns`)
    0/1 indicators ``female``, ``western``, ``non_western``, ``menapt``, ``edu_upper_secondary``,
    ``edu_vocational``, ``edu_higher``, ``edu_unknown`` (basic = reference), ``psych``,
    ``substance``, ``children_placed`` (no children = 0) and, when a ``subgroup`` column is
    present, ``sg_<subgroup>`` against the first subgroup level.
Exposures (:data:`EXPOSURE_SOURCES`; used in the KH model only)
    ``poor_health`` (illness exemption on the month's first day), ``cw_changes_12m`` (case-worker
    changes in the 365 days up to the day, capped at 4), ``conv_3m`` (job conversations in the 91
    days before the day, capped at 3), ``in_activation`` (an offer runs on the day),
    ``paid_hours`` (paid hours in the previous month). They are the levels while on KH; the models
    of other origins do not use them.

Rows after the person reaches ``max_age`` are dropped (the transition into the month in which the
person is older is not observed: pension age / leaving the register population).

Also here: observed half-year states from the monthly states (:func:`half_year_states`), the
half-year transition frame from the derived sequences (:func:`half_year_transitions`) and sojourn
rows for the multi-state Aalen-Johansen estimator (:func:`sojourns`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis._base import require_columns

__all__ = [
    "AGE_TERMS",
    "BASE_TERMS",
    "DURATION_TERMS",
    "EXPOSURE_SOURCES",
    "EXPOSURE_TERMS",
    "PERIOD_TERMS",
    "PERSON_TERMS",
    "add_clock_columns",
    "add_person_columns",
    "half_year_states",
    "half_year_transitions",
    "model_frame",
    "sojourns",
    "state_durations",
    "subgroup_terms",
]

DURATION_TERMS: tuple[str, ...] = ("log_dur", "dur_lt6")
AGE_TERMS: tuple[str, ...] = ("age10", "age10_sq", "age_ge55")
PERIOD_TERMS: tuple[str, ...] = ("p_2020_2023",)
PERSON_TERMS: tuple[str, ...] = (
    "female",
    "western",
    "non_western",
    "menapt",
    "edu_upper_secondary",
    "edu_vocational",
    "edu_higher",
    "edu_unknown",
    "psych",
    "substance",
    "children_placed",
)
BASE_TERMS: tuple[str, ...] = PERSON_TERMS + AGE_TERMS + PERIOD_TERMS
"""Characteristics, age and calendar period: the covariates of every origin's model."""

EXPOSURE_SOURCES: Mapping[str, tuple[str, int | None]] = {
    "poor_health": ("exempt_illness", None),
    "cw_changes_12m": ("cw_changes_12m", 4),
    "conv_3m": ("jobconv_3m", 3),
    "in_activation": ("in_activation", None),
    "paid_hours": ("has_paid_hours_lag1", None),
}
"""Model exposure -> (person-month frame column, cap)."""
EXPOSURE_TERMS: tuple[str, ...] = tuple(EXPOSURE_SOURCES)

_EDU_LEVELS = ("upper_secondary", "vocational", "higher", "unknown")


def _flag(s: pd.Series) -> np.ndarray:
    """Booleans (possibly missing / object) as 0/1 floats; missing counts as 0."""
    return s.astype("boolean").fillna(False).to_numpy(dtype=float)


def subgroup_terms(levels: Sequence[str]) -> tuple[str, ...]:
    """``sg_<level>`` terms of a subgroup variable (the first level is the reference)."""
    return tuple(f"sg_{lev}" for lev in list(levels)[1:])


def add_person_columns(
    df: pd.DataFrame, subgroup_levels: Sequence[str] | None = None
) -> pd.DataFrame:
    """Add the 0/1 person terms (module docstring) computed from the characteristic columns.

    Columns that are absent are skipped (e.g. a frame without ``children_placed``).
    """
    out = df.copy()
    if "sex" in out:
        out["female"] = (out["sex"].astype(str) == "F").astype(float)
    if "origin" in out:
        o = out["origin"].astype(str)
        out["western"] = (o == "western").astype(float)
        out["non_western"] = (o == "non_western").astype(float)
    if "menapt" in out:
        out["menapt"] = _flag(out["menapt"])
    if "education" in out:
        e = out["education"].astype(str)
        for lev in _EDU_LEVELS:
            out[f"edu_{lev}"] = (e == lev).astype(float)
    if "psychiatric_diagnosis" in out:
        out["psych"] = _flag(out["psychiatric_diagnosis"])
    if "substance_abuse_treatment" in out:
        out["substance"] = _flag(out["substance_abuse_treatment"])
    if "children_placed" in out:
        out["children_placed"] = _flag(out["children_placed"])
    if "subgroup" in out:
        levels = (
            list(subgroup_levels)
            if subgroup_levels is not None
            else sorted(out["subgroup"].dropna().astype(str).unique())
        )
        g = out["subgroup"].astype(str)
        for lev in levels[1:]:
            out[f"sg_{lev}"] = (g == lev).astype(float)
    return out


def add_clock_columns(
    df: pd.DataFrame,
    duration: str = "duration_months",
    age: str = "age",
    month: str = "month",
) -> pd.DataFrame:
    """Add (in place, and return) the clock terms from duration, age and calendar month.

    ``log_dur`` = log(1 + d), ``dur_lt6`` = d < 6 (d in months); ``age10`` = (age - 40) / 10,
    ``age10_sq``, ``age_ge55`` (age in years); ``p_2020_2023`` = calendar year 2020-2023.
    """
    if duration in df:
        d = df[duration].to_numpy(dtype=float)
        df["log_dur"] = np.log1p(d)
        df["dur_lt6"] = (d < 6).astype(float)
    if age in df:
        a = df[age].to_numpy(dtype=float)
        a10 = (a - 40.0) / 10.0
        df["age10"] = a10
        df["age10_sq"] = a10**2
        df["age_ge55"] = (a >= 55).astype(float)
    if month in df:
        y = pd.DatetimeIndex(df[month]).year.to_numpy()
        df["p_2020_2023"] = ((y >= 2020) & (y <= 2023)).astype(float)
    return df


def state_durations(
    df: pd.DataFrame,
    id: str = "person_id",
    order: str = "month_index",
    state: str = "state",
    seniority: str | None = "seniority_months",
    kh_state: str = "kh",
) -> np.ndarray:
    """Months since the current stay in the state began, per row (rows of one person consecutive
    in ``order``; see the module docstring). NaN when unknown."""
    require_columns(df, [id, order, state], "person-period frame")
    srt = df.sort_values([id, order], kind="mergesort")
    pid = pd.factorize(srt[id])[0]
    st = pd.factorize(srt[state])[0]
    new_run = np.ones(len(srt), bool)
    if len(srt) > 1:
        new_run[1:] = (pid[1:] != pid[:-1]) | (st[1:] != st[:-1])
    run = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    pos = np.arange(len(srt)) - starts[run]
    first_row = np.ones(len(srt), bool)
    if len(srt) > 1:
        first_row[1:] = pid[1:] != pid[:-1]
    left_censored = first_row[starts][run]  # the stay was already running at the first row
    dur = np.where(left_censored, np.nan, pos).astype(float)
    if seniority is not None and seniority in srt:
        on_kh = (srt[state] == kh_state).to_numpy()
        sen = srt[seniority].to_numpy(dtype=float)
        dur = np.where(on_kh & ~np.isnan(sen), sen, dur)
    return pd.Series(dur, index=srt.index).reindex(df.index).to_numpy(dtype=float)


def model_frame(
    pm: pd.DataFrame,
    *,
    max_age: int | None = 64,
    exposures: Mapping[str, tuple[str, int | None]] = EXPOSURE_SOURCES,
    subgroups: pd.DataFrame | None = None,
    subgroup_levels: Sequence[str] | None = None,
    kh_state: str = "kh",
) -> pd.DataFrame:
    """Model frame from the derived person-month frame (see the module docstring).

    Parameters
    ----------
    pm
        Person-month frame (``person_id, month, month_index, state, next_state,
        seniority_months``, exposures, baseline characteristics, ``birth_year``).
    max_age
        Drop person-months in which the person is older than this (years), or becomes so in
        the next month; ``None`` keeps all.
    exposures
        ``{model exposure: (frame column, cap)}``; missing frame columns are skipped.
    subgroups
        Optional ``person_id, subgroup`` (e.g. the synthetic register's true subgroups).
    subgroup_levels
        Order of the subgroup levels (first = reference).
    kh_state
        Code of the KH state.

    Returns
    -------
    A new frame: the input's columns plus ``duration_months``, the clock, person and exposure
    terms; rows sorted by person and month.
    """
    require_columns(
        pm, ["person_id", "month", "month_index", "state", "next_state"], "person-month frame"
    )
    df = pm.sort_values(["person_id", "month_index"], kind="mergesort").reset_index(drop=True)
    df["duration_months"] = state_durations(df, kh_state=kh_state)
    if subgroups is not None:
        sg = subgroups[["person_id", "subgroup"]].astype({"person_id": str})
        df = df.merge(sg, on="person_id", how="left", validate="many_to_one")
    for name, (src, cap) in exposures.items():
        if src not in df:
            continue
        v = df[src]
        if pd.api.types.is_bool_dtype(v.dtype) or v.dtype == object:
            v = pd.Series(_flag(v), index=df.index)
        else:
            v = pd.to_numeric(v, errors="coerce").astype(float)
        df[name] = np.minimum(v, cap) if cap is not None else v
    df = add_person_columns(df, subgroup_levels)
    if "age" not in df and "birth_year" in df:
        df["age"] = pd.DatetimeIndex(df["month"]).year - df["birth_year"]
    add_clock_columns(df)
    if max_age is not None and "birth_year" in df:
        month = pd.DatetimeIndex(df["month"])
        age_now = month.year.to_numpy() - df["birth_year"].to_numpy()
        age_next = (month + pd.DateOffset(months=1)).year.to_numpy() - df["birth_year"].to_numpy()
        df = df[(age_now <= max_age) & (age_next <= max_age)].reset_index(drop=True)
    return df


def half_year_states(
    df: pd.DataFrame,
    rule: str = "predominant",
    priority: Sequence[str] | None = None,
    n_half_years: int = 4,
    id: str = "person_id",
    order: str = "month_index",
    state: str = "state",
) -> pd.DataFrame:
    """State of each person in each half-year of monthly states.

    Half-year ``k`` holds months ``order`` = 6(k-1)+1 .. 6k (``order`` 1 = entry month).
    ``rule="predominant"``: the state of most months, ties broken by ``priority`` (the state
    mapping's priority order; states not in it rank after it, in order of first appearance in
    ``df``); ``"end"``: the state in the half-year's last month. Only complete
    half-years (all six months present) are returned.

    Returns
    -------
    ``id, half_year, state``.
    """
    require_columns(df, [id, order, state], "monthly states")
    if rule not in ("predominant", "end"):
        raise ValueError(f"rule must be 'predominant' or 'end', got {rule!r}")
    # Integer codes and bincount instead of a groupby over (id, half-year, state): this runs on
    # tens of millions of simulated person-months at national scale, where the groupby on string
    # ids took most of the calibration step.
    o = df[order].to_numpy()
    m = df[(o >= 1) & (o <= 6 * n_half_years)]
    ids, id_uniques = pd.factorize(m[id], sort=True)
    st, st_uniques = pd.factorize(m[state], sort=False)
    # state columns in priority order (earlier wins a tie), then the others in order of appearance
    rank = {s_: i for i, s_ in enumerate(priority or [])}
    col = np.array(
        sorted(range(len(st_uniques)), key=lambda i: (rank.get(st_uniques[i], len(rank)), i)),
        dtype=np.int64,
    )
    position = np.empty_like(col)
    position[col] = np.arange(len(col))
    n_states = len(col)
    mo = m[order].to_numpy().astype(np.int64)
    key = ids.astype(np.int64) * n_half_years + (mo - 1) // 6
    n_keys = len(id_uniques) * n_half_years
    n_months = np.bincount(key, minlength=n_keys)
    if rule == "end":
        last = mo % 6 == 0
        state_of = np.full(n_keys, -1, dtype=np.int64)
        state_of[key[last]] = position[st[last]]
    else:
        counts = np.bincount(key * n_states + position[st], minlength=n_keys * n_states)
        state_of = counts.reshape(n_keys, n_states).argmax(axis=1)
    keep = np.flatnonzero((n_months == 6) & (state_of >= 0))
    states = st_uniques.take(col[state_of[keep]])
    out = pd.DataFrame(
        {
            id: id_uniques.take(keep // n_half_years),
            "half_year": (keep % n_half_years + 1).astype(np.int64),
            "state": pd.Series(states, dtype=m[state].dtype) if len(keep) else m[state].iloc[:0],
        }
    )
    return out.reset_index(drop=True)


def half_year_transitions(
    sequences: pd.DataFrame,
    entry_state: str = "kh",
    id: str = "person_id",
    baseline: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Half-year transition frame from state sequences: one row per person and step ``k``
    (1, 2, ...) with ``from_state`` = state in half-year k-1 (``entry_state`` at entry for k = 1)
    and ``to_state`` = state in half-year k. ``baseline`` (one row per person) is merged on
    ``id``."""
    require_columns(sequences, [id, "half_year", "state"], "sequences")
    s = sequences.sort_values([id, "half_year"], kind="mergesort")
    prev = s.groupby(id, sort=False)["state"].shift(1)
    first = s["half_year"] == s.groupby(id, sort=False)["half_year"].transform("min")
    origin = prev.where(~first, entry_state)
    out = pd.DataFrame(
        {
            id: s[id].to_numpy(),
            "step": s["half_year"].to_numpy(),
            "from_state": origin.to_numpy(),
            "to_state": s["state"].to_numpy(),
        }
    )
    out = out[out["from_state"].notna()].reset_index(drop=True)
    if baseline is not None:
        out = out.merge(baseline, on=id, how="left", validate="many_to_one")
    return out


def sojourns(
    df: pd.DataFrame,
    time_scale: str = "seniority",
    id: str = "person_id",
    order: str = "month_index",
    state: str = "state",
    next_state: str = "next_state",
    seniority: str = "seniority_months",
    group: str | None = None,
) -> pd.DataFrame:
    """Sojourn rows (counting-process form) for the multi-state Aalen-Johansen estimator.

    Month ``order`` = m of a person covers ``(t0 + m - 1, t0 + m]`` where ``t0`` is 0
    (``time_scale="entry"``: months since cohort entry) or the seniority at entry in months
    (``"seniority"``: months since the KH spell began; delayed entry). Consecutive months in the
    same state form one row ``id, entry, exit, from_state, to_state`` with ``to_state`` the next
    state when it differs (a transition at ``exit``), else missing (censored). Persons whose
    seniority at entry is unknown are dropped on the seniority scale.
    """
    cols = [id, order, state, next_state] + ([seniority] if time_scale == "seniority" else [])
    require_columns(df, cols + ([group] if group else []), "person-month frame")
    d = df.sort_values([id, order], kind="mergesort")
    pid = pd.factorize(d[id])[0]
    if time_scale == "seniority":
        first = d.groupby(id, sort=False)[seniority].transform("first")
        t0 = first.to_numpy(dtype=float)
    elif time_scale == "entry":
        t0 = np.zeros(len(d))
    else:
        raise ValueError("time_scale must be 'seniority' or 'entry'")
    st = pd.factorize(d[state])[0]
    new_run = np.ones(len(d), bool)
    if len(d) > 1:
        new_run[1:] = (pid[1:] != pid[:-1]) | (st[1:] != st[:-1])
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:] - 1, len(d) - 1)
    m = d[order].to_numpy(dtype=float)
    nxt = d[next_state].to_numpy(dtype=object)
    cur = d[state].to_numpy(dtype=object)
    to = nxt[ends]
    moved = pd.notna(to) & (to != cur[ends])
    out = pd.DataFrame(
        {
            id: d[id].to_numpy()[starts],
            "entry": t0[starts] + m[starts] - 1,
            "exit": t0[starts] + m[ends],
            "from_state": cur[starts],
            "to_state": np.where(moved, to, None),
        }
    )
    if group is not None:
        out[group] = d[group].to_numpy()[starts]
    ok = np.isfinite(out["entry"].to_numpy(dtype=float))
    return out[ok].reset_index(drop=True)

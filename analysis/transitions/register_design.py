"""Calendar-month covariates computed from the register tables (the synthetic generator's design).

The person-month frame of ``pipelines.derive`` measures exposures on the first day of each month
(conversations in the 91 days before it, case-worker changes in the 365 days up to it, paid hours
of the previous month). The synthetic register's transition model (``pipelines/synthetic``,
``parameters.json["model"]["covariates"]``) instead uses calendar-month windows that include the
month itself. This module computes that design from the register tables alone (plus a subgroup
column), for every person and month, so that the generator's model can be fitted exactly
specified - the parameter-recovery study of the transition models (issue 7) and a reference for
how much the first-of-month measurement changes the estimates.

Definitions for a person in month ``m`` (``design.COVARIATE_DEFINITIONS`` of the generator):

* ``log_dur``, ``dur_lt6``: ``d`` = months since the current stay in the state began (on KH: since
  the start month of the uninterrupted KH spell); unknown (row dropped) when the stay began before
  the first month of the states;
* ``age10``, ``age10_sq``, ``age_ge55``: age = calendar year of m - birth year;
* person terms as :func:`analysis.transitions.frames.add_person_columns`; ``sg_*`` from the
  subgroup column;
* KH only (0 in other states): ``poor_health`` = an illness exemption covers a day of month m;
  ``cw_changes_12m`` = min(4, case-worker assignments starting in months m-11..m that do not start
  on the first day of a KH spell); ``conv_3m`` = min(3, job conversations in months m-2..m);
  ``in_activation`` = an offer covers a day of month m; ``paid_hours`` = paid hours > 0 in month
  m; ``muni_copenhagen`` / ``muni_slagelse`` = the KH case open on the last day of month m is in
  municipality 101 / 330;
* period indicators of the calendar year of m (2016-2019 = reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.transitions.frames import add_person_columns

__all__ = ["GENERATOR_PERIODS", "KH_EXPOSURES", "calendar_month_design", "month_number"]

GENERATOR_PERIODS: tuple[tuple[str, int, int], ...] = (
    ("p_1978_1993", 1978, 1993),
    ("p_1994_2003", 1994, 2003),
    ("p_2004_2008", 2004, 2008),
    ("p_2009_2012", 2009, 2012),
    ("p_2013_2015", 2013, 2015),
    ("p_2020_2023", 2020, 2023),
)
KH_EXPOSURES: tuple[str, ...] = (
    "poor_health",
    "cw_changes_12m",
    "conv_3m",
    "in_activation",
    "paid_hours",
    "muni_copenhagen",
    "muni_slagelse",
)
KH_CODES = ("130", "131", "132", "133")


def month_number(d: pd.Series | pd.DatetimeIndex, origin_year: int) -> np.ndarray:
    """Months since January of ``origin_year`` (0-based) of each date."""
    idx = pd.DatetimeIndex(d)
    return ((idx.year - origin_year) * 12 + idx.month - 1).to_numpy(np.int64)


def _days(d: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of each date (an integer key, also for pre-1970 dates)."""
    return pd.DatetimeIndex(d).to_numpy(dtype="datetime64[D]").astype(np.int64) + 100_000


def _dense_counts(pix: np.ndarray, mi: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    ok = (pix >= 0) & (mi >= 0) & (mi < shape[1])
    out = np.zeros(shape, np.int32)
    np.add.at(out, (pix[ok], mi[ok]), 1)
    return out


def _dense_cover(
    pix: np.ndarray, m0: np.ndarray, m1: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Cells (person, month) covered by month ranges ``m0..m1`` (inclusive)."""
    p, m = shape
    d = np.zeros((p, m + 1), np.int32)
    ok = (pix >= 0) & (m1 >= 0) & (m0 < m)
    lo = np.clip(m0[ok], 0, m)
    hi = np.clip(m1[ok] + 1, 0, m)
    np.add.at(d, (pix[ok], lo), 1)
    np.add.at(d, (pix[ok], hi), -1)
    return np.cumsum(d, axis=1)[:, :m] > 0


def _window_sum(a: np.ndarray, width: int) -> np.ndarray:
    """Sum over months m-width+1..m (months before the first month count as 0)."""
    c = np.cumsum(a, axis=1, dtype=np.int64)
    out = c.copy()
    out[:, width:] -= c[:, :-width]
    return out


def calendar_month_design(
    tables: dict[str, pd.DataFrame],
    states: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    subgroups: pd.DataFrame | None = None,
    subgroup_levels: list[str] | None = None,
    first_month: str = "1991-01",
    last_month: str = "2023-12",
    kh_state: str = "kh",
    window_end: str = "2023-12-31",
) -> pd.DataFrame:
    """Person-month frame with the generator's calendar-month covariates.

    Parameters
    ----------
    tables
        Register tables as DataFrames: ``persons``, ``benefit_spells``, ``caseworker_assignments``,
        ``conversations``, ``activation_offers``, ``exemptions``, ``monthly_paid_hours``.
    states
        Monthly states ``person_id, month, state`` (consecutive months per person).
    spells
        Uninterrupted KH spells ``person_id, spell_start, spell_end`` (jobindsats rule).
    subgroups
        Optional ``person_id, subgroup``.
    subgroup_levels
        Subgroup order (first = reference).
    first_month, last_month
        Months (``YYYY-MM``) of the returned rows (every row needs the next month's state, so rows
        end one month before the last state).
    kh_state
        Code of the KH state.
    window_end
        Last day of the extract (open end dates).

    Returns
    -------
    One row per person and month with a next state: ``person_id, month, state, next_state,
    duration_months``, every covariate named in the module docstring, and ``year``.
    """
    need = ("persons", "benefit_spells", "caseworker_assignments", "conversations",
            "activation_offers", "exemptions", "monthly_paid_hours")  # fmt: skip
    missing = [t for t in need if t not in tables]
    if missing:
        raise KeyError(f"register tables missing: {missing}")
    require_columns(states, ["person_id", "month", "state"], "states")
    require_columns(spells, ["person_id", "spell_start", "spell_end"], "spells")
    persons = tables["persons"].reset_index(drop=True)
    person_ids = pd.Index(persons["person_id"].to_numpy(dtype=object))
    st = states[["person_id", "month", "state"]].copy()
    y0 = int(pd.Timestamp(st["month"].min()).year)
    m_last = int(month_number(pd.Series([pd.Timestamp(st["month"].max())]), y0)[0])
    shape = (len(persons), m_last + 1)
    end = pd.Timestamp(window_end)

    def pix(df: pd.DataFrame) -> np.ndarray:
        """Row of each record's person in ``persons`` (-1 if absent); hash lookup on the ids."""
        return person_ids.get_indexer(df["person_id"].to_numpy(dtype=object)).astype(np.int64)

    # state runs and durations
    st["p"] = pix(st)
    st = st[st["p"] >= 0]
    st["m"] = month_number(st["month"], y0)
    st = st.sort_values(["p", "m"], kind="mergesort").reset_index(drop=True)
    p_arr, m_arr = st["p"].to_numpy(), st["m"].to_numpy()
    s_codes, s_labels = pd.factorize(st["state"])
    new = np.ones(len(st), bool)
    new[1:] = (
        (p_arr[1:] != p_arr[:-1]) | (s_codes[1:] != s_codes[:-1]) | (m_arr[1:] != m_arr[:-1] + 1)
    )
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    run_start_m = m_arr[starts][run]
    person_first = st.groupby("p")["m"].transform("min").to_numpy()
    dur = np.where(run_start_m > person_first, m_arr - run_start_m, np.nan).astype(float)
    # KH: seniority from the spell start month (spells that began before the states' first month
    # have their true start; a spell starting on the window's first day may be left-truncated)
    sp = spells[["person_id", "spell_start", "spell_end"]].copy()
    sp["p"] = pix(sp)
    sp = sp[sp["p"] >= 0]
    sp["s"] = month_number(sp["spell_start"], y0)
    sp["e"] = month_number(sp["spell_end"].fillna(end), y0)
    if "left_truncated" in spells:
        sp = sp[~spells.loc[sp.index, "left_truncated"].astype(bool).to_numpy()]
    on_kh = (st["state"] == kh_state).to_numpy()
    kh_rows = st.loc[on_kh, ["p", "m"]].reset_index()
    hit = kh_rows.merge(sp[["p", "s", "e"]], on="p", how="inner")
    hit = hit[(hit["m"] >= hit["s"]) & (hit["m"] <= hit["e"])]
    hit = hit.drop_duplicates("index", keep="last")
    sen = pd.Series(np.nan, index=st.index)
    sen.loc[hit["index"].to_numpy()] = (hit["m"] - hit["s"]).to_numpy(dtype=float)
    dur = np.where(on_kh, sen.to_numpy(), dur)
    st["duration_months"] = dur
    nxt_same = np.zeros(len(st), bool)
    nxt_same[:-1] = (p_arr[1:] == p_arr[:-1]) & (m_arr[1:] == m_arr[:-1] + 1)
    nxt_state = np.full(len(st), None, dtype=object)
    nxt_state[:-1] = st["state"].to_numpy(dtype=object)[1:]
    st["next_state"] = np.where(nxt_same, nxt_state, None)

    # exposures on dense person x month arrays
    conv = tables["conversations"]
    conv = conv[conv["conversation_type"].astype(str) == "job"]
    conv_job = _dense_counts(pix(conv), month_number(conv["conversation_date"], y0), shape)
    ca = tables["caseworker_assignments"]
    ca_p = pix(ca)
    # a change = an assignment that does not start on the first day of a KH spell
    first_key = pix(spells) * 1_000_000 + _days(spells["spell_start"])
    ca_key = ca_p * 1_000_000 + _days(ca["start_date"])
    is_change = ~np.isin(ca_key, first_key)
    changes = _dense_counts(ca_p[is_change], month_number(ca["start_date"], y0)[is_change], shape)
    act = tables["activation_offers"]
    in_act = _dense_cover(pix(act), month_number(act["start_date"], y0),
                          month_number(act["end_date"].fillna(end), y0), shape)  # fmt: skip
    ex = tables["exemptions"]
    ex = ex[ex["reason"].astype(str) == "illness"]
    ill = _dense_cover(pix(ex), month_number(ex["start_date"], y0),
                       month_number(ex["end_date"].fillna(end), y0), shape)  # fmt: skip
    hours = tables["monthly_paid_hours"]
    hours = hours[hours["paid_hours"] > 0]
    paid = _dense_counts(pix(hours), month_number(hours["month"], y0), shape) > 0
    b = tables["benefit_spells"]
    kh = b[b["benefit_code"].astype(str).isin(KH_CODES)]
    k_end = kh["end_date"].fillna(end)
    k_s = month_number(kh["start_date"], y0)
    month_end = (k_end + pd.offsets.MonthEnd(0)) == k_end
    k_e = (
        month_number(k_end, y0) - 1 + month_end.to_numpy().astype(np.int64)
    )  # last month whose last day is covered
    muni = np.zeros(shape, np.int32)
    kp = pix(kh)
    ok = (kp >= 0) & (k_e >= k_s)
    n = (k_e - k_s + 1)[ok]
    rows = np.repeat(kp[ok], n)
    mon = np.repeat(k_s[ok], n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    keep = (mon >= 0) & (mon < shape[1])
    muni[rows[keep], mon[keep]] = np.repeat(kh["municipality_id"].to_numpy()[ok], n)[keep]

    lo_m, hi_m = pd.Timestamp(first_month), pd.Timestamp(last_month)
    mm = pd.DatetimeIndex(st["month"])
    sel = np.flatnonzero((mm >= lo_m) & (mm <= hi_m) & st["next_state"].notna().to_numpy())
    st = st.iloc[sel].reset_index(drop=True)
    on_kh = on_kh[sel]
    p, m = st["p"].to_numpy(), st["m"].to_numpy()
    kh_f = on_kh.astype(float)
    out = pd.DataFrame(
        {
            "person_id": st["person_id"].to_numpy(),
            "month": st["month"].to_numpy(),
            "state": st["state"].to_numpy(),
            "next_state": st["next_state"].to_numpy(),
            "duration_months": st["duration_months"].to_numpy(),
            "poor_health": ill[p, m] * kh_f,
            "cw_changes_12m": np.minimum(_window_sum(changes, 12)[p, m], 4) * kh_f,
            "conv_3m": np.minimum(_window_sum(conv_job, 3)[p, m], 3) * kh_f,
            "in_activation": in_act[p, m] * kh_f,
            "paid_hours": paid[p, m] * kh_f,
            "muni_copenhagen": (muni[p, m] == 101) * kh_f,
            "muni_slagelse": (muni[p, m] == 330) * kh_f,
        }
    )
    year = pd.DatetimeIndex(out["month"]).year.to_numpy()
    out["year"] = year
    for name, lo, hi in GENERATOR_PERIODS:
        out[name] = ((year >= lo) & (year <= hi)).astype(float)
    cols = ["birth_year", "sex", "origin", "menapt", "education", "psychiatric_diagnosis",
            "substance_abuse_treatment", "children_placed"]  # fmt: skip
    for c in cols:
        if c in persons:
            out[c] = persons[c].to_numpy()[p]
    if subgroups is not None:
        sg_of = np.full(len(persons), None, dtype=object)
        sp_rows = pix(subgroups)
        ok_sg = sp_rows >= 0
        sg_of[sp_rows[ok_sg]] = subgroups["subgroup"].to_numpy(dtype=object)[ok_sg]
        out["subgroup"] = sg_of[p]
    out = add_person_columns(out, subgroup_levels)
    age = year - out["birth_year"].to_numpy(dtype=float)
    a10 = (age - 40.0) / 10.0
    out["age"] = age
    out["age10"], out["age10_sq"], out["age_ge55"] = a10, a10**2, (age >= 55).astype(float)
    d = out["duration_months"].to_numpy(dtype=float)
    out["log_dur"] = np.log1p(d)
    out["dur_lt6"] = (d < 6).astype(float)
    del s_labels
    return out

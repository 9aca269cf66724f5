"""Efforts in a look-back window (STAR 2022 R6-R12, R18): activation, conversations, passive periods,
exemptions, interrupted offers, paid hours, case-worker changes.

:func:`person_efforts` computes one row per person from the register tables; :func:`efforts_table`
and :func:`continuity_table` aggregate it by group. Definitions (window ``W = [end - 2 years,
end - 1 day]``; "KH days" = days of ``W`` inside a KH-system spell, bridged gaps included):

- ``kh_days``: KH days in ``W``. Persons with no KH day in ``W`` are left out of every aggregate.
- ``activated_days``: KH days in ``W`` with at least one running offer of an activation type
  (overlapping offers count once); ``days_<type>`` likewise per offer type (all five types).
- ``job_conversations`` / ``conversations``: job conversations / all conversations dated on a KH day
  in ``W`` (a conversation on a spell's first day counts).
- ``meets_minimum``: ``job_conversations >= conversations_per_year * window_years * kh_days /
  window_days`` (8 in two full years; not adjusted for exemptions, as in the study).
- ``longest_passive_days``: longest run of consecutive KH days in ``W`` with no running activation
  offer and no exemption (days off KH break a run); ``passive_over_1y``: that run is at least
  ``passive_min_days`` (366) long.
- ``exempt``: an exemption overlapping ``W``.
- ``interrupted_absence`` / ``interrupted``: an offer ending in ``W`` with outcome
  ``interrupted_absence`` / any interrupted outcome.
- ``employment_offer``: an offer of an employment-offer type overlapping ``W``.
- ``paid_hours``: a calendar month with paid hours > 0 that overlaps a KH day in ``W``;
  ``paid_hours_month``: paid hours > 0 in the window's last calendar month (the month of
  ``end - 1 day``: November 2021 for the stock on 2021-11-30).
- ``caseworker_changes``: assignments starting in ``W`` whose case worker differs from the person's
  previous assignment.
- ``coordinated`` (register proxy for a coordinated course): mentor support running on the same
  day as an activation offer, on a KH day in ``W``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.disclosure import suppress, suppressed_share
from analysis.star2022 import _intervals as iv
from analysis.star2022.params import StarParameters
from analysis.star2022.populations import kh_blocks, window
from data_schema.codes import OFFER_TYPE

INTERRUPTED = ("interrupted_absence", "interrupted_other")

#: Person-count statistics of the efforts tables: count column -> person-level boolean.
PERSON_SHARES: dict[str, str] = {
    "n_min_conversations": "meets_minimum",
    "n_passive_over_1y": "passive_over_1y",
    "n_exempt": "exempt",
    "n_interrupted_absence": "interrupted_absence",
    "n_interrupted": "interrupted",
    "n_employment_offer": "employment_offer",
    "n_paid_hours": "paid_hours",
    "n_paid_hours_month": "paid_hours_month",
    "n_coordinated": "coordinated",
}


def _empty_bool(persons: pd.Index) -> pd.Series:
    return pd.Series(False, index=persons)


def _any_per_person(ids: pd.Series | np.ndarray, persons: pd.Index) -> pd.Series:
    return pd.Series(persons.isin(pd.unique(np.asarray(ids))), index=persons)


def person_efforts(
    members: pd.Series | pd.DataFrame,
    end: date,
    *,
    spells: pd.DataFrame,
    activation_offers: pd.DataFrame,
    exemptions: pd.DataFrame,
    conversations: pd.DataFrame,
    monthly_paid_hours: pd.DataFrame,
    caseworker_assignments: pd.DataFrame | None = None,
    params: StarParameters = StarParameters(),
) -> pd.DataFrame:
    """Per-person efforts in the window before ``end`` (see the module docstring for definitions).

    Parameters
    ----------
    members
        Person ids (Series), or a frame with ``person_id`` and optionally a per-person
        ``reference_date`` replacing ``end``.
    end
        The window is ``[end - params.window_years, end - 1 day]``.
    spells, activation_offers, exemptions, conversations, monthly_paid_hours, caseworker_assignments
        Derived KH spells and the register tables (data_schema.tables columns).

    Returns
    -------
    One row per member, indexed by ``person_id``: ``window_days, kh_days, activated_days,
    days_<offer type>, job_conversations, conversations, meets_minimum, longest_passive_days,
    passive_over_1y, exempt, interrupted_absence, interrupted, employment_offer, paid_hours,
    caseworker_changes, coordinated``.
    """
    require_columns(
        activation_offers,
        ["person_id", "offer_type", "start_date", "end_date", "outcome"],
        "offers",
    )
    require_columns(exemptions, ["person_id", "start_date", "end_date"], "exemptions")
    require_columns(
        conversations, ["person_id", "conversation_date", "conversation_type"], "conversations"
    )
    require_columns(monthly_paid_hours, ["person_id", "month", "paid_hours"], "paid hours")
    win = window(members, end, params.window_years).drop_duplicates("person_id")
    persons = pd.Index(win["person_id"].to_numpy(), name="person_id")
    out = pd.DataFrame(index=persons)
    out["window_days"] = (win["hi"] - win["lo"] + 1).to_numpy()

    kh = kh_blocks(spells, win)
    out["kh_days"] = iv.length(kh, persons)

    offers = activation_offers[activation_offers["person_id"].isin(persons)]
    off_iv = iv.intervals(offers, "start_date", "end_date", keep=("offer_type", "outcome"))
    off_iv["end_day"] = off_iv["e"]
    off_w = iv.clip(off_iv, win)
    act = iv.union(off_w[off_w["offer_type"].isin(params.activation_types)])
    act_kh = iv.intersect(act, kh)
    out["activated_days"] = iv.length(act_kh, persons)
    for t in OFFER_TYPE:
        blocks = iv.union(off_w[off_w["offer_type"] == t])
        out[f"days_{t}"] = iv.length(iv.intersect(blocks, kh), persons)

    # conversations on KH days in the window
    conv = conversations[conversations["person_id"].isin(persons)]
    cv = pd.DataFrame(
        {
            "person_id": conv["person_id"].to_numpy(),
            "d": iv.days(conv["conversation_date"]),
            "job": (conv["conversation_type"] == "job").to_numpy(),
        }
    )
    cv = cv[iv.points_in(cv, "d", kh)]
    out["job_conversations"] = (
        cv[cv["job"]].groupby("person_id").size().reindex(persons, fill_value=0)
    )
    out["conversations"] = cv.groupby("person_id").size().reindex(persons, fill_value=0)
    required = (
        params.conversations_per_year * params.window_years * out["kh_days"] / out["window_days"]
    )
    out["meets_minimum"] = (out["kh_days"] > 0) & (out["job_conversations"] >= required - 1e-9)

    # passive periods: KH days with neither an activation offer nor an exemption
    ex_iv = iv.intervals(
        exemptions[exemptions["person_id"].isin(persons)], "start_date", "end_date"
    )
    ex_w = iv.clip(ex_iv, win)
    off_kh = iv.gaps(kh, win)
    cover = iv.union(pd.concat([act, ex_w[["person_id", "s", "e"]], off_kh], ignore_index=True))
    passive = iv.gaps(cover, win)
    longest = (passive["e"] - passive["s"] + 1).groupby(passive["person_id"]).max()
    out["longest_passive_days"] = longest.reindex(persons, fill_value=0).astype(np.int64)
    out["passive_over_1y"] = out["longest_passive_days"] >= params.passive_min_days
    out["exempt"] = _any_per_person(ex_w["person_id"], persons)

    ended = off_iv.merge(win, on="person_id")
    ended = ended[(ended["end_day"] >= ended["lo"]) & (ended["end_day"] <= ended["hi"])]
    out["interrupted_absence"] = _any_per_person(
        ended.loc[ended["outcome"] == "interrupted_absence", "person_id"], persons
    )
    out["interrupted"] = _any_per_person(
        ended.loc[ended["outcome"].isin(INTERRUPTED), "person_id"], persons
    )
    out["employment_offer"] = _any_per_person(
        off_w.loc[off_w["offer_type"].isin(params.employment_offer_types), "person_id"], persons
    )

    # paid hours in a month overlapping a KH day of the window
    ph = monthly_paid_hours[
        monthly_paid_hours["person_id"].isin(persons) & (monthly_paid_hours["paid_hours"] > 0)
    ]
    month = pd.to_datetime(ph["month"])
    ph_iv = pd.DataFrame(
        {
            "person_id": ph["person_id"].to_numpy(),
            "s": iv.days(month),
            "e": iv.days(pd.Series(month + pd.offsets.MonthEnd(0))),
        }
    )
    out["paid_hours"] = _any_per_person(iv.intersect(ph_iv, kh)["person_id"], persons)
    last_month = ph_iv.merge(win, on="person_id")
    last_month = last_month[
        (last_month["s"] <= last_month["hi"]) & (last_month["e"] >= last_month["hi"])
    ]
    out["paid_hours_month"] = _any_per_person(last_month["person_id"], persons)

    # case-worker changes starting in the window
    if caseworker_assignments is not None and not caseworker_assignments.empty:
        ca = caseworker_assignments[caseworker_assignments["person_id"].isin(persons)]
        ca = pd.DataFrame(
            {
                "person_id": ca["person_id"].to_numpy(),
                "s": iv.days(ca["start_date"]),
                "cw": ca["caseworker_id"].astype(str).to_numpy(),
            }
        ).merge(win, on="person_id")
        ca = ca[ca["s"] <= ca["hi"]].sort_values(["person_id", "s"], kind="mergesort")
        prev_cw = ca.groupby("person_id")["cw"].shift()
        change = prev_cw.notna() & (ca["cw"] != prev_cw) & (ca["s"] >= ca["lo"])
        changes = change.groupby(ca["person_id"]).sum()
        out["caseworker_changes"] = changes.reindex(persons, fill_value=0).astype(np.int64)
    else:
        out["caseworker_changes"] = pd.Series(0, index=persons, dtype=np.int64)

    mentor = iv.union(off_w[off_w["offer_type"] == "mentor"])
    out["coordinated"] = _any_per_person(
        iv.intersect(iv.intersect(mentor, act), kh)["person_id"], persons
    )
    return out


def aggregate_efforts(pe: pd.DataFrame) -> pd.Series:
    """Aggregate statistics of a group of persons from :func:`person_efforts` (persons with KH days
    in the window only).

    ``share_activated`` (and per type) is pooled: activated KH days / KH days, summed over persons;
    ``mean_share_activated`` the mean of the persons' own shares; conversations per year are pooled
    over KH person-years (365.25 days).
    """
    p = pe[pe["kh_days"] > 0]
    kh = float(p["kh_days"].sum())
    years = kh / 365.25
    row: dict[str, float] = {"n": len(p), "kh_person_years": years}
    row["share_activated"] = p["activated_days"].sum() / kh if kh else np.nan
    row["mean_share_activated"] = (p["activated_days"] / p["kh_days"]).mean() if len(p) else np.nan
    for t in OFFER_TYPE:
        row[f"share_activated_{t}"] = p[f"days_{t}"].sum() / kh if kh else np.nan
    row["job_conversations_per_year"] = p["job_conversations"].sum() / years if kh else np.nan
    row["conversations_per_year"] = p["conversations"].sum() / years if kh else np.nan
    for count, flag in PERSON_SHARES.items():
        row[count] = int(p[flag].sum())
    return pd.Series(row)


STAT_COLUMNS: tuple[str, ...] = (
    "kh_person_years",
    "share_activated",
    "mean_share_activated",
    *(f"share_activated_{t}" for t in OFFER_TYPE),
    "job_conversations_per_year",
    "conversations_per_year",
)


def _grouped(pe: pd.DataFrame, groups: pd.Series, order: list[str] | None) -> pd.DataFrame:
    g = groups.reindex(pe.index)
    cats = order if order is not None else sorted(pd.unique(g.dropna().astype(str)))
    rows = []
    for value in cats:
        sel = pe[g.astype(str).to_numpy() == str(value)]
        rows.append(aggregate_efforts(sel).rename(str(value)))
    return pd.DataFrame(rows)


def efforts_table(
    pe: pd.DataFrame,
    groupings: dict[str, tuple[pd.Series, list[str] | None]],
    population: str,
) -> pd.DataFrame:
    """Efforts by group (unsuppressed), plus the ``all`` row.

    Parameters
    ----------
    pe
        :func:`person_efforts` output (indexed by person id).
    groupings
        ``{group_type: (Series person_id -> group, order of groups or None)}``.
    population
        Label of the population (e.g. ``stock_2021-11-30``).

    Returns
    -------
    ``population, group_type, group, n, <statistics>, n_<flag>, share_<flag>``.
    """
    parts = [aggregate_efforts(pe).to_frame("all").T.assign(group_type="all")]
    for gtype, (series, order) in groupings.items():
        parts.append(_grouped(pe, series, order).assign(group_type=gtype))
    out = pd.concat(parts)
    out.index.name = "group"
    out = out.reset_index()
    out.insert(0, "population", population)
    out["n"] = out["n"].astype("int64")
    for count in PERSON_SHARES:
        out[count] = out[count].astype("int64")
        out["share_" + count.removeprefix("n_")] = suppressed_share(out[count], out["n"])
    lead = ["population", "group_type", "group", "n"]
    return out[lead + [c for c in out.columns if c not in lead]]


def _lines_by_group_type(df: pd.DataFrame, extra: list[str] | None = None) -> list[pd.Series]:
    """One line spec per group type: its groups plus the ``all`` row (their total), per population."""
    specs = []
    base = df["population"].astype(str)
    if extra:
        base = base + "|" + df[extra].astype(str).agg("|".join, axis=1)
    for gtype in pd.unique(df.loc[df["group_type"] != "all", "group_type"]):
        member = df["group_type"].isin([gtype, "all"])
        specs.append(base.where(member))
    return specs


def publish_efforts(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """:func:`efforts_table` / :func:`continuity_table` after primary and secondary suppression:
    each count across the groups of a group type and ``all``; the denominators likewise; pooled
    statistics blanked with a suppressed denominator."""
    counts = {c: ["share_" + c.removeprefix("n_")] for c in PERSON_SHARES if c in table.columns}
    stats = [c for c in STAT_COLUMNS if c in table.columns]
    lines = _lines_by_group_type(table)
    return suppress(
        table,
        counts,
        denominator="n",
        lines=lines,
        denominator_lines=lines,
        stats=stats,
        threshold=threshold,
    )


CHANGE_GROUPS: tuple[str, ...] = ("0", "1", "2", "3+")


def change_group(changes: pd.Series) -> pd.Series:
    """Number of case-worker changes as the groups ``0``, ``1``, ``2``, ``3+``."""
    return pd.Series(
        np.where(changes >= 3, "3+", changes.clip(upper=3).astype(int).astype(str)),
        index=changes.index,
    )


def continuity_table(pe: pd.DataFrame, population: str) -> pd.DataFrame:
    """R18: efforts by number of case-worker changes in the window (groups 0, 1, 2, 3+)."""
    return efforts_table(
        pe,
        {"caseworker_changes": (change_group(pe["caseworker_changes"]), list(CHANGE_GROUPS))},
        population,
    )


def continuity_direction(table: pd.DataFrame) -> dict[str, object]:
    """R18 direction check on :func:`continuity_table` (published or not): the group with no change
    against the group with the most changes that has data (3+, else 2, else 1).

    ``within`` is true when the no-change group has more job conversations per year, a larger share
    with a coordinated course (proxy) and a smaller share with interrupted offers.
    """
    t = table[table["group_type"] == "caseworker_changes"].set_index("group")
    ok_rows = t[t["n"].fillna(0) > 0]
    if "0" not in ok_rows.index:
        return {"within": None, "note": "no persons without case-worker changes"}
    top = next((g for g in ("3+", "2", "1") if g in ok_rows.index), None)
    if top is None:
        return {"within": None, "note": "no persons with case-worker changes"}
    a, b = ok_rows.loc["0"], ok_rows.loc[top]
    pairs = {
        "conversations": (a["job_conversations_per_year"], b["job_conversations_per_year"], 1),
        "coordinated": (a["share_coordinated"], b["share_coordinated"], 1),
        "interrupted": (a["share_interrupted"], b["share_interrupted"], -1),
    }
    checks = {
        k: (None if pd.isna(x) or pd.isna(y) else bool(sign * (x - y) > 0))
        for k, (x, y, sign) in pairs.items()
    }
    text = (
        f"0 vs {top} changes: job conversations/yr {a['job_conversations_per_year']:.1f} vs "
        f"{b['job_conversations_per_year']:.1f}; coordinated {100 * a['share_coordinated']:.0f} % vs "
        f"{100 * b['share_coordinated']:.0f} %; interrupted {100 * a['share_interrupted']:.0f} % vs "
        f"{100 * b['share_interrupted']:.0f} %"
    )
    values = list(checks.values())
    within = None if any(v is None for v in values) else all(values)
    return {"within": within, "text": text, "compared": top, "n": int(a["n"] + b["n"])}

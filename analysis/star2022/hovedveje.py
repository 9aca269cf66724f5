"""Hovedveje (main pathways) of a cohort over the following half-years (STAR 2022, R13-R15).

Input: the ``Sequences`` frame (state of each cohort member in half-years 1..H) and the ``Cohort``
frame (seniority group at entry, prior attachment). Definitions per member:

- ``all_kh``: state ``kh`` in every half-year 1..H;
- ``ever`` a state: that state in at least one half-year 1..H;
- ``last``: the state in half-year H;
- ``first_exit``: the first state other than ``kh`` (``none`` if always ``kh``);
- the sequence: the H states joined by ``-``.

A member with fewer than H half-years in ``Sequences`` has the missing ones as state ``missing``.
Groups: everyone (``all``), seniority group at entry, prior attachment (``low`` / ``high``: share of
the two years before the member's reference date spent in the KH system below / at least the
threshold).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.disclosure import suppress, suppressed_share
from analysis.star2022.populations import SENIORITY_ORDER

#: States in the priority order of the shipped mapping, then the residual codes used here.
STATE_ORDER: tuple[str, ...] = (
    "kh",
    "job",
    "fp",
    "rf",
    "fj",
    "edu",
    "self_support",
    "other_benefit",
    "dead_or_emigrated",
)
MEASURES: tuple[str, ...] = ("all_kh", "ever", "last", "first_exit")


def person_pathways(sequences: pd.DataFrame, n_half_years: int) -> pd.DataFrame:
    """One row per member: ``h1..hH`` states, ``sequence``, ``all_kh``, ``first_exit``, ``last``."""
    require_columns(sequences, ["person_id", "half_year", "state"], "sequences")
    seq = sequences[sequences["half_year"].between(1, n_half_years)]
    seq = seq.drop_duplicates(["person_id", "half_year"])
    wide = seq.pivot(index="person_id", columns="half_year", values="state").reindex(
        columns=range(1, n_half_years + 1)
    )
    wide = wide.astype(object).where(wide.notna(), "missing").astype(str)
    wide.columns = [f"h{h}" for h in wide.columns]
    states = wide.to_numpy()
    out = wide.copy()
    joined = wide[wide.columns[0]]
    for c in wide.columns[1:]:
        joined = joined + "-" + wide[c]
    out["sequence"] = joined
    is_kh = states == "kh"
    out["all_kh"] = is_kh.all(axis=1)
    first_non_kh = np.argmax(~is_kh, axis=1)
    out["first_exit"] = np.where(
        out["all_kh"], "none", states[np.arange(len(states)), first_non_kh]
    )
    out["last"] = states[:, -1]
    return out


def _state_levels(present: set[str]) -> list[str]:
    """The standard states, then any other state codes present (e.g. ``missing``)."""
    return [*STATE_ORDER, *sorted(present - set(STATE_ORDER) - {"none"})]


def pathways_table(
    pathways: pd.DataFrame, groups: dict[str, pd.Series], n_half_years: int
) -> pd.DataFrame:
    """Shares of members by measure and state, for everyone and by each grouping (unsuppressed).

    Returns
    -------
    ``group_type, group, measure, state, n, n_persons, share`` with measures ``all_kh`` (state
    ``kh``), ``ever``, ``last``, ``first_exit`` (state ``none`` = never left).
    """
    cols = [f"h{h}" for h in range(1, n_half_years + 1)]
    present = set(np.unique(pathways[cols].to_numpy())) | set(pathways["first_exit"])
    levels = _state_levels(present)
    frames = [("all", pd.Series("all", index=pathways.index))]
    frames += [(k, v.reindex(pathways.index)) for k, v in groups.items()]
    ever = pathways[cols].to_numpy()
    flags: list[tuple[str, str, np.ndarray]] = [("all_kh", "kh", pathways["all_kh"].to_numpy())]
    flags += [("ever", s, (ever == s).any(axis=1)) for s in levels]
    flags += [("last", s, (pathways["last"] == s).to_numpy()) for s in levels]
    flags += [
        ("first_exit", s, (pathways["first_exit"] == s).to_numpy())
        for s in ["none", *[lv for lv in levels if lv != "kh"]]
    ]
    rows = []
    for gtype, g in frames:
        if gtype == "all":
            order = ["all"]
        elif gtype == "seniority_group":
            order = list(SENIORITY_ORDER)
        else:
            order = sorted(pd.unique(g.dropna().astype(str)))
        cat = pd.Categorical(g.astype(str), categories=order)
        n = pd.Series(1, index=pathways.index).groupby(cat, observed=False).sum().reindex(order)
        for measure, state, flag in flags:
            cnt = (
                pd.Series(flag.astype(int), index=pathways.index).groupby(cat, observed=False).sum()
            )
            rows.append(
                pd.DataFrame(
                    {
                        "group_type": gtype,
                        "group": order,
                        "measure": measure,
                        "state": state,
                        "n": n.to_numpy(),
                        "n_persons": cnt.reindex(order).to_numpy(),
                    }
                )
            )
    out = pd.concat(rows, ignore_index=True)
    out["n"] = out["n"].astype("int64")
    out["n_persons"] = out["n_persons"].astype("int64")
    out["share"] = suppressed_share(out["n_persons"], out["n"])
    return out


def publish_pathways(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """:func:`pathways_table` after suppression: each cell across the groups of a group type plus
    ``all``; ``last`` and ``first_exit`` levels partition their group; denominators likewise."""
    key = table["measure"] + "|" + table["state"]
    lines, den_lines = [], []
    for gtype in pd.unique(table.loc[table["group_type"] != "all", "group_type"]):
        member = table["group_type"].isin([gtype, "all"])
        lines.append(key.where(member))
        den_lines.append(pd.Series(gtype, index=table.index).where(member))
    part = (table["group_type"] + "|" + table["group"] + "|" + table["measure"]).where(
        table["measure"].isin(["last", "first_exit"])
    )
    return suppress(
        table,
        {"n_persons": ["share"]},
        denominator="n",
        denominator_keys=["group_type", "group"],
        lines=lines,
        partitions=[part],
        denominator_lines=den_lines,
        threshold=threshold,
    )


def top_sequences(
    pathways: pd.DataFrame, groups: dict[str, pd.Series], top: int, threshold: int
) -> pd.DataFrame:
    """Most frequent sequences per group, publishable by construction.

    Per group, the ``top`` most frequent sequences with at least ``threshold`` members are listed
    (ties broken alphabetically), followed by ``other`` (all remaining members). While ``other`` has
    between 1 and ``threshold - 1`` members, the smallest listed sequence is moved into it, so no
    published count, and no difference of published counts, is below the threshold. Groups smaller
    than the threshold are left out.

    Returns
    -------
    ``group_type, group, rank, sequence, n, n_persons, share`` (``rank`` 0 for ``other``).
    """
    frames = [("all", pd.Series("all", index=pathways.index))]
    frames += [(k, v.reindex(pathways.index)) for k, v in groups.items()]
    out = []
    for gtype, g in frames:
        counts = (
            pd.DataFrame(
                {"group": g.astype(str).to_numpy(), "sequence": pathways["sequence"].to_numpy()}
            )
            .groupby(["group", "sequence"])
            .size()
            .rename("n_persons")
            .reset_index()
        )
        counts = counts.sort_values(
            ["group", "n_persons", "sequence"], ascending=[True, False, True], kind="mergesort"
        )
        totals = counts.groupby("group")["n_persons"].sum()
        totals.index.name = None
        counts["rank"] = counts.groupby("group").cumcount() + 1
        listed = counts[(counts["rank"] <= top) & (counts["n_persons"] >= threshold)].copy()
        listed["n"] = totals.reindex(listed["group"]).to_numpy()
        # move the smallest listed sequences into 'other' while 'other' is positive but small
        listed = listed.sort_values(["group", "rank"]).reset_index(drop=True)
        cum = listed.groupby("group")["n_persons"].cumsum()
        rest_after = listed["n"] - cum
        ok_cut = (rest_after == 0) | (rest_after >= threshold)
        # keep the longest prefix whose remainder is publishable
        last_ok = listed["rank"].where(ok_cut).groupby(listed["group"]).transform("max")
        listed = listed[listed["rank"] <= last_ok.fillna(0)]
        kept = listed.groupby("group")["n_persons"].sum().reindex(totals.index, fill_value=0)
        other = pd.DataFrame(
            {
                "group": totals.index,
                "sequence": "other",
                "n_persons": (totals - kept).to_numpy(),
                "rank": 0,
                "n": totals.to_numpy(),
            }
        )
        other = other[other["n_persons"] > 0]
        res = pd.concat([listed, other], ignore_index=True)
        res = res[res["n"] >= threshold]
        res.insert(0, "group_type", gtype)
        out.append(res)
    cols = ["group_type", "group", "rank", "sequence", "n", "n_persons", "share"]
    if not out:
        return pd.DataFrame(columns=cols)
    res = pd.concat(out, ignore_index=True)
    res["n"] = res["n"].astype("int64")
    res["n_persons"] = res["n_persons"].astype("int64")
    res["share"] = suppressed_share(res["n_persons"], res["n"])
    res["suppressed"] = False
    res["_order"] = res["rank"].replace(0, 10**6)
    res = res.sort_values(["group_type", "group", "_order"], kind="mergesort")
    return res.reset_index(drop=True)[[*cols, "suppressed"]]


def attachment_groups(share: pd.Series, threshold: float) -> pd.Series:
    """``high`` where the KH share of the prior window is at least ``threshold``, else ``low``."""
    return pd.Series(np.where(share >= threshold, "high", "low"), index=share.index)

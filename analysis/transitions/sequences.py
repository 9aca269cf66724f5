"""The sequence view of the main pathways (hovedveje) and state-occupation curves.

Half-year sequences (one state per member and half-year, ``data_schema.derived.Sequences``) are
summarised as tables of person counts ready for disclosure control: the state distribution in
each half-year, the most frequent complete sequences, and the flows between consecutive
half-years, each for the whole cohort (``group = "all"``) and by a grouping column (e.g. the
seniority group at entry). Counts are persons (``n`` = the row's denominator, ``n_persons`` = the
cell); every table can go straight into :func:`analysis.disclosure.suppress` with the
``SUPPRESSION`` specification given next to it.

State-occupation curves: the multi-state Aalen-Johansen estimator
(:class:`analysis.multistate.MultiStateAalenJohansen`) on sojourn rows from the person-month frame
(:func:`analysis.transitions.frames.sojourns`), from the KH state, on the seniority time scale with
delayed entry (a stock sample enters observation with accrued seniority) or on the time since
entry; :func:`publishable_occupation` applies the curve rule of :func:`analysis.disclosure.guard_curve`
to the total number at risk and the total number of transitions at each step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.disclosure import guard_curve
from analysis.multistate import MultiStateAalenJohansen, MultiStateResult

__all__ = [
    "DISTRIBUTION_SUPPRESSION",
    "FLOW_SUPPRESSION",
    "SEQUENCE_SUPPRESSION",
    "ALL",
    "frequent_sequences",
    "half_year_flows",
    "occupation_curves",
    "publishable_occupation",
    "state_distribution",
]

ALL = "all"
"""Group label of the whole cohort."""

DISTRIBUTION_SUPPRESSION = {
    "counts": {"n_persons": ["share"]},
    "denominator": "n",
    "denominator_keys": ["group", "half_year"],
    "partitions": [["group", "half_year"]],
    "lines": [["half_year", "state"]],
    "denominator_lines": [["half_year"]],
}
SEQUENCE_SUPPRESSION = {
    "counts": {"n_persons": ["share"]},
    "denominator": "n",
    "denominator_keys": ["group"],
    "partitions": [["group"]],
    "lines": [["sequence"]],
}
FLOW_SUPPRESSION = {
    "counts": {"n_persons": ["share"]},
    "denominator": "n",
    "denominator_keys": ["group", "from_half_year", "from_state"],
    "partitions": [["group", "from_half_year", "from_state"]],
    "lines": [["from_half_year", "from_state", "to_state"]],
    "denominator_lines": [["from_half_year", "from_state"]],
}


def _groups(df: pd.DataFrame, group: str | None) -> list[tuple[str, pd.DataFrame]]:
    out = [(ALL, df)]
    if group is not None:
        g = df[group].astype(object).where(df[group].notna(), "unknown").astype(str)
        for level in sorted(g.unique()):
            out.append((level, df[g.to_numpy() == level]))
    return out


def _complete(seq: pd.DataFrame, n_half_years: int, id: str) -> pd.DataFrame:
    s = seq[(seq["half_year"] >= 1) & (seq["half_year"] <= n_half_years)]
    n = s.groupby(id)["half_year"].transform("nunique")
    return s[n == n_half_years]


def state_distribution(
    seq: pd.DataFrame,
    group: str | None = None,
    states: Sequence[str] | None = None,
    n_half_years: int = 4,
    id: str = "person_id",
) -> pd.DataFrame:
    """Persons in each state in each half-year: ``group, half_year, state, n, n_persons, share``.

    Only members with all ``n_half_years`` half-years observed; every state of ``states`` gets a
    row (0 when empty) so that each ``(group, half_year)`` partitions ``n``.
    """
    require_columns(seq, [id, "half_year", "state"] + ([group] if group else []), "sequences")
    s = _complete(seq, n_half_years, id)
    states = list(states) if states is not None else sorted(s["state"].unique())
    rows = []
    for label, g in _groups(s, group):
        tab = pd.crosstab(g["half_year"], g["state"]).reindex(
            index=range(1, n_half_years + 1), columns=states, fill_value=0
        )
        n = tab.sum(axis=1)
        for h in tab.index:
            for st in states:
                rows.append((label, int(h), st, int(n[h]), int(tab.loc[h, st])))
    out = pd.DataFrame(rows, columns=["group", "half_year", "state", "n", "n_persons"])
    out["share"] = np.where(out["n"] > 0, out["n_persons"] / out["n"].clip(lower=1), np.nan)
    return out


def _sequence_strings(s: pd.DataFrame, id: str) -> pd.Series:
    s = s.sort_values([id, "half_year"], kind="mergesort")
    return s.groupby(id, sort=False)["state"].agg("-".join)


def frequent_sequences(
    seq: pd.DataFrame,
    group: str | None = None,
    top: int = 10,
    n_half_years: int = 4,
    id: str = "person_id",
) -> pd.DataFrame:
    """The ``top`` most frequent complete sequences of the whole cohort (states joined by ``-``)
    and the persons following each in every group, plus a row ``other`` for the rest:
    ``group, rank, sequence, n, n_persons, share``. The same sequences are listed in every group
    (so that a sequence's counts add up over groups to the ``all`` row)."""
    require_columns(seq, [id, "half_year", "state"] + ([group] if group else []), "sequences")
    s = _complete(seq, n_half_years, id)
    strings = _sequence_strings(s, id)
    per_person = pd.DataFrame({"sequence": strings})
    if group is not None:
        grp = s.drop_duplicates(id).set_index(id)[group]
        per_person[group] = grp.reindex(per_person.index)
    counts = per_person["sequence"].value_counts(sort=False)
    order = sorted(counts.index, key=lambda k: (-counts[k], k))
    chosen = order[:top]
    rows = []
    for label, g in _groups(per_person, group):
        vc = g["sequence"].value_counts()
        n = len(g)
        for rank, sq in enumerate(chosen, start=1):
            rows.append((label, rank, sq, n, int(vc.get(sq, 0))))
        rows.append(
            (label, len(chosen) + 1, "other", n, int(n - vc.reindex(chosen).fillna(0).sum()))
        )
    out = pd.DataFrame(rows, columns=["group", "rank", "sequence", "n", "n_persons"])
    out["share"] = np.where(out["n"] > 0, out["n_persons"] / out["n"].clip(lower=1), np.nan)
    return out


def half_year_flows(
    seq: pd.DataFrame,
    group: str | None = None,
    states: Sequence[str] | None = None,
    n_half_years: int = 4,
    id: str = "person_id",
) -> pd.DataFrame:
    """Persons moving between states from one half-year to the next:
    ``group, from_half_year, from_state, to_state, n, n_persons, share`` (``n`` = persons in
    ``from_state`` in ``from_half_year``; every ``to_state`` listed, 0 when empty)."""
    require_columns(seq, [id, "half_year", "state"] + ([group] if group else []), "sequences")
    s = _complete(seq, n_half_years, id).sort_values([id, "half_year"], kind="mergesort")
    states = list(states) if states is not None else sorted(s["state"].unique())
    nxt = s.groupby(id, sort=False)["state"].shift(-1)
    pairs = s.assign(to_state=nxt.to_numpy())
    pairs = pairs[pairs["to_state"].notna()]
    rows = []
    for label, g in _groups(pairs, group):
        for h in range(1, n_half_years):
            gh = g[g["half_year"] == h]
            tab = pd.crosstab(gh["state"], gh["to_state"]).reindex(
                index=states, columns=states, fill_value=0
            )
            for a in states:
                n = int(tab.loc[a].sum())
                if n == 0:
                    continue
                for b in states:
                    rows.append((label, h, a, b, n, int(tab.loc[a, b])))
    out = pd.DataFrame(
        rows, columns=["group", "from_half_year", "from_state", "to_state", "n", "n_persons"]
    )
    out["share"] = out["n_persons"] / out["n"].clip(lower=1)
    return out


def occupation_curves(
    soj: pd.DataFrame,
    group: str | None = None,
    states: Sequence[str] | None = None,
    start_state: str = "kh",
    conf_level: float = 0.95,
    id: str = "person_id",
) -> dict[str, MultiStateResult]:
    """Multi-state Aalen-Johansen state occupation from ``start_state`` for the whole cohort
    (key ``"all"``) and by ``group`` (key = level), on sojourn rows
    (:func:`analysis.transitions.frames.sojourns`; delayed entry when ``entry > 0``)."""
    require_columns(soj, [id, "entry", "exit", "from_state", "to_state"], "sojourns")
    est = MultiStateAalenJohansen(conf_level=conf_level)
    kw = dict(
        id=id, entry="entry", exit="exit", from_state="from_state", to_state="to_state",
        start_state=start_state, states=list(states) if states is not None else None,
    )  # fmt: skip
    out = {ALL: est.fit(soj, **kw)}
    if group is not None:
        for label, g in _groups(soj, group)[1:]:
            if len(g):
                out[label] = est.fit(g, **kw)
    return out


def publishable_occupation(
    curves: dict[str, MultiStateResult], threshold: int, time_scale: str = "seniority"
) -> pd.DataFrame:
    """Tidy occupation curves after the curve rule: per group, steps are merged until each
    published step aggregates at least ``threshold`` transitions (all states together) and
    every merged step had at least ``threshold`` persons at risk (all states together).

    Columns: ``group, time_scale, time, state, estimate, std_error, conf_low, conf_high, n_risk``
    (persons under observation) and ``n_event`` (transitions in the merged step)."""
    frames = []
    for label, res in curves.items():
        c = next(iter(res.curves.values()))
        tot = pd.DataFrame(
            {
                "group": label,
                "time": c.time,
                "n_risk": c.n_risk.sum(axis=1),
                "n_event": c.n_transition.sum(axis=(1, 2)),
            }
        )
        kept = guard_curve(tot, threshold=threshold, n_event="n_event")
        if kept.empty:
            continue
        t = res.tidy().drop(columns=["n_risk", "n_event"])
        t = t.merge(kept[["time", "n_risk", "n_event"]], on="time", how="inner")
        t.insert(0, "group", label)
        t.insert(1, "time_scale", time_scale)
        frames.append(t)
    if not frames:
        return pd.DataFrame(
            columns=[
                "group",
                "time_scale",
                "state",
                "time",
                "estimate",
                "std_error",
                "conf_low",
                "conf_high",
                "n_risk",
                "n_event",
            ]  # fmt: skip
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["group", "time", "state"], kind="mergesort").reset_index(drop=True)

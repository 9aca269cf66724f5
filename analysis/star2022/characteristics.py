"""Characteristics of the KH stock by seniority group (STAR 2022, R1-R5).

One tidy long table: a row per seniority group, characteristic and level, with the denominator
``n`` (persons in the group, or persons with children for ``children_placed``), the count
``n_persons`` and ``share = n_persons / n``, plus the population benchmark the study quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.disclosure import suppress, suppressed_share
from analysis.star2022.params import POPULATION_BENCHMARKS
from analysis.star2022.populations import LONG_TERM_GROUPS, SENIORITY_ORDER

#: Group codes of the table: the six seniority groups, then ``ge5`` (5 years or more) and ``all``.
GROUPS: tuple[str, ...] = (*SENIORITY_ORDER, "ge5", "all")
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("lt30", 0, 29),
    ("30_39", 30, 39),
    ("40_49", 40, 49),
    ("50_59", 50, 59),
    ("ge60", 60, 200),
)


@dataclass(frozen=True)
class Characteristic:
    """A characteristic: ``categorical`` levels partition the group; ``binary`` counts the true
    values; ``base`` names the denominator (``all`` persons, or those ``with_children``)."""

    name: str
    kind: str
    levels: tuple[str, ...] = ("yes",)
    base: str = "all"


CHARACTERISTICS: tuple[Characteristic, ...] = (
    Characteristic("sex", "categorical", ("F", "M")),
    Characteristic("age_group", "categorical", tuple(a[0] for a in AGE_BANDS)),
    Characteristic(
        "origin", "categorical", ("danish", "western", "non_western_menapt", "non_western_other")
    ),
    Characteristic(
        "education", "categorical", ("basic", "upper_secondary", "vocational", "higher", "unknown")
    ),
    Characteristic("psychiatric_diagnosis", "binary"),
    Characteristic("substance_abuse_treatment", "binary"),
    Characteristic("children_placed", "binary", base="with_children"),
    Characteristic("prior_contact_3y", "binary"),
)


def person_characteristics(
    stock: pd.DataFrame, persons: pd.DataFrame, reference_date: date
) -> pd.DataFrame:
    """Person-level characteristics of a stock (one row per stock member found in ``persons``).

    ``stock`` needs ``person_id, seniority_group, prior_contact_3y``. Age is the age reached in the
    reference year (reference year - birth year); origin splits non-western into MENAPT and other;
    ``children_placed`` is missing for persons without children.
    """
    require_columns(stock, ["person_id", "seniority_group", "prior_contact_3y"], "stock")
    require_columns(
        persons,
        [
            "person_id",
            "birth_year",
            "sex",
            "origin",
            "menapt",
            "education",
            "psychiatric_diagnosis",
            "substance_abuse_treatment",
            "has_children",
            "children_placed",
        ],
        "persons",
    )
    p = stock[["person_id", "seniority_group", "prior_contact_3y"]].merge(
        persons, on="person_id", how="inner"
    )
    age = pd.Timestamp(reference_date).year - p["birth_year"].astype(int)
    bands = [a[0] for a in AGE_BANDS]
    p["age"] = age
    p["age_group"] = np.select(
        [(age >= lo) & (age <= hi) for _, lo, hi in AGE_BANDS], bands, default="lt30"
    )
    non_western = p["origin"] == "non_western"
    menapt = p["menapt"].astype(bool)
    p["origin"] = np.where(
        non_western,
        np.where(menapt, "non_western_menapt", "non_western_other"),
        p["origin"].astype(str),
    )
    p["children_placed"] = p["children_placed"].astype("boolean")
    return p


def characteristics_table(people: pd.DataFrame) -> pd.DataFrame:
    """Counts and shares of every characteristic by seniority group (unsuppressed).

    Parameters
    ----------
    people
        Output of :func:`person_characteristics`.

    Returns
    -------
    ``seniority_group, characteristic, level, base, n, n_persons, share, benchmark``; ``share`` is a
    proportion (0-1); ``benchmark`` the population share quoted by the study (psychiatric diagnosis
    12 %, children placed 10 %), else missing. Groups with nobody get ``n = 0`` and a missing share.
    """
    long_term = people["seniority_group"].isin(LONG_TERM_GROUPS)
    expanded = pd.concat(
        [
            people,
            people[long_term].assign(seniority_group="ge5"),
            people.assign(seniority_group="all"),
        ],
        ignore_index=True,
    )
    g = pd.Categorical(expanded["seniority_group"], categories=list(GROUPS))
    size_all = pd.Series(1, index=expanded.index).groupby(g, observed=False).sum()
    with_children = expanded["has_children"].astype(bool)
    size_children = with_children.groupby(g, observed=False).sum()
    parts = []
    for ch in CHARACTERISTICS:
        if ch.kind == "categorical":
            col = pd.Categorical(expanded[ch.name].astype(str), categories=list(ch.levels))
            counts = (
                pd.Series(1, index=expanded.index)
                .groupby([g, col], observed=False)
                .sum()
                .rename("n_persons")
                .reset_index()
            )
            counts.columns = ["seniority_group", "level", "n_persons"]
            counts["n"] = size_all.reindex(counts["seniority_group"]).to_numpy()
        else:
            values = expanded[ch.name].astype("boolean").fillna(False).astype(bool)
            if ch.base == "with_children":
                values = values & with_children
            counts = values.groupby(g, observed=False).sum().rename("n_persons").reset_index()
            counts.columns = ["seniority_group", "n_persons"]
            counts["level"] = "yes"
            base = size_children if ch.base == "with_children" else size_all
            counts["n"] = base.reindex(counts["seniority_group"]).to_numpy()
        counts["characteristic"] = ch.name
        counts["base"] = ch.base
        parts.append(counts)
    out = pd.concat(parts, ignore_index=True)
    out["seniority_group"] = out["seniority_group"].astype(str)
    out["level"] = out["level"].astype(str)
    out["n"] = out["n"].astype("int64")
    out["n_persons"] = out["n_persons"].astype("int64")
    out["share"] = suppressed_share(out["n_persons"], out["n"])
    out["benchmark"] = out["characteristic"].map(POPULATION_BENCHMARKS).astype(float)
    cols = [
        "seniority_group",
        "characteristic",
        "level",
        "base",
        "n",
        "n_persons",
        "share",
        "benchmark",
    ]
    return out[cols]


def _group_lines(df: pd.DataFrame, keys: list[str]) -> list[pd.Series]:
    """Two line specs across seniority groups: the six groups + ``all`` (the total), and
    ``5_10`` + ``ge10`` + ``ge5`` (their total)."""
    key = df[keys].astype(str).agg("|".join, axis=1) if keys else pd.Series("", index=df.index)
    top = df["seniority_group"].isin([*SENIORITY_ORDER, "all"])
    long = df["seniority_group"].isin([*LONG_TERM_GROUPS, "ge5"])
    return [key.where(top), key.where(long)]


def publish_characteristics(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """:func:`characteristics_table` after primary and secondary suppression.

    Lines: each characteristic level across the six seniority groups and ``all``; across ``5_10``,
    ``ge10`` and ``ge5``; the levels of a categorical characteristic within a group (adding up to
    ``n``); the denominators across groups in the same two ways.
    """
    categorical = {c.name for c in CHARACTERISTICS if c.kind == "categorical"}
    part = (table["seniority_group"] + "|" + table["characteristic"]).where(
        table["characteristic"].isin(categorical)
    )
    return suppress(
        table,
        {"n_persons": ["share"]},
        denominator="n",
        denominator_keys=["seniority_group", "base"],
        lines=_group_lines(table, ["characteristic", "level"]),
        partitions=[part],
        denominator_lines=_group_lines(table, ["base"]),
        threshold=threshold,
    )


def share_of(table: pd.DataFrame, characteristic: str, level: str, group: str) -> tuple[float, int]:
    """(share, n) of one cell of :func:`characteristics_table`."""
    row = table[
        (table["characteristic"] == characteristic)
        & (table["level"] == level)
        & (table["seniority_group"] == group)
    ]
    if row.empty:
        return float("nan"), 0
    return float(row["share"].iloc[0]), int(row["n"].iloc[0])


def long_term_directions(table: pd.DataFrame) -> dict[str, float]:
    """R5: differences long-term (``ge5``) minus short-term (``lt1``) in percentage points:
    women, non-western origin (MENAPT + other), compulsory schooling only; and the MENAPT share of
    the long-term non-western recipients (percent)."""

    def pct(ch: str, lv: str, grp: str) -> float:
        return 100 * share_of(table, ch, lv, grp)[0]

    nw = {
        grp: pct("origin", "non_western_menapt", grp) + pct("origin", "non_western_other", grp)
        for grp in ("lt1", "ge5")
    }
    menapt_ge5 = pct("origin", "non_western_menapt", "ge5")
    return {
        "women_pts": pct("sex", "F", "ge5") - pct("sex", "F", "lt1"),
        "non_western_pts": nw["ge5"] - nw["lt1"],
        "basic_education_pts": pct("education", "basic", "ge5") - pct("education", "basic", "lt1"),
        "menapt_of_non_western_pct": 100 * menapt_ge5 / nw["ge5"]
        if nw["ge5"] > 0
        else float("nan"),
    }

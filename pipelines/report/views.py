"""Display views of results tables: select and reshape (never compute new person counts).

The results tables are written for completeness (every group type, every population, wide
statistics); a document shows a slice. These functions take a protected table and return the
slice in the long shape the figure and table helpers expect. Suppressed cells stay empty.
"""

from __future__ import annotations

import pandas as pd

from . import labels

SENIORITY6 = tuple(g for g in labels.SENIORITY_ORDER if g not in ("ge5", "all"))


def population_year(population: object) -> int | None:
    """Year of a population label such as ``stock_2021-11-30``."""
    date = str(population).rpartition("_")[2]
    return int(date[:4]) if date[:4].isdigit() else None


def populations(df: pd.DataFrame, kind: str) -> list[str]:
    """Population labels of a kind (``stock``/``case_review``) in a wide efforts table."""
    return sorted(p for p in df["population"].astype(str).unique() if p.startswith(kind + "_"))


def stock_from_efforts(efforts: pd.DataFrame) -> pd.DataFrame | None:
    """The stock on the reference date by seniority group (``year, seniority_group, n_persons, n,
    share``) from the stock rows of ``efforts.csv`` (their ``n`` per seniority group)."""
    pops = populations(efforts, "stock")
    if not pops:
        return None
    pop = pops[-1]
    sub = efforts[(efforts["population"] == pop) & (efforts["group_type"] == "seniority_group")]
    total = efforts[(efforts["population"] == pop) & (efforts["group_type"] == "all")]["n"]
    if sub.empty or total.empty:
        return None
    n_all = total.iloc[0]
    out = pd.DataFrame(
        {
            "year": population_year(pop),
            "seniority_group": sub["group"].astype(str).to_numpy(),
            "n_persons": sub["n"].to_numpy(),
            "n": n_all,
        }
    )
    out["share"] = pd.to_numeric(out["n_persons"], errors="coerce") / pd.to_numeric(
        out["n"], errors="coerce"
    )
    return out


def efforts_long(
    efforts: pd.DataFrame, population: str, group_type: str, measures: list[str] | None = None
) -> pd.DataFrame:
    """``group, measure, value, unit`` for one population and group type (unit: ``share`` or
    ``rate``), measures in the order of :data:`labels.EFFORTS`."""
    sub = efforts[(efforts["population"] == population) & (efforts["group_type"] == group_type)]
    names = measures or [m for m in labels.EFFORTS if m in efforts.columns]
    rows = []
    for m in names:
        if m not in sub.columns:
            continue
        for g, v in zip(sub["group"].astype(str), sub[m], strict=True):
            rows.append(
                {
                    "group": g,
                    "measure": m,
                    "value": v,
                    "unit": "rate" if m.endswith("_per_year") else "share",
                }
            )
    return pd.DataFrame(rows, columns=["group", "measure", "value", "unit"])


def characteristic_rows(ch: pd.DataFrame) -> pd.DataFrame:
    """The characteristics table with a reader-facing ``row`` key (characteristic and level),
    dropping the redundant complementary level of a two-level characteristic (men)."""
    out = ch[~((ch["characteristic"] == "sex") & (ch["level"].astype(str) == "M"))].copy()
    out["row"] = out["characteristic"].astype(str) + "|" + out["level"].astype(str)
    return out


def pathway_measure(hv: pd.DataFrame, measure: str, group_type: str | None = None) -> pd.DataFrame:
    """Rows of ``hovedveje.csv`` for one measure (``last``, ``ever``, ``first_exit``, ``all_kh``),
    optionally one group type, with a ``group_label`` column."""
    sub = hv[hv["measure"] == measure]
    if group_type is not None:
        sub = sub[sub["group_type"] == group_type]
    return sub.copy()

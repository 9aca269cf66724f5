"""Trends over report years: the headline statistics of each year, computed by the one-year functions.

For each report year (its :class:`StarParameters`: stock on 30 November, case review on 1 March of
the year before, hovedveje cohort Q1 three years before) :func:`trend_statistics` computes

- the stock by seniority group (``stock_by_year``: ``year, seniority_group, n, n_persons, share``);
- R1: share of the stock with at least 5 years' seniority;
- R8: share of the stock with paid hours in the reference month;
- R12: share of the case-review population with an employment offer in the two-year window;
- R13-R15: of the year's hovedveje cohort, share on KH in all half-years, ever to job, FP, RF,
  self-support;
- R22: persons per case worker (median and mean caseload, scaled like the national counts).

Shares are fractions with their denominator ``n`` and person count ``n_persons``, and a binomial
standard error ``std_error`` (a share of persons); the caseloads have none. Disclosure control is
applied by :func:`publish_trends` (counts and complements below the threshold are blanked; the
caseload statistics come from :func:`municipal.caseload_summary`, which never publishes fewer than
``threshold`` case workers).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.disclosure import suppress
from analysis.star2022 import characteristics as ch
from analysis.star2022 import efforts as ef
from analysis.star2022 import hovedveje as hv
from analysis.star2022 import municipal as mu
from analysis.star2022.params import StarParameters
from analysis.star2022.populations import case_review_population, stock_on
from analysis.star2022.table import StarInputs

TREND_COLUMNS = ("year", "statistic", "part", "n", "n_persons", "share", "std_error", "value")
"""Columns of the trends table (``value``: a statistic that is not a share, e.g. a caseload)."""

HOVEDVEJE_PARTS = (
    ("R13", "all_kh", "kh"),
    ("R14", "ever", "job"),
    ("R15", "ever", "fp"),
    ("R15", "ever", "rf"),
    ("R15", "ever", "self_support"),
)


def _share_row(year: int, stat: str, part: str, count: int, n: int) -> dict:
    share = count / n if n else np.nan
    se = float(np.sqrt(share * (1 - share) / n)) if n else np.nan
    return dict(year=year, statistic=stat, part=part, n=n, n_persons=count, share=share,
                std_error=se, value=np.nan)  # fmt: skip


def _year_rows(inputs: StarInputs, params: StarParameters, threshold: int) -> tuple[list, list]:
    """Stock-by-seniority rows and trend rows of one report year."""
    year, ref = params.reference_date.year, params.reference_date
    stock = stock_on(inputs.spells, ref)
    n = len(stock)
    counts = stock["seniority_group"].value_counts()
    sen = [
        dict(
            year=year,
            seniority_group=g,
            n=n,
            n_persons=int(counts.get(g, 0)),
            share=counts.get(g, 0) / n if n else np.nan,
        )  # fmt: skip
        for g in ch.SENIORITY_ORDER
        if g not in ("ge5", "all")
    ]
    long = int(counts.get("5_10", 0) + counts.get("ge10", 0))
    rows = [_share_row(year, "R1", "all", long, n)]
    common = dict(spells=inputs.spells, params=params, **inputs.effort_tables())
    pe = ef.aggregate_efforts(ef.person_efforts(stock["person_id"], ref, **common))
    rows.append(_share_row(year, "R8", "all", int(pe["n_paid_hours_month"]), int(pe["n"])))
    review = case_review_population(inputs.spells, inputs.benefit_spells, params)
    pr = ef.aggregate_efforts(ef.person_efforts(review["person_id"], params.review_date, **common))
    rows.append(_share_row(year, "R12", "case_review", int(pr["n_employment_offer"]), int(pr["n"])))
    rows += _hovedveje_rows(inputs, params, year)
    loads = mu.caseloads(
        inputs.spells, inputs.benefit_spells, inputs.caseworker_assignments, ref, params
    )
    cs = mu.caseload_summary(loads, threshold, params.caseload_threshold, params.count_scale)
    for stat in ("caseload_p50", "caseload_mean"):
        r = cs[cs["statistic"] == stat].iloc[0]
        units = int(r["units"]) if pd.notna(r["value"]) and r["units"] >= threshold else np.nan
        rows.append(dict(year=year, statistic="R22", part=stat.removeprefix("caseload_"),
                         n=units, n_persons=np.nan, share=np.nan,
                         std_error=np.nan, value=float(r["value"])))  # fmt: skip
    return sen, rows


def _hovedveje_rows(inputs: StarInputs, params: StarParameters, year: int) -> list[dict]:
    """R13-R15 of the cohort ``params.cohort_label`` (empty when it was not derived)."""
    cohort, seq = inputs.cohort, inputs.sequences
    if cohort is None or seq is None:
        return []
    members = cohort.loc[cohort["cohort"].astype(str) == params.cohort_label, "person_id"].unique()
    seq = seq[seq["cohort"].astype(str) == params.cohort_label]
    if not len(members) or seq.empty:
        return []
    paths = hv.person_pathways(seq, params.n_half_years)
    paths = paths[paths.index.isin(members)]
    tab = hv.pathways_table(paths, {}, params.n_half_years)
    tab = tab[tab["group_type"] == "all"]
    rows = []
    for stat, measure, state in HOVEDVEJE_PARTS:
        r = tab[(tab["measure"] == measure) & (tab["state"] == state)]
        count = int(r["n_persons"].iloc[0]) if len(r) else 0
        part = "all" if stat != "R15" else state
        rows.append(_share_row(year, stat, part, count, len(paths)))
    return rows


def trend_statistics(
    inputs: StarInputs, params_by_year: Mapping[int, StarParameters], threshold: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trend statistics of every report year (unsuppressed; see the module docstring).

    Parameters
    ----------
    inputs
        Register tables and derived frames; ``cohort``/``sequences`` must hold the hovedveje cohort
        of each year (label ``params.cohort_label``), else R13-R15 are left out for that year.
    params_by_year
        ``{report year: parameters of that year}``.
    threshold
        Disclosure threshold of the caseload percentiles.

    Returns
    -------
    ``(stock_by_year, trends)`` with the columns of the module docstring / :data:`TREND_COLUMNS`.
    """
    sen, rows = [], []
    for year in sorted(params_by_year):
        s, r = _year_rows(inputs, params_by_year[year], threshold)
        sen += s
        rows += r
    stock = pd.DataFrame(sen, columns=["year", "seniority_group", "n", "n_persons", "share"])
    return stock, pd.DataFrame(rows, columns=list(TREND_COLUMNS))


def publish_trends(
    stock: pd.DataFrame, trends: pd.DataFrame, threshold: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Disclosure control of :func:`trend_statistics` output: a count (or its complement) below
    ``threshold`` blanks the share and its standard error; the seniority groups of a year are a
    partition of its stock (secondary suppression)."""
    stock = suppress(
        stock,
        {"n_persons": ["share"]},
        denominator="n",
        denominator_keys=["year"],
        partitions=[["year"]],
        threshold=threshold,
    )
    shares = trends[trends["n_persons"].notna()]
    other = trends[trends["n_persons"].isna()]
    shares = suppress(
        shares.astype({"n_persons": "int64"}),
        {"n_persons": ["share", "std_error"]},
        denominator="n",
        threshold=threshold,
    )
    out = pd.concat([shares, other.assign(suppressed=False)], ignore_index=True)
    out["_id"] = out["statistic"].str[1:].astype(int)
    out = out.sort_values(["_id", "part", "year"], kind="mergesort").drop(columns="_id")
    out["n"] = out["n"].astype("Int64")
    out["n_persons"] = out["n_persons"].astype("Int64")
    return stock, out.reset_index(drop=True)

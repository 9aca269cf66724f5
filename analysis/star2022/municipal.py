"""National counts, municipal seniority figures and caseloads (STAR 2022 R19-R22).

- R19: persons in the KH system on a date (stock), scaled to national size by a factor.
- R20: Copenhagen's activity-ready recipients on a date and the shares with at least 3 / 10
  calendar years' seniority.
- R21: Slagelse's activity-ready recipients with at least 10 years' seniority, the same share in the
  comparison municipalities, and the mean seniority (days) of Slagelse's 10-year group.
- R22: activity-ready caseloads per case worker on a date (case workers holding at least one
  activity-ready KH recipient).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from analysis.disclosure import safe_quantile, suppress, suppressed_share
from analysis.star2022 import _intervals as iv
from analysis.star2022.params import StarParameters
from analysis.star2022.populations import at_least_years, kh_case_on, stock_on

#: Q1-2018 cohort size of the national register (BRIEF section 7); used to scale register counts.
NATIONAL_COHORT_2018Q1 = 120_000


def national_scale(cohort_size: int, national: int = NATIONAL_COHORT_2018Q1) -> float:
    """Factor from register counts to national counts: national Q1-2018 cohort / register's."""
    return float(national) / cohort_size if cohort_size > 0 else float("nan")


def activity_ready_stock(
    spells: pd.DataFrame, benefit_spells: pd.DataFrame, on: date, params: StarParameters
) -> pd.DataFrame:
    """KH stock on ``on`` whose current case is activity-ready, with the case's municipality."""
    st = stock_on(spells, on).merge(
        kh_case_on(benefit_spells, on, params.kh_codes), on="person_id", how="left"
    )
    return st[st["match_group"] == "activity_ready"].reset_index(drop=True)


def stock_counts(spells: pd.DataFrame, dates: Iterable[date], scale: float) -> pd.DataFrame:
    """R19: ``date, n`` (persons in a KH spell on the date) and ``national_estimate = n * scale``."""
    rows = [{"date": pd.Timestamp(d), "n": len(stock_on(spells, d))} for d in dates]
    out = pd.DataFrame(rows)
    out["national_estimate"] = out["n"] * scale
    return out


def municipal_table(
    spells: pd.DataFrame, benefit_spells: pd.DataFrame, params: StarParameters
) -> pd.DataFrame:
    """R20-R21 (unsuppressed): ``statistic, municipality, date, n, n_persons, share, value``.

    ``n`` is the population of the row (activity-ready recipients of the municipality or group;
    for ``mean_seniority_days_ge10y`` those with at least 10 years), ``n_persons`` the persons with
    the property, ``value`` a mean where the row is one.
    """
    rows = []
    cph = activity_ready_stock(spells, benefit_spells, params.copenhagen_date, params)
    cph = cph[cph["municipality_id"] == params.copenhagen_id]
    for years in (3, 10):
        k = int(at_least_years(cph["spell_start"], params.copenhagen_date, years).sum())
        rows.append(
            (
                f"activity_ready_ge{years}y",
                str(params.copenhagen_id),
                params.copenhagen_date,
                len(cph),
                k,
                np.nan,
            )
        )
    sl = activity_ready_stock(spells, benefit_spells, params.slagelse_date, params)
    sl["ge10"] = at_least_years(sl["spell_start"], params.slagelse_date, 10)
    own = sl[sl["municipality_id"] == params.slagelse_id]
    excluded = {params.slagelse_id, *params.slagelse_excluded}
    others = sl[~sl["municipality_id"].isin(excluded)]
    rows.append(
        (
            "activity_ready_ge10y",
            str(params.slagelse_id),
            params.slagelse_date,
            len(own),
            int(own["ge10"].sum()),
            np.nan,
        )
    )
    rows.append(
        (
            "activity_ready_ge10y",
            "comparison",
            params.slagelse_date,
            len(others),
            int(others["ge10"].sum()),
            np.nan,
        )
    )
    long = own[own["ge10"]]
    rows.append(
        (
            "mean_seniority_days_ge10y",
            str(params.slagelse_id),
            params.slagelse_date,
            len(long),
            np.nan,
            float(long["seniority_days"].mean()) if len(long) else np.nan,
        )
    )
    out = pd.DataFrame(
        rows, columns=["statistic", "municipality", "date", "n", "n_persons", "value"]
    )
    out["date"] = pd.to_datetime(out["date"])
    out["n"] = out["n"].astype("int64")
    out["n_persons"] = out["n_persons"].astype("Int64")
    out["share"] = suppressed_share(out["n_persons"], out["n"])
    return out[["statistic", "municipality", "date", "n", "n_persons", "share", "value"]]


def publish_municipal(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """:func:`municipal_table` after primary suppression (rows are not additive)."""
    return suppress(
        table, {"n_persons": ["share"]}, denominator="n", stats=["value"], threshold=threshold
    )


def caseloads(
    spells: pd.DataFrame,
    benefit_spells: pd.DataFrame,
    caseworker_assignments: pd.DataFrame,
    on: date,
    params: StarParameters,
) -> pd.DataFrame:
    """Activity-ready caseload per case worker on ``on``: ``caseworker_id, municipality_id,
    caseload`` (KH recipients with an activity-ready case whose assignment runs on ``on``)."""
    ar = activity_ready_stock(spells, benefit_spells, on, params)
    ca = caseworker_assignments
    d = iv.day(on)
    running = ca[
        (iv.days(ca["start_date"]) <= d) & (iv.days(ca["end_date"], fill=iv.OPEN_END) >= d)
    ]
    m = running[running["person_id"].isin(ar["person_id"].unique())]
    return m.groupby(["caseworker_id", "municipality_id"]).size().rename("caseload").reset_index()


def caseload_summary(
    loads: pd.DataFrame, threshold: int, very_large: float, scale: float = 1.0
) -> pd.DataFrame:
    """R22 (publishable): percentiles of caseloads across case workers (means of ``threshold``
    neighbouring case workers, no single worker's caseload) and the number of municipalities whose
    median caseload exceeds ``very_large``; a municipality's median is computed only when it has at
    least ``threshold`` case workers. Caseloads are multiplied by ``scale`` first: a caseload is a
    count of persons, so in a sample of persons it scales like the national counts (``count_scale``;
    1 for a national extract).

    Returns ``statistic, value, units`` (``units`` = case workers or municipalities behind it).
    """
    loads = loads.assign(caseload=loads["caseload"].astype(float) * scale)
    v = loads["caseload"].to_numpy(float)
    rows = [
        ("caseload_p50", safe_quantile(v, 0.5, threshold), len(v)),
        ("caseload_p90", safe_quantile(v, 0.9, threshold), len(v)),
        ("caseload_mean", float(v.mean()) if len(v) >= threshold else np.nan, len(v)),
    ]
    by_mun = loads.groupby("municipality_id")["caseload"]
    med = by_mun.apply(lambda s: safe_quantile(s.to_numpy(float), 0.5, threshold)).dropna()
    rows.append(
        (
            f"municipalities_median_caseload_over_{int(very_large)}",
            float((med > very_large).sum()),
            len(med),
        )
    )
    rows.append(
        (
            "municipality_median_caseload_p50",
            float(np.median(med)) if len(med) else np.nan,
            len(med),
        )
    )
    return pd.DataFrame(rows, columns=["statistic", "value", "units"])

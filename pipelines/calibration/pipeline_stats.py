"""The package's own STAR 2022 statistics (``analysis.star2022``) on a synthetic register.

Used by the calibration and the calibration test. The register tables are the generated ones;
the derived frames (spells, the 2018Q1 cohort, its half-year sequences) are built from the ground
truth by the definitions of the derive stage (``pipelines/derive``: a quarter stock's reference
date is the member's first KH day in the quarter, half-year k runs from reference date + 6(k-1)
months, state = predominant day state, ties by state priority). Because every databrud gap is
bridged by the jobindsats rule, these are the frames the derive stage rebuilds from the register
(tested for spells); :func:`star_statistics` accepts derived frames from the derive stage instead
when they are available.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from data_schema.mapping import load_state_mapping
from pipelines.synthetic.generate import SyntheticRegister

COHORT = "2018Q1"
Q_START, Q_END = pd.Timestamp("2018-01-01"), pd.Timestamp("2018-03-31")
TRUTH_MONTHS = (Q_START - pd.Timedelta(days=31), Q_END + pd.DateOffset(months=24))
"""Months of ``true_monthly_states`` that :func:`derived_from_truth` can use (first, last; a
superset of the months overlapping the cohort's four half-years)."""

# (my statistic name) -> ((id, part), divide by) ; shares in percent in analysis.star2022
STAT_KEYS: dict[str, tuple[tuple[str, str], float]] = {
    "R1": (("R1", "all"), 100),
    "R2": (("R2", "all"), 100),
    "R3_lt1": (("R3", "lt1"), 100),
    "R3_ge5": (("R3", "ge5"), 100),
    "R4_lt1": (("R4", "lt1"), 100),
    "R4_long": (("R4", "ge5"), 100),
    "R6": (("R6", "all"), 100),
    "R7": (("R7", "case_review"), 100),
    "R8": (("R8", "all"), 100),
    "R8_case_review": (("R8", "case_review"), 100),
    "R9": (("R9", "case_review"), 100),
    "R10": (("R10", "case_review"), 100),
    "R11": (("R11", "case_review"), 100),
    "R12": (("R12", "case_review"), 100),
    "R13": (("R13", "all"), 100),
    "R14": (("R14", "all"), 100),
    "R15_fp": (("R15", "fp"), 100),
    "R15_rf": (("R15", "rf"), 100),
    "R15_self_support": (("R15", "self_support"), 100),
    "R16_proxy_nonwestern_women": (("R16", "non_western_women"), 100),
    "R16_proxy_danish_men": (("R16", "danish_men_50_substance"), 100),
    "R19_2015": (("R19", "2015"), 1),
    "R19_2021": (("R19", "2021"), 1),
    "R19_change": (("R19", "change"), 100),
    "R20_count": (("R20", "count"), 1),
    "R20_gt3": (("R20", "ge3y"), 100),
    "R20_gt10": (("R20", "ge10y"), 100),
    "R21_slagelse_gt10": (("R21", "slagelse"), 100),
    "R21_other_gt10": (("R21", "comparison"), 100),
    "R21_mean_days": (("R21", "mean_days"), 1),
    "R22_typical": (("R22", "typical"), 1),
    "R22_over_200": (("R22", "over_200"), 1),
}


def derived_from_truth(truth: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Spells, the 2018Q1 cohort and its sequences from the ground truth."""
    mapping = load_state_mapping()
    ts = truth["true_spells"].copy()
    window_lo = pd.Timestamp("1991-01-01")
    ts["spell_start"] = ts["spell_start"].clip(lower=window_lo)
    spells = ts[["person_id", "spell_id", "spell_start", "spell_end", "left_truncated"]].copy()
    spells["n_records"] = ts["n_cases"].clip(lower=1)
    spells["exit_state"] = ts["exit_state"].replace({"aged_out": "self_support"})

    # cohort 2018Q1: first spell overlapping the quarter
    ov = spells[
        (spells["spell_start"] <= Q_END)
        & (spells["spell_end"].isna() | (spells["spell_end"] >= Q_START))
    ]
    ov = ov.sort_values(["person_id", "spell_start"]).drop_duplicates("person_id")
    cohort = pd.DataFrame(
        {
            "person_id": ov["person_id"].to_numpy(),
            "cohort": COHORT,
            "reference_date": np.maximum(ov["spell_start"].to_numpy(), Q_START.to_datetime64()),
            "spell_id": ov["spell_id"].to_numpy(),
            "spell_start": ov["spell_start"].to_numpy(),
        }
    )
    cohort["seniority_days"] = (cohort["reference_date"] - cohort["spell_start"]).dt.days
    cohort["reference_date"] = pd.to_datetime(cohort["reference_date"])
    cohort["seniority_group"] = _seniority_groups(cohort["spell_start"], cohort["reference_date"])

    # sequences: predominant day state in half-years anchored at the reference date
    tm = _months_near(truth["true_monthly_states"], cohort)
    prio = {s: i for i, s in enumerate(mapping.state_codes)}
    rows = []
    pos = pd.Index(cohort["person_id"]).get_indexer(tm["person_id"])
    m_start = tm["month"].to_numpy().astype("datetime64[us]")
    m_end = (m_start.astype("datetime64[M]") + 1).astype("datetime64[us]") - np.timedelta64(1, "D")
    for k in range(1, 5):
        a = cohort[["person_id", "reference_date"]].copy()
        a["p0"] = a["reference_date"] + pd.DateOffset(months=6 * (k - 1))
        a["p1"] = a["reference_date"] + pd.DateOffset(months=6 * k) - pd.Timedelta(days=1)
        lo = np.maximum(m_start, a["p0"].to_numpy().astype("datetime64[us]")[pos])
        hi = np.minimum(m_end, a["p1"].to_numpy().astype("datetime64[us]")[pos])
        j = tm.assign(days=(hi - lo).astype(np.int64) // 86_400_000_000 + 1)
        j = j[j["days"] > 0]
        days = j.groupby(["person_id", "state"], observed=True)["days"].sum().reset_index()
        # days of the half-year not covered by any month in the population count as self_support
        tot = days.groupby("person_id")["days"].sum()
        span = (a.set_index("person_id")["p1"] - a.set_index("person_id")["p0"]).dt.days + 1
        missing = (span.reindex(tot.index) - tot).clip(lower=0)
        extra = missing[missing > 0].rename("days").reset_index().assign(state="self_support")
        days = pd.concat([days, extra], ignore_index=True)
        days = days.groupby(["person_id", "state"], as_index=False)["days"].sum()
        days["prio"] = days["state"].map(prio)
        best = days.sort_values(["person_id", "days", "prio"], ascending=[True, False, True])
        best = best.drop_duplicates("person_id")
        rows.append(
            pd.DataFrame(
                {
                    "person_id": best["person_id"],
                    "cohort": COHORT,
                    "half_year": k,
                    "state": best["state"],
                }
            )
        )
    sequences = pd.concat(rows, ignore_index=True)
    return {"spells": spells, "cohort": cohort, "sequences": sequences}


def _months_near(tm: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``true_monthly_states`` of the cohort's persons whose month can overlap one of
    the cohort's four half-years (a superset: rows outside cover no day of any half-year)."""
    ref = cohort["reference_date"]
    lo = ref.min() - pd.Timedelta(days=31)
    hi = (ref + pd.DateOffset(months=24)).max()
    month = tm["month"]
    tm = tm[(month >= lo) & (month <= hi)]
    return tm[tm["person_id"].isin(cohort["person_id"].unique())]


def _seniority_groups(start: pd.Series, ref: pd.Series) -> np.ndarray:
    """SENIORITY_GROUPS codes by calendar years (at least k years when the spell started on or
    before the same calendar day k years earlier), as the derive stage defines them."""
    from data_schema.codes import SENIORITY_GROUPS

    out = np.full(len(start), SENIORITY_GROUPS[-1][0], dtype=object)
    done = np.zeros(len(start), bool)
    for code, _lo, high, *_ in SENIORITY_GROUPS:
        if high == float("inf"):
            break
        limit = ref - pd.DateOffset(years=int(high))
        sel = ~done & (start > limit).to_numpy()
        out[sel] = code
        done |= sel
    return out


def star_statistics(
    register: SyntheticRegister,
    derived: Mapping[str, pd.DataFrame] | None = None,
    threshold: int = 5,
) -> dict[str, float]:
    """Values of the calibrated statistics by ``analysis.star2022`` (shares as fractions, counts at
    national scale), keyed like :data:`pipelines.calibration.targets.PUBLISHED`."""
    from dataclasses import replace

    from analysis.star2022 import StarInputs, StarParameters, auto_count_scale, compute_star2022

    derived = dict(derived or derived_from_truth(register.truth))
    t = register.tables
    inputs = StarInputs(
        persons=t["persons"],
        benefit_spells=t["benefit_spells"],
        activation_offers=t["activation_offers"],
        exemptions=t["exemptions"],
        conversations=t["conversations"],
        monthly_paid_hours=t["monthly_paid_hours"],
        caseworker_assignments=t["caseworker_assignments"],
        spells=derived["spells"],
        cohort=derived.get("cohort"),
        sequences=derived.get("sequences"),
    )
    params = StarParameters()
    params = replace(params, count_scale=float(auto_count_scale(derived.get("cohort"), params)))
    res = compute_star2022(inputs, params, threshold)
    out: dict[str, float] = {"count_scale": params.count_scale}
    for name, (key, div) in STAT_KEYS.items():
        r = res.values.get(key)
        if r is not None and r.value is not None and np.isfinite(r.value):
            out[name] = float(r.value) / div
    for key in (("R5", "all"), ("R18", "case_review")):
        r = res.values.get(key)
        if r is not None:
            out[f"{key[0]}_within"] = float(bool(r.within))
    return out


def true_case_review_shares(
    spells: pd.DataFrame, benefit_spells: pd.DataFrame, true_subgroups: pd.DataFrame
) -> dict[str, float]:
    """Shares of the true subgroups in the case-review population of ``analysis.star2022``
    (activity-ready, at least 5 years' seniority on 2020-03-01), as fractions keyed
    ``R16_true_<group>`` (``nonwestern_women``, ``danish_men``) plus every subgroup by name."""
    from analysis.star2022 import StarParameters
    from analysis.star2022.populations import case_review_population

    review = case_review_population(spells, benefit_spells, StarParameters())
    sg = review[["person_id"]].merge(true_subgroups, on="person_id", how="inner")["subgroup"]
    shares = sg.astype(str).value_counts(normalize=True)
    out = {f"true_share_{k}": float(v) for k, v in shares.items()}
    out["R16_true_nonwestern_women"] = float(shares.get("nonwestern_women_family", 0.0))
    out["R16_true_danish_men"] = float(shares.get("danish_men_substance", 0.0))
    out["n_case_review"] = float(len(sg))
    return out


def star_statistics_on_disk(
    raw_dir: str | Path, derived_dir: str | Path, threshold: int = 5
) -> dict[str, float]:
    """:func:`star_statistics` on a register written by ``star synth`` (``raw_dir``, with
    ``ground_truth/``) and the derive stage's frames (``derived_dir``), plus the true case-review
    subgroup shares (:func:`true_case_review_shares`)."""
    from types import SimpleNamespace

    from pipelines.reproduction import load_derived, load_register

    tables = load_register(Path(raw_dir))
    derived = {k: v for k, v in load_derived(derived_dir).items() if v is not None}
    out = star_statistics(SimpleNamespace(tables=tables), derived, threshold)  # type: ignore[arg-type]
    truth = pd.read_parquet(Path(raw_dir) / "ground_truth" / "true_subgroups.parquet")
    out.update(true_case_review_shares(derived["spells"], tables["benefit_spells"], truth))
    return out

"""Municipal benchmarking adjusted for composition (issue 21): ``results/benchmarking/``.

The cohort (default: the latest 30 November stock of ``cohorts.annual_years``) is followed month by
month for ``benchmarking.horizon_months`` from its reference date (to the end of the spell or the
extract). For each exit (job, førtidspension, ressourceforløb) a pooled discrete-time hazard model
on the person-months at risk (characteristics, age, match group and seniority at the month; no
municipality term) gives each member's expected exits; per municipality of the reference date
``O/E`` with an exact Poisson interval, funnel limits and empirical-Bayes shrunken ratios
(:mod:`analysis.benchmarking`). Files:

- ``municipal.csv``: one row per published unit and exit (``unit`` = a municipality code, or
  ``<region>-other`` / ``other`` for merged small municipalities; ``n`` persons, ``n_observed``
  exits, ``expected``, ``ratio``, ``conf_low/high``, ``shrunken``, ``shrunken_low/high``,
  ``funnel`` = inside / outside_95 / outside_998 (above or below)). A municipality is published
  alone only when it has at least ``min_persons`` persons and at least ``threshold`` exits and
  non-exits; otherwise it is merged into its region's group, that into one national group; a
  group that still fails has its cells suppressed.
- ``funnel.csv``: the control limits on a grid of expected counts (no person counts).
- ``model.csv``: the coefficients of the hazard models (log-odds per month).

The recovery of a synthetic register's planted municipality effects is
:func:`pipelines.recovery.recovery_benchmarking` (``results/recovery/benchmarking``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.benchmarking import (
    EmpiricalBayes,
    IndirectStandardization,
    funnel_limits,
    ratio_table,
)
from data_schema.derived import EXIT_CODES
from pipelines.publish import write_table
from pipelines.survival import cohort_follow_up

log = logging.getLogger(__name__)

COVARIATES = (
    "C(sex) + C(origin) + C(education) + age10 + age10_sq + psych + substance + children_placed"
    " + activity_ready + log_seniority + seniority_lt6 + second_year"
)
MIN_EVENTS = 10  # exits a model needs (below: the exit is skipped with a warning)


def _region_of() -> dict[int, str]:
    """Municipality code -> region (the 98 Danish municipalities since 2007)."""
    from pipelines.synthetic.municipalities import municipality_frame

    df = municipality_frame()
    return dict(zip(df["municipality_id"].astype(int), df["region"], strict=True))


def cohort_label(config) -> str:
    """The benchmarked cohort: ``benchmarking.cohort`` or the latest annual 30 November stock."""
    b = config.benchmarking
    return b.cohort or f"stock-{max(config.cohorts.annual_years)}-11-30"


def person_months(members: pd.DataFrame, fu: pd.DataFrame) -> pd.DataFrame:
    """One row per member and month at risk (0-based ``k``); ``event`` = exit code in the last
    month, else 0; covariates measured at the start of the month."""
    months = np.maximum(np.ceil(fu["time"].to_numpy() - 1e-9), 1).astype(int)
    idx = np.repeat(np.arange(len(members)), months)
    k = np.concatenate([np.arange(m) for m in months]) if len(months) else np.array([], int)
    last = np.r_[np.cumsum(months) - 1] if len(months) else np.array([], int)
    m = members.iloc[idx].reset_index(drop=True)
    event = np.zeros(len(idx), int)
    event[last] = fu["event"].to_numpy()
    age = m["age"].to_numpy(float) + k / 12.0
    sen = m["seniority_days"].to_numpy(float) / (365.25 / 12) + k
    return pd.DataFrame(
        {
            "person": m["person_id"].to_numpy(),
            "municipality_id": m["municipality_id"].to_numpy(),
            "event": event,
            "sex": m["sex"].astype(str).to_numpy(),
            "origin": m["origin"].astype(str).to_numpy(),
            "education": m["education"].astype(str).to_numpy(),
            "age10": (age - 40) / 10,
            "age10_sq": ((age - 40) / 10) ** 2,
            "psych": m["psychiatric_diagnosis"].fillna(False).astype(float).to_numpy(),
            "substance": m["substance_abuse_treatment"].fillna(False).astype(float).to_numpy(),
            "children_placed": m["children_placed"].fillna(False).astype(float).to_numpy(),
            "activity_ready": (m["match_group"].astype(str) == "activity_ready")
            .astype(float)
            .to_numpy(),
            "log_seniority": np.log1p(sen),
            "seniority_lt6": (sen < 6).astype(float),
            "second_year": (k >= 12).astype(float),
        }
    )


def _assign_units(raw: pd.DataFrame, min_persons: int, threshold: int) -> pd.Series:
    """Published unit of each municipality: itself, ``<region>-other`` or ``other``."""
    region = _region_of()

    def ok(n, o) -> pd.Series:
        return (n >= min_persons) & (o >= threshold) & (n - o >= threshold)

    unit = raw["municipality_id"].astype(str)
    alone = ok(raw["n"], raw["observed"])
    reg = raw["municipality_id"].map(lambda c: f"{region.get(int(c), 'unknown')}-other")
    unit = unit.where(alone, reg)
    g = raw.assign(unit=unit)[~alone].groupby("unit")[["n", "observed"]].sum()
    bad = g.index[~ok(g["n"], g["observed"])]
    return unit.where(~unit.isin(bad), "other")


def _published(raw: pd.DataFrame, config) -> pd.DataFrame:
    """Merge small municipalities, then O/E, shrinkage and funnel position per unit."""
    b, threshold = config.benchmarking, config.disclosure.threshold
    min_persons = max(b.min_persons, threshold)
    raw = raw.assign(unit=_assign_units(raw, min_persons, threshold))
    g = raw.groupby("unit", sort=False).agg(
        n=("n", "sum"), observed=("observed", "sum"), expected=("expected", "sum")
    )
    g = g.loc[sorted(g.index, key=lambda u: (not u.isdigit(), int(u) if u.isdigit() else 0, u))]
    t = ratio_table(g["observed"], g["expected"], b.conf_level)
    if len(g) >= 2:
        eb = EmpiricalBayes(b.shrinkage, b.conf_level).fit(g["observed"], g["expected"]).table
    else:  # one unit: nothing to shrink towards
        eb = pd.DataFrame(
            np.nan, index=range(len(g)), columns=["shrunken", "conf_low", "conf_high"]
        )
    lim = funnel_limits(g["expected"], levels=(0.95, 0.998))
    l95, l998 = (lim[lim["level"] == lv].reset_index(drop=True) for lv in (0.95, 0.998))
    r = t["ratio"].to_numpy()
    pos = np.where(
        r > l998["upper"],
        "above_998",
        np.where(
            r < l998["lower"],
            "below_998",
            np.where(
                r > l95["upper"], "above_95", np.where(r < l95["lower"], "below_95", "inside")
            ),
        ),
    )
    out = pd.DataFrame(
        {
            "unit": g.index,
            "merged": [not u.isdigit() for u in g.index],
            "municipalities": raw.groupby("unit")["municipality_id"].size()[g.index].to_numpy(),
            "n": g["n"].to_numpy(),
            "n_observed": t["observed"].astype(int),
            "expected": t["expected"],
            "ratio": t["ratio"],
            "conf_low": t["conf_low"],
            "conf_high": t["conf_high"],
            "p_value": t["p_value"],
            "shrunken": eb["shrunken"],
            "shrunken_low": eb["conf_low"],
            "shrunken_high": eb["conf_high"],
            "funnel": pos,
        }
    )
    # a merged group that still fails the rule: its cells are suppressed
    fail = (out["n"] < min_persons) | (out["n_observed"] < threshold)
    fail |= (out["n"] - out["n_observed"]) < threshold
    cells = ["n", "n_observed", "expected", "ratio", "conf_low", "conf_high", "p_value"]
    cells += ["shrunken", "shrunken_low", "shrunken_high"]
    out[cells] = out[cells].astype(float)
    out.loc[fail, cells] = np.nan
    out.loc[fail, "funnel"] = "suppressed"
    return out


def municipal_fits(derived_dir: Path, config) -> tuple[str, dict[str, tuple]]:
    """The cohort label and, per exit with at least :data:`MIN_EVENTS` exits, the fitted
    :class:`~analysis.benchmarking.IndirectStandardization` and its unmerged table (one row per
    municipality: ``municipality_id, n, observed, expected, ratio, ...``)."""
    b = config.benchmarking
    cohorts = pd.read_parquet(Path(derived_dir) / "cohorts.parquet")
    spells = pd.read_parquet(Path(derived_dir) / "spells.parquet")
    label = cohort_label(config)
    members = cohorts[cohorts["cohort"] == label].dropna(subset=["municipality_id"])
    members = members.reset_index(drop=True)
    if members.empty:
        log.warning("benchmarking: cohort %s is empty or has no municipality; skipped", label)
        return label, {}
    fu = cohort_follow_up(
        members, spells, pd.Timestamp(config.extract_window.end), b.horizon_months
    )
    pm = person_months(members, fu)
    fits: dict[str, tuple] = {}
    for cause in b.causes:
        y = (pm["event"] == EXIT_CODES[cause]).astype(int)
        if int(y.sum()) < MIN_EVENTS:
            log.warning("benchmarking: fewer than %d %s exits; skipped", MIN_EVENTS, cause)
            continue
        res = IndirectStandardization(b.conf_level, penalty=b.penalty).fit(
            pm.assign(y=y),
            event="y",
            group="municipality_id",
            covariates=COVARIATES,
            unit="person",
        )
        fits[cause] = (res, res.table.rename(columns={"group": "municipality_id", "n_units": "n"}))
    return label, fits


def run_benchmarking(derived_dir: Path, out_dir: Path, config) -> None:
    """Compute and write the benchmarking tables (module docstring) into ``out_dir``."""
    threshold = config.disclosure.threshold
    label, fits = municipal_fits(derived_dir, config)
    tables, models, funnels = [], [], []
    for cause, (res, raw) in fits.items():
        pub = _published(raw, config)
        pub.insert(0, "cause", cause)
        pub.insert(1, "cohort", label)
        tables.append(pub)
        m = res.model.tidy()
        m.insert(0, "cause", cause)
        models.append(m)
        expected_max = max(float(raw["expected"].sum()) / 4, 10.0)
        grid = np.geomspace(1.0, expected_max, 60)
        f = funnel_limits(grid, levels=(0.95, 0.998))
        f.insert(0, "cause", cause)
        funnels.append(f)
    out_dir = Path(out_dir)

    def write(df: pd.DataFrame, name: str) -> None:
        write_table(df, out_dir / name, threshold, None)

    if tables:
        write(pd.concat(tables, ignore_index=True), "municipal.csv")
        write(pd.concat(models, ignore_index=True), "model.csv")
        write(pd.concat(funnels, ignore_index=True), "funnel.csv")


def run_stage(ctx, out: Path) -> None:
    """Adapter for :class:`pipelines.run.Stage` (output ``results/benchmarking``)."""
    run_benchmarking(ctx.derived_dir, out, ctx.config)

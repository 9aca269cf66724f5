"""Exit pathways stage: cumulative incidence of each exit and cause-specific regression models.

Reads the derived frames (cohorts, spells, the 2018Q1 start-stop frame) and writes, all through
disclosure control, to ``results/survival/``:

- ``cif.csv``: Aalen-Johansen cumulative incidence of each exit from the kontanthjælp system by
  cohort, on the time scale *months since the cohort's reference date* (everyone enters at 0;
  follow-up ends at the spell's end, at the end of the extract, or at ``HORIZON_MONTHS``). Cohorts:
  the hovedveje stock (default 2018Q1) and the 30 November stock of each year in
  ``cohorts.annual_years`` (labelled by the year).
- ``cif_by_seniority.csv``: the same for the hovedveje stock on the *seniority* time scale (years
  since the spell began) with delayed entry at the seniority on the reference date, by seniority
  group on that date.
- ``cause_specific_cox.csv`` and ``ph_tests.csv``: cause-specific Cox models for job,
  førtidspension and ressourceforløb on the start-stop frame (time since spell start, delayed
  entry, time-varying covariates, person-clustered robust SEs) with cox.zph tests;
  ``ph_residual_curves.csv``: the tests' smoothed ``beta(t)`` per term with +-2 SE band (R
  ``plot(cox.zph(fit))``), only at times between the threshold-th smallest and largest event time.
- ``fine_gray.csv``: Fine-Gray subdistribution hazards for a job exit with baseline covariates
  (time since the reference date; no delayed entry); ``fine_gray_cif.csv``: the model's
  cumulative incidence of a job for one average profile at a few horizons, with SE and 95 % CI
  (model-based smooth prediction; no person counts).
- ``km_summary.csv``: Kaplan-Meier of the time to any exit from the reference date, per cohort
  and per seniority group of the hovedveje cohort: persons, exits, median (R ``quantile.survfit``
  with its CI, in months, rounded to 0.1 and blanked with the exit count when that is under the
  threshold) and the restricted mean time in the system up to ``tau`` (R ``rmean``) with its SE;
  ``logrank.csv``: the log-rank test (R ``survdiff``) between the seniority groups.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.competing_risks import CauseSpecificCox, FineGray
from analysis.disclosure import guard_curve, suppress
from analysis.survival import AalenJohansen, KaplanMeier, logrank_test
from data_schema.derived import EXIT_CODES, MODEL_CAUSES
from pipelines.config import StarConfig
from pipelines.publish import write_table

log = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12
HORIZON_MONTHS = 48
CAUSES = tuple(EXIT_CODES)  # the exits, in data_schema order
CODE_TO_CAUSE = {v: k for k, v in EXIT_CODES.items()}
FINE_GRAY_TIMES = (6.0, 12.0, 24.0, 36.0, 48.0)  # months since the reference date
BASELINE = [
    "sex",
    "origin",
    "education",
    "age_entry",
    "psychiatric_diagnosis",
    "substance_abuse_treatment",
]
TIME_VARYING = ["cw_changes_12m", "conv_3m", "in_activation", "exempt_illness", "has_paid_hours"]


def cohort_follow_up(
    cohorts: pd.DataFrame,
    spells: pd.DataFrame,
    extract_end: pd.Timestamp,
    horizon_months: float = HORIZON_MONTHS,
) -> pd.DataFrame:
    """One row per cohort member: months from the reference date to exit (or censoring) and the exit.

    ``event`` is the code of the exit (``EXIT_CODES``) when the member's spell ended within the
    horizon, else 0. ``entry_years``/``exit_years`` give the same interval on the seniority scale.
    """
    sp = spells[["person_id", "spell_id", "spell_end", "exit_state"]]
    df = cohorts.merge(sp, on=["person_id", "spell_id"], how="left", validate="many_to_one")
    end = df["spell_end"].fillna(extract_end).clip(upper=extract_end)
    months = (end - df["reference_date"]).dt.days.to_numpy() / DAYS_PER_MONTH
    ended = df["spell_end"].notna() & (df["spell_end"] < extract_end)
    code = df["exit_state"].map(EXIT_CODES).fillna(0).astype(int).where(ended, 0)
    beyond = months > horizon_months
    out = pd.DataFrame(
        {
            "cohort": df["cohort"].astype(str),
            "seniority_group": df["seniority_group"].astype(str),
            "time": np.minimum(months, horizon_months),
            "event": np.where(beyond, 0, code),
            "entry_years": df["seniority_days"].to_numpy() / 365.25,
        }
    )
    # a spell that ends on the reference date has follow-up 0: give it a sliver so it counts
    out["time"] = out["time"].clip(lower=0.5 / DAYS_PER_MONTH)
    out["exit_years"] = out["entry_years"] + out["time"] * DAYS_PER_MONTH / 365.25
    return out


def _cif_table(
    fu: pd.DataFrame, group: str, duration: str, entry: str | None, threshold: int
) -> pd.DataFrame:
    fit = AalenJohansen().fit(fu, duration=duration, event="event", entry=entry, group=group)
    tidy = fit.tidy()
    tidy["cause"] = tidy["cause"].map(CODE_TO_CAUSE)
    tidy = tidy.rename(columns={"group": group}) if "group" in tidy.columns else tidy
    keep = [
        group,
        "cause",
        "time",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
        "n_risk",
        "n_event",
    ]
    return guard_curve(tidy[keep], threshold=threshold, by=[group, "cause"])


def _model_frame(start_stop: pd.DataFrame) -> pd.DataFrame:
    df = start_stop.copy()
    for col in (
        "psychiatric_diagnosis",
        "substance_abuse_treatment",
        "in_activation",
        "exempt_illness",
        "has_paid_hours",
    ):
        df[col] = df[col].astype(float)
    df["conv_3m"] = df["conv_3m"].clip(upper=6)
    df["cw_changes_12m"] = df["cw_changes_12m"].clip(upper=4)
    return df


def cox_fit_statistics(fit, cause: str) -> pd.DataFrame:
    """How well one Cox model fits: Harrell's C with its SE, and the global tests.

    One row per measure (``concordance``, ``likelihood_ratio``, ``wald``, ``score`` and, with a
    cluster-robust variance, ``robust_score``): ``estimate`` is C or the chi-square statistic,
    ``std_error`` C's SE (empty for tests), ``df`` and ``p_value`` those of the test.
    """
    c = fit.concordance()
    rows = [
        {"measure": "concordance", "estimate": c.estimate, "std_error": c.std_error,
         "df": np.nan, "p_value": np.nan}
    ]  # fmt: skip
    for name, test in fit.global_tests().items():
        rows.append(
            {"measure": name, "estimate": test.statistic, "std_error": np.nan,
             "df": test.df, "p_value": test.p_value}
        )  # fmt: skip
    out = pd.DataFrame(rows)
    out.insert(0, "cause", cause)
    out["n_event"] = int(fit.n_events)
    return out


def ph_residual_curves(ph, event_days: np.ndarray, cause: str) -> pd.DataFrame:
    """Smoothed ``beta(t)`` of each term with its +-2 SE band (R ``plot(cox.zph(fit))``, see
    :meth:`analysis.cox.ProportionalHazardsTest.coefficient_curves`) on 40 points, time in months
    since the spell's start; ``n_event_before``/``n_event_after`` count the events at or before /
    at or after each point (the disclosure rule keeps points with both >= the threshold)."""
    out = ph.coefficient_curves()
    days = out["time"].to_numpy(dtype=float)
    ev = np.sort(np.asarray(event_days, dtype=float))
    out["n_event_before"] = np.searchsorted(ev, days, side="right")
    out["n_event_after"] = len(ev) - np.searchsorted(ev, days, side="left")
    out["time"] = days / DAYS_PER_MONTH
    out.insert(0, "cause", cause)
    out.insert(0, "model", "cause_specific_cox")
    return out.drop(columns="transformed_time")


def within_event_range(curves: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The curve points between the ``threshold``-th smallest and largest event time of their
    model, so that no point is fixed by fewer than ``threshold`` persons' event times."""
    keep = (curves["n_event_before"] >= threshold) & (curves["n_event_after"] >= threshold)
    return curves[keep].reset_index(drop=True)


def cause_specific_models(
    start_stop: pd.DataFrame, causes=MODEL_CAUSES
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cause-specific Cox per cause: hazard ratios, proportional-hazards tests, fit statistics
    and the smoothed ``beta(t)`` curves of the tests (:func:`ph_residual_curves`, all 40 points:
    apply :func:`within_event_range` before publishing)."""
    df = _model_frame(start_stop)
    formula = " + ".join(
        [
            f"C({c})" if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]) else c
            for c in BASELINE + TIME_VARYING
        ]
    )
    coefs, tests, fits, curves = [], [], [], []
    for cause in causes:
        code = EXIT_CODES[cause]
        if int((df["event"] == code).sum()) < 20:
            log.warning("cause-specific Cox for %s skipped: fewer than 20 events", cause)
            continue
        fit = CauseSpecificCox(cause=code).fit(
            df,
            duration="tstop",
            entry="tstart",
            event="event",
            covariates=formula,
            cluster="person_id",
        )
        t = fit.tidy()
        t.insert(0, "cause", cause)
        t["hazard_ratio"] = np.exp(t["estimate"])
        t["hr_conf_low"] = np.exp(t["conf_low"])
        t["hr_conf_high"] = np.exp(t["conf_high"])
        t["n_event"] = int((df["event"] == code).sum())
        coefs.append(t)
        zph = fit.proportional_hazards_test()
        ph = zph.tidy().rename(columns={"chisq": "statistic"})
        ph.insert(0, "cause", cause)
        ph.insert(0, "model", "cause_specific_cox")
        tests.append(ph)
        fits.append(cox_fit_statistics(fit, cause))
        curves.append(ph_residual_curves(zph, df.loc[df["event"] == code, "tstop"], cause))
    return tuple(  # type: ignore[return-value]
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        for parts in (coefs, tests, fits, curves)
    )


def fine_gray_job(cohorts: pd.DataFrame, fu: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fine-Gray model for job exits with baseline covariates on the hovedveje cohort: the
    coefficient table and the predicted cumulative incidence (with SE and CI) of one average
    profile at ``FINE_GRAY_TIMES``."""
    df = pd.concat(
        [cohorts.reset_index(drop=True), fu[["time", "event"]].reset_index(drop=True)], axis=1
    )
    df["age"] = (df["reference_date"].dt.year - df["birth_year"]).astype(float)
    for col in ("psychiatric_diagnosis", "substance_abuse_treatment"):
        df[col] = df[col].astype(float)
    df["seniority_years"] = df["seniority_days"] / 365.25
    formula = "C(sex) + C(origin) + C(education) + age + psychiatric_diagnosis + substance_abuse_treatment + seniority_years"
    fit = FineGray(cause=EXIT_CODES["job"]).fit(
        df, duration="time", event="event", covariates=formula
    )
    t = fit.tidy()
    t.insert(0, "cause", "job")
    t["subdistribution_hr"] = np.exp(t["estimate"])
    t["n_event"] = int((df["event"] == EXIT_CODES["job"]).sum())
    # one average profile: the most common level of each category, mean age and seniority
    # (rounded to whole years; averages, so no person's value), no diagnosis / treatment
    profile = pd.DataFrame(
        {
            "sex": [df["sex"].mode().iloc[0]],
            "origin": [df["origin"].mode().iloc[0]],
            "education": [df["education"].mode().iloc[0]],
            "age": [float(round(df["age"].mean()))],
            "psychiatric_diagnosis": [0.0],
            "substance_abuse_treatment": [0.0],
            "seniority_years": [float(round(df["seniority_years"].mean()))],
        }
    )
    cif = fit.predict_cif(profile, times=FINE_GRAY_TIMES).drop(columns=["row"])
    desc = ", ".join(f"{k}={v}" for k, v in profile.iloc[0].items())
    cif.insert(0, "profile", desc)
    cif.insert(0, "cause", "job")
    return t, cif


def km_exit_summary(
    fu: pd.DataFrame, main: str, threshold: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier of the time to any exit (months since the reference date) per cohort and per
    seniority group of the ``main`` cohort: median with CI and RMST (see module docstring), and
    the log-rank test between the seniority groups. Disclosure: persons and exits are counts
    (complementary suppression over the seniority groups and their cohort total); the median
    and its limits go with the exit count, the RMST with the persons."""
    d = fu.assign(any_exit=(fu["event"] > 0).astype(int))
    km = KaplanMeier()
    rows = []
    for group_type, frame in (("cohort", d), ("seniority_group", d[d["cohort"] == main])):
        fit = km.fit(frame, duration="time", event="any_exit", group=group_type)
        tab = fit.table("common").set_index(group_type)
        med = fit.median().set_index(group_type)
        for g in tab.index:
            rows.append(
                {
                    "group_type": group_type,
                    "group": str(g),
                    "n": int(tab.loc[g, "records"]),
                    "n_events": int(round(tab.loc[g, "events"])),
                    "median": med.loc[g, "median"],
                    "median_conf_low": med.loc[g, "conf_low"],
                    "median_conf_high": med.loc[g, "conf_high"],
                    "rmst": tab.loc[g, "rmean"],
                    "rmst_std_error": tab.loc[g, "se_rmean"],
                    "tau": tab.loc[g, "tau"],
                }
            )
    out = pd.DataFrame(rows)
    for col in ("median", "median_conf_low", "median_conf_high"):
        out[col] = out[col].round(1)
    line = pd.Series(
        np.where(
            (out["group_type"] == "seniority_group")
            | ((out["group_type"] == "cohort") & (out["group"] == main)),
            "main",
            None,
        ),
        index=out.index,
    )
    out = suppress(
        out,
        counts={"n_events": ["median", "median_conf_low", "median_conf_high"]},
        denominator="n",
        denominator_lines=[line],
        stats=["rmst", "rmst_std_error"],
        threshold=threshold,
    )
    sen = d[d["cohort"] == main]
    tests = pd.DataFrame()
    if sen["seniority_group"].nunique() >= 2:
        res = logrank_test(sen, duration="time", event="any_exit", group="seniority_group")
        tests = res.tidy()
        tests.insert(0, "comparison", "seniority_group")
        tests.insert(1, "cohort", main)
    return out, tests


def run_survival(
    derived_dir: Path, out_dir: Path, config: StarConfig, known_ids=None
) -> list[Path]:
    """Compute and write the exit-pathway tables (see module docstring) into ``out_dir``."""
    derived_dir, out_dir = Path(derived_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    threshold = config.disclosure.threshold
    extract_end = pd.Timestamp(config.extract_window.end)
    cohorts = pd.read_parquet(derived_dir / "cohorts.parquet")
    spells = pd.read_parquet(derived_dir / "spells.parquet")
    main = config.cohorts.stock_quarter
    wanted = {main: main} | {f"stock-{y}-11-30": str(y) for y in config.cohorts.annual_years}
    sel = cohorts[cohorts["cohort"].isin(wanted)].copy()
    sel["cohort"] = sel["cohort"].map(wanted)
    fu = cohort_follow_up(sel, spells, extract_end)
    written: list[Path] = []

    def write(df: pd.DataFrame, name: str) -> None:
        written.append(write_table(df, out_dir / name, threshold, known_ids))

    write(_cif_table(fu, "cohort", "time", None, threshold), "cif.csv")
    main_fu = fu[fu["cohort"] == main]
    by_sen = _cif_table(main_fu, "seniority_group", "exit_years", "entry_years", threshold)
    write(by_sen, "cif_by_seniority.csv")

    ss_path = derived_dir / "start_stop.parquet"
    if ss_path.exists():
        coefs, tests, fits, curves = cause_specific_models(pd.read_parquet(ss_path))
        if len(coefs):
            write(coefs, "cause_specific_cox.csv")
            write(tests, "ph_tests.csv")
            write(fits, "cox_fit.csv")
            write(within_event_range(curves, threshold), "ph_residual_curves.csv")
    main_cohort = sel[sel["cohort"] == main].reset_index(drop=True)
    if int((main_fu["event"] == EXIT_CODES["job"]).sum()) >= 20:
        fg_table, fg_cif = fine_gray_job(main_cohort, main_fu.reset_index(drop=True))
        write(fg_table, "fine_gray.csv")
        write(fg_cif, "fine_gray_cif.csv")
    km_table, km_tests = km_exit_summary(fu, main, threshold)
    write(km_table, "km_summary.csv")
    if len(km_tests):
        write(km_tests, "logrank.csv")
    sizes = fu.groupby("cohort").size().rename("n").reset_index()
    write(suppress(sizes, counts=["n"], denominator=None, threshold=threshold), "cohort_sizes.csv")
    return written


def run_stage(ctx, out: Path) -> None:
    """Adapter for :class:`pipelines.run.Stage` (output ``results/survival``, input the derived frames)."""
    persons = ctx.validated_dir / "persons.parquet"
    ids = (
        frozenset(pd.read_parquet(persons, columns=["person_id"])["person_id"].astype(str))
        if persons.exists()
        else None
    )
    run_survival(ctx.derived_dir, out, ctx.config, known_ids=ids)

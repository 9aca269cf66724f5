"""Rebuilt spells against the synthetic register's true spells, and the naive case-start problem.

On the synthetic register the generator knows every person's true uninterrupted KH spells
(``ground_truth/true_spells.parquet``); the register tables only show administrative cases with
databrud. :func:`seniority_accuracy` compares, for everyone truly in a spell on the reference date,

* ``rebuilt``: seniority from the spells of :func:`pipelines.derive.spells.build_spells`, and
* ``naive_case_start``: seniority from the start of the currently open case
  (:func:`pipelines.derive.spells.naive_case_seniority`),

with the true seniority. Error = estimated - true, in days (negative = seniority underestimated).

Spells that truly began before the extract window (``left truncated``) have a start no register
rule can see: the extract's first record starts on the window's first day. For them the rebuilt
seniority can only be a lower bound, flagged by ``left_truncated``. The accuracy table therefore
reports, besides the shares over everyone truly on KH, the share within a month among persons
whose true spell start lies inside the window (``*_observable``) and, for the truly left-truncated,
the share the rebuilt spells flag as left-truncated with a seniority no larger than the truth
(``share_truncation_flagged``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.disclosure import DisclosureError, disclosure_problems, safe_quantile, suppress
from data_schema.codes import SENIORITY_GROUPS
from data_schema.mapping import StateMapping
from pipelines.config.model import StarConfig
from pipelines.derive._common import Shape, resolve
from pipelines.derive.spells import build_spells, naive_case_seniority, seniority_at

ERROR_BINS = (
    ("under_gt_1y", -np.inf, -366),
    ("under_32d_1y", -366, -32),
    ("under_1_31d", -32, -1),
    ("exact", -1, 0),
    ("over_1_31d", 0, 31),
    ("over_32d_1y", 31, 365),
    ("over_gt_1y", 365, np.inf),
)
"""Error bins in days, (label, low, high] - e.g. ``under_1_31d`` = 1 to 31 days too short."""


def _true_seniority(true_spells: pd.DataFrame, reference_date) -> pd.DataFrame:
    ts = true_spells.copy()
    if "spell_id" not in ts:
        ts["spell_id"] = (
            ts.sort_values(["person_id", "spell_start"]).groupby("person_id").cumcount() + 1
        )
    return seniority_at(ts, reference_date)[
        ["person_id", "spell_start", "seniority_days", "seniority_group"]
    ]


def _window_start(config: StarConfig) -> pd.Timestamp:
    return pd.Timestamp(config.extract_window.start)


def seniority_errors(
    spells: pd.DataFrame,
    true_spells: pd.DataFrame,
    reference_date: date | str,
    *,
    benefits: pd.DataFrame | Path | None = None,
    shape: Shape = "records",
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
) -> pd.DataFrame:
    """Per person truly in a spell on ``reference_date``: true seniority, rebuilt and naive.

    Columns: person_id, true_days, true_group, true_left_truncated (the true spell began before
    the extract window), rebuilt_days, rebuilt_group, rebuilt_left_truncated, naive_days,
    naive_group (estimates missing when the method does not place the person on KH on that date).
    """
    config, mapping = resolve(config, mapping)
    truth = _true_seniority(pd.DataFrame(true_spells), reference_date).rename(
        columns={"seniority_days": "true_days", "seniority_group": "true_group"}
    )
    rebuilt = seniority_at(spells, reference_date).rename(
        columns={"seniority_days": "rebuilt_days", "seniority_group": "rebuilt_group"}
    )
    truth["true_left_truncated"] = pd.to_datetime(truth["spell_start"]) < _window_start(config)
    rebuilt = rebuilt.rename(columns={"left_truncated": "rebuilt_left_truncated"})
    out = truth[["person_id", "true_days", "true_group", "true_left_truncated"]].merge(
        rebuilt[["person_id", "rebuilt_days", "rebuilt_group", "rebuilt_left_truncated"]],
        on="person_id",
        how="left",
    )
    out["rebuilt_left_truncated"] = (
        out["rebuilt_left_truncated"].astype("boolean").fillna(False).astype(bool)
    )
    if benefits is not None:
        naive = naive_case_seniority(
            benefits, reference_date, shape=shape, config=config, mapping=mapping
        )
        naive = naive.rename(
            columns={"naive_seniority_days": "naive_days", "naive_seniority_group": "naive_group"}
        )
        out = out.merge(
            naive[["person_id", "naive_days", "naive_group"]], on="person_id", how="left"
        )
    for c in ("true_days", "rebuilt_days", "naive_days"):
        if c in out:
            out[c] = out[c].astype("Float64")
    # persons a method puts on KH that the truth does not (reported as a count)
    out.attrs["n_spurious_rebuilt"] = int(
        (~rebuilt["person_id"].isin(truth["person_id"].unique())).sum()
    )
    return out


def seniority_accuracy(errors: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary per method and the binned error distribution, from :func:`seniority_errors`.

    Returns
    -------
    accuracy
        One row per method: n_true (persons truly on KH on the date), n_found, share_found,
        share_exact, share_within_31d, share_within_365d (shares of n_true; a person the method
        does not find counts as wrong), mean / median / p05 / p95 error in days (found only),
        share_same_group, share_ge5y_true, share_ge5y_estimated; n_observable (true spell start
        inside the extract window), share_exact_observable, share_within_31d_observable (shares
        of n_observable); n_left_truncated_true and share_truncation_flagged (rebuilt only: share
        of them whose rebuilt spell is flagged left-truncated with seniority <= the truth).
    distribution
        method, error_bin (:data:`ERROR_BINS`, plus ``not_found``), n, share (of n_true).
    """
    ge5 = {g[0] for g in SENIORITY_GROUPS if g[1] >= 5}
    rows, dist = [], []
    n_true = len(errors)
    for method in ("rebuilt", "naive"):
        col = f"{method}_days"
        if col not in errors:
            continue
        err = (errors[col] - errors["true_days"]).astype("float64")
        found = err.notna()
        e = err[found].to_numpy()
        name = "rebuilt_spells" if method == "rebuilt" else "naive_case_start"
        rows.append(
            {
                "method": name,
                "n_true": n_true,
                "n_found": int(found.sum()),
                "share_found": found.mean() if n_true else np.nan,
                "share_exact": float((e == 0).sum() / n_true) if n_true else np.nan,
                "share_within_31d": float((np.abs(e) <= 31).sum() / n_true) if n_true else np.nan,
                "share_within_365d": float((np.abs(e) <= 365).sum() / n_true) if n_true else np.nan,
                "mean_error_days": float(e.mean()) if len(e) else np.nan,
                "median_error_days": float(np.median(e)) if len(e) else np.nan,
                # percentiles as means of 5 order statistics (no single person's value)
                "p05_error_days": safe_quantile(e, 0.05),
                "p95_error_days": safe_quantile(e, 0.95),
                "share_same_group": float(
                    (errors[f"{method}_group"] == errors["true_group"]).sum() / n_true
                )
                if n_true
                else np.nan,
                "share_ge5y_true": float(errors["true_group"].isin(ge5).mean())
                if n_true
                else np.nan,
                "share_ge5y_estimated": float(errors[f"{method}_group"].isin(ge5).sum() / n_true)
                if n_true
                else np.nan,
                **_truncation_split(errors, err, method),
            }
        )
        for label, lo, hi in ERROR_BINS:
            n = int(((e > lo) & (e <= hi)).sum())
            dist.append(
                {
                    "method": name,
                    "error_bin": label,
                    "n": n,
                    "share": n / n_true if n_true else np.nan,
                }
            )
        n_nf = int((~found).sum())
        dist.append(
            {
                "method": name,
                "error_bin": "not_found",
                "n": n_nf,
                "share": n_nf / n_true if n_true else np.nan,
            }
        )
    acc = pd.DataFrame(rows)
    if "n_spurious_rebuilt" in errors.attrs and len(acc):
        # persons the rebuilt spells put on KH on the date although they truly are not
        acc["n_spurious"] = np.where(
            acc["method"] == "rebuilt_spells", errors.attrs["n_spurious_rebuilt"], np.nan
        )
    return acc, pd.DataFrame(dist)


def _truncation_split(errors: pd.DataFrame, err: pd.Series, method: str) -> dict:
    """Accuracy among persons with an observable true start, and flags of the truncated ones."""
    if "true_left_truncated" not in errors:
        return {}
    lt = errors["true_left_truncated"].to_numpy(dtype=bool)
    e_obs = err[~lt].to_numpy()
    n_obs, n_lt = int((~lt).sum()), int(lt.sum())
    out = {
        "n_observable": n_obs,
        "share_exact_observable": float((e_obs == 0).sum() / n_obs) if n_obs else np.nan,
        "share_within_31d_observable": float((np.abs(e_obs) <= 31).sum() / n_obs)
        if n_obs
        else np.nan,
        "n_left_truncated_true": n_lt,
        "share_truncation_flagged": np.nan,
    }
    if method == "rebuilt" and n_lt:
        flagged = errors["rebuilt_left_truncated"].to_numpy(dtype=bool)[lt]
        lower = (err[lt] <= 0).fillna(False).to_numpy(dtype=bool)
        out["share_truncation_flagged"] = float((flagged & lower).sum() / n_lt)
    return out


def spell_match(
    spells: pd.DataFrame,
    true_spells: pd.DataFrame,
    tolerance_days: int = 0,
    window_start: date | str | None = None,
) -> dict:
    """How many true spells are rebuilt with the same first and last day (within a tolerance).

    Open spells match when both are open. Returns counts and shares; with ``window_start`` also
    ``n_true_spells_observable`` (true start inside the window) and ``share_observable_matched``.
    """
    t = pd.DataFrame(true_spells)[["person_id", "spell_start", "spell_end"]].copy()
    r = pd.DataFrame(spells)[["person_id", "spell_start", "spell_end"]].copy()
    m = t.merge(r, on="person_id", suffixes=("_t", "_r"))
    ds = (m["spell_start_r"] - m["spell_start_t"]).dt.days.abs() <= tolerance_days
    both_open = m["spell_end_t"].isna() & m["spell_end_r"].isna()
    de = both_open | ((m["spell_end_r"] - m["spell_end_t"]).dt.days.abs() <= tolerance_days)
    matched = m[ds & de].drop_duplicates(["person_id", "spell_start_t"])
    out = {
        "n_true_spells": len(t),
        "n_rebuilt_spells": len(r),
        "n_matched": len(matched),
        "share_true_matched": len(matched) / len(t) if len(t) else np.nan,
    }
    if window_start is not None:
        w0 = pd.Timestamp(window_start)
        n_obs = int((t["spell_start"] >= w0).sum())
        n_obs_matched = int((matched["spell_start_t"] >= w0).sum())
        out["n_true_spells_observable"] = n_obs
        out["share_observable_matched"] = n_obs_matched / n_obs if n_obs else np.nan
    return out


def seniority_validation(
    spells: pd.DataFrame | Path,
    true_spells: pd.DataFrame | Path,
    reference_date: date | str,
    *,
    benefits: pd.DataFrame | Path | None = None,
    shape: Shape = "records",
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    tolerance_days: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy table and error distribution (unsuppressed) of rebuilt and naive seniority.

    The accuracy table is :func:`seniority_accuracy`'s with ``reference_date`` and the spell-level
    match figures of :func:`spell_match` (``n_true_spells`` ... ``share_observable_matched``) on
    the rebuilt row.
    """
    config, mapping = resolve(config, mapping)
    sp = pd.read_parquet(spells) if isinstance(spells, (str, Path)) else spells
    ts = pd.read_parquet(true_spells) if isinstance(true_spells, (str, Path)) else true_spells
    errors = seniority_errors(
        sp, ts, reference_date, benefits=benefits, shape=shape, config=config, mapping=mapping
    )
    acc, dist = seniority_accuracy(errors)
    match = spell_match(sp, ts, tolerance_days, window_start=config.extract_window.start)
    for k, v in match.items():
        acc[k] = [v] + [np.nan] * (len(acc) - 1)
    acc.insert(1, "reference_date", pd.Timestamp(reference_date).date().isoformat())
    return acc, dist


def gap_rule_comparison(
    benefits: pd.DataFrame | Path,
    true_spells: pd.DataFrame | Path,
    reference_date: date | str,
    *,
    rules: tuple[tuple[str, int], ...] = (
        ("calendar_month", 4),
        ("strict", 4),
        ("weeks", 2),
        ("weeks", 8),
    ),
    shape: Shape = "records",
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
) -> pd.DataFrame:
    """Seniority accuracy of the rebuilt spells under each gap rule (the reported alternatives).

    One row per rule: gap_rule, gap_weeks, n_spells (rebuilt), n_true, share_within_31d,
    share_within_31d_observable, share_same_group, share_ge5y_estimated, share_ge5y_true.
    """
    config, mapping = resolve(config, mapping)
    ts = pd.read_parquet(true_spells) if isinstance(true_spells, (str, Path)) else true_spells
    rows = []
    for rule, weeks in rules:
        sp = build_spells(
            benefits, shape=shape, config=config, mapping=mapping, gap_rule=rule, gap_weeks=weeks
        )
        acc, _ = seniority_accuracy(seniority_errors(sp, ts, reference_date, config=config))
        r = acc.iloc[0]
        rows.append(
            {
                "gap_rule": rule,
                "gap_weeks": weeks if rule == "weeks" else np.nan,
                "spells": len(sp),
                "n_true": int(r["n_true"]),
                **{
                    c: r[c]
                    for c in (
                        "share_within_31d",
                        "share_within_31d_observable",
                        "share_same_group",
                        "share_ge5y_estimated",
                        "share_ge5y_true",
                    )
                },
            }
        )
    return pd.DataFrame(rows)


ACCURACY_COUNTS = {
    "n_found": ["share_found"],
    "n_observable": ["share_exact_observable", "share_within_31d_observable"],
    "n_left_truncated_true": ["share_truncation_flagged"],
}
"""Person counts of the accuracy table that are subsets of n_true (with their dependent shares)."""


def publishable(
    acc: pd.DataFrame, dist: pd.DataFrame, threshold: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables after cell suppression (results-table conventions), so that ``star audit``
    accepts them even on a tiny register: counts of persons below the threshold (and the shares
    built on them) are blanked, the error bins of a method are one line that adds up to n_true."""
    acc = acc.rename(columns={"n_true": "n"})
    counts = {c: d for c, d in ACCURACY_COUNTS.items() if c in acc}
    # complement too: n_true - n_observable = the left-truncated, n_true - n_found = not found
    acc = suppress(acc, counts, denominator="n", threshold=threshold, complement=True)
    if "n_spurious" in acc:  # persons outside n_true
        acc = suppress(acc, ["n_spurious"], denominator=None, threshold=threshold)
    dist = dist.merge(acc[["method", "n"]].rename(columns={"n": "n_true"}), on="method")
    dist = suppress(
        dist,
        {"n": ["share"]},
        denominator="n_true",
        denominator_keys=["method"],
        partitions=[["method"]],
        threshold=threshold,
        complement=False,
    )
    acc = acc.rename(columns={"n": "n_true"})
    # spell-level figures are counts of spells, not persons: renamed so they are not n_ columns
    acc = acc.rename(
        columns={
            c: c.replace("n_", "count_", 1)
            for c in acc
            if c.startswith("n_true_spells") or c in ("n_rebuilt_spells", "n_matched")
        }
    )
    problems = disclosure_problems(acc, threshold) + disclosure_problems(dist, threshold)
    if problems:
        raise DisclosureError("; ".join(problems))
    return acc, dist


def write_seniority_validation(
    spells: pd.DataFrame | Path,
    true_spells: pd.DataFrame | Path,
    reference_date: date | str,
    out_dir: Path,
    *,
    benefits: pd.DataFrame | Path | None = None,
    shape: Shape = "records",
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    tolerance_days: int = 0,
    compare_rules: bool = False,
) -> dict[str, Path]:
    """Compare rebuilt and naive seniority with the truth; write small publishable CSVs.

    Writes to ``out_dir``: ``seniority_accuracy.csv`` (:func:`seniority_validation`; spell-level
    columns renamed ``count_*`` since they count spells, not persons), ``seniority_errors.csv``
    (binned error distribution) and, with ``compare_rules`` and ``benefits``, ``gap_rules.csv``
    (:func:`gap_rule_comparison`). Person counts below ``config.disclosure.threshold`` are
    suppressed (the tables land in ``results/`` where ``star audit`` checks them).
    """
    config, mapping = resolve(config, mapping)
    acc, dist = seniority_validation(
        spells,
        true_spells,
        reference_date,
        benefits=benefits,
        shape=shape,
        config=config,
        mapping=mapping,
        tolerance_days=tolerance_days,
    )
    acc, dist = publishable(acc, dist, config.disclosure.threshold)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "accuracy": out_dir / "seniority_accuracy.csv",
        "errors": out_dir / "seniority_errors.csv",
    }
    acc.to_csv(paths["accuracy"], index=False)
    dist.to_csv(paths["errors"], index=False)
    if compare_rules and benefits is not None:
        rules = gap_rule_comparison(
            benefits, true_spells, reference_date, shape=shape, config=config, mapping=mapping
        )
        thr = config.disclosure.threshold
        if (rules["n_true"] < thr).any():
            rules.loc[rules["n_true"] < thr, [c for c in rules if c.startswith("share")]] = np.nan
        paths["gap_rules"] = out_dir / "gap_rules.csv"
        rules.to_csv(paths["gap_rules"], index=False)
    return paths


__all__ = [
    "ERROR_BINS",
    "gap_rule_comparison",
    "publishable",
    "seniority_validation",
    "seniority_accuracy",
    "seniority_errors",
    "spell_match",
    "write_seniority_validation",
]

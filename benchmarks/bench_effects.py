"""Effects of case-worker changes and conversations (issue 8): coverage of the true hazard ratios
over repeated synthetic registers, and the time of one effects analysis.

Each draw generates a synthetic register (``pipelines.synthetic.generate``, its own seed), builds
the derived frames with the real derive stage, and fits the naive, adjusted and MSM estimators
and doubly robust (``dr_msm``) estimators (:func:`analysis.effects.study.estimate_effects`) for
job exits. Coverage = share of draws whose
95 % interval holds the generator's parameter (case-worker change per change in the last 12
months: 0.78; job conversation in the last 3 months: 1.10). Goal: at least 90 % for the
confounding-robust estimators. The summary is written to ``benchmarks/results/
effects_simulation.csv`` (``exposure, estimator, truth, mean_estimate, bias, coverage, n_reps``),
which the pipeline copies to ``results/effects/simulation.csv``.

Bias of the robust estimators (issue 23): with days since spell start as the Cox time scale the
adjusted, MSM and doubly robust hazard ratios averaged below both truths over 50 draws. Two
diagnostics run on every draw: :data:`ORACLE` (the adjusted model plus the true latent subgroup,
which drives the match group and through it the team, caseload and team-change case-worker
changes: if it were the unmeasured confounder, this estimate would move to the truth; it does
not) and :data:`DAY_CLOCK` (the adjusted model on the day clock; the estimators now use the
months of the spell, :func:`analysis.effects.data.add_spell_months`). ``paired_hr_differences``
in the summary are the mean per-draw differences of those diagnostics from ``adjusted`` with
their Monte Carlo SEs; every bias has its Monte Carlo SE (``bias_mc_se``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._measure import peak_rss_mb

OUT = Path(__file__).parent / "results" / "effects_simulation.csv"
TRUTH = {
    "cw_changes_12m": {"kh->job": {"hazard_ratio_approx": 0.78}},
    "conv_3m": {"kh->job": {"hazard_ratio_approx": 1.10}},
}
"""The generator's job-exit truths, for frames read from ``EFFECTS_FRAME_CACHE`` (a directory:
frames of earlier draws of the same size and seed are read from it instead of generating the
register again, new ones are written to it; ``EFFECTS_DRAWS_OUT``: a CSV to which every draw's
estimates are appended as it finishes; ``EFFECTS_N_REPS``: draws of the full run instead of
:data:`N_REPS`). A cached frame is the output of ``prepare_frame`` of the code that wrote it: clear
the cache after changing the frame's construction."""
ROBUST = ("adjusted", "msm_iptw", "dr_msm")
N_REPS = 50
"""Draws of the full run: the bias of the robust estimators is judged on the mean over draws
(|mean HR - truth| < 0.01 needs about 50 draws at scale 0.08: SD of a draw's HR ~0.06)."""


ORACLE = "adjusted_true_subgroup"
"""Diagnostic estimator (not a method of the package): the adjusted model with the person's true
latent subgroup (``ground_truth/true_subgroups.parquet``) added to the baseline covariates. If the
robust estimators' bias came from the latent subgroup (it drives the match group, hence the team,
caseload and team-change case-worker changes, and the job hazard), this estimate would be free of
it."""


DAY_CLOCK = "adjusted_day_clock"
"""Diagnostic: the adjusted model on the day clock (days since spell start) instead of the
months of the spell (``estimate_effects(clock="day")``)."""


def paired_differences(draws: pd.DataFrame, a: str, b: str) -> dict[str, dict[str, float]]:
    """Per exposure: mean over draws of estimator ``a``'s hazard ratio minus ``b``'s on the same
    draw, its Monte Carlo SE (SD / sqrt(draws)) and the number of draws with both."""
    out = {}
    for exposure, g in draws.groupby("exposure", sort=False):
        w = g.pivot_table(index="seed", columns="estimator", values="estimate")
        if a not in w.columns or b not in w.columns:
            continue
        diff = (w[a] - w[b]).dropna()
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
        out[exposure] = {"mean": round(float(diff.mean()), 4), "mc_se": round(se, 4),
                         "n": int(len(diff))}  # fmt: skip
    return out


def one_draw(size: float | str, seed: int) -> pd.DataFrame:
    from analysis.effects.study import BASELINE, estimate_effects
    from pipelines.config import StarConfig
    from pipelines.derive.build import build_all
    from pipelines.effects import load_effects_data
    from pipelines.recovery import load_true_effects
    from pipelines.synthetic import generate

    cache = os.environ.get("EFFECTS_FRAME_CACHE")
    cached = Path(cache) / str(size) / f"frame_{seed}.parquet" if cache else None
    if cached is not None and cached.exists():
        frame, truth = pd.read_parquet(cached), TRUTH
    else:
        with tempfile.TemporaryDirectory() as tmp:
            raw, derived = Path(tmp) / "raw", Path(tmp) / "derived"
            generate(size, seed=seed, out_dir=raw, statistics=False)
            build_all(raw, derived, StarConfig())
            frame = load_effects_data(raw, derived, StarConfig()).frame
            truth = load_true_effects(raw / "ground_truth")
            frame = _with_true_subgroup(frame, raw / "ground_truth")
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(cached)
    est, _ = estimate_effects(frame, methods=("naive", *ROBUST), causes={"job": 1}, truth=truth)
    sg = [c for c in frame.columns if c.startswith("sg_")]
    if sg:  # the oracle: the adjusted model with the true latent subgroup as well
        oracle, _ = estimate_effects(
            frame, methods=("adjusted",), causes={"job": 1}, truth=truth, baseline=[*BASELINE, *sg]
        )
        est = pd.concat([est, oracle.assign(estimator=ORACLE)], ignore_index=True)
    day, _ = estimate_effects(
        frame, methods=("adjusted",), causes={"job": 1}, truth=truth, clock="day"
    )
    est = pd.concat([est, day.assign(estimator=DAY_CLOCK)], ignore_index=True)
    est = est.assign(seed=seed, n_persons=frame["person_id"].nunique())
    if os.environ.get("EFFECTS_DRAWS_OUT"):  # every draw as it finishes (long runs)
        out = Path(os.environ["EFFECTS_DRAWS_OUT"])
        est.to_csv(out, mode="a", header=not out.exists(), index=False)
    return est


def _finished_draws(size: float | str) -> dict[int, pd.DataFrame]:
    """Draws already in ``EFFECTS_DRAWS_OUT`` (resuming a long run: a draw of the same code is
    not estimated again), by seed; none without the variable or the file, or at another size."""
    path = os.environ.get("EFFECTS_DRAWS_OUT")
    if not path or not Path(path).exists() or str(size) != "0.08":
        return {}
    d = pd.read_csv(path)
    if "n_persons" not in d.columns:
        return {}
    return {int(seed): g.reset_index(drop=True) for seed, g in d.groupby("seed")}


def _with_true_subgroup(frame: pd.DataFrame, truth_dir: Path) -> pd.DataFrame:
    """``frame`` with ``sg_<subgroup>`` indicators of the person's true latent subgroup (ground
    truth, never in a register; ``close_to_labour`` is the reference): for the oracle diagnostic
    only (:data:`ORACLE`)."""
    from pipelines.synthetic.design import SUBGROUPS

    sg = pd.read_parquet(truth_dir / "true_subgroups.parquet")
    by_id = dict(zip(sg["person_id"].astype(str), sg["subgroup"].astype(str), strict=True))
    lab = frame["person_id"].astype(str).map(by_id)
    return frame.assign(**{f"sg_{g}": lab.eq(g).to_numpy() for g in SUBGROUPS[1:]})


def summarise(draws: list[pd.DataFrame]) -> pd.DataFrame:
    d = pd.concat(draws, ignore_index=True)
    d["covered"] = (d["conf_low"] <= d["truth"]) & (d["truth"] <= d["conf_high"])
    g = d.groupby(["exposure", "estimator"], sort=False)
    s = g.agg(
        truth=("truth", "first"),
        mean_estimate=("estimate", "mean"),
        coverage=("covered", "mean"),
        n_reps=("seed", "nunique"),
        mean_std_error=("std_error", "mean"),
        sd_log_estimate=(
            "estimate",
            lambda v: float(np.log(v).std(ddof=1)) if len(v) > 1 else np.nan,
        ),
    ).reset_index()
    s["bias"] = s["mean_estimate"] - s["truth"]
    s["bias_mc_se"] = g["estimate"].std(ddof=1).to_numpy() / np.sqrt(s["n_reps"].to_numpy())
    cols = ["exposure", "estimator", "truth", "mean_estimate", "bias", "bias_mc_se", "coverage"]
    return s[[*cols, "n_reps", "mean_std_error", "sd_log_estimate"]]


def _timed_draw(size: float | str, seed: int) -> tuple[pd.DataFrame, float, float]:
    """One draw, its seconds and the peak memory (MB) of the process that ran it."""
    t0 = time.perf_counter()
    d = one_draw(size, seed)
    return d, time.perf_counter() - t0, peak_rss_mb()


def run(quick: bool = False, out: Path | None = OUT, n_jobs: int = 2) -> dict:
    from joblib import Parallel, delayed

    size, n_reps = (0.02, 2) if quick else (0.08, int(os.environ.get("EFFECTS_N_REPS", N_REPS)))
    t0 = time.perf_counter()
    seeds = [2000 + r for r in range(n_reps)]
    finished = {k: v for k, v in _finished_draws(size).items() if k in seeds}
    # independent draws in ``n_jobs`` processes (each draw is single-threaded work)
    done = Parallel(n_jobs=n_jobs, verbose=5)(
        delayed(_timed_draw)(size, seed) for seed in seeds if seed not in finished
    )
    draws = [*finished.values(), *(d for d, _, _ in done)]
    seconds = [s for _, s, _ in done]
    peak = max([peak_rss_mb(), *(m for _, _, m in done)])
    summary = summarise(draws)
    every = pd.concat(draws, ignore_index=True)
    if out is not None and not quick:
        out.parent.mkdir(parents=True, exist_ok=True)
        summary.to_csv(out, index=False, float_format="%.6g")
    robust = summary[summary["estimator"].isin(ROBUST)]
    return {
        "size": size,
        "n_reps": n_reps,
        "persons_in_cohort_mean": int(np.mean([d["n_persons"].iloc[0] for d in draws])),
        "seconds_per_draw": round(float(np.mean(seconds)), 1) if seconds else None,
        "n_jobs": n_jobs,
        "draws_resumed": len(finished),
        "wall_s": round(time.perf_counter() - t0, 1),
        "coverage": {
            f"{r.exposure}/{r.estimator}": round(float(r.coverage), 3) for r in summary.itertuples()
        },
        "mean_estimate": {
            f"{r.exposure}/{r.estimator}": round(float(r.mean_estimate), 4)
            for r in summary.itertuples()
        },
        "bias": {
            f"{r.exposure}/{r.estimator}": round(float(r.bias), 4) for r in summary.itertuples()
        },
        "bias_mc_se": {
            f"{r.exposure}/{r.estimator}": round(float(r.bias_mc_se), 4)
            for r in summary.itertuples()
        },
        "truth": {r.exposure: float(r.truth) for r in summary.itertuples()},
        "paired_hr_differences": {
            f"{ORACLE} - adjusted": paired_differences(every, ORACLE, "adjusted"),
            f"{DAY_CLOCK} - adjusted": paired_differences(every, DAY_CLOCK, "adjusted"),
        },
        "peak_rss_mb_per_process": round(peak, 1),
        "goal_met": bool(len(robust) and (robust["coverage"] >= 0.9).all()),
        "dr_bias_goal_met": bool(
            (summary.loc[summary["estimator"] == "dr_msm", "bias"].abs() < 0.01).all()
        ),
        "dr_bias_goal_n_reps_met": bool(n_reps >= N_REPS),
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))

"""Transition models (issue 7): recovery of the synthetic generator's transition parameters over
repeated draws, and speed of the monthly model.

Recovery study: ``n_reps`` registers are simulated in memory (``pipelines.synthetic.simulate``,
different seeds); for each, the generator's calendar-month design is computed from the register
tables (plus the true monthly states, spells and subgroups) and the correctly specified model -
one multinomial logit per origin with exactly the generator's non-zero terms - is fitted on the
months 2013-2023 with cluster-robust standard errors by person. Coverage = share of draws in which
the 95 % interval holds the true value, per parameter; parameters with fewer than ``MIN_MOVES``
moves per draw on average are left out (logit estimates of a handful of events are not normal).
Goal: coverage >= 90 % for at least 90 % of the parameters and on average. The summary is written
to ``benchmarks/results/transitions_simulation.csv`` (parameter, truth, mean_estimate, coverage,
n_reps, ...), which the pipeline copies to ``results/transitions/simulation.csv``.

Speed: fit of the generator's monthly model on one draw (rows, seconds, peak memory).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.transitions.recovery import register_recovery, summarise_recovery
from benchmarks._measure import peak_rss_mb

OUT = Path(__file__).parent / "results" / "transitions_simulation.csv"
MIN_MOVES = 50


def one_draw(size: float | str, seed: int) -> pd.DataFrame:
    from pipelines.synthetic import simulate
    from pipelines.synthetic.design import STATES, SUBGROUPS

    reg = simulate(size=size, seed=seed)
    truth = {
        o: {d: dict(v) for d, v in ds.items()} for o, ds in reg.result.params.transitions.items()
    }
    return register_recovery(
        reg.tables, reg.truth["true_monthly_states"], reg.truth["true_spells"],
        reg.truth["true_subgroups"], truth, states=list(STATES), subgroup_levels=list(SUBGROUPS),
    )  # fmt: skip


def run(quick: bool = False, out: Path | None = OUT) -> dict:
    size, n_reps = (0.003, 3) if quick else (0.005, 20)
    draws, seconds = [], []
    for r in range(n_reps):
        t0 = time.perf_counter()
        draws.append(one_draw(size, 1000 + r))
        seconds.append(time.perf_counter() - t0)
    summary = summarise_recovery(draws, MIN_MOVES)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        summary.to_csv(out, index=False)
    cov = summary["coverage"].to_numpy()
    all_params = summarise_recovery(draws, 0)
    return {
        "size": size,
        "n_reps": n_reps,
        "seconds_per_draw": round(float(np.mean(seconds)), 1),
        "parameters_evaluated": int(len(summary)),
        "parameters_left_out_few_moves": int(len(all_params) - len(summary)),
        "mean_coverage": round(float(cov.mean()), 3) if cov.size else None,
        "share_parameters_coverage_ge_90": round(float((cov >= 0.9).mean()), 3)
        if cov.size
        else None,
        "mean_abs_z": round(float(pd.concat(draws)["z"].abs().median()), 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "goal_met": bool(cov.size and cov.mean() >= 0.9),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))

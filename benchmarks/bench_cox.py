"""Speed of analysis.cox / analysis.competing_risks against R on the same data.

Goals (issue 6):
* Cox on start-stop data with cluster-robust SEs, 100,000 subjects (~4 intervals each, daily
  event times): time ratio to R ``coxph(..., cluster=id)`` <= 1;
* Fine-Gray at 20,000 subjects: time ratio to ``cmprsk::crr`` <= 0.02;
* Fine-Gray at 150,000 subjects: under 10 seconds.
* Concordance (with its clustered standard error) of the Cox fit: timed next to R's
  ``concordance(fit)`` (no goal; issue 23 asks for O(n log n) scaling).

Data are generated once per goal, written to a temporary CSV and read by both sides; only the
model fit is timed (R: ``system.time`` around ``coxph``/``crr``, one run; Python: ``fit``
including the design matrix, median of 3 runs). Wall time is the goal; CPU time is reported
too because the machine may be shared (wall times then inflate unevenly). R is skipped when ``Rscript`` is not on PATH. The R fit's
coefficients are compared with ours as a sanity check.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.competing_risks import FineGray
from analysis.cox import CoxPH

COX_COVARIATES = ["x1", "x2", "age", "z1", "z2"]
FG_COVARIATES = ["x1", "x2", "age"]


def start_stop_data(n_subjects: int, seed: int = 1) -> pd.DataFrame:
    """Subjects followed in days for up to ~5 years, split into 3-5 intervals each (time-varying
    ``z1``, ``z2``), 30% with delayed entry; an exit at the end of the last interval or not."""
    rng = np.random.default_rng(seed)
    n = n_subjects
    x1 = rng.normal(size=n)
    x2 = rng.integers(0, 2, n)
    age = rng.integers(18, 65, n).astype(float)
    entry = np.where(rng.random(n) < 0.3, rng.integers(1, 365, n), 0)
    k = rng.integers(3, 6, n)  # planned intervals
    rows = np.repeat(np.arange(n), k)
    lengths = rng.integers(30, 300, rows.shape[0])
    before = np.cumsum(lengths) - lengths  # exclusive cumulative length over all rows
    first = np.cumsum(k) - k  # each subject's first row
    start_off = before - before[first][rows]
    start = entry[rows] + start_off
    stop = start + lengths
    rate = 1 / 1500 * np.exp(0.3 * x1 - 0.4 * x2 + 0.01 * (age - 40))
    t_exit = entry + np.ceil(rng.exponential(1 / rate))
    keep = start < t_exit[rows]
    rows, start, stop = rows[keep], start[keep], stop[keep]
    ends = stop >= t_exit[rows]
    stop = np.where(ends, t_exit[rows], stop)
    status = ends.astype(int)
    return pd.DataFrame(
        {
            "id": rows,
            "start": start.astype(float),
            "stop": stop.astype(float),
            "status": status,
            "x1": np.round(x1[rows], 4),
            "x2": x2[rows],
            "age": age[rows],
            "z1": np.round(rng.normal(size=rows.shape[0]), 4),
            "z2": rng.integers(0, 2, rows.shape[0]),
        }
    )


def competing_data(n_subjects: int, seed: int = 2) -> pd.DataFrame:
    """One row per subject: exit day (ties), cause 1 or 2, or censored (~20%)."""
    rng = np.random.default_rng(seed)
    n = n_subjects
    x1 = np.round(rng.normal(size=n), 4)
    x2 = rng.integers(0, 2, n)
    age = rng.integers(18, 65, n).astype(float)
    t1 = rng.exponential(900 * np.exp(-0.4 * x1 - 0.01 * (age - 40)))
    t2 = rng.exponential(1500 * np.exp(0.3 * x2))
    tc = rng.exponential(3000, n)
    tm = np.minimum(np.minimum(t1, t2), tc)
    ev = np.where(tm == tc, 0, np.where(tm == t1, 1, 2))
    return pd.DataFrame(
        {"time": np.ceil(tm), "ev": ev, "x1": x1, "x2": x2, "age": age, "id": np.arange(n)}
    )


def _run_r(code: str, timeout: float) -> dict:
    proc = subprocess.run(
        ["Rscript", "-e", code], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"R failed: {proc.stderr[-2000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


_R_JSON = """
emit <- function(st, coef, se) cat(sprintf('{"seconds": %.4f, "cpu_seconds": %.4f, "coef": [%s], "se": [%s]}\\n',
  st[['elapsed']], st[['user.self']] + st[['sys.self']], paste(sprintf('%.10g', coef), collapse=','), paste(sprintf('%.10g', se), collapse=',')))
"""


def r_coxph(csv: Path, timeout: float) -> dict:
    code = (
        _R_JSON
        + f"""
suppressPackageStartupMessages({{library(survival); library(data.table)}})
d <- as.data.frame(fread('{csv}'))
t <- system.time(fit <- coxph(Surv(start, stop, status) ~ {" + ".join(COX_COVARIATES)},
                              data = d, cluster = id))
tc <- system.time(cc <- concordance(fit))
emit(t, coef(fit), sqrt(diag(fit$var)))
cat(sprintf('{{"conc_seconds": %.4f, "concordance": %.12g, "conc_se": %.12g}}\n',
    tc[['elapsed']], cc$concordance, sqrt(cc$var)))
"""
    )
    lines = _run_r_lines(code, timeout)
    return json.loads(lines[-2]) | json.loads(lines[-1])


def _run_r_lines(code: str, timeout: float) -> list[str]:
    proc = subprocess.run(
        ["Rscript", "-e", code], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"R failed: {proc.stderr[-2000:]}")
    return [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]


def r_crr(csv: Path, timeout: float) -> dict:
    code = (
        _R_JSON
        + f"""
suppressPackageStartupMessages({{library(cmprsk); library(data.table)}})
d <- as.data.frame(fread('{csv}'))
X <- as.matrix(d[, c({", ".join(repr(c) for c in FG_COVARIATES)})])
t <- system.time(fit <- crr(d$time, d$ev, X, failcode = 1))
emit(t, fit$coef, sqrt(diag(fit$var)))
"""
    )
    return _run_r(code, timeout)


def _median_time(fn, repeat: int = 3) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``repeat`` calls, and the last result."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def _ratios(py_s: float, py_cpu: float, ref: dict) -> dict:
    """Wall-clock ratio (the goal) and CPU-time ratio (robust to other load on the machine)."""
    return {
        "r_s": ref["seconds"],
        "r_cpu_s": ref["cpu_seconds"],
        "ratio": round(py_s / ref["seconds"], 5),
        "cpu_ratio": round(py_cpu / ref["cpu_seconds"], 5),
    }


def _compare(ours, ref: dict) -> dict:
    return {
        "max_abs_coef_diff_vs_r": float(np.max(np.abs(ours.coef - np.asarray(ref["coef"])))),
        "max_rel_se_diff_vs_r": float(np.max(np.abs(ours.std_error / np.asarray(ref["se"]) - 1))),
    }


def run(quick: bool = False) -> dict:
    have_r = shutil.which("Rscript") is not None
    n_cox, n_fg, n_fg_big = (5_000, 2_000, 10_000) if quick else (100_000, 20_000, 150_000)
    out: dict = {"quick": quick, "r_available": have_r}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)

        # ---- Cox, start-stop, cluster-robust -------------------------------------------
        ss = start_stop_data(n_cox)
        csv = tmpdir / "cox.csv"
        ss.to_csv(csv, index=False)
        ss = pd.read_csv(csv)

        def fit_cox():
            return CoxPH().fit(
                ss,
                duration="stop",
                entry="start",
                event="status",
                covariates=COX_COVARIATES,
                cluster="id",
            )

        py_s, py_cpu, res = _median_time(fit_cox)
        cox = {
            "subjects": n_cox,
            "rows": int(len(ss)),
            "events": int(ss["status"].sum()),
            "distinct_event_times": int(ss.loc[ss["status"] == 1, "stop"].nunique()),
            "python_s": round(py_s, 3),
            "python_cpu_s": round(py_cpu, 3),
        }
        # concordance with its clustered IJ standard error on the same fit (issue 23)
        c_s, c_cpu, conc = _median_time(res.concordance, repeat=1)
        cox |= {"concordance_s": round(c_s, 3), "concordance_cpu_s": round(c_cpu, 3)}
        if have_r:
            ref = r_coxph(csv, timeout=3600)
            cox |= _ratios(py_s, py_cpu, ref) | _compare(res, ref)
            cox["goal"] = "ratio to R coxph <= 1"
            cox["goal_met"] = bool(cox["ratio"] <= 1)
            cox["r_concordance_s"] = ref["conc_seconds"]
            cox["concordance_abs_diff_vs_r"] = abs(conc.estimate - ref["concordance"])
            cox["concordance_se_abs_diff_vs_r"] = abs(conc.std_error - ref["conc_se"])
        out["cox_startstop_cluster"] = cox

        # ---- Fine-Gray vs crr -----------------------------------------------------------
        cr = competing_data(n_fg)
        csv = tmpdir / "fg.csv"
        cr.to_csv(csv, index=False)
        cr = pd.read_csv(csv)

        def fit_fg(frame=cr):
            return FineGray(cause=1).fit(
                frame, duration="time", event="ev", covariates=FG_COVARIATES
            )

        py_s, py_cpu, res = _median_time(fit_fg)
        fg = {
            "subjects": n_fg,
            "events_cause1": int((cr["ev"] == 1).sum()),
            "python_s": round(py_s, 4),
            "python_cpu_s": round(py_cpu, 4),
        }
        if have_r:
            ref = r_crr(csv, timeout=7200)
            fg |= _ratios(py_s, py_cpu, ref) | _compare(res, ref)
            fg["goal"] = "ratio to cmprsk::crr <= 0.02"
            fg["goal_met"] = bool(fg["ratio"] <= 0.02)
        out["fine_gray_vs_crr"] = fg

        # ---- Fine-Gray, 150,000 subjects ------------------------------------------------
        big = competing_data(n_fg_big, seed=3)
        py_s, py_cpu, res = _median_time(lambda: fit_fg(big))
        out["fine_gray_large"] = {
            "subjects": n_fg_big,
            "events_cause1": int((big["ev"] == 1).sum()),
            "python_s": round(py_s, 3),
            "python_cpu_s": round(py_cpu, 3),
            "goal": "under 10 s",
            "goal_met": bool(py_s < 10),
        }
    return out


if __name__ == "__main__":
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))

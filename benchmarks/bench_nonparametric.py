"""Speed of the non-parametric estimators against R ``survival::survfit`` on the same data.

Data (generated here, seeded): competing risks for 150,000 subjects with daily event times over ten
years, three causes, censoring, half of the subjects a stock with delayed entry; multi-state sojourn
data (states kh, job, edu, other, fp; back-transitions) for 20,000 persons (R comparison) and
150,000 persons (Python only). R is timed with ``system.time`` around the fitting call only (data
reading excluded); Python around ``fit`` only. Goal (issue 6): Aalen-Johansen with CIs at 150,000
subjects no slower than ``survfit`` (ratio <= 1).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.multistate import MultiStateAalenJohansen
from analysis.survival import AalenJohansen, KaplanMeier

HORIZON = 3650  # days


def competing_risks_data(n: int, seed: int = 1) -> pd.DataFrame:
    """One row per subject: entry, time (days), event 0 (censored) or cause 1-3."""
    rng = np.random.default_rng(seed)
    stock = rng.random(n) < 0.5
    entry = np.where(stock, rng.integers(0, 2000, n), 0)
    latent = entry + rng.exponential(900, n).astype(np.int64) + 1
    dropout = entry + rng.exponential(4000, n).astype(np.int64) + 1
    time_ = np.minimum.reduce([latent, dropout, np.full(n, HORIZON)])
    cause = rng.choice([1, 2, 3], n, p=[0.5, 0.375, 0.125])
    event = np.where(latent == time_, cause, 0)
    return pd.DataFrame({"id": np.arange(1, n + 1), "entry": entry, "time": time_, "event": event})


def multistate_data(n: int, seed: int = 2) -> pd.DataFrame:
    """Sojourn rows (id, tstart, tstop, from, to) with back-transitions; to = "censor" if censored."""
    rng = np.random.default_rng(seed)
    states = np.array(["kh", "job", "edu", "other", "fp"])
    # transition probabilities from each non-absorbing state (rows) to kh, job, edu, other, fp
    probs = np.array(
        [
            [0.0, 0.55, 0.2, 0.15, 0.1],
            [0.7, 0.0, 0.1, 0.2, 0.0],
            [0.5, 0.4, 0.0, 0.1, 0.0],
            [0.6, 0.3, 0.1, 0.0, 0.0],
        ]
    )
    mean_stay = np.array([500.0, 400.0, 300.0, 350.0])
    t = np.where(rng.random(n) < 0.5, rng.integers(0, 1500, n), 0)
    s = np.where(rng.random(n) < 0.85, 0, 1)
    pid = np.arange(1, n + 1)
    frames = []
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        stay = rng.exponential(mean_stay[s[idx]]).astype(np.int64) + 1
        stop = t[idx] + stay
        dropout = rng.random(idx.size) < 0.03
        cens = (stop >= HORIZON) | dropout
        cum = probs[s[idx]].cumsum(axis=1)
        nxt = (rng.random(idx.size)[:, None] > cum).sum(axis=1)
        to = np.where(cens, "censor", states[nxt])
        frames.append(
            pd.DataFrame(
                {
                    "id": pid[idx],
                    "tstart": t[idx],
                    "tstop": np.minimum(stop, HORIZON),
                    "from": states[s[idx]],
                    "to": to,
                }
            )
        )
        ends = cens | (nxt == 4)
        t[idx] = stop
        s[idx] = np.where(ends, s[idx], nxt)
        alive[idx[ends]] = False
    return pd.concat(frames, ignore_index=True)


def _time(fn, repeat: int = 1) -> tuple[float, float]:
    """Best (wall seconds, CPU seconds) over ``repeat`` calls."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
cr <- read.csv("{cr}")
ms <- read.csv("{ms}")
ms$to <- factor(ms$to, levels = c("censor", "kh", "job", "edu", "other", "fp"))
ms$from <- factor(ms$from, levels = c("kh", "job", "edu", "other", "fp"))
el <- function(x) sprintf("%.4f %.4f", x[["elapsed"]], x[["user.self"]] + x[["sys.self"]])
t_aj <- system.time(f1 <- survfit(Surv(entry, time, factor(event)) ~ 1, data = cr, id = id))
t_km <- system.time(f2 <- survfit(Surv(entry, time, event > 0) ~ 1, data = cr))
t_ms <- system.time(f3 <- survfit(Surv(tstart, tstop, to) ~ 1, data = ms, id = id,
                                  istate = from))
cat("aj", el(t_aj), "\nkm", el(t_km), "\nms", el(t_ms), "\n")
"""


def _run_r(cr: pd.DataFrame, ms: pd.DataFrame) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        cr_path, ms_path = Path(tmp) / "cr.csv", Path(tmp) / "ms.csv"
        cr.to_csv(cr_path, index=False)
        ms.to_csv(ms_path, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT.replace("{cr}", str(cr_path)).replace("{ms}", str(ms_path)))
        proc = subprocess.run(
            ["Rscript", str(script)], capture_output=True, text=True, timeout=3600
        )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    out = {}
    for line in proc.stdout.strip().splitlines():
        name, wall, cpu = line.split()
        out[name] = (float(wall), float(cpu))
    return out


def run(quick: bool = False) -> dict:
    n_cr = 5_000 if quick else 150_000
    n_ms_r = 2_000 if quick else 20_000
    n_ms_big = 5_000 if quick else 150_000
    cr = competing_risks_data(n_cr)
    ms = multistate_data(n_ms_r)
    ms_big = multistate_data(n_ms_big, seed=3)
    kw = dict(id="id", entry="tstart", exit="tstop", from_state="from", to_state="to",
              censored="censor")  # fmt: skip

    aj = AalenJohansen()
    km = KaplanMeier()
    msaj = MultiStateAalenJohansen()
    aj.fit(cr.head(1000), "time", "event", entry="entry")  # warm-up (imports, caches)
    reps = 1 if quick else 3
    py = {
        "aj": _time(lambda: aj.fit(cr, "time", "event", entry="entry"), reps),
        "km": _time(
            lambda: km.fit(cr.assign(any=cr.event > 0), "time", "any", entry="entry"), reps
        ),
        "ms": _time(lambda: msaj.fit(ms, **kw), reps),
        "ms_big": _time(lambda: msaj.fit(ms_big, **kw), reps),
    }
    res = {
        "n_subjects_cr": n_cr,
        "n_distinct_event_times_cr": int(np.unique(cr.time[cr.event > 0]).size),
        "n_persons_ms_r": n_ms_r,
        "n_rows_ms_r": len(ms),
        "n_persons_ms_big": n_ms_big,
        "n_rows_ms_big": len(ms_big),
        "python_wall_s": {k: round(v[0], 3) for k, v in py.items()},
        "python_cpu_s": {k: round(v[1], 3) for k, v in py.items()},
        "note": "Python: best of repeats; R: one run (system.time around survfit only)",
    }
    r = _run_r(cr, ms)
    if r is None:
        res["r"] = "Rscript not on PATH: no comparison"
        return res
    if "error" in r:
        res["r"] = r
        return res
    res["r_wall_s"] = {k: round(v[0], 3) for k, v in r.items()}
    res["r_cpu_s"] = {k: round(v[1], 3) for k, v in r.items()}
    res["ratio_python_to_r_wall"] = {k: round(py[k][0] / r[k][0], 4) for k in ("aj", "km", "ms")}
    res["ratio_python_to_r_cpu"] = {
        k: round(py[k][1] / r[k][1], 4) if r[k][1] > 0 else None for k in ("aj", "km", "ms")
    }
    res["goal_aj_ratio_le_1"] = bool(py["aj"][0] <= r["aj"][0])
    return res


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))

"""Speed and memory of the subgroup analysis (analysis.subgroups): model selection over K = 1..8
with 20 random starts each, and 20 bootstrap refits of the chosen model.

Data: five latent classes with seven categorical indicators shaped like the register ones (2-8
levels, overlapping classes), at the size of the default synthetic case-review population (6,500
persons) and of a national long-term stock (35,000). Goals: default under 30 s, national under
3 minutes, both under 1 GB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from analysis.subgroups import LatentClassModel, bootstrap_stability, select_n_classes
from benchmarks._measure import peak_rss_mb, timed

LEVELS = {"sex": 2, "origin": 4, "education": 5, "psych": 2, "subst": 2, "children": 3, "debut": 8}
WEIGHTS = np.array([0.32, 0.24, 0.21, 0.14, 0.09])


def latent_class_data(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` persons from a fixed random 5-class model (class-conditional probabilities drawn once
    from a Dirichlet with concentration 1 per level, so classes overlap)."""
    par = np.random.default_rng(0)
    probs = {k: par.dirichlet(np.ones(v), size=len(WEIGHTS)) for k, v in LEVELS.items()}
    rng = np.random.default_rng(seed)
    cls = rng.choice(len(WEIGHTS), size=n, p=WEIGHTS)
    cols = {}
    for k, p in probs.items():
        code = (rng.random(n)[:, None] > p.cumsum(axis=1)[cls]).sum(axis=1)
        cols[k] = np.minimum(code, p.shape[1] - 1).astype(str)
    return pd.DataFrame(cols), cls


def _one(n: int, max_k: int, n_boot: int) -> dict:
    df, truth = latent_class_data(n)
    t_sel, sel = timed(
        lambda: select_n_classes(
            df, list(df.columns), range(1, max_k + 1), model=lambda k: LatentClassModel(k, seed=1)
        )
    )
    t_boot, stab = timed(
        lambda: bootstrap_stability(
            df,
            sel.best,
            n_boot=n_boot,
            seed=1,
            model=lambda k, s: LatentClassModel(k, n_starts=10, seed=s),
        )
    )
    return {
        "persons": n,
        "selection_s": round(t_sel, 2),
        "bootstrap_s": round(t_boot, 2),
        "classes_chosen": sel.n_classes,
        "ari_vs_truth": round(float(adjusted_rand_score(truth, sel.best.classes)), 3),
        "bootstrap_ari_mean": round(float(stab.replicates["ari"].mean()), 3),
    }


def run(quick: bool) -> dict:
    """Benchmark results (seconds, MB); ``quick`` runs the default size with fewer fits."""
    out: dict = {}
    if quick:
        out["default"] = _one(6_500, max_k=6, n_boot=5)
    else:
        out["default"] = _one(6_500, max_k=8, n_boot=20)
        out["national"] = _one(35_000, max_k=8, n_boot=20)
    out["peak_mb"] = round(peak_rss_mb(), 1)
    total = out["default"]["selection_s"] + out["default"]["bootstrap_s"]
    out["goal_default_30s"] = bool(total < 30)
    if "national" in out:
        nat = out["national"]["selection_s"] + out["national"]["bootstrap_s"]
        out["goal_national_180s"] = bool(nat < 180)
    out["goal_memory_1gb"] = bool(out["peak_mb"] < 1024)
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))

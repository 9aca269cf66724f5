"""Choosing the number of latent classes and checking the stability of the chosen solution.

:func:`select_n_classes` fits K = 1..K_max classes and picks K by an information criterion (BIC
by default) among the *admissible* solutions: every class at least ``min_class_share`` of the
persons (a group of 1 % is not a group a policymaker can act on) and, optionally, relative entropy
above a floor. :func:`bootstrap_stability` refits the chosen model on bootstrap resamples
(multinomial case weights: no data copies), predicts the classes of the full data and reports the
adjusted Rand index against the full-data solution, plus the resampled class sizes after matching
classes to the full-data ones (Hungarian assignment on the cross-table).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from analysis.subgroups.lca import (
    Indicator,
    Kind,
    LatentClassModel,
    LatentClassResult,
    infer_indicators,
)

Criterion = Literal["bic", "aic", "sabic", "caic", "icl"]
CRITERIA: tuple[str, ...] = ("aic", "bic", "sabic", "caic", "icl")


@dataclass(frozen=True)
class ClassSelection:
    """Result of :func:`select_n_classes`.

    Attributes
    ----------
    table
        One row per K: ``classes, log_likelihood, k_params, aic, bic, sabic, caic, icl, entropy,
        relative_entropy, smallest_class, min_avepp, best_ll_replicated, admissible, chosen``.
    fits
        ``{K: LatentClassResult}``.
    n_classes
        The chosen K.
    criterion
        The criterion minimised.
    """

    table: pd.DataFrame
    fits: Mapping[int, LatentClassResult]
    n_classes: int
    criterion: str

    @property
    def best(self) -> LatentClassResult:
        """The fit with the chosen number of classes."""
        return self.fits[self.n_classes]

    def tidy(self) -> pd.DataFrame:
        """The model-selection table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        t = self.table
        lines = [f"Number of classes by {self.criterion.upper()}: {self.n_classes}"]
        for r in t.itertuples(index=False):
            mark = "*" if r.chosen else (" " if r.admissible else "x")
            lines.append(
                f" {mark} K={r.classes}: BIC {r.bic:.1f}, AIC {r.aic:.1f}, smallest class "
                f"{r.smallest_class:.3f}, relative entropy {r.relative_entropy:.3f}"
            )
        return "\n".join(lines)


def _spec(
    df: pd.DataFrame, indicators: Sequence[str] | Mapping[str, Kind] | Sequence[Indicator]
) -> tuple[Indicator, ...]:
    if len(indicators) and all(isinstance(i, Indicator) for i in indicators):
        return tuple(indicators)  # type: ignore[arg-type]
    return infer_indicators(df, indicators)  # type: ignore[arg-type]


def select_n_classes(
    df: pd.DataFrame,
    indicators: Sequence[str] | Mapping[str, Kind] | Sequence[Indicator],
    n_classes: Sequence[int] = range(1, 9),
    *,
    criterion: Criterion = "bic",
    min_class_share: float = 0.05,
    min_relative_entropy: float | None = None,
    model: Callable[[int], LatentClassModel] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ClassSelection:
    """Fit each K in ``n_classes`` and choose K by ``criterion`` among admissible fits.

    Parameters
    ----------
    df, indicators
        Data and indicators as for :meth:`LatentClassModel.fit`.
    n_classes
        Candidate numbers of classes.
    criterion
        Information criterion to minimise (``bic`` default; ``aic`` tends to over-fit at large N,
        ``icl`` penalises overlapping classes).
    min_class_share
        A fit is admissible only when its smallest class (model class size) is at least this share.
        K = 1 is always admissible.
    min_relative_entropy
        Optional floor on relative entropy for admissibility.
    model
        Factory ``K -> LatentClassModel`` (default ``LatentClassModel(K)``, seed 0).
    progress
        Called as ``progress("classes", i, total)`` after each fit.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}")
    spec = _spec(df, indicators)
    make = model or (lambda k: LatentClassModel(k))
    ks = sorted({int(k) for k in n_classes})
    fits: dict[int, LatentClassResult] = {}
    rows = []
    for i, k in enumerate(ks):
        r = make(k).fit(df, spec)
        fits[k] = r
        row = r.fit_statistics()
        ap = r.average_posterior()
        row["min_avepp"] = float(ap["avepp"].min()) if k > 1 else 1.0
        ok = k == 1 or row["smallest_class"] >= min_class_share
        if min_relative_entropy is not None and k > 1:
            ok = ok and row["relative_entropy"] >= min_relative_entropy
        row["admissible"] = bool(ok)
        rows.append(row)
        if progress is not None:
            progress("classes", i + 1, len(ks))
    table = pd.DataFrame(rows)
    cols = [
        "classes",
        "log_likelihood",
        "k_params",
        "aic",
        "bic",
        "sabic",
        "caic",
        "icl",
        "entropy",
        "relative_entropy",
        "smallest_class",
        "min_avepp",
        "best_ll_replicated",
        "iterations",
        "converged",
        "admissible",
    ]
    table = table[cols]
    cand = table[table["admissible"]]
    chosen = int(cand.loc[cand[criterion].idxmin(), "classes"])
    table["chosen"] = table["classes"] == chosen
    for c in CRITERIA:
        table[f"best_{c}"] = table["classes"] == int(table.loc[table[c].idxmin(), "classes"])
    return ClassSelection(
        table=table, fits=MappingProxyType(fits), n_classes=chosen, criterion=criterion
    )


def match_classes(reference: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """Relabelling of ``other``'s classes (1..k) that best agrees with ``reference`` (1..k):
    ``mapping[j - 1]`` is the reference class matched to class ``j`` of ``other`` (Hungarian
    assignment maximising the number of persons in matched cells)."""
    tab = np.zeros((k, k))
    np.add.at(tab, (np.asarray(other) - 1, np.asarray(reference) - 1), 1)
    rows, cols = linear_sum_assignment(-tab)
    mapping = np.zeros(k, dtype=np.int64)
    mapping[rows] = cols + 1
    return mapping


@dataclass(frozen=True)
class StabilityResult:
    """Result of :func:`bootstrap_stability`.

    Attributes
    ----------
    replicates
        One row per bootstrap refit: ``replicate, ari`` (ARI of the refit's classes of the full data
        vs the reference classes), ``agreement`` (share of persons in the same matched class),
        ``log_likelihood`` and ``size_<k>`` (refit class size matched to reference class k).
    reference_sizes
        Class sizes of the reference fit.
    """

    replicates: pd.DataFrame
    reference_sizes: np.ndarray = field(repr=False)

    def tidy(self) -> pd.DataFrame:
        """Summary: for the ARI, the agreement and each class size, the reference value (class
        sizes), the bootstrap mean, sd and 10th/50th/90th percentiles."""
        rep = self.replicates
        rows = []
        for col in ["ari", "agreement", *[c for c in rep.columns if c.startswith("size_")]]:
            v = rep[col].to_numpy(dtype=float)
            ref = (
                float(self.reference_sizes[int(col.removeprefix("size_")) - 1])
                if col.startswith("size_")
                else np.nan
            )
            rows.append(
                {
                    "statistic": col,
                    "reference": ref,
                    "mean": float(np.mean(v)),
                    "sd": float(np.std(v, ddof=1)) if v.size > 1 else np.nan,
                    "p10": float(np.quantile(v, 0.1)),
                    "p50": float(np.quantile(v, 0.5)),
                    "p90": float(np.quantile(v, 0.9)),
                    "replicates": int(v.size),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        t = self.tidy().set_index("statistic")
        return (
            f"Bootstrap stability ({int(t.loc['ari', 'replicates'])} refits): ARI mean "
            f"{t.loc['ari', 'mean']:.3f} (p10 {t.loc['ari', 'p10']:.3f}), agreement "
            f"{t.loc['agreement', 'mean']:.3f}"
        )


def bootstrap_stability(
    df: pd.DataFrame,
    reference: LatentClassResult,
    *,
    n_boot: int = 20,
    seed: int = 0,
    model: Callable[[int, int], LatentClassModel] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    n_jobs: int = 1,
) -> StabilityResult:
    """Refit ``reference``'s model on ``n_boot`` bootstrap resamples of ``df``.

    Parameters
    ----------
    df
        The data the reference was fitted on.
    reference
        The full-data fit (its indicators, K and classes are the reference).
    n_boot
        Number of resamples.
    seed
        Seed of the resampling (each refit gets its own start seed derived from it).
    model
        Factory ``(K, replicate seed) -> LatentClassModel`` (default ``LatentClassModel(K,
        seed=...)``).
    progress
        Called as ``progress("bootstrap", b, n_boot)``.
    n_jobs
        Processes for the refits (joblib); the resamples and seeds are drawn up front, so the
        result does not depend on it.
    """
    k = reference.n_classes
    make = model or (lambda kk, s: LatentClassModel(kk, seed=s))
    rng = np.random.default_rng(seed)
    n = len(df)
    draws = []
    for _ in range(n_boot):
        counts = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
        draws.append((counts, int(rng.integers(2**31))))
    args = (df, reference.indicators, reference.classes, k, make)
    if n_jobs == 1 or n_boot < 2:
        results = (_bootstrap_replicate(*args, c, s) for c, s in draws)
    else:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_bootstrap_replicate)(*args, c, s) for c, s in draws
        )
    rows = []
    for b, row in enumerate(results):
        rows.append({"replicate": b + 1, **row})
        if progress is not None:
            progress("bootstrap", b + 1, n_boot)
    return StabilityResult(pd.DataFrame(rows), np.asarray(reference.weights).copy())


def _bootstrap_replicate(
    df: pd.DataFrame,
    indicators: Sequence[str],
    ref_cls: np.ndarray,
    k: int,
    make: Callable[[int, int], LatentClassModel],
    counts: np.ndarray,
    seed: int,
) -> dict:
    """One refit of :func:`bootstrap_stability` (resample given as frequency weights)."""
    fit = make(k, seed).fit(df, indicators, weights=counts)
    cls = fit.predict(df)
    mapping = match_classes(ref_cls, cls, k)
    relabel = mapping[cls - 1]
    sizes = np.zeros(k)
    sizes[mapping - 1] = fit.weights
    row = {
        "ari": float(adjusted_rand_score(ref_cls, cls)),
        "agreement": float(np.mean(relabel == ref_cls)),
        "log_likelihood": fit.log_likelihood,
    }
    row.update({f"size_{j + 1}": float(sizes[j]) for j in range(k)})
    return row

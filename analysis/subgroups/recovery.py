"""Recovery of known subgroups (synthetic data): adjusted Rand index of the fitted classes and of
an oracle classifier against the true subgroups.

The oracle is the Bayes classifier that knows the generator's true class-conditional
distributions and the true class sizes of the analysed population: it assigns each person to the
class with the highest posterior probability given the *same register indicators* the latent
class model sees. Its ARI is the best any classifier of these indicators can expect, so
``ratio = ARI(recovered) / ARI(oracle)`` measures how much the estimation loses (parameters
estimated, K chosen from the data) against knowing the truth. A ratio near 1 with a modest oracle
ARI means the subgroups overlap in the register indicators, not that the method fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.metrics import adjusted_rand_score

from analysis.subgroups.indicators import (
    CHILDREN_LEVELS,
    DEBUT_BANDS,
    EDUCATION_LEVELS,
    ORIGIN_LEVELS,
    YES_NO,
)
from analysis.subgroups.lca import Indicator, LatentClassResult, parameters_result
from analysis.subgroups.selection import match_classes


def rounded_reflected_normal(
    mean: float, sd: float, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distribution of ``round(reflect(X))`` for ``X ~ N(mean, sd)`` reflected once at ``lo`` and
    ``hi`` and clipped to ``[lo, hi]`` (the synthetic generator's entry ages).

    Returns
    -------
    Integer values ``lo..hi`` and their probabilities.
    """
    a = np.arange(lo, hi + 1, dtype=float)
    u = np.maximum(a - 0.5, lo)
    v = np.minimum(a + 0.5, hi)

    def mass(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
        return norm.cdf(x1, mean, sd) - norm.cdf(x0, mean, sd)

    # X in [u, v], or reflected at lo (X in [2lo - v, 2lo - u]), or at hi (X in [2hi - v, 2hi - u])
    p = mass(u, v) + mass(2 * lo - v, 2 * lo - u) + mass(2 * hi - v, 2 * hi - u)
    p = np.clip(p, 0, None)
    return a.astype(int), p / p.sum()


def band_probabilities(
    mean: Sequence[float],
    sd: Sequence[float],
    lo: int,
    hi: int,
    bands: Sequence[tuple[str, int, int]] = DEBUT_BANDS,
) -> np.ndarray:
    """P(age band | class), shape (K, bands), from :func:`rounded_reflected_normal`."""
    out = np.zeros((len(mean), len(bands)))
    for k, (m, s) in enumerate(zip(mean, sd, strict=True)):
        ages, p = rounded_reflected_normal(float(m), float(s), lo, hi)
        for j, (_code, b0, b1) in enumerate(bands):
            out[k, j] = p[(ages >= b0) & (ages <= b1)].sum()
    return out


def synthetic_oracle(
    subgroup_parameters: Mapping,
    class_sizes: Mapping[str, float],
    names: Sequence[str] | None = None,
) -> tuple[LatentClassResult, tuple[str, ...]]:
    """Bayes classifier from the synthetic generator's subgroup parameters.

    Parameters
    ----------
    subgroup_parameters
        The ``subgroups`` section of ``ground_truth/parameters.json``: per class (lists in class
        order) ``female``, ``menapt_given_non_western``, ``psychiatric_diagnosis``,
        ``substance_abuse_treatment``, ``has_children``, ``children_placed_given_children``,
        ``entry_age_mean``, ``entry_age_sd``, ``entry_age_range``; per class name ``origin``
        (danish, western, non_western) and ``education`` (basic, upper_secondary, vocational,
        higher, unknown).
    class_sizes
        True share of each class in the analysed population (class name -> share).
    names
        Class names in the order of the lists (default: the keys of ``origin``).

    Returns
    -------
    A prediction-only :class:`LatentClassResult` over the indicators ``sex, origin, education,
    psychiatric_diagnosis, substance_abuse_treatment, children, debut_age`` (codes of
    :mod:`analysis.subgroups.indicators`; ``debut_age`` = ``before_window`` counts as missing) and
    the class names in its class order (class j + 1 = ``names[j]``).
    """
    sp = subgroup_parameters
    names = tuple(names or list(sp["origin"]))
    k = len(names)

    def vec(key: str) -> np.ndarray:
        v = np.asarray(sp[key], dtype=float)
        if v.shape != (k,):
            raise ValueError(f"subgroups.{key} must have one value per class ({k})")
        return v

    female = vec("female")
    menapt = vec("menapt_given_non_western")
    origin = np.array([sp["origin"][g] for g in names], dtype=float)
    edu = np.array([sp["education"][g] for g in names], dtype=float)
    psych, subst = vec("psychiatric_diagnosis"), vec("substance_abuse_treatment")
    hc, cp = vec("has_children"), vec("children_placed_given_children")
    lo, hi = (int(x) for x in sp.get("entry_age_range", (18, 60)))
    debut = band_probabilities(vec("entry_age_mean"), vec("entry_age_sd"), lo, hi)
    probs = {
        "sex": np.column_stack([female, 1 - female]),
        "origin": np.column_stack(
            [origin[:, 0], origin[:, 1], origin[:, 2] * menapt, origin[:, 2] * (1 - menapt)]
        ),
        "education": edu,
        "psychiatric_diagnosis": np.column_stack([psych, 1 - psych]),
        "substance_abuse_treatment": np.column_stack([subst, 1 - subst]),
        "children": np.column_stack([1 - hc, hc * (1 - cp), hc * cp]),
        "debut_age": debut,
    }
    spec = (
        Indicator("sex", "categorical", ("F", "M")),
        Indicator("origin", "categorical", ORIGIN_LEVELS),
        Indicator("education", "categorical", EDUCATION_LEVELS),
        Indicator("psychiatric_diagnosis", "categorical", YES_NO),
        Indicator("substance_abuse_treatment", "categorical", YES_NO),
        Indicator("children", "categorical", CHILDREN_LEVELS),
        Indicator("debut_age", "categorical", tuple(b[0] for b in DEBUT_BANDS)),
    )
    sizes = np.array([float(class_sizes.get(g, 0.0)) for g in names])
    return parameters_result(spec, sizes, probs), names


def restrict(oracle: LatentClassResult, indicators: Sequence[str]) -> LatentClassResult:
    """The oracle over a subset of its indicators (the ones the fitted model used)."""
    keep = set(indicators)
    probs, cols = {}, 0
    for s in oracle.indicators:
        width = len(s.levels)
        if s.name in keep:
            probs[s.name] = oracle.theta[:, cols : cols + width]
        cols += width
    spec = [s for s in oracle.indicators if s.name in keep]
    return parameters_result(spec, oracle.weights, probs)


def recovery(
    true: Sequence | np.ndarray | pd.Series,
    recovered: np.ndarray,
    oracle: np.ndarray,
    *,
    recovered_sizes: np.ndarray | None = None,
    true_names: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ARIs of the recovered and the oracle classes, and the matching of true to recovered groups.

    Parameters
    ----------
    true
        True subgroup of each person.
    recovered
        Fitted modal class (1..K) of each person.
    oracle
        Oracle class of each person.
    recovered_sizes
        Model class sizes of the fit (K,), reported for the matched classes.
    true_names
        Order of the true subgroups in the group table.

    Returns
    -------
    ``measures`` (``measure, value``: ari_recovered, ari_oracle, ratio, classes_true,
    classes_recovered) and ``groups`` (per true subgroup: ``subgroup, true_share, class,
    class_size, modal_share, share_of_subgroup_in_class``, where ``class`` is the recovered class
    matched by the Hungarian assignment on the cross-table; missing when K < true number).
    """
    t = pd.Series(np.asarray(true)).astype(str).to_numpy()
    rec = np.asarray(recovered).astype(int)
    ari_r = float(adjusted_rand_score(t, rec))
    ari_o = float(adjusted_rand_score(t, np.asarray(oracle)))
    names = list(true_names) if true_names is not None else sorted(pd.unique(t))
    k_rec = int(rec.max()) if rec.size else 0
    kk = max(len(names), k_rec)
    t_code = pd.Categorical(t, categories=names).codes + 1
    mapping = match_classes(t_code, rec, kk) if kk else np.zeros(0, dtype=int)
    # mapping[j - 1] = true class matched to recovered class j
    rows = []
    for i, g in enumerate(names):
        in_g = t_code == i + 1
        js = np.flatnonzero(mapping[:k_rec] == i + 1) + 1
        j = int(js[0]) if js.size else None
        row = {
            "subgroup": g,
            "true_share": float(in_g.mean()),
            "class": j,
            "class_size": (
                float(recovered_sizes[j - 1])
                if j is not None and recovered_sizes is not None
                else np.nan
            ),
            "modal_share": float((rec == j).mean()) if j is not None else np.nan,
            "share_of_subgroup_in_class": float((rec[in_g] == j).mean())
            if j is not None and in_g.any()
            else np.nan,
        }
        rows.append(row)
    groups = pd.DataFrame(rows)
    groups["class"] = groups["class"].astype("Int64")
    measures = pd.DataFrame(
        {
            "measure": [
                "ari_recovered",
                "ari_oracle",
                "ratio",
                "classes_true",
                "classes_recovered",
            ],
            "value": [
                ari_r,
                ari_o,
                ari_r / ari_o if ari_o > 0 else np.nan,
                float(len(names)),
                float(k_rec),
            ],
        }
    )
    return measures, groups

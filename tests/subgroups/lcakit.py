"""Simulated latent-class data with known parameters, for the subgroup tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Three classes, sizes and class-conditional level probabilities of four categorical indicators
#: (levels "a", "b", ...). Well separated but overlapping (Bayes ARI about 0.6).
WEIGHTS = np.array([0.5, 0.3, 0.2])
PROBS: dict[str, np.ndarray] = {
    "x1": np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]),
    "x2": np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7]]),
    "x3": np.array([[0.85, 0.15], [0.8, 0.2], [0.1, 0.9]]),
    "x4": np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.6, 0.2]]),
    "x5": np.array([[0.1, 0.9], [0.7, 0.3], [0.6, 0.4]]),
}


def levels(name: str) -> tuple[str, ...]:
    return tuple("abcdefgh"[: PROBS[name].shape[1]])


def simulate(
    n: int,
    seed: int,
    weights: np.ndarray = WEIGHTS,
    probs: dict[str, np.ndarray] | None = None,
    missing: float = 0.0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Data frame of string-coded indicators and the true class (1..K) of each row."""
    probs = probs or PROBS
    rng = np.random.default_rng(seed)
    cls = rng.choice(len(weights), size=n, p=weights)
    cols = {}
    for name, p in probs.items():
        cum = p.cumsum(axis=1)[cls]
        code = (rng.random(n)[:, None] > cum).sum(axis=1)
        val = np.asarray(list("abcdefgh"))[code].astype(object)
        if missing:
            val[rng.random(n) < missing] = None
        cols[name] = val
    return pd.DataFrame(cols), cls + 1

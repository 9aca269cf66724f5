"""pipelines.benchmarking: merging/suppression of small municipalities; the recovery summary (pipelines.recovery)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.audit import audit_table
from pipelines.benchmarking import _published
from pipelines.config import load_config
from pipelines.recovery import municipal_recovery


def _raw(rows):
    return pd.DataFrame(rows, columns=["municipality_id", "n", "observed", "expected"])


def test_small_municipalities_are_merged_and_nothing_below_threshold_is_published():
    cfg = load_config(None, **{"benchmarking.min_persons": 50, "disclosure.threshold": 5})
    raw = _raw(
        [
            (101, 400, 60, 55.0),  # alone
            (147, 120, 20, 18.0),  # alone
            (151, 30, 6, 4.0),  # too few persons -> hovedstaden-other
            (153, 40, 3, 5.0),  # too few persons and exits -> hovedstaden-other
            (155, 200, 2, 6.0),  # enough persons but 2 exits -> hovedstaden-other
            (253, 20, 1, 2.0),  # sjaelland: alone too small, its region group too -> other
            (259, 25, 3, 2.5),
        ]
    )
    pub = _published(raw, cfg).set_index("unit")
    assert set(pub.index) == {"101", "147", "hovedstaden-other", "other"}
    assert pub.loc["hovedstaden-other", "n"] == 270
    assert pub.loc["hovedstaden-other", "n_observed"] == 11
    assert pub.loc["hovedstaden-other", "municipalities"] == 3
    # other: 45 persons < 50 -> suppressed (cells empty), never published below the threshold
    assert pub.loc["other", "funnel"] == "suppressed"
    assert pub.loc["other", ["n", "n_observed", "ratio", "shrunken"]].isna().all()
    assert pub.loc["101", "ratio"] == 60 / 55.0
    problems = audit_table(pub.reset_index(), "municipal.csv", threshold=5)
    assert problems == []


def test_recovery_on_simulated_counts_with_known_effects():
    rng = np.random.default_rng(3)
    m = 98
    true_log = rng.normal(0, 0.3, m)
    expected = rng.uniform(20, 400, m)
    # the expected counts of a pooled model: O/E compare with the expected-weighted mean effect
    observed = rng.poisson(expected * np.exp(true_log))
    raw = pd.DataFrame(
        {
            "municipality_id": np.arange(1, m + 1),
            "n": 1000,
            "observed": observed,
            "expected": expected,
        }
    )
    truth = {"job": {str(i + 1): float(v) for i, v in enumerate(true_log)}}
    rows = {r["estimator"]: r for r in municipal_recovery(raw, truth, "job", 0.95)}
    assert set(rows) == {"raw", "gamma_poisson", "normal_dl"}
    assert rows["raw"]["correlation"] > 0.85
    assert rows["gamma_poisson"]["correlation"] >= rows["raw"]["correlation"] - 0.02
    assert rows["gamma_poisson"]["rmse_log"] <= rows["raw"]["rmse_log"]
    for r in rows.values():
        assert 0.85 <= r["coverage"] <= 1.0


def test_recovery_correlation_is_weighted_pearson_and_nan_when_constant():
    """Weighted correlation with integer weights = the plain correlation of the repeated data;
    a constant side (every municipality shrunk to the national rate) has none: NaN, no warning."""
    import warnings

    import numpy as np

    from pipelines.recovery import _wcorr

    x, y, w = np.array([1.0, 2, 3, 5]), np.array([2.0, 1, 4, 4]), np.array([1, 3, 2, 1])
    repeated = np.corrcoef(np.repeat(x, w), np.repeat(y, w))[0, 1]
    assert abs(_wcorr(x, y, w) - repeated) < 1e-12
    assert abs(_wcorr(x, y) - np.corrcoef(x, y)[0, 1]) < 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(_wcorr(np.full(4, 0.3), y, w))

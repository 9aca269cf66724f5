"""Issue 8's must-show on the `default` synthetic register (seed 1), which has time-varying
confounding by design (poor health lowers job exits and conversations and raises case-worker
transfers; pipelines/synthetic/README.md): the naive hazard ratios are visibly biased (their 95 %
intervals exclude the truth, in the direction the confounding predicts), while the adjusted Cox
model, the marginal structural model and the doubly robust weighted Cox cover the truth. The truth is read from the register's
ground truth (``parameters.json["true_effects"]``, :func:`pipelines.recovery.load_true_effects`),
not written here.

Coverage over repeated draws is the benchmark's job (benchmarks/bench_effects.py).
Uses the session-wide ``default_register`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.config import StarConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def job_estimates(default_register) -> pd.DataFrame:
    """Naive, adjusted and MSM job-exit hazard ratios on the stock cohort, fitted on the frame
    the effects stage builds (the stage's other outputs are tested on `tiny`)."""
    from analysis.effects.study import estimate_effects
    from pipelines.effects import load_effects_data
    from pipelines.recovery import load_true_effects

    reg = default_register
    frame = load_effects_data(reg.raw, reg.derived, StarConfig()).frame
    e, _ = estimate_effects(
        frame,
        methods=("naive", "adjusted", "msm_iptw", "dr_msm"),
        causes={"job": 1},
        truth=load_true_effects(reg.raw / "ground_truth"),
    )
    return e.set_index(["exposure", "estimator"])


def test_naive_estimates_are_visibly_biased(job_estimates):
    cw = job_estimates.loc[("caseworker_change_12m", "naive")]
    conv = job_estimates.loc[("conversations_3m", "naive")]
    # changes come with poor health (fewer job exits): naive HR too low
    assert cw["conf_high"] < cw["truth"], cw.to_dict()
    # conversations come with good health (more job exits): naive HR too high
    assert conv["conf_low"] > conv["truth"], conv.to_dict()


@pytest.mark.parametrize("estimator", ["adjusted", "msm_iptw", "dr_msm"])
@pytest.mark.parametrize("exposure", ["caseworker_change_12m", "conversations_3m"])
def test_confounding_robust_estimators_cover_the_truth(job_estimates, exposure, estimator):
    row = job_estimates.loc[(exposure, estimator)]
    assert row["conf_low"] <= row["truth"] <= row["conf_high"], row.to_dict()

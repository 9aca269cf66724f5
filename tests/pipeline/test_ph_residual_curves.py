"""The survival stage's ph_residual_curves table (beta(t) curves of the cox.zph tests): event
counts at each point and the disclosure rule of the registry (only points between the k-th
smallest and k-th largest event time), on R's lung data (fixture of tests/r/cox_zph_plot_fixtures.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cox import CoxPH
from pipelines.results_registry import REGISTRY, SchemaError, write_table
from pipelines.survival import DAYS_PER_MONTH, ph_residual_curves, within_event_range

LUNG = Path(__file__).parents[1] / "fixtures" / "r" / "cox_zph_plot" / "lung.csv"


@pytest.fixture(scope="module")
def curves():
    lung = pd.read_csv(LUNG)
    fit = CoxPH().fit(lung, duration="time", event="event", covariates=["age", "sex", "ph.ecog"])
    events = lung.loc[lung["event"] == 1, "time"].to_numpy(dtype=float)
    return ph_residual_curves(fit.proportional_hazards_test(), events, "job"), np.sort(events)


def test_counts_at_each_point(curves):
    out, ev = curves
    assert list(out.columns) == list(REGISTRY["ph_residual_curves"].schema)
    assert len(out) == 3 * 40 and set(out["model"]) == {"cause_specific_cox"}
    days = out["time"].to_numpy() * DAYS_PER_MONTH
    before = [(ev <= d + 1e-9).sum() for d in days]  # a grid end is an event time itself
    after = [(ev >= d - 1e-9).sum() for d in days]
    np.testing.assert_array_equal(out["n_event_before"], before)
    np.testing.assert_array_equal(out["n_event_after"], after)
    # the grid spans the event times: its ends are the first and last event (1 each, or ties)
    assert days.min() == pytest.approx(ev[0]) and days.max() == pytest.approx(ev[-1])


@pytest.mark.parametrize("k", [5, 10, 40])
def test_published_points_lie_between_kth_smallest_and_largest_event(curves, tmp_path, k):
    out, ev = curves
    kept = within_event_range(out, k)
    days = kept["time"].to_numpy() * DAYS_PER_MONTH
    assert 0 < len(kept) < len(out)
    assert days.min() >= ev[k - 1] - 1e-9 and days.max() <= ev[-k] + 1e-9
    dropped = out.merge(kept, how="left", indicator=True).query("_merge == 'left_only'")
    d_days = dropped["time"].to_numpy() * DAYS_PER_MONTH
    assert np.all((d_days < ev[k - 1]) | (d_days > ev[-k]))
    write_table("ph_residual_curves", kept, tmp_path, threshold=k)  # closed under the rule


def test_registry_rule_rejects_and_blanks_points_outside_the_range(curves, tmp_path):
    out, _ = curves
    with pytest.raises(SchemaError, match="disclosure rule"):
        write_table("ph_residual_curves", out, tmp_path, threshold=5)
    shown = REGISTRY["ph_residual_curves"].protect(out, 5).frame
    outside = (out["n_event_before"] < 5) | (out["n_event_after"] < 5)
    assert outside.any()
    assert shown.loc[outside, ["time", "estimate", "conf_low", "conf_high"]].isna().all().all()
    assert shown.loc[~outside, "estimate"].notna().all()

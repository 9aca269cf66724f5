"""Acceptance on the shared `default` synthetic register (seed 1): the forecast transition model's
predicted state occupation at each of the four half-years lies within 1 percentage point of the
observed, for the 2018Q1 cohort as a whole (issue 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.transitions import model_frame
from data_schema.mapping import load_state_mapping
from pipelines.config import StarConfig
from pipelines.transitions import FORECAST_MODEL, calibration_tables, fit_models, model_specs


def test_predicted_half_year_occupation_within_one_point(default_register):
    cfg = StarConfig.model_validate({"transitions": {"n_simulations": 2}})
    pm = pd.read_parquet(default_register.derived / "person_month.parquet")
    mf = model_frame(pm, max_age=cfg.transitions.max_age)
    priority = list(load_state_mapping(cfg.state_mapping).state_codes)
    states = [s for s in priority if s in set(pm["state"]) | set(pm["next_state"].dropna())]
    fits = fit_models(mf, {FORECAST_MODEL: model_specs()[FORECAST_MODEL]}, cfg, states)
    assert fits[FORECAST_MODEL].converged
    cal = calibration_tables(fits, mf, None, priority, states, cfg)
    main = cal[cal["rule"] == "predominant"]
    assert set(main["half_year"]) == {1, 2, 3, 4}
    assert main["n"].min() > 10_000
    worst = main.loc[main["difference"].abs().idxmax()]
    assert np.abs(main["difference"]).max() < 0.01, worst.to_dict()

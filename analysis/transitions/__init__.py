"""Transition (multi-state) models of pathways through and out of the kontanthjælp system.

Modules:

* :mod:`.model` - :class:`MultinomialLogit` and :class:`TransitionModel` (one multinomial logit of
  the next state per origin state, cluster-robust standard errors by person);
* :mod:`.frames` - model frames from the derived person-month frame, half-year states and
  transitions, sojourn rows for the multi-state Aalen-Johansen estimator;
* :mod:`.pathways` - predicted state occupation for profiles (exact Markov chain on state x
  duration, parametric bootstrap) and microsimulated paths;
* :mod:`.halfyear` - the half-year transition model and its predicted occupation;
* :mod:`.sequences` - hovedveje: state distribution, frequent sequences, flows, occupation curves;
* :mod:`.checks` - calibration and the Markov comparison;
* :mod:`.profiles` - covariate profiles with Danish/English labels;
* :mod:`.register_design` - the synthetic generator's calendar-month covariates from the register
  tables (parameter recovery);
* :mod:`.recovery` - the correctly specified model fitted against known parameters (coverage);
* :mod:`.plots` - figures.
"""

from analysis.transitions.checks import calibration_table, compare_models, paths_frame
from analysis.transitions.frames import (
    BASE_TERMS,
    DURATION_TERMS,
    EXPOSURE_TERMS,
    half_year_states,
    model_frame,
    sojourns,
)
from analysis.transitions.model import (
    INTERCEPT,
    MultinomialLogit,
    MultinomialLogitResult,
    NoStayersError,
    TransitionModel,
    TransitionModelResult,
    lr_test,
)
from analysis.transitions.pathways import (
    Clock,
    OccupationPrediction,
    predict_occupation,
    simulate_paths,
)
from analysis.transitions.profiles import DEFAULT_PROFILES, profile_frame

__all__ = [
    "BASE_TERMS",
    "DEFAULT_PROFILES",
    "DURATION_TERMS",
    "EXPOSURE_TERMS",
    "INTERCEPT",
    "Clock",
    "MultinomialLogit",
    "MultinomialLogitResult",
    "NoStayersError",
    "OccupationPrediction",
    "TransitionModel",
    "TransitionModelResult",
    "calibration_table",
    "compare_models",
    "half_year_states",
    "lr_test",
    "model_frame",
    "paths_frame",
    "predict_occupation",
    "profile_frame",
    "simulate_paths",
    "sojourns",
]

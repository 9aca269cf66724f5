"""Subgroups of long-term recipients: latent class analysis on register indicators, model
selection, bootstrap stability, readable profiles and labels, exit pathways by group, recovery of
known subgroups on synthetic data.

Modules: :mod:`.lca` (the model), :mod:`.selection` (number of classes, stability),
:mod:`.indicators` (person-level indicators), :mod:`.profiles` (profiles, labels),
:mod:`.pathways` (cumulative incidence by group), :mod:`.distal` (outcomes by class: modal vs
BCH/ML three-step), :mod:`.recovery` (oracle, ARI), :mod:`.plots`.
"""

from analysis.subgroups.distal import (
    DistalResult,
    bch_weights,
    classification_error,
    distal_outcome,
    outcome_shares,
)
from analysis.subgroups.indicators import (
    DEFAULT_INDICATORS,
    PROFILE_INDICATORS,
    person_indicators,
)
from analysis.subgroups.lca import (
    Indicator,
    LatentClassModel,
    LatentClassResult,
    infer_indicators,
    parameters_result,
)
from analysis.subgroups.pathways import (
    exit_by_horizon,
    fit_pathways,
    follow_up_frame,
    pathway_curves,
    pathway_summary,
)
from analysis.subgroups.profiles import (
    find_case_review_groups,
    label_groups,
    profile_table,
    publish_profiles,
)
from analysis.subgroups.recovery import recovery, restrict, synthetic_oracle
from analysis.subgroups.selection import (
    ClassSelection,
    StabilityResult,
    bootstrap_stability,
    match_classes,
    select_n_classes,
)

__all__ = [
    "DEFAULT_INDICATORS",
    "PROFILE_INDICATORS",
    "ClassSelection",
    "DistalResult",
    "Indicator",
    "LatentClassModel",
    "LatentClassResult",
    "StabilityResult",
    "bch_weights",
    "bootstrap_stability",
    "classification_error",
    "distal_outcome",
    "exit_by_horizon",
    "find_case_review_groups",
    "fit_pathways",
    "follow_up_frame",
    "infer_indicators",
    "label_groups",
    "outcome_shares",
    "match_classes",
    "parameters_result",
    "pathway_curves",
    "pathway_summary",
    "person_indicators",
    "profile_table",
    "publish_profiles",
    "recovery",
    "restrict",
    "select_n_classes",
    "synthetic_oracle",
]

"""The calibration targets: BRIEF section 3's published statistics and their tolerances.

Shares as fractions, counts at national scale; keys as in
:func:`pipelines.synthetic.quickstats.quick_statistics` and
:func:`pipelines.calibration.pipeline_stats.star_statistics`.
"""

from __future__ import annotations

PUBLISHED: dict[str, float] = {
    "R1": 0.34,
    "R2": 0.65,
    "R3_lt1": 0.33,
    "R3_ge5": 0.45,
    "R4_lt1": 0.25,
    "R4_long": 0.40,
    "R6": 1 / 3,
    "R7": 0.56,
    "R8": 0.10,
    "R8_case_review": 0.11,
    "R9": 0.43,
    "R10": 0.43,
    "R11": 0.23,
    "R12": 0.84,
    "R13": 0.54,
    "R14": 0.10,
    "R15_fp": 0.05,
    "R15_rf": 0.04,
    "R15_self_support": 0.01,
    "R16_nonwestern_women": 0.24,
    "R16_danish_men": 0.14,
    "R19_2015": 147000,
    "R19_2021": 90000,
    "R19_change": -0.40,
    "R20_count": 11000,
    "R20_gt3": 0.64,
    "R20_gt10": 0.23,
    "R21_slagelse_gt10": 0.158,
    "R21_other_gt10": 0.107,
    "R21_mean_days": 5862,
    "R21_mean_days_national": 5700,  # calibration proxy for R21_mean_days (Slagelse is small)
}
TOLERANCE: dict[str, float] = {
    **{k: 0.03 for k in PUBLISHED},
    "R1": 0.02,
    "R13": 0.02,
    "R14": 0.02,
    "R19_2015": 0.10,  # relative (as analysis/star2022/published.yaml)
    "R19_2021": 0.10,
    "R20_count": 0.10,
    "R4_long": 0.08,
    "R21_mean_days": 0.10,  # relative
    "R21_mean_days_national": 0.10,
}

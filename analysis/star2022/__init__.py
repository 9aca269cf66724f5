"""Reproduction of the STAR 2022 study of long-term kontanthjælp recipients (BRIEF R1-R22).

Pure functions: register tables and derived frames in, tidy tables out (each with its denominator
``n``), disclosure control applied by :meth:`StarResults.published` / :mod:`analysis.disclosure`.
Every definition is documented in ``published.yaml`` beside this module and in the docstrings of
:mod:`.populations`, :mod:`.characteristics`, :mod:`.efforts`, :mod:`.hovedveje`, :mod:`.municipal`.
"""

from analysis.star2022.params import (
    ACTIVATION_OFFER_TYPES,
    DEFAULT_KH_CODES,
    POPULATION_BENCHMARKS,
    StarParameters,
)
from analysis.star2022.table import (
    REPRODUCTION_COLUMNS,
    PublishedFigure,
    Reproduced,
    StarInputs,
    StarResults,
    auto_count_scale,
    compute_star2022,
    r17_from_effects,
    reproduction_table,
)

__all__ = [
    "ACTIVATION_OFFER_TYPES",
    "DEFAULT_KH_CODES",
    "POPULATION_BENCHMARKS",
    "REPRODUCTION_COLUMNS",
    "PublishedFigure",
    "Reproduced",
    "StarInputs",
    "StarParameters",
    "StarResults",
    "auto_count_scale",
    "compute_star2022",
    "r17_from_effects",
    "reproduction_table",
]

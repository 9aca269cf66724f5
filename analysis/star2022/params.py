"""Parameters of the STAR 2022 statistics: every population, window and threshold in one place.

The defaults are the study's own definitions (``seeds/002``: the November 2021 stock for the
characteristics and efforts analysis; the BDO case review of activity-ready recipients with at least
5 uninterrupted years on 1 March 2020, looking back two years; the Q1 2018 cohort followed four
half-years) and those of the municipal sources (``seeds/000``, ``seeds/003``, ``seeds/004``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from data_schema.codes import EMPLOYMENT_OFFER_TYPES

#: Benefit codes of the kontanthjælp system in the shipped state mapping (130 kontanthjælp, 131
#: uddannelseshjælp, 132 integrationsydelse, 133 SHO). The pipeline passes ``mapping.kh_codes()``.
DEFAULT_KH_CODES: frozenset[str] = frozenset({"130", "131", "132", "133"})

#: Population benchmarks the study quotes for the whole Danish population (``seeds/002``).
POPULATION_BENCHMARKS: dict[str, float] = {
    "psychiatric_diagnosis": 0.12,
    "children_placed": 0.10,
}

#: Offer types that count as activation (aktivering / tilbud). Mentor support is a support measure,
#: not an offer, in the law on active employment efforts (LAB), so it does not count as activation
#: time; it is still reported per type.
ACTIVATION_OFFER_TYPES: frozenset[str] = frozenset(EMPLOYMENT_OFFER_TYPES)


@dataclass(frozen=True)
class StarParameters:
    """Populations, windows and thresholds of the STAR 2022 statistics.

    Attributes
    ----------
    reference_date
        Stock date of the characteristics and efforts analysis (STAR: November 2021).
    window_years
        Look-back window of the efforts statistics, in years: the window is
        ``[date - window_years, date - 1 day]`` (both ends included).
    review_date
        Date of the case-review population (BDO: 1 March 2020; the review looks at the two years
        before it, to February 2020).
    review_min_years
        Minimum uninterrupted seniority (calendar years) at ``review_date`` of the case-review
        population.
    review_match_group
        Match group of the case-review population (``activity_ready``).
    activation_types
        Offer types that count as activation (R6, R9).
    employment_offer_types
        Offer types that count as an employment offer (beskæftigelsesrettet tilbud, R12).
    conversations_per_year
        Legal minimum of job conversations per year during the review period (4, i.e. 8 in two
        years); a person meets it when job conversations on KH days in the window are at least
        ``conversations_per_year * window_years * kh_days / window_days``.
    passive_min_days
        A passive period counts (R9) when it lasts at least this many consecutive days (366: "over
        one year").
    cohort_label
        Label of the hovedveje cohort in the Cohort / Sequences frames.
    n_half_years
        Half-years followed in the hovedveje analysis.
    attachment_years, attachment_threshold
        Prior attachment of a cohort member: share of the days in the ``attachment_years`` years
        before the member's reference date spent in the KH system; high when at least the
        threshold.
    top_sequences
        Number of most frequent sequences published per group.
    count_dates
        Dates of the national stock counts (R19): 30 November 2015 and 2021.
    count_scale
        Factor from register counts to national counts (R19, R20). 1 for a national extract.
    copenhagen_id, copenhagen_date
        Copenhagen (101) and the date of its figures (BIFLIS, July 2019).
    slagelse_id, slagelse_date, slagelse_excluded
        Slagelse (330), the date of its figures (8 May 2023), and the municipalities left out of the
        comparison group (Copenhagen 101, Odense 461).
    caseload_date
        Date of the case-worker caseload count (R22); ``None`` means ``reference_date``.
    caseload_threshold
        Caseload above which a municipality counts as having very large caseloads (R22: 200).
    municipal_min_persons
        Minimum case-review persons of a municipality in the spread of municipal shares (R8
        ``municipal_p10``/``p90``). The study reviewed about 15 random cases in each of 25
        municipalities; across all municipalities of a register, shares of a handful of persons
        are dominated by binomial noise (p = 0.11, n = 5: 56 % of municipalities show 0 %), so the
        spread is taken over municipalities large enough to show their practice. Never below the
        disclosure threshold.
    """

    reference_date: date = date(2021, 11, 30)
    window_years: int = 2
    review_date: date = date(2020, 3, 1)
    review_min_years: int = 5
    review_match_group: str = "activity_ready"
    activation_types: frozenset[str] = ACTIVATION_OFFER_TYPES
    employment_offer_types: frozenset[str] = frozenset(EMPLOYMENT_OFFER_TYPES)
    conversations_per_year: float = 4.0
    passive_min_days: int = 366
    cohort_label: str = "2018Q1"
    n_half_years: int = 4
    attachment_years: int = 2
    attachment_threshold: float = 0.5
    top_sequences: int = 10
    count_dates: tuple[date, date] = (date(2015, 11, 30), date(2021, 11, 30))
    count_scale: float = 1.0
    copenhagen_id: int = 101
    copenhagen_date: date = date(2019, 7, 31)
    slagelse_id: int = 330
    slagelse_date: date = date(2023, 5, 8)
    slagelse_excluded: tuple[int, ...] = (101, 461)
    caseload_date: date | None = None
    caseload_threshold: float = 200.0
    municipal_min_persons: int = 30
    kh_codes: frozenset[str] = field(default_factory=lambda: DEFAULT_KH_CODES)

"""Code lists shared by the register tables, the synthetic register and the analyses.

Each code list maps the code stored in the data (short, ASCII, snake_case) to a Danish and an
English label. The Danish label is what reports show by default.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

CodeList = MappingProxyType[str, tuple[str, str]]  # read-only {code: (label_da, label_en)}


def _codes(**items: tuple[str, str]) -> CodeList:
    return MappingProxyType(dict(items))


SEX: Final = _codes(M=("Mand", "Man"), F=("Kvinde", "Woman"))

ORIGIN: Final = _codes(
    danish=("Dansk oprindelse", "Danish origin"),
    western=("Vestlig oprindelse", "Western origin"),
    non_western=("Ikke-vestlig oprindelse", "Non-western origin"),
)

EDUCATION: Final = _codes(
    basic=("Grundskole", "Compulsory schooling"),
    upper_secondary=("Gymnasial uddannelse", "Upper secondary"),
    vocational=("Erhvervsfaglig uddannelse", "Vocational"),
    higher=("Videregående uddannelse", "Higher education"),
    unknown=("Uoplyst", "Unknown"),
)

MATCH_GROUP: Final = _codes(
    job_ready=("Jobparat", "Job-ready"),
    activity_ready=("Aktivitetsparat", "Activity-ready"),
)

OFFER_TYPE: Final = _codes(
    company_placement=("Virksomhedspraktik", "Company placement"),
    wage_subsidy=("Løntilskud", "Wage subsidy"),
    guidance_upskilling=("Vejledning og opkvalificering", "Guidance and upskilling"),
    utility_work=("Nytteindsats", "Utility work"),
    mentor=("Mentor", "Mentor"),
)
# Offers that count as "employment offers" (beskæftigelsesrettede tilbud) for BRIEF R12.
EMPLOYMENT_OFFER_TYPES: Final = frozenset(
    {"company_placement", "wage_subsidy", "guidance_upskilling", "utility_work"}
)

OFFER_OUTCOME: Final = _codes(
    completed=("Gennemført", "Completed"),
    interrupted_absence=("Afbrudt pga. fravær", "Interrupted: absence"),
    interrupted_other=("Afbrudt af anden grund", "Interrupted: other reason"),
    ongoing=("Igangværende", "Ongoing at extract end"),
)

CONVERSATION_TYPE: Final = _codes(
    job=("Jobsamtale", "Job conversation"),
    other=("Anden samtale", "Other conversation"),
)

EXEMPTION_REASON: Final = _codes(
    illness=("Sygdom/helbred", "Illness or health"),
    maternity=("Barsel", "Maternity/paternity"),
    other=("Anden grund", "Other reason"),
)

REGION: Final = _codes(
    hovedstaden=("Region Hovedstaden", "Capital Region"),
    sjaelland=("Region Sjælland", "Region Zealand"),
    syddanmark=("Region Syddanmark", "Region of Southern Denmark"),
    midtjylland=("Region Midtjylland", "Central Denmark Region"),
    nordjylland=("Region Nordjylland", "North Denmark Region"),
)

# The monthly states of a person (the state mapping's names, data_schema/state_mapping.yaml): KH
# and its exits. The one vocabulary of state names; results tables carry the codes. The order is
# the synthetic generator's state index (pipelines.synthetic.design.STATES).
STATES: Final = _codes(
    kh=("Kontanthjælp", "Social assistance"),
    job=("Job", "Job"),
    fp=("Førtidspension", "Disability pension"),
    rf=("Ressourceforløb", "Rehabilitation"),
    fj=("Fleksjob", "Flexjob"),
    edu=("Uddannelse", "Education"),
    self_support=("Selvforsørgelse", "Self-support"),
    other_benefit=("Anden ydelse", "Other benefit"),
    dead_or_emigrated=("Død/udvandret", "Died/emigrated"),
)

# Seniority (anciennitet) groups used throughout STAR 2022, in years: [low, high).
SENIORITY_GROUPS: Final = (
    ("lt1", 0.0, 1.0, "Under 1 år", "Under 1 year"),
    ("1_2", 1.0, 2.0, "1-2 år", "1-2 years"),
    ("2_3", 2.0, 3.0, "2-3 år", "2-3 years"),
    ("3_5", 3.0, 5.0, "3-5 år", "3-5 years"),
    ("5_10", 5.0, 10.0, "5-10 år", "5-10 years"),
    ("ge10", 10.0, float("inf"), "10 år og derover", "10 years or more"),
)


def label(codes: CodeList, code: str, lang: str = "da") -> str:
    """Label of ``code`` in ``codes`` in Danish (``lang="da"``) or English (``"en"``)."""
    da, en = codes[code]
    return da if lang == "da" else en

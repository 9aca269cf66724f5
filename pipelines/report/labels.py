"""Reader-facing names of the codes used in results tables, in Danish and English.

Results tables carry machine codes (``job``, ``fp``, ``msm_ipw``); the documents show these names.
An unknown code is shown as it is, so a new category in a results table never breaks a document.
"""

from __future__ import annotations

from .fmt import Lang

STATES: dict[str, tuple[str, str]] = {
    "kh": ("Kontanthjælp", "Social assistance"),
    "job": ("Job", "Job"),
    "fp": ("Førtidspension", "Disability pension"),
    "rf": ("Ressourceforløb", "Rehabilitation"),
    "fj": ("Fleksjob", "Flexjob"),
    "edu": ("Uddannelse", "Education"),
    "self_support": ("Selvforsørgelse", "Self-support"),
    "other_benefit": ("Anden ydelse", "Other benefit"),
    "dead_or_emigrated": ("Død/udvandret", "Died/emigrated"),
}
"""States and exits (data_schema EXIT_CODES / state_mapping names)."""

STATE_ORDER = (
    "kh",
    "job",
    "edu",
    "fj",
    "rf",
    "fp",
    "other_benefit",
    "self_support",
    "dead_or_emigrated",
)
"""Order of states in stacked figures: KH at the bottom, then the exits."""

SENIORITY: dict[str, tuple[str, str]] = {
    "<1": ("Under 1 år", "Under 1 year"),
    "1-2": ("1-2 år", "1-2 years"),
    "2-5": ("2-5 år", "2-5 years"),
    "5+": ("5 år og mere", "5 years or more"),
    "5-10": ("5-10 år", "5-10 years"),
    "10+": ("10 år og mere", "10 years or more"),
    "all": ("Alle", "All"),
    "population": ("Befolkningen", "Population"),
}

CHARACTERISTICS: dict[str, tuple[str, str]] = {
    "female": ("Kvinder", "Women"),
    "age": ("Alder", "Age"),
    "age_50plus": ("50 år og ældre", "Aged 50 or more"),
    "age_under_30": ("Under 30 år", "Under 30"),
    "danish": ("Dansk oprindelse", "Danish origin"),
    "western": ("Vestlig oprindelse", "Western origin"),
    "non_western": ("Ikke-vestlig oprindelse", "Non-western origin"),
    "menapt": ("MENAPT-oprindelse", "MENAPT origin"),
    "education_basic": ("Grundskole som højeste uddannelse", "Basic schooling only"),
    "psychiatric_diagnosis": ("Psykiatrisk diagnose", "Psychiatric diagnosis"),
    "substance_abuse_treatment": ("Misbrugsbehandling", "Substance-abuse treatment"),
    "has_children": ("Har børn", "Has children"),
    "children_placed": (
        "Børn anbragt eller forebyggende foranstaltning",
        "Children placed or preventive measures",
    ),
    "prior_contact": (
        "Kontakt med systemet de 3 forudgående år",
        "Contact in the previous 3 years",
    ),
}

EFFORTS: dict[str, tuple[str, str]] = {
    "activated_share_of_time": ("Andel af tiden i tilbud", "Share of time in an offer"),
    "conversations_per_year": ("Jobsamtaler pr. år", "Job conversations per year"),
    "conversations_8plus": (
        "Mindst 8 jobsamtaler på 2 år",
        "At least 8 job conversations in 2 years",
    ),
    "passive_over_1y": (
        "Over et år uden tilbud uden fritagelse",
        "Over a year without an offer while not exempt",
    ),
    "exempt": ("Fritaget på et tidspunkt", "Exempt at some point"),
    "interrupted_absence": ("Tilbud afbrudt pga. fravær", "Offer interrupted by absence"),
    "employment_offer": ("I virksomhedsrettet tilbud", "In an employment offer"),
    "paid_hours_any": ("Har løntimer", "Has paid hours"),
}

ESTIMATORS: dict[str, tuple[str, str]] = {
    "naive": ("Naiv Cox", "Naive Cox"),
    "adjusted": ("Justeret Cox", "Adjusted Cox"),
    "msm_ipw": ("MSM (IPT-vægte)", "MSM (IPT weights)"),
    "gformula": ("G-beregning", "G-computation"),
    "departure_iv": ("Sagsbehandlerafgang", "Case-worker departures"),
}

EXPOSURES: dict[str, tuple[str, str]] = {
    "caseworker_change": ("Sagsbehandlerskift", "Case-worker change"),
    "any_change_12m": ("Sagsbehandlerskift (12 mdr.)", "Case-worker change (12 months)"),
    "conversations_3m": ("Samtaler seneste 3 mdr.", "Conversations last 3 months"),
    "legal_minimum": ("Minimum 4 samtaler om året", "At least 4 conversations a year"),
}

SCENARIOS: dict[str, tuple[str, str]] = {
    "halve_changes": ("Halvering af sagsbehandlerskift", "Halve case-worker changes"),
    "min_4_conversations": (
        "Mindst 4 samtaler om året til alle",
        "At least 4 conversations a year for all",
    ),
    "caseload_45": ("Sagsstamme fra 100 til 45", "Caseload from 100 to 45"),
}

ATTACHMENT: dict[str, tuple[str, str]] = {
    "low": ("Lav kontakt før", "Low prior contact"),
    "high": ("Høj kontakt før", "High prior contact"),
}

_ALL = (STATES, SENIORITY, CHARACTERISTICS, EFFORTS, ESTIMATORS, EXPOSURES, SCENARIOS, ATTACHMENT)


def label(code: object, lang: Lang = "da", table: dict[str, tuple[str, str]] | None = None) -> str:
    """Reader-facing name of ``code`` (looked up in ``table``, else in every table).

    Unknown codes are returned unchanged (as text).
    """
    key = str(code)
    tables = (table,) if table is not None else _ALL
    for t in tables:
        if key in t:
            return t[key][0 if lang == "da" else 1]
    return key


def state(code: object, lang: Lang = "da") -> str:
    """Name of a state or exit."""
    return label(code, lang, STATES)


def sequence(seq: str, lang: Lang = "da", sep: str = "-") -> str:
    """A half-year sequence ``kh-kh-job-job`` as ``KH → KH → Job → Job``."""
    short = {"kh": "KH", "fp": "FP", "rf": "RF", "fj": "FJ"}
    parts = [short.get(p, state(p, lang)) for p in str(seq).split(sep)]
    return " → ".join(parts)


PHRASES: dict[str, tuple[str, str]] = {
    "not_available": (
        "Ikke tilgængelig i denne kørsel",
        "Not available in this run",
    ),
    "withheld": (
        "Tabellen er tilbageholdt af diskretionering",
        "The table is withheld by disclosure control",
    ),
    "figure_withheld": (
        "Figuren er tilbageholdt af diskretionering",
        "The figure is withheld by disclosure control",
    ),
    "suppressed_note": (
        "..: diskretioneret (færre end {t} personer bag tallet eller sekundær diskretionering).",
        "..: suppressed (fewer than {t} persons behind the number, or secondary suppression).",
    ),
    "figure": ("Figur", "Figure"),
    "table": ("Tabel", "Table"),
    "share": ("Andel", "Share"),
    "persons": ("Personer", "Persons"),
    "year": ("År", "Year"),
    "months": ("Måneder", "Months"),
    "half_year": ("Halvår", "Half-year"),
}


def phrase(key: str, lang: Lang = "da", **kwargs: object) -> str:
    """A fixed phrase in the document's language, with ``{placeholders}`` filled from kwargs."""
    da, en = PHRASES[key]
    return (da if lang == "da" else en).format(**kwargs)

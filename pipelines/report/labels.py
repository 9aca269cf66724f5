"""Reader-facing names of the codes used in results tables, in Danish and English.

Results tables carry machine codes (``job``, ``fp``, ``msm_ipw``); the documents show these names.
An unknown code is shown as it is, so a new category in a results table never breaks a document.
"""

from __future__ import annotations

from data_schema import codes
from data_schema.codes import EDUCATION, OFFER_TYPE, ORIGIN, SENIORITY_GROUPS, SEX

from .fmt import Lang

STATES: dict[str, tuple[str, str]] = dict(codes.STATES)
"""States and exits (the vocabulary of data_schema.codes.STATES)."""

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

TRENDS: dict[str, tuple[str, str]] = {
    "R1|all": ("Anciennitet 5 år og derover", "Seniority 5 years or more"),
    "R8|all": ("Løntimer i referencemåneden", "Paid hours in the reference month"),
    "R12|case_review": (
        "Beskæftigelsesrettet tilbud (sagsgennemgang, 2 år)",
        "Employment offer (case review, 2 years)",
    ),
    "R13|all": ("Kohorte: på kontanthjælp alle 4 halvår", "Cohort: on assistance all 4 half-years"),
    "R14|all": ("Kohorte: job inden for 2 år", "Cohort: job within 2 years"),
    "R15|fp": ("Kohorte: førtidspension", "Cohort: disability pension"),
    "R15|rf": ("Kohorte: ressourceforløb", "Cohort: rehabilitation"),
    "R15|self_support": ("Kohorte: selvforsørgelse", "Cohort: self-support"),
    "R22|p50": ("Personer pr. sagsbehandler (median)", "Persons per case worker (median)"),
    "R22|mean": ("Personer pr. sagsbehandler (gennemsnit)", "Persons per case worker (mean)"),
}
"""Statistics of the trend section (``trends.csv``: ``statistic|part``)."""

SENIORITY: dict[str, tuple[str, str]] = {
    **{code: (da, en) for code, _lo, _hi, da, en in SENIORITY_GROUPS},
    "ge5": ("5 år og derover", "5 years or more"),
    "all": ("Alle", "All"),
    "population": ("Befolkningen", "Population"),
}
"""Seniority groups (data_schema.codes.SENIORITY_GROUPS plus the long-term total and ``all``)."""

SENIORITY_ORDER: tuple[str, ...] = (*(g[0] for g in SENIORITY_GROUPS), "ge5", "all")
LONG_TERM: tuple[str, ...] = ("5_10", "ge10")
"""Seniority groups of at least five years (their total is ``ge5``)."""

CHARACTERISTICS: dict[str, tuple[str, str]] = {
    "sex": ("Køn", "Sex"),
    "age_group": ("Alder", "Age"),
    "age": ("Alder", "Age"),
    "origin": ("Oprindelse", "Origin"),
    "education": ("Uddannelse", "Education"),
    "psychiatric_diagnosis": ("Psykiatrisk diagnose", "Psychiatric diagnosis"),
    "substance_abuse_treatment": ("Misbrugsbehandling", "Substance-abuse treatment"),
    "children_placed": (
        "Børn anbragt eller forebyggende foranstaltning",
        "Children placed or preventive measures",
    ),
    "prior_contact_3y": (
        "Kontakt med systemet de 3 forudgående år",
        "Contact with the system in the previous 3 years",
    ),
    "female": ("Kvinder", "Women"),
    "non_western": ("Ikke-vestlig oprindelse", "Non-western origin"),
    "paid_hours_any": ("Har løntimer", "Has paid hours"),
    "education_basic": ("Grundskole", "Compulsory schooling"),
    "age_50plus": ("50 år og derover", "Aged 50 or more"),
}

LEVELS: dict[str, dict[str, tuple[str, str]]] = {
    "sex": dict(SEX),
    "origin": {
        **dict(ORIGIN),
        "non_western_menapt": ("Ikke-vestlig, MENAPT", "Non-western, MENAPT"),
        "non_western_other": ("Ikke-vestlig, øvrige", "Non-western, other"),
    },
    "education": dict(EDUCATION),
    "age_group": {
        "lt30": ("Under 30 år", "Under 30"),
        "30_39": ("30-39 år", "30-39"),
        "40_49": ("40-49 år", "40-49"),
        "50_59": ("50-59 år", "50-59"),
        "ge60": ("60 år og derover", "60 or more"),
    },
}


def characteristic(name: object, level: object = "yes", lang: Lang = "da") -> str:
    """``Oprindelse: ikke-vestlig, MENAPT``; a binary characteristic (level ``yes``) by its name."""
    head = label(name, lang, CHARACTERISTICS)
    if str(level) in ("yes", "True", "true", "1", "nan", "None"):
        return head
    lv = LEVELS.get(str(name), {}).get(str(level))
    lv_text = (lv[0] if lang == "da" else lv[1]) if lv else str(level)
    keep = lv_text[:2].isupper()  # abbreviations such as MENAPT
    return f"{head}: {lv_text if keep else lv_text[0].lower() + lv_text[1:]}"


EFFORTS: dict[str, tuple[str, str]] = {
    "share_activated": ("Andel af tiden i tilbud", "Share of time in an offer"),
    "mean_share_activated": ("Gns. andel af tiden i tilbud", "Mean share of time in an offer"),
    **{
        f"share_activated_{code}": (f"Andel af tiden: {da.lower()}", f"Share of time: {en.lower()}")
        for code, (da, en) in OFFER_TYPE.items()
    },
    "job_conversations_per_year": ("Jobsamtaler pr. år", "Job conversations per year"),
    "conversations_per_year": ("Samtaler pr. år", "Conversations per year"),
    "share_min_conversations": (
        "Mindst 8 jobsamtaler på 2 år",
        "At least 8 job conversations in 2 years",
    ),
    "share_passive_over_1y": (
        "Over et år uden tilbud uden fritagelse",
        "Over a year without an offer while not exempt",
    ),
    "share_exempt": ("Fritaget på et tidspunkt", "Exempt at some point"),
    "share_interrupted_absence": ("Tilbud afbrudt pga. fravær", "Offer interrupted by absence"),
    "share_interrupted": ("Tilbud afbrudt", "Offer interrupted"),
    "share_employment_offer": ("I virksomhedsrettet tilbud", "In an employment offer"),
    "share_paid_hours": ("Har haft løntimer", "Has had paid hours"),
    "share_paid_hours_month": ("Løntimer i referencemåneden", "Paid hours in the reference month"),
    "share_coordinated": ("Koordineret indsats (mentor)", "Coordinated effort (mentor)"),
}
"""Columns of ``reproduction/efforts.csv`` and ``continuity.csv`` (shares and rates)."""

PATHWAY_MEASURES: dict[str, tuple[str, str]] = {
    "all_kh": ("På kontanthjælp i alle halvår", "On social assistance in all half-years"),
    "ever": ("Nogensinde i tilstanden", "Ever in the state"),
    "last": ("Tilstand i sidste halvår", "State in the last half-year"),
    "first_exit": ("Første afgang", "First exit"),
}

POPULATIONS: dict[str, tuple[str, str]] = {
    "stock": ("Bestanden", "The stock"),
    "case_review": ("Sagsgennemgangen", "The case review"),
}


def population(code: object, lang: Lang = "da") -> str:
    """``stock_2021-11-30`` as ``Bestanden 30. november 2021``."""
    from .fmt import fmt_date

    text = str(code)
    kind, _, date = text.rpartition("_")
    if kind in POPULATIONS and date[:2] in ("19", "20"):
        return f"{label(kind, lang, POPULATIONS)} {fmt_date(date, lang)}"
    return label(text, lang, POPULATIONS)


ESTIMATORS: dict[str, tuple[str, str]] = {
    "naive": ("Naiv Cox", "Naive Cox"),
    "adjusted": ("Justeret Cox", "Adjusted Cox"),
    "msm_ipw": ("MSM (IPT-vægte)", "MSM (IPT weights)"),
    "msm_iptw": ("MSM (IPT-vægte)", "MSM (IPT weights)"),
    "dr_msm": (
        "Dobbelt robust Cox (krydstilpassede vægte)",
        "Doubly robust Cox (cross-fitted weights)",
    ),
    "gformula": ("G-beregning", "G-computation"),
    "departure_iv": ("Sagsbehandlerafgang", "Case-worker departures"),
    # diagnostics of the effects simulation study (benchmarks/bench_effects.py), not estimators
    # run on a register
    "adjusted_true_subgroup": (
        "Diagnose: justeret Cox + sand latent gruppe",
        "Diagnostic: adjusted Cox + true latent group",
    ),
    "adjusted_day_clock": (
        "Diagnose: justeret Cox på dagsur",
        "Diagnostic: adjusted Cox on the day clock",
    ),
}

EXPOSURES: dict[str, tuple[str, str]] = {
    "caseworker_change": ("Sagsbehandlerskift", "Case-worker change"),
    "caseworker_change_12m": ("Sagsbehandlerskift", "Case-worker change"),
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

EFFECT_GROUPS: dict[str, tuple[str, str]] = {
    "seniority_at_entry": ("Anciennitet ved start", "Seniority at entry"),
    "target_group": ("Målgruppe", "Target group"),
    "match_group_at_entry": ("Matchgruppe ved start", "Match group at entry"),
    "nonwestern_women": ("Kvinder, ikke-vestlig oprindelse", "Women of non-western origin"),
    "danish_men_substance": (
        "Mænd, dansk oprindelse, misbrug",
        "Danish-origin men, substance abuse",
    ),
    "psychiatric_diagnosis": ("Psykiatrisk diagnose (øvrige)", "Psychiatric diagnosis (others)"),
    "other": ("Øvrige", "Others"),
    "activity_ready": ("Aktivitetsparat", "Activity-ready"),
    "job_ready": ("Jobparat", "Job-ready"),
}
"""Groupings and groups of the effect-modification table (analysis.effects.study.EFFECT_GROUPS)."""

ATTACHMENT: dict[str, tuple[str, str]] = {
    "low": ("Lav kontakt før", "Low prior contact"),
    "high": ("Høj kontakt før", "High prior contact"),
    "attachment": ("Tidligere tilknytning", "Prior attachment"),
    "seniority_group": ("Anciennitet", "Seniority"),
}

MODEL_TERMS: dict[str, tuple[str, str]] = {
    "age_entry": ("Alder ved start", "Age at entry"),
    "cw_changes_12m": ("Sagsbehandlerskift, 12 mdr.", "Case-worker changes, 12 months"),
    "conv_3m": ("Samtaler, 3 mdr.", "Conversations, 3 months"),
    "in_activation": ("I aktivering", "In activation"),
    "exempt_illness": ("Fritaget (sygdom)", "Exempt (illness)"),
    "has_paid_hours": ("Har løntimer", "Has paid hours"),
}
"""Covariates of the cause-specific Cox models (pipelines.survival.BASELINE, TIME_VARYING) not
named in another table."""

_ALL = (
    STATES,
    SENIORITY,
    CHARACTERISTICS,
    EFFORTS,
    ESTIMATORS,
    EXPOSURES,
    SCENARIOS,
    ATTACHMENT,
    PATHWAY_MEASURES,
    EFFECT_GROUPS,
    MODEL_TERMS,
)

# Aliases: names the producing stages may use for the same thing.
ROBUST_ESTIMATORS: tuple[str, ...] = ("msm_ipw", "msm_iptw", "gformula", "adjusted")
CASEWORKER_EXPOSURES: tuple[str, ...] = (
    "caseworker_change",
    "caseworker_change_12m",
    "any_change_12m",
)
CONVERSATION_EXPOSURES: tuple[str, ...] = ("conversations_3m", "legal_minimum")


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


def term(code: object, lang: Lang = "da") -> str:
    """Name of a model term: a formula factor ``C(sex)`` is named as ``sex``."""
    key = str(code)
    if key.startswith("C(") and key.endswith(")"):
        key = key[2:-1]
    return label(key, lang)


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


STAR_STATISTICS_DA: dict[str, str] = {
    "R1": "Andel med mindst 5 års uafbrudt anciennitet",
    "R2": "Andel med kontakt med systemet de 3 år før forløbet",
    "R3": "Andel med psykiatrisk diagnose",
    "R4": "Børn anbragt eller forebyggende foranstaltning (blandt forældre)",
    "R5": "Langvarige: flere kvinder, flere ikke-vestlige, kortere uddannelse",
    "R6": "Andel af tiden i tilbud de seneste to år",
    "R7": "Mindst 8 jobsamtaler på to år",
    "R8": "Andel med løntimer",
    "R9": "Over et år uden tilbud uden at være fritaget",
    "R10": "Fritaget på et tidspunkt de seneste to år",
    "R11": "Tilbud afbrudt pga. fravær",
    "R12": "I virksomhedsrettet tilbud de seneste to år",
    "R13": "Kohorten: på kontanthjælp i alle fire halvår",
    "R14": "Kohorten: afgang til beskæftigelse",
    "R15": "Kohorten: afgang til anden forsørgelse",
    "R16": "Undergrupper i sagsgennemgangen",
    "R17": "Et sagsbehandlerskift: ændring i jobchancen",
    "R18": "Færre skift: flere samtaler, mere koordinering, færre afbrudte tilbud",
    "R19": "Antal på kontanthjælp",
    "R20": "København: udsatte kontanthjælpsmodtagere",
    "R21": "Slagelse: aktivitetsparate med over 10 år",
    "R22": "Sagsstamme pr. sagsbehandler (aktivitetsparate)",
}
"""Danish names of the STAR 2022 statistics (BRIEF section 3); the results file's own
``statistic`` text is used in English documents and for unknown ids."""

STAR_PARTS: dict[str, tuple[str, str]] = {
    "all": ("", ""),
    "lt1": ("under 1 år", "under 1 year"),
    "ge5": ("5 år og derover", "5 years or more"),
    "case_review": ("sagsgennemgangen", "case review"),
    "municipal_p10": ("laveste kommuner (10 %-fraktil)", "lowest municipalities (10th percentile)"),
    "municipal_p90": (
        "højeste kommuner (90 %-fraktil)",
        "highest municipalities (90th percentile)",
    ),
    "fp": ("førtidspension", "disability pension"),
    "rf": ("ressourceforløb", "rehabilitation"),
    "self_support": ("selvforsørgelse", "self-support"),
    "non_western_women": ("ikke-vestlige kvinder", "non-western women"),
    "danish_men_50_substance": (
        "danske mænd 50+ med misbrug",
        "Danish men 50+ with substance abuse",
    ),
    "change": ("ændring", "change"),
    "count": ("antal", "count"),
    "ge3y": ("over 3 år", "over 3 years"),
    "ge10y": ("over 10 år", "over 10 years"),
    "slagelse": ("Slagelse", "Slagelse"),
    "comparison": ("sammenligningskommuner", "comparison municipalities"),
    "mean_days": ("gns. varighed, dage", "mean duration, days"),
    "typical": ("typisk", "typical"),
    "over_200": ("kommuner med over 200", "municipalities over 200"),
}


def star_statistic(row_id: object, part: object, text: object, lang: Lang = "da") -> str:
    """Reader-facing name of a row of ``star2022.csv``.

    English: the file's own ``statistic`` text (it names the part). Danish: the Danish name of the
    statistic with the part in brackets, e.g. ``Andel med psykiatrisk diagnose (under 1 år)``.
    """
    if lang != "da" or str(row_id) not in STAR_STATISTICS_DA:
        return str(text)
    base = STAR_STATISTICS_DA[str(row_id)]
    p = "all" if part is None or str(part) in ("", "nan", "None") else str(part)
    suffix = STAR_PARTS.get(p, (p, p))[0]
    return f"{base} ({suffix})" if suffix else base

"""Profiles of the groups: prevalence of every indicator level by group, lift, disclosure control,
and automatic plain-language labels (Danish, with an English alternative).

A *profile* is a long table with one row per group and indicator level: the persons in the group
(``n``), those with the level (``n_level``), their share, the share in the whole population
(``overall_share``) and the ``lift`` (share / overall share). Groups are the modal latent classes
(every person counted once), so the table holds person counts that disclosure control can check.

Labels name a group by its most distinctive characteristics. A *term* is one level or a union of
levels of an indicator with a phrase (``TERMS``: e.g. origin ``non_western_menapt`` +
``non_western_other`` = "ikke-vestlig oprindelse"). A term describes a group when at least
``min_share`` of the group has it and its lift is at least ``min_lift``; among those, at most one
term per indicator (the highest score) and at most ``max_terms`` terms (highest scores) are used,
where score = share x log(lift) (the term's contribution to the divergence of the group from the
population). Terms are written in a fixed order (sex, age, origin, education, then the rest), the
first capitalised: "Kvinder, ikke-vestlig oprindelse, grundskole".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.disclosure import suppress, suppressed_share

ALL = "all"


def profile_table(
    data: pd.DataFrame,
    groups: np.ndarray | pd.Series,
    indicators: Sequence[str],
) -> pd.DataFrame:
    """Prevalence of each indicator level by group (unsuppressed).

    Parameters
    ----------
    data
        One row per person with categorical indicator columns.
    groups
        Group of each row (e.g. modal class 1..K), aligned with ``data``.
    indicators
        Columns to profile; every level of a pandas categorical is listed (also when empty).

    Returns
    -------
    ``group, indicator, level, n, n_level, share, overall_share, lift``; ``group`` is a string
    (``all`` for the whole population, first), missing values of an indicator are left out of its
    ``n`` (so the levels of an indicator partition ``n``).
    """
    require_columns(data, list(indicators), "profile data")
    g = pd.Series(np.asarray(groups), index=data.index).astype(str)
    order = [ALL, *sorted(pd.unique(g), key=lambda x: (len(x), x))]
    frames = []
    for ind in indicators:
        col = data[ind]
        levels = (
            [str(c) for c in col.cat.categories]
            if isinstance(col.dtype, pd.CategoricalDtype)
            else sorted(pd.unique(col.dropna().astype(str)))
        )
        val = col.astype(object).where(col.notna(), None)
        val = pd.Series([None if v is None else str(v) for v in val], index=data.index)
        ok = val.notna()
        tab = pd.crosstab(g[ok], val[ok]).reindex(columns=levels, fill_value=0)
        tab.loc[ALL] = tab.sum(axis=0)
        tab = tab.reindex(order, fill_value=0)
        long = tab.stack().rename("n_level").reset_index()
        long.columns = ["group", "level", "n_level"]
        long["n"] = long["group"].map(tab.sum(axis=1))
        long.insert(1, "indicator", ind)
        frames.append(long)
    out = pd.concat(frames, ignore_index=True)
    out["n"] = out["n"].astype("int64")
    out["n_level"] = out["n_level"].astype("int64")
    out["share"] = suppressed_share(out["n_level"], out["n"])
    out = _add_overall(out)
    return out[["group", "indicator", "level", "n", "n_level", "share", "overall_share", "lift"]]


def _add_overall(table: pd.DataFrame) -> pd.DataFrame:
    out = table.drop(columns=[c for c in ("overall_share", "lift") if c in table.columns])
    overall = out.loc[out["group"] == ALL, ["indicator", "level", "share"]].rename(
        columns={"share": "overall_share"}
    )
    out = out.merge(overall, on=["indicator", "level"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lift"] = out["share"].astype(float) / out["overall_share"].astype(float)
    out.loc[~np.isfinite(out["lift"]), "lift"] = np.nan
    return out


def publish_profiles(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """:func:`profile_table` after primary and secondary suppression.

    Lines: the levels of an indicator partition the group's ``n``; the groups' counts of a level add
    up to the ``all`` row; the groups' ``n`` add up to the ``all`` ``n``. Shares and lifts of
    suppressed counts become missing (and the overall share / lift are recomputed from what is
    published).
    """
    out = suppress(
        table.drop(columns=["overall_share", "lift"]),
        {"n_level": ["share"]},
        denominator="n",
        denominator_keys=["group", "indicator"],
        partitions=[["group", "indicator"]],
        lines=[["indicator", "level"]],
        denominator_lines=[["indicator"]],
        threshold=threshold,
    )
    out = _add_overall(out)
    cols = ["group", "indicator", "level", "n", "n_level", "share", "overall_share", "lift"]
    return out[cols + [c for c in out.columns if c not in cols]]


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A describable characteristic: one or more levels of an indicator and its phrases."""

    indicator: str
    levels: tuple[str, ...]
    da: str
    en: str


def _t(ind: str, levels: str, da: str, en: str) -> Term:
    return Term(ind, tuple(levels.split("|")), da, en)


#: Phrases of the label terms, in the order labels are written (by indicator).
TERMS: tuple[Term, ...] = (
    _t("sex", "F", "kvinder", "women"),
    _t("sex", "M", "mænd", "men"),
    _t("age_band", "18-29", "under 30 år", "under 30"),
    _t("age_band", "18-29|30-39", "under 40 år", "under 40"),
    _t("age_band", "40-49|50+", "40 år og derover", "aged 40+"),
    _t("age_band", "50+", "50 år og derover", "aged 50+"),
    _t("origin", "danish", "dansk oprindelse", "Danish origin"),
    _t("origin", "western", "vestlig oprindelse", "Western origin"),
    _t("origin", "non_western_menapt|non_western_other", "ikke-vestlig oprindelse", "non-Western origin"),
    _t("origin", "non_western_menapt", "oprindelse i MENAPT-lande", "MENAPT origin"),
    _t("education", "basic", "grundskole", "basic schooling only"),
    _t("education", "basic|unknown", "grundskole eller uoplyst uddannelse", "basic or unrecorded schooling"),
    _t("education", "unknown", "uoplyst uddannelse", "education not recorded"),
    _t("education", "upper_secondary|vocational|higher", "uddannelse ud over grundskolen", "education beyond basic schooling"),
    _t("education", "vocational", "erhvervsuddannelse", "vocational education"),
    _t("education", "higher", "videregående uddannelse", "higher education"),
    _t("debut_age", "18-21|22-24", "startede på kontanthjælp før 25 år", "first on social assistance before 25"),
    _t("debut_age", "18-21", "startede på kontanthjælp før 22 år", "first on social assistance before 22"),
    _t("debut_age", "30-34|35-39|40-49|50+", "startede på kontanthjælp efter 30 år", "first on social assistance after 30"),
    _t("debut_age", "35-39|40-49|50+", "startede på kontanthjælp efter 35 år", "first on social assistance after 35"),
    _t("debut_age", "40-49|50+", "startede på kontanthjælp efter 40 år", "first on social assistance after 40"),
    _t("psychiatric_diagnosis", "yes", "psykisk diagnose", "psychiatric diagnosis"),
    _t("psychiatric_diagnosis", "no", "ingen psykisk diagnose", "no psychiatric diagnosis"),
    _t("substance_abuse_treatment", "yes", "misbrugsbehandling", "substance-abuse treatment"),
    _t("substance_abuse_treatment", "no", "ingen misbrugsbehandling", "no substance-abuse treatment"),
    _t("children", "not_placed|placed", "har børn", "with children"),
    _t("children", "none", "ingen børn", "no children"),
    _t("children", "placed", "børn anbragt eller med forebyggende foranstaltning", "children placed or in preventive care"),
    _t("seniority", "10-14|15+", "mindst 10 år på kontanthjælp", "10+ years on social assistance"),
    _t("seniority", "15+", "mindst 15 år på kontanthjælp", "15+ years on social assistance"),
    _t("prior_contact", "yes", "tidligere forløb inden for 3 år", "earlier spell within 3 years"),
)  # fmt: skip

FALLBACK = {"da": "blandet profil", "en": "mixed profile"}

#: Readable names of the indicators and their levels (Danish, English), for tables and figures.
INDICATOR_NAMES: dict[str, tuple[str, str]] = {
    "sex": ("Køn", "Sex"),
    "age_band": ("Alder", "Age"),
    "origin": ("Oprindelse", "Origin"),
    "education": ("Uddannelse", "Education"),
    "psychiatric_diagnosis": ("Psykisk diagnose", "Psychiatric diagnosis"),
    "substance_abuse_treatment": ("Misbrugsbehandling", "Substance-abuse treatment"),
    "children": ("Børn", "Children"),
    "debut_age": ("Alder ved første kontanthjælp", "Age when first on social assistance"),
    "seniority": ("År i nuværende forløb", "Years in current spell"),
    "prior_contact": ("Forløb i de 3 år før", "Spell in the 3 years before"),
}
LEVEL_NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("sex", "F"): ("kvinde", "woman"),
    ("sex", "M"): ("mand", "man"),
    ("origin", "danish"): ("dansk", "Danish"),
    ("origin", "western"): ("vestlig", "Western"),
    ("origin", "non_western_menapt"): ("ikke-vestlig, MENAPT", "non-Western, MENAPT"),
    ("origin", "non_western_other"): ("ikke-vestlig, øvrige", "non-Western, other"),
    ("education", "basic"): ("grundskole", "basic schooling"),
    ("education", "upper_secondary"): ("gymnasial", "upper secondary"),
    ("education", "vocational"): ("erhvervsfaglig", "vocational"),
    ("education", "higher"): ("videregående", "higher"),
    ("education", "unknown"): ("uoplyst", "not recorded"),
    ("children", "none"): ("ingen børn", "no children"),
    ("children", "not_placed"): ("børn, ikke anbragt", "children, not placed"),
    ("children", "placed"): ("børn anbragt / forebyggende", "children placed / preventive care"),
    ("debut_age", "before_window"): (
        "ukendt (før registerets start)",
        "unknown (before the register)",
    ),
}
YES_NO_NAMES = {"yes": ("ja", "yes"), "no": ("nej", "no")}


def row_names(profile: pd.DataFrame, language: str = "da") -> pd.Series:
    """Readable ``Indicator: level`` names of the rows of a profile table."""
    j = 0 if language == "da" else 1
    out = []
    for ind, lev in zip(profile["indicator"], profile["level"].astype(str), strict=True):
        name = INDICATOR_NAMES.get(ind, (ind, ind))[j]
        level = LEVEL_NAMES.get((ind, lev), YES_NO_NAMES.get(lev, (lev, lev)))[j]
        if ind in ("age_band", "debut_age") and (ind, lev) not in LEVEL_NAMES:
            level = f"{lev} år" if language == "da" else lev
        elif ind == "seniority":
            level = f"{lev} år" if language == "da" else f"{lev} years"
        out.append(f"{name}: {level}")
    return pd.Series(out, index=profile.index)


GROUP_WORD = {"da": "gruppe", "en": "group"}


def term_scores(profile: pd.DataFrame, terms: Sequence[Term] = TERMS) -> pd.DataFrame:
    """Share, overall share, lift and score of every term in every group (``all`` excluded).

    Terms whose indicator is not in the profile, or with a suppressed level share, are left out.
    """
    require_columns(profile, ["group", "indicator", "level", "share", "overall_share"], "profile")
    p = profile[profile["group"] != ALL]
    rows = []
    order = {id(t): i for i, t in enumerate(terms)}
    for t in terms:
        sel = p[(p["indicator"] == t.indicator) & p["level"].astype(str).isin(t.levels)]
        if sel.empty:
            continue
        width = len(t.levels)
        agg = sel.groupby("group", sort=False).agg(
            share=("share", lambda s, m=width: s.sum(min_count=m)),
            overall=("overall_share", lambda s, m=width: s.sum(min_count=m)),
            k=("level", "size"),
        )
        agg = agg[agg["k"] == width]
        for g, r in agg.iterrows():
            rows.append(
                {
                    "group": g,
                    "indicator": t.indicator,
                    "levels": "|".join(t.levels),
                    "da": t.da,
                    "en": t.en,
                    "share": r["share"],
                    "overall_share": r["overall"],
                    "order": order[id(t)],
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lift"] = out["share"].astype(float) / out["overall_share"].astype(float)
        out["score"] = out["share"].astype(float) * np.log(out["lift"].astype(float))
    return out


def _phrase(parts: list[str]) -> str:
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


def label_groups(
    profile: pd.DataFrame,
    *,
    language: str = "da",
    max_terms: int = 3,
    min_share: float = 0.5,
    min_lift: float = 1.25,
    terms: Sequence[Term] = TERMS,
) -> pd.DataFrame:
    """Plain-language label of each group from its most distinctive terms (module docstring).

    Parameters
    ----------
    profile
        A (possibly suppressed) :func:`profile_table`.
    language
        ``da`` or ``en``.
    max_terms, min_share, min_lift
        At most this many terms; a term needs at least ``min_share`` of the group (share, 0-1) and a
        lift of at least ``min_lift``.

    Returns
    -------
    ``group, label, label_da, label_en, terms`` (terms: ``indicator=levels`` joined by ``;``).
    Labels are unique: when two groups would get the same words, the next best terms are added,
    and as a last resort the group number.
    """
    if language not in ("da", "en"):
        raise ValueError("language must be 'da' or 'en'")
    scores = term_scores(profile, terms)
    groups = [g for g in pd.unique(profile["group"]) if g != ALL]
    chosen: dict[str, pd.DataFrame] = {}
    ranked: dict[str, pd.DataFrame] = {}
    for g in groups:
        s = scores[scores["group"] == g] if len(scores) else scores
        if len(s):
            s = s[(s["share"] >= min_share) & (s["lift"] >= min_lift)]
            s = s.sort_values(["score", "order"], ascending=[False, True], kind="mergesort")
            s = s.drop_duplicates("indicator")
        ranked[g] = s
        chosen[g] = s.head(max_terms)

    def text(sel: pd.DataFrame, lang: str) -> str:
        if sel.empty:
            return _phrase([FALLBACK[lang]])
        return _phrase(list(sel.sort_values("order", kind="mergesort")[lang]))

    # make labels unique by adding terms
    for _ in range(10):
        texts = {g: text(chosen[g], "da") for g in groups}
        dup = {g for g in groups if list(texts.values()).count(texts[g]) > 1}
        grown = False
        for g in dup:
            if len(chosen[g]) < len(ranked[g]):
                chosen[g] = ranked[g].head(len(chosen[g]) + 1)
                grown = True
        if not grown:
            break
    rows = []
    for g in groups:
        da, en = text(chosen[g], "da"), text(chosen[g], "en")
        rows.append(
            {
                "group": g,
                "label_da": da,
                "label_en": en,
                "terms": ";".join(f"{r.indicator}={r.levels}" for r in chosen[g].itertuples()),
            }
        )
    out = pd.DataFrame(rows)
    for lang in ("da", "en"):
        col = out[f"label_{lang}"]
        dup = col.duplicated(keep=False)
        out.loc[dup, f"label_{lang}"] = (
            col[dup] + " (" + GROUP_WORD[lang] + " " + out["group"][dup] + ")"
        )
    out.insert(1, "label", out[f"label_{language}"])
    return out


def find_case_review_groups(
    data: pd.DataFrame,
    groups: np.ndarray | pd.Series,
    definitions: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> pd.DataFrame:
    """The groups that best match the case review's two subgroups (BRIEF R16), by profile.

    For each definition (indicator -> accepted levels, all must hold) the group with the highest
    share of persons meeting it is the match. Default definitions: ``non_western_women`` (women of
    non-Western origin) and ``danish_men_substance`` (men of Danish origin in substance-abuse
    treatment).

    Returns
    -------
    ``definition, group, share_meeting`` (share of the matched group meeting the definition) and
    ``share_of_definition`` (share of everyone meeting the definition who is in the group).
    """
    defs = definitions or {
        "non_western_women": {
            "sex": ["F"],
            "origin": ["non_western_menapt", "non_western_other"],
        },
        "danish_men_substance": {
            "sex": ["M"],
            "origin": ["danish"],
            "substance_abuse_treatment": ["yes"],
        },
    }
    g = pd.Series(np.asarray(groups), index=data.index).astype(str)
    rows = []
    for name, cond in defs.items():
        require_columns(data, list(cond), "data")
        meet = np.ones(len(data), dtype=bool)
        for ind, levels in cond.items():
            meet &= data[ind].astype(object).astype(str).isin([str(v) for v in levels]).to_numpy()
        share = pd.Series(meet, index=data.index).groupby(g).mean()
        best = str(share.idxmax())
        rows.append(
            {
                "definition": name,
                "group": best,
                "share_meeting": float(share.max()),
                "share_of_definition": float((g[meet] == best).mean()) if meet.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)

"""One-sentence readings of figures and tables, generated from the numbers.

Each function takes the (protected) results table and returns one sentence in the document's
language, or ``None`` when the table does not hold what the sentence needs (then the document
prints nothing rather than a wrong sentence). Numbers are formatted by :mod:`.fmt`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import labels
from .fmt import Lang, fmt_int, fmt_pct, fmt_pp, fmt_ratio


def _t(lang: Lang, da: str, en: str) -> str:
    return da if lang == "da" else en


def _end(text: str) -> str:
    """End a sentence with one full stop (amounts like ``mio. kr.`` already end with one)."""
    return text if text.endswith(".") else text + "."


def _num(x: object) -> float:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return v


LONG_TERM_GROUPS = ("5_10", "ge10")


def step_value(curve: pd.DataFrame, t: float, time: str = "time", value: str = "estimate") -> float:
    """Value of a right-continuous step curve at time ``t`` (last point at or before ``t``)."""
    before = curve[curve[time] <= t].sort_values(time)
    if before.empty:
        return 0.0
    return _num(before[value].iloc[-1])


def share_long_term(stock: pd.DataFrame, year: int) -> float:
    """Share of the stock in ``year`` with at least five years' seniority (NaN if suppressed)."""
    sub = stock[(stock["year"] == year) & stock["seniority_group"].isin(LONG_TERM_GROUPS)]
    if sub.empty or sub["share"].isna().any():
        return float("nan")
    return float(sub["share"].sum())


def stock(stock: pd.DataFrame, year: int, lang: Lang) -> str | None:
    """How many were on KH in ``year`` and what share had five years or more, vs the year before."""
    cur = stock[stock["year"] == year]
    if cur.empty:
        return None
    total = _num(cur["n"].iloc[0])
    lt = share_long_term(stock, year)
    if np.isnan(lt):
        return None
    earlier = sorted(y for y in stock["year"].unique() if y < year)
    text = _t(
        lang,
        f"I {year} var {fmt_int(total, lang)} personer i kontanthjælpssystemet, og "
        f"{fmt_pct(lt, lang)} af dem havde været der uafbrudt i mindst fem år",
        f"In {year}, {fmt_int(total, lang)} persons were in the social-assistance system, and "
        f"{fmt_pct(lt, lang)} of them had been there without a break for at least five years",
    )
    if earlier:
        prev = earlier[-1]
        lt_prev = share_long_term(stock, prev)
        if not np.isnan(lt_prev):
            text += _t(
                lang,
                f" (mod {fmt_pct(lt_prev, lang)} i {prev}).",
                f" (against {fmt_pct(lt_prev, lang)} in {prev}).",
            )
            return text
    return text + "."


def characteristics(
    ch: pd.DataFrame, lang: Lang, short: str = "lt1", long_: str = "ge5"
) -> str | None:
    """The characteristic whose share differs most between the shortest and the long spells."""
    sub = ch.dropna(subset=["share"])
    sub = sub[~((sub["characteristic"] == "sex") & (sub["level"].astype(str) == "M"))]
    key = sub["characteristic"].astype(str) + "|" + sub["level"].astype(str)
    wide = sub.assign(key=key).pivot_table(index="key", columns="seniority_group", values="share")
    if short not in wide or long_ not in wide:
        return None
    diff = (wide[long_] - wide[short]).dropna()
    if diff.empty:
        return None
    top = diff.abs().idxmax()
    name, level = top.split("|", 1)
    what = labels.characteristic(name, level, lang)
    s, lg = wide.loc[top, short], wide.loc[top, long_]
    g_short = labels.label(short, lang, labels.SENIORITY).lower()
    g_long = labels.label(long_, lang, labels.SENIORITY).lower()
    return _t(
        lang,
        f"Den største forskel mellem korte og lange forløb ses for »{what}«: {fmt_pct(s, lang)} "
        f"blandt dem med {g_short} i systemet mod {fmt_pct(lg, lang)} blandt dem med {g_long}.",
        f"The largest difference between short and long spells is in '{what}': "
        f"{fmt_pct(s, lang)} among those with {g_short} in the system against {fmt_pct(lg, lang)} "
        f"among those with {g_long}.",
    )


def efforts(ef: pd.DataFrame, lang: Lang) -> str | None:
    """Job conversations and passive periods in the case review (long-term recipients)."""
    review = sorted(p for p in ef["population"].astype(str).unique() if p.startswith("case_review"))
    if not review:
        return None
    row = ef[(ef["population"] == review[-1]) & (ef["group_type"] == "all")]
    need = ("share_min_conversations", "share_passive_over_1y")
    if row.empty or any(c not in row for c in need) or row[list(need)].isna().any(axis=None):
        return None
    conv, passive = row["share_min_conversations"].iloc[0], row["share_passive_over_1y"].iloc[0]
    return _t(
        lang,
        f"Blandt de langvarige i sagsgennemgangen havde {fmt_pct(conv, lang)} mindst otte "
        f"jobsamtaler på to år, mens {fmt_pct(passive, lang)} havde en periode på over et år uden "
        f"tilbud, selv om de ikke var fritaget.",
        f"Among the long-term recipients of the case review, {fmt_pct(conv, lang)} had at least "
        f"eight job conversations in two years, while {fmt_pct(passive, lang)} spent over a year "
        f"without an offer although they were not exempt.",
    )


def municipality_spread(df: pd.DataFrame, measure: str, lang: Lang) -> str | None:
    """The range of a municipality-level share (rows ``group_type == municipality``)."""
    sub = df[df["group_type"] == "municipality"].dropna(subset=[measure])
    if len(sub) < 2:
        return None
    lo, hi = fmt_pct(sub[measure].min(), lang), fmt_pct(sub[measure].max(), lang)
    name = labels.label(measure, lang, labels.EFFORTS)
    what = _t(lang, f"»{name}«", f"'{name}'")
    if measure == "share_paid_hours":
        what = _t(lang, "med løntimer", "with paid hours")
    return _t(
        lang,
        f"Andelen {what} varierer fra {lo} til {hi} mellem de {len(sub)} kommuner, der har "
        f"personer nok til at blive vist.",
        f"The share {what} ranges from {lo} to {hi} across the {len(sub)} municipalities with "
        f"enough persons to be shown.",
    )


def hovedveje(hv: pd.DataFrame, cohort: str, lang: Lang) -> str | None:
    """Share on KH in all half-years and share in a job in the last half-year (whole cohort)."""
    sub = hv[(hv["group_type"] == "all")]
    all_kh = sub[sub["measure"] == "all_kh"]["share"]
    job = sub[(sub["measure"] == "last") & (sub["state"] == "job")]["share"]
    if all_kh.empty or job.empty or pd.isna(all_kh.iloc[0]) or pd.isna(job.iloc[0]):
        return None
    return _t(
        lang,
        f"{fmt_pct(all_kh.iloc[0], lang)} af kohorten fra {cohort} var på kontanthjælp i alle fire "
        f"halvår, og {fmt_pct(job.iloc[0], lang)} var i job i det sidste halvår.",
        f"{fmt_pct(all_kh.iloc[0], lang)} of the {cohort} cohort were on social assistance in all "
        f"four half-years, and {fmt_pct(job.iloc[0], lang)} were in a job in the last half-year.",
    )


def cif(cif: pd.DataFrame, cohort: object, horizon: float, lang: Lang) -> str | None:
    """Cumulative incidence of the (up to three) most frequent exits at ``horizon`` months."""
    sub = cif[cif["cohort"].astype(str) == str(cohort)]
    if sub.empty:
        return None
    at = {c: step_value(g, horizon) for c, g in sub.groupby("cause", sort=False)}
    top = sorted(((c, v) for c, v in at.items() if not np.isnan(v)), key=lambda kv: -kv[1])[:3]
    if not top:
        return None
    to = _t(lang, "til", "for")
    parts = [f"{fmt_pct(v, lang)} {to} {labels.state(c, lang).lower()}" for c, v in top]
    first_share, first_rest = parts[0].split(f" {to} ", 1)
    tail = ""
    if len(parts) > 1:
        tail = ", ".join(parts[1:-1])
        tail = (", " + tail if tail else "") + _t(lang, " og ", " and ") + parts[-1]
    return _t(
        lang,
        f"{int(horizon)} måneder efter starten var {first_share} af kohorten {cohort} afgået til "
        f"{first_rest}{tail}.",
        f"{int(horizon)} months after the start, {first_share} of the {cohort} cohort had left for "
        f"{first_rest}{tail}.",
    )


def cif_compare(
    cif: pd.DataFrame, cause: str, year: object, horizon: float, lang: Lang
) -> str | None:
    """How the cumulative incidence of one exit in cohort ``year`` compares with the earlier cohorts."""
    sub = cif[cif["cause"] == cause]
    cohorts = sorted(sub["cohort"].astype(str).unique())
    if str(year) not in cohorts:
        return None
    cur = step_value(sub[sub["cohort"].astype(str) == str(year)], horizon)
    earlier = [c for c in cohorts if c < str(year)]
    name = labels.state(cause, lang).lower()
    if not earlier:
        return _t(
            lang,
            f"Efter {int(horizon)} måneder var {fmt_pct(cur, lang)} af kohorten {year} afgået til {name}.",
            f"After {int(horizon)} months, {fmt_pct(cur, lang)} of the {year} cohort had left for {name}.",
        )
    prev = earlier[-1]
    pv = step_value(sub[sub["cohort"].astype(str) == prev], horizon)
    return _t(
        lang,
        f"Efter {int(horizon)} måneder var {fmt_pct(cur, lang)} af kohorten {year} afgået til "
        f"{name}, {fmt_pp(cur - pv, lang)} i forhold til kohorten {prev}.",
        f"After {int(horizon)} months, {fmt_pct(cur, lang)} of the {year} cohort had left for "
        f"{name}, {fmt_pp(cur - pv, lang)} compared with the {prev} cohort.",
    )


def state_occupation(so: pd.DataFrame, horizon: float, lang: Lang) -> str | None:
    """Probability of still being on KH and of being in a job ``horizon`` months after the start."""
    sub = so[so["group"] == "all"] if "all" in set(so["group"]) else so
    kh = step_value(sub[sub["state"] == "kh"], horizon)
    job = step_value(sub[sub["state"] == "job"], horizon)
    if sub[sub["state"] == "kh"].empty:
        return None
    return _t(
        lang,
        f"Efter {int(horizon)} måneder er sandsynligheden for stadig at være på kontanthjælp "
        f"{fmt_pct(kh, lang)} og for at være i job {fmt_pct(job, lang)}.",
        f"After {int(horizon)} months, the probability of still being on social assistance is "
        f"{fmt_pct(kh, lang)} and of being in a job {fmt_pct(job, lang)}.",
    )


def pathways(pw: pd.DataFrame, lang: Lang) -> str | None:
    """The profile with the highest and the lowest predicted job probability at the last half-year."""
    last = pw[(pw["half_year"] == pw["half_year"].max()) & (pw["state"] == "job")]
    if len(last) < 2:
        return None
    hi = last.loc[last["probability"].idxmax()]
    lo = last.loc[last["probability"].idxmin()]
    k = int(pw["half_year"].max())
    return _t(
        lang,
        f"Efter {k} halvår er den forudsagte sandsynlighed for job {fmt_pct(hi['probability'], lang)} "
        f"for profilen »{hi['profile']}« og {fmt_pct(lo['probability'], lang)} for »{lo['profile']}«.",
        f"After {k} half-years the predicted probability of a job is "
        f"{fmt_pct(hi['probability'], lang)} for the profile '{hi['profile']}' and "
        f"{fmt_pct(lo['probability'], lang)} for '{lo['profile']}'.",
    )


def calibration(cal: pd.DataFrame, lang: Lang) -> str | None:
    """Largest absolute gap between observed and predicted state occupation."""
    if cal.empty:
        return None
    gap = (cal["observed"] - cal["predicted"]).abs()
    row = cal.loc[gap.idxmax()]
    return _t(
        lang,
        f"Den største afvigelse mellem observeret og forudsagt andel er "
        f"{fmt_pp(gap.max(), lang)} ({labels.state(row['state'], lang).lower()}, halvår "
        f"{int(row['half_year'])}).",
        f"The largest gap between observed and predicted shares is {fmt_pp(gap.max(), lang)} "
        f"({labels.state(row['state'], lang).lower()}, half-year {int(row['half_year'])}).",
    ).replace("+", "")


def effects(
    eff: pd.DataFrame, lang: Lang, exposure: str = "caseworker_change", outcome: str = "job"
) -> str | None:
    """Naive vs confounding-robust hazard ratio of an exposure (and the truth on synthetic data)."""
    exposures = (
        labels.CASEWORKER_EXPOSURES
        if exposure in labels.CASEWORKER_EXPOSURES
        else (
            labels.CONVERSATION_EXPOSURES
            if exposure in labels.CONVERSATION_EXPOSURES
            else (exposure,)
        )
    )
    present = [e for e in exposures if e in set(eff["exposure"])]
    if not present:
        return None
    exposure = present[0]
    sub = eff[(eff["exposure"] == exposure) & (eff["outcome"] == outcome)].set_index("estimator")
    if "naive" not in sub.index:
        return None
    robust = next((e for e in labels.ROBUST_ESTIMATORS if e in sub.index), None)
    if robust is None:
        return None
    n, r = sub.loc["naive"], sub.loc[robust]
    what = labels.label(exposure, lang, labels.EXPOSURES).lower()
    text = _t(
        lang,
        f"For {what} giver den naive model en hazard ratio for job på {fmt_ratio(n['estimate'], lang)}, "
        f"mens {labels.label(robust, lang, labels.ESTIMATORS)} giver {fmt_ratio(r['estimate'], lang)} "
        f"({fmt_ratio(r['conf_low'], lang)}–{fmt_ratio(r['conf_high'], lang)})",
        f"For {what}, the naive model gives a hazard ratio for a job of {fmt_ratio(n['estimate'], lang)}, "
        f"while {labels.label(robust, lang, labels.ESTIMATORS)} gives {fmt_ratio(r['estimate'], lang)} "
        f"({fmt_ratio(r['conf_low'], lang)}–{fmt_ratio(r['conf_high'], lang)})",
    )
    truth = _num(r.get("truth"))
    if not np.isnan(truth):
        text += _t(
            lang,
            f"; den sande værdi i det syntetiske register er {fmt_ratio(truth, lang)}.",
            f"; the true value in the synthetic register is {fmt_ratio(truth, lang)}.",
        )
    else:
        text += "."
    return text


def subgroups(sizes: pd.DataFrame, lang: Lang) -> str | None:
    """The two largest subgroups with their labels and shares."""
    data = sizes.dropna(subset=["share"]).sort_values("share", ascending=False)
    if len(data) < 2:
        return None
    a, b = data.iloc[0], data.iloc[1]
    return _t(
        lang,
        f"Analysen finder {len(sizes)} undergrupper; de største er »{a['label']}« "
        f"({fmt_pct(a['share'], lang)}) og »{b['label']}« ({fmt_pct(b['share'], lang)}).",
        f"The analysis finds {len(sizes)} subgroups; the largest are '{a['label']}' "
        f"({fmt_pct(a['share'], lang)}) and '{b['label']}' ({fmt_pct(b['share'], lang)}).",
    )


def reproduction(star: pd.DataFrame, lang: Lang) -> str | None:
    """How many computable STAR 2022 figures the pipeline reproduces within tolerance."""
    within = star["within"].map(_as_bool)
    computable = within.notna()
    n_comp, n_ok = int(computable.sum()), int((within == True).sum())  # noqa: E712
    if n_comp == 0:
        return None
    return _t(
        lang,
        f"Af de {len(star)} tal fra STAR 2022 kan {n_comp} beregnes fra registrene, og "
        f"{n_ok} af dem ligger inden for den fastsatte tolerance.",
        f"Of the {len(star)} figures from STAR 2022, {n_comp} can be computed from the registers, "
        f"and {n_ok} of them lie within the stated tolerance.",
    )


def _as_bool(x: object) -> bool | None:
    """``within`` as True/False, or None when the row is not computable (empty/NA)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    if isinstance(x, bool | np.bool_):
        return bool(x)
    s = str(x).strip().lower()
    if s in ("true", "1", "yes", "ja"):
        return True
    if s in ("false", "0", "no", "nej"):
        return False
    return None


def scenarios(sc: pd.DataFrame, lang: Lang) -> str | None:
    """The scenario with the most extra persons in a job."""
    data = sc.dropna(subset=["extra_in_job"])
    if data.empty:
        return None
    best = data.loc[data["extra_in_job"].idxmax()]
    from .fmt import fmt_dkk

    name = labels.label(best["scenario"], lang, labels.SCENARIOS).lower()
    return _t(
        lang,
        _end(
            f"Størst virkning har scenariet »{name}«: {fmt_int(best['extra_in_job'], lang)} flere i "
            f"job og {fmt_int(best['person_years_saved'], lang)} færre personår på kontanthjælp over "
            f"to år, svarende til {fmt_dkk(best['saving_dkk'], lang)}"
        ),
        _end(
            f"The scenario '{name}' has the largest effect: {fmt_int(best['extra_in_job'], lang)} "
            f"more persons in a job and {fmt_int(best['person_years_saved'], lang)} fewer "
            f"person-years on social assistance over two years, worth "
            f"{fmt_dkk(best['saving_dkk'], lang)}"
        ),
    )


def cif_change(
    cif: pd.DataFrame,
    year: object,
    horizon: float,
    lang: Lang,
    causes: tuple[str, ...] = ("job", "fp"),
) -> str | None:
    """How the cumulative incidence of some exits at ``horizon`` changed from the previous cohort."""
    cohorts = sorted(cif["cohort"].astype(str).unique())
    if str(year) not in cohorts or cohorts.index(str(year)) == 0:
        return None
    prev = cohorts[cohorts.index(str(year)) - 1]
    parts = []
    for cause in causes:
        sub = cif[cif["cause"] == cause]
        if sub.empty:
            continue
        cur = step_value(sub[sub["cohort"].astype(str) == str(year)], horizon)
        old = step_value(sub[sub["cohort"].astype(str) == prev], horizon)
        name = labels.state(cause, lang).lower()
        parts.append(
            _t(
                lang,
                f"afgangen til {name} {fmt_pp(cur - old, lang)}",
                f"exit to {name} {fmt_pp(cur - old, lang)}",
            )
        )
    if not parts:
        return None
    joined = (
        parts[0]
        if len(parts) == 1
        else ", ".join(parts[:-1]) + _t(lang, " og ", " and ") + parts[-1]
    )
    return _t(
        lang,
        f"Sammenlignet med kohorten {prev} ændrede {joined} sig efter {int(horizon)} måneder.",
        f"Compared with the {prev} cohort, {joined} after {int(horizon)} months.",
    )


def effects_plain(eff: pd.DataFrame, lang: Lang) -> str | None:
    """The confounding-robust effects in plain language (for the policy brief)."""
    robust = next((e for e in labels.ROBUST_ESTIMATORS if e in set(eff["estimator"])), None)
    if robust is None:
        return None
    sub = eff[(eff["estimator"] == robust) & (eff["outcome"] == "job")].set_index("exposure")
    parts = []
    cw = next((e for e in labels.CASEWORKER_EXPOSURES if e in sub.index), None)
    if cw is not None:
        r = sub.loc[cw]
        change = 1 - _num(r["estimate"])
        parts.append(
            _t(
                lang,
                f"Når en borger skifter sagsbehandler, bliver den løbende chance for at komme i job "
                f"omkring {fmt_pct(change, lang)} {'mindre' if change > 0 else 'større'}",
                f"When a citizen changes case worker, the ongoing chance of getting a job becomes about "
                f"{fmt_pct(abs(change), lang)} {'lower' if change > 0 else 'higher'}",
            )
        )
    if "conversations_3m" in sub.index:
        r = sub.loc["conversations_3m"]
        change = _num(r["estimate"]) - 1
        parts.append(
            _t(
                lang,
                f"flere samtaler gør den omkring {fmt_pct(abs(change), lang)} "
                f"{'større' if change > 0 else 'mindre'}",
                f"more conversations make it about {fmt_pct(abs(change), lang)} "
                f"{'higher' if change > 0 else 'lower'}",
            )
        )
    if not parts:
        return None
    text = parts[0] if len(parts) == 1 else parts[0] + _t(lang, ", og ", ", and ") + parts[1]
    return text + "."


def trend_change(trends: pd.DataFrame, year: int, lang: Lang) -> str | None:
    """One plain sentence on the change since the year before: the long-term share of the stock
    and the cohort's job exits (``trends.csv``; None when the year before is not there)."""

    def share(stat: str, part: str, y: int) -> float:
        r = trends[(trends["statistic"] == stat) & (trends["part"] == part) & (trends["year"] == y)]
        return _num(r["share"].iloc[0]) if len(r) else float("nan")

    prev = year - 1
    lt, lt0 = share("R1", "all", year), share("R1", "all", prev)
    job, job0 = share("R14", "all", year), share("R14", "all", prev)
    if np.isnan(lt) or np.isnan(lt0):
        return None

    def moved(a: float, b: float) -> tuple[str, str]:
        if abs(b - a) < 0.005:
            return "stort set uændret", "about unchanged"
        return ("steget", "up") if b > a else ("faldet", "down")

    da, en = moved(lt0, lt)
    text = _t(
        lang,
        f"Fra {prev} til {year} er andelen med mindst fem års uafbrudt kontanthjælp {da} "
        f"({fmt_pct(lt0, lang)} til {fmt_pct(lt, lang)})",
        f"From {prev} to {year} the share with at least five years on social assistance without a "
        f"break is {en} ({fmt_pct(lt0, lang)} to {fmt_pct(lt, lang)})",
    )
    if not (np.isnan(job) or np.isnan(job0)):
        text += _t(
            lang,
            f", og andelen af den nye kohorte, der kom i job inden for to år, var "
            f"{fmt_pct(job, lang)} mod {fmt_pct(job0, lang)}",
            f", and {fmt_pct(job, lang)} of the newest cohort found a job within two years "
            f"against {fmt_pct(job0, lang)}",
        )
    return text + "."

"""All STAR 2022 statistics in one call, and the reproduction table (published vs reproduced).

:func:`compute_star2022` takes the register tables and derived frames and returns a
:class:`StarResults` with the detailed tables (unsuppressed; :meth:`StarResults.published` applies
disclosure control) and one :class:`Reproduced` value per published figure.
:func:`reproduction_table` lines the values up against the published figures
(``published.yaml``, loaded by the pipeline and passed in as :class:`PublishedFigure` objects).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from analysis.star2022 import characteristics as ch
from analysis.star2022 import efforts as ef
from analysis.star2022 import hovedveje as hv
from analysis.star2022 import municipal as mu
from analysis.star2022.params import StarParameters
from analysis.star2022.populations import (
    case_review_population,
    kh_case_on,
    kh_share,
    prior_contact,
    stock_on,
    window,
)


@dataclass(frozen=True)
class PublishedFigure:
    """One published figure (a row of ``published.yaml``)."""

    id: str
    part: str
    statistic: str
    unit: str
    bound: str
    published: float | None = None
    published_text: str = ""
    tolerance: float | None = None
    source: str = ""
    definition: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.part)


@dataclass(frozen=True)
class Reproduced:
    """The reproduced value of one figure.

    ``value`` in the figure's unit (percent for shares); ``n`` the persons it rests on; ``count``
    the persons with the property when ``value`` is a share of persons (so that small counts and
    small complements are suppressed too); ``within``
    set by the statistic itself for direction/model rows; ``lower``/``upper`` a confidence interval
    for model rows; ``text`` a readable account; ``note`` why it is missing or how it was computed.
    """

    value: float | None = None
    n: int | None = None
    count: int | None = None
    within: bool | None = None
    text: str = ""
    note: str = ""
    lower: float | None = None
    upper: float | None = None
    sources: tuple[CellRef, ...] = ()


@dataclass(frozen=True)
class CellRef:
    """A cell of a detailed table the figure is read from: ``table``, row filters, ``column``.

    When the cell is suppressed in the published table, the figure is suppressed too, so the
    reproduction table never shows what the detailed tables hide."""

    table: str
    column: str
    where: tuple[tuple[str, str], ...]

    def lookup(self, tables: Mapping[str, pd.DataFrame]) -> object:
        df = tables.get(self.table)
        if df is None:
            return np.nan
        mask = np.ones(len(df), dtype=bool)
        for col, val in self.where:
            mask &= (_as_text(df[col]) == val).to_numpy()
        if not mask.any():
            return np.nan
        return df.loc[mask, self.column].iloc[0]


def _as_text(x: object) -> object:
    """Filter values as text; dates as YYYY-MM-DD."""
    if isinstance(x, pd.Series):
        if pd.api.types.is_datetime64_any_dtype(x.dtype):
            return x.dt.strftime("%Y-%m-%d")
        return x.astype(str)
    if isinstance(x, (pd.Timestamp, date)):
        return pd.Timestamp(x).strftime("%Y-%m-%d")
    return str(x)


def cell(table: str, column: str, **where: object) -> CellRef:
    """Shorthand for :class:`CellRef`."""
    return CellRef(table, column, tuple((k, str(_as_text(v))) for k, v in where.items()))


@dataclass(frozen=True)
class StarInputs:
    """Register tables (data_schema.tables) and derived frames (data_schema.derived).

    ``cohort``/``sequences`` may hold several cohorts (column ``cohort``); the one labelled
    ``params.cohort_label`` is used. ``effects`` is ``results/effects/estimates.csv`` when present.
    """

    persons: pd.DataFrame
    benefit_spells: pd.DataFrame
    activation_offers: pd.DataFrame
    exemptions: pd.DataFrame
    conversations: pd.DataFrame
    monthly_paid_hours: pd.DataFrame
    caseworker_assignments: pd.DataFrame
    spells: pd.DataFrame
    cohort: pd.DataFrame | None = None
    sequences: pd.DataFrame | None = None
    effects: pd.DataFrame | None = None

    def effort_tables(self) -> dict[str, pd.DataFrame]:
        """The register tables :func:`analysis.star2022.efforts.person_efforts` reads (keywords)."""
        return dict(
            activation_offers=self.activation_offers,
            exemptions=self.exemptions,
            conversations=self.conversations,
            monthly_paid_hours=self.monthly_paid_hours,
            caseworker_assignments=self.caseworker_assignments,
        )


@dataclass(frozen=True)
class StarResults:
    """Detailed tables (unsuppressed) and reproduced values keyed by ``(id, part)``."""

    tables: Mapping[str, pd.DataFrame]
    values: Mapping[tuple[str, str], Reproduced]
    params: StarParameters = field(default_factory=StarParameters)

    def published(self, threshold: int) -> dict[str, pd.DataFrame]:
        """Every detailed table after disclosure control, ready to be written."""
        t = self.tables
        out: dict[str, pd.DataFrame] = {}
        if "characteristics" in t:
            out["characteristics"] = ch.publish_characteristics(t["characteristics"], threshold)
        if "efforts" in t:
            out["efforts"] = ef.publish_efforts(t["efforts"], threshold)
        if "continuity" in t:
            out["continuity"] = ef.publish_efforts(t["continuity"], threshold)
        if "hovedveje" in t:
            out["hovedveje"] = hv.publish_pathways(t["hovedveje"], threshold)
        if "hovedveje_sequences" in t:
            out["hovedveje_sequences"] = t["hovedveje_sequences"].copy()
        if "municipal" in t:
            out["municipal"] = mu.publish_municipal(t["municipal"], threshold)
        if "caseloads" in t:
            out["caseloads"] = t["caseloads"].copy()
        if "national_counts" in t:
            nc = t["national_counts"].copy()
            small = (nc["n"] > 0) & (nc["n"] < threshold)
            nc["n"] = nc["n"].astype("Int64").mask(small)
            nc["national_estimate"] = nc["national_estimate"].mask(small)
            nc["suppressed"] = small
            out["national_counts"] = nc
        return out

    def published_values(
        self, tables: Mapping[str, pd.DataFrame]
    ) -> dict[tuple[str, str], Reproduced]:
        """The reproduced values with every figure whose source cell is suppressed in the
        published ``tables`` blanked (value and ``within`` missing, the reason in the note)."""
        out = {}
        for key, rep in self.values.items():
            hidden = [c for c in rep.sources if pd.isna(c.lookup(tables))]
            if hidden:
                note = "suppressed: rests on a cell suppressed in " + ", ".join(
                    sorted({c.table + ".csv" for c in hidden})
                )
                rep = replace(rep, value=None, n=None, count=None, within=None, text="", note=note)
            out[key] = rep
        return out

    def publish(
        self, figures: Sequence[PublishedFigure], threshold: int
    ) -> dict[str, pd.DataFrame]:
        """Every table ready to be written: ``star2022`` (the reproduction table) first, then the
        detailed tables, all after disclosure control."""
        tables = self.published(threshold)
        repro = reproduction_table(figures, self.published_values(tables), threshold)
        return {"star2022": repro, **tables}


def _pct(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else 100.0 * float(x)


def _value(share: float, n: int, *sources: CellRef, persons: bool = True) -> Reproduced:
    """A share (``persons``: of ``n`` persons, count = share * n; else a ratio such as a share
    of time) read from ``sources``."""
    if not n:
        return Reproduced(n=0, note="no persons in this population", sources=sources)
    count = int(round(share * n)) if persons and np.isfinite(share) else None
    return Reproduced(value=_pct(share), n=int(n), count=count, sources=sources)


def _efforts_value(
    table: pd.DataFrame, population: str, column: str, count: str | None
) -> Reproduced:
    """An efforts share of the ``all`` row; ``count`` is its person-count column (None for a
    pooled ratio)."""
    row = table[(table["population"] == population) & (table["group_type"] == "all")]
    src = cell("efforts", count or column, population=population, group_type="all")
    return _value(float(row[column].iloc[0]), int(row["n"].iloc[0]), src, persons=count is not None)


def r17_from_effects(effects: pd.DataFrame | None) -> Reproduced:
    """R17 from the effects results (``exposure, outcome, estimator, estimate, conf_low,
    conf_high``; hazard-ratio scale): the case-worker-change -> job row, preferring a
    confounding-robust estimator (names containing msm, iptw, ipw, gcomp, g_comp or g-comp)."""
    if effects is None or effects.empty:
        return Reproduced(
            note="computed by the effects analysis (results/effects/estimates.csv not present)"
        )
    need = {"exposure", "outcome", "estimator", "estimate"}
    if not need <= set(effects.columns):
        return Reproduced(
            note=f"results/effects/estimates.csv lacks columns {sorted(need - set(effects.columns))}"
        )
    e = effects[
        effects["exposure"]
        .astype(str)
        .str.contains("caseworker|case_worker", case=False, regex=True)
        & effects["outcome"].astype(str).str.fullmatch("job", case=False)
    ]
    if e.empty:
        return Reproduced(
            note="no case-worker-change -> job estimate in results/effects/estimates.csv"
        )
    robust = e["estimator"].astype(str).str.contains("msm|iptw|ipw|gcomp|g_comp|g-comp", case=False)
    row = (e[robust] if robust.any() else e).iloc[0]
    hr = float(row["estimate"])
    lo = float(row["conf_low"]) if "conf_low" in row and pd.notna(row["conf_low"]) else None
    hi = float(row["conf_high"]) if "conf_high" in row and pd.notna(row["conf_high"]) else None
    return Reproduced(
        value=100 * (hr - 1),
        lower=None if lo is None else 100 * (lo - 1),
        upper=None if hi is None else 100 * (hi - 1),
        text=f"HR {hr:.2f} ({row['estimator']}, exposure {row['exposure']})",
        note="hazard ratio of a job exit per case-worker change, as (HR - 1) * 100 %",
    )


def municipal_spread(
    efforts: pd.DataFrame, population: str, share: str, min_persons: int
) -> dict[tuple[str, str], Reproduced]:
    """R8 ``municipal_p10`` / ``municipal_p90``: 10th and 90th percentiles (percent) of the
    municipal ``share`` column of ``efforts`` in ``population``, over municipalities with at least
    ``min_persons`` persons (``n``). Percentiles over fewer than 2 municipalities are not given."""
    mun = efforts[
        (efforts["population"] == population)
        & (efforts["group_type"] == "municipality")
        & (efforts["n"] >= min_persons)
    ]
    spread = mun[share].dropna().to_numpy(float)
    out: dict[tuple[str, str], Reproduced] = {}
    for part, q in (("municipal_p10", 0.1), ("municipal_p90", 0.9)):
        if len(spread) >= 2:
            out[("R8", part)] = Reproduced(
                value=100 * float(np.quantile(spread, q)),
                n=int(mun["n"].sum()),
                note=f"across {len(spread)} municipalities with at least {min_persons} persons",
            )
        else:
            out[("R8", part)] = Reproduced(
                note=f"fewer than 2 municipalities with at least {min_persons} persons"
            )
    return out


def auto_count_scale(cohort: pd.DataFrame | None, params: StarParameters) -> float:
    """Scale from register counts to national counts: 120,000 (the national Q1-2018 cohort, BRIEF
    section 7) / the register's cohort ``params.cohort_label``; 1.0 when no cohort is given."""
    if cohort is None or cohort.empty:
        return 1.0
    if "cohort" in cohort.columns:
        cohort = cohort[cohort["cohort"].astype(str) == params.cohort_label]
    return mu.national_scale(int(cohort["person_id"].nunique())) if len(cohort) else 1.0


def _cohort_frames(
    inputs: StarInputs, params: StarParameters
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    cohort, seq = inputs.cohort, inputs.sequences
    if cohort is not None and "cohort" in cohort.columns:
        cohort = cohort[cohort["cohort"].astype(str) == params.cohort_label]
    if seq is not None and "cohort" in seq.columns:
        seq = seq[seq["cohort"].astype(str) == params.cohort_label]
    return cohort, seq


def _attachment(inputs: StarInputs, cohort: pd.DataFrame, params: StarParameters) -> pd.Series:
    """Prior attachment (low/high) of cohort members, from a column of the Cohort frame when the
    spells helper provides one, else from the spells (KH share of the prior two years)."""
    c = cohort.set_index("person_id")
    for col in ("attachment", "prior_attachment"):
        if col in c.columns:
            return c[col].astype(str)
    for col in ("kh_share_2y", "kh_share", "prior_kh_share"):
        if col in c.columns:
            return hv.attachment_groups(c[col].astype(float), params.attachment_threshold)
    win = window(
        cohort[["person_id", "reference_date"]], params.reference_date, params.attachment_years
    )
    share = kh_share(inputs.spells, win)
    return hv.attachment_groups(share.reindex(c.index).fillna(0.0), params.attachment_threshold)


def compute_star2022(
    inputs: StarInputs, params: StarParameters = StarParameters(), threshold: int = 5
) -> StarResults:
    """Compute every STAR 2022 statistic (BRIEF R1-R22) by the definitions in ``published.yaml``.

    Parameters
    ----------
    inputs
        Register tables and derived frames.
    params
        Populations, windows and thresholds.
    threshold
        Disclosure threshold; used where a statistic is publishable only by construction (top
        sequences, municipal percentiles, caseload percentiles).
    """
    v: dict[tuple[str, str], Reproduced] = {}
    tables: dict[str, pd.DataFrame] = {}
    ref = params.reference_date
    spells = inputs.spells

    # --- characteristics of the stock (R1-R5) ------------------------------------------------
    stock = stock_on(spells, ref)
    stock["prior_contact_3y"] = prior_contact(spells, stock)
    people = ch.person_characteristics(stock, inputs.persons, ref)
    char = ch.characteristics_table(people)
    tables["characteristics"] = char
    n_of = (
        char[char["base"] == "all"]
        .drop_duplicates("seniority_group")
        .set_index("seniority_group")["n"]
    )
    n_all, n_ge5 = int(n_of.get("all", 0)), int(n_of.get("ge5", 0))

    def char_cell(
        characteristic: str, level: str, group: str, column: str = "n_persons"
    ) -> CellRef:
        return cell(
            "characteristics",
            column,
            seniority_group=group,
            characteristic=characteristic,
            level=level,
        )

    def char_value(characteristic: str, level: str, group: str) -> Reproduced:
        return _value(
            *ch.share_of(char, characteristic, level, group),
            char_cell(characteristic, level, group),
        )

    v[("R1", "all")] = _value(
        n_ge5 / n_all if n_all else np.nan,
        n_all,
        char_cell("sex", "F", "ge5", "n"),
        char_cell("sex", "F", "all", "n"),
    )
    v[("R2", "all")] = char_value("prior_contact_3y", "yes", "all")
    for grp in ("lt1", "ge5"):
        v[("R3", grp)] = char_value("psychiatric_diagnosis", "yes", grp)
        v[("R4", grp)] = char_value("children_placed", "yes", grp)
    d = ch.long_term_directions(char)
    checks = [
        d["women_pts"] > 0,
        d["non_western_pts"] > 0,
        d["menapt_of_non_western_pct"] > 50,
        d["basic_education_pts"] > 0,
    ]
    v[("R5", "all")] = Reproduced(
        within=bool(all(checks)) if all(np.isfinite(list(d.values()))) else None,
        n=n_ge5 + ch.share_of(char, "sex", "F", "lt1")[1],
        sources=tuple(
            char_cell(c, lv, g)
            for c, lv in (
                ("sex", "F"),
                ("origin", "non_western_menapt"),
                ("origin", "non_western_other"),
                ("education", "basic"),
            )
            for g in ("lt1", "ge5")
        ),
        text=(
            f"5+ years vs under 1 year: women {d['women_pts']:+.1f} pts, non-western "
            f"{d['non_western_pts']:+.1f} pts (MENAPT {d['menapt_of_non_western_pct']:.0f} % of "
            f"long-term non-western), compulsory schooling only {d['basic_education_pts']:+.1f} pts"
        ),
    )

    # --- efforts: stock on the reference date and the case-review population (R6-R12, R16, R18)
    common = dict(spells=spells, params=params, **inputs.effort_tables())
    pop_stock = f"stock_{ref.isoformat()}"
    pe_stock = ef.person_efforts(stock["person_id"], ref, **common)
    case_ref = kh_case_on(inputs.benefit_spells, ref, params.kh_codes).set_index("person_id")
    seniority = stock.set_index("person_id")["seniority_group"]
    eff_stock = ef.efforts_table(
        pe_stock,
        {
            "seniority_group": (seniority, list(ch.SENIORITY_ORDER)),
            "match_group": (case_ref["match_group"].astype(str), None),
            "municipality": (case_ref["municipality_id"].astype(str), None),
        },
        pop_stock,
    )
    review = case_review_population(spells, inputs.benefit_spells, params)
    pop_review = f"case_review_{params.review_date.isoformat()}"
    pe_review = ef.person_efforts(review["person_id"], params.review_date, **common)
    rv = review.set_index("person_id")
    eff_review = ef.efforts_table(
        pe_review,
        {
            "seniority_group": (rv["seniority_group"], ["5_10", "ge10"]),
            "municipality": (rv["municipality_id"].astype(str), None),
        },
        pop_review,
    )
    efforts = pd.concat([eff_stock, eff_review], ignore_index=True)
    tables["efforts"] = efforts
    v[("R6", "all")] = _efforts_value(efforts, pop_stock, "share_activated", None)
    for key, pop, flag in (
        (("R8", "all"), pop_stock, "paid_hours_month"),
        (("R7", "case_review"), pop_review, "min_conversations"),
        (("R8", "case_review"), pop_review, "paid_hours"),
        (("R9", "case_review"), pop_review, "passive_over_1y"),
        (("R10", "case_review"), pop_review, "exempt"),
        (("R11", "case_review"), pop_review, "interrupted_absence"),
        (("R12", "case_review"), pop_review, "employment_offer"),
    ):
        v[key] = _efforts_value(efforts, pop, f"share_{flag}", f"n_{flag}")
    v.update(
        municipal_spread(
            efforts, pop_review, "share_paid_hours", max(threshold, params.municipal_min_persons)
        )
    )

    # R16: register proxies of the case-review subgroups
    rp = review[["person_id"]].merge(inputs.persons, on="person_id", how="inner")
    age = params.review_date.year - rp["birth_year"].astype(int)
    nww = (rp["sex"] == "F") & (rp["origin"] == "non_western")
    dm50 = (
        (rp["sex"] == "M")
        & (rp["origin"] == "danish")
        & (age >= 50)
        & rp["substance_abuse_treatment"].astype(bool)
    )
    v[("R16", "non_western_women")] = _value(nww.mean() if len(rp) else np.nan, len(rp))
    v[("R16", "danish_men_50_substance")] = _value(dm50.mean() if len(rp) else np.nan, len(rp))

    # R18: continuity by case-worker changes
    cont = pd.concat(
        [ef.continuity_table(pe_review, pop_review), ef.continuity_table(pe_stock, pop_stock)],
        ignore_index=True,
    )
    tables["continuity"] = cont
    r18 = ef.continuity_direction(cont[cont["population"] == pop_review])
    r18_sources = tuple(
        cell("continuity", col, population=pop_review, group_type="caseworker_changes", group=g)
        for g in ("0", r18.get("compared", "3+"))
        for col in ("n", "job_conversations_per_year", "n_coordinated", "n_interrupted")
    )
    v[("R18", "case_review")] = Reproduced(
        within=r18.get("within"),
        n=r18.get("n"),
        text=r18.get("text", ""),
        note=r18.get("note", ""),
        sources=r18_sources,
    )

    # --- hovedveje (R13-R15) ---------------------------------------------------------------
    cohort, seq = _cohort_frames(inputs, params)
    if cohort is None or seq is None or cohort.empty or seq.empty:
        why = "derived Cohort/Sequences frames for cohort " + params.cohort_label + " not available"
        for key in (
            ("R13", "all"),
            ("R14", "all"),
            ("R15", "fp"),
            ("R15", "rf"),
            ("R15", "self_support"),
        ):
            v[key] = Reproduced(note=why)
    else:
        paths = hv.person_pathways(seq, params.n_half_years)
        paths = paths[paths.index.isin(cohort["person_id"].unique())]
        c = cohort.set_index("person_id")
        groups = {
            "seniority_group": c["seniority_group"].astype(str),
            "attachment": _attachment(inputs, cohort, params),
        }
        hov = hv.pathways_table(paths, groups, params.n_half_years)
        tables["hovedveje"] = hov
        tables["hovedveje_sequences"] = hv.top_sequences(
            paths, groups, params.top_sequences, threshold
        )

        def share(measure: str, state: str) -> Reproduced:
            r = hov[
                (hov["group_type"] == "all") & (hov["measure"] == measure) & (hov["state"] == state)
            ]
            if r.empty:
                return _value(0.0, len(paths))
            return _value(float(r["share"].iloc[0]), int(r["n"].iloc[0]))

        v[("R13", "all")] = share("all_kh", "kh")
        v[("R14", "all")] = share("ever", "job")
        for s in ("fp", "rf", "self_support"):
            v[("R15", s)] = share("ever", s)

    # --- R17 ---------------------------------------------------------------------------------
    v[("R17", "all")] = r17_from_effects(inputs.effects)

    # --- R19-R22 -----------------------------------------------------------------------------
    counts = mu.stock_counts(spells, params.count_dates, params.count_scale)
    tables["national_counts"] = counts
    scale_note = f"register count x {params.count_scale:.3f}"
    for (_, r), part in zip(counts.iterrows(), ("2015", "2021"), strict=False):
        v[("R19", part)] = Reproduced(
            value=float(r["national_estimate"]),
            n=int(r["n"]),
            note=scale_note,
            sources=(cell("national_counts", "n", date=r["date"]),),
        )
    n0, n1 = int(counts["n"].iloc[0]), int(counts["n"].iloc[-1])
    v[("R19", "change")] = Reproduced(
        value=100 * (n1 / n0 - 1) if n0 else None,
        n=min(n0, n1),
        note="scale-free",
        sources=tuple(cell("national_counts", "n", date=d) for d in counts["date"]),
    )
    mt = mu.municipal_table(spells, inputs.benefit_spells, params)
    tables["municipal"] = mt

    def mrow(stat: str, mun_id: str) -> tuple[pd.Series, CellRef]:
        r = mt[(mt["statistic"] == stat) & (mt["municipality"] == mun_id)].iloc[0]
        col = "value" if stat.startswith("mean") else "n_persons"
        return r, cell("municipal", col, statistic=stat, municipality=mun_id)

    cph = str(params.copenhagen_id)
    r, src = mrow("activity_ready_ge3y", cph)
    v[("R20", "count")] = Reproduced(
        value=float(r["n"]) * params.count_scale,
        n=int(r["n"]),
        note=scale_note,
        sources=(cell("municipal", "n", statistic="activity_ready_ge3y", municipality=cph),),
    )
    v[("R20", "ge3y")] = _value(float(r["share"]), int(r["n"]), src)
    r, src = mrow("activity_ready_ge10y", cph)
    v[("R20", "ge10y")] = _value(float(r["share"]), int(r["n"]), src)
    r, src = mrow("activity_ready_ge10y", str(params.slagelse_id))
    v[("R21", "slagelse")] = _value(float(r["share"]), int(r["n"]), src)
    r, src = mrow("activity_ready_ge10y", "comparison")
    v[("R21", "comparison")] = _value(float(r["share"]), int(r["n"]), src)
    r, src = mrow("mean_seniority_days_ge10y", str(params.slagelse_id))
    v[("R21", "mean_days")] = Reproduced(
        value=None if pd.isna(r["value"]) else float(r["value"]), n=int(r["n"]), sources=(src,)
    )
    on = params.caseload_date or ref
    loads = mu.caseloads(spells, inputs.benefit_spells, inputs.caseworker_assignments, on, params)
    cs = mu.caseload_summary(
        loads, threshold, params.caseload_threshold, scale=params.count_scale
    ).set_index("statistic")
    tables["caseloads"] = cs.reset_index()
    p50 = cs.loc["caseload_p50"]
    over = cs.loc[f"municipalities_median_caseload_over_{int(params.caseload_threshold)}"]
    v[("R22", "typical")] = Reproduced(
        value=None if pd.isna(p50["value"]) else float(p50["value"]),
        note=f"median over {int(p50['units'])} case workers"
        + ("" if pd.notna(p50["value"]) else f" (fewer than {threshold}: not published)"),
    )
    v[("R22", "over_200")] = Reproduced(
        value=float(over["value"]),
        note=f"of {int(over['units'])} municipalities with enough case workers",
    )
    return StarResults(tables=tables, values=v, params=params)


REPRODUCTION_COLUMNS: tuple[str, ...] = (
    "id",
    "part",
    "statistic",
    "published",
    "published_text",
    "reproduced",
    "reproduced_text",
    "tolerance",
    "lower",
    "upper",
    "within",
    "n",
    "unit",
    "note",
    "source",
    "definition",
)


def _bounds(fig: PublishedFigure, rep: Reproduced) -> tuple[float, float, str]:
    p, t = fig.published, fig.tolerance or 0.0
    nan = float("nan")
    if fig.bound == "direction" or p is None:
        return nan, nan, "direction"
    if fig.bound == "relative":
        return p * (1 - t), p * (1 + t), f"±{100 * t:g} %"
    if fig.bound == "at_least":
        return p - t, nan, f"≥ {p - t:g}"
    if fig.bound == "at_most":
        return nan, p + t, f"≤ {p + t:g}"
    if fig.bound == "model" and rep.lower is not None and rep.upper is not None:
        return rep.lower, rep.upper, "published within the estimate's 95 % CI"
    return p - t, p + t, f"±{t:g} points"


def reproduction_table(
    figures: Sequence[PublishedFigure],
    values: Mapping[tuple[str, str], Reproduced],
    threshold: int = 5,
) -> pd.DataFrame:
    """Published against reproduced, one row per figure (ids R1...R22, several parts per id).

    ``within`` is true/false when decidable, missing when the figure could not be computed (the
    reason in ``note``). A figure resting on fewer than ``threshold`` persons is suppressed
    (reproduced and ``n`` missing), and so is a share whose count or complement is positive and below
    ``threshold``. ``lower``/``upper`` are the acceptance bounds (for ``model``
    rows, the estimate's confidence interval, which must contain the published value).
    """
    rows = []
    for fig in figures:
        rep = values.get(fig.key, Reproduced(note="not computed"))
        value, n, note = rep.value, rep.n, rep.note
        c = rep.count
        small_cell = (
            c is not None and n is not None and (0 < c < threshold or 0 < n - c < threshold)
        )
        if (n is not None and 0 < n < threshold) or small_cell:
            value, n = None, None
            note = (note + "; " if note else "") + (
                f"suppressed: fewer than {threshold} persons behind the figure"
            )
        lower, upper, tol_text = _bounds(fig, rep)
        if fig.bound == "direction":
            within = rep.within
        elif value is None or not np.isfinite(value):
            within = None
        elif fig.bound == "model" and rep.lower is not None and rep.upper is not None:
            within = bool(rep.lower <= (fig.published or 0) <= rep.upper)
        else:
            within = bool(
                (np.isnan(lower) or value >= lower - 1e-9)
                and (np.isnan(upper) or value <= upper + 1e-9)
            )
        if value is None and not note and fig.bound != "direction":
            note = "not computable from the registers"
        rows.append(
            {
                "id": fig.id,
                "part": fig.part,
                "statistic": fig.statistic,
                "published": fig.published,
                "published_text": fig.published_text,
                "reproduced": value,
                "reproduced_text": rep.text,
                "tolerance": tol_text,
                "lower": lower,
                "upper": upper,
                "within": within,
                "n": n,
                "unit": fig.unit,
                "note": note,
                "source": fig.source,
                "definition": fig.definition,
            }
        )
    out = pd.DataFrame(rows, columns=list(REPRODUCTION_COLUMNS))
    out["published"] = out["published"].astype(float)
    out["reproduced"] = pd.to_numeric(out["reproduced"], errors="coerce").astype(float)
    out["n"] = out["n"].astype("Int64")
    out["within"] = out["within"].astype("boolean")
    return out

"""Register tables: one pandera model per table, the single source of what input looks like.

Each model declares column types, allowed values, nullability and cross-column rules, with a
description used by the generated data dictionary (``python -m data_schema.dictionary``).
Rules that depend on the run (the extract window, the code mapping, the other tables) are added by
:func:`table_schema` and by the ingest stage, which reports every violation with file, row,
column and rule.

Dates are calendar days (``datetime64``); an open ``end_date`` (missing) means the record is still
running at the end of the extract. Intervals are closed: ``start_date`` and ``end_date`` are both
days on which the record holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from data_schema import codes

PERSON_ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
MUNICIPALITY_RANGE = (101, 860)  # Danish municipality codes (kommunekoder)


def _person_id(**kw: Any) -> Any:
    return pa.Field(
        str_matches=PERSON_ID_PATTERN,
        description="Pseudonymised person id (letters, digits, '_', '.', '-'; at most 64). "
        "Never a raw CPR number.",
        **kw,
    )


def _municipality(
    nullable: bool = False, description: str = "Municipality code (kommunekode)."
) -> Any:
    return pa.Field(
        ge=MUNICIPALITY_RANGE[0],
        le=MUNICIPALITY_RANGE[1],
        nullable=nullable,
        description=description,
    )


def _start_le_end(df: pd.DataFrame, start: str = "start_date", end: str = "end_date") -> pd.Series:
    return df[end].isna() | (df[start] <= df[end])


def _overlaps_within(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """True for each record that starts on or before the end of an earlier record with the same keys.

    Records are compared in (keys, start_date, end_date) order; the earlier record is kept, the later
    one is flagged. An open end (missing) counts as running forever.
    """
    if df.empty:
        return pd.Series(True, index=df.index)
    order = df.sort_values([*keys, "start_date", "end_date"], kind="mergesort", na_position="last")
    # an open end runs past any extract window; a fixed far date keeps the column's resolution
    end = order["end_date"].fillna(pd.Timestamp("2200-01-01"))
    # running maximum of earlier ends within the same key group (vectorised: cummax, then shift)
    groups = [order[k] for k in keys]
    prev_end = end.groupby(groups, sort=False).cummax().groupby(groups, sort=False).shift(1)
    overlap = prev_end.notna() & (order["start_date"] <= prev_end)
    return ~overlap.reindex(df.index)


class Persons(pa.DataFrameModel):
    """One row per person: characteristics that do not change over the extract."""

    person_id: Series[str] = _person_id(unique=True)
    birth_year: Series[int] = pa.Field(ge=1900, le=2025, description="Year of birth.")
    sex: Series[str] = pa.Field(isin=list(codes.SEX), description="Sex: M = man, F = woman.")
    origin: Series[str] = pa.Field(
        isin=list(codes.ORIGIN), description="Origin (herkomst): danish, western or non_western."
    )
    menapt: Series[bool] = pa.Field(
        description="Origin in a MENAPT country (Middle East, North Africa, Pakistan, Turkey); "
        "only possible for non_western origin."
    )
    education: Series[str] = pa.Field(
        isin=list(codes.EDUCATION), description="Highest completed education."
    )
    psychiatric_diagnosis: Series[bool] = pa.Field(
        description="A diagnosis related to mental illness recorded before the end of the extract."
    )
    substance_abuse_treatment: Series[bool] = pa.Field(
        description="Treatment for substance abuse recorded before the end of the extract."
    )
    has_children: Series[bool] = pa.Field(description="Has (had) children.")
    children_placed: Series[pd.BooleanDtype] = pa.Field(
        nullable=True,
        description="A child has been placed outside the home or received preventive measures. "
        "Missing exactly when has_children is false.",
    )
    municipality_id: Series[pd.Int64Dtype] = _municipality(
        nullable=True, description="Municipality of residence at the end of the extract."
    )

    @pa.dataframe_check(error="menapt can only be true when origin is non_western")
    def menapt_only_non_western(cls, df: pd.DataFrame) -> pd.Series:
        return ~df["menapt"] | (df["origin"] == "non_western")

    @pa.dataframe_check(
        error="children_placed must be missing when has_children is false and given when true"
    )
    def children_placed_iff_children(cls, df: pd.DataFrame) -> pd.Series:
        return df["children_placed"].isna() != df["has_children"]


class BenefitSpells(pa.DataFrameModel):
    """One row per administrative benefit case (sag). One uninterrupted stay in the kontanthjælp
    system is often recorded as several cases (moves, closed-and-reopened cases, reforms, system
    conversions); the spell builder merges them."""

    person_id: Series[str] = _person_id()
    case_id: Series[str] = pa.Field(
        description="Case id in the source system (unique per row).", unique=True
    )
    benefit_code: Series[str] = pa.Field(
        str_matches=r"^[A-Za-z0-9]{1,8}$",
        description="Raw benefit code; mapped to a state by the state mapping YAML.",
    )
    start_date: Series[pa.DateTime] = pa.Field(description="First day of the case.")
    end_date: Series[pa.DateTime] = pa.Field(
        nullable=True, description="Last day of the case; missing when still open at extract end."
    )
    municipality_id: Series[int] = _municipality(description="Municipality handling the case.")
    match_group: Series[str] = pa.Field(
        isin=list(codes.MATCH_GROUP),
        nullable=True,
        description="Match group (job_ready / activity_ready) for kontanthjælp-system cases.",
    )

    @pa.dataframe_check(error="start_date must be on or before end_date")
    def start_le_end(cls, df: pd.DataFrame) -> pd.Series:
        return _start_le_end(df)

    @pa.dataframe_check(error="overlaps an earlier case with the same benefit_code for this person")
    def no_overlap_same_benefit(cls, df: pd.DataFrame) -> pd.Series:
        return _overlaps_within(df, ["person_id", "benefit_code"])


class WeeklyBenefitCodes(pa.DataFrameModel):
    """DREAM-style weekly panel: one benefit code per person and week (weeks without any benefit
    have no row)."""

    person_id: Series[str] = _person_id()
    week_start: Series[pa.DateTime] = pa.Field(description="Monday of the ISO week.")
    benefit_code: Series[str] = pa.Field(
        str_matches=r"^[A-Za-z0-9]{1,8}$", description="Raw benefit code of the week."
    )

    @pa.dataframe_check(error="week_start must be a Monday")
    def week_starts_monday(cls, df: pd.DataFrame) -> pd.Series:
        return df["week_start"].dt.day_of_week == 0

    @pa.dataframe_check(error="more than one code for the same person and week")
    def one_code_per_week(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["person_id", "week_start"], keep="first")


class MonthlyPaidHours(pa.DataFrameModel):
    """Monthly paid hours and earnings from ordinary work (eIndkomst); months without work have no row."""

    person_id: Series[str] = _person_id()
    month: Series[pa.DateTime] = pa.Field(description="First day of the calendar month.")
    paid_hours: Series[float] = pa.Field(
        ge=0, le=744, description="Paid hours in the month (0-744)."
    )
    earnings_dkk: Series[float] = pa.Field(
        ge=0, nullable=True, description="Gross earnings in the month, DKK."
    )

    @pa.dataframe_check(error="month must be the first day of a month")
    def month_is_first_day(cls, df: pd.DataFrame) -> pd.Series:
        return df["month"].dt.day == 1

    @pa.dataframe_check(error="more than one row for the same person and month")
    def one_row_per_month(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["person_id", "month"], keep="first")


class CaseworkerAssignments(pa.DataFrameModel):
    """Which case worker (sagsbehandler) holds a person's case, over time."""

    person_id: Series[str] = _person_id()
    caseworker_id: Series[str] = pa.Field(
        str_matches=r"^[A-Za-z0-9_.\-]{1,64}$", description="Pseudonymised case-worker id."
    )
    municipality_id: Series[int] = _municipality(
        description="Municipality employing the case worker."
    )
    start_date: Series[pa.DateTime] = pa.Field(description="First day of the assignment.")
    end_date: Series[pa.DateTime] = pa.Field(
        nullable=True, description="Last day of the assignment; missing when still running."
    )

    @pa.dataframe_check(error="start_date must be on or before end_date")
    def start_le_end(cls, df: pd.DataFrame) -> pd.Series:
        return _start_le_end(df)

    @pa.dataframe_check(error="overlaps an earlier case-worker assignment for this person")
    def no_overlap(cls, df: pd.DataFrame) -> pd.Series:
        return _overlaps_within(df, ["person_id"])


class Conversations(pa.DataFrameModel):
    """Conversations (samtaler) between citizen and jobcentre."""

    person_id: Series[str] = _person_id()
    conversation_date: Series[pa.DateTime] = pa.Field(description="Day of the conversation.")
    conversation_type: Series[str] = pa.Field(
        isin=list(codes.CONVERSATION_TYPE),
        description="job = job conversation (jobsamtale, counts towards the legal minimum); other.",
    )
    municipality_id: Series[int] = _municipality(
        description="Municipality holding the conversation."
    )
    caseworker_id: Series[str] = pa.Field(nullable=True, description="Case worker, when recorded.")


class ActivationOffers(pa.DataFrameModel):
    """Activation offers (tilbud) with their outcome."""

    person_id: Series[str] = _person_id()
    offer_id: Series[str] = pa.Field(unique=True, description="Offer id (unique per row).")
    offer_type: Series[str] = pa.Field(isin=list(codes.OFFER_TYPE), description="Type of offer.")
    start_date: Series[pa.DateTime] = pa.Field(description="First day of the offer.")
    end_date: Series[pa.DateTime] = pa.Field(
        nullable=True, description="Last day of the offer; missing when ongoing."
    )
    outcome: Series[str] = pa.Field(
        isin=list(codes.OFFER_OUTCOME),
        description="completed, interrupted_absence, interrupted_other or ongoing.",
    )

    @pa.dataframe_check(error="start_date must be on or before end_date")
    def start_le_end(cls, df: pd.DataFrame) -> pd.Series:
        return _start_le_end(df)

    @pa.dataframe_check(error="outcome is ongoing exactly when end_date is missing")
    def ongoing_iff_open(cls, df: pd.DataFrame) -> pd.Series:
        return (df["outcome"] == "ongoing") == df["end_date"].isna()


class Exemptions(pa.DataFrameModel):
    """Exemptions (fritagelser) from activation and conversations."""

    person_id: Series[str] = _person_id()
    start_date: Series[pa.DateTime] = pa.Field(description="First day of the exemption.")
    end_date: Series[pa.DateTime] = pa.Field(
        nullable=True, description="Last day of the exemption; missing when still running."
    )
    reason: Series[str] = pa.Field(isin=list(codes.EXEMPTION_REASON), description="Reason.")

    @pa.dataframe_check(error="start_date must be on or before end_date")
    def start_le_end(cls, df: pd.DataFrame) -> pd.Series:
        return _start_le_end(df)


class Municipalities(pa.DataFrameModel):
    """Municipalities (kommuner)."""

    municipality_id: Series[int] = _municipality(description="Municipality code (kommunekode).")
    name: Series[str] = pa.Field(str_length={"min_value": 1, "max_value": 80}, description="Name.")
    region: Series[str] = pa.Field(isin=list(codes.REGION), description="Region.")

    @pa.dataframe_check(error="municipality_id must be unique")
    def unique_id(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated("municipality_id", keep="first")


@dataclass(frozen=True)
class TableSpec:
    """A register table: its model, the file stem it is read from and its role."""

    name: str
    model: type[pa.DataFrameModel]
    description: str
    date_columns: tuple[str, ...] = ()
    has_benefit_code: bool = False
    required: bool = True

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.model.to_schema().columns)


def _spec(
    name: str, model: type[pa.DataFrameModel], *, benefit: bool = False, required: bool = True
) -> TableSpec:
    schema = model.to_schema()
    dates = tuple(c for c, col in schema.columns.items() if str(col.dtype).startswith("datetime64"))
    doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
    return TableSpec(name, model, doc, dates, benefit, required)


TABLES: dict[str, TableSpec] = {
    s.name: s
    for s in (
        _spec("persons", Persons),
        _spec("municipalities", Municipalities),
        _spec("benefit_spells", BenefitSpells, benefit=True, required=False),
        _spec("weekly_benefit_codes", WeeklyBenefitCodes, benefit=True, required=False),
        _spec("monthly_paid_hours", MonthlyPaidHours),
        _spec("caseworker_assignments", CaseworkerAssignments),
        _spec("conversations", Conversations),
        _spec("activation_offers", ActivationOffers),
        _spec("exemptions", Exemptions),
    )
}
"""All register tables by name. Benefits come as ``benefit_spells`` or ``weekly_benefit_codes``
(at least one of the two is required)."""


def table_schema(name: str, window: tuple[date, date] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of table ``name``, with date columns checked against the extract window.

    Parameters
    ----------
    name
        A key of :data:`TABLES`.
    window
        ``(first_day, last_day)`` of the extract; every date must fall inside it (inclusive).
    """
    spec = TABLES[name]
    schema = spec.model.to_schema()
    if window is None:
        return schema
    lo, hi = pd.Timestamp(window[0]), pd.Timestamp(window[1])
    # New check lists on a copy: Column.set_checks changes the model's cached schema in place
    # in pandera 0.24, so the window would leak into every later to_schema().
    window_check = {
        col: {
            "checks": [
                *schema.columns[col].checks,
                pa.Check.in_range(
                    lo,
                    hi,
                    error=f"must be within the extract window {lo.date()}..{hi.date()}",
                    ignore_na=True,
                ),
            ]
        }
        for col in spec.date_columns
    }
    return schema.update_columns(window_check)

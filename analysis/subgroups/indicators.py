"""Person-level indicators of the subgroup analysis, from the register and the derived spells.

Every indicator is categorical (ordered pandas categoricals with readable codes), so the latent
class model makes no distributional assumption about ages or durations; the codes are the keys
of the label phrases in :mod:`analysis.subgroups.labels`.

==========================  ===============================================================
indicator                   levels
==========================  ===============================================================
sex                         F, M
age_band                    age at the reference date (reference year - birth year):
                            18-29 (and younger), 30-39, 40-49, 50+
origin                      danish, western, non_western_menapt, non_western_other
education                   basic, upper_secondary, vocational, higher, unknown
psychiatric_diagnosis       yes, no
substance_abuse_treatment   yes, no
children                    none, not_placed, placed (children placed or in preventive care)
debut_age                   age at the first day of the person's first KH-system spell in the
                            register (year of that day - birth year): 18-21 (and younger), 22-24, 25-29,
                            30-34, 35-39, 40-49, 50+; ``before_window`` when the debut is not
                            observable: the first spell is left-truncated (already running on
                            the first day of the extract window) or starts within
                            ``debut_washout_years`` of it (an earlier spell before the window
                            cannot be ruled out)
seniority                   uninterrupted years in the current spell at the reference date:
                            0-4, 5-9, 10-14, 15+
prior_contact               yes/no: a KH day in the 3 years before the current spell started
==========================  ===============================================================
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analysis._base import require_columns

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("18-29", 0, 29),
    ("30-39", 30, 39),
    ("40-49", 40, 49),
    ("50+", 50, 200),
)
DEBUT_BANDS: tuple[tuple[str, int, int], ...] = (
    ("18-21", 0, 21),
    ("22-24", 22, 24),
    ("25-29", 25, 29),
    ("30-34", 30, 34),
    ("35-39", 35, 39),
    ("40-49", 40, 49),
    ("50+", 50, 200),
)
DEBUT_UNKNOWN = "before_window"
SENIORITY_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-4", 0, 4),
    ("5-9", 5, 9),
    ("10-14", 10, 14),
    ("15+", 15, 200),
)
ORIGIN_LEVELS = ("danish", "western", "non_western_menapt", "non_western_other")
EDUCATION_LEVELS = ("basic", "upper_secondary", "vocational", "higher", "unknown")
CHILDREN_LEVELS = ("none", "not_placed", "placed")
YES_NO = ("yes", "no")

#: Indicators of the latent class model by default: the persons' background and their debut age.
#: Not by default: age at the reference date (= debut age + time in the system, so within a class it
#: moves with seniority and debut age: local dependence), seniority and prior contact (outcomes of
#: the dynamics the groups should explain), efforts (what the system did, reported per group).
DEFAULT_INDICATORS: tuple[str, ...] = (
    "sex",
    "origin",
    "education",
    "psychiatric_diagnosis",
    "substance_abuse_treatment",
    "children",
    "debut_age",
)
#: Characteristics shown in the profiles and used for the labels.
PROFILE_INDICATORS: tuple[str, ...] = (
    "sex",
    "age_band",
    "origin",
    "education",
    "psychiatric_diagnosis",
    "substance_abuse_treatment",
    "children",
    "debut_age",
    "seniority",
    "prior_contact",
)


def _band(values: np.ndarray, bands: tuple[tuple[str, int, int], ...]) -> np.ndarray:
    out = np.full(values.shape, None, dtype=object)
    for code, lo, hi in bands:
        out[(values >= lo) & (values <= hi)] = code
    return out


def _cat(values: np.ndarray | pd.Series, levels: tuple[str, ...], index: pd.Index) -> pd.Series:
    return pd.Series(
        pd.Categorical(np.asarray(values, dtype=object), categories=list(levels), ordered=True),
        index=index,
    )


def _yes_no(values: pd.Series) -> np.ndarray:
    v = values.astype("boolean")
    return np.where(v.isna().to_numpy(), None, np.where(v.fillna(False).to_numpy(), "yes", "no"))


def person_indicators(
    members: pd.DataFrame,
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    reference_date: date | pd.Timestamp,
    *,
    window_start: date | pd.Timestamp | None = None,
    debut_washout_years: int = 3,
) -> pd.DataFrame:
    """Indicators of the module docstring for each member, indexed by ``person_id``.

    Parameters
    ----------
    members
        One row per person: ``person_id``, ``spell_start`` (start of the current spell) and
        ``seniority_days`` (days in it at the reference date).
    persons
        The register's persons table (data_schema.tables.persons columns).
    spells
        Derived KH-system spells (data_schema.derived.Spells: ``spell_start``,
        ``left_truncated``, ``prior_contact_3y`` ...), all spells of the members.
    reference_date
        The population's reference date (ages are reference year - birth year).
    window_start
        First day of the extract window (default: the earliest spell start, i.e. the data's own
        first day).
    debut_washout_years
        A first spell starting less than this many years after ``window_start`` gives
        ``debut_age = before_window`` (years).
    """
    require_columns(members, ["person_id", "spell_start", "seniority_days"], "members")
    require_columns(
        persons,
        [
            "person_id",
            "birth_year",
            "sex",
            "origin",
            "menapt",
            "education",
            "psychiatric_diagnosis",
            "substance_abuse_treatment",
            "has_children",
            "children_placed",
        ],
        "persons",
    )
    require_columns(spells, ["person_id", "spell_start", "left_truncated"], "spells")
    ref = pd.Timestamp(reference_date)
    m = members[["person_id", "spell_start", "seniority_days"]].drop_duplicates("person_id")
    p = m.merge(persons, on="person_id", how="left", validate="one_to_one")
    idx = pd.Index(p["person_id"].to_numpy(), name="person_id")
    birth = pd.to_numeric(p["birth_year"], errors="coerce").to_numpy(dtype=float)
    out = pd.DataFrame(index=idx)
    out["sex"] = _cat(p["sex"].astype(object).to_numpy(), ("F", "M"), idx)
    out["age_band"] = _cat(_band(ref.year - birth, AGE_BANDS), tuple(b[0] for b in AGE_BANDS), idx)
    origin = p["origin"].astype(object).to_numpy()
    menapt = p["menapt"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    origin4 = np.where(
        origin == "non_western",
        np.where(menapt, "non_western_menapt", "non_western_other"),
        origin,
    )
    out["origin"] = _cat(origin4, ORIGIN_LEVELS, idx)
    out["education"] = _cat(p["education"].astype(object).to_numpy(), EDUCATION_LEVELS, idx)
    out["psychiatric_diagnosis"] = _cat(_yes_no(p["psychiatric_diagnosis"]), YES_NO, idx)
    out["substance_abuse_treatment"] = _cat(_yes_no(p["substance_abuse_treatment"]), YES_NO, idx)
    has = p["has_children"].astype("boolean")
    placed = p["children_placed"].astype("boolean")
    children = np.where(
        has.isna().to_numpy(),
        None,
        np.where(
            ~has.fillna(False).to_numpy(dtype=bool),
            "none",
            np.where(placed.fillna(False).to_numpy(dtype=bool), "placed", "not_placed"),
        ),
    )
    out["children"] = _cat(children, CHILDREN_LEVELS, idx)

    # debut: first KH-system spell of the person in the register
    sp = spells[spells["person_id"].isin(idx)].sort_values(
        ["person_id", "spell_start"], kind="mergesort"
    )
    first = sp.drop_duplicates("person_id").set_index("person_id").reindex(idx)
    debut_year = pd.to_datetime(first["spell_start"]).dt.year.to_numpy(dtype=float)
    truncated = first["left_truncated"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    w0 = pd.Timestamp(window_start) if window_start is not None else spells["spell_start"].min()
    washout = pd.Timestamp(w0) + pd.DateOffset(years=debut_washout_years)
    truncated |= (pd.to_datetime(first["spell_start"]) < washout).fillna(False).to_numpy(dtype=bool)
    debut = _band(debut_year - birth, DEBUT_BANDS)
    debut = np.where(truncated, DEBUT_UNKNOWN, debut)
    out["debut_age"] = _cat(debut, (*(b[0] for b in DEBUT_BANDS), DEBUT_UNKNOWN), idx)

    years = pd.to_numeric(p["seniority_days"], errors="coerce").to_numpy(dtype=float) / 365.25
    out["seniority"] = _cat(
        _band(np.floor(years), SENIORITY_BANDS), tuple(b[0] for b in SENIORITY_BANDS), idx
    )
    if "prior_contact_3y" in spells.columns:
        cur = m.merge(
            spells[["person_id", "spell_start", "prior_contact_3y"]],
            on=["person_id", "spell_start"],
            how="left",
        ).drop_duplicates("person_id")
        pc = cur.set_index("person_id")["prior_contact_3y"].reindex(idx)
        out["prior_contact"] = _cat(_yes_no(pc), YES_NO, idx)
    return out

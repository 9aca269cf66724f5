"""Covariate profiles a policymaker recognises, for predicted transition matrices and pathways.

A profile is a small dict: Danish and English labels and the person's characteristics, age and
seniority on KH at the start, and the conditions on KH that are held fixed along the path
(exposures: illness exemption, case-worker changes in the last 12 months, job conversations in
the last 3 months, activation, paid hours). Exposures not given take :data:`DEFAULT_EXPOSURES`
(no exemption, no change, one job conversation per quarter, no offer, no paid hours).
:func:`profile_frame` turns profiles into model-frame rows (one per profile) for
:func:`analysis.transitions.pathways.predict_occupation`.

The shipped profiles (:data:`DEFAULT_PROFILES`) can be replaced by a YAML file with the same
structure (``pipelines`` config ``transitions.profiles``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from analysis.transitions.frames import add_clock_columns, add_person_columns

__all__ = ["DEFAULT_EXPOSURES", "DEFAULT_PROFILES", "PERSON_DEFAULTS", "profile_frame"]

DEFAULT_EXPOSURES: Mapping[str, float] = {
    "poor_health": 0.0,
    "cw_changes_12m": 0.0,
    "conv_3m": 1.0,
    "in_activation": 0.0,
    "paid_hours": 0.0,
}
PERSON_DEFAULTS: Mapping[str, object] = {
    "sex": "M",
    "origin": "danish",
    "menapt": False,
    "education": "basic",
    "psychiatric_diagnosis": False,
    "substance_abuse_treatment": False,
    "children_placed": False,
    "age": 40,
    "seniority_years": 2.0,
}

DEFAULT_PROFILES: Mapping[str, Mapping[str, object]] = {
    "woman_nonwestern_6y": {
        "label_da": "Kvinde, ikke-vestlig oprindelse, 6 år på kontanthjælp, ingen løntimer",
        "label_en": "Woman, non-western origin, 6 years on social assistance, no paid hours",
        "sex": "F",
        "origin": "non_western",
        "menapt": True,
        "education": "unknown",
        "age": 42,
        "seniority_years": 6,
        "paid_hours": 0,
    },
    "woman_nonwestern_6y_paid_hours": {
        "label_da": "Kvinde, ikke-vestlig oprindelse, 6 år på kontanthjælp, med løntimer",
        "label_en": "Woman, non-western origin, 6 years on social assistance, with paid hours",
        "sex": "F",
        "origin": "non_western",
        "menapt": True,
        "education": "unknown",
        "age": 42,
        "seniority_years": 6,
        "paid_hours": 1,
    },
    "man_danish_55_substance": {
        "label_da": "Mand, dansk oprindelse, 55 år, misbrugsbehandling, 10 år på kontanthjælp",
        "label_en": "Man, Danish origin, 55, substance-abuse treatment, 10 years on social assistance",
        "sex": "M",
        "origin": "danish",
        "education": "basic",
        "age": 55,
        "seniority_years": 10,
        "substance_abuse_treatment": True,
    },
    "young_psychiatric_1y": {
        "label_da": "Ung (24 år) med psykiatrisk diagnose, 1 år på kontanthjælp",
        "label_en": "Young person (24) with a psychiatric diagnosis, 1 year on social assistance",
        "sex": "M",
        "origin": "danish",
        "education": "basic",
        "age": 24,
        "seniority_years": 1,
        "psychiatric_diagnosis": True,
    },
    "man_vocational_new": {
        "label_da": "Mand, 30 år, erhvervsuddannet, 3 måneder på kontanthjælp",
        "label_en": "Man, 30, vocational education, 3 months on social assistance",
        "sex": "M",
        "origin": "danish",
        "education": "vocational",
        "age": 30,
        "seniority_years": 0.25,
    },
}


def profile_frame(
    profiles: Mapping[str, Mapping[str, object]],
    start: date | str,
    kh_state: str = "kh",
    subgroup_levels: list[str] | None = None,
) -> pd.DataFrame:
    """Model-frame rows of the profiles at ``start`` (first day of the starting month).

    Columns: ``profile`` (the key), ``label_da``, ``label_en``, the characteristics, ``state`` (KH),
    ``duration_months`` = ``seniority_months`` (whole months), ``age``, ``birth_year``, ``month``,
    ``month_index`` (1) and the person, clock and exposure terms.
    """
    t0 = pd.Timestamp(start).to_period("M").to_timestamp()
    rows = []
    for key, spec in profiles.items():
        row = {**PERSON_DEFAULTS, **DEFAULT_EXPOSURES, **dict(spec)}
        months = int(round(float(row.pop("seniority_years")) * 12))
        row.update(
            profile=key,
            label_da=str(spec.get("label_da", key)),
            label_en=str(spec.get("label_en", spec.get("label_da", key))),
            state=kh_state,
            duration_months=float(months),
            seniority_months=float(months),
            birth_year=int(t0.year - int(row["age"])),
            month=t0,
            month_index=1,
        )
        rows.append(row)
    df = pd.DataFrame(rows)
    for c in DEFAULT_EXPOSURES:
        df[c] = df[c].astype(float)
    df["age"] = df["age"].astype(float)
    df = add_person_columns(df, subgroup_levels)
    return add_clock_columns(df)

"""What person ids may look like: pseudonymised ids, never raw CPR numbers.

A Danish CPR number is 10 digits, ``DDMMYY-SSSS``; the first six digits are the birth date. Person
ids in research extracts are pseudonymised, so values that look like CPR numbers mean an extract was
not pseudonymised (ingest refuses them) or that microdata is about to leak (the disclosure guards
refuse to publish them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def looks_like_cpr(values: pd.Series) -> pd.Series:
    """True where a value is 10 digits (an optional '-' after the sixth) starting with a valid DDMMYY.

    Parameters
    ----------
    values
        Ids of any type (converted to text; surrounding spaces ignored).

    Returns
    -------
    Boolean Series aligned with ``values``.
    """
    s = values.astype("string").str.strip().str.replace("-", "", n=1, regex=False)
    candidate = s.str.fullmatch(r"\d{10}").fillna(False).astype(bool)
    out = pd.Series(False, index=values.index)
    if not candidate.any():
        return out
    digits = s[candidate]
    dd = digits.str.slice(0, 2).astype(int).to_numpy()
    mm = digits.str.slice(2, 4).astype(int).to_numpy()
    valid_month = (mm >= 1) & (mm <= 12)
    max_day = _DAYS_IN_MONTH[np.where(valid_month, mm, 0)]
    out.loc[digits.index] = valid_month & (dd >= 1) & (dd <= max_day)
    return out

"""Privacy guard: refuse raw CPR numbers as person ids.

A Danish CPR number is 10 digits, ``DDMMYY-SSSS``; the first six digits are the birth date. Person
ids in research extracts are pseudonymised, so an id column whose values look like CPR numbers means
the extract was not pseudonymised and must not be processed (unless the configuration explicitly
allows it, e.g. for ids that are 10-digit pseudonyms by construction).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def looks_like_cpr(ids: pd.Series) -> pd.Series:
    """True where a value is 10 digits (an optional '-' after the sixth) starting with a valid DDMMYY.

    Parameters
    ----------
    ids
        Person ids as strings (other types are converted with ``str``).

    Returns
    -------
    Boolean Series aligned with ``ids``.
    """
    s = ids.astype("string").str.replace("-", "", n=1, regex=False)
    candidate = s.str.fullmatch(r"\d{10}").fillna(False).astype(bool)
    out = pd.Series(False, index=ids.index)
    if not candidate.any():
        return out
    digits = s[candidate]
    dd = digits.str.slice(0, 2).astype(int).to_numpy()
    mm = digits.str.slice(2, 4).astype(int).to_numpy()
    valid_month = (mm >= 1) & (mm <= 12)
    max_day = _DAYS_IN_MONTH[np.where(valid_month, mm, 0)]
    valid = valid_month & (dd >= 1) & (dd <= max_day)
    out.loc[digits.index] = valid
    return out


class PrivacyError(RuntimeError):
    """Input refused for privacy reasons; the message names file, column and rows."""

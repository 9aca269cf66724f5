"""What identifiers may look like: pseudonymised ids, never raw CPR numbers.

A Danish CPR number is 10 digits, ``DDMMYY-SSSS``; the first six digits are the birth date. Ids in
research extracts are pseudonymised, so values that look like CPR numbers mean an extract was not
pseudonymised (ingest refuses them) or that microdata is about to leak (the disclosure guards refuse
to publish them).

The rule (:func:`looks_like_cpr`), applied to a value after stripping surrounding spaces and a
trailing ``.0`` (a number exported as float):

* 10 digits, optionally with ONE space or dash after the sixth (``0101901234``, ``010190-1234``,
  ``010190 1234``), or
* 9 digits, optionally with one space or dash after the fifth: a spreadsheet dropped the leading
  zero of a day 01-09 (``101901234`` is read as ``0101901234``);

and the first six digits (after restoring the zero) are a valid day and month, ``DD`` 01-31 within
the month (29 February allowed), ``MM`` 01-12; ``YY`` is any two digits.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
MASK = "<CPR-like value masked>"
_TEN = r"(\d{6})[ -]?(\d{4})"
_NINE = r"(\d{5})[ -]?(\d{4})"
_IN_TEXT = re.compile(r"(?<![\d])(\d{6}[ -]?\d{4}|\d{5}[ -]?\d{4})(?![\d])")


def _valid_ddmm(dd: np.ndarray, mm: np.ndarray) -> np.ndarray:
    valid_month = (mm >= 1) & (mm <= 12)
    max_day = _DAYS_IN_MONTH[np.where(valid_month, mm, 0)]
    return valid_month & (dd >= 1) & (dd <= max_day)


def _normalise(values: pd.Series) -> pd.Series:
    """Ten-digit text for candidates (zero restored, separator removed), NA otherwise."""
    s = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    ten = s.str.extract(f"^{_TEN}$")
    nine = s.str.extract(f"^{_NINE}$")
    out = (ten[0] + ten[1]).fillna("0" + nine[0] + nine[1])
    return out


def looks_like_cpr(values: pd.Series) -> pd.Series:
    """True where a value is CPR-like by the rule in the module docstring.

    Parameters
    ----------
    values
        Ids of any type (converted to text; surrounding spaces ignored).

    Returns
    -------
    Boolean Series aligned with ``values``.
    """
    # The rule is applied to the distinct values only (an id column repeats each person's id on
    # many rows; a national extract has ~50 million id cells but ~0.5 million distinct ids).
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    out = pd.Series(False, index=values.index)
    if len(uniques) == 0:
        return out
    digits = _normalise(pd.Series(uniques))
    cand = digits.notna().to_numpy()
    if not cand.any():
        return out
    d = digits[cand]
    dd = d.str.slice(0, 2).astype(int).to_numpy()
    mm = d.str.slice(2, 4).astype(int).to_numpy()
    unique_cpr = np.zeros(len(uniques) + 1, dtype=bool)  # last slot: missing values (code -1)
    unique_cpr[np.flatnonzero(cand)] = _valid_ddmm(dd, mm)
    out[:] = unique_cpr[codes]
    return out


def _is_cpr_token(token: str) -> bool:
    digits = re.sub(r"[ -]", "", token)
    if len(digits) == 9:
        digits = "0" + digits
    return bool(_valid_ddmm(np.array([int(digits[:2])]), np.array([int(digits[2:4])]))[0])


def mask_cpr_text(text: str) -> str:
    """``text`` with every CPR-like number in it (same rule, also inside longer text) masked."""
    if not any(c.isdigit() for c in text):
        return text
    return _IN_TEXT.sub(lambda m: MASK if _is_cpr_token(m.group(0)) else m.group(0), text)


def mask_cpr_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with CPR-like values masked in every text cell (column names too)."""
    out = df.copy()
    out.columns = [mask_cpr_text(str(c)) for c in out.columns]
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out[c] = col.map(lambda v: mask_cpr_text(v) if isinstance(v, str) else v)
    return out

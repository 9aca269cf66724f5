"""Numbers and tables formatted for reading, in Danish or English.

Danish: decimal comma, thousands separator ``.``, ``34,2 %``, ``12,3 mio. kr.``;
English: decimal point, thousands separator ``,``, ``34.2%``, ``DKK 12.3 million``.
Locale-independent on purpose (the machine's locale must not change the documents).
Negative numbers use the typographic minus sign (U+2212).

Tables are written as Pandoc pipe tables, which both the HTML and the Typst (PDF) writer
understand, and which Quarto renders the same way from an ``output: asis`` cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

Lang = Literal["da", "en"]
NBSP = "\u00a0"
MINUS = "\u2212"
SUPPRESSED = ".."
"""Mark of a cell withheld by disclosure control (as in Statistics Denmark's tables)."""
MISSING = "–"
"""Mark of a cell that has no value (not computed, not applicable)."""


def _is_missing(x: object) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _group(digits: str, sep: str) -> str:
    """Insert a thousands separator into a string of digits."""
    out = []
    for i, ch in enumerate(reversed(digits)):
        if i and i % 3 == 0:
            out.append(sep)
        out.append(ch)
    return "".join(reversed(out))


def fmt_number(x: object, lang: Lang = "da", decimals: int = 0, *, missing: str = MISSING) -> str:
    """A number with ``decimals`` decimals, thousands separators and the language's decimal mark.

    Examples
    --------
    >>> fmt_number(12345.678, "da", 1)
    '12.345,7'
    >>> fmt_number(-0.5, "en", 2)
    '−0.50'
    """
    if _is_missing(x):
        return missing
    value = float(x)  # type: ignore[arg-type]
    if math.isinf(value):
        return ("" if value > 0 else MINUS) + "∞"
    text = f"{abs(value):.{decimals}f}"
    if set(text) <= set("0.") and value != 0:
        value = 0.0  # rounds to zero: no "−0"
    integer, _, frac = text.partition(".")
    thousands, point = (".", ",") if lang == "da" else (",", ".")
    out = _group(integer, thousands) + (point + frac if frac else "")
    return (MINUS if value < 0 else "") + out


def fmt_int(x: object, lang: Lang = "da", *, missing: str = MISSING) -> str:
    """An integer count with thousands separators (``12.345`` / ``12,345``)."""
    return fmt_number(x, lang, 0, missing=missing)


def fmt_pct(
    x: object, lang: Lang = "da", decimals: int = 0, *, missing: str = MISSING, sign: bool = False
) -> str:
    """A share (fraction, 0.342) as a percentage: ``34 %`` (da, no-break space) or ``34%`` (en).

    ``sign=True`` writes ``+`` before positive values (for changes).
    """
    if _is_missing(x):
        return missing
    body = fmt_number(100 * float(x), lang, decimals)  # type: ignore[arg-type]
    if sign and float(x) > 0 and body.strip("0,.") != "":  # type: ignore[arg-type]
        body = "+" + body
    return body + (NBSP + "%" if lang == "da" else "%")


def fmt_pp(x: object, lang: Lang = "da", decimals: int = 0, *, missing: str = MISSING) -> str:
    """A difference of two shares in percentage points, signed: ``+3 pct.-point`` / ``+3 pp``."""
    if _is_missing(x):
        return missing
    body = fmt_number(100 * float(x), lang, decimals)  # type: ignore[arg-type]
    if float(x) > 0 and body.strip("0,.") != "":  # type: ignore[arg-type]
        body = "+" + body
    return body + (NBSP + "pct.-point" if lang == "da" else NBSP + "pp")


def fmt_dkk(x: object, lang: Lang = "da", *, missing: str = MISSING) -> str:
    """An amount in kroner, scaled to mio./mia.: ``12,3 mio. kr.`` / ``DKK 12.3 million``."""
    if _is_missing(x):
        return missing
    value = float(x)  # type: ignore[arg-type]
    for size, da, en in ((1e9, "mia.", "billion"), (1e6, "mio.", "million")):
        if abs(value) >= size:
            body = fmt_number(value / size, lang, 1)
            return f"{body}{NBSP}{da}{NBSP}kr." if lang == "da" else f"DKK{NBSP}{body}{NBSP}{en}"
    body = fmt_number(value, lang, 0)
    return f"{body}{NBSP}kr." if lang == "da" else f"DKK{NBSP}{body}"


def fmt_ratio(x: object, lang: Lang = "da", decimals: int = 2, *, missing: str = MISSING) -> str:
    """A ratio such as a hazard ratio (two decimals by default)."""
    return fmt_number(x, lang, decimals, missing=missing)


def fmt_interval(
    low: object, high: object, lang: Lang = "da", decimals: int = 2, *, pct: bool = False
) -> str:
    """A confidence interval ``0,70–0,87`` (``pct=True`` formats the bounds as percentages)."""
    if _is_missing(low) or _is_missing(high):
        return MISSING
    if pct:
        return (
            f"{fmt_pct(low, lang, decimals)} til {fmt_pct(high, lang, decimals)}"
            if lang == "da"
            else f"{fmt_pct(low, lang, decimals)} to {fmt_pct(high, lang, decimals)}"
        )
    return f"{fmt_number(low, lang, decimals)}–{fmt_number(high, lang, decimals)}"


def fmt_date(iso: str | None, lang: Lang = "da") -> str:
    """An ISO date/datetime as ``22. november 2026`` (da) or ``22 November 2026`` (en)."""
    if not iso:
        return MISSING
    ts = pd.Timestamp(iso)
    da_months = (
        "januar februar marts april maj juni juli august september oktober november december"
    ).split()
    en_months = (
        "January February March April May June July August September October November December"
    ).split()
    if lang == "da":
        return f"{ts.day}. {da_months[ts.month - 1]} {ts.year}"
    return f"{ts.day} {en_months[ts.month - 1]} {ts.year}"


def as_float(x: object) -> float | None:
    """``x`` as a float, or ``None`` when it is empty or not a number (e.g. "direction")."""
    if _is_missing(x):
        return None
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def fmt_auto(x: object, lang: Lang = "da", *, missing: str = MISSING) -> str:
    """A published/reproduced figure of mixed kind: shares (|x| <= 1) as percent, others as numbers.

    Text (e.g. ``retning``/``direction``) is returned as it is.
    """
    v = as_float(x)
    if v is None:
        return missing if _is_missing(x) else str(x)
    if abs(v) <= 1:
        pct = 100 * v
        return fmt_pct(v, lang, 0 if abs(pct - round(pct)) < 1e-9 else 1)
    return fmt_number(v, lang, 0 if abs(v - round(v)) < 1e-9 else 1)


# --------------------------------------------------------------------------- tables

Kind = Literal["text", "int", "pct", "pct1", "num1", "num2", "num3", "ratio", "dkk", "pp"]


@dataclass(frozen=True)
class Col:
    """One column of a formatted table.

    Parameters
    ----------
    name
        Column in the data frame.
    header
        Header shown to the reader (already in the document's language).
    kind
        ``text`` (as is), ``int`` (count), ``pct``/``pct1`` (share as percent, 0/1 decimals),
        ``num1``/``num2``/``num3`` (1/2/3 decimals), ``ratio`` (2 decimals), ``dkk`` (kroner), ``pp``
        (percentage points), or a callable ``value -> str``.
    """

    name: str
    header: str
    kind: Kind | Callable[[object], str] = "text"
    width: int | None = None
    missing: str | None = None


def format_value(x: object, kind: Kind | Callable[[object], str], lang: Lang, missing: str) -> str:
    """Format one cell by column kind (see :class:`Col`)."""
    if callable(kind):
        return kind(x)
    if kind == "text":
        return MISSING if _is_missing(x) else str(x)
    formatters: dict[str, Callable[[object], str]] = {
        "int": lambda v: fmt_int(v, lang, missing=missing),
        "pct": lambda v: fmt_pct(v, lang, 0, missing=missing),
        "pct1": lambda v: fmt_pct(v, lang, 1, missing=missing),
        "num1": lambda v: fmt_number(v, lang, 1, missing=missing),
        "num2": lambda v: fmt_number(v, lang, 2, missing=missing),
        "num3": lambda v: fmt_number(v, lang, 3, missing=missing),
        "ratio": lambda v: fmt_ratio(v, lang, missing=missing),
        "dkk": lambda v: fmt_dkk(v, lang, missing=missing),
        "pp": lambda v: fmt_pp(v, lang, 1, missing=missing),
    }
    return formatters[kind](x)


def _escape_cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


CELL_PADDING = 3
"""Characters added to every column's relative width in :func:`pipe_table` (cell padding)."""
HEADER_WIDTH = 1.15
"""Header words are set in bold: they count this many characters per character."""


def pipe_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    align: Sequence[str] | None = None,
    widths: Sequence[int | None] | None = None,
) -> str:
    """A Pandoc pipe table from already formatted strings.

    ``align`` holds ``"l"`` or ``"r"`` per column (default: left for the first, right for the rest).
    ``widths`` are relative column widths used when the table is too wide for one line per row
    (default, or ``None`` for a column: the longest cell, at least the longest header word).
    """
    ncol = len(header)
    align = list(align or ["l"] + ["r"] * (ncol - 1))
    # Pandoc takes relative column widths of wide tables from the dashes of this line:
    # make them proportional to the longest word-wrapped content (header words, cells) plus the
    # cell's padding, which every column has whatever its content (without it a short numeric
    # column next to a long label column came out too narrow and hyphenated its header).
    dashes = []
    for j in range(ncol):
        given = widths[j] if widths is not None else None
        if given is None:
            cells = [len(str(r[j])) for r in rows]
            words = [math.ceil(HEADER_WIDTH * len(w)) for w in str(header[j]).split()] or [0]
            given = min(max(cells + words + [3]), 40)
        dashes.append(max(int(given), 3) + CELL_PADDING)
    sep = [
        ("-" * w + ":") if a == "r" else (":" + "-" * w) for a, w in zip(align, dashes, strict=True)
    ]
    lines = [
        "| " + " | ".join(_escape_cell(h) for h in header) + " |",
        "|" + "|".join(sep) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_escape_cell(c) for c in row) + " |")
    return "\n".join(lines)


def md_table(
    df: pd.DataFrame,
    columns: Sequence[Col],
    lang: Lang = "da",
    *,
    missing: str = SUPPRESSED,
) -> str:
    """Format a data frame column by column into a pipe table.

    ``missing`` is written for empty cells of numeric columns (default ``..``: results tables
    carry suppressed cells as empty values). Text columns are left-aligned, numbers right-aligned.
    """
    rows = [
        [
            format_value(rec[c.name], c.kind, lang, missing if c.missing is None else c.missing)
            for c in columns
        ]
        for rec in df.to_dict("records")
    ]
    align = ["l" if c.kind == "text" else "r" for c in columns]
    return pipe_table([c.header for c in columns], rows, align, [c.width for c in columns])


def wide_table(
    df: pd.DataFrame,
    index: str | Sequence[str],
    columns: str,
    values: str,
    kind: Kind,
    lang: Lang = "da",
    *,
    index_headers: Sequence[str] | None = None,
    column_order: Sequence[object] | None = None,
    column_labels: Callable[[object], str] = str,
    index_labels: Callable[[object], str] = str,
    missing: str = SUPPRESSED,
) -> str:
    """Pivot a long table (one value per row) to rows × columns and format it as a pipe table.

    Row order follows first appearance in ``df``; column order ``column_order`` (default: first
    appearance). A cell missing from ``df`` or empty is written as ``missing``.
    """
    index = [index] if isinstance(index, str) else list(index)
    order = list(column_order) if column_order is not None else list(dict.fromkeys(df[columns]))
    keys = list(dict.fromkeys(map(tuple, df[index].itertuples(index=False, name=None))))
    lookup = {(*tuple(r[i] for i in index), r[columns]): r[values] for r in df.to_dict("records")}
    rows = []
    for key in keys:
        cells = [index_labels(k) for k in key]
        cells += [format_value(lookup.get((*key, col)), kind, lang, missing) for col in order]
        rows.append(cells)
    header = list(index_headers or index) + [column_labels(c) for c in order]
    align = ["l"] * len(index) + ["r"] * len(order)
    return pipe_table(header, rows, align)

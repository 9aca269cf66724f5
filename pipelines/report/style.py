"""One print-friendly figure style for every document.

Colour-blind safe palette (Okabe & Ito 2008), fixed colours per state so a state has the same
colour in every figure, readable sizes at A4 text width, and a locale-independent axis formatter
that writes the decimal comma in Danish documents (matplotlib's own ``axes.formatter.use_locale``
depends on the machine's locale, which must not change the documents).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .fmt import Lang, fmt_number

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
GREY = "#8C8C8C"

STATE_COLOURS: dict[str, str] = {
    "kh": GREY,
    "job": "#009E73",
    "edu": "#56B4E9",
    "fj": "#CC79A7",
    "rf": "#E69F00",
    "fp": "#D55E00",
    "other_benefit": "#0072B2",
    "self_support": "#F0E442",
    "dead_or_emigrated": "#000000",
}

TEXT_WIDTH_IN = 6.3
"""Width of the text block of the A4 documents (16 cm), inches."""
DPI = 200

RC: dict[str, object] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO)),
    "lines.linewidth": 1.6,
    "svg.hashsalt": "star-kh",
    "pdf.fonttype": 42,
    "axes.formatter.use_locale": False,
}


def apply_style() -> None:
    """Set the style globally (matplotlib rcParams).

    Plain rcParams rather than ``seaborn.set_theme``: importing seaborn (and with it
    ``scipy.stats``) costs seconds per document and the style needs nothing from it. Figures
    that use seaborn's plotting functions get the same look from these rcParams.
    """
    mpl.rcParams.update(RC)


def new_figure(height: float = 3.0, width: float = TEXT_WIDTH_IN, **subplots: object) -> Figure:
    """A figure at text width not managed by pyplot (no auto-display, no global state).

    ``subplots`` are passed to :meth:`Figure.subplots` (``nrows``, ``ncols``, ``sharey`` ...).
    """
    with mpl.rc_context(RC):
        fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        fig.subplots(**subplots) if subplots else fig.subplots()
    return fig


def number_formatter(lang: Lang, decimals: int = 0) -> FuncFormatter:
    """Axis tick formatter with the language's decimal mark and thousands separator."""
    return FuncFormatter(lambda x, _pos: fmt_number(x, lang, decimals))


def percent_formatter(lang: Lang, decimals: int = 0) -> FuncFormatter:
    """Axis tick formatter for shares (fractions) as percent: ``25 %`` / ``25%``."""
    suffix = "\u00a0%" if lang == "da" else "%"
    return FuncFormatter(lambda x, _pos: fmt_number(100 * x, lang, decimals) + suffix)


def auto_decimals(span: float) -> int:
    """Decimals a tick label needs for an axis spanning ``span`` units."""
    if span >= 5:
        return 0
    if span >= 0.5:
        return 1
    return 2


def format_axis(ax: object, axis: str, lang: Lang, kind: str = "number") -> None:
    """Apply the locale-independent formatter to ``ax.xaxis``/``ax.yaxis``.

    ``kind`` is ``number`` (decimals chosen from the axis span) or ``percent`` (fractions).
    """
    target = ax.yaxis if axis == "y" else ax.xaxis  # type: ignore[attr-defined]
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()  # type: ignore[attr-defined]
    span = abs(hi - lo)
    if kind == "percent":
        target.set_major_formatter(percent_formatter(lang, auto_decimals(100 * span)))
    else:
        target.set_major_formatter(number_formatter(lang, auto_decimals(span)))


def state_colour(code: str, fallback: Callable[[int], str] | None = None, i: int = 0) -> str:
    """Colour of a state (grey for KH, fixed Okabe-Ito colours for the exits)."""
    if code in STATE_COLOURS:
        return STATE_COLOURS[code]
    return fallback(i) if fallback else OKABE_ITO[i % len(OKABE_ITO)]

"""What a document's code cells use: read a results table, protect it, show it, say it is missing.

A document creates one :class:`ReportContext` from its parameters and then, per section::

    stock = ctx.get("stock")        # read + disclosure control; None = absent or withheld
    if stock is None:
        ctx.note("stock")           # prints "not available in this run" / "withheld"
    else:
        ctx.say(readings.stock(stock, year, lang))   # a one-sentence reading
        ctx.table(stock, [Col("year", "År", "int"), ...])   # formatted pipe table
        ctx.show(figures.stacked_shares(stock, ...))          # a figure

Documents read only the results directory (CSV/JSON written by the pipeline), never raw data.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import labels
from .catalog import CATALOG, TableSpec
from .fmt import Col, Lang, fmt_number, fmt_pct, md_table
from .labels import phrase
from .protect import Protected

DEFAULT_THRESHOLD = 5


@dataclass
class ReportContext:
    """Parameters of one rendering and access to the results directory.

    Parameters
    ----------
    results_dir
        Directory written by ``star run`` (``results/``).
    lang
        ``da`` or ``en``.
    year
        Year of the annual report (the cohort/stock year compared with earlier years).
    cohort
        Hovedveje cohort (quarter, e.g. ``2018Q1``).
    threshold
        Disclosure threshold. The documents use the larger of this and the run's threshold
        (provenance manifest); 5 when neither is known.
    """

    results_dir: Path | str
    lang: Lang = "da"
    year: int = 2021
    cohort: str = "2018Q1"
    threshold: int | None = None
    _cache: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)
    _problems: dict[str, str] = field(default_factory=dict, repr=False)
    _withheld: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from .style import apply_style

        apply_style()
        self.results_dir = Path(self.results_dir)
        if self.lang not in ("da", "en"):
            raise ValueError(f"lang must be 'da' or 'en', not {self.lang!r}")
        # The stricter of the rendering's threshold and the run's (provenance) threshold.
        run_threshold = self.config_value("disclosure.threshold", None)
        candidates = [int(v) for v in (self.threshold, run_threshold) if v is not None]
        self.threshold = max(candidates) if candidates else DEFAULT_THRESHOLD

    # ------------------------------------------------------------------ reading
    def t(self, da: str, en: str) -> str:
        """The Danish or the English text, by the document's language."""
        return da if self.lang == "da" else en

    def spec(self, key: str) -> TableSpec:
        return CATALOG[key]

    def read(self, key: str) -> pd.DataFrame | None:
        """A results table by catalog key, or ``None`` when the file is absent or malformed.

        The reason for ``None`` is kept for :meth:`missing_note`.
        """
        if key in self._cache:
            df = self._cache[key]
            return None if df is None else df.copy()
        spec = CATALOG[key]
        path = self.results_dir / spec.path
        df: pd.DataFrame | None = None
        if not path.is_file():
            self._problems[key] = "absent"
        else:
            try:
                df = pd.read_csv(path, encoding="utf-8")
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                self._problems[key] = f"unreadable ({type(exc).__name__})"
            else:
                lacking = [c for c in spec.columns if c not in df.columns]
                if lacking:
                    self._problems[key] = "lacks column(s) " + ", ".join(lacking)
                    df = None
                elif df.empty:
                    self._problems[key] = "empty"
                    df = None
        if df is None:
            print(f"[star report] {spec.path}: {self._problems[key]}", file=sys.stderr)
        self._cache[key] = df
        return None if df is None else df.copy()

    def available(self, *keys: str) -> bool:
        """True when every table in ``keys`` is present and well formed."""
        return all(self.read(k) is not None for k in keys)

    def read_json(self, relpath: str) -> Any | None:
        """A JSON file under the results directory, or ``None`` when absent/unreadable."""
        path = self.results_dir / relpath
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    @property
    def provenance(self) -> dict[str, Any] | None:
        """The run's provenance manifest (``results/provenance.json``), or ``None``."""
        if "_provenance" not in self.__dict__:
            data = self.read_json("provenance.json")
            self.__dict__["_provenance"] = data if isinstance(data, dict) else None
        return self.__dict__["_provenance"]

    def config_value(self, dotted: str, default: Any = None) -> Any:
        """A value of the run's configuration (from the provenance manifest), e.g. ``spells.gap_rule``."""
        node: Any = (self.provenance or {}).get("config") or {}
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    @property
    def synthetic(self) -> bool | None:
        """True when the run used the synthetic register, False for real data, None if unknown.

        From the manifest's ``data_source`` (``synthetic:<size>`` / ``register``) when present,
        else from whether the run wrote the recovery studies (``results/recovery``, written only
        on a register with a ground truth) next to the effect estimates.
        """
        source = (self.provenance or {}).get("data_source")
        if isinstance(source, str):
            return source.startswith("synthetic")
        rec = self.read("effect_recovery")
        if rec is not None:
            return bool(rec["truth"].notna().any())
        if self.read("effects") is not None:
            return False
        return None

    # ------------------------------------------------------------------ formatting shortcuts
    def pct(self, x: object, decimals: int = 0) -> str:
        return fmt_pct(x, self.lang, decimals)

    def num(self, x: object, decimals: int = 0) -> str:
        return fmt_number(x, self.lang, decimals)

    def label(self, code: object, table: dict[str, tuple[str, str]] | None = None) -> str:
        return labels.label(code, self.lang, table)

    # ------------------------------------------------------------------ notes
    def missing_note(self, *keys: str) -> str:
        """A visible note (Markdown) that the results behind a section are not in this run."""
        files = ", ".join(f"`{CATALOG[k].path}`" for k in keys)
        head = phrase("not_available", self.lang)
        return f"\n::: {{.unavailable}}\n*{head}* ({files}).\n:::\n"

    def withheld_note(self, key: str) -> str:
        """A visible note that a table/figure is withheld whole by disclosure control."""
        head = phrase("withheld", self.lang)
        return f"\n::: {{.unavailable}}\n*{head}* (`{CATALOG[key].path}`).\n:::\n"

    def note(self, *keys: str) -> bool:
        """Print why any of ``keys`` cannot be shown (absent, malformed or withheld).

        Returns True when all of them can be shown (nothing printed).
        """
        missing = [k for k in keys if self.read(k) is None]
        withheld = [k for k in keys if k not in missing and k in self._withheld]
        if missing:
            print(self.missing_note(*missing))
        for k in withheld:
            print(self.withheld_note(k))
        return not (missing or withheld)

    note_if_missing = note

    # ------------------------------------------------------------------ protection
    def protect(self, df: pd.DataFrame, key: str) -> Protected:
        """Disclosure control of a results table by its declared rule (the results registry)."""
        assert self.threshold is not None
        return CATALOG[key].protect(df, self.threshold)

    def get(self, key: str) -> pd.DataFrame | None:
        """Read and protect a table; ``None`` when it is absent, malformed or withheld.

        Prints nothing: the section that shows the table calls :meth:`note` for the reason.
        """
        df = self.read(key)
        if df is None:
            return None
        result = self.protect(df, key)
        if result.withheld:
            self._withheld[key] = result.reason or "withheld"
            print(f"[star report] {CATALOG[key].path}: withheld: {result.reason}", file=sys.stderr)
            return None
        return result.frame

    protected = get

    # ------------------------------------------------------------------ output
    def table(
        self,
        df: pd.DataFrame | None,
        columns: Sequence[Col],
        *,
        small: bool | None = None,
        note: str | None = None,
    ) -> None:
        """Print ``df`` as a formatted pipe table (cell ``output: asis``).

        ``small`` sets the table in smaller type (default: when it has more than 6 columns).
        Empty count/value cells are shown as ``..`` with a footnote.
        """
        if df is None:
            return
        text = md_table(df, columns, self.lang)
        self.emit_table(text, n_columns=len(columns), small=small, note=note)

    def emit_table(
        self, text: str, *, n_columns: int, small: bool | None = None, note: str | None = None
    ) -> None:
        """Print an already formatted pipe table, with the suppression footnote when needed.

        Tables of more than 20 rows may break across pages (class ``long-table``); shorter ones
        are kept on one page with their caption.
        """
        small = n_columns > 6 if small is None else small
        n_rows = sum(1 for line in text.splitlines() if line.startswith("|")) - 2
        classes = [c for c, on in (("small-table", small), ("long-table", n_rows > 20)) if on]
        if classes:
            attrs = " ".join("." + c for c in classes)
            print(f"\n::: {{{attrs}}}\n{text}\n:::\n")
        else:
            print("\n" + text + "\n")
        notes = []
        if "| .. |" in text or "| .. \n" in text:
            notes.append(phrase("suppressed_note", self.lang, t=self.threshold))
        if note:
            notes.append(note)
        if notes:
            print("\n::: {.table-note}\n" + " ".join(notes) + "\n:::\n")

    def show(self, fig: object | None) -> None:
        """Display a matplotlib figure as the cell's figure output (``None`` shows nothing)."""
        if fig is None:
            return
        from IPython.display import display

        display(fig)

    def say(self, text: str | None) -> None:
        """Print a paragraph of Markdown (cell ``output: asis``); ``None`` prints nothing."""
        if text:
            print("\n" + text.strip() + "\n")

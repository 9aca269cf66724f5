"""Disclosure control at the document boundary: every table and figure passes through here.

Results tables are already disclosure-controlled by the stage that writes them; the documents
check again, because a document is what gets published. The suppression itself (primary and
secondary suppression of count/share tables, the curve guard for survival curves) is
``analysis.disclosure`` (BRIEF section 9), owned by the reproduction branch. This module only
adapts to it and does not implement suppression a second time.

While ``analysis.disclosure`` is not importable, this module fails closed: a table with any cell
below the threshold, or a curve with a point below it, is withheld whole (the document prints
a note instead). That is a check, not a suppression algorithm.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Protected:
    """Outcome of disclosure control on one table or curve.

    Attributes
    ----------
    frame
        The publishable frame (suppressed cells empty), or ``None`` when withheld whole.
    n_suppressed
        Number of suppressed cells (count cells that are empty after control).
    reason
        Why the frame was withheld (``None`` when it was not).
    """

    frame: pd.DataFrame | None
    n_suppressed: int = 0
    reason: str | None = None

    @property
    def withheld(self) -> bool:
        return self.frame is None


def _backend() -> ModuleType | None:
    """``analysis.disclosure`` if it is installed (it lands from the reproduction branch)."""
    try:
        return importlib.import_module("analysis.disclosure")
    except ModuleNotFoundError:
        return None


def _small(values: pd.Series, threshold: int) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce")
    return (v > 0) & (v < threshold)


def protect_table(
    df: pd.DataFrame,
    *,
    counts: Sequence[str],
    values: Sequence[str] = (),
    margins: Sequence[str] = (),
    threshold: int,
) -> Protected:
    """Primary and secondary suppression of a long count/share table.

    Parameters
    ----------
    df
        One row per published cell.
    counts
        Person-count columns (a cell is unsafe when 0 < count < threshold).
    values
        Columns derived from the counts (shares, means), suppressed with them.
    margins
        Columns that identify a set of cells adding up to a published total.
    threshold
        Minimum number of persons behind a published cell.
    """
    counts = [c for c in counts if c in df.columns]
    values = [c for c in values if c in df.columns]
    if not counts:
        return Protected(df.copy())
    backend = _backend()
    if backend is not None and hasattr(backend, "suppress_table"):
        out = backend.suppress_table(
            df,
            count_columns=list(counts),
            value_columns=list(values),
            margins=[m for m in margins if m in df.columns],
            threshold=threshold,
        )
    else:
        unsafe = np.zeros(len(df), dtype=bool)
        for c in counts:
            unsafe |= _small(df[c], threshold).to_numpy()
        if unsafe.any():
            return Protected(
                None,
                int(unsafe.sum()),
                f"{int(unsafe.sum())} cell(s) below {threshold} and secondary suppression "
                "(analysis.disclosure) is not installed",
            )
        out = df.copy()
    n_suppressed = int(out[counts].isna().any(axis=1).sum())
    return Protected(out, n_suppressed)


def protect_curve(
    df: pd.DataFrame,
    *,
    threshold: int,
    n_risk: str = "n_risk",
    n_event: str | None = "n_event",
    by: Sequence[str] = (),
) -> Protected:
    """Curve guard for Kaplan-Meier / cumulative-incidence / state-occupation curves.

    A curve may be drawn only where at least ``threshold`` persons are at risk and each drawn step
    aggregates at least ``threshold`` events. Points that fail are removed (by the backend) or,
    without the backend, the whole curve is withheld.
    """
    backend = _backend()
    if backend is not None and hasattr(backend, "guard_curve"):
        out = backend.guard_curve(
            df,
            threshold=threshold,
            n_risk=n_risk,
            n_event=n_event if n_event in df.columns else None,
            by=[b for b in by if b in df.columns],
        )
        return Protected(out, len(df) - len(out))
    unsafe = pd.to_numeric(df[n_risk], errors="coerce").fillna(0) < threshold
    if n_event is not None and n_event in df.columns:
        unsafe |= _small(df[n_event], threshold)
    if unsafe.any():
        return Protected(
            None,
            int(unsafe.sum()),
            f"{int(unsafe.sum())} curve point(s) below {threshold} and the curve guard "
            "(analysis.disclosure) is not installed",
        )
    return Protected(df.copy())

"""Writing published tables and figures of the analysis stages (one way for every stage)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from analysis.disclosure import assert_publishable

__all__ = ["save_figure", "write_table"]


def write_table(
    df: pd.DataFrame,
    path: Path,
    threshold: int,
    known_ids: Iterable[str] | None,
    float_format: str | None = None,
) -> Path:
    """Write ``df`` as UTF-8 CSV after :func:`analysis.disclosure.assert_publishable` (raises on a
    cell below ``threshold``, a person id of ``known_ids``, ...); dates as ``YYYY-MM-DD``."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    assert_publishable(out, threshold, known_ids, name=path.name)
    out.to_csv(path, index=False, encoding="utf-8", float_format=float_format)
    return path


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure (PNG, 130 dpi) and close it (figures of a national run add up)."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path

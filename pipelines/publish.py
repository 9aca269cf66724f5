"""Writing published tables and figures of the analysis stages (one way for every stage).

Tables are declared in :mod:`pipelines.results_registry` and written by its ``write_table``;
:func:`write_table` here is the same call addressed by the file's path
(``<results>/<area>/<file>.csv``, or ``table=`` naming the registry entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from pipelines import results_registry

__all__ = ["save_figure", "write_table"]


def write_table(
    df: pd.DataFrame,
    path: Path,
    threshold: int,
    known_ids: Iterable[str] | None,
    float_format: str | None = None,
    *,
    table: str | None = None,
) -> Path:
    """Write ``df`` to ``path`` through :func:`pipelines.results_registry.write_table`.

    The table is the registry entry ``table``, or the one declared for ``<area>/<file>`` of
    ``path`` (its directory's name and its file name); its columns, kinds and disclosure rule are
    checked, then :func:`analysis.disclosure.assert_publishable` (raises on a cell below
    ``threshold``, a person id of ``known_ids``, ...); dates as ``YYYY-MM-DD``.
    """
    path = Path(path)
    if table is None:
        rel = f"{results_registry.area_of_dir(path.parent)}/{path.name}"
        spec = results_registry.spec_for_path(rel)
        if spec is None:
            raise KeyError(
                f"{rel}: results table not declared in "
                "pipelines.results_registry (add a _table entry there)"
            )
        table = spec.name
    return results_registry.write_table(
        table,
        df,
        path.parent.parent,
        threshold=threshold,
        known_ids=known_ids,
        float_format=float_format,
        out_dir=path.parent,
    )


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure (PNG, 130 dpi) and close it (figures of a national run add up)."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path

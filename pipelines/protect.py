"""Disclosure control at the document boundary: every table and figure passes through here.

Results tables are already disclosure-controlled by the stage that writes them; the documents
apply the same control again, because a document is what gets published (and a results file may
come from an older run or another tool). The suppression itself is ``analysis.disclosure``
(primary and secondary cell suppression, the curve guard); this module only adapts the
declared rules of :mod:`pipelines.results_registry` to it. Re-applying it to an already protected
table changes nothing (suppressed cells are missing and stay missing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import disclosure

ALL = "__all__"
"""Pseudo key column: one denominator / one line over every row of the table."""


@dataclass(frozen=True)
class Protected:
    """Outcome of disclosure control on one table or curve.

    Attributes
    ----------
    frame
        The publishable frame (suppressed cells missing), or ``None`` when nothing can be shown.
    n_suppressed
        Rows with a suppressed cell (tables) or curve points not published (curves).
    reason
        Why nothing can be shown (``None`` when ``frame`` is given).
    """

    frame: pd.DataFrame | None
    n_suppressed: int = 0
    reason: str | None = None

    @property
    def withheld(self) -> bool:
        return self.frame is None


def protect_table(df: pd.DataFrame, *, threshold: int, **suppress: Any) -> Protected:
    """Primary and secondary suppression of a table of person counts.

    ``suppress`` are the keyword arguments of :func:`analysis.disclosure.suppress` (``counts``,
    ``denominator``, ``denominator_keys``, ``partitions``, ``lines``, ``stats``, ...); columns
    they name that the table lacks are dropped from the description, and the key ``__all__``
    stands for "every row". The returned frame has the columns of ``df`` (plus the
    ``suppressed`` flag when cells were suppressed).
    """
    kwargs = _fit(df, suppress)
    if not kwargs["counts"] and kwargs.get("denominator") is None:
        return Protected(df.copy())
    work = df.assign(**{ALL: 0}) if _uses_all(kwargs) else df
    out = disclosure.suppress(work, threshold=threshold, **kwargs)
    if ALL in out.columns and ALL not in df.columns:
        out = out.drop(columns=ALL)
    flag = kwargs.get("flag", disclosure.FLAG)
    n_suppressed = int(out[flag].sum()) if flag in out.columns else 0
    if flag in out.columns and flag not in df.columns and n_suppressed == 0:
        out = out.drop(columns=flag)
    return Protected(out, n_suppressed)


def protect_curve(
    df: pd.DataFrame,
    *,
    threshold: int,
    by: Sequence[str] = (),
    n_event: str | None = "n_event",
    n_risk: str = "n_risk",
    time: str = "time",
) -> Protected:
    """The curve guard: only steps with at least ``threshold`` at risk, each aggregating at least
    ``threshold`` events (:func:`analysis.disclosure.guard_curve`)."""
    out = disclosure.guard_curve(
        df,
        threshold=threshold,
        time=time,
        n_risk=n_risk,
        n_event=n_event if n_event in df.columns else None,
        by=[b for b in by if b in df.columns],
    )
    if out.empty:
        return Protected(None, len(df), f"no curve point has at least {threshold} persons")
    return Protected(out, len(df) - len(out))


def _uses_all(kwargs: Mapping[str, Any]) -> bool:
    specs = [kwargs.get("denominator_keys") or []]
    for key in ("lines", "partitions", "denominator_lines"):
        specs += [s for s in kwargs.get(key, ()) if not isinstance(s, pd.Series)]
    return any(ALL in spec for spec in specs)


def _fit(df: pd.DataFrame, suppress: Mapping[str, Any]) -> dict[str, Any]:
    """The suppression arguments restricted to the columns ``df`` has."""
    cols = set(df.columns) | {ALL}
    kwargs = dict(suppress)
    counts = kwargs.get("counts", [])
    if isinstance(counts, Mapping):
        kwargs["counts"] = {
            c: [d for d in deps if d in cols] for c, deps in counts.items() if c in cols
        }
    else:
        kwargs["counts"] = [c for c in counts if c in cols]
    if kwargs.get("denominator") is not None and kwargs["denominator"] not in cols:
        kwargs["denominator"] = None
    if kwargs.get("denominator") is None:
        for key in ("denominator_keys", "partitions", "denominator_lines", "stats"):
            kwargs.pop(key, None)
    for key in ("lines", "partitions", "denominator_lines"):
        if key in kwargs:
            kwargs[key] = [s for s in kwargs[key] if isinstance(s, pd.Series) or set(s) <= cols]
    if "denominator_keys" in kwargs and kwargs["denominator_keys"] is not None:
        if not set(kwargs["denominator_keys"]) <= cols:
            kwargs["denominator_keys"] = None
            kwargs.pop("partitions", None)
    if "stats" in kwargs:
        kwargs["stats"] = [c for c in kwargs["stats"] if c in cols]
    return kwargs

"""Statistical disclosure control (diskretionering) of published tables and curves.

Pure functions on data frames; every function returns a new frame and never mutates its input.
Statistics Denmark requires at least 3 units behind every published cell (5 for health data); the
default threshold here is 5.

Tables (:func:`suppress`)
    A table is a set of *cells*: person counts in one or more count columns and, optionally, the
    row's denominator (``n``). Suppression works in two passes.

    1. *Primary*: a count cell is suppressed when ``0 < count < threshold``; a denominator when
       ``0 < n < threshold`` (and then every count of its rows, since they are subsets of it); with
       ``complement=True`` also a count whose complement within its denominator is small,
       ``0 < n - count < threshold`` (a share of 97 % of 60 persons reveals 2 persons without the
       property). Zeros are published: an empty cell reveals nobody.
    2. *Secondary (complementary)*: cells are grouped into *lines*, sets of cells that add up to a
       published total (the total is itself a cell of the line: a margin row, or the denominator
       when a categorical variable's levels partition it). In every line with exactly one suppressed
       cell, the smallest positive unsuppressed cell of the line is suppressed as well (ties: first
       in table order); this is repeated over all lines until nothing changes (a fixed point). A
       line whose other cells are all zero gets no complementary cell (nothing positive to hide it
       behind); in practice the primary rule on the denominator covers that case.

    This is the usual one-cell-per-line heuristic: it guarantees that no suppressed cell can be
    recovered from a single line by subtraction; it does not solve the full linear-programming
    audit over all lines at once (a τ-ARGUS-style optimisation), which is rarely needed for the
    small hierarchical tables published here.

    Suppressed cells become missing, dependent columns (shares computed from a suppressed count or
    denominator, statistics over a suppressed denominator) become missing, and a boolean flag column
    (``suppressed``) marks every row with at least one suppressed cell.

Curves (:func:`guard_curve`)
    Survival, cumulative-incidence and state-occupation curves are published only at times where
    at least ``threshold`` persons are at risk, with consecutive steps merged so that every
    published step aggregates at least ``threshold`` events; see the function for the exact rule.

Guards
    :func:`person_id_columns` / :func:`assert_no_person_ids` find columns that are or contain person
    ids; :func:`disclosure_problems` / :func:`assert_publishable` check a finished table against the
    published-table conventions (person counts, exact extremes, ids); :func:`safe_quantile` and
    :func:`describe_distribution` give percentiles that are averages of several persons' values, never
    a single person's value, and no exact minimum or maximum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from data_schema.ids import looks_like_cpr

DEFAULT_THRESHOLD = 5
FLAG = "suppressed"

PERSON_ID_COLUMN = re.compile(
    r"^(person_?id|pnr|cpr(_?n(r|umber))?|id_?person|personnummer|person)$", re.IGNORECASE
)
COUNT_COLUMN = re.compile(r"^n(_[A-Za-z0-9_]+)?$")
EXTREME_COLUMN = re.compile(r"^(min|max|minimum|maximum)$|_(min|max)$", re.IGNORECASE)

LineSpec = Sequence[str] | pd.Series


class DisclosureError(ValueError):
    """A table is not fit for publication; the message lists every problem found."""


# ---------------------------------------------------------------------------------------------
# Table suppression
# ---------------------------------------------------------------------------------------------


def _labels(df: pd.DataFrame, spec: LineSpec) -> np.ndarray:
    """Line label per row (-1 = row not in any line of this spec)."""
    if isinstance(spec, pd.Series):
        lab = spec if spec.index.equals(df.index) else spec.reindex(df.index)
        codes = pd.factorize(lab.to_numpy(), use_na_sentinel=True)[0]
        return codes.astype(np.int64)
    cols = list(spec)
    if not cols:
        return np.zeros(len(df), dtype=np.int64)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"line keys {missing} are not columns of the table")
    return df.groupby(cols, sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)


def _as_float(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def suppress(
    df: pd.DataFrame,
    counts: Mapping[str, Sequence[str]] | Sequence[str],
    *,
    denominator: str | None = "n",
    denominator_keys: Sequence[str] | None = None,
    lines: Sequence[LineSpec] = (),
    partitions: Sequence[LineSpec] = (),
    denominator_lines: Sequence[LineSpec] = (),
    stats: Sequence[str] = (),
    threshold: int = DEFAULT_THRESHOLD,
    complement: bool = True,
    flag: str = FLAG,
) -> pd.DataFrame:
    """Primary and secondary cell suppression of a table of person counts (see module docstring).

    Parameters
    ----------
    df
        The table, one row per published row; not modified.
    counts
        Person-count columns, or a mapping ``{count column: [dependent columns]}`` where the
        dependents (typically the share ``count / n``) are blanked with their count.
    denominator
        Column with the row's denominator (persons in the group), or ``None``. Every count of a row
        is a subset of its denominator.
    denominator_keys
        Columns that identify a denominator (rows sharing them share one ``n``, e.g. the seniority
        group); ``None`` means every row has its own denominator. The denominator must be constant
        within the keys.
    lines
        Lines over count cells: each spec is a list of key columns (rows with equal keys form one
        line, separately for each count column) or a Series of line labels aligned with ``df``
        (missing = not in a line). A line must contain its total when the total is published
        (e.g. the 'all' row), so that the rule "exactly one suppressed cell" sees it.
    partitions
        Lines of count cells that add up to their common denominator (the levels of a categorical
        variable within a group); the denominator cell joins the line. Do not declare a partition
        for a single binary indicator whose complement is not published.
    denominator_lines
        Lines over denominators (groups that add up to a published total group).
    stats
        Columns of statistics over the denominator's persons (means, percentiles), blanked when the
        denominator is suppressed.
    threshold
        Minimum number of persons behind a published cell.
    complement
        Also suppress a count whose complement ``n - count`` is positive and below the threshold.
    flag
        Name of the boolean column marking rows with a suppressed cell (combined with an existing
        column of that name by logical or, so that passes compose).

    Returns
    -------
    A copy of ``df`` with suppressed cells missing (integer columns become nullable ``Int64``) and
    the flag column.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    count_map: dict[str, list[str]] = (
        {c: list(d) for c, d in counts.items()}
        if isinstance(counts, Mapping)
        else {c: [] for c in counts}
    )
    needed = list(count_map) + [d for ds in count_map.values() for d in ds] + list(stats)
    if denominator is not None:
        needed.append(denominator)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} are not in the table; available: {list(df.columns)}")
    if denominator is None and (partitions or denominator_lines or stats):
        raise ValueError("partitions, denominator_lines and stats need a denominator column")

    work = df.reset_index(drop=True)
    n_rows = len(work)
    count_cols = list(count_map)
    n_count_cells = len(count_cols) * n_rows
    values = [_as_float(work[c]) for c in count_cols]

    # denominator cells
    if denominator is not None:
        den_val_rows = _as_float(work[denominator])
        if denominator_keys:
            den_of_row = work.groupby(list(denominator_keys), sort=False, dropna=False).ngroup()
            den_of_row = den_of_row.to_numpy(dtype=np.int64)
            n_den = int(den_of_row.max()) + 1 if n_rows else 0
            den_values = np.full(n_den, np.nan)
            den_values[den_of_row] = den_val_rows
            check = den_values[den_of_row]
            bad = ~(np.isclose(check, den_val_rows) | (np.isnan(check) & np.isnan(den_val_rows)))
            if bad.any():
                raise ValueError(
                    f"denominator {denominator!r} is not constant within {list(denominator_keys)}"
                )
        else:
            den_of_row = np.arange(n_rows, dtype=np.int64)
            den_values = den_val_rows.copy()
            n_den = n_rows
    else:
        den_of_row = np.full(n_rows, -1, dtype=np.int64)
        den_values = np.empty(0)
        n_den = 0
    den_offset = n_count_cells
    cell_value = np.concatenate([*values, den_values]) if (values or n_den) else np.empty(0)

    # primary suppression
    def small(v: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (v > 0) & (v < threshold)

    supp = small(cell_value)
    if n_den:
        den_small = supp[den_offset:]
        row_den_small = den_small[den_of_row]
        row_den = den_values[den_of_row]
        for j in range(len(count_cols)):
            block = slice(j * n_rows, (j + 1) * n_rows)
            supp[block] |= row_den_small & ~np.isnan(values[j])
            if complement:
                supp[block] |= small(row_den - values[j])

    # line membership: (line id, cell id)
    member_line: list[np.ndarray] = []
    member_cell: list[np.ndarray] = []
    next_line = 0

    def add(line_ids: np.ndarray, cell_ids: np.ndarray) -> None:
        nonlocal next_line
        keep = line_ids >= 0
        if keep.any():
            member_line.append(line_ids[keep] + next_line)
            member_cell.append(cell_ids[keep])
            next_line += int(line_ids[keep].max()) + 1

    rows = np.arange(n_rows, dtype=np.int64)
    for spec in lines:
        lab = _labels(work if not isinstance(spec, pd.Series) else df, spec)
        for j in range(len(count_cols)):
            add(lab, j * n_rows + rows)
    for spec in partitions:
        lab = _labels(work if not isinstance(spec, pd.Series) else df, spec)
        for j in range(len(count_cols)):
            in_line = lab >= 0
            den_pairs = pd.DataFrame(
                {"l": lab[in_line], "d": den_of_row[in_line]}
            ).drop_duplicates()
            line_ids = np.concatenate([lab, den_pairs["l"].to_numpy()])
            cell_ids = np.concatenate([j * n_rows + rows, den_offset + den_pairs["d"].to_numpy()])
            add(line_ids, cell_ids)
    for spec in denominator_lines:
        lab = _labels(work if not isinstance(spec, pd.Series) else df, spec)
        pairs = pd.DataFrame({"l": lab, "d": den_of_row})
        pairs = pairs[pairs["l"] >= 0].drop_duplicates()
        add(pairs["l"].to_numpy(), den_offset + pairs["d"].to_numpy())

    # secondary suppression to a fixed point
    if member_line:
        mem = pd.DataFrame(
            {"line": np.concatenate(member_line), "cell": np.concatenate(member_cell)}
        )
        mem = mem.drop_duplicates()
        mem["value"] = cell_value[mem["cell"].to_numpy()]
        mem = mem[mem["value"].notna()].sort_values(["line", "value", "cell"], kind="mergesort")
        line_arr = mem["line"].to_numpy()
        cell_arr = mem["cell"].to_numpy()
        positive = mem["value"].to_numpy() > 0
        while True:
            s = supp[cell_arr]
            n_supp = pd.Series(s).groupby(line_arr).sum()
            one = n_supp.index[n_supp.to_numpy() == 1]
            if len(one) == 0:
                break
            cand = ~s & positive & np.isin(line_arr, one)
            if not cand.any():
                break
            # rows are sorted by (line, value, cell): the first candidate of a line is its smallest
            first = pd.Series(cell_arr[cand]).groupby(line_arr[cand]).first().to_numpy()
            new = first[~supp[first]]
            if len(new) == 0:
                break
            supp[new] = True

    # write back
    out = df.copy()
    row_flag = np.zeros(n_rows, dtype=bool)
    den_supp_row = supp[den_offset + den_of_row] if n_den else np.zeros(n_rows, dtype=bool)
    for j, c in enumerate(count_cols):
        mask = supp[j * n_rows : (j + 1) * n_rows]
        row_flag |= mask
        out[c] = _masked(out[c], mask)
        for dep in count_map[c]:
            out[dep] = _masked(out[dep], mask | den_supp_row)
    if n_den:
        row_flag |= den_supp_row
        out[denominator] = _masked(out[denominator], den_supp_row)
        for st in stats:
            out[st] = _masked(out[st], den_supp_row)
    if flag in out.columns:
        out[flag] = out[flag].fillna(False).astype(bool).to_numpy() | row_flag
    else:
        out[flag] = row_flag
    return out


def _masked(s: pd.Series, mask: np.ndarray) -> pd.Series:
    """``s`` with the masked positions missing; integer columns become nullable ``Int64``."""
    if not mask.any():
        return s
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("Int64" if pd.api.types.is_integer_dtype(s.dtype) else "boolean")
    elif not (
        pd.api.types.is_float_dtype(s.dtype)
        or isinstance(s.dtype, pd.api.extensions.ExtensionDtype)
    ):
        s = s.astype(object)
    return s.mask(pd.Series(mask, index=s.index))


def suppressed_share(count: pd.Series | np.ndarray, n: pd.Series | np.ndarray) -> np.ndarray:
    """``count / n`` with missing where either is missing or ``n`` is 0 (no division warnings)."""
    c = pd.to_numeric(pd.Series(np.asarray(count, dtype=object)), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    d = pd.to_numeric(pd.Series(np.asarray(n, dtype=object)), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, c / d, np.nan)


# ---------------------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------------------


def curve_steps(
    n_risk: np.ndarray,
    n_event: np.ndarray | None,
    min_at_risk: int | None,
    min_events: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The steps of ONE curve that may be drawn, and the events each drawn step aggregates.

    Rules 1-3 of :func:`guard_curve` on arrays (one entry per step, in time order), with separate
    thresholds for persons at risk and events (``None`` or 0 disables a rule). With
    ``n_event=None`` (state occupation) every step with at least ``min_at_risk`` at risk is drawn.
    The single implementation of the curve rule: :func:`guard_curve` and the plot guards of
    :mod:`analysis.survival` and :mod:`analysis.multistate` call it.

    Returns
    -------
    (indices of the drawn steps, merged events per drawn step)
    """
    risk_ok = np.ones(len(n_risk), dtype=bool)
    if min_at_risk:
        risk_ok = np.asarray(n_risk, dtype=float) >= min_at_risk
    if n_event is None:
        rows = np.flatnonzero(risk_ok)
        return rows, np.zeros(len(rows))
    events = np.nan_to_num(np.asarray(n_event, dtype=float), nan=0.0)
    need = max(float(min_events or 0), 1.0)
    rows, merged = [], []
    # A short sequential scan over curve steps (not persons): the accumulation resets at each
    # published step, which has no closed vectorised form. Curves have at most a few thousand steps.
    acc, ok = 0.0, True
    for i in range(len(events)):
        acc += events[i]
        ok = ok and bool(risk_ok[i])
        if acc >= need:
            if ok:
                rows.append(i)
                merged.append(acc)
            acc, ok = 0.0, True
    return np.asarray(rows, dtype=np.int64), np.asarray(merged, dtype=float)


def guard_curve(
    curve: pd.DataFrame,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    time: str = "time",
    n_risk: str = "n_risk",
    n_event: str | None = "n_event",
    by: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """Keep only curve steps that pass disclosure control.

    The rule, per curve (per combination of ``by``), rows in time order:

    1. Steps are merged forward: events are accumulated from one published step to the next, and a
       step is published at the first time the accumulated number of events reaches ``threshold``.
       The published row is the curve at that time (its estimate and confidence limits, which
       already include every merged event), with ``n_event`` = the accumulated events of the merged
       steps and ``n_risk`` = the number at risk at that time.
    2. A merged step is published only when every row merged into it had at least ``threshold`` at
       risk; merged steps that fail this are dropped (with delayed entry the risk set may be small
       early on and grow later; without it, this cuts the curve's tail).
    3. Events left after the last published step that do not reach ``threshold`` are dropped (the
       curve ends at its last published step).
    4. The curve's first row is kept as the starting point when it has no events and at least
       ``threshold`` at risk (e.g. time 0, estimate 1).

    Without ``n_event`` (state-occupation curves), only rows with ``n_risk >= threshold`` are kept.

    Parameters
    ----------
    curve
        Tidy curve: ``time``, estimate columns, ``n_risk`` and (optionally) ``n_event`` per step.
    threshold
        Minimum persons at risk and minimum events per published step.
    time, n_risk, n_event
        Column names; ``n_event=None`` for curves without event counts.
    by
        Columns identifying separate curves (group, cause, state).

    Returns
    -------
    The published rows, in the input's column order, index reset.
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    cols = [time, n_risk, *by_cols] + ([n_event] if n_event else [])
    missing = [c for c in cols if c not in curve.columns]
    if missing:
        raise KeyError(f"curve has no column(s) {missing}")
    data = curve.sort_values([*by_cols, time], kind="mergesort").reset_index(drop=True)
    risk = _as_float(data[n_risk])
    if n_event is None:
        return data[risk >= threshold].reset_index(drop=True)
    events = np.nan_to_num(_as_float(data[n_event]), nan=0.0)
    group = (
        data.groupby(by_cols, sort=False).ngroup().to_numpy()
        if by_cols
        else np.zeros(len(data), dtype=np.int64)
    )
    keep = np.zeros(len(data), dtype=bool)
    merged_events = np.zeros(len(data))
    starts = (
        np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(data) else np.array([], int)
    )
    ends = [*starts[1:], len(data)] if len(starts) else []  # an empty curve has no segment
    for lo, hi in zip(starts, ends, strict=True):
        first = lo
        # rule 4: a curve's first row without events is its starting point
        if events[first] == 0 and risk[first] >= threshold:
            keep[first] = True
            lo += 1
        rows, merged = curve_steps(risk[lo:hi], events[lo:hi], threshold, threshold)
        keep[lo + rows] = True
        merged_events[lo + rows] = merged
    out = data.copy()
    out[n_event] = merged_events
    if pd.api.types.is_integer_dtype(data[n_event].dtype):
        out[n_event] = out[n_event].astype(data[n_event].dtype)
    return out[keep].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Guards
# ---------------------------------------------------------------------------------------------


def person_id_columns(
    df: pd.DataFrame, known_ids: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """Columns that are, or contain, person ids: ``[(column, reason), ...]``.

    A column is flagged when its name looks like a person-id column (person_id, pnr, cpr, ...),
    when any of its text values looks like a raw CPR number, or when any value equals one of
    ``known_ids`` (the ids of the input, when given).
    """
    if isinstance(known_ids, frozenset | set):
        known = known_ids
    else:
        known = frozenset(str(i) for i in known_ids) if known_ids is not None else frozenset()
    found: list[tuple[str, str]] = []
    for col in df.columns:
        name = str(col)
        if PERSON_ID_COLUMN.match(name):
            found.append((name, "column name looks like a person id"))
            continue
        s = df[col]
        if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        txt = s.dropna().astype(str)
        if txt.empty:
            continue
        if looks_like_cpr(txt).any():
            found.append((name, "values look like raw CPR numbers"))
        # distinct values against the Python set: pandas' isin with a large set is slow
        elif known and any(v in known for v in txt.unique()):
            found.append((name, "values are person ids of the input"))
    return found


def assert_no_person_ids(df: pd.DataFrame, known_ids: Iterable[str] | None = None) -> None:
    """Raise :class:`DisclosureError` if :func:`person_id_columns` finds anything."""
    found = person_id_columns(df, known_ids)
    if found:
        raise DisclosureError(
            "person ids in a table meant for publication: "
            + "; ".join(f"{c}: {r}" for c, r in found)
        )


def disclosure_problems(
    df: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    known_ids: Iterable[str] | None = None,
) -> list[str]:
    """Problems that make ``df`` unfit for publication under the results-table conventions.

    Checks: person-count columns (``n``, ``n_*``) hold only 0, missing or values ``>= threshold``;
    no column named like an exact minimum/maximum (``min``, ``max``, ``*_min``, ``*_max``); no person
    ids (:func:`person_id_columns`); curve tables (``time`` + ``n_risk``) publish no step with
    nobody at risk.
    """
    problems: list[str] = []
    for col in df.columns:
        name = str(col)
        if COUNT_COLUMN.match(name):
            v = pd.to_numeric(df[col], errors="coerce")
            bad = v.notna() & (v > 0) & (v < threshold)
            if bad.any():
                problems.append(
                    f"{name}: {int(bad.sum())} count(s) below the threshold {threshold}"
                )
        if EXTREME_COLUMN.search(name):
            problems.append(f"{name}: exact minimum/maximum of individual values")
    problems += [f"{c}: {r}" for c, r in person_id_columns(df, known_ids)]
    if "time" in df.columns and "n_risk" in df.columns and "estimate" in df.columns:
        r = pd.to_numeric(df["n_risk"], errors="coerce")
        if ((r == 0) & df["estimate"].notna()).any():
            problems.append("n_risk: curve step published with nobody at risk")
    return problems


def assert_publishable(
    df: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    known_ids: Iterable[str] | None = None,
    name: str = "table",
) -> None:
    """Raise :class:`DisclosureError` listing every problem :func:`disclosure_problems` finds."""
    problems = disclosure_problems(df, threshold, known_ids)
    if problems:
        raise DisclosureError(f"{name} is not publishable:\n  " + "\n  ".join(problems))


# ---------------------------------------------------------------------------------------------
# Distributions without individual values
# ---------------------------------------------------------------------------------------------


def safe_quantile(
    values: Sequence[float] | np.ndarray | pd.Series,
    q: float,
    threshold: int = DEFAULT_THRESHOLD,
) -> float:
    """Quantile ``q`` as the mean of the ``threshold`` order statistics around it.

    An ordinary percentile is one person's value (or an interpolation of two); averaging the
    ``threshold`` sorted values nearest to the quantile's position means no single person's value is
    published. ``q=0`` / ``q=1`` thus give the mean of the lowest / highest ``threshold`` values, not
    an exact minimum / maximum. Missing values are ignored; fewer than ``threshold`` values give NaN.
    """
    if not 0 <= q <= 1:
        raise ValueError("q must be within [0, 1]")
    v = np.sort(
        pd.to_numeric(pd.Series(np.asarray(values)), errors="coerce").dropna().to_numpy(float)
    )
    k = int(threshold)
    if len(v) < k or k < 1:
        return float("nan")
    pos = q * (len(v) - 1)
    lo = int(np.clip(np.floor(pos - (k - 1) / 2), 0, len(v) - k))
    return float(v[lo : lo + k].mean())


def describe_distribution(
    df: pd.DataFrame,
    value: str,
    by: Sequence[str] | str | None = None,
    quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
    threshold: int = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Publishable summary of a person-level value: ``n``, ``mean`` and percentiles ``p10`` ...

    Percentiles are :func:`safe_quantile` (means of ``threshold`` neighbouring values); no exact
    minimum or maximum is given. Groups with fewer than ``threshold`` persons get ``n`` and every
    statistic missing and ``suppressed`` true.
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    names = [f"p{round(q * 100):02d}" if q < 0.1 else f"p{round(q * 100)}" for q in quantiles]

    def summarise(s: pd.Series) -> pd.Series:
        v = pd.to_numeric(s, errors="coerce").dropna()
        row = {"n": len(v), "mean": v.mean() if len(v) else np.nan}
        for q, nm in zip(quantiles, names, strict=True):
            row[nm] = safe_quantile(v, q, threshold)
        return pd.Series(row)

    if by_cols:
        out = df.groupby(by_cols, sort=True, dropna=False)[value].apply(summarise).unstack()
        out = out.reset_index()
    else:
        out = summarise(df[value]).to_frame().T
    out["n"] = out["n"].astype("int64")
    return suppress(out, [], denominator="n", stats=["mean", *names], threshold=threshold)

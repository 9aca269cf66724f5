"""Standard figures of the documents, in the one style of :mod:`pipelines.report.style`.

Each function takes an already disclosure-controlled long data frame and returns a matplotlib
``Figure`` (or ``None`` when there is nothing to draw). Labels are passed in the document's
language; tick labels use the language's decimal mark. Suppressed (empty) values are not drawn.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import labels
from .fmt import Lang, fmt_pct
from .style import GREY, OKABE_ITO, TEXT_WIDTH_IN, format_axis, new_figure, state_colour

Labeller = Callable[[object], str]


def _identity(x: object) -> str:
    return str(x)


def _order(values: pd.Series, order: Sequence[object] | None) -> list[object]:
    present = list(dict.fromkeys(values))
    if order is None:
        return present
    return [v for v in order if v in present] + [v for v in present if v not in order]


def _finish_panels(
    fig: Figure, n_used: int, lang: Lang, ykind: str, xlabel: str, ylabel: str, legend: bool
) -> None:
    """Common end of the faceted figures: hide unused panels, locale tick labels, the shared
    axis labels and (with several lines) one legend above the panels from the first panel."""
    axes = fig.axes
    for ax in axes[n_used:]:
        ax.set_visible(False)
    for ax in axes[:n_used]:
        format_axis(ax, "y", lang, ykind)
        format_axis(ax, "x", lang, "number")
    fig.supxlabel(xlabel, fontsize=9)
    if ylabel:
        fig.supylabel(ylabel, fontsize=9)
    if legend:
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper center", ncols=min(5, len(names)))


def stacked_shares(
    df: pd.DataFrame,
    *,
    x: str,
    hue: str,
    value: str,
    lang: Lang,
    xlabel: str = "",
    hue_order: Sequence[object] | None = None,
    x_label: Labeller = _identity,
    hue_label: Labeller = _identity,
    colours: dict[object, str] | None = None,
    height: float = 3.0,
    annotate: bool = True,
    facet: str | None = None,
    facet_label: Labeller = _identity,
) -> Figure | None:
    """Stacked 100 % bars: the distribution of ``hue`` (shares in ``value``) for each ``x``.

    Used for the stock by seniority per year and the hovedveje state distribution per half-year;
    with ``facet``, one panel per facet value side by side (shared axis). Segments of at least
    6 % are labelled with their share (``annotate``).
    """
    data = df.dropna(subset=[value])
    if data.empty:
        return None
    facets = _order(data[facet], None) if facet else [None]
    hues = _order(data[hue], hue_order)
    fig = new_figure(height, ncols=len(facets), sharey=True, squeeze=False)
    axes = fig.axes
    for k, f in enumerate(facets):
        ax = axes[k]
        sub_f = data if f is None else data[data[facet] == f]
        xs = _order(sub_f[x], None)
        bottom = np.zeros(len(xs))
        for i, h in enumerate(hues):
            sub = sub_f[sub_f[hue] == h].set_index(x)[value]
            heights = np.array([float(sub.get(v, 0.0)) for v in xs])
            colour = (colours or {}).get(h) or state_colour(str(h), i=i)
            ax.bar(
                range(len(xs)),
                heights,
                bottom=bottom,
                color=colour,
                width=0.72,
                label=hue_label(h),
                edgecolor="white",
                linewidth=0.4,
            )
            if annotate:
                for j, (b, hgt) in enumerate(zip(bottom, heights, strict=True)):
                    if hgt >= 0.06:
                        dark = colour in ("#000000", "#0072B2", "#D55E00", "#8C8C8C", "#009E73")
                        ax.text(
                            j,
                            b + hgt / 2,
                            fmt_pct(hgt, lang),
                            ha="center",
                            va="center",
                            fontsize=7.5,
                            color="white" if dark else "black",
                        )
            bottom += heights
        names = [x_label(v) for v in xs]
        if len(xs) > 5 and max(len(str(n)) for n in names) > 6:  # many long labels: wrap them
            names = [textwrap.fill(str(n), 9) for n in names]
            ax.tick_params(axis="x", labelsize=7)
        ax.set_xticks(range(len(xs)), names)
        ax.set_ylim(0, max(1.0, float(bottom.max())))
        if f is not None:
            ax.set_title(textwrap.fill(facet_label(f), 11), fontsize=8)
        if k == 0:
            format_axis(ax, "y", lang, "percent")
    if xlabel:
        if facet:
            for ax in axes:
                ax.set_xlabel(xlabel if ax is axes[len(axes) // 2] else "")
        else:
            fig.supxlabel(xlabel, fontsize=9)
    handles, names = axes[0].get_legend_handles_labels()
    if facet:
        fig.legend(handles, names, loc="outside lower center", ncols=min(5, len(names)))
    else:
        fig.legend(handles[::-1], names[::-1], loc="outside right upper")
    return fig


def trend_lines(
    df: pd.DataFrame,
    *,
    x: str,
    hue: str,
    value: str,
    lang: Lang,
    hue_order: Sequence[object] | None = None,
    hue_label: Labeller = _identity,
    height: float = 2.6,
    ylabel: str = "",
    annotate_last: bool = False,
) -> Figure | None:
    """One line per ``hue`` of the shares in ``value`` over ``x`` (report years, integer ticks).

    Suppressed (empty) values break the line instead of being drawn as zero. With
    ``annotate_last``, the last point of each line is labelled with its share.
    """
    data = df.dropna(subset=[value])
    if data.empty:
        return None
    fig = new_figure(height)
    ax = fig.axes[0] if fig.axes else fig.subplots()
    xs = sorted(df[x].unique())
    for i, h in enumerate(_order(data[hue], hue_order)):
        sub = df[df[hue] == h].set_index(x)[value].reindex(xs).astype(float)
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        ax.plot(xs, sub.to_numpy(), marker="o", markersize=3.5, linewidth=1.4, color=colour,
                label=hue_label(h))  # fmt: skip
        last = sub.dropna()
        if annotate_last and len(last):
            ax.annotate(fmt_pct(last.iloc[-1], lang), (last.index[-1], last.iloc[-1]),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=7.5,
                        color=colour)  # fmt: skip
    ax.set_xticks(xs, [str(v) for v in xs])
    ax.set_ylim(0, min(1.0, float(data[value].max()) * 1.15 + 0.02))
    format_axis(ax, "y", lang, "percent")
    if ylabel:
        ax.set_ylabel(ylabel)
    fig.legend(loc="outside right upper", fontsize=7.5)
    return fig


def grouped_bars(
    df: pd.DataFrame,
    *,
    category: str,
    group: str,
    value: str,
    lang: Lang,
    category_label: Labeller = _identity,
    group_label: Labeller = _identity,
    group_order: Sequence[object] | None = None,
    category_order: Sequence[object] | None = None,
    percent: bool = True,
    xlabel: str = "",
    height: float | None = None,
) -> Figure | None:
    """Horizontal grouped bars: ``value`` per ``category`` (rows), one bar per ``group``."""
    data = df.dropna(subset=[value])
    if data.empty:
        return None
    cats = _order(data[category], category_order)
    groups = _order(data[group], group_order)
    height = height or max(1.8, 0.17 * len(cats) * max(1, len(groups)) ** 0.5 + 0.7)
    fig = new_figure(height)
    ax = fig.axes[0]
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    bar_h = 0.8 / len(groups)
    for i, g in enumerate(groups):
        sub = data[data[group] == g].set_index(category)[value]
        ys = np.arange(len(cats)) - 0.4 + bar_h * (i + 0.5)
        vals = [float(sub.get(c, np.nan)) for c in cats]
        ax.barh(ys, vals, height=bar_h, color=OKABE_ITO[i % len(OKABE_ITO)], label=group_label(g))
    ax.set_yticks(range(len(cats)), [category_label(c) for c in cats])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    format_axis(ax, "x", lang, "percent" if percent else "number")
    if len(groups) > 1:
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=min(4, len(groups)))
    return fig


def curves(
    df: pd.DataFrame,
    *,
    time: str = "time",
    estimate: str = "estimate",
    conf_low: str | None = "conf_low",
    conf_high: str | None = "conf_high",
    hue: str | None = None,
    facet: str | None = None,
    lang: Lang,
    xlabel: str = "",
    ylabel: str = "",
    hue_label: Labeller = _identity,
    facet_label: Labeller = _identity,
    facet_order: Sequence[object] | None = None,
    hue_order: Sequence[object] | None = None,
    ncols: int = 3,
    state_colours: bool = False,
) -> Figure | None:
    """Step curves (cumulative incidence, state occupation) with confidence bands.

    One panel per ``facet`` value (e.g. per exit), one line per ``hue`` value (e.g. per cohort).
    The curves must already have passed the curve guard.
    """
    data = df.dropna(subset=[estimate]).sort_values(time)
    if data.empty:
        return None
    facets = _order(data[facet], facet_order) if facet else [None]
    if hue:
        hues = _order(
            data[hue], hue_order if hue_order is not None else sorted(set(data[hue]), key=str)
        )
    else:
        hues = [None]
    ncols = min(ncols, len(facets))
    nrows = int(np.ceil(len(facets) / ncols))
    fig = new_figure(
        1.9 * nrows + 0.6,
        TEXT_WIDTH_IN,
        nrows=nrows,
        ncols=ncols,
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    axes = fig.axes
    for k, f in enumerate(facets):
        ax = axes[k]
        sub_f = data if f is None else data[data[facet] == f]
        for i, h in enumerate(hues):
            sub = sub_f if h is None else sub_f[sub_f[hue] == h]
            if sub.empty:
                continue
            colour = state_colour(str(h), i=i) if state_colours else OKABE_ITO[i % len(OKABE_ITO)]
            ax.step(
                sub[time],
                sub[estimate],
                where="post",
                color=colour,
                label=hue_label(h) if h is not None else None,
            )
            if conf_low and conf_high and conf_low in sub and conf_high in sub:
                ax.fill_between(
                    sub[time],
                    sub[conf_low],
                    sub[conf_high],
                    step="post",
                    color=colour,
                    alpha=0.18,
                    linewidth=0,
                )
        if f is not None:
            ax.set_title(textwrap.fill(facet_label(f), 28), fontsize=8.5)
        ax.set_ylim(bottom=0)
    _finish_panels(fig, len(facets), lang, "percent", xlabel, ylabel, bool(hue) and len(hues) > 1)
    return fig


def forest(
    df: pd.DataFrame,
    *,
    label: str,
    estimate: str = "estimate",
    conf_low: str = "conf_low",
    conf_high: str = "conf_high",
    truth: str | None = "truth",
    group: str | None = None,
    lang: Lang,
    xlabel: str = "",
    reference: float = 1.0,
    log: bool = True,
    row_label: Labeller = _identity,
    group_label: Labeller = _identity,
    truth_label: str = "",
) -> Figure | None:
    """Estimates with intervals, one row each (hazard ratios on a log axis by default).

    A vertical line marks ``reference``; where ``truth`` is filled (synthetic data) a diamond marks
    the true value. Rows are grouped by ``group`` (e.g. exposure) with a heading per group.
    """
    data = df.dropna(subset=[estimate]).reset_index(drop=True)
    if data.empty:
        return None
    rows: list[tuple[str, pd.Series | None]] = []
    if group:
        for g in _order(data[group], None):
            rows.append((group_label(g), None))
            rows.extend((row_label(r[label]), r) for _, r in data[data[group] == g].iterrows())
    else:
        rows.extend((row_label(r[label]), r) for _, r in data.iterrows())
    fig = new_figure(0.24 * len(rows) + 0.9)
    ax = fig.axes[0]
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ys = np.arange(len(rows))
    truth_drawn = False
    for y, (_name, r) in zip(ys, rows, strict=True):
        if r is None:
            continue
        ax.plot([r[conf_low], r[conf_high]], [y, y], color=OKABE_ITO[0], linewidth=1.4)
        ax.plot(r[estimate], y, "o", color=OKABE_ITO[0], markersize=4.5)
        if truth and truth in r and pd.notna(r[truth]):
            ax.plot(
                r[truth],
                y,
                "D",
                color=OKABE_ITO[5],
                markersize=4.5,
                fillstyle="none",
                label=truth_label if not truth_drawn else None,
            )
            truth_drawn = True
    ax.axvline(reference, color="#555555", linewidth=0.8, linestyle="--")
    ax.set_yticks(ys, [n for n, _ in rows])
    for tick, (_n, r) in zip(ax.get_yticklabels(), rows, strict=True):
        if r is None:
            tick.set_fontweight("bold")
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")

        # Limits from the finite values only: an unbounded interval (a CI limit of 0 or inf on a
        # small register) runs to the edge of the axis instead of breaking the figure.
        def _finite(cols: list[str]) -> np.ndarray:
            v = data[cols].to_numpy(dtype=float).ravel()
            return v[np.isfinite(v) & (v > 0)]

        low_values = _finite([conf_low, estimate])
        high_values = _finite([conf_high, estimate])
        if truth and truth in data:
            low_values = np.concatenate([low_values, _finite([truth])])
            high_values = np.concatenate([high_values, _finite([truth])])
        lo = float(low_values.min(initial=reference))
        hi = float(high_values.max(initial=reference))
        lo, hi = min(lo, reference) * 0.92, max(hi, reference) * 1.08
        ax.set_xlim(lo, hi)
        ticks = [
            t
            for t in (0.25, 0.33, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0)
            if lo <= t <= hi
        ]
        ax.set_xticks(ticks)
        ax.minorticks_off()
        from .style import number_formatter

        ax.xaxis.set_major_formatter(number_formatter(lang, 2))
    else:
        format_axis(ax, "x", lang, "number")
    ax.set_xlabel(xlabel)
    if truth_drawn:
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0))
    return fig


def dots(
    df: pd.DataFrame,
    *,
    label: str,
    value: str,
    lang: Lang,
    compare: str | None = None,
    value_name: str = "",
    compare_name: str = "",
    percent: bool = True,
    xlabel: str = "",
    row_label: Labeller = _identity,
    sort: bool = False,
) -> Figure | None:
    """A dot plot, one row per ``label``: ``value`` (filled) and optionally ``compare`` (open).

    Used for published vs reproduced figures and for the spread across municipalities.
    """
    data = df.dropna(subset=[value]).reset_index(drop=True)
    if data.empty:
        return None
    if sort:
        data = data.sort_values(value).reset_index(drop=True)
    fig = new_figure(0.16 * len(data) + 0.9)
    ax = fig.axes[0]
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ys = np.arange(len(data))
    if compare:
        for y, (a, b) in enumerate(zip(data[value], data[compare], strict=True)):
            if pd.notna(b):
                ax.plot([a, b], [y, y], color="#BBBBBB", linewidth=1.0, zorder=1)
        ax.plot(
            data[compare],
            ys,
            "o",
            markerfacecolor="white",
            markeredgecolor=OKABE_ITO[1],
            markersize=5,
            label=compare_name,
            zorder=2,
        )
    ax.plot(data[value], ys, "o", color=OKABE_ITO[0], markersize=4.5, label=value_name, zorder=3)
    ax.set_yticks(ys, [row_label(v) for v in data[label]])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    format_axis(ax, "x", lang, "percent" if percent else "number")
    if compare:
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    return fig


def heatmap(
    df: pd.DataFrame,
    *,
    rows: str,
    cols: str,
    value: str,
    lang: Lang,
    row_label: Labeller = _identity,
    col_label: Labeller = _identity,
    row_order: Sequence[object] | None = None,
    col_order: Sequence[object] | None = None,
    xlabel: str = "",
) -> Figure | None:
    """A heatmap of shares (e.g. indicator prevalence by group), each cell labelled in percent.

    No colour bar: every cell carries its number; the colour only guides the eye.
    """
    data = df.dropna(subset=[value])
    if data.empty:
        return None
    r_keys = _order(data[rows], row_order)
    c_keys = _order(data[cols], col_order)
    grid = (
        data.pivot_table(index=rows, columns=cols, values=value, aggfunc="first")
        .reindex(index=r_keys, columns=c_keys)
        .to_numpy(dtype=float)
    )
    fig = new_figure(0.24 * len(r_keys) + 0.9)
    ax = fig.axes[0]
    ax.grid(False)
    ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=1.1)
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if np.isfinite(grid[i, j]):
                ax.text(
                    j,
                    i,
                    fmt_pct(grid[i, j], lang),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if grid[i, j] > 0.6 else "black",
                )
    ax.set_xticks(range(len(c_keys)), [textwrap.fill(col_label(c), 10) for c in c_keys])
    ax.set_yticks(range(len(r_keys)), [row_label(r) for r in r_keys])
    ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False, length=0)
    ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel)
        ax.xaxis.set_label_position("top")
    return fig


def calibration(
    df: pd.DataFrame,
    *,
    observed: str = "observed",
    predicted: str = "predicted",
    hue: str = "state",
    x: str = "half_year",
    lang: Lang,
    xlabel: str = "",
    ylabel: str = "",
    x_label: Labeller = _identity,
) -> Figure | None:
    """Calibration: observed minus predicted share (percentage points) per state over ``x``.

    A gap plot reads better than observed-vs-predicted when the shares span 1 % to 90 %: every
    state is on the same scale and zero is perfect calibration.
    """
    data = df.dropna(subset=[observed, predicted]).sort_values(x)
    if data.empty:
        return None
    fig = new_figure(2.6)
    ax = fig.axes[0]
    ax.axhline(0, color="#555555", linewidth=0.8, linestyle="--")
    xs = _order(data[x], None)
    for i, s in enumerate(_order(data[hue], labels.STATE_ORDER)):
        sub = data[data[hue] == s].set_index(x)
        gap = [
            100 * (float(sub.loc[v, observed]) - float(sub.loc[v, predicted]))
            if v in sub.index
            else np.nan
            for v in xs
        ]
        ax.plot(
            range(len(xs)),
            gap,
            "o-",
            color=state_colour(str(s), i=i),
            markersize=4,
            label=labels.state(s, lang),
        )
    lim = max(1.0, float(np.nanmax(np.abs(100 * (data[observed] - data[predicted])))) * 1.3)
    ax.set_ylim(-lim, lim)
    ax.set_xticks(range(len(xs)), [x_label(v) for v in xs])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    format_axis(ax, "y", lang, "number")
    fig.legend(loc="outside right upper")
    return fig


def funnel(
    units: pd.DataFrame,
    limits: pd.DataFrame,
    *,
    lang: Lang,
    xlabel: str = "",
    ylabel: str = "",
    label: str | None = None,
    n_labels: int = 6,
) -> Figure | None:
    """Funnel plot: O/E ratio (``ratio``) of each unit against its expected count
    (``expected``, log axis), with the control limits of ``limits`` (``expected, level, lower,
    upper``; 95 % dashed, 99.8 % solid) around 1; the ``n_labels`` units furthest outside
    (smallest ``p_value``) are labelled with ``label``."""
    data = units.dropna(subset=["ratio", "expected"]).reset_index(drop=True)
    if data.empty or limits.empty:
        return None
    fig = new_figure(3.2)
    ax = fig.axes[0]
    for level, style in ((0.95, "--"), (0.998, "-")):
        lim = limits[limits["level"] == level].sort_values("expected")
        for col in ("lower", "upper"):
            ax.plot(lim["expected"], lim[col], style, color="#777777", linewidth=0.9)
    ax.axhline(1.0, color="#333333", linewidth=0.8)
    merged = data["merged"].astype(str).str.lower().eq("true") if "merged" in data else None
    colours = np.where(merged, OKABE_ITO[1], OKABE_ITO[0]) if merged is not None else OKABE_ITO[0]
    ax.scatter(data["expected"], data["ratio"], s=14, c=colours, zorder=3)
    if label and "p_value" in data and n_labels:
        for _, row in data.nsmallest(n_labels, "p_value").iterrows():
            ax.annotate(
                str(row[label]),
                (row["expected"], row["ratio"]),
                textcoords="offset points",
                xytext=(4, 3),
                fontsize=6.5,
            )
    ax.set_xscale("log")
    ax.set_xlim(limits["expected"].min(), max(limits["expected"].max(), data["expected"].max()))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    format_axis(ax, "y", lang, "number")
    return fig


def _band_limits(
    df: pd.DataFrame, estimate: str, conf_low: str, conf_high: str, reference: str | None
) -> tuple[float, float]:
    """y limits of a panel: the bands, but at most two spans of the curves (with their reference
    lines and 0) beyond them, so that a nearly unidentified term's huge band does not flatten
    its curve to a line."""
    cols = [estimate] + ([reference] if reference and reference in df else [])
    v = df[cols].to_numpy(dtype=float)
    lo, hi = min(float(np.nanmin(v)), 0.0), max(float(np.nanmax(v)), 0.0)
    pad = max(hi - lo, 0.1 * max(abs(lo), abs(hi)), 1e-3)
    low = max(float(np.nanmin(df[conf_low])), lo - 2 * pad)
    high = min(float(np.nanmax(df[conf_high])), hi + 2 * pad)
    margin = 0.04 * (high - low)
    return low - margin, high + margin


def coefficient_curves(
    df: pd.DataFrame,
    *,
    facet: str = "term",
    hue: str | None = "cause",
    time: str = "time",
    estimate: str = "estimate",
    conf_low: str = "conf_low",
    conf_high: str = "conf_high",
    reference: str | None = "fitted",
    lang: Lang,
    xlabel: str = "",
    ylabel: str = "",
    facet_label: Labeller = _identity,
    hue_label: Labeller = _identity,
    hue_order: Sequence[object] | None = None,
    ncols: int = 4,
) -> Figure | None:
    """Smoothed time-varying coefficients ``beta(t)`` with their bands (R ``plot(cox.zph)``).

    One small panel per ``facet`` value (model term, own y scale), one line per ``hue`` value
    (exit, in its state colour, named in a legend even when alone) with a dashed line in the
    same colour at ``reference`` (the model's constant estimate) and a grey line at 0 (no
    effect). A curve that stays flat around its dashed line is consistent with proportional
    hazards.
    """
    data = df.dropna(subset=[estimate]).sort_values(time)
    if data.empty:
        return None
    facets = _order(data[facet], None)
    hues = _order(data[hue], hue_order) if hue else [None]
    ncols = min(ncols, len(facets))
    nrows = int(np.ceil(len(facets) / ncols))
    fig = new_figure(
        1.55 * nrows + 0.7, TEXT_WIDTH_IN, nrows=nrows, ncols=ncols, sharex=True, squeeze=False
    )
    axes = fig.axes
    for k, f in enumerate(facets):
        ax = axes[k]
        ax.axhline(0, color=GREY, linewidth=0.8)
        for i, h in enumerate(hues):
            sub = data[data[facet] == f]
            sub = sub if h is None else sub[sub[hue] == h]
            if sub.empty:
                continue
            colour = state_colour(str(h), i=i)
            ax.plot(sub[time], sub[estimate], color=colour, linewidth=1.3,
                    label=hue_label(h) if h is not None else None)  # fmt: skip
            ax.fill_between(sub[time], sub[conf_low], sub[conf_high], color=colour, alpha=0.15,
                            linewidth=0)  # fmt: skip
            if reference and sub[reference].notna().any():
                ax.axhline(float(sub[reference].iloc[0]), color=colour, linewidth=0.9,
                           linestyle="--")  # fmt: skip
        ax.set_title(textwrap.fill(facet_label(f), 20), fontsize=8)
        ax.tick_params(labelsize=7.5)
        ax.set_ylim(*_band_limits(data[data[facet] == f], estimate, conf_low, conf_high, reference))
    _finish_panels(fig, len(facets), lang, "number", xlabel, ylabel, legend=bool(hue))
    return fig

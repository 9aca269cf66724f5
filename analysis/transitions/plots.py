"""Figures of the transition analysis (matplotlib ``Figure`` objects, no pyplot state).

Every function takes tables that have already passed disclosure control (suppressed cells are
missing and are not drawn) and optional ``labels`` (code -> text) and ``colours`` (code -> colour)
for the states, so the pipeline can pass the report's Danish/English names and palette.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

__all__ = [
    "plot_calibration",
    "plot_flows",
    "plot_occupation",
    "plot_pathways",
    "plot_state_distribution",
]

_PALETTE = ("#999999", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
            "#CC79A7", "#000000")  # fmt: skip


def _label(labels: Mapping[str, str] | Callable[[str], str] | None, code: str) -> str:
    if labels is None:
        return str(code)
    if callable(labels):
        return labels(code)
    return labels.get(code, str(code))


def _colour(colours: Mapping[str, str] | None, code: str, i: int) -> str:
    if colours and code in colours:
        return colours[code]
    return _PALETTE[i % len(_PALETTE)]


def _order(values: Sequence[str], order: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(values))
    if not order:
        return present
    return [s for s in order if s in present] + [s for s in present if s not in order]


def plot_state_distribution(
    dist: pd.DataFrame,
    groups: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
    labels: Mapping[str, str] | Callable[[str], str] | None = None,
    group_labels: Mapping[str, str] | Callable[[str], str] | None = None,
    colours: Mapping[str, str] | None = None,
    xlabel: str = "half-year",
) -> Figure:
    """Stacked state shares per half-year, one panel per group (``group, half_year, state,
    share``)."""
    groups = list(groups) if groups is not None else list(dict.fromkeys(dist["group"]))
    st = _order(dist["state"], states)
    ncol = min(4, len(groups))
    nrow = int(np.ceil(len(groups) / ncol))
    fig = Figure(figsize=(2.2 * ncol + 1.6, 2.3 * nrow), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharey=True, squeeze=False)).ravel()
    for ax, g in zip(axes, groups, strict=False):
        sub = dist[dist["group"] == g]
        hy = sorted(sub["half_year"].unique())
        bottom = np.zeros(len(hy))
        for i, s in enumerate(st):
            v = (
                sub[sub["state"] == s]
                .set_index("half_year")["share"]
                .reindex(hy)
                .to_numpy(dtype=float)
            )
            v = np.nan_to_num(v)
            ax.bar(range(len(hy)), v, bottom=bottom, color=_colour(colours, s, i), width=0.8,
                   label=_label(labels, s))  # fmt: skip
            bottom += v
        ax.set_xticks(range(len(hy)), [str(h) for h in hy])
        ax.set_title(_label(group_labels, g), fontsize=9)
        ax.set_ylim(0, 1)
        ax.set_xlabel(xlabel, fontsize=8)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right upper", fontsize=8)
    return fig


def plot_flows(
    dist: pd.DataFrame,
    flows: pd.DataFrame,
    group: str = "all",
    states: Sequence[str] | None = None,
    labels: Mapping[str, str] | Callable[[str], str] | None = None,
    colours: Mapping[str, str] | None = None,
    xlabel: str = "half-year",
) -> Figure:
    """Alluvial diagram of one group: a stacked bar of states per half-year and bands between
    consecutive bars with width proportional to the persons moving (suppressed flows are not
    drawn, so a bar's outgoing bands may not fill it)."""
    d = dist[dist["group"] == group]
    f = flows[flows["group"] == group]
    st = _order(d["state"], states)
    hy = sorted(d["half_year"].unique())
    fig = Figure(figsize=(7.5, 4.0), layout="constrained")
    ax = fig.subplots()
    width = 0.18
    # bar segments: (half_year, state) -> (bottom, top) in shares
    seg: dict[tuple[int, str], tuple[float, float]] = {}
    for x, h in enumerate(hy):
        sub = d[d["half_year"] == h].set_index("state")["share"]
        bottom = 0.0
        for i, s in enumerate(st):
            v = float(np.nan_to_num(sub.get(s, 0.0)))
            if v > 0:
                ax.bar(x, v, bottom=bottom, width=width, color=_colour(colours, s, i),
                       edgecolor="white", linewidth=0.5, label=_label(labels, s) if x == 0 else None)  # fmt: skip
            seg[(h, s)] = (bottom, bottom + v)
            bottom += v
    total = d.groupby("half_year")["n"].first()
    for x, h in enumerate(hy[:-1]):
        h2 = hy[x + 1]
        out_pos = {s: seg[(h, s)][0] for s in st if (h, s) in seg}
        in_pos = {s: seg[(h2, s)][0] for s in st if (h2, s) in seg}
        fh = f[f["from_half_year"] == h]
        for a in st:
            for i, b in enumerate(st):
                r = fh[(fh["from_state"] == a) & (fh["to_state"] == b)]
                if r.empty or pd.isna(r["n_persons"].iloc[0]) or r["n_persons"].iloc[0] <= 0:
                    continue
                w = float(r["n_persons"].iloc[0]) / float(total.loc[h])
                y0, y1 = out_pos[a], in_pos[b]
                out_pos[a] += w
                in_pos[b] += w
                xa, xb = x + width / 2, x + 1 - width / 2
                xm = (xa + xb) / 2
                verts = [(xa, y0), (xm, y0), (xm, y1), (xb, y1), (xb, y1 + w), (xm, y1 + w),
                         (xm, y0 + w), (xa, y0 + w), (xa, y0)]  # fmt: skip
                codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
                         MplPath.LINETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4,
                         MplPath.CLOSEPOLY]  # fmt: skip
                ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=_colour(colours, b, i),
                                       alpha=0.35, linewidth=0))  # fmt: skip
    ax.set_xticks(range(len(hy)), [str(h) for h in hy])
    ax.set_xlim(-0.5, len(hy) - 0.5)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    fig.legend(loc="outside right upper", fontsize=8)
    return fig


def plot_pathways(
    pathways: pd.DataFrame,
    states: Sequence[str] | None = None,
    labels: Mapping[str, str] | Callable[[str], str] | None = None,
    colours: Mapping[str, str] | None = None,
    profile_column: str = "profile",
    xlabel: str = "half-year",
) -> Figure:
    """Predicted state probabilities by half-year for each profile (one panel each), with
    bootstrap bands where ``conf_low``/``conf_high`` are given."""
    profs = list(dict.fromkeys(pathways[profile_column]))
    st = _order(pathways["state"], states)
    ncol = min(3, len(profs))
    nrow = int(np.ceil(len(profs) / ncol))
    fig = Figure(figsize=(3.0 * ncol + 1.8, 2.6 * nrow), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharey=True, squeeze=False)).ravel()
    for ax, prof in zip(axes, profs, strict=False):
        sub = pathways[pathways[profile_column] == prof]
        for i, s in enumerate(st):
            r = sub[sub["state"] == s].sort_values("half_year")
            if r.empty or r["probability"].max() < 0.005:
                continue
            c = _colour(colours, s, i)
            ax.plot(
                r["half_year"],
                r["probability"],
                "o-",
                color=c,
                markersize=3,
                label=_label(labels, s),
            )
            if "conf_low" in r:
                ax.fill_between(
                    r["half_year"], r["conf_low"], r["conf_high"], color=c, alpha=0.2, linewidth=0
                )
        ax.set_title(textwrap.fill(str(prof), 42), fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_xlabel(xlabel, fontsize=8)
    for ax in axes[len(profs) :]:
        ax.set_visible(False)
    handles, names = [], []
    for ax in axes[: len(profs)]:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="outside right upper", fontsize=8)
    return fig


def plot_calibration(
    cal: pd.DataFrame,
    states: Sequence[str] | None = None,
    labels: Mapping[str, str] | Callable[[str], str] | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Predicted against observed share (one point per half-year and state; the diagonal is
    perfect calibration) and the difference in percentage points by half-year."""
    fig = Figure(figsize=(8.5, 3.4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    st = _order(cal["state"], states)
    lim = float(np.nanmax(cal[["observed", "predicted"]].to_numpy(dtype=float))) * 1.05
    ax1.plot([0, lim], [0, lim], color="#555555", linewidth=0.8, linestyle="--")
    for i, s in enumerate(st):
        r = cal[cal["state"] == s].sort_values("half_year")
        c = _colour(colours, s, i)
        ax1.plot(r["observed"], r["predicted"], "o", color=c, markersize=4, label=_label(labels, s))
        ax2.plot(
            r["half_year"], 100 * (r["predicted"] - r["observed"]), "o-", color=c, markersize=3
        )
    ax1.set_xlabel("observed share")
    ax1.set_ylabel("predicted share")
    ax2.axhline(0, color="#555555", linewidth=0.8, linestyle="--")
    ax2.axhspan(-1, 1, color="#DDDDDD", alpha=0.5, linewidth=0)
    ax2.set_xlabel("half-year")
    ax2.set_ylabel("predicted - observed (pp)")
    fig.legend(loc="outside right upper", fontsize=8)
    return fig


def plot_occupation(
    occ: pd.DataFrame,
    groups: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
    labels: Mapping[str, str] | Callable[[str], str] | None = None,
    group_labels: Mapping[str, str] | Callable[[str], str] | None = None,
    colours: Mapping[str, str] | None = None,
    xlabel: str = "months",
    exclude: Sequence[str] = ("kh",),
) -> Figure:
    """Published (guarded) state-occupation curves: one panel per group, a step line with its
    confidence band for each state not in ``exclude``."""
    groups = list(groups) if groups is not None else list(dict.fromkeys(occ["group"]))
    st = [s for s in _order(occ["state"], states) if s not in set(exclude)]
    ncol = min(4, len(groups))
    nrow = int(np.ceil(len(groups) / ncol))
    fig = Figure(figsize=(2.4 * ncol + 1.6, 2.3 * nrow), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, g in zip(axes, groups, strict=False):
        sub = occ[occ["group"] == g]
        for i, s in enumerate(st):
            r = sub[sub["state"] == s].sort_values("time")
            if r.empty:
                continue
            c = _colour(colours, s, i)
            ax.step(
                r["time"],
                r["estimate"],
                where="post",
                color=c,
                label=_label(labels, s),
                linewidth=1.2,
            )
            ax.fill_between(r["time"], r["conf_low"], r["conf_high"], step="post", color=c,
                            alpha=0.2, linewidth=0)  # fmt: skip
        ax.set_title(_label(group_labels, g), fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    handles, names = [], []
    for ax in axes[: len(groups)]:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="outside right upper", fontsize=8)
    return fig

"""Figures of the subgroup analysis (matplotlib; each function returns the figure).

Every figure is drawn from published (disclosure-controlled) tables only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.subgroups.profiles import ALL, row_names
from data_schema.derived import MODEL_CAUSES


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_model_selection(
    table: pd.DataFrame, criteria: Sequence[str] = ("bic", "aic", "sabic", "icl")
):
    """Information criteria against the number of classes; the chosen K is marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for c in criteria:
        ax.plot(table["classes"], table[c], marker="o", label=c.upper())
    chosen = table.loc[table["chosen"], "classes"]
    for k in chosen:
        ax.axvline(k, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("antal grupper (K)")
    ax.set_ylabel("informationskriterium (lavere er bedre)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_profile_heatmap(
    profile: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    sizes: Mapping[str, float] | None = None,
    indicators: Sequence[str] | None = None,
    value: str = "share",
    language: str = "da",
):
    """Heatmap of indicator-level prevalence (rows) by group (columns), annotated in per cent.

    Suppressed cells are left blank; the ``all`` column is the population for reference.
    """
    plt = _plt()
    p = profile if indicators is None else profile[profile["indicator"].isin(indicators)]
    groups = [ALL, *[g for g in pd.unique(p["group"]) if g != ALL]]
    p = p.assign(row=row_names(p, language))
    rows = list(pd.unique(p["row"]))
    mat = (
        p.pivot_table(index="row", columns="group", values=value, aggfunc="first", dropna=False)
        .reindex(index=rows, columns=groups)
        .to_numpy(dtype=float)
    )
    fig, ax = plt.subplots(figsize=(2.0 + 1.5 * len(groups), 0.28 * len(rows) + 2.5))
    im = ax.imshow(np.ma.masked_invalid(mat), aspect="auto", cmap="Blues", vmin=0, vmax=1)
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            if np.isfinite(mat[i, j]):
                ax.text(
                    j,
                    i,
                    f"{100 * mat[i, j]:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if mat[i, j] > 0.6 else "black",
                )
    heads = []
    for g in groups:
        if g == ALL:
            heads.append("alle" if language == "da" else "all")
            continue
        text = f"{g}"
        if labels and g in labels:
            text += "\n" + "\n".join(_wrap(labels[g], 22))
        if sizes and g in sizes and np.isfinite(sizes[g]):
            text += f"\n({100 * sizes[g]:.0f} %)"
        heads.append(text)
    ax.set_xticks(range(len(groups)), heads, fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="andel" if language == "da" else "share")
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    if cur:
        lines.append(cur)
    return lines


def plot_pathways(
    curves: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    exits: Sequence[str] = MODEL_CAUSES,
    exit_names: Mapping[str, str] | None = None,
    time_scale: str = "since_reference",
):
    """One panel per exit: published cumulative-incidence steps by group."""
    plt = _plt()
    c = curves[curves["time_scale"] == time_scale]
    fig, axes = plt.subplots(1, len(exits), figsize=(4.2 * len(exits), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    groups = sorted(pd.unique(c["group"]), key=lambda x: (len(str(x)), str(x)))
    for ax, ex in zip(axes, exits, strict=True):
        for g in groups:
            cc = c[(c["group"] == g) & (c["exit"] == ex)].sort_values("time")
            x0 = 0.0 if time_scale == "since_reference" else (cc["time"].min() if len(cc) else 0)
            x = np.concatenate([[x0], cc["time"].to_numpy(float)])
            y = np.concatenate([[0.0], cc["estimate"].to_numpy(float)])
            name = f"{g}: {labels[g]}" if labels and g in labels else str(g)
            ax.step(x, y, where="post", label="\n".join(_wrap(name, 40)))
        ax.set_title((exit_names or {}).get(ex, ex))
        ax.set_xlabel(
            "år efter referencedatoen" if time_scale == "since_reference" else "år i forløbet"
        )
    axes[0].set_ylabel("kumuleret andel")
    axes[-1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig

"""Sensitivity bar charts from `scsim analyze`: Sobol S1/ST and Morris mu*/sigma, one panel per outcome."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulation.present.figures.data import Results
from simulation.present.figures.style import Style, bars, new_figure


def _panels(
    table: pd.DataFrame, style: Style, title: str, cols: list[tuple[str, str | None, str, int]], order: str
) -> Figure:
    outcomes = list(dict.fromkeys(table["outcome"]))
    ncols = min(2, len(outcomes))
    nrows = math.ceil(len(outcomes) / ncols)
    n_fac = table["factor"].nunique()
    fig = new_figure(4.2 * ncols + 0.8, nrows * (0.3 * n_fac * len(cols) / 1.5 + 1.2) + 0.6)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    height = 0.8 / len(cols)
    for ax, outcome in zip(axes, outcomes, strict=False):
        g = table[table["outcome"] == outcome].sort_values(order, ascending=False)
        pos = np.arange(len(g))
        for i, (col, conf, label, look) in enumerate(cols):
            y = pos - 0.4 + height * (i + 0.5)
            v = g[col].to_numpy(dtype=float)
            ax.barh(y, np.nan_to_num(v), height=height, label=style.t(label), **bars(look))
            if conf and conf in g:
                e = g[conf].to_numpy(dtype=float)
                ax.errorbar(
                    np.nan_to_num(v), y, xerr=np.nan_to_num(e), fmt="none", ecolor="black", elinewidth=0.7, capsize=1.5
                )
        ax.set_yticks(pos, [f if len(f) <= 32 else f[:29] + "..." for f in g["factor"].astype(str)])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.axvline(0.0, color="black", linewidth=0.6)
        ax.set_title(style.t(outcome), fontsize=9)
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(cols), title=style.t(title))
    return fig


class Sobol:
    ID = "sobol"
    TITLE = "Sobol sensitivity indices"

    @staticmethod
    def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
        t = res.analysis.get("sobol")
        if t is None or t.empty:
            return None
        fig = _panels(
            t, style, "Sobol indices", [("S1", "S1_conf", "first order S1", 1), ("ST", "ST_conf", "total ST", 0)], "ST"
        )
        caption = (
            "Share of each outcome's variance due to each factor alone (S1, hatched) and with all its "
            "interactions (ST, plain), from the Saltelli sample of the sweep; whiskers: 95 % bootstrap "
            "intervals. ST well above S1 means the factor acts through interactions."
        )
        return fig, caption


class Morris:
    ID = "morris"
    TITLE = "Morris screening"

    @staticmethod
    def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
        t = res.analysis.get("morris")
        if t is None or t.empty:
            return None
        fig = _panels(
            t,
            style,
            "Morris screening",
            [("mu_star", "mu_star_conf", "mu* (mean |elementary effect|)", 0), ("sigma", None, "sigma", 1)],
            "mu_star",
        )
        caption = (
            "Morris elementary effects per outcome: μ* (mean absolute effect of moving the factor across its "
            "normalised range; whiskers: 95 % bootstrap interval) ranks the factors; σ (hatched) large against "
            "μ* means non-linear effects or interactions."
        )
        return fig, caption

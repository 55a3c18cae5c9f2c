"""Value won by year stacked by the lead firm's size class, one panel per scenario, and the SME share of value."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from simulation.present.figures.data import Results, yearly_stats
from simulation.present.figures.style import Style, bars, new_figure, series
from simulation.scenario.types import SIZES

ID = "value_by_size"
TITLE = "Value won by firm size class, and the SME share"


def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
    if res.yearly is None:
        return None
    sizes = {s: yearly_stats(res, "value_won_usd_m", f"size:{s}") for s in SIZES}
    if all(v.empty for v in sizes.values()):
        return None
    share = yearly_stats(res, "sme_share_value")
    names = res.scenarios
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = new_figure(3.0 * cols + 1.2, 2.6 * rows + 2.6)
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[1.0] * rows + [1.0])
    top = 0.0
    axes = []
    for k, name in enumerate(names):
        ax = fig.add_subplot(grid[k // cols, k % cols], sharey=axes[0] if axes else None)
        axes.append(ax)
        bottom = None
        for i, size in enumerate(SIZES):
            s = sizes[size]
            s = s[s["scenario"] == name].sort_values("year")
            if s.empty:
                continue
            h = s["mean"].fillna(0.0).to_numpy()
            b = np.zeros_like(h) if bottom is None else bottom
            ax.bar(s["year"], h, bottom=b, width=0.8, label=style.t(size), **bars(i))
            bottom = b + h
        if bottom is not None:
            top = max(top, float(bottom.max()))
        ax.set_title(name)
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
        if k % cols == 0:
            ax.set_ylabel(style.t("Value won (USD m)"))
    if top > 0:
        axes[0].set_ylim(0, top * 1.05)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside upper center", ncols=len(SIZES), title=style.t("Value won by lead firm size")
    )
    ax = fig.add_subplot(grid[rows, :])
    for i, name in enumerate(names):
        s = share[share["scenario"] == name].sort_values("year")
        if s.empty:
            continue
        kw = series(i)
        ax.plot(s["year"], s["mean"], label=name, **kw)
        if np.isfinite(s["lo"]).any():
            ax.fill_between(
                s["year"], s["lo"].clip(0, 1), s["hi"].clip(0, 1), color=kw["color"], alpha=0.1, linewidth=0
            )
    ax.set_title(style.t("SME share of value won"))
    ax.set_ylabel(style.t("SME share"))
    ax.set_xlabel(style.t("Year"))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(loc="best")
    caption = (
        f"Top: value of contracts won each year (USD m, mean of {res.runs_text}), stacked by the size class "
        "of the lead firm. Bottom: share of the value won that goes to SMEs and startups, as lead or "
        "consortium partner (band: 95 % interval over the runs)."
    )
    return fig, caption

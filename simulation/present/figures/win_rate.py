"""Export win rate by year, one line per scenario, with the 95 % band over replications."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from simulation.present.figures.data import Results, yearly_stats
from simulation.present.figures.style import Style, new_figure, series

ID = "win_rate"
TITLE = "Export win rate by year"


def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
    if res.yearly is None:
        return None
    st = yearly_stats(res, "win_rate")
    if st.empty or not np.isfinite(st["mean"]).any():
        return None
    fig = new_figure(7.0, 3.8)
    ax = fig.add_subplot()
    for i, name in enumerate(res.scenarios):
        s = st[st["scenario"] == name].sort_values("year")
        if s.empty:
            continue
        kw = series(i)
        ax.plot(s["year"], s["mean"], label=name, **kw)
        if np.isfinite(s["lo"]).any():
            ax.fill_between(s["year"], s["lo"], s["hi"], color=kw["color"], alpha=0.12, linewidth=0)
            for edge in ("lo", "hi"):
                ax.plot(s["year"], s[edge], color=kw["color"], linestyle=kw["linestyle"], linewidth=0.5, alpha=0.8)
    reps = int(st["n"].max())
    runs = res.runs_text
    ax.set_title(style.t("Export win rate (Korean wins / Korean bids)"))
    ax.set_xlabel(style.t("Year"))
    ax.set_ylabel(style.t("Win rate"))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xticks(sorted(st["year"].unique()))
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(title=style.t("mean of {n}, band: 95 % CI", n=runs), loc="best")
    caption = f"Korean wins / Korean bids on tenders decided each year; line: mean of {runs}" + (
        ", thin lines and band: 95 % t-interval over the runs." if reps > 1 else " (one replication: no interval)."
    )
    return fig, caption

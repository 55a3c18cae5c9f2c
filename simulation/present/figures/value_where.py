"""Value won over the horizon by region and by OECD country-risk class, bars per scenario with 95 % CIs."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from simulation.present.figures.data import Results, horizon_stats
from simulation.present.figures.style import Style, bars, new_figure
from simulation.scenario.types import REGIONS, RISK_CLASSES

ID = "value_by_region_risk"
TITLE = "Value won by region and by country-risk class"


def _panel(ax, st, groups: list[str], labels: list[str], names: list[str]) -> None:
    n = len(names)
    height = 0.8 / n
    pos = np.arange(len(groups))
    for i, name in enumerate(names):
        s = st[st["scenario"] == name].set_index("group").reindex(groups)
        mean = s["mean"].fillna(0.0).to_numpy()
        err = np.vstack([mean - s["lo"].to_numpy(), s["hi"].to_numpy() - mean])
        y = pos - 0.4 + height * (i + 0.5)
        ax.barh(y, mean, height=height, label=name, **bars(i))
        if np.isfinite(err).any():
            ax.errorbar(
                mean, y, xerr=np.nan_to_num(err.clip(min=0)), fmt="none", ecolor="black", elinewidth=0.7, capsize=1.5
            )
    ax.set_yticks(pos, labels)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)


def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
    if res.yearly is None:
        return None
    regions = [f"region:{r}" for r in REGIONS]
    risks = [f"risk:{k}" for k in RISK_CLASSES]
    st = horizon_stats(res, "value_won_usd_m", regions + risks)
    if st.empty:
        return None
    names = res.scenarios
    fig = new_figure(8.5, max(3.8, 0.22 * len(names) * 8 + 1.2))
    a, b = fig.subplots(1, 2)
    _panel(a, st, regions, [style.t(r) for r in REGIONS], names)
    _panel(b, st, risks, [style.t("risk class {k}", k=k) for k in RISK_CLASSES], names)
    a.set_title(style.t("by region"))
    b.set_title(style.t("by OECD country-risk class"))
    for ax in (a, b):
        ax.set_xlabel(style.t("Value won over the horizon (USD m)"))
    handles, labels = a.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=min(4, len(names)))
    caption = (
        "Value of contracts won over the whole horizon (USD m), by the buyer country's region and by its "
        "OECD country-risk class (0 = lowest risk, 7 = highest): mean over replications, whiskers 95 % "
        "t-interval."
    )
    return fig, caption

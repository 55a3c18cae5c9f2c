"""PIS smart-city fund over time: new commitments, NAV and cumulative losses per tranche, one column per scenario.

Each column's title gives the scenario's loss order (F2): subordinated (government, then public,
then private investors bear losses) or pari passu (pro rata), so the two can be read side by side.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from simulation.engine.kernels.constants import TRANCHES
from simulation.present.figures.data import Results, resolved_value, yearly_stats
from simulation.present.figures.style import Style, bars, new_figure, series

ID = "pis_fund"
TITLE = "PIS smart-city fund: commitments, NAV and losses per tranche"
ROWS = (("pis_nav_krw_bn", "NAV (KRW bn)"), ("pis_cum_loss_krw_bn", "Cumulative losses (KRW bn)"))


def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
    if res.yearly is None:
        return None
    t = res.yearly
    pis = t[t["metric"].str.startswith("pis_") & (t["metric"] != "pis_private_raised_krw_bn")]
    if pis.empty:
        return None
    active = pis.groupby("scenario")["value"].apply(lambda v: bool(np.nanmax(np.abs(v.to_numpy())) > 0))
    names = [s for s in res.scenarios if bool(active.get(s, False))]
    if not names:
        return None
    commits = yearly_stats(res, "pis_commitments_krw_bn")
    tranche = {(m, tr): yearly_stats(res, m, f"tranche:{tr}") for m, _ in ROWS for tr in TRANCHES}
    fig = new_figure(3.2 * len(names) + 1.0, 7.4)
    axes = fig.subplots(3, len(names), squeeze=False, sharex=True, sharey="row")
    for j, name in enumerate(names):
        order = resolved_value(res, name, "levers.f2_loss_order.order")
        head = name if order is None else f"{name}\n{style.t('loss order: {order}', order=style.t(str(order)))}"
        axes[0, j].set_title(head, fontsize=8.5)
        c = commits[commits["scenario"] == name].sort_values("year")
        axes[0, j].bar(c["year"], c["mean"].fillna(0.0), width=0.8, **bars(1))
        for r, (metric, _) in enumerate(ROWS, start=1):
            for k, tr in enumerate(TRANCHES):
                s = tranche[(metric, tr)]
                s = s[s["scenario"] == name].sort_values("year")
                axes[r, j].plot(s["year"], s["mean"], label=style.t(tr), **series(k))
        axes[2, j].set_xlabel(style.t("Year"))
        axes[2, j].tick_params(axis="x", labelrotation=90, labelsize=7)
    axes[0, 0].set_ylabel(style.t("New commitments (KRW bn)"))
    for r, (_, label) in enumerate(ROWS, start=1):
        axes[r, 0].set_ylabel(style.t(label))
    handles, labels = axes[1, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(TRANCHES), title=style.t("PIS smart-city fund"))
    caption = (
        "Per scenario with a PIS smart-city fund: new investments committed each year (top), net asset value "
        "(cash + outstanding investments) of each tranche at year end (middle) and each tranche's cumulative "
        "losses (bottom); means over replications, KRW bn. Under a subordinated order the government tranche "
        "absorbs losses first, then the public one; pari passu spreads them pro rata."
    )
    return fig, caption

"""Forest plot of the paired differences against the baseline over the horizon: one row per scenario and metric."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from simulation.present.figures.data import Results
from simulation.present.figures.style import COLORS, MARKERS, Style, new_figure

ID = "forest"
TITLE = "Paired differences against the baseline"


def _unit(metric: str) -> tuple[str, str]:
    from simulation.analysis.compare import COMPARED, EXTRA

    label, unit = COMPARED[metric][:2] if metric in COMPARED else EXTRA[1]
    return label, unit


def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
    d = res.differences
    if d is None or d.empty:
        return None
    from simulation.analysis.compare import (  # (scipy.stats with it: only for compare folders)
        COMPARED,
        EXTRA,
        IDENTICAL,
        fmt_change,
    )

    d = d[d["period"] == "all"]
    metrics = [m for m in [*COMPARED, EXTRA[0]] if m in set(d["metric"])]
    names = [s for s in res.scenarios if s in set(d["scenario"])] or list(dict.fromkeys(d["scenario"]))
    if not metrics or not names:
        return None
    baseline = str(d["baseline"].iloc[0])
    fig = new_figure(8.0, 0.9 + sum(0.32 * len(names) + 0.55 for _ in metrics))
    axes = fig.subplots(len(metrics), 1, squeeze=False, height_ratios=[len(names) + 1.2] * len(metrics))[:, 0]
    for ax, metric in zip(axes, metrics, strict=True):
        label, unit = _unit(metric)
        scale = 100.0 if unit == "%" else 1.0
        texts = [""] * len(names)
        for i, name in enumerate(names):
            r = d[(d["scenario"] == name) & (d["metric"] == metric)]
            if r.empty:
                continue
            r = r.iloc[0]
            m, lo, hi = (float(r[k]) * scale for k in ("difference", "ci_low", "ci_high"))
            settled = not bool(r["straddles_zero"])
            color = COLORS[i % len(COLORS)]
            if math.isfinite(lo) and math.isfinite(hi):
                ax.hlines(i, lo, hi, color=color, linewidth=1.6)
                ax.vlines([lo, hi], i - 0.15, i + 0.15, color=color, linewidth=1.2)
            if math.isfinite(m):
                ax.plot(
                    [m],
                    [i],
                    marker=MARKERS[i % len(MARKERS)],
                    markersize=7,
                    color=color,
                    markerfacecolor=color if settled else "white",
                    markeredgewidth=1.4,
                    linestyle="none",
                )
            texts[i] = (
                IDENTICAL
                if bool(r.get("identical", False))
                else f"{fmt_change(r['difference'], unit)}  [{fmt_change(r['ci_low'], unit)}, {fmt_change(r['ci_high'], unit)}]"
            )
        ax.axvline(0.0, color="black", linestyle="--", linewidth=0.8)
        ax.set_yticks(np.arange(len(names)), names)
        ax.set_ylim(len(names) - 0.4, -0.6)
        ax.grid(axis="y", visible=False)
        # the numbers as tick labels of a right-hand axis: the layout makes room for them (an
        # annotation beyond the axes was cut off at the canvas edge)
        right = ax.twinx()
        right.set_ylim(ax.get_ylim())
        right.set_yticks(np.arange(len(names)), texts)
        right.tick_params(axis="y", length=0, labelsize=7.5)
        right.grid(False)
        for side in ("top", "right", "left", "bottom"):
            right.spines[side].set_visible(False)
        shown = "pp" if unit == "%" else unit
        ax.set_title(f"{style.t(label)} ({shown})", loc="left", fontsize=9)
    fig.suptitle(style.t("Paired difference against {baseline} over the horizon, 95 % CI", baseline=baseline))
    fig.supxlabel(style.t("open marker: CI includes zero"), fontsize=7.5)
    caption = (
        f"Each row: a scenario's mean paired difference from {baseline} over the whole horizon (replication i "
        "of both scenarios shares its seed), with its 95 % t-interval; the numbers are printed on the right. "
        "A filled marker means the interval excludes zero; an open one, that it includes zero (the report's "
        "headline says whether more replications or the parameters are the reason). Shares are in "
        "percentage points (pp); value won in USD m, public cost in KRW bn."
    )
    return fig, caption

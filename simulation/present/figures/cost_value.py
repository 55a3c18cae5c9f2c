"""Cost-effectiveness: public cost against value won, one point per lever combination, the Pareto front drawn.

From a sweep: every setting of its analysis ranking (mean over its runs, 95 % intervals as error
bars). From a run or compare folder: every scenario (horizon totals per replication).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulation.analysis.analyze import COST, VALUE, pareto_front
from simulation.present.figures.data import Results, t_interval
from simulation.present.figures.style import Style, new_figure

ID = "cost_value"
TITLE = "Public cost against value won"
MAX_LABELS = 12


VALUE_USD = "value_won_usd_m"  # value won is shown in USD m, as everywhere else; public cost in KRW bn


def value_column(p: pd.DataFrame) -> str:
    """The value-won columns the points hold: USD m, or KRW bn for a sweep whose runs kept only that."""
    return VALUE_USD if f"{VALUE_USD}_mean" in p and np.isfinite(p[f"{VALUE_USD}_mean"]).any() else VALUE


def points(res: Results) -> pd.DataFrame | None:
    """label, cost/value means with interval bounds, pareto flag, rank (None when the folder has no such data).

    Intervals of these non-negative totals stop at zero."""
    if res.kind == "sweep":
        r = res.analysis.get("ranking")
        need = [f"{COST}_mean", f"{VALUE}_mean", "setting", "pareto"]
        if r is None or r.empty or any(c not in r for c in need):
            return None
        out = pd.DataFrame({"label": r["setting"].astype(str), "rank": r.get("rank", pd.Series(range(1, len(r) + 1)))})
        for k in (COST, VALUE, VALUE_USD):
            for s in ("mean", "ci_low", "ci_high"):
                out[f"{k}_{s}"] = r.get(f"{k}_{s}", np.nan)
        out["pareto"] = r["pareto"].astype(bool).to_numpy()
        return _floor(out.reset_index(drop=True))
    if res.yearly is None:
        return None
    t = res.yearly[(res.yearly["group"] == "all") & res.yearly["metric"].isin([COST, VALUE, VALUE_USD])]
    if t.empty:
        return None
    per_run = t.groupby(["scenario", "metric", "run"])["value"].sum()
    rows = []
    for name in res.scenarios:
        row: dict = {"label": name}
        for k in (COST, VALUE, VALUE_USD):
            try:
                v = per_run.loc[(name, k)].to_numpy()
            except KeyError:
                v = np.array([])
            m, lo, hi, _ = t_interval(v)
            row.update({f"{k}_mean": m, f"{k}_ci_low": lo, f"{k}_ci_high": hi})
        rows.append(row)
    out = pd.DataFrame(rows)
    out["pareto"] = pareto_front(out[f"{COST}_mean"], out[f"{VALUE}_mean"])
    out["rank"] = np.arange(1, len(out) + 1)
    return _floor(out)


def _floor(p: pd.DataFrame) -> pd.DataFrame:
    """A value won or a public cost is never negative: its interval's lower end stops at zero."""
    for k in (COST, VALUE, VALUE_USD):
        col = f"{k}_ci_low"
        if col in p:
            p[col] = p[col].astype(float).clip(lower=0.0)
    return p


def _err(p: pd.DataFrame, k: str) -> np.ndarray | None:
    m = p[f"{k}_mean"].to_numpy(dtype=float)
    e = np.vstack([m - p[f"{k}_ci_low"].to_numpy(dtype=float), p[f"{k}_ci_high"].to_numpy(dtype=float) - m])
    return np.nan_to_num(e.clip(min=0)) if np.isfinite(e).any() else None


def draw(res: Results, style: Style) -> tuple[Figure, str] | None:
    p = points(res)
    if p is None or not np.isfinite(p[f"{COST}_mean"]).any():
        return None
    value = value_column(p)
    fig = new_figure(7.0, 4.6)
    ax = fig.add_subplot()
    for on, marker, face, lab in (
        (False, "o", "white", style.t("dominated")),
        (True, "s", "black", style.t("on the front")),
    ):
        q = p[p["pareto"] == on]
        if q.empty:
            continue
        ax.errorbar(
            q[f"{COST}_mean"],
            q[f"{value}_mean"],
            xerr=_err(q, COST),
            yerr=_err(q, value),
            fmt=marker,
            markersize=5,
            markerfacecolor=face,
            markeredgecolor="black",
            ecolor="#666666",
            elinewidth=0.7,
            capsize=1.5,
            linestyle="none",
            label=lab,
        )
    front = p[p["pareto"]].sort_values(f"{COST}_mean")
    if len(front):
        ax.plot(
            front[f"{COST}_mean"],
            front[f"{value}_mean"],
            drawstyle="steps-post",
            color="black",
            linestyle="--",
            linewidth=1.0,
            label=style.t("Pareto front"),
        )
    labelled = p if len(p) <= MAX_LABELS else front.head(MAX_LABELS)
    for i, (_, r) in enumerate(labelled.iterrows()):
        text = r["label"] if len(p) <= MAX_LABELS else f"#{int(r['rank'])}"
        text = text if len(text) <= 48 else text[:45] + "..."
        ax.annotate(
            text,
            (r[f"{COST}_mean"], r[f"{value}_mean"]),
            xytext=(5, 4 if i % 2 == 0 else -11),
            textcoords="offset points",
            fontsize=7,
            annotation_clip=True,
        )
    ax.set_xlabel(style.t("Public cost (KRW bn)"))
    ax.set_ylabel(style.t("Value won (USD m)" if value == VALUE_USD else "Value won (KRW bn)"))
    ax.set_title(style.t("Public cost against value won"))
    ax.legend(loc="best")
    what = "lever setting of the sweep" if res.kind == "sweep" else "scenario"
    unit = "USD m" if value == VALUE_USD else "KRW bn"
    caption = (
        f"One point per {what}: public cost (KRW bn) against value won ({unit}) over the horizon, means over "
        "the runs; whiskers 95 % t-intervals where there are replications, stopping at zero. Filled squares and the dashed "
        "step line: the Pareto front, the settings no other setting beats on both lower cost and higher value."
    )
    if len(p) > MAX_LABELS:
        caption += f" Labels give the rank by value per public KRW of the first {MAX_LABELS} front points."
    if not math.isfinite(float(p[f"{COST}_mean"].max())):
        caption += " Some settings lack a cost."
    return fig, caption

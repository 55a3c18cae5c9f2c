"""Compare scenarios against a baseline with common random numbers: paired differences and 95 % CIs.

Replication i of every scenario uses the same seed, so the difference of a metric between two
scenarios in replication i removes most of the noise they share; the CI is a paired t-interval
over replications, per year and over the whole horizon.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

# metric -> (label, unit, how it aggregates over the horizon)
COMPARED = {
    "win_rate": ("win rate", "%", "ratio:wins/bids"),
    "wins": ("wins", "count", "sum"),
    "value_won_usd_m": ("value won", "USD m", "sum"),
    "sme_share_value": ("SME share of value", "%", "weighted:value_won_usd_m"),
    "public_cost_krw_bn": ("public cost", "KRW bn", "sum"),
    "value_per_public_krw": ("value per public KRW", "KRW/KRW", "ratio:value_won_krw_bn/public_cost_krw_bn"),
}
EXTRA = ("extra_value_per_extra_krw", ("extra value per extra KRW", "KRW/KRW"))
_NEEDED = sorted(set(COMPARED) | {"bids", "value_won_krw_bn"})


def per_run(table: pd.DataFrame) -> pd.DataFrame:
    """(scenario, run, period, metric) -> value, with period = year or 'all' (the whole horizon)."""
    t = table[(table["group"] == "all") & table["metric"].isin(_NEEDED)]
    wide = t.pivot_table(index=["scenario", "run", "year"], columns="metric", values="value", observed=True,
                         aggfunc="first", dropna=False).reset_index()
    yearly = wide.melt(id_vars=["scenario", "run", "year"], value_vars=list(COMPARED), var_name="metric")
    yearly["period"] = yearly["year"].astype(str)
    g = wide.groupby(["scenario", "run"], observed=True)
    tot = g[["wins", "bids", "value_won_usd_m", "value_won_krw_bn", "public_cost_krw_bn"]].sum()
    weighted = (wide["sme_share_value"].fillna(0.0) * wide["value_won_usd_m"]).groupby(
        [wide["scenario"], wide["run"]], observed=True).sum()
    horizon = pd.DataFrame({
        "win_rate": _safe_div(tot["wins"], tot["bids"]),
        "wins": tot["wins"],
        "value_won_usd_m": tot["value_won_usd_m"],
        "sme_share_value": _safe_div(weighted, tot["value_won_usd_m"]),
        "public_cost_krw_bn": tot["public_cost_krw_bn"],
        "value_per_public_krw": _safe_div(tot["value_won_krw_bn"], tot["public_cost_krw_bn"]),
        "value_won_krw_bn": tot["value_won_krw_bn"],
    }).reset_index().melt(id_vars=["scenario", "run"], var_name="metric")
    horizon["period"] = "all"
    cols = ["scenario", "run", "period", "metric", "value"]
    return pd.concat([yearly[cols], horizon[cols]], ignore_index=True)


def _safe_div(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).astype(float)


def paired_differences(table: pd.DataFrame, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Per scenario, metric and period: baseline and scenario means, the paired difference and its CI."""
    runs = per_run(table)
    runs["scenario"] = runs["scenario"].astype(str)
    base = runs[runs["scenario"] == baseline].set_index(["run", "period", "metric"])["value"]
    rows = []
    order = list(dict.fromkeys(runs["scenario"]))
    for name in order:
        if name == baseline:
            continue
        other = runs[runs["scenario"] == name].set_index(["run", "period", "metric"])["value"]
        joined = pd.DataFrame({"base": base, "other": other}).reset_index()
        for (period, metric), g in joined.groupby(["period", "metric"], sort=False):
            if metric not in COMPARED:
                continue
            d = (g["other"] - g["base"]).dropna().to_numpy()
            n = len(d)
            mean = float(d.mean()) if n else math.nan
            if n >= 2:
                half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
            else:
                half = math.nan
            lo, hi = mean - half, mean + half
            rows.append({
                "scenario": name, "baseline": baseline, "metric": metric, "period": period,
                "baseline_mean": float(g["base"].mean()), "scenario_mean": float(g["other"].mean()),
                "difference": mean, "ci_low": lo, "ci_high": hi, "pairs": n,
                "straddles_zero": bool(n >= 2 and lo <= 0.0 <= hi) or n < 2,
            })
        rows.append(_incremental(joined_all(runs, baseline, name), name, baseline, level))
    out = pd.DataFrame(rows)
    periods = sorted(p for p in out["period"].unique() if p != "all") + ["all"]
    out["period"] = pd.Categorical(out["period"], categories=periods, ordered=True)
    out["metric"] = pd.Categorical(out["metric"], categories=list(COMPARED) + [EXTRA[0]], ordered=True)
    out["scenario"] = pd.Categorical(out["scenario"], categories=[s for s in order if s != baseline], ordered=True)
    return out.sort_values(["scenario", "metric", "period"]).reset_index(drop=True)


def joined_all(runs: pd.DataFrame, baseline: str, name: str) -> pd.DataFrame:
    h = runs[(runs["period"] == "all") & runs["metric"].isin(["value_won_krw_bn", "public_cost_krw_bn"])]
    w = h.pivot_table(index=["scenario", "run"], columns="metric", values="value", observed=True)
    return pd.DataFrame({"dv": w.loc[name]["value_won_krw_bn"] - w.loc[baseline]["value_won_krw_bn"],
                         "dc": w.loc[name]["public_cost_krw_bn"] - w.loc[baseline]["public_cost_krw_bn"]})


def _incremental(j: pd.DataFrame, name: str, baseline: str, level: float) -> dict:
    """Extra value won (KRW) per extra KRW of public cost, paired per replication."""
    j = j.dropna()
    n = len(j)
    ratio = j["dv"] / j["dc"].where(j["dc"] > 0)
    d = ratio.dropna().to_numpy()
    mean = float(d.mean()) if len(d) == n and n else math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / math.sqrt(n)) if len(d) == n and n >= 2 else math.nan
    return {"scenario": name, "baseline": baseline, "metric": EXTRA[0], "period": "all",
            "baseline_mean": math.nan, "scenario_mean": math.nan, "difference": mean,
            "ci_low": mean - half, "ci_high": mean + half, "pairs": n,
            "straddles_zero": bool(n < 2 or math.isnan(half) or (mean - half) <= 0.0 <= (mean + half))}


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "%":
        return f"{value * 100:+.1f} pp" if abs(value) < 10 else f"{value:+.3g}"
    if abs(value) >= 100:
        return f"{value:+,.0f}"
    return f"{value:+.3g}"


def _level(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "%":
        return f"{value * 100:.1f} %"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def format_differences(diff: pd.DataFrame, reps: int) -> str:
    """The whole-horizon differences, one block per scenario, and a note on CIs that straddle zero."""
    lines = []
    horizon = diff[diff["period"] == "all"]
    baseline = horizon["baseline"].iloc[0] if len(horizon) else "?"
    for name, g in horizon.groupby("scenario", observed=True, sort=False):
        lines.append(f"{name} vs {baseline}, 2019-2030 (paired over {reps} replications, 95 % CI):")
        lines.append(f"  {'metric':<38} {'baseline':>12} {'scenario':>12} {'difference':>12} {'95 % CI':>26}")
        for _, r in g.iterrows():
            label, unit = (COMPARED[r["metric"]][:2] if r["metric"] in COMPARED else EXTRA[1])
            ci = f"[{_fmt(r['ci_low'], unit)}, {_fmt(r['ci_high'], unit)}]"
            flag = "  *" if r["straddles_zero"] else ""
            base_txt = "" if math.isnan(r["baseline_mean"]) else _level(r["baseline_mean"], unit)
            scen_txt = "" if math.isnan(r["scenario_mean"]) else _level(r["scenario_mean"], unit)
            lines.append(f"  {label + (' (' + unit + ')' if unit != '%' else ''):<38} {base_txt:>12} "
                         f"{scen_txt:>12} {_fmt(r['difference'], unit):>12} {ci:>26}{flag}")
    straddle = diff[diff["straddles_zero"]]
    if len(straddle):
        yearly = straddle[straddle["period"] != "all"]
        total = straddle[straddle["period"] == "all"]
        lines.append(f"* CI straddles zero: the sign of the difference is not yet settled; run more replications "
                     f"(--reps). {len(total)} whole-horizon and {len(yearly)} yearly differences are affected.")
    else:
        lines.append("Every difference's CI excludes zero.")
    return "\n".join(lines)

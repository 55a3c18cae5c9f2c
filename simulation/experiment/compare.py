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


def interval(d: np.ndarray, sets: np.ndarray | None, level: float) -> tuple[float, float, float]:
    """(mean, stochastic half-width, parameter half-width) of paired differences d.

    Without parameter sets: the paired t-interval. With them (`sets[i]` = the parameter set of
    pair i, the same replications in every set): the stochastic part is the t-interval of the
    mean over all pairs from the pooled within-set spread; the parameter part is the normal
    range of the effect over the sets, its between-set variance net of the noise in each set's
    mean (it does not shrink with more replications). The CI adds the two in quadrature.
    """
    n = len(d)
    if n == 0:
        return math.nan, math.nan, 0.0
    mean = float(d.mean())
    if sets is None or len(np.unique(sets)) < 2:
        half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
        return mean, half, 0.0
    ids = np.unique(sets)
    means = np.array([d[sets == k].mean() for k in ids])
    sizes = np.array([(sets == k).sum() for k in ids])
    within = float(sum(((d[sets == k] - m) ** 2).sum() for k, m in zip(ids, means)) / max(1, n - len(ids)))
    between = max(0.0, float(means.var(ddof=1)) - within / float(sizes.mean()))
    stoch = float(stats.t.ppf(0.5 + level / 2, max(1, n - len(ids))) * math.sqrt(within / n))
    param = float(stats.norm.ppf(0.5 + level / 2) * math.sqrt(between))
    return mean, stoch, param


def paired_differences(table: pd.DataFrame, baseline: str, level: float = 0.95,
                       runs_per_set: int | None = None) -> pd.DataFrame:
    """Per scenario, metric and period: baseline and scenario means, the paired difference and its CI.

    `runs_per_set`: the runs come in blocks of this many replications, one block per parameter set
    (`compare --parameter-sets`); the CI then includes parameter uncertainty (see `interval`)."""
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
            ok = (g["other"] - g["base"]).notna().to_numpy()
            d = (g["other"] - g["base"]).to_numpy()[ok]
            sets = (g["run"].to_numpy()[ok] // runs_per_set) if runs_per_set else None
            n = len(d)
            mean, stoch, param = interval(d, sets, level)
            half = math.hypot(stoch, param)
            lo, hi = mean - half, mean + half
            rows.append({
                "scenario": name, "baseline": baseline, "metric": metric, "period": period,
                "baseline_mean": float(g["base"].mean()), "scenario_mean": float(g["other"].mean()),
                "difference": mean, "ci_low": lo, "ci_high": hi, "pairs": n,
                "straddles_zero": bool(n >= 2 and lo <= 0.0 <= hi) or n < 2,
                "ci_half_stochastic": stoch, "ci_half_parameters": param,
            })
        rows.append(_incremental(joined_all(runs, baseline, name), name, baseline, level, runs_per_set))
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


def _incremental(j: pd.DataFrame, name: str, baseline: str, level: float, runs_per_set: int | None = None) -> dict:
    """Extra value won (KRW) per extra KRW of public cost, paired per replication."""
    j = j.dropna()
    n = len(j)
    ratio = j["dv"] / j["dc"].where(j["dc"] > 0)
    complete = ratio.notna().all() and n > 0
    d = ratio.to_numpy()
    sets = (j.index.to_numpy() // runs_per_set) if runs_per_set else None
    mean, stoch, param = interval(d, sets, level) if complete else (math.nan, math.nan, 0.0)
    half = math.hypot(stoch, param)
    return {"scenario": name, "baseline": baseline, "metric": EXTRA[0], "period": "all",
            "baseline_mean": math.nan, "scenario_mean": math.nan, "difference": mean,
            "ci_low": mean - half, "ci_high": mean + half, "pairs": n,
            "straddles_zero": bool(n < 2 or math.isnan(half) or (mean - half) <= 0.0 <= (mean + half)),
            "ci_half_stochastic": stoch, "ci_half_parameters": param}


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


def format_differences(diff: pd.DataFrame, reps: int, sets: int | None = None) -> str:
    """The whole-horizon differences, one block per scenario, and a note on CIs that straddle zero."""
    lines = []
    horizon = diff[diff["period"] == "all"]
    baseline = horizon["baseline"].iloc[0] if len(horizon) else "?"
    how = (f"paired over {reps} replications x {sets} parameter sets; the 95 % CI includes parameter uncertainty"
           if sets else f"paired over {reps} replications, 95 % CI")
    for name, g in horizon.groupby("scenario", observed=True, sort=False):
        lines.append(f"{name} vs {baseline}, 2019-2030 ({how}):")
        lines.append(f"  {'metric':<38} {'baseline':>12} {'scenario':>12} {'difference':>12} {'95 % CI':>26}")
        for _, r in g.iterrows():
            label, unit = (COMPARED[r["metric"]][:2] if r["metric"] in COMPARED else EXTRA[1])
            ci = f"[{_fmt(r['ci_low'], unit)}, {_fmt(r['ci_high'], unit)}]"
            flag = "  *" if r["straddles_zero"] else ""
            base_txt = "" if math.isnan(r["baseline_mean"]) else _level(r["baseline_mean"], unit)
            scen_txt = "" if math.isnan(r["scenario_mean"]) else _level(r["scenario_mean"], unit)
            lines.append(f"  {label + (' (' + unit + ')' if unit != '%' else ''):<38} {base_txt:>12} "
                         f"{scen_txt:>12} {_fmt(r['difference'], unit):>12} {ci:>26}{flag}")
        if sets and "ci_half_parameters" in g:
            v = g[g["metric"] == "value_won_usd_m"]
            if len(v):
                r = v.iloc[0]
                lines.append(f"  of the value-won CI: +/- {r['ci_half_stochastic']:,.0f} from replication noise and "
                             f"+/- {r['ci_half_parameters']:,.0f} from the parameters (added in quadrature)")
    straddle = diff[diff["straddles_zero"]]
    if len(straddle):
        yearly = straddle[straddle["period"] != "all"]
        total = straddle[straddle["period"] == "all"]
        advice = ("replication noise or parameter uncertainty: if the parameter part dominates, more replications "
                  "will not settle it" if sets else "run more replications (--reps)")
        lines.append(f"* CI straddles zero: the sign of the difference is not yet settled ({advice}). "
                     f"{len(total)} whole-horizon and {len(yearly)} yearly differences are affected.")
    else:
        lines.append("Every difference's CI excludes zero.")
    return "\n".join(lines)

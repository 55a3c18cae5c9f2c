"""Compare scenarios against a baseline with common random numbers: paired differences and 95 % CIs.

Replication i of every scenario uses the same seed, so the difference of a metric between two
scenarios in replication i removes most of the noise they share; the CI is a paired t-interval
over replications, per year and over the whole horizon.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.analysis.stats import normal_quantile, t_half_width, t_quantile

# metric -> (label, unit, how it aggregates): a sum over the years, or a ratio of two sums. Value won
# comes first (what a planner asks), the win rate last: it falls when a measure adds marginal bids.
COMPARED = {
    "value_won_usd_m": ("value won", "USD m", "sum"),
    "existing_value_won_usd_m": ("value won on existing demand", "USD m", "sum"),
    "korean_share_value": ("Korean share of awarded value", "%", "ratio:value_won_usd_m/value_awarded_usd_m"),
    "capture_rate": ("capture rate (wins / tenders bid on)", "%", "ratio:wins/tenders_contested"),
    "public_cost_krw_bn": ("public cost", "KRW bn", "sum"),
    "value_per_public_krw": ("value per public KRW", "KRW/KRW", "ratio:value_won_krw_bn/public_cost_krw_bn"),
    "sme_share_value": ("SME share of value", "%", "ratio:sme_value_usd_m/value_won_usd_m"),
    "wins": ("wins", "count", "sum"),
    "win_rate": ("win rate", "%", "ratio:wins/bids"),
}
EXTRA = ("extra_value_per_extra_krw", ("extra value per extra KRW", "KRW/KRW"))
RATIOS = {m: tuple(how[6:].split("/")) for m, (_, _, how) in COMPARED.items() if how.startswith("ratio:")}
SUMS = [m for m, (_, _, how) in COMPARED.items() if how == "sum"]
_NEEDED = sorted({m for m in SUMS if m != "existing_value_won_usd_m"} | {x for pair in RATIOS.values() for x in pair})


def per_run(table: pd.DataFrame) -> pd.DataFrame:
    """(scenario, run, period, metric) -> value of every sum and of the numerator and denominator of
    every ratio, with period = year or 'all' (the whole horizon: sums over the years)."""
    t = table[(table["group"] == "all") & table["metric"].isin(_NEEDED)]
    wide = t.pivot_table(
        index=["scenario", "run", "year"],
        columns="metric",
        values="value",
        observed=True,
        aggfunc="first",
        dropna=False,
    )
    existing = table[(table["group"] == "demand:existing") & (table["metric"] == "value_won_usd_m")]
    if len(existing):
        wide["existing_value_won_usd_m"] = existing.set_index(["scenario", "run", "year"])["value"]
    else:  # results of an older version: no split by demand
        wide["existing_value_won_usd_m"] = np.nan
    wide = wide.reset_index()
    cols = [c for c in wide.columns if c not in ("scenario", "run", "year")]
    yearly = wide.melt(id_vars=["scenario", "run", "year"], value_vars=cols, var_name="metric")
    yearly["period"] = yearly["year"].astype(str)
    horizon = (
        wide.groupby(["scenario", "run"], observed=True)[cols]
        .sum(min_count=1)
        .reset_index()
        .melt(id_vars=["scenario", "run"], var_name="metric")
    )
    horizon["period"] = "all"
    keep = ["scenario", "run", "period", "metric", "value"]
    return pd.concat([yearly[keep], horizon[keep]], ignore_index=True)


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
        half = float(t_half_width(d.std(ddof=1), n, level)) if n >= 2 else math.nan
        return mean, half, 0.0
    ids = np.unique(sets)
    means = np.array([d[sets == k].mean() for k in ids])
    sizes = np.array([(sets == k).sum() for k in ids])
    within = float(sum(((d[sets == k] - m) ** 2).sum() for k, m in zip(ids, means, strict=True)) / max(1, n - len(ids)))
    between = max(0.0, float(means.var(ddof=1)) - within / float(sizes.mean()))
    stoch = float(t_quantile(0.5 + level / 2, max(1, n - len(ids))) * math.sqrt(within / n))
    param = float(normal_quantile(0.5 + level / 2) * math.sqrt(between))
    return mean, stoch, param


def _row(
    name: str,
    baseline: str,
    metric: str,
    period: str,
    base_level: float,
    level_: float,
    mean: float,
    stoch: float,
    param: float,
    n: int,
    same: bool,
) -> dict:
    half = math.hypot(stoch, param)
    lo, hi = mean - half, mean + half
    return {
        "scenario": name,
        "baseline": baseline,
        "metric": metric,
        "period": period,
        "baseline_mean": base_level,
        "scenario_mean": level_,
        "difference": mean,
        "ci_low": lo,
        "ci_high": hi,
        "pairs": n,
        "straddles_zero": not same and (bool(n >= 2 and lo <= 0.0 <= hi) or n < 2),
        "ci_half_stochastic": stoch,
        "ci_half_parameters": param,
        "identical": same,
    }


def _ratio_difference(
    num_b: np.ndarray, den_b: np.ndarray, num_o: np.ndarray, den_o: np.ndarray, sets: np.ndarray | None, level: float
) -> tuple[float, float, float, float, float]:
    """(baseline ratio, scenario ratio, difference, stochastic and parameter half-widths) of a ratio
    of sums over paired runs: each level is Σnum/Σden (one definition everywhere), the difference of
    the two, and its interval the delta method's (each run's linearised deviation, paired)."""
    if not (den_b.sum() > 0 and den_o.sum() > 0):
        return math.nan, math.nan, math.nan, math.nan, 0.0
    rb, ro = float(num_b.sum() / den_b.sum()), float(num_o.sum() / den_o.sum())
    infl = (num_o - ro * den_o) / den_o.mean() - (num_b - rb * den_b) / den_b.mean()
    _, stoch, param = interval(infl, sets, level)
    return rb, ro, ro - rb, stoch, param


def paired_differences(
    table: pd.DataFrame, baseline: str, level: float = 0.95, runs_per_set: int | None = None
) -> pd.DataFrame:
    """Per scenario, metric and period: baseline and scenario levels, the paired difference and its CI.

    Sums: the mean over runs and the paired t-interval. Ratios (win rate, Korean share, capture
    rate, value per public KRW, SME share): the ratio of sums over the runs and its delta-method
    interval. `runs_per_set`: the runs come in blocks of this many replications, one block per
    parameter set (`compare --parameter-sets`); the CI then includes parameter uncertainty."""
    runs = per_run(table)
    runs["scenario"] = runs["scenario"].astype(str)
    wide = runs.pivot_table(
        index=["scenario", "period", "run"],
        columns="metric",
        values="value",
        observed=True,
        aggfunc="first",
        dropna=False,
    )
    rows = []
    order = list(dict.fromkeys(runs["scenario"]))
    periods = sorted(p for p in runs["period"].unique() if p != "all") + ["all"]
    for name in order:
        if name == baseline:
            continue
        for period in periods:
            b = wide.loc[(baseline, period)]
            o = wide.loc[(name, period)]
            common = b.index.intersection(o.index)
            b, o = b.loc[common], o.loc[common]
            run_ids = np.asarray(common)
            for metric in COMPARED:
                if metric in RATIOS:
                    num, den = RATIOS[metric]
                    ok = (b[num].notna() & b[den].notna() & o[num].notna() & o[den].notna()).to_numpy()
                    sets = (run_ids[ok] // runs_per_set) if runs_per_set else None
                    nb, db_, no, do = (x.to_numpy()[ok] for x in (b[num], b[den], o[num], o[den]))
                    rb, ro, mean, stoch, param = _ratio_difference(nb, db_, no, do, sets, level)
                    same = bool(ok.sum() >= 1 and np.array_equal(nb, no) and np.array_equal(db_, do))
                    rows.append(_row(name, baseline, metric, period, rb, ro, mean, stoch, param, int(ok.sum()), same))
                else:
                    d_all = (o[metric] - b[metric]).to_numpy()
                    ok = ~np.isnan(d_all)
                    d = d_all[ok]
                    sets = (run_ids[ok] // runs_per_set) if runs_per_set else None
                    mean, stoch, param = interval(d, sets, level)
                    same = bool(len(d) >= 1 and (d == 0.0).all())
                    rows.append(
                        _row(
                            name,
                            baseline,
                            metric,
                            period,
                            float(b[metric].to_numpy()[ok].mean()) if ok.any() else math.nan,
                            float(o[metric].to_numpy()[ok].mean()) if ok.any() else math.nan,
                            mean,
                            stoch,
                            param,
                            len(d),
                            same,
                        )
                    )
        rows.append(_incremental(joined_all(runs, baseline, name), name, baseline, level, runs_per_set))
    out = pd.DataFrame(rows)
    out["period"] = pd.Categorical(out["period"], categories=periods, ordered=True)
    out["metric"] = pd.Categorical(out["metric"], categories=list(COMPARED) + [EXTRA[0]], ordered=True)
    out["scenario"] = pd.Categorical(out["scenario"], categories=[s for s in order if s != baseline], ordered=True)
    return out.sort_values(["scenario", "metric", "period"]).reset_index(drop=True)


def baseline_first(scenarios: list, baseline: str) -> list:
    """The scenarios in the order given, the baseline moved to the front (every table's column order)."""
    return [r for r in scenarios if r.scenario.name == baseline] + [r for r in scenarios if r.scenario.name != baseline]


def compare_batch(scenarios: list, baseline: str, seed: int, reps: int, psets=None, progress: bool = True):
    """Run every scenario with the same seeds (under each parameter set of `psets`, the same seeds
    in every set, runs numbered on: run k*reps+i is set k, replication i) and take the paired
    differences against `baseline`. Returns (runner.Batch, differences): what `scsim compare`
    writes and `simulation.api.compare` returns."""
    from simulation.engine.warmup import warm_up
    from simulation.experiment.runner import run_batch, runs_bar

    ordered = baseline_first(list(scenarios), baseline)
    under = psets.apply(ordered) if psets is not None else [ordered]
    if ordered:
        warm_up(ordered[0], show=progress)  # before the bar: its ETA counts runs only
    bar = runs_bar(len(under) * len(ordered) * reps) if progress else None  # one bar over every set
    try:
        batch = run_batch(under[0], seed, reps, progress=False, bar=bar)
        for k, scen_k in enumerate(under[1:], start=1):
            more = run_batch(scen_k, seed, reps, progress=False, bar=bar)
            for frame in more.frames:
                frame["run"] += k * reps
            batch.frames.extend(more.frames)
            batch.seconds += more.seconds
    finally:
        if bar is not None:
            bar.close()
    diff = paired_differences(batch.table, baseline, runs_per_set=reps if psets is not None else None)
    return batch, diff


def joined_all(runs: pd.DataFrame, baseline: str, name: str) -> pd.DataFrame:
    h = runs[(runs["period"] == "all") & runs["metric"].isin(["value_won_krw_bn", "public_cost_krw_bn"])]
    w = h.pivot_table(index=["scenario", "run"], columns="metric", values="value", observed=True)
    return pd.DataFrame(
        {
            "dv": w.loc[name]["value_won_krw_bn"] - w.loc[baseline]["value_won_krw_bn"],
            "dc": w.loc[name]["public_cost_krw_bn"] - w.loc[baseline]["public_cost_krw_bn"],
        }
    )


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
    same = bool(n >= 1 and (j["dv"] == 0.0).all() and (j["dc"] == 0.0).all())
    return {
        "scenario": name,
        "baseline": baseline,
        "metric": EXTRA[0],
        "period": "all",
        "baseline_mean": math.nan,
        "scenario_mean": math.nan,
        "difference": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "pairs": n,
        "straddles_zero": not same and bool(n < 2 or math.isnan(half) or (mean - half) <= 0.0 <= (mean + half)),
        "ci_half_stochastic": stoch,
        "ci_half_parameters": param,
        "identical": same,
    }


def fmt_change(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "%":
        return f"{value * 100:+.1f} pp" if abs(value) < 10 else f"{value:+.3g}"
    if abs(value) >= 100:
        return f"{value:+,.0f}"
    return f"{value:+.3g}"


def fmt_level(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "%":
        return f"{value * 100:.1f} %"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


IDENTICAL = "identical in every run"
IDENTICAL_NOTE = (
    "identical in every run: the scenario gave exactly the baseline's number in every replication, so "
    "more replications cannot change it; a lever that cannot act there does that (see the notes on "
    "levers that cannot act, or `scsim validate`)"
)


def _identical(diff: pd.DataFrame) -> pd.Series:
    return diff["identical"].astype(bool) if "identical" in diff else pd.Series(False, index=diff.index)


def label_unit(metric: str) -> tuple[str, str]:
    return COMPARED[metric][:2] if metric in COMPARED else EXTRA[1]


def straddle_note(diff: pd.DataFrame) -> str | None:
    """What a CI that straddles zero means, from how its half-width splits: replication noise
    (more replications will settle the sign) or parameter spread (they cannot: the effect's sign
    differs across the plausible parameter sets). None when no difference straddles zero.
    The CLI prints it and the report shows it, the same words."""
    s = diff[diff["straddles_zero"].astype(bool) & ~_identical(diff)]
    if s.empty:
        return None
    total = s[s["period"].astype(str) == "all"]
    yearly = len(s) - len(total)
    noise: dict[str, list[str]] = {}
    spread: list[str] = []
    for _, r in total.iterrows():
        label, unit = label_unit(str(r["metric"]))
        stoch = float(r.get("ci_half_stochastic", math.nan))
        param = float(r.get("ci_half_parameters", 0.0) or 0.0)
        if param > stoch:
            spread.append(
                f"{label} ({r['scenario']}): {_half(param, unit)} of its "
                f"{_half(math.hypot(stoch, param), unit)} is parameter spread"
            )
        else:
            noise.setdefault(str(r["scenario"]), []).append(label)
    parts = ["* CI straddles zero: the sign of the difference is not settled."]
    if spread:
        parts.append(
            "Mostly parameter uncertainty, which more replications cannot settle (the effect's sign "
            "differs across the plausible parameter sets): " + "; ".join(spread) + "."
        )
    if noise:
        parts.append(
            "Mostly replication noise, which more replications (--reps) will narrow: "
            + "; ".join(f"{', '.join(v)} ({k})" for k, v in noise.items())
            + "."
        )
    if yearly:
        parts.append(f"{yearly} yearly difference{'s straddle' if yearly != 1 else ' straddles'} zero as well.")
    return " ".join(parts)


def _half(value: float, unit: str) -> str:
    if unit == "%":
        return f"+/- {value * 100:.3g} pp"
    return f"+/- {value:,.0f}" if abs(value) >= 100 else f"+/- {value:.3g}"


def width_error(sets: int) -> float:
    """Relative standard error of a standard deviation estimated from `sets` values of a normal
    spread, 1/sqrt(2(k-1)): how much the parameter part of an interval moves with another draw of
    as many sets (docs/model.md section 6, "Does the choice of points change the interval?")."""
    return 1.0 / math.sqrt(2.0 * max(1, sets - 1))


def format_differences(diff: pd.DataFrame, runs: str, sets: int | None = None) -> str:
    """The whole-horizon differences, one block per scenario, and notes on CIs that straddle zero
    and on differences that are exactly zero in every run. `runs`: runner.replications_text."""
    lines = []
    horizon = diff[diff["period"] == "all"]
    baseline = horizon["baseline"].iloc[0] if len(horizon) else "?"
    years = sorted(str(p) for p in diff["period"].unique() if str(p) != "all")
    span = f"{years[0]}-{years[-1]}" if years else "the horizon"
    how = (
        f"paired over {runs}; the 95 % CI includes the ensemble's uncertainty: lever-effect sizes and "
        "the calibration, not only replication noise"
        if sets
        else f"paired over {runs}, 95 % CI"
    )
    same = _identical(diff)
    same_at = same.to_dict()  # row label -> the scenario and the baseline are identical
    for name, g in horizon.groupby("scenario", observed=True, sort=False):
        lines.append(f"{name} vs {baseline}, {span} ({how}):")
        lines.append(f"  {'metric':<38} {'baseline':>12} {'scenario':>12} {'difference':>12} {'95 % CI':>26}")
        for i, r in g.iterrows():
            label, unit = label_unit(r["metric"])
            ci = IDENTICAL if same_at[i] else f"[{fmt_change(r['ci_low'], unit)}, {fmt_change(r['ci_high'], unit)}]"
            flag = "  *" if r["straddles_zero"] else ""
            base_txt = "" if math.isnan(r["baseline_mean"]) else fmt_level(r["baseline_mean"], unit)
            scen_txt = "" if math.isnan(r["scenario_mean"]) else fmt_level(r["scenario_mean"], unit)
            lines.append(
                f"  {label + (' (' + unit + ')' if unit != '%' else ''):<38} {base_txt:>12} "
                f"{scen_txt:>12} {fmt_change(r['difference'], unit):>12} {ci:>26}{flag}"
            )
        if sets and "ci_half_parameters" in g:
            v = g[g["metric"] == "value_won_usd_m"]
            if len(v):
                r = v.iloc[0]
                lines.append(
                    f"  of the value-won CI: +/- {r['ci_half_stochastic']:,.0f} from replication noise and "
                    f"+/- {r['ci_half_parameters']:,.0f} from the parameters (added in quadrature; that part, "
                    f"read from {sets} sets, is itself uncertain by about +/- {width_error(sets):.0%})"
                )
    if same[diff["period"] == "all"].any():
        lines.append(IDENTICAL_NOTE + ".")
    note = straddle_note(diff)
    if note:
        lines.append(note)
    elif not same.any():
        lines.append("Every difference's CI excludes zero.")
    return "\n".join(lines)

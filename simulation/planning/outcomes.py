"""Outcomes over the horizon, per run and per ensemble member, and their statistics over the ensemble.

A run's totals are sums over its years (countries with a win is a level: its last year). A member's
value pools its replications the way the rest of scsim does: sums are means over the replications,
shares and value per public KRW are ratios of sums. A statistic over the ensemble (mean, median,
10th or 90th percentile, min, max) then summarises the members' values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

# the metrics (group "all") a planning run keeps, and how each outcome is made of them
METRICS = (
    "wins",
    "value_won_usd_m",
    "value_won_krw_bn",
    "public_cost_krw_bn",
    "sme_value_usd_m",
    "value_awarded_usd_m",
    "countries_with_win",
)
LEVELS = ("countries_with_win",)
SUMS = {
    "value_won": "value_won_usd_m",
    "public_cost": "public_cost_krw_bn",
    "wins": "wins",
    "countries_with_win": "countries_with_win",
    "public_cost_per_year": "public_cost_krw_bn",
}
RATIOS = {
    "sme_share": ("sme_value_usd_m", "value_won_usd_m"),
    "korean_share": ("value_won_usd_m", "value_awarded_usd_m"),
    "value_per_public_krw": ("value_won_krw_bn", "public_cost_krw_bn"),
}


def run_totals(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (point, rep): each of METRICS summed over the years (levels: the last year)."""
    t = rows[(rows["group"] == "all") & rows["metric"].isin(METRICS)]
    t = t.sort_values(["point", "rep", "metric", "year"], kind="mergesort")
    g = t.groupby(["point", "rep", "metric"], sort=True)["value"]
    summed = g.apply(lambda v: math.fsum(np.nan_to_num(v.to_numpy(dtype=np.float64)))).unstack("metric")
    last = g.last().unstack("metric")
    for m in LEVELS:
        if m in last:
            summed[m] = last[m]
    for m in METRICS:
        if m not in summed:
            summed[m] = np.nan
    return summed[list(METRICS)].reset_index()


def outcome_of(totals: pd.DataFrame, outcome: str, years: float) -> np.ndarray:
    """Per row of `totals` (a run, or a member's pooled sums): the value of `outcome`."""
    if outcome in RATIOS:
        num, den = RATIOS[outcome]
        d = totals[den].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(d > 0, totals[num].to_numpy(dtype=np.float64) / np.where(d > 0, d, 1.0), np.nan)
    v = totals[SUMS[outcome]].to_numpy(dtype=np.float64)
    return v / years if outcome == "public_cost_per_year" else v


def member_table(totals: pd.DataFrame, outcomes: Sequence[str], years: float, by: Sequence[str]) -> pd.DataFrame:
    """One row per group `by` (e.g. candidate and member): each outcome over its replications pooled
    (sums: the mean over replications; ratios: the ratio of the sums)."""
    g = totals.groupby(list(by), sort=True)
    mean = g[list(METRICS)].mean()
    summed = g[list(METRICS)].sum()
    out = pd.DataFrame(index=mean.index)
    for o in outcomes:
        out[o] = outcome_of(summed if o in RATIOS else mean, o, years)
    out["replications"] = g.size()
    return out.reset_index()


def statistic(values: np.ndarray, name: str) -> float:
    """A statistic of the members' values (NaN members left out)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return math.nan
    if name == "mean":
        return float(math.fsum(v) / len(v))
    if name == "median":
        return float(np.quantile(v, 0.5))
    if name == "p10":
        return float(np.quantile(v, 0.1))
    if name == "p90":
        return float(np.quantile(v, 0.9))
    if name == "min":
        return float(v.min())
    if name == "max":
        return float(v.max())
    raise ValueError(f"unknown statistic {name!r}")


def bootstrap(values: np.ndarray, fn, seed: int, n: int = 2000, level: float = 0.95) -> tuple[float, float]:
    """A percentile interval of fn(values) over resamples of the members (rows of `values`), seeded."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(v), size=(n, len(v)))
    draws = np.array([fn(v[i]) for i in idx], dtype=np.float64)
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return math.nan, math.nan
    a = (1.0 - level) / 2.0
    return float(np.quantile(draws, a)), float(np.quantile(draws, 1.0 - a))


def horizon_years(base) -> float:
    """The simulated horizon in years (months / 12) of a resolved scenario."""
    t = base.nested["time"]
    (y0, m0), (y1, m1) = (map(int, str(t[k]).split("-")[:2]) for k in ("start", "end"))
    return ((y1 - y0) * 12 + (m1 - m0) + 1) / 12.0

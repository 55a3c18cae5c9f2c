"""Confidence intervals over replications and the verdict that compares them with a published range.

Every estimate is a ratio of sums over paired replications (treated and control share the seed),
so its interval is a percentile bootstrap over replications: resampling whole replications keeps
the pairing and the correlation between numerator and denominator.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

LEVEL = 0.95
BOOTSTRAP = 2000
BOOT_SEED = 20190707  # the plan's date: a fixed seed makes the intervals reproducible

VERDICTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def bootstrap(stat: Callable[[np.ndarray], np.ndarray], n: int, level: float = LEVEL,
              resamples: int = BOOTSTRAP, seed: int = BOOT_SEED) -> Interval:
    """`stat(idx)` maps an index array (rows: resamples, columns: replications) to one value per row.

    The estimate is `stat` on the replications as drawn; the interval is the percentile interval
    of the resampled values (NaN when fewer than 2 replications or the statistic is undefined)."""
    est = float(stat(np.arange(n)[None, :])[0])
    if n < 2 or not math.isfinite(est):
        return Interval(est, math.nan, math.nan)
    idx = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    vals = np.asarray(stat(idx), dtype=float)
    vals = vals[np.isfinite(vals)]
    if len(vals) < resamples * 0.9:  # the statistic is undefined on many resamples: no honest interval
        return Interval(est, math.nan, math.nan)
    lo, hi = np.percentile(vals, [50 * (1 - level), 50 * (1 + level)])
    return Interval(est, float(lo), float(hi))


def ratio(num: np.ndarray, den: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """sum(num)/sum(den) over the resampled replications (NaN where the denominator is not positive)."""
    def stat(idx: np.ndarray) -> np.ndarray:
        a, b = num[idx].sum(axis=1), den[idx].sum(axis=1)
        out = np.full(len(a), np.nan)
        np.divide(a, b, out=out, where=b > 0)
        return out
    return stat


def pct_change(treated: np.ndarray, control: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """100·(sum(treated)/sum(control) − 1): the percentage effect on a total."""
    r = ratio(treated, control)
    return lambda idx: 100.0 * (r(idx) - 1.0)


def verdict(est: float, lo: float, hi: float, low: float | None, high: float | None, rule: str) -> str:
    """Compare a simulated estimate and its CI [lo, hi] with a published range [low, high] (None: unbounded).

    - overlap: pass when the estimate lies in the range; fail when the CI and the range are disjoint
      (the model disagrees at the 95 % level); otherwise inconclusive (more replications needed).
    - inside: pass when the whole CI lies in the range (used for "no effect" and for signs: the
      model must show the published pattern clearly); fail when disjoint; otherwise inconclusive.
    A missing estimate or CI is inconclusive.
    """
    if rule not in ("overlap", "inside"):
        raise ValueError(f"unknown rule {rule!r}")
    if not all(math.isfinite(x) for x in (est, lo, hi)):
        return "inconclusive"
    a = -math.inf if low is None else low
    b = math.inf if high is None else high
    if hi < a or lo > b:
        return "fail"
    if rule == "overlap":
        return "pass" if a <= est <= b else "inconclusive"
    return "pass" if a <= lo and hi <= b else "inconclusive"

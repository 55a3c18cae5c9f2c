"""Confidence intervals over replications and the verdict that compares them with a published range.

Every estimate is a ratio of sums over paired replications (treated and control share the seed),
or a difference of two such ratios. Its interval is the delta method's: the estimate's linearised
deviation per replication, and a t-interval on their mean with n − 1 degrees of freedom. With a
constant denominator this is exactly the paired t-interval of `scsim compare`; with few
replications the t quantile keeps the interval honest where a bootstrap would be far too narrow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulation.analysis.stats import t_half_width

LEVEL = 0.95

VERDICTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Linear:
    """An estimate and its influence per replication (estimate ≈ mean of the replications' own values)."""

    estimate: float
    influence: np.ndarray

    def __sub__(self, other: Linear) -> Linear:
        return Linear(self.estimate - other.estimate, self.influence - other.influence)

    def __mul__(self, k: float) -> Linear:
        return Linear(self.estimate * k, self.influence * k)


def ratio(num: np.ndarray, den: np.ndarray) -> Linear:
    """sum(num) / sum(den) over replications (NaN unless the denominator's mean is positive)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    mean_den = float(den.mean()) if len(den) else math.nan
    if not mean_den > 0:
        return Linear(math.nan, np.full(len(num), math.nan))
    r = float(num.sum() / den.sum())
    return Linear(r, (num - r * den) / mean_den)


def mean(values: np.ndarray) -> Linear:
    values = np.asarray(values, dtype=float)
    return ratio(values, np.ones(len(values)))


def pct_change(treated: np.ndarray, control: np.ndarray) -> Linear:
    """100·(sum(treated)/sum(control) − 1): the percentage effect on a total."""
    r = ratio(treated, control)
    return Linear(100.0 * (r.estimate - 1.0), 100.0 * r.influence)


def log_ratio(treated: np.ndarray, control: np.ndarray) -> Linear:
    """ln(sum(treated)/sum(control)): the log change of a total (NaN unless both are positive)."""
    t, c = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    if not (t.sum() > 0 and c.sum() > 0):
        return Linear(math.nan, np.full(len(t), math.nan))
    return Linear(float(math.log(t.sum() / c.sum())), t / t.mean() - c / c.mean())


def quotient(num: Linear, den: Linear) -> Linear:
    """num / den of two linearised estimates (NaN when den is 0)."""
    if not den.estimate:
        return Linear(math.nan, np.full(len(num.influence), math.nan))
    q = num.estimate / den.estimate
    return Linear(q, (num.influence - q * den.influence) / den.estimate)


def product(a: Linear, b: Linear) -> Linear:
    """a · b of two linearised estimates."""
    return Linear(a.estimate * b.estimate, a.influence * b.estimate + a.estimate * b.influence)


def interval(stat: Linear, level: float = LEVEL) -> Interval:
    """Estimate ± t(n − 1)·sd(influence)/√n (NaN bounds with fewer than 2 replications)."""
    n = len(stat.influence)
    if n < 2 or not math.isfinite(stat.estimate) or not np.isfinite(stat.influence).all():
        return Interval(stat.estimate, math.nan, math.nan)
    half = float(t_half_width(stat.influence.std(ddof=1), n, level))
    return Interval(stat.estimate, stat.estimate - half, stat.estimate + half)


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

"""The t-interval every table and figure reports, written once.

The quantiles come from scipy.special (`stdtrit`, `ndtri`), the functions scipy.stats' `t.ppf` and
`norm.ppf` call, bit for bit: importing scipy.stats costs every `sweep`, `compare` and `analyze`
process about 1.2 s of CPU (its docstring processing), scipy.special (imported by both) about 0.5 s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtri, stdtrit

LEVEL = 0.95


def t_half_width(sd: Any, n: Any, level: float = LEVEL) -> Any:
    """Half-width of the t-interval of a mean, t((1 + level) / 2; n - 1) * sd / sqrt(n).

    `sd` is the sample standard deviation (ddof=1) of `n` values; both may be numpy arrays.
    Needs n >= 2 (NaN otherwise: the caller decides what a single value's interval is)."""
    return t_quantile(0.5 + level / 2, np.asarray(n) - 1) * sd / np.sqrt(n)


def t_quantile(p: float, df: Any) -> Any:
    """Student t quantile, as scipy.stats.t.ppf(p, df): NaN where df is not positive."""
    df = np.asarray(df, dtype=np.float64)
    return stdtrit(np.where(df > 0, df, np.nan), p)


def normal_quantile(p: Any) -> Any:
    """Standard normal quantile, as scipy.stats.norm.ppf(p)."""
    return ndtri(p)


def ks_distance(a: Any, b: Any) -> float:
    """Two-sample Kolmogorov-Smirnov distance, the largest gap between the two empirical CDFs:
    scipy.stats.ks_2samp(a, b).statistic bit for bit, without its p-value (an exact one, which
    grows costly with the samples) and without importing scipy.stats. NaN if either holds a NaN."""
    a = np.sort(np.asarray(a, dtype=np.float64))
    b = np.sort(np.asarray(b, dtype=np.float64))
    if len(a) == 0 or len(b) == 0:
        raise ValueError("the KS distance needs two non-empty samples")
    if np.isnan(a).any() or np.isnan(b).any():
        return math.nan
    both = np.concatenate([a, b])
    gap = np.searchsorted(a, both, side="right") / len(a) - np.searchsorted(b, both, side="right") / len(b)
    d = max(np.clip(-gap.min(), 0, 1), gap.max())
    n1, n2 = len(a), len(b)
    if max(n1, n2) <= 10_000:  # snapped to its exact value, a multiple of 1/lcm(n1, n2), as ks_2samp does
        lcm = n1 // math.gcd(n1, n2) * n2
        d = int(np.round(d * lcm)) * 1.0 / lcm
    return float(d)

"""The t-interval every table and figure reports, written once.

`analysis.analyze.mean_ci` (the analysis tables and the figures) still computes its own quantile
with scipy.special.stdtrit, which imports faster; it is to move here when analyze is split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

LEVEL = 0.95


def t_half_width(sd: Any, n: Any, level: float = LEVEL) -> Any:
    """Half-width of the t-interval of a mean, t((1 + level) / 2; n - 1) * sd / sqrt(n).

    `sd` is the sample standard deviation (ddof=1) of `n` values; both may be numpy arrays.
    Needs n >= 2 (NaN otherwise: the caller decides what a single value's interval is)."""
    return stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)

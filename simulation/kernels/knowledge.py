"""What a firm knows of each country, and how that knowledge fades unless it is used.

`know[c, i]` is -1 when firm i has never touched country c, else `last * KNOW_SHIFT + depth`: the
month it last used its knowledge there (a bid, a win, a meeting at the expo, a roadshow) and how
deep it is (1 after one touch, up to `uses_to_establish`; a win makes it established at once).
Its strength in month m is read lazily from a table, `P.k_table[depth, m - last]` =
`2^(-(m - last) / half_life[depth])`, so nothing has to fade month by month: a new presence fades
with the short half-life, an established one with the long one (EVIDENCE F: new destinations are
often dropped within a year or two, established ones persist).
"""
from __future__ import annotations

import numpy as np

from .constants import KNOW_DEPTHS, KNOW_SHIFT
from .jit import helper


@helper
def strength(know, c, i, m, k_table):
    """Strength 0..1 of firm i's knowledge of country c in month m."""
    v = know[c, i]
    if v < 0:
        return 0.0
    return k_table[v & (KNOW_SHIFT - 1), m - (v >> 4)]


@helper
def touch(know, c, i, m, uses):
    """Firm i used its knowledge of country c in month m: one level deeper, up to established."""
    v = know[c, i]
    depth = 1
    if v >= 0:
        depth = (v & (KNOW_SHIFT - 1)) + 1
        if depth > uses:
            depth = uses
    know[c, i] = m * KNOW_SHIFT + depth


@helper
def establish(know, c, i, m, uses):
    """Firm i won in country c in month m: its knowledge there is established."""
    know[c, i] = m * KNOW_SHIFT + uses


def knowledge_table(half_new: float, half_established: float, uses: int, n_months: int) -> np.ndarray:
    """k_table[depth, age]: strength of knowledge of depth 1..uses, `age` months after its last use.

    The half-life grows geometrically from `half_new` at depth 1 to `half_established` at depth
    `uses` (depth 0, never touched, is 0)."""
    table = np.zeros((KNOW_DEPTHS, n_months + 1), dtype=np.float64)
    age = np.arange(n_months + 1, dtype=np.float64)
    for depth in range(1, KNOW_DEPTHS):
        d = min(depth, uses)
        frac = 1.0 if uses <= 1 else (d - 1) / (uses - 1)
        half = half_new * (half_established / half_new) ** frac
        table[depth] = 2.0 ** (-age / half)
    return table


assert KNOW_SHIFT == 16  # `v >> 4` in `strength`

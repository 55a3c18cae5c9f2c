"""What a firm knows of each country, and how that knowledge fades unless it is used.

`know[c, i]` is -1 when firm i has never touched country c, else `last * KNOW_SHIFT + depth`: the
month it last used its knowledge there and how deep it is: 0 after an introduction (a meeting at
the expo, a roadshow's host), which counts `introduction_strength` of a bid's knowledge, 1 after one
bid, up to `uses_to_establish` after more (a win makes it established at once).
Its strength in month m is read lazily from a table, `P.k_table[depth, m - last]` =
`2^(-(m - last) / half_life[depth])`, so nothing has to fade month by month: a new presence fades
with the short half-life, an established one with the long one (EVIDENCE F: new destinations are
often dropped within a year or two, established ones persist).
"""

from __future__ import annotations

import numpy as np

from simulation.engine.kernels.constants import KNOW_DEPTHS, KNOW_SHIFT
from simulation.engine.kernels.jit import helper


@helper
def strength(know, c, i, m, k_table):
    """Strength 0..1 of firm i's knowledge of country c in month m."""
    return strength_of(know[c, i], m, k_table)


@helper
def strength_of(v, m, k_table):
    """Strength 0..1 in month m of knowledge whose `know` value is v (for a caller that has read it)."""
    if v < 0:
        return 0.0
    return k_table[v & (KNOW_SHIFT - 1), m - (v >> 4)]


@helper
def introduce(know, c, i, m):
    """Firm i met country c's buyers in month m (expo, roadshow): an introduction, unless it knows more."""
    v = know[c, i]
    if v < 0 or (v & (KNOW_SHIFT - 1)) == 0:
        know[c, i] = m * KNOW_SHIFT


@helper
def touch(know, c, i, m, uses):
    """Firm i used its knowledge of country c in month m (a bid): one level deeper, up to established."""
    v = know[c, i]
    depth = 1
    if v >= 0 and (v & (KNOW_SHIFT - 1)) > 0:
        depth = (v & (KNOW_SHIFT - 1)) + 1
        if depth > uses:
            depth = uses
    know[c, i] = m * KNOW_SHIFT + depth


@helper
def establish(know, c, i, m, uses):
    """Firm i won in country c in month m: its knowledge there is established."""
    know[c, i] = m * KNOW_SHIFT + uses


def knowledge_table(
    half_new: float, half_established: float, uses: int, n_months: int, introduction: float
) -> np.ndarray:
    """k_table[depth, age]: strength of knowledge of depth 0..uses, `age` months after its last use.

    The half-life grows geometrically from `half_new` at depth 1 to `half_established` at depth
    `uses`; depth 0 (an introduction) is `introduction` times a first bid's knowledge."""
    table = np.zeros((KNOW_DEPTHS, n_months + 1), dtype=np.float64)
    age = np.arange(n_months + 1, dtype=np.float64)
    table[0] = introduction * 2.0 ** (-age / half_new)
    for depth in range(1, KNOW_DEPTHS):
        d = min(depth, uses)
        frac = 1.0 if uses <= 1 else (d - 1) / (uses - 1)
        half = half_new * (half_established / half_new) ** frac
        table[depth] = 2.0 ** (-age / half)
    return table


assert KNOW_SHIFT == 16  # `v >> 4` in `strength`

"""Small helpers for turning uniform draws into choices; the oracle mirrors them exactly."""
import math

from numba import njit


@njit(cache=True, inline="always")
def pick_cum(cum, u):
    """Index k of the first cumulative share above u (the last one if rounding leaves none)."""
    n = cum.shape[0]
    for k in range(n):
        if u < cum[k]:
            return k
    return n - 1


@njit(cache=True, inline="always")
def masked_total(weight, mask):
    total = 0.0
    for c in range(weight.shape[0]):
        if mask[c]:
            total += weight[c]
    return total


@njit(cache=True, inline="always")
def pick_masked(weight, mask, total, u):
    """A country drawn with probability proportional to weight among those with mask set."""
    target = u * total
    acc = 0.0
    last = -1
    for c in range(weight.shape[0]):
        if mask[c]:
            acc += weight[c]
            last = c
            if acc > target:
                return c
    return last


@njit(cache=True, inline="always")
def gumbel(u):
    """Standard Gumbel noise from a uniform draw in [0, 1)."""
    if u <= 0.0:
        u = 5e-324
    return -math.log(-math.log(u))


@njit(cache=True, inline="always")
def boost(rel, c, amount):
    """Raise a relationship, clipped to [0, 1]."""
    v = rel[c] + amount
    if v > 1.0:
        v = 1.0
    rel[c] = v

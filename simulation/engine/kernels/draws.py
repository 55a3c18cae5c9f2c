"""Small helpers for turning uniform draws into choices; the oracle mirrors them exactly."""

import math

from simulation.engine.kernels.jit import helper, shared
from simulation.engine.kernels.pcg import uniform


@helper
def pick_cum(cum, u):
    """Index k of the first cumulative share above u (the last one if rounding leaves none)."""
    n = cum.shape[0]
    for k in range(n):
        if u < cum[k]:
            return k
    return n - 1


@helper
def masked_total(weight, mask):
    total = 0.0
    for c in range(weight.shape[0]):
        if mask[c]:
            total += weight[c]
    return total


@helper
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


@helper
def gumbel(u):
    """Standard Gumbel noise from a uniform draw in [0, 1)."""
    if u <= 0.0:
        u = 5e-324
    return -math.log(-math.log(u))


@shared
def boost(rel, c, amount, P):
    """Raise a relationship by amount times the room left below its ceiling, clipped to [0, 1].

    The room is 1 - (rel - base) / rel_ceiling, in [0, 1]: stacked boosts saturate towards
    base + rel_ceiling instead of adding up (docs/model.md §4, "saturation").
    """
    room = 1.0 - (rel[c] - P.rel_base[c]) / P.rel_ceiling
    if room < 0.0:
        room = 0.0
    elif room > 1.0:
        room = 1.0
    v = rel[c] + amount * room
    if v > 1.0:
        v = 1.0
    rel[c] = v


# Stirling-series coefficients of numpy's loggam (a tuple: no reference counting needed)
_LOGGAM_A = (
    8.333333333333333e-02,
    -2.777777777777778e-03,
    7.936507936507937e-04,
    -5.952380952380952e-04,
    8.417508417508418e-04,
    -1.917526917526918e-03,
    6.410256410256410e-03,
    -2.955065359477124e-02,
    1.796443723688307e-01,
    -1.39243221690590e00,
)


@helper
def loggam(x):
    """log Gamma(x) exactly as numpy's random module computes it (used by the Poisson sampler)."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = int(7 - x) if x < 7.0 else 0
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = _LOGGAM_A[9]
    for k in range(0, 9):
        gl0 *= x2
        gl0 += _LOGGAM_A[8 - k]
    gl = gl0 / x0 + 0.5 * 1.8378770664093453e00 + (x0 - 0.5) * math.log(x0) - x0
    if x < 7.0:
        for _ in range(1, n + 1):
            gl = gl - math.log(x0 - 1.0)
            x0 = x0 - 1.0
    return gl


@shared
def poisson(rng, lam):
    """numpy's Poisson sampler (PTRS for lam >= 10, multiplication below), drawn from `pcg.uniform`.

    It consumes the generator exactly as `numpy.random.Generator.poisson` does, so the plain-Python
    oracle can keep calling numpy; numba's own `rng.poisson` needs reference counting, which the
    submodels are compiled without (see jit.py).
    """
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            U = uniform(rng) - 0.5
            V = uniform(rng)
            us = 0.5 - abs(U)
            k = int(math.floor((2 * a / us + b) * U + lam + 0.43))  # floor, as numpy: int() would round -0.5 up to 0
            if us >= 0.07 and V <= vr:
                return k
            if k < 0 or (us < 0.013 and V > us):
                continue
            if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (-lam + k * loglam - loggam(k + 1)):
                return k
    if lam == 0:
        return 0
    enlam = math.exp(-lam)
    X = 0
    prod = 1.0
    while True:
        prod *= uniform(rng)
        if prod > enlam:
            X += 1
        else:
            return X

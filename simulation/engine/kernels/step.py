"""The monthly step: the submodels in their fixed order (this order is part of the model).

The kernels take P, S and A packed (`kernels.refs`); Python code that holds the `Params`, `State`
and `Acc` named tuples calls `run`, which packs them.
"""

from simulation.engine.kernels.award import award
from simulation.engine.kernels.bidding import bidding
from simulation.engine.kernels.consequences import consequences
from simulation.engine.kernels.constants import K_OVERFLOW
from simulation.engine.kernels.jit import entry, stage
from simulation.engine.kernels.market import market
from simulation.engine.kernels.policy import policy, year_reset
from simulation.engine.kernels.refs import pack


@stage
def step_month(m, P, S, A, R):
    """Advance the world by month m; R holds the run's random streams (state.Streams).

    Returns 0, or an overflow code when a pool is full (the driver enlarges it and reruns).
    """
    if m == 0 or P.moy[m] == 0:
        year_reset(m, P, S)
    policy(m, P, S, A, R.policy)
    if S.cnt[K_OVERFLOW] != 0:
        return S.cnt[K_OVERFLOW]
    market(m, P, S, R.market, R.foreign)
    if S.cnt[K_OVERFLOW] != 0:
        return S.cnt[K_OVERFLOW]
    bidding(m, P, S, A, R.discovery, R.foreign, R.decision)
    if S.cnt[K_OVERFLOW] != 0:
        return S.cnt[K_OVERFLOW]
    award(m, P, S, A)
    if S.cnt[K_OVERFLOW] != 0:
        return S.cnt[K_OVERFLOW]
    consequences(m, P, S, A, R.consequences)
    return S.cnt[K_OVERFLOW]


@entry
def run_months(m0, m1, P, S, A, R):
    """Months m0..m1-1 in one compiled loop (the fast path for many runs)."""
    for m in range(m0, m1):
        code = step_month(m, P, S, A, R)
        if code != 0:
            return code
    return 0


def run(m0, m1, P, S, A, R):
    """`run_months` for the Params, State and Acc named tuples: packs them, then runs the compiled loop.

    Pack once and call `run_months` directly to step a run in several calls (the Mesa model)."""
    return run_months(m0, m1, pack(P), pack(S), pack(A), R)


def entry_points() -> tuple:
    """The compiled functions a run calls from Python: what a first run compiles, or loads from
    numba's cache (the warm-up, the sweep workers and the compile-time bench all ask about these)."""
    return (run_months, pack)


def first_month(m0, m1, P, S, A, R):
    """`run` for one month only: compiles (or loads) everything a whole run needs, at a fraction of
    its cost. Passed to `simulate` as its kernel to warm a process up."""
    return run(m0, min(m1, m0 + 1), P, S, A, R)

"""Where a run's time goes, by submodel, timed inside the compiled month loop (not a test).

    python -m simulation.bench.stages                         # the announced plan, 50 runs
    python -m simulation.bench.stages --scenario no_plan --runs 100

The month loop of `kernels/step.py` is compiled once more with a clock read between its submodels
(libc's `clock()`, process CPU time in microseconds, called from the compiled code through
ctypes), so each submodel's share is measured where it runs, without calling it from Python
(whose per-call unpacking of the state would swamp it). The loop runs the submodels in the same
order on the same state as `run_months`, so a run's results are the same numbers; `stage_times`
checks that.
"""

from __future__ import annotations

import argparse
import ctypes
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from simulation.engine.kernels.award import award
from simulation.engine.kernels.bidding import bidding
from simulation.engine.kernels.consequences import consequences
from simulation.engine.kernels.constants import K_OVERFLOW
from simulation.engine.kernels.market import market
from simulation.engine.kernels.policy import policy, year_reset
from simulation.engine.kernels.refs import pack

STAGES = ("policy", "market", "bidding", "award", "consequences")

_clock = ctypes.CDLL(None).clock
_clock.restype = ctypes.c_long
_clock.argtypes = ()


@njit(_nrt=False)
def _timed_months(m0, m1, P, S, A, R, T):
    """`step.run_months` with the CPU microseconds of each submodel added to T (year_reset counts
    with policy)."""
    for m in range(m0, m1):
        t0 = _clock()
        if m == 0 or P.moy[m] == 0:
            year_reset(m, P, S)
        policy(m, P, S, A, R.policy)
        if S.cnt[K_OVERFLOW] != 0:
            return S.cnt[K_OVERFLOW]
        t1 = _clock()
        market(m, P, S, R.market, R.foreign)
        if S.cnt[K_OVERFLOW] != 0:
            return S.cnt[K_OVERFLOW]
        t2 = _clock()
        bidding(m, P, S, A, R.discovery, R.foreign, R.decision)
        if S.cnt[K_OVERFLOW] != 0:
            return S.cnt[K_OVERFLOW]
        t3 = _clock()
        award(m, P, S, A)
        if S.cnt[K_OVERFLOW] != 0:
            return S.cnt[K_OVERFLOW]
        t4 = _clock()
        consequences(m, P, S, A, R.consequences)
        t5 = _clock()
        T[0] += t1 - t0
        T[1] += t2 - t1
        T[2] += t3 - t2
        T[3] += t4 - t3
        T[4] += t5 - t4
        if S.cnt[K_OVERFLOW] != 0:
            return S.cnt[K_OVERFLOW]
    return 0


@dataclass
class StageTimes:
    scenario: str
    runs: int
    ms: dict[str, float]  # CPU milliseconds a run, by submodel
    run_ms: float  # wall milliseconds a whole run (world + steps) with the clocks
    same_results: bool  # the timed loop gave the compiled loop's accumulators, bit for bit


def stage_times(scenario: str = "plan_2019_announced", runs: int = 50) -> StageTimes:
    """CPU time a run by submodel, over `runs` seeds of a shipped (or named) scenario."""
    from simulation.engine.simulate import simulate
    from simulation.scenario.loader import load_scenario
    from simulation.scenario.shipped import resolve

    base = load_scenario(resolve(scenario, "scenarios"))
    T = np.zeros(len(STAGES), dtype=np.int64)

    def kernel(m0, m1, P, S, A, R):
        return _timed_months(m0, m1, pack(P), pack(S), pack(A), R, T)

    first = simulate(base, 0, kernel=kernel)  # compiles the timed loop
    plain = simulate(base, 0)
    same = all(np.array_equal(getattr(first.acc, f), getattr(plain.acc, f)) for f in first.acc._fields)
    T[:] = 0
    t = time.perf_counter()
    for seed in range(1, runs + 1):
        simulate(base, seed, kernel=kernel)
    wall = (time.perf_counter() - t) / runs * 1000.0
    ms = {name: float(T[j]) / runs / 1000.0 for j, name in enumerate(STAGES)}
    return StageTimes(base.scenario.name, runs, ms, wall, same)


def format_stage_times(st: StageTimes) -> str:
    from simulation.bench.model import machine, short_cpu

    total = sum(st.ms.values())
    lines = [
        f"{st.scenario}, {st.runs} runs, on {short_cpu(machine()['cpu'])}: monthly steps {total:.2f} ms CPU a run "
        f"(whole run with the clocks {st.run_ms:.2f} ms wall); results as the compiled loop's: {st.same_results}",
        f"{'submodel':<14} {'ms a run':>9} {'share':>7}",
    ]
    for name, v in st.ms.items():
        lines.append(f"{name:<14} {v:9.3f} {v / total * 100:6.1f} %")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="plan_2019_announced", help="a shipped scenario's name or a file")
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args(argv)
    print(format_stage_times(stage_times(args.scenario, args.runs)))


if __name__ == "__main__":  # pragma: no cover
    main()

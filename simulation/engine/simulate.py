"""Run the model: one run is a pure function of (resolved scenario, seed).

This is the plain fast path used for many runs: no Mesa model is built (Mesa 3.3.1 never
frees models, mesa#3179), just the world arrays and the compiled monthly loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from simulation.engine.kernels.constants import NG, NI, NTR, SNAP
from simulation.engine.params import build_params
from simulation.engine.state import ACC_FIELDS, Acc, Params, State, Streams
from simulation.engine.world import Capacity, build
from simulation.scenario.calendar import Calendar
from simulation.scenario.loader import Resolved

_Y_G = {"bids", "wins", "value"}


def new_acc(n_years: int) -> Acc:
    arrays: dict[str, np.ndarray] = {}
    for name in ACC_FIELDS:
        if name in _Y_G:
            arrays[name] = np.zeros((n_years, NG), dtype=np.float64)
        elif name == "cost":
            arrays[name] = np.zeros((n_years, NI), dtype=np.float64)
        elif name == "pis_snap":
            arrays[name] = np.zeros((n_years, NTR, len(SNAP)), dtype=np.float64)
        else:
            arrays[name] = np.zeros(n_years, dtype=np.float64)
    return Acc(**arrays)


@dataclass
class RunResult:
    scenario: str
    seed: int
    cal: Calendar
    acc: Acc
    params: Params
    state: State
    private_raised: float


class _Pool(threading.local):
    generators: list[np.random.Generator]

    def __init__(self) -> None:
        self.generators = []


_POOL = _Pool()


def reused_streams(R: Streams) -> Streams:
    """The run's streams as this thread's same Generator objects every run, each set to the fresh one's state.

    The compiled entry point is built without numba's reference counting, so it never releases
    what unboxing a Generator takes: a reference to it (and with it the PCG64, its SeedSequence
    and the ctypes objects behind it, about 20 KiB a run). Passing the same objects every run
    keeps that bounded; the draws are bit for bit those of the fresh generators (same state)."""
    pool = _POOL.generators
    while len(pool) < len(R):
        pool.append(np.random.Generator(np.random.PCG64(0)))
    for mine, fresh in zip(pool, R, strict=False):
        mine.bit_generator.state = fresh.bit_generator.state
    return Streams(*pool[: len(R)])


# `build_params` of the last few scenario objects run: Params depend on the scenario, not on the
# seed, and building them is about an eighth of a default run, which the replications of a sweep
# or a comparison would otherwise pay again and again. Keyed by the object (kept alive here, so
# its id is not reused); the kernels never write into Params (tests/test_engine.py checks it).
_PARAMS: dict[int, tuple] = {}
_PARAMS_KEPT = 4
_PARAMS_LOCK = threading.Lock()


def params_of(r: Resolved):
    """`build_params(r)`, built once per scenario object and shared by its runs (read-only)."""
    with _PARAMS_LOCK:
        hit = _PARAMS.get(id(r))
        if hit is not None and hit[0] is r:
            return hit[1]
    got = build_params(r)
    with _PARAMS_LOCK:
        _PARAMS[id(r)] = (r, got)
        while len(_PARAMS) > _PARAMS_KEPT:
            del _PARAMS[next(iter(_PARAMS))]
    return got


def simulate(r: Resolved, seed: int, kernel=None) -> RunResult:
    """Run the whole horizon. `kernel(m0, m1, P, S, A, R)` (the Params, State and Acc tuples, R: the run's
    random streams) defaults to the compiled month loop (`kernels.step.run`, which packs the tuples)."""
    if kernel is None:
        from simulation.engine.kernels.step import run as kernel
    cap: Capacity | None = None
    while True:
        P, cal, table, S, R, cap = build(r, seed, cap, params_of(r))
        A = new_acc(cal.n_years)
        code = kernel(0, cal.n_months, P, S, A, reused_streams(R))
        if code == 0:
            break
        cap = cap.after_overflow(code)
    return RunResult(r.scenario.name, seed, cal, A, P, S, float(S.pis_paid[2]))

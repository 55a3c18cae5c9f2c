"""A cold start on two cores: part of the month loop compiled in a helper process meanwhile.

numba compiles one function at a time, in one thread: from an empty cache the month loop takes
about 16 s of CPU on an Intel Xeon and 28 s on an AMD EPYC (`python -m simulation.bench.compiletimes`,
docs/speed.md), on one core while the other idles. The loop's submodels are cached functions of
their own (`jit.submodel`); the loop calls them and links their LLVM IR, and numba loads a callee
from its on-disk cache when it is there rather than compiling it. So on a machine with two or more
cores, a cold start compiles `bidding` and `policy` (about 11 s of CPU on the AMD machine) in a
helper process while this one compiles the packing of the arguments, `award`, `market` and
`consequences` (about 12 s); then it compiles the loop itself (about 3 s), which loads the helper's
two from the cache. The machine code is the same either way: the cache keeps each function's IR
for linking, and the results are bit for bit those of a compile in one process
(tests/test_precompile.py).

If the helper cannot start or fails, or the cache cannot be written, this process compiles what
the helper would have: slower, never wrong.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
from functools import partial

from simulation.scenario.loader import Resolved

# the submodels the helper process compiles, and those this one compiles before the loop (names in
# kernels.step); chosen by their compile times so that both processes finish at about the same time
HELPER_PART = ("bidding", "policy")
HERE_PART = ("award", "market", "consequences")
HELPER_TIMEOUT_S = 600.0  # far beyond any compile seen (28 s on the slowest machine measured)


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def signatures(P, S, A, R) -> dict[str, tuple]:
    """Each submodel's argument types as the month loop calls it (`kernels.step.step_month`): what
    compiling it ahead must match, or the loop would compile it again for its own types."""
    from numba import typeof, types

    from simulation.engine.kernels.refs import view_type

    p, s, a = (view_type(typeof(t)) for t in (P, S, A))
    g = {name: typeof(getattr(R, name)) for name in R._fields}
    m = types.int64  # the loop's month counter
    return {
        "bidding": (m, p, s, a, g["discovery"], g["foreign"], g["decision"]),
        "award": (m, p, s, a),
        "market": (m, p, s, g["market"], g["foreign"]),
        "consequences": (m, p, s, a, g["consequences"]),
        "policy": (m, p, s, a, g["policy"]),
    }


def compile_parts(names, m0, m1, P, S, A, R, with_pack: bool = False) -> int:
    """A kernel for `simulate` that compiles (or loads) the named submodels, and the packing of P, S
    and A if asked, and runs nothing (returns 0: no overflow)."""
    from numba import typeof

    from simulation.engine.kernels import step

    if with_pack:
        for t in (P, S, A):
            step.pack.compile((typeof(t),))
    sigs = signatures(P, S, A, R)
    for name in names:
        getattr(step, name).compile(sigs[name])
    return 0


def _helper(scenario: Resolved) -> None:
    """The helper process: compile `HELPER_PART` into the on-disk cache."""
    from simulation.engine.simulate import simulate

    simulate(scenario, 0, kernel=partial(compile_parts, HELPER_PART))


def start_method() -> str:
    """How to start the helper: forked (it starts at once, with this process's imports) on Linux
    while this process runs one thread; spawned otherwise. A fork copies only the forking thread, so
    a lock another thread held at that moment (stderr's, while a spinner or a server writes) would
    stay held in the helper for good; a spawned helper imports afresh (about 1.5 s) and has none."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


class _Spawned:
    """A spawned helper: a fresh `python -c` reading the pickled scenario from its stdin. Not
    multiprocessing's spawn, which imports the caller's main script again in the child (a user's
    script without an `if __name__ == "__main__":` guard would run twice). The subset of
    `multiprocessing.Process` that `compile_month_loop` uses."""

    def __init__(self, scenario: Resolved) -> None:
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)  # NUMBA_CACHE_DIR included: the same cache folder (kernels/__init__.py)
        env["PYTHONPATH"] = os.pathsep.join([package_root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        code = "import pickle, sys; from simulation.engine.precompile import _helper; _helper(pickle.load(sys.stdin.buffer))"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(pickle.dumps(scenario))
        finally:
            self._proc.stdin.close()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout)

    def is_alive(self) -> bool:
        return self._proc.poll() is None

    def terminate(self) -> None:
        self._proc.terminate()

    @property
    def exitcode(self) -> int | None:
        return self._proc.returncode


def start_helper(scenario: Resolved):
    """The helper process, started, when the kernels are not cached and there is a second core;
    else None (also when it cannot start: this process then compiles it all). Call it before
    starting any thread of one's own (a spinner), so that it can be forked."""
    from simulation.engine.warmup import kernels_ready

    if usable_cores() < 2 or os.environ.get("SCSIM_COMPILE_HELPER", "1") == "0" or kernels_ready():
        return None
    method = start_method()
    try:
        if method == "fork":
            proc = multiprocessing.get_context("fork").Process(
                target=_helper, args=(scenario,), name="scsim-compile-helper", daemon=True
            )
            proc.start()
        else:
            proc = _Spawned(scenario)
    except Exception:  # noqa: BLE001 - no helper: this process compiles it all
        return None
    LAST_HELPER.update(method=method, exitcode=None)
    return proc


# how this process's last helper was started and how it ended (`exitcode` 0: it compiled its part)
LAST_HELPER: dict[str, object] = {"method": None, "exitcode": None}
_START = object()  # compile_month_loop's default: start the helper itself


def compile_month_loop(scenario: Resolved, helper=_START) -> None:
    """Compile (or load) everything a run of `scenario` needs, sharing the work with a helper
    process (`start_helper`, or the one passed) when the kernels are not cached yet and there is a
    second core."""
    from simulation.engine.kernels.step import first_month
    from simulation.engine.simulate import simulate

    if helper is _START:
        helper = start_helper(scenario)
    if helper is not None:
        try:
            simulate(scenario, 0, kernel=partial(compile_parts, HERE_PART, with_pack=True))
        finally:
            helper.join(HELPER_TIMEOUT_S)
            if helper.is_alive():  # stuck: what it has not cached, the loop's compile below compiles here
                helper.terminate()
                helper.join()
            LAST_HELPER["exitcode"] = helper.exitcode
    simulate(scenario, 0, kernel=first_month)

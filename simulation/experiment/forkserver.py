"""What the local pool's fork server loads once, so that each worker starts as a fork of it, ready.

A spawned worker imported the package and its libraries (numba, numpy, pandas, pyarrow: about
1.8 s of CPU) and loaded the compiled kernels (about 0.8 s) before its first run, every worker of
every pool, and again for each pool rebuilt after a crash. The local pool now starts its workers
with multiprocessing's `forkserver`: one fresh process (this module, imported as its preload)
imports and loads once, and each worker is a fork of it, which costs milliseconds. Forking from
the fork server, not from the sweep's own process, stays safe when the sweep runs threads (its
lock's heartbeat, a progress bar): the server runs one thread.

The server outlives a pool (it lives as long as the process that started it), so what may change
between pools is not taken from it: each worker takes its sweep's working folder and environment
when it starts (`executors._init_worker`). The kernels it loads are the same code's whatever the
scenario (their argument types do not depend on it); a worker whose types differ loads its own,
from the cache folder the server found when it started (a process that changes `SCSIM_CACHE_DIR`
between two sweeps, as only tests do, gets the same compiled code from the first folder).
"""

from __future__ import annotations

import contextlib

from simulation.experiment import executors


def _load_kernels() -> None:
    """Load the month loop from the on-disk cache if it is there; never compile here (the sweep's
    process compiles before its pool starts, `executors._compile_here`)."""
    if not executors.kernels_cached():
        return
    from simulation.engine.kernels.step import first_month
    from simulation.scenario.loader import load_scenario
    from simulation.scenario.shipped import shipped_dir

    folder = shipped_dir("scenarios")
    if folder is None or not (folder / "no_plan.yaml").is_file():
        return
    executors.simulate(load_scenario(str(folder / "no_plan.yaml")), 0, kernel=first_month)


with contextlib.suppress(Exception):  # best effort: a worker that finds nothing loaded loads its own
    _load_kernels()

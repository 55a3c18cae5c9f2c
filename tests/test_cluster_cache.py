"""A shared kernel cache (`SCSIM_CACHE_DIR`): workers started against a warm one compile nothing.

On a cluster the numba kernels are compiled once (about a minute) into a folder every node reads;
each Dask worker or Slurm array task then loads them once, when it starts, and runs its first
scenario at once. Here: a real Dask LocalCluster whose worker processes are pointed at one fresh
folder holding a warm cache (as a login node's first run leaves it), a sweep on it, and from each
worker numba's own count of cache hits and misses.
"""

from __future__ import annotations

import shutil
import textwrap
import time
from pathlib import Path

import numba
import pytest
from helpers import ROOT, load

from simulation.engine.kernels import cache_dir, source_digest
from simulation.engine.simulate import simulate
from simulation.experiment.executors import LOCAL_DASK_CONFIG
from simulation.experiment.spec import load_experiment
from simulation.experiment.sweep import run_sweep


def test_scsim_cache_dir_wins_and_holds_one_folder_per_code_version(tmp_path):
    env = {"SCSIM_CACHE_DIR": str(tmp_path), "NUMBA_CACHE_DIR": "/elsewhere", "SCSIM_NUMBA_CACHE": "/old"}
    assert cache_dir(env) == str(tmp_path / source_digest())
    assert cache_dir({"NUMBA_CACHE_DIR": "/elsewhere", "SCSIM_NUMBA_CACHE": "/old"}) == "/elsewhere"
    assert cache_dir({"SCSIM_NUMBA_CACHE": "/old"}) == f"/old/{source_digest()}"
    assert cache_dir({"HOME": "/h", "XDG_CACHE_HOME": "/x"}) == f"/x/scsim/numba/{source_digest()}"


def _worker_report() -> dict:
    """Run on each Dask worker: where its cache is and what numba did with it."""
    import os
    import sys

    import numba as nb

    from simulation.experiment.executors import WARM

    hits = misses = 0
    loaded_months = 0
    for name, mod in list(sys.modules.items()):
        if not name.startswith("simulation.engine.simulate.kernels"):
            continue
        for obj in vars(mod).values():
            if isinstance(obj, nb.core.registry.CPUDispatcher) and obj.py_func.__module__ == name:
                hits += sum(obj._cache_hits.values())
                misses += sum(obj._cache_misses.values())
    from simulation.engine.kernels.step import run_months

    loaded_months = sum(run_months._cache_hits.values())
    return {
        "cache_dir": nb.config.CACHE_DIR,
        "pid": os.getpid(),
        "hits": hits,
        "misses": misses,
        "run_months_loads": loaded_months,
        "warm": dict(WARM),
    }


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_dask_workers_on_a_warm_shared_cache_load_once_and_compile_nothing(tmp_path):
    from dask import config as dask_config
    from distributed import Client, LocalCluster

    simulate(load("no_plan", "time.end=2020-12"), 0)  # this process's cache is warm (compiled or loaded)
    shared = tmp_path / "shared"
    shutil.copytree(numba.config.CACHE_DIR, shared / source_digest())  # as a login node's first run leaves it
    before = _files(shared)

    spec = tmp_path / "exp.yaml"
    spec.write_text(
        textwrap.dedent(f"""\
        name: cache
        base: {ROOT / "scenarios" / "no_plan.yaml"}
        set:
          time.end: 2020-12
          world.n_firms: 60
        factors:
          - key: world.capability_sd
            role: uncertainty
            values: [0.1, 0.2, 0.3]
        design:
          type: grid
        replications: 3
        seed: 3
        outputs:
          metrics: [bids, wins]
        """)
    )
    with dask_config.set(LOCAL_DASK_CONFIG):
        # this process has NUMBA_CACHE_DIR set (its own cache), and its workers inherit it:
        # SCSIM_CACHE_DIR must win
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env={"SCSIM_CACHE_DIR": str(shared)},
        )
    try:
        client = Client(cluster, set_as_default=False)
        t0 = time.perf_counter()
        summary = run_sweep(
            load_experiment(str(spec)),
            tmp_path / "out",
            executor="dask",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
        wall = time.perf_counter() - t0
        assert summary.complete and summary.failed == 0 and summary.done == 9
        reports = client.run(_worker_report)
        client.close()
    finally:
        cluster.close()

    assert len(reports) == 2
    for rep in reports.values():
        print(
            f"worker {rep['pid']}: kernels loaded in {rep['warm']['seconds']:.2f} s when it started "
            f"(compiled: {rep['warm']['compiled']}), numba cache hits {rep['hits']}, misses {rep['misses']}"
        )
        assert rep["cache_dir"] == str(shared / source_digest()), "the worker is not on the shared cache"
        assert rep["warm"]["error"] is None
        assert rep["warm"]["count"] == 1 and not rep["warm"]["compiled"], "the worker compiled the kernels"
        assert rep["misses"] == 0, "a kernel was compiled instead of loaded"
        assert rep["run_months_loads"] == 1, "the month loop was loaded more than once in one worker"
    print(f"sweep of 9 runs on 2 fresh Dask workers: {wall:.1f} s, worker start-up included")
    assert _files(shared) == before, "the shared cache was written to: something compiled"

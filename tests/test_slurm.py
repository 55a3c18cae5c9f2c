"""The shipped Slurm templates, on a real Slurm: a job array of shards, then the merge job.

A one-node Slurm (slurmctld + slurmd + munged on loopback, tests/slurm_local.py) is started by
the test and stopped at its end. The shipped `experiments/cluster/sweep_array.slurm` runs the
shipped smoke experiment as 2 array tasks, `merge.slurm` joins them (`afterok` on the array), and
the merged results must be the serial run's, byte for byte. The tasks load the kernels from the
shared cache this process filled (`SCSIM_CACHE_DIR`), as a cluster's login node would: no task
compiles.

CI (`.ci/run`) installs Slurm and munge and sets SCSIM_REQUIRE_SLURM=1, so there a missing Slurm
fails the test; elsewhere it is skipped, saying what to install.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import numba
import pytest
from helpers import ROOT
from slurm_local import LocalSlurm, missing_programs

from simulation.engine.kernels import source_digest
from simulation.experiment.spec import load_experiment
from simulation.experiment.store import Store
from simulation.experiment.sweep import run_sweep

CLUSTER = ROOT / "experiments" / "cluster"
EXPERIMENT = ROOT / "experiments" / "smoke.yaml"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slurm():
    missing = missing_programs()
    if missing:
        msg = (
            f"Slurm is not installed ({', '.join(missing)} missing): "
            "apt-get install slurmctld slurmd slurm-client munge, as .ci/run does"
        )
        if os.environ.get("SCSIM_REQUIRE_SLURM") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    with LocalSlurm() as cluster:
        yield cluster


def shared_cache_base(tmp: Path) -> Path:
    """A SCSIM_CACHE_DIR under which this process's (warm) kernel cache is found."""
    here = Path(numba.config.CACHE_DIR)
    if here.name == source_digest():
        return here.parent
    base = tmp / "cache"
    base.mkdir()
    (base / source_digest()).symlink_to(here, target_is_directory=True)
    return base


def cache_files(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.suffix in (".nbi", ".nbc")}


def test_job_array_then_merge_equals_the_serial_run_byte_for_byte(slurm, tmp_path):
    loaded = load_experiment(str(EXPERIMENT))
    serial = tmp_path / "serial"
    t0 = time.perf_counter()
    s = run_sweep(loaded, serial, progress=False)  # also fills this process's kernel cache
    assert s.complete and s.failed == 0
    print(f"serial sweep ({s.total} runs) in this process: {time.perf_counter() - t0:.1f} s")

    # the site's choices, as a user makes them: the environment's `scsim` first on PATH, the shared
    # cache, the number of shards; cores and memory on the sbatch line (this node has 2 cores)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scsim = bin_dir / "scsim"
    scsim.write_text(f'#!/bin/sh\nexec {sys.executable} -m simulation "$@"\n')
    scsim.chmod(scsim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    cache = shared_cache_base(tmp_path)
    before = cache_files(cache / source_digest())
    env = dict(
        slurm.env,
        PATH=f"{bin_dir}{os.pathsep}{slurm.env['PATH']}",
        SHARDS="2",
        SCSIM_CACHE_DIR=str(cache),
        PYTHONPATH=os.pathsep.join([str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])),
    )
    env.pop("NUMBA_CACHE_DIR", None)
    work = tmp_path / "site"
    (work / "logs").mkdir(parents=True)  # as the templates say: Slurm opens logs/... before a job starts
    out = work / "results" / "smoke"

    t0 = time.perf_counter()
    array = slurm.run(
        "sbatch",
        "--parsable",
        "--array=1-2",
        "--cpus-per-task=1",
        "--mem-per-cpu=1G",
        str(CLUSTER / "sweep_array.slurm"),
        str(EXPERIMENT),
        env=env,
        cwd=work,
    ).stdout.strip()
    merge = slurm.run(
        "sbatch",
        "--parsable",
        f"--dependency=afterok:{array}",
        "--mem=1G",
        str(CLUSTER / "merge.slurm"),
        "smoke",
        env=env,
        cwd=work,
    ).stdout.strip()
    slurm.wait_all(timeout=300)
    wall = time.perf_counter() - t0
    logs = "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')}" for p in sorted((work / "logs").glob("*")))
    states = {
        r["JobId"] + "_" + r.get("ArrayTaskId", ""): (r["JobState"], r["ExitCode"])
        for j in (array, merge)
        for r in slurm.job(j)
    }
    assert all(st == ("COMPLETED", "0:0") for st in states.values()), f"{states}\n{logs}\n{slurm.logs()}"
    print(f"array of 2 shard tasks + merge job on Slurm: {wall:.1f} s from submission to an empty queue")

    merged = out / "all"
    a, b = Store.open(serial), Store.open(merged)
    assert b.finished_keys() == a.finished_keys() and len(a.finished_keys()) == s.total
    for name in ("tasks.parquet", "design.parquet"):
        assert (serial / name).read_bytes() == (merged / name).read_bytes(), name
    # the files differ (which runs finished together), the dataset does not
    from simulation.experiment.tasks import to_parquet_bytes

    assert a.read_dataset().equals(b.read_dataset())
    assert to_parquet_bytes(a.read_dataset()) == to_parquet_bytes(b.read_dataset()), "byte for byte"
    assert {p.name for p in (out).iterdir()} == {"shard-1", "shard-2", "all"}

    # the tasks loaded the kernels from the shared cache: none of them compiled (no new or rewritten files)
    assert cache_files(cache / source_digest()) == before, "an array task compiled the kernels"

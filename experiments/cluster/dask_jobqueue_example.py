"""Run a sweep on a Slurm or PBS cluster through dask-jobqueue (not a dependency of scsim).

    pip install dask-jobqueue          # in the same environment as scsim, on the login node
    python experiments/cluster/dask_jobqueue_example.py experiments/sobol.yaml results/sobol --jobs 8

This process (on the login node, inside tmux/screen: it is the client and writes every result
file) starts a Dask scheduler here and submits batch jobs that each start worker processes on a
compute node. The sweep sends each worker the base scenario once and each run as (overrides,
seed); workers send back the run's rows and only this process writes the results folder.

- A worker (or a whole job) that dies mid-sweep costs only the runs it was doing: the scheduler
  gives them to other workers, and jobs lost to the time limit can be replaced (`cluster.scale`,
  or `cluster.adapt` below).
- If this process itself dies, run the same command again: finished runs are files and are
  skipped.
- Simpler alternative without Dask: a job array of `scsim sweep --shard I/N` (sweep_array.slurm).

Each worker process is single-threaded (the kernels use one core); `processes=cores` gives one
worker per core of a job.
"""

from __future__ import annotations

import argparse


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("experiment")
    p.add_argument("out")
    p.add_argument("--jobs", type=int, default=4, help="batch jobs to start")
    p.add_argument("--cores", type=int, default=16, help="cores (= worker processes) per job")
    p.add_argument("--pbs", action="store_true", help="PBS/Torque instead of Slurm")
    p.add_argument("--retry-failed", action="store_true")
    args = p.parse_args()

    from simulation.experiment.spec import load_experiment
    from simulation.experiment.sweep import run_sweep

    loaded = load_experiment(args.experiment)  # bad input fails here, before any job is queued

    common = dict(
        cores=args.cores,
        processes=args.cores,  # one single-threaded worker process per core
        memory=f"{args.cores}GB",  # about 1 GB per worker is plenty for the default world
        walltime="04:00:00",
        job_script_prologue=[  # run on the compute node before the workers start
            # "source $HOME/venvs/scsim/bin/activate",
            "export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1",
            "export SCSIM_CACHE_DIR=$HOME/.cache/scsim/numba",  # a folder every node reads
        ],
        # account="myproject", queue="compute",
    )
    if args.pbs:
        from dask_jobqueue import PBSCluster

        cluster = PBSCluster(**common)
    else:
        from dask_jobqueue import SLURMCluster

        cluster = SLURMCluster(**common)
    try:
        cluster.scale(jobs=args.jobs)
        # or: cluster.adapt(minimum_jobs=1, maximum_jobs=args.jobs)  (replaces jobs that end)
        print(cluster.job_script())
        summary = run_sweep(
            loaded, args.out, executor="dask", scheduler=cluster.scheduler_address, retry_failed=args.retry_failed
        )
        print(summary.describe())
    finally:
        cluster.close()


if __name__ == "__main__":  # required: Dask and multiprocessing start fresh interpreters
    main()

"""Benchmark (not a test): what a slow file system does to a sweep, and what files of many runs buy.

    python -m simulation.bench.storage [--runs 1000] [--workers 2] [--fsync-ms 0,5,20] [--runs-per-file 1,64]

A sweep stores finished runs in files written whole: fsynced and renamed into place. On a local
disk an fsync waits about 0.2 ms; on a cluster's network file system it can wait milliseconds, and
a file per run then caps the whole sweep at one run per fsync. `run_sweep` therefore gathers up to
`store.RUNS_PER_FILE` runs into a file (`runs_per_file`), written from a thread (`store.RunWriter`).

Each cell runs a `processes` sweep of `--runs` replications of the announced plan in a fresh
process whose `os.fsync` waits `--fsync-ms` longer (what a slower file system adds), with N runs a
file at most (1: a file per run, as sweeps stored them before 2026-12-08), and prints the steady
rate: runs per second after the first tenth, from the times the runs reached the sweep. The cells
of one table share the machine's state; compare within a table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from simulation.bench.model import child_env, machine
from simulation.bench.sweep import DEFAULT_SCENARIO, experiment_file, steady_rate
from simulation.scenario.shipped import shipped_file

_CHILD = """
import json, os, sys, time
args = json.loads(sys.argv[1])

def main():
    real, extra = os.fsync, args["fsync_ms"] / 1000.0
    def fsync(fd):  # a slower file system: the same commit, then a wait
        real(fd)
        if extra:
            time.sleep(extra)
    os.fsync = fsync
    import simulation.experiment.sweep as sw
    from simulation.experiment.spec import load_experiment
    record, times = sw.record_outcome, []
    def timed(*a, **k):
        record(*a, **k)
        times.append(time.perf_counter())
    sw.record_outcome = timed
    s = sw.run_sweep(load_experiment(args["experiment"]), args["out"], executor="processes",
                     workers=args["workers"], progress=False, runs_per_file=args["runs_per_file"])
    print(json.dumps({"done": s.done, "failed": s.failed, "times": times}))

if __name__ == "__main__":  # the workers (spawned) import this file: only the parent sweeps
    main()
"""


def bench_storage(runs: int, workers: int, fsync_ms: list[float], per_file: list[int]) -> list[dict]:
    """One `processes` sweep per (fsync_ms, runs a file), each in a fresh process: steady runs/s."""
    root = Path(tempfile.mkdtemp(prefix="scsim-bench-storage-"))
    try:
        experiment = experiment_file(root, shipped_file(DEFAULT_SCENARIO), runs)
        script = root / "child.py"
        script.write_text(_CHILD)
        rows = []
        for ms in fsync_ms:
            for n in per_file:
                out = root / f"out-{ms}-{n}"
                args = {"experiment": str(experiment), "out": str(out), "workers": workers, "fsync_ms": ms}
                proc = subprocess.run(
                    [sys.executable, str(script), json.dumps({**args, "runs_per_file": n})],
                    capture_output=True,
                    text=True,
                    env=child_env({}),
                )
                if proc.returncode != 0:
                    raise RuntimeError(f"benchmark child failed: {proc.stderr[-2000:]}")
                times = json.loads(proc.stdout.strip().splitlines()[-1])["times"]
                rows.append({"fsync_ms": ms, "runs_per_file": n, "steady_runs_per_s": steady_rate(times, runs // 10)})
                shutil.rmtree(out, ignore_errors=True)
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)


def format_storage(rows: list[dict], runs: int, workers: int) -> str:
    lines = [
        f"{runs} runs of {DEFAULT_SCENARIO}, processes executor, {workers} workers, on {machine()['cpu_short']}:",
        f"{'fsync + ms':>10} {'runs a file':>12} {'steady runs/s':>14}",
    ]
    lines += [f"{r['fsync_ms']:>10g} {r['runs_per_file']:>12d} {r['steady_runs_per_s']:>14.1f}" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulation.bench.storage", description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fsync-ms", default="0,5,20", help="extra wait of each fsync, comma-separated (ms)")
    ap.add_argument("--runs-per-file", default="1,64", help="runs a file at most, comma-separated")
    a = ap.parse_args(argv)
    try:
        fsync_ms = [float(x) for x in a.fsync_ms.split(",")]
        per_file = [int(x) for x in a.runs_per_file.split(",")]
    except ValueError:
        ap.error("--fsync-ms and --runs-per-file take comma-separated numbers")
    if a.runs < 20 or a.workers < 1 or min(per_file) < 1 or min(fsync_ms) < 0:
        ap.error("--runs at least 20, --workers at least 1, --runs-per-file at least 1, no negative --fsync-ms")
    print(format_storage(bench_storage(a.runs, a.workers, fsync_ms, per_file), a.runs, a.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark (not a test): what a slow file system does to a sweep, and what its writer threads buy.

    python -m simulation.bench.storage [--runs 1000] [--workers 2] [--fsync-ms 0,5,20] [--threads 0,4]

A sweep stores each finished run whole: written, fsynced and renamed into place. On a local disk an
fsync waits about 0.2 ms; on a cluster's network file system it can wait milliseconds, and a loop
that writes every worker's runs one after the other then caps the whole sweep at one run per fsync.
`run_sweep` therefore stores runs from a few threads (`store.RunWriter`, `write_threads`).

Each cell runs a `processes` sweep of `--runs` replications of the announced plan in a fresh
process whose `os.fsync` waits `--fsync-ms` longer (what a slower file system adds), storing runs
from N threads (0: in the loop that receives them, as sweeps did before 2026-12-06), and prints the
steady rate: runs per second after the first tenth, from the run files' times. The cells of one
table share the machine's state; compare within a table.
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
    from simulation.experiment.spec import load_experiment
    from simulation.experiment.sweep import run_sweep
    s = run_sweep(load_experiment(args["experiment"]), args["out"], executor="processes",
                  workers=args["workers"], progress=False, write_threads=args["threads"])
    print(json.dumps({"done": s.done, "failed": s.failed}))

if __name__ == "__main__":  # the workers (spawned) import this file: only the parent sweeps
    main()
"""


def bench_storage(runs: int, workers: int, fsync_ms: list[float], threads: list[int]) -> list[dict]:
    """One `processes` sweep per (fsync_ms, threads), each in a fresh process: steady runs/s."""
    root = Path(tempfile.mkdtemp(prefix="scsim-bench-storage-"))
    try:
        experiment = experiment_file(root, shipped_file(DEFAULT_SCENARIO), runs)
        script = root / "child.py"
        script.write_text(_CHILD)
        rows = []
        for ms in fsync_ms:
            for n in threads:
                out = root / f"out-{ms}-{n}"
                args = {"experiment": str(experiment), "out": str(out), "workers": workers, "fsync_ms": ms}
                proc = subprocess.run(
                    [sys.executable, str(script), json.dumps({**args, "threads": n})],
                    capture_output=True,
                    text=True,
                    env=child_env({}),
                )
                if proc.returncode != 0:
                    raise RuntimeError(f"benchmark child failed: {proc.stderr[-2000:]}")
                rows.append({"fsync_ms": ms, "threads": n, "steady_runs_per_s": steady_rate(out, runs // 10)})
                shutil.rmtree(out, ignore_errors=True)
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)


def format_storage(rows: list[dict], runs: int, workers: int) -> str:
    lines = [
        f"{runs} runs of {DEFAULT_SCENARIO}, processes executor, {workers} workers, on {machine()['cpu_short']}:",
        f"{'fsync + ms':>10} {'writer threads':>15} {'steady runs/s':>14}",
    ]
    lines += [f"{r['fsync_ms']:>10g} {r['threads']:>15d} {r['steady_runs_per_s']:>14.1f}" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulation.bench.storage", description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fsync-ms", default="0,5,20", help="extra wait of each fsync, comma-separated (ms)")
    ap.add_argument("--threads", default="0,4", help="writer threads, comma-separated (0: in the loop)")
    a = ap.parse_args(argv)
    try:
        fsync_ms = [float(x) for x in a.fsync_ms.split(",")]
        threads = [int(x) for x in a.threads.split(",")]
    except ValueError:
        ap.error("--fsync-ms and --threads take comma-separated numbers")
    if a.runs < 20 or a.workers < 1 or min(threads) < 0 or min(fsync_ms) < 0:
        ap.error("--runs at least 20, --workers at least 1, no negative --fsync-ms or --threads")
    print(format_storage(bench_storage(a.runs, a.workers, fsync_ms, threads), a.runs, a.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of sweeps (not a test): runs per second serial vs processes vs Dask, and the overhead.

    python -c "from simulation.bench.sweep import bench_sweep; bench_sweep()"

A sweep of `n_runs` replications of one scenario (default: the plan as announced, full horizon)
is run end to end with `run_sweep` (planning, store, Parquet, fsync, bookkeeping): serially, on
`workers` local processes and on a Dask LocalCluster of `workers` processes. The reference is
a run and its values as a sweep stores them (`simulate`, `tasks.run_values`) alone, in a loop. Every measurement runs in a fresh Python process, as `scsim sweep`
would (a long-lived process with many objects runs the same code measurably slower), with the
kernels already compiled.

Figures:
  runs/s          n_runs / wall clock of run_sweep (worker start-up included; interpreter start-up
                  and imports of the sweep process itself excluded, the same for every executor)
  steady runs/s   completion rate once every worker has finished its first run (from the times the
                  runs reached the sweep), i.e. without start-up
  speed-up        against serial, for both
  CPU ms/run      CPU seconds of the sweep process and all its workers (getrusage of waited-for
                  children) for one more run: the difference between a sweep of n_runs and a
                  shorter one, divided by the difference in runs
  overhead        CPU ms/run over the reference's own CPU time per run - 1: the per-run cost of
                  scheduling and storage (Parquet encoding, pickling, transport, writing, fsync)
  overhead over the model  CPU ms/run over the model's own CPU time per run (`simulate`: the world
                  and the monthly steps, no tables) - 1: what scheduling, storage *and* the tidy tables
                  add to the model, per run (target: under 10 %, serial and processes)
  start-up s      the rest of the CPU time: worker imports, kernel loading, planning, the store
  memory          (serial) the sweep process's resident memory after its first WARM_RUNS runs and at
                  the end: a long sweep in one process must stay flat
  raw parallel    `workers` independent processes running only the reference at the same time: the
                  best any executor could do on this machine at this moment; the executors'
                  steady rates are also given as a share of it (robust to other load)
  overhead in the sweep  CPU ms/run over the model's own CPU time in the same runs of the same
                  sweeps (each run's world and monthly steps, timed by the thread that ran them) - 1:
                  the target figure; paired, so a machine whose speed drifts moves both sides
  overhead over the loaded model  (processes, Dask) CPU ms/run over the model's own CPU time per
                  run while `workers` copies of the model alone run at once - 1: the executor's
                  overhead apart from what the copies cost each other in shared caches and memory
The load average before and after is printed: wall-clock figures need otherwise idle cores.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from simulation.scenario.shipped import shipped_file

DEFAULT_SCENARIO = "plan_2019_announced"  # a shipped scenario
WARM_RUNS = 100  # the serial sweep's resident memory is taken after this many runs (kernels loaded, first run files written) and at the end

_CHILD = """
import json, sys, time
mode, args = sys.argv[1], json.loads(sys.argv[2])
if mode == "task_table":
    from simulation.scenario.loader import load_scenario
    from simulation.engine.simulate import simulate
    from simulation.experiment.tasks import plan_tasks, replication_seeds, resolve_task, run_values
    def run_and_values(base, task):  # a run and its values as a sweep stores them (tasks.run_values)
        return run_values(simulate(resolve_task(base, task), task.seed), task)
    base = load_scenario(args["scenario"])
    tasks = plan_tasks(base, [(0, "raw", {})], replication_seeds(args["seed"], args["n"] + 1))
    run_and_values(base, tasks[0])
    while time.time() < args.get("start", 0):
        time.sleep(0.01)
    t, c = time.perf_counter(), time.process_time()
    if args.get("only_model"):  # the model alone, as `workers` copies of it run at once
        for task in tasks[1:]:
            simulate(resolve_task(base, task), task.seed)
    else:
        for task in tasks[1:]:
            run_and_values(base, task)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    model = {}
    if args.get("model"):  # the model's own time: the same runs, world and monthly steps only, no tables
        t, c = time.perf_counter(), time.process_time()
        for task in tasks[1:]:
            simulate(resolve_task(base, task), task.seed)
        model = {"model_wall": time.perf_counter() - t, "model_cpu": time.process_time() - c}
    print(json.dumps({"wall": wall, "cpu": cpu, "n": args["n"], **model}))
else:
    import psutil
    import simulation.experiment.sweep as sw
    from simulation.experiment.spec import load_experiment
    loaded = load_experiment(args["experiment"])
    rss, record, count, times = {}, sw.record_outcome, [0], []
    def counted(*a, **k):  # resident memory once the first runs are done (kernels loaded), and at the end
        record(*a, **k)
        times.append(time.perf_counter())  # when each run reached the sweep (the steady rate)
        count[0] += 1
        if count[0] == args["warm"]:
            rss["start"] = psutil.Process().memory_info().rss
    sw.record_outcome = counted
    t = time.perf_counter()
    s = sw.run_sweep(loaded, args["out"], executor=args["executor"], workers=args["workers"], progress=False)
    rss["end"] = psutil.Process().memory_info().rss
    wall = time.perf_counter() - t
    # the pool's workers are the fork server's children: stopping it (it reaps them) and waiting for
    # it puts their CPU time among this process's children, where the parent's getrusage finds it
    from simulation.experiment.executors import stop_fork_server
    stop_fork_server()
    print(json.dumps({"wall": wall, "done": s.done, "failed": s.failed,
                      "run_seconds": s.run_seconds, "model_cpu": s.model_cpu_seconds, "rss": rss,
                      "times": times}))
"""


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _child(mode: str, **args) -> dict:
    """Run one measurement in a fresh interpreter; adds the CPU time it and its workers used."""
    c = _cpu_children()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, json.dumps(args, default=str)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["cpu_total"] = _cpu_children() - c
    return out


def experiment_file(folder: Path, scenario: Path, n_runs: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        name: bench
        description: {n_runs} replications of {scenario.name}, full horizon
        base: {scenario.resolve()}
        design:
          type: grid
        replications: {n_runs}
        seed: 2019
        """)
    )
    return path


def steady_rate(times: list[float], skip: int) -> float:
    """Runs per second from the times the runs reached the sweep, after the first `skip` runs."""
    times = sorted(times)
    if len(times) <= skip + 1:
        return float("nan")
    span = times[-1] - times[skip]
    return (len(times) - 1 - skip) / span if span > 0 else float("nan")


def raw_parallel(scenario: Path, workers: int, n: int, only_model: bool = False) -> tuple[float, float]:
    """`workers` independent processes doing nothing but the reference (a run and its values; or, `only_model`, the model
    alone) at the same time: (runs/s of them all, mean CPU seconds a run in each)."""
    start = time.time() + 8.0  # after every process has imported and loaded the kernels
    args = {"scenario": str(scenario), "n": n, "start": start, "only_model": only_model}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, "task_table", json.dumps({**args, "seed": 1000 + i})],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    rates, cpus = [], []
    for p in procs:
        out = json.loads(p.communicate()[0].strip().splitlines()[-1])
        rates.append(out["n"] / out["wall"])
        cpus.append(out["cpu"] / out["n"])
    return sum(rates), sum(cpus) / len(cpus)


def _measure_executor(
    seen: dict[str, dict], root: Path, ex: str, k: int, workers: int, big: Path, small: Path | None, n_runs: int
) -> None:
    """One sweep of the big (and the small) experiment on executor `ex`; keeps the best figures in `seen`."""
    w = 1 if ex == "serial" else workers
    args = dict(executor=ex, workers=None if ex == "serial" else workers)
    cpu_small, model_small = float("nan"), float("nan")
    if small is not None:
        shutil.rmtree(root / f"{ex}-small", ignore_errors=True)
        rs = _child("sweep", experiment=str(small), out=str(root / f"{ex}-small"), warm=WARM_RUNS, **args)
        cpu_small, model_small = rs["cpu_total"], rs["model_cpu"]
    shutil.rmtree(root / f"{ex}-{k}", ignore_errors=True)
    r = _child("sweep", experiment=str(big), out=str(root / f"{ex}-{k}"), warm=WARM_RUNS, **args)
    assert r["done"] == n_runs and r["failed"] == 0, r
    best = seen.setdefault(
        ex,
        {
            "wall": float("inf"),
            "steady": 0.0,
            "cpu": float("inf"),
            "cpu_small": float("inf"),
            "run_seconds": r["run_seconds"],
            "w": w,
            "rss": r.get("rss", {}),
            "in_sweep": float("inf"),
        },
    )
    # the sweep's CPU per extra run over the model's own CPU in the same extra runs, timed inside the
    # same sweeps (each run's world and monthly steps, by the thread that ran them): both sides see
    # the same clock speed and the same contention, so the ratio holds under load that moves both
    if small is not None:
        best["in_sweep"] = min(best["in_sweep"], (r["cpu_total"] - cpu_small) / (r["model_cpu"] - model_small) - 1.0)
    best["wall"] = min(best["wall"], r["wall"])
    best["steady"] = max(best["steady"], steady_rate(r["times"], skip=w))
    best["cpu"] = min(best["cpu"], r["cpu_total"])
    best["cpu_small"] = min(best["cpu_small"], cpu_small)


def _executor_figures(
    result: dict,
    seen: dict[str, dict],
    root: Path,
    n_runs: int,
    n_small: int | None,
    cpu_run: float,
    model_cpu: float,
    loaded_model: list[float],
) -> None:
    """Per executor: throughput, CPU per extra run and the overheads, into result["executors"]."""
    from simulation.experiment.store import Store

    for ex, b in seen.items():
        marginal = (b["cpu"] - b["cpu_small"]) / (n_runs - n_small) if n_small is not None else b["cpu"] / n_runs
        result["executors"][ex] = {
            "wall_s": b["wall"],
            "runs_per_s": n_runs / b["wall"],
            "steady_runs_per_s": b["steady"],
            "run_seconds_in_workers": b["run_seconds"],
            "cpu_s": b["cpu"],
            "cpu_per_run_s": marginal,
            "overhead": marginal / cpu_run - 1.0,
            "startup_cpu_s": b["cpu"] - marginal * n_runs,
            # scheduling, storage and the tidy tables, over the model's own CPU time (world + steps)
            "overhead_vs_model": marginal / model_cpu - 1.0,
        }
        if ex == "serial" and {"start", "end"} <= set(b["rss"]):
            result["executors"][ex]["rss_start_mb"] = b["rss"]["start"] / 2**20
            result["executors"][ex]["rss_end_mb"] = b["rss"]["end"] / 2**20
        if math.isfinite(b["in_sweep"]):
            result["executors"][ex]["overhead_in_sweep"] = b["in_sweep"]
        if ex != "serial" and loaded_model:
            # the same, over the model's own time while `workers` copies of it run at once: what
            # the executor adds, apart from what sharing the machine's caches and memory costs
            result["executors"][ex]["overhead_vs_loaded_model"] = marginal / min(loaded_model) - 1.0
        if ex != "serial" and "serial" in seen:
            same = Store.open(root / f"{ex}-0").read_dataset().equals(Store.open(root / "serial-0").read_dataset())
            result["executors"][ex]["identical_to_serial"] = bool(same)


def bench_sweep(
    n_runs: int = 200,
    workers: int = 2,
    scenario: str | Path | None = None,
    executors: tuple[str, ...] = ("serial", "processes", "dask"),
    repeat: int = 1,
    keep: str | Path | None = None,
    verbose: bool = True,
) -> dict:
    """Measure sweep throughput and overhead; prints a table and returns the figures as a dict.

    `repeat` > 1 measures everything that many times, interleaved, and keeps the best of each
    (least disturbed by other load on the machine).
    """

    scenario = Path(scenario) if scenario else shipped_file(DEFAULT_SCENARIO)
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="scsim-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        load_before = os.getloadavg()[0]
        big = experiment_file(root / "big", scenario, n_runs)
        n_small = max(4 * workers, n_runs // 5)
        small = experiment_file(root / "small", scenario, n_small) if n_small < n_runs else None
        tts, raws, loaded_model = [], [], []
        seen: dict[str, dict] = {}
        for k in range(repeat):
            tts.append(_child("task_table", scenario=str(scenario), seed=7, n=min(n_runs, 60), model=True))
            for ex in executors:
                _measure_executor(seen, root, ex, k, workers, big, small, n_runs)
            if workers > 1:
                raws.append(raw_parallel(scenario, workers, max(10, n_runs // (2 * workers)))[0])
                if any(ex != "serial" for ex in executors):
                    loaded_model.append(raw_parallel(scenario, workers, min(n_runs, 60), only_model=True)[1])
        t_run = min(t["wall"] / t["n"] for t in tts)
        cpu_run = min(t["cpu"] / t["n"] for t in tts)
        model_cpu = min(t["model_cpu"] / t["n"] for t in tts)
        from simulation.bench.model import machine

        result: dict = {
            "n_runs": n_runs,
            "workers": workers,
            "scenario": str(scenario),
            "cpus": os.cpu_count(),
            "cpu": machine()["cpu"],
            "repeat": repeat,
            "task_table_s": t_run,
            "task_table_cpu_s": cpu_run,
            "task_table_runs_per_s": 1.0 / t_run,
            "model_cpu_s": model_cpu,
            "model_s": min(t["model_wall"] / t["n"] for t in tts),
            "model_cpu_loaded_s": min(loaded_model) if loaded_model else None,
            "executors": {},
        }
        _executor_figures(
            result, seen, root, n_runs, n_small if small is not None else None, cpu_run, model_cpu, loaded_model
        )
        ser = result["executors"].get("serial")
        for r in result["executors"].values():
            if ser:
                r["speedup"] = r["runs_per_s"] / ser["runs_per_s"]
                r["steady_speedup"] = r["steady_runs_per_s"] / ser["steady_runs_per_s"]
        if raws:
            raw = max(raws)
            result["raw_parallel_runs_per_s"] = raw
            result["raw_parallel_speedup"] = raw * t_run
            for ex, r in result["executors"].items():
                if ex != "serial":
                    r["steady_efficiency"] = r["steady_runs_per_s"] / raw
        result["load_average"] = (load_before, os.getloadavg()[0])
        if verbose:
            print(format_bench(result))
        return result
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def format_bench(r: dict) -> str:
    from simulation.bench.model import short_cpu

    lines = [
        f"{r['n_runs']} runs of {Path(r['scenario']).name} (full horizon), {r['workers']} workers, "
        f"{r['cpus']} CPUs, best of {r.get('repeat', 1)}; a run and its values alone: {r['task_table_s'] * 1000:.1f} ms/run wall, "
        f"{r['task_table_cpu_s'] * 1000:.1f} ms CPU ({r['task_table_runs_per_s']:.2f} runs/s)",
        f"{'':<10} {'------------------ wall clock ------------------':^50}  {'---------- CPU time ----------':^30}",
        f"{'executor':<10} {'s':>6} {'runs/s':>7} {'speed-up':>8}  {'steady runs/s':>13} {'speed-up':>8}  "
        f"{'ms/run':>7} {'overhead':>9} {'start-up s':>10}",
    ]
    for ex, x in r["executors"].items():
        lines.append(
            f"{ex:<10} {x['wall_s']:6.2f} {x['runs_per_s']:7.2f} {x.get('speedup', 1.0):7.2f}x  "
            f"{x['steady_runs_per_s']:13.2f} {x.get('steady_speedup', 1.0):7.2f}x  "
            f"{x['cpu_per_run_s'] * 1000:7.1f} {x['overhead'] * 100:8.1f}% {x['startup_cpu_s']:10.2f}"
            + ("" if x.get("identical_to_serial", True) else "   DATASET DIFFERS FROM SERIAL")
        )
    lines += [
        "wall clock: run_sweep in a fresh process, worker start-up included; steady: after each worker's first run.",
        "CPU time of the sweep process and its workers: ms/run = one more run; overhead = its excess over "
        "the CPU time of a run and its values alone;",
        "start-up s = the rest (worker imports, kernel loading, planning, store).",
    ]
    if "raw_parallel_runs_per_s" in r:
        lines.append(
            f"machine right now: {r['workers']} independent processes doing only runs and their values reach "
            f"{r['raw_parallel_runs_per_s']:.2f} runs/s ({r['raw_parallel_speedup']:.2f}x one); "
            + ", ".join(
                f"{ex} steady state reaches {x['steady_efficiency'] * 100:.0f} % of that"
                for ex, x in r["executors"].items()
                if "steady_efficiency" in x
            )
        )
    if "model_cpu_s" in r:
        parts = [
            f"{ex if ex == 'serial' else ex + ' on ' + str(r['workers']) + ' workers'} "
            f"{x['overhead_vs_model'] * 100:+.1f} %"
            for ex, x in r["executors"].items()
        ]
        lines.append(
            f"overhead of scheduling, storage and tidy tables over the model's own time (world + monthly "
            f"steps, {r['model_cpu_s'] * 1000:.1f} ms CPU a run), CPU per extra run, on {short_cpu(r.get('cpu', '?'))}: "
            + ", ".join(parts)
            + " (target < 10 %)"
        )
        timed = [(ex, x) for ex, x in r["executors"].items() if "overhead_in_sweep" in x]
        if timed:
            lines.append(
                "  measured within the sweeps (CPU per extra run over the model's own CPU in those runs, timed "
                "by the thread that ran each; robust to the machine's speed changing between measurements): "
                + ", ".join(
                    f"{ex if ex == 'serial' else ex + ' on ' + str(r['workers']) + ' workers'} "
                    f"{x['overhead_in_sweep'] * 100:+.1f} %"
                    for ex, x in timed
                )
                + " (target < 10 %)"
            )
        loaded = [(ex, x) for ex, x in r["executors"].items() if "overhead_vs_loaded_model" in x]
        if loaded and r.get("model_cpu_loaded_s"):
            lines.append(
                f"  the same over the model's own time with {r['workers']} copies of it running at once "
                f"({r['model_cpu_loaded_s'] * 1000:.1f} ms CPU a run: sharing caches and memory, not the executor): "
                + ", ".join(f"{ex} {x['overhead_vs_loaded_model'] * 100:+.1f} %" for ex, x in loaded)
            )
    ser = r["executors"].get("serial", {})
    if "rss_start_mb" in ser:
        grew = ser["rss_end_mb"] / ser["rss_start_mb"] - 1.0
        lines.append(
            f"serial sweep, one process: resident memory {ser['rss_start_mb']:.0f} MB after its first "
            f"{WARM_RUNS} runs, {ser['rss_end_mb']:.0f} MB after all {r['n_runs']:,} ({grew * 100:+.1f} %)"
        )
    if "load_average" in r:
        lines.append(
            f"load average before/after: {r['load_average'][0]:.2f} / {r['load_average'][1]:.2f} on "
            f"{r['cpus']} CPUs (wall-clock figures assume otherwise idle cores)"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    bench_sweep()

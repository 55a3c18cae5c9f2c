"""`scsim bench`: the figures a user reads, under stable keys, and refusals of bad requests."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT


def scsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", *args], cwd=ROOT, capture_output=True, text=True)


def test_bench_quick_writes_the_figures_with_the_machine(tmp_path):
    out = tmp_path / "bench.json"
    proc = scsim("bench", "--quick", "--no-startup", "--repeats", "2", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "speed-up" in proc.stdout and "model/floor" in proc.stdout and "ns/cand" in proc.stdout
    res = json.loads(out.read_text())
    machine = res["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and "numba" in machine["versions"]
    # item 2: the compiled kernels and the plain-Python model give identical results, and a ratio
    assert res["python_model"]["identical_results"] is True
    assert res["speedup_vs_python"] > 1.0
    # item 3: the floor is cheaper than the model that makes all the decisions on top of it
    assert res["ratio_to_floor"] > 1.0
    run = res["default_run"]
    assert run["kernel"]["min_s"] <= run["kernel"]["median_s"] <= run["kernel"]["max_s"]
    assert run["candidate_evaluations"] > 0
    # item 4: per-candidate cost for each world, and more work for more firms
    rows = {(r["firms"], r["countries"]): r for r in res["scaling"]}
    assert rows[(10_000, 68)]["candidate_evaluations"] > 5 * rows[(1_000, 68)]["candidate_evaluations"]
    assert rows[(10_000, 200)]["candidate_evaluations"] > 2 * rows[(10_000, 68)]["candidate_evaluations"]
    assert all(r["ns_per_candidate"] > 0 for r in res["scaling"])
    assert res["default_memory"]["peak_rss_mb"] > 0
    # figures from different machines differ: the CPU is printed beside every figure, and stored with it
    cpu = machine["cpu_short"]
    assert cpu and machine["cpu"]
    figures = [
        line
        for line in proc.stdout.splitlines()
        if any(ch.isdigit() for ch in line)
        and not line[:3].rstrip().rstrip(".").isdigit()
        and not line.startswith(("scsim bench on", "figures written"))
    ]
    assert figures and all(line.endswith(f"[{cpu}]") for line in figures), [x for x in figures if cpu not in x]
    assert all(res[k]["cpu"] == cpu for k in ("default_run", "python_model", "floor", "default_memory"))
    assert all(r["cpu"] == cpu for r in res["scaling"])


def test_bench_refuses_to_overwrite_and_bad_repeats(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text("keep me")
    proc = scsim("bench", "--quick", "--no-startup", "--json", str(out))
    assert proc.returncode == 2 and "--force" in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_text() == "keep me"
    proc = scsim("bench", "--repeats", "0")
    assert proc.returncode == 2 and "--repeats" in proc.stderr and "Traceback" not in proc.stderr


def test_bench_sweep_prints_the_overhead_over_the_model(tmp_path):
    """`scsim bench-sweep` end to end on a small sweep (10 runs): the model's own time is measured in its child
    (it once crashed there, `simulation.engine.simulate` being a module) and the overhead printed."""
    out = tmp_path / "sweep.json"
    proc = scsim(
        "bench-sweep", "--runs", "10", "--workers", "1", "--repeat", "1", "--executors", "serial", "--json", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert "overhead of scheduling, storage and tidy tables over the model's own time" in proc.stdout
    res = json.loads(out.read_text())
    assert res["model_cpu_s"] > 0 and res["task_table_cpu_s"] > 0
    serial = res["executors"]["serial"]
    # per-run CPU is a difference of two sweeps' CPU: only its presence is checked on 10 runs
    assert {"cpu_per_run_s", "overhead_vs_model", "runs_per_s"} <= set(serial) and serial["runs_per_s"] > 0
    # the paired figure: the sweeps' CPU over the model's CPU timed inside the same runs
    assert "overhead_in_sweep" in serial and "measured within the sweeps" in proc.stdout


STOPPED_SERVER_COUNTS_WORKERS = """
import resource, sys, time
from simulation.experiment.executors import stop_fork_server, worker_context

def burn(seconds):  # CPU time in a pool worker
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass
    return seconds

def children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

if __name__ == "__main__":
    ctx = worker_context()
    before = children()
    with ctx.Pool(1) as pool:
        assert pool.map(burn, [0.6]) == [0.6]
    stop_fork_server()
    print(ctx.get_start_method(), children() - before)
"""


def test_bench_sweep_counts_the_fork_servers_workers_cpu(tmp_path):
    """`scsim bench-sweep` reads a sweep's CPU as its children's (getrusage): a local pool's workers are
    the fork server's children, so the sweep stops the server and waits for it, and only then are the
    workers' seconds among its own children's (without it, a processes sweep read about 0.3 ms a run)."""
    script = tmp_path / "burn.py"
    script.write_text(STOPPED_SERVER_COUNTS_WORKERS, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    method, seconds = proc.stdout.split()
    assert method in ("forkserver", "spawn") and float(seconds) >= 0.55, proc.stdout


def test_stage_times_split_a_run_by_submodel_without_changing_it():
    """`python -m simulation.bench.stages`: the month loop with clocks between the submodels gives
    the compiled loop's results bit for bit, and a time for each of the five submodels."""
    from simulation.bench.stages import STAGES, format_stage_times, stage_times

    st = stage_times("no_plan", runs=2)
    assert st.same_results
    assert list(st.ms) == list(STAGES) and all(v >= 0.0 for v in st.ms.values()) and st.ms["bidding"] > 0.0
    assert "bidding" in format_stage_times(st)


def test_the_storage_bench_prints_the_rate_with_one_and_many_runs_a_file():
    """`python -m simulation.bench.storage` runs a real processes sweep per cell and prints its rate."""
    proc = subprocess.run(
        [sys.executable, "-m", "simulation.bench.storage", "--runs", "20", "--fsync-ms", "2", "--runs-per-file", "1,8"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[2:]]
    assert [(r[0], r[1]) for r in rows] == [("2", "1"), ("2", "8")]
    assert all(float(r[2]) > 0 for r in rows)
    bad = subprocess.run(
        [sys.executable, "-m", "simulation.bench.storage", "--runs-per-file", "x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and "comma-separated numbers" in bad.stderr


def test_the_scan_bench_finds_what_each_firm_s_own_chance_and_draw_give():
    """`python -m simulation.bench.scan` times the model's scan (discovery.discover, with its cached
    lifts, its regions without contact and its leaping draws): what it finds on its synthetic world is
    what plain Python finds drawing numpy's uniforms, one per active firm of the list in list order,
    against each firm's `aware_prob`, and the generator ends where as many draws leave it."""
    import numpy as np

    from simulation.bench import scan
    from simulation.engine.kernels.constants import NR
    from simulation.engine.kernels.discovery import aware_prob, capped_lift
    from simulation.engine.kernels.knowledge import strength

    firms, tenders = 2000, 120
    got = scan.bench_scan(firms, tenders, rounds=1)["check"]
    W = scan.synthetic_world(firms)
    rng = np.random.Generator(np.random.PCG64(3))
    found = 0
    for k in range(tenders):
        c = k % W["know"].shape[0]
        g = c % NR
        ch = scan.CH_CENTRE if c % 2 else scan.CH
        ch_lift = capped_lift.py_func(ch, scan.ROOM)
        for i in W["dom"]:
            if W["active"][i]:
                know = strength.py_func(W["know"], c, i, scan.MONTH, W["k_table"])
                contact = W["contact"][g, i]
                p = aware_prob.py_func(
                    W["odds"][W["size"][i]], ch, ch_lift, scan.KNOWN_GAIN, scan.CONTACT_GAIN, scan.ROOM,
                    know, contact, scan.ACCESS,
                )  # fmt: skip
                found += rng.random() < p
    assert found > 0
    assert got == (found, int(rng.bit_generator.state["state"]["state"] % 10**9))

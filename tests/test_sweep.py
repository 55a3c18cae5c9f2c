"""Sweeps: every executor gives the same dataset; resume, failures, shards, kills, worker deaths, memory.

Real components throughout: real worker processes, a real Dask LocalCluster on 127.0.0.1, real
SIGKILLs of real processes. Worlds are small (no_plan, 2019-07 to 2020-12, 60 firms) for speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, drop_runs, pool_workers

from simulation.experiment.designs import DesignTable, build_design
from simulation.experiment.executors import kernels_cached
from simulation.experiment.spec import load_experiment
from simulation.experiment.store import Store, stored_runs
from simulation.experiment.sweep import merge, output_filter, parse_shard, prepare, run_sweep, unique_runs
from simulation.scenario.errors import InputError

BASE = ROOT / "scenarios" / "no_plan.yaml"


def write_experiment(
    folder: Path,
    name: str = "tiny",
    values=(40, 60, 80),
    reps: int = 2,
    seed: int = 5,
    extra: str = "",
    metrics: str = "[bids, wins, win_rate, value_won_usd_m, public_cost_krw_bn]",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        name: {name}
        base: {BASE}
        set:
          time.end: 2020-12
          world.n_firms: 60
        factors:
          - key: world.n_firms
            role: uncertainty
            values: [{", ".join(map(str, values))}]
          - key: world.capability_sd
            name: spread
            role: uncertainty
            values: [0.1, 0.2]
        design:
          type: grid
        replications: {reps}
        seed: {seed}
        outputs:
          metrics: {metrics}
        """)
        + extra
    )
    return path


@pytest.fixture(scope="module")
def exp_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sweep")


@pytest.fixture(scope="module")
def tiny(exp_dir):
    return load_experiment(str(write_experiment(exp_dir / "spec")))


@pytest.fixture(scope="module")
def reference(tiny, exp_dir):
    """The serial, uninterrupted dataset every other way of running must reproduce exactly."""
    out = exp_dir / "serial"
    s = run_sweep(tiny, out, progress=False)
    assert s.complete and s.failed == 0 and s.done == s.total == 12
    return Store.open(out).read_dataset()


def test_serial_dataset_is_tidy_and_sorted(reference):
    assert list(reference.columns) == [
        "point",
        "rep",
        "key",
        "run",
        "scenario",
        "seed",
        "year",
        "metric",
        "group",
        "value",
    ]
    assert sorted(reference["point"].unique()) == list(range(6))
    assert sorted(reference["rep"].unique()) == [0, 1]
    assert set(reference["metric"]) == {"bids", "wins", "win_rate", "value_won_usd_m", "public_cost_krw_bn"}
    order = ["point", "rep", "metric", "group", "year"]
    assert reference.equals(reference.sort_values(order, kind="mergesort", ignore_index=True))
    assert not reference.duplicated(order).any()


def test_processes_dask_and_shards_give_identical_datasets(tiny, reference, exp_dir):
    s = run_sweep(tiny, exp_dir / "proc", executor="processes", workers=2, progress=False)
    assert s.done == 12 and s.failed == 0
    # the model's own CPU time, timed in the workers (bench-sweep's yardstick), is part of each run's time
    assert 0.0 < s.model_cpu_seconds <= s.run_seconds
    pd.testing.assert_frame_equal(Store.open(exp_dir / "proc").read_dataset(), reference, check_exact=True)

    s = run_sweep(tiny, exp_dir / "dask", executor="dask", workers=2, progress=False)
    assert s.done == 12 and s.failed == 0
    pd.testing.assert_frame_equal(Store.open(exp_dir / "dask").read_dataset(), reference, check_exact=True)

    shards = [exp_dir / f"shard{i}" for i in (1, 2, 3)]
    seen = set()
    for i, d in enumerate(shards, 1):
        s = run_sweep(tiny, d, shard=(i, 3), progress=False)
        assert s.total == 4 and s.done == 4
        keys = Store.open(d).finished_keys()
        assert not keys & seen, "shards must not overlap"
        seen |= keys
    m = merge(shards, exp_dir / "merged")
    assert m.complete and m.copied == 12
    pd.testing.assert_frame_equal(Store.open(exp_dir / "merged").read_dataset(), reference, check_exact=True)
    # merging again adds nothing and changes nothing
    m = merge(shards, exp_dir / "merged")
    assert m.copied == 0 and m.complete
    # a shard folder can be the target
    m = merge(shards[1:], shards[0])
    assert m.complete
    pd.testing.assert_frame_equal(Store.open(shards[0]).read_dataset(), reference, check_exact=True)


def test_resume_skips_finished_runs(tiny, reference, exp_dir, monkeypatch):
    monkeypatch.setattr("simulation.experiment.store.FILE_SECONDS", 600.0)  # files by count alone, on any machine
    out = exp_dir / "resume"
    run_sweep(tiny, out, shard=(1, 2), progress=False)
    s = run_sweep(tiny, out, progress=False)
    assert (s.skipped, s.done) == (6, 6)
    store = Store.open(out)
    assert len(store.run_files()) == 2, "each sweep gathered its six runs into one file"
    drop_runs(store, sorted(store.finished_keys())[:2])
    mtimes = {p.name: p.stat().st_mtime_ns for p in store.runs_dir.iterdir()}
    s = run_sweep(tiny, out, progress=False)
    assert (s.skipped, s.done, s.failed) == (10, 2, 0)
    now = {p.name: p.stat().st_mtime_ns for p in store.runs_dir.iterdir()}
    assert all(now[n] == t for n, t in mtimes.items()), "finished runs are not rewritten"
    assert len(now) == len(mtimes) + 1, "the two runs done again went into a file of their own"
    s = run_sweep(tiny, out, progress=False)
    assert (s.skipped, s.done) == (12, 0) and s.complete
    pd.testing.assert_frame_equal(store.read_dataset(), reference, check_exact=True)
    assert len(store.sessions()) == 4 and all(x["status"] == "finished" for x in store.sessions())


def test_failing_run_is_recorded_the_sweep_goes_on_and_retry_reruns_it(tiny, reference, exp_dir):
    good = build_design(tiny)
    bad = (len(good.points), "broken", {"world.n_firms": -5})  # fails validation when the run starts
    frame = pd.concat(
        [good.frame, pd.DataFrame({"point": [bad[0]], "name": [bad[1]], "world.n_firms": [-5], "spread": [0.1]})],
        ignore_index=True,
    )
    design = DesignTable("grid", good.points + [bad], frame, good.factors)
    out = exp_dir / "failing"
    s = run_sweep(tiny, out, design=design, progress=False)
    assert (s.done, s.failed, s.total) == (12, 2, 14) and not s.complete
    assert {f["point"] for f in s.failures} == {6}
    assert all(
        f["error_type"].endswith("InputError") and "greater than or equal to 1" in f["message"] for f in s.failures
    )
    store = Store.open(out)
    records = store.failed()
    assert len(records) == 2
    rec = next(iter(records.values()))
    assert rec["attempts"] == 1 and "Traceback" in rec["traceback"]
    assert rec["task"]["point"] == 6 and rec["task"]["overrides"]["world.n_firms"] == -5
    # the good runs are all there and equal the reference
    pd.testing.assert_frame_equal(store.read_dataset(), reference, check_exact=True)
    assert "failed: point 6" in s.describe()

    s = run_sweep(tiny, out, design=design, progress=False)  # failures are left alone by default
    assert (s.done, s.failed, s.not_retried, s.skipped) == (0, 0, 2, 12)
    s = run_sweep(tiny, out, design=design, retry_failed=True, progress=False)
    assert (s.done, s.failed, s.not_retried, s.skipped) == (0, 2, 0, 12)
    assert all(r["attempts"] == 2 for r in store.failed().values())

    # a failure that does not come back (e.g. a node that ran out of memory): retry finishes the run
    key = sorted(store.finished_keys())[0]
    drop_runs(store, [key])
    store.record_failure(key, {"error_type": "MemoryError", "message": "out of memory", "traceback": ""})
    s = run_sweep(tiny, out, design=design, progress=False)
    assert s.not_retried == 3 and s.done == 0
    s = run_sweep(tiny, out, design=design, retry_failed=True, progress=False)
    assert s.done == 1 and s.failed == 2
    assert key in store.finished_keys() and key not in store.failed()
    pd.testing.assert_frame_equal(store.read_dataset(), reference, check_exact=True)


def test_duplicate_points_share_a_run_but_keep_their_rows(tiny, reference, exp_dir):
    good = build_design(tiny)
    dup = (len(good.points), "again", dict(good.points[1][2]))
    design = DesignTable(
        "grid",
        good.points + [dup],
        pd.concat([good.frame, good.frame.iloc[[1]].assign(point=dup[0], name="again")], ignore_index=True),
        good.factors,
    )
    out = exp_dir / "dups"
    s = run_sweep(tiny, out, design=design, progress=False)
    assert s.total == 12 and s.done == 12
    data = Store.open(out).read_dataset()
    again = data[data["point"] == 6].drop(columns="point").reset_index(drop=True)
    first = reference[reference["point"] == 1].drop(columns="point").reset_index(drop=True)
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    pd.testing.assert_frame_equal(data[data["point"] < 6].reset_index(drop=True), reference, check_exact=True)


@pytest.mark.parametrize("text", ["3/2", "0/2", "a/b", "1/0", "2", "", "-1/2", "1/2/3"])
def test_bad_shard_is_refused(text):
    with pytest.raises(InputError, match="shard"):
        parse_shard(text)


def test_good_shard_and_bad_arguments(tiny, exp_dir):
    assert parse_shard("2/8") == (2, 8) and parse_shard(" 1 / 1 ") == (1, 1)
    for kwargs, match in [
        ({"shard": (3, 2)}, "between 1 and 2"),
        ({"shard": (0, 2)}, "between 1 and 2"),
        ({"executor": "mpi"}, "unknown executor"),
        ({"workers": 0, "executor": "processes"}, "at least 1"),
        ({"workers": 2}, "not serial"),
        ({"scheduler": "tcp://x:1"}, "dask executor"),
        ({"executor": "dask", "scheduler": "localhost"}, "tcp://"),
    ]:
        with pytest.raises(InputError, match=match):
            run_sweep(tiny, exp_dir / "never", progress=False, **kwargs)
    assert not (exp_dir / "never").exists(), "bad arguments are refused before anything is written"


def test_store_of_another_experiment_is_refused_unless_forced(tiny, exp_dir):
    out = exp_dir / "other"
    run_sweep(tiny, out, shard=(1, 6), progress=False)
    other = load_experiment(str(write_experiment(exp_dir / "spec2", reps=3)))
    with pytest.raises(InputError, match="another experiment.*--force"):
        run_sweep(other, out, progress=False)
    assert len(Store.open(out).finished_keys()) == 2, "nothing was touched"
    s = run_sweep(other, out, shard=(1, 6), progress=False, force=True)
    store = Store.open(out)
    assert store.experiment_hash == other.hash and s.skipped == 0 and len(store.finished_keys()) == 3
    with pytest.raises(InputError, match="another experiment"):
        merge([exp_dir / "serial", out], exp_dir / "mixed")
    not_a_store = exp_dir / "plain"
    not_a_store.mkdir()
    (not_a_store / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not an experiment results folder"):
        run_sweep(tiny, not_a_store, progress=False, force=True)
    assert (not_a_store / "notes.txt").read_text() == "mine"


def test_experiment_json_records_provenance(tiny, reference, exp_dir):
    m = json.loads((exp_dir / "serial" / "experiment.json").read_text())
    assert m["experiment_hash"] == tiny.hash and m["experiment"] == "tiny"
    assert m["design"]["type"] == "grid" and m["design"]["points"] == 6
    assert m["seeds"] and len(m["seeds"]) == 2 and m["replications"] == 2
    assert m["base"]["hash"] == tiny.base.hash and m["versions"]["numba"] and m["git_commit"]
    assert m["spec"]["name"] == "tiny"
    assert pd.read_parquet(exp_dir / "serial" / "design.parquet").shape[0] == 6


def test_unknown_output_metric_is_refused(exp_dir):
    bad = load_experiment(str(write_experiment(exp_dir / "spec3", name="badmetric", metrics="[win_rat]")))
    with pytest.raises(InputError, match="did you mean 'win_rate'"):
        run_sweep(bad, exp_dir / "badmetric", progress=False)


def test_stale_temporaries_are_removed_on_open_and_live_ones_kept(tiny, reference, exp_dir):
    from simulation import io as st

    out = exp_dir / "serial"
    runs = out / "runs"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    names = {
        "dead": f".x.parquet.tmp-{st.HOST}-{dead}-ab12",
        "live": f".y.parquet.tmp-{st.HOST}-{os.getpid()}-cd34",
        "old_foreign": ".z.parquet.tmp-othernode-123-ef56",
        "new_foreign": ".w.parquet.tmp-othernode-124-ab78",
    }
    for n in names.values():
        (runs / n).write_bytes(b"PAR1 half")
    old = time.time() - 2 * st.STALE_FOREIGN_SECONDS
    os.utime(runs / names["old_foreign"], (old, old))
    store = Store.open(out)
    left = {p.name for p in store.visible_temporaries()}
    assert left == {names["live"], names["new_foreign"]}
    assert store.finished_keys() == Store.open(out).finished_keys() and len(store.finished_keys()) == 12
    pd.testing.assert_frame_equal(store.read_dataset(), reference, check_exact=True)
    for n in left:
        (runs / n).unlink()


def test_unreachable_scheduler_is_a_clear_error(tiny, exp_dir):
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_sweep(tiny, exp_dir / "unreachable", executor="dask", scheduler="tcp://127.0.0.1:9", progress=False)
    assert not (exp_dir / "unreachable").exists()


# ---- real kills --------------------------------------------------------------------------------
SCRIPT = """
import sys, time
import simulation.io as at
import simulation.experiment.store as st
from simulation.experiment.spec import load_experiment
from simulation.experiment.sweep import run_sweep
spec, out, executor, midwrite = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if midwrite:  # hold the process in the middle of writing its `midwrite`-th run file, to be killed there
    import threading  # run files are written from a thread (store.RunWriter): only that one is held
    real_write_all, real_write_runs, n, lock, mine = at._write_all, st.Store.write_runs, [0], threading.Lock(), threading.local()
    def write_runs(self, runs):
        with lock:
            n[0] += 1
            mine.name = st.batch_name([r.key for r in runs]) if n[0] == midwrite else None
        return real_write_runs(self, runs)
    def half(fd, data):
        if getattr(mine, "name", None) is None:
            return real_write_all(fd, data)
        real_write_all(fd, data[: len(data) // 2])
        print("MIDWRITE", mine.name, flush=True)
        time.sleep(600)
    at._write_all = half
    st.Store.write_runs = write_runs
print("START", flush=True)
run_sweep(load_experiment(spec), out, executor=executor, workers=2 if executor != "serial" else None,
          progress=False)
print("END", flush=True)
"""


def _start(
    spec: Path, out: Path, executor: str = "serial", midwrite: int = 0, runs_per_file: int | None = 1
) -> subprocess.Popen:
    """A sweep in a process of its own, to be killed; by default it writes a file per run, so that
    the test can kill it after so many runs."""
    env = dict(os.environ)
    env.pop("SCSIM_RUNS_PER_FILE", None)
    if runs_per_file is not None:
        env["SCSIM_RUNS_PER_FILE"] = str(runs_per_file)
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(spec), str(out), executor, str(midwrite)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_runs(out: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> int:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        runs = out / "runs"
        count = (
            sum(1 for x in os.listdir(runs) if x.endswith(".parquet") and not x.startswith(".")) if runs.is_dir() else 0
        )
        if count >= n:
            return count
        if proc.poll() is not None:
            raise AssertionError(f"sweep ended before {n} runs: {proc.stderr.read()}")
        time.sleep(0.005)
    raise AssertionError("timed out")


def test_sigkill_at_several_points_then_resume_gives_the_uninterrupted_dataset(exp_dir):
    spec = write_experiment(exp_dir / "kill", name="killme", values=(40, 50, 60, 70, 80), reps=4)
    loaded = load_experiment(str(spec))
    ref_out = exp_dir / "kill_ref"
    run_sweep(loaded, ref_out, progress=False)
    reference = Store.open(ref_out).read_dataset()
    total = 40
    out = exp_dir / "killed"

    # 1. killed after some runs were written; 2. killed again later
    seen = 0
    for at in (3, 12):
        proc = _start(spec, out)
        seen = _wait_for_runs(out, at, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
    assert seen < total
    # 3. a processes sweep killed: its worker processes do not linger as orphans
    proc = _start(spec, out, executor="processes")
    _wait_for_runs(out, seen + 2, proc)
    import psutil

    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(pool_workers(proc.pid)) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"orphaned workers left running: {alive}"

    # 4. killed in the middle of writing a file of several runs (held there): a half-written hidden
    # temporary remains, and every run gathered into that file is lost, to be done again
    before = Store.open(out).finished_keys()
    proc = _start(spec, out, midwrite=1, runs_per_file=None)
    line = ""
    while "MIDWRITE" not in line:
        line = proc.stdout.readline()
        assert line or proc.poll() is None, proc.stderr.read()
    target = line.split()[1]
    tmp_files = [p for p in (out / "runs").iterdir() if p.name.startswith(f".{target}.tmp-")]
    assert len(tmp_files) == 1 and tmp_files[0].stat().st_size > 0
    assert not (out / "runs" / target).exists(), "the file being written is not visible"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert tmp_files[0].exists() and not (out / "runs" / target).exists()
    after = Store.open(out)  # which removes the killed writer's temporary
    assert after.finished_keys() == before, "the runs of the lost file are not finished"
    assert after.removed_temporaries == tmp_files and not tmp_files[0].exists()
    # resume (here on local processes): the sweep finishes
    s = run_sweep(loaded, out, executor="processes", workers=2, progress=False)
    assert s.complete and s.failed == 0 and s.done + s.skipped == total
    assert s.done == total - len(before) > 1, "the lost file held several runs"
    store = Store.open(out)
    assert store.visible_temporaries() == []
    names = sorted(os.listdir(out / "runs"))
    assert all(n.endswith(".parquet") and not n.startswith(".") for n in names)
    assert len(store.finished_keys()) == total
    pd.testing.assert_frame_equal(store.read_dataset(), reference, check_exact=True)
    import tempfile

    from simulation.io import pid_alive

    left = [
        n
        for n in os.listdir(tempfile.gettempdir())
        if n.startswith("scsim-base-") and not pid_alive(int(n.split("-")[2]))
    ]
    assert not left, f"base-scenario files of killed sweeps left behind: {left}"
    statuses = [x["status"] for x in store.sessions()]
    assert statuses.count("running") == 4 and statuses.count("finished") == 1, statuses


def test_dask_worker_killed_mid_sweep_costs_only_its_runs(exp_dir):
    from distributed import Client, LocalCluster

    spec = write_experiment(exp_dir / "dask_kill", name="daskkill", values=(40, 50, 60, 70, 80, 90), reps=4)
    loaded = load_experiment(str(spec))
    ref_out = exp_dir / "dask_kill_ref"
    run_sweep(loaded, ref_out, progress=False)
    reference = Store.open(ref_out).read_dataset()
    out = exp_dir / "dask_killed"
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=50
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        address, victim = sorted(pids.items())[0]
        killed_at, running = [], []

        def killer():
            try:
                n = 0
                while n < 3:
                    runs = out / "runs"
                    n = sum(1 for x in os.listdir(runs) if not x.startswith(".")) if runs.is_dir() else 0
                    time.sleep(0.002)
                while not running:  # kill it while it is running a run of the sweep
                    running.extend(k for k in client.processing(workers=[address])[address] if "scsim-" in k)
                os.kill(victim, signal.SIGKILL)
                killed_at.append(n)
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                killed_at.append(exc)

        t = threading.Thread(target=killer, daemon=True)
        t.start()
        s = run_sweep(  # a file per run: the killer counts them
            loaded, out, executor="dask", scheduler=cluster.scheduler_address, progress=False, runs_per_file=1
        )
        t.join(timeout=30)
        assert killed_at and isinstance(killed_at[0], int) and killed_at[0] < s.total, killed_at
        assert running, "the killed worker was running runs of the sweep"
        with pytest.raises(ProcessLookupError):
            os.kill(victim, 0)
        assert s.complete and s.failed == 0 and s.done == s.total == 48
        # the restarted worker is back
        client.wait_for_workers(2, timeout=60)
        assert victim not in client.run(os.getpid).values()
    pd.testing.assert_frame_equal(Store.open(out).read_dataset(), reference, check_exact=True)


def test_local_worker_process_killed_mid_sweep_is_replaced(exp_dir):

    spec = write_experiment(exp_dir / "proc_kill", name="prockill", values=(40, 50, 60, 70, 80, 90), reps=4)
    loaded = load_experiment(str(spec))
    out = exp_dir / "proc_killed"
    killed = []

    def killer():
        n = 0
        while n < 3:
            runs = out / "runs"
            n = sum(1 for x in os.listdir(runs) if not x.startswith(".")) if runs.is_dir() else 0
            time.sleep(0.002)
        pool_workers()[0].kill()
        killed.append(n)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    s = run_sweep(
        loaded, out, executor="processes", workers=2, progress=False, runs_per_file=1
    )  # the killer counts files
    t.join(timeout=30)
    assert killed and killed[0] < s.total
    assert s.complete and s.failed == 0 and s.done == 48
    ref_out = exp_dir / "proc_kill_ref"
    run_sweep(loaded, ref_out, progress=False)
    pd.testing.assert_frame_equal(Store.open(out).read_dataset(), Store.open(ref_out).read_dataset(), check_exact=True)


def test_a_run_that_kills_its_worker_is_recorded_and_the_others_finish(exp_dir, monkeypatch):
    """Runs go to the workers in batches; a run that kills its worker every time is retried alone,
    then recorded as failed with WorkerCrashed, and every other run of the lost batches finishes with
    the values of a serial sweep."""
    from simulation.experiment.executors import CRASH_KEYS_ENV

    spec = write_experiment(exp_dir / "crash", name="crash", values=(40, 50, 60, 70, 80, 90), reps=4)
    loaded = load_experiment(str(spec))
    ref_out = exp_dir / "crash_ref"
    run_sweep(loaded, ref_out, progress=False)
    keys = sorted(Store.open(ref_out).finished_keys())
    victim = keys[len(keys) // 2]
    monkeypatch.setenv(CRASH_KEYS_ENV, victim)  # the spawned workers inherit it
    out = exp_dir / "crash_out"
    s = run_sweep(loaded, out, executor="processes", workers=2, progress=False)
    assert (s.done, s.failed) == (len(keys) - 1, 1)
    (failure,) = s.failures
    assert failure["key"] == victim and failure["error_type"].endswith("WorkerCrashed"), failure
    assert "died 2 times" in failure["message"]
    store = Store.open(out)
    assert set(store.finished_keys()) == set(keys) - {victim}
    expected = Store.open(ref_out).read_dataset()
    pd.testing.assert_frame_equal(
        store.read_dataset(), expected[expected["key"] != victim].reset_index(drop=True), check_exact=True
    )


# ---- memory ------------------------------------------------------------------------------------
MEMORY_SCRIPT = """
import gc, json, sys
import psutil
from simulation.experiment.spec import load_experiment
from simulation.experiment.sweep import run_sweep
warm, long, out = sys.argv[1], sys.argv[2], sys.argv[3]
proc = psutil.Process()
run_sweep(load_experiment(warm), out + "/warm", progress=False)
gc.collect()
before = proc.memory_info().rss
s = run_sweep(load_experiment(long), out + "/long", progress=False)
gc.collect()
after = proc.memory_info().rss
print(json.dumps({"before": before, "after": after, "done": s.done, "mesa": "mesa" in sys.modules}))
"""


@pytest.mark.slow
def test_memory_stays_flat_over_a_long_sweep_in_one_process(exp_dir):
    folder = exp_dir / "memory"
    warm = write_experiment(folder, name="warm", values=(40, 60), reps=10)
    long = write_experiment(folder, name="long", values=tuple(range(40, 80, 2)), reps=8)  # 20*2*8 = 320 runs
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(warm), str(long), str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    assert m["done"] == 320 and not m["mesa"], "a sweep never builds (or imports) Mesa models"
    growth_mb = (m["after"] - m["before"]) / 2**20
    # a leaked run (world arrays, tables) costs well over 0.3 MB, 320 of them over 100 MB
    assert growth_mb < 40, f"RSS grew by {growth_mb:.1f} MB over 320 runs"


def test_kernels_are_cached_for_workers(reference):
    assert kernels_cached(), "after a run the compiled kernels are in numba's disk cache (workers load them)"


def test_shipped_smoke_experiment_runs_and_resumes(tmp_path):
    smoke = ROOT / "experiments" / "smoke.yaml"
    if not smoke.is_file():
        pytest.skip("experiments/smoke.yaml not written yet")
    loaded = load_experiment(str(smoke), shown="experiments/smoke.yaml")
    design, seeds, tasks = prepare(loaded)
    n = len(unique_runs(tasks))
    assert len(tasks) == len(design.points) * loaded.spec.replications
    s = run_sweep(loaded, tmp_path / "smoke", progress=False)
    assert s.failed == 0 and s.done == s.total == n
    store = Store.open(tmp_path / "smoke")
    data = store.read_dataset()
    assert set(data["key"]) == store.finished_keys() and sorted(data["point"].unique()) == list(range(len(design)))
    assert run_sweep(loaded, tmp_path / "smoke", progress=False).skipped == n


@pytest.mark.parametrize(
    "metrics,groups",
    [(None, None), (["bids", "win_rate", "public_cost_krw_bn"], None), (None, ["all"]), (["wins"], ["all", "none"])],
)
def test_a_runs_values_and_labels_give_the_bytes_of_its_pandas_frame(metrics, groups):
    """A run as stored (tasks.run_values: its values, and labels once per store) is read back into
    Arrow (tasks.full_table) whose Parquet file is byte for byte what the pandas frame of
    tasks.task_table gives, NaN rates (0/0) as nulls included, through a run file of several runs
    (tasks.pack_runs, read back by tasks.file_runs)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulation.engine.simulate import simulate
    from simulation.experiment.executors import pack
    from simulation.experiment.tasks import (
        file_runs,
        full_table,
        pack_runs,
        plan_tasks,
        replication_seeds,
        resolve_task,
        run_values,
        task_table,
    )
    from simulation.scenario.loader import load_scenario

    base = load_scenario(str(ROOT / "scenarios" / "plan_2019_announced.yaml"), overrides=["time.end=2022-12"])
    points = [(0, "plan", {}), (3, "no expo", {"levers.c1_expo.enabled": False})]
    for task in plan_tasks(base, points, replication_seeds(5, 2)):
        frame = task_table(base, task, metrics, groups)
        assert len(frame) > 0
        if metrics is None and groups is None:
            assert frame["value"].isna().any(), "the case with 0/0 rates (NaN) is covered"
        run, labels = run_values(simulate(resolve_task(base, task), task.seed), task, metrics, groups)
        (meta, values), *_ = file_runs(pq.ParquetFile(pa.BufferReader(pack_runs([run]))).read())
        assert meta == run.meta
        assert pack(full_table(meta, values, labels.table)) == pack(frame)


def test_a_sweep_stores_values_once_labels_once_and_reads_back_the_tidy_rows(exp_dir, monkeypatch):
    """A run file holds runs' values only (their labels are one file per store), several runs a
    file: read back, each run is exactly the frame `tasks.task_table` gives for it, NaN rates as NaN
    included."""
    import pyarrow.parquet as pq

    from simulation.experiment.tasks import task_table

    monkeypatch.setattr("simulation.experiment.store.FILE_SECONDS", 600.0)  # files by count alone, on any machine
    spec = write_experiment(exp_dir / "values", name="values", values=(40, 80), reps=2)
    loaded = load_experiment(str(spec))
    out = exp_dir / "values_out"
    run_sweep(loaded, out, progress=False)
    store = Store.open(out)
    assert [p.suffix for p in store.labels_dir.iterdir()] == [".parquet"], "one labels file for the sweep"
    _, _, tasks = prepare(loaded)
    assert len(store.run_files()) == 1, "the sweep's four runs went into one file"
    for task in tasks:
        assert pq.read_schema(store.run_file(task.key)).names == ["value"]
        want = task_table(loaded.base, task, *output_filter(loaded))
        pd.testing.assert_frame_equal(store.read_run(task.key), want, check_exact=True)
    assert len(store.read_dataset()) == sum(len(store.read_run(t.key)) for t in tasks)


def test_a_store_with_run_files_of_the_old_formats_reads_as_one_dataset(exp_dir):
    """A store written by older versions (format 1: a run's tidy rows a file; format 2: a run's
    values a file) is resumed by this version: run files of all three formats read back as one
    dataset, the same as a store written whole by this version. A run whose labels are lost is one
    clear error, not a crash."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulation.experiment.tasks import RUN_META, VALUE_OPTIONS, task_table, to_parquet_bytes

    spec = write_experiment(exp_dir / "old", name="old", values=(40, 80), reps=2)
    loaded = load_experiment(str(spec))
    run_sweep(loaded, exp_dir / "new", progress=False)
    reference = Store.open(exp_dir / "new").read_dataset()
    out = exp_dir / "mixed"
    run_sweep(loaded, out, progress=False)
    store = Store.open(out)
    _, _, tasks = prepare(loaded)
    one, two = tasks[1], tasks[3]
    (run,) = [r for r in stored_runs(store.run_file(two.key)) if r.key == two.key]
    drop_runs(store, [one.key, two.key])
    frame = task_table(loaded.base, one, *output_filter(loaded))
    (store.runs_dir / f"{one.key}.parquet").write_bytes(to_parquet_bytes(frame))  # as format 1 wrote it
    table = pa.Table.from_arrays([pa.array(run.values, from_pandas=True)], names=["value"])
    sink = pa.BufferOutputStream()  # as format 2 wrote it
    pq.write_table(table.replace_schema_metadata({RUN_META: json.dumps(run.meta).encode()}), sink, **VALUE_OPTIONS)
    (store.runs_dir / f"{two.key}.parquet").write_bytes(sink.getvalue().to_pybytes())
    assert len(Store.open(out).run_files()) == 3
    pd.testing.assert_frame_equal(Store.open(out).read_dataset(), reference, check_exact=True)
    # resumed by this version, a folder of format 1 is marked format 3 (an older scsim then refuses
    # it with a message instead of misreading its new run files), and its runs read the same
    manifest = json.loads((out / "experiment.json").read_text())
    (out / "experiment.json").write_text(json.dumps({**manifest, "format": 1}))
    drop_runs(store, [tasks[2].key])
    assert run_sweep(loaded, out, progress=False).done == 1
    assert json.loads((out / "experiment.json").read_text())["format"] == 3
    pd.testing.assert_frame_equal(Store.open(out).read_dataset(), reference, check_exact=True)
    (out / "experiment.json").write_text(json.dumps({**manifest, "format": 4}))
    with pytest.raises(InputError, match="format 4, but this scsim reads format 3 or older"):
        Store.open(out)
    from simulation.experiment.store import FORMAT
    from simulation.present.figures.data import SWEEP_FORMAT

    assert SWEEP_FORMAT == FORMAT == 3, "the report reads the format the store writes"
    (out / "experiment.json").write_text(json.dumps(manifest))

    for path in store.labels_dir.iterdir():
        path.unlink()
    with pytest.raises(InputError, match="names labels .* which are missing"):
        Store.open(out).read_dataset()


def _runs(n: int, prefix: str = "k") -> list:
    from simulation.experiment.tasks import StoredRun

    rng = np.random.default_rng(7)
    return [
        StoredRun({"point": i, "rep": 0, "key": f"{prefix}{i:03d}", "scenario": "s", "seed": i, "labels": "lab"}, v)
        for i, v in enumerate(rng.normal(size=(n, 30)))
    ]


def test_the_run_writer_gathers_runs_into_files_and_raises_a_failed_write(tmp_path):
    """store.RunWriter: runs go into files of at most `runs_per_file`, written from a thread, all
    there and whole; a file is also written once its first run has waited `seconds`, with no run
    after it; a write that fails is raised (at a later put or when draining, once the files in
    flight are done); 0 threads writes in put."""
    from simulation.experiment.store import RunWriter

    store = Store.create_or_open(tmp_path / "w", {"experiment_hash": "h"})
    runs = _runs(200)
    with RunWriter(store, threads=1, limit=2, runs_per_file=16) as writer:
        for run in runs:
            writer.put(run, ("lab", b"labels"))
    assert store.finished_keys() == {r.key for r in runs}
    assert sorted(len(k) for k in store.run_files().values()) == [8] + [16] * 12
    back = {r.key: r for f in store.run_files() for r in stored_runs(store.runs_dir / f)}
    assert all(back[r.key].meta == r.meta and np.array_equal(back[r.key].values, r.values) for r in runs)
    assert (store.labels_dir / "lab.parquet").read_bytes() == b"labels"
    assert not store.visible_temporaries()

    with RunWriter(store, threads=1, runs_per_file=1000, seconds=0.2) as writer:
        for run in _runs(3, "late"):
            writer.put(run)
        t0 = time.monotonic()
        while not {"late000", "late002"} <= store.finished_keys():
            assert time.monotonic() - t0 < 10, "the gathered runs were written without a run after them"
            time.sleep(0.02)

    real = Store.write_runs

    def failing(self, batch):
        if any(r.key == "k001" for r in batch):
            raise OSError(28, "No space left on device")
        return real(self, batch)

    store2 = Store.create_or_open(tmp_path / "w2", {"experiment_hash": "h"})
    try:
        Store.write_runs = failing
        with pytest.raises(OSError, match="No space left"), RunWriter(store2, threads=1, runs_per_file=1) as writer:
            for run in _runs(4):
                writer.put(run)
        assert "k000" in store2.finished_keys() and "k001" not in store2.finished_keys()
        assert not store2.visible_temporaries()
        w0 = RunWriter(store2, threads=0, runs_per_file=2)
        first, bad = _runs(2)
        w0.put(first)
        with pytest.raises(OSError, match="No space left"):
            w0.put(bad)  # the file of both fails
        w0.put(_runs(4)[3])
        w0.drain()
        assert "k003" in store2.finished_keys()
    finally:
        Store.write_runs = real


def test_a_sweep_whose_write_fails_stops_with_the_error_and_resumes_whole(exp_dir, monkeypatch):
    """A run that cannot be stored (a full disk) ends the sweep with that error, recorded in its
    session; what was stored is whole, and the sweep run again completes the same dataset."""
    spec = write_experiment(exp_dir / "wfail", name="wfail", values=(40, 80), reps=3)
    loaded = load_experiment(str(spec))
    run_sweep(loaded, exp_dir / "wfail_ref", progress=False, write_threads=0)
    reference = Store.open(exp_dir / "wfail_ref").read_dataset()
    real, calls = Store.write_runs, [0]

    def full_disk(self, runs):
        calls[0] += 1
        if calls[0] == 4:
            raise OSError(28, "No space left on device")
        return real(self, runs)

    out = exp_dir / "wfail_out"
    monkeypatch.setattr(Store, "write_runs", full_disk)
    with pytest.raises(OSError, match="No space left"):
        run_sweep(loaded, out, progress=False, runs_per_file=1)
    monkeypatch.setattr(Store, "write_runs", real)
    store = Store.open(out)
    assert store.sessions()[-1]["status"].startswith("error: OSError")
    assert 0 < len(store.finished_keys()) < len(reference["key"].unique())
    assert not store.visible_temporaries()
    run_sweep(loaded, out, progress=False)
    pd.testing.assert_frame_equal(Store.open(out).read_dataset(), reference, check_exact=True)


def test_pool_workers_are_forks_of_a_server_that_loaded_the_kernels():
    """A local pool's workers start with the package imported and the kernels loaded (forked from
    the fork server, which did both once) instead of each importing and loading them (about 2.5 s
    of CPU a worker); they are not forks of the sweep's own process."""
    from concurrent.futures import ProcessPoolExecutor

    from helpers import worker_state

    from simulation.experiment.executors import kernels_cached, worker_context

    assert kernels_cached(), "the session's warm-up filled the kernel cache"
    with ProcessPoolExecutor(2, mp_context=worker_context()) as pool:
        states = list(pool.map(worker_state, range(4)))
    assert all(s["loaded"] for s in states), "a worker loaded the kernels itself"
    assert all(s["ppid"] != os.getpid() for s in states), "a worker is a fork of the pool's own process"
    assert len({s["ppid"] for s in states}) == 1, "the workers share one server"


def test_runs_per_file_is_checked_before_anything_is_written(tiny, exp_dir, monkeypatch):
    """SCSIM_RUNS_PER_FILE (and `runs_per_file`) that is not a whole number of at least 1 is one clear
    error before the results folder exists; a valid one sets how many runs a file holds."""
    monkeypatch.setattr("simulation.experiment.store.FILE_SECONDS", 600.0)  # files by count alone, on any machine
    for bad in ("0", "many", "-3"):
        monkeypatch.setenv("SCSIM_RUNS_PER_FILE", bad)
        with pytest.raises(InputError, match="SCSIM_RUNS_PER_FILE=.*expected a whole number of runs a file"):
            run_sweep(tiny, exp_dir / "per_file", progress=False)
        assert not (exp_dir / "per_file").exists()
    monkeypatch.setenv("SCSIM_RUNS_PER_FILE", "5")
    with pytest.raises(InputError, match="runs a file: 0; expected a whole number, at least 1"):
        run_sweep(tiny, exp_dir / "per_file", progress=False, runs_per_file=0)
    assert not (exp_dir / "per_file").exists()
    s = run_sweep(tiny, exp_dir / "per_file", progress=False)
    assert s.done == 12
    assert sorted(len(k) for k in Store.open(exp_dir / "per_file").run_files().values()) == [2, 5, 5]


def test_scsim_sweep_runs_per_file_from_the_command_line(exp_dir, monkeypatch):
    """`scsim sweep --runs-per-file N` (and SCSIM_RUNS_PER_FILE) set the runs a file; a bad value is
    one line on stderr, exit status 2, and no results folder."""
    from helpers import in_process

    monkeypatch.setattr("simulation.experiment.store.FILE_SECONDS", 600.0)  # files by count alone, on any machine
    spec = write_experiment(exp_dir / "cli_per_file", name="perfile", values=(40, 80), reps=3)
    out = exp_dir / "cli_per_file" / "out"
    for args, env in (((("--runs-per-file", "0"), None)), ((), "lots")):
        if env is None:
            monkeypatch.delenv("SCSIM_RUNS_PER_FILE", raising=False)
        else:
            monkeypatch.setenv("SCSIM_RUNS_PER_FILE", env)
        r = in_process("sweep", str(spec), "--out", str(out), "--quiet", "--no-analysis", *args, cwd=exp_dir)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1, r.stderr
        assert "at least 1" in r.stderr and not out.exists()
    monkeypatch.setenv("SCSIM_RUNS_PER_FILE", "2")  # the flag wins
    r = in_process(
        "sweep", str(spec), "--out", str(out), "--quiet", "--no-analysis", "--runs-per-file", "4", cwd=exp_dir
    )
    assert r.returncode == 0, r.stderr
    sizes = [len(k) for k in Store.open(out).run_files().values()]
    n = len(Store.open(out).tasks())
    assert n > 4 and sum(sizes) == n and max(sizes) == 4 and len(sizes) == -(-n // 4)


INTERRUPT_SCRIPT = """
import sys
import simulation.experiment.store as st
import simulation.experiment.sweep as sw
from simulation.experiment.spec import load_experiment
st.FILE_SECONDS = 600.0  # files by count alone: the runs gathered so far wait for the end
record = sw.record_outcome
def told(*a, **k):
    record(*a, **k)
    print("RUN", flush=True)
sw.record_outcome = told
sw.run_sweep(load_experiment(sys.argv[1]), sys.argv[2], progress=False)
"""


def test_ctrl_c_writes_the_runs_gathered_so_far(exp_dir):
    """A sweep interrupted with Ctrl-C (SIGINT) writes the runs it had gathered for its next file
    before it stops: every run that reached it is finished, and its session says `interrupted`."""
    spec = write_experiment(exp_dir / "sigint", name="sigint", values=(40, 50, 60, 70, 80), reps=4)
    out = exp_dir / "sigint_out"
    env = {k: v for k, v in os.environ.items() if k != "SCSIM_RUNS_PER_FILE"}
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_SCRIPT, str(spec), str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = 0
    while seen < 5:
        line = proc.stdout.readline()
        assert line or proc.poll() is None, proc.stderr.read()
        seen += line.startswith("RUN")
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    seen += rest.count("RUN")
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err
    store = Store.open(out)
    assert len(store.finished_keys()) == seen < 20, "every run that reached the sweep is in a file"
    assert len(store.run_files()) == 1 and store.visible_temporaries() == []
    assert store.sessions()[-1]["status"] == "interrupted"


def test_merge_refuses_a_run_held_with_other_rows(tiny, reference, exp_dir, monkeypatch):
    """Two folders of one experiment that hold the same run with different values cannot be merged:
    one clear error naming the run, its point and the folder; runs that agree merge silently."""
    monkeypatch.setattr("simulation.experiment.store.FILE_SECONDS", 600.0)  # files by count alone, on any machine
    a, b = exp_dir / "agree", exp_dir / "disagree"  # names no other test of this module uses
    run_sweep(tiny, a, progress=False)
    run_sweep(tiny, b, progress=False)
    assert merge([a, b], exp_dir / "agreed").complete  # the same runs in the same files
    store = Store.open(b)
    key = sorted(store.finished_keys())[3]
    (run,) = [r for r in stored_runs(store.run_file(key)) if r.key == key]
    drop_runs(store, [key])
    run.values = run.values + 1.0
    store.write_runs([run])  # b now holds the run with other values, in other files than a
    with pytest.raises(
        InputError, match=rf"run {key} \(point {run.meta['point']}\) has different results in .*disagree"
    ):
        merge([a, b], exp_dir / "refused")
    pd.testing.assert_frame_equal(Store.open(exp_dir / "refused").read_dataset(), reference, check_exact=True)

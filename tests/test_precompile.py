"""A cold start on two cores: a helper process compiles part of the month loop, with the same results."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, load

from simulation.engine.precompile import HELPER_PART, HERE_PART, usable_cores
from simulation.engine.simulate import simulate

# what the child prints: for each submodel, whether this process loaded it from the cache (the
# helper compiled it) or compiled it, how many specialisations the cache holds, and the runs' digest
CHILD = """
import json, sys
open(sys.argv[3], "a").write("ran\\n")  # a user's script with no `if __name__ == "__main__":` guard
from simulation.engine.kernels import step
from simulation.engine.warmup import warm_up
from simulation.engine.simulate import simulate
from simulation.api import load
from test_precompile import digest

if sys.argv[2] == "thread":  # another thread alive, as a dashboard's server: the helper is spawned
    import threading
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
r = load("plan_2019_announced", {"time.end": "2021-12"})
compiled = warm_up(r, show=False)
from simulation.engine.precompile import LAST_HELPER
out = {"compiled": compiled, "digest": digest(simulate(r, 3)), "submodels": {}, "helper": LAST_HELPER}
for name in sys.argv[1].split(","):
    f = getattr(step, name)
    out["submodels"][name] = {
        "loaded": sum(f._cache_hits.values()), "compiled": sum(f._cache_misses.values()),
        "cached": len(f._cache._cache_file._load_index()),
    }
print(json.dumps(out))
"""


def digest(result) -> str:
    """A hash of a run's accumulators and final state: equal only when the runs are bit for bit equal."""
    h = hashlib.sha256()
    for t in (result.acc, result.state):
        for name in t._fields:
            h.update(name.encode())
            h.update(np.ascontiguousarray(getattr(t, name)).tobytes())
    return h.hexdigest()


@pytest.mark.skipif(usable_cores() < 2, reason="the helper process needs a second core")
@pytest.mark.parametrize(
    "threads, method",
    [
        ("one", "fork" if sys.platform.startswith("linux") else "spawn"),
        pytest.param("thread", "spawn", marks=pytest.mark.slow),
    ],
)
def test_a_cold_start_shares_the_compile_with_a_helper_and_runs_the_same(tmp_path, threads, method):
    env = {
        **os.environ,
        "SCSIM_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
    }
    env.pop("NUMBA_CACHE_DIR", None)
    script, mark = tmp_path / "user_script.py", tmp_path / "ran.txt"
    script.write_text(CHILD, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), ",".join(HELPER_PART + HERE_PART), threads, str(mark)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["compiled"], "an empty cache: the warm-up compiled"
    assert mark.read_text() == "ran\n", "the helper did not run the caller's script again"
    assert out["helper"] == {"method": method, "exitcode": 0}, "the helper compiled its part and ended well"
    for name in HELPER_PART:
        assert out["submodels"][name] == {"loaded": 1, "compiled": 0, "cached": 1}, (
            f"{name}: compiled by the helper, loaded here from the cache for the loop's own types"
        )
    for name in HERE_PART:
        assert out["submodels"][name] == {"loaded": 0, "compiled": 1, "cached": 1}, (
            f"{name}: compiled here once, for the types the loop then uses"
        )
    r = load("plan_2019_announced", "time.end=2021-12")
    assert out["digest"] == digest(simulate(r, 3)), "the same results as kernels compiled in one process"


SWEEP = """
import json, sys, time
from simulation.engine import precompile
from simulation.experiment.spec import load_experiment
from simulation.experiment.sweep import run_sweep
compiled_at = []
compile_month_loop = precompile.compile_month_loop
def timed(*args, **kwargs):  # when the sweep process's compile ended
    compile_month_loop(*args, **kwargs)
    compiled_at.append(time.time_ns())
precompile.compile_month_loop = timed
s = run_sweep(load_experiment(sys.argv[1]), sys.argv[2], executor="processes", workers=2, progress=False)
print(json.dumps({"done": s.done, "failed": s.failed, "helper": precompile.LAST_HELPER, "compiled_at": compiled_at}))
"""


@pytest.mark.slow
@pytest.mark.skipif(usable_cores() < 2, reason="the helper process needs a second core")
def test_a_process_sweep_on_an_empty_cache_compiles_once_before_its_workers_start(tmp_path):
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        f"name: cold\nbase: {ROOT / 'scenarios' / 'no_plan.yaml'}\n"
        "set:\n  time.end: 2020-12\n  world.n_firms: 60\n"
        "factors:\n  - key: world.capability_sd\n    role: uncertainty\n    values: [0.1, 0.2, 0.3]\n"
        "design:\n  type: grid\nreplications: 2\nseed: 3\noutputs:\n  metrics: [bids, wins]\n",
        encoding="utf-8",
    )
    cache, out = tmp_path / "cache", tmp_path / "out"
    env = {**os.environ, "SCSIM_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", SWEEP, str(spec), str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (got["done"], got["failed"]) == (6, 0)
    assert got["helper"]["exitcode"] == 0 and len(got["compiled_at"]) == 1, (
        "the sweep process compiled, with its helper"
    )
    cached = [p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()]
    assert cached and max(cached) <= got["compiled_at"][0], "a worker wrote the kernel cache: it compiled, not loaded"

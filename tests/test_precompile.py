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

# what a child prints: for each submodel, whether this process loaded it from the cache (the
# helper compiled it) or compiled it, how many specialisations the cache holds, and the runs' digest
REPORT = """
def report(compiled, extra):
    import json
    from simulation.api import load
    from simulation.engine.kernels import step
    from simulation.engine.precompile import HELPER_PART, HERE_PART, LAST_HELPER
    from simulation.engine.simulate import simulate
    from test_precompile import digest
    out = {"compiled": compiled, "helper": LAST_HELPER, "submodels": {}, **extra}
    out["digest"] = digest(simulate(load("plan_2019_announced", {"time.end": "2021-12"}), 3))
    for name in HELPER_PART + HERE_PART:
        f = getattr(step, name)
        out["submodels"][name] = {
            "loaded": sum(f._cache_hits.values()), "compiled": sum(f._cache_misses.values()),
            "cached": len(f._cache._cache_file._load_index()),
        }
    print(json.dumps(out))
"""

# a user's script with no `if __name__ == "__main__":` guard that warms up, single-threaded: the
# helper is forked (on Linux)
CHILD = (
    REPORT
    + """
from simulation.api import load
from simulation.engine.warmup import warm_up
report(warm_up(load("plan_2019_announced", {"time.end": "2021-12"}), show=False), {})
"""
)


def digest(result) -> str:
    """A hash of a run's accumulators and final state: equal only when the runs are bit for bit equal."""
    h = hashlib.sha256()
    for t in (result.acc, result.state):
        for name in t._fields:
            h.update(name.encode())
            h.update(np.ascontiguousarray(getattr(t, name)).tobytes())
    return h.hexdigest()


def _cold_child(tmp_path, code: str, *args: str) -> dict:
    """Run `code` as a script file in a fresh Python on an empty kernel cache; what it printed last, as JSON."""
    env = {
        **os.environ,
        "SCSIM_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
    }
    env.pop("NUMBA_CACHE_DIR", None)
    script = tmp_path / "user_script.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_compiled_with_the_helper(out: dict, method: str) -> None:
    """The helper compiled its part and the loop loaded it; the runs equal this session's kernels'."""
    assert out["compiled"], "an empty cache: the warm-up compiled"
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
    assert out["digest"] == digest(simulate(r, 3)), "the same results as the kernels this session compiled"


@pytest.mark.skipif(usable_cores() < 2, reason="the helper process needs a second core")
def test_a_cold_start_forks_a_helper_and_runs_the_same(tmp_path):
    out = _cold_child(tmp_path, CHILD)
    _assert_compiled_with_the_helper(out, "fork" if sys.platform.startswith("linux") else "spawn")


# a processes sweep on an empty cache, from a script file. The sweep's lock beats in a thread, so the
# helper is spawned; it must not import the script again (multiprocessing's spawn would: a script
# without a main guard would run twice), while the pool's spawned workers do, as `__mp_main__`.
SWEEP = (
    REPORT
    + """
import sys, time
open(sys.argv[3], "a").write(__name__ + "\\n")
if __name__ == "__main__":
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
    report(bool(compiled_at), {"done": s.done, "failed": s.failed, "compiled_at": compiled_at})
"""
)


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
    mark = tmp_path / "ran.txt"
    got = _cold_child(tmp_path, SWEEP, str(spec), str(tmp_path / "out"), str(mark))
    assert (got["done"], got["failed"]) == (6, 0)
    assert len(got["compiled_at"]) == 1, "the sweep process compiled, once"
    assert sorted(mark.read_text().split()) == ["__main__", "__mp_main__", "__mp_main__"], (
        "the script ran once, and the pool's two workers imported it; the helper did not"
    )
    _assert_compiled_with_the_helper(got, "spawn")
    cached = [p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cached and max(cached) <= got["compiled_at"][0], "a worker wrote the kernel cache: it compiled, not loaded"

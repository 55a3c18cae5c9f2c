"""Where the cold-start compile time goes: numba's own event timers, per function and per pass.

    python -m simulation.bench.compiletimes [--what run|floor|both] [--json FILE] [--no-cold-start]

First, what a first run waits for: the warm-up as `scsim` does it (`simulation/engine/precompile.py`:
on two or more cores a helper process compiles part of the month loop meanwhile), wall-clock, in a
fresh process with an empty cache. Then where the time goes, compiled in one process:

Runs in a fresh child process whose kernel cache is an empty temporary folder (`SCSIM_CACHE_DIR`),
compiles what `--what` needs (`run`: the month loop, as the first `scsim run` does; `floor`: the
bench's floor kernel too) and listens to numba's events (`numba.core.event`):

- `numba:compile`: one per specialisation a dispatcher compiles (its argument types);
- `numba:run_pass`: every compiler pass of every function (type inference, inlining, lowering, ...);
- `numba:llvm_lock`: the time spent in LLVM (optimisation and machine code), inside the above.

Events nest (typing a kernel compiles the kernels it calls), so each event's *own* time is its
duration minus that of the events inside it; the own times add up to the whole compile. Times
are CPU seconds of the process (compiling is single-threaded), so that other load on a shared
machine does not inflate them; the wall-clock time is printed beside. The
report gives, per function, the specialisations compiled and the own seconds in numba's passes
and in LLVM, and per pass the seconds over all functions. See docs/speed.md for the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r"""
import json, sys, time
from collections import defaultdict
t_import = time.perf_counter()
from numba.core import event as ev
what = sys.argv[1]

stack = []          # frames: [kind, label, function, start, child_seconds]
own = defaultdict(float)       # (kind, label, function) -> own seconds
compiles = defaultdict(list)   # function -> argument-type signatures compiled
inclusive = defaultdict(float) # function -> seconds of its numba:compile events (callees included)

class Listener(ev.Listener):
    def on_start(self, event):
        d = event.data or {}
        if event.kind == "numba:compile":
            fn = d["dispatcher"].py_func
            func = f"{fn.__module__}.{fn.__qualname__}"
            label = "compile"
            compiles[func].append(str(d.get("args")))
        elif event.kind == "numba:run_pass":
            func = f"{d.get('module')}.{d.get('qualname')}"
            label = d["name"].split(" [")[0]
        else:  # llvm_lock, compiler_lock: the function is that of the enclosing frame
            func = stack[-1][2] if stack else "?"
            label = event.kind.split(":")[1]
        stack.append([event.kind, label, func, time.process_time(), 0.0])

    def on_end(self, event):
        kind, label, func, t0, inner = stack.pop()
        dt = time.process_time() - t0
        own[(kind, label, func)] += dt - inner
        if stack:
            stack[-1][4] += dt
        if kind == "numba:compile":
            inclusive[func] += dt

listener = Listener()
for kind in ("numba:compile", "numba:run_pass", "numba:llvm_lock"):
    ev.register(kind, listener)

from simulation.scenario.loader import load_scenario
from simulation.engine.simulate import simulate
from simulation.engine.kernels.step import run, first_month
t0 = time.perf_counter()
r = load_scenario(sys.argv[2])
t1, c1 = time.perf_counter(), time.process_time()
simulate(r, 0, kernel=first_month)
t_run, c_run = time.perf_counter() - t1, time.process_time() - c1
t_floor = c_floor = 0.0
if what in ("floor", "both"):
    from simulation.bench.model import BENCH_SCENARIO, kernel_time
    from simulation.scenario.shipped import shipped_file
    from simulation.engine.simulate import new_acc
    from simulation.engine.world import build
    from simulation.bench.floor import floor_months
    from simulation.engine.kernels.pcg import steps_between
    base = load_scenario(str(shipped_file(BENCH_SCENARIO)))
    P, cal, _, ref, R, _ = build(base, 1)
    before = R.policy.bit_generator.state
    run(0, cal.n_months, P, ref, new_acc(cal.n_years), R)
    draws = steps_between(before, R.policy.bit_generator.state)
    n_t = int(ref.cnt[0])
    log = (ref.t_country[:n_t].copy(), ref.t_domain[:n_t].copy(), ref.t_type[:n_t].copy(), ref.t_deadline[:n_t].copy())
    P, cal, _, S, R, _ = build(base, 1)
    t2, c2 = time.perf_counter(), time.process_time()
    from simulation.engine.kernels.refs import pack
    floor_months(0, 1, pack(P), pack(S), pack(new_acc(cal.n_years)), R, pack(new_acc(cal.n_years)), *log, draws)
    t_floor, c_floor = time.perf_counter() - t2, time.process_time() - c2
from simulation.engine.kernels import step
import numba
disp = {}
for mod in list(sys.modules.values()):
    if getattr(mod, "__name__", "").startswith("simulation.engine.kernels"):
        for name, obj in vars(mod).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.py_func.__module__ == mod.__name__:
                disp[f"{mod.__name__}.{obj.py_func.__qualname__}"] = len(obj.overloads)
print(json.dumps({"run_s": t_run, "floor_s": t_floor, "run_cpu_s": c_run, "floor_cpu_s": c_floor,
                  "own": [[k[0], k[1], k[2], v] for k, v in own.items()],
                  "compiles": compiles, "inclusive": inclusive, "overloads": disp}))
"""


def _cold_child(code: str, *args: str) -> dict:
    """Run `code` in a fresh Python whose kernel cache is an empty temporary folder; its last line of
    output (JSON), with the process's wall-clock time."""
    with tempfile.TemporaryDirectory(prefix="scsim-compile-") as tmp:
        env = dict(os.environ, SCSIM_CACHE_DIR=tmp)
        env.pop("NUMBA_CACHE_DIR", None)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    return out


def measure(what: str = "run", scenario: str | None = None) -> dict:
    """Compile from an empty cache in a fresh process and return numba's timers (see module doc)."""
    return _cold_child(_CHILD, what, scenario or str(ROOT / "scenarios" / "no_plan.yaml"))


_COLD_START = r"""
import json, sys, time
t0 = time.perf_counter()
from simulation.engine.precompile import usable_cores
from simulation.engine.warmup import warm_up
from simulation.scenario.loader import load_scenario
r = load_scenario(sys.argv[1])
t1, c1 = time.perf_counter(), time.process_time()
warm_up(r, show=False)
print(json.dumps({"import_s": t1 - t0, "warm_up_s": time.perf_counter() - t1, "cpu_s": time.process_time() - c1,
                  "cores": usable_cores()}))
"""


def cold_start(scenario: str | None = None) -> dict:
    """What a first run waits for: the warm-up (`engine/precompile.py`, with its helper process when
    there are two cores) in a fresh process with an empty cache, in wall-clock seconds."""
    return _cold_child(_COLD_START, scenario or str(ROOT / "scenarios" / "no_plan.yaml"))


def summarise(res: dict) -> dict:
    funcs: dict[str, dict] = defaultdict(lambda: {"numba_s": 0.0, "llvm_s": 0.0, "specialisations": 0})
    passes: dict[str, float] = defaultdict(float)
    for kind, label, func, sec in res["own"]:
        f = funcs[func]
        if kind == "numba:llvm_lock":
            f["llvm_s"] += sec
            passes["(LLVM)"] += sec
        else:
            f["numba_s"] += sec
            passes[label if kind == "numba:run_pass" else "(dispatch, outside passes)"] += sec
    for func, sigs in res["compiles"].items():
        funcs[func]["specialisations"] = len(sigs)
        funcs[func]["inclusive_s"] = res["inclusive"].get(func, 0.0)
    total = sum(f["numba_s"] + f["llvm_s"] for f in funcs.values())
    return {"total_s": total, "functions": dict(funcs), "passes": dict(passes)}


def format_report(res: dict, top: int = 25) -> str:
    s = summarise(res)
    from simulation.bench.model import machine

    m = machine()
    cold = res.get("cold_start")
    lines = (
        [
            f"first run's warm-up from an empty cache, as `scsim` does it ({cold['cores']} cores, "
            f"{'a helper process compiling part' if cold['cores'] >= 2 else 'no helper process'}): "
            f"{cold['warm_up_s']:.1f} s wall (this process {cold['cpu_s']:.1f} s CPU); the whole process "
            f"{cold['process_wall_s']:.1f} s",
            "the month loop compiled in one process, where the time goes:",
        ]
        if cold
        else []
    )
    lines += [
        f"cold compile on {m['cpu']} ({m['cores']} cores), numba {m['versions'].get('numba')}: "
        f"first month of a run {res['run_cpu_s']:.1f} s CPU ({res['run_s']:.1f} s wall)"
        + (f", floor kernel {res['floor_cpu_s']:.1f} s CPU ({res['floor_s']:.1f} s wall)" if res["floor_s"] else "")
        + f"; the whole child process {res['process_wall_s']:.1f} s; numba's events account for {s['total_s']:.1f} s CPU",
        "",
        f"{'function (own time: callees excluded)':<52} {'spec.':>5} {'numba s':>8} {'LLVM s':>7} {'total s':>8} {'incl. s':>8}  (CPU)",
    ]
    rows = sorted(s["functions"].items(), key=lambda kv: -(kv[1]["numba_s"] + kv[1]["llvm_s"]))
    for func, f in rows[:top]:
        name = func.removeprefix("simulation.engine.kernels.")
        lines.append(
            f"{name[:52]:<52} {f['specialisations']:>5} {f['numba_s']:>8.2f} {f['llvm_s']:>7.2f} "
            f"{f['numba_s'] + f['llvm_s']:>8.2f} {f.get('inclusive_s', 0.0):>8.2f}"
        )
    rest = rows[top:]
    if rest:
        lines.append(
            f"{'(' + str(len(rest)) + ' more functions)':<52} {sum(f['specialisations'] for _, f in rest):>5} "
            f"{sum(f['numba_s'] for _, f in rest):>8.2f} {sum(f['llvm_s'] for _, f in rest):>7.2f} "
            f"{sum(f['numba_s'] + f['llvm_s'] for _, f in rest):>8.2f}"
        )
    lines += ["", f"{'compiler pass (all functions)':<52} {'s':>8} {'share':>7}"]
    for name, sec in sorted(s["passes"].items(), key=lambda kv: -kv[1])[:15]:
        lines.append(f"{name[:52]:<52} {sec:>8.2f} {sec / s['total_s'] * 100:>6.1f}%")
    multi = {f: sigs for f, sigs in res["compiles"].items() if len(sigs) > 1}
    lines += [
        "",
        f"functions compiled more than once: {len(multi)} of {len(res['compiles'])} "
        f"({sum(len(v) for v in res['compiles'].values())} compiles in all)",
    ]
    for func, sigs in sorted(multi.items(), key=lambda kv: -len(kv[1]))[:15]:
        lines.append(f"  {func.removeprefix('simulation.engine.kernels.')}: {len(sigs)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulation.bench.compiletimes", description=__doc__.split("\n\n")[0])
    p.add_argument("--what", choices=["run", "floor", "both"], default="run")
    p.add_argument("--scenario", default=None)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--json", default=None, help="also write the raw timers here")
    p.add_argument(
        "--no-cold-start", action="store_true", help="leave out the warm-up as a first run does it (two processes)"
    )
    args = p.parse_args(argv)
    res = measure(args.what, args.scenario)
    if not args.no_cold_start:
        res["cold_start"] = cold_start(args.scenario)
    print(format_report(res, args.top))
    if args.json:
        Path(args.json).write_text(json.dumps({**res, "summary": summarise(res)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

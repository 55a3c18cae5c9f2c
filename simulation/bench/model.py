"""`scsim bench`: how fast the engine is, against the plain-Python model and against its floor.

Everything is measured in one process on one machine, with warm-up, repeats and medians, so
that ratios hold even when the machine is noisy. Start-up and peak memory are measured as
whole processes. See README "Performance" for the figures and the command.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulation.engine.simulate import new_acc
from simulation.engine.world import build
from simulation.scenario.loader import Resolved, load_scenario
from simulation.scenario.shipped import shipped_file

BENCH_SCENARIO = "plan_2019_announced"  # the shipped scenario every measurement runs


@dataclass
class Timing:
    median: float
    low: float
    high: float
    repeats: int

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": self.low, "max_s": self.high, "repeats": self.repeats}


def timed(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return Timing(statistics.median(times), min(times), max(times), repeats)


def sized(r: Resolved, seed: int):
    """The pools' capacity this run needs (grown as `simulate` grows it), found outside any clock."""
    from simulation.engine.kernels.step import run

    cap = None
    while True:
        P, cal, _, S, R, cap = build(r, seed, cap)
        code = run(0, cal.n_months, P, S, new_acc(cal.n_years), R)
        if code == 0:
            return cap
        cap = cap.after_overflow(code)


def kernel_time(r: Resolved, seed: int, kernel: Callable, repeats: int, warmup: int = 1) -> tuple[Timing, Any]:
    """Time the monthly steps only (the world is built outside the clock, identically for every kernel,
    with pools as large as the run needs)."""
    last = {}
    cap = sized(r, seed)

    def once():
        P, cal, table, S, R, _ = build(r, seed, cap)
        A = new_acc(cal.n_years)
        t = time.perf_counter()
        code = kernel(0, cal.n_months, P, S, A, R)
        last["t"] = time.perf_counter() - t
        last["A"], last["code"] = A, code

    for _ in range(warmup):
        once()
    times = []
    for _ in range(repeats):
        once()
        times.append(last["t"])
    if last["code"] != 0:
        raise RuntimeError("a pool overflowed during the benchmark; the bench world is too large for its estimate")
    return Timing(statistics.median(times), min(times), max(times), repeats), last["A"]


def load_oracle():
    """The plain-Python reference model's kernel (simulation/reference), which the kernels match bit for bit."""
    from simulation.reference.oracle import oracle_kernel

    return oracle_kernel


def synthetic_countries(n: int, out: Path, referenced: set[str]) -> Path:
    """A country table of n rows: the real table, trimmed (keeping countries scenarios name) or extended
    with copies of real rows under new codes (flags cleared), so that scaling runs need no other change."""
    from simulation.scenario.countries import COLUMNS, builtin_path

    with open(builtin_path(), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if n <= len(rows):
        keep = [r for r in rows if r["iso3"] in referenced]
        rest = sorted((r for r in rows if r["iso3"] not in referenced), key=lambda r: -float(r["market_weight"]))
        rows = (keep + rest)[:n]
    else:
        rng = np.random.default_rng(12345)
        used = {r["iso3"] for r in rows}
        extra = []
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        codes = (a + b + c for a in "QXZ" for b in letters for c in letters)
        while len(rows) + len(extra) < n:
            src = dict(rows[int(rng.integers(len(rows)))])
            code = next(codes)
            if code in used:
                continue
            used.add(code)
            src.update(
                iso3=code,
                name=f"Synthetic {code}",
                mou_date="",
                kotra_centre_2020="0",
                kotra_plan_2019="0",
                kind_centre="0",
                market_weight=f"{float(src['market_weight']) * float(rng.uniform(0.5, 1.5)):.4f}",
            )
            extra.append(src)
        rows = rows + extra
    path = out / f"countries_{n}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path


REFERENCED = {"KWT", "MYS", "NLD", "THA", "VNM", "IDN", "PHL", "TUR", "UZB", "SAU", "KEN", "PER", "OMN", "CHN"}


def scaled(base: Resolved, firms: int, countries: int, workdir: Path) -> Resolved:
    """The default scenario with more firms and countries; tender volume grows with the countries."""
    path = synthetic_countries(countries, workdir, REFERENCED)
    share = base.scenario.market.addressable_share * countries / 68.0
    return load_scenario(
        str(shipped_file(BENCH_SCENARIO)),
        [f"world.n_firms={firms}", f"world.countries_file={path}", f"market.addressable_share={share}"],
    )


_PEAK_CHILD = """
import json, resource, sys, time
from simulation.scenario.loader import load_scenario
from simulation.engine.simulate import simulate
r = load_scenario(sys.argv[1], json.loads(sys.argv[2]))
simulate(r, 1)
t = time.perf_counter(); simulate(r, 2); dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
try:  # Linux: this process's own high-water mark (ru_maxrss may carry the parent's over fork/exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024.0
except OSError:
    pass
print(json.dumps({"seconds": dt, "peak_rss_mb": peak}))
"""


def child_env(env: dict[str, str]) -> dict[str, str]:
    """`env` with this very package first on PYTHONPATH, so a child process imports it, installed or not."""
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([here] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def peak_memory(scenario: str, overrides: list[str]) -> dict:
    """Peak resident memory (and run time) of a whole process that builds and runs the scenario twice."""
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, scenario, json.dumps(overrides)],
        capture_output=True,
        text=True,
        env=child_env(dict(os.environ)),
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "child failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup(repeats: int = 3) -> dict:
    """`scsim run` as a whole process: first with an empty kernel cache (compiling), then cached."""
    with tempfile.TemporaryDirectory(prefix="scsim-bench-") as tmp:
        env = dict(os.environ, SCSIM_CACHE_DIR=str(Path(tmp) / "cache"))  # an empty kernel cache
        env.pop("NUMBA_CACHE_DIR", None)
        env.pop("SCSIM_NUMBA_CACHE", None)
        env = child_env(env)
        cmd = [
            sys.executable,
            "-m",
            "simulation",
            "run",
            str(shipped_file("no_plan")),
            "--quiet",
            "--no-report",
            "--force",
            "--out",
        ]
        times = []
        for k in range(1 + repeats):
            t = time.perf_counter()
            proc = subprocess.run(cmd + [str(Path(tmp) / f"out{k}")], env=env, capture_output=True, text=True, cwd=tmp)
            times.append(time.perf_counter() - t)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr.strip())
    return {"first_s": times[0], "cached_median_s": statistics.median(times[1:]), "cached_runs": repeats}


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from simulation.experiment.outputs import versions

    return {
        "cpu": cpu,
        "cpu_short": short_cpu(cpu),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d"),
    }


def short_cpu(cpu: str) -> str:
    """The CPU model without trademarks and clock, to print beside each figure: "Intel Xeon", "AMD EPYC 7B13"."""
    for junk in ("(R)", "(r)", "(TM)", "(tm)", " CPU", " Processor", " processor"):
        cpu = cpu.replace(junk, "")
    cpu = re.sub(r"\s+\d+-Core\b|\s*@.*$", "", cpu)
    return " ".join(cpu.split()) or "unknown CPU"


def run_bench(
    repeats: int = 7, quick: bool = False, with_startup: bool = True, echo: Callable[[str], None] = print
) -> dict:
    from simulation.bench.floor import floor_months
    from simulation.engine.kernels.pcg import steps_between
    from simulation.engine.kernels.refs import pack
    from simulation.engine.kernels.step import run

    out: dict[str, Any] = {"machine": machine()}
    cpu = out["machine"]["cpu_short"]
    plain_echo = echo

    def echo(line: str) -> None:  # noqa: F811 - every figure line says which CPU it was measured on
        plain_echo(f"{line}   [{cpu}]" if line.startswith("   ") else line)

    default = str(shipped_file(BENCH_SCENARIO))
    base = load_scenario(default)
    seed = 1

    echo("1. default run (plan_2019_announced, 12 years): world + kernel, and kernel only")
    from simulation.engine.simulate import simulate

    whole = timed(lambda: simulate(base, seed), repeats)
    steps, A = kernel_time(base, seed, run, repeats)
    out["default_run"] = {
        "whole_run": whole.as_dict(),
        "kernel": steps.as_dict(),
        "candidate_evaluations": float(A.candidates.sum()),
    }
    echo(
        f"   whole run {whole.median * 1e3:.1f} ms (min {whole.low * 1e3:.1f}, max {whole.high * 1e3:.1f}); "
        f"kernel {steps.median * 1e3:.2f} ms"
    )

    echo("2. against the plain-Python model (simulation/reference/oracle.py), same world, seeds and months")
    oracle = load_oracle()
    # interleaved: each plain-Python run next to compiled runs, so that a machine whose speed
    # drifts over minutes (shared cores) changes both sides of the ratio alike
    ratios, py_times, nb_times = [], [], []
    for _ in range(max(1, repeats // 3 if not quick else 1)):
        nb, _ = kernel_time(base, seed, run, 5, warmup=0)
        py, A_py = kernel_time(base, seed, oracle, 1, warmup=0)
        ratios.append(py.median / nb.median)
        py_times.append(py.median)
        nb_times.append(nb.median)
    same = all(np.array_equal(getattr(A, f), getattr(A_py, f)) for f in A._fields)
    py = Timing(statistics.median(py_times), min(py_times), max(py_times), len(py_times))
    out["python_model"] = {
        "kernel": py.as_dict(),
        "identical_results": same,
        "paired_kernel_median_s": statistics.median(nb_times),
        "paired_ratios": ratios,
    }
    out["speedup_vs_python"] = statistics.median(ratios)
    echo(
        f"   plain Python {py.median:.3f} s; numba {statistics.median(nb_times) * 1e3:.2f} ms alongside; "
        f"speed-up {out['speedup_vs_python']:.0f}x, median of {len(ratios)} paired ratios "
        f"({min(ratios):.0f}-{max(ratios):.0f}x; results identical: {same})"
    )

    echo("3. against the floor: the same draws and array reads/writes, no decisions")
    P, cal, _, ref, R, _ = build(base, seed)
    before = R.policy.bit_generator.state
    if run(0, cal.n_months, P, ref, new_acc(cal.n_years), R) != 0:
        raise RuntimeError("a pool overflowed during the benchmark's reference run")
    policy_draws = steps_between(before, R.policy.bit_generator.state)
    n_t = int(ref.cnt[0])
    log = (ref.t_country[:n_t].copy(), ref.t_domain[:n_t].copy(), ref.t_type[:n_t].copy(), ref.t_deadline[:n_t].copy())
    ref_acc = pack(A)
    floor = lambda m0, m1, P, S, Acc, R: floor_months(  # noqa: E731
        m0, m1, pack(P), pack(S), pack(Acc), R, ref_acc, *log, policy_draws
    )
    kernel_time(base, seed, floor, 1)  # compile
    # paired like item 2: each floor timing next to a model timing, the ratio per pair
    pairs, fl_times = [], []
    for _ in range(max(3, repeats)):
        nb, _ = kernel_time(base, seed, run, 3, warmup=0)
        fl, _ = kernel_time(base, seed, floor, 3, warmup=0)
        pairs.append(nb.median / fl.median)
        fl_times.append(fl.median)
    fl = Timing(statistics.median(fl_times), min(fl_times), max(fl_times), len(fl_times))
    out["floor"] = {"kernel": fl.as_dict(), "paired_ratios": pairs}
    out["ratio_to_floor"] = statistics.median(pairs)
    echo(
        f"   floor {fl.median * 1e3:.2f} ms; model / floor = {out['ratio_to_floor']:.2f}, median of {len(pairs)} "
        f"paired ratios ({min(pairs):.2f}-{max(pairs):.2f})"
    )

    echo("4. scaling: firms and countries (tender volume grows with countries)")
    sizes = [(1_000, 68), (10_000, 68), (100_000, 68), (10_000, 50), (10_000, 200), (10_000, 1_000), (100_000, 200)]
    if quick:
        sizes = [(1_000, 68), (10_000, 68), (10_000, 200)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="scsim-bench-") as tmp:
        for firms, countries in sizes:
            r = scaled(base, firms, countries, Path(tmp))
            # medians of 3 (a world's first build pays first-touch page faults; the median does not)
            small_world = firms * countries <= 2_000_000
            t_build = timed(lambda r=r: build(r, seed), 3, warmup=1 if small_world else 0)
            t_kernel, A_s = kernel_time(r, seed, run, 3, warmup=1 if small_world else 0)
            cand = float(A_s.candidates.sum())
            row = {
                "firms": firms,
                "countries": countries,
                "build_s": t_build.median,
                "kernel_s": t_kernel.median,
                "run_s": t_build.median + t_kernel.median,
                "candidate_evaluations": cand,
                "ns_per_candidate": t_kernel.median / cand * 1e9 if cand else None,
            }
            rows.append(row)
            echo(
                f"   {firms:>7,} firms x {countries:>5} countries: run {row['run_s']:.2f} s "
                f"(world {t_build.median:.2f} s + steps {t_kernel.median:.2f} s), "
                f"{cand / 1e6:.1f} M candidate evaluations, {row['ns_per_candidate']:.1f} ns each"
            )
        out["scaling"] = rows
        if not quick:
            # the linearity check, paired like items 2 and 3: 10k- and 100k-firm runs alternate, so a
            # machine whose speed drifts changes both sides of each ratio alike; each side of a pair
            # is the median of 3 runs (a single run on one side only would take its spikes unfiltered)
            out["scaling_ratio"] = {}
            for countries in (68, 200):
                small, large = scaled(base, 10_000, countries, Path(tmp)), scaled(base, 100_000, countries, Path(tmp))
                pairs = []
                for _ in range(max(5, repeats // 3)):
                    t_small = timed(lambda small=small: simulate(small, seed), 3, warmup=0)
                    t_large = timed(lambda large=large: simulate(large, seed), 3, warmup=0)
                    pairs.append(t_large.median / t_small.median)
                out["scaling_ratio"][str(countries)] = {"paired_ratios": pairs, "median": statistics.median(pairs)}
                echo(
                    f"   10k -> 100k firms at {countries} countries: {statistics.median(pairs):.1f}x the run time, "
                    f"median of {len(pairs)} paired ratios ({min(pairs):.1f}-{max(pairs):.1f}x; target <= 11x)"
                )
        big = (100_000, 200) if not quick else None
        if big:
            r = scaled(base, *big, Path(tmp))
            path = Path(tmp) / f"countries_{big[1]}.csv"
            mem = peak_memory(
                default,
                [
                    f"world.n_firms={big[0]}",
                    f"world.countries_file={path}",
                    f"market.addressable_share={base.scenario.market.addressable_share * big[1] / 68.0}",
                ],
            )
            out["largest_world"] = {"firms": big[0], "countries": big[1], **mem}
            echo(
                f"   largest world {big[0]:,} x {big[1]}: {mem['seconds']:.2f} s per run, peak {mem['peak_rss_mb']:.0f} MB"
            )

    echo("5. memory: peak resident memory of a default run (whole process)")
    out["default_memory"] = peak_memory(default, [])
    echo(f"   {out['default_memory']['peak_rss_mb']:.0f} MB")

    if with_startup:
        echo("6. start-up: `scsim run` as a whole process, first (compiling) and cached")
        out["startup"] = startup(1 if quick else 3)
        echo(f"   first {out['startup']['first_s']:.1f} s, cached {out['startup']['cached_median_s']:.2f} s")
    for key in ("default_run", "python_model", "floor", "largest_world", "default_memory", "startup"):
        if isinstance(out.get(key), dict):
            out[key]["cpu"] = cpu
    for row in out.get("scaling", []):
        row["cpu"] = cpu
    for sr in out.get("scaling_ratio", {}).values():
        sr["cpu"] = cpu
    return out


def format_table(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"scsim bench on {m['cpu']} ({m['cores']} cores), {m['date']}, "
        f"numba {m['versions'].get('numba')}, Python {m['versions'].get('python')}",
        "",
    ]
    d = res["default_run"]
    lines.append(
        f"{'default 12-year run (whole: world + steps)':<48} {d['whole_run']['median_s'] * 1e3:9.1f} ms "
        f"(min {d['whole_run']['min_s'] * 1e3:.1f}, max {d['whole_run']['max_s'] * 1e3:.1f}, n={d['whole_run']['repeats']})"
    )
    lines.append(f"{'default run, monthly steps only':<48} {d['kernel']['median_s'] * 1e3:9.2f} ms")
    if res.get("speedup_vs_python"):
        lines.append(
            f"{'plain-Python model, steps only':<48} {res['python_model']['kernel']['median_s'] * 1e3:9.0f} ms"
            f"   speed-up {res['speedup_vs_python']:.0f}x (target >= 200x)"
        )
    lines.append(
        f"{'floor (same draws and array traffic)':<48} {res['floor']['kernel']['median_s'] * 1e3:9.2f} ms"
        f"   model/floor {res['ratio_to_floor']:.2f} (target <= 2)"
    )
    lines.append("")
    lines.append(
        f"{'firms':>8} {'countries':>9} {'run s':>8} {'world s':>8} {'steps s':>8} {'M cand.':>8} {'ns/cand':>8}"
    )
    for r in res.get("scaling", []):
        lines.append(
            f"{r['firms']:>8,} {r['countries']:>9} {r['run_s']:>8.2f} {r['build_s']:>8.2f} {r['kernel_s']:>8.2f} "
            f"{r['candidate_evaluations'] / 1e6:>8.1f} {r['ns_per_candidate']:>8.1f}"
        )
    for countries, sr in res.get("scaling_ratio", {}).items():
        lines.append(
            f"10k -> 100k firms at {countries} countries: {sr['median']:.1f}x the whole-run time "
            f"(paired, {min(sr['paired_ratios']):.1f}-{max(sr['paired_ratios']):.1f}x; target <= 11x)"
        )
    if "largest_world" in res:
        lw = res["largest_world"]
        lines.append(
            f"largest world {lw['firms']:,} firms x {lw['countries']} countries x 12 years: "
            f"{lw['seconds']:.2f} s, peak {lw['peak_rss_mb']:.0f} MB (targets <= 2 s, <= 2 GB)"
        )
    lines.append(f"default run peak memory: {res['default_memory']['peak_rss_mb']:.0f} MB")
    if "startup" in res:
        s = res["startup"]
        lines.append(
            f"start-up of `scsim run`: first (compiling) {s['first_s']:.1f} s, cached {s['cached_median_s']:.2f} s "
            "(target < 5 s)"
        )
    # the CPU beside every figure: figures from different machines are not comparable
    cpu = m.get("cpu_short") or short_cpu(m["cpu"])
    tagged = [lines[0]]
    for line in lines[1:]:
        if not line:
            tagged.append(line)
        elif line.split()[0] == "firms":
            tagged.append(f"{line}   CPU")
        else:
            tagged.append(f"{line}   [{cpu}]")
    return "\n".join(tagged)

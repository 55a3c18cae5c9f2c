"""Shared helpers for the tests: load shipped scenarios with overrides, run them, read tables."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path

import pandas as pd

from simulation.engine.metrics import tidy
from simulation.engine.simulate import simulate
from simulation.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def in_process(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`scsim ARGS` as `main(ARGS)` in this process, run from CWD with its output captured: exit
    status, stdout, stderr (no second of imports for a new process)."""
    from simulation.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as stop:  # argparse's own refusals
                code = stop.code if isinstance(stop.code, int) else 1
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


# `scsim ARGS` as `python -m simulation` runs it, in a fresh process whose last line of output lists
# which of the given modules had been imported when the command ended (a refusal should come before
# the libraries the work needs)
_RUN_AND_LIST_IMPORTS = (
    "import sys\n"
    "from simulation.cli import main\n"
    "watched = sys.argv[1].split(',')\n"
    "status = main(sys.argv[2:])\n"
    "print([m for m in watched if m in sys.modules])\n"
    "sys.exit(status)\n"
)


def run_and_list_imports(
    *args: str, modules: tuple[str, ...], cwd: Path, timeout: float = 300
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """(the finished command, which of `modules` it had imported when it ended)."""
    import ast
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_IMPORTS, ",".join(modules), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = proc.stdout.strip().splitlines()
    return proc, (ast.literal_eval(lines[-1]) if lines else [])


def load(name: str, *overrides: str):
    return load_scenario(str(SCENARIOS / f"{name}.yaml"), list(overrides), shown=f"scenarios/{name}.yaml")


def table(name: str, seed: int, *overrides: str) -> pd.DataFrame:
    return tidy(simulate(load(name, *overrides), seed), run=seed)


def total(frame: pd.DataFrame, metric: str, group: str = "all") -> float:
    sel = frame[(frame["metric"] == metric) & (frame["group"] == group)]
    return float(sel["value"].sum())


def pool_workers(pid: int | None = None) -> list:
    """The local pool's worker processes under process `pid` (this one by default): forks of its
    fork server (`executors.worker_context`), or spawned ones where there is no fork server."""
    import psutil

    def command(p: psutil.Process) -> set[str]:
        return set(" ".join(p.cmdline()).replace(".", " ").replace(";", " ").split())

    found = []
    for p in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            parent = p.parent()
            if "spawn_main" in command(p) or parent is not None and "forkserver" in command(parent):
                found.append(p)
    return found


def worker_state(_: object = None) -> dict:
    """Run in a pool worker: its parent, and whether the month loop was loaded before this call."""
    import sys

    from simulation.engine.kernels.step import run_months

    return {"pid": os.getpid(), "ppid": os.getppid(), "loaded": bool(run_months.signatures), "argv": sys.argv}


def drop_runs(store, keys) -> list[str]:
    """Take runs out of a results store, as if they had never finished: each file that holds one is
    written again without it (or removed). The names of the files left untouched are returned."""
    from simulation.experiment.store import stored_runs

    keys = set(keys)
    untouched = []
    for name, held in store.run_files().items():
        if not keys & set(held):
            untouched.append(name)
            continue
        path = store.runs_dir / name
        keep = [r for r in stored_runs(path) if r.key not in keys] if len(held) > 1 else []
        path.unlink()
        if keep:
            store.write_runs(keep)
    return untouched

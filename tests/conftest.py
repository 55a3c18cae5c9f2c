"""Session set-up: compile the kernels once before the pytest-xdist workers start, and hand out the
longest test files first.

The suite runs on pytest-xdist workers (`-n auto` in pyproject.toml). On a cold kernel cache every
worker would compile the month loop itself, all at once (about a minute of CPU each); instead the
controller compiles it once, in a child process, before the workers start, and they load it from
the shared on-disk cache (simulation/engine/kernels/__init__.py).

pytest-xdist gives each worker whole files (`--dist loadfile`), in collection order. A file of a few
long tests left to the end keeps one worker busy while the other has finished, so the files that
take longest start first (longest processing time first) and the short ones fill in at the end.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WARM = (
    "from simulation.engine.warmup import warm_up\n"
    "from simulation.scenario.loader import load_scenario\n"
    f"warm_up(load_scenario({str(ROOT / 'scenarios' / 'no_plan.yaml')!r}), show=True)\n"
)


# the files that take longest, longest first (`python -m pytest --durations=0`, summed by file); a
# file not listed, or a list out of date, costs only balance between the workers, never a test.
# test_report.py reads the folders test_figures.py makes (tests/report_data.py, once per session):
# it comes later, so that the folders are there when it starts rather than made while it waits
LONGEST_FIRST = (
    "test_planning.py",
    "test_lever_cards.py",
    "test_hardening.py",
    "test_scenario_fuzz.py",
    "test_calibration.py",
    "test_precompile.py",
    "test_figures.py",
    "test_sweep.py",
    "test_bench.py",
    "test_wheel.py",
    "test_validation.py",
    "test_sweep_cli.py",
    "test_report.py",
    "test_bad_input.py",
    "test_reports_agree.py",
    "test_app.py",
    "test_engine.py",
    "test_slurm.py",
    "test_cli_campaign.py",
    "test_analyze.py",
    "test_oracle.py",
)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order


def compile_package() -> None:
    """Write the package's bytecode once, for every process the suite starts.

    With PYTHONDONTWRITEBYTECODE set (as on the CI machines) Python never writes `__pycache__`, so
    each of the suite's ~200 processes (CLI commands, pool and Dask workers) compiled the package's
    ~29,000 lines from source again: about 0.3 s of CPU each. `compileall` writes the files whatever
    the flag says, and every process then reads them as an ordinary install's would."""
    compileall.compile_dir(ROOT / "simulation", quiet=1)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    is_controller = not hasattr(config, "workerinput")
    workers = config.getoption("numprocesses", default=None) if config.pluginmanager.has_plugin("xdist") else None
    if is_controller:
        compile_package()
    if is_controller and workers:
        subprocess.run([sys.executable, "-c", WARM], cwd=ROOT, check=True)

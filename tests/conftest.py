"""Session set-up: with several pytest-xdist workers, compile the kernels once before they start.

The suite runs on pytest-xdist workers (`-n auto` in pyproject.toml). On a cold kernel cache every
worker would compile the month loop itself, all at once (about a minute of CPU each); instead the
controller compiles it once, in a child process, before the workers start, and they load it from
the shared on-disk cache (simulation/engine/kernels/__init__.py).
"""

from __future__ import annotations

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


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    is_controller = not hasattr(config, "workerinput")
    workers = config.getoption("numprocesses", default=None) if config.pluginmanager.has_plugin("xdist") else None
    if is_controller and workers:
        subprocess.run([sys.executable, "-c", WARM], cwd=ROOT, check=True)

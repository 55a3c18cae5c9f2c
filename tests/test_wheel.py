"""An installed wheel works on its own: `scsim run`, `scsim bench` and `SmartCityModel()` from a
folder far from the clone, reading only what the wheel installed (shipped scenarios under
`<venv>/share/scsim`, the country table as package data).

The wheel is built from a copy of the sources (setuptools writes build/ beside them) and installed
into a venv that borrows the dependencies from this Python (`--system-site-packages`), so nothing
is downloaded when the build backend is at hand (`.[test]` brings setuptools and wheel). The three
commands share one numba cache in the temporary folder: the first compiles, the others reuse it.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "simulation", "scenarios", "experiments")
TINY = ["--set", "time.end=2021-12", "--set", "world.n_firms=300"]  # 2019-07 to 2021 with 300 firms


def _backend_at_hand() -> bool:
    """Whether this Python can build the wheel without fetching setuptools (offline CI)."""
    try:
        version = tuple(int(x) for x in md.version("setuptools").split(".")[:2])
    except md.PackageNotFoundError:
        return False
    if version >= (70, 1):  # bdist_wheel moved into setuptools
        return True
    try:
        md.version("wheel")
    except md.PackageNotFoundError:
        return False
    return version >= (68, 0)


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        here = ROOT / name
        if here.is_dir():
            shutil.copytree(here, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
        else:
            shutil.copy2(here, src / name)
    isolation = ["--no-build-isolation"] if _backend_at_hand() else []
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(tmp / "dist"), str(src)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 and not isolation:
        pytest.skip(
            "no build backend here and none to download: pip install 'setuptools>=70.1'\n" + proc.stderr[-2000:]
        )
    assert proc.returncode == 0, proc.stderr
    return next((tmp / "dist").glob("scsim-*.whl"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """(the venv's bin folder, an environment for it, a working folder outside the clone)."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env_dir)], check=True)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(bin_dir / "python"),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR", "VIRTUAL_ENV")}
    env.update(SCSIM_NUMBA_CACHE=str(tmp / "numba"), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    work = tmp / "elsewhere"
    work.mkdir()
    return bin_dir, env, work


def _run(venv: tuple[Path, dict[str, str], Path], *cmd: str) -> subprocess.CompletedProcess:
    bin_dir, env, work = venv
    proc = subprocess.run(
        [str(bin_dir / cmd[0]), *cmd[1:]], cwd=work, env=env, capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
    return proc


@pytest.mark.slow
def test_wheel_runs_a_shipped_scenario_the_mesa_model_and_the_bench(venv) -> None:
    bin_dir, _, work = venv
    out = work / "results"
    _run(venv, "scsim", "run", "plan_2019_announced", *TINY, "--no-report", "--quiet", "--out", str(out))
    yearly = (out / "yearly.csv").read_text().splitlines()
    assert yearly[0].startswith("run,scenario,seed,year,metric") and any(",2021," in row for row in yearly)

    probe = (
        "import json, simulation\n"
        "from simulation.mesa.model import SmartCityModel\n"
        "from simulation.analysis.validation.command import experiment_files\n"
        "from simulation.analysis.levers.command import default_file\n"
        "m = SmartCityModel()\n"
        "m.step()\n"
        "print(json.dumps({'file': simulation.__file__, 'scenario': m.resolved.scenario.name, 'month': m.month,\n"
        "                  'validation': experiment_files([]), 'cards': default_file()}))"
    )
    got = json.loads(_run(venv, "python", "-c", probe).stdout.strip().splitlines()[-1])
    assert Path(got["file"]).is_relative_to(bin_dir.parent), "the venv must import the wheel, not the clone"
    assert got["scenario"] == "plan_2019_announced" and got["month"] == 1
    # the experiments `validate-model` and `levers` read by default are the wheel's copies
    shared = bin_dir.parent / "share" / "scsim" / "experiments"
    assert len(got["validation"]) >= 5 and all(Path(f).parent == shared / "validation" for f in got["validation"])
    assert Path(got["cards"]) == shared / "lever_cards.yaml"

    bench = _run(venv, "scsim", "bench", "--quick", "--no-startup", "--repeats", "1", "--json", str(work / "b.json"))
    assert json.loads((work / "b.json").read_text())["python_model"]["identical_results"] is True, bench.stdout

    docs = subprocess.run(
        [str(bin_dir / "scsim"), "docs", "--check"], cwd=work, env=venv[1], capture_output=True, text=True
    )
    assert docs.returncode == 2 and "source checkout" in docs.stderr and "Traceback" not in docs.stderr

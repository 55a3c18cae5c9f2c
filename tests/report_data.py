"""Small real results folders for the figure and report tests, made once per test session.

- `compare`: no_plan, plan_2019_announced and a pari-passu copy of it (PIS loss order), 3
  replications over the whole horizon, baseline no_plan (about 1 s of runs);
- `run`: no_plan alone, 2 replications to 2021-12;
- `smoke`: experiments/smoke.yaml swept with --no-analysis (the report analyses it itself);
- `sobol`, `morris`: 3 factors on 200 firms to 2021-12, one replication (40 and 16 runs).

Every folder is made through the real CLI (in this process) with --no-report, so the tests
decide when reports are written. Tests that write into a folder copy it first (`fresh`).

The folders are made once per session, not once per pytest-xdist worker: the first worker that
needs them makes them under the session's shared temporary folder (`session_folder`), holding a
file lock, and the others wait for it and read the same folders.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
from filelock import FileLock

from simulation.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "scenarios"
COMPARED = ["no_plan", "plan_2019_announced", "plan_pari_passu"]

MINI = """name: mini_{kind}
base: {base}
set:
  time.end: "2021-12"
  world.n_firms: 200
factors:
  - key: levers.n2_subsidy.ratio.sme
    name: subsidy_ratio_sme
    role: lever
    range: [0.5, 1.0]
  - key: levers.c5_roadshows.per_year
    name: roadshows_per_year
    role: lever
    range: [0, 10]
    integer: true
  - key: competition.strength
    name: competitor_strength
    role: uncertainty
    range: [0.8, 1.2]
design:
{design}
replications: 1
seed: 0
outputs:
  metrics: [bids, wins, win_rate, value_won_krw_bn, public_cost_krw_bn, value_per_public_krw, sme_share_value]
  groups: [all]
"""
DESIGNS = {
    "sobol": "  type: sobol\n  samples: 8\n  seed: 1",
    "morris": "  type: morris\n  samples: 4\n  levels: 4\n  seed: 1",
}


def _ok(argv: list[str]) -> None:
    code = main(argv)
    assert code == 0, f"scsim {' '.join(argv)} exited {code}"


def session_folder(factory: pytest.TempPathFactory) -> Path:
    """The temporary folder every worker of this test session shares: the session's own base temp
    without pytest-xdist, its parent (of the workers' `popen-gw*` folders) with it."""
    base = factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


def build(factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The folders, made once per session (whichever worker asks first); later calls return them."""
    return _build(str(session_folder(factory)))


@functools.cache
def _build(base: str) -> dict[str, Path]:
    root = Path(base) / "report-data"
    out = {k: root / k for k in ("compare", "run", "smoke", "sobol", "morris")}
    with FileLock(f"{root}.lock"):
        done = root / "made"
        if not done.is_file():  # not made yet, or a worker failed while making them: from scratch
            shutil.rmtree(root, ignore_errors=True)
            _make(root, out)
            done.write_text("every folder is complete\n", encoding="utf-8")
    return out


def _make(root: Path, out: dict[str, Path]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    pari = root / "plan_pari_passu.yaml"
    pari.write_text(
        f"extends: {SCEN / 'plan_2019_announced.yaml'}\nname: plan_pari_passu\n"
        "description: The plan as announced with the PIS tranches sharing losses pro rata.\n"
        "levers:\n  f2_loss_order:\n    order: {value: pari_passu, provenance: assumption, "
        'source: "test variant: pari passu instead of the plan\'s subordination"}\n',
        encoding="utf-8",
    )
    _ok(
        [
            "compare",
            str(SCEN / "no_plan.yaml"),
            str(SCEN / "plan_2019_announced.yaml"),
            str(pari),
            "--baseline",
            "no_plan",
            "--reps",
            "3",
            "--out",
            str(out["compare"]),
            "--quiet",
            "--no-report",
        ]
    )
    _ok(
        [
            "run",
            str(SCEN / "no_plan.yaml"),
            "--reps",
            "2",
            "--set",
            "time.end=2021-12",
            "--out",
            str(out["run"]),
            "--quiet",
            "--no-report",
        ]
    )
    _ok(["sweep", str(ROOT / "experiments" / "smoke.yaml"), "--out", str(out["smoke"]), "--quiet", "--no-analysis"])
    for kind, design in DESIGNS.items():
        spec = root / f"mini_{kind}.yaml"
        spec.write_text(MINI.format(kind=kind, base=SCEN / "plan_2019_announced.yaml", design=design), encoding="utf-8")
        _ok(["sweep", str(spec), "--out", str(out[kind]), "--quiet"])


def fresh(src: Path, dst: Path) -> Path:
    """A private copy of a results folder (for tests that write into it)."""
    shutil.copytree(src, dst)
    return dst

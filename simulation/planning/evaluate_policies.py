"""`scsim robustness`: named policies (scenario files and/or overrides) over the ensemble.

Each policy runs in every ensemble member with the same replication seeds (common random numbers),
stored like a sweep (point = policy x member); the robustness table of the target's outcome and of
value won follows (robustness.py), written to RESULTS/planning/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simulation.experiment.lock import sweep_lock
from simulation.experiment.size import PLAN_BYTES_PER_RUN, check_runs, counted
from simulation.experiment.tasks import replication_seeds
from simulation.io import atomic_write
from simulation.planning.ensemble import members
from simulation.planning.evaluate import Evaluator, Point, open_folder, planning_manifest
from simulation.planning.outcomes import horizon_years, member_table
from simulation.planning.robustness import format_robustness, robustness
from simulation.planning.spec import OUTCOMES, Loaded

RESULTS = "planning"


@dataclass
class PolicyResult:
    out: Path
    values: pd.DataFrame  # policy, member, every outcome
    target: pd.DataFrame  # robustness of the target's outcome
    value: pd.DataFrame  # robustness of value won
    computed: int
    reused: int
    seconds: float


def evaluate_policies(
    loaded: Loaded,
    out: Path,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
    max_runs: int | None = None,
    argv: Sequence[str] | None = None,
) -> PolicyResult:
    t0 = time.perf_counter()
    s = loaded.spec
    ens = members(loaded)
    n = len(loaded.policies) * len(ens) * s.replications
    check_runs(
        n,
        f"{counted(len(loaded.policies), 'policy')} × {counted(len(ens), 'ensemble member')} × "
        f"{counted(s.replications, 'replication')}",
        max_runs,
        PLAN_BYTES_PER_RUN,
        loaded.file,
        loaded.line(("ensemble",)),
        "ensemble",
    )
    seeds = replication_seeds(s.seed, s.replications)
    man = planning_manifest(
        loaded,
        "robustness",
        [],
        {"policies": [{"name": n, "scenario": r.scenario.name, "hash": r.hash} for n, r in loaded.policies]},
        ens,
        seeds,
        argv,
    )
    from simulation.planning.optimize import dask_cluster

    with sweep_lock(out), dask_cluster(executor, workers, scheduler) as sched:
        store = open_folder(out, man, force)
        ev = Evaluator(store, executor, None if sched else workers, sched or scheduler, None, progress)
        if progress:
            from simulation.engine.warmup import warm_up

            warm_up(loaded.base)
        pts = []
        for j, (name, base) in enumerate(loaded.policies):
            for m in ens:
                row = {"policy": name, "candidate": j, "member": m.index, **{k: float(v) for k, v in m.inputs.items()}}
                pts.append(Point(j * len(ens) + m.index, f"{name}/{m.name}", base, dict(m.overrides), row))
        tasks = ev.plan(pts, list(enumerate(seeds)))
        ev.write_plan()
        totals = ev.run(tasks)
    years = horizon_years(loaded.base)
    totals["policy"] = [loaded.policies[int(p) // len(ens)][0] for p in totals["point"]]
    totals["member"] = totals["point"] % len(ens)
    values = member_table(totals, tuple(OUTCOMES), years, ["policy", "member"])
    order = [n for n, _ in loaded.policies]
    t = s.target
    target = robustness(
        values,
        t.outcome,
        t.direction,
        t.at_least if t.at_least is not None else t.at_most,
        t.at_least is not None,
        s.seed,
        order,
    )
    value = robustness(values, "value_won", "max", None, True, s.seed, order)
    res = PolicyResult(out, values, target, value, ev.computed, ev.reused, time.perf_counter() - t0)
    folder = out / RESULTS
    folder.mkdir(exist_ok=True)
    atomic_write(folder / "member_values.csv", values.to_csv(index=False))
    atomic_write(folder / "robustness.csv", pd.concat([target, value], ignore_index=True).to_csv(index=False))
    atomic_write(
        folder / "summary.json",
        json.dumps(
            {
                "kind": "robustness",
                "experiment": s.name,
                "target": t.model_dump(),
                "members": len(ens),
                "policies": order,
                "command": man["command"],
            },
            indent=2,
        )
        + "\n",
    )
    return res


def format_policies(res: PolicyResult, loaded: Loaded) -> str:
    t = loaded.spec.target
    label, unit = OUTCOMES[t.outcome]
    return "\n".join(
        [
            format_robustness(res.target, label, unit),
            "",
            format_robustness(res.value, *OUTCOMES["value_won"]),
            f"{res.computed} runs computed, {res.reused} found in the folder, in {res.seconds:.1f} s; "
            f"results in {res.out}/ (planning/robustness.csv, member_values.csv)",
        ]
    )

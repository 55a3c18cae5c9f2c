"""Evaluate policies over the ensemble through the sweep's executors, stored like a sweep.

Every (policy, ensemble member, replication) is a sweep run: its key is the hash of the resolved
scenario, its overrides and its seed, and it is written as `runs/<key>.parquet` into a results
folder with `experiment.json`, `design.parquet` and `tasks.parquet`, so `scsim analyze` and
`scsim report` read it like a sweep. A run already in the folder is never computed again, which is
how a killed optimisation resumes: it replays its search and finds the runs it had finished.

Shards (`--shard I/N`) split every batch: shard I computes the runs j of the batch with j mod N =
I-1 and then waits until the other shards have written the rest into the shared folder, so every
shard follows the same search and tells the optimiser the same numbers.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiment.executors import EXECUTORS
from simulation.experiment.store import RunWriter, Store, tasks_frame
from simulation.experiment.tasks import Task, canonical, run_key
from simulation.io import atomic_write
from simulation.planning.outcomes import METRICS, run_totals
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved

WAIT_SECONDS = 0.5


@dataclass
class Point:
    """A design point of a planning folder: one policy in one ensemble member."""

    point: int
    name: str
    base: Resolved
    overrides: dict[str, Any]
    row: dict[str, Any]  # its columns in design.parquet (policy, member, levers, inputs)


@dataclass
class Evaluator:
    """Runs points x seeds into one results folder with an executor of the sweep."""

    store: Store
    executor: str = "serial"
    workers: int | None = None
    scheduler: str | None = None
    shard: tuple[int, int] | None = None
    progress: bool = False
    points: dict[int, Point] = field(default_factory=dict)
    tasks: dict[tuple[int, int], Task] = field(default_factory=dict)
    computed: int = 0
    reused: int = 0

    def plan(self, points: Sequence[Point], seeds: Sequence[tuple[int, int]]) -> list[Task]:
        """Tasks of `points` x `seeds` ((rep index, seed) pairs), recorded in the folder's plan."""
        out = []
        for p in points:
            self.points.setdefault(p.point, p)
            ov = canonical(p.overrides)
            for rep, seed in seeds:
                t = self.tasks.get((p.point, rep))
                if t is None:
                    t = Task(p.point, rep, int(seed), run_key(p.base.hash, ov, int(seed)), ov, p.name)
                    self.tasks[(p.point, rep)] = t
                out.append(t)
        return out

    def write_plan(self) -> None:
        """design.parquet and tasks.parquet as planned so far (whole files, replaced atomically)."""
        rows = [dict(point=p.point, name=p.name, **p.row) for p in sorted(self.points.values(), key=lambda p: p.point)]
        design = pd.DataFrame(rows)
        tasks = tasks_frame(sorted(self.tasks.values(), key=lambda t: (t.point, t.rep)))
        atomic_write(self.store.root / "design.parquet", _parquet(design))
        atomic_write(self.store.root / "tasks.parquet", _parquet(tasks))

    def run(self, tasks: Sequence[Task]) -> pd.DataFrame:
        """Make sure every task's run is in the folder, then its totals: one row per (point, rep)."""
        by_base: dict[str, tuple[Resolved, list[Task]]] = {}
        distinct: dict[str, Task] = {}
        for t in tasks:
            distinct.setdefault(t.key, t)
        order = list(distinct.values())
        mine = (
            order if self.shard is None else [t for j, t in enumerate(order) if j % self.shard[1] == self.shard[0] - 1]
        )
        have = self.store.finished_keys()
        for t in mine:
            if t.key in have:
                self.reused += 1
                continue
            base = self.points[t.point].base
            by_base.setdefault(base.hash, (base, []))[1].append(t)
        failures = []
        for base, pending in by_base.values():
            gen = EXECUTORS[self.executor](
                base, pending, metrics=list(METRICS), groups=["all"], workers=self.workers, scheduler=self.scheduler
            )
            try:
                with RunWriter(self.store) as writer:  # as a sweep stores its runs
                    for outcome in gen:
                        if outcome.run is not None:
                            writer.put(outcome.run, outcome.labels)
                            self.computed += 1
                        else:
                            self.store.record_failure(outcome.key, dict(outcome.error or {}))
                            failures.append(outcome)
            finally:
                gen.close()
        self.store.sync()
        if failures:
            f = failures[0]
            raise InputError(
                f"{len(failures)} run{'s' if len(failures) > 1 else ''} failed (first: point "
                f"{f.point}, replication {f.rep}: {(f.error or {}).get('error_type', '?')}: "
                f"{str((f.error or {}).get('message', '')).splitlines()[0][:200]}); the search "
                f"cannot go on without them; records in failed/",
                str(self.store.root),
            )
        self._wait_for(order)
        return self.totals(tasks)

    def _wait_for(self, order: list[Task]) -> None:
        """With shards: wait until the other shards have written the rest of the batch."""
        said = False
        while True:
            missing = [t for t in order if t.key not in self.store.finished_keys()]
            if not missing:
                return
            if self.shard is None:
                raise InputError(f"{len(missing)} runs are missing after the batch", str(self.store.root))
            if not said and self.progress:
                print(
                    f"shard {self.shard[0]}/{self.shard[1]}: waiting for {len(missing)} runs of other shards",
                    file=sys.stderr,
                    flush=True,
                )
                said = True
            time.sleep(WAIT_SECONDS)

    def totals(self, tasks: Sequence[Task]) -> pd.DataFrame:
        """Per (point, rep) of `tasks`: the METRICS summed over the horizon (outcomes.run_totals)."""
        every = self.store.read_runs(list(dict.fromkeys(t.key for t in tasks)))  # each file read once
        every = every[(every["group"] == "all") & every["metric"].isin(METRICS)]
        by_key = {k: f[["year", "metric", "group", "value"]] for k, f in every.groupby("key", sort=False)}
        frames = []
        for t in tasks:
            f = by_key[t.key].copy()
            f.insert(0, "point", np.int64(t.point))
            f.insert(1, "rep", np.int64(t.rep))
            frames.append(f)
        rows = pd.concat(frames, ignore_index=True)
        return run_totals(rows)


def open_folder(out: Path, manifest: dict, force: bool) -> Store:
    """The planning results folder (a sweep store); one of another experiment is refused unless `force`."""
    return Store.create_or_open(out, manifest, force=force)


def sweep_like_spec(name: str, seed: int, replications: int, levers: Sequence[Any], inputs: Sequence[str]) -> dict:
    """The `spec` of experiment.json in the sweep's terms (factors with roles, a list design), so
    `scsim analyze` and `scsim report` read a planning folder like a sweep."""
    factors = [
        ({"key": lv.paths[0]} if len(lv.paths) == 1 else {"keys": lv.paths}) | {"name": lv.label, "role": "lever"}
        for lv in levers
    ]
    factors += [{"key": k, "name": k, "role": "uncertainty"} for k in inputs]
    return {"name": name, "factors": factors, "design": {"type": "list", "seed": seed}, "replications": replications}


def _parquet(frame: pd.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("cannot read this results file", str(path)) from None


def planning_manifest(
    loaded: Any,
    kind: str,
    levers: Sequence[Any],
    planning: dict,
    members: Sequence[Any],
    seeds: list[int],
    argv: Sequence[str] | None,
    after_replications: dict | None = None,
    versions: dict | None = None,
) -> dict:
    """experiment.json of an optimize or robustness folder: the sweep's manifest (so that `analyze`
    and `report` read the folder) with the planning spec, the ensemble and the seeds beside it."""
    import shlex

    from simulation.experiment.sweep import environment

    s = loaded.spec
    env = environment()
    inputs = sorted({k for m in members for k in m.inputs})
    return {
        "experiment": s.name,
        "experiment_hash": loaded.hash,
        "kind": kind,
        "file": loaded.file,
        "description": s.description,
        "spec": sweep_like_spec(s.name, s.seed, s.replications, levers, inputs),
        "planning": {
            "kind": kind,
            "spec": loaded.raw,
            **planning,
            "members": [{"index": m.index, "name": m.name, "inputs": m.inputs} for m in members],
        },
        "base": {
            "name": loaded.base.scenario.name,
            "hash": loaded.base.hash,
            "files": loaded.base.files,
            "resolved": loaded.base.nested,
        },
        "design": {"type": "list", "points": None, "factors": [], "problem": None, "sample_matrix": None},
        "replications": s.replications,
        **(after_replications or {}),
        "seed": s.seed,
        "seeds": seeds,
        "outputs": {"metrics": list(METRICS), "groups": ["all"]},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "scsim " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "versions": env["versions"] | (versions or {}),
        "git_commit": env["git_commit"],
    }

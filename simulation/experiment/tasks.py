"""Runs as tasks: (design point, replication) with its seed and a key that names its result.

A task is plain data, so it can be sent to any worker (a process, a Dask worker, a shard on a
cluster node). Running it is a pure function of (base scenario, overrides, seed).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulation.engine.metrics import tidy
from simulation.engine.simulate import simulate
from simulation.experiment.spec import parse_path
from simulation.scenario.loader import Resolved, with_overrides


def replication_seeds(master: int, reps: int) -> list[int]:
    """Seeds of replications 0..reps-1, spawned from one master SeedSequence (common to every scenario/point)."""
    return [int(child.generate_state(1, np.uint32)[0]) for child in np.random.SeedSequence(master).spawn(reps)]


def canonical(overrides: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((str(k), v) for k, v in overrides.items()))


def run_key(base_hash: str, overrides: Sequence[tuple[str, Any]], seed: int) -> str:
    """Hash of (resolved scenario, seed): the base's hash plus the overrides that resolve it."""
    payload = json.dumps([base_hash, list(overrides), seed], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Task:
    point: int
    rep: int
    seed: int
    key: str
    overrides: tuple[tuple[str, Any], ...]
    name: str = ""


def plan_tasks(base: Resolved, points: Iterable[tuple[int, str, dict[str, Any]]], seeds: Sequence[int]) -> list[Task]:
    """One task per (point, replication), in point-major order; `points` are (id, name, overrides)."""
    tasks = []
    base_hash = base.hash  # a hash of the whole resolved scenario: once, not once per run
    for pid, name, overrides in points:
        ov = canonical(overrides)
        for rep, seed in enumerate(seeds):
            tasks.append(Task(pid, rep, seed, run_key(base_hash, ov, seed), ov, name))
    return tasks


def resolve_task(base: Resolved, task: Task) -> Resolved:
    if not task.overrides:
        return base
    return with_overrides(base, {parse_path(k): v for k, v in task.overrides}, f"point {task.point}")


def task_table(
    base: Resolved, task: Task, metrics: Sequence[str] | None = None, groups: Sequence[str] | None = None
) -> pd.DataFrame:
    """Run one task and return its tidy rows, tagged with point, replication and key."""
    r = resolve_task(base, task)
    frame = tidy(simulate(r, task.seed), run=task.rep)
    if metrics is not None:
        frame = frame[frame["metric"].isin(list(metrics))]
    if groups is not None:
        frame = frame[frame["group"].isin(list(groups))]
    frame = frame.reset_index(drop=True)
    frame["scenario"] = frame["scenario"].astype(str)
    frame.insert(0, "point", np.int64(task.point))
    frame.insert(1, "rep", np.int64(task.rep))
    frame.insert(2, "key", task.key)
    return frame


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()

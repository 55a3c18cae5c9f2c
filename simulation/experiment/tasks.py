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

from simulation.engine.metrics import tidy, tidy_block
from simulation.engine.simulate import RunResult, simulate
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


# The key of a run file's schema metadata that marks it as values only (docs/experiments.md, "The
# results folder"): a JSON object with the run's point, rep, key, scenario, seed and its labels' id
# (format 2: one run a file).
RUN_META = b"scsim.run"
# The key that marks a file of several runs (format 3): a JSON list of those objects, each with the
# number of its values (`n`); the file's one column holds their values one run after another.
RUNS_META = b"scsim.runs"


@dataclass
class StoredRun:
    """A finished run as a sweep stores it: what names it (point, rep, key, scenario, seed, labels'
    id) and its values, in the order of its labels (NaN where a rate is 0/0)."""

    meta: dict[str, Any]
    values: np.ndarray

    @property
    def key(self) -> str:
        return str(self.meta["key"])


@dataclass(frozen=True)
class Labels:
    """The year, metric and group of each value of a run, in the order of its values: the same in
    every run of a sweep, so a store keeps them once (`labels/<id>.parquet`), not in every run file."""

    id: str
    rows: np.ndarray  # the rows of tidy_block kept by the output filter
    table: Any  # pyarrow Table: year, metric, group
    data: bytes  # the table as Parquet bytes, written once per store


def run_values(
    res: RunResult, task: Task, metrics: Sequence[str] | None = None, groups: Sequence[str] | None = None
) -> tuple[StoredRun, Labels]:
    """A finished run as it is stored: its values alone with what names it (point, rep, key,
    scenario, seed, labels' id), and the Labels. Encoding the label columns again in every run cost
    half the sweep's own time per run (docs/experiments.md)."""
    names, grps, values = tidy_block(res)
    labels = _labels(tuple(names), tuple(grps), tuple(int(y) for y in res.cal.years), metrics, groups)
    meta = {
        "point": int(task.point),
        "rep": int(task.rep),
        "key": task.key,
        "scenario": str(res.scenario),
        "seed": int(res.seed),
        "labels": labels.id,
    }
    return StoredRun(meta, np.ascontiguousarray(values[labels.rows], dtype=np.float64).reshape(-1)), labels


def pack_runs(runs: Sequence[StoredRun]) -> bytes:
    """Several runs as the Parquet bytes of one file: their values one after another in one column
    (NaN stored as null), and under RUNS_META what names each run and how many values it has. One
    file for many runs: encoding and writing a file cost more per run than the run's values
    (docs/experiments.md, "Sweeps: many runs a file")."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    metas = [{**r.meta, "n": int(r.values.size)} for r in runs]
    column = pa.array(np.concatenate([r.values for r in runs]) if runs else np.zeros(0), from_pandas=True)
    table = pa.Table.from_arrays([column], names=["value"])
    table = table.replace_schema_metadata({RUNS_META: json.dumps(metas, sort_keys=True).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **VALUE_OPTIONS)
    return sink.getvalue().to_pybytes()


def file_runs(table: Any) -> list[tuple[dict[str, Any], Any]] | None:
    """The runs of a values-only run file read as a pyarrow Table: (what names each, its values as
    a pyarrow Array), for a file of several runs (format 3) or of one (format 2); None for a file of
    tidy rows (format 1)."""
    meta = table.schema.metadata or {}
    if RUNS_META not in meta and RUN_META not in meta:
        return None
    column = table.column("value").combine_chunks()
    if RUNS_META in meta:
        out, start = [], 0
        for m in json.loads(meta[RUNS_META]):
            n = int(m.pop("n"))
            out.append((m, column.slice(start, n)))
            start += n
        if start != len(column):
            raise ValueError(f"run file holds {len(column)} values, its runs name {start}")
        return out
    return [(json.loads(meta[RUN_META]), column)]


def full_table(meta: dict[str, Any], values: Any, labels_table: Any) -> Any:
    """The tidy rows of a stored run (what names it, its values as a pyarrow Array, `file_runs`),
    given its labels' table: the columns, types and schema metadata of `task_table`'s frame (its
    Parquet bytes are the same), so that a store reads the same table whichever way a run was
    stored. Built without pandas."""
    import pyarrow as pa

    n = len(values)
    if n != labels_table.num_rows:
        raise ValueError(f"run {meta.get('key')}: {n} values for {labels_table.num_rows} labels")
    arrays = [
        pa.array(np.full(n, meta["point"], dtype=np.int64)),
        pa.array(np.full(n, meta["rep"], dtype=np.int64)),
        pa.repeat(pa.scalar(meta["key"], pa.large_string()), n),
        pa.array(np.full(n, meta["rep"], dtype=np.int64)),
        pa.repeat(pa.scalar(meta["scenario"], pa.large_string()), n),
        pa.array(np.full(n, meta["seed"], dtype=np.int64)),
        *labels_table.columns,
        values,
    ]
    return pa.Table.from_arrays(arrays, schema=run_schema())


_LABELS: dict[tuple, Labels] = {}


def _labels(
    names: tuple[str, ...],
    grps: tuple[str, ...],
    years: tuple[int, ...],
    metrics: Sequence[str] | None,
    groups: Sequence[str] | None,
) -> Labels:
    """The rows of tidy_block a run keeps and its year, metric and group columns, built once per
    process and output filter: they are the same in every run of a sweep, so a run only adds its
    values and its scalars."""
    cache_key = (
        names,
        grps,
        years,
        None if metrics is None else tuple(metrics),
        None if groups is None else tuple(groups),
    )
    got = _LABELS.get(cache_key)
    if got is None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        keep = np.ones(len(names), dtype=bool)
        if metrics is not None:
            keep &= np.isin(np.array(names, dtype=object), list(metrics))
        if groups is not None:
            keep &= np.isin(np.array(grps, dtype=object), list(groups))
        rows = np.flatnonzero(keep)
        pick = np.repeat(rows, len(years))
        table = pa.Table.from_arrays(
            [
                pa.array(np.tile(np.asarray(years, dtype=np.int64), len(rows))),
                pa.array([names[j] for j in pick], pa.large_string()),
                pa.array([grps[j] for j in pick], pa.large_string()),
            ],
            schema=pa.schema([("year", pa.int64()), ("metric", pa.large_string()), ("group", pa.large_string())]),
        )
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, write_statistics=False)
        data = sink.getvalue().to_pybytes()
        got = _LABELS[cache_key] = Labels(hashlib.sha256(data).hexdigest()[:20], rows, table, data)
    return got


_SCHEMA: list[Any] = []


def run_schema():
    """The schema pandas gives task_table's frame (types and pandas metadata), taken once from an empty one."""
    if not _SCHEMA:
        import pyarrow as pa

        empty = pd.DataFrame(
            {
                "point": np.zeros(0, np.int64),
                "rep": np.zeros(0, np.int64),
                "key": pd.Series([], dtype="str"),
                "run": np.zeros(0, np.int64),
                "scenario": pd.Series([], dtype="str"),
                "seed": np.zeros(0, np.int64),
                "year": np.zeros(0, np.int64),
                "metric": pd.Series([], dtype="str"),
                "group": pd.Series([], dtype="str"),
                "value": np.zeros(0, np.float64),
            }
        )
        _SCHEMA.append(pa.Schema.from_pandas(empty, preserve_index=False))
    return _SCHEMA[0]


# How a run's rows are written: a run file is read whole, never filtered by row group, so column
# statistics buy nothing; every column but the values repeats, so a dictionary pays for all of them.
# Both cut the CPU time of storing a run by more than a third (docs/experiments.md, "Sweeps").
PARQUET_OPTIONS: dict[str, Any] = {
    "write_statistics": False,
    "use_dictionary": ["point", "rep", "key", "run", "scenario", "seed", "year", "metric", "group"],
}


# How a run's values are written (`run_values`): no statistics (read whole), no dictionary (the
# values rarely repeat).
VALUE_OPTIONS: dict[str, Any] = {"write_statistics": False, "use_dictionary": False}


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, **PARQUET_OPTIONS)
    return buf.getvalue()

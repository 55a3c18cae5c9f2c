"""The Python API: a scenario plus overrides plus seeds in, the CLI's tables out.

    from simulation import api
    s = api.load("no_plan", {"levers.f5_co_entry.enabled": True})      # a shipped name or a file
    out = api.compare(["no_plan", s], reps=5)                          # same seeds in each scenario
    out.differences.query("period == 'all'")                           # paired differences, 95 % CI
    out.horizon                                                        # one row per scenario and run

`run` and `compare` go through the very code `scsim run` and `scsim compare` use, so their
tables (`yearly`, `summary`, `horizon`, `differences`) equal the files the CLI writes, bit for
bit, for the same scenarios, overrides and seed. Overrides are a dict of key path ->
Python value, applied to every scenario given by name or path. A scenario is a path to a YAML
file, the name of a shipped one (`no_plan`, `plan_2019_announced.yaml`, `scenarios/...`) from
any working folder (simulation/scenario/shipped.py), or what `load` returned. Bad input raises
`InputError` (also importable under its old name, `ScenarioError`) with the same one-line
message the CLI prints.

SALib and EMA Workbench: `problem` (simulation/interop/problem.py) and `ema_model` (simulation/interop/ema.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import pandas as pd

from simulation.engine.metrics import HORIZON, horizon
from simulation.scenario.errors import InputError, ScenarioError
from simulation.scenario.loader import Resolved, load_with, pick_baseline, with_overrides
from simulation.scenario.shipped import resolve
from simulation.scenario.yamlio import KeyPath

if TYPE_CHECKING:  # at run time these come from __getattr__, imported when first asked for
    from simulation.interop.ema import ema_model
    from simulation.interop.problem import Evaluator, problem

ScenarioLike = Union[str, "os.PathLike[str]", Resolved]
Overrides = Mapping[str | KeyPath, Any]

__all__ = [
    "HORIZON",
    "Result",
    "InputError",
    "ScenarioError",
    "compare",
    "horizon",
    "load",
    "notes",
    "run",
    "problem",
    "Evaluator",
    "ema_model",
]


def as_key_path(key: str | KeyPath) -> KeyPath:
    if isinstance(key, tuple):
        return key
    if not isinstance(key, str) or not key:
        raise InputError(
            f"an override's key must be a key path like 'levers.f5_co_entry.rate_cut', got {key!r:.60}", "overrides"
        )
    return tuple(int(p) if p.isdigit() else p for p in key.split("."))


def as_plain(value: Any) -> Any:
    """numpy scalars and arrays as the Python values a scenario file would hold."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, Mapping):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    return value


def _pairs(overrides: Overrides | None) -> list[tuple[KeyPath, Any]]:
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        raise InputError("overrides must be a dict of key path -> value", "overrides")
    return [(as_key_path(k), as_plain(v)) for k, v in overrides.items()]


def load(scenario: ScenarioLike, overrides: Overrides | None = None) -> Resolved:
    """A validated scenario: a file, a shipped scenario's name, or a loaded one; then the overrides."""
    if isinstance(scenario, Resolved):
        return with_overrides(scenario, dict(_pairs(overrides)), "overrides") if overrides else scenario
    path = resolve(os.fspath(scenario))
    return load_with(path, _pairs(overrides), shown=path, label="overrides")


def notes(scenario: ScenarioLike, overrides: Overrides | None = None) -> list[str]:
    """The levers the scenario sets that cannot act in it, and why (as `scsim validate` prints them)."""
    from simulation.scenario.inert import notes as inert_notes

    return inert_notes(load(scenario, overrides))


def load_all(scenarios: ScenarioLike | Sequence[ScenarioLike], overrides: Overrides | None = None) -> list[Resolved]:
    """Several scenarios with the same overrides; their names must differ (they label every table)."""
    items = [scenarios] if isinstance(scenarios, (str, os.PathLike, Resolved)) else list(scenarios)
    if not items:
        raise InputError("no scenario given")
    loaded = [load(s, overrides) for s in items]
    names = [r.scenario.name for r in loaded]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two scenarios are both named {dup[0]!r}; give each a distinct `name:`")
    return loaded


@dataclass
class Result:
    """What `run` and `compare` return: the tables `scsim run`/`compare` write, and how they were made.

    yearly       tidy: run, scenario, seed, year, metric, group, value (yearly.parquet)
    summary      per scenario and year: mean bids, wins, win rate, its sd, value won (summary.csv)
    horizon      per scenario and run: the horizon outcomes `metrics.HORIZON` (horizon.parquet)
    differences  `compare` only: paired differences against the baseline with 95 % CIs, per year
                 and over the horizon (period "all") (differences.parquet)
    notes        levers set in a scenario that cannot act there
    """

    scenarios: list[Resolved]
    seed: int
    reps: int
    seeds: list[int]
    yearly: pd.DataFrame
    summary: pd.DataFrame
    horizon: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    baseline: str | None = None
    differences: pd.DataFrame | None = None
    parameter_sets: Any = None

    @property
    def names(self) -> list[str]:
        return [r.scenario.name for r in self.scenarios]

    def __repr__(self) -> str:
        what = f"compare against {self.baseline}" if self.baseline else "run"
        return (
            f"<scsim {what}: {', '.join(self.names)}; {self.reps} replications, seed {self.seed}; "
            f"tables yearly {self.yearly.shape}, summary {self.summary.shape}, horizon {self.horizon.shape}"
            + (f", differences {self.differences.shape}" if self.differences is not None else "")
            + ">"
        )


def _notes(scenarios: list[Resolved]) -> list[str]:
    from simulation.scenario.inert import notes as inert_notes

    return [n for r in scenarios for n in inert_notes(r)]


def run_loaded(scenarios: list[Resolved], seed: int = 0, reps: int = 1, progress: bool = False) -> Result:
    """`run` on loaded scenarios (what `scsim run` calls)."""
    from simulation.experiment.runner import run_batch, summary

    _check(seed, reps, 1)
    batch = run_batch(scenarios, seed, reps, progress=progress)
    table = batch.table
    return Result(
        scenarios, seed, reps, batch.seeds, table, summary(table), horizon(table), _notes(scenarios), batch.seconds
    )


def compare_loaded(
    scenarios: list[Resolved],
    baseline: str,
    seed: int = 0,
    reps: int = 20,
    parameter_sets: Any = None,
    progress: bool = False,
) -> Result:
    """`compare` on loaded scenarios (what `scsim compare` calls)."""
    from simulation.analysis.compare import baseline_first, compare_batch
    from simulation.experiment.runner import summary

    _check(seed, reps, 2)
    if len(scenarios) < 2:
        raise InputError("compare needs at least two scenarios")
    batch, diff = compare_batch(scenarios, baseline, seed, reps, parameter_sets, progress)
    table = batch.table
    return Result(
        baseline_first(scenarios, baseline),
        seed,
        reps,
        batch.seeds,
        table,
        summary(table),
        horizon(table),
        _notes(scenarios),
        batch.seconds,
        baseline,
        diff,
        parameter_sets,
    )


def _check(seed: int, reps: int, min_reps: int) -> None:
    if not isinstance(reps, int) or isinstance(reps, bool) or reps < min_reps:
        why = " for confidence intervals" if min_reps > 1 else ""
        raise InputError(f"reps must be at least {min_reps}{why}, got {reps!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")


def run(
    scenarios: ScenarioLike | Sequence[ScenarioLike],
    overrides: Overrides | None = None,
    *,
    seed: int = 0,
    reps: int = 1,
    progress: bool = False,
) -> Result:
    """Run each scenario `reps` times (replication i with the i-th seed spawned from SeedSequence(seed),
    the same in every scenario): the tables of `scsim run`."""
    return run_loaded(load_all(scenarios, overrides), seed, reps, progress)


def compare(
    scenarios: Sequence[ScenarioLike],
    baseline: str | None = None,
    overrides: Overrides | None = None,
    *,
    seed: int = 0,
    reps: int = 20,
    parameter_sets: str | None = None,
    progress: bool = False,
) -> Result:
    """Compare scenarios against `baseline` (default: the first) with common random numbers: the
    tables of `scsim compare`. `parameter_sets`: a file like experiments/parameter_sets.yaml (or its
    shipped name) to re-run everything under each set, so the CIs include parameter uncertainty."""
    items = list(scenarios)
    loaded = load_all(items, overrides)
    if len(loaded) < 2:
        raise InputError("compare needs at least two scenarios")
    base = pick_baseline(baseline, items, loaded) if baseline is not None else loaded[0].scenario.name
    psets = None
    if parameter_sets is not None:
        from simulation.experiment.parameter_sets import load_parameter_sets

        psets = load_parameter_sets(resolve(os.fspath(parameter_sets), "experiments"))
    return compare_loaded(loaded, base, seed, reps, psets, progress)


def __getattr__(name: str) -> Any:  # SALib and EMA helpers, imported when first asked for
    if name in ("problem", "Evaluator"):
        from simulation.interop import problem as mod

        return getattr(mod, name)
    if name == "ema_model":
        from simulation.interop.ema import ema_model

        return ema_model
    raise AttributeError(name)

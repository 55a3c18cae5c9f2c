"""EMA Workbench: the model as an `ema_workbench.Model`, its levers and uncertainties from an
experiment file or the schema (`pip install -e '.[ema]'`).

    from ema_workbench import SequentialEvaluator
    from simulation import api
    model = api.ema_model("experiments/lever_grid.yaml", reps=2)          # factors by their roles
    model = api.ema_model(levers=["levers.f5_co_entry.rate_cut"],          # or key paths: schema bounds
                          uncertainties={"competition.strength": (0.8, 1.2)}, scenario="plan_2019_announced")
    with SequentialEvaluator(model) as ev:
        experiments, outcomes = ev.perform_experiments(scenarios=10, policies=4)

Each EMA parameter is named by the factor (an experiment's `name:`, else the key path) and maps
to its scenario key path (`variable_name`); an experiment's `values:` become categorical
parameters, `distribution:` ones use that scipy distribution. Each experiment runs the base
scenario with those values set, `reps` replications with the seeds of SeedSequence(seed) (the
same for every experiment: common random numbers), and returns the horizon outcomes pooled over
them (simulation.interop.problem.pooled): the same numbers as `api.run(...)` for that point.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simulation.engine.metrics import HORIZON
from simulation.interop.problem import Factor, experiment_factors, run_point, schema_factors
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved

DEFAULT_OUTCOMES = ("value_won_usd_m", "public_cost_krw_bn", "value_per_public_krw", "win_rate")


class ScsimFunction:
    """The callable EMA Workbench runs: keyword arguments are scenario key paths (picklable, so
    EMA's multiprocessing evaluator can send it to its workers)."""

    def __init__(self, base: Resolved, seed: int, reps: int, outcomes: Sequence[str], integer: Iterable[str]) -> None:
        self.base, self.seed, self.reps, self.outcomes = base, seed, reps, list(outcomes)
        self.integer = set(integer)

    def __call__(self, **values: Any) -> dict[str, float]:
        from simulation.api import as_key_path, as_plain

        point = {as_key_path(k): (int(v) if k in self.integer else as_plain(v)) for k, v in values.items()}
        got = run_point(self.base, point, self.seed, self.reps)
        return {k: got[k] for k in self.outcomes}


def _parameter(f: Factor):
    import scipy.stats as st
    from ema_workbench import CategoricalParameter, IntegerParameter, RealParameter

    if f.values is not None:
        return CategoricalParameter(f.name, list(f.values), variable_name=f.key)
    if f.dist is not None and f.dist[0] != "uniform":
        kind, *a = f.dist
        if kind == "normal":
            frozen = st.norm(a[0], a[1])
        elif kind == "lognormal":
            frozen = st.lognorm(a[1], scale=math.exp(a[0]))
        else:
            frozen = st.triang((a[1] - a[0]) / (a[2] - a[0]), loc=a[0], scale=a[2] - a[0])
        return RealParameter.from_dist(f.name, frozen, variable_name=f.key)
    if f.integer:
        return IntegerParameter(f.name, math.ceil(f.lo), math.floor(f.hi), variable_name=f.key)
    return RealParameter(f.name, f.lo, f.hi, variable_name=f.key)


def ema_model(
    experiment: str | os.PathLike | None = None,
    *,
    levers: Iterable[str] | Mapping[str, Sequence[float] | None] | None = None,
    uncertainties: Iterable[str] | Mapping[str, Sequence[float] | None] | None = None,
    scenario: Any = None,
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    reps: int | None = None,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    name: str = "scsim",
):
    """An `ema_workbench.Model` of scsim.

    From `experiment` (a file or a shipped experiment's name): its base scenario with its `set:`,
    its factors as levers or uncertainties by their `role:`, its seed and replications (unless
    `seed`/`reps` are given). Else from key paths: `levers` and `uncertainties`, each a list (the
    schema's whole range) or {key path: (low, high)}, on `scenario` (default no_plan) with
    `overrides`; seed 0 and 1 replication unless given."""
    try:
        from ema_workbench import Model, ScalarOutcome
    except ImportError:
        raise InputError("EMA Workbench is not installed: pip install -e '.[ema]'") from None
    from simulation.api import load
    from simulation.scenario.shipped import resolve

    bad = [o for o in outcomes if o not in HORIZON]
    if bad:
        raise InputError(f"unknown outcome {bad[0]!r}; expected some of {', '.join(HORIZON)}", "outcomes")
    if experiment is not None:
        if levers is not None or uncertainties is not None or scenario is not None:
            raise InputError("give an experiment file or levers/uncertainties/scenario, not both")
        from simulation.experiment.spec import load_experiment

        loaded = load_experiment(resolve(os.fspath(experiment), "experiments"))
        factors = experiment_factors(loaded)
        base = load(loaded.base, overrides)
        seed = loaded.spec.seed if seed is None else seed
        reps = loaded.spec.replications if reps is None else reps
    else:
        factors = (schema_factors(levers, "lever") if levers else []) + (
            schema_factors(uncertainties, "uncertainty") if uncertainties else []
        )
        if not factors:
            raise InputError("give an experiment file, or levers and/or uncertainties (scenario key paths)")
        base = load(scenario if scenario is not None else "no_plan", overrides)
    seed, reps = (0 if seed is None else seed), (1 if reps is None else reps)
    if not isinstance(reps, int) or reps < 1 or not isinstance(seed, int) or seed < 0:
        raise InputError(f"reps must be at least 1 and seed a non-negative integer, got reps={reps!r}, seed={seed!r}")
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise InputError("two factors share a name", "factors")
    model = Model(
        name,
        function=ScsimFunction(base, seed, reps, outcomes, [f.key for f in factors if f.integer and f.values is None]),
    )
    model.levers = [_parameter(f) for f in factors if f.role == "lever"]
    model.uncertainties = [_parameter(f) for f in factors if f.role == "uncertainty"]
    model.outcomes = [ScalarOutcome(o) for o in outcomes]
    return model

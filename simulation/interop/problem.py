"""Factors for samplers: a SALib `ProblemSpec` built from the schema, and the function that runs it.

    from simulation import api
    sp = api.problem(["levers.f5_co_entry.rate_cut", "levers.n2_subsidy.ratio.sme"])
    sp.sample_sobol(64).evaluate(api.Evaluator(sp, "plan_2019_announced", reps=2)).analyze_sobol()

Bounds come from the schema's ranges (`scenario/ranges.py`): the same `between(lo, hi)` and
`int_between(lo, hi)` every scenario file is validated against, so a sample can never leave what a
scenario may hold. Give narrower bounds as `{key: (lo, hi)}`; integer levers are listed under
`sp["integer"]` and rounded half up, as the sweep designs round them. One point's outcomes are
the horizon outcomes of `simulation.api.run` pooled over its replications (`pooled`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.engine.metrics import HORIZON, horizon_totals, run_years
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, with_overrides
from simulation.scenario.ranges import param_range
from simulation.scenario.yamlio import KeyPath, dotted

DEFAULT_OUTPUTS = ("value_won_usd_m",)


@dataclass(frozen=True)
class Factor:
    """One sampled input: a scenario key path, its range (or values) and role."""

    name: str
    path: KeyPath
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    role: str = "lever"  # lever | uncertainty (EMA Workbench keeps them apart)
    values: tuple | None = None  # a categorical factor
    dist: tuple | None = None  # ("normal", mean, sd), ("lognormal", ...), ("triangular", lo, mode, hi)

    @property
    def key(self) -> str:
        return dotted(self.path)

    def value(self, x: Any) -> Any:
        """The scenario value of a sample: integers rounded half up (as the sweep designs do)."""
        if self.values is not None:
            return x
        if self.integer:
            return int(math.floor(float(x) + 0.5))
        return float(x)


def _key(key: str | KeyPath) -> KeyPath:
    return key if isinstance(key, tuple) else tuple(int(p) if p.isdigit() else p for p in str(key).split("."))


def schema_factor(
    key: str | KeyPath, bounds: Sequence[float] | None = None, role: str = "lever", name: str | None = None
) -> Factor:
    """A factor over parameter `key`, within `bounds` or else the schema's whole range."""
    path = _key(key)
    try:
        r = param_range(path)
    except KeyError:
        raise InputError(
            "not a parameter of the scenario schema (see `scsim show`)", "factors", None, dotted(path)
        ) from None
    if not r.numeric:
        raise InputError(
            f"a {r.kind} parameter has no numeric range to sample; vary it in an experiment file with `values:`",
            "factors",
            None,
            dotted(path),
        )
    lo, hi = (r.lo, r.hi) if bounds is None else (float(bounds[0]), float(bounds[1]))
    if lo is None or hi is None:
        raise InputError(
            "the schema gives this parameter no bound on both sides; give (low, high)", "factors", None, dotted(path)
        )
    if not lo < hi:
        raise InputError(f"empty range: low {lo} must be below high {hi}", "factors", None, dotted(path))
    if (r.lo is not None and lo < r.lo) or (r.hi is not None and hi > r.hi):
        raise InputError(f"range [{lo}, {hi}] leaves the schema's [{r.lo}, {r.hi}]", "factors", None, dotted(path))
    return Factor(name or dotted(path), path, float(lo), float(hi), r.kind == "int", role)


def schema_factors(levers: Iterable[str] | Mapping[str, Sequence[float] | None], role: str = "lever") -> list[Factor]:
    items = levers.items() if isinstance(levers, Mapping) else ((k, None) for k in levers)
    out = [schema_factor(k, b, role) for k, b in items]
    if not out:
        raise InputError("no factors given", "factors")
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise InputError("a key path is given twice", "factors")
    return out


def experiment_factors(experiment: Any) -> list[Factor]:
    """The factors of an experiment file (experiment.spec.LoadedExperiment): ranges, values and distributions."""
    out = []
    for i, f in enumerate(experiment.spec.factors):
        if f.keys:
            raise experiment.error(
                ("factors", i, "keys"),
                "factors that move several keys together cannot be "
                "passed to SALib or EMA Workbench as one input; give each key its own factor",
            )
        path = _key(f.key)
        if f.values is not None:
            out.append(Factor(f.label, path, role=f.role, values=tuple(f.values)))
        elif f.range is not None:
            out.append(Factor(f.label, path, float(f.range[0]), float(f.range[1]), bool(f.integer), f.role))
        else:
            d = f.distribution
            dist = {
                "uniform": ("uniform", d.low, d.high),
                "triangular": ("triangular", d.low, d.mode, d.high),
                "normal": ("normal", d.mean, d.sd),
                "lognormal": ("lognormal", d.mean, d.sd),
            }[d.name]
            lo, hi = (d.low, d.high) if d.name in ("uniform", "triangular") else (None, None)
            out.append(Factor(f.label, path, lo, hi, bool(f.integer), f.role, dist=dist))
    return out


def problem(levers: Iterable[str] | Mapping[str, Sequence[float] | None], outputs: Sequence[str] = DEFAULT_OUTPUTS):
    """A SALib ProblemSpec over scenario key paths; bounds and integer levers from the schema.

    `levers`: key paths (the schema's whole range each), or {key path: (low, high) or None}.
    `outputs`: horizon outcomes (metrics.HORIZON) an `Evaluator` returns, in this order."""
    from SALib import ProblemSpec

    bad = [o for o in outputs if o not in HORIZON]
    if bad:
        raise InputError(f"unknown output {bad[0]!r}; expected some of {', '.join(HORIZON)}", "outputs")
    factors = schema_factors(levers)
    sp = ProblemSpec(
        {"names": [f.name for f in factors], "bounds": [[f.lo, f.hi] for f in factors], "outputs": list(outputs)}
    )
    sp["integer"] = [f.name for f in factors if f.integer]
    return sp


def pooled(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Horizon outcomes of several runs of one point: totals averaged over the runs, ratios as
    ratios of the pooled totals (win rate = all wins / all bids, value per public KRW = all value
    won / all public cost, the SME share weighted by value won)."""
    n = len(rows)
    tot = {
        k: math.fsum(r[k] for r in rows)
        for k in ("bids", "wins", "value_won_usd_m", "value_won_krw_bn", "public_cost_krw_bn")
    }
    sme = math.fsum(
        (r["sme_share_value"] if math.isfinite(r["sme_share_value"]) else 0.0) * r["value_won_usd_m"] for r in rows
    )
    div = lambda a, b: a / b if b > 0 else math.nan  # noqa: E731
    out = {k: v / n for k, v in tot.items()}
    out.update(
        win_rate=div(tot["wins"], tot["bids"]),
        value_per_public_krw=div(tot["value_won_krw_bn"], tot["public_cost_krw_bn"]),
        sme_share_value=div(sme, tot["value_won_usd_m"]),
    )
    return {k: out[k] for k in HORIZON}


def run_point(base: Resolved, overrides: Mapping[KeyPath, Any], seed: int, reps: int) -> dict[str, float]:
    """The pooled horizon outcomes of `base` with `overrides`, replication i with the i-th seed of
    SeedSequence(seed): the same runs as `api.run(base, overrides, seed=seed, reps=reps)`."""
    from simulation.engine.simulate import simulate
    from simulation.experiment.tasks import replication_seeds

    r = with_overrides(base, dict(overrides), "overrides") if overrides else base
    return pooled([horizon_totals(run_years(simulate(r, s))) for s in replication_seeds(seed, reps)])


class Evaluator:
    """`ProblemSpec.evaluate(Evaluator(sp, scenario, ...))`: runs every row of the sample X.

    Each row sets the problem's key paths (integers rounded half up) on `scenario` (plus
    `overrides`), runs `reps` replications with the seeds of SeedSequence(seed) (the same for
    every row: common random numbers) and returns the problem's outputs, pooled over them."""

    def __init__(
        self,
        sp: Mapping[str, Any],
        scenario: Any = "no_plan",
        overrides: Mapping[str, Any] | None = None,
        *,
        seed: int = 0,
        reps: int = 1,
    ) -> None:
        from simulation.api import load

        bounds = dict(zip(sp["names"], sp["bounds"], strict=True))
        self.factors = [schema_factor(n, bounds[n]) for n in sp["names"]]
        self.outputs = list(sp.get("outputs") or DEFAULT_OUTPUTS)
        self.base = load(scenario, overrides)
        self.seed, self.reps = seed, reps

    def point(self, row: Sequence[float]) -> dict[KeyPath, Any]:
        return {f.path: f.value(x) for f, x in zip(self.factors, row, strict=True)}

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        Y = np.array(
            [[run_point(self.base, self.point(row), self.seed, self.reps)[o] for o in self.outputs] for row in X],
            dtype=np.float64,
        )
        return Y[:, 0] if len(self.outputs) == 1 else Y

"""Model running for the dashboard: a few replications of a scenario and of the no-plan baseline.

Kept apart from the Solara UI so it can be tested and timed on its own. Runs go through
`engine.simulate` (no Mesa objects: Mesa 3.3.1 never frees a model, mesa#3179), replication i
uses the i-th seed spawned from `SeedSequence(seed)` in both scenarios (common random numbers,
as `scsim compare`), and results are cached by (scenario hash, seeds) so the baseline is run
once per seed set, not on every lever change.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulation.analysis.stats import t_half_width
from simulation.engine.simulate import RunResult, simulate
from simulation.experiment.tasks import replication_seeds
from simulation.present.app import levers
from simulation.scenario.loader import Resolved, load_scenario

DEFAULT_REPS = 5
DEFAULT_SEED = 0
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Reps:
    """Yearly figures of each replication (rows) of one scenario: the headline series only."""

    scenario: str
    years: tuple[int, ...]
    seeds: tuple[int, ...]
    wins: np.ndarray  # (reps, years)
    bids: np.ndarray
    value_usd_m: np.ndarray
    value_krw_bn: np.ndarray
    cost_krw_bn: np.ndarray  # total public cost, commitment basis

    @property
    def win_rate(self) -> np.ndarray:
        """Per replication and year; NaN in a year without Korean bids (as `metrics.tidy`)."""
        out = np.full(self.wins.shape, np.nan)
        np.divide(self.wins, self.bids, out=out, where=self.bids > 0)
        return out

    def mean(self, series: str) -> np.ndarray:
        """Yearly mean over replications, as `runner.summary` (years without bids left out of the win rate)."""
        arr = getattr(self, series)
        if series == "win_rate":
            ok = ~np.isnan(arr)
            n = ok.sum(axis=0)
            return np.where(n > 0, np.nansum(arr, axis=0) / np.maximum(n, 1), np.nan)
        return arr.mean(axis=0)

    def horizon(self) -> dict[str, np.ndarray]:
        """Per replication over the whole horizon: pooled win rate, value won, public cost."""
        bids = self.bids.sum(axis=1)
        rate = np.full(bids.shape, np.nan)
        np.divide(self.wins.sum(axis=1), bids, out=rate, where=bids > 0)
        return {
            "win_rate": rate,
            "value_usd_m": self.value_usd_m.sum(axis=1),
            "value_krw_bn": self.value_krw_bn.sum(axis=1),
            "cost_krw_bn": self.cost_krw_bn.sum(axis=1),
        }


def extract(res: RunResult) -> dict[str, np.ndarray]:
    """The dashboard's series from one run's accumulators (the same numbers `metrics.tidy` writes)."""
    A = res.acc
    krw = res.params.krw / 1000.0
    return {
        "wins": A.wins[:, 0].copy(),
        "bids": A.bids[:, 0].copy(),
        "value_usd_m": A.value[:, 0].copy(),
        "value_krw_bn": A.value[:, 0] * krw,
        "cost_krw_bn": A.cost.sum(axis=1),
    }


_cache: OrderedDict[tuple[str, tuple[int, ...]], Reps] = OrderedDict()
_lock = threading.Lock()


def run_reps(r: Resolved, seeds: tuple[int, ...]) -> Reps:
    """Run a scenario once per seed (cached: the same scenario and seeds give the same numbers)."""
    key = (r.hash, tuple(seeds))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    runs = [simulate(r, s) for s in seeds]
    parts = [extract(x) for x in runs]
    out = Reps(
        scenario=r.scenario.name,
        years=tuple(int(y) for y in runs[0].cal.years),
        seeds=tuple(seeds),
        **{k: np.vstack([p[k] for p in parts]) for k in parts[0]},
    )
    with _lock:
        _cache[key] = out
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return out


@dataclass(frozen=True)
class Difference:
    """Scenario minus baseline over the horizon, paired by seed, with a 95 % t interval."""

    metric: str
    mean: float
    low: float
    high: float


def paired(a: np.ndarray, b: np.ndarray, metric: str) -> Difference:
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return Difference(metric, math.nan, math.nan, math.nan)
    m = float(d.mean())
    if len(d) < 2:
        return Difference(metric, m, math.nan, math.nan)
    half = float(t_half_width(d.std(ddof=1), len(d)))
    return Difference(metric, m, m - half, m + half)


@dataclass(frozen=True)
class Outcome:
    """What the dashboard shows for one setting of the levers."""

    scenario: Reps
    baseline: Reps
    settings: dict
    overrides: dict
    seconds: float
    differences: list[Difference] = field(default_factory=list)

    @property
    def years(self) -> tuple[int, ...]:
        return self.scenario.years

    def extra_value_per_extra_krw(self) -> float:
        """Extra value won (KRW) per extra public KRW against the baseline, mean over replications' totals."""
        dv = float(self.scenario.value_krw_bn.sum(axis=1).mean() - self.baseline.value_krw_bn.sum(axis=1).mean())
        dc = float(self.scenario.cost_krw_bn.sum(axis=1).mean() - self.baseline.cost_krw_bn.sum(axis=1).mean())
        return dv / dc if dc > 0 else math.nan


def compare(plan: Reps, base: Reps) -> list[Difference]:
    if plan.seeds != base.seeds or plan.years != base.years:
        raise ValueError("scenario and baseline must share seeds and years (common random numbers)")
    hp, hb = plan.horizon(), base.horizon()
    return [paired(hp[k], hb[k], k) for k in ("win_rate", "value_usd_m", "cost_krw_bn")]


_loaded: dict[tuple[str, float], Resolved] = {}


def load(path: str) -> Resolved:
    """Load a scenario file once per modification time (the picker switches between a few files)."""
    try:
        key = (os.path.realpath(path), os.path.getmtime(path))
    except (OSError, ValueError):
        return load_scenario(path)  # missing or unreadable: the loader's own message (file not found, ...)
    r = _loaded.get(key)
    if r is None:
        r = _loaded[key] = load_scenario(path)
    return r


def evaluate(
    scenario_path: str,
    baseline_path: str,
    settings: dict | None = None,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
) -> Outcome:
    """Run the scenario with the dashboard's lever settings and the baseline with the same seeds."""
    t0 = time.perf_counter()
    base_r = load(baseline_path)
    r = load(scenario_path)
    settings = dict(levers.read(r) if settings is None else settings)
    ov = levers.overrides(r, settings)
    run_r = levers.apply(r, settings)
    seeds = tuple(replication_seeds(seed, reps))
    plan = run_reps(run_r, seeds)
    base = run_reps(base_r, seeds)
    return Outcome(
        plan,
        base,
        settings,
        {".".join(map(str, k)): v for k, v in ov.items()},
        time.perf_counter() - t0,
        compare(plan, base),
    )


def scenario_files(folder: str | os.PathLike, extra: str | None = None) -> list[str]:
    """The scenario files a planner can pick: every *.yaml in the folder, and the one given at start."""
    files = sorted(str(p) for p in Path(folder).glob("*.yaml"))
    if extra is not None and os.path.realpath(extra) not in {os.path.realpath(f) for f in files}:
        files.append(extra)
    return files

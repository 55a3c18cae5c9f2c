"""Run the lever cards: every measure alone against no plan and removed from the plan, over the ensemble.

For each parameter set of the ensemble and each replication seed (common random numbers: the same
seeds in every scenario and set), the no-plan world, the plan, each measure alone and the plan
without each measure are run. A card's effect is the paired difference (alone − no plan, or
plan − plan without the measure); its 95 % interval adds replication noise and the spread over the
parameter sets in quadrature, as `scsim compare --parameter-sets` does (experiment.compare.interval).
Value per public KRW is a ratio of sums; its interval is a percentile bootstrap over parameter sets
and replications (seeded), so it keeps its sign where the data do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial

import numpy as np
import pandas as pd

from simulation.analysis.compare import interval
from simulation.analysis.levers.measures import UNITS, measures, pair
from simulation.engine.kernels.constants import G_ALL, G_DEMAND
from simulation.engine.simulate import RunResult, simulate
from simulation.experiment.runner import in_processes
from simulation.experiment.spec import parse_path
from simulation.scenario.loader import Resolved, with_overrides

LEVEL = 0.95
BOOTSTRAP = 2000


@dataclass
class Outcome:
    """The per-run quantities a card needs."""

    value: float  # value won, USD m
    value_krw: float  # the same, KRW bn
    cost: float  # public cost, KRW bn
    awarded: float  # value of all awarded tenders, USD m
    existing: float  # value won on demand that exists anyway, USD m
    units: dict[str, float] = field(default_factory=dict)


def outcome(res: RunResult) -> Outcome:
    A = res.acc
    value = float(A.value[:, G_ALL].sum())
    return Outcome(
        value=value,
        value_krw=value * res.params.krw / 1000.0,
        cost=float(A.cost.sum()),
        awarded=float(A.value_awarded.sum()),
        existing=float(A.value[:, G_DEMAND].sum()),
        units={k: fn(res) for k, (_, fn) in UNITS.items()},
    )


@dataclass
class Design:
    base: Resolved
    plan: Resolved
    sets: list[dict]  # parameter sets (key path -> value); [{}] for the point values
    seeds: list[int]


def scenarios(design: Design) -> list[tuple[str, str, Resolved]]:
    """(measure section or '', role, scenario): no plan, the plan, and each measure alone and removed."""
    out = [("", "no_plan", design.base), ("", "plan", design.plan)]
    for m in measures():
        alone, removed = pair(design.base, design.plan, m.section)
        out += [(m.section, "alone", alone), (m.section, "removed", removed)]
    return out


def _one_set(scen: list[tuple[str, str, Resolved]], values: dict, seeds: list[int]) -> list[list[Outcome]]:
    """Every scenario under one parameter set: [per scenario: [per seed: Outcome]] (a worker's task)."""
    over = {parse_path(k): v for k, v in values.items()}
    out = []
    for _, _, r in scen:
        rr = with_overrides(r, over, "parameter set") if over else r
        out.append([outcome(simulate(rr, s)) for s in seeds])
    return out


def run(
    design: Design, tick: Callable[[int], None] = lambda n: None, workers: int = 1
) -> dict[tuple[str, str], list[list[Outcome]]]:
    """{(section, role): [per set: [per seed: Outcome]]}. With workers > 1 the parameter sets run in
    parallel processes; the results are the same, set by set, as in one process."""
    scen = scenarios(design)
    per_set: list[list[list[Outcome]]] = []
    step = len(scen) * len(design.seeds)
    runs = in_processes(partial(_one_set, scen, seeds=design.seeds), design.sets, workers, warm=scen[0][2])
    for result in runs:
        per_set.append(result)
        tick(step)
    table: dict[tuple[str, str], list[list[Outcome]]] = {}
    for result in per_set:
        for (section, role, _), outs in zip(scen, result, strict=True):
            table.setdefault((section, role), []).append(outs)
    return table


def _diff(
    a: list[list[Outcome]], b: list[list[Outcome]], get: Callable[[Outcome], float]
) -> tuple[np.ndarray, np.ndarray]:
    """Paired differences a − b flattened over (set, seed), and the set of each pair."""
    d, s = [], []
    for k, (xa, xb) in enumerate(zip(a, b, strict=True)):
        for oa, ob in zip(xa, xb, strict=True):
            d.append(get(oa) - get(ob))
            s.append(k)
    return np.array(d), np.array(s)


def _ci(d: np.ndarray, sets: np.ndarray) -> tuple[float, float, float]:
    mean, lo, hi, _, _ = _ci_parts(d, sets)
    return mean, lo, hi


def _ci_parts(d: np.ndarray, sets: np.ndarray) -> tuple[float, float, float, float, float]:
    """(mean, low, high, replication-noise half-width, parameter-spread half-width)."""
    mean, stoch, param = interval(d, sets if len(np.unique(sets)) > 1 else None, LEVEL)
    half = math.hypot(stoch, param) if math.isfinite(stoch) else math.nan
    return mean, mean - half, mean + half, stoch, param


def ratio_ci(num: np.ndarray, den: np.ndarray, sets: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Σnum / Σden and a percentile bootstrap interval, resampling parameter sets and the pairs within them.

    When the denominator's own interval reaches zero (more than the interval's tail share of the
    resamples has the other sign), the ratio has no finite bound: the interval is (-inf, inf), not
    percentiles that can exclude the estimate itself."""
    total = den.sum()
    if abs(total) < 1e-9 or not np.isfinite(den).all():
        return math.nan, math.nan, math.nan
    est = float(num.sum() / total)
    stats = _bootstrap_ratios(num, den, sets, total, np.random.default_rng(seed))
    if np.isinf(stats).mean() > (1 - LEVEL) / 2:
        return est, -math.inf, math.inf
    stats = stats[np.isfinite(stats)]
    if len(stats) < BOOTSTRAP // 2:
        return est, math.nan, math.nan
    lo, hi = np.percentile(stats, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
    return est, float(lo), float(hi)


def _bootstrap_ratios(num: np.ndarray, den: np.ndarray, sets: np.ndarray, total: float, rng) -> np.ndarray:
    """`BOOTSTRAP` resampled ratios: parameter sets drawn with replacement, then the pairs within each.

    Each resample draws `rng.integers(0, n_sets, n_sets)`, then, for the sets drawn, the pairs within
    them. With as many pairs in every set (the usual design) the resamples are drawn all at once
    (`_equal_sets`), the same numbers as these calls; otherwise one resample at a time."""
    ids = np.unique(sets)
    groups = [np.flatnonzero(sets == k) for k in ids]
    n_sets = len(groups)
    if len({len(g) for g in groups}) == 1:
        stats = _equal_sets(num, den, np.stack(groups), total, rng)
        if stats is not None:
            return stats
    stats = np.empty(BOOTSTRAP)
    for b in range(BOOTSTRAP):
        pick = [g[rng.integers(0, len(g), len(g))] for g in (groups[i] for i in rng.integers(0, n_sets, n_sets))]
        idx = np.concatenate(pick)
        dd = den[idx].sum()
        stats[b] = num[idx].sum() / dd if abs(dd) > 1e-12 and (dd > 0.0) == (total > 0.0) else math.inf
    return stats


def _equal_sets(num, den, table: np.ndarray, total: float, rng) -> np.ndarray | None:
    """All resamples at once when every set has as many pairs (`table`: set x pair -> index), drawing
    exactly what the one-at-a-time loop draws, in its order: per resample `n_sets` integers below
    `n_sets`, then `n_sets x size` below `size` (`_bounded`). None, with `rng` untouched, when that
    cannot be promised (numpy's rejection step, or a numpy that draws otherwise)."""
    n_sets, size = table.shape
    if not _bounded_as_numpy():
        return None
    per = [n_sets] * n_sets + [size] * (n_sets * size)
    drawn = _bounded(rng, np.tile(np.array(per, dtype=np.uint64), BOOTSTRAP))
    if drawn is None:
        return None
    drawn = drawn.reshape(BOOTSTRAP, len(per))
    picked = drawn[:, :n_sets]
    within = drawn[:, n_sets:].reshape(BOOTSTRAP, n_sets, size)
    idx = table[picked[:, :, None], within].reshape(BOOTSTRAP, n_sets * size)
    dd = den[idx].sum(axis=1)
    nn = num[idx].sum(axis=1)
    ok = (np.abs(dd) > 1e-12) & ((dd > 0.0) == (total > 0.0))
    return np.where(ok, nn / np.where(ok, dd, 1.0), math.inf)


def _bounded(rng, bounds: np.ndarray) -> np.ndarray | None:
    """`rng.integers(0, k)` for each k of `bounds` (uint64, each below 2**32), in order, in one draw.

    numpy draws a bounded integer from the generator's next 32-bit output u as (u * k) >> 32
    (Lemire's method), drawing again only when the low half falls below (2**32 - k) % k, and draws
    nothing for k = 1. So the 32-bit outputs are drawn at once (`integers(0, 2**32, dtype=uint64)`
    returns them as they are) and scaled. When one would need the redraw (for these small bounds,
    less than one in 10**7 resamples), the generator is put back and None returned."""
    state = rng.bit_generator.state
    out = np.zeros(len(bounds), dtype=np.int64)
    draw = bounds > 1
    k = bounds[draw]
    m = rng.integers(0, 2**32, len(k), dtype=np.uint64) * k
    low = m & np.uint64(0xFFFFFFFF)
    near = low < k
    if near.any() and (low[near] < (np.uint64(2**32) - k[near]) % k[near]).any():
        rng.bit_generator.state = state
        return None
    out[draw] = (m >> np.uint64(32)).astype(np.int64)
    return out


@cache
def _bounded_as_numpy() -> bool:
    """Whether `_bounded` gives what this numpy's `integers` gives, for the bootstrap's pattern of
    calls (checked once per process; if numpy changes its method, the bootstrap draws one call at a
    time as before)."""
    for n_sets, size in ((7, 3), (1, 4), (5, 1), (30, 2)):
        a, b = np.random.default_rng(n_sets * 100 + size), np.random.default_rng(n_sets * 100 + size)
        want = np.concatenate(
            [x for _ in range(50) for x in (a.integers(0, n_sets, n_sets), a.integers(0, size, n_sets * size))]
        )
        got = _bounded(b, np.tile(np.array([n_sets] * n_sets + [size] * (n_sets * size), dtype=np.uint64), 50))
        if got is None or not np.array_equal(want, got) or a.bit_generator.state != b.bit_generator.state:
            return False
    return True


def cards(table: dict[tuple[str, str], list[list[Outcome]]]) -> pd.DataFrame:
    """One row per measure and comparison (alone, in_plan) with every effect and its interval."""
    rows = []
    base, plan = table[("", "no_plan")], table[("", "plan")]
    for m in measures():
        for comp, a, b in (
            ("alone", table[(m.section, "alone")], base),
            ("in_plan", plan, table[(m.section, "removed")]),
        ):
            row: dict = {"code": m.code, "measure": m.title, "section": m.section, "comparison": comp}
            for name, get in (
                ("value_usd_m", lambda o: o.value),
                ("cost_krw_bn", lambda o: o.cost),
                ("existing_value_usd_m", lambda o: o.existing),
                ("korean_share_pp", lambda o: 100.0 * o.value / o.awarded if o.awarded > 0 else 0.0),
            ):
                d, sets = _diff(a, b, get)
                row[name], row[f"{name}_low"], row[f"{name}_high"], noise, spread = _ci_parts(d, sets)
                if name == "value_usd_m":
                    row["identical"] = bool(np.all(d == 0.0))
                    row["value_usd_m_noise"], row["value_usd_m_spread"] = noise, spread
            dv, sets = _diff(a, b, lambda o: o.value_krw)
            dc, _ = _diff(a, b, lambda o: o.cost)
            row["cost_identical"] = bool(np.all(dc == 0.0))
            row["value_per_krw"], row["value_per_krw_low"], row["value_per_krw_high"] = ratio_ci(dv, dc, sets)
            if m.section in UNITS:

                def units(o: Outcome, s: str = m.section) -> float:
                    return o.units[s]

                du, _ = _diff(a, b, units)
                dvu, _ = _diff(a, b, lambda o: o.value)
                row["unit"] = UNITS[m.section][0]
                row["units"] = float(du.mean())
                row["value_per_unit"], row["value_per_unit_low"], row["value_per_unit_high"] = ratio_ci(
                    dvu, du, sets, 1
                )
            rows.append(row)
    return pd.DataFrame(rows)


def plan_effect(table: dict[tuple[str, str], list[list[Outcome]]]) -> dict:
    """The whole plan against no plan (for the cards' header)."""
    base, plan = table[("", "no_plan")], table[("", "plan")]
    out = {}
    for name, get in (("value_usd_m", lambda o: o.value), ("cost_krw_bn", lambda o: o.cost)):
        d, sets = _diff(plan, base, get)
        out[name], out[f"{name}_low"], out[f"{name}_high"] = _ci(d, sets)
    dv, sets = _diff(plan, base, lambda o: o.value_krw)
    dc, _ = _diff(plan, base, lambda o: o.cost)
    out["value_per_krw"], out["value_per_krw_low"], out["value_per_krw_high"] = ratio_ci(dv, dc, sets)
    return out

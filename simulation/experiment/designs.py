"""Design points of an experiment: which scenario overrides each run of a sweep uses.

`build_design(loaded)` turns the `factors:` and `design:` of an experiment file into a
`DesignTable`: numbered points, each a mapping {dotted key path: value} applied to the base
scenario, a frame of the values (one column per factor) and, for sampling designs, the SALib
problem and sample matrix `X` that the sensitivity analysis needs.

Designs (docs/experiments.md, "Experiment files", says the same for users):

grid    full factorial over every factor's `values:`; a `range:` factor gets `design.levels`
        evenly spaced values (integer factors rounded, repeats dropped); a `distribution:`
        factor is an error. The first factor varies slowest.
list    the named `design.points`, in file order; `factors:` must be empty (an error otherwise).
lhs     Latin hypercube (SALib.sample.latin), `samples` points.
sobol   Saltelli's scheme (SALib.sample.sobol, scrambled Sobol' sequence), `samples` = N base
        samples, N a power of 2 (anything else is an error); N*(D+2) points, N*(2D+2) with
        `second_order: true`.
morris  Morris trajectories (SALib.sample.morris), `samples` = trajectories, `levels` grid
        levels (even); N*(D+1) points.

All three samplers draw in the unit cube with `design.seed` and each column u is then mapped
to its factor, exactly as SALib's own scaling would do (the same scipy inverse CDFs):

range [lo, hi]            lo + u*(hi-lo)                                   SALib 'unif' [lo, hi]
uniform(low, high)        low + u*(high-low)                               'unif' [low, high]
triangular(low,high,mode) scipy triang.ppf(u, c, loc=low, scale=high-low) 'triang' [low, high, c],
                          c = (mode-low)/(high-low), SALib's peak as a fraction of the width
normal(mean, sd)          norm.ppf(u, mean, sd)                            'norm' [mean, sd]
lognormal(mean, sd)       exp(norm.ppf(u, mean, sd)), mean and sd of ln x  'lognorm' [mean, sd]
values [v0 .. v(n-1)]     v[floor(u*n)] (u = 1 counts as the last)         'unif' [0, 1]; X holds u

`integer: true` on a `range:` takes every whole number in [ceil(lo), floor(hi)] with equal
chance (index floor(u*m) of the m whole numbers); on a `distribution:` it rounds half up.
`X` holds the continuous sample as SALib made it (before rounding or picking a value), so
Morris steps and Sobol's matrices stay exact; the frame holds the values the runs use.
Normal and lognormal factors are refused in a Morris design, whose levels include u = 0 and 1
(infinite quantiles). The scaling is done here rather than by SALib because SALib 1.6 refuses
triangular distributions with high < 0 or mode == high; `problem` still records SALib's names.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiment.size import PLAN_BYTES_PER_RUN, check_runs, counted, grid_points
from simulation.experiment.spec import Design, Factor, LoadedExperiment, apply_overrides, parse_path

SAMPLED = ("lhs", "sobol", "morris")
RESERVED = ("point", "name", "rep")
_SALIB_DIST = {"uniform": "unif", "triangular": "triang", "normal": "norm", "lognormal": "lognorm"}


@dataclass
class DesignTable:
    """The points of a design. `points` are (id 0..n-1, name, {dotted path: value}) in run order."""

    type: str
    points: list[tuple[int, str, dict[str, Any]]]
    frame: pd.DataFrame
    factors: list[dict] = field(default_factory=list)
    problem: dict | None = None
    X: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.points)


# ---- plain values --------------------------------------------------------------------------
def plain(v: Any) -> Any:
    """A plain Python value (no numpy scalars), so it hashes and goes to YAML/JSON unchanged."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (str, int, bool)) or v is None:
        return str(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)


def _column(values: list[Any]) -> list[Any] | np.ndarray:
    """One frame column of consistent type: bool, int, float, str, or JSON text for anything else."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64)
    if all(isinstance(v, str) for v in values):
        return list(values)
    return [json.dumps(v, sort_keys=True, default=str) for v in values]


# ---- factors -------------------------------------------------------------------------------
def _overrides(f: Factor, value: Any) -> dict[str, Any]:
    if f.keys:
        return {k: plain(x) for k, x in zip(f.keys, value, strict=True)}
    return {f.key: plain(value)}  # type: ignore[dict-item]


def _integer_range(loaded: LoadedExperiment, i: int, f: Factor) -> list[int]:
    lo, hi = f.range  # type: ignore[misc]
    ints = list(range(math.ceil(lo), math.floor(hi) + 1))
    if not ints:
        raise loaded.error(("factors", i, "range"), f"integer factor {f.label!r}: no whole number in [{lo}, {hi}]")
    return ints


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _grid_values(loaded: LoadedExperiment, i: int, f: Factor, levels: int) -> list[Any]:
    if f.values is not None:
        return [plain(v) for v in f.values]
    if f.distribution is not None:
        raise loaded.error(
            ("factors", i, "distribution"),
            f"factor {f.label!r} has a distribution, which a grid cannot enumerate; "
            "give it `values:` or a `range:` (split into design.levels values), "
            "or use an lhs, sobol or morris design",
        )
    lo, hi = f.range  # type: ignore[misc]
    if f.integer:
        _integer_range(loaded, i, f)
        return _rounded_levels(lo, hi, levels)
    return [float(x) for x in np.linspace(lo, hi, levels)]


def _rounded_levels(lo: float, hi: float, levels: int) -> list[int]:
    """The whole numbers of `levels` evenly spaced values in [lo, hi], rounded half up, repeats dropped."""
    out: list[int] = []
    for x in np.linspace(lo, hi, levels):
        r = min(max(_round_half_up(float(x)), math.ceil(lo)), math.floor(hi))
        if r not in out:
            out.append(r)
    return out


def _grid_count(f: Factor, levels: int) -> int:
    """How many values a grid takes of factor `f` (a distribution, refused when built, counts 1)."""
    if f.values is not None:
        return len(f.values)
    if f.range is None:
        return 1
    return len(_rounded_levels(f.range[0], f.range[1], levels)) if f.integer else levels


def count_points(loaded: LoadedExperiment) -> int:
    """The number of design points, from the file alone (nothing is built: a grid is the product of counts)."""
    d, factors = loaded.spec.design, loaded.spec.factors
    if d.type == "list":
        return len(d.points or [])
    if d.type == "grid":
        return grid_points([_grid_count(f, d.levels) for f in factors])
    n, k = d.samples or 0, len(factors)
    if d.type == "sobol":
        return n * (2 * k + 2 if d.second_order else k + 2)
    if d.type == "morris":
        return n * (k + 1)
    return n


def _problem_entry(f: Factor) -> tuple[list[float], str]:
    """SALib bounds and dist name of a factor (see the module docstring)."""
    if f.values is not None:
        return [0.0, 1.0], "unif"
    if f.range is not None:
        return [float(f.range[0]), float(f.range[1])], "unif"
    d = f.distribution
    assert d is not None
    if d.name == "uniform":
        return [d.given("low"), d.given("high")], "unif"
    if d.name == "triangular":
        lo, hi = d.given("low"), d.given("high")
        return [lo, hi, (d.given("mode") - lo) / (hi - lo)], "triang"
    return [d.given("mean"), d.given("sd")], _SALIB_DIST[d.name]


def _scale(u: np.ndarray, f: Factor) -> np.ndarray:
    """The continuous sample X of one factor from its unit column u (as SALib scales)."""
    if f.values is not None:
        return u.copy()
    if f.range is not None:
        lo, hi = f.range
        return u * (hi - lo) + lo
    d = f.distribution
    assert d is not None
    if d.name == "uniform":
        return u * (d.given("high") - d.given("low")) + d.given("low")
    from scipy import stats  # only here: its import is about a second of CPU

    if d.name == "triangular":
        lo, hi = d.given("low"), d.given("high")
        return stats.triang.ppf(u, c=(d.given("mode") - lo) / (hi - lo), scale=hi - lo, loc=lo)
    if d.name == "normal":
        return stats.norm.ppf(u, loc=d.given("mean"), scale=d.given("sd"))
    return np.exp(stats.norm.ppf(u, loc=d.given("mean"), scale=d.given("sd")))


def _pick(u: float, n: int) -> int:
    return min(int(math.floor(u * n)), n - 1)


def _value(loaded: LoadedExperiment, i: int, f: Factor, u: float, x: float) -> Any:
    """The value a run uses from unit sample u and its scaled sample x."""
    if f.values is not None:
        return plain(f.values[_pick(u, len(f.values))])
    if f.integer:
        if f.range is not None:
            ints = _integer_range(loaded, i, f)
            return ints[_pick(u, len(ints))]
        return _round_half_up(x)
    return float(x)


# ---- designs -------------------------------------------------------------------------------
def _factor_info(loaded: LoadedExperiment) -> list[dict]:
    return [
        {
            "label": f.label,
            "role": f.role,
            "paths": f.paths,
            "kind": "values" if f.values is not None else ("range" if f.range is not None else "distribution"),
            "integer": f.integer,
        }
        for f in loaded.spec.factors
    ]


def _grid(loaded: LoadedExperiment) -> DesignTable:
    spec = loaded.spec
    factors = spec.factors
    levels = [_grid_values(loaded, i, f, spec.design.levels) for i, f in enumerate(factors)]
    points, rows = [], []
    for pid, combo in enumerate(itertools.product(*levels)):
        ov: dict[str, Any] = {}
        for f, v in zip(factors, combo, strict=True):
            ov.update(_overrides(f, v))
        name = ", ".join(f"{f.label}={_short(v)}" for f, v in zip(factors, combo, strict=True)) or "base"
        points.append((pid, name, ov))
        rows.append(combo)
    for i, (f, vals) in enumerate(zip(factors, levels, strict=True)):  # ends of range factors not yet checked
        if f.range is not None:
            for v in (vals[0], vals[-1]):
                apply_overrides(
                    loaded, loaded.base, {parse_path(k): x for k, x in _overrides(f, v).items()}, ("factors", i)
                )
    frame = _frame(points, [f.label for f in factors], rows)
    return DesignTable("grid", points, frame, _factor_info(loaded))


def _list(loaded: LoadedExperiment) -> DesignTable:
    spec = loaded.spec
    if spec.factors:
        raise loaded.error(
            ("factors",),
            "a `list` design takes its points from design.points and uses no "
            "`factors:`; remove them, or use a grid to cross factors",
        )
    pts = spec.design.points or []
    names = [p.name for p in pts]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise loaded.error(("design", "points"), f"two points are both named {dup[0]!r}")
    keys: list[str] = []
    for p in pts:
        keys.extend(k for k in p.set if k not in keys)
    points, rows = [], []
    nested = loaded.base.nested
    for pid, p in enumerate(pts):
        ov = {str(k): plain(v) for k, v in p.set.items()}
        points.append((pid, p.name, ov))
        rows.append(tuple(ov[k] if k in ov else _lookup(nested, k) for k in keys))
    frame = _frame(points, keys, rows)
    return DesignTable("list", points, frame, [])


def _lookup(nested: dict, key: str) -> Any:
    node: Any = nested
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return plain(node)


def unit_sample(design: Design, n_factors: int) -> np.ndarray:
    """SALib's sample in the unit cube for a sampling design (rows in SALib's order), from `design.seed`.

    Each design imports its own sampler: SALib's Sobol sampler imports scipy.stats (about a second of
    CPU), which a Latin hypercube or a Morris design does not need."""
    unit = {"num_vars": n_factors, "names": [f"x{j}" for j in range(n_factors)], "bounds": [[0.0, 1.0]] * n_factors}
    if design.type == "lhs":
        from SALib.sample import latin

        out = latin.sample(unit, design.samples, seed=design.seed)
    elif design.type == "sobol":
        from SALib.sample import sobol

        out = sobol.sample(unit, design.samples, calc_second_order=design.second_order, seed=design.seed)
    elif design.type == "morris":
        from SALib.sample import morris

        out = morris.sample(unit, design.samples, num_levels=design.levels, seed=design.seed)
    else:
        raise ValueError(f"{design.type} is not a sampling design")
    return np.asarray(out, dtype=np.float64)


def sample_matrix(design: Design, factors: list[Factor]) -> tuple[np.ndarray, np.ndarray]:
    """(U, X): the unit sample and SALib's scaled sample X of a sampling design (checked input assumed)."""
    U = unit_sample(design, len(factors))
    X = np.column_stack([_scale(U[:, j], f) for j, f in enumerate(factors)]) if len(U) else np.zeros((0, len(factors)))
    return U, X


def _check_sampling(loaded: LoadedExperiment) -> None:
    d = loaded.spec.design
    n = d.samples
    if d.type == "sobol" and n is not None and n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise loaded.error(
            ("design", "samples"),
            f"a sobol design needs a power of 2 for samples (base samples N); "
            f"{d.samples} is not: use {lower} or {lower * 2}",
        )
    if d.type == "morris" and d.levels % 2:
        raise loaded.error(("design", "levels"), f"a morris design needs an even number of levels; got {d.levels}")
    for i, f in enumerate(loaded.spec.factors):
        if d.type == "morris" and f.distribution is not None and f.distribution.name in ("normal", "lognormal"):
            raise loaded.error(
                ("factors", i, "distribution"),
                f"factor {f.label!r}: a morris design samples the ends of each range (levels 0 and 1), "
                f"which a {f.distribution.name} distribution does not have; give it a `range:` "
                "or a uniform/triangular distribution",
            )
        if f.integer and f.range is not None:
            _integer_range(loaded, i, f)


def _sampled(loaded: LoadedExperiment) -> DesignTable:
    spec = loaded.spec
    factors = spec.factors
    d = spec.design
    _check_sampling(loaded)
    U, X = sample_matrix(d, factors)
    values = [
        [_value(loaded, j, f, float(U[r, j]), float(X[r, j])) for j, f in enumerate(factors)] for r in range(len(U))
    ]
    # the extreme sampled values of each factor must be valid for the base scenario
    for j, f in enumerate(factors):
        col = [row[j] for row in values]
        if f.values is None and col:
            for v in {min(col), max(col)}:
                apply_overrides(
                    loaded, loaded.base, {parse_path(k): x for k, x in _overrides(f, v).items()}, ("factors", j)
                )
    points = []
    width = len(str(max(len(values) - 1, 0)))
    for pid, row in enumerate(values):
        ov: dict[str, Any] = {}
        for f, v in zip(factors, row, strict=True):
            ov.update(_overrides(f, v))
        points.append((pid, f"{d.type}-{pid:0{width}d}", ov))
    frame = _frame(points, [f.label for f in factors], [tuple(r) for r in values])
    bounds, dists = zip(*(_problem_entry(f) for f in factors), strict=True)
    problem = {
        "num_vars": len(factors),
        "names": [f.label for f in factors],
        "bounds": [list(map(float, b)) for b in bounds],
        "dists": list(dists),
    }
    return DesignTable(d.type, points, frame, _factor_info(loaded), problem, X)


def _frame(points: list[tuple[int, str, dict[str, Any]]], labels: list[str], rows: list[tuple]) -> pd.DataFrame:
    data: dict[str, Any] = {"point": np.array([p[0] for p in points], dtype=np.int64), "name": [p[1] for p in points]}
    for j, label in enumerate(labels):
        data[label] = _column([r[j] for r in rows])
    return pd.DataFrame(data)


def check_plan_size(loaded: LoadedExperiment, max_runs: int | None = None) -> int:
    """Refuse, before anything is built, a design whose points × replications pass the limit; the run count."""
    points, reps = count_points(loaded), loaded.spec.replications
    d = loaded.spec.design
    if d.type == "grid" and loaded.spec.factors:
        shape = " × ".join(f"{_grid_count(f, d.levels):,}" for f in loaded.spec.factors)
        what = f"a grid of {shape} values ({counted(points, 'point')}) × {counted(reps, 'replication')}"
    else:
        what = f"{counted(points, 'design point')} × {counted(reps, 'replication')}"
    check_runs(points * reps, what, max_runs, PLAN_BYTES_PER_RUN, loaded.file, loaded.line(("design",)), "design")
    return points * reps


def build_design(loaded: LoadedExperiment, max_runs: int | None = None) -> DesignTable:
    """The points of an experiment's design (see the module docstring for each design type).

    A design whose points × replications pass `max_runs` (default size.MAX_RUNS) is refused first."""
    check_plan_size(loaded, max_runs)
    d = loaded.spec.design
    for i, f in enumerate(loaded.spec.factors):
        if f.label in RESERVED:
            raise loaded.error(
                ("factors", i),
                f"a factor may not be named {f.label!r} (a column of the design table); give it a `name:`",
            )
    if d.type == "list":
        for j, p in enumerate(d.points or []):
            if set(p.set) & set(RESERVED):
                raise loaded.error(
                    ("design", "points", j, "set"), f"a point may not set {sorted(set(p.set) & set(RESERVED))[0]!r}"
                )
    if d.type not in SAMPLED and d.samples is not None:
        raise loaded.error(
            ("design", "samples"), f"`samples:` belongs to lhs, sobol and morris designs, not `{d.type}`"
        )
    if d.type != "sobol" and d.second_order:
        raise loaded.error(("design", "second_order"), "`second_order:` belongs to sobol designs")
    if d.type == "grid":
        return _grid(loaded)
    if d.type == "list":
        return _list(loaded)
    return _sampled(loaded)

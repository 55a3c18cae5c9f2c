"""The experiment files of `scsim optimize` and `scsim robustness`, validated before anything runs.

They are read with the project's safe YAML reader and pydantic, like sweep experiments, so a bad
file ends in one message naming the file, the line and the key (exit status 2, nothing written).
Every key path (levers, uncertainties, `set:`, a policy's `set:`) is tried on the base scenario
at load time, so a value the schema refuses is reported against the experiment file's line.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from simulation.experiment.spec import FOLDER_NAME, DottedKey, parse_path
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved
from simulation.scenario.specfile import Located, spec_error
from simulation.scenario.yamlio import KeyPath, read_yaml_file

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=1, le=100_000)]
Seed = Annotated[int, Strict(), Field(ge=0)]
# outcome name -> (label, unit); metrics over the whole horizon of one run (outcomes.py computes them)
OUTCOMES: dict[str, tuple[str, str]] = {
    "value_won": ("value won", "USD m"),
    "public_cost": ("public cost", "KRW bn"),
    "public_cost_per_year": ("public cost a year", "KRW bn"),
    "sme_share": ("SME share of value won", "fraction"),
    "korean_share": ("Korean share of awarded value", "fraction"),
    "countries_with_win": ("countries with a Korean win", "count"),
    "value_per_public_krw": ("value won per public KRW", "KRW/KRW"),
    "wins": ("wins", "count"),
}
OutcomeName = Literal[
    "value_won",
    "public_cost",
    "public_cost_per_year",
    "sme_share",
    "korean_share",
    "countries_with_win",
    "value_per_public_krw",
    "wins",
]
Statistic = Literal["mean", "median", "p10", "p90", "min", "max"]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Lever(Spec):
    """A decision lever: one key path (or several set to the same value), its range and type."""

    key: DottedKey | None = None
    keys: Annotated[list[DottedKey], Field(min_length=1)] | None = None
    name: str | None = None
    range: list[Number] | None = None
    type: Literal["float", "int", "switch"] | None = None

    @model_validator(mode="after")
    def _check(self) -> Lever:
        if (self.key is None) == (self.keys is None):
            raise ValueError("give exactly one of `key:` (one path) or `keys:` (paths set to the same value)")
        if self.range is not None and (len(self.range) != 2 or not self.range[0] < self.range[1]):
            raise ValueError("`range:` must be [low, high] with low below high")
        if self.type == "switch" and self.range is not None:
            raise ValueError("a switch lever is off or on: it takes no `range:`")
        return self

    @property
    def paths(self) -> list[str]:
        return [self.key] if self.key else list(self.keys or [])

    @property
    def label(self) -> str:
        return self.name or "+".join(self.paths)


class Objective(Spec):
    outcome: OutcomeName
    direction: Literal["max", "min"]
    statistic: Statistic = "mean"


class Constraint(Spec):
    """`outcome` (its `statistic` over the ensemble) at most `max`: public cost a year or in total."""

    outcome: Literal["public_cost_per_year", "public_cost"]
    max: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
    statistic: Statistic = "mean"


class Uncertainty(Spec):
    key: DottedKey
    name: str | None = None
    range: list[Number]

    @model_validator(mode="after")
    def _check(self) -> Uncertainty:
        if len(self.range) != 2 or not self.range[0] < self.range[1]:
            raise ValueError("`range:` must be [low, high] with low below high")
        return self

    @property
    def label(self) -> str:
        return self.name or self.key


class Lhs(Spec):
    samples: Annotated[int, Strict(), Field(ge=2, le=100_000)]
    seed: Seed = 0
    factors: Annotated[list[Uncertainty], Field(min_length=1)]


class Ensemble(Spec):
    """What is not known: the first `sets` parameter sets of a file, crossed with an LHS (either alone)."""

    parameter_sets: str | None = None
    sets: Count | None = None
    lhs: Lhs | None = None

    @model_validator(mode="after")
    def _check(self) -> Ensemble:
        if self.parameter_sets is None and self.lhs is None:
            raise ValueError("an ensemble needs `parameter_sets:` (a file), `lhs:` (a Latin hypercube), or both")
        if self.sets is not None and self.parameter_sets is None:
            raise ValueError("`sets:` counts the parameter sets used: give `parameter_sets:` too")
        return self


class Search(Spec):
    sampler: Literal["nsga2", "tpe"] = "nsga2"
    batch: Annotated[int, Strict(), Field(ge=2, le=10_000)] = 8
    evaluations: Annotated[int, Strict(), Field(ge=2, le=1_000_000)] = 64

    @model_validator(mode="after")
    def _check(self) -> Search:
        if self.evaluations % self.batch:
            raise ValueError(f"`evaluations:` ({self.evaluations}) must be a whole number of batches of {self.batch}")
        return self


class OptimizeSpec(Spec):
    name: Annotated[str, Field(pattern=FOLDER_NAME)]
    description: str = ""
    base: str
    set: dict[DottedKey, Any] = Field(default_factory=dict)
    levers: Annotated[list[Lever], Field(min_length=1)]
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=4)]
    constraints: list[Constraint] = Field(default_factory=list)
    ensemble: Ensemble
    replications: Count = 2
    final_replications: Count = 10
    seed: Seed = 0
    search: Search = Field(default_factory=Search)
    options: Annotated[int, Strict(), Field(ge=1, le=10)] = 5
    target: Target | None = None  # satisficing target for the options' robustness


class Policy(Spec):
    """A candidate policy: a scenario file (default the base) with overrides."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    scenario: str | None = None
    set: dict[DottedKey, Any] = Field(default_factory=dict)


class Target(Spec):
    outcome: OutcomeName
    direction: Literal["max", "min"] = "max"
    at_least: Number | None = None
    at_most: Number | None = None

    @model_validator(mode="after")
    def _check(self) -> Target:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of `at_least:` or `at_most:` (the target a policy must meet)")
        return self


OptimizeSpec.model_rebuild()


class RobustnessSpec(Spec):
    name: Annotated[str, Field(pattern=FOLDER_NAME)]
    description: str = ""
    base: str
    set: dict[DottedKey, Any] = Field(default_factory=dict)
    policies: Annotated[list[Policy], Field(min_length=2)]
    ensemble: Ensemble
    replications: Count = 2
    seed: Seed = 0
    target: Target


@dataclass
class LeverInfo:
    """A lever with its range and type settled (from the file, else the schema)."""

    label: str
    paths: list[str]
    kind: str  # float | int | switch
    low: float | None = None
    high: float | None = None

    def overrides(self, value: Any) -> dict[str, Any]:
        return {p: value for p in self.paths}


@dataclass
class Loaded(Located):
    """A validated optimize or robustness file: the spec, its base scenario(s), where it came from."""

    spec: Any
    kind: str
    file: str
    marks: dict[KeyPath, int]
    raw: dict
    base: Resolved | None = None
    levers: list[LeverInfo] = field(default_factory=list)
    policies: list[tuple[str, Resolved]] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return os.path.dirname(self.file)

    @property
    def hash(self) -> str:
        raw = {k: v for k, v in self.raw.items() if k != "description"}
        bases = [self.base.hash] if self.base is not None else []
        bases += [r.hash for _, r in self.policies]
        payload = json.dumps({"kind": self.kind, "spec": raw, "bases": bases}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


def _read(path: str, model: type[Spec], kind: str) -> Loaded:
    data, marks = read_yaml_file(path, path)
    if not isinstance(data, dict):
        raise InputError(
            f"a{'n' if kind[0] in 'aeiou' else ''} {kind} file must be a mapping (name, base, ...)", path, 1
        )
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, path, marks) from None
    return Loaded(spec, kind, path, marks, data)


def load_base(loaded: Loaded, name: str, where: KeyPath) -> Resolved:
    """A scenario file named in the experiment file (relative to it, or a shipped name), with `set:`."""
    from simulation.api import load
    from simulation.scenario.shipped import resolve

    local = os.path.join(loaded.folder, name)
    path = local if os.path.isfile(local) else resolve(name)
    if not os.path.isfile(path):
        raise loaded.error(where, f"scenario {name!r} not found (looked for {os.path.normpath(local)})")
    r = load(path)
    return checked(loaded, r, dict(loaded.spec.set), ("set",))


def checked(loaded: Loaded, base: Resolved, overrides: dict[str, Any], where: KeyPath) -> Resolved:
    """`base` with `overrides`, a scenario error pointing at `where` in the experiment file."""
    from simulation.api import load

    if not overrides:
        return base
    try:
        return load(base, overrides)
    except InputError as exc:
        key = exc.key or ", ".join(overrides)
        raise loaded.error(where, f"{key}: {exc.message}") from None


def _lever_info(loaded: Loaded, i: int, lever: Lever) -> LeverInfo:
    from simulation.interop.problem import schema_factor

    where = ("levers", i)
    kinds = []
    for p in lever.paths:
        try:
            f = schema_factor(p) if lever.type != "switch" else None
        except InputError as exc:
            if "bool" in exc.message or lever.type == "switch":
                f = None
            else:
                raise loaded.error(where, f"{p}: {exc.message}") from None
        kinds.append(f)
    if lever.type == "switch" or any(f is None for f in kinds):
        if lever.range is not None:
            raise loaded.error(("levers", i, "range"), f"lever {lever.label!r} is a switch (off or on): no range")
        info = LeverInfo(lever.label, lever.paths, "switch")
    else:
        kind = lever.type or ("int" if all(f.integer for f in kinds) else "float")
        lo, hi = lever.range if lever.range is not None else (max(f.lo for f in kinds), min(f.hi for f in kinds))
        if kind == "int" and math.ceil(lo) > math.floor(hi):
            raise loaded.error(
                ("levers", i, "range"), f"integer lever {lever.label!r}: no whole number in [{lo}, {hi}]"
            )
        info = LeverInfo(lever.label, lever.paths, kind, float(lo), float(hi))
    probes = (
        [False, True]
        if info.kind == "switch"
        else ([math.ceil(info.low), math.floor(info.high)] if info.kind == "int" else [info.low, info.high])
    )
    for v in probes:
        checked(loaded, loaded.base, info.overrides(v), where)  # type: ignore[arg-type]
    return info


def _distinct(loaded: Loaded, items: list[tuple[KeyPath, str]]) -> None:
    seen: list[tuple[KeyPath, tuple]] = []
    for where, text in items:
        path = parse_path(text)
        for where0, p0 in seen:
            if path[: len(p0)] == p0 or p0[: len(path)] == path:
                raise loaded.error(
                    where,
                    f"{text!r} is also set at line {loaded.line(where0)}: a key path may be a "
                    "lever, an uncertainty or fixed, but only one of them",
                )
        seen.append((where, path))


def _check_ensemble(loaded: Loaded, base: Resolved, extra: list[tuple[KeyPath, str]]) -> None:
    e = loaded.spec.ensemble
    items = list(extra)
    if e.lhs is not None:
        for j, u in enumerate(e.lhs.factors):
            items.append((("ensemble", "lhs", "factors", j), u.key))
            for v in u.range:
                checked(loaded, base, {u.key: v}, ("ensemble", "lhs", "factors", j))
        labels = [u.label for u in e.lhs.factors]
        if len(set(labels)) != len(labels):
            raise loaded.error(("ensemble", "lhs", "factors"), "two uncertainties share a name")
    _distinct(loaded, items)
    if e.parameter_sets is not None:
        from simulation.planning.ensemble import parameter_sets_file

        parameter_sets_file(loaded)  # readable, and each set valid on the base


def load_optimize(path: str) -> Loaded:
    """An optimize experiment file, checked against its base scenario and the schema."""
    loaded = _read(path, OptimizeSpec, "optimize")
    spec: OptimizeSpec = loaded.spec
    loaded.base = load_base(loaded, spec.base, ("base",))
    loaded.levers = [_lever_info(loaded, i, lv) for i, lv in enumerate(spec.levers)]
    labels = [lv.label for lv in loaded.levers]
    if len(set(labels)) != len(labels):
        raise loaded.error(("levers",), "two levers share a name")
    items = [(("set", k), k) for k in spec.set]
    items += [(("levers", i), p) for i, lv in enumerate(spec.levers) for p in lv.paths]
    _check_ensemble(loaded, loaded.base, items)
    seen = [(o.outcome, o.statistic) for o in spec.objectives]
    if len(set(seen)) != len(seen):
        raise loaded.error(("objectives",), "the same objective is given twice")
    return loaded


def load_robustness(path: str) -> Loaded:
    """A robustness experiment file: policies (scenario files and/or overrides), an ensemble, a target."""
    loaded = _read(path, RobustnessSpec, "robustness")
    spec: RobustnessSpec = loaded.spec
    loaded.base = load_base(loaded, spec.base, ("base",))
    names = [p.name for p in spec.policies]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise loaded.error(("policies",), f"two policies are both named {dup[0]!r}")
    for j, p in enumerate(spec.policies):
        r = load_base(loaded, p.scenario, ("policies", j, "scenario")) if p.scenario else loaded.base
        r = checked(loaded, r, dict(p.set), ("policies", j, "set"))
        loaded.policies.append((p.name, r))
    items = [(("set", k), k) for k in spec.set]
    _check_ensemble(loaded, loaded.base, items)
    return loaded

"""Experiment files: a base scenario, factors (scenario key paths with roles), a design, replications.

Loaded with the same safe YAML reader as scenarios; every error names the file, the line and
the key. Factor key paths are checked against the base scenario before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, load_scenario, with_overrides
from simulation.scenario.specfile import Located, spec_error
from simulation.scenario.yamlio import KeyPath, dotted, read_yaml_file

DESIGNS = ("grid", "lhs", "sobol", "morris", "list")
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
# a plain folder name (it names the results folder): not '.', '..' or hidden, no '/'
FOLDER_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,79}$"
FOLDER_NAME_RULE = (
    "a name is a plain folder name: 1-80 letters, digits, '_', '.' or '-', not starting with '.' (so not '.' or '..')"
)
_KEY_PART = re.compile(r"^[A-Za-z0-9_-]+$")


def key_path(text: str) -> str:
    """A scenario key path as written in an experiment file: dotted names, none empty."""
    parts = text.split(".")
    if not text.strip() or not all(_KEY_PART.match(p) for p in parts):
        raise ValueError(f"a key path is names joined by dots (e.g. levers.c5_roadshows.per_year); got {text!r:.80}")
    return text


DottedKey = Annotated[str, AfterValidator(key_path)]  # a key path as an experiment file writes it: "a.b.c"


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Distribution(Spec):
    """A continuous distribution for an uncertain factor (SALib's names in brackets)."""

    name: Literal["uniform", "normal", "lognormal", "triangular"]
    low: Number | None = None  # uniform, triangular
    high: Number | None = None  # uniform, triangular
    mode: Number | None = None  # triangular
    mean: Number | None = None  # normal; lognormal: mean of log
    sd: Number | None = None  # normal; lognormal: sd of log

    def given(self, name: str) -> float:
        """A parameter the distribution needs (present once validated: see _complete)."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"a {self.name} distribution has no {name}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        need = {
            "uniform": ("low", "high"),
            "triangular": ("low", "high", "mode"),
            "normal": ("mean", "sd"),
            "lognormal": ("mean", "sd"),
        }[self.name]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.name} distribution needs {', '.join(need)} (missing {', '.join(missing)})")
        extra = [k for k in ("low", "high", "mode", "mean", "sd") if k not in need and getattr(self, k) is not None]
        if extra:
            raise ValueError(f"a {self.name} distribution takes only {', '.join(need)} (not {', '.join(extra)})")
        if self.name in ("uniform", "triangular") and not self.given("low") < self.given("high"):
            raise ValueError(f"empty range: low {self.low} must be below high {self.high}")
        if self.name == "triangular" and not self.given("low") <= self.given("mode") <= self.given("high"):
            raise ValueError("mode must lie between low and high")
        if self.name in ("normal", "lognormal") and not self.given("sd") > 0:
            raise ValueError("sd must be positive")
        return self


class Factor(Spec):
    """One scenario key path (or several moving together, `keys:` with tuple `values:`)."""

    key: DottedKey | None = None
    keys: Annotated[list[DottedKey], Field(min_length=1)] | None = None
    name: str | None = None
    role: Literal["lever", "uncertainty"]
    values: list[Any] | None = None
    range: list[Number] | None = None
    distribution: Distribution | None = None
    integer: bool = False

    @field_validator("range")
    @classmethod
    def _range(cls, v: list[float] | None) -> list[float] | None:
        if v is not None:
            if len(v) != 2:
                raise ValueError("`range:` must be [low, high]")
            if not v[0] < v[1]:
                raise ValueError(f"empty range: low {v[0]} must be below high {v[1]}")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> Factor:
        if (self.key is None) == (self.keys is None):
            raise ValueError("give exactly one of `key:` (one path) or `keys:` (paths moving together)")
        given = [k for k in ("values", "range", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of `values:`, `range:` or `distribution:`"
                + (f" (found {' and '.join(given)})" if given else "")
            )
        if self.values is not None and not self.values:
            raise ValueError("`values:` is empty")
        if self.keys is not None:
            if self.values is None:
                raise ValueError("factors with several `keys:` move together and need `values:` (one list per point)")
            for v in self.values:
                if not isinstance(v, list) or len(v) != len(self.keys):
                    raise ValueError(f"each value of a zipped factor is a list of {len(self.keys)} values, one per key")
        return self

    @property
    def label(self) -> str:
        return self.name or (self.key if self.key else "+".join(self.keys or []))

    @property
    def paths(self) -> list[str]:
        return [self.key] if self.key else list(self.keys or [])

    @property
    def continuous(self) -> bool:
        return self.values is None


class Point(Spec):
    name: str
    set: dict[DottedKey, Any] = Field(default_factory=dict)


class Design(Spec):
    type: Literal["grid", "lhs", "sobol", "morris", "list"]
    samples: Annotated[int, Strict(), Field(ge=1, le=1000000)] | None = None
    levels: Annotated[int, Strict(), Field(ge=2, le=100)] = 4
    second_order: bool = False
    seed: Annotated[int, Strict(), Field(ge=0)] = 0
    points: list[Point] | None = None

    @model_validator(mode="after")
    def _needs(self) -> Design:
        if self.type == "list" and not self.points:
            raise ValueError("a `list` design needs `points:` (named combinations)")
        if self.type != "list" and self.points is not None:
            raise ValueError(f"`points:` belong to a `list` design, not `{self.type}`")
        if self.type in ("lhs", "sobol", "morris") and self.samples is None:
            raise ValueError(f"a `{self.type}` design needs `samples:`")
        return self


class Outputs(Spec):
    metrics: list[str] | Literal["all"] = "all"
    groups: list[str] | Literal["all"] = "all"


class Experiment(Spec):
    name: Annotated[str, Field(pattern=FOLDER_NAME)]
    description: str = ""
    base: str
    set: dict[DottedKey, Any] = Field(default_factory=dict)
    factors: list[Factor] = Field(default_factory=list)
    design: Design
    replications: Annotated[int, Strict(), Field(ge=1, le=100_000)] = 1
    seed: Annotated[int, Strict(), Field(ge=0)] = 0
    outputs: Outputs = Field(default_factory=Outputs)


class LoadedExperiment(Located):
    """A validated experiment: the spec, its base scenario (with the fixed `set:` applied) and where it came from."""

    def __init__(self, spec: Experiment, base: Resolved, file: str, marks: dict[KeyPath, int], raw: dict) -> None:
        self.spec, self.base, self.file, self.marks, self.raw = spec, base, file, marks, raw

    @property
    def hash(self) -> str:
        payload = json.dumps({"spec": self.raw_canonical, "base": self.base.hash}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def raw_canonical(self) -> dict:
        d = dict(self.raw)
        d.pop("description", None)
        return d


def parse_path(text: str) -> KeyPath:
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


def _probe_values(f: Factor) -> list[Any]:
    """Values that exercise a factor's key paths when checking them against the base."""
    if f.values is not None:
        return list(f.values)
    if f.range is not None:
        lo, hi = f.range
        return [int(round(lo)) if f.integer else lo, int(round(hi)) if f.integer else hi]
    d = f.distribution
    assert d is not None
    if d.name in ("uniform", "triangular"):
        probes = [d.given("low"), d.given("high")]
    else:
        probes = [d.given("mean")] if d.name == "normal" else [math.exp(d.given("mean"))]
    return [int(math.floor(v + 0.5)) for v in probes] if f.integer else probes


def load_experiment(path: str, shown: str | None = None) -> LoadedExperiment:
    shown = shown or path
    data, marks = read_yaml_file(path, shown)
    if not isinstance(data, dict):
        raise InputError("an experiment file must be a mapping (name, base, factors, design, ...)", shown, 1)

    def reword(err: Mapping[str, Any]) -> str | None:
        if err.get("type") == "literal_error" and err["loc"] and err["loc"][-1] == "type":
            return f"unknown design {err.get('input')!r}; expected one of {', '.join(DESIGNS)}"
        if (err.get("ctx") or {}).get("pattern") == FOLDER_NAME:
            return f"{FOLDER_NAME_RULE}; got {str(err.get('input'))!r:.90}"
        return None

    try:
        spec = Experiment.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, shown, marks, reword=reword) from None
    loaded = LoadedExperiment(spec, None, shown, marks, data)  # type: ignore[arg-type]
    base_path = os.path.join(os.path.dirname(path), spec.base)
    base_shown = os.path.normpath(os.path.join(os.path.dirname(shown), spec.base))
    if not os.path.isfile(base_path):
        raise loaded.error(("base",), f"base scenario {spec.base!r} not found (looked for {base_shown})")
    base = load_scenario(base_path, shown=base_shown)
    if spec.set:
        base = apply_overrides(loaded, base, {parse_path(k): v for k, v in spec.set.items()}, ("set",))
    loaded.base = base
    names = [f.label for f in spec.factors]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise loaded.error(("factors",), f"two factors are both named {sorted(dup)[0]!r}")
    _distinct_paths(
        loaded,
        [(("factors", i, "keys" if f.keys else "key"), k) for i, f in enumerate(spec.factors) for k in f.paths],
        "factors",
    )
    _distinct_paths(loaded, [(("set", k), k) for k in spec.set], "`set:` keys")
    for j, pt in enumerate(spec.design.points or []):
        _distinct_paths(loaded, [(("design", "points", j, "set", k), k) for k in pt.set], "keys of this point")
    for i, f in enumerate(spec.factors):
        for v in _probe_values(f):
            vals = v if f.keys else [v]
            apply_overrides(
                loaded, base, {parse_path(k): x for k, x in zip(f.paths, vals, strict=True)}, ("factors", i)
            )
    if spec.design.type in ("lhs", "sobol", "morris") and not spec.factors:
        raise loaded.error(("factors",), f"a `{spec.design.type}` design needs at least one factor")
    if spec.design.type == "list":
        for j, pt in enumerate(spec.design.points or []):
            apply_overrides(loaded, base, {parse_path(k): v for k, v in pt.set.items()}, ("design", "points", j))
    return loaded


def _distinct_paths(loaded: LoadedExperiment, paths: list[tuple[KeyPath, str]], what: str) -> None:
    """Refuse two key paths where one is the other or inside it: only one of them could take effect."""
    parsed = [(where, text, parse_path(text)) for where, text in paths]
    for n, (where, text, path) in enumerate(parsed):
        for where0, text0, path0 in parsed[:n]:
            if path[: len(path0)] == path0 or path0[: len(path)] == path:
                how = "the same key path" if path == path0 else "overlapping key paths"
                raise loaded.error(
                    where,
                    f"{what} {text!r} and {text0!r} (line {loaded.line(where0)}) are {how}: "
                    "the runs would use only one of them, so the other would do nothing",
                )


def apply_overrides(
    loaded: LoadedExperiment, base: Resolved, overrides: dict[KeyPath, Any], where: KeyPath
) -> Resolved:
    """Apply overrides to the base, turning any scenario error into one that points into the experiment file."""
    try:
        return with_overrides(base, overrides, loaded.file)
    except InputError as exc:
        key = exc.key or ", ".join(".".join(map(str, p)) for p in overrides)
        raise InputError(f"{key}: {exc.message}", loaded.file, loaded.line(where), dotted(where)) from None

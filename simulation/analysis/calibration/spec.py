"""Calibration files: the scenario, the parameters to fit with their search ranges, the target moments.

Read with the scenario reader, so every error names the file, the line and the key.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from simulation.analysis.calibration.moments import MOMENTS
from simulation.experiment.spec import parse_path
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, load_scenario, with_overrides
from simulation.scenario.specfile import Located, spec_error
from simulation.scenario.yamlio import KeyPath, read_yaml_file

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Parameter(Spec):
    """A scenario key path fitted within [low, high] (searched on a log scale when `log`)."""

    key: str
    low: Number
    high: Number
    log: bool = False

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"empty range: low {self.low} must be below high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("a log-scale range needs low > 0")
        return self


class Target(Spec):
    """A published moment: the value aimed at, the range counted as a match, and where it comes from."""

    moment: str
    value: Number
    low: Number
    high: Number
    weight: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)] = 1.0
    source: str

    @model_validator(mode="after")
    def _known(self) -> Target:
        if self.moment not in MOMENTS:
            raise ValueError(f"unknown moment {self.moment!r}; expected one of {', '.join(MOMENTS)}")
        if not self.low <= self.value <= self.high or not self.low < self.high:
            raise ValueError(
                f"need low < high and value within them, got low {self.low}, value {self.value}, high {self.high}"
            )
        return self


class Check(Spec):
    """A parameter set directly from the literature: reported against its published range, not fitted."""

    key: str
    low: Number
    high: Number
    source: str


class Effect(Spec):
    """A lever-effect parameter fitted by indirect inference: the value at which the virtual twin of a
    published study (a validation experiment's check with `role: fitted`) reproduces its estimate."""

    key: str
    low: Number
    high: Number
    experiment: str  # validation experiment file, relative to the calibration file
    check: str
    replications: Annotated[int, Strict(), Field(ge=2, le=10_000)] = 16
    points: Annotated[int, Strict(), Field(ge=3, le=50)] = 7

    @model_validator(mode="after")
    def _range(self) -> Effect:
        if not self.low < self.high:
            raise ValueError(f"empty range: low {self.low} must be below high {self.high}")
        return self


class Search(Spec):
    lhs_points: Annotated[int, Strict(), Field(ge=2, le=100_000)] = 48
    local_evaluations: Annotated[int, Strict(), Field(ge=0, le=100_000)] = 80
    seed: Annotated[int, Strict(), Field(ge=0)] = 0
    parameter_sets: Annotated[int, Strict(), Field(ge=1, le=1_000)] = 10
    # the lever effects interact (a visit boost moves the SMEs an F6 twin follows): each is fitted at
    # the values already fitted for the others, and the round over all of them is repeated this often
    effect_passes: Annotated[int, Strict(), Field(ge=1, le=10)] = 2


class Calibration(Spec):
    name: str
    description: str = ""
    scenario: str
    years: Annotated[list[Annotated[int, Strict()]], Field(min_length=2, max_length=2)]
    seed: Annotated[int, Strict(), Field(ge=0)] = 0
    replications: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 8
    parameters: Annotated[list[Parameter], Field(min_length=1)]
    targets: Annotated[list[Target], Field(min_length=1)]
    checks: list[Check] = Field(default_factory=list)
    effects: list[Effect] = Field(default_factory=list)
    search: Search = Field(default_factory=Search)

    @model_validator(mode="after")
    def _distinct(self) -> Calibration:
        keys = [p.key for p in self.parameters] + [e.key for e in self.effects]
        if len(set(keys)) != len(keys):
            raise ValueError("a parameter is listed twice")
        moments = [t.moment for t in self.targets]
        if len(set(moments)) != len(moments):
            raise ValueError("a moment is targeted twice")
        if self.years[0] > self.years[1]:
            raise ValueError(f"years: the first year {self.years[0]} is after the last {self.years[1]}")
        return self


class LoadedCalibration(Located):
    """A validated calibration file with its base scenario and the lines of its keys."""

    def __init__(
        self, spec: Calibration, base: Resolved, file: str, scenario_file: str, marks: dict[KeyPath, int], raw: dict
    ) -> None:
        self.spec, self.base, self.file, self.scenario_file, self.marks, self.raw = (
            spec,
            base,
            file,
            scenario_file,
            marks,
            raw,
        )
        self.effects: list[tuple[Any, Any]] = []  # (validation.spec.Loaded, its Check) per effect

    @property
    def hash(self) -> str:
        payload = json.dumps({"spec": self.raw, "base": self.base.hash}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def at(self, values: dict[str, float]) -> Resolved:
        """The base scenario with the fitted parameters set to `values`."""
        return with_overrides(self.base, {parse_path(k): v for k, v in values.items()}, self.file)


def load_calibration(path: str, shown: str | None = None) -> LoadedCalibration:
    shown = shown or path
    data, marks = read_yaml_file(path, shown)
    if not isinstance(data, dict):
        raise InputError("a calibration file must be a mapping (name, scenario, parameters, targets, ...)", shown, 1)
    try:
        spec = Calibration.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, shown, marks, missing="missing: required in a calibration file") from None
    scen_path = os.path.join(os.path.dirname(path), spec.scenario)
    scen_shown = os.path.normpath(os.path.join(os.path.dirname(shown), spec.scenario))
    loaded = LoadedCalibration(spec, None, shown, scen_path, marks, data)  # type: ignore[arg-type]
    if not os.path.isfile(scen_path):
        raise loaded.error(("scenario",), f"scenario {spec.scenario!r} not found (looked for {scen_shown})")
    loaded.base = load_scenario(scen_path, shown=scen_shown)
    first, last = (int(loaded.base.scenario.time.start[:4]), int(loaded.base.scenario.time.end[:4]))
    if not first <= spec.years[0] <= spec.years[1] <= last:
        raise loaded.error(("years",), f"years must lie within the scenario's horizon {first}-{last}")
    for i, p in enumerate(spec.parameters):
        for v in (p.low, p.high):
            try:
                loaded.at({p.key: v})
            except InputError as exc:
                bound = "low" if v == p.low else "high"
                raise loaded.error(("parameters", i), f"{p.key} = {v} ({bound}): {exc.message}") from None
    for i, e in enumerate(spec.effects):
        loaded.effects.append(_effect_experiment(loaded, i, e, os.path.dirname(path), os.path.dirname(shown)))
    for i, c in enumerate(spec.checks):
        try:
            float(scenario_value(loaded.base, c.key))
        except (KeyError, AttributeError, TypeError, ValueError):
            raise loaded.error(
                ("checks", i, "key"), f"{c.key!r} is not a number-valued parameter of the scenario"
            ) from None
    return loaded


def _effect_experiment(loaded: LoadedCalibration, i: int, e: Effect, here: str, shown_here: str):
    """The validation experiment and check an effect is fitted to, checked before any run."""
    from simulation.analysis.validation.spec import at, load_validation

    exp_path = os.path.join(here, e.experiment)
    exp_shown = os.path.normpath(os.path.join(shown_here, e.experiment))
    if not os.path.isfile(exp_path):
        raise loaded.error(
            ("effects", i, "experiment"), f"validation experiment {e.experiment!r} not found (looked for {exp_shown})"
        )
    exp = load_validation(exp_path, exp_shown)
    check = next((c for c in exp.spec.checks if c.name == e.check), None)
    if check is None:
        raise loaded.error(
            ("effects", i, "check"),
            f"no check {e.check!r} in {exp_shown}; expected one of {', '.join(c.name for c in exp.spec.checks)}",
        )
    if check.role != "fitted":
        raise loaded.error(
            ("effects", i, "check"),
            f"check {e.check!r} of {exp_shown} is not marked `role: fitted`: "
            "a check used as a calibration target must say so, so that "
            "validate-model never reports it as validation",
        )
    for v in (e.low, e.high):
        try:
            at(exp, {e.key: v})
            loaded.at({e.key: v})
        except InputError as exc:
            raise loaded.error(("effects", i), f"{e.key} = {v}: {exc.message}") from None
    return exp, check


def scenario_value(base: Resolved, key: str) -> Any:
    """A parameter's value, also one entry of a mapping-valued parameter (`market.bid_cost_share.ppp`)."""
    path = parse_path(key)
    for n in range(len(path), 0, -1):
        if path[:n] in base.values:
            value = base.values[path[:n]]
            for part in path[n:]:
                value = value[part] if isinstance(value, dict) else getattr(value, str(part))
            return value
    raise KeyError(key)

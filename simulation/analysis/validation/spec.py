"""Validation experiment files: the design, the published range and its source, checked before any run.

Read with the scenarios' safe YAML reader; every error names the file, the line and the key, and
every scenario override is validated against the base scenario (an unknown lever, a value out of
range) before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from simulation.analysis.validation.records import USER_KINDS
from simulation.engine.kernels.constants import INSTRUMENTS
from simulation.engine.metrics import GROUPS
from simulation.scenario.calendar import Calendar
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, load_scenario, with_overrides
from simulation.scenario.specfile import Located, spec_error
from simulation.scenario.types import YEAR_MONTH_PATTERN
from simulation.scenario.yamlio import KeyPath, dotted, read_yaml_file

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")]
Text = Annotated[str, Field(min_length=1)]

# the quantities each kind of experiment can estimate, and what a check must say to pick one
ESTIMATES: dict[str, dict[str, str | None]] = {  # kind -> estimate -> what it needs (an arm, a year)
    "promotion_return": {
        "average_return": "arm",
        "elasticity": "arm",
        "return_at_control": "arm",
        "marginal_decline": None,
    },
    "finance_users": {
        "users_value_change": "arm",
        "users_value_change_per_financed": "arm",
        "users_destinations_change": "arm",
    },
    "visit_event": {"visited_value_change": "year", "fading": "year"},
    "scenario_metric": {"metric_value": None},
    "lever_effect": {"value_change": "arm", "group_value_change": "arm", "small_minus_large": "arm"},
}
KINDS = tuple(ESTIMATES)


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Published(Spec):
    """The published range (None: unbounded on that side) and, if the study gives one, its point estimate."""

    low: Number | None = None
    high: Number | None = None
    point: Number | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Published:
        if self.low is None and self.high is None:
            raise ValueError("a published range needs `low:`, `high:` or both")
        if self.low is not None and self.high is not None and not self.low <= self.high:
            raise ValueError(f"empty range: low {self.low} must not be above high {self.high}")
        return self


class Check(Spec):
    name: Label
    estimate: str
    # fitted: a calibration target (`effects:` of experiments/calibration.yaml), so a pass is not
    # validation; held_out: kept out of every fit, a real test of the model
    role: Literal["fitted", "held_out"] = "held_out"
    arm: str | None = None
    year: Annotated[int, Strict(), Field(ge=0, le=20)] | None = None
    rule: Literal["overlap", "inside"] = "overlap"
    published: Published
    unit: Text
    metric: Text
    source: Text
    note: str = ""


class Arm(Spec):
    name: Label
    set: dict[str, Any] = Field(default_factory=dict)


class Common(Spec):
    name: Label
    description: str = ""
    kind: str
    base: Text
    set: dict[str, Any] = Field(default_factory=dict)
    replications: Annotated[int, Strict(), Field(ge=2, le=100_000)] = 20
    seed: Annotated[int, Strict(), Field(ge=0)] = 0
    checks: Annotated[list[Check], Field(min_length=1)]


class PromotionSpec(Common):
    """Extra value won per extra KRW of promotion spending at several doses, against the base."""

    kind: Literal["promotion_return"]
    spending_instruments: Annotated[list[Literal[INSTRUMENTS]], Field(min_length=1)]  # type: ignore[valid-type]
    every_dose: dict[str, Any] = Field(default_factory=dict)  # applied to each dose, not to the control
    doses: Annotated[list[Arm], Field(min_length=1)]


class FinanceSpec(Common):
    """Users of a concessional-finance instrument, followed against themselves without it."""

    kind: Literal["finance_users"]
    users: Literal[USER_KINDS]  # type: ignore[valid-type]
    control: dict[str, Any] = Field(default_factory=dict)
    arms: Annotated[list[Arm], Field(min_length=1)]


EVENTS = ("visit", "kotra_centre", "mou")


class VisitSpec(Common):
    """One event in one country per arm (a T1 high-level visit, an N4 KOTRA centre opening, a T5 MOU);
    value won there in the years from the event."""

    kind: Literal["visit_event"]
    event: Literal[EVENTS] = "visit"  # type: ignore[valid-type]
    visit_date: Annotated[str, Field(pattern=YEAR_MONTH_PATTERN)]  # the month of the event
    countries: Annotated[list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]], Field(min_length=1)]
    years_after: Annotated[int, Strict(), Field(ge=1, le=20)] = 4


class MetricSpec(Common):
    """A moment of the base scenario over some years: a level the evidence reports for the world as it was."""

    kind: Literal["scenario_metric"]
    metric: str
    years: Annotated[list[Annotated[int, Strict()]], Field(min_length=2, max_length=2)]

    @model_validator(mode="after")
    def _known(self) -> MetricSpec:
        from simulation.analysis.calibration.moments import MOMENTS

        if self.metric not in MOMENTS:
            raise ValueError(f"unknown metric {self.metric!r}; expected one of {', '.join(MOMENTS)}")
        if self.years[0] > self.years[1]:
            raise ValueError(f"years: the first year {self.years[0]} is after the last {self.years[1]}")
        return self


class LeverSpec(Common):
    """Treated arms against a control on the same seeds: Korean value won in all, in named groups
    (`groups:`, summed: regions, risk classes, domains, sizes) and by firm size."""

    kind: Literal["lever_effect"]
    control: dict[str, Any] = Field(default_factory=dict)
    arms: Annotated[list[Arm], Field(min_length=1)]
    groups: list[Literal[tuple(GROUPS)]] = Field(default_factory=list)  # type: ignore[valid-type]


MODELS: dict[str, type[Common]] = {
    "promotion_return": PromotionSpec,
    "finance_users": FinanceSpec,
    "visit_event": VisitSpec,
    "scenario_metric": MetricSpec,
    "lever_effect": LeverSpec,
}


@dataclass
class Loaded(Located):
    """A validated validation experiment: its spec, the control scenario and each treated arm resolved."""

    spec: Common
    file: str
    marks: dict[KeyPath, int]
    raw: dict
    control: Resolved
    arms: list[tuple[str, Resolved]]

    @property
    def hash(self) -> str:
        raw = {k: v for k, v in self.raw.items() if k != "description"}
        payload = json.dumps(
            {"spec": raw, "control": self.control.hash, "arms": [(n, r.hash) for n, r in self.arms]},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


def _parse_path(text: str) -> KeyPath:
    return tuple(int(p) if p.isdigit() else p for p in str(text).split("."))


def _apply(loaded: Loaded, base: Resolved, overrides: dict[str, Any], where: KeyPath) -> Resolved:
    """The base with overrides, any scenario error pointing into the experiment file."""
    if not overrides:
        return base
    try:
        return with_overrides(base, {_parse_path(k): v for k, v in overrides.items()}, loaded.file)
    except InputError as exc:
        key = exc.key or ", ".join(overrides)
        raise InputError(f"{key}: {exc.message}", loaded.file, loaded.line(where), dotted(where)) from None


def load_validation(path: str, shown: str | None = None) -> Loaded:
    """Read, validate and resolve one experiment file (InputError naming file, line and key if bad)."""
    shown = shown or path
    data, marks = read_yaml_file(path, shown)
    if not isinstance(data, dict):
        raise InputError("a validation experiment must be a mapping (name, kind, base, checks, ...)", shown, 1)
    kind = data.get("kind")
    if kind not in MODELS:
        what = "missing" if kind is None else f"unknown kind {kind!r:.60}"
        raise InputError(f"{what}; expected one of {', '.join(KINDS)}", shown, marks.get(("kind",)), "kind")
    try:
        spec = MODELS[kind].model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, shown, marks, data, missing="missing: required in a validation experiment file") from None
    base_path = os.path.join(os.path.dirname(path), spec.base)
    base_shown = os.path.normpath(os.path.join(os.path.dirname(shown), spec.base))
    loaded = Loaded(spec, shown, marks, data, None, [])  # type: ignore[arg-type]
    if not os.path.isfile(base_path):
        raise loaded.error(("base",), f"base scenario {spec.base!r} not found (looked for {base_shown})")
    base = _apply(loaded, load_scenario(base_path, shown=base_shown), spec.set, ("set",))
    _resolve_arms(loaded, base)
    _check_checks(loaded)
    return loaded


def _resolve_arms(loaded: Loaded, base: Resolved) -> None:
    spec = loaded.spec
    if isinstance(spec, PromotionSpec):
        loaded.control = base
        base = _apply(loaded, base, spec.every_dose, ("every_dose",))
        groups = [("doses", spec.doses)]
    elif isinstance(spec, (FinanceSpec, LeverSpec)):
        loaded.control = _apply(loaded, base, spec.control, ("control",))
        groups = [("arms", spec.arms)]
    elif isinstance(spec, MetricSpec):
        loaded.control = base
        first, last = int(base.scenario.time.start[:4]), int(base.scenario.time.end[:4])
        if not first <= spec.years[0] <= spec.years[1] <= last:
            raise loaded.error(("years",), f"years must lie within the scenario's horizon {first}-{last}")
        return
    else:
        assert isinstance(spec, VisitSpec)
        loaded.control = base
        seen: set[str] = set()
        for i, code in enumerate(spec.countries):
            if code in seen:
                raise loaded.error(("countries", i), f"country {code} is listed twice")
            seen.add(code)
            loaded.arms.append(
                (code, _apply(loaded, base, event_override(base, spec.event, code, spec.visit_date), ("countries", i)))
            )
        cal = Calendar(base.scenario.time.start, base.scenario.time.end)
        first = cal.month(spec.visit_date)
        if not 0 <= first < cal.n_months or cal.year_of[first] + spec.years_after > cal.n_years:
            raise loaded.error(
                ("years_after",),
                f"a visit in {spec.visit_date} followed for {spec.years_after} "
                f"calendar years does not fit the horizon {cal.years[0]}-{cal.years[-1]}",
            )
        return
    for key, arms in groups:
        names = [a.name for a in arms]
        for i, arm in enumerate(arms):
            if names.count(arm.name) > 1:
                raise loaded.error((key, i, "name"), f"two {key} are both named {arm.name!r}")
            loaded.arms.append((arm.name, _apply(loaded, base, arm.set, (key, i, "set"))))


def event_override(base: Resolved, event: str, code: str, date: str) -> dict[str, Any]:
    """The scenario change that makes one event happen in one country in one month."""
    if event == "visit":
        return {"levers.t1_high_level.visits": [{"country": code, "date": date}]}
    if event == "kotra_centre":
        return {
            "levers.n4_hubs.kotra_centres": [{"country": code, "start": date}],
            "levers.n4_hubs.kotra_max_centres": 1,
        }
    mous = [m.model_dump() for m in base.scenario.levers.t5_mou.mous]
    return {"levers.t5_mou.mous": mous + [{"country": code, "date": date}]}


def at(loaded: Loaded, values: dict[str, Any]) -> Loaded:
    """The same experiment with scenario values changed in its control and in every arm (a calibration point)."""
    if not values:
        return loaded
    over = {_parse_path(k): v for k, v in values.items()}
    return Loaded(
        loaded.spec,
        loaded.file,
        loaded.marks,
        loaded.raw,
        with_overrides(loaded.control, over, "calibration"),
        [(n, with_overrides(r, over, "calibration")) for n, r in loaded.arms],
    )


def _check_checks(loaded: Loaded) -> None:
    spec = loaded.spec
    allowed = ESTIMATES[spec.kind]
    arms = [name for name, _ in loaded.arms]
    names = [c.name for c in spec.checks]
    for i, c in enumerate(spec.checks):
        where = ("checks", i)
        if names.count(c.name) > 1:
            raise loaded.error(where + ("name",), f"two checks are both named {c.name!r}")
        if c.estimate not in allowed:
            raise loaded.error(
                where + ("estimate",),
                f"unknown estimate {c.estimate!r:.60} for a {spec.kind} "
                f"experiment; expected one of {', '.join(allowed)}",
            )
        needs = allowed[c.estimate]
        if needs == "arm" and (c.arm is None or c.arm not in arms):
            got = "missing" if c.arm is None else f"{c.arm!r:.60} is not one of them"
            raise loaded.error(where + ("arm",), f"this estimate needs `arm:`, one of {', '.join(arms)} ({got})")
        if needs == "year" and c.year is None:
            raise loaded.error(where, "this estimate needs `year:` (years after the visit, 0 = the visit's own year)")
        if needs != "arm" and c.arm is not None:
            raise loaded.error(where + ("arm",), f"`{c.estimate}` takes no `arm:`")
        if needs != "year" and c.year is not None:
            raise loaded.error(where + ("year",), f"`{c.estimate}` takes no `year:`")
        if isinstance(spec, VisitSpec) and c.year is not None and c.year >= spec.years_after:
            raise loaded.error(where + ("year",), f"year {c.year} is not measured (years_after: {spec.years_after})")
        if c.estimate == "group_value_change" and not getattr(spec, "groups", None):
            raise loaded.error(
                where + ("estimate",), "group_value_change needs `groups:` (the groups whose value it sums)"
            )
        if c.estimate == "marginal_decline" and len(arms) < 2:
            raise loaded.error(
                where + ("estimate",), "marginal_decline needs at least two doses (two steps from the control)"
            )

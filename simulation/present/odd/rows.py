"""One row per scenario parameter: what the schema says (meaning, unit, allowed values, measure)
and what the reference scenarios set (value and provenance).

The schema is walked here rather than through `loader.PARAMS` so that the documentation can be
generated against any schema model — the drift tests use a modified one to prove the check bites.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simulation.scenario.checks import SUM_TO_ONE
from simulation.scenario.loader import Resolved, load_scenario
from simulation.scenario.schema import Scenario, Section, extra_of
from simulation.scenario.shipped import shipped_dir
from simulation.scenario.types import NAME_PATTERN, REGIONS, YEAR_MONTH_PATTERN

SCENARIO_DIR = shipped_dir("scenarios") or Path("scenarios")  # the clone's, or a wheel's copies
BASE_SCENARIO = "no_plan.yaml"
PLAN_SCENARIO = "plan_2019_announced.yaml"
_UNSET = object()  # a parameter the scenario does not set (only with a modified schema)

# constraints across parameters (simulation/scenario/checks.py), as a note on the rows they bind
_CROSS = {p: "the group sums to 1" for p in SUM_TO_ONE}
_CROSS.update({("competition", "origin_mix", r): "the group sums to 1" for r in REGIONS})
_CROSS_FIELDS = {
    ("levers", "f1_pis", "government_share"): "government + public + private shares sum to 1",
    ("levers", "f1_pis", "public_share"): "government + public + private shares sum to 1",
    ("levers", "f1_pis", "private_target_share"): "government + public + private shares sum to 1",
    ("levers", "n1_kscon", "lag_months_min"): "at most lag_months_max",
    ("levers", "t3_ksp", "lag_months_min"): "at most lag_months_max",
    ("market", "levels_usd_bn"): "consecutive levels must agree with cagr within 0.5 %p",
    ("time", "end"): "not before time.start; at most 1200 months",
}


@dataclass(frozen=True)
class SchemaParam:
    """A parameter as the schema defines it."""

    path: tuple[str, ...]
    info: FieldInfo
    measure: str | None
    group: str  # the table it is listed in: a top-level section, or one lever section
    group_title: str

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class ParamRow:
    """One line of the generated parameter table."""

    name: str
    group: str
    group_title: str
    meaning: str
    unit: str
    allowed: str
    measure: str
    base_value: str
    base_kind: str
    base_source: str
    plan_value: str | None  # None: the announced plan keeps the no-plan value
    plan_kind: str
    plan_source: str


def _section(annotation: Any) -> type[Section] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, Section) else None


def _measure(info: FieldInfo) -> str | None:
    return extra_of(info).get("measure")


def walk(
    model: type[Section] = Scenario,
    prefix: tuple[str, ...] = (),
    measure: str | None = None,
    group: tuple[str, str] | None = None,
) -> Iterator[SchemaParam]:
    """Every parameter of `model` in schema order; a field without a measure inherits its section's."""
    for name, info in model.model_fields.items():
        path = prefix + (name,)
        own = _measure(info) or measure
        sub = _section(info.annotation)
        here = group
        if here is None and sub is not None and (path != ("levers",)):
            here = (".".join(path), info.description or "")
        if sub is not None:
            yield from walk(sub, path, own, here)
        else:
            g = here or ("scenario", "the scenario's name and description")
            yield SchemaParam(path, info, own, g[0], g[1])


# ---- allowed values, from the pydantic constraints -------------------------------------------
def _num(x: float) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    if float(x).is_integer() and abs(x) < 1e7:
        return str(int(x))
    return f"{x:g}"


def _flat_meta(items: Any) -> list[Any]:
    """Constraint objects, unpacking the FieldInfo that `Annotated[..., Field(ge=...)]` leaves."""
    out: list[Any] = []
    for m in items:
        if isinstance(m, FieldInfo):
            out.extend(m.metadata)
        else:
            out.append(m)
    return out


def _interval(meta: list[Any], integer: bool) -> str:
    ge = next((m.ge for m in meta if isinstance(m, at.Ge)), None)
    gt = next((m.gt for m in meta if isinstance(m, at.Gt)), None)
    le = next((m.le for m in meta if isinstance(m, at.Le)), None)
    lt = next((m.lt for m in meta if isinstance(m, at.Lt)), None)
    lo = (
        "(" + _num(gt) if gt is not None and (ge is None or gt >= ge) else ("[" + _num(ge) if ge is not None else "(−∞")
    )
    hi = _num(lt) + ")" if lt is not None and (le is None or lt <= le) else (_num(le) + "]" if le is not None else "∞)")
    return f"{'integer ' if integer else ''}{lo}, {hi}"


def _pattern(meta: list[Any]) -> str | None:
    return next((getattr(m, "pattern", None) for m in meta if getattr(m, "pattern", None)), None)


def _choices(args: tuple) -> str:
    if set(args) == set(REGIONS):
        return "a region code"
    return "one of " + ", ".join(str(a) for a in args)


def describe(annotation: Any, meta: list[Any] | None = None) -> str:
    """The values a parameter accepts, in words, from its type and pydantic constraints."""
    meta = list(meta or [])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return describe(args[0], meta + _flat_meta(annotation.__metadata__))
    if origin is typing.Union:
        sched = [a for a in args if typing.get_origin(a) is dict]
        plain = [a for a in args if typing.get_origin(a) is not dict]
        if sched and len(plain) == 1:
            return f"{describe(plain[0])}; or a schedule {{YYYY-MM: value}}"
        return " or ".join(describe(a) for a in args)
    if origin is typing.Literal:
        return _choices(args)
    if origin is dict:
        return f"{{{describe(args[0])}: {describe(args[1])}}}"
    if origin is list:
        return _list_of(args[0])
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return _interval(meta, integer=True)
    if annotation is float:
        return _interval(meta, integer=False)
    if annotation is str:
        return _TEXT.get(_pattern(meta) or "", "text")
    return str(annotation)


_TEXT = {  # what a string field's pattern means, in words
    YEAR_MONTH_PATTERN: "YYYY-MM",
    NAME_PATTERN: "1–100 characters; no '/', '\\', control characters or leading '.'",
    r"^[A-Z]{3}$": "ISO3 code",
}


def _list_of(item: Any) -> str:
    if typing.get_origin(item) is typing.Literal:
        return (
            "list of region codes"
            if set(typing.get_args(item)) == set(REGIONS)
            else "list of: " + ", ".join(typing.get_args(item))
        )
    if isinstance(item, type) and issubclass(item, BaseModel):
        return "list of {" + ", ".join(item.model_fields) + "}"
    return f"list of {describe(item)}"


def allowed(p: SchemaParam) -> str:
    text = describe(p.info.annotation, p.info.metadata)
    note = _CROSS.get(p.path[:-1]) or _CROSS_FIELDS.get(p.path)
    return f"{text}; {note}" if note else text


# ---- values ------------------------------------------------------------------------------------
def fmt_value(v: Any) -> str:
    """A scenario value as compact text: numbers with %g, mappings as {k: v}, lists as [a, b]."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {fmt_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    if isinstance(v, BaseModel):
        return fmt_value(v.model_dump())
    return str(v)


def load_reference(name: str, folder: Path = SCENARIO_DIR) -> Resolved:
    return load_scenario(str(folder / name), shown=f"scenarios/{name}")


def parameter_rows(
    schema: type[Section] = Scenario, base: Resolved | None = None, plan: Resolved | None = None
) -> list[ParamRow]:
    """The table rows: every schema parameter with the no-plan value and, where different, the plan's."""
    base = base or load_reference(BASE_SCENARIO)
    plan = plan or load_reference(PLAN_SCENARIO)
    rows = []
    for p in walk(schema):
        extra = extra_of(p.info)
        bv = base.values.get(p.path, _UNSET)
        pv = plan.values.get(p.path, _UNSET)
        bp, pp = base.prov.get(p.path), plan.prov.get(p.path)
        differs = pv is not _UNSET and pv != bv
        rows.append(
            ParamRow(
                name=p.name,
                group=p.group,
                group_title=p.group_title,
                meaning=p.info.description or "",
                unit=str(extra.get("unit", "")),
                allowed=allowed(p),
                measure=p.measure or "",  # type: ignore[union-attr]
                base_value="(not set)" if bv is _UNSET else fmt_value(bv),
                base_kind=bp.kind if bp else "unstated",
                base_source=bp.source if bp else "",
                plan_value=fmt_value(pv) if differs else None,
                plan_kind=pp.kind if (pp and differs) else "",
                plan_source=pp.source if (pp and differs) else "",
            )
        )
    return rows

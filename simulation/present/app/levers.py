"""The dashboard's levers: what each slider or switch reads from a scenario and which key paths it sets.

Each lever is a schema field (`CONTROLS`) and takes its measure code, description, unit and type
from the schema (simulation/scenario/schema.py), so the dashboard cannot drift from the model; a
control adds only what the schema cannot know: a short label, the slider's span and step (checked
against the schema's range when the module loads) and what the control does beyond the field.
A lever's setting is kept in display units (%p, %, counts) and turned into `--set`-style
overrides only where it differs from what the scenario itself says, so a scenario's dated
schedules (e.g. F5's 0.3 -> 1.0 %p) stay as written until the planner moves that lever.
The overridden scenario is re-validated by the ordinary loader (`with_overrides`), so the
dashboard can never run a scenario that `scsim run --set ...` would refuse.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from simulation.engine.params import country_table
from simulation.scenario.countries import CountryTable
from simulation.scenario.loader import PARAMS, Resolved, field_meta, with_overrides
from simulation.scenario.ranges import param_range
from simulation.scenario.yamlio import KeyPath

Kind = Literal["switch", "int", "float", "countries"]
Settings = dict[str, Any]

PLAN_KOTRA = {"country": "csv:kotra_plan_2019", "start": "2020-01"}  # the 30 centres of the plan (seed N4)
NEW_MOU_DATE = "2020-01"  # month a G2G MOU added on the dashboard is signed
# how a schema unit is shown on a slider: (display unit, display value per model value)
DISPLAY = {"per year": ("%p", 100.0), "fraction": ("%", 100.0), "fraction of bid cost": ("%", 100.0)}


@dataclass(frozen=True)
class Control:
    """What the dashboard adds to a schema field: which field, a short label, the slider's span in
    display units (narrower than the schema allows, so a slider moves in useful steps) and what the
    control does beyond setting the field. Everything else comes from the schema."""

    name: str
    key: str  # the schema field, dotted
    label: str  # shown after the measure code
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    note: str = ""  # added to the schema's description
    also: tuple[str, ...] = ()  # fields set to the same value
    on: Any = None  # a switch over a choice: the value "on" means


CONTROLS: tuple[Control, ...] = (
    Control("f5_enabled", "levers.f5_co_entry.enabled", "co-entry finance"),
    Control(
        "f5_rate_cut",
        "levers.f5_co_entry.rate_cut",
        "co-entry loan-rate cut",
        0.0,
        3.0,
        0.1,
        note="moving it replaces the scenario's schedule by one rate for the whole horizon",
    ),
    Control(
        "n2_ratio",
        "levers.n2_subsidy.ratio.sme",
        "subsidy ratio, SMEs and startups",
        0.0,
        100.0,
        5.0,
        note="the same share for SMEs and startups",
        also=("levers.n2_subsidy.ratio.startup",),
    ),
    Control("c5_roadshows", "levers.c5_roadshows.per_year", "roadshows per year", 0, 20),
    Control(
        "n4_kotra",
        "levers.n4_hubs.kotra_max_centres",
        "KOTRA centres",
        0,
        30,
        note="the scenario's centres first, then the plan's 30 (from 2020-01), up to this many",
    ),
    Control(
        "c2_slots",
        "levers.c2_consortia.slots_per_year",
        "consortium slots per year",
        0,
        60,
        note="one number for the whole horizon",
    ),
    Control("t5_mous", "levers.t5_mou.mous", "G2G MOU countries", note=f"an added country signs in {NEW_MOU_DATE}"),
    Control("f1_enabled", "levers.f1_pis.enabled", "PIS smart-city fund"),
    Control(
        "f2_subordinated",
        "levers.f2_loss_order.order",
        "government takes losses first",
        note="on: subordinated (government, public, then private); off: pari passu",
        on="subordinated",
    ),
)


@dataclass(frozen=True)
class Lever:
    """One control as the page draws it: label, measure, help and unit from the schema."""

    name: str
    label: str
    measure: str
    kind: Kind
    help: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    scale: float = 1.0  # display value = model value * scale (a rate 0.01 shows as 1.0 %p)
    unit: str = ""
    paths: tuple[KeyPath, ...] = ()  # the schema fields it sets; the first is the one read back
    choice: tuple[Any, Any] | None = None  # a switch over a choice: (off, on)


def _path(key: str) -> KeyPath:
    path = tuple(key.split("."))
    if path not in PARAMS:
        raise ValueError(f"dashboard lever {key!r} is not a field of the scenario schema")
    return path


def _choice(path: KeyPath, on: Any) -> tuple[Any, Any]:
    """(off, on) of a two-valued choice field."""
    values = typing.get_args(PARAMS[path].annotation)
    if len(values) != 2 or on not in values:
        raise ValueError(f"{'.'.join(path)} is not a choice of two values including {on!r}")
    return (values[0] if values[1] == on else values[1], on)


def _kind(path: KeyPath, c: Control) -> Kind:
    r = param_range(path)
    if r.kind == "bool" or c.on is not None:
        return "switch"
    if r.kind in ("int", "float"):
        return r.kind
    if typing.get_origin(PARAMS[path].annotation) is list:
        return "countries"
    raise ValueError(f"no dashboard control for {'.'.join(path)}")


def lever(c: Control) -> Lever:
    """The control's lever, with what the schema says of its field; a slider beyond the schema's range is refused."""
    path = _path(c.key)
    meta = field_meta(path)
    kind = _kind(path, c)
    unit, scale = DISPLAY.get(meta["unit"], ("", 1.0)) if kind in ("int", "float") else ("", 1.0)
    if kind in ("int", "float"):
        r = param_range(path)
        if (r.lo is not None and c.lo / scale < r.lo) or (r.hi is not None and c.hi / scale > r.hi):
            raise ValueError(f"the {c.name} slider [{c.lo}, {c.hi}] {unit} leaves the schema's [{r.lo}, {r.hi}]")
    about = meta["description"].removesuffix(f" ({path[-1]})")  # a keyed field's own key, e.g. (sme)
    return Lever(
        c.name,
        f"{meta['measure']} {c.label}",
        meta["measure"],
        kind,
        f"{about}; {c.note}" if c.note else about,
        c.lo,
        c.hi,
        c.step,
        scale,
        unit,
        (path, *(_path(k) for k in c.also)),
        _choice(path, c.on) if c.on is not None else None,
    )


LEVERS: tuple[Lever, ...] = tuple(lever(c) for c in CONTROLS)
BY_NAME = {lv.name: lv for lv in LEVERS}
_P_KOTRA: KeyPath = ("levers", "n4_hubs", "kotra_centres")
_P_KOTRA_MAX = BY_NAME["n4_kotra"].paths[0]
_P_MOU = BY_NAME["t5_mous"].paths[0]


def in_force(value: Any) -> Any:
    """The value of a constant or a dated schedule that holds for most of the horizon: its last entry."""
    if isinstance(value, dict) and value:
        return value[max(value, key=str)]
    return value


def _codes(items: list, table: CountryTable) -> list[str]:
    """Distinct ISO3 codes of a centre list (flags like csv:kotra_plan_2019 expanded), in listed order."""
    out: list[str] = []
    for it in items:
        code = it["country"] if isinstance(it, dict) else it.country
        for c in table.flagged(code[4:]) if code.startswith("csv:") else [code]:
            if c not in out:
                out.append(c)
    return out


def _kotra_list(r: Resolved) -> list[dict]:
    """The scenario's own KOTRA centres followed by the plan's, as plain entries."""
    own = [dict(it) for it in r.values[_P_KOTRA]]
    return own + ([dict(PLAN_KOTRA)] if PLAN_KOTRA not in own else [])


def kotra_range(r: Resolved) -> int:
    """How many distinct centres the KOTRA slider can open in this scenario."""
    return len(_codes(_kotra_list(r), country_table(r)))


def read(r: Resolved) -> Settings:
    """The lever settings a scenario states, in display units."""
    v = r.values
    out: Settings = {}
    for lv in LEVERS:
        value = in_force(v[lv.paths[0]])
        if lv.name == "n4_kotra":
            out[lv.name] = min(len(_codes(v[_P_KOTRA], country_table(r))), int(value))
        elif lv.kind == "countries":
            out[lv.name] = tuple(sorted({m["country"] for m in value}))
        elif lv.kind == "switch":
            out[lv.name] = bool(value) if lv.choice is None else value == lv.choice[1]
        elif lv.kind == "int":
            out[lv.name] = int(value)
        else:
            out[lv.name] = round(float(value) * lv.scale, 6)
    return out


def _model_value(lv: Lever, shown: Any) -> Any:
    """A setting in display units as the value its schema field takes."""
    if lv.kind == "switch":
        return bool(shown) if lv.choice is None else lv.choice[bool(shown)]
    if lv.kind == "int":
        return int(shown)
    return round(float(shown) / lv.scale, 9)


def overrides(r: Resolved, settings: Settings) -> dict[KeyPath, Any]:
    """Key paths and values for the levers whose setting differs from the scenario's own."""
    base = read(r)
    unknown = set(settings) - set(base)
    if unknown:
        raise KeyError(f"unknown levers: {', '.join(sorted(unknown))}")
    out: dict[KeyPath, Any] = {}
    for name, val in settings.items():
        if val == base[name]:
            continue
        lv = BY_NAME[name]
        if name == "n4_kotra":
            out[_P_KOTRA] = _kotra_list(r)
            out[_P_KOTRA_MAX] = int(val)
        elif name == "t5_mous":
            chosen = set(val)
            kept = [dict(m) for m in r.values[_P_MOU] if m["country"] in chosen]
            have = {m["country"] for m in kept}
            out[_P_MOU] = kept + [{"country": c, "date": NEW_MOU_DATE} for c in sorted(chosen - have)]
        else:
            for path in lv.paths:
                out[path] = _model_value(lv, val)
    return out


def apply(r: Resolved, settings: Settings) -> Resolved:
    """The scenario with the dashboard's settings, validated like any `--set` override."""
    ov = overrides(r, settings)
    return with_overrides(r, ov, "dashboard") if ov else r


def countries(r: Resolved) -> list[tuple[str, str]]:
    """(ISO3, name) of every country in the scenario's table, for the MOU picker."""
    table = country_table(r)
    return list(zip(table.iso3, table.name, strict=True))

"""The dashboard's levers: what each slider or switch reads from a scenario and which key paths it sets.

A lever's setting is kept in display units (%p, %, counts) and turned into `--set`-style
overrides only where it differs from what the scenario itself says, so a scenario's dated
schedules (e.g. F5's 0.3 -> 1.0 %p) stay as written until the planner moves that lever.
The overridden scenario is re-validated by the ordinary loader (`with_overrides`), so the
dashboard can never run a scenario that `scsim run --set ...` would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from simulation.engine.params import country_table
from simulation.scenario.countries import CountryTable
from simulation.scenario.loader import Resolved, with_overrides
from simulation.scenario.yamlio import KeyPath

Kind = Literal["switch", "int", "float", "countries"]
Settings = dict[str, Any]

PLAN_KOTRA = {"country": "csv:kotra_plan_2019", "start": "2020-01"}  # the 30 centres of the plan (seed N4)
NEW_MOU_DATE = "2020-01"  # month a G2G MOU added on the dashboard is signed


@dataclass(frozen=True)
class Lever:
    name: str
    label: str
    measure: str
    kind: Kind
    help: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 1.0
    scale: float = 1.0      # display value = model value * scale (a rate 0.01 shows as 1.0 %p)
    unit: str = ""


LEVERS: tuple[Lever, ...] = (
    Lever("f5_enabled", "F5 co-entry finance", "F5", "switch",
          "large-SME consortia borrow the SME share at a cut rate"),
    Lever("f5_rate_cut", "F5 co-entry loan-rate cut", "F5", "float",
          "moving it replaces the scenario's schedule by one rate for the whole horizon",
          lo=0.0, hi=3.0, step=0.1, scale=100.0, unit="%p"),
    Lever("n2_ratio", "N2 subsidy ratio, SMEs and startups", "N2", "float",
          "share of bid cost the market-exploration subsidy reimburses",
          lo=0.0, hi=100.0, step=5.0, scale=100.0, unit="%"),
    Lever("c5_roadshows", "C5 roadshows per year", "C5", "int",
          "SME/startup delegations to the target regions", lo=0, hi=20),
    Lever("n4_kotra", "N4 KOTRA centres", "N4", "int",
          "the scenario's centres first, then the plan's 30 (from 2020-01), up to this many", lo=0, hi=30),
    Lever("c2_slots", "C2 consortium slots per year", "C2", "int",
          "large-SME consortia KOTRA helps form each year (one number for the whole horizon)", lo=0, hi=60),
    Lever("t5_mous", "T5 G2G MOU countries", "T5", "countries",
          f"countries with a smart-city MOU; an added country signs in {NEW_MOU_DATE}"),
    Lever("f1_enabled", "F1 PIS smart-city fund", "F1", "switch",
          "fund equity in Korean-won PPP projects"),
    Lever("f2_subordinated", "F2 government takes losses first", "F2", "switch",
          "on: subordinated (government, public, then private); off: pari passu"),
)
BY_NAME = {lv.name: lv for lv in LEVERS}

_P_F5_ON: KeyPath = ("levers", "f5_co_entry", "enabled")
_P_F5_CUT: KeyPath = ("levers", "f5_co_entry", "rate_cut")
_P_N2: KeyPath = ("levers", "n2_subsidy", "ratio")
_P_C5: KeyPath = ("levers", "c5_roadshows", "per_year")
_P_KOTRA: KeyPath = ("levers", "n4_hubs", "kotra_centres")
_P_KOTRA_MAX: KeyPath = ("levers", "n4_hubs", "kotra_max_centres")
_P_C2: KeyPath = ("levers", "c2_consortia", "slots_per_year")
_P_MOU: KeyPath = ("levers", "t5_mou", "mous")
_P_F1: KeyPath = ("levers", "f1_pis", "enabled")
_P_F2: KeyPath = ("levers", "f2_loss_order", "order")


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
        for c in (table.flagged(code[4:]) if code.startswith("csv:") else [code]):
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
    table = country_table(r)
    return {
        "f5_enabled": bool(v[_P_F5_ON]),
        "f5_rate_cut": _show("f5_rate_cut", in_force(v[_P_F5_CUT])),
        "n2_ratio": _show("n2_ratio", in_force(v[_P_N2 + ("sme",)])),
        "c5_roadshows": int(in_force(v[_P_C5])),
        "n4_kotra": min(len(_codes(v[_P_KOTRA], table)), int(v[_P_KOTRA_MAX])),
        "c2_slots": int(in_force(v[_P_C2])),
        "t5_mous": tuple(sorted({m["country"] for m in v[_P_MOU]})),
        "f1_enabled": bool(v[_P_F1]),
        "f2_subordinated": v[_P_F2] == "subordinated",
    }


def _show(name: str, model_value: float) -> float:
    lv = BY_NAME[name]
    return round(float(model_value) * lv.scale, 6)


def _model(name: str, shown: float) -> float:
    return round(float(shown) / BY_NAME[name].scale, 9)


def overrides(r: Resolved, settings: Settings) -> dict[KeyPath, Any]:
    """Key paths and values for the levers whose setting differs from the scenario's own."""
    base = read(r)
    unknown = set(settings) - set(base)
    if unknown:
        raise KeyError(f"unknown levers: {', '.join(sorted(unknown))}")
    changed = {k: val for k, val in settings.items() if val != base[k]}
    out: dict[KeyPath, Any] = {}
    for name, val in changed.items():
        if name == "f5_enabled":
            out[_P_F5_ON] = bool(val)
        elif name == "f5_rate_cut":
            out[_P_F5_CUT] = _model(name, val)
        elif name == "n2_ratio":
            out[_P_N2 + ("sme",)] = out[_P_N2 + ("startup",)] = _model(name, val)
        elif name == "c5_roadshows":
            out[_P_C5] = int(val)
        elif name == "n4_kotra":
            out[_P_KOTRA] = _kotra_list(r)
            out[_P_KOTRA_MAX] = int(val)
        elif name == "c2_slots":
            out[_P_C2] = int(val)
        elif name == "t5_mous":
            chosen = set(val)
            kept = [dict(m) for m in r.values[_P_MOU] if m["country"] in chosen]
            have = {m["country"] for m in kept}
            out[_P_MOU] = kept + [{"country": c, "date": NEW_MOU_DATE} for c in sorted(chosen - have)]
        elif name == "f1_enabled":
            out[_P_F1] = bool(val)
        elif name == "f2_subordinated":
            out[_P_F2] = "subordinated" if val else "pari_passu"
    return out


def apply(r: Resolved, settings: Settings) -> Resolved:
    """The scenario with the dashboard's settings, validated like any `--set` override."""
    ov = overrides(r, settings)
    return with_overrides(r, ov, "dashboard") if ov else r


def countries(r: Resolved) -> list[tuple[str, str]]:
    """(ISO3, name) of every country in the scenario's table, for the MOU picker."""
    table = country_table(r)
    return list(zip(table.iso3, table.name, strict=True))

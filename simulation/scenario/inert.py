"""Levers that cannot act: a lever set in a scenario whose switches or capacities are off there.

The rules are the `needs` of the schema's lever fields (schema.py, one table): F5 co-entry
finance needs F5 enabled, a rate cut, money in its pot and C2 consortium slots, because it lends
only to the SME partners of supported consortia; the C3 catalogue needs C2; and so on. A need
is a key path that must be on, non-zero at some month of the horizon, or non-empty; `A | B`
(either), `PATH < N`, `PATH in horizon` (a month no later than time.end), `YEARS years from
START in horizon` (a span that ends inside the horizon), or a lever section (that lever can act,
by its own needs).

`notes(resolved)` names the levers the scenario sets itself (its file, `take:`, overrides) that
cannot act because of something stated further from the user (an override over the file, the
file over `take:`, either over what it `extends:`): a lever written the way the README writes
one, on top of `no_plan.yaml` where F5 is disabled, says so instead of giving differences of
exactly zero. A measure switched off where its details are set (as no_plan.yaml does) is left
alone: that is deliberate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from simulation.scenario.loader import PARAMS, Resolved, section_type
from simulation.scenario.schema import Scenario, Section, extra_of
from simulation.scenario.yamlio import KeyPath, dotted

_CMP = re.compile(r"^(?P<path>[\w.]+)\s*(?P<op><=|>=|<|>)\s*(?P<num>-?[\d.]+)$")
_HORIZON = re.compile(r"^(?P<path>[\w.]+)\s+in horizon$")
_ENDS = re.compile(r"^(?P<years>[\w.]+)\s+years from\s+(?P<start>[\w.]+)\s+in horizon$")


@dataclass
class Failure:
    """One need that does not hold: why, in words, and the parameters it rests on."""

    text: str
    params: set[KeyPath] = field(default_factory=set)


@dataclass
class Inert:
    """A lever parameter that cannot act in a scenario."""

    path: KeyPath
    failures: list[Failure]
    acts: str
    label: str


def _field(path: KeyPath):
    """FieldInfo of a parameter or section path (None if the schema has no such path)."""
    model: type[Section] | None = Scenario
    info = None
    for name in path:
        if model is None or name not in model.model_fields:
            return None
        info = model.model_fields[name]
        model = section_type(info.annotation)
    return info


def _extra(path: KeyPath) -> dict:
    info = _field(path)
    return extra_of(info) if info is not None else {}


def needs_of(path: KeyPath) -> tuple[list[str], str, str]:
    """(needs, how it acts, the lever's label) of a parameter: its own `needs` and those of the
    sections around it, innermost first."""
    needs: list[str] = []
    acts = ""
    for n in range(len(path), 0, -1):
        extra = _extra(path[:n])
        needs += [x for x in extra.get("needs", ()) if x not in needs]
        acts = acts or extra.get("acts", "")
    return needs, acts, _lever_label(path)


def _lever_label(path: KeyPath) -> str:
    """The lever a path belongs to, as the schema describes it ("F5 large–SME co-entry finance")."""
    info = _field(path[:2]) if len(path) >= 2 else None
    return info.description if info is not None and info.description else dotted(path)


class _Eval:
    """Evaluates needs against one resolved scenario, month by month over its horizon."""

    def __init__(self, r: Resolved) -> None:
        from simulation.scenario.calendar import Calendar

        self.r = r
        t = r.scenario.time
        self.start, self.end = t.start, t.end
        self.cal = Calendar(t.start, t.end)

    def where(self, path: KeyPath) -> str:
        file, line = self.r.where(path)
        return f" ({file}:{line})" if file and line else (f" ({file})" if file else "")

    def leaves(self, path: KeyPath) -> list[KeyPath]:
        return [p for p in PARAMS if p[: len(path)] == path]

    def truthy(self, path: KeyPath) -> bool:
        """On, non-zero at some month of the horizon, or non-empty (a section: any parameter in it)."""
        if path not in PARAMS:
            return any(self.truthy(p) for p in self.leaves(path))
        v = self.r.values[path]
        if isinstance(v, (list, tuple, str)):
            return len(v) > 0
        if isinstance(v, (dict, bool, int, float)):
            try:
                monthly = self.cal.monthly(v)
            except (TypeError, ValueError):
                return bool(v)
            return bool((monthly != 0).any())
        return bool(v)

    def describe(self, path: KeyPath) -> str:
        """Why a parameter is not truthy, in words, with the file and line that set it."""
        if path not in PARAMS:
            return f"every parameter of {dotted(path)} is 0, off or empty"
        v = self.r.values[path]
        span = f"{self.start} to {self.end}"
        if isinstance(v, list):
            what = "is empty"
        elif isinstance(v, dict):
            what = f"is {'off' if all(isinstance(x, bool) for x in v.values()) else '0'} throughout {span}"
        elif isinstance(v, bool):
            what = "is false"
        else:
            what = f"is {v:g}" if isinstance(v, (int, float)) else f"is {v!r}"
        return f"{dotted(path)} {what}{self.where(path)}"

    def need(self, text: str, skip: KeyPath, seen: frozenset) -> Failure | None:
        """None when the need holds (or rests only on `skip`, the parameter asked about)."""
        alts = [a.strip() for a in text.split("|")]
        fails = []
        for alt in alts:
            f = self.one(alt, skip, seen)
            if f is None:
                return None
            fails.append(f)
        if len(fails) == 1:
            return fails[0]
        return Failure(
            "none of the alternatives holds: " + " and ".join(f.text for f in fails),
            set().union(*(f.params for f in fails)),
        )

    def one(self, text: str, skip: KeyPath, seen: frozenset) -> Failure | None:
        m = _CMP.match(text)
        if m:
            path = tuple(m["path"].split("."))
            if path == skip:
                return None
            v, n = self.r.values[path], float(m["num"])
            ok = {"<": v < n, ">": v > n, "<=": v <= n, ">=": v >= n}[m["op"]]
            return (
                None if ok else Failure(f"{dotted(path)} is {v} (needs {m['op']} {m['num']}){self.where(path)}", {path})
            )
        m = _HORIZON.match(text)
        if m:
            path = tuple(m["path"].split("."))
            if path == skip:
                return None
            v = self.r.values[path]
            return (
                None
                if str(v) <= self.end
                else Failure(f"{dotted(path)} is {v}, after the horizon ends ({self.end}){self.where(path)}", {path})
            )
        m = _ENDS.match(text)
        if m:
            # not skipped for the duration asked about: its own end beyond the horizon is why it cannot act
            years, start = tuple(m["years"].split(".")), tuple(m["start"].split("."))
            end_m = self.cal.month(self.r.values[start]) + int(round(12 * float(self.r.values[years])))
            return (
                None
                if end_m < self.cal.n_months
                else Failure(
                    f"{dotted(years)} ({self.r.values[years]:g}) from {dotted(start)} ({self.r.values[start]}) ends after "
                    f"the horizon ({self.end}{self.where(('time', 'end'))}); extend time.end to see it",
                    {years, ("time", "end")},
                )
            )
        path = tuple(text.split("."))
        if path == skip:
            return None
        if path not in PARAMS and _extra(path).get("needs"):  # another lever: it must be able to act
            if path in seen:
                return None
            inner = self.failures(path, skip, seen | {path})
            if not inner:
                return None
            return Failure(
                f"{_lever_label(path)} cannot act: " + "; ".join(f.text for f in inner),
                set().union(*(f.params for f in inner)),
            )
        if self.truthy(path):
            return None
        return Failure(self.describe(path), {path} if path in PARAMS else set(self.leaves(path)))

    def failures(self, path: KeyPath, skip: KeyPath, seen: frozenset = frozenset()) -> list[Failure]:
        """The needs of `path` (a parameter, or a lever section) that do not hold."""
        needs = list(_extra(path).get("needs", ())) if path not in PARAMS else needs_of(path)[0]
        out = []
        for n in needs:
            f = self.need(n, skip, seen)
            if f is not None:
                out.append(f)
        return out


def inert_levers(r: Resolved) -> list[Inert]:
    """Every lever parameter of the scenario that cannot act there, with the reasons."""
    ev = _Eval(r)
    out = []
    for path in PARAMS:
        if path[0] != "levers":
            continue
        needs, acts, label = needs_of(path)
        if not needs:
            continue
        fails = ev.failures(path, skip=path)
        if fails:
            out.append(Inert(path, fails, acts, label))
    return out


def _is_off(r: Resolved, path: KeyPath) -> bool:
    """A zero, false or empty value: switching a measure off is never a lever that "cannot act"."""
    v = r.values[path]
    if isinstance(v, dict):
        return all(not x for x in v.values())
    if isinstance(v, float) and math.isnan(v):
        return False
    return not v


def _rank(r: Resolved, path: KeyPath) -> int:
    """How close to the user a value was stated: 3 an override (`--set`, the API's dict, a sweep),
    2 the scenario's own file, 1 a section it copies with `take:`, 0 inherited through `extends:`."""
    pr = r.prov[path]
    if pr.kind == "override":
        return 3
    if path not in r.own:
        return 0
    return 2 if pr.file == (r.files[0] if r.files else None) else 1


def notes(r: Resolved) -> list[str]:
    """One line per group of levers the scenario sets that cannot act there, and why."""
    groups: dict[tuple[str, ...], list[Inert]] = {}
    for x in inert_levers(r):
        if x.path not in r.own or _is_off(r, x.path):
            continue
        mine = _rank(r, x.path)
        if all(_rank(r, p) >= mine for f in x.failures for p in f.params):
            continue  # switched off where it is set (as no_plan.yaml does), or later: deliberate
        key = tuple(f.text for f in x.failures)
        groups.setdefault(key, []).append(x)
    out = []
    for reasons, xs in groups.items():
        names = ", ".join(dotted(x.path) for x in xs)
        out.append(f"{r.scenario.name}: {names} cannot act here: {'; '.join(reasons)}. ({xs[0].label}: {xs[0].acts}.)")
    return out


def inert_paths(r: Resolved) -> dict[str, Any]:
    """{dotted lever path: [reasons]} of every inert lever, for manifests and the API."""
    return {dotted(x.path): [f.text for f in x.failures] for x in inert_levers(r)}

"""What the schema allows for one parameter: its scalar type and range.

Read from the pydantic annotations themselves (`between(lo, hi)`, `int_between(lo, hi)`, `Sched[...]`), so
sweeps, SALib problems and EMA Workbench parameters take their bounds from the one place the
scenario files are validated against.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, cast

import annotated_types as at

from simulation.scenario.loader import PARAMS, is_schedule_param
from simulation.scenario.yamlio import KeyPath


@dataclass(frozen=True)
class Range:
    """kind: "float", "int", "bool" or "other" (text, lists, sections); lo/hi: the schema's bounds."""

    kind: str
    lo: float | None
    hi: float | None
    schedule: bool

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")


def _scalar(annotation: Any, metadata: list) -> tuple[Any, list]:
    """The constant member of a schedule union, with the constraints pydantic keeps beside it."""
    if typing.get_origin(annotation) is typing.Union:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        meta = []
        for e in extra:  # Field(...) inside Annotated carries its own metadata list
            meta += list(getattr(e, "metadata", None) or [e])
        return base, meta
    return annotation, list(metadata)


def param_range(path: KeyPath) -> Range:
    """The type and bounds of parameter `path` (KeyError for a path that is not a parameter)."""
    info = PARAMS[tuple(path)]
    base, meta = _scalar(info.annotation, info.metadata)
    lo: float | None = None
    hi: float | None = None
    for m in meta:
        if isinstance(m, at.Ge):  # the schema's bounds are numbers (int bounds stay ints)
            lo = cast(float, m.ge)
        elif isinstance(m, at.Gt):
            lo = cast(float, m.gt) if lo is None else max(lo, cast(float, m.gt))
        elif isinstance(m, at.Le):
            hi = cast(float, m.le)
    kind = {bool: "bool", int: "int", float: "float"}.get(base, "other")
    return Range(kind, lo, hi, is_schedule_param(tuple(path)))


def wants_int(path: KeyPath) -> bool:
    try:
        return param_range(path).kind == "int"
    except KeyError:
        return False

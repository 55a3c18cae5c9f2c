"""Constrained value types shared by the scenario schema.

Every number in a scenario is strict (no silent str→float or bool→int coercion), finite,
and bounded, so hostile inputs fail validation instead of reaching the kernels.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import Field, Strict, StringConstraints

# a scenario name also names the default results folder: no path separators, control characters or leading dot
NAME_PATTERN = r"^[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,99}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
YEAR_MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
YearMonth = Annotated[str, StringConstraints(pattern=YEAR_MONTH_PATTERN)]

SIZES = ("large", "mid", "sme", "startup")
DOMAINS = ("urban_dev", "ict_platform", "mobility", "energy_water", "safety_env", "design")
TYPES = ("master_plan", "ict_solution", "epc", "ppp")
REGIONS = (
    "asean",
    "east_south_asia",
    "middle_east",
    "central_asia",
    "latin_america",
    "africa",
    "europe",
    "north_america_oceania",
)
ORIGINS = ("china", "japan", "europe", "us", "local")
INCOMES = ("low", "lower_middle", "upper_middle", "high")
TRANCHES = ("government", "public", "private")
RISK_CLASSES = tuple(range(8))

Region = Literal[REGIONS]  # type: ignore[valid-type]
Domain = Literal[DOMAINS]  # type: ignore[valid-type]
TenderType = Literal[TYPES]  # type: ignore[valid-type]
Income = Literal[INCOMES]  # type: ignore[valid-type]
Iso3 = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


Float = Annotated[float, Strict()]  # a float field: ints accepted, bools and strings not
Int = Annotated[int, Strict()]


def between(lo: float | None = None, hi: float | None = None, *, gt: float | None = None) -> Any:
    """The bounds of a finite float: `Annotated[Float, between(lo, hi)]` (Annotated flattens, so this is
    `Annotated[float, Strict(), Field(...)]`, and mypy sees a float)."""
    return Field(ge=lo, le=hi, gt=gt, allow_inf_nan=False)


def int_between(lo: int | None = None, hi: int | None = None) -> Any:
    """The bounds of an integer: `Annotated[Int, int_between(lo, hi)]`."""
    return Field(ge=lo, le=hi)


Ratio = Annotated[Float, between(0.0, 1.0)]
Prob = Annotated[Float, between(0.0, 1.0)]
MoneyKrwBn = Annotated[Float, between(0.0, 1e6)]  # up to 1,000 trn KRW
MoneyUsdM = Annotated[Float, between(0.0, 1e7)]  # up to 10 trn USD
Months = Annotated[Int, int_between(0, 600)]
Weight = Annotated[Float, between(-100.0, 100.0)]
Flag = Annotated[bool, Strict()]


T = TypeVar("T")
# A lever value: a constant or a dated schedule {YYYY-MM: value} (step function). typing.Union, not
# `|`: subscripted with a plain class, `T | ...` would make a types.UnionType the schema readers do not expect.
Sched = Union[T, dict[YearMonth, T]]  # noqa: UP007


def sched(t: Any) -> Any:
    """`Sched[t]` where the type is needed as a value (a field made by pydantic's create_model)."""
    return Union[t, dict[YearMonth, t]]  # noqa: UP007 - the same as Sched[t]

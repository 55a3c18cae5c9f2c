"""Words the tables, figures and the report share, so that each says a thing the same way."""

from __future__ import annotations

from collections.abc import Sequence


def replications_text(reps: int, sets: int | None = None) -> str:
    """How many runs a mean is over: "20 replications", or "20 replications × 10 parameter sets"
    (`compare --parameter-sets`). A re-shown result says it as the first run did."""
    text = f"{reps} replication{'s' if reps != 1 else ''}"
    return text + (f" × {sets} parameter set{'s' if sets != 1 else ''}" if sets else "")


def overrides_text(overrides: Sequence[str]) -> str:
    """`--set` overrides as one phrase: "levers.a=1, levers.b=[x, y]"."""
    return ", ".join(overrides)


def with_overrides(title: str, overrides: Sequence[str]) -> str:
    """A title that says the overrides applied to every scenario in it."""
    return f"{title} (with {overrides_text(overrides)})" if overrides else title

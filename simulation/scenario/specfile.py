"""What the files read beside the scenarios share (experiments, calibrations, validation
experiments): the line of a key path, errors that point at it, and a pydantic error turned into
one such message. One place, so that every file kind reports bad input the same way."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from simulation.scenario.errors import ScenarioError
from simulation.scenario.loader import _clean_loc, _describe
from simulation.scenario.yamlio import Path, dotted


def line_of(marks: dict[Path, int], path: Path) -> int | None:
    """The line of the deepest part of `path` the file has (a missing key: its parent's line)."""
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in marks:
            return marks[tuple(path[:n])]
    return None


class Located:
    """Mixin for a loaded file with `file` (as shown to the user) and `marks` (key path -> line)."""
    file: str
    marks: dict[Path, int]

    def line(self, path: Path) -> int | None:
        return line_of(self.marks, path)

    def error(self, path: Path, message: str) -> ScenarioError:
        return ScenarioError(message, self.file, self.line(path), dotted(path))


def spec_error(exc: ValidationError, file: str, marks: dict[Path, int], data: Any = None,
               missing: str | None = None, reword: Callable[[dict], str | None] | None = None) -> ScenarioError:
    """The first pydantic error as one message naming the file, line and key path.

    `missing` replaces the message for a missing key; `reword(err)` may replace any other."""
    err = exc.errors()[0]
    loc = _clean_loc(err["loc"], data)
    msg = _describe(err)
    if err.get("type") == "value_error":
        msg = str(err.get("ctx", {}).get("error", msg))
    elif err.get("type") == "missing" and missing:
        msg = missing
    if reword is not None:
        msg = reword(err) or msg
    return ScenarioError(msg, file, line_of(marks, loc), dotted(loc) or None)

"""What the files read beside the scenarios share (experiments, calibrations, validation
experiments): the line of a key path, errors that point at it, and a pydantic error turned into
one such message. One place, so that every file kind reports bad input the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from simulation.scenario.errors import InputError
from simulation.scenario.loader import clean_loc, describe_error
from simulation.scenario.yamlio import KeyPath, dotted


def line_of(marks: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of the deepest part of `path` the file has (a missing key: its parent's line)."""
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in marks:
            return marks[tuple(path[:n])]
    return None


class Located:
    """Mixin for a loaded file with `file` (as shown to the user) and `marks` (key path -> line)."""

    file: str
    marks: dict[KeyPath, int]

    def line(self, path: KeyPath) -> int | None:
        return line_of(self.marks, path)

    def error(self, path: KeyPath, message: str) -> InputError:
        return InputError(message, self.file, self.line(path), dotted(path))


def spec_error(
    exc: ValidationError,
    file: str,
    marks: dict[KeyPath, int],
    data: Any = None,
    missing: str | None = None,
    reword: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> InputError:
    """The first pydantic error as one message naming the file, line and key path.

    `missing` replaces the message for a missing key; `reword(err)` may replace any other."""
    err = exc.errors()[0]
    loc = clean_loc(err["loc"], data)
    msg = describe_error(err)
    if err.get("type") == "value_error":
        msg = str(err.get("ctx", {}).get("error", msg))
    elif err.get("type") == "missing" and missing:
        msg = missing
    if reword is not None:
        msg = reword(err) or msg
    return InputError(msg, file, line_of(marks, loc), dotted(loc) or None)

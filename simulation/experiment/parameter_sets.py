"""Parameter sets for `compare --parameter-sets`: the comparison re-run under each, so that its
intervals include parameter uncertainty, not only replication noise.

The file is what `scsim calibrate --parameter-sets` writes (`sets:` a list of {key path: value});
every set applies to every compared scenario, with the same replication seeds in every set.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from simulation.experiment.spec import parse_path
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, with_overrides
from simulation.scenario.yamlio import read_yaml_file


class ParameterSets:
    def __init__(self, file: str, sets: list[dict[str, Any]], lines: list[int | None]) -> None:
        self.file, self.sets, self.lines = file, sets, lines

    @property
    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.sets, sort_keys=True).encode()).hexdigest()

    def apply(self, scenarios: list[Resolved]) -> list[list[Resolved]]:
        """The compared scenarios under each set, in set order."""
        out = []
        for k, (values, line) in enumerate(zip(self.sets, self.lines, strict=True)):
            try:
                out.append(
                    [with_overrides(r, {parse_path(key): v for key, v in values.items()}, self.file) for r in scenarios]
                )
            except InputError as exc:
                raise InputError(
                    f"parameter set {k + 1}: {exc.message}", self.file, line, exc.key or f"sets.{k}"
                ) from None
        return out


def load_parameter_sets(path: str) -> ParameterSets:
    data, marks = read_yaml_file(path, path)
    sets = data.get("sets") if isinstance(data, dict) else None
    if not isinstance(sets, list) or not sets:
        raise InputError(
            "expected a mapping with `sets:`, a non-empty list of {key.path: value} mappings "
            "(as `scsim calibrate --parameter-sets` writes)",
            path,
            marks.get(("sets",), 1),
            "sets",
        )
    lines = []
    for k, s in enumerate(sets):
        if not isinstance(s, dict) or not s or not all(isinstance(key, str) for key in s):
            raise InputError(
                "each set must be a non-empty mapping of key paths to values", path, marks.get(("sets", k)), f"sets.{k}"
            )
        lines.append(marks.get(("sets", k)))
    return ParameterSets(path, sets, lines)

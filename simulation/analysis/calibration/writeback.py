"""Writing calibrated values into the scenario files, in place, keeping their comments and layout.

Each value goes to the file and line that set it (an `extends` chain leads to the parent that
defines the parameter). Only the one-line form `key: {value: V, [range: [L, H],] provenance: P, source: "S"}`
is rewritten (the form the shipped scenarios use for scalars); anything else is refused, with the
file and line, before the fit starts. Every file is written atomically after the rewritten
scenario has loaded through the scenario loader, so a write-back never leaves a broken scenario.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from simulation.experiment.spec import parse_path
from simulation.io import temp_name
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, load_scenario

_LINE = re.compile(
    r"^(?P<head>\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*):\s*\{\s*value:\s*)(?P<value>[^,{}]+?)"
    r"(?P<range>\s*,\s*range:\s*\[[^\]]*\])?(?P<mid>\s*,\s*provenance:\s*)(?P<prov>\w+)(?P<mid2>\s*,\s*source:\s*)"
    r'"(?P<source>(?:[^"\\]|\\.)*)"(?P<tail>\s*\}\s*(#.*)?)$'
)


@dataclass(frozen=True)
class Target:
    key: str
    file: str
    line: int


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def plan_write_back(base: Resolved, keys: list[str]) -> list[Target]:
    """Where each key's value is set, checked to be a line this module can rewrite."""
    targets = []
    for key in keys:
        path = parse_path(key)
        prov = base.prov.get(path)
        if prov is None or prov.line is None or not os.path.isfile(prov.file):
            where = prov.file if prov else "the scenario"
            raise InputError(
                f"cannot write a calibrated value back: {key} is not set on a line of a scenario "
                f"file (set by {where}); set it in the scenario with provenance first",
                None,
                None,
                key,
            )
        with open(prov.file, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        m = _LINE.match(lines[prov.line - 1]) if prov.line <= len(lines) else None
        if m is None or m.group("key") != str(path[-1]):
            raise InputError(
                "cannot write a calibrated value back here: expected a one-line "
                '`key: {value: ..., provenance: ..., source: "..."}`',
                prov.file,
                prov.line,
                key,
            )
        targets.append(Target(key, prov.file, prov.line))
    return targets


def write_back(
    targets: list[Target],
    values: dict[str, float],
    sources: dict[str, str],
    check: str,
    ranges: dict[str, tuple[float, float]] | None = None,
) -> list[tuple[Target, str, str]]:
    """Set each value with provenance `calibrated` and its source (and, for keys in `ranges`, its
    evidence range: the values consistent with the published effect); `check` is a scenario to load
    afterwards (the one calibrated), which must read the new values back. Returns (target, old, new)."""
    ranges = ranges or {}
    changes = []
    by_file: dict[str, list[Target]] = {}
    for t in targets:
        by_file.setdefault(t.file, []).append(t)
    staged = []
    try:
        for file, ts in by_file.items():
            with open(file, encoding="utf-8") as fh:
                lines = fh.read().split("\n")
            for t in ts:
                m = _LINE.match(lines[t.line - 1])
                if m is None:
                    raise InputError("changed since the fit started; calibrate again", t.file, t.line, t.key)
                rng = (
                    f", range: [{ranges[t.key][0]!r}, {ranges[t.key][1]!r}]"
                    if t.key in ranges
                    else (m.group("range") or "")
                )
                new = (
                    f"{m.group('head')}{values[t.key]!r}{rng}{m.group('mid')}calibrated{m.group('mid2')}"
                    f'"{_quote(sources[t.key])}"{m.group("tail")}'
                )
                changes.append((t, lines[t.line - 1], new))
                lines[t.line - 1] = new
            tmp = temp_name(Path(os.path.abspath(file)))
            with open(tmp, "x", encoding="utf-8") as fh:
                fh.write("\n".join(lines))
            os.chmod(tmp, os.stat(file).st_mode & 0o777)
            staged.append((tmp, file))
        for tmp, file in staged:
            os.replace(tmp, file)
        staged = []
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
    back = load_scenario(check)
    for t in targets:
        path = parse_path(t.key)
        if back.values[path] != values[t.key] or back.prov[path].kind != "calibrated":
            raise InputError(f"write-back check failed: {t.key} reads back as {back.values[path]!r}", check)
    return changes

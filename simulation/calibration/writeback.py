"""Writing calibrated values into a scenario file, in place, keeping its comments and layout.

Only the one-line form `key: {value: V, provenance: P, source: "S"}` is rewritten (the form the
shipped scenarios use for scalars); anything else is refused with the file and line, before
any file is touched. The new file is written atomically and read back through the scenario
loader, so a write-back can never leave a scenario that does not load.
"""
from __future__ import annotations

import os
import re
import tempfile

from ..experiment.spec import parse_path
from ..scenario.errors import ScenarioError
from ..scenario.loader import load_scenario
from ..scenario.yamlio import read_yaml_file

_LINE = re.compile(r'^(?P<head>\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*):\s*\{\s*value:\s*)(?P<value>[^,{}]+?)'
                   r'(?P<mid>\s*,\s*provenance:\s*)(?P<prov>\w+)(?P<mid2>\s*,\s*source:\s*)'
                   r'"(?P<source>(?:[^"\\]|\\.)*)"(?P<tail>\s*\}\s*(#.*)?)$')


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def write_back(scenario_file: str, values: dict[str, float], sources: dict[str, str]) -> list[tuple[str, int, str, str]]:
    """Set each key's value, provenance `calibrated` and source; returns (key, line, old line, new line)."""
    _, marks = read_yaml_file(scenario_file, scenario_file)
    with open(scenario_file, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    changes = []
    for key, value in values.items():
        path = parse_path(key)
        line = marks.get(path)
        if line is None:
            raise ScenarioError(f"cannot write the calibrated value back: {key} is not set in this file "
                                f"(set it there with provenance, then calibrate again)", scenario_file, None, key)
        m = _LINE.match(lines[line - 1])
        if m is None or m.group("key") != path[-1]:
            raise ScenarioError("cannot write the calibrated value back: expected a one-line "
                                '`key: {value: ..., provenance: ..., source: "..."}`', scenario_file, line, key)
        new = (f"{m.group('head')}{value!r}{m.group('mid')}calibrated{m.group('mid2')}"
               f"\"{_quote(sources[key])}\"{m.group('tail')}")
        changes.append((key, line, lines[line - 1], new))
        lines[line - 1] = new
    directory = os.path.dirname(os.path.abspath(scenario_file))
    fd, tmp = tempfile.mkstemp(prefix=".calibrate-", suffix=".yaml", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        load_scenario(tmp)  # the rewritten scenario must load exactly as before, but for the new values
        os.chmod(tmp, os.stat(scenario_file).st_mode & 0o777)
        os.replace(tmp, scenario_file)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    back = load_scenario(scenario_file)
    for key, value in values.items():
        if back.values[parse_path(key)] != value or back.prov[parse_path(key)].kind != "calibrated":
            raise ScenarioError(f"write-back check failed: {key} reads back as {back.values[parse_path(key)]!r}",
                                scenario_file)
    return changes

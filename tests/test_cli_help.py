"""Every help page renders, and the top-level help lists every command, grouped, one line each."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from helpers import ROOT

from simulation.cli import COMMAND_GROUPS, build_parser, main


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[name] = sub
                out.update({f"{name} {k}": v for k, v in _subcommands(sub).items()})
    return out


COMMANDS = sorted(_subcommands(build_parser()))


def test_the_walk_finds_every_command():
    assert {"run", "compare", "sweep", "report", "validate", "docs"} <= set(COMMANDS)


@pytest.mark.parametrize("argv", [["--help"], ["-h"]] + [[*c.split(), "--help"] for c in COMMANDS])
def test_every_help_page_renders(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    out = capsys.readouterr()
    assert out.err == "" and out.out.startswith("usage: scsim")
    assert "Traceback" not in out.out


def test_top_level_help_lists_the_commands_in_groups(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    listed = [c for names in COMMAND_GROUPS.values() for c in names]
    assert sorted(listed) == [c for c in COMMANDS if " " not in c], "every command in exactly one group"
    lines = text.splitlines()
    for group, names in COMMAND_GROUPS.items():
        start = lines.index(f"{group}:")
        for k, name in enumerate(names, start=1):  # one line each, under its group, with its help
            assert lines[start + k].split()[0] == name and len(lines[start + k].split()) > 2
    assert "95 % CI" in text


def test_help_from_the_command_line_and_bare_scsim():
    for argv in (["--help"], ["compare", "--help"]):
        proc = subprocess.run([sys.executable, "-m", "simulation", *argv], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr and proc.stdout.startswith("usage: scsim")
    bare = subprocess.run([sys.executable, "-m", "simulation"], cwd=ROOT, capture_output=True, text=True)
    assert bare.returncode == 2 and "Traceback" not in bare.stderr
    assert "run and compare:" in bare.stderr and "  compare " in bare.stderr and "a command is needed" in bare.stderr


def test_an_option_is_never_taken_for_a_longer_one_it_abbreviates(capsys):
    """`discover RESULTS --out DIR` (discover writes into RESULTS) once ran as --outcome DIR; now it
    is refused by name, like any unknown option."""
    with pytest.raises(SystemExit) as e:
        main(["discover", "results/none", "--out", "elsewhere"])
    assert e.value.code == 2
    assert "unrecognized arguments: --out elsewhere" in capsys.readouterr().err

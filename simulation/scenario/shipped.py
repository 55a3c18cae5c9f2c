"""Where the shipped scenarios and experiments are, wherever scsim runs from.

They live in the repository's top-level `scenarios/` and `experiments/`. A clone or an editable
install (`pip install -e .`, the way the README installs) reads them there, next to the package;
a wheel installs copies under `<prefix>/share/scsim/` (`[tool.setuptools.data-files]` in
pyproject.toml). Keeping one copy at the top level, not inside the package, keeps the paths the
README, the docs and every `extends:` use.

A scenario is named by a path to a file or by the name of a shipped one: `no_plan`,
`no_plan.yaml` and `scenarios/no_plan.yaml` all name the shipped no-plan world from any working
folder. A file that exists where the path points is always that file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from simulation.scenario.errors import InputError

KINDS = ("scenarios", "experiments")
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the installed `simulation` package
SOURCE_ROOT = PACKAGE_ROOT.parent  # a clone's top level (or site-packages, from a wheel)


def shipped_dir(kind: str = "scenarios") -> Path | None:
    """The folder of shipped `kind` files, or None when this installation has none."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    beside = SOURCE_ROOT / kind
    if beside.is_dir():
        return beside
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        there = Path(prefix) / "share" / "scsim" / kind
        if there.is_dir():
            return there
    return None


def source_checkout() -> Path | None:
    """The clone this package runs from (its top level, with docs/ and pyproject.toml), or None from
    a wheel: commands that rewrite the repository's own files (`scsim docs`) need one."""
    looks_like_clone = (SOURCE_ROOT / "pyproject.toml").is_file() and (SOURCE_ROOT / "docs").is_dir()
    return SOURCE_ROOT if looks_like_clone else None


def shipped_file(name: str, kind: str = "scenarios") -> Path:
    """The shipped file `name`, or a clear error when this installation has none (bad input, exit 2)."""
    hit = find(name, kind)
    if hit is None:
        raise InputError(
            f"no shipped {kind} found beside the package or under <prefix>/share/scsim/; "
            "reinstall scsim or name the file",
            name,
        )
    return hit


def shipped_names(kind: str = "scenarios") -> list[str]:
    where = shipped_dir(kind)
    return sorted(p.stem for p in where.glob("*.yaml")) if where else []


def find(name: str | Path, kind: str = "scenarios") -> Path | None:
    """The shipped file `name` means (`no_plan`, `no_plan.yaml`, `scenarios/no_plan.yaml`), or None."""
    where = shipped_dir(kind)
    p = Path(name)
    if where is None or p.is_absolute():
        return None
    parts = p.parts[1:] if p.parts[:1] == (kind,) else p.parts
    if not parts or ".." in parts:
        return None
    rel = Path(*parts)
    for cand in (where / rel, where / rel.with_name(rel.name + ".yaml")):
        if cand.suffix == ".yaml" and cand.is_file():
            return cand
    return None


def resolve(name: str | Path, kind: str = "scenarios") -> str:
    """`name` itself when it is a file; else the shipped file it names; else `name` unchanged (so
    that loading it says "file not found" with the path the user gave)."""
    p = Path(name)
    if p.is_file():
        return str(name)
    hit = find(name, kind)
    return str(hit) if hit is not None else str(name)

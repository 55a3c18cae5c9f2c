"""The rules of docs/architecture.md ("The rules"), checked on every import in the package.

Each module under simulation/ is parsed (never imported) and every `import` of ours is checked
against its room: imports point down `present -> planning -> analysis -> experiment -> engine ->
scenario`; `io` imports nothing of ours; `reference` restates the rules and may read only the
engine's constants; `mesa` and `interop` sit on `api`; `bench`, `cli`, `api` and `__main__` may
import anything; a room's `command.py` may also import `present` (to write a report). A rule a
module breaks on purpose is listed in EXCEPTIONS with its reason, so it is visible and reviewed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "simulation"
LAYERS = ("scenario", "engine", "experiment", "analysis", "planning", "present")  # bottom to top
ANYTHING = {"bench", "cli", "api", "__main__"}
ALLOWED_ROOMS = {room: set(LAYERS[:i]) | {"io"} for i, room in enumerate(LAYERS)}
ALLOWED_ROOMS.update(
    {
        "io": set(),
        "reference": set(),  # and REFERENCE_MAY below, module by module
        "mesa": {"scenario", "engine", "api", "io"},
        "interop": {"scenario", "engine", "experiment", "api", "io"},
        "__init__": set(),  # simulation/__init__.py
    }
)
# the plain-Python model restates the rules; it shares only the constants that name things
REFERENCE_MAY = {"simulation.engine.kernels.constants"}
# (importing module, imported module): why the rule gives way there
EXCEPTIONS = {
    (
        "simulation.planning.optimize",
        "simulation.api",
    ): "loads scenarios with dotted-key overrides through api.load; that helper belongs in scenario/ "
    "(move after issue 15's rename branch lands, which edits api.py and loader.py)",
    (
        "simulation.planning.spec",
        "simulation.api",
    ): "the same api.load, for an experiment file's base scenarios and `set:`",
    (
        "simulation.planning.spec",
        "simulation.interop.problem",
    ): "schema_factor (a schema field's range as a factor) is shared with SALib problems; it belongs "
    "beside scenario.ranges",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the module imported (or whose names are imported)
    names: tuple[str, ...]
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Import]:
    """Every import of ours in a module, relative imports made absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [Import(name, a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            out.append(Import(name, target, tuple(a.name for a in node.names), node.lineno))
    return [i for i in out if i.target == "simulation" or i.target.startswith("simulation.")]


MODULES = sorted(PACKAGE.rglob("*.py"))
IMPORTS = [i for path in MODULES for i in imports_of(path)]


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def broken_rule(i: Import) -> str | None:
    """What rule an import breaks, or None."""
    src, dst = room(i.module), room(i.target)
    if src == dst or src in ANYTHING:
        return None
    if src == "reference":
        return None if i.target in REFERENCE_MAY else "reference imports only " + ", ".join(sorted(REFERENCE_MAY))
    if dst in ALLOWED_ROOMS.get(src, set()):
        return None
    if i.module.endswith(".command") and dst == "present":
        return None
    allowed = ", ".join(sorted(ALLOWED_ROOMS.get(src, set()))) or "nothing of ours"
    return f"{src} may import {allowed}"


def test_the_parser_sees_the_whole_package() -> None:
    rooms = {room(module_name(p)) for p in MODULES}
    assert set(LAYERS) | {"io", "reference", "mesa", "interop", "bench", "cli", "api"} <= rooms
    assert rooms <= set(ALLOWED_ROOMS) | ANYTHING, "a new room needs its rule here and in docs/architecture.md"
    assert len(IMPORTS) > 300


def test_imports_point_down_the_rooms() -> None:
    broken = [
        f"{i.module}:{i.line} imports {i.target}: {why}"
        for i in IMPORTS
        if (why := broken_rule(i)) and (i.module, i.target) not in EXCEPTIONS
    ]
    assert not broken, "\n".join(broken)


def test_listed_exceptions_still_exist() -> None:
    """An exception that no import needs any more is removed, so the list stays the truth."""
    used = {(i.module, i.target) for i in IMPORTS if broken_rule(i)}
    assert set(EXCEPTIONS) <= used, sorted(set(EXCEPTIONS) - used)


def test_the_rules_are_written_in_the_architecture_page() -> None:
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "`present` → `planning` → `analysis` → `experiment` → `engine` → `scenario`" in text
    assert "tests/test_architecture.py" in text


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path) -> list[str]:
    """`module._name` read through a module imported by name (`from simulation.x import y`; `y._f`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulation"):
            for a in node.names:
                target = f"{node.module}.{a.name}"
                if (PACKAGE.parent / Path(*target.split("."))).with_suffix(".py").is_file():
                    modules[a.asname or a.name] = target
        elif isinstance(node, ast.Import):
            modules.update({a.asname: a.name for a in node.names if a.asname and a.name.startswith("simulation.")})
    return [
        f"{module_name(path)}:{n.lineno} uses {modules[n.value.id]}.{n.attr}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id in modules
        and is_private(n.attr)
    ]


def test_no_module_imports_another_modules_private_names() -> None:
    private = [
        f"{i.module}:{i.line} imports {n} from {i.target}"
        for i in IMPORTS
        for n in i.names
        if is_private(n) and i.target != i.module
    ]
    private += [use for path in MODULES for use in private_uses(path)]
    assert not private, "\n".join(private)

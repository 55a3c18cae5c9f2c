"""Find the generated blocks of a document, rebuild them, and say what changed.

A block is the lines between `<!-- BEGIN GENERATED: name ... -->` and `<!-- END GENERATED -->`;
everything outside the blocks is hand-written and left byte for byte as it is.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from simulation.io import atomic_write
from simulation.present.odd.render import RENDERERS, Context
from simulation.scenario.errors import InputError
from simulation.scenario.shipped import source_checkout

CHECKOUT = source_checkout()  # None from a wheel: the documents are the repository's, not shipped
DEFAULT_DOCS = (CHECKOUT / "docs" / "ODD.md", CHECKOUT / "docs" / "assumptions.md") if CHECKOUT else ()
BEGIN_RE = re.compile(r"^<!-- BEGIN GENERATED: ([A-Za-z0-9_-]+)\b.*-->\s*$")
END_LINE = "<!-- END GENERATED -->"
PARAM_ROW_RE = re.compile(r"^\| `([^`]+)` \|")
MAX_DIFF_LINES = 40


@dataclass(frozen=True)
class Block:
    name: str
    begin: int  # line index of the BEGIN marker
    end: int  # line index of the END marker


@dataclass
class Staleness:
    """The outcome of a check: which blocks differ and a summary a person can act on."""

    path: str
    stale_blocks: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.stale_blocks


def find_blocks(lines: list[str], shown: str) -> list[Block]:
    """The generated blocks of a document; refuses unknown names, nesting and missing ends."""
    blocks: list[Block] = []
    open_at: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        m = BEGIN_RE.match(line)
        if m:
            if open_at is not None:
                raise InputError(
                    f"generated block {open_at[0]!r} (line {open_at[1] + 1}) has no {END_LINE} before the next BEGIN",
                    shown,
                    i + 1,
                )
            if m.group(1) not in RENDERERS:
                raise InputError(f"unknown generated block {m.group(1)!r}; known: {', '.join(RENDERERS)}", shown, i + 1)
            open_at = (m.group(1), i)
        elif line.strip() == END_LINE:
            if open_at is None:
                raise InputError(f"{END_LINE} without a BEGIN GENERATED marker", shown, i + 1)
            blocks.append(Block(open_at[0], open_at[1], i))
            open_at = None
    if open_at is not None:
        raise InputError(f"generated block {open_at[0]!r} has no {END_LINE}", shown, open_at[1] + 1)
    if not blocks:
        raise InputError("no generated blocks (<!-- BEGIN GENERATED: name --> ... <!-- END GENERATED -->)", shown)
    return blocks


def block_body(lines: list[str], b: Block) -> list[str]:
    return lines[b.begin + 1 : b.end]


def rendered(name: str, ctx: Context) -> list[str]:
    """A block's lines: a blank line on each side so Markdown sees the tables outside the comments."""
    return [""] + RENDERERS[name](ctx).rstrip("\n").split("\n") + [""]


def regenerate(text: str, ctx: Context, shown: str) -> str:
    """The document with every generated block rebuilt and everything else unchanged."""
    lines = text.split("\n")
    out: list[str] = []
    pos = 0
    for b in find_blocks(lines, shown):
        out += lines[pos : b.begin + 1] + rendered(b.name, ctx)
        pos = b.end
    out += lines[pos:]
    return "\n".join(out)


def documented_parameters(text: str, shown: str = "<doc>") -> list[str]:
    """The parameter names listed in a document's generated `parameters` tables."""
    lines = text.split("\n")
    names: list[str] = []
    for b in find_blocks(lines, shown):
        if b.name == "parameters":
            names += [m.group(1) for m in map(PARAM_ROW_RE.match, block_body(lines, b)) if m]
    return names


def _param_rows(body: list[str]) -> dict[str, str]:
    return {m.group(1): line for line in body if (m := PARAM_ROW_RE.match(line))}


def _short(names: list[str], limit: int = 12) -> str:
    more = f" (and {len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _describe_parameters(old: list[str], new: list[str]) -> list[str]:
    before, after = _param_rows(old), _param_rows(new)
    missing = [n for n in after if n not in before]
    extra = [n for n in before if n not in after]
    changed = [n for n in after if n in before and before[n] != after[n]]
    out = []
    if missing:
        out.append(f"parameters missing from the document: {_short(missing)}")
    if extra:
        out.append(f"parameters the document names but the schema lacks: {_short(extra)}")
    if changed:
        out.append(f"rows that differ (value, unit, range, measure or provenance): {_short(changed)}")
    if not out:
        out.append("text around the tables differs")
    return out


def check_text(text: str, ctx: Context, shown: str) -> Staleness:
    """Compare a document with what `scsim docs` would write; say which blocks and parameters differ."""
    lines = text.split("\n")
    result = Staleness(shown)
    for b in find_blocks(lines, shown):
        old, new = block_body(lines, b), rendered(b.name, ctx)
        if old == new:
            continue
        result.stale_blocks.append(b.name)
        detail = (
            _describe_parameters(old, new)
            if b.name == "parameters"
            else [f"{sum(1 for d in difflib.ndiff(old, new) if d[:1] in '+-')} lines differ"]
        )
        result.summary += [f"{shown}: block {b.name!r} (line {b.begin + 1}) is stale: {d}" for d in detail]
        diff = list(
            difflib.unified_diff(
                old, new, f"{shown} ({b.name}, committed)", f"{shown} ({b.name}, generated)", n=0, lineterm=""
            )
        )
        result.diff += diff[:MAX_DIFF_LINES] + (
            [f"... {len(diff) - MAX_DIFF_LINES} more diff lines"] if len(diff) > MAX_DIFF_LINES else []
        )
    return result


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("document not found", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the document: {exc}", str(path)) from None


def shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(CHECKOUT)) if CHECKOUT else str(path)
    except ValueError:
        return str(path)


def check_file(path: Path, ctx: Context | None = None) -> Staleness:
    return check_text(_read(path), ctx or Context(), shown_path(path))


def regenerate_file(path: Path, ctx: Context | None = None) -> bool:
    """Rebuild the blocks of `path` in place (atomically); True when the file changed."""
    text = _read(path)
    new = regenerate(text, ctx or Context(), shown_path(path))
    if new == text:
        return False
    atomic_write(path, new)
    return True

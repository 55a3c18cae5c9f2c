"""`scsim docs [--check] [--out FILE]`: rebuild (or check) the generated blocks of the model docs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simulation.present.odd.blocks import DEFAULT_DOCS, check_file, regenerate_file, shown_path
from simulation.present.odd.render import Context
from simulation.scenario.errors import InputError

EXIT_STALE = 1


def docs_command(check: bool, out: Sequence[str] | None = None, ctx: Context | None = None) -> int:
    """Regenerate the blocks in place, or with `check` exit 1 and say what is stale."""
    if not out and not DEFAULT_DOCS:
        raise InputError(
            "`scsim docs` rewrites docs/ODD.md and docs/assumptions.md of a source checkout, and this "
            "scsim is installed without one: run it in a clone, or name a document with --out FILE.md"
        )
    paths = [Path(p) for p in out] if out else list(DEFAULT_DOCS)
    ctx = ctx or Context()
    if check:
        results = [check_file(p, ctx) for p in paths]
        stale = [r for r in results if not r.ok]
        for r in results:
            if r.ok:
                print(f"up to date: {r.path}")
        for r in stale:
            print("\n".join(r.summary))
        for r in stale:
            print("\n".join(r.diff))
        if stale:
            print("the documentation is stale: run `scsim docs` to regenerate it, then commit the result")
            return EXIT_STALE
        return 0
    for p in paths:
        changed = regenerate_file(p, ctx)
        print(f"{'regenerated' if changed else 'up to date'}: {shown_path(p)}")
    return 0

"""The generated parts of the model documentation (`scsim docs`).

docs/ODD.md and docs/assumptions.md are hand-written prose with marked blocks
(`<!-- BEGIN GENERATED: name -->` ... `<!-- END GENERATED -->`) whose content is rebuilt from
the scenario schema and the reference scenarios, so the parameter tables cannot drift from the
code. `rows` reads the schema and scenarios, `render` writes the blocks, `blocks` finds and
replaces them and says what changed.
"""

from __future__ import annotations

from simulation.present.odd.blocks import DEFAULT_DOCS, Staleness, check_file, regenerate_file

__all__ = ["DEFAULT_DOCS", "Staleness", "check_file", "regenerate_file"]

"""Figures of a results folder: matplotlib, PNG and SVG, readable in black-and-white print.

    from simulation.present.figures import draw_figures, load_results
    made = draw_figures(load_results("results/compare-..."), "results/compare-.../figures")

Each figure is drawn only when its data is in the folder: win rate, value by size, value by
region and risk class, the PIS fund from `run`/`compare` folders; the forest plot from
`compare`; cost against value from all three; Sobol and Morris charts from `sweep` folders.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from simulation.present.figures import cost_value, forest, pis, value_size, value_where, win_rate
from simulation.present.figures.data import Results, load_results
from simulation.present.figures.sensitivity import Morris, Sobol
from simulation.present.figures.style import FontWarning, Style, save

__all__ = ["FIGURES", "Drawn", "FontWarning", "Results", "Style", "draw_figures", "load_results"]


class FigureMaker(Protocol):
    ID: str
    TITLE: str

    def draw(self, res: Results, style: Style) -> tuple[Figure, str] | None: ...


FIGURES: tuple[FigureMaker, ...] = (win_rate, value_size, value_where, forest, cost_value, Sobol, Morris, pis)


@dataclass
class Drawn:
    """One figure written to disk."""

    id: str
    title: str
    caption: str
    files: list[Path] = field(default_factory=list)

    def file(self, ext: str) -> Path:
        return next(p for p in self.files if p.suffix == f".{ext}")


def draw_figures(res: Results, out_dir: Path | str, style: Style | None = None) -> list[Drawn]:
    """Draw every figure the folder has data for into out_dir as ID.png and ID.svg (each file written atomically)."""
    style = style or Style()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for maker in FIGURES:
        with plt.rc_context(style.rc()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Glyph .* missing from")
            got = maker.draw(res, style)
            if got is None:
                continue
            fig, caption = got
            files = save(fig, out_dir / maker.ID, style)
        made.append(Drawn(maker.ID, maker.TITLE, caption, files))
    return made

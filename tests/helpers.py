"""Shared helpers for the tests: load shipped scenarios with overrides, run them, read tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulation.engine.metrics import tidy
from simulation.engine.simulate import simulate
from simulation.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def load(name: str, *overrides: str):
    return load_scenario(str(SCENARIOS / f"{name}.yaml"), list(overrides), shown=f"scenarios/{name}.yaml")


def table(name: str, seed: int, *overrides: str) -> pd.DataFrame:
    return tidy(simulate(load(name, *overrides), seed), run=seed)


def total(frame: pd.DataFrame, metric: str, group: str = "all") -> float:
    sel = frame[(frame["metric"] == metric) & (frame["group"] == group)]
    return float(sel["value"].sum())

"""Run scenarios over replications and collect the tidy yearly tables.

Replication i of every scenario uses the i-th seed spawned from `SeedSequence(seed)` (common
random numbers across scenarios).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd

from .engine import simulate
from .experiment.tasks import replication_seeds
from .metrics import tidy
from .wording import overrides_text
from .scenario.loader import Resolved


@dataclass
class Batch:
    scenarios: list[Resolved]
    seeds: list[int]
    frames: list[pd.DataFrame] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def table(self) -> pd.DataFrame:
        """The tidy yearly table; scenarios as a categorical in the order they were given."""
        frame = pd.concat(self.frames, ignore_index=True)
        names = list(dict.fromkeys(r.scenario.name for r in self.scenarios))
        frame["scenario"] = pd.Categorical(frame["scenario"].astype(str), categories=names)
        return frame


def run_batch(scenarios: list[Resolved], seed: int, reps: int, progress: bool = True) -> Batch:
    seeds = replication_seeds(seed, reps)
    batch = Batch(scenarios, seeds)
    jobs = [(r, run, s) for r in scenarios for run, s in enumerate(seeds)]
    bar = None
    if progress:
        from tqdm import tqdm

        from .warmup import warm_up
        if jobs:
            warm_up(jobs[0][0])  # a first run compiles first, under its own line: the bar's ETA counts runs only
        bar = tqdm(total=len(jobs), unit="run", desc="runs", leave=False)
    t0 = time.perf_counter()
    for r, run, s in jobs:
        batch.frames.append(tidy(simulate(r, s), run))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    batch.seconds = time.perf_counter() - t0
    return batch


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Yearly win rate and value won per scenario: mean over replications (and sd of the win rate),
    scenarios in the table's order (a categorical's categories: the order they were given)."""
    t = table[(table["group"] == "all") & table["metric"].isin(["win_rate", "value_won_usd_m", "wins", "bids"])]
    g = t.groupby(["scenario", "year", "metric"], observed=True)["value"]
    mean = g.mean().unstack("metric")
    sd = g.std(ddof=1).unstack("metric")
    out = pd.DataFrame({
        "bids": mean["bids"], "wins": mean["wins"], "win_rate": mean["win_rate"],
        "win_rate_sd": sd["win_rate"], "value_won_usd_m": mean["value_won_usd_m"],
    }).reset_index()
    return out


def format_summary(s: pd.DataFrame, runs: str, overrides: Sequence[str] = ()) -> str:
    """A readable yearly table: one block of columns per scenario, in the table's row order.

    `runs` says what each mean is over (`replications_text`); `overrides` (`--set` texts) are
    marked on every column and listed under the table."""
    names = list(dict.fromkeys(s["scenario"]))
    mark = "*" if overrides else ""
    lines = []
    head = f"{'year':>6}" + "".join(f"  {(n[:27] + mark) if mark else n[:28]:>28}" for n in names)
    sub = f"{'':>6}" + "".join(f"  {'win rate':>12} {'value USD m':>15}" for _ in names)
    lines += [head, sub]
    for year in sorted(s["year"].unique()):
        row = f"{year:>6}"
        for n in names:
            r = s[(s["scenario"] == n) & (s["year"] == year)]
            wr, val = r["win_rate"].iloc[0], r["value_won_usd_m"].iloc[0]
            wr_txt = "   n/a" if pd.isna(wr) else f"{wr * 100:5.1f} %"
            row += f"  {wr_txt:>12} {val:15,.0f}"
        lines.append(row)
    total = f"{'all':>6}"
    for n in names:
        r = s[s["scenario"] == n]
        rate = r["wins"].sum() / r["bids"].sum() if r["bids"].sum() else float("nan")
        total += f"  {rate * 100:10.1f} % {r['value_won_usd_m'].sum():15,.0f}"
    lines.append(total)
    lines.append(f"(mean of {runs}; win rate = Korean wins / Korean bids)")
    if overrides:
        lines.append(f"* with --set {overrides_text(overrides)} (in every scenario)")
    return "\n".join(lines)

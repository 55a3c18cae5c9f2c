"""Run scenarios over replications and collect the tidy yearly tables.

Replication i of every scenario uses the i-th seed spawned from `SeedSequence(seed)` (common
random numbers across scenarios).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from simulation.engine.metrics import tidy
from simulation.engine.simulate import simulate
from simulation.experiment.executors import default_workers
from simulation.experiment.tasks import replication_seeds
from simulation.experiment.wording import overrides_text
from simulation.scenario.loader import Resolved

T = TypeVar("T")
U = TypeVar("U")


@dataclass
class Batch:
    scenarios: list[Resolved]
    seeds: list[int]
    frames: list[pd.DataFrame] = field(default_factory=list)
    seconds: float = 0.0

    _table: tuple[int, pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """The tidy yearly table; scenarios as a categorical in the order they were given. Built once
        (the frames of a comparison's 1,800 runs take seconds to join), again only if frames were added."""
        if self._table is not None and self._table[0] == len(self.frames):
            return self._table[1]
        frame = pd.concat(self.frames, ignore_index=True)
        names = list(dict.fromkeys(r.scenario.name for r in self.scenarios))
        frame["scenario"] = pd.Categorical(frame["scenario"].astype(str), categories=names)
        self._table = (len(self.frames), frame)
        return frame


def _one(job: tuple[Resolved, int, int]) -> pd.DataFrame:
    r, run, s = job
    return tidy(simulate(r, s), run)


def in_threads(fn: Callable[[T], U], items: Sequence[T], threads: int | None = None) -> Iterator[U]:
    """fn over items, in item order, in `threads` threads of this process (default: one per core
    this process may use). The month loop runs without the GIL (kernels/jit.py), so runs step in
    parallel; each run is a function of its scenario and seed alone, so what comes back does not
    depend on the number of threads."""
    n = threads or default_workers()
    if n <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(n, len(items)), thread_name_prefix="scsim-run") as pool:
        yield from pool.map(fn, items)


def in_processes(
    fn: Callable[[T], U],
    items: Sequence[T],
    workers: int | None = None,
    cost: Callable[[T], float] | None = None,
    warm: Resolved | None = None,
) -> Iterator[U]:
    """fn over items, in item order, in up to `workers` processes (default: one per core); fn and
    the items must pickle. With `cost`, the dearest items start first, so that the last to finish
    is a cheap one; what comes back, and its order, do not depend on the number of processes.
    With `warm` (a scenario fn runs), the kernels are compiled here first if they are not cached
    (on two cores with a helper process: engine/precompile.py), so that the workers load them
    instead of each compiling them at once."""
    if warm is not None and items:
        from simulation.engine.warmup import warm_up

        warm_up(warm, show=False)
    n = workers or default_workers()
    if n <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(range(len(items)), key=lambda j: -cost(items[j])) if cost else range(len(items))
    with ProcessPoolExecutor(max_workers=min(n, len(items))) as pool:
        futures = {j: pool.submit(fn, items[j]) for j in order}
        for j in range(len(items)):
            yield futures[j].result()


def runs_bar(total: int) -> Any:
    """The progress bar of a batch of runs (one for the whole batch, however it is split)."""
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="runs", leave=False)


def run_batch(
    scenarios: list[Resolved],
    seed: int,
    reps: int,
    progress: bool = True,
    threads: int | None = None,
    bar: Any = None,
) -> Batch:
    """Every scenario `reps` times with the same seeds. With `bar` (from `runs_bar`), the runs count
    on that bar, which the caller closes: one bar for several batches, not one each."""
    seeds = replication_seeds(seed, reps)
    batch = Batch(scenarios, seeds)
    jobs = [(r, run, s) for r in scenarios for run, s in enumerate(seeds)]
    if jobs:
        from simulation.engine.warmup import warm_up

        # a first run compiles first (under its own line when shown): the bar's ETA counts runs only
        warm_up(jobs[0][0], show=progress)
    own = progress and bar is None
    if own:
        bar = runs_bar(len(jobs))
    t0 = time.perf_counter()
    for frame in in_threads(_one, jobs, threads):
        batch.frames.append(frame)
        if bar is not None:
            bar.update(1)
    if own:
        bar.close()
    batch.seconds = time.perf_counter() - t0
    return batch


SUMMARY_METRICS = ["value_won_usd_m", "value_awarded_usd_m", "wins", "bids", "tenders_contested", "win_rate"]


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Yearly value won, Korean share of awarded value, capture rate and win rate per scenario,
    scenarios in the table's order (a categorical's categories: the order they were given).

    Counts and values are means over the runs; every rate is one definition everywhere, the ratio of
    those means (wins / bids pooled over the runs, not a mean of each run's rate), as `compare`'s
    levels and differences are. `win_rate_sd` is the spread of the runs' own yearly rates."""
    t = table[(table["group"] == "all") & table["metric"].isin(SUMMARY_METRICS)]
    g = t.groupby(["scenario", "year", "metric"], observed=True)["value"]
    mean = g.mean().unstack("metric")
    sd = g.std(ddof=1).unstack("metric")

    def ratio(a, b):
        return (mean[a] / mean[b].where(mean[b] > 0)).astype(float)

    out = pd.DataFrame(
        {
            "value_won_usd_m": mean["value_won_usd_m"],
            "korean_share_value": ratio("value_won_usd_m", "value_awarded_usd_m"),
            "capture_rate": ratio("wins", "tenders_contested"),
            "win_rate": ratio("wins", "bids"),
            "win_rate_sd": sd["win_rate"],
            "bids": mean["bids"],
            "wins": mean["wins"],
            "tenders_contested": mean["tenders_contested"],
            "value_awarded_usd_m": mean["value_awarded_usd_m"],
        }
    ).reset_index()
    return out


def format_summary(s: pd.DataFrame, runs: str, overrides: Sequence[str] = ()) -> str:
    """A readable yearly table: value won, Korean share of awarded value and win rate per scenario,
    one block of columns per scenario, in the table's row order.

    `runs` says what each mean is over (`replications_text`); `overrides` (`--set` texts) are
    marked on every column and listed under the table. Rates are ratios of the means (pooled)."""
    names = list(dict.fromkeys(s["scenario"]))
    mark = "*" if overrides else ""
    s = s.copy()
    for col in ("korean_share_value", "value_awarded_usd_m"):  # summaries written before these columns
        if col not in s:
            s[col] = float("nan")
    lines = []
    head = f"{'year':>6}" + "".join(f"  {(n[:31] + mark) if mark else n[:32]:>32}" for n in names)
    sub = f"{'':>6}" + "".join(f"  {'value USD m':>12} {'KR share':>9} {'win rate':>9}" for _ in names)
    lines += [head, sub]

    def pct(x: float) -> str:
        return "    n/a" if pd.isna(x) else f"{x * 100:5.1f} %"

    for year in sorted(s["year"].unique()):
        row = f"{year:>6}"
        for n in names:
            r = s[(s["scenario"] == n) & (s["year"] == year)].iloc[0]
            row += f"  {r['value_won_usd_m']:12,.0f} {pct(r['korean_share_value']):>9} {pct(r['win_rate']):>9}"
        lines.append(row)
    total = f"{'all':>6}"
    for n in names:
        r = s[s["scenario"] == n]
        rate = r["wins"].sum() / r["bids"].sum() if r["bids"].sum() else float("nan")
        awarded = r["value_awarded_usd_m"].sum()
        share = r["value_won_usd_m"].sum() / awarded if awarded > 0 else float("nan")
        total += f"  {r['value_won_usd_m'].sum():12,.0f} {pct(share):>9} {pct(rate):>9}"
    lines.append(total)
    lines.append(
        f"(mean of {runs}; KR share = Korean value won / value of all awarded tenders; win rate = Korean "
        "wins / Korean bids, which falls when a measure adds marginal bids even as wins rise)"
    )
    if overrides:
        lines.append(f"* with --set {overrides_text(overrides)} (in every scenario)")
    return "\n".join(lines)

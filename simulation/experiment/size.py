"""How big a plan is, checked before any of it is built or run.

Every command that plans runs (`sweep`, `run`, `compare`, `calibrate`, `validate-model`) counts
them first -- design points × replications × parameter sets, from the file alone, without
building the design -- and refuses a plan above MAX_RUNS (or `--max-runs N`), or one whose
memory the machine does not have, in one message that gives the count and the limit. A grid of
8 factors × 100 levels or an LHS of 10^6 samples × 10^5 replications is refused at once instead
of filling memory for minutes.
"""

from __future__ import annotations

import math

from simulation.scenario.errors import InputError

MAX_RUNS = 1_000_000
# planning one sweep run (its Task, key and row of tasks.parquet; measured on experiments/sobol.yaml: 2.7 KB)
PLAN_BYTES_PER_RUN = 3_000
# `run` and `compare` keep every run's tidy yearly table (176 KB, full horizon) until the end, twice at the concat
TABLE_BYTES_PER_RUN = 400_000


def counted(n: int, word: str) -> str:
    """`1 replication`, `20 replications`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def available_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - unknown: only the run limit applies
        return None


def _gb(n: float) -> str:
    if n < 1e8:
        return f"{n / 1e6:,.0f} MB"
    return f"{n / 1e9:,.1f} GB" if n < 1e15 else f"{n / 1e9:.1e} GB"


def run_limit(max_runs: int | None = None) -> int:
    """The limit in force: `max_runs` (checked) or MAX_RUNS."""
    if max_runs is None:
        return MAX_RUNS
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
        raise InputError(f"--max-runs must be a whole number of at least 1, got {max_runs!r}")
    return max_runs


def check_runs(
    runs: int,
    what: str,
    max_runs: int | None = None,
    bytes_per_run: int = PLAN_BYTES_PER_RUN,
    file: str | None = None,
    line: int | None = None,
    key: str | None = None,
) -> None:
    """Refuse (InputError) `runs` above the limit or beyond the free memory; `what` says how they add up."""
    limit = run_limit(max_runs)
    need = runs * bytes_per_run
    if runs > limit:
        raise InputError(
            f"{what} come to {runs:,} runs, more than the limit of {limit:,} runs (about "
            f"{_gb(need)} of memory); make it smaller, or raise the limit with --max-runs N",
            file,
            line,
            key,
        )
    free = available_memory()
    if free is not None and need > free:
        raise InputError(
            f"{what} come to {runs:,} runs, which would need about {_gb(need)} of memory; this "
            f"machine has {_gb(free)} free: make it smaller",
            file,
            line,
            key,
        )


def grid_points(counts: list[int]) -> int:
    """Points of a full factorial: the product of each factor's number of values (no product is built)."""
    return math.prod(counts) if counts else 1

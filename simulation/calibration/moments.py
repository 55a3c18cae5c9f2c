"""Moments of a set of runs: ratios of sums over replications and the chosen years.

A ratio of sums (not a mean of yearly ratios) weights each year by its volume, as the published
figures do (bids per tender over all tenders, value shares over all value).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..engine import RunResult


def _sum(results: Sequence[RunResult], rows: np.ndarray, field: str, col: int | None = None) -> float:
    total = 0.0
    for r in results:
        a = getattr(r.acc, field)
        total += float((a[rows] if col is None else a[rows, col]).sum())
    return total


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


# name -> (what it is, function(results, year rows) -> value)
MOMENTS: dict[str, tuple[str, Callable[[Sequence[RunResult], np.ndarray], float]]] = {
    "bidders_per_tender": ("bids per closed tender, Korean and foreign",
                           lambda rs, y: _ratio(_sum(rs, y, "bidders"), _sum(rs, y, "tenders_closed"))),
    "single_bidder_share": ("share of closed tenders with exactly one bid",
                            lambda rs, y: _ratio(_sum(rs, y, "single_bidder"), _sum(rs, y, "tenders_closed"))),
    "win_rate": ("Korean wins / Korean bids",
                 lambda rs, y: _ratio(_sum(rs, y, "wins", 0), _sum(rs, y, "bids", 0))),
    "korean_share_value": ("Korean value won / value of all tenders awarded in the modelled market",
                           lambda rs, y: _ratio(_sum(rs, y, "value", 0), _sum(rs, y, "value_awarded"))),
    "korean_share_contested_value": ("Korean value won / value of the tenders Korean firms bid on",
                                     lambda rs, y: _ratio(_sum(rs, y, "value", 0), _sum(rs, y, "value_contested"))),
    "bid_cost_share": ("Korean bid-preparation cost / value of the tenders bid on",
                       lambda rs, y: _ratio(_sum(rs, y, "bid_cost"), _sum(rs, y, "bid_value"))),
    "korean_bids_per_contested_tender": ("Korean bids per tender with at least one Korean bid",
                                         lambda rs, y: _ratio(_sum(rs, y, "bids", 0), _sum(rs, y, "tenders_contested"))),
}


def year_rows(results: Sequence[RunResult], first: int, last: int) -> np.ndarray:
    years = np.asarray(results[0].cal.years)
    return np.flatnonzero((years >= first) & (years <= last))


def measure(results: Sequence[RunResult], first: int, last: int) -> dict[str, float]:
    """Every moment of these runs over the years first..last."""
    rows = year_rows(results, first, last)
    return {name: float(fn(results, rows)) for name, (_, fn) in MOMENTS.items()}

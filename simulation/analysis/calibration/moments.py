"""Moments of a set of runs: ratios of sums over replications and the chosen years.

A ratio of sums (not a mean of yearly ratios) weights each year by its volume, as the published
figures do (bids per tender over all tenders, value shares over all value).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from simulation.engine.metrics import G_ALL, GROUPS
from simulation.engine.simulate import RunResult


def _sum(results: Sequence[RunResult], rows: np.ndarray, field: str, col: int | None = None) -> float:
    total = 0.0
    for r in results:
        a = getattr(r.acc, field)
        total += float((a[rows] if col is None else a[rows, col]).sum())
    return total


def _group_sum(results: Sequence[RunResult], rows: np.ndarray, groups: Sequence[int]) -> float:
    """Korean value won in these groups (acc.value's columns), summed over runs and the years."""
    return sum(_sum(results, rows, "value", g) for g in groups)


# the ultra-high-risk classes that ordinary cover does not reach and the K-SURE special account (F7) does
RISKY = (GROUPS.index("risk:6"), GROUPS.index("risk:7"))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


# name -> (what it is, function(results, year rows) -> value)
MOMENTS: dict[str, tuple[str, Callable[[Sequence[RunResult], np.ndarray], float]]] = {
    "bidders_per_tender": (
        "bids per closed tender, Korean and foreign",
        lambda rs, y: _ratio(_sum(rs, y, "bidders"), _sum(rs, y, "tenders_closed")),
    ),
    "single_bidder_share": (
        "share of closed tenders with exactly one bid",
        lambda rs, y: _ratio(_sum(rs, y, "single_bidder"), _sum(rs, y, "tenders_closed")),
    ),
    "win_rate": ("Korean wins / Korean bids", lambda rs, y: _ratio(_sum(rs, y, "wins", 0), _sum(rs, y, "bids", 0))),
    "korean_share_value": (
        "Korean value won / value of all tenders awarded in the modelled market",
        lambda rs, y: _ratio(_sum(rs, y, "value", 0), _sum(rs, y, "value_awarded")),
    ),
    "korean_share_contested_value": (
        "Korean value won / value of the tenders Korean firms bid on",
        lambda rs, y: _ratio(_sum(rs, y, "value", 0), _sum(rs, y, "value_contested")),
    ),
    "bid_cost_share": (
        "Korean bid-preparation cost / value of the tenders bid on",
        lambda rs, y: _ratio(_sum(rs, y, "bid_cost"), _sum(rs, y, "bid_value")),
    ),
    "korean_bids_per_contested_tender": (
        "Korean bids per tender with at least one Korean bid",
        lambda rs, y: _ratio(_sum(rs, y, "bids", 0), _sum(rs, y, "tenders_contested")),
    ),
}


def year_rows(results: Sequence[RunResult], first: int, last: int) -> np.ndarray:
    years = np.asarray(results[0].cal.years)
    return np.flatnonzero((years >= first) & (years <= last))


def measure(results: Sequence[RunResult], first: int, last: int) -> dict[str, float]:
    """Every moment of these runs over the years first..last."""
    rows = year_rows(results, first, last)
    try:
        return {name: float(fn(results, rows)) for name, (_, fn) in MOMENTS.items()}
    finally:
        _TABLES.clear()  # the presence tables are shared by this call's moments only


# ---- moments of where firms bid and how long they stay (EVIDENCE F) ------------------------------
_TABLES: dict[int, tuple[RunResult, dict[int, set[tuple[int, int]]]]] = {}


def _presence(r: RunResult, first: int, last: int) -> dict[int, set[tuple[int, int]]]:
    """{calendar year: the (firm, country) pairs with a Korean bid published that year}, years first..last.

    Two persistence moments and two gravity moments read the same runs: each run's table (all its
    years) is built once. The cache holds the run itself, so an id is never a recycled one."""
    hit = _TABLES.get(id(r))
    if hit is None or hit[0] is not r:
        if len(_TABLES) > 64:
            _TABLES.clear()
        years = np.asarray(r.cal.years)
        hit = (r, _presence_table(r, int(years[0]), int(years[-1])))
        _TABLES[id(r)] = hit
    table = hit[1]
    return {y: table.get(y, set()) for y in range(first, last + 1)}


def _presence_table(r: RunResult, first: int, last: int) -> dict[int, set[tuple[int, int]]]:
    S, P = r.state, r.params
    nb = int(S.cnt[1])  # K_BIDS
    k = S.b_tender[:nb]
    month = S.t_deadline[k] - P.open_m[S.t_type[k]]
    year = np.asarray(r.cal.years)[P.year_of[np.clip(month, 0, P.n_months - 1)]]
    out: dict[int, set[tuple[int, int]]] = {y: set() for y in range(first, last + 1)}
    for f, c, yy in zip(S.b_firm[:nb].tolist(), S.t_country[k].tolist(), year.tolist(), strict=True):
        if first <= yy <= last:
            out[yy].add((f, c))
    return out


def _years(results: Sequence[RunResult], rows: np.ndarray) -> tuple[int, int]:
    years = np.asarray(results[0].cal.years)[rows]
    return int(years.min()), int(years.max())


def survival(results: Sequence[RunResult], rows: np.ndarray, run_in: int) -> float:
    """Share of firm-country presences that go on: presences new in year t (run_in=1: no bid there
    in t-1) or established (run_in=3: bids there in t-2, t-1 and t) with a bid there again in t+1
    or t+2, over every t of the years with two years after it.

    Two years, not one: a contractor present in a market bids on its tenders, and tenders are
    lumpy (a few a year in a firm's domain and country), where the export-dynamics facts it is
    compared with (EVIDENCE F) count shipments, which flow every year."""
    first, last = _years(results, rows)
    stay = 0
    total = 0
    for r in results:
        pres = _presence(r, first - run_in, last)
        for t in range(first, last - 1):
            cohort = pres[t] - pres[t - 1] if run_in == 1 else pres[t] & pres[t - 1] & pres[t - 2]
            total += len(cohort)
            stay += len(cohort & (pres[t + 1] | pres[t + 2]))
    return _ratio(stay, total)


def ppml(y: np.ndarray, X: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Poisson pseudo-maximum likelihood (Santos Silva & Tenreyro 2006), the gravity estimator that
    keeps the zeros: coefficients of E[y] = exp(X b), by iteratively reweighted least squares."""
    b = np.zeros(X.shape[1])
    b[0] = math.log(max(float(y.mean()), 1e-12))
    for _ in range(iterations):
        mu = np.exp(X @ b)
        z = X @ b + (y - mu) / mu
        W = mu
        b_new = np.linalg.solve(X.T @ (W[:, None] * X) + 1e-12 * np.eye(X.shape[1]), X.T @ (W * z))
        if np.max(np.abs(b_new - b)) < 1e-10:
            return b_new
        b = b_new
    return b


def gravity(results: Sequence[RunResult], rows: np.ndarray) -> np.ndarray:
    """(constant, market-weight elasticity, distance elasticity) of the number of Korean firm-country
    presences (a firm bidding in the country in a year) across countries, by PPML."""
    first, last = _years(results, rows)
    P = results[0].params
    count = np.zeros(P.n_countries)
    for r in results:
        for pairs in _presence(r, first, last).values():
            for _, c in pairs:
                count[c] += 1
    X = np.column_stack([np.ones(P.n_countries), np.log(P.weight), np.log(P.distance)])
    if count.sum() == 0:
        return np.full(3, np.nan)
    return ppml(count, X)


MOMENTS.update(
    {
        "rejected_share": (
            "share of closed tenders whose buyer rejected every bid",
            lambda rs, y: _ratio(_sum(rs, y, "tenders_rejected"), _sum(rs, y, "tenders_closed")),
        ),
        "contracts_per_winning_firm": (
            "Korean wins a year per firm winning that year",
            lambda rs, y: _ratio(_sum(rs, y, "wins", 0), _sum(rs, y, "exporters_year")),
        ),
        "new_presence_survival": (
            "share of new firm-country presences (a bid in a country the firm did not bid in the "
            "year before) with a bid there within the next two years",
            lambda rs, y: survival(rs, y, 1),
        ),
        "established_presence_survival": (
            "share of firm-country presences of three years or more with a bid there within the next two years",
            lambda rs, y: survival(rs, y, 3),
        ),
        "gravity_market_elasticity": (
            "PPML elasticity of firm-country presences to the country's market weight",
            lambda rs, y: float(gravity(rs, y)[1]),
        ),
        "gravity_distance_elasticity": (
            "PPML elasticity of firm-country presences to distance from Seoul",
            lambda rs, y: float(gravity(rs, y)[2]),
        ),
        "korean_value_share_risky": (
            "share of Korean value won in buyer countries of OECD risk classes 6-7",
            lambda rs, y: _ratio(_group_sum(rs, y, RISKY), _sum(rs, y, "value", G_ALL)),
        ),
    }
)

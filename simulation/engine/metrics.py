"""Yearly tidy tables from a run's accumulators: (run, scenario, seed, year, metric, group, value)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.engine.kernels.constants import (
    G_ALL,
    G_DEMAND,
    G_DOMAIN,
    G_REGION,
    G_RISK,
    G_SIZE,
    INSTRUMENTS,
    NG,
    SNAP,
    TRANCHES,
)
from simulation.engine.simulate import RunResult
from simulation.scenario.types import DOMAINS, REGIONS, SIZES

COLUMNS = ["run", "scenario", "seed", "year", "metric", "group", "value"]
GROUPS = (
    ["all"]
    + [f"size:{s}" for s in SIZES]
    + [f"region:{r}" for r in REGIONS]
    + [f"domain:{d}" for d in DOMAINS]
    + [f"risk:{k}" for k in range(8)]
    + ["demand:existing", "demand:created"]
)
assert len(GROUPS) == NG and GROUPS[G_SIZE] == "size:large" and GROUPS[G_REGION] == "region:asean"
assert GROUPS[G_DEMAND + 1] == "demand:created"
assert GROUPS[G_DOMAIN] == "domain:urban_dev" and GROUPS[G_RISK] == "risk:0" and G_ALL == 0

# metric name -> (description, unit), for documentation and `scsim show-metrics`
METRICS: dict[str, tuple[str, str]] = {
    "bids": ("Korean bids on tenders awarded or lapsed that year", "count"),
    "wins": ("Korean wins", "count"),
    "win_rate": ("export win rate: wins / bids", "fraction"),
    "value_won_usd_m": ("value of contracts won by Korean firms", "USD m"),
    "value_won_krw_bn": ("value of contracts won by Korean firms", "KRW bn"),
    "bids_submitted": ("Korean bids submitted that year", "count"),
    "subsidised_bids": ("bids reimbursed by the market-exploration subsidy", "count"),
    "bids_short_of_working_capital": (
        "bids SMEs and startups forwent only because their free capital could not cover the working "
        "capital their banks would not lend (F6 and F5 loans relax this)",
        "count",
    ),
    "tenders_closed": ("tenders reaching their deadline", "count"),
    "tenders_contested": ("tenders with at least one Korean bid", "count"),
    "tenders_awarded": ("tenders awarded to anyone", "count"),
    "value_awarded_usd_m": ("value of the tenders awarded to anyone, Korean or foreign", "USD m"),
    "tenders_rejected": ("tenders whose buyer rejected every bid", "count"),
    "rejected_share": ("share of closed tenders whose buyer rejected every bid", "fraction"),
    "capture_rate": ("Korean wins / tenders contested", "fraction"),
    "bidders_per_tender": ("mean bids per closed tender, Korean and foreign", "count"),
    "single_bidder_share": ("share of closed tenders with exactly one bid", "fraction"),
    "korean_share_value": ("Korean value won / value of all awarded tenders", "fraction"),
    "korean_share_existing_value": (
        "Korean value won on demand that exists anyway / value awarded on it "
        "(K-SCON and KSP follow-on tenders left out)",
        "fraction",
    ),
    "korean_share_contested_value": ("Korean value won / value of tenders Korean firms bid on", "fraction"),
    "bid_cost_share": ("Korean bid-preparation cost / value of the tenders bid on", "fraction"),
    "sme_share_wins": ("share of Korean wins with an SME or startup lead or partner", "fraction"),
    "sme_share_value": ("share of Korean value won that goes to SMEs and startups", "fraction"),
    "sme_value_usd_m": ("Korean value won that goes to SMEs and startups", "USD m"),
    "exporting_firms": ("firms with at least one win since the start", "count"),
    "exporting_firms_year": ("firms winning that year", "count"),
    "new_country_entries": ("firm-country pairs with a first win", "count"),
    "countries_with_win": (
        "countries where a Korean firm won by the end of the run (a level: the same in "
        "every year; take one year, do not sum)",
        "count",
    ),
    "active_firms": ("firms with capital left at year end", "count"),
    "consortia": ("large-SME consortia formed with KOTRA support", "count"),
    "partnerships": ("large-SME partnerships on bids, with or without KOTRA support", "count"),
    "consortium_wins": ("wins by supported consortia", "count"),
    "kscon_follow_on_tenders": ("main tenders scheduled from K-SCON master plans", "count"),
    "ksp_follow_on_tenders": ("tenders shaped by KSP projects", "count"),
    "contract_defaults": ("won contracts whose buyer defaulted", "count"),
    "public_cost_krw_bn": ("public cost by instrument (commitment basis)", "KRW bn"),
    "pis_commitments_krw_bn": ("new PIS fund investments", "KRW bn"),
    "pis_private_raised_krw_bn": ("private money in the PIS smart-city fund", "KRW bn"),
    "pis_nav_krw_bn": ("PIS tranche net asset value (cash + outstanding investments)", "KRW bn"),
    "value_per_public_krw": ("value won per KRW of public cost", "KRW/KRW"),
    "existing_value_per_public_krw": ("value won on demand that exists anyway per KRW of public cost", "KRW/KRW"),
    "ksure_balance_krw_bn": ("K-SURE special account balance at year end", "KRW bn"),
    "co_entry_pot_krw_bn": ("co-entry finance pot at year end", "KRW bn"),
}
for _name in SNAP:
    METRICS[f"pis_{_name}_krw_bn"] = (f"PIS tranche {_name.replace('_', ' ')} at year end", "KRW bn")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=np.asarray(den) > 0)
    return out


def public_cost_total(A) -> np.ndarray:
    """Public cost of all instruments by year (KRW bn), summed instrument by instrument in their order."""
    total = np.zeros(A.cost.shape[0])
    for k in range(len(INSTRUMENTS)):
        total = total + A.cost[:, k]
    return total


# ---- horizon outcomes: one number per run over all simulated years -----------------------------
HORIZON = (
    "bids",
    "wins",
    "win_rate",
    "value_won_usd_m",
    "value_won_krw_bn",
    "public_cost_krw_bn",
    "value_per_public_krw",
    "sme_share_value",
)
HORIZON_UNITS = {
    "bids": "count",
    "wins": "count",
    "win_rate": "fraction",
    "value_won_usd_m": "USD m",
    "value_won_krw_bn": "KRW bn",
    "public_cost_krw_bn": "KRW bn",
    "value_per_public_krw": "KRW/KRW",
    "sme_share_value": "fraction",
}
_YEARLY_INPUTS = ("bids", "wins", "value_won_usd_m", "value_won_krw_bn", "public_cost_krw_bn", "sme_share_value")


def horizon_totals(years: dict[str, np.ndarray]) -> dict[str, float]:
    """Horizon outcomes from the yearly 'all' series of one run (as `tidy` writes them).

    Sums are `math.fsum` (exactly rounded), so the same yearly numbers give the same bits whether
    they come from a tidy table (`horizon`), a Mesa model's arrays or a results folder. Ratios
    are ratios of the sums: win rate = wins / bids, value per public KRW = value won (KRW) /
    public cost, the SME share weighted by each year's value won; NaN when the divisor is 0."""
    s = {k: math.fsum(np.asarray(years[k], dtype=np.float64)) for k in _YEARLY_INPUTS if k != "sme_share_value"}
    share = np.asarray(years["sme_share_value"], dtype=np.float64)
    usd = np.asarray(years["value_won_usd_m"], dtype=np.float64)
    sme_value = math.fsum(np.where(np.isfinite(share), share, 0.0) * usd)
    div = lambda a, b: a / b if b > 0 else math.nan  # noqa: E731
    return {
        "bids": s["bids"],
        "wins": s["wins"],
        "win_rate": div(s["wins"], s["bids"]),
        "value_won_usd_m": s["value_won_usd_m"],
        "value_won_krw_bn": s["value_won_krw_bn"],
        "public_cost_krw_bn": s["public_cost_krw_bn"],
        "value_per_public_krw": div(s["value_won_krw_bn"], s["public_cost_krw_bn"]),
        "sme_share_value": div(sme_value, s["value_won_usd_m"]),
    }


def run_years(res: RunResult) -> dict[str, np.ndarray]:
    """The yearly 'all' series `horizon_totals` needs, computed exactly as `tidy` computes them."""
    A = res.acc
    krw = res.params.krw / 1000.0
    return {
        "bids": A.bids[:, 0],
        "wins": A.wins[:, 0],
        "value_won_usd_m": A.value[:, 0],
        "value_won_krw_bn": A.value[:, 0] * krw,
        "public_cost_krw_bn": public_cost_total(A),
        "sme_share_value": _ratio(A.sme_value, A.value[:, 0]),
    }


def _same_grid(t: pd.DataFrame, n: int, k: int, ny: int) -> bool:
    """Whether rows sorted by scenario, run, input and year are n runs of the same k inputs x ny years."""
    m = t["_m"].to_numpy().reshape(n, k, ny)
    y = t["year"].to_numpy().reshape(n, k, ny)
    return bool((m == np.arange(k)[None, :, None]).all() and (y == y[0, 0][None, None, :]).all())


def horizon(table: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario and run of a tidy table: run, scenario, seed and the `HORIZON` outcomes."""
    t = table[(table["group"] == "all") & table["metric"].isin(_YEARLY_INPUTS)]
    code = {m: i for i, m in enumerate(_YEARLY_INPUTS)}
    t = t.assign(_m=t["metric"].map(code).astype(np.int64))
    t = t.sort_values(["scenario", "run", "_m", "year"], kind="mergesort")
    runs = t[["scenario", "run"]].drop_duplicates()
    n, k = len(runs), len(_YEARLY_INPUTS)
    ny = len(t) // (n * k) if n else 0
    rows = []
    if n and len(t) == n * k * ny and _same_grid(t, n, k, ny):
        # every run holds every input for the same years: one array, runs x inputs x years
        values = t["value"].to_numpy(dtype=np.float64).reshape(n, k, ny)
        seeds = t["seed"].to_numpy().reshape(n, k * ny)[:, 0]
        for j, (scenario, run) in enumerate(zip(runs["scenario"], runs["run"], strict=True)):
            years = {m: values[j, i] for i, m in enumerate(_YEARLY_INPUTS)}
            rows.append({"run": int(run), "scenario": scenario, "seed": int(seeds[j]), **horizon_totals(years)})
    else:  # a table with gaps: run by run
        for (scenario, run), g in t.groupby(["scenario", "run"], observed=True, sort=True):
            years = {m: v["value"].to_numpy() for m, v in g.groupby("metric", sort=False)}
            rows.append(
                {"run": int(run), "scenario": scenario, "seed": int(g["seed"].iloc[0]), **horizon_totals(years)}
            )
    out = pd.DataFrame(rows, columns=["run", "scenario", "seed", *HORIZON])
    if isinstance(table["scenario"].dtype, pd.CategoricalDtype):
        out["scenario"] = pd.Categorical(out["scenario"], categories=table["scenario"].cat.categories)
    return out


def tidy(res: RunResult, run: int = 0) -> pd.DataFrame:
    """The run's yearly figures as a long table: run, scenario, seed, year, metric, group, value."""
    metrics, groups, values = tidy_block(res)
    years = np.array(res.cal.years)
    n, ny = len(metrics), len(years)
    return pd.DataFrame(
        {
            "run": np.full(n * ny, run, dtype=np.int64),
            "scenario": pd.Categorical([res.scenario] * (n * ny)),
            "seed": np.full(n * ny, res.seed, dtype=np.int64),
            "year": np.tile(years, n).astype(np.int64),
            "metric": np.repeat(metrics, ny),
            "group": np.repeat(groups, ny),
            "value": values.reshape(-1),
        }
    )


# the yearly series of every run that are read straight from an accumulator, in the order of the table
_SERIES = (
    ("bids_submitted", "bids_submitted"),
    ("subsidised_bids", "subsidised_bids"),
    ("bids_short_of_working_capital", "bids_short_of_working_capital"),
    ("tenders_closed", "tenders_closed"),
    ("tenders_contested", "tenders_contested"),
    ("tenders_awarded", "tenders_awarded"),
    ("tenders_rejected", "tenders_rejected"),
    ("exporting_firms", "exporters"),
    ("partnerships", "partnerships"),
    ("exporting_firms_year", "exporters_year"),
    ("new_country_entries", "new_entries"),
    ("active_firms", "active_firms"),
    ("consortia", "consortia"),
    ("consortium_wins", "consortium_wins"),
    ("kscon_follow_on_tenders", "kscon_tenders"),
    ("ksp_follow_on_tenders", "ksp_tenders"),
    ("contract_defaults", "defaults"),
    ("pis_commitments_krw_bn", "pis_commit"),
    ("ksure_balance_krw_bn", "ksure_balance"),
    ("co_entry_pot_krw_bn", "pot_balance"),
)
_BY_GROUP = ("bids", "wins", "win_rate", "value_won_usd_m", "value_won_krw_bn")
_RATES = (
    "capture_rate",
    "bidders_per_tender",
    "single_bidder_share",
    "value_awarded_usd_m",
    "korean_share_value",
    "korean_share_existing_value",
    "rejected_share",
    "korean_share_contested_value",
    "bid_cost_share",
    "sme_value_usd_m",
    "sme_share_wins",
    "sme_share_value",
)
_TOTALS = (
    "public_cost_krw_bn",
    "value_per_public_krw",
    "existing_value_per_public_krw",
    "pis_private_raised_krw_bn",
    "countries_with_win",
)


def _pairs() -> tuple[list[str], list[str]]:
    """(metric, group) of each row of `tidy_block`, in its order: the same for every run."""
    pairs = [(m, g) for g in GROUPS for m in _BY_GROUP]
    pairs += [(m, "all") for m, _ in _SERIES] + [(m, "all") for m in _RATES]
    pairs += [("public_cost_krw_bn", f"instrument:{name}") for name in INSTRUMENTS]
    pairs += [(m, "all") for m in _TOTALS]
    for tranche in TRANCHES:
        pairs += [(f"pis_{name}_krw_bn", f"tranche:{tranche}") for name in SNAP]
        pairs.append(("pis_nav_krw_bn", f"tranche:{tranche}"))
    return [m for m, _ in pairs], [g for _, g in pairs]


PAIR_METRICS, PAIR_GROUPS = _pairs()


def tidy_block(res: RunResult) -> tuple[list[str], list[str], np.ndarray]:
    """(metric of each row, group of each row, values: one row of yearly figures per pair).

    The pairs come in the same order for every run (PAIR_METRICS, PAIR_GROUPS), so a sweep builds
    its columns of names once (experiment/tasks.run_values) and only the values per run; the values
    are computed block by block (element by element the same arithmetic as one series at a time)."""
    A, P = res.acc, res.params
    ny = len(res.cal.years)
    krw = P.krw / 1000.0
    f8 = np.float64
    ng = len(GROUPS)
    bids, wins, value = (np.asarray(x[:, :ng], dtype=f8).T for x in (A.bids, A.wins, A.value))
    by_group = np.stack([bids, wins, _ratio(wins, bids), value, value * krw], axis=1).reshape(ng * 5, ny)
    series = np.array([getattr(A, field) for _, field in _SERIES], dtype=f8)
    won = A.value[:, 0]
    rates = np.array(
        [
            _ratio(A.wins[:, 0], A.tenders_contested),
            _ratio(A.bidders, A.tenders_closed),
            _ratio(A.single_bidder, A.tenders_closed),
            A.value_awarded,
            _ratio(won, A.value_awarded),
            _ratio(A.value[:, G_DEMAND], A.value_awarded - A.value_awarded_created),
            _ratio(A.tenders_rejected, A.tenders_closed),
            _ratio(won, A.value_contested),
            _ratio(A.bid_cost, A.bid_value),
            A.sme_value,
            _ratio(A.sme_wins, A.wins[:, 0]),
            _ratio(A.sme_value, won),
        ],
        dtype=f8,
    )
    costs = np.asarray(A.cost[:, : len(INSTRUMENTS)], dtype=f8).T
    total_cost = public_cost_total(A)
    totals = np.array(
        [
            total_cost,
            _ratio(won * krw, total_cost),
            _ratio(A.value[:, G_DEMAND] * krw, total_cost),
            np.full(ny, res.private_raised),
            np.full(ny, float((np.asarray(res.state.won_in) > 0).any(axis=0).sum())),
        ],
        dtype=f8,
    )
    snap = np.asarray(A.pis_snap, dtype=f8).transpose(1, 2, 0)  # tranche, column, year
    nav = snap[:, 1:2, :] + snap[:, 2:3, :]
    fund = np.concatenate([snap, nav], axis=1).reshape(-1, ny)
    values = np.concatenate([by_group, series, rates, costs, totals, fund])
    return PAIR_METRICS, PAIR_GROUPS, values

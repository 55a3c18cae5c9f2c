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


def horizon(table: pd.DataFrame) -> pd.DataFrame:
    """One row per scenario and run of a tidy table: run, scenario, seed and the `HORIZON` outcomes."""
    t = table[(table["group"] == "all") & table["metric"].isin(_YEARLY_INPUTS)]
    t = t.sort_values(["run", "year"], kind="mergesort")
    rows = []
    for (scenario, run), g in t.groupby(["scenario", "run"], observed=True, sort=True):
        years = {m: v["value"].to_numpy() for m, v in g.groupby("metric", sort=False)}
        rows.append({"run": int(run), "scenario": scenario, "seed": int(g["seed"].iloc[0]), **horizon_totals(years)})
    out = pd.DataFrame(rows, columns=["run", "scenario", "seed", *HORIZON])
    if isinstance(table["scenario"].dtype, pd.CategoricalDtype):
        out["scenario"] = pd.Categorical(out["scenario"], categories=table["scenario"].cat.categories)
    return out


def tidy(res: RunResult, run: int = 0) -> pd.DataFrame:
    A, P = res.acc, res.params
    years = np.array(res.cal.years)
    krw = P.krw / 1000.0
    metrics: list[str] = []
    groups: list[str] = []
    values: list[np.ndarray] = []

    def add(metric: str, group: str, v) -> None:
        metrics.append(metric)
        groups.append(group)
        values.append(np.asarray(v, dtype=np.float64))

    for g, name in enumerate(GROUPS):
        add("bids", name, A.bids[:, g])
        add("wins", name, A.wins[:, g])
        add("win_rate", name, _ratio(A.wins[:, g], A.bids[:, g]))
        add("value_won_usd_m", name, A.value[:, g])
        add("value_won_krw_bn", name, A.value[:, g] * krw)
    for metric, arr in (
        ("bids_submitted", A.bids_submitted),
        ("subsidised_bids", A.subsidised_bids),
        ("tenders_closed", A.tenders_closed),
        ("tenders_contested", A.tenders_contested),
        ("tenders_awarded", A.tenders_awarded),
        ("tenders_rejected", A.tenders_rejected),
        ("exporting_firms", A.exporters),
        ("partnerships", A.partnerships),
        ("exporting_firms_year", A.exporters_year),
        ("new_country_entries", A.new_entries),
        ("active_firms", A.active_firms),
        ("consortia", A.consortia),
        ("consortium_wins", A.consortium_wins),
        ("kscon_follow_on_tenders", A.kscon_tenders),
        ("ksp_follow_on_tenders", A.ksp_tenders),
        ("contract_defaults", A.defaults),
        ("pis_commitments_krw_bn", A.pis_commit),
        ("ksure_balance_krw_bn", A.ksure_balance),
        ("co_entry_pot_krw_bn", A.pot_balance),
    ):
        add(metric, "all", arr)
    add("capture_rate", "all", _ratio(A.wins[:, 0], A.tenders_contested))
    add("bidders_per_tender", "all", _ratio(A.bidders, A.tenders_closed))
    add("single_bidder_share", "all", _ratio(A.single_bidder, A.tenders_closed))
    add("value_awarded_usd_m", "all", A.value_awarded)
    add("korean_share_value", "all", _ratio(A.value[:, 0], A.value_awarded))
    add("korean_share_existing_value", "all", _ratio(A.value[:, G_DEMAND], A.value_awarded - A.value_awarded_created))
    add("rejected_share", "all", _ratio(A.tenders_rejected, A.tenders_closed))
    add("korean_share_contested_value", "all", _ratio(A.value[:, 0], A.value_contested))
    add("bid_cost_share", "all", _ratio(A.bid_cost, A.bid_value))
    add("sme_value_usd_m", "all", A.sme_value)
    add("sme_share_wins", "all", _ratio(A.sme_wins, A.wins[:, 0]))
    add("sme_share_value", "all", _ratio(A.sme_value, A.value[:, 0]))
    for k, name in enumerate(INSTRUMENTS):
        add("public_cost_krw_bn", f"instrument:{name}", A.cost[:, k])
    total_cost = public_cost_total(A)
    add("public_cost_krw_bn", "all", total_cost)
    add("value_per_public_krw", "all", _ratio(A.value[:, 0] * krw, total_cost))
    add("existing_value_per_public_krw", "all", _ratio(A.value[:, G_DEMAND] * krw, total_cost))
    add("pis_private_raised_krw_bn", "all", np.full(len(years), res.private_raised))
    add("countries_with_win", "all", np.full(len(years), float((np.asarray(res.state.won_in) > 0).any(axis=0).sum())))
    for t, tranche in enumerate(TRANCHES):
        for s, name in enumerate(SNAP):
            add(f"pis_{name}_krw_bn", f"tranche:{tranche}", A.pis_snap[:, t, s])
        add("pis_nav_krw_bn", f"tranche:{tranche}", A.pis_snap[:, t, 1] + A.pis_snap[:, t, 2])

    n, ny = len(metrics), len(years)
    frame = pd.DataFrame(
        {
            "run": np.full(n * ny, run, dtype=np.int64),
            "scenario": pd.Categorical([res.scenario] * (n * ny)),
            "seed": np.full(n * ny, res.seed, dtype=np.int64),
            "year": np.tile(years, n).astype(np.int64),
            "metric": np.repeat(metrics, ny),
            "group": np.repeat(groups, ny),
            "value": np.concatenate(values),
        }
    )
    return frame

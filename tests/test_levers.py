"""Levers push the model the way MEASURES.md says, shown with common random numbers over replications."""

from __future__ import annotations

import numpy as np
from helpers import load, table, total

from simulation.engine.simulate import simulate
from simulation.mesa.model import SmartCityModel

SEEDS = range(12)


def paired(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean and standard error of the paired difference b - a."""
    d = np.asarray(b) - np.asarray(a)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def test_higher_subsidy_ratio_gives_no_fewer_sme_bids():
    low_set = ["levers.n2_subsidy.ratio={large: 0.0, mid: 0.0, sme: 0.0, startup: 0.0}"]
    high_set = [
        "levers.n2_subsidy.ratio={large: 0.0, mid: 0.5, sme: 0.9, startup: 0.9}",
        "levers.n2_subsidy.wide_scope=true",
        "levers.n2_subsidy.budget_krw_bn_per_year=50",
    ]
    low, high = [], []
    for seed in SEEDS:
        lo, hi = table("no_plan", seed, *low_set), table("no_plan", seed, *high_set)
        low.append(total(lo, "bids", "size:sme") + total(lo, "bids", "size:startup"))
        high.append(total(hi, "bids", "size:sme") + total(hi, "bids", "size:startup"))
    mean, se = paired(low, high)
    assert all(hi_ >= lo_ for lo_, hi_ in zip(low, high, strict=True)) or mean - 3 * se > 0
    assert mean > 0 and mean - 3 * se > 0, (mean, se)


def test_ksure_account_lowers_the_cost_of_risk_instead_of_opening_a_door():
    """F7 is cover that lowers a risk cost growing with the class, not a permission: firms bid in
    classes 6-7 without the special account (bearing the risk), and more with it."""
    on, off = 0.0, 0.0
    for seed in range(6):
        with_f7 = table("plan_2019_announced", seed)
        without = table("plan_2019_announced", seed, "levers.f7_ksure.enabled=false")
        on += total(with_f7, "bids", "risk:6") + total(with_f7, "bids", "risk:7")
        off += total(without, "bids", "risk:6") + total(without, "bids", "risk:7")
    assert off > 0.0, "without the account Korean firms still bid in classes 6-7, bearing the risk themselves"
    assert on > off, "the account's cover lowers the risk cost there: more bids"


def test_mou_raises_relationship_from_its_month():
    boost = "levers.t5_mou.relationship_boost=0.05"  # the fitted point is 0 (no genuine effect): test the mechanism
    base = [boost, "levers.t5_mou.mous=[{country: KEN, date: 2019-03}]"]
    with_mou = [boost, "levers.t5_mou.mous=[{country: KEN, date: 2019-03}, {country: KEN, date: 2021-03}]"]
    a = SmartCityModel("scenarios/plan_2019_announced.yaml", seed=2, overrides=base)
    b = SmartCityModel("scenarios/plan_2019_announced.yaml", seed=2, overrides=with_mou)
    ken = a.countries.index("KEN")
    mou_month = b.calendar.month("2021-03")
    for m in range(mou_month + 1):
        a.step()
        b.step()
        if m < mou_month:
            assert a.state.rel[ken] == b.state.rel[ken], f"month {m}: no difference before the MOU"
    jump = b.state.rel[ken] - a.state.rel[ken]
    expected = b.params.t5_relationship_boost * b.params.t2_reach[mou_month]
    assert jump > 0.5 * expected, (jump, expected)


def test_private_tranche_loses_less_when_subordinated():
    """On the scenario's own defaults; per unit of private money as well as in total."""
    sub, pari, sub_rate, pari_rate = [], [], [], []
    for seed in range(10):
        for order, out, rate in (("subordinated", sub, sub_rate), ("pari_passu", pari, pari_rate)):
            state = simulate(load("plan_2019_announced", f"levers.f2_loss_order.order={order}"), seed).state
            out.append(float(state.pis_loss[2]))
            rate.append(float(state.pis_loss[2] / state.pis_paid[2]))
    assert sum(pari) > 0, "the runs must produce private losses under pari passu"
    assert sum(sub) < sum(pari) and sum(sub_rate) < sum(pari_rate)
    mean, se = paired(sub, pari)
    assert mean - 2 * se > 0, (mean, se)

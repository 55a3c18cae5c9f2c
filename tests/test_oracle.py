"""The numba kernels against the plain-Python oracle (simulation/reference/oracle.py): bit-identical yearly tables.

Every case runs one scenario and seed twice, once through the compiled `run_months` and once
through `oracle_kernel`, and requires the tidy tables to be equal to the last bit (NaNs equal) and
the final worlds (firms, relationships, registers, fund, pools) to be equal as well. The worlds
are small so the file runs in seconds once numba's cache is warm; the stressed cases raise the
market and the default rates so that every mechanism of the plan actually fires, and
`test_cases_exercise_the_plan` checks that they did, so the comparison is not vacuous.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulation.reference.oracle as oracle
from simulation.engine.kernels.constants import (
    K_CONTACTED,
    K_CONTRACTS,
    K_INVEST,
    K_PIPE,
    K_ROADSHOWS,
    K_TENDERS,
    KNOW_SHIFT,
    NTR,
    R_BLENDED_LEFT,
    R_EDPF_LEFT,
    R_KSURE,
    R_PIS_RESERVED,
    R_POT,
    R_POT_SHORT,
    R_SLOTS_LEFT,
    R_SUBSIDY_LEFT,
    ST_OPEN,
)
from simulation.engine.metrics import tidy
from simulation.engine.simulate import new_acc, simulate
from simulation.engine.world import build
from simulation.reference.oracle import oracle_kernel
from simulation.scenario.loader import load_scenario

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

SMALL = ("world.n_firms=80", "time.end=2025-12")
# a bigger market, a horizon that reaches the Kuwait phases, quick fund exits and frequent
# project and buyer defaults: consortia, PIS exits and losses, K-SURE claims all happen
STRESS = (
    "world.n_firms=120",
    "time.end=2027-12",
    "market.addressable_share=0.03",
    "levers.f1_pis.holding_years=1.5",
    "levers.f1_pis.project_default_pd={c0: 0.2, c1: 0.2, c2: 0.25, c3: 0.3, c4: 0.3, c5: 0.4, c6: 0.5, c7: 0.5}",
    "finance.contract_default_pd.c6=0.4",
    "finance.contract_default_pd.c7=0.5",
)
# a small fund that earns a lot and then loses more than its principal (the last-tranche branch)
FUND_EXTREME = (
    "world.n_firms=120",
    "time.end=2027-12",
    "market.addressable_share=0.03",
    "levers.f1_pis.holding_years=0.5",
    "levers.f1_pis.return_multiple=5.0",
    "levers.f1_pis.fund_krw_bn=40",
    "levers.f1_pis.max_equity_krw_bn=10",
    "levers.f1_pis.loss_given_default=1.0",
    "levers.f1_pis.project_default_pd={c0: 0.6, c1: 0.6, c2: 0.6, c3: 0.6, c4: 0.6, c5: 0.6, c6: 0.6, c7: 0.6}",
)
PARI_PASSU = ("levers.f2_loss_order.order=pari_passu",)
# uninsured buyer defaults that wipe out small firms: firms run out of capital and stop bidding
BANKRUPT = (
    "world.n_firms=120",
    "time.end=2027-12",
    "market.addressable_share=0.03",
    "behaviour.margin=0.3",
    "behaviour.default_loss_share=1.0",
    "levers.f7_ksure.cover_share=0.0",
    "world.domestic_income=0",
    "finance.contract_default_pd={c0: 0.05, c1: 0.05, c2: 0.05, c3: 0.05, c4: 0.05, c5: 0.05, c6: 0.05, c7: 0.05}",
)

SCENARIOS = ("no_plan", "plan_2019_announced", "plan_2019_implemented")
CASES: dict[str, tuple[str, tuple[str, ...], int]] = {}
for _scen in SCENARIOS:
    for _seed in (1, 2, 3):
        CASES[f"{_scen}-small-{_seed}"] = (_scen, SMALL, _seed)
    for _seed in (11, 12, 13):
        CASES[f"{_scen}-stress-{_seed}"] = (_scen, STRESS, _seed)
for _seed in (21, 22, 23):
    CASES[f"plan_2019_announced-stress-pari_passu-{_seed}"] = ("plan_2019_announced", STRESS + PARI_PASSU, _seed)
for _seed in (2, 3, 4, 6, 9):  # a fund loss beyond all principal (the last-tranche branch), checked below:
    # in 13 of the seeds 1-30 at the fit of 2026-12-07 (evening); five seeds keep it exercised when a refit
    # moves which ones (a fund of 60 bn at a 3x multiple had it in 5 of 30, and one seed lost it at a refit)
    CASES[f"plan_2019_announced-fund_extreme-{_seed}"] = ("plan_2019_announced", FUND_EXTREME, _seed)
CASES["plan_2019_announced-bankrupt-13"] = ("plan_2019_announced", BANKRUPT, 13)
CASES["plan_2019_implemented-fund_extreme-pari_passu-33"] = ("plan_2019_implemented", FUND_EXTREME + PARI_PASSU, 33)


@functools.cache
def resolved(scenario: str, overrides: tuple[str, ...]):
    return load_scenario(str(ROOT / "scenarios" / f"{scenario}.yaml"), overrides=list(overrides))


@functools.cache
def run_pair(case: str):
    """(kernel result, oracle result, oracle world) of a case, computed once per session."""
    scenario, overrides, seed = CASES[case]
    r = resolved(scenario, overrides)
    fast = simulate(r, seed)
    slow = simulate(r, seed, kernel=oracle_kernel)
    return fast, slow, oracle.LAST_WORLD


def assert_same_world(S, world) -> None:
    """The kernels' final State equals the oracle's objects, exactly."""
    firms = world.firms
    C = len(world.countries)

    def same(name, kernel_values, oracle_values):
        a = np.asarray(kernel_values)
        b = np.asarray(oracle_values, dtype=a.dtype) if len(oracle_values) else np.zeros(a.shape, a.dtype)
        assert a.shape == b.shape and np.array_equal(a, b), f"final state differs: {name}"

    same("capital", S.capital, [f.capital for f in firms])
    same("tied", S.tied, [f.tied for f in firms])
    same("active", S.active, [int(f.active) for f in firms])
    same("open_bids", S.open_bids, [f.open_bids for f in firms])
    same("kb", S.kb, [f.kb for f in firms])
    same("kw", S.kw, [f.kw for f in firms])
    same("exp_region", S.exp_region, [f.exp_region for f in firms])
    same("exp_domain", S.exp_domain, [f.exp_domain for f in firms])
    same("contact", S.contact[:, : len(firms)].T, [f.contact for f in firms])
    assert not S.contact[:, len(firms)].any(), "the no-contact column took contact"
    listed = S.contacted_ids[: S.cnt[K_CONTACTED]]
    assert set(listed) == set(np.nonzero(S.contacted)[0]) == set(np.nonzero(S.contact.any(axis=0))[0]) and len(
        set(listed)
    ) == len(listed), "contacted list and flags disagree with the contacts"
    same(
        "know",
        S.know.T,
        [[(f.know[c][0] * KNOW_SHIFT + f.know[c][1]) if c in f.know else -1 for c in world.countries] for f in firms],
    )
    same("won_in", S.won_in, [[int(c in f.won_in) for c in world.countries] for f in firms])
    same("exported", S.exported, [int(f.exported) for f in firms])
    same("last_win_year", S.last_win_year, [f.last_win_year for f in firms])
    same("rel", S.rel, [world.countries[c].rel for c in range(C)])
    same(
        "registers",
        S.reg[[R_POT, R_KSURE, R_SUBSIDY_LEFT, R_BLENDED_LEFT, R_EDPF_LEFT, R_SLOTS_LEFT, R_POT_SHORT, R_PIS_RESERVED]],
        [
            world.pot,
            world.ksure,
            world.subsidy_left,
            world.blended_left,
            world.edpf_left,
            world.slots_left,
            world.pot_short,
            world.pis_reserved,
        ],
    )
    same(
        "pis tranches",
        np.stack([S.pis_paid, S.pis_cash, S.pis_out, S.pis_loss, S.pis_ret]),
        [[getattr(t, a) for t in world.fund] for a in ("paid", "cash", "out", "loss", "ret")],
    )
    assert S.cnt[K_TENDERS] == world.all_tenders
    assert S.cnt[K_PIPE] == len(world.planned)
    assert S.cnt[K_ROADSHOWS] == world.roadshows_held
    n_t = S.cnt[K_TENDERS]
    open_k = np.nonzero(S.t_status[:n_t] == ST_OPEN)[0]
    same("open tender values", S.t_value[open_k], [t.value for t in world.tenders])
    same("open tender bids", S.t_bid_count[open_k], [len(t.bids) for t in world.tenders])
    same("open tender foreign bids", S.t_nforeign[open_k], [t.nforeign for t in world.tenders])
    same("open tender foreign best", S.t_fbest[open_k], [t.fbest for t in world.tenders])
    same("open tender outside option", S.t_reserve[open_k], [t.reserve for t in world.tenders])
    same("open tender origin", S.t_origin[open_k], [t.origin for t in world.tenders])
    live = np.nonzero(S.k_active[: S.cnt[K_CONTRACTS]])[0]
    same("running contracts", S.k_value[live], [k.value for k in world.contracts])
    same("contract loans", S.k_loan[live], [k.loan for k in world.contracts])
    held = np.nonzero(S.i_active[: S.cnt[K_INVEST]])[0]
    same("fund investments", S.i_amt[held].reshape(-1, NTR), [j.amounts for j in world.investments])


@pytest.mark.parametrize("case", list(CASES))
def test_oracle_matches_kernels(case):
    fast, slow, world = run_pair(case)
    pd.testing.assert_frame_equal(tidy(fast), tidy(slow), check_exact=True)
    for name in fast.acc._fields:  # the raw accumulators too (tidy derives ratios from them)
        a, b = getattr(fast.acc, name), getattr(slow.acc, name)
        assert np.array_equal(a, b), f"accumulator {name} differs"
    assert_same_world(fast.state, world)


def _sum(frame: pd.DataFrame, metric: str, group: str = "all") -> float:
    return float(frame[(frame.metric == metric) & (frame.group == group)].value.sum())


def test_cases_exercise_the_plan():
    """The mechanisms the comparison is meant to cover really happen in these cases."""
    tables = {case: tidy(run_pair(case)[0]) for case in CASES}
    logs = {case: run_pair(case)[2].log for case in CASES}

    def some(pred) -> bool:
        return any(pred(case) for case in CASES)

    def cost(case, instrument):
        return _sum(tables[case], "public_cost_krw_bn", f"instrument:{instrument}")

    # market, bids, awards, lapses, defaults on both sides of the competition
    for case in CASES:
        assert _sum(tables[case], "bids_submitted") > 0 and _sum(tables[case], "wins") > 0, case
    assert some(lambda c: logs[c]["lapsed"] > 0)
    assert some(lambda c: logs[c]["rejected"] > 0 and logs[c]["retenders"] > 0)
    assert some(lambda c: _sum(tables[c], "contract_defaults") > 0)
    assert some(lambda c: _sum(tables[c], "single_bidder_share") > 0)
    # C2/C3 consortia and their wins; F5 co-entry loans, their cost and the pot's top-up
    assert some(lambda c: _sum(tables[c], "consortia") > 0 and _sum(tables[c], "consortium_wins") > 0)
    assert some(lambda c: _sum(tables[c], "partnerships") > _sum(tables[c], "consortia"))  # partners without C2
    assert some(lambda c: cost(c, "c2_consortia") > 0)
    assert some(lambda c: cost(c, "f5_co_entry") > 0)
    assert some(lambda c: logs[c]["released_loans"] > 0 and logs[c]["pot_topups"] > 0)
    # F1/F2/F4 PIS: commitments, exits with returns, defaults under both loss orders
    assert some(lambda c: _sum(tables[c], "pis_commitments_krw_bn") > 0)
    assert some(lambda c: _sum(tables[c], "pis_cum_return_krw_bn", "tranche:private") > 0)
    subordinated = [c for c in CASES if "pari_passu" not in c and "plan" in c]
    pari = [c for c in CASES if "pari_passu" in c]
    assert any(_sum(tables[c], "pis_cum_loss_krw_bn", "tranche:government") > 0 for c in subordinated)
    assert any(_sum(tables[c], "pis_cum_loss_krw_bn", "tranche:private") > 0 for c in pari)
    assert any(cost(c, "f1_pis") > 0 for c in pari)
    assert some(lambda c: logs[c]["pis_exits"] > 0)
    assert some(lambda c: logs[c]["loss_beyond_principal"] > 0)
    # working capital: SMEs' running contracts tie up capital, and some bids go unmade for want of it
    short = "bids_short_of_working_capital"
    assert some(lambda c: logs[c]["working_capital_tied"] > 0 and _sum(tables[c], short) > 0)
    assert some(lambda c: "no_plan" in c and _sum(tables[c], short) > 0)
    # N1 K-SCON and T3 KSP follow-on tenders, won with incumbency
    assert some(lambda c: _sum(tables[c], "kscon_follow_on_tenders") > 0 and logs[c]["incumbent_wins"] > 0)
    assert some(lambda c: _sum(tables[c], "ksp_follow_on_tenders") > 0 and logs[c]["ksp_shaped_wins"] > 0)
    # F7 K-SURE: insured bids, wins and claims against the account
    assert some(lambda c: logs[c]["insured_bids"] > 0 and logs[c]["insured_wins"] > 0)
    assert some(lambda c: logs[c]["ksure_claims"] > 0)
    assert some(lambda c: cost(c, "f7_ksure") < 0)  # premium income above claims
    # N2 subsidies, including a year whose budget ran out
    assert some(lambda c: _sum(tables[c], "subsidised_bids") > 0 and cost(c, "n2_subsidy") > 0)
    assert some(lambda c: logs[c]["subsidy_ran_out"] > 0)
    # F3/F6/F8 finance packages and the release of losing bids' reservations
    for instrument in ("f3_blended", "f8_edpf", "f6_sme_sole"):
        assert some(lambda c, instrument=instrument: cost(c, instrument) > 0), instrument
    assert some(lambda c: logs[c]["released_blended"] > 0 and logs[c]["released_edpf"] > 0)
    # C1 expo, C4 fair, C5 roadshows, N5 training, T1 visits, T4 envoys, N3/N4 standing measures
    assert some(lambda c: cost(c, "c1_expo") > 0 and logs[c]["expo_meetings"] > 0)
    assert some(lambda c: cost(c, "c4_fair") > 0 and logs[c]["fair_contacts"] > 0)
    assert some(lambda c: cost(c, "c5_roadshows") > 0 and logs[c]["roadshow_contacts"] > 0)
    for instrument in (
        "n5_training",
        "t1_high_level",
        "t4_envoys",
        "n4_hubs_kotra",
        "n4_hubs_kind",
        "n3_info_db",
        "t2_coordination",
        "c3_alliance",
        "c6_strategy",
        "n6_intl_orgs",
        "t5_mou",
    ):
        assert some(lambda c, instrument=instrument: cost(c, instrument) > 0), instrument
    # created demand is won as well as existing demand; knowledge fades (some pairs touched once, long ago)
    assert some(lambda c: _sum(tables[c], "value_won_usd_m", "demand:created") > 0)
    assert some(
        lambda c: any(
            0 < f.strength(co, run_pair(c)[0].params.n_months - 1, run_pair(c)[0].params.k_table.tolist()) < 0.25
            for f in run_pair(c)[2].firms
            for co in f.know
        )
    )
    # firms running out of capital drop out of bidding
    assert some(lambda c: (run_pair(c)[0].acc.active_firms < run_pair(c)[0].params.n_firms).any())


@pytest.mark.parametrize("case, split", [("plan_2019_announced-stress-11", 31), ("plan_2019_implemented-small-2", 17)])
def test_oracle_resumes_a_kernel_run(case, split):
    """Kernels for the first months, the oracle for the rest (from the State the kernels left): same tables."""
    from simulation.engine.kernels.step import run

    scenario, overrides, seed = CASES[case]
    fast = run_pair(case)[0]
    r = resolved(scenario, overrides)
    cap = build(r, seed)[5]
    for pool in ("tenders", "bids", "contracts", "invest", "pipe"):  # room enough: no overflow rerun
        cap = cap.grown(pool).grown(pool)
    P, cal, _, S, R, _ = build(r, seed, cap)
    A = new_acc(cal.n_years)
    assert run(0, split, P, S, A, R) == 0
    assert oracle_kernel(split, cal.n_months, P, S, A, R) == 0
    for name in A._fields:
        assert np.array_equal(getattr(fast.acc, name), getattr(A, name)), f"accumulator {name} differs"
    assert_same_world(fast.state, oracle.LAST_WORLD)


def test_oracle_matches_when_the_junior_tranche_owes_the_fund():
    """The branch where the subordinated tranche pays its seniors' losses beyond its cash (negative
    cash): the first seed of the extreme fund case where the kernels reach it, then the oracle on it."""
    r = resolved("plan_2019_announced", FUND_EXTREME)
    seed = next((s for s in range(31, 131) if (simulate(r, s).acc.pis_snap[:, 0, 1] < 0.0).any()), None)
    assert seed is not None, "no seed of 100 reaches a negative junior tranche: make FUND_EXTREME harsher"
    fast = simulate(r, seed)
    slow = simulate(r, seed, kernel=oracle_kernel)
    for name in fast.acc._fields:
        assert np.array_equal(getattr(fast.acc, name), getattr(slow.acc, name)), f"accumulator {name} differs"
    assert_same_world(fast.state, oracle.LAST_WORLD)

"""A run is a pure function of (scenario, seed), and the world it simulates keeps its books straight."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys

import mesa
import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, load, table

from simulation.engine.kernels.constants import (
    G_ALL,
    K_BIDS,
    K_TENDERS,
    SN_CASH,
    SN_LOSS,
    SN_OUT,
    SN_PAID,
    SN_RET,
    ST_FOREIGN,
    ST_KOREAN,
    ST_LAPSED,
    ST_OPEN,
    ST_REJECTED,
)
from simulation.engine.metrics import tidy
from simulation.engine.simulate import simulate
from simulation.mesa.model import SmartCityModel

HIGH_DEFAULTS = [
    "levers.f1_pis.project_default_pd={c0: 0.2, c1: 0.2, c2: 0.25, c3: 0.3, c4: 0.3, c5: 0.35, c6: 0.4, c7: 0.4}",
    "finance.contract_default_pd={c0: 0.05, c1: 0.05, c2: 0.05, c3: 0.08, c4: 0.1, c5: 0.1, c6: 0.2, c7: 0.3}",
]


def test_same_scenario_and_seed_give_identical_tables():
    r = load("plan_2019_announced")
    a, b = tidy(simulate(r, 11)), tidy(simulate(r, 11))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = tidy(simulate(r, 12))
    assert not a["value"].equals(c["value"]), "a different seed must give a different run"


def test_identical_across_two_processes(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"r{k}"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "simulation",
                "run",
                "scenarios/plan_2019_implemented.yaml",
                "--seed",
                "7",
                "--reps",
                "2",
                "--out",
                str(out),
                "--quiet",
                "--no-report",  # the same numbers is the point here; the report has its own tests
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    a = pd.read_parquet(outs[0] / "yearly.parquet")
    b = pd.read_parquet(outs[1] / "yearly.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert (outs[0] / "yearly.csv").read_bytes() == (outs[1] / "yearly.csv").read_bytes()
    from simulation.experiment.tasks import replication_seeds

    here = tidy(simulate(load("plan_2019_implemented"), replication_seeds(7, 2)[1]), run=1)
    mine = a[a["run"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine.astype({"scenario": str}), here.astype({"scenario": str}), check_exact=True)


def _check_month(model: SmartCityModel) -> None:
    S = model.state
    assert np.all(S.open_bids >= 0) and np.all(S.open_bids <= S.capacity), "bid capacity exceeded"
    # open bids equal the bids (as lead or partner) on tenders still open
    n_bids = S.cnt[K_BIDS]
    tenders = S.b_tender[:n_bids]
    open_mask = S.t_status[tenders] == ST_OPEN
    count = np.zeros_like(S.open_bids)
    np.add.at(count, S.b_firm[:n_bids][open_mask], 1)
    partners = S.b_partner[:n_bids][open_mask]
    np.add.at(count, partners[partners >= 0], 1)
    assert np.array_equal(count, S.open_bids)
    # fund money conserved per tranche
    lhs = S.pis_cash + S.pis_out + S.pis_loss
    rhs = S.pis_paid + S.pis_ret
    assert np.allclose(lhs, rhs, rtol=1e-12, atol=1e-9)
    assert np.all(S.pis_loss >= -1e-12) and np.all(S.pis_out >= -1e-9)
    assert np.all((S.rel >= 0.0) & (S.rel <= 1.0))


@pytest.mark.parametrize("order", ["subordinated", "pari_passu"])
def test_invariants_hold_every_month(order):
    model = SmartCityModel(
        "scenarios/plan_2019_announced.yaml",
        seed=6,  # a seed whose fund takes losses under both orders (checked below; 4 before the 2026-12-06 refit)
        overrides=[f"levers.f2_loss_order.order={order}", "levers.f1_pis.max_equity_krw_bn=20", *HIGH_DEFAULTS],
    )
    while model.running:
        model.step()
        _check_month(model)
    S, A = model.state, model.acc
    n_t = S.cnt[K_TENDERS]
    status = S.t_status[:n_t]
    assert np.all(np.isin(status, [ST_OPEN, ST_KOREAN, ST_FOREIGN, ST_LAPSED, ST_REJECTED]))
    assert A.tenders_rejected.sum() == np.sum(status == ST_REJECTED) > 0
    # each tender awarded at most once: wins and awards add up to the tenders' final states
    assert A.wins[:, G_ALL].sum() == np.sum(status == ST_KOREAN)
    assert A.tenders_awarded.sum() == np.sum((status == ST_KOREAN) | (status == ST_FOREIGN))
    assert A.tenders_closed.sum() == np.sum(status != ST_OPEN)
    assert np.all(A.wins <= A.bids)
    # every cost line is a cost except K-SURE's (premium income may exceed claims) and the PIS fund's
    # (its public tranches' gains at exit may exceed their funding cost and losses in a year)
    from simulation.engine.kernels.constants import C_KSURE, C_PIS

    others = [k for k in range(A.cost.shape[1]) if k not in (C_KSURE, C_PIS)]
    assert np.all(A.cost[:, others] >= 0.0)
    assert np.all(A.bids >= 0.0) and np.all(A.value >= 0.0)
    snap = A.pis_snap
    assert np.allclose(
        snap[:, :, SN_CASH] + snap[:, :, SN_OUT] + snap[:, :, SN_LOSS], snap[:, :, SN_PAID] + snap[:, :, SN_RET]
    )
    loss, paid = S.pis_loss, S.pis_paid
    assert loss.sum() > 0, "the run must produce fund losses for the order to be tested"
    if order == "subordinated":
        if loss[1] > 0:
            assert loss[0] == pytest.approx(paid[0], rel=1e-12)
        if loss[2] > 0:
            assert loss[0] == pytest.approx(paid[0], rel=1e-12) and loss[1] == pytest.approx(paid[1], rel=1e-12)
        assert loss[0] > 0
    else:
        rates = loss / paid
        assert np.allclose(rates, rates[0], rtol=1e-9)
    frame = model.yearly_table()
    wr = frame[frame["metric"] == "win_rate"]["value"].dropna()
    assert len(wr) > 0 and wr.between(0.0, 1.0).all()


def test_mesa_face_matches_fast_path_and_batch_run_works():
    model = SmartCityModel("scenarios/no_plan.yaml", seed=4)
    model.run()
    assert model.steps == model.n_months == 138
    pd.testing.assert_frame_equal(model.yearly_table(), table("no_plan", 4).assign(run=0), check_exact=True)
    from simulation.mesa.agents import Firm, ForeignGovernment, Fund, SupportCenter

    firms = model.agents_by_type[Firm]
    assert len(firms) == 500 and {f.size_class for f in firms} == {"large", "mid", "sme", "startup"}
    assert sum(f.wins for f in firms) == model.acc.wins[:, 0].sum()
    # a firm has knowledge of every country it has won in, faded by the months since it last used it
    S = model.state
    for f in firms[:100]:
        won = {model.countries.iso3[c] for c in range(S.won_in.shape[1]) if S.won_in[f.idx, c]}
        assert won <= set(f.knowledge) and set(f.known_countries) <= set(f.knowledge)
        assert all(0.0 < k <= 1.0 for k in f.knowledge.values())
    assert sum(len(f.knowledge) for f in firms) == int((S.know >= 0).sum())
    assert 0 < sum(len(f.known_countries) for f in firms) < int((S.know >= 0).sum())  # some knowledge has faded
    govs = {g.iso3: g for g in model.agents_by_type[ForeignGovernment]}
    assert "KWT" in govs and 0.0 <= govs["KWT"].relationship <= 1.0
    assert {f.kind for f in model.agents_by_type[Fund]} >= {"pis", "ksure_special_account", "co_entry_pot"}
    assert len(model.agents_by_type[SupportCenter]) >= 4
    data = model.datacollector.get_model_vars_dataframe()
    assert len(data) == 138 and data["year"].iloc[-1] == 2030

    results = mesa.batch_run(
        SmartCityModel,
        parameters={"scenario": str(ROOT / "scenarios/no_plan.yaml"), "seed": [4, 5]},
        iterations=1,
        max_steps=200,
        number_processes=1,
        display_progress=False,
        data_collection_period=-1,
    )
    by_seed = {row["seed"]: row for row in results}
    assert set(by_seed) == {4, 5}
    assert by_seed[4]["wins"] == model.datacollector.get_model_vars_dataframe()["wins"].iloc[-1]


def test_a_mesa_model_pickles_and_deep_copies_mid_run_and_the_copies_run_on_alike():
    """The packed Params, State and Acc the kernels take (kernels/refs.py) hold raw pointers and do not
    pickle: a model leaves them out and its copy packs its own arrays on its next step."""
    model = SmartCityModel("scenarios/no_plan.yaml", seed=1, overrides=["time.end=2021-12"])
    for _ in range(5):
        model.step()
    copies = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model)]
    model.run()
    for twin in copies:
        assert twin.month == 5 and twin.state.capital is not model.state.capital
        assert all(agent.model is twin for agent in twin.agents)
        twin.run()
        assert twin.steps == model.steps == model.n_months
        pd.testing.assert_frame_equal(twin.yearly_table(), model.yearly_table(), check_exact=True)
        pd.testing.assert_frame_equal(
            twin.datacollector.get_model_vars_dataframe(),
            model.datacollector.get_model_vars_dataframe(),
            check_exact=True,
        )


# ---- memory: nothing kept per run ------------------------------------------------------------
LEAK_SCRIPT = """
import collections, gc, json, tracemalloc
from simulation.engine.simulate import simulate
from simulation.scenario.loader import load_scenario
r = load_scenario("scenarios/no_plan.yaml", ["time.end=2020-12", "world.n_firms=60"])
for seed in range(50):      # warm: kernels loaded, caches filled
    simulate(r, seed)
tracemalloc.start()
gc.collect()
kinds0 = collections.Counter(type(o).__name__ for o in gc.get_objects())
traced0 = tracemalloc.get_traced_memory()[0]
for seed in range(1000):
    simulate(r, seed)
gc.collect()
kinds1 = collections.Counter(type(o).__name__ for o in gc.get_objects())
grown = {k: kinds1[k] - kinds0[k] for k in kinds1 if kinds1[k] - kinds0[k] > 0}
print(json.dumps({"objects": sum(kinds1.values()) - sum(kinds0.values()), "grown": grown,
                  "traced": tracemalloc.get_traced_memory()[0] - traced0}))
"""


@pytest.mark.slow
def test_a_thousand_runs_in_one_process_keep_no_objects():
    """simulate() keeps nothing per run: live objects stay flat and traced memory barely moves
    (it was about 7 Generators, PCG64s and SeedSequences and 21 ctypes objects, ~20 KiB, a run;
    one object kept per run would show as 1,000)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", LEAK_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    assert m["objects"] < 200, f"{m['objects']} more live objects after 1,000 runs: {m['grown']}"
    for kind in ("Generator", "PCG64", "SeedSequence", "CFunctionType", "c_void_p"):
        assert m["grown"].get(kind, 0) < 10, m["grown"]
    # what remains: numba's record of each Generator passed to the compiled entry point (it is built
    # without reference counting, so that record is never freed): 7 of ~48 bytes a run
    assert m["traced"] < 1000 * 1024, f"traced memory grew by {m['traced'] / 1000:.0f} B a run"


def test_reused_streams_draw_exactly_what_fresh_ones_draw():
    from simulation.engine.simulate import reused_streams
    from simulation.engine.world import streams

    for seed in (0, 7):
        _, fresh = streams(seed)
        mine = reused_streams(streams(seed)[1])
        assert [type(g) for g in mine] == [np.random.Generator] * len(fresh)
        for a, b in zip(fresh, mine, strict=True):
            assert np.array_equal(a.random(5), b.random(5)) and a.integers(1 << 62) == b.integers(1 << 62)
    assert reused_streams(streams(1)[1])[0] is mine[0], "the same objects every run"


def test_runs_of_one_scenario_share_its_params_and_never_write_them():
    """`simulate` builds a scenario's Params once and shares them between its runs (a sweep's
    replications): that is only sound because no kernel writes into them. A run of every shipped
    plan leaves them as `build_params` makes them, and a run on shared Params equals one on fresh."""
    from simulation.engine import simulate as sim
    from simulation.engine.params import build_params

    for name in ("no_plan", "plan_2019_announced", "plan_2019_implemented"):
        r = load(name, "time.end=2024-12")
        first = simulate(r, 5)
        second = simulate(r, 6)
        assert second.params is first.params, "the second run reuses the scenario's Params"
        fresh = build_params(r)[0]
        for field in fresh._fields:
            a, b = getattr(first.params, field), getattr(fresh, field)
            if isinstance(b, np.ndarray):
                assert np.array_equal(a, b, equal_nan=True), f"a run wrote into Params.{field}"
            else:
                assert a == b or (a != a and b != b), field
        sim._PARAMS.clear()
        again = simulate(r, 6)
        assert again.params is not first.params
        pd.testing.assert_frame_equal(tidy(again), tidy(second))


def test_runs_in_threads_give_the_same_tables_as_in_one():
    """run_batch steps runs in threads (the month loop releases the GIL): the tables are the same,
    row for row, whatever the number of threads."""
    from simulation.experiment.runner import run_batch
    from simulation.scenario.loader import load_scenario

    scen = [load_scenario(str(ROOT / "scenarios" / n)) for n in ("no_plan.yaml", "plan_2019_announced.yaml")]
    one = run_batch(scen, seed=5, reps=3, progress=False, threads=1).table
    two = run_batch(scen, seed=5, reps=3, progress=False, threads=2).table
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_horizon_reads_a_table_with_a_gap_run_by_run():
    """horizon() takes whole runs as one array; a run missing a year is still summed over the years
    it has, and the other runs are unchanged."""
    from simulation.engine.metrics import _YEARLY_INPUTS, horizon, horizon_totals
    from simulation.experiment.runner import run_batch
    from simulation.scenario.loader import load_scenario

    scen = [load_scenario(str(ROOT / "scenarios" / "no_plan.yaml"), ["time.end=2022-12"])]
    full = run_batch(scen, seed=3, reps=3, progress=False, threads=1).table
    gap = full[~((full["run"] == 1) & (full["year"] == 2021))]
    whole, holed = horizon(full), horizon(gap)
    pd.testing.assert_frame_equal(whole[whole["run"] != 1], holed[holed["run"] != 1])
    one = gap[(gap["run"] == 1) & (gap["group"] == "all")]
    years = {m: one[one["metric"] == m].sort_values("year")["value"].to_numpy() for m in _YEARLY_INPUTS}
    expected = horizon_totals(years)
    got = holed[holed["run"] == 1].iloc[0]
    assert all(got[k] == v or (np.isnan(v) and np.isnan(got[k])) for k, v in expected.items())

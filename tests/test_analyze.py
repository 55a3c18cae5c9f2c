"""Sensitivity analysis of a sweep: outcomes, Sobol/Morris/PAWN indices, ranking, Pareto front, files.

Real result sets are made here without the results store: the design's tasks are run with
`task_table` and written in the store's layout (design.parquet, experiment.json, runs/*.parquet).
Synthetic result sets with a known response check the indices and the ranking exactly.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.analyze import sobol as salib_sobol

from simulation.analysis.analyze import (
    Outcome,
    analyze,
    format_analysis,
    horizon_outcomes,
    mean_ci,
    pareto_front,
    write_analysis,
)
from simulation.experiment.designs import build_design
from simulation.experiment.spec import load_experiment
from simulation.experiment.tasks import plan_tasks, replication_seeds, task_table, to_parquet_bytes
from simulation.scenario.yamlio import read_yaml_file

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "no_plan.yaml"
SMALL = (
    'set: {time.end: "2021-06", world.n_firms: 200}\n'  # small, but every run wins something (the SME share is defined)
)


def write_experiment(tmp: Path, body: str) -> Path:
    path = tmp / "exp.yaml"
    path.write_text(f"name: t\nbase: {BASE}\n{body}")
    return path


def store_layout(out: Path, exp_path: Path, design) -> None:
    out.mkdir(parents=True, exist_ok=True)
    spec, _ = read_yaml_file(str(exp_path), str(exp_path))
    (out / "experiment.json").write_text(
        json.dumps({"spec": spec, "design": {"type": design.type, "problem": design.problem}})
    )
    design.frame.to_parquet(out / "design.parquet", index=False)
    (out / "runs").mkdir(exist_ok=True)


def run_real(tmp: Path, body: str) -> tuple[Path, object]:
    """Run every task of an experiment and write the results in the store's layout."""
    exp_path = write_experiment(tmp, body)
    loaded = load_experiment(str(exp_path))
    design = build_design(loaded)
    out = tmp / "results"
    store_layout(out, exp_path, design)
    seeds = replication_seeds(loaded.spec.seed, loaded.spec.replications)
    tasks = plan_tasks(loaded.base, design.points, seeds)
    for task in tasks:  # one file per run key, as the store keeps them: points with equal settings share it
        (out / "runs" / f"{task.key}.parquet").write_bytes(to_parquet_bytes(task_table(loaded.base, task)))
    pd.DataFrame(
        {"point": [t.point for t in tasks], "rep": [t.rep for t in tasks], "key": [t.key for t in tasks]}
    ).to_parquet(tmp / "tasks.parquet", index=False)  # kept aside; a test puts it in place
    return out, design


def run_synthetic(tmp: Path, body: str, reps: int, response) -> tuple[Path, object]:
    """Write tidy rows whose yearly values come from response(overrides, rep) -> {metric: [year values]}."""
    exp_path = write_experiment(tmp, body)
    design = build_design(load_experiment(str(exp_path)))
    out = tmp / "results"
    store_layout(out, exp_path, design)
    rows = []
    for pid, _, ov in design.points:
        for rep in range(reps):
            vals = response(ov, rep)
            rows += [
                {
                    "point": pid,
                    "rep": rep,
                    "key": f"k{pid}-{rep}",
                    "run": rep,
                    "scenario": "s",
                    "seed": rep,
                    "year": 2020 + y,
                    "metric": m,
                    "group": "all",
                    "value": float(v),
                }
                for m, series in vals.items()
                for y, v in enumerate(series)
            ]
    frame = pd.DataFrame(rows)
    for pid, part in frame.groupby("point"):  # one file per point (all its replications)
        part.to_parquet(out / "runs" / f"{pid}.parquet", index=False)
    return out, design


# ---- real runs -----------------------------------------------------------------------------
SOBOL = (
    SMALL
    + """replications: 2
factors:
  - {key: competition.strength, role: uncertainty, range: [0.5, 1.5]}
  - {key: levers.c5_roadshows.per_year, role: lever, range: [0, 12], integer: true}
design: {type: sobol, samples: 16, seed: 4}
"""
)


@pytest.fixture(scope="module")
def real_sobol(tmp_path_factory):
    return run_real(tmp_path_factory.mktemp("sobol"), SOBOL)


def test_real_sobol_outcomes_and_indices(real_sobol):
    out, design = real_sobol
    a = analyze(out)
    assert a.design_type == "sobol" and a.n_points == 64 and a.n_reps == 2 and len(a.runs) == 128
    assert list(a.points["point"]) == list(range(64)) and (a.points["n_reps"] == 2).all()
    names = [
        "value_won_krw_bn",
        "public_cost_krw_bn",
        "value_per_public_krw",
        "win_rate",
        "sme_share_value",
        "value_won_usd_m",
    ]
    assert [o.name for o in a.outcomes] == names
    assert a.runs[names].notna().all().all()
    assert (a.runs["win_rate"].between(0, 1)).all() and (a.runs["sme_share_value"].between(0, 1)).all()
    # outcomes recomputed independently from the raw rows
    raw = pd.read_parquet(out / "runs")
    sel = raw[(raw["group"] == "all")]
    tot = sel.groupby(["point", "rep", "metric"])["value"].sum().unstack("metric")
    mine = a.runs.set_index(["point", "rep"]).loc[tot.index]
    np.testing.assert_allclose(mine["value_won_krw_bn"], tot["value_won_krw_bn"])
    np.testing.assert_allclose(mine["win_rate"], tot["wins"] / tot["bids"])
    np.testing.assert_allclose(mine["value_per_public_krw"], tot["value_won_krw_bn"] / tot["public_cost_krw_bn"])
    # points with the same overrides are one run (same key), stored once: each gets that run's outcomes
    same = {}
    for pid, _, ov in design.points:
        same.setdefault(json.dumps(ov, sort_keys=True), []).append(pid)
    twins = [ps for ps in same.values() if len(ps) > 1]
    assert twins, "the design should repeat points (integer roadshows rounding alike in Saltelli's cross-samples)"
    stored = set(tot.index.get_level_values("point"))
    source = {p: next(q for q in ps if q in stored) for ps in same.values() for p in ps}
    # Sobol indices: one row per outcome and factor, equal to SALib's on the per-point means in point order
    assert a.sobol is not None and len(a.sobol) == 5 * 2
    assert set(a.sobol["factor"]) == {"competition.strength", "levers.c5_roadshows.per_year"}
    by_point = tot["value_won_krw_bn"].groupby(level="point").mean()
    Y = np.array([by_point[source[p]] for p in range(64)])
    ref = salib_sobol.analyze(design.problem, Y, calc_second_order=False, num_resamples=100, seed=4)
    got = a.sobol[a.sobol["outcome"] == "value_won_krw_bn"]
    np.testing.assert_allclose(got["S1"], ref["S1"])
    np.testing.assert_allclose(got["ST"], ref["ST"])
    assert np.isfinite(got[["S1", "ST", "S1_conf", "ST_conf"]].to_numpy()).all()
    # what the model says plainly even in 18 months with 60 firms: roadshows drive the public cost
    # (0.5 bn each), competitors' strength the win rate
    st = a.sobol.set_index(["outcome", "factor"])["ST"]
    assert (
        st["public_cost_krw_bn", "levers.c5_roadshows.per_year"]
        > 0.5
        > st["public_cost_krw_bn", "competition.strength"]
    )
    assert st["win_rate", "competition.strength"] > st["win_rate", "levers.c5_roadshows.per_year"]
    assert a.pawn is not None and len(a.pawn) == 10 and a.morris is None
    # lever points with uncertainty in a sampled design: every point ranked on its own
    assert a.ranking is not None and len(a.ranking) == 64
    r = a.ranking
    assert (np.diff(r["value_per_public_krw_mean"]) <= 0).all() and list(r["rank"]) == list(range(1, 65))
    assert {"point", "competition.strength", "levers.c5_roadshows.per_year"} <= set(r.columns)
    assert r["p_best"].sum() == pytest.approx(1.0)
    assert r["pareto"].any() and not r["pareto"].all()
    text = format_analysis(a)
    assert "Sobol indices" in text and "Pareto front" in text and "competition.strength" in text


def test_task_table_maps_shared_runs_like_equal_settings(real_sobol, tmp_path):
    import shutil

    out, _ = real_sobol
    copy = tmp_path / "with_tasks"
    shutil.copytree(out, copy)
    shutil.copy(out.parent / "tasks.parquet", copy / "tasks.parquet")
    a, b = analyze(out), analyze(copy)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.sobol, b.sobol)
    assert any("share its runs" in n for n in a.notes) and not any("share its runs" in n for n in b.notes)


def test_real_morris(tmp_path):
    body = (
        SMALL
        + """factors:
  - {key: competition.strength, role: uncertainty, range: [0.5, 1.5]}
  - {key: levers.n2_subsidy.ratio.sme, role: lever, values: [0.5, 0.7, 0.9]}
design: {type: morris, samples: 4, levels: 4, seed: 1}
"""
    )
    out, design = run_real(tmp_path, body)
    a = analyze(out)
    assert len(design) == 12 and a.morris is not None and len(a.morris) == 5 * 2
    m = a.morris[a.morris["outcome"] == "value_won_krw_bn"].set_index("factor")
    assert (m["mu_star"] >= m["mu"].abs() - 1e-9).all() and np.isfinite(m["mu_star"]).all()
    assert m.loc["competition.strength", "mu_star"] > 0
    assert a.sobol is None


# ---- synthetic responses -------------------------------------------------------------------
def linear(ov, rep):
    """value won = 10 a + b over two years; public cost 1 a year; nothing random."""
    a, b = ov["competition.strength"], ov["relationship.half_life_months"]
    v = 10 * a + b / 10
    return {
        "value_won_krw_bn": [v / 2, v / 2],
        "public_cost_krw_bn": [1, 1],
        "wins": [1, 1],
        "bids": [4, 4],
        "sme_share_value": [0.5, 0.5],
    }


def test_sobol_finds_the_dominant_factor(tmp_path):
    body = """factors:
  - {key: competition.strength, role: uncertainty, range: [0.0, 1.0]}
  - {key: relationship.half_life_months, role: uncertainty, range: [10.0, 20.0]}
design: {type: sobol, samples: 64, seed: 0, second_order: true}
"""
    out, design = run_synthetic(tmp_path, body, 1, linear)
    a = analyze(out)
    s = a.sobol[a.sobol["outcome"] == "value_won_krw_bn"].set_index("factor")
    # var(10a) = 100/12, var(b/10) = 1/12: S1 = 100/101 and 1/101
    assert s.loc["competition.strength", "S1"] == pytest.approx(100 / 101, abs=0.03)
    assert s.loc["relationship.half_life_months", "S1"] == pytest.approx(1 / 101, abs=0.03)
    assert s.loc["competition.strength", "ST"] == pytest.approx(100 / 101, abs=0.03)
    assert a.sobol_s2 is not None and len(a.sobol_s2) == 5
    s2 = a.sobol_s2[a.sobol_s2["outcome"] == "value_won_krw_bn"]["S2"].iloc[0]
    assert abs(s2) < 0.05  # additive: no interaction
    p = a.pawn[a.pawn["outcome"] == "value_won_krw_bn"].set_index("factor")
    assert p.loc["competition.strength", "median"] > p.loc["relationship.half_life_months", "median"]


def test_morris_on_a_linear_response(tmp_path):
    body = """factors:
  - {key: competition.strength, role: uncertainty, range: [0.0, 1.0]}
  - {key: relationship.half_life_months, role: uncertainty, range: [10.0, 20.0]}
design: {type: morris, samples: 10, levels: 4, seed: 0}
"""
    out, _ = run_synthetic(tmp_path, body, 1, linear)
    m = analyze(out).morris
    m = m[m["outcome"] == "value_won_krw_bn"].set_index("factor")
    # elementary effect per unit of the normalised range: 10 for a (range 1), 1 for b (range 10 /10)
    assert m.loc["competition.strength", "mu_star"] == pytest.approx(10.0)
    assert m.loc["relationship.half_life_months", "mu_star"] == pytest.approx(1.0)
    assert m.loc["competition.strength", "sigma"] == pytest.approx(0.0, abs=1e-9)


GRID = """factors:
  - {key: levers.c5_roadshows.per_year, role: lever, values: [1, 5, 10]}
  - {key: levers.n2_subsidy.ratio.sme, role: lever, values: [0.7, 0.8]}
  - {key: competition.strength, role: uncertainty, values: [0.8, 1.2]}
design: {type: grid}
"""


def grid_response(ov, rep):
    """value = shows * ratio * strength (+ noise by rep); cost = shows + 10 ratio."""
    s, r, k = ov["levers.c5_roadshows.per_year"], ov["levers.n2_subsidy.ratio.sme"], ov["competition.strength"]
    value = 100 * s * r / k + (rep - 1) * 5
    cost = s + 10 * r
    return {
        "value_won_krw_bn": [value],
        "public_cost_krw_bn": [cost],
        "wins": [2],
        "bids": [5],
        "sme_share_value": [0.4],
    }


def test_grid_ranking_averages_over_uncertainty(tmp_path):
    out, design = run_synthetic(tmp_path, GRID, 3, grid_response)
    a = analyze(out)
    r = a.ranking
    assert len(r) == 6 and (r["points"] == 2).all() and (r["runs"] == 6).all()
    assert list(r["rank"]) == list(range(1, 7))
    # expected: mean over strength {0.8, 1.2} and reps (noise averages out) of value / cost
    exp = {}
    for s in (1, 5, 10):
        for q in (0.7, 0.8):
            vals = [(100 * s * q / k + (rep - 1) * 5) / (s + 10 * q) for k in (0.8, 1.2) for rep in range(3)]
            exp[(s, q)] = np.mean(vals)
    order = sorted(exp, key=exp.get, reverse=True)
    got = list(zip(r["levers.c5_roadshows.per_year"], r["levers.n2_subsidy.ratio.sme"], strict=True))
    assert got == order
    np.testing.assert_allclose(r["value_per_public_krw_mean"], [exp[k] for k in order])
    assert (r["value_per_public_krw_ci_low"] < r["value_per_public_krw_mean"]).all()
    assert r["p_best"].sum() == pytest.approx(1.0) and r["p_best"].iloc[0] == r["p_best"].max()
    # the Pareto front among the six settings, checked by brute force
    cost, value = r["public_cost_krw_bn_mean"].to_numpy(), r["value_won_krw_bn_mean"].to_numpy()
    for i in range(6):
        dominated = any(
            cost[j] <= cost[i] and value[j] >= value[i] and (cost[j] < cost[i] or value[j] > value[i]) for j in range(6)
        )
        assert r["pareto"].iloc[i] == (not dominated)
    assert r["pareto"].any()
    # PAWN on grid levels: the subsidy ratio (a 14 % change) matters less than roadshows (10x)
    p = a.pawn[a.pawn["outcome"] == "value_won_krw_bn"].set_index("factor")
    assert p.loc["levers.c5_roadshows.per_year", "median"] > p.loc["levers.n2_subsidy.ratio.sme", "median"]
    assert a.sobol is None and a.morris is None
    assert any("averaged over the uncertainty" in n for n in a.notes)


def test_pareto_front_by_hand():
    cost = [1.0, 2.0, 2.0, 3.0, 0.5, 4.0, np.nan, 2.0]
    value = [10.0, 15.0, 12.0, 15.0, 1.0, 30.0, 100.0, 15.0]
    # 0: cheapest with 10 -> front; 1 and 7: equal (2, 15) -> both on it; 2 dominated by 1; 3 dominated by 1;
    # 4: cheapest of all -> front; 5: most value -> front; 6: no cost -> never
    assert list(pareto_front(cost, value)) == [True, True, False, False, True, True, False, True]
    assert list(pareto_front([], [])) == []


def test_horizon_outcomes_weight_shares_by_value():
    rows = []
    for y, (v, share, w, b, c) in enumerate(
        [(100.0, 0.1, 1, 10, 5.0), (300.0, 0.5, 3, 10, 5.0), (0.0, np.nan, 0, 5, 5.0)]
    ):
        for m, x in (
            ("value_won_krw_bn", v),
            ("sme_share_value", share),
            ("wins", w),
            ("bids", b),
            ("public_cost_krw_bn", c),
            ("win_rate", w / b),
        ):
            rows.append({"point": 0, "rep": 0, "year": 2020 + y, "metric": m, "group": "all", "value": x})
    out = horizon_outcomes(pd.DataFrame(rows)).iloc[0]
    assert out["value_won_krw_bn"] == 400.0 and out["public_cost_krw_bn"] == 15.0
    assert out["value_per_public_krw"] == pytest.approx(400 / 15)
    assert out["win_rate"] == pytest.approx(4 / 25)  # not the mean of yearly rates
    assert out["sme_share_value"] == pytest.approx((10 + 150) / 400)
    only = horizon_outcomes(pd.DataFrame(rows), years=(2021, 2021)).iloc[0]
    assert only["value_won_krw_bn"] == 300.0


def test_mean_ci():
    m, lo, hi, n = mean_ci(np.array([1.0, 2.0, 3.0, np.nan]))
    assert (
        (m, n) == (2.0, 3)
        and lo == pytest.approx(2 - 4.302653 / np.sqrt(3))
        and hi == pytest.approx(2 + 4.302653 / np.sqrt(3))
    )
    assert np.isnan(mean_ci(np.array([5.0]))[1])


def test_list_design_ranking_and_files(tmp_path):
    body = """design: {type: list, points: [
  {name: few, set: {levers.c5_roadshows.per_year: 1}},
  {name: some, set: {levers.c5_roadshows.per_year: 5}},
  {name: many, set: {levers.c5_roadshows.per_year: 10}}]}
"""

    def resp(ov, rep):
        s = ov["levers.c5_roadshows.per_year"]
        return {
            "value_won_krw_bn": [50 + 10 * s + rep],
            "public_cost_krw_bn": [s],
            "wins": [1],
            "bids": [2],
            "sme_share_value": [0.3],
        }

    out, _ = run_synthetic(tmp_path, body, 2, resp)
    a = analyze(
        out,
        metric_specs=[
            Outcome("value_won_krw_bn", "v", "KRW bn", ("value_won_krw_bn", "all")),
            Outcome("public_cost_krw_bn", "c", "KRW bn", ("public_cost_krw_bn", "all")),
            Outcome("value_per_public_krw", "r", "", ("value_won_krw_bn", "all"), den=("public_cost_krw_bn", "all")),
            "bids",
        ],
    )
    assert list(a.ranking["setting"]) == ["few", "some", "many"]  # 60.5/1 > 100.5/5 > 150.5/10
    assert list(a.ranking["pareto"]) == [True, True, True]
    assert a.pawn is None and a.sobol is None
    assert a.runs["bids"].tolist() == [2.0] * 6
    d = write_analysis(a)
    assert d == out / "analysis"
    for name in ("runs", "points", "ranking", "pareto"):
        assert (d / f"{name}.csv").is_file()
        back = pd.read_parquet(d / f"{name}.parquet")
        assert len(back) == len(getattr(a, name))
    text = (d / "summary.txt").read_text()
    assert "ranking by value won per public KRW" in text and "few" in text
    write_analysis(a)  # replaces the earlier analysis whole
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_missing_runs_and_metrics_are_reported(tmp_path):
    out, _ = run_synthetic(tmp_path, GRID, 2, grid_response)
    (out / "runs" / "0.parquet").unlink()
    a = analyze(out, metric_specs=["value_won_krw_bn", "not_a_metric"])
    assert a.points.loc[a.points["point"] == 0, "n_reps"].item() == 0
    assert any("1 of 12 points have no runs" in n for n in a.notes)
    assert any("not_a_metric" in n for n in a.notes)
    assert a.ranking is None
    assert "notes:" in format_analysis(a)


def test_every_design_type_has_its_sensitivity_analysis():
    """A design type the spec accepts but `SENSITIVITY` lacks would silently get no indices."""
    from typing import get_args

    from simulation.analysis.analyze import SENSITIVITY
    from simulation.experiment.spec import Design

    assert set(SENSITIVITY) == set(get_args(Design.model_fields["type"].annotation))


def test_the_quantiles_and_the_ks_distance_are_scipy_stats_bit_for_bit():
    """Every table's intervals and the grid's PAWN indices come from scipy.special and numpy (no
    second of scipy.stats' import in each process), with scipy.stats' numbers exactly."""
    from scipy import stats

    from simulation.analysis.stats import ks_distance, normal_quantile, t_half_width, t_quantile

    rng = np.random.default_rng(5)
    df = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 7.0, 40.0, 1e4, np.nan])
    for p in (0.9, 0.95, 0.975, 0.995):
        np.testing.assert_array_equal(t_quantile(p, df), stats.t.ppf(p, df))
        assert normal_quantile(p) == stats.norm.ppf(p)
    n = np.array([1, 2, 3, 10])
    np.testing.assert_array_equal(t_half_width(np.ones(4), n), stats.t.ppf(0.975, n - 1) / np.sqrt(n))
    for size_a, size_b, ties in [(1, 5, False), (7, 40, False), (25, 25, True), (300, 1000, True), (50, 12000, True)]:
        a, b = rng.normal(size=size_a), rng.normal(0.3, 1.2, size=size_b)
        if ties:
            a, b = np.round(a, 1), np.round(b, 1)
        assert ks_distance(a, b) == stats.ks_2samp(a, b).statistic
        assert ks_distance(b, a) == stats.ks_2samp(b, a).statistic
    assert np.isnan(ks_distance([1.0, np.nan], [1.0, 2.0]))


def test_pawn_is_salibs_bit_for_bit():
    """PAWN on a sampled design is SALib's algorithm written out (SALib's module imports scipy.stats
    for the KS statistic): the same indices, number for number, with ties and empty slices."""
    from SALib.analyze import pawn as salib_pawn

    from simulation.analysis.analyze import PAWN_STATS, pawn, pawn_slices

    rng = np.random.default_rng(8)
    for n, d, rounded in [(12, 2, False), (40, 3, True), (97, 4, False), (200, 5, True), (23, 1, True)]:
        X = rng.uniform(size=(n, d))
        if rounded:  # ties in X leave some slices empty; ties in Y
            X = np.round(X, 1)
        Y = X[:, 0] * 3 + rng.normal(size=n)
        Y = np.round(Y, 1) if rounded else Y
        problem = {"num_vars": d, "names": [f"x{j}" for j in range(d)], "bounds": [[0.0, 1.0]] * d}
        S = pawn_slices(n)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty slice's NaN, as in the sweep's own analysis
            want = salib_pawn.analyze(problem, X, Y, S=S, seed=3)
            got = pawn(X, Y, S)
        for j, k in enumerate(PAWN_STATS):
            np.testing.assert_array_equal(got[:, j], np.asarray(want[k], dtype=float), err_msg=f"{k}, n={n}")


def test_a_sweep_and_its_analysis_do_not_import_scipy_stats(tmp_path):
    """scipy.stats costs a process about a second to import; a grid sweep and a Latin-hypercube
    sweep with their analyses (the intervals and the PAWN indices) need none of it."""
    import subprocess
    import sys

    from helpers import ROOT

    lhs = tmp_path / "lhs.yaml"
    lhs.write_text(
        f"name: lhs\nbase: {ROOT / 'scenarios' / 'no_plan.yaml'}\n"
        "set:\n  time.end: '2020-12'\n  world.n_firms: 60\n"
        "factors:\n  - {key: levers.c5_roadshows.per_year, role: lever, range: [1, 9], integer: true}\n"
        "  - {key: world.alliance_share, role: uncertainty, range: [0.1, 0.5]}\n"
        "design: {type: lhs, samples: 8, seed: 2}\n",
        encoding="utf-8",
    )
    script = (
        "import sys\n"
        "from simulation.cli import main\n"
        f"code = main(['sweep', {str(ROOT / 'experiments' / 'smoke.yaml')!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet'])\n"
        "assert code == 0, code\n"
        f"code = main(['sweep', {str(lhs)!r}, '--out', {str(tmp_path / 'lhs')!r}, '--quiet'])\n"
        "assert code == 0, code\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "out" / "analysis").is_dir()
    assert (tmp_path / "lhs" / "analysis" / "pawn.csv").is_file()

"""SALib and EMA Workbench through the real packages: problems from the schema, runs that equal
`api.run` for the same point."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import ROOT

from simulation import api
from simulation.interop.problem import pooled
from simulation.scenario.errors import InputError

SHORT = {"time.end": "2021-12"}


def api_point(point: dict, reps: int, seed: int = 0, scenario: str = "no_plan") -> dict:
    return pooled(api.run(scenario, {**SHORT, **point}, reps=reps, seed=seed).horizon.to_dict("records"))


def test_problem_takes_bounds_and_integer_levers_from_the_schema():
    sp = api.problem(["levers.f5_co_entry.rate_cut", "levers.c5_roadshows.per_year", "levers.n2_subsidy.ratio.sme"])
    assert sp["names"] == ["levers.f5_co_entry.rate_cut", "levers.c5_roadshows.per_year", "levers.n2_subsidy.ratio.sme"]
    assert sp["bounds"] == [[0.0, 0.2], [0.0, 1000.0], [0.0, 1.0]]
    assert sp["integer"] == ["levers.c5_roadshows.per_year"] and sp["num_vars"] == 3
    narrow = api.problem({"levers.f5_co_entry.rate_cut": (0.0, 0.02), "competition.strength": None})
    assert narrow["bounds"] == [[0.0, 0.02], [0.0, 10.0]]
    for bad, says in (
        ({"levers.f5_co_entry.rate_cut": (0.0, 0.5)}, "leaves the schema"),
        (["levers.n5_training.target_regions"], "no numeric range"),
        (["levers.nowhere"], "not a parameter"),
    ):
        with pytest.raises(InputError, match=says):
            api.problem(bad)


def test_salib_problem_spec_samples_and_evaluates_through_the_model():
    sp = api.problem(
        {"levers.n2_subsidy.ratio.sme": (0.5, 0.9), "levers.c5_roadshows.per_year": (0, 6)},
        outputs=["value_won_usd_m", "public_cost_krw_bn"],
    )
    sp.sample_latin(4, seed=1)
    sp.evaluate(api.Evaluator(sp, "no_plan", SHORT, reps=2, seed=5))
    Y = np.asarray(sp.results)
    assert Y.shape == (4, 2) and np.isfinite(Y).all()
    X = sp.samples
    for row, y in zip(X, Y, strict=True):
        point = {
            "levers.n2_subsidy.ratio.sme": float(row[0]),
            "levers.c5_roadshows.per_year": int(np.floor(row[1] + 0.5)),
        }
        want = api_point(point, reps=2, seed=5)
        assert y[0] == want["value_won_usd_m"] and y[1] == want["public_cost_krw_bn"]


def test_ema_workbench_perform_experiments_runs_the_real_model():
    ema = pytest.importorskip("ema_workbench", reason="pip install -e '.[ema]' (the test extra includes it)")
    model = api.ema_model(
        levers={"levers.n2_subsidy.ratio.sme": (0.5, 0.9), "levers.c5_roadshows.per_year": (0, 6)},
        uncertainties={"competition.strength": (0.8, 1.2)},
        scenario="no_plan",
        overrides=SHORT,
        reps=2,
        seed=3,
    )
    assert {p.name for p in model.levers} == {"levers.n2_subsidy.ratio.sme", "levers.c5_roadshows.per_year"}
    assert [p.name for p in model.uncertainties] == ["competition.strength"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, outcomes = ema.perform_experiments(model, scenarios=2, policies=2)
    assert len(experiments) == 4 and set(outcomes) == {
        "value_won_usd_m",
        "public_cost_krw_bn",
        "value_per_public_krw",
        "win_rate",
    }
    for i, row in experiments.iterrows():
        point = {
            "levers.n2_subsidy.ratio.sme": float(row["levers.n2_subsidy.ratio.sme"]),
            "levers.c5_roadshows.per_year": int(row["levers.c5_roadshows.per_year"]),
            "competition.strength": float(row["competition.strength"]),
        }
        want = api_point(point, reps=2, seed=3)
        for k, v in outcomes.items():
            assert v[i] == want[k], (k, i)


def test_ema_model_from_an_experiment_file_keeps_roles_and_value_lists(tmp_path):
    pytest.importorskip("ema_workbench")
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        f"""name: ema_test
base: {ROOT / "scenarios" / "no_plan.yaml"}
set:
  time.end: "2021-12"
factors:
  - key: levers.n2_subsidy.ratio.sme
    name: sme_subsidy
    role: lever
    values: [0.7, 0.8]
  - key: levers.c5_roadshows.per_year
    name: roadshows
    role: lever
    range: [0, 5]
    integer: true
  - key: competition.strength
    name: strength
    role: uncertainty
    distribution: {{name: normal, mean: 1.0, sd: 0.1}}
design:
  type: grid
replications: 2
seed: 4
""",
        encoding="utf-8",
    )
    model = api.ema_model(spec)
    levers = {p.name: p for p in model.levers}
    assert set(levers) == {"sme_subsidy", "roadshows"} and [p.name for p in model.uncertainties] == ["strength"]
    assert list(levers["sme_subsidy"].categories.keys()) == ["0.7", "0.8"] or len(levers["sme_subsidy"].categories) == 2
    assert (levers["roadshows"].lower_bound, levers["roadshows"].upper_bound) == (0, 5)
    got = model.function(
        **{"levers.n2_subsidy.ratio.sme": 0.8, "levers.c5_roadshows.per_year": 2, "competition.strength": 1.05}
    )
    want = api_point(
        {"levers.n2_subsidy.ratio.sme": 0.8, "levers.c5_roadshows.per_year": 2, "competition.strength": 1.05},
        reps=2,
        seed=4,
    )
    assert got == {k: want[k] for k in got}

"""The Python API as a user calls it: the same tables as the CLI, bit for bit; shipped scenarios
from any folder; Mesa's batch_run with horizon totals."""

from __future__ import annotations

import json

import mesa
import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, SCENARIOS

from simulation import api
from simulation.cli import main
from simulation.mesa.model import SmartCityModel
from simulation.scenario.errors import InputError

SHORT = {"time.end": "2021-12"}


def cli_tables(out) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_parquet(out / f"{name}.parquet")
        for name in ("yearly", "summary", "horizon", "differences")
        if (out / f"{name}.parquet").exists()
    }


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True, check_categorical=False
    )
    for col in a.columns:  # bit for bit: not only equal within a tolerance
        if pd.api.types.is_float_dtype(a[col]):
            assert np.array_equal(a[col].to_numpy(), b[col].to_numpy(), equal_nan=True), col


def test_compare_round_trip_against_the_cli(tmp_path):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                str(SCENARIOS / "plan_2019_announced.yaml"),
                str(SCENARIOS / "no_plan.yaml"),
                "--baseline",
                "no_plan",
                "--reps",
                "3",
                "--seed",
                "7",
                "--set",
                "time.end=2021-12",
                "--set",
                "levers.c2_consortia.sme_share=4e-1",
                "--out",
                str(out),
                "--quiet",
                "--no-report",
            ]
        )
        == 0
    )
    got = api.compare(
        ["plan_2019_announced", "no_plan"],
        baseline="no_plan",
        overrides={**SHORT, "levers.c2_consortia.sme_share": 0.4},
        reps=3,
        seed=7,
    )
    files = cli_tables(out)
    assert set(files) == {"yearly", "summary", "horizon", "differences"}
    for name, frame in files.items():
        same(getattr(got, name), frame)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == got.seeds and got.baseline == "no_plan"
    assert list(got.summary["scenario"].drop_duplicates()) == ["no_plan", "plan_2019_announced"], "baseline first"


def test_run_round_trip_against_the_cli(tmp_path):
    out = tmp_path / "run"
    assert (
        main(
            ["run", "no_plan", "--reps", "2", "--set", "time.end=2021-12", "--out", str(out), "--quiet", "--no-report"]
        )
        == 0
    )
    got = api.run("no_plan", SHORT, reps=2)
    for name, frame in cli_tables(out).items():
        same(getattr(got, name), frame)
    assert list(got.horizon.columns) == ["run", "scenario", "seed", *api.HORIZON]
    # the horizon table is the yearly table summed: value over the years of each run
    yearly = got.yearly[(got.yearly["metric"] == "value_won_usd_m") & (got.yearly["group"] == "all")]
    assert np.allclose(yearly.groupby("run")["value"].sum().to_numpy(), got.horizon["value_won_usd_m"].to_numpy())


def test_shipped_scenarios_resolve_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = api.load("no_plan")
    b = api.load("plan_2019_announced.yaml")
    c = api.load("scenarios/plan_2019_implemented.yaml")
    assert (a.scenario.name, b.scenario.name, c.scenario.name) == (
        "no_plan",
        "plan_2019_announced",
        "plan_2019_implemented",
    )
    assert a.hash == api.load(SCENARIOS / "no_plan.yaml").hash
    model = SmartCityModel(seed=3, overrides=SHORT)  # its default scenario, from a folder without scenarios/
    assert model.resolved.scenario.name == "plan_2019_announced"
    with pytest.raises(InputError, match="file not found"):
        api.load("no_such_scenario")


def test_overrides_take_python_and_numpy_values():
    r = api.load(
        "no_plan",
        {
            "levers.f5_co_entry.rate_cut": np.float64(6e-05),
            "levers.c5_roadshows.per_year": np.int64(3),
            ("levers", "n5_training", "target_regions"): ["asean", "africa"],
            "levers.c2_consortia.slots_per_year": {"2019-07": 0, 2020: 15.0},
        },
    )
    v = r.values
    assert v[("levers", "f5_co_entry", "rate_cut")] == 6e-05 and v[("levers", "c5_roadshows", "per_year")] == 3
    assert v[("levers", "c2_consortia", "slots_per_year")] == {"2019-07": 0, "2020-01": 15}
    assert r.prov[("levers", "f5_co_entry", "rate_cut")].kind == "override"
    with pytest.raises(InputError, match="levers.c5_roadshows.per_year"):
        api.load("no_plan", {"levers.c5_roadshows.per_year": 2.5})
    with pytest.raises(InputError, match="unknown key"):
        api.load("no_plan", {"levers.f5_co_entry.rate_cutt": 0.01})


def test_mesa_batch_run_reports_horizon_totals():
    seeds = api.run("no_plan", SHORT, reps=2).seeds
    rows = mesa.batch_run(
        SmartCityModel,
        parameters={"scenario": "no_plan", "seed": seeds, "overrides": [SHORT]},
        max_steps=500,
        number_processes=1,
        display_progress=False,
    )
    expect = api.run("no_plan", SHORT, reps=2).horizon.set_index("seed")
    assert len(rows) == 2
    for row in rows:
        h = expect.loc[row["seed"]]
        for k in api.HORIZON:
            got, want = row[f"horizon_{k}"], h[k]
            assert got == want or (np.isnan(got) and np.isnan(want)), k
        # the totals are the horizon's, not the last year's
        assert row["horizon_value_won_usd_m"] > row["value_won_usd_m"] and row["horizon_bids"] > row["bids"]


def test_the_readme_shows_the_api_in_five_lines_and_they_run(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Using it from Python")
    block = text[
        text.index("```python", start) + len("```python") : text.index("```", text.index("```python", start) + 9)
    ]
    lines = [ln for ln in block.strip().splitlines() if ln.strip()]
    assert len(lines) == 5 and "api" in lines[0]
    monkeypatch.chdir(tmp_path)
    code = "\n".join(lines).replace("reps=20", "reps=2")
    scope: dict = {}
    exec(compile(code, "README", "exec"), scope)
    out = scope["out"]
    assert isinstance(out, api.Result) and out.differences is not None and len(out.horizon) > 0

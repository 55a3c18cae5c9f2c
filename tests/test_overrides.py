"""`--set KEY.PATH=VALUE` takes any YAML 1.2 / JSON number, and lists and schedules in flow style."""

from __future__ import annotations

import json

import pytest
from helpers import SCENARIOS, load

from simulation.cli import main

NO_PLAN = str(SCENARIOS / "no_plan.yaml")


def shown(capsys, *sets: str) -> dict:
    argv = ["show", NO_PLAN, "--format", "json"]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 0
    return {r["parameter"]: r["value"] for r in json.loads(capsys.readouterr().out)["parameters"]}


def test_an_exponent_without_a_dot_is_a_number_through_the_cli(capsys):
    rows = shown(capsys, "levers.f5_co_entry.rate_cut=1e-2")
    assert rows["levers.f5_co_entry.rate_cut"] == "0.01"


@pytest.mark.parametrize(
    "text,value",
    [
        ("1e-2", 0.01),
        ("6e-05", 6e-05),
        (".5", 0.5),
        ("1.5e-1", 0.15),
        ("25e-2", 0.25),
        ("2E-1", 0.2),
        ("+1e-1", 0.1),
        ("1_000e-4", 0.1),
    ],
)
def test_numbers_as_yaml_1_2_and_json_write_them(text, value):
    r = load("no_plan", f"levers.n2_subsidy.ratio.sme={text}")
    assert r.values[("levers", "n2_subsidy", "ratio", "sme")] == value


def test_every_float_python_prints_reads_back_exactly():
    """SALib and EMA scripts format samples with str(); every such text is accepted, bit for bit."""
    for x in (0.00006, 1e-5, 0.1, 1 / 30, 0.19999999999999998, 5e-324, 1.2345678901234567e-7):
        r = load("no_plan", f"levers.f5_co_entry.rate_cut={x}")
        assert r.values[("levers", "f5_co_entry", "rate_cut")] == x


def test_whole_numbers_for_count_levers():
    assert (
        load("no_plan", "levers.c2_consortia.slots_per_year=1_000").values[("levers", "c2_consortia", "slots_per_year")]
        == 1000
    )
    r = load("no_plan", "levers.c5_roadshows.per_year=1e1")  # a float with no fraction is that whole number
    assert r.values[("levers", "c5_roadshows", "per_year")] == 10
    assert type(r.values[("levers", "c5_roadshows", "per_year")]) is int


def test_lists_and_schedules_in_flow_style():
    r = load(
        "no_plan",
        "levers.f5_co_entry.rate_cut={2019-07: 1e-3, 2020: 5e-3}",
        "levers.n5_training.target_regions=[asean, africa]",
        "levers.c2_consortia.slots_per_year={2019-07: 0, 2020: 1.5e1}",
    )
    assert r.values[("levers", "f5_co_entry", "rate_cut")] == {"2019-07": 0.001, "2020-01": 0.005}
    assert r.values[("levers", "n5_training", "target_regions")] == ["asean", "africa"]
    assert r.values[("levers", "c2_consortia", "slots_per_year")] == {"2019-07": 0, "2020-01": 15}


@pytest.mark.parametrize(
    "text,says",
    [
        ("levers.c5_roadshows.per_year=2.5", "valid integer"),
        ("levers.f5_co_entry.rate_cut='1e-2'", "valid number"),  # quoted: text, as YAML means it
        ("levers.f5_co_entry.rate_cut=1e", "valid number"),
        ("levers.f5_co_entry.rate_cut=1e9", "less than or equal to 0.2"),
    ],
)
def test_what_is_not_a_number_or_out_of_range_is_still_one_clear_message(text, says, capsys):
    assert main(["validate", NO_PLAN, "--set", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --set") and says in err and "Traceback" not in err

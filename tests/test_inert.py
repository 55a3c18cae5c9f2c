"""Levers that cannot act are named: by validate, run and compare, and in the report; a difference
that is exactly zero in every run is "identical", never "more replications needed"."""
from __future__ import annotations

import re

import pytest

from helpers import ROOT, SCENARIOS, load
from simulation import api
from simulation.cli import main
from simulation.scenario.inert import inert_levers, needs_of, notes
from simulation.scenario.loader import PARAMS
from simulation.scenario.schema import Levers

NO_PLAN = str(SCENARIOS / "no_plan.yaml")
RATE_ONLY = """extends: {no_plan}
name: rate_only
levers:
  f5_co_entry:
    rate_cut: {{value: {{2019-07: 0.003, 2019-10: 0.010}}, provenance: seed, source: "MEASURES F5"}}
"""


@pytest.fixture
def rate_only(tmp_path):
    path = tmp_path / "rate_only.yaml"
    path.write_text(RATE_ONLY.format(no_plan=NO_PLAN), encoding="utf-8")
    return path


def test_every_need_in_the_schema_names_a_real_parameter_or_lever():
    """The rule table stays true to the schema it lives in (a renamed parameter fails here)."""
    sections = {p[:k] for p in PARAMS for k in range(1, len(p))}
    for path in PARAMS:
        for need in needs_of(path)[0]:
            for alt in need.split("|"):
                key = re.split(r"\s+(?:<=|>=|<|>|in horizon)", alt.strip())[0].strip()
                assert tuple(key.split(".")) in PARAMS or tuple(key.split(".")) in sections, (path, key)
    assert set(Levers.model_fields) >= {"f5_co_entry", "c2_consortia"}


def test_validate_names_a_rate_cut_that_cannot_act(rate_only, capsys):
    assert main(["validate", str(rate_only)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ")
    note = next(line for line in out.splitlines() if "cannot act" in line)
    assert "levers.f5_co_entry.rate_cut" in note and "levers.f5_co_entry.enabled is false" in note
    assert "no_plan.yaml:" in note and "SME partners of consortia" in note


def test_enabling_f5_without_consortium_slots_still_cannot_act(capsys):
    assert main(["validate", NO_PLAN, "--set", "levers.f5_co_entry.enabled=true",
                 "--set", "levers.f5_co_entry.rate_cut=1e-2"]) == 0
    out = capsys.readouterr().out
    assert "levers.f5_co_entry.rate_cut" in out and "C2 consortium formation support cannot act" in out
    assert "levers.c2_consortia.slots_per_year is 0" in out


def test_shipped_plans_set_no_lever_that_cannot_act():
    for name in ("no_plan", "plan_2019_announced", "plan_2019_implemented", "strategy_network", "strategy_co_entry",
                 "strategy_team_korea"):
        assert notes(load(name)) == [], name
    # finance alone: F5 lends only to C2 consortia, and C2 is no finance measure
    (note,) = notes(load("strategy_finance"))
    assert "levers.f5_co_entry" in note and "slots_per_year is 0" in note


def test_a_measure_switched_off_where_it_is_set_is_deliberate():
    r = load("no_plan")
    assert any(x.path == ("levers", "f5_co_entry", "rate_cut") for x in inert_levers(r))
    assert notes(r) == [], "no_plan.yaml sets F5 off and its details in the same file"


def test_run_and_compare_print_the_note_and_compare_says_identical(rate_only, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", NO_PLAN, str(rate_only), "--reps", "2", "--set", "time.end=2021-12", "--out", str(out),
                 "--quiet", "--no-report"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("note: rate_only: levers.f5_co_entry.rate_cut cannot act here")
    assert "identical in every run" in text and "--reps" not in text and "straddles zero" not in text
    assert "notes on levers that cannot act" in text
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Lever that cannot act" in page and "identical in every run" in page and "run more replications" not in page
    assert main(["run", str(rate_only), "--set", "time.end=2020-12", "--out", str(tmp_path / "run"), "--quiet",
                 "--no-report"]) == 0
    assert "cannot act here" in capsys.readouterr().out


def test_the_readme_example_scenario_acts(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Scenarios"):]
    block = section[section.index("```yaml") + len("```yaml"):section.index("```", section.index("```yaml") + 7)]
    assert "extends: no_plan.yaml" in block
    path = tmp_path / "readme_example.yaml"
    path.write_text(block.replace("extends: no_plan.yaml", f"extends: {NO_PLAN}"), encoding="utf-8")
    assert api.notes(path) == [], "every lever the README's example sets can act"
    out = api.compare(["no_plan", path], overrides={"time.end": "2022-12"}, reps=2)
    whole = out.differences[out.differences["period"] == "all"]
    assert not whole["identical"].all()
    value = whole[whole["metric"] == "value_won_usd_m"].iloc[0]
    assert value["difference"] != 0.0

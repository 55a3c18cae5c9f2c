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
                keys = re.split(r"\s+(?:<=|>=|<|>|in horizon|years from)\s*", alt.strip())
                for key in (k.strip() for k in keys if k.strip() and not re.fullmatch(r"-?[\d.]+", k.strip())):
                    assert tuple(key.split(".")) in PARAMS or tuple(key.split(".")) in sections, (path, key)
    assert set(Levers.model_fields) >= {"f5_co_entry", "c2_consortia"}


def test_a_fund_life_beyond_the_horizon_is_named(capsys):
    """F4's 20-year period from 2019-10 ends after 2030: the announced plan's F4 cannot act, and the
    note says why and how to see it; the implemented plan's 3-year period ends inside and acts."""
    assert main(["validate", str(ROOT / "scenarios" / "plan_2019_announced.yaml")]) == 0
    out = capsys.readouterr().out
    assert "levers.f4_fund_life.investment_period_years" in out and "ends after the horizon" in out
    assert "extend time.end" in out
    assert main(["validate", str(ROOT / "scenarios" / "plan_2019_implemented.yaml")]) == 0
    assert "f4_fund_life" not in capsys.readouterr().out
    assert main(["validate", str(ROOT / "scenarios" / "plan_2019_announced.yaml"), "--set", "time.end=2040-12"]) == 0
    assert "f4_fund_life" not in capsys.readouterr().out


def test_validate_names_a_rate_cut_that_cannot_act(rate_only, capsys):
    assert main(["validate", str(rate_only)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ")
    note = next(line for line in out.splitlines() if "cannot act" in line)
    assert "levers.f5_co_entry.rate_cut" in note and "levers.f5_co_entry.enabled is false" in note
    assert "no_plan.yaml:" in note and "SME partners of large firms" in note


def test_enabling_f5_without_any_partnering_still_cannot_act(capsys):
    """F5 lends to the SME partners of large firms' bids: with no C2 slots and no partnering
    without support (partner_prob 0) there is nobody to lend to."""
    assert (
        main(
            [
                "validate",
                NO_PLAN,
                "--set",
                "levers.f5_co_entry.enabled=true",
                "--set",
                "levers.f5_co_entry.rate_cut=1e-2",
                "--set",
                "behaviour.partner_prob=0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "levers.f5_co_entry.rate_cut" in out and "behaviour.partner_prob is 0" in out
    assert "levers.c2_consortia.slots_per_year is 0" in out
    # with the no-plan world's partnering, enabling F5 and its cut is enough
    assert (
        main(
            [
                "validate",
                NO_PLAN,
                "--set",
                "levers.f5_co_entry.enabled=true",
                "--set",
                "levers.f5_co_entry.rate_cut=1e-2",
            ]
        )
        == 0
    )
    assert "cannot act" not in capsys.readouterr().out


def test_shipped_plans_set_no_lever_that_cannot_act_but_a_fund_life_beyond_2030():
    for name in ("no_plan", "plan_2019_implemented", "strategy_network", "strategy_co_entry", "strategy_team_korea"):
        assert notes(load(name)) == [], name
    # the announced 20-year fund period (F4) ends after the horizon: named, with how to see it act
    for name in ("plan_2019_announced", "strategy_finance"):
        (note,) = notes(load(name))
        assert "levers.f4_fund_life" in note and "ends after the horizon" in note, name


def test_a_measure_switched_off_where_it_is_set_is_deliberate():
    r = load("no_plan")
    assert any(x.path == ("levers", "f5_co_entry", "rate_cut") for x in inert_levers(r))
    assert notes(r) == [], "no_plan.yaml sets F5 off and its details in the same file"


def test_run_and_compare_print_the_note_and_compare_says_identical(rate_only, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                NO_PLAN,
                str(rate_only),
                "--reps",
                "2",
                "--set",
                "time.end=2021-12",
                "--out",
                str(out),
                "--quiet",
                "--no-report",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert text.startswith("note: rate_only: levers.f5_co_entry.rate_cut cannot act here")
    assert "identical in every run" in text and "--reps" not in text and "straddles zero" not in text
    assert "notes on levers that cannot act" in text
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Lever that cannot act" in page and "identical in every run" in page and "run more replications" not in page
    assert (
        main(
            [
                "run",
                str(rate_only),
                "--set",
                "time.end=2020-12",
                "--out",
                str(tmp_path / "run"),
                "--quiet",
                "--no-report",
            ]
        )
        == 0
    )
    assert "cannot act here" in capsys.readouterr().out


def test_the_readme_example_scenario_acts(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Scenarios") :]
    block = section[section.index("```yaml") + len("```yaml") : section.index("```", section.index("```yaml") + 7)]
    assert "extends: no_plan.yaml" in block
    path = tmp_path / "readme_example.yaml"
    path.write_text(block.replace("extends: no_plan.yaml", f"extends: {NO_PLAN}"), encoding="utf-8")
    assert api.notes(path) == [], "every lever the README's example sets can act"
    out = api.compare(["no_plan", path], overrides={"time.end": "2022-12"}, reps=2)
    whole = out.differences[out.differences["period"] == "all"]
    assert not whole["identical"].all()
    value = whole[whole["metric"] == "value_won_usd_m"].iloc[0]
    assert value["difference"] != 0.0

"""Tables, re-shown results and the report say the same things: one replication count, the straddle
advice from the interval's split, the overrides, the baseline first."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from helpers import ROOT, SCENARIOS

from simulation.analysis.compare import straddle_note
from simulation.cli import main

PSETS = str(ROOT / "experiments" / "parameter_sets.yaml")


def _tables(text: str) -> str:
    """The printed tables without the lines that differ between a first run and a re-shown one."""
    keep = [
        ln
        for ln in text.splitlines()
        if not ln.startswith(("results for", "report:")) and " runs in " not in ln and not ln.startswith("note:")
    ]
    return "\n".join(keep)


def test_first_run_and_reshown_results_print_the_same_tables(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # default results folder: results/compare-... under the working folder
    argv = [
        "compare",
        str(SCENARIOS / "plan_2019_announced.yaml"),
        str(SCENARIOS / "no_plan.yaml"),
        "--baseline",
        "no_plan",
        "--reps",
        "2",
        "--parameter-sets",
        PSETS,
        "--set",
        "time.end=2021-12",
        "--set",
        "levers.c2_consortia.sme_share=0.4",
        "--quiet",
        "--no-report",
    ]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "already exist" in again
    assert _tables(first) == _tables(again)
    import yaml

    n_sets = len(yaml.safe_load(Path(PSETS).read_text(encoding="utf-8"))["sets"])
    assert f"(mean of 2 replications × {n_sets} parameter sets; KR share" in first
    assert f"paired over 2 replications × {n_sets} parameter sets" in first
    assert "mean of 20 " not in first and "mean of 20)" not in first
    # baseline first in the yearly table, though given second; overrides marked and listed
    head = next(ln for ln in first.splitlines() if ln.strip().startswith("year"))
    assert head.index("no_plan*") < head.index("plan_2019_announced*")
    assert "* with --set time.end=2021-12, levers.c2_consortia.sme_share=0.4 (in every scenario)" in first


def test_straddle_advice_follows_the_split_of_the_interval():
    rows = pd.DataFrame(
        [
            {
                "scenario": "a",
                "baseline": "b",
                "metric": "win_rate",
                "period": "all",
                "straddles_zero": True,
                "ci_half_stochastic": 0.0065,
                "ci_half_parameters": 0.0227,
                "identical": False,
            },
            {
                "scenario": "a",
                "baseline": "b",
                "metric": "value_won_usd_m",
                "period": "all",
                "straddles_zero": True,
                "ci_half_stochastic": 900.0,
                "ci_half_parameters": 100.0,
                "identical": False,
            },
            {
                "scenario": "a",
                "baseline": "b",
                "metric": "wins",
                "period": "2020",
                "straddles_zero": True,
                "ci_half_stochastic": 1.0,
                "ci_half_parameters": 0.0,
                "identical": False,
            },
            {
                "scenario": "a",
                "baseline": "b",
                "metric": "wins",
                "period": "all",
                "straddles_zero": False,
                "ci_half_stochastic": 0.0,
                "ci_half_parameters": 0.0,
                "identical": True,
            },
        ]
    )
    note = straddle_note(rows)
    half = math.hypot(0.0065, 0.0227)
    assert f"win rate (a): +/- 2.27 pp of its +/- {half * 100:.3g} pp is parameter spread" in note
    assert "which more replications cannot settle" in note
    assert "Mostly replication noise, which more replications (--reps) will narrow: value won (a)" in note
    assert "1 yearly difference straddles zero" in note and "wins" not in note.split("yearly")[0].split("noise")[-1]
    assert straddle_note(rows[~rows["straddles_zero"]]) is None


def test_the_report_gives_the_same_straddle_advice_and_the_overrides_in_its_title(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                str(SCENARIOS / "no_plan.yaml"),
                str(SCENARIOS / "strategy_team_korea.yaml"),
                "--reps",
                "2",
                "--parameter-sets",
                PSETS,
                "--set",
                "time.end=2021-12",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    note = straddle_note(pd.read_parquet(out / "differences.parquet"))
    page = (out / "report.html").read_text(encoding="utf-8")
    title = page[page.index("<h1>") + 4 : page.index("</h1>")]
    assert title == "Scenario comparison: no_plan, strategy_team_korea (with time.end=2021-12)"
    import yaml

    n_sets = len(yaml.safe_load(Path(PSETS).read_text(encoding="utf-8"))["sets"])
    assert f"mean of 2 replications × {n_sets} parameter sets" in page
    if note:
        import html

        assert note in printed
        assert html.escape(note.lstrip("* ")) in page
        assert "run more replications (<code>--reps</code>)" not in page

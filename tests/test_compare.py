"""`scsim compare`: common random numbers, paired differences with confidence intervals."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
from helpers import ROOT, load
from scipy import stats

from simulation.analysis.compare import format_differences, paired_differences, per_run
from simulation.experiment.runner import run_batch


def test_a_scenario_against_itself_differs_by_exactly_zero():
    twin = load("no_plan", "name=twin")
    batch = run_batch([load("no_plan"), twin], seed=3, reps=3, progress=False)
    diff = paired_differences(batch.table, "no_plan")
    core = diff[diff["metric"] != "extra_value_per_extra_krw"].dropna(subset=["difference"])
    core = core[core["pairs"] >= 2]  # a year in which a ratio (SME share) is defined in one run only has no CI
    assert len(core) > 0 and (core["difference"] == 0.0).all()
    assert (core["ci_low"] == 0.0).all() and (core["ci_high"] == 0.0).all()
    # exactly zero in every run is "identical", never "more replications needed"
    assert diff["identical"].all() and not diff["straddles_zero"].any()
    text = format_differences(diff, "3 replications")
    assert "identical in every run" in text and "--reps" not in text and "straddles" not in text


def test_common_random_numbers_narrow_the_interval():
    batch = run_batch([load("no_plan"), load("plan_2019_announced")], seed=0, reps=10, progress=False)
    diff = paired_differences(batch.table, "no_plan")
    row = diff[(diff["metric"] == "value_won_usd_m") & (diff["period"] == "all")].iloc[0]
    runs = per_run(batch.table)
    h = runs[(runs["period"] == "all") & (runs["metric"] == "value_won_usd_m")]
    a = h[h["scenario"] == "no_plan"].sort_values("run")["value"].to_numpy()
    b = h[h["scenario"] == "plan_2019_announced"].sort_values("run")["value"].to_numpy()
    assert row["difference"] == np.mean(b - a)
    paired_half = row["ci_high"] - row["difference"]
    t = stats.t.ppf(0.975, len(a) - 1)
    assert math.isclose(paired_half, t * np.std(b - a, ddof=1) / math.sqrt(len(a)), rel_tol=1e-12)
    unpaired_half = t * math.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))
    assert paired_half < unpaired_half, "pairing by seed must remove shared noise"
    assert row["ci_low"] > 0 and not row["straddles_zero"], "the plan raises value won, clearly"


def test_cli_compare_writes_tables_and_flags_unsettled_differences(tmp_path):
    out = tmp_path / "cmp"
    cmd = [
        sys.executable,
        "-m",
        "simulation",
        "compare",
        "scenarios/no_plan.yaml",
        "scenarios/strategy_team_korea.yaml",
        "--baseline",
        "no_plan",
        "--reps",
        "3",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "time.end=2021-12",
        "--no-report",  # the report's own tests (test_report.py) write it
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "strategy_team_korea vs no_plan" in proc.stdout and "95 % CI" in proc.stdout
    diff = pd.read_csv(out / "differences.csv")
    assert set(diff["metric"]) >= {
        "win_rate",
        "wins",
        "value_won_usd_m",
        "sme_share_value",
        "public_cost_krw_bn",
        "value_per_public_krw",
    }
    assert set(diff["period"].astype(str)) == {"2019", "2020", "2021", "all"}
    if diff["straddles_zero"].any():
        assert "CI straddles zero" in proc.stdout
    # an explicit --out that exists is never overwritten without --force: the same command shows those
    # results again (finishing a missing report), another command is refused
    before = (out / "differences.csv").read_bytes()
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0 and "already exist" in again.stdout, again.stderr
    other = subprocess.run([c if c != "3" else "4" for c in cmd], cwd=ROOT, capture_output=True, text=True)
    assert other.returncode == 2 and "already exists" in other.stderr, other.stderr
    assert (out / "differences.csv").read_bytes() == before
    bad = subprocess.run(
        cmd[:6] + ["--baseline", "nowhere", "--reps", "3", "--out", str(tmp_path / "x")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--baseline 'nowhere'" in bad.stderr and not (tmp_path / "x").exists()

"""`scsim optimize`, `robustness` and `discover`: a Pareto set from the shipped smoke file, the same
answer on every executor and after a SIGKILL, PRIM finding a planted box, bad files refused with one
message, and the report's two sections in a real browser. Worlds are tiny (40 firms, to 2020-12)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, run_and_list_imports

from simulation.cli import main

BASE = (ROOT / "scenarios" / "no_plan.yaml").as_posix()
TINY = f"""name: tiny_budget
base: {BASE}
set:
  time.end: "2020-12"
  world.n_firms: 40
levers:
  - key: levers.c5_roadshows.per_year
    name: roadshows
    range: [0, 10]
  - key: levers.n2_subsidy.ratio.sme
    name: sme_ratio
    range: [0.5, 0.9]
  - key: levers.f5_co_entry.enabled
    name: co_entry
    type: switch
objectives:
  - {{outcome: value_won, direction: max}}
  - {{outcome: public_cost, direction: min}}
constraints:
  - {{outcome: public_cost_per_year, max: 500}}
ensemble:
  lhs:
    samples: 5
    seed: 3
    factors:
      - {{key: competition.foreign_bids_mean, name: foreign_bids, range: [2.0, 8.0]}}
replications: 2
final_replications: 2
seed: 7
search: {{sampler: nsga2, batch: 4, evaluations: 8}}
target: {{outcome: value_per_public_krw, at_least: 10}}
"""
TABLES = ("trials", "final", "options", "robustness")


def scsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("planning")
    (folder / "tiny.yaml").write_text(TINY)
    return folder


@pytest.fixture(scope="module")
def reference(tiny) -> Path:
    """The serial, uninterrupted run every other way of running must reproduce."""
    out = tiny / "serial"
    assert main(["optimize", str(tiny / "tiny.yaml"), "--out", str(out), "--quiet"]) == 0
    return out


def tables(folder: Path) -> dict[str, str]:
    return {t: (folder / "planning" / f"{t}.csv").read_text() for t in TABLES}


def test_shipped_smoke_gives_a_pareto_set_options_and_the_gain_at_the_plans_money(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["optimize", "budget_smoke", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    trials = pd.read_csv(out / "planning" / "trials.csv")
    assert len(trials) == 13 and trials["pareto"].sum() >= 1 and not trials.loc[0, "pareto"]
    assert trials.loc[trials["pareto"], "feasible"].all()
    options = pd.read_csv(out / "planning" / "options.csv")
    assert 1 <= len(options) <= 5 and (options["value_won_low"] <= options["value_won"]).all()
    summary = json.loads((out / "planning" / "summary.json").read_text())
    gain = summary["gain_at_plan_cost"]
    assert "plan's money" in printed and "report:" in printed
    if gain["available"]:
        assert gain["value_won_low"] <= gain["value_won_gain"] <= gain["value_won_high"]
    # stored like a sweep: `scsim analyze` reads it
    assert main(["analyze", str(out)]) == 0
    assert (out / "report.html").is_file()


@pytest.mark.slow
def test_processes_and_dask_give_the_serial_pareto_set_bit_for_bit(tiny, reference):
    ref = tables(reference)
    for executor in ("processes", "dask"):
        out = tiny / executor
        assert (
            main(
                [
                    "optimize",
                    str(tiny / "tiny.yaml"),
                    "--out",
                    str(out),
                    "--executor",
                    executor,
                    "--workers",
                    "2",
                    "--quiet",
                ]
            )
            == 0
        )
        assert tables(out) == ref, executor


KILL = """
import sys
from pathlib import Path
from simulation.planning.spec import load_optimize
from simulation.planning.optimize import optimize
optimize(load_optimize(sys.argv[1]), Path(sys.argv[2]), progress=False)
"""


@pytest.mark.slow
def test_sigkill_then_rerun_resumes_and_ends_identical(tiny, reference):
    out = tiny / "killed"
    env = {**os.environ, "SCSIM_RUNS_PER_FILE": "1"}  # a file per run: killed after so many runs
    proc = subprocess.Popen([sys.executable, "-c", KILL, str(tiny / "tiny.yaml"), str(out)], cwd=ROOT, env=env)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        runs = out / "runs"
        if runs.is_dir() and sum(n.endswith(".parquet") for n in os.listdir(runs)) >= 25:
            break
        assert proc.poll() is None, "the search ended before it could be killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "planning").exists(), "killed before the end: no results yet"
    done_before = sum(n.endswith(".parquet") for n in os.listdir(out / "runs"))
    r = scsim("optimize", str(tiny / "tiny.yaml"), "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    found = int(r.stdout.split(" found in the folder")[0].rsplit(", ", 1)[1].split()[0])
    assert found >= done_before - 1  # every finished run was reused, none recomputed
    assert tables(out) == tables(reference)


@pytest.mark.slow
def test_two_shards_share_a_folder_and_follow_the_serial_search(tiny, reference):
    """`--shard 1/2` and `--shard 2/2` in one folder (a job array): each computes its half of every
    batch and waits for the other's, so both follow the same search; the run without `--shard`
    afterwards computes nothing and writes the serial run's tables."""
    out = tiny / "shards"
    cmd = [sys.executable, "-m", "simulation", "optimize", str(tiny / "tiny.yaml"), "--out", str(out), "--quiet"]
    shards = [
        subprocess.Popen(
            [*cmd, "--shard", f"{i}/2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for i in (1, 2)
    ]
    for proc in shards:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
    assert not (out / "planning").exists(), "a shard leaves the tables to the run that gathers them"
    r = scsim("optimize", str(tiny / "tiny.yaml"), "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert re.search(r"(?<!\d)0 runs computed, [1-9]\d* found in the folder", r.stdout), r.stdout
    assert tables(out) == tables(reference)


def test_discover_finds_a_planted_box(tmp_path, capsys):
    rng = np.random.default_rng(11)
    n = 500
    X = pd.DataFrame(
        {
            "market_growth": rng.uniform(0.0, 0.25, n),
            "foreign_bids": rng.uniform(3.0, 6.0, n),
            "effect_size": rng.uniform(0, 1, n),
            "noise": rng.uniform(0, 1, n),
        }
    )
    planted = (X["market_growth"] < 0.08) & (X["foreign_bids"] > 4.5)  # the plan fails here
    y = np.where(planted, 6.0, 14.0) + rng.normal(0, 1.0, n)
    X.assign(value_per_public_krw=y).to_csv(tmp_path / "worlds.csv", index=False)
    assert main(["discover", str(tmp_path / "worlds.csv"), "--below", "10"]) == 0
    text = capsys.readouterr().out
    from simulation.planning.discover import discover, load_discover_spec

    d = discover(tmp_path / "worlds.csv", load_discover_spec(None, {"below": 10.0}))
    assert d.coverage > 0.8 and d.density > 0.8, (d.coverage, d.density)
    box = d.restricted().set_index("input")
    assert set(box.index) == {"market_growth", "foreign_bids"}
    assert abs(box.loc["market_growth", "high"] - 0.08) < 0.02 and abs(box.loc["foreign_bids", "low"] - 4.5) < 0.2
    assert "market_growth is below" in text and "foreign_bids is above" in text and "peeling trajectory" in text


# each bad file, with whether it is refused before the base scenario is read (the schema checks):
# those refusals come before the search's libraries (pandas, numba, pyarrow) load
@pytest.mark.parametrize(
    "edit, line, key, words, light",
    [
        (
            ("name: roadshows\n    range: [0, 10]", "name: roadshows\n    range: [10, 0]"),
            7,
            "levers.0",
            "low below high",
            True,
        ),
        (("levers.n2_subsidy.ratio.sme", "levers.n2_subsidy.ratio.smee"), 10, "levers.1", "not a parameter", False),
        (("outcome: value_won,", "outcome: value_wonn,"), 17, "objectives.0.outcome", "value_won", True),
        (("evaluations: 8", "evaluations: 7"), 30, "search", "whole number of batches", True),
        (("range: [2.0, 8.0]", "range: [2.0, 800.0]"), 26, "ensemble.lhs.factors.0", "foreign_bids_mean", False),
    ],
)
def test_bad_optimize_file_is_one_message_with_file_line_and_key_and_exit_2(tmp_path, edit, line, key, words, light):
    path = tmp_path / "bad.yaml"
    path.write_text(TINY.replace(*edit))
    r, loaded = run_and_list_imports(
        "optimize",
        str(path),
        "--out",
        str(tmp_path / "out"),
        modules=("pandas", "numba", "pyarrow", "scipy.stats"),
        cwd=ROOT,
    )
    assert r.returncode == 2, r.stderr
    if light:
        assert loaded == [], f"the search's libraries loaded before the file was refused: {loaded}"
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"bad.yaml:{line}" in r.stderr and key in r.stderr and words in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_report_shows_both_sections_in_headless_chromium(reference, tmp_path):
    from test_report import CHROMIUM, CHROMIUM_ARGS, text_of

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is needed at {CHROMIUM} for this test")
    from playwright.sync_api import sync_playwright

    trials = pd.read_csv(reference / "planning" / "trials.csv")
    cut = float(pd.read_csv(reference / "planning" / "final.csv").iloc[0]["value_won"])
    assert main(["discover", str(reference), "--outcome", "value_won", "--below", str(cut), "--threshold", "0.5"]) == 0
    assert main(["report", str(reference), "--force"]) == 0
    page_file = reference / "report.html"
    html = page_file.read_text()
    assert "<h2>Options for the budget</h2>" in html and "<h2>When the plan fails</h2>" in html
    words = text_of(html)
    assert "the plan's own mix" in words and "falls below" in words and len(trials) == 9
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors, outside = [], []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            assert page.get_by_role("heading", name="Options for the budget", exact=True).is_visible()
            assert page.get_by_role("heading", name="When the plan fails", exact=True).is_visible()
            figures = page.locator("figure img")
            assert figures.count() == 2 == len(list((reference / "figures").glob("*.svg")))
            for k in range(2):
                size = figures.nth(k).evaluate("e => [e.complete, e.naturalWidth, e.getBoundingClientRect().height]")
                assert size[0] and min(size[1:]) > 100, size
            assert errors == [] and outside == []
            page.screenshot(path=str(tmp_path / "planning.png"), full_page=True)
        finally:
            browser.close()


def test_robustness_of_two_policies_has_every_measure_with_an_interval(tmp_path, capsys):
    (tmp_path / "rob.yaml").write_text(f"""name: tiny_rob
base: {BASE}
set: {{time.end: "2020-12", world.n_firms: 40}}
policies:
  - {{name: few_roadshows, set: {{levers.c5_roadshows.per_year: 0}}}}
  - {{name: many_roadshows, set: {{levers.c5_roadshows.per_year: 10}}}}
ensemble:
  lhs: {{samples: 4, seed: 2, factors: [{{key: competition.foreign_bids_mean, range: [2.0, 8.0]}}]}}
replications: 1
target: {{outcome: value_won, at_least: 50}}
""")
    assert main(["robustness", str(tmp_path / "rob.yaml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "max regret" in capsys.readouterr().out
    rob = pd.read_csv(tmp_path / "out" / "planning" / "robustness.csv")
    assert list(rob["policy"][:2]) == ["few_roadshows", "many_roadshows"] and (rob["members"] == 4).all()
    for m in ("mean", "p10", "max_regret"):
        assert (rob[f"{m}_low"] <= rob[m] + 1e-9).all() and (rob[m] <= rob[f"{m}_high"] + 1e-9).all()
    assert (rob["max_regret"] >= 0).all() and rob["satisficing"].iloc[:2].between(0, 1).all()
    assert (tmp_path / "out" / "report.html").is_file()


def test_robustness_resamples_all_at_once_as_it_would_one_by_one(monkeypatch):
    """The bootstrap of the robustness measures computes the resamples in blocks (25-35 times faster
    than one by one); each number is the one-by-one computation's, bit for bit, on the same draws,
    with all resamples in one block or a few at a time."""
    from simulation.planning import robustness as module
    from simulation.planning.robustness import LEVEL, N_BOOT, _measures, robustness

    rng = np.random.default_rng(11)
    for policies, members, direction, target, at_least in [
        (5, 25, "max", 10.0, True),
        (13, 5, "min", 3.0, False),
        (3, 40, "max", None, True),
    ]:
        V = np.round(rng.lognormal(2, 1, size=(policies, members)), 2)
        values = pd.DataFrame(
            [{"policy": f"p{i}", "member": j, "v": V[i, j]} for i in range(policies) for j in range(members)]
        )
        draw = np.random.default_rng(4)
        one_by_one = np.stack(
            [
                _measures(V[:, draw.integers(0, members, size=members)], direction, target, at_least)
                for _ in range(N_BOOT)
            ]
        )
        a = (1.0 - LEVEL) / 2.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # no target: the satisficing share is NaN throughout
            low, high = np.nanquantile(one_by_one, a, axis=0), np.nanquantile(one_by_one, 1.0 - a, axis=0)
        for chunk in (4_000_000, 1_000):  # the one-by-one computation is the slow part: made once for both
            monkeypatch.setattr(module, "CHUNK_VALUES", chunk)
            got = robustness(values, "v", direction, target, at_least, seed=4)
            for j, name in enumerate(("mean", "p10", "max_regret", "satisficing")):
                np.testing.assert_array_equal(got[f"{name}_low"].to_numpy(), low[:, j])
                np.testing.assert_array_equal(got[f"{name}_high"].to_numpy(), high[:, j])
                np.testing.assert_array_equal(got[name].to_numpy(), _measures(V, direction, target, at_least)[:, j])


def test_the_ensembles_latin_hypercube_is_scipys_number_for_number():
    """`lhs_unit` writes out scipy.stats.qmc.LatinHypercube (scrambled, strength 1) so that planning
    processes need not import scipy.stats; the members are the same for the same seed."""
    from scipy.stats import qmc

    from simulation.planning.ensemble import lhs_unit

    for samples, dims, seed in [(1, 1, 0), (5, 1, 3), (7, 4, 11), (40, 9, 2026), (200, 2, 5)]:
        expected = qmc.LatinHypercube(d=dims, rng=np.random.default_rng(seed)).random(samples)
        np.testing.assert_array_equal(lhs_unit(samples, dims, seed), expected)

"""scsim calibrate: SMM recovers parameters it is given the moments of, writes back only what it
fitted (with provenance and date), refuses bad files; compare --parameter-sets widens intervals."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT, run_and_list_imports

from simulation.analysis.calibration.effects import EffectFit, read_grid
from simulation.analysis.calibration.fit import (
    Evaluation,
    Problem,
    farthest_first,
    identify,
    plausible_sets,
    region_cut,
    search,
)
from simulation.analysis.calibration.spec import load_calibration
from simulation.analysis.calibration.writeback import plan_write_back, write_back
from simulation.analysis.compare import interval
from simulation.scenario.errors import InputError
from simulation.scenario.loader import load_scenario

SHORT = "extends: no_plan.yaml\nname: short\ntime:\n  end: {value: 2022-12, provenance: assumption, source: test}\n"


def _scenarios(tmp: Path) -> Path:
    """A private copy of the shipped scenarios plus a short-horizon child (tests never touch the real ones)."""
    dest = tmp / "scenarios"
    shutil.copytree(ROOT / "scenarios", dest)
    (dest / "short.yaml").write_text(SHORT, encoding="utf-8")
    return dest


def _spec(tmp: Path, targets: list[dict], params: list[dict], search: dict, name: str = "t", reps: int = 2) -> Path:
    spec = {
        "name": name,
        "scenario": "scenarios/short.yaml",
        "years": [2020, 2022],
        "seed": 3,
        "replications": reps,
        "parameters": params,
        "targets": targets,
        "search": search,
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


PARAMS = [
    {"key": "competition.foreign_bids_mean", "low": 2.0, "high": 9.0},
    {"key": "competition.foreign_bids_dispersion", "low": 0.1, "high": 2.0},
]


def _truth_targets(tmp: Path, truth: dict[str, float]) -> list[dict]:
    """Targets that are the model's own moments at `truth` (same seeds): SMM should find `truth` again."""
    probe = _spec(
        tmp,
        [{"moment": "bidders_per_tender", "value": 6.0, "low": 5.0, "high": 7.0, "source": "s"}],
        PARAMS,
        {"lhs_points": 2, "local_evaluations": 0},
        name="probe",
    )
    m = Problem(load_calibration(str(probe))).run_moments(truth)
    return [
        {"moment": k, "value": m[k], "low": m[k] * (1 - w), "high": m[k] * (1 + w), "source": "the model at truth"}
        for k, w in (("bidders_per_tender", 0.05), ("single_bidder_share", 0.2))
    ]


def test_smm_recovers_the_parameters_whose_moments_it_was_given(tmp_path):
    """The foreign-bid rate moves bidders per tender, the buyer's outside option the rejected share:
    given the model's own moments at a truth, the search finds the truth again."""
    _scenarios(tmp_path)
    params = [
        {"key": "competition.foreign_bids_mean", "low": 2.0, "high": 9.0},
        {"key": "award.reservation_utility", "low": 0.0, "high": 5.0},
    ]
    truth = {"competition.foreign_bids_mean": 6.5, "award.reservation_utility": 3.0}
    probe = _spec(
        tmp_path,
        [{"moment": "bidders_per_tender", "value": 6.0, "low": 5.0, "high": 7.0, "source": "s"}],
        params,
        {"lhs_points": 2, "local_evaluations": 0},
        name="probe",
        reps=12,
    )
    m = Problem(load_calibration(str(probe))).run_moments(truth)
    targets = [
        {"moment": k, "value": m[k], "low": m[k] * (1 - w), "high": m[k] * (1 + w), "source": "the model at truth"}
        for k, w in (("bidders_per_tender", 0.03), ("rejected_share", 0.1))
    ]
    loaded = load_calibration(
        str(_spec(tmp_path, targets, params, {"lhs_points": 16, "local_evaluations": 60}, reps=12))
    )
    problem = Problem(loaded)
    start = problem.evaluate(
        problem.unit({"competition.foreign_bids_mean": 4.0, "award.reservation_utility": 1.0}), "start"
    )
    best = search(problem)
    assert best.objective < 0.05 * start.objective
    assert best.values["competition.foreign_bids_mean"] == pytest.approx(6.5, abs=0.75)
    assert best.values["award.reservation_utility"] == pytest.approx(3.0, abs=0.5)
    ident = identify(problem, best)
    assert ident.jacobian.shape == (2, 2) and np.all(np.isfinite(ident.sd_unit))
    # the outside option moves the rejected share: the second parameter is pinned down
    assert ident.labels[1] in ("well identified", "weakly identified")
    chosen, rule = plausible_sets(problem, best, 4)
    assert 1 <= len(chosen) <= 4 and "chi-square" in rule


def _ev(u: tuple[float, float], objective: float, stage: str) -> Evaluation:
    return Evaluation(u, {"a": u[0], "b": u[1]}, {}, objective, True, stage)


def test_the_ensemble_samples_the_region_from_the_hypercube():
    """The sets are the hypercube's points inside the 95 % region, in the hypercube's order: a sample of the
    region under the box's uniform prior, not the Nelder-Mead steps round the best fit nor its edges."""
    cut = region_cut(2)  # 5.99
    best = _ev((0.5, 0.5), 1.0, "local")
    lhs = [_ev((0.1, 0.9), 2.0, "lhs"), _ev((0.9, 0.1), 50.0, "lhs"), _ev((0.3, 0.3), 1.0 + cut, "lhs")]
    steps = [_ev((0.5, 0.51), 1.1, "local"), _ev((0.95, 0.95), 3.0, "local")]
    problem = SimpleNamespace(evaluations=[lhs[0], lhs[1], lhs[2], best, *steps], dim=2)
    chosen, rule = plausible_sets(problem, best, 2)
    assert chosen == [lhs[0], lhs[2]]  # the one outside the region (objective 50) is rejected
    assert "3 of them from the hypercube" not in rule and "2 of them from the hypercube" in rule
    assert "filled" not in rule
    # too few hypercube points: the region's others fill the rest, farthest from the chosen first
    chosen, rule = plausible_sets(problem, best, 4)
    assert chosen[:2] == [lhs[0], lhs[2]] and chosen[2] is steps[1] and chosen[3] in (best, steps[0])
    assert "2 of the sets filled from the region's other points" in rule
    # no hypercube point in the region: the best fit first
    problem.evaluations = [lhs[1], best, *steps]
    chosen, _ = plausible_sets(problem, best, 2)
    assert chosen == [best, steps[1]]
    # the farthest-point order never takes a point twice, even where points coincide
    assert farthest_first(np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.5, 0.5]]), [0], 4) == [0, 2, 3, 1]


def test_an_unidentified_parameter_is_flagged(tmp_path):
    """A parameter no targeted moment depends on (the KOTRA bid-cost cut, off in the no-plan world)."""
    _scenarios(tmp_path)
    params = PARAMS[:1] + [{"key": "levers.n4_hubs.kotra_bid_cost_cut", "low": 0.0, "high": 0.5}]
    targets = _truth_targets(
        tmp_path, {"competition.foreign_bids_mean": 6.0, "competition.foreign_bids_dispersion": 0.9}
    )[:1]
    problem = Problem(
        load_calibration(str(_spec(tmp_path, targets, params, {"lhs_points": 6, "local_evaluations": 10})))
    )
    ident = identify(problem, search(problem))
    assert ident.labels[1] == "not identified"
    assert abs(ident.weakest["levers.n4_hubs.kotra_bid_cost_cut"]) > 0.9


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", *args], cwd=cwd, capture_output=True, text=True)


def test_calibrate_writes_back_only_the_fitted_values_with_provenance_and_date(tmp_path):
    scen = _scenarios(tmp_path)
    targets = _truth_targets(
        tmp_path, {"competition.foreign_bids_mean": 6.0, "competition.foreign_bids_dispersion": 1.1}
    )
    spec = _spec(tmp_path, targets, PARAMS, {"lhs_points": 6, "local_evaluations": 8, "parameter_sets": 3})
    before = (scen / "no_plan.yaml").read_text(encoding="utf-8").splitlines()
    proc = _cli(
        "calibrate",
        str(spec),
        "--out",
        str(tmp_path / "fit"),
        "--parameter-sets",
        str(tmp_path / "sets.yaml"),
        "--quiet",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    after = (scen / "no_plan.yaml").read_text(encoding="utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(before) == len(after) and len(changed) == 2
    assert all(after[i].lstrip().startswith(("foreign_bids_mean:", "foreign_bids_dispersion:")) for i in changed)
    r = load_scenario(str(scen / "short.yaml"))
    today = dt.date.today().isoformat()
    for key in ("foreign_bids_mean", "foreign_bids_dispersion"):
        prov = r.prov[("competition", key)]
        assert prov.kind == "calibrated" and today in prov.source and "fit.md" in prov.source
    manifest = json.loads((tmp_path / "fit" / "manifest.json").read_text())
    assert r.values[("competition", "foreign_bids_mean")] == manifest["best"]["values"]["competition.foreign_bids_mean"]
    report = (tmp_path / "fit" / "fit.md").read_text()
    assert "| bidders_per_tender |" in report and "identification" in report
    moments = pd.read_csv(tmp_path / "fit" / "moments.csv")
    assert set(moments["moment"]) == {"bidders_per_tender", "single_bidder_share"}
    ensemble = yaml.safe_load((tmp_path / "sets.yaml").read_text())
    sets, ranges = ensemble["sets"], ensemble["effect_ranges"]
    best = manifest["best"]["values"]
    # the ensemble: each set a point of the fit's region (the best fit first) and a draw of every
    # lever effect within its evidence range
    assert len(sets) == 3 and {k: sets[0][k] for k in best} == best
    assert len(ranges) > 20 and "levers.t5_mou.relationship_boost" in ranges
    for values in sets:
        assert set(values) == set(best) | set(ranges)
        assert all(ranges[k][0] <= values[k] <= ranges[k][1] for k in ranges)
    assert len({s["levers.t5_mou.relationship_boost"] for s in sets}) == 3  # a Latin hypercube, not one value
    # the results folder is not replaced without --force; the scenario stays as the first fit left it
    again = _cli("calibrate", str(spec), "--out", str(tmp_path / "fit"), "--quiet", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    assert (scen / "no_plan.yaml").read_text(encoding="utf-8").splitlines() == after


def test_dry_run_leaves_the_scenario_alone(tmp_path):
    scen = _scenarios(tmp_path)
    spec = _spec(
        tmp_path,
        [{"moment": "win_rate", "value": 0.15, "low": 0.1, "high": 0.2, "source": "s"}],
        PARAMS[:1],
        {"lhs_points": 3, "local_evaluations": 0},
    )
    text = (scen / "no_plan.yaml").read_text()
    proc = _cli("calibrate", str(spec), "--dry-run", "--out", str(tmp_path / "fit"), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (scen / "no_plan.yaml").read_text() == text and (tmp_path / "fit" / "fit.md").is_file()
    # the dry run's fit is applied later without fitting again: the scenario then holds its values
    both = _cli("calibrate", str(spec), "--apply", str(tmp_path / "fit"), "--dry-run", cwd=tmp_path)
    assert both.returncode == 2 and "give one" in both.stderr and (scen / "no_plan.yaml").read_text() == text
    sets = tmp_path / "sets.yaml"
    applied = _cli(
        "calibrate", str(spec), "--apply", str(tmp_path / "fit"), "--parameter-sets", str(sets), cwd=tmp_path
    )
    assert applied.returncode == 0, applied.stderr
    assert sets.read_bytes() == (tmp_path / "fit" / "parameter_sets.yaml").read_bytes()  # the same fit's ensemble
    best = json.loads((tmp_path / "fit" / "manifest.json").read_text())["best"]["values"]
    key = PARAMS[0]["key"]
    node = load_scenario(str(scen / "no_plan.yaml"))
    path = tuple(key.split("."))
    assert node.values[path] == best[key] and node.prov[path].kind == "calibrated"
    assert "fit report" in node.prov[path].source and str(tmp_path / "fit") in applied.stdout
    # once applied the scenario is no longer the one fitted: a second apply is refused, nothing changes
    after = (scen / "no_plan.yaml").read_text()
    again = _cli("calibrate", str(spec), "--apply", str(tmp_path / "fit"), cwd=tmp_path)
    assert again.returncode == 2 and "calibrate again" in again.stderr and "Traceback" not in again.stderr
    assert (scen / "no_plan.yaml").read_text() == after
    missing = _cli("calibrate", str(spec), "--apply", str(tmp_path), cwd=tmp_path)
    assert missing.returncode == 2 and "not a calibration results folder" in missing.stderr


BAD = [
    ("targets", [{"moment": "happiness", "value": 1.0, "low": 0.0, "high": 2.0, "source": "s"}], "unknown moment"),
    ("targets", [{"moment": "win_rate", "value": 0.3, "low": 0.1, "high": 0.2, "source": "s"}], "value within"),
    ("parameters", [{"key": "competition.no_such_thing", "low": 0.0, "high": 1.0}], "no_such_thing"),
    ("parameters", [{"key": "competition.foreign_bids_mean", "low": 5.0, "high": 2.0}], "empty range"),
    ("parameters", [{"key": "discovery.known_odds", "low": 0.1, "high": 3.0}], "discovery.known_odds"),
    ("scenario", "scenarios/nowhere.yaml", "not found"),
    ("years", [2010, 2022], "horizon"),
]


@pytest.mark.parametrize("field,value,expected", BAD, ids=[f"{b[0]}-{b[2]}" for b in BAD])
def test_bad_calibration_files_are_one_message_and_status_2(tmp_path, field, value, expected):
    scen = _scenarios(tmp_path)
    spec = yaml.safe_load(
        _spec(
            tmp_path,
            [{"moment": "win_rate", "value": 0.15, "low": 0.1, "high": 0.2, "source": "s"}],
            PARAMS,
            {"lhs_points": 3},
        ).read_text()
    )
    spec[field] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    text = (scen / "no_plan.yaml").read_text()
    proc, loaded = run_and_list_imports(
        "calibrate", str(path), "--out", str(tmp_path / "fit"), modules=("scipy.stats",), cwd=tmp_path
    )
    assert proc.returncode == 2
    assert loaded == [], "a bad calibration file is refused before scipy.stats and the search load"
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "bad.yaml:" in proc.stderr and expected in proc.stderr
    assert not (tmp_path / "fit").exists() and (scen / "no_plan.yaml").read_text() == text


def test_write_back_refuses_a_value_it_cannot_rewrite_in_place(tmp_path):
    scen = _scenarios(tmp_path)
    text = (scen / "no_plan.yaml").read_text()
    base = load_scenario(str(scen / "short.yaml"))
    with pytest.raises(InputError) as err:  # a mapping-valued parameter written as a block
        plan_write_back(base, ["market.bid_cost_share.ppp"])
    assert err.value.line is not None and "one-line" in err.value.message and "no_plan.yaml" in str(err.value)
    targets = plan_write_back(base, ["competition.foreign_bids_mean"])  # found in the parent file
    assert targets[0].file.endswith("no_plan.yaml")
    write_back(
        targets,
        {"competition.foreign_bids_mean": 5.5},
        {"competition.foreign_bids_mean": "x"},
        str(scen / "short.yaml"),
    )
    assert load_scenario(str(scen / "short.yaml")).values[("competition", "foreign_bids_mean")] == 5.5
    assert (
        sum(a != b for a, b in zip(text.splitlines(), (scen / "no_plan.yaml").read_text().splitlines(), strict=True))
        == 1
    )
    text = (scen / "no_plan.yaml").read_text()
    with pytest.raises(InputError):  # set by --set: no line to rewrite
        plan_write_back(load_scenario(str(scen / "short.yaml"), ["discovery.known_odds=5"]), ["discovery.known_odds"])
    assert (scen / "no_plan.yaml").read_text() == text


def test_parameter_uncertainty_adds_to_the_interval():
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 1.0, 40)
    sets = np.repeat(np.arange(4), 10)
    same, stoch, param = interval(10.0 + noise, sets, 0.95)
    shifted, stoch2, param2 = interval(10.0 + noise + np.array([-3.0, -1.0, 1.0, 3.0])[sets], sets, 0.95)
    # sets whose effects differ by sd 2.6 give a parameter range near 1.96 x 2.6; sets that agree, next to nothing
    assert param2 == pytest.approx(1.96 * np.std([-3.0, -1.0, 1.0, 3.0], ddof=1), rel=0.15)
    assert param < 0.1 * param2 and stoch2 == pytest.approx(stoch) and same == pytest.approx(shifted)
    mean, half, zero = interval(10.0 + noise, None, 0.95)
    assert zero == 0.0 and half > 0.0


def _twin_grid(slope: float, half_width: float, rng: np.random.Generator) -> list[dict]:
    """A twin's grid over 0..0.3: estimate = slope x value plus replication noise of the CI's size,
    exactly 0 at 0 (no boost, no effect), as the visit and MOU twins are."""
    grid = []
    for v in np.linspace(0.0, 0.3, 7):
        if v == 0.0:
            grid.append({"value": 0.0, "estimate": 0.0, "ci_low": 0.0, "ci_high": 0.0})
            continue
        est = slope * v + rng.normal(0.0, half_width / 1.96)
        grid.append({"value": float(v), "estimate": est, "ci_low": est - half_width, "ci_high": est + half_width})
    return grid


def test_a_fitted_effects_range_is_where_the_twin_meets_the_evidence_not_where_its_noise_reaches():
    """The ensemble draws a fitted lever effect over its consistent interval. That interval is the
    values whose (smoothed) twin estimate lies inside the published range: it must not widen when
    the twin is noisier (fewer replications), which an interval of values whose CI merely touches
    the published range did, leaning the ensemble towards the longer side of the search range."""
    rng = np.random.default_rng(3)
    quiet, noisy = _twin_grid(60.0, 1.0, rng), _twin_grid(60.0, 8.0, rng)
    fits = []
    for grid in (quiet, noisy):
        fit = EffectFit(SimpleNamespace(), 9.0, 8.0, 10.0, grid=grid)
        read_grid(fit, 0.0, 0.3)
        fits.append(fit)
    truth = (8.0 / 60.0, 10.0 / 60.0)  # 0.133 to 0.167
    for fit in fits:
        assert fit.crossed and fit.value == pytest.approx(0.15, abs=0.02)
        assert fit.consistent[0] == pytest.approx(truth[0], abs=0.02)
        assert fit.consistent[1] == pytest.approx(truth[1], abs=0.02)
        assert fit.consistent[0] <= fit.value <= fit.consistent[1]
    # the CI-overlap reading of the noisy grid reaches far beyond what the evidence admits
    touch = [g["value"] for g in noisy if g["ci_high"] >= 8.0 and g["ci_low"] <= 10.0]
    assert max(touch) - min(touch) > 2 * (truth[1] - truth[0])
    # a twin that never reaches the published range: the closest value, alone, and said so
    far = EffectFit(SimpleNamespace(), 90.0, 80.0, 100.0, grid=quiet)
    read_grid(far, 0.0, 0.3)
    assert not far.crossed and far.value == pytest.approx(0.3) and far.consistent == (0.3, 0.3)


def test_compare_over_parameter_sets(tmp_path):
    scen = _scenarios(tmp_path)
    sets = tmp_path / "sets.yaml"
    sets.write_text(
        yaml.safe_dump(
            {  # sets far apart in the plan's effect, whatever the noise of 3 short runs: a market 10 times larger
                "sets": [
                    {"competition.foreign_bids_mean": 12.0, "market.addressable_share": 0.002},
                    {"competition.foreign_bids_mean": 2.0, "market.addressable_share": 0.02},
                ]
            }
        )
    )
    out = tmp_path / "cmp"
    plan = scen / "plan_short.yaml"
    plan.write_text(
        "extends: plan_2019_announced.yaml\nname: plan_short\n"
        "time:\n  end: {value: 2022-12, provenance: assumption, source: test}\n"
    )
    proc = _cli(
        "compare",
        str(scen / "short.yaml"),
        str(plan),
        "--baseline",
        "short",
        "--reps",
        "3",
        "--parameter-sets",
        str(sets),
        "--out",
        str(out),
        "--no-report",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    # one progress bar over the 2 sets x 2 scenarios x 3 replications, not one a set (a CI log once
    # carried 75 of them)
    assert proc.stderr.count("| 0/12 [") == 1 and "/6 [" not in proc.stderr, proc.stderr  # "| 10/12 [" is the same bar
    assert "× 2 parameter sets" in proc.stdout and "from the parameters" in proc.stdout
    # two sets pin the width of the parameter part down to about 1/sqrt(2): the output says so
    assert "read from 2 sets, is itself uncertain by about +/- 71%" in proc.stdout
    diff = pd.read_csv(out / "differences.csv")
    v = diff[(diff["metric"] == "value_won_usd_m") & (diff["period"] == "all")].iloc[0]
    assert v["pairs"] == 6 and v["ci_half_parameters"] > 0.0
    assert v["ci_high"] - v["ci_low"] > 2 * v["ci_half_stochastic"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameter_sets"]["runs_per_set"] == 3 and len(manifest["parameter_sets"]["sets"]) == 2
    yearly = pd.read_parquet(out / "yearly.parquet")
    assert sorted(yearly["run"].unique()) == list(range(6))
    # the report says the intervals include parameter uncertainty
    rep = _cli("report", str(out), cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    # (the method text, not a note under a straddling interval, which depends on the sets drawn)
    assert "3 replications × 2 parameter sets" in html
    assert "1.96 times the spread of the effect between the sets" in html
    bad = tmp_path / "bad_sets.yaml"
    bad.write_text("sets:\n  - {competition.foreign_bids_mean: -4.0}\n")
    proc = _cli(
        "compare",
        str(scen / "short.yaml"),
        str(plan),
        "--reps",
        "2",
        "--parameter-sets",
        str(bad),
        "--out",
        str(tmp_path / "cmp2"),
        "--quiet",
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "bad_sets.yaml:2" in proc.stderr and "parameter set 1" in proc.stderr
    assert not (tmp_path / "cmp2").exists()


def test_the_shipped_calibration_can_write_every_fitted_value_back():
    """`scsim calibrate experiments/calibration.yaml` checks, before it searches, that every value it
    fits sits on a line it can rewrite; the shipped scenario must keep passing that check (a `note:`
    added to a calibrated line once stopped the calibration)."""
    loaded = load_calibration(str(ROOT / "experiments" / "calibration.yaml"))
    keys = [p.key for p in loaded.spec.parameters] + [e.key for e in loaded.spec.effects]
    targets = plan_write_back(loaded.base, keys)
    assert len(targets) == len(keys) == 16

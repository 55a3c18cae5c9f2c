"""Does the way the ensemble picks its calibrated points change the headline interval?

`experiments/parameter_sets.yaml` pairs each lever-effect draw with one point of the calibration's
95 % region. Since 2026-12-07 those points are the search's hypercube points that fall inside the
region (`calibration.fit.plausible_sets`): a uniform prior over the search box, kept where the fit
is within the region, which is rejection sampling as approximate Bayesian computation does. Before,
30 points were picked farthest-point first (spread over the region, so its edges came first). The
region's points as a whole are not a sample of anything: most are Nelder-Mead steps clustered round
the best fit. This script runs the README's comparison under three ensembles with the same
lever-effect ranges, and prints the value won's difference with its two half-widths:

    shipped   the sets of experiments/parameter_sets.yaml (the hypercube sample), as many
              replications a set as make about 600 runs a scenario (8 for 75 sets)
    farthest  30 of the region's points, farthest-point first from the best fit (the rule before),
              20 replications a set
    region    every point of the region (399), one effect draw each, 4 replications a set

    python experiments/ensemble_choice.py [--calibration results/calibration-no_plan-<hash>]

It needs the calibration's folder (its `evaluations.parquet`; `scsim calibrate
experiments/calibration.yaml` writes it under results/). About 1,800 + 1,800 + 4,500 runs, 5
minutes on 2 cores (AMD EPYC). docs/model.md §6 quotes the output.
"""

import argparse
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from simulation.analysis.calibration.command import effect_draws
from simulation.analysis.calibration.fit import farthest_first, region_cut

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "experiments" / "parameter_sets.yaml"
SCENARIOS = ["scenarios/no_plan.yaml", "scenarios/plan_2019_implemented.yaml", "scenarios/plan_2019_announced.yaml"]
RUNS_A_SCENARIO = 600  # the README's: 8 replications x 75 sets


def region_points(calibration: Path, n_params: int) -> pd.DataFrame:
    """The evaluated points in the fit's 95 % region (the rule of calibration.fit.plausible_sets)."""
    e = pd.read_parquet(calibration / "evaluations.parquet")
    best = float(e["objective"].min())
    return e[e["objective"] <= best + region_cut(n_params)]


def farthest(points: pd.DataFrame, n: int) -> pd.DataFrame:
    """n points, the best fit first, then each the farthest from those already chosen
    (`calibration.fit.farthest_first`): the ensemble's rule before 2026-12-07, which measured in the
    search box's unit coordinates; here each parameter is scaled to its range over the region."""
    units = points[[c for c in points.columns if c.startswith("param:")]].to_numpy(float)
    lo, hi = units.min(axis=0), units.max(axis=0)
    units = (units - lo) / np.where(hi > lo, hi - lo, 1.0)
    return points.iloc[farthest_first(units, [int(np.argmin(points["objective"].to_numpy()))], n)]


def sets_file(points: pd.DataFrame, shipped: dict, name: str, out: Path) -> Path:
    """A parameter-set file: each point with one Latin-hypercube draw of every lever-effect range."""
    ranges = {k: tuple(v) for k, v in shipped["effect_ranges"].items()}
    cols = [c for c in points.columns if c.startswith("param:")]
    values = [{c.removeprefix("param:"): float(r[c]) for c in cols} for _, r in points.iterrows()]
    body = {
        "calibration": shipped["calibration"],
        "date": shipped["date"],
        "rule": f"{name}: {len(values)} points of the region, one effect draw each (experiments/ensemble_choice.py)",
        "effect_ranges": shipped["effect_ranges"],
        "sets": effect_draws(values, ranges, len(values), 2019),
    }
    path = out / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def compare(sets: Path, reps: int, out: Path) -> pd.DataFrame:
    cmd = [sys.executable, "-m", "simulation", "compare", *SCENARIOS, "--baseline", "no_plan", "--reps", str(reps)]
    cmd += ["--parameter-sets", str(sets), "--out", str(out), "--force", "--quiet"]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    d = pd.read_parquet(out / "differences.parquet")
    return d[(d["metric"] == "value_won_usd_m") & (d["period"] == "all")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calibration", help="the calibration's results folder (default: named in parameter_sets.yaml)")
    a = ap.parse_args()
    head = SHIPPED.read_text()
    folder = a.calibration or next(w.rstrip(".") for w in head.split() if w.startswith("results/calibration-"))
    calibration = ROOT / folder
    shipped = yaml.safe_load(head)
    n_params = len([k for k in shipped["sets"][0] if k not in shipped["effect_ranges"]])
    region = region_points(calibration, n_params)
    lhs = region[region["stage"] == "lhs"]
    out = ROOT / "results" / "ensemble-choice"
    out.mkdir(parents=True, exist_ok=True)
    n_shipped = len(shipped["sets"])
    cases = [
        ("shipped", SHIPPED, max(2, round(RUNS_A_SCENARIO / n_shipped))),
        ("farthest", sets_file(farthest(region, 30), shipped, "farthest", out), 20),
        ("region", sets_file(region, shipped, "region", out), 4),
    ]
    print(
        f"{len(region)} points in the region ({(region['stage'] == 'local').sum()} Nelder-Mead steps), {len(lhs)} from the hypercube"
    )
    print(
        f"{'ensemble':<9} {'sets':>5} {'reps':>5}  {'scenario':<24} {'value won':>10} {'+/- noise':>10} {'+/- params':>11}"
    )
    for name, path, reps in cases:
        n_sets = len(yaml.safe_load(path.read_text())["sets"])
        for _, r in compare(path, reps, out / f"compare-{name}").iterrows():
            print(
                f"{name:<9} {n_sets:>5} {reps:>5}  {r['scenario']:<24} {r['difference']:>+10,.0f} "
                f"{r['ci_half_stochastic']:>10,.0f} {r['ci_half_parameters']:>11,.0f}"
            )
        # the sampling error of a normal spread's width estimated from this many sets
        print(
            f"{'':<9} (the parameter part's own sampling error with {n_sets} sets: about +/- {100 / math.sqrt(2 * (n_sets - 1)):.0f} %)"
        )


if __name__ == "__main__":
    main()

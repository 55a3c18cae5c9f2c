"""The held-out checks of `scsim validate-model` under each parameter set of the uncertainty ensemble.

`validate-model` reads every check at the scenario's point values. This asks whether a verdict
holds over what is not known: for each of the 30 sets of experiments/parameter_sets.yaml (a
calibrated no-plan point and a draw of every lever-effect range), each held-out check's estimate
with R replications (the same seeds in every set), then per check the 5th, 50th and 95th
percentile of the estimates over the sets and how many sets put the estimate inside the published
range. A fail at the point that most sets share is a disagreement of the model's structure, not of
one effect size; one that few sets share is a matter of where in its ranges the point sits.

    python experiments/validation_over_ensemble.py                 # every file, 20 replications a set
    python experiments/validation_over_ensemble.py --reps 10 experiments/validation/promotion_return.yaml

With R replications each set's estimate carries replication noise as well (about sqrt(100/R) times
the CI half-width validate-model prints at 100), so the spread over sets is an upper bound on what
the parameters alone would give. docs/validation.md quotes the output.
"""

import argparse
import math
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import yaml

from simulation.analysis.validation.command import check_rows
from simulation.analysis.validation.measure import measure
from simulation.analysis.validation.spec import at, load_validation
from simulation.analysis.validation.stats import verdict

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "experiments" / "parameter_sets.yaml"


def estimates(job: tuple[str, int, dict, int]) -> tuple[str, int, dict[str, float]]:
    """The held-out checks' estimates of one experiment file under one parameter set, read as
    validate-model reads them (`check_rows`)."""
    path, j, values, reps = job
    loaded = load_validation(path)
    rows = check_rows(loaded, measure(at(loaded, values), reps, 0, lambda n: None), reps, 0)
    return path, j, {r["check"]: float(r["estimate"]) for r in rows if r["role"] == "held_out"}


def inside(x: float, low: float | None, high: float | None) -> bool:
    """The estimate lies in the published range: validate-model's pass rule for a point (its own CI)."""
    return verdict(x, x, x, low, high, "overlap") == "pass"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="validation experiment files (default: every file with a held-out check)")
    ap.add_argument("--reps", type=int, default=20, help="replications per set and arm (default 20)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    files = args.files or sorted(str(p) for p in (ROOT / "experiments" / "validation").glob("*.yaml"))
    sets = yaml.safe_load(SETS.read_text())["sets"]
    checks = {}
    for f in files:
        for c in load_validation(f).spec.checks:
            if c.role == "held_out":
                checks[c.name] = c
    jobs = [(f, j, s, args.reps) for f in files for j, s in enumerate(sets)]
    found: dict[str, list[float]] = {name: [math.nan] * len(sets) for name in checks}
    with Pool(args.workers) as pool:
        for _path, j, out in pool.imap_unordered(estimates, jobs):
            for name, x in out.items():
                found[name][j] = x
    print(f"{len(sets)} parameter sets x {args.reps} replications a set and arm (seeds as validate-model's)")
    print(f"{'check':<32} {'5 %':>9} {'median':>9} {'95 %':>9}   published      sets inside")
    for name, c in checks.items():
        x = np.array(found[name])
        p5, p50, p95 = np.nanpercentile(x, [5, 50, 95])
        lo = "" if c.published.low is None else f"{c.published.low:g}"
        hi = "" if c.published.high is None else f"{c.published.high:g}"
        n_in = sum(inside(v, c.published.low, c.published.high) for v in x)
        print(f"{name:<32} {p5:9.3g} {p50:9.3g} {p95:9.3g}   {lo:>5} to {hi:<5}  {n_in:3d} of {len(x)}")


if __name__ == "__main__":
    main()

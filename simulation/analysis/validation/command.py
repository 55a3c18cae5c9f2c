"""`scsim validate-model`: run the validation experiments and compare each estimate with the evidence.

Results go into one folder (checks, estimates and per-replication quantities as Parquet and CSV,
plus manifest.json), written whole or not at all and never over an existing folder without
--force; re-running the same command with the default folder shows the finished results again.
"""

from __future__ import annotations

import hashlib
import json
import math
import shlex
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.stats import t_half_width
from simulation.analysis.validation.measure import Outcome, measure, runs_needed
from simulation.analysis.validation.spec import Loaded, at, load_validation
from simulation.analysis.validation.stats import LEVEL, verdict
from simulation.experiment.executors import default_workers
from simulation.experiment.runner import in_processes
from simulation.scenario.errors import InputError
from simulation.scenario.shipped import shipped_dir

DEFAULT_DIR = "experiments/validation"
FORMAT = 1


def experiment_files(paths: Sequence[str]) -> list[str]:
    """The files given, or every *.yaml in experiments/validation/ (from here, else the shipped ones)."""
    if paths:
        return list(paths)
    folder = Path(DEFAULT_DIR)
    shipped = shipped_dir("experiments")
    if not folder.is_dir() and shipped is not None and (shipped / "validation").is_dir():
        folder = shipped / "validation"
    files = sorted(str(p) for p in folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise InputError(
            "no validation experiments found (expected *.yaml files); name the files, or run from the project folder",
            DEFAULT_DIR,
        )
    return files


def _key(loaded: list[Loaded], reps: int | None, seed: int | None, over: dict | None = None) -> str:
    payload: dict[str, object] = {
        "kind": "validate-model",
        "experiments": [x.hash for x in loaded],
        "reps": reps,
        "seed": seed,
    }
    if over is not None:  # the key of a run without parameter sets is unchanged
        payload["parameter_sets"] = over
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _finished(out: Path, key: str) -> bool:
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("key") == key and (out / "checks.csv").is_file()


def check_rows(loaded: Loaded, outcome: Outcome, reps: int, seed: int) -> list[dict]:
    """One row per check of an experiment: the simulated estimate and CI, the published range, the verdict."""
    rows = []
    for c in loaded.spec.checks:
        arm = c.arm if c.estimate != "marginal_decline" else None
        est = outcome.lookup(loaded.spec.name, c.estimate, arm, c.year)
        rows.append(
            {
                "check": c.name,
                "role": c.role,
                "experiment": loaded.spec.name,
                "file": loaded.file,
                "estimate_of": c.estimate,
                "arm": est["arm"],
                "year": c.year,
                "metric": c.metric,
                "unit": c.unit,
                "estimate": est["estimate"],
                "ci_low": est["ci_low"],
                "ci_high": est["ci_high"],
                "published_low": c.published.low,
                "published_high": c.published.high,
                "published_point": c.published.point,
                "rule": c.rule,
                "verdict": verdict(
                    est["estimate"], est["ci_low"], est["ci_high"], c.published.low, c.published.high, c.rule
                ),
                "source": c.source,
                "note": c.note,
                "replications": reps,
                "seed": seed,
            }
        )
    return rows


def _measure_one(job: tuple[Loaded, int, int]) -> Outcome:
    x, reps, seed = job
    return measure(x, reps, seed, lambda n: None)


def _measure_all(plan: list[tuple[Loaded, int, int]], workers: int, tick) -> list[Outcome]:
    """Every experiment's runs and estimates, in plan order, the experiments in parallel processes
    (largest first): the same results with any number of workers (each experiment's seeds are its own)."""
    if workers <= 1:
        return [measure(x, r, s, tick) for x, r, s in plan]
    found = []
    runs = in_processes(_measure_one, plan, workers, cost=_size, warm=plan[0][0].control)
    for (x, r, _), outcome in zip(plan, runs, strict=True):
        found.append(outcome)
        tick(runs_needed(x, r))
    return found


def _size(job: tuple[Loaded, int, int]) -> float:
    return runs_needed(job[0], job[1])


def estimates_under(plan: list[tuple[Loaded, int, int]], values: dict) -> dict[str, tuple[float, float]]:
    """Every check's estimate and its standard error (the CI's half-width over its t quantile) with
    the scenario values of one parameter set in the control and every arm, read as the point's checks
    are (`check_rows`): a worker's task for `--parameter-sets`."""
    found: dict[str, tuple[float, float]] = {}
    for x, reps, seed in plan:
        moved = at(x, values)
        for row in check_rows(moved, measure(moved, reps, seed, lambda n: None), reps, seed):
            half = (float(row["ci_high"]) - float(row["ci_low"])) / 2.0
            se = half / (t_half_width(1.0, reps, LEVEL) * math.sqrt(reps)) if reps > 1 else math.nan
            found[row["check"]] = (float(row["estimate"]), se)
    return found


def net_of_noise(x: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, float]:
    """The sets' estimates pulled toward their mean so that their spread keeps only the part that is
    not replication noise. Each set's estimate is its parameters' effect plus noise of variance se²,
    so the parameters' variance is τ² = the spread's variance less the mean se² (the between-set
    part `compare` puts in its intervals). A set's deviation from the mean is scaled by
    √(τ² / (τ² + se²)), which leaves its expected square τ²: a set measured without noise (an exact
    zero: cover nobody buys) stays where it is, a noisy one moves in. Returns the pulled estimates
    and the share of the spread's variance that replication noise alone gives."""
    total = float(x.var(ddof=1)) if x.size > 1 else 0.0
    noise = float(np.mean(se**2)) if se.size and np.isfinite(se).all() else math.nan
    if not math.isfinite(noise):
        return x, math.nan
    if total <= 0.0:
        return x, math.nan if noise == 0.0 else math.inf
    tau2 = max(0.0, total - noise)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(se > 0.0, np.sqrt(tau2 / (tau2 + se**2)), 1.0)
    return x.mean() + scale * (x - x.mean()), noise / total


def over_sets(
    plan: list[tuple[Loaded, int, int]], sets: list[dict], workers: int, tick
) -> list[dict[str, tuple[float, float]]]:
    """The checks' estimates and standard errors under each parameter set, in set order, the sets in parallel processes:
    the same with any number of workers (each set's runs use the same seeds)."""
    step = sum(runs_needed(x, r) for x, r, _ in plan)
    found: list[dict[str, tuple[float, float]]] = []
    for estimates in in_processes(partial(estimates_under, plan), sets, workers, warm=plan[0][0].control):
        found.append(estimates)
        tick(step)
    return found


def summarise_over_sets(rows: list[dict], found: list[dict[str, tuple[float, float]]]) -> None:
    """Add to each check row the spread of its estimate over the parameter sets (5th, 50th, 95th
    percentile), how many sets put it inside the published range, and the verdict over the sets:
    the point's rule with the median as the estimate and the 5-95 % spread as its interval. A set
    has fewer replications than the point, so its estimate carries more noise; the spread is read
    net of it (`net_of_noise`), so that an estimate the parameters do not move is not inconclusive
    for want of replications, and widened on each side by 1.96 standard errors of the sets' mean
    (replication noise over the sets), so that few sets or replications cannot make a fail.
    `sets_noise_share` says how much of the raw spread's variance was replication noise."""
    for row in rows:
        pairs = [f.get(row["check"], (math.nan, math.nan)) for f in found]
        x = np.array([p[0] for p in pairs], dtype=float)
        se = np.array([p[1] for p in pairs], dtype=float)
        keep = np.isfinite(x)
        ok, share = net_of_noise(x[keep], se[keep])
        p5, p50, p95 = np.percentile(ok, [5, 50, 95]) if ok.size else (math.nan,) * 3
        if math.isfinite(share) and ok.size:  # the mean the sets were pulled to is itself noisy
            centre = 1.96 * math.sqrt(float(np.mean(se[keep] ** 2)) / ok.size)
            p5, p95 = p5 - centre, p95 + centre
        low, high = row["published_low"], row["published_high"]
        row.update(
            sets=len(found),
            sets_p5=float(p5),
            sets_median=float(p50),
            sets_p95=float(p95),
            sets_inside=int(sum(verdict(v, v, v, low, high, "overlap") == "pass" for v in ok)),
            sets_verdict=verdict(float(p50), float(p5), float(p95), low, high, row["rule"]),
            sets_noise_share=share,
        )


def noise_measured(checks: pd.DataFrame) -> bool:
    """Whether the sets measured their replication noise, so that the spread over them is read net
    of it (not with one replication a set, nor in a folder written before it was)."""
    return "sets_noise_share" in checks and bool(checks["sets_noise_share"].notna().any())


def given(x) -> bool:
    """Whether a number of a check is there: not None and not NaN (a bound a study does not give)."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def number_text(x) -> str:
    if not given(x):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.3g}"  # 3 figures: 7.96 is not shown as 8.0 next to a bound of 8


def range_text(low, high, point) -> str:
    if not given(low):
        text = f"< {number_text(high)}" if given(high) else "?"
    elif not given(high):
        text = f"> {number_text(low)}"
    else:
        text = f"{number_text(low)} to {number_text(high)}"
    if given(point):
        text += f" ({number_text(point)})"
    return text


ROLES = {
    "held_out": "Held-out checks (kept out of every fit: these test the model)",
    "fitted": "Fitted checks (calibration targets of experiments/calibration.yaml `effects:`: a pass is "
    "by construction, not validation)",
}


def format_checks(checks: pd.DataFrame) -> str:
    """The verdict tables, held-out checks apart from fitted ones: for each check the simulated
    estimate and 95 % CI next to the published range."""
    if "role" not in checks:  # results written before checks had roles
        checks = checks.assign(role="held_out")
    lines: list[str] = []
    for role, title in ROLES.items():
        part = checks[checks["role"] == role]
        if part.empty:
            continue
        if lines:
            lines.append("")
        lines += [title + ":", _check_table(part)]
        if "sets_verdict" in part and part["sets_verdict"].notna().any():
            lines += ["", _sets_table(part)]
    return "\n".join(lines)


def _sets_table(checks: pd.DataFrame) -> str:
    """The same checks over the parameter sets: what the verdict is when what is not known is let vary."""
    n = int(checks["sets"].iloc[0])
    reps = int(checks["set_replications"].iloc[0])
    lines = [
        f"  over the {n} parameter sets ({reps} replications a set and arm, the point's seeds):",
        f"  {'check':<32} {'5 %':>9} {'median':>9} {'95 %':>9}   {'published':<20} {'inside':>8}  verdict",
    ]
    for _, r in checks.iterrows():
        pub = range_text(r["published_low"], r["published_high"], r["published_point"])
        inside = f"{int(r['sets_inside'])} of {n}"
        lines.append(
            f"  {r['check']:<32} {number_text(r['sets_p5']):>9} {number_text(r['sets_median']):>9} {number_text(r['sets_p95']):>9}   "
            f"{pub:<20} {inside:>8}  {str(r['sets_verdict']).upper()}"
        )
        if isinstance(r.get("sets_reason"), str):
            lines.append(f"    {r['sets_reason']}")
    counts = checks["sets_verdict"].value_counts()
    lines.append(
        f"  {counts.get('pass', 0)} pass, {counts.get('fail', 0)} fail, {counts.get('inconclusive', 0)} inconclusive "
        "over the sets"
        + (" (the spread net of the replication noise each set measures)" if noise_measured(checks) else "")
        + ": pass when the median lies in the range (overlap) or the whole 5-95 % spread does (inside); "
        "fail when the spread and the range are disjoint: hardly any set the evidence allows agrees."
        + (
            " Under each check: what its spread rests on (the parameters whose rank correlation with it over the "
            "sets is beyond what chance gives, and how much of it replication noise alone gives; "
            "`scsim analyze FOLDER` lists every parameter)."
            if "sets_reason" in checks
            else ""
        )
    )
    return "\n".join(lines)


def _check_table(checks: pd.DataFrame) -> str:
    lines = [f"{'check':<32} {'simulated':>10} {'95 % CI':>20}   {'published':<20} {'rule':<8} verdict"]
    for _, r in checks.iterrows():
        ci = f"[{number_text(r['ci_low'])}, {number_text(r['ci_high'])}]"
        pub = range_text(r["published_low"], r["published_high"], r["published_point"])
        lines.append(
            f"{r['check']:<32} {number_text(r['estimate']):>10} {ci:>20}   {pub:<20} {r['rule']:<8} {r['verdict'].upper()}"
        )
        lines.append(f"    {r['metric']} ({r['unit']}); {r['source']}")
    counts = checks["verdict"].value_counts()
    lines.append(
        f"{counts.get('pass', 0)} pass, {counts.get('fail', 0)} fail, "
        f"{counts.get('inconclusive', 0)} inconclusive. pass: the estimate lies in the published range "
        "(overlap) or its whole CI does (inside); fail: CI and range are disjoint; inconclusive: neither."
    )
    return "\n".join(lines)


def format_estimates(estimates: pd.DataFrame) -> str:
    """Everything else measured, for reading the checks in context (doses, arms, years)."""
    lines = []
    for exp, g in estimates.groupby("experiment", sort=False):
        lines.append(f"{exp}:")
        for _, r in g.iterrows():
            year = "" if pd.isna(r["year"]) else f" year {int(r['year']):+d} ({int(r['calendar_year'])})"
            lines.append(
                f"  {r['quantity']:<28} {str(r['arm'])[:34]:<34}{year:<18} {number_text(r['estimate']):>9} "
                f"[{number_text(r['ci_low'])}, {number_text(r['ci_high'])}] {r['unit']}"
            )
    return "\n".join(lines)


def validate_model(
    paths: Sequence[str],
    reps: int | None,
    seed: int | None,
    out: str | None,
    force: bool,
    quiet: bool,
    strict: bool,
    argv: Sequence[str],
    max_runs: int | None = None,
    parameter_sets: str | None = None,
    set_reps: int = 20,
    workers: int | None = None,
    report: bool = True,
) -> int:
    from simulation.experiment.outputs import check_target, git_commit, versions, write_results

    if reps is not None and reps < 2:
        raise InputError(f"--reps must be at least 2 for confidence intervals, got {reps}")
    if set_reps < 1:
        raise InputError(f"--set-reps must be at least 1, got {set_reps}")
    if seed is not None and seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {seed}")
    loaded = [load_validation(p) for p in experiment_files(paths)]  # every file checked before any run
    names = [x.spec.name for x in loaded]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two validation experiments are both named {dup[0]!r}")
    from simulation.experiment.size import check_runs

    psets = None
    if parameter_sets is not None:
        from simulation.experiment.parameter_sets import load_parameter_sets

        psets = load_parameter_sets(parameter_sets)
        psets.apply([x.control for x in loaded])  # a key the scenarios lack stops here, before any run
    set_runs = sum(runs_needed(x, set_reps) for x in loaded) * (len(psets.sets) if psets else 0)
    n_runs = sum(runs_needed(x, reps or x.spec.replications) for x in loaded)
    check_runs(
        n_runs + set_runs,
        f"{len(loaded)} validation experiment{'s' if len(loaded) != 1 else ''} (arms × replications"
        + (f", and {len(psets.sets)} parameter sets × {set_reps})" if psets else ")"),
        max_runs,
    )
    over = {"hash": psets.hash, "replications": set_reps} if psets else None
    key = _key(loaded, reps, seed, over)
    folder = Path(out) if out else Path("results") / f"validation-{key[:10]}"
    if out is None and not force and _finished(folder, key):
        print(f"results for these experiments and seeds already exist in {folder} (use --force to recompute)")
        from simulation.analysis.drivers import with_reasons

        table = with_reasons(folder, pd.read_csv(folder / "checks.csv"))
        print(format_checks(table))
        return _status(table, strict)
    check_target(folder, force)

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    plan = [(x, reps or x.spec.replications, x.spec.seed if seed is None else seed) for x in loaded]
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=n_runs + set_runs, unit="run", desc="validation runs", leave=False)
    runs: list[dict] = []
    estimates: list[dict] = []
    checks: list[dict] = []
    described: list[dict] = []
    n_workers = workers or default_workers()
    tick = bar.update if bar is not None else (lambda k: None)
    for (x, r, s), outcome in zip(plan, _measure_all(plan, n_workers, tick), strict=True):
        runs += outcome.runs
        estimates += outcome.estimates
        checks += check_rows(x, outcome, r, s)
        described.append(_describe(x, r, s, outcome.seeds))
    tables = {"estimates": pd.DataFrame(estimates), "runs": pd.DataFrame(runs)}
    if psets is not None:
        each = [(x, set_reps, s) for x, _, s in plan]
        found = over_sets(each, psets.sets, n_workers, tick)
        summarise_over_sets(checks, found)
        for row in checks:
            row["set_replications"] = set_reps
        tables["over_sets"] = pd.DataFrame(
            [{"set": k, "check": c, "estimate": v, "se": e} for k, f in enumerate(found) for c, (v, e) in f.items()]
        )
        from simulation.analysis.drivers import check_drivers, verdict_reasons

        tables["drivers"] = check_drivers(tables["over_sets"], psets.sets)
        reasons = verdict_reasons(pd.DataFrame(checks), tables["over_sets"], tables["drivers"])
        for row in checks:
            row["sets_reason"] = reasons[row["check"]]
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    tables = {"checks": pd.DataFrame(checks), **tables}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "kind": "validate-model",
        "key": key,
        "command": "scsim " + " ".join(shlex.quote(a) for a in argv),
        "started": started,
        "seconds": round(seconds, 3),
        "seed_rule": "replication i uses the i-th seed spawned from numpy SeedSequence(seed), the same seed in "
        "the control and every treated arm (common random numbers)",
        "ci": "95 % delta-method t-interval over replications of a ratio of sums (or a difference of two): "
        "estimate ± t(n-1)·sd(linearised deviations)/√n; the paired t-interval when the denominator is constant",
        "verdicts": "pass: the estimate lies in the published range (rule overlap) or its whole CI does (rule "
        "inside); fail: CI and range are disjoint; inconclusive: otherwise",
        "git_commit": git_commit(),
        "versions": versions(),
        "experiments": described,
        "tables": {
            "checks": "one row per check: simulated estimate and 95 % CI, the published range and source, verdict"
            + ("; over the parameter sets: 5th/50th/95th percentile, sets inside the range, verdict" if psets else ""),
            "estimates": "every quantity measured (per dose, arm or year) with its 95 % CI",
            "runs": "tidy per replication: experiment, arm, run, seed, quantity, value",
        },
    }
    if psets is not None:
        manifest["parameter_sets"] = {
            "file": psets.file,
            "hash": psets.hash,
            "sets": len(psets.sets),
            "values": psets.sets,
        }
        manifest["set_replications"] = set_reps
        manifest["tables"]["over_sets"] = (
            "each check's estimate under each parameter set and its standard error from the set's replications "
            "(set, check, estimate, se)"
        )
        manifest["tables"]["drivers"] = (
            "each check and each parameter that varies over the sets: Spearman rho of the parameter with the "
            "check's estimate over the sets, rho squared, the sets and parameters screened"
        )
    write_results(folder, tables, manifest, force)
    print(format_checks(tables["checks"]))
    print()
    print(format_estimates(tables["estimates"]))
    if report:
        _write_report(folder)
    print(
        f"{n_runs + set_runs} runs in {seconds:.1f} s; results in {folder}/ (checks, estimates, runs as .csv/.parquet; "
        "manifest.json)"
    )
    return _status(tables["checks"], strict)


def _write_report(folder: Path) -> None:
    """report.html in the results folder (the results are whole on disk already: a report that cannot
    be written is said, and `scsim report FOLDER` can write it later)."""
    import sys

    from simulation.present.report import default_path
    from simulation.present.validation_report import write_validation_report

    try:
        page, _, _ = write_validation_report(folder, default_path(folder), force=True)
    except (InputError, OSError) as exc:
        msg = getattr(exc, "message", None) or exc
        print(f"error: the report could not be written ({msg}); try `scsim report {folder}`", file=sys.stderr)
        return
    print(f"report: {page} (open it in a browser)")


def _status(checks: pd.DataFrame, strict: bool) -> int:
    """1 under --strict when a check fails at the point (or, with parameter sets, over them)."""
    failed = (checks["verdict"] == "fail").any()
    if "sets_verdict" in checks:
        failed = failed or (checks["sets_verdict"] == "fail").any()
    return 1 if strict and failed else 0


def _describe(x: Loaded, reps: int, seed: int, seeds: list[int]) -> dict:
    return {
        "name": x.spec.name,
        "file": x.file,
        "kind": x.spec.kind,
        "hash": x.hash,
        "description": x.spec.description,
        "replications": reps,
        "seed": seed,
        "seeds": seeds,
        "control": {"name": x.control.scenario.name, "files": x.control.files, "hash": x.control.hash},
        "arms": [{"name": n, "hash": r.hash} for n, r in x.arms],
        "spec": x.raw,
    }

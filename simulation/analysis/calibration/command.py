"""`scsim calibrate CALIBRATION.yaml`: fit, report, write back."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc

from simulation.analysis.calibration.effects import fit_effect, report_lines, target_of
from simulation.analysis.calibration.fit import Evaluation, Identification, Problem, identify, plausible_sets, search
from simulation.analysis.calibration.moments import MOMENTS
from simulation.analysis.calibration.spec import LoadedCalibration, load_calibration, scenario_value
from simulation.analysis.calibration.writeback import plan_write_back, write_back
from simulation.experiment.outputs import check_target, git_commit, versions, write_results
from simulation.io import atomic_write
from simulation.scenario.errors import InputError


def effect_ranges(loaded: LoadedCalibration, fits: list | None = None) -> dict[str, tuple[float, float]]:
    """The lever-effect parameters of the base scenario: every number with an evidence `range:` that the
    moment fit does not fit (those come from the fit's region instead). A lever effect fitted to a
    published effect (`effects:`) carries the range of values consistent with it."""
    fitted = {p.key for p in loaded.spec.parameters}
    out = {}
    for path, prov in loaded.base.prov.items():
        key = ".".join(map(str, path))
        if prov.range is not None and key not in fitted:
            out[key] = prov.range
    for f in fits or []:  # this run's fit of a lever effect replaces the range the file states
        out[f.effect.key] = f.consistent
    return dict(sorted(out.items()))


def ensemble(
    loaded: LoadedCalibration, chosen: list[Evaluation], n: int, seed: int, fits: list | None = None
) -> list[dict[str, float]]:
    """n parameter sets: the fit's plausible points (cycled when fewer than n) each with a Latin-hypercube
    draw of every lever-effect parameter over its evidence range, so that `compare --parameter-sets`
    intervals include what is not known about effect sizes as well as the calibration's spread."""
    return effect_draws([e.values for e in chosen], effect_ranges(loaded, fits), n, seed)


def effect_draws(
    points: list[dict[str, float]], ranges: dict[str, tuple[float, float]], n: int, seed: int
) -> list[dict[str, float]]:
    """n sets: the points cycled, each with one Latin-hypercube draw of every parameter in `ranges`
    (6 significant digits). The ensemble's sets, and the fresh draws of a history match
    (experiments/korean_share_ensemble.py), come from here."""
    keys = list(ranges)
    draws = qmc.LatinHypercube(d=max(1, len(keys)), seed=seed).random(n)
    sets = []
    for j in range(n):
        values = {k: float(v) for k, v in points[j % len(points)].items()}
        for k, u in zip(keys, draws[j], strict=False):
            lo, hi = ranges[k]
            values[k] = float(f"{lo + float(u) * (hi - lo):.6g}")
        sets.append(values)
    return sets


def _sets_yaml(
    loaded: LoadedCalibration, chosen: list[Evaluation], rule: str, today: str, out: Path, fits: list
) -> str:
    n = loaded.spec.search.parameter_sets
    ranges = effect_ranges(loaded, fits)
    header = (
        f"# The uncertainty ensemble: {n} parameter sets. Each takes one point of the calibration's 95 % region\n"
        f"# ({rule}; the hypercube's points inside it are a sample of it under the search box's uniform\n"
        f"# prior; cycled when fewer than the sets) and one\n"
        f"# Latin-hypercube draw of the {len(ranges)} lever-effect parameters over the evidence ranges stated\n"
        f"# in {loaded.scenario_file} (`range:`). Written by `scsim calibrate {loaded.file}` on {today};\n"
        f"# fit report in {out}. `scsim compare --parameter-sets THIS_FILE` re-runs the comparison under\n"
        f"# each, so its intervals include effect-size and calibration uncertainty, not only replication noise.\n"
    )
    body = {
        "calibration": loaded.spec.name,
        "date": today,
        "rule": rule,
        "effect_ranges": {k: [float(lo), float(hi)] for k, (lo, hi) in ranges.items()},
        "sets": ensemble(loaded, chosen, n, loaded.spec.search.seed, fits),
    }
    return header + yaml.safe_dump(body, sort_keys=False)


def fit_effects(loaded: LoadedCalibration, base_values: dict[str, float]) -> list:
    """Fit every lever effect, each at the moment fit's values and at the values already fitted for
    the others (Gauss-Seidel), in `search.effect_passes` rounds: fitted one by one at the scenario's
    old values, the twins disagreed once the others moved (the F6 twin follows SMEs whose
    relationships the T1 visit boost changes). The fits of the last round are returned."""
    spec = loaded.spec
    values = dict(base_values)
    fits: list = []
    for p in range(spec.search.effect_passes if spec.effects else 0):
        fits = []
        for k, e in enumerate(spec.effects):
            print(
                f"fitting the lever effect {e.key} to {e.check} ({e.experiment}), {e.points} points"
                f" (round {p + 1} of {spec.search.effect_passes})",
                flush=True,
            )
            fit = fit_effect(loaded, k, values)
            values[e.key] = fit.value
            fits.append(fit)
    return fits


def _report(
    loaded: LoadedCalibration,
    best: Evaluation,
    start: Evaluation,
    ident: Identification,
    problem: Problem,
    rule: str,
    n_sets: int,
) -> str:
    spec = loaded.spec
    lines = [
        f"# Calibration fit: {spec.name}",
        "",
        f"SMM on `{loaded.scenario_file}`, years {spec.years[0]}-{spec.years[1]}, {spec.replications} "
        f"replications at every point (common random numbers, master seed {spec.seed}); "
        f"{len(problem.evaluations)} points evaluated (Latin hypercube {spec.search.lhs_points}, "
        f"Nelder-Mead up to {spec.search.local_evaluations}, then the identification steps). "
        f"Objective: sum of weight x ((model - target) / half-width of the published range)^2; "
        f"start {start.objective:.3f}, best {best.objective:.3f}.",
        "",
        "## Moments",
        "",
        "| moment | target | range | before | after | in range | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in spec.targets:
        a = best.moments[t.moment]
        lines.append(
            f"| {t.moment} | {t.value:.4g} | {t.low:.4g}-{t.high:.4g} | {start.moments[t.moment]:.4g} | "
            f"{a:.4g} | {'yes' if t.low <= a <= t.high else 'NO'} | {t.source} |"
        )
    untargeted = [m for m in MOMENTS if m not in {t.moment for t in spec.targets}]
    for m in untargeted:
        lines.append(f"| {m} (not targeted) | | | {start.moments[m]:.4g} | {best.moments[m]:.4g} | | {MOMENTS[m][0]} |")
    lines += [
        "",
        "## Parameters",
        "",
        "| parameter | search range | before | after | local s.e. | s.e. / range | s.e. / range if the others were known | identification |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for j, p in enumerate(spec.parameters):
        lines.append(
            f"| {p.key} | {p.low:.4g}-{p.high:.4g}{' (log)' if p.log else ''} | {start.values[p.key]:.4g} | "
            f"{best.values[p.key]:.4g} | {ident.sd_value[j]:.3g} | {ident.sd_unit[j]:.2f} | "
            f"{ident.sd_alone[j]:.2f} | {ident.labels[j]} |"
        )
    weak = ", ".join(f"{v:+.2f} {k}" for k, v in ident.weakest.items() if abs(v) > 0.2)
    lines += [
        "",
        f"Least identified combination (smallest eigenvector of J'J, condition number "
        f"{ident.condition:.3g}): {weak}. Moving the parameters together along it changes the "
        f"targeted moments least.",
        "",
        "s.e. is local: the curvature of the objective at the optimum, in parameter units and as a share of "
        "the search range (< 0.1 well identified, < 0.3 weakly, otherwise not identified by these moments), "
        "with one published half-width of a moment counted as one standard error. The column beside it is "
        "the same when all other parameters are held at their fitted values: a parameter that is pinned "
        "down alone but not jointly trades off against another (see the combination above).",
        "",
    ]
    if spec.checks:
        lines += [
            "## Set directly (not fitted)",
            "",
            "| parameter | value | published range | in range | source |",
            "|---|---|---|---|---|",
        ]
        for c in spec.checks:
            v = scenario_value(loaded.base, c.key)
            ok = c.low <= v <= c.high
            lines.append(f"| {c.key} | {v:.4g} | {c.low:.4g}-{c.high:.4g} | {'yes' if ok else 'NO'} | {c.source} |")
        lines.append("")
    lines += [
        "## Parameter sets for the headline intervals",
        "",
        f"{n_sets} sets: the hypercube's points inside the fit's 95 % region ({rule}), a sample of it "
        f"under the search box's uniform prior; see parameter_sets.yaml. `scsim compare --parameter-sets` re-runs a "
        f"comparison under each, so that its intervals include parameter uncertainty.",
        "",
    ]
    return "\n".join(lines)


def cmd_calibrate(args: argparse.Namespace, loaded: LoadedCalibration | None = None) -> int:
    """`scsim calibrate`; `loaded` is the calibration file when the caller has read it already."""
    loaded = loaded or load_calibration(args.calibration)
    if getattr(args, "apply", None):
        if args.dry_run:
            raise InputError("--apply writes the fit into the scenario and --dry-run leaves it alone: give one")
        sets = Path(args.parameter_sets) if args.parameter_sets else None
        if sets is not None and sets.exists() and not args.force:
            raise InputError("exists; use --force to replace it", str(sets))
        written = Path(args.apply) / "parameter_sets.yaml"  # the ensemble the same fit wrote beside its report
        if sets is not None and not written.is_file():
            raise InputError("holds no parameter_sets.yaml to copy to --parameter-sets", str(args.apply))
        code = apply_fit(loaded, Path(args.apply))
        if sets is not None:
            atomic_write(sets, written.read_bytes())
            print(f"parameter sets: {sets} (from {args.apply})")
        return code
    spec = loaded.spec
    from simulation.experiment.size import check_runs

    points = spec.search.lhs_points + spec.search.local_evaluations + 1
    check_runs(
        points * spec.replications,
        f"a search of up to {points:,} points × {spec.replications:,} replications",
        getattr(args, "max_runs", None),
        file=loaded.file,
        line=loaded.line(("search",)),
        key="search",
    )
    today = dt.date.today().isoformat()
    out = Path(args.out) if args.out else Path("results") / f"calibration-{spec.name}-{loaded.hash[:10]}"
    check_target(out, args.force)
    sets_file = Path(args.parameter_sets) if args.parameter_sets else None
    if sets_file is not None and sets_file.exists() and not args.force:
        raise InputError("exists; use --force to replace it", str(sets_file))

    def show(ev: Evaluation) -> None:
        if not args.quiet:
            print(
                f"  {len(problem.evaluations):4d} {ev.stage:8s} objective {ev.objective:10.4f}  "
                + " ".join(f"{k.split('.')[-1]}={v:.4g}" for k, v in ev.values.items()),
                file=sys.stderr,
                flush=True,
            )

    targets = (
        []
        if args.dry_run
        else plan_write_back(loaded.base, [p.key for p in spec.parameters] + [e.key for e in spec.effects])
    )
    problem = Problem(loaded, on_eval=show)
    print(
        f"calibrating {len(spec.parameters)} parameters of {loaded.scenario_file} to {len(spec.targets)} moments "
        f"({spec.replications} replications a point)"
    )
    best = search(problem)
    start = next(e for e in problem.evaluations if e.stage == "start")
    ident = identify(problem, best)
    chosen, rule = plausible_sets(problem, best, spec.search.parameter_sets)
    fits = fit_effects(loaded, best.values)
    report = _report(loaded, best, start, ident, problem, rule, len(chosen)) + "\n".join(report_lines(fits))

    evals = pd.DataFrame(
        [
            {
                "point": i,
                "stage": e.stage,
                "objective": e.objective,
                "inside": e.inside,
                **{f"param:{k}": v for k, v in e.values.items()},
                **{f"moment:{k}": v for k, v in e.moments.items()},
            }
            for i, e in enumerate(problem.evaluations)
        ]
    )
    fit = pd.DataFrame(
        [
            {
                "parameter": p.key,
                "low": p.low,
                "high": p.high,
                "before": start.values[p.key],
                "after": best.values[p.key],
                "se": ident.sd_value[j],
                "se_share_of_range": ident.sd_unit[j],
                "se_share_of_range_alone": ident.sd_alone[j],
                "identification": ident.labels[j],
                "sensitivity": ident.sensitivity[j],
            }
            for j, p in enumerate(spec.parameters)
        ]
    )
    moments = pd.DataFrame(
        [
            {
                "moment": t.moment,
                "target": t.value,
                "low": t.low,
                "high": t.high,
                "before": start.moments[t.moment],
                "after": best.moments[t.moment],
                "in_range": t.low <= best.moments[t.moment] <= t.high,
                "source": t.source,
            }
            for t in spec.targets
        ]
    )
    manifest = {
        "kind": "calibration",
        "format": 1,
        "calibration": loaded.raw,
        "file": loaded.file,
        "scenario": loaded.scenario_file,
        "hash": loaded.hash,
        "date": today,
        "best": {"values": best.values, "moments": best.moments, "objective": best.objective},
        "identification": {
            "condition": ident.condition,
            "weakest": ident.weakest,
            "jacobian": np.asarray(ident.jacobian).tolist(),
        },
        "parameter_sets": {"rule": rule, "sets": [e.values for e in chosen]},
        "effects": [
            {
                "key": f.effect.key,
                "value": f.value,
                "consistent": list(f.consistent),
                "check": f.effect.check,
                "experiment": f.effect.experiment,
                "grid": f.grid,
            }
            for f in fits
        ],
        "write_back": not args.dry_run,
        "versions": versions(),
        "git_commit": git_commit(),
        "command": "scsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    }
    write_results(out, {"evaluations": evals, "fit": fit, "moments": moments}, manifest, args.force)
    (out / "fit.md").write_text(report + "\n", encoding="utf-8")
    sets_text = _sets_yaml(loaded, chosen, rule, today, out, fits)
    (out / "parameter_sets.yaml").write_text(sets_text, encoding="utf-8")
    print(report)
    if sets_file is not None:
        sets_file.write_text(sets_text, encoding="utf-8")
        print(f"parameter sets: {sets_file}")
    if args.dry_run:
        print(f"fit report: {out}/fit.md (dry run: {loaded.scenario_file} unchanged)")
        return 0
    effects = [(f.effect.key, f.value, f.consistent, f.target, f.effect.experiment, f.effect.check) for f in fits]
    _write_fit(loaded, targets, best.values, list(ident.sd_value), ident.labels, effects, out, today)
    print(f"fit report: {out}/fit.md")
    return 0


def _write_fit(
    loaded: LoadedCalibration,
    targets: list,
    best_values: dict[str, float],
    se: list[float],
    labels: list[str],
    effects: list[tuple[str, float, tuple[float, float], float, str, str]],
    out: Path,
    today: str,
) -> None:
    """Write the fitted values back into the scenario, each with provenance `calibrated` and a source
    naming the fit; effects are (key, value, consistent interval, target, experiment, check)."""
    spec = loaded.spec
    sources = {}
    for j, p in enumerate(spec.parameters):
        sources[p.key] = (
            f"calibrated {today} by SMM to {', '.join(t.moment for t in spec.targets)} "
            f"({Path(loaded.file).as_posix()}; local s.e. {se[j]:.2g}, {labels[j]}; "
            f"fit report {out.as_posix()}/fit.md)"
        )
    values = dict(best_values)
    for key, value, _, target, experiment, check in effects:
        values[key] = value
        sources[key] = (
            f"calibrated {today} by indirect inference: the value at which the virtual twin "
            f"{experiment} reproduces {check} (target {target:g}); range: the "
            f"values where its smoothed twin estimate lies inside the published range "
            f"({Path(loaded.file).as_posix()}; fit report {out.as_posix()}/fit.md)"
        )
    ranges = {key: (float(c[0]), float(c[1])) for key, _, c, _, _, _ in effects}
    for t, _, _ in write_back(targets, values, sources, loaded.scenario_file, ranges):
        print(f"wrote {t.key} = {values[t.key]!r} (calibrated {today}) to {t.file}:{t.line}")


def apply_fit(loaded: LoadedCalibration, folder: Path) -> int:
    """`scsim calibrate FILE --apply DIR`: write back the fit a dry run left in DIR, without fitting again
    (a fit takes half an hour; reading its report first, then applying it, is the careful order). The
    folder must come from this calibration file and this scenario, unchanged since."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        fit = pd.read_parquet(folder / "fit.parquet")
    except (OSError, ValueError) as exc:
        raise InputError(f"not a calibration results folder ({exc.__class__.__name__}: {exc})", str(folder)) from None
    if manifest.get("kind") != "calibration":
        raise InputError("not a calibration results folder (its manifest.json is not a calibration's)", str(folder))
    if manifest.get("hash") != loaded.hash:
        raise InputError(
            f"was fitted with another {loaded.file} or {loaded.scenario_file} than the one here now "
            "(it was applied already, or one of them changed): calibrate again",
            str(folder),
        )
    spec = loaded.spec
    keys = [p.key for p in spec.parameters]
    se = dict(zip(fit["parameter"], fit["se"].astype(float), strict=True))
    ident = dict(zip(fit["parameter"], fit["identification"].astype(str), strict=True))
    if sorted(se) != sorted(keys):
        raise InputError("its fitted parameters are not this calibration's", str(folder))
    targets = plan_write_back(loaded.base, keys + [e.key for e in spec.effects])
    index = {e.key: k for k, e in enumerate(spec.effects)}
    effects = []
    for f in manifest.get("effects", []):
        if f["key"] not in index:
            raise InputError(f"its fitted effect {f['key']} is not one of this calibration's", str(folder))
        k = index[f["key"]]
        e, check = spec.effects[k], loaded.effects[k][1]
        effects.append((e.key, float(f["value"]), tuple(f["consistent"]), target_of(check), e.experiment, e.check))
    _write_fit(
        loaded,
        targets,
        {k: float(v) for k, v in manifest["best"]["values"].items()},
        [se[k] for k in keys],
        [ident[k] for k in keys],
        effects,
        folder,
        str(manifest["date"]),
    )
    print(f"applied the fit of {manifest['date']} in {folder} (fit report {folder}/fit.md)")
    return 0

"""The `scsim` command line (also `python -m simulation`)."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from simulation.scenario.errors import InputError

EXIT_BAD_INPUT = 2


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help text is prose: a `%` in it (as in "95 % CI") is a percent sign, not a format directive.

    argparse expands help strings with `%`-formatting, so an unescaped `%` ended `--help` in a
    traceback; every `%` is escaped except argparse's own `%(name)s` fields."""

    def _get_help_string(self, action: argparse.Action) -> str:
        return re.sub(r"%(?!\()", "%%", action.help or "")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        # no abbreviations: `discover --out DIR` used to be taken for --outcome
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one clear line and status 2, like every bad input
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


# the commands as the top-level help lists them, by what a user is doing
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "run and compare": ("run", "compare", "validate", "show"),
    "experiments": ("sweep", "merge", "dataset", "analyze", "calibrate"),
    "planning": ("optimize", "robustness", "discover"),
    "outputs": ("report", "app"),
    "model and docs": ("validate-model", "levers", "docs", "bench", "bench-sweep"),
}


def _command_list(sub: argparse._SubParsersAction) -> str:
    """The grouped list of commands, one line each, from the subcommands' own help strings."""
    helps = {a.dest: a.help for a in sub._choices_actions}
    width = max(map(len, helps)) + 2
    lines = []
    for group, names in COMMAND_GROUPS.items():
        lines.append(f"{group}:")
        lines += [f"  {n:<{width}}{helps[n]}" for n in names]
        lines.append("")
    return "\n".join(lines) + "Run `scsim COMMAND --help` for the options of one command."


def _load_all(paths: Sequence[str], overrides: Sequence[str]):
    """The scenarios (files, or shipped names from any folder) with the `--set` overrides."""
    from simulation.scenario.loader import load_with, parse_override
    from simulation.scenario.shipped import resolve

    pairs = [parse_override(text) for text in overrides]
    loaded = [load_with(resolve(p), pairs, shown=resolve(p)) for p in paths]
    names = [r.scenario.name for r in loaded]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise InputError(f"two scenarios are both named {sorted(dup)[0]!r}; give each a distinct `name:`")
    return loaded


def _print_notes(scenarios) -> list[str]:
    """Say which levers set in these scenarios cannot act there (before any run)."""
    from simulation.scenario.inert import notes

    found = [n for r in scenarios for n in notes(r)]
    for n in found:
        print(f"note: {n}")
    return found


def _notes(r) -> list[str]:
    """`note:` lines of a scenario: accepted, but perhaps not what was meant (a date outside the horizon)."""
    from simulation.scenario.checks import horizon_notes

    out = []
    for path, text in horizon_notes(r):
        file, line = r.where(path)
        out.append(
            f"note: {file}:{line}: {'.'.join(map(str, path))}: {text}"
            if line
            else f"note: {file}: {'.'.join(map(str, path))}: {text}"
        )
    return out


def _check_counts(args: argparse.Namespace, min_reps: int = 1) -> None:
    if args.reps < min_reps:
        why = " for confidence intervals" if min_reps > 1 else ""
        raise InputError(f"--reps must be at least {min_reps}{why}, got {args.reps}")
    if args.seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {args.seed}")


def _check_size(args: argparse.Namespace, n_scenarios: int, n_sets: int = 1) -> None:
    """Refuse, before any run, more runs than the limit or than memory holds (every table is kept until the end)."""
    from simulation.experiment.size import TABLE_BYTES_PER_RUN, check_runs, counted

    what = f"{counted(n_scenarios, 'scenario')} × {counted(args.reps, 'replication')}" + (
        f" × {counted(n_sets, 'parameter set')}" if n_sets > 1 else ""
    )
    check_runs(n_scenarios * args.reps * n_sets, what, args.max_runs, TABLE_BYTES_PER_RUN)


def _finished(out: Path, key: str) -> bool:
    """True when `out` holds complete results of exactly this command (a damaged folder is not reused)."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("key") == key and (out / "summary.csv").is_file()


def _batch(args: argparse.Namespace, kind: str, scenarios, meta_sets=None) -> tuple[Path, bool, dict]:
    """Shared by `run` and `compare`: the results folder, and whether finished results are already there."""
    from simulation.experiment.outputs import check_target
    from simulation.io import folder_path

    key = hashlib.sha256(
        json.dumps(
            {
                "kind": kind,
                "scenarios": [r.hash for r in scenarios],
                "seed": args.seed,
                "reps": args.reps,
                "extra": getattr(args, "baseline", None),
                "parameter_sets": meta_sets.hash if meta_sets else None,
            }
        ).encode()
    ).hexdigest()
    prefix = "" if kind == "run" else f"{kind}-"
    out = (
        folder_path(args.out)
        if args.out
        else Path("results") / (prefix + "-".join(r.scenario.name for r in scenarios)[:80] + f"-{key[:10]}")
    )
    if not args.force and _finished(out, key):  # e.g. killed in its report step: finish what is missing
        return out, True, {"key": key}
    check_target(out, args.force)
    return out, False, {"key": key}


def _manifest(
    args: argparse.Namespace, key: str, started: str, batch, scenarios, tables: dict, notes: Sequence[str] = ()
) -> dict:
    from simulation.experiment.outputs import git_commit, versions

    return {
        "format": 1,  # simulation.present.figures.data.RUN_FORMAT: what `scsim report` reads
        "key": key,
        "command": "scsim " + " ".join(shlex.quote(a) for a in args.argv),
        "started": started,
        "seconds": round(batch.seconds, 3),
        "seeds": batch.seeds,
        "seed_rule": f"replication i uses the i-th seed spawned from numpy SeedSequence({args.seed})",
        "replications": args.reps,
        "overrides": list(getattr(args, "set", None) or []),
        "notes": list(notes),
        "git_commit": git_commit(),
        "versions": versions(),
        "scenarios": [
            {
                "name": r.scenario.name,
                "file": r.files[0],
                "files": r.files,
                "hash": r.hash,
                "resolved": r.nested,
                "provenance": {
                    ".".join(map(str, p)): {"kind": pr.kind, "source": pr.source, "file": pr.file, "line": pr.line}
                    for p, pr in r.prov.items()
                },
            }
            for r in scenarios
        ],
        "tables": tables,
    }


def cmd_run(args: argparse.Namespace) -> int:
    _check_counts(args)
    scenarios = _load_all(args.scenarios, args.set or [])
    _check_size(args, len(scenarios))
    found = _print_notes(scenarios)
    out, done, meta = _batch(args, "run", scenarios)
    import pandas as pd  # after every check of the input: a refusal is quick

    from simulation.api import run_loaded
    from simulation.experiment.outputs import write_results
    from simulation.experiment.runner import format_summary
    from simulation.experiment.wording import replications_text

    runs = replications_text(args.reps)
    if done:
        print(f"results for these scenarios and seeds already exist in {out} (use --force to recompute)")
        print(format_summary(pd.read_csv(out / "summary.csv"), runs, args.set or []))
        return _end_with_report(args, out)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    res = run_loaded(scenarios, args.seed, args.reps, progress=not args.quiet)
    manifest = _manifest(
        args,
        meta["key"],
        started,
        res,
        scenarios,
        {
            "yearly": "tidy: run, scenario, seed, year, metric, group, value",
            "summary": "mean over replications of yearly win rate, wins, bids and value won",
            "horizon": "per scenario and run: horizon totals (sums over the years; ratios of the sums)",
        },
        found,
    )
    write_results(out, {"yearly": res.yearly, "summary": res.summary, "horizon": res.horizon}, manifest, args.force)
    print(format_summary(res.summary, runs, args.set or []))
    n_runs = len(scenarios) * args.reps
    print(
        f"{n_runs} run{'s' if n_runs != 1 else ''} in {res.seconds:.1f} s; results in {out}/ "
        "(yearly.parquet, yearly.csv, summary.csv, horizon.csv, manifest.json)"
    )
    return _end_with_report(args, out)


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.scenarios) < 2:
        raise InputError("compare needs at least two scenarios")
    _check_counts(args, min_reps=2)
    scenarios = _load_all(args.scenarios, args.set or [])
    from simulation.scenario.loader import pick_baseline

    try:
        baseline = pick_baseline(args.baseline or args.scenarios[0], args.scenarios, scenarios)
    except InputError as exc:
        raise InputError("--" + exc.message) from None
    psets = None
    if args.parameter_sets:
        from simulation.experiment.parameter_sets import load_parameter_sets
        from simulation.scenario.shipped import resolve

        psets = load_parameter_sets(resolve(args.parameter_sets, "experiments"))
        psets.apply(scenarios)  # checked before anything runs
    n_sets = len(psets.sets) if psets else None
    _check_size(args, len(scenarios), n_sets or 1)
    found = _print_notes(scenarios)
    out, done, meta = _batch(args, "compare", scenarios, psets)
    import pandas as pd  # after every check of the input: a refusal is quick

    from simulation.analysis.compare import format_differences
    from simulation.api import compare_loaded
    from simulation.experiment.outputs import write_results
    from simulation.experiment.runner import format_summary
    from simulation.experiment.wording import replications_text

    runs = replications_text(args.reps, n_sets)
    if done:
        print(f"results for these scenarios and seeds already exist in {out} (use --force to recompute)")
        print(format_summary(pd.read_csv(out / "summary.csv"), runs, args.set or []))
        print()
        print(format_differences(pd.read_parquet(out / "differences.parquet"), runs, n_sets))
        return _end_with_report(args, out)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    res = compare_loaded(scenarios, baseline, args.seed, args.reps, psets, progress=not args.quiet)
    manifest = _manifest(
        args,
        meta["key"],
        started,
        res,
        res.scenarios,
        {
            "yearly": "tidy: run, scenario, seed, year, metric, group, value",
            "summary": "mean over replications of yearly win rate, wins, bids and value won",
            "horizon": "per scenario and run: horizon totals (sums over the years; ratios of the sums)",
            "differences": f"paired differences against {baseline} with 95 % CIs, per year and over the horizon (period 'all')",
        },
        found,
    )
    manifest["baseline"] = baseline
    if psets:
        manifest["parameter_sets"] = {
            "file": psets.file,
            "sets": psets.sets,
            "runs_per_set": args.reps,
            "rule": "run k*reps+i: parameter set k, replication i (the same seeds in every set)",
        }
    write_results(
        out,
        {"yearly": res.yearly, "summary": res.summary, "horizon": res.horizon, "differences": res.differences},
        manifest,
        args.force,
    )
    print(format_summary(res.summary, runs, args.set or []))
    print()
    print(format_differences(res.differences, runs, n_sets))
    print(
        f"{len(scenarios) * args.reps * (n_sets or 1)} runs in {res.seconds:.1f} s; results in {out}/ "
        "(differences.csv/.parquet, yearly, summary, horizon, manifest.json)"
    )
    return _end_with_report(args, out)


def _report(folder: Path, out: Path | None = None, force: bool = False, lang: str = "en"):
    """Write the HTML report; a missing Korean font is one warning line, not a traceback."""
    import warnings

    from simulation.present.figures.style import FontWarning
    from simulation.present.report import write_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FontWarning)
        rep = write_report(folder, out, force=force, lang=lang)
    for w in caught:
        if issubclass(w.category, FontWarning):
            print(f"warning: {w.message}", file=sys.stderr)
    return rep


def _end_with_report(args: argparse.Namespace, out: Path) -> int:
    """After `run`/`compare`: write OUT/report.html unless it is there, and say where it is.
    The results are already whole on disk; a report that cannot be written is said, with status 1."""
    from simulation.present.report import default_path

    if getattr(args, "no_report", False):
        return 0
    path = default_path(out)
    if path.exists():
        print(f"report: {path}")
        return 0
    try:
        rep = _report(out)
    except (InputError, OSError) as exc:
        print(
            f"error: the results are in {out}/ but the report could not be written "
            f"({getattr(exc, 'message', None) or exc}); try `scsim report {out}`",
            file=sys.stderr,
        )
        return 1
    print(f"report: {rep.path} (open it in a browser; figures as PNG and SVG in {rep.figures_dir}/)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    rep = _report(Path(args.results), Path(args.out) if args.out else None, args.force, args.lang)
    print(
        f"report written to {rep.path} ({len(rep.figures)} figure{'s' if len(rep.figures) != 1 else ''}; "
        f"PNG and SVG in {rep.figures_dir}/)"
    )
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from simulation.experiment.spec import load_experiment

    loaded = load_experiment(args.experiment)  # before the heavy imports: most refusals are here, and quick
    from simulation.experiment.lock import sweep_lock
    from simulation.experiment.sweep import parse_shard, run_sweep
    from simulation.io import folder_path

    shard = parse_shard(args.shard) if args.shard else None
    out = folder_path(args.out) if args.out else Path("results") / loaded.spec.name
    from simulation.experiment.designs import build_design
    from simulation.experiment.sweep import check_request

    check_request(loaded, args.executor, args.workers, args.scheduler, shard, args.max_runs, args.runs_per_file)
    design = build_design(loaded, args.max_runs)  # before the lock file is made: bad input writes nothing
    with sweep_lock(out, shard):  # held through the analysis: one writer of the folder at a time
        summary = run_sweep(
            loaded,
            out,
            executor=args.executor,
            workers=args.workers,
            scheduler=args.scheduler,
            shard=shard,
            retry_failed=args.retry_failed,
            progress=not args.quiet,
            force=args.force,
            design=design,
            max_runs=args.max_runs,
            runs_per_file=args.runs_per_file,
        )
        print(summary.describe())
        if summary.complete and shard is None and not args.no_analysis:
            from simulation.analysis.analyze import analyze, format_analysis, write_analysis

            analysis = analyze(out)
            where = write_analysis(analysis)
            print(format_analysis(analysis))
            print(f"analysis in {where}/")
    return 0 if summary.failed == 0 else 1


def cmd_merge(args: argparse.Namespace) -> int:
    from simulation.experiment.sweep import merge

    summary = merge([Path(p) for p in args.folders], Path(args.out), force=args.force)
    print(summary.describe())
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    """A sweep's finished runs as one tidy file, for tools that do not read the results folder."""
    from simulation.experiment.store import Store
    from simulation.io import write_via

    folder = Path(args.results)
    out = Path(args.out) if args.out else folder / "dataset.parquet"
    if out.suffix not in (".parquet", ".csv"):
        raise InputError(f"--out must end in .parquet or .csv, not {out.suffix or 'nothing'!r}", str(out))
    if out.exists() and not args.force:
        raise InputError("exists; use --force to replace it", str(out))
    if not out.parent.is_dir():
        raise InputError("no such folder for --out", str(out.parent))
    if (folder / "yearly.parquet").is_file() and not (folder / "experiment.json").is_file():
        raise InputError(
            "a run or compare folder: its tidy table is already yearly.parquet (and yearly.csv); "
            "`scsim dataset` reads sweep folders",
            str(folder),
        )
    frame = Store.open(folder).read_dataset()
    if out.suffix == ".csv":
        from simulation.experiment.outputs import write_csv

        write_via(out, lambda tmp: write_csv(frame, tmp))
    else:
        write_via(out, lambda tmp: frame.to_parquet(tmp, index=False))
    runs = frame["key"].nunique() if len(frame) else 0
    print(f"{len(frame):,} rows of {runs:,} runs ({', '.join(frame.columns)}) in {out}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from simulation.analysis.analyze import analyze, format_analysis, write_analysis

    folder = Path(args.results)
    from simulation.analysis.drivers import folder_drivers, format_drivers

    d = folder_drivers(folder)  # a compare or validate-model folder: what drives its effects or checks
    if d is not None:
        where = Path(args.out) if args.out else folder / "drivers.csv"
        d.to_csv(where, index=False)
        print(format_drivers(d, top=args.top))
        print(f"drivers table: {where}")
        return 0
    if not folder.is_dir() or not (folder / "experiment.json").exists():
        raise InputError(
            "not a sweep results folder (no experiment.json), a compare folder (no differences.parquet) nor a "
            "validation folder with parameter sets (no over_sets.parquet); run `scsim sweep`, `scsim compare` or "
            "`scsim validate-model --parameter-sets` first",
            str(folder),
        )
    analysis = analyze(folder)
    where = write_analysis(analysis, Path(args.out) if args.out else None)
    print(format_analysis(analysis, top=args.top))
    print(f"analysis tables in {where}/")
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from simulation.planning.command import optimize_command

    return optimize_command(
        args.experiment,
        args.out,
        args.executor,
        args.workers,
        args.scheduler,
        args.shard,
        args.force,
        args.quiet,
        args.max_runs,
        args.argv,
    )


def cmd_robustness(args: argparse.Namespace) -> int:
    from simulation.planning.command import robustness_command

    return robustness_command(
        args.experiment,
        args.out,
        args.executor,
        args.workers,
        args.scheduler,
        args.force,
        args.quiet,
        args.max_runs,
        args.argv,
    )


def cmd_discover(args: argparse.Namespace) -> int:
    from simulation.planning.command import discover_command

    return discover_command(args.results, args.spec, args.outcome, args.below, args.above, args.policy, args.threshold)


def _add_executor_options(p: argparse.ArgumentParser, shard_help: str | None) -> None:
    """Where the runs execute: the same options for sweep, optimize and robustness."""
    p.add_argument(
        "--executor",
        choices=("serial", "processes", "dask"),
        default="serial",
        help="where the runs execute (the results do not depend on it)",
    )
    p.add_argument("--workers", type=int, help="processes or Dask workers (default: all local cores)")
    p.add_argument("--scheduler", help="a running Dask scheduler, tcp://host:port (with --executor dask)")
    if shard_help:
        p.add_argument("--shard", metavar="I/N", help=shard_help)


def _add_planning_options(p: argparse.ArgumentParser, shard: bool) -> None:
    """The executor options and the results-folder options of the planning commands."""
    _add_executor_options(
        p,
        "compute only shard I of N of every batch, in a folder the other shards share "
        "(each shard waits for the others and follows the same search)"
        if shard
        else None,
    )
    p.add_argument("--out", help="results folder (default results/<experiment name>)")
    p.add_argument("--force", action="store_true", help="replace a results folder that holds another experiment")
    p.add_argument("--max-runs", type=int, metavar="N", help="refuse a plan of more than N runs (default 1,000,000)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def cmd_bench_sweep(args: argparse.Namespace) -> int:
    from simulation.bench.sweep import bench_sweep

    if args.runs < 10 or args.workers < 1 or args.repeat < 1:
        raise InputError("--runs must be at least 10, --workers and --repeat at least 1")
    figures = bench_sweep(
        n_runs=args.runs, workers=args.workers, repeat=args.repeat, executors=tuple(args.executors.split(","))
    )
    if args.json:
        from simulation.io import atomic_write

        atomic_write(Path(args.json), json.dumps(figures, indent=2, default=str) + "\n")
        print(f"figures written to {args.json}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from simulation.bench.model import format_table, run_bench

    if args.repeats < 1:
        raise InputError(f"--repeats must be at least 1, got {args.repeats}")
    if args.json:
        from simulation.experiment.outputs import check_target

        target = Path(args.json)
        if target.exists() and not args.force:
            raise InputError("file already exists; use --force to replace it", str(target))
        check_target(target.parent / ".scsim-bench-probe", True)
    res = run_bench(
        repeats=args.repeats,
        quick=args.quick,
        with_startup=not args.no_startup,
        echo=lambda line: print(line, flush=True),
    )
    print()
    print(format_table(res))
    if args.json:
        from simulation.io import atomic_write

        atomic_write(Path(args.json), json.dumps(res, indent=2, default=float) + "\n")  # whole or not at all
        print(f"figures written to {args.json}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from simulation.scenario.inert import notes

    for r in _load_all(args.scenarios, args.set or []):
        unstated = [
            ".".join(map(str, p))
            for p, pr in r.prov.items()
            if pr.kind == "unstated" and p not in (("name",), ("description",))
        ]
        print(f"ok: {r.files[0]}: scenario {r.scenario.name!r}, {len(r.values)} parameters, hash {r.hash[:12]}")
        for note in _notes(r):
            print(f"  {note}")
        for p in unstated:
            file, line = r.where(tuple(p.split(".")))
            print(
                f"  note: {file}:{line}: {p}: no provenance given (add provenance: seed|literature|assumption|calibrated)"
            )
        for n in notes(r):
            print(f"  note: {n}")
    return 0


def cmd_levers(args: argparse.Namespace) -> int:
    from simulation.analysis.levers.command import levers_command

    return levers_command(
        args.cards,
        args.check,
        args.doc,
        args.out,
        args.sets,
        args.reps,
        args.quiet,
        args.force,
        args.argv,
        args.workers,
    )


def cmd_docs(args: argparse.Namespace) -> int:
    from simulation.present.odd.command import docs_command

    return docs_command(check=args.check, out=args.out)


def cmd_validate_model(args: argparse.Namespace) -> int:
    from simulation.analysis.validation.command import validate_model
    from simulation.scenario.shipped import resolve

    return validate_model(
        args.experiments,
        args.reps,
        args.seed,
        args.out,
        args.force,
        args.quiet,
        args.strict,
        args.argv,
        max_runs=args.max_runs,
        parameter_sets=resolve(args.parameter_sets, "experiments") if args.parameter_sets else None,
        set_reps=args.set_reps,
        workers=args.workers,
        report=not args.no_report,
    )


def _fmt(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    if hasattr(value, "model_dump"):
        return _fmt(value.model_dump())
    return str(value)


def cmd_show(args: argparse.Namespace) -> int:
    from simulation.scenario.loader import field_meta

    (r,) = _load_all([args.scenario], args.set or [])
    rows = []
    for path, value in r.values.items():
        meta = field_meta(path)
        pr = r.prov[path]
        where = f"{pr.file}:{pr.line}" if pr.line else pr.file
        rows.append(
            {
                "parameter": ".".join(map(str, path)),
                "value": _fmt(value),
                "unit": meta["unit"],
                "measure": meta["measure"] or "",
                "provenance": pr.kind,
                "source": pr.source,
                "set_in": where,
            }
        )
    if args.format == "json":
        print(json.dumps({"name": r.scenario.name, "hash": r.hash, "files": r.files, "parameters": rows}, indent=2))
        return 0
    print(f"scenario {r.scenario.name!r} (hash {r.hash[:12]}), from {' <- '.join(r.files)}")
    print(f"  {r.scenario.description}")
    cols = ("parameter", "value", "unit", "measure", "provenance", "set_in", "source")
    width = {c: min(60, max(len(c), *(len(x[c]) for x in rows))) for c in cols[:-1]}
    print("  ".join(f"{c:<{width[c]}}" for c in cols[:-1]) + "  source")
    for x in rows:
        val = x["value"] if len(x["value"]) <= 60 else x["value"][:57] + "..."
        x = dict(x, value=val)
        print("  ".join(f"{x[c]:<{width[c]}}" for c in cols[:-1]) + "  " + x["source"])
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from simulation.analysis.calibration.spec import load_calibration

    # a bad calibration file is refused before the fitting machinery (scipy.stats, the search) loads
    loaded = load_calibration(args.calibration)
    from simulation.analysis.calibration.command import cmd_calibrate as calibrate

    return calibrate(args, loaded)


def cmd_app(args: argparse.Namespace) -> int:
    from simulation.present.app.assets import ensure
    from simulation.present.app.server import check_port, configure, serve

    config = configure(args.scenario)
    check_port(args.host, args.port)
    serve(config, args.host, args.port, ensure())
    return 0


def _add_run_options(p: argparse.ArgumentParser, reps: int, seed_help: str, out_help: str, set_help: str) -> None:
    """The options `run` and `compare` share: scenarios, seeds, replications, output and overrides."""
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    p.add_argument("--seed", type=int, default=0, help=seed_help)
    p.add_argument("--reps", type=int, default=reps, help=f"replications per scenario (default {reps})")
    p.add_argument("--out", help=out_help)
    p.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help=set_help)
    p.add_argument("--force", action="store_true", help="replace an existing results folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-report", action="store_true", help="do not write report.html and figures/ into the results folder"
    )
    p.add_argument(
        "--max-runs",
        type=int,
        metavar="N",
        help="refuse more than N runs (default 1,000,000, and what memory holds): raise it on purpose",
    )


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="scsim",
        usage="scsim COMMAND [options]  (`python -m simulation` is the same)",
        description="Smart-city export policy simulator (2019 Smart City Overseas Expansion Activation Plan).",
    )
    sub = p.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, title="commands", prog="scsim", help=argparse.SUPPRESS
    )

    run = sub.add_parser("run", help="run scenarios over replications and write tidy yearly tables")
    _add_run_options(
        run,
        reps=1,
        seed_help="master seed: replication i uses the i-th seed spawned from SeedSequence(N) (default 0)",
        out_help="results folder (default results/<scenarios>-<hash>)",
        set_help="override a parameter (repeatable)",
    )
    run.set_defaults(func=cmd_run)

    cmp = sub.add_parser("compare", help="compare scenarios against a baseline: paired differences with 95 % CIs")
    _add_run_options(
        cmp,
        reps=20,
        seed_help="master seed (common random numbers: replication i uses the same seed in every scenario)",
        out_help="results folder (default results/compare-<scenarios>-<hash>)",
        set_help="override a parameter in every scenario",
    )
    cmp.add_argument("--baseline", help="the scenario to compare against (file or name; default: the first)")
    cmp.add_argument(
        "--parameter-sets",
        metavar="FILE.yaml",
        help="re-run everything under each parameter set of "
        "this file (e.g. experiments/parameter_sets.yaml from `scsim calibrate`): the CIs then include "
        "parameter uncertainty as well as replication noise",
    )
    cmp.set_defaults(func=cmd_compare)

    sw = sub.add_parser("sweep", help="run (or resume) an experiment's sweep: a design over levers and uncertainties")
    sw.add_argument("experiment", metavar="EXPERIMENT.yaml")
    _add_executor_options(sw, "run only shard I of N (for cluster job arrays; join with `scsim merge`)")
    sw.add_argument("--out", help="results folder (default results/<experiment name>)")
    sw.add_argument("--retry-failed", action="store_true", help="run again the runs that failed before")
    sw.add_argument("--force", action="store_true", help="replace a results folder that holds another experiment")
    sw.add_argument("--no-analysis", action="store_true", help="do not analyse when the sweep completes")
    sw.add_argument(
        "--max-runs",
        type=int,
        metavar="N",
        help="refuse a plan of more than N runs (default 1,000,000): raise it on purpose for a bigger sweep",
    )
    sw.add_argument(
        "--runs-per-file",
        type=int,
        metavar="N",
        help="gather up to N finished runs into one file (default $SCSIM_RUNS_PER_FILE, else 64; "
        "a file is also written once its first run has waited a second); 1: a file per run",
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)

    mg = sub.add_parser("merge", help="join the results folders of one experiment's shards into one dataset")
    mg.add_argument("folders", nargs="+", metavar="RESULTS_DIR")
    mg.add_argument("--out", required=True, help="the merged results folder")
    mg.add_argument("--force", action="store_true")
    mg.set_defaults(func=cmd_merge)

    ds = sub.add_parser("dataset", help="a sweep's finished runs as one tidy table (Parquet or CSV), for other tools")
    ds.add_argument("results", metavar="RESULTS_DIR", help="a folder written by sweep or merge")
    ds.add_argument(
        "--out",
        metavar="FILE",
        help="FILE.parquet or FILE.csv (default RESULTS_DIR/dataset.parquet): point, rep, key, run, "
        "scenario, seed, year, metric, group, value",
    )
    ds.add_argument("--force", action="store_true", help="replace an existing file")
    ds.set_defaults(func=cmd_dataset)

    an = sub.add_parser(
        "analyze",
        help="a sweep's sensitivity indices, ranking by value per public KRW, Pareto front; a compare or "
        "validate-model folder with parameter sets: which parameters drive each effect or check over the sets",
    )
    an.add_argument("results", metavar="RESULTS_DIR")
    an.add_argument("--out", help="where to write the tables (default RESULTS_DIR/analysis)")
    an.add_argument("--top", type=int, default=15, help="rows of the ranking to print")
    an.set_defaults(func=cmd_analyze)

    rp = sub.add_parser(
        "report", help="one self-contained HTML report of a results folder (figures, tables, levers, method, seeds)"
    )
    rp.add_argument("results", metavar="RESULTS_DIR", help="a folder written by run, compare or sweep")
    rp.add_argument("--out", metavar="FILE.html", help="where to write it (default RESULTS_DIR/report.html)")
    rp.add_argument("--force", action="store_true", help="replace an existing report")
    rp.add_argument(
        "--lang",
        choices=("en", "ko"),
        default="en",
        help="figure labels: en, or ko (needs a font with Hangul; falls back to en with a warning)",
    )
    rp.set_defaults(func=cmd_report)

    cal = sub.add_parser("calibrate", help="fit the no-plan world's behavioural parameters to published moments (SMM)")
    cal.add_argument(
        "calibration", metavar="CALIBRATION.yaml", help="calibration file (e.g. experiments/calibration.yaml)"
    )
    cal.add_argument("--out", help="results folder (default results/calibration-NAME-HASH)")
    cal.add_argument(
        "--parameter-sets",
        metavar="FILE.yaml",
        help="also write the parameter sets consistent with the targets here (for `compare --parameter-sets`)",
    )
    cal.add_argument("--dry-run", action="store_true", help="fit and report, but leave the scenario file unchanged")
    cal.add_argument(
        "--apply",
        metavar="RESULTS_DIR",
        help="write back the fit a dry run left in RESULTS_DIR, without fitting again",
    )
    cal.add_argument("--force", action="store_true", help="replace an existing results folder or sets file")
    cal.add_argument("--quiet", action="store_true", help="do not print every evaluated point")
    cal.add_argument(
        "--max-runs", type=int, metavar="N", help="refuse a search of more than N runs (default 1,000,000)"
    )
    cal.set_defaults(func=cmd_calibrate)

    op = sub.add_parser(
        "optimize",
        help="the lever mixes that buy the most for a budget: a Pareto set over the "
        "uncertainty ensemble, with the plan's own mix on the same axes",
    )
    op.add_argument("experiment", metavar="EXPERIMENT.yaml", help="an optimize file (e.g. experiments/budget.yaml)")
    _add_planning_options(op, shard=True)
    op.set_defaults(func=cmd_optimize)

    rb = sub.add_parser(
        "robustness",
        help="how candidate policies hold up over the ensemble: mean, 10th "
        "percentile, max regret, share meeting a target, each with an interval",
    )
    rb.add_argument(
        "experiment", metavar="EXPERIMENT.yaml", help="a robustness file (e.g. experiments/robustness.yaml)"
    )
    _add_planning_options(rb, shard=False)
    rb.set_defaults(func=cmd_robustness)

    ds = sub.add_parser(
        "discover",
        help="scenario discovery (PRIM): the ranges of uncertain inputs in which an outcome falls below a threshold",
    )
    ds.add_argument(
        "results",
        metavar="RESULTS",
        help="a robustness, optimize or sweep results folder, or a CSV or "
        "Parquet table of inputs and an outcome column",
    )
    ds.add_argument(
        "--spec",
        metavar="DISCOVER.yaml",
        help="what fails and how PRIM peels (e.g. experiments/discover.yaml); the options below override it",
    )
    ds.add_argument("--outcome", help="the outcome judged (default value_per_public_krw; in a table: its column)")
    ds.add_argument("--below", type=float, help="a world fails when the outcome is below this")
    ds.add_argument("--above", type=float, help="a world fails when the outcome is above this")
    ds.add_argument(
        "--policy",
        help="the policy judged in a robustness or optimize folder (default: the first "
        "policy; `plan` in an optimize folder)",
    )
    ds.add_argument("--threshold", type=float, help="the least density of the box shown (default 0.8)")
    ds.set_defaults(func=cmd_discover)

    bn = sub.add_parser(
        "bench", help="benchmark the engine: against plain Python and the floor, scaling, start-up, memory"
    )
    bn.add_argument("--json", help="also write the figures (with the machine's description) to this file")
    bn.add_argument("--repeats", type=int, default=7, help="timed repeats per measurement (median reported)")
    bn.add_argument("--quick", action="store_true", help="fewer and smaller measurements")
    bn.add_argument("--no-startup", action="store_true", help="skip the whole-process start-up measurement")
    bn.add_argument("--force", action="store_true", help="replace an existing --json file")
    bn.set_defaults(func=cmd_bench)

    bs = sub.add_parser(
        "bench-sweep", help="benchmark sweeps: runs per second serial vs processes vs Dask, per-run overhead"
    )
    bs.add_argument("--runs", type=int, default=200)
    bs.add_argument("--workers", type=int, default=2)
    bs.add_argument("--repeat", type=int, default=1, help="measure this many times and keep the best")
    bs.add_argument("--executors", default="serial,processes,dask")
    bs.add_argument("--json", help="also write the figures to this file")
    bs.set_defaults(func=cmd_bench_sweep)

    val = sub.add_parser("validate", help="check scenario files; name levers set there that cannot act")
    val.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    val.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    val.set_defaults(func=cmd_validate)

    show = sub.add_parser("show", help="print every parameter of a resolved scenario: value, unit, measure, provenance")
    show.add_argument("scenario", metavar="SCENARIO.yaml")
    show.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(func=cmd_show)

    ap = sub.add_parser(
        "app", help="the lever dashboard in the browser: win rate, value won and public cost against no plan"
    )
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    ap.add_argument(
        "--scenario", metavar="SCENARIO.yaml", help="scenario shown first (default scenarios/plan_2019_announced.yaml)"
    )
    ap.set_defaults(func=cmd_app)

    dc = sub.add_parser("docs", help="regenerate the parameter tables of docs/ODD.md and docs/assumptions.md")
    dc.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 and say what differs when a document is stale"
    )
    dc.add_argument(
        "--out",
        action="append",
        metavar="FILE.md",
        help="the document whose generated blocks to rebuild in place (repeatable; default docs/ODD.md and docs/assumptions.md)",
    )
    dc.set_defaults(func=cmd_docs)

    lv = sub.add_parser(
        "levers",
        help="lever cards: each measure alone and removed from the plan, over the "
        "uncertainty ensemble; writes docs/levers.md",
    )
    lv.add_argument(
        "cards", nargs="?", metavar="CARDS.yaml", help="lever-cards file (default experiments/lever_cards.yaml)"
    )
    lv.add_argument("--check", action="store_true", help="recompute and exit 1 if the page is stale (writes nothing)")
    lv.add_argument("--doc", metavar="FILE.md", help="the page to write (default: the file's `doc:`, docs/levers.md)")
    lv.add_argument("--out", help="results folder for the tables (default results/levers-<hash>)")
    lv.add_argument("--sets", type=int, help="use only the first N parameter sets (a quicker look)")
    lv.add_argument("--reps", type=int, help="replications per set (default: the file's)")
    lv.add_argument(
        "--workers",
        type=int,
        help="processes running parameter sets in parallel (default: all cores; the results do not depend on it)",
    )
    lv.add_argument("--quiet", action="store_true", help="no progress bar")
    lv.add_argument("--force", action="store_true", help="replace an existing --out folder")
    lv.set_defaults(func=cmd_levers)

    vm = sub.add_parser(
        "validate-model",
        help="run the validation experiments and check each estimate's 95 % CI against the published range",
    )
    vm.add_argument(
        "experiments",
        nargs="*",
        metavar="EXPERIMENT.yaml",
        help="validation experiment files (default: every *.yaml in experiments/validation/)",
    )
    vm.add_argument("--reps", type=int, help="replications per arm, for every experiment (default: each file's own)")
    vm.add_argument("--seed", type=int, help="master seed for every experiment (default: each file's own)")
    vm.add_argument("--out", help="results folder (default results/validation-<hash>)")
    vm.add_argument("--force", action="store_true", help="replace an existing results folder")
    vm.add_argument("--quiet", action="store_true", help="no progress bar")
    vm.add_argument("--strict", action="store_true", help="exit with status 1 when any check fails")
    vm.add_argument("--max-runs", type=int, metavar="N", help="refuse more than N runs in all (default 1,000,000)")
    vm.add_argument(
        "--parameter-sets",
        metavar="SETS.yaml",
        help="also read every check under each set of this file (e.g. experiments/parameter_sets.yaml): the "
        "spread over the sets, how many agree with the evidence, and a verdict over them",
    )
    vm.add_argument("--no-report", action="store_true", help="do not write report.html into the results folder")
    vm.add_argument(
        "--set-reps", type=int, default=20, help="replications per set and arm with --parameter-sets (default 20)"
    )
    vm.add_argument(
        "--workers",
        type=int,
        help="processes running the experiments and the parameter sets in parallel (default: all cores; the "
        "results do not depend on it)",
    )
    vm.set_defaults(func=cmd_validate_model)
    for sp in (run, cmp, sw, cal, val, show, ap, vm, op, rb):  # every command that reads scenario files
        sp.add_argument(
            "--scenario-path",
            action="append",
            metavar="DIR",
            help="a folder (besides the scenario's own) that `extends:`, `take:` and countries_file "
            "may name (repeatable; also $SCSIM_SCENARIO_PATH)",
        )
    p.epilog = _command_list(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `scsim`: the list of commands, not only "see --help"
        parser.print_help(sys.stderr)
        print("\nerror: scsim: a command is needed (one of those above)", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.argv = argv
    try:
        from simulation.scenario.loader import configure_scenario_path

        configure_scenario_path(getattr(args, "scenario_path", None))
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

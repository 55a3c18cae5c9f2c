"""What `scsim optimize`, `scsim robustness` and `scsim discover` do, behind cli.py's argparse."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from simulation.scenario.errors import InputError


def _out(given: str | None, name: str) -> Path:
    from simulation.io import folder_path

    return folder_path(given) if given else Path("results") / name


def _check_executor(executor: str, workers: int | None, scheduler: str | None, shard: str | None):
    """The sweep's own checks of --executor, --workers, --scheduler and --shard."""
    from simulation.experiment.sweep import check_executor_args, check_scheduler, parse_shard

    check_executor_args(executor, workers, scheduler)
    if scheduler:
        check_scheduler(scheduler)
    return parse_shard(shard) if shard else None


def optimize_command(
    experiment: str,
    out: str | None,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    shard: str | None,
    force: bool,
    quiet: bool,
    max_runs: int | None,
    argv: Sequence[str],
) -> int:
    from simulation.experiment.size import run_limit
    from simulation.planning.spec import load_optimize
    from simulation.scenario.shipped import resolve

    run_limit(max_runs)
    loaded = load_optimize(resolve(experiment, "experiments"))
    shard_t = _check_executor(executor, workers, scheduler, shard)
    folder = _out(out, loaded.spec.name)
    # the search's machinery (the sweep, pandas, the kernels) loads once the file has been read and checked
    from simulation.planning.optimize import format_result, optimize

    result = optimize(loaded, folder, executor, workers, scheduler, shard_t, force, not quiet, max_runs, argv)
    print(format_result(result, loaded))
    if shard_t is None:
        _report_line(folder)
    return 0


def robustness_command(
    experiment: str,
    out: str | None,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    force: bool,
    quiet: bool,
    max_runs: int | None,
    argv: Sequence[str],
) -> int:
    from simulation.experiment.size import run_limit
    from simulation.planning.spec import load_robustness
    from simulation.scenario.shipped import resolve

    run_limit(max_runs)
    loaded = load_robustness(resolve(experiment, "experiments"))
    _check_executor(executor, workers, scheduler, None)
    folder = _out(out, loaded.spec.name)
    from simulation.planning.evaluate_policies import evaluate_policies, format_policies  # as in optimize

    result = evaluate_policies(loaded, folder, executor, workers, scheduler, force, not quiet, max_runs, argv)
    print(format_policies(result, loaded))
    _report_line(folder)
    return 0


def discover_command(
    results: str,
    spec_file: str | None,
    outcome: str | None,
    below: float | None,
    above: float | None,
    policy: str | None,
    threshold: float | None,
) -> int:
    from simulation.planning.discover import discover, format_discovery, load_discover_spec, write_discovery
    from simulation.scenario.shipped import resolve

    if below is not None and above is not None:
        raise InputError("give --below or --above, not both")
    source = Path(results)
    if not source.exists():
        raise InputError("no such results folder or table", str(source))
    spec = load_discover_spec(
        resolve(spec_file, "experiments") if spec_file else None,
        {"outcome": outcome, "below": below, "above": above, "policy": policy, "threshold": threshold},
    )
    d = discover(source, spec)
    print(format_discovery(d))
    if source.is_dir():
        from simulation.experiment.lock import sweep_lock

        with sweep_lock(source):
            where = write_discovery(d, source)
        print(f"discovery in {where}/ (box.json, limits.csv, trajectory.csv); `scsim report {source}` shows it")
    return 0


def _report_line(folder: Path) -> None:
    """Write the folder's report (replacing the previous one: it is derived) and say where."""
    from simulation.present.planning_report import write_planning_report

    try:
        page = write_planning_report(folder, None, force=True)
    except (InputError, OSError) as exc:
        print(
            f"error: the results are in {folder}/ but the report could not be written "
            f"({getattr(exc, 'message', None) or exc}); try `scsim report {folder} --force`",
            file=sys.stderr,
        )
        return
    print(f"report: {page}")

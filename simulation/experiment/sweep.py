"""Run an experiment's design × replications into a results store; resume, shard, merge.

    summary = run_sweep(load_experiment("experiments/smoke.yaml"), Path("results/smoke"),
                        executor="processes", workers=8)

Every (point, replication) is a run with a key (hash of base scenario, overrides and seed). A run
that finished is a file `runs/<key>.parquet` in the store, so running the same sweep again skips
it: an interrupted sweep (Ctrl-C, SIGKILL, a lost node, a wall-clock limit) resumes where it
stopped. A run that raised is recorded in `failed/<key>.json` and the sweep goes on; it is left
alone on later calls unless `retry_failed=True`. `shard=(i, n)` runs only the i-th of n
interleaved slices of the runs (run j belongs to shard j mod n + 1), for job arrays; `merge`
joins shard folders of one experiment. The dataset (`Store.read_dataset`) is identical whatever
the executor, the number of workers, the sharding or the number of interruptions.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation.experiment.executors import EXECUTORS, Outcome, default_workers
from simulation.experiment.lock import sweep_lock
from simulation.experiment.spec import LoadedExperiment
from simulation.experiment.store import (
    RunWriter,
    Store,
    atomic_write,
    resolve_runs_per_file,
    stored_runs,
    tasks_frame,
)
from simulation.experiment.tasks import Task, plan_tasks, replication_seeds
from simulation.scenario.errors import InputError

EXTRA_PACKAGES = ("dask", "distributed", "SALib", "scipy", "psutil")


@dataclass
class SweepSummary:
    out: Path
    experiment: str
    executor: str
    shard: tuple[int, int] | None
    total: int  # runs in this sweep (this shard), each distinct run counted once
    done: int = 0  # finished by this call
    skipped: int = 0  # finished earlier (not run again)
    failed: int = 0  # raised (or killed their worker) in this call
    not_retried: int = 0  # failed in an earlier call, left alone (retry_failed=False)
    failures: list[dict] = field(default_factory=list)  # this call's: key, point, rep, name, error_type, message
    seconds: float = 0.0  # wall clock of this call
    run_seconds: float = 0.0  # time in the runs and their values, summed over runs (all workers)
    model_cpu_seconds: float = 0.0  # CPU time of the model alone in those runs (bench-sweep's yardstick)
    workers: int = 1
    warnings: list[str] = field(default_factory=list)
    removed_temporaries: int = 0  # stale temporary files of killed writers removed on open

    @property
    def complete(self) -> bool:
        """Every run of this sweep (shard) is in the store."""
        return self.done + self.skipped == self.total

    def describe(self) -> str:
        """A few lines for the command line."""
        where = f" (shard {self.shard[0]}/{self.shard[1]})" if self.shard else ""
        lines = [
            f"{self.experiment}{where}: {self.done} run{'s' if self.done != 1 else ''} done, "
            f"{self.skipped} already finished, {self.failed} failed"
            + (
                f", {self.not_retried} earlier failure{'s' if self.not_retried != 1 else ''} not retried "
                "(use --retry-failed)"
                if self.not_retried
                else ""
            )
            + f" of {self.total}, in {self.seconds:.1f} s ({self.executor}"
            + (f", {self.workers} workers" if self.executor != "serial" else "")
            + ")"
        ]
        for f in self.failures[:10]:
            lines.append(
                f"  failed: point {f['point']} rep {f['rep']} ({f['name']}): {f['error_type']}: "
                f"{_first_line(f['message'])}"
            )
        if len(self.failures) > 10:
            lines.append(f"  ... and {len(self.failures) - 10} more")
        if self.failed or self.not_retried:
            lines.append(f"  error records with tracebacks: {self.out / 'failed'}/")
        lines += [f"  warning: {w}" for w in self.warnings]
        lines.append(f"results in {self.out}/")
        return "\n".join(lines)


def _first_line(text: str, width: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= width else line[: width - 3] + "..."


# ---- arguments -------------------------------------------------------------------------------
def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' -> (I, N), 1 <= I <= N; anything else is a InputError."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m:
        raise InputError(f"--shard must be I/N with whole numbers, shard I of N (e.g. 2/8); got {text!r}")
    i, n = int(m.group(1)), int(m.group(2))
    check_shard((i, n))
    return i, n


def check_shard(shard: Any) -> tuple[int, int]:
    try:
        i, n = shard
        ok = isinstance(i, int) and isinstance(n, int) and not isinstance(i, bool) and not isinstance(n, bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"a shard is (I, N), two whole numbers; got {shard!r}")
    if n < 1:
        raise InputError(f"--shard {i}/{n}: the number of shards N must be at least 1")
    if not 1 <= i <= n:
        raise InputError(f"--shard {i}/{n}: the shard number I must be between 1 and {n} (shards count from 1)")
    return i, n


def shard_of(index: int, n: int) -> int:
    """The shard (1..n) of the run at `index` in plan order."""
    return index % n + 1


def check_executor_args(executor: str, workers: int | None, scheduler: str | None) -> None:
    """--executor, --workers and --scheduler agree with each other (one message, exit 2, when not)."""
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    if workers is not None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise InputError(f"--workers must be a whole number of at least 1, got {workers!r}")
        if executor == "serial":
            raise InputError("--workers applies to the processes and dask executors, not serial")
        if scheduler:
            raise InputError(
                "--workers starts a local Dask cluster; with --scheduler the cluster's own "
                "workers are used (leave out --workers)"
            )
    if scheduler is not None:
        if executor != "dask":
            raise InputError(f"--scheduler applies to the dask executor, not {executor}")
        if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://\S+", scheduler):
            raise InputError(f"--scheduler must be a Dask scheduler address like tcp://host:8786, got {scheduler!r}")


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Fail fast (InputError) if nothing listens at a tcp:// scheduler address."""
    m = re.fullmatch(r"tcp://\[?([^\]]+?)\]?:(\d+)/?", address)
    if not m:
        return
    try:
        socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from None


def output_filter(loaded: LoadedExperiment) -> tuple[list[str] | None, list[str] | None]:
    """The experiment's `outputs:` as (metrics, groups), None meaning all; unknown names are errors."""
    from simulation.engine.kernels.constants import INSTRUMENTS, TRANCHES
    from simulation.engine.metrics import GROUPS, METRICS

    out = loaded.spec.outputs
    metrics = None if out.metrics == "all" else list(out.metrics)
    groups = None if out.groups == "all" else list(out.groups)
    if metrics is not None:
        for j, m in enumerate(metrics):
            if m not in METRICS:
                import difflib

                near = difflib.get_close_matches(m, list(METRICS), n=1)
                raise loaded.error(
                    ("outputs", "metrics", j),
                    f"unknown metric {m!r}"
                    + (f"; did you mean {near[0]!r}?" if near else " (see simulation/engine/metrics.py)"),
                )
    if groups is not None:
        known = list(GROUPS) + [f"instrument:{n}" for n in INSTRUMENTS] + [f"tranche:{t}" for t in TRANCHES]
        for j, g in enumerate(groups):
            if g not in known:
                import difflib

                near = difflib.get_close_matches(g, known, n=1)
                raise loaded.error(
                    ("outputs", "groups", j), f"unknown group {g!r}" + (f"; did you mean {near[0]!r}?" if near else "")
                )
    return metrics, groups


# ---- provenance ------------------------------------------------------------------------------
def environment() -> dict:
    from importlib import metadata

    from simulation.experiment.outputs import git_commit, versions

    v = versions()
    for name in EXTRA_PACKAGES:
        try:
            v[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            v[name] = "not installed"
    return {"versions": v, "git_commit": git_commit()}


def experiment_manifest(
    loaded: LoadedExperiment, design: Any, seeds: Sequence[int], tasks: Sequence[Task], env: dict | None = None
) -> dict:
    """experiment.json: the experiment as loaded, its hash, design, seeds, versions and git commit."""
    base = loaded.base
    env = env or environment()
    spec = loaded.spec
    return {
        "experiment": spec.name,
        "experiment_hash": loaded.hash,
        "file": loaded.file,
        "description": spec.description,
        "spec": loaded.raw,
        "spec_validated": spec.model_dump(mode="json"),
        "base": {"name": base.scenario.name, "hash": base.hash, "files": base.files, "resolved": base.nested},
        "design": {
            "type": getattr(design, "type", spec.design.type),
            "points": len(design.points),
            "factors": getattr(design, "factors", []),
            "problem": getattr(design, "problem", None),
            "sample_matrix": "design_X.npy" if getattr(design, "X", None) is not None else None,
        },
        "replications": spec.replications,
        "seed": spec.seed,
        "seeds": list(seeds),
        "outputs": spec.outputs.model_dump(mode="json"),
        "tasks": len(tasks),
        "runs": len({t.key for t in tasks}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "created_on": socket.gethostname(),
        "versions": env["versions"],
        "git_commit": env["git_commit"],
        "layout": {
            "design.parquet": "design points: point, name, one column per factor",
            "tasks.parquet": "planned runs: point, rep, seed, key, name, overrides (JSON)",
            "runs/<key>.parquet": "one run's values in the order of its labels; point, rep, key, scenario, "
            "seed and labels id in the schema metadata (scsim.run)",
            "labels/<id>.parquet": "year, metric, group of each value of a run (one file per output filter)",
            "failed/<key>.json": "a run that raised: error_type, message, traceback, task, attempts",
            "sessions/*.json": "one record per sweep call: executor, shard, counts, versions",
        },
    }


def _drift(store: Store, env: dict) -> list[str]:
    out = []
    old_commit = store.manifest.get("git_commit")
    if old_commit and old_commit != env["git_commit"]:
        out.append(f"this store was started at git commit {old_commit}, the code is now at {env['git_commit']}")
    old = store.manifest.get("versions") or {}
    changed = [f"{k} {old[k]} -> {v}" for k, v in env["versions"].items() if k in old and old[k] != v]
    if changed:
        out.append("package versions changed since this store was started: " + ", ".join(changed))
    return out


def unique_runs(tasks: Sequence[Task]) -> list[Task]:
    """One task per distinct run key, in plan order (points with identical overrides share a run)."""
    seen: set[str] = set()
    out = []
    for t in tasks:
        if t.key not in seen:
            seen.add(t.key)
            out.append(t)
    return out


# ---- the sweep -------------------------------------------------------------------------------
def prepare(
    loaded: LoadedExperiment, design: Any = None, max_runs: int | None = None
) -> tuple[Any, list[int], list[Task]]:
    """(design table, seeds, tasks) of an experiment: every point × every replication.

    A plan above `max_runs` runs (default size.MAX_RUNS) is refused before the design is built."""
    if design is None:
        from simulation.experiment.designs import build_design

        design = build_design(loaded, max_runs)
    seeds = replication_seeds(loaded.spec.seed, loaded.spec.replications)
    return design, seeds, plan_tasks(loaded.base, design.points, seeds)


def open_store(
    loaded: LoadedExperiment,
    out: Path | str,
    force: bool = False,
    design: Any = None,
    env: dict | None = None,
    *,
    planned: tuple[Any, list[int], list[Task]] | None = None,
) -> tuple[Store, Any, list[Task]]:
    """Create or open the store of an experiment (refusing one of another experiment unless `force`)."""
    design, seeds, tasks = planned or prepare(loaded, design)
    manifest = experiment_manifest(loaded, design, seeds, tasks, env)
    store = Store.create_or_open(
        Path(out), manifest, design=design.frame, tasks=tasks_frame(tasks), X=getattr(design, "X", None), force=force
    )
    stored = store.tasks()
    if len(stored) and list(stored["key"]) != [t.key for t in tasks]:
        raise InputError(
            "this experiment's design now gives other runs than when these results were started "
            "(same experiment file, but the design or package versions changed); "
            "choose another --out",
            str(out),
        )
    return store, design, tasks


def check_request(
    loaded: LoadedExperiment,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    shard: tuple[int, int] | None = None,
    max_runs: int | None = None,
    runs_per_file: int | None = None,
) -> tuple[tuple[int, int] | None, list[str] | None, list[str] | None]:
    """Check a sweep's arguments before anything is written: (shard, metrics, groups kept); InputError if bad."""
    from simulation.experiment.size import run_limit

    check_executor_args(executor, workers, scheduler)
    run_limit(max_runs)
    resolve_runs_per_file(runs_per_file)  # SCSIM_RUNS_PER_FILE too
    if shard is not None:
        shard = check_shard(shard)
    metrics, groups = output_filter(loaded)
    if scheduler:
        check_scheduler(scheduler)
    return shard, metrics, groups


def run_sweep(
    loaded: LoadedExperiment,
    out: Path | str,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    shard: tuple[int, int] | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    force: bool = False,
    *,
    design: Any = None,
    max_runs: int | None = None,
    write_threads: int | None = None,
    runs_per_file: int | None = None,
) -> SweepSummary:
    """Run (or resume) an experiment's sweep into the results folder `out`.

    executor   "serial" (this process), "processes" (`workers` local processes, default every core)
               or "dask" (a LocalCluster of `workers` processes, or the cluster at `scheduler`).
    shard      (i, n): only runs j with j mod n == i-1 (plan order), for job arrays (see parse_shard).
    retry_failed  run again the runs recorded as failed (otherwise they are left alone).
    force      replace a results folder of a different experiment (never needed to resume).
    design     a prebuilt DesignTable (default: designs.build_design(loaded)).
    max_runs   refuse a plan of more runs (default size.MAX_RUNS), before the design is built.
    write_threads  threads that write the run files (store.RunWriter; 0: in the loop that receives
               the runs; default store.WRITE_THREADS).
    runs_per_file  finished runs gathered into one file, at most (default: SCSIM_RUNS_PER_FILE, else
               store.RUNS_PER_FILE; a file is also written once its first run has waited
               store.FILE_SECONDS). 1: a file per run.

    Bad arguments, a plan too large, a folder of another experiment and a folder that another sweep
    is writing (lock.sweep_lock) raise InputError before any run.
    """
    t_start = time.perf_counter()
    shard, metrics, groups = check_request(loaded, executor, workers, scheduler, shard, runs_per_file=runs_per_file)
    out = Path(out)
    planned = prepare(loaded, design, max_runs)
    with sweep_lock(out, shard):
        return _locked_sweep(
            loaded,
            out,
            planned,
            executor,
            workers,
            scheduler,
            shard,
            retry_failed,
            progress,
            force,
            metrics,
            groups,
            t_start,
            write_threads,
            runs_per_file,
        )


def _locked_sweep(
    loaded: LoadedExperiment,
    out: Path,
    planned: tuple,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    shard: tuple[int, int] | None,
    retry_failed: bool,
    progress: bool,
    force: bool,
    metrics: list[str] | None,
    groups: list[str] | None,
    t_start: float,
    write_threads: int | None = None,
    runs_per_file: int | None = None,
) -> SweepSummary:
    env = environment()
    store, design, tasks = open_store(loaded, out, force=force, env=env, planned=planned)
    runs = unique_runs(tasks)
    if shard is not None:
        runs = [t for j, t in enumerate(runs) if shard_of(j, shard[1]) == shard[0]]
    finished = store.finished_keys()
    failed_before = store.failed_keys()
    pending = [t for t in runs if t.key not in finished and (retry_failed or t.key not in failed_before)]
    n_workers = 1 if executor == "serial" else (workers or (0 if scheduler else default_workers()))
    summary = SweepSummary(
        out=out,
        experiment=loaded.spec.name,
        executor=executor,
        shard=shard,
        total=len(runs),
        skipped=sum(t.key in finished for t in runs),
        not_retried=0 if retry_failed else sum(t.key in failed_before and t.key not in finished for t in runs),
        workers=n_workers,
        warnings=_drift(store, env),
        removed_temporaries=len(store.removed_temporaries),
    )
    session = f"{time.strftime('%Y%m%dT%H%M%S')}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    record = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "argv": sys.argv,
        "executor": executor,
        "workers": n_workers,
        "scheduler": scheduler,
        "shard": list(shard) if shard else None,
        "retry_failed": retry_failed,
        "planned": len(runs),
        "pending": len(pending),
        **env,
        "status": "running",
    }
    store.write_session(session, record)
    by_key = {t.key: t for t in pending}
    if progress and pending:
        from simulation.engine.warmup import warm_up

        warm_up(loaded.base)  # compiled once here, under its own line, not by every worker behind a silent bar
    bar = _bar(progress, len(pending), loaded.spec.name, summary)
    status = "running"
    gen = EXECUTORS[executor](
        loaded.base, pending, metrics=metrics, groups=groups, workers=workers, scheduler=scheduler
    )
    try:
        # leaving the writer writes what it gathered and waits for every file
        with RunWriter(store, threads=write_threads, runs_per_file=runs_per_file) as writer:
            for outcome in gen:
                record_outcome(store, outcome, by_key.get(outcome.key), summary, writer)
                if bar is not None:
                    bar.set_postfix_str(
                        f"done={summary.done} failed={summary.failed} skipped={summary.skipped}", refresh=False
                    )
                    bar.update(1)
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException as exc:
        status = f"error: {type(exc).__name__}: {_first_line(str(exc))}"
        raise
    finally:
        gen.close()
        if bar is not None:
            bar.close()
        store.sync()
        summary.seconds = time.perf_counter() - t_start
        record.update(
            status=status,
            finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            done=summary.done,
            failed=summary.failed,
            skipped=summary.skipped,
            seconds=round(summary.seconds, 3),
            run_seconds=round(summary.run_seconds, 3),
        )
        with contextlib.suppress(OSError):
            store.write_session(session, record)
    return summary


def record_outcome(store: Store, outcome: Outcome, task: Task | None, summary: SweepSummary, writer: RunWriter) -> None:
    """Store one outcome: a finished run (gathered by `writer` into a file of several) or a failure record."""
    summary.run_seconds += outcome.run_seconds
    summary.model_cpu_seconds += outcome.model_cpu_seconds
    if outcome.run is not None:
        writer.put(outcome.run, outcome.labels)
        summary.done += 1
        return
    err = dict(outcome.error or {})
    if task is not None:
        err.setdefault(
            "task",
            {
                "point": task.point,
                "rep": task.rep,
                "seed": task.seed,
                "key": task.key,
                "name": task.name,
                "overrides": dict(task.overrides),
            },
        )
    rec = store.record_failure(outcome.key, err)
    summary.failed += 1
    summary.failures.append(
        {
            "key": outcome.key,
            "point": outcome.point,
            "rep": outcome.rep,
            "name": task.name if task else "",
            "error_type": rec.get("error_type", "?"),
            "message": rec.get("message", ""),
            "attempts": rec.get("attempts", 1),
        }
    )


def _bar(progress: bool, total: int, name: str, summary: SweepSummary):
    if not progress or total == 0:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="run", desc=name[:30], dynamic_ncols=True, file=sys.stderr, smoothing=0.1)
    bar.set_postfix_str(f"done=0 failed=0 skipped={summary.skipped}", refresh=True)
    return bar


# ---- shards ----------------------------------------------------------------------------------
@dataclass
class MergeSummary:
    out: Path
    experiment: str
    shards: list[Path]
    copied: int  # run files copied into `out`
    present: int  # runs of the plan in `out` after merging
    total: int  # runs of the plan
    failed: int  # recorded failures (of runs not finished anywhere)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.present == self.total

    @property
    def missing(self) -> int:
        return self.total - self.present

    def describe(self) -> str:
        lines = [
            f"{self.experiment}: merged {len(self.shards)} folder{'s' if len(self.shards) != 1 else ''} into "
            f"{self.out}/: {self.present} of {self.total} runs ({self.copied} copied)"
            + (f", {self.missing} missing" if self.missing else "")
            + (f", {self.failed} failed" if self.failed else "")
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def merge(shard_dirs: Sequence[Path | str], out: Path | str, force: bool = False) -> MergeSummary:
    """Join results folders of one experiment (e.g. one per shard) into `out`.

    Refuses (InputError) folders of different experiments (experiment hash) or plans, and a run
    present in two folders with different rows. `out` may be new, a folder of the same experiment
    (merging adds to it), or one of the shard folders.
    """
    if not shard_dirs:
        raise InputError("merge needs at least one results folder")
    out = Path(out)
    stores = [Store.open(Path(d)) for d in shard_dirs]
    first = stores[0]
    for s in stores[1:]:
        if s.experiment_hash != first.experiment_hash:
            raise InputError(
                f"holds results of another experiment ({s.manifest.get('experiment', '?')!r}, hash "
                f"{s.experiment_hash[:12]}) than {first.root} ({first.manifest.get('experiment', '?')!r}, hash "
                f"{first.experiment_hash[:12]}); only shards of one experiment can be merged",
                str(s.root),
            )
    plan = first.tasks()
    for s in stores[1:]:
        other = s.tasks()
        if list(other["key"]) != list(plan["key"]):
            raise InputError(
                f"plans a different set of runs than {first.root} (same experiment file, but the "
                "design or package versions differ); cannot merge",
                str(s.root),
            )
    warnings = []
    commits = {s.manifest.get("git_commit") for s in stores}
    if len(commits) > 1:
        warnings.append(f"the folders were started at different git commits: {', '.join(sorted(map(str, commits)))}")
    design = first.design() if (first.root / "design.parquet").is_file() else None
    with sweep_lock(out):  # one writer: not while a sweep or another merge writes into `out`
        return _merge_into(stores, out, first, plan, design, warnings, force)


def _merge_into(
    stores: list[Store], out: Path, first: Store, plan: Any, design: Any, warnings: list[str], force: bool
) -> MergeSummary:
    target = Store.create_or_open(out, first.manifest, design=design, tasks=plan, X=first.design_X(), force=force)
    if list(target.tasks()["key"]) != list(plan["key"]):
        raise InputError("plans a different set of runs than the folders being merged", str(out))
    have = target.finished_keys()
    copied = 0
    for s in stores:
        if s.root.resolve() == target.root.resolve():
            continue
        target.copy_labels(s)  # before the runs that name them
        copied += _merge_runs(target, s, have, out)
        for p in sorted(s.sessions_dir.glob("*.json")):
            dest = target.sessions_dir / f"{s.root.name}-{p.name}"
            if not p.name.startswith(".") and not dest.exists():
                atomic_write(dest, p.read_bytes())
    for s in stores:
        if s.root.resolve() == target.root.resolve():
            continue
        for key in s.failed_keys() - have:
            dest = target.failed_dir / f"{key}.json"
            if not dest.exists():
                atomic_write(dest, (s.failed_dir / f"{key}.json").read_bytes())
    target.sync()
    keys = set(plan["key"])
    return MergeSummary(
        out=out,
        experiment=str(first.manifest.get("experiment", "?")),
        shards=[s.root for s in stores],
        copied=copied,
        present=len(keys & have),
        total=len(keys),
        failed=len(target.failed_keys() & keys),
        warnings=warnings,
    )


def _merge_runs(target: Store, s: Store, have: set[str], out: Path) -> int:
    """Take the runs of shard `s` that `target` lacks (`have`, updated); the number taken. Runs both
    hold must have the same rows (compared a file of `s` at a time)."""
    copied = 0
    here = target.run_files()
    for name, keys in s.run_files().items():
        source = s.runs_dir / name
        if here.get(name) == keys and (target.runs_dir / name).read_bytes() == source.read_bytes():
            continue  # merged before: the same file
        both = [k for k in dict.fromkeys(keys) if k in have]
        if both:
            _check_same_runs(target, s, both, out)
        new = {k for k in keys if k not in have}
        if not new:
            continue
        if len(new) == len(keys):  # every run of the file is new here: the file as it is
            target.copy_run_file(source, keys)
        else:  # some are here already (another shard's file held them): the others in a file of their own
            target.write_runs([r for r in stored_runs(source) if r.key in new])
        have.update(new)
        copied += len(new)
    return copied


def _check_same_runs(target: Store, source: Store, keys: list[str], out: Path) -> None:
    """Refuse runs that `target` holds with other rows than `source`: not made by the same code."""
    import pandas as pd

    a, b = target.read_runs(keys), source.read_runs(keys)
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        for key in keys:  # which run (the first that differs) and where
            ra, rb = a[a["key"] == key].reset_index(drop=True), b[b["key"] == key].reset_index(drop=True)
            if not ra.equals(rb):
                raise InputError(
                    f"run {key} (point {int(ra['point'].iloc[0]) if len(ra) else '?'}) has "
                    f"different results in {source.root} and in {out} or another folder: the "
                    "runs were not made with the same code",
                    str(source.root),
                ) from None
        raise


def read_dataset(out: Path | str) -> Any:
    """All finished runs of the results folder `out` as one table (see Store.read_dataset)."""
    return Store.open(Path(out)).read_dataset()

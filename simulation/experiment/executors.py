"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

Every executor has the same shape:

    executor(base, tasks, *, metrics=None, groups=None, **options) -> iterator of Outcome

and yields one `Outcome` per task as the tasks complete (in no particular order). Workers run
`tasks.run_values` and send back the run's values (a `tasks.StoredRun`, with its labels), or an
error record if the run raised: only the caller encodes and writes files, several runs a file. A run that raises is an outcome like any other; the sweep goes on.

The base scenario goes to each worker once (a pool initializer; a Dask worker plugin, which
also reaches workers that join or restart later), tasks carry only their overrides and seed.
The same hook loads the compiled kernels into the worker once, when it starts (`warm_worker`):
from the shared on-disk cache (`SCSIM_CACHE_DIR`, simulation/engine/kernels/__init__.py) if it is
warm, so that no worker compiles and no run pays for loading them.
No Mesa model is ever built here (Mesa 3.3.1 never frees one, mesa#3179).

Crashes: if a local worker process dies (killed, out of memory, a segfault), its pool is rebuilt
and the runs that were in flight are run again, one at a time, so that a run that kills its
worker every time is recorded as failed (`WorkerCrashed`) instead of stopping the sweep. On Dask
the scheduler reschedules the runs of a worker that dies; a run whose workers died
`distributed.scheduler.allowed-failures` (3) times is recorded as failed (`KilledWorker`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import secrets
import signal
import socket
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulation.engine.simulate import simulate
from simulation.experiment.tasks import PARQUET_OPTIONS, StoredRun, Task, resolve_task, run_values
from simulation.scenario.loader import Resolved

_HOST = socket.gethostname()


@dataclass
class Outcome:
    """The result of one task: its values and what names them (`run`, `tasks.run_values`) with the
    id and Parquet bytes of their labels (`labels`, the same in every run of a sweep), or an error
    record (`error`)."""

    key: str
    point: int
    rep: int
    run: StoredRun | None = None
    labels: tuple[str, bytes] | None = None
    error: dict | None = None
    run_seconds: float = 0.0  # the run and its values (tasks.run_values) in the worker
    model_cpu_seconds: float = 0.0  # CPU time of the model alone (world and monthly steps), in the worker
    worker: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.run is not None


def task_record(task: Task) -> dict:
    return {
        "point": task.point,
        "rep": task.rep,
        "seed": task.seed,
        "key": task.key,
        "name": task.name,
        "overrides": {k: v for k, v in task.overrides},
    }


def error_record(task: Task, exc: BaseException, tb: str | None = None) -> dict:
    return {
        "error_type": f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins."),
        "message": str(exc),
        "traceback": tb if tb is not None else "".join(traceback.format_exception(exc)),
        "host": _HOST,
        "pid": os.getpid(),
        "task": task_record(task),
    }


def pack(table: Any) -> bytes:
    """A run's tidy rows as Parquet bytes (a Table from `tasks.full_table`, or the frame of
    `tasks.task_table`: the same bytes as `tasks.to_parquet_bytes`). No conversion thread pool:
    each worker uses one core."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False, nthreads=1)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **PARQUET_OPTIONS)
    return sink.getvalue().to_pybytes()


def execute(
    base: Resolved, task: Task, metrics: Sequence[str] | None = None, groups: Sequence[str] | None = None
) -> Outcome:
    """Run one task (in whatever process this is) and take its values; never raises for a failing run."""
    worker = f"{_HOST}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        c0 = time.thread_time()
        res = simulate(resolve_task(base, task), task.seed)
        model_cpu = time.thread_time() - c0  # what the sweep's own costs are measured against (bench-sweep)
        run, labels = run_values(res, task, metrics, groups)
        del res
    except Exception as exc:  # noqa: BLE001 - any error of a run is recorded, the sweep goes on
        return Outcome(
            task.key,
            task.point,
            task.rep,
            error=error_record(task, exc),
            run_seconds=time.perf_counter() - t0,
            worker=worker,
        )
    return Outcome(
        task.key,
        task.point,
        task.rep,
        run=run,
        labels=(labels.id, labels.data),
        run_seconds=time.perf_counter() - t0,
        model_cpu_seconds=model_cpu,
        worker=worker,
    )


# ---- numba cache -----------------------------------------------------------------------------
def kernels_cached() -> bool:
    """Whether the compiled month loop (and the packing of its arguments) is in numba's cache, so
    that workers load, not compile, it; False when that cannot be told."""
    from simulation.engine.warmup import kernels_ready

    return kernels_ready(unknown=False)


# What `warm_worker` did in this process: a worker loads (or compiles) the kernels once, when it
# starts, not in its first run (and never again: a process keeps what it loaded).
WARM: dict[str, Any] = {"count": 0, "seconds": 0.0, "compiled": False, "error": None}


def warm_worker(base: Resolved) -> dict:
    """Load the month loop into this process (from the on-disk cache, or compile it), once per process.

    Called when a worker starts (the local pool's initializer, the Dask worker plugin), so that
    its first run is a run. Records in `WARM` how long it took and whether numba compiled (a miss
    in its cache) rather than loaded; never raises (the first run would then show the error)."""
    if WARM["count"]:
        return WARM
    t0 = time.perf_counter()
    try:
        from simulation.engine.kernels.step import entry_points, first_month
        from simulation.engine.simulate import simulate

        def misses() -> int:
            return sum(sum(f._cache_misses.values()) for f in entry_points())

        before = misses()
        simulate(base, 0, kernel=first_month)
        WARM["compiled"] = misses() > before
    except Exception as exc:  # noqa: BLE001
        WARM["error"] = f"{type(exc).__name__}: {exc}"
    WARM["count"] += 1
    WARM["seconds"] = time.perf_counter() - t0
    return WARM


def _compile_here(base: Resolved) -> None:
    """If the kernels are not compiled yet, compile them here, once (on two cores with a helper
    process: engine/precompile.py), into the on-disk cache that spawned workers then load, instead
    of every worker compiling them at once."""
    if not kernels_cached():
        from simulation.engine.precompile import compile_month_loop

        compile_month_loop(base)


# ---- serial ----------------------------------------------------------------------------------
def serial(
    base: Resolved,
    tasks: Sequence[Task],
    *,
    metrics: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    **_: Any,
) -> Generator[Outcome, None, None]:
    """Run the tasks one after another in this process."""
    for task in tasks:
        yield execute(base, task, metrics, groups)


# ---- local processes ---------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    """Exit when this worker's parent does: the sweep's process (a spawned worker) or the fork
    server, which exits when the sweep's process does (`forkserver`), even by SIGKILL."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:  # do not linger as an orphan
            os._exit(70)


# Fault injection for the tests: a worker that reaches a run whose key is listed here (read once, when
# the worker starts) dies at once (os._exit), as one killed by the OOM killer or a native crash would.
CRASH_KEYS_ENV = "SCSIM_FAULT_CRASH_KEYS"


def worker_context() -> Any:
    """The local pool's way of starting workers: multiprocessing's `forkserver` (POSIX), whose one
    server process imports the package and loads the kernels for every worker it forks; `spawn`
    elsewhere. Neither copies the sweep's threads or locks into a worker, as a plain fork would."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # a user's script is still imported by each worker, as `__mp_main__`, as under `spawn` (Python
    # 3.11's fork server never receives the script's path, so listing `__main__` would do nothing)
    ctx.set_forkserver_preload(["simulation.experiment.forkserver"])
    return ctx


def stop_fork_server(settle: float = 0.3) -> None:
    """Stop this process's fork server, if one runs, and wait for it (a later pool starts another).

    The server reaps the workers it forked, so once it has been waited for, their CPU time counts
    among this process's children (`getrusage(RUSAGE_CHILDREN)`), as a spawned worker's always did:
    `scsim bench-sweep` measures a sweep that way. A worker that has just ended is reaped when the
    server hears of it; `settle` seconds give it the time before the server is asked to stop."""
    from multiprocessing import forkserver

    server: Any = getattr(forkserver, "_forkserver", None)
    if server is None or getattr(server, "_forkserver_pid", None) is None or not hasattr(server, "_stop"):
        return
    time.sleep(settle)
    server._stop()


def _drop_fork_server_pipe() -> None:
    """Let the fork server exit when its sweep dies. The server exits when every holder of its
    "alive" pipe has closed it, and multiprocessing hands each forked worker a copy: a sweep killed
    with SIGKILL would leave the server, and so its workers (`_watch_parent`), running for good.
    A worker starts no processes of its own, so it needs no copy."""
    from multiprocessing import forkserver

    server: Any = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None


def _init_worker(payload_file: str, cwd: str, env: dict[str, str]) -> None:
    """Set a worker up for its sweep: the sweep's folder and environment (a fork server started
    for an earlier pool of the same process may have had others), the base, the kernels."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if os.getcwd() != cwd:
        os.chdir(cwd)
    if dict(os.environ) != env:
        os.environ.clear()
        os.environ.update(env)
    with open(payload_file, "rb") as fh:
        base, metrics, groups = pickle.load(fh)
    crash = frozenset(filter(None, os.environ.get(CRASH_KEYS_ENV, "").split(",")))
    _WORKER.update(base=base, metrics=metrics, groups=groups, crash=crash)
    _drop_fork_server_pipe()
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name="scsim-watch-parent").start()
    warm_worker(base)


def _run_in_worker(batch: list[Task]) -> list[Outcome]:
    out = []
    for task in batch:
        if task.key in _WORKER["crash"]:
            os._exit(71)
        out.append(execute(_WORKER["base"], task, _WORKER["metrics"], _WORKER["groups"]))
    return out


# Runs sent to a worker at a time: one submission (pickling, a pipe round trip, a future and a wake-up
# of the parent) per run cost about a quarter of the model's time on 2 cores (docs/experiments.md, "Sweeps").
MAX_BATCH = 8


def batch_size(left: int, workers: int) -> int:
    """Runs per submission: up to MAX_BATCH, but small enough near the end that every worker gets
    some of the last runs (about four submissions a worker still to come)."""
    return max(1, min(MAX_BATCH, left // (4 * workers)))


class WorkerCrashed(RuntimeError):
    """A worker process died while running a run."""


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _write_payload(base: Resolved, metrics: Sequence[str] | None, groups: Sequence[str] | None) -> str:
    """Pickle what every worker needs into a temporary file and return its path.

    The base goes to each worker through a file: passed inline, it would make the parent wait for
    each child to import the package before starting the next one (a full pipe), one at a time."""
    payload = pickle.dumps(
        (base, None if metrics is None else list(metrics), None if groups is None else list(groups)),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    _clean_payload_files()
    fd, payload_file = tempfile.mkstemp(prefix=f"scsim-base-{os.getpid()}-", suffix=".pickle")
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
    return payload_file


def processes(
    base: Resolved,
    tasks: Sequence[Task],
    *,
    metrics: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    workers: int | None = None,
    max_crashes: int = 2,
    warm: bool = True,
    **_: Any,
) -> Generator[Outcome, None, None]:
    """Run the tasks in `workers` local processes (default: every core this process may use).

    Workers are forks of a fork server that has imported the package and loaded the kernels once
    (`worker_context`, experiment/forkserver.py; `spawn` where there is no `forkserver`). If a
    worker dies, the pool is rebuilt and the runs that were in flight are retried one at a time; a
    run that crashes its worker `max_crashes` times on its own is yielded as failed (`WorkerCrashed`).
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    n = workers or default_workers()
    queue: deque[Task] = deque(tasks)
    if warm and queue:
        _compile_here(base)
    if not queue:
        return
    payload_file = _write_payload(base, metrics, groups)
    ctx = worker_context()
    suspects: deque[Task] = deque()
    crashes: dict[str, int] = {}
    pool: ProcessPoolExecutor | None = None
    inflight: dict[Any, list[Task]] = {}
    try:
        while queue or suspects or inflight:
            if pool is None:
                size = max(1, min(n, len(queue) + len(suspects)))
                pool = ProcessPoolExecutor(
                    max_workers=size,
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(payload_file, os.getcwd(), dict(os.environ)),
                )
            broken = False
            # after a crash, suspects run alone so that a crash names its run
            while not broken and (suspects and not inflight or not suspects and queue and len(inflight) < 2 * n):
                if suspects:
                    batch = [suspects.popleft()]
                else:
                    batch = [queue.popleft() for _ in range(batch_size(len(queue), n))]
                try:
                    inflight[pool.submit(_run_in_worker, batch)] = batch
                except BrokenProcessPool:
                    for task in reversed(batch):
                        (suspects if task.key in crashes else queue).appendleft(task)
                    broken = True
            if not broken:
                done, _pending = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    batch = inflight.pop(fut)
                    try:
                        outcomes = fut.result()
                    except BrokenProcessPool:
                        inflight[fut] = batch
                        broken = True
                        continue
                    except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
                        outcomes = [Outcome(t.key, t.point, t.rep, error=error_record(t, exc)) for t in batch]
                    yield from outcomes
            if broken:
                lost = [task for batch in inflight.values() for task in batch]
                alone = len(lost) == 1
                inflight.clear()
                _stop_pool(pool)
                pool = None
                for task in lost:  # a crash counts against a run only if it ran alone
                    crashes[task.key] = crashes.get(task.key, 0) + int(alone)
                    if crashes[task.key] >= max_crashes:
                        crash = WorkerCrashed(
                            f"the worker process running this run died {crashes[task.key]} times "
                            "while running it alone (killed, out of memory or crashed)"
                        )
                        yield Outcome(task.key, task.point, task.rep, error=error_record(task, crash, tb=""))
                    else:
                        suspects.append(task)
    finally:
        if pool is not None:
            _stop_pool(pool)
        with contextlib.suppress(OSError):
            os.unlink(payload_file)


def _clean_payload_files() -> None:
    """Remove base-scenario files left by sweeps that were killed (their process is gone)."""
    from simulation.io import pid_alive

    folder = tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith("scsim-base-") and name.endswith(".pickle")):
            continue
        try:
            pid = int(name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if not pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))


def _stop_pool(pool: Any) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    with contextlib.suppress(Exception):
        pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            if p.is_alive():
                p.terminate()
        except Exception:  # noqa: BLE001
            pass
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(timeout=5)


# ---- Dask ------------------------------------------------------------------------------------
_DASK_BASES: dict[str, tuple] = {}


def _make_base_plugin() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    class BasePlugin(WorkerPlugin):
        """Puts the base scenario (and the output filter) on every Dask worker, once, when it starts
        (also on workers that join or restart later)."""

        def __init__(self, token: str, payload: bytes) -> None:
            self.token, self.payload = token, payload

        async def setup(self, worker: Any) -> None:
            import asyncio

            _DASK_BASES[self.token] = pickle.loads(self.payload)
            # the kernels, loaded once per worker before its first run; in a thread, so that the
            # worker keeps answering the scheduler while it loads (or, on a cold cache, compiles)
            await asyncio.get_running_loop().run_in_executor(None, warm_worker, _DASK_BASES[self.token][0])

        def teardown(self, worker: Any) -> None:
            _DASK_BASES.pop(self.token, None)

    BasePlugin.__module__, BasePlugin.__qualname__ = __name__, "BasePlugin"
    return BasePlugin


def __getattr__(name: str) -> Any:
    # `BasePlugin` is made on first use, so that importing this module (in every local worker
    # process) does not import distributed; pickles find it here by name.
    if name == "BasePlugin":
        cls = _make_base_plugin()
        globals()["BasePlugin"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _dask_run(token: str, tasks: list[Task]) -> list[Outcome]:
    try:
        base, metrics, groups = _DASK_BASES[token]
    except KeyError:
        raise RuntimeError("the base scenario of this sweep is not on this worker (plugin missing)") from None
    return [execute(base, task, metrics, groups) for task in tasks]


# A LocalCluster at Dask's defaults keeps idle workers busy (a statistical profiler in each worker,
# frequent event-loop ticks and memory polls); these settings quiet them, leaving the CPU to runs
# (docs/model.md §5 has the figures). Workers get the config from their nanny.
LOCAL_DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


def dask(
    base: Resolved,
    tasks: Sequence[Task],
    *,
    metrics: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    warm: bool = True,
    max_resubmits: int = 3,
    batch_seconds: float = 0.5,
    max_batch: int = 32,
    **_: Any,
) -> Generator[Outcome, None, None]:
    """Run the tasks on Dask: the cluster at `scheduler` ("tcp://host:port"), or a LocalCluster of
    `workers` single-threaded worker processes on 127.0.0.1 (default: every core).

    Runs travel in batches of about `batch_seconds` of work (at most `max_batch` runs), since each
    Dask task costs a few milliseconds of CPU; outcomes still come back run by run. A batch whose
    worker died is redone by another worker; if a batch fails for good (`KilledWorker`), its runs
    are retried one per task so that only the run that kills its workers is recorded as failed.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise RuntimeError("the dask executor needs dask[distributed] (pip install 'dask[distributed]')") from exc

    queue: deque[Task] = deque(tasks)
    if warm and scheduler is None and queue:
        _compile_here(base)
    if not queue:
        return
    token = secrets.token_hex(6)
    payload = pickle.dumps(
        (base, None if metrics is None else list(metrics), None if groups is None else list(groups)),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    cluster = None
    client = None
    inflight: dict[Any, tuple[Any, list[Task]]] = {}  # by Dask key
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="30s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                from simulation.scenario.errors import InputError

                raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        else:
            import dask as _dask

            with _dask.config.set(LOCAL_DASK_CONFIG):
                cluster = LocalCluster(
                    n_workers=workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )  # see _quiet_dask_logs
            client = Client(cluster, set_as_default=False)
        plugin_name = f"scsim-base-{token}"
        plugin_cls = globals().get("BasePlugin") or __getattr__("BasePlugin")
        client.register_plugin(plugin_cls(token, payload), name=plugin_name)
        resubmits: dict[str, int] = {}
        alone: set[str] = set()  # runs of a batch whose worker died: retried one per Dask task
        ac = as_completed(loop=client.loop)
        threads = [max(1, sum(client.nthreads().values())), time.monotonic()]
        mean_run = [0.0, 0]  # running mean of a run's time, to size batches

        def n_threads() -> int:
            if time.monotonic() - threads[1] > 2.0:
                threads[0] = max(1, sum(client.nthreads().values()))
                threads[1] = time.monotonic()
            return threads[0]

        def batch_size() -> int:
            # Dask costs a few ms of CPU per task: runs go in batches of about batch_seconds, but
            # small enough that every worker keeps a few batches to do (and a lost worker costs little)
            if not mean_run[1]:
                return 1
            size = int(batch_seconds / max(mean_run[0], 1e-3))
            return max(1, min(size, max_batch, len(queue) // (4 * n_threads()) or 1))

        def submit(batch: list[Task]) -> None:
            fut = client.submit(_dask_run, token, batch, key=f"scsim-{token}-{batch[0].key}-{len(batch)}", pure=False)
            inflight[fut.key] = (fut, batch)
            ac.add(fut)

        def refill() -> None:
            # until a run has come back (its time sizes the batches), one single run per thread
            limit = max(4 * n_threads(), 16) if mean_run[1] else n_threads()
            while queue and len(inflight) < limit:
                size = batch_size()
                batch = [queue.popleft()]
                while queue and len(batch) < size and queue[0].key not in alone and batch[0].key not in alone:
                    batch.append(queue.popleft())
                submit(batch)

        refill()
        for fut in ac:
            _, batch = inflight.pop(fut.key)
            status = fut.status
            outcomes: list[Outcome] | None = None
            if status == "finished":
                try:
                    outcomes = fut.result()
                except Exception as exc:  # noqa: BLE001 - the result was lost after all
                    status, err = "lost", exc
            elif status == "error":
                error = fut.exception()
                if len(batch) == 1:  # e.g. KilledWorker: the workers running it died allowed-failures times
                    outcomes = [
                        Outcome(
                            batch[0].key,
                            batch[0].point,
                            batch[0].rep,
                            error=error_record(batch[0], error, tb="".join(traceback.format_exception(error))),
                        )
                    ]
                else:  # find out which run of the batch it was: each on its own
                    alone.update(t.key for t in batch)
                    queue.extendleft(reversed(batch))
                    fut.release()
                    refill()
                    continue
            else:  # cancelled: the scheduler lost it (restart, lost connection)
                err = RuntimeError(f"Dask future {status}")
            fut.release()
            if outcomes is None:
                for task in batch:
                    resubmits[task.key] = resubmits.get(task.key, 0) + 1
                    if resubmits[task.key] > max_resubmits:
                        raise RuntimeError(
                            f"Dask lost run {task.key} {max_resubmits} times ({err}); stopping the "
                            "sweep (finished runs are kept: run the same command again to resume)"
                        )
                queue.extendleft(reversed(batch))
            else:
                for outcome in outcomes:
                    mean_run[1] += 1
                    mean_run[0] += (outcome.run_seconds - mean_run[0]) / mean_run[1]
                    yield outcome
            refill()
    finally:
        if client is not None:
            try:
                if inflight:
                    client.cancel([f for f, _ in inflight.values()])
                if scheduler:
                    client.unregister_worker_plugin(f"scsim-base-{token}")
            except Exception:  # noqa: BLE001
                pass
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


EXECUTORS: dict[str, Callable[..., Generator[Outcome, None, None]]] = {
    "serial": serial,
    "processes": processes,
    "dask": dask,
}

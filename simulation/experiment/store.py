"""The results store of a sweep: one folder per experiment, one file per finished run.

    results/<experiment>/
        experiment.json        the experiment as loaded (spec, base scenario, design, seeds), its hash,
                               package versions and git commit when the store was created
        design.parquet         the design points (one row per point, one column per factor)
        design_X.npy           SALib's sample matrix X (sampling designs only)
        tasks.parquet          every planned run: point, rep, seed, key, name, overrides (JSON)
        runs/batch-<id>.parquet  finished runs, up to RUNS_PER_FILE a file (those that finished within
                               FILE_SECONDS of each other): their values one run after another, and what
                               names each run (point, rep, key, scenario, seed, labels' id, count) in the
                               schema metadata (`tasks.pack_runs`). Stores of format 2 hold one run a file
                               (`<key>.parquet`, values only); of format 1, a run's tidy rows
                               (the columns of `tasks.task_table`). All three are read.
        labels/<id>.parquet    the year, metric and group of each value of a run (`tasks.Labels`): one file
                               per output filter, not the same three columns again in every run file
        failed/<key>.json      one file per failed run: error type, message, traceback, task
        sessions/<...>.json    one file per `run_sweep` call: when, where, executor, shard, counts

`Store.read_dataset` (and `read_runs`) read every kind of run file into the same tidy table.

Every file appears whole or not at all: it is written under a hidden temporary name in the same
folder, flushed and fsynced, then renamed into place with `os.replace` (atomic on POSIX). A run
killed mid-write leaves at most a hidden temporary file, which the next `Store.open` removes
(only temporaries whose writer is gone: a dead process on this host, or older than a day on
another host, so several shard jobs can share one folder on a cluster file system).

A sweep writes its runs in batches (`RunWriter`): a run killed before its batch was written is run
again by the next sweep, as one killed mid-run is. A batch waits at most FILE_SECONDS.

A run's key is a hash of (base scenario, overrides, seed): the same key always means the same
run. Two design points with identical overrides (a sampled design can draw the same value twice)
share one run file; `read_dataset` gives each point its own rows.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulation.io import (
    TMP_MARK,
    atomic_write,
    clean_temporaries,
    folder_path,
    fsync_dir,
    is_temp,
    new_temp_dir,
    remove,
    temp_name,
)
from simulation.scenario.errors import InputError

if TYPE_CHECKING:  # simulation.experiment.tasks imports the model: only where a run is written or read
    from simulation.experiment.tasks import StoredRun

FORMAT = 3  # 3: several runs a file; 2: one run a file, values only, labels in labels/; 1: tidy rows
BATCH_PREFIX = "batch-"  # run files of several runs; a file of format 1 or 2 is named by its run's key
MANIFEST = "experiment.json"
DATASET_ORDER = ["point", "rep", "metric", "group", "year"]
DATASET_COLUMNS = ["point", "rep", "key", "run", "scenario", "seed", "year", "metric", "group", "value"]
TASK_COLUMNS = ["point", "rep", "seed", "key", "name", "overrides"]


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False, default=_plain) + "\n"


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, Path):
        return str(v)
    return str(v)


# ---- the store -------------------------------------------------------------------------------
def tasks_frame(tasks: Sequence[Any]) -> pd.DataFrame:
    """The planned runs as a table (Task objects from `tasks.plan_tasks`)."""
    return pd.DataFrame(
        {
            "point": np.array([t.point for t in tasks], dtype=np.int64),
            "rep": np.array([t.rep for t in tasks], dtype=np.int64),
            "seed": np.array([t.seed for t in tasks], dtype=np.int64),
            "key": [t.key for t in tasks],
            "name": [t.name for t in tasks],
            "overrides": [json.dumps(list(map(list, t.overrides)), default=str) for t in tasks],
        },
        columns=TASK_COLUMNS,
    )


class Store:
    """One experiment's results folder. Open with `Store.create_or_open` (a sweep) or `Store.open` (reading)."""

    def __init__(self, root: Path, manifest: dict) -> None:
        self.root = Path(root)
        self.manifest = manifest
        self.runs_dir = self.root / "runs"
        self.failed_dir = self.root / "failed"
        self.sessions_dir = self.root / "sessions"
        self.labels_dir = self.root / "labels"
        self._labels_written: set[str] = set()
        self.removed_temporaries: list[Path] = []
        self._file_keys: dict[str, tuple[str, ...]] = {}  # run file name -> keys of its runs (files never change)
        self._lock = threading.Lock()  # writes may come from a RunWriter's threads

    # -- opening ---------------------------------------------------------------------------
    @property
    def experiment_hash(self) -> str:
        return str(self.manifest.get("experiment_hash", ""))

    @classmethod
    def open(cls, root: Path | str) -> Store:
        """An existing store (for reading, merging or resuming); cleans up stale temporaries."""
        root = Path(root)
        path = root / MANIFEST
        if not path.is_file():
            raise InputError("not an experiment results folder (no experiment.json)", str(root))
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read experiment.json: {exc}", str(path)) from None
        if not isinstance(manifest, dict) or "experiment_hash" not in manifest:
            raise InputError("experiment.json has no experiment_hash; not a results store", str(path))
        if isinstance(manifest.get("format"), int) and manifest["format"] > FORMAT:
            raise InputError(
                f"experiment.json says format {manifest['format']}, but this scsim reads format {FORMAT} or "
                "older; update scsim to read it",
                str(path),
            )
        store = cls(root, manifest)
        store._clean()
        return store

    @classmethod
    def create_or_open(
        cls,
        root: Path | str,
        manifest: dict,
        *,
        design: pd.DataFrame | None = None,
        tasks: pd.DataFrame | None = None,
        X: np.ndarray | None = None,
        force: bool = False,
        _retry: bool = True,
    ) -> Store:
        """Open the store of this experiment at `root`, creating it if needed.

        `manifest` must carry `experiment_hash`. A store of a different experiment (another hash)
        is refused with a InputError, unless `force`, which replaces it. A folder that exists,
        is not empty and is not a store is always refused (nothing is deleted). The new store is
        built in a hidden sibling folder and renamed into place, so it appears whole.
        """
        root = folder_path(root)
        want = manifest.get("experiment_hash")
        if not want:
            raise ValueError("manifest needs an experiment_hash")
        if root.exists() and not root.is_dir():
            raise InputError("exists and is not a folder", str(root))
        if root.parent.exists():
            clean_temporaries(root.parent, prefix=f"{root.name}{TMP_MARK}")
        if (root / MANIFEST).is_file():
            store = cls.open(root)
            if store.experiment_hash == want:
                store._ensure_dirs()
                store._upgrade()
                return store
            if not force:
                raise InputError(
                    f"holds results of another experiment ({store.manifest.get('experiment', '?')!r}, hash "
                    f"{store.experiment_hash[:12]}; this one is {manifest.get('experiment', '?')!r}, hash "
                    f"{str(want)[:12]}): the experiment file, its base scenario or its design changed. "
                    "Choose another --out, or use --force to replace those results",
                    str(root),
                )
            old = temp_name(root)
            os.replace(root, old)
            remove(old)
        elif root.is_dir() and (clean_temporaries(root) or True) and any(not is_temp(n) for n in os.listdir(root)):
            raise InputError(
                "folder exists, is not empty and is not an experiment results folder "
                "(no experiment.json); choose another --out",
                str(root),
            )
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = new_temp_dir(root)
        try:
            for sub in ("runs", "failed", "sessions", "labels"):
                (tmp / sub).mkdir()
            if design is not None:
                atomic_write(tmp / "design.parquet", _parquet(design))
            if X is not None:
                import io

                buf = io.BytesIO()
                np.save(buf, np.asarray(X), allow_pickle=False)
                atomic_write(tmp / "design_X.npy", buf.getvalue())
            if tasks is not None:
                atomic_write(tmp / "tasks.parquet", _parquet(tasks))
            body = dict(manifest)
            body["format"] = FORMAT  # what it will hold (a merge may start from an older shard's manifest)
            atomic_write(tmp / MANIFEST, _json(body))
            fsync_dir(tmp)
            try:
                os.rename(tmp, root)  # replaces an empty folder; fails if another process got there first
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not _retry:
                    raise InputError(f"cannot create the results folder: {exc}", str(root)) from None
                shutil.rmtree(tmp, ignore_errors=True)  # another process (a shard) created it first: open that
                return cls.create_or_open(root, manifest, design=design, tasks=tasks, X=X, force=False, _retry=False)
            fsync_dir(root.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls.open(root)

    def _upgrade(self) -> None:
        """Mark a store of an older format as this one before any run of this format goes in, so
        that an older scsim refuses it with a clear message instead of misreading its new runs."""
        if int(self.manifest.get("format", 1)) < FORMAT:
            self.manifest = {**self.manifest, "format": FORMAT}
            atomic_write(self.root / MANIFEST, _json(self.manifest))

    def _ensure_dirs(self) -> None:
        for d in (self.runs_dir, self.failed_dir, self.sessions_dir, self.labels_dir):
            d.mkdir(exist_ok=True)

    def _clean(self) -> None:
        for d in (self.root, self.runs_dir, self.failed_dir, self.sessions_dir, self.labels_dir):
            self.removed_temporaries += clean_temporaries(d)

    # -- reading ---------------------------------------------------------------------------
    def run_files(self) -> dict[str, tuple[str, ...]]:
        """Each run file in place (name, in sorted order) and the keys of its runs; a file's keys are
        read from its footer once, since a file in place never changes."""
        try:
            names = sorted(n for n in os.listdir(self.runs_dir) if n.endswith(".parquet") and not n.startswith("."))
        except FileNotFoundError:
            return {}
        out = {}
        for name in names:
            keys = self._file_keys.get(name)
            if keys is None:
                if not name.startswith(BATCH_PREFIX):
                    keys = (name[:-8],)
                else:
                    try:
                        keys = batch_keys(self.runs_dir / name)
                    except FileNotFoundError:
                        continue
                with self._lock:
                    self._file_keys[name] = keys
            out[name] = keys
        return out

    def index(self) -> dict[str, str]:
        """Key of each finished run -> the name of the file that holds it (the first, in sorted
        order, should two files hold it)."""
        where: dict[str, str] = {}
        for name, keys in self.run_files().items():
            for key in keys:
                where.setdefault(key, name)
        return where

    def finished_keys(self) -> set[str]:
        """Keys of runs whose result file is in place."""
        return set(self.index())

    def failed_keys(self) -> set[str]:
        """Keys of recorded failures that have not finished since."""
        try:
            names = os.listdir(self.failed_dir)
        except FileNotFoundError:
            return set()
        return {n[:-5] for n in names if n.endswith(".json") and not n.startswith(".")} - self.finished_keys()

    def failed(self) -> dict[str, dict]:
        """Recorded failures (key -> record: error_type, message, traceback, task, attempts, ...)."""
        out = {}
        for key in sorted(self.failed_keys()):
            try:
                out[key] = json.loads((self.failed_dir / f"{key}.json").read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
        return out

    def tasks(self) -> pd.DataFrame:
        path = self.root / "tasks.parquet"
        if not path.is_file():
            return pd.DataFrame(columns=TASK_COLUMNS)
        return pd.read_parquet(path)

    def design(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / "design.parquet")

    def design_X(self) -> np.ndarray | None:
        path = self.root / "design_X.npy"
        return np.load(path, allow_pickle=False) if path.is_file() else None

    def run_file(self, key: str) -> Path:
        """The file that holds run `key` (with other runs, in a store of format 3); KeyError if none."""
        return self.runs_dir / self.index()[key]

    def read_runs(self, keys: Sequence[str], where: dict[str, str] | None = None) -> pd.DataFrame:
        """The tidy rows (the columns of `tasks.task_table`) of the runs `keys`, each once, in the
        order of `keys`, whichever way they were stored; each file that holds them is read once.
        `where` is `index()` if the caller has it."""
        where = self.index() if where is None else where
        missing = [k for k in keys if k not in where]
        if missing:
            raise KeyError(f"no finished run {missing[0]} in {self.runs_dir}")
        files = list(dict.fromkeys(where[k] for k in keys))
        return read_run_files([self.runs_dir / f for f in files], self.labels_dir, keys=keys).to_pandas()

    def read_run(self, key: str) -> pd.DataFrame:
        """One run's tidy rows (the columns of `tasks.task_table`), whichever way it was stored."""
        return self.read_runs([key])

    def read_dataset(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """Every finished planned run as one table, sorted by point, rep, metric, group, year.

        The order (and so the table) does not depend on which run finished first or where. A run
        shared by several points (same overrides) appears once per point. `keys` restricts to
        some runs.
        """
        where = self.index()
        finished = set(where)
        tasks = self.tasks()
        if len(tasks):
            tasks = tasks[tasks["key"].isin(finished)]
            if keys is not None:
                tasks = tasks[tasks["key"].isin(set(keys))]
            wanted = list(dict.fromkeys(tasks["key"]))
        else:  # a store without a plan: every run file there is
            wanted = sorted(finished if keys is None else finished & set(keys))
        if not wanted:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _EMPTY_DTYPES.items()})
        frame = self.read_runs(wanted, where)
        if len(tasks) and tasks["key"].duplicated().any():
            frame = frame.drop(columns="point").merge(tasks[["key", "point"]], on="key", how="inner")
            frame = frame[
                [c for c in DATASET_COLUMNS if c in frame.columns]
                + [c for c in frame.columns if c not in DATASET_COLUMNS]
            ]
        order = [c for c in DATASET_ORDER if c in frame.columns]
        return frame.sort_values(order, kind="mergesort", ignore_index=True)

    # -- writing ---------------------------------------------------------------------------
    def write_runs(self, runs: Sequence[StoredRun]) -> Path:
        """Store finished runs in one file (their labels must be in place: `ensure_labels`); failures
        recorded earlier for them are removed. The file is named by the keys it holds, so that the
        same runs always make the same file."""
        from simulation.experiment.tasks import pack_runs

        keys = [r.key for r in runs]
        name = batch_name(keys)
        path = self.runs_dir / name
        atomic_write(path, pack_runs(runs))
        fsync_dir(self.runs_dir)  # one file for many runs: its rename is made durable at once
        self._placed(name, keys)
        return path

    def copy_run_file(self, source: Path, keys: Sequence[str]) -> None:
        """Take a run file of another store of the experiment whole (merging shards)."""
        atomic_write(self.runs_dir / source.name, source.read_bytes())
        self._placed(source.name, keys)

    def _placed(self, name: str, keys: Sequence[str]) -> None:
        """A run file is in place: know its keys, and drop the failures recorded for its runs."""
        with self._lock:
            self._file_keys[name] = tuple(keys)
        for key in keys:
            (self.failed_dir / f"{key}.json").unlink(missing_ok=True)

    def ensure_labels(self, labels: tuple[str, bytes] | None) -> None:
        """Write a run's labels (id, Parquet bytes) unless this store has them already."""
        if labels is not None and labels[0] not in self._labels_written:
            self.write_labels(*labels)

    def write_labels(self, labels_id: str, data: bytes) -> None:
        """Store a run's labels under their id, unless they are there already (the id is a hash of
        the bytes, so the same id is the same file)."""
        path = self.labels_dir / f"{labels_id}.parquet"
        if not path.is_file():
            self.labels_dir.mkdir(exist_ok=True)
            atomic_write(path, data)
            fsync_dir(self.labels_dir)
        self._labels_written.add(labels_id)

    def copy_labels(self, other: Store) -> None:
        """Take every labels file of another store of the experiment (merging shards)."""
        for path in sorted(other.labels_dir.glob("*.parquet")):
            if not is_temp(path.name):
                self.write_labels(path.stem, path.read_bytes())

    def record_failure(self, key: str, record: dict) -> dict:
        """Store (or update) the failure record of a run; counts attempts across sweeps."""
        path = self.failed_dir / f"{key}.json"
        attempts = 0
        with contextlib.suppress(FileNotFoundError, ValueError, AttributeError):
            attempts = int(json.loads(path.read_text(encoding="utf-8")).get("attempts", 0))
        body = dict(record)
        body["key"] = key
        body["attempts"] = attempts + 1
        body.setdefault("time", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        atomic_write(path, _json(body))
        return body

    def write_session(self, name: str, record: dict) -> Path:
        path = self.sessions_dir / f"{name}.json"
        atomic_write(path, _json(record))
        return path

    def sessions(self) -> list[dict]:
        out = []
        for p in sorted(self.sessions_dir.glob("*.json")):
            if p.name.startswith("."):
                continue
            try:
                out.append(json.loads(p.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return out

    def sync(self) -> None:
        fsync_dir(self.runs_dir)
        fsync_dir(self.failed_dir)

    def visible_temporaries(self) -> list[Path]:
        """Temporary files present now (from writes in progress or killed writers)."""
        out = []
        for d in (self.root, self.runs_dir, self.failed_dir, self.sessions_dir, self.labels_dir):
            if d.is_dir():
                out += [d / n for n in os.listdir(d) if is_temp(n)]
        return out


# A sweep gathers finished runs into files of up to RUNS_PER_FILE runs, and writes a file once its
# first run has waited FILE_SECONDS: encoding and writing a file cost more than one run's values
# (docs/experiments.md, "Sweeps: many runs a file"), and a killed sweep loses at most the runs of
# that last second.
RUNS_PER_FILE = 64
FILE_SECONDS = 1.0
RUNS_PER_FILE_ENV = "SCSIM_RUNS_PER_FILE"  # the user's knob: e.g. 1, a file per run, as before format 3


def resolve_runs_per_file(value: int | None = None, environ: dict[str, str] | None = None) -> int:
    """Runs a file at most: `value` if given, else SCSIM_RUNS_PER_FILE if set, else RUNS_PER_FILE;
    InputError unless a whole number of at least 1 (checked with a sweep's other arguments)."""
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"runs a file: {value!r}; expected a whole number, at least 1")
        return value
    text = (os.environ if environ is None else environ).get(RUNS_PER_FILE_ENV, "").strip()
    if not text:
        return RUNS_PER_FILE
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"{RUNS_PER_FILE_ENV}={text!r}: expected a whole number of runs a file, at least 1")
    return n


# the thread that writes the files (RunWriter): a file holds many runs, so its fsync waits once for
# all of them, and the next runs go on meanwhile; more threads only add CPU
WRITE_THREADS = 1


class RunWriter:
    """Gathers finished runs into files of up to `runs_per_file` runs and stores each file from a
    thread, so that neither the encoding nor the fsync holds up the loop that receives the runs.

    A file is written when it is full, when its first run has waited `seconds` (a flusher thread
    sees to it between runs), and when the writer is drained. Each file is written whole, fsynced
    and renamed into place (`Store.write_runs`); a run's labels are written before it, in `put`,
    the first time. `put` waits when `limit` files are in flight, and raises the error of a write
    that failed; `drain` writes what is gathered and waits for every file. Use it as a context
    manager: leaving it drains, so that no write is left running when a sweep records its session.
    `threads=0` writes each file in `put` (or `drain`) itself, and nothing between two puts;
    `threads` None is WRITE_THREADS, `runs_per_file` None is what `resolve_runs_per_file()` says."""

    def __init__(
        self,
        store: Store,
        threads: int | None = None,
        limit: int = 8,
        runs_per_file: int | None = None,
        seconds: float | None = None,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        threads = WRITE_THREADS if threads is None else threads
        self.store = store
        self.limit = max(1, limit)
        self.runs_per_file = resolve_runs_per_file(runs_per_file)
        self.seconds = FILE_SECONDS if seconds is None else seconds
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="scsim-write") if threads > 0 else None
        self._pending: collections.deque = collections.deque()
        self._batch: list[StoredRun] = []
        self._since = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        if self._pool is not None:
            self._flusher = threading.Thread(target=self._flush_old, name="scsim-flush", daemon=True)
            self._flusher.start()

    def put(self, run: StoredRun, labels: tuple[str, bytes] | None = None) -> None:
        self.store.ensure_labels(labels)  # here, before any file that names them
        self._reap(block=False)
        with self._lock:
            if not self._batch:
                self._since = time.monotonic()
            self._batch.append(run)
            due = len(self._batch) >= self.runs_per_file or time.monotonic() - self._since >= self.seconds
            batch = self._take() if due else None
        if batch:
            self._write(batch)

    def _take(self) -> list[StoredRun]:
        batch, self._batch = self._batch, []
        return batch

    def _write(self, batch: list[StoredRun]) -> None:
        if self._pool is None:  # no threads: here and now
            self.store.write_runs(batch)
            return
        self._reap(block=len(self._pending) >= self.limit)
        self._submit(batch)

    def _submit(self, batch: list[StoredRun]) -> None:
        assert self._pool is not None
        self._pending.append(self._pool.submit(self.store.write_runs, batch))

    def _flush_old(self) -> None:
        """Write the gathered runs once the first has waited `seconds`, even if no run follows."""
        while not self._stop.wait(min(0.25, self.seconds / 4) if self.seconds > 0 else 0.05):
            with self._lock:
                due = bool(self._batch) and time.monotonic() - self._since >= self.seconds
                if due:  # submitted under the lock: files go to the pool in the order of their runs
                    self._submit(self._take())

    def _reap(self, block: bool) -> None:
        while self._pending and (block or self._pending[0].done()):
            self._pending.popleft().result()  # raises a failed write's error here
            block = False

    def drain(self) -> None:
        """Write the runs gathered so far, wait for every file in flight; raise the first error."""
        first: BaseException | None = None
        with self._lock:
            batch = self._take()
        if batch:
            try:
                self._write(batch)
            except BaseException as exc:  # noqa: BLE001 - wait for the others, then raise the first
                first = exc
        while self._pending:
            try:
                self._pending.popleft().result()
            except BaseException as exc:  # noqa: BLE001 - wait for the others, then raise the first
                first = first or exc
        if first is not None:
            raise first

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._stop.set()
            if self._flusher is not None:
                self._flusher.join()
            self.drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


_EMPTY_DTYPES = {
    "point": "int64",
    "rep": "int64",
    "key": "str",
    "run": "int64",
    "scenario": "str",
    "seed": "int64",
    "year": "int64",
    "metric": "str",
    "group": "str",
    "value": "float64",
}


def batch_name(keys: Sequence[str]) -> str:
    """The name of the run file that holds the runs `keys`, in this order."""
    return f"{BATCH_PREFIX}{hashlib.sha256(' '.join(keys).encode()).hexdigest()[:20]}.parquet"


def stored_runs(path: Path) -> list[StoredRun]:
    """The runs of a values-only run file (format 2 or 3) as they were stored (merging part of a file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulation.experiment.tasks import StoredRun, file_runs

    runs = file_runs(pq.ParquetFile(pa.BufferReader(Path(path).read_bytes())).read(use_threads=False))
    if runs is None:
        raise InputError("a run file of tidy rows (format 1), not of values", str(path))
    return [StoredRun(m, v.to_numpy(zero_copy_only=False).astype(np.float64)) for m, v in runs]


def batch_keys(path: Path) -> tuple[str, ...]:
    """The keys of the runs in a file of several runs, from its footer alone."""
    import pyarrow.parquet as pq

    from simulation.experiment.tasks import RUNS_META

    try:
        meta = pq.read_schema(path).metadata or {}
        return tuple(str(m["key"]) for m in json.loads(meta[RUNS_META]))
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - a file that is not a run file of this kind
        raise InputError(f"not a readable run file ({type(exc).__name__}: {exc})", str(path)) from None


def read_run_files(paths: Sequence[Path], labels_dir: Path, keys: Sequence[str] | None = None) -> Any:
    """Run files (of any format) as one pyarrow Table of tidy rows: every run of each file in the
    order of `paths`, or only the runs `keys`, each once, in the order of `keys`.

    A values-only file (format 2: one run; format 3: several) gets what names each run from its
    metadata and its year, metric and group from `labels_dir/<id>.parquet`; a file of format 1 is
    its rows. The files are read in threads (Parquet decoding releases the GIL); each label file once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulation.experiment.tasks import file_runs, full_table, run_schema

    labels: dict[str, Any] = {}
    lock = threading.Lock()

    def read(path: Path) -> Any:  # ParquetFile on the bytes: a tenth of read_table's cost for a small file
        return pq.ParquetFile(pa.BufferReader(Path(path).read_bytes())).read(use_threads=False)

    def labels_of(labels_id: str, path: Path) -> Any:
        with lock:
            if labels_id not in labels:
                where = labels_dir / f"{labels_id}.parquet"
                try:
                    labels[labels_id] = read(where)
                except FileNotFoundError:
                    raise InputError(
                        f"run file {Path(path).name} names labels {labels_id}, which are missing", str(where)
                    ) from None
            return labels[labels_id]

    def one(path: Path) -> list[tuple[str, Any]]:  # (key, tidy rows) of each run of the file
        table = read(path)
        runs = file_runs(table)
        if runs is None:  # format 1: tidy rows, one run
            key = table.column("key")[0].as_py() if table.num_rows and "key" in table.column_names else path.stem
            return [(str(key), table)]
        return [(str(m["key"]), full_table(m, v, labels_of(m["labels"], path))) for m, v in runs]

    if len(paths) < 8:
        found = [one(p) for p in paths]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
            found = list(pool.map(one, paths))
    if keys is None:
        tables = [t for runs in found for _, t in runs]
    else:
        by_key: dict[str, Any] = {}
        for runs in found:
            for key, t in runs:
                by_key.setdefault(key, t)
        tables = [by_key[k] for k in dict.fromkeys(keys) if k in by_key]
    if not tables:
        return run_schema().empty_table()
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def _parquet(frame: pd.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()

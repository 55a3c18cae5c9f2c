"""One writer per results folder: a lock file naming its owner, taken before any run.

    with sweep_lock(Path("results/lever_grid")):       # the whole plan
        ...
    with sweep_lock(out, shard=(3, 16)):                # one shard: shards of one folder run side by side

The lock is a file beside the folder, `.NAME.lock` (`.NAME.shard-3of16.lock` for a shard), made
with O_EXCL and holding the owner's host, PID, process start time and command. It is taken before
the folder is created or opened, so a second sweep on the same folder stops at once (exit 2, the
message naming the owner) instead of computing every run a second time and racing the first for
the analysis. A whole sweep excludes every shard of its folder and each shard excludes the whole
sweep and itself. A lock whose owner is gone is taken over: on this host when its process no
longer exists (or the PID now belongs to a process started later); from another host (shards on
a cluster file system) when the owner has not touched it for LOCK_STALE_SECONDS (the owner
touches it every HEARTBEAT_SECONDS). The lock is re-entrant within a process, so `scsim sweep`
can hold it across the sweep and its analysis while `run_sweep` takes it too.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simulation.io import HOST, folder_path, pid_alive, remove, temp_name
from simulation.scenario.errors import InputError

HEARTBEAT_SECONDS = 30.0
LOCK_STALE_SECONDS = 600.0
UNWRITTEN_SECONDS = 10.0  # a lock file still empty this long after it was made: its maker died
_HELD: dict[str, int] = {}  # lock path -> depth, for this process
_GUARD = threading.Lock()


def lock_path(folder: Path, shard: tuple[int, int] | None = None) -> Path:
    folder = folder_path(folder)
    tail = f".shard-{shard[0]}of{shard[1]}" if shard else ""
    return folder.with_name(f".{folder.name}{tail}.lock")


def _start_time(pid: int) -> float | None:
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:  # noqa: BLE001 - gone, or not ours to see: decided by the PID alone
        return None


def _owner_record(shard: tuple[int, int] | None) -> dict:
    return {
        "host": HOST,
        "pid": os.getpid(),
        "process_started": _start_time(os.getpid()),
        "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "shard": list(shard) if shard else None,
        "command": " ".join(sys.argv)[:500],
    }


def _read(path: Path) -> dict | None:
    """The owner in a lock file: {} if it is unreadable or still empty, None if there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        owner = json.loads(text)
    except ValueError:
        return {}
    return owner if isinstance(owner, dict) else {}


def _alive(path: Path, owner: dict) -> bool:
    """Whether the owner of the lock file at `path` may still be working."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    if not owner:
        return age < UNWRITTEN_SECONDS
    if owner.get("host") == HOST and isinstance(owner.get("pid"), int):
        if not pid_alive(owner["pid"]):
            return False
        started, now = owner.get("process_started"), _start_time(owner["pid"])
        return started is None or now is None or abs(now - float(started)) < 1.0
    return age < LOCK_STALE_SECONDS


def _describe(path: Path, owner: dict) -> str:
    if not owner:
        return f"a sweep that is starting (lock file {path})"
    what = f"shard {owner['shard'][0]}/{owner['shard'][1]}" if owner.get("shard") else "a sweep"
    return (
        f"{what}: process {owner.get('pid', '?')} on host {owner.get('host', '?')}, since "
        f"{owner.get('since', '?')} (lock file {path})"
    )


def _take_over(path: Path, seen: dict) -> None:
    """Remove a dead owner's lock, unless another process replaced it after we read it."""
    grave = temp_name(path)
    try:
        os.rename(path, grave)
    except FileNotFoundError:
        return
    if _read(grave) != seen:  # a live lock made meanwhile: put it back
        with contextlib.suppress(OSError):
            os.link(grave, path)
    remove(grave)


def _conflicts(path: Path, folder: Path, shard: tuple[int, int] | None) -> list[Path]:
    """The other lock files of `folder` that exclude this one."""
    whole = lock_path(folder)
    if shard is not None:
        return [whole]
    prefix = f".{folder.name}.shard-"
    try:
        names = os.listdir(folder.parent)
    except OSError:
        return []
    return [folder.parent / n for n in names if n.startswith(prefix) and n.endswith(".lock")]


def _refuse(folder: Path, other: Path, owner: dict) -> InputError:
    return InputError(
        f"results folder is in use by {_describe(other, owner)}; wait for it to finish, or "
        "choose another --out (a lock whose process has ended is taken over by itself)",
        str(folder),
    )


def _acquire(path: Path, folder: Path, shard: tuple[int, int] | None) -> None:
    body = json.dumps(_owner_record(shard), indent=2) + "\n"
    for _ in range(5):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _read(path)
            if owner is None:
                continue
            if _alive(path, owner):
                raise _refuse(folder, path, owner) from None
            _take_over(path, owner)
            continue
        except OSError as exc:  # a read-only or missing parent folder
            raise InputError(f"cannot make the results folder's lock file: {exc.strerror or exc}", str(path)) from None
        try:
            os.write(fd, body.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        break
    else:
        raise InputError("results folder: could not take its lock (other sweeps keep taking it)", str(folder))
    for other in _conflicts(path, folder, shard):
        owner = _read(other)
        if owner is None:
            continue
        if _alive(other, owner):
            remove(path)
            raise _refuse(folder, other, owner)
        _take_over(other, owner)


def _heartbeat(path: Path, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            os.utime(path)
        except OSError:
            return


@contextmanager
def sweep_lock(folder: Path | str, shard: tuple[int, int] | None = None) -> Iterator[Path]:
    """Hold the lock of results folder `folder` (or of one shard of it); InputError if it is taken."""
    folder = folder_path(folder)
    path = lock_path(folder, shard)
    key = str(path.absolute())
    with _GUARD:
        depth = _HELD.get(key, 0)
        if depth == 0:
            try:
                folder.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create the results folder: {exc.strerror or exc}", str(folder)) from None
            _acquire(path, folder, shard)
        _HELD[key] = depth + 1
    stop = threading.Event()
    beat = None
    if depth == 0:
        beat = threading.Thread(target=_heartbeat, args=(path, stop), daemon=True, name="scsim-lock")
        beat.start()
    try:
        yield path
    finally:
        with _GUARD:
            _HELD[key] -= 1
            last = _HELD[key] == 0
            if last:
                del _HELD[key]
        if last:
            stop.set()
            if beat is not None:
                beat.join(timeout=5)
            mine = _read(path)
            if mine and mine.get("pid") == os.getpid() and mine.get("host") == HOST:
                remove(path)

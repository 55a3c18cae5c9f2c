"""Files and folders that appear whole or not at all, and the one mark of every temporary name.

Everything the package writes for a user (results folders, run files of a sweep, the analysis,
reports, figures, write-backs into scenario files) is written under a temporary name in the
same folder, `.NAME.tmp-HOST-PID-RANDOM`, and then renamed into place. A process killed at any
point therefore leaves at most such a temporary, never a half-written file under the real name.
The temporary names all carry the one mark `.tmp-` with the writer's host and process, so
`clean_temporaries` recognises every one of them and removes those whose writer is gone (a dead
process on this host, or older than a day from another host, since shard jobs on several hosts
may share a folder on a cluster file system).
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path

TMP_MARK = ".tmp-"
STALE_FOREIGN_SECONDS = 24 * 3600
HOST = socket.gethostname().replace("/", "_") or "host"


def folder_path(text: str | os.PathLike) -> Path:
    """A results folder as given, with `..` and a symlinked folder resolved the way the system will.

    `nothere/../x` is `x` (nothing named `nothere` is created), and a symlink to a folder is
    replaced where it points (the link stays, nothing is left beside it)."""
    p = Path(text)
    if ".." in p.parts or p.is_symlink():
        return Path(os.path.realpath(p))
    return p


def temp_name(final: Path) -> Path:
    """The temporary sibling of `final`: hidden, marked, naming this host and process."""
    final = Path(final)
    return final.with_name(f".{final.name}{TMP_MARK}{HOST}-{os.getpid()}-{secrets.token_hex(4)}")


def is_temp(name: str) -> bool:
    return name.startswith(".") and TMP_MARK in name


def pid_alive(pid: int) -> bool:
    """Whether process `pid` of this host exists (a process we may not signal exists too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def stale(path: Path) -> bool:
    """A temporary file or folder whose writer can no longer finish it."""
    try:
        host, pid, _ = path.name.rsplit(TMP_MARK, 1)[1].rsplit("-", 2)
        pid_n = int(pid)
    except ValueError:
        host, pid_n = "", -1
    if host == HOST and pid_n > 0:
        return not pid_alive(pid_n)
    try:
        age = time.time() - path.lstat().st_mtime
    except FileNotFoundError:
        return False
    return age > STALE_FOREIGN_SECONDS


def remove(path: Path) -> None:
    """Remove a file, a symlink or a folder tree (never what a symlink points to); gone already is fine."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def clean_temporaries(folder: Path, prefix: str = "") -> list[Path]:
    """Remove the stale temporaries in `folder` of the names starting with `prefix` (not recursive)."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if not is_temp(entry.name) or not entry.name.startswith(f".{prefix}"):
            continue
        p = Path(entry.path)
        if stale(p):
            try:
                remove(p)
            except OSError:
                continue
            removed.append(p)
    return removed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def atomic_write(final: Path, data: bytes | str, mode: int = 0o666) -> None:
    """Write `data` to `final` so that readers see the old file, or the whole new one, never a part."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    final = Path(final)
    tmp = temp_name(final)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        remove(tmp)
        raise


def publish_new(final: Path, data: bytes, replace: bool) -> None:
    """Write `data` to a temporary sibling of `final`, then put it in place: replace what is there
    (replace=True) or link it, which never overwrites: FileExistsError if `final` exists."""
    tmp = temp_name(final.absolute())
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, final)
            return
        try:
            os.link(tmp, final)  # fails if the file appeared meanwhile: nothing is overwritten
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if final.exists():
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(final)) from None
            os.replace(tmp, final)
    finally:
        remove(tmp)


def write_via(final: Path, write: Callable[[Path], None]) -> None:
    """`write(path)` (a library that writes files itself: savefig, to_parquet) into a temporary, then rename."""
    final = Path(final)
    tmp = temp_name(final)
    try:
        write(tmp)
        os.replace(tmp, final)
    finally:
        remove(tmp)


def fsync_dir(folder: Path) -> None:
    """Make renames in `folder` durable (a lost rename only means work is done again)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_temp_dir(final: Path) -> Path:
    """An empty temporary folder beside `final`, to assemble it in and `publish_dir` it."""
    tmp = temp_name(final)
    tmp.mkdir(parents=False)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    return tmp


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not supported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # e.g. NFS: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


def publish_dir(tmp: Path, final: Path, attempts: int = 20) -> None:
    """Put the finished folder `tmp` in place of `final` (absent, or a folder to replace).

    Where the file system can swap two names in one step, a reader sees the old folder or the new
    one, never neither; elsewhere `final` is missing for the instant between two renames. Two
    writers publishing at once both succeed (the later one wins), and nothing is left behind
    but marked temporaries of a writer killed in between, which `clean_temporaries` removes.
    """
    tmp, final = Path(tmp), Path(final)
    for _ in range(attempts):
        try:
            os.rename(tmp, final)  # no folder there yet (or an empty one)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        if _exchange(tmp, final):
            remove(tmp)  # now holds the old folder
            return
        old = temp_name(final)
        try:
            os.rename(final, old)
        except FileNotFoundError:  # another writer moved it meanwhile: try again
            continue
        try:
            os.rename(tmp, final)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        finally:
            remove(old)
    raise OSError(errno.EBUSY, "other writers kept replacing it", str(final))

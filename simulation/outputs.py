"""Writing results: tidy tables (Parquet + CSV) and a manifest, into a folder that appears whole or not at all."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .scenario.errors import ScenarioError

PACKAGES = ("scsim", "mesa", "numba", "numpy", "pandas", "pyarrow", "pydantic", "PyYAML")


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    here = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def check_target(out: Path, force: bool) -> None:
    """Refuse, before any work is done, a results folder that exists (unless forced) or cannot be written."""
    if out.exists() and not out.is_dir():
        raise ScenarioError("exists and is not a folder; choose another --out", str(out))
    if out.exists() and not force:
        raise ScenarioError("results folder already exists; use --force to replace it, or choose another --out",
                            str(out))
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ScenarioError(f"cannot create the results folder: {parent} is not a folder", str(out))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScenarioError(f"cannot create the results folder: {parent} is not writable", str(out))


def write_results(out: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any], force: bool) -> None:
    """Write everything into a temporary sibling folder, then swap it into place."""
    check_target(out, force)
    try:
        _write(out, tables, manifest)
    except OSError as exc:
        raise ScenarioError(f"cannot write results: {exc.strerror or exc}", str(out)) from None


def _write(out: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        for name, frame in tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
            frame.to_csv(tmp / f"{name}.csv", index=False)
        with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=False, default=str)
            fh.write("\n")
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

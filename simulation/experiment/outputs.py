"""Writing results: tidy tables (Parquet + CSV) and a manifest, into a folder that appears whole or not at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.io import clean_temporaries, folder_path, new_temp_dir, publish_dir, remove
from simulation.scenario.errors import InputError
from simulation.scenario.shipped import source_checkout

if TYPE_CHECKING:  # pandas only for the annotations: a refusal before any run stays quick
    import pandas as pd

MANIFEST = "manifest.json"

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
    here = source_checkout()
    if here is None:  # a wheel: no repository to ask (and site-packages may sit inside another one)
        return "unknown"
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def check_target(out: Path, force: bool) -> None:
    """Refuse, before any work is done, a results folder that exists (unless forced) or cannot be written.

    `--force` replaces a results folder (one with a manifest.json) or an empty folder, never
    another folder: `--force --out ~` must not delete a home folder."""
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; choose another --out", str(out))
    if out.exists() and not force:
        raise InputError("results folder already exists; use --force to replace it, or choose another --out", str(out))
    if out.is_dir() and not (out / MANIFEST).is_file() and any(os.scandir(out)):
        raise InputError(
            "exists, is not empty and is not a results folder (no manifest.json); --force only "
            "replaces results folders: choose another --out",
            str(out),
        )
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create the results folder: {parent} is not a folder", str(out))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot create the results folder: {parent} is not writable", str(out))


def write_results(out: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any], force: bool) -> None:
    """Write everything into a temporary sibling folder, then swap it into place."""
    check_target(out, force)
    try:
        _write(out, tables, manifest)
    except OSError as exc:
        raise InputError(f"cannot write results: {exc.strerror or exc}", str(out)) from None


# From this many rows on a table's CSV is written by pyarrow's CSV writer (C++, about ten times
# faster than pandas: the 4.8 million rows of the README's comparison took 14 s through pandas).
# Its text differs from pandas' only in form (strings quoted, 5.0 written 5); the values read back
# are the same. Smaller tables (checks, summaries, differences, with free text) keep pandas' form.
ARROW_CSV_ROWS = 100_000


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    if len(frame) < ARROW_CSV_ROWS:
        frame.to_csv(path, index=False)
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv

    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)


def _write(out: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any]) -> None:
    out = folder_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_temporaries(out.parent, prefix=out.name)
    tmp = new_temp_dir(out)
    try:
        for name, frame in tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
            write_csv(frame, tmp / f"{name}.csv")
        with open(tmp / MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=False, default=str)
            fh.write("\n")
        publish_dir(tmp, out)
    finally:
        remove(tmp)

"""The monthly step as numba kernels, one module per submodel.

numba's on-disk cache only notices edits to a function's own file, not to the kernels it
calls in other files. So the cache lives in a folder named by a hash of all kernel sources:
any edit anywhere in the kernels gets a fresh cache, and a stale kernel can never run.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _cache_dir() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for f in sorted(here.glob("*.py")) + [here.parent / "state.py"]:
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    base = os.environ.get("SCSIM_NUMBA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "scsim", "numba")
    return os.path.join(base, digest.hexdigest()[:16])


if "NUMBA_CACHE_DIR" not in os.environ:
    import numba

    numba.config.CACHE_DIR = _cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = numba.config.CACHE_DIR  # spawned workers inherit the same folder

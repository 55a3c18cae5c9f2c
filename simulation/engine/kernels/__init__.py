"""The monthly step as numba kernels, one module per submodel.

numba's on-disk cache only notices edits to a function's own file, not to the kernels it
calls in other files. So the cache lives in a folder named by a hash of all kernel sources:
any edit anywhere in the kernels gets a fresh cache, and a stale kernel can never run.

Where the cache lives (the first of these that is set):

- `SCSIM_CACHE_DIR`: the user's knob, e.g. a folder on a cluster's shared file system that every
  node and worker reads; the hashed folder goes inside it, so one shared folder serves several
  versions of the code side by side;
- `NUMBA_CACHE_DIR`: numba's own variable, used as it is (no hashed folder inside);
- `SCSIM_NUMBA_CACHE`: the older name of `SCSIM_CACHE_DIR`;
- `$XDG_CACHE_HOME/scsim/numba` (by default `~/.cache/scsim/numba`).

The chosen folder is put in `NUMBA_CACHE_DIR` of this process, so that worker processes it
starts (local pools, a Dask LocalCluster) use the same one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def source_digest() -> str:
    """A hash of every kernel source (and state.py): the name of this code's folder in the cache."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for f in sorted(here.glob("*.py")) + [here.parent / "state.py"]:
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """The folder numba caches the compiled kernels in, by the rules of the module docstring."""
    env = os.environ if environ is None else environ
    if env.get("SCSIM_CACHE_DIR"):
        return os.path.join(os.path.abspath(os.path.expanduser(env["SCSIM_CACHE_DIR"])), source_digest())
    if env.get("NUMBA_CACHE_DIR"):
        return env["NUMBA_CACHE_DIR"]
    base = env.get("SCSIM_NUMBA_CACHE") or os.path.join(
        env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "scsim", "numba"
    )
    return os.path.join(os.path.abspath(os.path.expanduser(base)), source_digest())


def _use_cache_dir() -> None:
    import numba

    numba.config.CACHE_DIR = cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = numba.config.CACHE_DIR  # spawned workers inherit the same folder


def _skip_blas_probe() -> None:
    """Spare every process scipy.linalg's import (0.4-0.5 s of CPU) when its first kernel loads.

    numba's `numba.np.arraymath` probes for a BLAS at import, by importing
    `scipy.linalg.cython_blas`, and only `np.correlate`/`np.convolve` read the answer; these
    kernels use neither, nor any other BLAS routine. So arraymath is imported here with that one
    module marked missing (the probe then answers "no BLAS"), and the mark is removed at once: a
    later `import scipy.linalg` (SALib's, a user's) works as always. If scipy.linalg is already
    loaded the probe is cheap and is left alone."""
    import sys

    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy.linalg.cython_blas"] = None  # type: ignore[assignment]  # `import` raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg.cython_blas"]


_use_cache_dir()
_skip_blas_probe()

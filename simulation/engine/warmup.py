"""The first run compiles the numba kernels (10 to 20 seconds on 2 cores); say so, instead of a silent bar.

`warm_up` compiles them before a progress bar starts, under one line that says what is happening
and a spinner, so the bar's rate and ETA count runs only (a first `compare` used to sit at 0/60
for two minutes, then promise an ETA of almost two hours). Once compiled, the kernels are cached
on disk (simulation/engine/kernels/__init__.py) and later processes load them in about a second.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import IO

from simulation.scenario.loader import Resolved

MESSAGE = "compiling the model's kernels, first run only, 10 to 20 seconds"


def kernels_ready(unknown: bool = True) -> bool:
    """True when the monthly loop (and the packing of its arguments) is compiled in this process or
    cached on disk for this code and machine (numba's own index of the cache, which it checks
    against the source file's stamp). `unknown` is the answer when numba's internals moved and it
    cannot tell: the warm-up then says nothing rather than announce a compile that may not happen;
    a sweep (`executors.kernels_cached`) compiles once in its own process rather than in every worker."""
    from simulation.engine.kernels.step import entry_points

    try:
        return all(f.signatures or f._cache._cache_file._load_index() for f in entry_points())
    except Exception:  # noqa: BLE001
        return unknown


@contextmanager
def spinner(message: str, stream: IO[str] | None = None) -> Iterator[None]:
    """Print `message` once; on a terminal, turn a spinner after it until the block ends."""
    stream = stream or sys.stderr
    print(message, file=stream, flush=True)
    stop = threading.Event()
    t0 = time.perf_counter()
    thread = None
    if getattr(stream, "isatty", lambda: False)():

        def spin() -> None:
            for c in itertools.cycle("|/-\\"):
                if stop.wait(0.2):
                    break
                stream.write(f"\r  {c} {time.perf_counter() - t0:4.0f} s")
                stream.flush()

        thread = threading.Thread(target=spin, daemon=True)
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if thread is not None:
            thread.join()
            stream.write("\r")
        print(f"  compiled in {time.perf_counter() - t0:.0f} s (cached for later runs)", file=stream, flush=True)


def warm_up(scenario: Resolved, show: bool = True, stream: IO[str] | None = None) -> bool:
    """Compile the kernels (everything a run of `scenario` needs) unless they are ready; True if it compiled.

    On two or more cores a helper process compiles part of them meanwhile (`precompile`). Silent
    when `show` is false (`--quiet`, the Python API)."""
    if kernels_ready():
        return False
    from simulation.engine.precompile import compile_month_loop, start_helper

    helper = start_helper(scenario)  # before the spinner's thread starts, so that it can be forked
    with spinner(MESSAGE, stream) if show else nullcontext():
        compile_month_loop(scenario, helper)
    return True

"""The first run says it compiles the kernels, and compile time stays out of the progress bar."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import ROOT, load

from simulation.engine import warmup
from simulation.experiment.runner import run_batch


def test_kernels_ready_reads_numba_s_cache(tmp_path):
    """An empty cache folder: not ready (and asking compiles nothing, it takes a second)."""
    env = {**os.environ, "SCSIM_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", "from simulation.engine.warmup import kernels_ready; print(kernels_ready())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    run_batch([load("no_plan", "time.end=2020-12")], 0, 1, progress=False)
    assert warmup.kernels_ready(), "compiled in this process"


def test_a_first_run_compiles_under_its_own_line_before_the_bar(monkeypatch, capsys):
    monkeypatch.setattr(warmup, "kernels_ready", lambda: False)
    run_batch([load("no_plan", "time.end=2020-12")], 0, 3, progress=True)
    err = capsys.readouterr().err
    assert err.count(warmup.MESSAGE) == 1
    msg, done, bar = err.index(warmup.MESSAGE), err.index("compiled in"), err.index("runs:")
    assert msg < done < bar, "the bar starts after the compile, so its rate and ETA count runs only"


def test_no_line_when_the_kernels_are_ready_or_the_run_is_quiet(monkeypatch, capsys):
    monkeypatch.setattr(warmup, "kernels_ready", lambda: True)
    run_batch([load("no_plan", "time.end=2020-12")], 0, 1, progress=True)
    monkeypatch.setattr(warmup, "kernels_ready", lambda: False)
    run_batch([load("no_plan", "time.end=2020-12")], 0, 1, progress=False)
    assert warmup.MESSAGE not in capsys.readouterr().err


def test_the_kernels_are_optimised_once_by_llvm_with_this_numba():
    """simulation/engine/kernels/jit.py hooks numba's codegen so that LLVM optimises the kernels once, after
    linking (docs/speed.md: 52 s of CPU to compile instead of 82). If a numba upgrade moves the
    internals it hooks, the kernels still compile, slowly: this says so."""
    from numba.core.codegen import CPUCodeLibrary

    from simulation.engine.kernels import jit

    assert jit.LIGHT_PRELINK and jit._installed(CPUCodeLibrary._optimize_functions)


def test_a_helper_s_untyped_passes_run_once_and_it_inlines_as_before():
    """jit.py makes the IR of a helper of this package once and reuses it at each call site where
    numba inlines it (docs/speed.md); each inlined copy computes what plain Python does."""
    from numba import njit
    from numba.core.inline_closurecall import InlineWorker

    from simulation.engine.kernels import jit

    assert jit.UNTYPED_ONCE and jit._installed(InlineWorker.run_untyped_passes)

    def step(x, k):
        if x > k:
            return x - k
        return x * 2.0 + k

    step.__module__ = "simulation.engine.kernels.probe"
    inlined = njit(inline="always")(step)

    def ours(x):
        return inlined(x, 1) + inlined(x, 2) * inlined(x + 1.5, 3) - inlined(-x, 4)

    ours.__module__ = "simulation.engine.kernels.probe"
    compiled = njit(ours)
    for x in (-2.0, 0.5, 3.0, 7.25):
        assert compiled(x) == step(x, 1) + step(x, 2) * step(x + 1.5, 3) - step(-x, 4)
    assert [func for func, _ in jit._UNTYPED_IR].count(step) == 1


def test_compiler_flags_hash_and_compare_as_numba_s_own():
    """jit.py gives numba's compiler flags a cheaper hash and equality (docs/speed.md): same answers."""
    from numba.core.compiler import Flags

    from simulation.engine.kernels import jit

    assert jit.CHEAP_FLAGS
    a, b, c, d = Flags(), Flags(), Flags(), Flags()
    b.nrt = True
    c.nrt = False  # set explicitly to its default: equal to `a` by value
    d.nrt = True
    for x, y in [(a, b), (a, c), (b, d), (a, a), (b, c)]:
        assert (x == y) == (x.values() == y.values())
        assert hash(x) == hash(tuple(sorted(x.values())))
    assert a == c and b == d and a != b
    e = Flags()
    e.nrt, e.no_cpython_wrapper = True, True
    assert e != b and b != e and (e == b) == (e.values() == b.values())


def test_packing_is_compiled_without_llvm_s_module_optimisation_and_only_packing():
    """jit.py skips LLVM's module optimisation for `once_per_run` functions, which is `refs.pack` alone
    (docs/speed.md); tests/test_refs.py checks what it packs."""
    from numba.core.codegen import CPUCodeLibrary

    from simulation.engine.kernels import jit
    from simulation.engine.kernels.refs import pack

    assert jit.UNOPTIMISED_ONCE_PER_RUN and jit._installed(CPUCodeLibrary._optimize_final_module)
    assert jit._ONCE_PER_RUN == {jit._mangled(pack.py_func)} == {"10simulation6engine7kernels4refs4pack"}


def test_the_collector_runs_less_often_while_a_kernel_compiles_and_as_before_after():
    """jit.py raises the garbage collector's first threshold while numba compiles a function of this
    package (docs/speed.md), and only then: other code keeps Python's settings."""
    import gc

    from numba import njit
    from numba.core import event

    from simulation.engine.kernels import jit

    assert jit.FEWER_COLLECTIONS
    seen = []

    class Watch(event.Listener):
        def on_start(self, ev):
            seen.append(gc.get_threshold()[0])

        def on_end(self, ev):
            pass

    def ours(x):
        return x + 1

    def theirs(x):
        return x + 2

    ours.__module__ = "simulation.engine.kernels.probe"
    before = gc.get_threshold()
    watch = Watch()
    event.register("numba:compile", watch)
    try:
        assert njit(ours)(1) == 2 and njit(theirs)(1) == 3
    finally:
        event.unregister("numba:compile", watch)
    assert seen == [jit._GC_FIRST, before[0]]
    assert gc.get_threshold() == before


def test_numba_copies_an_inlined_helper_s_variables_once_and_inlines_it_as_before(monkeypatch):
    """jit.py has the blocks of an inlined helper's IR share one deepcopy memo when numba inlines into
    a function of this package (docs/speed.md), and only then; the inlined code computes what plain
    Python does."""
    from numba import njit
    from numba.core import ir
    from numba.core.inline_closurecall import InlineWorker

    from simulation.engine.kernels import jit

    assert jit.ONE_SCOPE_COPY and jit._installed(InlineWorker.inline_ir)
    copies = {"shared": 0, "own": 0}
    deepcopy_block = ir.Block.__deepcopy__

    def counting(self, memo):
        copies["shared" if getattr(jit._INLINING, "memo", None) is not None else "own"] += 1
        return deepcopy_block(self, memo)

    monkeypatch.setattr(ir.Block, "__deepcopy__", counting)

    def helper(x, n):
        s = 0.0
        for i in range(n):
            if i % 3 == 0:
                s += x * i
            elif i % 3 == 1:
                s -= x
            else:
                s += 1.0
        return s

    inlined = njit(inline="always")(helper)

    def ours(x, n):
        return inlined(x, n) + inlined(x + 1.0, n + 2) * 2.0

    def theirs(x, n):
        return inlined(x, n)

    ours.__module__ = "simulation.engine.kernels.probe"
    assert njit(ours)(0.5, 10) == helper(0.5, 10) + helper(1.5, 12) * 2.0
    assert copies["shared"] > 0 and copies["own"] == 0
    assert njit(theirs)(0.5, 10) == helper(0.5, 10)
    assert copies["own"] > 0, "other code inlines as numba does"

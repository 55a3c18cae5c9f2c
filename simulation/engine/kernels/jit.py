"""How the kernels are compiled, in one place.

The submodels are compiled without numba's reference counting (`_nrt=False`). Every read of an
array field of the state (`S.capital[i]`) otherwise costs an atomic increment/decrement
pair, and the candidate loop reads such fields for every firm (docs/model.md §5 has the
measurements). Without reference counting a kernel cannot allocate
arrays, which is wanted anyway: all working space is preallocated in `State` (`scratch_i`,
`scratch_f`), so nothing is allocated inside the monthly loop. Arrays still enter from Python
through the entry points, in the packed Params, State and Acc (`kernels/refs.py`), and are owned
by the caller for the whole run.
"""

import copy
import gc
import threading

from numba import njit

# ---- The compile-time hooks below share two rules --------------------------------------------------
# Each acts only on code of this package, and each is installed once per process (importing this
# module again, as a test that reloads it does, must not wrap a hook in itself).
_OUR_SYMBOLS = ("_ZN10simulation", "_ZN7cpython10simulation", "cfunc._ZN10simulation")  # mangled names


def _ours(func) -> bool:
    """Whether a Python function (a kernel, a helper) belongs to this package."""
    return (getattr(func, "__module__", "") or "").startswith("simulation.")


def _our_symbols(ll_module) -> list[str]:
    """The names of the functions of this package an LLVM module defines."""
    return [f.name for f in ll_module.functions if not f.is_declaration and f.name.startswith(_OUR_SYMBOLS)]


def _installed(original) -> bool:
    """Whether numba's function is already one of these hooks."""
    return getattr(original, "_scsim", False)


def _install(owner, name: str, hook) -> None:
    """Put `hook` in place of `owner.name`, marked so that it is never wrapped again."""
    hook._scsim = True
    setattr(owner, name, hook)


# ---- LLVM: one optimisation of the kernels, after linking ------------------------------------------
# numba optimises each function's LLVM IR at -O3 on its own ("function passes"), then links the
# functions a library calls and optimises the whole module at -O3 again. With the first round at
# -O0 for functions of this package, the module round still optimises everything, once, after
# inlining: the kernels compile in less time, run as fast and give bit-identical results (the
# figures, measured with python -m simulation.bench.compiletimes, are in docs/speed.md). Other
# numba code in the process is compiled as numba does by default. If numba's internals move, this
# does nothing (the kernels compile as before).
_PRELINK = threading.local()


def _light_prelink_passes() -> bool:
    try:
        from numba.core.codegen import CPUCodegen, CPUCodeLibrary

        optimize_functions = CPUCodeLibrary._optimize_functions
        function_pass_manager = CPUCodegen._function_pass_manager
    except (ImportError, AttributeError):
        return False
    if _installed(optimize_functions):
        return True

    def _optimize_functions(self, ll_module):
        _PRELINK.light = bool(_our_symbols(ll_module)) and self.name not in _LINKS_OPTIMISED
        try:
            return optimize_functions(self, ll_module)
        finally:
            _PRELINK.light = False

    def _function_pass_manager(self, **kwargs):
        if getattr(_PRELINK, "light", False):
            kwargs["opt"] = 0
        return function_pass_manager(self, **kwargs)

    _install(CPUCodeLibrary, "_optimize_functions", _optimize_functions)
    CPUCodegen._function_pass_manager = _function_pass_manager
    return True


LIGHT_PRELINK = _light_prelink_passes()


# ---- LLVM: no module optimisation for what runs once per run --------------------------------------
# `refs.pack` unboxes and stores each of a tuple's ~190 fields, once per run: LLVM's module
# optimisation of that straight-line code was a third of its compile and saves a few microseconds
# a run. A library whose functions of this package are all `once_per_run` skips it (the IR is
# compiled to machine code as it is, after the light pre-link round above).
_ONCE_PER_RUN: set[str] = set()  # mangled names, as "10simulation6engine7kernels4refs4pack"

# ---- LLVM: the month loop links its submodels as they were optimised ------------------------------
# `step.run_months` is a loop that calls the five submodels, each compiled and optimised at -O3 in
# its own library (in a cold start, half of them in a helper process). Linking them into the loop's
# module, numba optimised the whole module at -O3 once more: 2.4 s of the loop's 3.6 s of LLVM, on
# the critical path of a cold start, since the loop compiles last and alone. The loop's own function
# is optimised at -O3 before linking; the linked module is compiled to machine code as it is. The
# monthly steps run as fast and give the same results bit for bit (docs/speed.md).
_LINKS_OPTIMISED = {"run_months"}  # libraries' names (numba names a library by its function's qualname)


def _mangled(func) -> str:
    parts = f"{func.__module__}.{func.__qualname__}".split(".")
    return "".join(f"{len(part)}{part}" for part in parts)


def _no_module_optimisation_once_per_run() -> bool:
    try:
        from numba.core.codegen import CPUCodeLibrary

        optimize_final_module = CPUCodeLibrary._optimize_final_module
    except (ImportError, AttributeError):
        return False
    if _installed(optimize_final_module):
        return True

    def _optimize_final_module(self):
        names = [
            name.removeprefix("_ZN7cpython").removeprefix("_ZN")
            for name in _our_symbols(self._final_module)
            if not name.startswith("cfunc.")
        ]
        if names and all(name.startswith(tuple(_ONCE_PER_RUN)) for name in names):
            return None
        if self.name in _LINKS_OPTIMISED:
            # only drop what nothing references (numba refuses to cache a module that declares a
            # dynamic global, even an unused one)
            pm, pb = self._codegen._module_pass_manager(opt=0)
            pm.add_global_dead_code_eliminate_pass()
            pm.run(self._final_module, pb)
            return None
        return optimize_final_module(self)

    _install(CPUCodeLibrary, "_optimize_final_module", _optimize_final_module)
    return True


UNOPTIMISED_ONCE_PER_RUN = _no_module_optimisation_once_per_run()


# ---- numba IR inlining: one copy of the callee's variables, not one per block ---------------------
# To inline a helper (`helper`, `stage`), numba copies the helper's IR block by block with
# `copy.deepcopy`, twice, and each block's copy drags along a copy of the helper's whole scope
# (every variable of the function), so the copy grows with blocks x variables: most of the time
# numba spends inlining (docs/speed.md). While numba inlines into a function of this package, the
# blocks of the copies share one `deepcopy` memo, so the scope is copied once per copy, as
# `deepcopy` of the whole IR would do. The inlined code is the same: the machine code of the month
# loop is byte for byte what it is without this. If numba's internals move, this does nothing.
_INLINING = threading.local()


def _one_scope_copy_when_inlining() -> bool:
    try:
        from numba.core import ir
        from numba.core.inline_closurecall import InlineWorker

        inline_ir = InlineWorker.inline_ir
    except (ImportError, AttributeError):
        return False
    if _installed(inline_ir):
        return True
    if "__deepcopy__" in vars(ir.Block):  # numba copies blocks its own way now: leave it be
        return False

    def _deepcopy_block(self, memo):
        shared = getattr(_INLINING, "memo", None)
        if shared is not None:  # inlining: one memo for every block of the copy
            if id(self) in shared:
                return shared[id(self)]
            shared.setdefault(id(shared), []).append(self)  # keep it alive, as copy.deepcopy does
            memo = shared
        new = ir.Block.__new__(ir.Block)  # what copy.deepcopy does for a Block
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def _inline_ir(self, caller_ir, *args, **kwargs):
        outer = getattr(_INLINING, "memo", None)
        _INLINING.memo = {} if _ours(getattr(caller_ir.func_id, "func", None)) else None
        try:
            return inline_ir(self, caller_ir, *args, **kwargs)
        finally:
            _INLINING.memo = outer

    ir.Block.__deepcopy__ = _deepcopy_block
    _install(InlineWorker, "inline_ir", _inline_ir)
    return True


ONE_SCOPE_COPY = _one_scope_copy_when_inlining()


# ---- numba IR inlining: a helper's own passes run once, not once per call site --------------------
# Before numba inlines a helper at a call site, it runs the helper's untyped passes (bytecode to IR,
# and the inlining of the helpers it calls in turn) anew, for every call site: `uniform` about 50
# times, and `to_double` inside each of those. The IR these passes make depends only on the helper
# and the compiler flags, and numba copies it before inlining it (`inline_ir` copies first, "it gets
# mutated"), so for a helper of this package it is made once per process and reused. If numba's
# internals move, this does nothing.
_UNTYPED_IR: dict = {}  # (helper, compiler flags) -> its IR after the untyped passes


def _untyped_passes_once_per_helper() -> bool:
    try:
        from numba.core.inline_closurecall import InlineWorker

        run_untyped_passes = InlineWorker.run_untyped_passes
    except (ImportError, AttributeError):
        return False
    if _installed(run_untyped_passes):
        return True
    made = _UNTYPED_IR

    def _run_untyped_passes(self, func, enable_ssa=False):
        if enable_ssa or not _ours(func):
            return run_untyped_passes(self, func, enable_ssa)  # not numba inlining a helper of ours
        self.flags.enable_ssa = enable_ssa  # as numba's own does, made or not: later passes read it
        key = (func, repr(self.flags))
        if key not in made:
            made[key] = run_untyped_passes(self, func, enable_ssa)
        return made[key]

    _install(InlineWorker, "run_untyped_passes", _run_untyped_passes)
    return True


UNTYPED_ONCE = _untyped_passes_once_per_helper()


# ---- numba's typing caches: compiler flags hashed and compared without rebuilding them -------------
# numba keys its cache of `@overload` implementations by the compiler flags (`_get_impl`), and a flags
# object hashes and compares by building a dict of all its ~50 options, through a property each, for
# every key: thousands of times per kernel, about a tenth of the compile (cProfile). The same hash
# and the same answer, computed cheaply: the hash is that of the sorted option names (numba hashes
# `sorted(self.values())`, which are the names), and two flags of one class are compared on the
# options either of them sets (the others have their default in both); flags of two classes are
# compared by numba.
def _cheap_flag_comparisons() -> bool:
    try:
        from numba.core.compiler import Flags
        from numba.core.targetconfig import TargetConfig

        equal = TargetConfig.__eq__
    except (ImportError, AttributeError):
        return False
    if _installed(equal):
        return True
    if hash(Flags()) != hash(tuple(sorted(Flags.options))):  # numba hashes flags otherwise now: leave it be
        return False

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.options)))

    def __eq__(self, other):
        if type(self) is not type(other):
            return equal(self, other)
        mine, theirs = self._values, other._values
        if mine == theirs:
            return True
        # the options that neither sets have their default in both
        return all((a := getattr(self, k)) is (b := getattr(other, k)) or a == b for k in mine.keys() | theirs.keys())

    TargetConfig.__hash__ = __hash__
    _install(TargetConfig, "__eq__", __eq__)
    return True


CHEAP_FLAGS = _cheap_flag_comparisons()


# ---- Python's garbage collector: fewer passes while the kernels compile ---------------------------
# Compiling the kernels makes millions of short-lived Python objects (numba copies the IR of each
# helper it inlines, a copy per call site), and with the default threshold (a collection every 700
# new objects) Python runs dozens of full collections over every live object of the compiler. While
# a kernel of this package compiles, the first generation is collected every `_GC_FIRST` new
# objects instead: the garbage is still collected, in larger and far fewer passes (docs/speed.md
# has the effect on time and memory). The thresholds are restored when the compile ends; nothing
# changes if the collector is off (threshold 0). Uses numba's event API (`numba:compile` is sent
# only when a function is compiled, not when it is loaded from the cache).
_GC_FIRST = 10_000


def _fewer_collections_while_compiling() -> bool:
    try:
        from numba.core import event
    except ImportError:
        return False

    class FewerCollections(event.Listener):
        def __init__(self) -> None:
            self.depth = 0
            self.saved: tuple[int, int, int] | None = None

        def on_start(self, ev) -> None:
            self.depth += 1
            if self.depth == 1:
                dispatcher = (ev.data or {}).get("dispatcher")
                threshold = gc.get_threshold()
                if _ours(getattr(dispatcher, "py_func", None)) and 0 < threshold[0] < _GC_FIRST:
                    self.saved = threshold
                    gc.set_threshold(_GC_FIRST, threshold[1], threshold[2])

        def on_end(self, ev) -> None:
            self.depth -= 1
            if self.depth == 0 and self.saved is not None:
                gc.set_threshold(*self.saved)
                self.saved = None

    event.register("numba:compile", FewerCollections())
    return True


FEWER_COLLECTIONS = _fewer_collections_while_compiling()


# None of the kernels is called through a C function pointer, so numba makes no C wrapper for them
# (`no_cfunc_wrapper`: one function fewer for LLVM in each library).
# entry points called from Python (they keep a CPython wrapper). They touch only the arrays they
# are passed, so they run without holding the GIL (`nogil`): runs in threads of one process step in
# parallel (experiment/runner.run_batch)
entry = njit(cache=True, _nrt=False, no_cfunc_wrapper=True, nogil=True)
# one submodel of the monthly step, called only from compiled code
submodel = njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
# a stage of the monthly loop inlined into its caller at numba IR level. This was chosen when a call
# passed the Params, State and Acc tuples flattened into about 1,400 arguments (docs/model.md §5);
# a call now passes three pointers (kernels/refs.py) and runs as fast. `policy` is a submodel (an
# ordinary call) since a cold start compiles it in a helper process beside the others
# (engine/precompile.py); the small stages left (`year_reset`, `step_month`) stay inlined
stage = njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False, inline="always")
# a branch taken rarely: an ordinary call, kept out of line of the hot code that calls it
rare = njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)
# small helpers, inlined into the submodel that calls them (numba IR inlining)
helper = njit(cache=True, no_cfunc_wrapper=True, inline="always")
# a large helper called from more than one place: compiled once and called, not inlined, since numba
# types and lowers an inlined helper again at each call site, and that made up most of the compile
# of its callers (docs/speed.md). Its arguments must be variables, not constants: numba compiles a
# called function once per constant value it is passed (`np.int64(C)` passes a plain int64)
shared = njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, _nrt=False)


def once_per_run(func):
    """An entry point that runs once per run, with reference counting (`refs.pack`): compiled
    without LLVM's module optimisation (see above)."""
    _ONCE_PER_RUN.add(_mangled(func))
    return njit(cache=True, no_cfunc_wrapper=True)(func)

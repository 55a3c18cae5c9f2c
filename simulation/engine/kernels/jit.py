"""How the kernels are compiled, in one place.

The submodels are compiled without numba's reference counting (`_nrt=False`). Every read of an
array field of the state tuples (`S.capital[i]`) otherwise costs an atomic increment/decrement
pair, and the candidate loop reads such fields for every firm (docs/model.md §5 has the
measurements). Without reference counting a kernel cannot allocate
arrays, which is wanted anyway: all working space is preallocated in `State` (`scratch_i`,
`scratch_f`), so nothing is allocated inside the monthly loop. Arrays still enter from Python
through the entry points and are owned by the caller for the whole run.
"""

import threading

from numba import njit

# ---- LLVM: one optimisation of the kernels, after linking ------------------------------------------
# numba optimises each function's LLVM IR at -O3 on its own ("function passes"), then links the
# functions a library calls and optimises the whole module at -O3 again. For these kernels the
# first round is most of the compile: each takes the Params/State/Acc tuples, about 1,400 scalar
# arguments, and SROA alone spends 40 % of it splitting them (docs/speed.md). With the first round
# at -O0 for functions of this package, the module round still optimises everything, once, after
# inlining: measured from an empty cache (python -m simulation.bench.compiletimes, Intel Xeon 2 cores),
# the month loop compiles in 52 s of CPU instead of 82 s, runs as fast (7.3 vs 7.4 ms a default
# run, 209 vs 209 ms at 10k firms x 200 countries, interleaved medians) and gives bit-identical
# results. Other numba code in the process is compiled as numba does by default. If numba's
# internals move, this does nothing (the kernels compile as before).
_PRELINK = threading.local()


def _light_prelink_passes() -> bool:
    try:
        from numba.core.codegen import CPUCodegen, CPUCodeLibrary

        optimize_functions = CPUCodeLibrary._optimize_functions
        function_pass_manager = CPUCodegen._function_pass_manager
    except (ImportError, AttributeError):
        return False
    if getattr(optimize_functions, "_scsim", False):
        return True

    def _optimize_functions(self, ll_module):
        ours = any(
            not f.is_declaration
            and f.name.startswith(("_ZN10simulation", "_ZN7cpython10simulation", "cfunc._ZN10simulation"))
            for f in ll_module.functions
        )
        _PRELINK.light = ours
        try:
            return optimize_functions(self, ll_module)
        finally:
            _PRELINK.light = False

    def _function_pass_manager(self, **kwargs):
        if getattr(_PRELINK, "light", False):
            kwargs["opt"] = 0
        return function_pass_manager(self, **kwargs)

    _optimize_functions._scsim = True
    CPUCodeLibrary._optimize_functions = _optimize_functions
    CPUCodegen._function_pass_manager = _function_pass_manager
    return True


LIGHT_PRELINK = _light_prelink_passes()


# entry points called from Python (they keep a CPython wrapper)
entry = njit(cache=True, _nrt=False)
# one submodel of the monthly step, called only from compiled code
submodel = njit(cache=True, no_cpython_wrapper=True, _nrt=False)
# a stage of the monthly loop inlined into its caller at numba IR level. A call passes the Params,
# State and Acc tuples flattened into about 1,400 arguments on the stack: LLVM inlines the small
# submodels by itself, but not `policy` or the month itself, whose calls would copy all of them
# every month (the cost is in docs/model.md §5)
stage = njit(cache=True, no_cpython_wrapper=True, _nrt=False, inline="always")
# a branch taken rarely: an ordinary call, kept out of line of the hot code that calls it
rare = njit(cache=True, no_cpython_wrapper=True, _nrt=False)
# small helpers, inlined into the submodel that calls them (numba IR inlining)
helper = njit(cache=True, inline="always")

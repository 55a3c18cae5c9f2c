"""How the kernels are compiled, in one place.

The submodels are compiled without numba's reference counting (`_nrt=False`). Every read of an
array field of the state tuples (`S.capital[i]`) otherwise costs an atomic increment/decrement
pair, and the candidate loop reads such fields for every firm (docs/model.md §5 has the
measurements). Without reference counting a kernel cannot allocate
arrays, which is wanted anyway: all working space is preallocated in `State` (`scratch_i`,
`scratch_f`), so nothing is allocated inside the monthly loop. Arrays still enter from Python
through the entry points and are owned by the caller for the whole run.
"""
from numba import njit

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

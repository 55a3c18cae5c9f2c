"""A software prefetch, for loops that visit firms in a known order spread over a large population.

The decision loop of bidding reads six firm arrays for each firm aware of a tender. The aware
firms are known before the loop starts (discovery runs first), in firm order but spread over the
whole population: with 100k firms the arrays no longer fit in cache and every aware firm waits
for main memory (docs/model.md §5 has the measurements). Asking for firm a+32's lines while
deciding for firm a hides that wait; it changes no value.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _codegen(ctx, builder, sig, args):
    aryty = sig.args[0]
    ary = ctx.make_array(aryty)(ctx, builder, args[0])
    i64, i32, i8p = ir.IntType(64), ir.IntType(32), ir.IntType(8).as_pointer()
    inds = [ctx.cast(builder, v, t, types.int64) for v, t in zip(args[1:], sig.args[1:])]
    inds += [ir.Constant(i64, 0)] * (aryty.ndim - len(inds))
    ptr = cgutils.get_item_pointer2(
        ctx,
        builder,
        data=ary.data,
        shape=cgutils.unpack_tuple(builder, ary.shape),
        strides=cgutils.unpack_tuple(builder, ary.strides),
        layout=aryty.layout,
        inds=inds,
        wraparound=False,
        boundscheck=False,
    )
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
    # read, locality 2 (prefetcht1: into L2, not L1), data cache. Into L1 (locality 3) the six lines
    # of 32 firms ahead crowd out the lines the current decision reads
    builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 2), ir.Constant(i32, 1)])
    return ctx.get_dummy_value()


@intrinsic
def prefetch(tyctx, arr, idx):
    """Start loading arr[idx] (a 1-D array) or the row arr[idx] (2-D) into the cache (LLVM's llvm.prefetch)."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    return types.none(arr, idx), _codegen


@intrinsic
def prefetch2(tyctx, arr, i, j):
    """Start loading arr[i, j] of a 2-D array into the cache."""
    if (
        not isinstance(arr, types.Array)
        or arr.ndim != 2
        or not isinstance(i, types.Integer)
        or not isinstance(j, types.Integer)
    ):
        return None
    return types.none(arr, i, j), _codegen

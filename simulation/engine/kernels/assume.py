"""`nonneg(i)`: tell the compiler an index is not negative, so that it drops numba's wrap-around.

numba turns every signed index `a[i]` into `a[i + (i < 0) * len(a)]` (Python's negative indices).
In the candidate and decision loops the firm numbers come from int64 lists, so each array access
paid that fix-up, and the extra live values (each array's length) pushed the loop's pointers out of
registers (docs/model.md §5 has the cost).
`nonneg` is LLVM's `llvm.assume(i >= 0)`; it computes nothing and changes no value. Use it only on
numbers that are firm, domain or list positions by construction.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def nonneg(tyctx, x):
    """x itself, with the promise x >= 0."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(ctx, builder, sig, args):
        v = args[0]
        assume = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(1)]), "llvm.assume"
        )
        builder.call(assume, [builder.icmp_signed(">=", v, ir.Constant(v.type, 0))])
        return v

    return x(x), codegen

"""numpy's PCG64 generator, stepped inside the compiled code.

`rng.random()` in numba calls numpy's C generator through a function pointer for every draw: the
call cannot be inlined, spills registers and was half of the cost of one firm-tender candidate
(measured with `scsim bench`). Here the generator's 128-bit state is read and written in place,
with LLVM's native 128-bit arithmetic, by exactly the algorithm numpy uses (XSL-RR output after a
128-bit LCG step; `random()` takes the top 53 bits; `normal()` is numpy's ziggurat with numba's
copy of numpy's tables). The draws are therefore bit-identical to numpy's, the state stays in the
numpy object (so Python code and numba's own methods can keep using the same generator), and the
plain-Python oracle keeps calling numpy.

Only `numpy.random.PCG64` has this memory layout: `world.streams` makes every stream a PCG64.
"""
import math

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.random._constants import fi_double, ki_double, wi_double, ziggurat_nor_inv_r, ziggurat_nor_r

from .jit import helper

# numpy's PCG_DEFAULT_MULTIPLIER_128 (pcg64.h)
_MULT_128 = (2549297995355413924 << 64) + 4865540595714422341
_BITGEN = types.NumPyRandomBitGeneratorType("bit_generator")


@intrinsic
def next64(tyctx, rng):
    """The next 64-bit output of the PCG64 behind a numpy Generator (numpy's `pcg64_next64`)."""
    if not isinstance(rng, types.NumPyRandomGeneratorType):
        return None

    def codegen(ctx, builder, sig, args):
        gen = cgutils.create_struct_proxy(rng)(ctx, builder, value=args[0])
        bitgen = cgutils.create_struct_proxy(_BITGEN)(ctx, builder, value=gen.bit_generator)
        i64, i128 = ir.IntType(64), ir.IntType(128)
        # bitgen.state is a `pcg64_state *`, whose first member is the `pcg64_random_t *`
        holder = builder.inttoptr(bitgen.state, i128.as_pointer().as_pointer())
        pcg = builder.load(holder)
        state_ptr = pcg  # pcg64_random_t = {pcg128_t state; pcg128_t inc}
        inc_ptr = builder.gep(pcg, [ir.Constant(ir.IntType(32), 1)])
        state = builder.load(state_ptr, align=8)
        inc = builder.load(inc_ptr, align=8)
        new = builder.add(builder.mul(state, ir.Constant(i128, _MULT_128)), inc)
        builder.store(new, state_ptr, align=8)
        hi = builder.trunc(builder.lshr(new, ir.Constant(i128, 64)), i64)
        lo = builder.trunc(new, i64)
        x = builder.xor(hi, lo)
        rot = builder.trunc(builder.lshr(new, ir.Constant(i128, 122)), i64)
        left = builder.and_(builder.neg(rot), ir.Constant(i64, 63))
        return builder.or_(builder.lshr(x, rot), builder.shl(x, left))

    return types.uint64(rng), codegen


@helper
def uniform(rng):
    """`rng.random()`: a double in [0, 1) from the top 53 bits (numpy's `pcg64_next_double`)."""
    return np.float64(next64(rng) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@helper
def _normal_tail(rng, r, idx, rabs, x):
    """The rare (0.7 %) branches of numpy's ziggurat, kept out of line of the common case."""
    while True:
        if idx == 0:
            while True:
                xx = -ziggurat_nor_inv_r * math.log1p(-uniform(rng))
                yy = -math.log1p(-uniform(rng))
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & np.uint64(1):
                        return -(ziggurat_nor_r + xx)
                    return ziggurat_nor_r + xx
        else:
            if (fi_double[idx - 1] - fi_double[idx]) * uniform(rng) + fi_double[idx] < math.exp(-0.5 * x * x):
                return x
        r = next64(rng)
        idx = np.int64(r & np.uint64(0xFF))
        r = r >> np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * wi_double[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < ki_double[idx]:
            return x


@helper
def normal(rng):
    """`rng.normal()`: numpy's `random_normal(bitgen, 0.0, 1.0)` (ziggurat), bit for bit."""
    r = next64(rng)
    idx = np.int64(r & np.uint64(0xFF))
    r = r >> np.uint64(8)
    rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
    x = np.float64(rabs) * wi_double[idx]
    if r & np.uint64(1):
        x = -x
    if rabs >= ki_double[idx]:
        x = _normal_tail(rng, r, idx, rabs, x)
    return 0.0 + 1.0 * x


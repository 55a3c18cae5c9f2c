"""numpy's PCG64 generator, stepped inside the compiled code.

`rng.random()` in numba calls numpy's C generator through a function pointer for every draw: the
call cannot be inlined and spills registers in the hottest loop, the firm-tender candidate scan
(docs/model.md §5 has the cost). Here the generator's 128-bit state is read and written in place,
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

from simulation.engine.kernels.jit import helper, rare, shared

# numpy's PCG_DEFAULT_MULTIPLIER_128 (pcg64.h)
_MULT_128 = (2549297995355413924 << 64) + 4865540595714422341
_MASK_128 = (1 << 128) - 1
# two steps of the LCG as one: state·M² + inc·(M + 1) (pcg.leap)
_MULT_2 = (_MULT_128 * _MULT_128) & _MASK_128
_MULT_PLUS_1 = (_MULT_128 + 1) & _MASK_128
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


def _state_ptrs(ctx, builder, rng_type, rng_value):
    """Pointers to the 128-bit `state` and `inc` of the pcg64_random_t behind a Generator."""
    gen = cgutils.create_struct_proxy(rng_type)(ctx, builder, value=rng_value)
    bitgen = cgutils.create_struct_proxy(_BITGEN)(ctx, builder, value=gen.bit_generator)
    i128 = ir.IntType(128)
    pcg = builder.load(builder.inttoptr(bitgen.state, i128.as_pointer().as_pointer()))
    return pcg, builder.gep(pcg, [ir.Constant(ir.IntType(32), 1)])


def _halves(builder, v):
    i64, i128 = ir.IntType(64), ir.IntType(128)
    return builder.trunc(v, i64), builder.trunc(builder.lshr(v, ir.Constant(i128, 64)), i64)


def _join(builder, lo, hi):
    i128 = ir.IntType(128)
    return builder.or_(builder.zext(lo, i128), builder.shl(builder.zext(hi, i128), ir.Constant(i128, 64)))


_U64x4 = types.UniTuple(types.uint64, 4)
_U64x3 = types.UniTuple(types.uint64, 3)
_U64x2 = types.UniTuple(types.uint64, 2)


@intrinsic
def take_state(tyctx, rng):
    """(state low, state high, inc low, inc high) of a Generator's PCG64, to step it in registers.

    A loop that draws once per iteration and also stores to memory otherwise reloads the state
    through memory every draw (the compiler cannot prove the stores miss it). Pair with
    `put_state` before the generator is used any other way."""
    if not isinstance(rng, types.NumPyRandomGeneratorType):
        return None

    def codegen(ctx, builder, sig, args):
        state_ptr, inc_ptr = _state_ptrs(ctx, builder, rng, args[0])
        s_lo, s_hi = _halves(builder, builder.load(state_ptr, align=8))
        i_lo, i_hi = _halves(builder, builder.load(inc_ptr, align=8))
        return ctx.make_tuple(builder, _U64x4, [s_lo, s_hi, i_lo, i_hi])

    return _U64x4(rng), codegen


@intrinsic
def put_state(tyctx, rng, s_lo, s_hi):
    """Write a state stepped in registers back into the Generator."""
    if not isinstance(rng, types.NumPyRandomGeneratorType):
        return None

    def codegen(ctx, builder, sig, args):
        state_ptr, _ = _state_ptrs(ctx, builder, rng, args[0])
        builder.store(_join(builder, args[1], args[2]), state_ptr, align=8)
        return ctx.get_dummy_value()

    return types.none(rng, types.uint64, types.uint64), codegen


def _lcg_codegen(mult: int):
    """Code of one LCG step state·mult + inc on a state in registers, with numpy's XSL-RR output of the new state."""

    def codegen(ctx, builder, sig, args):
        i64, i128 = ir.IntType(64), ir.IntType(128)
        new = builder.add(
            builder.mul(_join(builder, args[0], args[1]), ir.Constant(i128, mult)),
            _join(builder, args[2], args[3]),
        )
        lo, hi = _halves(builder, new)
        x = builder.xor(hi, lo)
        rot = builder.trunc(builder.lshr(new, ir.Constant(i128, 122)), i64)
        left = builder.and_(builder.neg(rot), ir.Constant(i64, 63))
        out = builder.or_(builder.lshr(x, rot), builder.shl(x, left))
        return ctx.make_tuple(builder, _U64x3, [lo, hi, out])

    return codegen


@intrinsic
def step(tyctx, s_lo, s_hi, i_lo, i_hi):
    """One PCG64 step on a state held in registers: (new state low, new state high, 64-bit output)."""
    return _U64x3(types.uint64, types.uint64, types.uint64, types.uint64), _lcg_codegen(_MULT_128)


@intrinsic
def leap(tyctx, s_lo, s_hi, j_lo, j_hi):
    """Two PCG64 steps as one, from a state in registers: (the state two steps on, low and high, and
    its 64-bit output). j is `leap_increment` of the generator's increment.

    A loop that draws once per item keeps two states a step apart and leaps each: every state then
    waits for the one two draws back, not for the last, so consecutive draws' 128-bit multiplies
    overlap instead of queueing. The outputs are the generator's own, in its order."""
    return _U64x3(types.uint64, types.uint64, types.uint64, types.uint64), _lcg_codegen(_MULT_2)


@intrinsic
def leap_increment(tyctx, i_lo, i_hi):
    """The increment inc·(M + 1) of two LCG steps taken as one (`leap`): (low, high)."""

    def codegen(ctx, builder, sig, args):
        i128 = ir.IntType(128)
        j = builder.mul(_join(builder, args[0], args[1]), ir.Constant(i128, _MULT_PLUS_1))
        lo, hi = _halves(builder, j)
        return ctx.make_tuple(builder, _U64x2, [lo, hi])

    return _U64x2(types.uint64, types.uint64), codegen


@helper
def lanes(rng):
    """Start drawing from a Generator with two states a step apart (`leap`): (s_lo, s_hi, a_lo, a_hi,
    out_a, b_lo, b_hi, out_b, j_lo, j_hi). s is the generator's state, a and b the next two states
    with their outputs, j the leap's increment. Each draw uses out_a, then `lanes_next`; at the end
    `put_state(rng, s_lo, s_hi)` leaves the generator where as many `uniform`s would."""
    s_lo, s_hi, i_lo, i_hi = take_state(rng)
    j_lo, j_hi = leap_increment(i_lo, i_hi)
    a_lo, a_hi, out_a = step(s_lo, s_hi, i_lo, i_hi)
    b_lo, b_hi, out_b = step(a_lo, a_hi, i_lo, i_hi)
    return s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b, j_lo, j_hi


@helper
def lanes_next(a_lo, a_hi, b_lo, b_hi, out_b, j_lo, j_hi):
    """After a draw that used out_a: (s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b) with s the
    state a was (where the generator now is), b moved up to a, and a leapt two steps on as the new b."""
    c_lo, c_hi, out_c = leap(a_lo, a_hi, j_lo, j_hi)
    return a_lo, a_hi, b_lo, b_hi, out_b, c_lo, c_hi, out_c


@helper
def to_double(out):
    """numpy's `next_double` from a 64-bit output: the top 53 bits in [0, 1)."""
    return np.float64(out >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@helper
def uniform(rng):
    """`rng.random()`: a double in [0, 1) from the top 53 bits (numpy's `pcg64_next_double`)."""
    return to_double(next64(rng))


@helper
def _ziggurat_draw(rng):
    """One try of numpy's ziggurat: (layer, absolute mantissa, candidate value)."""
    r = next64(rng)
    idx = r & np.uint64(0xFF)
    r = r >> np.uint64(8)
    rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
    x = np.float64(rabs) * wi_double[idx]
    if r & np.uint64(1):
        x = -x
    return idx, rabs, x


@rare
def _normal_tail(rng, idx, rabs, x):
    """The rare (0.7 %) branches of numpy's ziggurat, kept out of line of the common case."""
    while True:
        if idx == np.uint64(0):
            while True:
                xx = -ziggurat_nor_inv_r * math.log1p(-uniform(rng))
                yy = -math.log1p(-uniform(rng))
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & np.uint64(1):
                        return -(ziggurat_nor_r + xx)
                    return ziggurat_nor_r + xx
        else:
            if (fi_double[idx - np.uint64(1)] - fi_double[idx]) * uniform(rng) + fi_double[idx] < math.exp(
                -0.5 * x * x
            ):
                return x
        idx, rabs, x = _ziggurat_draw(rng)
        if rabs < ki_double[idx]:
            return x


@shared
def normal(rng):
    """`rng.normal()`: numpy's `random_normal(bitgen, 0.0, 1.0)` (ziggurat), bit for bit."""
    idx, rabs, x = _ziggurat_draw(rng)
    if rabs >= ki_double[idx]:
        x = _normal_tail(rng, idx, rabs, x)
    return 0.0 + 1.0 * x


def steps_between(before: dict, after: dict) -> int:
    """How many outputs a numpy PCG64 generator made between two of its `bit_generator.state`s.

    The LCG's distance, bit by bit (pcg-cpp's `distance`): lets `scsim bench` make the floor draw
    exactly as many numbers from a stream as a run drew, without the run counting them."""
    mask = (1 << 128) - 1
    cur, new = before["state"]["state"], after["state"]["state"]
    mult, plus = _MULT_128, before["state"]["inc"]
    bit, distance = 1, 0
    while cur != new:
        if (cur ^ new) & bit:
            cur = (cur * mult + plus) & mask
            distance |= bit
        bit <<= 1
        plus = ((mult + 1) * plus) & mask
        mult = (mult * mult) & mask
    return distance

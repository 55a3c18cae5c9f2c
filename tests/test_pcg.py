"""The bench's floor draws as many numbers from a stream as the run did, counted by the generator's
own LCG distance (kernels/pcg.steps_between)."""

import numpy as np
import pytest

from simulation.engine.kernels.pcg import steps_between


@pytest.mark.parametrize("k", [0, 1, 2, 7, 1000, 123_457])
def test_steps_between_counts_the_outputs_made(k):
    g = np.random.Generator(np.random.PCG64(5))
    g.random(3)
    before = g.bit_generator.state
    g.random(k)
    assert steps_between(before, g.bit_generator.state) == k


def test_steps_between_counts_what_normals_consumed():
    g = np.random.Generator(np.random.PCG64(11))
    before = g.bit_generator.state
    g.normal(size=500)
    made = steps_between(before, g.bit_generator.state)
    h = np.random.Generator(np.random.PCG64(11))
    h.random(made)  # the same number of outputs leaves the same generator state
    assert made >= 500 and h.bit_generator.state == g.bit_generator.state


@pytest.mark.parametrize("lam", [0.0, 0.3, 9.99, 10.0, 10.7, 14.2, 55.0, 3.3e4])
def test_the_kernels_poisson_draws_numpys_numbers(lam):
    """draws.poisson is numpy's sampler on the kernels' own PCG64 stepping: the same numbers from the
    same state, including PTRS's rare rejected candidates below zero (floor, not truncation)."""
    from numba import njit

    from simulation.engine.kernels.draws import poisson

    @njit(cache=False)
    def many(rng, lam, n):
        out = np.empty(n, dtype=np.int64)
        for i in range(n):
            out[i] = poisson(rng, lam)
        return out

    a = np.random.Generator(np.random.PCG64(17))
    b = np.random.Generator(np.random.PCG64(17))
    n = 40_000
    assert np.array_equal(many(a, lam, n), b.poisson(lam, size=n))
    assert a.bit_generator.state == b.bit_generator.state


@pytest.mark.parametrize("n", [0, 1, 2, 3, 18, 1001])
def test_two_leaping_states_draw_the_generators_numbers_in_order(n):
    """The candidate scan keeps two states a step apart and leaps each by two steps (pcg.lanes,
    pcg.lanes_next): its uniforms are numpy's, in numpy's order, and the generator is left where n
    draws leave numpy's, for an even, an odd and an empty count."""
    from numba import njit

    from simulation.engine.kernels.pcg import lanes, lanes_next, put_state, to_double

    @njit(cache=False)
    def drawn(rng, n):
        out = np.empty(n, dtype=np.float64)
        s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b, j_lo, j_hi = lanes(rng)
        for j in range(n):
            out[j] = to_double(out_a)
            s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b = lanes_next(a_lo, a_hi, b_lo, b_hi, out_b, j_lo, j_hi)
        put_state(rng, s_lo, s_hi)
        return out

    a = np.random.Generator(np.random.PCG64(23))
    b = np.random.Generator(np.random.PCG64(23))
    a.random(5), b.random(5)
    assert np.array_equal(drawn(a, n), b.random(n))
    assert a.bit_generator.state == b.bit_generator.state
    assert a.random() == b.random()  # and it goes on from there as numpy's does

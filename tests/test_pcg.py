"""The bench's floor draws as many numbers from a stream as the run did, counted by the generator's
own LCG distance (kernels/pcg.steps_between)."""
import numpy as np
import pytest

from simulation.kernels.pcg import steps_between


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

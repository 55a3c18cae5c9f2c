"""Which countries each firm knows, as bits: `known[c, i >> 3]` bit `i & 7`.

A tender's candidate scan reads its country's row for every capable firm. As one byte per
firm and country the array is 20 MB at 100k firms x 200 countries, and each tender's row (100 KB)
came from main memory; as bits it is 2.5 MB and stays in cache, so the cost per candidate no
longer grows with the world (see README, Speed). Values are unchanged: 0 or 1.
"""
import numpy as np

from .jit import helper


@helper
def has(bits, c, i):
    """1 when firm i knows country c, else 0."""
    return (bits[c, i >> 3] >> (i & 7)) & 1


@helper
def mark(bits, c, i):
    """Firm i now knows country c."""
    bits[c, i >> 3] |= np.uint8(1 << (i & 7))


def pack(flags: np.ndarray) -> np.ndarray:
    """(countries, firms) 0/1 flags -> (countries, ceil(firms / 8)) uint8 bits."""
    return np.packbits(flags.astype(bool), axis=1, bitorder="little")


def unpack(bits: np.ndarray, n_firms: int) -> np.ndarray:
    """The inverse of `pack`: (countries, firms) uint8 0/1."""
    return np.unpackbits(bits, axis=1, count=n_firms, bitorder="little")

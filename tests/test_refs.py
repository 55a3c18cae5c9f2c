"""The kernels take Params, State and Acc packed (simulation/engine/kernels/refs.py): one pointer each."""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np
from helpers import load
from numba import njit

from simulation.engine.kernels.refs import PackedProxy, View, _pack, pack
from simulation.engine.simulate import new_acc, simulate
from simulation.engine.world import build


def _world():
    P, cal, _, S, R, _ = build(load("no_plan", "time.end=2020-12"), 0)
    return P, S, new_acc(cal.n_years), R


@njit(_nrt=False)
def _read(P, S, A, i):
    # as the kernels read them: compiled without reference counting
    return P.krw + P.n_firms + P.disc_odds[i] + S.capital[i] + A.bids[0, 0] + S.cnt.shape[0]


@njit(_nrt=False)
def _write(S, A, i, x):
    S.capital[i] = x
    A.cost[0, 1] += x


def test_the_kernels_read_and_write_the_tuples_arrays_through_the_packed_copy():
    P, S, A, _ = _world()
    p, s, a = pack(P), pack(S), pack(A)
    assert isinstance(p, PackedProxy) and isinstance(p._numba_type_, View)
    A.bids[0, 0] = 3.0
    want = P.krw + P.n_firms + P.disc_odds[2] + S.capital[2] + 3.0 + S.cnt.shape[0]
    assert _read(p, s, a, 2) == want, "arrays are shared with the tuple: a write from Python is seen"
    _write(s, a, 5, 42.5)
    assert S.capital[5] == 42.5 and A.cost[0, 1] == 42.5, "a write by a kernel lands in the tuple's array"


class _Grown(NamedTuple):  # a tuple with a field more than the kernels know: packing is generic
    n: int
    x: float
    v: np.ndarray
    m: np.ndarray
    added: np.ndarray


def test_any_named_tuple_packs_so_a_new_field_needs_no_code():
    t = _Grown(3, 0.5, np.arange(4.0), np.ones((2, 3), dtype=np.int64), np.array([7], dtype=np.uint8))
    packed = njit(lambda t: _pack(t))(t)  # not `pack`: a test type must not enter the shared cache
    total = njit(_nrt=False)(lambda t: t.n + t.x + t.v[3] + t.m[1, 2] + t.added[0])
    assert total(packed) == 3 + 0.5 + 3.0 + 1 + 7
    assert set(packed._type.field_dict) == set(_Grown._fields)


def test_the_packed_copy_holds_the_arrays_until_it_is_dropped_and_the_kernels_take_no_reference():
    from simulation.engine.kernels.step import run_months

    P, S, A, R = _world()
    refs = [sys.getrefcount(S.capital)]  # (counted outside `assert`, whose rewriting holds references)
    p, s, a = pack(P), pack(S), pack(A)
    refs.append(sys.getrefcount(S.capital))
    counts = [x._meminfo.refcount for x in (p, s, a)]
    assert run_months(0, 2, p, s, a, R) == 0
    assert [x._meminfo.refcount for x in (p, s, a)] == counts == [1, 1, 1]
    del p, s, a
    refs.append(sys.getrefcount(S.capital))
    assert refs == [refs[0], refs[0] + 1, refs[0]]


def test_a_run_keeps_no_reference_to_its_world():
    res = simulate(load("no_plan", "time.end=2020-12"), 1)
    refs = [sys.getrefcount(res.state.capital), sys.getrefcount(res.params.disc_odds), sys.getrefcount(res.acc.bids)]
    assert refs == [2, 2, 2], "only the tuple (and getrefcount's argument) hold each array"

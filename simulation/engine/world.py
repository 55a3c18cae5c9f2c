"""Build the initial world (firms, relationships, pools) from a scenario and a seed.

The world is drawn with its own stream (the first of `SeedSequence(seed).spawn(7)`); the monthly
step gets the other six (state.Streams), so changing how the world is drawn never shifts the step's
random numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulation.engine.kernels.constants import (
    K_PIPE,
    KNOW_SHIFT,
    LARGE,
    NCNT,
    ND,
    NO,
    NR,
    NREG,
    NS,
    NTR,
    O_SCHEDULED,
    OV_BIDS,
    OV_CONTRACTS,
    OV_INVEST,
    OV_PIPE,
    OV_TENDERS,
    R_KSURE,
    R_POT,
    SME,
)
from simulation.engine.params import build_params, pis_tranches, scheduled_tenders
from simulation.engine.state import STREAM_FIELDS, Params, State, Streams
from simulation.scenario.calendar import Calendar
from simulation.scenario.countries import CountryTable
from simulation.scenario.loader import Resolved
from simulation.scenario.types import DOMAINS, SIZES

F8, I8, U1 = np.float64, np.int64, np.uint8
# the pool a kernel's overflow code names
POOL_OF = {OV_TENDERS: "tenders", OV_BIDS: "bids", OV_CONTRACTS: "contracts", OV_INVEST: "invest", OV_PIPE: "pipe"}


@dataclass(frozen=True)
class Capacity:
    """How many tenders, bids, contracts, investments and planned tenders the pools hold."""

    tenders: int
    bids: int
    contracts: int
    invest: int
    pipe: int

    def grown(self, which: str) -> Capacity:
        d = dict(self.__dict__)
        d[which] = d[which] * 2
        return Capacity(**d)

    def after_overflow(self, code: int) -> Capacity:
        """The capacity with the pool that overflowed (a kernel's return code) doubled."""
        return self.grown(POOL_OF[int(code)])


def streams(seed: int) -> tuple[np.random.Generator, Streams]:
    """(world generator, the monthly step's streams) for a run seed, all independent (SeedSequence.spawn).

    Always PCG64: the kernels step that generator's state in place (kernels/pcg.py)."""
    world_ss, *step_ss = np.random.SeedSequence(seed).spawn(1 + len(STREAM_FIELDS))
    gen = lambda ss: np.random.Generator(np.random.PCG64(ss))  # noqa: E731
    return gen(world_ss), Streams(*(gen(ss) for ss in step_ss))


def initial_capacity(P: Params, n_scheduled: int) -> Capacity:
    # expected ordinary tenders over the horizon (only sizes the pools: rounding here changes no result)
    lam = float(P.tender_scale.sum() * np.sum(P.weight / P.mean_value[1 - P.developing]))
    planned = n_scheduled + int(P.n1_selections.sum() + P.t3_projects.sum()) + 1
    tenders = int(lam + 6.0 * math.sqrt(lam) + 100) + planned
    pipe = planned + tenders // 4  # room for re-tenders
    bids = max(1000, 8 * tenders)
    return Capacity(tenders=tenders, bids=bids, contracts=max(500, bids // 3), invest=max(100, bids // 10), pipe=pipe)


def _size_counts(n: int, shares: list[float]) -> list[int]:
    raw = [n * s for s in shares]
    counts = [int(math.floor(x)) for x in raw]
    order = sorted(range(len(raw)), key=lambda k: -(raw[k] - counts[k]))
    for k in order[: n - sum(counts)]:
        counts[k] += 1
    return counts


def _race(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The exponential race -log(1 - u) / w of uniforms u against weights w, written over u (a copy
    the caller owns): the same operations in the same order as the expression, no array besides."""
    np.subtract(1.0, u, out=u)
    np.log(u, out=u)
    np.negative(u, out=u)
    return np.divide(u, w, out=u)


def build_firms(r: Resolved, P: Params, table: CountryTable, rng: np.random.Generator) -> dict[str, np.ndarray]:
    w = r.scenario.world
    n, C = w.n_firms, table.n
    counts = _size_counts(n, [getattr(w.size_shares, k) for k in SIZES])
    # firm numbers in random order of size class: firms decide in firm order (rotated per tender),
    # so no class comes first
    size = rng.permutation(np.repeat(np.arange(NS, dtype=I8), counts))
    cap = np.zeros((n, ND), dtype=F8)
    main = rng.choice(ND, size=n, p=np.array([getattr(w.domain_shares, d) for d in DOMAINS]))
    mean_cap = np.array([getattr(w.capability_mean, k) for k in SIZES])[size]
    cap[np.arange(n), main] = np.clip(rng.normal(mean_cap, w.capability_sd), 0.05, 0.95)
    extra_mean = np.array([getattr(w.extra_domains, k) for k in SIZES])[size]
    n_extra = np.minimum(rng.poisson(extra_mean), ND - 1)
    # secondary domains: a uniform random order of the other domains, the first n_extra of them
    keys = rng.random((n, ND))
    keys[np.arange(n), main] = 2.0
    rank = np.empty((n, ND), dtype=I8)
    rank[np.arange(n)[:, None], np.argsort(keys, axis=1, kind="stable")] = np.arange(ND)
    extra = rank < n_extra[:, None]
    extra_cap = np.clip(
        cap[np.arange(n), main][:, None] - 0.1 + rng.normal(0.0, w.capability_sd / 2, (n, ND)), 0.05, 0.95
    )
    cap[extra] = extra_cap[extra]
    capital0 = np.array([getattr(w.capital_usd_m, k) for k in SIZES])[size] * np.exp(
        rng.normal(0.0, w.capital_sigma, n)
    )
    markup = np.clip(rng.normal(w.markup_mean, w.markup_sd, n), -0.1, 0.5)
    alliance = (rng.random(n) < w.alliance_share).astype(U1)
    capacity = np.array([getattr(w.bid_capacity, k) for k in SIZES], dtype=I8)[size]

    # the fading knowledge of each country (kernels/knowledge.py), country-major (a tender's scan
    # reads one row): -1 never known; known before the start is established, last used at the start
    know = np.full((C, n), -1, dtype=np.int32)
    won_in = np.zeros((n, C), dtype=U1)
    exp_region = np.zeros((n, NR), dtype=F8)
    exp_domain = np.zeros((n, ND), dtype=F8)
    # the countries firms know at the start follow the gravity of discovery: tenders (market weight)
    # times the odds of learning of them (distance, market, relationship)
    pick_w = table.weight * P.disc_odds
    pick_w = pick_w / pick_w.sum()
    k_known = np.minimum(rng.poisson(np.array([getattr(w.known_countries, k) for k in SIZES])[size]), C)
    k_wins = rng.poisson(np.array([getattr(w.initial_wins, k) for k in SIZES])[size])
    k_wins[k_known == 0] = 0
    kmax = int(k_known.max()) if n else 0
    if kmax:
        # weighted sampling without replacement by exponential races (smallest -log(u)/w first), in
        # chunks of firms so that memory stays bounded in very large worlds. Every firm draws its row
        # of uniforms; only the races of firms that know a country are run, and a firm that knows
        # one takes the smallest race (argmin) without partitioning its row
        chunk = max(1, 4_000_000 // C)
        buffer = np.empty((min(chunk, n), C), dtype=F8)  # one block of uniforms, drawn into chunk by chunk
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            u = rng.random(out=buffer[: hi - lo])
            k_here = k_known[lo:hi]
            order = np.zeros((hi - lo, kmax), dtype=I8)  # row r: its first k_here[r] countries, by race
            one = np.nonzero(k_here == 1)[0]
            order[one, 0] = np.argmin(_race(u[one], pick_w), axis=1)  # u[one]: a copy, raced in place
            many = np.nonzero(k_here > 1)[0]
            if many.size:
                race = _race(u[many], pick_w)
                first = (
                    np.argpartition(race, kmax - 1, axis=1)[:, :kmax]
                    if kmax < C
                    else np.tile(np.arange(C), (many.size, 1))
                )
                order[many] = np.take_along_axis(
                    first, np.argsort(np.take_along_axis(race, first, axis=1), axis=1), axis=1
                )
            take = np.arange(kmax)[None, :] < k_here[:, None]
            rows = np.nonzero(take)[0] + lo
            know[order[take], rows] = np.int32(r.scenario.knowledge.uses_to_establish)
            # initial references, each in one of the firm's known countries
            wins = k_wins[lo:hi]
            owner = np.repeat(np.arange(hi - lo), wins)
            slot = (rng.random(owner.size) * k_here[owner]).astype(I8)
            where = order[owner, slot]
            won_in[owner + lo, where] = 1
            np.add.at(exp_region, (owner + lo, table.region[where]), 1.0)
        exp_domain[np.arange(n), main] += k_wins

    dom_lists = [np.nonzero(cap[:, d] > 0.0)[0] for d in range(ND)]
    dom_ptr = np.zeros(ND + 1, dtype=I8)
    dom_ptr[1:] = np.cumsum([len(x) for x in dom_lists])
    # per domain, the alliance SMEs (C3 catalogue partners), in firm order
    ally_sme = (alliance == 1) & (size >= SME)
    ally_lists = [x[ally_sme[x]] for x in dom_lists]
    dom_ally_ptr = np.zeros(ND + 1, dtype=I8)
    dom_ally_ptr[1:] = np.cumsum([len(x) for x in ally_lists])
    return dict(
        size=size,
        cap=cap,
        capital=capital0.copy(),
        capital0=capital0,
        markup=markup,
        alliance=alliance,
        active=np.ones(n, dtype=U1),
        tied=np.zeros(n, dtype=F8),
        open_bids=np.zeros(n, dtype=I8),
        capacity=capacity,
        kb=np.zeros(n, dtype=I8),
        kw=np.zeros(n, dtype=I8),
        belief=np.full(n, P.prior_w / (P.prior_w + P.prior_l), dtype=F8),
        exp_region=exp_region,
        exp_domain=exp_domain,
        know=know,
        won_in=won_in,
        contact=np.zeros((NR, n + 1), dtype=F8),
        contacted=np.zeros(n, dtype=U1),
        contacted_ids=np.zeros(max(n, 1), dtype=I8),
        contact_in=np.zeros(NR, dtype=U1),
        exported=np.zeros(n, dtype=U1),
        last_win_year=np.full(n, -1, dtype=I8),
        dom_ptr=dom_ptr,
        # int32: the candidate scan reads one per candidate (half the bytes of int64)
        dom_firms=np.concatenate(dom_lists).astype(np.int32) if n else np.zeros(0, dtype=np.int32),
        dom_ally_ptr=dom_ally_ptr,
        dom_ally=np.concatenate(ally_lists).astype(I8) if n else np.zeros(0, dtype=I8),
        alliance_ids=np.nonzero(alliance)[0].astype(I8),
        sme_alliance_ids=np.nonzero(ally_sme)[0].astype(I8),
        bid_mark=np.full(n, -1, dtype=I8),
        # working space the kernels reuse instead of allocating inside the monthly loop
        scratch_i=np.zeros(max(n, P.c1_buyer_countries, 1), dtype=I8),
        scratch_sme=np.zeros(max(n, 1), dtype=I8),
        scratch_p=np.zeros(max(n, 1), dtype=F8),
        scratch_known=np.zeros(max(n, 1), dtype=I8),
    )


def initial_relationship(P: Params) -> np.ndarray:
    """Base relationship plus the decayed boosts of MOUs and visits dated before the start."""
    rel = P.rel_base.copy()
    for m, c in zip(P.t5_mou_m, P.t5_mou_c, strict=True):
        if m < 0:
            rel[c] = raised(rel[c], P.rel_base[c], P.t5_relationship_boost * P.t2_reach[0] * P.rel_decay ** (-m), P)
    for m, c in zip(P.t1_visit_m, P.t1_visit_c, strict=True):
        if m < 0:
            rel[c] = raised(rel[c], P.rel_base[c], P.t1_relationship_boost * P.t2_reach[0] * P.rel_decay ** (-m), P)
    return rel


def raised(rel: float, base: float, amount: float, P: Params) -> float:
    """A relationship after a boost: amount times the room left below base + rel_ceiling, at most 1
    (the rule of kernels.draws.boost, for the boosts dated before the start)."""
    room = min(1.0, max(0.0, 1.0 - (rel - base) / P.rel_ceiling))
    return min(1.0, rel + amount * room)


def build_state(
    r: Resolved, P: Params, cal: Calendar, table: CountryTable, seed: int, cap: Capacity | None = None
) -> tuple[State, Streams, Capacity]:
    world_rng, step_rng = streams(seed)
    firms = build_firms(r, P, table, world_rng)
    sched = scheduled_tenders(r, cal, table)
    cap = cap or initial_capacity(P, len(sched))
    T, B, K, IC, PC = cap.tenders, cap.bids, cap.contracts, cap.invest, cap.pipe
    zi = lambda k: np.zeros(k, dtype=I8)  # noqa: E731
    zf = lambda k: np.zeros(k, dtype=F8)  # noqa: E731
    zu = lambda k: np.zeros(k, dtype=U1)  # noqa: E731
    paid = pis_tranches(r.scenario.levers.f1_pis, r.scenario.levers.f2_loss_order.order)
    cnt = np.zeros(NCNT, dtype=I8)
    reg = np.zeros(NREG, dtype=F8)
    reg[R_POT] = r.scenario.levers.f5_co_entry.pot_krw_bn if P.f5_enabled else 0.0
    reg[R_KSURE] = r.scenario.levers.f7_ksure.account_krw_bn if P.f7_enabled else 0.0
    pipe = dict(
        p_month=zi(PC), p_country=zi(PC), p_domain=zi(PC), p_type=zi(PC), p_value=zf(PC), p_inc=zi(PC), p_origin=zi(PC)
    )
    for j, (m, c, d, t, v, inc) in enumerate(sched):
        pipe["p_month"][j], pipe["p_country"][j], pipe["p_domain"][j] = m, c, d
        pipe["p_type"][j], pipe["p_value"][j], pipe["p_inc"][j] = t, v, inc
        pipe["p_origin"][j] = O_SCHEDULED
    cnt[K_PIPE] = len(sched)
    state = State(
        **firms,
        rel=initial_relationship(P),
        t_country=zi(T),
        t_domain=zi(T),
        t_type=zi(T),
        t_value=zf(T),
        t_deadline=zi(T),
        t_inc=zi(T),
        t_mdb=zu(T),
        t_origin=zi(T),
        t_status=zi(T),
        t_bid_start=zi(T),
        t_bid_count=zi(T),
        t_nbids=zi(T),
        t_nforeign=zi(T),
        t_fbest=zf(T),
        t_reserve=zf(T),
        t_u_nest=zf(T),
        t_u_pick=zf(T),
        t_u_again=zf(T),
        t_u_order=zf(T),
        b_firm=zi(B),
        b_partner=zi(B),
        b_tender=zi(B),
        b_lnprice=zf(B),
        b_quality=zf(B),
        b_fscore=zf(B),
        b_track=zf(B),
        b_rate=zf(B),
        b_insured=zu(B),
        b_pis=zu(B),
        b_blended=zu(B),
        b_edpf=zu(B),
        b_sole=zu(B),
        b_loan=zf(B),
        k_firm=zi(K),
        k_partner=zi(K),
        k_country=zi(K),
        k_value=zf(K),
        k_end=zi(K),
        k_insured=zu(K),
        k_loan=zf(K),
        k_share_p=zf(K),
        k_wc=zf(K),
        k_wc_p=zf(K),
        k_active=zu(K),
        i_amt=np.zeros((IC, NTR), dtype=F8),
        i_exit=zi(IC),
        i_risk=zi(IC),
        i_active=zu(IC),
        **pipe,
        pis_paid=paid.copy(),
        pis_cash=paid.copy(),
        pis_out=zf(NTR),
        pis_loss=zf(NTR),
        pis_ret=zf(NTR),
        cnt=cnt,
        reg=reg,
        scratch_f=np.zeros(max(NTR, NS), dtype=F8),
        scratch_odds=np.zeros(2 * NS, dtype=F8),
        scratch_gain=np.zeros(NS, dtype=F8),
        scratch_nest=np.zeros(NO, dtype=F8),
        # discovery's lift of a firm with knowledge and no contact depends on its know value alone
        # within a tender (kernels/discovery.py): remembered per value, stamped with the tender
        scratch_lift=np.zeros(KNOW_SHIFT * P.k_table.shape[1], dtype=F8),
        scratch_lift_k=np.full(KNOW_SHIFT * P.k_table.shape[1], -1, dtype=I8),
    )
    return state, step_rng, cap


def build(r: Resolved, seed: int, cap: Capacity | None = None, params=None):
    """Params, calendar, country table, state, streams and capacity of a run. `params`: the
    `build_params(r)` of this very scenario, when the caller keeps it (`simulate` does)."""
    P, cal, table = params or build_params(r)
    state, rng, cap = build_state(r, P, cal, table, seed, cap)
    return P, cal, table, state, rng, cap


assert LARGE == 0 and KNOW_SHIFT == 16

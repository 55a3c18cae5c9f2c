"""What the validation needs from one run, read from its accumulators and final state.

The kernels keep the pools of tenders, bids and contracts append-only for the whole run, so after
`engine.simulate` they still hold every Korean bid and win: who used which instrument, and who won
what where and when. That is enough to follow users and visited countries without changing the
kernels (which write only aggregate yearly accumulators).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.engine.kernels.constants import INSTRUMENTS, K_BIDS, K_CONTRACTS, K_TENDERS, ST_KOREAN
from simulation.engine.simulate import RunResult

USER_KINDS = ("co_entry_loan", "sme_sole_loan", "blended", "edpf")


@dataclass(frozen=True)
class Wins:
    """One entry per contract won by a Korean bid, in award order."""

    year: np.ndarray  # run year index of the award
    country: np.ndarray
    value: np.ndarray  # USD m
    lead: np.ndarray
    partner: np.ndarray  # -1 without a consortium partner
    share_p: np.ndarray  # the partner's share of the value
    tender: np.ndarray  # the tender won


def totals(res: RunResult, instruments: list[str]) -> tuple[float, float]:
    """(value won over the horizon in KRW bn, public cost of the named instruments in KRW bn)."""
    A, P = res.acc, res.params
    cols = [INSTRUMENTS.index(name) for name in instruments]
    return float(A.value[:, 0].sum() * P.krw / 1000.0), float(A.cost[:, cols].sum())


def wins(res: RunResult) -> Wins:
    """Contracts joined with the tenders they came from (the award loop books them in (month, tender) order)."""
    S, P = res.state, res.params
    n = int(S.cnt[K_TENDERS])
    k = np.nonzero(S.t_status[:n] == ST_KOREAN)[0]
    k = k[np.lexsort((k, S.t_deadline[k]))]
    nc = int(S.cnt[K_CONTRACTS])
    if nc != len(k) or not np.array_equal(S.k_country[:nc], S.t_country[k]):
        raise RuntimeError("contracts and won tenders do not line up; the award kernel's booking order changed")
    return Wins(
        year=P.year_of[S.t_deadline[k]].astype(np.int64),
        country=S.t_country[k].astype(np.int64),
        value=S.t_value[k].copy(),
        lead=S.k_firm[:nc].astype(np.int64),
        partner=S.k_partner[:nc].astype(np.int64),
        share_p=S.k_share_p[:nc].copy(),
        tender=k.astype(np.int64),
    )


def winning_bids(res: RunResult, w: Wins) -> np.ndarray:
    """The Korean bid that won each of the wins: a firm bids at most once on a tender, so (tender,
    contractor) names it. Only the finance twins need it, so `wins` does not sort the bids."""
    S, n_f = res.state, int(res.params.n_firms)
    nb = int(S.cnt[K_BIDS])
    key = S.b_tender[:nb].astype(np.int64) * n_f + S.b_firm[:nb]
    order = np.argsort(key, kind="stable")
    want = w.tender * n_f + w.lead
    bid = order[np.minimum(np.searchsorted(key[order], want), max(nb - 1, 0))]
    if len(want) and not np.array_equal(key[bid], want):
        raise RuntimeError("a contract has no Korean bid by its contractor on its tender")
    return bid


def country_year_value(res: RunResult, countries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value won USD m, wins) per listed country and run year: arrays of shape (len(countries), years)."""
    w = wins(res)
    ny = res.params.n_years
    value = np.zeros((len(countries), ny))
    count = np.zeros((len(countries), ny))
    for j, c in enumerate(countries):
        sel = w.country == c
        value[j] = np.bincount(w.year[sel], weights=w.value[sel], minlength=ny)
        count[j] = np.bincount(w.year[sel], minlength=ny)
    return value, count


def _uses(res: RunResult, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per Korean bid: whether it used the instrument, and the firm that used it."""
    S = res.state
    nb = int(S.cnt[K_BIDS])
    if kind == "co_entry_loan":
        return S.b_loan[:nb] > 0.0, S.b_partner[:nb].astype(np.int64)
    flags = {"sme_sole_loan": S.b_sole, "blended": S.b_blended, "edpf": S.b_edpf}
    if kind not in flags:
        raise ValueError(f"unknown user kind {kind!r}")
    return flags[kind][:nb] == 1, S.b_firm[:nb].astype(np.int64)


def first_use(res: RunResult, kind: str) -> np.ndarray:
    """Per firm, the run year of its first bid using the instrument (a large number for non-users).

    co_entry_loan: the SME partner that borrowed from the F5 pot; sme_sole_loan: an SME bidding
    alone with F6 support (its contract-performance loan on the contract's working capital, on any
    tender type); blended / edpf: the bidder whose bid carried F3 / F8 concessional finance."""
    S, P = res.state, res.params
    nb = int(S.cnt[K_BIDS])
    tender = S.b_tender[:nb]
    ttype = S.t_type[tender]
    month = np.maximum(S.t_deadline[tender] - P.open_m[ttype], 0)  # a bid is made when its tender is published
    year = P.year_of[month]
    sel, firm = _uses(res, kind)
    first = np.full(int(P.n_firms), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, firm[sel], year[sel].astype(np.int64))
    return first


def financed_value(res: RunResult, kind: str, w: Wins | None = None) -> float:
    """Value won (USD m) that the instrument financed, in the share of the member it financed.

    The dose of a finance twin: an F5 loan finances its partner's share of one co-entry contract, an
    F6 loan the SME's whole sole contract. Every such win is by a user at or after its first use."""
    w = wins(res) if w is None else w
    bid = winning_bids(res, w)
    sel, firm = _uses(res, kind)
    used = sel[bid]
    share = np.where(firm[bid] == w.lead, 1.0 - w.share_p, w.share_p)
    return float((w.value[used] * share[used]).sum())


def users_outcome(res: RunResult, first: np.ndarray, w: Wins | None = None) -> tuple[float, float]:
    """(value won USD m, destinations) of the users from their first-use year on, in this run.

    A win counts for a member in its share (lead 1 − partner share, partner its share); destinations
    are the distinct (firm, country) pairs with such a win, summed over users. `w`: the run's
    `wins`, when the caller has them already."""
    w = wins(res) if w is None else w
    n_c = int(res.params.n_countries)
    value = 0.0
    pairs: set[int] = set()
    for firm, share in ((w.lead, 1.0 - w.share_p), (w.partner, w.share_p)):
        ok = firm >= 0
        post = np.zeros(len(firm), dtype=bool)
        post[ok] = w.year[ok] >= first[firm[ok]]
        value += float((w.value[post] * share[post]).sum())
        pairs.update((firm[post] * n_c + w.country[post]).tolist())
    return value, float(len(pairs))

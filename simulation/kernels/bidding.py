"""Bidding: each new tender's capable firms learn of it, decide whether to bid, and large firms take SME partners."""
import math

from .constants import (
    C_SUBSIDY, DESIGN, EPC, K_BIDS, K_NEW_FROM, K_OVERFLOW, K_TENDERS, LARGE, NS, OV_BIDS, PPP, R_BLENDED_LEFT,
    R_EDPF_LEFT, R_KSURE, R_PIS_RESERVED, R_POT, R_POT_SHORT, R_SLOTS_LEFT, R_SUBSIDY_LEFT, SME, URBAN_DEV,
)
from .assume import nonneg
from .discovery import discover, policy_miss
from .financing import bid_terms, log_price, pis_amount
from .bits import mark
from .jit import helper, submodel
from .pcg import normal
from .prefetch import prefetch, prefetch2


AHEAD = 32  # how many aware firms ahead the decision loop prefetches
# from how many firms on the decision loop prefetches: with fewer, the firm arrays sit in the L2
# cache and the prefetch only costs (10k firms x 200 countries: 17.5 cycles an aware firm without
# it, 20.4 with it; 100k firms: about 21 with it, 47 without)
PREFETCH_FROM = 25_000


@submodel
def bidding(m, P, S, A, rng_discovery, rng_decision):
    """New tenders: who learns of each (one uniform per capable active firm), who bids, consortia."""
    y = P.year_of[m]
    reach = P.reach[m]
    # the arrays the loops use, as locals
    dom_firms = S.dom_firms
    active = S.active
    known = S.known
    contact = S.contact
    contacted = S.contacted
    open_bids = S.open_bids
    capacity = S.capacity
    size = S.size
    capital = S.capital
    belief_of = S.belief
    cap = S.cap
    rel = S.rel
    reg = S.reg
    t_bid_count = S.t_bid_count
    subsidy_ratio = P.subsidy_ratio
    p_base = P.p_base
    p_known = P.p_known
    p_contact = P.p_contact
    far = active.shape[0] > PREFETCH_FROM
    aware = S.scratch_i  # the firms that learn of the current tender, in firm order
    free_sme = S.scratch_sme
    for k in range(S.cnt[K_NEW_FROM], S.cnt[K_TENDERS]):
        c = S.t_country[k]
        d = nonneg(S.t_domain[k])
        t = S.t_type[k]
        V = S.t_value[k]
        g = P.region[c]
        dev = 0 if P.developing[c] == 1 else 1
        miss_policy = policy_miss(m, c, t == PPP, P)
        access = P.n6_access[c] if S.t_mdb[k] == 1 else 1.0
        centre = 1.0 if P.kotra_from[c] <= m else 0.0
        cost_share = P.bid_cost[t] * (1.0 - P.kotra_cut * reach * centre)
        in_scope = P.wide_scope[m] > 0.0 or d == URBAN_DEV or d == DESIGN
        needs_cover = P.risk[c] > P.max_uninsured
        fin = P.fin_share[t]
        years = P.fin_years[t]
        S.t_bid_start[k] = S.cnt[K_BIDS]
        S.t_bid_count[k] = 0
        crowd = 1.0  # the crowding divisor 1 + crowding·(Korean bids so far), renewed with every bid
        # discovery first (one uniform per active capable firm, in firm order), then the aware
        # firms decide in the same order: the scan has no data-dependent branch to mispredict
        lo = S.dom_ptr[d]
        hi = S.dom_ptr[d + 1]
        n_aware, offered = discover(lo, hi, c, g, miss_policy, access, dom_firms, active, known, contact,
                                    contacted, p_base, p_known, p_contact, aware, rng_discovery)
        A.candidates[y] += offered
        # the decision of each aware firm, in firm order, as one test: the firm bids when
        # it has a free slot, cover where needed, capital for the bond and the net cost, and an expected
        # margin above the net cost. The net cost by size class (the N2 subsidy) and the crowding
        # divisor change only when a firm bids, so they are renewed then, not per firm.
        blocked = needs_cover and not (P.ksure_on == 1 and reg[R_KSURE] > 0.0)
        bond = P.bond_share * V
        rel_c = 0.5 + rel[c]
        cost = cost_share * V
        net_of = S.scratch_f  # net cost of a bid by size class
        net_costs(net_of, subsidy_ratio[m], cost, in_scope, P, reg)
        n_free = 0  # the aware SMEs with a free slot, listed in free_sme for the consortium search
        partners = takes_partners(k, P, S)
        for a in range(n_aware):
            i = nonneg(aware[a])
            if far and a + AHEAD < n_aware:  # the lines of a firm further down the list (prefetch.py)
                j = aware[a + AHEAD]
                prefetch(open_bids, j)
                prefetch(capacity, j)
                prefetch(size, j)
                prefetch(capital, j)
                prefetch(belief_of, j)
                prefetch2(cap, j, d)
            full = open_bids[i] >= capacity[i]
            s_i = size[i]
            if partners:  # the same for every firm of the tender: the compiler makes two loops
                free_sme[n_free] = i
                n_free += (s_i >= SME) & (not full)
            pwin = (belief_of[i] * (2.0 * cap[i, d]) * rel_c) / crowd
            pwin = 1.0 if pwin > 1.0 else pwin
            net = net_of[nonneg(s_i)]
            money = capital[i]
            # summed, not or-ed: LLVM turns `|` of comparisons back into branches, one mispredicted
            # every other firm (25 -> 20 cycles an aware firm); the sum is one branch, rarely taken
            reject = (int(full) + int(blocked) + int(money < bond) + int(pwin * P.margin * V <= net)
                      + int(money < net))
            if reject != 0:
                continue
            sub, sub_krw = subsidy(subsidy_ratio[m, s_i], cost, in_scope, P, reg)
            b = S.cnt[K_BIDS]
            if b >= S.b_firm.shape[0]:
                S.cnt[K_OVERFLOW] = OV_BIDS
                return
            if sub > 0.0:
                S.reg[R_SUBSIDY_LEFT] -= sub_krw
                A.cost[y, C_SUBSIDY] += sub_krw
                A.subsidised_bids[y] += 1
                net_costs(net_of, subsidy_ratio[m], cost, in_scope, P, reg)  # the budget left moved
            S.capital[i] -= net
            S.open_bids[i] += 1
            mark(S.known, c, i)
            S.bid_mark[i] = k
            rate, fee, fscore, blended, edpf, pis, sole = bid_terms(m, i, c, t, V, needs_cover, P, S)
            if blended == 1:
                S.reg[R_BLENDED_LEFT] -= fin * V
            if edpf == 1:
                S.reg[R_EDPF_LEFT] -= fin * V
            if pis == 1:
                S.reg[R_PIS_RESERVED] += pis_amount(V, P)
            z = normal(rng_decision)
            S.b_firm[b] = i
            S.b_partner[b] = -1
            S.b_tender[b] = k
            S.b_rate[b] = rate
            S.b_fee[b] = fee
            S.b_lnprice[b] = log_price(S.markup[i], rate, years, fin, fee)
            S.b_quality[b] = S.cap[i, d] + P.fit[dev] + P.q_noise * z
            S.b_fscore[b] = fscore
            S.b_track[b] = math.log(1.0 + S.exp_region[i, g] + S.exp_domain[i, d])
            S.b_insured[b] = 1 if needs_cover else 0
            S.b_pis[b] = pis
            S.b_blended[b] = blended
            S.b_edpf[b] = edpf
            S.b_sole[b] = sole
            S.b_loan[b] = 0.0
            S.t_bid_count[k] += 1
            crowd = 1.0 + P.crowding * t_bid_count[k]
            S.cnt[K_BIDS] = b + 1
            A.bids_submitted[y] += 1
            A.bid_cost[y] += cost
            A.bid_value[y] += V
        if partners:
            form_consortia(m, k, n_free, P, S, A)


@helper
def net_costs(net_of, ratios, cost, in_scope, P, reg):
    """net_of[s]: a bid's cost less its N2 subsidy for each size class s, given the budget left now."""
    for s in range(NS):
        sub, _ = subsidy(ratios[s], cost, in_scope, P, reg)
        net_of[s] = cost - sub


@helper
def subsidy(ratio, cost, in_scope, P, reg):
    """N2: the part of a bid's cost the market-entry subsidy pays, in USD and in KRW thousand, within
    the cap per bid and the year's budget left."""
    sub = 0.0
    sub_krw = 0.0
    if in_scope and ratio > 0.0:
        sub = ratio * cost
        if sub > P.subsidy_cap_usd:
            sub = P.subsidy_cap_usd
        sub_krw = sub * P.krw / 1000.0
        left = reg[R_SUBSIDY_LEFT]
        if sub_krw > left:
            sub_krw = left if left > 0.0 else 0.0
            sub = sub_krw * 1000.0 / P.krw
    return sub, sub_krw


@helper
def best_sme(k, d, n_free, a_lo, a_hi, free_sme, ally, S):
    """The free SME most capable in domain d (lowest firm number among equals) among the aware SMEs
    free_sme[:n_free] (free when they decided) and the domain's alliance SMEs dom_ally[a_lo:a_hi];
    -1 when there is none.

    An SME free when it decided is still free unless it bid on tender k or joined a bid on it (its
    slots fill only then, and both mark bid_mark), so the aware ones need only that test."""
    best = -1
    best_cap = -1.0
    for a in range(n_free):
        j = nonneg(free_sme[a])
        if S.bid_mark[j] != k:
            best, best_cap = better_sme(j, S.cap[j, d], best, best_cap)
    for a in range(a_lo, a_hi):
        j = nonneg(ally[a])
        if S.size[j] >= SME and S.active[j] != 0 and S.open_bids[j] < S.capacity[j] and S.bid_mark[j] != k:
            best, best_cap = better_sme(j, S.cap[j, d], best, best_cap)
    return best


@helper
def better_sme(j, cj, best, best_cap):
    """(j, cj) if SME j is more capable than the best so far, or as capable with a lower number."""
    if cj > best_cap or (cj == best_cap and j < best):
        return j, cj
    return best, best_cap


@helper
def takes_partners(k, P, S):
    """Whether large firms bidding on tender k may take SME partners (C2): an EPC or PPP tender of
    the minimum value, with consortium slots left this year."""
    t = S.t_type[k]
    return S.reg[R_SLOTS_LEFT] >= 1.0 and (t == EPC or t == PPP) and S.t_value[k] >= P.cons_min_value


@helper
def form_consortia(m, k, n_free, P, S, A):
    """C2: while the year's slots last, a large firm bidding on a big EPC/PPP tender takes the best-fitting SME.

    Called for the tenders that take partners (`takes_partners`, decided once before the bids).
    The SMEs that can join are those aware of the tender and free when they decided (the first
    n_free entries of S.scratch_sme, listed by bidding) and, with the C3 catalogue, the alliance SMEs
    of the domain; the best is the most capable, the lowest firm number among equals (as a scan in
    firm order).
    """
    t = S.t_type[k]
    V = S.t_value[k]
    y = P.year_of[m]
    d = S.t_domain[k]
    c = S.t_country[k]
    dev = 0 if P.developing[c] == 1 else 1
    fin = P.fin_share[t]
    years = P.fin_years[t]
    ally = S.dom_ally
    a_lo = S.dom_ally_ptr[d]
    a_hi = S.dom_ally_ptr[d + 1] if P.catalogue == 1 else a_lo
    best = -2  # the best free SME, found once and searched again only after it is taken
    for b in range(S.t_bid_start[k], S.t_bid_start[k] + S.t_bid_count[k]):
        if S.reg[R_SLOTS_LEFT] < 1.0:
            break
        i = S.b_firm[b]
        if S.size[i] != LARGE or S.b_partner[b] >= 0:
            continue
        if best == -2:
            best = best_sme(k, d, n_free, a_lo, a_hi, S.scratch_sme, ally, S)
        if best < 0:
            break  # no SME is free for this tender, nor for the large bids after this one
        S.b_partner[b] = best
        S.open_bids[best] += 1
        S.bid_mark[best] = k
        S.reg[R_SLOTS_LEFT] -= 1.0
        A.consortia[y] += 1
        q = S.b_quality[b]
        q2 = S.cap[best, d] + P.fit[dev]
        best = -2  # taken: the next large bid searches again
        if q2 > q:
            q = q2
        S.b_quality[b] = q + P.cons_synergy
        if P.coentry_on == 1:
            cut = P.coentry_cut[m]
            loan = P.cons_sme_share * fin * V * P.krw / 1000.0
            if loan > 0.0 and cut > 0.0:
                if S.reg[R_POT] >= loan:
                    S.reg[R_POT] -= loan
                    S.b_loan[b] = loan
                    rate = S.b_rate[b] - cut * P.cons_sme_share
                    if rate < 0.0:
                        rate = 0.0
                    S.b_rate[b] = rate
                    S.b_lnprice[b] = log_price(S.markup[i], rate, years, fin, S.b_fee[b])
                else:
                    S.reg[R_POT_SHORT] = 1.0

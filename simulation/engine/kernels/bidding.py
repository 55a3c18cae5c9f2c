"""Bidding: each new tender's capable firms learn of it, decide in random order whether to bid, and
large firms take SME partners."""

import math

from simulation.engine.kernels.assume import nonneg
from simulation.engine.kernels.constants import (
    C_CONSORTIA,
    C_SUBSIDY,
    DESIGN,
    EPC,
    K_BIDS,
    K_NEW_FROM,
    K_OVERFLOW,
    K_TENDERS,
    LARGE,
    NS,
    O_MARKET,
    OV_BIDS,
    PPP,
    R_BLENDED_LEFT,
    R_EDPF_LEFT,
    R_KSURE,
    R_PIS_RESERVED,
    R_POT,
    R_POT_SHORT,
    R_SLOTS_LEFT,
    R_SUBSIDY_LEFT,
    SME,
    URBAN_DEV,
)
from simulation.engine.kernels.discovery import aware_prob, capped_lift, channel_odds, discover
from simulation.engine.kernels.financing import (
    bid_terms,
    interest_pv,
    log_price,
    own_working_capital,
    pis_amount,
)
from simulation.engine.kernels.jit import helper, submodel
from simulation.engine.kernels.knowledge import strength, touch
from simulation.engine.kernels.pcg import normal, uniform
from simulation.engine.kernels.prefetch import prefetch, prefetch2

AHEAD = 32  # how many aware firms ahead the decision loop prefetches
# from how many firms on the decision loop prefetches: with fewer, the firm arrays sit in the L2
# cache and the prefetch only costs
PREFETCH_FROM = 25_000


@helper
def risk_cost(risk, t, P, reg):
    """(cost per unit of value a winner expects from a buyer's default, cover: 0 none, 1 the K-SURE
    special account, 2 ordinary cover).

    A firm weighs the expected loss it bears itself by `risk_aversion`. Where ordinary cover exists
    (risk class up to max_uninsured) it buys it at a fair premium (paid by the firm, no public
    money); above, only the K-SURE special account (F7) covers, at its own price, while the account
    has money. Contract prices carry a share `risk_priced` of the cost every bidder bears without
    the special account (bidders price country risk in), so a firm weighs what is left. The cost
    grows smoothly with the class: F7 lowers it, it does not open a door that was shut."""
    el = P.el[risk, t]
    own = P.risk_aversion * el
    cover = P.f7_cover_share
    kept = own * (1.0 - cover)  # the uncovered part, weighed as the firm's own
    if risk <= P.max_uninsured:
        covered = kept + cover * el
        market = covered if covered < own else own  # what every bidder bears here
        return market - P.risk_priced * market, 2 if covered < own else 0
    market = own - P.risk_priced * own
    if P.f7_enabled == 1 and reg[R_KSURE] > 0.0:
        covered = kept + P.f7_premium_to_expected_loss * cover * el
        if covered < own:
            return covered - P.risk_priced * own, 1
    return market, 0


@submodel
def bidding(m, P, S, A, rng_discovery, rng_planned, rng_decision):
    """New tenders: who learns of each (one uniform per capable active firm), who bids, partners.

    The ordinary tenders draw discovery from `rng_discovery`, the planned ones (mega-project phases,
    follow-ons, re-tenders) from `rng_planned`: a plan that adds tenders does not shift the draws of
    the ordinary ones (common random numbers)."""
    y = P.year_of[m]
    reach = P.t2_reach[m]
    # the arrays the loops use, as locals
    dom_firms = S.dom_firms
    active = S.active
    know = S.know
    k_table = P.k_table
    contact = S.contact
    contacted = S.contacted
    open_bids = S.open_bids
    capacity = S.capacity
    size = S.size
    capital = S.capital
    tied = S.tied
    belief_of = S.belief
    cap = S.cap
    rel = S.rel
    reg = S.reg
    t_bid_count = S.t_bid_count
    subsidy_ratio = P.n2_subsidy_ratio
    far = active.shape[0] > PREFETCH_FROM
    aware = S.scratch_i  # the firms that learn of the current tender, in firm order
    free_sme = S.scratch_sme
    odds_by_size = S.scratch_odds
    gain_of = S.scratch_gain
    for k in range(S.cnt[K_NEW_FROM], S.cnt[K_TENDERS]):
        c = S.t_country[k]
        d = nonneg(S.t_domain[k])
        t = S.t_type[k]
        V = S.t_value[k]
        g = P.region[c]
        dev = 0 if P.developing[c] == 1 else 1
        risk = P.risk[c]
        ch = channel_odds(m, c, t == PPP, P)
        ch_lift = capped_lift(ch, P.lift_room)
        access = P.n6_access[c] if S.t_mdb[k] == 1 else 1.0
        for s in range(NS):
            odds_by_size[s] = P.disc_odds[c] * P.size_odds[s]
            # the chance of a firm with no knowledge of the country and no contact: per size class,
            # once per tender (aware_prob's own arithmetic, so the same bits)
            odds_by_size[NS + s] = aware_prob(odds_by_size[s], ch, ch_lift, 0.0, 0.0, P.lift_room, 0.0, 0.0, access)
        centre = 1.0 if P.n4_kotra_from[c] <= m else 0.0
        cost_share = P.bid_cost[t] * (1.0 - P.n4_kotra_bid_cost_cut * reach * centre)
        in_scope = P.n2_wide_scope[m] > 0.0 or d == URBAN_DEV or d == DESIGN
        fin = P.fin_share[t]
        n_years = P.fin_n[t]
        disc = P.base_rate + P.premium[risk]
        rc, insured = risk_cost(risk, t, P, reg)
        S.t_bid_start[k] = S.cnt[K_BIDS]
        S.t_bid_count[k] = 0
        crowd = 1.0  # the crowding divisor 1 + crowding·(Korean bids so far), renewed with every bid
        lo = S.dom_ptr[d]
        hi = S.dom_ptr[d + 1]
        # ordinary tenders draw from the discovery stream, planned ones from their own
        rng = rng_discovery if S.t_origin[k] == O_MARKET else rng_planned
        n_aware, offered = discover(
            m,
            lo,
            hi,
            c,
            g,
            odds_by_size,
            ch,
            ch_lift,
            P.lift_room,
            access,
            dom_firms,
            active,
            size,
            know,
            k_table,
            contact,
            contacted,
            S.contact_in[g] != 0,
            P.known_gain,
            P.contact_gain,
            aware,
            S.scratch_p,
            S.scratch_known,
            S.scratch_lift,
            S.scratch_lift_k,
            k,
            rng,
        )
        A.candidates[y] += offered
        # the aware firms decide in random order: the list, rotated to start at a random firm
        # (firm numbers are shuffled when the world is built, so neighbours are of any size)
        r0 = int(S.t_u_order[k] * n_aware)
        if r0 >= n_aware:
            r0 = n_aware - 1 if n_aware > 0 else 0
        # the decision of each aware firm, as one test: the firm bids when it has a free slot,
        # free capital (not tied up in running contracts) for the bond, for the working capital it
        # would finance itself (an SME: what its banks will not lend, none under F6's loan) and for
        # the net cost, and an expected gain above the net cost. The bid costs more in a country
        # the firm does not know (entry cost, falling with its knowledge there: sunk costs make
        # presence persist), less the N2 subsidy.
        bond = P.bond_share * V
        sme_need = own_working_capital(V, True, P)
        rel_c = 0.5 + rel[c]
        cost = cost_share * V
        for s in range(NS):  # what a win is worth by size class: margin less risk cost
            gain_of[s] = (P.margin - rc) * V
        n_free = 0  # the aware SMEs with a free slot, listed in free_sme for the partner search
        partners = takes_partners(k, P, S)
        for a in range(n_aware):
            ia = a + r0
            if ia >= n_aware:
                ia -= n_aware
            i = nonneg(aware[nonneg(ia)])
            if far and a + AHEAD < n_aware:  # the lines of a firm further down the list (prefetch.py)
                ja = ia + AHEAD
                if ja >= n_aware:
                    ja -= n_aware
                j = aware[ja]
                prefetch(open_bids, j)
                prefetch(capacity, j)
                prefetch(size, j)
                prefetch(capital, j)
                prefetch(tied, j)
                prefetch(belief_of, j)
                prefetch2(cap, j, d)
            full = open_bids[i] >= capacity[i]
            s_i = size[i]
            if partners:  # the same for every firm of the tender: the compiler makes two loops
                free_sme[n_free] = i
                n_free += (s_i >= SME) & (not full)
            pwin = (belief_of[i] * (2.0 * cap[i, d]) * rel_c) / crowd
            pwin = 1.0 if pwin > 1.0 else pwin
            cost_i = cost * (1.0 + P.entry_cost * (1.0 - strength(know, c, i, m, k_table)))
            sub, sub_krw = subsidy(subsidy_ratio[m, s_i], cost_i, in_scope, P, reg)
            net = cost_i - sub
            money = capital[i] - tied[i]
            need = bond + sme_need if s_i >= SME else bond
            # summed, not or-ed: LLVM turns `|` of comparisons back into branches
            short = 1 if money < need else 0
            reject = (
                (1 if full else 0)
                + short
                + (1 if pwin * gain_of[nonneg(s_i)] <= net else 0)
                + (1 if money < net else 0)
            )
            if reject != 0:
                # forgone only for the working capital it would finance itself (the bond it could hold)
                A.bids_short_of_working_capital[y] += (reject == short) & (money >= bond)
                continue
            b = S.cnt[K_BIDS]
            if b >= S.b_firm.shape[0]:
                S.cnt[K_OVERFLOW] = OV_BIDS
                return
            if sub > 0.0:
                S.reg[R_SUBSIDY_LEFT] -= sub_krw
                A.cost[y, C_SUBSIDY] += sub_krw
                A.subsidised_bids[y] += 1
            S.capital[i] -= net
            S.open_bids[i] += 1
            touch(know, c, i, m, P.k_uses)
            S.bid_mark[i] = k
            rate, fscore, blended, edpf, pis = bid_terms(m, i, c, t, V, P, S)
            if insured == 1:
                fscore += P.sc_ksure
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
            # F6: an SME bidding alone passes its guarantee-fee or contract-loan saving into its price
            # (cheap finance raises sales to buyers a firm already bids for, not entry: Defever et al. 2020)
            sole = P.f6_sole_save[t] if (P.f6_enabled == 1 and s_i >= SME) else 0.0
            S.b_lnprice[b] = log_price(S.markup[i], fin, interest_pv(rate, n_years, disc), sole)
            S.b_quality[b] = S.cap[i, d] + P.c6_fit[dev] + P.q_noise * z
            S.b_fscore[b] = fscore
            S.b_track[b] = math.log(1.0 + S.exp_region[i, g] + S.exp_domain[i, d])
            S.b_insured[b] = insured
            S.b_pis[b] = pis
            S.b_blended[b] = blended
            S.b_edpf[b] = edpf
            S.b_sole[b] = 1 if (P.f6_enabled == 1 and s_i >= SME) else 0
            S.b_loan[b] = 0.0
            S.t_bid_count[k] += 1
            crowd = 1.0 + P.crowding * t_bid_count[k]
            S.cnt[K_BIDS] = b + 1
            A.bids_submitted[y] += 1
            A.bid_cost[y] += cost_i
            A.bid_value[y] += V
        if partners:
            take_partners(m, k, n_free, P, S, A, rng_decision)


@helper
def subsidy(ratio, cost, in_scope, P, reg):
    """N2: the part of a bid's cost the market-entry subsidy pays, in USD and in KRW thousand, within
    the cap per bid and the year's budget left."""
    sub = 0.0
    sub_krw = 0.0
    if in_scope and ratio > 0.0:
        sub = ratio * cost
        if sub > P.n2_cap_usd_m:
            sub = P.n2_cap_usd_m
        sub_krw = sub * P.krw / 1000.0
        left = reg[R_SUBSIDY_LEFT]
        if sub_krw > left:
            sub_krw = left if left > 0.0 else 0.0
            sub = sub_krw * 1000.0 / P.krw
    return sub, sub_krw


@helper
def best_sme(k, d, n_free, a_lo, a_hi, free_sme, ally, need, S):
    """The free SME most capable in domain d (lowest firm number among equals) among the aware SMEs
    free_sme[:n_free] (free when they decided) and the alliance SMEs dom_ally[a_lo:a_hi] that hold
    `need` in free capital (their share of the bond and of the working capital); -1 when there is none.

    An SME free when it decided is still free unless it bid on tender k or joined a bid on it (its
    slots fill only then, and both mark bid_mark), so the aware ones need only that test."""
    best = -1
    best_cap = -1.0
    for a in range(n_free):
        j = nonneg(free_sme[a])
        if S.bid_mark[j] != k and S.capital[j] - S.tied[j] >= need:
            best, best_cap = better_sme(j, S.cap[j, d], best, best_cap)
    for a in range(a_lo, a_hi):
        j = nonneg(ally[a])
        if (
            S.size[j] >= SME
            and S.active[j] != 0
            and S.open_bids[j] < S.capacity[j]
            and S.bid_mark[j] != k
            and S.capital[j] - S.tied[j] >= need
        ):
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
    """Whether large firms bidding on tender k may take SME partners: an EPC or PPP tender of the
    minimum value, with consortium slots left this year (C2) or partnering without support."""
    t = S.t_type[k]
    return (
        (t == EPC or t == PPP)
        and S.t_value[k] >= P.c2_min_value_usd_m
        and (S.reg[R_SLOTS_LEFT] >= 1.0 or P.partner_prob > 0.0)
    )


@helper
def take_partners(m, k, n_free, P, S, A, rng):
    """Large firms' bids on a big EPC/PPP tender take the best-fitting free SME as partner.

    While the year's C2 slots last, KOTRA brokers every such consortium (and with the C3 catalogue
    the partner may be any alliance SME of the domain); without a slot, a large firm takes a partner
    on its own with chance `partner_prob`, among the SMEs aware of the tender. The SMEs aware and
    free when they decided are the first n_free entries of S.scratch_sme. A partner needs free
    capital for its share of the bond and for the part of its share of the working capital its
    banks will not lend. F5 (while the pot has money and the rate cut is on) lends the partner the
    working capital of its share at the cut rate for the contract's life: the partner then needs
    capital for its bond alone, and the consortium's price falls by the interest it saves. The
    bond stays on the partner's own capital, as under F6's loan.
    """
    t = S.t_type[k]
    V = S.t_value[k]
    y = P.year_of[m]
    d = S.t_domain[k]
    c = S.t_country[k]
    dev = 0 if P.developing[c] == 1 else 1
    fin = P.fin_share[t]
    n_years = P.fin_n[t]
    disc = P.base_rate + P.premium[P.risk[c]]
    ally = S.dom_ally
    a_lo = S.dom_ally_ptr[d]
    loan = P.wc_share * P.c2_sme_share * V * P.krw / 1000.0  # the partner's working capital, KRW bn
    cut = P.f5_rate_cut[m]
    bond_need = P.bond_share * P.c2_sme_share * V
    own_need = bond_need + P.wc_share * P.partner_wc_own * P.c2_sme_share * V
    for b in range(S.t_bid_start[k], S.t_bid_start[k] + S.t_bid_count[k]):
        i = S.b_firm[b]
        if S.size[i] != LARGE or S.b_partner[b] >= 0:
            continue
        brokered = S.reg[R_SLOTS_LEFT] >= 1.0
        if not brokered:
            u = uniform(rng)
            if u >= P.partner_prob:
                continue
        a_hi = S.dom_ally_ptr[d + 1] if (brokered and P.c3_catalogue == 1) else a_lo
        lent = P.f5_enabled == 1 and loan > 0.0 and cut > 0.0 and S.reg[R_POT] >= loan
        best = best_sme(k, d, n_free, a_lo, a_hi, S.scratch_sme, ally, bond_need if lent else own_need, S)
        if best < 0:
            continue
        S.b_partner[b] = best
        S.open_bids[best] += 1
        S.bid_mark[best] = k
        A.partnerships[y] += 1
        if brokered:
            S.reg[R_SLOTS_LEFT] -= 1.0
            A.consortia[y] += 1
            A.cost[y, C_CONSORTIA] += P.c2_cost_krw_bn_per_consortium
        q = S.b_quality[b]
        q2 = S.cap[best, d] + P.c6_fit[dev]
        if q2 > q:
            q = q2
        S.b_quality[b] = q + P.c2_synergy
        if P.f5_enabled == 1:
            if loan > 0.0 and cut > 0.0:
                if S.reg[R_POT] >= loan:
                    S.reg[R_POT] -= loan
                    S.b_loan[b] = loan
                    save = P.wc_share * P.c2_sme_share * P.f5_save[m, t]
                    S.b_lnprice[b] = log_price(S.markup[i], fin, interest_pv(S.b_rate[b], n_years, disc), save)
                else:
                    S.reg[R_POT_SHORT] = 1.0

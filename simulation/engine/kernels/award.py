"""Award: at a tender's deadline the buyer scores every bid (a nested logit by nationality) and
picks one, or rejects them all."""

import math

from simulation.engine.kernels.constants import (
    C_BLENDED,
    C_COENTRY,
    C_EDPF,
    C_KSURE,
    C_SOLE,
    G_ALL,
    G_DEMAND,
    G_DOMAIN,
    G_REGION,
    G_RISK,
    G_SIZE,
    INC_FULL,
    INC_KSP,
    K_CONTRACTS,
    K_FIRST_OPEN,
    K_OVERFLOW,
    K_PIPE,
    K_TENDERS,
    NO,
    O_KSCON,
    O_KSP,
    O_RETENDER,
    OV_CONTRACTS,
    OV_PIPE,
    PPP,
    R_BLENDED_LEFT,
    R_EDPF_LEFT,
    R_KSURE,
    R_PIS_RESERVED,
    R_POT,
    SME,
    ST_FOREIGN,
    ST_KOREAN,
    ST_LAPSED,
    ST_OPEN,
    ST_REJECTED,
)
from simulation.engine.kernels.draws import boost, gumbel, pick_cum, poisson
from simulation.engine.kernels.financing import (
    interest_pv,
    own_working_capital,
    partner_working_capital,
    pis_amount,
    pis_invest,
)
from simulation.engine.kernels.jit import helper, shared, submodel
from simulation.engine.kernels.knowledge import establish
from simulation.engine.kernels.pcg import normal, uniform


@helper
def update_belief(i, P, S):
    """A firm's belief that its bids win (Beta prior plus its record), kept with the record so that
    bidding reads it instead of dividing for every aware firm."""
    S.belief[i] = (P.prior_w + S.kw[i]) / (P.prior_w + P.prior_l + S.kb[i])


@helper
def created(origin):
    """1 for demand the plan creates (K-SCON and KSP follow-on tenders), 0 for demand that exists anyway."""
    return 1 if (origin == O_KSCON or origin == O_KSP) else 0


@helper
def add_group(arr, y, size, g, d, risk, demand, amount):
    arr[y, G_ALL] += amount
    arr[y, G_SIZE + size] += amount
    arr[y, G_REGION + g] += amount
    arr[y, G_DOMAIN + d] += amount
    arr[y, G_RISK + risk] += amount
    arr[y, G_DEMAND + demand] += amount


@shared
def foreign_field(k, P, S, rng):
    """The foreign bids a tender draws, fixed at publication, and the buyer's outside option.

    The count is an over-dispersed Poisson whose rate rises with the tender's value and falls with
    the country's risk class (zero or one bid is possible). Each bid has an origin (by region) and a
    deterministic utility; bids of one origin form a nest (scale `nest`), so the origin's best offer
    is its inclusive value plus one Gumbel draw: ten Chinese bids are not ten independent lottery
    tickets. One Gumbel is drawn for every origin, present or not, and one for the outside option,
    so the number of draws does not depend on the count. The three uniforms the award will use
    (the Korean nest's shock, the pick within it, a re-tender) and the start of the random order of
    the Korean decisions are drawn here too. Nothing here
    depends on the Korean side, so it comes from the market's streams: two scenarios with the same
    seed face the same foreign competition and the same award draws on every ordinary tender, even
    when one of them adds tenders (follow-ons, re-tenders) that close in between.
    """
    c = S.t_country[k]
    t = S.t_type[k]
    g = P.region[c]
    risk = P.risk[c]
    dev = 0 if P.developing[c] == 1 else 1
    w0 = P.wts[dev, 0]
    w1 = P.wts[dev, 1]
    w2 = P.wts[dev, 2]
    w3 = P.wts[dev, 3]
    w4 = P.wts[dev, 4]
    lam_nest = P.nest
    z = normal(rng)
    lam = (
        P.foreign_mean
        * P.strength
        * math.exp(
            P.bids_elast * math.log(S.t_value[k] / P.ref_value)
            + P.bids_risk * (risk - 3)
            + P.foreign_disp * z
            - 0.5 * P.foreign_disp * P.foreign_disp
        )
    )
    nf = poisson(rng, lam)
    acc = S.scratch_nest
    for o in range(NO):
        acc[o] = 0.0
    for _ in range(nf):
        u = uniform(rng)
        o = pick_cum(P.origin_cum[g], u)
        zq = normal(rng)
        q = P.o_q[o] + P.quality_shift + P.o_qsd[o] * zq
        zm = normal(rng)
        lp = P.o_mk[o] + P.o_mksd[o] * zm + P.o_lnfin[o, t, risk]
        v = w0 * q - w1 * lp + w2 * P.o_fs[o] + w3 * P.rel_f[c, o] + w4 * P.o_lnexp[o]
        acc[o] += math.exp(v / lam_nest)
    best = -math.inf
    for o in range(NO):
        u = uniform(rng)
        if acc[o] > 0.0:
            U = lam_nest * math.log(acc[o]) + gumbel(u)
            if U > best:
                best = U
    u = uniform(rng)
    S.t_nforeign[k] = nf
    S.t_fbest[k] = best
    S.t_reserve[k] = P.reserve + gumbel(u)
    S.t_u_nest[k] = uniform(rng)
    S.t_u_pick[k] = uniform(rng)
    S.t_u_again[k] = uniform(rng)
    S.t_u_order[k] = uniform(rng)  # where the random order of the Korean decisions starts


@helper
def korean_utility(b, w0, w1, w2, w3, w4, w5, rel, inc, S):
    """The deterministic part of a Korean bid's utility to the buyer."""
    return w0 * S.b_quality[b] - w1 * S.b_lnprice[b] + w2 * S.b_fscore[b] + w3 * rel + w4 * S.b_track[b] + w5 * inc


@submodel
def award(m, P, S, A):
    """Tenders whose deadline is this month: the Korean nest against the foreign best and the outside option.

    The Korean bids form one nest: its best offer is the inclusive value lam·ln Σ exp(v_b / lam) plus
    one Gumbel draw, and if the nest wins, the winning Korean bid is drawn with chance
    exp(v_b / lam) / Σ exp(v / lam) (an exact nested logit). Three uniforms per closed tender
    (nest shock, pick, re-tender), however many Korean bids it has, drawn when it was published.
    """
    y = P.year_of[m]
    lam_nest = P.nest
    for k in range(S.cnt[K_FIRST_OPEN], S.cnt[K_TENDERS]):
        if S.t_status[k] != ST_OPEN or S.t_deadline[k] != m:
            continue
        c = S.t_country[k]
        t = S.t_type[k]
        d = S.t_domain[k]
        V = S.t_value[k]
        g = P.region[c]
        risk = P.risk[c]
        demand = created(S.t_origin[k])
        dev = 0 if P.developing[c] == 1 else 1
        fin = P.fin_share[t]
        w0 = P.wts[dev, 0]
        w1 = P.wts[dev, 1]
        w2 = P.wts[dev, 2]
        w3 = P.wts[dev, 3]
        w4 = P.wts[dev, 4]
        w5 = P.wts[dev, 5]
        inc = 0.0
        if S.t_inc[k] == INC_FULL:
            inc = 1.0
        elif S.t_inc[k] == INC_KSP:
            inc = P.ksp_inc
        rel = S.rel[c]
        nf = S.t_nforeign[k]
        b0 = S.t_bid_start[k]
        nk = S.t_bid_count[k]
        u_nest = S.t_u_nest[k]
        u_pick = S.t_u_pick[k]
        u_again = S.t_u_again[k]
        total_exp = 0.0
        for b in range(b0, b0 + nk):
            total_exp += math.exp(korean_utility(b, w0, w1, w2, w3, w4, w5, rel, inc, S) / lam_nest)
        # -2 no bid at all, -3 the buyer rejects every bid, -1 foreign, >= 0 the winning Korean bid
        winner = -2
        best = -math.inf
        if nf + nk > 0:
            winner = -3
            best = S.t_reserve[k]
            if nf > 0 and S.t_fbest[k] > best:
                best = S.t_fbest[k]
                winner = -1
            if nk > 0 and lam_nest * math.log(total_exp) + gumbel(u_nest) > best:
                target = u_pick * total_exp
                acc = 0.0
                winner = b0 + nk - 1
                for b in range(b0, b0 + nk):
                    acc += math.exp(korean_utility(b, w0, w1, w2, w3, w4, w5, rel, inc, S) / lam_nest)
                    if acc > target:
                        winner = b
                        break
        total = nf + nk
        S.t_nbids[k] = total
        A.tenders_closed[y] += 1
        A.bidders[y] += total
        if total == 1:
            A.single_bidder[y] += 1
        if nk > 0:
            A.tenders_contested[y] += 1
            A.value_contested[y] += V
        if total == 0:
            S.t_status[k] = ST_LAPSED
            continue
        bid_year = P.year_of[m - P.open_m[t]] if m - P.open_m[t] >= 0 else 0
        for b in range(b0, b0 + nk):
            i = S.b_firm[b]
            S.open_bids[i] -= 1
            S.kb[i] += 1
            update_belief(i, P, S)
            add_group(A.bids, y, S.size[i], g, d, risk, demand, 1.0)
            p = S.b_partner[b]
            if p >= 0:
                S.open_bids[p] -= 1
            if S.b_pis[b] == 1:  # the fund's set-aside ends: invested below if this bid won
                S.reg[R_PIS_RESERVED] -= pis_amount(V, P)
            if b != winner:  # release reserved finance of losing bids
                if S.b_blended[b] == 1 and bid_year == y:
                    S.reg[R_BLENDED_LEFT] += fin * V
                if S.b_edpf[b] == 1 and bid_year == y:
                    S.reg[R_EDPF_LEFT] += fin * V
                if S.b_loan[b] > 0.0:
                    S.reg[R_POT] += S.b_loan[b]
        if winner == -3:
            S.t_status[k] = ST_REJECTED
            A.tenders_rejected[y] += 1
            if u_again < P.retender_p:
                retender(m, k, P, S)
            continue
        A.tenders_awarded[y] += 1
        A.value_awarded[y] += V
        if demand == 1:
            A.value_awarded_created[y] += V
        if winner == -1:
            S.t_status[k] = ST_FOREIGN
            continue
        S.t_status[k] = ST_KOREAN
        win_korean(m, k, winner, demand, P, S, A)


@helper
def retender(m, k, P, S):
    """A rejected tender is tendered again after the lag (if inside the horizon), as a new tender."""
    month = m + P.retender_lag
    if month >= P.n_months:
        return
    j = S.cnt[K_PIPE]
    if j >= S.p_month.shape[0]:
        S.cnt[K_OVERFLOW] = OV_PIPE
        return
    S.p_month[j] = month
    S.p_country[j] = S.t_country[k]
    S.p_domain[j] = S.t_domain[k]
    S.p_type[j] = S.t_type[k]
    S.p_value[j] = S.t_value[k]
    S.p_inc[j] = S.t_inc[k]
    S.p_origin[j] = O_RETENDER if S.t_origin[k] == 0 else S.t_origin[k]
    S.cnt[K_PIPE] = j + 1


@shared
def credit(i, c, g, d, y, m, V, share, P, S, A):
    """Experience, capital, established knowledge and first entries for one member of a winning bid."""
    S.exp_region[i, g] += 1.0
    S.exp_domain[i, d] += 1.0
    S.capital[i] += P.margin * V * share
    if S.won_in[i, c] == 0:
        S.won_in[i, c] = 1
        A.new_entries[y] += 1
    S.exported[i] = 1
    S.last_win_year[i] = y
    establish(S.know, c, i, m, P.k_uses)


@helper
def win_korean(m, k, b, demand, P, S, A):
    y = P.year_of[m]
    c = S.t_country[k]
    t = S.t_type[k]
    d = S.t_domain[k]
    V = S.t_value[k]
    g = P.region[c]
    risk = P.risk[c]
    fin = P.fin_share[t]
    n_years = P.fin_n[t]
    i = S.b_firm[b]
    p = S.b_partner[b]
    share_p = P.c2_sme_share if p >= 0 else 0.0
    share_i = 1.0 - share_p
    S.kw[i] += 1
    update_belief(i, P, S)
    credit(i, c, g, d, y, m, V, share_i, P, S, A)
    add_group(A.wins, y, S.size[i], g, d, risk, demand, 1.0)
    A.value[y, G_ALL] += V
    A.value[y, G_SIZE + S.size[i]] += V * share_i
    A.value[y, G_REGION + g] += V
    A.value[y, G_DOMAIN + d] += V
    A.value[y, G_RISK + risk] += V
    A.value[y, G_DEMAND + demand] += V
    sme_value = V * share_i if S.size[i] >= SME else 0.0
    if p >= 0:
        credit(p, c, g, d, y, m, V, share_p, P, S, A)
        A.value[y, G_SIZE + S.size[p]] += V * share_p
        A.consortium_wins[y] += 1
        if S.size[p] >= SME:
            sme_value += V * share_p
    if S.size[i] >= SME or p >= 0:
        A.sme_wins[y] += 1
    A.sme_value[y] += sme_value
    boost(S.rel, c, P.win_boost, P)
    # public cost of the finance on the won contract: the present value of the interest the lender
    # forgoes (commitment basis: booked when the contract is won)
    krw = P.krw / 1000.0
    disc = P.base_rate + P.premium[risk]
    market_pv = interest_pv(disc, n_years, disc)
    if S.b_blended[b] == 1:
        A.cost[y, C_BLENDED] += fin * V * (market_pv - interest_pv(disc - P.f3_rate_cut, n_years, disc)) * krw
    if S.b_edpf[b] == 1:
        A.cost[y, C_EDPF] += fin * V * (market_pv - interest_pv(disc - P.f8_rate_cut, n_years, disc)) * krw
    if S.b_loan[b] > 0.0:
        bid_m = m - P.open_m[t]
        if bid_m < 0:
            bid_m = 0
        A.cost[y, C_COENTRY] += S.b_loan[b] * P.f5_save[bid_m, t]
    if S.b_sole[b] == 1:
        A.cost[y, C_SOLE] += P.f6_sole_save[t] * V * krw
    if S.b_insured[b] == 1:  # the special account's premium income (F7)
        premium = P.f7_premium_to_expected_loss * P.f7_cover_share * P.el[risk, t] * V * krw
        S.reg[R_KSURE] += premium
        A.cost[y, C_KSURE] -= premium
    elif S.b_insured[b] == 2:  # ordinary cover: the firm pays a fair premium, no public money
        S.capital[i] -= P.f7_cover_share * P.el[risk, t] * V
    if S.b_pis[b] == 1 and t == PPP:
        pis_invest(m, V, risk, P, S, A, y)
    j = S.cnt[K_CONTRACTS]
    if j >= S.k_firm.shape[0]:
        S.cnt[K_OVERFLOW] = OV_CONTRACTS
        return
    S.k_firm[j] = i
    S.k_partner[j] = p
    S.k_country[j] = c
    S.k_value[j] = V
    S.k_end[j] = m + P.contract_m[t]
    S.k_insured[j] = S.b_insured[b]
    S.k_loan[j] = S.b_loan[b]
    S.k_share_p[j] = share_p
    # working capital the members finance themselves, tied up until the contract ends
    wc_i = own_working_capital(V, S.size[i] >= SME, P)
    wc_p = partner_working_capital(V, P) if (p >= 0 and S.b_loan[b] == 0.0) else 0.0
    S.k_wc[j] = wc_i
    S.k_wc_p[j] = wc_p
    S.tied[i] += wc_i
    if p >= 0:
        S.tied[p] += wc_p
    S.k_active[j] = 1
    S.cnt[K_CONTRACTS] = j + 1

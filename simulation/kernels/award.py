"""Award: at a tender's deadline the buyer scores every Korean and foreign bid (random utility) and picks one."""
import math

from .constants import (
    C_BLENDED, C_COENTRY, C_EDPF, C_SOLE, G_ALL, G_DOMAIN, G_REGION, G_RISK, G_SIZE, INC_FULL, INC_KSP,
    K_CONTRACTS, K_FIRST_OPEN, K_OVERFLOW, K_TENDERS, OV_CONTRACTS, PPP, R_BLENDED_LEFT, R_EDPF_LEFT,
    R_PIS_RESERVED, R_POT,
    SME, ST_FOREIGN, ST_KOREAN, ST_LAPSED, ST_OPEN,
)
from .draws import boost, gumbel, pick_cum, poisson
from .financing import pis_amount, pis_invest
from .bits import mark
from .jit import helper, submodel
from .pcg import normal, uniform


@helper
def update_belief(i, P, S):
    """A firm's belief that its bids win (Beta prior plus its record), kept with the record so that
    bidding reads it instead of dividing for every aware firm."""
    S.belief[i] = (P.prior_w + S.kw[i]) / (P.prior_w + P.prior_l + S.kb[i])


@helper
def add_group(arr, y, size, g, d, risk, amount):
    arr[y, G_ALL] += amount
    arr[y, G_SIZE + size] += amount
    arr[y, G_REGION + g] += amount
    arr[y, G_DOMAIN + d] += amount
    arr[y, G_RISK + risk] += amount


@helper
def foreign_field(k, P, S, rng):
    """The foreign bids a tender draws, fixed at publication: an over-dispersed Poisson count with
    origins by region, each scored by the buyer's random utility. Only the count and the best
    utility matter at the award, and neither depends on the Korean side, so they are drawn from
    the market's streams: two scenarios with the same seed face the same foreign competition.
    """
    c = S.t_country[k]
    t = S.t_type[k]
    g = P.region[c]
    dev = 0 if P.developing[c] == 1 else 1
    w0 = P.wts[dev, 0]
    w1 = P.wts[dev, 1]
    w2 = P.wts[dev, 2]
    w3 = P.wts[dev, 3]
    w4 = P.wts[dev, 4]
    z = normal(rng)
    lam = P.foreign_mean * P.strength * math.exp(P.foreign_disp * z - 0.5 * P.foreign_disp * P.foreign_disp)
    nf = poisson(rng, lam)
    best = -math.inf
    for j in range(nf):
        u = uniform(rng)
        o = pick_cum(P.origin_cum[g], u)
        zq = normal(rng)
        q = P.o_q[o] + P.quality_shift + P.o_qsd[o] * zq
        zm = normal(rng)
        lp = P.o_mk[o] + P.o_mksd[o] * zm + P.o_lnfin[o, t]
        ug = uniform(rng)
        U = w0 * q - w1 * lp + w2 * P.o_fs[o] + w3 * P.o_rel[o] + w4 * P.o_lnexp[o] + gumbel(ug)
        if U > best:
            best = U
    S.t_nforeign[k] = nf
    S.t_fbest[k] = best


@submodel
def award(m, P, S, A, rng):
    """Tenders whose deadline is this month: the Korean bids (one Gumbel draw each) against the foreign best."""
    y = P.year_of[m]
    for k in range(S.cnt[K_FIRST_OPEN], S.cnt[K_TENDERS]):
        if S.t_status[k] != ST_OPEN or S.t_deadline[k] != m:
            continue
        c = S.t_country[k]
        t = S.t_type[k]
        d = S.t_domain[k]
        V = S.t_value[k]
        g = P.region[c]
        risk = P.risk[c]
        dev = 0 if P.developing[c] == 1 else 1
        fin = P.fin_share[t]
        years = P.fin_years[t]
        w0 = P.wts[dev, 0]
        w1 = P.wts[dev, 1]
        w2 = P.wts[dev, 2]
        w3 = P.wts[dev, 3]
        w4 = P.wts[dev, 4]
        w5 = P.wts[dev, 5]
        # the foreign bids were drawn when the tender was published (foreign_field)
        nf = S.t_nforeign[k]
        best = S.t_fbest[k]
        winner = -1 if nf > 0 else -2  # -2 none, -1 foreign, >= 0 a Korean bid index
        inc = 0.0
        if S.t_inc[k] == INC_FULL:
            inc = 1.0
        elif S.t_inc[k] == INC_KSP:
            inc = P.ksp_inc
        b0 = S.t_bid_start[k]
        nk = S.t_bid_count[k]
        for b in range(b0, b0 + nk):
            ug = uniform(rng)
            U = (w0 * S.b_quality[b] - w1 * S.b_lnprice[b] + w2 * S.b_fscore[b] + w3 * S.rel[c]
                 + w4 * S.b_track[b] + w5 * inc + gumbel(ug))
            if U > best:
                best = U
                winner = b
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
        A.tenders_awarded[y] += 1
        A.value_awarded[y] += V
        bid_year = P.year_of[m - P.open_m[t]] if m - P.open_m[t] >= 0 else 0
        for b in range(b0, b0 + nk):
            i = S.b_firm[b]
            S.open_bids[i] -= 1
            S.kb[i] += 1
            update_belief(i, P, S)
            add_group(A.bids, y, S.size[i], g, d, risk, 1.0)
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
        if winner < 0:
            S.t_status[k] = ST_FOREIGN
            continue
        S.t_status[k] = ST_KOREAN
        win_korean(m, k, winner, P, S, A)


@helper
def credit(i, c, g, d, y, V, share, P, S, A):
    """Experience, capital and first entries for one member of a winning bid."""
    S.exp_region[i, g] += 1.0
    S.exp_domain[i, d] += 1.0
    S.capital[i] += P.margin * V * share
    if S.won_in[i, c] == 0:
        S.won_in[i, c] = 1
        A.new_entries[y] += 1
    S.exported[i] = 1
    S.last_win_year[i] = y
    mark(S.known, c, i)


@helper
def win_korean(m, k, b, P, S, A):
    y = P.year_of[m]
    c = S.t_country[k]
    t = S.t_type[k]
    d = S.t_domain[k]
    V = S.t_value[k]
    g = P.region[c]
    risk = P.risk[c]
    fin = P.fin_share[t]
    years = P.fin_years[t]
    i = S.b_firm[b]
    p = S.b_partner[b]
    share_p = P.cons_sme_share if p >= 0 else 0.0
    share_i = 1.0 - share_p
    S.kw[i] += 1
    update_belief(i, P, S)
    credit(i, c, g, d, y, V, share_i, P, S, A)
    add_group(A.wins, y, S.size[i], g, d, risk, 1.0)
    A.value[y, G_ALL] += V
    A.value[y, G_SIZE + S.size[i]] += V * share_i
    A.value[y, G_REGION + g] += V
    A.value[y, G_DOMAIN + d] += V
    A.value[y, G_RISK + risk] += V
    sme_value = V * share_i if S.size[i] >= SME else 0.0
    if p >= 0:
        credit(p, c, g, d, y, V, share_p, P, S, A)
        A.value[y, G_SIZE + S.size[p]] += V * share_p
        A.consortium_wins[y] += 1
        if S.size[p] >= SME:
            sme_value += V * share_p
    if S.size[i] >= SME or p >= 0:
        A.sme_wins[y] += 1
    A.sme_value[y] += sme_value
    boost(S.rel, c, P.win_boost)
    # public cost of the finance on the won contract (commitment basis: whole interest gap at award)
    krw = P.krw / 1000.0
    if S.b_blended[b] == 1:
        A.cost[y, C_BLENDED] += P.blended_cut * fin * V * years * krw
    if S.b_edpf[b] == 1:
        A.cost[y, C_EDPF] += P.edpf_cut * fin * V * years * krw
    if S.b_loan[b] > 0.0:
        bid_m = m - P.open_m[t]
        if bid_m < 0:
            bid_m = 0
        A.cost[y, C_COENTRY] += P.coentry_cut[bid_m] * S.b_loan[b] * years
    if S.b_sole[b] == 1:
        if fin > 0.0:
            A.cost[y, C_SOLE] += P.sole_loan_cut * fin * V * years * krw
        else:
            A.cost[y, C_SOLE] += P.sole_fee_cut * V * (P.contract_m[t] / 12.0) * krw
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
    S.k_active[j] = 1
    S.cnt[K_CONTRACTS] = j + 1

"""Financing: the terms of a Korean bid (rate, fees, finance score) and the PIS fund's investments and losses."""

import math

from simulation.engine.kernels.constants import (
    C_PIS,
    K_INVEST,
    K_OVERFLOW,
    NTR,
    OV_INVEST,
    PPP,
    R_BLENDED_LEFT,
    R_EDPF_LEFT,
    R_PIS_RESERVED,
)
from simulation.engine.kernels.jit import helper, shared


@helper
def pis_amount(V, P):
    """Equity the PIS fund puts into a project of value V (USD m), in KRW bn."""
    amount = P.f1_equity_share * V * P.krw / 1000.0
    if amount > P.f1_max_equity_krw_bn:
        amount = P.f1_max_equity_krw_bn
    return amount


@helper
def pis_cash(S):
    total = 0.0
    for t in range(NTR):
        total += S.pis_cash[t]
    return total


@helper
def pis_open(m, P):
    return P.f1_enabled == 1 and m >= P.f1_start_m and m < P.f4_invest_end_m and m < P.f4_fund_end_m


@shared
def interest_pv(rate, years, disc):
    """Present value, at the yearly discount rate `disc`, of the interest paid on one unit lent for
    `years` whole years at `rate` and repaid in equal yearly instalments (an amortising loan).

    A rate cut acts through the difference of two of these, in the bid price and in the public
    cost alike (the interest subsidy is what the lender forgoes, in today's money)."""
    if years <= 0 or rate <= 0.0:
        return 0.0
    pay = rate / (1.0 - (1.0 + rate) ** (-float(years)))
    balance = 1.0
    pv = 0.0
    factor = 1.0
    for _ in range(years):
        factor = factor / (1.0 + disc)
        pv += rate * balance * factor
        balance = balance * (1.0 + rate) - pay
    return pv


@helper
def bid_terms(m, i, c, t, V, P, S):
    """(rate, finance score, blended, edpf, pis) of a sole Korean bid.

    The buyer finance takes one concessional source at most (F3 and F8 do not stack on one loan):
    EDPF for a PPP while its budget lasts, else a blended package in an eligible country."""
    fin = P.fin_share[t]
    rate = P.base_rate + P.premium[P.risk[c]]
    fscore = 0.0
    blended = 0
    edpf = 0
    pis = 0
    need = fin * V
    if P.f8_enabled == 1 and t == PPP and fin > 0.0 and S.reg[R_EDPF_LEFT] >= need:
        edpf = 1
        rate -= P.f8_rate_cut
        fscore += P.sc_edpf
    elif P.f3_eligible[c] == 1 and fin > 0.0 and S.reg[R_BLENDED_LEFT] >= need:
        blended = 1
        rate -= P.f3_rate_cut
        fscore += P.sc_blended
    if t == PPP and pis_open(m, P):
        amount = pis_amount(V, P)
        if amount > 0.0 and pis_cash(S) - S.reg[R_PIS_RESERVED] >= amount:
            pis = 1
            fscore += P.sc_pis
    if rate < 0.0:
        rate = 0.0
    return rate, fscore, blended, edpf, pis


@helper
def log_price(markup, fin, fin_pv, saving):
    """ln(price / value): the markup, the financed share's interest (fin_pv per unit financed), less a
    cost saving passed into the price (per unit of value)."""
    return markup + math.log(1.0 + fin * fin_pv - saving)


@helper
def pis_invest(m, V, risk, P, S, A, y):
    """Invest the equity promised at bid time in a won PPP project, drawn from the tranches with cash.

    The promise was made (and the cash set aside) while the investment period was open, so it
    is honoured even if the period has closed since. The fund's cash is the sum over tranches;
    a junior tranche that covered senior losses may hold a negative balance (a claim against
    it), so only tranches with cash contribute.
    """
    amount = pis_amount(V, P)
    cash = pis_cash(S)
    if amount <= 0.0 or cash < amount:
        return
    j = S.cnt[K_INVEST]
    if j >= S.i_exit.shape[0]:
        S.cnt[K_OVERFLOW] = OV_INVEST
        return
    positive = 0.0
    for t in range(NTR):
        if S.pis_cash[t] > 0.0:
            positive += S.pis_cash[t]
    for t in range(NTR):
        x = 0.0
        if S.pis_cash[t] > 0.0:
            x = amount * (S.pis_cash[t] / positive)
        S.i_amt[j, t] = x
        S.pis_cash[t] -= x
        S.pis_out[t] += x
    exit_m = m + P.f1_holding_m
    if exit_m > P.f4_fund_end_m:
        exit_m = P.f4_fund_end_m
    S.i_exit[j] = exit_m
    S.i_risk[j] = risk
    S.i_active[j] = 1
    S.cnt[K_INVEST] = j + 1
    A.pis_commit[y] += amount


@helper
def pis_exit(j, P, S, A, y):
    for t in range(NTR):
        x = S.i_amt[j, t]
        S.pis_cash[t] += x * P.f1_return_multiple
        S.pis_out[t] -= x
        S.pis_ret[t] += x * (P.f1_return_multiple - 1.0)
    # the government and public tranches' returns lower the fund's public cost
    A.cost[y, C_PIS] -= (S.i_amt[j, 0] + S.i_amt[j, 1]) * (P.f1_return_multiple - 1.0)
    S.i_active[j] = 0


@helper
def pis_default(j, P, S, A, y):
    """A funded project fails: the loss hits the tranches in the configured order (F2).

    Subordinated: the government tranche absorbs losses up to its paid-in principal, then the
    public one, then the private one; the junior tranche pays the seniors' share in cash (its
    cash may go negative: a claim it owes the fund). Pari passu: each tranche loses its share.
    Per tranche, cash + outstanding + cumulative losses = paid-in + cumulative returns.
    """
    total = 0.0
    for t in range(NTR):
        total += S.i_amt[j, t]
    loss = P.f1_loss_given_default * total
    take = S.scratch_f  # the loss each tranche takes (preallocated: no allocation in the loop)
    for t in range(NTR):
        take[t] = 0.0
    if P.f2_loss_order == 1:  # pari passu
        for t in range(NTR):
            take[t] = P.f1_loss_given_default * S.i_amt[j, t]
    else:  # subordinated: government, then public, then private, each up to its paid-in principal
        remaining = loss
        for t in range(NTR):
            room = S.pis_paid[t] - S.pis_loss[t]
            if room < 0.0:
                room = 0.0
            x = remaining if remaining < room else room
            take[t] = x
            remaining -= x
        if remaining > 0.0:  # a loss beyond all principal (funded from returns) falls on the last tranche
            take[NTR - 1] += remaining
    for t in range(NTR):
        S.pis_cash[t] += S.i_amt[j, t] - take[t]
        S.pis_out[t] -= S.i_amt[j, t]
        S.pis_loss[t] += take[t]
    A.cost[y, C_PIS] += take[0] + take[1]
    S.i_active[j] = 0


@helper
def own_working_capital(V, sme, P):
    """The working capital a lead firm finances itself on a contract of value V, tied up while it
    runs: an SME's or startup's share its banks will not lend (none under F6's loan); large and
    mid-size firms borrow all of it. The bid decision tests it, a win ties it up."""
    return P.wc_share * V * P.sme_wc_own if sme else 0.0


@helper
def partner_working_capital(V, P):
    """The same for an SME partner's share of a consortium's contract without an F5 loan."""
    return P.wc_share * V * P.c2_sme_share * P.partner_wc_own

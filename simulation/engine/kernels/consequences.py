"""Consequences: contracts run, defaults and K-SURE claims, fund exits and losses, firms' capital, year-end records."""

from simulation.engine.kernels.constants import (
    C_KSURE,
    K_CONTRACTS,
    K_FIRST_OPEN,
    K_INVEST,
    K_TENDERS,
    NTR,
    R_KSURE,
    R_POT,
    SN_CASH,
    SN_LOSS,
    SN_OUT,
    SN_PAID,
    SN_RET,
    ST_OPEN,
)
from simulation.engine.kernels.financing import pis_default, pis_exit
from simulation.engine.kernels.jit import helper, submodel
from simulation.engine.kernels.pcg import uniform


@submodel
def consequences(m, P, S, A, rng):
    y = P.year_of[m]
    krw = P.krw / 1000.0
    for j in range(S.cnt[K_CONTRACTS]):
        if S.k_active[j] == 0:
            continue
        if m >= S.k_end[j]:
            S.k_active[j] = 0
            S.reg[R_POT] += S.k_loan[j]
            release(j, S)
            continue
        c = S.k_country[j]
        A.misc_draws[y] += 1
        u = uniform(rng)
        if u < P.contract_pd_m[P.risk[c]]:
            S.k_active[j] = 0
            S.reg[R_POT] += S.k_loan[j]
            release(j, S)
            A.defaults[y] += 1
            loss = P.default_loss * S.k_value[j]
            covered = 0.0
            if S.k_insured[j] == 1:  # the special account pays: a public cost
                covered = P.f7_cover_share * loss
                claim = covered * krw
                S.reg[R_KSURE] -= claim
                A.cost[y, C_KSURE] += claim
            elif S.k_insured[j] == 2:  # ordinary cover pays from its premiums
                covered = P.f7_cover_share * loss
            net = loss - covered
            share_p = S.k_share_p[j]
            S.capital[S.k_firm[j]] -= net * (1.0 - share_p)
            if S.k_partner[j] >= 0:
                S.capital[S.k_partner[j]] -= net * share_p
    for j in range(S.cnt[K_INVEST]):
        if S.i_active[j] == 0:
            continue
        if m >= S.i_exit[j]:
            pis_exit(j, P, S, A, y)
            continue
        A.misc_draws[y] += 1
        u = uniform(rng)
        if u < P.f1_project_default_pd_m[S.i_risk[j]]:
            pis_default(j, P, S, A, y)
    for i in range(S.capital.shape[0]):
        S.capital[i] += P.dom_income * S.capital0[i]
        S.active[i] = 1 if S.capital[i] > 0.0 else 0
    k = S.cnt[K_FIRST_OPEN]
    while k < S.cnt[K_TENDERS] and S.t_status[k] != ST_OPEN:
        k += 1
    S.cnt[K_FIRST_OPEN] = k
    if P.moy[m] == 11 or m == P.n_months - 1:
        year_end(y, P, S, A)


@helper
def release(j, S):
    """A contract that ends (or whose buyer defaults) frees the working capital its members tied up."""
    S.tied[S.k_firm[j]] -= S.k_wc[j]
    if S.k_partner[j] >= 0:
        S.tied[S.k_partner[j]] -= S.k_wc_p[j]


@helper
def year_end(y, P, S, A):
    exporters = 0
    this_year = 0
    active = 0
    for i in range(S.capital.shape[0]):
        exporters += S.exported[i]
        if S.last_win_year[i] == y:
            this_year += 1
        active += S.active[i]
    A.exporters[y] = exporters
    A.exporters_year[y] = this_year
    A.active_firms[y] = active
    for t in range(NTR):
        A.pis_snap[y, t, SN_PAID] = S.pis_paid[t]
        A.pis_snap[y, t, SN_CASH] = S.pis_cash[t]
        A.pis_snap[y, t, SN_OUT] = S.pis_out[t]
        A.pis_snap[y, t, SN_LOSS] = S.pis_loss[t]
        A.pis_snap[y, t, SN_RET] = S.pis_ret[t]
    A.ksure_balance[y] = S.reg[R_KSURE]
    A.pot_balance[y] = S.reg[R_POT]

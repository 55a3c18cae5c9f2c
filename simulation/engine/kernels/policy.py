"""Policy events of a month: relationship decay and jumps, expo, fairs, roadshows, K-SCON, KSP, running costs."""

import math

import numpy as np

from simulation.engine.kernels.constants import (
    C_ALLIANCE,
    C_COORD,
    C_DB,
    C_ENVOY,
    C_EXPO,
    C_FAIR,
    C_INTL,
    C_KIND,
    C_KOTRA,
    C_KSCON,
    C_KSP,
    C_MOU,
    C_PIS,
    C_ROADSHOW,
    C_STRATEGY,
    C_TRAINING,
    C_VISIT,
    INC_FULL,
    INC_KSP,
    K_CONTACTED,
    K_OVERFLOW,
    K_PIPE,
    K_ROADSHOWS,
    NT,
    O_KSCON,
    O_KSP,
    OV_PIPE,
    R_BLENDED_LEFT,
    R_EDPF_LEFT,
    R_POT,
    R_POT_SHORT,
    R_SLOTS_LEFT,
    R_SUBSIDY_LEFT,
)
from simulation.engine.kernels.draws import boost, masked_total, pick_cum, pick_masked
from simulation.engine.kernels.jit import helper, shared, stage, submodel
from simulation.engine.kernels.knowledge import introduce
from simulation.engine.kernels.pcg import normal, uniform


@stage
def year_reset(m, P, S):
    """January (and the first month): yearly budgets and consortium slots; the co-entry pot widens if demand exhausted it."""
    y = P.year_of[m]
    S.reg[R_SUBSIDY_LEFT] = P.n2_budget_krw_bn[y]
    S.reg[R_BLENDED_LEFT] = P.f3_budget_usd_m[y]
    S.reg[R_EDPF_LEFT] = P.f8_budget_usd_m[y]
    S.reg[R_SLOTS_LEFT] = float(P.c2_slots[y])
    if m > 0 and P.f5_enabled == 1 and S.reg[R_POT_SHORT] > 0.0:
        S.reg[R_POT] += P.f5_topup_krw_bn[y]
    S.reg[R_POT_SHORT] = 0.0


@helper
def region_total(weight, region, g):
    total = 0.0
    for c in range(weight.shape[0]):
        if region[c] == g:
            total += weight[c]
    return total


@helper
def pick_region(weight, region, g, total, u):
    target = u * total
    acc = 0.0
    last = -1
    for c in range(weight.shape[0]):
        if region[c] == g:
            acc += weight[c]
            last = c
            if acc > target:
                return c
    return last


@helper
def follow_on(m, c, lag_min, lag_max, inc, origin, P, S, rng):
    """Schedule the main tender a planning project leads to (K-SCON master plan, KSP study)."""
    u = uniform(rng)
    lag = lag_min + int(u * (lag_max - lag_min + 1))
    if lag > lag_max:
        lag = lag_max
    u = uniform(rng)
    d = pick_cum(P.domain_cum, u)
    dev = 0 if P.developing[c] == 1 else 1
    u = uniform(rng)
    lo = P.type_cum[dev, 0]
    target = lo + u * (P.type_cum[dev, NT - 1] - lo)
    t = NT - 1
    for k in range(1, NT):
        if target < P.type_cum[dev, k]:
            t = k
            break
    z = normal(rng)
    value = math.exp(P.value_mu[t] + P.value_sigma * z)
    month = m + lag
    if month >= P.n_months:
        return 0
    j = S.cnt[K_PIPE]
    if j >= S.p_month.shape[0]:
        S.cnt[K_OVERFLOW] = OV_PIPE
        return 0
    S.p_month[j] = month
    S.p_country[j] = c
    S.p_domain[j] = d
    S.p_type[j] = t
    S.p_value[j] = value
    S.p_inc[j] = inc
    S.p_origin[j] = origin
    S.cnt[K_PIPE] = j + 1
    return 1


@shared
def planning_round(m, y, n, ok, amount, cost, cost_slot, follow, lag_min, lag_max, inc, origin, counter, P, S, A, rng):
    """n planning projects (K-SCON plans, KSP studies) in eligible countries: relationship, cost, maybe a later tender."""
    total = masked_total(P.weight, ok)
    if total <= 0.0:
        return
    for _ in range(n):
        u = uniform(rng)
        c = pick_masked(P.weight, ok, total, u)
        boost(S.rel, c, amount, P)
        A.cost[y, cost_slot] += cost
        u = uniform(rng)
        if u < follow:
            counter[y] += follow_on(m, c, lag_min, lag_max, inc, origin, P, S, rng)


@helper
def fade(P, S):
    """Every month relationships drift back toward their base and contacts fade."""
    for c in range(P.n_countries):
        S.rel[c] = P.rel_base[c] + (S.rel[c] - P.rel_base[c]) * P.rel_decay
    contact = S.contact
    ids = S.contacted_ids
    n = S.cnt[K_CONTACTED]
    for g in range(contact.shape[0]):
        for a in range(n):  # the others have none to fade
            i = ids[a]
            contact[g, i] = contact[g, i] * P.contact_decay


@helper
def add_contact(S, g, i, amount):
    """Contact with region g for firm i (fairs, roadshows); the first contact lists the firm in
    S.contacted_ids and flags it in S.contacted.

    Few firms ever get contact (a few hundred of 100k), so the candidate scan reads a firm's contact
    only when it is flagged and the zero column `contact[:, n]` otherwise, and fading runs over the
    list: the scan does not stream a row of contacts per tender (docs/model.md §5 has the figures).
    S.contact_in flags the region: in the others the scan reads no contact at all.
    """
    S.contact[g, i] += amount
    S.contact_in[g] = 1
    if S.contacted[i] == 0:
        S.contacted[i] = 1
        S.contacted_ids[S.cnt[K_CONTACTED]] = i
        S.cnt[K_CONTACTED] += 1


@helper
def t5_mou(m, y, reach, P, S, A):
    """T5 G2G MOUs on their dates: a relationship jump with the partner country, and their cost."""
    for e in range(P.t5_mou_m.shape[0]):
        if P.t5_mou_m[e] == m:
            boost(S.rel, P.t5_mou_c[e], P.t5_relationship_boost * reach, P)
            A.cost[y, C_MOU] += P.t5_cost_krw_bn_per_mou


@helper
def t1_high_level(m, y, reach, P, S, A):
    """T1 high-level visits on their dates: a relationship jump with the country visited, and their cost."""
    for e in range(P.t1_visit_m.shape[0]):
        if P.t1_visit_m[e] == m:
            boost(S.rel, P.t1_visit_c[e], P.t1_relationship_boost * reach, P)
            A.cost[y, C_VISIT] += P.t1_cost_krw_bn_per_visit


@helper
def t4_envoys(m, y, reach, P, S, A):
    """T4 envoys: a monthly relationship gain in every country with an envoy, and its cost."""
    for c in range(P.n_countries):
        if P.t4_envoy_from[c] <= m:
            boost(S.rel, c, P.t4_relationship_boost_per_month * reach, P)
            A.cost[y, C_ENVOY] += P.t4_cost_krw_bn_per_month


@helper
def n5_training(y, moy, reach, P, S, A, rng):
    """N5 invitation training: each cohort comes from a target country drawn by market weight."""
    if moy == P.n5_moy and P.n5_cohorts[y] > 0:
        total = masked_total(P.weight, P.n5_eligible)
        if total > 0.0:
            for _ in range(P.n5_cohorts[y]):
                u = uniform(rng)
                c = pick_masked(P.weight, P.n5_eligible, total, u)
                boost(S.rel, c, P.n5_relationship_boost * reach, P)
                A.cost[y, C_TRAINING] += P.n5_cost_krw_bn_per_cohort


@helper
def pick_weighted(weight, total, u):
    """A country drawn with probability proportional to weight (the last if rounding leaves none)."""
    target = u * total
    acc = 0.0
    n = weight.shape[0]
    for c in range(n):
        acc += weight[c]
        if acc > target:
            return c
    return n - 1


@helper
def c1_buyers(reach, P, S, rng):
    """C1's visiting buyer countries, drawn by market weight into the first slots of S.scratch_i;
    each gains relationship."""
    total = 0.0
    for c in range(P.n_countries):
        total += P.weight[c]
    for j in range(P.c1_buyer_countries):
        u = uniform(rng)
        pick = pick_weighted(P.weight, total, u)
        S.scratch_i[j] = pick
        boost(S.rel, pick, P.c1_relationship_boost * reach, P)


@helper
def c1_meetings(m, reach, P, S, rng):
    """Each alliance firm exhibits with some chance; an exhibitor may meet each visiting country's
    buyers, and so learns of the country."""
    vis = S.scratch_i
    for a in range(S.alliance_ids.shape[0]):
        i = S.alliance_ids[a]
        u = uniform(rng)
        if u < P.c1_firm_attendance:
            for j in range(P.c1_buyer_countries):
                u2 = uniform(rng)
                if u2 < P.c1_meet_prob * reach:
                    introduce(S.know, vis[j], i, m)


@helper
def c1_expo(m, y, moy, reach, P, S, A, rng):
    """C1 World Smart City Expo, yearly from its start: buyer countries visit, exhibitors meet them."""
    if P.c1_enabled == 1 and m >= P.c1_start_m and moy == P.c1_moy:
        A.cost[y, C_EXPO] += P.c1_cost_krw_bn
        if P.c1_buyer_countries > 0:
            c1_buyers(reach, P, S, rng)
            c1_meetings(m, reach, P, S, rng)


@helper
def c4_fair(y, moy, reach, P, S, A, rng):
    """C4 Smart City Fair: a relationship gain in the fair's region and contact for the
    alliance firms drawn to exhibit."""
    if P.c4_enabled == 1 and moy == P.c4_moy:
        A.cost[y, C_FAIR] += P.c4_cost_krw_bn
        for c in range(P.n_countries):
            if P.region[c] == P.c4_region:
                boost(S.rel, c, P.c4_relationship_boost * reach, P)
        na = S.alliance_ids.shape[0]
        if na > 0:
            for _ in range(P.c4_firms):
                u = uniform(rng)
                a = int(u * na)
                if a >= na:
                    a = na - 1
                i = S.alliance_ids[a]
                add_contact(S, P.c4_region, i, P.c4_contact_boost * reach)


@helper
def c5_roadshows(m, y, moy, reach, P, S, A, rng):
    """C5 roadshows, spread over the year and rotating through the target regions: a host country
    (relationship gain) and alliance SMEs first on board (contact with the region, the host known)."""
    n_rs = P.c5_roadshows[y]
    nreg = P.c5_regions.shape[0]
    if n_rs > 0 and nreg > 0:
        for k in range(n_rs):
            if ((2 * k + 1) * 12) // (2 * n_rs) != moy:
                continue
            g = P.c5_regions[S.cnt[K_ROADSHOWS] % nreg]
            S.cnt[K_ROADSHOWS] += 1
            A.cost[y, C_ROADSHOW] += P.c5_cost_krw_bn_each
            host = -1
            total = region_total(P.weight, P.region, g)
            if total > 0.0:
                u = uniform(rng)
                host = pick_region(P.weight, P.region, g, total, u)
                boost(S.rel, host, P.c5_relationship_boost * reach, P)
            pool = S.sme_alliance_ids
            if pool.shape[0] == 0:
                pool = S.alliance_ids
            npool = pool.shape[0]
            if npool > 0:
                for _ in range(P.c5_firms_per_roadshow):
                    u = uniform(rng)
                    a = int(u * npool)
                    if a >= npool:
                        a = npool - 1
                    i = pool[a]
                    add_contact(S, g, i, P.c5_contact_boost * reach)
                    if host >= 0:
                        introduce(S.know, host, i, m)


@helper
def n1_kscon(m, y, moy, reach, P, S, A, rng):
    """N1 K-SCON selections: master plans that may lead to a main tender with Korean incumbency."""
    if P.n1_enabled == 1 and moy == P.n1_call_moy and P.n1_selections[y] > 0:
        planning_round(
            m,
            y,
            P.n1_selections[y],
            P.n1_eligible,
            P.n1_relationship_boost * reach,
            P.n1_cost_krw_bn_per_selection,
            np.int64(C_KSCON),
            P.n1_follow_on_prob,
            P.n1_lag_months_min,
            P.n1_lag_months_max,
            np.int64(INC_FULL),
            np.int64(O_KSCON),
            A.kscon_tenders,
            P,
            S,
            A,
            rng,
        )


@helper
def t3_ksp(m, y, moy, reach, P, S, A, rng):
    """T3 KSP projects: smaller than N1 plans, shaping later tenders partly (KSP incumbency)."""
    if moy == P.t3_moy and P.t3_projects[y] > 0:
        planning_round(
            m,
            y,
            P.t3_projects[y],
            P.t3_eligible,
            P.t3_relationship_boost * reach,
            P.t3_cost_krw_bn_per_project,
            np.int64(C_KSP),
            P.t3_follow_on_prob,
            P.t3_lag_months_min,
            P.t3_lag_months_max,
            np.int64(INC_KSP),
            np.int64(O_KSP),
            A.ksp_tenders,
            P,
            S,
            A,
            rng,
        )


@helper
def n4_hubs(m, y, P, A):
    """N4 KOTRA and KIND centres: their running cost (their effect is in bidding's discovery)."""
    for c in range(P.n_countries):
        if P.n4_kotra_from[c] <= m:
            A.cost[y, C_KOTRA] += P.n4_kotra_cost_krw_bn_per_month
        if P.n4_kind_from[c] <= m:
            A.cost[y, C_KIND] += P.n4_kind_cost_krw_bn_per_month


@helper
def n3_info_db(m, y, P, A):
    """N3 information DB: its running cost while live (its effect is in bidding's discovery)."""
    if P.n3_db_on[m] > 0.0:
        A.cost[y, C_DB] += P.n3_cost_krw_bn_per_month


@helper
def standing_costs(m, y, P, A):
    """The running costs of T2 coordination, the C3 catalogue, C6 strategies and N6 joint entry,
    whose effects act elsewhere (reach, partners, quality, MDB access): one line each."""
    A.cost[y, C_COORD] += P.t2_cost_krw_bn_per_month[m]
    A.cost[y, C_ALLIANCE] += P.c3_cost_krw_bn_per_month
    A.cost[y, C_STRATEGY] += P.c6_cost_krw_bn_per_month
    A.cost[y, C_INTL] += P.n6_cost_krw_bn_per_month


@helper
def f1_pis(m, y, P, S, A):
    """What the public money in the F1 PIS fund costs while the fund lives (its returns and losses
    are booked at exit and default: financing.py)."""
    if P.f1_enabled == 1 and m >= P.f1_start_m and m < P.f4_fund_end_m:
        A.cost[y, C_PIS] += P.f1_public_funding_rate_m * (S.pis_paid[0] + S.pis_paid[1])


@submodel
def policy(m, P, S, A, rng):
    """The policy events of month m, one measure at a time. The order is part of the model: the
    measures draw from one stream, so moving one would shift the draws of those after it."""
    y = P.year_of[m]
    moy = P.moy[m]
    reach = P.t2_reach[m]
    fade(P, S)
    t5_mou(m, y, reach, P, S, A)
    t1_high_level(m, y, reach, P, S, A)
    t4_envoys(m, y, reach, P, S, A)
    n5_training(y, moy, reach, P, S, A, rng)
    c1_expo(m, y, moy, reach, P, S, A, rng)
    c4_fair(y, moy, reach, P, S, A, rng)
    c5_roadshows(m, y, moy, reach, P, S, A, rng)
    n1_kscon(m, y, moy, reach, P, S, A, rng)
    t3_ksp(m, y, moy, reach, P, S, A, rng)
    n4_hubs(m, y, P, A)
    n3_info_db(m, y, P, A)
    standing_costs(m, y, P, A)
    f1_pis(m, y, P, S, A)

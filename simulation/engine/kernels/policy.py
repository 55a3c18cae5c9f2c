"""Policy events of a month: relationship decay and jumps, expo, fairs, roadshows, K-SCON, KSP, running costs."""
import math

from simulation.engine.kernels.constants import C_ALLIANCE, C_DB, C_ENVOY, C_EXPO, C_FAIR, C_INTL, C_KIND, C_KOTRA, C_KSCON, C_KSP, C_MOU, C_PIS, C_ROADSHOW, C_STRATEGY, C_TRAINING, C_VISIT, C_COORD, INC_FULL, INC_KSP, K_CONTACTED, K_PIPE, K_ROADSHOWS, K_OVERFLOW, NT, O_KSCON, O_KSP, OV_PIPE, R_BLENDED_LEFT, R_EDPF_LEFT, R_POT, R_POT_SHORT, R_SLOTS_LEFT, R_SUBSIDY_LEFT
from simulation.engine.kernels.draws import boost, masked_total, pick_cum, pick_masked
from simulation.engine.kernels.knowledge import introduce
from simulation.engine.kernels.jit import helper, stage
from simulation.engine.kernels.pcg import normal, uniform


@stage
def year_reset(m, P, S):
    """January (and the first month): yearly budgets and consortium slots; the co-entry pot widens if demand exhausted it."""
    y = P.year_of[m]
    S.reg[R_SUBSIDY_LEFT] = P.subsidy_budget[y]
    S.reg[R_BLENDED_LEFT] = P.blended_budget[y]
    S.reg[R_EDPF_LEFT] = P.edpf_budget[y]
    S.reg[R_SLOTS_LEFT] = float(P.slots[y])
    if m > 0 and P.coentry_on == 1 and S.reg[R_POT_SHORT] > 0.0:
        S.reg[R_POT] += P.pot_topup[y]
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


@helper
def planning_round(m, y, n, ok, amount, cost, cost_slot, follow, lag_min, lag_max, inc, origin, counter, P, S, A, rng):
    """n planning projects (K-SCON plans, KSP studies) in eligible countries: relationship, cost, maybe a later tender."""
    total = masked_total(P.weight, ok)
    if total <= 0.0:
        return
    for k in range(n):
        u = uniform(rng)
        c = pick_masked(P.weight, ok, total, u)
        boost(S.rel, c, amount)
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
    list: the scan no longer streams a row of contacts per tender (100k firms x 68 countries:
    11.3 -> 8.6 cycles a candidate, and the decisions after it lose less of the cache).
    """
    S.contact[g, i] += amount
    if S.contacted[i] == 0:
        S.contacted[i] = 1
        S.contacted_ids[S.cnt[K_CONTACTED]] = i
        S.cnt[K_CONTACTED] += 1


@stage
def policy(m, P, S, A, rng):
    y = P.year_of[m]
    moy = P.moy[m]
    reach = P.reach[m]
    C = P.n_countries
    fade(P, S)
    # T5 MOUs and T1 high-level visits on their dates
    for e in range(P.mou_m.shape[0]):
        if P.mou_m[e] == m:
            boost(S.rel, P.mou_c[e], P.mou_boost * reach)
            A.cost[y, C_MOU] += P.mou_cost
    for e in range(P.visit_m.shape[0]):
        if P.visit_m[e] == m:
            boost(S.rel, P.visit_c[e], P.visit_boost * reach)
            A.cost[y, C_VISIT] += P.visit_cost
    # T4 envoys
    for c in range(C):
        if P.envoy_from[c] <= m:
            boost(S.rel, c, P.envoy_boost * reach)
            A.cost[y, C_ENVOY] += P.envoy_cost_m
    # N5 invitation training
    if moy == P.train_moy and P.training_n[y] > 0:
        total = masked_total(P.weight, P.train_ok)
        if total > 0.0:
            for k in range(P.training_n[y]):
                u = uniform(rng)
                c = pick_masked(P.weight, P.train_ok, total, u)
                boost(S.rel, c, P.train_boost * reach)
                A.cost[y, C_TRAINING] += P.train_cost
    # C1 World Smart City Expo
    if P.expo_on == 1 and m >= P.expo_start_m and moy == P.expo_moy:
        A.cost[y, C_EXPO] += P.expo_cost
        nb = P.expo_buyers
        if nb > 0:
            total = 0.0
            for c in range(C):
                total += P.weight[c]
            vis = S.scratch_i  # the buyer countries met, in the first nb slots
            for j in range(nb):
                u = uniform(rng)
                target = u * total
                acc = 0.0
                pick = C - 1
                for c in range(C):
                    acc += P.weight[c]
                    if acc > target:
                        pick = c
                        break
                vis[j] = pick
                boost(S.rel, pick, P.expo_boost * reach)
            for a in range(S.alliance_ids.shape[0]):
                i = S.alliance_ids[a]
                u = uniform(rng)
                if u < P.expo_attend:
                    for j in range(nb):
                        u2 = uniform(rng)
                        if u2 < P.expo_meet * reach:
                            introduce(S.know, vis[j], i, m)
    # C4 Smart City Fair (ASEAN pavilion)
    if P.fair_on == 1 and moy == P.fair_moy:
        A.cost[y, C_FAIR] += P.fair_cost
        for c in range(C):
            if P.region[c] == P.fair_region:
                boost(S.rel, c, P.fair_boost * reach)
        na = S.alliance_ids.shape[0]
        if na > 0:
            for k in range(P.fair_firms):
                u = uniform(rng)
                a = int(u * na)
                if a >= na:
                    a = na - 1
                i = S.alliance_ids[a]
                add_contact(S, P.fair_region, i, P.fair_contact * reach)
    # C5 roadshows, spread over the year, rotating through the target regions
    n_rs = P.roadshows_n[y]
    nreg = P.rs_regions.shape[0]
    if n_rs > 0 and nreg > 0:
        for k in range(n_rs):
            if ((2 * k + 1) * 12) // (2 * n_rs) != moy:
                continue
            g = P.rs_regions[S.cnt[K_ROADSHOWS] % nreg]
            S.cnt[K_ROADSHOWS] += 1
            A.cost[y, C_ROADSHOW] += P.rs_cost
            host = -1
            total = region_total(P.weight, P.region, g)
            if total > 0.0:
                u = uniform(rng)
                host = pick_region(P.weight, P.region, g, total, u)
                boost(S.rel, host, P.rs_boost * reach)
            pool = S.sme_alliance_ids
            if pool.shape[0] == 0:
                pool = S.alliance_ids
            npool = pool.shape[0]
            if npool > 0:
                for j in range(P.rs_firms):
                    u = uniform(rng)
                    a = int(u * npool)
                    if a >= npool:
                        a = npool - 1
                    i = pool[a]
                    add_contact(S, g, i, P.rs_contact * reach)
                    if host >= 0:
                        introduce(S.know, host, i, m)
    # N1 K-SCON selections: master plans that may lead to a main tender with Korean incumbency
    if P.kscon_on == 1 and moy == P.kscon_moy and P.kscon_n[y] > 0:
        planning_round(m, y, P.kscon_n[y], P.kscon_ok, P.kscon_boost * reach, P.kscon_cost, C_KSCON, P.kscon_follow,
                       P.kscon_lag_min, P.kscon_lag_max, INC_FULL, O_KSCON, A.kscon_tenders, P, S, A, rng)
    # T3 KSP projects: smaller, shaping later tenders partly
    if moy == P.ksp_moy and P.ksp_n[y] > 0:
        planning_round(m, y, P.ksp_n[y], P.ksp_ok, P.ksp_boost * reach, P.ksp_cost, C_KSP, P.ksp_follow,
                       P.ksp_lag_min, P.ksp_lag_max, INC_KSP, O_KSP, A.ksp_tenders, P, S, A, rng)
    # running costs of standing measures
    for c in range(C):
        if P.kotra_from[c] <= m:
            A.cost[y, C_KOTRA] += P.kotra_cost_m
        if P.kind_from[c] <= m:
            A.cost[y, C_KIND] += P.kind_cost_m
    if P.db_on[m] > 0.0:
        A.cost[y, C_DB] += P.db_cost_m
    A.cost[y, C_COORD] += P.coord_cost[m]
    A.cost[y, C_ALLIANCE] += P.alliance_cost_m
    A.cost[y, C_STRATEGY] += P.strategy_cost_m
    A.cost[y, C_INTL] += P.intl_cost_m
    # what the public money in the PIS fund costs while the fund lives (its returns and losses are
    # booked at exit and default: financing.py)
    if P.pis_on == 1 and m >= P.pis_start_m and m < P.pis_fund_end_m:
        A.cost[y, C_PIS] += P.pis_fund_rate_m * (S.pis_paid[0] + S.pis_paid[1])

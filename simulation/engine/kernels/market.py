"""Market: new tenders arrive each month per country (Poisson), plus scheduled and follow-on tenders."""

import math

from simulation.engine.kernels.award import foreign_field
from simulation.engine.kernels.constants import (
    INC_NONE,
    K_NEW_FROM,
    K_OVERFLOW,
    K_PIPE,
    K_TENDERS,
    O_MARKET,
    OV_TENDERS,
    ST_OPEN,
)
from simulation.engine.kernels.draws import pick_cum, poisson
from simulation.engine.kernels.jit import helper, submodel
from simulation.engine.kernels.pcg import normal, uniform


@helper
def add_tender(S, c, d, t, value, deadline, inc, mdb, origin):
    k = S.cnt[K_TENDERS]
    if k >= S.t_country.shape[0]:
        S.cnt[K_OVERFLOW] = OV_TENDERS
        return -1
    S.t_country[k] = c
    S.t_domain[k] = d
    S.t_type[k] = t
    S.t_value[k] = value
    S.t_deadline[k] = deadline
    S.t_inc[k] = inc
    S.t_mdb[k] = mdb
    S.t_origin[k] = origin
    S.t_status[k] = ST_OPEN
    S.t_bid_start[k] = 0
    S.t_bid_count[k] = 0
    S.t_nbids[k] = 0
    S.cnt[K_TENDERS] = k + 1
    return k


@submodel
def market(m, P, S, rng, rng_foreign):
    """Ordinary tenders and their foreign bids from `rng`; the follow-on and scheduled tenders' foreign
    bids from `rng_foreign`, so that a plan that adds tenders leaves the ordinary flow untouched."""
    S.cnt[K_NEW_FROM] = S.cnt[K_TENDERS]
    for c in range(P.n_countries):
        dev = 0 if P.developing[c] == 1 else 1
        lam = P.tender_scale[m] * P.weight[c] / P.mean_value[dev]
        n = poisson(rng, lam)
        for _ in range(n):
            u = uniform(rng)
            t = pick_cum(P.type_cum[dev], u)
            u = uniform(rng)
            d = pick_cum(P.domain_cum, u)
            z = normal(rng)
            value = math.exp(P.value_mu[t] + P.value_sigma * z)
            u = uniform(rng)
            mdb = 1 if u < P.mdb_share[c] else 0
            k = add_tender(S, c, d, t, value, m + P.open_m[t], INC_NONE, mdb, O_MARKET)
            if k < 0:
                return
            foreign_field(k, P, S, rng)
    for j in range(S.cnt[K_PIPE]):
        if S.p_month[j] == m:
            t = S.p_type[j]
            k = add_tender(
                S, S.p_country[j], S.p_domain[j], t, S.p_value[j], m + P.open_m[t], S.p_inc[j], 0, S.p_origin[j]
            )
            if k < 0:
                return
            foreign_field(k, P, S, rng_foreign)

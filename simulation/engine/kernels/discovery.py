"""Discovery: the chance a capable firm learns of a tender.

A smooth baseline with bounded relative effects (docs/model.md §3): the odds that firm i learns
of tender k in country c are

    odds = base_c · size_odds[size_i] · cap(channels_c(m) · (1 + known_gain · K_ic(m)) · (1 + contact_gain · min(1, contact_i,g)))

where `base_c` is the gravity baseline of the country (market weight, distance from Seoul, 2019
relationship), `channels_c(m)` multiplies the odds ratios of the support channels that reach the
country in month m (KOTRA centre, DB, KIND centre for PPP, each damped by T2 reach), and `K_ic` is
the fading knowledge of the country (kernels/knowledge.py). The channels, the firm's knowledge and
its contacts carry the same news, so their combined lift L saturates:
`cap(L) = 1 + R·(1 − exp(−(L − 1)/R))` with R = lift_cap − 1: about L for a small lift, never above
lift_cap (at most 10). No channel acts as a switch on a near-zero chance, and stacked channels add
less than their product; p = odds / (1 + odds), times the access to multilateral-funded tenders.
"""

import math

from simulation.engine.kernels.assume import nonneg
from simulation.engine.kernels.constants import NS
from simulation.engine.kernels.jit import helper
from simulation.engine.kernels.knowledge import strength_of
from simulation.engine.kernels.pcg import lanes, lanes_next, put_state, to_double


@helper
def channel_odds(m, c, t_is_ppp, P):
    """Odds ratio of the policy channels that reach country c in month m (1 when none does)."""
    reach = P.t2_reach[m]
    centre = 1.0 if P.n4_kotra_from[c] <= m else 0.0
    kind = 1.0 if (P.n4_kind_from[c] <= m and t_is_ppp) else 0.0
    return (
        (1.0 + P.n4_kotra_discovery_odds_gain * reach * centre)
        * (1.0 + P.n3_discovery_odds_gain * reach * P.n3_db_on[m])
    ) * (1.0 + P.n4_kind_ppp_discovery_odds_gain * reach * kind)


@helper
def capped_lift(lift, room):
    """The saturating lift 1 + room·(1 − exp(−(lift − 1)/room)): about lift when small, below 1 + room."""
    if room <= 0.0:
        return 1.0
    return 1.0 + room * (1.0 - math.exp(-(lift - 1.0) / room))


@helper
def lift_of(ch, ch_lift, known_gain, contact_gain, room, know_ic, contact_ig):
    """The capped lift of channels, knowledge and contact of a firm: ch_lift (the tender's, computed
    once) when the firm has neither."""
    pc = contact_ig
    if pc > 1.0:
        pc = 1.0
    if know_ic > 0.0 or pc > 0.0:
        return capped_lift((ch * (1.0 + known_gain * know_ic)) * (1.0 + contact_gain * pc), room)
    return ch_lift


@helper
def prob_of(odds_size, lift, access):
    """p = odds / (1 + odds) with the lift applied to the size-class odds, times the access to MDB tenders."""
    odds = odds_size * lift
    return (odds / (1.0 + odds)) * access


@helper
def aware_prob(odds_size, ch, ch_lift, known_gain, contact_gain, room, know_ic, contact_ig, access):
    """p = odds / (1 + odds) of a firm whose size-class baseline odds are odds_size, times the access to MDB tenders.

    ch is the tender's channel odds ratio and ch_lift its capped lift (the lift of a firm with no
    knowledge or contact, computed once per tender). Scalars only: this runs once per candidate firm
    and tender, the innermost loop of the model.
    """
    return prob_of(odds_size, lift_of(ch, ch_lift, known_gain, contact_gain, room, know_ic, contact_ig), access)


@helper
def contact_of(contact, contacted, g, i):
    """contact[g, i], read only for a firm ever contacted; the others read the always-zero last
    column (policy.add_contact), so the scan does not stream a row of contacts per tender."""
    return contact[g, nonneg(i if contacted[i] else contact.shape[1] - 1)]


@helper
def discover(
    m,
    lo,
    hi,
    c,
    g,
    odds_by_size,
    ch,
    ch_lift,
    room,
    access,
    dom_firms,
    active,
    size,
    know,
    k_table,
    contact,
    contacted,
    region_contact,
    known_gain,
    contact_gain,
    aware,
    p_of,
    known,
    lift_at,
    lift_k,
    k,
    rng,
):
    """Each active firm of the domain list dom_firms[lo:hi] learns of a tender in country c (region g)
    with its own chance, one uniform each in list order. The aware firms go to aware[:n]; returns
    (n, the number of active firms offered the tender). odds_by_size[s] is the tender's odds for a
    firm of size class s before the lift of channels, knowledge and contact, odds_by_size[NS + s]
    the chance of such a firm with no knowledge and no contact; ch and ch_lift are the tender's
    channel odds ratio and its capped lift, room the lift's cap minus 1; region_contact whether any
    firm has ever had contact with the region (else every contact there is zero).

    In three passes, so that no pass branches on a firm (a third of the candidates know the country
    or have a contact there, in no order a branch predictor could learn): the active firms and the
    chance of those with neither, listing the others (p_of, known); the chance of those (the only
    ones that need an exponential); then the draws, in list order as before. The chances are the
    same numbers as `aware_prob` gives each firm, and the draws the same draws.

    Within tender k, the lift of a firm with knowledge and no contact depends on its know value
    alone (depth and month of last use; the month is the tender's): it is computed once per value
    and kept in lift_at[v], stamped lift_k[v] = k. Most firms share a few values (all knowledge
    held at the start is one), so the exponentials of the second pass are mostly looked up.
    Arrays come in as arguments (not as fields of the state) so that the loop reads plain locals.
    """
    offered = 0
    nk = 0
    for idx in range(nonneg(lo), nonneg(hi)):
        i = nonneg(dom_firms[nonneg(idx)])
        aware[offered] = i
        p_of[offered] = odds_by_size[NS + nonneg(size[i])]
        v = know[c, i]
        on = 1 if active[i] != 0 else 0
        known[nk] = offered
        # knowledge ever gained (its strength may have faded to nothing: aware_prob then gives the
        # same number as the size class's) or a contact in the region, read only where any firm has
        # had contact (the same test for every firm of the tender: the compiler makes two loops)
        hit = 1 if v >= 0 else 0
        if region_contact:
            hit |= 1 if contact_of(contact, contacted, g, i) > 0.0 else 0
        nk += on & hit
        offered += on
    for q in range(nk):
        j = nonneg(known[q])
        i = nonneg(aware[j])
        pc = contact_of(contact, contacted, g, i)
        v = know[c, i]
        if pc == 0.0 and v >= 0:  # knowledge, no contact: the lift of its know value in this tender
            if lift_k[v] != k:
                lift_at[v] = lift_of(ch, ch_lift, known_gain, contact_gain, room, strength_of(v, m, k_table), 0.0)
                lift_k[v] = k
            lift = lift_at[v]
        else:
            lift = lift_of(ch, ch_lift, known_gain, contact_gain, room, strength_of(v, m, k_table), pc)
        p_of[j] = prob_of(odds_by_size[nonneg(size[i])], lift, access)
    n = 0
    # the generator stepped in registers, two states a step apart, each leaping two steps (pcg.lanes)
    s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b, j_lo, j_hi = lanes(rng)
    for j in range(offered):
        aware[n] = aware[j]
        n += to_double(out_a) < p_of[j]
        s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b = lanes_next(a_lo, a_hi, b_lo, b_hi, out_b, j_lo, j_hi)
    put_state(rng, s_lo, s_hi)
    return n, offered

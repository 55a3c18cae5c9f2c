"""Discovery: the chance a capable firm learns of a tender."""
from .assume import nonneg
from .bits import has
from .jit import helper
from .pcg import put_state, step, take_state, to_double


@helper
def policy_miss(m, c, t_is_ppp, P):
    """Chance that none of the policy channels (KOTRA centre, DB, KIND centre) brings the tender to a firm."""
    reach = P.reach[m]
    centre = 1.0 if P.kotra_from[c] <= m else 0.0
    kind = 1.0 if (P.kind_from[c] <= m and t_is_ppp) else 0.0
    return ((1.0 - P.kotra_p * reach * centre) * (1.0 - P.db_p * reach * P.db_on[m])) * (1.0 - P.kind_p * reach * kind)


@helper
def aware_prob(p_base, p_known, p_contact, known_ic, contact_ig, miss_policy, access):
    """1 - (1-p0)(1-p_known[c known])(policy channels)(1-p_contact*contact), times access to MDB tenders.

    Scalars only: this runs once per candidate firm and tender, the innermost loop of the model.
    """
    pc = p_contact * contact_ig
    if pc > 1.0:
        pc = 1.0
    miss = (((1.0 - p_base) * (1.0 - p_known * known_ic)) * miss_policy) * (1.0 - pc)
    return (1.0 - miss) * access


@helper
def contact_of(contact, contacted, g, i):
    """contact[g, i], read only for a firm ever contacted; the others read the always-zero last
    column (policy.add_contact), so the scan does not stream a row of contacts per tender."""
    return contact[g, nonneg(i if contacted[i] else contact.shape[1] - 1)]


@helper
def discover(lo, hi, c, g, miss_policy, access, dom_firms, active, known, contact, contacted, p_base, p_known,
             p_contact, aware, rng):
    """Each active firm of the domain list dom_firms[lo:hi] learns of a tender in country c (region g)
    with its own chance, one uniform each in list order. The aware firms go to aware[:n]; returns
    (n, the number of active firms offered the tender).

    Arrays come in as arguments (not as fields of the state) so that the loop reads plain locals.
    """
    n = 0
    offered = 0
    s_lo, s_hi, i_lo, i_hi = take_state(rng)  # the generator stepped in registers (pcg.take_state)
    for idx in range(nonneg(lo), nonneg(hi)):
        i = nonneg(dom_firms[nonneg(idx)])
        if active[i] == 0:
            continue
        offered += 1
        p = aware_prob(p_base, p_known, p_contact, has(known, c, i), contact_of(contact, contacted, g, i),
                       miss_policy, access)
        aware[nonneg(n)] = i
        s_lo, s_hi, out = step(s_lo, s_hi, i_lo, i_hi)
        n += to_double(out) < p
    put_state(rng, s_lo, s_hi)
    return n, offered


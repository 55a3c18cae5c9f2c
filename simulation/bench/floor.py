"""The floor: a kernel that makes the same random draws and the same array traffic as a run, and no decisions.

Used only by `scsim bench` to say how close the model is to what any implementation of it must
spend on drawing random numbers and touching the state. It replays the run's tender log (the
candidate scan with one uniform per capable firm, reading the same firm arrays) and draws the
other numbers the run drew, counted from its accumulators, writing the tender and bid records
the run writes: per tender 3 uniforms and a normal; per bid a normal; per closed tender a normal,
a Poisson count and ten uniforms (a Gumbel per origin nest, one for the outside option, three for
the award and one for the order of the decisions);
per foreign bid a uniform and two normals; one uniform per running contract and fund
investment each month; as many uniforms from the policy stream as the run's policy events drew
(`policy_draws`, spread evenly over the months). Relationships and contacts decay each month as
in the model.
"""

from simulation.engine.kernels.assume import nonneg
from simulation.engine.kernels.constants import G_ALL
from simulation.engine.kernels.discovery import contact_of
from simulation.engine.kernels.draws import poisson
from simulation.engine.kernels.jit import entry
from simulation.engine.kernels.knowledge import strength
from simulation.engine.kernels.market import add_tender
from simulation.engine.kernels.pcg import lanes, lanes_next, normal, put_state, to_double, uniform
from simulation.engine.kernels.policy import fade


@entry
def floor_months(m0, m1, P, S, A, R, ref, t_country, t_domain, t_type, t_deadline, policy_draws):
    """`ref` is the run's accumulators, t_* its tender log, policy_draws the outputs its policy stream
    made (pcg.steps_between); S is a fresh world (the same as the run's start) and R its streams,
    each used for the draws the model takes from it."""
    acc = 0.0
    k = 0
    nb = 0
    ref_tenders = t_country.shape[0]
    y = -1
    months_in_year = 0
    for m in range(m0, m1):
        if P.year_of[m] != y:  # a new year: how many of its months the horizon holds
            y = P.year_of[m]
            months_in_year = 0
            for mm in range(P.n_months):
                if P.year_of[mm] == y:
                    months_in_year += 1
        fade(P, S)
        for _ in range(policy_draws * (m + 1) // P.n_months - policy_draws * m // P.n_months):
            acc += uniform(R.policy)
        for c in range(P.n_countries):
            acc += poisson(R.market, P.tender_scale[m] * P.weight[c] / P.mean_value[1 - P.developing[c]])
        # the run's tenders published this month: their draws, and the candidate scan
        while k < ref_tenders and t_deadline[k] - P.open_m[t_type[k]] == m:
            acc += uniform(R.market) + uniform(R.market) + normal(R.market) + uniform(R.market)
            c = t_country[k]
            d = t_domain[k]
            g = P.region[c]
            # the tender's record, written as the market and bidding write it
            add_tender(S, c, d, t_type[k], acc, t_deadline[k], 0, 0, 0)
            S.t_nforeign[k] = 0
            S.t_fbest[k] = acc
            S.t_bid_start[k] = nb
            # stepped in registers, two states a step apart, as discovery does (pcg.lanes)
            s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b, j_lo, j_hi = lanes(R.discovery)
            # the arrays as locals before the scan, as discovery gets them (as arguments): a field of
            # the packed S or P read inside the loop is a load from the struct per firm (docs/speed.md)
            dom_firms, active, size, know = S.dom_firms, S.active, S.size, S.know
            contact, contacted, k_table, size_odds = S.contact, S.contacted, P.k_table, P.size_odds
            # contact read only in a region where a firm has had any, as discovery does (this world,
            # fresh, has none: the floor never pays for a read the model might skip)
            region_contact = S.contact_in[g] != 0
            for idx in range(nonneg(S.dom_ptr[d]), nonneg(S.dom_ptr[d + 1])):  # as discovery indexes
                i = nonneg(dom_firms[nonneg(idx)])
                if active[i] == 0:
                    continue
                acc += strength(know, c, i, m, k_table) * size_odds[size[i]] + to_double(out_a)
                if region_contact:
                    acc += contact_of(contact, contacted, g, i)
                s_lo, s_hi, a_lo, a_hi, out_a, b_lo, b_hi, out_b = lanes_next(a_lo, a_hi, b_lo, b_hi, out_b, j_lo, j_hi)
            put_state(R.discovery, s_lo, s_hi)
            k += 1
        share = 1.0 / months_in_year
        n_bids = int(ref.bids_submitted[y] * share + 0.5)
        for b in range(n_bids):
            z = normal(R.decision)
            acc += z
            # the bid's record, as bidding writes it
            if nb < S.b_firm.shape[0]:
                S.b_firm[nb] = b
                S.b_partner[nb] = -1
                S.b_tender[nb] = k
                S.b_rate[nb] = z
                S.b_lnprice[nb] = z
                S.b_quality[nb] = z
                S.b_fscore[nb] = z
                S.b_track[nb] = z
                S.b_insured[nb] = 0
                S.b_pis[nb] = 0
                S.b_blended[nb] = 0
                S.b_edpf[nb] = 0
                S.b_sole[nb] = 0
                S.b_loan[nb] = z
                nb += 1
        n_closed = int(ref.tenders_closed[y] * share + 0.5)
        for _ in range(n_closed):
            acc += normal(R.market) + poisson(R.market, P.foreign_mean * P.strength)
            for _ in range(7):
                acc += uniform(R.market)
        n_foreign = int((ref.bidders[y] - ref.bids[y, G_ALL]) * share + 0.5)
        for _ in range(n_foreign):
            acc += uniform(R.market) + normal(R.market) + normal(R.market)
        n_misc = int(ref.misc_draws[y] * share + 0.5)
        for _ in range(n_misc):
            acc += uniform(R.consequences)
        A.value[y, G_ALL] += acc
    return 0

"""Reference implementation of the monthly step in plain Python: the test oracle for the kernels.

`simulation/engine/kernels/` implements the month as numba kernels over struct-of-arrays pools. This
module does the same month the way a user would write it with Mesa-style agents: `Firm`,
`Country`, `Tender`, `Bid`, `Contract` and `Investment` objects in ordinary lists, ordinary
for-loops and Python floats. It is used twice:

* as the oracle: `tests/test_oracle.py` runs `simulate(resolved, seed, kernel=oracle_kernel)`
  and requires yearly tables bit-identical to the compiled kernels. For that, it makes the same
  random draws in the same order from the same generator and evaluates every floating-point
  expression with the same association as the kernels (so expressions are copied verbatim, with
  their parentheses);
* as the plain-Python speed anchor against which the compiled loop is measured.

Only the numeric parameters are read from the `Params` namedtuple; all mutable world state lives
in the objects below. `oracle_kernel` has the signature of `simulation.engine.kernels.step.run_months`,
converts the `State` it is given into objects, runs the months, writes the yearly accumulators
into the `Acc` arrays and returns 0 (its lists grow, so it never overflows). `S` is not written
back, except `won_in`, which the tidy table reads (`countries_with_win`). The last world built
is kept in `LAST_WORLD` so tests can look inside it.
"""

from __future__ import annotations

import math

import numpy as np

# indices and codes shared with the kernels (plain constants, no numba in them)
from simulation.engine.kernels.constants import (
    C_ALLIANCE,
    C_BLENDED,
    C_COENTRY,
    C_CONSORTIA,
    C_COORD,
    C_DB,
    C_EDPF,
    C_ENVOY,
    C_EXPO,
    C_FAIR,
    C_INTL,
    C_KIND,
    C_KOTRA,
    C_KSCON,
    C_KSP,
    C_KSURE,
    C_MOU,
    C_PIS,
    C_ROADSHOW,
    C_SOLE,
    C_STRATEGY,
    C_SUBSIDY,
    C_TRAINING,
    C_VISIT,
    DESIGN,
    EPC,
    G_ALL,
    G_DEMAND,
    G_DOMAIN,
    G_REGION,
    G_RISK,
    G_SIZE,
    INC_FULL,
    INC_KSP,
    INC_NONE,
    K_CONTRACTS,
    K_INVEST,
    K_PIPE,
    K_ROADSHOWS,
    K_TENDERS,
    KNOW_SHIFT,
    LARGE,
    ND,
    NO,
    NR,
    NS,
    NT,
    NTR,
    O_KSCON,
    O_KSP,
    O_MARKET,
    O_RETENDER,
    PPP,
    R_BLENDED_LEFT,
    R_EDPF_LEFT,
    R_KSURE,
    R_PIS_RESERVED,
    R_POT,
    R_POT_SHORT,
    R_SLOTS_LEFT,
    R_SUBSIDY_LEFT,
    SME,
    SN_CASH,
    SN_LOSS,
    SN_OUT,
    SN_PAID,
    SN_RET,
    ST_FOREIGN,
    ST_KOREAN,
    ST_LAPSED,
    ST_OPEN,
    ST_REJECTED,
    URBAN_DEV,
)

LAST_WORLD = None  # the world of the latest oracle_kernel call (for tests)


def capped_lift(lift, room):
    """The saturating lift of discovery channels, knowledge and contact: about lift when small, below 1 + room."""
    if room <= 0.0:
        return 1.0
    return 1.0 + room * (1.0 - math.exp(-(lift - 1.0) / room))


# ---- agents and things -------------------------------------------------------------------
class Country:
    def __init__(self, cid, P, rel):
        self.id = cid
        self.region = int(P.region[cid])
        self.risk = int(P.risk[cid])
        self.developing = int(P.developing[cid]) == 1
        self.dev = 0 if self.developing else 1  # row of the developing/developed tables
        self.weight = float(P.weight[cid])
        self.rel_base = float(P.rel_base[cid])
        self.rel_ceiling = float(P.rel_ceiling)
        self.disc_odds = float(P.disc_odds[cid])  # the gravity baseline of learning of its tenders
        self.rel_f = P.rel_f[cid].tolist()  # foreign bidders' relationship, by origin
        self.mdb_share = float(P.mdb_share[cid])
        self.kotra_from = int(P.n4_kotra_from[cid])
        self.kind_from = int(P.n4_kind_from[cid])
        self.envoy_from = int(P.t4_envoy_from[cid])
        self.n6_access = float(P.n6_access[cid])
        self.blended_ok = int(P.f3_eligible[cid]) == 1
        self.kscon_ok = int(P.n1_eligible[cid]) != 0
        self.ksp_ok = int(P.t3_eligible[cid]) != 0
        self.train_ok = int(P.n5_eligible[cid]) != 0
        self.rel = rel  # relationship with Korea, the only thing about a country that changes

    def boost(self, amount):
        """Raise the relationship by amount times the room left below base + ceiling, clipped at 1."""
        room = 1.0 - (self.rel - self.rel_base) / self.rel_ceiling
        if room < 0.0:
            room = 0.0
        elif room > 1.0:
            room = 1.0
        v = self.rel + amount * room
        if v > 1.0:
            v = 1.0
        self.rel = v


class Firm:
    def __init__(self, fid):
        self.id = fid
        self.size = 0
        self.cap = [0.0] * ND
        self.capital = 0.0
        self.capital0 = 0.0
        self.tied = 0.0  # own capital tied up as working capital of running contracts
        self.markup = 0.0
        self.alliance = False
        self.active = True
        self.open_bids = 0
        self.capacity = 0
        self.kb = 0  # bids decided
        self.kw = 0  # wins
        self.exp_region = [0.0] * NR
        self.exp_domain = [0.0] * ND
        self.know = {}  # country -> (month of last use, depth): knowledge that fades unless used
        self.won_in = set()  # countries the firm has won in
        self.contact = [0.0] * NR
        self.exported = False
        self.last_win_year = -1
        self.aware_of = None  # the tender it last learned of (SMEs and startups)
        self.bid_on = None  # the tender it last bid on or joined

    def strength(self, country, m, table):
        """How well the firm knows the country in month m (0 if never touched)."""
        if country not in self.know:
            return 0.0
        last, depth = self.know[country]
        return table[depth][m - last]

    def introduce(self, country, m):
        """Met the country's buyers (expo, roadshow): an introduction (depth 0), unless it knows more."""
        if country not in self.know or self.know[country][1] == 0:
            self.know[country] = (m, 0)

    def touch(self, country, m, uses):
        """A bid in the country: knowledge one level deeper, up to established."""
        depth = 1
        if country in self.know and self.know[country][1] > 0:
            depth = min(self.know[country][1] + 1, uses)
        self.know[country] = (m, depth)

    def establish(self, country, m, uses):
        """A win in the country: established knowledge."""
        self.know[country] = (m, uses)


class Tender:
    def __init__(self, country, domain, ttype, value, deadline, inc, mdb, origin):
        self.country = country
        self.domain = domain
        self.type = ttype
        self.value = value
        self.deadline = deadline
        self.inc = inc
        self.mdb = mdb
        self.origin = origin
        self.status = ST_OPEN
        self.bids = []
        self.nbids = 0


class PlannedTender:
    """A tender scheduled for a later month (mega-project phase, K-SCON or KSP follow-on, re-tender)."""

    def __init__(self, month, country, domain, ttype, value, inc, origin):
        self.month = month
        self.country = country
        self.domain = domain
        self.type = ttype
        self.value = value
        self.inc = inc
        self.origin = origin


class Bid:
    def __init__(self, firm, tender):
        self.firm = firm
        self.partner = None
        self.tender = tender
        self.lnprice = 0.0
        self.quality = 0.0
        self.fscore = 0.0
        self.track = 0.0
        self.rate = 0.0
        self.insured = 0  # 0 none, 1 the K-SURE special account, 2 ordinary cover
        self.pis = False
        self.blended = False
        self.edpf = False
        self.sole = False
        self.loan = 0.0


class Contract:
    def __init__(self, firm, partner, country, value, end, insured, loan, share_p, wc=0.0, wc_p=0.0):
        self.firm = firm
        self.partner = partner
        self.country = country
        self.value = value
        self.end = end
        self.insured = insured
        self.loan = loan
        self.share_p = share_p
        self.wc = wc  # the contractor's own working capital, tied up until the end
        self.wc_p = wc_p  # the partner's
        self.active = True

    def release(self):
        """The working capital the members tied up is free again (the contract ended or defaulted)."""
        self.firm.tied -= self.wc
        if self.partner is not None:
            self.partner.tied -= self.wc_p


class Investment:
    def __init__(self, amounts, exit_month, risk):
        self.amounts = amounts  # KRW bn per tranche
        self.exit = exit_month
        self.risk = risk
        self.active = True


class Tranche:
    def __init__(self, paid, cash, out, loss, ret):
        self.paid = paid
        self.cash = cash
        self.out = out
        self.loss = loss
        self.ret = ret


class Books:
    """The yearly accumulators as plain lists (loaded from and written back to `Acc`)."""

    FIELDS = (
        "bids",
        "wins",
        "value",
        "bids_submitted",
        "bid_cost",
        "bid_value",
        "subsidised_bids",
        "bids_short_of_working_capital",
        "tenders_closed",
        "tenders_contested",
        "tenders_awarded",
        "tenders_rejected",
        "bidders",
        "single_bidder",
        "value_awarded",
        "value_awarded_created",
        "value_contested",
        "sme_wins",
        "sme_value",
        "consortia",
        "partnerships",
        "consortium_wins",
        "new_entries",
        "exporters",
        "exporters_year",
        "defaults",
        "kscon_tenders",
        "ksp_tenders",
        "cost",
        "pis_commit",
        "pis_snap",
        "ksure_balance",
        "pot_balance",
        "active_firms",
        "candidates",
        "misc_draws",
    )

    def __init__(self, A):
        for name in self.FIELDS:
            setattr(self, name, getattr(A, name).tolist())

    def add_group(self, table, y, size, g, d, risk, demand, amount):
        row = table[y]
        row[G_ALL] += amount
        row[G_SIZE + size] += amount
        row[G_REGION + g] += amount
        row[G_DOMAIN + d] += amount
        row[G_RISK + risk] += amount
        row[G_DEMAND + demand] += amount

    def write(self, A):
        for name in self.FIELDS:
            getattr(A, name)[...] = np.array(getattr(self, name), dtype=np.float64)


def _plain(v):
    """A parameter as Python numbers (lists for arrays)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


class Rules:
    """The read-only numeric parameters, copied out of `Params` as Python numbers."""

    def __init__(self, P):
        for name in P._fields:
            setattr(self, name, _plain(getattr(P, name)))


# ---- helpers mirroring kernels/draws.py --------------------------------------------------
def pick_cum(cum, u):
    n = len(cum)
    for k in range(n):
        if u < cum[k]:
            return k
    return n - 1


def gumbel(u):
    if u <= 0.0:
        u = 5e-324
    return -math.log(-math.log(u))


def weighted_pick(countries, total, u):
    """A country among `countries` with probability proportional to weight (the last if rounding leaves none)."""
    target = u * total
    acc = 0.0
    last = None
    for country in countries:
        acc += country.weight
        last = country
        if acc > target:
            return country
    return last


def total_weight(countries):
    total = 0.0
    for country in countries:
        total += country.weight
    return total


def log_price(markup, fin, fin_pv, saving):
    return markup + math.log(1.0 + fin * fin_pv - saving)


def interest_pv(rate, years, disc):
    """PV at `disc` of the interest on one unit lent for `years` at `rate`, repaid in equal yearly instalments."""
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


def created(origin):
    """1 for demand the plan creates (K-SCON and KSP follow-ons)."""
    return 1 if origin in (O_KSCON, O_KSP) else 0


# ---- the world ---------------------------------------------------------------------------
class World:
    def __init__(self, P, S, A, rng):
        self.P = R = Rules(P)
        self.rng = rng
        self.books = Books(A)
        self.countries = [Country(c, P, float(S.rel[c])) for c in range(R.n_countries)]
        n = S.size.shape[0]
        self.firms = []
        for i in range(n):
            f = Firm(i)
            f.size = int(S.size[i])
            f.cap = S.cap[i].tolist()
            f.capital = float(S.capital[i])
            f.capital0 = float(S.capital0[i])
            f.tied = float(S.tied[i])
            f.markup = float(S.markup[i])
            f.alliance = int(S.alliance[i]) == 1
            f.active = int(S.active[i]) != 0
            f.open_bids = int(S.open_bids[i])
            f.capacity = int(S.capacity[i])
            f.kb = int(S.kb[i])
            f.kw = int(S.kw[i])
            f.exp_region = S.exp_region[i].tolist()
            f.exp_domain = S.exp_domain[i].tolist()
            f.know = {
                self.countries[c]: (int(S.know[c, i]) // KNOW_SHIFT, int(S.know[c, i]) % KNOW_SHIFT)
                for c in range(R.n_countries)
                if S.know[c, i] >= 0
            }
            f.won_in = {self.countries[c] for c in range(R.n_countries) if S.won_in[i, c]}
            f.contact = S.contact[:, i].tolist()
            f.exported = int(S.exported[i]) != 0
            f.last_win_year = int(S.last_win_year[i])
            self.firms.append(f)
        # who can do what: firms with any capability in a domain, alliance members, SME members
        self.in_domain = [[f for f in self.firms if f.cap[d] > 0.0] for d in range(ND)]
        self.alliance = [f for f in self.firms if f.alliance]
        self.sme_alliance = [f for f in self.alliance if f.size >= SME]

        # government programmes and the PIS fund
        self.pot = float(S.reg[R_POT])
        self.ksure = float(S.reg[R_KSURE])
        self.subsidy_left = float(S.reg[R_SUBSIDY_LEFT])
        self.blended_left = float(S.reg[R_BLENDED_LEFT])
        self.edpf_left = float(S.reg[R_EDPF_LEFT])
        self.slots_left = float(S.reg[R_SLOTS_LEFT])
        self.pot_short = float(S.reg[R_POT_SHORT])
        self.pis_reserved = float(S.reg[R_PIS_RESERVED])
        self.roadshows_held = int(S.cnt[K_ROADSHOWS])
        self.fund = [
            Tranche(
                float(S.pis_paid[t]),
                float(S.pis_cash[t]),
                float(S.pis_out[t]),
                float(S.pis_loss[t]),
                float(S.pis_ret[t]),
            )
            for t in range(NTR)
        ]

        # pools: planned tenders, open tenders (with their bids), running contracts and investments
        self.planned = [
            PlannedTender(
                int(S.p_month[j]),
                self.countries[int(S.p_country[j])],
                int(S.p_domain[j]),
                int(S.p_type[j]),
                float(S.p_value[j]),
                int(S.p_inc[j]),
                int(S.p_origin[j]),
            )
            for j in range(int(S.cnt[K_PIPE]))
        ]
        self.tenders = []  # open tenders, oldest first
        for k in range(int(S.cnt[K_TENDERS])):
            if S.t_status[k] != ST_OPEN:
                continue
            tender = Tender(
                self.countries[int(S.t_country[k])],
                int(S.t_domain[k]),
                int(S.t_type[k]),
                float(S.t_value[k]),
                int(S.t_deadline[k]),
                int(S.t_inc[k]),
                int(S.t_mdb[k]),
                int(S.t_origin[k]),
            )
            tender.nforeign = int(S.t_nforeign[k])
            tender.fbest = float(S.t_fbest[k])
            tender.reserve = float(S.t_reserve[k])
            tender.u_nest = float(S.t_u_nest[k])
            tender.u_pick = float(S.t_u_pick[k])
            tender.u_again = float(S.t_u_again[k])
            tender.u_order = float(S.t_u_order[k])
            b0 = int(S.t_bid_start[k])
            for b in range(b0, b0 + int(S.t_bid_count[k])):
                bid = Bid(self.firms[int(S.b_firm[b])], tender)
                bid.partner = self.firms[int(S.b_partner[b])] if S.b_partner[b] >= 0 else None
                bid.lnprice = float(S.b_lnprice[b])
                bid.quality = float(S.b_quality[b])
                bid.fscore = float(S.b_fscore[b])
                bid.track = float(S.b_track[b])
                bid.rate = float(S.b_rate[b])
                bid.insured = int(S.b_insured[b])
                bid.pis = S.b_pis[b] == 1
                bid.blended = S.b_blended[b] == 1
                bid.edpf = S.b_edpf[b] == 1
                bid.sole = S.b_sole[b] == 1
                bid.loan = float(S.b_loan[b])
                tender.bids.append(bid)
            self.tenders.append(tender)
        self.contracts = []
        for j in range(int(S.cnt[K_CONTRACTS])):
            if S.k_active[j]:
                self.contracts.append(
                    Contract(
                        self.firms[int(S.k_firm[j])],
                        self.firms[int(S.k_partner[j])] if S.k_partner[j] >= 0 else None,
                        self.countries[int(S.k_country[j])],
                        float(S.k_value[j]),
                        int(S.k_end[j]),
                        int(S.k_insured[j]),
                        float(S.k_loan[j]),
                        float(S.k_share_p[j]),
                        float(S.k_wc[j]),
                        float(S.k_wc_p[j]),
                    )
                )
        self.investments = []
        for j in range(int(S.cnt[K_INVEST])):
            if S.i_active[j]:
                self.investments.append(Investment(S.i_amt[j].tolist(), int(S.i_exit[j]), int(S.i_risk[j])))

        # a record of everything that happened, for tests (never read by the model)
        self.log = dict(
            tenders=0,
            bids=0,
            insured_bids=0,
            pis_bids=0,
            blended_bids=0,
            edpf_bids=0,
            sole_bids=0,
            coentry_loans=0,
            consortia=0,
            expo_meetings=0,
            fair_contacts=0,
            roadshow_contacts=0,
            follow_on_tenders=0,
            investments=0,
            pis_exits=0,
            pis_defaults=0,
            contract_defaults=0,
            ksure_claims=0,
            insured_wins=0,
            subsidy_ran_out=0,
            pot_short=0,
            pot_topups=0,
            lapsed=0,
            rejected=0,
            retenders=0,
            partnerships=0,
            foreign_wins=0,
            korean_wins=0,
            incumbent_wins=0,
            ksp_shaped_wins=0,
            planned_opened=0,
            released_blended=0,
            released_edpf=0,
            released_loans=0,
            loss_beyond_principal=0,
            working_capital_tied=0,
            contracts_ended=0,
            kscon_selections=0,
            ksp_projects=0,
            training=0,
            visits=0,
        )
        self.all_tenders = int(S.cnt[K_TENDERS])  # tenders ever published

    # ---- January -------------------------------------------------------------------------
    def year_reset(self, m):
        P = self.P
        y = P.year_of[m]
        self.subsidy_left = P.n2_budget_krw_bn[y]
        self.blended_left = P.f3_budget_usd_m[y]
        self.edpf_left = P.f8_budget_usd_m[y]
        self.slots_left = float(P.c2_slots[y])
        if m > 0 and P.f5_enabled == 1 and self.pot_short > 0.0:
            self.pot += P.f5_topup_krw_bn[y]
            self.log["pot_topups"] += 1
        self.pot_short = 0.0

    # ---- policy ----------------------------------------------------------------------------
    def policy(self, m):
        """The policy events of month m, one measure at a time, in the kernels' order (they share
        one random stream, so the order fixes which draw each measure gets)."""
        P = self.P
        y = P.year_of[m]
        moy = P.moy[m]
        reach = P.t2_reach[m]
        cost = self.books.cost[y]
        self.fade()
        self.t5_mou(m, reach, cost)
        self.t1_high_level(m, reach, cost)
        self.t4_envoys(m, reach, cost)
        self.n5_training(y, moy, reach, cost)
        self.c1_expo(m, moy, reach, cost)
        self.c4_fair(moy, reach, cost)
        self.c5_roadshows(m, y, moy, reach, cost)
        self.n1_kscon(m, y, moy, reach, cost)
        self.t3_ksp(m, y, moy, reach, cost)
        self.n4_hubs(m, cost)
        self.n3_info_db(m, cost)
        self.standing_costs(m, cost)
        self.f1_pis(m, cost)

    def fade(self):
        """Relationships drift back toward their base; contacts fade."""
        P = self.P
        for country in self.countries:
            country.rel = country.rel_base + (country.rel - country.rel_base) * P.rel_decay
        for firm in self.firms:
            contact = firm.contact
            for g in range(NR):
                contact[g] = contact[g] * P.contact_decay

    def t5_mou(self, m, reach, cost):
        """T5 MOUs on their dates: a relationship jump with the partner country."""
        P = self.P
        for e in range(len(P.t5_mou_m)):
            if P.t5_mou_m[e] == m:
                self.countries[P.t5_mou_c[e]].boost(P.t5_relationship_boost * reach)
                cost[C_MOU] += P.t5_cost_krw_bn_per_mou

    def t1_high_level(self, m, reach, cost):
        """T1 high-level visits on their dates: a relationship jump with the country visited."""
        P = self.P
        for e in range(len(P.t1_visit_m)):
            if P.t1_visit_m[e] == m:
                self.countries[P.t1_visit_c[e]].boost(P.t1_relationship_boost * reach)
                cost[C_VISIT] += P.t1_cost_krw_bn_per_visit
                self.log["visits"] += 1

    def t4_envoys(self, m, reach, cost):
        """T4 envoys: a monthly relationship gain in every country with an envoy."""
        P = self.P
        for country in self.countries:
            if country.envoy_from <= m:
                country.boost(P.t4_relationship_boost_per_month * reach)
                cost[C_ENVOY] += P.t4_cost_krw_bn_per_month

    def n5_training(self, y, moy, reach, cost):
        """N5 invitation training: each cohort from a target country drawn by market weight."""
        P, rng = self.P, self.rng.policy
        if moy == P.n5_moy and P.n5_cohorts[y] > 0:
            eligible = [c for c in self.countries if c.train_ok]
            total = total_weight(eligible)
            if total > 0.0:
                for _ in range(P.n5_cohorts[y]):
                    country = weighted_pick(eligible, total, rng.random())
                    country.boost(P.n5_relationship_boost * reach)
                    cost[C_TRAINING] += P.n5_cost_krw_bn_per_cohort
                    self.log["training"] += 1

    def c1_expo(self, m, moy, reach, cost):
        """C1 World Smart City Expo: visiting buyer countries; exhibitors may meet their buyers."""
        P, rng = self.P, self.rng.policy
        if P.c1_enabled == 1 and m >= P.c1_start_m and moy == P.c1_moy:
            cost[C_EXPO] += P.c1_cost_krw_bn
            nb = P.c1_buyer_countries
            if nb > 0:
                total = total_weight(self.countries)
                visitors = []
                for _ in range(nb):
                    u = rng.random()
                    target = u * total
                    acc = 0.0
                    pick = self.countries[-1]
                    for country in self.countries:
                        acc += country.weight
                        if acc > target:
                            pick = country
                            break
                    visitors.append(pick)
                    pick.boost(P.c1_relationship_boost * reach)
                for firm in self.alliance:
                    if rng.random() < P.c1_firm_attendance:
                        for buyer in visitors:
                            if rng.random() < P.c1_meet_prob * reach:
                                firm.introduce(buyer, m)
                                self.log["expo_meetings"] += 1

    def c4_fair(self, moy, reach, cost):
        """C4 Smart City Fair: the region's countries gain relationship, exhibitors contact."""
        P, rng = self.P, self.rng.policy
        if P.c4_enabled == 1 and moy == P.c4_moy:
            cost[C_FAIR] += P.c4_cost_krw_bn
            for country in self.countries:
                if country.region == P.c4_region:
                    country.boost(P.c4_relationship_boost * reach)
            na = len(self.alliance)
            if na > 0:
                for _ in range(P.c4_firms):
                    a = int(rng.random() * na)
                    if a >= na:
                        a = na - 1
                    self.alliance[a].contact[P.c4_region] += P.c4_contact_boost * reach
                    self.log["fair_contacts"] += 1

    def c5_roadshows(self, m, y, moy, reach, cost):
        """C5 roadshows, rotating through the target regions: a host country, SMEs on board."""
        P, rng = self.P, self.rng.policy
        n_rs = P.c5_roadshows[y]
        nreg = len(P.c5_regions)
        if n_rs > 0 and nreg > 0:
            for k in range(n_rs):
                if ((2 * k + 1) * 12) // (2 * n_rs) != moy:
                    continue
                g = P.c5_regions[self.roadshows_held % nreg]
                self.roadshows_held += 1
                cost[C_ROADSHOW] += P.c5_cost_krw_bn_each
                host = None
                in_region = [c for c in self.countries if c.region == g]
                total = total_weight(in_region)
                if total > 0.0:
                    host = weighted_pick(in_region, total, rng.random())
                    host.boost(P.c5_relationship_boost * reach)
                pool = self.sme_alliance if self.sme_alliance else self.alliance
                npool = len(pool)
                if npool > 0:
                    for _ in range(P.c5_firms_per_roadshow):
                        a = int(rng.random() * npool)
                        if a >= npool:
                            a = npool - 1
                        firm = pool[a]
                        firm.contact[g] += P.c5_contact_boost * reach
                        self.log["roadshow_contacts"] += 1
                        if host is not None:
                            firm.introduce(host, m)

    def planning_round(self, m, n, eligible, amount, cost, col, cost_each, follow, lag_min, lag_max, inc, origin):
        """n projects in eligible countries drawn by market weight: each a relationship boost and its
        cost, and with probability `follow` a later tender in the country (N1 and T3 alike).
        Returns the follow-on tenders published."""
        rng = self.rng.policy
        total = total_weight(eligible)
        published = 0
        if total > 0.0:
            for _ in range(n):
                country = weighted_pick(eligible, total, rng.random())
                country.boost(amount)
                cost[col] += cost_each
                if rng.random() < follow:
                    published += self.follow_on(m, country, lag_min, lag_max, inc, origin)
        return published

    def n1_kscon(self, m, y, moy, reach, cost):
        """N1 K-SCON master plans, which may lead to a main tender with Korean incumbency."""
        P = self.P
        if P.n1_enabled == 1 and moy == P.n1_call_moy and P.n1_selections[y] > 0:
            eligible = [c for c in self.countries if c.kscon_ok]
            self.books.kscon_tenders[y] += self.planning_round(
                m, P.n1_selections[y], eligible, P.n1_relationship_boost * reach, cost, C_KSCON,
                P.n1_cost_krw_bn_per_selection, P.n1_follow_on_prob, P.n1_lag_months_min, P.n1_lag_months_max,
                INC_FULL, O_KSCON,
            )  # fmt: skip
            self.log["kscon_selections"] += P.n1_selections[y] if total_weight(eligible) > 0.0 else 0

    def t3_ksp(self, m, y, moy, reach, cost):
        """T3 KSP projects, which may shape a later tender (KSP incumbency)."""
        P = self.P
        if moy == P.t3_moy and P.t3_projects[y] > 0:
            eligible = [c for c in self.countries if c.ksp_ok]
            self.books.ksp_tenders[y] += self.planning_round(
                m, P.t3_projects[y], eligible, P.t3_relationship_boost * reach, cost, C_KSP,
                P.t3_cost_krw_bn_per_project, P.t3_follow_on_prob, P.t3_lag_months_min, P.t3_lag_months_max,
                INC_KSP, O_KSP,
            )  # fmt: skip
            self.log["ksp_projects"] += P.t3_projects[y] if total_weight(eligible) > 0.0 else 0

    def n4_hubs(self, m, cost):
        """N4 KOTRA and KIND centres: their running cost (their effect is in discovery)."""
        P = self.P
        for country in self.countries:
            if country.kotra_from <= m:
                cost[C_KOTRA] += P.n4_kotra_cost_krw_bn_per_month
            if country.kind_from <= m:
                cost[C_KIND] += P.n4_kind_cost_krw_bn_per_month

    def n3_info_db(self, m, cost):
        """N3 information DB: its running cost while live."""
        if self.P.n3_db_on[m] > 0.0:
            cost[C_DB] += self.P.n3_cost_krw_bn_per_month

    def standing_costs(self, m, cost):
        """The running costs of T2, C3, C6 and N6, whose effects act elsewhere."""
        P = self.P
        cost[C_COORD] += P.t2_cost_krw_bn_per_month[m]
        cost[C_ALLIANCE] += P.c3_cost_krw_bn_per_month
        cost[C_STRATEGY] += P.c6_cost_krw_bn_per_month
        cost[C_INTL] += P.n6_cost_krw_bn_per_month

    def f1_pis(self, m, cost):
        """The cost of the public money in the F1 PIS fund while it lives."""
        P = self.P
        if P.f1_enabled == 1 and m >= P.f1_start_m and m < P.f4_fund_end_m:
            cost[C_PIS] += P.f1_public_funding_rate_m * (self.fund[0].paid + self.fund[1].paid)

    def follow_on(self, m, country, lag_min, lag_max, inc, origin):
        """Schedule the main tender a planning project leads to; 1 if it falls inside the horizon."""
        P, rng = self.P, self.rng.policy
        lag = lag_min + int(rng.random() * (lag_max - lag_min + 1))
        if lag > lag_max:
            lag = lag_max
        d = pick_cum(P.domain_cum, rng.random())
        cum = P.type_cum[country.dev]
        u = rng.random()
        lo = cum[0]
        target = lo + u * (cum[NT - 1] - lo)
        t = NT - 1  # never a master plan
        for k in range(1, NT):
            if target < cum[k]:
                t = k
                break
        z = rng.normal()
        value = math.exp(P.value_mu[t] + P.value_sigma * z)
        month = m + lag
        if month >= P.n_months:
            return 0
        self.planned.append(PlannedTender(month, country, d, t, value, inc, origin))
        self.log["follow_on_tenders"] += 1
        return 1

    # ---- market ----------------------------------------------------------------------------
    def market(self, m):
        P, rng = self.P, self.rng.market
        new = []
        for country in self.countries:
            dev = country.dev
            lam = P.tender_scale[m] * country.weight / P.mean_value[dev]
            n = rng.poisson(lam)
            for _ in range(n):
                t = pick_cum(P.type_cum[dev], rng.random())
                d = pick_cum(P.domain_cum, rng.random())
                z = rng.normal()
                value = math.exp(P.value_mu[t] + P.value_sigma * z)
                mdb = 1 if rng.random() < country.mdb_share else 0
                tender = Tender(country, d, t, value, m + P.open_m[t], INC_NONE, mdb, O_MARKET)
                self.foreign_field(tender, rng)
                new.append(tender)
        for plan in self.planned:
            if plan.month == m:
                tender = Tender(
                    plan.country, plan.domain, plan.type, plan.value, m + P.open_m[plan.type], plan.inc, 0, plan.origin
                )
                self.foreign_field(tender, self.rng.foreign)
                new.append(tender)
                self.log["planned_opened"] += 1
        self.tenders.extend(new)
        self.all_tenders += len(new)
        self.log["tenders"] += len(new)
        return new

    # ---- bidding ---------------------------------------------------------------------------
    def channel_odds(self, m, country, is_ppp):
        P = self.P
        reach = P.t2_reach[m]
        centre = 1.0 if country.kotra_from <= m else 0.0
        kind = 1.0 if (country.kind_from <= m and is_ppp) else 0.0
        return (
            (1.0 + P.n4_kotra_discovery_odds_gain * reach * centre)
            * (1.0 + P.n3_discovery_odds_gain * reach * P.n3_db_on[m])
        ) * (1.0 + P.n4_kind_ppp_discovery_odds_gain * reach * kind)

    def aware_prob(self, m, firm, country, g, odds_size, ch, ch_lift, access):
        """Odds of learning of the tender: the tender's odds for the firm's size, times the capped
        lift of the channels (ch), the firm's knowledge and its contact."""
        P = self.P
        pc = firm.contact[g]
        if pc > 1.0:
            pc = 1.0
        know = firm.strength(country, m, P.k_table)
        if know > 0.0 or pc > 0.0:
            lift = capped_lift((ch * (1.0 + P.known_gain * know)) * (1.0 + P.contact_gain * pc), P.lift_room)
        else:
            lift = ch_lift
        odds = odds_size * lift
        return (odds / (1.0 + odds)) * access

    def risk_cost(self, risk, t):
        """(cost per unit of value a winner expects from a buyer's default, cover: 0 none, 1 special account, 2 ordinary)."""
        P = self.P
        el = P.el[risk][t]
        own = P.risk_aversion * el
        cover = P.f7_cover_share
        kept = own * (1.0 - cover)
        # prices carry the share risk_priced of what every bidder bears without the special account
        if risk <= P.max_uninsured:  # ordinary cover at a fair premium (2)
            covered = kept + cover * el
            market = covered if covered < own else own
            return market - P.risk_priced * market, (2 if covered < own else 0)
        market = own - P.risk_priced * own
        if P.f7_enabled == 1 and self.ksure > 0.0:  # the special account (1)
            covered = kept + P.f7_premium_to_expected_loss * cover * el
            if covered < own:
                return covered - P.risk_priced * own, 1
        return market, 0

    def pis_open(self, m):
        P = self.P
        return P.f1_enabled == 1 and m >= P.f1_start_m and m < P.f4_invest_end_m and m < P.f4_fund_end_m

    def pis_amount(self, V):
        P = self.P
        amount = P.f1_equity_share * V * P.krw / 1000.0
        if amount > P.f1_max_equity_krw_bn:
            amount = P.f1_max_equity_krw_bn
        return amount

    def fund_cash(self):
        total = 0.0
        for tranche in self.fund:
            total += tranche.cash
        return total

    def bid_terms(self, m, country, t, V, bid):
        """Rate, finance score and support flags of a sole Korean bid: EDPF or a blended package, not both."""
        P = self.P
        fin = P.fin_share[t]
        rate = P.base_rate + P.premium[country.risk]
        fscore = 0.0
        need = fin * V
        if P.f8_enabled == 1 and t == PPP and fin > 0.0 and self.edpf_left >= need:
            bid.edpf = True
            rate -= P.f8_rate_cut
            fscore += P.sc_edpf
        elif country.blended_ok and fin > 0.0 and self.blended_left >= need:
            bid.blended = True
            rate -= P.f3_rate_cut
            fscore += P.sc_blended
        if t == PPP and self.pis_open(m):
            amount = self.pis_amount(V)
            if amount > 0.0 and self.fund_cash() - self.pis_reserved >= amount:
                bid.pis = True
                fscore += P.sc_pis
        if rate < 0.0:
            rate = 0.0
        bid.rate = rate
        bid.fscore = fscore

    def bidding(self, m, new_tenders):
        P, books = self.P, self.books
        y = P.year_of[m]
        reach = P.t2_reach[m]
        for tender in new_tenders:
            rng = self.rng.discovery if tender.origin == O_MARKET else self.rng.foreign
            country = tender.country
            d = tender.domain
            t = tender.type
            V = tender.value
            g = country.region
            dev = country.dev
            risk = country.risk
            ch = self.channel_odds(m, country, t == PPP)
            ch_lift = capped_lift(ch, P.lift_room)
            odds_by_size = [country.disc_odds * P.size_odds[s] for s in range(NS)]
            access = country.n6_access if tender.mdb == 1 else 1.0
            centre = 1.0 if country.kotra_from <= m else 0.0
            cost_share = P.bid_cost[t] * (1.0 - P.n4_kotra_bid_cost_cut * reach * centre)
            in_scope = P.n2_wide_scope[m] > 0.0 or d == URBAN_DEV or d == DESIGN
            fin = P.fin_share[t]
            n_years = P.fin_n[t]
            disc = P.base_rate + P.premium[risk]
            rc, insured = self.risk_cost(risk, t)
            # first every active firm of the domain learns of the tender or not, then the aware decide
            aware = []
            for firm in self.in_domain[d]:
                if not firm.active:
                    continue
                books.candidates[y] += 1
                p = self.aware_prob(m, firm, country, g, odds_by_size[firm.size], ch, ch_lift, access)
                if rng.random() < p:
                    aware.append(firm)
            # in random order: the aware list rotated to start at a random firm
            r0 = int(tender.u_order * len(aware))
            if r0 >= len(aware):
                r0 = len(aware) - 1 if aware else 0
            for firm in aware[r0:] + aware[:r0]:
                if firm.open_bids >= firm.capacity:
                    continue
                if firm.size >= SME:
                    firm.aware_of = tender
                # free capital (not tied up in running contracts) for the bond and for the working
                # capital the firm would finance itself (an SME: what its banks will not lend)
                need = P.bond_share * V + (P.wc_share * V * P.sme_wc_own if firm.size >= SME else 0.0)
                free = firm.capital - firm.tied
                belief = (P.prior_w + firm.kw) / (P.prior_w + P.prior_l + firm.kb)
                pwin = (belief * (2.0 * firm.cap[d]) * (0.5 + country.rel)) / (1.0 + P.crowding * len(tender.bids))
                if pwin > 1.0:
                    pwin = 1.0
                cost = cost_share * V * (1.0 + P.entry_cost * (1.0 - firm.strength(country, m, P.k_table)))
                sub = 0.0
                sub_krw = 0.0
                ratio = P.n2_subsidy_ratio[m][firm.size]
                if in_scope and ratio > 0.0:
                    sub = ratio * cost
                    if sub > P.n2_cap_usd_m:
                        sub = P.n2_cap_usd_m
                    sub_krw = sub * P.krw / 1000.0
                    left = self.subsidy_left
                    if sub_krw > left:
                        sub_krw = left if left > 0.0 else 0.0
                        sub = sub_krw * 1000.0 / P.krw
                        self.log["subsidy_ran_out"] += 1
                net = cost - sub
                sole = P.f6_enabled == 1 and firm.size >= SME
                gain = (P.margin - rc) * V
                if free < need:
                    # a bid forgone only for the working capital the firm would finance itself
                    if pwin * gain > net and free >= net and free >= P.bond_share * V:
                        books.bids_short_of_working_capital[y] += 1
                    continue
                if pwin * gain <= net:
                    continue
                if free < net:
                    continue
                if sub > 0.0:
                    self.subsidy_left -= sub_krw
                    books.cost[y][C_SUBSIDY] += sub_krw
                    books.subsidised_bids[y] += 1
                firm.capital -= net
                firm.open_bids += 1
                firm.touch(country, m, P.k_uses)
                firm.bid_on = tender
                bid = Bid(firm, tender)
                self.bid_terms(m, country, t, V, bid)
                if insured == 1:
                    bid.fscore += P.sc_ksure
                bid.sole = sole
                if bid.blended:
                    self.blended_left -= fin * V
                if bid.edpf:
                    self.edpf_left -= fin * V
                if bid.pis:
                    self.pis_reserved += self.pis_amount(V)
                z = self.rng.decision.normal()
                bid.lnprice = log_price(
                    firm.markup, fin, interest_pv(bid.rate, n_years, disc), P.f6_sole_save[t] if sole else 0.0
                )
                bid.quality = firm.cap[d] + P.c6_fit[dev] + P.q_noise * z
                bid.track = math.log(1.0 + firm.exp_region[g] + firm.exp_domain[d])
                bid.insured = insured
                tender.bids.append(bid)
                books.bids_submitted[y] += 1
                books.bid_cost[y] += cost
                books.bid_value[y] += V
                log = self.log
                log["bids"] += 1
                log["insured_bids"] += bid.insured == 1
                log["pis_bids"] += bid.pis
                log["blended_bids"] += bid.blended
                log["edpf_bids"] += bid.edpf
                log["sole_bids"] += bid.sole
            self.take_partners(m, tender)

    def take_partners(self, m, tender):
        """A large bidder on a big EPC/PPP tender takes the best-fitting SME: brokered by KOTRA while
        the year's slots last (with the catalogue, among all alliance SMEs), else on its own with
        chance partner_prob (among the SMEs aware of the tender)."""
        P, books = self.P, self.books
        t = tender.type
        V = tender.value
        if (t != EPC and t != PPP) or V < P.c2_min_value_usd_m or not (self.slots_left >= 1.0 or P.partner_prob > 0.0):
            return
        y = P.year_of[m]
        d = tender.domain
        dev = tender.country.dev
        fin = P.fin_share[t]
        n_years = P.fin_n[t]
        disc = P.base_rate + P.premium[tender.country.risk]
        loan = P.wc_share * P.c2_sme_share * V * P.krw / 1000.0  # the partner's working capital (F5)
        cut = P.f5_rate_cut[m]
        for bid in tender.bids:
            firm = bid.firm
            if firm.size != LARGE or bid.partner is not None:
                continue
            brokered = self.slots_left >= 1.0
            if not brokered and self.rng.decision.random() >= P.partner_prob:
                continue
            lent = P.f5_enabled == 1 and loan > 0.0 and cut > 0.0 and self.pot >= loan
            # the partner's share of the bond, and of the working capital its banks will not lend
            # unless F5 lends it all of that working capital
            need = P.bond_share * P.c2_sme_share * V
            if not lent:
                need += P.wc_share * P.partner_wc_own * P.c2_sme_share * V
            best = None
            best_cap = -1.0
            for sme in self.in_domain[d]:
                if sme.size < SME or not sme.active or sme.open_bids >= sme.capacity or sme.bid_on is tender:
                    continue
                if sme.capital - sme.tied < need:
                    continue
                if not (sme.aware_of is tender or (brokered and P.c3_catalogue == 1 and sme.alliance)):
                    continue
                if sme.cap[d] > best_cap:
                    best = sme
                    best_cap = sme.cap[d]
            if best is None:
                continue
            bid.partner = best
            best.open_bids += 1
            best.bid_on = tender
            books.partnerships[y] += 1
            self.log["partnerships"] += 1
            if brokered:
                self.slots_left -= 1.0
                books.consortia[y] += 1
                books.cost[y][C_CONSORTIA] += P.c2_cost_krw_bn_per_consortium
                self.log["consortia"] += 1
            q = bid.quality
            q2 = best.cap[d] + P.c6_fit[dev]
            if q2 > q:
                q = q2
            bid.quality = q + P.c2_synergy
            if P.f5_enabled == 1:
                if loan > 0.0 and cut > 0.0:
                    if self.pot >= loan:
                        self.pot -= loan
                        bid.loan = loan
                        save = P.wc_share * P.c2_sme_share * P.f5_save[m][t]
                        bid.lnprice = log_price(firm.markup, fin, interest_pv(bid.rate, n_years, disc), save)
                        self.log["coentry_loans"] += 1
                    else:
                        self.pot_short = 1.0
                        self.log["pot_short"] += 1

    def foreign_field(self, tender, rng):
        """The foreign bids of a tender, drawn at publication, nested by origin, and the buyer's outside option."""
        P = self.P
        country = tender.country
        t = tender.type
        g = country.region
        risk = country.risk
        w0, w1, w2, w3, w4, w5 = P.wts[country.dev]
        lam_nest = P.nest
        z = rng.normal()
        lam = (
            P.foreign_mean
            * P.strength
            * math.exp(
                P.bids_elast * math.log(tender.value / P.ref_value)
                + P.bids_risk * (risk - 3)
                + P.foreign_disp * z
                - 0.5 * P.foreign_disp * P.foreign_disp
            )
        )
        nf = rng.poisson(lam)
        acc = [0.0] * NO  # sum of exp(v / lam) of each origin's bids
        for _ in range(nf):
            o = pick_cum(P.origin_cum[g], rng.random())
            zq = rng.normal()
            q = P.o_q[o] + P.quality_shift + P.o_qsd[o] * zq
            zm = rng.normal()
            lp = P.o_mk[o] + P.o_mksd[o] * zm + P.o_lnfin[o][t][risk]
            v = w0 * q - w1 * lp + w2 * P.o_fs[o] + w3 * country.rel_f[o] + w4 * P.o_lnexp[o]
            acc[o] += math.exp(v / lam_nest)
        best = -math.inf
        for o in range(NO):
            u = rng.random()
            if acc[o] > 0.0:
                U = lam_nest * math.log(acc[o]) + gumbel(u)
                if U > best:
                    best = U
        tender.nforeign = nf
        tender.fbest = best
        tender.reserve = P.reserve + gumbel(rng.random())
        tender.u_nest = rng.random()  # the award's three uniforms, drawn at publication
        tender.u_pick = rng.random()
        tender.u_again = rng.random()
        tender.u_order = rng.random()

    # ---- award -----------------------------------------------------------------------------
    def utility(self, bid, country, inc):
        P = self.P
        w0, w1, w2, w3, w4, w5 = P.wts[country.dev]
        return w0 * bid.quality - w1 * bid.lnprice + w2 * bid.fscore + w3 * country.rel + w4 * bid.track + w5 * inc

    def award(self, m):
        P, books = self.P, self.books
        y = P.year_of[m]
        lam_nest = P.nest
        still_open = []
        for tender in self.tenders:  # the open tenders, oldest first
            if tender.deadline != m:
                still_open.append(tender)
                continue
            country = tender.country
            t = tender.type
            d = tender.domain
            V = tender.value
            g = country.region
            risk = country.risk
            demand = created(tender.origin)
            fin = P.fin_share[t]
            inc = 0.0
            if tender.inc == INC_FULL:
                inc = 1.0
            elif tender.inc == INC_KSP:
                inc = P.ksp_inc
            nf = tender.nforeign
            nk = len(tender.bids)
            u_nest = tender.u_nest
            u_pick = tender.u_pick
            u_again = tender.u_again
            total_exp = 0.0
            for bid in tender.bids:
                total_exp += math.exp(self.utility(bid, country, inc) / lam_nest)
            winner = None  # None: no bid; "reject"; "foreign"; or the winning Korean Bid
            if nf + nk > 0:
                winner = "reject"
                best = tender.reserve
                if nf > 0 and tender.fbest > best:
                    best = tender.fbest
                    winner = "foreign"
                if nk > 0 and lam_nest * math.log(total_exp) + gumbel(u_nest) > best:
                    target = u_pick * total_exp
                    acc = 0.0
                    winner = tender.bids[-1]
                    for bid in tender.bids:
                        acc += math.exp(self.utility(bid, country, inc) / lam_nest)
                        if acc > target:
                            winner = bid
                            break
            total = nf + nk
            tender.nbids = total
            books.tenders_closed[y] += 1
            books.bidders[y] += total
            if total == 1:
                books.single_bidder[y] += 1
            if nk > 0:
                books.tenders_contested[y] += 1
                books.value_contested[y] += V
            if total == 0:
                tender.status = ST_LAPSED
                self.log["lapsed"] += 1
                continue
            bid_year = P.year_of[m - P.open_m[t]] if m - P.open_m[t] >= 0 else 0
            for bid in tender.bids:
                firm = bid.firm
                firm.open_bids -= 1
                firm.kb += 1
                books.add_group(books.bids, y, firm.size, g, d, risk, demand, 1.0)
                if bid.partner is not None:
                    bid.partner.open_bids -= 1
                if bid.pis:
                    self.pis_reserved -= self.pis_amount(V)
                if bid is not winner:  # release the finance reserved by losing bids
                    if bid.blended and bid_year == y:
                        self.blended_left += fin * V
                        self.log["released_blended"] += 1
                    if bid.edpf and bid_year == y:
                        self.edpf_left += fin * V
                        self.log["released_edpf"] += 1
                    if bid.loan > 0.0:
                        self.pot += bid.loan
                        self.log["released_loans"] += 1
            if winner == "reject":
                tender.status = ST_REJECTED
                books.tenders_rejected[y] += 1
                self.log["rejected"] += 1
                if u_again < P.retender_p and m + P.retender_lag < P.n_months:
                    origin = O_RETENDER if tender.origin == O_MARKET else tender.origin
                    self.planned.append(PlannedTender(m + P.retender_lag, country, d, t, V, tender.inc, origin))
                    self.log["retenders"] += 1
                continue
            books.tenders_awarded[y] += 1
            books.value_awarded[y] += V
            if demand == 1:
                books.value_awarded_created[y] += V
            if winner == "foreign":
                tender.status = ST_FOREIGN
                self.log["foreign_wins"] += 1
                continue
            tender.status = ST_KOREAN
            self.log["korean_wins"] += 1
            if tender.inc == INC_FULL:
                self.log["incumbent_wins"] += 1
            elif tender.inc == INC_KSP:
                self.log["ksp_shaped_wins"] += 1
            self.win_korean(m, tender, winner, demand)
        self.tenders = still_open

    def credit(self, firm, country, g, d, y, m, V, share):
        """Experience, capital, established knowledge and first entries for one member of a winning bid."""
        P = self.P
        firm.exp_region[g] += 1.0
        firm.exp_domain[d] += 1.0
        firm.capital += P.margin * V * share
        if country not in firm.won_in:
            firm.won_in.add(country)
            self.books.new_entries[y] += 1
        firm.exported = True
        firm.last_win_year = y
        firm.establish(country, m, P.k_uses)

    def win_korean(self, m, tender, bid, demand):
        P, books = self.P, self.books
        y = P.year_of[m]
        country = tender.country
        t = tender.type
        d = tender.domain
        V = tender.value
        g = country.region
        risk = country.risk
        fin = P.fin_share[t]
        n_years = P.fin_n[t]
        firm = bid.firm
        partner = bid.partner
        share_p = P.c2_sme_share if partner is not None else 0.0
        share_i = 1.0 - share_p
        firm.kw += 1
        self.credit(firm, country, g, d, y, m, V, share_i)
        books.add_group(books.wins, y, firm.size, g, d, risk, demand, 1.0)
        value = books.value[y]
        value[G_ALL] += V
        value[G_SIZE + firm.size] += V * share_i
        value[G_REGION + g] += V
        value[G_DOMAIN + d] += V
        value[G_RISK + risk] += V
        value[G_DEMAND + demand] += V
        sme_value = V * share_i if firm.size >= SME else 0.0
        if partner is not None:
            self.credit(partner, country, g, d, y, m, V, share_p)
            value[G_SIZE + partner.size] += V * share_p
            books.consortium_wins[y] += 1
            if partner.size >= SME:
                sme_value += V * share_p
        if firm.size >= SME or partner is not None:
            books.sme_wins[y] += 1
        books.sme_value[y] += sme_value
        country.boost(P.win_boost)
        # public cost of the finance on the won contract: the PV of the interest the lender forgoes
        krw = P.krw / 1000.0
        cost = books.cost[y]
        disc = P.base_rate + P.premium[risk]
        market_pv = interest_pv(disc, n_years, disc)
        if bid.blended:
            cost[C_BLENDED] += fin * V * (market_pv - interest_pv(disc - P.f3_rate_cut, n_years, disc)) * krw
        if bid.edpf:
            cost[C_EDPF] += fin * V * (market_pv - interest_pv(disc - P.f8_rate_cut, n_years, disc)) * krw
        if bid.loan > 0.0:
            bid_m = m - P.open_m[t]
            if bid_m < 0:
                bid_m = 0
            cost[C_COENTRY] += bid.loan * P.f5_save[bid_m][t]
        if bid.sole:
            cost[C_SOLE] += P.f6_sole_save[t] * V * krw
        if bid.insured == 1:
            premium = P.f7_premium_to_expected_loss * P.f7_cover_share * P.el[risk][t] * V * krw
            self.ksure += premium
            cost[C_KSURE] -= premium
        elif bid.insured == 2:
            firm.capital -= P.f7_cover_share * P.el[risk][t] * V
        if bid.pis and t == PPP:
            self.pis_invest(m, V, risk, y)
        if bid.insured == 1:
            self.log["insured_wins"] += 1
        # working capital the members finance themselves, tied up until the contract ends
        wc_i = P.wc_share * V * P.sme_wc_own if firm.size >= SME else 0.0
        wc_p = P.wc_share * V * share_p * P.partner_wc_own if (partner is not None and bid.loan == 0.0) else 0.0
        firm.tied += wc_i
        if partner is not None:
            partner.tied += wc_p
        if wc_i > 0.0 or wc_p > 0.0:
            self.log["working_capital_tied"] += 1
        self.contracts.append(
            Contract(firm, partner, country, V, m + P.contract_m[t], bid.insured, bid.loan, share_p, wc_i, wc_p)
        )

    # ---- the PIS fund ----------------------------------------------------------------------
    def pis_invest(self, m, V, risk, y):
        P = self.P
        amount = self.pis_amount(V)
        cash = self.fund_cash()
        if amount <= 0.0 or cash < amount:
            return
        # only tranches holding cash contribute (a junior tranche may owe the fund after covering losses)
        positive = 0.0
        for tranche in self.fund:
            if tranche.cash > 0.0:
                positive += tranche.cash
        amounts = []
        for tranche in self.fund:
            x = 0.0
            if tranche.cash > 0.0:
                x = amount * (tranche.cash / positive)
            amounts.append(x)
            tranche.cash -= x
            tranche.out += x
        exit_m = m + P.f1_holding_m
        if exit_m > P.f4_fund_end_m:
            exit_m = P.f4_fund_end_m
        self.investments.append(Investment(amounts, exit_m, risk))
        self.books.pis_commit[y] += amount
        self.log["investments"] += 1

    def pis_exit(self, inv, y):
        P = self.P
        for t, tranche in enumerate(self.fund):
            x = inv.amounts[t]
            tranche.cash += x * P.f1_return_multiple
            tranche.out -= x
            tranche.ret += x * (P.f1_return_multiple - 1.0)
        self.books.cost[y][C_PIS] -= (inv.amounts[0] + inv.amounts[1]) * (P.f1_return_multiple - 1.0)
        inv.active = False
        self.log["pis_exits"] += 1

    def pis_default(self, inv, y):
        """A funded project fails: the loss hits the tranches in the configured order (F2).

        Subordinated: the junior tranche pays the seniors' share in cash (its cash may go negative).
        """
        P = self.P
        fund = self.fund
        amt = inv.amounts
        total = 0.0
        for t in range(NTR):
            total += amt[t]
        loss = P.f1_loss_given_default * total
        take = [0.0, 0.0, 0.0]
        if P.f2_loss_order == 1:  # pari passu
            for t in range(NTR):
                take[t] = P.f1_loss_given_default * amt[t]
        else:  # subordinated: government, then public, then private, each up to its paid-in principal
            remaining = loss
            for t in range(NTR):
                room = fund[t].paid - fund[t].loss
                if room < 0.0:
                    room = 0.0
                x = remaining if remaining < room else room
                take[t] = x
                remaining -= x
            if remaining > 0.0:  # a loss beyond all principal falls on the last tranche
                take[NTR - 1] += remaining
                self.log["loss_beyond_principal"] += 1
        for t in range(NTR):
            fund[t].cash += amt[t] - take[t]
            fund[t].out -= amt[t]
            fund[t].loss += take[t]
        self.books.cost[y][C_PIS] += take[0] + take[1]
        inv.active = False
        self.log["pis_defaults"] += 1

    # ---- consequences ----------------------------------------------------------------------
    def consequences(self, m):
        P, rng, books = self.P, self.rng.consequences, self.books
        y = P.year_of[m]
        krw = P.krw / 1000.0
        for contract in self.contracts:
            if m >= contract.end:
                contract.active = False
                self.pot += contract.loan
                contract.release()
                self.log["contracts_ended"] += 1
                continue
            books.misc_draws[y] += 1
            if rng.random() < P.contract_pd_m[contract.country.risk]:
                contract.active = False
                self.pot += contract.loan
                contract.release()
                books.defaults[y] += 1
                self.log["contract_defaults"] += 1
                loss = P.default_loss * contract.value
                covered = 0.0
                if contract.insured == 1:
                    covered = P.f7_cover_share * loss
                    claim = covered * krw
                    self.ksure -= claim
                    books.cost[y][C_KSURE] += claim
                    self.log["ksure_claims"] += 1
                elif contract.insured == 2:
                    covered = P.f7_cover_share * loss
                net = loss - covered
                share_p = contract.share_p
                contract.firm.capital -= net * (1.0 - share_p)
                if contract.partner is not None:
                    contract.partner.capital -= net * share_p
        self.contracts = [k for k in self.contracts if k.active]
        for inv in self.investments:
            if m >= inv.exit:
                self.pis_exit(inv, y)
                continue
            books.misc_draws[y] += 1
            if rng.random() < P.f1_project_default_pd_m[inv.risk]:
                self.pis_default(inv, y)
        self.investments = [j for j in self.investments if j.active]
        for firm in self.firms:
            firm.capital += P.dom_income * firm.capital0
            firm.active = firm.capital > 0.0
        if P.moy[m] == 11 or m == P.n_months - 1:
            self.year_end(y)

    def year_end(self, y):
        books = self.books
        books.exporters[y] = sum(1 for f in self.firms if f.exported)
        books.exporters_year[y] = sum(1 for f in self.firms if f.last_win_year == y)
        books.active_firms[y] = sum(1 for f in self.firms if f.active)
        for t, tranche in enumerate(self.fund):
            snap = books.pis_snap[y][t]
            snap[SN_PAID] = tranche.paid
            snap[SN_CASH] = tranche.cash
            snap[SN_OUT] = tranche.out
            snap[SN_LOSS] = tranche.loss
            snap[SN_RET] = tranche.ret
        books.ksure_balance[y] = self.ksure
        books.pot_balance[y] = self.pot

    # ---- the month -------------------------------------------------------------------------
    def step(self, m):
        if m == 0 or self.P.moy[m] == 0:
            self.year_reset(m)
        self.policy(m)
        new = self.market(m)
        self.bidding(m, new)
        self.award(m)
        self.consequences(m)


def oracle_kernel(m0, m1, P, S, A, rng):
    """Months m0..m1-1 in plain Python; same signature and results as `run_months`. Returns 0."""
    global LAST_WORLD
    world = World(P, S, A, rng)
    for m in range(m0, m1):
        world.step(m)
    world.books.write(A)
    write_won_in(world, S)
    LAST_WORLD = world
    return 0


def write_won_in(world, S):
    """Each firm's countries with a win into `S.won_in`: `metrics.tidy` counts the countries with a
    win from the final state, which the oracle otherwise leaves as it found it."""
    for i, firm in enumerate(world.firms):
        for country in firm.won_in:
            S.won_in[i, country.id] = 1

"""Struct-of-arrays containers passed to the numba kernels.

`Params` is derived from the scenario (read-only), `State` is the world that the monthly step
mutates (firms, relationships, pools of tenders, bids, contracts and fund investments), `Acc`
holds the yearly accumulators that become the output tables. All are `typing.NamedTuple`s of
numpy arrays and scalars, so numba compiles them to plain structs while an editor and mypy can
follow every field. The annotations document; numba types each field from its value.

Shapes: M months, Y years, C countries, N firms; NS sizes, ND domains, NT tender types, NR
regions, NO foreign origins, NRISK risk classes, NI instruments, NTR fund tranches (see
`kernels.constants`). A lever's field is named `<measure code>_<schema name>` and its comment
gives the schema path (`levers.f5_co_entry.rate_cut`), so one grep follows it from YAML to kernel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Params(NamedTuple):
    """The scenario as numbers the kernels read (never written during a run); built by `engine.params`."""

    # -- time and sizes
    n_months: int  # months simulated, M
    n_years: int  # calendar years touched, Y
    n_firms: int  # Korean firms, N (world.n_firms)
    n_countries: int  # buyer countries, C (the country table)
    year_of: np.ndarray  # (M,) int64: year index of each month
    moy: np.ndarray  # (M,) int64: month of year 0..11 of each month
    tender_scale: np.ndarray  # (M,) addressable tender value a month (USD m), market.levels_usd_bn x addressable_share
    # -- lever schedules (by month or year)
    t2_reach: np.ndarray  # (M,) share of network levers' effect that reaches (1 while T2 sits), levers.t2_coordination
    n3_db_on: np.ndarray  # (M,) 1.0 while the N3 information DB is live, levers.n3_info_db.enabled/start
    f5_rate_cut: np.ndarray  # (M,) F5 co-entry loan rate cut by month (per year; 0 off), levers.f5_co_entry.rate_cut
    f5_save: np.ndarray  # (M, NT) F5 saving per KRW lent on a partner's working capital, by bid month and type
    n2_subsidy_ratio: np.ndarray  # (M, NS) N2 share of bid cost reimbursed by size class, levers.n2_subsidy.ratio
    n2_wide_scope: np.ndarray  # (M,) 1.0 when N2 also covers ICT and urban solutions, levers.n2_subsidy.wide_scope
    t2_cost_krw_bn_per_month: (
        np.ndarray
    )  # (M,) T2 running cost (KRW bn), levers.t2_coordination.cost_krw_bn_per_year / 12
    n2_budget_krw_bn: np.ndarray  # (Y,) N2 budget (KRW bn, pro rata), levers.n2_subsidy.budget_krw_bn_per_year
    f3_budget_usd_m: np.ndarray  # (Y,) F3 lending (USD m, pro rata), levers.f3_blended.budget_usd_m_per_year
    f8_budget_usd_m: np.ndarray  # (Y,) F8 EDPF lending (USD m, pro rata), levers.f8_edpf.budget_usd_m_per_year
    f5_topup_krw_bn: (
        np.ndarray
    )  # (Y,) F5 pot widening after a shortfall (KRW bn), levers.f5_co_entry.topup_krw_bn_per_year
    c2_slots: np.ndarray  # (Y,) int64 C2 consortia KOTRA brokers a year, levers.c2_consortia.slots_per_year
    n1_selections: np.ndarray  # (Y,) int64 N1 selections a year (0 off), levers.n1_kscon.selections_per_year
    t3_projects: np.ndarray  # (Y,) int64 T3 KSP projects a year, levers.t3_ksp.projects_per_year
    n5_cohorts: np.ndarray  # (Y,) int64 N5 training cohorts a year, levers.n5_training.cohorts_per_year
    c5_roadshows: np.ndarray  # (Y,) int64 C5 roadshows a year, levers.c5_roadshows.per_year
    year_frac: np.ndarray  # (Y,) share of each year simulated (months / 12)
    # -- countries (the country table) and per-country lever settings
    region: np.ndarray  # (C,) int64 region index (types.REGIONS)
    income: np.ndarray  # (C,) int64 income group (types.INCOMES)
    developing: np.ndarray  # (C,) uint8 1 unless high income
    risk: np.ndarray  # (C,) int64 OECD country-risk class 0..7
    weight: np.ndarray  # (C,) share of the tender market
    distance: np.ndarray  # (C,) distance from Seoul (km)
    rel_base: np.ndarray  # (C,) 2019 relationship with Korea (0-1) that boosts fade back to
    mdb_share: np.ndarray  # (C,) share of tenders funded by multilateral banks
    n4_kotra_from: (
        np.ndarray
    )  # (C,) int64 month an N4 KOTRA centre opens (NO_MONTH never), levers.n4_hubs.kotra_centres
    n4_kind_from: np.ndarray  # (C,) int64 month an N4 KIND centre opens (NO_MONTH: never), levers.n4_hubs.kind_centres
    t4_envoy_from: np.ndarray  # (C,) int64 month a T4 envoy starts (NO_MONTH: never), levers.t4_envoys.countries
    n6_access: np.ndarray  # (C,) access to MDB-funded tenders, levers.n6_intl_orgs.access or discovery.mdb_access_base
    f3_eligible: np.ndarray  # (C,) uint8 buyer may get an F3 blended package, levers.f3_blended.eligible_incomes
    n1_eligible: np.ndarray  # (C,) uint8 developing country of an N1 region, levers.n1_kscon.eligible_regions
    t3_eligible: np.ndarray  # (C,) uint8 developing country of a T3 region, levers.t3_ksp.eligible_regions
    n5_eligible: np.ndarray  # (C,) uint8 country of an N5 region, levers.n5_training.target_regions
    # -- tenders (market)
    mean_value: np.ndarray  # (2,) mean tender value (USD m) for developing, developed buyers
    type_cum: np.ndarray  # (2, NT) cumulative tender-type mix for developing, developed buyers
    value_mu: np.ndarray  # (NT,) log median tender value by type, market.value_median_usd_m
    value_sigma: float  # log-spread of tender values, market.value_sigma
    open_m: np.ndarray  # (NT,) int64 months from publication to award, market.open_months
    contract_m: np.ndarray  # (NT,) int64 months of contract execution, market.contract_months
    fin_share: np.ndarray  # (NT,) share of the price the bidder finances, market.financed_share
    bid_cost: np.ndarray  # (NT,) bid-preparation cost as a share of value, market.bid_cost_share
    domain_cum: np.ndarray  # (ND,) cumulative domain mix of tenders, market.domain_mix
    # -- foreign competition
    foreign_mean: float  # mean foreign bids at the reference value, competition.foreign_bids_mean
    foreign_disp: float  # log-spread of the foreign-bid rate, competition.foreign_bids_dispersion
    bids_elast: float  # elasticity of the foreign-bid rate to value, competition.bids_value_elasticity
    bids_risk: float  # log foreign-bid rate per risk class above 3, competition.bids_risk_slope
    ref_value: float  # value at which the rate is foreign_mean (USD m), competition.reference_value_usd_m
    strength: float  # multiplier on the foreign-bid rate, competition.strength
    quality_shift: float  # shift of all foreign qualities (score), competition.quality_shift
    origin_cum: np.ndarray  # (NR, NO) cumulative origin mix of foreign bids by region
    o_q: np.ndarray  # (NO,) mean foreign bid quality by origin
    o_qsd: np.ndarray  # (NO,) spread of foreign bid quality by origin
    o_mk: np.ndarray  # (NO,) mean foreign log price ratio by origin
    o_mksd: np.ndarray  # (NO,) spread of foreign log price ratio by origin
    o_fs: np.ndarray  # (NO,) foreign financing score by origin
    o_lnfin: np.ndarray  # (NO, NT, NRISK) log(1 + PV of financing interest per unit) of a foreign bid
    o_lnexp: np.ndarray  # (NO,) log(1 + references) of a foreign bidder by origin
    rel_f: np.ndarray  # (C, NO) foreign origins' relationship with each buyer (0-1)
    # -- award
    wts: np.ndarray  # (2, 6) award weights (developing, developed) x award.developing/developed.*
    sc_pis: float  # F1 score added by PIS equity on a PPP bid, award.scores.pis
    sc_blended: float  # F3 score added by a blended package, award.scores.blended
    sc_edpf: float  # F8 score added by EDPF finance on a PPP bid, award.scores.edpf
    sc_ksure: float  # F7 score added by K-SURE cover in high-risk countries, award.scores.ksure
    ksp_inc: float  # T3 share of the full incumbency bonus a KSP-shaped tender carries, award.scores.ksp_incumbency
    nest: float  # nested-logit scale of a nationality's bids, award.nest_scale
    reserve: float  # utility of the buyer's outside option, award.reservation_utility
    retender_p: float  # chance a rejected tender is tendered again, award.retender_prob
    retender_lag: int  # months from a rejection to the new tender, award.retender_lag_months
    # -- Korean firms' behaviour
    margin: float  # expected profit margin (fraction of value), behaviour.margin
    prior_w: float  # Beta prior pseudo-wins of a firm's belief, behaviour.belief_prior_wins
    prior_l: float  # Beta prior pseudo-losses, behaviour.belief_prior_losses
    crowding: float  # drop in expected chance per Korean bid already on a tender, behaviour.crowding
    bond_share: float  # capital held per unit of the firm's share of value, behaviour.bond_share
    q_noise: float  # spread of a bid's quality around capability, behaviour.quality_noise_sd
    default_loss: float  # share of value lost when the buyer defaults, behaviour.default_loss_share
    dom_income: float  # monthly domestic earnings as a share of starting capital, world.domestic_income
    risk_aversion: float  # weight on the default loss a firm bears, behaviour.risk_aversion
    risk_priced: float  # share of the risk cost without the special account that prices carry, behaviour.risk_priced
    partner_prob: float  # chance a large firm takes an SME partner unaided, behaviour.partner_prob
    entry_cost: float  # extra bid cost in an unknown country (share), behaviour.entry_cost_share
    # -- discovery and knowledge
    disc_odds: np.ndarray  # (C,) gravity odds of learning of a tender (market, distance, relationship), discovery.*
    size_odds: np.ndarray  # (NS,) odds ratio of learning of a tender by size class, discovery.size_odds
    known_gain: float  # odds gain of full knowledge of the country, discovery.known_odds - 1
    contact_gain: float  # odds gain of full contact with the region, discovery.contact_odds - 1
    lift_room: float  # the most the combined lift of channels, knowledge and contact adds, discovery.lift_cap - 1
    contact_decay: float  # monthly factor contacts fade by, from discovery.contact_half_life_months
    k_table: np.ndarray  # (KNOW_DEPTHS, M + 1) knowledge strength by depth and months since last use
    k_uses: int  # bids that make knowledge established, knowledge.uses_to_establish
    # -- relationships
    rel_decay: float  # monthly factor boosts fade toward rel_base by, from relationship.half_life_months
    win_boost: float  # relationship gain from a Korean win, relationship.win_boost
    rel_ceiling: float  # the most boosts raise a relationship above its base, relationship.boost_ceiling
    # -- finance
    krw: float  # KRW per USD, finance.krw_per_usd
    base_rate: float  # Korean bidders' base financing rate (per year), finance.base_rate
    premium: np.ndarray  # (NRISK,) financing premium by risk class (per year), finance.risk_premium
    contract_pd_m: np.ndarray  # (NRISK,) monthly chance a buyer defaults on a contract, finance.contract_default_pd
    max_uninsured: int  # highest risk class with ordinary cover, finance.max_uninsured_risk
    el: np.ndarray  # (NRISK, NT) expected default loss over a contract per unit of value
    fin_n: np.ndarray  # (NT,) int64 financing years by type, market.finance_years
    # -- F1 PIS fund, F2 loss order, F4 fund life
    f1_enabled: int  # 1 when the F1 PIS fund invests, levers.f1_pis.enabled
    f1_start_m: int  # month the F1 fund starts investing, levers.f1_pis.start
    f4_invest_end_m: int  # month new F1 investments stop, levers.f4_fund_life.investment_period_years
    f4_fund_end_m: int  # month F1 holdings exit at the latest, levers.f4_fund_life.fund_life_years
    f1_equity_share: float  # F1 equity as a share of project value, levers.f1_pis.equity_share
    f1_max_equity_krw_bn: float  # F1 cap on equity per project (KRW bn), levers.f1_pis.max_equity_krw_bn
    f1_holding_m: int  # months from F1 investment to exit, levers.f1_pis.holding_years
    f1_return_multiple: float  # F1 exit proceeds per unit invested, levers.f1_pis.return_multiple
    f1_project_default_pd_m: (
        np.ndarray
    )  # (NRISK,) F1 project's monthly default chance, levers.f1_pis.project_default_pd
    f1_loss_given_default: float  # share of an F1 investment lost on default, levers.f1_pis.loss_given_default
    f1_public_funding_rate_m: float  # monthly cost of public paid-in F1 capital, levers.f1_pis.public_funding_rate / 12
    f2_loss_order: int  # F2 loss waterfall: 0 subordinated, 1 pari passu, levers.f2_loss_order.order
    # -- F3, F5 to F8 finance levers
    f3_rate_cut: float  # F3 blended package rate cut (per year), levers.f3_blended.rate_cut
    f5_enabled: int  # 1 when F5 co-entry finance runs, levers.f5_co_entry.enabled
    f6_enabled: int  # 1 when F6 supports SMEs' sole contracts, levers.f6_sme_sole.enabled
    f6_sole_save: np.ndarray  # (NT,) F6 saving per unit of value on a sole SME contract, levers.f6_sme_sole.*_cut
    wc_share: float  # working capital a contract ties up per unit of value, finance.working_capital_share
    sme_wc_own: float  # share of it an SME bidding alone finances: 1 - finance.sme_credit_share, 0 with F6's loan
    partner_wc_own: float  # share of it an SME partner finances itself without an F5 loan: 1 - finance.sme_credit_share
    f7_enabled: int  # 1 when the F7 K-SURE account runs, levers.f7_ksure.enabled
    f7_cover_share: float  # F7 share of a defaulted contract's loss paid, levers.f7_ksure.cover_share
    f7_premium_to_expected_loss: float  # F7 premium per unit of claim, levers.f7_ksure.premium_to_expected_loss
    f8_enabled: int  # 1 when F8 EDPF lends for PPP, levers.f8_edpf.enabled
    f8_rate_cut: float  # F8 EDPF rate cut (per year), levers.f8_edpf.rate_cut
    # -- N1 K-SCON
    n1_enabled: int  # 1 when the N1 open call runs, levers.n1_kscon.enabled
    n1_call_moy: int  # month of year 0..11 of N1 selections, levers.n1_kscon.call_month - 1
    n1_cost_krw_bn_per_selection: float  # N1 cost per selection (KRW bn), levers.n1_kscon.cost_krw_bn_per_selection
    n1_follow_on_prob: float  # chance an N1 plan leads to a main tender, levers.n1_kscon.follow_on_prob
    n1_lag_months_min: int  # shortest N1 lag to the main tender (months), levers.n1_kscon.lag_months_min
    n1_lag_months_max: int  # longest N1 lag (months), levers.n1_kscon.lag_months_max
    n1_relationship_boost: float  # N1 relationship gain on selection (0-1), levers.n1_kscon.relationship_boost
    # -- N2 to N6
    n2_cap_usd_m: float  # N2 subsidy cap per project (USD m), levers.n2_subsidy.cap_krw_mn
    n3_discovery_odds_gain: float  # N3 odds gain of learning of a tender, levers.n3_info_db.discovery_odds - 1
    n3_cost_krw_bn_per_month: float  # N3 running cost (KRW bn), levers.n3_info_db.cost_krw_bn_per_year / 12
    n4_kotra_discovery_odds_gain: float  # N4 odds gain in a KOTRA country, levers.n4_hubs.kotra_discovery_odds - 1
    n4_kotra_bid_cost_cut: float  # N4 bid-cost cut in a KOTRA country, levers.n4_hubs.kotra_bid_cost_cut
    n4_kotra_cost_krw_bn_per_month: (
        float  # N4 cost a KOTRA centre (KRW bn), levers.n4_hubs.kotra_cost_krw_bn_per_year/12
    )
    n4_kind_ppp_discovery_odds_gain: float  # N4 PPP odds gain, levers.n4_hubs.kind_ppp_discovery_odds - 1
    n4_kind_cost_krw_bn_per_month: float  # N4 cost a KIND centre (KRW bn), levers.n4_hubs.kind_cost_krw_bn_per_year/12
    n6_cost_krw_bn_per_month: (
        float  # N6 cost, all regions (KRW bn), levers.n6_intl_orgs.cost_krw_bn_per_region_per_year
    )
    n5_moy: int  # month of year 0..11 of N5 cohorts, levers.n5_training.month - 1
    n5_relationship_boost: float  # N5 relationship gain per cohort (0-1), levers.n5_training.relationship_boost
    n5_cost_krw_bn_per_cohort: float  # N5 cost per cohort (KRW bn), levers.n5_training.cost_krw_bn_per_cohort
    # -- C1 expo
    c1_enabled: int  # 1 when the C1 expo runs, levers.c1_expo.enabled
    c1_start_m: int  # month of the first C1 expo, levers.c1_expo.start
    c1_moy: int  # month of year 0..11 of the C1 expo, levers.c1_expo.month - 1
    c1_buyer_countries: int  # C1 visiting buyer countries, levers.c1_expo.buyer_countries
    c1_firm_attendance: float  # share of alliance firms exhibiting at C1, levers.c1_expo.firm_attendance
    c1_meet_prob: float  # chance a C1 exhibitor meets a visiting country, levers.c1_expo.meet_prob
    c1_relationship_boost: float  # C1 relationship gain for a visiting country, levers.c1_expo.relationship_boost
    c1_cost_krw_bn: float  # cost per C1 expo (KRW bn), levers.c1_expo.cost_krw_bn
    # -- C2, C3, C6
    c2_min_value_usd_m: float  # smallest EPC/PPP tender with C2 partners (USD m), levers.c2_consortia.min_value_usd_m
    c2_sme_share: float  # C2 SME partner's share of the work, levers.c2_consortia.sme_share
    c2_synergy: float  # C2 quality gain of pooling capabilities, levers.c2_consortia.synergy
    c2_cost_krw_bn_per_consortium: float  # C2 cost (KRW bn), levers.c2_consortia.cost_krw_bn_per_consortium
    c3_catalogue: int  # 1 when the C3 catalogue finds partners among all alliance SMEs, levers.c3_alliance.catalogue
    c3_cost_krw_bn_per_month: float  # C3 running cost (KRW bn), levers.c3_alliance.cost_krw_bn_per_year / 12
    c6_cost_krw_bn_per_month: float  # C6 running cost (KRW bn), levers.c6_strategy.cost_krw_bn_per_year / 12
    # -- C4 fair
    c4_enabled: int  # 1 when the C4 fair runs, levers.c4_fair.enabled
    c4_moy: int  # month of year 0..11 of the C4 fair, levers.c4_fair.month - 1
    c4_region: int  # region index of the C4 fair, levers.c4_fair.region
    c4_firms: int  # Korean firms exhibiting at C4, levers.c4_fair.firms
    c4_contact_boost: float  # C4 contact gained with the region, levers.c4_fair.contact_boost
    c4_relationship_boost: float  # C4 relationship gain for the region's countries, levers.c4_fair.relationship_boost
    c4_cost_krw_bn: float  # cost per C4 fair (KRW bn), levers.c4_fair.cost_krw_bn
    # -- C5 roadshows, C6 fit
    c5_regions: np.ndarray  # (k,) int64 region indices C5 roadshows rotate through, levers.c5_roadshows.regions
    c5_firms_per_roadshow: int  # Korean firms on each C5 roadshow, levers.c5_roadshows.firms_per_roadshow
    c5_contact_boost: float  # C5 contact gained with the region, levers.c5_roadshows.contact_boost
    c5_relationship_boost: float  # C5 relationship gain for the host country, levers.c5_roadshows.relationship_boost
    c5_cost_krw_bn_each: float  # cost per C5 roadshow (KRW bn), levers.c5_roadshows.cost_krw_bn_each
    c6_fit: np.ndarray  # (2,) C6 quality gain for developing, developed buyers (0 when off), levers.c6_strategy.fit_*
    # -- T1, T3 to T5
    t1_visit_m: np.ndarray  # (v,) int64 month of each T1 visit (sorted), levers.t1_high_level.visits
    t1_visit_c: np.ndarray  # (v,) int64 country of each T1 visit, levers.t1_high_level.visits
    t1_relationship_boost: float  # T1 relationship gain per visit, levers.t1_high_level.relationship_boost
    t1_cost_krw_bn_per_visit: float  # T1 cost per visit (KRW bn), levers.t1_high_level.cost_krw_bn_per_visit
    t3_moy: int  # month of year 0..11 of T3 projects, levers.t3_ksp.month - 1
    t3_cost_krw_bn_per_project: float  # T3 cost per project (KRW bn), levers.t3_ksp.cost_krw_bn_per_project
    t3_follow_on_prob: float  # chance a T3 project shapes a later tender, levers.t3_ksp.follow_on_prob
    t3_lag_months_min: int  # shortest T3 lag to the tender (months), levers.t3_ksp.lag_months_min
    t3_lag_months_max: int  # longest T3 lag (months), levers.t3_ksp.lag_months_max
    t3_relationship_boost: float  # T3 relationship gain per project, levers.t3_ksp.relationship_boost
    t4_relationship_boost_per_month: float  # T4 gain a month, levers.t4_envoys.relationship_boost_per_month
    t4_cost_krw_bn_per_month: float  # T4 cost per envoy (KRW bn), levers.t4_envoys.cost_krw_bn_per_year / 12
    t5_mou_m: np.ndarray  # (u,) int64 month of each T5 MOU (sorted; < 0 before the start), levers.t5_mou.mous
    t5_mou_c: np.ndarray  # (u,) int64 country of each T5 MOU, levers.t5_mou.mous
    t5_relationship_boost: float  # T5 relationship jump per MOU, levers.t5_mou.relationship_boost
    t5_cost_krw_bn_per_mou: float  # T5 cost per MOU (KRW bn), levers.t5_mou.cost_krw_bn_per_mou


class State(NamedTuple):
    """The world the monthly step mutates: firms, relationships and fixed-capacity pools (`engine.world`)."""

    # -- firms
    size: np.ndarray  # (N,) int64 size class (LARGE, MID, SME, STARTUP)
    cap: np.ndarray  # (N, ND) capability by domain (score 0-1; 0: cannot bid)
    capital: np.ndarray  # (N,) capital left (USD m)
    capital0: np.ndarray  # (N,) starting capital (USD m)
    markup: np.ndarray  # (N,) price markup over cost
    alliance: np.ndarray  # (N,) uint8 1 for a member of the C3 Convergence Alliance
    active: np.ndarray  # (N,) uint8 1 while the firm has capital to bid
    tied: np.ndarray  # (N,) own capital tied up as working capital of running contracts (USD m)
    open_bids: np.ndarray  # (N,) int64 bids awaiting award
    capacity: np.ndarray  # (N,) int64 most simultaneous open bids
    kb: np.ndarray  # (N,) int64 bids decided so far (belief update)
    kw: np.ndarray  # (N,) int64 wins so far (belief update)
    belief: np.ndarray  # (N,) believed chance of winning a bid (Beta mean)
    exp_region: np.ndarray  # (N, NR) references won by region
    exp_domain: np.ndarray  # (N, ND) references won by domain
    know: np.ndarray  # (C, N) int32 knowledge of a country: -1 never, else last use month * KNOW_SHIFT + depth
    won_in: np.ndarray  # (N, C) uint8 1 once the firm has won in the country
    contact: np.ndarray  # (NR, N + 1) contact with a region from C4 fairs and C5 roadshows (column N stays 0)
    contacted: np.ndarray  # (N,) uint8 1 once the firm has any contact
    contacted_ids: np.ndarray  # (N,) int64 firms with contact, the first cnt[K_CONTACTED]
    contact_in: np.ndarray  # (NR,) uint8 1 once any firm has had contact with the region
    exported: np.ndarray  # (N,) uint8 1 once the firm has won abroad in the run
    last_win_year: np.ndarray  # (N,) int64 year of the firm's latest win (-1: none)
    dom_ptr: np.ndarray  # (ND + 1,) int64 offsets of each domain's firms in dom_firms
    dom_firms: np.ndarray  # (sum,) int32 firms able to bid in each domain, in firm order
    dom_ally_ptr: np.ndarray  # (ND + 1,) int64 offsets of each domain's alliance SMEs in dom_ally
    dom_ally: np.ndarray  # (sum,) int64 C3 alliance SMEs able to work in each domain
    alliance_ids: np.ndarray  # (a,) int64 C3 alliance members (C1 exhibitors, C4 and C5 pools)
    sme_alliance_ids: np.ndarray  # (s,) int64 C3 alliance SMEs and startups (C5 roadshows first)
    bid_mark: np.ndarray  # (N,) int64 the tender the firm last decided on (-1: none)
    # -- countries
    rel: np.ndarray  # (C,) Korea's relationship with each buyer government (0-1)
    # -- tender pool (capacity T)
    t_country: np.ndarray  # (T,) int64 buyer country
    t_domain: np.ndarray  # (T,) int64 solution domain
    t_type: np.ndarray  # (T,) int64 tender type (master plan, ICT, EPC, PPP)
    t_value: np.ndarray  # (T,) value (USD m)
    t_deadline: np.ndarray  # (T,) int64 month of award
    t_inc: np.ndarray  # (T,) int64 Korean incumbency (INC_NONE, INC_FULL, INC_KSP)
    t_mdb: np.ndarray  # (T,) uint8 1 when funded by a multilateral bank
    t_origin: np.ndarray  # (T,) int64 where it comes from (O_MARKET, O_SCHEDULED, O_KSCON, O_KSP, O_RETENDER)
    t_status: np.ndarray  # (T,) int64 ST_OPEN, ST_KOREAN, ST_FOREIGN, ST_LAPSED, ST_REJECTED
    t_bid_start: np.ndarray  # (T,) int64 first of its Korean bids in the bid pool
    t_bid_count: np.ndarray  # (T,) int64 number of its Korean bids
    t_nbids: np.ndarray  # (T,) int64 Korean bids (awarded tenders keep it)
    t_nforeign: np.ndarray  # (T,) int64 foreign bids drawn at publication
    t_fbest: np.ndarray  # (T,) best foreign utility drawn at publication
    t_reserve: np.ndarray  # (T,) the buyer's outside-option utility
    t_u_nest: np.ndarray  # (T,) uniform drawn at publication for the nest choice
    t_u_pick: np.ndarray  # (T,) uniform for the pick within the nest
    t_u_again: np.ndarray  # (T,) uniform for a re-tender
    t_u_order: np.ndarray  # (T,) uniform for where the Korean decisions start
    # -- bid pool (capacity B)
    b_firm: np.ndarray  # (B,) int64 lead firm
    b_partner: np.ndarray  # (B,) int64 SME partner (-1: none)
    b_tender: np.ndarray  # (B,) int64 tender bid on
    b_lnprice: np.ndarray  # (B,) log price ratio
    b_quality: np.ndarray  # (B,) quality (score)
    b_fscore: np.ndarray  # (B,) financing package score (F1, F3, F7, F8)
    b_track: np.ndarray  # (B,) log(1 + references in region and domain)
    b_rate: np.ndarray  # (B,) financing rate offered (per year)
    b_insured: np.ndarray  # (B,) uint8 1 when F7 K-SURE covers it
    b_pis: np.ndarray  # (B,) uint8 1 when F1 PIS equity is set aside for it
    b_blended: np.ndarray  # (B,) uint8 1 when it carries an F3 blended package
    b_edpf: np.ndarray  # (B,) uint8 1 when it carries F8 EDPF finance
    b_sole: np.ndarray  # (B,) uint8 1 for an SME's sole bid under F6
    b_loan: np.ndarray  # (B,) F5 co-entry loan drawn from the pot (KRW bn)
    # -- contract pool (capacity K)
    k_firm: np.ndarray  # (K,) int64 contractor
    k_partner: np.ndarray  # (K,) int64 SME partner (-1: none)
    k_country: np.ndarray  # (K,) int64 buyer country
    k_value: np.ndarray  # (K,) value (USD m)
    k_end: np.ndarray  # (K,) int64 month execution ends
    k_insured: np.ndarray  # (K,) uint8 1 when F7 K-SURE covers it
    k_loan: np.ndarray  # (K,) F5 loan returned to the pot at the end (KRW bn)
    k_share_p: np.ndarray  # (K,) the partner's share of the work
    k_wc: np.ndarray  # (K,) the contractor's own working capital tied up until the end (USD m)
    k_wc_p: np.ndarray  # (K,) the partner's own working capital tied up until the end (USD m)
    k_active: np.ndarray  # (K,) uint8 1 while in execution
    # -- F1 fund investments (capacity I)
    i_amt: np.ndarray  # (I, NTR) amount invested by tranche (KRW bn)
    i_exit: np.ndarray  # (I,) int64 exit month
    i_risk: np.ndarray  # (I,) int64 risk class of the project
    i_active: np.ndarray  # (I,) uint8 1 while held
    # -- planned tenders (capacity Q): mega-projects, N1/T3 follow-ons, re-tenders
    p_month: np.ndarray  # (Q,) int64 month it is published
    p_country: np.ndarray  # (Q,) int64 buyer country
    p_domain: np.ndarray  # (Q,) int64 solution domain
    p_type: np.ndarray  # (Q,) int64 tender type
    p_value: np.ndarray  # (Q,) value (USD m)
    p_inc: np.ndarray  # (Q,) int64 Korean incumbency
    p_origin: np.ndarray  # (Q,) int64 origin code (O_*)
    # -- F1 fund by tranche (government, public, private)
    pis_paid: np.ndarray  # (NTR,) paid-in capital (KRW bn)
    pis_cash: np.ndarray  # (NTR,) uninvested cash (KRW bn)
    pis_out: np.ndarray  # (NTR,) invested and held (KRW bn)
    pis_loss: np.ndarray  # (NTR,) cumulative losses (KRW bn)
    pis_ret: np.ndarray  # (NTR,) cumulative returns (KRW bn)
    # -- counters, registers and working space
    cnt: np.ndarray  # (NCNT,) int64 pool fills and counters (K_* in kernels.constants)
    reg: np.ndarray  # (NREG,) float registers: F5 pot, F7 account, budgets left (R_* in kernels.constants)
    scratch_i: np.ndarray  # (max(N, c1_buyer_countries),) int64 working space (C1 countries met)
    scratch_sme: np.ndarray  # (N,) int64 working space: SMEs free to partner on a tender
    scratch_p: np.ndarray  # (N,) working space: each candidate's chance to learn of the tender
    scratch_known: np.ndarray  # (N,) int64 working space: the candidates with knowledge or contact
    scratch_f: np.ndarray  # (max(NTR, NS),) working space: losses by tranche
    scratch_odds: np.ndarray  # (2·NS,) working space: discovery odds by size, then the chance without lift
    scratch_gain: np.ndarray  # (NS,) working space: odds gains by size
    scratch_nest: np.ndarray  # (NO,) working space: nest sums by origin
    scratch_lift: np.ndarray  # (KNOW_SHIFT·(n_months + 1),) the current tender's discovery lift by know value
    scratch_lift_k: np.ndarray  # (same,) int64 the tender whose lift scratch_lift holds (-1: none)


class Acc(NamedTuple):
    """Yearly accumulators (Y rows) the kernels add to; `engine.metrics` turns them into tables."""

    bids: np.ndarray  # (Y, NG) Korean bids on tenders closed that year, by group
    wins: np.ndarray  # (Y, NG) Korean wins by group
    value: np.ndarray  # (Y, NG) value won by Korean firms by group (USD m)
    bids_submitted: np.ndarray  # (Y,) Korean bids submitted
    bid_cost: np.ndarray  # (Y,) Korean bid-preparation cost (USD m)
    bid_value: np.ndarray  # (Y,) value of the tenders bid on (USD m)
    subsidised_bids: np.ndarray  # (Y,) bids reimbursed by the N2 subsidy
    bids_short_of_working_capital: np.ndarray  # (Y,) bids SMEs forwent for want of free working capital
    tenders_closed: np.ndarray  # (Y,) tenders reaching their deadline
    tenders_contested: np.ndarray  # (Y,) closed tenders with a Korean bid
    tenders_awarded: np.ndarray  # (Y,) tenders awarded to anyone
    tenders_rejected: np.ndarray  # (Y,) tenders whose buyer rejected every bid
    bidders: np.ndarray  # (Y,) bids on closed tenders, Korean and foreign
    single_bidder: np.ndarray  # (Y,) closed tenders with exactly one bid
    value_awarded: np.ndarray  # (Y,) value of tenders awarded to anyone (USD m)
    value_awarded_created: np.ndarray  # (Y,) of which N1/T3 follow-on tenders (USD m)
    value_contested: np.ndarray  # (Y,) value of closed tenders with a Korean bid (USD m)
    sme_wins: np.ndarray  # (Y,) Korean wins with an SME or startup lead or partner
    sme_value: np.ndarray  # (Y,) value won going to SMEs and startups (USD m)
    consortia: np.ndarray  # (Y,) C2 consortia formed with KOTRA support
    partnerships: np.ndarray  # (Y,) large-SME partnerships on bids
    consortium_wins: np.ndarray  # (Y,) wins by C2 consortia
    new_entries: np.ndarray  # (Y,) firm-country pairs with a first win
    exporters: np.ndarray  # (Y,) firms with a win since the start (year end)
    exporters_year: np.ndarray  # (Y,) firms winning that year
    defaults: np.ndarray  # (Y,) won contracts whose buyer defaulted
    kscon_tenders: np.ndarray  # (Y,) N1 K-SCON follow-on tenders scheduled
    ksp_tenders: np.ndarray  # (Y,) T3 KSP follow-on tenders scheduled
    cost: np.ndarray  # (Y, NI) public cost by instrument (KRW bn; kernels.constants.INSTRUMENTS)
    pis_commit: np.ndarray  # (Y,) new F1 PIS investments (KRW bn)
    pis_snap: np.ndarray  # (Y, NTR, len(SNAP)) F1 fund by tranche at year end (KRW bn)
    ksure_balance: np.ndarray  # (Y,) F7 K-SURE account at year end (KRW bn)
    pot_balance: np.ndarray  # (Y,) F5 co-entry pot at year end (KRW bn)
    active_firms: np.ndarray  # (Y,) firms with capital left at year end
    candidates: np.ndarray  # (Y,) firm-tender pairs offered to discovery
    misc_draws: np.ndarray  # (Y,) consequence draws (contract and project defaults)


# One random stream per source of noise, so that two scenarios run with the same seed share every
# draw the policy cannot touch (common random numbers): the tender flow and the foreign competition
# of ordinary tenders are identical across scenarios, and a lever that changes how many firms bid
# does not shift the draws of the market or of the buyers.
class Streams(NamedTuple):
    """The monthly step's random generators (PCG64), one per source of noise."""

    policy: np.random.Generator  # policy events: training, expo, fair, roadshows, K-SCON, KSP
    market: np.random.Generator  # the tender flow
    foreign: np.random.Generator  # foreign competition on each tender
    discovery: np.random.Generator  # which firms learn of a tender
    decision: np.random.Generator  # Korean firms' bids
    consequences: np.random.Generator  # awards' aftermath: defaults, exits


# the field names, for code that iterates over them
PARAM_FIELDS: list[str] = list(Params._fields)
STATE_FIELDS: list[str] = list(State._fields)
ACC_FIELDS: list[str] = list(Acc._fields)
STREAM_FIELDS: list[str] = list(Streams._fields)

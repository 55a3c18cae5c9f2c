"""Struct-of-arrays containers passed to the numba kernels.

`Params` is derived from the scenario (read-only), `State` is the world that the monthly step
mutates (firms, relationships, pools of tenders, bids, contracts and fund investments), `Acc`
holds the yearly accumulators that become the output tables. All are namedtuples of numpy
arrays and scalars so numba compiles them to plain structs.
"""
from __future__ import annotations

from collections import namedtuple

PARAM_FIELDS = """
n_months n_years n_firms n_countries
year_of moy tender_scale t2_reach n3_db_on f5_rate_cut n2_subsidy_ratio n2_wide_scope t2_cost_krw_bn_per_month
n2_budget_krw_bn f3_budget_usd_m f8_budget_usd_m f5_topup_krw_bn c2_slots n1_selections t3_projects n5_cohorts c5_roadshows year_frac
region income developing risk weight distance rel_base mdb_share n4_kotra_from n4_kind_from t4_envoy_from n6_access
f3_eligible n1_eligible t3_eligible n5_eligible
mean_value type_cum value_mu value_sigma open_m contract_m fin_share bid_cost domain_cum
foreign_mean foreign_disp bids_elast bids_risk ref_value strength quality_shift origin_cum
o_q o_qsd o_mk o_mksd o_fs o_lnfin o_lnexp rel_f
wts sc_pis sc_blended sc_edpf sc_ksure ksp_inc nest reserve retender_p retender_lag
margin prior_w prior_l crowding bond_share q_noise default_loss dom_income risk_aversion partner_prob entry_cost
disc_odds size_odds known_gain contact_gain contact_decay k_table k_uses
rel_decay win_boost
krw base_rate premium contract_pd_m max_uninsured el fin_n
f1_enabled f1_start_m f4_invest_end_m f4_fund_end_m f1_equity_share f1_max_equity_krw_bn f1_holding_m f1_return_multiple f1_project_default_pd_m f1_loss_given_default
f1_public_funding_rate_m f2_loss_order
f3_rate_cut f5_enabled f6_enabled f6_sole_save f7_enabled f7_cover_share f7_premium_to_expected_loss f8_enabled f8_rate_cut
n1_enabled n1_call_moy n1_cost_krw_bn_per_selection n1_follow_on_prob n1_lag_months_min n1_lag_months_max n1_relationship_boost
n2_cap_usd_m n3_discovery_odds_gain n3_cost_krw_bn_per_month n4_kotra_discovery_odds_gain n4_kotra_bid_cost_cut n4_kotra_cost_krw_bn_per_month n4_kind_ppp_discovery_odds_gain n4_kind_cost_krw_bn_per_month n6_cost_krw_bn_per_month
n5_moy n5_relationship_boost n5_cost_krw_bn_per_cohort
c1_enabled c1_start_m c1_moy c1_buyer_countries c1_firm_attendance c1_meet_prob c1_relationship_boost c1_cost_krw_bn
c2_min_value_usd_m c2_sme_share c2_synergy c2_cost_krw_bn_per_consortium c3_catalogue c3_cost_krw_bn_per_month c6_cost_krw_bn_per_month
c4_enabled c4_moy c4_region c4_firms c4_contact_boost c4_relationship_boost c4_cost_krw_bn
c5_regions c5_firms_per_roadshow c5_contact_boost c5_relationship_boost c5_cost_krw_bn_each
c6_fit t1_visit_m t1_visit_c t1_relationship_boost t1_cost_krw_bn_per_visit
t3_moy t3_cost_krw_bn_per_project t3_follow_on_prob t3_lag_months_min t3_lag_months_max t3_relationship_boost
t4_relationship_boost_per_month t4_cost_krw_bn_per_month t5_mou_m t5_mou_c t5_relationship_boost t5_cost_krw_bn_per_mou
""".split()

STATE_FIELDS = """
size cap capital capital0 markup alliance active open_bids capacity kb kw belief exp_region exp_domain
know won_in contact contacted contacted_ids exported last_win_year dom_ptr dom_firms dom_ally_ptr dom_ally alliance_ids sme_alliance_ids
bid_mark rel
t_country t_domain t_type t_value t_deadline t_inc t_mdb t_origin t_status t_bid_start t_bid_count t_nbids t_nforeign
t_fbest t_reserve t_u_nest t_u_pick t_u_again t_u_order
b_firm b_partner b_tender b_lnprice b_quality b_fscore b_track b_rate b_insured b_pis b_blended
b_edpf b_sole b_loan
k_firm k_partner k_country k_value k_end k_insured k_loan k_share_p k_active
i_amt i_exit i_risk i_active
p_month p_country p_domain p_type p_value p_inc p_origin
pis_paid pis_cash pis_out pis_loss pis_ret
cnt reg scratch_i scratch_sme scratch_f scratch_odds scratch_gain scratch_nest
""".split()

ACC_FIELDS = """
bids wins value bids_submitted bid_cost bid_value subsidised_bids
tenders_closed tenders_contested tenders_awarded tenders_rejected bidders single_bidder value_awarded
value_awarded_created value_contested sme_wins sme_value consortia partnerships consortium_wins new_entries exporters exporters_year defaults
kscon_tenders ksp_tenders cost pis_commit pis_snap ksure_balance pot_balance active_firms candidates misc_draws
""".split()

Params = namedtuple("Params", PARAM_FIELDS)
State = namedtuple("State", STATE_FIELDS)
Acc = namedtuple("Acc", ACC_FIELDS)

# One random stream per source of noise, so that two scenarios run with the same seed share every
# draw the policy cannot touch (common random numbers): the tender flow and the foreign competition
# of ordinary tenders are identical across scenarios, and a lever that changes how many firms bid
# does not shift the draws of the market or of the buyers.
STREAM_FIELDS = """
policy market foreign discovery decision consequences
""".split()
Streams = namedtuple("Streams", STREAM_FIELDS)

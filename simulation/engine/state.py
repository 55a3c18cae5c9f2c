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
year_of moy tender_scale reach db_on coentry_cut subsidy_ratio wide_scope coord_cost
subsidy_budget blended_budget edpf_budget pot_topup slots kscon_n ksp_n training_n roadshows_n year_frac
region income developing risk weight distance rel_base mdb_share kotra_from kind_from envoy_from n6_access
blended_ok kscon_ok ksp_ok train_ok
mean_value type_cum value_mu value_sigma open_m contract_m fin_share bid_cost domain_cum
foreign_mean foreign_disp bids_elast bids_risk ref_value strength quality_shift origin_cum
o_q o_qsd o_mk o_mksd o_fs o_lnfin o_lnexp rel_f
wts sc_pis sc_blended sc_edpf sc_ksure ksp_inc nest reserve retender_p retender_lag
margin prior_w prior_l crowding bond_share q_noise default_loss dom_income risk_aversion partner_prob entry_cost
disc_odds size_odds known_gain contact_gain contact_decay k_table k_uses
rel_decay win_boost
krw base_rate premium contract_pd_m max_uninsured el fin_n
pis_on pis_start_m pis_invest_end_m pis_fund_end_m pis_equity pis_max_eq pis_hold_m pis_mult pis_pd_m pis_lgd
pis_fund_rate_m loss_order
blended_cut coentry_on sole_on sole_save ksure_on ksure_cover ksure_price edpf_on edpf_cut
kscon_on kscon_moy kscon_cost kscon_follow kscon_lag_min kscon_lag_max kscon_boost
subsidy_cap_usd db_gain db_cost_m kotra_gain kotra_cut kotra_cost_m kind_gain kind_cost_m intl_cost_m
train_moy train_boost train_cost
expo_on expo_start_m expo_moy expo_buyers expo_attend expo_meet expo_boost expo_cost
cons_min_value cons_sme_share cons_synergy cons_cost catalogue alliance_cost_m strategy_cost_m
fair_on fair_moy fair_region fair_firms fair_contact fair_boost fair_cost
rs_regions rs_firms rs_contact rs_boost rs_cost
fit visit_m visit_c visit_boost visit_cost
ksp_moy ksp_cost ksp_follow ksp_lag_min ksp_lag_max ksp_boost
envoy_boost envoy_cost_m mou_m mou_c mou_boost mou_cost
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

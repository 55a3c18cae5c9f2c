"""Index constants shared by the kernels, the world builder, the metrics and the oracle.

numba freezes module-level integers at compile time, so these are true constants in the kernels.
"""

from simulation.scenario.types import DOMAINS, ORIGINS, REGIONS, SIZES, TYPES

NS, ND, NT, NR, NO, NRISK = len(SIZES), len(DOMAINS), len(TYPES), len(REGIONS), len(ORIGINS), 8

LARGE, MID, SME, STARTUP = 0, 1, 2, 3
URBAN_DEV, DESIGN = DOMAINS.index("urban_dev"), DOMAINS.index("design")
MASTER_PLAN, ICT, EPC, PPP = 0, 1, 2, 3
HIGH_INCOME = 3

# accumulator groups: all, size class, region, domain, risk class, demand (existing, created by the plan)
G_ALL = 0
G_SIZE = 1
G_REGION = G_SIZE + NS
G_DOMAIN = G_REGION + NR
G_RISK = G_DOMAIN + ND
G_DEMAND = G_RISK + NRISK
NG = G_DEMAND + 2

INSTRUMENTS = (
    "n2_subsidy",
    "f5_co_entry",
    "f6_sme_sole",
    "f3_blended",
    "f8_edpf",
    "f1_pis",
    "f7_ksure",
    "n4_hubs_kotra",
    "n4_hubs_kind",
    "n3_info_db",
    "c1_expo",
    "c4_fair",
    "c5_roadshows",
    "n5_training",
    "n1_kscon",
    "t3_ksp",
    "t4_envoys",
    "t1_high_level",
    "t2_coordination",
    "c2_consortia",
    "c3_alliance",
    "c6_strategy",
    "n6_intl_orgs",
    "t5_mou",
)
(
    C_SUBSIDY,
    C_COENTRY,
    C_SOLE,
    C_BLENDED,
    C_EDPF,
    C_PIS,
    C_KSURE,
    C_KOTRA,
    C_KIND,
    C_DB,
    C_EXPO,
    C_FAIR,
    C_ROADSHOW,
    C_TRAINING,
    C_KSCON,
    C_KSP,
    C_ENVOY,
    C_VISIT,
    C_COORD,
    C_CONSORTIA,
    C_ALLIANCE,
    C_STRATEGY,
    C_INTL,
    C_MOU,
) = range(len(INSTRUMENTS))
NI = len(INSTRUMENTS)

TRANCHES = ("government", "public", "private")
NTR = 3
# PIS snapshot columns per tranche
SNAP = ("paid_in", "cash", "outstanding", "cum_loss", "cum_return")
SN_PAID, SN_CASH, SN_OUT, SN_LOSS, SN_RET = range(len(SNAP))

# integer counters in state.cnt
(K_TENDERS, K_BIDS, K_CONTRACTS, K_INVEST, K_PIPE, K_FIRST_OPEN, K_NEW_FROM, K_OVERFLOW, K_ROADSHOWS, K_CONTACTED) = (
    range(10)
)
NCNT = 10
# float registers in state.reg
(R_POT, R_KSURE, R_SUBSIDY_LEFT, R_BLENDED_LEFT, R_EDPF_LEFT, R_SLOTS_LEFT, R_POT_SHORT, R_PIS_RESERVED) = range(8)
NREG = 8

# overflow codes: which pool ran out (the driver enlarges it and reruns)
OV_TENDERS, OV_BIDS, OV_CONTRACTS, OV_INVEST, OV_PIPE = 1, 2, 3, 4, 5

# tender status: open, won by a Korean bid, by a foreign bid, no bid at all, every bid rejected by the buyer
ST_OPEN, ST_KOREAN, ST_FOREIGN, ST_LAPSED, ST_REJECTED = 0, 1, 2, 3, 4
# where a tender comes from: the ordinary market, a named mega-project, a K-SCON plan, a KSP study, a re-tender.
# K-SCON and KSP follow-ons are demand the plan creates; the others exist anyway.
O_MARKET, O_SCHEDULED, O_KSCON, O_KSP, O_RETENDER = 0, 1, 2, 3, 4
# incumbency of a tender: none, full (K-SCON plan or mega-project master plan), KSP-shaped
INC_NONE, INC_FULL, INC_KSP = 0, 1, 2
NO_MONTH = 1 << 40
# knowledge of a country: know[c, i] = -1 (never), else last_use_month * KNOW_SHIFT + depth (1..15)
KNOW_SHIFT = 16
KNOW_DEPTHS = 16

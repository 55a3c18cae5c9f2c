"""Index constants shared by the kernels, the world builder, the metrics and the oracle.

numba freezes module-level integers at compile time, so these are true constants in the kernels.
"""
from ..scenario.types import DOMAINS, ORIGINS, REGIONS, SIZES, TYPES

NS, ND, NT, NR, NO, NRISK = len(SIZES), len(DOMAINS), len(TYPES), len(REGIONS), len(ORIGINS), 8

LARGE, MID, SME, STARTUP = 0, 1, 2, 3
URBAN_DEV, DESIGN = DOMAINS.index("urban_dev"), DOMAINS.index("design")
MASTER_PLAN, ICT, EPC, PPP = 0, 1, 2, 3
HIGH_INCOME = 3

# accumulator groups: all, size class, region, domain, risk class
G_ALL = 0
G_SIZE = 1
G_REGION = G_SIZE + NS
G_DOMAIN = G_REGION + NR
G_RISK = G_DOMAIN + ND
NG = G_RISK + NRISK

INSTRUMENTS = (
    "market_subsidy", "co_entry_interest", "sme_sole_support", "blended_finance", "edpf_finance",
    "fund_first_loss", "ksure_claims", "kotra_centres", "kind_centres", "info_db", "expo", "fairs",
    "roadshows", "training", "kscon", "ksp", "envoys", "high_level", "coordination",
)
(C_SUBSIDY, C_COENTRY, C_SOLE, C_BLENDED, C_EDPF, C_FIRST_LOSS, C_KSURE, C_KOTRA, C_KIND, C_DB, C_EXPO,
 C_FAIR, C_ROADSHOW, C_TRAINING, C_KSCON, C_KSP, C_ENVOY, C_VISIT, C_COORD) = range(len(INSTRUMENTS))
NI = len(INSTRUMENTS)

TRANCHES = ("government", "public", "private")
NTR = 3
# PIS snapshot columns per tranche
SNAP = ("paid_in", "cash", "outstanding", "cum_loss", "cum_return")
SN_PAID, SN_CASH, SN_OUT, SN_LOSS, SN_RET = range(len(SNAP))

# integer counters in state.cnt
(K_TENDERS, K_BIDS, K_CONTRACTS, K_INVEST, K_PIPE, K_FIRST_OPEN, K_NEW_FROM, K_OVERFLOW,
 K_ROADSHOWS, K_CONTACTED) = range(10)
NCNT = 10
# float registers in state.reg
(R_POT, R_KSURE, R_SUBSIDY_LEFT, R_BLENDED_LEFT, R_EDPF_LEFT, R_SLOTS_LEFT, R_POT_SHORT, R_PIS_RESERVED) = range(8)
NREG = 8

# overflow codes: which pool ran out (the driver enlarges it and reruns)
OV_TENDERS, OV_BIDS, OV_CONTRACTS, OV_INVEST, OV_PIPE = 1, 2, 3, 4, 5

# tender status
ST_OPEN, ST_KOREAN, ST_FOREIGN, ST_LAPSED = 0, 1, 2, 3
# incumbency of a tender: none, full (K-SCON plan or mega-project master plan), KSP-shaped
INC_NONE, INC_FULL, INC_KSP = 0, 1, 2
NO_MONTH = 1 << 40

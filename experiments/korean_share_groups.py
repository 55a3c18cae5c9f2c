"""Where the implemented plan's Korean share comes from: groups of its measures alone on the no-plan world.

Korean share of all awarded value in 2022-2024 (the years of the held-out check
`korean_share_2023`), for no plan, the implemented plan, and each group of the plan's measures
switched on alone (the lever cards' "alone" pairs, grouped). docs/validation.md quotes the output.

    python experiments/korean_share_groups.py [REPS] [key=value ...]
"""

import sys

from simulation import api
from simulation.analysis.calibration.moments import MOMENTS, year_rows
from simulation.analysis.levers.measures import section_values
from simulation.engine.simulate import simulate
from simulation.scenario.loader import with_overrides

GROUPS = {
    "info N3 N4": ["n3_info_db", "n4_hubs"],
    "events C1 C4 C5 N5 N1": ["c1_expo", "c4_fair", "c5_roadshows", "n5_training", "n1_kscon"],
    "teamkorea T1-5 C6 N6": [
        "t1_high_level",
        "t2_coordination",
        "t3_ksp",
        "t4_envoys",
        "t5_mou",
        "c6_strategy",
        "n6_intl_orgs",
    ],
    "finance F1-8 N2": [
        "f1_pis",
        "f2_loss_order",
        "f3_blended",
        "f4_fund_life",
        "f5_co_entry",
        "f6_sme_sole",
        "f7_ksure",
        "f8_edpf",
        "n2_subsidy",
    ],
    "consortia C2 C3": ["c2_consortia", "c3_alliance"],
}
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 12
over = dict(a.split("=", 1) for a in sys.argv[2:])
base = api.load("scenarios/no_plan.yaml", over)
plan = api.load("scenarios/plan_2019_implemented.yaml", over)
secs = sorted({p[1] for p in plan.values if p[0] == "levers"})
for g in GROUPS.values():
    for x in g:
        assert x in secs, (x, secs)


def share(r):
    """The calibration's `korean_share_value` (a ratio of sums over the replications), 2022-2024, in %."""
    runs = [simulate(r, s) for s in range(reps)]
    return 100 * MOMENTS["korean_share_value"][1](runs, year_rows(runs, 2022, 2024))


def switched(sections):
    o = {}
    for sec in sections:
        bv, pv = section_values(base, sec), section_values(plan, sec)
        o.update({k: v for k, v in pv.items() if bv.get(k) != v})
    return with_overrides(base, o, "+".join(sections))


s0 = share(base)
s1 = share(plan)
print(f"no plan {s0:.2f}  plan {s1:.2f}  (+{s1 - s0:.2f} pp)")
tot = 0
for name, g in GROUPS.items():
    d = share(switched(g)) - s0
    tot += d
    print(f"  {name:26s} +{d:.2f} pp")
print(f"  sum of groups +{tot:.2f} pp")

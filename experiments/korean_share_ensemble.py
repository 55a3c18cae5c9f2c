"""The held-out Korean share (2022-2024) under every parameter set of the uncertainty ensemble.

For each set of experiments/parameter_sets.yaml: the Korean share of awarded value in 2022-2024 under
no plan and under the implemented plan (4 replications each, seeds 1000·set + rep), then how many
sets fall in the published 4.8-8.1 % and which parameters move the plan's share most (correlation
over the sets). docs/validation.md quotes the output.

    python experiments/korean_share_ensemble.py
"""

import numpy as np
import yaml

from simulation import api
from simulation.engine.simulate import simulate

with open("experiments/parameter_sets.yaml") as f:
    sets = yaml.safe_load(f)["sets"]
rows = []
for j, st in enumerate(sets):
    res = []
    for name in ["scenarios/no_plan.yaml", "scenarios/plan_2019_implemented.yaml"]:
        r = api.load(name, st)
        kv = tv = 0.0
        for s in range(4):
            rr = simulate(r, 1000 * j + s)
            i = [rr.cal.years.index(y) for y in (2022, 2023, 2024)]
            kv += rr.acc.value[i, 0].sum()
            tv += rr.acc.value_awarded[i].sum()
        res.append(100 * kv / tv)
    rows.append((j, *res))
    print(j, f"{res[0]:.2f} {res[1]:.2f}", flush=True)
a = np.array(rows)
keys = sorted(sets[0])
X = np.array([[s[k] for k in keys] for s in sets], dtype=float)
d = a[:, 2] - a[:, 1]
p = a[:, 2]
print(f"plan share: mean {p.mean():.2f} min {p.min():.2f} max {p.max():.2f}; sets <= 8.1: {(p <= 8.1).sum()}/{len(a)}")
print(f"plan - no plan: mean {d.mean():.2f} min {d.min():.2f} max {d.max():.2f} pp")
cor = [(np.corrcoef(X[:, q], a[:, 2])[0, 1], k) for q, k in enumerate(keys) if X[:, q].std() > 0]
for c, k in sorted(cor, key=lambda t: -abs(t[0]))[:12]:
    print(f"{c:+.2f} {k}")

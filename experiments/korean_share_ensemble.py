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

sets = yaml.safe_load(open("experiments/parameter_sets.yaml"))["sets"]
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
    print(j, "%.2f %.2f" % tuple(res), flush=True)
a = np.array(rows)
keys = sorted(sets[0])
X = np.array([[s[k] for k in keys] for s in sets], dtype=float)
d = a[:, 2] - a[:, 1]
print("plan share: mean %.2f min %.2f max %.2f; sets <= 8.1: %d/%d" % (a[:, 2].mean(), a[:, 2].min(), a[:, 2].max(), (a[:, 2] <= 8.1).sum(), len(a)))
cor = [(np.corrcoef(X[:, q], a[:, 2])[0, 1], k) for q, k in enumerate(keys) if X[:, q].std() > 0]
for c, k in sorted(cor, key=lambda t: -abs(t[0]))[:12]:
    print("%+.2f %s" % (c, k))

"""Calibration moments read what the runs did: checked against the contract records themselves."""

from __future__ import annotations

import numpy as np

from simulation import api
from simulation.analysis.calibration.moments import MOMENTS, year_rows
from simulation.engine.kernels.award import K_CONTRACTS
from simulation.engine.simulate import simulate


def _risky_share_by_hand(r) -> float:
    S, P = r.state, r.params
    n = int(S.cnt[K_CONTRACTS])
    value = S.k_value[:n]
    return float(value[P.risk[S.k_country[:n]] >= 6].sum() / value.sum())


def test_korean_value_share_risky_is_the_contracts_in_risk_classes_6_and_7():
    """The share of Korean value won in classes 6-7 equals the share of the contracts' value there,
    over the whole horizon, in the no-plan world and under the plan (where F7 insures some)."""
    for name in ("no_plan", "plan_2019_announced.yaml"):
        r = simulate(api.load(name), 3)
        first, last = int(r.cal.years[0]), int(r.cal.years[-1])
        moment = MOMENTS["korean_value_share_risky"][1]([r], year_rows([r], first, last))
        assert 0.0 < moment < 1.0, name
        assert np.isclose(moment, _risky_share_by_hand(r), rtol=1e-12), name


def test_priced_country_risk_brings_korean_firms_into_risky_countries():
    """The more of the risk cost contract prices carry, the more Korean value is won in classes 6-7
    (same seeds), and a world where prices carry none of it has little Korean presence there."""
    shares = []
    for priced in (0.0, 1.0):
        s = api.load("no_plan", {"behaviour.risk_priced": priced})
        runs = [simulate(s, seed) for seed in range(4)]
        shares.append(MOMENTS["korean_value_share_risky"][1](runs, year_rows(runs, 2020, 2030)))
    assert shares[0] < 0.02 < shares[1]
    assert shares[1] > 2 * shares[0]

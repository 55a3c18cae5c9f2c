"""Mesa agents as thin views on the state arrays.

The numba kernels move every agent at once, so these classes hold no rules and no copy of
the state: each attribute reads the arrays through the model. They exist so that
`model.agents`, Mesa's DataCollector, batch_run and visualisation work as users expect.
"""

from __future__ import annotations

import mesa

from simulation.engine.kernels.constants import (
    NO_MONTH,
    R_BLENDED_LEFT,
    R_EDPF_LEFT,
    R_KSURE,
    R_POT,
    R_SUBSIDY_LEFT,
    SNAP,
    TRANCHES,
)
from simulation.scenario.types import DOMAINS, INCOMES, ORIGINS, REGIONS, SIZES


class Firm(mesa.Agent):
    """A Korean firm (row `idx` of the firm arrays)."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def _s(self):
        return self.model.state

    @property
    def size_class(self) -> str:
        return SIZES[int(self._s.size[self.idx])]

    @property
    def capability(self) -> dict[str, float]:
        return {d: float(self._s.cap[self.idx, k]) for k, d in enumerate(DOMAINS) if self._s.cap[self.idx, k] > 0}

    @property
    def capital_usd_m(self) -> float:
        return float(self._s.capital[self.idx])

    @property
    def experience_by_region(self) -> dict[str, float]:
        return {g: float(self._s.exp_region[self.idx, k]) for k, g in enumerate(REGIONS)}

    @property
    def experience_by_domain(self) -> dict[str, float]:
        return {d: float(self._s.exp_domain[self.idx, k]) for k, d in enumerate(DOMAINS)}

    @property
    def knowledge(self) -> dict[str, float]:
        """Strength 0..1 of the firm's knowledge of each country it has ever touched, this month
        (it fades unless used: kernels/knowledge.py)."""
        from simulation.engine.kernels.constants import KNOW_SHIFT

        i, know = self.idx, self._s.know
        m = min(self.model.month, self.model.params.n_months - 1)
        table = self.model.params.k_table
        out = {}
        for c in range(know.shape[0]):
            v = int(know[c, i])
            if v >= 0:
                out[self.model.countries.iso3[c]] = float(table[v % KNOW_SHIFT, m - v // KNOW_SHIFT])
        return out

    @property
    def known_countries(self) -> list[str]:
        """Countries the firm knows at least half as well as when it last used that knowledge."""
        return [c for c, k in self.knowledge.items() if k >= 0.5]

    @property
    def bid_capacity(self) -> int:
        return int(self._s.capacity[self.idx])

    @property
    def open_bids(self) -> int:
        return int(self._s.open_bids[self.idx])

    @property
    def alliance_member(self) -> bool:
        return bool(self._s.alliance[self.idx])

    @property
    def active(self) -> bool:
        return bool(self._s.active[self.idx])

    @property
    def bids(self) -> int:
        """Resolved bids since the start."""
        return int(self._s.kb[self.idx])

    @property
    def wins(self) -> int:
        return int(self._s.kw[self.idx])


class ForeignGovernment(mesa.Agent):
    """A buyer government (row `idx` of the country arrays)."""

    def __init__(self, model: mesa.Model, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def iso3(self) -> str:
        return self.model.countries.iso3[self.idx]

    @property
    def name(self) -> str:
        return self.model.countries.name[self.idx]

    @property
    def region(self) -> str:
        return REGIONS[int(self.model.params.region[self.idx])]

    @property
    def income_group(self) -> str:
        return INCOMES[int(self.model.params.income[self.idx])]

    @property
    def developing(self) -> bool:
        return bool(self.model.params.developing[self.idx])

    @property
    def risk_class(self) -> int:
        return int(self.model.params.risk[self.idx])

    @property
    def demand_weight(self) -> float:
        return float(self.model.params.weight[self.idx])

    @property
    def relationship(self) -> float:
        """Relationship with Korea now (0-1)."""
        return float(self.model.state.rel[self.idx])

    @property
    def award_weights(self) -> dict[str, float]:
        w = self.model.params.wts[0 if self.developing else 1]
        keys = ("quality", "price", "finance", "relationship", "track_record", "incumbency")
        return {k: float(v) for k, v in zip(keys, w, strict=True)}

    @property
    def competitors(self) -> dict[str, float]:
        """Share of foreign bids by origin in this buyer's region."""
        cum = self.model.params.origin_cum[self.model.params.region[self.idx]]
        shares = [cum[0]] + [cum[k] - cum[k - 1] for k in range(1, len(cum))]
        return {o: float(s) for o, s in zip(ORIGINS, shares, strict=True)}


class Fund(mesa.Agent):
    """A public money pot: the PIS fund, the co-entry pot, the K-SURE account, or a yearly budget."""

    KINDS = ("pis", "co_entry_pot", "ksure_special_account", "blended_finance", "edpf", "market_subsidy")
    _REG = {
        "co_entry_pot": R_POT,
        "ksure_special_account": R_KSURE,
        "blended_finance": R_BLENDED_LEFT,
        "edpf": R_EDPF_LEFT,
        "market_subsidy": R_SUBSIDY_LEFT,
    }

    def __init__(self, model: mesa.Model, kind: str) -> None:
        super().__init__(model)
        self.kind = kind

    @property
    def balance(self) -> float:
        """Cash left (KRW bn; USD m for blended_finance and edpf budgets)."""
        s = self.model.state
        if self.kind == "pis":
            return float(s.pis_cash.sum())
        return float(s.reg[self._REG[self.kind]])

    @property
    def loss_order(self) -> str | None:
        if self.kind != "pis":
            return None
        return "subordinated" if self.model.params.f2_loss_order == 0 else "pari_passu"

    @property
    def tranches(self) -> dict[str, dict[str, float]]:
        """PIS fund: paid-in, cash, outstanding, cumulative losses and returns per tranche (KRW bn)."""
        if self.kind != "pis":
            return {}
        s = self.model.state
        arrays = (s.pis_paid, s.pis_cash, s.pis_out, s.pis_loss, s.pis_ret)
        return {t: {name: float(a[k]) for name, a in zip(SNAP, arrays, strict=True)} for k, t in enumerate(TRANCHES)}


class SupportCenter(mesa.Agent):
    """A support channel: a KOTRA or KIND centre in a country, or a national one (DB, expo, fair, roadshows)."""

    def __init__(self, model: mesa.Model, kind: str, country: int | None = None) -> None:
        super().__init__(model)
        self.kind = kind
        self.country_idx = country

    @property
    def country(self) -> str | None:
        return None if self.country_idx is None else self.model.countries.iso3[self.country_idx]

    @property
    def opens_month(self) -> int | None:
        p = self.model.params
        if self.kind == "kotra_centre":
            return int(p.n4_kotra_from[self.country_idx])
        if self.kind == "kind_centre":
            return int(p.n4_kind_from[self.country_idx])
        if self.kind == "info_db":
            on = [m for m in range(p.n_months) if p.n3_db_on[m] > 0]
            return on[0] if on else None
        if self.kind == "expo":
            return int(p.c1_start_m) if p.c1_enabled else None
        return 0

    @property
    def open(self) -> bool:
        m = self.opens_month
        return m is not None and m != NO_MONTH and m <= self.model.month

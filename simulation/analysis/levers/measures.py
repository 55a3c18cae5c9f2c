"""The plan's measures as scenario pairs: each measure alone against no plan, and the plan without it.

A measure is one `levers.<code>_<name>` section. "Alone" is the no-plan world with that section as the
announced plan sets it; "removed" is the announced plan with that section as the no-plan world sets
it. Effects are alone − no plan and plan − removed, paired over common random numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.engine.kernels.constants import C_EXPO, C_FAIR, K_BIDS
from simulation.engine.simulate import RunResult
from simulation.scenario.loader import Resolved, with_overrides
from simulation.scenario.schema import Levers, extra_of


@dataclass(frozen=True)
class Measure:
    code: str  # F1 .. T5
    section: str  # f1_pis, ...
    title: str  # "PIS fund"


def measures() -> list[Measure]:
    """The 25 measures in the schema's order (F1-F8, N1-N6, C1-C6, T1-T5)."""
    out = []
    for name, info in Levers.model_fields.items():
        code = str(extra_of(info)["measure"])
        out.append(Measure(code, name, (info.description or name).split(" ", 1)[1]))
    return out


def section_values(r: Resolved, section: str) -> dict[tuple, Any]:
    return {p: v for p, v in r.values.items() if p[:2] == ("levers", section)}


def pair(base: Resolved, plan: Resolved, section: str) -> tuple[Resolved, Resolved]:
    """(the measure alone on the no-plan world, the plan without the measure)."""
    b, p = section_values(base, section), section_values(plan, section)
    alone = with_overrides(base, {k: v for k, v in p.items() if b.get(k) != v}, f"levers:{section}")
    removed = with_overrides(plan, {k: v for k, v in b.items() if p.get(k) != v}, f"levers:{section}")
    return alone, removed


# units of a measure, counted from a run's parameters and accumulators: (label, count(run))
def _months_open(frm: np.ndarray, n_months: int) -> float:
    return float(np.clip(n_months - frm, 0, n_months).sum())


def _in_horizon(months: np.ndarray, n_months: int) -> float:
    return float(((months >= 0) & (months < n_months)).sum())


UNITS: dict[str, tuple[str, Callable[[RunResult], float]]] = {
    "f1_pis": ("KRW bn of fund equity committed", lambda r: float(r.acc.pis_commit.sum())),
    "f5_co_entry": ("co-entry loan", lambda r: float((r.state.b_loan[: r.state.cnt[K_BIDS]] > 0.0).sum())),
    "n1_kscon": ("K-SCON selection", lambda r: float(r.params.n1_selections.sum())),
    "n2_subsidy": ("subsidised bid", lambda r: float(r.acc.subsidised_bids.sum())),
    "n4_hubs": ("KOTRA centre-year", lambda r: _months_open(r.params.n4_kotra_from, r.params.n_months) / 12.0),
    "n5_training": ("training cohort", lambda r: float(r.params.n5_cohorts.sum())),
    "c1_expo": ("expo", lambda r: float(r.acc.cost[:, C_EXPO].astype(bool).sum())),
    "c2_consortia": ("consortium brokered", lambda r: float(r.acc.consortia.sum())),
    "c4_fair": ("fair", lambda r: float(r.acc.cost[:, C_FAIR].astype(bool).sum())),
    "c5_roadshows": ("roadshow", lambda r: float((r.params.c5_roadshows * r.params.year_frac).sum())),
    "t1_high_level": ("high-level visit", lambda r: _in_horizon(r.params.t1_visit_m, r.params.n_months)),
    "t3_ksp": ("KSP project", lambda r: float(r.params.t3_projects.sum())),
    "t4_envoys": ("envoy-year", lambda r: _months_open(r.params.t4_envoy_from, r.params.n_months) / 12.0),
    "t5_mou": ("MOU", lambda r: _in_horizon(r.params.t5_mou_m, r.params.n_months)),
}

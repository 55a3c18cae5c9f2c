"""The Mesa face of the model: `SmartCityModel.step()` runs the numba kernels for one month.

For one run, or for Mesa tools (DataCollector, batch_run, SolaraViz), use this class. For many
runs use `simulation.engine.simulate`, which builds no Mesa objects: Mesa 3.3.1 keeps every
model alive forever (mesa#3179), so a sweep that built one model per run would leak memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import mesa
import numpy as np

from simulation.engine.kernels.constants import NO_MONTH
from simulation.engine.metrics import HORIZON, horizon_totals, run_years, tidy
from simulation.engine.simulate import RunResult, new_acc
from simulation.engine.world import build
from simulation.mesa.agents import Firm, ForeignGovernment, Fund, SupportCenter
from simulation.scenario.loader import Resolved, load_scenario
from simulation.scenario.shipped import resolve


def _year(model: SmartCityModel) -> int:
    return model.year


def _win_rate(model: SmartCityModel) -> float:
    return model.win_rate


def _acc_this_year(name: str, model: SmartCityModel) -> float:
    return float(getattr(model.acc, name)[model.year_index, 0])


def _public_cost(model: SmartCityModel) -> float:
    return float(model.acc.cost[model.year_index].sum())


def _mean_relationship(model: SmartCityModel) -> float:
    return float(np.mean(model.state.rel))


def _horizon_so_far(key: str, model: SmartCityModel) -> float:
    return model.horizon()[key]


# the DataCollector's model reporters (Mesa calls functions and partials with the model): no
# lambdas, so that a model pickles
REPORTERS: dict[str, Callable[[SmartCityModel], Any]] = {
    "year": _year,
    "bids": partial(_acc_this_year, "bids"),
    "wins": partial(_acc_this_year, "wins"),
    "win_rate": _win_rate,
    "value_won_usd_m": partial(_acc_this_year, "value"),
    "public_cost_krw_bn": _public_cost,
    "mean_relationship": _mean_relationship,
    # the horizon so far: at the end of a run, what `api.run(...).horizon` gives for this seed
    **{f"horizon_{k}": partial(_horizon_so_far, k) for k in HORIZON},
}


class SmartCityModel(mesa.Model):
    """Korean firms bidding for overseas smart-city tenders, month by month.

    Parameters: `scenario` (a YAML path, or the name of a shipped scenario, found from any working
    folder) or `resolved` (an already loaded scenario), `seed` (the run seed: the same seed gives
    the same run as `simulate`), and `overrides` (a dict of key path -> value, as in
    `simulation.api`, or `"key.path=value"` strings as in `--set`). Pass seeds as a parameter range
    to `mesa.batch_run`; its end-of-run row holds the horizon totals (`horizon_*`, as
    `simulation.api.run(...).horizon`) beside the last year's numbers.
    """

    def __init__(
        self,
        scenario: str = "plan_2019_announced",
        seed: int = 0,
        overrides: Mapping[str, Any] | Iterable[str] = (),
        resolved: Resolved | None = None,
        **kwargs,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        if resolved is None:
            from simulation.api import load

            if isinstance(overrides, Mapping):
                resolved = load(scenario, overrides)
            else:
                resolved = load_scenario(resolve(scenario), list(overrides), shown=resolve(scenario))
        self.resolved = resolved
        self.run_seed = int(seed)
        self._build(None)
        self.month = 0
        self.running = True
        for i in range(self.params.n_firms):
            Firm(self, i)
        for c in range(self.params.n_countries):
            ForeignGovernment(self, c)
        for kind in Fund.KINDS:
            Fund(self, kind)
        for c in range(self.params.n_countries):
            if self.params.n4_kotra_from[c] != NO_MONTH:
                SupportCenter(self, "kotra_centre", c)
            if self.params.n4_kind_from[c] != NO_MONTH:
                SupportCenter(self, "kind_centre", c)
        for kind in ("info_db", "expo", "fair", "roadshows"):
            SupportCenter(self, kind)
        self.datacollector = mesa.DataCollector(model_reporters=dict(REPORTERS))

    def _build(self, cap) -> None:
        self.params, self.calendar, self.countries, self.state, self._streams, self._cap = build(
            self.resolved, self.run_seed, cap
        )
        self.acc = new_acc(self.calendar.n_years)
        self._packed: tuple[Any, Any, Any] | None = None

    def _kernel_args(self) -> tuple[Any, Any, Any]:
        """Params, State and Acc as the compiled month loop takes them (kernels.refs): packed on the
        first step (after compiling the kernels if they are not cached), then stepped month by month
        with the same packed copies."""
        if self._packed is None:
            from simulation.engine.kernels.refs import pack
            from simulation.engine.warmup import warm_up

            warm_up(self.resolved, show=False)  # on an empty cache: compiled on two cores (engine/precompile.py)
            self._packed = (pack(self.params), pack(self.state), pack(self.acc))
        return self._packed

    def __getstate__(self) -> dict[str, Any]:
        """For pickle and copy.deepcopy: the packed copies hold raw pointers to this model's arrays
        and cannot be pickled; a copy packs its own arrays on its next step."""
        state = self.__dict__.copy()
        state["_packed"] = None
        return state

    @property
    def n_months(self) -> int:
        return self.calendar.n_months

    @property
    def year_index(self) -> int:
        return int(self.calendar.year_of[max(self.month - 1, 0)])

    @property
    def year(self) -> int:
        return self.calendar.start_year + self.year_index

    @property
    def win_rate(self) -> float:
        b = self.acc.bids[self.year_index, 0]
        return float(self.acc.wins[self.year_index, 0] / b) if b > 0 else float("nan")

    def step(self) -> None:
        """One month: policy events, market, discovery and bidding, award, consequences."""
        from simulation.engine.kernels.step import run_months

        if self.month >= self.n_months:
            self.running = False
            return
        code = run_months(self.month, self.month + 1, *self._kernel_args(), self._streams)
        while code != 0:  # a pool was full: enlarge it and replay the months so far (runs are deterministic)
            self._build(self._cap.after_overflow(code))
            code = run_months(0, self.month + 1, *self._kernel_args(), self._streams)
        self.month += 1
        self.datacollector.collect(self)
        if self.month >= self.n_months:
            self.running = False

    def run(self) -> None:
        while self.running:
            self.step()

    def result(self) -> RunResult:
        return RunResult(
            self.resolved.scenario.name,
            self.run_seed,
            self.calendar,
            self.acc,
            self.params,
            self.state,
            float(self.state.pis_paid[2]),
        )

    def horizon(self) -> dict[str, float]:
        """Horizon outcomes over the months simulated so far (metrics.HORIZON), computed as the
        API's and the CLI's horizon tables compute them; cached for the month."""
        if getattr(self, "_horizon_month", None) != self.month:
            self._horizon_month, self._horizon = self.month, horizon_totals(run_years(self.result()))
        return self._horizon

    def yearly_table(self):
        """The tidy yearly table of this run (years not yet simulated are zero)."""
        return tidy(self.result())

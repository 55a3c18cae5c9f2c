"""Run one validation experiment with common random numbers and estimate what the study estimated.

Replication i uses the same seed in the control and in every treated arm, so each arm's difference
from the control is paired; estimates are ratios of sums over replications with delta-method t-intervals
(stats.py). Each kind of experiment returns the per-replication quantities (`runs`, tidy) and the
estimates (`estimates`, one row per quantity) from which the checks are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulation.analysis.validation import records
from simulation.analysis.validation.spec import FinanceSpec, LeverSpec, Loaded, MetricSpec, PromotionSpec, VisitSpec
from simulation.analysis.validation.stats import (
    Interval,
    interval,
    log_ratio,
    mean,
    pct_change,
    product,
    quotient,
    ratio,
)
from simulation.engine.metrics import G_ALL, GROUPS
from simulation.engine.params import country_table
from simulation.engine.simulate import simulate
from simulation.experiment.tasks import replication_seeds
from simulation.scenario.calendar import Calendar

RETURN_UNIT = "KRW per KRW (= USD per USD)"


@dataclass
class Outcome:
    runs: list[dict] = field(default_factory=list)  # experiment, arm, run, seed, quantity, value
    estimates: list[dict] = field(default_factory=list)  # experiment, arm, year, quantity, estimate, ci, unit
    seeds: list[int] = field(default_factory=list)

    def add(
        self,
        exp: str,
        arm: str,
        quantity: str,
        iv: Interval,
        unit: str,
        year: int | None = None,
        calendar_year: int | None = None,
        note: str = "",
    ) -> None:
        self.estimates.append(
            {
                "experiment": exp,
                "arm": arm,
                "quantity": quantity,
                "year": year,
                "calendar_year": calendar_year,
                "estimate": iv.estimate,
                "ci_low": iv.low,
                "ci_high": iv.high,
                "unit": unit,
                "note": note,
            }
        )

    def lookup(self, exp: str, quantity: str, arm: str | None, year: int | None) -> dict:
        for row in self.estimates:
            if (
                (row["experiment"], row["quantity"]) == (exp, quantity)
                and (arm is None or row["arm"] == arm)
                and (year is None or row["year"] == year)
            ):
                return row
        raise KeyError((exp, quantity, arm, year))


Tick = Callable[[int], None]


def runs_needed(loaded: Loaded, reps: int) -> int:
    return reps * (1 + len(loaded.arms))


def measure(loaded: Loaded, reps: int, seed: int, tick: Tick) -> Outcome:
    seeds = replication_seeds(seed, reps)
    out = Outcome(seeds=seeds)
    spec = loaded.spec
    if isinstance(spec, PromotionSpec):
        _promotion(loaded, spec, seeds, out, tick)
    elif isinstance(spec, FinanceSpec):
        _finance(loaded, spec, seeds, out, tick)
    elif isinstance(spec, MetricSpec):
        _metric(loaded, spec, seeds, out, tick)
    elif isinstance(spec, LeverSpec):
        _lever(loaded, spec, seeds, out, tick)
    else:
        assert isinstance(spec, VisitSpec)
        _visits(loaded, spec, seeds, out, tick)
    return out


def _record(out: Outcome, exp: str, arm: str, run: int, seed: int, **values: float) -> None:
    for quantity, value in values.items():
        out.runs.append(
            {"experiment": exp, "arm": arm, "run": run, "seed": seed, "quantity": quantity, "value": float(value)}
        )


def _promotion(loaded: Loaded, spec: PromotionSpec, seeds: list[int], out: Outcome, tick: Tick) -> None:
    """Dose–response of value won on promotion spending: average and marginal returns, paired."""
    names = ["control"] + [n for n, _ in loaded.arms]
    scen = [loaded.control] + [r for _, r in loaded.arms]
    n = len(seeds)
    value = np.zeros((len(names), n))
    cost = np.zeros((len(names), n))
    for i, s in enumerate(seeds):
        for a, r in enumerate(scen):
            value[a, i], cost[a, i] = records.totals(simulate(r, s), spec.spending_instruments)
            _record(out, spec.name, names[a], i, s, value_won_krw_bn=value[a, i], promotion_cost_krw_bn=cost[a, i])
            tick(1)
    for a in range(1, len(names)):
        dv, dc = value[a] - value[0], cost[a] - cost[0]
        out.add(spec.name, names[a], "extra_promotion_cost_krw_bn", interval(mean(dc)), "KRW bn")
        out.add(spec.name, names[a], "extra_value_won_krw_bn", interval(mean(dv)), "KRW bn")
        out.add(
            spec.name,
            names[a],
            "average_return",
            interval(ratio(dv, dc)),
            RETURN_UNIT,
            note=f"(value won − control) / (promotion cost − control), {names[a]} against control",
        )
        # how the literature states its USD per USD: the budget elasticity of exports (log-log),
        # times exports / budget at the agencies' own intensity, here the control's
        eps = quotient(log_ratio(value[a], value[0]), log_ratio(cost[a], cost[0]))
        out.add(
            spec.name,
            names[a],
            "elasticity",
            interval(eps),
            "elasticity",
            note=f"ln(value won {names[a]} / control) / ln(promotion cost {names[a]} / control)",
        )
        out.add(
            spec.name,
            names[a],
            "return_at_control",
            interval(product(eps, ratio(value[0], cost[0]))),
            RETURN_UNIT,
            note=(
                f"marginal return at the control's promotion intensity: the elasticity ({names[a]} "
                "against control) times the control's value won per KRW of promotion"
            ),
        )
    segments = [(a, a + 1) for a in range(len(names) - 1)]  # from the control (no spending) up, dose by dose
    for lo, hi in segments:
        out.add(
            spec.name,
            f"{names[lo]}->{names[hi]}",
            "marginal_return",
            interval(ratio(value[hi] - value[lo], cost[hi] - cost[lo])),
            RETURN_UNIT,
            note=f"extra value per extra KRW from dose {names[lo]} to {names[hi]}",
        )
    if len(segments) >= 2:
        (a0, a1), (b0, b1) = segments[0], segments[-1]
        first = ratio(value[a1] - value[a0], cost[a1] - cost[a0])
        last = ratio(value[b1] - value[b0], cost[b1] - cost[b0])
        out.add(
            spec.name,
            f"{names[b0]}->{names[b1]} - {names[a0]}->{names[a1]}",
            "marginal_decline",
            interval(last - first),
            RETURN_UNIT,
            note="marginal return of the last dose step minus that of the first: negative = diminishing returns",
        )


def _finance(loaded: Loaded, spec: FinanceSpec, seeds: list[int], out: Outcome, tick: Tick) -> None:
    """The users of the instrument in each treated run, against the same firms in the control run."""
    n = len(seeds)
    k = len(loaded.arms)
    vt, vc, dt, dc, users, fin = (np.zeros((k, n)) for _ in range(6))
    all_t, all_c = np.zeros((k, n)), np.zeros(n)
    for i, s in enumerate(seeds):
        ctrl = simulate(loaded.control, s)
        ctrl_wins = records.wins(ctrl)
        all_c[i] = ctrl.acc.value[:, 0].sum()
        tick(1)
        for a, (name, r) in enumerate(loaded.arms):
            res = simulate(r, s)
            res_wins = records.wins(res)
            first = records.first_use(res, spec.users)
            users[a, i] = int((first < np.iinfo(np.int64).max).sum())
            vt[a, i], dt[a, i] = records.users_outcome(res, first, res_wins)
            vc[a, i], dc[a, i] = records.users_outcome(ctrl, first, ctrl_wins)
            fin[a, i] = records.financed_value(res, spec.users, res_wins)
            all_t[a, i] = res.acc.value[:, 0].sum()
            _record(
                out,
                spec.name,
                name,
                i,
                s,
                users=users[a, i],
                users_value_treated_usd_m=vt[a, i],
                users_value_control_usd_m=vc[a, i],
                users_destinations_treated=dt[a, i],
                users_destinations_control=dc[a, i],
                users_financed_value_usd_m=fin[a, i],
                value_won_treated_usd_m=all_t[a, i],
                value_won_control_usd_m=all_c[i],
            )
            tick(1)
    for a, (name, _) in enumerate(loaded.arms):
        out.add(spec.name, name, "users_per_run", interval(mean(users[a])), "firms")
        change = pct_change(vt[a], vc[a])
        out.add(
            spec.name,
            name,
            "users_value_change",
            interval(change),
            "%",
            note="users' value won from their first use on, against the same firms in the control run",
        )
        financed = ratio(fin[a], vt[a])
        out.add(
            spec.name,
            name,
            "users_financed_share",
            interval(financed * 100.0),
            "%",
            note="the dose: the share of the users' value won (treated run) that the instrument financed",
        )
        out.add(
            spec.name,
            name,
            "users_value_change_per_financed",
            interval(quotient(change, financed)),
            "% per unit of business financed",
            note="users' value change divided by the financed share: the effect had the instrument financed all their business",
        )
        out.add(
            spec.name,
            name,
            "users_destinations_change",
            interval(pct_change(dt[a], dc[a])),
            "%",
            note="countries in which users won from their first use on, against the control run",
        )
        out.add(
            spec.name,
            name,
            "all_value_change",
            interval(pct_change(all_t[a], all_c)),
            "%",
            note="value won by all Korean firms, for context",
        )


def _metric(loaded: Loaded, spec: MetricSpec, seeds: list[int], out: Outcome, tick: Tick) -> None:
    """The scenario's moment over the years, per replication; the estimate is their mean."""
    from simulation.analysis.calibration.moments import MOMENTS, year_rows

    values = np.zeros(len(seeds))
    for i, s in enumerate(seeds):
        res = simulate(loaded.control, s)
        values[i] = MOMENTS[spec.metric][1]([res], year_rows([res], spec.years[0], spec.years[1]))
        _record(out, spec.name, "scenario", i, s, **{spec.metric: values[i]})
        tick(1)
    scale = 100.0 if spec.metric in SHARES else 1.0
    out.add(
        spec.name,
        "scenario",
        "metric_value",
        interval(mean(scale * values)),
        "%" if scale == 100.0 else "",
        note=f"{MOMENTS[spec.metric][0]}, {spec.years[0]}-{spec.years[1]}, mean over replications",
    )


SMALL = [GROUPS.index("size:sme"), GROUPS.index("size:startup")]
LARGE = [GROUPS.index("size:large")]


def _lever(loaded: Loaded, spec: LeverSpec, seeds: list[int], out: Outcome, tick: Tick) -> None:
    """Value won over the horizon in each treated run against the control run with the same seed:
    in all, in the named groups, and the change for SMEs and startups against that for large firms."""
    named = [GROUPS.index(g) for g in spec.groups]
    n, k = len(seeds), len(loaded.arms)
    # [all, named groups, small firms, large firms] per arm (index k: the control) and replication
    v = np.zeros((k + 1, 4, n))
    for i, s in enumerate(seeds):
        runs = [simulate(loaded.control, s)] + [simulate(r, s) for _, r in loaded.arms]
        for a, res in enumerate(runs):
            by_group = np.asarray(res.acc.value, dtype=float).sum(axis=0)
            row = k if a == 0 else a - 1  # the control is run first and stored last
            v[row, :, i] = (by_group[G_ALL], by_group[named].sum(), by_group[SMALL].sum(), by_group[LARGE].sum())
        for a, (name, _) in enumerate(loaded.arms):
            _record(
                out,
                spec.name,
                name,
                i,
                s,
                value_won_treated_usd_m=v[a, 0, i],
                value_won_control_usd_m=v[k, 0, i],
                group_value_treated_usd_m=v[a, 1, i],
                group_value_control_usd_m=v[k, 1, i],
                small_value_treated_usd_m=v[a, 2, i],
                small_value_control_usd_m=v[k, 2, i],
                large_value_treated_usd_m=v[a, 3, i],
                large_value_control_usd_m=v[k, 3, i],
            )
        tick(1 + k)
    where = ", ".join(spec.groups)
    for a, (name, _) in enumerate(loaded.arms):
        out.add(spec.name, name, "value_change", interval(pct_change(v[a, 0], v[k, 0])), "%", note="Korean value won")
        if named:
            out.add(
                spec.name,
                name,
                "group_value_change",
                interval(pct_change(v[a, 1], v[k, 1])),
                "%",
                note=f"Korean value won in {where}",
            )
        out.add(
            spec.name,
            name,
            "small_minus_large",
            interval(pct_change(v[a, 2], v[k, 2]) - pct_change(v[a, 3], v[k, 3])),
            "pp",
            note="change in value won by SMEs and startups minus that by large firms",
        )


SHARES = {
    "korean_share_value",
    "single_bidder_share",
    "win_rate",
    "rejected_share",
    "korean_share_contested_value",
    "bid_cost_share",
    "new_presence_survival",
    "established_presence_survival",
}


def _visits(loaded: Loaded, spec: VisitSpec, seeds: list[int], out: Outcome, tick: Tick) -> None:
    """Value won in the visited country, by year from the visit, against the same country unvisited."""
    table = country_table(loaded.control)
    codes = [c for c, _ in loaded.arms]
    idx = np.array([table.index(c) for c in codes], dtype=np.int64)
    cal = Calendar(loaded.control.scenario.time.start, loaded.control.scenario.time.end)
    y0 = int(cal.year_of[cal.month(spec.visit_date)])
    first = max(y0 - 1, 0)  # the year before the visit: identical runs, a check on the pairing
    years = list(range(first, y0 + spec.years_after))
    n = len(seeds)
    tv, cv, tw, cw = (np.zeros((n, len(years))) for _ in range(4))
    for i, s in enumerate(seeds):
        ctrl_v, ctrl_w = records.country_year_value(simulate(loaded.control, s), idx)
        tick(1)
        for j, (code, r) in enumerate(loaded.arms):
            v, w = records.country_year_value(simulate(r, s), idx[j : j + 1])
            tv[i] += v[0, years]
            tw[i] += w[0, years]
            cv[i] += ctrl_v[j, years]
            cw[i] += ctrl_w[j, years]
            _record(
                out,
                spec.name,
                code,
                i,
                s,
                **{f"value_treated_usd_m_y{y - y0}": v[0, y] for y in years},
                **{f"value_control_usd_m_y{y - y0}": ctrl_v[j, y] for y in years},
            )
            tick(1)
    change = {y: pct_change(tv[:, k], cv[:, k]) for k, y in enumerate(years)}
    for k, y in enumerate(years):
        rel = y - y0
        cy = cal.years[y]
        out.add(
            spec.name,
            "visited",
            "visited_value_change",
            interval(change[y]),
            "%",
            rel,
            cy,
            note="value won in the visited countries, summed, against the same countries unvisited",
        )
        out.add(
            spec.name,
            "visited",
            "visited_wins_change",
            interval(pct_change(tw[:, k], cw[:, k])),
            "%",
            rel,
            cy,
            note="wins in the visited countries",
        )
        if rel > 0:
            out.add(
                spec.name,
                "visited",
                "fading",
                interval(change[y] - change[y0]),
                "pp",
                rel,
                cy,
                note=f"effect {rel} year(s) after the visit minus the effect in its own year",
            )

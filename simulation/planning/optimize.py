"""`scsim optimize`: the lever mix that buys the most for a budget, found by a batch-synchronous search.

The search is Optuna's (NSGA-II, or multi-objective TPE) driven by ask and tell: ask a batch of
candidates, evaluate the whole batch over the ensemble through a sweep executor (serial, local
processes, Dask, or shards), and tell the results back in candidate order. The optimiser therefore
sees the same numbers in the same order whatever executed the runs, and with its seed it asks the
same next batch: the same command gives the same Pareto set bit for bit on any executor and any
number of workers. A killed search is run again with the same command: it replays its batches,
finds every run it had finished in the results folder, and goes on from the first missing run
(the replay re-asks the sampler in the same order, so its random state is the uninterrupted one;
a sampler state saved in a database would not be, which is why no Optuna storage is kept).

Candidate 0 is the base scenario itself (the plan's own mix, schedules and all); it is evaluated
with the candidates but never told to the optimiser. At the end the feasible Pareto set (at most
MAX_FINAL points, spread along the first objective) and the plan are re-evaluated with
`final_replications` fresh seeds (not those of the search, so the luck that selected a point does
not flatter it), each outcome with an interval, and the options a planner asks for are named.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiment.lock import sweep_lock
from simulation.experiment.size import PLAN_BYTES_PER_RUN, check_runs, counted
from simulation.experiment.tasks import replication_seeds
from simulation.io import atomic_write
from simulation.planning.ensemble import Member, members
from simulation.planning.evaluate import Evaluator, Point, open_folder, planning_manifest
from simulation.planning.outcomes import bootstrap, horizon_years, member_table, statistic
from simulation.planning.spec import OUTCOMES, Loaded

MAX_FINAL = 20
ALL_OUTCOMES = tuple(OUTCOMES)
RESULTS = "planning"


@dataclass
class OptimizeResult:
    out: Path
    trials: pd.DataFrame
    final: pd.DataFrame
    options: pd.DataFrame
    gain: dict
    robustness: pd.DataFrame
    members: int = 0
    command: str = ""
    computed: int = 0
    reused: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _sampler(loaded: Loaded):
    import optuna

    s = loaded.spec.search
    cons = _constraints_func(loaded) if loaded.spec.constraints else None
    if s.sampler == "tpe":
        return optuna.samplers.TPESampler(
            seed=loaded.spec.seed, multivariate=True, constraints_func=cons, n_startup_trials=s.batch
        )
    return optuna.samplers.NSGAIISampler(population_size=s.batch, seed=loaded.spec.seed, constraints_func=cons)


def _constraints_func(loaded: Loaded):
    limits = [c.max for c in loaded.spec.constraints]
    return _Constraints(limits)


class _Constraints:
    """Optuna's constraints: each constraint's value minus its limit (<= 0 is feasible)."""

    def __init__(self, limits: Sequence[float]) -> None:
        self.limits = list(limits)

    def __call__(self, trial: Any) -> list[float]:
        return [float(trial.user_attrs.get(f"constraint_{k}", math.inf)) - lim for k, lim in enumerate(self.limits)]


def _distributions(loaded: Loaded) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for lv in loaded.levers:
        if lv.kind == "switch":
            out[lv.label] = CategoricalDistribution([False, True])
        elif lv.kind == "int":
            out[lv.label] = IntDistribution(math.ceil(lv.low), math.floor(lv.high))
        else:
            out[lv.label] = FloatDistribution(lv.low, lv.high)
    return out


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _points(loaded: Loaded, cand: int, params: dict[str, Any] | None, ens: list[Member]) -> list[Point]:
    """Candidate `cand` (params None: the plan's own mix) in every ensemble member."""
    pts = []
    for m in ens:
        ov = dict(m.overrides)
        row: dict[str, Any] = {"candidate": cand, "member": m.index}
        for lv in loaded.levers:
            if params is None:
                row[lv.label] = math.nan
            else:
                v = _plain(params[lv.label])
                ov.update(lv.overrides(v))
                row[lv.label] = float(v)
        row.update({k: float(v) for k, v in m.inputs.items()})
        name = ("plan" if params is None else f"c{cand:04d}") + f"/{m.name}"
        pts.append(Point(cand * len(ens) + m.index, name, loaded.base, ov, row))  # type: ignore[arg-type]
    return pts


def _candidate_values(loaded: Loaded, totals: pd.DataFrame, n_members: int, years: float) -> pd.DataFrame:
    """Per candidate: every objective and constraint (its statistic over the members)."""
    totals = totals.copy()
    totals["candidate"] = totals["point"] // n_members
    totals["member"] = totals["point"] % n_members
    per = member_table(totals, ALL_OUTCOMES, years, ["candidate", "member"])
    rows = []
    for cand, g in per.groupby("candidate", sort=True):
        row: dict[str, Any] = {"candidate": int(cand)}
        for k, o in enumerate(loaded.spec.objectives):
            row[f"objective_{k}"] = statistic(g[o.outcome].to_numpy(), o.statistic)
        for k, c in enumerate(loaded.spec.constraints):
            row[f"constraint_{k}"] = statistic(g[c.outcome].to_numpy(), c.statistic)
        for o in ALL_OUTCOMES:
            row[o] = statistic(g[o].to_numpy(), "mean")
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Rows of `values` (candidates x objectives) that no other row dominates (NaN rows never)."""
    sign = np.array([1.0 if d == "max" else -1.0 for d in directions])
    v = values * sign
    ok = np.isfinite(v).all(axis=1)
    out = np.zeros(len(v), dtype=bool)
    for i in np.flatnonzero(ok):
        dom = ok & (v >= v[i]).all(axis=1) & (v > v[i]).any(axis=1)
        out[i] = not dom.any()
    return out


def check_size(loaded: Loaded, n_members: int, max_runs: int | None) -> int:
    s = loaded.spec
    runs = (s.search.evaluations + 1) * n_members * s.replications + (MAX_FINAL + 1) * n_members * s.final_replications
    what = (
        f"{counted(s.search.evaluations + 1, 'candidate')} × {counted(n_members, 'ensemble member')} × "
        f"{counted(s.replications, 'replication')}, and at most {MAX_FINAL + 1} re-evaluated × "
        f"{counted(s.final_replications, 'replication')}"
    )
    check_runs(runs, what, max_runs, PLAN_BYTES_PER_RUN, loaded.file, loaded.line(("search",)), "search")
    return runs


def manifest(loaded: Loaded, ens: list[Member], seeds: list[int], argv: Sequence[str] | None) -> dict:
    return planning_manifest(
        loaded,
        "optimize",
        loaded.levers,
        {"levers": [lv.__dict__ for lv in loaded.levers]},
        ens,
        seeds,
        argv,
        after_replications={"final_replications": loaded.spec.final_replications},
        versions={"optuna": _version("optuna")},
    )


def _version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def optimize(
    loaded: Loaded,
    out: Path,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    progress: bool = True,
    max_runs: int | None = None,
    argv: Sequence[str] | None = None,
) -> OptimizeResult:
    """Run (or resume) the search of an optimize experiment into the results folder `out`."""
    t0 = time.perf_counter()
    ens = members(loaded)
    check_size(loaded, len(ens), max_runs)
    s = loaded.spec
    all_seeds = replication_seeds(s.seed, s.replications + s.final_replications)
    search = list(enumerate(all_seeds[: s.replications]))
    final = list(enumerate(all_seeds[s.replications :], start=s.replications))
    years = horizon_years(loaded.base)
    man = manifest(loaded, ens, all_seeds, argv)
    with sweep_lock(out, shard), dask_cluster(executor, workers, scheduler) as sched:
        store = open_folder(out, man, force)
        ev = Evaluator(store, executor, None if sched else workers, sched or scheduler, shard, progress)
        if progress:
            from simulation.engine.warmup import warm_up

            warm_up(loaded.base)
        trials = _search(loaded, ev, ens, search, years, progress)
        final_table, member_values = _final(loaded, ev, ens, trials, final, years)
    result = _summarise(loaded, out, trials, final_table, member_values, ens)
    result.computed, result.reused, result.seconds = ev.computed, ev.reused, time.perf_counter() - t0
    result.members, result.command = len(ens), man["command"]
    if shard is None:
        write_results(result, loaded)
    return result


class dask_cluster:
    """One Dask LocalCluster for the whole search (each batch reuses its workers), or nothing."""

    def __init__(self, executor: str, workers: int | None, scheduler: str | None) -> None:
        self.want = executor == "dask" and scheduler is None
        self.workers, self.cluster = workers, None

    def __enter__(self) -> str | None:
        if not self.want:
            return None
        import logging

        import dask
        from distributed import LocalCluster

        from simulation.experiment.executors import LOCAL_DASK_CONFIG, default_workers, kernels_cached

        if not kernels_cached():
            from simulation.api import load
            from simulation.engine.warmup import warm_up

            warm_up(load("no_plan", {"time.end": "2019-08"}), show=False)
        with dask.config.set(LOCAL_DASK_CONFIG):
            self.cluster = LocalCluster(
                n_workers=self.workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            )
        return self.cluster.scheduler_address

    def __exit__(self, *exc: Any) -> None:
        if self.cluster is not None:
            self.cluster.close()


def _search(
    loaded: Loaded, ev: Evaluator, ens: list[Member], seeds: list[tuple[int, int]], years: float, progress: bool
) -> pd.DataFrame:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = loaded.spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning for constraints
        study = optuna.create_study(
            directions=[("maximize" if o.direction == "max" else "minimize") for o in s.objectives],
            sampler=_sampler(loaded),
        )
    dists = _distributions(loaded)
    rows: list[dict] = []
    batches = s.search.evaluations // s.search.batch
    for g in range(batches):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            asked = [study.ask(dists) for _ in range(s.search.batch)]
        cands = [(1 + g * s.search.batch + j, t.params) for j, t in enumerate(asked)]
        points = (_points(loaded, 0, None, ens) if g == 0 else []) + [
            p for c, params in cands for p in _points(loaded, c, params, ens)
        ]
        tasks = ev.plan(points, seeds)
        ev.write_plan()
        values = _candidate_values(loaded, ev.run(tasks), len(ens), years).set_index("candidate")
        for (c, _params), trial in zip(cands, asked, strict=True):
            v = values.loc[c]
            objs = [float(v[f"objective_{k}"]) for k in range(len(s.objectives))]
            for k in range(len(s.constraints)):
                trial.set_user_attr(f"constraint_{k}", float(v[f"constraint_{k}"]))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if all(math.isfinite(x) for x in objs):
                    study.tell(trial, objs)
                else:
                    study.tell(trial, state=TrialState.FAIL)
        if g == 0:
            rows.append(_trial_row(loaded, 0, None, values.loc[0], -1))
        rows += [_trial_row(loaded, c, params, values.loc[c], g) for c, params in cands]
        if progress:
            print(
                f"{s.name}: batch {g + 1}/{batches} told ({len(rows) - 1} candidates; runs computed "
                f"{ev.computed}, found in the folder {ev.reused})",
                file=sys.stderr,
                flush=True,
            )
    trials = pd.DataFrame(rows)
    trials["feasible"] = _feasible(loaded, trials)
    obj = trials[[f"objective_{k}" for k in range(len(s.objectives))]].to_numpy(dtype=np.float64)
    searched = (trials["candidate"] > 0).to_numpy() & trials["feasible"].to_numpy()
    mask = np.zeros(len(trials), dtype=bool)
    mask[searched] = pareto_mask(obj[searched], [o.direction for o in s.objectives])
    trials["pareto"] = mask
    return trials


def _feasible(loaded: Loaded, trials: pd.DataFrame) -> np.ndarray:
    ok = np.ones(len(trials), dtype=bool)
    for k, c in enumerate(loaded.spec.constraints):
        ok &= trials[f"constraint_{k}"].to_numpy(dtype=np.float64) <= c.max
    return ok


def _trial_row(loaded: Loaded, cand: int, params: dict | None, v: pd.Series, batch: int) -> dict:
    row: dict[str, Any] = {"candidate": cand, "name": "plan" if params is None else f"c{cand:04d}", "batch": batch}
    for lv in loaded.levers:
        row[lv.label] = math.nan if params is None else float(_plain(params[lv.label]))
    for k in range(len(loaded.spec.objectives)):
        row[f"objective_{k}"] = float(v[f"objective_{k}"])
    for k in range(len(loaded.spec.constraints)):
        row[f"constraint_{k}"] = float(v[f"constraint_{k}"])
    for o in ALL_OUTCOMES:
        row[o] = float(v[o])
    return row


def _final_set(loaded: Loaded, trials: pd.DataFrame) -> list[int]:
    """The Pareto candidates to re-evaluate: distinct lever settings, at most MAX_FINAL, spread evenly
    along the first objective."""
    front = trials[trials["pareto"]]
    labels = [lv.label for lv in loaded.levers]
    front = front.drop_duplicates(labels).sort_values(["objective_0", "candidate"], kind="mergesort")
    cands = list(front["candidate"].astype(int))
    if len(cands) > MAX_FINAL:
        idx = np.unique(np.round(np.linspace(0, len(cands) - 1, MAX_FINAL)).astype(int))
        cands = [cands[i] for i in idx]
    return cands


def _final(
    loaded: Loaded, ev: Evaluator, ens: list[Member], trials: pd.DataFrame, seeds: list[tuple[int, int]], years: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-evaluate the plan and the Pareto set with fresh seeds; per candidate x member values."""
    cands = [0] + _final_set(loaded, trials)
    params = {int(r["candidate"]): {lv.label: r[lv.label] for lv in loaded.levers} for _, r in trials.iterrows()}
    pts = []
    for c in cands:
        p = None if c == 0 else {k: _typed(loaded, k, v) for k, v in params[c].items()}
        pts += _points(loaded, c, p, ens)
    tasks = ev.plan(pts, seeds)
    ev.write_plan()
    totals = ev.run(tasks)
    totals["candidate"] = totals["point"] // len(ens)
    totals["member"] = totals["point"] % len(ens)
    per_member = member_table(totals, ALL_OUTCOMES, years, ["candidate", "member"])
    return totals, per_member


def _typed(loaded: Loaded, label: str, v: float) -> Any:
    kind = next(lv.kind for lv in loaded.levers if lv.label == label)
    return bool(v) if kind == "switch" else (int(v) if kind == "int" else float(v))


def _summarise(
    loaded: Loaded, out: Path, trials: pd.DataFrame, totals: pd.DataFrame, per_member: pd.DataFrame, ens: list[Member]
) -> OptimizeResult:
    from simulation.planning.robustness import robustness

    s = loaded.spec
    years = horizon_years(loaded.base)
    rows = []
    for cand, g in per_member.groupby("candidate", sort=True):
        row: dict[str, Any] = {"candidate": int(cand), "name": "plan" if cand == 0 else f"c{int(cand):04d}"}
        for lv in loaded.levers:
            row[lv.label] = float(trials.loc[trials["candidate"] == cand, lv.label].iloc[0])
        for k, o in enumerate(s.objectives):
            vals = g[o.outcome].to_numpy()
            row[f"objective_{k}"] = statistic(vals, o.statistic)
            row[f"objective_{k}_low"], row[f"objective_{k}_high"] = bootstrap(
                vals, lambda v, st=o.statistic: statistic(v, st), s.seed + k
            )
        for j, o in enumerate(ALL_OUTCOMES):
            vals = g[o].to_numpy()
            row[o] = statistic(vals, "mean")
            row[f"{o}_low"], row[f"{o}_high"] = bootstrap(vals, lambda v: statistic(v, "mean"), s.seed + 100 + j)
        for k, c in enumerate(s.constraints):
            row[f"constraint_{k}"] = statistic(g[c.outcome].to_numpy(), c.statistic)
        rows.append(row)
    final = pd.DataFrame(rows)
    final["feasible"] = _feasible(loaded, final)
    values = per_member.assign(
        policy=per_member["candidate"].map(dict(zip(final["candidate"], final["name"], strict=True)))
    )
    rob = robustness(values, "value_won", "max", None, True, s.seed, policies=list(final["name"]))
    rob = rob.drop(columns=["satisficing", "satisficing_low", "satisficing_high", "target", "target_rule"])
    if s.target is not None:
        t = s.target
        sat = robustness(
            values,
            t.outcome,
            t.direction,
            t.at_least if t.at_least is not None else t.at_most,
            t.at_least is not None,
            s.seed,
            policies=list(final["name"]),
        )
        rob = rob.merge(
            sat[["policy", "satisficing", "satisficing_low", "satisficing_high", "target", "target_rule"]],
            on="policy",
            how="left",
        )
        rob["target_outcome"] = t.outcome
    options, gain = name_options(loaded, final, totals, ens, years)
    return OptimizeResult(out, trials, final, options, gain, rob)


def name_options(
    loaded: Loaded, final: pd.DataFrame, totals: pd.DataFrame, ens: list[Member], years: float
) -> tuple[pd.DataFrame, dict]:
    """The 3-5 options a planner asks for among the re-evaluated feasible Pareto set, and what the best
    mix at the plan's money buys more than the plan (paired over members and replications)."""
    from simulation.analysis.compare import interval

    plan = final[final["candidate"] == 0].iloc[0]
    pool = final[(final["candidate"] > 0) & final["feasible"]]
    picks: list[tuple[str, int]] = []
    if len(pool):
        within = pool[pool["public_cost"] <= plan["public_cost"]]
        if len(within):
            picks.append(
                (
                    "best mix for the plan's money",
                    int(within.sort_values(["value_won", "candidate"], ascending=[False, True]).iloc[0]["candidate"]),
                )
            )
        for label, col, asc in (
            ("most value won", "value_won", False),
            ("least public cost", "public_cost", True),
            ("most for SMEs", "sme_share", False),
            ("most value per public KRW", "value_per_public_krw", False),
        ):
            best = pool.sort_values([col, "candidate"], ascending=[asc, True], na_position="last").iloc[0]
            picks.append((label, int(best["candidate"])))
    names: dict[int, list[str]] = {}
    for label, c in picks:
        names.setdefault(c, []).append(label)
    chosen = list(names)[: loaded.spec.options]
    options = final[final["candidate"].isin(chosen)].copy()
    options.insert(1, "option", [" / ".join(names[int(c)]) for c in options["candidate"]])
    options["order"] = [chosen.index(int(c)) for c in options["candidate"]]
    options = options.sort_values("order").drop(columns="order").reset_index(drop=True)
    gain: dict[str, Any] = {
        "available": False,
        "plan_value_won": float(plan["value_won"]),
        "plan_public_cost": float(plan["public_cost"]),
    }
    best = next((c for label, c in picks if label == "best mix for the plan's money"), None)
    if best is not None:
        t = totals.set_index(["candidate", "member", "rep"]).sort_index()
        a, b = t.loc[best], t.loc[0]
        b = b.reindex(a.index)
        sets = a.index.get_level_values("member").to_numpy()
        row = final[final["candidate"] == best].iloc[0]
        gain = {
            "available": True,
            "candidate": int(best),
            "name": str(row["name"]),
            "levers": {lv.label: float(row[lv.label]) for lv in loaded.levers},
            "plan_value_won": float(plan["value_won"]),
            "plan_public_cost": float(plan["public_cost"]),
            "pairs": int(len(a)),
            "members": len(ens),
            "level": 0.95,
        }
        for name, col in (("value_won", "value_won_usd_m"), ("public_cost", "public_cost_krw_bn")):
            d = (a[col] - b[col]).to_numpy(dtype=np.float64)
            mean, stoch, param = interval(d, sets, 0.95)
            half = math.hypot(stoch, param)
            gain[f"{name}_gain"], gain[f"{name}_low"], gain[f"{name}_high"] = mean, mean - half, mean + half
            gain[f"{name}_half_stochastic"], gain[f"{name}_half_parameters"] = stoch, param
        gain["value_won_gain_pct"] = (
            100.0 * gain["value_won_gain"] / gain["plan_value_won"] if gain["plan_value_won"] > 0 else math.nan
        )
    return options, gain


def write_results(result: OptimizeResult, loaded: Loaded) -> Path:
    """RESULTS/planning/: trials, the re-evaluated set, options, robustness and the gain (whole files)."""
    folder = result.out / RESULTS
    folder.mkdir(exist_ok=True)
    objectives = [o.model_dump() for o in loaded.spec.objectives]
    constraints = [c.model_dump() for c in loaded.spec.constraints]
    for name, frame in (
        ("trials", result.trials),
        ("final", result.final),
        ("options", result.options),
        ("robustness", result.robustness),
    ):
        atomic_write(folder / f"{name}.csv", frame.to_csv(index=False))
    summary = {
        "kind": "optimize",
        "experiment": loaded.spec.name,
        "objectives": objectives,
        "constraints": constraints,
        "levers": [lv.__dict__ for lv in loaded.levers],
        "gain_at_plan_cost": result.gain,
        "members": result.members,
        "notes": result.notes,
        "command": result.command,
    }
    atomic_write(folder / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
    return folder


def _json_default(v: Any) -> Any:
    if isinstance(v, (np.generic,)):
        return v.item()
    return str(v)


def _num(x: float, unit: str = "") -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if unit == "fraction":
        return f"{x * 100:.1f} %"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def lever_text(row: pd.Series | dict, levers: Sequence[Any]) -> str:
    """`rate_cut=0.011, roadshows=9` (the plan: its own schedules)."""
    parts = []
    for lv in levers:
        v = row[lv.label]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "the plan's own settings"
        parts.append(
            f"{lv.label}={'on' if v else 'off'}"
            if lv.kind == "switch"
            else f"{lv.label}={int(v)}"
            if lv.kind == "int"
            else f"{lv.label}={v:.3g}"
        )
    return ", ".join(parts)


def gain_text(gain: dict) -> str:
    """The optimiser's gain over the plan's mix at the plan's money, in one sentence."""
    if not gain.get("available"):
        return (
            "no feasible option of the Pareto set costs no more than the plan's own mix "
            f"({_num(gain.get('plan_public_cost', math.nan))} KRW bn): no gain at the plan's money to report"
        )
    return (
        f"For the plan's money (public cost {_num(gain['plan_public_cost'])} KRW bn over the horizon), the best mix "
        f"found wins {gain['value_won_gain']:+,.1f} USD m more than the plan's own mix "
        f"({gain['value_won_gain_pct']:+.1f} % of {_num(gain['plan_value_won'])} USD m; 95 % interval "
        f"{gain['value_won_low']:+,.1f} to {gain['value_won_high']:+,.1f} USD m, paired over "
        f"{gain['members']} ensemble members × replications) at {gain['public_cost_gain']:+,.1f} KRW bn of "
        f"public cost ({gain['public_cost_low']:+,.1f} to {gain['public_cost_high']:+,.1f})"
    )


def format_result(result: OptimizeResult, loaded: Loaded) -> str:
    s = loaded.spec
    lines = []
    n_pareto = int(result.trials["pareto"].sum())
    lines.append(
        f"{s.name}: {len(result.trials) - 1} candidates searched in batches of {s.search.batch} "
        f"({s.search.sampler}), {n_pareto} on the feasible Pareto front; each over {result.members} ensemble "
        f"members × {s.replications} replications, re-evaluated with {s.final_replications} fresh seeds"
    )
    lines.append("options (mean over the ensemble, 95 % interval from resampling the members):")
    for _, r in result.options.iterrows():
        lines.append(f"  {r['option']}: {lever_text(r, loaded.levers)}")
        lines.append(
            f"      value won {_num(r['value_won'])} USD m [{_num(r['value_won_low'])}, "
            f"{_num(r['value_won_high'])}], public cost {_num(r['public_cost'])} KRW bn, SME share "
            f"{_num(r['sme_share'], 'fraction')}, value per public KRW {_num(r['value_per_public_krw'])}"
        )
    plan = result.final[result.final["candidate"] == 0].iloc[0]
    lines.append(
        f"  the plan's own mix: value won {_num(plan['value_won'])} USD m [{_num(plan['value_won_low'])}, "
        f"{_num(plan['value_won_high'])}], public cost {_num(plan['public_cost'])} KRW bn, SME share "
        f"{_num(plan['sme_share'], 'fraction')}"
    )
    lines.append(gain_text(result.gain) + ".")
    lines.append(
        f"{result.computed} runs computed, {result.reused} found in the folder, in {result.seconds:.1f} s; "
        f"results in {result.out}/ (planning/trials.csv, final.csv, options.csv, robustness.csv, summary.json)"
    )
    return "\n".join(lines)

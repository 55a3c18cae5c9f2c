"""Sensitivity analysis and ranking of a finished sweep.

`analyze(results_dir)` reads a results folder written by the sweep runner:

    results_dir/experiment.json   {"spec": the experiment mapping, "design": {"type", "problem", ...}, ...}
    results_dir/design.parquet    the DesignTable frame (point, name, one column per factor)
    results_dir/runs/*.parquet    tidy rows of each run (point, rep, key, run, scenario, seed, year, metric, group, value)

and computes, for every run, horizon outcomes (sums over all simulated years, see `OUTCOMES`),
their mean per point with a 95 % t-interval over replications, then

- Sobol first-order and total indices with bootstrap intervals (sobol designs: SALib.analyze.sobol
  on the per-point means, in SALib's row order; second-order indices too when sampled);
- Morris mu, mu*, sigma with a bootstrap interval on mu* (morris designs: SALib.analyze.morris);
- PAWN (Kolmogorov-Smirnov distance between the outcome's distribution given a factor and its
  unconditional one): SALib's PAWN, written out (`pawn`), on lhs/sobol/morris samples; on grids, conditioned on
  each level of the factor (the quantile slices of SALib's version would leave levels out);
- a ranking of lever settings by value won per public KRW: every point of a design without
  uncertainty factors; with uncertainty factors in a grid, each combination of lever values
  averaged over the uncertainty factors; with `p_best`, the share of bootstrap resamples of the
  replications (paired: common random numbers) in which the setting ranks first;
- the cost-value Pareto front of the ranked settings (minimise public cost, maximise value won).

`write_analysis` writes CSV and Parquet tables and `summary.txt` to results_dir/analysis/.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from simulation.analysis.stats import ks_distance, t_half_width
from simulation.io import clean_temporaries, new_temp_dir, publish_dir, remove

CONF = 0.95
N_BOOT = 1000


@dataclass(frozen=True)
class Outcome:
    """A horizon outcome of one run: sum over years of `num` (times `weight`, year by year), over the sum of `den`."""

    name: str
    description: str
    unit: str
    num: tuple[str, str]  # (metric, group)
    den: tuple[str, str] | None = None
    weight: tuple[str, str] | None = None  # num is a yearly share of this metric
    # over several runs, a ratio of sums (these two outcomes' totals), with an interval on the log
    # scale that keeps its sign; a total that is never negative, its interval stopping at zero;
    # an outcome left out without a note when the runs do not hold it
    ratio_of: tuple[str, str] | None = None
    nonneg: bool = False
    optional: bool = False

    @property
    def needs(self) -> list[tuple[str, str]]:
        return [x for x in (self.num, self.den, self.weight) if x is not None]


OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "value_won_krw_bn",
        "value of contracts won by Korean firms, horizon total",
        "KRW bn",
        ("value_won_krw_bn", "all"),
        nonneg=True,
    ),
    Outcome(
        "public_cost_krw_bn",
        "public cost of all instruments, horizon total (commitment basis)",
        "KRW bn",
        ("public_cost_krw_bn", "all"),
        nonneg=True,
    ),
    Outcome(
        "value_per_public_krw",
        "value won per KRW of public cost over the horizon (over several runs: "
        "their total value won over their total public cost)",
        "KRW/KRW",
        ("value_won_krw_bn", "all"),
        den=("public_cost_krw_bn", "all"),
        ratio_of=("value_won_krw_bn", "public_cost_krw_bn"),
    ),
    Outcome("win_rate", "Korean wins / Korean bids over the horizon", "fraction", ("wins", "all"), den=("bids", "all")),
    Outcome(
        "sme_share_value",
        "share of the value won going to SMEs and startups over the horizon",
        "fraction",
        ("sme_share_value", "all"),
        den=("value_won_krw_bn", "all"),
        weight=("value_won_krw_bn", "all"),
    ),
    Outcome(
        "value_won_usd_m",
        "value of contracts won by Korean firms, horizon total",
        "USD m",
        ("value_won_usd_m", "all"),
        nonneg=True,
        optional=True,
    ),
)
RANK_BY = "value_per_public_krw"
COST, VALUE = "public_cost_krw_bn", "value_won_krw_bn"
VALUE_USD = "value_won_usd_m"
MIN_RANK_REPS = 5  # below this many replications a setting's interval is too unsure to rank by


@dataclass
class Analysis:
    """Everything `analyze` computed; tables are tidy DataFrames (None when not applicable)."""

    results_dir: Path
    name: str
    design_type: str
    factors: list[dict]
    outcomes: list[Outcome]
    runs: pd.DataFrame  # point, rep, one column per outcome
    points: pd.DataFrame  # point, name, factor columns, n_reps, <outcome>_mean/_ci_low/_ci_high
    sobol: pd.DataFrame | None = None  # outcome, factor, S1, S1_conf, ST, ST_conf
    sobol_s2: pd.DataFrame | None = None  # outcome, factor_a, factor_b, S2, S2_conf
    morris: pd.DataFrame | None = None  # outcome, factor, mu, mu_star, mu_star_conf, sigma
    pawn: pd.DataFrame | None = None  # outcome, factor, minimum, mean, median, maximum, CV, stdev
    ranking: pd.DataFrame | None = None  # rank, setting, lever columns, outcome means and CIs, p_best, pareto
    notes: list[str] = field(default_factory=list)
    n_points: int = 0
    n_reps: int = 0

    @property
    def pareto(self) -> pd.DataFrame | None:
        if self.ranking is None:
            return None
        return self.ranking[self.ranking["pareto"]].sort_values(f"{COST}_mean").reset_index(drop=True)


# ---- small statistics ----------------------------------------------------------------------
def mean_ci(values: np.ndarray, conf: float = CONF) -> tuple[float, float, float, int]:
    """Mean and t-interval of the finite values (NaN interval with fewer than two).

    Also the figures' interval; the Student t quantile comes from scipy.special, which (unlike
    scipy.stats) imports in milliseconds."""
    from scipy.special import stdtrit

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(v.mean())
    if n < 2:
        return m, math.nan, math.nan, n
    half = float(stdtrit(n - 1, 0.5 + conf / 2) * v.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half, n


def pareto_front(cost: Sequence[float], value: Sequence[float]) -> np.ndarray:
    """True where no other entry costs no more and wins no less, and is better in one of the two.

    Entries with a missing cost or value are never on the front. Exact duplicates are both on it.
    """
    c = np.asarray(cost, dtype=np.float64)
    v = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(c) & np.isfinite(v)
    out = np.zeros(len(c), dtype=bool)
    for i in np.flatnonzero(ok):
        dominated = ok & (c <= c[i]) & (v >= v[i]) & ((c < c[i]) | (v > v[i]))
        out[i] = not dominated.any()
    return out


# ---- reading -------------------------------------------------------------------------------
def _read_runs(runs_dir: Path, needs: set[tuple[str, str]]) -> pd.DataFrame:
    import pyarrow.compute as pc

    from simulation.experiment.store import read_run_files

    files = sorted(p for p in runs_dir.glob("*.parquet") if not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"no run files in {runs_dir}")
    metrics = sorted({m for m, _ in needs})
    groups = sorted({g for _, g in needs})
    table = read_run_files(files, runs_dir.parent / "labels")
    keep = pc.and_(
        pc.is_in(table["metric"], value_set=_strings(metrics)), pc.is_in(table["group"], value_set=_strings(groups))
    )
    table = table.filter(keep).select(["point", "rep", "key", "year", "metric", "group", "value"])
    frame = table.to_pandas()
    for col in ("metric", "group"):
        frame[col] = frame[col].astype(str)
    frame["point"] = frame["point"].astype(np.int64)
    frame["rep"] = frame["rep"].astype(np.int64)
    return frame.drop_duplicates(["point", "rep", "year", "metric", "group"], keep="last")


def _strings(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.large_string())


def _map_shared_runs(rows: pd.DataFrame, results_dir: Path, frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Give every (point, rep) its rows when points share runs.

    A run is named by a hash of (resolved scenario, seed), so two points with the same overrides
    (a Sobol cross-sample whose integer factor rounds alike, a repeated list entry) are one run,
    stored once under one point id. With a task table (results_dir/tasks.parquet: point, rep, key)
    rows are mapped by key; without one, points whose design-table rows are equal share runs.
    """
    tasks_file = results_dir / "tasks.parquet"
    if tasks_file.is_file():
        tasks = pd.read_parquet(tasks_file, columns=["point", "rep", "key"]).drop_duplicates()
        body = rows.drop(columns=["point", "rep"]).drop_duplicates(["key", "year", "metric", "group"])
        return tasks.merge(body, on="key", how="inner")
    cols = [c for c in frame.columns if c not in ("point", "name")]
    if not cols or rows.empty:
        return rows
    sig = frame[cols].astype(str).agg("\x1f".join, axis=1)
    canon = pd.Series(frame.groupby(sig)["point"].transform("min").to_numpy(), index=frame["point"].to_numpy())
    if (canon.index == canon.to_numpy()).all():
        return rows
    have = rows[["point", "rep"]].drop_duplicates()
    have["canon"] = have["point"].map(canon)
    source = have.drop_duplicates(["canon", "rep"]).rename(columns={"point": "src"})
    want = pd.DataFrame({"point": canon.index.astype(np.int64), "canon": canon.to_numpy()}).merge(source, on="canon")
    want = want.merge(have[["point", "rep"]], on=["point", "rep"], how="left", indicator=True)
    want = want[want["_merge"] == "left_only"][["point", "rep", "src"]]
    if want.empty:
        return rows
    extra = want.merge(rows.rename(columns={"point": "src"}), on=["src", "rep"]).drop(columns="src")
    shared = int((canon.index != canon.to_numpy()).sum())
    notes.append(f"{shared} points repeat an earlier point's settings and share its runs")
    return pd.concat([rows, extra[rows.columns]], ignore_index=True)


def horizon_outcomes(
    rows: pd.DataFrame, outcomes: Sequence[Outcome] = OUTCOMES, years: tuple[int, int] | None = None
) -> pd.DataFrame:
    """One row per (point, rep) with each outcome over the horizon (or `years` = (first, last))."""
    if years is not None:
        rows = rows[(rows["year"] >= years[0]) & (rows["year"] <= years[1])]
    wide = rows.set_index(["point", "rep", "year", "metric", "group"])["value"].unstack(["metric", "group"])
    keys = cast(pd.MultiIndex, wide.index).droplevel("year")
    out = pd.DataFrame(index=keys.unique())
    for o in outcomes:
        missing = [x for x in o.needs if x not in wide.columns]
        if missing:
            out[o.name] = np.nan
            continue
        num = wide[o.num].to_numpy(dtype=np.float64)
        if o.weight is not None:
            num = num * wide[o.weight].to_numpy(dtype=np.float64)
        num = np.where(np.isfinite(num), num, 0.0)  # a share is undefined (NaN) in a year with nothing won
        total = pd.Series(num, index=keys).groupby(level=[0, 1]).sum()
        if o.den is not None:
            den = (
                pd.Series(np.nan_to_num(wide[o.den].to_numpy(dtype=np.float64)), index=keys).groupby(level=[0, 1]).sum()
            )
            total = total / den.where(den > 0)
        out[o.name] = total.reindex(out.index)
    return out.reset_index().sort_values(["point", "rep"]).reset_index(drop=True)


def ratio_ci(num: np.ndarray, den: np.ndarray, conf: float = CONF) -> tuple[float, float, float, int]:
    """A ratio of sums over runs, sum(num)/sum(den), with a delta-method interval on the log scale.

    log R = log(mean num) - log(mean den), its variance from the runs' variances and covariance
    (Fieller's setting, first order): R·exp(±t·se) is positive whenever R is, so value per public
    KRW never gets an interval below zero, however few the replications. NaN interval with fewer
    than two runs or a zero mean."""
    from scipy.special import stdtrit

    ok = np.isfinite(num) & np.isfinite(den)
    x, y = np.asarray(num, dtype=np.float64)[ok], np.asarray(den, dtype=np.float64)[ok]
    n = len(x)
    if n == 0 or y.sum() <= 0:
        return math.nan, math.nan, math.nan, n
    r = float(x.sum() / y.sum())
    mx, my = float(x.mean()), float(y.mean())
    if n < 2 or mx <= 0:
        return r, math.nan, math.nan, n
    c = np.cov(x, y, ddof=1)
    var = (c[0, 0] / mx**2 + c[1, 1] / my**2 - 2.0 * c[0, 1] / (mx * my)) / n
    half = float(stdtrit(n - 1, 0.5 + conf / 2) * math.sqrt(max(var, 0.0)))
    return r, r * math.exp(-half), r * math.exp(half), n


def _summary(runs: pd.DataFrame, by: str, outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """Per value of `by`: n_reps and, for each outcome, the mean over its finite values with a
    t-interval (stopping at zero for a total that is never negative), or for a ratio of two
    outcomes, the ratio of their sums with an interval on the log scale (`ratio_ci`)."""
    g = runs.groupby(by, sort=True)
    out = pd.DataFrame({"n_reps": g.size()})
    for o in outcomes:
        if o.ratio_of and all(k in runs for k in o.ratio_of):
            got = [ratio_ci(x[o.ratio_of[0]].to_numpy(), x[o.ratio_of[1]].to_numpy())[:3] for _, x in g]
            m, lo, hi = (np.array(v, dtype=np.float64) for v in zip(*got, strict=True)) if got else (np.array([]),) * 3
            out[f"{o.name}_mean"], out[f"{o.name}_ci_low"], out[f"{o.name}_ci_high"] = m, lo, hi
            continue
        col = runs[o.name].where(np.isfinite(runs[o.name]))
        agg = col.groupby(runs[by]).agg(["mean", "std", "count"])
        n = agg["count"].to_numpy(dtype=np.float64)
        with np.errstate(all="ignore"):
            half = t_half_width(agg["std"].to_numpy(), n, CONF)
        m = agg["mean"].to_numpy(dtype=np.float64)
        lo = m - half
        if o.nonneg:
            lo = np.where(np.isnan(lo), lo, np.maximum(lo, 0.0))
        out[f"{o.name}_mean"], out[f"{o.name}_ci_low"], out[f"{o.name}_ci_high"] = m, lo, m + half
    return out


def _per_point(runs: pd.DataFrame, outcomes: Sequence[Outcome]) -> pd.DataFrame:
    return _summary(runs, "point", outcomes).reset_index()


# ---- sensitivity ---------------------------------------------------------------------------
def _quiet(fn, *args, **kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _sobol(problem: dict, Y: np.ndarray, second_order: bool, seed: int, name: str):
    from SALib.analyze import sobol

    Si = _quiet(
        sobol.analyze, problem, Y, calc_second_order=second_order, conf_level=CONF, num_resamples=100, seed=seed
    )
    first = pd.DataFrame(
        {
            "outcome": name,
            "factor": problem["names"],
            "S1": Si["S1"],
            "S1_conf": Si["S1_conf"],
            "ST": Si["ST"],
            "ST_conf": Si["ST_conf"],
        }
    )
    s2 = None
    if second_order:
        rows = []
        names = problem["names"]
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                rows.append(
                    {
                        "outcome": name,
                        "factor_a": names[a],
                        "factor_b": names[b],
                        "S2": Si["S2"][a, b],
                        "S2_conf": Si["S2_conf"][a, b],
                    }
                )
        s2 = pd.DataFrame(rows)
    return first, s2


def _morris(problem: dict, X: np.ndarray, Y: np.ndarray, levels: int, seed: int, name: str) -> pd.DataFrame:
    from SALib.analyze import morris

    Si = _quiet(morris.analyze, problem, X, Y, num_levels=levels, conf_level=CONF, num_resamples=1000, seed=seed)
    return pd.DataFrame(
        {
            "outcome": name,
            "factor": problem["names"],
            "mu": np.asarray(Si["mu"], dtype=float),
            "mu_star": np.asarray(Si["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(Si["mu_star_conf"], dtype=float),
            "sigma": np.asarray(Si["sigma"], dtype=float),
        }
    )


PAWN_STATS = ["minimum", "mean", "median", "maximum", "CV", "stdev"]


def pawn_slices(n: int) -> int:
    """Conditioning slices for PAWN (`pawn`): about 10 points a slice, between 2 and 10 slices.

    SALib 1.6 builds the slice edges with np.arange(0, 1 + 1/S, 1/S), which overshoots 1 for
    S = 6 and 9 (and then fails); those counts are skipped."""
    want = max(2, n // 10)
    return next(s for s in (10, 8, 7, 5, 4, 3, 2) if s <= want)


def pawn(X: np.ndarray, Y: np.ndarray, S: int) -> np.ndarray:
    """SALib.analyze.pawn (SALib 1.5-1.6, ungrouped factors) written out: per factor (row), the
    PAWN_STATS of the KS distances between Y within each of S quantile slices of the factor and
    all of Y. The same numbers bit for bit (tests/test_analyze.py); SALib's module imports
    scipy.stats (about 1.2 s of CPU per `analyze` of a sampled design) for the KS statistic alone,
    which `ks_distance` gives. SALib also seeds numpy's global generator, which PAWN never draws
    from and nothing here reads."""
    D = X.shape[1]
    results = np.full((D, len(PAWN_STATS)), np.nan)
    by_slice = np.full((S, D), np.nan)
    step = 1 / S
    for d in range(D):
        x = X[:, d]
        edges = np.nanquantile(x, np.arange(0, 1 + step, step))
        for s in range(S):
            sel = Y[(x >= edges[s]) & (x < edges[s + 1])]
            if len(sel):
                by_slice[s, d] = ks_distance(sel, Y)
        k = by_slice[:, d]
        mean = np.nanmean(k)
        results[d, :] = [np.nanmin(k), mean, np.nanmedian(k), np.nanmax(k), np.nanstd(k) / mean, np.nanstd(k)]
    return results


def _pawn_sampled(problem: dict, X: np.ndarray, Y: np.ndarray, name: str) -> pd.DataFrame:
    indices = _quiet(pawn, X, Y, pawn_slices(len(Y)))
    data = {"outcome": name, "factor": problem["names"]}
    data.update({k: indices[:, j] for j, k in enumerate(PAWN_STATS)})
    return pd.DataFrame(data)


def _pawn_levels(frame: pd.DataFrame, labels: list[str], Y: np.ndarray, name: str) -> pd.DataFrame:
    """PAWN on a grid: KS distance between Y given each level of a factor and all Y, summarised over levels."""
    rows = []
    for label in labels:
        col = frame[label].astype(str).to_numpy()
        ks = []
        for level in pd.unique(col):
            sel = Y[col == level]
            if len(sel) and len(sel) < len(Y):
                ks.append(ks_distance(sel, Y))
        k = np.asarray(ks, dtype=float)
        if len(k) < 2:
            rows.append({"outcome": name, "factor": label, **{s: math.nan for s in PAWN_STATS}})
            continue
        rows.append(
            {
                "outcome": name,
                "factor": label,
                "minimum": k.min(),
                "mean": k.mean(),
                "median": float(np.median(k)),
                "maximum": k.max(),
                "CV": k.std() / k.mean() if k.mean() > 0 else math.nan,
                "stdev": k.std(),
            }
        )
    return pd.DataFrame(rows)


# ---- ranking -------------------------------------------------------------------------------
def _ranking(
    frame: pd.DataFrame,
    runs: pd.DataFrame,
    factors: list[dict],
    outcomes: Sequence[Outcome],
    design_type: str,
    seed: int,
    notes: list[str],
) -> pd.DataFrame:
    levers = [f["label"] for f in factors if f["role"] == "lever"]
    uncertain = [f["label"] for f in factors if f["role"] == "uncertainty"]
    table = frame.set_index("point")
    if uncertain and levers and design_type == "grid":
        keys = table[levers].astype(str).agg(" | ".join, axis=1) if len(levers) > 1 else table[levers[0]].astype(str)
        setting = {int(p): ", ".join(f"{lab}={table.at[p, lab]!s}" for lab in levers) for p in table.index}
        group_of = {int(p): keys[p] for p in table.index}
        notes.append(f"ranking: lever settings averaged over the uncertainty factors ({', '.join(uncertain)})")
    else:
        group_of = {int(p): str(p) for p in table.index}
        setting = {int(p): str(table.at[p, "name"]) for p in table.index}
        if uncertain and levers:
            notes.append(
                "ranking: every point on its own (lever settings are not repeated across uncertainty "
                "draws in a sampled design); intervals cover replications only"
            )
    runs = runs[runs["point"].isin(group_of)].copy()
    runs["_group"] = runs["point"].map(group_of)
    # mean and interval over all the setting's runs (its points x replications)
    rank = _summary(runs, "_group", outcomes).rename(columns={"n_reps": "runs"})
    first = runs.groupby("_group")["point"].min()
    rank.insert(0, "points", runs.groupby("_group")["point"].nunique())
    rank.insert(0, "setting", [setting[int(p)] for p in first.reindex(rank.index)])
    if design_type == "grid" and uncertain and levers:
        for j, lab in enumerate(levers):
            rank.insert(2 + j, lab, [table.at[int(p), lab] for p in first.reindex(rank.index)])
    else:
        pts = first.reindex(rank.index).astype(np.int64).to_numpy()
        rank.insert(2, "point", pts)
        for j, lab in enumerate([f["label"] for f in factors if f["label"] in table.columns]):
            rank.insert(3 + j, lab, table.loc[pts, lab].to_numpy())
    rank = rank.rename_axis("_group").reset_index()
    if rank.empty:
        return rank
    rank["p_best"] = _p_best(runs, list(rank["_group"]), seed)
    by = f"{RANK_BY}_mean"
    rank = rank.sort_values([by, "setting"], ascending=[False, True], na_position="last", kind="mergesort")
    rank.insert(0, "rank", np.arange(1, len(rank) + 1))
    rank["pareto"] = pareto_front(rank[f"{COST}_mean"].tolist(), rank[f"{VALUE}_mean"].tolist())
    return rank.drop(columns="_group").reset_index(drop=True)


def _p_best(runs: pd.DataFrame, groups: list[str], seed: int) -> np.ndarray:
    """Share of paired bootstrap resamples of the replications in which each setting has the highest mean."""
    reps = np.sort(runs["rep"].unique())
    if len(groups) < 2 or len(reps) < 2:
        return np.full(len(groups), math.nan)
    ratio = next((o.ratio_of for o in OUTCOMES if o.name == RANK_BY), None)
    if ratio and all(k in runs for k in ratio):
        # the ratio of sums, as ranked: Num[g, r] and Den[g, r], the setting's totals of replication r
        tot = runs.groupby(["_group", "rep"])[list(ratio)].sum()
        Num, Den = (tot[k].unstack("rep").reindex(index=groups, columns=reps).to_numpy(dtype=np.float64) for k in ratio)

        def estimate(d):
            den = np.nansum(Den[:, d], axis=1)
            return np.nansum(Num[:, d], axis=1) / np.where(den > 0, den, np.nan)
    else:
        # M[g, r]: the setting's mean over its points of replication r
        M = (
            runs.groupby(["_group", "rep"])[RANK_BY]
            .mean()
            .unstack("rep")
            .reindex(index=groups, columns=reps)
            .to_numpy(dtype=np.float64)
        )
        estimate = lambda d: np.nanmean(M[:, d], axis=1)  # noqa: E731
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(reps), size=(N_BOOT, len(reps)))
    wins = np.zeros(len(groups))
    for d in draws:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            means = estimate(d)
        if np.isfinite(means).any():
            wins[int(np.nanargmax(means))] += 1
    return wins / N_BOOT


# ---- the analysis --------------------------------------------------------------------------
def _factor_list(spec: dict) -> list[dict]:
    out = []
    for f in spec.get("factors") or []:
        keys = [f["key"]] if f.get("key") else list(f.get("keys") or [])
        out.append({"label": f.get("name") or "+".join(keys), "role": f.get("role", "lever"), "paths": keys})
    return out


def _sample_X(results_dir: Path, spec: dict, design: dict, frame: pd.DataFrame, notes: list[str]) -> np.ndarray | None:
    """The design's sample matrix: the store's file (experiment.json design.sample_matrix, e.g. design_X.npy),
    or else rebuilt from the spec (the design is reproducible bit for bit)."""
    stored = design.get("sample_matrix")
    if isinstance(stored, str) and (results_dir / stored).is_file():
        X = np.load(results_dir / stored, allow_pickle=False)
        if X.shape[0] == len(frame):
            return np.asarray(X, dtype=np.float64)
        notes.append(f"{stored} has {X.shape[0]} rows but design.parquet {len(frame)}: rebuilding X from the spec")
    from simulation.experiment.designs import sample_matrix
    from simulation.experiment.spec import Design, Factor

    try:
        factors = [Factor.model_validate(f) for f in spec.get("factors") or []]
        _, X = sample_matrix(Design.model_validate(spec["design"]), factors)
    except Exception as exc:  # a spec this version cannot rebuild: say so, skip what needs X
        notes.append(f"could not rebuild the sample matrix X from the spec ({type(exc).__name__}: {exc})")
        return None
    if len(X) != len(frame):
        notes.append(f"rebuilt sample matrix has {len(X)} rows but design.parquet {len(frame)}: X not used")
        return None
    for j, f in enumerate(factors):  # continuous factors must agree with the design table
        if (
            f.values is None
            and not f.integer
            and f.label in frame
            and not np.allclose(frame[f.label].to_numpy(dtype=np.float64), X[:, j], rtol=1e-12, atol=1e-12)
        ):
            notes.append("rebuilt sample matrix X disagrees with design.parquet: X not used")
            return None
    return X


def analysis_seed(design_seed: Any) -> int:
    """The seed of the analysis's resamples: the design seed itself when it fits numpy's legacy 32-bit
    seeding (which SALib's PAWN once took), else one derived from it, so that every design seed works."""
    seed = int(design_seed)
    if 0 <= seed < 2**32:
        return seed
    return int(np.random.SeedSequence(abs(seed)).generate_state(1, np.uint32)[0])


@dataclass
class Sample:
    """What a design's sensitivity analysis reads: the per-point outcome means and the design's sample.

    Built once by `analyze`, so each design type's analysis is a function of this alone."""

    results_dir: Path
    spec: dict
    design: dict
    frame: pd.DataFrame  # the design table, one row per point in point order
    points: pd.DataFrame  # frame plus each outcome's mean and interval
    outcomes: list[Outcome]  # the outcomes to analyse (some point has a value, not optional)
    labels: list[str]  # the factors' labels
    problem: dict | None  # the SALib problem of a sampled design
    seed: int  # the seed of the analysis's resamples
    notes: list[str]

    def Y(self, o: Outcome) -> np.ndarray:
        """The outcome's mean at every point (NaN where a point has no runs)."""
        return self.points[f"{o.name}_mean"].to_numpy(dtype=np.float64)

    def skipped(self, what: str, o: Outcome, Y: np.ndarray) -> None:
        """Note that an index needing every point was not computed for this outcome."""
        self.notes.append(f"{what} indices of {o.name} skipped: {int((~np.isfinite(Y)).sum())} points lack a value")

    def enough(self, Y: np.ndarray) -> bool:
        """PAWN needs at least four points with a value and some factor to condition on."""
        return bool(np.isfinite(Y).sum() >= 4 and self.labels)


@dataclass
class Sensitivity:
    """The sensitivity tables of one analysis, one frame per outcome in each list."""

    sobol: list[pd.DataFrame] = field(default_factory=list)
    sobol_s2: list[pd.DataFrame] = field(default_factory=list)
    morris: list[pd.DataFrame] = field(default_factory=list)
    pawn: list[pd.DataFrame] = field(default_factory=list)

    def store(self, a: Analysis) -> None:
        """Each table joined over the outcomes into the analysis (None when empty)."""
        for name in ("sobol", "sobol_s2", "morris", "pawn"):
            frames = getattr(self, name)
            setattr(a, name, pd.concat(frames, ignore_index=True) if frames else None)


def _pawn_on_sample(s: Sample, X: np.ndarray | None, o: Outcome, Y: np.ndarray, out: Sensitivity) -> None:
    """PAWN on a sampled design's matrix, over the points with a value."""
    ok = np.isfinite(Y)
    if s.enough(Y) and X is not None and s.problem:
        out.pawn.append(_pawn_sampled(s.problem, X[ok], Y[ok], o.name))


def sensitivity_grid(s: Sample) -> Sensitivity:
    """A grid has no sample matrix: PAWN conditioned on each level of each factor."""
    out = Sensitivity()
    for o in s.outcomes:
        Y = s.Y(o)
        ok = np.isfinite(Y)
        if s.enough(Y):
            out.pawn.append(_pawn_levels(s.points[ok], s.labels, Y[ok], o.name))
    return out


def sensitivity_lhs(s: Sample) -> Sensitivity:
    """A Latin hypercube: PAWN on its sample matrix."""
    out = Sensitivity()
    X = _sample_X(s.results_dir, s.spec, s.design, s.frame, s.notes) if s.problem else None
    for o in s.outcomes:
        _pawn_on_sample(s, X, o, s.Y(o), out)
    return out


def sensitivity_sobol(s: Sample) -> Sensitivity:
    """A Saltelli sample: Sobol indices (they need every point) and PAWN on its matrix."""
    out = Sensitivity()
    if not s.problem:
        return out
    X = _sample_X(s.results_dir, s.spec, s.design, s.frame, s.notes)
    second = bool((s.spec.get("design") or {}).get("second_order", False))
    for o in s.outcomes:
        Y = s.Y(o)
        if np.isfinite(Y).all():
            s1, s2 = _sobol(s.problem, Y, second, s.seed, o.name)
            out.sobol.append(s1)
            if s2 is not None:
                out.sobol_s2.append(s2)
        else:
            s.skipped("Sobol", o, Y)
        _pawn_on_sample(s, X, o, Y, out)
    return out


def sensitivity_morris(s: Sample) -> Sensitivity:
    """Morris trajectories: elementary effects (they need every point) and PAWN on the matrix."""
    out = Sensitivity()
    X = _sample_X(s.results_dir, s.spec, s.design, s.frame, s.notes) if s.problem else None
    for o in s.outcomes:
        Y = s.Y(o)
        if s.problem and X is not None:
            if np.isfinite(Y).all():
                levels = int((s.spec.get("design") or {}).get("levels", 4))
                out.morris.append(_morris(s.problem, X, Y, levels, s.seed, o.name))
            else:
                s.skipped("Morris", o, Y)
        _pawn_on_sample(s, X, o, Y, out)
    return out


def sensitivity_none(s: Sample) -> Sensitivity:
    """A list of named settings has no design to attribute variance to: ranking only."""
    return Sensitivity()


# the sensitivity analysis of each design type (experiment.spec.Design.type); others get none
SENSITIVITY: dict[str, Callable[[Sample], Sensitivity]] = {
    "grid": sensitivity_grid,
    "lhs": sensitivity_lhs,
    "sobol": sensitivity_sobol,
    "morris": sensitivity_morris,
    "list": sensitivity_none,
}


def _outcomes(metric_specs: Sequence[Outcome | str]) -> list[Outcome]:
    """The outcomes asked for, as `Outcome`s with distinct names."""
    outcomes = [m if isinstance(m, Outcome) else _outcome_from_text(m) for m in metric_specs]
    names = [o.name for o in outcomes]
    if len(set(names)) != len(names):
        raise ValueError(f"two outcomes share a name: {names}")
    return outcomes


def _note_lost_outcomes(rows: pd.DataFrame, outcomes: Sequence[Outcome], notes: list[str]) -> None:
    """Say which outcomes cannot be computed because the runs did not store their metrics."""
    present = {(m, g) for m, g in rows[["metric", "group"]].drop_duplicates().itertuples(index=False)}
    for o in outcomes:
        lost = [f"{m}:{g}" for m, g in o.needs if (m, g) not in present]
        if lost and not o.optional:
            notes.append(
                f"outcome {o.name} not computed: the runs do not hold {', '.join(lost)} (see the experiment's outputs:)"
            )


def _note_coverage(points: pd.DataFrame, notes: list[str]) -> None:
    """Say how many points have no runs yet and whether replications are uneven."""
    missing = int((points["n_reps"] == 0).sum())
    if missing:
        notes.append(f"{missing} of {len(points)} points have no runs yet")
    uneven = points.loc[points["n_reps"] > 0, "n_reps"]
    if len(uneven) and uneven.nunique() > 1:
        notes.append(f"points have between {uneven.min()} and {uneven.max()} replications")


def analyze(
    results_dir: Path | str, metric_specs: Sequence[Outcome | str] = OUTCOMES, years: tuple[int, int] | None = None
) -> Analysis:
    """Analyse a finished (or partly finished) sweep. `metric_specs` are outcomes: `Outcome`s, or
    "metric" / "metric:group" strings meaning the sum of that metric over the horizon."""
    results_dir = Path(results_dir)
    outcomes = _outcomes(metric_specs)
    names = [o.name for o in outcomes]
    meta = json.loads((results_dir / "experiment.json").read_text())
    spec = meta.get("spec") or {}
    design = meta.get("design") or {}
    dtype = design.get("type") or (spec.get("design") or {}).get("type", "grid")
    frame = pd.read_parquet(results_dir / "design.parquet").sort_values("point").reset_index(drop=True)
    factors = _factor_list(spec)
    notes: list[str] = []
    rows = _read_runs(results_dir / "runs", {x for o in outcomes for x in o.needs})
    _note_lost_outcomes(rows, outcomes, notes)
    rows = _map_shared_runs(rows, results_dir, frame, notes)
    runs = horizon_outcomes(rows, outcomes, years)
    points = frame.merge(_per_point(runs, outcomes), on="point", how="left")
    points["n_reps"] = points["n_reps"].fillna(0).astype(np.int64)
    n_reps = int(runs["rep"].nunique()) if len(runs) else 0
    a = Analysis(
        results_dir,
        str(spec.get("name", results_dir.name)),
        dtype,
        factors,
        outcomes,
        runs,
        points,
        notes=notes,
        n_points=len(frame),
        n_reps=n_reps,
    )
    _note_coverage(points, notes)

    seed = analysis_seed((spec.get("design") or {}).get("seed", 0))
    sample = Sample(
        results_dir,
        spec,
        design,
        frame,
        points,
        [o for o in outcomes if points[f"{o.name}_mean"].notna().any() and not o.optional],
        [f["label"] for f in factors],
        design.get("problem"),
        seed,
        notes,
    )
    SENSITIVITY.get(dtype, sensitivity_none)(sample).store(a)
    if RANK_BY in names and COST in names and VALUE in names and len(runs):
        a.ranking = _ranking(frame, runs, factors, outcomes, dtype, seed, notes)
        if a.ranking is not None and len(a.ranking) and n_reps < MIN_RANK_REPS:
            notes.append(unreliable(n_reps))
    else:
        notes.append(f"no ranking: it needs the outcomes {RANK_BY}, {COST} and {VALUE}")
    return a


def unreliable(n_reps: int) -> str:
    return (
        f"ranking: with {n_reps} replication{'s' if n_reps != 1 else ''} per setting its intervals are unreliable "
        f"(fewer than {MIN_RANK_REPS}); run more replications before reading the ranking"
    )


def _outcome_from_text(text: str) -> Outcome:
    metric, _, group = text.partition(":")
    group = group or "all"
    name = metric if group == "all" else f"{metric}:{group}"
    return Outcome(name, f"sum of {metric} ({group}) over the horizon", "", (metric, group))


# ---- output --------------------------------------------------------------------------------
def _fmt(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, (float, np.floating)):
        return f"{x:.{digits}g}"
    return str(x)


def _ci(m: Any, lo: Any, hi: Any) -> str:
    if not (isinstance(lo, float) and math.isfinite(lo)):
        return _fmt(m)
    return f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Aligned text columns: the first `left` columns flush left, the rest flush right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header)] + [line(r) for r in rows]


def _cut(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def format_analysis(a: Analysis, top: int = 15) -> str:
    """A readable text summary of an analysis."""
    out = [
        f"experiment {a.name}: {a.design_type} design, {a.n_points} points, {len(a.runs)} runs "
        f"({a.n_reps} replications)",
        "",
    ]
    out.append("outcomes (per run, over the horizon; means with 95 % intervals over replications):")
    for o in a.outcomes:
        col = a.points[f"{o.name}_mean"]
        out.append(f"  {o.name} [{o.unit}]: {o.description}; across points {_fmt(col.min())} .. {_fmt(col.max())}")
    if a.sobol is not None:
        out += ["", "Sobol indices (first order S1, total ST, 95 % bootstrap intervals):"]
        for name, grp in a.sobol.groupby("outcome", sort=False):
            out.append(f"  {name}")
            rows = [
                [
                    _cut(str(r.factor), 50),
                    f"{_fmt(r.S1, 3)} ± {_fmt(r.S1_conf, 2)}",
                    f"{_fmt(r.ST, 3)} ± {_fmt(r.ST_conf, 2)}",
                ]
                for r in grp.sort_values("ST", ascending=False).itertuples()
            ]
            out += ["    " + s for s in _table(["factor", "S1", "ST"], rows)]
    if a.sobol_s2 is not None:
        out += ["", "Sobol second-order indices (largest five per outcome):"]
        for name, grp in a.sobol_s2.groupby("outcome", sort=False):
            rows = [
                [_cut(f"{r.factor_a} x {r.factor_b}", 70), f"{_fmt(r.S2, 3)} ± {_fmt(r.S2_conf, 2)}"]
                for r in grp.sort_values("S2", ascending=False).head(5).itertuples()
            ]
            out.append(f"  {name}")
            out += ["    " + s for s in _table(["pair", "S2"], rows)]
    if a.morris is not None:
        out += ["", "Morris screening (mu* = mean |elementary effect| per unit of the factor's normalised range):"]
        for name, grp in a.morris.groupby("outcome", sort=False):
            out.append(f"  {name}")
            rows = [
                [_cut(str(r.factor), 50), f"{_fmt(r.mu_star)} ± {_fmt(r.mu_star_conf, 2)}", _fmt(r.mu), _fmt(r.sigma)]
                for r in grp.sort_values("mu_star", ascending=False).itertuples()
            ]
            out += ["    " + s for s in _table(["factor", "mu*", "mu", "sigma"], rows)]
    if a.pawn is not None:
        out += ["", "PAWN (KS distance of the outcome given the factor from its whole distribution; median, max):"]
        for name, grp in a.pawn.groupby("outcome", sort=False):
            out.append(f"  {name}")
            rows = [
                [_cut(str(r.factor), 50), _fmt(r.median, 3), _fmt(r.maximum, 3)]
                for r in grp.sort_values("median", ascending=False).itertuples()
            ]
            out += ["    " + s for s in _table(["factor", "median", "max"], rows)]
    if a.ranking is not None and len(a.ranking):
        r = a.ranking
        out += [
            "",
            f"ranking by value won per public KRW (top {min(top, len(r))} of {len(r)}; "
            "p_best = share of bootstrap resamples ranking it first; * = on the cost-value Pareto front):",
        ]
        value, vunit = value_shown(r)
        rows = [
            [
                str(x.rank),
                _cut(str(x.setting), 70) + (" *" if x.pareto else ""),
                _ci(getattr(x, f"{RANK_BY}_mean"), getattr(x, f"{RANK_BY}_ci_low"), getattr(x, f"{RANK_BY}_ci_high")),
                _fmt(getattr(x, f"{value}_mean")),
                _fmt(getattr(x, f"{COST}_mean")),
                _fmt(x.p_best, 2),
            ]
            for x in r.head(top).itertuples()
        ]
        out += [
            "  " + s
            for s in _table(
                ["#", "setting", "value/public KRW", f"value won ({vunit})", "public cost (KRW bn)", "p_best"],
                rows,
                left=2,
            )
        ]
        out.append(
            "  (value per public KRW: the setting's total value won in KRW over its total public cost, "
            "interval on the log scale)"
        )
        front = a.pareto
        assert front is not None  # a ranking always has its front
        n = len(front)
        out += ["", f"cost-value Pareto front ({n} setting{'' if n == 1 else 's'}, cheapest first):"]
        rows = [
            [_cut(str(x.setting), 70), _fmt(getattr(x, f"{COST}_mean")), _fmt(getattr(x, f"{value}_mean"))]
            for x in front.itertuples()
        ]
        out += ["  " + s for s in _table(["setting", "public cost (KRW bn)", f"value won ({vunit})"], rows)]
    if a.notes:
        out += ["", "notes:"] + [f"  - {n}" for n in a.notes]
    return "\n".join(out) + "\n"


def value_shown(table: pd.DataFrame) -> tuple[str, str]:
    """Value won in USD m (as every other table shows it) when the runs hold it, else in KRW bn."""
    col = f"{VALUE_USD}_mean"
    if col in table and np.isfinite(table[col].to_numpy(dtype=np.float64)).any():
        return VALUE_USD, "USD m"
    return VALUE, "KRW bn"


def analysis_tables(a: Analysis) -> dict[str, pd.DataFrame]:
    out = {"runs": a.runs, "points": a.points}
    for name in ("sobol", "sobol_s2", "morris", "pawn", "ranking"):
        t = getattr(a, name)
        if t is not None:
            out[name] = t
    if a.ranking is not None and a.pareto is not None:
        out["pareto"] = a.pareto
    return out


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    for col in f.columns:
        if f[col].dtype == object:
            f[col] = f[col].map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v, default=str))
    return f


def write_analysis(a: Analysis, out_dir: Path | str | None = None) -> Path:
    """Write every table as CSV and Parquet plus summary.txt to out_dir (default results_dir/analysis),
    replacing an earlier analysis whole (see atomic.publish_dir: safe with a reader or a second writer)."""
    out_dir = Path(out_dir) if out_dir is not None else a.results_dir / "analysis"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_temporaries(out_dir.parent, prefix=out_dir.name)
    tmp = new_temp_dir(out_dir)
    try:
        for name, t in analysis_tables(a).items():
            t.to_csv(tmp / f"{name}.csv", index=False)
            _parquet_safe(t).to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "summary.txt").write_text(format_analysis(a))
        publish_dir(tmp, out_dir)
    finally:
        remove(tmp)
    return out_dir

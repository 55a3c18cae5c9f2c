"""Which uncertain parameters drive the uncertainty of a compared effect.

A `compare --parameter-sets` folder holds every scenario run under each parameter set of the
ensemble with the same seeds. Per set, the effect (scenario − baseline, mean over the set's
replications) is one draw of what the ensemble does not know; the rank correlation (Spearman)
between each parameter that varies over the sets and the effect says which unknowns move it, and
the share of the effect's variance over sets that each explains alone (rho squared) how much. With
tens of sets and tens of parameters this is a screen, not a decomposition: a |rho| below about
2/sqrt(sets) is within noise, and a parameter can matter jointly without showing alone.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from scipy import stats

from simulation.analysis.compare import per_run
from simulation.scenario.errors import InputError

METRICS = ("value_won_usd_m", "public_cost_krw_bn")


def drivers(table: pd.DataFrame, baseline: str, sets: list[dict], runs_per_set: int) -> pd.DataFrame:
    """One row per scenario, metric and varying parameter: Spearman rho with the per-set effect."""
    runs = per_run(table)
    runs = runs[(runs["period"] == "all") & runs["metric"].isin(METRICS)].copy()
    runs["scenario"] = runs["scenario"].astype(str)
    runs["set"] = runs["run"] // runs_per_set
    mean = runs.groupby(["scenario", "metric", "set"], observed=True)["value"].mean()
    keys = sorted({k for s in sets for k in s})
    values = pd.DataFrame([{k: s.get(k, math.nan) for k in keys} for s in sets])
    varying = [k for k in keys if values[k].nunique(dropna=True) > 1]
    rows = []
    for name in dict.fromkeys(runs["scenario"]):
        if name == baseline:
            continue
        for metric in METRICS:
            effect = (mean.loc[(name, metric)] - mean.loc[(baseline, metric)]).reindex(range(len(sets)))
            if effect.isna().any() or effect.nunique() < 2:
                continue
            for k in varying:
                rho = float(stats.spearmanr(values[k], effect.to_numpy()).statistic)
                rows.append(
                    {
                        "scenario": name,
                        "metric": metric,
                        "parameter": k,
                        "rho": rho,
                        "variance_share": rho * rho,
                        "sets": len(sets),
                        "effect_sd_over_sets": float(effect.std(ddof=1)),
                    }
                )
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["scenario", "metric", "variance_share"], ascending=[True, True, False])
    return out.reset_index(drop=True)


def compare_drivers(folder: Path) -> pd.DataFrame:
    """The drivers of a `compare --parameter-sets` results folder."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("not a results folder (no readable manifest.json)", str(folder)) from None
    psets = manifest.get("parameter_sets") if isinstance(manifest, dict) else None
    if not psets or not manifest.get("baseline"):
        raise InputError(
            "a compare folder without parameter sets: rerun `scsim compare ... --parameter-sets FILE` "
            "to learn which parameters drive the effects",
            str(folder),
        )
    table = pd.read_parquet(folder / "yearly.parquet")
    return drivers(table, manifest["baseline"], psets["sets"], int(psets["runs_per_set"]))


def format_drivers(d: pd.DataFrame, top: int = 8) -> str:
    if d.empty:
        return "no parameter varies over the sets, or no effect does: nothing drives the uncertainty"
    lines = []
    for (name, metric), g in d.groupby(["scenario", "metric"], sort=False):
        n = int(g["sets"].iloc[0])
        noise = 2.0 / math.sqrt(n)
        lines.append(
            f"{name}: what drives the uncertainty of the {str(metric).replace('_', ' ')} effect over {n} parameter "
            f"sets (sd over sets {g['effect_sd_over_sets'].iloc[0]:,.3g}; |rho| below {noise:.2f} is noise):"
        )
        for _, r in g.head(top).iterrows():
            flag = "" if abs(r["rho"]) >= noise else "  (within noise)"
            lines.append(
                f"  {r['parameter']:<52} rho {r['rho']:+.2f}  alone explains {r['variance_share'] * 100:4.0f} %{flag}"
            )
    return "\n".join(lines)

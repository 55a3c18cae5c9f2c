"""Which uncertain parameters drive the uncertainty of a compared effect, or of a validation check.

A `compare --parameter-sets` folder holds every scenario run under each parameter set of the
ensemble with the same seeds. Per set, the effect (scenario − baseline, mean over the set's
replications) is one draw of what the ensemble does not know; the rank correlation (Spearman)
between each parameter that varies over the sets and the effect says which unknowns move it, and
the share of the effect's variance over sets that each explains alone (rho squared) how much. With
tens of sets and tens of parameters this is a screen, not a decomposition: one of 59 parameters
reaches |rho| 0.23 over 75 sets by chance about three times in each screen, so "beyond noise" is
the bound chance crosses in one screen of twenty (two-sided 5 %, Bonferroni over the parameters
screened: 0.39 for 59 parameters and 75 sets), and a parameter can matter jointly without showing
alone.

A `validate-model --parameter-sets` folder holds each check's estimate under each set
(`over_sets`): the same screen says what a verdict over the sets rests on, so that a check that is
inconclusive there is inconclusive for a stated reason.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from simulation.analysis.compare import per_run
from simulation.analysis.stats import normal_quantile
from simulation.scenario.errors import InputError

METRICS = ("value_won_usd_m", "public_cost_krw_bn")


def noise_bound(sets: int, parameters: int = 1) -> float:
    """|rho| that chance alone reaches in one screen of twenty, over this many sets, with this many
    parameters screened (two-sided 5 %, Bonferroni; the normal approximation of rho under no link)."""
    return float(normal_quantile(1.0 - 0.025 / max(parameters, 1))) / math.sqrt(max(sets - 1, 1))


def rank_drivers(per_set: pd.Series, sets: list[dict]) -> list[dict]:
    """Spearman rho of one outcome (indexed by set number) with each parameter that varies over the
    sets, most explaining first; nothing when the outcome is missing in a set or does not vary."""
    outcome = per_set.reindex(range(len(sets)))
    if outcome.isna().any() or outcome.nunique() < 2:
        return []
    keys = sorted({k for s in sets for k in s})
    values = pd.DataFrame([{k: s.get(k, math.nan) for k in keys} for s in sets])
    varying = [k for k in keys if not values[k].isna().any() and values[k].nunique() > 1]
    from scipy.stats import spearmanr  # here: scipy.stats takes a second to import

    sd = float(outcome.std(ddof=1))
    rows = []
    for k in varying:
        rho = float(spearmanr(values[k], outcome.to_numpy()).statistic)
        rows.append(
            {
                "parameter": k,
                "rho": rho,
                "variance_share": rho * rho,
                "sets": len(sets),
                "parameters": len(varying),
                "effect_sd_over_sets": sd,
            }
        )
    return sorted(rows, key=lambda r: -r["variance_share"])


def _bound(d: pd.DataFrame) -> float:
    return noise_bound(int(d["sets"].iloc[0]), int(d["parameters"].iloc[0]))


def drivers(table: pd.DataFrame, baseline: str, sets: list[dict], runs_per_set: int) -> pd.DataFrame:
    """One row per scenario, metric and varying parameter: Spearman rho with the per-set effect."""
    runs = per_run(table)
    runs = runs[(runs["period"] == "all") & runs["metric"].isin(METRICS)].copy()
    runs["scenario"] = runs["scenario"].astype(str)
    runs["set"] = runs["run"] // runs_per_set
    mean = runs.groupby(["scenario", "metric", "set"], observed=True)["value"].mean()
    rows = []
    for name in dict.fromkeys(runs["scenario"]):
        if name == baseline:
            continue
        for metric in METRICS:
            effect = mean.loc[(name, metric)] - mean.loc[(baseline, metric)]
            rows += [{"scenario": name, "metric": metric, **r} for r in rank_drivers(effect, sets)]
    return pd.DataFrame(rows)


def check_drivers(over_sets: pd.DataFrame, sets: list[dict]) -> pd.DataFrame:
    """One row per validation check and varying parameter: Spearman rho with the check's estimate
    over the sets (`over_sets`: set, check, estimate), the checks in their order."""
    rows = []
    for check, g in over_sets.groupby("check", sort=False):
        rows += [{"check": check, **r} for r in rank_drivers(g.set_index("set")["estimate"], sets)]
    return pd.DataFrame(rows)


def stated_drivers(d: pd.DataFrame, noise_share: float = math.nan, top: int = 3) -> str:
    """What one check's (or effect's) spread over the sets rests on, as one line: the parameters
    beyond noise, or that none is; and how much of the spread's variance replication noise alone
    gives (`noise_share`, when known), because a spread that is mostly noise is not a parameter's."""
    known = math.isfinite(noise_share)
    noise = f"; replication noise {noise_share * 100:.0f} % of its variance" if known else ""
    if d.empty:
        return "no parameter varies over the sets, or the estimate does not (or is missing in a set)" + noise
    bound = _bound(d)
    strong = d[d["rho"].abs() >= bound].head(top)
    if len(strong):
        return "moves with " + ", ".join(f"{r['parameter']} {r['rho']:+.2f}" for _, r in strong.iterrows()) + noise
    head = f"no one parameter beyond noise (|rho| < {bound:.2f}, {int(d['parameters'].iloc[0])} screened)"
    if known and noise_share >= 0.5:
        return head + noise + ": the parameters barely move it"
    return head + ": many small effects together" + noise


def replication_noise_share(check: pd.Series, over: pd.Series) -> float:
    """The share of a check's variance over the sets that replication noise alone gives: as
    `validate-model` measured it from each set's own replications (`sets_noise_share`), or, in a
    folder written before it did, the point's CI half-width as a standard error, scaled from the
    point's replications to a set's."""
    if "sets_noise_share" in check.index:  # NaN: a set of one replication measures no noise
        return float(check["sets_noise_share"])
    try:
        se = (float(check["ci_high"]) - float(check["ci_low"])) / (2 * 1.96)
        scale = math.sqrt(float(check["replications"]) / float(check["set_replications"]))
    except (KeyError, TypeError, ValueError):
        return math.nan
    var = float(over.var(ddof=1)) if len(over) > 1 else math.nan
    if not (math.isfinite(se) and math.isfinite(var)) or var <= 0:
        return math.nan
    return (se * scale) ** 2 / var


def verdict_reasons(checks: pd.DataFrame, over_sets: pd.DataFrame, d: pd.DataFrame) -> dict[str, str]:
    """Each check's stated reason for its verdict over the sets: what its spread rests on, from its
    drivers (`check_drivers`)."""
    out = {}
    for _, row in checks.iterrows():
        name = row["check"]
        mine = d[d["check"] == name] if len(d) else d
        est = over_sets.loc[over_sets["check"] == name, "estimate"]
        out[name] = stated_drivers(mine, replication_noise_share(row, est))
    return out


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("not a results folder (no readable manifest.json)", str(folder)) from None
    if not isinstance(manifest, dict):
        raise InputError("not a results folder (manifest.json is not a mapping)", str(folder))
    return manifest


def compare_drivers(folder: Path) -> pd.DataFrame:
    """The drivers of a `compare --parameter-sets` results folder."""
    manifest = _manifest(folder)
    psets = manifest.get("parameter_sets")
    if not psets or not manifest.get("baseline"):
        raise InputError(
            "a compare folder without parameter sets: rerun `scsim compare ... --parameter-sets FILE` "
            "to learn which parameters drive the effects",
            str(folder),
        )
    table = pd.read_parquet(folder / "yearly.parquet")
    return drivers(table, manifest["baseline"], psets["sets"], int(psets["runs_per_set"]))


def validation_sets(folder: Path, manifest: dict) -> list[dict]:
    """The parameter sets a validation folder was read under: stored in its manifest, or (folders
    written before they were) read again from the file it names, if that file is unchanged."""
    psets = manifest.get("parameter_sets") or {}
    if isinstance(psets.get("values"), list):
        return psets["values"]
    from simulation.experiment.parameter_sets import load_parameter_sets

    try:
        again = load_parameter_sets(str(psets.get("file")))
    except InputError:
        again = None
    if again is None or again.hash != psets.get("hash"):
        raise InputError(
            f"the parameter sets of this folder are not stored in it, and {psets.get('file')} is missing "
            "or has changed since: rerun `scsim validate-model ... --parameter-sets FILE --force`",
            str(folder),
        )
    return again.sets


def validation_drivers(folder: Path) -> pd.DataFrame:
    """The drivers of a `validate-model --parameter-sets` results folder."""
    manifest = _manifest(folder)
    if manifest.get("kind") != "validate-model" or not manifest.get("parameter_sets"):
        raise InputError(
            "a validation folder without parameter sets: rerun `scsim validate-model --parameter-sets FILE` "
            "to learn which parameters its verdicts rest on",
            str(folder),
        )
    return check_drivers(pd.read_parquet(folder / "over_sets.parquet"), validation_sets(folder, manifest))


def folder_drivers(folder: Path) -> pd.DataFrame | None:
    """The drivers of a results folder that has them (a validation folder with parameter sets, or a
    compare folder); None for any other folder (a sweep's is analysed by `analyze`)."""
    if not folder.is_dir() or (folder / "experiment.json").exists():
        return None
    if (folder / "over_sets.parquet").exists():
        return validation_drivers(folder)
    if (folder / "differences.parquet").exists():
        return compare_drivers(folder)
    return None


def with_reasons(folder: Path, checks: pd.DataFrame) -> pd.DataFrame:
    """A validation folder written before verdicts over the sets carried their reasons gets them,
    for showing (the folder is not rewritten); any other table is returned as it is."""
    if "sets_verdict" not in checks or "sets_reason" in checks or not (folder / "over_sets.parquet").exists():
        return checks
    try:
        over = pd.read_parquet(folder / "over_sets.parquet")
        reasons = verdict_reasons(checks, over, check_drivers(over, validation_sets(folder, _manifest(folder))))
    except (InputError, OSError, ValueError):
        return checks
    return checks.assign(sets_reason=checks["check"].map(reasons))


def format_drivers(d: pd.DataFrame, top: int = 8) -> str:
    if d.empty:
        return "no parameter varies over the sets, or no effect does: nothing drives the uncertainty"
    lines = []
    by = ["check"] if "check" in d else ["scenario", "metric"]
    for key, g in d.groupby(by, sort=False):
        n = int(g["sets"].iloc[0])
        noise, m = _bound(g), int(g["parameters"].iloc[0])
        what = (
            f"{key[0]}: what its estimate over {n} parameter sets moves with"
            if by == ["check"]
            else f"{key[0]}: what drives the uncertainty of the {str(key[1]).replace('_', ' ')} effect over {n} parameter sets"
        )
        lines.append(
            f"{what} (sd over sets {g['effect_sd_over_sets'].iloc[0]:,.3g}; |rho| below {noise:.2f} is noise: chance "
            f"reaches it for one of {m} parameters in one screen of twenty):"
        )
        for _, r in g.head(top).iterrows():
            flag = "" if abs(r["rho"]) >= noise else "  (within noise)"
            lines.append(
                f"  {r['parameter']:<52} rho {r['rho']:+.2f}  alone explains {r['variance_share'] * 100:4.0f} %{flag}"
            )
    return "\n".join(lines)

"""Reading a results folder for figures and the report, refusing folders it cannot read.

Three kinds of folder are read:

- `run`:     manifest.json, yearly.parquet, summary.csv                (written by `scsim run`)
- `compare`: the same plus differences.parquet and a `baseline`      (written by `scsim compare`)
- `sweep`:   experiment.json, design.parquet, runs/, analysis/       (written by `scsim sweep` / `analyze`)

A missing, empty or unreadable folder, or one from an older or unknown format, raises
`InputError` with one sentence saying what is wrong (the CLI prints it and exits with status 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.analyze import mean_ci
from simulation.scenario.errors import InputError

RUN_FORMAT = 1  # the `format` written into run/compare manifests
SWEEP_FORMAT = 3  # simulation.experiment.store.FORMAT (tests/test_sweep.py checks they agree)
TIDY = ["run", "scenario", "seed", "year", "metric", "group", "value"]
DIFF_COLUMNS = [
    "scenario",
    "baseline",
    "metric",
    "period",
    "baseline_mean",
    "scenario_mean",
    "difference",
    "ci_low",
    "ci_high",
    "pairs",
    "straddles_zero",
]
ANALYSIS_TABLES = ("points", "ranking", "pareto", "sobol", "sobol_s2", "morris", "pawn")
RERUN = "re-run the command that made it (see its manifest) with this version of scsim"


@dataclass
class Results:
    """What a results folder holds, as tables. Absent parts are None (or empty)."""

    folder: Path
    kind: str  # "run", "compare" or "sweep"
    manifest: dict[str, Any]  # manifest.json, or experiment.json for a sweep
    scenarios: list[str]  # in the order they were given
    yearly: pd.DataFrame | None = None  # tidy: run, scenario, seed, year, metric, group, value
    summary: pd.DataFrame | None = None  # summary.csv
    differences: pd.DataFrame | None = None  # differences.parquet
    analysis: dict[str, pd.DataFrame] = field(default_factory=dict)  # sweep: analysis tables
    notes: list[str] = field(default_factory=list)

    @property
    def baseline(self) -> str | None:
        return self.manifest.get("baseline") if self.kind == "compare" else None

    @property
    def replications(self) -> int:
        return int(self.manifest.get("replications") or 0)

    @property
    def parameter_sets(self) -> int | None:
        """How many parameter sets every scenario ran under (`compare --parameter-sets`), else None."""
        psets = self.manifest.get("parameter_sets") if self.kind != "sweep" else None
        return len(psets.get("sets") or []) or None if isinstance(psets, dict) else None

    @property
    def runs_text(self) -> str:
        """What every mean is over, as the CLI says it: "20 replications × 10 parameter sets"."""
        from simulation.experiment.wording import replications_text

        return replications_text(self.replications, self.parameter_sets)

    @property
    def overrides(self) -> list[str]:
        """The `--set` overrides applied to every scenario (older folders: read from the command)."""
        got = self.manifest.get("overrides")
        if isinstance(got, list):
            return [str(x) for x in got]
        import shlex

        try:
            argv = shlex.split(str(self.manifest.get("command", "")))
        except ValueError:
            return []
        return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--set"]

    @property
    def lever_notes(self) -> list[str]:
        """Levers set in a scenario that cannot act there (written by run/compare)."""
        return [str(x) for x in self.manifest.get("notes") or []]


def _bad(folder: Path, message: str) -> InputError:
    return InputError(message, str(folder))


def _read_json(folder: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _bad(folder, f"cannot read {name}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise _bad(folder, f"{name} is not valid JSON ({exc}); the folder is damaged or not from scsim") from None
    if not isinstance(data, dict):
        raise _bad(folder, f"{name} is not a JSON object; the folder is not from scsim")
    return data


def _read_table(folder: Path, name: str, columns: list[str]) -> pd.DataFrame:
    """name.parquet, else name.csv; refuse one that is missing, unreadable or without the expected columns."""
    problem = f"no {name}.parquet or {name}.csv"
    for ext in ("parquet", "csv"):
        path = folder / f"{name}.{ext}"
        if not path.is_file():
            continue
        try:
            frame = pd.read_parquet(path) if ext == "parquet" else pd.read_csv(path)
        except Exception as exc:  # a damaged file: try its CSV twin, then give up
            problem = f"{path.name} cannot be read ({type(exc).__name__})"
            continue
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise _bad(
                folder, f"{path.name} lacks the columns {', '.join(missing)}: an older or unknown format; {RERUN}"
            )
        return frame
    raise _bad(folder, f"{problem}; {RERUN}")


def _check_format(folder: Path, manifest: dict[str, Any], name: str, known: int) -> None:
    fmt = manifest.get("format")
    if fmt is None:
        return
    if not isinstance(fmt, int) or fmt > known:
        raise _bad(
            folder, f"{name} says format {fmt!r}, but this scsim reads format {known} or older; update scsim to read it"
        )


def load_results(folder: Path | str) -> Results:
    """Read a run, compare or sweep results folder, or raise InputError saying why not."""
    folder = Path(folder)
    if not folder.exists():
        raise _bad(folder, "no such results folder")
    if not folder.is_dir():
        raise _bad(folder, "not a folder; give a results folder written by scsim run, compare or sweep")
    try:
        empty = not any(folder.iterdir())
    except OSError as exc:
        raise _bad(folder, f"cannot read the folder: {exc.strerror or exc}") from None
    if empty:
        raise _bad(folder, "the results folder is empty; run `scsim compare`, `run` or `sweep` to fill it")
    if (folder / "manifest.json").is_file():
        return _load_batch(folder)
    if (folder / "experiment.json").is_file():
        return _load_sweep(folder)
    raise _bad(folder, "not a results folder of scsim (no manifest.json or experiment.json)")


def _load_batch(folder: Path) -> Results:
    m = _read_json(folder, "manifest.json")
    _check_format(folder, m, "manifest.json", RUN_FORMAT)
    lost = [k for k in ("scenarios", "seeds", "replications", "command", "versions") if k not in m]
    scen = m.get("scenarios")
    if not lost and (
        not isinstance(scen, list)
        or not scen
        or not all(isinstance(s, dict) and {"name", "resolved", "provenance"} <= set(s) for s in scen)
    ):
        lost.append("scenarios[].name/resolved/provenance")
    if lost:
        raise _bad(folder, f"manifest.json lacks {', '.join(lost)}: an older or unknown format; {RERUN}")
    yearly = _read_table(folder, "yearly", TIDY)
    summary = _read_table(folder, "summary", ["scenario", "year", "bids", "wins", "win_rate", "value_won_usd_m"])
    for frame in (yearly, summary):
        frame["scenario"] = frame["scenario"].astype(str)
    if yearly.empty:
        raise _bad(folder, "yearly table is empty: the folder holds no runs")
    for col in ("metric", "group"):
        yearly[col] = yearly[col].astype(str)
    names = [str(s["name"]) for s in scen]
    base = m.get("baseline")
    if base in names:  # the baseline's column first, then the others in the order given
        names = [base] + [n for n in names if n != base]
    res = Results(folder, "run", m, names, yearly=yearly, summary=summary)
    if m.get("baseline") is not None:
        res.kind = "compare"
        diff = _read_table(folder, "differences", DIFF_COLUMNS)
        for col in ("scenario", "baseline", "metric", "period"):
            diff[col] = diff[col].astype(str)
        res.differences = diff
    return res


def _load_sweep(folder: Path) -> Results:
    m = _read_json(folder, "experiment.json")
    if "format" not in m or "experiment_hash" not in m:
        raise _bad(folder, f"experiment.json has no format or experiment_hash: an older or unknown format; {RERUN}")
    _check_format(folder, m, "experiment.json", SWEEP_FORMAT)
    if not (folder / "design.parquet").is_file():
        raise _bad(folder, "design.parquet is missing: not a complete sweep folder")
    res = Results(folder, "sweep", m, [str(m.get("experiment") or folder.name)])
    adir = folder / "analysis"
    if adir.is_dir() and (adir / "points.parquet").is_file():
        for name in ANALYSIS_TABLES:
            path = adir / f"{name}.parquet"
            if path.is_file():
                try:
                    res.analysis[name] = pd.read_parquet(path)
                except Exception as exc:
                    raise _bad(
                        folder,
                        f"analysis/{name}.parquet cannot be read ({type(exc).__name__}); "
                        f"run `scsim analyze {folder}` again",
                    ) from None
        return res
    if not any((folder / "runs").glob("*.parquet")):
        raise _bad(folder, "the sweep has no finished runs yet; run `scsim sweep` first")
    from simulation.analysis.analyze import (  # the folder has runs but no analysis: compute it here
        analysis_tables,
        analyze,
    )

    try:
        a = analyze(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise _bad(folder, f"cannot analyse the sweep ({type(exc).__name__}: {exc})") from None
    res.analysis = {k: v for k, v in analysis_tables(a).items() if k in ANALYSIS_TABLES}
    res.notes.append("analysis computed for this report (not written; `scsim analyze` writes it)")
    return res


# ---- statistics shared by the figures ---------------------------------------------------------
def t_interval(values: np.ndarray, conf: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and t-interval of the finite values: the same interval as `scsim analyze` reports."""
    return mean_ci(values, conf)


def yearly_stats(res: Results, metric: str, group: str = "all") -> pd.DataFrame:
    """Per scenario and year: mean over replications with its 95 % t-interval (columns mean, lo, hi, n)."""
    t = res.yearly
    sel = t[(t["metric"] == metric) & (t["group"] == group)]
    rows = [
        {
            "scenario": s,
            "year": int(y),
            **dict(zip(("mean", "lo", "hi", "n"), t_interval(g["value"].to_numpy()), strict=True)),
        }
        for (s, y), g in sel.groupby(["scenario", "year"], sort=True)
    ]
    return pd.DataFrame(rows, columns=["scenario", "year", "mean", "lo", "hi", "n"])


def horizon_stats(res: Results, metric: str, groups: list[str]) -> pd.DataFrame:
    """Per scenario and group: the horizon sum of `metric` per run, mean over runs with a 95 % t-interval."""
    t = res.yearly
    sel = t[(t["metric"] == metric) & t["group"].isin(groups)]
    per_run = sel.groupby(["scenario", "group", "run"])["value"].sum(min_count=1)
    rows = [
        {"scenario": s, "group": g, **dict(zip(("mean", "lo", "hi", "n"), t_interval(v.to_numpy()), strict=True))}
        for (s, g), v in per_run.groupby(level=[0, 1])
    ]
    return pd.DataFrame(rows, columns=["scenario", "group", "mean", "lo", "hi", "n"])


def resolved_value(res: Results, scenario: str, path: str) -> Any:
    """A parameter of a scenario as resolved in the manifest (None if absent)."""
    for s in res.manifest.get("scenarios") or []:
        if s.get("name") == scenario:
            node: Any = s.get("resolved")
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    return None
                node = node[part]
            return node
    return None

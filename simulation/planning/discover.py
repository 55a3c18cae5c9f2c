"""`scsim discover`: under which conditions does an outcome fall below (or rise above) a threshold?

PRIM (Friedman & Fisher 1999) as EMA Workbench implements it (`ema_workbench.analysis.prim`):
starting from the whole ensemble, it peels off thin slices of one uncertain input at a time,
keeping the box where the failures are densest, and records every box on the way (the peeling
trajectory): its coverage (the share of all failures inside the box), its density (the share of
worlds in the box that fail) and its mass (the share of worlds in it). The box shown is the one
with the most coverage among those at least `threshold` dense, so it names a region a planner can
watch ("foreign bidders above 4.6 a tender and discovery odds below 0.005"), not a single point.

The worlds are the ensemble members of a robustness or optimize folder (their uncertain inputs:
the parameter sets' values and the LHS draws) with one policy's outcome pooled over replications,
the points of a sweep folder with their factor values, or any table (CSV or Parquet) of inputs and
an outcome column.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, Strict, ValidationError, model_validator

from simulation.planning.spec import OUTCOMES, Spec
from simulation.scenario.errors import InputError

RESULTS = "discovery"


class DiscoverSpec(Spec):
    """What counts as failing, and how PRIM peels (a discover file, or the command's options)."""

    name: str = "discover"
    description: str = ""
    outcome: str = "value_per_public_krw"
    below: Annotated[float, Strict(), Field(allow_inf_nan=False)] | None = None
    above: Annotated[float, Strict(), Field(allow_inf_nan=False)] | None = None
    policy: str | None = None
    threshold: Annotated[float, Strict(), Field(gt=0, le=1)] = 0.8
    peel_alpha: Annotated[float, Strict(), Field(gt=0, lt=0.5)] = 0.05
    mass_min: Annotated[float, Strict(), Field(ge=0, lt=1)] = 0.05
    inputs: list[str] | None = None

    @model_validator(mode="after")
    def _check(self) -> DiscoverSpec:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of `below:` or `above:` (the outcome's threshold)")
        return self


@dataclass
class Discovery:
    """The chosen box and the trajectory it was chosen from."""

    spec: DiscoverSpec
    limits: pd.DataFrame  # input, low, high, data_low, data_high, restricted
    coverage: float
    density: float
    mass: float
    box_index: int
    trajectory: pd.DataFrame  # id, coverage, density, mass, res_dim
    n: int
    failures: int
    source: str
    policy: str | None = None
    notes: list[str] = field(default_factory=list)

    def restricted(self) -> pd.DataFrame:
        return self.limits[self.limits["restricted"]]

    def words(self) -> str:
        """The box as a sentence in the planner's words."""
        s = self.spec
        rule = f"below {s.below:g}" if s.below is not None else f"above {s.above:g}"
        label = OUTCOMES.get(s.outcome, (s.outcome.replace("_", " "),))[0]
        who = f"{self.policy}: " if self.policy else ""
        conds = [range_text(r) for _, r in self.restricted().iterrows()]
        where = "where " + " and ".join(conds) if conds else "of the whole ensemble (no input narrows it down)"
        return (
            f"{who}{label} falls {rule} in {self.density * 100:.0f} % of the worlds {where}; "
            f"those worlds hold {self.coverage * 100:.0f} % of all {self.failures} failures of the "
            f"{self.n} worlds and are {self.mass * 100:.0f} % of the ensemble"
        )


def range_text(r: pd.Series) -> str:
    """`name between a and b`, `name below b` or `name above a` for one restricted input."""
    lo_cut = r["low"] > r["data_low"]
    hi_cut = r["high"] < r["data_high"]
    if lo_cut and hi_cut:
        return f"{r['input']} is between {r['low']:.4g} and {r['high']:.4g}"
    if hi_cut:
        return f"{r['input']} is below {r['high']:.4g}"
    return f"{r['input']} is above {r['low']:.4g}"


def prim_box(X: pd.DataFrame, y: np.ndarray, spec: DiscoverSpec) -> tuple[pd.DataFrame, pd.DataFrame, int, list[str]]:
    """PRIM on numeric inputs X and failures y: (limits, trajectory, chosen box index, notes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import logging

        from ema_workbench.analysis import prim

        logging.getLogger("EMA").setLevel(logging.ERROR)
        p = prim.Prim(
            X, np.asarray(y, dtype=bool), threshold=spec.threshold, peel_alpha=spec.peel_alpha, mass_min=spec.mass_min
        )
        box = p.find_box()
    traj = box.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim"]].reset_index(drop=True)
    notes = []
    dense = traj[traj["density"] >= spec.threshold]
    if len(dense):
        i = int(dense.sort_values(["coverage", "density", "id"], ascending=[False, False, True]).iloc[0]["id"])
    else:
        i = int(traj.sort_values(["density", "coverage"], ascending=[False, False]).iloc[0]["id"])
        notes.append(f"no box reaches a density of {spec.threshold:g}; the densest box is shown")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box.select(i)
    lim = box.box_lim[0] if isinstance(box.box_lim, list) else box.box_lim
    rows = []
    for col in X.columns:
        lo, hi = float(lim[col].iloc[0]), float(lim[col].iloc[1])
        dlo, dhi = float(X[col].min()), float(X[col].max())
        rows.append(
            {
                "input": col,
                "low": lo,
                "high": hi,
                "data_low": dlo,
                "data_high": dhi,
                "restricted": bool(lo > dlo or hi < dhi),
            }
        )
    return pd.DataFrame(rows), traj, i, notes


def worlds(folder: Path, spec: DiscoverSpec) -> tuple[pd.DataFrame, np.ndarray, str | None, str]:
    """(inputs X, outcome per world, policy, what the worlds are) of a results folder or a table."""
    if folder.is_file():
        return _table(folder, spec)
    from simulation.experiment.store import Store
    from simulation.planning.outcomes import member_table, run_totals

    store = Store.open(folder)
    man = store.manifest
    design = store.design()
    planning = man.get("planning") or {}
    rows = store.read_dataset()
    if rows.empty:
        raise InputError("no finished runs in this results folder", str(folder))
    totals = run_totals(rows)
    years = _years(man)
    if spec.outcome not in OUTCOMES:
        raise InputError(
            f"unknown outcome {spec.outcome!r}; expected one of {', '.join(OUTCOMES)}", None, None, "outcome"
        )
    if planning:
        policy = spec.policy or ("plan" if planning.get("kind") == "optimize" else str(design["policy"].iloc[0]))
        if planning.get("kind") == "optimize":
            keep = (
                design[design["candidate"] == 0]
                if policy == "plan"
                else design[design["name"].str.startswith(f"{policy}/")]
            )
        else:
            keep = design[design["policy"] == policy]
        if keep.empty:
            known = sorted(set(design["policy"])) if "policy" in design else ["plan"]
            raise InputError(
                f"no policy {policy!r} in this folder; expected one of {', '.join(known)}", str(folder), None, "policy"
            )
        t = totals[totals["point"].isin(keep["point"])].merge(keep[["point", "member"]], on="point")
        per = member_table(t, [spec.outcome], years, ["member"])
        inputs = pd.DataFrame([m["inputs"] for m in sorted(planning["members"], key=lambda m: m["index"])])
        X = inputs.iloc[per["member"].to_numpy()].reset_index(drop=True)
        return _numeric(X, spec), per[spec.outcome].to_numpy(dtype=np.float64), policy, "ensemble members"
    labels = [
        f.get("name") or f.get("key") or "+".join(f.get("keys") or [])
        for f in (man.get("spec") or {}).get("factors") or []
    ]
    uncertain = [
        f.get("name") or f.get("key")
        for f in (man.get("spec") or {}).get("factors") or []
        if f.get("role") == "uncertainty"
    ]
    per = member_table(totals, [spec.outcome], years, ["point"])
    X = design.set_index("point").loc[per["point"], [c for c in (uncertain or labels) if c in design.columns]]
    return _numeric(X.reset_index(drop=True), spec), per[spec.outcome].to_numpy(dtype=np.float64), None, "sweep points"


def _years(man: dict) -> float:
    t = (man.get("base") or {}).get("resolved", {}).get("time") or {"start": "2019-07", "end": "2030-12"}
    (y0, m0), (y1, m1) = (map(int, str(t[k]).split("-")[:2]) for k in ("start", "end"))
    return ((y1 - y0) * 12 + (m1 - m0) + 1) / 12.0


def _numeric(X: pd.DataFrame, spec: DiscoverSpec) -> pd.DataFrame:
    if spec.inputs:
        missing = [c for c in spec.inputs if c not in X.columns]
        if missing:
            raise InputError(
                f"unknown input {missing[0]!r}; the worlds have {', '.join(map(str, X.columns[:12]))}"
                + (" ..." if len(X.columns) > 12 else ""),
                None,
                None,
                "inputs",
            )
        X = X[spec.inputs]
    X = X.apply(pd.to_numeric, errors="coerce")
    keep = [c for c in X.columns if X[c].notna().all() and X[c].nunique() > 1]
    if not keep:
        raise InputError("no uncertain input varies over these worlds: nothing to discover")
    return X[keep].astype(np.float64)


def _table(path: Path, spec: DiscoverSpec) -> tuple[pd.DataFrame, np.ndarray, None, str]:
    try:
        t = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable table is one message
        raise InputError(f"cannot read this table: {exc}", str(path)) from None
    if spec.outcome not in t.columns:
        raise InputError(
            f"the table has no column {spec.outcome!r} (the outcome); columns: {', '.join(map(str, t.columns[:12]))}",
            str(path),
            None,
            "outcome",
        )
    y = pd.to_numeric(t[spec.outcome], errors="coerce").to_numpy(dtype=np.float64)
    return _numeric(t.drop(columns=[spec.outcome]), spec), y, None, "table rows"


def discover(source: Path, spec: DiscoverSpec) -> Discovery:
    """Scenario discovery on a results folder (or a table): the box where the outcome fails."""
    X, v, policy, what = worlds(source, spec)
    ok = np.isfinite(v)
    notes = []
    if not ok.all():
        notes.append(f"{int((~ok).sum())} worlds without a value of {spec.outcome} left out")
    X, v = X[ok].reset_index(drop=True), v[ok]
    y = v < spec.below if spec.below is not None else v > spec.above
    if y.sum() == 0 or y.all():
        raise InputError(
            f"{'every' if y.all() else 'no'} world of the {len(y)} {what} fails "
            f"({spec.outcome} {'below ' + format(spec.below, 'g') if spec.below is not None else 'above ' + format(spec.above, 'g')}): "
            "nothing to tell apart; choose another threshold",
            str(source),
        )
    limits, traj, i, more = prim_box(X, y, spec)
    row = traj[traj["id"] == i].iloc[0]
    return Discovery(
        spec,
        limits,
        float(row["coverage"]),
        float(row["density"]),
        float(row["mass"]),
        i,
        traj,
        len(y),
        int(y.sum()),
        what,
        policy,
        notes + more,
    )


def write_discovery(d: Discovery, folder: Path) -> Path:
    """RESULTS/discovery/: box.json (the box in numbers and words), trajectory.csv and limits.csv."""
    from simulation.io import atomic_write

    out = folder / RESULTS
    out.mkdir(exist_ok=True)
    atomic_write(out / "trajectory.csv", d.trajectory.to_csv(index=False))
    atomic_write(out / "limits.csv", d.limits.to_csv(index=False))
    body = {
        "spec": d.spec.model_dump(),
        "coverage": d.coverage,
        "density": d.density,
        "mass": d.mass,
        "box": d.box_index,
        "worlds": d.n,
        "failures": d.failures,
        "source": d.source,
        "policy": d.policy,
        "words": d.words(),
        "notes": d.notes,
        "restricted": d.restricted()[["input", "low", "high"]].to_dict(orient="records"),
    }
    atomic_write(out / "box.json", json.dumps(body, indent=2, default=float) + "\n")
    return out


def format_discovery(d: Discovery) -> str:
    lines = [
        d.words() + ".",
        f"box {d.box_index} of the peeling trajectory: coverage {d.coverage:.2f}, density {d.density:.2f}, "
        f"mass {d.mass:.2f} ({d.n} {d.source}, {d.failures} failing)",
    ]
    for _, r in d.restricted().iterrows():
        lines.append(
            f"  {r['input']:<52} [{r['low']:.4g}, {r['high']:.4g}]  (ensemble [{r['data_low']:.4g}, "
            f"{r['data_high']:.4g}])"
        )
    lines.append("peeling trajectory (coverage, density, mass, inputs restricted):")
    step = max(1, len(d.trajectory) // 12)
    shown = d.trajectory[(d.trajectory.index % step == 0) | (d.trajectory["id"] == d.box_index)]
    for _, r in shown.iterrows():
        mark = "  <- chosen" if int(r["id"]) == d.box_index else ""
        lines.append(
            f"  box {int(r['id']):>3}: {r['coverage']:.2f}  {r['density']:.2f}  {r['mass']:.2f}  "
            f"{int(r['res_dim'])}{mark}"
        )
    lines += [f"note: {n}" for n in d.notes]
    return "\n".join(lines)


def load_discover_spec(path: str | None, overrides: dict[str, Any]) -> DiscoverSpec:
    """A discover file (experiments/discover.yaml) with the command's options on top, validated."""
    from simulation.scenario.specfile import spec_error
    from simulation.scenario.yamlio import read_yaml_file

    data: dict = {}
    marks: dict = {}
    shown = path or "command line"
    if path is not None:
        raw, marks = read_yaml_file(path, path)
        if not isinstance(raw, dict):
            raise InputError("a discover file must be a mapping (outcome, below or above, ...)", path, 1)
        data = dict(raw)
    for k, v in overrides.items():
        if v is not None:
            data[k] = v
            if k in ("below", "above"):
                data.pop("above" if k == "below" else "below", None)
    try:
        return DiscoverSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, shown, marks) from None

"""Indirect inference for lever effects: fit a lever-effect parameter so that the virtual twin of a
published study (a validation experiment) reproduces the study's estimate.

Why a grid and not an optimiser: the twin's estimate is noisy even with common random numbers and
close to monotone in the parameter, and what the ensemble needs is not only the best value but
the whole interval of values whose estimate is consistent with the published range. So the
parameter is evaluated on an even grid over its search range; the fitted value is where the
estimate crosses the published point (linear interpolation between grid points), and the
consistent interval spans the grid values whose 95 % CI overlaps the published range (widened by
half a grid step on each side). The ensemble draws the parameter over that interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulation.analysis.calibration.spec import Effect, LoadedCalibration
from simulation.analysis.validation.measure import measure
from simulation.analysis.validation.spec import at


@dataclass
class EffectFit:
    effect: Effect
    target: float
    low: float | None
    high: float | None
    grid: list[dict] = field(default_factory=list)  # value, estimate, ci_low, ci_high per grid point
    value: float = float("nan")
    consistent: tuple[float, float] = (float("nan"), float("nan"))
    crossed: bool = False


def target_of(check) -> float:
    """The published estimate a fitted effect's twin aims at: its point, else the middle of its range."""
    pub = check.published
    if pub.point is not None:
        return float(pub.point)
    if pub.low is not None and pub.high is not None:
        return (pub.low + pub.high) / 2.0
    return float(pub.low if pub.low is not None else pub.high)


def fit_effect(
    loaded: LoadedCalibration, k: int, base_values: dict[str, float], tick: Callable[[int], None] = lambda n: None
) -> EffectFit:
    """Fit effect k of the calibration at the moment fit's values `base_values`."""
    e = loaded.spec.effects[k]
    exp, check = loaded.effects[k]
    fit = EffectFit(e, target_of(check), check.published.low, check.published.high)
    arm = check.arm if check.estimate != "marginal_decline" else None
    for v in np.linspace(e.low, e.high, e.points):
        value = float(f"{v:.6g}")
        outcome = measure(at(exp, {**base_values, e.key: value}), e.replications, exp.spec.seed, tick)
        row = outcome.lookup(exp.spec.name, check.estimate, arm, check.year)
        fit.grid.append(
            {
                "value": value,
                "estimate": float(row["estimate"]),
                "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"]),
            }
        )
    xs = [g["value"] for g in fit.grid]
    ys = [g["estimate"] for g in fit.grid]
    fit.value = xs[int(np.argmin([abs(y - fit.target) for y in ys]))]
    for j in range(len(xs) - 1):
        lo, hi = ys[j] - fit.target, ys[j + 1] - fit.target
        if lo == 0.0 or lo * hi < 0.0:
            fit.value = float(f"{xs[j] + (xs[j + 1] - xs[j]) * (0.0 - lo) / (hi - lo):.6g}")
            fit.crossed = True
            break
    pub_lo = -np.inf if fit.low is None else fit.low
    pub_hi = np.inf if fit.high is None else fit.high
    ok = [g["value"] for g in fit.grid if g["ci_high"] >= pub_lo and g["ci_low"] <= pub_hi]
    step = (e.high - e.low) / (e.points - 1)
    if ok:
        fit.consistent = (max(e.low, min(ok) - step / 2.0), min(e.high, max(ok) + step / 2.0))
    else:
        fit.consistent = (max(e.low, fit.value - step / 2.0), min(e.high, fit.value + step / 2.0))
    fit.consistent = (
        float(f"{min(fit.consistent[0], fit.value):.6g}"),
        float(f"{max(fit.consistent[1], fit.value):.6g}"),
    )
    return fit


def report_lines(fits: list[EffectFit]) -> list[str]:
    """The effects section of fit.md."""
    if not fits:
        return []
    lines = [
        "",
        "## Lever effects fitted to published effects (indirect inference)",
        "",
        "Each lever-effect parameter below is set so that the virtual twin of the study (a validation "
        "experiment, the check marked `role: fitted`) reproduces the published estimate; the interval is "
        "the values whose twin estimate (95 % CI) overlaps the published range, which the ensemble draws "
        "from. `scsim validate-model` reports these checks as fitted, not as validation.",
        "",
        "| parameter | twin (check) | published | fitted value | consistent interval | estimate at the grid points |",
        "|---|---|---|---|---|---|",
    ]
    for f in fits:
        pub = f"{f.low if f.low is not None else '-inf'} to {f.high if f.high is not None else 'inf'} (target {f.target:g})"
        grid = "; ".join(f"{g['value']:g}: {g['estimate']:.3g} [{g['ci_low']:.3g}, {g['ci_high']:.3g}]" for g in f.grid)
        note = "" if f.crossed else " (the estimate never crosses the target on the grid: the closest point)"
        lines.append(
            f"| {f.effect.key} | {f.effect.experiment} ({f.effect.check}) | {pub} | {f.value:g}{note} | "
            f"{f.consistent[0]:g} to {f.consistent[1]:g} | {grid} |"
        )
    return lines

"""Indirect inference for lever effects: fit a lever-effect parameter so that the virtual twin of a
published study (a validation experiment) reproduces the study's estimate.

Why a grid and not an optimiser: the twin's estimate is noisy even with common random numbers and
close to monotone in the parameter, and what the ensemble needs is not only the best value but
the whole interval of values whose estimate is consistent with the published range. So the
parameter is evaluated on an even grid over its search range, and the grid's estimates are
smoothed by a weighted least-squares quadratic in the parameter (weights 1/se², from each grid
point's 95 % CI). The fitted value is where the smoothed curve meets the published point; the
consistent interval is where it lies inside the published range. The ensemble draws the
parameter over that interval.

Why the smoothed curve and not the grid points' CIs: an interval of the values whose CI touches
the published range counts the twin's replication noise as uncertainty about the parameter, so
it widens with fewer replications and leans the ensemble to wherever the search range is long
(it did: the visit boost's interval ran from 0.125 to 0.275 around a fit of 0.164, and the
ensemble read the visit effect at +12 % against the study's 8–10). The published range already
carries the study's uncertainty; the grid's noise belongs in the fit of the curve, not in the range.
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
    read_grid(fit, e.low, e.high)
    return fit


def smoothed(grid: list[dict]) -> np.ndarray:
    """Coefficients (highest power first) of the weighted least-squares polynomial, of degree two
    or fewer when the grid is shorter, through the grid's estimates; a grid point's weight is the
    inverse of its CI's width (proportional to 1/se: only the weights' ratios matter), and an exact
    estimate (a CI of zero width, as at a boost of 0) gets ten times the largest weight, which all
    but pins the curve."""
    xs = np.array([g["value"] for g in grid], dtype=float)
    ys = np.array([g["estimate"] for g in grid], dtype=float)
    width = np.array([g["ci_high"] - g["ci_low"] for g in grid], dtype=float)
    positive = width[width > 0.0]
    floor = positive.min() / 10.0 if positive.size else 1.0
    w = 1.0 / np.maximum(width, floor)
    return np.polyfit(xs, ys, min(2, len(xs) - 1), w=w)


def read_grid(fit: EffectFit, low: float, high: float) -> None:
    """Set fit.value, fit.crossed and fit.consistent from fit.grid over the search range [low, high]."""
    coef = smoothed(fit.grid)
    xs = np.linspace(low, high, 2001)
    ys = np.polyval(coef, xs)
    gap = ys - fit.target
    fit.value = float(f"{xs[int(np.argmin(np.abs(gap)))]:.6g}")
    fit.crossed = bool(np.any(gap == 0.0) or np.any(gap[:-1] * gap[1:] < 0.0))
    pub_lo = -np.inf if fit.low is None else fit.low
    pub_hi = np.inf if fit.high is None else fit.high
    inside = xs[(ys >= pub_lo) & (ys <= pub_hi)]
    if inside.size:
        lo, hi = float(inside.min()), float(inside.max())
    else:  # the curve never enters the range: the closest point, alone
        lo = hi = fit.value
    fit.consistent = (float(f"{min(lo, fit.value):.6g}"), float(f"{max(hi, fit.value):.6g}"))


def report_lines(fits: list[EffectFit]) -> list[str]:
    """The effects section of fit.md."""
    if not fits:
        return []
    lines = [
        "",
        "## Lever effects fitted to published effects (indirect inference)",
        "",
        "Each lever-effect parameter below is set so that the virtual twin of the study (a validation "
        "experiment, the check marked `role: fitted`) reproduces the published estimate. The grid's "
        "estimates are smoothed by a weighted least-squares quadratic (weights 1/se); the fitted value is "
        "where the smoothed curve meets the published point, and the interval, which the ensemble draws "
        "from, is where it lies inside the published range. `scsim validate-model` reports these checks "
        "as fitted, not as validation.",
        "",
        "| parameter | twin (check) | published | fitted value | consistent interval | estimate at the grid points |",
        "|---|---|---|---|---|---|",
    ]
    for f in fits:
        pub = f"{f.low if f.low is not None else '-inf'} to {f.high if f.high is not None else 'inf'} (target {f.target:g})"
        grid = "; ".join(f"{g['value']:g}: {g['estimate']:.3g} [{g['ci_low']:.3g}, {g['ci_high']:.3g}]" for g in f.grid)
        note = (
            ""
            if f.crossed
            else " (the smoothed estimate never crosses the target in the search range: the closest point)"
        )
        lines.append(
            f"| {f.effect.key} | {f.effect.experiment} ({f.effect.check}) | {pub} | {f.value:g}{note} | "
            f"{f.consistent[0]:g} to {f.consistent[1]:g} | {grid} |"
        )
    return lines

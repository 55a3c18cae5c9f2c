"""How candidate policies hold up over the uncertainty ensemble, each measure with an interval.

For an outcome (say value won, or value per public KRW) and a matrix V[policy, member] of each
policy's value in each ensemble member (its replications pooled, common random numbers):

    mean               the mean over the members
    p10                the 10th percentile over the members (what a bad but plausible world gives)
    max regret         the largest shortfall from the best policy of the same member (min: excess)
    satisficing share  the share of members in which the policy meets the stated target

Each comes with a 95 % percentile interval from resampling the ensemble members (the same draws
for every policy, so the policies stay paired), seeded: the same folder gives the same intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

N_BOOT = 2000
LEVEL = 0.95
CHUNK_VALUES = 4_000_000  # values of the resampled matrices computed at once (float64: 32 MB)


def _measures_all_finite(V: np.ndarray, direction: str, target: float | None, at_least: bool) -> np.ndarray:
    """`_measures` of every resample at once, for values with no NaN: V[..., policy, member] ->
    [..., policy, measure]. Each number is computed as `_measures` computes it for one resample (the
    same reductions along the members, row by row), so the results are the same bit for bit."""
    # contiguous members: numpy sums a strided axis in another order, which can move the mean's last bit
    V = np.ascontiguousarray(V)
    sign = 1.0 if direction == "max" else -1.0
    regret = np.max(sign * V, axis=-2, keepdims=True) - sign * V
    out = np.full(V.shape[:-1] + (4,), np.nan)
    out[..., 0] = np.mean(V, axis=-1)
    out[..., 1] = np.quantile(V, 0.1, axis=-1)
    out[..., 2] = np.max(regret, axis=-1)
    if target is not None:
        out[..., 3] = np.mean(np.greater_equal(V, target) if at_least else np.less_equal(V, target), axis=-1)
    return out


def _measures(V: np.ndarray, direction: str, target: float | None, at_least: bool) -> np.ndarray:
    """Rows: policies; columns: mean, p10, max regret, satisficing share (NaN members left out)."""
    sign = 1.0 if direction == "max" else -1.0
    with np.errstate(invalid="ignore"):
        best = np.nanmax(sign * V, axis=0)
        regret = best[None, :] - sign * V
    out = np.full((V.shape[0], 4), np.nan)
    for i, v in enumerate(V):
        ok = np.isfinite(v)
        if not ok.any():
            continue
        out[i, 0] = float(np.mean(v[ok]))
        out[i, 1] = float(np.quantile(v[ok], 0.1))
        out[i, 2] = float(np.nanmax(regret[i][ok]))
        if target is not None:
            met = v[ok] >= target if at_least else v[ok] <= target
            out[i, 3] = float(met.mean())
    return out


def robustness(
    values: pd.DataFrame,
    outcome: str,
    direction: str = "max",
    target: float | None = None,
    at_least: bool = True,
    seed: int = 0,
    policies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per policy: mean, p10, max regret and satisficing share of `outcome`, each with its
    interval (`*_low`, `*_high`). `values`: columns policy, member and `outcome`."""
    wide = values.pivot_table(index="policy", columns="member", values=outcome, aggfunc="first", dropna=False)
    order = list(policies) if policies is not None else list(dict.fromkeys(values["policy"]))
    wide = wide.reindex(order)
    V = wide.to_numpy(dtype=np.float64)
    est = _measures(V, direction, target, at_least)
    rng = np.random.default_rng(seed)
    m = V.shape[1]
    if m < 2:
        draws = np.full((1,) + est.shape, np.nan)
    elif np.isfinite(V).all():
        # every resample at once, drawn as before: one `integers(0, m, size=m)` call each (a single
        # call of size (N_BOOT, m) would not give the same numbers: numpy draws 32-bit integers two
        # to a 64-bit word, and a call of odd size leaves the last half unused)
        idx = np.stack([rng.integers(0, m, size=m) for _ in range(N_BOOT)])
        step = max(1, CHUNK_VALUES // V.size)  # resamples at a time: a few arrays of about 32 MB at most
        draws = np.concatenate(
            [
                _measures_all_finite(np.moveaxis(V[:, idx[k : k + step]], 1, 0), direction, target, at_least)
                for k in range(0, N_BOOT, step)
            ]
        )
    else:  # members with NaN values are left out resample by resample
        draws = np.stack(
            [_measures(V[:, rng.integers(0, m, size=m)], direction, target, at_least) for _ in range(N_BOOT)]
        )
    a = (1.0 - LEVEL) / 2.0
    with np.errstate(invalid="ignore"), _quiet():
        lo = np.nanquantile(draws, a, axis=0)
        hi = np.nanquantile(draws, 1.0 - a, axis=0)
    names = ("mean", "p10", "max_regret", "satisficing")
    rows = []
    for i, p in enumerate(order):
        row = {"policy": p, "outcome": outcome, "direction": direction, "members": int(np.isfinite(V[i]).sum())}
        for j, n in enumerate(names):
            row[n], row[f"{n}_low"], row[f"{n}_high"] = est[i, j], lo[i, j], hi[i, j]
        row["target"] = math.nan if target is None else float(target)
        row["target_rule"] = "" if target is None else (">=" if at_least else "<=")
        rows.append(row)
    return pd.DataFrame(rows)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def format_robustness(table: pd.DataFrame, label: str, unit: str) -> str:
    """The robustness table for the command line."""

    def ci(r: pd.Series, n: str, pct: bool = False) -> str:
        f = (lambda x: f"{x * 100:.0f} %") if pct else (lambda x: f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}")
        if not np.isfinite(r[n]):
            return "n/a"
        return f"{f(r[n])} [{f(r[f'{n}_low'])}, {f(r[f'{n}_high'])}]" if np.isfinite(r[f"{n}_low"]) else f(r[n])

    t0 = table.iloc[0]
    rule = f"{label} {t0['target_rule']} {t0['target']:g}" if t0["target_rule"] else "no target"
    lines = [
        f"robustness of {label} ({unit}) over {int(t0['members'])} ensemble members, 95 % intervals from "
        f"resampling the members; satisficing: {rule}",
        f"  {'policy':<28} {'mean':<26} {'10th percentile':<26} {'max regret':<26} satisficing share",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"  {str(r['policy'])[:28]:<28} {ci(r, 'mean'):<26} {ci(r, 'p10'):<26} {ci(r, 'max_regret'):<26} "
            f"{ci(r, 'satisficing', pct=True)}"
        )
    return "\n".join(lines)

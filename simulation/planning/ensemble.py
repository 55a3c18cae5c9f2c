"""The uncertainty ensemble: the members over which every candidate policy is judged.

A member is one plausible world: one parameter set of a file such as experiments/parameter_sets.yaml
(the calibrated no-plan region and the lever-effect ranges), one draw of a Latin hypercube over
named uncertainties, or both (LHS draw k takes parameter set k mod S, so the ensemble keeps
`samples` members instead of S x samples). Every candidate runs in every member with the same
replication seeds: common random numbers, so differences between candidates are paired.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.scenario.errors import InputError


@dataclass(frozen=True)
class Member:
    """One world of the ensemble: its overrides and the values of its uncertain inputs (for PRIM)."""

    index: int
    name: str
    overrides: dict[str, Any]
    inputs: dict[str, float]


def parameter_sets_file(loaded: Any) -> Any:
    """The ensemble's parameter sets (the first `sets:` of them), checked on the base scenario."""
    from simulation.experiment.parameter_sets import load_parameter_sets
    from simulation.scenario.shipped import resolve

    e = loaded.spec.ensemble
    local = os.path.join(loaded.folder, e.parameter_sets)
    path = local if os.path.isfile(local) else resolve(e.parameter_sets, "experiments")
    if not os.path.isfile(path):
        raise loaded.error(
            ("ensemble", "parameter_sets"),
            f"parameter-sets file {e.parameter_sets!r} not found (looked for {os.path.normpath(local)})",
        )
    psets = load_parameter_sets(path)
    if e.sets is not None:
        if e.sets > len(psets.sets):
            raise loaded.error(
                ("ensemble", "sets"),
                f"the file has {len(psets.sets)} parameter sets, fewer than the {e.sets} asked for",
            )
        psets.sets, psets.lines = psets.sets[: e.sets], psets.lines[: e.sets]
    psets.apply([loaded.base])  # every set valid on the base (InputError naming the set's line)
    return psets


def lhs_unit(samples: int, dims: int, seed: int) -> np.ndarray:
    """A Latin hypercube in the unit cube, the same for the same seed: in each dimension one point
    in each of `samples` equal strata, at a uniform place within it, the strata shuffled.

    It is scipy.stats.qmc.LatinHypercube(d=dims, rng=default_rng(seed)).random(samples) number for
    number (scipy's algorithm, written out: tests/test_planning.py compares them), without the
    second of CPU that importing scipy.stats costs every `optimize` and `robustness` process."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])  # scipy draws from a child of the seed's
    within = rng.uniform(size=(samples, dims))
    strata = np.tile(np.arange(1, samples + 1), (dims, 1))
    for i in range(dims):
        rng.shuffle(strata[i, :])
    return (strata.T - within) / samples


def members(loaded: Any) -> list[Member]:
    """The ensemble of an optimize or robustness file, in a fixed order."""
    e = loaded.spec.ensemble
    sets: list[dict[str, Any]] = parameter_sets_file(loaded).sets if e.parameter_sets else []
    varying = sorted(
        k
        for k in {k for s in sets for k in s}
        if len({repr(s.get(k)) for s in sets}) > 1 and all(isinstance(s.get(k), (int, float)) for s in sets)
    )
    out = []
    if e.lhs is None:
        for k, s in enumerate(sets):
            out.append(Member(k, f"set{k + 1:02d}", dict(s), {v: float(s[v]) for v in varying}))
        return out
    factors = e.lhs.factors
    U = lhs_unit(e.lhs.samples, len(factors), e.lhs.seed)
    for k in range(e.lhs.samples):
        ov: dict[str, Any] = dict(sets[k % len(sets)]) if sets else {}
        inputs = {v: float(sets[k % len(sets)][v]) for v in varying} if sets else {}
        for j, f in enumerate(factors):
            lo, hi = f.range
            x = float(lo + U[k, j] * (hi - lo))
            ov[f.key] = x
            inputs[f.label] = x
        out.append(Member(k, f"lhs{k + 1:03d}" + (f"-set{k % len(sets) + 1:02d}" if sets else ""), ov, inputs))
    if not out:
        raise InputError("the ensemble is empty", loaded.file, loaded.line(("ensemble",)), "ensemble")
    return out

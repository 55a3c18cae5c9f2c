"""The SMM search and how well it pins each parameter down.

Why this search: with common random numbers (the same seeds at every point) the simulated
moments are a deterministic, if slightly rough, function of the parameters, so a derivative-free
method is the right tool. A Latin hypercube over the search box first (robust to local minima,
and its points double as the set of parameter values consistent with the targets), then
Nelder-Mead from the best point (bounded, scipy) to refine. Identification is local: the
Jacobian of the scaled moments at the optimum by central differences, read as the information
matrix J'J of a least-squares fit; a parameter whose moments barely move is flagged, and so is
a combination of parameters the moments cannot separate (the smallest eigenvector).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.stats import chi2, qmc

from simulation.analysis.calibration.moments import measure
from simulation.analysis.calibration.spec import LoadedCalibration, scenario_value
from simulation.engine.simulate import simulate
from simulation.experiment.tasks import replication_seeds

PENALTY = 1e6  # objective of a point whose moments cannot be computed (no tenders, no bids)


@dataclass
class Evaluation:
    unit: tuple[float, ...]
    values: dict[str, float]
    moments: dict[str, float]
    objective: float
    inside: bool  # every targeted moment within its published range
    stage: str


@dataclass
class Problem:
    loaded: LoadedCalibration
    on_eval: Callable[[Evaluation], None] | None = None
    evaluations: list[Evaluation] = field(default_factory=list)
    _cache: dict[tuple[float, ...], Evaluation] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spec = self.loaded.spec
        self.seeds = replication_seeds(self.spec.seed, self.spec.replications)

    @property
    def dim(self) -> int:
        return len(self.spec.parameters)

    def values(self, u: np.ndarray) -> dict[str, float]:
        out = {}
        for p, x in zip(self.spec.parameters, np.clip(u, 0.0, 1.0), strict=True):
            v = (
                math.exp(math.log(p.low) + x * (math.log(p.high) - math.log(p.low)))
                if p.log
                else p.low + x * (p.high - p.low)
            )
            out[p.key] = float(f"{v:.6g}")  # what is written back, so what is evaluated
        return out

    def unit(self, values: dict[str, float]) -> np.ndarray:
        u = []
        for p in self.spec.parameters:
            v = min(max(float(values[p.key]), p.low), p.high)
            u.append(
                (math.log(v) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
                if p.log
                else (v - p.low) / (p.high - p.low)
            )
        return np.array(u)

    def objective(self, moments: dict[str, float]) -> float:
        total = 0.0
        for t in self.spec.targets:
            m = moments[t.moment]
            if not math.isfinite(m):
                return PENALTY
            total += t.weight * ((m - t.value) / ((t.high - t.low) / 2.0)) ** 2
        return total

    def inside(self, moments: dict[str, float]) -> bool:
        return all(t.low <= moments[t.moment] <= t.high for t in self.spec.targets)

    def run_moments(self, values: dict[str, float]) -> dict[str, float]:
        from simulation.experiment.runner import in_threads

        r = self.loaded.at(values)
        results = list(in_threads(lambda s: simulate(r, s), self.seeds))  # in seed order, in parallel
        return measure(results, self.spec.years[0], self.spec.years[1])

    def evaluate(self, u: np.ndarray, stage: str) -> Evaluation:
        values = self.values(u)
        key = tuple(values[p.key] for p in self.spec.parameters)
        if key in self._cache:
            return self._cache[key]
        moments = self.run_moments(values)
        ev = Evaluation(
            tuple(float(x) for x in self.unit(values)),
            values,
            moments,
            self.objective(moments),
            self.inside(moments),
            stage,
        )
        self._cache[key] = ev
        self.evaluations.append(ev)
        if self.on_eval is not None:
            self.on_eval(ev)
        return ev


def search(problem: Problem) -> Evaluation:
    """Latin hypercube over the box (plus the scenario's current values), then bounded Nelder-Mead."""
    s = problem.spec.search
    start = {p.key: float(scenario_value(problem.loaded.base, p.key)) for p in problem.spec.parameters}
    problem.evaluate(problem.unit(start), "start")
    for u in qmc.LatinHypercube(d=problem.dim, seed=s.seed).random(s.lhs_points):
        problem.evaluate(u, "lhs")
    best = min(problem.evaluations, key=lambda e: e.objective)
    if s.local_evaluations > 0:
        x0 = np.array(best.unit)
        simplex = [x0] + [
            np.clip(x0 + 0.1 * np.eye(problem.dim)[j] * (1 if x0[j] < 0.9 else -1), 0, 1) for j in range(problem.dim)
        ]
        optimize.minimize(
            lambda u: problem.evaluate(u, "local").objective,
            x0,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * problem.dim,
            options={"maxfev": s.local_evaluations, "initial_simplex": np.array(simplex), "xatol": 1e-3, "fatol": 1e-4},
        )
    return min(problem.evaluations, key=lambda e: e.objective)


@dataclass
class Identification:
    jacobian: np.ndarray  # scaled moments x parameters (unit-box coordinates)
    sd_unit: np.ndarray  # local standard error of each parameter, in search-box widths
    sd_alone: np.ndarray  # the same if all the other parameters were known
    sd_value: np.ndarray  # the same in the parameter's own units
    sensitivity: np.ndarray  # how far the scaled moments move over the whole box, per parameter
    weakest: dict[str, float]  # the combination of parameters the moments pin down least
    condition: float
    labels: list[str]


def identify(problem: Problem, best: Evaluation, h: float = 0.05) -> Identification:
    """Central differences of the scaled moments around the optimum (common random numbers)."""
    targets = problem.spec.targets
    scale = np.array([math.sqrt(t.weight) / ((t.high - t.low) / 2.0) for t in targets])
    u0 = np.array(best.unit)
    J = np.zeros((len(targets), problem.dim))
    sd_value = np.zeros(problem.dim)
    for j in range(len(problem.spec.parameters)):
        up, dn = u0.copy(), u0.copy()
        up[j] = min(1.0, u0[j] + h)
        dn[j] = max(0.0, u0[j] - h)
        e_up, e_dn = problem.evaluate(up, "identify"), problem.evaluate(dn, "identify")
        step = e_up.unit[j] - e_dn.unit[j]
        m_up = np.array([e_up.moments[t.moment] for t in targets])
        m_dn = np.array([e_dn.moments[t.moment] for t in targets])
        J[:, j] = (m_up - m_dn) * scale / step if step > 0 else 0.0
    info = J.T @ J
    cov = np.linalg.inv(info + 1e-4 * np.eye(problem.dim))  # ridge: an unmoved direction gets sd ~ 100 boxes
    sd_unit = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    sd_alone = 1.0 / np.sqrt(np.diag(info) + 1e-4)
    for j, p in enumerate(problem.spec.parameters):
        v = best.values[p.key]
        dv_du = v * (math.log(p.high) - math.log(p.low)) if p.log else (p.high - p.low)
        sd_value[j] = sd_unit[j] * dv_du
    w, vecs = np.linalg.eigh(info)
    weakest = {p.key: float(x) for p, x in zip(problem.spec.parameters, vecs[:, 0], strict=True)}
    condition = float(w[-1] / w[0]) if w[0] > 0 else float("inf")
    labels = ["well identified" if s < 0.1 else "weakly identified" if s < 0.3 else "not identified" for s in sd_unit]
    return Identification(J, sd_unit, sd_alone, sd_value, np.linalg.norm(J, axis=0), weakest, condition, labels)


def region_cut(n_params: int) -> float:
    """How far above the best objective a point of the fit's 95 % region may lie: the 95 % quantile of
    chi-square with one degree of freedom per fitted parameter (a likelihood-ratio region)."""
    return float(chi2.ppf(0.95, n_params))


def plausible_sets(problem: Problem, best: Evaluation, n: int) -> tuple[list[Evaluation], str]:
    """Up to n points of the fit's 95 % region: the hypercube's points that fall inside it, in the
    hypercube's (random) order.

    The region: objective within the 95 % quantile of chi-square with as many degrees of freedom as
    parameters of the best fit (a likelihood-ratio region, reading one published half-width of a
    moment as one standard error). Keeping the hypercube's points inside it is rejection sampling
    under the search box's uniform prior, as approximate Bayesian computation does: a sample of the
    region, where the Nelder-Mead steps crowd round the best fit and a farthest-point choice takes
    its edges first (experiments/ensemble_choice.py compares the three). When fewer than n hypercube
    points qualify, the region's other points fill the rest, farthest from those already chosen
    first, and the rule says how many."""
    evals = [e for e in problem.evaluations if e.objective < PENALTY]
    cut = region_cut(problem.dim)
    region = [e for e in evals if e.objective <= best.objective + cut]
    sampled = [e for e in region if e.stage == "lhs"][:n]
    rule = (
        f"objective within {cut:.2f} (chi-square, {problem.dim} d.f., 95 %) of the best {best.objective:.2f}: "
        f"{len(region)} points, {sum(e.stage == 'lhs' for e in region)} of them from the hypercube"
    )
    if not region:  # the best fit's own moments could not be computed
        return [best], rule
    chosen = list(sampled) or [best]
    index = {id(e): j for j, e in enumerate(region)}
    order = farthest_first(np.array([e.unit for e in region]), [index[id(e)] for e in chosen], n)
    chosen += [region[j] for j in order[len(chosen) :]]
    if len(chosen) > len(sampled):
        rule += f"; {len(chosen) - len(sampled)} of the sets filled from the region's other points, farthest first"
    return chosen, rule


def farthest_first(points: np.ndarray, start: list[int], n: int) -> list[int]:
    """Indices of up to n rows of `points`: those of `start`, then each time the row farthest
    (Euclidean) from every row chosen so far. The ensemble fills with it when too few hypercube
    points fall in the region, and it was the ensemble's whole rule before 2026-12-07
    (experiments/ensemble_choice.py)."""
    chosen = list(start)
    if not chosen or len(points) == 0:
        return chosen[:n]
    dist = np.min([np.linalg.norm(points - points[j], axis=1) for j in chosen], axis=0)
    dist[chosen] = -np.inf  # never chosen twice, even where rows coincide
    while len(chosen) < min(n, len(points)):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(points - points[nxt], axis=1))
        dist[nxt] = -np.inf
    return chosen

"""The lever-cards file (experiments/lever_cards.yaml): the worlds compared, the ensemble, and the
published evidence for each measure. Read like the other files: errors name file, line and key."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from simulation.analysis.levers.measures import measures
from simulation.experiment.parameter_sets import ParameterSets, load_parameter_sets
from simulation.experiment.tasks import replication_seeds
from simulation.scenario.errors import InputError
from simulation.scenario.loader import Resolved, load_scenario
from simulation.scenario.specfile import Located, spec_error
from simulation.scenario.yamlio import KeyPath, read_yaml_file

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Evidence(Spec):
    """What the literature says about a measure, and where it gives one, a range to set the card beside."""

    text: Annotated[str, Field(min_length=1)]
    value_per_krw: Annotated[list[Number], Field(min_length=2, max_length=2)] | None = None


class CardsSpec(Spec):
    name: str = "lever_cards"
    base: str
    plan: str
    parameter_sets: str
    sets: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 30
    replications: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 4
    seed: Annotated[int, Strict(), Field(ge=0, lt=2**32)] = 0
    doc: str = "../docs/levers.md"
    evidence: dict[str, Evidence] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> CardsSpec:
        sections = {m.section for m in measures()}
        for k in self.evidence:
            if k not in sections:
                raise ValueError(f"evidence for unknown measure {k!r}; expected lever sections such as f1_pis")
        return self


class LoadedCards(Located):
    def __init__(
        self,
        spec: CardsSpec,
        file: str,
        marks: dict[KeyPath, int],
        raw: dict,
        base: Resolved,
        plan: Resolved,
        psets: ParameterSets,
        doc: str,
    ) -> None:
        self.spec, self.file, self.marks, self.raw = spec, file, marks, raw
        self.base, self.plan, self.psets, self.doc = base, plan, psets, doc

    @property
    def sets(self) -> list[dict]:
        return self.psets.sets[: self.spec.sets]

    @property
    def seeds(self) -> list[int]:
        return replication_seeds(self.spec.seed, self.spec.replications)

    @property
    def hash(self) -> str:
        payload = {
            "spec": {k: v for k, v in self.raw.items() if k != "evidence"},
            "base": self.base.hash,
            "plan": self.plan.hash,
            "sets": self.sets,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def load_cards(path: str, shown: str | None = None, sets: int | None = None, reps: int | None = None) -> LoadedCards:
    """Read and check a lever-cards file; `sets`/`reps` override its ensemble size (a quicker look)."""
    shown = shown or path
    data, marks = read_yaml_file(path, shown)
    if not isinstance(data, dict):
        raise InputError("a lever-cards file must be a mapping (base, plan, parameter_sets, ...)", shown, 1)
    if sets is not None:
        data = dict(data, sets=sets)
    if reps is not None:
        data = dict(data, replications=reps)
    try:
        spec = CardsSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, shown, marks, data, missing="missing: required in a lever-cards file") from None
    here, shown_here = os.path.dirname(path), os.path.dirname(shown)
    found = {}
    for key in ("base", "plan", "parameter_sets"):
        p = os.path.join(here, getattr(spec, key))
        if not os.path.isfile(p):
            raise InputError(f"{key} {getattr(spec, key)!r} not found", shown, marks.get((key,)), key)
        found[key] = (p, os.path.normpath(os.path.join(shown_here, getattr(spec, key))))
    base = load_scenario(found["base"][0], shown=found["base"][1])
    plan = load_scenario(found["plan"][0], shown=found["plan"][1])
    psets = load_parameter_sets(found["parameter_sets"][0])
    if spec.sets > len(psets.sets):
        raise InputError(
            f"sets: {spec.sets} asked for, but {found['parameter_sets'][1]} holds {len(psets.sets)}",
            shown,
            marks.get(("sets",)),
            "sets",
        )
    # every set the cards use checked against both worlds before any run (not the file's others: 75
    # sets cost about a second to check, and a quick look uses two)
    ParameterSets(psets.file, psets.sets[: spec.sets], psets.lines[: spec.sets]).apply([base, plan])
    doc = os.path.normpath(os.path.join(here, spec.doc))
    return LoadedCards(spec, shown, marks, data, base, plan, psets, doc)

"""The model documentation cannot drift from the schema and the scenarios (`scsim docs`).

docs/ODD.md lists every parameter in generated tables; these tests fail when a schema parameter
is missing from the document, when the document names one the schema lacks, or when a generated
block is stale — and prove that each check really bites on a modified schema, scenario or doc.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pydantic import create_model

from simulation.cli import main
from simulation.present.odd.blocks import DEFAULT_DOCS, check_file, documented_parameters, find_blocks, regenerate_file
from simulation.present.odd.render import Context
from simulation.present.odd.rows import walk
from simulation.scenario.errors import InputError
from simulation.scenario.loader import PARAMS
from simulation.scenario.schema import Behaviour, Discovery, P, Scenario, Section
from simulation.scenario.types import Ratio

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
ASSUMPTIONS = ROOT / "docs" / "assumptions.md"
SECTIONS = tuple(Scenario.model_fields)


@pytest.fixture(scope="module")
def ctx() -> Context:
    """The real schema and scenarios, loaded once for the module."""
    return Context()


def schema_names(schema: type[Section] = Scenario) -> list[str]:
    return [p.name for p in walk(schema)]


def drift(doc_names: list[str], schema: list[str]) -> tuple[list[str], list[str]]:
    """(schema parameters missing from the doc, doc parameters the schema lacks)."""
    return [n for n in schema if n not in doc_names], [n for n in doc_names if n not in schema]


# ---- the committed documents -------------------------------------------------------------------
def test_generator_walks_the_same_parameters_as_the_loader():
    assert schema_names() == [".".join(p) for p in PARAMS]


def test_every_schema_parameter_is_in_odd_and_no_other():
    names = documented_parameters(ODD.read_text(encoding="utf-8"))
    missing, unknown = drift(names, schema_names())
    assert not missing, f"schema parameters missing from docs/ODD.md (run `scsim docs`): {missing}"
    assert not unknown, f"docs/ODD.md names parameters the schema lacks (run `scsim docs`): {unknown}"
    assert len(names) == len(set(names)), "a parameter is listed twice"


def test_docs_check_passes_on_the_committed_files(capsys):
    code = main(["docs", "--check"])
    out = capsys.readouterr().out
    assert code == 0, f"docs are stale; run `scsim docs` and commit:\n{out}"
    assert "up to date: docs/ODD.md" in out and "up to date: docs/assumptions.md" in out


def test_default_docs_are_the_two_documents():
    assert set(DEFAULT_DOCS) == {ODD, ASSUMPTIONS}
    for doc in DEFAULT_DOCS:
        assert find_blocks(doc.read_text(encoding="utf-8").split("\n"), doc.name)


KEY_IN_PROSE = re.compile(r"`((?:" + "|".join(SECTIONS) + r")(?:\.[A-Za-z0-9_]+)+)(?:\.\*|\[[^\]`]*\])?`")


def _prose(text: str) -> str:
    """The hand-written part of a document: everything outside the generated blocks."""
    lines = text.split("\n")
    keep = set(range(len(lines)))
    for b in find_blocks(lines, "<doc>"):
        keep -= set(range(b.begin, b.end + 1))
    return "\n".join(lines[i] for i in sorted(keep))


@pytest.mark.parametrize("doc, at_least", [(ODD, 50), (ASSUMPTIONS, 4)], ids=["ODD.md", "assumptions.md"])
def test_prose_names_only_real_parameters_or_sections(doc, at_least):
    names = set(schema_names())
    prefixes = {".".join(n.split(".")[:k]) for n in names for k in range(1, n.count(".") + 1)}
    found = [m.group(1) for m in KEY_IN_PROSE.finditer(_prose(doc.read_text(encoding="utf-8")))]
    found = [f for f in found if not f.endswith(".py")]
    assert len(found) >= at_least  # the pattern does find the key paths the prose uses
    stale = sorted({f for f in found if f not in names and f not in prefixes})
    assert not stale, f"{doc.name} names key paths the schema lacks: {stale}"


# ---- the checks bite ---------------------------------------------------------------------------
def _schema_with_extra_parameter() -> type[Section]:
    behaviour = create_model(
        "BehaviourPlus", __base__=Behaviour, loss_fear=(Ratio, P("how much firms fear a loss", "fraction"))
    )
    return create_model(
        "ScenarioPlus", __base__=Scenario, behaviour=(behaviour, P("firms' bidding behaviour", "section"))
    )


def _schema_without(section_model: type[Section], section: str, field: str) -> type[Section]:
    kept = {k: (f.annotation, f) for k, f in section_model.model_fields.items() if k != field}
    reduced = create_model(f"{section_model.__name__}Minus", __base__=Section, **kept)
    return create_model("ScenarioMinus", __base__=Scenario, **{section: (reduced, P(section, "section"))})


def test_drift_detector_finds_a_missing_and_an_unknown_parameter():
    names = documented_parameters(ODD.read_text(encoding="utf-8"))
    missing, unknown = drift(names, schema_names(_schema_with_extra_parameter()))
    assert missing == ["behaviour.loss_fear"] and unknown == []
    missing, unknown = drift(names, schema_names(_schema_without(Discovery, "discovery", "contact_odds")))
    assert missing == [] and unknown == ["discovery.contact_odds"]


def test_check_names_a_parameter_added_to_the_schema(ctx):
    modified = Context(schema=_schema_with_extra_parameter())
    modified.base, modified.plan = ctx.base, ctx.plan  # same scenarios, new schema
    result = check_file(ODD, modified)
    assert not result.ok and "parameters" in result.stale_blocks
    text = "\n".join(result.summary)
    assert "parameters missing from the document: behaviour.loss_fear" in text


def test_check_names_a_parameter_removed_from_the_schema(ctx):
    modified = Context(schema=_schema_without(Discovery, "discovery", "contact_odds"))
    modified.base, modified.plan = ctx.base, ctx.plan
    result = check_file(ODD, modified)
    text = "\n".join(result.summary)
    assert not result.ok
    assert "parameters the document names but the schema lacks: discovery.contact_odds" in text


def test_check_names_a_scenario_value_that_changed(tmp_path):
    folder = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios", folder)
    no_plan = folder / "no_plan.yaml"
    text = no_plan.read_text(encoding="utf-8")
    old = "crowding: {value: 1.0,"
    assert old in text
    no_plan.write_text(text.replace(old, "crowding: {value: 2.5,"), encoding="utf-8")
    result = check_file(ODD, Context(scenario_dir=folder))
    assert not result.ok
    assert any("rows that differ" in s and "behaviour.crowding" in s for s in result.summary), result.summary
    assert any(line.startswith("+| `behaviour.crowding` |") and "`2.5`" in line for line in result.diff)
    assert check_file(ASSUMPTIONS, Context(scenario_dir=folder)).ok  # counts and calibrated list unchanged


def test_cli_check_fails_on_a_tampered_copy_and_docs_repairs_it(tmp_path, capsys):
    copy = tmp_path / "ODD.md"
    lines = ODD.read_text(encoding="utf-8").split("\n")
    row = next(i for i, line in enumerate(lines) if line.startswith("| `behaviour.crowding` |"))
    fake = "| `levers.f9_magic.power` | a lever nobody wrote | `1` |  | x | [0, 1] | F9 | assumption | none |"
    copy.write_text("\n".join(lines[:row] + [fake] + lines[row + 1 :]), encoding="utf-8")
    assert main(["docs", "--check", "--out", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "parameters missing from the document: behaviour.crowding" in out
    assert "parameters the document names but the schema lacks: levers.f9_magic.power" in out
    assert "run `scsim docs`" in out
    assert main(["docs", "--out", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == ODD.read_text(encoding="utf-8")


def test_regeneration_rewrites_only_the_blocks(tmp_path, ctx):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Hand-written title\n\nprose *stays*\n<!-- BEGIN GENERATED: provenance-summary -->\n"
        "stale text\n<!-- END GENERATED -->\n\nclosing prose\n",
        encoding="utf-8",
    )
    assert not check_file(doc, ctx).ok
    assert regenerate_file(doc, ctx) is True
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Hand-written title\n\nprose *stays*\n<!-- BEGIN GENERATED: provenance-summary -->\n")
    assert text.endswith("<!-- END GENERATED -->\n\nclosing prose\n")
    assert "stale text" not in text and "`competition.foreign_bids_mean`" in text
    assert check_file(doc, ctx).ok and regenerate_file(doc, ctx) is False


@pytest.mark.parametrize(
    "body, message",
    [
        ("no markers at all\n", "no generated blocks"),
        ("<!-- BEGIN GENERATED: nonsense -->\n<!-- END GENERATED -->\n", "unknown generated block 'nonsense'"),
        ("<!-- BEGIN GENERATED: parameters -->\nnever closed\n", "has no <!-- END GENERATED -->"),
        ("<!-- END GENERATED -->\n", "without a BEGIN GENERATED marker"),
    ],
)
def test_malformed_documents_are_refused(tmp_path, capsys, body, message):
    doc = tmp_path / "bad.md"
    doc.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)):
        check_file(doc, Context())
    assert main(["docs", "--check", "--out", str(doc)]) == 2
    assert message in capsys.readouterr().err

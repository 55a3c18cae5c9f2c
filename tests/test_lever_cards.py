"""`scsim levers`: the 25 measures' cards, regenerable and checked stale; calibration targets are
fitted checks, the rest held out, and validate-model says which is which."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import ROOT

from simulation.analysis.calibration.spec import load_calibration
from simulation.analysis.levers.cards import ratio_ci
from simulation.analysis.levers.measures import measures
from simulation.analysis.levers.render import BEGIN, END
from simulation.analysis.validation.spec import load_validation
from simulation.cli import main
from simulation.scenario.errors import InputError

CARDS = str(ROOT / "experiments" / "lever_cards.yaml")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The cards on 2 parameter sets x 1 replication into a fresh page."""
    tmp = tmp_path_factory.mktemp("levers")
    doc = tmp / "levers.md"
    assert (
        main(["levers", CARDS, "--sets", "2", "--reps", "1", "--doc", str(doc), "--out", str(tmp / "res"), "--quiet"])
        == 0
    )
    return tmp, doc


def test_every_measure_has_a_card_alone_and_in_the_plan(quick):
    _, doc = quick
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Lever cards") and BEGIN in text and END in text
    block = text[text.index(BEGIN) : text.index(END)]
    alone = block[block.index("### Each measure alone") : block.index("### Each measure removed")]
    removed = block[block.index("### Each measure removed") : block.index("### The evidence")]
    for m in measures():
        row = next(ln for ln in alone.splitlines() if ln.startswith(f"| {m.code} |"))
        assert re.search(r"\| [+-][\d,.]+ \[", row), row  # an effect with its interval
        assert any(ln.startswith(f"| {m.code} |") for ln in removed.splitlines())
    # inert measures are named, with why
    for code, why in (("F2", "acts only on the PIS fund"), ("F4", "end after 2030"), ("C3", "brokers")):
        row = next(ln for ln in alone.splitlines() if ln.startswith(f"| {code} |"))
        assert ("inert" in row or "buys nothing" in row) and why in row, row
    assert "The whole plan against no plan: value won" in block and "KRW of value won per public KRW" in block


def test_the_cards_come_as_a_report_section(quick, capsys):
    tmp, _ = quick
    page = (tmp / "res" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Lever cards" in page and "data:image/svg+xml;base64," in page
    for m in measures():
        assert f'<td class="">{m.code}</td>' in page
    assert "The whole plan against no plan" in page and "KRW bn" in page and "USD m" in page
    assert (tmp / "res" / "figures" / "lever_cards.png").is_file()
    # and `scsim report` rebuilds it from the tables
    assert main(["report", str(tmp / "res"), "--out", str(tmp / "again.html")]) == 0
    assert "Lever cards" in (tmp / "again.html").read_text(encoding="utf-8")


def test_cards_are_checked_stale_and_regenerated(quick, capsys):
    tmp, doc = quick
    assert main(["levers", CARDS, "--sets", "2", "--reps", "1", "--doc", str(doc), "--check", "--quiet"]) == 0
    assert "up to date" in capsys.readouterr().out
    tampered = tmp / "tampered.md"
    text = doc.read_text(encoding="utf-8")
    tampered.write_text(text.replace("| F1 |", "| F1 (edited) |", 1), encoding="utf-8")
    before = tampered.read_text(encoding="utf-8")
    assert main(["levers", CARDS, "--sets", "2", "--reps", "1", "--doc", str(tampered), "--check", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "is stale" in out and str(tampered) in out
    assert tampered.read_text(encoding="utf-8") == before, "--check writes nothing"


def test_cards_do_not_depend_on_the_number_of_workers(quick, tmp_path):
    _, doc = quick  # written with all cores
    serial = tmp_path / "serial.md"
    assert (
        main(
            [
                "levers",
                CARDS,
                "--sets",
                "2",
                "--reps",
                "1",
                "--doc",
                str(serial),
                "--out",
                str(tmp_path / "s"),
                "--quiet",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert serial.read_text(encoding="utf-8") == doc.read_text(encoding="utf-8")


def test_the_shipped_page_states_the_shipped_design():
    text = (ROOT / "docs" / "levers.md").read_text(encoding="utf-8")
    spec = yaml.safe_load(Path(CARDS).read_text(encoding="utf-8"))
    assert f"under {spec['sets']} parameter sets" in text and f"x {spec['replications']} replications" in text
    assert f"(master seed {spec['seed']})" in text


@pytest.mark.slow
def test_the_shipped_lever_cards_are_up_to_date():
    """The page in docs/ is what `scsim levers` computes now (recomputed in full: a few minutes)."""
    assert main(["levers", "--check", "--quiet"]) == 0


def test_calibration_targets_are_the_fitted_checks_and_only_they():
    cal = load_calibration(str(ROOT / "experiments" / "calibration.yaml"))
    targets = {(e.experiment.split("/")[-1], e.check) for e in cal.spec.effects}
    fitted, held_out = set(), set()
    for path in sorted((ROOT / "experiments" / "validation").glob("*.yaml")):
        for c in load_validation(str(path)).spec.checks:
            (fitted if c.role == "fitted" else held_out).add((path.name, c.name))
    assert targets == fitted and len(fitted) == 4
    assert len(held_out) >= 8  # a part of the evidence stays out of every fit


def test_a_held_out_check_cannot_be_a_calibration_target(tmp_path):
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copytree(ROOT / "experiments", tmp_path / "experiments")
    path = tmp_path / "experiments" / "calibration.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "check: kotra_centre_effect", "check: kotra_centre_effect\n    # x", 1
    )
    text = text.replace(
        "experiment: validation/kotra_centres.yaml\n    check: kotra_centre_effect",
        "experiment: validation/high_level_visits.yaml\n    check: visit_effect_fades",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_calibration(str(path))
    assert "not marked `role: fitted`" in err.value.message and err.value.line is not None


def test_validate_model_reports_held_out_checks_apart_from_fitted_ones(tmp_path, capsys):
    exps = [str(ROOT / "experiments" / "validation" / f) for f in ("mou.yaml", "high_level_visits.yaml")]
    assert main(["validate-model", *exps, "--reps", "2", "--out", str(tmp_path / "v"), "--quiet"]) == 0
    out = capsys.readouterr().out
    held = out[out.index("Held-out checks") : out.index("Fitted checks")]
    fitted = out[out.index("Fitted checks") :]
    assert "visit_effect_fades" in held and "visit_effect_first_year" not in held and "mou_effect" not in held
    assert "visit_effect_first_year" in fitted and "mou_effect" in fitted and "not validation" in fitted


def test_value_per_krw_is_unbounded_when_the_cost_change_may_be_zero():
    """A measure whose cost change is noise around zero has no finite value per KRW: the card says so
    instead of percentiles that exclude its own estimate (T5 once read 917 [-662, 628])."""
    import math

    import numpy as np

    rng = np.random.default_rng(1)
    sets = np.repeat(np.arange(10), 3)
    value = rng.normal(100.0, 30.0, 30)
    est, lo, hi = ratio_ci(value, rng.normal(0.05, 1.0, 30), sets)
    assert math.isfinite(est) and (lo, hi) == (-math.inf, math.inf)
    est, lo, hi = ratio_ci(value, rng.normal(10.0, 1.0, 30), sets)
    assert 0.0 < lo <= est <= hi < math.inf


def test_the_bootstrap_draws_all_resamples_at_once_as_it_would_one_by_one():
    """The cards' intervals come from 2,000 resamples each; drawn at once (the fast path) they are
    the resamples of the one-at-a-time loop, number for number, so the page does not depend on it."""
    import numpy as np

    from simulation.analysis.levers import cards

    assert cards._bounded_as_numpy(), "this numpy draws bounded integers as the fast path assumes"
    rng = np.random.default_rng(7)
    for n_sets, size in ((30, 2), (1, 3), (12, 1), (6, 8)):
        sets = np.repeat(np.arange(n_sets), size)
        num, den = rng.normal(50.0, 20.0, len(sets)), rng.normal(2.0, 1.5, len(sets))
        at_once = cards._equal_sets(
            num, den, np.arange(len(sets)).reshape(n_sets, size), den.sum(), rng_a := np.random.default_rng(3)
        )
        loop = np.empty(cards.BOOTSTRAP)
        rng_b = np.random.default_rng(3)
        groups = [np.flatnonzero(sets == k) for k in range(n_sets)]
        for b in range(cards.BOOTSTRAP):
            idx = np.concatenate([groups[i][rng_b.integers(0, size, size)] for i in rng_b.integers(0, n_sets, n_sets)])
            dd = den[idx].sum()
            loop[b] = num[idx].sum() / dd if abs(dd) > 1e-12 and (dd > 0.0) == (den.sum() > 0.0) else np.inf
        assert at_once is not None and np.array_equal(at_once, loop), (n_sets, size)
        assert rng_a.bit_generator.state == rng_b.bit_generator.state, "and leaves the generator where the loop does"

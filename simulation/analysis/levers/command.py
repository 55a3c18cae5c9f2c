"""`scsim levers [CARDS.yaml] [--check]`: run the lever cards and write docs/levers.md (and the tables)."""

from __future__ import annotations

import difflib
import os
import shlex
import time
from pathlib import Path

from simulation.analysis.levers.cards import Design, cards, plan_effect, run
from simulation.analysis.levers.render import render, splice
from simulation.analysis.levers.spec import load_cards
from simulation.io import atomic_write
from simulation.scenario.errors import InputError
from simulation.scenario.shipped import find

DEFAULT = "experiments/lever_cards.yaml"
EXIT_STALE = 1
HEAD = """# Lever cards

What each of the plan's 25 measures buys: alone against the no-plan world, and removed from the whole
plan (what it adds to the rest), with what it costs the public purse and the published evidence beside
it. Every interval spans the uncertainty ensemble (`experiments/parameter_sets.yaml`: the calibrated
region of the no-plan world and the evidence ranges of the lever effects), not only replication noise.
Regenerate with `scsim levers`; `scsim levers --check` recomputes and exits 1 when this page is stale.
The mechanisms are in [model.md](model.md), the checks against published effects in
[validation.md](validation.md).

"""


def default_file() -> str:
    """experiments/lever_cards.yaml from here, else the shipped one (clone or wheel)."""
    if os.path.isfile(DEFAULT):
        return DEFAULT
    shipped = find(DEFAULT, "experiments")
    return str(shipped) if shipped is not None else DEFAULT


def levers_command(
    file: str | None,
    check: bool,
    doc: str | None,
    out: str | None,
    sets: int | None,
    reps: int | None,
    quiet: bool,
    force: bool,
    argv: list[str],
    workers: int | None = None,
) -> int:
    from simulation.experiment.outputs import check_target, git_commit, versions, write_results

    path = file or default_file()
    loaded = load_cards(path, sets=sets, reps=reps)
    doc_path = Path(doc or loaded.doc)
    if not doc_path.parent.is_dir():
        raise InputError(
            "the folder of the lever-cards page does not exist (an installed package has no "
            "docs/: name the page with --doc FILE.md)",
            str(doc_path.parent),
        )
    folder = Path(out) if out else Path("results") / f"levers-{loaded.hash[:10]}"
    own = out is None  # the default folder is named by the cards' hash: the same cards, the same results
    if not check:
        check_target(folder, force or own)
    design = Design(loaded.base, loaded.plan, loaded.sets, loaded.seeds)
    n_runs = len(design.sets) * len(design.seeds) * (2 + 2 * 25)
    print(
        f"lever cards: 25 measures alone and removed from the plan, {len(design.sets)} parameter sets x "
        f"{len(design.seeds)} replications ({n_runs} runs)",
        flush=True,
    )
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=n_runs, unit="run", leave=False)
    t0 = time.perf_counter()
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    table = run(design, bar.update if bar is not None else (lambda n: None), workers)
    if bar is not None:
        bar.close()
    frame = cards(table)
    whole = plan_effect(table)
    block = render(loaded, frame, whole)
    old = doc_path.read_text(encoding="utf-8") if doc_path.exists() else HEAD
    new = splice(old, block, str(doc_path))
    if check:
        if new == old:
            print(f"up to date: {doc_path}")
            return 0
        diff = difflib.unified_diff(old.splitlines(), new.splitlines(), str(doc_path), "regenerated", lineterm="", n=0)
        print("\n".join(list(diff)[:60]))
        print(f"{doc_path} is stale: run `scsim levers` to regenerate it, then commit the result")
        return EXIT_STALE
    manifest = {
        "kind": "levers",
        "format": 1,
        "file": loaded.file,
        "hash": loaded.hash,
        "spec": loaded.raw,
        "sets": loaded.sets,
        "seeds": loaded.seeds,
        "whole_plan": whole,
        "doc": str(doc_path),
        "seconds": round(time.perf_counter() - t0, 3),
        "git_commit": git_commit(),
        "versions": versions(),
        "command": "scsim " + " ".join(shlex.quote(a) for a in argv),
    }
    write_results(folder, {"cards": frame}, manifest, force or own)
    atomic_write(doc_path, new)
    from simulation.present.report import write_report

    rep = write_report(folder, force=True)  # the cards as a report section, beside the tables
    print(block)
    print(f"report: {rep.path} (figure in {rep.figures_dir}/)")
    print(
        f"{n_runs} runs in {time.perf_counter() - t0:.0f} s; cards in {folder}/ (cards.csv/.parquet, manifest.json); "
        f"page: {doc_path}"
    )
    return 0

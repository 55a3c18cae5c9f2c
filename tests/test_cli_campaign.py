"""A fuzz campaign through the command line: mutated shipped scenarios and experiments, run for real.

The hypothesis tests (test_scenario_fuzz.py) only load scenarios. Here a fixed, seeded list of
mutations of the shipped `scenarios/*.yaml` and `experiments/*.yaml` goes through `scsim validate`,
`scsim run --reps 1` and `scsim sweep` on a tiny design, all in one worker process that calls the
CLI's `main()` exactly as `python -m simulation` does (so a compile-once numba cache and the
imports are paid once). Every command must end in status 0 or 2; never in a traceback; every
refusal is one line naming the file and line it blames; and a refused command writes nothing.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT
from test_scenario_fuzz import _walk

SEED = 13
N_SCENARIOS = 60
N_EXPERIMENTS = 48
HOSTILE = [
    -1,
    -1e9,
    0,
    1.5,
    1e12,
    10**40,
    "x",
    "",
    "2031-01",
    "9999-12",
    "../../etc/passwd",
    True,
    None,
    [],
    {},
    [1, 2],
    {"2019-07": 1, "2031-01": 2},
    {"value": 1, "unit": "parsecs"},
    "1e400",
    0.5,
]
# reasons a message cannot carry a line: the file itself is missing, unreadable or not YAML
NO_LINE = ("not found", "not a YAML file", "is a directory", "larger than", "empty scenario file")

HARNESS = r"""
import contextlib, io, json, os, sys, traceback
from simulation.cli import main

def listing(root):
    out = {}
    for d, subs, files in os.walk(root):
        for n in files + subs:
            p = os.path.join(d, n)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns) if n in files else "dir"
    return out

results = []
for argv in json.load(open(sys.argv[1])):
    before = listing(".")
    out, err = io.StringIO(), io.StringIO()
    code, tb = None, None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        tb = traceback.format_exc()
    after = listing(".")
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    results.append({"argv": argv, "code": code, "stderr": err.getvalue(), "stdout": out.getvalue()[-300:],
                    "traceback": tb, "changed": changed[:20]})
json.dump(results, open(sys.argv[2], "w"))
"""


# ---- mutations -------------------------------------------------------------------------------------
def _set(tree, path, value):
    for k in path[:-1]:
        tree = tree[k]
    tree[path[-1]] = value


def _del(tree, path):
    for k in path[:-1]:
        tree = tree[k]
    del tree[path[-1]]


def mutate(rng: random.Random, tree: dict) -> tuple[str, dict | str]:
    """One mutation of a YAML tree: (what was done, new tree or raw text)."""
    nodes = [(p, n) for p, n in _walk(tree) if p]
    kind = rng.choice(["nudge", "nudge", "leaf", "leaf", "delete", "unknown", "unit", "link", "raw"])
    numbers = [(p, n) for p, n in nodes if isinstance(n, (int, float)) and not isinstance(n, bool)]
    if kind == "nudge" and numbers:  # a plausible edit: often valid, so the run goes ahead
        path, value = rng.choice(numbers)
        new = type(value)(value * rng.choice([0.5, 0.9, 1.1, 2.0])) if value else 1
        _set(tree, path, new)
        return f"{'.'.join(map(str, path))}: {value!r} -> {new!r}", tree
    if kind in ("leaf", "nudge"):
        path, _ = rng.choice(nodes)
        value = rng.choice(HOSTILE)
        _set(tree, path, value)
        return f"{'.'.join(map(str, path))} = {value!r}", tree
    if kind == "delete":
        path, _ = rng.choice(nodes)
        _del(tree, path)
        return f"delete {'.'.join(map(str, path))}", tree
    if kind == "unknown":
        maps = [(p, n) for p, n in _walk(tree) if isinstance(n, dict)]
        path, node = rng.choice(maps)
        node[rng.choice(["zz_unknown", "valu", "provenence", "extends", "take", "0"])] = rng.choice(HOSTILE)
        return f"unknown key under {'.'.join(map(str, path)) or '<top>'}", tree
    if kind == "unit":
        maps = [(p, n) for p, n in _walk(tree) if isinstance(n, dict) and "value" in n]
        if maps:
            path, node = rng.choice(maps)
            node["unit"] = rng.choice(["parsecs", "fraction", "KRW bn", ""])
            return f"unit on {'.'.join(map(str, path))}", tree
        return "unchanged", tree
    if kind == "link":
        key = rng.choice(["extends", "base", "take"])
        target = rng.choice(
            [
                "/etc/passwd",
                "../../../../etc/hostname",
                "nothere.yaml",
                "/tmp",
                "no_plan.yaml",
                "../scenarios/no_plan.yaml",
                "README.md",
                "../experiments/smoke.yaml",
            ]
        )
        tree[key] = [{"from": target, "keys": ["levers.f1_pis"]}] if key == "take" else target
        return f"{key}: {target}", tree
    text = yaml.safe_dump(tree, sort_keys=False)
    cut = rng.randrange(len(text))
    return "raw", rng.choice(
        [
            text[:cut],
            text[:cut] + "\t: [\n",
            text.replace(":", "", 1),
            "",
            "- a\n- b\n",
            "x: &a [*a]\n",
            "\x00\x01binary",
        ]
    )


def experiment_mutation(rng: random.Random, tree: dict) -> tuple[str, dict | str]:
    """Mutations aimed at experiment files: keys, designs, seeds, names, sizes."""
    factors = tree.setdefault("factors", [])
    pick = rng.randrange(12)
    if pick == 0 and factors:
        factors[0]["key"] = rng.choice(["", "a..b", ".", "levers.c5_roadshows", "levers.zz_none.x", "time.end"])
        factors[0].pop("keys", None)
        return f"factor key {factors[0]['key']!r}", tree
    if pick == 1 and factors:
        factors.append(dict(factors[0], name="again"))
        return "two factors on one path", tree
    if pick == 2:
        tree["design"] = dict(tree.get("design") or {}, seed=rng.choice([2**32, 2**40 + 7, -1, "x", 2**32 - 1]))
        return f"design seed {tree['design']['seed']!r}", tree
    if pick == 3:
        tree["name"] = rng.choice([".", "..", ".hidden", "a/b", "", "x" * 90, "ok_name"])
        return f"name {tree['name']!r}", tree
    if pick == 4:
        tree["replications"] = rng.choice([0, -1, 10**6, 10**9, "two", 1])
        return f"replications {tree['replications']!r}", tree
    if pick == 5:
        keys = [
            "levers.n2_subsidy.ratio.sme",
            "levers.n2_subsidy.ratio.startup",
            "world.alliance_share",
            "world.capability_sd",
            "behaviour.margin",
            "behaviour.partner_prob",
        ]
        tree["factors"] = [{"key": k, "role": "lever", "range": [0.1, 0.9]} for k in keys]
        tree["design"] = {"type": "grid", "levels": rng.choice([20, 100])}
        return "huge grid", tree
    if pick == 6:
        tree["design"] = rng.choice(
            [
                {"type": "lhs", "samples": 10**6},
                {"type": "sobol", "samples": 3},
                {"type": "morris", "samples": 2, "levels": 3},
                {"type": "factorial"},
                {"type": "grid", "samples": 4},
                {"type": "list"},
            ]
        )
        return f"design {tree['design']}", tree
    if pick == 7:
        tree["set"] = rng.choice(
            [
                {"": 1},
                {"time.end": "2019-01"},
                {"levers..x": 1},
                {"time": "2020"},
                {"world.n_firms": -5},
                {"world.countries_file": "/etc/passwd"},
            ]
        )
        return f"set {tree['set']}", tree
    if pick == 8:
        tree["outputs"] = {"metrics": rng.choice([["nope"], [], "some"]), "groups": ["all"]}
        return "outputs", tree
    return mutate(rng, tree)


def _tiny(tree: dict) -> dict:
    """A shipped experiment made small enough to run in a second or two."""
    tree = dict(tree)
    tree["set"] = dict(tree.get("set") or {}, **{"world.n_firms": 60})
    tree["replications"] = 1
    d = dict(tree.get("design") or {})
    if d.get("type") in ("lhs", "morris"):
        d["samples"] = 2
    if d.get("type") == "sobol":
        d["samples"] = 2
    if d.get("type") == "grid":
        tree["factors"] = [dict(f, values=f["values"][:2]) if "values" in f else f for f in tree.get("factors", [])][:2]
    if d.get("type") == "list":
        d["points"] = d.get("points", [])[:3]
    tree["design"] = d
    return tree


def build_campaign(ws: Path) -> list[tuple[list[str], str, list[str]]]:
    """(argv, what was mutated, the input files) for every command, from the seeded list of mutations."""
    rng = random.Random(SEED)
    cases = []
    shipped = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
    for i in range(N_SCENARIOS):
        src = shipped[i % len(shipped)]
        tree = yaml.safe_load((ROOT / "scenarios" / src).read_text(encoding="utf-8"))
        what, new = mutate(rng, tree)
        name = f"mut{i:02d}.yaml"
        text = new if isinstance(new, str) else yaml.safe_dump(new, sort_keys=False, allow_unicode=True)
        (ws / "scenarios" / name).write_text(text, encoding="utf-8", errors="surrogateescape")
        f = f"scenarios/{name}"
        cases.append((["validate", f], f"{src}: {what}", [f]))
        cases.append(
            (["run", f, "--reps", "1", "--quiet", "--no-report", "--out", f"out/s{i:02d}"], f"{src}: {what}", [f])
        )
    experiments = ["smoke.yaml", "packages.yaml", "sobol.yaml", "lever_grid.yaml"]
    for i in range(N_EXPERIMENTS):
        src = experiments[i % len(experiments)]
        tree = _tiny(yaml.safe_load((ROOT / "experiments" / src).read_text(encoding="utf-8")))
        what, new = experiment_mutation(rng, tree)
        name = f"emut{i:02d}.yaml"
        text = new if isinstance(new, str) else yaml.safe_dump(new, sort_keys=False, allow_unicode=True)
        (ws / "experiments" / name).write_text(text, encoding="utf-8", errors="surrogateescape")
        f = f"experiments/{name}"
        cases.append((["sweep", f, "--quiet", "--out", f"out/e{i:02d}"], f"{src}: {what}", [f]))
    return cases


MESSAGE = re.compile(r"^error: (?P<file>[^:]+?)(?::(?P<line>\d+))?: ")


@pytest.mark.slow
def test_mutated_inputs_through_the_cli_end_in_0_or_2_with_file_and_line(tmp_path):
    ws = tmp_path
    shutil.copytree(ROOT / "scenarios", ws / "scenarios")
    (ws / "experiments").mkdir()
    (ws / "out").mkdir()
    cases = build_campaign(ws)
    (ws / "commands.json").write_text(json.dumps([argv for argv, _, _ in cases]))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", HARNESS, str(ws / "commands.json"), str(tmp_path / "results.json")],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    problems, codes = [], {}
    for (argv, what, _inputs), r in zip(cases, results, strict=True):
        tag = f"{' '.join(argv[:2])} ({what})"
        codes[r["code"]] = codes.get(r["code"], 0) + 1
        if r["traceback"] or "Traceback" in r["stderr"]:
            problems.append(f"{tag}: traceback\n{(r['traceback'] or r['stderr'])[-1500:]}")
            continue
        if r["code"] not in (0, 2):
            problems.append(f"{tag}: exit {r['code']}: {r['stderr'][-500:]} {r['stdout']}")
            continue
        if r["code"] == 2:
            lines = r["stderr"].strip().splitlines()
            m = MESSAGE.match(lines[0]) if len(lines) == 1 else None
            if m is None:
                problems.append(f"{tag}: not one `error: FILE:LINE: ...` line: {r['stderr']!r}")
            elif not m["file"].endswith((".yaml", ".yml", ".csv")) and not m["file"].startswith(("/", "..")):
                problems.append(f"{tag}: no file named: {lines[0]}")
            elif m["line"] is None and not any(s in lines[0] for s in NO_LINE):
                problems.append(f"{tag}: no line: {lines[0]}")
            if r["changed"]:
                problems.append(f"{tag}: refused but wrote {r['changed']}")
    assert not problems, f"{len(problems)} of {len(cases)} commands misbehaved:\n" + "\n".join(problems)
    assert codes.get(0, 0) >= 10 and codes.get(2, 0) >= 30, f"the campaign must both run and refuse: {codes}"

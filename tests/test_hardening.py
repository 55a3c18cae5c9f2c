"""Issue 13, defect by defect, through the real command line (`python -m simulation`, this worktree's code).

1 huge designs refused up front; 3 two factors on one key path; 4 an empty key; 5 a design seed
>= 2**32; 6 two sweeps on one folder; 7 "missing" naming the right file and line; 8 what a kill
leaves behind; 9 file contents in messages; 10 '.' and '..' as names; 11 the smaller ones.
(2, the leak per run, is in test_engine.py; 12, the fuzz campaign, in test_cli_campaign.py.)
Every refusal is exit status 2, one `error:` line with no traceback, and nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT
from test_bad_input import error_line, snapshot

ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
KILL_ENV = {**ENV, "SCSIM_RUNS_PER_FILE": "1"}  # a sweep writing a file per run, to be killed after so many
SHORT = {"time.end": "2020-12", "world.n_firms": 60}


def scsim(*args: str, cwd: Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulation", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def start(script: str, *args: str, cwd: Path) -> subprocess.Popen:
    """A CLI process with a hook (the `script` prelude), to be killed at a chosen moment."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen, word: str, timeout: float = 300) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        line = proc.stdout.readline()
        if word in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"ended before {word}: {proc.stderr.read()}")
    raise AssertionError(f"no {word} within {timeout} s")


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A working folder with copies of the shipped scenarios and experiments."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "experiments").mkdir()
    return tmp_path


def experiment(ws: Path, body: str, name: str = "exp", fixed: dict | None = None) -> str:
    """experiments/NAME.yaml on the (copied) no-plan world, short and small unless `fixed` says otherwise."""
    fixed = SHORT if fixed is None else fixed
    head = f"name: {name}\nbase: ../scenarios/no_plan.yaml\n"
    if fixed:
        head += "set:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in fixed.items())
    (ws / "experiments" / f"{name}.yaml").write_text(head + textwrap.dedent(body), encoding="utf-8")
    return f"experiments/{name}.yaml"


def refused(proc: subprocess.CompletedProcess, where: str, *needles: str) -> str:
    msg = error_line(proc)
    assert msg.startswith(f"error: {where}"), f"expected {where!r} first:\n{msg}"
    for n in needles:
        assert n in msg, f"{n!r} not in\n{msg}"
    return msg


GRID = (
    "factors:\n"
    + "".join(
        f"  - {{key: {k}, role: lever, range: [0.1, 0.9]}}\n"
        for k in (
            "levers.n2_subsidy.ratio.sme",
            "levers.n2_subsidy.ratio.startup",
            "levers.n2_subsidy.ratio.mid",
            "levers.n2_subsidy.ratio.large",
            "world.alliance_share",
            "world.capability_sd",
            "behaviour.margin",
            "behaviour.partner_prob",
        )
    )
    + "design: {type: grid, levels: 100}\n"
)


def _limited() -> None:  # at most 4 GB of address space: a design that fills memory fails instead of swapping
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


# ---- 1. huge designs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, count",
    [
        pytest.param(GRID, "10,000,000,000,000,000 points", id="8_factors_x_100_levels"),
        pytest.param(
            "factors:\n"
            + "".join(
                f"  - {{key: {k}, role: lever, values: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]}}\n"
                for k in [f"levers.n2_subsidy.ratio.{s}" for s in ("sme", "startup", "mid", "large")]
            )
            * 1
            + "design: {type: grid}\nreplications: 100000\n",
            "656,100,000 runs",
            id="grid_x_replications",
        ),
        pytest.param(
            "factors:\n  - {key: world.alliance_share, role: uncertainty, range: [0.1, 0.9]}\n"
            "design: {type: lhs, samples: 1000000}\nreplications: 100000\n",
            "100,000,000,000 runs",
            id="lhs_1e6_samples_x_1e5_replications",
        ),
    ],
)
def test_a_huge_design_is_refused_at_once_and_writes_nothing(ws, body, count):
    path = experiment(ws, body)
    before = snapshot(ws)
    t0 = time.monotonic()
    proc = scsim("sweep", path, "--quiet", cwd=ws, timeout=60, preexec_fn=_limited)
    assert time.monotonic() - t0 < 30, "refused before anything is built"
    msg = refused(proc, f"{path}:", "design:", count, "limit of 1,000,000 runs", "--max-runs")
    assert snapshot(ws) == before, f"nothing written: {msg}"


def test_max_runs_lowers_and_raises_the_limit_on_purpose(ws):
    path = experiment(
        ws,
        "factors:\n  - {key: levers.c5_roadshows.per_year, role: lever, values: [1, 5]}\n"
        "design: {type: grid}\nreplications: 2\n",
    )
    refused(scsim("sweep", path, "--quiet", "--max-runs", "3", cwd=ws), f"{path}:", "4 runs", "limit of 3 runs")
    assert not (ws / "results").exists()
    proc = scsim("sweep", path, "--quiet", "--max-runs", "4", "--no-analysis", cwd=ws)
    assert proc.returncode == 0 and "4 runs done" in proc.stdout, proc.stderr
    refused(scsim("run", "scenarios/no_plan.yaml", "--reps", "1000000", cwd=ws), "", "1,000,000 runs")
    refused(
        scsim(
            "compare",
            "scenarios/no_plan.yaml",
            "scenarios/plan_2019_announced.yaml",
            "--reps",
            "3",
            "--max-runs",
            "5",
            cwd=ws,
        ),
        "",
        "6 runs",
        "limit of 5 runs",
    )
    assert sorted(os.listdir(ws / "results")) == ["exp"]


# ---- 3, 4. key paths -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, line, key, needle",
    [
        (
            "factors:\n  - {key: levers.c5_roadshows.per_year, role: lever, values: [1, 5]}\n"
            "  - {key: levers.c5_roadshows.per_year, name: again, role: lever, values: [2, 3]}\n",
            8,
            "factors.1.key",
            "the same key path",
        ),
        (
            "factors:\n  - {key: levers.n2_subsidy.ratio, role: lever, values: [{sme: 0.7, startup: 0.7}]}\n"
            "  - {key: levers.n2_subsidy.ratio.sme, role: lever, values: [0.5, 0.6]}\n",
            8,
            "factors.1.key",
            "overlapping key paths",
        ),
        (
            "factors:\n  - keys: [levers.c5_roadshows.per_year, levers.c5_roadshows]\n    role: lever\n"
            "    values: [[1, {per_year: 2}]]\n",
            7,
            "factors.0.keys",
            "overlapping",
        ),
        ("factors:\n  - {key: '', role: lever, values: [1, 2]}\n", 7, "factors.0.key", "a key path is names"),
        (
            "factors:\n  - {key: levers..c5_roadshows, role: lever, values: [1, 2]}\n",
            7,
            "factors.0.key",
            "a key path is names",
        ),
    ],
)
def test_empty_duplicate_or_overlapping_key_paths_are_refused_before_any_run(ws, body, line, key, needle):
    path = experiment(ws, body + "design: {type: grid}\n")
    before = snapshot(ws)
    refused(scsim("sweep", path, "--quiet", cwd=ws), f"{path}:{line}: {key}:", needle)
    assert snapshot(ws) == before


def test_a_design_refused_while_it_is_built_writes_nothing(ws):
    path = experiment(
        ws,
        "factors:\n  - {key: world.alliance_share, role: uncertainty, "
        "distribution: {name: normal, mean: 0.1, sd: 0.5}}\ndesign: {type: lhs, samples: 64}\n",
    )
    before = snapshot(ws)
    refused(scsim("sweep", path, "--quiet", cwd=ws), f"{path}:7: factors.0:", "alliance_share")
    assert snapshot(ws) == before, "no results/ folder, no lock file"


def test_a_list_point_setting_one_path_twice_is_refused(ws):
    path = experiment(
        ws,
        "design:\n  type: list\n  points:\n    - name: a\n      set:\n"
        "        levers.n2_subsidy.ratio: {sme: 0.7, startup: 0.7}\n"
        "        levers.n2_subsidy.ratio.sme: 0.9\n",
    )
    refused(
        scsim("sweep", path, "--quiet", cwd=ws),
        f"{path}:12: design.points.0.set.levers.n2_subsidy.ratio.sme:",
        "overlapping",
    )


# ---- 5. design seeds ---------------------------------------------------------------------------------
def test_a_design_seed_beyond_32_bits_runs_and_is_analysed(ws):
    path = experiment(
        ws,
        "factors:\n  - {key: levers.c5_roadshows.per_year, role: lever, range: [1, 9], "
        "integer: true}\n  - {key: world.alliance_share, role: uncertainty, range: [0.1, 0.5]}\n"
        f"design: {{type: lhs, samples: 8, seed: {2**40 + 3}}}\n",
        fixed=dict(SHORT),
    )
    proc = scsim("sweep", path, "--quiet", cwd=ws)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (ws / "results" / "exp" / "analysis" / "pawn.csv").is_file()
    again = scsim("analyze", "results/exp", cwd=ws)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr


# ---- 6. one writer per folder -------------------------------------------------------------------------
# a sweep that, after each run it records, waits until the file named by argv[2] exists (at most 2
# minutes): it holds its folder for as long as the test needs, however slowly the machine starts a
# second process (a fixed 0.5 s a run was once too short on a loaded machine)
HOLD_RUN = """
import os, sys, time
import simulation.experiment.sweep as sw
real = sw.record_outcome
def record(*a, **k):
    real(*a, **k)
    print("RUN", flush=True)
    t0 = time.monotonic()
    while not os.path.exists(sys.argv[2]) and time.monotonic() - t0 < 120:
        time.sleep(0.02)
sw.record_outcome = record
from simulation.cli import main
sys.exit(main(["sweep", sys.argv[1], "--quiet"]))
"""


def test_a_second_sweep_on_the_same_folder_exits_2_and_a_dead_owners_lock_is_taken_over(ws):
    path = experiment(
        ws,
        "factors:\n  - {key: levers.c5_roadshows.per_year, role: lever, values: [1, 5]}\n"
        "design: {type: grid}\nreplications: 2\n",
    )
    release = ws / "release"
    first = start(HOLD_RUN, path, str(release), cwd=ws)
    try:
        wait_for(first, "RUN")
        lock = ws / "results" / ".exp.lock"
        owner = json.loads(lock.read_text())
        assert owner["pid"] == first.pid
        msg = refused(
            scsim("sweep", path, "--quiet", cwd=ws), "results/exp: ", "in use by a sweep", f"process {first.pid}"
        )
        assert ".exp.lock" in msg
        release.touch()
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0 and "analysis in" in out, err
    finally:
        if first.poll() is None:
            kill(first)
    assert not lock.exists(), "the lock is removed when its sweep ends"
    # a lock left by a killed sweep (its process is gone) is taken over
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_text(json.dumps({"host": __import__("socket").gethostname(), "pid": int(dead.stdout)}))
    proc = scsim("sweep", path, "--quiet", cwd=ws)
    assert proc.returncode == 0 and "0 runs done, 4 already finished" in proc.stdout, proc.stderr
    assert hidden(ws / "results") == []


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from simulation.experiment.lock import sweep_lock
shard = tuple(map(int, sys.argv[2].split("/"))) if sys.argv[2] != "-" else None
with sweep_lock(Path(sys.argv[1]), shard):
    print("HELD", flush=True)
    time.sleep(600)
"""


def test_shards_lock_side_by_side_and_a_whole_sweep_excludes_them(tmp_path):
    from simulation.experiment import lock as lk
    from simulation.scenario.errors import InputError

    folder = tmp_path / "results" / "grid"
    holder = start(LOCK_HOLDER, str(folder), "1/2", cwd=tmp_path)
    try:
        wait_for(holder, "HELD")
        with lk.sweep_lock(folder, (2, 2)):  # another shard: fine
            pass
        for shard in ((1, 2), None):  # the same shard, or the whole plan: refused
            with (
                pytest.raises(InputError, match=f"in use by shard 1/2: process {holder.pid}"),
                lk.sweep_lock(folder, shard),
            ):
                pass
    finally:
        kill(holder)
    with lk.sweep_lock(folder):  # its process is gone: taken over
        assert json.loads((folder.parent / ".grid.lock").read_text())["pid"] == os.getpid()
    # a lock of another host: alive while it is touched, taken over once it has not been for LOCK_STALE_SECONDS
    other = folder.parent / ".grid.lock"
    other.write_text(json.dumps({"host": "node-17", "pid": 4242, "since": "earlier"}))
    with pytest.raises(InputError, match="process 4242 on host node-17"), lk.sweep_lock(folder):
        pass
    old = time.time() - lk.LOCK_STALE_SECONDS - 5
    os.utime(other, (old, old))
    with lk.sweep_lock(folder):
        pass
    assert hidden(folder.parent) == []


def test_concurrent_analysis_publishes_never_fail_and_a_reader_always_finds_a_whole_folder(tmp_path):
    from simulation.io import new_temp_dir, publish_dir

    final = tmp_path / "analysis"
    errors: list[BaseException] = []
    seen = []

    def writer(tag: str) -> None:
        try:
            for i in range(150):
                tmp = new_temp_dir(final)
                for name in ("a.csv", "b.csv", "summary.txt"):
                    (tmp / name).write_text(f"{tag}{i}")
                publish_dir(tmp, final)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def reader(stop: threading.Event) -> None:  # reads by path, as `scsim report` does
        while not stop.is_set():
            for name in ("a.csv", "summary.txt"):
                try:
                    text = (final / name).read_text()
                except FileNotFoundError:  # between two renames, where the file system cannot swap in one step
                    seen.append("missing")
                    continue
                seen.append("whole" if text[:1] in "xy" and text[1:].isdigit() else f"partial {text!r}")

    stop = threading.Event()
    r = threading.Thread(target=reader, args=(stop,))
    ws_ = [threading.Thread(target=writer, args=(t,)) for t in "xy"]
    r.start()
    for w in ws_:
        w.start()
    for w in ws_:
        w.join()
    stop.set()
    r.join()
    assert not errors, errors
    assert "whole" in seen and not [s for s in seen if s.startswith("partial")], "a reader saw a file being built"
    assert sorted(os.listdir(tmp_path)) == ["analysis"], "nothing left beside it"


# ---- 7. missing values ----------------------------------------------------------------------------------
def test_a_missing_value_names_the_file_that_should_set_it_with_a_line(ws):
    (ws / "scenarios" / "mou.yaml").write_text(
        "extends: no_plan.yaml\nname: m\nlevers:\n  t5_mou:\n    mous:\n      - {country: VNM}\n"
    )
    refused(
        scsim("validate", "scenarios/mou.yaml", cwd=ws), "scenarios/mou.yaml:6: levers.t5_mou.mous.0.date:", "missing"
    )
    (ws / "scenarios" / "lonely.yaml").write_text("name: lonely\ndescription: forgot extends\n")
    refused(scsim("validate", "scenarios/lonely.yaml", cwd=ws), "scenarios/lonely.yaml:1: ", "missing")
    (ws / "scenarios" / "half.yaml").write_text("name: half\ndescription: x\ntime:\n  start: 2019-07\n")
    msg = error_line(scsim("validate", "scenarios/half.yaml", cwd=ws))
    assert msg.startswith("error: scenarios/half.yaml:"), msg


# ---- 8. what a kill leaves behind ----------------------------------------------------------------------
HOLD_ANALYSIS = """
import sys, time
import simulation.analysis.analyze as an
real = an.format_analysis
def held(*a, **k):  # first called while the analysis is written into its temporary folder
    print("HOLD", flush=True)
    time.sleep(600)
an.format_analysis = held
from simulation.cli import main
sys.exit(main(["sweep", sys.argv[1], "--quiet"]))
"""

HOLD_REPORT = """
import sys, time
import simulation.present.report as rp
def held(*a, **k):  # after the figures, before the page
    print("HOLD", flush=True)
    time.sleep(600)
rp.render = held
from simulation.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_sweep_killed_while_writing_its_analysis_leaves_nothing_after_the_rerun(ws):
    path = experiment(
        ws, "factors:\n  - {key: levers.c5_roadshows.per_year, role: lever, values: [1, 5]}\ndesign: {type: grid}\n"
    )
    proc = start(HOLD_ANALYSIS, path, cwd=ws)
    wait_for(proc, "HOLD")
    kill(proc)
    out = ws / "results" / "exp"
    assert hidden(out), "the kill left the analysis's temporary folder"
    rerun = scsim("sweep", path, "--quiet", cwd=ws)
    assert rerun.returncode == 0, rerun.stderr
    assert hidden(out) == [] and hidden(ws / "results") == [], (hidden(out), hidden(ws / "results"))
    assert (out / "analysis" / "summary.txt").is_file()


def test_a_run_killed_in_its_report_step_is_finished_by_the_same_command(ws):
    cmd = ["run", "scenarios/no_plan.yaml", "--reps", "1", "--set", "time.end=2020-12", "--quiet", "--out", "r"]
    proc = start(HOLD_REPORT, *cmd, cwd=ws)
    wait_for(proc, "HOLD")
    kill(proc)
    assert (ws / "r" / "summary.csv").is_file() and not (ws / "r" / "report.html").exists()
    again = scsim(*cmd, cwd=ws)
    assert again.returncode == 0 and "already exist" in again.stdout, again.stderr
    assert (ws / "r" / "report.html").is_file()
    figures = ws / "r" / "figures"
    assert hidden(figures) == [] and hidden(ws / "r") == [] and hidden(ws) == []
    stems = {p.stem for p in figures.iterdir()}
    assert stems and all((figures / f"{s}.png").is_file() and (figures / f"{s}.svg").is_file() for s in stems)


def test_force_onto_a_symlinked_folder_leaves_nothing_beside_it(ws):
    (ws / "real").mkdir()
    (ws / "link").symlink_to("real")
    quick = ["--reps", "1", "--set", "time.end=2020-12", "--quiet", "--no-report"]
    for seed in ("1", "2"):
        proc = scsim("run", "scenarios/no_plan.yaml", "--seed", seed, "--out", "link", "--force", *quick, cwd=ws)
        assert proc.returncode == 0, proc.stderr
    assert hidden(ws) == [] and (ws / "link").is_symlink()
    assert json.loads((ws / "real" / "manifest.json").read_text())["seeds"]


def test_force_never_replaces_a_folder_that_is_not_results(ws):
    (ws / "mine").mkdir()
    (ws / "mine" / "thesis.tex").write_text("precious")
    before = snapshot(ws)
    refused(
        scsim("run", "scenarios/no_plan.yaml", "--out", "mine", "--force", "--reps", "1", cwd=ws),
        "mine: ",
        "not a results folder",
    )
    assert snapshot(ws) == before


# ---- 9. file contents never echoed ---------------------------------------------------------------------
SECRET = "root:$6$s3cr3t-hash:19000:0:99999:7:::"


@pytest.mark.parametrize(
    "link", ["extends: {f}", "take:\n  - {{from: {f}, keys: [levers.f1_pis]}}"], ids=["extends", "take"]
)
@pytest.mark.parametrize("kind", ["not_yaml", "outside", "symlink_out"])
def test_a_linked_file_is_never_quoted_and_must_be_yaml_inside_the_tree(ws, tmp_path_factory, link, kind):
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "shadow").write_text(SECRET + "\n")
    (outside / "shadow.yaml").write_text(SECRET + ": 1\n")
    target = {
        "not_yaml": str(outside / "shadow"),
        "outside": str(outside / "shadow.yaml"),
        "symlink_out": "inside.yaml",
    }[kind]
    (ws / "scenarios" / "inside.yaml").symlink_to(outside / "shadow.yaml")
    (ws / "scenarios" / "leaf.yaml").write_text("name: leaf\n" + link.format(f=target) + "\n")
    msg = refused(scsim("validate", "scenarios/leaf.yaml", cwd=ws), f"scenarios/leaf.yaml:{link.count(chr(10)) + 2}:")
    assert "s3cr3t" not in msg and "99999" not in msg, msg
    assert ("not a YAML file" in msg) if kind == "not_yaml" else ("outside the scenario's folder" in msg), msg
    if kind != "not_yaml":  # named on purpose, it is read
        proc = scsim("validate", "scenarios/leaf.yaml", "--scenario-path", str(outside), cwd=ws)
        assert "outside" not in proc.stderr and proc.returncode == 2, proc.stderr


def test_a_file_named_on_the_command_line_that_is_not_yaml_is_not_read(ws):
    (ws / "shadow").write_text(SECRET + "\n")
    msg = refused(scsim("validate", "shadow", cwd=ws), "shadow: ", "not a YAML file")
    assert "s3cr3t" not in msg


def test_a_countries_file_outside_the_tree_is_refused_unread(ws, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "table.csv").write_text(SECRET + "\n")
    (ws / "scenarios" / "leaf.yaml").write_text(
        f"extends: no_plan.yaml\nname: leaf\nworld:\n  countries_file: {outside / 'table.csv'}\n"
    )
    msg = refused(
        scsim("validate", "scenarios/leaf.yaml", cwd=ws), "scenarios/leaf.yaml:4: world.countries_file:", "outside"
    )
    assert "s3cr3t" not in msg


# ---- 10. names ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [".", "..", ".hidden", "a/b"])
def test_an_experiment_name_must_be_a_plain_folder_name(ws, name):
    path = experiment(ws, "design: {type: grid}\n", name="dots")
    text = (ws / path).read_text().replace("name: dots", f"name: {json.dumps(name)}")
    (ws / path).write_text(text)
    before = snapshot(ws)
    refused(scsim("sweep", path, "--quiet", cwd=ws), f"{path}:1: name:", "plain folder name")
    assert snapshot(ws) == before


# ---- 11. the smaller ones ----------------------------------------------------------------------------------
def test_a_unit_on_a_section_wrapper_is_refused(ws):
    (ws / "scenarios" / "u.yaml").write_text(
        "extends: no_plan.yaml\nname: u\nlevers:\n  c5_roadshows:\n    {value: {per_year: 3}, unit: parsecs}\n"
    )
    refused(
        scsim("validate", "scenarios/u.yaml", cwd=ws), "scenarios/u.yaml:5: levers.c5_roadshows:", "parsecs", "no unit"
    )


def test_out_through_a_missing_folder_creates_no_folder(ws):
    proc = scsim(
        "run",
        "scenarios/no_plan.yaml",
        "--reps",
        "1",
        "--set",
        "time.end=2020-12",
        "--quiet",
        "--no-report",
        "--out",
        "nothere/../x",
        cwd=ws,
    )
    assert proc.returncode == 0, proc.stderr
    assert (ws / "x" / "summary.csv").is_file() and not (ws / "nothere").exists()
    path = experiment(
        ws, "factors:\n  - {key: levers.c5_roadshows.per_year, role: lever, values: [1]}\ndesign: {type: grid}\n"
    )
    proc = scsim("sweep", path, "--quiet", "--no-analysis", "--out", "gone/../sw", cwd=ws)
    assert proc.returncode == 0 and (ws / "sw" / "experiment.json").is_file() and not (ws / "gone").exists()


def test_dates_outside_the_horizon_that_are_not_schedules_get_a_note(ws):
    (ws / "scenarios" / "far.yaml").write_text(
        "extends: no_plan.yaml\nname: far\nlevers:\n  f1_pis:\n"
        "    start: 2040-01\n  t5_mou:\n    mous:\n"
        "      - {country: VNM, date: 9999-01}\n"
    )
    proc = scsim("validate", "scenarios/far.yaml", cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert "note: scenarios/far.yaml:5: levers.f1_pis.start: 2040-01 is after time.end" in proc.stdout, proc.stdout
    assert "note: scenarios/far.yaml:8: levers.t5_mou.mous.0.date: 9999-01 is after time.end" in proc.stdout


@pytest.mark.slow
def test_a_killed_dask_worker_prints_no_error_lines_when_the_sweep_succeeds(ws):
    import psutil

    path = experiment(
        ws,
        "factors:\n  - {key: world.n_firms, role: uncertainty, values: [40, 50, 60, 70, 80, 90]}\n"
        "design: {type: grid}\nreplications: 6\n",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulation",
            "sweep",
            path,
            "--executor",
            "dask",
            "--workers",
            "2",
            "--quiet",
            "--no-analysis",
        ],
        cwd=ws,
        env=KILL_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs, killed, t0 = ws / "results" / "exp" / "runs", False, time.monotonic()
    while proc.poll() is None and not killed and time.monotonic() - t0 < 180:
        if runs.is_dir() and sum(n.endswith(".parquet") for n in os.listdir(runs)) >= 3:
            workers = [
                c for c in psutil.Process(proc.pid).children(recursive=True) if "spawn_main" in " ".join(c.cmdline())
            ]
            if workers:
                workers[0].kill()
                killed = True
        time.sleep(0.02)
    out, err = proc.communicate(timeout=300)
    assert killed, "a worker was killed while runs remained"
    assert proc.returncode == 0 and "36 runs done" in out, err
    assert "ERROR" not in err and "Traceback" not in err, err


# ---- 12. kill and resume through the command line, serial and processes -----------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_killed_sweep_resumes_to_the_uninterrupted_dataset(ws, executor):
    from simulation.experiment.store import Store

    path = experiment(
        ws,
        "factors:\n  - {key: world.n_firms, role: uncertainty, values: [40, 50, 60, 70, 80]}\n"
        "  - {key: world.capability_sd, role: uncertainty, values: [0.1, 0.2]}\n"
        "design: {type: grid}\nreplications: 3\n",
    )
    ref = scsim("sweep", path, "--quiet", "--out", "ref", cwd=ws)
    assert ref.returncode == 0, ref.stderr
    extra = ["--executor", executor] + (["--workers", "2"] if executor != "serial" else [])
    runs = ws / "results" / "exp" / "runs"
    for at in (4, 12):
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulation", "sweep", path, "--quiet", *extra],
            cwd=ws,
            env=KILL_ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        t0 = time.monotonic()
        while not (runs.is_dir() and sum(n.endswith(".parquet") for n in os.listdir(runs)) >= at):
            assert proc.poll() is None and time.monotonic() - t0 < 300, proc.stderr.read() if proc.poll() else "slow"
            time.sleep(0.01)
        kill(proc)
    assert sum(n.endswith(".parquet") for n in os.listdir(runs)) < 30
    time.sleep(1.0)  # the killed sweep's workers notice and exit
    done = scsim("sweep", path, "--quiet", *extra, cwd=ws)
    assert done.returncode == 0 and "already finished" in done.stdout and "analysis in" in done.stdout, done.stderr
    pd.testing.assert_frame_equal(
        Store.open(ws / "results" / "exp").read_dataset().drop(columns="key"),
        Store.open(ws / "ref").read_dataset().drop(columns="key"),
        check_exact=True,
    )
    assert hidden(ws / "results") == [] and hidden(ws / "results" / "exp") == []
    assert all(hidden(ws / "results" / "exp" / d) == [] for d in ("runs", "failed", "sessions"))

"""Bad input at the command line: the contract, case by case, through the real CLI.

Every bad input gives exit status 2 and ONE line on stderr, `error: FILE:LINE: KEY.PATH: what`,
with no traceback, and writes nothing: an existing results folder is never touched without
--force, and with --force it is replaced whole. Each bad scenario is a small file that `extends:`
a copy of the shipped `no_plan.yaml` (in tmp_path) and changes one thing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import in_process, run_and_list_imports

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
QUICK_RUN = ["--reps", "1", "--set", "time.end=2020-12", "--quiet"]  # no_plan: well under a second once compiled
RESULT_FILES = {
    "manifest.json",
    "summary.csv",
    "summary.parquet",
    "yearly.csv",
    "yearly.parquet",
    "horizon.csv",
    "horizon.parquet",
    "report.html",
    "figures",
}


IN_PROCESS = {"validate", "show"}  # reading a scenario only: the same `main` without a process of its own


def scsim(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m simulation ARGS` in CWD. The many `validate`/`show` refusals call the same `main`
    in this process (a new process costs about a second of imports each);
    `test_a_refusal_reads_the_same_in_its_own_process` shows the two agree."""
    if args and args[0] in IN_PROCESS:
        return in_process(*args, cwd=cwd)
    return real_process(*args, cwd=cwd, timeout=timeout)


def real_process(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "simulation", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The one `error:` line of a refused command (asserting exit 2, one line, no traceback)."""
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{proc.stderr}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def assert_refused(proc, file: str, line: int | None, key: str | None, *needles: str) -> str:
    """Exit 2 with `error: FILE:LINE: KEY: ...` containing every needle."""
    msg = error_line(proc)
    where = f"error: {file}" + (f":{line}" if line else "") + ": " + (f"{key}: " if key else "")
    assert msg.startswith(where), f"expected the message to start with {where!r}:\n{msg}"
    for needle in needles:
        assert needle in msg, f"{needle!r} not in:\n{msg}"
    return msg


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A working folder with a copy of the shipped scenarios; commands run here."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    return tmp_path


def scenario(ws: Path, body: str, name: str = "bad.yaml") -> tuple[str, str]:
    """Write scenarios/NAME extending no_plan.yaml; returns (path as given to the CLI, full text)."""
    text = "extends: no_plan.yaml\nname: bad\n" + body
    (ws / "scenarios" / name).write_text(text, encoding="utf-8")
    return f"scenarios/{name}", text


def line_of(text: str, needle: str) -> int:
    hits = [i for i, ln in enumerate(text.splitlines(), start=1) if needle in ln]
    assert len(hits) == 1, f"{needle!r} on lines {hits}"
    return hits[0]


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under a folder (and its own listing)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


# ---- scenario files ------------------------------------------------------------------------
# Each case: the scenario body (after `extends: no_plan.yaml`), the text on the line the message
# must name, the key path it must name, and fragments the message must contain.
REFUSED_SCENARIOS = [
    pytest.param(
        "levers:\n  f5_co_entry:\n    rate_cutt: 0.01\n",
        "rate_cutt",
        "levers.f5_co_entry.rate_cutt",
        ("unknown key 'rate_cutt'", "did you mean 'rate_cut'?"),
        id="unknown_key_names_the_close_match",
    ),
    pytest.param(
        "levers:\n  zz_nothing:\n    enabled: true\n",
        "zz_nothing",
        "levers.zz_nothing",
        ("unknown key", "f5_co_entry"),
        id="unknown_section_lists_the_allowed_keys",
    ),
    pytest.param(
        "levers:\n  f5_co_entry:\n    pot_krw_bn: ten\n",
        "pot_krw_bn",
        "levers.f5_co_entry.pot_krw_bn",
        ("valid number", "'ten'"),
        id="string_for_a_number",
    ),
    pytest.param(
        "levers:\n  f5_co_entry:\n    enabled: 1\n",
        "enabled",
        "levers.f5_co_entry.enabled",
        ("valid boolean", "got 1"),
        id="number_for_a_bool",
    ),
    pytest.param(
        "world:\n  alliance_share: '0.5'\n",
        "alliance_share",
        "world.alliance_share",
        ("valid number",),
        id="quoted_number_is_not_silently_converted",
    ),
    pytest.param(
        "world:\n  alliance_share: {value: 1.5, provenance: assumption, source: x}\n",
        "alliance_share",
        "world.alliance_share",
        ("less than or equal to 1", "1.5"),
        id="ratio_above_one",
    ),
    pytest.param(
        "levers:\n  f5_co_entry:\n    pot_krw_bn: -5\n",
        "pot_krw_bn",
        "levers.f5_co_entry.pot_krw_bn",
        ("greater than or equal to 0", "-5"),
        id="negative_money",
    ),
    pytest.param(
        "world:\n  capital_usd_m:\n    value:\n      large: 800.0\n      mid: 60.0\n"
        "      sme: -6.0\n      startup: 1.5\n    provenance: assumption\n",
        "sme:",
        "world.capital_usd_m.sme",
        ("greater than or equal to 0",),
        id="value_inside_a_keyed_section_gets_its_own_line",
    ),
    pytest.param(
        "levers:\n  f5_co_entry:\n    rate_cut:\n      2019-07: 0.003\n      2031-01: 0.010\n",
        "2031-01",
        "levers.f5_co_entry.rate_cut.2031-01",
        ("after time.end",),
        id="schedule_date_after_the_end",
    ),
    pytest.param(
        "levers:\n  f5_co_entry:\n    rate_cut:\n      2019-10: 0.003\n      2020-01: 0.010\n",
        "2019-10",
        "levers.f5_co_entry.rate_cut.2019-10",
        ("after time.start",),
        id="schedule_starting_after_the_start",
    ),
    pytest.param(
        "levers:\n  f5_co_entry:\n    rate_cut:\n      2019-07: 0.003\n      2020-13: 0.010\n",
        "2020-13",
        "levers.f5_co_entry.rate_cut.2020-13",
        ("YYYY-MM",),
        id="schedule_with_a_bad_month",
    ),
    pytest.param(
        "levers:\n  f5_co_entry:\n    rate_cut:\n      2019-07: 0.003\n      2020: 0.01\n      2020-01: 0.02\n",
        "2020-01",
        "levers.f5_co_entry.rate_cut.2020-01",
        ("given twice",),
        id="schedule_date_given_twice",
    ),
]


@pytest.mark.parametrize("body, on_line, key, needles", REFUSED_SCENARIOS)
def test_refused_scenario_value(ws, body, on_line, key, needles):
    path, text = scenario(ws, body)
    assert_refused(scsim("validate", path, cwd=ws), path, line_of(text, on_line), key, *needles)


def test_missing_extends_file(ws):
    (ws / "scenarios" / "orphan.yaml").write_text("name: orphan\nextends: nothere.yaml\n")
    assert_refused(
        scsim("validate", "scenarios/orphan.yaml", cwd=ws),
        "scenarios/orphan.yaml",
        2,
        "extends",
        "'nothere.yaml' not found",
        "scenarios/nothere.yaml",
    )


def test_cyclic_extends(ws):
    (ws / "scenarios" / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (ws / "scenarios" / "b.yaml").write_text("name: b\nextends: a.yaml\n")
    # the file that closes the cycle is blamed, at its `extends:` line
    assert_refused(
        scsim("validate", "scenarios/a.yaml", cwd=ws),
        "scenarios/b.yaml",
        2,
        "extends",
        "cyclic",
        "a.yaml -> b.yaml -> a.yaml",
    )


def test_scenario_that_extends_itself(ws):
    (ws / "scenarios" / "self.yaml").write_text("name: s\nextends: self.yaml\n")
    assert_refused(scsim("validate", "scenarios/self.yaml", cwd=ws), "scenarios/self.yaml", 2, "extends", "cyclic")


def test_take_key_that_names_nothing(ws):
    path, text = scenario(ws, "take:\n  - from: plan_2019_announced.yaml\n    keys: [levers.f9_nothing]\n")
    assert_refused(scsim("validate", path, cwd=ws), path, line_of(text, "- from"), "take.0.keys", "names no parameter")


def test_bad_indentation(ws):
    path, text = scenario(ws, "levers:\n  f5_co_entry:\n    pot_krw_bn: 5\n   topup_krw_bn_per_year: 3\n")
    assert_refused(
        scsim("validate", path, cwd=ws), path, line_of(text, "topup_krw_bn_per_year"), None, "malformed YAML"
    )


def test_unclosed_bracket(ws):
    path, text = scenario(ws, "levers:\n  n6_intl_orgs:\n    regions: [asean, africa\n  c1_expo:\n    month: 3\n")
    # found where the parser stops (the next key), and the line that opened the bracket is named
    msg = assert_refused(scsim("validate", path, cwd=ws), path, line_of(text, "c1_expo"), None, "malformed YAML")
    assert f"line {line_of(text, 'regions')}" in msg, msg


def test_tab_indentation(ws):
    path, text = scenario(ws, "levers:\n\tf5_co_entry:\n")
    assert_refused(
        scsim("validate", path, cwd=ws), path, line_of(text, "\tf5_co_entry"), None, "malformed YAML", "'\\t'"
    )


def test_duplicate_key(ws):
    path, text = scenario(ws, "world:\n  n_firms: 400\n  alliance_share: 0.5\n  n_firms: 300\n")
    assert_refused(
        scsim("validate", path, cwd=ws), path, line_of(text, "n_firms: 300"), "world.n_firms", "duplicate key 'n_firms'"
    )


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch {s}"]',
        '!!python/object/apply:subprocess.check_call [["touch", "{s}"]]',
        "!!python/name:os.system",
    ],
)
def test_yaml_object_tag_is_refused_without_running(ws, tag):
    sentinel = ws / "PWNED"
    path, text = scenario(ws, "levers:\n  f5_co_entry:\n    pot_krw_bn: " + tag.format(s=sentinel) + "\n")
    assert_refused(
        scsim("validate", path, cwd=ws),
        path,
        line_of(text, "pot_krw_bn"),
        "levers.f5_co_entry.pot_krw_bn",
        "unsupported YAML tag",
        "plain data only",
    )
    assert not sentinel.exists(), "the YAML tag ran a command"


def test_market_levels_that_disagree_with_the_growth_rate(ws):
    # the seed's own inconsistency: 308 -> 617.2 over 2018-2023 is 14.9 %/yr, not the stated 18.4 %
    path, text = scenario(ws, "market:\n  levels_usd_bn: {2018: 308, 2023: 617.2}\n  cagr: 0.184\n")
    assert_refused(
        scsim("validate", path, cwd=ws),
        path,
        line_of(text, "levels_usd_bn"),
        "market.levels_usd_bn.2023",
        "market levels disagree with the growth rate",
        "14.9 %/yr",
        "18.4 %/yr",
    )


def test_growth_rate_changed_alone_is_blamed_where_it_was_changed(ws):
    path, text = scenario(ws, "market:\n  cagr: 0.15\n")
    assert_refused(
        scsim("validate", path, cwd=ws),
        path,
        line_of(text, "cagr"),
        "market.cagr",
        "market levels disagree with the growth rate",
    )


def test_unknown_country_in_a_lever_list(ws):
    path, text = scenario(
        ws,
        "levers:\n  t5_mou:\n    mous:\n      - {country: MYS, date: 2019-03}\n      - {country: ZZZ, date: 2019-07}\n",
    )
    assert_refused(
        scsim("validate", path, cwd=ws),
        path,
        line_of(text, "ZZZ"),
        "levers.t5_mou.mous.1.country",
        "'ZZZ' is not in the country table",
    )


def test_unknown_country_flag_column(ws):
    path, text = scenario(ws, "levers:\n  n4_hubs:\n    kotra_centres: [{country: 'csv:nope', start: 2020-01}]\n")
    assert_refused(
        scsim("validate", path, cwd=ws),
        path,
        line_of(text, "kotra_centres"),
        "levers.n4_hubs.kotra_centres.0.country",
        "unknown flag column 'nope'",
    )


def test_shares_that_do_not_sum_to_one(ws):
    path, text = scenario(
        ws,
        "world:\n  size_shares:\n    value:\n      large: 0.04\n      mid: 0.05\n"
        "      sme: 0.65\n      startup: 0.30\n",
    )
    assert_refused(
        scsim("validate", path, cwd=ws), path, line_of(text, "large"), "world.size_shares", "must sum to 1", "1.04"
    )


def test_pis_tranches_that_do_not_sum_to_one(ws):
    path, text = scenario(ws, "levers:\n  f1_pis:\n    public_share: 0.3\n")
    assert_refused(
        scsim("validate", path, cwd=ws),
        path,
        line_of(text, "public_share"),
        "levers.f1_pis.public_share",
        "must sum to 1",
    )


def test_end_before_start(ws):
    path, text = scenario(ws, "time:\n  end: 2019-01\n")
    assert_refused(scsim("validate", path, cwd=ws), path, line_of(text, "end:"), "time.end", "before time.start")


def test_full_date_instead_of_a_month(ws):
    path, text = scenario(ws, "time:\n  end: 2030-12-31\n")
    assert_refused(scsim("validate", path, cwd=ws), path, line_of(text, "end:"), "time.end", "YYYY-MM")


def test_scenario_name_that_is_a_path(ws):
    path, text = scenario(ws, "")
    text = text.replace("name: bad", "name: ../../escape")
    (ws / path).write_text(text)
    assert_refused(scsim("validate", path, cwd=ws), path, line_of(text, "name:"), "name", "no '/'")


def test_missing_countries_file(ws):
    path, text = scenario(ws, "world:\n  countries_file: nothere.csv\n")
    assert_refused(
        scsim("validate", path, cwd=ws), path, line_of(text, "countries_file"), "world.countries_file", "not found"
    )


def test_countries_file_that_is_a_folder(ws):
    (ws / "scenarios" / "tables.csv").mkdir()
    path, text = scenario(ws, "world:\n  countries_file: tables.csv\n")
    assert_refused(
        scsim("validate", path, cwd=ws),
        path,
        line_of(text, "countries_file"),
        "world.countries_file",
        "not a regular file",
    )
    path, text = scenario(ws, "world:\n  countries_file: ..\n")
    assert_refused(
        scsim("validate", path, cwd=ws), path, line_of(text, "countries_file"), "world.countries_file", "not a CSV file"
    )


def test_bad_row_in_a_countries_file(ws):
    rows = (ROOT / "simulation" / "data" / "countries.csv").read_text(encoding="utf-8").splitlines()
    rows[3] = rows[3].replace(",asean,", ",atlantis,", 1)
    (ws / "scenarios" / "countries.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path, _ = scenario(ws, "world:\n  countries_file: countries.csv\n")
    msg = assert_refused(scsim("validate", path, cwd=ws), "scenarios/countries.csv", 4, None, "column region")
    assert "atlantis" not in msg, "a message never quotes the contents of a file that is not YAML"


def test_not_utf8(ws):
    (ws / "scenarios" / "latin1.yaml").write_bytes(b"extends: no_plan.yaml\nname: caf\xe9\n")
    assert_refused(scsim("validate", "scenarios/latin1.yaml", cwd=ws), "scenarios/latin1.yaml", 2, None, "not UTF-8")


def test_scenario_file_not_found(ws):
    assert_refused(
        scsim("validate", "scenarios/nothere.yaml", cwd=ws), "scenarios/nothere.yaml", None, None, "file not found"
    )


def test_show_refuses_bad_input_too(ws):
    path, text = scenario(ws, "levers:\n  f5_co_entry:\n    rate_cutt: 0.01\n")
    assert_refused(
        scsim("show", path, cwd=ws),
        path,
        line_of(text, "rate_cutt"),
        "levers.f5_co_entry.rate_cutt",
        "did you mean 'rate_cut'?",
    )


# ---- --set -----------------------------------------------------------------------------------
def test_set_unknown_key(ws):
    assert_refused(
        scsim("validate", "scenarios/no_plan.yaml", "--set", "levers.f5_co_entry.rate_cutt=0.1", cwd=ws),
        "--set",
        None,
        "levers.f5_co_entry.rate_cutt",
        "unknown key",
        "did you mean 'rate_cut'?",
    )


@pytest.mark.parametrize(
    "assignment, key, needle",
    [
        ("levers.f5_co_entry.rate_cut=abc", "levers.f5_co_entry.rate_cut", "valid number"),
        ("levers.f5_co_entry.rate_cut=0.9", "levers.f5_co_entry.rate_cut", "less than or equal to 0.2"),
        ("levers.f5_co_entry.enabled=1", "levers.f5_co_entry.enabled", "valid boolean"),
        ("levers.f5_co_entry.rate_cut.2031-01=0.01", "levers.f5_co_entry.rate_cut.2031-01", "after time.end"),
        ("market.levels_usd_bn.2023=617.2", "market.levels_usd_bn.2023", "disagree with the growth rate"),
        ("levers.f5_co_entry.pot_krw_bn.x=3", "levers.f5_co_entry.pot_krw_bn.x", "one parameter"),
    ],
)
def test_set_bad_value(ws, assignment, key, needle):
    assert_refused(scsim("validate", "scenarios/no_plan.yaml", "--set", assignment, cwd=ws), "--set", None, key, needle)


def test_set_malformed_yaml_value(ws):
    msg = error_line(scsim("validate", "scenarios/no_plan.yaml", "--set", "levers.n6_intl_orgs.regions=[asean", cwd=ws))
    assert msg.startswith("error: --set levers.n6_intl_orgs.regions:1: malformed YAML"), msg


def test_set_without_equals(ws):
    assert_refused(
        scsim("validate", "scenarios/no_plan.yaml", "--set", "levers.f5_co_entry.enabled", cwd=ws),
        "--set",
        None,
        None,
        "expected key.path=value",
    )


def test_set_object_tag_is_refused_without_running(ws):
    sentinel = ws / "PWNED"
    proc = scsim(
        "validate",
        "scenarios/no_plan.yaml",
        "--set",
        f'name=!!python/object/apply:os.system ["touch {sentinel}"]',
        cwd=ws,
    )
    assert "unsupported YAML tag" in error_line(proc)
    assert not sentinel.exists()


# ---- run: nothing written --------------------------------------------------------------------
@pytest.mark.parametrize("reps", ["0", "-3"])
def test_reps_below_one(ws, reps):
    out = ws / "out"
    msg = error_line(scsim("run", "scenarios/no_plan.yaml", "--reps", reps, "--out", str(out), cwd=ws))
    assert msg == f"error: --reps must be at least 1, got {reps}", msg  # no file to name (and no '<input>')
    assert not out.exists() and not (ws / "results").exists()


def test_run_with_a_bad_scenario_writes_nothing(ws):
    path, text = scenario(ws, "levers:\n  f5_co_entry:\n    rate_cutt: 0.01\n")
    before = snapshot(ws)
    out = ws / "out"
    assert_refused(
        scsim("run", path, "--out", str(out), *QUICK_RUN, cwd=ws),
        path,
        line_of(text, "rate_cutt"),
        "levers.f5_co_entry.rate_cutt",
        "did you mean",
    )
    assert snapshot(ws) == before  # no --out folder, no results/, no temporary siblings


def test_existing_out_folder_is_left_alone_without_force(ws):
    out = ws / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"mine": true}\n')
    (out / "yearly.csv").write_bytes(os.urandom(4096))
    (out / "notes").mkdir()
    (out / "notes" / "keep.txt").write_text("precious\n")
    before = snapshot(ws)
    msg = error_line(scsim("run", "scenarios/no_plan.yaml", "--out", "out", *QUICK_RUN, cwd=ws))
    assert msg.startswith("error: out: ") and "already exists" in msg and "--force" in msg, msg
    assert snapshot(ws) == before, "the existing results folder (or its parent) was changed"


def test_bad_scenario_with_force_leaves_the_old_results_whole(ws):
    out = ws / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"old": true}\n')
    path, _ = scenario(ws, "world:\n  alliance_share: 1.5\n")
    before = snapshot(ws)
    error_line(scsim("run", path, "--out", "out", "--force", *QUICK_RUN, cwd=ws))
    assert snapshot(ws) == before


HEAVY = ("pandas", "numba", "pyarrow", "matplotlib")


@pytest.mark.parametrize(
    "args",
    [
        ["run", "scenarios/bad.yaml"],
        ["run", "scenarios/no_plan.yaml", "--out", "out"],
        ["compare", "scenarios/no_plan.yaml", "scenarios/plan_2019_implemented.yaml", "--baseline", "nope"],
        ["compare", "scenarios/no_plan.yaml", "scenarios/plan_2019_implemented.yaml", "--out", "out"],
        ["sweep", "experiments/bad.yaml", "--quiet"],
    ],
    ids=["bad-scenario", "run-into-existing-folder", "unknown-baseline", "compare-into-existing-folder", "bad-sweep"],
)
def test_a_refusal_answers_before_the_model_is_loaded(ws, args):
    """A mistyped key or an existing folder is answered in about half a second, not after the
    model's libraries (pandas, numba, pyarrow: about a second, and 1.8 s for a sweep's) have loaded."""
    scenario(ws, "levers:\n  f5_co_entry:\n    rate_cutt: 0.01\n")
    (ws / "out").mkdir()
    (ws / "experiments").mkdir()
    (ws / "experiments" / "bad.yaml").write_text(
        "name: bad\nbase: ../scenarios/no_plan.yaml\n"
        "factors:\n  - {key: levers.n2_subsidy.ratioo, role: lever, range: [0.1, 0.9]}\n"
        "design: {type: grid, levels: 2}\n"
    )
    proc, loaded = run_and_list_imports(*args, modules=HEAVY, cwd=ws, timeout=120)
    assert proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.returncode == 2 and loaded == [], (proc.returncode, loaded)


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> None:
    """Run once so numba's kernels are compiled into its cache (about 90 s the first time)."""
    ws = tmp_path_factory.mktemp("warm-up")
    proc = scsim(
        "run", str(ROOT / "scenarios" / "no_plan.yaml"), "--out", str(ws / "out"), *QUICK_RUN, cwd=ws, timeout=900
    )
    assert proc.returncode == 0, proc.stderr


def test_force_replaces_old_results_whole(ws, compiled):
    out = ws / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"old": true}\n')
    (out / "stale.csv").write_text("old,results\n")
    (out / "sub").mkdir()
    (out / "sub" / "old.txt").write_text("old\n")
    proc = scsim("run", "scenarios/no_plan.yaml", "--out", "out", "--force", *QUICK_RUN, cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert {p.name for p in out.iterdir()} == RESULT_FILES  # nothing old left, nothing half-written
    manifest = json.loads((out / "manifest.json").read_text())
    assert "old" not in manifest and manifest["replications"] == 1
    assert [p.name for p in ws.iterdir() if p.name.startswith(".")] == []  # no temporary or old siblings left


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "scenarios/bad.yaml"],
        ["validate", "scenarios/no_plan.yaml", "--set", "levers.f5_co_entry.rate_cutt=0.1"],
        ["show", "scenarios/bad.yaml"],
        ["validate", "scenarios/no_plan.yaml"],
    ],
    ids=["bad-key", "bad-set", "show", "good"],
)
def test_a_refusal_reads_the_same_in_its_own_process(ws, args):
    """The in-process calls above stand for the real command line: same status, same output."""
    scenario(ws, "levers:\n  f5_co_entry:\n    rate_cutt: 0.01\n")
    real, here = real_process(*args, cwd=ws), in_process(*args, cwd=ws)
    assert (real.returncode, real.stdout, real.stderr) == (here.returncode, here.stdout, here.stderr)
    assert real.returncode == (0 if args[-1] == "scenarios/no_plan.yaml" else 2)


# ---- shipped scenarios -------------------------------------------------------------------------
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_validates(ws, name):
    proc = scsim("validate", f"scenarios/{name}", cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith(f"ok: scenarios/{name}:")

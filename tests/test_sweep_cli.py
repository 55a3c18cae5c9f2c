"""`scsim sweep / merge / analyze` from the command line, and bad experiment files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT

from simulation.experiment.sweep import read_dataset

BASE = (ROOT / "scenarios" / "no_plan.yaml").as_posix()
GOOD = f"""name: cli_check
base: {BASE}
set:
  time.end: "2020-06"
  world.n_firms: 60
factors:
  - key: levers.c5_roadshows.per_year
    role: lever
    values: [1, 5]
design:
  type: grid
replications: 2
"""


def scsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulation", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize(
    "edit, line, key, words",
    [
        (("levers.c5_roadshows.per_year", "levers.c5_roadshows.per_yer"), 7, "factors.0", "did you mean 'per_year'"),
        (("values: [1, 5]", "range: [3, 3]"), 9, "factors.0.range", "empty range"),
        (
            ("values: [1, 5]", "values: [1, 5]\n    distribution: {name: uniform, low: 1, high: 5}"),
            7,
            "factors.0",
            "exactly one of",
        ),
        (("type: grid", "type: factorial"), 11, "design.type", "unknown design 'factorial'"),
        (("replications: 2", "replications: 2\nfactors: []"), 13, "factors", "duplicate key"),
    ],
)
def test_bad_experiment_files_get_one_clear_message(tmp_path, edit, line, key, words):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(*edit))
    out = tmp_path / "out"
    proc = scsim("sweep", str(path), "--out", str(out), "--quiet")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert f"bad.yaml:{line}:" in lines[0] and key in lines[0] and words in lines[0], lines[0]
    assert not out.exists(), "nothing is written for bad input"


@pytest.mark.parametrize("shard", ["3/2", "0/2", "a/b", "1/0"])
def test_bad_shard_is_refused_before_anything_runs(tmp_path, shard):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    proc = scsim("sweep", str(path), "--out", str(tmp_path / "out"), "--shard", shard, "--quiet")
    assert proc.returncode == 2 and "shard" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_sweep_shards_merge_and_analyze(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    whole = tmp_path / "whole"
    proc = scsim("sweep", str(path), "--out", str(whole), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "4 runs done" in proc.stdout and "ranking by value won per public KRW" in proc.stdout
    again = scsim("sweep", str(path), "--out", str(whole), "--quiet")
    assert again.returncode == 0 and "0 runs done, 4 already finished" in again.stdout
    for i in (1, 2):
        p = scsim("sweep", str(path), "--out", str(tmp_path / f"s{i}"), "--shard", f"{i}/2", "--quiet")
        assert p.returncode == 0, p.stderr
    merged = tmp_path / "merged"
    m = scsim("merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(merged))
    assert m.returncode == 0, m.stderr
    pd.testing.assert_frame_equal(read_dataset(whole), read_dataset(merged), check_exact=True)
    # the merged runs as one tidy file for other tools: the dataset, as Parquet or CSV
    d = scsim("dataset", str(merged))
    assert d.returncode == 0, d.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(merged / "dataset.parquet"), read_dataset(whole), check_exact=True)
    again = scsim("dataset", str(merged))
    assert again.returncode == 2 and "exists; use --force" in again.stderr and "Traceback" not in again.stderr
    assert scsim("dataset", str(merged), "--force").returncode == 0
    bad = scsim("dataset", str(merged), "--out", str(tmp_path / "tidy.txt"))
    assert bad.returncode == 2 and "must end in .parquet or .csv" in bad.stderr
    c = scsim("dataset", str(merged), "--out", str(tmp_path / "tidy.csv"))
    assert c.returncode == 0, c.stderr
    csv = pd.read_csv(tmp_path / "tidy.csv", keep_default_na=False, na_values=[""])
    want = read_dataset(whole)
    assert list(csv.columns) == list(want.columns) and len(csv) == len(want)
    assert (csv["metric"] == want["metric"]).all() and csv["value"].equals(want["value"])
    an = scsim("analyze", str(merged))
    assert an.returncode == 0, an.stderr
    assert (merged / "analysis").is_dir() and any((merged / "analysis").glob("*.csv"))
    missing = scsim("analyze", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "not a sweep results folder" in missing.stderr

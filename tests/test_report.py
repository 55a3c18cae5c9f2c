"""`scsim report`: one self-contained HTML file with the folder's headline numbers, levers with
provenance, method, seeds, versions and command; bad folders refused with exit 2; nothing
overwritten without --force; `compare` ends by writing it; and a real headless browser opens it
offline with no console error, no network request and every figure visible."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from report_data import COMPARED, build, fresh

from simulation.cli import main
from simulation.present.report import publish
from simulation.scenario.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "results" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return build(tmp_path_factory)


@pytest.fixture(scope="module")
def cmp_report(data, tmp_path_factory) -> tuple[Path, str]:
    """A private copy of the compare folder with its report written by `scsim report`."""
    folder = fresh(data["compare"], tmp_path_factory.mktemp("rep") / "compare")
    assert not (folder / "report.html").exists(), "--no-report wrote a report"
    assert main(["report", str(folder)]) == 0
    return folder, (folder / "report.html").read_text(encoding="utf-8")


def text_of(page: str) -> str:
    """The page's visible text, tags removed and entities decoded, whitespace collapsed."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def section(page: str, title: str) -> str:
    start = page.index(f"<h2>{title}</h2>")
    end = page.find("<h2>", start + 4)
    return page[start : end if end > 0 else None]


def shown(v: float, unit: str) -> str:
    """How the report prints a difference: percentage points to one decimal, else thousands or 3 digits."""
    if unit == "%":
        return f"{v * 100:+.1f} pp"
    return f"{v:+,.0f}" if abs(v) >= 100 else f"{v:+.3g}"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


# ---- what the report says ---------------------------------------------------------------------
def test_headline_holds_the_summary_and_the_paired_differences(cmp_report):
    folder, page = cmp_report
    head = text_of(section(page, "Headline"))
    summ = pd.read_csv(folder / "summary.csv")
    for name in COMPARED:
        s = summ[summ["scenario"] == name]
        rate, value = s["wins"].sum() / s["bids"].sum(), s["value_won_usd_m"].sum()
        assert f"{name} {rate * 100:.1f} % " in head and f"{value:,.0f}" in head, name
    diff = pd.read_csv(folder / "differences.csv")
    whole = diff[diff["period"] == "all"]
    units = {"win_rate": "%", "sme_share_value": "%"}
    for name in COMPARED[1:]:
        assert f"{name} against no_plan (paired over 3 replications, 95 % CI)" in head
        block = head[head.index(f"{name} against no_plan") :]
        for metric in (
            "win_rate",
            "wins",
            "value_won_usd_m",
            "sme_share_value",
            "public_cost_krw_bn",
            "value_per_public_krw",
            "extra_value_per_extra_krw",
        ):
            r = whole[(whole["scenario"] == name) & (whole["metric"] == metric)].iloc[0]
            u = units.get(metric, "")
            expect = f"{shown(r['difference'], u)} [{shown(r['ci_low'], u)}, {shown(r['ci_high'], u)}]"
            assert expect in block, f"{name} {metric}: {expect!r} not in the headline"
    if whole["straddles_zero"].any():
        assert "the sign of the difference is not settled" in head and "replication noise" in head


def test_levers_are_listed_per_scenario_with_value_and_provenance(cmp_report):
    folder, page = cmp_report
    levers = section(page, "Scenarios and levers")
    manifest = json.loads((folder / "manifest.json").read_text())
    differ = text_of(levers[: levers.index("<details>")])
    # the loss order differs: each scenario's value, kind, source and the file:line that set it
    assert "f2_loss_order.order" in differ
    for s in manifest["scenarios"]:
        p = s["provenance"]["levers.f2_loss_order.order"]
        value = s["resolved"]["levers"]["f2_loss_order"]["order"]
        assert f"{value} {p['kind']} {p['source']} {p['file']}:{p['line']}" in differ, s["name"]
    assert "test variant: pari passu instead of the plan's subordination" in differ
    # a schedule, shown as dated values with its provenance
    p = manifest["scenarios"][1]["provenance"]["levers.c2_consortia.slots_per_year"]
    assert f"2019-07: 0; 2020-01: 15; 2021-01: 30 {p['kind']} {p['source']}" in differ
    alike = text_of(levers[levers.index("<details>") :])
    assert re.search(r"Levers set alike in every scenario \((\d+)\)", alike)
    n_differ = int(re.search(r"Levers that differ between the scenarios \((\d+)\)", text_of(levers)).group(1))
    n_alike = int(re.search(r"set alike in every scenario \((\d+)\)", alike).group(1))
    assert n_differ + n_alike == sum(k.startswith("levers.") for k in manifest["scenarios"][0]["provenance"])
    for s in manifest["scenarios"]:
        assert s["hash"][:12] in levers and s["resolved"]["description"] in html.unescape(levers)


def test_method_seeds_versions_and_command_are_stated(cmp_report):
    folder, page = cmp_report
    manifest = json.loads((folder / "manifest.json").read_text())
    method = text_of(section(page, "Method"))
    assert "500 Korean smart-city firms" in method and "68 foreign governments" in method
    assert "run 3 times" in method and "common random numbers" in method and "paired t-interval" in method
    repro = text_of(section(page, "Reproducing these results"))
    assert manifest["command"] in repro
    assert ", ".join(map(str, manifest["seeds"])) in repro and manifest["seed_rule"] in repro
    assert manifest["git_commit"] in repro
    for name, version in manifest["versions"].items():
        assert f"{name} {version}" in repro


def test_the_page_is_self_contained(cmp_report):
    folder, page = cmp_report
    parser = Tags()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names and "object" not in names
    for tag, attrs in parser.tags:
        for key in ("src", "href", "srcset", "action", "data"):
            if key in attrs:
                assert attrs[key].startswith("data:") or attrs[key].startswith("#"), f"<{tag} {key}={attrs[key][:60]}>"
    assert "url(" not in page.split("</style>")[0], "no CSS fetches"
    imgs = [a for t, a in parser.tags if t == "img"]
    pngs = sorted((folder / "figures").glob("*.png"))
    assert len(imgs) == len(pngs) == 6
    for a in imgs:
        assert a["src"].startswith("data:image/svg+xml;base64,") and a["alt"]
        svg = base64.b64decode(a["src"].split(",", 1)[1])
        assert ET.fromstring(svg).tag.endswith("svg")
    assert {p.stem for p in pngs} == {p.stem for p in (folder / "figures").glob("*.svg")}


def test_sweep_report_from_a_folder_without_analysis(data, tmp_path, capsys):
    folder = fresh(data["smoke"], tmp_path / "smoke")
    assert main(["report", str(folder)]) == 0
    assert "report written to" in capsys.readouterr().out
    page = (folder / "report.html").read_text(encoding="utf-8")
    text = text_of(page)
    assert not (folder / "analysis").exists(), "the report analyses in memory and writes no analysis/"
    assert "analysis computed for this report" in text
    head = text_of(section(page, "Headline"))
    assert "smoke : grid design, 4 points × 2 replications (8 runs)" in head
    assert "sme_subsidy_ratio=0.7, roadshows_per_year=1" in head
    levers = text_of(section(page, "Design and levers"))
    assert "sme_subsidy_ratio lever levers.n2_subsidy.ratio.sme values [0.7, 0.8]" in levers
    assert "time.end 2021-12" in levers
    exp = json.loads((folder / "experiment.json").read_text())
    repro = text_of(section(page, "Reproducing these results"))
    assert ", ".join(map(str, exp["seeds"])) in repro and "scsim sweep" in repro and "smoke.yaml" in repro


# ---- bad folders -----------------------------------------------------------------------------------
def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"dir") for p in sorted(folder.rglob("*"))}


def _damage(kind: str, base: Path, data: dict[str, Path]) -> Path:
    if kind == "missing":
        return base / "nowhere"
    d = base / "folder"
    if kind == "empty":
        d.mkdir()
    elif kind == "a_file":
        d.write_text("not a folder\n")
    elif kind == "unrelated":
        d.mkdir()
        (d / "notes.txt").write_text("hello\n")
    elif kind == "sweep_without_runs":
        d.mkdir()
        (d / "experiment.json").write_text(json.dumps({"format": 1, "experiment_hash": "x"}))
        pd.DataFrame({"point": [0], "name": ["p"]}).to_parquet(d / "design.parquet")
    elif kind == "old_sweep":
        d.mkdir()
        (d / "experiment.json").write_text(json.dumps({"experiment": "x"}))
    else:
        fresh(data["run"], d)
        manifest = json.loads((d / "manifest.json").read_text())
        if kind == "older_manifest":
            del manifest["scenarios"]
        elif kind == "newer_manifest":
            manifest["format"] = 99
        elif kind == "bad_json":
            (d / "manifest.json").write_text("{not json")
            return d
        elif kind == "old_yearly":
            pd.read_parquet(d / "yearly.parquet").drop(columns=["group"]).to_parquet(d / "yearly.parquet")
            (d / "yearly.csv").unlink()
        (d / "manifest.json").write_text(json.dumps(manifest))
    return d


BAD = [
    ("missing", "no such results folder"),
    ("empty", "the results folder is empty"),
    ("a_file", "not a folder"),
    ("unrelated", "not a results folder of scsim"),
    ("older_manifest", "manifest.json lacks scenarios: an older or unknown format"),
    ("newer_manifest", "format 99, but this scsim reads format 1"),
    ("bad_json", "manifest.json is not valid JSON"),
    ("old_yearly", "yearly.parquet lacks the columns group: an older or unknown format"),
    ("old_sweep", "experiment.json has no format or experiment_hash"),
    ("sweep_without_runs", "no finished runs yet"),
]


@pytest.mark.parametrize("kind, message", BAD, ids=[b[0] for b in BAD])
def test_bad_folder_is_one_message_and_exit_2_with_nothing_written(kind, message, data, tmp_path, capsys):
    folder = _damage(kind, tmp_path, data)
    before = snapshot(tmp_path)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {folder}: ") and "Traceback" not in err, err
    assert message in err, err
    assert snapshot(tmp_path) == before, "a refused report wrote something"


def test_bad_folder_through_the_real_command(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "simulation", "report", str(tmp_path / "nope")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"error: {tmp_path / 'nope'}: no such results folder\n"


# ---- never overwrite ----------------------------------------------------------------------------------
def test_existing_report_is_kept_without_force_and_replaced_with_it(data, tmp_path, capsys):
    folder = fresh(data["run"], tmp_path / "run")
    (folder / "report.html").write_text("my notes\n")
    before = snapshot(folder)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "report already exists; use --force" in err and err.count("\n") == 1
    assert snapshot(folder) == before, "nothing drawn or written when refused"
    assert main(["report", str(folder), "--force"]) == 0
    assert f"report written to {folder / 'report.html'} (4 figures" in capsys.readouterr().out
    page = (folder / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "Scenario runs: no_plan" in page
    from simulation.scenario.loader import PARAMS

    n_levers = sum(1 for path in PARAMS if path[0] == "levers")  # every lever of the schema, with its value
    assert f"Levers ({n_levers})" in page and " against " not in text_of(section(page, "Headline"))
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "temporary files left behind"
    # elsewhere: --out names the file, the figures go beside it, the results folder is untouched
    before = snapshot(folder)
    out = tmp_path / "briefing" / "nov.html"
    assert main(["report", str(folder), "--out", str(out)]) == 0
    assert out.is_file() and sorted(p.name for p in (tmp_path / "briefing" / "nov-figures").iterdir())[:2] == [
        "cost_value.png",
        "cost_value.svg",
    ]
    assert snapshot(folder) == before
    assert main(["report", str(folder), "--out", str(tmp_path / "briefing")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_publish_never_overwrites_a_file_that_appeared_meanwhile(tmp_path):
    out = tmp_path / "report.html"
    out.write_text("arrived first\n")
    with pytest.raises(InputError, match="already exists"):
        publish(out, b"<html>new</html>", force=False)
    assert out.read_text() == "arrived first\n" and [p.name for p in tmp_path.iterdir()] == ["report.html"]
    publish(out, b"<html>new</html>", force=True)
    assert out.read_bytes() == b"<html>new</html>"


def test_korean_font_missing_is_one_warning_line(data, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("simulation.present.figures.style.find_cjk_font", lambda: None)
    folder = fresh(data["run"], tmp_path / "run")
    assert main(["report", str(folder), "--lang", "ko"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: no font with Korean glyphs") and err.count("\n") == 1, err
    assert "no font with Korean glyphs" in text_of(section((folder / "report.html").read_text(), "Notes"))


# ---- the README's main job ends with the report ------------------------------------------------------
@pytest.mark.slow
def test_compare_ends_by_writing_the_report_and_saying_where(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "simulation",
        "compare",
        str(ROOT / "scenarios" / "no_plan.yaml"),
        str(ROOT / "scenarios" / "strategy_team_korea.yaml"),
        "--baseline",
        "no_plan",
        "--reps",
        "2",
        "--set",
        "time.end=2021-12",
        "--quiet",
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    (folder,) = (tmp_path / "results").iterdir()
    report = folder / "report.html"
    assert f"report: {Path('results') / folder.name / 'report.html'} (open it in a browser" in first.stdout
    assert report.is_file() and (folder / "figures" / "forest.svg").is_file()
    # the same command again finds the finished results, and writes the report if it has gone
    report.unlink()
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "already exist" in again.stdout and "report: " in again.stdout and report.is_file()
    stamp = report.stat().st_mtime_ns
    third = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0 and f"report: {Path('results') / folder.name / 'report.html'}\n" in third.stdout
    assert report.stat().st_mtime_ns == stamp, "an existing report is not rewritten"


# ---- a real browser -------------------------------------------------------------------------------
@pytest.mark.slow
def test_report_opens_offline_in_headless_chromium(cmp_report, data, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Debian's chromium is needed at {CHROMIUM} for this test: `sudo apt-get install -y chromium` "
            "(.ci/run installs it where missing)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Python playwright is needed: pip install -e '.[test]'")
    sobol = fresh(data["sobol"], tmp_path / "sobol")
    assert main(["report", str(sobol)]) == 0
    pages = {"compare": cmp_report[0] / "report.html", "sobol": sobol / "report.html"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, path in pages.items():
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                url = path.resolve().as_uri()
                errors, requests, failed = [], [], []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.on("request", lambda r, requests=requests: requests.append(r.url))
                page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
                page.goto(url, wait_until="load")
                page.wait_for_load_state("networkidle")
                figures = page.locator("figure img, figure svg")
                n = figures.count()
                assert n == len(list(path.parent.joinpath("figures").glob("*.svg"))) and n >= 2, (name, n)
                for k in range(n):
                    fig = figures.nth(k)
                    fig.scroll_into_view_if_needed()
                    assert fig.is_visible(), (name, k)
                    size = fig.evaluate(
                        "e => [e.complete, e.naturalWidth, e.naturalHeight, "
                        "e.getBoundingClientRect().width, e.getBoundingClientRect().height]"
                    )
                    assert size[0] and min(size[1:]) > 100, (name, k, size)
                assert errors == [], f"{name}: console errors {errors}"
                assert failed == [], f"{name}: failed requests {failed}"
                outside = [u for u in requests if u != url and not u.startswith("data:")]
                assert outside == [], f"{name}: requests beyond the file itself: {outside}"
                assert page.title().startswith("Scenario comparison" if name == "compare" else "Experiment")
                shot = tmp_path / f"report-{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 50_000
                shutil.copy(shot, ARTIFACTS / shot.name)
                page.close()
        finally:
            browser.close()

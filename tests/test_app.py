"""`scsim app`: the lever dashboard, from its model-running parts to the page in a real browser.

The browser test starts the server as a user would (`python -m simulation app --port N`),
drives it with headless Debian chromium through Playwright, moves the C5 roadshows slider and
checks that the scenario's yearly numbers change while the no-plan baseline's stay exactly the
same (common random numbers). It also checks that no request leaves this machine: the browser's
requests all go to the app's own address, and the server's asset proxy never asks its upstream
(pointed at a local trap server for the test).
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from helpers import SCENARIOS, load

from simulation.engine.metrics import tidy
from simulation.engine.simulate import simulate
from simulation.present.app import charts, levers, runs

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
FIRST_VIEW_TIMEOUT_S = 420  # covers a first numba compile on a cold cache (about 90 s on a quiet machine)


# ---- the parts under the page ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_levers_read_back_what_they_set(name: str) -> None:
    r = load(name)
    base = levers.read(r)
    assert levers.overrides(r, base) == {}, "untouched levers must leave the scenario as written"
    assert levers.apply(r, base) is r
    moved = {
        "f5_enabled": not base["f5_enabled"],
        "f5_rate_cut": 2.5,
        "n2_ratio": 45.0,
        "c5_roadshows": base["c5_roadshows"] + 3,
        "n4_kotra": 7,
        "c2_slots": base["c2_slots"] + 5,
        "t5_mous": tuple(sorted(set(base["t5_mous"]) - {"MYS"} | {"KWT", "VNM"})),
        "f1_enabled": not base["f1_enabled"],
        "f2_subordinated": not base["f2_subordinated"],
    }
    assert set(moved) == {lv.name for lv in levers.LEVERS}
    for lever, value in moved.items():  # one lever at a time: only its key paths change
        setting = dict(base, **{lever: value})
        applied = levers.apply(r, setting)
        assert levers.read(applied) == setting, lever
        changed = {p for p in r.values if applied.values.get(p) != r.values[p]}
        assert changed and changed <= set(levers.overrides(r, setting)), (lever, changed)
    applied = levers.apply(r, dict(moved))
    assert levers.read(applied) == moved
    v = applied.values
    assert v[("levers", "f5_co_entry", "rate_cut")] == pytest.approx(0.025)
    assert (
        v[("levers", "n2_subsidy", "ratio", "sme")]
        == v[("levers", "n2_subsidy", "ratio", "startup")]
        == pytest.approx(0.45)
    )
    assert v[("levers", "n4_hubs", "kotra_max_centres")] == 7
    assert v[("levers", "f2_loss_order", "order")] == ("pari_passu" if base["f2_subordinated"] else "subordinated")
    mous = {m["country"]: m["date"] for m in v[("levers", "t5_mou", "mous")]}
    assert "MYS" not in mous and mous["KWT"] == levers.NEW_MOU_DATE
    assert all(mous[m["country"]] == m["date"] for m in r.values[("levers", "t5_mou", "mous")] if m["country"] in mous)


def test_levers_say_what_the_schema_says_and_stay_in_its_range() -> None:
    from simulation.scenario.loader import field_meta

    for lv in levers.LEVERS:
        meta = field_meta(lv.paths[0])
        assert lv.measure == meta["measure"] and lv.label.startswith(f"{lv.measure} "), lv.name
        assert lv.help.startswith(meta["description"].removesuffix(f" ({lv.paths[0][-1]})")), lv.name
    rate = levers.BY_NAME["f5_rate_cut"]
    assert (rate.unit, rate.scale) == ("%p", 100.0)  # a rate per year shows in percentage points
    with pytest.raises(ValueError, match="leaves the schema"):
        levers.lever(levers.Control("c5_many", "levers.c5_roadshows.per_year", "roadshows per year", 0, 5000))
    with pytest.raises(ValueError, match="not a field"):
        levers.lever(levers.Control("typo", "levers.c5_roadshows.per_yer", "roadshows per year"))


def test_kotra_lever_opens_the_scenarios_centres_first() -> None:
    r = load("plan_2019_implemented")  # 4 centres from 2020-10 (country-table flag kotra_centre_2020)
    assert levers.read(r)["n4_kotra"] == 4
    from simulation.engine.params import country_table

    table = country_table(r)
    own = table.flagged("kotra_centre_2020")
    applied = levers.apply(r, dict(levers.read(r), n4_kotra=6))
    listed = applied.values[("levers", "n4_hubs", "kotra_centres")]
    assert listed[0]["country"] == "csv:kotra_centre_2020" and listed[-1] == levers.PLAN_KOTRA
    assert levers.read(applied)["n4_kotra"] == 6
    assert levers.kotra_range(r) >= 30 and len(own) == 4


def test_extract_gives_the_numbers_tidy_writes() -> None:
    res = simulate(load("plan_2019_announced", "time.end=2021-12"), 3)
    got = runs.extract(res)
    t = tidy(res)

    def series(metric: str) -> np.ndarray:
        return t[(t["metric"] == metric) & (t["group"] == "all")]["value"].to_numpy()

    np.testing.assert_array_equal(got["wins"], series("wins"))
    np.testing.assert_array_equal(got["bids"], series("bids"))
    np.testing.assert_allclose(got["value_usd_m"], series("value_won_usd_m"))
    np.testing.assert_allclose(got["value_krw_bn"], series("value_won_krw_bn"))
    np.testing.assert_allclose(got["cost_krw_bn"], series("public_cost_krw_bn"))
    assert got["cost_krw_bn"].sum() > 0 and got["bids"].sum() > 0


def test_evaluate_pairs_seeds_and_runs_the_baseline_once() -> None:
    plan, base = str(SCENARIOS / "plan_2019_announced.yaml"), str(SCENARIOS / "no_plan.yaml")
    first = runs.evaluate(plan, base, reps=3, seed=11)
    moved = runs.evaluate(
        plan, base, dict(first.settings, c5_roadshows=first.settings["c5_roadshows"] + 10), reps=3, seed=11
    )
    assert first.scenario.seeds == first.baseline.seeds == moved.scenario.seeds
    assert moved.baseline is first.baseline, "the baseline of a seed set is run once and cached"
    assert moved.overrides == {"levers.c5_roadshows.per_year": first.settings["c5_roadshows"] + 10}
    # the lever reaches the model (total cost need not rise: bid-driven instruments respond too)
    assert not np.array_equal(moved.scenario.bids, first.scenario.bids)
    assert not np.array_equal(moved.scenario.cost_krw_bn, first.scenario.cost_krw_bn)
    # the baseline against itself: common random numbers make every paired difference exactly zero
    same = runs.evaluate(base, base, reps=3, seed=11)
    assert [(d.mean, d.low, d.high) for d in same.differences] == [(0.0, 0.0, 0.0)] * 3
    view = charts.build(plan, base, moved.settings, 3, 11)
    data = json.loads(charts.table_html(view.outcome).split('data-yearly="')[1].split('"')[0].replace("&quot;", '"'))
    assert data["years"] == list(range(2019, 2031))
    np.testing.assert_allclose(data["cost_krw_bn:scenario"], moved.scenario.cost_krw_bn.mean(axis=0))
    assert [s for s, _ in view.charts] == [s for s, *_ in charts.SERIES]
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for _, png in view.charts)


# ---- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, needle",
    [
        (["--scenario", "no_such_scenario.yaml"], "error: no_such_scenario.yaml: file not found"),
        (["--scenario", "scenarios"], "error: scenarios: is a directory"),
        (["--port", "70000"], "error: --port must be between 1 and 65535"),
    ],
)
def test_app_bad_input_is_one_message_and_status_2(args: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulation", "app", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(needle), proc.stderr
    assert proc.stdout == ""


# ---- the page in a browser -------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Trap(BaseHTTPRequestHandler):
    """Stands in for the CDN behind Solara's asset proxy: every request it gets is a failure of the test."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        _Trap.hits.append(self.path)
        self.send_error(404)

    def log_message(self, *args) -> None:
        pass


def _wait_until_answering(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"scsim app exited with {proc.returncode} before answering:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"scsim app did not answer {url} within {timeout:.0f} s:\n{log.read_text()}")


def _local(url: str, origin: str) -> bool:
    """A request that stays on the app's own address (blob: and data: URLs never touch the network)."""
    if url.startswith("data:"):
        return True
    if url.startswith("blob:"):
        url = url[len("blob:") :]
    parts, home = urlsplit(url), urlsplit(origin)
    return parts.scheme in ("http", "ws") and parts.hostname == home.hostname and parts.port == home.port


def _yearly(page) -> dict:
    return json.loads(page.locator("#scsim-yearly").get_attribute("data-yearly"))


def test_dashboard_in_a_browser(tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: the dashboard test drives Debian's chromium. Install it with "
            "`apt-get update && apt-get install -y chromium` (.ci/run does this where it is missing)"
        )
    from playwright.sync_api import sync_playwright

    trap = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    _Trap.hits = []
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = dict(os.environ, SOLARA_ASSETS_CDN=f"http://127.0.0.1:{trap.server_address[1]}/npm/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"  # the plan with roadshows moved to 20, against no plan
    shot.unlink(missing_ok=True)
    requests: list[str] = []
    console_errors: list[str] = []
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulation", "app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_answering(origin + "/", proc, log, timeout=300)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 1100})
                page.on("request", lambda r: requests.append(r.url))
                page.on("websocket", lambda ws: requests.append(ws.url))
                page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
                try:
                    page.goto(origin + "/")
                    page.wait_for_selector(
                        "#scsim-yearly, #scsim-status[data-state=error]", timeout=FIRST_VIEW_TIMEOUT_S * 1000
                    )
                    if page.locator("#scsim-status[data-state=error]").count():
                        pytest.fail(f"the page could not run the model: {page.locator('.v-alert').all_inner_texts()}")
                    page.wait_for_selector("#scsim-status[data-state=done]", timeout=60_000)

                    # what the page shows: the scenario against the no-plan baseline, three charts, the numbers
                    table = page.locator("#scsim-yearly")
                    assert table.get_attribute("data-scenario") == "plan_2019_announced"
                    assert table.get_attribute("data-baseline") == "no_plan"
                    assert table.get_attribute("data-reps") == str(runs.DEFAULT_REPS)
                    assert "no_plan" in page.locator("#scsim-headline").inner_text()
                    assert "public cost" in page.locator("#scsim-headline").inner_text()
                    images = page.locator(".scsim-chart img")
                    assert images.count() == 3
                    for i in range(3):
                        assert images.nth(i).is_visible()
                        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth") > 300
                    before = _yearly(page)
                    assert before["years"] == list(range(2019, 2031))
                    for key, values in before.items():
                        assert len(values) == 12, key
                    assert before["value_usd_m:scenario"] != before["value_usd_m:baseline"]
                    assert sum(before["cost_krw_bn:scenario"]) > sum(before["cost_krw_bn:baseline"]) > 0
                    rows = page.locator("#scsim-yearly tbody tr")
                    assert rows.count() == 12 and rows.first.locator("td").first.inner_text() == "2019"

                    # move one lever: C5 roadshows a year, 5 in the announced plan, to the slider's end (20)
                    slider = page.locator(".v-input", has_text="C5 roadshows per year").get_by_role("slider")
                    assert slider.get_attribute("aria-valuenow") == "5"
                    t0 = time.monotonic()
                    slider.focus()
                    slider.press("End")
                    page.wait_for_function(
                        "() => { const t = document.querySelector('#scsim-yearly');"
                        " return t && JSON.parse(t.dataset.settings).c5_roadshows === 20; }",
                        timeout=60_000,
                    )
                    page.wait_for_selector("#scsim-status[data-state=done]", timeout=60_000)
                    seconds = time.monotonic() - t0
                    after = _yearly(page)
                    assert page.locator(".v-input", has_text="C5 roadshows per year").inner_text().count("20") >= 1
                    for series, *_ in charts.SERIES:  # the baseline is the same runs: not one number moves
                        assert after[f"{series}:baseline"] == before[f"{series}:baseline"], series
                    assert after["cost_krw_bn:scenario"] != before["cost_krw_bn:scenario"]
                    # 15 more roadshows a year cost more than the finance they may save elsewhere
                    assert sum(after["cost_krw_bn:scenario"]) > sum(before["cost_krw_bn:scenario"])
                    assert after["value_usd_m:scenario"] != before["value_usd_m:scenario"]
                    assert all(v is None or (0.0 <= v <= 1.0 and not math.isnan(v)) for v in after["win_rate:scenario"])
                    assert seconds < 30, f"a lever change took {seconds:.1f} s to reach the charts"
                    print(
                        f"lever change to updated charts: {seconds:.2f} s; server side "
                        f"{page.locator('#scsim-status').get_attribute('data-seconds')} s"
                    )
                    page.screenshot(path=str(shot), full_page=True)

                    # the picker: no_plan against itself, levers reset to its own values, every number equal
                    page.locator(".v-input", has_text="Scenario").first.click()
                    page.get_by_role("option", name="no_plan.yaml").click()
                    page.wait_for_function(
                        "() => document.querySelector('#scsim-yearly').dataset.scenario === 'no_plan'", timeout=60_000
                    )
                    page.wait_for_selector("#scsim-status[data-state=done]", timeout=60_000)
                    assert json.loads(table.get_attribute("data-settings"))["c5_roadshows"] == 1
                    same = _yearly(page)
                    for series, *_ in charts.SERIES:
                        assert same[f"{series}:scenario"] == same[f"{series}:baseline"] == before[f"{series}:baseline"]
                except BaseException:
                    page.screenshot(path=str(ARTIFACTS / "dashboard-failed.png"), full_page=True)
                    raise
            finally:
                browser.close()
        outside = sorted({u for u in requests if not _local(u, origin)})
        assert not outside, f"requests left the machine: {outside[:10]}"
        assert any(u.startswith(origin + "/_solara/cdn/") for u in requests), "assets should come from the app's proxy"
        assert _Trap.hits == [], f"the server's asset proxy asked its upstream for {_Trap.hits[:5]}"
        assert not console_errors, f"console errors: {console_errors[:5]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        trap.shutdown()
        trap.server_close()
    assert shot.stat().st_size > 50_000
    text = log.read_text()
    assert f"at {origin}/" in text, text
    assert "Traceback" not in text, text

"""`scsim validate-model`: the validation experiments, their verdicts, bad files and the results folder.

The command runs once on 2 replications (about 5 s once the kernels are compiled) and every test
reads that run; the verdict logic and the run records are checked on inputs with known answers.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import in_process
from scipy import stats

from simulation.analysis.validation import records
from simulation.analysis.validation.command import net_of_noise, summarise_over_sets
from simulation.analysis.validation.spec import load_validation
from simulation.analysis.validation.stats import interval, mean, pct_change, quotient, ratio, verdict
from simulation.engine.kernels.constants import G_REGION, INSTRUMENTS, K_CONTRACTS, NR
from simulation.engine.simulate import simulate
from simulation.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "experiments" / "validation").glob("*.yaml"))
VERDICT_WORDS = ("PASS", "FAIL", "INCONCLUSIVE")


def scsim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real program in a new process (`python -m simulation`)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "simulation", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The shipped experiments on 2 replications, run once from the project folder."""
    out = tmp_path_factory.mktemp("validation") / "res"
    proc = scsim("validate-model", "--reps", "2", "--out", str(out), "--quiet", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc, out


@pytest.fixture
def run():
    """`run(*args, cwd=...)`: the CLI in this process."""
    return in_process


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A working folder with copies of the scenarios and the validation experiments."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copytree(ROOT / "experiments" / "validation", tmp_path / "experiments" / "validation")
    return tmp_path


# ---- the command ---------------------------------------------------------------------------


def test_command_prints_one_verdict_per_check_with_its_ci(small):
    proc, out = small
    checks = [c for f in SHIPPED for c in load_validation(str(f)).spec.checks]
    assert len(checks) >= 6
    lines = proc.stdout.splitlines()
    for c in checks:
        hits = [ln for ln in lines if ln.startswith(c.name + " ")]
        assert len(hits) == 1, f"{c.name}: {hits}"
        assert sum(ln.rstrip().endswith(w) for w in VERDICT_WORDS for ln in hits) == 1, hits[0]
        assert "[" in hits[0] and "]" in hits[0], f"no CI printed: {hits[0]}"
    table = pd.read_csv(out / "checks.csv")
    assert list(table["check"]) == [c.name for c in checks]
    assert set(table["verdict"]) <= {"pass", "fail", "inconclusive"}
    for _, r in table.iterrows():  # the printed verdict is the rule applied to the stored numbers
        assert r["verdict"] == verdict(
            r["estimate"],
            r["ci_low"],
            r["ci_high"],
            None if pd.isna(r["published_low"]) else r["published_low"],
            None if pd.isna(r["published_high"]) else r["published_high"],
            r["rule"],
        )
        assert r["source"] and r["replications"] == 2


def test_results_folder_is_tidy_and_described(small):
    _, out = small
    names = {p.name for p in out.iterdir()}
    assert {
        "checks.csv",
        "checks.parquet",
        "estimates.csv",
        "estimates.parquet",
        "runs.csv",
        "runs.parquet",
        "manifest.json",
    } <= names
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["kind"] == "validate-model" and manifest["key"]
    assert "validate-model" in manifest["command"] and manifest["git_commit"]
    assert {e["name"] for e in manifest["experiments"]} == {load_validation(str(f)).spec.name for f in SHIPPED}
    for e in manifest["experiments"]:
        assert len(e["seeds"]) == 2 and e["replications"] == 2
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs.columns) == ["experiment", "arm", "run", "seed", "quantity", "value"]
    assert set(runs["run"]) == {0, 1}


def test_common_random_numbers_leave_the_year_before_a_visit_untouched(small):
    _, out = small
    est = pd.read_csv(out / "estimates.csv")
    before = est[(est["quantity"] == "visited_value_change") & (est["year"] == -1)]
    # one row per event experiment (visit, KOTRA centre, MOU): each arm identical to its control until the event
    assert len(before) == 3 and (before["estimate"] == 0.0).all(), "runs must be identical until the event"
    runs = pd.read_csv(out / "runs.csv")
    pre_t = runs[runs["quantity"] == "value_treated_usd_m_y-1"].sort_values(["arm", "run"])["value"].to_numpy()
    pre_c = runs[runs["quantity"] == "value_control_usd_m_y-1"].sort_values(["arm", "run"])["value"].to_numpy()
    assert len(pre_t) > 0 and np.array_equal(pre_t, pre_c)


def test_results_are_not_overwritten_without_force(ws, run):
    exp = "experiments/validation/concessional_finance_f5.yaml"
    out = ws / "res"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = run("validate-model", exp, "--reps", "2", "--out", "res", "--quiet", cwd=ws)
    assert proc.returncode == 2 and "--force" in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    # --force replaces results, never a folder of other things
    proc = run("validate-model", exp, "--reps", "2", "--out", "res", "--quiet", "--force", cwd=ws)
    assert proc.returncode == 2 and "not a results folder" in proc.stderr, proc.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "manifest.json").write_text("{}")
    proc = run("validate-model", exp, "--reps", "2", "--out", "res", "--quiet", "--force", cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert not (out / "keep.txt").exists() and (out / "checks.csv").is_file()


def test_the_default_folder_is_reused_not_overwritten(ws, run):
    exp = "experiments/validation/concessional_finance_f5.yaml"
    first = run("validate-model", exp, "--reps", "2", "--quiet", cwd=ws)
    assert first.returncode == 0, first.stderr
    (folder,) = (ws / "results").iterdir()
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    again = run("validate-model", exp, "--reps", "2", "--quiet", cwd=ws)
    assert again.returncode == 0 and "already exist" in again.stdout and "f5_users_value_growth" in again.stdout
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp


# ---- bad experiment files ------------------------------------------------------------------
# (file, old text, new text, the key the message must name, a fragment it must contain)
BAD = [
    ("promotion_return.yaml", "replications: 100", "replications: 100\nreplicates: 3", "replicates", "unknown key"),
    ("promotion_return.yaml", "kind: promotion_return", "kind: promotion", "kind", "unknown kind"),
    (
        "promotion_return.yaml",
        "levers.c5_roadshows.per_year: 2}",
        "levers.c5_roadshow.per_year: 2}",
        "doses.0.set",
        "c5_roadshow",
    ),
    (
        "promotion_return.yaml",
        "levers.c5_roadshows.per_year: 3}",
        "levers.c5_roadshows.per_year: -3}",
        "doses.1.set",
        "per_year",
    ),
    (
        "promotion_return.yaml",
        "estimate: return_at_control",
        "estimate: return_at_controls",
        "checks.0.estimate",
        "unknown estimate",
    ),
    (
        "promotion_return.yaml",
        "published: {low: 11.0, high: 19.0, point: 15.0}",
        "published: {low: 19.0, high: 11.0}",
        "checks.0.published",
        "empty range",
    ),
    ("concessional_finance_f5.yaml", "arm: pakistan_cut", "arm: pakistan", "checks.0.arm", "pakistan_cut"),
    ("concessional_finance_f5.yaml", "users: co_entry_loan", "users: borrowers", "users", "borrowers"),
    (
        "concessional_finance_f5.yaml",
        "base: ../../scenarios/plan_2019_announced.yaml",
        "base: ../../scenarios/missing.yaml",
        "base",
        "not found",
    ),
    ("high_level_visits.yaml", "countries: [IND,", "countries: [XXX,", "countries.0", "XXX"),
    ("high_level_visits.yaml", "years_after: 4", "years_after: 12", "years_after", "horizon"),
    ("high_level_visits.yaml", "    year: 0\n", "", "checks.0", "year"),
    ("high_level_visits.yaml", "rule: inside", "rule: within", "checks.1.rule", "within"),
    ("export_insurance_f7.yaml", 'groups: ["risk:6", "risk:7"]', 'groups: ["risk:6", "risk:9"]', "groups.1", "risk:9"),
    ("export_insurance_f7.yaml", 'groups: ["risk:6", "risk:7"]', "", "checks.0.estimate", "needs `groups:`"),
    ("small_firms_gain_more.yaml", "arm: information", "arm: info", "checks.0.arm", "information"),
]


@pytest.mark.parametrize("name,old,new,key,fragment", BAD, ids=[f"{b[0]}:{b[3]}" for b in BAD])
def test_a_bad_experiment_file_is_one_message_and_exit_2(ws, run, name, old, new, key, fragment):
    path = ws / "experiments" / "validation" / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    proc = run("validate-model", f"experiments/validation/{name}", "--reps", "2", "--out", "res", "--quiet", cwd=ws)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"error: experiments/validation/{name}:"), lines[0]
    assert f": {key}" in lines[0] and fragment in lines[0], lines[0]
    assert not (ws / "res").exists(), "nothing may be written for a bad file"


def test_malformed_yaml_and_too_few_replications_are_refused(ws, run):
    path = ws / "experiments" / "validation" / "promotion_return.yaml"
    path.write_text(path.read_text().replace("doses:", "doses: [", 1))
    proc = run("validate-model", "experiments/validation/promotion_return.yaml", "--quiet", cwd=ws)
    assert proc.returncode == 2 and proc.stderr.startswith("error: experiments/validation/promotion_return.yaml:")
    proc = run("validate-model", "experiments/validation/high_level_visits.yaml", "--reps", "1", cwd=ws)
    assert proc.returncode == 2 and "--reps must be at least 2" in proc.stderr


# ---- the verdict and the intervals -----------------------------------------------------------


@pytest.mark.parametrize(
    "est,lo,hi,low,high,rule,expected",
    [
        (9.0, 8.5, 9.5, 7.0, 11.0, "overlap", "pass"),  # CI inside the range
        (9.0, 2.0, 16.0, 7.0, 11.0, "overlap", "pass"),  # estimate inside, CI wider than the range
        (5.0, 3.0, 7.5, 7.0, 11.0, "overlap", "inconclusive"),  # estimate below, CI reaches the range
        (2.0, 1.0, 3.0, 7.0, 11.0, "overlap", "fail"),  # CI entirely below
        (30.0, 20.0, 40.0, 7.0, 11.0, "overlap", "fail"),  # CI entirely above
        (11.5, 11.2, 13.0, 7.0, 11.0, "overlap", "fail"),  # just above: disjoint is disjoint
        (0.5, -2.0, 3.0, -5.0, 5.0, "inside", "pass"),  # no effect, clearly
        (0.5, -8.0, 9.0, -5.0, 5.0, "inside", "inconclusive"),  # no effect not shown: CI too wide
        (12.0, 8.0, 16.0, -5.0, 5.0, "inside", "fail"),  # a clear effect where there should be none
        (-3.0, -5.0, -1.0, None, 0.0, "inside", "pass"),  # a sign: clearly negative
        (-3.0, -7.0, 1.0, None, 0.0, "inside", "inconclusive"),
        (2.0, 1.0, 3.0, None, 0.0, "inside", "fail"),
        (25.0, 20.0, 30.0, 11.0, None, "overlap", "pass"),  # unbounded above
        (math.nan, math.nan, math.nan, 7.0, 11.0, "overlap", "inconclusive"),
        (9.0, math.nan, math.nan, 7.0, 11.0, "overlap", "inconclusive"),
    ],
)
def test_verdict_on_known_inputs(est, lo, hi, low, high, rule, expected):
    assert verdict(est, lo, hi, low, high, rule) == expected


def test_intervals_of_ratios_and_differences():
    rng = np.random.default_rng(1)
    control = rng.uniform(50, 150, 60)
    treated = control * 1.10 + rng.normal(0, 5, 60)
    iv = interval(pct_change(treated, control))
    assert math.isclose(iv.estimate, 100 * (treated.sum() / control.sum() - 1))
    assert iv.low < iv.estimate < iv.high and iv.low > 8 and iv.high < 12
    same = interval(pct_change(control, control))
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    d = treated - control  # a constant denominator: exactly the paired t-interval of `scsim compare`
    half = stats.t.ppf(0.975, 59) * d.std(ddof=1) / math.sqrt(60)
    paired = interval(mean(d))
    assert math.isclose(paired.high - paired.estimate, half, rel_tol=1e-12)
    diff = interval(ratio(treated, control) - ratio(control, control))  # minus a constant: the same interval
    ref = interval(ratio(treated, control))
    assert math.isclose(diff.low, ref.low - 1) and math.isclose(diff.high, ref.high - 1)
    one = interval(ratio(treated[:1], control[:1]))
    assert math.isfinite(one.estimate) and math.isnan(one.low) and math.isnan(one.high)
    assert math.isnan(interval(ratio(treated, -control)).estimate), "no ratio over a non-positive total"


# ---- what the experiments read from a run ------------------------------------------------------


def test_run_records_agree_with_the_accumulators():
    r = load_scenario(str(ROOT / "scenarios" / "plan_2019_announced.yaml"))
    res = simulate(r, 7)
    w = records.wins(res)
    ny = res.params.n_years
    assert np.allclose(np.bincount(w.year, weights=w.value, minlength=ny), res.acc.value[:, 0])
    assert (w.partner >= 0).any(), "the plan forms consortia"
    everyone = np.zeros(res.params.n_firms, dtype=np.int64)  # every firm a user from the first year
    value, dest = records.users_outcome(res, everyone)
    assert math.isclose(value, res.acc.value[:, 0].sum(), rel_tol=1e-9)
    new = res.acc.new_entries.sum()
    assert new == res.state.won_in.sum() - _won_before(r), "first wins are the firm-country pairs added in the run"
    assert new <= dest <= res.state.won_in.sum(), "destinations: the firm-country pairs with a win in the run"
    countries = np.arange(res.params.n_countries)
    by_country, wins = records.country_year_value(res, countries)
    region = res.params.region
    for g in range(NR):
        assert np.allclose(by_country[region == g].sum(axis=0), res.acc.value[:, G_REGION + g])
    assert wins.sum() == res.acc.wins[:, 0].sum()
    loans = records.first_use(res, "co_entry_loan")
    users = loans < np.iinfo(np.int64).max
    assert users.any() and (res.state.size[users] >= 2).all(), "co-entry borrowers are SMEs or startups"


def test_the_dose_of_a_finance_twin_is_the_value_its_loans_financed():
    """F5's dose is its partners' share of the contracts its loans financed (returned to the pot at
    the end); F6's is the sole contracts whose public cost the award booked; nobody else's wins count."""
    r = load_scenario(str(ROOT / "scenarios" / "plan_2019_announced.yaml"))
    res = simulate(r, 7)
    S, P, A = res.state, res.params, res.acc
    nc = int(S.cnt[K_CONTRACTS])
    loan = S.k_loan[:nc] > 0
    assert loan.any() and (S.k_partner[:nc][loan] >= 0).all(), "F5 lends to consortium partners"
    f5 = records.financed_value(res, "co_entry_loan")
    assert math.isclose(f5, float((S.k_value[:nc] * S.k_share_p[:nc])[loan].sum()), rel_tol=1e-12)
    w = records.wins(res)
    sole = S.b_sole[records.winning_bids(res, w)] == 1
    assert sole.any() and (w.partner[sole] == -1).all(), "F6 finances SMEs bidding alone"
    cost = (P.f6_sole_save[S.t_type[w.tender]] * w.value * (P.krw / 1000.0))[sole].sum()
    assert math.isclose(float(A.cost[:, INSTRUMENTS.index("f6_sme_sole")].sum()), float(cost), rel_tol=1e-9)
    f6 = records.financed_value(res, "sme_sole_loan")
    assert math.isclose(f6, float(w.value[sole].sum()), rel_tol=1e-12)
    everyone = np.zeros(P.n_firms, dtype=np.int64)
    assert 0 < f5 < f6 < records.users_outcome(res, everyone)[0], "a dose is part of the value won"


def test_a_finance_twins_effect_is_read_per_unit_of_business_financed():
    """Users' value change over the financed share: the same change on half the dose reads twice as large."""
    fin, treated, control = np.array([20.0, 30, 10]), np.array([100.0, 120, 80]), np.array([95.0, 110, 78])
    share = ratio(fin, treated)
    per = interval(quotient(pct_change(treated, control), share))
    change = pct_change(treated, control).estimate
    assert math.isclose(per.estimate, change / share.estimate)
    half = interval(quotient(pct_change(treated, control), ratio(fin / 2, treated)))
    assert math.isclose(half.estimate, 2 * per.estimate) and half.high - half.low > per.high - per.low


def _won_before(r) -> int:
    """Firm-country pairs already marked as won in the initial world (references from before the start)."""
    from simulation.engine.world import build

    _, _, _, state, _, _ = build(r, 7, None)
    return int(state.won_in.sum())


def test_the_plan_dose_is_the_announced_plans_promotion():
    x = load_validation(str(ROOT / "experiments" / "validation" / "promotion_return.yaml"))
    plan = dict(x.arms)["plan"]
    announced = load_scenario(str(ROOT / "scenarios" / "plan_2019_announced.yaml"))
    promotion = ("n2_subsidy", "n3_info_db", "n4_hubs", "c1_expo", "c4_fair", "c5_roadshows")
    for path, value in announced.values.items():
        if path[0] == "levers":
            same = plan.values[path] == value
            assert same == (path[1] in promotion or x.control.values[path] == value), path
    assert x.control.hash == load_scenario(str(ROOT / "scenarios" / "no_plan.yaml")).hash


def test_a_lever_effect_is_the_change_of_value_won_in_its_groups_and_sizes():
    """The lever_effect estimates, computed by hand from the same runs: value won in the named groups
    (the F7 twin's risk classes 6-7) and SMEs and startups against large firms."""
    from simulation.analysis.validation.measure import measure
    from simulation.engine.metrics import GROUPS
    from simulation.experiment.tasks import replication_seeds

    x = load_validation(str(ROOT / "experiments" / "validation" / "export_insurance_f7.yaml"))
    out = measure(x, 3, 0, lambda n: None)
    (arm,) = [r for _, r in x.arms]
    risky = [GROUPS.index("risk:6"), GROUPS.index("risk:7")]
    small, large = [GROUPS.index("size:sme"), GROUPS.index("size:startup")], [GROUPS.index("size:large")]
    t, c = np.zeros((3, 3)), np.zeros((3, 3))
    for i, seed in enumerate(replication_seeds(0, 3)):
        for into, r in ((t, arm), (c, x.control)):
            v = simulate(r, seed).acc.value.sum(axis=0)
            into[:, i] = (v[risky].sum(), v[small].sum(), v[large].sum())
    group = out.lookup("export_insurance_f7", "group_value_change", "special_account", None)
    assert math.isclose(group["estimate"], 100.0 * (t[0].sum() / c[0].sum() - 1.0), rel_tol=1e-12)
    gap = out.lookup("export_insurance_f7", "small_minus_large", "special_account", None)
    expected = 100.0 * (t[1].sum() / c[1].sum() - t[2].sum() / c[2].sum())
    assert math.isclose(gap["estimate"], expected, rel_tol=1e-9, abs_tol=1e-9)
    assert group["ci_low"] <= group["estimate"] <= group["ci_high"]


def test_checks_over_parameter_sets_apply_each_set_to_control_and_arms(ws, run):
    """`--parameter-sets`: a set holding the point's own values gives the point's estimate (same
    seeds and replications); a set's values reach the control and the arm (cover dearer than the
    loss a risk-neutral firm weighs is never bought: exactly no effect); the spread, the count
    inside the range and the verdict over the sets follow from the per-set estimates; and the
    table does not depend on the number of workers."""
    import yaml

    exp = "experiments/validation/export_insurance_f7.yaml"
    point = {"behaviour.risk_aversion": 1.5}  # the scenario's own value
    dearer = {"levers.f7_ksure.premium_to_expected_loss": 1.2, "behaviour.risk_aversion": 1.0}
    (ws / "sets.yaml").write_text(yaml.safe_dump({"sets": [point, dearer, point]}))
    common = (exp, "--reps", "4", "--parameter-sets", "sets.yaml", "--set-reps", "4", "--quiet")
    one = run("validate-model", *common, "--out", "one", "--workers", "1", cwd=ws)
    assert one.returncode == 0, one.stderr
    assert "over the 3 parameter sets (4 replications a set and arm" in one.stdout
    checks = pd.read_csv(ws / "one" / "checks.csv").set_index("check")
    over = pd.read_csv(ws / "one" / "over_sets.csv")
    f7 = over[over["check"] == "f7_risky_countries_value"].sort_values("set")["estimate"].to_numpy()
    assert f7[0] == checks.loc["f7_risky_countries_value", "estimate"] == f7[2] and f7[0] > 5.0
    assert f7[1] == 0.0, "a set's values reach the control and the arm"
    row = checks.loc["f7_risky_countries_value"]
    se = over[over["check"] == "f7_risky_countries_value"].sort_values("set")["se"].to_numpy()
    assert se[1] == 0.0 and se[0] == se[2] > 0.0, "each set's standard error comes from its own replications"
    net, share = net_of_noise(f7, se)  # the spread net of replication noise: the sets pulled to their mean
    assert share == pytest.approx(float(np.mean(se**2)) / float(np.var(f7, ddof=1)))
    assert (row["sets"], row["set_replications"]) == (3, 4) and row["sets_noise_share"] == pytest.approx(share)
    assert row["sets_inside"] == int(((net >= -5.0) & (net <= 5.0)).sum())
    assert row["sets_median"] == pytest.approx(np.median(net))
    centre = 1.96 * np.sqrt(np.mean(se**2) / 3)  # the mean they are pulled to is noisy too
    assert row["sets_p5"] == pytest.approx(np.percentile(net, 5) - centre)
    assert row["sets_verdict"] == "inconclusive"  # the spread reaches "no effect", the median does not
    manifest = json.loads((ws / "one" / "manifest.json").read_text())
    assert manifest["parameter_sets"]["sets"] == 3 and manifest["set_replications"] == 4
    page = (ws / "one" / "report.html").read_text(encoding="utf-8")
    assert "verdict over the sets" in page and "f7_risky_countries_value" in page
    two = run("validate-model", *common, "--out", "two", "--workers", "2", "--no-report", cwd=ws)
    assert two.returncode == 0, two.stderr
    pd.testing.assert_frame_equal(pd.read_csv(ws / "two" / "over_sets.csv"), over)
    assert not (ws / "two" / "report.html").exists()


def test_each_verdict_over_the_sets_says_what_it_rests_on(ws, run, monkeypatch):
    """A check's spread over the sets is stated with its reason: the parameter that moves it (F7's
    cover is bought only when the firm weighs a loss above the account's price), how much of it is
    replication noise; the parameter values travel in the manifest, `scsim analyze` lists every
    parameter's rank correlation, and the report has the reason beside the verdict."""
    import yaml

    from simulation.analysis.drivers import with_reasons

    exp = "experiments/validation/export_insurance_f7.yaml"
    never = {"behaviour.risk_aversion": 1.0, "levers.f7_ksure.premium_to_expected_loss": 1.2}
    bought = {"behaviour.risk_aversion": 2.0, "levers.f7_ksure.premium_to_expected_loss": 0.8}
    sets = [never if k % 2 == 0 else bought for k in range(10)]
    (ws / "sets.yaml").write_text(yaml.safe_dump({"sets": sets}))
    proc = run(
        "validate-model", exp, "--reps", "4", "--parameter-sets", "sets.yaml", "--set-reps", "4", "--quiet",
        "--out", "r", cwd=ws,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = "moves with behaviour.risk_aversion +1.00, levers.f7_ksure.premium_to_expected_loss -1.00"
    assert said in proc.stdout, proc.stdout
    row = pd.read_csv(ws / "r" / "checks.csv").set_index("check").loc["f7_risky_countries_value"]
    assert row["sets_reason"].startswith(said) and 0.0 < row["sets_noise_share"] < 1.0
    manifest = json.loads((ws / "r" / "manifest.json").read_text())
    assert manifest["parameter_sets"]["values"] == sets
    drivers = pd.read_csv(ws / "r" / "drivers.csv").set_index("parameter")
    assert drivers.loc["behaviour.risk_aversion", "rho"] == pytest.approx(1.0)
    assert "what the spread over the sets rests on" in (ws / "r" / "report.html").read_text(encoding="utf-8")

    again = run("analyze", "r", "--out", "d.csv", cwd=ws)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1].split()[:3] == ["behaviour.risk_aversion", "rho", "+1.00"], again.stdout
    assert pd.read_csv(ws / "d.csv").equals(pd.read_csv(ws / "r" / "drivers.csv"))

    # one replication a set measures no noise: the spread is read raw, and no noise share is claimed
    one = run(
        "validate-model", exp, "--reps", "3", "--parameter-sets", "sets.yaml", "--set-reps", "1", "--quiet",
        "--out", "one", "--no-report", cwd=ws,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    assert said + "\n" in one.stdout and "net of the replication noise" not in one.stdout, one.stdout
    raw = pd.read_csv(ws / "one" / "over_sets.csv")["estimate"].to_numpy()
    single = pd.read_csv(ws / "one" / "checks.csv").set_index("check").loc["f7_risky_countries_value"]
    assert np.isnan(single["sets_noise_share"]) and single["sets_p95"] == pytest.approx(np.percentile(raw, 95))

    # a folder written before reasons were stored gets them from the file it names (relative to
    # the folder the command ran in), while unchanged
    monkeypatch.chdir(ws)
    checks = pd.read_csv(ws / "r" / "checks.csv").drop(columns=["sets_reason", "sets_noise_share"])
    del manifest["parameter_sets"]["values"]
    (ws / "r" / "manifest.json").write_text(json.dumps(manifest))
    assert (
        with_reasons(ws / "r", checks)
        .set_index("check")
        .loc["f7_risky_countries_value", "sets_reason"]
        .startswith(said)
    )
    (ws / "sets.yaml").write_text(yaml.safe_dump({"sets": sets[:4]}))
    assert "sets_reason" not in with_reasons(ws / "r", checks)


def test_a_spread_over_the_sets_that_is_replication_noise_does_not_make_a_verdict_inconclusive():
    """At 20 replications a set, an estimate the parameters do not move still spreads over the sets
    by its noise; read raw, that spread straddles the published range and the verdict is
    inconclusive for want of replications. Net of the noise the sets measure, it is the fail it is;
    an estimate the parameters do move keeps its spread."""
    rng = np.random.default_rng(7)
    flat = 1.5 + rng.normal(0.0, 3.4, 75)  # F5's users: about +1.5 % whatever the parameters
    moved = np.linspace(0.0, 40.0, 75) + rng.normal(0.0, 3.4, 75)
    se = np.full(75, 3.4)
    rows = [
        {"check": name, "published_low": 3.5, "published_high": 10.5, "rule": "overlap"} for name in ("flat", "moved")
    ]
    summarise_over_sets(rows, [{"flat": (a, e), "moved": (b, e)} for a, b, e in zip(flat, moved, se, strict=True)])
    flat_row, moved_row = rows
    assert np.percentile(flat, 5) < 3.5 < np.percentile(flat, 95), "read raw, the noise straddles the range"
    assert flat_row["sets_noise_share"] > 0.7 and flat_row["sets_verdict"] == "fail"
    assert flat_row["sets_p95"] < 3.5 and flat_row["sets_inside"] == 0
    assert moved_row["sets_noise_share"] < 0.1 and moved_row["sets_verdict"] == "inconclusive"
    assert moved_row["sets_p95"] - moved_row["sets_p5"] > 30.0
    unread, share = net_of_noise(flat, np.full(75, np.nan))  # one replication a set: no noise to take out
    assert np.isnan(share) and np.array_equal(unread, flat)


def test_a_parameter_set_naming_an_unknown_key_stops_before_any_run(ws, run):
    (ws / "sets.yaml").write_text("sets:\n  - {behaviour.risk_aversion: 1.2}\n  - {behaviour.no_such_key: 1.0}\n")
    proc = run(
        "validate-model", "experiments/validation/mou.yaml", "--parameter-sets", "sets.yaml", "--out", "r", cwd=ws
    )
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "sets.yaml" in proc.stderr and ":3" in proc.stderr and "parameter set 2" in proc.stderr, proc.stderr
    assert not (ws / "r").exists()


def test_the_report_page_shows_every_check_against_its_range(small, tmp_path):
    """validate-model writes report.html into its folder: the held-out and fitted checks under their
    own headings, each with its estimate, published range and verdict, and the figure embedded;
    `scsim report FOLDER --out FILE` writes it again elsewhere."""
    proc, out = small
    page = (out / "report.html").read_text(encoding="utf-8")
    checks = pd.read_csv(out / "checks.csv")
    assert "<h2>Held-out checks</h2>" in page and "<h2>Fitted checks</h2>" in page
    assert all(f"<code>{name}</code>" in page for name in checks["check"])
    assert page.count("data:image/svg+xml;base64,") == 1 and (out / "figures" / "validation_checks.png").is_file()
    held = checks[checks["role"] == "held_out"]["verdict"].value_counts()
    assert f"Held-out checks at the point: {held.get('pass', 0)} pass" in page
    again = tmp_path / "again.html"
    rep = scsim("report", str(out), "--out", str(again), cwd=ROOT)
    assert rep.returncode == 0, rep.stderr
    assert again.read_text(encoding="utf-8").count("<code>") >= len(checks)


def test_experiments_run_in_parallel_with_the_same_results(ws, run):
    """--workers: the experiment files run in parallel processes; the tables are the same as in one."""
    files = ("experiments/validation/mou.yaml", "experiments/validation/concessional_finance_f5.yaml")
    for name, w in (("one", "1"), ("two", "2")):
        proc = run(
            "validate-model", *files, "--reps", "2", "--out", name, "--workers", w, "--quiet", "--no-report", cwd=ws
        )
        assert proc.returncode == 0, proc.stderr
    for table in ("checks", "estimates", "runs"):
        pd.testing.assert_frame_equal(
            pd.read_csv(ws / "one" / f"{table}.csv"), pd.read_csv(ws / "two" / f"{table}.csv")
        )

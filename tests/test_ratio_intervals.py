"""Value per public KRW is a ratio of sums: its interval keeps its sign, however few the replications,
and a ranking on fewer than 5 replications says its intervals are unreliable."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from helpers import ROOT

from simulation.analysis.analyze import MIN_RANK_REPS, analyze, format_analysis, ratio_ci
from simulation.cli import main


def test_ratio_of_sums_with_a_log_scale_interval():
    num, den = np.array([100.0, 5.0, 300.0]), np.array([1.0, 20.0, 2.0])
    r, lo, hi, n = ratio_ci(num, den)
    assert r == num.sum() / den.sum() and n == 3
    assert 0 < lo < r < hi
    # two wildly different replications: wide, still positive
    r, lo, hi, _ = ratio_ci(np.array([3000.0, 100.0]), np.array([2.0, 40.0]))
    assert 0 < lo < r < hi and hi / lo > 100
    assert all(math.isnan(x) for x in ratio_ci(np.array([5.0]), np.array([2.0]))[1:3])


def test_the_interval_covers_the_ratio_of_means_about_as_often_as_it_says():
    rng = np.random.default_rng(1)
    true_num, true_den = math.exp(5 + 0.5**2 / 2), math.exp(1 + 0.3**2 / 2)
    hits = 0
    for _ in range(400):
        num = rng.lognormal(5, 0.5, 20)
        den = rng.lognormal(1, 0.3, 20)
        _, lo, hi, _ = ratio_ci(num, den)
        hits += lo <= true_num / true_den <= hi
    assert 0.88 <= hits / 400 <= 0.99


def test_a_two_replication_sweep_ranks_with_positive_intervals_and_says_they_are_unreliable(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["sweep", str(ROOT / "experiments" / "smoke.yaml"), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    a = analyze(out)
    rank = a.ranking
    assert a.n_reps == 2 < MIN_RANK_REPS
    assert (rank["value_per_public_krw_ci_low"] > 0).all(), "a ratio of positive sums never gets a negative bound"
    assert (rank["value_won_krw_bn_ci_low"] >= 0).all() and (rank["public_cost_krw_bn_ci_low"] >= 0).all()
    # the estimate is the setting's total value over its total cost
    runs = a.runs.merge(a.points[["point"]], on="point")
    first = runs[runs["point"] == int(rank.loc[0, "point"])]
    assert math.isclose(
        rank.loc[0, "value_per_public_krw_mean"],
        first["value_won_krw_bn"].sum() / first["public_cost_krw_bn"].sum(),
        rel_tol=1e-12,
    )
    for text in (printed, format_analysis(a)):
        assert "intervals are unreliable (fewer than 5)" in text
        assert "value won (USD m)" in text and "public cost (KRW bn)" in text
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Intervals are unreliable" in page or "intervals are unreliable" in page
    ranking = pd.read_csv(out / "analysis" / "ranking.csv")
    assert (ranking["value_per_public_krw_ci_low"] > 0).all()

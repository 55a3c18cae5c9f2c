"""Figures from real (small) results folders: each drawn when, and only when, its data is there,
showing the numbers in the folder, in styles that survive black-and-white print."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer
from PIL import Image
from report_data import COMPARED, build

from simulation.analysis.analyze import pareto_front
from simulation.analysis.compare import fmt_change
from simulation.present.figures import (
    FontWarning,
    Style,
    cost_value,
    draw_figures,
    forest,
    load_results,
    pis,
    value_size,
    value_where,
    win_rate,
)
from simulation.present.figures.sensitivity import Morris, Sobol
from simulation.present.figures.style import find_cjk_font, save

CMP_FIGURES = {"win_rate", "value_by_size", "value_by_region_risk", "forest", "cost_value", "pis_fund"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return build(tmp_path_factory)


@pytest.fixture(scope="module")
def cmp(data):
    return load_results(data["compare"])


@pytest.fixture(scope="module")
def drawn(data, tmp_path_factory) -> dict[str, dict]:
    """Every folder's figures, drawn once into a temporary folder: {folder: {figure id: Drawn}}."""
    out = {}
    for name in ("compare", "run", "smoke", "sobol", "morris"):
        target = tmp_path_factory.mktemp(f"fig-{name}")
        out[name] = {d.id: d for d in draw_figures(load_results(data[name]), target)}
    return out


def lines_by_label(ax) -> dict[str, object]:
    return {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}


# ---- which figures, as files ---------------------------------------------------------------------
def test_each_folder_gets_exactly_the_figures_its_data_supports(drawn):
    assert set(drawn["compare"]) == CMP_FIGURES
    # one scenario, no baseline, no PIS fund in the no-plan world: no forest plot, no fund figure
    assert set(drawn["run"]) == {"win_rate", "value_by_size", "value_by_region_risk", "cost_value"}
    # sweeps: cost against value from the analysis; Sobol or Morris only for their designs
    assert set(drawn["smoke"]) == {"cost_value"}
    assert set(drawn["sobol"]) == {"cost_value", "sobol"}
    assert set(drawn["morris"]) == {"cost_value", "morris"}


def test_every_figure_is_a_real_png_and_svg(drawn):
    for folder in drawn.values():
        for d in folder.values():
            png, svg = d.file("png"), d.file("svg")
            with Image.open(png) as im:
                im.verify()
            with Image.open(png) as im:
                w, h = im.size
                assert w >= 600 and h >= 400, (d.id, im.size)
                grey = np.asarray(im.convert("L"), dtype=float)
                assert grey.std() > 10, f"{d.id}: a blank image"
            root = ET.parse(svg).getroot()
            assert root.tag.endswith("svg") and float(root.get("width").rstrip("pt")) > 300, d.id
            assert d.caption and d.title


def test_svg_output_is_reproducible(cmp, drawn, tmp_path):
    style = Style()
    for maker in (win_rate, forest):
        with plt.rc_context(style.rc()):
            fig, _ = maker.draw(cmp, style)
            again = save(fig, tmp_path / maker.ID, style)
        assert again[1].read_bytes() == drawn["compare"][maker.ID].file("svg").read_bytes(), (
            f"{maker.ID}.svg differs between two drawings"
        )


# ---- the numbers drawn are the folder's numbers ------------------------------------------------
def test_win_rate_lines_are_the_replication_means_with_t_bands(cmp):
    fig, _ = win_rate.draw(cmp, Style())
    ax = fig.axes[0]
    lines = lines_by_label(ax)
    assert set(lines) == set(COMPARED)
    t = pd.read_parquet(cmp.folder / "yearly.parquet")
    t = t[(t["metric"] == "win_rate") & (t["group"] == "all")]
    for name in COMPARED:
        expect = t[t["scenario"] == name].groupby("year")["value"].mean()
        x, y = lines[name].get_data()
        assert list(x) == list(expect.index)
        np.testing.assert_allclose(y, expect.to_numpy(), rtol=1e-12)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(COMPARED), "one 95 % band per scenario"
    # the band of the first scenario in 2025 is the t-interval over its 3 replications
    v = t[(t["scenario"] == COMPARED[0]) & (t["year"] == 2025)]["value"].to_numpy()
    half = 4.302652729911275 * v.std(ddof=1) / math.sqrt(3)  # t(0.975, 2)
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert np.isclose(ys, v.mean() - half).any() and np.isclose(ys, v.mean() + half).any()


def test_value_by_size_stacks_add_up_to_the_value_won_by_size(cmp):
    fig, _ = value_size.draw(cmp, Style())
    t = pd.read_parquet(cmp.folder / "yearly.parquet")
    panel = next(ax for ax in fig.axes if ax.get_title() == "plan_2019_announced")
    tops = {}
    for bar in panel.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    sizes = t[
        (t["scenario"] == "plan_2019_announced")
        & (t["metric"] == "value_won_usd_m")
        & t["group"].str.startswith("size:")
    ]
    expect = sizes.groupby(["year", "group"])["value"].mean().groupby("year").sum()
    assert sorted(tops) == list(expect.index)
    np.testing.assert_allclose([tops[y] for y in expect.index], expect.to_numpy(), rtol=1e-9)
    share = next(ax for ax in fig.axes if "SME share" in ax.get_title())
    assert set(lines_by_label(share)) == set(COMPARED)


def test_value_by_region_and_risk_bars_are_horizon_means(cmp):
    fig, _ = value_where.draw(cmp, Style())
    regions, risks = fig.axes[:2]
    t = pd.read_parquet(cmp.folder / "yearly.parquet")
    sel = t[(t["metric"] == "value_won_usd_m") & (t["group"] == "region:asean") & (t["scenario"] == COMPARED[1])]
    expect = sel.groupby("run")["value"].sum().mean()
    asean_bars = [
        p.get_width()
        for c in regions.containers
        if isinstance(c, BarContainer) and c.get_label() == COMPARED[1]
        for p in c
    ]
    assert math.isclose(asean_bars[0], expect, rel_tol=1e-9)
    assert [t.get_text() for t in risks.get_yticklabels()] == [f"risk class {k}" for k in range(8)]


def test_forest_plot_has_one_row_per_scenario_and_metric_at_the_paired_differences(cmp):
    fig, _ = forest.draw(cmp, Style())
    d = pd.read_csv(cmp.folder / "differences.csv")
    d = d[d["period"] == "all"]
    panels = [a for a in fig.axes if a.get_title(loc="left")]  # (each has a twin on the right for its numbers)
    from simulation.analysis.compare import COMPARED as METRICS

    assert len(panels) == d["metric"].nunique() == len(METRICS) + 1  # and the extra value per extra KRW
    ax = next(a for a in fig.axes if a.get_title(loc="left").startswith("value won"))
    assert [t.get_text() for t in ax.get_yticklabels()] == COMPARED[1:]
    right = next(a for a in fig.axes if a is not ax and a.bbox.bounds == ax.bbox.bounds)
    for label, name in zip(right.get_yticklabels(), COMPARED[1:], strict=True):
        r = d[(d["scenario"] == name) & (d["metric"] == "value_won_usd_m")].iloc[0]
        assert label.get_text().endswith(f"[{fmt_change(r['ci_low'], 'USD m')}, {fmt_change(r['ci_high'], 'USD m')}]")
    points = [ln for ln in ax.get_lines() if ln.get_marker() not in (None, "None", "")]
    for row, name in enumerate(COMPARED[1:]):
        r = d[(d["scenario"] == name) & (d["metric"] == "value_won_usd_m")].iloc[0]
        x, y = points[row].get_data()
        assert y[0] == row and math.isclose(x[0], r["difference"], rel_tol=1e-12)
        settled = not bool(r["straddles_zero"])
        assert (points[row].get_markerfacecolor() != "white") == settled, "filled marker = CI excludes zero"
    share = next(a for a in fig.axes if a.get_title(loc="left").startswith("win rate"))
    x, _ = [ln for ln in share.get_lines() if ln.get_marker() not in (None, "None", "")][0].get_data()
    r = d[(d["scenario"] == COMPARED[1]) & (d["metric"] == "win_rate")].iloc[0]
    assert math.isclose(x[0], 100 * r["difference"]), "shares are drawn in percentage points"


def test_cost_value_points_and_pareto_front_of_a_sweep(data):
    res = load_results(data["sobol"])
    fig, _ = cost_value.draw(res, Style())
    ax = fig.axes[0]
    rank = pd.read_csv(data["sobol"] / "analysis" / "ranking.csv")
    drawn = []
    for c in ax.containers:  # errorbar containers, labelled
        if c.get_label() in ("dominated", "on the front"):
            drawn += list(zip(*c.lines[0].get_data(), strict=True))
    assert len(drawn) == len(rank), "one point per lever setting"
    assert sorted(drawn) == sorted(zip(rank["public_cost_krw_bn_mean"], rank["value_won_krw_bn_mean"], strict=True))
    front = lines_by_label(ax)["Pareto front"]
    fx, fy = front.get_data()
    on = pareto_front(rank["public_cost_krw_bn_mean"], rank["value_won_krw_bn_mean"])
    expect = rank[on].sort_values("public_cost_krw_bn_mean")
    np.testing.assert_allclose(fx, expect["public_cost_krw_bn_mean"])
    np.testing.assert_allclose(fy, expect["value_won_krw_bn_mean"])
    assert np.all(np.diff(fy) > 0), "along the front, more cost buys more value"


def test_cost_value_of_a_compare_folder_has_one_point_per_scenario_with_error_bars(cmp):
    p = cost_value.points(cmp)
    assert list(p["label"]) == COMPARED
    t = pd.read_parquet(cmp.folder / "yearly.parquet")
    cost = t[(t["metric"] == "public_cost_krw_bn") & (t["group"] == "all")].groupby(["scenario", "run"])["value"].sum()
    assert math.isclose(p.loc[1, "public_cost_krw_bn_mean"], cost.loc["plan_2019_announced"].mean(), rel_tol=1e-12)
    assert (p["public_cost_krw_bn_ci_low"] < p["public_cost_krw_bn_mean"]).all()
    assert bool(p.loc[0, "pareto"]), "no plan is the cheapest, so it is on the front"


def test_sobol_and_morris_bars_are_the_analysis_indices(data):
    res = load_results(data["sobol"])
    fig, _ = Sobol.draw(res, Style())
    sob = pd.read_csv(data["sobol"] / "analysis" / "sobol.csv")
    ax = next(a for a in fig.axes if a.get_title() == "value won (KRW bn)")
    g = sob[sob["outcome"] == "value_won_krw_bn"].sort_values("ST", ascending=False)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    s1 = [p.get_width() for p in bars[0]]
    st = [p.get_width() for p in bars[1]]
    np.testing.assert_allclose(s1, np.nan_to_num(g["S1"].to_numpy()))
    np.testing.assert_allclose(st, np.nan_to_num(g["ST"].to_numpy()))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(g["factor"])
    res = load_results(data["morris"])
    fig, _ = Morris.draw(res, Style())
    mor = pd.read_csv(data["morris"] / "analysis" / "morris.csv")
    ax = next(a for a in fig.axes if a.get_title() == "win rate")
    g = mor[mor["outcome"] == "win_rate"].sort_values("mu_star", ascending=False)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    np.testing.assert_allclose([p.get_width() for p in bars[0]], g["mu_star"].to_numpy())
    np.testing.assert_allclose([p.get_width() for p in bars[1]], g["sigma"].to_numpy())


def test_pis_fund_shows_each_tranche_and_the_loss_order_of_each_scenario(cmp):
    fig, _ = pis.draw(cmp, Style())
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["plan_2019_announced\nloss order: subordinated", "plan_pari_passu\nloss order: pari passu"], (
        "no_plan has no fund and gets no column"
    )
    t = pd.read_parquet(cmp.folder / "yearly.parquet")
    # bottom row, pari passu column: cumulative losses per tranche, as in the folder
    loss_ax = fig.axes[5]
    for label, ln in lines_by_label(loss_ax).items():
        sel = t[
            (t["scenario"] == "plan_pari_passu")
            & (t["metric"] == "pis_cum_loss_krw_bn")
            & (t["group"] == f"tranche:{label}")
        ]
        np.testing.assert_allclose(ln.get_ydata(), sel.groupby("year")["value"].mean().to_numpy())
    assert set(lines_by_label(loss_ax)) == {"government", "public", "private"}


# ---- black-and-white print and fonts ----------------------------------------------------------------
def test_series_differ_in_more_than_colour(cmp):
    """Printed in grey, every series must still be told apart by line style, marker or hatch."""
    style = Style()
    fig, _ = win_rate.draw(cmp, style)
    looks = [(str(ln.get_linestyle()), ln.get_marker()) for ln in lines_by_label(fig.axes[0]).values()]
    assert len(set(looks)) == len(looks) == 3
    fig, _ = value_size.draw(cmp, style)
    hatches = {
        c.get_label(): {p.get_hatch() or "" for p in c} for c in fig.axes[0].containers if isinstance(c, BarContainer)
    }
    assert set(hatches) == {"large", "mid-size", "SME", "startup"}
    assert all(len(h) == 1 for h in hatches.values()), "one hatch per size class"
    assert len({next(iter(h)) for h in hatches.values()}) == 4, f"size classes share a hatch: {hatches}"
    fig, _ = value_where.draw(cmp, style)
    by_scenario = {
        c.get_label(): c.patches[0].get_hatch() or ""
        for c in fig.axes[0].containers
        if isinstance(c, BarContainer) and c.get_label() in COMPARED
    }
    assert len(set(by_scenario.values())) == 3
    fig, _ = pis.draw(cmp, style)
    looks = [(str(ln.get_linestyle()), ln.get_marker()) for ln in lines_by_label(fig.axes[3]).values()]
    assert len(set(looks)) == 3


def test_korean_labels_fall_back_to_english_with_one_warning_when_no_font(monkeypatch, cmp, tmp_path):
    monkeypatch.setattr("simulation.present.figures.style.find_cjk_font", lambda: None)
    with pytest.warns(FontWarning, match="no font with Korean glyphs.*fonts-noto-cjk"):
        style = Style("ko")
    assert style.lang == "en" and style.font is None and style.notes
    with plt.rc_context(style.rc()):
        fig, _ = pis.draw(cmp, style)
        assert "loss order: pari passu" in [ax.get_title() for ax in fig.axes][1]
        files = save(fig, tmp_path / "pis", style)
    assert all(f.stat().st_size > 1000 for f in files)
    fig, _ = win_rate.draw(cmp, style)
    assert fig.axes[0].get_xlabel() == "Year"


def test_korean_labels_with_a_hangul_font(monkeypatch, cmp):
    font = find_cjk_font()
    if font is None:  # no Hangul font on this machine: check the switch itself with a stand-in font name
        monkeypatch.setattr("simulation.present.figures.style.find_cjk_font", lambda: "DejaVu Sans")
    style = Style("ko")
    assert style.lang == "ko" and style.rc()["font.family"][0] == (font or "DejaVu Sans")
    fig, _ = win_rate.draw(cmp, style)
    assert fig.axes[0].get_xlabel() == "연도" and "수주율" in fig.axes[0].get_title()
    assert style.t("pari_passu") == "동순위" and style.t("large") == "대기업"
    with pytest.raises(ValueError):
        Style("fr")


# ---- nothing drawn off the canvas -----------------------------------------------------------------
def _texts_off_canvas(fig, style, tmp_path, monkeypatch) -> list[str]:
    """Every text drawn into the figure's PNG, saved as `draw_figures` saves it, that does not lie
    inside the image."""
    from matplotlib.backends.backend_agg import RendererAgg

    seen: list = []
    draw_text = RendererAgg.draw_text

    def spy(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and str(s).strip():
            seen.append((str(s), mtext.get_window_extent(self), self.width, self.height))
        return draw_text(self, gc, x, y, s, prop, angle, ismath, mtext)

    monkeypatch.setattr(RendererAgg, "draw_text", spy)
    try:
        save(fig, tmp_path / "figure", style)
    finally:
        monkeypatch.undo()
    assert seen, "the figure draws text"
    return [
        f"{s!r} at x {b.x0:.0f}..{b.x1:.0f}, y {b.y0:.0f}..{b.y1:.0f} of {w:.0f} x {h:.0f}"
        for s, b, w, h in seen
        if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > w + 0.5 or b.y1 > h + 0.5
    ]


@pytest.mark.parametrize("folder", ["compare", "run", "smoke", "sobol", "morris"])
def test_every_text_of_every_figure_lies_inside_the_canvas(data, folder, tmp_path, monkeypatch):
    from simulation.present.figures import FIGURES

    res = load_results(data[folder])
    style = Style()
    drew = 0
    for maker in FIGURES:
        with plt.rc_context(style.rc()):
            got = maker.draw(res, style)
        if got is None:
            continue
        off = _texts_off_canvas(got[0], style, tmp_path, monkeypatch)
        drew += 1
        assert not off, f"{maker.ID}: text cut off at the canvas edge: {off[:3]}"
    assert drew > 0


def test_value_won_is_in_usd_m_and_its_whiskers_stop_at_zero(data, cmp):
    for res in (cmp, load_results(data["smoke"])):
        fig, caption = cost_value.draw(res, Style())
        ax = fig.axes[0]
        assert ax.get_ylabel() == "Value won (USD m)" and ax.get_xlabel() == "Public cost (KRW bn)"
        assert "value won (USD m)" in caption and "public cost (KRW bn)" in caption
        p = cost_value.points(res)
        assert (p["value_won_usd_m_ci_low"].dropna() >= 0).all() and (
            p["public_cost_krw_bn_ci_low"].dropna() >= 0
        ).all()
        plt.close(fig)

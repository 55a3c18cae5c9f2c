"""What the dashboard draws: matplotlib figures and the same numbers as an HTML table.

The table carries every yearly number in `data-*` attributes so a browser test (or a planner
copying figures out) reads exactly what the charts plot. Figures use `matplotlib.figure.Figure`
(not pyplot, whose global state is not safe across Solara's session threads); scenario and
baseline differ by line style and marker, not only colour, so they survive black-and-white print.
"""

from __future__ import annotations

import html
import io
import json
import math
import threading
import time
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from simulation.analysis.stats import t_half_width
from simulation.present.app import runs
from simulation.present.app.runs import Difference, Outcome, Reps

# (attribute, title, axis label, display factor)
SERIES = (
    ("win_rate", "Export win rate (Korean wins / Korean bids)", "%", 100.0),
    ("value_usd_m", "Value won", "USD m", 1.0),
    ("cost_krw_bn", "Public cost (commitment basis)", "KRW bn", 1.0),
)


def _band(reps: Reps, series: str) -> tuple[np.ndarray, np.ndarray]:
    """95 % t interval of the yearly mean over replications (empty when there is only one)."""
    arr = getattr(reps, series)
    mean = reps.mean(series)
    n = np.sum(~np.isnan(arr), axis=0)
    if arr.shape[0] < 2:
        return mean, mean
    sd = np.nanstd(arr, axis=0, ddof=1)
    half = np.where(n > 1, t_half_width(sd, np.maximum(n, 2)), np.nan)
    return mean - half, mean + half


def figure(out: Outcome, series: str) -> Figure:
    """One series by year: the scenario as set on the dashboard against the no-plan baseline."""
    title, unit, factor = next((t, u, f) for s, t, u, f in SERIES if s == series)
    fig = Figure(figsize=(6.0, 3.0), dpi=100)  # fixed margins: a layout engine doubles the drawing time
    fig.subplots_adjust(left=0.12, right=0.98, top=0.9, bottom=0.11)
    ax = fig.subplots()
    years = np.array(out.years)
    for reps, style, marker, colour, label in (
        (out.baseline, "--", "s", "0.45", f"baseline: {out.baseline.scenario}"),
        (out.scenario, "-", "o", "#1f4e9c", out.scenario.scenario + (" (levers moved)" if out.overrides else "")),
    ):
        lo, hi = _band(reps, series)
        ax.fill_between(years, lo * factor, hi * factor, color=colour, alpha=0.15, linewidth=0)
        ax.plot(years, reps.mean(series) * factor, linestyle=style, marker=marker, color=colour, label=label)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit)
    ax.set_xticks(years[::2])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    if series != "value_usd_m":
        ax.set_ylim(bottom=0)
    return fig


def _num(x: float) -> str:
    return "null" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(round(float(x), 9))


def yearly_data(out: Outcome) -> dict:
    """The charts' numbers: yearly means over replications for the scenario and the baseline."""
    data: dict = {"years": list(out.years)}
    for series, *_ in SERIES:
        for role, reps in (("scenario", out.scenario), ("baseline", out.baseline)):
            data[f"{series}:{role}"] = [None if math.isnan(v) else float(v) for v in reps.mean(series)]
    return data


def table_html(out: Outcome) -> str:
    """The yearly numbers as an HTML table; each cell also holds its full-precision value."""
    data = yearly_data(out)
    head = "".join(f"<th>{html.escape(t)} ({u}): scenario</th><th>baseline</th>" for _, t, u, _ in SERIES)
    rows = []
    for i, year in enumerate(data["years"]):
        cells = [f"<td>{year}</td>"]
        for series, _, _, factor in SERIES:
            for role in ("scenario", "baseline"):
                v = data[f"{series}:{role}"][i]
                text = "n/a" if v is None else (f"{v * factor:.1f}" if series == "win_rate" else f"{v * factor:,.0f}")
                cells.append(f'<td data-series="{series}" data-role="{role}" data-value="{_num(v)}">{text}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    payload = html.escape(json.dumps(data), quote=True)
    settings = html.escape(json.dumps(out.settings, default=list, sort_keys=True), quote=True)
    return (
        f'<table id="scsim-yearly" class="scsim-table" data-yearly="{payload}" data-settings="{settings}" '
        f'data-scenario="{html.escape(out.scenario.scenario, quote=True)}" '
        f'data-baseline="{html.escape(out.baseline.scenario, quote=True)}" data-reps="{len(out.scenario.seeds)}">'
        f"<thead><tr><th>year</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _ci(d: Difference, factor: float, fmt: str) -> str:
    if math.isnan(d.low):
        return f"{d.mean * factor:{fmt}}"
    return f"{d.mean * factor:+{fmt}} (95 % CI {d.low * factor:{fmt}} to {d.high * factor:{fmt}})"


def headline(out: Outcome) -> list[tuple[str, str, str, str]]:
    """(label, scenario, baseline, difference) over the whole horizon, for the summary table."""
    hp, hb = out.scenario.horizon(), out.baseline.horizon()
    diffs = {d.metric: d for d in out.differences}
    rows = [
        (
            "win rate 2019-2030",
            f"{np.nanmean(hp['win_rate']) * 100:.1f} %",
            f"{np.nanmean(hb['win_rate']) * 100:.1f} %",
            _ci(diffs["win_rate"], 100, ".1f") + " %p",
        ),
        (
            "value won, USD m",
            f"{hp['value_usd_m'].mean():,.0f}",
            f"{hb['value_usd_m'].mean():,.0f}",
            _ci(diffs["value_usd_m"], 1, ",.0f"),
        ),
        (
            "public cost, KRW bn",
            f"{hp['cost_krw_bn'].mean():,.0f}",
            f"{hb['cost_krw_bn'].mean():,.0f}",
            _ci(diffs["cost_krw_bn"], 1, ",.0f"),
        ),
    ]
    ratio = out.extra_value_per_extra_krw()
    rows.append(
        (
            "extra value won per extra public KRW (value in KRW)",
            "",
            "",
            "n/a (no extra cost)" if math.isnan(ratio) else f"{ratio:,.1f}",
        )
    )
    return rows


def headline_html(out: Outcome) -> str:
    body = "".join(
        f"<tr><th>{html.escape(a)}</th><td>{b}</td><td>{c}</td><td>{html.escape(d)}</td></tr>"
        for a, b, c, d in headline(out)
    )
    return (
        f'<table id="scsim-headline" class="scsim-table"><thead><tr><th></th>'
        f"<th>{html.escape(out.scenario.scenario)}</th><th>{html.escape(out.baseline.scenario)}</th>"
        f"<th>difference (paired by seed)</th></tr></thead><tbody>{body}</tbody></table>"
    )


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})  # light compression: drawn on every lever change
    return buf.getvalue()


@dataclass(frozen=True)
class View:
    """Everything the page shows for one lever setting, drawn off the UI thread."""

    outcome: Outcome
    charts: tuple[tuple[str, bytes], ...]  # (series, PNG)
    headline: str
    table: str
    seconds: float  # model runs and drawing


class Superseded(Exception):
    """A newer lever setting arrived while this one was computing."""


def build(
    scenario_path: str, baseline_path: str, settings: dict, reps: int, seed: int, cancel: threading.Event | None = None
) -> View:
    """Run the model for these settings and draw the charts; stops between steps once superseded."""
    t0 = time.perf_counter()
    out = runs.evaluate(scenario_path, baseline_path, settings, reps, seed)
    images = []
    for series, *_ in SERIES:
        if cancel is not None and cancel.is_set():
            raise Superseded()
        images.append((series, png(figure(out, series))))
    return View(out, tuple(images), headline_html(out), table_html(out), time.perf_counter() - t0)

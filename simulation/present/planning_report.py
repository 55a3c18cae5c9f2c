"""The planner's report sections: "Options for the budget" and "When the plan fails".

`scsim report` on an optimize or robustness folder (and both commands at their end) writes one
self-contained page: the Pareto front of public cost against value won coloured by SME share with
the plan's own mix on the same axes, a table of the named options with their lever values, value,
cost and robustness, the optimiser's gain at the plan's money with its interval; and, once
`scsim discover` has run on the folder, the PRIM box in words with a figure of its peeling
trajectory and the box over its two main inputs.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.io import atomic_write
from simulation.scenario.errors import InputError

PLANNING = "planning"
DISCOVERY = "discovery"


def is_planning_folder(folder: Path) -> bool:
    return (folder / PLANNING / "summary.json").is_file() and (folder / "experiment.json").is_file()


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("cannot read this results file", str(path)) from None


def _fmt(x: Any, unit: str = "") -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(x):
        return "n/a"
    if unit == "fraction":
        return f"{x * 100:.1f} %"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _ci(r: pd.Series, col: str, unit: str = "") -> str:
    lo, hi = r.get(f"{col}_low"), r.get(f"{col}_high")
    if lo is None or not np.isfinite(float(lo)):
        return _fmt(r[col], unit)
    return f"{_fmt(r[col], unit)} [{_fmt(lo, unit)}, {_fmt(hi, unit)}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    from simulation.present.report import esc

    out = [
        '<table class="planning"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead><tbody>"
    ]
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="{"n" if i else ""}">{esc(c)}</td>' for i, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _img(files: list[Path]) -> str:
    svg = next(p for p in files if p.suffix == ".svg").read_bytes()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


# ---- figures ---------------------------------------------------------------------------------
def front_figure(trials: pd.DataFrame, final: pd.DataFrame, options: pd.DataFrame, stem: Path, style) -> list[Path]:
    """Public cost against value won: every candidate searched (grey), the re-evaluated Pareto set
    coloured by SME share with 95 % intervals, the plan's own mix (a black star), the options named."""
    import matplotlib.pyplot as plt

    from simulation.present.figures.style import new_figure, save

    with plt.rc_context(style.rc()):
        fig = new_figure(7.5, 4.8)
        ax = fig.subplots()
        searched = trials[trials["candidate"] > 0]
        ax.scatter(
            searched["public_cost"], searched["value_won"], s=12, color="#bbbbbb", label="candidates searched", zorder=1
        )
        front = final[final["candidate"] > 0]
        ax.errorbar(
            front["public_cost"],
            front["value_won"],
            yerr=[front["value_won"] - front["value_won_low"], front["value_won_high"] - front["value_won"]],
            fmt="none",
            ecolor="#777777",
            elinewidth=0.8,
            zorder=2,
        )
        sc = ax.scatter(
            front["public_cost"],
            front["value_won"],
            c=front["sme_share"] * 100,
            cmap="viridis",
            s=42,
            edgecolor="black",
            linewidth=0.5,
            zorder=3,
            label="Pareto set (re-evaluated)",
        )
        fig.colorbar(sc, ax=ax, label="SME share of value won, %")
        plan = final[final["candidate"] == 0].iloc[0]
        ax.errorbar(
            [plan["public_cost"]],
            [plan["value_won"]],
            yerr=[[plan["value_won"] - plan["value_won_low"]], [plan["value_won_high"] - plan["value_won"]]],
            fmt="*",
            color="black",
            markersize=14,
            zorder=4,
            label="the plan's own mix",
        )
        ax.axvline(plan["public_cost"], color="black", linestyle=":", linewidth=0.8)
        for k, (_, r) in enumerate(options.iterrows()):
            ax.annotate(
                f"{k + 1}",
                (r["public_cost"], r["value_won"]),
                textcoords="offset points",
                xytext=(6, 6),
                fontsize=9,
                fontweight="bold",
            )
        ax.set_xlabel("public cost over the horizon, KRW bn (mean over the ensemble)")
        ax.set_ylabel("value won, USD m")
        ax.legend(loc="lower right", fontsize=8)
        return save(fig, stem, style)


def discovery_figure(folder: Path, box: dict, stem: Path, style) -> list[Path]:
    """Left: the peeling trajectory (coverage against density, the chosen box marked). Right: the worlds
    over the box's two main inputs, failing ones filled, the box drawn."""
    import matplotlib.pyplot as plt

    from simulation.present.figures.style import new_figure, save

    traj = pd.read_csv(folder / DISCOVERY / "trajectory.csv")
    limits = pd.read_csv(folder / DISCOVERY / "limits.csv")
    with plt.rc_context(style.rc()):
        fig = new_figure(9.0, 4.0)
        ax1, ax2 = fig.subplots(1, 2)
        ax1.plot(traj["coverage"], traj["density"], marker="o", markersize=3, color="#0072B2")
        chosen = traj[traj["id"] == box["box"]]
        ax1.plot(
            chosen["coverage"],
            chosen["density"],
            marker="s",
            markersize=9,
            color="#D55E00",
            linestyle="none",
            label=f"box {box['box']}",
        )
        ax1.set_xlabel("coverage (share of failures inside)")
        ax1.set_ylabel("density (share failing inside)")
        ax1.set_title("PRIM peeling trajectory", loc="left", fontsize=9)
        ax1.legend(fontsize=8)
        restricted = limits[limits["restricted"]]
        shown = list(restricted["input"])[:2] or list(limits["input"])[:2]
        worlds = _worlds(folder, box)
        if worlds is not None and len(shown) >= 1:
            xcol = shown[0]
            ycol = shown[1] if len(shown) > 1 else None
            X, fail = worlds
            yv = X[ycol] if ycol else np.zeros(len(X))
            ax2.scatter(
                X[xcol][~fail], yv[~fail], s=14, facecolor="white", edgecolor="#555555", label="meets the threshold"
            )
            ax2.scatter(X[xcol][fail], yv[fail], s=14, color="#D55E00", label="fails")
            lx = limits.set_index("input").loc[xcol]
            ly = limits.set_index("input").loc[ycol] if ycol else pd.Series({"low": -0.5, "high": 0.5})
            ax2.add_patch(
                plt.Rectangle(
                    (lx["low"], ly["low"]),
                    lx["high"] - lx["low"],
                    ly["high"] - ly["low"],
                    fill=False,
                    edgecolor="black",
                    linewidth=1.4,
                )
            )
            ax2.set_xlabel(xcol[-45:])
            ax2.set_ylabel(ycol[-45:] if ycol else "")
            ax2.legend(fontsize=8, loc="best")
        ax2.set_title("worlds and the box", loc="left", fontsize=9)
        return save(fig, stem, style)


def _worlds(folder: Path, box: dict) -> tuple[pd.DataFrame, np.ndarray] | None:
    from simulation.planning.discover import DiscoverSpec, worlds

    try:
        spec = DiscoverSpec.model_validate(box["spec"])
        X, v, _, _ = worlds(folder, spec)
    except Exception:  # noqa: BLE001 - the figure's right panel is optional
        return None
    ok = np.isfinite(v)
    fail = v[ok] < spec.below if spec.below is not None else v[ok] > spec.above
    return X[ok].reset_index(drop=True), np.asarray(fail)


# ---- sections --------------------------------------------------------------------------------
def options_section(folder: Path, fig_dir: Path, style) -> tuple[list[str], list[Path]]:
    from simulation.planning.optimize import gain_text
    from simulation.present.report import esc

    plan_dir = folder / PLANNING
    summary = _json(plan_dir / "summary.json")
    trials = pd.read_csv(plan_dir / "trials.csv")
    final = pd.read_csv(plan_dir / "final.csv")
    options = pd.read_csv(plan_dir / "options.csv")
    rob = pd.read_csv(plan_dir / "robustness.csv").set_index("policy")
    levers = summary["levers"]
    files = front_figure(trials, final, options, fig_dir / "options_for_the_budget", style)

    def lever_cells(r: pd.Series) -> str:
        if r["candidate"] == 0:
            return "the plan's own settings"
        parts = []
        for lv in levers:
            v = r[lv["label"]]
            parts.append(
                f"{lv['label']} {'on' if v else 'off'}"
                if lv["kind"] == "switch"
                else f"{lv['label']} {int(v)}"
                if lv["kind"] == "int"
                else f"{lv['label']} {v:.3g}"
            )
        return "; ".join(parts)

    target = ""
    rows = []
    plan = final[final["candidate"] == 0].iloc[0].copy()
    plan["option"] = "the plan's own mix"
    for k, (_, r) in enumerate(list(options.iterrows()) + [(None, plan)]):
        rb = rob.loc[r["name"]] if r["name"] in rob.index else None
        sat = ""
        if rb is not None and "satisficing" in rb and np.isfinite(float(rb["satisficing"])):
            sat = f"{rb['satisficing'] * 100:.0f} % [{rb['satisficing_low'] * 100:.0f}, {rb['satisficing_high'] * 100:.0f}]"
            target = f"{rb['target_outcome'].replace('_', ' ')} {rb['target_rule']} {rb['target']:g}"
        rows.append(
            [
                f"{k + 1}. {r['option']}" if k < len(options) else r["option"],
                lever_cells(r),
                _ci(r, "value_won"),
                _ci(r, "public_cost"),
                _ci(r, "sme_share", "fraction"),
                _ci(rb, "p10") if rb is not None else "n/a",
                _ci(rb, "max_regret") if rb is not None else "n/a",
                sat or "n/a",
            ]
        )
    head = [
        "option",
        "levers",
        "value won, USD m",
        "public cost, KRW bn",
        "SME share",
        "value won, 10th percentile",
        "max regret, USD m",
        f"share of worlds with {target or 'the target'}",
    ]
    gain = summary.get("gain_at_plan_cost") or {}
    objectives = "; ".join(
        f"{o['direction']}imise {o['outcome'].replace('_', ' ')} ({o['statistic']} over the ensemble)"
        for o in summary["objectives"]
    )
    cons = (
        "; ".join(
            f"{c['outcome'].replace('_', ' ')} ({c['statistic']}) at most {c['max']:g} KRW bn"
            for c in summary["constraints"]
        )
        or "none"
    )
    body = [
        "<h2>Options for the budget</h2>",
        f"<p>The search: {esc(objectives)}; constraints: {esc(cons)}. Every candidate ran in each of the "
        f"{esc(summary.get('members'))} worlds of the uncertainty ensemble with the same seeds (common random numbers); "
        "the Pareto set and the plan's own mix were re-evaluated with fresh seeds. Intervals are 95 %, from "
        "resampling the ensemble's worlds.</p>",
        f'<p class="gain"><b>{esc(gain_text(gain))}.</b></p>',
        f'<figure id="fig-options"><img src="{_img(files)}" alt="public cost against value won"><figcaption>'
        "<b>Options for the budget.</b> Public cost against value won over the horizon: candidates searched (grey), "
        "the re-evaluated Pareto set coloured by SME share with 95 % intervals, the plan's own mix (star; dotted "
        "line: its cost); numbers name the options of the table. "
        f'<span class="files">({esc(fig_dir.name)}/options_for_the_budget.png, .svg)</span></figcaption></figure>',
        _table(head, rows),
        "<p>Max regret: the largest shortfall in value won, over the worlds, from the best of these policies in the "
        "same world. The 10th percentile: the value won in a bad but plausible world.</p>",
    ]
    return body, files


def failure_section(folder: Path, fig_dir: Path, style) -> tuple[list[str], list[Path]]:
    from simulation.present.report import esc

    path = folder / DISCOVERY / "box.json"
    if not path.is_file():
        return [], []
    box = _json(path)
    files = discovery_figure(folder, box, fig_dir / "when_the_plan_fails", style)
    rows = [[r["input"], _fmt(r["low"]), _fmt(r["high"])] for r in box["restricted"]]
    body = [
        "<h2>When the plan fails</h2>",
        f"<p><b>{esc(box['words'])}.</b></p>",
        f"<p>PRIM scenario discovery (EMA Workbench) over {box['worlds']} {esc(box['source'])}: box {box['box']} of "
        f"the peeling trajectory, coverage {box['coverage']:.2f}, density {box['density']:.2f}, mass "
        f"{box['mass']:.2f}, chosen as the box covering the most failures at a density of at least "
        f"{box['spec']['threshold']:g}.</p>",
        _table(["uncertain input", "from", "to"], rows) if rows else "",
        f'<figure id="fig-plan-fails"><img src="{_img(files)}" alt="PRIM box"><figcaption><b>When the plan fails.'
        "</b> Left: each box of the peeling trajectory (coverage against density), the chosen one marked. Right: "
        "the worlds over the box's first two inputs, failing worlds filled, the box drawn. "
        f'<span class="files">({esc(fig_dir.name)}/when_the_plan_fails.png, .svg)</span></figcaption></figure>',
    ]
    return body, files


def robustness_section(folder: Path) -> list[str]:
    from simulation.present.report import esc

    rob = pd.read_csv(folder / PLANNING / "robustness.csv")
    body = ["<h2>How the policies hold up</h2>"]
    for outcome, g in rob.groupby("outcome", sort=False):
        unit = "fraction" if "share" in outcome else ""
        t0 = g.iloc[0]
        rule = (
            f" (target: {outcome.replace('_', ' ')} {t0['target_rule']} {t0['target']:g})"
            if isinstance(t0.get("target_rule"), str) and t0["target_rule"]
            else ""
        )
        body.append(f"<h3>{esc(outcome.replace('_', ' '))}{esc(rule)}</h3>")
        rows = [
            [
                r["policy"],
                _ci(r, "mean", unit),
                _ci(r, "p10", unit),
                _ci(r, "max_regret", unit),
                (
                    f"{r['satisficing'] * 100:.0f} % [{r['satisficing_low'] * 100:.0f}, {r['satisficing_high'] * 100:.0f}]"
                    if np.isfinite(r["satisficing"])
                    else "n/a"
                ),
            ]
            for _, r in g.iterrows()
        ]
        body.append(_table(["policy", "mean", "10th percentile", "max regret", "satisficing share"], rows))
    body.append(
        "<p>Over the ensemble's worlds (each policy's replications pooled, common random numbers); 95 % "
        "intervals from resampling the worlds.</p>"
    )
    return body


def write_planning_report(folder: Path, out: Path | None, force: bool = False) -> Path:
    """The page of an optimize or robustness folder (with "When the plan fails" once discovered)."""
    from simulation.present.figures.style import Style
    from simulation.present.report import check_out, default_path, esc, figures_dir_for, html_page

    out = Path(out) if out is not None else default_path(folder)
    check_out(out, force)
    summary = _json(folder / PLANNING / "summary.json")
    fig_dir = figures_dir_for(folder, out)
    fig_dir.mkdir(parents=True, exist_ok=True)
    style = Style()
    kind = summary.get("kind")
    name = summary.get("experiment", folder.name)
    title = f"{'Options for the budget' if kind == 'optimize' else 'Robustness'}: {name}"
    body = [f"<h1>{esc(title)}</h1>", f'<p class="sub">scsim, results folder <code>{esc(folder.name)}</code></p>']
    if kind == "optimize":
        part, _ = options_section(folder, fig_dir, style)
    else:
        part = robustness_section(folder)
    body += part
    fail, _ = failure_section(folder, fig_dir, style)
    body += fail
    man = _json(folder / "experiment.json")
    body += [
        "<h2>Reproducing these results</h2>",
        f"<p><code>{esc(summary.get('command') or man.get('command', ''))}</code>; git commit "
        f"<code>{esc(man.get('git_commit', 'unknown'))}</code>; seed {esc(man.get('seed'))}; "
        f"versions {esc(', '.join(f'{k} {v}' for k, v in (man.get('versions') or {}).items()))}.</p>",
    ]
    atomic_write(out, html_page(title, body))
    return out

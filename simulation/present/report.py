"""`scsim report`: one self-contained HTML briefing of a results folder.

The page holds everything inline: figures as SVG data: URIs, the CSS in a <style> element, no
script and no link to anything outside the file, so it opens offline and can be forwarded as is.
It shows the headline table, the figures, the yearly table, the levers of each scenario with their
values and provenance, the method in a paragraph, and the seeds, versions, git commit and command
that produced the results. The figures are also written as PNG and SVG next to the report.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import shlex
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.io import clean_temporaries, publish_new
from simulation.scenario.errors import InputError

REPORT_NAME = "report.html"
FIGURES_DIR = "figures"
MAX_SEEDS_SHOWN = 40
TOP_SETTINGS = 10


@dataclass
class Report:
    """What `write_report` wrote."""

    path: Path
    figures_dir: Path
    figures: list[Any] = field(default_factory=list)  # simulation.present.figures.Drawn
    notes: list[str] = field(default_factory=list)


def default_path(folder: Path | str) -> Path:
    return Path(folder) / REPORT_NAME


def figures_dir_for(folder: Path, out: Path) -> Path:
    """RESULTS_DIR/figures for the default report; NAME-figures/ beside a report written elsewhere."""
    if out.absolute() == default_path(folder).absolute():
        return Path(folder) / FIGURES_DIR
    return out.with_name(f"{out.stem}-figures")


def check_out(out: Path, force: bool) -> None:
    """Refuse, before any work, a report path that exists (without force) or cannot be written."""
    if out.is_dir():
        raise InputError("is a folder; give the report's file name (e.g. report.html)", str(out))
    if out.exists() and not force:
        raise InputError("report already exists; use --force to replace it, or choose another --out", str(out))
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write the report: {parent} is not a writable folder", str(out))


def write_report(folder: Path | str, out: Path | str | None = None, *, force: bool = False, lang: str = "en") -> Report:
    """Read the results folder, draw its figures and write the HTML report (whole or not at all)."""
    from simulation.present.figures import Style, draw_figures, load_results

    folder = Path(folder)
    from simulation.present.levers_report import is_levers_folder, write_levers_report

    if is_levers_folder(folder):  # `scsim levers` results: the lever cards' section
        out = Path(out) if out is not None else default_path(folder)
        page, fig_dir, files = write_levers_report(folder, out, force)
        return Report(page, fig_dir, [files], [])
    from simulation.present.validation_report import is_validation_folder, write_validation_report

    if is_validation_folder(folder):  # `scsim validate-model` results: the checks against the evidence
        out = Path(out) if out is not None else default_path(folder)
        page, fig_dir, files = write_validation_report(folder, out, force)
        return Report(page, fig_dir, [files], [])
    from simulation.present.planning_report import is_planning_folder, write_planning_report

    if is_planning_folder(folder):  # `scsim optimize` / `scsim robustness` results: the planner's sections
        page = write_planning_report(folder, Path(out) if out is not None else None, force)
        fig_dir = figures_dir_for(folder, page)
        return Report(page, fig_dir, sorted(fig_dir.glob("*.svg")), [])
    res = load_results(folder)  # InputError for a missing, empty or unknown folder
    out = Path(out) if out is not None else default_path(folder)
    check_out(out, force)
    fig_dir = figures_dir_for(folder, out)
    style = Style(lang)
    clean_temporaries(out.absolute().parent, prefix=out.name)  # of a report step that was killed
    clean_temporaries(fig_dir)
    try:
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
        drawn = draw_figures(res, fig_dir, style)
        page = render(res, drawn, notes=[*res.notes, *style.notes])
        publish(out, page.encode("utf-8"), force)
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror or exc}", str(out)) from None
    return Report(out, fig_dir, drawn, [*res.notes, *style.notes])


def is_kind_folder(folder: Path, kind: str, table: str) -> bool:
    """Whether `folder` holds results of command `kind` (its manifest says so) with `table`.parquet."""
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and m.get("kind") == kind and (folder / f"{table}.parquet").is_file()


def read_section(folder: Path, table: str) -> tuple[dict, pd.DataFrame]:
    """The manifest and one table of a results folder that has its own report page (levers,
    validate-model); an unreadable table is one message naming it."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    path = folder / f"{table}.parquet"
    try:
        return manifest, pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable {table} table: {exc}", str(path)) from None


def section_figure(folder: Path, out: Path, force: bool, name: str, draw) -> tuple[Path, list[Path], str]:
    """Check the page's path, then draw one figure (`draw(stem, style)` -> files) into the report's
    figures folder: (figures folder, files, the SVG as a data URI to embed)."""
    from simulation.present.figures.style import Style

    check_out(out, force)
    fig_dir = figures_dir_for(folder, out)
    fig_dir.mkdir(parents=True, exist_ok=True)
    files = draw(fig_dir / name, Style())
    svg = next(p for p in files if p.suffix == ".svg").read_bytes()
    return fig_dir, files, "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def publish(out: Path, data: bytes, force: bool) -> None:
    """Put a report in place whole (simulation/io.py): replace it (force), or refuse if it exists."""
    try:
        publish_new(out, data, replace=force)
    except FileExistsError:
        raise InputError(
            "report already exists; use --force to replace it, or choose another --out", str(out)
        ) from None


# ---- formatting ------------------------------------------------------------------------------
def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _pct(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{float(v) * 100:.1f} %"


def value_text(value: Any) -> str:
    """A scenario value as compact text: schedules as `2019-07: 0.003; 2019-10: 0.01`."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(f"({value_text(v)})" if isinstance(v, dict) else value_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def html_table(
    header: Sequence[str] | None, rows: Iterable[Sequence[str]], cls: str = "", raw: bool = False, num_from: int = 1
) -> str:
    """An HTML table; cells are escaped unless raw; columns from num_from on are right-aligned."""
    out = [f'<table class="{cls}">']
    if header:
        out.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for r in rows:
        cells = [(c if raw else esc(c)) for c in r]
        out.append(
            "<tr>"
            + "".join(f'<td class="{"n" if i >= num_from else ""}">{c}</td>' for i, c in enumerate(cells))
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


# ---- sections --------------------------------------------------------------------------------
def _horizon_rows(summary: pd.DataFrame, names: list[str]) -> list[list[str]]:
    """Per scenario, over all years: win rate (total wins / total bids), wins, bids, value won (sums of yearly means)."""
    rows = []
    for n in names:
        s = summary[summary["scenario"] == n]
        bids, wins = float(s["bids"].sum()), float(s["wins"].sum())
        rows.append(
            [n, _pct(wins / bids if bids else math.nan), _num(wins), _num(bids), _num(s["value_won_usd_m"].sum())]
        )
    return rows


def headline(res) -> str:
    parts = []
    if res.summary is not None:
        years = sorted(res.summary["year"].unique())
        span = f"{years[0]}–{years[-1]}" if years else ""
        parts.append(f"<h3>Over the horizon, {esc(span)} (mean of {esc(res.runs_text)})</h3>")
        parts.append(
            html_table(
                ["scenario", "win rate", "wins", "bids", "value won (USD m)"],
                _horizon_rows(res.summary, res.scenarios),
                cls="headline",
            )
        )
    if res.differences is not None:
        from simulation.analysis.compare import (
            COMPARED,
            EXTRA,
            IDENTICAL,
            IDENTICAL_NOTE,
            fmt_change,
            fmt_level,
            straddle_note,
        )

        d = res.differences[res.differences["period"] == "all"]
        for name in [s for s in res.scenarios if s in set(d["scenario"])]:
            g = d[d["scenario"] == name]
            rows = []
            for metric in [*COMPARED, EXTRA[0]]:
                r = g[g["metric"] == metric]
                if r.empty:
                    continue
                r = r.iloc[0]
                label, unit = COMPARED[metric][:2] if metric in COMPARED else EXTRA[1]
                shown = label + ("" if unit == "%" else f" ({unit})")
                flag = "" if not r["straddles_zero"] else ' <span class="flag" title="CI straddles zero">*</span>'
                same = bool(r.get("identical", False))
                rows.append(
                    [
                        esc(shown),
                        "" if pd.isna(r["baseline_mean"]) else esc(fmt_level(r["baseline_mean"], unit)),
                        "" if pd.isna(r["scenario_mean"]) else esc(fmt_level(r["scenario_mean"], unit)),
                        f"<b>{esc(fmt_change(r['difference'], unit))}</b>",
                        esc(
                            IDENTICAL
                            if same
                            else f"[{fmt_change(r['ci_low'], unit)}, {fmt_change(r['ci_high'], unit)}]"
                        )
                        + flag,
                    ]
                )
            base = str(g["baseline"].iloc[0])
            how = (
                f"paired over {esc(res.runs_text)}; the 95 % CI includes the ensemble's uncertainty (lever-effect "
                "sizes and the calibration)"
                if res.parameter_sets
                else f"paired over {esc(res.runs_text)}, 95 % CI"
            )
            parts.append(f"<h3>{esc(name)} against {esc(base)} ({how})</h3>")
            parts.append(
                html_table(["metric", esc(base), esc(name), "difference", "95 % CI"], rows, cls="headline", raw=True)
            )
        parts.append(
            '<p class="note">Value won in USD m, public cost in KRW bn; value per public KRW and extra value '
            "per extra KRW take value won in KRW (at the scenario's <code>finance.krw_per_usd</code>).</p>"
        )
        if "identical" in d and d["identical"].astype(bool).any():
            parts.append(f'<p class="note">{esc(IDENTICAL_NOTE[0].upper() + IDENTICAL_NOTE[1:])}.</p>')
        note = straddle_note(res.differences)
        if note:
            parts.append('<p class="note"><span class="flag">*</span> ' + esc(note.lstrip("* ")) + "</p>")
        else:
            parts.append(
                '<p class="note">Every whole-horizon difference\'s interval excludes zero'
                + (
                    " (or the difference is identical in every run)"
                    if "identical" in d and d["identical"].astype(bool).any()
                    else ""
                )
                + ".</p>"
            )
    if res.kind == "sweep":
        parts.append(_sweep_headline(res))
    return "\n".join(parts)


def _plain(v: Any) -> Any:
    """numpy scalars as Python numbers, JSON text (lists, mappings in the design table) as values."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    if isinstance(v, float):
        return float(f"{v:.4g}")
    return v


def _ci_text(m: Any, lo: Any, hi: Any) -> str:
    if lo is None or (isinstance(lo, float) and not math.isfinite(lo)):
        return _num(m)
    return f"{_num(m)} [{_num(lo)}, {_num(hi)}]"


def _sweep_headline(res) -> str:
    r = res.analysis.get("ranking")
    m = res.manifest
    design = m.get("design") or {}
    head = (
        f"<p>Experiment <b>{esc(m.get('experiment', ''))}</b>: {esc(design.get('type', '?'))} design, "
        f"{esc(design.get('points', '?'))} points × {esc(m.get('replications', '?'))} replications "
        f"({esc(m.get('runs', '?'))} runs).</p>"
    )
    if r is None or r.empty:
        return head + "<p>No ranking in the analysis.</p>"
    from simulation.analysis.analyze import MIN_RANK_REPS, unreliable, value_shown

    labels = [f.get("label") for f in design.get("factors") or [] if f.get("label") in r.columns]
    value, vunit = value_shown(r)
    rows = []
    for _, x in r.head(TOP_SETTINGS).iterrows():
        setting = str(x["setting"])
        if "=" not in setting and labels:  # sampled designs name points; show the factor values too
            setting += ": " + ", ".join(f"{lab}={value_text(_plain(x[lab]))}" for lab in labels)
        rows.append(
            [
                str(x.get("rank", "")),
                setting + (" ◆" if x["pareto"] else ""),
                _ci_text(
                    x["value_per_public_krw_mean"], x["value_per_public_krw_ci_low"], x["value_per_public_krw_ci_high"]
                ),
                _num(x[f"{value}_mean"]),
                _num(x["public_cost_krw_bn_mean"]),
                "n/a" if pd.isna(x["p_best"]) else f"{x['p_best']:.2f}",
            ]
        )
    reps = int(m.get("replications") or 0)
    out = [
        head,
        f"<h3>Lever settings ranked by value won per public KRW (top {len(rows)} of {len(r)})</h3>",
        html_table(
            [
                "#",
                "setting",
                "value per public KRW [95 % CI]",
                f"value won ({vunit})",
                "public cost (KRW bn)",
                "p_best",
            ],
            rows,
            cls="headline",
            num_from=2,
        ),
        '<p class="note">◆ on the cost–value Pareto front. p_best: share of paired bootstrap resamples of the '
        "replications in which the setting ranks first. Value per public KRW: the setting's total value won "
        "(in KRW) over its total public cost, its interval on the log scale. Value won in "
        f"{vunit}, public cost in KRW bn.</p>",
    ]
    if 0 < reps < MIN_RANK_REPS:
        out.append(f'<p class="note"><b>{esc(unreliable(reps)[len("ranking: ") :].capitalize())}.</b></p>')
    front = res.analysis.get("pareto")
    if front is not None and len(front):
        rows = [
            [str(x.setting), _num(x.public_cost_krw_bn_mean), _num(getattr(x, f"{value}_mean"))]
            for x in front.itertuples()
        ]
        out += [
            f"<h3>Cost–value Pareto front ({len(rows)} settings, cheapest first)</h3>",
            html_table(["setting", "public cost (KRW bn)", f"value won ({vunit})"], rows),
        ]
    return "\n".join(out)


def yearly_section(res) -> str:
    if res.summary is None:
        return ""
    s = res.summary
    names = res.scenarios
    head = ["year"] + [f"{n}: {what}" for n in names for what in ("win rate", "value won (USD m)")]
    rows = []
    for year in sorted(s["year"].unique()):
        row = [str(year)]
        for n in names:
            r = s[(s["scenario"] == n) & (s["year"] == year)]
            row += [_pct(r["win_rate"].iloc[0]), _num(r["value_won_usd_m"].iloc[0])] if len(r) else ["", ""]
        rows.append(row)
    return html_table(head, rows, cls="yearly")


def _walk(tree: Any, path: str) -> Any:
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _meta(path: str) -> dict:
    from simulation.scenario.loader import field_meta

    try:
        return field_meta(tuple(path.split(".")))
    except (KeyError, AttributeError):
        return {"unit": "", "measure": None, "description": ""}


def _prov_cell(value: Any, prov: dict | None) -> str:
    out = f'<span class="v">{esc(value_text(value))}</span>'
    if prov:
        where = prov.get("file") or ""
        if prov.get("line"):
            where += f":{prov['line']}"
        kind = prov.get("kind") or "unstated"
        src = prov.get("source") or ""
        out += (
            f'<br><span class="p p-{esc(kind)}">{esc(kind)}</span>'
            + (f' <span class="src">{esc(src)}</span>' if src else "")
            + (f' <span class="where">{esc(where)}</span>' if where else "")
        )
    return out


def levers_section(res) -> str:
    if res.kind == "sweep":
        return _sweep_levers(res)
    scen = res.manifest["scenarios"]
    parts = []
    info = []
    for s in scen:
        files = s.get("files") or s.get("extends_chain") or [s.get("file", "")]
        desc = (s.get("resolved") or {}).get("description") or ""
        info.append(
            [
                esc(s["name"]),
                esc(desc),
                esc(" ← ".join(map(str, files))),
                f"<code>{esc(str(s.get('hash', ''))[:12])}</code>",
            ]
        )
    parts.append(html_table(["scenario", "description", "files (extends)", "hash"], info, raw=True, num_from=99))
    paths = list(dict.fromkeys(p for s in scen for p in s["provenance"] if p.startswith("levers.")))
    differ, same = [], []
    for p in paths:
        vals = [_walk(s["resolved"], p) for s in scen]
        meta = _meta(p)
        label = f"<code>{esc(p[len('levers.') :])}</code>" + (
            f' <span class="unit">{esc(meta["unit"])}</span>' if meta.get("unit") else ""
        )
        measure = esc(meta.get("measure") or "")
        cells = [_prov_cell(v, s["provenance"].get(p)) for v, s in zip(vals, scen, strict=True)]
        key = [json.dumps(v, sort_keys=True, default=str) for v in vals]
        (differ if len(set(key)) > 1 else same).append([measure, label, *cells])
    head = ["measure", "parameter", *[s["name"] for s in scen]]
    if len(scen) > 1:
        parts.append(f"<h3>Levers that differ between the scenarios ({len(differ)})</h3>")
        parts.append(
            html_table(head, differ, cls="levers", raw=True, num_from=99)
            if differ
            else "<p>The scenarios set every lever alike.</p>"
        )
        parts.append(
            f"<details><summary>Levers set alike in every scenario ({len(same)})</summary>"
            + html_table(head, same, cls="levers", raw=True, num_from=99)
            + "</details>"
        )
    else:
        parts.append(f"<h3>Levers ({len(same)})</h3>" + html_table(head, same, cls="levers", raw=True, num_from=99))
    parts.append(
        '<p class="note">Provenance: <b>seed</b> the plan\'s press release, <b>literature</b> with its '
        "citation, <b>assumption</b>, <b>calibrated</b>; then the source and the file and line that set the "
        "value. Every other parameter: <code>scsim show SCENARIO.yaml</code>.</p>"
    )
    return "\n".join(parts)


def _base_provenance(m: dict) -> dict[str, dict]:
    """Provenance of the sweep's base scenario, read again from its file when that file is still there."""
    from simulation.scenario.loader import load_scenario

    spec = m.get("spec") or {}
    try:
        path = Path(m.get("file") or "").parent / str(spec.get("base"))
        r = load_scenario(str(path))
    except (InputError, OSError, TypeError, ValueError):
        return {}
    return {
        ".".join(map(str, p)): {
            "kind": pr.kind,
            "source": pr.source,
            "file": pr.file,
            "line": pr.line,
            "value": r.values.get(p),
        }
        for p, pr in r.prov.items()
    }


def _sweep_levers(res) -> str:
    m = res.manifest
    spec = m.get("spec") or {}
    base = m.get("base") or {}
    parts = [
        f"<p>Base scenario <b>{esc(base.get('name', spec.get('base', '?')))}</b> "
        f"({esc(' ← '.join(map(str, base.get('files') or [spec.get('base', '')])))}, hash "
        f"<code>{esc(str(base.get('hash', ''))[:12])}</code>).</p>"
    ]
    rows = []
    for f in spec.get("factors") or []:
        keys = [f["key"]] if f.get("key") else list(f.get("keys") or [])
        if "values" in f:
            what = "values " + value_text(f["values"])
        elif "range" in f:
            what = f"range {value_text(f['range'])}"
        else:
            what = "distribution " + value_text(f.get("distribution"))
        if f.get("integer"):
            what += " (whole numbers)"
        rows.append([f.get("name") or "+".join(keys), f.get("role", "lever"), ", ".join(keys), what])
    if rows:
        parts.append(
            "<h3>Factors varied</h3>" + html_table(["factor", "role", "key paths", "values"], rows, num_from=99)
        )
    fixed = spec.get("set") or {}
    if fixed:
        parts.append(
            "<h3>Set for every point</h3>"
            + html_table(["key path", "value"], [[k, value_text(v)] for k, v in fixed.items()], num_from=99)
        )
    resolved = base.get("resolved") or {}
    prov = _base_provenance(m)
    varied = {k for f in spec.get("factors") or [] for k in ([f["key"]] if f.get("key") else f.get("keys") or [])}
    lever_paths = [p for p in prov if p.startswith("levers.")] or _leaf_paths(resolved.get("levers") or {}, "levers")
    rows = []
    for p in lever_paths:
        v = _walk(resolved, p)
        pr = prov.get(p)
        if p in varied:
            cell = f'<span class="v">{esc(value_text(v))}</span><br><span class="p">varied by the experiment</span>'
        elif pr is not None and json.dumps(pr.get("value"), sort_keys=True, default=str) == json.dumps(
            v, sort_keys=True, default=str
        ):
            cell = _prov_cell(v, pr)
        else:
            cell = (
                f'<span class="v">{esc(value_text(v))}</span><br><span class="p">'
                f"{'set by the experiment' if p in fixed else 'provenance: see the base scenario file'}</span>"
            )
        rows.append([esc(_meta(p).get("measure") or ""), f"<code>{esc(p[len('levers.') :])}</code>", cell])
    if rows:
        parts.append(
            f"<details><summary>Levers of the base scenario ({len(rows)})</summary>"
            + html_table(["measure", "parameter", "value and provenance"], rows, cls="levers", raw=True, num_from=99)
            + "</details>"
        )
    return "\n".join(parts)


def _leaf_paths(tree: dict, prefix: str) -> list[str]:
    out = []
    for k, v in tree.items():
        p = f"{prefix}.{k}"
        if isinstance(v, dict) and v and not all(str(x)[:4].isdigit() for x in v):
            out += _leaf_paths(v, p)
        else:
            out.append(p)
    return out


def method_section(res) -> str:
    m = res.manifest
    if res.kind == "sweep":
        base = (m.get("base") or {}).get("resolved") or {}
        design = m.get("design") or {}
        t = base.get("time") or {}
        return (
            "<p>Each design point is the base scenario with the factors set to the point's values; each point is "
            f"run {esc(m.get('replications', '?'))} time{'' if m.get('replications') == 1 else 's'}, replication i with the same seed in every point (common "
            "random numbers), so differences between points are paired. A run simulates "
            f"{esc((base.get('world') or {}).get('n_firms', '?'))} Korean firms bidding month by month from "
            f"{esc(t.get('start', '?'))} to {esc(t.get('end', '?'))} on tenders from foreign governments against "
            f"foreign competitors (docs/model.md). Outcomes are whole-horizon totals per run; the {esc(design.get('type', ''))} "
            "design is analysed with Sobol (first and total order, SALib, bootstrap intervals) or Morris "
            "screening where it applies, PAWN, a ranking of lever settings by value won per public KRW with the "
            "share of bootstrap resamples in which each ranks first, and the cost–value Pareto front "
            "(docs/experiments.md).</p>"
        )
    first = m["scenarios"][0].get("resolved") or {}
    t = first.get("time") or {}
    world = first.get("world") or {}
    countries = _country_count(world.get("countries_file"))
    reps = res.replications
    text = (
        f"An agent-based model of {esc(world.get('n_firms', '?'))} Korean smart-city firms (large, mid-size, SME, "
        f"startup) bidding for overseas tenders published by {countries} foreign governments, one month at a time "
        f"from {esc(t.get('start', '?'))} to {esc(t.get('end', '?'))}. Each month tenders appear, firms learn of "
        "them and decide whether to bid, foreign competitors bid, the buyer awards, and the plan's measures act "
        "through the firms' costs, finance, contacts and the buyers' relationship with Korea (docs/model.md). "
        f"Every scenario is run {reps} time{'s' if reps != 1 else ''}"
        + (f" under each of {res.parameter_sets} parameter sets ({esc(res.runs_text)})" if res.parameter_sets else "")
        + "; replication i uses the same seed in every "
        "scenario (common random numbers). Figures and tables give means over replications with 95 % "
        "t-intervals. The win rate over the horizon is total wins over total bids; value won and public cost "
        "(commitment basis) are sums over the years."
    )
    if res.kind == "compare":
        text += (
            f" Each scenario is compared with <b>{esc(res.baseline)}</b> replication by replication: the "
            "difference of each pair is taken first, and the interval is a paired t-interval over the pairs, "
            "which removes most of the noise the two runs share."
        )
        psets = m.get("parameter_sets") or {}
        if psets:
            text += (
                f" Everything is run under each of {len(psets.get('sets', []))} parameter sets from "
                f"<code>{esc(psets.get('file', ''))}</code> (the uncertainty ensemble: each set a point of the "
                "calibration's 95 % region and a draw of every lever-effect size over its evidence range; the "
                "same seeds in each): the interval of each difference adds, in quadrature, the t-interval over "
                "all pairs (replication noise) and 1.96 times the spread of the effect between the sets (what "
                "is not known about effect sizes and the calibration; docs/model.md §6). Rates are ratios of "
                "sums over the runs, with delta-method intervals."
            )
    return f"<p>{text}</p>"


def _country_count(countries_file: Any) -> str:
    if countries_file != "builtin":
        return f"the countries of {esc(countries_file)} and their"
    try:
        from simulation.scenario.countries import builtin_path, load_countries

        return str(load_countries(builtin_path(), "simulation/data/countries.csv").n)
    except Exception:
        return "the built-in table's"


def provenance_section(res) -> str:
    m = res.manifest
    seeds = list(m.get("seeds") or [])
    shown = ", ".join(map(str, seeds[:MAX_SEEDS_SHOWN])) + (
        f", … ({len(seeds)} in all)" if len(seeds) > MAX_SEEDS_SHOWN else ""
    )
    if res.kind == "sweep":
        sessions = sorted((res.folder / "sessions").glob("*.json"))
        commands = []
        for p in sessions[-3:]:
            try:
                argv = json.loads(p.read_text(encoding="utf-8")).get("argv") or []
            except (OSError, ValueError):
                continue
            if len(argv) > 1 and argv[1] in ("sweep", "merge"):  # (a sweep started from Python records its own argv)
                commands.append("scsim " + " ".join(shlex.quote(str(a)) for a in argv[1:]))
        command = (
            commands[-1]
            if commands
            else f"scsim sweep {shlex.quote(str(m.get('file', '')))} --out {shlex.quote(str(res.folder))}"
        )
        rule = (
            f"replication i uses the i-th seed spawned from numpy SeedSequence({m.get('seed', '?')}), "
            "the same in every design point"
        )
        started, seconds = m.get("created", ""), None
    else:
        command = m.get("command", "")
        rule = m.get("seed_rule") or "replication i uses the i-th seed, the same in every scenario"
        started, seconds = m.get("started", ""), m.get("seconds")
    rows = [
        ["command", f"<code>{esc(command)}</code>"],
        ["results folder", f"<code>{esc(res.folder)}</code>"],
        ["seeds", f"<code>{esc(shown)}</code><br>{esc(rule)}"],
        ["started", esc(started) + (f" ({seconds:.1f} s of runs)" if isinstance(seconds, (int, float)) else "")],
        ["git commit", f"<code>{esc(m.get('git_commit', 'unknown'))}</code>"],
        ["versions", esc(", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items()))],
    ]
    from simulation.experiment.outputs import versions

    rows.append(
        ["report written", esc(time.strftime("%Y-%m-%dT%H:%M:%S%z")) + f" by scsim {esc(versions().get('scsim'))}"]
    )
    return html_table(None, rows, cls="prov", raw=True, num_from=99)


def figures_section(drawn: list) -> str:
    if not drawn:
        return "<p>No figure: the folder holds none of the data the figures need.</p>"
    out = []
    for k, d in enumerate(drawn, start=1):
        svg = d.file("svg").read_bytes()
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        png = d.file("png").name
        out.append(
            f'<figure id="fig-{esc(d.id)}"><img src="{uri}" alt="{esc(d.title)}">'
            f"<figcaption><b>Figure {k}. {esc(d.title)}.</b> {esc(d.caption)} "
            f'<span class="files">({esc(d.file("svg").parent.name)}/{esc(png)}, .svg)</span></figcaption></figure>'
        )
    return "\n".join(out)


CSS = """
body{font-family:-apple-system,"Segoe UI","Noto Sans","Noto Sans KR","Malgun Gothic",Helvetica,Arial,sans-serif;
 max-width:1100px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #111;padding-bottom:.15em;margin-top:1.8em}
h3{font-size:1.05em;margin:1.2em 0 .4em} .sub{color:#444;margin-top:0}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.9em}
th,td{border:1px solid #bbb;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#eee} td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.levers td{font-size:.92em} table.levers td:first-child{width:3em} .p{font-size:.8em;border:1px solid #888;border-radius:3px;padding:0 .3em}
.p-seed{background:#e8e8e8}.p-literature{background:#fff}.p-assumption{border-style:dashed}.p-calibrated{border-style:dotted}
.src,.where,.files,.unit{font-size:.8em;color:#444}.where{font-family:monospace}
figure{margin:1.5em 0;page-break-inside:avoid} figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.88em;color:#222;margin-top:.3em} .note{font-size:.88em;color:#333}
.flag{font-weight:bold} code{font-size:.9em} details summary{cursor:pointer;font-weight:bold;margin:.5em 0}
table.prov td:first-child{font-weight:bold;white-space:nowrap}
@media print{body{max-width:none;margin:0} h2{page-break-after:avoid} details{display:block}}
"""


def render(res, drawn: list, notes: Sequence[str] = ()) -> str:
    """The whole page as one string."""
    kind = {"run": "Scenario runs", "compare": "Scenario comparison", "sweep": "Experiment"}[res.kind]
    from simulation.experiment.wording import with_overrides

    title = f"{kind}: {', '.join(res.scenarios)}" if res.kind != "sweep" else f"{kind}: {res.scenarios[0]}"
    if res.kind != "sweep":
        title = with_overrides(title, res.overrides)
    sub = (
        f"Korean smart-city exports under the 2019 Smart City Overseas Expansion Activation Plan — scsim, "
        f"results folder <code>{esc(res.folder.name)}</code>"
    )
    if res.kind == "compare":
        sub += f", baseline <b>{esc(res.baseline)}</b>"
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">{sub}</p>',
        "<h2>Headline</h2>",
        headline(res),
        "<h2>Figures</h2>",
        figures_section(drawn),
    ]
    if res.summary is not None:
        body += [
            "<h2>By year</h2>",
            f'<p class="note">Mean of {esc(res.runs_text)}; win rate = Korean wins / '
            "Korean bids; value won in USD m.</p>",
            yearly_section(res),
        ]
    body += [
        "<h2>Scenarios and levers</h2>" if res.kind != "sweep" else "<h2>Design and levers</h2>",
        levers_section(res),
        "<h2>Method</h2>",
        method_section(res),
        "<h2>Reproducing these results</h2>",
        provenance_section(res),
    ]
    notes = [*(f"Lever that cannot act — {n}" for n in (res.lever_notes if res.kind != "sweep" else [])), *notes]
    if notes:
        body += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"]
    return html_page(title, body)


def html_page(title: str, body: Sequence[str]) -> str:
    """A self-contained page: inline style, images as data URIs, nothing fetched (a strict CSP)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )

"""`scsim validate-model` results as a report page: `scsim report results/validation-*` (and
validate-model at its end) write one self-contained HTML page with each check's estimate beside
the published range, held-out checks apart from fitted ones, and a figure of them all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulation.analysis.validation.command import given, noise_measured, number_text, range_text

ROLES = (
    ("held_out", "Held-out checks", "no parameter was tuned to pass them: these test the model"),
    ("fitted", "Fitted checks", "calibration targets of experiments/calibration.yaml: a pass is by construction"),
)


def is_validation_folder(folder: Path) -> bool:
    from simulation.present.report import is_kind_folder

    return is_kind_folder(folder, "validate-model", "checks")


def _figure(checks: pd.DataFrame, stem: Path, style) -> list[Path]:
    """One row per check, each on its own scale: the published range (grey band, or a bound), the
    point's estimate and 95 % CI, and the 5-95 % spread over the parameter sets when there is one."""
    import matplotlib.pyplot as plt

    from simulation.present.figures.style import COLORS, new_figure, save

    n = len(checks)
    over = "sets_p5" in checks and checks["sets_p5"].notna().any()
    with plt.rc_context(style.rc()):
        fig = new_figure(7.5, 0.5 + 0.42 * n)
        axes = np.atleast_1d(fig.subplots(n, 1))
        for ax, (_, r) in zip(axes, checks.iterrows(), strict=True):
            xs = [r["estimate"], r["ci_low"], r["ci_high"]]
            if over:
                xs += [r["sets_p5"], r["sets_p95"]]
            low, high = r["published_low"], r["published_high"]
            xs += [v for v in (low, high) if given(v)]
            xs = [float(v) for v in xs if given(v)]
            lo_x, hi_x = (min(xs), max(xs)) if xs else (0.0, 1.0)
            pad = 0.08 * (hi_x - lo_x or 1.0)
            lo_x, hi_x = lo_x - pad, hi_x + pad
            band_lo = float(low) if given(low) else lo_x
            band_hi = float(high) if given(high) else hi_x
            ax.axvspan(band_lo, band_hi, color="#d9d9d9", zorder=0)
            if over and given(r["sets_p5"]):
                ax.hlines(-0.25, r["sets_p5"], r["sets_p95"], color=COLORS[2], linewidth=1.2)
                ax.plot([r["sets_median"]], [-0.25], marker="s", color=COLORS[2], markersize=3)
            if given(r["ci_low"]):
                ax.hlines(0.15, r["ci_low"], r["ci_high"], color=COLORS[1], linewidth=1.6)
            if given(r["estimate"]):
                ax.plot([r["estimate"]], [0.15], marker="o", color=COLORS[0], markersize=4)
            ax.set_xlim(lo_x, hi_x)
            ax.set_ylim(-0.6, 0.5)
            ax.set_yticks([])
            ax.tick_params(axis="x", labelsize=6, length=2, pad=1)
            label = str(r["check"]) + (" (fitted)" if r.get("role") == "fitted" else "")
            ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
        return save(fig, stem, style)


def _range_text(r) -> str:
    return range_text(r["published_low"], r["published_high"], r["published_point"])


def _table(part: pd.DataFrame, over: bool) -> str:
    from simulation.present.report import esc, html_table

    _num = number_text

    head = ["check", "what is compared", "simulated (95 % CI)", "published", "verdict"]
    reasons = over and "sets_reason" in part
    if over:
        head += ["over the sets: 5 % / median / 95 %", "sets inside", "verdict over the sets"]
    if reasons:
        head.append("what the spread over the sets rests on")
    head.append("source")
    rows = []
    for _, r in part.iterrows():
        row = [
            f"<code>{esc(r['check'])}</code>",
            esc(f"{r['metric']} ({r['unit']})"),
            esc(f"{_num(r['estimate'])} [{_num(r['ci_low'])}, {_num(r['ci_high'])}]"),
            esc(_range_text(r)),
            f"<b>{esc(str(r['verdict']))}</b>",
        ]
        if over:
            row += [
                esc(f"{_num(r['sets_p5'])} / {_num(r['sets_median'])} / {_num(r['sets_p95'])}"),
                esc(f"{int(r['sets_inside'])} of {int(r['sets'])}"),
                f"<b>{esc(str(r['sets_verdict']))}</b>",
            ]
        if reasons:
            row.append(esc(str(r["sets_reason"])) if isinstance(r["sets_reason"], str) else "")
        row.append(esc(r["source"]))
        rows.append(row)
    return html_table(head, rows, raw=True, num_from=99)


def write_validation_report(folder: Path, out: Path, force: bool) -> tuple[Path, Path, list[Path]]:
    """Write the validation page; returns (page, figures folder, figure files)."""
    from simulation.analysis.drivers import with_reasons
    from simulation.present.report import esc, html_page, publish, read_section, section_figure

    manifest, checks = read_section(folder, "checks")
    checks = with_reasons(folder, checks)
    if "role" not in checks:
        checks = checks.assign(role="held_out")
    over = "sets_verdict" in checks and checks["sets_verdict"].notna().any()
    ordered = pd.concat([checks[checks["role"] == role] for role, _, _ in ROLES], ignore_index=True)
    fig_dir, files, uri = section_figure(
        folder, out, force, "validation_checks", lambda stem, style: _figure(ordered, stem, style)
    )

    def counts(part: pd.DataFrame, col: str) -> str:
        c = part[col].value_counts()
        return f"{c.get('pass', 0)} pass, {c.get('inconclusive', 0)} inconclusive, {c.get('fail', 0)} fail"

    held = checks[checks["role"] == "held_out"]
    summary = f"Held-out checks at the point: {counts(held, 'verdict')}."
    if over:
        ps = manifest.get("parameter_sets", {})
        summary += (
            f" Over the {ps.get('sets', '?')} parameter sets of {ps.get('file', '?')} "
            f"({manifest.get('set_replications', '?')} replications a set and arm): {counts(held, 'sets_verdict')}."
        )
    method = (
        "Each check is a virtual twin of a published study: the same quantity, estimated from paired runs "
        "(the same seeds in the control and every treated arm). pass: the estimate lies in the published "
        "range (rule overlap) or its whole 95 % CI does (rule inside); fail: the CI and the range are "
        "disjoint; inconclusive: otherwise."
    )
    net = over and noise_measured(checks)
    if over:
        method += (
            " Over the parameter sets the same rule reads the median over the sets as the estimate and the "
            "5-95 % spread as its interval"
            + (
                ", net of the replication noise each set measures (a set has fewer replications than the point)"
                if net
                else ""
            )
            + ": a fail there means hardly any set the evidence allows agrees."
        )
    caption = (
        "<b>Figure 1. Each check against the evidence</b>, each on its own scale: the published range (grey; "
        "a bound shades one side), the estimate at the scenario's values and its 95 % CI (dot and line)"
        + (
            ", and the 5–95 % spread over the parameter sets"
            + (", net of replication noise," if net else "")
            + " with its median (lower line and square)"
            if over
            else ""
        )
        + f'. <span class="files">({esc(fig_dir.name)}/validation_checks.png, .svg)</span>'
    )
    body = [
        "<h1>Validation against published effects</h1>",
        f'<p class="sub">scsim validate-model, results folder <code>{esc(folder.name)}</code></p>',
        "<h2>Headline</h2>",
        f"<p><b>{esc(summary)}</b></p>",
        f"<p>{esc(method)}</p>",
        f'<figure id="fig-validation"><img src="{uri}" alt="validation checks"><figcaption>{caption}'
        "</figcaption></figure>",
    ]
    for role, title, what in ROLES:
        part = checks[checks["role"] == role]
        if part.empty:
            continue
        body += [f"<h2>{esc(title)}</h2>", f"<p>{esc(what)}.</p>", _table(part, over)]
    body += [
        "<h2>Reproducing these results</h2>",
        f"<p><code>{esc(manifest.get('command', 'scsim validate-model'))}</code>; git commit "
        f"<code>{esc(manifest.get('git_commit', 'unknown'))}</code>; {manifest.get('seconds', '?')} s.</p>",
    ]
    page = html_page("Validation against published effects", body)
    out.absolute().parent.mkdir(parents=True, exist_ok=True)
    publish(out, page.encode("utf-8"), force)
    return out, fig_dir, files

"""The lever cards as a report section: `scsim report results/levers-*` (and `scsim levers` at its end)
write one self-contained HTML page with the cards' tables and a figure of each measure's effect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def is_levers_folder(folder: Path) -> bool:
    from simulation.present.report import is_kind_folder

    return is_kind_folder(folder, "levers", "cards")


def _figure(cards: pd.DataFrame, stem: Path, style) -> list[Path]:
    """Value won (USD m) and value per public KRW of each measure alone, with their 95 % intervals."""
    import matplotlib.pyplot as plt

    from simulation.present.figures.style import COLORS, new_figure, save

    alone = cards[cards["comparison"] == "alone"].reset_index(drop=True)
    n = len(alone)
    with plt.rc_context(style.rc()):
        fig = new_figure(9.0, 0.9 + 0.24 * n)
        ax1, ax2 = fig.subplots(1, 2, sharey=True)
        y = np.arange(n)
        for ax, col, label in (
            (ax1, "value_usd_m", "Value won, USD m (alone vs no plan)"),
            (ax2, "value_per_krw", "Value won per public KRW (alone)"),
        ):
            est = alone[col].to_numpy(dtype=float)
            lo = alone[f"{col}_low"].to_numpy(dtype=float)
            hi = alone[f"{col}_high"].to_numpy(dtype=float)
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.hlines(y[ok], lo[ok], hi[ok], color=COLORS[1], linewidth=1.4)
            fin = np.isfinite(est)
            ax.plot(est[fin], y[fin], marker="o", linestyle="none", color=COLORS[0], markersize=4)
            ax.axvline(0.0, color="black", linestyle="--", linewidth=0.8)
            ax.set_title(label, loc="left", fontsize=9)
            if col == "value_per_krw":
                ax.axvspan(11.0, 19.0, color="#d9d9d9", zorder=0)  # export promotion: 15 (11-19) per 1
                ax.set_xscale("symlog", linthresh=10.0)
        ax1.set_yticks(y, [f"{c} {m[:26]}" for c, m in zip(alone["code"], alone["measure"], strict=True)], fontsize=7)
        ax1.set_ylim(n - 0.5, -0.5)
        return save(fig, stem, style)


def write_levers_report(folder: Path, out: Path, force: bool) -> tuple[Path, Path, list[Path]]:
    """Write the lever cards' page; returns (page, figures folder, figure files)."""
    from simulation.analysis.levers.render import ci_text, note
    from simulation.present.report import esc, html_page, html_table, publish, read_section, section_figure

    manifest, cards = read_section(folder, "cards")
    fig_dir, files, uri = section_figure(
        folder, out, force, "lever_cards", lambda stem, style: _figure(cards, stem, style)
    )

    def table(comp: str) -> str:
        rows = []
        for _, r in cards[cards["comparison"] == comp].iterrows():
            rows.append(
                [
                    esc(r["code"]),
                    esc(r["measure"]),
                    ci_text(r, "value_usd_m"),
                    ci_text(r, "existing_value_usd_m"),
                    ci_text(r, "cost_krw_bn"),
                    ci_text(r, "value_per_krw"),
                    ci_text(r, "korean_share_pp"),
                    esc(note(r)),
                ]
            )
        head = [
            "code",
            "measure",
            "value won, USD m",
            "on existing demand, USD m",
            "public cost, KRW bn",
            "value per public KRW",
            "Korean share, pp",
            "note",
        ]
        return html_table(head, rows, raw=True, num_from=2)

    whole = manifest.get("whole_plan", {})
    spec = manifest.get("spec", {})
    sets, seeds = manifest.get("sets", []), manifest.get("seeds", [])
    head = (
        f"Each of the plan's 25 measures alone on the no-plan world and removed from the announced plan, "
        f"under {len(sets)} parameter sets of the uncertainty ensemble × {len(seeds)} replications (common "
        "random numbers). Intervals are 95 %: replication noise and the spread over the parameter sets in "
        "quadrature; value per public KRW is a ratio of sums with a bootstrap interval. Value won in USD m, "
        "public cost in KRW bn (both shown)."
    )
    whole = pd.Series(whole)
    plan = (
        f"The whole plan against no plan: value won {ci_text(whole, 'value_usd_m')} USD m, public cost "
        f"{ci_text(whole, 'cost_krw_bn')} KRW bn, {ci_text(whole, 'value_per_krw', False)} KRW of value won "
        "per public KRW."
    )
    body = [
        f"<h1>Lever cards: {esc(spec.get('name', 'lever_cards'))}</h1>",
        f'<p class="sub">scsim, results folder <code>{esc(folder.name)}</code>; page '
        f"<code>{esc(manifest.get('doc', ''))}</code></p>",
        "<h2>Headline</h2>",
        f"<p>{esc(head)}</p>",
        f"<p><b>{esc(plan)}</b></p>",
        f'<figure id="fig-lever-cards"><img src="{uri}" alt="lever cards"><figcaption><b>Figure 1. Each measure '
        "alone against no plan.</b> Value won (left) and value won per public KRW (right, symmetric log scale; "
        "the grey band is export promotion's published 11–19 per 1) with 95 % intervals. "
        f'<span class="files">({esc(fig_dir.name)}/lever_cards.png, .svg)</span></figcaption></figure>',
        "<h2>Each measure alone, against no plan</h2>",
        table("alone"),
        "<h2>Each measure removed from the plan</h2>",
        table("in_plan"),
        "<h2>Reproducing these results</h2>",
        f"<p><code>{esc(manifest.get('command', 'scsim levers'))}</code>; git commit "
        f"<code>{esc(manifest.get('git_commit', 'unknown'))}</code>.</p>",
    ]
    page = html_page(f"Lever cards: {spec.get('name', 'lever_cards')}", body)
    out.absolute().parent.mkdir(parents=True, exist_ok=True)
    publish(out, page.encode("utf-8"), force)
    return out, fig_dir, files

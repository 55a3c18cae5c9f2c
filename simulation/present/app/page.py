"""The dashboard page (Solara): scenario picker, lever controls, charts against the no-plan baseline.

Plain Solara rather than Mesa's SolaraViz: SolaraViz animates one Mesa model step by step
(agents on a grid, a play button), whereas a planner here wants replications of whole
2019-2030 runs, paired with the baseline, recomputed when a lever moves. Those runs use the
engine's fast path without Mesa objects (Mesa 3.3.1 never frees a model, mesa#3179).

Each lever change reruns the model in a worker thread (`use_thread`: a newer change
supersedes a run still going) while the last charts stay on screen.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable
from typing import Any

import solara
from solara.datatypes import ResultState

from simulation.present.app import charts, levers, runs
from simulation.present.app.server import AppConfig
from simulation.scenario.errors import InputError

CONFIG = AppConfig.from_env()
CSS = """
.scsim-table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
.scsim-table th, .scsim-table td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
.scsim-table th:first-child { text-align: left; }
"""


def _label(lv: levers.Lever, value) -> str:
    if lv.kind in ("int", "float"):
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{lv.label}: {shown}{(' ' + lv.unit) if lv.unit else ''}"
    return lv.label


@solara.component
def LeverControl(
    lv: levers.Lever, value: Any, on_value: Callable[[Any], None], hi: float, country_names: dict[str, str]
):
    """One lever as a switch, a slider or a country picker, with what it does underneath."""
    with solara.Column(gap="0px", style={"margin-bottom": "6px"}):
        if lv.kind == "switch":
            solara.Switch(label=lv.label, value=bool(value), on_value=on_value, color="primary")
        elif lv.kind == "int":
            solara.SliderInt(
                _label(lv, value),
                value=int(value),
                min=int(lv.lo),
                max=int(max(hi, value)),
                step=int(lv.step),
                on_value=on_value,
            )
        elif lv.kind == "float":
            solara.SliderFloat(
                _label(lv, value),
                value=float(value),
                min=lv.lo,
                max=max(hi, float(value)),
                step=lv.step,
                on_value=on_value,
            )
        else:
            shown = {f"{c} {n}": c for c, n in country_names.items()}
            back = {c: s for s, c in shown.items()}
            solara.SelectMultiple(
                lv.label,
                values=[back[c] for c in value if c in back],
                all_values=list(shown),
                on_value=lambda picked: on_value(tuple(sorted(shown[p] for p in picked))),
            )
        solara.Text(f"{lv.measure}: {lv.help}", style={"font-size": "0.75rem", "color": "#555"})


@solara.component
def Results(view: charts.View):
    """Headline over the horizon, one chart per series, and the yearly numbers the charts plot."""
    solara.HTML(tag="div", unsafe_innerHTML=view.headline)
    with solara.Row(style={"flex-wrap": "wrap"}):
        for _series, image in view.charts:
            with solara.Column(
                classes=["scsim-chart"], style={"min-width": "360px", "max-width": "640px", "flex": "1 1 30%"}
            ):
                solara.Image(image, format="png", width="100%")
    with solara.Details("Yearly numbers (mean over replications)", expand=True):
        solara.HTML(tag="div", unsafe_innerHTML=view.table)


@solara.component
def Page():
    scenario, set_scenario = solara.use_state(CONFIG.scenario)
    base_settings = solara.use_memo(lambda: levers.read(runs.load(scenario)), [scenario])
    settings, set_settings = solara.use_state(base_settings)
    reps, set_reps = solara.use_state(runs.DEFAULT_REPS)
    seed, set_seed = solara.use_state(runs.DEFAULT_SEED)
    pick_error, set_pick_error = solara.use_state("")
    last = solara.use_ref(None)

    resolved = runs.load(scenario)
    kotra_hi = solara.use_memo(lambda: levers.kotra_range(resolved), [scenario])
    names = solara.use_memo(lambda: dict(levers.countries(resolved)), [scenario])

    def pick(path: str) -> None:
        try:
            new = levers.read(runs.load(path))
        except InputError as exc:  # a broken file in the folder: say so, keep the current scenario
            set_pick_error(str(exc))
            return
        set_pick_error("")
        set_scenario(path)
        set_settings(new)

    def setter(name: str) -> Callable[[Any], None]:
        return lambda value: set_settings({**settings, name: value})

    dep = (scenario, tuple(sorted(settings.items())), reps, seed)

    def compute(cancel: threading.Event) -> charts.View:
        return charts.build(scenario, CONFIG.baseline, settings, reps, seed, cancel)

    result = solara.use_thread(compute, dependencies=[dep], intrusive_cancel=False)
    if result.state == ResultState.FINISHED and result.value is not None:
        last.current = result.value
    running = result.state in (ResultState.STARTING, ResultState.WAITING, ResultState.RUNNING)

    solara.Title("scsim: smart-city export levers")
    solara.Style(CSS)
    files = {
        os.path.basename(f) if os.path.dirname(os.path.abspath(f)) == os.path.abspath(CONFIG.folder) else f: f
        for f in runs.scenario_files(CONFIG.folder, CONFIG.scenario)
    }
    shown = next((k for k, f in files.items() if f == scenario), scenario)
    with solara.Sidebar():
        solara.Select("Scenario", values=list(files), value=shown, on_value=lambda k: pick(files[k]))
        if pick_error:
            solara.Error(pick_error)
        solara.Button(
            "Reset levers to the scenario",
            on_click=lambda: set_settings(base_settings),
            text=True,
            disabled=settings == base_settings,
        )
        for lv in levers.LEVERS:
            hi = kotra_hi if lv.name == "n4_kotra" else lv.hi
            LeverControl(lv, settings[lv.name], setter(lv.name), hi, names)
        solara.SliderInt(f"Replications: {reps}", value=reps, min=2, max=20, on_value=set_reps)
        solara.InputInt("Master seed", value=seed, on_value=lambda v: set_seed(max(0, int(v or 0))))

    with solara.Column():
        # plain HTML, not solara.Markdown: Markdown loads mermaid from the asset proxy on every page
        solara.HTML(
            tag="h3",
            unsafe_innerHTML=html.escape(f"{os.path.basename(scenario)} against {os.path.basename(CONFIG.baseline)}"),
        )
        solara.HTML(
            tag="p",
            unsafe_innerHTML=(
                "Export win rate, value won and public cost by year, 2019-2030. Both scenarios run "
                f"with the same {reps} seeds (common random numbers); bands are 95 % intervals of the mean."
            ),
        )
        view: charts.View | None = last.current
        failed = result.state == ResultState.ERROR and not isinstance(result.error, charts.Superseded)
        status = "running" if running else "error" if failed else "done"
        text = (
            "computing..."
            if running
            else ""
            if view is None
            else f"{len(view.outcome.scenario.seeds)} replications of the scenario (the baseline's are cached) "
            f"run and drawn in {view.seconds:.2f} s"
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=text,
            attributes={
                "id": "scsim-status",
                "data-state": status,
                "data-seconds": "" if view is None else f"{view.seconds:.3f}",
            },
        )
        solara.ProgressLinear(running)
        if failed:
            solara.Error(f"the model could not run with these settings: {result.error}")
        if view is not None:
            Results(view)

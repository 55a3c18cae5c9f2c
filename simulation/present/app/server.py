"""Start the dashboard's Solara server, offline, in this process.

This does what `solara run simulation/present/app/page.py --host H --port P --production` does (an
uvicorn server on `solara.server.starlette:app` with SOLARA_APP naming the page), minus what
`solara run` adds that needs the internet: its PyPI version check and its usage telemetry.
The page's JavaScript and fonts come from Solara's asset proxy (`/_solara/cdn/...`), served
from the folder `assets` keeps; the proxy's upstream for a missing file is pointed at a
closed port on this machine, so a missing asset fails here instead of silently fetching
from a CDN. Settings are read from the environment when Solara is first
imported, so `serve` sets them before importing it.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from simulation.scenario.errors import InputError
from simulation.scenario.shipped import shipped_dir

PAGE_MODULE = "simulation.present.app.page"
OFFLINE_CDN = "http://127.0.0.1:9/npm/"  # the discard port: nothing listens, nothing leaves the machine
_ENV = {"scenario": "SCSIM_APP_SCENARIO", "folder": "SCSIM_APP_SCENARIO_DIR", "baseline": "SCSIM_APP_BASELINE"}


@dataclass(frozen=True)
class AppConfig:
    """What the page needs from the command line; passed through the environment to Solara's app module."""

    scenario: str
    folder: str
    baseline: str

    def to_env(self) -> dict[str, str]:
        return {_ENV[k]: getattr(self, k) for k in _ENV}

    @classmethod
    def from_env(cls) -> AppConfig:
        folder = os.environ.get(_ENV["folder"]) or str(default_folder())
        return cls(
            scenario=os.environ.get(_ENV["scenario"]) or str(Path(folder) / "plan_2019_announced.yaml"),
            folder=folder,
            baseline=os.environ.get(_ENV["baseline"]) or str(Path(folder) / "no_plan.yaml"),
        )


def default_folder() -> Path:
    """`scenarios/` of the working directory, else the shipped scenarios (clone or wheel)."""
    here = Path.cwd() / "scenarios"
    return here if here.is_dir() else (shipped_dir("scenarios") or here)


def configure(scenario: str | None) -> AppConfig:
    """Check the scenario and the baseline before anything starts: bad input is one message and status 2."""
    from simulation.present.app import runs

    folder = default_folder()
    scenario = scenario if scenario is not None else str(folder / "plan_2019_announced.yaml")
    baseline = str(folder / "no_plan.yaml")
    if not Path(baseline).is_file():
        raise InputError(f"the no-plan baseline {baseline} is missing; run `scsim app` from the project folder")
    runs.load(scenario)  # raises InputError naming the file as given, the line and the key
    runs.load(baseline)
    return AppConfig(scenario=os.path.abspath(scenario), folder=str(folder), baseline=baseline)


def check_port(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise InputError(f"--port must be between 1 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host!r}: {exc.strerror}") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def solara_env(config: AppConfig, host: str, port: int, asset_dir: Path) -> dict[str, str]:
    """The environment Solara is configured from: production mode, no telemetry, assets from this machine."""
    env = {
        "SOLARA_APP": PAGE_MODULE,
        "SOLARA_MODE": "production",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_ASSETS_PROXY": "True",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(asset_dir),
        "SOLARA_ASSETS_CDN": os.environ.get("SOLARA_ASSETS_CDN", OFFLINE_CDN),
        "SOLARA_THEME_LOADER": "plain",
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "MPLBACKEND": "Agg",
    }
    env.update(config.to_env())
    return env


def _warm_up(config: AppConfig) -> None:
    """Run the default view once while the server starts, so the first page load finds compiled kernels and a cached baseline."""
    from simulation.present.app import runs

    try:
        t0 = time.perf_counter()
        runs.evaluate(config.scenario, config.baseline)
        print(f"scsim app: model ready ({time.perf_counter() - t0:.1f} s)", flush=True)
    except Exception as exc:  # the page shows the same error when it runs the model
        print(f"scsim app: warm-up failed: {exc}", file=sys.stderr, flush=True)


def serve(config: AppConfig, host: str, port: int, asset_dir: Path) -> None:
    """Serve the dashboard until interrupted."""
    if "solara" in sys.modules and "solara.server.settings" in sys.modules:
        raise RuntimeError("Solara was imported before its settings were set; start the app through `scsim app`")
    os.environ.update(solara_env(config, host, port, asset_dir))
    import uvicorn

    # on plain http Solara warns on every page load that it cannot use SameSite=None cookies (only for iframes)
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)

    threading.Thread(target=_warm_up, args=(config,), daemon=True, name="scsim-warm-up").start()
    server = uvicorn.Server(
        uvicorn.Config("solara.server.starlette:app", host=host, port=port, log_level="warning", access_log=False)
    )
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(
                f"scsim app: serving {config.scenario} against {config.baseline} at {url} (Ctrl-C to stop)", flush=True
            )

    threading.Thread(target=announce, daemon=True).start()
    server.run()

"""The dashboard page's JavaScript, CSS and fonts, kept on this machine so the page works offline.

Solara's page loads its Vue/Vuetify app, RequireJS and Font Awesome from a CDN, or, with its
asset proxy on, from `/_solara/cdn/...` on the server, which answers from a folder of npm
packages and fetches a missing file from the CDN. `scsim app` points that folder at
`~/.cache/scsim/solara-cdn` (or $SCSIM_ASSETS_DIR) and fills it once with `npm pack`, the npm
registry's ordinary client — the same thing the `solara-assets` wheel does when it is built;
that wheel is not used because its last release (1.58.2) lacks the Vuetify-3 app this Solara
(1.64, with ipyvue 3) asks for. Which packages and versions are needed is read from Solara's
own page template, so a Solara upgrade asks for the right ones.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from simulation.scenario.errors import InputError


def cache_dir() -> Path:
    base = os.environ.get("SCSIM_ASSETS_DIR")
    if base:
        return Path(base)
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "scsim" / "solara-cdn"


def _solara_dir() -> Path:
    spec = importlib.util.find_spec("solara")  # a top-level lookup: does not import Solara (its settings come later)
    if spec is None or spec.origin is None:
        raise InputError("Solara is not installed; `pip install -e .` installs it")
    return Path(spec.origin).parent


def vue3() -> bool:
    """Solara serves the Vuetify-3 app when ipyvue 3 is installed (solara/server/server.py)."""
    try:
        return importlib.metadata.version("ipyvue").startswith("3")
    except importlib.metadata.PackageNotFoundError:
        return False


def needed() -> list[str]:
    """npm package specs (name@version) the page asks the asset proxy for."""
    root = _solara_dir()
    template = (root / "server" / "templates" / "solara.html.j2").read_text(encoding="utf-8")
    app = "solara-vuetify3-app" if vue3() else "solara-vuetify-app"
    found = [re.search(rf"@widgetti/{app}@[0-9][\w.\-]*", template), re.search(r"requirejs@[0-9][\w.\-]*", template)]
    settings = (root / "server" / "settings.py").read_text(encoding="utf-8")
    found.append(re.search(r"font-awesome@[0-9][\w.\-]*", settings))
    if any(m is None for m in found):  # a Solara release laid out differently: say so rather than guess
        raise InputError(f"cannot tell which browser assets Solara {importlib.metadata.version('solara')} needs")
    return [m.group(0) for m in found if m is not None]


def missing(folder: Path | None = None) -> list[str]:
    folder = cache_dir() if folder is None else folder
    return [spec for spec in needed() if not (folder / spec / "package.json").is_file()]


def install(folder: Path | None = None, echo: Callable[[str], None] = print) -> list[str]:
    """Fetch the missing packages with `npm pack` and unpack each as folder/name@version (whole or not at all)."""
    folder = cache_dir() if folder is None else folder
    todo = missing(folder)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise InputError(
            f"the dashboard's browser assets ({', '.join(todo)}) are not in {folder}, and npm, "
            "which fetches them once, is not installed (Debian: apt-get install npm)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for spec in todo:
        echo(f"scsim app: fetching {spec} from the npm registry (once) into {folder}")
        with tempfile.TemporaryDirectory(dir=folder, prefix=".fetch-") as tmp:
            proc = subprocess.run(
                [npm, "pack", spec, "--json", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=tmp,
            )
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
                raise InputError(f"npm pack {spec} failed: {last}")
            name = json.loads(proc.stdout)[0]["filename"]
            with tarfile.open(Path(tmp) / name) as tar:
                tar.extractall(Path(tmp) / "x", filter="data")
            target = folder / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            os.replace(Path(tmp) / "x" / "package", target)
    return todo


def ensure(echo: Callable[[str], None] = print) -> Path:
    """The folder holding every asset the page needs, fetched first where missing."""
    folder = cache_dir()
    install(folder, echo)
    return folder

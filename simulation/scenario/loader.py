"""Load a scenario: YAML layers joined by `extends:`, `--set` overrides, provenance, validation.

A scenario resolves to a flat table {parameter path: value} where a parameter is any schema
field that is not a section; each value remembers where it came from (file, line) and its
provenance (seed / literature / assumption / calibrated / override / unstated).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import os
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from simulation.scenario.errors import InputError
from simulation.scenario.schema import Scenario, Section, extra_of
from simulation.scenario.shipped import shipped_dir
from simulation.scenario.types import NAME_PATTERN, YEAR_MONTH_PATTERN
from simulation.scenario.yamlio import (
    YAML_SUFFIXES,
    KeyPath,
    copy_plain,
    dotted,
    load_yaml_text,
    read_yaml_file,
    read_yaml_shared,
    remember,
)

PROVENANCE_KINDS = ("seed", "literature", "assumption", "calibrated")
SCENARIO_PATH_ENV = "SCSIM_SCENARIO_PATH"
_EXTRA_ROOTS: list[str] = []  # --scenario-path DIR
WRAPPER_KEYS = {"value", "provenance", "source", "unit", "note", "range"}
MAX_EXTENDS_DEPTH = 32
MAX_FILE_LOADS = 256  # files read for one scenario, counting repeats: `take:` can fan out exponentially


@dataclass(frozen=True)
class Prov:
    kind: str  # seed | literature | assumption | calibrated | override | unstated
    source: str  # citation or explanation
    file: str  # file that set the value ("--set" for overrides)
    line: int | None
    range: tuple[float, float] | None = None  # the evidence range [low, high] of a number (drawn by the ensemble)


@dataclass
class Resolved:
    """A validated scenario with the provenance of every parameter."""

    scenario: Scenario
    values: dict[KeyPath, Any]
    prov: dict[KeyPath, Prov]
    files: list[str]
    marks: dict[str, dict[KeyPath, int]] = field(repr=False, default_factory=dict)
    extra_hash: str = ""
    # the parameters this scenario states itself (its own file, its `take:` sections, overrides),
    # as against those it inherits through `extends:`; not part of the hash
    own: frozenset = field(repr=False, default_factory=frozenset)
    roots: list[str] = field(repr=False, default_factory=list)  # where linked files may be (scenario_roots)

    @property
    def nested(self) -> dict:
        return nest(self.values)

    @property
    def hash(self) -> str:
        payload = json.dumps(self.nested, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256((payload + self.extra_hash).encode()).hexdigest()

    def where(self, path: KeyPath) -> tuple[str | None, int | None]:
        """File and line that set the parameter owning `path` (longest prefix)."""
        for n in range(len(path), 0, -1):
            p = self.prov.get(tuple(path[:n]))
            if p is not None:
                line = self.marks.get(p.file, {}).get(tuple(path), p.line)
                return p.file, line
        return (self.files[0] if self.files else None), None

    def error(self, path: KeyPath, message: str) -> InputError:
        file, line = self.where(path)
        return InputError(message, file, line, dotted(path))


# ---- schema walking ----------------------------------------------------------------------
def section_type(annotation: Any) -> type[Section] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, Section) else None


@functools.cache
def children(model: type[Section]) -> dict[str, type[Section] | None]:
    """The fields of a schema section in schema order, each with its section type (None for a
    parameter). Read per key of every file loaded: pydantic's `model_fields` is a property."""
    return {name: section_type(info.annotation) for name, info in model.model_fields.items()}


def parameters(model: type[Section] = Scenario, prefix: KeyPath = ()) -> dict[KeyPath, Any]:
    """Every parameter path of the schema with its FieldInfo, in schema order."""
    out: dict[KeyPath, Any] = {}
    for name, info in model.model_fields.items():
        sub = section_type(info.annotation)
        if sub is not None:
            out.update(parameters(sub, prefix + (name,)))
        else:
            out[prefix + (name,)] = info
    return out


PARAMS = parameters()


def field_meta(path: KeyPath) -> dict:
    info = PARAMS[path]
    extra = extra_of(info)
    measure = extra.get("measure")
    if measure is None:  # inherit the measure of the enclosing lever section
        model: type[Section] = Scenario
        for name in path[:-1]:
            finfo = model.model_fields[name]
            m = extra_of(finfo).get("measure")
            measure = m or measure
            model = section_type(finfo.annotation) or model
    return {"unit": extra.get("unit", ""), "measure": measure, "description": info.description or ""}


def _unknown(key: Any, allowed: Iterable[str], file: str, line: int | None, path: KeyPath) -> InputError:
    allowed = list(allowed)
    guess = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {guess[0]!r}?)" if guess else f"; expected one of: {', '.join(allowed)}"
    return InputError(f"unknown key {key!r:.60}{hint}", file, line, dotted(path + (key,)) if path else str(key))


def _unwrap(val: dict, path: KeyPath, file: str, marks: dict[KeyPath, int]) -> tuple[Any, Prov]:
    line = marks.get(path)
    for k in val:
        if k not in WRAPPER_KEYS:
            raise InputError(
                f"unknown key {k!r:.60} next to 'value' (allowed: {', '.join(sorted(WRAPPER_KEYS))})",
                file,
                marks.get(path + (k,), line),
                dotted(path),
            )
    kind = val.get("provenance", "unstated")  # a {value: ...} without provenance is as unstated as a bare value
    if "provenance" in val and kind not in PROVENANCE_KINDS:
        raise InputError(
            f"provenance must be one of {', '.join(PROVENANCE_KINDS)}, got {kind!r:.60}",
            file,
            marks.get(path + ("provenance",), line),
            dotted(path),
        )
    source = val.get("source", "")
    if not isinstance(source, str):
        raise InputError("source must be text", file, marks.get(path + ("source",), line), dotted(path))
    if kind in ("literature", "calibrated") and not source.strip():
        raise InputError(
            f"provenance {kind!r} needs a source (citation or calibration target)", file, line, dotted(path)
        )
    unit = val.get("unit")
    if unit is not None and path not in PARAMS:
        raise InputError(
            f"unit {unit!r:.60}: a section has no unit (give units on its parameters)",
            file,
            marks.get(path + ("unit",), line),
            dotted(path),
        )
    if unit is not None and path in PARAMS and unit != field_meta(path)["unit"]:
        raise InputError(
            f"unit {unit!r:.60} does not match the schema's unit {field_meta(path)['unit']!r}",
            file,
            marks.get(path + ("unit",), line),
            dotted(path),
        )
    return val["value"], Prov(kind, source, file, line, _range(val, path, file, marks, line))


def _range(
    val: dict, path: KeyPath, file: str, marks: dict[KeyPath, int], line: int | None
) -> tuple[float, float] | None:
    """The evidence range `range: [low, high]` of a number: two finite numbers, low <= value <= high."""
    if "range" not in val:
        return None
    rng = val["range"]
    where = marks.get(path + ("range",), line)
    ok = (
        isinstance(rng, list)
        and len(rng) == 2
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in rng)
    )
    if not ok:
        raise InputError(f"range must be [low, high], two numbers; got {rng!r:.60}", file, where, dotted(path))
    lo, hi = float(rng[0]), float(rng[1])
    v = val.get("value")
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise InputError("range applies to a single number, not to this value", file, where, dotted(path))
    if not lo <= float(v) <= hi:
        raise InputError(f"value {v} lies outside its range [{lo:g}, {hi:g}]", file, where, dotted(path))
    return lo, hi


def _is_wrapper(val: Any) -> bool:
    return isinstance(val, dict) and "value" in val


def flatten(
    tree: Any,
    model: type[Section],
    path: KeyPath,
    file: str,
    marks: dict[KeyPath, int],
    out: dict[KeyPath, tuple[Any, Prov]],
    inherited: Prov | None = None,
) -> None:
    """Walk a YAML tree along the schema, collecting parameter values with provenance."""
    fields = children(model)
    if not isinstance(tree, dict):
        raise InputError(
            f"expected a section with keys {', '.join(fields)}; got {tree!r:.60}",
            file,
            marks.get(path),
            dotted(path) if path else None,
        )
    for key, val in tree.items():
        if path == () and key in ("extends", "take"):
            continue
        if key not in fields:
            raise _unknown(key, fields, file, marks.get(path + (key,)), path)
        sub = path + (key,)
        prov = inherited
        if _is_wrapper(val):
            val, prov = _unwrap(val, sub, file, marks)
        section = fields[key]
        if section is not None:
            flatten(val, section, sub, file, marks, out, prov)
        else:
            out[sub] = (val, prov or Prov("unstated", "", file, marks.get(sub)))


def nest(flat: dict[KeyPath, Any]) -> dict:
    root: dict = {}
    for path, val in flat.items():
        node = root
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = val
    return root


# ---- layers and extends ------------------------------------------------------------------
def configure_scenario_path(dirs: Iterable[str] | None) -> None:
    """Folders (besides the scenario's own folder tree) that `extends:`, `take:` and `countries_file` may name."""
    _EXTRA_ROOTS[:] = [os.path.realpath(d) for d in (dirs or [])]


def scenario_roots(top: str) -> list[str]:
    """The folders a scenario's linked files must lie in: the folder of the file given (and below it), the
    shipped scenarios, $SCSIM_SCENARIO_PATH and --scenario-path."""
    env = [d for d in os.environ.get(SCENARIO_PATH_ENV, "").split(os.pathsep) if d and "\x00" not in d]
    roots = [os.path.dirname(os.path.realpath(top)), *(os.path.realpath(d) for d in env), *_EXTRA_ROOTS]
    shipped = shipped_dir("scenarios")  # the clone's scenarios/, or a wheel's <prefix>/share/scsim/scenarios
    if shipped is not None:
        roots.append(os.path.realpath(shipped))
    return list(dict.fromkeys(roots))


def outside(target: str, roots: list[str]) -> bool:
    """Whether `target` (symlinks resolved) lies outside every one of `roots`."""
    try:
        real = os.path.realpath(target)
    except (ValueError, OSError):  # a NUL byte, a loop of links
        return True
    return not any(os.path.commonpath([real, r]) == r for r in roots)


def link_error(what: str, given: str, roots: list[str], file: str, line: int | None, key: str) -> InputError:
    return InputError(
        f"`{what}:` file {given!r:.200} is outside the scenario's folder ({roots[0]:.200}) and the "
        f"scenario path; move it there, or name its folder with --scenario-path DIR (or "
        f"{SCENARIO_PATH_ENV})",
        file,
        line,
        key,
    )


def _check_target(
    what: str, given: str, target: str, roots: list[str], file: str, line: int | None, key: str, shown: str
) -> None:
    """A linked scenario file: a YAML file (nothing else is ever read), inside the allowed folders."""
    if not given.lower().endswith(YAML_SUFFIXES):
        raise InputError(f"`{what}:` names {given!r:.200}, not a YAML file (*.yaml or *.yml)", file, line, key)
    if "\x00" in target:
        raise InputError(f"`{what}:` file {given!r:.200} not found", file, line, key)
    if roots and outside(target, roots):
        raise link_error(what, given, roots, file, line, key)
    if not os.path.isfile(target):
        problem = "is a directory" if os.path.isdir(target) else "not found"
        raise InputError(f"`{what}:` file {given!r:.200} {problem} (looked for {shown:.200})", file, line, key)


def _check_link(target: str, chain: list[str], what: str, file: str, line: int | None, key: str) -> None:
    """Refuse an `extends:`/`take:` link that closes a cycle or makes the chain too deep (before reading it)."""
    real = os.path.realpath(target)
    if real in chain:
        cycle = chain[chain.index(real) :] + [real]
        raise InputError(f"cyclic `{what}:` chain: " + " -> ".join(os.path.basename(c) for c in cycle), file, line, key)
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise InputError(f"`extends:`/`take:` chain deeper than {MAX_EXTENDS_DEPTH} files", file, line, key)


def _schema_marks(yaml_marks: dict[KeyPath, int]) -> dict[KeyPath, int]:
    """A file's marks by YAML path, and also by schema path: without the `value` of {value: ...} wrappers."""
    marks = dict(yaml_marks)
    by_schema: dict[KeyPath, int] = {}
    for ypath, line in marks.items():
        if "value" in ypath:
            by_schema.setdefault(tuple([k for k in ypath if k != "value"]), line)
    for spath, line in by_schema.items():
        marks.setdefault(spath, line)
    return marks


def _load_layers(
    path: str,
    shown: str,
    chain: list[str],
    marks_by_file: dict[str, dict],
    loads: list[str] | None = None,
    roots: list[str] | None = None,
) -> dict[KeyPath, tuple[Any, Prov]]:
    real = os.path.realpath(path)
    if real in chain:
        raise InputError("cyclic `extends:` chain: " + " -> ".join(chain + [real]), shown)
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise InputError(f"`extends:` chain deeper than {MAX_EXTENDS_DEPTH}", shown)
    loads = [] if loads is None else loads
    loads.append(real)
    if len(loads) > MAX_FILE_LOADS:
        raise InputError(f"`extends:`/`take:` read more than {MAX_FILE_LOADS} files", shown)
    key, data, yaml_marks = read_yaml_shared(path, shown)  # shared with the parse cache: read only
    if data is None:
        raise InputError("empty scenario file", shown, 1)
    if not isinstance(data, dict):
        raise InputError("a scenario file must be a mapping of sections", shown, 1)
    cached = _LAYERS.pop(key, None)
    marks = cached[0] if cached is not None else _schema_marks(yaml_marks)
    marks_by_file[shown] = dict(marks)
    flat: dict[KeyPath, tuple[Any, Prov]] = {}
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str) or not parent.strip():
            raise InputError("`extends:` must be a file path", shown, marks.get(("extends",)), "extends")
        ppath = os.path.join(os.path.dirname(path), parent)
        pshown = os.path.normpath(os.path.join(os.path.dirname(shown), parent))
        _check_target("extends", parent, ppath, roots or [], shown, marks.get(("extends",)), "extends", pshown)
        _check_link(ppath, chain + [real], "extends", shown, marks.get(("extends",)), "extends")
        flat.update(_load_layers(ppath, pshown, chain + [real], marks_by_file, loads, roots))
    flat.update(_take(data.get("take"), path, shown, marks, chain + [real], marks_by_file, loads, roots))
    if cached is not None:
        own = cached[1]
    else:
        own = {}
        flatten(data, Scenario, (), shown, marks, own)
    remember(_LAYERS, key, (marks, own), _LAYERS_MAX)
    # copies of the values, which are the parse cache's objects (a caller may change a list it is given)
    flat.update({p: (copy_plain(v), prov) for p, (v, prov) in own.items()})
    return flat


# each file's own layer (its marks by YAML and schema path, its parameters with provenance), by its
# content and label, as the parse cache holds files: the scenarios that extend or take one file (the
# shipped no_plan.yaml, most often) do not walk it along the schema again
_LAYERS: dict[tuple[bytes, str], tuple[dict[KeyPath, int], dict[KeyPath, tuple[Any, Prov]]]] = {}
_LAYERS_MAX = 32


def _take(
    spec: Any,
    path: str,
    shown: str,
    marks: dict[KeyPath, int],
    chain: list[str],
    marks_by_file: dict[str, dict],
    loads: list[str],
    roots: list[str] | None = None,
) -> dict[KeyPath, tuple[Any, Prov]]:
    """`take: [{from: other.yaml, keys: [levers.f1_pis, ...]}]`: copy whole sections from another scenario."""
    if spec is None:
        return {}
    if not isinstance(spec, list):
        raise InputError(
            "`take:` must be a list of {from: FILE, keys: [key.path, ...]}", shown, marks.get(("take",)), "take"
        )
    out: dict[KeyPath, tuple[Any, Prov]] = {}
    for i, item in enumerate(spec):
        line = marks.get(("take", i))
        if (
            not isinstance(item, dict)
            or set(item) != {"from", "keys"}
            or not isinstance(item["from"], str)
            or not isinstance(item["keys"], list)
            or not all(isinstance(k, str) for k in item["keys"])
        ):
            raise InputError(
                "each `take:` entry needs exactly `from: FILE` and `keys: [key.path, ...]`", shown, line, f"take.{i}"
            )
        src = os.path.join(os.path.dirname(path), item["from"])
        src_shown = os.path.normpath(os.path.join(os.path.dirname(shown), item["from"]))
        _check_target("take", item["from"], src, roots or [], shown, line, f"take.{i}", src_shown)
        _check_link(src, chain, "take", shown, line, f"take.{i}.from")
        other = _load_layers(src, src_shown, chain, marks_by_file, loads, roots)
        for key in item["keys"]:
            prefix = tuple(key.split("."))
            hits = {p: v for p, v in other.items() if p[: len(prefix)] == prefix}
            if not hits:
                raise InputError(f"`take:` key {key!r:.60} names no parameter", shown, line, f"take.{i}.keys")
            out.update(hits)
    return out


def parse_override(text: str) -> tuple[KeyPath, Any]:
    if "=" not in text:
        raise InputError(f"expected key.path=value, got {text!r:.80}", "--set")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise InputError(f"expected key.path=value, got {text!r:.80}", "--set")
    parts = tuple(int(p) if p.isascii() and p.isdigit() and len(p) <= 9 else p for p in key.split("."))
    value, _ = load_yaml_text(raw, f"--set {key}")
    return parts, value


def _whole(path: KeyPath, value: Any) -> Any:
    """An override of a whole-number parameter given as a float with no fraction (`1e3`, or 5.0 from
    a sampler) is that whole number; anything else is left for validation to judge."""
    from simulation.scenario.ranges import wants_int

    if not wants_int(path):
        return value
    fix = lambda v: int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2**53 else v  # noqa: E731
    return {k: fix(v) for k, v in value.items()} if isinstance(value, dict) else fix(value)


def apply_override(flat: dict[KeyPath, tuple[Any, Prov]], path: KeyPath, value: Any, label: str = "--set") -> None:
    """Set one parameter (or a whole section, or one key of a dict parameter) from outside a file."""
    prov = Prov("override", label, label, None)
    if path in PARAMS:
        flat[path] = (_whole(path, value), prov)
        return
    # a section: flatten the given mapping under it
    model: type[Section] = Scenario
    for i, k in enumerate(path):
        fields = children(model)
        if not isinstance(k, str) or k not in fields:
            raise _unknown(k, fields, label, None, path[:i])
        sub = fields[k]
        if sub is None:
            owner = path[: i + 1]
            if i + 2 == len(path) and owner in flat and isinstance(flat[owner][0], dict):
                # one key of a dict-valued parameter, e.g. market.levels_usd_bn.2023 or a schedule date
                new = dict(flat[owner][0])
                new[path[-1]] = _whole(owner, value)
                flat[owner] = (new, prov)
                return
            raise InputError(
                f"{dotted(owner)} is one parameter, not a section or mapping; "
                f"set it whole with --set {dotted(owner)}=VALUE",
                label,
                None,
                dotted(path),
            )
        model = sub
    out: dict[KeyPath, tuple[Any, Prov]] = {}
    flatten(value, model, path, label, {}, out, prov)
    flat.update(out)


# ---- validation --------------------------------------------------------------------------
_BRANCH_TAGS = ("float", "int", "bool", "str", "dict", "list", "tuple", "constrained", "function", "literal")


def _is_branch_tag(el: Any) -> bool:
    """pydantic names union members in error locations: 'constrained-float', 'dict[constrained-str,...]'."""
    return isinstance(el, str) and el != "[key]" and ("[" in el or el.split("-")[-1] in _BRANCH_TAGS)


def clean_loc(loc: tuple, data: Any = None) -> KeyPath:
    """The key path of a pydantic error location: keys of the input, without union-member names."""
    out, node = [], data
    for el in loc:
        if (
            isinstance(node, dict)
            and el in node
            or isinstance(node, list)
            and type(el) is int
            and -len(node) <= el < len(node)
        ):
            node = node[el]
        elif el == "[key]" or _is_branch_tag(el):
            continue
        else:
            node = None
        out.append(el)
    return tuple(out)


def describe_error(err: Mapping[str, Any]) -> str:
    msg = err.get("msg", "invalid value")
    if err.get("type") == "missing":
        return "missing: every parameter must be set (inherit them with `extends: no_plan.yaml`)"
    if err.get("type") == "extra_forbidden":
        return "unknown key"
    got = err.get("input")
    text = repr(got)
    if len(text) > 60:
        text = text[:57] + "..."
    if (err.get("ctx") or {}).get("pattern") == NAME_PATTERN:
        return f"a name needs 1-100 characters, no '/', '\\' or control characters, and no leading '.'; got {text}"
    if (err.get("ctx") or {}).get("pattern") == YEAR_MONTH_PATTERN or (
        err["loc"] and err["loc"][-1] == "[key]" and err.get("type", "").startswith("string")
    ):
        return f"expected a month YYYY-MM; got {text}"
    if err["loc"] and err["loc"][-1] == "[key]":
        return f"key {text}: {msg[0].lower() + msg[1:]}"
    return f"{msg[0].lower() + msg[1:]}; got {text}"


def is_schedule_param(path: KeyPath) -> bool:
    """True when the parameter accepts a dated schedule {YYYY-MM: value}."""
    ann = PARAMS[path].annotation
    return typing.get_origin(ann) is typing.Union and any(typing.get_origin(a) is dict for a in typing.get_args(ann))


def _normalise(path: KeyPath, value: Any, prov: Prov | None = None, marks: dict | None = None) -> Any:
    """Schedules may be keyed by year (2021: 30) as shorthand for January of that year."""
    if isinstance(value, dict) and path in PARAMS and is_schedule_param(path):
        out = {}
        for k, v in value.items():
            key = f"{k:04d}-01" if isinstance(k, int) and 0 < k < 10000 else k
            if key in out:
                file = prov.file if prov else None
                line = (marks or {}).get(file, {}).get(path + (k,), prov.line if prov else None)
                raise InputError(f"schedule date {key} given twice", file, line, dotted(path + (key,)))
            out[key] = v
        return dict(sorted(out.items(), key=lambda kv: str(kv[0])))
    return value


def _missing_where(r: Resolved, loc: KeyPath) -> tuple[str | None, int | None]:
    """The file (and line) that should have set a missing value.

    A value set whole but incomplete (an MOU entry without its date): the file that set it, at the
    deepest part it has. Otherwise the leaf-most file that opens the enclosing section, at the
    section's line; and when no file in the chain does, the leaf scenario at its first line."""
    for n in range(len(loc), 0, -1):
        pr = r.prov.get(tuple(loc[:n]))
        if pr is not None:
            own = r.marks.get(pr.file, {})
            for m in range(len(loc), n - 1, -1):
                if tuple(loc[:m]) in own:
                    return pr.file, own[tuple(loc[:m])]
            return pr.file, pr.line
    for n in range(len(loc) - 1, 0, -1):
        for f in r.files:
            line = r.marks.get(f, {}).get(tuple(loc[:n]))
            if line is not None:
                return f, line
    return (r.files[0], 1) if r.files else (None, None)


def validate(flat: dict[KeyPath, tuple[Any, Prov]], files: list[str], marks: dict[str, dict]) -> Resolved:
    values = {p: _normalise(p, v, pr, marks) for p, (v, pr) in flat.items()}
    prov = {p: pr for p, (_, pr) in flat.items()}
    resolved_stub = Resolved(scenario=None, values=values, prov=prov, files=files, marks=marks)  # type: ignore[arg-type]
    data = nest(values)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = clean_loc(err["loc"], data)
            file, line = resolved_stub.where(loc)
            # a union member rejecting the input's whole type (`rate_cut: {2019-07: abc}` is "not a
            # number") says less than the member that fits the type and complains about what is inside
            wrong_member = _is_branch_tag(err["loc"][-1]) and err.get("type", "").endswith("_type")
            errors.append((line or 0, file or "", loc, err, wrong_member))
        errors = [e for e in errors if not (e[4] and any(not o[4] and o[2][: len(e[2])] == e[2] for o in errors))]
        errors.sort(key=lambda e: (e[0] == 0, e[1] != files[0], e[0]))
        line, file, loc, err, _ = errors[0]
        message = describe_error(err)
        if err.get("type") == "missing":
            file, line = _missing_where(resolved_stub, loc)
            owner = next((loc[:n] for n in range(len(loc) - 1, 0, -1) if tuple(loc[:n]) in PARAMS), None)
            if owner is not None:  # inside a value set whole: an MOU without its date
                message = f"missing: each entry of {dotted(owner)} needs `{loc[-1]}`"
        raise InputError(message, file or None, line or None, dotted(loc)) from None
    resolved_stub.scenario = scenario
    return resolved_stub


def load_scenario(path: str, overrides: Iterable[str] = (), shown: str | None = None) -> Resolved:
    """Read, merge, override and validate a scenario; raises InputError on any bad input."""
    return load_with(path, [parse_override(text) for text in overrides], shown)


def load_with(
    path: str, overrides: Iterable[tuple[KeyPath, Any]] = (), shown: str | None = None, label: str = "--set"
) -> Resolved:
    """`load_scenario` with overrides given as (key path, value) pairs (the Python API's dict)."""
    from simulation.scenario.checks import check_semantics  # local import: checks need the country table

    shown = shown or path
    if "\x00" in str(path):
        raise InputError("file not found", shown)
    marks: dict[str, dict] = {}
    roots = scenario_roots(path)
    flat = _load_layers(path, shown, [], marks, roots=roots)
    own = _own_paths(path, shown, flat)
    for p, v in overrides:
        apply_override(flat, p, v, label)
        own |= {q for q, (_, pr) in flat.items() if pr.kind == "override"}
    files = list(marks)  # load order: the file itself, then what it extends or takes from
    resolved = validate(flat, files, marks)
    resolved.own = frozenset(own)
    resolved.roots = roots
    check_semantics(resolved)
    return resolved


def _own_paths(path: str, shown: str, flat: dict[KeyPath, tuple[Any, Prov]]) -> set[KeyPath]:
    """Parameters the top file sets itself or copies with `take:` (not those it `extends:`)."""
    data, _ = read_yaml_file(path, shown)  # parsed once already: a cached copy
    own = {p for p, (_, pr) in flat.items() if pr.file == shown}
    for item in (data.get("take") or []) if isinstance(data, dict) else []:
        for key in item.get("keys") or []:
            prefix = tuple(str(key).split("."))
            own |= {p for p in flat if p[: len(prefix)] == prefix}
    return own


def with_overrides(resolved: Resolved, overrides: dict[KeyPath, Any], label: str) -> Resolved:
    """A copy of a resolved scenario with some parameters replaced (for sweeps), re-validated."""
    from simulation.scenario.checks import check_semantics

    flat = {p: (v, resolved.prov[p]) for p, v in resolved.values.items()}
    for p, v in overrides.items():
        apply_override(flat, p, v, label)
    out = validate(flat, resolved.files, resolved.marks)
    out.own = resolved.own | {p for p, (_, pr) in flat.items() if pr.kind == "override"}
    out.roots = resolved.roots
    check_semantics(out)
    return out


def type_name(path: KeyPath) -> str:
    return str(typing.get_origin(PARAMS[path].annotation) or PARAMS[path].annotation)


def pick_baseline(name: str, given: Sequence[Any], scenarios: list[Resolved]) -> str:
    """The scenario `name` means: its name, or the path/file name/stem it was given as."""
    for g, r in zip(given, scenarios, strict=False):
        text = os.fspath(g) if isinstance(g, (str, os.PathLike)) else r.scenario.name
        if name in (text, r.scenario.name, os.path.basename(text), os.path.splitext(os.path.basename(text))[0]):
            return r.scenario.name
    raise InputError(
        f"baseline {name!r} is none of the compared scenarios ({', '.join(r.scenario.name for r in scenarios)})"
    )

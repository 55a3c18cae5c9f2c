"""Hostile and malformed scenario files: every one loads, or ends in one clean InputError.

Hypothesis writes thousands of files -- mutations of the real `scenarios/no_plan.yaml` tree,
unknown keys, raw YAML scalars, deep nesting, alias bombs, YAML tags, cyclic and broken
`extends:`/`take:`, binary garbage and random text -- and loads each with
`simulation.scenario.loader.load_scenario`. Any other exception fails the test, and so does a
message that is not one printable line starting with the file it blames, a load that runs past
HANG_SECONDS (a SIGALRM guard turns a hang into a failure), or a YAML tag that runs code.

Every file is written under pytest's tmp folder. The example database is off, and Hypothesis's own
caches go to a temporary folder (see _HOME), so nothing lands in the repository.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import math
import os
import re
import shutil
import signal
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import hypothesis.configuration
import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from simulation.scenario import yamlio
from simulation.scenario.errors import InputError
from simulation.scenario.loader import PARAMS, WRAPPER_KEYS, configure_scenario_path, load_scenario

ROOT = Path(__file__).resolve().parent.parent
NO_PLAN_TEXT = (ROOT / "scenarios" / "no_plan.yaml").read_text(encoding="utf-8")
BASE = yaml.safe_load(NO_PLAN_TEXT)  # the raw tree, with its {value, provenance, source} wrappers
HANG_SECONDS = 15
MAX_MESSAGE = 2000


# Hypothesis keeps caches and failure patches in ./.hypothesis, some while pytest collects and some
# after the last test: point it at a temporary folder for the session, removed when Python exits.
_HOME = tempfile.mkdtemp(prefix="scsim-fuzz-hypothesis-")
hypothesis.configuration.set_hypothesis_home_dir(_HOME)
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)


def fuzz_settings(n: int, seconds: float = 5.0) -> settings:
    # no example database (nothing written in the repo); no `explain` phase (slow, and only on failure)
    return settings(
        max_examples=n,
        deadline=timedelta(seconds=seconds),
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# ---- the tree of no_plan.yaml -------------------------------------------------------------
def _walk(node, path=()):
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, path + (i,))


def _get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


MONTH_KEY = re.compile(r"^\d{4}-\d{2}$")
NODES = list(_walk(BASE))
LEAVES = [p for p, n in NODES if p and not isinstance(n, (dict, list))]
# mappings whose keys are all fixed names (sections, wrappers, list items): an extra key is an error
CLOSED = [
    p for p, n in NODES if isinstance(n, dict) and n and all(isinstance(k, str) and not MONTH_KEY.match(k) for k in n)
]
SECTION_NAMES = sorted({str(k) for p, n in NODES if isinstance(n, dict) for k in n})
assert len(LEAVES) > 300 and len(CLOSED) > 100


def overlay(no_plan: Path, path: tuple, value, *, extra_key=None) -> dict:
    """The smallest scenario extending no_plan that sets leaf `path` of the raw tree to `value`, or
    (with extra_key) adds {extra_key: value} to the mapping at `path`. A list parameter is set
    whole (a copy with the change), and so is a {value: ...} wrapper that gets an extra key."""
    root: dict = {"extends": str(no_plan)}
    cut = next((i for i in range(1, len(path) + 1) if isinstance(_get(BASE, path[:i]), list)), None)
    if extra_key is not None and cut is None and path and "value" in _get(BASE, path):
        cut = len(path)  # copy the wrapper so that it stays a wrapper
    elif extra_key is None and cut is None and path[-1] != "value" and "value" in _get(BASE, path[:-1]):
        cut = len(path) - 1  # a wrapper's provenance/source/unit: likewise
    if cut is None:
        node = root
        for k in path if extra_key is not None else path[:-1]:
            node = node.setdefault(k, {})
        node[extra_key if extra_key is not None else path[-1]] = value
        return root
    node = root
    for k in path[: cut - 1]:
        node = node.setdefault(k, {})
    node[path[cut - 1]] = copy.deepcopy(_get(BASE, path[:cut]))
    node, rest = node[path[cut - 1]], path[cut:]
    for k in rest if extra_key is not None else rest[:-1]:
        node = node[k]
    node[extra_key if extra_key is not None else rest[-1]] = value
    return root


# ---- running one file ---------------------------------------------------------------------
class Hang(BaseException):
    """Raised by the alarm; a BaseException so no `except Exception` in the loader can eat it."""


@contextlib.contextmanager
def hang_guard(seconds: float = HANG_SECONDS):
    def alarm(signum, frame):
        raise Hang(f"loading took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def check_message(err: InputError) -> str:
    msg = str(err)
    assert msg.isprintable(), f"not one printable line: {msg!r}"
    assert len(msg) <= MAX_MESSAGE, f"message of {len(msg)} characters: {msg[:300]!r}..."
    assert err.message, msg
    assert err.file, f"the message names no file: {msg!r}"
    if err.file.isprintable():
        assert msg.startswith(err.file), msg
    assert err.file.startswith("--set") or os.path.exists(err.file) or (ROOT / err.file).exists(), (
        f"the message names a file that does not exist: {msg!r}"
    )
    if err.line is not None:
        assert isinstance(err.line, int) and err.line >= 1, msg
    return msg


def load(path: Path, overrides=()) -> InputError | None:
    """Load; return the InputError (checked) or None. Any other exception propagates."""
    with hang_guard():
        try:
            load_scenario(str(path), list(overrides))
        except InputError as err:
            check_message(err)
            return err
    return None


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A copy of the shipped scenarios plus a scratch folder, under pytest's tmp folder. Scratch files
    extend the copy, a folder beside theirs: it is put on the scenario path, as a user would."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    (root / "scratch").mkdir()
    configure_scenario_path([str(root / "scenarios")])
    yield root
    configure_scenario_path([])


@contextlib.contextmanager
def scratch(work: Path):
    """A fresh folder per example (removed afterwards), so no example sees another's files."""
    d = Path(tempfile.mkdtemp(dir=work / "scratch"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
    else:
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=10**9), encoding="utf-8")
    return path


# ---- values -------------------------------------------------------------------------------
SPECIAL_VALUES = [
    1e308,
    -1e308,
    5e-324,
    10**100,
    -(10**100),
    2**63,
    2**64 + 1,
    -1,
    -0.0,
    0,
    1,
    -1e-9,
    1 + 1e-9,
    1e6 + 1,
    math.nan,
    math.inf,
    -math.inf,
    "",
    " ",
    "nan",
    "inf",
    "1e308",
    "0x10",
    "yes",
    "~",
    "null",
    "2019-07",
    "2019-13",
    "0000-01",
    "9999-12",
    "x" * 100_000,
    "é" * 2000,
    "한국",
    "\x00",
    "\t\n\r",
    "\ufeff",
    "\u2028",
    "csv:",
    "csv:kotra_plan_2019",
    "csv:nope",
    "builtin",
    "/",
    "/dev/zero",
    "/dev/null",
    "..",
    "../../../../etc/passwd",
    "KWT",
    "ZZZ",
    "kwt",
    True,
    False,
    None,
    [],
    {},
    [[]],
    [{}],
    {"value": None},
    {"value": 1, "provenance": "bogus"},
    {"value": 1, "provenance": "literature"},
    {"value": 1, "provenance": ["seed"]},
    {"value": 1, "unit": "parsecs"},
    {"value": 1, "extra": 2},
    {"value": {"value": 1}},
    {2019: 1},
    {"2019-07": 1},
    {"2019-07": "x"},
    {"2031-01": 1},
    {"2019-13": 1},
    {0: 1},
    {-1: 1},
    {10**100: 1},
    {"2019-07": 0.001, 2019: 0.002},
    {"country": "KWT", "start": "2020-01"},
    [{"country": "KWT", "date": "2019-11"}],
    [{"country": "ZZZ", "date": "2019-11"}],
    ["asean", "moon"],
]
scalars = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
    st.integers(min_value=-(10**120), max_value=10**120),
)
hostile = st.one_of(
    st.sampled_from(SPECIAL_VALUES),
    st.floats(0, 1),
    st.integers(0, 12),
    st.booleans(),  # plausible values: some files load
    scalars,
    st.recursive(
        scalars,
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12) | st.integers(-5, 3000), kids, max_size=4)
        ),
        max_leaves=15,
    ),
)

# raw YAML text for a scalar position: literals a dumper would never write
RAW_SCALARS = [
    "0x" + "f" * 3000,
    "1" * 5000,
    "-" + "9" * 4400,
    "9:" * 2000 + "9",
    "0b" + "1" * 20000,
    "0o17",
    "+12",
    "1_000",
    "1e400",
    "-1e400",
    ".nan",
    ".NaN",
    ".inf",
    "-.inf",
    "0.",
    ".5",
    "1:30",
    "2019-07-01",
    "2019-07-01 10:00:00",
    "2019-07-01T10:00:00Z",
    "!!binary aGk=",
    "*undefined",
    "&a 1",
    "&a",
    "~",
    "'unclosed",
    '"unclosed',
    '"\\x"',
    '"\\uD800"',
    "|",
    ">",
    "[",
    "{",
    "]",
    "}",
    "? x",
    "- x",
    "x: y: z",
    "@x",
    "`x",
    "%x",
    "!",
    "!!",
    "! x",
    "!<> x",
    "!!str",
    "!!int",
    "!!int x",
    "!!float x",
    "!!bool maybe",
    "!!null x",
    "!!str 0.5",
    "!!float 5",
    "[1, 2",
    "{a: 1",
    "{a: 1, a: 2}",
    "[*a]",
    "<<",
    "<<: {a: 1}",
    "=",
    "yes",
    "Off",
    "y",
    "n",
    "\t1",
    "1 # comment",
    "#",
    "'it''s'",
    '"\\0"',
    '"\\e\\a\\b"',
    "|\n      multi\n      line",
    ">-\n      folded",
    "[[[[[[",
    "{{{{",
    "- - - -",
    "? [a]\n    : 1",
]
yamlish = st.text(alphabet="{}[]:,-?!&*|>#'\"\n \t%@`~.0123456789eExXabc_", max_size=60)


def raw_overlay(no_plan: Path, path: tuple, raw: str) -> str:
    """Block-style text extending no_plan whose leaf `path` (dict keys only) is the raw scalar text."""
    lines = [f"extends: {no_plan}"]
    for depth, key in enumerate(path[:-1]):
        lines.append("  " * depth + f"{key}:")
    lines.append("  " * (len(path) - 1) + f"{path[-1]}: {raw}")
    return "\n".join(lines) + "\n"


DICT_LEAVES = [p for p in LEAVES if all(isinstance(k, str) for k in p)]


# ---- tests --------------------------------------------------------------------------------
@fuzz_settings(800)
@given(path=st.sampled_from(LEAVES), value=hostile)
def test_a_mutated_leaf_loads_or_fails_cleanly(work, path, value):
    with scratch(work) as d:
        load(write(d / "mutated.yaml", overlay(work / "scenarios" / "no_plan.yaml", path, value)))


@fuzz_settings(500)
@given(path=st.sampled_from(DICT_LEAVES), raw=st.sampled_from(RAW_SCALARS) | yamlish)
def test_a_raw_yaml_scalar_loads_or_fails_cleanly(work, path, raw):
    with scratch(work) as d:
        load(write(d / "raw.yaml", raw_overlay(work / "scenarios" / "no_plan.yaml", path, raw)))


near_miss = st.builds(
    lambda name, i, c: name[:i] + c + name[i:],
    st.sampled_from(SECTION_NAMES),
    st.integers(0, 30),
    st.sampled_from("x_ 1t"),
)


@fuzz_settings(300)
@given(
    path=st.sampled_from(CLOSED + [()]),
    key=near_miss | st.text(min_size=1, max_size=40) | st.sampled_from(["Value", "levers ", "f5_co_entry"]),
    value=hostile,
)
def test_an_unknown_key_is_always_refused(work, path, key, value):
    mapping = _get(BASE, path)
    assume(key not in mapping and key not in WRAPPER_KEYS and key not in ("extends", "take", "<<"))
    with scratch(work) as d:
        f = write(d / "extra.yaml", overlay(work / "scenarios" / "no_plan.yaml", path, value, extra_key=key))
        err = load(f)
        assert err is not None, f"unknown key {key!r} under {path} was accepted"
        assert err.file == str(f), str(err)
        assert "unknown key" in err.message, str(err)
        assert err.line is not None, str(err)


@fuzz_settings(30, seconds=10)
@given(mutations=st.lists(st.tuples(st.sampled_from(LEAVES), hostile), min_size=1, max_size=3))
def test_a_mutated_standalone_tree_loads_or_fails_cleanly(work, mutations):
    tree = copy.deepcopy(BASE)
    for path, value in mutations:  # leaves have no children: every path stays valid
        _get(tree, path[:-1])[path[-1]] = value
    with scratch(work) as d:
        load(write(d / "standalone.yaml", tree))


TEXT_OPS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "duplicate", "swap", "insert", "indent", "dedent"]),
        st.integers(0, 10**6),
        st.sampled_from(list(":-[]{}#&*!|>'\" \t\nx0")),
    ),
    min_size=1,
    max_size=4,
)


@fuzz_settings(30, seconds=10)
@given(ops=TEXT_OPS)
def test_a_text_mutation_of_no_plan_loads_or_fails_cleanly(work, ops):
    with scratch(work) as d:
        load(write(d / "edited.yaml", mutated(NO_PLAN_TEXT, ops)))


def mutated(text: str, ops) -> str:
    """`text` with each (op, position, character) of `ops` applied to one of its lines."""
    lines = text.splitlines()
    for op, pos, ch in ops:
        i = pos % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = (i + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            col = pos % (len(lines[i]) + 1)
            lines[i] = lines[i][:col] + ch + lines[i][col:]
        elif op == "indent":
            lines[i] = " " + lines[i]
        else:
            lines[i] = lines[i][1:]
    return "\n".join(lines) + "\n"


def parsed(text: str, fast: bool) -> tuple:
    """What `load_yaml_text` gives, ("ok", data, lines) or ("error", message), on libyaml's path
    (`fast`) or on the pure-Python loader's alone."""
    try:
        return ("ok", *yamlio.load_yaml_text(text, "f.yaml", libyaml=fast))
    except InputError as exc:
        return ("error", str(exc))


@fuzz_settings(60, seconds=10)
@given(ops=TEXT_OPS)
@example(ops=[])  # the file as shipped
def test_libyaml_and_the_python_loader_read_a_file_alike(ops):
    """Scenarios are composed by libyaml when it can (seven times faster); what a file means, the
    line of every key and every message must not depend on which parser read it."""
    text = mutated(NO_PLAN_TEXT, ops)
    assert parsed(text, True) == parsed(text, False)


@pytest.mark.parametrize(
    "text",
    [
        *("1e-2", "6e-05", "25e-2", "2E-1", "+1e-1", "1_000e-4", "1e9", ".5", "-0.0", "1.5e3", "0x1f", "0o17"),
        *('"1e-2"', "'6e-05'", "!!str 1e-2", "|\n  1e-2\n", "[1e-2, 2, '3e1']", "{a: 1e3, b: x}"),
        *("yes", "no", "on", "~", "null", "2020-01", "2020-01-15", ".inf", ".nan", "12:30", "a: b: c"),
        # where the parsers disagree (libyaml accepts what PyYAML refuses): PyYAML's alone reads these
        *("[b?c]", "{a: 1, b?c: 2}", "a: 1\n\tb: 2", "[a,\tb]", "a: x\n\ufeff: y", "a: !", "a: [!, b]"),
        *("a: &x 1\nb: *x", "a: *nope"),
    ],
)
def test_an_override_value_reads_alike_on_both_parsers(text):
    """`--set key=VALUE` and sweep factors read VALUE as YAML: a number as YAML 1.2 and JSON write
    it (`1e-2`) is a number on both parsers (libyaml once marked it a quoted text, so `1e-2` stayed
    a string), a quoted one stays text, and a bad one is the same message."""
    assert parsed(text, True) == parsed(text, False)


@pytest.mark.parametrize(
    "path",
    sorted(str(p.relative_to(ROOT)) for p in [*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("experiments/**/*.yaml")]),
)
def test_every_shipped_file_reads_alike_on_both_parsers(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    if path.startswith("scenarios"):  # what every process loads goes the fast way (an experiment may not)
        assert yamlio._libyaml_node(text) is not None, "libyaml did not read it: the slow path served"
    fast = parsed(text, True)
    assert fast[0] == "ok" and fast == parsed(text, False)


@fuzz_settings(80, seconds=10)
@given(
    n=st.sampled_from([63, 64, 65, 66, 100, 1000, 10_000]) | st.integers(1, 3000),
    kind=st.sampled_from(["flow_seq", "flow_map", "block_map", "block_seq", "mixed"]),
    closed=st.booleans(),
    under=st.sampled_from([(), ("description",), ("levers", "t5_mou", "mous")]),
)
@example(n=1, kind="flow_seq", closed=True, under=("levers", "t5_mou", "mous"))  # `mous: []`: valid
def test_deep_nesting_is_refused_fast(work, n, kind, closed, under):
    if kind == "flow_seq":
        body = "[" * n + ("]" * n if closed else "")
    elif kind == "flow_map":
        body = "{a: " * n + "1" + ("}" * n if closed else "")
    elif kind == "mixed":
        body = "[{a: " * n + "1" + ("}]" * n if closed else "")
    elif kind == "block_map":
        body = "\n" + "".join("  " * (i + len(under) + 1) + "a:\n" for i in range(min(n, 1500)))
    else:
        body = "\n" + "".join("  " * (i + len(under) + 1) + "-\n" for i in range(min(n, 1500)))
    under = under or ("deep",)
    lines = [f"extends: {work / 'scenarios' / 'no_plan.yaml'}"]
    lines += ["  " * depth + f"{key}:" for depth, key in enumerate(under[:-1])]
    lines.append("  " * (len(under) - 1) + f"{under[-1]}: {body}")
    text = "\n".join(lines) + "\n"
    with scratch(work) as d:
        start = time.perf_counter()
        err = load(write(d / "deep.yaml", text))
        if body == "[]" and under[-1] == "mous":
            assert err is None, "an empty list of MOUs is a valid scenario"  # the one shallow valid case
        else:
            assert err is not None, "a deeply nested document was accepted"
        assert time.perf_counter() - start < 10


def alias_bomb(levels: int, width: int, key: str) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\n{key}: *a{levels - 1}\n"


@fuzz_settings(50, seconds=10)
@given(
    levels=st.integers(1, 12),
    width=st.integers(1, 60),
    key=st.sampled_from(["name", "levers", "market", "description"]),
)
def test_alias_bombs_are_refused_fast(work, levels, width, key):
    text = f"extends: {work / 'scenarios' / 'no_plan.yaml'}\n" + alias_bomb(levels, width, key)
    with scratch(work) as d:
        start = time.perf_counter()
        err = load(write(d / "bomb.yaml", text))
        assert err is not None  # a0... are unknown keys, and a list is not a name/section anyway
        assert time.perf_counter() - start < 5
        if width**levels > 200_000:
            assert "too large" in err.message, str(err)


# tags that would build Python objects or other non-plain data: always refused, never run
OBJECT_TAGS = [
    '!!python/object/apply:os.system ["touch {s}"]',
    '!!python/object/apply:subprocess.check_call [["touch", "{s}"]]',
    '!!python/object/new:subprocess.Popen [["touch", "{s}"]]',
    "!!python/object:builtins.object {{}}",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object/apply:builtins.exec [\"open('{s}', 'w').close()\"]",
    "!!python/tuple [1, 2]",
    "!!python/str x",
    "!!python/bytes eA==",
    "!!python/complex 1+2j",
    "!!binary aGVsbG8=",
    "!!set {{a, b}}",
    "!!omap [{{a: 1}}]",
    "!!pairs [{{a: 1}}]",
    "!!timestamp 2019-07-01",
    "!foo bar",
    "!foo {{a: 1}}",
    "!foo [1]",
    "!<tag:example.com,2000:x> 1",
    "!!merge x",
    "!!value =",
    "!!map [1]",
    "!!seq {{a: 1}}",
    "!!int [1]",
    "!!str {{a: 1}}",
]
PLAIN_TAGS = [
    "!!str 3",
    "!!int 3",
    "!!float 0.5",
    "!!bool true",
    "!!null ~",
    "!!str",
    "!!int abc",
    "!!float x",
    "!!bool maybe",
    "!!map {{}}",
    "!!seq []",
]


@fuzz_settings(250)
@given(
    tag=st.sampled_from(OBJECT_TAGS + PLAIN_TAGS),
    where=st.sampled_from(["value", "item", "key", "document", "directive", "nested"]),
    key=st.sampled_from(DICT_LEAVES),
)
def test_yaml_tags_never_construct_objects(work, tag, where, key):
    with scratch(work) as d:
        sentinel = d / "SENTINEL"
        t = tag.format(s=sentinel)
        head = f"extends: {work / 'scenarios' / 'no_plan.yaml'}\n"
        if where == "value":
            text = raw_overlay(work / "scenarios" / "no_plan.yaml", key, t)
        elif where == "item":
            text = head + f"levers:\n  n6_intl_orgs:\n    regions: [asean, {t}]\n"
        elif where == "key":
            text = head + f"? {t}\n: 1\n"
        elif where == "document":
            text = f"--- {t}\n"
        elif where == "directive":
            text = (
                "%TAG !py! tag:yaml.org,2002:python/object/apply:\n---\n"
                + head
                + f'name: !py!os.system ["touch {sentinel}"]\n'
            )
        else:
            text = head + f"market:\n  scheduled:\n    value:\n      - name: {t}\n"
        err = load(write(d / "tagged.yaml", text))
        assert not sentinel.exists(), "a YAML tag ran code"
        if tag in OBJECT_TAGS or where == "directive":
            assert err is not None, f"tag {t!r} ({where}) was accepted"
            assert err.file == str(d / "tagged.yaml") and err.line is not None, str(err)


@fuzz_settings(100)
@given(
    k=st.integers(1, 6),
    links=st.lists(st.sampled_from(["extends", "take"]), min_size=6, max_size=6),
    entry=st.integers(0, 5),
)
def test_cyclic_extends_and_take_are_refused(work, k, links, entry):
    no_plan = work / "scenarios" / "no_plan.yaml"
    with scratch(work) as d:
        names = [d / f"c{i}.yaml" for i in range(k)]
        for i, f in enumerate(names):
            nxt = names[(i + 1) % k].name
            if links[i] == "extends":
                write(f, f"extends: {nxt}\nname: c{i}\n")
            else:
                write(f, f"extends: {no_plan}\ntake:\n  - from: {nxt}\n    keys: [levers.f1_pis]\nname: c{i}\n")
        err = load(names[entry % k])
        assert err is not None
        assert "cyclic" in err.message, str(err)
        assert err.file in {str(f) for f in names} and err.line is not None, str(err)
        assert err.key in ("extends", "take.0.from"), str(err)


TARGETS = [
    "directory",
    "parent-directory",
    "non-utf8",
    "garbage",
    "empty",
    "list",
    "scalar",
    "missing",
    "empty-string",
    "null",
    "number",
    "list-value",
    "nul-byte",
    "long-name",
    "fifo",
    "symlink-loop",
    "bom",
    "utf16",
    "comment-only",
    "document-end",
    "two-documents",
]


# what the parent file holds, for the targets that are a file with that content
TARGET_FILES: dict[str, str | bytes] = {
    "non-utf8": b"name: caf\xe9\nlevers: {}\n",
    "empty": b"",
    "list": "- 1\n- 2\n",
    "scalar": "just text\n",
    "bom": b"\xef\xbb\xbfextends: nothere.yaml\n",
    "utf16": "name: x\n".encode("utf-16"),
    "comment-only": "# nothing here\n",
    "document-end": "...\n",
    "two-documents": "name: a\n---\nname: b\n",
}
# what `extends:`/`from:` says, for the targets that are a bad reference rather than a bad file
TARGET_REFS: dict[str, object] = {
    "parent-directory": "..",
    "missing": "nothere.yaml",
    "empty-string": "",
    "null": None,
    "number": 3,
    "list-value": ["parent.yaml"],
    "nul-byte": "par\x00ent.yaml",
    "long-name": "x" * 5000 + ".yaml",
}


def make_target(d: Path, target: str, garbage: bytes) -> object:
    """Make the broken parent `target` names in folder d; what the child's reference to it says."""
    p = d / "parent.yaml"
    if target in TARGET_REFS:
        return TARGET_REFS[target]
    if target in TARGET_FILES:
        write(p, TARGET_FILES[target])
    elif target == "directory":
        p.mkdir()
    elif target == "garbage":
        write(p, garbage + b"\xff\xfe\x00")
    elif target == "fifo":
        os.mkfifo(p)
    else:
        assert target == "symlink-loop", target
        os.symlink(d / "loop2.yaml", d / "loop1.yaml")
        os.symlink(d / "loop1.yaml", d / "loop2.yaml")
        return "loop1.yaml"
    return "parent.yaml"


@fuzz_settings(200)
@given(target=st.sampled_from(TARGETS), via=st.sampled_from(["extends", "take"]), garbage=st.binary(max_size=300))
def test_broken_extends_and_take_targets_are_refused(work, target, via, garbage):
    assert set(TARGETS) == set(TARGET_FILES) | set(TARGET_REFS) | {"directory", "garbage", "fifo", "symlink-loop"}
    with scratch(work) as d:
        ref = make_target(d, target, garbage)
        if via == "extends":
            doc = {"extends": ref, "name": "child"}
        else:
            doc = {
                "extends": str(work / "scenarios" / "no_plan.yaml"),
                "take": [{"from": ref, "keys": ["levers.f1_pis"]}],
            }
        child = write(d / "child.yaml", doc)
        err = load(child)
        assert err is not None, f"{via} to a {target} was accepted"
        if target == "null" and via == "extends":  # `extends: null` means no parent: the file is incomplete
            assert "missing" in err.message, str(err)
        elif target not in (
            "garbage",
            "non-utf8",
            "utf16",
            "two-documents",
            "list",
            "scalar",
            "empty",
            "comment-only",
            "document-end",
            "bom",
        ):
            assert err.file == str(child) and err.line is not None, str(err)  # blamed on the link


months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(1, 12))


@fuzz_settings(250)
@given(
    start=months,
    end=months,
    years=st.lists(st.integers(1990, 2100), min_size=1, max_size=3, unique=True),
    level=st.floats(1e-6, 1e6),
    cagr=st.floats(-0.5, 1.0),
)
def test_any_horizon_and_market_loads_or_fails_cleanly(work, start, end, years, level, cagr):
    doc = {
        "extends": str(work / "scenarios" / "no_plan.yaml"),
        "time": {"start": start, "end": end},
        "market": {
            "cagr": cagr,
            "cagr_after": cagr,
            "levels_usd_bn": {y: level * (1 + cagr) ** (y - years[0]) for y in sorted(years)},
        },
    }
    with scratch(work) as d:
        load(write(d / "horizon.yaml", doc))


COUNTRY_ROWS = (ROOT / "simulation" / "data" / "countries.csv").read_text(encoding="utf-8").splitlines()
COUNTRY_PATHS = [
    "",
    ".",
    "..",
    "/",
    "/dev/zero",
    "/dev/null",
    "/proc/self/status",
    "nothere.csv",
    "x" * 5000,
    "a\x00b",
    "../scenarios/no_plan.yaml",
    "builtin",
    "BUILTIN",
    "countries.csv/",
]


@fuzz_settings(300)
@given(
    row=st.integers(0, len(COUNTRY_ROWS) - 1),
    col=st.integers(0, 14),
    cell=st.sampled_from(
        [
            "",
            "nan",
            "inf",
            "-1",
            "1e400",
            "8",
            "ZZZ",
            "IDN",
            "2019-13",
            "\x00",
            '"',
            "x" * 200_000,
            "1" * 5000,
            "asean",
            "high",
            "0",
            "1",
            "2",
        ]
    )
    | st.text(max_size=20),
    drop=st.booleans(),
    path=st.sampled_from(COUNTRY_PATHS + ["table.csv"] * 6),
)
def test_a_broken_country_table_fails_cleanly(work, row, col, cell, drop, path):
    rows = [r.split(",") for r in COUNTRY_ROWS]  # the builtin table has no quoted commas in the columns we edit
    cells = rows[row]
    if col < len(cells):
        cells[col] = cell
    if drop:
        del rows[min(row + 1, len(rows) - 1)]
    with scratch(work) as d:
        write(d / "table.csv", "\n".join(",".join(r) for r in rows) + "\n")
        doc = {"extends": str(work / "scenarios" / "no_plan.yaml"), "world": {"countries_file": path}}
        load(write(d / "uses_table.yaml", doc))


# `take:` that fans out (each file takes from the next one several times) must stop, not run for ages
def test_exponential_take_fan_out_is_refused_fast(work):
    no_plan = work / "scenarios" / "no_plan.yaml"
    with scratch(work) as d:
        n = 30
        write(d / f"f{n}.yaml", f"extends: {no_plan}\nname: f{n}\n")
        for i in range(n - 1, -1, -1):
            take = "".join(f"  - from: f{i + 1}.yaml\n    keys: [levers]\n" for _ in range(3))
            write(d / f"f{i}.yaml", f"extends: f{i + 1}.yaml\ntake:\n{take}name: f{i}\n")
        start = time.perf_counter()
        err = load(d / "f0.yaml")
        assert err is not None and "files" in err.message, err
        assert time.perf_counter() - start < 10


@fuzz_settings(600)
@given(data=st.binary(max_size=3000))
def test_binary_garbage_fails_cleanly(work, data):
    with scratch(work) as d:
        assert load(write(d / "garbage.yaml", data)) is not None


@fuzz_settings(500)
@given(text=st.text(max_size=1500))
def test_random_text_fails_cleanly(work, text):
    with scratch(work) as d:
        assert load(write(d / "text.yaml", text)) is not None


@fuzz_settings(600)
@given(text=yamlish, prefix=st.booleans())
def test_yaml_like_text_fails_cleanly(work, text, prefix):
    with scratch(work) as d:
        head = f"extends: {work / 'scenarios' / 'no_plan.yaml'}\n" if prefix else ""
        load(write(d / "yamlish.yaml", head + text))


set_keys = st.one_of(
    st.sampled_from([".".join(p) for p in PARAMS]),
    st.sampled_from([".".join(p[:-1]) for p in PARAMS if len(p) > 1]),
    st.builds(
        lambda p, k: ".".join(p) + "." + k,
        st.sampled_from(list(PARAMS)),
        st.sampled_from(["2023", "2019-07", "0", "x", "²", "1" * 50, ""]),
    ),
    st.text(max_size=40),
)


@fuzz_settings(500)
@given(key=set_keys, raw=st.sampled_from(RAW_SCALARS) | yamlish | st.text(max_size=20), eq=st.booleans())
def test_set_overrides_fail_cleanly(work, key, raw, eq):
    load(work / "scenarios" / "no_plan.yaml", [f"{key}={raw}" if eq else key + raw])

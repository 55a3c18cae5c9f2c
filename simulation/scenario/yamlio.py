"""Safe YAML reading that remembers the line of every key.

Only YAML's plain data types are constructed (never Python objects); anchors/aliases,
deep nesting and very large documents are bounded so hostile files fail fast and cleanly.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from simulation.scenario.errors import InputError

MAX_BYTES = 2_000_000
MAX_NODES = 50_000  # no_plan.yaml has about 2,000; pure-Python parsing runs about 30,000 values a second
MAX_DEPTH = 64
MAX_INT_DIGITS = 300
MAX_INT_BITS = 997  # 2**997 has 301 digits: a bigger int could not even be printed in a message

KeyPath = tuple  # a key path into a YAML document: a tuple of str (mapping keys) and int (list indexes)
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"
# a number as YAML 1.2 and JSON write it; PyYAML reads YAML 1.1, where `1e-2`, `6e-05` (Python's
# str(0.00006)) and `1.5e3` are text because 1.1 floats need a dot and a signed exponent
_NUMBER = re.compile(r"[-+]?(\.[0-9][0-9_]*|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?")


def dotted(path: KeyPath) -> str:
    return ".".join(str(p) for p in path) if path else "<top>"


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops composing past MAX_DEPTH levels or MAX_NODES nodes: a hostile file fails
    at once, with its line, instead of after a long parse or at Python's recursion limit."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file, self.depth, self.nodes = file, 0, 0

    def fail(self, msg: str) -> None:
        raise InputError(msg, self.file, self.peek_event().start_mark.line + 1)

    def compose_node(self, parent, index):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(f"document too large (more than {MAX_NODES} values)")
        if self.depth > MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH} levels")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Walker:
    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader, self.file, self.count = loader, file, 0
        self.marks: dict[KeyPath, int] = {}

    def fail(self, node, msg: str, path: KeyPath) -> None:
        raise InputError(msg, self.file, node.start_mark.line + 1, dotted(path) if path else None)

    def scalar(self, node: ScalarNode, path: KeyPath, number: bool = False):
        """A plain value; with `number`, an unquoted YAML 1.2/JSON number read as text by YAML 1.1 is a float."""
        if node.tag == _TIMESTAMP:
            self.fail(node, f"a full date ({node.value}) is not supported: write months as YYYY-MM", path)
        if node.tag not in _PLAIN_TAGS:
            self.fail(node, f"unsupported YAML tag {node.tag!r:.80}: scenario files hold plain data only", path)
        try:
            value = self.loader.construct_object(node, deep=True)
        except Exception:  # e.g. `!!int abc`, `!!bool maybe`, or an int literal of thousands of digits
            kind = node.tag.rsplit(":", 1)[-1]
            self.fail(node, f"cannot read {node.value[:40]!r} as {kind}", path)
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            self.fail(node, f"number too large (more than {MAX_INT_DIGITS} digits)", path)
        if (
            number
            and isinstance(value, str)
            and not node.style  # plain: None from PyYAML's parser, '' from libyaml's
            and node.tag == _STR
            and len(node.value) <= 64
            and _NUMBER.fullmatch(node.value)
        ):
            value = float(node.value.replace("_", ""))
        return value

    def walk(self, node, path: KeyPath, depth: int):
        self.count += 1
        if self.count > MAX_NODES:
            self.fail(node, f"document too large (more than {MAX_NODES} values, or runaway aliases)", path)
        if depth > MAX_DEPTH:
            self.fail(node, f"nesting deeper than {MAX_DEPTH} levels", path)
        self.marks.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path, number=True)
        if isinstance(node, SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self.fail(node, f"unsupported YAML tag {node.tag!r:.80}: scenario files hold plain data only", path)
            return [self.walk(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                self.fail(node, f"unsupported YAML tag {node.tag!r:.80}: scenario files hold plain data only", path)
            out: dict = {}
            for knode, vnode in node.value:
                if not isinstance(knode, ScalarNode) or knode.tag not in _PLAIN_TAGS | {_TIMESTAMP}:
                    self.fail(knode, "mapping keys must be plain names, years or YYYY-MM dates", path)
                key = self.scalar(knode, path)
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    self.fail(knode, f"mapping key {key!r:.60} must be a name, a year or a YYYY-MM date", path)
                if key == "<<":
                    self.fail(knode, "YAML merge keys (<<) are not supported; use `extends:`", path)
                if key in out:
                    self.fail(knode, f"duplicate key {key!r:.60}", path + (key,))
                self.marks[path + (key,)] = knode.start_mark.line + 1
                out[key] = self.walk(vnode, path + (key,), depth + 1)
            return out
        self.fail(node, "unreadable YAML node", path)


# text the two parsers read differently (tests/test_scenario_fuzz.py found them): control characters,
# which PyYAML refuses up front; `?`, tabs and byte-order marks, for libyaml accepts `[b?c]`, some
# tabs and a mark inside the text, which PyYAML refuses; `!`, for `a: !` is '' to libyaml and None
# to PyYAML; `*`, so that aliases (never needed in a scenario) are PyYAML's alone; and the YAML 1.1
# line breaks besides \n and \r
_NOT_FOR_LIBYAML = re.compile(yaml.reader.Reader.NON_PRINTABLE.pattern + "|[\t?!*\x85\u2028\u2029\ufeff]")


def _libyaml_node(text: str) -> tuple[Any, object] | None:
    """(loader, node) of a well-formed, bounded document, composed by libyaml (about seven times
    faster than PyYAML's own parser: 20 ms against 145 ms for no_plan.yaml, paid by every process
    that loads a scenario); None when libyaml is missing or the text is anything else.

    The events are counted first (libyaml's parser keeps its own stack, so a deep or huge document
    cannot exhaust Python's), and composing starts only within MAX_DEPTH and MAX_NODES. Text that
    is not well formed, or that the two parsers read differently (`_NOT_FOR_LIBYAML`), goes to the
    pure-Python loader, whose messages (and their lines) the tests fix; the walk after either is
    the same code."""
    if not getattr(yaml, "__with_libyaml__", False) or _NOT_FOR_LIBYAML.search(text):
        return None
    opened = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closed = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        depth = 0
        for count, event in enumerate(yaml.parse(text, Loader=yaml.CSafeLoader), start=1):
            if isinstance(event, opened):
                depth += 1
            elif isinstance(event, closed):
                depth -= 1
            if depth > MAX_DEPTH or count > MAX_NODES:
                return None
        loader = yaml.CSafeLoader(text)
        try:
            return loader, loader.get_single_node()  # two documents: an error, for PyYAML to word
        except BaseException:
            loader.dispose()
            raise
    except yaml.YAMLError:
        return None


def load_yaml_text(text: str, file: str, libyaml: bool = True) -> tuple[object, dict[KeyPath, int]]:
    """Parse YAML text into plain data plus {key path: line} (`libyaml=False`: PyYAML's own parser only)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError(f"file larger than {MAX_BYTES // 1_000_000} MB", file)
    fast = _libyaml_node(text) if libyaml else None
    if fast is not None:
        return _walked(*fast, file)
    try:
        loader = _Loader(text, file)
    except yaml.reader.ReaderError as exc:  # raised up front for a str stream: control characters
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(
            f"malformed YAML: character #x{exc.character:04x} is not allowed "
            "(control characters cannot appear in YAML text)",
            file,
            line,
        ) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            mark_line = mark.line + 1 if mark else None
            where = ""  # e.g. the line that opened an unclosed bracket
            if exc.problem and exc.context and exc.context_mark and exc.context_mark.line + 1 != mark_line:
                where = f" ({exc.context} opened on line {exc.context_mark.line + 1})"
            raise InputError(
                f"malformed YAML: {exc.problem or exc.context or 'unreadable'}{where}", file, mark_line
            ) from None
        except yaml.YAMLError as exc:
            raise InputError(f"malformed YAML: {type(exc).__name__}", file) from None
        except RecursionError:
            raise InputError("malformed YAML: nesting too deep", file) from None
    except BaseException:
        loader.dispose()
        raise
    return _walked(loader, node, file)


def _walked(loader: Any, node: object, file: str) -> tuple[object, dict[KeyPath, int]]:
    """The plain data of a composed document and the line of every key (the loader is disposed of)."""
    try:
        if node is None:
            return None, {}
        walker = _Walker(loader, file)
        try:
            data = walker.walk(node, (), 0)
        except RecursionError:
            raise InputError("nesting too deep", file) from None
        return data, walker.marks
    finally:
        loader.dispose()


YAML_SUFFIXES = (".yaml", ".yml")


def read_yaml_shared(path: str, shown: str) -> tuple[tuple[bytes, str], object, dict[KeyPath, int]]:
    """(the file's key: its content's hash and label, the parsed data, the marks), the data and the
    marks shared with the cache of parsed files: the caller must not change them (`read_yaml_file`
    gives copies)."""
    if not str(path).lower().endswith(YAML_SUFFIXES) and os.path.exists(path) and not os.path.isdir(path):
        raise InputError(
            "not a YAML file: scenario, experiment, calibration and parameter-set files are named *.yaml or *.yml",
            shown,
        )
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError("file not found", shown) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a YAML file", shown) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", shown) from None
    except ValueError:  # a NUL byte in the path
        raise InputError("file not found", shown) from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"file larger than {MAX_BYTES // 1_000_000} MB", shown)
    key = (hashlib.sha256(raw).digest(), shown)
    parsed = _PARSED.pop(key, None)  # put back last: the file used latest is evicted last
    if parsed is None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise InputError(f"not UTF-8 text (byte {exc.start})", shown, line) from None
        parsed = load_yaml_text(text, shown)
    remember(_PARSED, key, parsed, _PARSED_MAX)
    return key, *parsed


def read_yaml_file(path: str, shown: str) -> tuple[object, dict[KeyPath, int]]:
    """Parse a YAML file; a file not named *.yaml or *.yml is never read (its contents never reach a message)."""
    _, data, marks = read_yaml_shared(path, shown)
    return copy_plain(data), dict(marks)


def remember(cache: dict, key: Any, value: Any, size: int) -> None:
    """cache[key] = value, dropping the entries used longest ago beyond `size`. Threads that load at
    once may each parse a file the other has taken out; none fails (every step tolerates a miss)."""
    cache[key] = value
    while len(cache) > size:
        with contextlib.suppress(StopIteration, KeyError, RuntimeError):
            cache.pop(next(iter(cache)), None)


def copy_plain(data):
    """A deep copy of plain YAML data (dicts, lists, scalars), several times faster than copy.deepcopy."""
    if isinstance(data, dict):
        return {k: copy_plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [copy_plain(v) for v in data]
    return data


# parsed files by content: a scenario set reads no_plan.yaml once per file that extends it, and the
# pure-Python YAML parser is the slowest step of loading. Callers get copies, never the cached objects.
_PARSED: dict[tuple[bytes, str], tuple[object, dict[KeyPath, int]]] = {}
_PARSED_MAX = 32

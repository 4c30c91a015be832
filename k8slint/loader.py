"""Text to documents: plain data for the rules, the composed node tree for positions.

Manifests are composed (not constructed) by libyaml; this module turns the node tree into
plain dicts, lists and scalars itself, so that

- no tag is ever constructed as a Python object (``!!python/object/apply`` stays a string),
- aliases become shared objects, built once (an alias bomb costs its node count, not its
  expansion),
- duplicate keys are seen (lenient decoding keeps the last value, as Kubernetes does),
- positions stay in the node tree, looked up only for the few paths that a finding names.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, TypeGuard

import yaml
from yaml import SafeLoader
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml's composer; the pure-Python one gives the same nodes, only slower.
    from yaml import CSafeLoader as _FastestLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    # The stubs see two unrelated classes under one name; either is a loader class here.
    _FastestLoader = SafeLoader  # type: ignore[assignment,misc]


_PLAIN = "?plain"  # a plain scalar whose type is decided when its value is built
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _DeferredTyping:
    """A composer mix-in that leaves scalar typing to :func:`scalar_value`.

    The composer asks the resolver about every node; answering without looking (and
    without path resolvers) saves a fifth of the load time, and each plain scalar is
    typed once, when its value is built.
    """

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type[Node], value: object, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP


class _Loader(_DeferredTyping, _FastestLoader):
    pass


class PurePythonLoader(_DeferredTyping, SafeLoader):
    """The same composition in pure Python: where libyaml is missing, and for tests that
    prove both paths give the same findings.

    PyYAML's own scanner refuses a tab between a value and the end of its line (or a
    comment), which libyaml and the Kubernetes decoder accept; those tabs become spaces,
    one for one, so columns stay true. (A trailing tab inside a block scalar is the one
    value this changes; no rule reads one.)
    """

    _TRAILING_TABS = r"[ \t]*\t[ \t]*(?=#|\r?\n|\r|$)"  # compiled on first use (re's cache)

    def __init__(self, stream: str | bytes) -> None:
        if isinstance(stream, str) and "\t" in stream:
            stream = re.sub(self._TRAILING_TABS, lambda m: " " * len(m.group()), stream)
        super().__init__(stream)

Path = tuple  # keys (str) and list indexes (int) from an object's root


class Position(NamedTuple):
    """A 1-based span in a file; columns count Unicode code points."""

    line: int
    column: int
    end_line: int
    end_column: int


class DuplicateKey(NamedTuple):
    key: str
    node: Node  # the repeated key
    first: Node  # where the key first appears


class Document:
    """One document of a stream: its data for the rules, its nodes for positions."""

    __slots__ = ("index", "root", "data", "duplicates")

    def __init__(self, index: int, root: Node, data: Any = None):
        self.index = index  # 0-based position in the YAML stream
        self.root = root
        self.data = data
        self.duplicates: list[DuplicateKey] = []


class ParseProblem(NamedTuple):
    message: str
    line: int
    column: int


class LoadedFile(NamedTuple):
    documents: list[Document]
    problem: ParseProblem | None = None  # set when the file stops parsing part-way


# --- decoding -------------------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


class DecodeProblem(Exception):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.problem = ParseProblem(message, line, column)


def decode(raw: bytes) -> str:
    """Bytes to text: UTF-8 with or without BOM, or UTF-16 with BOM; nothing else guessed."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom):], name
            break
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode(encoding, "replace")) + 1
        raise DecodeProblem(
            f"the file is not valid {encoding.upper()} text "
            f"(byte 0x{raw[exc.start]:02x} cannot be decoded); manifests must be UTF-8",
            line,
            column,
        ) from None


# --- composing ------------------------------------------------------------------------------


def load_text(text: str, *, json_file: bool = False, loader_class: type | None = None) -> LoadedFile:
    """Compose every document of a YAML (or JSON) stream; a syntax error ends the stream.

    Documents before the error are kept: a broken second document must not hide the first.
    """
    if json_file:
        # JSON allows tabs wherever it allows spaces; YAML does not in indentation. Outside
        # strings a tab is only white space, and inside them JSON forbids raw tabs, so
        # swapping them one for one keeps every column and the meaning.
        text = text.replace("\t", " ")
    documents: list[Document] = []
    loader = (loader_class or _Loader)(text)
    try:
        while loader.check_node():
            root = loader.get_node()
            if root is None:
                continue
            documents.append(_document(len(documents), root))
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):
            # Whether the composer gets this far depends on the caller's stack depth; the
            # event parser below gives the same answer whatever it is.
            return LoadedFile(documents, _too_deep(text, loader_class or _Loader))
        return _marked_problem(exc, text, documents, json_file)
    except yaml.YAMLError as exc:  # reader errors: characters YAML does not allow
        position = getattr(exc, "position", None)
        line, column = _line_column(text, position) if position is not None else (1, 1)
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        return LoadedFile(documents, ParseProblem(f"invalid YAML: {reason}", line, column))
    except ExcessiveAliasing as exc:
        mark = exc.anchor.start_mark
        return LoadedFile(documents, ParseProblem(
            f"excessive aliasing: aliases expand this document past {exc.expanded:,} nodes "
            f"(a YAML alias bomb?); Kubernetes refuses such documents, and it was not linted",
            mark.line + 1, mark.column + 1,
        ))
    except (RecursionError, UnboundLocalError):
        # The composer recurses once per level, and past about a thousand levels it fails
        # without a position (a RecursionError, or a broken frame on the way out). The
        # event parser does not recurse: it finds the first node too deep, to point at.
        return LoadedFile(documents, _too_deep(text, loader_class or _Loader))
    finally:
        loader.dispose()
    if json_file and text.lstrip()[:1] in ("{", "["):
        # YAML's flow syntax also accepts what JSON does not (trailing commas, comments,
        # unquoted keys); kubectl reads a file that starts with "{" as strict JSON.
        problem = _json_problem(text)
        if problem is not None:
            return LoadedFile([], problem)
    return LoadedFile(documents)


MAX_DEPTH = 1000  # levels of nesting, as libyaml's composer allows


def _too_deep(text: str, loader_class: type) -> ParseProblem:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader_class):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    start = event.start_mark  # the parser marks every event it makes
                    line, column = (start.line + 1, start.column + 1) if start is not None else (1, 1)
                    return ParseProblem(
                        f"the document nests deeper than {MAX_DEPTH:,} levels (exceeded maximum "
                        f"nesting depth); it was not linted", line, column)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:  # libyaml's scanner limits flow nesting itself
        mark = exc.problem_mark
        if mark is not None:
            return ParseProblem(
                f"the document nests deeper than {MAX_DEPTH:,} levels (exceeded maximum "
                f"nesting depth); it was not linted", mark.line + 1, mark.column + 1)
    except yaml.YAMLError:
        pass
    return ParseProblem("the document nests too deeply to be read (exceeded maximum nesting "
                        "depth); it was not linted", 1, 1)


def _marked_problem(exc: yaml.MarkedYAMLError, text: str, documents: list[Document],
                    json_file: bool) -> LoadedFile:
    if json_file:
        json_problem = _json_problem(text)
        if json_problem is not None:
            return LoadedFile([], json_problem)
    mark = exc.problem_mark
    end = len(text.rstrip())
    if exc.context_mark is not None and (mark is None or mark.index >= end):
        # Stopped at the end of the file: what was left open is the place to fix.
        mark = exc.context_mark
    if mark is None:
        line, column = 1, 1
    elif mark.index >= end:  # still past the last character: point just after it
        line, column = _line_column(text, end)
    else:
        line, column = mark.line + 1, mark.column + 1
    return LoadedFile(documents, ParseProblem(_yaml_message(exc, line, end), line, column))


# What the parser's words usually mean in a manifest.
_HINTS = (
    ("did not find expected key", "a line is indented differently from the keys around it"),
    ("did not find expected '-' indicator", "a list item is indented differently from the items before it"),
    ("mapping values are not allowed",
     "a 'key:' where a value was expected: check the indentation, or quote a value that contains ': '"),
    ("could not find expected ':'", "a key without ':', or a quote that is never closed"),
    ("found character '\\t' that cannot start any token", "tabs cannot indent YAML: use spaces"),
    ("found character that cannot start any token", "tabs cannot indent YAML: use spaces"),
    ("found undefined alias", "an alias (*name) with no anchor (&name) before it"),
    ("did not find expected ',' or ']'", "a '[' that is never closed"),
    ("did not find expected ',' or '}'", "a '{' that is never closed"),
    ("found unexpected end of stream", "a quote that is never closed"),
)


def _yaml_message(exc: yaml.MarkedYAMLError, reported_line: int, end: int) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    context = exc.context_mark
    if exc.context and context and context.line + 1 != reported_line and context.index < end:
        parts[0] = f"{exc.context} (from line {context.line + 1})"
    message = "invalid YAML: " + (": ".join(parts) if parts else "syntax error")
    problem = exc.problem or ""
    for words, hint in _HINTS:
        if problem.startswith(words):
            return f"{message} ({hint})"
    return message


def _json_problem(text: str) -> ParseProblem | None:
    """For a .json file, JSON's own diagnosis is the one its author will understand."""
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        hint = ""
        if text.startswith(("/", "#"), exc.pos):
            hint = " (JSON allows no comments)"
        elif text.startswith(("}", "]"), exc.pos) and text[: exc.pos].rstrip().endswith(","):
            hint = " (JSON allows no comma before a closing bracket)"
        return ParseProblem(f"invalid JSON: {exc.msg}{hint}", exc.lineno, exc.colno)
    except RecursionError:
        return None  # YAML's own diagnosis, with its position, stands
    except ValueError:
        # Valid JSON that Python will not convert (a number of more than 4,300 digits):
        # the document is read as YAML reads it, which keeps such a number.
        return None
    return None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --- constructing plain data ----------------------------------------------------------------

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"

# Plain scalars as the Kubernetes decoder reads them: kubectl and the API machinery turn
# YAML into JSON with sigs.k8s.io/yaml, whose go-yaml (v2) resolves plain text by these
# rules, close to YAML 1.1's but not the same: `y` and `n` are booleans, `1e3` is a number,
# and `1:30` (YAML 1.1's base 60) stays text.
_NAN, _INF = float("nan"), float("inf")
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), _NAN),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), _INF),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -_INF),
}
_NUMERIC_START = frozenset("+-0123456789.")
_MISSING = object()
# A timestamp (text to the API, written as a date), Go's integer syntax (strconv.ParseInt
# with base 0: 0x, 0o, 0b, and a leading 0 for octal) and go-yaml's float syntax.
_TIMESTAMP = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d*)?"
                        r"(?:[ \t]*(?:Z|[-+]\d{1,2}(?::?\d{2})?))?)?")
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INT_BASES = {"x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2}


def plain_value(text: str) -> Any:
    """A plain (unquoted) scalar's value, as the Kubernetes decoder reads it."""
    found = _WORDS.get(text, _MISSING)
    if found is not _MISSING:
        return found
    if text[0] not in _NUMERIC_START:
        return text
    if text[0] == ".":
        return float(text) if _GO_FLOAT.fullmatch(text) else text
    if _TIMESTAMP.fullmatch(text):
        return text
    plain = text.replace("_", "")
    match = _GO_INT.fullmatch(plain) if len(plain) < 100 else None  # longer: past int64 anyway
    if match is not None:
        sign, digits = match.groups()
        if len(digits) > 1 and digits[0] == "0":
            base = _INT_BASES.get(digits[1], 8)
            number = int(digits[2:] if base != 8 or digits[1] in "oO" else digits[1:], base)
        else:
            number = int(digits)
        value = -number if sign == "-" else number
        if -(2**63) <= value < 2**64 and not (value >= 2**63 and sign):
            return value  # (past 2**63 only unsigned, as ParseUint reads it)
    if _GO_FLOAT.fullmatch(plain):
        real = float(plain)
        if real not in (_INF, -_INF):  # out of float64's range: Go keeps the text
            return real
    return text


def json_key(key: Any) -> str:
    """A key that YAML read as a number, boolean or null, as the API server sees it once
    the YAML is JSON (``1`` is ``"1"``, ``on`` is ``"true"``)."""
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, float) and key.is_integer() and abs(key) < 1e21:
        return str(int(key))
    return str(key)


def _is_merge(key: Node) -> bool:
    return key.tag == _MERGE or (key.tag == _PLAIN and key.value == "<<")


# Kubernetes' own decoder refuses documents whose aliases expand them enormously; past
# this many nodes, expanded, and this many times the nodes actually written, so do we.
MAX_EXPANDED_NODES = 1_000_000
MAX_EXPANSION_RATIO = 10


class ExcessiveAliasing(Exception):
    def __init__(self, anchor: Node, expanded: int):
        super().__init__(anchor)
        self.anchor = anchor
        self.expanded = expanded


def _document(index: int, root: Node) -> Document:
    doc = Document(index, root, None)
    doc.data = _Builder(doc.duplicates).build(root)
    return doc


class _Builder:
    """Plain data from nodes; each node is built once, so shared (aliased) nodes share data.

    Nothing is ever walked twice: an alias costs one lookup. What the document would be,
    expanded, is still counted, so that an alias bomb (a few hundred bytes that expand to
    billions of nodes) is refused, as Kubernetes refuses it, instead of handed to rules
    and reports that might expand it.
    """

    __slots__ = ("memo", "duplicates", "sizes", "expanded", "unique")

    def __init__(self, duplicates: list[DuplicateKey]):
        self.memo: dict[int, Any] = {}
        self.duplicates = duplicates
        self.sizes: dict[int, int] = {}  # a collection's expanded node count
        self.expanded = 0
        self.unique = 0

    def build(self, node: Node) -> Any:
        self.expanded += 1
        if type(node) is ScalarNode:
            return scalar_value(node)
        built = self.memo.get(id(node))
        if built is not None:  # an alias: counted at its expanded size, built once
            self.expanded += self.sizes.get(id(node), 0)
            if self.expanded > MAX_EXPANDED_NODES and self.expanded > MAX_EXPANSION_RATIO * self.unique:
                raise ExcessiveAliasing(node, self.expanded)
            return built
        self.unique += len(node.value) + 1
        before = self.expanded
        if type(node) is SequenceNode:
            items: list = []
            self.memo[id(node)] = items
            for item in node.value:
                if type(item) is ScalarNode:  # most items: built here, without a call
                    self.expanded += 1
                    if item.tag == _PLAIN and not item.style:
                        text = item.value
                        value = _WORDS.get(text, _MISSING)
                        if value is _MISSING:
                            value = plain_value(text) if text[0] in _NUMERIC_START else text
                        items.append(value)
                    else:
                        items.append(scalar_value(item))
                else:
                    items.append(self.build(item))
            self.sizes[id(node)] = self.expanded - before
            return items
        mapping: dict = {}
        self.memo[id(node)] = mapping
        merged: list[MappingNode] = []
        firsts: dict | None = None  # key -> its first key node, made on the first repeat
        key: Any
        for key_node, value_node in node.value:
            # Scalar keys and values (nearly all of them) are built here, as build() and
            # scalar_value() would build them, without a call each.
            if type(key_node) is ScalarNode:
                tag = key_node.tag
                if tag == _MERGE or (tag == _PLAIN and key_node.value == "<<"):
                    merged.extend(_merge_sources(value_node))
                    continue
                self.expanded += 1
                if tag == _PLAIN and not key_node.style:
                    text = key_node.value
                    key = _WORDS.get(text, _MISSING)
                    if key is _MISSING:
                        key = plain_value(text) if text[0] in _NUMERIC_START else text
                else:
                    key = scalar_value(key_node)
            else:
                if _is_merge(key_node):
                    merged.extend(_merge_sources(value_node))
                    continue
                key = self.build(key_node)
                if not isinstance(key, (str, int, float, bool, type(None))):
                    key = str(key)
            if key in mapping:
                if firsts is None:
                    firsts = {}
                    for k, _ in node.value:
                        if not _is_merge(k):
                            firsts.setdefault(_hashable(self.build(k)), k)
                self.duplicates.append(DuplicateKey(str(key), key_node, firsts[key]))
            if type(value_node) is ScalarNode:
                self.expanded += 1
                if value_node.tag == _PLAIN and not value_node.style:
                    text = value_node.value
                    value = _WORDS.get(text, _MISSING)
                    if value is _MISSING:
                        value = plain_value(text) if text[0] in _NUMERIC_START else text
                    mapping[key] = value
                else:
                    mapping[key] = scalar_value(value_node)
            else:
                mapping[key] = self.build(value_node)
        for source in merged:  # explicit keys win over merged ones, earlier sources first
            for key, value in self.build(source).items():
                mapping.setdefault(key, value)
        self.sizes[id(node)] = self.expanded - before
        return mapping


def _hashable(key: Any) -> Any:
    return key if isinstance(key, (str, int, float, bool, type(None))) else str(key)


def _merge_sources(node: Node) -> list[MappingNode]:
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode):
        return [item for item in node.value if isinstance(item, MappingNode)]
    return []


def scalar_value(node: ScalarNode) -> Any:
    """A scalar as the Kubernetes YAML decoder reads it (see ``plain_value``).

    Quoted and block scalars are text whatever their tag; of explicit tags, only YAML's
    own types are honoured (``!!int 5``), and no tag is ever constructed as an object.
    """
    tag, value = node.tag, node.value
    if tag == _STR or node.style:
        return value
    if tag == _PLAIN or tag in (_INT, _FLOAT, _BOOL, _NULL):
        return plain_value(value)
    return value  # `=`, custom tags: the text itself


# --- positions ------------------------------------------------------------------------------


def locate(node: Node, path: Path) -> Position:
    """Where ``path`` points below ``node``: the key of a present field, the first line of a
    list item, or, for a missing field, the deepest key that exists on the way to it."""
    target = _span(node, None)
    for step in path:
        found = _child(node, step)
        if found is None:
            break
        anchor, node = found
        target = _span(node, anchor)
    return target


def _child(node: Node, step: Any) -> tuple[Node | None, Node] | None:
    """(key node or None for list items, value node) for one path step."""
    if isinstance(node, MappingNode):
        match = None
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                continue
            if isinstance(key_node, ScalarNode) and _key_equals(key_node, step):
                match = (key_node, value_node)  # the last one wins, as in the data
        if match is not None:
            return match
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                for source in _merge_sources(value_node):
                    found = _child(source, step)
                    if found is not None:
                        return found
        return None
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return None, node.value[step]
    return None


def _key_equals(key_node: ScalarNode, step: Any) -> bool:
    if isinstance(step, str):
        return key_node.value == step and scalar_value(key_node) == step
    return scalar_value(key_node) == step


def _span(node: Node, key: Node | None) -> Position:
    if key is not None:
        return node_span(key)
    if isinstance(node, MappingNode) and node.value:
        first_key = node.value[0][0]
        if first_key.start_mark.line == node.start_mark.line:
            start, end = node.start_mark, first_key.end_mark
            return Position(start.line + 1, start.column + 1, end.line + 1, end.column + 1)
    if isinstance(node, ScalarNode):
        return node_span(node)
    start = node.start_mark
    return Position(start.line + 1, start.column + 1, start.line + 1, start.column + 2)


def node_span(node: Node) -> Position:
    start, end = node.start_mark, node.end_mark
    if end.line != start.line:  # a multi-line scalar: mark its first line only
        return Position(start.line + 1, start.column + 1, start.line + 1, start.column + 2)
    return Position(start.line + 1, start.column + 1, end.line + 1, max(end.column, start.column + 1) + 1)


def paths_to(root: Node, targets: list[Node]) -> dict[int, Path]:
    """The paths of the entries whose keys (or items) are ``targets``, by the target's id;
    one walk for all of them (used for the rare findings found on nodes, not paths)."""
    wanted = {id(t) for t in targets}
    found: dict[int, Path] = {}
    stack: list[tuple[Node, Path]] = [(root, ())]
    seen: set[int] = set()
    while stack and len(found) < len(wanted):
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                step = scalar_value(key_node) if isinstance(key_node, ScalarNode) else "?"
                if id(key_node) in wanted:
                    found.setdefault(id(key_node), path + (step,))
                stack.append((value_node, path + (step,)))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                if id(item) in wanted:
                    found.setdefault(id(item), path + (i,))
                stack.append((item, path + (i,)))
    return found


# A part of a value that a template or envsubst fills in later: Helm's ``{{ ... }}`` (an
# unclosed one runs to the end), ``${VAR}``, Kubernetes' ``$(VAR)``, ``$VAR``, and any other
# ``$``. The one definition of "templated": every rule that skips such values asks here.
TEMPLATED_PART = re.compile(r"\{\{.*?(?:\}\}|$)|\$(?:\{[^}]*\}?|\([^)]*\)?|\w*)", re.DOTALL)


def is_templated(text: str) -> bool:
    """Whether some part of ``text`` is filled in later, so its value cannot be judged."""
    return TEMPLATED_PART.search(text) is not None


def is_literal(value: object) -> TypeGuard[str]:
    """False for text that a template or envsubst fills in later: never guess its value."""
    return isinstance(value, str) and not is_templated(value)


def mask_templated(text: str, mask: str = "\0") -> str:
    """``text`` with every templated part overwritten by ``mask`` characters, keeping its
    length, so that the literal parts keep their offsets and a template's own ``/``, ``:``
    or ``@`` cannot be mistaken for the text's."""
    return TEMPLATED_PART.sub(lambda m: mask * len(m.group()), text)


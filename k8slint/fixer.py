"""Fixes to text: each edit spliced in at the positions the loader's nodes carry.

A file is never dumped again as a whole: every byte outside an edit stays as it was
(comments, blank lines, quoting, sequence indentation, CRLF, a BOM). What an edit inserts
follows its neighbours: a block mapping gets lines at its keys' column, nested mappings
the file's indentation step; a flow mapping (and a JSON object) is edited inside its
braces, as JSON in a .json file. ruamel.yaml writes every inserted YAML value (quoting,
escaping), and is imported here only.

After the splices, the text is loaded again: every document must read exactly as the
original with the intended edits made on its data, or the file is left alone and the
caller is told why.
"""

from __future__ import annotations

import bisect
import copy
import functools
import json
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .fixes import REMOVE, RENAME, SET, Edit, Fix, NotApplicable, apply_edit
from .loader import LoadedFile, load_text, scalar_value

_BREAK = re.compile(r"\r\n|\r|\n|\x85|\u2028|\u2029")
_UTF8_BOM = b"\xef\xbb\xbf"


class Refused(Exception):
    """An edit, or a whole file, that cannot be made here; the message says why."""


class Splice(NamedTuple):
    start: int
    end: int
    text: str
    order: int  # inserts at one offset keep the order of their edits...
    # ...after the deeper ones: lines closing a nested mapping come before its parent's
    depth: int = 0


class Planned(NamedTuple):
    """One fix to make: where its object sits in the file, and its edits."""

    unit: tuple  # (document index, List item index or -1)
    fix: Fix


class Outcome(NamedTuple):
    new: bytes | None  # the edited file, or None when nothing was changed
    applied: list[Planned]  # the fixes made
    skipped: list[tuple[Planned, str]]  # fixes left out, each with its reason


def fix_bytes(raw: bytes, planned: Sequence[Planned], *, json_file: bool) -> Outcome:
    """The file with every fix it can take made; raises Refused for a file it will not edit
    (not UTF-8, does not parse, or would not read back as intended)."""
    bom, text, loaded = _readable(raw, json_file)
    new_text, made, skipped = fix_text(text, loaded, planned, json_file=json_file)
    if not made:
        return Outcome(None, [], skipped)
    return Outcome((_UTF8_BOM if bom else b"") + new_text.encode("utf-8"), made, skipped)


def _readable(raw: bytes, json_file: bool) -> tuple[bool, str, LoadedFile]:
    """Whether the file starts with a UTF-8 BOM, its text after it, and what it reads as;
    Refused for a file that is not edited."""
    bom = raw.startswith(_UTF8_BOM)
    body = raw[len(_UTF8_BOM):] if bom else raw
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("UTF-16 files are not edited")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("the file is not UTF-8") from None
    loaded = load_text(text, json_file=json_file)
    if loaded.problem is not None:
        raise Refused("the file does not parse")
    return bom, text, loaded


def fix_text(text: str, loaded: LoadedFile, planned: Sequence[Planned], *,
             json_file: bool) -> tuple[str, list[Planned], list[tuple[Planned, str]]]:
    """Plan every fix's splices (a fix whose edits cannot all be made is skipped), apply
    them, and check what the new text reads as."""
    editor = _Editor(text, json_file, loaded)
    splices: list[Splice] = []
    made: list[Planned] = []
    skipped: list[tuple[Planned, str]] = []
    taken: list[tuple[int, int]] = []  # spans replaced so far: another fix may not touch them
    for item in planned:
        try:
            node, _ = _object_node(loaded, item.unit)
            own = [editor.splice(node, edit, len(splices) + i) for i, edit in enumerate(item.fix.edits)]
            for s in own:
                if any(s.start < end and start < s.end for start, end in taken) or (
                        s.start != s.end and any(start <= s.start < end or start < s.end <= end
                                                 for start, end in taken)):
                    raise Refused("another fix edits the same text")
        except (Refused, NotApplicable) as exc:
            skipped.append((item, str(exc)))
            continue
        taken.extend((s.start, s.end) for s in own if s.start != s.end)
        splices.extend(own)
        made.append(item)
    if not made:
        return text, [], skipped
    new = _spliced(text, splices)
    _verify(loaded, new, made, json_file)
    return new, made, skipped


class Replacement(NamedTuple):
    """A region of the original text and what replaces it, as SARIF writes one: lines from
    1, columns from 1 in code points, the end exclusive; lines end at CR, LF or CRLF, and
    a UTF-8 BOM is not part of the first line."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    text: str


# When the fixes of a file, made together, do not read back as intended, each is checked
# alone, a parse of the file each: this many at most, the others are given no replacements.
MAX_SEPARATE_CHECKS = 100


def fix_replacements(raw: bytes, planned: Sequence[Planned], *,
                     json_file: bool) -> list[list[Replacement] | None]:
    """Each fix as replacements of the file's text, the splices ``fix`` makes for it: None
    for a fix that cannot be made, or whose text would not read back as intended, and for
    every fix of a file ``fix`` does not edit. The fixes are checked together (one parse);
    when that fails, one by one."""
    try:
        _, text, loaded = _readable(raw, json_file)
    except Refused:
        return [None] * len(planned)
    editor = _Editor(text, json_file, loaded)
    own: list[list[Splice] | None] = []
    for item in planned:
        try:
            node, _ = _object_node(loaded, item.unit)
            own.append([editor.splice(node, edit, i) for i, edit in enumerate(item.fix.edits)])
        except (Refused, NotApplicable):
            own.append(None)
    made = [(item, splices) for item, splices in zip(planned, own, strict=True) if splices is not None]
    try:
        _verify(loaded, _spliced(text, [s for _, splices in made for s in splices]),
                [item for item, _ in made], json_file)
    except (Refused, NotApplicable):
        checks = 0
        for n, (item, splices) in enumerate(zip(planned, own, strict=True)):
            if splices is None:
                continue
            checks += 1
            try:
                if checks > MAX_SEPARATE_CHECKS:
                    raise Refused("not checked")
                _verify(loaded, _spliced(text, splices), [item], json_file)
            except (Refused, NotApplicable):
                own[n] = None
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    out: list[list[Replacement] | None] = []
    for splices in own:
        try:
            out.append(None if splices is None else [
                _replacement(text, starts, start, end, new) for start, end, new in _merged(text, splices)])
        except Refused:
            out.append(None)
    return out


# The line ends SARIF counts lines by.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _merged(text: str, splices: list[Splice]) -> list[tuple[int, int, str]]:
    """Splices as regions that neither overlap nor touch (SARIF's replacements must not
    overlap): splices at one offset, or running into each other, become one region whose
    text is what ``_spliced`` makes of them."""
    regions: list[tuple[int, int, str]] = []
    for s in sorted(splices, key=lambda s: (s.start, -s.depth, s.order)):
        if regions and s.start <= regions[-1][1]:
            start, end, new = regions[-1]
            regions[-1] = (start, max(end, s.end), new + text[end:max(end, s.start)] + s.text)
        else:
            regions.append((s.start, s.end, s.text))
    return regions


def _replacement(text: str, starts: list[int], start: int, end: int, new: str) -> Replacement:
    """One region as lines and columns. An insertion after the file's last line break
    would be on a line the file does not have: it is made at the end of the last line
    instead, before that break (the same text results)."""
    brk = next((b for b in ("\r\n", "\n", "\r") if text.endswith(b)), "")
    if start == len(text) and brk:
        if not new.endswith(brk):
            raise Refused("the insertion at the end of the file does not end its line")
        start = end = len(text) - len(brk)
        new = brk + new[:-len(brk)]
    (line, column), (end_line, end_column) = _position(starts, start), _position(starts, end)
    return Replacement(line, column, end_line, end_column, new)


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect.bisect_right(starts, offset) - 1
    return line + 1, offset - starts[line] + 1


def _spliced(text: str, splices: list[Splice]) -> str:
    out, at = [], 0
    for s in sorted(splices, key=lambda s: (s.start, -s.depth, s.order)):
        out.append(text[at:s.start])
        out.append(s.text)
        at = max(at, s.end)
    out.append(text[at:])
    return "".join(out)


def _object_node(loaded: LoadedFile, unit: tuple) -> tuple[Node, tuple]:
    document, item = unit
    if not 0 <= document < len(loaded.documents):
        raise Refused("the document is gone")
    root = loaded.documents[document].root
    if item < 0:
        return root, ()
    items = _value(root, "items")
    if not isinstance(items, SequenceNode) or not 0 <= item < len(items.value):
        raise Refused("the List item is gone")
    return items.value[item], ("items", item)


def _verify(loaded: LoadedFile, new: str, made: list[Planned], json_file: bool) -> None:
    """The new text must read as the old data with exactly the intended edits made."""
    expected = [d.data for d in loaded.documents]
    by_document: dict[int, list[tuple[tuple, Edit]]] = {}
    for item in made:
        prefix = ("items", item.unit[1]) if item.unit[1] >= 0 else ()
        by_document.setdefault(item.unit[0], []).extend((prefix, e) for e in item.fix.edits)
    for index, edits in by_document.items():
        data = copy.deepcopy(expected[index])  # once a document: a copy per edit is quadratic
        for prefix, edit in edits:
            apply_edit(data, prefix + edit.path, edit)
        expected[index] = data
    again = load_text(new, json_file=json_file)
    if again.problem is not None:
        raise Refused(f"the edited file would not parse ({again.problem.message}); left untouched")
    if len(again.documents) != len(expected):
        raise Refused("the edited file would have another number of documents; left untouched")
    for document, before, want in zip(again.documents, loaded.documents, expected, strict=True):
        if len(document.duplicates) > len(before.duplicates):
            raise Refused(f"document {document.index + 1} would repeat a key; left untouched")
        if document.data != want:
            raise Refused(f"document {document.index + 1} would read differently from the original "
                          f"with the intended change; left untouched")


# --- the editor -----------------------------------------------------------------------------


class _Editor:
    """Turns one edit into one splice of ``text``."""

    def __init__(self, text: str, json_file: bool, loaded: LoadedFile):
        self.text = text
        self.json = json_file
        self.shared = _shared_nodes(loaded, text)
        found = _BREAK.search(text)
        self.newline = found.group() if found and found.group() in ("\r\n", "\r", "\n") else "\n"

    def splice(self, obj: Node, edit: Edit, order: int) -> Splice:
        node = obj
        path = edit.path
        for i, step in enumerate(path[:-1]):
            self._not_shared(node, path)
            child = _child(node, step)
            if child is None:
                if edit.op != SET or not isinstance(node, MappingNode):
                    raise Refused(f"nothing at {_dotted(path[:i + 1])}")
                value: Any = edit.value
                for key in reversed(path[i + 1:]):
                    value = {key: value}
                return self._insert(node, step, value, None, order)
            node = child[1]
        self._not_shared(node, path)
        if not isinstance(node, MappingNode):
            raise Refused(f"{_dotted(path[:-1]) or 'the object'} is not a mapping")
        last = path[-1]
        entry = _entry(node, last)
        if entry is not None and edit.op == SET:
            self._not_shared(entry[1], path)
        if edit.op == SET:
            if entry is None:
                return self._insert(node, last, edit.value, edit.after, order)
            return self._replace_value(entry[1], edit.value, order)
        if entry is None:
            raise Refused(f"nothing at {_dotted(path)}")
        if edit.op == RENAME:
            if _entry(node, edit.value) is not None:
                raise Refused(f"{edit.value} is already set")
            key = entry[0]
            return Splice(key.start_mark.index, key.end_mark.index,
                          self._scalar(edit.value, getattr(key, "style", None)), order)
        if edit.op == REMOVE:
            return self._remove(node, entry, order)
        raise Refused(f"unknown edit {edit.op!r}")

    def _not_shared(self, node: Node, path: tuple) -> None:
        """An edit inside a node that an alias repeats elsewhere would change every place
        that repeats it: refused, with the place named."""
        if id(node) in self.shared:
            raise Refused(f"{_dotted(path)} lies in a node shared through an anchor (&name, *name): "
                          f"an edit there changes every place that uses it")

    # -- inserting -----------------------------------------------------------------------

    def _insert(self, mapping: MappingNode, key: str, value: Any, after: str | None,
                order: int) -> Splice:
        if mapping.flow_style or not mapping.value:
            return self._insert_flow(mapping, key, value, order)
        entries = mapping.value
        where = next((e for e in entries if isinstance(e[0], ScalarNode) and e[0].value == after), None)
        key_node, value_node = where or entries[-1]
        column = entries[0][0].start_mark.column
        at = self._entry_end(key_node, value_node)
        step = _indent_step(mapping)
        lines = self._block(key, value, step)
        nl = self.newline
        body = "".join(" " * column + line + nl for line in lines)
        if at >= len(self.text) and not self.text.endswith(("\n", "\r")):
            return Splice(at, at, nl + body[:-len(nl)], order, column)
        return Splice(at, at, body, order, column)

    def _entry_end(self, key: Node, value: Node) -> int:
        """Where the line after an entry starts: after the last scalar it holds (and the
        rest of that line: a comment at most)."""
        node = value
        while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
            node = node.value[-1][1] if isinstance(node, MappingNode) else node.value[-1]
        end = node.end_mark.index
        if end < key.start_mark.index:  # an alias of an anchor defined earlier
            raise Refused("the entry ends in an alias")
        if isinstance(node, ScalarNode) and node.style in ("|", ">") and end > 0 and \
                self.text[end - 1] in "\n\r":
            return end
        found = _BREAK.search(self.text, end)
        return found.end() if found else len(self.text)

    def _insert_flow(self, mapping: MappingNode, key: str, value: Any, order: int) -> Splice:
        close = mapping.end_mark.index - 1
        if not mapping.flow_style or self.text[close:close + 1] != "}":
            raise Refused("the mapping is neither block nor flow")
        entry = f"{self._flow_key(key)}: {self._flow_value(value)}"
        if not mapping.value:
            return Splice(close, close, entry, order)
        last_key, last_value = mapping.value[-1]
        at = last_value.end_mark.index
        line = last_key.start_mark.line
        previous = mapping.value[-2][0].start_mark.line if len(mapping.value) > 1 else mapping.start_mark.line
        if line != previous:  # one entry a line: the new one gets its own
            column = last_key.start_mark.column
            entry = f"{self._flow_key(key)}: {self._flow_value(value, column)}"
            return Splice(at, at, "," + self.newline + " " * column + entry, order)
        return Splice(at, at, ", " + entry, order)

    # -- replacing and removing ----------------------------------------------------------

    def _replace_value(self, node: Node, value: Any, order: int) -> Splice:
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, ScalarNode) and not isinstance(value, (dict, list)):
            if node.style in ("|", ">") or start == end:
                raise Refused("the value is a block scalar or empty")
            return Splice(start, end, self._scalar(value, node.style), order)
        if getattr(node, "flow_style", False):
            return Splice(start, end, self._flow_value(value), order)
        raise Refused("the value's layout cannot take the new value")

    def _remove(self, mapping: MappingNode, entry: tuple[Node, Node], order: int) -> Splice:
        key, value = entry
        entries = mapping.value
        if len(entries) < 2:
            raise Refused("the field is its mapping's only entry")
        if mapping.flow_style:
            i = next(n for n, e in enumerate(entries) if e[0] is key)
            if i + 1 < len(entries):
                return Splice(key.start_mark.index, entries[i + 1][0].start_mark.index, "", order)
            return Splice(entries[i - 1][1].end_mark.index, value.end_mark.index, "", order)
        line_start = max(self.text.rfind("\n", 0, key.start_mark.index),
                         self.text.rfind("\r", 0, key.start_mark.index)) + 1
        if self.text[line_start:key.start_mark.index].strip(" "):
            raise Refused("the field shares its line with another")
        end = self._entry_end(key, value)
        last = value
        if isinstance(last, ScalarNode) and "#" in self.text[last.end_mark.index:end]:
            raise Refused("a comment is on the field's line")
        return Splice(line_start, end, "", order)

    # -- writing values ------------------------------------------------------------------

    def _scalar(self, value: Any, style: str | None = None) -> str:
        """A scalar as the file writes it: JSON in a JSON file, else the original's quotes
        where it had some, else what ruamel.yaml writes for it."""
        if self.json:
            return json.dumps(value, ensure_ascii=False)
        if style == '"' and isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        if style == "'" and isinstance(value, str) and not any(c in value for c in "\n\r"):
            return "'" + value.replace("'", "''") + "'"
        return yaml_scalar(value)

    def _block(self, key: str, value: Any, step: int) -> list[str]:
        if self.json:
            raise Refused("a JSON object is not a block mapping")
        return yaml_block({key: value}, step)

    def _flow_key(self, key: str) -> str:
        return json.dumps(key, ensure_ascii=False) if self.json else self._flow_scalar(key)

    def _flow_value(self, value: Any, column: int | None = None) -> str:
        if self.json:
            if isinstance(value, dict) and column is not None:
                lines = json.dumps(value, indent=2, ensure_ascii=False).split("\n")
                return (self.newline + " " * column).join(lines)
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, dict):
            inner = ", ".join(f"{self._flow_scalar(k)}: {self._flow_value(v)}" for k, v in value.items())
            return "{" + inner + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self._flow_value(v) for v in value) + "]"
        return self._flow_scalar(value)

    def _flow_scalar(self, value: Any) -> str:
        text = yaml_scalar(value)
        if any(c in text for c in ",[]{}#") and not text.startswith(("'", '"')):
            return json.dumps(value, ensure_ascii=False)
        return text


def yaml_scalar(value: Any) -> str:
    """One scalar as ruamel.yaml writes it, checked to read back as the same value the way
    Kubernetes reads YAML (1.1 rules); double-quoted when it would not."""
    lines = yaml_block({"k": value}, 2)
    if len(lines) == 1 and lines[0].startswith("k: "):
        text = lines[0][3:]
        if _reads_as(text, value):
            return text
    return json.dumps(value, ensure_ascii=False)


def _reads_as(text: str, value: Any) -> bool:
    loaded = load_text(f"k: {text}\n")
    return (loaded.problem is None and len(loaded.documents) == 1
            and loaded.documents[0].data == {"k": value}
            and type(loaded.documents[0].data["k"]) is type(value))


def yaml_block(value: dict, step: int) -> list[str]:
    """A mapping as block YAML lines, written by ruamel.yaml with the file's indentation
    step, YAML 1.1 quoting (so ``"yes"`` stays a string), no directive, no document end.
    Remembered by value: a file of 10,000 containers asks for the same few lines each time,
    and a ruamel.yaml dump costs milliseconds."""
    return list(_yaml_block(json.dumps(value), step))


@functools.lru_cache(maxsize=1024)
def _yaml_block(value: str, step: int) -> tuple[str, ...]:
    import io

    from ruamel.yaml import YAML

    writer = YAML(typ="rt")
    writer.version = (1, 1)  # quote what a YAML 1.1 reader (Kubernetes) would not read as text
    writer.indent(mapping=step, sequence=step + 2, offset=step)
    writer.default_flow_style = False
    writer.width = 4096
    out = io.StringIO()
    writer.dump(json.loads(value), out)
    lines = out.getvalue().split("\n")
    if lines[:2] == ["%YAML 1.1", "---"]:
        lines = lines[2:]
    while lines and lines[-1] in ("", "...", "---"):
        lines.pop()
    return tuple(lines)


# --- nodes ----------------------------------------------------------------------------------


def _dotted(path: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")


def _entry(mapping: MappingNode, key: Any) -> tuple[Node, Node] | None:
    found = None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key and scalar_value(key_node) == key:
            found = (key_node, value_node)
    return found


def _child(node: Node, step: Any) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode):
        return _entry(node, step)
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return None, node.value[step]
    return None


def _value(node: Node, key: str) -> Node | None:
    found = _entry(node, key) if isinstance(node, MappingNode) else None
    return found[1] if found else None


def _shared_nodes(loaded: LoadedFile, text: str) -> set[int]:
    """The ids of the nodes an alias repeats (each node walked once). A text with no ``&``
    or no ``*`` has no anchor or no alias, so nothing is repeated: most files, not walked."""
    if "&" not in text or "*" not in text:
        return set()
    seen: set[int] = set()
    shared: set[int] = set()
    stack: list[Node] = [d.root for d in loaded.documents]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return shared


def _indent_step(mapping: MappingNode) -> int:
    """The file's indentation step, read from a nested block mapping near the edit (the
    mapping's own entries first); 2 when there is none."""
    stack: list[Node] = [mapping]
    seen = 0
    while stack and seen < 200:
        node = stack.pop(0)
        seen += 1
        if isinstance(node, MappingNode) and not node.flow_style and node.value:
            column = node.value[0][0].start_mark.column
            for _, child in node.value:
                if isinstance(child, MappingNode) and not child.flow_style and child.value:
                    inner = child.value[0][0].start_mark.column
                    if inner > column:
                        return inner - column
                stack.append(child)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return 2

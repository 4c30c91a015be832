"""Helm charts: render them with a real Helm engine, and say which template line made each
rendered line.

Engines. ``helm template`` when ``helm`` is on PATH; otherwise the embedded engine of the
``k8slint[helm]`` extra (helm-python-sdk, Helm 4's Go SDK behind a C ABI). The SDK is never
imported by k8slint itself: renders run in a child process (``_helm_child.py``, started
with ``python -I``) that k8slint keeps for the life of the process that asked and reuses for
every chart, so that Helm's Go runtime is never loaded into a process that may fork
later, a hung render is ended by killing that child (its time limit is enforced from
outside), and the Go library is loaded once per process, not once per chart. Measured on
this 2-core machine, metrics-server: in-process render 3 ms; a fresh child per render
110 ms (a fork of an interpreter 74 ms), almost all of it loading the Go library; with
the kept child, the first render costs that once and the next ones about their own
render time. The SDK's ``render()`` returns each template's raw text; it is split into
documents as ``helm template`` splits it (Helm's ``SplitManifests`` for charts of API v1
and v2: the text trimmed, cut at ``---`` lines, each document trimmed, empty ones
dropped), NOTES.txt and ``_`` files are skipped, and the Kubernetes version goes through
the native call's options (``kube_version``), which the Python wrapper does not expose.

Charts. A folder with ``Chart.yaml`` is a chart; everything below it belongs to it (its
``charts/`` subcharts render only as part of it), and charts of ``type: library`` are
not rendered.

Positions. The chart is copied into a temporary folder and every template line that can
safely carry one gets a marker comment appended (`` #@<nonce>.<file>.<line>@``). The
copy is rendered, each output line is mapped to the first marker on it (a line glued to
the previous one by ``{{-`` keeps the earlier line's marker first) or, for a line without
one (output of ``include``, ``toYaml``, ``tpl``, a multi-line value), to the next marker
below it in its document: the line holding the call. Every marker is then removed, so the
text is the render of the unmarked chart. A line carries no marker when the marker could
change what renders: inside an action or comment that spans lines, inside a ``define`` or
``block`` body (helpers are included anywhere, often into a single value), whitespace-only
lines, a line ending in a right-trimming ``-}}``, a line with trailing white space that
a following ``{{-`` trims, a line starting with ``---``, a line whose plain scalar the next
line continues (a comment there would end the scalar and break the YAML that ``helm
template`` parses; generated CRDs' descriptions are such), and the whole of a template whose
rendered text another template reads (``include (print $.Template.BasePath
"/configmap.yaml")`` for a checksum: the path appears as a literal in the chart).

The column is the key's when the key is written literally on its template line, else
where the first ``{{`` of an expression or call on that line starts.

Limits. Output of an action on a line that cannot carry a marker (``{{ include ... -}}``
at the end of a line) maps to the next marked line below; a template consumed by path
maps every finding to its first line; templates inside a packaged ``.tgz`` subchart map
to the archive, line 1; a template found only under an aliased or renamed dependency's
name maps to its marked lines but its errors to the chart's Chart.yaml. With ``helm`` on
PATH, documents keep the order ``helm template`` prints (sorted by kind in Helm's install
order, hooks last) rather than the template's own: each is placed by its own markers, so
findings are the same. A marker Helm's YAML parse still rejects makes the chart render
again unmarked (every object at its template's first line).

``helm template``. Its stdout is split at ``---`` / ``# Source:`` headers and grouped by
template. On failure (exit code not 0) the error is read from stderr's first ``Error:``
line on (warnings before it, such as a group-readable kubeconfig or coalesce notes, are
left out; Windows line ends made plain; Helm's closing "Use --debug flag to render out
invalid YAML" dropped); stderr is searched for that line up to MAX_STDERR_SCAN bytes and
read up to MAX_STDERR_BYTES. Errors are placed from ``(file:line:col)``, ``template:
file:line:col``, or Helm 4's ``file:line:col`` opening the message (the SDK's errors have
that form too). A document that is not YAML fails the whole of ``helm template`` ("YAML
parse error on <template>"): that error is placed at the template's line 1, where the SDK
path would report parse-error at its line and lint the rest. helm runs with the render's
time limit (the process group is killed past it) and its stdout bounded by
MAX_OUTPUT_BYTES. tests/test_helm_binary.py checks all of this against a test double of
``helm template`` (tests/data/fake-helm/helm) that renders with the SDK.

Safety. Nothing is written inside the user's tree: the copy, the child's working folder
and Helm's home folders are temporary folders removed afterwards. The copy follows no
link out of the chart, reads only regular files, and is bounded in files and bytes;
values files are read by k8slint with a size bound. Children run in a new session (no
controlling terminal) with stdin closed or a pipe, their output is bounded, and every
failure is a RenderError with a one-line message (control characters removed, bounded).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import IO, NamedTuple

from .loader import DecodeProblem, decode, load_text, locate
from .render import CHART_FILE, chart_of, is_chart  # noqa: F401 (chart_of: part of this module's API)

Place = tuple[str, int, int]  # (real absolute path of the source file, 1-based line, 1-based column)

DEFAULT_TIMEOUT = 60.0
MAX_CHART_FILES = 20_000
MAX_CHART_BYTES = 64 * 1024 * 1024
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
MAX_VALUES_BYTES = 16 * 1024 * 1024
MAX_MESSAGE = 1000
MAX_STDERR_BYTES = 64 * 1024
MAX_STDERR_SCAN = 64 * 1024 * 1024


class Piece(NamedTuple):
    """One rendered template: its documents as ``helm template`` prints them, and where
    a position in that text comes from."""

    text: str
    place: Callable[[int, tuple, int, int], Place]


class RenderError(NamedTuple):
    file: str  # real path of the template, Chart.yaml or values file
    line: int
    column: int
    message: str


class Rendered(NamedTuple):
    pieces: list[Piece]
    errors: list[RenderError]
    seconds: float


# --- engines and charts ---------------------------------------------------------------------


def helm_engine() -> str | None:
    """"helm" when ``helm`` is on PATH, "sdk" when the extra is installed, else None; the
    SDK is found without being imported."""
    if shutil.which("helm"):
        return "helm"
    return "sdk" if _sdk_folder() is not None else None


def _sdk_folder() -> str | None:
    """The folder that holds the ``helm_python`` package (found, never imported)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("helm_python")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.dirname(next(iter(spec.submodule_search_locations)))


def chart_metadata(chart: str) -> dict:
    """Chart.yaml as plain data ({} when it cannot be read); read with the manifests'
    bounded, tag-free loader."""
    data = _read_yaml(os.path.join(chart, CHART_FILE))
    return data if isinstance(data, dict) else {}


def is_library(chart: str) -> bool:
    return chart_metadata(chart).get("type") == "library"


def find_charts(folder: str) -> list[str]:
    """The charts to render under ``folder`` (real paths, sorted): the topmost folders
    with Chart.yaml, library charts left out. Links to folders are not followed; a chart
    inside another chart (its ``charts/`` subcharts) renders only as part of it."""
    found: list[str] = []
    top = os.path.realpath(folder)
    for current, dirs, _files in os.walk(top, followlinks=False):
        if is_chart(current):
            dirs[:] = []
            if not is_library(current):
                found.append(current)
        else:
            dirs.sort()
    return sorted(found)


def chart_files(chart: str) -> frozenset[str]:
    """Every regular file of the chart (real paths): what a change to re-renders it.
    Links are included only when they lead to a file inside the chart."""
    root = os.path.realpath(chart)
    files: set[str] = set()
    for current, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            real = os.path.realpath(os.path.join(current, name))
            if _is_within(real, root) and os.path.isfile(real):
                files.add(real)
    return frozenset(files)


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _read_bounded(path: str, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit``; OSError otherwise (a FIFO is never
    opened for a blocking read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        if info.st_size > limit:
            raise OSError(f"{path} is larger than {limit:,} bytes")
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise OSError(f"{path} is larger than {limit:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_yaml(path: str) -> object:
    try:
        loaded = load_text(decode(_read_bounded(path, MAX_VALUES_BYTES)))
    except (OSError, DecodeProblem):
        return None
    if loaded.problem is not None or not loaded.documents:
        return None
    return loaded.documents[0].data


# --- scanning templates ---------------------------------------------------------------------

_SPACE = " \t\r\n"  # what Go templates' trim markers remove
_BLOCKS = frozenset(("if", "range", "with", "define", "block"))
_NO_OUTPUT = frozenset(("if", "range", "with", "define", "block", "end", "else", "template",
                        "break", "continue"))
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"\$[A-Za-z0-9_]*\s*(?:,\s*\$[A-Za-z0-9_]*\s*)?:?=")


class _Action(NamedTuple):
    start: int  # offset of "{{"
    end: int  # offset just after "}}" (the text's end when never closed)
    output: bool  # an expression or call, not control flow, a comment or an assignment
    left_trim: bool
    right_trim: bool
    defines: int  # define/block bodies open after this action


def _actions(text: str) -> list[_Action]:
    """The actions of a Go template, in order (a lexer's view: strings, raw strings and
    comments are skipped, so ``}}`` inside them ends nothing)."""
    found: list[_Action] = []
    stack: list[str] = []
    n = len(text)
    i = 0
    while True:
        start = text.find("{{", i)
        if start < 0:
            return found
        k = start + 2
        left_trim = text.startswith("-", k) and k + 1 < n and text[k + 1] in _SPACE
        if left_trim:
            k += 1
        while k < n and text[k] in _SPACE:
            k += 1
        word = ""
        if text.startswith("/*", k):
            close = text.find("*/", k + 2)
            end = text.find("}}", close + 2) if close >= 0 else -1
            kind = "comment"
        else:
            match = _WORD.match(text, k)
            word = match.group() if match else ""
            kind = word if word in _NO_OUTPUT else (
                "assign" if _ASSIGNMENT.match(text, k) else "output")
            end = _action_end(text, k)
        if end < 0:
            found.append(_Action(start, n, False, left_trim, False, _defines(stack)))
            return found
        right_trim = text[end - 1] == "-" and end - 2 > start + 1 and text[end - 2] in _SPACE
        if kind in _BLOCKS:
            stack.append(kind)
        elif kind == "end" and stack:
            stack.pop()
        found.append(_Action(start, end + 2, kind == "output", left_trim, right_trim, _defines(stack)))
        i = end + 2


def _defines(stack: list[str]) -> int:
    return sum(1 for kind in stack if kind in ("define", "block"))


def _action_end(text: str, i: int) -> int:
    """Offset of the ``}}`` that closes an action whose body starts at ``i``, or -1."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "}" and text.startswith("}}", i):
            return i
        if c == '"' or c == "'":
            i += 1
            while i < n and text[i] != c and text[i] != "\n":
                i += 2 if text[i] == "\\" else 1
        elif c == "`":
            close = text.find("`", i + 1)
            if close < 0:
                return -1
            i = close
        i += 1
    return -1


class _Line(NamedTuple):
    """What the mapping needs of one template line."""

    text: str  # without its line break
    literals: tuple[tuple[int, int], ...]  # 0-based [start, end) spans outside actions
    actions: tuple[int, ...]  # 0-based columns of the "{{" of output actions on the line
    any_action: int  # column of the first "{{" on the line, or -1


class _Scan(NamedTuple):
    lines: list[_Line]
    markable: list[bool]


def _scan(text: str) -> _Scan:
    """Each line's literal parts and actions, and whether a marker may end it."""
    actions = _actions(text)
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    line_count = len(starts)
    ends = [s - 1 for s in starts[1:]] + [len(text)]  # offset of each line's "\n" (or the end)
    literal_spans: list[list[tuple[int, int]]] = [[] for _ in range(line_count)]
    output_columns: list[list[int]] = [[] for _ in range(line_count)]
    first_action = [-1] * line_count
    markable = [True] * line_count

    def line_of(offset: int) -> int:
        return bisect_right(starts, offset) - 1

    def add_literal(a: int, b: int) -> None:
        while a < b:
            line = line_of(a)
            stop = min(b, ends[line])
            if stop > a:
                literal_spans[line].append((a - starts[line], stop - starts[line]))
            a = ends[line] + 1

    position = 0
    defines = 0
    for action in actions:
        add_literal(position, action.start)
        first, last = line_of(action.start), line_of(max(action.start, action.end - 1))
        column = action.start - starts[first]
        if first_action[first] < 0:
            first_action[first] = column
        if action.output:
            output_columns[first].append(column)
        for line in range(first, last):  # its line breaks are inside the action
            markable[line] = False
        if defines or action.defines:  # a define/block body, or the line opening one
            for line in range(first, last + 1):
                markable[line] = False
        if action.left_trim:  # it trims back over trailing white space of lines above
            back = action.start
            while back > 0 and text[back - 1] in _SPACE:
                back -= 1
            for line in range(line_of(back), first):
                if back < ends[line]:  # the line's own text ends in white space
                    markable[line] = False
        if action.right_trim:
            after = action.end
            while after < len(text) and text[after] in " \t\r":
                after += 1
            if after >= len(text) or text[after] == "\n":
                markable[last] = False
        defines = action.defines
        position = action.end
    add_literal(position, len(text))
    # A line that starts inside a define/block body (the last action before it left one
    # open) carries no marker either.
    depth_at: list[tuple[int, int]] = [(a.end, a.defines) for a in actions]
    offsets = [offset for offset, _ in depth_at]
    lines: list[_Line] = []
    for index in range(line_count):
        line_text = text[starts[index]:ends[index]]
        at = bisect_right(offsets, starts[index]) - 1
        if at >= 0 and depth_at[at][1] > 0:
            markable[index] = False
        if not line_text.strip(" \t\r") or line_text.startswith("---"):
            markable[index] = False
        lines.append(_Line(line_text, tuple(literal_spans[index]), tuple(output_columns[index]),
                           first_action[index]))
    if text.endswith("\n"):
        markable[-1] = False  # the empty "line" after the last break
    # A line that a plain scalar continues on the next line: a marker there would end the
    # scalar with a comment, and its next line would no longer parse (``helm template``
    # parses every document's head; the SDK does not).
    for index in range(line_count - 1):
        if _continued_plain(lines[index].text, lines[index + 1].text):
            markable[index] = False
    return _Scan(lines, markable)


_BLOCK_INDICATOR = re.compile(r"[|>][-+0-9]*$")


def _continued_plain(line: str, following: str) -> bool:
    """Whether ``following`` reads as the continuation of a multi-line plain scalar that
    ``line`` holds: at least as indented, and not a key, a list item, a comment or an
    action; ``line`` not a key that opens a block or a block scalar."""
    here, there = line.rstrip(" \t\r"), following.rstrip(" \t\r")
    body, next_body = here.lstrip(" \t"), there.lstrip(" \t")
    if not body or not next_body or len(there) - len(next_body) < len(here) - len(body):
        return False
    if body.endswith(":") or _BLOCK_INDICATOR.search(body) or body.startswith("#"):
        return False
    if next_body.startswith(("- ", "#", "{{", "---")) or next_body == "-":
        return False
    return ": " not in next_body and not next_body.endswith(":")


def _marked(text: str, scan: _Scan, marker: str) -> str:
    """``text`` with ``marker`` (its ``{}`` the 1-based line) appended to every markable line."""
    parts = []
    for index, line in enumerate(text.split("\n")):
        parts.append(line + marker.format(index + 1) if scan.markable[index] else line)
    return "\n".join(parts)


# --- copying the chart ----------------------------------------------------------------------


class _Source(NamedTuple):
    path: str  # the real path of the template in the user's tree
    lines: list[_Line]


class _Copy(NamedTuple):
    folder: str  # the chart's copy
    sources: list[_Source]  # by file id (the markers' second number)
    names: dict[str, str]  # Helm's template name prefix ("app/charts/sub/") -> real folder
    archives: dict[str, str]  # name prefix of a packaged subchart -> its .tgz (real path)


class _TooLarge(Exception):
    pass


def _copy_chart(chart: str, into: str, nonce: str) -> _Copy:
    """Copy ``chart`` into ``into``, marking its templates (see the module's notes)."""
    root = os.path.realpath(chart)
    files: dict[str, bytes] = {}  # relative path -> bytes
    budget = [MAX_CHART_FILES, MAX_CHART_BYTES]

    def walk(folder: str, relative: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            rel = f"{relative}{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, rel + "/")
                    continue
                real = os.path.realpath(entry.path)
                if not _is_within(real, root) or not os.path.isfile(real):
                    continue  # a link out of the chart, a FIFO, a socket: never read
                budget[0] -= 1
                data = _read_bounded(real, budget[1])
            except OSError:
                continue
            budget[1] -= len(data)
            if budget[0] < 0:
                raise _TooLarge(f"the chart has more than {MAX_CHART_FILES:,} files")
            files[rel] = data

    try:
        walk(root, "")
    except OSError:
        pass
    if budget[1] < 0:
        raise _TooLarge(f"the chart is larger than {MAX_CHART_BYTES:,} bytes")

    names, archives, templates = _chart_layout(root, files)
    quoted = set(re.findall(rb'"([^"\n]{1,500})"', b"\n".join(files.values())))
    sources: list[_Source] = []
    for rel, name in templates:
        data = files[rel]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        scan = _scan(text)
        if _read_by_path(name, quoted):  # its text is read by another template: unmarked
            scan = _Scan(scan.lines, [False] * len(scan.markable))
        file_id = len(sources)
        sources.append(_Source(os.path.join(root, rel), scan.lines))
        files[rel] = _marked(text, scan, f" #@{nonce}.{file_id}.{{}}@").encode()
    for rel, data in files.items():
        target = os.path.join(into, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as stream:
            stream.write(data)
    return _Copy(into, sources, names, archives)


def _read_by_path(name: str, quoted: set[bytes]) -> bool:
    """Whether some file of the chart names this template by path in a quoted literal (so
    that another template includes its rendered text, usually for a checksum)."""
    _chart, _, rel = name.partition("/templates/")
    return f"/{rel}".encode() in quoted or name.encode() in quoted


def _chart_layout(root: str, files: dict[str, bytes]) -> tuple[dict[str, str], dict[str, str],
                                                            list[tuple[str, str]]]:
    """Helm's template name prefixes for the chart and its subcharts (folders and
    archives), and the templates to mark as (relative path, Helm's name)."""
    names: dict[str, str] = {}
    archives: dict[str, str] = {}
    templates: list[tuple[str, str]] = []

    def visit(rel_folder: str, prefix: str) -> None:
        names[prefix] = os.path.join(root, rel_folder) if rel_folder else root
        meta = _yaml_bytes(files.get(rel_folder + CHART_FILE))
        aliases = {}
        dependencies = meta.get("dependencies")
        for dep in dependencies if isinstance(dependencies, list) else ():
            if isinstance(dep, dict) and isinstance(dep.get("alias"), str):
                aliases[str(dep.get("name"))] = dep["alias"]
        for rel in files:
            if not rel.startswith(rel_folder + "templates/"):
                continue
            inner = rel[len(rel_folder):]
            if inner.rsplit("/", 1)[-1].startswith("_") or inner.endswith("NOTES.txt"):
                continue
            templates.append((rel, prefix + inner))
        sub_root = rel_folder + "charts/"
        seen: set[str] = set()
        for rel in sorted(files):
            if not rel.startswith(sub_root):
                continue
            head = rel[len(sub_root):].split("/", 1)[0]
            if head in seen:
                continue
            seen.add(head)
            if head.endswith(".tgz") and rel == sub_root + head:
                name = _archive_chart_name(os.path.join(root, rel))
                if name:
                    for shown in {name, aliases.get(name, name)}:
                        archives[f"{prefix}charts/{shown}/"] = os.path.join(root, rel)
            elif sub_root + head + "/" + CHART_FILE in files:
                sub_meta = _yaml_bytes(files[sub_root + head + "/" + CHART_FILE])
                name = str(sub_meta.get("name", head)) if isinstance(sub_meta, dict) else head
                visit(sub_root + head + "/", f"{prefix}charts/{aliases.get(name, name)}/")

    meta = _yaml_bytes(files.get(CHART_FILE))
    top_name = str(meta.get("name") or os.path.basename(root))
    visit("", top_name + "/")
    return names, archives, templates


def _missing_dependencies(root: str) -> list[RenderError]:
    """The dependencies Chart.yaml lists that its ``charts/`` folder lacks: ``helm
    template`` refuses such a chart before rendering (``helm dependency build`` fetches
    them), so the embedded engine's render, which would leave them out, is refused too.
    One error, at the first missing entry's name."""
    chart_yaml = os.path.join(root, CHART_FILE)
    try:
        loaded = load_text(decode(_read_bounded(chart_yaml, 1 << 20)))
    except (OSError, DecodeProblem):
        return []  # the render reports what is wrong with Chart.yaml
    if loaded.problem is not None or not loaded.documents:
        return []
    document = loaded.documents[0]
    dependencies = document.data.get("dependencies") if isinstance(document.data, dict) else None
    if not isinstance(dependencies, list) or not dependencies:
        return []
    present: set[str] = set()
    folder = os.path.join(root, "charts")
    try:
        entries = sorted(os.listdir(folder))[:MAX_CHART_FILES]
    except OSError:
        entries = []
    for entry in entries:
        path = os.path.join(folder, entry)
        if entry.endswith(".tgz") and os.path.isfile(path):
            name = _archive_chart_name(path)
        elif os.path.isfile(os.path.join(path, CHART_FILE)):
            name = str(chart_metadata(path).get("name") or entry)
        else:
            continue
        if name:
            present.add(name)
    missing = [(i, dep["name"]) for i, dep in enumerate(dependencies)
               if isinstance(dep, dict) and isinstance(dep.get("name"), str) and dep["name"] not in present]
    if not missing:
        return []
    first = locate(document.root, ("dependencies", missing[0][0], "name"))
    names = ", ".join(name for _, name in missing)
    return [RenderError(chart_yaml, first.line, first.column, clean_message(
        f"found in Chart.yaml, but missing in charts/ directory: {names} (helm dependency build "
        f"fetches them)"))]


def _yaml_bytes(data: bytes | None) -> dict:
    if data is None:
        return {}
    try:
        loaded = load_text(decode(data))
    except DecodeProblem:
        return {}
    if loaded.problem is not None or not loaded.documents:
        return {}
    value = loaded.documents[0].data
    return value if isinstance(value, dict) else {}


def _archive_chart_name(path: str) -> str | None:
    """The name in a packaged subchart's Chart.yaml (its first folder's), read with
    bounds; None when it cannot be read."""
    import tarfile

    try:
        with tarfile.open(path, "r:gz") as archive:
            for count, member in enumerate(archive):
                if count > MAX_CHART_FILES:
                    return None
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == CHART_FILE and member.isfile() and member.size < 1 << 20:
                    stream = archive.extractfile(member)
                    meta = _yaml_bytes(stream.read() if stream else None)
                    name = meta.get("name")
                    return str(name) if name else parts[0]
    except (OSError, tarfile.TarError, EOFError, ValueError):
        return None
    return None


# --- splitting rendered text ----------------------------------------------------------------

# Go's unicode.IsSpace, which strings.TrimSpace uses; and \s of Go's regexp syntax.
_GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
             "\u200a\u2028\u2029\u202f\u205f\u3000")
_SEPARATOR = re.compile(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*")


def split_manifests(text: str) -> list[tuple[int, str]]:
    """Helm's SplitManifests (charts of API v1 and v2): the documents of a template's
    output as (offset in ``text``, document), trimmed, empty ones dropped."""
    start = len(text) - len(text.lstrip(_GO_SPACE))
    body = text[start:].rstrip(_GO_SPACE)
    documents = []
    position = 0
    pieces = []
    for match in _SEPARATOR.finditer(body):
        if match.end() == match.start() and match.start() != 0:
            continue
        pieces.append((position, body[position:match.start()]))
        position = match.end()
    pieces.append((position, body[position:]))
    for offset, piece in pieces:
        if piece == "":
            continue
        lead = len(piece) - len(piece.lstrip(_GO_SPACE))
        trimmed = piece.strip(_GO_SPACE)
        documents.append((start + offset + lead, trimmed))
    return documents


# --- rendering ------------------------------------------------------------------------------


def render_chart(chart: str, *, kube_version: str, values: Sequence[str] = (),
                 release: str = "release-name", namespace: str = "default",
                 timeout: float = DEFAULT_TIMEOUT, engine: str | None = None) -> Rendered:
    """Render ``chart`` at ``kube_version`` ("1.37" or "1.37.0") with its values.yaml and
    then ``values`` (files, later ones win); one Piece per rendered template."""
    began = time.monotonic()
    root = os.path.realpath(chart)
    chart_yaml = os.path.join(root, CHART_FILE)

    def done(pieces: list[Piece], errors: list[RenderError]) -> Rendered:
        return Rendered(pieces, errors, time.monotonic() - began)

    engine = engine or helm_engine()
    if engine is None:
        return done([], [RenderError(chart_yaml, 1, 1, "no Helm engine: install helm, or "
                                     "pip install 'k8slint[helm]'")])
    value_texts: list[str] = []
    value_paths: list[str] = []
    for path in values:
        real = os.path.realpath(path)
        try:
            value_texts.append(decode(_read_bounded(real, MAX_VALUES_BYTES)))
        except (OSError, DecodeProblem) as exc:
            return done([], [RenderError(real, 1, 1, clean_message(f"cannot read values file: {exc}"))])
        value_paths.append(real)
    missing = _missing_dependencies(root)
    if missing:
        return done([], missing)
    nonce = secrets.token_hex(6)
    with tempfile.TemporaryDirectory(prefix="k8slint-helm-") as temp:
        copy_folder = os.path.join(temp, "chart")
        try:
            copy = _copy_chart(root, copy_folder, nonce)
        except _TooLarge as exc:
            return done([], [RenderError(chart_yaml, 1, 1, clean_message(str(exc)))])
        version = _full_version(kube_version)

        def render(folder: str) -> tuple[dict[str, str] | list[tuple[str, str]] | None, _Failure | None]:
            if engine == "helm":
                return _render_with_helm(folder, temp, version, value_paths, release, namespace,
                                         timeout - (time.monotonic() - began))
            return _render_with_sdk(folder, version, value_texts, release, namespace,
                                    timeout - (time.monotonic() - began))

        output, failure = render(copy.folder)
        if failure is not None and failure.where == "render" and not failure.timed_out:
            # Markers should never change what renders; if the chart renders without
            # them, the error was ours: keep that render, each object at its template's
            # first line (it has no markers).
            plain = os.path.join(temp, "plain")
            shutil.copytree(copy.folder, plain, symlinks=True)
            _strip_tree(plain, nonce)
            output, failure = render(plain)
        if failure is not None and failure.timed_out:
            return done([], [RenderError(chart_yaml, 1, 1, f"rendering took longer than {timeout:g} s "
                                         f"and was stopped")])
        if failure is not None or output is None:
            return done([], [_error(failure, copy, chart_yaml, value_paths, temp, root, nonce)])
        return done(_pieces(output, copy, nonce, chart_yaml), [])


def _strip_tree(folder: str, nonce: str) -> None:
    pattern = re.compile(rf" #@{nonce}\.\d+\.\d+@".encode())
    for current, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(current, name)
            with open(path, "rb") as stream:
                data = stream.read()
            stripped = pattern.sub(b"", data)
            if stripped != data:
                with open(path, "wb") as stream:
                    stream.write(stripped)


def _full_version(version: str) -> str:
    text = version.strip().lstrip("v")
    return text + ".0" if text.count(".") == 1 else text


class _Failure(NamedTuple):
    where: str  # "engine", "values", "chart", "render"
    message: str
    values_index: int = -1  # which values file
    timed_out: bool = False


_TEMPLATE_AT = re.compile(r"(?:^|template: |\(|error calling \w+: )([^\s:()\"]+):(\d+)(?::(\d+))?")
_YAML_LINE = re.compile(r"\byaml: line (\d+)")
_YAML_PARSE_ON = re.compile(r"YAML parse error on ([^\s:]+):")


def _error(failure: _Failure | None, copy: _Copy, chart_yaml: str, value_paths: list[str],
           temp: str, root: str, nonce: str) -> RenderError:
    if failure is None:
        return RenderError(chart_yaml, 1, 1, "the Helm engine returned nothing")
    message = failure.message.replace(copy.folder, root).replace(os.path.join(temp, "plain"), root)
    message = message.replace(temp, "<temporary folder>")
    message = re.sub(rf" ?#@{nonce}\.\d+\.\d+@", "", message)
    message = clean_message(message)
    if failure.where == "values" and 0 <= failure.values_index < len(value_paths):
        found = _YAML_LINE.search(message)
        return RenderError(value_paths[failure.values_index], int(found.group(1)) if found else 1, 1, message)
    if failure.where == "render" and not failure.timed_out:
        unparsed = _YAML_PARSE_ON.match(message)  # helm template: a document is not YAML
        path = _template_path(unparsed.group(1), copy) if unparsed else None
        if path is not None:
            return RenderError(path, 1, 1, message)
        for found in _TEMPLATE_AT.finditer(message):
            path = _template_path(found.group(1), copy)
            if path is not None:
                line = int(found.group(2))
                column = _column_of_byte(path, line, int(found.group(3))) if found.group(3) else 1
                return RenderError(path, line, column, message)
    return RenderError(chart_yaml, 1, 1, message)


def _column_of_byte(path: str, line: int, offset: int) -> int:
    """Helm (Go's text/template) names a column as the 0-based byte offset in its line:
    the 1-based column in characters, as every k8slint position is."""
    try:
        with open(path, "rb") as stream:
            for number, text in enumerate(stream, start=1):
                if number == line:
                    return len(text[:offset].decode("utf-8", "replace")) + 1
                if number > line:
                    break
    except OSError:
        pass
    return offset + 1


def _template_path(name: str, copy: _Copy) -> str | None:
    """The real file behind one of Helm's template names, or None."""
    best = ""
    for prefix in (*copy.names, *copy.archives):
        if name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    if not best:
        return None
    if best in copy.archives:
        return copy.archives[best]
    path = os.path.join(copy.names[best], name[len(best):])
    return path if os.path.isfile(path) else None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean_message(message: str) -> str:
    """One line of at most MAX_MESSAGE characters, without control characters."""
    text = " ".join(_CONTROL.sub("", message).split())
    text = text.removeprefix("Error: ")
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


# --- the SDK's child process ----------------------------------------------------------------


# The memory the embedded engine's child may use for a render (its data segment): a chart
# that builds a string of a terabyte ends the render, not the machine.
MEMORY_LIMIT = 2 << 30


class _Server:
    """The child process that renders with the SDK, kept for the next chart."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.folder: str | None = None
        self.owner = 0  # the process that started the child: a forked copy starts its own
        self.lock = threading.Lock()
        self.registered = False

    def start(self) -> subprocess.Popen:
        from pathlib import Path

        source = (Path(__file__).with_name("_helm_child.py")).read_text("utf-8")
        self.folder = tempfile.mkdtemp(prefix="k8slint-helm-child-")
        env = dict(os.environ)
        for name in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            env[name] = self.folder
        if not self.registered:
            import atexit

            atexit.register(self.stop)
            self.registered = True
        self.owner = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", source, _sdk_folder() or "", self.folder, str(MEMORY_LIMIT),
             str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=self.folder, env=env, start_new_session=True, close_fds=True)
        return self.process

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and self.owner == os.getpid():
            _kill(process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def ask(self, request: dict, timeout: float) -> dict:
        with self.lock:
            if self.owner != os.getpid():  # inherited through a fork: the parent's, not ours
                self.process, self.folder = None, None
            process = self.process if self.process is not None and self.process.poll() is None else None
            if process is None:
                self.stop()
                process = self.start()
            assert process.stdin is not None and process.stdout is not None
            ok = False
            try:
                process.stdin.write(json.dumps(request).encode() + b"\n")
                process.stdin.flush()
                header = _read_exactly(process.stdout.fileno(), 11, time.monotonic() + timeout)
                if header is None:
                    raise TimeoutError
                if not header[:10].isdigit() or header[10:] != b"\n":
                    return {"error": {"where": "engine", "message": "the Helm engine's reply was garbled"}}
                size = int(header[:10])
                if size > MAX_OUTPUT_BYTES:
                    return {"error": {"where": "render", "message":
                                      f"the rendered output is larger than {MAX_OUTPUT_BYTES:,} bytes"}}
                body = _read_exactly(process.stdout.fileno(), size, time.monotonic() + max(timeout, 5.0))
                if body is None:
                    raise TimeoutError
                ok = True
                reply: dict = json.loads(body)
                return reply
            except TimeoutError:
                return {"error": {"where": "render", "timed_out": True, "message":
                                  f"rendering took longer than {timeout:g} s and was stopped"}}
            except EOFError:  # the child ended mid-render: its memory cap, or a signal
                return {"error": {"where": "engine", "message":
                                  f"the Helm engine stopped while rendering (it ran out of the "
                                  f"{MEMORY_LIMIT >> 20} MiB a render may use, or was killed)"}}
            except (OSError, ValueError) as exc:
                code = process.poll()
                why = f" (exit code {code})" if code is not None else f": {exc}"
                return {"error": {"where": "engine", "message": f"the Helm engine stopped{why}"}}
            finally:
                if not ok:
                    self.stop()


def _read_exactly(fd: int, size: int, deadline: float) -> bytes | None:
    """``size`` bytes from ``fd`` before ``deadline`` (None when time runs out);
    EOFError when the stream ends first."""
    chunks: list[bytes] = []
    got = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                raise EOFError("the stream ended")
            chunks.append(chunk)
            got += len(chunk)
    return b"".join(chunks)


def _kill(process: subprocess.Popen) -> None:
    """End a child started in its own session, and whatever it started."""
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        pass


_SERVER = _Server()


def stop_engine() -> None:
    """End the SDK's child process (it also ends by itself when this process exits)."""
    _SERVER.stop()


def _render_with_sdk(folder: str, version: str, values: list[str], release: str, namespace: str,
                     timeout: float) -> tuple[dict[str, str] | None, _Failure | None]:
    if timeout <= 0:
        return None, _Failure("render", "rendering ran out of time", timed_out=True)
    options = {"name": release, "namespace": namespace, "kube_version": version}
    reply = _SERVER.ask({"chart": folder, "values": values, "options": options}, timeout)
    error = reply.get("error")
    if isinstance(error, dict):
        return None, _Failure(str(error.get("where", "engine")), str(error.get("message", "")),
                              int(error.get("index", -1)), bool(error.get("timed_out")))
    templates = reply.get("templates")
    if not isinstance(templates, dict):
        return None, _Failure("engine", "the Helm engine's reply had no templates")
    return {str(k): str(v) for k, v in templates.items()}, None


# --- helm template --------------------------------------------------------------------------


def helm_template_args(chart: str, *, kube_version: str, values: Sequence[str] = (),
                       release: str = "release-name", namespace: str = "default") -> list[str]:
    """The ``helm template`` command line for one chart (Helm's documented flags)."""
    args = ["helm", "template", release, chart, "--namespace", namespace,
            "--kube-version", _full_version(kube_version)]
    for path in values:
        args += ["--values", path]
    return args


def _render_with_helm(folder: str, temp: str, version: str, values: list[str], release: str,
                      namespace: str, timeout: float) -> tuple[list[tuple[str, str]] | None, _Failure | None]:
    helm = shutil.which("helm")
    if helm is None:
        return None, _Failure("engine", "helm is no longer on PATH")
    if timeout <= 0:
        return None, _Failure("render", "rendering ran out of time", timed_out=True)
    home = os.path.join(temp, "home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ)
    for name in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[name] = home
    args = helm_template_args(folder, kube_version=version, values=values, release=release,
                              namespace=namespace)
    args[0] = helm
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=errors, cwd=home, env=env, start_new_session=True,
                                       close_fds=True)
        except OSError as exc:
            return None, _Failure("engine", f"helm could not be started: {exc}")
        code = None
        try:
            out = _read_all(process, time.monotonic() + timeout)
            if out is not None:
                code = process.wait(5)
        except subprocess.TimeoutExpired:
            out = None
        except _TooLarge as exc:
            return None, _Failure("render", str(exc))
        finally:
            if process.poll() is None:
                _kill(process)
        if out is None:
            return None, _Failure("render", f"rendering took longer than {timeout:g} s and was stopped",
                                  timed_out=True)
        message = _helm_error(_stderr_text(errors))
    if code != 0:
        index = next((i for i, path in enumerate(values) if path in message), -1)
        return None, _Failure("values" if index >= 0 else "render",
                              message or f"helm exited with {code}", index)
    return _split_helm_output(out.decode("utf-8", "replace")), None


def _stderr_text(stream: IO[bytes]) -> str:
    """Helm's stderr from its first ``Error: `` line (warnings come before it), at most
    MAX_STDERR_BYTES of it; the file is searched for that line up to MAX_STDERR_SCAN bytes."""
    stream.seek(0)
    found, at, carry = -1, 0, b"\n"
    while found < 0 and at < MAX_STDERR_SCAN:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        hit = (carry + chunk).find(b"\nError: ")
        if hit >= 0:
            found = at - len(carry) + hit + 1
        carry = chunk[-7:]
        at += len(chunk)
    stream.seek(max(found, 0))
    return stream.read(MAX_STDERR_BYTES).decode("utf-8", "replace")


_DEBUG_HINT = re.compile(r"\n\s*Use --debug flag to render out invalid YAML\s*$")


def _helm_error(text: str) -> str:
    """The error of ``helm template``'s stderr: from its ``Error: `` line on, Windows line
    ends made plain, Helm's closing hint to use --debug left out."""
    text = text.replace("\r\n", "\n")
    at = text.find("\nError: ")
    if not text.startswith("Error: ") and at >= 0:
        text = text[at + 1:]
    return _DEBUG_HINT.sub("", text.rstrip()).rstrip()


def _read_all(process: subprocess.Popen, deadline: float) -> bytes | None:
    """The child's stdout until it ends; None past the deadline, _TooLarge past the bound."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    chunks: list[bytes] = []
    size = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_OUTPUT_BYTES:
                raise _TooLarge(f"the rendered output is larger than {MAX_OUTPUT_BYTES:,} bytes")
            chunks.append(chunk)


_SOURCE_HEADER = re.compile(r"^---\n# Source: (.*)\n", re.MULTILINE)


def _split_helm_output(text: str) -> list[tuple[str, str]]:
    """``helm template`` output as (template name, document) in the order printed."""
    found = []
    headers = list(_SOURCE_HEADER.finditer(text))
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        found.append((header.group(1), text[header.end():end]))
    return found


# --- pieces and their place functions -------------------------------------------------------


def _pieces(output: dict[str, str] | list[tuple[str, str]], copy: _Copy, nonce: str,
            chart_yaml: str) -> list[Piece]:
    marker = re.compile(rf" #@{nonce}\.(\d+)\.(\d+)@")
    if isinstance(output, dict):  # the SDK: raw text per template, split here as Helm does
        by_template = [(name, [output[name]]) for name in sorted(output)
                       if not name.endswith("NOTES.txt") and not os.path.basename(name).startswith("_")]
    else:  # helm template: documents already split, still marked
        grouped: dict[str, list[str]] = {}
        for name, document in output:
            grouped.setdefault(name, []).append(document)
        by_template = list(grouped.items())
    pieces = []
    for name, raw_texts in by_template:
        documents: list[tuple[str, list[tuple[int, int] | None]]] = []
        for raw in raw_texts:
            clean, origins = _strip(raw, marker)
            line_starts = [0] + [m.end() for m in re.finditer("\n", clean)]
            for offset, document in split_manifests(clean):
                first = bisect_right(line_starts, offset) - 1
                count = document.count("\n") + 1
                documents.append((document, origins[first:first + count]))
        if not documents:
            continue
        source = _template_path(name, copy) or chart_yaml
        pieces.append(_piece(name, documents, copy, source))
    return pieces


def _strip(raw: str, marker: re.Pattern[str]) -> tuple[str, list[tuple[int, int] | None]]:
    """The text without markers, and each of its lines' first marker (file, line)."""
    lines = raw.split("\n")
    origins: list[tuple[int, int] | None] = []
    clean = []
    for line in lines:
        found = marker.search(line)
        if found is None:
            origins.append(None)
            clean.append(line)
        else:
            origins.append((int(found.group(1)), int(found.group(2))))
            clean.append(marker.sub("", line))
    return "\n".join(clean), origins


def _piece(name: str, documents: list[tuple[str, list[tuple[int, int] | None]]], copy: _Copy,
           source: str) -> Piece:
    text_parts: list[str] = []
    origins: list[tuple[int, int] | None] = []  # per line of the piece's text
    spans: list[tuple[int, int]] = []  # each document's content lines (1-based, inclusive)
    for document, document_origins in documents:
        text_parts.append(f"---\n# Source: {name}\n{document}\n")
        origins += [None, None]
        first = len(origins) + 1
        # A line without a marker comes from the call below it: the next marker down.
        resolved: list[tuple[int, int] | None] = []
        below: tuple[int, int] | None = None
        for origin in reversed(document_origins):
            below = origin or below
            resolved.append(below)
        resolved.reverse()
        origins += resolved
        spans.append((first, len(origins)))
    text = "".join(text_parts)
    rendered_lines = text.split("\n")
    sources = copy.sources
    starts = [span[0] for span in spans]

    def place(document_index: int, path: tuple, line: int, column: int) -> Place:
        try:
            return _place(document_index, path, line, column)
        except Exception:  # never raise: the template itself is the best we know
            return (source, 1, 1)

    def _place(document_index: int, path: tuple, line: int, column: int) -> Place:
        origin = origins[line - 1] if 1 <= line <= len(origins) else None
        if origin is None:  # the object's first line in its template
            at = bisect_right(starts, line) - 1  # the document holding the line (a bisection:
            span = spans[at] if at >= 0 and line <= spans[at][1] else None  # 10^5 documents)
            if span is None and 0 <= document_index < len(spans):
                span = spans[document_index]
            origin = next((o for o in origins[span[0] - 1:span[1]] if o), None) if span else None
            if origin is None or origin[0] >= len(sources):
                return (source, 1, 1)
            file_id, template_line = origin
            return (sources[file_id].path, template_line, _first_column(sources[file_id].lines,
                                                                         template_line))
        file_id, template_line = origin
        if file_id >= len(sources):
            return (source, 1, 1)
        lines = sources[file_id].lines
        rendered = rendered_lines[line - 1] if line <= len(rendered_lines) else ""
        return (sources[file_id].path, template_line,
                _column(lines[template_line - 1], path, rendered, column)
                if 1 <= template_line <= len(lines) else 1)

    return Piece(text, place)


def _first_column(lines: list[_Line], line: int) -> int:
    if not 1 <= line <= len(lines):
        return 1
    text = lines[line - 1].text
    return len(text) - len(text.lstrip(" \t")) + 1


_KEY_BEFORE = " \t-{,?"  # what may stand before a key on its line (and its start)
_TOKEN = re.compile(r"""(?:"[^"]*"|'[^']*'|[^\s:,\[\]{}#"']+)""")
_TOKEN_AFTER = " \t:,]}#"


def _column(line: _Line, path: tuple, rendered: str, column: int) -> int:
    """The key's column when the key is written literally on the template line, else the
    column of the first expression's ``{{``."""
    if path and isinstance(path[-1], str):
        key = re.compile(r"""(["']?)""" + re.escape(path[-1]) + r"""\1[ \t]*:(?=[ \t]|$)""")
        for start, end in line.literals:
            segment = line.text[start:end]
            for found in key.finditer(segment):
                at = found.start()
                if at == 0 or segment[at - 1] in _KEY_BEFORE:
                    return start + at + 1
    # A list item, the object itself, or a missing key's deepest existing place: the text
    # the rendered position starts with, when the template line has it literally.
    token = _TOKEN.match(rendered, max(column - 1, 0))
    word = token.group() if token is not None else ""
    for start, end in line.literals if word else ():
        segment = line.text[start:end]
        at = segment.find(word)
        while at >= 0:
            after = at + len(word)
            if ((at == 0 or segment[at - 1] in _KEY_BEFORE)
                    and (after == len(segment) or segment[after] in _TOKEN_AFTER)):
                return start + at + 1
            at = segment.find(word, at + 1)
    if line.actions:
        return line.actions[0] + 1
    if line.any_action >= 0:
        return line.any_action + 1
    return len(line.text) - len(line.text.lstrip(" \t")) + 1

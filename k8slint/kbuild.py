"""Kustomize build roots, built by the real kustomize, with every built field placed back in
the file a person edits.

**The graph.** A folder's kustomization (``kustomization.yaml``, ``.yml`` or
``Kustomization``) is read with the manifests' own bounded, tag-free loader. Its
``resources`` and ``bases`` that are folders, its ``components``, and the folders named by
``generators``/``transformers``/``validators`` are followed; everything else it reads is a
file of its tree: resource files, patches of every form (``patches``,
``patchesStrategicMerge``, ``patchesJson6902``), ``crds``, generator sources
(``files``, ``envs``, ``env``), ``configurations``, ``openapi.path``, ``replacements[].path``.
Files are recorded only inside their kustomization's folder, as kustomize's default load
restrictor allows; folders may lie elsewhere (``../base``), as kustomize allows, unless a
``top`` is given. Remote resources (URLs) are never followed. Loops, more than
``MAX_DEPTH`` levels or ``MAX_KUSTOMIZATIONS`` kustomizations in one tree stop the walk
(kustomize itself reports a loop when it builds). A build root is a kustomization of kind
``Kustomization`` (or none) that no other kustomization of the set reaches; kustomizations
reached only through a loop get a root of their own, so that their error is seen.

**The build.** The user's files are never written. A temporary folder (``tempfile``, removed
afterwards) holds a kustomization that names the root by a relative path, copies the root's
``sortOptions`` (kustomize honours them only at the top) and asks for
``buildMetadata: [originAnnotations]``: kustomize 5 then names each object's source file in a
``config.kubernetes.io/origin`` annotation (``path:`` for a resource file, ``configuredIn:``
for a generated object). The root keeps its own load restrictor (a folder resource is loaded
with its own root), so the build reads what ``kubectl kustomize <root>`` reads and gives the
same objects in the same order (tested byte for byte against plain builds); the annotations
are then cut out of the text, line for line (with ``annotations:`` when nothing else is left
in it), each cut checked against the nodes' positions. A ``Component`` folder, which cannot be
a resource, is named under ``components:`` instead, as a plain build of it would read it.
The child process runs in a session of its own (no terminal), with no standard input, its
output bounded (``max_output``), killed with its process group at the time limit, offline
unless ``network=True`` (proxies pointed at a closed port, git with no protocol allowed: a
hostile repository cannot make the linter fetch a URL), and its temporary files inside the
temporary folder. kustomize's plugins, exec functions and
Helm inflation stay off (their flags are never passed). Every failure is a :class:`BuildError`
at the root's kustomization (at the entry the message names, when the root names it), with
kustomize's message cleaned: no control characters, the wrapper's paths replaced by the
user's, bounded length.

**Positions.** ``place(document, path, line, column)`` first shortens ``path`` to the deepest
part that exists in the built object (as :func:`loader.locate` does), then asks, from the root
inwards (each kustomization's ``images``, ``replicas``, ``namespace``, then its patches, last
first, then its components, then the kustomizations it includes that lead to the object's
origin file), which entry last set that field; a field counts as set only when its built value
differs from the origin file's:

- ``images:`` entry: a path ending in ``image`` whose origin image has the entry's name;
- ``replicas:`` entry: ``spec.replicas`` of the object the entry names;
- ``namespace:``: ``metadata.namespace``;
- a strategic-merge patch (a file, or inline text) for the object (by ``target``, else by the
  patch's kind and name) that holds the path, with a value that replaces rather than merges
  (a scalar, a list that is not a list of named items, or anything the origin lacks);
- a JSON 6902 operation (``add``, ``replace``, ``copy``, ``move``) whose ``path`` is the field
  or one of its parents (then the key inside its ``value`` when it is there).

A patch file is pointed at its key (or operation item); an inline patch at the
kustomization's ``patch:`` key (or the ``patchesStrategicMerge`` item); an entry at its first
key. Otherwise the field is placed in the origin file: the object with the same kind whose
name, as written there, is part of the built name (prefixes and suffixes added later), then
the path by keys, list items matched by their ``name`` in lists of named items (containers,
env, ports, volumes) and by index elsewhere, falling back to the deepest key that exists.
Generated objects (``configMapGenerator``, ``secretGenerator``) point at their generator entry.

**Limits.** Names are matched without replaying kustomize's renames, so a patch or entry is
credited when its name is between the origin name and the built name. Label and annotation
selectors of patch targets are read as ``key=value`` lists (anything else matches). A JSON
6902 index is read against the built list. ``commonLabels``, ``labels``, name prefixes and
suffixes, replacements and vars change values without being credited: such fields point at
the origin file. Objects from remote bases have no local origin and point at the root's
kustomization. When the root's own kustomization asks for origin annotations, they are cut
out all the same. Place functions hold the files they read in memory (each read once, with a
size bound).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .kustomize import KUSTOMIZATION_NAMES
from .loader import DecodeProblem, Document, Position, decode, load_text, locate

Place = tuple[str, int, int]  # (real absolute path of the source file, 1-based line, column)

MAX_DEPTH = 64  # kustomizations nested within one another
MAX_KUSTOMIZATIONS = 2_000  # kustomizations in one tree
MAX_FILE_SIZE = 8 * 1024 * 1024  # a kustomization, patch or origin file read for positions
MAX_OUTPUT = 64 * 1024 * 1024  # kustomize's standard output
MAX_MESSAGE = 2_000  # characters of an error message

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"


class Piece(NamedTuple):
    """A rendered YAML stream and where each of its fields comes from."""

    text: str
    place: Callable[[int, tuple, int, int], Place]


class Tree(NamedTuple):
    """A build root and every local file its build reads (real paths)."""

    root: str  # the root's folder
    files: frozenset[str]
    patches: frozenset[str]  # those of ``files`` that are patches


class BuildError(NamedTuple):
    file: str  # the root's kustomization (real path)
    line: int
    column: int
    message: str


class Built(NamedTuple):
    pieces: list[Piece]
    error: BuildError | None
    seconds: float


def kustomize_command() -> list[str] | None:
    """``kustomize build`` when kustomize is on PATH, else ``kubectl kustomize``, else None."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def kustomization_file(folder: str) -> str | None:
    """The folder's kustomization file, under the first of kustomize's names present."""
    for name in KUSTOMIZATION_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


# --- reading files ----------------------------------------------------------------------------


class _Loaded(NamedTuple):
    documents: list[Document]
    error: str | None


def _read(path: str, max_size: int = MAX_FILE_SIZE) -> _Loaded:
    """A YAML file's documents, read with a size bound; never raises."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read(max_size + 1)
        if len(raw) > max_size:
            return _Loaded([], f"larger than {max_size:,} bytes")
        loaded = load_text(decode(raw))
    except (OSError, DecodeProblem, ValueError) as exc:
        return _Loaded([], str(exc))
    except RecursionError:
        return _Loaded([], "nested too deeply")
    problem = loaded.problem.message if loaded.problem is not None else None
    return _Loaded(loaded.documents, problem)


def _is_remote(entry: str) -> bool:
    lowered = entry.lower()
    return ("://" in entry or lowered.startswith(("git@", "github.com/", "gitlab.com/", "bitbucket.org/"))
            or "?ref=" in entry or "?version=" in entry)


def _usable(entry: object) -> bool:
    return isinstance(entry, str) and bool(entry) and "\0" not in entry and "\n" not in entry


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _Kustomization:
    """One kustomization file: its data, its nodes, and what it names."""

    __slots__ = ("folder", "file", "document", "data", "kind", "dirs", "components", "files",
                 "patches", "problem")

    def __init__(self, folder: str, file: str):
        self.folder = folder
        self.file = file
        self.document: Document | None = None
        self.data: dict = {}
        self.kind: str | None = None
        self.dirs: list[str] = []  # resources/bases that are folders (and generator folders)
        self.components: list[str] = []
        self.files: set[str] = set()
        self.patches: set[str] = set()
        self.problem: str | None = None


class _Graph:
    """Kustomizations read once each, by real folder path."""

    def __init__(self, top: str | None = None):
        self.top = os.path.realpath(top) if top is not None else None
        self.cache: dict[str, _Kustomization | None] = {}

    def get(self, folder: str) -> _Kustomization | None:
        folder = os.path.realpath(folder)
        if folder in self.cache:
            return self.cache[folder]
        found = None
        if self.top is None or _inside(folder, self.top):
            file = kustomization_file(folder)
            real = os.path.realpath(file) if file is not None else None
            if real is not None and (self.top is None or _inside(real, self.top)):
                found = self._read(folder, real)
        self.cache[folder] = found
        return found

    def _read(self, folder: str, file: str) -> _Kustomization:
        k = _Kustomization(folder, file)
        loaded = _read(file)
        k.problem = loaded.error
        if loaded.documents:
            k.document = loaded.documents[0]
            if isinstance(k.document.data, dict):
                k.data = k.document.data
        kind = k.data.get("kind")
        k.kind = kind if isinstance(kind, str) else None
        data = k.data

        def local(entry: object) -> str | None:
            """A local path an entry names (a file inside the folder, or any folder)."""
            if not _usable(entry):
                return None
            assert isinstance(entry, str)
            path = os.path.realpath(os.path.join(folder, entry))
            if os.path.isdir(path):
                return path if self.top is None or _inside(path, self.top) else None
            if os.path.isfile(path) and _inside(path, folder):
                return path
            return None

        def add_entries(key: str, *, patch: bool = False, follow: bool = False) -> None:
            for entry in _list(data.get(key)):
                if isinstance(entry, dict):
                    entry = entry.get("path")
                if _usable(entry) and not _is_remote(entry):
                    path = local(entry)
                    if path is None:
                        continue
                    if os.path.isdir(path):
                        if follow:
                            k.dirs.append(path)
                    else:
                        k.files.add(path)
                        if patch:
                            k.patches.add(path)

        add_entries("resources", follow=True)
        add_entries("bases", follow=True)
        for entry in _list(data.get("components")):
            path = local(entry) if _usable(entry) and not _is_remote(entry) else None
            if path is not None and os.path.isdir(path):
                k.components.append(path)
        for key in ("patches", "patchesStrategicMerge", "patchesJson6902"):
            add_entries(key, patch=True)
        for key in ("generators", "transformers", "validators"):
            add_entries(key, follow=True)
        add_entries("crds")
        add_entries("configurations")
        add_entries("replacements")
        openapi = data.get("openapi")
        if isinstance(openapi, dict):
            path = local(openapi.get("path"))
            if path is not None and os.path.isfile(path):
                k.files.add(path)
        for key in ("configMapGenerator", "secretGenerator"):
            for generator in _list(data.get(key)):
                if not isinstance(generator, dict):
                    continue
                names = [e.split("=", 1)[-1] for e in _list(generator.get("files")) if _usable(e)]
                names += [e for e in _list(generator.get("envs")) if _usable(e)]
                if _usable(generator.get("env")):
                    names.append(generator["env"])
                for name in names:
                    path = local(name)
                    if path is not None and os.path.isfile(path):
                        k.files.add(path)
        return k

    def walk(self, root: str) -> Iterator[tuple[_Kustomization, int]]:
        """The kustomizations a build of ``root`` reads, each once, with its depth."""
        start = self.get(root)
        if start is None:
            return
        seen = {start.folder}
        stack = [(start, 0)]
        count = 0
        while stack and count < MAX_KUSTOMIZATIONS:
            k, depth = stack.pop()
            count += 1
            yield k, depth
            if depth >= MAX_DEPTH:
                continue
            for folder in reversed(k.dirs + k.components):
                child = self.get(folder)
                if child is not None and child.folder not in seen:
                    seen.add(child.folder)
                    stack.append((child, depth + 1))


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def build_roots(kustomization_dirs: Iterable[str], *, top: str | None = None) -> list[Tree]:
    """The build roots among ``kustomization_dirs``, each with the files its build reads.

    A root is of kind ``Kustomization`` (or no kind) and no other kustomization of the set
    reaches it through resources, bases or components. With ``top``, folders outside it are
    neither read nor listed."""
    graph = _Graph(top)
    folders = sorted({os.path.realpath(d) for d in kustomization_dirs})
    present = [f for f in folders if graph.get(f) is not None]
    reached: set[str] = set()
    for folder in present:
        for k, depth in graph.walk(folder):
            if depth > 0:
                reached.add(k.folder)
    candidates = [f for f in present if _buildable(graph.get(f))]
    roots = [f for f in candidates if f not in reached]
    covered: set[str] = set()
    for folder in roots:
        covered.update(k.folder for k, _ in graph.walk(folder))
    for folder in candidates:  # kustomizations in a loop that nothing outside it includes
        if folder not in covered:
            roots.append(folder)
            covered.update(k.folder for k, _ in graph.walk(folder))
    trees = []
    for folder in sorted(roots):
        files: set[str] = set()
        patches: set[str] = set()
        for k, _ in graph.walk(folder):
            files.add(k.file)
            files.update(k.files)
            patches.update(k.patches)
        trees.append(Tree(folder, frozenset(files), frozenset(patches)))
    return trees


def _buildable(k: _Kustomization | None) -> bool:
    return k is not None and (k.kind is None or k.kind == "Kustomization")


# --- running kustomize ------------------------------------------------------------------------


class _Run(NamedTuple):
    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    overflow: bool


def _run(argv: list[str], cwd: str, env: dict[str, str], timeout: float, max_output: int) -> _Run:
    """Run ``argv`` with no terminal and no input, its output bounded, killed (with its
    process group) at the time limit or when its output passes ``max_output``."""
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True, close_fds=True)
    assert process.stdout is not None and process.stderr is not None
    out, err = bytearray(), bytearray()
    timed_out = overflow = False
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, out)
        selector.register(process.stderr, selectors.EVENT_READ, err)
        open_streams = 2
        while open_streams:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in selector.select(min(left, 1.0)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                buffer = key.data
                if buffer is err:
                    if len(err) < 1_000_000:
                        err.extend(chunk[: 1_000_000 - len(err)])
                else:
                    out.extend(chunk)
                    if len(out) > max_output:
                        overflow = True
            if overflow:
                break
    if timed_out or overflow:
        _kill(process)
    try:
        returncode = process.wait(timeout=max(deadline - time.monotonic(), 5.0))
    except subprocess.TimeoutExpired:
        _kill(process)
        timed_out = True
        returncode = None
    finally:
        process.stdout.close()
        process.stderr.close()
    return _Run(returncode, bytes(out), bytes(err), timed_out, overflow)


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _child_env(tmp: str, network: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUSTOMIZE_")}
    env.update(TMPDIR=tmp, GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    if not network:
        closed = "http://" + _OFFLINE
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
            env[name] = closed
        for name in ("NO_PROXY", "no_proxy"):
            env.pop(name, None)
        env["GIT_ALLOW_PROTOCOL"] = "none"
    return env


def build(root: str, timeout: float = 60.0, *, max_output: int = MAX_OUTPUT,
          network: bool = False, command: list[str] | None = None) -> Built:
    """Build the kustomization in folder ``root``: one piece (the whole stream), or an error."""
    started = time.monotonic()
    folder = os.path.realpath(root)
    file = kustomization_file(folder)
    error_file = os.path.realpath(file) if file else os.path.join(folder, KUSTOMIZATION_NAMES[0])

    def failed(message: str, line: int = 1, column: int = 1) -> Built:
        return Built([], BuildError(error_file, line, column, _clean(message)),
                     time.monotonic() - started)

    if file is None:
        return failed(f"no kustomization file ({', '.join(KUSTOMIZATION_NAMES)}) in {folder}")
    argv = command if command is not None else kustomize_command()
    if argv is None:
        return failed("neither kustomize nor kubectl is on PATH")
    graph = _Graph()
    top = graph.get(folder)
    if top is None:  # pragma: no cover - the file was just found
        return failed("the kustomization cannot be read")
    if _inside(os.path.realpath(tempfile.gettempdir()), folder):
        return failed("the temporary folder would be inside the kustomization's tree")
    try:
        tmp = os.path.realpath(tempfile.mkdtemp(prefix="k8slint-kbuild-"))
    except OSError as exc:
        return failed(f"cannot make a temporary folder: {exc}")
    try:
        if _inside(tmp, folder):
            return failed("the temporary folder would be inside the kustomization's tree")
        wrapper = os.path.join(tmp, "wrap")
        os.mkdir(wrapper)
        os.mkdir(os.path.join(tmp, "tmp"))
        relative = os.path.relpath(folder, wrapper)
        # A Component cannot be a resource; built alone, it is a component of nothing else.
        listed_as = "components" if top.kind == "Component" else "resources"
        spec: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                listed_as: [relative], "buildMetadata": ["originAnnotations"]}
        if isinstance(top.data.get("sortOptions"), dict):
            spec["sortOptions"] = top.data["sortOptions"]
        with open(os.path.join(wrapper, "kustomization.yaml"), "w", encoding="utf-8") as stream:
            json.dump(spec, stream, default=str)
        try:
            ran = _run(list(argv) + [wrapper], tmp, _child_env(os.path.join(tmp, "tmp"), network),
                       timeout, max_output)
        except OSError as exc:
            return failed(f"cannot run {argv[0]}: {exc}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    paths = (wrapper, relative, folder)
    if ran.timed_out:
        return failed(f"the build ran past its time limit ({timeout:g} s) and was stopped")
    if ran.overflow:
        return failed(f"the build's output passed {max_output:,} bytes and it was stopped")
    if ran.returncode != 0:
        message = _kustomize_message(ran.stderr.decode("utf-8", "replace"), paths)
        line, column = _entry_position(top, message)
        if not network and (_OFFLINE in message or "transport 'https' not allowed" in message):
            message += " (k8slint builds offline: remote resources are not fetched)"
        return failed(message or f"{argv[0]} failed (exit code {ran.returncode})", line, column)
    try:
        text = ran.stdout.decode("utf-8")
    except UnicodeDecodeError:
        return failed("the build's output is not UTF-8 text")
    cleaned = _strip_origins(text)
    if isinstance(cleaned, str):
        return failed(cleaned)
    clean_text, origins, objects = cleaned
    placer = _Placer(graph, top, wrapper, origins, objects)
    return Built([Piece(clean_text, placer.place)], None, time.monotonic() - started)


_OFFLINE = "127.0.0.1:9"  # the closed port the child's proxies point at
# kubectl's log line (after any warnings kustomize printed first); its message is quoted.
_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] "command failed" err="(.*)"[ \t]*$', re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _kustomize_message(stderr: str, paths: tuple[str, str, str]) -> str:
    """kustomize's own words, without kubectl's log prefix or the wrapper around the root."""
    wrapper, relative, folder = paths
    message = stderr.strip()
    match = _KLOG.search(message)
    if match:
        message = match.group(1).replace('\\"', '"').replace("\\\\", "\\")
    if message.startswith("Error: "):
        message = message[len("Error: "):]
    # The wrapper's own layer ends where kustomize starts on the root (a component root's
    # message is quoted once more).
    for quoted in (True, False):
        inner = ('"' if quoted else "") + f"recursed accumulation of path '{folder}': "
        if inner in message:
            message = message.split(inner, 1)[1]
            if quoted:
                message = message.removesuffix('"').replace('\\"', '"').replace("\\\\", "\\")
            break
    message = message.replace(wrapper + os.sep + relative, folder).replace(relative, folder)
    # A root whose own kustomization cannot be read fails inside the wrapper's layer.
    message = message.split(f"couldn't make target for path '{folder}': ", 1)[-1]
    return message.replace(wrapper, "<build>")


def _clean(message: str) -> str:
    message = _CONTROL.sub(" ", message.replace("\n", " ").replace("\t", " ")).strip()
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _entry_position(k: _Kustomization, message: str) -> tuple[int, int]:
    """Where the root's kustomization names what the message quotes first, else 1:1."""
    if k.document is None:
        return 1, 1
    ranks: dict[str, int] = {}
    for text in re.findall(r"(?='([^'\n]{1,500})')", message[:20_000]):  # overlapping: quotes nest
        ranks.setdefault(text, len(ranks))
    best: tuple[int, int, int] | None = None
    for node in _scalars(k.document.root):
        value = node.value
        if not value or "\0" in value:
            continue
        rank = min(ranks.get(value, len(ranks)),
                   ranks.get(os.path.normpath(os.path.join(k.folder, value)), len(ranks)))
        if rank < len(ranks) and (best is None or rank < best[0]):
            best = (rank, node.start_mark.line + 1, node.start_mark.column + 1)
    return (best[1], best[2]) if best else (1, 1)


def _scalars(node: Node) -> Iterator[ScalarNode]:
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            yield current
        elif isinstance(current, SequenceNode):
            stack.extend(reversed(current.value))
        elif isinstance(current, MappingNode):
            for key, value in reversed(current.value):
                stack.extend((value, key))


def _strip_origins(text: str) -> str | tuple[str, list[dict | None], list[Any]]:
    """The text without origin annotations, each document's origin, and each document's
    data as the text returned has it; or a message when the output cannot be read.

    The lines cut are the annotation's key and its value's lines (and ``annotations:`` when
    it holds nothing else), found at their nodes' positions and checked as text: every line
    after the key is indented deeper than the key, so nothing else can go with them.
    (Checking by a second parse of the text cost as much again as the first: 0.9 s on a
    2 MB build.)"""
    loaded = load_text(text)
    if loaded.problem is not None:
        return f"kustomize's output cannot be read: {loaded.problem.message}"
    lines = text.splitlines(keepends=True)
    origins: list[dict | None] = []
    remove: set[int] = set()
    data_list: list[Any] = []
    for document in loaded.documents:
        origin = None
        data = document.data
        annotations = _get(data, ("metadata", "annotations"))
        if isinstance(annotations, dict) and isinstance(annotations.get(ORIGIN_ANNOTATION), str):
            parsed = load_text(annotations[ORIGIN_ANNOTATION])
            if parsed.documents and isinstance(parsed.documents[0].data, dict):
                origin = parsed.documents[0].data
            cut = _annotation_lines(document.root, len(annotations) == 1, lines)
            if cut is None:
                return "kustomize's origin annotations are not where expected in its output"
            remove.update(cut)
            data = _without_origin(data)
        origins.append(origin)
        data_list.append(data)
    if not remove:
        return text, origins, data_list
    return "".join(line for n, line in enumerate(lines) if n not in remove), origins, data_list


def _get(data: Any, path: tuple) -> Any:
    for step in path:
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _without_origin(data: dict) -> dict:
    metadata = dict(data["metadata"])
    annotations = {k: v for k, v in metadata["annotations"].items() if k != ORIGIN_ANNOTATION}
    if annotations:
        metadata["annotations"] = annotations
    else:
        del metadata["annotations"]
    return {**data, "metadata": metadata}


def _pair(node: Node, key: str) -> tuple[Node, Node] | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return key_node, value_node
    return None


def _annotation_lines(root: Node, whole: bool, lines: list[str]) -> range | None:
    """The 0-based lines of the origin annotation (from ``annotations:`` when ``whole``)."""
    metadata = _pair(root, "metadata")
    annotations = _pair(metadata[1], "annotations") if metadata else None
    origin = _pair(annotations[1], ORIGIN_ANNOTATION) if annotations else None
    if annotations is None or origin is None:
        return None
    key = origin[0].start_mark
    end = origin[1].end_mark  # a block scalar ends at the start of the line after it
    last = end.line if end.column == 0 else end.line + 1
    if whole:
        first = annotations[0].start_mark
        if first.line + 1 != key.line or lines[first.line].strip() != "annotations:":
            return None
    elif not lines[key.line].lstrip().startswith(ORIGIN_ANNOTATION + ":"):
        return None
    for line in lines[key.line + 1:last]:
        if line.strip() and len(line) - len(line.lstrip(" ")) <= key.column:
            return None
    return range(annotations[0].start_mark.line if whole else key.line, max(last, key.line + 1))


# --- positions ----------------------------------------------------------------------------------


_NAMED_LISTS_KEY = "name"
_SET_OPS = ("add", "replace", "copy", "move")
_IMAGE_PATH_END = "image"
# What a strategic-merge patch names its target by, not what it sets (() is the object).
_IDENTITY = ((), ("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace"))


class _Patch(NamedTuple):
    strategic: bool
    file: str  # where its positions are
    documents: list[Document]
    inline: Position | None  # the kustomization key an inline patch is written under
    target: dict | None


class _Setter(NamedTuple):
    kind: str  # images, replicas, namespace, patch
    kustomization: _Kustomization
    entry: int  # the entry's index in its list (images, replicas)
    patch: _Patch | None


def _entry(k: _Kustomization, path: tuple) -> Place:
    if k.document is None:
        return k.file, 1, 1
    where = locate(k.document.root, path)
    return k.file, where.line, where.column


class _Placer:
    """The place function of one build: origin files, patches and entries read once."""

    def __init__(self, graph: _Graph, root: _Kustomization, wrapper: str, origins: list[dict | None],
                 objects: list[Any]):
        self.graph = graph
        self.root = root
        self.wrapper = wrapper
        self.origins = origins
        self.objects = objects  # each built document's data
        self.files: dict[str, _Loaded] = {}
        self.patches: dict[str, list[_Patch]] = {}
        self.order: list[tuple[_Kustomization, int]] | None = None
        self.chains: dict[str, list[_Kustomization]] = {}

    # The contract: never raise; the best enclosing position known otherwise.
    def place(self, document_index: int, path: tuple, line: int, column: int) -> Place:
        fallback: Place = (self.root.file, 1, 1)
        try:
            fallback = self._object_start(document_index) or fallback
            return self._place(document_index, tuple(path)) or fallback
        except Exception:  # a position is never worth a crash
            return fallback

    def _source(self, document_index: int) -> tuple[str, str] | None:
        """(origin file or generating kustomization, 'path' or 'configuredIn')."""
        origin = self.origins[document_index] if 0 <= document_index < len(self.origins) else None
        if not isinstance(origin, dict) or origin.get("repo"):
            return None
        for key in ("path", "configuredIn"):
            value = origin.get(key)
            if isinstance(value, str) and value:
                return os.path.realpath(os.path.normpath(os.path.join(self.wrapper, value))), key
        return None

    def _load(self, file: str) -> _Loaded:
        if file not in self.files:
            self.files[file] = _read(file)
        return self.files[file]

    def _origin_document(self, document_index: int) -> tuple[str, Document] | None:
        source = self._source(document_index)
        if source is None or source[1] != "path":
            return None
        built = self.objects[document_index]
        documents = [d for d in self._load(source[0]).documents if isinstance(d.data, dict)]
        kind, name = _get(built, ("kind",)), _get(built, ("metadata", "name"))
        same_kind = [d for d in documents if d.data.get("kind") == kind] or documents
        best = None
        for d in same_kind:
            written = _get(d.data, ("metadata", "name"))
            if written == name:
                return source[0], d
            if (isinstance(written, str) and isinstance(name, str) and written and written in name
                    and (best is None or len(written) > len(best[1]))):
                best = (d, written)
        if best is not None:
            return source[0], best[0]
        return (source[0], same_kind[0]) if same_kind else None

    def _object_start(self, document_index: int) -> Place | None:
        found = self._origin_document(document_index)
        if found is not None:
            where = locate(found[1].root, ())
            return found[0], where.line, where.column
        source = self._source(document_index)
        if source is not None:
            generator = self._generator_entry(document_index, source[0])
            return generator or (source[0], 1, 1)
        return None

    def _generator_entry(self, document_index: int, file: str) -> Place | None:
        k = self.graph.get(os.path.dirname(file))
        built = self.objects[document_index]
        name = _get(built, ("metadata", "name"))
        key = {"ConfigMap": "configMapGenerator", "Secret": "secretGenerator"}.get(_get(built, ("kind",)))
        if k is None or key is None or not isinstance(name, str):
            return None
        best = None
        for i, entry in enumerate(_list(k.data.get(key))):
            written = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(written, str) and written in name and (best is None or len(written) > best[1]):
                best = (i, len(written))
        return _entry(k, (key, best[0])) if best else _entry(k, (key,))

    def _place(self, document_index: int, path: tuple) -> Place | None:
        built = self.objects[document_index]
        path = _existing(built, path)
        steps = _named_steps(built, path)
        origin = self._origin_document(document_index)
        source = self._source(document_index)
        origin_data = origin[1].data if origin else None
        origin_path, complete = _translate(origin_data, steps) if origin else ((), False)
        differs = not complete or _get(origin_data, origin_path) != _get(built, path)
        if differs and source is not None:
            found = self._setter(document_index, built, path, steps, origin_data, source[0])
            if found is not None:
                return found
        if origin is not None:
            where = locate(origin[1].root, origin_path)
            return origin[0], where.line, where.column
        if source is not None:
            return self._generator_entry(document_index, source[0])
        return None

    # --- who set a field --------------------------------------------------------------------

    def _chain(self, source: str) -> list[_Kustomization]:
        """The kustomizations whose builds include ``source``, outermost first (pre-order)."""
        if source in self.chains:
            return self.chains[source]
        if self.order is None:
            self.order = list(self.graph.walk(self.root.folder))
        reach: dict[str, bool] = {}

        def includes(k: _Kustomization, depth: int) -> bool:
            if k.folder in reach:
                return reach[k.folder]
            reach[k.folder] = False  # a loop includes nothing more
            found = source == k.file or source in k.files
            if depth < MAX_DEPTH:
                for folder in k.dirs + k.components:
                    child = self.graph.get(folder)
                    if child is not None and includes(child, depth + 1):
                        found = True
            reach[k.folder] = found
            return found

        chain = []
        for k, depth in self.order:
            if includes(k, depth):
                chain.append(k)
        self.chains[source] = chain
        return chain

    def _setters(self, k: _Kustomization) -> Iterator[_Setter]:
        """What ``k`` applies, the last applied first (its components come after it)."""
        for i in reversed(range(len(_list(k.data.get("images"))))):
            yield _Setter("images", k, i, None)
        for i in reversed(range(len(_list(k.data.get("replicas"))))):
            yield _Setter("replicas", k, i, None)
        if "namespace" in k.data:
            yield _Setter("namespace", k, 0, None)
        for patch in reversed(self._patches(k)):
            yield _Setter("patch", k, 0, patch)

    def _setter(self, document_index: int, built: dict, path: tuple, steps: list,
                origin_data: Any, source: str) -> Place | None:
        chain = self._chain(source)
        ordered: list[_Kustomization] = []

        def expand(k: _Kustomization, depth: int) -> None:
            # A kustomization, then its components (applied before its own entries, the
            # last listed last): each applies to all its kustomization has gathered.
            ordered.append(k)
            for folder in reversed(k.components):
                component = self.graph.get(folder)
                if component is not None and depth < MAX_DEPTH and component not in ordered:
                    expand(component, depth + 1)

        for k in chain:
            if k.kind != "Component" or k is self.root:  # (others come with their kustomization)
                expand(k, 0)
        seen: set[str] = set()
        names = _names(origin_data, built)
        for k in ordered:
            if k.folder in seen:
                continue
            seen.add(k.folder)
            for setter in self._setters(k):
                found = self._sets(setter, built, path, steps, origin_data, names)
                if found is not None:
                    return found
        return None

    def _sets(self, setter: _Setter, built: dict, path: tuple, steps: list, origin_data: Any,
              names: tuple[str, str]) -> Place | None:
        k = setter.kustomization
        if setter.kind == "namespace":
            return _entry(k, ("namespace",)) if path == ("metadata", "namespace") else None
        if setter.kind == "replicas":
            entry = _list(k.data.get("replicas"))[setter.entry]
            if (path == ("spec", "replicas") and isinstance(entry, dict)
                    and _name_matches(entry.get("name"), names)):
                return _entry(k, ("replicas", setter.entry))
            return None
        if setter.kind == "images":
            entry = _list(k.data.get("images"))[setter.entry]
            if not path or path[-1] != _IMAGE_PATH_END or not isinstance(entry, dict):
                return None
            origin_path, complete = _translate(origin_data, steps)
            before = _get(origin_data, origin_path) if complete else None
            after = _get(built, path)
            wanted = entry.get("name")
            if isinstance(wanted, str) and (
                    (isinstance(before, str) and _image_name(before) == wanted)
                    or (isinstance(after, str) and _image_name(after) in (wanted, entry.get("newName")))):
                return _entry(k, ("images", setter.entry))
            return None
        patch = setter.patch
        assert patch is not None
        if patch.strategic:
            return self._strategic(patch, built, path, steps, origin_data, names)
        return self._json6902(patch, built, path, names)

    def _strategic(self, patch: _Patch, built: dict, path: tuple, steps: list, origin_data: Any,
                   names: tuple[str, str]) -> Place | None:
        for document in patch.documents:
            data = document.data
            if not isinstance(data, dict):
                continue
            if patch.target is not None:
                if not _target_matches(patch.target, built, names):
                    continue
            elif data.get("kind") != built.get("kind") or not _name_matches(
                    _get(data, ("metadata", "name")), names):
                continue
            patch_path, complete = _translate(data, steps)
            if not complete or path[:2] in _IDENTITY:
                continue
            value = _get(data, patch_path)
            in_origin = _translate(origin_data, steps)[1]
            merges = isinstance(value, dict) or (
                isinstance(value, list) and value and all(
                    isinstance(v, dict) and isinstance(v.get(_NAMED_LISTS_KEY), str) for v in value))
            if merges and in_origin:
                continue
            if patch.inline is not None:
                return patch.file, patch.inline.line, patch.inline.column
            where = locate(document.root, patch_path)
            return patch.file, where.line, where.column
        return None

    def _json6902(self, patch: _Patch, built: dict, path: tuple, names: tuple[str, str]) -> Place | None:
        if patch.target is None or not _target_matches(patch.target, built, names):
            return None
        for document in patch.documents:
            operations = document.data
            if not isinstance(operations, list):
                continue
            for i in reversed(range(len(operations))):
                operation = operations[i]
                if not isinstance(operation, dict) or operation.get("op") not in _SET_OPS:
                    continue
                pointer = _pointer(built, operation.get("path"))
                if pointer is None or path[: len(pointer)] != pointer:
                    continue
                if patch.inline is not None:
                    return patch.file, patch.inline.line, patch.inline.column
                rest = path[len(pointer):]
                item = locate(document.root, (i,))
                if rest and "value" in operation:
                    value_steps = _named_steps(_get(built, pointer), rest)
                    value_path, complete = _translate(operation["value"], value_steps)
                    if complete:
                        where = locate(document.root, (i, "value") + value_path)
                        return patch.file, where.line, where.column
                return patch.file, item.line, item.column
        return None

    def _patches(self, k: _Kustomization) -> list[_Patch]:
        """The patches of ``k`` in the order kustomize applies them."""
        if k.folder in self.patches:
            return self.patches[k.folder]
        found: list[_Patch] = []
        self.patches[k.folder] = found
        for key in ("patchesStrategicMerge", "patchesJson6902", "patches"):
            for i, entry in enumerate(_list(k.data.get(key))):
                target = None
                if isinstance(entry, dict):
                    target = entry.get("target") if isinstance(entry.get("target"), dict) else None
                    if _usable(entry.get("path")):
                        patch = self._patch_file(k, entry["path"], target)
                    elif isinstance(entry.get("patch"), str):
                        patch = self._inline(k, entry["patch"], target, (key, i, "patch"))
                    else:
                        patch = None
                elif _usable(entry) and key == "patchesStrategicMerge" and not _looks_inline(entry):
                    patch = self._patch_file(k, entry, None)
                elif isinstance(entry, str):
                    patch = self._inline(k, entry, None, (key, i))
                else:
                    patch = None
                if patch is not None:
                    if key == "patchesJson6902" and patch.strategic:
                        continue
                    found.append(patch)
        return found

    def _patch_file(self, k: _Kustomization, entry: str, target: dict | None) -> _Patch | None:
        file = os.path.realpath(os.path.join(k.folder, entry))
        if file not in k.files:  # outside the folder, missing or remote: kustomize refuses it
            return None
        documents = self._load(file).documents
        strategic = not (documents and isinstance(documents[0].data, list))
        return _Patch(strategic, file, documents, None, target)

    def _inline(self, k: _Kustomization, text: str, target: dict | None, where: tuple) -> _Patch | None:
        if k.document is None:
            return None
        loaded = load_text(text)
        strategic = not (loaded.documents and isinstance(loaded.documents[0].data, list))
        return _Patch(strategic, k.file, loaded.documents, locate(k.document.root, where), target)


def _looks_inline(entry: str) -> bool:
    return "\n" in entry or entry.lstrip().startswith(("{", "apiVersion:", "kind:"))


def _existing(data: Any, path: tuple) -> tuple:
    """The longest start of ``path`` that is present in ``data``."""
    for n, step in enumerate(path):
        if ((isinstance(data, dict) and not isinstance(step, int) and step in data)
                or (isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data))):
            data = data[step]
        else:
            return path[:n]
    return path


def _named_steps(data: Any, path: tuple) -> list:
    """``path`` with items of named lists replaced by ``("name", their name)``."""
    steps: list = []
    for step in path:
        if isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            item = data[step]
            name = item.get(_NAMED_LISTS_KEY) if isinstance(item, dict) else None
            steps.append(("name", name) if isinstance(name, str) else step)
            data = item
        else:
            steps.append(step)
            data = data.get(step) if isinstance(data, dict) else None
    return steps


def _translate(data: Any, steps: list) -> tuple[tuple, bool]:
    """The concrete path of ``steps`` in ``data``, as far as it goes, and whether whole."""
    path: list = []
    for step in steps:
        if isinstance(step, tuple):
            index = None
            if isinstance(data, list):
                for i, item in enumerate(data):
                    if isinstance(item, dict) and item.get(_NAMED_LISTS_KEY) == step[1]:
                        index = i
                        break
            if index is None:
                return tuple(path), False
            path.append(index)
            data = data[index]
        elif isinstance(step, int):
            if not (isinstance(data, list) and 0 <= step < len(data)):
                return tuple(path), False
            path.append(step)
            data = data[step]
        else:
            if not (isinstance(data, dict) and step in data):
                return tuple(path), False
            path.append(step)
            data = data[step]
    return tuple(path), True


def _pointer(built: Any, pointer: object) -> tuple | None:
    """A JSON pointer as a path into the built object (``-`` read as the last item)."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        return None
    path: list = []
    data = built
    for raw in pointer[1:].split("/"):
        segment = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(data, list):
            if segment == "-":
                index = len(data) - 1
            elif segment.isdigit():
                index = int(segment)
            else:
                return None
            path.append(index)
            data = data[index] if 0 <= index < len(data) else None
        else:
            path.append(segment)
            data = data.get(segment) if isinstance(data, dict) else None
    return tuple(path)


def _names(origin_data: Any, built: dict) -> tuple[str, str]:
    """(the object's name in its origin file, its built name)."""
    built_name = _get(built, ("metadata", "name"))
    origin_name = _get(origin_data, ("metadata", "name"))
    built_name = built_name if isinstance(built_name, str) else ""
    return (origin_name if isinstance(origin_name, str) else built_name), built_name


def _name_matches(name: object, names: tuple[str, str]) -> bool:
    """A name given at some level of the build: the origin name, possibly with prefixes and
    suffixes that the built name still holds."""
    origin, built = names
    return isinstance(name, str) and bool(name) and (
        name in (origin, built) or (origin in name and name in built))


def _target_matches(target: dict, built: dict, names: tuple[str, str]) -> bool:
    kind = target.get("kind")
    if isinstance(kind, str) and kind and kind != built.get("kind"):
        return False
    api_version = built.get("apiVersion")
    api_version = api_version if isinstance(api_version, str) else ""
    group, _, version = api_version.rpartition("/")
    if isinstance(target.get("group"), str) and target["group"] != group:
        return False
    if isinstance(target.get("version"), str) and target["version"] and target["version"] != version:
        return False
    name = target.get("name")
    if isinstance(name, str) and name and not (
            _name_matches(name, names) or _regex_matches(name, names[1]) or _regex_matches(name, names[0])):
        return False
    for key, field in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        selector = target.get(key)
        if isinstance(selector, str) and not _selector_matches(selector, _get(built, ("metadata", field))):
            return False
    return True


def _regex_matches(pattern: str, name: str) -> bool:
    try:
        import re2  # Go's regular expressions, as kustomize reads them; linear time

        return re2.fullmatch(pattern, name) is not None
    except Exception:  # an unreadable pattern matches nothing
        return pattern == name


def _selector_matches(selector: str, labels: Any) -> bool:
    labels = labels if isinstance(labels, dict) else {}
    for term in selector.split(","):
        term = term.strip()
        if not term:
            continue
        if re.fullmatch(r"[\w./-]+==?[\w./-]*", term):
            key, value = re.split("==?", term, maxsplit=1)
            if str(labels.get(key)) != value:
                return False
        elif re.fullmatch(r"[\w./-]+", term) and term not in labels:
            return False
        # other forms (in, notin, !=) are not judged: they match
    return True


def _image_name(image: str) -> str:
    """An image reference without its digest and tag."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name

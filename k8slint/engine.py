"""Files to findings: discover, read, load, run the enabled rules, stamp positions."""

from __future__ import annotations

import functools
import os
import stat
import sys
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from .catalog import RuleBrief, rule_index
from .checks import CHECKS, Check
from .checks.cross import CROSS_CHECKS
from .index import Facts, facts_of
from .findings import Finding, Violation, stable_path
from .globs import Matcher
from .loader import DecodeProblem, Document, ParseProblem, decode, load_text, locate, node_span, paths_to
from .model import K8sObject, objects
from .suppress import Suppression, annotation_suppressions, comment_suppressions

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024  # bytes; larger files are reported, not read
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn"})
STDIN = "-"
STDIN_NAME = "<stdin>"


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit code 2."""


class Source(NamedTuple):
    display: str  # the path as reports show it
    path: Path | None  # None for standard input
    context: bool = False  # read only for what cross-object rules need to see
    real: str | None = None  # the resolved path, found once while discovering


class Exclusions(NamedTuple):
    """The config's exclude globs, relative to the config's folder."""

    matcher: Matcher
    base: Path

    def excluded(self, path: Path, is_dir: bool) -> bool:
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            try:
                relative = Path(candidate).relative_to(self.base)
            except ValueError:
                continue  # outside the config's folder (this way round): its globs do not reach
            return bool(relative.parts) and self.matcher("/".join(relative.parts), is_dir)
        return False


def discover(args: Iterable[str], exclusions: Exclusions | None = None,
             problems: list[str] | None = None) -> Iterator[Source]:
    """Files named, and manifests found below folders named, in a stable order.

    A named file is linted whatever its name; in folders only ``*.yaml``, ``*.yml`` and
    ``*.json`` (any case) are. Links are followed, but no folder is entered twice.
    Excluded files are left out, whether named or found.
    """
    seen_files: set[str] = set()
    seen_dirs: set[str] = set()
    for arg in args:
        if arg == STDIN:
            yield Source(STDIN_NAME, None)
            continue
        path = Path(arg)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise UsageError(f"no such file or folder: {arg}") from None
        except OSError as exc:
            raise UsageError(f"cannot read {arg}: {exc.strerror}") from None
        if exclusions is not None and exclusions.excluded(path, stat.S_ISDIR(mode)):
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(path, seen_dirs, seen_files, exclusions, problems)
        else:
            real = _first_time(path, seen_files)
            if real is not None:
                yield Source(_display(path), path, real=real)


def _first_time(path: Path, seen: set[str]) -> str | None:
    """The resolved path, the first time a file is met; None after that."""
    real = os.path.realpath(path)
    if real in seen:
        return None
    seen.add(real)
    return real


def _walk(top: Path, seen_dirs: set[str], seen_files: set[str],
          exclusions: Exclusions | None, problems: list[str] | None) -> Iterator[Source]:
    def unreadable(error: OSError) -> None:  # never skipped silently
        if problems is not None:
            problems.append(f"cannot read folder {_display(Path(error.filename))}: {error.strerror}")

    for folder, dirnames, filenames in os.walk(top, followlinks=True, onerror=unreadable):
        real = os.path.realpath(folder)
        if real in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add(real)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_FOLDERS
            and not (exclusions is not None and exclusions.excluded(Path(folder, d), True))
        )
        for name in sorted(filenames):
            if not name.lower().endswith(MANIFEST_SUFFIXES):
                continue
            path = Path(folder, name)
            if exclusions is not None and exclusions.excluded(path, False):
                continue
            try:
                if not stat.S_ISREG(path.stat().st_mode):
                    continue  # a FIFO or device would block or never end
            except OSError:
                continue  # a dangling link: nothing to read
            real = _first_time(path, seen_files)
            if real is not None:
                yield Source(_display(path), path, real=real)


def _display(path: Path) -> str:
    """The path as reports show it; bytes that are not UTF-8 in a name show as U+FFFD."""
    shown = os.path.normpath(path).replace(os.sep, "/")
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class FileResult:
    """What linting one file gave: findings, counts, and errors that are not findings."""

    __slots__ = ("findings", "documents", "objects", "errors", "suppressions", "facts", "context")

    def __init__(self, errors: list[str] | None = None, context: bool = False):
        self.context = context  # a context file: its facts count, nothing else does
        self.facts: list[Facts] = []  # for cross-object rules
        self.findings: list[Finding] = []
        self.documents = 0
        self.objects = 0
        self.errors: list[str] = errors or []  # could not read, or a rule failed
        self.suppressions: list[Suppression] = []  # applied once every finding is known


class Engine:
    """Runs the enabled rules, each with its severity, over one file at a time."""

    def __init__(self, severities: dict[str, str], params: dict[str, dict] | None = None,
                 loader_class: type | None = None, max_file_size: int = DEFAULT_MAX_FILE_SIZE):
        metas = rule_index()
        self.severities = severities
        self.collect_facts = any(rule in severities for rule in CROSS_CHECKS)
        self.max_file_size = max_file_size
        self.loader_class = loader_class  # None: the fastest composer there is
        self._by_kind: dict[str, list[tuple[str, Check]]] = {}
        self._wildcard: list[tuple[str, Check]] = []
        self._specific: list[tuple[RuleBrief, Check]] = []
        for rule_id, check in CHECKS.items():
            if rule_id not in severities:
                continue
            meta = metas[rule_id]
            if meta.params is not None:
                check = functools.partial(check, params=rule_params(meta, (params or {}).get(rule_id)))
            if "*" in meta.kinds:
                self._wildcard.append((rule_id, check))
            else:
                self._specific.append((meta, check))

    def checks_for(self, kind: str) -> list[tuple[str, Check]]:
        found = self._by_kind.get(kind)
        if found is None:
            found = [(m.id, c) for m, c in self._specific if kind in m.kinds] + self._wildcard
            self._by_kind[kind] = found
        return found

    def lint_source(self, source: Source) -> FileResult:
        """Read (at most the size limit) and lint one file; never opens a FIFO or device."""
        limit = self.max_file_size
        try:
            if source.path is None:
                raw = sys.stdin.buffer.read(limit + 1)
            else:
                info = source.path.stat()
                if not stat.S_ISREG(info.st_mode):
                    return FileResult(errors=[
                        f"{source.display} is not a regular file (a FIFO, socket or device): not read"
                    ])
                if info.st_size > limit:
                    return self._too_large(source.display, info.st_size)
                with source.path.open("rb") as stream:
                    raw = stream.read(limit + 1)
        except OSError as exc:
            return FileResult(errors=[f"cannot read {source.display}: {exc.strerror or exc}"])
        if len(raw) > limit:
            return self._too_large(source.display, None)
        return self.lint_bytes(source.display, raw, context=source.context)

    def _too_large(self, display: str, size: int | None) -> FileResult:
        result = FileResult()
        limit = human_size(self.max_file_size)
        what = f"is {human_size(size)}, over" if size is not None else "is over"
        self._file_finding(result, display, "file-too-large", ParseProblem(
            f"the file {what} the {limit} limit and was not read; a manifest this large is "
            f"likely generated or not a manifest: exclude it, or raise --max-file-size", 1, 1))
        return result

    def lint_bytes(self, display: str, raw: bytes, context: bool = False) -> FileResult:
        result = FileResult(context=context)
        try:
            text = decode(raw)
        except DecodeProblem as exc:
            self._file_finding(result, display, "parse-error", exc.problem)
            return result
        if context:
            return self._facts_only(result, display, text)
        result.suppressions.extend(comment_suppressions(display, text))
        json_file = display.lower().endswith(".json") or (
            display == STDIN_NAME and text.lstrip().startswith("{")
        )
        loaded = load_text(text, json_file=json_file, loader_class=self.loader_class)
        for document in loaded.documents:
            if document.data is None or document.data == "":
                continue  # an empty document: "---" twice, or only comments
            result.documents += 1
            self._lint_document(result, display, document)
        if loaded.problem is not None:
            self._file_finding(result, display, "parse-error", loaded.problem)
        return result

    def _facts_only(self, result: FileResult, display: str, text: str) -> FileResult:
        if self.collect_facts:  # (context files are only read when a cross-object rule runs)
            loaded = load_text(text, json_file=display.lower().endswith(".json"),
                               loader_class=self.loader_class)
            for document in loaded.documents:
                for obj in objects(document):
                    facts = facts_of(obj, display, context_only=True)
                    if facts is not None:
                        result.facts.append(facts)
        return result

    def _lint_document(self, result: FileResult, display: str, document: Document) -> None:
        objs = list(objects(document))
        for obj in objs:
            result.objects += 1
            result.suppressions.extend(annotation_suppressions(display, obj))
            if self.collect_facts:
                try:
                    facts = facts_of(obj, display)
                except Exception as exc:  # a bug of ours must not hide the other findings
                    facts = None
                    result.errors.append(f"internal error indexing {display}: {type(exc).__name__}: {exc} (please report this)")
                if facts is not None:
                    result.facts.append(facts)
            for rule_id, check in self.checks_for(obj.kind):
                try:
                    for violation in check(obj):
                        result.findings.append(self._stamp(rule_id, display, obj, violation))
                except Exception as exc:  # a bug of ours must not hide the other findings
                    pos = locate(obj.node, ())
                    result.errors.append(
                        f"internal error in rule {rule_id} at {display}:{pos.line}: "
                        f"{type(exc).__name__}: {exc} (please report this)"
                    )
        if document.duplicates and objs and "duplicate-key" in self.severities:
            paths = paths_to(document.root, [dup.node for dup in document.duplicates])
            for dup in document.duplicates:
                result.findings.append(self._duplicate(display, document, objs, dup, paths.get(id(dup.node), ())))

    def _stamp(self, rule_id: str, display: str, obj: K8sObject, violation: Violation) -> Finding:
        pos = locate(obj.node, violation.path)
        return Finding(
            rule_id, self.severities[rule_id], violation.message, display,
            pos.line, pos.column, pos.end_line, pos.end_column,
            obj.api_version, obj.kind, obj.namespace, obj.name, tuple(violation.path),
            stable_path=stable_path(obj.data, violation.path),
        )

    def _duplicate(self, display: str, document: Document, objs: list[K8sObject], dup, path: tuple) -> Finding:
        # The object the key belongs to; a key of a List itself belongs to the List.
        owner = next((o for o in objs if path[: len(o.prefix)] == o.prefix), None)
        if owner is None:
            owner = K8sObject(document.data, document.root, document)
        pos = node_span(dup.node)
        first = dup.first.start_mark
        message = (
            f'key "{dup.key}" repeats in this mapping (first at {first.line + 1}:{first.column + 1}): '
            f"the API server's strict field validation rejects the object, and lenient "
            f"decoding keeps only the last value; remove one of them"
        )
        return Finding(
            "duplicate-key", self.severities["duplicate-key"], message, display,
            pos.line, pos.column, pos.end_line, pos.end_column,
            owner.api_version, owner.kind, owner.namespace, owner.name,
            tuple(path[len(owner.prefix):]),
            stable_path=stable_path(owner.data, tuple(path[len(owner.prefix):])),
        )

    def _file_finding(self, result: FileResult, display: str, rule_id: str, problem: ParseProblem) -> None:
        if rule_id in self.severities:
            result.findings.append(Finding(
                rule_id, self.severities[rule_id], problem.message, display,
                problem.line, problem.column, problem.line, problem.column + 1,
            ))


def default_severities(
    enable: Iterable[str] = (), disable: Iterable[str] = (), configured: dict[str, str] | None = None
) -> dict[str, str]:
    """The rules that run, each with its severity: the rules' defaults, then the config
    (a severity, or ``off``), then ``--enable``, then ``--disable``."""
    metas = rule_index()
    chosen = {rule_id: meta.severity for rule_id, meta in metas.items() if meta.enabled}
    for rule_id, severity in (configured or {}).items():
        if severity == "off":
            chosen.pop(rule_id, None)
        else:
            chosen[rule_id] = severity
    for rule_id in enable:
        if rule_id not in chosen:
            wanted = (configured or {}).get(rule_id, "off")
            chosen[rule_id] = metas[rule_id].severity if wanted == "off" else wanted
    for rule_id in disable:
        chosen.pop(rule_id, None)
    return chosen


def rule_params(meta: RuleBrief, given: dict | None) -> dict:
    """The rule's parameters: the config's values over the defaults in its schema."""
    defaults = {
        name: spec["default"]
        for name, spec in (meta.params or {}).get("properties", {}).items()
        if "default" in spec
    }
    return {**defaults, **(given or {})}


def human_size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} bytes"


def parse_size(text: str) -> int:
    """``10M``, ``512K``, ``2G`` (powers of 1024) or plain bytes."""
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    value = float(number) * scale
    if not 1 <= value < 2**62:  # also refuses inf and nan
        raise ValueError("must be at least one byte")
    return int(value)

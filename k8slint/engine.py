"""Files to findings: discover, read, load, run the enabled rules, stamp positions."""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import checks
from .briefs import RuleBrief, rule_index
from .discover import STDIN_NAME, Source, UsageError, discover, display  # noqa: F401 (re-exported)
from .findings import Finding, ObjectRef, Span, Violation, make_finding, stable_path
from .index import Facts, facts_of, pod_details, shared
from .loader import (
    DecodeProblem,
    Document,
    DuplicateKey,
    LoadedFile,
    ParseProblem,
    decode,
    load_text,
    locate,
    node_span,
    paths_to,
)
from .model import Container, K8sObject, PodSpec, containers, is_k8s_object, is_windows, objects, pod_spec
from .render import CHART, UNIT_ROLES, RenderSettings
from .rule import (
    APP,
    APP_ONLY,
    CONTAINERS,
    LINUX_PODS,
    LONG_RUNNING_PODS,
    OBJECTS,
    PODS,
    RUNS_WITH_POD,
    ObjectView,
    Params,
    Rule,
    Settings,
    View,
)
from .suppress import Suppression, annotation_suppressions, comment_suppressions, outside_scalars
from .versions import NEWEST, shown

if TYPE_CHECKING:  # imported when needed: custom rules, units, the schema rules meeting an object
    from .checks.schema import Resolution
    from .custom import CustomRule
    from .render import UnitReport
    from .schemas import CrdVersion

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024  # bytes; larger files are reported, not read
# Top-level keys: at the line's start, or indented a little at most (JSON), or right after
# an opening brace (flow style, JSON on one line), quoted or not; a nested "kind" does not
# count. Compiled on first use (re's cache): only a file that does not parse needs them.
_TOP_API_VERSION = r'(?m)^(?:[ \t]{0,4}|[ \t]*\{[ \t]*)["\']?apiVersion["\']?[ \t]*:'
_TOP_KIND = r'(?m)^(?:[ \t]{0,4}|[ \t]*\{[ \t]*)["\']?kind["\']?[ \t]*:'


class FileResult:
    """What linting one file gave: findings, counts, and errors that are not findings."""

    __slots__ = ("findings", "documents", "objects", "errors", "suppressions", "facts", "context",
                 "not_manifest", "schemaless", "crds", "custom_groups", "source", "group", "unit",
                 "origins")

    def __init__(self, errors: list[str] | None = None, context: bool = False):
        self.context = context  # a context file: its facts count, nothing else does
        self.facts: list[Facts] = []  # for cross-object rules
        self.findings: list[Finding] = []
        self.documents = 0
        self.objects = 0
        self.errors: list[str] = errors or []  # could not read, or a rule failed
        self.suppressions: list[Suppression] = []  # applied once every finding is known
        self.not_manifest = False  # found in a walk, does not parse, and is no manifest
        self.schemaless: dict[str, int] = {}  # objects with no schema, by apiVersion group/kind
        self.crds: list[CrdVersion] = []  # what the file's CRDs define, for the whole run
        self.custom_groups: set[str] = set()  # groups of its objects that are not built-in
        self.source: Source | None = None  # set by lint_source: what to read again
        # The deployable unit whose objects meet in cross-object rules: a chart's or build
        # root's folder, "" for the plain files (render.py).
        self.group = ""
        self.unit: UnitReport | None = None  # what rendering a chart or building a root gave
        self.origins: set[str] = set()  # the files a unit's objects come from


class _KindRules(NamedTuple):
    """The rules that visit one kind of object, with their params, by what they visit."""

    objects: list[tuple[Rule, Params]]
    pods: list[tuple[Rule, Params]]
    containers: list[tuple[Rule, Params]]


class Engine:
    """Runs the enabled rules, each with its severity, over one file at a time."""

    def __init__(self, severities: dict[str, str], params: dict[str, dict] | None = None,
                 loader_class: type | None = None, max_file_size: int = DEFAULT_MAX_FILE_SIZE,
                 settings: Settings | None = None, only_groups: frozenset[str] | None = None,
                 custom_rules: Sequence[CustomRule] = (), render: RenderSettings | None = None):
        metas = rule_index()
        # Set when custom resources are checked again against the run's CRDs: only objects
        # of these groups are judged, by the schema rules alone.
        self.only_groups = only_groups
        self.severities = severities
        self.collect_facts = any(rule in severities for rule in checks.index_rule_ids())
        self.check_schemas = any(rule in severities for rule in checks.rules_of("schema"))
        self.details = pod_details(severities)
        self.max_file_size = max_file_size
        self.loader_class = loader_class  # None: the fastest composer there is
        self.settings = settings or Settings()
        self.render = render or RenderSettings()  # how charts and build roots are rendered
        # The enabled built-in rules, each with this run's params and the kinds it visits
        # (from the rule index: a rule's module is imported when an object of its kinds is
        # first met); then the config's custom rules (their validators compiled here, once
        # per process).
        self._builtin: list[tuple[str, frozenset[str] | None, Params]] = [
            (rule_id, checks.kinds_of(rule_id), rule_params(metas[rule_id], (params or {}).get(rule_id)))
            for rule_id in checks.object_rule_ids() if rule_id in severities
        ]
        self._custom: list[tuple[Rule, Params]] = []
        enabled = [c for c in custom_rules if c.id in severities]
        if enabled:
            from .custom import compile_rules

            self._custom = [(rule, {}) for rule in compile_rules(enabled)]
        self._by_kind: dict[str, _KindRules] = {}

    def import_rules(self) -> None:
        """Import the modules of every enabled rule now, rather than when an object of
        their kinds is first met: before worker processes are forked, which then share them."""
        for rule_id, _, _ in self._builtin:
            checks.rule(rule_id)
        if self.check_schemas:
            _schema_functions()

    def rules_for(self, kind: str) -> _KindRules:
        """The rules that visit objects of ``kind``, by what they visit: the built-in ones,
        then the custom ones."""
        found = self._by_kind.get(kind)
        if found is None:
            found = _KindRules([], [], [])
            met = [(checks.rule(rule_id), params) for rule_id, kinds, params in self._builtin
                   if kinds is None or kind in kinds]
            for bound in met + self._custom:
                rule = bound[0]
                if rule.kinds is None or kind in rule.kinds:
                    {OBJECTS: found.objects, PODS: found.pods,
                     CONTAINERS: found.containers}[rule.visits].append(bound)
            self._by_kind[kind] = found
        return found

    def _views(self, obj: K8sObject, seen: ObjectView) -> Iterator[tuple[Rule, View]]:
        """Every (rule, view) one object gives: its pod spec and containers computed once."""
        pod = pod_spec(obj)
        rules = self.rules_for(obj.kind)
        for rule, params in rules.objects:
            yield rule, View(seen, pod, None, params, self.settings)
        if pod is None or not (rules.pods or rules.containers):
            return
        linux = not is_windows(pod)
        for rule, params in rules.pods:
            if _visits_pod(rule, pod, linux):
                yield rule, View(seen, pod, None, params, self.settings)
        every = tuple(containers(pod))
        for rule, params in rules.containers:
            if not _visits_pod(rule, pod, linux):
                continue
            for container in every:
                if _visits_container(rule, container):
                    yield rule, View(seen, pod, container, params, self.settings)

    def lint_source(self, source: Source) -> FileResult:
        """Read (at most the size limit) and lint one file; never opens a FIFO or device."""
        result = self._lint_source(source)
        result.source = source
        if source.role not in UNIT_ROLES and not (result.context or result.not_manifest):
            result.origins.add(source.exact or source.display)
        return result

    def _lint_source(self, source: Source) -> FileResult:
        if source.role in UNIT_ROLES:
            return self._lint_unit(source)
        limit = self.max_file_size
        file = _File(source.display, source.exact or source.display, source.role)
        try:
            if source.data is not None:
                raw = source.data
            elif source.path is None:
                raw = sys.stdin.buffer.read(limit + 1)
            else:
                info = os.stat(source.path)
                if not stat.S_ISREG(info.st_mode):
                    return FileResult(errors=[
                        f"{source.display} is not a regular file (a FIFO, socket or device): not read"
                    ])
                if info.st_size > limit:
                    return self._too_large(file, info.st_size)
                with Path(source.path).open("rb") as stream:
                    raw = stream.read(limit + 1)
        except OSError as exc:
            return FileResult(errors=[f"cannot read {source.display}: {exc.strerror or exc}"])
        if len(raw) > limit:
            return self._too_large(file, None)
        return self._lint(file, raw, context=source.context, walked=source.walked)

    def _too_large(self, file: _File, size: int | None) -> FileResult:
        result = FileResult()
        limit = human_size(self.max_file_size)
        what = f"is {human_size(size)}, over" if size is not None else "is over"
        self._file_finding(result, file, "file-too-large", ParseProblem(
            f"the file {what} the {limit} limit and was not read; a manifest this large is "
            f"likely generated or not a manifest: exclude it, or raise --max-file-size", 1, 1))
        return result

    def lint_bytes(self, display: str, raw: bytes, context: bool = False, *,
                   exact: str | None = None, walked: bool = False) -> FileResult:
        """Lint one file's bytes; ``walked``: found in a folder, so a file that does not
        parse and shows no sign of being a manifest is skipped rather than reported."""
        return self._lint(_File(display, exact or display), raw, context=context, walked=walked)

    def _lint(self, file: _File, raw: bytes, context: bool, walked: bool) -> FileResult:
        result = FileResult(context=context)
        try:
            text = decode(raw)
        except DecodeProblem as exc:
            readable = raw.decode("utf-8", "replace")
            if walked and not (re.search(_TOP_API_VERSION, readable) or re.search(_TOP_KIND, readable)):
                result.not_manifest = True  # a binary file, an archive
            else:
                self._file_finding(result, file, "parse-error", exc.problem)
            return result
        return self._lint_text(result, file, text, context, walked)

    def _lint_text(self, result: FileResult, file: _File, text: str, context: bool,
                   walked: bool) -> FileResult:
        if context:
            return self._facts_only(result, file, text)
        json_file = file.display.lower().endswith(".json") or (
            file.display == STDIN_NAME and text.lstrip().startswith("{")
        )
        loaded = load_text(text, json_file=json_file, loader_class=self.loader_class)
        if walked and loaded.problem is not None and not _looks_like_manifest(text, loaded):
            result.not_manifest = True  # a tsconfig.json with comments, a Helm template
            return result
        result.suppressions.extend(outside_scalars(comment_suppressions(file.exact, text),
                                                   (d.root for d in loaded.documents)))
        for document in loaded.documents:
            if document.data is None or document.data == "":
                continue  # an empty document: "---" twice, or only comments
            result.documents += 1
            self._lint_document(result, file, document)
        if loaded.problem is not None:
            self._file_finding(result, file, "parse-error", loaded.problem)
        return result

    def _lint_unit(self, source: Source) -> FileResult:
        """A chart rendered, or a build root built, then linted: every finding, fact and
        suppression moved to the file a person edits (render.py)."""
        from .render import Mover, UnitReport, render, unplaced

        result = FileResult()
        result.group = source.real or ""
        rendering = render(source, self.render, self.settings.kubernetes_version or shown(NEWEST))
        rule = "helm-render-error" if source.role == CHART else "kustomize-build-error"
        read: set[str] = set()  # files whose comment suppressions are taken already
        for number, (text, place) in enumerate(rendering.pieces):
            mover = Mover(source, number, place, text)
            file = _File(source.display, source.exact)
            piece = self._lint_text(FileResult(), file, text, context=False, walked=False)
            result.origins.update(mover.place(ref.unit, (), 1, 1)[0] for ref in file.refs())
            result.documents += piece.documents
            result.objects += piece.objects
            result.errors.extend(piece.errors)
            result.crds.extend(piece.crds)
            result.custom_groups |= piece.custom_groups
            for kind, count in piece.schemaless.items():
                result.schemaless[kind] = result.schemaless.get(kind, 0) + count
            result.findings.extend(mover.finding(f) for f in piece.findings)
            result.facts.extend(mover.facts(f) for f in piece.facts)
            result.suppressions.extend(mover.suppression(s) for s in piece.suppressions
                                       if s.target_unit is not None)
            if source.role == CHART:  # the comments of what rendered (a branch not taken has none)
                result.suppressions.extend(mover.comment(s) for s in piece.suppressions
                                           if s.target_unit is None)
            else:  # a build keeps no comments: they are read from the files pointed into
                self._read_comment_suppressions(result, mover.files, read)
            result.origins.update(mover.files)  # patches and kustomizations pointed into
        failed = bool(rendering.errors) and not rendering.pieces
        names = Mover(source, -1, unplaced, "")
        for real, line, column, message in rendering.errors:
            name = names.name(real)
            result.origins.add(name)
            if rule in self.severities:
                result.findings.append(make_finding(
                    rule, self.severities[rule], message, display(name),
                    Span(line, column, line, column + 1), source=name)._replace(via=source.display))
        result.unit = UnitReport(source.role, source.display, failed, rendering.seconds,
                                 rendering.engine)
        # A render's place functions and what they read (parsed origin files, template
        # lines) hold reference cycles, and a run lints with the collector off: collect the
        # youngest generation now, or every unit's would stay until the run ends (1.8 MB a
        # build root, measured). Survivors move to an older generation: each object is
        # looked at once.
        del rendering
        import gc

        gc.collect(0)
        return result

    def _read_comment_suppressions(self, result: FileResult, files: dict[str, str],
                                   read: set[str]) -> None:
        """The comment suppressions of the files a unit's findings point into, read from
        the files themselves (a build drops comments; a template's are its own)."""
        for name, real in files.items():
            if name in read:
                continue
            read.add(name)
            try:
                with open(real, "rb") as stream:
                    raw = stream.read(self.max_file_size + 1)
                text = decode(raw) if len(raw) <= self.max_file_size else ""
            except (OSError, DecodeProblem):
                continue
            result.suppressions.extend(comment_suppressions(name, text))

    def _facts_only(self, result: FileResult, file: _File, text: str) -> FileResult:
        """A context file: its objects' facts and its CRDs, nothing reported."""
        loaded = load_text(text, json_file=file.display.lower().endswith(".json"),
                           loader_class=self.loader_class)
        for document in loaded.documents:
            for obj in objects(document):
                if self.check_schemas:
                    crd_versions, _ = _schema_functions()
                    result.crds.extend(crd_versions(obj.data, file.display))
                if self.collect_facts:
                    facts = facts_of(obj, file.display, context_only=True, details=self.details)
                    if facts is not None:
                        result.facts.append(facts._replace(ref=file.ref(obj)))
        return result

    def _lint_document(self, result: FileResult, file: _File, document: Document) -> None:
        objs = list(objects(document))
        for obj in objs:
            result.objects += 1
            ref = file.ref(obj)
            if self.only_groups is not None:
                if obj.group in self.only_groups:
                    self._run_rules(result, file, obj, ref)
                continue
            result.suppressions.extend(annotation_suppressions(file.exact, ref.unit, obj))
            if self.collect_facts:
                try:
                    facts = facts_of(obj, file.display, details=self.details)
                except Exception as exc:  # a bug of ours must not hide the other findings
                    facts = None
                    result.errors.append(f"internal error indexing {file.display}: "
                                         f"{type(exc).__name__}: {exc} (please report this)")
                if facts is not None:
                    result.facts.append(facts._replace(ref=ref))
            seen = self._run_rules(result, file, obj, ref)
            if self.check_schemas:
                self._note_schema(result, file, obj, seen)
        if document.duplicates and objs and "duplicate-key" in self.severities:
            paths = paths_to(document.root, [dup.node for dup in document.duplicates])
            for dup in document.duplicates:
                path = paths.get(id(dup.node), ())
                result.findings.append(self._duplicate(file, document, objs, dup, path))

    def _run_rules(self, result: FileResult, file: _File, obj: K8sObject, ref: ObjectRef) -> ObjectView:
        seen = ObjectView(obj.data, file.role)
        try:
            views = list(self._views(obj, seen))
        except Exception as exc:  # a pod spec shape no one foresaw: one error, not a crash
            self._rule_failed(result, "(pod spec)", file, obj, exc)
            views = []
        for rule, view in views:
            try:
                for violation in rule.check(view):
                    result.findings.append(self._stamp(rule.id, file, obj, ref, violation))
            except Exception as exc:  # a bug of ours must not hide the other findings
                self._rule_failed(result, rule.id, file, obj, exc)
        return seen

    def _note_schema(self, result: FileResult, file: _File, obj: K8sObject, seen: ObjectView) -> None:
        """What the run needs to know for custom resources: the CRDs this file defines, and
        the objects no schema describes (yet: a CRD of the run may, once all are known)."""
        crd_versions, resolve = _schema_functions()
        result.crds.extend(crd_versions(obj.data, file.display))
        try:
            schemaless = resolve(seen, self.settings).schemaless
        except Exception:  # reported already, by the schema rules that asked first
            return
        if schemaless:
            result.custom_groups.add(seen.group)
            key = f"{seen.group}/{seen.kind}" if seen.group else seen.kind
            result.schemaless[key] = result.schemaless.get(key, 0) + 1

    def _rule_failed(self, result: FileResult, rule_id: str, file: _File, obj: K8sObject,
                     exc: Exception) -> None:
        pos = locate(obj.node, ())
        result.errors.append(f"internal error in rule {rule_id} at {file.display}:{pos.line}: "
                             f"{type(exc).__name__}: {exc} (please report this)")

    def _stamp(self, rule_id: str, file: _File, obj: K8sObject, ref: ObjectRef,
               violation: Violation) -> Finding:
        return make_finding(
            rule_id, self.severities[rule_id], violation.message, file.display,
            Span(*locate(obj.node, violation.path)), obj=ref, path=tuple(violation.path),
            stable=stable_path(obj.data, violation.path), fix=violation.fix,
        )

    def _duplicate(self, file: _File, document: Document, objs: list[K8sObject], dup: DuplicateKey,
                   path: tuple) -> Finding:
        # The object the key belongs to; a key of a List itself belongs to the List.
        owner = next((o for o in objs if path[: len(o.prefix)] == o.prefix), None)
        if owner is None:
            owner = K8sObject(document.data, document.root, document)
            ref = ObjectRef(file.exact, owner.name or "", (document.index, -1), owner.api_version,
                            owner.kind, owner.namespace, owner.name)
        else:
            ref = file.known_ref(owner)
        first = dup.first.start_mark
        message = (
            f'key "{dup.key}" repeats in this mapping (first at {first.line + 1}:{first.column + 1}): '
            f"the API server's strict field validation rejects the object, and lenient "
            f"decoding keeps only the last value; remove one of them"
        )
        inside = tuple(path[len(owner.prefix):])
        return make_finding(
            "duplicate-key", self.severities["duplicate-key"], message, file.display,
            Span(*node_span(dup.node)), obj=ref, path=inside, stable=stable_path(owner.data, inside),
        )

    def _file_finding(self, result: FileResult, file: _File, rule_id: str, problem: ParseProblem) -> None:
        if rule_id in self.severities:
            result.findings.append(make_finding(
                rule_id, self.severities[rule_id], problem.message, file.display,
                Span(problem.line, problem.column, problem.line, problem.column + 1),
                source=file.exact,
            ))


@cache
def _schema_functions() -> tuple[Callable[[dict, str], list[CrdVersion]],
                                 Callable[[ObjectView, Settings], Resolution]]:
    """``crd_versions`` and ``resolve``, imported when a schema rule first meets an object
    (with the schema rules, schemas.py and validate.py)."""
    from .checks.schema import resolve
    from .schemas import crd_versions

    return crd_versions, resolve


def _visits_pod(rule: Rule, pod: PodSpec, linux: bool) -> bool:
    if rule.pods == LONG_RUNNING_PODS:
        return pod.long_running
    if rule.pods == LINUX_PODS:
        return linux
    return True


def _visits_container(rule: Rule, container: Container) -> bool:
    if rule.containers == APP:
        return container.group != "ephemeralContainers"
    if rule.containers == APP_ONLY:
        return container.group == "containers"
    if rule.containers == RUNS_WITH_POD:
        return container.runs_with_pod
    return True


class _File:
    """The file being linted: how reports show it, its exact path, and the identities
    of its objects (a name, or a generateName and its order among such objects)."""

    __slots__ = ("display", "exact", "role", "_unnamed", "_refs")

    def __init__(self, display: str, exact: str, role: str = ""):
        self.display = display
        self.exact = exact
        self.role = role  # what a kustomization makes of the file (rule.py's roles)
        self._unnamed: dict[tuple, int] = {}
        self._refs: dict[int, ObjectRef] = {}

    def ref(self, obj: K8sObject) -> ObjectRef:
        unit = (obj.document.index, obj.prefix[1] if obj.prefix else -1)
        name = obj.name
        if not name:
            generate = obj.metadata.get("generateName")
            prefix = generate if isinstance(generate, str) else ""
            count = self._unnamed.get((obj.kind, prefix), 0) + 1
            self._unnamed[(obj.kind, prefix)] = count
            name = f"{prefix}*#{count}"  # not a valid name, so never equal to a real one
        ref = ObjectRef(self.exact, name, unit, shared(obj.api_version), shared(obj.kind),
                        shared(obj.namespace), obj.name)
        self._refs[id(obj.node)] = ref
        return ref

    def refs(self) -> Iterable[ObjectRef]:
        """Every object's identity given out so far."""
        return self._refs.values()

    def known_ref(self, obj: K8sObject) -> ObjectRef:
        return self._refs.get(id(obj.node)) or self.ref(obj)


def _looks_like_manifest(text: str, loaded: LoadedFile) -> bool:
    """Whether a file that does not parse shows a sign of being a Kubernetes manifest:
    an object before the error, or a top-level apiVersion or kind key (a manifest broken
    half-way, whose kind lost its indentation, still counts)."""
    if any(is_k8s_object(d.data) for d in loaded.documents):
        return True
    return bool(re.search(_TOP_API_VERSION, text) or re.search(_TOP_KIND, text))


def default_severities(
    enable: Iterable[str] = (), disable: Iterable[str] = (), configured: dict[str, str] | None = None,
    custom: Sequence[CustomRule] = (),
) -> dict[str, str]:
    """The rules that run, each with its severity: the rules' defaults (a custom rule is
    on, at the severity it is defined with), then the config (a severity, or ``off``),
    then ``--enable``, then ``--disable``."""
    if custom:
        from .custom import briefs

        metas = briefs(custom)
    else:
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

"""Schema rules: each object against its kind's schema at the target release (built-in
kinds) or its CRD in the run (custom resources), at the exact key.

An object is validated once; each rule reports its own share of the problems. Kinds of
groups that neither Kubernetes nor a CRD of the run defines have no schema: they are
counted for the summary, never reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from ..findings import Violation
from ..loader import is_templated
from ..rule import KUSTOMIZE_BASE, KUSTOMIZE_PATCH, ObjectView, Settings, View, object_rule
from ..schemas import OWNED_PATHS, CrdVersion, Type, builtin, builtin_groups, compile_crd
from ..validate import (
    INVALID_TYPE,
    INVALID_VALUE,
    MISSING_REQUIRED,
    UNKNOWN_FIELD,
    Problem,
    closest,
    validate,
)
from ..versions import shown, target
from .apis import retirements

UNKNOWN_KIND = "unknown-kind"
SCHEMA_RULES = (UNKNOWN_FIELD, INVALID_TYPE, MISSING_REQUIRED, INVALID_VALUE, UNKNOWN_KIND)


class Resolution(NamedTuple):
    """What an object is checked against."""

    type: Type | None  # None: not checked
    unknown: Violation | None = None  # the kind or version is not served
    schemaless: bool = False  # a group nothing in the run defines: counted, not reported


class _Crds:
    """The run's custom resource schemas, compiled on first use."""

    def __init__(self, crds: tuple[CrdVersion, ...]):
        self.versions = {(c.group, c.version, c.kind): c for c in crds}
        self.groups: dict[str, dict[str, list[str]]] = {}
        for c in crds:
            self.groups.setdefault(c.group, {}).setdefault(c.kind, []).append(c.version)
        self._compiled: dict[tuple[str, str, str], Type] = {}

    def type_of(self, key: tuple[str, str, str], settings: Settings) -> Type:
        found = self._compiled.get(key)
        if found is None:
            meta = builtin(target(settings.kubernetes_version)).definition("meta.v1.ObjectMeta")
            found = compile_crd(self.versions[key], meta)
            self._compiled[key] = found
        return found


_crds_of_run: tuple[tuple[CrdVersion, ...], _Crds] | None = None


def _crds(settings: Settings) -> _Crds:
    global _crds_of_run
    if _crds_of_run is None or _crds_of_run[0] is not settings.crds:
        _crds_of_run = (settings.crds, _Crds(settings.crds))
    return _crds_of_run[1]


def resolve(obj: ObjectView, settings: Settings) -> Resolution:
    """The schema ``obj`` is checked against (computed once per object)."""
    return obj.derived("schema", lambda: _resolve(obj, settings))


# Files that say `apiVersion: v1` without being API objects: a kubeconfig, and the legacy
# kube-scheduler policy file. They have no schema; they are not unknown kinds.
NOT_API_OBJECTS = frozenset({("v1", "Config"), ("v1", "Policy")})


def _resolve(obj: ObjectView, settings: Settings) -> Resolution:
    group, _, version = obj.api_version.rpartition("/")
    kind = obj.kind
    if is_templated(obj.api_version) or is_templated(kind):
        return Resolution(None)  # filled in later: never judged
    release = target(settings.kubernetes_version)
    if group not in builtin_groups(release) or (obj.api_version, kind) in NOT_API_OBJECTS:
        # (a CRD cannot redefine a built-in group)
        crds = _crds(settings)
        key = (group, version, kind)
        if key in crds.versions:
            return Resolution(crds.type_of(key, settings))
        if group in crds.groups:
            return Resolution(None, _unknown_kind(obj, crds.groups[group], {}, release, "its CRD"))
        return Resolution(None, schemaless=True)
    known = builtin(release)
    found = known.kind_type(group, version, kind)
    if found is not None:
        return Resolution(found)
    retired = retirements().get((obj.api_version, kind))
    if retired is not None and retired.removed_in <= release:
        return Resolution(None)  # removed-api-version says so, and what replaces it
    return Resolution(None, _unknown_kind(obj, known.by_group.get(group, {}), known.by_group,
                                          release, f"Kubernetes {shown(release)}"))


def _unknown_kind(obj: ObjectView, group_kinds: dict[str, list[str]],
                  every_group: dict[str, dict[str, list[str]]], release: tuple[int, int],
                  definer: str) -> Violation:
    group = obj.api_version.rpartition("/")[0]
    kind = obj.kind
    where = f"the group {group}" if group else "the core group"
    if kind in group_kinds:
        served = ", ".join(_api_version(group, v) for v in sorted(group_kinds[kind]))
        return Violation(("apiVersion",), (
            f"{kind} is not served as {obj.api_version} by {definer}: it is served as {served}; "
            f"the API server rejects the object"))
    elsewhere = sorted(_api_version(g, v) for g, kinds in every_group.items()
                       for v in kinds.get(kind, ()))
    if elsewhere:
        return Violation(("apiVersion",), (
            f"{where} has no kind {kind} in {definer}: {kind} is served as "
            f"{', '.join(elsewhere)}; the API server rejects the object"))
    removed = _removed_kind(group, kind)
    if removed:
        return Violation(("apiVersion",), (
            f"{where} has no kind {kind} in {definer}{removed}; the API server rejects the object"))
    guess = closest(kind, list(group_kinds))
    if guess is None and every_group:
        guess = closest(kind, sorted({k for kinds in every_group.values() for k in kinds}))
    hint = f' (did you mean "{guess}"?)' if guess else ""
    return Violation(("kind",), (
        f"{where} has no kind {kind} in {definer}{hint}: the API server rejects the object"))


def _removed_kind(group: str, kind: str) -> str:
    """Where the kind went, if the group once served it: ``: ... was removed in 1.25``."""
    for (api_version, retired_kind), retired in retirements().items():
        if retired_kind == kind and api_version.rpartition("/")[0] == group:
            instead = (f", replaced by {retired.replacement}" if retired.replacement
                       else ", with no replacement")
            return (f": {api_version} {kind} was removed in Kubernetes "
                    f"{shown(retired.removed_in)}{instead}")
    return ""


def _api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def problems(obj: ObjectView, settings: Settings) -> list[Problem]:
    """The object's schema problems (computed once per object, shared by the rules)."""
    return obj.derived("schema-problems", lambda: _problems(obj, settings))


def _problems(obj: ObjectView, settings: Settings) -> list[Problem]:
    resolution = resolve(obj, settings)
    if resolution.type is None:
        return []
    found = validate(obj.data, resolution.type, partial=obj.role == KUSTOMIZE_PATCH)
    owned = OWNED_PATHS.get(obj.kind)
    if owned and found:
        found = [p for p in found if p.path not in owned or p.rule != INVALID_VALUE]
    if obj.role == KUSTOMIZE_BASE and found:
        # A kustomization's labels (commonLabels, labels with includeSelectors) may
        # become the selector this base leaves out.
        found = [p for p in found if not (p.rule == MISSING_REQUIRED and p.missing == "selector")]
    return found


def _share_of(rule: str) -> Callable[[View], Iterator[Violation]]:
    """The rule that reports ``rule``'s share of an object's schema problems."""

    def share(view: View) -> Iterator[Violation]:
        for problem in problems(view.obj, view.settings):
            if problem.rule == rule:
                yield Violation(problem.path, problem.message)

    share.__name__ = share.__qualname__ = rule.replace("-", "_")
    return object_rule(rule)(share)


unknown_field = _share_of(UNKNOWN_FIELD)
invalid_field_type = _share_of(INVALID_TYPE)
missing_required_field = _share_of(MISSING_REQUIRED)
invalid_field_value = _share_of(INVALID_VALUE)


@object_rule(UNKNOWN_KIND)
def unknown_kind(view: View) -> Iterator[Violation]:
    unknown = resolve(view.obj, view.settings).unknown
    if unknown is not None:
        yield unknown

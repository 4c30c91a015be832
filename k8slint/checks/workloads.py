"""Workload shape: what owns a pod, what a controller selects, how replicas are spread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ..findings import Violation
from ..fixes import remove_field, rename_field
from ..kinds import POD_SPEC_PATHS, REPLICATED, SELECTING_CONTROLLERS
from ..loader import is_literal, is_templated
from ..model import PodSpec, mapping, sequence
from ..rule import ObjectView, View, object_rule, pod_rule
from ..selectors import UnknownSelector, label_text, selector_mismatch
from ._util import as_yaml, is_count

# Helm and Argo CD delete hook objects themselves; a test or migration hook pod is bare on purpose.
_HOOK_ANNOTATIONS = ("helm.sh/hook", "argocd.argoproj.io/hook")
_HOOK_DELETE_ANNOTATIONS = ("helm.sh/hook-delete-policy", "argocd.argoproj.io/hook-delete-policy")


def _annotations(obj: ObjectView) -> dict:
    return mapping(obj.metadata.get("annotations"))


def _named(obj: ObjectView) -> str:
    """``Deployment "web"``, or ``this Deployment`` when it has no literal name."""
    return f'{obj.kind} "{obj.name}"' if obj.name else f"this {obj.kind}"


@object_rule("bare-pod", kinds=frozenset({"Pod"}))
def bare_pod(view: View) -> Iterator[Violation]:
    obj = view.obj
    if obj.group != "":
        return
    metadata = obj.metadata
    if sequence(metadata.get("ownerReferences")):
        return
    if metadata.get("namespace") == "kube-system":  # static and system pods live there
        return
    if any(key in _annotations(obj) for key in _HOOK_ANNOTATIONS):
        return
    spec = mapping(obj.data.get("spec"))
    runs_once = spec.get("restartPolicy") in ("Never", "OnFailure")
    instead = "a Job" if runs_once else "a Deployment (or a StatefulSet, or a Job for one-off work)"
    yield Violation(
        ("metadata", "ownerReferences"),
        f"{_named(obj)} has no controller: kubectl drain stops at it unless forced, then "
        f"deletes it for good, and nothing recreates it after a node failure either; run it "
        f"from {instead}",
    )


# --- selectors ------------------------------------------------------------------------------

_APPS_GROUPS = ("apps", "extensions")
# The controllers served by the apps group (or its old home, extensions), whose label
# selector the API server checks against their template: Deployment, ReplicaSet,
# StatefulSet, DaemonSet. Not in kinds.py: no other rule visits exactly these.
SELECTOR_KINDS = frozenset(kind for kind in SELECTING_CONTROLLERS if kind in POD_SPEC_PATHS
                           and POD_SPEC_PATHS[kind][0] & set(_APPS_GROUPS))
# Where an empty selector is defaulted from the template's labels.
_DEFAULTED_SELECTOR = frozenset({"extensions/v1beta1", "apps/v1beta1"})


@object_rule("mismatching-selector", kinds=SELECTOR_KINDS)
def mismatching_selector(view: View) -> Iterator[Violation]:
    obj = view.obj
    if obj.group not in _APPS_GROUPS:
        return
    spec = mapping(obj.data.get("spec"))
    template = spec.get("template")
    if not isinstance(template, dict):
        return
    what = _named(obj)
    selector = spec.get("selector")
    # A missing selector is not reported: in a kustomize base, commonLabels (or labels with
    # includeSelectors) writes it in, so only the built object can tell, and the API
    # server names a missing one at once.
    if not isinstance(selector, dict):
        return
    empty = not selector.get("matchLabels") and not selector.get("matchExpressions")
    if empty and obj.api_version not in _DEFAULTED_SELECTOR:
        yield Violation(
            ("spec", "selector"),
            f"{what} has an empty selector: the API server rejects it (an empty selector "
            f"would claim every pod in the namespace); select the pod template's labels",
        )
        return
    raw_labels = mapping(template.get("metadata")).get("labels")
    if raw_labels is not None and not isinstance(raw_labels, dict):
        return
    labels = {}
    for key, value in mapping(raw_labels).items():
        key_text, value_text = label_text(key), label_text(value)
        if key_text is None or value_text is None:
            return  # a templated label could be anything
        labels[key_text] = value_text
    try:
        reason = selector_mismatch(selector, labels)
    except UnknownSelector:
        return
    if reason is not None:
        yield Violation(
            ("spec", "selector"),
            f"{what}'s selector does not select its own pod template ({reason}): the API "
            f"server rejects it (`selector` does not match template `labels`); make the "
            f"selector and spec.template.metadata.labels agree",
        )


# --- Jobs -----------------------------------------------------------------------------------


@object_rule("job-ttl", kinds=frozenset({"Job"}))
def job_ttl(view: View) -> Iterator[Violation]:
    obj = view.obj
    if obj.group != "batch":
        return
    if any(key in _annotations(obj) for key in _HOOK_DELETE_ANNOTATIONS):
        return
    owners = sequence(obj.metadata.get("ownerReferences"))
    if any(isinstance(owner, dict) and owner.get("kind") == "CronJob" for owner in owners):
        return
    spec = obj.data.get("spec")
    if not isinstance(spec, dict) or spec.get("ttlSecondsAfterFinished") is not None:
        return
    yield Violation(
        ("spec", "ttlSecondsAfterFinished"),
        f"{_named(obj)} sets no ttlSecondsAfterFinished: once finished, it and its pods stay "
        f"in the cluster and in etcd until someone deletes them; set "
        f"spec.ttlSecondsAfterFinished (for example 86400)",
    )


# --- spreading ------------------------------------------------------------------------------


_ANTI_AFFINITY_LISTS = ("requiredDuringSchedulingIgnoredDuringExecution",
                        "preferredDuringSchedulingIgnoredDuringExecution")


class _Shortfall(NamedTuple):
    """Why a podAntiAffinity term or a topologySpreadConstraint spreads nothing."""

    path: tuple  # the part that is wrong: a labelSelector, namespaces, the term itself
    detail: str
    fix: str


def _own_labels(data: dict, spec: PodSpec) -> dict | None:
    """The labels the workload's pods carry (its pod template's, which holds ``spec``);
    None when one is templated (never guessed)."""
    template = data
    for step in spec.path[:-1]:
        template = mapping(template.get(step))
    labels = {}
    for key, value in mapping(mapping(template.get("metadata")).get("labels")).items():
        key_text, value_text = label_text(key), label_text(value)
        if key_text is None or value_text is None:
            return None
        labels[key_text] = value_text
    return labels


def _selector_shortfall(term: dict, path: tuple, what: str, labels: dict | None) -> _Shortfall | None:
    """Why ``term``'s labelSelector does not select the workload's own pods, or None when it
    does or cannot be judged (templated, or a shape the API server rejects anyway)."""
    selector = term.get("labelSelector")
    where = path + ("labelSelector",)
    if selector is None:
        return _Shortfall(where, f"{what} has no labelSelector, so it selects no pod",
                          "give it a labelSelector on the pod template's labels")
    if labels is None or not isinstance(selector, dict) or is_templated(repr(selector)):
        return None
    try:
        reason = selector_mismatch(selector, labels)
    except UnknownSelector:
        return None
    if reason is None:
        # mismatchLabelKeys adds "key notin (the pod's own value)", which its own pods fail.
        raw_keys = term.get("mismatchLabelKeys")
        excluded = [k for k in sequence(raw_keys) if isinstance(k, str) and k in labels]
        if not excluded:
            return None
        reason = f"mismatchLabelKeys excludes pods with the same {excluded[0]} as this one"
    return _Shortfall(where, f"{what}'s labelSelector does not select its own pods ({reason})",
                      "make its labelSelector select the pod template's labels")


def _namespace_shortfall(term: dict, path: tuple, what: str, namespace: str | None) -> _Shortfall | None:
    """Why ``term`` looks for pods only outside the workload's namespace, or None."""
    if term.get("namespaceSelector") is not None:
        return None  # {} is every namespace; any other selector needs the live namespaces
    names = term.get("namespaces")
    if not is_literal(namespace) or not isinstance(names, list) or not names:
        return None  # none listed: the pod's own namespace
    if not all(is_literal(name) for name in names) or namespace in names:
        return None
    shown = ", ".join(names)
    return _Shortfall(
        path + ("namespaces",),
        f"{what} looks only at pods in namespace{'s' if len(names) > 1 else ''} {shown}, "
        f"not in {namespace} where its own pods run",
        "drop namespaces (the pods' own namespace is the default) or list theirs",
    )


def _spread_terms(spec_path: tuple, pod: dict) -> Iterator[tuple[tuple, object, str]]:
    """(path, term, what) for every podAntiAffinity term and topologySpreadConstraint."""
    anti_path = spec_path + ("affinity", "podAntiAffinity")
    affinity = pod.get("affinity")
    anti = mapping(affinity).get("podAntiAffinity")
    for path, value in ((spec_path + ("affinity",), affinity), (anti_path, anti)):
        if value is not None and not isinstance(value, dict):
            yield path, value, "podAntiAffinity"  # templated or odd: not judged
            return
    anti = mapping(anti)
    for key in _ANTI_AFFINITY_LISTS:
        terms = anti.get(key)
        if not isinstance(terms, list):
            if terms is not None:
                yield anti_path + (key,), terms, "podAntiAffinity"  # not a list: not judged
            continue
        for i, item in enumerate(terms):
            if key.startswith("preferred") and isinstance(item, dict):
                yield (anti_path + (key, i, "podAffinityTerm"), item.get("podAffinityTerm"),
                       "the podAntiAffinity term")
            else:
                yield anti_path + (key, i), item, "the podAntiAffinity term"
    constraints = pod.get("topologySpreadConstraints")
    if constraints is not None and not isinstance(constraints, list):
        yield spec_path + ("topologySpreadConstraints",), constraints, "topologySpreadConstraints"
    for i, item in enumerate(sequence(constraints)):
        yield spec_path + ("topologySpreadConstraints", i), item, "the topologySpreadConstraint"


def _shortfall(path: tuple, term: object, what: str, namespace: str | None,
               labels: dict | None) -> _Shortfall | None:
    """Why one term spreads none of the workload's own pods, or None when it counts."""
    if not isinstance(term, dict):
        # A preferred term without its podAffinityTerm spreads nothing; anything else that
        # is not a mapping is templated, or a shape the API server rejects: not judged.
        if term is None and path[-1] == "podAffinityTerm":
            return _Shortfall(path, f"{what} has no podAffinityTerm", "add a podAffinityTerm")
        return None
    if what == "the topologySpreadConstraint":
        key = term.get("topologyKey")
        if key is None or key == "":
            return _Shortfall(path, f"{what} has no topologyKey",
                              "set topologyKey: kubernetes.io/hostname")
        return _selector_shortfall(term, path, what, labels)
    return (_selector_shortfall(term, path, what, labels)
            or _namespace_shortfall(term, path, what, namespace))


@object_rule("no-anti-affinity", kinds=REPLICATED)
def no_anti_affinity(view: View) -> Iterator[Violation]:
    obj, spec = view.obj, view.pod_spec
    if obj.group not in _APPS_GROUPS or spec is None:
        return
    replicas = mapping(obj.data.get("spec")).get("replicas")
    if not is_count(replicas) or replicas < 2:  # unset means 1; templated is not guessed
        return
    labels = _own_labels(obj.data, spec)
    shortfalls = []
    for path, term, what in _spread_terms(spec.path, spec.spec):
        shortfall = _shortfall(path, term, what, obj.namespace, labels)
        if shortfall is None:
            return  # this term spreads the workload's own pods
        shortfalls.append(shortfall)
    if not shortfalls:
        yield Violation(
            spec.path + ("affinity", "podAntiAffinity"),
            f"{_named(obj)} runs {replicas} replicas with no podAntiAffinity or "
            f"topologySpreadConstraints: the scheduler may place several on one node, so one "
            f"node drain or failure takes them down together; add a topologySpreadConstraint "
            f"on kubernetes.io/hostname (or a preferred podAntiAffinity)",
        )
        return
    first = shortfalls[0]
    others = len(shortfalls) - 1
    more = {0: "", 1: ", nor does its other term"}.get(others, f", nor do its {others} other terms")
    yield Violation(
        first.path,
        f"{_named(obj)} runs {replicas} replicas, but nothing spreads them: {first.detail}"
        f"{more}; the scheduler may place several on one node, so one node drain or failure "
        f"takes them down together; {first.fix}",
    )


# --- service accounts -----------------------------------------------------------------------


@pod_rule("deprecated-service-account")
def deprecated_service_account(view: View) -> Iterator[Violation]:
    spec = view.pod
    old = spec.spec.get("serviceAccount")
    if old is None or old == "":
        return
    new = spec.spec.get("serviceAccountName")
    path = spec.path + ("serviceAccount",)
    if new is None or new == "":
        yield Violation(
            path,
            f"serviceAccount is a deprecated alias of serviceAccountName, kept only for old "
            f"clients; use serviceAccountName: {as_yaml(old)}",
            rename_field(path, "serviceAccountName", "serviceAccount renamed serviceAccountName"),
        )
    elif new != old and is_literal(new) and is_literal(old):
        yield Violation(
            path,
            f"serviceAccount ({as_yaml(old)}) differs from serviceAccountName ({as_yaml(new)}): "
            f"the API server uses serviceAccountName and overwrites the deprecated "
            f"serviceAccount, so {as_yaml(old)} is silently ignored; remove serviceAccount",
            # The API server ignores it already: removing it changes nothing.
            remove_field(path, "serviceAccount removed"),
        )
    else:
        yield Violation(
            path,
            "serviceAccount is a deprecated alias of serviceAccountName, which is also set; "
            "remove serviceAccount",
            remove_field(path, "serviceAccount removed"),
        )

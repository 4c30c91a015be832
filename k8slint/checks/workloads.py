"""Workload shape: what owns a pod, what a controller selects, how replicas are spread."""

from __future__ import annotations

from typing import Iterator

from ..findings import Violation
from ..loader import is_literal
from ..model import K8sObject, mapping, pod_spec, sequence
from ..selectors import UnknownSelector, label_text, selector_mismatch
from ._util import as_yaml, is_count

# Helm and Argo CD delete hook objects themselves; a test or migration hook pod is bare on purpose.
_HOOK_ANNOTATIONS = ("helm.sh/hook", "argocd.argoproj.io/hook")
_HOOK_DELETE_ANNOTATIONS = ("helm.sh/hook-delete-policy", "argocd.argoproj.io/hook-delete-policy")


def _annotations(obj: K8sObject) -> dict:
    return mapping(obj.metadata.get("annotations"))


def _named(obj: K8sObject) -> str:
    """``Deployment "web"``, or ``this Deployment`` when it has no literal name."""
    return f'{obj.kind} "{obj.name}"' if obj.name else f"this {obj.kind}"


def bare_pod(obj: K8sObject) -> Iterator[Violation]:
    if obj.kind != "Pod" or obj.group != "":
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

SELECTOR_KINDS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"})
# Where an empty selector is defaulted from the template's labels.
_DEFAULTED_SELECTOR = frozenset({"extensions/v1beta1", "apps/v1beta1"})


def mismatching_selector(obj: K8sObject) -> Iterator[Violation]:
    if obj.kind not in SELECTOR_KINDS or obj.group not in ("apps", "extensions"):
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


def job_ttl(obj: K8sObject) -> Iterator[Violation]:
    if obj.kind != "Job" or obj.group != "batch":
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


def no_anti_affinity(obj: K8sObject) -> Iterator[Violation]:
    if obj.kind not in ("Deployment", "StatefulSet") or obj.group not in ("apps", "extensions"):
        return
    spec = pod_spec(obj)
    if spec is None:
        return
    replicas = mapping(obj.data.get("spec")).get("replicas")
    if not is_count(replicas) or replicas < 2:  # unset means 1; templated is not guessed
        return
    if mapping(spec.spec.get("affinity")).get("podAntiAffinity"):
        return
    if spec.spec.get("topologySpreadConstraints"):
        return
    yield Violation(
        spec.path + ("affinity", "podAntiAffinity"),
        f"{_named(obj)} runs {replicas} replicas with no podAntiAffinity or "
        f"topologySpreadConstraints: the scheduler may place several on one node, so one "
        f"node drain or failure takes them down together; add a topologySpreadConstraint "
        f"on kubernetes.io/hostname (or a preferred podAntiAffinity)",
    )


# --- service accounts -----------------------------------------------------------------------


def deprecated_service_account(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
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
        )
    elif new != old and is_literal(new) and is_literal(old):
        yield Violation(
            path,
            f"serviceAccount ({as_yaml(old)}) differs from serviceAccountName ({as_yaml(new)}): "
            f"the API server uses serviceAccountName and overwrites the deprecated "
            f"serviceAccount, so {as_yaml(old)} is silently ignored; remove serviceAccount",
        )
    else:
        yield Violation(
            path,
            "serviceAccount is a deprecated alias of serviceAccountName, which is also set; "
            "remove serviceAccount",
        )

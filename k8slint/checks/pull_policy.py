"""Image pull policy: what the kubelet does when a tag moves."""

from __future__ import annotations

from typing import Iterator

from ..findings import Violation
from ..loader import is_literal
from ..model import K8sObject, containers, image_ref, pod_spec

VALID_POLICIES = ("Always", "IfNotPresent", "Never")


def missing_image_pull_policy(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in containers(spec):
        if container.data.get("imagePullPolicy") is not None:
            continue
        image = container.data.get("image")
        if is_literal(image):
            ref = image_ref(image)
            default = "Always" if ref.pulls_latest else "IfNotPresent"
            because = (
                "the image has no tag, so it means latest"
                if ref.pulls_latest and ref.tag is None
                else f'the tag is "{ref.effective_tag}"' if ref.effective_tag else "it is pinned by digest"
            )
            fixed = f"Kubernetes sets {default} ({because}) when the object is created"
        else:
            fixed = "Kubernetes derives it from the image tag when the object is created"
        yield Violation(
            container.path,
            f'container "{container.name}" sets no imagePullPolicy: {fixed} and keeps it '
            f"when the image changes later; set imagePullPolicy explicitly",
        )


def invalid_image_pull_policy(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in containers(spec):
        policy = container.data.get("imagePullPolicy")
        if policy is None or policy in VALID_POLICIES:
            continue
        if isinstance(policy, str) and not is_literal(policy):
            continue
        shown = f'"{policy}"' if isinstance(policy, str) else repr(policy)
        yield Violation(
            container.path + ("imagePullPolicy",),
            f'container "{container.name}" has imagePullPolicy {shown}, which the API server '
            f"rejects: use Always, IfNotPresent or Never",
        )


def latest_tag_drift(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None:
        return
    for container in containers(spec):
        image = container.data.get("image")
        policy = container.data.get("imagePullPolicy")
        if policy not in ("IfNotPresent", "Never") or not is_literal(image):
            continue
        if not image_ref(image).pulls_latest:
            continue
        yield Violation(
            container.path + ("image",),
            f'image "{image}" follows the moving tag latest but imagePullPolicy is {policy}: '
            f"each node keeps whichever latest it cached first, so replicas run different "
            f"code; pin a version tag or digest",
        )

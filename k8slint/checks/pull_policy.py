"""Image pull policy: what the kubelet does when a tag moves."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Violation
from ..fixes import set_field
from ..loader import is_literal
from ..model import image_ref
from ..rule import View, container_rule
from ._util import as_yaml

VALID_POLICIES = ("Always", "IfNotPresent", "Never")


def _unset(policy: object) -> bool:
    """Null and "" are defaulted by the API server exactly like a missing field."""
    return policy is None or policy == ""


@container_rule("missing-image-pull-policy")
def missing_image_pull_policy(view: View) -> Iterator[Violation]:
    container = view.container
    if _unset(container.data.get("imagePullPolicy")):
        image = container.data.get("image")
        ref = image_ref(image) if isinstance(image, str) else None
        fix = None
        if ref is not None and not ref.tag_unknown:
            # The API server's rule: Always when the tag is latest (or absent with no
            # digest), IfNotPresent otherwise, digest or not.
            if ref.effective_tag == "latest":
                default = "Always"
                because = ("the image has no tag, so it means latest" if ref.tag is None
                           else 'the tag is "latest"')
            else:
                default = "IfNotPresent"
                because = f'the tag is "{ref.tag}"' if ref.tag else "the image is pinned by digest"
            fixed = f"Kubernetes sets {default} ({because}) when the object is created"
            # What the API server would set: the choice becomes visible, nothing changes.
            fix = set_field(container.path + ("imagePullPolicy",), default,
                            f"imagePullPolicy: {default}", after="image")
        elif image is None:
            fixed = "Kubernetes derives it from the image tag when the object is created"
        else:
            fixed = "Kubernetes derives it from the image tag, filled in later, when the object is created"
        yield Violation(
            container.path + ("imagePullPolicy",),
            f'container "{container.name}" sets no imagePullPolicy: {fixed} and keeps it '
            f"when the image changes later; set imagePullPolicy explicitly",
            fix,
        )


@container_rule("invalid-image-pull-policy")
def invalid_image_pull_policy(view: View) -> Iterator[Violation]:
    container = view.container
    policy = container.data.get("imagePullPolicy")
    if _unset(policy) or policy in VALID_POLICIES:
        return
    if isinstance(policy, str) and not is_literal(policy):
        return
    yield Violation(
        container.path + ("imagePullPolicy",),
        f'container "{container.name}" has imagePullPolicy {as_yaml(policy)}, which the '
        f"API server rejects: use Always, IfNotPresent or Never",
    )


@container_rule("latest-tag-drift")
def latest_tag_drift(view: View) -> Iterator[Violation]:
    container = view.container
    image = container.data.get("image")
    policy = container.data.get("imagePullPolicy")
    if policy not in ("IfNotPresent", "Never") or not isinstance(image, str):
        return
    ref = image_ref(image)
    if not ref.pulls_latest:
        return
    moving = (
        f'image "{image}" has no tag, so it means the moving tag latest,'
        if ref.tag is None
        else f'image "{image}" follows the moving tag latest'
    )
    if policy == "IfNotPresent":
        effect = (
            "but imagePullPolicy is IfNotPresent: each node keeps whichever latest it "
            "pulled first, so replicas run different code"
        )
    else:
        effect = (
            "but imagePullPolicy is Never: each node runs whatever latest was loaded "
            "onto it, so nodes differ and a new latest reaches none of them"
        )
    # Always makes every node pull the same latest: a change of behaviour (a pull at each
    # start), so the fix is unsafe; pinning a version is the better repair, left to people.
    yield Violation(container.path + ("image",), f"{moving} {effect}; pin a version tag or digest",
                    set_field(container.path + ("imagePullPolicy",), "Always",
                              "imagePullPolicy: Always", unsafe=True))

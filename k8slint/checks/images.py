"""Image references: which build runs, and where it comes from."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import Violation
from ..loader import TEMPLATED_PART
from ..model import Container, image_ref
from ..rule import ALL, View, container_rule


def _image(container: Container) -> str | None:
    """The container's image text, or None when it has none; a templated part of it
    (``$PROJECT_ID/app:latest``) leaves the literal parts to be judged."""
    image = container.data.get("image")
    if isinstance(image, str) and image.strip():
        return image.strip()
    return None


@container_rule("latest-tag", containers=ALL)
def latest_tag(view: View) -> Iterator[Violation]:
    container = view.container
    image = _image(container)
    if image is None:
        return
    ref = image_ref(image)
    if not ref.pulls_latest:  # whatever the pull policy: latest-tag-drift says what that adds
        return
    what = (
        f'image "{image}" has no tag, so it means the moving tag latest'
        if ref.tag is None
        else f'image "{image}" uses the moving tag latest'
    )
    yield Violation(
        container.path + ("image",),
        f'container "{container.name}" {what}: each pod start may run a different build, '
        f"and a rollback cannot bring back the one that ran before; pin a version tag or "
        f"a digest",
    )


# What Docker Hub accepts as a repository; anything else (<REPO>/app, PROJECT_ID/app) is
# a placeholder that someone replaces with a registry before deploying.
# Compiled on first use (re's cache): the rule is off by default.
_HUB_REPOSITORY = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$"


@container_rule("implicit-docker-hub", containers=ALL)
def implicit_docker_hub(view: View) -> Iterator[Violation]:
    container = view.container
    image = _image(container)
    if image is None:
        return
    ref = image_ref(image)
    if ref.registry is not None or ref.registry_unknown:
        return
    # A templated part of the repository stands for some valid name.
    if not re.match(_HUB_REPOSITORY, TEMPLATED_PART.sub("x", ref.repository)):
        return
    namespace = "" if "/" in ref.repository else "library/"
    pinned = (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")
    full = f"docker.io/{namespace}{ref.repository}{pinned}"
    yield Violation(
        container.path + ("image",),
        f'container "{container.name}" pulls "{image}" from Docker Hub because the image '
        f"names no registry: anonymous pulls there are rate-limited, so a drain that "
        f"reschedules many pods can stall on pulls, and where it comes from is left to "
        f"each node's runtime; name the registry ({full}) or a mirror you run",
    )

"""Small helpers shared by the pod-spec rules: typed reads that never raise on odd data."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any, NamedTuple, TypeGuard

from ..loader import is_literal
from ..model import Container, PodSpec, mapping, sequence
from ..rule import (
    ObjectView,
    # A rule's parameters: the config's values over the defaults in the JSON Schema of its
    # metadata, checked against that schema when the config is read (so each value has the
    # type the schema gives it, which no static type here can say).
    Params,  # noqa: F401 (the rule modules import it from here)
)


def as_yaml(value: object) -> str:
    """A value as the manifest's author wrote it: true, 3, "always"."""
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def is_count(value: object) -> TypeGuard[int]:
    """An integer, and not a boolean (YAML's true is not 1 to the API server)."""
    return isinstance(value, int) and not isinstance(value, bool)


def security_context(data: dict) -> dict:
    return mapping(data.get("securityContext"))


def effective(field: str, container: Container, spec: PodSpec) -> Any:
    """A securityContext field as the kubelet sees it: the container's, else the pod's."""
    own = security_context(container.data)
    if own.get(field) is not None:
        return own[field]
    return security_context(spec.spec).get(field)


class HostPath(NamedTuple):
    path: tuple  # from the object's root to the hostPath's ``path`` key
    name: str  # the volume's name, for the message
    host_path: str  # normalised: no trailing slash, no ``..``


def host_paths(spec: PodSpec) -> Iterator[HostPath]:
    """Every hostPath volume with a literal path."""
    for i, volume in enumerate(sequence(spec.spec.get("volumes"))):
        if not isinstance(volume, dict):
            continue
        raw = mapping(volume.get("hostPath")).get("path")
        if not is_literal(raw) or not raw.strip():
            continue
        normal = posixpath.normpath(raw.strip())
        if normal.startswith("//"):
            normal = "/" + normal.lstrip("/")
        name = volume.get("name")
        yield HostPath(
            spec.path + ("volumes", i, "hostPath", "path"),
            name if isinstance(name, str) else f"#{i + 1}",
            normal,
        )


def called(obj: ObjectView) -> str:
    """``Deployment "web"``, or ``this Deployment`` when it has no literal name."""
    return f'{obj.kind} "{obj.name}"' if obj.name else f"this {obj.kind}"

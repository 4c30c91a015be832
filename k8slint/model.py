"""The object model the rules see: Kubernetes objects, their pod specs, containers, images."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node, SequenceNode

from .kinds import POD_SPEC_PATHS, RUN_TO_COMPLETION
from .loader import Document, Path, mask_templated


class K8sObject:
    """One Kubernetes object: a document, or an item of a ``kind: List``.

    ``prefix`` is where the object sits in its document, so that positions of ``List``
    items are their real ones.
    """

    __slots__ = ("data", "node", "document", "prefix")

    def __init__(self, data: dict, node: Node, document: Document, prefix: Path = ()):
        self.data = data
        self.node = node
        self.document = document
        self.prefix = prefix

    @property
    def api_version(self) -> str:
        return self.data["apiVersion"]

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def group(self) -> str:
        """The API group: ``apps`` for ``apps/v1``, ``""`` for the core ``v1``."""
        group, _, _version = self.api_version.rpartition("/")
        return group

    @property
    def metadata(self) -> dict:
        return mapping(self.data.get("metadata"))

    @property
    def name(self) -> str | None:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else None

    @property
    def namespace(self) -> str | None:
        namespace = self.metadata.get("namespace")
        return namespace if isinstance(namespace, str) else None


def mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list:
    return value if isinstance(value, list) else []


def is_k8s_object(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("apiVersion"), str)
        and isinstance(data.get("kind"), str)
    )


def objects(document: Document) -> Iterator[K8sObject]:
    """The Kubernetes objects of a document; items of ``List`` and ``*List`` kinds one by one.

    Anything without a string ``apiVersion`` and ``kind`` (a CI workflow, a Helm values
    file) is not a Kubernetes object and yields nothing.
    """
    data = document.data
    if not is_k8s_object(data):
        return
    kind = data["kind"]
    items = data.get("items")
    if kind.endswith("List") and isinstance(items, list):
        items_node = _value_node(document.root, "items")
        if isinstance(items_node, SequenceNode):
            for i, item in enumerate(items):
                if is_k8s_object(item):
                    yield K8sObject(item, items_node.value[i], document, ("items", i))
            return
    yield K8sObject(data, document.root, document)


def _value_node(node: Node, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        found = None
        for key_node, value_node in node.value:
            if key_node.value == key:
                found = value_node
        return found
    return None


# --- pod specs ------------------------------------------------------------------------------

class PodSpec(NamedTuple):
    path: Path
    spec: dict
    long_running: bool  # serves until stopped, so a drain must stop it gracefully


def pod_spec(obj: K8sObject) -> PodSpec | None:
    """The pod spec of a workload, or None: a ConfigMap that looks like a pod is not one."""
    known = POD_SPEC_PATHS.get(obj.kind)
    if known is None or obj.group not in known[0]:
        return None
    path = known[1]
    value: Any = obj.data
    for step in path:
        value = mapping(value).get(step)
    if not isinstance(value, dict):
        return None
    # A pod that is not restarted when it exits (a one-off task, a test pod) runs to
    # completion like a Job's.
    runs_once = value.get("restartPolicy") in ("Never", "OnFailure")
    return PodSpec(path, value, obj.kind not in RUN_TO_COMPLETION and not runs_once)


def pod_template(obj: K8sObject) -> tuple[Path, dict] | None:
    """Where a workload's pod template is, and the template, whatever its ``spec`` holds
    (a Pod is its own template). None for other objects, or when there is no template."""
    known = POD_SPEC_PATHS.get(obj.kind)
    if known is None or obj.group not in known[0]:
        return None
    path = known[1][:-1]
    value: Any = obj.data
    for step in path:
        value = mapping(value).get(step)
    return (path, value) if isinstance(value, dict) else None


def pod_template_labels(obj: K8sObject) -> dict | None:
    """The labels a workload's pods get from its template, as written (``{}`` when it sets
    none); None when it has no pod template."""
    template = pod_template(obj)
    if template is None:
        return None
    return mapping(mapping(template[1].get("metadata")).get("labels"))


def is_windows(spec: PodSpec) -> bool:
    """Linux-only settings (users, capabilities, read-only roots) mean nothing there."""
    return mapping(spec.spec.get("os")).get("name") == "windows"


class Container(NamedTuple):
    path: Path  # from the object's root to the container item
    data: dict
    group: str  # containers | initContainers | ephemeralContainers

    @property
    def name(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) else f"#{self.path[-1] + 1}"

    @property
    def is_sidecar(self) -> bool:
        """A native sidecar: an init container that keeps running beside the app."""
        return self.group == "initContainers" and self.data.get("restartPolicy") == "Always"

    @property
    def runs_with_pod(self) -> bool:
        """Runs for the pod's whole life, so it must stop gracefully when the pod does."""
        return self.group == "containers" or self.is_sidecar


CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")


def containers(spec: PodSpec) -> Iterator[Container]:
    for group in CONTAINER_GROUPS:
        for i, item in enumerate(sequence(spec.spec.get(group))):
            if isinstance(item, dict):
                yield Container(spec.path + (group, i), item, group)


# --- image references -----------------------------------------------------------------------


class ImageRef(NamedTuple):
    """An image reference: ``[registry/]repository[:tag][@digest]``.

    Parts are the text as written; a part that a template fills in (``{{ .Values.tag }}``,
    ``$PROJECT_ID``) is named in ``templated``, and only the literal parts are judged.
    """

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None
    # Of "registry" (the first path segment: whether a registry is named, and which),
    # "name" (the last path segment), "tag" and "digest": those a template fills in.
    templated: frozenset[str] = frozenset()

    @property
    def tag_unknown(self) -> bool:
        """A template fills in the tag, or may (no tag, no digest, a templated last segment)."""
        if self.digest is not None:
            return "tag" in self.templated
        return "tag" in self.templated if self.tag is not None else "name" in self.templated

    @property
    def effective_tag(self) -> str | None:
        """The tag the kubelet pulls: ``latest`` when neither tag nor digest is given; None
        when pinned by digest alone or when the tag is not literal (see ``tag_unknown``)."""
        if self.tag_unknown:
            return None
        if self.tag is None and self.digest is None:
            return "latest"
        return self.tag

    @property
    def pulls_latest(self) -> bool:
        """Moves under the node's feet: no digest, and the tag is (or defaults to) latest."""
        return self.digest is None and self.effective_tag == "latest"

    @property
    def registry_unknown(self) -> bool:
        """A template fills in the first path segment, which may or may not be a registry."""
        return "registry" in self.templated

    @property
    def basename(self) -> str:
        return self.repository.rpartition("/")[2]


_MASK = "\0"


def image_ref(text: str) -> ImageRef:
    # Cut where the literal text says, never at a ``/``, ``:`` or ``@`` inside a template.
    masked = mask_templated(text, _MASK)
    at = masked.find("@")
    name_end = at if at >= 0 else len(text)
    slash = masked.rfind("/", 0, name_end)
    colon = masked.rfind(":", slash + 1, name_end)
    repository_end = colon if colon >= 0 else name_end
    first_slash = masked.find("/", 0, repository_end)
    registry = None
    repository_start = 0
    if first_slash >= 0:
        first = masked[:first_slash]
        if "." in first or ":" in first or first == "localhost":
            registry, repository_start = text[:first_slash], first_slash + 1
    templated = {
        part
        for part, (begin, end) in {
            "registry": (0, first_slash if first_slash >= 0 else repository_end),
            "name": (slash + 1, repository_end),
            "tag": (colon + 1, name_end) if colon >= 0 else (0, 0),
            "digest": (at + 1, len(text)) if at >= 0 else (0, 0),
        }.items()
        if _MASK in masked[begin:end]
    }
    tag = text[colon + 1:name_end] if colon >= 0 else None
    digest = text[at + 1:] if at >= 0 else ""
    return ImageRef(registry, text[repository_start:repository_end], tag, digest or None,
                    frozenset(templated))

"""The object model the rules see: Kubernetes objects, their pod specs, containers, images."""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple

from yaml.nodes import MappingNode, Node, SequenceNode

from .loader import Document, Path


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

# kind -> (API groups that serve it, path of its pod spec)
_POD_SPEC_PATHS: dict[str, tuple[frozenset[str], Path]] = {
    "Pod": (frozenset({""}), ("spec",)),
    "PodTemplate": (frozenset({""}), ("template", "spec")),
    "ReplicationController": (frozenset({""}), ("spec", "template", "spec")),
    "Deployment": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "ReplicaSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "StatefulSet": (frozenset({"apps"}), ("spec", "template", "spec")),
    "DaemonSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "Job": (frozenset({"batch"}), ("spec", "template", "spec")),
    "CronJob": (frozenset({"batch"}), ("spec", "jobTemplate", "spec", "template", "spec")),
}
POD_KINDS = frozenset(_POD_SPEC_PATHS)
RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})
LONG_RUNNING_KINDS = POD_KINDS - RUN_TO_COMPLETION_KINDS


class PodSpec(NamedTuple):
    path: Path
    spec: dict
    long_running: bool  # serves until stopped, so a drain must stop it gracefully


def pod_spec(obj: K8sObject) -> PodSpec | None:
    """The pod spec of a workload, or None: a ConfigMap that looks like a pod is not one."""
    known = _POD_SPEC_PATHS.get(obj.kind)
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
    return PodSpec(path, value, obj.kind not in RUN_TO_COMPLETION_KINDS and not runs_once)


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
    """An image reference: ``[registry/]repository[:tag][@digest]``."""

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def effective_tag(self) -> str | None:
        """The tag the kubelet pulls: ``latest`` when neither tag nor digest is given."""
        if self.tag is None and self.digest is None:
            return "latest"
        return self.tag

    @property
    def pulls_latest(self) -> bool:
        """Moves under the node's feet: no digest, and the tag is (or defaults to) latest."""
        return self.digest is None and self.effective_tag == "latest"

    @property
    def basename(self) -> str:
        return self.repository.rpartition("/")[2]


def image_ref(text: str) -> ImageRef:
    name, _, digest = text.partition("@")
    head, slash, last = name.rpartition("/")
    tag = None
    if ":" in last:
        last, _, tag = last.rpartition(":")
    repository = head + slash + last
    registry = None
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    return ImageRef(registry, repository, tag, digest or None)

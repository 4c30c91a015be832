"""The cross-object index: small facts about each object, gathered while files are linted,
and looked up by namespace, labels and names once every file has been read.

Workers keep nothing of a file but its findings and, for the kinds cross-object rules
care about, one ``Facts`` record with the positions those rules may point at; so a run
over a large repository still holds only a few kilobytes per workload. Lookups go
through label and name indexes: a run over N objects does O(N) work, not O(N^2).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from .findings import ObjectRef, stable_path
from .kinds import MAKES_PODS, SCALED
from .loader import Position, is_templated, locate
from .model import K8sObject, mapping, pod_spec, pod_template_labels, sequence
from .selectors import selector_matches

WORKLOAD_KINDS = MAKES_PODS
SCALED_KINDS = SCALED
# A PodTemplate makes no pods itself, but its pods' service account is checked like any.
INDEXED_KINDS = WORKLOAD_KINDS | {"PodTemplate", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                                  "Service", "ServiceAccount"}
# API groups served by Kubernetes itself. An object of any other group is a custom
# resource, whose controller may make pods with labels no manifest shows.
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "extensions", "networking.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io",
    "admissionregistration.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
    "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io",
    "apiregistration.k8s.io", "events.k8s.io", "resource.k8s.io", "authentication.k8s.io",
    "authorization.k8s.io", "kustomize.config.k8s.io", "kubeadm.k8s.io",
})
CUSTOM = "<custom resource>"
UNSET = None
NOT_LITERAL = -1  # a templated value: the rules skip it rather than guess


# Labels the StatefulSet controller gives each pod: a Service may select one pod by them.
PER_POD_LABELS = ("statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index")


class Anchor(NamedTuple):
    """A place a cross-object finding may point at, located while the nodes were there."""

    path: tuple
    position: Position
    stable_path: str


class Facts(NamedTuple):
    file: str
    api_version: str
    kind: str
    namespace: str | None
    name: str | None
    pod_labels: dict | None  # the labels of the pods it makes
    replicas: int | None  # UNSET, NOT_LITERAL or the number
    selector: dict | None  # a Service's selector map, or a PDB's label selector
    budget: tuple  # a PDB's (minAvailable, maxUnavailable)
    scale_target: tuple[str | None, str | None, int | None] | None  # an HPA's (kind, name, minReplicas)
    service_account: str | None
    service_type: str | None
    anchors: dict[str, Anchor]
    context_only: bool = False  # read to be seen, not to be reported
    # "etcd": runs an etcd member (its size is the etcd rules' business);
    # "pvc": mounts a PersistentVolumeClaim (a second replica may not be able to).
    flags: frozenset = frozenset()
    ref: ObjectRef | None = None  # the object's (exact file, name key, unit), set by the engine

    @property
    def called(self) -> str:
        """``Deployment web``, or ``Deployment (unnamed)``: the object as messages name it."""
        return f"{self.kind} {self.name}" if self.name else f"{self.kind} (unnamed)"

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def min_replicas(self) -> int | None:
        """An autoscaler's minReplicas: UNSET, NOT_LITERAL or the number (UNSET for others)."""
        return self.scale_target[2] if self.scale_target is not None else UNSET


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _label_selector(raw: Any) -> dict | None:
    """A LabelSelector with the shapes the API allows, or None: string labels, and
    expressions whose values are lists of strings."""
    if not isinstance(raw, dict):
        return None
    labels = mapping(raw.get("matchLabels"))
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        return None
    expressions = []
    for e in sequence(raw.get("matchExpressions")):
        values = mapping(e).get("values", [])
        if not isinstance(mapping(e).get("key"), str) or not isinstance(values, list) \
                or not all(isinstance(v, str) for v in values):
            return None
        expressions.append(e)
    return {"matchLabels": dict(labels), "matchExpressions": expressions}


def _literal_int(value: Any) -> int | None:
    if value is None:
        return UNSET
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return NOT_LITERAL


def facts_of(obj: K8sObject, file: str, context_only: bool = False) -> Facts | None:
    """The facts cross-object rules need about one object, or None for other kinds."""
    kind = obj.kind
    spec = mapping(obj.data.get("spec"))
    if kind == "ScaledObject" and obj.group == "keda.sh":  # an autoscaler, like an HPA
        target = mapping(spec.get("scaleTargetRef"))
        scaled = (_text(target.get("kind")) or "Deployment", _text(target.get("name")),
                  _literal_int(spec.get("minReplicaCount", 0)))
        return Facts(file, obj.api_version, "HorizontalPodAutoscaler", obj.namespace, obj.name,
                     None, None, None, (), scaled, None, None, {}, context_only)
    if kind not in INDEXED_KINDS:
        if obj.group in BUILTIN_GROUPS:
            return None
        # A custom resource: its controller may make pods, named after it or its group.
        return Facts(file, obj.api_version, CUSTOM, obj.namespace, obj.name, None, None, None,
                     (), None, None, None, {}, context_only)
    anchors: dict[str, tuple] = {}
    pod_labels = replicas = selector = scale_target = service_account = service_type = None
    budget: tuple = ()
    flags = set()
    ps = pod_spec(obj)
    if kind in SCALED_KINDS:  # with or without a usable pod template
        replicas = _literal_int(spec.get("replicas"))
        anchors["replicas"] = ("spec", "replicas")
    # The pods' labels come from the template's metadata, whatever its spec: a template
    # with labels and no spec (a kustomize base, a patch target) still makes those pods.
    template_labels = pod_template_labels(obj) if kind in WORKLOAD_KINDS else None
    if template_labels is not None:
        pod_labels = {k: v for k, v in template_labels.items() if isinstance(v, str)}
        if kind == "Job" and isinstance(obj.name, str):  # the Job controller adds these
            pod_labels.setdefault("job-name", obj.name)
            pod_labels.setdefault("batch.kubernetes.io/job-name", obj.name)
    if (kind in WORKLOAD_KINDS or kind == "PodTemplate") and ps is not None:
        volumes = sequence(ps.spec.get("volumes"))
        if any(isinstance(v, dict) and "persistentVolumeClaim" in v for v in volumes):
            flags.add("pvc")
        if kind == "StatefulSet":
            from .etcd import etcd_clusters

            if any(True for _ in etcd_clusters(obj.data, kind, obj.group, ps)):
                flags.add("etcd")
        for key in ("serviceAccountName", "serviceAccount"):
            value = ps.spec.get(key)
            if isinstance(value, str) and value:
                service_account = value
                anchors["serviceAccount"] = ps.path + (key,)
                break
    elif kind == "PodDisruptionBudget":
        selector = _label_selector(spec.get("selector"))
        budget = (spec.get("minAvailable"), spec.get("maxUnavailable"))
        anchors["minAvailable"] = ("spec", "minAvailable")
        anchors["maxUnavailable"] = ("spec", "maxUnavailable")
    elif kind == "HorizontalPodAutoscaler":
        target = mapping(spec.get("scaleTargetRef"))
        scale_target = (_text(target.get("kind")), _text(target.get("name")),
                        _literal_int(spec.get("minReplicas")))
    elif kind == "Service":
        raw = spec.get("selector")
        selector = {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)} \
            if isinstance(raw, dict) else None
        service_type = spec.get("type") if isinstance(spec.get("type"), str) else None
        anchors["selector"] = ("spec", "selector")
    anchors["metadata"] = ("metadata",)
    located = {
        name: Anchor(path, locate(obj.node, path), stable_path(obj.data, path))
        for name, path in anchors.items()
    }
    return Facts(file, obj.api_version, kind, obj.namespace, obj.name, pod_labels, replicas,
                 selector, budget, scale_target, service_account, service_type, located,
                 context_only, frozenset(flags))


# --- label selectors --------------------------------------------------------------------------


def selector_is_literal(selector: Any) -> bool:
    """Templated labels cannot be matched: such selectors are skipped, never guessed."""
    return not is_templated(repr(selector))


class Index:
    """Every object's facts, by kind, by namespace and by label; ``work`` counts the
    candidates each lookup examined, so that tests can prove lookups stay linear."""

    def __init__(self, facts: Iterable[Facts]):
        # Workers return files in any order: sort, so that every run sees the same index.
        facts = sorted(facts, key=lambda f: (f.file, _first_line(f)))
        self.by_kind: dict[str, list[Facts]] = defaultdict(list)
        self._pod_makers_by_ns: dict[str | None, list[Facts]] = defaultdict(list)
        self._by_label: dict[tuple, list[Facts]] = defaultdict(list)
        self._by_label_key: dict[tuple, list[Facts]] = defaultdict(list)
        self._names: set[tuple] = set()
        self._hpa_targets: dict[tuple, Facts] = {}
        self._custom_names: dict[str | None, set] = defaultdict(set)
        self._custom_groups: dict[str | None, set] = defaultdict(set)
        self._lookups: dict[tuple, list[Facts]] = {}  # identical selectors are looked up once
        self.work = 0
        for f in facts:
            if f.kind == CUSTOM:
                self._custom_names[f.namespace].add(f.name)
                # Every suffix of the group, so that a label prefix is one set lookup.
                parts = f.group.split(".")
                self._custom_groups[f.namespace].update(".".join(parts[i:]) for i in range(len(parts)))
                continue
            self.by_kind[f.kind].append(f)
            self._names.add((f.kind, f.namespace, f.name))
            if f.pod_labels is not None:
                self._pod_makers_by_ns[f.namespace].append(f)
                for key, value in f.pod_labels.items():
                    self._by_label[(f.namespace, key, value)].append(f)
                    self._by_label_key[(f.namespace, key)].append(f)
            if f.scale_target is not None:
                kind, name, minimum = f.scale_target
                known = self._hpa_targets.get((f.namespace, kind, name))
                # Autoscalers of one workload in several overlays: the highest minimum.
                if known is None or (isinstance(minimum, int) and minimum > (known.min_replicas or 0)):
                    self._hpa_targets[(f.namespace, kind, name)] = f

    def custom_maker(self, namespace: str | None, selector: dict) -> bool:
        """A custom resource in ``namespace`` that looks like the maker of the pods a
        selector wants: its name is one of the selector's values, or its API group ends
        with a label key's prefix (``cnpg.io/cluster`` and ``postgresql.cnpg.io``)."""
        names, groups = self._custom_names.get(namespace, ()), self._custom_groups.get(namespace, ())
        if any(value in names for value in selector.values()):
            return True
        return any(key.partition("/")[0] in groups for key in selector if "/" in key)

    def has(self, kind: str, namespace: str | None, name: str) -> bool:
        return (kind, namespace, name) in self._names

    def hpa_for(self, workload: Facts) -> Facts | None:
        return self._hpa_targets.get((workload.namespace, workload.kind, workload.name))

    def effective_replicas(self, workload: Facts) -> int | None:
        """Replicas as a drain sees them: the field (unset: 1), raised by an HPA's minimum."""
        replicas = 1 if workload.replicas is UNSET else workload.replicas
        if replicas == NOT_LITERAL:
            return None
        hpa = self.hpa_for(workload)
        minimum = UNSET if hpa is None else hpa.min_replicas
        if minimum is not UNSET and minimum != NOT_LITERAL:
            replicas = max(replicas, minimum)
        return replicas

    def pod_makers(self, namespace: str | None, selector: dict, plain: bool = False) -> list[Facts]:
        """Workloads in ``namespace`` whose pods ``selector`` selects. ``plain``: a
        Service's map of labels rather than a LabelSelector. Labels a controller adds to
        each pod (a StatefulSet pod's name and index) are matched against the controller."""
        key = (namespace, plain, repr(sorted(selector.items(), key=repr)))
        found = self._lookups.get(key)
        if found is None:
            found = self._lookups[key] = self._pod_makers(namespace, selector, plain)
        return found

    def _pod_makers(self, namespace: str | None, selector: dict, plain: bool) -> list[Facts]:
        if plain and any(key in PER_POD_LABELS for key in selector):
            return self._stateful_pods(namespace, selector)
        labels = selector if plain else mapping(selector.get("matchLabels"))
        lists = [self._by_label.get((namespace, k, v), []) for k, v in labels.items()]
        if not plain:
            lists += self._expression_candidates(namespace, selector)
        candidates = min(lists, key=len) if lists else self._pod_makers_by_ns.get(namespace, [])
        self.work += len(candidates)
        # Only workloads with pod labels are indexed: `is not None` drops none of them.
        if plain:
            return [f for f in candidates
                    if f.pod_labels is not None and all(f.pod_labels.get(k) == v for k, v in labels.items())]
        return [f for f in candidates
                if f.pod_labels is not None and selector_matches(selector, f.pod_labels)]

    def _expression_candidates(self, namespace: str | None, selector: dict) -> list[list[Facts]]:
        """For each ``In`` and ``Exists`` expression, the workloads that could satisfy it,
        so a selector made of expressions is not compared with every workload."""
        found = []
        expressions = selector.get("matchExpressions")
        for expression in expressions if isinstance(expressions, list) else ():
            if not isinstance(expression, dict) or not isinstance(expression.get("key"), str):
                continue
            key, operator = expression["key"], expression.get("operator")
            values = expression.get("values")
            if operator == "In" and isinstance(values, list) and all(isinstance(v, str) for v in values):
                merged: dict[int, Facts] = {}
                for value in values:
                    for f in self._by_label.get((namespace, key, value), ()):
                        merged[id(f)] = f
                found.append(list(merged.values()))
            elif operator == "Exists":
                found.append(self._by_label_key.get((namespace, key), []))
        return found

    def _stateful_pods(self, namespace: str | None, selector: dict) -> list[Facts]:
        rest = {k: v for k, v in selector.items() if k not in PER_POD_LABELS}
        candidates = self.pod_makers(namespace, rest, plain=True) if rest else list(
            self._pod_makers_by_ns.get(namespace, []))
        pod_name = selector.get(PER_POD_LABELS[0])
        index = selector.get(PER_POD_LABELS[1])
        return [
            f for f in candidates
            if f.kind == "StatefulSet"
            and (pod_name is None or (f.name and pod_name.startswith(f.name + "-")
                                      and pod_name[len(f.name) + 1:].isdigit()))
            and (index is None or index.isdigit())
        ]


def _first_line(f: Facts) -> int:
    anchor = f.anchors.get("metadata")
    return anchor.position.line if anchor else 0

"""The cross-object index: small facts about each object, gathered while files are linted,
and looked up by namespace, labels and names once every file has been read.

Workers keep nothing of a file but its findings and, for the kinds cross-object rules
care about, one ``Facts`` record with the positions those rules may point at; so a run
over a large repository still holds only a few kilobytes per workload. Lookups go
through label and name indexes: a run over N objects does O(N) work, not O(N^2).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from .etcd import EtcdBackup, etcd_backup, etcd_clusters
from .findings import ObjectRef, stable_path
from .kinds import MAKES_PODS, SCALED
from .loader import Position, is_literal, is_templated, locate
from .model import K8sObject, PodSpec, containers, mapping, pod_spec, pod_template_labels, sequence
from .references import (
    CONFIG_KINDS,
    INGRESS_GROUPS,
    Made,
    Reference,
    config_keys,
    config_references,
    ingress_backends,
    made_configs,
)
from .selectors import selector_matches

WORKLOAD_KINDS = MAKES_PODS
SCALED_KINDS = SCALED
# A PodTemplate makes no pods itself, but its pods' service account is checked like any.
INDEXED_KINDS = WORKLOAD_KINDS | {"PodTemplate", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                                  "Service", "ServiceAccount", "Ingress", *CONFIG_KINDS}
# Built-in kinds that only make or hold something other objects name (kubeadm's etcd).
_MAKERS = frozenset({"Kustomization", "Component", "ClusterConfiguration"})
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
    file: str | None = None  # where a rendered object's anchor lies (a patch), when moved


class ServicePort(NamedTuple):
    """One port of a Service: its number and name, and where it sends requests."""

    port: int | None
    name: str | None
    target: int | str | None  # targetPort as written; None: the same as ``port``
    known: bool  # False when a part a template fills in leaves its target unknown


class Serving(NamedTuple):
    """A container that runs for its long-running pod's whole life, as a Service sees it."""

    name: str
    path: tuple  # the container item
    ports: frozenset | None  # its containerPort numbers and port names; None: not literal
    probed: bool  # a readiness or startup probe holds traffic back until it answers


class EtcdFacts(NamedTuple):
    """An etcd cluster an object declares (as the etcd rules read it)."""

    path: tuple  # where its size is written
    members: int
    names: frozenset[str]  # member names or hosts, when the declaration gives them


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
    # "pvc": mounts a PersistentVolumeClaim (a second replica may not be able to);
    # "publish-not-ready": a Service that sends traffic to pods that are not ready;
    # "exported": read back from a live cluster (it has a uid or resourceVersion), so the
    # objects it names were there, whether or not the run holds them.
    flags: frozenset = frozenset()
    ref: ObjectRef | None = None  # the object's (exact file, name key, unit), set by the engine
    # The kind as written, where ``kind`` files the object under another: a custom
    # resource's, or a KEDA ScaledObject's (indexed as an autoscaler).
    own_kind: str | None = None
    references: tuple[Reference, ...] = ()  # Services, ConfigMaps and Secrets it names
    ports: tuple[ServicePort, ...] | None = None  # a Service's ports; None: not literal
    serving: tuple[Serving, ...] = ()  # a long-running pod's containers
    keys: frozenset[str] | None = None  # a ConfigMap's or Secret's keys; None: unknown
    made: tuple[Made, ...] = ()  # ConfigMaps and Secrets it makes
    etcd: EtcdFacts | None = None  # the etcd cluster it runs or declares
    backup: EtcdBackup | None = None  # how it takes etcd snapshots

    @property
    def called(self) -> str:
        """``Deployment web``, or ``Deployment (unnamed)``: the object as messages name it."""
        kind = self.own_kind or self.kind
        return f"{kind} {self.name}" if self.name else f"{kind} (unnamed)"

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def min_replicas(self) -> int | None:
        """An autoscaler's minReplicas: UNSET, NOT_LITERAL or the number (UNSET for others)."""
        return self.scale_target[2] if self.scale_target is not None else UNSET


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def path_key(path: tuple) -> str:
    """The key under which ``Facts.anchors`` keeps a path that is not one of the named
    anchors: every reference and container path is located while the nodes are there."""
    return "@" + "/".join(map(str, path))


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


# What a pod's facts may leave out when no enabled rule reads it: locating every env
# reference and every container costs more than the rest of an object's facts.
POD_DETAILS = frozenset({"config-references", "serving"})


def pod_details(rules: Iterable[str]) -> frozenset[str]:
    """The pod details the enabled ``rules`` read."""
    wanted = set(rules)
    return frozenset(detail for detail, rule in (("config-references", "missing-config-reference"),
                                                 ("serving", "missing-readiness-probe"))
                     if rule in wanted)


def facts_of(obj: K8sObject, file: str, context_only: bool = False,
             details: frozenset[str] = POD_DETAILS) -> Facts | None:
    """The facts cross-object rules need about one object, or None for other kinds.
    ``details``: which of ``POD_DETAILS`` to gather (the ConfigMaps and Secrets a pod
    reads, the containers that serve its Services)."""
    kind = obj.kind
    spec = mapping(obj.data.get("spec"))
    if kind == "ScaledObject" and obj.group == "keda.sh":  # an autoscaler, like an HPA
        target = mapping(spec.get("scaleTargetRef"))
        scaled = (_text(target.get("kind")) or "Deployment", _text(target.get("name")),
                  _literal_int(spec.get("minReplicaCount", 0)))
        return _located(obj, _scale_anchors({}), Facts(
            file, obj.api_version, "HorizontalPodAutoscaler", obj.namespace, obj.name, None,
            None, None, (), scaled, None, None, {}, context_only,
            frozenset({"exported"}) if _exported(obj) else frozenset(), own_kind=kind,
            references=_scale_reference(target, keda=True)))
    if kind in CONFIG_KINDS and obj.group != "":
        kind = CUSTOM  # a custom resource that happens to share the name
    if kind not in INDEXED_KINDS:
        return _other_facts(obj, file, context_only, kind == CUSTOM)
    anchors: dict[str, tuple] = {}
    references: tuple[Reference, ...] = ()
    serving: tuple[Serving, ...] = ()
    ports: tuple[ServicePort, ...] | None = None
    keys: frozenset[str] | None = None
    etcd: EtcdFacts | None = None
    backup: EtcdBackup | None = None
    pod_labels = replicas = selector = scale_target = service_account = service_type = None
    budget: tuple = ()
    flags = set()
    if _exported(obj):
        flags.add("exported")
    ps = pod_spec(obj)
    if kind in SCALED_KINDS:  # with or without a usable pod template
        replicas = _literal_int(spec.get("replicas"))
        anchors["replicas"] = ("spec", "replicas")
    # The pods' labels come from the template's metadata, whatever its spec: a template
    # with labels and no spec (a kustomize base, a patch target) still makes those pods.
    template_labels = pod_template_labels(obj) if kind in WORKLOAD_KINDS else None
    if template_labels is not None:
        pod_labels = {shared(k): shared(v) for k, v in template_labels.items() if isinstance(v, str)}
        if kind == "Job" and isinstance(obj.name, str):  # the Job controller adds these
            pod_labels.setdefault("job-name", obj.name)
            pod_labels.setdefault("batch.kubernetes.io/job-name", obj.name)
    if (kind in WORKLOAD_KINDS or kind == "PodTemplate") and ps is not None:
        volumes = sequence(ps.spec.get("volumes"))
        if any(isinstance(v, dict) and "persistentVolumeClaim" in v for v in volumes):
            flags.add("pvc")
        etcd = _etcd(obj, ps, anchors)
        if kind == "StatefulSet" and etcd is not None:
            flags.add("etcd")
        backup = etcd_backup(obj.data, kind, obj.group, ps)
        if "config-references" in details:
            references = tuple(config_references(ps))
        if "serving" in details and ps.long_running and kind != "PodTemplate":
            serving = _serving(ps)
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
        _scale_anchors(anchors)
        references = _scale_reference(target, keda=False)
    elif kind == "Service":
        raw = spec.get("selector")
        selector = {shared(k): shared(v) for k, v in raw.items()
                    if isinstance(k, str) and isinstance(v, str)} \
            if isinstance(raw, dict) else None
        service_type = spec.get("type") if isinstance(spec.get("type"), str) else None
        anchors["selector"] = ("spec", "selector")
        ports = _service_ports(spec.get("ports"))
        if spec.get("publishNotReadyAddresses") is True:
            flags.add("publish-not-ready")
    elif kind == "Ingress" and obj.group in INGRESS_GROUPS:
        references = tuple(ingress_backends(obj.data))
    elif kind in CONFIG_KINDS:
        keys = config_keys(obj.data)
    for reference in references:
        anchors[path_key(reference.path)] = reference.path
        if reference.part_path:
            anchors[path_key(reference.part_path)] = reference.part_path
    for container in serving:  # where missing-readiness-probe points: the container
        probe = container.path + ("readinessProbe",)
        anchors[path_key(probe)] = probe
    anchors["metadata"] = ("metadata",)
    return _located(obj, anchors, Facts(
        file, obj.api_version, kind, obj.namespace, obj.name, pod_labels, replicas, selector,
        budget, scale_target, service_account, service_type, {}, context_only, frozenset(flags),
        references=references, ports=ports, serving=serving, keys=keys, etcd=etcd,
        backup=backup))


def _exported(obj: K8sObject) -> bool:
    metadata = obj.metadata
    return metadata.get("uid") is not None or metadata.get("resourceVersion") is not None


def _other_facts(obj: K8sObject, file: str, context_only: bool, custom: bool) -> Facts | None:
    """A custom resource's facts (its controller may make pods, named after it or its
    group), or those of a kustomization or of kubeadm's configuration; each may also
    declare an etcd cluster, take its backups, or make ConfigMaps and Secrets."""
    builtin = obj.group in BUILTIN_GROUPS and not custom
    if builtin and obj.kind not in _MAKERS:
        return None
    anchors: dict[str, tuple] = {"metadata": ("metadata",)}
    etcd = _etcd(obj, None, anchors)
    made = tuple(made_configs(obj.data, obj.kind, obj.group, obj.namespace))
    backup = etcd_backup(obj.data, obj.kind, obj.group, None)
    if builtin and not (etcd or made):
        return None
    return _located(obj, anchors, Facts(
        file, obj.api_version, obj.kind if builtin else CUSTOM, obj.namespace, obj.name, None,
        None, None, (), None, None, None, {}, context_only,
        frozenset({"exported"}) if _exported(obj) else frozenset(), own_kind=obj.kind,
        made=made, etcd=etcd, backup=backup))


def _located(obj: K8sObject, anchors: dict[str, tuple], facts: Facts) -> Facts:
    """The facts with every anchor located in the object's nodes; the texts many objects
    share (apiVersion, kind, namespace, flags) held once, as a run keeps every object's
    facts to its end."""
    located = {
        name: Anchor(path, locate(obj.node, path), stable_path(obj.data, path))
        for name, path in anchors.items()
    }
    return facts._replace(anchors=located, api_version=shared(facts.api_version),
                          kind=shared(facts.kind), namespace=shared(facts.namespace),
                          own_kind=shared(facts.own_kind),
                          flags=_one_set(facts.flags))


_SETS: dict[frozenset, frozenset] = {}  # each set of flags or ports once (most are empty)
_MAX_SETS = 4096  # a process lints many runs (tests, a library caller): kept bounded


def _one_set(found: frozenset) -> frozenset:
    kept = _SETS.get(found)
    if kept is not None:
        return kept
    if len(_SETS) < _MAX_SETS:
        _SETS[found] = found
    return found


def shared(text: Any) -> Any:
    """One copy of a text many objects repeat (sys.intern), anything else as it is."""
    return sys.intern(text) if type(text) is str else text


def _scale_anchors(anchors: dict[str, tuple]) -> dict[str, tuple]:
    """Where an autoscaler names its target, each part of it."""
    anchors["metadata"] = ("metadata",)
    anchors["scaleTargetRef"] = ("spec", "scaleTargetRef")
    for part in ("apiVersion", "kind", "name"):
        anchors[f"scaleTargetRef.{part}"] = ("spec", "scaleTargetRef", part)
    return anchors


def _scale_reference(target: dict, keda: bool) -> tuple[Reference, ...]:
    """The workload an autoscaler names, with the apiVersion it names it by ("" for none:
    the core group); nothing when its kind or name is not literal. A KEDA ScaledObject's
    target is an apps/v1 Deployment unless it says otherwise."""
    kind = target.get("kind", "Deployment" if keda else None)
    name = target.get("name")
    if not (is_literal(kind) and kind and is_literal(name) and name):
        return ()
    api = target.get("apiVersion")
    part = ("apps/v1" if keda else "") if api is None else api if is_literal(api) else None
    return (Reference(kind, name, ("spec", "scaleTargetRef", "name"), part,
                      ("spec", "scaleTargetRef", "apiVersion")),)


def _etcd(obj: K8sObject, ps: PodSpec | None, anchors: dict[str, tuple]) -> EtcdFacts | None:
    """The first etcd cluster the object declares, as the etcd rules read it."""
    for cluster in etcd_clusters(obj.data, obj.kind, obj.group, ps):
        anchors["etcd"] = cluster.path
        return EtcdFacts(cluster.path, cluster.members, cluster.names)
    return None


def _service_ports(raw: Any) -> tuple[ServicePort, ...] | None:
    if not isinstance(raw, list):
        return None if raw is not None else ()
    found = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        number, name, target = item.get("port"), item.get("name"), item.get("targetPort")
        number = number if isinstance(number, int) and not isinstance(number, bool) else None
        name = name if is_literal(name) else None
        known = number is not None and (target is None or target == 0 or isinstance(target, int)
                                        or is_literal(target))
        if isinstance(target, bool) or target == 0:
            target = None
        found.append(ServicePort(number, name, target if known else None, known))
    return tuple(found)


def _serving(ps: PodSpec) -> tuple[Serving, ...]:
    """The containers that run for the pod's whole life, with the ports they declare."""
    return tuple(
        Serving(c.name, c.path, _container_ports(c.data.get("ports")),
                any(c.data.get(probe) is not None for probe in ("readinessProbe", "startupProbe")))
        for c in containers(ps) if c.runs_with_pod
    )


def _container_ports(raw: Any) -> frozenset | None:
    """A container's port numbers and names; None when a template fills in one of them."""
    if raw is None:
        return _one_set(frozenset())
    if not isinstance(raw, list):
        return None
    ports: set[int | str] = set()
    for port in raw:
        number, name = mapping(port).get("containerPort"), mapping(port).get("name")
        if isinstance(number, int) and not isinstance(number, bool):
            ports.add(number)
        elif number is not None or not isinstance(port, dict):
            return None
        if is_literal(name):
            ports.add(name)
        elif name is not None:
            return None
    return _one_set(frozenset(ports))


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
        self._named: dict[tuple, list[Facts]] = defaultdict(list)  # (kind, namespace, name)
        self._made: dict[tuple, list[frozenset | None]] = defaultdict(list)  # the same, made
        self._config_kinds: set[tuple] = set()  # (kind, namespace) of ConfigMaps and Secrets
        self.etcd_clusters: list[Facts] = []
        self.etcd_backups: list[Facts] = []
        self.work = 0
        for f in facts:
            if f.etcd is not None:
                self.etcd_clusters.append(f)
            if f.backup is not None:
                self.etcd_backups.append(f)
            for made in f.made:
                for namespace in set(made.namespaces):
                    self._made[(made.kind, namespace, made.name)].append(made.keys)
                    self._config_kinds.add((made.kind, namespace))
            if f.kind == CUSTOM:
                self._custom_names[f.namespace].add(f.name)
                # Every suffix of the group, so that a label prefix is one set lookup.
                parts = f.group.split(".")
                self._custom_groups[f.namespace].update(".".join(parts[i:]) for i in range(len(parts)))
                continue
            self.by_kind[f.kind].append(f)
            self._names.add((f.kind, f.namespace, f.name))
            self._named[(f.kind, f.namespace, f.name)].append(f)
            if f.kind in CONFIG_KINDS:
                self._config_kinds.add((f.kind, f.namespace))
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

    def named(self, kind: str, namespace: str | None, name: str) -> list[Facts]:
        """The objects of ``kind`` called ``name`` that an object in ``namespace`` may
        reach (see ``may_share``; a base and its overlay may both be in the run)."""
        found: list[Facts] = []
        for shared in may_share(namespace):
            found += self._named.get((kind, shared, name), ())
        return found

    def custom_named(self, namespace: str | None, name: str) -> bool:
        """A custom resource that an object in ``namespace`` may share a namespace with,
        whose controller may have made an object called ``name``: one called the same, or
        by a prefix of it (``db`` for ``db-app``)."""
        for shared in may_share(namespace):
            names = self._custom_names.get(shared, ())
            if name in names or any(name[:i] in names for i, c in enumerate(name) if c == "-"):
                return True
        return False

    def config_keys(self, kind: str, namespace: str | None, name: str) -> tuple[bool, frozenset | None]:
        """Whether a ConfigMap or Secret of that name is in the run (or made by something
        in it) where an object in ``namespace`` may read it, and the keys it holds: every
        key any copy holds, or None when a copy's keys are unknown (templated, or made by
        a generator or a controller)."""
        copies = [f.keys for f in self.named(kind, namespace, name)]
        for shared in may_share(namespace):
            copies += self._made.get((kind, shared, name), [])
        if not copies:
            return False, None
        every: set[str] = set()
        for keys in copies:
            if keys is None:
                return True, None
            every.update(keys)
        return True, frozenset(every)

    def keeps(self, kind: str, namespace: str | None) -> bool:
        """Whether the run keeps (or makes) any object of ``kind`` where an object in
        ``namespace`` may read it."""
        return any((kind, shared) in self._config_kinds for shared in may_share(namespace))

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


def may_share(namespace: str | None) -> tuple[str | None, ...]:
    """The namespaces an object in ``namespace`` may find a partner in, for the rules that
    report a missing partner: its own; and for an object that names none (it lands in the
    namespace the run is applied to) also the one called ``default``, where runs are applied
    unless told otherwise, and the other way round. A partner that may be there is not
    reported missing: it is not guessed absent."""
    if namespace is None:
        return (None, "default")
    if namespace == "default":
        return ("default", None)
    return (namespace,)


def _first_line(f: Facts) -> int:
    anchor = f.anchors.get("metadata")
    return anchor.position.line if anchor else 0

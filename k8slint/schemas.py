"""The schemas objects are checked against, compiled to small typed trees.

Two sources:

- built-in kinds of the target release, from ``data/schemas/1.N.json.gz`` (made by
  ``scripts/generate_schemas.py`` from the strict schemas of kubernetes-validate), plus
  the value sets the OpenAPI data lacks (``VALUE_SETS`` below, each with its source);
- custom resources whose CustomResourceDefinition is in the run: each served version's
  ``openAPIV3Schema``, compiled by :func:`compile_crd`.

A :class:`Type` says what a value may be; ``k8slint/validate.py`` walks an object's data
against one. Types are compiled on first use and shared: a release's table is loaded
once per process (only the target's file is read), and only the definitions that
objects reach are compiled.
"""

from __future__ import annotations

import csv
import json
import zlib
from functools import cache, partial
from pathlib import Path
from typing import Any, NamedTuple

from .loader import json_key
from .versions import NEWEST, Version, shown

DATA = Path(__file__).resolve().parent / "data" / "schemas"

# Type codes.
ANY = 0  # anything (RawExtension, JSON, a field another rule owns)
MAPPING = 1  # any mapping (FieldsV1, an object with no schema of its fields)
OBJECT = 2  # a mapping of named fields
MAP = 3  # a mapping from strings to one type
LIST = 4
STRING = 5
ENUM = 6  # a string from a fixed set
INTEGER = 7
NUMBER = 8
BOOLEAN = 9
QUANTITY = 10  # resource.Quantity: a number, or a string such as 512Mi
INT_OR_STRING = 11
BYTE = 12  # base64 text ([]byte in Go: Secret data, CA bundles)
LAZY = 13  # a definition or CRD schema node not compiled yet: compiled when a value reaches it

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


class Limits(NamedTuple):
    """Value constraints beyond the type (CRD schemas, integer formats)."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: Any = None  # a compiled RE2 pattern (``.search``, ``.pattern``)
    min_items: int | None = None
    max_items: int | None = None
    integer_format: str | None = None  # "int32" or "int64": the range is the format's


class Type:
    """What a value may be. ``name`` names the definition, for messages."""

    __slots__ = ("code", "name", "props", "required", "open", "item", "values", "limits", "plain")

    def __init__(self, code: int, name: str = "", *, props: dict[str, Type] | None = None,
                 required: tuple[str, ...] = (), open_: bool = False, item: Type | None = None,
                 values: tuple[Any, ...] = (), limits: Limits | None = None):
        self.code = code
        self.name = name
        self.props = props if props is not None else {}
        self.required = required
        self.open = open_  # an OBJECT that keeps fields it does not name
        self.item = item  # LIST items, MAP values
        self.values = values  # ENUM: the allowed strings; LAZY: (what compiles it,)
        self.limits = limits
        # The Python type of values that need no look at all (a string where any string
        # goes): the walk skips them without a call. None: every value is looked at.
        self.plain: type | None = None
        if limits is None:
            self.plain = {STRING: str, BOOLEAN: bool, INTEGER: int}.get(code)
            if code == MAPPING and item is None:
                self.plain = dict

    def force(self) -> Type:
        """Compile a LAZY type in place (every other type is compiled already)."""
        if self.code == LAZY:
            (compile_,) = self.values
            self.become(compile_())
        return self

    def become(self, compiled: Type) -> None:
        """Take ``compiled``'s place, keeping this type's name: a placeholder handed out
        before its definition was compiled (a recursive definition, a lazy CRD node)."""
        for slot in Type.__slots__:
            if slot != "name":
                setattr(self, slot, getattr(compiled, slot))

    def __repr__(self) -> str:  # for test failures
        return f"Type({self.code}, {self.name!r})"


ANYTHING = Type(ANY)
_SIMPLE = {
    "any": ANYTHING,
    "object": Type(MAPPING),
    "string": Type(STRING),
    "integer": Type(INTEGER),
    "int32": Type(INTEGER, limits=Limits(*_INT32, integer_format="int32")),
    "int64": Type(INTEGER, limits=Limits(*_INT64, integer_format="int64")),
    "number": Type(NUMBER),
    "boolean": Type(BOOLEAN),
    "quantity": Type(QUANTITY),
    "int-or-string": Type(INT_OR_STRING),
    "byte": Type(BYTE),
}

# --- value sets the OpenAPI data lacks ---------------------------------------------------
# Each set is what the API server's validation accepts, as the Kubernetes API reference
# (https://kubernetes.io/docs/reference/kubernetes-api/) lists it for the field. A key
# ending in "[]" names a list of such values. Fields whose value sets grow from release to
# release (Service trafficDistribution, container restartPolicy) are left out on purpose.
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
_PROFILE_TYPES = ("RuntimeDefault", "Unconfined", "Localhost")
VALUE_SETS: dict[str, dict[str, tuple[str, ...]]] = {
    # Workload resources: Pod, Container (API reference, "Pod" and "Container" pages).
    "core.v1.PodSpec": {
        "restartPolicy": ("Always", "OnFailure", "Never"),
        "dnsPolicy": ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"),
        "preemptionPolicy": ("PreemptLowerPriority", "Never"),
    },
    "core.v1.PodOS": {"name": ("linux", "windows")},
    "core.v1.Container": {"terminationMessagePolicy": ("File", "FallbackToLogsOnError")},
    "core.v1.EphemeralContainer": {"terminationMessagePolicy": ("File", "FallbackToLogsOnError")},
    "core.v1.ContainerPort": {"protocol": _PROTOCOLS},
    "core.v1.VolumeMount": {"mountPropagation": ("None", "HostToContainer", "Bidirectional")},
    "core.v1.HostPathVolumeSource": {"type": (
        "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
        "BlockDevice")},
    "core.v1.HTTPGetAction": {"scheme": ("HTTP", "HTTPS")},
    "core.v1.Toleration": {"operator": ("Exists", "Equal"), "effect": ("",) + _EFFECTS},
    "core.v1.Taint": {"effect": _EFFECTS},
    "core.v1.NodeSelectorRequirement": {
        "operator": ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")},
    "meta.v1.LabelSelectorRequirement": {"operator": ("In", "NotIn", "Exists", "DoesNotExist")},
    "core.v1.TopologySpreadConstraint": {
        "whenUnsatisfiable": ("DoNotSchedule", "ScheduleAnyway"),
        "nodeAffinityPolicy": ("Honor", "Ignore"),
        "nodeTaintsPolicy": ("Honor", "Ignore"),
    },
    "core.v1.SeccompProfile": {"type": _PROFILE_TYPES},
    "core.v1.AppArmorProfile": {"type": _PROFILE_TYPES},
    "core.v1.PodSecurityContext": {"fsGroupChangePolicy": ("OnRootMismatch", "Always")},
    "core.v1.ContainerResizePolicy": {"restartPolicy": ("NotRequired", "RestartContainer")},
    # Service resources: Service, Ingress, NetworkPolicy.
    "core.v1.ServiceSpec": {
        "type": ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"),
        "externalTrafficPolicy": ("Cluster", "Local"),
        "internalTrafficPolicy": ("Cluster", "Local"),
        "sessionAffinity": ("ClientIP", "None"),
        "ipFamilyPolicy": ("SingleStack", "PreferDualStack", "RequireDualStack"),
        "ipFamilies[]": ("IPv4", "IPv6"),
    },
    "core.v1.ServicePort": {"protocol": _PROTOCOLS},
    "networking.v1.HTTPIngressPath": {"pathType": ("Exact", "Prefix", "ImplementationSpecific")},
    "networking.v1.NetworkPolicySpec": {"policyTypes[]": ("Ingress", "Egress")},
    "networking.v1.NetworkPolicyPort": {"protocol": _PROTOCOLS},
    # Config and storage resources.
    "core.v1.PersistentVolumeClaimSpec": {"accessModes[]": _ACCESS_MODES,
                                          "volumeMode": ("Filesystem", "Block")},
    "core.v1.PersistentVolumeSpec": {"accessModes[]": _ACCESS_MODES,
                                     "volumeMode": ("Filesystem", "Block"),
                                     "persistentVolumeReclaimPolicy": ("Retain", "Delete", "Recycle")},
    "storage.v1.StorageClass": {"reclaimPolicy": ("Retain", "Delete"),
                                "volumeBindingMode": ("Immediate", "WaitForFirstConsumer")},
    # Workload controllers.
    "apps.v1.DeploymentStrategy": {"type": ("Recreate", "RollingUpdate")},
    "apps.v1.StatefulSetUpdateStrategy": {"type": ("RollingUpdate", "OnDelete")},
    "apps.v1.DaemonSetUpdateStrategy": {"type": ("RollingUpdate", "OnDelete")},
    "apps.v1.StatefulSetSpec": {"podManagementPolicy": ("OrderedReady", "Parallel")},
    "apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy": {
        "whenDeleted": ("Retain", "Delete"), "whenScaled": ("Retain", "Delete")},
    "batch.v1.CronJobSpec": {"concurrencyPolicy": ("Allow", "Forbid", "Replace")},
    "batch.v1.JobSpec": {"completionMode": ("NonIndexed", "Indexed"),
                         "podReplacementPolicy": ("TerminatingOrFailed", "Failed")},
    "policy.v1.PodDisruptionBudgetSpec": {
        "unhealthyPodEvictionPolicy": ("IfHealthyBudget", "AlwaysAllow")},
    "autoscaling.v2.MetricSpec": {"type": ("Object", "Pods", "Resource", "ContainerResource",
                                           "External")},
    "autoscaling.v2.MetricTarget": {"type": ("Utilization", "Value", "AverageValue")},
    "autoscaling.v2.HPAScalingRules": {"selectPolicy": ("Max", "Min", "Disabled")},
    "autoscaling.v2.HPAScalingPolicy": {"type": ("Pods", "Percent")},
    "scheduling.v1.PriorityClass": {"preemptionPolicy": ("PreemptLowerPriority", "Never")},
    # Cluster resources.
    "core.v1.LimitRangeItem": {"type": ("Pod", "Container", "PersistentVolumeClaim")},
    "rbac.v1.Subject": {"kind": ("User", "Group", "ServiceAccount")},
    "admissionregistration.v1.ValidatingWebhook": {
        "failurePolicy": ("Ignore", "Fail"), "matchPolicy": ("Exact", "Equivalent"),
        "sideEffects": ("None", "NoneOnDryRun")},
    "admissionregistration.v1.MutatingWebhook": {
        "failurePolicy": ("Ignore", "Fail"), "matchPolicy": ("Exact", "Equivalent"),
        "sideEffects": ("None", "NoneOnDryRun"), "reinvocationPolicy": ("Never", "IfNeeded")},
}

# Integer-or-string fields whose string form must be a percentage ("25%"): the API
# server's validation of rolling updates and disruption budgets (IsValidPercent) refuses
# any other text. Other int-or-string fields (ports) take names.
PERCENT_FIELDS: dict[str, tuple[str, ...]] = {
    "apps.v1.RollingUpdateDeployment": ("maxSurge", "maxUnavailable"),
    "apps.v1.RollingUpdateDaemonSet": ("maxSurge", "maxUnavailable"),
    "apps.v1.RollingUpdateStatefulSetStrategy": ("maxUnavailable",),
    "policy.v1.PodDisruptionBudgetSpec": ("minAvailable", "maxUnavailable"),
}
PERCENT = "%"  # an INT_OR_STRING type's values: its text must be a percentage

# Fields a specific rule owns: the schema rules stay silent on them, so that one mistake
# gives one finding. (Owned by path rather than by definition: see OWNED_PATHS.)
OWNED_FIELDS: dict[str, dict[str, str]] = {
    "core.v1.Container": {"imagePullPolicy": "invalid-image-pull-policy"},
    "core.v1.EphemeralContainer": {"imagePullPolicy": "invalid-image-pull-policy"},
    "core.v1.ServicePort": {"targetPort": "invalid-target-port"},
}
# (pdb-unhealthy-pod-eviction-policy judges only the valid values of its field, so the
# value set below reports the others.)
# Values owned where the kind decides: a workload's pod template may only restart Always.
_TEMPLATE_RESTART = ("spec", "template", "spec", "restartPolicy")
OWNED_PATHS: dict[str, dict[tuple, str]] = {
    kind: {_TEMPLATE_RESTART: "invalid-restart-policy"}
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
}


# --- built-in kinds --------------------------------------------------------------------------


@cache
def _data(version: Version) -> dict[str, Any]:
    with open(DATA / f"{shown(version)}.json.gz", "rb") as stream:
        packed = stream.read()
    # zlib reads the gzip format itself (wbits 16 + 15): the gzip module costs more to
    # import than this file does to inflate.
    data: dict[str, Any] = json.loads(zlib.decompress(packed, wbits=16 + zlib.MAX_WBITS))
    return data


def shipped_versions() -> list[str]:
    """The releases the data covers, from the files themselves."""
    return sorted((p.name.removesuffix(".json.gz") for p in DATA.glob("*.json.gz")),
                  key=lambda v: tuple(int(n) for n in v.split(".")))


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


@cache
def builtin_groups(version: Version = NEWEST) -> frozenset[str]:
    """Every API group a shipped release serves or once served (``""`` is the core
    group): objects of these groups are built-in, whatever the target serves. (Each
    release's file lists them all, so a run reads its target's file alone.)"""
    groups = set(_data(version)["groups"])
    with (DATA.parent / "removed-apis.csv").open(newline="", encoding="utf-8") as stream:
        groups.update(_group_version(row["apiVersion"])[0] for row in csv.DictReader(stream))
    return frozenset(groups)


class Builtin:
    """The built-in kinds of one release, compiled on demand."""

    def __init__(self, version: Version):
        data = _data(version)
        self.version = version
        self._bodies: dict[str, Any] = data["types"]
        self.kinds: dict[tuple[str, str, str], str] = {
            (group, ver, kind): name for group, ver, kind, name in data["kinds"]
        }
        self.by_group: dict[str, dict[str, list[str]]] = {}  # group -> kind -> versions
        for group, ver, kind in self.kinds:
            self.by_group.setdefault(group, {}).setdefault(kind, []).append(ver)
        self._compiled: dict[str, Type] = {}

    def kind_type(self, group: str, version: str, kind: str) -> Type | None:
        name = self.kinds.get((group, version, kind))
        return self.definition(name) if name is not None else None

    def definition(self, name: str) -> Type:
        """The definition ``name``, compiled (the definitions its fields name are compiled
        when a value first reaches them)."""
        return self._reference(name).force()

    def _reference(self, name: str) -> Type:
        """The type of the definition ``name``, one for every field that names it: a simple
        type, or a placeholder compiled when a value first reaches it (a kind refers to
        hundreds of definitions; an object reaches a few)."""
        found = self._compiled.get(name)
        if found is None:
            body = self._bodies[name]
            if isinstance(body, str):
                found = _SIMPLE[body]
            else:
                # Stored before its fields are compiled: definitions may recurse.
                compile_ = partial(self._compile, body, name, None)
                found = Type(LAZY, name.rsplit(".", 1)[-1], values=(compile_,))
            self._compiled[name] = found
        return found

    def _compile(self, body: Any, owner: str, field: str | None) -> Type:
        if isinstance(body, str):
            if body.startswith("#"):
                return self._reference(body[1:])
            return _SIMPLE[body]
        if "props" in body:
            sets = VALUE_SETS.get(owner, {})
            owned = OWNED_FIELDS.get(owner, {})
            percent = PERCENT_FIELDS.get(owner, ())
            props = {}
            for prop, sub in body["props"].items():
                if prop in owned:
                    props[prop] = ANYTHING
                elif prop in percent:
                    props[prop] = Type(INT_OR_STRING, values=(PERCENT,))
                elif prop in sets:
                    props[prop] = Type(ENUM, values=sets[prop])
                elif prop + "[]" in sets and isinstance(sub, dict) and "list" in sub:
                    props[prop] = Type(LIST, item=Type(ENUM, values=sets[prop + "[]"]))
                else:
                    props[prop] = self._compile(sub, owner, prop)
            return Type(OBJECT, owner.rsplit(".", 1)[-1], props=props,
                        required=tuple(body.get("req", ())), open_=bool(body.get("open")))
        if "map" in body:
            return Type(MAP, item=self._compile(body["map"], owner, field))
        if "list" in body:
            return Type(LIST, item=self._compile(body["list"], owner, field))
        raise ValueError(f"unknown type body in the schema data: {body!r}")


@cache
def builtin(version: Version) -> Builtin:
    return Builtin(version)


# --- custom resources ------------------------------------------------------------------------


class CrdVersion(NamedTuple):
    """One served version of a custom resource, as its CRD in the run defines it (plain
    data, so that it travels to worker processes)."""

    group: str
    version: str
    kind: str
    # openAPIV3Schema as JSON text: a CRD's schema is large (its descriptions most of it),
    # and text passes between processes for far less than nested data; it is read back
    # only for the kinds a run's objects use. None: the CRD gives none (anything goes).
    schema: str | None
    preserve_unknown: bool  # v1beta1's spec.preserveUnknownFields: nothing is pruned
    source: str  # where the CRD is, for messages


CRD_API_VERSIONS = frozenset(("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"))


def crd_versions(data: dict, source: str) -> list[CrdVersion]:
    """The served versions a CustomResourceDefinition object defines (v1 or v1beta1)."""
    if data.get("kind") != "CustomResourceDefinition" or data.get("apiVersion") not in CRD_API_VERSIONS:
        return []
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return []
    group = spec.get("group")
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, dict) else None
    if not isinstance(group, str) or not isinstance(kind, str) or not group or not kind:
        return []
    legacy = data.get("apiVersion") == "apiextensions.k8s.io/v1beta1"
    preserve = spec.get("preserveUnknownFields", legacy) is True
    shared = _schema_of(spec.get("validation"))  # v1beta1: one schema for every version
    found = []
    versions = spec.get("versions")
    if isinstance(versions, list) and versions:
        for entry in versions:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            if entry.get("served", True) is not True:
                continue
            schema = _schema_of(entry.get("schema")) or shared
            found.append(CrdVersion(group, entry["name"], kind, schema, preserve, source))
    elif isinstance(spec.get("version"), str):
        found.append(CrdVersion(group, spec["version"], kind, shared, preserve, source))
    return found


def _schema_of(holder: Any) -> str | None:
    if isinstance(holder, dict) and isinstance(holder.get("openAPIV3Schema"), dict):
        try:
            return json.dumps(holder["openAPIV3Schema"], separators=(",", ":"), default=str)
        except (ValueError, RecursionError):  # NaN keys, or nested past the stack
            return None
    return None


def compile_crd(crd: CrdVersion, object_meta: Type) -> Type:
    """The type of a custom resource: its schema, with apiVersion, kind and metadata as
    every object has them."""
    name = f"the {crd.kind} CRD"
    root = Type(OBJECT, name, open_=True)
    if crd.schema is not None:
        compiled = _compile_structural(json.loads(crd.schema), name, crd.preserve_unknown)
        if compiled.code == OBJECT:
            root = compiled
    props = dict(root.props)
    props["apiVersion"] = _SIMPLE["string"]
    props["kind"] = _SIMPLE["string"]
    props["metadata"] = object_meta
    return Type(OBJECT, name, props=props, required=root.required, open_=root.open,
                limits=root.limits)


FORMAT_RANGES = {"int32": _INT32, "int64": _INT64}


def _lazy(node: Any, name: str, preserve: bool) -> Type:
    """A schema node compiled when first needed: CRDs are large, objects touch little."""
    return Type(LAZY, name, values=(partial(_compile_structural, node, name, preserve),))


def _compile_structural(node: Any, name: str, preserve: bool) -> Type:
    """A CRD's structural schema (a JSON Schema subset) to a type. Validation keywords
    inside ``allOf``/``anyOf``/``oneOf``/``not`` and CEL rules are not applied."""
    if not isinstance(node, dict):
        return ANYTHING
    if node.get("x-kubernetes-int-or-string") is True:
        return _SIMPLE["int-or-string"]
    keep = preserve or node.get("x-kubernetes-preserve-unknown-fields") is True
    kind = node.get("type")
    limits = _limits(node)
    properties = node.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    if kind == "object" or (kind is None and (properties or
                                              node.get("x-kubernetes-embedded-resource") is True)):
        # Keys as the API server sees both the CRD and the object: YAML's `on:` is "true".
        props = {(key if isinstance(key, str) else json_key(key)): _lazy(value, name, preserve)
                 for key, value in properties.items()}
        extra = node.get("additionalProperties")
        listed = node.get("required")
        required = tuple(r for r in listed if isinstance(r, str)) if isinstance(listed, list) else ()
        if node.get("x-kubernetes-embedded-resource") is True:
            props.setdefault("apiVersion", _SIMPLE["string"])
            props.setdefault("kind", _SIMPLE["string"])
            props.setdefault("metadata", Type(MAPPING))
            required = tuple(dict.fromkeys(required + ("apiVersion", "kind")))
        if isinstance(extra, dict) and not props:
            return Type(MAP, item=_lazy(extra, name, preserve), limits=limits)
        open_ = keep or extra is True or isinstance(extra, dict)
        if not props and open_ and not required:
            return Type(MAPPING, limits=limits)
        return Type(OBJECT, name, props=props, required=required, open_=open_, limits=limits)
    if kind == "array":
        return Type(LIST, item=_lazy(node.get("items"), name, preserve), limits=limits)
    enum = node.get("enum")
    if kind == "string":
        if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
            return Type(ENUM, values=tuple(enum))
        if node.get("format") == "byte":
            return _SIMPLE["byte"]
        return Type(STRING, limits=limits) if limits else _SIMPLE["string"]
    if kind == "integer":
        return Type(INTEGER, limits=limits) if limits else _SIMPLE["integer"]
    if kind == "number":
        return Type(NUMBER, limits=limits) if limits else _SIMPLE["number"]
    if kind == "boolean":
        return _SIMPLE["boolean"]
    return ANYTHING  # no type: only with preserve-unknown-fields, anything goes


MAX_PATTERN = 4096  # characters of a CRD's pattern that k8slint will apply


def safe_pattern(text: str) -> Any:
    """A CRD's ``pattern`` compiled as the API server reads it, or None when it cannot be.

    The API server matches patterns with Go's regexp: RE2 syntax (POSIX classes such as
    ``[[:alnum:]]``, no backreferences or lookarounds), in time linear in the value. Python's
    ``re`` has another syntax and backtracks, so a pattern from an untrusted repository
    such as ``(a+)+$`` or ``a*a*a*a*c`` could stall the run on a crafted value: patterns are
    compiled with RE2 itself (the google-re2 package), and one RE2 refuses is not applied.
    """
    if len(text) > MAX_PATTERN:
        return None
    re2 = _re2()
    if re2 is None:
        return None
    options = re2.Options()
    options.log_errors = False  # a refused pattern is not applied, and says nothing
    try:
        return re2.compile(text, options)
    except Exception:  # re2.error, and whatever a binding raises for odd input
        return None


@cache
def _re2() -> Any:
    try:
        import re2
    except ImportError:  # a platform without google-re2's wheels: patterns are not applied
        return None
    return re2


def _limits(node: dict) -> Limits | None:
    def number(key: str) -> float | None:
        value = node.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def count(key: str) -> int | None:
        value = node.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    pattern = safe_pattern(node["pattern"]) if isinstance(node.get("pattern"), str) else None
    minimum, maximum = number("minimum"), number("maximum")
    fmt = node.get("format") if node.get("type") == "integer" else None
    if fmt in FORMAT_RANGES:
        low, high = FORMAT_RANGES[fmt]
        minimum = low if minimum is None else max(minimum, low)
        maximum = high if maximum is None else min(maximum, high)
    limits = Limits(minimum, maximum, node.get("exclusiveMinimum") is True,
                    node.get("exclusiveMaximum") is True, count("minLength"), count("maxLength"),
                    pattern, count("minItems"), count("maxItems"),
                    fmt if fmt in FORMAT_RANGES else None)
    return limits if limits != Limits() else None

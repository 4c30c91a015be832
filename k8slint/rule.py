"""The rule API: a rule declares what it visits; the engine walks, the rule judges.

A rule is a function of one :class:`View` that yields ``Violation(path, message)``, with
its declaration attached by one of four decorators:

- ``@object_rule("bare-pod", kinds=...)``: once per object of the named kinds;
- ``@pod_rule("host-network", pods=ANY)``: once per pod spec (any, long-running, Linux);
- ``@container_rule("privileged-container", containers=ALL)``: once per container (all,
  all but ephemeral ones, app containers alone, or those that run for the pod's whole
  life), in the chosen pod specs; pod and container rules may name ``kinds``, the
  workloads whose pod specs they visit;
- ``@index_rule("dangling-service")``: once per run, over the cross-object index.

The engine computes each object's pod spec and containers once and hands every rule the
same read-only view: the object's data (never its nodes, so no rule can reach a
position), the pod spec and container being visited, the rule's params and the run's
settings. The decorators only attach the declaration; ``checks/__init__.py`` lists the
rules explicitly, so every rule is one grep away. The config's custom rules are built as
:class:`Rule` records directly (``custom.py``) and run through the same engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .findings import Violation
from .model import Container, PodSpec, mapping

if TYPE_CHECKING:  # (only a type here: rule.py stays free of what the schemas import)
    from .schemas import CrdVersion

T = TypeVar("T")

OBJECTS, PODS, CONTAINERS, INDEX = "object", "pod", "container", "index"
# Which pod specs a pod or container rule visits.
ANY, LONG_RUNNING_PODS, LINUX_PODS = "any", "long-running", "linux"
# Which containers a container rule visits. APP: every container but the ephemeral ones (app
# and init containers); APP_ONLY: the pod's app containers (``containers``) alone.
ALL, APP, APP_ONLY, RUNS_WITH_POD = "all", "app", "app-only", "runs-with-pod"


# What a kustomization makes of an object's file: a plain file (""), a resource it lists
# (whose selectors its labels may fill in), or a patch (a fragment whose required fields
# live in its base).
KUSTOMIZE_BASE, KUSTOMIZE_PATCH = "kustomize-base", "kustomize-patch"

Params = Mapping[str, Any]  # a rule's params: its metadata's defaults, then the config's


class Settings(NamedTuple):
    """What one run decides for every rule."""

    kubernetes_version: str | None = None  # the release judged against (None: the newest)
    crds: tuple[CrdVersion, ...] = ()  # the custom resource schemas the run's CRDs define


class ObjectView:
    """One Kubernetes object as plain data, without its nodes."""

    __slots__ = ("_derived", "api_version", "data", "group", "kind", "name", "namespace", "role")

    def __init__(self, data: dict, role: str = ""):
        self._derived: dict[str, Any] | None = None
        self.data = data
        self.role = role  # "", KUSTOMIZE_BASE or KUSTOMIZE_PATCH
        self.api_version: str = data["apiVersion"]
        self.kind: str = data["kind"]
        self.group = self.api_version.rpartition("/")[0]
        metadata = mapping(data.get("metadata"))
        name, namespace = metadata.get("name"), metadata.get("namespace")
        self.name = name if isinstance(name, str) else None
        self.namespace = namespace if isinstance(namespace, str) else None

    @property
    def metadata(self) -> dict:
        return mapping(self.data.get("metadata"))

    def derived(self, key: str, compute: Callable[[], T]) -> T:
        """What ``compute`` derives from this object, computed once however many rules
        ask (the schema rules share one validation)."""
        if self._derived is None:
            self._derived = {}
        if key not in self._derived:
            self._derived[key] = compute()
        found: T = self._derived[key]
        return found


class View:
    """What a rule is handed: the object, the pod spec and container being visited, the
    rule's params and the run's settings. Read-only; no nodes, so no positions."""

    __slots__ = ("_container", "_pod", "obj", "params", "settings")

    def __init__(self, obj: ObjectView, pod: PodSpec | None, container: Container | None,
                 params: Mapping[str, Any], settings: Settings):
        self.obj = obj
        self._pod = pod
        self._container = container
        self.params = params
        self.settings = settings

    @property
    def pod_spec(self) -> PodSpec | None:
        """The object's pod spec, if it has one (any rule may look)."""
        return self._pod

    @property
    def pod(self) -> PodSpec:
        """The pod spec a pod or container rule is visiting."""
        if self._pod is None:
            raise TypeError("only pod and container rules visit a pod spec")
        return self._pod

    @property
    def container(self) -> Container:
        """The container a container rule is visiting."""
        if self._container is None:
            raise TypeError("only container rules visit a container")
        return self._container

    @property
    def containers(self) -> tuple[Container, ...]:
        """Every container of the pod spec (init, app, ephemeral), in manifest order."""
        from .model import containers

        return tuple(containers(self._pod)) if self._pod is not None else ()


class RunView(NamedTuple):
    """What an index rule is handed: the run's cross-object index, its params and the
    run's settings, as a pod or container rule gets them."""

    index: Any  # k8slint.index.Index (not imported here: the index imports the model)
    params: Mapping[str, Any]
    settings: Settings


Check = Callable[[View], Iterable[Violation]]


class Rule(NamedTuple):
    """A rule's declaration: its id, what it visits, and its logic."""

    id: str
    visits: str  # OBJECTS | PODS | CONTAINERS | INDEX
    check: Callable[..., Iterable[Any]]
    # The kinds visited (None: all); for pod and container rules, the workloads whose pod
    # specs are visited.
    kinds: frozenset[str] | None = None
    pods: str = ANY  # pod and container rules: which pod specs
    containers: str = ALL  # container rules: which containers

    def applies_to(self) -> str:
        """The rule's reach in words, for the docs."""
        from .kinds import LONG_RUNNING, POD_KINDS, described

        if self.visits == INDEX:
            return f"{described(self.kinds)}, judged against the other objects of the run"
        if self.visits == OBJECTS:
            return described(self.kinds)
        pods = {ANY: "pod specs", LONG_RUNNING_PODS: "long-running pod specs",
                LINUX_PODS: "Linux pod specs"}[self.pods]
        kinds = LONG_RUNNING if self.pods == LONG_RUNNING_PODS else POD_KINDS
        if self.kinds is not None:
            kinds = kinds & self.kinds
        where = f"{pods} ({described(kinds)})"
        if self.visits == PODS:
            return where
        which = {ALL: "every container (init, app and ephemeral)",
                 APP: "app and init containers", APP_ONLY: "app containers (`containers`)",
                 RUNS_WITH_POD: "containers that run with the pod "
                 "(app containers and native sidecars)"}[self.containers]
        return f"{which} of {where}"


F = TypeVar("F", bound=Callable[..., Any])


def _declare(rule: Rule) -> Callable[[F], F]:
    def attach(function: F) -> F:
        function.__rule__ = rule._replace(check=function)  # type: ignore[attr-defined]
        return function

    return attach


def _pending(*_: Any) -> Iterable[Any]:
    """Stands for the logic until the decorator attaches the function itself."""
    return ()


def object_rule(rule_id: str, *, kinds: frozenset[str] | None = None) -> Callable[[F], F]:
    return _declare(Rule(rule_id, OBJECTS, _pending, kinds=kinds))


def pod_rule(rule_id: str, *, pods: str = ANY, kinds: frozenset[str] | None = None) -> Callable[[F], F]:
    return _declare(Rule(rule_id, PODS, _pending, kinds=kinds, pods=pods))


def container_rule(rule_id: str, *, containers: str = ALL, pods: str = ANY,
                   kinds: frozenset[str] | None = None) -> Callable[[F], F]:
    return _declare(Rule(rule_id, CONTAINERS, _pending, kinds=kinds, pods=pods, containers=containers))


def index_rule(rule_id: str, *, kinds: frozenset[str] | None = None) -> Callable[[F], F]:
    """``kinds``: what the rule reports on, for the docs (it sees the whole index)."""
    return _declare(Rule(rule_id, INDEX, _pending, kinds=kinds))


def declared(function: Callable[..., Any]) -> Rule:
    """The declaration a decorator attached to ``function``."""
    rule = getattr(function, "__rule__", None)
    if not isinstance(rule, Rule):
        raise TypeError(f"{function.__qualname__} is not declared with a rule decorator")
    return rule


def registry(functions: Iterable[Callable[..., Any]]) -> dict[str, Rule]:
    """The rules by id, from an explicit list of declared functions."""
    rules: dict[str, Rule] = {}
    for function in functions:
        rule = declared(function)
        if rule.id in rules:
            raise ValueError(f"two rules are declared as {rule.id}")
        rules[rule.id] = rule
    return rules


def rules_in(modules: Iterable[Any]) -> dict[str, Rule]:
    """The rules declared in ``modules``, listed explicitly by the caller, in the order
    each module defines them: adding a rule to a module needs no second list."""
    functions = [
        value for module in modules for value in vars(module).values()
        if callable(value) and getattr(value, "__module__", None) == module.__name__
        and isinstance(getattr(value, "__rule__", None), Rule)
    ]
    return registry(functions)

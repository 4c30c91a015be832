"""How a rollout replaces pods: whether the API server takes the pod template at all, whether
traffic waits until new pods are ready, and whether old pods go before new ones come."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Violation
from ..index import Index, ServicePort, Serving, path_key, selector_is_literal
from ..kinds import LONG_RUNNING
from ..loader import is_literal
from ..model import mapping, sequence
from ..rule import RunView, View, index_rule, object_rule
from ._util import as_yaml, called
from .cross import CrossViolation

# Controllers that keep their pods running and restart them in place: the API server takes
# their templates only with restartPolicy Always. A Rollout's and a DeploymentConfig's own
# templates are not checked by it, but the ReplicaSets and ReplicationControllers they make
# from them are, and are refused the same way. A Pod or PodTemplate may run once.
RESTARTED = LONG_RUNNING - {"Pod", "PodTemplate"}
# Which object the API server refuses, when it is not the one written.
_REFUSED = {"Rollout": "the ReplicaSets it makes", "DeploymentConfig": "the ReplicationControllers it makes"}


@object_rule("invalid-restart-policy", kinds=RESTARTED)
def invalid_restart_policy(view: View) -> Iterator[Violation]:
    pod = view.pod_spec
    if pod is None:
        return
    value = pod.spec.get("restartPolicy")
    if value is None or value in ("", "Always") or (isinstance(value, str) and not is_literal(value)):
        return  # unset or empty means Always
    obj = view.obj
    refused = _REFUSED.get(obj.kind, "it")
    yield Violation(pod.path + ("restartPolicy",), (
        f"{called(obj)}'s pod template sets restartPolicy: {as_yaml(value)}, but a "
        f"{obj.kind}'s pods must be restarted in place: the API server rejects {refused} "
        f"(only Always is allowed); remove restartPolicy, or run work that ends as a Job"
    ))


# --- strategies -------------------------------------------------------------------------------

_STRATEGY_KINDS = frozenset({"Deployment", "DeploymentConfig"})


@object_rule("no-rolling-update-strategy", kinds=_STRATEGY_KINDS)
def no_rolling_update_strategy(view: View) -> Iterator[Violation]:
    obj, pod = view.obj, view.pod_spec
    if pod is None:
        return
    if mapping(mapping(obj.data.get("spec")).get("strategy")).get("type") != "Recreate":
        return
    # A pod that mounts a claim may need the old pod gone first (a ReadWriteOnce volume
    # attaches to one node at a time): there Recreate is the right choice.
    volumes = sequence(pod.spec.get("volumes"))
    if any(isinstance(v, dict) and "persistentVolumeClaim" in v for v in volumes):
        return
    rolling = "Rolling" if obj.kind == "DeploymentConfig" else "RollingUpdate"  # OpenShift's word
    yield Violation(("spec", "strategy", "type"), (
        f"{called(obj)} uses the Recreate strategy: every rollout stops all its pods before it "
        f"starts new ones, so it serves nothing until the new pods are ready; use {rolling} "
        f"(the default) unless two versions must never run side by side"
    ))


# --- readiness --------------------------------------------------------------------------------


@index_rule("missing-readiness-probe", kinds=LONG_RUNNING - {"PodTemplate"})
def missing_readiness_probe(run: RunView) -> Iterator[CrossViolation]:
    index: Index = run.index
    reported: set[tuple] = set()
    # A Service like one seen before (its namespace, selector and ports) reaches the same
    # containers, each reported already or probed: skipped, so that many alike (copies of
    # one app) cost one pass over the pods they select, not one each.
    judged: set[tuple] = set()
    for svc in index.by_kind.get("Service", ()):
        if (not svc.selector or svc.service_type == "ExternalName" or not svc.ports
                or "publish-not-ready" in svc.flags or not selector_is_literal(svc.selector)):
            continue  # no endpoints managed from pods, or not-ready pods are endpoints anyway
        alike = (svc.namespace, tuple(sorted(svc.selector.items())), svc.ports)
        if alike in judged:
            continue
        judged.add(alike)
        for workload in index.pod_makers(svc.namespace, svc.selector, plain=True):
            for port in svc.ports:
                for container in _serving(workload.serving, port):
                    key = (id(workload), container.path)
                    if container.probed or key in reported:
                        continue
                    reported.add(key)
                    yield CrossViolation(workload, path_key(container.path + ("readinessProbe",)), (
                        f'container "{container.name}" of {workload.called} serves port '
                        f"{_shown(port)} of Service {svc.name} but has no readinessProbe: the "
                        f"Service sends it requests as soon as it starts, so every rollout and "
                        f"restart routes traffic to pods that cannot answer yet; add a "
                        f"readinessProbe on that port"
                    ))


def _serving(containers: tuple[Serving, ...], port: ServicePort) -> list[Serving]:
    """The containers a Service port sends requests to: those that declare its target
    port, or the pod's only container when none declares a number (declaring is optional).
    None for a metrics port: scrapers read every endpoint, ready or not."""
    target = port.port if port.target is None else port.target
    if not port.known or _metrics(port.name) or _metrics(target):
        return []  # Prometheus scrapes endpoints whether they are ready or not
    declaring = [c for c in containers if c.ports is not None and target in c.ports]
    if declaring or isinstance(target, str):
        return declaring
    unknown = any(c.ports is None for c in containers)
    return list(containers) if len(containers) == 1 and not unknown else []


def _metrics(name: object) -> bool:
    return isinstance(name, str) and "metrics" in name


def _shown(port: ServicePort) -> str:
    shown = str(port.port) if port.port is not None else "?"
    return f"{shown} ({port.name})" if port.name else shown


"""Names one object gives another: an Ingress's backend Services, an autoscaler's target,
the ConfigMaps and Secrets a pod reads. Each is looked up by kind, namespace and name in the
run's index; a name a template fills in was never recorded, so it is never guessed.

As for every cross-object rule, "not in the run" is only as reliable as the set of files
the run read: the pre-commit hook reads the repository as context for that.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..index import Facts, Index, ServicePort, path_key
from ..kinds import POD_KINDS, POD_SPEC_PATHS, SCALED
from ..references import CONFIG_KINDS, Reference
from ..rule import RunView, index_rule
from .cross import CrossViolation

# --- Ingress ----------------------------------------------------------------------------------


@index_rule("dangling-ingress", kinds=frozenset({"Ingress"}))
def dangling_ingress(run: RunView) -> Iterator[CrossViolation]:
    index: Index = run.index
    for ingress in index.by_kind.get("Ingress", ()):
        if "exported" in ingress.flags:
            continue  # read back from a cluster: its Services were there
        for ref in ingress.references:
            services = index.named("Service", ingress.namespace, ref.name)
            if not services:
                if index.custom_named(ingress.namespace, ref.name):
                    continue  # an operator's custom resource may make it
                yield CrossViolation(ingress, path_key(ref.path), (
                    f'{ingress.called} sends requests to Service "{ref.name}", which is not in '
                    f"its namespace: the ingress controller has no backend for them and answers "
                    f"with an error (503); fix the name or add the Service"
                ))
                continue
            if ref.part is None or any(_ports_unknown(s) or _has_port(s.ports, ref.part) for s in services):
                continue
            which = f"port {ref.part}" if isinstance(ref.part, int) else f'port "{ref.part}"'
            ports = sorted({_shown(p) for s in services for p in s.ports or ()})
            yield CrossViolation(ingress, path_key(ref.part_path), (
                f'{ingress.called} sends requests to {which} of Service "{ref.name}", which has '
                f"no such port (it has {', '.join(ports) or 'none'}): the ingress controller has "
                f"no backend for them and answers with an error (503); use one of the Service's "
                f"ports"
            ))


def _ports_unknown(service: Facts) -> bool:
    """Ports a template fills in, or none to look at: an ExternalName Service sends
    requests elsewhere, and a Service without ports is another problem."""
    return (service.ports is None or not service.ports or service.service_type == "ExternalName"
            or any(p.port is None for p in service.ports))


def _has_port(ports: tuple[ServicePort, ...] | None, wanted: str | int) -> bool:
    if isinstance(wanted, int):
        return any(p.port == wanted for p in ports or ())
    return any(p.name == wanted for p in ports or ())


def _shown(port: ServicePort) -> str:
    return f"{port.port} ({port.name})" if port.name else str(port.port)


# --- autoscalers ------------------------------------------------------------------------------

# The API groups that serve each scalable kind today: extensions stopped serving
# Deployments and ReplicaSets in Kubernetes 1.16, before any version k8slint targets.
_SERVED = {kind: POD_SPEC_PATHS[kind][0] - {"extensions"} for kind in SCALED}
_API_VERSION = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "ReplicaSet": "apps/v1",
                "ReplicationController": "v1", "Rollout": "argoproj.io/v1alpha1",
                "DeploymentConfig": "apps.openshift.io/v1"}
# Built-in kinds with pods but no scale subresource: nothing can scale them.
_NOT_SCALABLE = frozenset({"Pod", "DaemonSet", "Job", "CronJob", "PodTemplate"})


@index_rule("dangling-hpa", kinds=frozenset({"HorizontalPodAutoscaler", "ScaledObject"}))
def dangling_hpa(run: RunView) -> Iterator[CrossViolation]:
    index: Index = run.index
    for hpa in index.by_kind.get("HorizontalPodAutoscaler", ()):
        if hpa.group not in ("autoscaling", "keda.sh"):
            continue
        for target in hpa.references:
            found = _target_problem(index, hpa, target)
            if found is not None:
                yield CrossViolation(hpa, *found)


def _target_problem(index: Index, hpa: Facts, target: Reference) -> tuple[str, str] | None:
    """(anchor, message) when the autoscaler's target cannot be scaled, else None."""
    kind, name = target.kind, target.name
    if kind in _NOT_SCALABLE:
        return "scaleTargetRef.kind", (
            f'{hpa.called} scales {kind} "{name}", which has no scale subresource: the '
            f"autoscaler can never change its size; autoscale a Deployment or a StatefulSet"
        )
    if kind not in _SERVED:
        return None  # a custom resource with a scale subresource: not judged
    if isinstance(target.part, str):
        group = target.part.rpartition("/")[0]
        if group not in _SERVED[kind]:
            named = f"apiVersion {target.part}" if target.part else "no apiVersion, so the core group"
            return "scaleTargetRef.apiVersion", (
                f'{hpa.called} names {kind} "{name}" with {named}, which serves no {kind}: '
                f"the autoscaler fails to find it (no matches for kind) and never scales it; "
                f"set apiVersion: {_API_VERSION[kind]}"
            )
    if ("exported" in hpa.flags or index.named(kind, hpa.namespace, name)
            or index.custom_named(hpa.namespace, name)):
        return None  # there, or read back from a cluster where it was
    return "scaleTargetRef.name", (
        f'{hpa.called} scales {kind} "{name}", which is not in its namespace: the autoscaler '
        f"reports FailedGetScale and scales nothing, so the workload it was meant for keeps a "
        f"fixed size under load; fix scaleTargetRef or add the {kind}"
    )


# --- ConfigMaps and Secrets -------------------------------------------------------------------


@index_rule("missing-config-reference", kinds=POD_KINDS)
def missing_config_reference(run: RunView) -> Iterator[CrossViolation]:
    index: Index = run.index
    for kind in sorted(POD_KINDS & set(index.by_kind)):
        for f in index.by_kind[kind]:
            if "exported" in f.flags:
                continue  # read back from a cluster: what it reads was there
            reported: set[tuple] = set()
            for ref in f.references:
                if ref.kind not in CONFIG_KINDS or ref.optional:
                    continue
                exists, keys = index.config_keys(ref.kind, f.namespace, ref.name)
                if not exists:
                    if ref.path in reported or not _kept_here(index, f, ref):
                        continue
                    reported.add(ref.path)
                    yield CrossViolation(f, path_key(ref.path), (
                        f'{f.called} reads {ref.kind} "{ref.name}", which is not in its '
                        f"namespace though the run keeps its other {ref.kind}s there: "
                        f"{_failure(ref)}; add the {ref.kind}, fix the name, or mark the "
                        f"reference optional: true"
                    ))
                elif ref.part is not None and keys is not None and ref.part not in keys:
                    held = ", ".join(sorted(keys)[:5]) + (", ..." if len(keys) > 5 else "")
                    yield CrossViolation(f, path_key(ref.part_path), (
                        f'{f.called} reads key "{ref.part}" of {ref.kind} "{ref.name}", which '
                        f"has no such key (it has {held or 'none'}): {_failure(ref)}; fix the "
                        f"key or add it to the {ref.kind} (or mark the reference optional: true)"
                    ))


def _kept_here(index: Index, f: Facts, ref: Reference) -> bool:
    """Whether a ConfigMap missing altogether is the run's to have: the run keeps (or
    makes) other ConfigMaps in that namespace, and no operator's custom resource there may
    have made it (``db`` makes ``db-app``). A Secret missing altogether is not: Secrets are
    kept out of manifests on purpose (``kubectl create secret``, a secret store, a Job that
    writes certificates, an operator's credentials), so their absence says nothing."""
    return (ref.kind == "ConfigMap" and index.keeps(ref.kind, f.namespace)
            and not index.custom_named(f.namespace, ref.name))


def _failure(ref: Reference) -> str:
    if "env" in ref.path or "envFrom" in ref.path:
        return "the container cannot start (CreateContainerConfigError)"
    return "the pod cannot mount the volume and never starts (ContainerCreating)"

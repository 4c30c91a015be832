"""Container hygiene: resources the scheduler can plan with, probes that reach their port,
environments that say one thing once."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Violation
from ..loader import is_literal
from ..model import Container, mapping, sequence
from ..rule import ALL, APP, View, container_rule


def _resources(container: Container) -> tuple[dict, dict] | None:
    """(requests, limits), or None when ``resources`` is templated or not a mapping."""
    resources = container.data.get("resources")
    if resources is None:
        return {}, {}
    if not isinstance(resources, dict):
        return None
    return mapping(resources.get("requests")), mapping(resources.get("limits"))


def _is_set(value: object) -> bool:
    return value is not None and value != ""


@container_rule("unset-cpu-requirements", containers=APP)
def unset_cpu_requirements(view: View) -> Iterator[Violation]:
    container = view.container
    found = _resources(container)
    if found is None:
        return
    requests, limits = found
    # A limit alone is also the request: the API server copies it.
    if _is_set(requests.get("cpu")) or _is_set(limits.get("cpu")):
        return
    yield Violation(
        container.path + ("resources", "requests", "cpu"),
        f'container "{container.name}" requests no CPU: the scheduler counts it as zero, '
        f"so it lands on busy nodes, and after a drain its pods may crowd onto one node "
        f"and starve; set resources.requests.cpu to what it uses at a normal load",
    )


@container_rule("unset-memory-requirements", containers=APP)
def unset_memory_requirements(view: View) -> Iterator[Violation]:
    container = view.container
    found = _resources(container)
    if found is None:
        return
    requests, limits = found
    if _is_set(limits.get("memory")):
        return  # and the request defaults to the limit when unset
    if _is_set(requests.get("memory")):
        yield Violation(
            container.path + ("resources", "limits", "memory"),
            f'container "{container.name}" has a memory request but no memory limit: it '
            f"can grow until the node runs out of memory, and the kernel or the kubelet "
            f"then kills or evicts other pods too; set resources.limits.memory (equal to "
            f"the request is the safest)",
        )
    else:
        yield Violation(
            container.path + ("resources", "requests", "memory"),
            f'container "{container.name}" sets no memory request or limit: the scheduler '
            f"counts it as zero, it can grow until the node runs out of memory, and its "
            f"pods are the first evicted under pressure; set resources.requests.memory and "
            f"resources.limits.memory",
        )


# --- probes ---------------------------------------------------------------------------------

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


@container_rule("probe-port-not-exposed", containers=APP)  # the API forbids probes in ephemeral ones
def probe_port_not_exposed(view: View) -> Iterator[Violation]:
    container = view.container
    names = [mapping(port).get("name") for port in sequence(container.data.get("ports"))]
    declared = {name for name in names if isinstance(name, str)}
    if not all(is_literal(name) for name in declared):
        return  # a templated name could be any of them
    for probe in PROBES:
        for handler in ("httpGet", "tcpSocket"):
            port = mapping(mapping(container.data.get(probe)).get(handler)).get("port")
            # A number needs no declaration: the kubelet probes it whatever the ports list says.
            if not is_literal(port) or port.isdigit() or port in declared:
                continue
            known = ", ".join(sorted(declared)) if declared else "none"
            yield Violation(
                container.path + (probe, handler, "port"),
                f'container "{container.name}" {probe} uses the port name "{port}", '
                f"which the container does not declare (its named ports: {known}): the "
                f"kubelet cannot resolve it, so the probe always fails; name a port of "
                f"this container's ports list, or use the port number",
            )


# --- environment ----------------------------------------------------------------------------


@container_rule("duplicate-env-var", containers=ALL)
def duplicate_env_var(view: View) -> Iterator[Violation]:
    container = view.container
    first: dict[str, int] = {}
    for i, env in enumerate(sequence(container.data.get("env"))):
        name = mapping(env).get("name")
        if not is_literal(name):
            continue
        if name in first:
            yield Violation(
                container.path + ("env", i, "name"),
                f'container "{container.name}" sets {name} again (first in env item '
                f"{first[name] + 1}): the container sees only the last value, and kubectl "
                f"apply, which merges env by name, may drop one of them on the next "
                f"update; keep one",
            )
        else:
            first[name] = i

"""What a container takes from its node beyond its own share: a port of the node's own,
and a /proc the runtime does not mask."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Violation
from ..model import mapping, sequence
from ..rule import APP_ONLY, View, container_rule
from ._util import is_count, security_context


@container_rule("host-port", containers=APP_ONLY)
def host_port(view: View) -> Iterator[Violation]:
    # A DaemonSet runs one pod per node by design, and a drain leaves its pods where they
    # are; with hostNetwork every port is the node's, which host-network reports. Only the
    # app containers' ports are mapped to the node: an init container's hostPort binds none.
    if view.obj.kind == "DaemonSet" or view.pod.spec.get("hostNetwork") is True:
        return
    container = view.container
    ports = sequence(container.data.get("ports"))
    numbers = [(i, mapping(port).get("hostPort")) for i, port in enumerate(ports)]
    bound = [(i, n) for i, n in numbers if is_count(n) and n != 0]  # 0 binds no port of the node
    if not bound:
        return
    shown = ", ".join(str(n) for _, n in bound)
    yield Violation(
        container.path + ("ports", bound[0][0], "hostPort"),
        f'container "{container.name}" binds hostPort{"s" if len(bound) > 1 else ""} {shown}: '
        f"only one pod that does can run on each node, so replicas, a rolling update's new pods "
        f"and the pods a drain evicts stay Pending wherever the port is taken; reach it through "
        f"a Service instead (a NodePort or LoadBalancer if it must be outside the cluster)",
    )


@container_rule("unsafe-proc-mount")
def unsafe_proc_mount(view: View) -> Iterator[Violation]:
    container = view.container
    if security_context(container.data).get("procMount") != "Unmasked":
        return
    yield Violation(
        container.path + ("securityContext", "procMount"),
        f'container "{container.name}" sets procMount: Unmasked: the runtime no longer hides '
        f"or makes read-only the kernel files under /proc (/proc/kcore, /proc/sys, "
        f"/proc/sysrq-trigger), so a process in it can read what they expose of the node and, "
        f"with the capabilities to, change kernel settings at runtime; the Baseline Pod "
        f"Security Standard forbids it; remove procMount (Default keeps /proc masked)",
    )

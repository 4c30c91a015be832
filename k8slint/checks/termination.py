"""Graceful termination: what a node drain or an OS upgrade does to running work."""

from __future__ import annotations

from typing import Iterator

from ..findings import Violation
from ..model import K8sObject, containers, pod_spec


def missing_termination_grace_period(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or not spec.long_running:
        return
    path = spec.path + ("terminationGracePeriodSeconds",)
    value = spec.spec.get("terminationGracePeriodSeconds")
    if value is None:
        yield Violation(
            path,
            "the pod spec sets no terminationGracePeriodSeconds: on a drain or upgrade its "
            "containers get the default 30 s after SIGTERM, whatever a clean shutdown needs; "
            "set it to the time a clean shutdown takes",
        )
    elif value == 0 and not isinstance(value, bool):
        yield Violation(
            path,
            "terminationGracePeriodSeconds is 0: a drain or upgrade kills the containers at "
            "once (SIGKILL) with no chance to handle SIGTERM; give them the seconds a clean "
            "shutdown takes",
        )


def missing_prestop_hook(obj: K8sObject) -> Iterator[Violation]:
    spec = pod_spec(obj)
    if spec is None or not spec.long_running:
        return
    for container in containers(spec):
        if not container.runs_with_pod:
            continue
        lifecycle = container.data.get("lifecycle")
        if isinstance(lifecycle, dict) and lifecycle.get("preStop") is not None:
            continue
        what = "native sidecar" if container.is_sidecar else "container"
        yield Violation(
            container.path + ("lifecycle", "preStop"),
            f'{what} "{container.name}" has no preStop hook: on a drain it gets SIGTERM '
            f"while Services may still send it traffic, so in-flight requests fail; add "
            f"lifecycle.preStop (a short sleep, or a graceful stop command)",
        )

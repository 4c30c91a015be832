"""Graceful termination: what a node drain or an OS upgrade does to running work."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Violation
from ..rule import LONG_RUNNING_PODS, RUNS_WITH_POD, View, container_rule, pod_rule


@pod_rule("missing-termination-grace-period", pods=LONG_RUNNING_PODS)
def missing_termination_grace_period(view: View) -> Iterator[Violation]:
    spec = view.pod
    minimum = view.params["minimumSeconds"]
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
    elif isinstance(value, int) and not isinstance(value, bool) and 0 < value < minimum:
        yield Violation(
            path,
            f"terminationGracePeriodSeconds is {value}, below the {minimum} s this repository "
            f"sets as the least a clean shutdown needs (params.minimumSeconds); raise it",
        )


@container_rule("missing-prestop-hook", containers=RUNS_WITH_POD, pods=LONG_RUNNING_PODS)
def missing_prestop_hook(view: View) -> Iterator[Violation]:
    container = view.container
    lifecycle = container.data.get("lifecycle")
    pre_stop = lifecycle.get("preStop") if isinstance(lifecycle, dict) else None
    if isinstance(pre_stop, dict) and pre_stop:  # {} has no action: the API rejects it
        return
    what = "native sidecar" if container.is_sidecar else "container"
    # kubectl drain leaves DaemonSet pods alone: they stop on rollouts and node shutdowns.
    when = "on a rollout or node shutdown" if view.obj.kind == "DaemonSet" else "on a drain"
    if container.data.get("ports"):
        risk = (
            f"{when} it gets SIGTERM while Services and load balancers may still "
            f"send it traffic, so in-flight requests fail"
        )
    else:
        risk = f"{when} it gets SIGTERM with no step to finish or hand over its work first"
    yield Violation(
        container.path + ("lifecycle", "preStop"),
        f'{what} "{container.name}" has no preStop hook: {risk}; add lifecycle.preStop '
        f"(a short sleep, or a graceful stop command)",
    )

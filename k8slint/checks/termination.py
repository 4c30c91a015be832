"""Graceful termination: what a node drain or an OS upgrade does to running work."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Violation
from ..fixes import Fix, set_field
from ..rule import LONG_RUNNING_PODS, RUNS_WITH_POD, View, container_rule, pod_rule
from ..versions import target
from ._util import is_count

# The grace period the API server sets when a pod spec names none.
DEFAULT_GRACE_SECONDS = 30
# The preStop ``sleep`` action is on by default (PodLifecycleSleepAction, beta) from 1.30.
SLEEP_ACTION_SINCE = (1, 30)


@pod_rule("missing-termination-grace-period", pods=LONG_RUNNING_PODS)
def missing_termination_grace_period(view: View) -> Iterator[Violation]:
    spec = view.pod
    minimum = view.params["minimumSeconds"]
    path = spec.path + ("terminationGracePeriodSeconds",)
    value = spec.spec.get("terminationGracePeriodSeconds")
    # The fix writes the default the API server would set (safe: nothing changes), or the
    # repository's minimum where that is higher (unsafe: pods get longer to stop).
    chosen = max(minimum, DEFAULT_GRACE_SECONDS)
    if value is None:
        yield Violation(
            path,
            "the pod spec sets no terminationGracePeriodSeconds: on a drain or upgrade its "
            "containers get the default 30 s after SIGTERM, whatever a clean shutdown needs; "
            "set it to the time a clean shutdown takes",
            set_field(path, chosen, f"terminationGracePeriodSeconds: {chosen}",
                      unsafe=chosen != DEFAULT_GRACE_SECONDS),
        )
    elif value == 0 and not isinstance(value, bool):
        yield Violation(
            path,
            "terminationGracePeriodSeconds is 0: a drain or upgrade kills the containers at "
            "once (SIGKILL) with no chance to handle SIGTERM; give them the seconds a clean "
            "shutdown takes",
            set_field(path, chosen, f"terminationGracePeriodSeconds: {chosen}", unsafe=True),
        )
    elif isinstance(value, int) and not isinstance(value, bool) and 0 < value < minimum:
        yield Violation(
            path,
            f"terminationGracePeriodSeconds is {value}, below the {minimum} s this repository "
            f"sets as the least a clean shutdown needs (params.minimumSeconds); raise it",
            set_field(path, minimum, f"terminationGracePeriodSeconds: {minimum}", unsafe=True),
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
        _sleep_fix(view, lifecycle),
    )


def _sleep_fix(view: View, lifecycle: object) -> Fix | None:
    """A ``sleep`` preStop action, where the target release runs it by default and the
    pod's grace period leaves time after it; unsafe: every stop now waits that long."""
    if target(view.settings.kubernetes_version) < SLEEP_ACTION_SINCE:
        return None
    if lifecycle is not None and not isinstance(lifecycle, dict):
        return None
    seconds = view.params["sleepSeconds"]
    grace = view.pod.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    if not is_count(grace) or seconds >= grace:  # the API server wants the sleep shorter
        return None
    return set_field(view.container.path + ("lifecycle", "preStop"), {"sleep": {"seconds": seconds}},
                     f"lifecycle.preStop.sleep.seconds: {seconds}", unsafe=True)

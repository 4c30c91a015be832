"""Rules that look across objects: replicas against autoscalers, disruption budgets against
the workloads they cover, Services against the pods they select.

Each takes the run's :class:`~k8slint.index.Index` and yields ``CrossViolation``s naming
the object and one of its anchors; a "missing partner" is only as reliable as the set of
objects the run saw, which is why the pre-commit hook reads the repository as context.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ..index import NOT_LITERAL, UNSET, Facts, Index, may_share, selector_is_literal
from ..kinds import POD_KINDS, POD_SPEC_PATHS, REPLICATED, SCALED
from ..loader import is_literal
from ..rule import RunView, index_rule

REPLICATED_KINDS = tuple(sorted(REPLICATED))


class CrossViolation(NamedTuple):
    facts: Facts
    anchor: str  # a key of facts.anchors
    message: str


def _replicated(index: Index) -> Iterator[Facts]:
    for kind in REPLICATED_KINDS:
        for f in index.by_kind.get(kind, ()):
            if f.group in POD_SPEC_PATHS[kind][0]:  # the API groups that serve the kind
                yield f


@index_rule("single-replica", kinds=REPLICATED)
def single_replica(run: RunView) -> Iterator[CrossViolation]:
    index = run.index
    for f in _replicated(index):
        if f.replicas == NOT_LITERAL or f.replicas == 0:  # templated, or scaled to zero on purpose
            continue
        replicas = index.effective_replicas(f)
        if replicas is None or replicas >= 2:
            continue
        if "etcd" in f.flags or (f.kind == "Deployment" and "pvc" in f.flags):
            # etcd's size is the etcd rules' business; a second pod of a Deployment on a
            # single-node volume may never start.
            continue
        count = "sets no replicas, so runs 1 pod" if f.replicas is UNSET else "runs 1 replica"
        yield CrossViolation(f, "replicas", (
            f"{f.called} {count}: draining its node or upgrading it leaves nothing running "
            f"until the pod is rescheduled and ready; run at least 2 replicas (or an "
            f"autoscaler with a minimum of 2 or more)"
        ))


@index_rule("missing-pod-disruption-budget", kinds=REPLICATED)
def missing_pod_disruption_budget(run: RunView) -> Iterator[CrossViolation]:
    index = run.index
    covered: set[int] = set()
    for pdb in index.by_kind.get("PodDisruptionBudget", ()):
        if isinstance(pdb.selector, dict) and selector_is_literal(pdb.selector):
            covered.update(id(w) for w in index.pod_makers(pdb.namespace, pdb.selector))
    for f in _replicated(index):
        replicas = index.effective_replicas(f)
        if replicas is None or replicas < 2 or id(f) in covered or not f.pod_labels:
            continue
        yield CrossViolation(f, "replicas", (
            f"{f.called} runs {replicas} replicas but no PodDisruptionBudget in its "
            f"namespace selects its pods: a node drain may evict them all at once; add a "
            f"PodDisruptionBudget with maxUnavailable: 1 (or minAvailable below {replicas})"
        ))


def _is_zero(value: object) -> bool:
    return ((value == 0 and not isinstance(value, bool))
            or (isinstance(value, str) and value.strip() in ("0", "0%")))


@index_rule("pdb-blocks-drain", kinds=frozenset({"PodDisruptionBudget"}))
def pdb_blocks_drain(run: RunView) -> Iterator[CrossViolation]:
    index = run.index
    for pdb in index.by_kind.get("PodDisruptionBudget", ()):
        min_available, max_unavailable = pdb.budget if pdb.budget else (None, None)
        if max_unavailable is not None and _is_zero(max_unavailable):
            yield CrossViolation(pdb, "maxUnavailable", (
                f"{pdb.called} allows no pod to be unavailable "
                f"(maxUnavailable: {max_unavailable}): a node drain waits forever and upgrades "
                f"stall; allow at least 1"
            ))
            continue
        if isinstance(min_available, str) and min_available.strip() == "100%":
            yield CrossViolation(pdb, "minAvailable", (
                f"{pdb.called} requires every pod available (minAvailable: "
                f"100%): a node drain waits forever and upgrades stall; use maxUnavailable: 1"
            ))
            continue
        percent = _percent(min_available)
        if not (isinstance(min_available, int) and not isinstance(min_available, bool)) and percent is None:
            continue
        if not isinstance(pdb.selector, dict) or not selector_is_literal(pdb.selector):
            continue
        # The same workload twice (a base and a rendered copy) is one set of pods.
        makers = index.pod_makers(pdb.namespace, pdb.selector)
        selected = list({(w.kind, w.namespace, w.name): w for w in makers}.values())
        replicas = [index.effective_replicas(w) for w in selected]
        counts = [n for n in replicas if n is not None]
        if not selected or any(w.kind not in SCALED for w in selected) or len(counts) != len(replicas):
            continue  # pods it cannot count (a DaemonSet's, a Job's, templated replicas)
        total = sum(counts)
        # A percentage is rounded up: 67% of 3 pods is 3.
        required = min_available if percent is None else -(-percent * total // 100)
        if 0 < total <= required:
            names = ", ".join(w.called for w in selected)
            need = (f"{min_available} pod{'' if min_available == 1 else 's'}" if percent is None
                    else f"{min_available} of its pods ({required})")
            yield CrossViolation(pdb, "minAvailable", (
                f"{pdb.called} requires {need} available but selects only {total} "
                f"({names}): no pod may ever be evicted, so a node drain waits forever; "
                f"lower minAvailable or use maxUnavailable: 1"
            ))


def _percent(value: object) -> int | None:
    if isinstance(value, str) and value.strip().endswith("%") and value.strip()[:-1].isdigit():
        return int(value.strip()[:-1])
    return None


@index_rule("dangling-service", kinds=frozenset({"Service"}))
def dangling_service(run: RunView) -> Iterator[CrossViolation]:
    index = run.index
    for svc in index.by_kind.get("Service", ()):
        if not svc.selector or svc.service_type == "ExternalName" or not selector_is_literal(svc.selector):
            continue
        places = may_share(svc.namespace)
        if any(index.custom_maker(ns, svc.selector) for ns in places):
            continue  # a custom resource's controller makes these pods
        if any(index.pod_makers(ns, svc.selector, plain=True) for ns in places):
            continue
        shown = ", ".join(f"{k}={v}" for k, v in svc.selector.items())
        yield CrossViolation(svc, "selector", (
            f"{svc.called} selects pods labelled {shown}, but no workload in its "
            f"namespace makes such pods: it has no endpoints and every request fails; fix the "
            f"selector or the pod template's labels"
        ))


@index_rule("unknown-service-account", kinds=POD_KINDS)
def unknown_service_account(run: RunView) -> Iterator[CrossViolation]:
    index = run.index
    for kind in sorted(index.by_kind):
        for f in index.by_kind[kind]:
            name = f.service_account
            if name is None or name == "default" or not is_literal(name):
                continue
            if any(index.has("ServiceAccount", ns, name) for ns in may_share(f.namespace)):
                continue
            yield CrossViolation(f, "serviceAccount", (
                f'{f.called} runs as service account "{name}", which no ServiceAccount in '
                f"its namespace defines: its pods are refused until one exists; add the "
                f"ServiceAccount or fix the name"
            ))

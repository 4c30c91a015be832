"""What a disruption meets beyond a clean drain: pods that never become ready, and an etcd
cluster that loses its quorum for good."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..findings import Violation
from ..index import Facts, Index, may_share
from ..kinds import ETCD_KINDS
from ..loader import is_literal
from ..rule import RunView, View, index_rule, object_rule
from ._util import called
from .cross import CrossViolation


@object_rule("pdb-unhealthy-pod-eviction-policy", kinds=frozenset({"PodDisruptionBudget"}))
def pdb_unhealthy_pod_eviction_policy(view: View) -> Iterator[Violation]:
    obj = view.obj
    spec = obj.data.get("spec")
    # policy/v1 alone has the field; its v1beta1 predecessor is removed-api-version's.
    if obj.api_version != "policy/v1" or not isinstance(spec, dict):
        return
    value = spec.get("unhealthyPodEvictionPolicy")
    if value == "AlwaysAllow" or (isinstance(value, str) and not is_literal(value)):
        return
    drain = ("pods that are running but not ready (crash-looping, stuck starting) may be "
             "evicted only while the budget is met, so a broken rollout blocks every node drain "
             "that meets one of them")
    if value is None:
        yield Violation(("spec", "unhealthyPodEvictionPolicy"), (
            f"{called(obj)} sets no unhealthyPodEvictionPolicy, so it is IfHealthyBudget: "
            f"{drain}; set unhealthyPodEvictionPolicy: AlwaysAllow"
        ))
    elif value == "IfHealthyBudget":
        yield Violation(("spec", "unhealthyPodEvictionPolicy"), (
            f"{called(obj)} sets unhealthyPodEvictionPolicy: IfHealthyBudget: {drain}; use "
            f"AlwaysAllow (or suppress this with the reason the application needs it)"
        ))
    # Any other value is one the API server rejects: invalid-field-value's to report.


# --- etcd backups -----------------------------------------------------------------------------


@index_rule("etcd-without-backup", kinds=ETCD_KINDS)
def etcd_without_backup(run: RunView) -> Iterator[CrossViolation]:
    index: Index = run.index
    backed_up = _BackedUp(index)
    seen: set[tuple] = set()
    for f in index.etcd_clusters:
        assert f.etcd is not None
        # The members of one cluster written one by one (a Pod each) are one cluster.
        key = (f.namespace, f.etcd.names) if f.etcd.names else (id(f),)
        if key in seen or f.context_only or "exported" in f.flags or backed_up(f):
            continue
        seen.add(key)
        yield CrossViolation(f, "etcd", (
            f"{f.called} runs an etcd cluster of {f.etcd.members} "
            f"member{'' if f.etcd.members == 1 else 's'} and nothing in the run takes snapshots "
            f"of it (no CronJob or Job running etcdctl snapshot save in its namespace, no etcd "
            f"operator backup): when a majority of its members is lost for good, its data can "
            f"only come back from a snapshot; add a CronJob that runs etcdctl snapshot save and "
            f"copies the file off the cluster (or the operator's backup resource)"
        ))


_HOST = r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?"  # compiled on first use (re's cache)


class _BackedUp:
    """Whether something in the run takes snapshots of a cluster: a backup that names the
    cluster by its endpoints (``etcd-client.db.svc`` names a cluster called etcd in
    namespace db; a short name, one in the backup's own namespace), or a backup that names
    no endpoints, in the cluster's namespace; for kubeadm's external etcd, one that names
    its hosts. A backup that names one cluster does not cover its neighbours. All lookups,
    however many clusters and backups there are."""

    def __init__(self, index: Index):
        self.namespaces: set[str | None] = set()  # of backups that name no endpoints
        self.hosts: set[str] = set()
        # (a prefix of a host's first label, a namespace the host may name)
        self.named: set[tuple[str, str | None]] = set()
        for backup in index.etcd_backups:
            assert backup.backup is not None
            # Endpoints left to fill in (`<etcd-cluster-endpoints>`) name no cluster yet.
            hosts = [h for h in backup.backup.hosts or () if re.fullmatch(_HOST, h)]
            if not hosts:
                self.namespaces.add(backup.namespace)
            for host in hosts:
                self.hosts.add(host)
                labels = host.split(".")
                first = labels[0]
                prefixes = [first] + [first[:i] for i, c in enumerate(first) if c == "-"]
                # A Service's name, then its namespace; or a pod's, its Service's, then it;
                # a name alone is in the backup's namespace.
                places: list[str | None] = list(labels[1:3]) or [backup.namespace]
                for namespace in places:
                    self.named.update((prefix, namespace) for prefix in prefixes)

    def __call__(self, f: Facts) -> bool:
        assert f.etcd is not None
        places = may_share(f.namespace)
        if any(shared in self.namespaces for shared in places):
            return True
        if f.own_kind == "ClusterConfiguration":  # the control plane's etcd, outside the pods
            return bool(f.etcd.names & self.hosts) or bool({None, "kube-system"} & self.namespaces)
        names = {f.name, *f.etcd.names} - {None}
        return any((name, place) in self.named for name in names for place in places)


"""etcd quorum: an etcd cluster of N members needs N//2 + 1 of them up.

Which clusters an object declares, and how many members each has, is read by
:mod:`k8slint.etcd` (the cross-object index asks it too); these rules judge the sizes.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..etcd import EtcdCluster, etcd_clusters
from ..findings import Violation
from ..kinds import ETCD_KINDS
from ..rule import View, object_rule


def _clusters(view: View) -> Iterator[EtcdCluster]:
    obj = view.obj
    return etcd_clusters(obj.data, obj.kind, obj.group, view.pod_spec)


@object_rule("even-etcd-cluster", kinds=ETCD_KINDS)
def even_etcd_cluster(view: View) -> Iterator[Violation]:
    for cluster in _clusters(view):
        n = cluster.members
        if n >= 2 and n % 2 == 0:
            quorum = n // 2 + 1
            tolerated = n - quorum
            odd = "3" if n == 2 else f"{n - 1} or {n + 1}"
            yield Violation(
                cluster.path,
                f"etcd cluster of {n} members ({cluster.source}): quorum is {quorum}, so it "
                f"survives {tolerated} failure{'' if tolerated == 1 else 's'}, no more than "
                f"{n - 1} member{'' if n == 2 else 's'} would, and every write waits for one "
                f"more peer; use an odd size: {odd}",
            )


@object_rule("etcd-no-fault-tolerance", kinds=ETCD_KINDS)
def etcd_no_fault_tolerance(view: View) -> Iterator[Violation]:
    for cluster in _clusters(view):
        if cluster.members == 1:
            yield Violation(
                cluster.path,
                f"etcd cluster of 1 member ({cluster.source}): draining or upgrading its node "
                f"takes the whole store down, and with it everything that reads it; run 3 "
                f"members (or 5) on separate nodes",
            )

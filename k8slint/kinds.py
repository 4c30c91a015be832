"""Kinds, named once: which kinds carry a pod spec and where, and the groups rules visit.

Rules declare what they visit with these names (``kinds=LONG_RUNNING``); the engine, the
cross-object index, the generated rule index and the docs' "applies to" all read them
from here, so a kind added here reaches every rule that should see it.
"""

from __future__ import annotations

Path = tuple  # steps from an object's root: keys and list indexes

# kind -> (API groups that serve it, path of its pod spec). Beside the built-in workloads,
# the custom workloads whose pod template is as well known: Argo Rollouts, OpenShift
# DeploymentConfigs (served as apps.openshift.io, and as the legacy core v1), KEDA ScaledJobs.
POD_SPEC_PATHS: dict[str, tuple[frozenset[str], Path]] = {
    "Pod": (frozenset({""}), ("spec",)),
    "PodTemplate": (frozenset({""}), ("template", "spec")),
    "ReplicationController": (frozenset({""}), ("spec", "template", "spec")),
    "Deployment": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "ReplicaSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "StatefulSet": (frozenset({"apps"}), ("spec", "template", "spec")),
    "DaemonSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "Job": (frozenset({"batch"}), ("spec", "template", "spec")),
    "CronJob": (frozenset({"batch"}), ("spec", "jobTemplate", "spec", "template", "spec")),
    "Rollout": (frozenset({"argoproj.io"}), ("spec", "template", "spec")),
    "DeploymentConfig": (frozenset({"apps.openshift.io", ""}), ("spec", "template", "spec")),
    "ScaledJob": (frozenset({"keda.sh"}), ("spec", "jobTargetRef", "template", "spec")),
}

POD_KINDS = frozenset(POD_SPEC_PATHS)
# Run to completion: a drain or an upgrade waits for them or restarts them whole.
RUN_TO_COMPLETION = frozenset({"Job", "CronJob", "ScaledJob"})
LONG_RUNNING = POD_KINDS - RUN_TO_COMPLETION
# Objects whose pods run: a Pod, and every controller that makes pods from its template
# (a PodTemplate only describes pods).
MAKES_PODS = POD_KINDS - {"PodTemplate"}
# Controllers with a replica count.
SCALED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout",
                    "DeploymentConfig"})
# Controllers with a label selector over their own pods.
SELECTING_CONTROLLERS = frozenset({"ReplicationController", "Deployment", "ReplicaSet",
                                   "StatefulSet", "DaemonSet", "Job", "Rollout"})
# Controllers that keep a number of replicas of one pod, which drains must not take down
# together (a ReplicaSet or ReplicationController is normally owned by one of these).
REPLICATED = frozenset({"Deployment", "StatefulSet", "Rollout", "DeploymentConfig"})
# Where an etcd cluster can be declared besides a pod spec.
ETCD_KINDS = POD_KINDS | {"EtcdCluster", "ClusterConfiguration"}

def described(kinds: frozenset[str] | None) -> str:
    """The kinds as the docs' "applies to" says them."""
    if kinds is None:
        return "every kind"
    return ", ".join(f"`{kind}`" for kind in sorted(kinds))

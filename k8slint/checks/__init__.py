"""The registry of rule logic: an explicit list, so every rule is one grep away.

A check takes one object and yields ``Violation(path, message)``; the engine adds the rule
id, severity and position. Rules without a check here (``parse-error``, ``duplicate-key``)
are reported by the loader.
"""

from __future__ import annotations

from typing import Callable, Iterable

from ..findings import Violation
from ..model import K8sObject
from .etcd import etcd_no_fault_tolerance, even_etcd_cluster
from .pull_policy import invalid_image_pull_policy, latest_tag_drift, missing_image_pull_policy
from .termination import missing_prestop_hook, missing_termination_grace_period
from .hygiene import (
    duplicate_env_var, probe_port_not_exposed, unset_cpu_requirements, unset_memory_requirements,
)
from .images import implicit_docker_hub, latest_tag
from .security import (
    docker_socket, env_secret_value, host_ipc, host_network, host_pid, net_raw_not_dropped,
    privilege_escalation, privileged_container, read_only_root_filesystem, run_as_non_root,
    sensitive_host_mounts, ssh_port, unsafe_sysctls,
)
from .apis import deprecated_api_version, removed_api_version
from .ports import invalid_target_port
from .workloads import (
    bare_pod, deprecated_service_account, job_ttl, mismatching_selector, no_anti_affinity,
)

Check = Callable[[K8sObject], Iterable[Violation]]

CHECKS: dict[str, Check] = {
    "missing-image-pull-policy": missing_image_pull_policy,
    "invalid-image-pull-policy": invalid_image_pull_policy,
    "latest-tag-drift": latest_tag_drift,
    "missing-termination-grace-period": missing_termination_grace_period,
    "missing-prestop-hook": missing_prestop_hook,
    "even-etcd-cluster": even_etcd_cluster,
    "etcd-no-fault-tolerance": etcd_no_fault_tolerance,
    # images
    "latest-tag": latest_tag,
    "implicit-docker-hub": implicit_docker_hub,
    # workloads
    "bare-pod": bare_pod,
    "mismatching-selector": mismatching_selector,
    "job-ttl": job_ttl,
    "no-anti-affinity": no_anti_affinity,
    "deprecated-service-account": deprecated_service_account,
    # isolation from the node
    "host-network": host_network,
    "host-pid": host_pid,
    "host-ipc": host_ipc,
    "privileged-container": privileged_container,
    "privilege-escalation": privilege_escalation,
    "run-as-non-root": run_as_non_root,
    "read-only-root-filesystem": read_only_root_filesystem,
    "net-raw-not-dropped": net_raw_not_dropped,
    "unsafe-sysctls": unsafe_sysctls,
    "sensitive-host-mounts": sensitive_host_mounts,
    "docker-socket": docker_socket,
    "env-secret-value": env_secret_value,
    "ssh-port": ssh_port,
    # container hygiene
    "unset-cpu-requirements": unset_cpu_requirements,
    "unset-memory-requirements": unset_memory_requirements,
    "probe-port-not-exposed": probe_port_not_exposed,
    "duplicate-env-var": duplicate_env_var,
    # upgrades and the API server's validation
    "removed-api-version": removed_api_version,
    "deprecated-api-version": deprecated_api_version,
    "invalid-target-port": invalid_target_port,
}

# Reported while reading files, or when suppressions are applied; not by a check.
FILE_RULES = ("parse-error", "duplicate-key", "file-too-large", "suppression-without-reason",
              "unused-suppression")

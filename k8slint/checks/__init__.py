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

Check = Callable[[K8sObject], Iterable[Violation]]

CHECKS: dict[str, Check] = {
    "missing-image-pull-policy": missing_image_pull_policy,
    "invalid-image-pull-policy": invalid_image_pull_policy,
    "latest-tag-drift": latest_tag_drift,
    "missing-termination-grace-period": missing_termination_grace_period,
    "missing-prestop-hook": missing_prestop_hook,
    "even-etcd-cluster": even_etcd_cluster,
    "etcd-no-fault-tolerance": etcd_no_fault_tolerance,
}

# Reported while reading files, or when suppressions are applied; not by a check.
FILE_RULES = ("parse-error", "duplicate-key", "file-too-large", "suppression-without-reason",
              "unused-suppression")

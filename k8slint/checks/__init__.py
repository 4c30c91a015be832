"""The registry of rule logic: the rule modules, listed explicitly.

Each rule is one function declared with what it visits (``k8slint/rule.py``): the engine
walks objects, pod specs and containers and hands each rule a read-only view; the rule
yields ``Violation(path, message)``, and the engine stamps rule id, severity and position.
Adding a rule to a module needs no second list: the rules of each module below are found by
their declarations. Rules about files rather than objects (``FILE_RULES``) are reported
while reading files or applying suppressions.
"""

from __future__ import annotations

from ..rule import INDEX, Rule, rules_in
from . import (
    apis,
    cross,
    disruption,
    etcd,
    host,
    hygiene,
    images,
    ports,
    pull_policy,
    references,
    rollouts,
    schema,
    security,
    termination,
    workloads,
)

RULE_MODULES = (pull_policy, termination, etcd, images, workloads, security, hygiene, apis, ports,
                schema, cross, host, rollouts, disruption, references)

RULES: dict[str, Rule] = rules_in(RULE_MODULES)
OBJECT_RULES: dict[str, Rule] = {rule_id: r for rule_id, r in RULES.items() if r.visits != INDEX}
INDEX_RULES: dict[str, Rule] = {rule_id: r for rule_id, r in RULES.items() if r.visits == INDEX}

# Reported while reading files, or when suppressions are applied; not by a check.
FILE_RULES = ("parse-error", "duplicate-key", "file-too-large", "suppression-without-reason",
              "unused-suppression", "helm-render-error", "kustomize-build-error")

"""The registry of rule logic: the rule modules, listed explicitly.

Each rule is one function declared with what it visits (``k8slint/rule.py``): the engine
walks objects, pod specs and containers and hands each rule a read-only view; the rule
yields ``Violation(path, message)``, and the engine stamps rule id, severity and position.
Adding a rule to a module needs no second list: the rules of each module below are found by
their declarations. Rules about files rather than objects (``FILE_RULES``) are reported
while reading files or applying suppressions.

A module is imported when a run first needs one of its rules: the light index generated
from the declarations (``k8slint/_rule_index.py``, ``python -m k8slint.docs``) says which
module declares each rule, what it visits and its kinds, so a run that meets only
ConfigMaps never imports the pod rules. ``RULES``, ``OBJECT_RULES`` and ``INDEX_RULES``
import every module (for the docs and the tests).
"""

from __future__ import annotations

import sys
from functools import cache
from types import ModuleType

from .._rule_index import DECLARED
from ..kinds import POD_KINDS
from ..rule import INDEX, OBJECTS, Rule, rules_in

# In the registry's order: the order rules run in, within a module the order it defines them.
RULE_MODULES = ("pull_policy", "termination", "etcd", "images", "workloads", "security", "hygiene",
                "apis", "ports", "schema", "cross", "host", "rollouts", "disruption", "references")

# Reported while reading files, or when suppressions are applied; not by a check.
FILE_RULES = ("parse-error", "duplicate-key", "file-too-large", "suppression-without-reason",
              "unused-suppression", "helm-render-error", "kustomize-build-error")


def _imported(module: str) -> ModuleType:
    """One rule module of this package, imported if it is not yet. (``__import__`` rather
    than ``importlib.import_module``: ``python -X importtime`` reports only the former.)"""
    name = f"{__name__}.{module}"
    __import__(name)
    return sys.modules[name]


@cache
def module_rules(module: str) -> dict[str, Rule]:
    """The rules one module of this package declares (the module imported now)."""
    return rules_in([_imported(module)])


def rule(rule_id: str) -> Rule:
    """One declared rule, from the module the index names (imported on first use)."""
    return module_rules(DECLARED[rule_id][0])[rule_id]


def kinds_of(rule_id: str) -> frozenset[str] | None:
    """The kinds of the objects a declared rule can visit (None: every kind), read from the
    index: what :func:`reach` says of the rule."""
    kinds = DECLARED[rule_id][2]
    return None if kinds is None else frozenset(kinds)


def reach(rule: Rule) -> frozenset[str] | None:
    """The kinds of the objects ``rule`` can visit (None: every kind). A pod or container
    rule visits only the pod specs of the kinds that have one (``model.pod_spec``)."""
    if rule.visits in (OBJECTS, INDEX):
        return rule.kinds
    return POD_KINDS if rule.kinds is None else POD_KINDS & rule.kinds


def object_rule_ids() -> list[str]:
    """The rules that visit objects, pod specs or containers, in the registry's order."""
    return [rule_id for rule_id, (_, visits, _) in DECLARED.items() if visits != INDEX]


def index_rule_ids() -> list[str]:
    """The cross-object rules, run once per unit over its index, in the registry's order."""
    return [rule_id for rule_id, (_, visits, _) in DECLARED.items() if visits == INDEX]


def rules_of(module: str) -> tuple[str, ...]:
    """The ids of the rules ``module`` declares (``rules_of("schema")``: the schema rules)."""
    return tuple(rule_id for rule_id, (declared_in, _, _) in DECLARED.items() if declared_in == module)


@cache
def all_rules() -> dict[str, Rule]:
    """Every declared rule by id, every module imported, in the registry's order."""
    return rules_in(_imported(module) for module in RULE_MODULES)


def __getattr__(name: str) -> dict[str, Rule]:
    """``RULES``, ``OBJECT_RULES``, ``INDEX_RULES``: every module imported on first use."""
    if name == "RULES":
        return all_rules()
    if name == "OBJECT_RULES":
        return {rule_id: r for rule_id, r in all_rules().items() if r.visits != INDEX}
    if name == "INDEX_RULES":
        return {rule_id: r for rule_id, r in all_rules().items() if r.visits == INDEX}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

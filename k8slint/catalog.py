"""Rule metadata: one YAML file per rule, the single source of every description.

``k8slint rules``, ``k8slint explain``, the SARIF rule descriptors and the README's rule
table are all generated from these files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from .briefs import RuleBrief, rule_index  # noqa: F401 (what a run needs lives there)

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    # The stubs see two unrelated classes under one name; either is a loader class here.
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

REQUIRED_FIELDS = ("id", "summary", "severity", "why", "example", "fix")


class RuleMeta(NamedTuple):
    id: str
    summary: str
    severity: str
    enabled: bool
    tags: tuple[str, ...]
    precision: str
    why: str
    example: str
    fix: str
    instead: str
    references: tuple[str, ...]
    params: dict | None  # JSON Schema of the rule's parameters, defaults included
    # GitHub code scanning's ``security-severity`` ("0.1" to "10.0"): on every rule tagged
    # ``security`` and on no other, so that code scanning ranks it as a security alert.
    security_severity: str | None = None
    # Custom rules only: the config file that defines the rule, its JSON Schema and message.
    origin: str | None = None
    schema: Any = None
    message: str = ""
    # What ``k8slint fix`` can do: safe, unsafe or none, and one line saying what it does.
    autofix: str = "none"
    autofix_action: str = ""

    @property
    def custom(self) -> bool:
        return self.origin is not None


def rules_dir() -> Path:
    """The metadata folder: packaged beside the code, or ``rules/`` in a source checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    return packaged if packaged.is_dir() else here.parent / "rules"


class CatalogError(Exception):
    pass


@cache
def catalog() -> dict[str, RuleMeta]:
    """Every rule's metadata by id, in id order."""
    metas = {}
    for path in sorted(rules_dir().glob("*.yaml")):
        meta = _read(path)
        metas[meta.id] = meta
    return dict(sorted(metas.items()))


def _read(path: Path) -> RuleMeta:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: rule metadata cannot be read: {exc}") from None
    missing = [key for key in REQUIRED_FIELDS if not isinstance(data, dict) or key not in data]
    if missing:
        raise CatalogError(f"{path}: rule metadata lacks {', '.join(missing)}")
    if data["id"] != path.stem:
        raise CatalogError(f"{path}: id {data['id']!r} differs from the file name")
    tags = tuple(data.get("tags") or ())
    return RuleMeta(
        id=data["id"],
        summary=data["summary"].strip(),
        severity=data["severity"],
        enabled=bool(data.get("enabled", True)),
        tags=tags,
        precision=data.get("precision", "high"),
        why=data["why"].strip(),
        example=data["example"].strip("\n"),
        fix=data["fix"].strip(),
        instead=(data.get("instead") or "").strip("\n"),
        references=tuple(data.get("references") or ()),
        params=data.get("params"),
        security_severity=_security_severity(path, data.get("securitySeverity"), tags),
        autofix=_autofix(path, data),
        autofix_action=(data.get("autofixAction") or "").strip(),
    )


def _autofix(path: Path, data: dict) -> str:
    """``autofix``: safe, unsafe or none (the default); a fix needs its one line."""
    from .fixes import LEVELS, NONE

    level = data.get("autofix", NONE)
    if level not in LEVELS:
        raise CatalogError(f"{path}: autofix must be one of {', '.join(LEVELS)}; got {level!r}")
    if (level != NONE) != bool(data.get("autofixAction")):
        raise CatalogError(f"{path}: autofixAction says what the fix does; only a rule with a fix has one")
    return str(level)


_SCORE = re.compile(r"(?:10|[0-9])\.[0-9]")


def _security_severity(path: Path, value: object, tags: tuple[str, ...]) -> str | None:
    """``securitySeverity``: a quoted score with one decimal, "0.1" to "10.0", present
    exactly on the rules tagged ``security`` (code scanning reads the tag and the score
    together: a score on any other rule would make it a security alert)."""
    if "security" not in tags:
        if value is not None:
            raise CatalogError(f"{path}: securitySeverity is only for rules tagged security")
        return None
    if value is None:
        raise CatalogError(f"{path}: a rule tagged security needs a securitySeverity (\"0.1\" to \"10.0\")")
    if not isinstance(value, str) or not _SCORE.fullmatch(value) or not 0.1 <= float(value) <= 10.0:
        raise CatalogError(
            f"{path}: securitySeverity must be a quoted score with one decimal, \"0.1\" to \"10.0\"; "
            f"got {value!r}"
        )
    return value


def with_custom(custom: Iterable[RuleMeta]) -> dict[str, RuleMeta]:
    """The catalogue of one run: the built-in rules, then the config's custom rules."""
    return {**catalog(), **{meta.id: meta for meta in custom}}


def rule_index_source() -> str:
    """The text of ``k8slint/_rule_index.py``, generated by ``python -m k8slint.docs``."""
    lines = [
        '"""Generated from rules/*.yaml by `python -m k8slint.docs`; do not edit."""',
        "",
        "RULES = {",
    ]
    lines.extend(f"    {m.id!r}: ({m.severity!r}, {m.enabled!r}, {m.params!r}),"
                 for m in catalog().values())
    lines += [
        "}",
        "",
        "# The rules declared in code, in the registry's order: (the module of k8slint.checks",
        "# that declares it, what it visits, the kinds of the objects it can visit or None for",
        "# every kind; a pod or container rule visits only kinds with a pod spec).",
        "DECLARED: dict[str, tuple[str, str, tuple[str, ...] | None]] = {",
    ]
    from .checks import all_rules, reach

    for rule in all_rules().values():
        module = rule.check.__module__.rpartition(".")[2]
        kinds = reach(rule)
        shown = None if kinds is None else tuple(sorted(kinds))
        lines.append(f"    {rule.id!r}: ({module!r}, {rule.visits!r}, {shown!r}),")
    lines.append("}")
    return "\n".join(lines) + "\n"

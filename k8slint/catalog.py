"""Rule metadata: one YAML file per rule, the single source of every description.

``k8slint rules``, ``k8slint explain``, the SARIF rule descriptors and the README's rule
table are all generated from these files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import NamedTuple

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

REQUIRED_FIELDS = ("id", "summary", "severity", "kinds", "why", "example", "fix")


class RuleMeta(NamedTuple):
    id: str
    summary: str
    severity: str
    enabled: bool
    kinds: tuple[str, ...]  # kinds it applies to; () for rules about files, not objects
    tags: tuple[str, ...]
    precision: str
    why: str
    example: str
    fix: str
    instead: str
    references: tuple[str, ...]
    params: dict | None  # JSON Schema of the rule's parameters, defaults included

    def applies_to(self, kind: str) -> bool:
        return "*" in self.kinds or kind in self.kinds


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
    return RuleMeta(
        id=data["id"],
        summary=data["summary"].strip(),
        severity=data["severity"],
        enabled=bool(data.get("enabled", True)),
        kinds=tuple(data["kinds"] or ()),
        tags=tuple(data.get("tags") or ()),
        precision=data.get("precision", "high"),
        why=data["why"].strip(),
        example=data["example"].strip("\n"),
        fix=data["fix"].strip(),
        instead=(data.get("instead") or "").strip("\n"),
        references=tuple(data.get("references") or ()),
        params=data.get("params"),
    )

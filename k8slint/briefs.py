"""What a run needs of each rule: its severity, whether it is on by default, its params.

Read from the module generated out of ``rules/*.yaml`` (``_rule_index.py``), so that a run
neither parses the rules' metadata nor builds the docs' records (``catalog.py``).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple


class RuleBrief(NamedTuple):
    """What a run needs of a rule; the rest of its metadata is read only for docs."""

    id: str
    severity: str
    enabled: bool
    params: dict | None


@cache
def rule_index() -> dict[str, RuleBrief]:
    """Every rule's brief, from the module generated out of ``rules/*.yaml`` (importing it
    costs a fraction of parsing forty YAML files on every run)."""
    from ._rule_index import RULES

    return {rule_id: RuleBrief(rule_id, *fields) for rule_id, fields in RULES.items()}

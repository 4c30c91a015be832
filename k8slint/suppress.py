"""Suppressions with reasons: object annotations and line comments.

- ``ignore-check.k8slint.io/<rule-id>: "<reason>"`` (or ``/all``) in an object's
  annotations silences that rule for the whole object; in a pod template's annotations,
  for what lies inside the template.
- ``# k8slint: ignore=<rule-id>[,<rule-id>] <reason>`` silences those rules on its own
  line or, written alone on a line, on the line below. The reason runs to the end of the
  line, or to a further `` # `` comment.

A suppression without a reason still works but is reported (``suppression-without-reason``);
one that silenced nothing is reported too (``unused-suppression``), so stale ignores do not
pile up. A suppression naming a rule that did not run cannot be judged, and is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .discover import display
from .findings import Finding, Span, make_finding
from .loader import locate
from .model import K8sObject, mapping

ANNOTATION_PREFIX = "ignore-check.k8slint.io/"
ALL = "all"
# The reason runs to the end of the line, or to a further comment (" # ...").
# Compiled on first use (re's cache): only a file with such a comment needs it.
COMMENT = r"(?:^|[ \t])#[ \t]*k8slint:[ \t]*ignore=([A-Za-z0-9_,-]*)(.*?)(?:[ \t]#.*)?$"
_TEMPLATE_PATHS = (("spec", "template"), ("template",), ("spec", "jobTemplate", "spec", "template"))


class Suppression(NamedTuple):
    file: str
    line: int  # where the suppression is written
    column: int
    end_column: int
    rules: frozenset[str]  # rule ids, or {"all"}
    reason: str
    # What it covers: a line, or the document or list item that carries the annotation
    # (its unit: document index, item index) and a path prefix inside it.
    target_line: int | None = None
    target_unit: tuple | None = None
    target_prefix: tuple = ()
    path: tuple = ()  # an annotation's, inside its object: where a rendered one came from

    @property
    def written(self) -> tuple:
        """Where and what it is written: copies (a base built by two overlays, an
        annotation in a template's loop) are one suppression to judge as used or not."""
        return (self.file, self.line, self.column, self.rules, self.target_line)

    def covers(self, finding: Finding) -> bool:
        """``finding`` is in this suppression's file (the caller groups them by file)."""
        if ALL not in self.rules and finding.rule not in self.rules:
            return False
        if self.target_line is not None:
            return finding.line == self.target_line
        return (
            finding.unit == self.target_unit
            and finding.path[: len(self.target_prefix)] == self.target_prefix
        )

    @property
    def written_as(self) -> str:
        rules = ",".join(sorted(self.rules))
        if self.target_line is not None:
            return f"# k8slint: ignore={rules}"
        return f"annotation {ANNOTATION_PREFIX}{rules}"


def comment_suppressions(file: str, text: str) -> list[Suppression]:
    """Suppressions written as comments; cheap when the file has none. ``file`` is the
    file's exact path (suppressions never reach across files that display alike)."""
    if "k8slint:" not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.search(COMMENT, line)
        if not match:
            continue
        rules = frozenset(r for r in match.group(1).split(",") if r)
        alone = not line[: match.start()].strip()
        start = line.index("#", match.start())
        found.append(Suppression(
            file, number, start + 1, len(line.rstrip()) + 1, rules, match.group(2).strip(),
            target_line=number + 1 if alone else number,
        ))
    return found


def annotation_suppressions(file: str, unit: tuple, obj: K8sObject) -> list[Suppression]:
    """Suppressions in ``obj``'s annotations; they cover the document or list item that
    carries them (``unit``), never another object that happens to share its name."""
    found = []
    places = [((), ())] + [(p, p) for p in _TEMPLATE_PATHS]
    for where, prefix in places:
        meta: object = obj.data
        for step in where + ("metadata",):
            meta = mapping(meta).get(step)
        annotations = mapping(mapping(meta).get("annotations"))
        for key, reason in annotations.items():
            if not isinstance(key, str) or not key.startswith(ANNOTATION_PREFIX):
                continue
            path = where + ("metadata", "annotations", key)
            pos = locate(obj.node, path)
            rule = key[len(ANNOTATION_PREFIX):]
            found.append(Suppression(
                file, pos.line, pos.column, pos.end_column, frozenset({rule}),
                reason.strip() if isinstance(reason, str) else "",
                target_unit=unit, target_prefix=prefix, path=path,
            ))
    return found


class Applied(NamedTuple):
    kept: list[Finding]
    suppressed: list[tuple[Finding, Suppression]]
    meta: list[Finding]  # suppression-without-reason and unused-suppression


def apply(
    findings: Iterable[Finding],
    suppressions: list[Suppression],
    ran: set[str],
    severities: dict[str, str],
    known: set[str],
) -> Applied:
    """Split findings into kept and suppressed; report reasonless and unused suppressions.

    ``ran``: the rules that ran (only those can prove a suppression unused);
    ``severities``: of the two meta rules, when enabled; ``known``: every rule id.
    """
    by_file: dict[str, list[Suppression]] = {}
    # A rendered object's suppressions cover it whatever file a finding in it points into
    # (a field a patch sets): its unit names the chart or build root, so it is unique.
    by_unit: dict[tuple, list[Suppression]] = {}
    for s in suppressions:
        if s.target_unit and isinstance(s.target_unit[0], str):
            by_unit.setdefault(s.target_unit, []).append(s)
        else:
            by_file.setdefault(s.file, []).append(s)
    kept, suppressed = [], []
    used: set[tuple] = set()
    for finding in findings:
        match = next((s for s in (*by_file.get(finding.source or finding.file, ()),
                                  *by_unit.get(finding.unit, ())) if s.covers(finding)), None)
        if match is None:
            kept.append(finding)
        else:
            suppressed.append((finding, match))
            used.add(match.written)
    meta = []
    for s in {s.written: s for s in reversed(suppressions)}.values():
        if not s.reason and "suppression-without-reason" in severities:
            meta.append(_meta(s, "suppression-without-reason", (
                f"{s.written_as} gives no reason: say why the finding does not apply, "
                f"so the next reader can tell whether it still holds"
            ), severities))
        if s.written in used or "unused-suppression" not in severities:
            continue
        unknown = sorted(r for r in s.rules if r != ALL and r not in known)
        if unknown:
            message = (f"{s.written_as} names unknown rule {', '.join(unknown)}: it silences nothing; "
                       f"fix the id or remove it")
        elif ALL in s.rules or s.rules <= ran:
            message = (f"{s.written_as} silences nothing here: the finding it was written for is gone; "
                       f"remove it")
        else:
            continue  # a rule that did not run cannot prove it unused
        meta.append(_meta(s, "unused-suppression", message, severities))
    return Applied(kept, suppressed, meta)


def _meta(s: Suppression, rule: str, message: str, severities: dict[str, str]) -> Finding:
    return make_finding(rule, severities[rule], message, display(s.file),
                        Span(s.line, s.column, s.line, s.end_column), source=s.file)


def outside_scalars(found: list[Suppression], roots: Iterable[Node]) -> list[Suppression]:
    """The comment suppressions that are YAML comments: text that looks like one inside a
    scalar (an ``args: |`` script, a quoted string) is data, and silences nothing."""
    if not found:
        return found
    spans = []
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            start, end = node.start_mark, node.end_mark
            spans.append(((start.line, start.column), (end.line, end.column)))
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    kept = []
    for s in found:
        at = (s.line - 1, s.column - 1)
        if not any(start <= at < end for start, end in spans):
            kept.append(s)
    return kept

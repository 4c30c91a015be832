"""``--compact``: the text report with repeated findings folded into one line per run.

Findings are tokens keyed by (rule, severity, path shape); the compression helper picks
the unit size whose folding renders shortest. A run of one unit repeated N times becomes
one line naming the rules, the path shape, the count and every place and object, so
nothing is lost but the per-finding messages (``k8slint explain RULE`` has the why).
"""

from __future__ import annotations

from ..compress import fold
from ..findings import Finding
from . import RunSummary
from .text import finding_line, printable, severity_word, summary_line

MAX_UNIT = 32  # unit sizes tried: enough for every rule on a few containers


def path_shape(path: tuple) -> str:
    """``spec.containers[*].image``: the path with list indexes generalised."""
    out = []
    for step in path:
        out.append("[*]" if isinstance(step, int) else ("." if out else "") + str(step))
    return "".join(out)


class _Token:
    """Equal when rule, severity and path shape are; carries its own line's width."""

    __slots__ = ("key", "width")

    def __init__(self, finding: Finding, width: int):
        self.key = (finding.rule, finding.severity, path_shape(finding.path))
        self.width = width

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Token) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def render_compact(summary: RunSummary, *, color: bool = False) -> str:
    findings = summary.findings
    full = [finding_line(f, color) for f in findings]
    tokens = [_Token(f, len(line) + 1) for f, line in zip(findings, full)]
    folded = fold(tokens, lambda t: t.width, max_unit=MAX_UNIT)
    lines: list[str] = []
    i = 0
    for run in folded.runs:
        k = len(run.unit)
        if run.count == 1:
            lines.extend(full[i:i + k])
        else:
            instances = [findings[i + n * k: i + (n + 1) * k] for n in range(run.count)]
            lines.append(_folded_line(run.count, instances, color))
        i += run.count * k
    shown = f"{len(lines)} line" + ("" if len(lines) == 1 else "s")
    lines.append(f"{summary_line(summary)} Compact: {shown} for {len(findings)} findings.")
    return "\n".join(lines) + "\n"


def _folded_line(count: int, instances: list[list[Finding]], color: bool) -> str:
    unit = instances[0]
    shapes = {path_shape(f.path) for f in unit}
    if len(shapes) == 1:
        rules = " + ".join(f"{severity_word(f.severity, color)} {f.rule}" for f in unit)
        what = f"{rules} at {shapes.pop() or 'the file'}"
    else:
        what = " + ".join(
            f"{severity_word(f.severity, color)} {f.rule} at {path_shape(f.path) or 'the file'}"
            for f in unit
        )
    return f"{count}× {what}: {_places(instances)}"


def _places(instances: list[list[Finding]]) -> str:
    """Every instance's place, grouped while file and object stay the same."""
    groups: list[tuple[tuple, list[str]]] = []
    for instance in instances:
        first = instance[0]
        key = (first.file, first.kind, first.name)
        where = f"{first.line}:{first.column}"
        if groups and groups[-1][0] == key:
            groups[-1][1].append(where)
        else:
            groups.append((key, [where]))
    parts = []
    for (file, kind, name), wheres in groups:
        obj = f" ({kind}/{name or '<unnamed>'})" if kind else ""
        parts.append(f"{printable(file)}:{','.join(wheres)}{printable(obj)}")
    return "; ".join(parts)

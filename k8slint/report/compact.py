"""``--compact``: the text report with repeated findings folded into one line per run.

Findings are tokens keyed by (rule, severity, path shape); the compression helper picks
the unit size whose folding renders shortest, first inside each file (the same rules on
container after container), then across files (files whose findings have the same
shape, object after object). A folded line names the rules, the path shapes, the count
and every place and object, so nothing is lost but the per-finding messages
(``k8slint explain RULE`` has the why).
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


MAX_FILES_UNIT = 8  # files whose findings repeat as a group: a base and its overlays, say


class _FileFold:
    """One file's findings, folded: its lines, its shape (to compare with other files),
    and that shape in words."""

    __slots__ = ("findings", "lines", "shape", "described")

    def __init__(self, findings: list[Finding], full: list[str], color: bool):
        tokens = [_Token(f, len(line) + 1) for f, line in zip(findings, full)]
        folded = fold(tokens, lambda t: t.width, max_unit=MAX_UNIT)
        self.findings = findings
        self.lines: list[str] = []
        self.shape = tuple((run.count, tuple(t.key for t in run.unit)) for run in folded.runs)
        words = []
        i = 0
        for run in folded.runs:
            k = len(run.unit)
            unit = findings[i:i + k]
            if run.count == 1:
                self.lines.extend(full[i:i + k])
            else:
                instances = [findings[i + n * k: i + (n + 1) * k] for n in range(run.count)]
                self.lines.append(f"{run.count}× {_unit_words(unit, color)}: {_places(instances)}")
            text = _unit_words(unit, color)
            words.append(text if run.count == 1 else f"{run.count}× ({text})" if k > 1 else f"{run.count}× {text}")
            i += run.count * k
        self.described = " + ".join(words)


class _ShapeToken:
    """A file, equal to another file when their findings have the same shape."""

    __slots__ = ("shape", "width")

    def __init__(self, folded: _FileFold):
        self.shape = folded.shape
        self.width = sum(len(line) + 1 for line in folded.lines)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ShapeToken) and self.shape == other.shape

    def __hash__(self) -> int:
        return hash(self.shape)


def render_compact(summary: RunSummary, *, color: bool = False) -> str:
    """Two foldings with one helper: repeats inside a file (the same rules on container
    after container), then files whose findings have the same shape (the same rules on
    object after object)."""
    findings = summary.findings
    full = [finding_line(f, color) for f in findings]
    files: list[_FileFold] = []
    start = 0
    for stop in range(1, len(findings) + 1):
        if stop == len(findings) or findings[stop].file != findings[start].file:
            files.append(_FileFold(findings[start:stop], full[start:stop], color))
            start = stop
    tokens = [_ShapeToken(f) for f in files]
    folded = fold(tokens, lambda t: t.width, max_unit=MAX_FILES_UNIT)
    lines: list[str] = []
    i = 0
    for run in folded.runs:
        k = len(run.unit)
        group = files[i:i + run.count * k]
        if run.count == 1:
            for file in group:
                lines.extend(file.lines)
        else:
            what = " / ".join(f.described for f in files[i:i + k])
            lines.append(f"{run.count * k} files, each with {what}: {_file_places(group)}")
        i += run.count * k
    shown = f"{len(lines)} line" + ("" if len(lines) == 1 else "s")
    lines.append(f"{summary_line(summary)} Compact: {shown} for {len(findings)} findings.")
    return "\n".join(lines) + "\n"


def _unit_words(unit: list[Finding], color: bool) -> str:
    shapes = {path_shape(f.path) for f in unit}
    if len(shapes) == 1:
        rules = " + ".join(f"{severity_word(f.severity, color)} {f.rule}" for f in unit)
        return f"{rules} at {shapes.pop() or 'the file'}"
    return " + ".join(
        f"{severity_word(f.severity, color)} {f.rule} at {path_shape(f.path) or 'the file'}"
        for f in unit
    )


def _file_places(files: list[_FileFold]) -> str:
    """Every file's first finding and every object its findings are about."""
    parts = []
    for file in files:
        first = file.findings[0]
        objects = list(dict.fromkeys(
            f"{f.kind}/{f.name or '<unnamed>'}" for f in file.findings if f.kind
        ))
        named = f" ({', '.join(objects)})" if objects else ""
        parts.append(f"{printable(first.file)}:{first.line}:{first.column}{printable(named)}")
    return "; ".join(parts)


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

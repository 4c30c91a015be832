"""The one record every report is made of."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .fixes import Fix

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}


class Violation(NamedTuple):
    """What a rule returns: where in the object (a path) and what is wrong there."""

    path: tuple
    message: str
    fix: Fix | None = None  # the repair, when the rule knows the one right answer


class ObjectRef(NamedTuple):
    """Which object of which file: what reports name, and what suppressions and
    baselines key on."""

    source: str  # the file's exact path
    object_key: str  # its name, or generateName*#n for the n-th such unnamed object
    unit: tuple  # (document index, list item index or -1)
    api_version: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None


class Span(NamedTuple):
    """Where a finding points: 1-based lines, columns in Unicode code points."""

    line: int
    column: int
    end_line: int
    end_column: int


class Finding(NamedTuple):
    """A violation with its rule id, severity and position stamped on by the engine."""

    rule: str
    severity: str
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    api_version: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    path: tuple = ()
    suppressed: str | None = None  # the reason, when a suppression silenced it
    # The path with list items named where they have a name (containers[web]): what
    # baselines and SARIF fingerprints key on, so inserting an item moves nothing.
    stable_path: str = ""
    # The file's exact path (bytes that are not UTF-8 kept as surrogate escapes), where
    # ``file`` is what reports show: two names that display alike stay two files.
    source: str = ""
    # The object among its file's objects: its name, or for an object with only a
    # generateName, that prefix and its order among such objects of its kind in the file.
    object_key: str = ""
    # (document index, list item index or -1): where the object sits in its file, which
    # a suppression annotation covers whatever the object's name.
    unit: tuple = ()
    # The rule's repair (edits by path inside the object), when it has one: what `check`
    # marks as fixable, `fix` applies and SARIF carries as a fix.
    fix: Fix | None = None
    # The Helm chart or Kustomize build root the finding came through (its folder, as
    # reports show it); "" for a plain file. Two roots that build one base alike give one
    # finding naming both ("overlays/a, overlays/b").
    via: str = ""

    @property
    def told(self) -> str:
        """The message, naming the chart or build root the finding came through: what a
        report with no field of its own for it shows."""
        return f"{self.message} (via {self.via})" if self.via else self.message

    @property
    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.message)

    @property
    def dotted_path(self) -> str:
        """``spec.template.spec.containers[0].image``: the path as a reader writes it."""
        out = []
        for step in self.path:
            if isinstance(step, int):
                out.append(f"[{step}]")
            else:
                out.append(("." if out else "") + str(step))
        return "".join(out)


def stable_path(data: object, path: tuple) -> str:
    """``spec.containers[web].image``: list indexes replaced by the item's name, if any."""
    out = []
    for step in path:
        if isinstance(step, int):
            item = data[step] if isinstance(data, list) and 0 <= step < len(data) else None
            name = item.get("name") if isinstance(item, dict) else None
            out.append(f"[{name}]" if isinstance(name, str) and name else f"[{step}]")
            data = item
        else:
            out.append(("." if out else "") + str(step))
            data = data.get(step) if isinstance(data, dict) else None
    # Held once: many findings and facts of a run name the same path (spec.replicas), and
    # a run keeps them all to its end.
    return sys.intern("".join(out))


def identity(f: Finding) -> tuple:
    """What a finding is about, whatever line it is on: the file's exact path, the
    object's kind, namespace and name (or generateName and order), and the named path.
    Suppressions, baselines and SARIF fingerprints all key on this."""
    return (f.source or f.file, f.kind or "", f.namespace or "", f.object_key or f.name or "",
            f.stable_path or f.dotted_path)


def make_finding(rule: str, severity: str, message: str, file: str, where: Span, *,
                 source: str = "", obj: ObjectRef | None = None, path: tuple = (),
                 stable: str = "", fix: Fix | None = None) -> Finding:
    """The one place a finding is made, for every rule and every kind of finding (a
    rule's check, a cross-object rule, a file that does not parse, a suppression's own
    finding): file, position, object identity and path are stamped here, always alike."""
    line, column, end_line, end_column = where
    if obj is None:
        return Finding(rule, severity, message, file, line, column, end_line, end_column,
                       path=path, stable_path=stable, source=source or file)
    return Finding(rule, severity, message, file, line, column, end_line, end_column,
                   obj.api_version, obj.kind, obj.namespace, obj.name, path,
                   stable_path=stable, source=obj.source, object_key=obj.object_key,
                   unit=obj.unit, fix=fix)


def dotted(path: Sequence[Any]) -> str:
    """``spec.template.spec.containers[0].name``: a path as a manifest's reader writes it (a
    key YAML read as a number or boolean shown as its JSON text)."""
    from .loader import json_key

    out = ""
    for step in path:
        if isinstance(step, int) and not isinstance(step, bool):
            out += f"[{step}]"
        else:
            text = step if isinstance(step, str) else json_key(step)
            out += f".{text}" if out else text
    return out


def shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

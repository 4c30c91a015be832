"""What a rule's fix is: edits of an object's data, named by path, never by position.

A rule that knows the one right repair of what it reports hands it back with the
violation: ``Violation(path, message, fix=set_field(path, "IfNotPresent"))``. The fix is
plain data (which field, what value, how safe), so the rule stays a judgement of plain
data and the fixer (``fixer.py``) alone turns edits into text at the loader's positions.

``safe`` fixes change nothing a cluster does (the value the API server would set anyway,
a deprecated alias renamed); ``unsafe`` ones change behaviour, and ``k8slint fix`` applies
them only with ``--unsafe-fixes``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

SAFE, UNSAFE = "safe", "unsafe"
# The metadata's ``autofix``: a rule with no fix says so.
NONE = "none"
LEVELS = (SAFE, UNSAFE, NONE)

SET, RENAME, REMOVE = "set", "rename", "remove"


class Edit(NamedTuple):
    """One change to an object's data.

    - ``SET``: the field at ``path`` gets ``value`` (added, with any missing mappings on the
      way, or its value replaced); ``after``: the sibling key it is placed after, if present
      (else after the mapping's last entry);
    - ``RENAME``: the key at ``path`` becomes ``value``, its value unchanged;
    - ``REMOVE``: the field at ``path`` goes.
    """

    op: str
    path: tuple
    value: Any = None
    after: str | None = None


class Fix(NamedTuple):
    """A violation's repair: its edits (applied together or not at all) and its safety."""

    safety: str  # SAFE or UNSAFE
    edits: tuple[Edit, ...]
    does: str  # one line: what the fix does, in the run's report

    @property
    def safe(self) -> bool:
        return self.safety == SAFE


def set_field(path: tuple, value: Any, does: str, *, unsafe: bool = False,
              after: str | None = None) -> Fix:
    return Fix(UNSAFE if unsafe else SAFE, (Edit(SET, tuple(path), value, after),), does)


def rename_field(path: tuple, new_key: str, does: str, *, unsafe: bool = False) -> Fix:
    return Fix(UNSAFE if unsafe else SAFE, (Edit(RENAME, tuple(path), new_key),), does)


def remove_field(path: tuple, does: str, *, unsafe: bool = False) -> Fix:
    return Fix(UNSAFE if unsafe else SAFE, (Edit(REMOVE, tuple(path)),), does)


class NotApplicable(ValueError):
    """The data does not have the shape the edit expects (it changed since it was linted)."""


def applied(data: Any, prefix: tuple, edits: tuple[Edit, ...] | list[Edit]) -> Any:
    """A copy of ``data`` with ``edits`` made at ``prefix`` + each edit's path: what the
    file must read as once the text is edited."""
    import copy  # only a fix that is made copies: a lint makes none

    result = copy.deepcopy(data)
    for edit in edits:
        apply_edit(result, prefix + edit.path, edit)
    return result


def apply_edit(data: Any, path: tuple, edit: Edit) -> None:
    """Make one edit in place."""
    if not path:
        raise NotApplicable("an edit needs a path")
    parent = data
    for i, step in enumerate(path[:-1]):
        if _has(parent, step):
            parent = parent[step]
        elif isinstance(parent, dict) and edit.op == SET:
            rest: Any = edit.value
            for key in reversed(path[i + 1:]):
                rest = {key: rest}
            parent[step] = rest
            return
        else:
            raise NotApplicable(f"no {step!r} on the way to {'.'.join(map(str, path))}")
    last = path[-1]
    if not isinstance(parent, dict):
        raise NotApplicable(f"{last!r} has no mapping to live in")
    if edit.op == SET:
        import copy

        parent[last] = copy.deepcopy(edit.value)
    elif edit.op == RENAME:
        if last not in parent or edit.value in parent:
            raise NotApplicable(f"cannot rename {last!r} to {edit.value!r}")
        # The key moves to the end of the dict: equality of dicts ignores order.
        parent[edit.value] = parent.pop(last)
    elif edit.op == REMOVE:
        if last not in parent:
            raise NotApplicable(f"no {last!r} to remove")
        del parent[last]
    else:
        raise NotApplicable(f"unknown edit {edit.op!r}")


def _has(parent: Any, step: Any) -> bool:
    if isinstance(parent, list):
        return isinstance(step, int) and 0 <= step < len(parent)
    return isinstance(parent, dict) and step in parent

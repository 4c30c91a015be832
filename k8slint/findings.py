"""The one record every report is made of."""

from __future__ import annotations

from typing import NamedTuple

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}


class Violation(NamedTuple):
    """What a rule returns: where in the object (a path) and what is wrong there."""

    path: tuple
    message: str


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

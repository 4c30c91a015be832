"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from . import RunSummary
from .text import printable, summary_line

_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(summary: RunSummary) -> str:
    lines = []
    for f in summary.findings:
        params = ",".join(
            f"{key}={escape_property(printable(str(value)))}"
            for key, value in (
                ("file", f.file), ("line", f.line), ("col", f.column),
                ("endLine", f.end_line), ("endColumn", f.end_column), ("title", f.rule),
            )
        )
        # Control characters from a manifest must not restyle the log: escaped as in text.
        lines.append(f"::{_LEVELS[f.severity]} {params}::{escape_data(printable(f.message))}")
    lines.append(summary_line(summary))
    return "".join(line + "\n" for line in lines)

"""``path:line:col: severity rule-id message``, sorted, then one summary line."""

from __future__ import annotations

import re

from . import RunSummary

_COLORS = {"error": "31", "warning": "33", "info": "36"}
# C0 and C1 control characters: a manifest value must never move the cursor or recolour.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def printable(text: str) -> str:
    """One line, with control characters shown as escapes rather than obeyed."""
    text = _NEWLINE.sub(r"\\n", text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def finding_line(f, color: bool = False) -> str:
    where = _paint(f"{printable(f.file)}:{f.line}:{f.column}:", "1", color)
    line = f"{where} {severity_word(f.severity, color)} {f.rule} {printable(f.message)}"
    if f.suppressed is not None:
        line += f" [suppressed: {printable(f.suppressed) or 'no reason given'}]"
    return line


def severity_word(severity: str, color: bool = False) -> str:
    return _paint(severity, _COLORS[severity], color)


def render_text(summary: RunSummary, *, color: bool = False) -> str:
    lines = [finding_line(f, color) for f in summary.findings]
    lines.append(summary_line(summary))
    return "\n".join(lines) + "\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(summary: RunSummary) -> str:
    checked = f"{_plural(summary.documents, 'document')}, {_plural(summary.objects, 'object')} checked"
    if summary.patches_skipped:
        checked += f"; {_plural(summary.patches_skipped, 'kustomize patch file')} skipped"
    if summary.context_files:
        checked += f"; {_plural(summary.context_files, 'context file')} read"
    if summary.suppressed:
        checked += f"; {summary.suppressed} suppressed"
    if summary.baseline_known:
        checked += f"; {summary.baseline_known} known from the baseline"
    active = summary.active
    if not active:
        return f"No findings in {_plural(summary.files, 'file')}; {checked}."
    counts = summary.counts()
    by_severity = ", ".join(
        _plural(n, word) for word, n in (("error", counts["error"]), ("warning", counts["warning"]))
    ) + f", {counts['info']} info"
    return (
        f"{_plural(len(active), 'finding')} ({by_severity}) in "
        f"{summary.files_with_findings} of {_plural(summary.files, 'file')}; {checked}."
    )

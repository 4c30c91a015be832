"""``path:line:col: severity rule-id message``, sorted, then one summary line."""

from __future__ import annotations

import re

from ..findings import Finding
from . import RunSummary

_COLORS = {"error": "31", "warning": "33", "info": "36"}
# C0 and C1 control characters: a manifest value must never move the cursor or recolour.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that change how a line reads without being seen: bidirectional overrides,
# embeddings and isolates (a name that displays reversed), zero-width characters (two
# names that look equal), and the Unicode line and paragraph separators.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000e0000-\U000e007f"
    "\U000e0100-\U000e01ef]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
# Lone surrogates: bytes of a file name that are not UTF-8 (U+DC80..U+DCFF stand for 0x80..0xFF).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _invisible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# A line that starts with "::" is a workflow command to GitHub Actions, whatever follows.
_COMMAND_START = re.compile(r"^::", re.M)


def no_workflow_commands(report: str) -> str:
    """A human-readable report whose lines start with a file name (``::error ...::x.yaml``)
    must not read as workflow commands in an Actions log: such names get a ``./`` prefix."""
    return _COMMAND_START.sub("./::", report)


# Any character one of the patterns above replaces: most text holds none, and one search
# tells so (a report of thousands of findings makes this the common case).
_SPECIAL = re.compile("[\n\r" + _CONTROL.pattern[1:-1] + _INVISIBLE.pattern[1:-1]
                      + _SURROGATE.pattern[1:-1] + "]")


def printable(text: str) -> str:
    """One line, with control and invisible characters shown as escapes rather than obeyed."""
    if _SPECIAL.search(text) is None:
        return text
    text = _NEWLINE.sub(r"\\n", text)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    text = _INVISIBLE.sub(_invisible, text)
    return _SURROGATE.sub(_surrogate, text)


def printable_lines(text: str) -> str:
    """Text of several lines (``rules``, ``explain``), each made printable: the line breaks
    stay, every other control or invisible character is shown as an escape."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def finding_line(f: Finding, color: bool = False) -> str:
    where = _paint(f"{printable(f.file)}:{f.line}:{f.column}:", "1", color)
    line = f"{where} {severity_word(f.severity, color)} {f.rule}{fix_mark(f)} {printable(f.told)}"
    if f.suppressed is not None:
        line += f" [suppressed: {printable(f.suppressed) or 'no reason given'}]"
    return line


def fix_mark(f: Finding) -> str:
    """`` [fix]`` when ``k8slint fix`` repairs the finding, `` [fix*]`` when only with
    ``--unsafe-fixes``."""
    if f.fix is None or f.suppressed is not None:
        return ""
    return " [fix]" if f.fix.safe else " [fix*]"


def fixable_counts(summary: RunSummary) -> tuple[int, int]:
    """How many of the findings that count ``k8slint fix`` repairs, and how many more it
    repairs with ``--unsafe-fixes``."""
    safe = unsafe = 0
    for f in summary.active:
        if f.fix is not None:
            if f.fix.safe:
                safe += 1
            else:
                unsafe += 1
    return safe, unsafe


def fixable_words(summary: RunSummary) -> str:
    """``12 fixable with k8slint fix (3 more with --unsafe-fixes)``, ``3 fixable with
    k8slint fix --unsafe-fixes`` when no safe fix applies, or nothing."""
    safe, unsafe = fixable_counts(summary)
    if not safe:
        return f"{unsafe} fixable with k8slint fix --unsafe-fixes" if unsafe else ""
    more = f" ({unsafe} more with --unsafe-fixes)" if unsafe else ""
    return f"{safe} fixable with k8slint fix{more}"


def severity_word(severity: str, color: bool = False) -> str:
    return _paint(severity, _COLORS[severity], color)


def render_text(summary: RunSummary, *, color: bool = False) -> str:
    lines = [finding_line(f, color) for f in summary.findings]
    lines.append(summary_line(summary))
    lines += [f"note: {printable(notice)}" for notice in summary.notices]
    return "\n".join(lines) + "\n"


def units_words(summary: RunSummary) -> str:
    """``2 Helm charts rendered, 1 of 2 Kustomize build roots built``, or nothing."""
    words = []
    for kind, noun, verb in (("helm-chart", "Helm chart", "rendered"),
                             ("kustomize-build", "Kustomize build root", "built")):
        units = [u for u in summary.units if u.kind == kind]
        if units:
            done = sum(not u.failed for u in units)
            count = f"{done} of {len(units)} {noun}s" if done < len(units) else _plural(len(units), noun)
            words.append(f"{count} {verb}")
    return ", ".join(words)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(summary: RunSummary) -> str:
    checked = f"{_plural(summary.documents, 'document')}, {_plural(summary.objects, 'object')} checked"
    extras = ""
    if summary.units:
        extras += f"; {units_words(summary)}"
    if summary.patches_skipped:
        extras += f"; {_plural(summary.patches_skipped, 'kustomize patch file')} skipped"
    if summary.not_manifests:
        extras += f"; {_plural(summary.not_manifests, 'file')} skipped as not manifests"
    if summary.git_ignored:
        extras += f"; {_plural(summary.git_ignored, 'path')} git ignores skipped"
    if summary.links_out:
        extras += f"; {_plural(summary.links_out, 'link')} out of the scanned tree skipped"
    if summary.schemaless:
        count = sum(summary.schemaless.values())
        extras += (f"; {_plural(count, 'object')} of {_plural(len(summary.schemaless), 'kind')} "
                   f"had no schema")
    if summary.context_files:
        extras += f"; {_plural(summary.context_files, 'context file')} read"
    if summary.suppressed:
        extras += f"; {summary.suppressed} suppressed"
    if summary.baseline_known:
        extras += f"; {summary.baseline_known} known from the baseline"
    checked += extras
    active = summary.active
    if not active and not summary.objects:
        return (f"No Kubernetes objects found in {_plural(summary.files, 'file')}, "
                f"so nothing was checked{extras}.")
    if not active:
        return f"No findings in {_plural(summary.files, 'file')}; {checked}."
    counts = summary.counts()
    by_severity = ", ".join(
        _plural(n, word) for word, n in (("error", counts["error"]), ("warning", counts["warning"]))
    ) + f", {counts['info']} info"
    fixable = fixable_words(summary)
    return (
        f"{_plural(len(active), 'finding')} ({by_severity}) in "
        f"{summary.files_with_findings} of {_plural(summary.files, 'file')}"
        f"{'; ' + fixable if fixable else ''}; {checked}."
    )

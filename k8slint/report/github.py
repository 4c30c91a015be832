"""GitHub Actions: workflow commands, one annotation per finding, and a job summary."""

from __future__ import annotations

import re
from collections import Counter

from ..findings import Finding
from . import RunSummary
from .text import printable, summary_line

_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
_LEVEL_ORDER = ("error", "warning", "notice")
# GitHub shows at most 10 error, 10 warning and 10 notice annotations per step, and 50 per
# job across its steps; the rest stay in the log only. Documented in the Actions toolkit
# (github.com/actions/toolkit, docs/problem-matchers.md, "Limitations") and, for errors
# and warnings, in the REST API's check runs reference (docs.github.com/rest/checks/runs,
# ``output.annotations``: "limited to 10 warning annotations and 10 error annotations per
# step").
SHOWN_PER_LEVEL = 10
SHOWN_PER_JOB = 50
TOP_FILES = 10
# Every ASCII punctuation character but "/", "-" and ",": escaped with a backslash, each
# renders as itself. That covers tables (|), code (`), emphasis (*_~),
# links and images ([]()!), raw HTML and autolinks (<>&), and the extended autolinks and
# emoji codes that "." and ":" would otherwise start.
_MARKDOWN = re.compile(r"""([!"#$%&'()*+.:;<=>?@\[\\\]^_`{|}~])""")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def level(f: Finding) -> str:
    """The annotation level: a suppressed finding (listed with ``--show-suppressed``) is
    a notice whatever its severity, so it neither reads as a failure nor takes the place
    of one among the few annotations GitHub shows."""
    return "notice" if f.suppressed is not None else _LEVELS[f.severity]


def annotation_order(findings: list[Finding]) -> list[Finding]:
    """Errors, then warnings, then notices; report (file, line) order inside each. GitHub
    keeps the first annotations of each level, so the worst must come first."""
    return sorted(findings, key=lambda f: _LEVEL_ORDER.index(level(f)))


def annotation(f: Finding) -> str:
    """``::level file=...,line=...::message``; a suppressed finding says so and why."""
    params = ",".join(
        f"{key}={escape_property(printable(str(value)))}"
        for key, value in (
            ("file", f.file), ("line", f.line), ("col", f.column),
            ("endLine", f.end_line), ("endColumn", f.end_column), ("title", f.rule),
        )
    )
    message = f.told
    if f.suppressed is not None:
        message += f" [suppressed: {f.suppressed or 'no reason given'}]"
    # Control characters from a manifest must not restyle the log: escaped as in text.
    return f"::{level(f)} {params}::{escape_data(printable(message))}"


def render_github(summary: RunSummary) -> str:
    lines = [annotation(f) for f in annotation_order(summary.findings)]
    lines.append(summary_line(summary))
    return "".join(line + "\n" for line in lines)


def escape_markdown(text: str) -> str:
    """User text (a file name) as literal Markdown inline text or table cell content:
    one line, no control or invisible character, no markup, no link."""
    return _MARKDOWN.sub(r"\\\1", printable(text))


def annotations_shown(summary: RunSummary) -> tuple[int, int, dict[str, tuple[int, int]]]:
    """(shown, written, {level: (shown, written)}) for what ``render_github`` writes."""
    written = Counter(level(f) for f in summary.findings)
    per_level = {lv: (min(written[lv], SHOWN_PER_LEVEL), written[lv]) for lv in _LEVEL_ORDER}
    shown = min(sum(s for s, _ in per_level.values()), SHOWN_PER_JOB)
    return shown, sum(written.values()), per_level


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _severity_table(summary: RunSummary) -> list[str]:
    counts = summary.counts()
    rows = [f"| {severity} | {counts[severity]} |" for severity in ("error", "warning", "info")]
    return ["| severity | findings |", "|---|---:|", *rows]


def _rule_table(findings: list[Finding]) -> list[str]:
    """Rules by count (most first), then by id; the id as plain text, linking nowhere."""
    severity = {f.rule: f.severity for f in findings}
    by_rule = Counter(f.rule for f in findings)
    rows = [f"| {escape_markdown(rule)} | {severity[rule]} | {n} |"
            for rule, n in sorted(by_rule.items(), key=lambda item: (-item[1], item[0]))]
    return ["| rule | severity | findings |", "|---|---|---:|", *rows]


def _file_table(findings: list[Finding]) -> list[str]:
    by_file = Counter(f.file for f in findings)
    ranked = sorted(by_file.items(), key=lambda item: (-item[1], item[0]))
    rows = [f"| {escape_markdown(file)} | {n} |" for file, n in ranked[:TOP_FILES]]
    lines = ["| file | findings |", "|---|---:|", *rows]
    if len(ranked) > TOP_FILES:
        lines += ["", f"and {_plural(len(ranked) - TOP_FILES, 'more file')}."]
    return lines


def _annotations_line(summary: RunSummary) -> str:
    shown, written, per_level = annotations_shown(summary)
    parts = ", ".join(
        f"{s} of {_plural(w, lv)}" for lv, (s, w) in per_level.items() if w
    )
    line = (f"Annotations: GitHub shows {shown} of the {written} written ({parts}), "
            f"since it keeps at most {SHOWN_PER_LEVEL} of each level per step "
            f"and {SHOWN_PER_JOB} per job.")
    if shown < written:
        line += " Every finding is in the step's log."
    return line


def step_summary(summary: RunSummary) -> str:
    """The job summary in Markdown, for the file ``GITHUB_STEP_SUMMARY`` names: counts
    per severity and per rule, the files with most findings, and how many annotations
    GitHub will really show, since it drops all but the first few of each level."""
    active = summary.active
    lines = ["## k8slint", "", summary_line(summary), ""]
    if active:
        lines += _severity_table(summary) + [""]
        lines += ["### Findings per rule", ""] + _rule_table(active) + [""]
        lines += ["### Files with most findings", ""] + _file_table(active) + [""]
    if summary.findings:
        lines += [_annotations_line(summary), ""]
    return "\n".join(lines)

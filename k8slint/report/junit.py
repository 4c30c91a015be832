"""JUnit XML, as GitLab (``artifacts:reports:junit``), Jenkins (the ``junit`` step) and Azure
DevOps (``PublishTestResults``, format JUnit) read it: one failed test case per finding.

What each consumer takes from the file decided the shape:

- GitLab (docs.gitlab.com/ci/testing/unit_test_reports; its parser is
  ``lib/gitlab/ci/parsers/test/junit.rb``) reads ``testsuites``, then ``testsuite``, then
  ``testcase``; shows ``testcase classname`` as the suite and ignores ``testsuite name``;
  shows ``file``; and keeps only the first of two test cases with the same name. It
  displays the content of ``failure``, not its attributes, and reads XML with Rails'
  ``Hash.from_xml``, which converts (or rejects, for ``yaml`` and ``symbol``) an
  element's text by its ``type`` attribute: so ``type`` only ever holds a severity,
  never a name a user could choose.
- Jenkins (``hudson.tasks.junit.CaseResult``) splits ``classname`` at its last dot into
  package and class and shows ``name`` below them, the ``message`` attribute as the error
  message and the element's text as the stack trace. A file path as classname would
  split at ``.yaml``, so the classname is ``k8slint.<rule-id>``: package ``k8slint``, one
  class per rule.
- Azure DevOps (the Publish Test Results task's result mapping) titles a result with
  ``name``, files it under ``classname`` ("test file"), marks ``failure`` as Failed and
  ``skipped`` as Not Executed, and shows ``message`` and the element's text.

So test cases are grouped one ``testsuite`` per rule, whose ``classname`` every consumer
displays; the test name and the failure text both name file, line, column and rule,
since Azure shows only the name in its list and GitLab only the text in its details.
Names carry the line, so a finding that moves shows in a merge request as one failure
resolved and one new: the Code Quality report (``--format gitlab``) is the format whose
identities survive moved lines.
"""

from __future__ import annotations

from typing import NamedTuple

from ..findings import Finding
from . import RunSummary
from .gitlab import repo_path, visible
from .text import summary_line

PACKAGE = "k8slint"
PASSED_NAME = "no findings"


class Case(NamedTuple):
    """One test case, its text already made safe for XML."""

    classname: str
    name: str
    file: str | None
    line: int | None
    outcome: str  # "failure", "skipped" or "passed"
    message: str
    severity: str
    text: str


def escape_text(text: str) -> str:
    """Character data: the five markup characters as entities (``]]>`` cannot form)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def escape_attribute(text: str) -> str:
    """An attribute value: as text, and whitespace as references, which a parser would
    otherwise normalise to spaces."""
    return escape_text(text).replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")


def describe(f: Finding, path: str) -> str:
    """The failure text: where, how bad, which rule and why; then the object and path."""
    lines = [f"{path}:{f.line}:{f.column}: {f.severity} {f.rule} {visible(f.told)}"]
    if f.kind is not None:
        where = f" in namespace {visible(f.namespace)}" if f.namespace else ""
        lines.append(f"object: {visible(f.kind)}/{visible(f.name or '')}{where}")
    if f.path:
        lines.append(f"path: {visible(f.dotted_path)}")
    if f.suppressed is not None:
        lines.append(f"suppressed: {visible(f.suppressed) or 'no reason given'}")
    return "\n".join(lines)


def finding_case(f: Finding, root: str) -> Case:
    """A failed test case, or a skipped one for a suppressed finding."""
    path = visible(repo_path(f.file, root))
    if f.suppressed is None:
        outcome, message = "failure", visible(f.told)
    else:
        outcome, message = "skipped", f"suppressed: {visible(f.suppressed) or 'no reason given'}"
    return Case(f"{PACKAGE}.{visible(f.rule)}", f"{path}:{f.line}:{f.column}: {visible(f.rule)}",
                path, f.line, outcome, message, f.severity, describe(f, path))


def passed_case(summary: RunSummary) -> Case:
    """The one passing test case of a run with no active finding.

    One summary case rather than one per checked file: a report lists findings, not the
    files it read, and a run's files can number thousands. CI then shows a passing check
    (with the summary line as its output) instead of an empty report that reads like a
    job that never ran. Its name stays the same from run to run, so history lines up."""
    return Case(PACKAGE, PASSED_NAME, None, None, "passed", "", "", summary_line(summary))


def unique_names(cases: list[Case]) -> list[Case]:
    """GitLab keeps only the first test case of a suite and name: number the repeats
    (two findings of one rule at one position), in report order."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for case in cases:
        key = (case.classname, case.name)
        seen[key] = seen.get(key, 0) + 1
        out.append(case if seen[key] == 1 else case._replace(name=f"{case.name} ({seen[key]})"))
    return out


def suites(summary: RunSummary) -> list[tuple[str, list[Case]]]:
    """Test cases grouped by classname (one suite per rule, by rule id), findings in
    report order inside each; the passing summary case first when nothing failed."""
    grouped: dict[str, list[Case]] = {}
    for case in unique_names([finding_case(f, summary.root) for f in summary.findings]):
        grouped.setdefault(case.classname, []).append(case)
    out = sorted(grouped.items())
    if not summary.active:
        out.insert(0, (PACKAGE, [passed_case(summary)]))
    return out


def counts(cases: list[Case], root: bool = False) -> str:
    """The count attributes a suite carries; the root has no ``skipped`` (Jenkins' JUnit
    schema allows it on suites only)."""
    failures = sum(c.outcome == "failure" for c in cases)
    if root:
        return f'tests="{len(cases)}" failures="{failures}" errors="0" time="0"'
    skipped = sum(c.outcome == "skipped" for c in cases)
    return f'tests="{len(cases)}" failures="{failures}" errors="0" skipped="{skipped}" time="0"'


def case_xml(case: Case) -> list[str]:
    attributes = f'name="{escape_attribute(case.name)}" classname="{escape_attribute(case.classname)}"'
    if case.file is not None:
        # GitLab shows a test case's file; Jenkins' junit step ignores the attribute (the
        # xUnit plugin's strict schema refuses it: use the junit step). The line is in the name.
        attributes += f' file="{escape_attribute(case.file)}"'
    head = f"    <testcase {attributes} time=\"0\">"
    if case.outcome == "passed":
        return [head, f"      <system-out>{escape_text(case.text)}</system-out>", "    </testcase>"]
    if case.outcome == "skipped":
        element = f'<skipped message="{escape_attribute(case.message)}">{escape_text(case.text)}</skipped>'
    else:
        element = (f'<failure message="{escape_attribute(case.message)}" type="{case.severity}">'
                   f"{escape_text(case.text)}</failure>")
    return [head, f"      {element}", "    </testcase>"]


def render_junit(summary: RunSummary) -> str:
    """The whole document. Every finding failed (``errors`` is always 0: a file that
    cannot be parsed is a ``parse-error`` finding like any other); a suppressed one
    listed by ``--show-suppressed`` is skipped, with its reason."""
    groups = suites(summary)
    every = [case for _, cases in groups for case in cases]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites name="{PACKAGE}" {counts(every, root=True)}>']
    for name, cases in groups:
        lines.append(f'  <testsuite name="{escape_attribute(name)}" {counts(cases)}>')
        for case in cases:
            lines.extend(case_xml(case))
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    return "\n".join(lines) + "\n"

"""JUnit XML, GitLab Code Quality and the GitHub annotations and job summary: whole outputs
for a small hand-built run, the shapes their consumers document, and hostile text."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from k8slint.catalog import catalog
from k8slint.findings import Finding
from k8slint.report import RunSummary, render
from k8slint.report.github import escape_markdown, step_summary
from k8slint.report.gitlab import fingerprint, repo_path

from .helpers import FIXTURES

ROOT = "/repo"  # not the working folder: paths must come out relative to the run's root


def summary_of(findings: list[Finding], root: str = ROOT, files: int = 3) -> RunSummary:
    summary = RunSummary(root)
    summary.findings = sorted(findings, key=lambda f: f.sort_key)
    summary.files, summary.documents, summary.objects = files, 4, 4
    summary.suppressed = sum(f.suppressed is not None for f in findings)
    return summary


def finding(rule: str, severity: str, message: str, file: str, line: int, column: int = 1,
            **extra: object) -> Finding:
    extra.setdefault("source", file)
    return Finding(rule, severity, message, file, line, column, line, column + 4, **extra)  # type: ignore[arg-type]


DRIFT = finding("latest-tag-drift", "error", 'image "app:latest" follows latest but is never pulled again',
                "/repo/deploy/web.yaml", 9, 5, api_version="v1", kind="Pod", name="web",
                path=("spec", "containers", 0, "image"), stable_path="spec.containers[app].image",
                object_key="web")
PRESTOP = finding("missing-prestop-hook", "warning", 'container "app" has no preStop hook',
                  "/repo/deploy/web.yaml", 21, 9, api_version="apps/v1", kind="Deployment",
                  namespace="prod", name="api", path=("spec", "template", "spec", "containers", 0),
                  stable_path="spec.template.spec.containers[app]", object_key="api")
SSH = finding("ssh-port", "info", 'container "app" declares port 22', "/repo/z.yaml", 3,
              api_version="v1", kind="Pod", name="z", path=("spec", "containers", 0, "ports", 0),
              stable_path="spec.containers[app].ports[0]", object_key="z")
SINGLE = finding("single-replica", "warning", "Deployment api runs 1 replica", "/repo/deploy/web.yaml",
                 17, 3, api_version="apps/v1", kind="Deployment", namespace="prod", name="api",
                 path=("spec", "replicas"), stable_path="spec.replicas", object_key="api",
                 suppressed="a canary")
EXAMPLE = [DRIFT, PRESTOP, SSH, SINGLE]

# Everything a file name or a message must not carry into a report as itself.
HOSTILE = "evil\x1b[31m\u202e]]></failure>\x00\n|<script>"


# --- JUnit -------------------------------------------------------------------------------

JUNIT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="k8slint" tests="4" failures="3" errors="0" time="0">
  <testsuite name="k8slint.latest-tag-drift" tests="1" failures="1" errors="0" skipped="0" time="0">
    <testcase name="deploy/web.yaml:9:5: latest-tag-drift" classname="k8slint.latest-tag-drift" \
file="deploy/web.yaml" time="0">
      <failure message="image &quot;app:latest&quot; follows latest but is never pulled again" \
type="error">deploy/web.yaml:9:5: error latest-tag-drift image &quot;app:latest&quot; follows latest \
but is never pulled again
object: Pod/web
path: spec.containers[0].image</failure>
    </testcase>
  </testsuite>
  <testsuite name="k8slint.missing-prestop-hook" tests="1" failures="1" errors="0" skipped="0" time="0">
    <testcase name="deploy/web.yaml:21:9: missing-prestop-hook" classname="k8slint.missing-prestop-hook" \
file="deploy/web.yaml" time="0">
      <failure message="container &quot;app&quot; has no preStop hook" type="warning">deploy/web.yaml:21:9: \
warning missing-prestop-hook container &quot;app&quot; has no preStop hook
object: Deployment/api in namespace prod
path: spec.template.spec.containers[0]</failure>
    </testcase>
  </testsuite>
  <testsuite name="k8slint.single-replica" tests="1" failures="0" errors="0" skipped="1" time="0">
    <testcase name="deploy/web.yaml:17:3: single-replica" classname="k8slint.single-replica" \
file="deploy/web.yaml" time="0">
      <skipped message="suppressed: a canary">deploy/web.yaml:17:3: warning single-replica Deployment api \
runs 1 replica
object: Deployment/api in namespace prod
path: spec.replicas
suppressed: a canary</skipped>
    </testcase>
  </testsuite>
  <testsuite name="k8slint.ssh-port" tests="1" failures="1" errors="0" skipped="0" time="0">
    <testcase name="z.yaml:3:1: ssh-port" classname="k8slint.ssh-port" file="z.yaml" time="0">
      <failure message="container &quot;app&quot; declares port 22" type="info">z.yaml:3:1: info ssh-port \
container &quot;app&quot; declares port 22
object: Pod/z
path: spec.containers[0].ports[0]</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_junit_whole_document() -> None:
    assert render("junit", summary_of(EXAMPLE)) == JUNIT


def assert_junit_shape(document: str) -> ET.Element:
    """The shape GitLab, Jenkins and Azure DevOps read, with counts that add up."""
    root = ET.fromstring(document.encode("utf-8"))
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite"
        cases = list(suite)
        assert cases and all(case.tag == "testcase" for case in cases)
        counted = {
            "tests": len(cases),
            "failures": sum(case.find("failure") is not None for case in cases),
            "errors": sum(case.find("error") is not None for case in cases),
            "skipped": sum(case.find("skipped") is not None for case in cases),
        }
        assert suite.get("name")
        assert {key: int(suite.get(key, -1)) for key in counted} == counted
        for key, n in counted.items():
            totals[key] += n
        for case in cases:
            assert case.get("name") and case.get("classname")
            outcome = [child for child in case if child.tag in ("failure", "error", "skipped")]
            assert len(outcome) <= 1
            failure = case.find("failure")
            if failure is not None:
                assert failure.get("message") and failure.get("type") in ("error", "warning", "info")
                assert case.get("file") and case.get("line") is None  # the line is in the name
    # The root carries no skipped count: Jenkins' JUnit schema allows it on suites only.
    assert root.get("skipped") is None
    assert {key: int(root.get(key, -1)) for key in totals if key != "skipped"} == {
        key: n for key, n in totals.items() if key != "skipped"}
    names = [(case.get("classname"), case.get("name")) for case in root.iter("testcase")]
    assert len(names) == len(set(names)), "GitLab keeps only the first of two equal names"
    return root


def test_junit_matches_the_consumers_shape() -> None:
    root = assert_junit_shape(render("junit", summary_of(EXAMPLE)))
    assert [suite.get("name") for suite in root] == [
        "k8slint.latest-tag-drift", "k8slint.missing-prestop-hook", "k8slint.single-replica",
        "k8slint.ssh-port",
    ]
    (skipped_case,) = [case for case in root.iter("testcase") if case.find("skipped") is not None]
    assert skipped_case.get("name") == "deploy/web.yaml:17:3: single-replica"


def test_junit_without_findings_has_one_passing_case() -> None:
    document = render("junit", summary_of([]))
    assert document == """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="k8slint" tests="1" failures="0" errors="0" time="0">
  <testsuite name="k8slint" tests="1" failures="0" errors="0" skipped="0" time="0">
    <testcase name="no findings" classname="k8slint" time="0">
      <system-out>No findings in 3 files; 4 documents, 4 objects checked.</system-out>
    </testcase>
  </testsuite>
</testsuites>
"""
    assert_junit_shape(document)


def test_junit_with_only_suppressed_findings_still_passes() -> None:
    root = assert_junit_shape(render("junit", summary_of([SINGLE])))
    assert (root.get("tests"), root.get("failures")) == ("2", "0")
    assert sum(int(suite.get("skipped", 0)) for suite in root) == 1
    assert [case.get("name") for case in root.iter("testcase")] == [
        "no findings", "deploy/web.yaml:17:3: single-replica",
    ]


def test_junit_repeated_names_are_numbered() -> None:
    twice = [DRIFT, DRIFT._replace(message="another image")]
    root = assert_junit_shape(render("junit", summary_of(twice)))
    assert [case.get("name") for case in root.iter("testcase")] == [
        "deploy/web.yaml:9:5: latest-tag-drift", "deploy/web.yaml:9:5: latest-tag-drift (2)",
    ]


# --- GitLab Code Quality -------------------------------------------------------------------

GITLAB = [
    {
        "description": 'latest-tag-drift: image "app:latest" follows latest but is never pulled again',
        "check_name": "latest-tag-drift",
        "fingerprint": "bade4ca5f1043354762329e988628012",
        "severity": "critical",
        "location": {"path": "deploy/web.yaml", "lines": {"begin": 9}},
    },
    {
        "description": 'missing-prestop-hook: container "app" has no preStop hook',
        "check_name": "missing-prestop-hook",
        "fingerprint": "ba0b296df9b56098a99430f1b3b34931",
        "severity": "major",
        "location": {"path": "deploy/web.yaml", "lines": {"begin": 21}},
    },
    {
        "description": 'ssh-port: container "app" declares port 22',
        "check_name": "ssh-port",
        "fingerprint": "930612f29b79b3aa5bac3a3765f1f8a5",
        "severity": "info",
        "location": {"path": "z.yaml", "lines": {"begin": 3}},
    },
]


def test_gitlab_whole_document() -> None:
    """Suppressed findings are left out: Code Quality cannot mark an issue as accepted."""
    document = render("gitlab", summary_of(EXAMPLE))
    assert document == json.dumps(GITLAB, indent=2) + "\n"
    assert not document.startswith("\ufeff")


def test_gitlab_has_exactly_the_documented_keys() -> None:
    for issue in json.loads(render("gitlab", summary_of(EXAMPLE))):
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert set(issue["location"]) == {"path", "lines"}
        assert set(issue["location"]["lines"]) == {"begin"}
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert re.fullmatch("[0-9a-f]{32}", issue["fingerprint"])


def test_gitlab_without_findings_is_an_empty_array() -> None:
    assert render("gitlab", summary_of([])) == "[]\n"


def gitlab_fingerprints(findings: list[Finding]) -> list[str]:
    return [issue["fingerprint"] for issue in json.loads(render("gitlab", summary_of(findings)))]


def test_fingerprints_do_not_change_when_only_lines_change() -> None:
    moved = [f._replace(line=f.line + 40, end_line=f.end_line + 40, column=f.column + 2) for f in EXAMPLE]
    assert gitlab_fingerprints(moved) == gitlab_fingerprints(EXAMPLE)


def test_fingerprints_change_with_what_the_finding_is_about() -> None:
    base = gitlab_fingerprints([DRIFT])
    assert gitlab_fingerprints([DRIFT._replace(rule="latest-tag")]) != base
    assert gitlab_fingerprints([DRIFT._replace(object_key="other", name="other")]) != base
    assert gitlab_fingerprints([DRIFT._replace(stable_path="spec.containers[sidecar].image")]) != base
    assert gitlab_fingerprints([DRIFT._replace(file="/repo/other.yaml", source="/repo/other.yaml")]) != base


def test_fingerprints_are_unique_and_deterministic_for_equal_identities() -> None:
    twins = [DRIFT, DRIFT._replace(line=30, end_line=30), DRIFT._replace(line=50, end_line=50)]
    keys = gitlab_fingerprints(twins)
    assert len(set(keys)) == 3
    assert keys[0] == gitlab_fingerprints([DRIFT])[0], "the first keeps the plain fingerprint"
    assert gitlab_fingerprints(twins) == keys


def test_undecodable_file_names_stay_apart() -> None:
    shown = "/repo/caf\ufffd.yaml"
    first = finding("bare-pod", "warning", "m", shown, 1, source="/repo/caf\udce9.yaml")
    second = finding("bare-pod", "warning", "m", shown, 1, source="/repo/caf\udcea.yaml")
    issues = json.loads(render("gitlab", summary_of([first, second])))
    assert [issue["location"]["path"] for issue in issues] == ["caf\ufffd.yaml", "caf\ufffd.yaml"]
    assert issues[0]["fingerprint"] != issues[1]["fingerprint"]
    assert fingerprint(first, ROOT) == issues[0]["fingerprint"]


def test_paths_are_relative_to_the_root_not_the_working_folder(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = finding("bare-pod", "warning", "m", "deploy/web.yaml", 1)
    absolute = finding("bare-pod", "warning", "m", str(tmp_path / "deploy" / "web.yaml"), 1)
    for f in (relative, absolute):
        assert repo_path(f.file, str(tmp_path)) == "deploy/web.yaml"
    assert repo_path(absolute.file, str(tmp_path / "deploy")) == "web.yaml"
    assert fingerprint(relative, str(tmp_path)) == fingerprint(absolute, str(tmp_path)), (
        "`k8slint check deploy/` and `k8slint check $PWD/deploy` name the same findings"
    )
    assert repo_path("<stdin>", str(tmp_path)) == "stdin"
    assert repo_path("/elsewhere/x.yaml", str(tmp_path)) == "/elsewhere/x.yaml"


def test_stdin_has_a_path_in_both_formats() -> None:
    piped = finding("bare-pod", "warning", "Pod p has no controller", "<stdin>", 2)
    (issue,) = json.loads(render("gitlab", summary_of([piped])))
    assert issue["location"] == {"path": "stdin", "lines": {"begin": 2}}
    (case,) = assert_junit_shape(render("junit", summary_of([piped]))).iter("testcase")
    assert (case.get("file"), case.get("name")) == ("stdin", "stdin:2:1: bare-pod")


def test_real_run_over_the_fixtures() -> None:
    """Every fixture's findings (parse errors, file-level findings, objects) in both."""
    from k8slint.config import Config
    from k8slint.session import Options, run

    everything = {rule: meta.severity for rule, meta in catalog().items()}
    outcome = run(Options((str(FIXTURES),), jobs=1), Config(None, everything, {}))
    summary = outcome.summary
    assert summary.active
    root = assert_junit_shape(render("junit", summary))
    assert int(root.get("failures", "0")) == len(summary.active)
    issues = json.loads(render("gitlab", summary))
    assert len(issues) == len(summary.active)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    assert all(not issue["location"]["path"].startswith(("/", "..")) for issue in issues)


# --- GitHub ------------------------------------------------------------------------------

def test_github_annotations_come_errors_first() -> None:
    findings = [
        finding("latest-tag", "warning", "w1", "a.yaml", 1),
        finding("ssh-port", "info", "i1", "a.yaml", 2),
        finding("latest-tag-drift", "error", "e1", "b.yaml", 1),
        finding("latest-tag", "warning", "w2", "b.yaml", 5),
        finding("docker-socket", "error", "e2", "c.yaml", 1),
        finding("bare-pod", "error", "e3", "c.yaml", 4, suppressed="a debugging pod"),
    ]
    lines = render("github", summary_of(findings)).splitlines()
    assert [line.split(" ", 1)[0] + " " + line.rsplit("::", 1)[1] for line in lines[:-1]] == [
        "::error e1", "::error e2", "::warning w1", "::warning w2", "::notice i1",
        "::notice e3 [suppressed: a debugging pod]",
    ]
    assert lines[-1].startswith("5 findings (2 errors, 2 warnings, 1 info)")


STEP_SUMMARY = """\
## k8slint

3 findings (1 error, 1 warning, 1 info) in 2 of 3 files; 4 documents, 4 objects checked; 1 suppressed.

| severity | findings |
|---|---:|
| error | 1 |
| warning | 1 |
| info | 1 |

### Findings per rule

| rule | severity | findings |
|---|---|---:|
| latest-tag-drift | error | 1 |
| missing-prestop-hook | warning | 1 |
| ssh-port | info | 1 |

### Files with most findings

| file | findings |
|---|---:|
| /repo/deploy/web\\.yaml | 2 |
| /repo/z\\.yaml | 1 |

Annotations: GitHub shows 4 of the 4 written (1 of 1 error, 1 of 1 warning, 2 of 2 notices), since \
it keeps at most 10 of each level per step and 50 per job.
"""


def test_step_summary_whole_markdown() -> None:
    assert step_summary(summary_of(EXAMPLE)) == STEP_SUMMARY


def test_step_summary_without_findings() -> None:
    assert step_summary(summary_of([])) == "## k8slint\n\nNo findings in 3 files; 4 documents, 4 objects checked.\n"


def test_step_summary_counts_what_github_drops() -> None:
    findings = [finding("latest-tag-drift", "error", "e", f"f{n % 12:02}.yaml", n + 1) for n in range(25)]
    findings += [finding("latest-tag", "warning", "w", "f00.yaml", 100 + n) for n in range(4)]
    markdown = step_summary(summary_of(findings, files=12))
    assert "| f00\\.yaml | 7 |" in markdown.splitlines()
    assert "\nand 2 more files.\n" in markdown
    assert markdown.endswith(
        "Annotations: GitHub shows 14 of the 29 written (10 of 25 errors, 4 of 4 warnings), since it "
        "keeps at most 10 of each level per step and 50 per job. Every finding is in the step's log.\n"
    )
    table = markdown.split("### Findings per rule\n\n", 1)[1].split("\n\n", 1)[0]
    assert table.splitlines()[2:] == ["| latest-tag-drift | error | 25 |", "| latest-tag | warning | 4 |"]


def test_escape_markdown() -> None:
    assert escape_markdown("a|b`c*d_e[f]g<h>i&j") == "a\\|b\\`c\\*d\\_e\\[f\\]g\\<h\\>i\\&j"
    assert escape_markdown("www.example.com") == "www\\.example\\.com"  # no autolink
    assert escape_markdown("x\ny\x1b") == "x\\\\ny\\\\x1b"
    assert escape_markdown("deploy/web-1,2.yaml") == "deploy/web-1,2\\.yaml"


# --- Hostile text in every format -----------------------------------------------------------

def hostile_summary() -> RunSummary:
    name = f"/repo/{HOSTILE}.yaml"
    return summary_of([
        finding("bare-pod", "error", f"Pod {HOSTILE} has no controller", name, 4, api_version="v1",
                kind="Pod", namespace=HOSTILE, name=HOSTILE, path=("metadata",), object_key=HOSTILE),
        finding("latest-tag", "warning", HOSTILE, name, 7, suppressed=HOSTILE),
    ])


def assert_nothing_raw(text: str) -> None:
    for raw in ("\x1b", "\u202e", "\x00"):
        assert raw not in text, repr(raw)


def test_hostile_text_in_junit() -> None:
    document = render("junit", hostile_summary())
    assert_nothing_raw(document)
    document.encode("utf-8")
    assert "<script>" not in document and "]]>" not in document
    assert document.count("</failure>") == 1
    root = assert_junit_shape(document)
    failed, skipped = root.iter("testcase")
    shown = "evil\\x1b[31m\\u202e]]></failure>\\x00\\n|<script>"
    assert failed.get("file") == f"{shown}.yaml"
    assert failed.get("name") == f"{shown}.yaml:4:1: bare-pod"
    failure = failed.find("failure")
    assert failure is not None and failure.get("message") == f"Pod {shown} has no controller"
    assert failure.text is not None and f"object: Pod/{shown} in namespace {shown}" in failure.text
    assert skipped.find("skipped").get("message") == f"suppressed: {shown}"  # type: ignore[union-attr]


def test_hostile_text_in_gitlab() -> None:
    document = render("gitlab", hostile_summary())
    assert_nothing_raw(document)
    document.encode("utf-8")
    assert not re.search("[<>&]", document), "markup is escaped even inside JSON strings"
    (issue,) = json.loads(document)
    shown = "evil\\x1b[31m\\u202e]]></failure>\\x00\\n|<script>"
    assert issue["location"]["path"] == f"{shown}.yaml"
    assert issue["description"] == f"bare-pod: Pod {shown} has no controller"


def markdown_cells(row: str) -> list[str]:
    """A table row's cells as GitHub splits them: at pipes not escaped by a backslash."""
    cells, cell, escaped = [], "", False
    for char in row:
        if escaped:
            cell, escaped = cell + char, False
        elif char == "\\":
            cell, escaped = cell + char, True
        elif char == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += char
    return cells[1:] + ([cell] if cell.strip() else [])


def test_hostile_text_in_github() -> None:
    summary = hostile_summary()
    log = render("github", summary)
    assert_nothing_raw(log)
    assert len(log.splitlines()) == 3, "one line per annotation, then the summary line"
    assert log.startswith("::error file=/repo/evil\\x1b[31m\\u202e]]></failure>\\x00\\n|<script>.yaml,")
    markdown = step_summary(summary)
    assert_nothing_raw(markdown)
    assert not re.search(r"(?<!\\)[<>]", markdown.split("### Files with most findings", 1)[1])
    (row,) = [line for line in markdown.splitlines() if "evil" in line]
    assert [cell.strip() for cell in markdown_cells(row)] == [
        "/repo/evil\\\\x1b\\[31m\\\\u202e\\]\\]\\>\\</failure\\>\\\\x00\\\\n\\|\\<script\\>\\.yaml", "1",
    ]


@pytest.mark.parametrize("fmt", ["junit", "gitlab"])
def test_lone_surrogates_never_reach_a_report(fmt: str) -> None:
    f = finding("bare-pod", "error", "name \ud800 here", "/repo/a\udfff.yaml", 1)
    document = render(fmt, summary_of([f]))
    document.encode("utf-8")
    assert "\\ud800" in document.replace("\\\\", "\\")
    if fmt == "junit":
        assert_junit_shape(document)
    else:
        json.loads(document)

"""SARIF: valid against the OASIS schema and complete for GitHub code scanning."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest

from k8slint.catalog import catalog
from k8slint.cli import main
from k8slint.findings import Finding, identity
from k8slint.report import RunSummary, sarif
from k8slint.report.sarif import (
    automation_id,
    build_log,
    fingerprint,
    relative_uri,
    render_sarif,
)

from .helpers import FIXTURES, REPO, SARIF_SCHEMA


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    if not SARIF_SCHEMA.is_file():
        pytest.fail(f"the SARIF schema is missing: {SARIF_SCHEMA}")
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema)


def sarif_of(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, folder: Path,
             *paths: str) -> dict:
    monkeypatch.chdir(folder)
    code = main(["check", "--format", "sarif", *paths])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return json.loads(out)


def assert_valid(validator: jsonschema.Draft4Validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_fixtures_sarif_is_schema_valid_and_complete(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        validator: jsonschema.Draft4Validator) -> None:
    log = sarif_of(capsys, monkeypatch, REPO, "fixtures")
    assert_valid(validator, log)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["automationDetails"]["id"] == "k8slint/"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == REPO.as_uri() + "/"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(catalog())
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"] and "```yaml" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert rule["properties"]["tags"] and rule["properties"]["precision"]
    levels = set()
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        levels.add(result["level"])
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert artifact["uri"].startswith("fixtures/")
        region = location["physicalLocation"]["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        assert result["message"]["text"]
        assert len(result["partialFingerprints"]["k8slintFinding/v1"]) >= 32
    # "warning" is sarif-om's default value: it must still be written out.
    assert levels == {"error", "warning", "note"}


def test_one_result_exactly(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        validator: jsonschema.Draft4Validator) -> None:
    # The fixture's Deployment has no selector (missing-required-field): not what this test is about.
    log = sarif_of(capsys, monkeypatch, FIXTURES / "latest-tag-drift", "fail.yaml", "--disable",
                   "missing-prestop-hook", "--disable", "missing-termination-grace-period",
                   "--disable", "single-replica", "--disable", "latest-tag", "--disable", "bare-pod",
                   "--disable", "missing-required-field")
    assert_valid(validator, log)
    first = log["runs"][0]["results"][0]
    fingerprint = first["partialFingerprints"]["k8slintFinding/v1"]
    assert first == {
        "ruleId": "latest-tag-drift",
        "ruleIndex": list(catalog()).index("latest-tag-drift"),
        "level": "error",
        "message": {"text": first["message"]["text"]},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "fail.yaml", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 10, "startColumn": 9, "endLine": 10, "endColumn": 14},
        }}],
        "partialFingerprints": {"k8slintFinding/v1": fingerprint},
        # `imagePullPolicy: IfNotPresent` on line 11: the value (columns 26 to 37) becomes Always.
        "fixes": [{
            "artifactChanges": [{
                "artifactLocation": {"uri": "fail.yaml", "uriBaseId": "%SRCROOT%"},
                "replacements": [{
                    "deletedRegion": {"endColumn": 38, "endLine": 11, "startColumn": 26, "startLine": 11},
                    "insertedContent": {"text": "Always"}}],
            }],
            "description": {"text": "imagePullPolicy: Always (unsafe: changes behaviour; "
                                    "`k8slint fix --unsafe-fixes` makes it)"},
            "properties": {"safety": "unsafe"},
        }],
    }


def test_fingerprints_survive_lines_moving(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = (FIXTURES / "latest-tag-drift" / "fail.yaml").read_text()
    (tmp_path / "m.yaml").write_text(text)
    before = sarif_of(capsys, monkeypatch, tmp_path, "m.yaml")["runs"][0]["results"]
    (tmp_path / "m.yaml").write_text("# a comment\n# and another\n" + text)
    after = sarif_of(capsys, monkeypatch, tmp_path, "m.yaml")["runs"][0]["results"]
    assert len(before) == len(after) > 3
    for old, new in zip(before, after, strict=True):
        assert new["locations"][0]["physicalLocation"]["region"]["startLine"] == (
            old["locations"][0]["physicalLocation"]["region"]["startLine"] + 2
        )
        assert new["partialFingerprints"] == old["partialFingerprints"]
    keys = [r["partialFingerprints"]["k8slintFinding/v1"] for r in after]
    assert len(set(keys)) == len(keys)


def test_uris_never_leave_the_scanned_root(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        validator: jsonschema.Draft4Validator) -> None:
    """Files outside the working folder: URIs relative to their common folder, never
    absolute and never climbing out with '..'."""
    (tmp_path / "in").mkdir()
    outside = FIXTURES / "parse-error" / "fail.yaml"
    # duplicate-key/pass.yaml nests a mapping in ConfigMap data (invalid-field-type), which
    # would add it to the files with results; the schema is not what this test is about.
    log = sarif_of(capsys, monkeypatch, tmp_path / "in", str(outside), str(FIXTURES / "duplicate-key"),
                   "--disable", "invalid-field-type")
    assert_valid(validator, log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == FIXTURES.as_uri() + "/"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    failing = {f"duplicate-key/{p.name}" for p in (FIXTURES / "duplicate-key").glob("fail*.yaml")}
    assert uris == {"parse-error/fail.yaml"} | failing


def test_uris_are_percent_encoded(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        validator: jsonschema.Draft4Validator) -> None:
    (tmp_path / "my dir").mkdir()
    (tmp_path / "my dir" / "pod ü.yaml").write_text((FIXTURES / "parse-error" / "fail.yaml").read_text())
    log = sarif_of(capsys, monkeypatch, tmp_path, "my dir")
    assert_valid(validator, log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "my%20dir/pod%20%C3%BC.yaml", "uriBaseId": "%SRCROOT%"}


# --- Findings built by hand, for what a run rarely produces ---------------------------------


def finding(rule: str = "missing-prestop-hook", severity: str = "warning", line: int = 1,
            file: str = "m.yaml", **fields: object) -> Finding:
    return Finding(rule, severity, f"{rule} at line {line}", file, line, 1, line, 5,
                   "v1", "Pod", None, f"p{line}", ("spec",), **fields)


def summary_of(root: Path, findings: list[Finding]) -> RunSummary:
    summary = RunSummary(str(root))
    summary.findings = findings
    return summary


def test_automation_id_with_and_without_a_category(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        validator: jsonschema.Draft4Validator) -> None:
    log = sarif_of(capsys, monkeypatch, FIXTURES / "latest-tag-drift", "fail.yaml",
                   "--category", "monorepo/web-2.x")
    assert_valid(validator, log)
    # Code scanning reads "category/run-id": category k8slint/monorepo/web-2.x, no run id.
    assert log["runs"][0]["automationDetails"] == {"id": "k8slint/monorepo/web-2.x/"}
    assert automation_id(None) == "k8slint/"
    assert automation_id("yaml") == "k8slint/yaml/"


@pytest.mark.parametrize("category", ["", "/web", "web/", "a//b", "web app", "-web", "wéb", "a:b",
                                      "a\nb"])
def test_a_category_code_scanning_would_misread_is_refused(tmp_path: Path, category: str) -> None:
    with pytest.raises(ValueError) as raised:
        render_sarif(summary_of(tmp_path, []), category=category)
    message = str(raised.value)
    assert message.startswith("invalid SARIF category ") and "\n" not in message


def test_security_severity_exactly_on_the_security_rules(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        validator: jsonschema.Draft4Validator) -> None:
    log = sarif_of(capsys, monkeypatch, FIXTURES / "latest-tag-drift", "fail.yaml")
    assert_valid(validator, log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    scored = set()
    for rule in rules:
        properties = rule["properties"]
        if "security" not in properties["tags"]:
            assert "security-severity" not in properties, rule["id"]
            continue
        score = properties["security-severity"]
        assert isinstance(score, str) and re.fullmatch(r"\d+\.\d", score), (rule["id"], score)
        assert 0.1 <= float(score) <= 10.0, (rule["id"], score)
        assert score == catalog()[rule["id"]].security_severity
        scored.add(rule["id"])
    # Node root is critical; hardening that needs a second weakness is not.
    assert float(catalog()["privileged-container"].security_severity) > 9.0
    assert float(catalog()["docker-socket"].security_severity) > 9.0
    assert float(catalog()["ssh-port"].security_severity) < 4.0
    assert {"privileged-container", "docker-socket", "host-pid", "host-network", "host-ipc",
            "sensitive-host-mounts", "env-secret-value", "ssh-port"} <= scored
    assert not scored & {"pdb-blocks-drain", "missing-prestop-hook", "latest-tag-drift"}


def test_the_cut_keeps_the_most_severe_in_report_order(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, validator: jsonschema.Draft4Validator) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 4)
    severities = ["info", "warning", "error", "warning", "info", "error", "warning", "warning"]
    findings = [finding(severity=s, line=n) for n, s in enumerate(severities, start=1)]
    notices: list[str] = []
    log = json.loads(render_sarif(summary_of(tmp_path, findings), notices=notices))
    assert_valid(validator, log)
    (run,) = log["runs"]
    # Both errors, then the two earliest warnings; written in report order.
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]]
    assert lines == [2, 3, 4, 6]
    message = ("4 of 8 results left out (2 warnings, 2 notes): GitHub code scanning rejects a run "
               "of more than 4 results; the 4 most severe were kept")
    assert run["invocations"] == [{
        "executionSuccessful": True,
        "toolExecutionNotifications": [{"message": {"text": message}, "level": "warning"}],
    }]
    assert notices == [f"SARIF: {message}"]
    # A result keeps the fingerprint it has when nothing is cut.
    monkeypatch.setattr(sarif, "MAX_RESULTS", 100)
    whole = json.loads(render_sarif(summary_of(tmp_path, findings), notices=notices))["runs"][0]
    assert "invocations" not in whole and len(notices) == 1
    assert [r for r in whole["results"] if r["locations"][0]["physicalLocation"]["region"]["startLine"]
            in (2, 3, 4, 6)] == run["results"]


def test_no_cut_at_the_limit_itself(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    notices: list[str] = []
    run = build_log(summary_of(tmp_path, [finding(line=n) for n in (1, 2, 3)]), None, notices)["runs"][0]
    assert len(run["results"]) == 3 and "invocations" not in run and notices == []


def test_over_25000_results_from_a_real_run(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """12,501 containers with two warnings each and, last of all, an error: the run keeps
    the error and the earliest warnings, and says on stderr what it left out."""
    assert sarif.MAX_RESULTS == 25_000
    containers = "".join(f"      - name: c{n}\n        image: example/app:1.{n}\n" for n in range(12_501))
    (tmp_path / "huge.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: huge\nspec:\n  replicas: 3\n"
        "  selector:\n    matchLabels: {app: huge}\n  template:\n    metadata:\n"
        "      labels: {app: huge}\n    spec:\n      terminationGracePeriodSeconds: 30\n"
        "      containers:\n" + containers
        + "      - name: last\n        image: example/app:latest\n        imagePullPolicy: IfNotPresent\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--format", "json", "--report", "sarif:huge.sarif", "huge.yaml"])
    out, err = capsys.readouterr()
    assert code == 1
    findings = json.loads(out)["findings"]
    log = json.loads((tmp_path / "huge.sarif").read_text(encoding="utf-8"))
    (run,) = log["runs"]
    errors = [f for f in findings if f["severity"] == "error"]
    assert {f["severity"] for f in findings} == {"error", "warning"}
    assert findings.index(errors[-1]) >= 25_000  # a cut in report order would lose it
    expected, warnings_kept = [], 25_000 - len(errors)
    for f in findings:
        if f["severity"] == "warning" and warnings_kept > 0:
            warnings_kept -= 1
        elif f["severity"] != "error":
            continue
        expected.append(f)
    assert len(run["results"]) == 25_000
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in run["results"]] == [(f["rule"], f["line"]) for f in expected]
    left_out = len(findings) - 25_000
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "warning"
    assert notification["message"]["text"].startswith(f"{left_out:,} of {len(findings):,} results left out (")
    assert f"k8slint: SARIF: {left_out:,} of {len(findings):,} results left out" in err


def test_results_are_built_without_a_sarif_om_object_each(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sarif-om serves the run's skeleton and the rule descriptors: the cost of turning its
    objects into data must not grow with the number of results."""
    calls = []
    to_dict = sarif.to_sarif_dict

    def counting(value: object) -> object:
        calls.append(1)
        return to_dict(value)

    monkeypatch.setattr(sarif, "to_sarif_dict", counting)
    counts = []
    for n in (10, 1000):
        calls.clear()
        log = build_log(summary_of(tmp_path, [finding(line=i) for i in range(1, n + 1)]))
        assert len(log["runs"][0]["results"]) == n
        counts.append(len(calls))
    assert counts[0] == counts[1]


def test_fingerprints_key_on_the_shared_identity() -> None:
    """rule + identity() (exact path, kind, namespace, name or generateName#n, named path):
    apiVersion is not part of it; the exact path is, where the shown path is not."""
    a = finding(line=3, source="d/\udcff.yaml", file="d/\ufffd.yaml", stable_path="spec")
    moved = a._replace(line=9, end_line=9, api_version="v2")
    other_file = a._replace(source="d/\udcfe.yaml")
    other_rule = a._replace(rule="bare-pod")
    assert fingerprint(a) == fingerprint(moved)
    assert len({fingerprint(a), fingerprint(other_file), fingerprint(other_rule)}) == 3
    assert identity(a) == identity(moved)
    # With no object, the message tells two findings of one file apart.
    parse = Finding("parse-error", "error", "bad indentation", "m.yaml", 1, 1, 1, 2)
    assert fingerprint(parse) != fingerprint(parse._replace(message="tab character"))


def test_issue17_item16_sarif_for_a_file_under_a_non_utf8_folder_outside_the_working_folder(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        validator: jsonschema.Draft4Validator) -> None:
    folder = os.fsencode(tmp_path) + b"/x/\xff"
    try:
        os.makedirs(folder)
    except OSError:  # a file system that takes only UTF-8 names
        pytest.skip("this file system refuses names that are not UTF-8")
    manifest = (FIXTURES / "latest-tag-drift" / "fail.yaml").read_bytes()
    (Path(os.fsdecode(folder)) / "a.yaml").write_bytes(manifest)
    (tmp_path / "elsewhere").mkdir()
    log = sarif_of(capsys, monkeypatch, tmp_path / "elsewhere", os.fsdecode(folder + b"/a.yaml"))
    assert_valid(validator, log)
    (run,) = log["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/x/%FF/"
    assert run["results"]
    for result in run["results"]:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
            "uri": "a.yaml", "uriBaseId": "%SRCROOT%"}


@pytest.mark.parametrize(("file", "root", "expected"), [
    ("/r/x/\udcff/a.yaml", "/r/x", ("%FF/a.yaml", "%SRCROOT%")),
    ("/r/b c/ü.yaml", "/r", ("b%20c/%C3%BC.yaml", "%SRCROOT%")),
    ("/r/a:b.yaml", "/r", ("a%3Ab.yaml", "%SRCROOT%")),  # never read as a scheme
    ("/r/a.yaml", "/", ("r/a.yaml", "%SRCROOT%")),
    # Outside the root, or shown differently from the root's exact bytes: absolute, no base.
    ("/r/x/\ufffd/a.yaml", "/r/x/\udcff", ("file:///r/x/%EF%BF%BD/a.yaml", None)),
    ("/r/x/../y/a.yaml", "/r/x", ("file:///r/y/a.yaml", None)),
    ("/other/a.yaml", "/r", ("file:///other/a.yaml", None)),
    ("/r2/a.yaml", "/r", ("file:///r2/a.yaml", None)),
    ("/r/\ud800.yaml", "/r", ("%ED%A0%80.yaml", "%SRCROOT%")),  # no file system name, no raise
    ("<stdin>", "/r", ("stdin", None)),
])
def test_relative_uri_never_raises_nor_climbs(
        file: str, root: str, expected: tuple[str, str | None]) -> None:
    assert relative_uri(file, root) == expected


def test_the_cut_keeps_higher_security_severity_among_equal_levels() -> None:
    """Among warnings, a privileged container (9.3) outranks a missing pull policy (none)."""
    from k8slint.report.sarif import cut_to_limit

    kept, left_out = cut_to_limit(["warning", "warning", "warning", "error"], 2, [0.0, 9.3, 0.0, 0.0])
    assert (list(kept), left_out) == ([1, 3], {"warning": 2})


# --- fixes ----------------------------------------------------------------------------------

FIXABLE = (
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web  # the app\n"
    "spec:\n"
    "  containers:\n"
    "  - name: web\n"
    "    image: nginx:1.27\n"
    "    ports:\n"
    "    - containerPort: 80\n"
)


def _apply(text: str, replacements: list[dict]) -> str:
    """SARIF replacements made on ``text`` as a viewer makes them: regions by line and
    column (code points, end exclusive) of the original, lines ending at CR, LF or CRLF."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    spans = []
    for r in replacements:
        region = r["deletedRegion"]
        spans.append((offset(region["startLine"], region["startColumn"]),
                      offset(region["endLine"], region["endColumn"]),
                      r.get("insertedContent", {}).get("text", "")))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _fixes_by_rule(log: dict) -> dict[str, list[dict]]:
    return {r["ruleId"]: r["fixes"] for r in log["runs"][0]["results"] if "fixes" in r}


def test_fixable_results_carry_schema_valid_fixes_that_make_what_fix_makes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        validator: jsonschema.Draft4Validator) -> None:
    (tmp_path / "pod.yaml").write_text(FIXABLE)
    log = sarif_of(capsys, monkeypatch, tmp_path, "pod.yaml")
    assert_valid(validator, log)
    fixes = _fixes_by_rule(log)
    # bare-pod has no fix: no "fixes" key at all.
    assert sorted(fixes) == ["missing-image-pull-policy", "missing-prestop-hook",
                             "missing-termination-grace-period"]
    artifact = {"uri": "pod.yaml", "uriBaseId": "%SRCROOT%"}
    assert fixes["missing-image-pull-policy"] == [{
        "artifactChanges": [{"artifactLocation": artifact, "replacements": [{
            "deletedRegion": {"endColumn": 1, "endLine": 9, "startColumn": 1, "startLine": 9},
            "insertedContent": {"text": "    imagePullPolicy: IfNotPresent\n"}}]}],
        "description": {"text": "imagePullPolicy: IfNotPresent (safe: changes nothing a cluster does; "
                                "`k8slint fix` makes it)"},
        "properties": {"safety": "safe"},
    }]
    # Appended after the last line: made at the end of line 10, before its line break, as
    # line 11 does not exist.
    assert fixes["missing-termination-grace-period"][0]["artifactChanges"][0]["replacements"] == [{
        "deletedRegion": {"endColumn": 24, "endLine": 10, "startColumn": 24, "startLine": 10},
        "insertedContent": {"text": "\n  terminationGracePeriodSeconds: 30"}}]
    prestop = fixes["missing-prestop-hook"][0]
    assert prestop["properties"] == {"safety": "unsafe"}
    assert prestop["description"]["text"] == (
        "lifecycle.preStop.sleep.seconds: 5 (unsafe: changes behaviour; `k8slint fix --unsafe-fixes` makes it)")
    # The safe fixes made together, as a viewer would, give what `k8slint fix` writes.
    safe = [r for rule in ("missing-image-pull-policy", "missing-termination-grace-period")
            for r in fixes[rule][0]["artifactChanges"][0]["replacements"]]
    made = _apply(FIXABLE, safe)
    assert main(["fix", "pod.yaml"]) == 0
    assert made == (tmp_path / "pod.yaml").read_text()


def test_fixes_keep_crlf_and_count_columns_after_a_bom(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        validator: jsonschema.Draft4Validator) -> None:
    text = ("apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: wéb}\r\nspec:\r\n"
            "  terminationGracePeriodSeconds: 30\r\n  serviceAccount: sa\r\n  containers:\r\n"
            "  - {name: wéb, image: \"nginx:1.27\"}\r\n")
    (tmp_path / "pod.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    log = sarif_of(capsys, monkeypatch, tmp_path, "pod.yaml")
    assert_valid(validator, log)
    fixes = _fixes_by_rule(log)
    policy = fixes["missing-image-pull-policy"][0]["artifactChanges"][0]["replacements"]
    # Columns in code points ("é" is one), the BOM not counted.
    # After the closing quote of "nginx:1.27", column 36 of `  - {name: wéb, image: "nginx:1.27"}`.
    assert policy == [{"deletedRegion": {"endColumn": 36, "endLine": 8, "startColumn": 36, "startLine": 8},
                       "insertedContent": {"text": ", imagePullPolicy: IfNotPresent"}}]
    account = fixes["deprecated-service-account"][0]["artifactChanges"][0]["replacements"]
    assert account == [{"deletedRegion": {"endColumn": 17, "endLine": 6, "startColumn": 3, "startLine": 6},
                        "insertedContent": {"text": "serviceAccountName"}}]
    assert main(["fix", "pod.yaml"]) == 0
    assert (tmp_path / "pod.yaml").read_bytes() == b"\xef\xbb\xbf" + _apply(text, policy + account).encode()


def test_no_fix_where_fix_would_not_make_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        validator: jsonschema.Draft4Validator) -> None:
    """A suppressed finding, and a fix the re-read check refuses (an anchored container whose
    edit would change its alias too), carry no SARIF fix; the finding is still reported."""
    (tmp_path / "shared.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
        "  terminationGracePeriodSeconds: 30\n  containers:\n  - &c\n    name: web\n"
        "    image: nginx:1.27\n  initContainers:\n  - *c\n")
    (tmp_path / "quiet.yaml").write_text(FIXABLE.replace(
        "  - name: web\n", "  - name: web  # k8slint: ignore=missing-image-pull-policy ok\n"))
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "sarif", "--show-suppressed", "shared.yaml", "quiet.yaml"]) == 1
    log = json.loads(capsys.readouterr().out)
    assert_valid(validator, log)
    results = log["runs"][0]["results"]
    pulls = [r for r in results if r["ruleId"] == "missing-image-pull-policy"]
    assert len(pulls) == 3  # two in shared.yaml (the container and its alias), one suppressed
    assert [("fixes" in r) for r in pulls] == [False, False, False]

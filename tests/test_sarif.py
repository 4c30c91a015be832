"""SARIF: valid against the OASIS schema and complete for GitHub code scanning."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from k8slint.catalog import catalog
from k8slint.cli import main

from .helpers import FIXTURES, REPO, SARIF_SCHEMA




@pytest.fixture(scope="module")
def validator():
    if not SARIF_SCHEMA.is_file():
        pytest.fail(f"the SARIF schema is missing: {SARIF_SCHEMA}")
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema)


def sarif_of(capsys, monkeypatch, folder: Path, *paths: str) -> dict:
    monkeypatch.chdir(folder)
    code = main(["check", "--format", "sarif", *paths])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return json.loads(out)


def assert_valid(validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_fixtures_sarif_is_schema_valid_and_complete(capsys, monkeypatch, validator):
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


def test_one_result_exactly(capsys, monkeypatch, validator):
    log = sarif_of(capsys, monkeypatch, FIXTURES / "latest-tag-drift", "fail.yaml", "--disable",
                   "missing-prestop-hook", "--disable", "missing-termination-grace-period",
                   "--disable", "single-replica", "--disable", "latest-tag", "--disable", "bare-pod")
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
    }


def test_fingerprints_survive_lines_moving(capsys, monkeypatch, tmp_path):
    text = (FIXTURES / "latest-tag-drift" / "fail.yaml").read_text()
    (tmp_path / "m.yaml").write_text(text)
    before = sarif_of(capsys, monkeypatch, tmp_path, "m.yaml")["runs"][0]["results"]
    (tmp_path / "m.yaml").write_text("# a comment\n# and another\n" + text)
    after = sarif_of(capsys, monkeypatch, tmp_path, "m.yaml")["runs"][0]["results"]
    assert len(before) == len(after) > 3
    for old, new in zip(before, after):
        assert new["locations"][0]["physicalLocation"]["region"]["startLine"] == (
            old["locations"][0]["physicalLocation"]["region"]["startLine"] + 2
        )
        assert new["partialFingerprints"] == old["partialFingerprints"]
    keys = [r["partialFingerprints"]["k8slintFinding/v1"] for r in after]
    assert len(set(keys)) == len(keys)


def test_uris_never_leave_the_scanned_root(capsys, monkeypatch, tmp_path, validator):
    """Files outside the working folder: URIs relative to their common folder, never
    absolute and never climbing out with '..'."""
    (tmp_path / "in").mkdir()
    outside = FIXTURES / "parse-error" / "fail.yaml"
    log = sarif_of(capsys, monkeypatch, tmp_path / "in", str(outside), str(FIXTURES / "duplicate-key"))
    assert_valid(validator, log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == FIXTURES.as_uri() + "/"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"parse-error/fail.yaml", "duplicate-key/fail.yaml"}


def test_uris_are_percent_encoded(capsys, monkeypatch, tmp_path, validator):
    (tmp_path / "my dir").mkdir()
    (tmp_path / "my dir" / "pod ü.yaml").write_text((FIXTURES / "parse-error" / "fail.yaml").read_text())
    log = sarif_of(capsys, monkeypatch, tmp_path, "my dir")
    assert_valid(validator, log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "my%20dir/pod%20%C3%BC.yaml", "uriBaseId": "%SRCROOT%"}

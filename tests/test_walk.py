"""Folder walks as a user expects: what git ignores and what is not a manifest stay out."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from k8slint.cli import main

from .helpers import FIXTURES

FAILING = (FIXTURES / "privileged-container" / "fail.yaml").read_text()
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def run_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git work tree with an ignored folder, a tsconfig.json with comments, an editor
    settings file, and a repository config that would run a command if git obeyed it."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for folder in ("node_modules/pkg", "deploy", ".vscode", "build"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / "x.yaml").write_text(FAILING)
    (tmp_path / "build" / "tracked.yaml").write_text(FAILING)
    (tmp_path / "deploy" / "app.yaml").write_text(FAILING)
    (tmp_path / "tsconfig.json").write_text('{\n  // comments are not JSON\n  "compilerOptions": {}\n}\n')
    (tmp_path / ".vscode" / "settings.json").write_text('{"editor.tabSize": 2,}\n')
    (tmp_path / ".gitignore").write_text("node_modules/\nbuild/\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "build/tracked.yaml"], check=True)
    monitor = tmp_path.with_name(tmp_path.name + "-monitor.sh")
    monitor.write_text(f"#!/bin/sh\ntouch {tmp_path.with_name(tmp_path.name + '-PWNED')}\n")
    monitor.chmod(0o755)
    subprocess.run(["git", "-C", str(tmp_path), "config", "core.fsmonitor", str(monitor)], check=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


@needs_git
def test_ignored_folders_and_files_that_are_not_manifests_stay_out(capsys, repo):
    code, report = run_json(capsys, ".")
    assert code == 1
    assert sorted({f["file"] for f in report["findings"]}) == ["build/tracked.yaml", "deploy/app.yaml"]
    assert report["summary"]["gitIgnored"] == 1  # node_modules/, pruned whole
    assert report["summary"]["notManifests"] == 2  # tsconfig.json and .vscode/settings.json
    assert not repo.with_name(repo.name + "-PWNED").exists()  # git ran no command of the repo's


@needs_git
def test_no_gitignore_and_named_files_are_linted(capsys, repo):
    _, report = run_json(capsys, "--no-gitignore", ".")
    assert "node_modules/pkg/x.yaml" in {f["file"] for f in report["findings"]}
    _, report = run_json(capsys, "node_modules/pkg/x.yaml", "tsconfig.json")
    assert sorted({(f["file"], f["rule"]) for f in report["findings"]
                   if f["rule"] in ("parse-error", "privileged-container")}) == [
        ("node_modules/pkg/x.yaml", "privileged-container"), ("tsconfig.json", "parse-error")]


@needs_git
def test_the_hook_follows_the_walk_rules(capsys, repo):
    _, report = run_json(capsys, "--pre-commit", "--", "tsconfig.json", "deploy/app.yaml")
    assert {f["file"] for f in report["findings"]} == {"deploy/app.yaml"}
    assert report["summary"]["notManifests"] == 1


def test_no_objects_is_said_plainly_and_can_fail(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "values.yaml").write_text("replicaCount: 1\n")
    assert main(["check", "."]) == 0
    out, _ = capsys.readouterr()
    assert out == "No Kubernetes objects found in 1 file, so nothing was checked.\n"
    assert main(["check", "--fail-if-no-objects", "."]) == 1
    out, err = capsys.readouterr()
    assert err == "k8slint: no Kubernetes object was found, and --fail-if-no-objects was given\n"


def test_a_report_into_a_missing_folder_is_an_io_error(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "pod.yaml").write_text(FAILING)
    code = main(["check", "--report", "sarif:out/k.sarif", "pod.yaml"])
    _, err = capsys.readouterr()
    assert (code, err) == (2, "Error: cannot write out/k.sarif: No such file or directory\n")


def test_reports_go_to_their_files_and_text_to_stdout(capsys, tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "pod.yaml").write_text(FAILING)
    code = main(["check", "--category", "web", "--report", "sarif:k.sarif", "--report", "junit:k.xml",
                 "--report", "gitlab:k.json", "pod.yaml"])
    out, err = capsys.readouterr()
    assert (code, err) == (1, "")
    active = out.splitlines()[:-1]
    assert out.splitlines()[-1].startswith(f"{len(active)} findings")
    sarif = json.loads((tmp_path / "k.sarif").read_text())
    assert sarif["runs"][0]["automationDetails"]["id"] == "k8slint/web/"
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["privileged-container"]["properties"]["security-severity"] == "9.3"
    suites = ET.parse(tmp_path / "k.xml").getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == str(len(active))
    gitlab = json.loads((tmp_path / "k.json").read_text())
    assert sorted(i["check_name"] for i in gitlab) == sorted(line.split()[2] for line in active)
    assert {i["location"]["path"] for i in gitlab} == {"pod.yaml"}

"""Baselines: adopt on an existing repository; survive edits that move every line."""

from __future__ import annotations

import json

import pytest

from .helpers import FIXTURES, run


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "deploy").mkdir()
    for name in ("latest-tag-drift", "missing-prestop-hook"):
        (tmp_path / "deploy" / f"{name}.yaml").write_text((FIXTURES / name / "fail.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_write_then_check_against_the_baseline(capsys, repo):
    code, out, err = run(capsys, "check", "deploy", "--write-baseline", "k8slint-baseline.json")
    total = int(out.splitlines()[-1].split()[0])
    assert code == 1 and total > 5
    assert err == f"k8slint: recorded {total} findings in k8slint-baseline.json\n"
    data = json.loads((repo / "k8slint-baseline.json").read_text())
    assert data["format"] == "k8slint-baseline" and data["version"] == 2
    entry = data["findings"][0]
    assert set(entry) == {"rule", "file", "kind", "namespace", "name", "path", "count"}

    assert run(capsys, "check", "deploy", "--baseline", "k8slint-baseline.json")[:2] == (
        0, f"No findings in 2 files; 3 documents, 3 objects checked; {total} known from the baseline.\n")


def test_baseline_survives_an_edit_that_shifts_every_line(capsys, repo):
    run(capsys, "check", "deploy", "--write-baseline", "base.json")
    path = repo / "deploy" / "latest-tag-drift.yaml"
    path.write_text("# a header comment\n# and another\n\n" + path.read_text())
    code, out, _ = run(capsys, "check", "deploy", "--baseline", "base.json")
    assert code == 0
    assert out.startswith("No findings in 2 files;")


def test_a_new_finding_is_reported_and_old_ones_are_not(capsys, repo):
    run(capsys, "check", "deploy", "--write-baseline", "base.json")
    path = repo / "deploy" / "missing-prestop-hook.yaml"
    path.write_text(path.read_text().replace(
        "      - name: metrics  # expect: missing-prestop-hook@9",
        "      - name: metrics  # expect: missing-prestop-hook@9\n"
        "        image: example/metrics:0.3\n      - name: added-today",
    ))
    code, out, _ = run(capsys, "check", "deploy", "--baseline", "base.json", "--disable",
                       "missing-image-pull-policy")
    assert code == 1
    lines = out.splitlines()
    assert [line.split()[2] for line in lines[:-1]] == ["missing-prestop-hook"]
    assert '"added-today"' in lines[0]


def test_baseline_paths_are_relative_to_the_baseline_file(capsys, repo, monkeypatch):
    run(capsys, "check", "deploy", "--write-baseline", "base.json")
    monkeypatch.chdir(repo / "deploy")
    code, out, _ = run(capsys, "check", ".", "--baseline", "../base.json")
    assert (code, out.split(";")[0]) == (0, "No findings in 2 files")


def test_bad_baseline_is_a_usage_error(capsys, repo):
    (repo / "bad.json").write_text("{}")
    code, _, err = run(capsys, "check", "deploy", "--baseline", "bad.json")
    assert code == 2
    assert "bad.json is not a k8slint baseline" in err
    code, _, err = run(capsys, "check", "deploy", "--baseline", "missing.json")
    assert code == 2
    assert "cannot read the baseline missing.json" in err


def test_the_baseline_and_config_are_not_linted_as_manifests(capsys, repo):
    (repo / ".k8slint.yaml").write_text("failOn: error\n")
    run(capsys, "check", ".", "--write-baseline", "base.json")
    out = run(capsys, "check", ".", "--write-baseline", "base.json")[1]
    assert "in 2 of 2 files;" in out.splitlines()[-1]
    assert run(capsys, "check", ".", "--baseline", "base.json")[1].startswith("No findings in 2 files;")

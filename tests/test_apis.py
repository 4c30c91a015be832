"""The API-version rules against a target release from the flag, the config, or the table."""

from __future__ import annotations

import pytest

from k8slint.checks.apis import newest_known, retirements
from k8slint.cli import main

from .helpers import make_git_folder

MANIFEST = """\
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: nightly
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata:
  name: batch
---
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
"""


def api_findings(capsys, *args):
    main(["check", "--disable", "missing-termination-grace-period", *args, "m.yaml"])
    out = capsys.readouterr().out
    return [line.split(" ", 3)[1:] for line in out.splitlines()[:-1]]


@pytest.fixture
def here(tmp_path, monkeypatch):
    make_git_folder(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))  # outside the tree
    return tmp_path


def test_the_shipped_table():
    assert len(retirements()) == 50
    assert newest_known() == (1, 32)


def test_default_target_is_the_newest_release_known(capsys, here):
    assert api_findings(capsys) == [
        ["error", "removed-api-version", "batch/v1beta1 CronJob was removed in Kubernetes 1.25: the API "
         "server of 1.32 rejects it, so an upgrade breaks every apply of this file; use apiVersion: batch/v1"],
        ["error", "removed-api-version", "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema was removed in "
         "Kubernetes 1.32: the API server of 1.32 rejects it, so an upgrade breaks every apply of this "
         "file; use apiVersion: flowcontrol.apiserver.k8s.io/v1"],
        ["error", "removed-api-version", "policy/v1beta1 PodSecurityPolicy was removed in Kubernetes 1.25: "
         "the API server of 1.32 rejects it, so an upgrade breaks every apply of this file; "
         "PodSecurityPolicy has no replacement API: remove it (and migrate to what replaced the feature)"],
    ]


def test_flag_target(capsys, here):
    assert [f[:2] for f in api_findings(capsys, "--kubernetes-version", "1.24")] == [
        ["warning", "deprecated-api-version"],  # CronJob: deprecated 1.21, removed 1.25
        ["warning", "deprecated-api-version"],  # PodSecurityPolicy: deprecated 1.21
    ]
    assert [f[:2] for f in api_findings(capsys, "--kubernetes-version", "1.29")] == [
        ["error", "removed-api-version"], ["warning", "deprecated-api-version"],
        ["error", "removed-api-version"],
    ]
    assert api_findings(capsys, "--kubernetes-version", "1.20") == []


def test_config_target_and_the_flag_wins(capsys, here):
    (here / ".k8slint.yaml").write_text('kubernetesVersion: "1.24"\n')
    assert [f[1] for f in api_findings(capsys)] == ["deprecated-api-version"] * 2
    assert [f[1] for f in api_findings(capsys, "--kubernetes-version", "1.32")] == ["removed-api-version"] * 3


def test_bad_versions(capsys, here):
    assert main(["check", "--kubernetes-version", "129", "m.yaml"]) == 2
    assert "expected a release such as 1.29, got '129'" in capsys.readouterr().err
    (here / ".k8slint.yaml").write_text("kubernetesVersion: 1.29\n")  # a float in YAML
    assert main(["check", "m.yaml"]) == 2
    assert capsys.readouterr().err == (
        'k8slint: config error: .k8slint.yaml:1:1: kubernetesVersion: expected a Kubernetes release '
        'such as "1.29" (quoted, so YAML keeps it a string), got 1.29\n'
    )

"""The API-version rules against a target release from the flag, the config, or the table."""

from __future__ import annotations

import pytest

from k8slint.checks.apis import retirements
from k8slint.cli import main
from k8slint.versions import NEWEST

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
apiVersion: networking.k8s.io/v1beta1
kind: ServiceCIDR
metadata:
  name: extra
"""
API_RULES = ("removed-api-version", "deprecated-api-version")


def api_findings(capsys, *args):
    main(["check", "--disable", "missing-termination-grace-period", *args, "m.yaml"])
    out = capsys.readouterr().out
    found = [line.split(" ", 3)[1:] for line in out.splitlines()[:-1]]
    return [f for f in found if f[1] in API_RULES]


@pytest.fixture
def here(tmp_path, monkeypatch):
    make_git_folder(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_shipped_table_reaches_the_newest_release():
    assert len(retirements()) == 82
    assert max(r.removed_in for r in retirements().values()) == NEWEST == (1, 37)


def test_default_target_is_the_newest_release_known(capsys, here):
    assert api_findings(capsys) == [
        ["error", "removed-api-version", "batch/v1beta1 CronJob was removed in Kubernetes 1.25: the API "
         "server of 1.37 rejects it, so an upgrade breaks every apply of this file; use apiVersion: batch/v1"],
        ["error", "removed-api-version", "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema was removed in "
         "Kubernetes 1.32: the API server of 1.37 rejects it, so an upgrade breaks every apply of this "
         "file; use apiVersion: flowcontrol.apiserver.k8s.io/v1"],
        ["error", "removed-api-version", "networking.k8s.io/v1beta1 ServiceCIDR was removed in Kubernetes "
         "1.37: the API server of 1.37 rejects it, so an upgrade breaks every apply of this file; use "
         "apiVersion: networking.k8s.io/v1"],
    ]


def test_flag_target(capsys, here):
    assert [f[:2] for f in api_findings(capsys, "--kubernetes-version", "1.30")] == [
        ["error", "removed-api-version"],  # CronJob: removed 1.25
        ["warning", "deprecated-api-version"],  # FlowSchema v1beta3: deprecated 1.29
    ]
    assert [f[:2] for f in api_findings(capsys, "--kubernetes-version", "1.34")] == [
        ["error", "removed-api-version"], ["error", "removed-api-version"],
        ["warning", "deprecated-api-version"],  # ServiceCIDR v1beta1: deprecated 1.33
    ]


def test_config_target_and_the_flag_wins(capsys, here):
    (here / ".k8slint.yaml").write_text('kubernetesVersion: "1.30"\n')
    assert [f[1] for f in api_findings(capsys)] == ["removed-api-version", "deprecated-api-version"]
    assert [f[1] for f in api_findings(capsys, "--kubernetes-version", "1.37")] == ["removed-api-version"] * 3


def test_the_legacy_rule_param_sets_the_run_target(capsys, here):
    (here / ".k8slint.yaml").write_text(
        'rules:\n  removed-api-version:\n    params: {kubernetesVersion: "1.30"}\n')
    assert [f[1] for f in api_findings(capsys)] == ["removed-api-version", "deprecated-api-version"]


def test_bad_versions(capsys, here):
    assert main(["check", "--kubernetes-version", "129", "m.yaml"]) == 2
    assert "expected a Kubernetes release such as 1.29, got '129'" in capsys.readouterr().err
    assert main(["check", "--kubernetes-version", "1.27", "m.yaml"]) == 2
    assert ("Invalid value for --kubernetes-version: Kubernetes 1.27 is outside the releases k8slint "
            "knows (1.28 to 1.37)") in capsys.readouterr().err
    (here / ".k8slint.yaml").write_text('kubernetesVersion: "1.40"\n')
    assert main(["check", "m.yaml"]) == 2
    assert capsys.readouterr().err == (
        "k8slint: config error: .k8slint.yaml:1:1: kubernetesVersion: Kubernetes 1.40 is outside the "
        "releases k8slint knows (1.28 to 1.37)\n")
    (here / ".k8slint.yaml").write_text("kubernetesVersion: 1.29\n")  # a float in YAML
    assert main(["check", "m.yaml"]) == 2
    assert capsys.readouterr().err == (
        'k8slint: config error: .k8slint.yaml:1:1: kubernetesVersion: expected a Kubernetes release '
        'such as "1.29" (quoted, so YAML keeps it a string), got 1.29\n'
    )

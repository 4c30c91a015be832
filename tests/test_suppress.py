"""Suppressions: every form, the two meta-findings, and how each report shows them."""

from __future__ import annotations

import json

import jsonschema
import pytest

from k8slint.cli import main

from .helpers import SARIF_SCHEMA, make_git_folder

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web{object_annotations}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web}}{template_annotations}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: web{same_line}
        image: example/web:latest
        imagePullPolicy: IfNotPresent
"""


def deployment(object_annotations="", template_annotations="", same_line=""):
    return DEPLOYMENT.format(object_annotations=object_annotations,
                             template_annotations=template_annotations, same_line=same_line)


def run(capsys, *args):
    # One replica and the latest tag itself are not what these tests are about.
    code = main([*args, "--disable", "single-replica", "--disable", "latest-tag"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))  # outside the tree
    make_git_folder(tmp_path)
    return tmp_path


def findings(capsys, *args):
    out = run(capsys, "check", "--format", "json", *args)[1]
    return json.loads(out)


def ids(report):
    return [(f["rule"], f["line"]) for f in report["findings"]]


def test_unsuppressed_baseline_of_this_file(capsys, here):
    (here / "d.yaml").write_text(deployment())
    assert ids(findings(capsys, "d.yaml")) == [("missing-prestop-hook", 13), ("latest-tag-drift", 14)]


def test_object_annotation(capsys, here):
    (here / "d.yaml").write_text(deployment(
        object_annotations='\n  annotations:\n    ignore-check.k8slint.io/latest-tag-drift: "built in CI, pushed as latest"'))
    report = findings(capsys, "d.yaml")
    assert ids(report) == [("missing-prestop-hook", 15)]
    assert report["summary"]["suppressed"] == 1


def test_pod_template_annotation(capsys, here):
    (here / "d.yaml").write_text(deployment(
        template_annotations='\n      annotations:\n        ignore-check.k8slint.io/missing-prestop-hook: "mesh drains it"'))
    assert ids(findings(capsys, "d.yaml")) == [("latest-tag-drift", 16)]


def test_all_annotation(capsys, here):
    (here / "d.yaml").write_text(deployment(
        object_annotations='\n  annotations:\n    ignore-check.k8slint.io/all: "vendored, not ours"'))
    report = findings(capsys, "d.yaml")
    assert (ids(report), report["summary"]["suppressed"]) == ([], 2)


def test_same_line_comment(capsys, here):
    (here / "d.yaml").write_text(deployment(same_line="  # k8slint: ignore=missing-prestop-hook drained by the mesh"))
    assert ids(findings(capsys, "d.yaml")) == [("latest-tag-drift", 14)]


def test_line_above_comment_silences_only_that_line(capsys, here):
    text = deployment().replace(
        "        image: example/web:latest",
        "        # k8slint: ignore=latest-tag-drift,missing-prestop-hook reviewed\n        image: example/web:latest",
    )
    (here / "d.yaml").write_text(text)
    # missing-prestop-hook is on line 13, not below the comment: it stays, and the
    # suppression is used (by latest-tag-drift), so nothing is reported as unused.
    assert ids(findings(capsys, "d.yaml")) == [("missing-prestop-hook", 13)]


def test_meta_findings_exact(capsys, here):
    (here / "d.yaml").write_text(deployment(
        object_annotations='\n  annotations:\n    ignore-check.k8slint.io/latest-tag-drift: ""'
                           '\n    ignore-check.k8slint.io/bare-pod-typo: "x"',
        same_line="  # k8slint: ignore=missing-termination-grace-period gone"))
    code, out, _ = run(capsys, "check", "d.yaml")
    assert code == 1
    assert out.splitlines() == [
        "d.yaml:6:5: info suppression-without-reason annotation ignore-check.k8slint.io/latest-tag-drift "
        "gives no reason: say why the finding does not apply, so the next reader can tell whether it still holds",
        "d.yaml:7:5: info unused-suppression annotation ignore-check.k8slint.io/bare-pod-typo names unknown "
        "rule bare-pod-typo: it silences nothing; fix the id or remove it",
        'd.yaml:16:9: warning missing-prestop-hook [fix*] container "web" has no preStop hook: on a drain it gets '
        "SIGTERM with no step to finish or hand over its work first; add lifecycle.preStop (a short sleep, or "
        "a graceful stop command)",
        "d.yaml:16:20: info unused-suppression # k8slint: ignore=missing-termination-grace-period silences "
        "nothing here: the finding it was written for is gone; remove it",
        "4 findings (0 errors, 1 warning, 3 info) in 1 of 1 file; 1 fixable with k8slint fix --unsafe-fixes; "
        "1 document, 1 object checked; 1 suppressed.",
    ]


def test_show_suppressed_text_json_and_valid_sarif(capsys, here):
    (here / "d.yaml").write_text(deployment(same_line="  # k8slint: ignore=missing-prestop-hook drained by the mesh"))
    code, out, _ = run(capsys, "check", "--show-suppressed", "d.yaml")
    assert code == 1  # the suppressed finding does not count
    assert out.splitlines()[0].endswith("[suppressed: drained by the mesh]")
    assert out.splitlines()[-1].endswith("; 1 suppressed.")
    report = findings(capsys, "--show-suppressed", "d.yaml")
    assert report["findings"][0]["suppressed"] == {"kind": "inSource", "justification": "drained by the mesh"}
    assert report["summary"]["findings"] == 1
    log = json.loads(run(capsys, "check", "--show-suppressed", "--format", "sarif", "d.yaml")[1])
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    result = log["runs"][0]["results"][0]
    assert result["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": "drained by the mesh"}]
    # Without --show-suppressed, suppressed findings reach no output.
    log = json.loads(run(capsys, "check", "--format", "sarif", "d.yaml")[1])
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["latest-tag-drift"]


def test_suppressing_everything_exits_0(capsys, here):
    (here / "d.yaml").write_text(deployment(
        object_annotations='\n  annotations:\n    ignore-check.k8slint.io/all: "third-party chart"'))
    assert run(capsys, "check", "d.yaml")[:2] == (
        0, "No findings in 1 file; 1 document, 1 object checked; 2 suppressed.\n")

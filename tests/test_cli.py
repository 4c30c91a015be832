"""The command line as a user meets it: whole outputs and exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from k8slint.catalog import catalog
from k8slint.cli import main
from k8slint.kbuild import kustomize_command

from .helpers import FIXTURES, make_git_folder

FAIL = FIXTURES / "latest-tag-drift" / "fail.yaml"
PASSING = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector: {matchLabels: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: web
        image: example/web:1.4
        imagePullPolicy: IfNotPresent
        lifecycle: {preStop: {sleep: {seconds: 5}}}
"""
FAILING = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: app
    image: example/app:latest
    imagePullPolicy: IfNotPresent
    lifecycle: {preStop: {sleep: {seconds: 5}}}
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    # FAILING is a bare Pod with a latest image, the smallest failing manifest there is;
    # bare-pod and latest-tag are not what these tests are about (latest-tag-drift is).
    quiet = ["--disable", "bare-pod", "--disable", "latest-tag"]
    code = main([*args, *quiet] if args[:1] == ("check",) else list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "good.yaml").write_text(PASSING)
    (tmp_path / "deploy" / "bad.yml").write_text(FAILING)
    (tmp_path / "deploy" / "notes.txt").write_text("not a manifest: [")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def test_text_report_whole_output(capsys, tree):
    code, out, err = run(capsys, "check", "deploy")
    assert code == 1
    assert err == ""
    assert out == (
        'deploy/bad.yml:9:5: error latest-tag-drift [fix*] image "example/app:latest" follows the '
        "moving tag latest but imagePullPolicy is IfNotPresent: each node keeps whichever latest "
        "it pulled first, so replicas run different code; pin a version tag or digest\n"
        "1 finding (1 error, 0 warnings, 0 info) in 1 of 2 files; 1 fixable with k8slint fix --unsafe-fixes; "
        "3 documents, 3 objects checked.\n"
    )


def test_clean_run_exits_0(capsys, tree):
    code, out, _ = run(capsys, "check", "deploy/good.yaml")
    assert (code, out) == (0, "No findings in 1 file; 2 documents, 2 objects checked.\n")


@pytest.mark.parametrize("fail_on, expected", [("error", 1), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on(capsys, tree, fail_on, expected):
    assert run(capsys, "check", "deploy", "--fail-on", fail_on)[0] == expected


def test_fail_on_error_ignores_warnings(capsys, tree):
    (tree / "w.yaml").write_text(FAILING.replace("latest", "1.0").replace("    imagePullPolicy: IfNotPresent\n", ""))
    code, out, _ = run(capsys, "check", "w.yaml", "--fail-on", "error")
    assert code == 0
    assert "warning missing-image-pull-policy" in out


def test_disable_and_enable(capsys, tree):
    code, out, _ = run(capsys, "check", "deploy", "--disable", "latest-tag-drift")
    assert (code, out.splitlines()[-1]) == (0, "No findings in 2 files; 3 documents, 3 objects checked.")


def test_unknown_rule_suggests_the_closest(capsys, tree):
    code, _, err = run(capsys, "check", "deploy", "--disable", "latest-tag-drfit")
    assert code == 2
    assert "unknown rule 'latest-tag-drfit'; did you mean latest-tag-drift or latest-tag?" in err
    assert "Traceback" not in err


def test_missing_path_is_a_one_line_usage_error(capsys, tree):
    code, out, err = run(capsys, "check", "nope/")
    assert code == 2
    assert out == ""
    assert err.strip().splitlines()[-1] == "Error: no such file or folder: nope/"


def test_stdin(capsys, tree, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FAILING.encode())))
    code, out, _ = run(capsys, "check", "-")
    assert code == 1
    assert out.startswith("<stdin>:9:5: error latest-tag-drift ")


def test_stdin_empty(capsys, tree, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert run(capsys, "check", "-")[:2] == (0, "No Kubernetes objects found in 1 file, so nothing was checked.\n")


def test_parse_error_does_not_stop_other_files(capsys, tree):
    (tree / "deploy" / "broken.yaml").write_text("apiVersion: v1\nkind: [\n")
    code, out, _ = run(capsys, "check", "deploy")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("deploy/bad.yml:9:5: error latest-tag-drift ")
    assert lines[1] == "deploy/broken.yaml:2:8: error parse-error invalid YAML: while parsing a flow node: did not find expected node content"
    assert lines[2] == ("2 findings (2 errors, 0 warnings, 0 info) in 2 of 3 files; 1 fixable with k8slint fix "
                        "--unsafe-fixes; 3 documents, 3 objects checked.")


def test_a_walk_skips_files_that_do_not_parse_and_are_not_manifests(capsys, tree):
    """A tsconfig.json with comments, a Helm template: not manifests, so not failures."""
    (tree / "deploy" / "tsconfig.json").write_text('{\n  // comment\n  "compilerOptions": {}\n}\n')
    (tree / "deploy" / "template.yaml").write_text("{{- if .Values.x }}\nfoo: {{ .Values.y }}\n")
    code, out, _ = run(capsys, "check", "deploy")
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["deploy/bad.yml"]
    assert lines[-1] == ("1 finding (1 error, 0 warnings, 0 info) in 1 of 2 files; 1 fixable with k8slint fix "
                         "--unsafe-fixes; 3 documents, 3 objects checked; 2 files skipped as not manifests.")
    # Named on the command line, the same file is reported.
    code, out, _ = run(capsys, "check", "deploy/tsconfig.json")
    assert code == 1
    assert out.splitlines()[0].startswith("deploy/tsconfig.json:2:3: error parse-error ")


def test_json_report_shape(capsys, tree):
    code, out, _ = run(capsys, "check", "deploy", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["version"] == 1
    assert report["tool"]["name"] == "k8slint"
    assert report["summary"] == {
        "files": 2, "documents": 3, "objects": 3, "patchesSkipped": 0, "notManifests": 0, "gitIgnored": 0, "linksOut": 0,
        "kubernetesVersion": "1.37", "objectsWithoutSchema": {}, "findings": 1, "suppressed": 0, "baselineKnown": 0, "error": 1, "warning": 0, "info": 0,
        "fixable": 0, "fixableUnsafe": 1,  # the latest-tag-drift finding: [fix*]
        "rendered": [], "notices": [],
    }
    (finding,) = report["findings"]
    assert finding == {
        "rule": "latest-tag-drift",
        "severity": "error",
        "message": 'image "example/app:latest" follows the moving tag latest but imagePullPolicy is '
                   "IfNotPresent: each node keeps whichever latest it pulled first, so replicas run "
                   "different code; pin a version tag or digest",
        "file": "deploy/bad.yml",
        "line": 9, "column": 5, "endLine": 9, "endColumn": 10,
        "object": {"apiVersion": "v1", "kind": "Pod", "namespace": None, "name": "p"},
        "path": ["spec", "containers", 0, "image"],
        "suppressed": None,
    }


def test_github_annotations_escape(capsys, tree):
    (tree / "a,b%.yaml").write_text(FAILING.replace("name: app", 'name: "x\\ny"'))
    code, out, _ = run(capsys, "check", "a,b%.yaml", "--format", "github")
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(
        "::error file=a%2Cb%25.yaml,line=9,col=5,endLine=9,endColumn=10,title=latest-tag-drift::"
    )
    assert out.splitlines()[-1].startswith("1 finding (1 error")


def test_github_format_is_default_in_actions(capsys, tree, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert run(capsys, "check", "deploy")[1].startswith("::error file=deploy/bad.yml,line=9,col=5,")


def test_output_file_is_written_and_stdout_stays_empty(capsys, tree):
    code, out, _ = run(capsys, "check", "deploy", "--format", "json", "--output", "report.json")
    assert (code, out) == (1, "")
    assert json.loads((tree / "report.json").read_text())["summary"]["findings"] == 1
    assert [p.name for p in tree.iterdir() if p.name.startswith(".k8slint-")] == []


def test_output_to_a_missing_folder_is_exit_2(capsys, tree):
    code, _, err = run(capsys, "check", "deploy", "--output", "no/such/dir/r.json")
    assert code == 2
    assert "cannot write no/such/dir/r.json" in err


def test_control_characters_from_manifests_are_escaped(capsys, tree):
    (tree / "esc.yaml").write_text(FAILING.replace("example/app:latest", '"example/\\e[2J\\e[31mred:latest"'))
    out = run(capsys, "check", "esc.yaml")[1]
    assert "\x1b" not in out
    assert '\\x1b[2J\\x1b[31mred' in out


def test_folder_walk_rules(capsys, tree):
    make_git_folder(tree / "deploy")
    (tree / "deploy" / ".git" / "x.yaml").write_text(FAILING)
    (tree / "deploy" / "UPPER.YAML").write_text(PASSING)
    (tree / "deploy" / "link").symlink_to(tree / "deploy")  # a loop
    code, out, _ = run(capsys, "check", "deploy")
    assert code == 1
    assert out.splitlines()[-1] == ("1 finding (1 error, 0 warnings, 0 info) in 1 of 3 files; 1 fixable with k8slint fix "
                                    "--unsafe-fixes; 5 documents, 5 objects checked.")


@pytest.mark.parametrize("command", [[], ["check"], ["rules"], ["explain"]])
def test_help(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("Usage: k8slint")


def test_rules_lists_every_rule(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    by_id = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert by_id["duplicate-key"] == "error" and by_id["missing-prestop-hook"] == "warning"
    assert len(out.splitlines()) == len(catalog())


def test_rules_json(capsys):
    rules = json.loads(run(capsys, "rules", "--format", "json")[1])
    assert {r["id"] for r in rules} >= {"latest-tag-drift", "parse-error"}
    assert {r["id"]: r["enabled"] for r in rules} == {m.id: m.enabled for m in catalog().values()}


def test_explain(capsys):
    code, out, _ = run(capsys, "explain", "latest-tag-drift")
    assert code == 0
    assert out.startswith("latest-tag-drift (error, on by default)\n\nAn image follows the moving latest tag")
    for heading in ("Why it matters:", "Fails:", "Fix:", "Instead:", "References:"):
        assert f"\n{heading}\n" in out


def test_explain_unknown(capsys):
    code, _, err = run(capsys, "explain", "prestop")
    assert code == 2
    assert "unknown rule 'prestop'" in err


def test_python_dash_m_and_no_traceback_on_binary_input(tmp_path):
    (tmp_path / "bin.yaml").write_bytes(bytes(range(256)) * 4)
    proc = subprocess.run(
        [sys.executable, "-m", "k8slint", "check", str(tmp_path / "bin.yaml")],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[0] == (
        f"{tmp_path}/bin.yaml:2:118: error parse-error the file is not valid UTF-8 text "
        "(byte 0x80 cannot be decoded); manifests must be UTF-8"
    )


def test_kustomize_patches_are_skipped_and_counted(capsys, tree):
    overlay = tree / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../deploy]\n"
        "patches:\n- path: patches/replicas.yaml\npatchesStrategicMerge:\n- resources.yaml\n"
    )
    (overlay / "patches").mkdir()
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        resources: {}\n"
    (overlay / "patches" / "replicas.yaml").write_text(patch)
    (overlay / "resources.yaml").write_text(patch)
    (overlay / "extra.yaml").write_text(FAILING)
    # With rendering off, a kustomization's files are linted one by one, its patches skipped.
    code, out, _ = run(capsys, "check", "--no-render", "overlay")
    assert code == 1
    assert out.splitlines()[-1] == (
        "1 finding (1 error, 0 warnings, 0 info) in 1 of 2 files; 1 fixable with k8slint fix --unsafe-fixes; "
        "2 documents, 2 objects checked; 2 kustomize patch files skipped; 1 object of 1 kind had no schema."
    )  # the Kustomization: a kind no schema of the run describes, counted as the others
    # As pre-commit passes them: named one by one, from the repository's root.
    code, out, _ = run(capsys, "check", "--no-render", "overlay/patches/replicas.yaml", "overlay/resources.yaml")
    assert (code, out) == (0, "No Kubernetes objects found in 0 files, so nothing was checked; 2 kustomize patch files skipped.\n")
    if kustomize_command() is None:
        return
    # Built, the overlay fails (../deploy has no kustomization): its error at the entry
    # kustomize names, and its files linted as without kustomize, patches skipped.
    code, out, _ = run(capsys, "check", "overlay/patches/replicas.yaml", "overlay/resources.yaml")
    error, summary = out.splitlines()
    assert error.startswith("overlay/kustomization.yaml:3:13: error kustomize-build-error accumulating "
                            "resources: accumulation err='accumulating resources from '../deploy': ")
    assert error.endswith("unable to find one of 'kustomization.yaml', 'kustomization.yml' or "
                          "'Kustomization' in directory '" + str(tree / "deploy") + "' (the root's files are "
                          "linted one by one instead; its 2 patch files are skipped) (via overlay)")
    assert (code, summary) == (1, "1 finding (1 error, 0 warnings, 0 info) in 1 of 1 file; 0 documents, "
                                  "0 objects checked; 0 of 1 Kustomize build roots built; "
                                  "2 kustomize patch files skipped.")

"""Policy packs: ``extends`` merges other config files, the repository's own file last."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from .helpers import make_git_folder, run

PACK = """\
# The organisation's pack: every repository extends it.
failOn: error
exclude: ["generated/**"]
rules:
  single-replica: off
  latest-tag: error
  host-port: off               # the organisation's own no-host-port, an error in some repositories
customRules:
  - id: require-team-label
    severity: error
    summary: Workloads carry a team label
    message: every workload names its owning team in metadata.labels.team
    kinds: [Deployment, StatefulSet, DaemonSet]
    target: object
    schema:
      properties:
        metadata:
          required: [labels]
          properties:
            labels: {required: [team]}
  - id: no-host-port
    severity: warning
    summary: Containers open no host port
    message: a host port ties the pod to one port of one node
    target: container
    schema:
      properties:
        ports: {items: {not: {required: [hostPort]}}}
"""

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: app
        image: example/{name}:latest
        imagePullPolicy: Always
        lifecycle: {{preStop: {{sleep: {{seconds: 5}}}}}}
        ports:
        - {{containerPort: 80, hostPort: 80}}
"""


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "org.yaml").write_text(PACK)
    return tmp_path


def repository(org: Path, name: str, config: str) -> Path:
    repo = org / name
    (repo / "deploy").mkdir(parents=True)
    make_git_folder(repo)
    (repo / ".k8slint.yaml").write_text(config)
    (repo / "deploy" / "app.yaml").write_text(APP.format(name=name))
    (repo / "generated").mkdir()
    (repo / "generated" / "app.yaml").write_text(APP.format(name=name + "-generated"))
    return repo


def findings(out: str) -> list[str]:
    """``file:line:column severity rule`` of each finding of a text report."""
    return [" ".join(line.split()[:3]) for line in out.splitlines()[:-1]]


def test_a_pack_extended_by_two_repositories(capsys, org, monkeypatch):
    shop = repository(org, "shop", textwrap.dedent("""\
        extends: [../policies/org.yaml]
        rules:
          no-host-port: error        # stricter here
          latest-tag: warning        # the pack says error; this file is merged last
        customRules:
          - id: shop-owner
            severity: info
            summary: Shop workloads name an on-call rota
            message: shop workloads carry the oncall annotation
            target: object
            kinds: [Deployment]
            schema: {properties: {metadata: {required: [annotations]}}}
        """))
    blog = repository(org, "blog", textwrap.dedent("""\
        extends: [../policies/org.yaml]
        failOn: never
        exclude: ["vendor/**"]
        rules:
          require-team-label: off
        """))
    (blog / "vendor").mkdir()
    (blog / "vendor" / "app.yaml").write_text(APP.format(name="vendored"))

    monkeypatch.chdir(shop)
    code, out, err = run(capsys, "check", ".")
    assert (code, err) == (1, "")
    # The pack's exclude (relative to the repository's config) leaves generated/ out; the
    # pack's custom rules, the repository's own, and the severities merged by rule id.
    assert findings(out) == [
        "deploy/app.yaml:3:1: info shop-owner",
        "deploy/app.yaml:5:3: error require-team-label",
        "deploy/app.yaml:14:9: warning latest-tag",
        "deploy/app.yaml:18:11: error no-host-port",
    ]

    monkeypatch.chdir(blog)
    code, out, err = run(capsys, "check", ".")
    # failOn: never (the later file wins); excludes from both files; the pack's rules
    # without the one this repository turns off, at the pack's severities.
    assert (code, err) == (0, "")
    assert findings(out) == [
        "deploy/app.yaml:14:9: error latest-tag",
        "deploy/app.yaml:18:11: warning no-host-port",
    ]
    # Both repositories list the pack's rules as custom rules from the pack.
    listed = {r["id"]: r for r in json.loads(run(capsys, "rules", "--format", "json")[1])}
    assert (listed["no-host-port"]["definedIn"], listed["require-team-label"]["enabled"]) == (
        "../policies/org.yaml", False)
    monkeypatch.chdir(shop)
    listed = {r["id"]: r for r in json.loads(run(capsys, "rules", "--format", "json")[1])}
    assert [(r["id"], r["definedIn"], r["effectiveSeverity"]) for r in listed.values() if r["custom"]] == [
        ("require-team-label", "../policies/org.yaml", "error"),
        ("no-host-port", "../policies/org.yaml", "error"),
        ("shop-owner", ".k8slint.yaml", "info"),
    ]


def test_packs_extend_packs_depth_first_and_a_shared_base_is_merged_once(capsys, org, monkeypatch):
    policies = org / "policies"
    (policies / "base.yaml").write_text("failOn: info\nrules: {latest-tag: info, no-host-port: info}\n")
    (policies / "team.yaml").write_text("extends: [base.yaml]\nrules: {latest-tag: warning}\n")
    (policies / "org.yaml").write_text("extends: [base.yaml]\n" + PACK.replace("failOn: error", "failOn: never"))
    repo = repository(org, "shop", "extends: [../policies/org.yaml, ../policies/team.yaml]\n")
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "check", "deploy")
    # Merged: base, org, team (base is not merged again), then the repository's file. So
    # latest-tag is team's warning; no-host-port keeps base's info (a custom rule's own
    # severity is its default, which rules: of any file overrides); failOn is org's never,
    # which a second merge of base would have turned back into info.
    assert findings(out) == [
        "deploy/app.yaml:5:3: error require-team-label",
        "deploy/app.yaml:14:9: warning latest-tag",
        "deploy/app.yaml:18:11: info no-host-port",
    ]
    assert code == 0


@pytest.mark.parametrize(("files", "error"), [
    ({".k8slint.yaml": "extends: [../policies/missing.yaml]\n"},
     ".k8slint.yaml:1:11: extends[0]: cannot read ../policies/missing.yaml: No such file or directory "
     "(extends paths are relative to .k8slint.yaml)"),
    ({".k8slint.yaml": "extends:\n  - .k8slint.yaml\n"},
     ".k8slint.yaml:2:5: extends[0]: .k8slint.yaml extends itself: .k8slint.yaml -> .k8slint.yaml; "
     "remove one of these extends"),
    ({".k8slint.yaml": "extends: [packs/a.yaml]\n", "packs/a.yaml": "extends: [b.yaml]\n",
      "packs/b.yaml": "rules: {latest-tag: off}\nextends:\n  - ./a.yaml\n"},
     "packs/b.yaml:3:5: extends[0]: ./a.yaml extends itself: .k8slint.yaml -> packs/a.yaml -> "
     "packs/b.yaml -> packs/a.yaml; remove one of these extends"),
    ({".k8slint.yaml": "extends: [packs/a.yaml]\n", "packs/a.yaml": "failOn: sometimes\n"},
     'packs/a.yaml:1:1: failOn: expected error, warning, info or never, got "sometimes"'),
    ({".k8slint.yaml": "extends: packs/a.yaml\n"},
     '.k8slint.yaml:1:1: extends: expected a list of config files (policy packs) to merge first, '
     'relative to this file, got "packs/a.yaml"'),
    ({".k8slint.yaml": "extends: [../policies/org.yaml]\ncustomRules:\n  - id: no-host-port\n"
                       "    severity: info\n    summary: s\n    message: m\n    target: object\n"
                       "    schema: true\n"},
     ".k8slint.yaml:3:5: customRules[0].id: custom rule 'no-host-port' is defined twice (first at "
     "../policies/org.yaml:21:5); give one of them another id"),
    ({".k8slint.yaml": "extends: [packs/a.yaml]\n", "packs/a.yaml": "rules: {no-such-rule: off}\n"},
     "packs/a.yaml:1:9: unknown rule 'no-such-rule'; see `k8slint rules`"),
])
def test_pack_errors_name_the_file_and_line(capsys, org, monkeypatch, files, error):
    repo = repository(org, "shop", "")
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "check", "deploy")
    assert (code, out) == (2, "")
    assert err == f"k8slint: config error: {error}\n"


def test_a_rule_id_from_another_pack_is_known_to_rules(capsys, org, monkeypatch):
    """``rules:`` of one file may set a custom rule that another file of the chain defines."""
    repo = repository(org, "shop", "rules: {no-host-port: off}\nextends: [../policies/org.yaml]\n")
    monkeypatch.chdir(repo)
    assert "no-host-port" not in run(capsys, "check", "deploy")[1]


def test_the_validation_cache_covers_the_packs(capsys, org, monkeypatch):
    """A pack edited after a repository's config validated is validated again."""
    repo = repository(org, "shop", "extends: [../policies/org.yaml]\n")
    monkeypatch.chdir(repo)
    assert run(capsys, "check", "deploy")[0] == 1
    (org / "policies" / "org.yaml").write_text(PACK.replace("severity: warning", "severity: loud"))
    code, _, err = run(capsys, "check", "deploy")
    assert code == 2
    assert err == ('k8slint: config error: ../policies/org.yaml:22:5: customRules[1].severity: '
                   'expected error, warning or info, got "loud"\n')


def test_a_pack_inside_the_tree_is_not_linted_as_a_manifest(capsys, org, monkeypatch):
    repo = repository(org, "shop", "extends: [policy/pack.yaml]\n")
    (repo / "policy").mkdir()
    (repo / "policy" / "pack.yaml").write_text(PACK)
    monkeypatch.chdir(repo)
    out = run(capsys, "check", ".")[1]
    assert out.splitlines()[-1].endswith("in 1 of 1 file; 1 document, 1 object checked.")


def test_extends_is_relative_to_the_extending_file_not_the_working_folder(capsys, org, monkeypatch):
    repo = repository(org, "shop", "extends: [../policies/org.yaml]\n")
    monkeypatch.chdir(repo / "deploy")
    out = run(capsys, "check", "app.yaml")[1]
    assert "app.yaml:5:3: error require-team-label" in out


@pytest.mark.parametrize("target, reason", [
    ("fifo.yaml", "not a regular file (a folder, FIFO, socket or device)"),
    ("/dev/zero.yaml", "No such file or directory"),
    ("big.yaml", "larger than the 1024 KiB a config may be"),
    ("folder.yaml", "not a regular file (a folder, FIFO, socket or device)"),
])
def test_extends_reads_only_bounded_regular_files(capsys, tmp_path, monkeypatch, target, reason):
    import os

    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "big.yaml").write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / ".k8slint.yaml").write_text(f'extends: ["{target}"]\n')
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "cm.yaml")
    assert (code, out) == (2, "")
    assert err.startswith(f"k8slint: config error: .k8slint.yaml:1:11: extends[0]: cannot read {target}: {reason}")


def test_extends_names_only_yaml_files_and_errors_never_print_a_files_contents(capsys, tmp_path,
                                                                                monkeypatch):
    (tmp_path / "credentials").write_text("https://bot:ghp_SECRET@github.com\n")
    (tmp_path / "token.yaml").write_text("https://bot:ghp_" + "S" * 200 + "@github.com\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".k8slint.yaml").write_text('extends: ["credentials"]\n')
    code, _out, err = run(capsys, "check", "cm.yaml")
    assert (code, err) == (2, "k8slint: config error: .k8slint.yaml:1:11: extends[0]: credentials is "
                               "not a config file: packs are YAML files (.yaml, .yml)\n")
    (tmp_path / ".k8slint.yaml").write_text('extends: ["token.yaml"]\n')
    code, _out, err = run(capsys, "check", "cm.yaml")
    assert code == 2 and "ghp_SSSS" in err and "S" * 100 not in err

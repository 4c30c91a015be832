"""Custom rules (``customRules``): where findings point, what they say, and that every part
of k8slint (suppressions, baselines, SARIF, the compact report, --enable/--disable, rules,
explain) treats them as it treats a built-in rule."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from .helpers import REPO, SARIF_SCHEMA, make_git_folder, run

TEAM_LABEL = """\
  - id: require-team-label
    severity: error
    summary: Workloads carry a team label
    message: every workload names its owning team in metadata.labels.team
    kinds: [Deployment, StatefulSet, DaemonSet]
    target: object
    schema:
      type: object
      required: [metadata]
      properties:
        metadata:
          required: [labels]
          properties:
            labels: {required: [team]}
"""

NO_HOST_PORT = """\
  - id: no-host-port
    severity: warning
    summary: Containers open no host port
    message: a host port ties the pod to one port of one node
    target: container
    schema:
      properties:
        ports:
          items:
            not: {required: [hostPort]}
"""

REGISTRY = """\
  - id: approved-registry
    severity: error
    summary: Images come from the company registry
    message: images come from registry.example.com
    target: container
    containers: app
    schema:
      properties:
        image: {type: string, pattern: "^registry\\\\.example\\\\.com/"}
"""

SERVICE_ACCOUNT = """\
  - id: require-service-account
    severity: warning
    summary: Pods name their service account
    message: a pod names the service account it runs as
    kinds: [Deployment]
    target: podSpec
    schema:
      required: [serviceAccountName]
"""

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: web
        image: registry.example.com/web:1.0
        ports:
        - containerPort: 8080
          hostPort: 8080
        - containerPort: 9090
      - name: proxy
        image: envoyproxy/envoy:v1.30
        ports:
        - {containerPort: 80, hostPort: 80}
"""

OTHERS = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  labels: {team: data}
spec:
  template:
    spec:
      containers:
      - name: db
        image: registry.example.com/db:2.0
---
apiVersion: apps/v1
kind: DaemonSet
spec:
  template:
    spec:
      containers:
      - name: agent
        image: registry.example.com/agent:3.0
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_git_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))  # outside the tree
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "web.yaml").write_text(WEB)
    (tmp_path / "deploy" / "others.yaml").write_text(OTHERS)
    return tmp_path


def config(repo: Path, *rules: str, extra: str = "", name: str = ".k8slint.yaml") -> Path:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(extra + "customRules:\n" + "".join(rules))
    return path


def lines_of(out: str, *rules: str) -> list[str]:
    """The text report's lines of the given rules, in report order."""
    return [line for line in out.splitlines() if len(line.split()) > 2 and line.split()[2] in rules]


# --- the shapes the issue names ---------------------------------------------------------------


def test_a_required_failure_two_levels_deep_points_at_the_deepest_existing_key(capsys, repo):
    config(repo, TEAM_LABEL)
    code, out, err = run(capsys, "check", "deploy")
    assert (code, err) == (1, "")
    assert lines_of(out, "require-team-label") == [
        # The DaemonSet has no metadata at all: the object's first line.
        "deploy/others.yaml:21:1: error require-team-label every workload names its owning team in "
        "metadata.labels.team (missing metadata)",
        # metadata.labels exists without team: the labels key.
        "deploy/web.yaml:5:3: error require-team-label every workload names its owning team in "
        "metadata.labels.team (missing metadata.labels.team)",
    ]


def test_the_same_required_failure_one_level_up_points_at_metadata(capsys, repo):
    config(repo, TEAM_LABEL)
    (repo / "deploy" / "web.yaml").write_text(WEB.replace("  labels:\n    app: web\n", ""))
    out = run(capsys, "check", "deploy/web.yaml")[1]
    assert lines_of(out, "require-team-label") == [
        "deploy/web.yaml:3:1: error require-team-label every workload names its owning team in "
        "metadata.labels.team (missing metadata.labels)",
    ]


def test_a_not_on_list_items_points_at_each_failing_item(capsys, repo):
    config(repo, NO_HOST_PORT)
    out = run(capsys, "check", "deploy")[1]
    assert lines_of(out, "no-host-port") == [
        "deploy/web.yaml:17:11: warning no-host-port a host port ties the pod to one port of one node "
        "(ports[0] must not set hostPort)",
        # A flow-style item: its first character.
        "deploy/web.yaml:23:11: warning no-host-port a host port ties the pod to one port of one node "
        "(ports[0] must not set hostPort)",
    ]


def test_a_rule_limited_to_kinds_visits_only_those(capsys, repo):
    config(repo, TEAM_LABEL, SERVICE_ACCOUNT)
    out = run(capsys, "check", "deploy")[1]
    # The Service carries no team label either, and the StatefulSet and DaemonSet name no
    # service account: neither rule visits them.
    assert [line.split(" ", 1)[0] + " " + line.split()[2] for line in
            lines_of(out, "require-team-label", "require-service-account")] == [
        "deploy/others.yaml:21:1: require-team-label",
        "deploy/web.yaml:5:3: require-team-label",
        "deploy/web.yaml:9:5: require-service-account",
    ]
    assert lines_of(out, "require-service-account") == [
        "deploy/web.yaml:9:5: warning require-service-account a pod names the service account it runs as "
        "(missing serviceAccountName)",
    ]


def test_a_container_rule_for_app_containers_and_for_all(capsys, repo):
    config(repo, REGISTRY)
    out = run(capsys, "check", "deploy")[1]
    assert lines_of(out, "approved-registry") == [
        'deploy/web.yaml:21:9: error approved-registry images come from registry.example.com '
        '(image "envoyproxy/envoy:v1.30" does not match ^registry\\.example\\.com/)',
    ]
    config(repo, REGISTRY.replace("containers: app", "containers: all"))
    out = run(capsys, "check", "deploy")[1]
    assert [line.split(" ", 1)[0] for line in lines_of(out, "approved-registry")] == [
        "deploy/web.yaml:12:9:", "deploy/web.yaml:21:9:"]


def test_an_invalid_schema_is_a_config_error_at_its_line(capsys, repo):
    config(repo, TEAM_LABEL.replace("required: [labels]", "required: labels"))
    code, out, err = run(capsys, "check", "deploy")
    assert (code, out) == (2, "")
    assert err == ("k8slint: config error: .k8slint.yaml:13:11: customRules[0].schema.properties.metadata."
                   "required: not a valid JSON Schema: \"labels\" is not of type \"array\"\n")


# --- positions and messages of other failures -----------------------------------------------------


DEEP = """\
  - id: shaped
    severity: info
    summary: Shapes
    message: the object has the agreed shape.
    target: object
    kinds: [ConfigMap]
    schema:
      properties:
        metadata:
          properties:
            labels:
              additionalProperties: {type: string}
              propertyNames: {pattern: "^[a-z]"}
            annotations: false
        data:
          additionalProperties: false
          properties:
            mode: {enum: [fast, safe]}
            size:
              anyOf:
                - {type: string, pattern: "^[0-9]+Mi$"}
                - {type: object, required: [value], properties: {value: {type: integer}}}
            owner:
              anyOf:
                - {required: [team]}
                - {required: [person]}
"""

SHAPES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: shapes
  labels:
    Tier: web
    "1": 5
  annotations: {a: b}
data:
  mode: quick
  size: {value: big}
  owner: {}
  extra: yes
"""


def test_each_kind_of_failure_points_at_its_key_once(capsys, repo):
    config(repo, DEEP)
    (repo / "deploy" / "shapes.yaml").write_text(SHAPES)
    out = run(capsys, "check", "deploy/shapes.yaml")[1]
    message = "info shaped the object has the agreed shape"
    assert lines_of(out, "shaped") == [
        # propertyNames: at the offending key.
        f'deploy/shapes.yaml:6:5: {message} (key "Tier" does not match ^[a-z])',
        # A label key that reads as a number is still a key, not a list index; two failures
        # at one place make one finding.
        f'deploy/shapes.yaml:7:5: {message} (metadata.labels.1 is 5, not of type string; '
        f'key "1" does not match ^[a-z])',
        f"deploy/shapes.yaml:8:3: {message} (metadata.annotations is not allowed)",
        f'deploy/shapes.yaml:10:3: {message} (data.mode is "quick", not one of "fast", "safe")',
        # anyOf: the alternative that got furthest into the value is the one reported.
        f'deploy/shapes.yaml:11:10: {message} (data.size.value is "big", not of type integer)',
        # anyOf of two required: either key would do.
        f"deploy/shapes.yaml:12:3: {message} (missing data.owner.team or data.owner.person)",
        # additionalProperties: at the key that is not allowed.
        f"deploy/shapes.yaml:13:3: {message} (data.extra is not an allowed key)",
    ]


def test_a_pod_spec_rule_at_the_pod_spec_root_points_at_its_key(capsys, repo):
    config(repo, SERVICE_ACCOUNT.replace("kinds: [Deployment]", "kinds: [CronJob]"))
    (repo / "deploy" / "job.yaml").write_text(textwrap.dedent("""\
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          schedule: "0 3 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers: [{name: job, image: registry.example.com/job:1}]
        """))
    out = run(capsys, "check", "deploy/job.yaml")[1]
    assert [line.split(" ", 1)[0] for line in lines_of(out, "require-service-account")] == [
        "deploy/job.yaml:9:9:"]


def test_odd_data_is_judged_as_the_api_server_reads_it_never_a_traceback(capsys, repo):
    config(repo, """\
  - id: text-labels
    severity: warning
    summary: Label values are text
    message: label values are text
    target: object
    schema:
      properties:
        metadata:
          properties:
            labels: {additionalProperties: {type: string}}
        spec:
          properties:
            loop: {type: object}
""")
    (repo / "deploy" / "odd.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: odd
          labels:
            7: x
            ok: 8
        spec:
          loop: &a [*a]
        """))
    code, out, err = run(capsys, "check", "deploy/odd.yaml")
    assert (code, err) == (1, "")
    assert lines_of(out, "text-labels") == [
        "deploy/odd.yaml:7:5: warning text-labels label values are text (metadata.labels.ok is 8, not of type string)",
        "deploy/odd.yaml:9:3: warning text-labels label values are text (spec.loop is [null], not of type object)",
    ]


# --- config errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("rules", "errors"), [
    (TEAM_LABEL.replace("require-team-label", "host-network"),
     [".k8slint.yaml:2:5: customRules[0].id: 'host-network' is the id of a built-in rule of k8slint "
      "0.1.0; give the custom rule another id"]),
    (TEAM_LABEL.replace("target: object", "target: pod"),
     ['.k8slint.yaml:7:5: customRules[0].target: expected object, podSpec or container, got "pod"']),
    (TEAM_LABEL.replace("    target: object\n", ""),
     [".k8slint.yaml:2:5: customRules[0]: target is missing: object, podSpec or container"]),
    (TEAM_LABEL.replace("require-team-label", "Team_Label"),
     ['.k8slint.yaml:2:5: customRules[0].id: expected lowercase words joined by hyphens, such as '
      'require-team-label, got "Team_Label"']),
    (TEAM_LABEL.replace("target: object", "target: podSpec\n    containers: app"),
     [".k8slint.yaml:8:5: customRules[0].containers: only a rule with target: container chooses containers"]),
    (SERVICE_ACCOUNT.replace("kinds: [Deployment]", "kinds: [Deployment, Service]"),
     [".k8slint.yaml:6:25: customRules[0].kinds[1]: Service has no pod spec k8slint knows, so a podSpec "
      "rule never visits it; pod specs are in CronJob, DaemonSet, Deployment, DeploymentConfig, Job, Pod, "
      "PodTemplate, ReplicaSet, ReplicationController, Rollout, ScaledJob, StatefulSet"]),
    (TEAM_LABEL.replace("    severity: error\n", "    severity: error\n    kind: Deployment\n"),
     [".k8slint.yaml:4:5: unknown key 'kind': expected containers, fix, id, kinds, message, references, "
      "schema, severity, summary, target, why"]),
    (TEAM_LABEL + TEAM_LABEL.replace("severity: error", "severity: info"),
     [".k8slint.yaml:16:5: customRules[1].id: custom rule 'require-team-label' is defined twice (first "
      "at .k8slint.yaml:2:5); give one of them another id"]),
    (NO_HOST_PORT.replace("not: {required: [hostPort]}", "{$ref: '#/$defs/port'}"),
     [".k8slint.yaml:11:14: customRules[0].schema.properties.ports.items.$ref: not a valid JSON Schema: "
      "Pointer '/$defs/port' does not exist"]),
    (NO_HOST_PORT.replace("not: {required: [hostPort]}", "{$ref: 'https://example.com/port.json'}"),
     [".k8slint.yaml:11:14: customRules[0].schema.properties.ports.items.$ref: not a valid JSON Schema: "
      "Resource 'https://example.com/port.json' is not present in a registry and retrieving it failed: "
      "Retrieval is disabled, cannot fetch https://example.com/port.json"]),
    (REGISTRY.replace("image: {type: string,", "1: {type: string}\n        image: {type: string,"),
     [".k8slint.yaml:10:9: customRules[0].schema.properties[1]: not a valid JSON Schema: the key 1 is not "
      "text, and a JSON Schema's keys are: quote it ('1')"]),
    (REGISTRY.replace('pattern: "^registry', 'pattern: "(^registry'),
     ['.k8slint.yaml:10:31: customRules[0].schema.properties.image.pattern: not a valid JSON Schema: '
      '"(^registry\\\\.example\\\\.com/" is not a "regex"']),
])
def test_custom_rule_config_errors_name_their_line(capsys, repo, rules, errors):
    config(repo, rules)
    code, out, err = run(capsys, "check", "deploy")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"k8slint: config error: {e}" for e in errors]


def test_a_custom_id_a_later_k8slint_makes_built_in_is_refused_then(capsys, repo, monkeypatch):
    """The validation cache keys on k8slint's rule ids: a config validated by the k8slint
    of today is validated again by one that knows a built-in rule of the same id."""
    from k8slint import catalog
    from k8slint import config as config_module

    config(repo, SERVICE_ACCOUNT)
    assert run(capsys, "check", "deploy")[0] == 1  # validated and remembered
    later = {**catalog.rule_index(), "require-service-account": catalog.RuleBrief(
        "require-service-account", "warning", True, None)}
    monkeypatch.setattr(config_module, "rule_index", lambda: later)
    code, out, err = run(capsys, "check", "deploy")
    assert (code, out) == (2, "")
    assert err == ("k8slint: config error: .k8slint.yaml:2:5: customRules[0].id: 'require-service-account' "
                   "is the id of a built-in rule of k8slint 0.1.0; give the custom rule another id\n")


def test_rules_may_set_a_custom_rules_severity_but_no_params(capsys, repo):
    config(repo, TEAM_LABEL, extra="rules:\n  require-team-label: info\n")
    out = run(capsys, "check", "deploy")[1]
    assert {line.split()[1] for line in lines_of(out, "require-team-label")} == {"info"}
    config(repo, TEAM_LABEL, extra="rules:\n  require-team-label: {params: {x: 1}}\n")
    assert run(capsys, "check", "deploy")[2] == (
        "k8slint: config error: .k8slint.yaml:2:24: rule 'require-team-label' takes no params\n")


# --- the rest of k8slint treats them as built-in rules ---------------------------------------------


def test_enable_and_disable_a_custom_rule(capsys, repo):
    config(repo, TEAM_LABEL, NO_HOST_PORT, extra="rules:\n  no-host-port: off\n")
    out = run(capsys, "check", "deploy", "--disable", "require-team-label")[1]
    assert lines_of(out, "require-team-label", "no-host-port") == []
    out = run(capsys, "check", "deploy", "--enable", "no-host-port")[1]
    assert [line.split()[1:3] for line in lines_of(out, "require-team-label", "no-host-port")] == [
        ["error", "require-team-label"], ["error", "require-team-label"],
        ["warning", "no-host-port"], ["warning", "no-host-port"]]
    code, out, err = run(capsys, "check", "deploy", "--disable", "require-team-labl")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "Error: Invalid value for '--disable': unknown rule 'require-team-labl'; did you mean require-team-label?")


def test_suppressed_by_annotation_and_by_comment(capsys, repo):
    config(repo, TEAM_LABEL, NO_HOST_PORT)
    (repo / "deploy" / "web.yaml").write_text(
        WEB.replace("  labels:\n", "  annotations:\n    ignore-check.k8slint.io/require-team-label: "
                                   "\"owned by the platform team\"\n  labels:\n")
           .replace("        - containerPort: 8080\n",
                    "        # k8slint: ignore=no-host-port the node's port is the product\n"
                    "        - containerPort: 8080\n"))
    code, out, _ = run(capsys, "check", "deploy/web.yaml", "--format", "json", "--show-suppressed")
    assert code == 1  # the proxy's host port is not suppressed
    report = json.loads(out)
    custom = [(f["rule"], f["line"], f["column"], (f.get("suppressed") or {}).get("justification"))
              for f in report["findings"] if f["rule"] in ("require-team-label", "no-host-port")]
    assert custom == [
        ("require-team-label", 7, 3, "owned by the platform team"),
        ("no-host-port", 20, 11, "the node's port is the product"),  # the comment is on line 19
        ("no-host-port", 26, 11, None),
    ]
    # Neither suppression is reported unused, nor as naming an unknown rule.
    assert [f for f in report["findings"] if f["rule"] == "unused-suppression"] == []


def test_an_unused_suppression_of_a_custom_rule_is_reported_as_unused(capsys, repo):
    config(repo, NO_HOST_PORT)
    (repo / "deploy" / "web.yaml").write_text(WEB.replace(
        "      - name: proxy\n", "      # k8slint: ignore=no-host-port the proxy needs it\n      - name: proxy\n"))
    out = run(capsys, "check", "deploy/web.yaml")[1]
    assert lines_of(out, "unused-suppression") == [
        "deploy/web.yaml:20:7: info unused-suppression # k8slint: ignore=no-host-port silences nothing "
        "here: the finding it was written for is gone; remove it"]


def test_in_a_baseline(capsys, repo):
    config(repo, TEAM_LABEL, NO_HOST_PORT)
    code, out, _ = run(capsys, "check", "deploy", "--write-baseline", "baseline.json")
    assert code == 1
    entries = json.loads((repo / "baseline.json").read_text())["findings"]
    assert [(e["rule"], e["file"], e["kind"], e["name"], e["path"]) for e in entries
            if e["rule"] in ("require-team-label", "no-host-port")] == [
        ("no-host-port", "deploy/web.yaml", "Deployment", "web", "spec.template.spec.containers[proxy].ports[0]"),
        ("no-host-port", "deploy/web.yaml", "Deployment", "web", "spec.template.spec.containers[web].ports[0]"),
        ("require-team-label", "deploy/others.yaml", "DaemonSet", "*#1", ""),
        ("require-team-label", "deploy/web.yaml", "Deployment", "web", "metadata.labels"),
    ]
    code, out, _ = run(capsys, "check", "deploy", "--baseline", "baseline.json")
    assert code == 0 and out.endswith("known from the baseline.\n")
    # A new failure of a custom rule is new to the baseline.
    (repo / "deploy" / "web.yaml").write_text(WEB.replace("- containerPort: 9090", "- containerPort: 9090\n          hostPort: 9090"))
    code, out, _ = run(capsys, "check", "deploy", "--baseline", "baseline.json")
    assert code == 1
    assert [line.split(" ", 1)[0] for line in out.splitlines()[:-1]] == ["deploy/web.yaml:19:11:"]


def test_sarif_describes_custom_rules_and_validates(capsys, repo):
    config(repo, TEAM_LABEL.replace("    target: object\n", "    target: object\n    why: Alerts go to "
                                    "the team.\n    fix: Add the label.\n    references: "
                                    "[\"https://example.com/labels\"]\n"), NO_HOST_PORT)
    code, out, _ = run(capsys, "check", "deploy", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
    assert errors == []
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    by_id = {rule["id"]: (i, rule) for i, rule in enumerate(rules)}
    i, team = by_id["require-team-label"]
    assert team["shortDescription"] == {"text": "Workloads carry a team label"}
    assert team["fullDescription"] == {"text": "Alerts go to the team."}
    assert team["help"]["text"] == "Alerts go to the team.\n\nFix: Add the label."
    assert "Custom rule from `.k8slint.yaml`; the JSON Schema it applies:" in team["help"]["markdown"]
    assert team["helpUri"] == "https://example.com/labels"
    assert team["defaultConfiguration"] == {"level": "error"}
    assert team["properties"] == {"tags": ["custom"], "precision": "high"}
    assert by_id["no-host-port"][1]["fullDescription"] == {"text": "a host port ties the pod to one port of one node"}
    results = [r for r in log["runs"][0]["results"] if r["ruleId"] == "require-team-label"]
    assert [(r["ruleIndex"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        (i, 21), (i, 5)]
    assert set(by_id) > {"require-team-label", "no-host-port", "latest-tag"}


def test_compact_report(capsys, repo):
    config(repo, NO_HOST_PORT)
    # Only the custom rule: the built-in host-port reports the same ports, and the sample
    # Deployment leaves out its selector.
    quiet = [arg for rule in ("missing-prestop-hook", "missing-image-pull-policy", "single-replica",
                              "missing-termination-grace-period", "latest-tag", "implicit-docker-hub",
                              "host-port", "missing-required-field")
             for arg in ("--disable", rule)]
    out = run(capsys, "check", "deploy/web.yaml", "--compact", *quiet)[1]
    assert out == textwrap.dedent("""\
        deploy/
          web.yaml Deployment web: 2× no-host-port: 17:11; 23:11
        Rules, with each message once: ‹1›, ‹2›… are the values after a finding's rule, ‹kind› and ‹name›
                its object's (k8slint explain RULE tells why and how to fix):
          no-host-port: warning, 2 findings at spec.template.spec.containers[*].ports[*]
            a host port ties the pod to one port of one node (ports[0] must not set hostPort)
        2 findings (0 errors, 2 warnings, 0 info) in 1 of 1 file; 1 document, 1 object checked.
                Compact: 6 lines for 2 findings.
        """)


def test_rules_and_explain_show_custom_rules_and_their_file(capsys, repo):
    config(repo, TEAM_LABEL, extra="rules:\n  require-team-label: warning\n")
    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert out.splitlines()[-1].split()[:2] == ["require-team-label", "warning"]
    assert out.splitlines()[-1].endswith("Workloads carry a team label [custom rule, .k8slint.yaml]")
    listed = {r["id"]: r for r in json.loads(run(capsys, "rules", "--format", "json")[1])}
    assert listed["require-team-label"] == {
        "id": "require-team-label", "severity": "error", "enabled": True, "effectiveSeverity": "warning",
        "summary": "Workloads carry a team label",
        "appliesTo": "`DaemonSet`, `Deployment`, `StatefulSet`", "tags": ["custom"],
        "securitySeverity": None, "custom": True, "definedIn": ".k8slint.yaml", "autofix": "none", "autofixAction": None}
    assert listed["latest-tag"]["custom"] is False and listed["latest-tag"]["definedIn"] is None
    code, out, _ = run(capsys, "explain", "require-team-label")
    assert code == 0
    assert out == textwrap.dedent("""\
        require-team-label (error, custom rule from .k8slint.yaml)

        Workloads carry a team label

        Applies to: `DaemonSet`, `Deployment`, `StatefulSet`

        Message:
          every workload names its owning team in metadata.labels.team

        Schema (JSON Schema, draft 2020-12 unless it says otherwise):
          type: object
          required:
          - metadata
          properties:
            metadata:
              required:
              - labels
              properties:
                labels:
                  required:
                  - team
        """)
    code, _, err = run(capsys, "explain", "require-team-lable")
    assert code == 2
    assert "unknown rule 'require-team-lable'; did you mean require-team-label?" in err
    assert "## require-team-label" in run(capsys, "rules", "--format", "markdown")[1]


def test_a_built_in_rule_is_explained_whatever_the_config(capsys, repo):
    (repo / ".k8slint.yaml").write_text("customRules: 3\n")
    assert run(capsys, "explain", "latest-tag")[0] == 0
    assert run(capsys, "rules")[0] == 2


def test_a_pool_of_workers_compiles_the_rules_and_finds_the_same(capsys, repo, monkeypatch):
    from k8slint import runner

    pools = []
    start_pool = runner._start_pool
    monkeypatch.setattr(runner, "_start_pool", lambda *args: pools.append(start_pool(*args)) or pools[-1])
    config(repo, TEAM_LABEL, NO_HOST_PORT, REGISTRY)
    padding = "".join(f"  key{i}: {'x' * 60}\n" for i in range(1200))  # ~80 KB a file
    for n in range(10):
        (repo / "deploy" / f"web{n}.yaml").write_text(
            WEB.replace("name: web\n", f"name: web{n}\n", 1)
            + f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: pad{n}}}\ndata:\n{padding}")
    one = run(capsys, "check", "deploy", "-j1", "--format", "json")[1]
    assert pools == []
    # --no-cache: the first run's results would be read back, and no worker started.
    two = run(capsys, "check", "deploy", "-j2", "--no-cache", "--format", "json")[1]
    assert len(pools) == 1 and pools[0] is not None  # the workers were handed the rules
    found = json.loads(one)["findings"]
    assert json.loads(two)["findings"] == found
    assert sum(f["rule"] == "no-host-port" for f in found) == 22


def test_a_run_with_custom_rules_does_not_import_jsonschema_once_validated(repo):
    config(repo, TEAM_LABEL, NO_HOST_PORT)
    probe = ("import sys; from k8slint.cli import main; code = main(['check', 'deploy']); "
             "print('jsonschema' in sys.modules, 'jsonschema_rs' in sys.modules, file=sys.stderr); "
             "sys.exit(code)")
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=repo)
            for _ in range(2)]
    assert [r.stderr.strip().splitlines()[-1] for r in runs] == ["True True", "False True"]
    assert [r.returncode for r in runs] == [1, 1]


def test_the_benchmarks_ten_rules_load_and_each_fires(capsys, repo):
    """The rules benchmarks/bench.py measures are real ones: each finds something here."""
    (repo / "deploy" / "all.yaml").write_text(textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: default}
        spec:
          replicas: 100
          template:
            spec:
              containers:
              - name: api
                image: docker.io/api:1
                ports: [{containerPort: 80, hostPort: 80}]
        """))
    code, out, err = run(capsys, "check", "--config", str(REPO / "benchmarks" / "custom-rules.yaml"),
                         "deploy/all.yaml")
    assert (code, err) == (1, "")
    fired = {line.split()[2] for line in out.splitlines()[:-1]}
    defined = {line.split(": ", 1)[1] for line in
               (REPO / "benchmarks" / "custom-rules.yaml").read_text().splitlines() if line.startswith("  - id: ")}
    assert len(defined) == 10
    assert defined <= fired


def test_rules_and_explain_never_print_a_control_character(capsys, repo):
    (repo / ".k8slint.yaml").write_text(
        'customRules:\n  - id: loud\n    severity: info\n    summary: "sum \\e[31mRED\\e[0m \\a"\n'
        '    message: "m"\n    why: "\\e[2J"\n    fix: "\\e]0;title\\a"\n    target: object\n'
        '    schema: {required: [metadata]}\n')
    for args in (("rules",), ("rules", "--format", "markdown"), ("explain", "loud")):
        code, out, _ = run(capsys, *args)
        assert code == 0
        assert "\x1b" not in out and "\x07" not in out, args
        assert "\\x1b[31mRED" in out or args[0] == "explain", args
    assert "\\x1b[2J" in run(capsys, "explain", "loud")[1]


def test_patterns_match_in_linear_time_and_backtracking_ones_are_refused(capsys, repo):
    import subprocess
    import sys

    (repo / ".k8slint.yaml").write_text(
        "customRules:\n  - id: words\n    severity: info\n    summary: s\n    message: m\n"
        "    target: object\n    schema:\n      properties:\n"
        "        metadata: {properties: {name: {pattern: '^(\\w+\\s?)*$'}}}\n")
    (repo / "deploy" / "long.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {'a' * 20000}!}}\n")
    # A backtracking engine would not come back from this value: a hang, not a slow run.
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", "deploy/long.yaml"],
                          capture_output=True, text=True, timeout=300)
    assert proc.stdout.startswith('deploy/long.yaml:3:12: info words m (metadata.name "aaaa')
    (repo / ".k8slint.yaml").write_text(
        "customRules:\n  - id: twice\n    severity: info\n    summary: s\n    message: m\n"
        "    target: object\n    schema: {properties: {kind: {pattern: '(a)\\1'}}}\n")
    code, out, err = run(capsys, "check", "deploy/long.yaml")
    assert (code, out) == (2, "")
    assert err.startswith("k8slint: config error: .k8slint.yaml:7:34: customRules[0].schema.properties.kind.pattern")


@pytest.mark.parametrize("field, value, expected", [
    ("summary", '"two\\nlines"', "one line (no line breaks) that says what the rule asks for"),
    ("message", '"  "', "one line, the text every finding of the rule starts with"),
    ("kinds", "[deployment]", "an object kind as the API spells it, such as Deployment"),
    ("references", "[javascript:alert(1)]", "a link (http:// or https://)"),
])
def test_custom_rule_texts_are_checked_when_the_config_loads(capsys, repo, field, value, expected):
    entry = {"id": "x", "severity": "info", "summary": "s", "message": "m", "target": "object",
             "schema": "{required: [metadata]}"}
    entry[field] = value
    (repo / ".k8slint.yaml").write_text("customRules:\n  - " + "\n    ".join(
        f"{key}: {text}" for key, text in entry.items()) + "\n")
    code, out, err = run(capsys, "check", "deploy/web.yaml")
    assert (code, out) == (2, "")
    assert f": expected {expected}, got " in err, err

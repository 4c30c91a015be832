"""The config file: each key, each error with its position, precedence of the flags."""

from __future__ import annotations

import subprocess
import sys

import pytest

from k8slint.cli import main

from .helpers import make_git_folder

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: example/app:latest
    imagePullPolicy: IfNotPresent
"""


def run(capsys, *args):
    # POD is a bare Pod with a latest image, the smallest failing manifest there is;
    # bare-pod and latest-tag are not what these tests are about.
    quiet = ["--disable", "bare-pod", "--disable", "latest-tag"]
    code = main([*args, *quiet] if args[:1] == ("check",) else list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(tmp_path, monkeypatch):
    make_git_folder(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "pod.yaml").write_text(POD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))  # outside the tree
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def rules_of(out: str) -> list[str]:
    return [line.split()[2] for line in out.splitlines()[:-1]]


def test_without_config_the_defaults_run(capsys, repo):
    code, out, _ = run(capsys, "check", "deploy")
    assert code == 1
    assert rules_of(out) == ["missing-prestop-hook", "latest-tag-drift"]


def test_rules_off_and_severity(capsys, repo):
    (repo / ".k8slint.yaml").write_text(
        "rules:\n  missing-prestop-hook: off\n  latest-tag-drift: info\n"
    )
    code, out, _ = run(capsys, "check", "deploy")
    assert code == 1
    assert out.splitlines()[0].split()[1:3] == ["info", "latest-tag-drift"]
    assert len(out.splitlines()) == 2


def test_config_found_from_a_subfolder_up_to_the_repository_root(capsys, repo, monkeypatch):
    (repo / ".k8slint.yaml").write_text("rules: {missing-prestop-hook: off, latest-tag-drift: off}\n")
    monkeypatch.chdir(repo / "deploy")
    assert run(capsys, "check", "pod.yaml")[:2] == (0, "No findings in 1 file; 1 document, 1 object checked.\n")


def test_config_above_the_repository_root_is_not_used(capsys, tmp_path, monkeypatch):
    (tmp_path / ".k8slint.yaml").write_text("rules: {latest-tag-drift: off}\n")
    inner = tmp_path / "repo"
    (inner / ".git").mkdir(parents=True)
    (inner / "pod.yaml").write_text(POD)
    monkeypatch.chdir(inner)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))  # outside the tree
    assert "latest-tag-drift" in rules_of(run(capsys, "check", "pod.yaml")[1])


def test_explicit_config_and_flags_override_it(capsys, repo):
    (repo / "team.yaml").write_text("rules: {missing-prestop-hook: off}\nfailOn: error\n")
    code, out, _ = run(capsys, "check", "--config", "team.yaml", "deploy")
    assert (code, rules_of(out)) == (1, ["latest-tag-drift"])
    code, out, _ = run(capsys, "check", "--config", "team.yaml", "--enable", "missing-prestop-hook",
                       "--disable", "latest-tag-drift", "deploy")
    assert (code, rules_of(out)) == (0, ["missing-prestop-hook"])  # a warning; failOn: error
    code, _, _ = run(capsys, "check", "--config", "team.yaml", "--fail-on", "warning",
                     "--enable", "missing-prestop-hook", "deploy")
    assert code == 1


def test_exclude_globs(capsys, repo):
    (repo / "vendor" / "x").mkdir(parents=True)
    (repo / "vendor" / "x" / "pod.yaml").write_text(POD)
    (repo / "charts" / "web" / "templates").mkdir(parents=True)
    (repo / "charts" / "web" / "templates" / "pod.yaml").write_text("{{ broken")
    (repo / ".k8slint.yaml").write_text('exclude: ["charts/**/templates/**", "vendor/**"]\n')
    code, out, _ = run(capsys, "check", ".")
    assert {line.split(":")[0] for line in out.splitlines()[:-1]} == {"deploy/pod.yaml"}
    # Named explicitly, as pre-commit does, an excluded file stays excluded.
    code, out, _ = run(capsys, "check", "vendor/x/pod.yaml")
    assert (code, out) == (0, "No Kubernetes objects found in 0 files, so nothing was checked.\n")


def test_params(capsys, repo):
    (repo / ".k8slint.yaml").write_text(
        "rules:\n  missing-termination-grace-period: {severity: error, params: {minimumSeconds: 30}}\n"
    )
    out = run(capsys, "check", "deploy")[1]
    assert out.splitlines()[0] == (
        "deploy/pod.yaml:6:3: error missing-termination-grace-period [fix*] terminationGracePeriodSeconds "
        "is 5, below the 30 s this repository sets as the least a clean shutdown needs "
        "(params.minimumSeconds); raise it"
    )


@pytest.mark.parametrize(
    "config, errors",
    [
        ("rules:\n  latest-tag-drfit: off\n",
         [".k8slint.yaml:2:3: unknown rule 'latest-tag-drfit'; did you mean 'latest-tag-drift'?"]),
        ("rules:\n  latest-tag-drift: of\n",
         [".k8slint.yaml:2:3: rules.latest-tag-drift: expected off, on, info, warning or error, "
          "or a mapping with severity and params, got \"of\""]),
        ("failOn: sometimes\n",
         ['.k8slint.yaml:1:1: failOn: expected error, warning, info or never, got "sometimes"']),
        ("exclude: vendor/**\n",
         ['.k8slint.yaml:1:1: exclude: expected a list of gitignore-style globs, got "vendor/**"']),
        ("exclude: [ok, '']\n",
         ['.k8slint.yaml:1:15: exclude[1]: expected a non-empty glob, got ""']),
        ("rule:\n  a: b\n",
         [".k8slint.yaml:1:1: unknown key 'rule': expected cache, customRules, exclude, extends, failOn, helm, kubernetesVersion, render, renderTimeout, rules"]),
        ("rules:\n  missing-termination-grace-period:\n    params: {minimumSecond: 3}\n",
         [".k8slint.yaml:3:14: unknown param 'minimumSecond' of rule "
          "'missing-termination-grace-period': expected minimumSeconds"]),
        ("rules:\n  missing-termination-grace-period:\n    params: {minimumSeconds: -3}\n",
         [".k8slint.yaml:3:14: rules.missing-termination-grace-period.params.minimumSeconds: "
          "-3 is less than the minimum of 1"]),
        ("rules:\n  latest-tag-drift:\n    params: {x: 1}\n",
         [".k8slint.yaml:3:5: rule 'latest-tag-drift' takes no params"]),
        ("rules: [a\n", [".k8slint.yaml:1:8: invalid YAML: while parsing a flow sequence: "
                         "did not find expected ',' or ']' (a '[' that is never closed)"]),
        ("- a\n- b\n", [".k8slint.yaml:1:1: expected a mapping with extends, rules, customRules, exclude, failOn, kubernetesVersion, render, renderTimeout, helm, cache, got [\"a\", \"b\"]"]),
        ("rules:\n  bogus: off\n  latest-tag-drift: maybe\n",
         [".k8slint.yaml:2:3: unknown rule 'bogus'; see `k8slint rules`",
          ".k8slint.yaml:3:3: rules.latest-tag-drift: expected off, on, info, warning or error, "
          "or a mapping with severity and params, got \"maybe\""]),
    ],
)
def test_config_errors_name_file_line_column_and_exit_2(capsys, repo, config, errors):
    (repo / ".k8slint.yaml").write_text(config)
    code, out, err = run(capsys, "check", "deploy")
    assert code == 2
    assert out == ""  # nothing is linted with a bad config
    assert err.splitlines() == [f"k8slint: config error: {e}" for e in errors]


def test_unreadable_config_path_is_exit_2(capsys, repo):
    code, out, err = run(capsys, "check", "--config", "missing.yaml", "deploy")
    assert (code, out) == (2, "")
    assert err.startswith("k8slint: config error: missing.yaml: cannot read the config: ")


def test_rules_command_shows_config(capsys, repo):
    (repo / ".k8slint.yaml").write_text("rules: {missing-prestop-hook: off, latest-tag-drift: info}\n")
    out = run(capsys, "rules")[1]
    by_id = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert (by_id["missing-prestop-hook"], by_id["latest-tag-drift"]) == ("off", "info")


def test_a_valid_config_is_validated_once(repo):
    """A second run with the same config needs no jsonschema: pre-commit stays fast."""
    (repo / ".k8slint.yaml").write_text("rules: {missing-prestop-hook: off}\n")
    probe = (
        "import sys; from k8slint.cli import main; code = main(['check', 'deploy']);"
        "print('jsonschema' in sys.modules, file=sys.stderr); sys.exit(code)"
    )
    env_runs = [
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=repo)
        for _ in range(2)
    ]
    assert [r.stderr.strip().splitlines()[-1] for r in env_runs] == ["True", "False"]
    assert [r.returncode for r in env_runs] == [1, 1]

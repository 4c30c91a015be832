"""The GitHub Action (action.yml and action/run_action.py), run here as the runner runs it.

The script gets the environment GitHub gives a composite action's step: GITHUB_ACTION_PATH,
RUNNER_TEMP, GITHUB_WORKSPACE (the working folder), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
GITHUB_ACTIONS=true, and the inputs as the INPUT_* variables action.yml maps them to.

Most tests put a stand-in for k8slint's environment under RUNNER_TEMP: a ``python`` that
records the arguments it was started with and writes the SARIF file it is asked for, so that
what the script hands to k8slint is checked byte for byte, hostile inputs included. The
end-to-end test (slow: it builds k8slint from this checkout into a fresh virtual environment,
with pip, from the package index) runs the real thing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from .helpers import REPO

SCRIPT = REPO / "action" / "run_action.py"
INSTALL_TIMEOUT = 900  # seconds: a virtual environment and a pip install from the index


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8slint_run_action", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


action = _load_script()


# --- the command line -------------------------------------------------------------------------

def _inputs(**given: str) -> Any:
    """Inputs as action.yml passes them: every one set, empty unless given."""
    env = {f"INPUT_{name.upper()}": "" for name in
           ("paths", "config", "fail_on", "category", "kubernetes_version", "args", "sarif_file")}
    env["INPUT_PATHS"] = "."  # action.yml's defaults
    env["INPUT_CATEGORY"] = "k8slint"
    env.update({f"INPUT_{name.upper()}": value for name, value in given.items()})
    return action.read_inputs(env)


def test_command_line_with_the_defaults() -> None:
    inputs = _inputs()
    assert action.build_command(inputs, Path("/runner/temp/k8slint.sarif")) == [
        "check", "--format", "github", "--report", "sarif:/runner/temp/k8slint.sarif",
        "--category", "k8slint", "--", ".",
    ]


def test_command_line_with_every_input() -> None:
    inputs = _inputs(paths="deploy/\ncharts/shop\n", config=".k8slint-ci.yaml", fail_on="warning",
                     category="manifests", kubernetes_version="1.31",
                     args="--disable single-replica --compact", sarif_file="out/k8slint.sarif")
    assert action.build_command(inputs, Path("/work/out/k8slint.sarif")) == [
        "check", "--format", "github", "--report", "sarif:/work/out/k8slint.sarif",
        "--category", "manifests", "--config", ".k8slint-ci.yaml", "--fail-on", "warning",
        "--kubernetes-version", "1.31", "--disable", "single-replica", "--compact",
        "--", "deploy/", "charts/shop",
    ]


def test_inputs_left_empty_fall_back_to_the_defaults() -> None:
    # `category: ""` or `paths: ""` in a workflow passes empty strings, not action.yml's defaults.
    inputs = _inputs(paths="", category="  ")
    assert inputs.paths == (".",)
    assert inputs.category == "k8slint"
    assert action.build_command(inputs, Path("/t/k.sarif"))[-2:] == ["--", "."]


def test_paths_are_one_per_line_and_keep_their_spaces() -> None:
    inputs = _inputs(paths="  deploy/my app/ \n\n-odd-name.yaml\r\nbase\n")
    assert inputs.paths == ("deploy/my app/", "-odd-name.yaml", "base")


def test_args_are_split_like_a_shell_but_never_run_by_one() -> None:
    inputs = _inputs(args="""--disable 'single-replica' --baseline "base line.json" $(id) `id` ;x""")
    assert inputs.args == ("--disable", "single-replica", "--baseline", "base line.json", "$(id)",
                           "`id`", ";x")


def test_args_that_do_not_split_are_an_input_error() -> None:
    with pytest.raises(action.ActionError, match="args input cannot be split"):
        _inputs(args="--disable 'single-replica")


def test_sarif_path_defaults_to_the_runner_temp_folder(tmp_path: Path) -> None:
    env = {"RUNNER_TEMP": str(tmp_path / "temp"), "GITHUB_WORKSPACE": str(tmp_path / "ws")}
    assert action.sarif_path(_inputs(), env, tmp_path / "ws") == tmp_path / "temp" / "k8slint.sarif"
    # Outside Actions (no RUNNER_TEMP): the workspace.
    env = {"GITHUB_WORKSPACE": str(tmp_path / "ws")}
    assert action.sarif_path(_inputs(), env, tmp_path / "ws") == tmp_path / "ws" / "k8slint.sarif"


def test_a_relative_sarif_path_is_in_the_workspace(tmp_path: Path) -> None:
    env = {"RUNNER_TEMP": str(tmp_path / "temp")}
    inputs = _inputs(sarif_file="reports/k8slint.sarif")
    assert action.sarif_path(inputs, env, tmp_path) == tmp_path / "reports" / "k8slint.sarif"


def test_a_sarif_path_with_a_line_break_is_refused(tmp_path: Path) -> None:
    for hostile in ("a\nfail-on=never.sarif", "a\rb.sarif", f"{tmp_path}/x\nsarif-file=/etc/passwd"):
        with pytest.raises(action.ActionError, match="must be one line"):
            action.sarif_path(_inputs(sarif_file=hostile), {"RUNNER_TEMP": str(tmp_path)}, tmp_path)


def test_an_output_value_with_a_line_break_is_refused(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    with pytest.raises(action.ActionError, match="must be one line"):
        action.write_output(str(outputs), "sarif-file", "/tmp/a\nother=1")
    assert not outputs.exists()


# --- runs of the script, with a stand-in for k8slint ------------------------------------------

# Records its arguments, then behaves as k8slint would for the run: writes the --report file
# (unless told not to) and exits with the code it is told to.
FAKE_PYTHON = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    args = sys.argv[1:]
    with open(os.environ["FAKE_K8SLINT_RECORD"], "w", encoding="utf-8") as stream:
        json.dump({{"argv": args, "cwd": os.getcwd(),
                   "summary": os.environ.get("GITHUB_STEP_SUMMARY")}}, stream)
    if not os.environ.get("FAKE_K8SLINT_NO_REPORT"):
        fmt, _, path = args[args.index("--report") + 1].partition(":")
        with open(path, "w", encoding="utf-8") as stream:
            stream.write('{{"version": "2.1.0", "runs": []}}')
    sys.exit(int(os.environ.get("FAKE_K8SLINT_EXIT", "1")))
    """)


def _base_env() -> dict[str, str]:
    """This process's environment without anything a real runner set (tests may run inside
    GitHub Actions): pip's settings, PATH and HOME stay."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "FAKE_K8SLINT_"))}


class Runner:
    """A scratch job: a workspace with one manifest, RUNNER_TEMP, the outputs and summary files."""

    def __init__(self, root: Path):
        self.root = root
        self.workspace = root / "workspace"
        self.temp = root / "runner-temp"
        self.outputs = root / "github-output"
        self.summary = root / "step-summary.md"
        self.record = root / "k8slint-args.json"
        (self.workspace / "deploy").mkdir(parents=True)
        self.temp.mkdir()
        self.outputs.touch()
        self.summary.touch()

    def env(self, **extra: str) -> dict[str, str]:
        env = _base_env()
        env.update(GITHUB_ACTIONS="true", GITHUB_ACTION_PATH=str(REPO), RUNNER_TEMP=str(self.temp),
                   GITHUB_WORKSPACE=str(self.workspace), GITHUB_OUTPUT=str(self.outputs),
                   GITHUB_STEP_SUMMARY=str(self.summary), FAKE_K8SLINT_RECORD=str(self.record),
                   INPUT_PATHS=".", INPUT_CATEGORY="k8slint", INPUT_CONFIG="", INPUT_FAIL_ON="",
                   INPUT_KUBERNETES_VERSION="", INPUT_ARGS="", INPUT_SARIF_FILE="")
        env.update(extra)
        return env

    def fake_k8slint(self) -> None:
        python = action.venv_python(self.temp / action.VENV_NAME)
        python.parent.mkdir(parents=True)
        python.write_text(FAKE_PYTHON.format(python=sys.executable), encoding="utf-8")
        python.chmod(0o755)

    def script(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=self.workspace,
                              env=self.env(**env), capture_output=True, text=True,
                              encoding="utf-8", timeout=timeout, check=False)

    def recorded(self) -> dict[str, Any]:
        recorded: dict[str, Any] = json.loads(self.record.read_text(encoding="utf-8"))
        return recorded

    @property
    def default_sarif(self) -> Path:
        return self.temp / "k8slint.sarif"


def _report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    assert lines[-1] == "", "the file ends with a line break"
    lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
            i += 1
    return outputs


only_posix = pytest.mark.skipif(os.name == "nt", reason="the stand-in k8slint is a script with a #! line")


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


@only_posix
def test_run_hands_k8slint_the_inputs_and_sets_the_output(runner: Runner) -> None:
    runner.fake_k8slint()
    result = runner.script(INPUT_PATHS="deploy", INPUT_FAIL_ON="warning")
    assert result.returncode == 1, _report(result)  # k8slint's exit code, passed on
    recorded = runner.recorded()
    assert recorded["argv"] == [
        "-I", "-m", "k8slint", "check", "--format", "github", "--report", f"sarif:{runner.default_sarif}",
        "--category", "k8slint", "--fail-on", "warning", "--", "deploy",
    ]
    assert recorded["cwd"] == str(runner.workspace)
    assert recorded["summary"] == str(runner.summary)  # k8slint writes the job summary itself
    text = runner.outputs.read_text(encoding="utf-8")
    assert re.fullmatch(r"sarif-file<<(ghadelimiter_[0-9a-f]{32})\n(.*)\n\1\n", text), text
    assert parse_outputs(text) == {"sarif-file": str(runner.default_sarif)}
    # The command line is in the log, for whoever reads why a step failed.
    assert f"k8slint check --format github --report sarif:{runner.default_sarif}" in result.stdout


@only_posix
def test_run_passes_exit_code_0_on(runner: Runner) -> None:
    runner.fake_k8slint()
    result = runner.script(FAKE_K8SLINT_EXIT="0")
    assert result.returncode == 0, _report(result)
    assert parse_outputs(runner.outputs.read_text(encoding="utf-8")) == {"sarif-file": str(runner.default_sarif)}


@only_posix
def test_a_relative_sarif_file_lands_in_the_workspace_in_a_new_folder(runner: Runner) -> None:
    runner.fake_k8slint()
    result = runner.script(INPUT_SARIF_FILE="reports/scan/k8slint.sarif")
    assert result.returncode == 1, _report(result)
    sarif = runner.workspace / "reports" / "scan" / "k8slint.sarif"
    assert sarif.is_file()
    assert parse_outputs(runner.outputs.read_text(encoding="utf-8")) == {"sarif-file": str(sarif)}


HOSTILE_CATEGORY = "evil\n::error::injected\n$(touch pwned-category); rm -rf ."
HOSTILE_PATHS = "deploy\n; rm -rf .\n$(touch pwned-path)\n`touch pwned-tick`\n--help"
HOSTILE_ARGS = "--disable single-replica '; touch pwned-args' \"$(touch pwned-args2)\""


@only_posix
def test_hostile_inputs_are_data_not_code(runner: Runner) -> None:
    runner.fake_k8slint()
    result = runner.script(INPUT_CATEGORY=HOSTILE_CATEGORY, INPUT_PATHS=HOSTILE_PATHS,
                           INPUT_ARGS=HOSTILE_ARGS, INPUT_CONFIG="$(touch pwned-config)",
                           INPUT_KUBERNETES_VERSION="1.31; touch pwned-version")
    assert result.returncode == 1, _report(result)
    assert runner.recorded()["argv"] == [
        "-I", "-m", "k8slint", "check", "--format", "github", "--report", f"sarif:{runner.default_sarif}",
        "--category", HOSTILE_CATEGORY,
        "--config", "$(touch pwned-config)", "--kubernetes-version", "1.31; touch pwned-version",
        "--disable", "single-replica", "; touch pwned-args", "$(touch pwned-args2)",
        "--", "deploy", "; rm -rf .", "$(touch pwned-path)", "`touch pwned-tick`", "--help",
    ]
    # Nothing ran, nothing was removed.
    assert sorted(p.name for p in runner.workspace.iterdir()) == ["deploy"]
    assert not list(runner.root.glob("**/pwned*"))
    # The one output, whatever the inputs held.
    assert parse_outputs(runner.outputs.read_text(encoding="utf-8")) == {"sarif-file": str(runner.default_sarif)}
    # The echoed command line stays one log line: no input starts a workflow command of its own.
    assert not [line for line in result.stdout.splitlines() if "injected" in line and line.startswith("::")]


@only_posix
def test_a_sarif_file_with_a_line_break_is_refused_before_k8slint_runs(runner: Runner) -> None:
    runner.fake_k8slint()
    result = runner.script(INPUT_SARIF_FILE="k8slint.sarif\nsarif-file=/etc/passwd")
    assert result.returncode == 2, _report(result)
    assert not runner.record.exists()  # k8slint was not started
    assert runner.outputs.read_text(encoding="utf-8") == ""
    errors = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert errors == [("::error title=k8slint action::the sarif-file path must be one line: "
                       f"'{runner.workspace}/k8slint.sarif\\nsarif-file=/etc/passwd'")]


@only_posix
def test_args_that_do_not_split_stop_the_step(runner: Runner) -> None:
    runner.fake_k8slint()
    result = runner.script(INPUT_ARGS="--disable 'single-replica")
    assert result.returncode == 2, _report(result)
    assert not runner.record.exists()
    assert "::error title=k8slint action::the args input cannot be split" in result.stdout


@only_posix
def test_no_report_no_output(runner: Runner) -> None:
    """k8slint stopped before writing the report (a usage error): no output to upload."""
    runner.fake_k8slint()
    result = runner.script(FAKE_K8SLINT_EXIT="2", FAKE_K8SLINT_NO_REPORT="1")
    assert result.returncode == 2, _report(result)
    assert runner.outputs.read_text(encoding="utf-8") == ""
    assert "::warning title=k8slint action::k8slint wrote no SARIF report (exit code 2)" in result.stdout


@only_posix
def test_a_report_left_by_an_earlier_step_is_not_this_runs(runner: Runner) -> None:
    runner.fake_k8slint()
    runner.default_sarif.write_text('{"version": "2.1.0", "runs": []}', encoding="utf-8")
    result = runner.script(FAKE_K8SLINT_EXIT="2", FAKE_K8SLINT_NO_REPORT="1")
    assert result.returncode == 2, _report(result)
    assert runner.outputs.read_text(encoding="utf-8") == ""
    # ... and one that k8slint writes again is.
    result = runner.script()
    assert result.returncode == 1, _report(result)
    assert parse_outputs(runner.outputs.read_text(encoding="utf-8")) == {"sarif-file": str(runner.default_sarif)}


def test_run_before_install_says_so(runner: Runner) -> None:
    result = runner.script()
    assert result.returncode == 2, _report(result)
    assert "k8slint is not installed in" in result.stdout
    assert "--install` first" in result.stdout


def test_unknown_arguments_are_a_usage_error(runner: Runner) -> None:
    result = runner.script("--instal")
    assert result.returncode == 2, _report(result)
    assert "usage: run_action.py [--install]" in result.stdout


# --- install ----------------------------------------------------------------------------------

def test_the_stamp_names_this_source_and_version() -> None:
    stamp = action.install_stamp(REPO)
    assert stamp["source"] == str(REPO)
    version = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(encoding="utf-8"),
                        re.MULTILINE)
    assert version is not None
    assert stamp["version"] == version.group(1)
    assert stamp["python"] == sys.executable


def test_install_is_skipped_when_this_version_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / action.VENV_NAME
    action.venv_python(folder).parent.mkdir(parents=True)
    action.venv_python(folder).touch()
    (folder / action.STAMP_NAME).write_text(json.dumps(action.install_stamp(REPO)), encoding="utf-8")

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing should be built")

    monkeypatch.setattr(action.venv, "EnvBuilder", fail)
    monkeypatch.setattr(action.subprocess, "run", fail)
    assert action.install(REPO, folder) is False
    assert "is already installed in" in capsys.readouterr().out


@pytest.mark.parametrize("stamp", [None, "other-version", "other-source", "no-python"])
def test_install_rebuilds_what_does_not_match(stamp: str | None, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / action.VENV_NAME
    recorded: dict[str, Any] = {}
    if stamp is not None:
        old = action.install_stamp(REPO)
        if stamp == "other-version":
            old["version"] = "0.0.1"
        elif stamp == "other-source":
            old["source"] = str(tmp_path / "elsewhere")
        folder.mkdir()
        (folder / action.STAMP_NAME).write_text(json.dumps(old), encoding="utf-8")
        if stamp != "no-python":
            action.venv_python(folder).parent.mkdir(parents=True)
            action.venv_python(folder).touch()

    class Builder:
        def __init__(self, **options: object) -> None:
            recorded["options"] = options

        def create(self, path: Path) -> None:
            recorded["venv"] = path
            path.mkdir(exist_ok=True)

    def pip(command: list[str], cwd: Path, check: bool) -> subprocess.CompletedProcess[str]:
        recorded["pip"] = command
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(action.venv, "EnvBuilder", Builder)
    monkeypatch.setattr(action.subprocess, "run", pip)
    assert action.install(REPO, folder) is True
    assert recorded["options"] == {"clear": True, "with_pip": True}
    assert recorded["venv"] == folder
    assert recorded["pip"] == [str(action.venv_python(folder)), "-I", "-m", "pip", "install",
                               "--disable-pip-version-check", "--no-input", str(REPO)]
    assert json.loads((folder / action.STAMP_NAME).read_text(encoding="utf-8")) == action.install_stamp(REPO)


def test_a_failed_pip_install_leaves_no_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / action.VENV_NAME

    class Builder:
        def __init__(self, **options: object) -> None:
            pass

        def create(self, path: Path) -> None:
            path.mkdir()

    monkeypatch.setattr(action.venv, "EnvBuilder", Builder)
    monkeypatch.setattr(action.subprocess, "run",
                        lambda command, cwd, check: subprocess.CompletedProcess(command, 1))
    with pytest.raises(action.ActionError, match="pip could not install k8slint"):
        action.install(REPO, folder)
    assert not (folder / action.STAMP_NAME).exists()


# --- action.yml -------------------------------------------------------------------------------

def _action_yml() -> dict[str, Any]:
    meta: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return meta


def test_action_yml_never_pastes_an_expression_into_a_script() -> None:
    """GitHub substitutes ${{ }} into a run: script before the shell reads it, so an input
    there is code; in env: it is a value. (GitHub's "Security hardening for GitHub Actions":
    use an intermediate environment variable.)"""
    steps = _action_yml()["runs"]["steps"]
    assert _action_yml()["runs"]["using"] == "composite"
    for step in steps:
        assert "${{" not in step.get("run", ""), step


def test_action_yml_maps_every_input_to_the_scripts_environment() -> None:
    meta = _action_yml()
    assert set(meta["inputs"]) == {"paths", "config", "fail-on", "category", "kubernetes-version",
                                   "args", "sarif-file"}
    run = next(step for step in meta["runs"]["steps"] if step.get("id") == "check")
    assert run["env"] == {f"INPUT_{name.upper().replace('-', '_')}": f"${{{{ inputs.{name} }}}}"
                          for name in meta["inputs"]}
    assert "run_action.py\"" in run["run"]
    assert meta["inputs"]["paths"]["default"] == "."
    assert meta["inputs"]["category"]["default"] == "k8slint"
    assert meta["outputs"]["sarif-file"]["value"] == "${{ steps.check.outputs.sarif-file }}"


def test_action_yml_installs_before_it_runs() -> None:
    steps = _action_yml()["runs"]["steps"]
    assert [step.get("id") for step in steps] == [None, "check"]
    assert '"$GITHUB_ACTION_PATH/action/run_action.py" --install' in steps[0]["run"]
    assert all(step["shell"] == "bash" for step in steps)


# --- end to end -------------------------------------------------------------------------------

# One finding (latest-tag-drift, an error) and one suppressed (latest-tag): the rest is clean.
MANIFEST = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata: {labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 30
          containers:
          - name: web
            image: example/web:latest  # k8slint: ignore=latest-tag this test wants the drift alone
            imagePullPolicy: IfNotPresent
            lifecycle:
              preStop:
                sleep: {seconds: 5}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata:
      name: web
    spec:
      maxUnavailable: 1
      unhealthyPodEvictionPolicy: AlwaysAllow
      selector: {matchLabels: {app: web}}
    """)


@pytest.mark.slow
def test_end_to_end_install_and_run(runner: Runner) -> None:
    (runner.workspace / "deploy" / "web.yaml").write_text(MANIFEST, encoding="utf-8")
    # A k8slint/ package in the linted repository (k8slint's own, or a pull request's) must
    # not run in place of the installed one.
    (runner.workspace / "k8slint").mkdir()
    (runner.workspace / "k8slint" / "__main__.py").write_text(
        "open('hijacked', 'w').close()\n", encoding="utf-8")

    installed = runner.script("--install", timeout=INSTALL_TIMEOUT)
    assert installed.returncode == 0, _report(installed)
    assert "::group::Installing k8slint" in installed.stdout
    python = action.venv_python(runner.temp / action.VENV_NAME)
    assert python.is_file()

    # The same version again (a second k8slint step in the job): nothing to do.
    started = time.monotonic()
    again = runner.script("--install")
    assert again.returncode == 0, _report(again)
    assert "is already installed in" in again.stdout
    assert time.monotonic() - started < 30

    # Hostile inputs reach the real k8slint as data: it refuses the category (exit 2), and
    # nothing ran, nothing was written.
    hostile = runner.script(INPUT_PATHS=HOSTILE_PATHS, INPUT_CATEGORY=HOSTILE_CATEGORY)
    assert hostile.returncode == 2, _report(hostile)
    assert "--category" in hostile.stderr, _report(hostile)
    assert not list(runner.root.glob("**/pwned*"))
    assert runner.outputs.read_text(encoding="utf-8") == ""
    assert not runner.default_sarif.exists()

    result = runner.script(INPUT_PATHS="deploy", INPUT_CATEGORY="manifests")
    assert result.returncode == 1, _report(result)
    # GitHub annotations on the log, at the image line.
    assert re.search(r"^::error file=deploy/web\.yaml,line=15,col=\d+,.*title=latest-tag-drift::",
                     result.stdout, re.MULTILINE), _report(result)

    assert not (runner.workspace / "hijacked").exists()
    assert parse_outputs(runner.outputs.read_text(encoding="utf-8")) == {"sarif-file": str(runner.default_sarif)}
    sarif = json.loads(runner.default_sarif.read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    [run] = sarif["runs"]
    assert run["automationDetails"]["id"] == "k8slint/manifests/"
    assert [r["ruleId"] for r in run["results"] if "suppressions" not in r] == ["latest-tag-drift"]

    summary = runner.summary.read_text(encoding="utf-8")
    assert summary.strip(), "k8slint wrote no job summary to $GITHUB_STEP_SUMMARY"
    assert "latest-tag-drift" in summary, summary

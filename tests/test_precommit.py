"""End to end: the pre-commit hook in .pre-commit-hooks.yaml, installed and run by pre-commit.

``pre-commit try-repo`` clones this checkout (with uncommitted changes to tracked files as a
shadow commit, so the current tree is what gets tested; untracked files are left out), builds
the hook's virtualenv with pip (this needs PyPI) and runs ``k8slint check`` on the files of a
scratch git repository.

try-repo keeps its environments in a store of its own inside a throwaway temporary folder, not
in PRE_COMMIT_HOME, so each run below builds one: pip's cache makes the second build quick.
PRE_COMMIT_HOME still points into the scratch folder, so nothing reads or writes the user's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .helpers import REPO

pytestmark = pytest.mark.slow

HOOK_ID = "k8slint"
TIMEOUT = 900  # seconds per pre-commit run: a virtualenv and a pip install from PyPI

# An image on the moving `latest` tag that is never pulled again: latest-tag (a warning)
# and latest-tag-drift (an error), both on the `image:` value (line 13, column 9; checked
# against `k8slint check` on this very text). Its PodDisruptionBudget lives in pass.yaml.
FAILING = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 2
      template:
        metadata: {labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 30
          containers:
          - name: web
            image: example/web:latest
            imagePullPolicy: IfNotPresent
            lifecycle:
              preStop:
                sleep: {seconds: 5}
      selector: {matchLabels: {app: web}}
    """)
FAILING_FINDINGS = ("fail.yaml:13:9: warning latest-tag ", "fail.yaml:13:9: error latest-tag-drift ")

# Passes every default rule: two replicas with a disruption budget, a grace period, an
# explicit pull policy, a preStop hook, a version tag; and the budget fail.yaml's
# Deployment needs, which the hook sees through --context when only fail.yaml changed.
PASSING = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec:
      replicas: 2
      template:
        metadata: {labels: {app: api}}
        spec:
          terminationGracePeriodSeconds: 30
          containers:
          - name: api
            image: example/api:1.4.2
            imagePullPolicy: IfNotPresent
            lifecycle:
              preStop:
                sleep: {seconds: 5}
      selector: {matchLabels: {app: api}}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata:
      name: api
    spec:
      maxUnavailable: 1
      unhealthyPodEvictionPolicy: AlwaysAllow
      selector: {matchLabels: {app: api}}
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

# `<file>:<line>:<col>: <severity> <rule> <message>`, the text report's finding line.
FINDING_LINE = re.compile(r"^(?P<file>\S+):(?P<line>\d+):(?P<col>\d+): (?:error|warning|info) [a-z0-9-]+ ")
# The text report's closing summary, printed once per k8slint process pre-commit starts.
# The summary's file count: "... in 1 of 2 files; ..." or "No findings in 2 files; ...",
# with the fixable findings counted between ("; 1 fixable with k8slint fix --unsafe-fixes").
FILES_CHECKED = re.compile(r"\bin (?:\d+ of )?(\d+) files?; (?:\d+ fixable with k8slint fix[^;]*; )?"
                           r"\d+ documents?, \d+ objects? checked")

# What git keeps from the environment: a GIT_DIR or GIT_INDEX_FILE left by an outer git hook
# (pytest run from a hook in this checkout) must not point the scratch repository elsewhere.
_GIT_ENV_KEPT = {"GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY",
                 "GIT_ASKPASS", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _GIT_ENV_KEPT}
    env.pop("PRE_COMMIT", None)  # set when pytest itself runs inside a pre-commit hook
    env.update(NO_COLOR="1", PYTHONIOENCODING="utf-8", **extra)
    return env


def _git(cwd: Path, *args: str) -> None:
    result = subprocess.run(["git", *args], cwd=cwd, env=_clean_env(), capture_output=True, text=True)
    if result.returncode:
        pytest.fail(f"git {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


class Scratch:
    """A fresh git repository holding fail.yaml and pass.yaml, with its own PRE_COMMIT_HOME."""

    def __init__(self, root: Path):
        self.repo = root / "repo"
        self.home = root / "pre-commit-home"
        self.repo.mkdir()
        self.home.mkdir()

    def k8slint(self, *args: str) -> subprocess.CompletedProcess[str]:
        """This checkout's k8slint, run directly on the scratch files: what the hook must print."""
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        return subprocess.run([sys.executable, "-m", "k8slint", *args], cwd=self.repo,
                              capture_output=True, text=True, encoding="utf-8",
                              env=_clean_env(PYTHONPATH=path))

    def try_repo(self, *args: str, hook: str = HOOK_ID) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook,
                   "--color=never", "--verbose", *args]
        try:
            return subprocess.run(command, cwd=self.repo, capture_output=True, text=True,
                                  encoding="utf-8", errors="replace", timeout=TIMEOUT,
                                  env=_clean_env(PRE_COMMIT_HOME=str(self.home)))
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"pre-commit try-repo did not finish in {TIMEOUT}s:\n{exc.stdout}\n{exc.stderr}")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Scratch:
    if shutil.which("git") is None:
        pytest.fail("git is not on PATH: the pre-commit end-to-end test needs git "
                    "(pre-commit clones this checkout and lists the files to check with it)")
    if not (REPO / ".git").exists():
        pytest.fail(f"{REPO} is not a git checkout: `pre-commit try-repo` can only install the "
                    "hook from a git repository")
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.fail("pre-commit is not installed: `pip install -e .[test]`")

    scratch = Scratch(tmp_path_factory.mktemp("precommit"))
    _git(scratch.repo, "init", "-q")
    # Local identity, for machines with no global git config (nothing is committed here, but a
    # git that wants an identity for other commands must find one).
    _git(scratch.repo, "config", "user.name", "k8slint tests")
    _git(scratch.repo, "config", "user.email", "k8slint-tests@example.invalid")
    (scratch.repo / "fail.yaml").write_text(FAILING, encoding="utf-8")
    (scratch.repo / "pass.yaml").write_text(PASSING, encoding="utf-8")
    _git(scratch.repo, "add", "fail.yaml", "pass.yaml")
    return scratch


def _report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def _hook_status(output: str, name: str = HOOK_ID) -> str | None:
    """Passed, Failed or Skipped, from pre-commit's `k8slint....Passed` line (the hook's name)."""
    match = re.search(rf"^{re.escape(name)}\.+(?:\([^)]*\))?(Passed|Failed|Skipped)$", output, re.M)
    return match.group(1) if match else None


def _findings(output: str) -> list[str]:
    return [line for line in output.splitlines() if FINDING_LINE.match(line)]


def _files_checked(output: str) -> int:
    # pre-commit may split the files over several k8slint processes, each with its own summary.
    return sum(int(n) for n in FILES_CHECKED.findall(output))


def test_hook_reports_the_failing_file_only(scratch: Scratch) -> None:
    result = scratch.try_repo("--all-files")
    report = _report(result)
    output = result.stdout

    assert result.returncode == 1, report
    assert _hook_status(output) == "Failed", report
    findings = _findings(output)
    # Two findings, for fail.yaml at the image's line and column, and word for word the lines
    # this checkout's `k8slint check` prints for the same two files.
    direct = scratch.k8slint("check", "fail.yaml", "pass.yaml")
    assert direct.returncode == 1, _report(direct)
    assert len(findings) == 2, report
    assert [f[: len(p)] for f, p in zip(findings, FAILING_FINDINGS, strict=True)] == list(FAILING_FINDINGS), report
    assert findings == _findings(direct.stdout), f"{report}\n--- k8slint check ---\n{direct.stdout}"
    assert not [line for line in findings if "pass.yaml" in line], report
    # Both files reached k8slint (pass.yaml was linted, not filtered out by the hook's `types`).
    assert _files_checked(output) == 2, report


def test_hook_passes_the_passing_file(scratch: Scratch) -> None:
    result = scratch.try_repo("--files", "pass.yaml")
    report = _report(result)

    assert result.returncode == 0, report
    # Passed, not "(no files to check)Skipped": k8slint really ran, on the one file.
    assert _hook_status(result.stdout) == "Passed", report
    assert _files_checked(result.stdout) == 1, report
    assert _findings(result.stdout) == [], report


def test_hook_sees_partners_in_unchanged_files(scratch: Scratch) -> None:
    """Only fail.yaml changed: its PodDisruptionBudget in pass.yaml is still seen."""
    result = scratch.try_repo("--files", "fail.yaml")
    report = _report(result)
    assert result.returncode == 1, report
    findings = _findings(result.stdout)
    assert len(findings) == 2, report  # no missing-pod-disruption-budget
    assert [f[: len(p)] for f, p in zip(findings, FAILING_FINDINGS, strict=True)] == list(FAILING_FINDINGS), report
    alone = scratch.k8slint("check", "fail.yaml")
    assert "missing-pod-disruption-budget" in alone.stdout, _report(alone)


# A container with no pull policy: the k8slint-fix hook sets the one the API server would.
FIXABLE = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web  # comments stay
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 30
          containers:
          - name: web
            image: example/web:1.0
    """)


def test_fix_hook_fails_when_it_changed_files_and_passes_the_second_time(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The k8slint-fix hook, as pre-commit runs a formatter: it applies the safe fixes, and
    pre-commit fails it because files changed; a second run finds nothing to change."""
    scratch = Scratch(tmp_path_factory.mktemp("precommit-fix"))
    _git(scratch.repo, "init", "-q")
    _git(scratch.repo, "config", "user.name", "k8slint tests")
    _git(scratch.repo, "config", "user.email", "k8slint-tests@example.invalid")
    (scratch.repo / "web.yaml").write_text(FIXABLE, encoding="utf-8")
    (scratch.repo / "notes.json").write_text('{\n  // not a manifest\n}\n', encoding="utf-8")
    _git(scratch.repo, "add", "web.yaml", "notes.json")

    first = scratch.try_repo("--all-files", hook="k8slint-fix")
    report = _report(first)
    assert first.returncode == 1, report
    assert _hook_status(first.stdout, "k8slint fix") == "Failed", report
    assert "- files were modified by this hook" in first.stdout, report
    assert ("k8slint: fixed 1 finding in 1 file (missing-image-pull-policy 1); "
            "1 more with --unsafe-fixes") in first.stdout, report
    assert (scratch.repo / "web.yaml").read_text(encoding="utf-8") == FIXABLE.replace(
        "        image: example/web:1.0\n",
        "        image: example/web:1.0\n        imagePullPolicy: IfNotPresent\n")
    assert (scratch.repo / "notes.json").read_text(encoding="utf-8") == '{\n  // not a manifest\n}\n'

    second = scratch.try_repo("--all-files", hook="k8slint-fix")
    report = _report(second)
    assert second.returncode == 0, report
    assert _hook_status(second.stdout, "k8slint fix") == "Passed", report


def test_a_changed_helper_re_renders_its_chart_through_the_hook(tmp_path: Path) -> None:
    """pre-commit passes _helpers.tpl (the hook's files pattern takes .tpl) and k8slint takes
    the chart it belongs to; the hook's own environment has no Helm engine (the extra is an
    additional dependency a user adds), so it says so and passes; with the engine, the same
    command renders the chart and the finding points into the template that uses it."""
    scratch = Scratch(tmp_path)
    _git(scratch.repo, "init", "-q")
    chart = scratch.repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("")
    (chart / "templates" / "_helpers.tpl").write_text('{{- define "web.image" -}}example/web:latest{{- end }}\n')
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
        "  - name: web\n    image: {{ include \"web.image\" . }}\n")
    _git(scratch.repo, "add", ".")
    result = scratch.try_repo("--files", "chart/templates/_helpers.tpl")
    report = _report(result)
    assert result.returncode == 0, report
    assert ("note: 1 Helm chart not rendered (no Helm engine: put helm on PATH, or pip install "
            "'k8slint[helm]'), so not linted: chart") in result.stdout, report
    direct = scratch.k8slint("check", "--context", ".", "--pre-commit", "--", "chart/templates/_helpers.tpl")
    assert direct.returncode == 1, _report(direct)
    # The image key is written on the template line: its column, not the include's.
    assert "\nchart/templates/pod.yaml:7:5: warning latest-tag " in direct.stdout, _report(direct)
    assert direct.stdout.splitlines()[-1].endswith("; 1 Helm chart rendered."), _report(direct)

#!/usr/bin/env python3
"""The k8slint GitHub Action's logic: install k8slint, then run it on the workspace.

``run_action.py --install`` puts k8slint, built from the action's own folder
(``$GITHUB_ACTION_PATH``), into a virtual environment of its own under ``$RUNNER_TEMP``, so
the action works wherever k8slint is hosted and never touches the job's Python. A second
install in the same job is skipped when that environment already holds this version from this
folder.

``run_action.py`` (no option) runs ``k8slint check`` from that environment with the inputs the
action's ``env:`` mapping passes as ``INPUT_*`` variables, writes the ``sarif-file`` output to
``$GITHUB_OUTPUT`` and exits with k8slint's exit code (2 for a bad input, before k8slint runs).

Inputs arrive through the environment and leave as separate argv items of a process started
without a shell: no input is ever read as code. Standard library only, because this runs with
whatever Python the runner has, before k8slint's environment exists.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

MINIMUM_PYTHON = (3, 10)
VENV_NAME = "k8slint-venv"
STAMP_NAME = "k8slint-action.json"
DEFAULT_CATEGORY = "k8slint"
DEFAULT_SARIF_NAME = "k8slint.sarif"


class ActionError(Exception):
    """A problem with the action's inputs or environment: reported, exit code 2."""


class Inputs(NamedTuple):
    paths: tuple[str, ...]
    config: str
    fail_on: str
    category: str
    kubernetes_version: str
    args: tuple[str, ...]
    sarif_file: str  # as given; resolved by sarif_path()


def _input(env: Mapping[str, str], name: str) -> str:
    """An input as action.yml passes it: INPUT_ and the name in capitals, - as _."""
    return env.get("INPUT_" + name.upper().replace("-", "_"), "")


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """The action's inputs from the environment, parsed but not yet checked."""
    # One path per line: a path may hold spaces, quotes or a leading dash and still be one path.
    paths = tuple(line.strip() for line in _input(env, "paths").splitlines() if line.strip())
    raw_args = _input(env, "args")
    try:
        args = tuple(shlex.split(raw_args))
    except ValueError as exc:
        raise ActionError(f"the args input cannot be split into arguments ({exc}): {raw_args!r}") from None
    return Inputs(
        paths=paths or (".",),
        config=_input(env, "config").strip(),
        fail_on=_input(env, "fail-on").strip(),
        category=_input(env, "category").strip() or DEFAULT_CATEGORY,
        kubernetes_version=_input(env, "kubernetes-version").strip(),
        args=args,
        sarif_file=_input(env, "sarif-file").strip(),
    )


def sarif_path(inputs: Inputs, env: Mapping[str, str], cwd: Path) -> Path:
    """Where the SARIF report goes: the input (relative to the workspace, which is the step's
    working folder), else k8slint.sarif in the runner's temporary folder, which is outside the
    checkout and emptied after each job."""
    if inputs.sarif_file:
        path = Path(inputs.sarif_file)
    else:
        base = env.get("RUNNER_TEMP") or env.get("GITHUB_WORKSPACE") or str(cwd)
        path = Path(base) / DEFAULT_SARIF_NAME
    path = path if path.is_absolute() else cwd / path
    if "\n" in str(path) or "\r" in str(path):
        # It becomes a step output, and $GITHUB_OUTPUT is read line by line.
        raise ActionError(f"the sarif-file path must be one line: {str(path)!r}")
    return path


def build_command(inputs: Inputs, sarif: Path) -> list[str]:
    """k8slint's arguments (after the program name) for these inputs."""
    command = ["check", "--format", "github", "--report", f"sarif:{sarif}", "--category", inputs.category]
    for flag, value in (("--config", inputs.config), ("--fail-on", inputs.fail_on),
                        ("--kubernetes-version", inputs.kubernetes_version)):
        if value:
            command += [flag, value]
    # "--" ends the options: a path that starts with a dash is still a path.
    return command + list(inputs.args) + ["--", *inputs.paths]


def venv_dir(env: Mapping[str, str]) -> Path:
    temp = env.get("RUNNER_TEMP")
    if not temp:
        raise ActionError("RUNNER_TEMP is not set: run this inside GitHub Actions, or set it to a "
                          "folder for k8slint's environment")
    return Path(temp) / VENV_NAME


def venv_python(folder: Path) -> Path:
    if os.name == "nt":
        return folder / "Scripts" / "python.exe"
    return folder / "bin" / "python"


def action_path(env: Mapping[str, str]) -> Path:
    path = env.get("GITHUB_ACTION_PATH") or str(Path(__file__).resolve().parents[1])
    return Path(path).resolve()


def project_version(source: Path) -> str:
    """The version in the source's pyproject.toml (tomllib is not in Python 3.10)."""
    try:
        text = (source / "pyproject.toml").read_text(encoding="utf-8")
    except OSError as exc:
        raise ActionError(f"no k8slint source at {source}: {exc.strerror or exc}") from None
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    version = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.MULTILINE) if project else None
    if version is None:
        raise ActionError(f"no [project] version in {source / 'pyproject.toml'}")
    return version.group(1)


def install_stamp(source: Path) -> dict[str, str]:
    """What an environment records about its k8slint: same stamp, nothing to install."""
    return {"source": str(source), "version": project_version(source), "python": sys.executable,
            "python_version": ".".join(map(str, sys.version_info[:3]))}


def installed_stamp(folder: Path) -> dict[str, str] | None:
    if not venv_python(folder).exists():
        return None
    try:
        stamp = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def install(source: Path, folder: Path) -> bool:
    """k8slint from ``source`` into the environment at ``folder``; False when it is there already."""
    if sys.version_info < MINIMUM_PYTHON:
        raise ActionError(f"k8slint needs Python {'.'.join(map(str, MINIMUM_PYTHON))} or newer, this is "
                          f"{sys.version.split()[0]} ({sys.executable}); add actions/setup-python before it")
    wanted = install_stamp(source)
    if installed_stamp(folder) == wanted:
        print(f"k8slint {wanted['version']} is already installed in {folder}")
        return False
    print(f"::group::Installing k8slint {wanted['version']} from {_log_safe(str(source))}", flush=True)
    try:
        venv.EnvBuilder(clear=True, with_pip=True).create(folder)
        pip = [str(venv_python(folder)), "-I", "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", str(source)]
        if subprocess.run(pip, cwd=folder, check=False).returncode != 0:
            raise ActionError(f"pip could not install k8slint from {source} (its output is above)")
        (folder / STAMP_NAME).write_text(json.dumps(wanted), encoding="utf-8")
    finally:
        print("::endgroup::", flush=True)
    return True


def write_output(output_file: str, name: str, value: str) -> None:
    """One step output, in $GITHUB_OUTPUT's delimiter form, with a delimiter no value can hold."""
    if "\n" in value or "\r" in value:
        raise ActionError(f"the {name} output must be one line: {value!r}")
    delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
    try:
        with open(output_file, "a", encoding="utf-8", newline="\n") as stream:
            stream.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    except OSError as exc:
        raise ActionError(f"cannot write the {name} output to {output_file}: {exc.strerror or exc}") from None


def _log_safe(text: str) -> str:
    """Text for a workflow command's message or title, escaped as the runner decodes it: a
    line break in an input must not start a line of its own, which the runner would read as
    a workflow command (::add-mask::, ::stop-commands::)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _one_line(text: str) -> str:
    """Text for a plain log line, line breaks shown as escapes (for the same reason)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which file is at ``path`` now: k8slint replaces a report atomically, so a new report
    is a new inode, and a rewritten one has a new modification time."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mtime_ns) if path.is_file() else None


def run(env: Mapping[str, str], cwd: Path) -> int:
    inputs = read_inputs(env)
    sarif = sarif_path(inputs, env, cwd)
    python = venv_python(venv_dir(env))
    if not python.exists():
        raise ActionError(f"k8slint is not installed in {python.parent.parent}: run "
                          f"`{Path(__file__).name} --install` first")
    try:
        sarif.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ActionError(f"cannot create the folder for {sarif}: {exc.strerror or exc}") from None
    command = build_command(inputs, sarif)
    before = _identity(sarif)  # a report left by an earlier step is not this run's
    print(f"k8slint {_one_line(shlex.join(command))}", flush=True)
    # -I (isolated): `-m` would otherwise look in the working folder first, so a k8slint/
    # folder in the linted repository would run instead of the installed k8slint; PYTHONPATH
    # is ignored for the same reason. The rest of the environment goes through whole: with
    # GITHUB_STEP_SUMMARY set, k8slint's github format appends the job summary itself.
    code = subprocess.run([str(python), "-I", "-m", "k8slint", *command], cwd=cwd, env=dict(env),
                          check=False).returncode
    if _identity(sarif) in (None, before):
        print(f"::warning title=k8slint action::k8slint wrote no SARIF report (exit code {code}), "
              f"so the sarif-file output is not set", flush=True)
    elif env.get("GITHUB_OUTPUT"):
        write_output(env["GITHUB_OUTPUT"], "sarif-file", str(sarif))
    else:
        print(f"SARIF report: {_one_line(str(sarif))}", flush=True)
    return code if code >= 0 else 128 - code  # killed by a signal: as a shell reports it


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         cwd: Path | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    try:
        if argv == ["--install"]:
            install(action_path(env), venv_dir(env))
            return 0
        if argv:
            raise ActionError(f"usage: {Path(__file__).name} [--install]; got {shlex.join(argv)}")
        return run(env, cwd)
    except ActionError as exc:
        print(f"::error title=k8slint action::{_log_safe(str(exc))}", flush=True)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

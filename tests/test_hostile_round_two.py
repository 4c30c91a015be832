"""Hostile input, second round: each test is named after the item it proves fixed.

A repository k8slint lints may not be trusted: it must not make k8slint write outside what
the user asked, hide a finding, forge output, or stop the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import FIXTURES, make_git_folder, run

REPO = Path(__file__).resolve().parents[1]
PRIVILEGED_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: evil\nspec:\n  containers:\n"
    "  - name: c\n    image: x:1\n    imagePullPolicy: Always\n    securityContext:\n"
    "      privileged: true\n"
)
GOOD = FIXTURES / "latest-tag-drift" / "fail.yaml"



def lines_of(out: str, rule: str) -> list[str]:
    return [line for line in out.splitlines() if f" {rule} " in line]


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


# --- writes that go where they must not -------------------------------------------------------


def test_item_01_hook_file_names_are_never_options(capsys, here):
    (here / "deployment.yaml").write_text(GOOD.read_text())
    (here / "--output=deployment.yaml").write_text(PRIVILEGED_POD)
    (here / "-").write_text(PRIVILEGED_POD)
    before = (here / "deployment.yaml").read_text()
    hook = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "entry: k8slint check --context . --pre-commit --\n" in hook
    code, out, _ = run(capsys, "check", "--context", ".", "--pre-commit", "--",
                       "--output=deployment.yaml", "-", "deployment.yaml")
    assert code == 1
    assert (here / "deployment.yaml").read_text() == before  # not overwritten
    reported = {line.split(":")[0] for line in out.splitlines()[:-1]}
    assert reported == {"--output=deployment.yaml", "-", "deployment.yaml"}


def test_item_02_write_baseline_never_follows_a_planted_temporary_name(capsys, here):
    victim = here / "victim.txt"
    victim.write_text("precious\n")
    (here / ".baseline.json.tmp").symlink_to(victim)
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    code, _, err = run(capsys, "check", "--write-baseline", "baseline.json", "pod.yaml")
    assert code == 1, err
    assert victim.read_text() == "precious\n"
    assert json.loads((here / "baseline.json").read_text())["format"] == "k8slint-baseline"
    assert sorted(p.name for p in here.iterdir()) == [
        ".baseline.json.tmp", "baseline.json", "pod.yaml", "victim.txt"]


def test_item_03_output_refuses_a_link_out_of_the_working_folder(capsys, here, tmp_path_factory):
    outside = tmp_path_factory.mktemp("home") / ".bashrc"
    outside.write_text("alias ls=ls\n")
    (here / "report.sarif").symlink_to(outside)
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    code, _, err = run(capsys, "check", "-o", "report.sarif", "pod.yaml")
    assert code == 2
    assert "outside the working folder; not written" in err
    assert outside.read_text() == "alias ls=ls\n"
    assert (here / "report.sarif").is_symlink()


def test_item_03_output_follows_a_link_inside_the_working_folder(capsys, here):
    (here / "real.txt").write_text("old\n")
    (here / "report.txt").symlink_to(here / "real.txt")
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    assert run(capsys, "check", "-o", "report.txt", "pod.yaml")[0] == 1
    assert (here / "report.txt").is_symlink()
    assert (here / "real.txt").read_text().startswith("pod.yaml:")


def test_item_03_output_writes_into_a_fifo_and_never_replaces_a_folder(capsys, here):
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    os.mkfifo(here / "pipe")
    reader = subprocess.Popen(["cat", str(here / "pipe")], stdout=subprocess.PIPE)
    assert run(capsys, "check", "-o", "pipe", "pod.yaml")[0] == 1
    assert reader.communicate(timeout=10)[0].decode().startswith("pod.yaml:")
    assert (here / "pipe").is_fifo()
    (here / "folder").mkdir()
    code, _, _ = run(capsys, "check", "-o", "folder", "pod.yaml")
    assert code == 2 and (here / "folder").is_dir()


def test_item_03_output_to_a_full_device_is_an_io_error(capsys, here):
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    code, _, err = run(capsys, "check", "-o", "/dev/full", "pod.yaml")
    assert code == 2
    assert err == "Error: cannot write /dev/full: No space left on device\n"
    assert Path("/dev/full").is_char_device()


# --- output that can be forged ----------------------------------------------------------------


def test_item_04_stderr_escapes_config_keys_and_file_names(capsys, here):
    make_git_folder(here)
    (here / ".k8slint.yaml").write_text('rules:\n  "x\\n::error file=a::forged\\u001b[31m": off\n')
    code, _, err = run(capsys, "check", ".")
    assert code == 2
    assert "\n::error" not in err and "\x1b" not in err
    assert "x\\n::error file=a::forged\\x1b[31m" in err
    (here / ".k8slint.yaml").unlink()
    code, _, err = run(capsys, "check", "missing\n::error::forged\x1b]0;t\x07")
    assert code == 2
    assert err.splitlines()[-1] == "Error: no such file or folder: missing\\n::error::forged\\x1b]0;t\\x07"


def test_item_06_bidi_and_zero_width_characters_are_shown_as_escapes(capsys, here):
    (here / "pod.yaml").write_text(PRIVILEGED_POD.replace("name: c\n", "name: \"c\u202edab\u200b\"\n"))
    for fmt in ("text", "github"):
        out = run(capsys, "check", "--format", fmt, "pod.yaml")[1]
        assert "\u202e" not in out and "\u200b" not in out
        assert "c\\u202edab\\u200b" in out


# --- findings that can be hidden ----------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
def test_item_07_non_utf8_names_that_display_alike_stay_apart(capsys, here):
    folder = os.fsencode(here)
    with open(folder + b"/a\xff.yaml", "w") as stream:
        stream.write(PRIVILEGED_POD.replace("      privileged: true\n",
                                            "      privileged: true  # k8slint: ignore=privileged-container node agent\n"))
    with open(folder + b"/a\xfe.yaml", "w") as stream:
        stream.write(PRIVILEGED_POD)
    only = ("--disable", "bare-pod", "--disable", "missing-prestop-hook",
            "--disable", "missing-termination-grace-period")
    code, out, _ = run(capsys, "check", "--format", "json", *only, ".")
    assert code == 1
    found = [(f["file"], f["rule"]) for f in json.loads(out)["findings"]]
    assert found == [("a\ufffd.yaml", "privileged-container")]  # a\xfe's, not silenced
    run(capsys, "check", "--write-baseline", "b.json", *only, ".")
    entries = json.loads((here / "b.json").read_text())["findings"]
    assert sorted(e["file"] for e in entries) == ["a\udcfe.yaml"]
    text = run(capsys, "check", *only, ".")[1]
    assert text.startswith("a\ufffd.yaml:11:7: warning privileged-container ")  # shown lossily


def test_item_08_unnamed_objects_do_not_share_annotation_suppressions(capsys, here):
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n{annotations}"
        "spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n"
        "      - name: c\n        image: x:1\n        imagePullPolicy: Always\n"
        "        securityContext: {{privileged: true}}\n"
    )
    first = job.format(annotations="  annotations:\n    ignore-check.k8slint.io/all: one-off migration\n")
    (here / "jobs.yaml").write_text(first + "---\n" + job.format(annotations=""))
    code, out, _ = run(capsys, "check", "jobs.yaml")
    assert code == 1
    lines = out.splitlines()
    assert [line.split(" ", 3)[:3] for line in lines[:-1]] == [
        ["jobs.yaml:29:27:", "warning", "privileged-container"]]  # the second Job's
    assert lines[-1].endswith("; 1 suppressed.")


def test_item_08_baselines_tell_unnamed_objects_apart(capsys, here):
    job = ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec:\n  template:\n"
           "    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n"
           "        image: x:1\n        imagePullPolicy: Always\n        securityContext: {privileged: true}\n")
    (here / "jobs.yaml").write_text(job)
    run(capsys, "check", "--write-baseline", "b.json", "jobs.yaml")
    (here / "jobs.yaml").write_text(job + "---\n" + job)
    code, out, _ = run(capsys, "check", "--baseline", "b.json", "jobs.yaml")
    assert code == 1
    assert [line.split(":")[1] for line in out.splitlines()[:-1]] == ["27"]  # the new Job only


def test_item_09_a_kustomization_cannot_hide_a_file_outside_its_tree(capsys, here):
    (here / "prod").mkdir()
    (here / "docs").mkdir()
    (here / "prod" / "deploy.yaml").write_text(PRIVILEGED_POD)
    (here / "docs" / "kustomization.yaml").write_text("patches:\n  - path: ../prod/deploy.yaml\n")
    code, out, _ = run(capsys, "check", ".")
    assert code == 1
    assert lines_of(out, "privileged-container")[0].startswith("prod/deploy.yaml:11:7: warning ")
    assert "patch" not in out.splitlines()[-1]
    # Inside its own tree, a patch is still a fragment.
    (here / "prod" / "kustomization.yaml").write_text("patches:\n  - path: deploy.yaml\n")
    out = run(capsys, "check", ".")[1]
    assert out.splitlines()[-1].endswith("1 kustomize patch file skipped.")


def test_item_10_comments_inside_block_scalars_do_not_suppress(capsys, here):
    pod = PRIVILEGED_POD.replace(
        "    securityContext:\n",
        "    args:\n    - |\n      echo hi # k8slint: ignore=privileged-container pretend\n"
        "    - \"x # k8slint: ignore=privileged-container also pretend\"\n    securityContext:\n")
    (here / "pod.yaml").write_text(pod.replace("privileged: true\n",
                                               "privileged: true\n"))
    code, out, _ = run(capsys, "check", "pod.yaml")
    assert code == 1
    assert lines_of(out, "privileged-container")[0].startswith("pod.yaml:15:7: warning ")
    assert "suppressed" not in out


def test_item_11_config_search_stops_at_the_scanned_folder(capsys, here):
    (here / ".k8slint.yaml").write_text("rules: {privileged-container: off}\n")
    (here / "rendered").mkdir()
    (here / "rendered" / "pod.yaml").write_text(PRIVILEGED_POD)
    os.chdir(here / "rendered")
    code, out, _ = run(capsys, "check", ".")
    assert code == 1 and "privileged-container" in out
    # With --config it is explicit.
    code, out, _ = run(capsys, "check", "--config", "../.k8slint.yaml", ".")
    assert "privileged-container" not in out


def test_item_12_a_validation_cache_inside_the_tree_is_never_trusted(capsys, here, monkeypatch):
    from k8slint import config

    make_git_folder(here)
    (here / ".k8slint.yaml").write_text("failOn: sometimes\n")
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    fingerprint = config._fingerprint(config._chain(here / ".k8slint.yaml"))
    for base in (here / "~" / ".cache", here / ".cache"):
        planted = base / "k8slint" / "valid-configs"
        planted.mkdir(parents=True)
        (planted / fingerprint).write_text(fingerprint)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert run(capsys, "check", ".")[0] == 2
    monkeypatch.setenv("XDG_CACHE_HOME", str(here / ".cache"))
    code, _, err = run(capsys, "check", ".")
    assert code == 2 and "failOn: expected" in err


# --- one file stops the whole run -----------------------------------------------------------------


def test_item_13_a_json_number_of_4301_digits_is_read_not_fatal(capsys, here):
    (here / "big.json").write_text(
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": '
        + "9" * 4301 + "}}\n")
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    code, out, err = run(capsys, "check", ".")
    assert (code, err) == (1, "")
    assert out.splitlines()[-1].endswith(
        "in 1 of 2 files; 1 fixable with k8slint fix (1 more with --unsafe-fixes); 2 documents, 2 objects checked.")


def test_item_14_a_bad_timestamp_in_a_kustomization_is_not_fatal(capsys, here):
    (here / "kustomization.yaml").write_text("when: !!timestamp 2026-13-45\npatches: [p.yaml]\n")
    (here / "p.yaml").write_text(PRIVILEGED_POD)
    code, out, err = run(capsys, "check", "--no-render", ".")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1].endswith("1 kustomize patch file skipped.")
    from k8slint.kbuild import kustomize_command

    if kustomize_command() is not None:  # kustomize refuses it: its error, the patch still skipped
        code, out, err = run(capsys, "check", ".")
        assert (code, err) == (1, "")
        assert out.splitlines() == [
            "kustomization.yaml:1:1: error kustomize-build-error invalid Kustomization: yaml: cannot "
            "decode !!str `2026-13-45` as a !!timestamp (the root's files are linted one by one "
            "instead; its 1 patch file is skipped) (via .)",
            "1 finding (1 error, 0 warnings, 0 info) in 1 of 1 file; 1 document, 0 objects checked; "
            "0 of 1 Kustomize build roots built; 1 kustomize patch file skipped."]


def test_item_15_a_folder_tree_a_thousand_levels_deep_is_walked(capsys, here):
    for _ in range(1000):  # one level at a time: pathlib's own mkdir recurses
        os.mkdir("d")
        os.chdir("d")
    Path("pod.yaml").write_text(PRIVILEGED_POD)
    os.chdir(here)
    try:
        code, out, err = run(capsys, "check", ".")
        assert (code, err) == (1, "")
        assert lines_of(out, "privileged-container")[0].startswith("d/" * 1000 + "pod.yaml:11:7: ")
    finally:  # bottom up, one level at a time: pytest's own cleanup would recurse too deep
        os.unlink("/".join(["d"] * 1000) + "/pod.yaml")
        for depth in range(1000, 0, -1):
            os.rmdir("/".join(["d"] * depth))


# --- hangs and leaks ----------------------------------------------------------------------------


def test_a_fifo_named_git_neither_blocks_nor_counts_as_a_repository(here):
    """A .git FIFO (an archive can hold one) is not read: opened as a file, it would block."""
    (here / "sub").mkdir()
    os.mkfifo(here / "sub" / ".git")
    (here / "sub" / "pod.yaml").write_text(PRIVILEGED_POD)
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", "--no-cache", "sub"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert lines_of(proc.stdout, "privileged-container")[0].startswith("sub/pod.yaml:11:7: ")


def test_item_17_exclude_globs_match_in_linear_time():
    from k8slint.globs import compile_globs

    matcher = compile_globs(["**/" * 11 + "vendor/", "*a" * 30 + "b"])
    path = "/".join(f"d{i}" for i in range(24)) + "/x.yaml"
    started = time.process_time()
    for _ in range(100):
        assert matcher(path, False) is False
        assert matcher("a" * 2000, False) is False
    # A backtracking matcher takes minutes here; this is a hang guard, not a speed test.
    assert time.process_time() - started < 30
    assert matcher("a/b/vendor/c.yaml", False) is True


def test_item_18_match_expressions_are_looked_up_not_compared_with_everything():
    from k8slint.index import Facts, Index

    def workload(i: int) -> Facts:
        return Facts("f.yaml", "apps/v1", "Deployment", "ns", f"w{i}", {"app": f"a{i}"}, 2, None,
                     (), None, None, None, {})

    def budget(i: int) -> Facts:
        selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": [f"a{i}"]}]}
        return Facts("f.yaml", "policy/v1", "PodDisruptionBudget", "ns", f"p{i}", None, None,
                     selector, (1, None), None, None, None, {})

    def work(n: int) -> int:
        index = Index([workload(i) for i in range(n)] + [budget(i) for i in range(n)])
        for i in range(n):
            assert [f.name for f in index.pod_makers("ns", budget(i).selector)] == [f"w{i}"]
        return index.work

    assert work(4000) <= 11 * work(400)


def test_item_19_sigterm_stops_the_workers_and_leaves_no_temporary_file(here):
    text = GOOD.read_text()
    for n in range(1500):
        (here / f"g{n:04}.yaml").write_text(text.replace("name: web", f"name: web{n}") * 20)
    proc = subprocess.Popen(
        [sys.executable, "-m", "k8slint", "check", "-j2", "-o", "report.txt", "."],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    children: list[str] = []
    while time.monotonic() < deadline and not children:
        time.sleep(0.05)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split() \
            if Path(f"/proc/{proc.pid}").exists() else []
    assert children, "the pool never started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    time.sleep(0.5)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text()]
    assert alive == []
    assert [p.name for p in here.iterdir() if not p.name.endswith(".yaml")] == []


def test_item_20_max_file_size_bounds_kustomization_files(capsys, here, monkeypatch):
    from k8slint import kustomize

    (here / "kustomization.yaml").write_text("patches: [p.yaml]\n" + "# filler\n" * 300)
    (here / "p.yaml").write_text(PRIVILEGED_POD)
    loaded = []
    original = kustomize.load_text
    monkeypatch.setattr(kustomize, "load_text", lambda *a, **k: loaded.append(1) or original(*a, **k))
    code, out, _ = run(capsys, "check", "--max-file-size", "1K", ".")
    assert code == 1
    assert loaded == []  # the kustomization was never parsed
    assert "kustomization.yaml:1:1: warning file-too-large" in out
    assert lines_of(out, "privileged-container")[0].startswith("p.yaml:11:7: ")


# --- smaller --------------------------------------------------------------------------------------


def test_duplicate_key_in_the_config_is_a_config_error(capsys, here):
    make_git_folder(here)
    (here / ".k8slint.yaml").write_text("failOn: error\nfailOn: never\n")
    code, out, err = run(capsys, "check", ".")
    assert (code, out) == (2, "")
    assert err == "k8slint: config error: .k8slint.yaml:2:1: key 'failOn' repeats (first at 1:1); say it once\n"


@pytest.mark.parametrize("content, reason", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"format": "k8slint-baseline", "version": 1, "findings": [{"rule": "r", "file": "f", '
     '"apiVersion": "", "kind": "", "namespace": "", "name": "", "path": "", "count": 1e400}]}',
     "count must be a whole number of at least 1"),
])
def test_a_hostile_baseline_is_an_input_error(capsys, here, content, reason):
    (here / "b.json").write_text(content)
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    code, out, err = run(capsys, "check", "--baseline", "b.json", "pod.yaml")
    assert (code, out) == (2, "")
    assert reason in err and "internal error" not in err


def test_closed_or_full_standard_output_is_an_io_error(here):
    (here / "pod.yaml").write_text(PRIVILEGED_POD)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "k8slint", "check", "pod.yaml"],
                              stdout=full, stderr=subprocess.PIPE, text=True)
    assert (proc.returncode, proc.stderr) == (2, "k8slint: cannot write: No space left on device\n")
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", "pod.yaml"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: os.close(1))
    assert proc.returncode == 2
    assert "standard output is closed" in proc.stderr and "internal error" not in proc.stderr

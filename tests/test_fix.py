"""k8slint fix: splices at node positions, every other byte kept; exact outputs and exit codes."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from k8slint import fixer
from k8slint.cli import main

BLOCK = (
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web  # the app\n"
    "spec:\n"
    "  containers:\n"
    "  - name: web\n"
    "    image: nginx:1.27\n"
    "    ports:\n"
    "    - containerPort: 80\n"
)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "k8slint", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_safe_fix_of_a_block_mapping_keeps_every_other_byte_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(BLOCK)
    done = _run("fix", "pod.yaml", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == ("k8slint: fixed 2 findings in 1 file (missing-image-pull-policy 1, "
                           "missing-termination-grace-period 1); 1 more with --unsafe-fixes\n")
    assert (tmp_path / "pod.yaml").read_text() == BLOCK.replace(
        "    image: nginx:1.27\n", "    image: nginx:1.27\n    imagePullPolicy: IfNotPresent\n"
    ) + "  terminationGracePeriodSeconds: 30\n"
    again = _run("fix", "pod.yaml", cwd=tmp_path)
    assert again.stderr == "k8slint: fixed 0 findings in 0 files; 1 more with --unsafe-fixes\n"


def test_diff_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(BLOCK)
    done = _run("fix", "--diff", "--unsafe-fixes", "pod.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert (tmp_path / "pod.yaml").read_text() == BLOCK
    assert done.stdout == (
        "--- a/pod.yaml\n+++ b/pod.yaml\n@@ -6,5 +6,11 @@\n   containers:\n   - name: web\n"
        "     image: nginx:1.27\n+    imagePullPolicy: IfNotPresent\n     ports:\n     - containerPort: 80\n"
        "+    lifecycle:\n+      preStop:\n+        sleep:\n+          seconds: 5\n"
        "+  terminationGracePeriodSeconds: 30\n")


def test_flow_crlf_bom_and_unindented_sequences_are_kept(tmp_path: Path) -> None:
    text = ("apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: web}\r\nspec:\r\n"
            "  terminationGracePeriodSeconds: 30\r\n  containers:\r\n"
            "  - {name: web, image: \"nginx:1.27\"}\r\n")
    (tmp_path / "pod.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert _run("fix", "pod.yaml", cwd=tmp_path).returncode == 0
    assert (tmp_path / "pod.yaml").read_bytes() == b"\xef\xbb\xbf" + text.replace(
        '"nginx:1.27"}', '"nginx:1.27", imagePullPolicy: IfNotPresent}').encode()


def test_json_is_edited_as_json(tmp_path: Path) -> None:
    text = ('{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "metadata": {"name": "web"},\n'
            '  "spec": {\n    "terminationGracePeriodSeconds": 30,\n'
            '    "containers": [{"name": "web", "image": "nginx"}]\n  }\n}\n')
    (tmp_path / "pod.json").write_text(text)
    assert _run("fix", "pod.json", cwd=tmp_path).returncode == 0
    assert (tmp_path / "pod.json").read_text() == text.replace(
        '"image": "nginx"}', '"image": "nginx", "imagePullPolicy": "Always"}')


def test_a_list_and_several_documents(tmp_path: Path) -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n"
            "    name: a\n  spec:\n    serviceAccount: sa\n    terminationGracePeriodSeconds: 30\n"
            "    containers:\n    - name: a\n      image: a:1\n      imagePullPolicy: Never\n"
            "---\n# second\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n"
            "  terminationGracePeriodSeconds: 30\n  containers:\n  - name: b\n    image: b:latest\n"
            "    imagePullPolicy: IfNotPresent\n")
    (tmp_path / "l.yaml").write_text(text)
    done = _run("fix", "--unsafe-fixes", "l.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "l.yaml").read_text() == (
        text.replace("serviceAccount: sa", "serviceAccountName: sa")
        .replace("    imagePullPolicy: IfNotPresent\n", "    imagePullPolicy: Always\n"
                 "    lifecycle:\n      preStop:\n        sleep:\n          seconds: 5\n")
        .replace("      imagePullPolicy: Never\n", "      imagePullPolicy: Never\n      lifecycle:\n"
                 "        preStop:\n          sleep:\n            seconds: 5\n"))


SHARED = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
          "  terminationGracePeriodSeconds: 30\n  containers:\n  - &c\n    name: web\n"
          "    image: nginx:1.27\n  initContainers:\n  - *c\n")


def test_a_fix_inside_an_anchored_node_is_not_made_and_the_run_says_why(tmp_path: Path) -> None:
    """One container aliased as an init container: an edit of one would change both (and two
    fixes would write the key twice). Neither is made; each is named with its reason."""
    (tmp_path / "pod.yaml").write_text(SHARED)
    done = _run("fix", "pod.yaml", cwd=tmp_path)
    assert (tmp_path / "pod.yaml").read_text() == SHARED
    why = ("lies in a node shared through an anchor (&name, *name): an edit there changes every "
           "place that uses it\n")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "k8slint: pod.yaml:7:5: missing-image-pull-policy not fixed: spec.initContainers[0].imagePullPolicy " + why
        + "k8slint: pod.yaml:7:5: missing-image-pull-policy not fixed: spec.containers[0].imagePullPolicy " + why
        + "k8slint: fixed 0 findings in 0 files; 1 more with --unsafe-fixes; 2 fixes not made\n")


def test_a_file_the_fix_would_break_is_left_untouched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The splice writes a wrong value (ruamel.yaml's output replaced): the re-read check sees
    that the file would not read as the original plus the intended change, and no byte of
    it is written, the other fix of the same file included."""
    original = BLOCK.replace("\n", "\r\n").encode()
    (tmp_path / "pod.yaml").write_bytes(original)
    real = fixer.yaml_block
    monkeypatch.setattr(fixer, "yaml_block", lambda value, step: [
        line.replace("IfNotPresent", "Never") for line in real(value, step)])
    monkeypatch.chdir(tmp_path)
    code = main(["fix", "-j1", "pod.yaml"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == ("k8slint: pod.yaml: not fixed: document 1 would read differently from the original "
                   "with the intended change; left untouched\n"
                   "k8slint: fixed 0 findings in 0 files; 1 more with --unsafe-fixes; 1 file left untouched\n")
    assert (tmp_path / "pod.yaml").read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["pod.yaml"]  # no temporary file left


def test_a_link_out_of_the_scanned_tree_is_never_written_through(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "tree").mkdir()
    (tmp_path / "outside" / "pod.yaml").write_text(BLOCK)
    (tmp_path / "tree" / "link.yaml").symlink_to(tmp_path / "outside" / "pod.yaml")
    # Named, the link is linted, but its target lies outside the folder of the file named.
    done = _run("fix", "tree/link.yaml", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("k8slint: tree/link.yaml: not fixed: it lies through a link outside the scanned tree\n"
                           "k8slint: fixed 0 findings in 0 files; 1 more with --unsafe-fixes; "
                           "1 file left untouched\n")
    # In a walk, a link out of the tree is not even read.
    done = _run("fix", "tree", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "k8slint: fixed 0 findings in 0 files\n")
    assert (tmp_path / "outside" / "pod.yaml").read_text() == BLOCK
    assert (tmp_path / "tree" / "link.yaml").is_symlink()


def test_a_link_inside_the_tree_is_kept_and_its_target_fixed_keeping_modes(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(BLOCK)
    (tmp_path / "pod.yaml").chmod(0o640)
    (tmp_path / "alias").mkdir()
    (tmp_path / "alias" / "link.yaml").symlink_to("../pod.yaml")
    (tmp_path / "run.yaml").write_text(BLOCK)
    (tmp_path / "run.yaml").chmod(0o751)
    done = _run("fix", "alias/link.yaml", "run.yaml", ".", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    fixed = BLOCK.replace("    image: nginx:1.27\n", "    image: nginx:1.27\n    imagePullPolicy: IfNotPresent\n"
                          ) + "  terminationGracePeriodSeconds: 30\n"
    assert (tmp_path / "alias" / "link.yaml").is_symlink()
    assert (tmp_path / "pod.yaml").read_text() == (tmp_path / "run.yaml").read_text() == fixed
    assert stat.S_IMODE((tmp_path / "pod.yaml").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "run.yaml").stat().st_mode) == 0o751


def test_pre_commit_names_files_only(tmp_path: Path) -> None:
    """--pre-commit: each path is a file (one named - too); a file that is not a manifest is
    skipped as in a walk; changed files exit 0 (pre-commit sees the change and fails the
    hook itself); an option after the hook's -- is refused, saying where options belong."""
    (tmp_path / "-").write_text(BLOCK)
    (tmp_path / "tsconfig.json").write_text('{\n  // comment\n  "compilerOptions": {}\n}\n')
    done = _run("fix", "--pre-commit", "--", "-", "tsconfig.json", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == ("k8slint: fixed 2 findings in 1 file (missing-image-pull-policy 1, "
                           "missing-termination-grace-period 1); 1 more with --unsafe-fixes\n")
    assert "imagePullPolicy: IfNotPresent" in (tmp_path / "-").read_text()
    assert (tmp_path / "tsconfig.json").read_text() == '{\n  // comment\n  "compilerOptions": {}\n}\n'
    done = _run("fix", "--pre-commit", "--", "--unsafe-fixes", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.endswith(
        "Error: '--unsafe-fixes' reached the hook as a file name: the hook ends its options with -- so "
        "that no committed file is ever read as an option, and so pre-commit's args: cannot carry "
        "options; put them in .k8slint.yaml (failOn, rules, exclude, kubernetesVersion)\n")
    done = _run("fix", "-", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.endswith("Error: Invalid value for PATHS: fix edits files: standard input cannot be fixed\n")

"""k8slint fix: splices at node positions, every other byte kept; exact outputs and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_a_file_the_fix_would_break_is_left_untouched(tmp_path: Path) -> None:
    # Two containers share one anchored mapping: an edit of one would change the other.
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
            "  terminationGracePeriodSeconds: 30\n  containers:\n  - &c\n    name: web\n"
            "    image: nginx:1.27\n    imagePullPolicy: IfNotPresent\n  initContainers:\n"
            "  - <<: *c\n    name: init\n")
    (tmp_path / "pod.yaml").write_text(text)
    done = _run("fix", "pod.yaml", cwd=tmp_path)
    assert (tmp_path / "pod.yaml").read_text() == text
    assert done.returncode in (0, 1)

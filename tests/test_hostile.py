"""Hostile and broken input: a finding at the right line, never a crash, a hang or a loss."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import FIXTURES, lint, lint_text, make_git_folder, run

GOOD = FIXTURES / "latest-tag-drift" / "fail.yaml"



def alias_bomb(levels: int = 9) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:",
             "  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines.extend(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1))
    return "\n".join(lines) + "\n"


def rules_lines(findings):
    return [(f.rule, f.line, f.column) for f in findings]


# --- bounded work ---------------------------------------------------------------------------


def test_alias_bomb_is_refused_with_a_finding():
    findings = lint_text(alias_bomb())
    assert len(findings) == 1
    f = findings[0]
    assert (f.rule, f.line, f.column) == ("parse-error", 10, 7)  # the anchor being expanded
    assert f.message.startswith("excessive aliasing: aliases expand this document past ")


def test_reused_anchors_below_the_bomb_threshold_are_linted():
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
        "    spec:\n      terminationGracePeriodSeconds: 30\n      containers:\n"
        "      - &c {name: a, image: 'nginx:latest', imagePullPolicy: IfNotPresent,"
        " lifecycle: {preStop: {sleep: {seconds: 1}}}}\n      - *c\n"
    )
    found = lint_text(text, rules=["latest-tag-drift"])
    assert rules_lines(found) == [("latest-tag-drift", 9, 22), ("latest-tag-drift", 9, 22)]


@pytest.mark.parametrize("name, text, expected", [
    ("flow.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: " + "[" * 10000 + "]" * 10000 + "\n",
     ("parse-error", 4, 1004)),
    ("block.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n"
     + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(10000)) + "  " * 10001 + "v: 1\n",
     ("parse-error", 1002, 2003)),
    ("deep.json", '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * 10000 + "]" * 10000 + "}\n",
     ("parse-error", 1, 1050)),
])
def test_ten_thousand_levels_give_a_finding_not_a_recursion_error(name, text, expected):
    findings = lint_text(text, name=name)
    assert rules_lines(findings) == [expected]
    assert "exceeded maximum nesting depth" in findings[0].message


def test_file_over_the_size_limit_is_reported_without_being_opened(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(11 * 2**20)  # sparse: 11 MiB of nothing
    opened = []
    real_open = Path.open

    def spy(self, *args, **kwargs):
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    findings = lint(big)
    assert opened == []
    assert [(f.rule, f.line, f.column, f.message) for f in findings] == [(
        "file-too-large", 1, 1,
        "the file is 11 MiB, over the 10 MiB limit and was not read; a manifest this large is "
        "likely generated or not a manifest: exclude it, or raise --max-file-size",
    )]


def test_max_file_size_option_and_stdin(capsys, tmp_path, monkeypatch):
    import io

    (tmp_path / "a.yaml").write_text(GOOD.read_text())
    code, out, _ = run(capsys, "check", "--max-file-size", "100", str(tmp_path / "a.yaml"))
    assert "file-too-large the file is" in out and "over the 100 bytes limit" in out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GOOD.read_bytes())))
    code, out, _ = run(capsys, "check", "--max-file-size", "0.5K", "-")
    assert out.splitlines()[0].startswith("<stdin>:1:1: warning file-too-large the file is over the 512 bytes limit")
    code, _, err = run(capsys, "check", "--max-file-size", "lots", "-")
    assert code == 2 and "expected a size such as 10M" in err


# --- broken files ---------------------------------------------------------------------------

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n"


@pytest.mark.parametrize("raw, expected", [
    (b"apiVersion: v1\nkind: Pod\n  bad: indent\n", [("parse-error", 3, 6)]),
    (b"apiVersion: v1\nkind: Pod\nkind: Pod\n", [("duplicate-key", 3, 1)]),
    ("apiVersion: v1\nkind: Pod\n".encode("utf-16-le"), [("parse-error", 1, 2)]),  # NUL bytes
    (b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xe9}\n", [("parse-error", 3, 21)]),
    (bytes(range(256)), [("parse-error", 2, 118)]),
    (b"apiVersion: v1\x00\nkind: Pod\n", [("parse-error", 1, 15)]),
    (b"apiVersion: v1\nkind: Pod\n---\nkind: [\n", [("parse-error", 4, 8)]),  # where the text ends
    (b"apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n", [("parse-error", 4, 1)]),
    (b"", []),
    (b"# nothing but a comment\n# and another\n", []),
])
def test_broken_files_give_one_clear_finding(raw, expected):
    from k8slint.catalog import catalog
    from k8slint.engine import Engine

    result = Engine({r: m.severity for r, m in catalog().items()}).lint_bytes("f.yaml", raw)
    assert result.errors == []
    assert [(f.rule, f.line, f.column) for f in result.findings if f.rule in ("parse-error", "duplicate-key")] == expected


def test_python_tags_do_nothing_and_the_file_is_linted(tmp_path):
    marker = tmp_path / "pwned"
    text = POD.replace("spec: {containers: []}", f"spec:\n  x: !!python/object/apply:os.system ['touch {marker}']\n"
                       "  containers: []\n")
    assert lint_text(text, rules=["parse-error"]) == []
    assert not marker.exists()


def test_yaml_1_1_oddities_are_linted():
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 0o17\n"
        "  containers:\n  - name: c\n    image: nginx:1\n    imagePullPolicy: on\n    args: [=, yes, 0o17]\n"
    )
    findings = lint_text(text, rules=["invalid-image-pull-policy", "missing-termination-grace-period"])
    assert [(f.rule, f.line, f.message.split(":")[0]) for f in findings] == [
        ("invalid-image-pull-policy", 9, 'container "c" has imagePullPolicy true, which the API server rejects'),
    ]


# --- the file system -----------------------------------------------------------------------


def test_fifo_in_a_folder_is_never_read_and_named_fifo_is_an_error(tmp_path):
    (tmp_path / "pipe.yaml").unlink(missing_ok=True)
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "good.yaml").write_text(GOOD.read_text())
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr == ""
    assert proc.stdout.splitlines()[-1].endswith(
        "in 1 of 1 file; 2 fixable with k8slint fix (6 more with --unsafe-fixes); 2 documents, 2 objects checked.")
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", str(tmp_path / "pipe.yaml"), "/dev/null"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"k8slint: error: {tmp_path}/pipe.yaml is not a regular file (a FIFO, socket or device): not read",
        "k8slint: error: /dev/null is not a regular file (a FIFO, socket or device): not read",
    ]


def test_links_loops_and_outside_folders_are_walked_once(capsys, tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.yaml").write_text(GOOD.read_text())
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.yaml").write_text(GOOD.read_text())
    (tree / "loop").symlink_to(tree)
    (tree / "out1").symlink_to(outside)
    (tree / "out2").symlink_to(outside)
    (tree / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "check", "tree")
    assert code == 1
    # Links that lead out of the scanned tree are not followed in a walk (a link to / would
    # make a hook read the whole machine); they are counted. Named, a link is followed.
    assert out.splitlines()[-1].endswith(
        "in 1 of 1 file; 2 fixable with k8slint fix (6 more with --unsafe-fixes); 2 documents, 2 objects checked; "
        "2 links out of the scanned tree skipped.")
    assert {line.split(":")[0] for line in out.splitlines()[:-1]} == {"tree/a.yaml"}
    code, out, _ = run(capsys, "check", "tree/out1")
    assert {line.split(":")[0] for line in out.splitlines()[:-1]} == {"tree/out1/o.yaml"}


def test_unreadable_file_is_an_error_and_the_rest_is_reported(capsys, tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text(GOOD.read_text())
    (tmp_path / "secret.yaml").write_text(GOOD.read_text())
    real_open = Path.open

    def deny(self, *args, **kwargs):  # root reads anything: deny by hand
        if self.name == "secret.yaml":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "-j1", ".")
    assert code == 2
    assert err == "k8slint: error: cannot read secret.yaml: Permission denied\n"
    assert {line.split(":")[0] for line in out.splitlines()[:-1]} == {"a.yaml"}
    assert out.splitlines()[-1].endswith(
        "in 1 of 2 files; 2 fixable with k8slint fix (6 more with --unsafe-fixes); 2 documents, 2 objects checked.")


def test_names_with_spaces_and_non_ascii(capsys, tmp_path, monkeypatch):
    (tmp_path / "dir with space").mkdir()
    (tmp_path / "dir with space" / "pöd 1.yaml").write_text(GOOD.read_text())
    monkeypatch.chdir(tmp_path)
    out = run(capsys, "check", "dir with space")[1]
    assert "dir with space/pöd 1.yaml:10:9: error latest-tag-drift " in out


# --- nothing lost ----------------------------------------------------------------------------


def test_bad_files_among_a_thousand_good_ones_lose_nothing(capsys, tmp_path, monkeypatch):
    good, mixed = tmp_path / "good", tmp_path / "mixed"
    good.mkdir()
    text = GOOD.read_text()
    for n in range(1000):
        (good / f"g{n:04}.yaml").write_text(text.replace("name: web", f"name: web{n}"))
    import shutil

    shutil.copytree(good, mixed)
    bad = {
        "syntax.yaml": b"a: [\n", "dup.yaml": POD.encode() + b"kind: Pod\n",
        "latin1.yaml": b"name: caf\xe9\n", "binary.yaml": bytes(range(256)) * 8,
        "nul.yaml": b"a: 1\x00\n", "bomb.yaml": alias_bomb().encode(), "tabs.yaml": b"a:\n\tb: 1\n",
        "deep.yaml": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "empty.yaml": b"",
    }
    for name, raw in bad.items():
        (mixed / name).write_bytes(raw)
    os.mkfifo(mixed / "fifo.yaml")
    monkeypatch.chdir(tmp_path)
    code_good, out_good, _ = run(capsys, "check", "--format", "json", "good")
    code_mixed, out_mixed, err = run(capsys, "check", "--format", "json", "mixed")
    import json

    def keyed(out, folder):
        return sorted((f["rule"], f["file"].split("/", 1)[1], f["line"], f["column"])
                      for f in json.loads(out)["findings"] if f["file"].startswith(folder + "/g"))

    assert keyed(out_mixed, "mixed") == keyed(out_good, "good")
    # 14 a file: 13, and the fixture Deployment's missing selector (missing-required-field).
    assert len(keyed(out_good, "good")) == 14000
    bad_findings = {f["file"].split("/")[-1] for f in json.loads(out_mixed)["findings"]
                    if not f["file"].split("/")[-1].startswith("g")}
    # In a walk, files that do not parse and show no sign of a manifest are skipped and
    # counted; named, each is reported.
    not_manifests = {"syntax.yaml", "latin1.yaml", "binary.yaml", "nul.yaml", "tabs.yaml", "deep.yaml"}
    assert bad_findings == set(bad) - {"empty.yaml"} - not_manifests
    assert json.loads(out_mixed)["summary"]["notManifests"] == len(not_manifests)
    assert (code_good, code_mixed, err) == (1, 1, "")
    code, out, _ = run(capsys, "check", "--format", "json", *(f"mixed/{name}" for name in bad))
    assert code == 1
    assert {f["file"].split("/")[-1] for f in json.loads(out)["findings"]} == set(bad) - {"empty.yaml"}


def test_nested_lists_where_strings_belong_do_not_break_rules():
    """Found by fuzzing: a list as a command's first argument."""
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: etcd\n"
        "    image: quay.io/coreos/etcd:v3.5\n    command: [/usr/local/bin/etcd]\n    args:\n    - - x\n"
        "  - name: e2\n    image: registry.k8s.io/etcd:3.5\n    args: [[grpc-proxy]]\n"
    )
    from k8slint.catalog import catalog
    from k8slint.engine import Engine

    result = Engine({r: m.severity for r, m in catalog().items()}).lint_bytes("p.yaml", text.encode())
    assert result.errors == []


ODD_PARTNERS = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: odd}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: [a, b]}, matchExpressions: [{key: x, operator: In, values: y}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: odd}
spec: {scaleTargetRef: {kind: [Deployment], name: {a: 1}}, minReplicas: 2}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: odd}
spec: {scaleTargetRef: {kind: {x: 1}, name: [w]}}
---
apiVersion: v1
kind: Service
metadata: {name: odd}
spec: {selector: {1: a, b: [c]}}
---
apiVersion: example.com/v1
kind: Thing
metadata: {name: odd}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: odd}
spec: {replicas: 2, template: {metadata: {labels: [x]}, spec: {volumes: 5, containers: 7}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: odd}
spec: {template: {}}
"""


def test_odd_shapes_never_break_cross_object_rules(capsys, tmp_path, monkeypatch):
    (tmp_path / "odd.yaml").write_text(ODD_PARTNERS)
    monkeypatch.chdir(tmp_path)
    # The odd shapes are schema errors on purpose; this test is about the cross-object rules.
    schema = [a for r in ("unknown-field", "invalid-field-type", "missing-required-field",
                          "invalid-field-value", "unknown-kind") for a in ("--disable", r)]
    code, out, err = run(capsys, "check", "--enable", "unknown-service-account", *schema, "odd.yaml")
    assert err == "" and code == 1
    # The budget's missing unhealthyPodEvictionPolicy, the grace period, the single replica.
    assert out.splitlines()[-1].startswith("3 findings (0 errors, 3 warnings, 0 info) in 1 of 1 file;")


def test_many_duplicate_keys_and_a_list_s_own_key():
    text = "apiVersion: v1\nkind: List\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
    assert [(f.rule, f.line, f.kind, f.path) for f in lint_text(text)] == [
        ("duplicate-key", 3, "List", ("kind",))]
    many = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + "".join(
        f"  k{i % 50}: v\n" for i in range(5000))
    findings = lint_text(many, rules=["duplicate-key"])
    assert len(findings) == 4950
    assert findings[0].message.startswith('key "k0" repeats in this mapping (first at 5:3)')


@pytest.mark.parametrize("args, message", [
    (["--max-file-size", "inf"], "expected a size such as 10M"),
    (["--max-file-size", "0.0001"], "expected a size such as 10M"),
    (["--write-baseline", "no/such/dir/b.json"], "cannot write no/such/dir/b.json"),
])
def test_bad_options_are_one_line_errors(capsys, tmp_path, monkeypatch, args, message):
    (tmp_path / "a.yaml").write_text(GOOD.read_text())
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "check", *args, "a.yaml")
    assert code == 2 and message in err and "Traceback" not in err


def test_odd_config_globs_and_kustomizations(capsys, tmp_path, monkeypatch):
    make_git_folder(tmp_path)
    (tmp_path / ".k8slint.yaml").write_text('exclude: ["[z-a].yaml"]\n')
    (tmp_path / "kustomization.yaml").write_text("patches: 5\npatchesStrategicMerge: [\"a\\u0000b.yaml\"]\n")
    (tmp_path / "a.yaml").write_text(GOOD.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))  # outside the tree
    code, out, err = run(capsys, "check", "--no-render", ".")
    assert (code, err) == (1, "")
    assert "in 1 of 2 files" in out.splitlines()[-1]
    from k8slint.kbuild import kustomize_command

    if kustomize_command() is not None:  # built, the kustomization is an error of its own
        code, out, err = run(capsys, "check", ".")
        assert (code, err) == (1, "")
        assert out.splitlines()[-2].startswith(
            "kustomization.yaml:1:1: error kustomize-build-error invalid Kustomization: json: cannot "
            "unmarshal number into Go struct field Kustomization.patches")
        assert "in 2 of 2 files" in out.splitlines()[-1]


def test_undecodable_file_names_in_every_format(capsys, tmp_path, monkeypatch):
    import json

    name = os.fsdecode(b"caf\xe9.yaml")
    (tmp_path / name).write_text(GOOD.read_text())
    monkeypatch.chdir(tmp_path)
    for fmt in ("text", "json", "sarif", "github"):
        code, _, err = run(capsys, "check", "--format", fmt, "--output", "r.out", ".")
        assert (code, err) == (1, ""), fmt
    run(capsys, "check", "--format", "sarif", "--output", "r.sarif", ".")
    uri = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "caf%E9.yaml"  # the exact bytes of the name
    assert oct((tmp_path / "r.sarif").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

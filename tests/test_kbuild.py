"""k8slint.kbuild: build roots, real kustomize builds, and where each built field is placed.

The fixture trees are in tests/data/kustomize (see its README.md); positions are pinned
exactly, as (file relative to that folder, line, column)."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest

from k8slint import kbuild
from k8slint.loader import load_text, locate

from .helpers import REPO, corpus_dir

DATA = (REPO / "tests" / "data" / "kustomize").resolve()
COMMAND = kbuild.kustomize_command()
needs_kustomize = pytest.mark.skipif(COMMAND is None, reason="neither kustomize nor kubectl is on PATH")

DEPLOY = ("spec", "template", "spec", "containers")


def built(root: str | Path) -> kbuild.Piece:
    result = kbuild.build(str(root))
    assert result.error is None, result.error
    assert len(result.pieces) == 1
    return result.pieces[0]


def where(piece: kbuild.Piece, kind: str, name: str, path: tuple) -> tuple[str, int, int]:
    """place() for ``path`` of the built object ``kind``/``name``, asked as the lead asks
    it (with the position loader.locate gives in the built text), relative to DATA."""
    for document in load_text(piece.text).documents:
        data = document.data
        if data["kind"] == kind and data["metadata"]["name"] == name:
            at = locate(document.root, path)
            file, line, column = piece.place(document.index, path, at.line, at.column)
            return os.path.relpath(file, DATA), line, column
    raise AssertionError(f"no {kind} {name} in the build")


def plain_build(root: str | Path) -> subprocess.CompletedProcess:
    assert COMMAND is not None
    return subprocess.run(COMMAND + [str(root)], capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, timeout=120)


# --- the graph ----------------------------------------------------------------------------------


def test_kustomize_command_prefers_kustomize(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {"kubectl": "/usr/bin/kubectl"}
    monkeypatch.setattr(kbuild.shutil, "which", found.get)
    assert kbuild.kustomize_command() == ["kubectl", "kustomize"]
    found["kustomize"] = "/usr/bin/kustomize"
    assert kbuild.kustomize_command() == ["kustomize", "build"]
    found.clear()
    assert kbuild.kustomize_command() is None


def test_build_roots_of_the_fixture_trees() -> None:
    folders = [p.parent for p in DATA.rglob("kustomization.yaml")]
    trees = kbuild.build_roots(str(f) for f in folders)
    assert [os.path.relpath(t.root, DATA) for t in trees] == [
        "failing", "overlays/json", "overlays/legacy", "overlays/smp"]
    by_root = {os.path.relpath(t.root, DATA): t for t in trees}

    def rel(files: frozenset[str]) -> list[str]:
        return sorted(os.path.relpath(f, DATA) for f in files)

    assert rel(by_root["overlays/json"].files) == [
        "base/deployment.yaml", "base/kustomization.yaml", "base/service.yaml",
        "components/probes/kustomization.yaml", "components/probes/probe.yaml",
        "overlays/json/kustomization.yaml", "overlays/json/replicas-json.yaml"]
    assert rel(by_root["overlays/json"].patches) == ["components/probes/probe.yaml", "overlays/json/replicas-json.yaml"]
    assert rel(by_root["overlays/smp"].patches) == ["overlays/smp/replicas-patch.yaml"]
    assert rel(by_root["overlays/legacy"].patches) == ["overlays/legacy/pull-policy.yaml"]
    assert rel(by_root["failing"].files) == ["failing/deployment.yaml", "failing/kustomization.yaml"]


def write(folder: Path, text: str, name: str = "kustomization.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_build_roots_every_file_form(tmp_path: Path) -> None:
    write(tmp_path / "root", """\
resources: [a.yaml, ../base, https://example.com/x.yaml, github.com/org/repo//dir?ref=v1]
crds: [crd.yaml]
configurations: [config.yaml]
openapi: {path: schema.json}
replacements: [{path: repl.yaml}]
generators: [gen]
configMapGenerator:
- name: c
  files: [key=data.txt, plain.txt]
  envs: [a.env]
secretGenerator:
- name: s
  env: s.env
patchesStrategicMerge: [smp.yaml, "kind: Deployment\\nmetadata: {name: x}\\n"]
patchesJson6902: [{target: {kind: Deployment, name: x}, path: ops.yaml}]
patches: [{path: p.yaml}, {patch: "kind: Deployment"}]
""")
    for name in ("a.yaml", "crd.yaml", "config.yaml", "schema.json", "repl.yaml", "data.txt", "plain.txt",
                 "a.env", "s.env", "smp.yaml", "ops.yaml", "p.yaml"):
        (tmp_path / "root" / name).write_text("x: 1\n")
    write(tmp_path / "root" / "gen", "resources: [g.yaml]\n")
    (tmp_path / "root" / "gen" / "g.yaml").write_text("x: 1\n")
    write(tmp_path / "base", "kind: Kustomization\n")
    [tree] = kbuild.build_roots([str(tmp_path / "root"), str(tmp_path / "base")])
    assert tree.root == str(tmp_path / "root")
    assert sorted(os.path.relpath(f, tmp_path) for f in tree.files) == [
        "base/kustomization.yaml", "root/a.env", "root/a.yaml", "root/config.yaml", "root/crd.yaml",
        "root/data.txt", "root/gen/g.yaml", "root/gen/kustomization.yaml", "root/kustomization.yaml",
        "root/ops.yaml", "root/p.yaml", "root/plain.txt", "root/repl.yaml", "root/s.env",
        "root/schema.json", "root/smp.yaml"]
    assert sorted(os.path.relpath(f, tmp_path) for f in tree.patches) == [
        "root/ops.yaml", "root/p.yaml", "root/smp.yaml"]


def test_build_roots_components_and_other_kinds_are_not_roots(tmp_path: Path) -> None:
    write(tmp_path / "comp", "kind: Component\n")
    write(tmp_path / "odd", "kind: Something\n")
    write(tmp_path / "plain", "resources: []\n")
    write(tmp_path / "named", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
          name="Kustomization")
    write(tmp_path / "yml", "components: [../comp]\n", name="kustomization.yml")
    (tmp_path / "none").mkdir()
    folders = [str(tmp_path / n) for n in ("comp", "odd", "plain", "named", "yml", "none")]
    roots = [os.path.relpath(t.root, tmp_path) for t in kbuild.build_roots(folders)]
    assert roots == ["named", "plain", "yml"]


def test_build_roots_hostile_graphs(tmp_path: Path) -> None:
    # A loop: each includes the other, so neither is reached from outside; one root is made
    # of it, so that kustomize's own error is seen.
    write(tmp_path / "a", "resources: [../b]\n")
    write(tmp_path / "b", "resources: [../a]\n")
    write(tmp_path / "self", "resources: [., ./, ../self]\n")
    # Files outside a kustomization's folder are refused by kustomize: never listed.
    outside = tmp_path / "secret.yaml"
    outside.write_text("x: 1\n")
    write(tmp_path / "climb", "resources: [../secret.yaml, ../../../../../../../../etc/passwd, link.yaml]\n"
          "patches: [{path: ../secret.yaml}]\n")
    (tmp_path / "climb" / "link.yaml").symlink_to(outside)
    # Depth: a chain of 200 kustomizations is read to a bound, not to a stack overflow.
    for i in range(200):
        write(tmp_path / "deep" / f"k{i}", f"resources: [../k{i + 1}]\n")
    # Broken kustomizations: not YAML, not a mapping, binary.
    write(tmp_path / "broken", "resources: [unclosed\n")
    write(tmp_path / "list", "- a\n- b\n")
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "kustomization.yaml").write_bytes(b"\xff\xfe\x00\x00garbage")
    folders = [tmp_path / n for n in ("a", "b", "self", "climb", "broken", "list", "binary")]
    folders.append(tmp_path / "deep" / "k0")
    trees = {os.path.relpath(t.root, tmp_path): t for t in kbuild.build_roots(str(f) for f in folders)}
    assert sorted(trees) == ["a", "binary", "broken", "climb", "deep/k0", "list", "self"]
    assert sorted(os.path.relpath(f, tmp_path) for f in trees["a"].files) == [
        "a/kustomization.yaml", "b/kustomization.yaml"]
    assert [os.path.relpath(f, tmp_path) for f in trees["climb"].files] == ["climb/kustomization.yaml"]
    assert trees["climb"].patches == frozenset()
    assert len(trees["deep/k0"].files) == kbuild.MAX_DEPTH + 1


def test_build_roots_with_top_reads_nothing_outside(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "overlay", "resources: [../../elsewhere]\n")
    write(tmp_path / "elsewhere", "resources: [a.yaml]\n")
    (tmp_path / "elsewhere" / "a.yaml").write_text("x: 1\n")
    write(tmp_path / "repo" / "linked", "resources: []\n", name="real.yaml")
    (tmp_path / "repo" / "linked" / "kustomization.yaml").symlink_to(tmp_path / "elsewhere" / "kustomization.yaml")
    trees = kbuild.build_roots([str(tmp_path / "repo" / n) for n in ("overlay", "linked")], top=str(tmp_path / "repo"))
    assert [(os.path.relpath(t.root, tmp_path), sorted(os.path.relpath(f, tmp_path) for f in t.files))
            for t in trees] == [("repo/overlay", ["repo/overlay/kustomization.yaml"])]


# --- the build ------------------------------------------------------------------------------------


@needs_kustomize
@pytest.mark.parametrize("root", ["overlays/smp", "overlays/json", "overlays/legacy", "base",
                                  "components/probes"])
def test_build_equals_a_plain_build(root: str) -> None:
    """What is linted is what would be deployed: the same text, byte for byte, as a plain
    build of the root, with no origin annotation left (a component alone fails alike)."""
    plain = plain_build(DATA / root)
    result = kbuild.build(str(DATA / root))
    if plain.returncode != 0:
        assert result.error is not None and result.pieces == []
        return
    assert result.error is None
    assert result.pieces[0].text == plain.stdout
    assert kbuild.ORIGIN_ANNOTATION not in result.pieces[0].text


@needs_kustomize
def test_build_keeps_the_roots_sort_order_and_other_annotations(tmp_path: Path) -> None:
    root = write(tmp_path / "root", "resources: [a.yaml]\nsortOptions:\n  order: fifo\n"
                 "commonAnnotations: {team: shop}\n")
    (root / "a.yaml").write_text("kind: Service\napiVersion: v1\nmetadata: {name: z}\n---\n"
                                 "kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n")
    piece = built(root)
    assert piece.text == plain_build(root).stdout
    assert piece.text.index("kind: Service") < piece.text.index("kind: Namespace")
    assert "    team: shop\n" in piece.text
    assert piece.place(1, ("metadata", "name"), 0, 0) == (str(root / "a.yaml"), 7, 12)


@needs_kustomize
def test_a_component_builds_alone_as_a_plain_build_does(tmp_path: Path) -> None:
    root = write(tmp_path / "comp", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                 "resources: [policy.yaml]\nnamespace: shop\n")
    (root / "policy.yaml").write_text("apiVersion: policy/v1\nkind: PodDisruptionBudget\n"
                                      "metadata:\n  name: web\nspec:\n  minAvailable: 1\n")
    piece = built(root)
    assert piece.text == plain_build(root).stdout
    assert piece.place(0, ("spec", "minAvailable"), 0, 0) == (str(root / "policy.yaml"), 6, 3)
    assert piece.place(0, ("metadata", "namespace"), 0, 0) == (str(root / "kustomization.yaml"), 4, 1)


def snapshot(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*"))


@needs_kustomize
def test_build_writes_nothing_in_the_users_tree_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(kbuild.tempfile, "tempdir", str(scratch))
    before = snapshot(DATA)
    for root in ("overlays/smp", "failing"):
        kbuild.build(str(DATA / root))
    assert snapshot(DATA) == before
    assert list(scratch.iterdir()) == []


@needs_kustomize
def test_failing_root_is_an_error_at_the_entry_it_names() -> None:
    result = kbuild.build(str(DATA / "failing"))
    assert result.pieces == []
    error = result.error
    assert error is not None
    assert (os.path.relpath(error.file, DATA), error.line, error.column) == ("failing/kustomization.yaml", 5, 3)
    assert error.message.startswith("accumulating resources: accumulation err='accumulating resources from "
                                    "'missing.yaml': evalsymlink failure on '")
    assert str(DATA / "failing" / "missing.yaml") in error.message
    assert "k8slint-kbuild" not in error.message and "../" not in error.message
    assert result.seconds > 0


@needs_kustomize
def test_a_loop_is_an_error_not_a_hang(tmp_path: Path) -> None:
    write(tmp_path / "a", "resources: [../b]\n")
    write(tmp_path / "b", "resources: [../a]\n")
    error = kbuild.build(str(tmp_path / "a")).error
    assert error is not None and error.file == str(tmp_path / "a" / "kustomization.yaml")
    assert (error.line, error.column) == (1, 13)  # the entry "../b"


@needs_kustomize
def test_remote_resources_are_not_fetched(tmp_path: Path) -> None:
    write(tmp_path / "r", "resources:\n- https://example.com/never-fetched.yaml\n")
    error = kbuild.build(str(tmp_path / "r")).error
    assert error is not None
    assert (error.line, error.column) == (2, 3)
    assert error.message.endswith("(k8slint builds offline: remote resources are not fetched)")


def test_no_kustomization_or_no_engine_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error = kbuild.build(str(tmp_path)).error
    assert error is not None
    assert error.file == str(tmp_path / "kustomization.yaml")
    assert error.message.startswith("no kustomization file (kustomization.yaml, kustomization.yml, Kustomization) in ")
    write(tmp_path, "resources: []\n")
    monkeypatch.setattr(kbuild, "kustomize_command", lambda: None)
    error = kbuild.build(str(tmp_path)).error
    assert error == kbuild.BuildError(str(tmp_path / "kustomization.yaml"), 1, 1,
                                      "neither kustomize nor kubectl is on PATH")


def test_time_limit_output_bound_and_messages_of_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child is stopped at its time limit and past its output bound; its message is
    cleaned of control characters and cut to a bounded length; stdin is closed."""
    root = write(tmp_path / "root", "resources: []\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(kbuild.tempfile, "tempdir", str(scratch))
    error = kbuild.build(str(root), timeout=0.5, command=["sh", "-c", "sleep 30"]).error
    assert error is not None
    assert error.message == "the build ran past its time limit (0.5 s) and was stopped"
    error = kbuild.build(str(root), max_output=10_000, command=["sh", "-c", "yes"]).error
    assert error is not None
    assert error.message == "the build's output passed 10,000 bytes and it was stopped"
    error = kbuild.build(str(root), command=["sh", "-c", r"printf 'Error: bad\033[31m\tthing\n\a' >&2; exit 3"]).error
    assert error is not None and error.message == "bad [31m thing"
    error = kbuild.build(str(root), command=["sh", "-c", "head -c 5000 /dev/zero | tr '\\0' x >&2; exit 1"]).error
    assert error is not None and len(error.message) == kbuild.MAX_MESSAGE and error.message.endswith("…")
    error = kbuild.build(str(root), command=["sh", "-c", "read line; exit 1"]).error
    assert error is not None and error.message == "sh failed (exit code 1)"
    error = kbuild.build(str(root), command=["/nonexistent/kustomize"]).error
    assert error is not None and error.message.startswith("cannot run /nonexistent/kustomize: ")
    assert list(scratch.iterdir()) == []


def test_a_temporary_folder_inside_the_root_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path / "root", "resources: []\n")
    monkeypatch.setattr(kbuild.tempfile, "tempdir", str(root))
    error = kbuild.build(str(root), command=["true"]).error
    assert error is not None
    assert error.message == "the temporary folder would be inside the kustomization's tree"
    assert sorted(p.name for p in root.iterdir()) == ["kustomization.yaml"]


def test_output_that_is_not_yaml_is_an_error(tmp_path: Path) -> None:
    root = write(tmp_path / "root", "resources: []\n")
    error = kbuild.build(str(root), command=["sh", "-c", "printf 'a: [\\n'"]).error
    assert error is not None and error.message.startswith("kustomize's output cannot be read: invalid YAML")


# --- positions ------------------------------------------------------------------------------------


@needs_kustomize
def test_positions_through_a_strategic_merge_overlay() -> None:
    piece = built(DATA / "overlays" / "smp")
    web = ("Deployment", "smp-web")
    assert where(piece, *web, ()) == ("base/deployment.yaml", 1, 1)
    # Base lines, found by name although namePrefix renamed the object.
    assert where(piece, *web, ("metadata", "name")) == ("base/deployment.yaml", 4, 3)
    assert where(piece, *web, ("spec", "selector", "matchLabels", "app")) == ("base/deployment.yaml", 11, 7)
    # Containers are matched by name: the patch moved web before sidecar in the build.
    assert where(piece, *web, DEPLOY + (1, "image")) == ("base/deployment.yaml", 19, 9)
    assert where(piece, *web, DEPLOY + (0,)) == ("base/deployment.yaml", 20, 9)
    assert where(piece, *web, DEPLOY + (0, "ports", 0, "containerPort")) == ("base/deployment.yaml", 24, 11)
    assert where(piece, *web, DEPLOY + (0, "env", 0, "name")) == ("base/deployment.yaml", 26, 11)
    # A missing field: the deepest key that exists, in the base.
    assert where(piece, *web, DEPLOY + (1, "lifecycle", "preStop")) == ("base/deployment.yaml", 18, 9)
    assert where(piece, *web, ("spec", "template", "spec", "terminationGracePeriodSeconds")) == (
        "base/deployment.yaml", 16, 5)
    # The patch's lines: replicas: 1, an env value, and what it adds.
    assert where(piece, *web, ("spec", "replicas")) == ("overlays/smp/replicas-patch.yaml", 6, 3)
    assert where(piece, *web, DEPLOY + (0, "env", 0, "value")) == ("overlays/smp/replicas-patch.yaml", 13, 11)
    assert where(piece, *web, DEPLOY + (0, "lifecycle")) == ("overlays/smp/replicas-patch.yaml", 14, 9)
    assert where(piece, *web, DEPLOY + (0, "lifecycle", "preStop", "exec", "command", 1)) == (
        "overlays/smp/replicas-patch.yaml", 17, 34)
    # The kustomization's entries: images:, namespace:, and an inline patch's `patch:` key.
    assert where(piece, *web, DEPLOY + (0, "image")) == ("overlays/smp/kustomization.yaml", 8, 3)
    assert where(piece, *web, ("metadata", "namespace")) == ("overlays/smp/kustomization.yaml", 3, 1)
    assert where(piece, "Deployment", "smp-worker", DEPLOY + (0, "imagePullPolicy")) == (
        "overlays/smp/kustomization.yaml", 15, 3)
    # Untouched by the overlay: the base, even where the images: entry does not apply.
    assert where(piece, "Deployment", "smp-worker", ("spec", "replicas")) == ("base/deployment.yaml", 34, 3)
    assert where(piece, "Deployment", "smp-worker", DEPLOY + (0, "image")) == ("base/deployment.yaml", 45, 9)
    assert where(piece, "Service", "smp-web", ("spec", "ports", 0, "targetPort")) == ("base/service.yaml", 10, 5)
    # A generated object: its generator entry, and the namespace entry for its namespace.
    config = ("ConfigMap", "smp-web-config-hf678c7m2b")
    assert where(piece, *config, ("data", "LOG_LEVEL")) == ("base/kustomization.yaml", 7, 3)
    assert where(piece, *config, ()) == ("base/kustomization.yaml", 7, 3)
    assert where(piece, *config, ("metadata", "namespace")) == ("overlays/smp/kustomization.yaml", 3, 1)


@needs_kustomize
def test_positions_through_a_json6902_overlay_with_a_component() -> None:
    piece = built(DATA / "overlays" / "json")
    web = ("Deployment", "web")
    # The operation that sets replicas: 1 (its item), and a key inside an operation's value.
    assert where(piece, *web, ("spec", "replicas")) == ("overlays/json/replicas-json.yaml", 1, 3)
    # The component's patch reordered the containers before the operation's index 1 was read.
    assert where(piece, *web, DEPLOY + (1, "name")) == ("base/deployment.yaml", 18, 9)
    assert where(piece, *web, DEPLOY + (1, "resources")) == ("overlays/json/replicas-json.yaml", 4, 3)
    assert where(piece, *web, DEPLOY + (1, "resources", "limits", "memory")) == (
        "overlays/json/replicas-json.yaml", 8, 7)
    # The component's strategic-merge patch.
    assert where(piece, *web, DEPLOY + (0, "readinessProbe", "httpGet", "port")) == (
        "components/probes/probe.yaml", 13, 13)
    assert where(piece, *web, DEPLOY + (0, "image")) == ("base/deployment.yaml", 21, 9)
    # The replicas: entry.
    assert where(piece, "Deployment", "worker", ("spec", "replicas")) == ("overlays/json/kustomization.yaml", 8, 3)
    # The secretGenerator entry of the overlay, the configMapGenerator entry of the base.
    assert where(piece, "Secret", "creds-m4d885dchh", ("data", "password")) == (
        "overlays/json/kustomization.yaml", 16, 3)
    assert where(piece, "ConfigMap", "web-config-hf678c7m2b", ("data",)) == ("base/kustomization.yaml", 7, 3)


@needs_kustomize
def test_positions_through_the_legacy_patch_fields() -> None:
    piece = built(DATA / "overlays" / "legacy")
    assert where(piece, "Deployment", "worker", ("spec", "replicas")) == ("overlays/legacy/kustomization.yaml", 6, 3)
    assert where(piece, "Deployment", "web", DEPLOY + (1, "imagePullPolicy")) == (
        "overlays/legacy/pull-policy.yaml", 1, 3)
    assert where(piece, "Deployment", "web", ("spec", "replicas")) == ("base/deployment.yaml", 8, 3)


@needs_kustomize
def test_place_never_raises() -> None:
    piece = built(DATA / "overlays" / "smp")
    base = str(DATA / "base" / "deployment.yaml")
    assert piece.place(2, ("spec", "no", "such", 7, "path"), 1, 1) == (base, 7, 1)
    assert piece.place(2, ("spec", "replicas", 3), 1, 1) == (str(DATA / "overlays/smp/replicas-patch.yaml"), 6, 3)
    assert piece.place(99, ("spec",), 1, 1) == (str(DATA / "overlays/smp/kustomization.yaml"), 1, 1)
    assert piece.place(-1, (), 1, 1) == (str(DATA / "overlays/smp/kustomization.yaml"), 1, 1)
    assert piece.place(2, (None, {}, 1.5), 1, 1) == (base, 1, 1)  # type: ignore[arg-type]


# --- the real corpus ------------------------------------------------------------------------------


@needs_kustomize
def test_corpus_roots_build_as_the_table_says() -> None:
    """Every root whose row says it builds builds, to the objects a plain build makes (the
    table's object count where it gives one: today's table has the column but no counts);
    every row that says it fails is an error, not an exception."""
    corpus = corpus_dir()
    with (corpus / "KUSTOMIZE.tsv").open(newline="") as stream:
        table = list(csv.reader(stream, delimiter="\t"))[1:]
    rows = {os.path.realpath(corpus / "real" / row[0]): row for row in table}
    roots = {t.root for t in kbuild.build_roots(rows)}
    built_roots = 0
    for folder, row in sorted(rows.items()):
        if row[2] == "yes" and folder in roots:
            result = kbuild.build(folder)
            assert result.error is None, (row[0], result.error)
            documents = load_text(result.pieces[0].text).documents
            count = row[3] if len(row) > 4 else ""
            if count.isdigit():
                assert len(documents) == int(count), row[0]
            else:
                assert result.pieces[0].text == plain_build(folder).stdout, row[0]
            for document in documents:  # every object is placed in a file of the tree
                file, line, column = result.pieces[0].place(document.index, (), 1, 1)
                assert os.path.isfile(file) and line >= 1 and column >= 1, (row[0], document.index)
            built_roots += 1
        elif row[2] == "no":
            result = kbuild.build(folder)
            assert result.error is not None and result.pieces == [], row[0]
            assert result.error.message, row[0]
    assert built_roots >= 10

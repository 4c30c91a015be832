"""k8slint.helm: charts rendered by a real Helm engine, every rendered key placed at the
template line that produces it (exact file, line and column per construct)."""

from __future__ import annotations

import csv
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from k8slint import helm
from k8slint.loader import load_text, locate

DATA = Path(__file__).parent / "data" / "helm"
APP = DATA / "app"
CORPUS = Path(os.environ.get("K8SLINT_CORPUS", "/work/shared/corpus")) / "charts"

needs_engine = pytest.mark.skipif(helm.helm_engine() is None,
                                  reason="no Helm engine (helm on PATH, or the k8slint[helm] extra)")


def _piece(rendered: helm.Rendered, template: str) -> helm.Piece:
    (piece,) = [p for p in rendered.pieces if p.text.startswith(f"---\n# Source: {template}\n")]
    return piece


def _place(piece: helm.Piece, path: tuple, document: int = 0) -> tuple[str, int, int]:
    """Where the linter would ask: the rendered position of ``path``, then place()."""
    root = load_text(piece.text).documents[document].root
    at = locate(root, path)
    file, line, column = piece.place(document, path, at.line, at.column)
    return os.path.relpath(file, DATA), line, column


@pytest.fixture(scope="module")
def app() -> helm.Rendered:
    if helm.helm_engine() is None:
        pytest.skip("no Helm engine (helm on PATH, or the k8slint[helm] extra)")
    return helm.render_chart(str(APP), kube_version="1.37")


# --- charts -----------------------------------------------------------------------------


def test_find_charts_skips_subcharts_and_library_charts() -> None:
    assert helm.find_charts(str(DATA)) == [str(DATA / "app"), str(DATA / "broken")]
    assert helm.is_library(str(DATA / "lib"))


def test_chart_of_is_the_topmost_chart() -> None:
    assert helm.chart_of(str(APP / "charts/sub/templates/service.yaml")) == str(APP)
    assert helm.chart_of(str(APP / "values.yaml")) == str(APP)
    assert helm.chart_of(str(DATA)) is None
    assert helm.chart_of(str(APP / "charts/sub/values.yaml"), top=str(APP / "charts/sub")) == str(APP / "charts/sub")


def test_chart_files_are_every_file_of_the_chart(tmp_path: Path) -> None:
    chart = tmp_path / "c"
    shutil.copytree(APP, chart)
    (tmp_path / "outside.yaml").write_text("a: 1\n")
    (chart / "link-out.yaml").symlink_to(tmp_path / "outside.yaml")
    (chart / "link-in.yaml").symlink_to(chart / "values.yaml")
    files = {os.path.relpath(f, chart) for f in helm.chart_files(str(chart))}
    assert files == {"Chart.yaml", "values.yaml", "templates/_helpers.tpl", "templates/deployment.yaml",
                     "templates/pdb.yaml", "templates/NOTES.txt", "charts/sub/Chart.yaml",
                     "charts/sub/values.yaml", "charts/sub/templates/service.yaml"}


# --- splitting as Helm does -------------------------------------------------------------


def test_split_manifests_as_helm() -> None:
    text = "\n\n---\na: 1\n---\n# only a comment\n---   \n\n---\nb: 2\n  \n"
    # Helm's separator eats the white space after "---", line breaks included, so a
    # "---" right after one is not a separator but the next document's first line.
    assert helm.split_manifests(text) == [(6, "a: 1"), (15, "# only a comment"), (40, "---\nb: 2")]
    assert helm.split_manifests(" \n\t\n") == []
    assert helm.split_manifests("a: 1\n---\n") == [(0, "a: 1")]


def test_helm_template_arguments() -> None:
    assert helm.helm_template_args("/c", kube_version="1.37", values=["/v1.yaml", "/v2.yaml"]) == [
        "helm", "template", "release-name", "/c", "--namespace", "default", "--kube-version", "1.37.0",
        "--values", "/v1.yaml", "--values", "/v2.yaml"]
    assert helm.helm_template_args("/c", kube_version="v1.30.2", release="r", namespace="ns")[2:] == [
        "r", "/c", "--namespace", "ns", "--kube-version", "1.30.2"]


def test_messages_are_one_bounded_line() -> None:
    assert helm.clean_message("Error: bad\x1b[31m\nthing\r\n") == "bad[31m thing"
    assert len(helm.clean_message("x" * 5000)) == helm.MAX_MESSAGE


def test_markers_never_go_where_they_change_the_render() -> None:
    text = (
        "a: 1\n"                       # 1 literal: marked
        "{{- if .x }}\n"               # 2 control: marked (text after the action)
        "b: {{ .y -}}\n"               # 3 ends in a right trim: no marker
        "   \n"                        # 4 white space only: no marker
        "c: 2   \n"                    # 5 trailing white space a left trim removes: no marker
        "  {{- .z }}\n"                # 6 marked
        "{{- define \"d\" }}\n"        # 7 opens a define: no marker
        "in: define\n"                 # 8 inside the define: no marker
        "{{- end }}\n"                 # 9 starts inside the define: no marker
        "d: {{ list\n"                 # 10 an action spans the line break: no marker
        "  1 }}\n"                     # 11 marked
        "---\n"                        # 12 a separator: no marker
        "e: {{ \"}}\" }} {{/* x\n"     # 13 a comment spans the break: no marker
        "*/}}\n"                       # 14 marked
    )
    assert helm._scan(text).markable == [True, True, False, False, False, True, False, False, False,
                                         False, True, False, False, True, False]


# --- rendering and positions ------------------------------------------------------------


@needs_engine
def test_one_piece_per_rendered_template(app: helm.Rendered) -> None:
    assert app.errors == []
    names = [p.text.split("\n", 2)[1] for p in app.pieces]
    assert names == ["# Source: app/charts/sub/templates/service.yaml", "# Source: app/templates/deployment.yaml",
                     "# Source: app/templates/pdb.yaml"]  # no NOTES.txt, no _helpers.tpl
    pdb = _piece(app, "app/templates/pdb.yaml")
    assert pdb.text.count("---\n# Source: app/templates/pdb.yaml\n") == 3  # the empty document dropped
    assert "#@" not in "".join(p.text for p in app.pieces)


DEPLOYMENT = "app/templates/deployment.yaml"
POD = ("spec", "template", "spec")


@needs_engine
@pytest.mark.parametrize(("path", "expected"), [
    # literal keys map to themselves, at the key
    ((), (DEPLOYMENT, 1, 1)),
    (("metadata", "labels"), (DEPLOYMENT, 5, 3)),
    (("spec", "selector", "matchLabels", "app"), (DEPLOYMENT, 11, 7)),
    # an expression value: the line holding it, at the literal key
    (("metadata", "name"), (DEPLOYMENT, 4, 3)),
    (("spec", "replicas"), (DEPLOYMENT, 8, 3)),
    # include ... | nindent: the line of the call, at its "{{"
    (("metadata", "labels", "app.kubernetes.io/name"), (DEPLOYMENT, 6, 5)),
    (("metadata", "labels", "app.kubernetes.io/instance"), (DEPLOYMENT, 6, 5)),
    # with: the literal key inside it, and toYaml | nindent inside it
    (POD + ("nodeSelector",), (DEPLOYMENT, 18, 7)),
    (POD + ("nodeSelector", "zone"), (DEPLOYMENT, 19, 9)),
    # toYaml after a literal key on the same line
    (POD + ("tolerations",), (DEPLOYMENT, 21, 7)),
    (POD + ("tolerations", 0), (DEPLOYMENT, 21, 20)),
    (POD + ("tolerations", 0, "operator"), (DEPLOYMENT, 21, 20)),
    # range: every item at the loop's lines
    (POD + ("containers", 0), (DEPLOYMENT, 24, 11)),
    (POD + ("containers", 1), (DEPLOYMENT, 24, 11)),
    (POD + ("containers", 0, "image"), (DEPLOYMENT, 25, 11)),
    (POD + ("containers", 1, "image"), (DEPLOYMENT, 25, 11)),
    # if: the body's line
    (POD + ("containers", 0, "imagePullPolicy"), (DEPLOYMENT, 27, 11)),
    # a missing key: where the item starts
    (POD + ("containers", 1, "imagePullPolicy"), (DEPLOYMENT, 24, 11)),
    (POD + ("containers", 0, "lifecycle"), (DEPLOYMENT, 24, 11)),
])
def test_deployment_positions(app: helm.Rendered, path: tuple, expected: tuple) -> None:
    assert _place(_piece(app, DEPLOYMENT), path) == expected


@needs_engine
def test_subchart_templates_map_to_the_subchart(app: helm.Rendered) -> None:
    service = _piece(app, "app/charts/sub/templates/service.yaml")
    template = "app/charts/sub/templates/service.yaml"
    assert _place(service, ("metadata", "name")) == (template, 4, 3)
    assert _place(service, ("spec", "ports", 0, "port")) == (template, 7, 7)
    assert _place(service, ("spec", "ports", 0, "name")) == (template, 8, 7)


@needs_engine
def test_later_documents_of_a_template(app: helm.Rendered) -> None:
    pdb = _piece(app, "app/templates/pdb.yaml")
    documents = load_text(pdb.text).documents
    assert [type(d.data).__name__ for d in documents] == ["dict", "NoneType", "dict"]
    assert _place(pdb, ("spec", "minAvailable")) == ("app/templates/pdb.yaml", 7, 3)
    assert _place(pdb, (), document=2) == ("app/templates/pdb.yaml", 15, 1)
    assert _place(pdb, ("data", "replicas"), document=2) == ("app/templates/pdb.yaml", 20, 3)


@needs_engine
def test_place_never_raises(app: helm.Rendered) -> None:
    piece = _piece(app, DEPLOYMENT)
    template = str(APP / "templates/deployment.yaml")
    assert piece.place(0, (), 10_000, 1) == (template, 1, 1)
    assert piece.place(99, ("x",), -5, -5) == (template, 1, 1)
    assert piece.place(0, ("spec",), 2, 1) == (template, 1, 1)  # the "# Source:" line


@needs_engine
def test_kube_version_reaches_capabilities() -> None:
    old = helm.render_chart(str(APP), kube_version="1.20")
    assert _piece(old, "app/templates/pdb.yaml").text.split("\n")[2] == "apiVersion: policy/v1beta1"
    assert _place(_piece(old, "app/templates/pdb.yaml"), ("apiVersion",)) == ("app/templates/pdb.yaml", 2, 1)


@needs_engine
def test_values_files_later_ones_win(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("replicaCount: 5\nnodeSelector:\n  disk: hdd\n")
    second.write_text("nodeSelector:\n  zone: b\n")
    rendered = helm.render_chart(str(APP), kube_version="1.37", values=[str(first), str(second)],
                                 release="r", namespace="ns")
    text = _piece(rendered, DEPLOYMENT).text
    assert "  name: r-app\n" in text and "  replicas: 5\n" in text
    assert "        disk: hdd\n        zone: b\n" in text


@needs_engine
def test_a_broken_values_file_is_an_error_at_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\nb: [\n")
    rendered = helm.render_chart(str(APP), kube_version="1.37", values=[str(bad)])
    assert rendered.pieces == []
    (error,) = rendered.errors
    assert error.file == str(bad)
    assert "\n" not in error.message


@needs_engine
def test_a_template_that_fails_is_an_error_at_its_line() -> None:
    rendered = helm.render_chart(str(DATA / "broken"), kube_version="1.37")
    assert rendered.pieces == []
    assert rendered.errors == [helm.RenderError(
        # Helm names the 0-based byte offset of `required`: column 11 counts from 1.
        str(DATA / "broken/templates/configmap.yaml"), 6, 11,
        "execution error at (broken/templates/configmap.yaml:6:10): image.tag is required")]


@needs_engine
def test_a_hung_render_is_stopped_and_the_next_one_runs(tmp_path: Path) -> None:
    chart = tmp_path / "slow"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: slow\nversion: 0.1.0\n")
    (chart / "templates" / "loop.yaml").write_text(
        "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n")
    rendered = helm.render_chart(str(chart), kube_version="1.37", timeout=1.0)
    assert rendered.pieces == []
    (error,) = rendered.errors
    assert (error.file, error.line, error.column) == (str(chart / "Chart.yaml"), 1, 1)
    assert error.message == "rendering took longer than 1 s and was stopped"
    assert helm.render_chart(str(APP), kube_version="1.37").errors == []


@needs_engine
def test_the_user_tree_is_never_written(tmp_path: Path) -> None:
    chart = tmp_path / "app"
    shutil.copytree(APP, chart)
    before = {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()}
    helm.render_chart(str(chart), kube_version="1.37")
    assert {p: p.read_bytes() for p in chart.rglob("*") if p.is_file()} == before


@needs_engine
def test_links_out_of_the_chart_are_not_followed(tmp_path: Path) -> None:
    chart = tmp_path / "app"
    shutil.copytree(APP, chart)
    (tmp_path / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n")
    (chart / "templates" / "stolen.yaml").symlink_to(tmp_path / "secret.yaml")
    rendered = helm.render_chart(str(chart), kube_version="1.37")
    assert rendered.errors == []
    assert "stolen" not in "".join(p.text for p in rendered.pieces)


@needs_engine
def test_a_packaged_subchart_maps_to_its_archive(tmp_path: Path) -> None:
    chart = tmp_path / "app"
    shutil.copytree(APP, chart)
    with tarfile.open(chart / "charts" / "sub-0.1.0.tgz", "w:gz") as archive:
        archive.add(chart / "charts" / "sub", arcname="sub")
    shutil.rmtree(chart / "charts" / "sub")
    rendered = helm.render_chart(str(chart), kube_version="1.37")
    assert rendered.errors == []
    service = _piece(rendered, "app/charts/sub/templates/service.yaml")
    root = load_text(service.text).documents[0].root
    at = locate(root, ("spec", "ports", 0, "port"))
    assert service.place(0, ("spec", "ports", 0, "port"), at.line, at.column) == (
        str(chart / "charts" / "sub-0.1.0.tgz"), 1, 1)


# --- the real charts --------------------------------------------------------------------


def _corpus_rows() -> list[dict[str, str]]:
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return []
    with index.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


corpus_charts = pytest.mark.parametrize(
    "row", _corpus_rows() or [pytest.param(None, marks=pytest.mark.skip(reason=f"{CORPUS} is absent"))],
    ids=lambda row: row["chart_dir"].rsplit("/", 1)[-1] if row else "absent")


@needs_engine
@corpus_charts
def test_corpus_chart_renders_its_objects(row: dict[str, str]) -> None:
    rendered = helm.render_chart(str(CORPUS / row["chart_dir"]), kube_version="1.37")
    assert rendered.errors == []
    objects = 0
    for piece in rendered.pieces:
        loaded = load_text(piece.text)
        assert loaded.problem is None
        objects += sum(isinstance(d.data, dict) for d in loaded.documents)
    assert objects == int(row["objects"])


def _plain_render(chart: str) -> dict[str, str]:
    """The chart rendered without markers, as pieces' texts by template name."""
    output, failure = helm._render_with_sdk(chart, "1.37.0", [], "release-name", "default", 60.0)
    assert failure is None and output is not None
    texts = {}
    for name in sorted(output):
        documents = helm.split_manifests(output[name])
        if documents and not name.endswith("NOTES.txt"):
            texts[name] = "".join(f"---\n# Source: {name}\n{d}\n" for _, d in documents)
    return texts


@pytest.mark.skipif(helm._sdk_folder() is None, reason="the k8slint[helm] extra is not installed")
@corpus_charts
def test_corpus_marked_render_equals_a_plain_one(row: dict[str, str]) -> None:
    chart = str(CORPUS / row["chart_dir"])
    rendered = helm.render_chart(chart, kube_version="1.37", engine="sdk")
    marked = {p.text.split("\n", 2)[1].removeprefix("# Source: "): p.text for p in rendered.pieces}
    first, second = _plain_render(chart), _plain_render(chart)
    assert marked.keys() == first.keys()
    for name, text in first.items():
        if text == second[name]:
            assert marked[name] == text, name
        else:  # generated passwords and keys: every line that two plain renders agree on
            lines, other, got = text.split("\n"), second[name].split("\n"), marked[name].split("\n")
            assert len(got) == len(lines), name
            assert all(g == a for a, b, g in zip(lines, other, got, strict=True) if a == b), name


@needs_engine
def test_a_render_that_takes_too_much_memory_is_stopped(tmp_path: Path, monkeypatch) -> None:
    """A template that doubles a string forty times (a terabyte) ends its render with an
    error at Chart.yaml; the next render gets a fresh engine."""
    chart = tmp_path / "big"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: big\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        '{{- $s := "x" }}{{- range until 40 }}{{- $s = print $s $s }}{{- end }}\n'
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {x: {{ $s | quote }}}\n")
    helm.stop_engine()
    monkeypatch.setattr(helm, "MEMORY_LIMIT", 256 << 20)
    try:
        rendered = helm.render_chart(str(chart), kube_version="1.37", timeout=60)
    finally:
        helm.stop_engine()  # the next test's engine has the usual limit
    assert rendered.pieces == []
    assert rendered.errors == [helm.RenderError(
        str(chart / "Chart.yaml"), 1, 1, "the Helm engine stopped while rendering (it ran out of "
        "the 256 MiB a render may use, or was killed)")]

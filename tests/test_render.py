"""Charts and build roots linted as they deploy: units, suppressions, cross-object rules per
unit, pre-commit re-renders, notices, options and reports (render.py, through the CLI).

Positions per template construct and per kustomization entry are pinned by the folder
fixtures (fixtures/*/fail-helm, fail-kustomize*) and by test_helm.py / test_kbuild.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from k8slint.kbuild import kustomize_command

from .helpers import make_git_folder, run

needs_kustomize = pytest.mark.skipif(kustomize_command() is None,
                                     reason="neither kustomize nor kubectl is on PATH")

DEPLOYMENT = """\
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
        image: example/web:2.3
        imagePullPolicy: IfNotPresent
        lifecycle: {preStop: {sleep: {seconds: 5}}}
"""
PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
  unhealthyPodEvictionPolicy: AlwaysAllow
"""
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


@pytest.fixture
def here(tmp_path, monkeypatch):
    make_git_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def chart(root: Path, name: str, templates: dict[str, str], values: str = "") -> None:
    write(root, {f"{name}/Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n",
                 f"{name}/values.yaml": values,
                 **{f"{name}/templates/{t}": text for t, text in templates.items()}})


def lines(out: str) -> list[str]:
    return out.splitlines()


# --- units --------------------------------------------------------------------------------------


@needs_kustomize
def test_two_overlays_of_one_base_never_satisfy_each_other(capsys, here):
    """The overlay with a budget is clean; the other is told it has none, naming itself."""
    write(here, {"base/kustomization.yaml": KUSTOMIZATION + "resources: [deployment.yaml]\n",
                 "base/deployment.yaml": DEPLOYMENT,
                 "safe/kustomization.yaml": KUSTOMIZATION + "resources: [../base, pdb.yaml]\n",
                 "safe/pdb.yaml": PDB,
                 "bare/kustomization.yaml": KUSTOMIZATION + "resources: [../base]\n"})
    code, out, err = run(capsys, "check", ".")
    assert (code, err) == (1, "")
    assert lines(out) == [
        "base/deployment.yaml:6:3: warning missing-pod-disruption-budget Deployment web runs 2 replicas "
        "but no PodDisruptionBudget in its namespace selects its pods: a node drain may evict them all "
        "at once; add a PodDisruptionBudget with maxUnavailable: 1 (or minAvailable below 2) (via bare)",
        "1 finding (0 errors, 1 warning, 0 info) in 1 of 2 files; 3 documents, 3 objects checked; "
        "2 Kustomize build roots built.",
    ]


def test_a_charts_objects_meet_each_other_and_not_the_plain_files(capsys, here):
    chart(here, "web", {"deployment.yaml": DEPLOYMENT})
    write(here, {"pdb.yaml": PDB})  # a plain file's budget does not cover the chart's pods
    code, out, _ = run(capsys, "check", ".")
    assert code == 1
    assert lines(out)[0].startswith("web/templates/deployment.yaml:6:3: warning "
                                    "missing-pod-disruption-budget Deployment web runs 2 replicas")
    assert lines(out)[0].endswith(" (via web)")
    chart(here, "web", {"deployment.yaml": DEPLOYMENT, "pdb.yaml": PDB})
    (here / "pdb.yaml").unlink()
    code, out, _ = run(capsys, "check", ".")
    assert (code, lines(out)) == (0, ["No findings in 2 files; 2 documents, 2 objects checked; "
                                      "1 Helm chart rendered."])


@needs_kustomize
def test_one_finding_where_two_overlays_build_a_base_alike(capsys, here):
    write(here, {"base/kustomization.yaml": KUSTOMIZATION + "resources: [deployment.yaml]\n",
                 "base/deployment.yaml": DEPLOYMENT.replace("      terminationGracePeriodSeconds: 30\n", ""),
                 "a/kustomization.yaml": KUSTOMIZATION + "namePrefix: a-\nresources: [../base, pdb.yaml]\n",
                 "a/pdb.yaml": PDB,
                 "b/kustomization.yaml": KUSTOMIZATION + "namePrefix: b-\nresources: [../base, pdb.yaml]\n",
                 "b/pdb.yaml": PDB})
    code, out, _ = run(capsys, "check", "--enable", "missing-termination-grace-period", ".")
    assert code == 1
    found = [line for line in lines(out) if "missing-termination-grace-period" in line]
    assert found == [
        # No [fix]: k8slint fix edits plain files, never what a build or a chart makes.
        "base/deployment.yaml:11:5: warning missing-termination-grace-period the pod spec sets no "
        "terminationGracePeriodSeconds: on a drain or upgrade its containers get the default 30 s after "
        "SIGTERM, whatever a clean shutdown needs; set it to the time a clean shutdown takes (via a, b)"]


# --- suppressions -------------------------------------------------------------------------------


def test_suppressions_written_in_templates_apply(capsys, here):
    template = DEPLOYMENT.replace(
        "  replicas: 2\n", "  # k8slint: ignore=single-replica one replica is enough for a demo\n"
                           "  replicas: {{ .Values.replicas }}\n").replace(
        "  name: web\n", "  name: web\n  annotations:\n"
                         "    ignore-check.k8slint.io/missing-prestop-hook: \"a demo\"\n", 1).replace(
        "        lifecycle: {preStop: {sleep: {seconds: 5}}}\n", "")
    chart(here, "web", {"deployment.yaml": template}, values="replicas: 1\n")
    code, out, _ = run(capsys, "check", "--show-suppressed", "web")
    assert code == 0
    assert [(line.split(": ", 1)[0], line.split(" ")[2], line.rsplit(" [", 1)[1]) for line in lines(out)[:-1]] == [
        ("web/templates/deployment.yaml:9:3", "single-replica", "suppressed: one replica is enough for a demo]"),
        ("web/templates/deployment.yaml:17:9", "missing-prestop-hook", "suppressed: a demo]"),
    ]


def test_an_unused_suppression_in_a_template_is_reported_once(capsys, here):
    template = DEPLOYMENT.replace("  replicas: 2\n", "  replicas: 2  # k8slint: ignore=single-replica stale\n")
    chart(here, "web", {"deployment.yaml": template + "---\n" + PDB})
    code, out, _ = run(capsys, "check", "web")
    assert (code, lines(out)[:-1]) == (1, [
        "web/templates/deployment.yaml:6:16: info unused-suppression # k8slint: ignore=single-replica "
        "silences nothing here: the finding it was written for is gone; remove it"])


@needs_kustomize
def test_a_bases_annotation_covers_a_finding_its_patch_causes(capsys, here):
    base = DEPLOYMENT.replace("  name: web\n", "  name: web\n  annotations:\n"
                              "    ignore-check.k8slint.io/single-replica: \"drained by hand\"\n", 1)
    write(here, {"base/kustomization.yaml": KUSTOMIZATION + "resources: [deployment.yaml]\n",
                 "base/deployment.yaml": base,
                 "prod/kustomization.yaml": KUSTOMIZATION + "resources: [../base]\npatches: [{path: one.yaml}]\n",
                 "prod/one.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n"})
    code, out, _ = run(capsys, "check", "--show-suppressed", ".")
    assert (code, lines(out)[:-1]) == (0, [
        "prod/one.yaml:5:3: warning single-replica Deployment web runs 1 replica: draining its node or "
        "upgrading it leaves nothing running until the pod is rescheduled and ready; run at least 2 "
        "replicas (or an autoscaler with a minimum of 2 or more) (via prod) [suppressed: drained by hand]"])


# --- pre-commit -----------------------------------------------------------------------------------


def test_a_changed_helper_re_renders_its_chart(capsys, here):
    chart(here, "web", {"_helpers.tpl": '{{- define "web.replicas" -}}1{{- end }}\n',
                        "deployment.yaml": DEPLOYMENT.replace(
                            "replicas: 2", 'replicas: {{ include "web.replicas" . }}')
                        + "---\n" + PDB})
    code, out, _ = run(capsys, "check", "--context", ".", "--pre-commit", "--", "web/templates/_helpers.tpl")
    assert code == 1
    assert lines(out)[0].startswith("web/templates/deployment.yaml:6:3: warning single-replica Deployment web")
    assert lines(out)[-1].endswith("1 Helm chart rendered.")
    # A .tpl file outside any chart is no manifest: skipped, not a parse error.
    write(here, {"notes/x.tpl": "{{ oops"})
    code, out, _ = run(capsys, "check", "--pre-commit", "--", "notes/x.tpl")
    assert (code, out) == (0, "No Kubernetes objects found in 0 files, so nothing was checked.\n")


@needs_kustomize
def test_a_changed_base_rebuilds_every_overlay_of_it(capsys, here):
    write(here, {"base/kustomization.yaml": KUSTOMIZATION + "resources: [deployment.yaml]\n",
                 "base/deployment.yaml": DEPLOYMENT.replace("replicas: 2", "replicas: 1"),
                 "a/kustomization.yaml": KUSTOMIZATION + "resources: [../base]\n",
                 "b/kustomization.yaml": KUSTOMIZATION + "resources: [../base]\n",
                 "other/kustomization.yaml": KUSTOMIZATION + "resources: [pod.yaml]\n",
                 "other/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"})
    code, out, _ = run(capsys, "check", "--context", ".", "--pre-commit", "--", "base/deployment.yaml")
    assert code == 1
    assert [line for line in lines(out) if "single-replica" in line] == [
        "base/deployment.yaml:6:3: warning single-replica Deployment web runs 1 replica: draining its "
        "node or upgrading it leaves nothing running until the pod is rescheduled and ready; run at "
        "least 2 replicas (or an autoscaler with a minimum of 2 or more) (via a, b)"]
    assert lines(out)[-1].endswith("; 2 Kustomize build roots built.")  # not "other"


# --- engines missing, options -------------------------------------------------------------------


def test_without_an_engine_a_notice_not_a_finding(capsys, here, monkeypatch):
    import k8slint.helm
    import k8slint.kbuild

    monkeypatch.setattr(k8slint.helm, "helm_engine", lambda: None)
    monkeypatch.setattr(k8slint.kbuild, "kustomize_command", lambda: None)
    chart(here, "web", {"deployment.yaml": "{{ broken"})
    write(here, {"app/kustomization.yaml": KUSTOMIZATION + "resources: [pdb.yaml]\n", "app/pdb.yaml": PDB})
    code, out, err = run(capsys, "check", ".")
    assert (code, err) == (0, "")
    assert lines(out) == [
        "No findings in 2 files; 2 documents, 2 objects checked; 1 object of 1 kind had no schema.",
        "note: 1 Helm chart not rendered (no Helm engine: put helm on PATH, or pip install "
        "'k8slint[helm]'), so not linted: web",
        "note: 1 Kustomize build root not built (neither kustomize nor kubectl is on PATH): its files "
        "are linted one by one, its patches skipped: app",
    ]
    code, out, err = run(capsys, "check", "--format", "json", ".")
    assert code == 0
    assert json.loads(out)["summary"]["notices"] == [n.removeprefix("k8slint: ") for n in err.splitlines()]
    code, out, err = run(capsys, "check", "--require-render", ".")
    assert code == 2
    assert err.splitlines()[-1] == (
        "k8slint: error: rendering is required (--require-render, or render: required in the config), "
        "and 2 chart(s) or build root(s) could not be rendered: web, app")


def test_no_render_leaves_charts_unlinted_and_says_so(capsys, here):
    chart(here, "web", {"deployment.yaml": "{{ broken"})
    code, out, _ = run(capsys, "check", "--no-render", ".")
    assert (code, lines(out)) == (0, [
        "No Kubernetes objects found in 0 files, so nothing was checked.",
        "note: 1 Helm chart not rendered (--no-render), so not linted: web"])


def test_values_files_from_the_command_line_and_the_config(capsys, here):
    chart(here, "web", {"deployment.yaml": DEPLOYMENT.replace("replicas: 2", "replicas: {{ .Values.count }}")
                        + "---\n" + PDB}, values="count: 2\n")
    write(here, {"one.yaml": "count: 1\n"})
    code, _out, _ = run(capsys, "check", "web")
    assert code == 0
    code, out, _ = run(capsys, "check", "--helm-values", "one.yaml", "web")
    assert code == 1 and " single-replica " in lines(out)[0]
    write(here, {".k8slint.yaml": "helm:\n  charts:\n    web: {values: [one.yaml]}\n"})
    code, out, _ = run(capsys, "check", "web")
    assert code == 1 and lines(out)[0].startswith("web/templates/deployment.yaml:6:3: warning single-replica ")
    write(here, {".k8slint.yaml": "helm:\n  values: [../outside.yaml]\n"})
    code, out, err = run(capsys, "check", "web")
    assert (code, err) == (2, "k8slint: config error: .k8slint.yaml:2:12: helm.values[0]: '../outside.yaml' "
                              "lies outside the config's folder; name a path inside it\n")


def test_a_render_past_its_time_limit_is_an_error_at_the_chart(capsys, here):
    chart(here, "slow", {"loop.yaml": "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n"})
    write(here, {".k8slint.yaml": "renderTimeout: 1\n"})
    code, out, _ = run(capsys, "check", "slow")
    assert (code, lines(out)) == (1, [
        "slow/Chart.yaml:1:1: error helm-render-error rendering took longer than 1 s and was stopped (via slow)",
        "1 finding (1 error, 0 warnings, 0 info) in 1 of 1 file; 0 documents, 0 objects checked; "
        "0 of 1 Helm charts rendered."])


# --- reports ------------------------------------------------------------------------------------


def test_sarif_and_json_name_the_template_and_the_chart(capsys, here):
    chart(here, "web", {"deployment.yaml": DEPLOYMENT.replace("replicas: 2", "replicas: {{ .Values.count }}")
                        + "---\n" + PDB}, values="count: 1\n")
    code, out, _ = run(capsys, "check", "--format", "sarif", "web")
    assert code == 1
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["ruleId"] == "single-replica"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "web/templates/deployment.yaml", "uriBaseId": "%SRCROOT%"}
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert result["properties"] == {"via": "web"}
    code, out, _ = run(capsys, "check", "--format", "json", "web")
    assert code == 1
    report = json.loads(out)
    (finding,) = report["findings"]
    assert (finding["file"], finding["line"], finding["column"], finding["via"]) == (
        "web/templates/deployment.yaml", 6, 3, "web")
    (unit,) = report["summary"]["rendered"]
    assert {k: unit[k] for k in ("kind", "folder", "failed", "engine")} == {
        "kind": "helm-chart", "folder": "web", "failed": False, "engine": "helm-python-sdk"}


def test_a_chart_outside_the_working_folder_renders_whole(capsys, tmp_path, monkeypatch):
    """Named by an absolute path from elsewhere, outside any repository: the chart and its
    subchart are one unit, and no template is read as a file."""
    chart(tmp_path / "proj", "web", {"deployment.yaml": DEPLOYMENT + "---\n" + PDB})
    chart(tmp_path / "proj" / "web" / "charts", "sub", {"pod.yaml": "apiVersion: v1\nkind: Pod\n"
                                                        "metadata: {name: p}\nspec: {{ .Values.x }}\n"})
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, out, _ = run(capsys, "check", "--format", "json", str(tmp_path / "proj"))
    report = json.loads(out)
    assert [u["folder"] for u in report["summary"]["rendered"]] == [str(tmp_path / "proj" / "web")]
    assert [(f["rule"], f["file"], f["via"]) for f in report["findings"]] == [
        ("bare-pod", str(tmp_path / "proj/web/charts/sub/templates/pod.yaml"), str(tmp_path / "proj/web"))]
    assert code == 1

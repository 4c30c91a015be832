"""--compact: repeated findings fold into one line that still names every place."""

from __future__ import annotations

import json

from k8slint.cli import main
from k8slint.report.compact import path_shape

CONTAINER = "      - name: c{n}\n        image: example/c{n}:1.0\n"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n"
    "    spec:\n      terminationGracePeriodSeconds: 30\n      containers:\n{containers}"
)


def six_containers(name: str) -> str:
    return DEPLOYMENT.format(name=name, containers="".join(CONTAINER.format(n=n) for n in range(6)))


def test_path_shape():
    assert path_shape(("spec", "containers", 3, "image")) == "spec.containers[*].image"
    assert path_shape(()) == ""


def test_a_pair_of_rules_on_six_containers_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.yaml").write_text(six_containers("web"))
    code = main(["check", "--compact", "--disable", "single-replica", "web.yaml"])
    out = capsys.readouterr().out
    assert code == 1
    assert out == (
        "6× warning missing-image-pull-policy at spec.template.spec.containers[*].imagePullPolicy + "
        "warning missing-prestop-hook at spec.template.spec.containers[*].lifecycle.preStop: "
        "web.yaml:10:9,12:9,14:9,16:9,18:9,20:9 (Deployment/web)\n"
        "12 findings (0 errors, 12 warnings, 0 info) in 1 of 1 file; 1 document, 1 object "
        "checked. Compact: 1 line for 12 findings.\n"
    )


def test_runs_across_objects_and_files_name_each(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(six_containers("a") + "---\n" + six_containers("b"))
    (tmp_path / "b.yaml").write_text(six_containers("c"))
    main(["check", "--compact", "--disable", "missing-prestop-hook", "--disable", "single-replica", "."])
    assert capsys.readouterr().out.splitlines()[:2] == [
        "12× warning missing-image-pull-policy at spec.template.spec.containers[*].imagePullPolicy: "
        "a.yaml:10:9,12:9,14:9,16:9,18:9,20:9 (Deployment/a); "
        "a.yaml:32:9,34:9,36:9,38:9,40:9,42:9 (Deployment/b)",
        "6× warning missing-image-pull-policy at spec.template.spec.containers[*].imagePullPolicy: "
        "b.yaml:10:9,12:9,14:9,16:9,18:9,20:9 (Deployment/c)",
    ]


def test_files_whose_findings_have_the_same_shape_fold_into_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    one = DEPLOYMENT.format(name="{name}", containers=CONTAINER.format(n=0) + CONTAINER.format(n=1))
    for name in ("api", "web", "worker"):
        (tmp_path / f"{name}.yaml").write_text(one.replace("{name}", name))
    main(["check", "--compact", "."])
    assert capsys.readouterr().out == (
        # Inside a file, units start at its first finding: one replica, then two containers
        # of two findings each do not repeat, so each file's shape is its five findings.
        "3 files, each with warning single-replica at spec.replicas + warning "
        "missing-image-pull-policy at spec.template.spec.containers[*].imagePullPolicy + warning "
        "missing-prestop-hook at spec.template.spec.containers[*].lifecycle.preStop + warning "
        "missing-image-pull-policy at spec.template.spec.containers[*].imagePullPolicy + warning "
        "missing-prestop-hook at spec.template.spec.containers[*].lifecycle.preStop: "
        "api.yaml:5:1 (Deployment/api); web.yaml:5:1 (Deployment/web); worker.yaml:5:1 (Deployment/worker)\n"
        "15 findings (0 errors, 15 warnings, 0 info) in 3 of 3 files; 3 documents, 3 objects checked. "
        "Compact: 1 line for 15 findings.\n"
    )


def test_unrepeated_findings_keep_their_full_lines(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.yaml").write_text(DEPLOYMENT.format(name="one", containers=CONTAINER.format(n=0)))
    main(["check", "--compact", "--disable", "single-replica", "one.yaml"])
    full = capsys.readouterr().out.splitlines()
    main(["check", "--disable", "single-replica", "one.yaml"])
    plain = capsys.readouterr().out.splitlines()
    assert full[:-1] == plain[:-1]
    assert full[-1] == plain[-1] + " Compact: 2 lines for 2 findings."


def test_json_is_never_folded(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.yaml").write_text(six_containers("web"))
    main(["check", "--compact", "--disable", "single-replica", "--format", "json", "web.yaml"])
    assert len(json.loads(capsys.readouterr().out)["findings"]) == 12

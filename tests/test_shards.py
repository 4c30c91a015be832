"""`check --shard K/N --partial FILE` and `merge`: the merged report is the single run's.

A fixture tree holds what a split can break: cross-object partners in different files, a
CRD and its custom resource, suppressions (one used only by a cross-object finding the
merge makes, one unused), a Helm chart and Kustomize overlays of one base (one of which
fails to build). For N = 1 to 5 the merged JSON and SARIF reports must equal the single
run's exactly, then the refusals, then the Indexed Job example run as N local processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8slint.cli import main
from k8slint.kbuild import kustomize_command
from k8slint.shard import shard_of

from .helpers import CORPUS, REPO

DATA = REPO / "tests" / "data"
EXAMPLES = REPO / "examples" / "sharding"

PLAIN = {
    # Deployment and budget in two files: split apart, the budget must still cover it.
    "plain/web.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx  # k8slint: ignore=latest-tag the base image follows upstream
""",
    "plain/web-pdb.yaml": """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
""",
    # A Service whose pods are in another file, and one whose pods are nowhere.
    "plain/api-service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: gone
spec:
  selector: {app: gone}
  ports:
    - port: 80
""",
    "plain/api.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.0
          ports:
            - containerPort: 8080
""",
    # Used only by the cross-object finding the merge makes; and one that silences nothing.
    "plain/solo.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: solo
spec:
  # k8slint: ignore=missing-pod-disruption-budget drained by hand, one node at a time
  replicas: 2
  selector:
    matchLabels: {app: solo}
  template:
    metadata:
      labels: {app: solo}
    spec:
      containers:
        - name: solo
          image: registry.example.com/solo:2.1  # k8slint: ignore=even-etcd-cluster no etcd here
""",
    "crds/widget-crd.yaml": """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
""",
    # Judged against the CRD above, whichever shard reads it.
    "resources/widget.yaml": """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: small
spec:
  size: three
  colour: red
""",
}


def _tree(root: Path, kustomize: bool) -> Path:
    for name, text in PLAIN.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    shutil.copytree(DATA / "helm" / "app", root / "charts" / "app")
    if kustomize:
        for part in ("base", "overlays", "components", "failing"):
            shutil.copytree(DATA / "kustomize" / part, root / "kustomize" / part)
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tree(tmp_path_factory.mktemp("shards") / "repo", kustomize=False)


@pytest.fixture(scope="module")
def kustomize_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if kustomize_command() is None:
        pytest.skip("neither kustomize nor kubectl is on PATH: the overlays cannot be built")
    return _tree(tmp_path_factory.mktemp("shards-kustomize") / "repo", kustomize=True)


@pytest.fixture(autouse=True)
def _plain_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "K8SLINT_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def _single(folder: Path, out: Path, *args: str) -> tuple[int, dict, dict]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(["check", "--format", "json", "--output", str(out / "single.json"),
                     "--report", f"sarif:{out / 'single.sarif'}", *args, "."])
    finally:
        os.chdir(cwd)
    return code, _json(out / "single.json"), _json(out / "single.sarif")


def _sharded(folder: Path, out: Path, n: int, *args: str) -> tuple[int, dict, dict]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        partials = []
        for k in range(1, n + 1):
            partials.append(str(out / f"partial-{k}-of-{n}.json"))
            assert main(["check", "--shard", f"{k}/{n}", "--partial", partials[-1], *args, "."]) == 0
        code = main(["merge", "--format", "json", "--output", str(out / f"merged-{n}.json"),
                     "--report", f"sarif:{out / f'merged-{n}.sarif'}", *reversed(partials)])
    finally:
        os.chdir(cwd)
    return code, _json(out / f"merged-{n}.json"), _json(out / f"merged-{n}.sarif")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _timeless(report: dict) -> dict:
    """A JSON report without the engines' timings, which no two runs share."""
    for unit in report["summary"]["rendered"]:
        unit.pop("engineSeconds")
    return report


def _units(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml"))


def test_the_tree_splits_partners_apart(tree: Path) -> None:
    """The fixture means something: for some N the partners land in different shards."""
    pairs = [("plain/web.yaml", "plain/web-pdb.yaml"), ("plain/api.yaml", "plain/api-service.yaml"),
             ("crds/widget-crd.yaml", "resources/widget.yaml")]
    for a, b in pairs:
        assert any(shard_of(a, n) != shard_of(b, n) for n in range(2, 6)), (a, b)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_merged_shards_equal_a_single_run(tree: Path, tmp_path: Path, n: int) -> None:
    code, single, sarif = _single(tree, tmp_path)
    rules = {f["rule"] for f in single["findings"]}
    # What only the whole run can tell is in the report: the dangling Service, the custom
    # resource judged by its CRD, the unused suppression, the chart's findings.
    assert {"dangling-service", "invalid-field-type", "unused-suppression"} <= rules
    assert not any(f["rule"] == "missing-pod-disruption-budget" and f["object"]["name"] in ("web", "solo")
                   for f in single["findings"])
    assert any(f.get("via") == "charts/app" for f in single["findings"])
    assert single["summary"]["suppressed"] == 2
    merged_code, merged, merged_sarif = _sharded(tree, tmp_path, n)
    assert (merged_code, _timeless(merged)) == (code, _timeless(single))
    assert merged_sarif == sarif
    assert len(merged_sarif["runs"]) == 1


@pytest.mark.parametrize("n", [2, 3, 5])
def test_merged_shards_equal_a_single_run_with_kustomize(kustomize_tree: Path, tmp_path: Path,
                                                         n: int) -> None:
    code, single, sarif = _single(kustomize_tree, tmp_path)
    assert any(f["rule"] == "kustomize-build-error" for f in single["findings"])
    assert any(", " in f.get("via", "") for f in single["findings"])  # a base built by two overlays
    merged_code, merged, merged_sarif = _sharded(kustomize_tree, tmp_path, n)
    assert (merged_code, _timeless(merged)) == (code, _timeless(single))
    assert merged_sarif == sarif


def test_merge_takes_the_report_options(tree: Path, tmp_path: Path) -> None:
    """--fail-on, --show-suppressed and --baseline act on the merged findings as on a run's."""
    _, single, _ = _single(tree, tmp_path, "--show-suppressed")
    baseline = tmp_path / "baseline.json"
    assert _single(tree, tmp_path, "--write-baseline", str(baseline))[0] == 1
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        partials = [str(tmp_path / f"p{k}.json") for k in (1, 2)]
        for k, path in enumerate(partials, 1):
            assert main(["check", "--shard", f"{k}/2", "--partial", path, "."]) == 0
        assert main(["merge", "--format", "json", "--output", str(tmp_path / "s.json"),
                     "--show-suppressed", *partials]) == 1
        assert main(["merge", "--fail-on", "never", "--format", "json", *partials]) == 0
        assert main(["merge", "--baseline", str(baseline), "--format", "json",
                     "--output", str(tmp_path / "b.json"), *partials]) == 0
    finally:
        os.chdir(cwd)
    assert _timeless(_json(tmp_path / "s.json")) == _timeless(single)
    assert _json(tmp_path / "b.json")["findings"] == []


@pytest.mark.skipif(not (CORPUS / "real").is_dir(), reason="the shared corpus is not here")
def test_merged_shards_equal_a_single_run_on_the_real_corpus(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    assert main(["check", "--format", "json", "--output", str(tmp_path / "single.json"), "real"]) == 1
    partials = [str(tmp_path / f"p{k}.json") for k in (1, 2, 3)]
    for k, path in enumerate(partials, 1):
        assert main(["check", "--shard", f"{k}/3", "--partial", path, "real"]) == 0
    assert main(["merge", "--format", "json", "--output", str(tmp_path / "merged.json"), *partials]) == 1
    single, merged = _json(tmp_path / "single.json"), _json(tmp_path / "merged.json")
    assert len(single["findings"]) > 1000
    assert merged["findings"] == single["findings"]
    assert _timeless(merged)["summary"] == _timeless(single)["summary"]


# --- refusals ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partials(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("partials")
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        made = {}
        for name, args in {"1/3": [], "2/3": [], "3/3": [], "1/2": [], "2/2": [],
                           "2/3-no-pdb-rule": ["--disable", "missing-pod-disruption-budget"]}.items():
            made[name] = out / (name.replace("/", "-of-") + ".json")
            assert main(["check", "--shard", name.split("-")[0], "--partial", str(made[name]),
                         *args, "."]) == 0
    finally:
        os.chdir(cwd)
    return made


def _merge_fails(capsys: pytest.CaptureFixture[str], *paths: Path | str) -> str:
    code = main(["merge", "--format", "json", *map(str, paths)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert "Traceback" not in err
    return err


def test_merge_refuses_a_missing_shard(partials: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    err = _merge_fails(capsys, partials["1/3"], partials["3/3"])
    assert "shard 2/3 missing" in err


def test_merge_refuses_a_shard_twice(partials: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    err = _merge_fails(capsys, partials["1/3"], partials["2/3"], partials["2/3"], partials["3/3"])
    assert "are both shard 2/3" in err


def test_merge_refuses_different_shard_counts(partials: dict[str, Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    err = _merge_fails(capsys, partials["1/2"], partials["2/3"], partials["3/3"])
    assert "different numbers of shards" in err


def test_merge_refuses_shards_of_different_settings(partials: dict[str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    err = _merge_fails(capsys, partials["1/3"], partials["2/3-no-pdb-rule"], partials["3/3"])
    assert "not shards of one run: they differ in severities" in err


def test_merge_refuses_shards_of_another_tree(partials: dict[str, Path], tree: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "repo"
    shutil.copytree(tree, other)
    (other / "plain" / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    monkeypatch.chdir(other)
    assert main(["check", "--shard", "2/2", "--partial", str(tmp_path / "other.json"), "."]) == 0
    err = _merge_fails(capsys, partials["1/2"], tmp_path / "other.json")
    assert "differ in units" in err


@pytest.mark.parametrize("damage, says", [
    (lambda text: text[: len(text) // 2], "not a k8slint partial (truncated"),
    (lambda text: "[1, 2, 3]\n", "no \"format\": \"k8slint-partial\""),
    (lambda text: text.replace('"version":1,', '"version":99,', 1), "format version 99"),
    (lambda text: text.replace('"k8slint":"', '"k8slint":"9.', 1), "written by k8slint '9."),
    (lambda text: text.replace('{"$":"Finding","v":["', '{"$":"Finding","v":[7,"', 1),
     "a Finding with 21 fields (expected 20)"),
    (lambda text: text.replace('"$":"Finding"', '"$":"Popen"', 1), "unknown record 'Popen'"),
    (lambda text: re.sub(r'\{"\$":"Finding","v":\["[a-z-]+"', '{"$":"Finding","v":[7', text, count=1),
     "Finding.rule is a int"),
    (lambda text: text.replace('"maxFileSize":', '"maxFileSize":1+', 1), "not a k8slint partial"),
    (lambda text: text.replace('"maxFileSize":', '"maxFileSize":1,"x":', 1), "fingerprint does not match"),
])
def test_merge_refuses_a_damaged_partial(partials: dict[str, Path], tmp_path: Path, damage: Any,
                                         says: str, capsys: pytest.CaptureFixture[str]) -> None:
    damaged, intact = ("2/2", "1/2") if '"$":"Finding"' in partials["2/2"].read_text() else ("1/2", "2/2")
    text = partials[damaged].read_text(encoding="utf-8")
    assert '"$":"Finding"' in text
    broken = tmp_path / "broken.json"
    broken.write_text(damage(text), encoding="utf-8")
    err = _merge_fails(capsys, partials[intact], broken)
    assert says in err
    assert str(broken) in err


def test_merge_of_a_missing_file_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = _merge_fails(capsys, tmp_path / "nowhere.json")
    assert "cannot read" in err


def test_the_findings_in_a_partial_read_back_as_they_were(partials: dict[str, Path]) -> None:
    from k8slint.partial import decode, encode
    from k8slint.shard import read_partial

    every = [read_partial(str(partials[k])) for k in ("1/3", "2/3", "3/3")]
    results = [r for p in every for r in p.results]
    facts = [f for r in results for f in r.facts]
    findings = [f for r in results for f in r.findings]
    assert facts and findings
    assert decode(json.loads(json.dumps(encode(facts)))) == facts
    assert decode(json.loads(json.dumps(encode(findings)))) == findings
    assert any(f.fix is not None for f in findings)
    assert any(f.flags for f in facts) or any(f.anchors for f in facts)


@pytest.mark.parametrize("args, says", [
    (["--shard", "0/3", "--partial", "p.json"], "K must be from 1 to N"),
    (["--shard", "4/3", "--partial", "p.json"], "K must be from 1 to N"),
    (["--shard", "two", "--partial", "p.json"], "expected K/N"),
    (["--shard", "1/3"], "--shard needs --partial FILE"),
    (["--partial", "p.json"], "--partial goes with --shard"),
    (["--shard", "1/2", "--partial", "p.json", "--format", "sarif"], "--format makes a report"),
    (["--shard", "1/2", "--partial", "p.json", "--fail-on", "error"], "--fail-on belongs to `k8slint merge`"),
    (["--shard", "1/2", "--partial", "p.json", "--baseline", "b.json"], "--baseline belongs"),
    (["--shard", "1/2", "--partial", "p.json", "-"], "standard input cannot be split"),
])
def test_shard_usage_errors(tree: Path, args: list[str], says: str, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    code = main(["check", *args, *([] if "-" in args else ["plain"])])
    _, err = capsys.readouterr()
    assert code == 2 and says in err, err
    assert not (tree / "p.json").exists()


def test_a_partial_that_cannot_be_written_exits_2(tree: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    code = main(["check", "--shard", "1/1", "--partial", "/nonexistent/folder/p.json", "plain"])
    _, err = capsys.readouterr()
    assert code == 2 and "cannot write /nonexistent/folder/p.json" in err


def test_help_names_shards_and_merge() -> None:
    from click.testing import CliRunner

    from k8slint.cli import cli

    assert "--shard K/N" in CliRunner().invoke(cli, ["check", "--help"]).output
    merged = CliRunner().invoke(cli, ["merge", "--help"])
    assert merged.exit_code == 0 and "--baseline" in merged.output and "--category" in merged.output


# --- the Indexed Job, run as N local processes -------------------------------------------------


def _container(manifest: Path, job: str) -> dict:
    for doc in yaml.safe_load_all(manifest.read_text(encoding="utf-8")):
        if doc and doc["kind"] == "Job" and doc["metadata"]["name"] == job:
            spec = doc["spec"]
            container = spec["template"]["spec"]["containers"][0]
            container["jobSpec"] = spec
            return container
    raise AssertionError(f"no Job {job} in {manifest}")


def _env(container: dict, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update({e["name"]: e["value"] for e in container["env"]})
    env.update(overrides)
    return env


def test_the_indexed_job_as_local_processes(tree: Path, tmp_path: Path) -> None:
    """Each pod of the Indexed Job, one local process per JOB_COMPLETION_INDEX (from 0),
    each with its own checkout, the partials in one folder; then the merge Job's command,
    from another folder: one SARIF report, the single run's."""
    repo = tmp_path / "origin"
    shutil.copytree(tree, repo)
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "manifests"], check=True)

    shard = _container(EXAMPLES / "indexed-job.yaml", "k8slint-shards")
    spec = shard.pop("jobSpec")
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    assert {e["name"]: e["value"] for e in shard["env"]}["SHARDS"] == str(n)
    partials = tmp_path / "partials"
    partials.mkdir()
    pods = []
    for index in range(n):
        workspace = tmp_path / f"pod-{index}"
        workspace.mkdir()
        env = _env(shard, REPO_URL=repo.as_uri(), CHECKOUT=str(workspace / "repo"),
                   PARTIALS=str(partials), JOB_COMPLETION_INDEX=str(index))
        pods.append(subprocess.Popen(shard["command"], cwd=workspace, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for pod in pods:
        _, err = pod.communicate(timeout=600)
        assert pod.returncode == 0, err
    assert sorted(p.name for p in partials.iterdir()) == [f"shard-{i}.json" for i in range(n)]

    merge = _container(EXAMPLES / "merge-job.yaml", "k8slint-merge")
    merge.pop("jobSpec")
    checkout = tmp_path / "merge" / "repo"
    subprocess.run(["git", "clone", "-q", repo.as_uri(), str(checkout)], check=True)
    done = subprocess.run(merge["command"], cwd=tmp_path, env=_env(merge, CHECKOUT=str(checkout),
                          PARTIALS=str(partials)), capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # findings, as a single run
    assert "findings" in done.stdout  # the text report, on the Job's log
    single = subprocess.run([sys.executable, "-m", "k8slint", "check", "--format", "sarif", "."],
                            cwd=checkout, capture_output=True, text=True, timeout=600)
    assert single.returncode == 1
    assert _json(partials / "k8slint.sarif") == json.loads(single.stdout)

"""examples/: the shop application shows each behavioural core rule exactly once, and
examples/README.md shows exactly what `k8slint check examples/` prints."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8slint.cli import main

from .helpers import REPO

EXAMPLES = REPO / "examples"

# `k8slint check examples/`, run from the repository's folder: the whole text report.
EXPECTED = """\
examples/shop/deployment.yaml:24:9: warning missing-prestop-hook [fix*] container "storefront" has no preStop hook: on a drain it gets SIGTERM while Services and load balancers may still send it traffic, so in-flight requests fail; add lifecycle.preStop (a short sleep, or a graceful stop command)
examples/shop/deployment.yaml:48:9: error latest-tag-drift [fix*] image "registry.example.com/platform/flag-agent:latest" follows the moving tag latest but imagePullPolicy is IfNotPresent: each node keeps whichever latest it pulled first, so replicas run different code; pin a version tag or digest
examples/shop/etcd.yaml:35:3: warning even-etcd-cluster etcd cluster of 4 members (replicas): quorum is 3, so it survives 1 failure, no more than 3 members would, and every write waits for one more peer; use an odd size: 3 or 5
examples/shop/etcd.yaml:45:5: warning missing-termination-grace-period [fix] the pod spec sets no terminationGracePeriodSeconds: on a drain or upgrade its containers get the default 30 s after SIGTERM, whatever a clean shutdown needs; set it to the time a clean shutdown takes
examples/shop/etcd.yaml:47:9: warning missing-image-pull-policy [fix] container "etcd" sets no imagePullPolicy: Kubernetes sets IfNotPresent (the tag is "3.5.15-0") when the object is created and keeps it when the image changes later; set imagePullPolicy explicitly
examples/shop/session-cache.yaml:9:3: error etcd-no-fault-tolerance etcd cluster of 1 member (spec.size): draining or upgrading its node takes the whole store down, and with it everything that reads it; run 3 members (or 5) on separate nodes
6 findings (2 errors, 4 warnings, 0 info) in 3 of 9 files; 2 fixable with k8slint fix (2 more with --unsafe-fixes); 13 documents, 11 objects checked; 1 object of 1 kind had no schema; 2 suppressed.
"""

CORE_RULES = ("missing-image-pull-policy", "latest-tag-drift", "missing-termination-grace-period",
              "missing-prestop-hook", "even-etcd-cluster", "etcd-no-fault-tolerance")


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain text run from the repository's folder, as a person types it; not under Actions."""
    monkeypatch.chdir(REPO)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "K8SLINT_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("in_repo")
def test_check_examples_prints_exactly_the_readme_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "examples/"])
    out, err = capsys.readouterr()
    assert (code, out, err) == (1, EXPECTED, "")


def test_each_core_rule_shows_exactly_once() -> None:
    matches = [re.match(r"^\S+: (?:error|warning|info) ([a-z0-9-]+) ", line)
               for line in EXPECTED.splitlines()[:-1]]
    rules = Counter(match.group(1) for match in matches if match)
    assert len(matches) == sum(rules.values())
    assert rules == Counter(CORE_RULES)


def test_the_readme_shows_the_output_word_for_word() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert f"```console\n$ k8slint check examples/\n{EXPECTED}```\n" in readme


@pytest.mark.usefixtures("in_repo")
def test_the_workflow_file_is_not_linted_as_an_object(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "examples/github-workflow.yaml"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out == "No Kubernetes objects found in 1 file, so nothing was checked.\n"


def _workflow() -> dict[Any, Any]:
    # YAML 1.1 reads the key `on` as True: only jobs are looked at here.
    workflow: dict[Any, Any] = yaml.safe_load((EXAMPLES / "github-workflow.yaml").read_text(encoding="utf-8"))
    return workflow


def test_the_workflow_uploads_what_the_action_wrote() -> None:
    job = _workflow()["jobs"]["k8slint"]
    assert job["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    steps = job["steps"]
    action = next(step for step in steps if step.get("id") == "k8slint")
    assert re.fullmatch(r"<owner>/k8slint@v\d+\.\d+\.\d+", action["uses"])
    assert action["with"]["category"] == "k8slint"
    upload = steps[steps.index(action) + 1]
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    assert upload["if"] == "${{ !cancelled() }}"
    assert upload["with"] == {"sarif_file": "${{ steps.k8slint.outputs.sarif-file }}", "category": "k8slint"}


def test_the_workflows_action_tag_is_this_version() -> None:
    version = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(encoding="utf-8"),
                        re.MULTILINE)
    assert version is not None
    action = next(step for step in _workflow()["jobs"]["k8slint"]["steps"] if step.get("id") == "k8slint")
    assert action["uses"].endswith(f"@v{version.group(1)}")


def test_every_example_file_is_described_in_the_readme() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    files = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*")
                   if p.is_file() and p.name != "README.md")
    assert files, "no example files"
    missing = [name for name in files if f"`{name}`" not in readme]
    assert not missing, f"examples/README.md does not mention {missing}"


def test_examples_hold_no_tabs_or_trailing_spaces() -> None:
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert "\t" not in line and line == line.rstrip(), f"{Path(path).name}:{number}"


def test_the_readme_shows_the_examples_and_the_workflow_as_they_are():
    """The top-level README repeats the demo's output and the example workflow: both must
    be what k8slint prints and what examples/ holds, never typed by hand."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    examples = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    start = examples.index("```console\n$ k8slint check examples/")
    block = examples[start:examples.index("```\n", start + 10) + 4]
    assert block in readme
    assert (REPO / "examples" / "github-workflow.yaml").read_text(encoding="utf-8") in readme


# --- sharding/: the CI matrix and the Indexed Job (run as local processes in test_shards.py)

SHARDING = EXAMPLES / "sharding"


@pytest.mark.usefixtures("in_repo")
def test_the_sharding_examples_lint_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "examples/sharding/"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == "No findings in 3 files; 4 documents, 3 objects checked.\n"


def _yaml(name: str) -> list[dict[Any, Any]]:
    return [d for d in yaml.safe_load_all((SHARDING / name).read_text(encoding="utf-8")) if d]


def test_the_matrix_workflow_shards_then_merges_into_one_sarif_upload() -> None:
    (workflow,) = _yaml("github-matrix.yaml")
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    assert shard["strategy"]["fail-fast"] is False
    ks = shard["strategy"]["matrix"]["shard"]
    assert ks == list(range(1, len(ks) + 1))
    run = next(s["run"] for s in shard["steps"] if "--shard" in s.get("run", ""))
    assert '--shard "${{ matrix.shard }}/${{ strategy.job-total }}"' in run
    assert '--partial "partial-${{ matrix.shard }}.json"' in run
    upload = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "partial-${{ matrix.shard }}.json"
    assert upload["with"]["name"] == "k8slint-partial-${{ matrix.shard }}"
    assert merge["needs"] == "shard"
    assert merge["permissions"]["security-events"] == "write"
    steps = merge["steps"]
    download = next(s for s in steps if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"]["pattern"] == "k8slint-partial-*" and download["with"]["merge-multiple"] is True
    merged = next(s["run"] for s in steps if "k8slint merge" in s.get("run", ""))
    assert '--report "sarif:${{ runner.temp }}/k8slint.sarif"' in merged
    assert merged.endswith('"${{ runner.temp }}"/partials/partial-*.json')
    sarif = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert len(sarif) == 1  # one SARIF file, one run
    assert sarif[0]["if"] == "${{ !cancelled() }}"
    assert sarif[0]["with"] == {"sarif_file": "${{ runner.temp }}/k8slint.sarif", "category": "k8slint"}


def test_the_indexed_job_counts_shards_from_the_completion_index() -> None:
    claim, job = _yaml("indexed-job.yaml")
    assert claim["kind"] == "PersistentVolumeClaim" and claim["spec"]["accessModes"] == ["ReadWriteMany"]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SHARDS"] == str(spec["completions"])
    script = container["command"][-1]
    assert '--shard "$((JOB_COMPLETION_INDEX + 1))/$SHARDS"' in script
    assert '--partial "$PARTIALS/shard-$JOB_COMPLETION_INDEX.json"' in script
    (merge,) = _yaml("merge-job.yaml")
    assert merge["kind"] == "Job"
    assert 'k8slint merge --format sarif --output "$PARTIALS/k8slint.sarif"' in \
        merge["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    for manifest in (job, merge):
        volumes = {v["name"]: v for v in manifest["spec"]["template"]["spec"]["volumes"]}
        assert volumes["partials"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]

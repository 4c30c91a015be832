"""Cross-object rules: partners in files that were not passed, and linear lookups."""

from __future__ import annotations

from k8slint.cli import main
from k8slint.index import Facts, Index
from k8slint.loader import Position
from k8slint.rule import RunView, Settings

from .helpers import FIXTURES

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      terminationGracePeriodSeconds: 30
      containers:
      - name: web
        image: example/web:1.4
        imagePullPolicy: IfNotPresent
        lifecycle: {preStop: {sleep: {seconds: 5}}}
        readinessProbe: {tcpSocket: {port: 80}}
"""
PARTNERS = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector: {matchLabels: {app: web}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


def run(capsys, *args):
    code = main(list(args))
    return code, capsys.readouterr()


def test_partner_in_a_file_not_passed_needs_context(capsys, tmp_path, monkeypatch):
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT)
    (tmp_path / "partners.yaml").write_text(PARTNERS)
    monkeypatch.chdir(tmp_path)
    # Alone, the Deployment's partners are unknown: both cross-object rules fire.
    code, out = run(capsys, "check", "--enable", "unknown-service-account", "deployment.yaml")
    assert code == 1
    assert [line.split()[2] for line in out.out.splitlines()[:-1]] == [
        "missing-pod-disruption-budget", "unknown-service-account"]
    # With the repository as context, as the pre-commit hook runs it: nothing to report,
    # and nothing reported on the context file either.
    code, out = run(capsys, "check", "--enable", "unknown-service-account", "--context", ".",
                    "deployment.yaml")
    assert (code, out.out) == (
        0, "No findings in 1 file; 1 document, 1 object checked; 1 context file read.\n")
    # The context's own problems are not reported: a dangling Service there stays silent.
    (tmp_path / "partners.yaml").write_text(PARTNERS.replace("{app: web}\n  ports", "{app: gone}\n  ports"))
    code, out = run(capsys, "check", "--context", ".", "deployment.yaml")
    assert code == 0


def test_pre_commit_hook_passes_the_repository_as_context():
    hook = (FIXTURES.parent / ".pre-commit-hooks.yaml").read_text()
    assert "entry: k8slint check --context ." in hook
    assert "require_serial: true" in hook


def _facts(n: int) -> list[Facts]:
    pos = Position(1, 1, 1, 2)
    from k8slint.index import Anchor

    anchors = {"replicas": Anchor(("spec", "replicas"), pos, "spec.replicas"),
               "selector": Anchor(("spec", "selector"), pos, "spec.selector"),
               "minAvailable": Anchor(("spec", "minAvailable"), pos, ""),
               "maxUnavailable": Anchor(("spec", "maxUnavailable"), pos, ""),
               "metadata": Anchor(("metadata",), pos, "metadata")}
    out = []
    for i in range(n // 4):  # a Deployment, its Service, its budget, its autoscaler
        labels = {"app": f"a{i}", "team": "shared"}
        out.append(Facts("f.yaml", "apps/v1", "Deployment", "prod", f"d{i}", labels, 3, None, (),
                         None, None, None, anchors))
        out.append(Facts("f.yaml", "v1", "Service", "prod", f"s{i}", None, None, labels, (),
                         None, None, None, anchors))
        out.append(Facts("f.yaml", "policy/v1", "PodDisruptionBudget", "prod", f"p{i}", None, None,
                         {"matchLabels": labels}, (None, 1), None, None, None, anchors))
        out.append(Facts("f.yaml", "autoscaling/v2", "HorizontalPodAutoscaler", "prod", f"h{i}", None,
                         None, None, (), ("Deployment", f"d{i}", 2), None, None, anchors))
    return out


def test_cross_object_lookups_are_linear():
    from k8slint.checks import INDEX_RULES

    def work(n: int) -> int:
        index = Index(_facts(n))
        found = [v for rule in INDEX_RULES.values() for v in rule.check(RunView(index, {}, Settings()))]
        assert found == []  # every workload has its Service, budget and autoscaler
        return index.work

    small, large = work(2_000), work(20_000)
    assert small > 0
    # Ten times the objects, ten times the work: every object in one namespace sharing a
    # label must not make each lookup scan them all.
    assert large <= 11 * small, (small, large)


def test_identical_copies_of_a_repository_stay_linear():
    """Ten copies of the same objects (one namespace, the same labels): each distinct
    selector is looked up once, so the work grows with the copies, not their square."""
    from k8slint.checks import INDEX_RULES

    def work(copies: int) -> int:
        index = Index(_facts(200) * copies)
        for check in (rule.check for rule in INDEX_RULES.values()):
            list(check(RunView(index, {}, Settings())))
        return index.work

    assert work(10) <= 11 * work(1)

"""The drain, rollout and reference rules of issue 15 (part 3), each run alone: exact rule,
line, column and message for one case each, then the shapes their fixtures cannot show
alone (two files of one run, the namespace called default, a cluster read back from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8slint.index import Index, facts_of, may_share
from k8slint.loader import load_text
from k8slint.model import objects

from .helpers import lint


def _run(tmp_path: Path, rule: str, *texts: str) -> list[tuple[str, str, int, int, str]]:
    """(rule, file, line, column, message) of a run over the texts, one file each."""
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"f{i}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return [(f.rule, Path(f.file).name, f.line, f.column, f.message) for f in lint(*paths, rules=[rule])]


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:1.4
        ports: [{name: http, containerPort: 8080}]
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
"""


def test_pdb_unhealthy_pod_eviction_policy(tmp_path: Path):
    text = ("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
            "spec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: web}}\n")
    assert _run(tmp_path, "pdb-unhealthy-pod-eviction-policy", text) == [(
        "pdb-unhealthy-pod-eviction-policy", "f0.yaml", 4, 1,
        'PodDisruptionBudget "web" sets no unhealthyPodEvictionPolicy, so it is IfHealthyBudget: '
        "pods that are running but not ready (crash-looping, stuck starting) may be evicted only "
        "while the budget is met, so a broken rollout blocks every node drain that meets one of "
        "them; set unhealthyPodEvictionPolicy: AlwaysAllow")]


def test_dangling_ingress_across_files(tmp_path: Path):
    ingress = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 8080}}}
      - path: /old
        pathType: Prefix
        backend: {service: {name: web-old, port: {name: http}}}
"""
    assert _run(tmp_path, "dangling-ingress", ingress, SERVICE) == [
        ("dangling-ingress", "f0.yaml", 10, 47,
         'Ingress shop sends requests to port 8080 of Service "web", which has no such port (it '
         "has 80 (http)): the ingress controller has no backend for them and answers with an "
         "error (503); use one of the Service's ports"),
        ("dangling-ingress", "f0.yaml", 13, 29,
         'Ingress shop sends requests to Service "web-old", which is not in its namespace: the '
         "ingress controller has no backend for them and answers with an error (503); fix the "
         "name or add the Service"),
    ]


def test_dangling_hpa(tmp_path: Path):
    hpa = ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: prod}\n"
           "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 5\n")
    assert _run(tmp_path, "dangling-hpa", hpa, DEPLOYMENT) == [(
        "dangling-hpa", "f0.yaml", 5, 59,
        'HorizontalPodAutoscaler web scales Deployment "web", which is not in its namespace: the '
        "autoscaler reports FailedGetScale and scales nothing, so the workload it was meant for "
        "keeps a fixed size under load; fix scaleTargetRef or add the Deployment")]
    # The Deployment names no namespace: applied to the one called default, it is there.
    default = hpa.replace("namespace: prod", "namespace: default")
    assert _run(tmp_path, "dangling-hpa", default, DEPLOYMENT) == []


def test_host_port():
    from .helpers import lint_text

    text = DEPLOYMENT.replace("containerPort: 8080}", "containerPort: 8080, hostPort: 80}")
    assert [(f.rule, f.line, f.column, f.message) for f in lint_text(text, rules=["host-port"])] == [(
        "host-port", 12, 51,
        'container "web" binds hostPort 80: only one pod that does can run on each node, so '
        "replicas, a rolling update's new pods and the pods a drain evicts stay Pending wherever "
        "the port is taken; reach it through a Service instead (a NodePort or LoadBalancer if it "
        "must be outside the cluster)")]


def test_unsafe_proc_mount():
    from .helpers import lint_text

    text = DEPLOYMENT + "        securityContext: {procMount: Unmasked}\n"
    assert [(f.rule, f.line, f.column) for f in lint_text(text, rules=["unsafe-proc-mount"])] == [
        ("unsafe-proc-mount", 13, 27)]
    [finding] = lint_text(text, rules=["unsafe-proc-mount"])
    assert finding.message.startswith('container "web" sets procMount: Unmasked: the runtime no '
                                      "longer hides or makes read-only the kernel files under /proc")


def test_invalid_restart_policy():
    from .helpers import lint_text

    text = DEPLOYMENT.replace("      containers:\n", "      restartPolicy: Never\n      containers:\n")
    assert [(f.rule, f.line, f.column, f.message) for f in lint_text(text, rules=["invalid-restart-policy"])] == [(
        "invalid-restart-policy", 9, 7,
        'Deployment "web"\'s pod template sets restartPolicy: "Never", but a Deployment\'s pods '
        "must be restarted in place: the API server rejects it (only Always is allowed); remove "
        "restartPolicy, or run work that ends as a Job")]


def test_missing_readiness_probe_across_files(tmp_path: Path):
    assert _run(tmp_path, "missing-readiness-probe", DEPLOYMENT, SERVICE) == [(
        "missing-readiness-probe", "f0.yaml", 10, 9,
        'container "web" of Deployment web serves port 80 (http) of Service web but has no '
        "readinessProbe: the Service sends it requests as soon as it starts, so every rollout and "
        "restart routes traffic to pods that cannot answer yet; add a readinessProbe on that port")]
    # Alone, nothing says which Service sends it traffic.
    assert _run(tmp_path, "missing-readiness-probe", DEPLOYMENT) == []


def test_etcd_without_backup_and_a_backup_elsewhere(tmp_path: Path):
    cluster = ("apiVersion: etcd.database.coreos.com/v1beta2\nkind: EtcdCluster\n"
               "metadata: {name: store, namespace: db}\nspec: {size: 3}\n")
    assert _run(tmp_path, "etcd-without-backup", cluster) == [(
        "etcd-without-backup", "f0.yaml", 4, 8,
        "EtcdCluster store runs an etcd cluster of 3 members and nothing in the run takes "
        "snapshots of it (no CronJob or Job running etcdctl snapshot save in its namespace, no "
        "etcd operator backup): when a majority of its members is lost for good, its data can "
        "only come back from a snapshot; add a CronJob that runs etcdctl snapshot save and copies "
        "the file off the cluster (or the operator's backup resource)")]
    backup = ("apiVersion: etcd.improbable.io/v1alpha1\nkind: EtcdBackupSchedule\n"
              "metadata: {name: store-backups, namespace: db}\nspec: {schedule: '0 * * * *'}\n")
    assert _run(tmp_path, "etcd-without-backup", cluster, backup) == []
    elsewhere = ("apiVersion: etcd.database.coreos.com/v1beta2\nkind: EtcdBackup\n"
                 "metadata: {name: b, namespace: ops}\n"
                 "spec: {etcdEndpoints: ['https://store-client.db.svc:2379']}\n")
    assert _run(tmp_path, "etcd-without-backup", cluster, elsewhere) == []
    other = elsewhere.replace("store-client.db", "store-client.other")
    assert len(_run(tmp_path, "etcd-without-backup", cluster, other)) == 1
    # A backup that names one cluster of a namespace does not cover its neighbour.
    neighbour = cluster.replace("name: store", "name: cache")
    named = ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: snap, namespace: db}\n"
             "spec:\n  schedule: '0 * * * *'\n  jobTemplate:\n    spec:\n      template:\n"
             "        spec:\n          restartPolicy: OnFailure\n          containers:\n"
             "          - name: snap\n            image: bitnami/etcd:3.5\n"
             "            command: [etcdctl, --endpoints=http://store.db.svc:2379, snapshot, save, /b/s.db]\n")
    assert [f[1] for f in _run(tmp_path, "etcd-without-backup", cluster, neighbour, named)] == ["f1.yaml"]


def test_no_rolling_update_strategy():
    from .helpers import lint_text

    text = DEPLOYMENT.replace("spec:\n  template:", "spec:\n  strategy: {type: Recreate}\n  template:")
    assert [(f.rule, f.line, f.column, f.message) for f in lint_text(text, rules=["no-rolling-update-strategy"])] == [(
        "no-rolling-update-strategy", 6, 14,
        'Deployment "web" uses the Recreate strategy: every rollout stops all its pods before it '
        "starts new ones, so it serves nothing until the new pods are ready; use RollingUpdate "
        "(the default) unless two versions must never run side by side")]


def test_missing_config_reference_across_files(tmp_path: Path):
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {LOG_LEVEL: info}\n"
    pod = DEPLOYMENT + ("        env:\n        - name: LEVEL\n"
                        "          valueFrom: {configMapKeyRef: {name: web, key: level}}\n"
                        "        - name: TOKEN\n"
                        "          valueFrom: {secretKeyRef: {name: vault-made, key: token}}\n")
    assert _run(tmp_path, "missing-config-reference", pod, config) == [(
        "missing-config-reference", "f0.yaml", 15, 52,
        'Deployment web reads key "level" of ConfigMap "web", which has no such key (it has '
        "LOG_LEVEL): the container cannot start (CreateContainerConfigError); fix the key or add "
        "it to the ConfigMap (or mark the reference optional: true)")]
    # Without any ConfigMap in the run, the one it reads is made elsewhere: not reported.
    assert _run(tmp_path, "missing-config-reference", pod) == []


@pytest.mark.parametrize("namespace, shared", [
    (None, (None, "default")), ("default", ("default", None)), ("prod", ("prod",))])
def test_an_object_that_names_no_namespace_may_meet_default(namespace, shared):
    assert may_share(namespace) == shared


def _facts(text: str) -> list:
    [document] = load_text(text).documents
    return [facts_of(obj, "f.yaml") for obj in objects(document)]


def test_an_object_read_back_from_a_cluster_is_flagged_and_its_partners_are_not_looked_for():
    [facts] = _facts("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
                     "metadata: {name: h, uid: 1f2e, resourceVersion: '5'}\n"
                     "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: gone}}\n")
    assert "exported" in facts.flags and facts.references[0].name == "gone"


def test_reference_lookups_stay_linear():
    """Many Ingresses and the Services they name: each reference is one lookup."""
    text = "\n---\n".join(
        f"apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\nspec: {{ports: [{{port: 80}}]}}\n---\n"
        f"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i{i}}}\n"
        f"spec: {{defaultBackend: {{service: {{name: s{i}, port: {{number: 80}}}}}}}}"
        for i in range(300))
    index = Index([f for f in _facts_all(text) if f is not None])
    assert all(len(index.named("Service", None, f"s{i}")) == 1 for i in range(300))
    assert index.work == 0  # no label lookups were needed


def _facts_all(text: str) -> list:
    facts = []
    for document in load_text(text).documents:
        facts += [facts_of(obj, "f.yaml") for obj in objects(document)]
    return facts

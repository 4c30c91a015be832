"""Issue 11, "Rule bugs to fix": four rules that k8slint got wrong on kube-linter's and
checkov's own test fixtures, each pinned with exact rule ids, lines, columns and messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import lint


def _findings(tmp_path: Path, text: str, rule: str) -> list[tuple[str, int, int, str]]:
    """(rule, line, column, message) of every finding of ``rule`` alone over ``text``."""
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    return [(f.rule, f.line, f.column, f.message) for f in lint(path, rules=[rule]) if f.rule == rule]


# --- 1. no-anti-affinity: a term counts only when it spreads the workload's own pods -----------

SPREAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: foo
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web, tier: front}}
    spec:
{spread}
      containers: [{{name: web, image: "example/web:1.4"}}]
"""


def _spread(tmp_path: Path, spread: str) -> list[tuple[str, int, int, str]]:
    return _findings(tmp_path, SPREAD.format(spread=spread), "no-anti-affinity")


def test_an_anti_affinity_term_in_another_namespace_does_not_count(tmp_path: Path):
    spread = """\
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            namespaces: [bar]
            topologyKey: kubernetes.io/hostname"""
    assert _spread(tmp_path, spread) == [(
        "no-anti-affinity", 17, 13,
        ('Deployment "web" runs 3 replicas, but nothing spreads them: the podAntiAffinity term '
         "looks only at pods in namespace bar, not in foo where its own pods run; the scheduler "
         "may place several on one node, so one node drain or failure takes them down together; "
         "drop namespaces (the pods' own namespace is the default) or list theirs"),
    )]


def test_an_anti_affinity_term_for_another_app_does_not_count(tmp_path: Path):
    spread = """\
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector: {matchLabels: {app: cache}}
              topologyKey: kubernetes.io/hostname"""
    assert _spread(tmp_path, spread) == [(
        "no-anti-affinity", 18, 15,
        ('Deployment "web" runs 3 replicas, but nothing spreads them: the podAntiAffinity '
         "term's labelSelector does not select its own pods (matchLabels wants app=cache, but "
         "the pod template has app=web); the scheduler may place several on one node, so one "
         "node drain or failure takes them down together; make its labelSelector select the "
         "pod template's labels"),
    )]


def test_a_spread_constraint_for_other_pods_does_not_count(tmp_path: Path):
    spread = """\
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
        labelSelector:
          matchExpressions: [{key: tier, operator: In, values: [back]}]"""
    [(rule, line, column, message)] = _spread(tmp_path, spread)
    assert (rule, line, column) == ("no-anti-affinity", 17, 9)
    assert "the topologySpreadConstraint's labelSelector does not select its own pods " \
           "(matchExpressions wants tier In (back), but the pod template has tier=front)" in message


def test_a_spread_constraint_needs_a_topology_key(tmp_path: Path):
    spread = """\
      topologySpreadConstraints:
      - maxSkew: 1
        labelSelector: {matchLabels: {app: web}}"""
    [(rule, line, column, message)] = _spread(tmp_path, spread)
    assert (rule, line, column) == ("no-anti-affinity", 14, 9)
    assert "the topologySpreadConstraint has no topologyKey" in message
    assert message.endswith("set topologyKey: kubernetes.io/hostname")


def test_empty_term_lists_count_for_nothing(tmp_path: Path):
    spread = """\
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution: []
      topologySpreadConstraints: []"""
    [(rule, line, column, message)] = _spread(tmp_path, spread)
    assert (rule, line, column) == ("no-anti-affinity", 14, 9)
    assert "with no podAntiAffinity or topologySpreadConstraints" in message


def test_the_first_term_that_falls_short_is_named_and_the_others_counted(tmp_path: Path):
    spread = """\
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            namespaces: [bar]
            topologyKey: kubernetes.io/hostname
          - labelSelector: {matchLabels: {app: db}}
            topologyKey: kubernetes.io/hostname
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: zone, labelSelector: {matchLabels: {app: api}}}"""
    [(rule, line, column, message)] = _spread(tmp_path, spread)
    assert (rule, line, column) == ("no-anti-affinity", 17, 13)
    assert "not in foo where its own pods run, nor do its 2 other terms;" in message


@pytest.mark.parametrize("spread", [
    # no namespaces: the pods' own
    ("      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
     "[{labelSelector: {matchLabels: {app: web}}, topologyKey: h}]}}"),
    # the own namespace listed
    ("      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
     "[{labelSelector: {matchLabels: {app: web}}, namespaces: [bar, foo], topologyKey: h}]}}"),
    # namespaceSelector {} is every namespace
    ("      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
     "[{labelSelector: {matchLabels: {app: web}}, namespaces: [bar], namespaceSelector: {}, topologyKey: h}]}}"),
    # a non-empty namespaceSelector cannot be judged without the live namespaces
    ("      affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
     "[{weight: 1, podAffinityTerm: {labelSelector: {matchLabels: {app: web}}, "
     "namespaceSelector: {matchLabels: {team: a}}, topologyKey: h}}]}}"),
    # an empty selector selects every pod, its own included
    ("      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
     "[{labelSelector: {}, topologyKey: h}]}}"),
    # templated selectors are skipped, never guessed
    ("      topologySpreadConstraints: [{maxSkew: 1, topologyKey: h, "
     "labelSelector: {matchLabels: {app: '{{ .Release.Name }}'}}}]"),
    ("      topologySpreadConstraints: [{maxSkew: 1, topologyKey: h, "
     "labelSelector: {matchLabels: {app: '${APP}'}}}]"),
    # one term that spreads the pods is enough
    ("      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
     "[{labelSelector: {matchLabels: {app: db}}, topologyKey: h}]}}\n"
     "      topologySpreadConstraints: [{maxSkew: 1, topologyKey: h, "
     "labelSelector: {matchExpressions: [{key: tier, operator: Exists}]}}]"),
])
def test_terms_that_spread_the_pods_count(tmp_path: Path, spread: str):
    assert _spread(tmp_path, spread) == []


def test_templated_pod_labels_are_not_guessed(tmp_path: Path):
    text = SPREAD.format(spread="      topologySpreadConstraints: [{maxSkew: 1, topologyKey: h, "
                                "labelSelector: {matchLabels: {app: web}}}]")
    text = text.replace("labels: {app: web, tier: front}", "labels: {app: '${APP}'}")
    assert _findings(tmp_path, text, "no-anti-affinity") == []


# --- 2. the cross-object index: a template with labels and no spec still makes pods ------------

SPECLESS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    metadata:
      labels: {app: worker}
"""


def test_a_template_without_spec_keeps_its_labels_in_the_index(tmp_path: Path):
    from k8slint.index import facts_of
    from k8slint.loader import load_text
    from k8slint.model import objects, pod_template_labels

    (document,) = load_text(SPECLESS).documents
    (obj,) = objects(document)
    assert pod_template_labels(obj) == {"app": "worker"}
    facts = facts_of(obj, "manifest.yaml")
    assert facts is not None and facts.pod_labels == {"app": "worker"}


def test_pod_template_labels_of_each_shape():
    from k8slint.loader import load_text
    from k8slint.model import objects, pod_template_labels

    def labels(text: str) -> dict | None:
        (document,) = load_text(text).documents
        (obj,) = objects(document)
        return pod_template_labels(obj)

    assert labels("apiVersion: v1\nkind: Pod\nmetadata: {labels: {run: x}}\n") == {"run": "x"}
    assert labels("apiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: {spec: {template: "
                  "{metadata: {labels: {job: x}}}}}}\n") == {"job": "x"}
    assert labels("apiVersion: apps/v1\nkind: Deployment\nspec: {template: {}}\n") == {}
    assert labels("apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: 2}\n") is None
    assert labels("apiVersion: v1\nkind: ConfigMap\ndata: {labels: x}\n") is None
    assert labels("apiVersion: example.com/v1\nkind: Deployment\nspec: {template: "
                  "{metadata: {labels: {a: b}}}}\n") is None


def test_dangling_service_sees_the_labels_of_a_template_without_spec(tmp_path: Path):
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: worker}\nspec:\n  selector: {app: worker}\n---\n"
    assert _findings(tmp_path, text + SPECLESS, "dangling-service") == []
    other = text.replace("app: worker}", "app: other}")
    assert _findings(tmp_path, other + SPECLESS, "dangling-service") == [(
        "dangling-service", 5, 3,
        ("Service worker selects pods labelled app=other, but no workload in its namespace makes "
         "such pods: it has no endpoints and every request fails; fix the selector or the pod "
         "template's labels"),
    )]


PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: worker}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: worker}}
---
"""


@pytest.mark.parametrize("autoscaler", [
    ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: worker}\n"
     "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}, "
     "minReplicas: 1, maxReplicas: 4}\n"),
    ("apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: worker}\n"
     "spec: {scaleTargetRef: {name: worker}, minReplicaCount: 1, triggers: []}\n"),
])
def test_pdb_blocks_drain_counts_a_template_without_spec(tmp_path: Path, autoscaler: str):
    text = PDB + SPECLESS + "---\n" + autoscaler
    assert _findings(tmp_path, text, "pdb-blocks-drain") == [(
        "pdb-blocks-drain", 5, 3,
        ("PodDisruptionBudget worker requires 1 pod available but selects only 1 (Deployment "
         "worker): no pod may ever be evicted, so a node drain waits forever; lower minAvailable "
         "or use maxUnavailable: 1"),
    )]
    assert _findings(tmp_path, text.replace("inReplicas: 1", "inReplicas: 2")
                     .replace("inReplicaCount: 1", "inReplicaCount: 2"), "pdb-blocks-drain") == []


# --- 3. env-secret-value: settings, paths and references are not secrets ---------------------

ENV = """\
apiVersion: v1
kind: Pod
metadata: {{name: etcd}}
spec:
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.5.15-0
    env:
    - name: {name}
      value: {value}
"""


@pytest.mark.parametrize("name, value", [
    ("ETCD_AUTH_TOKEN", '"jwt,priv-key=/opt/etcd/certs/jwt-token.pem,sign-method=RS256,ttl=10m"'),
    ("ETCD_AUTH_TOKEN", '"jwt;pub-key=certs/jwt.pub;sign-method=RS256"'),
    ("TLS_PRIVATE_KEY", "./certs/tls.key"),
    ("SSH_PRIVATE_KEY", "~/.ssh/id_ed25519"),
    ("GOOGLE_CREDENTIALS", "sa/credentials.json"),
    ("SIGNING_KEY", "jwt-signing.pem"),
    ("DB_PASSWORD", "secretref:db-password"),
    ("VAULT_TOKEN", "vault:secret/data/ci#token"),
    ("API_TOKEN", "ref+vault://secret/api#token"),
    ("STRIPE_SECRET", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe-AbCdEf"),
    ("ADMIN_PASSWORD", "$(PASSWORD_FROM_SECRET)"),
    ("REDIS_PASSWORD", "${REDIS_PASSWORD}"),
])
def test_values_that_are_not_secrets(tmp_path: Path, name: str, value: str):
    assert _findings(tmp_path, ENV.format(name=name, value=value), "env-secret-value") == []


@pytest.mark.parametrize("name, value", [
    ("ETCD_ROOT_PASSWORD", "hunter2"),
    ("API_TOKEN", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
    ("SESSION_SECRET", '"4f9a1c2e7b3d8a6f0e5c1b9d2a7f3e8c"'),
    ("DATABASE_CREDENTIALS", '"user=app;password=Tr0ub4dor&3"'),
    ("ODBC_CREDENTIALS", '"UID=sa;PWD=Tr0ub4dor&3"'),
    ("ETCD_AUTH_TOKEN", '"jwt,priv-key=MIIEvQIBADANBgkqhkiG9w0BAQEFAASC,sign-method=RS256"'),
])
def test_literal_secrets_are_still_reported(tmp_path: Path, name: str, value: str):
    assert _findings(tmp_path, ENV.format(name=name, value=value), "env-secret-value") == [(
        "env-secret-value", 10, 7,
        (f'container "etcd" sets {name} to a literal value: whoever can read the manifest or '
         f"the object (the repository, kubectl get) reads the secret, and rotating it means a "
         f"new rollout; take it from a Secret with valueFrom.secretKeyRef"),
    )]


# --- 4. images: the literal parts of a partly templated reference are judged -----------------

IMAGE = """\
apiVersion: v1
kind: Pod
metadata: {{name: app}}
spec:
  containers:
  - name: app
    image: "{image}"
{policy}"""


def _image(tmp_path: Path, rule: str, image: str, policy: str = "") -> list[tuple[str, int, int, str]]:
    policy_line = f"    imagePullPolicy: {policy}\n" if policy else ""
    return _findings(tmp_path, IMAGE.format(image=image, policy=policy_line), rule)


GCP = "us-central1-docker.pkg.dev/$PROJECT_ID/repo/app:latest"


@pytest.mark.parametrize("image", [GCP, "$PROJECT_ID/repo/app:latest", "${REGISTRY}/app",
                                   "{{ .Values.image.repository }}:latest"])
def test_latest_tag_judges_a_literal_tag_behind_a_templated_registry(tmp_path: Path, image: str):
    [(rule, line, column, message)] = _image(tmp_path, "latest-tag", image, "Always")
    assert (rule, line, column) == ("latest-tag", 7, 5)
    assert message.startswith(f'container "app" image "{image}" ')


@pytest.mark.parametrize("image", [
    "app:${TAG}", "app:{{ .Values.tag }}", "registry.example.com/${IMAGE}", "{{ .Values.image }}",
    "example/app:latest@${DIGEST}", "$PROJECT_ID/repo/app:1.4", "registry.example.com/app${SUFFIX}",
])
def test_latest_tag_skips_a_templated_tag(tmp_path: Path, image: str):
    assert _image(tmp_path, "latest-tag", image, "Always") == []


def test_latest_tag_drift_judges_the_same_parts(tmp_path: Path):
    assert _image(tmp_path, "latest-tag-drift", GCP, "IfNotPresent") == [(
        "latest-tag-drift", 7, 5,
        (f'image "{GCP}" follows the moving tag latest but imagePullPolicy is IfNotPresent: '
         f"each node keeps whichever latest it pulled first, so replicas run different code; "
         f"pin a version tag or digest"),
    )]
    assert _image(tmp_path, "latest-tag-drift", "example/app:${TAG}", "IfNotPresent") == []


@pytest.mark.parametrize("image, fixed", [
    (GCP, 'Kubernetes sets Always (the tag is "latest") when the object is created'),
    ("${REGISTRY}/app",
     "Kubernetes sets Always (the image has no tag, so it means latest) when the object is created"),
    ("$PROJECT_ID/app:1.4", 'Kubernetes sets IfNotPresent (the tag is "1.4") when the object is created'),
    ("app@${DIGEST}",
     "Kubernetes sets IfNotPresent (the image is pinned by digest) when the object is created"),
    ("app:${TAG}",
     "Kubernetes derives it from the image tag, filled in later, when the object is created"),
    ("registry.example.com/${IMAGE}",
     "Kubernetes derives it from the image tag, filled in later, when the object is created"),
])
def test_missing_image_pull_policy_names_the_default_of_the_literal_tag(tmp_path: Path, image: str, fixed: str):
    assert _image(tmp_path, "missing-image-pull-policy", image) == [(
        "missing-image-pull-policy", 6, 5,
        (f'container "app" sets no imagePullPolicy: {fixed} and keeps it when the image changes '
         f"later; set imagePullPolicy explicitly"),
    )]


@pytest.mark.parametrize("image, full", [
    ("nginx:${NGINX_VERSION}", "docker.io/library/nginx:${NGINX_VERSION}"),
    ("bitnami/{{ .Values.name }}:7.2", "docker.io/bitnami/{{ .Values.name }}:7.2"),
])
def test_implicit_docker_hub_judges_a_literal_first_segment(tmp_path: Path, image: str, full: str):
    [(rule, line, column, message)] = _image(tmp_path, "implicit-docker-hub", image)
    assert (rule, line, column) == ("implicit-docker-hub", 7, 5)
    assert f'pulls "{image}" from Docker Hub' in message and f"({full})" in message


@pytest.mark.parametrize("image", ["$PROJECT_ID/repo/app:latest", "${REGISTRY}/app:1.0",
                                   "{{ .Values.image }}", "nginx${SUFFIX}:1.27"])
def test_implicit_docker_hub_skips_a_templated_first_segment(tmp_path: Path, image: str):
    assert _image(tmp_path, "implicit-docker-hub", image) == []


@pytest.mark.parametrize("text, registry, repository, tag, digest, templated", [
    (GCP, "us-central1-docker.pkg.dev", "$PROJECT_ID/repo/app", "latest", None, set()),
    ("$PROJECT_ID/repo/app:latest", None, "$PROJECT_ID/repo/app", "latest", None, {"registry"}),
    ("app:{{ .Values.tag }}", None, "app", "{{ .Values.tag }}", None, {"tag"}),
    # a template's own "/" and ":" do not cut the reference
    ('{{ printf "%s/%s" .r .n }}:{{ .t | default "a:b" }}', None, '{{ printf "%s/%s" .r .n }}',
     '{{ .t | default "a:b" }}', None, {"registry", "name", "tag"}),
    ("reg.io/app@${DIGEST}", "reg.io", "app", None, "${DIGEST}", {"digest"}),
])
def test_image_ref_keeps_templated_parts_apart(text, registry, repository, tag, digest, templated):
    from k8slint.model import image_ref

    ref = image_ref(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert ref.templated == templated


def test_one_test_for_templated_values():
    from k8slint.index import selector_is_literal
    from k8slint.loader import is_literal, is_templated

    for text in ("${A}", "$(A)", "$A", "a$", "{{ .b }}", "x{{ unclosed"):
        assert is_templated(text) and not is_literal(text)
        assert not selector_is_literal({"app": text})
    for text in ("web", "{ {", "a}}", ""):
        assert not is_templated(text) and is_literal(text)
        assert selector_is_literal({"app": text})

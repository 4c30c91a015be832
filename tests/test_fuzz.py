"""Property-based fuzzing: generated manifests and mutated real files never crash the
linter, never hang it, and are never silently dropped.

CI runs a bounded number of examples; run longer by hand with, for example,
``K8SLINT_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8slint.catalog import catalog
from k8slint.engine import Engine

from .helpers import CORPUS, FIXTURES

EXAMPLES = int(os.environ.get("K8SLINT_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),  # a hang guard on a shared machine, not a speed test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("CI") == "true",
)
ENGINE = Engine({rule: meta.severity for rule, meta in catalog().items()})

KEYS = ["spec", "template", "containers", "initContainers", "ephemeralContainers", "image",
        "imagePullPolicy", "lifecycle", "preStop", "replicas", "command", "args", "env", "name",
        "value", "metadata", "annotations", "terminationGracePeriodSeconds", "restartPolicy",
        "jobTemplate", "size", "etcd", "external", "endpoints", "items", "labels",
        "ignore-check.k8slint.io/all", "ignore-check.k8slint.io/latest-tag-drift"]
KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
         "PodTemplate", "ReplicationController", "List", "DeploymentList", "EtcdCluster",
         "ClusterConfiguration", "ConfigMap", "Service"]
API_VERSIONS = ["v1", "apps/v1", "batch/v1", "extensions/v1beta1", "kubeadm.k8s.io/v1beta3",
                "etcd.database.coreos.com/v1beta2", "example.com/v1", ""]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10), st.floats(allow_nan=True),
    st.sampled_from(["Always", "IfNotPresent", "Never", "always", "", "nginx", "nginx:latest",
                     "registry:5000/app", "img@sha256:ab", "etcd", "--initial-cluster",
                     "--initial-cluster=a=http://a,b=http://b", "a=http://a", "${X}", "{{ x }}",
                     "sh", "-c", "exec etcd --initial-cluster=a=x,b=y", "ETCD_INITIAL_CLUSTER",
                     "\x1b[31m", "k8slint: ignore=all"]),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    ),
    max_leaves=40,
)
OBJECTS = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(API_VERSIONS), "kind": st.sampled_from(KINDS)},
    optional={"metadata": VALUES, "spec": VALUES, "items": st.lists(VALUES, max_size=3),
              "template": VALUES, "etcd": VALUES},
)


def _seeds() -> list[bytes]:
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    corpus = CORPUS / "real"
    if corpus.is_dir():  # a spread of real files, small enough to mutate quickly
        real = sorted(p for p in corpus.rglob("*.yaml") if p.stat().st_size < 20_000)
        files += real[:: max(1, len(real) // 60)]
    return [p.read_bytes() for p in files]


SEEDS = _seeds()


def check(raw: bytes, name: str = "fuzz.yaml") -> None:
    result = ENGINE.lint_bytes(name, raw)  # must not raise
    assert result.errors == [], result.errors  # no rule failed on it
    for f in result.findings:
        assert f.line >= 1 and f.column >= 1 and f.rule in catalog()
    reported = any(f.rule in ("parse-error", "file-too-large") for f in result.findings)
    if result.documents == 0 and not reported:
        # Nothing linted and nothing said: only right when there is nothing to lint.
        try:
            nodes = [n for n in yaml.compose_all(raw, Loader=yaml.CSafeLoader) if n is not None]
        except yaml.YAMLError:
            nodes = []
        assert all(n.tag.endswith(":null") or n.value in ("", []) for n in nodes), raw[:200]


@SETTINGS
@given(st.lists(OBJECTS, min_size=1, max_size=3))
def test_generated_manifests(objects):
    check(yaml.safe_dump_all(objects, allow_unicode=True).encode("utf-8"))


@st.composite
def mutated(draw):
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "indent", "dedent", "tab", "duplicate", "insert"]))
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        if kind == "flip":
            raw[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del raw[at:]
        elif kind in ("indent", "dedent", "tab"):
            start = raw.rfind(b"\n", 0, at) + 1
            if kind == "indent":
                raw[start:start] = b"  "
            elif kind == "dedent" and raw[start:start + 1] == b" ":
                del raw[start]
            elif kind == "tab":
                raw[start:start] = b"\t"
        elif kind == "duplicate":
            start, end = raw.rfind(b"\n", 0, at) + 1, raw.find(b"\n", at)
            end = len(raw) if end == -1 else end + 1
            raw[end:end] = raw[start:end]
        else:
            raw[at:at] = draw(st.sampled_from([b"&a ", b"*a", b"<<: *a\n", b"---\n", b"[", b"{", b"\x00",
                                               b"!!python/object/apply:os.system ", b": ", b"- "]))
    return bytes(raw)


@SETTINGS
@given(mutated(), st.sampled_from(["m.yaml", "m.json"]))
def test_mutated_real_files(raw, name):
    check(raw, name)


@SETTINGS
@given(st.lists(st.lists(OBJECTS, min_size=1, max_size=3), min_size=1, max_size=4))
def test_generated_repositories_through_the_whole_run(files):
    """Several files in one run: the cross-object index and rules, suppressions and the
    reports see every shape too."""
    import tempfile

    from k8slint.config import Config
    from k8slint.report import render
    from k8slint.session import Options, run

    everything = {rule: meta.severity for rule, meta in catalog().items()}
    with tempfile.TemporaryDirectory() as folder:
        for n, objects in enumerate(files):
            Path(folder, f"f{n}.yaml").write_text(yaml.safe_dump_all(objects, allow_unicode=True))
        outcome = run(Options((folder,), jobs=1), Config(None, everything, {}))
        assert outcome.problems == []
        for fmt in ("text", "json", "sarif", "github"):
            render(fmt, outcome.summary, compact=fmt == "text")

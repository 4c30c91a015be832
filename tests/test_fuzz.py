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

from .helpers import CORPUS, FIXTURES, make_git_folder

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
        for fmt in ("text", "json", "sarif", "github", "junit", "gitlab"):
            render(fmt, outcome.summary, compact=fmt == "text")


# Names and keys a hostile repository might choose: control characters, bidi overrides,
# option look-alikes, path tricks, bytes that are not UTF-8 (as surrogate escapes).
HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(list("ab-=./ :#\\*?[]!{}%,") + ["\n", "\x1b", "\x00", "\u202e",
                                                              "\u200b", "\udcff", "é"]),
    min_size=1, max_size=12)


def _file_name(text: str) -> str:
    name = text.replace("/", "_").replace("\x00", "_").strip() or "x"
    return name if name not in (".", "..") else "x" + name


@settings(max_examples=max(20, EXAMPLES // 5), deadline=timedelta(seconds=20),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          derandomize=os.environ.get("CI") == "true")
@given(names=st.lists(HOSTILE_TEXT, min_size=1, max_size=3), key=HOSTILE_TEXT,
       patches=st.lists(HOSTILE_TEXT, max_size=3), tagged=st.booleans())
def test_hostile_file_names_config_keys_and_kustomizations(names, key, patches, tagged):
    """Through the real command line: nothing crashes, nothing is written but the report
    asked for, and no control or invisible character reaches stdout or stderr."""
    import contextlib
    import io
    import re
    import tempfile

    from k8slint.cli import main

    pod = (FIXTURES / "privileged-container" / "fail.yaml").read_text()
    with tempfile.TemporaryDirectory() as folder:
        root = os.fsencode(folder)
        for name in names:
            with open(root + b"/" + os.fsencode(_file_name(name) + ".yaml"), "w") as stream:
                stream.write(pod)
        make_git_folder(Path(folder))
        (Path(folder) / ".k8slint.yaml").write_text(yaml.safe_dump({"rules": {key: "off"}}))
        kustomization = {"patches": [{"path": p} for p in patches] + ["../" + patches[0] if patches else "x"]}
        text = yaml.safe_dump(kustomization)
        (Path(folder) / "kustomization.yaml").write_text(("when: !!timestamp 2026-99-99\n" if tagged else "") + text)
        before = sorted(os.listdir(folder))
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                codes = [main(["check", "."]),
                         main(["check", "--config", "/dev/null", "--format", "github", "--", *(
                             _file_name(n) + ".yaml" for n in names)])]
        finally:
            os.chdir(cwd)
        assert set(codes) <= {0, 1, 2}
        assert sorted(os.listdir(folder)) == before
        for stream in (out.getvalue(), err.getvalue()):
            assert "internal error" not in stream
            assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\ud800-\udfff]", stream)

"""The real-world corpus: no traceback, every file accounted for, parse errors where they are."""

from __future__ import annotations

import json
import os
from collections import Counter

import jsonschema
import pytest

from k8slint.catalog import catalog
from k8slint.cli import main
from k8slint.engine import Engine, discover

from .helpers import SARIF_SCHEMA, corpus_dir

GKE = "rejects/parse-error/GoogleCloudPlatform__kubernetes-engine-samples/ai-ml"
# Where each truly invalid file breaks (checked by hand: the first line a reader would fix).
PARSE_ERRORS = {
    f"{GKE}/gke-model-armor/configuring-the-gateway/llm-gateway.yaml": (25, 9),
    f"{GKE}/gke-model-armor/configuring-the-gateway/llm-httproute.yaml": (26, 9),
    f"{GKE}/gke-model-armor/preparing-the-model/hdml-static-pv-pvc.yaml": (38, 13),
    f"{GKE}/gke-model-armor/preparing-the-model/llm-service.yaml": (26, 11),
    f"{GKE}/gke-model-armor/preparing-the-model/producer-job.yaml": (28, 21),
    f"{GKE}/gke-model-armor/preparing-the-model/vllm-gemma-deployment.yaml": (37, 19),
    f"{GKE}/infw-gw/examples/getting-started/vllm-llama3-8b-instruct.yaml": (17, 9),
}
# Found in a walk, these do not parse and show no sign of a manifest (a Grafana dashboard,
# MongoDB seed data): skipped and counted, not failures. Named, they are parse errors.
NOT_MANIFESTS = {
    f"{GKE}/infw-gw/examples/getting-started/dashboard.json": (1, 1),
    "rejects/parse-error/istio__istio/samples/bookinfo/src/mongodb/ratings_data.json": (1, 2),
}


@pytest.fixture(scope="module")
def corpus_run():
    root = corpus_dir()
    metas = catalog()
    engine = Engine({rule: meta.severity for rule, meta in metas.items() if meta.enabled})
    results = {}
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for source in discover(["real", "rejects"]):
            results[source.display] = engine.lint_source(source)
    finally:
        os.chdir(cwd)
    return results


def test_every_file_is_accounted_for(corpus_run):
    assert len(corpus_run) == 1357 + 11
    for name, result in corpus_run.items():
        assert result.errors == [], name
        parse_errors = [f for f in result.findings if f.rule == "parse-error"]
        if name.startswith("rejects/"):
            continue
        assert parse_errors == [], name
        assert result.objects >= 1, f"{name}: linted nothing"
    assert sum(r.documents for n, r in corpus_run.items() if n.startswith("real/")) >= 2604


def test_rejects_break_where_they_break(corpus_run):
    got = {
        name: (f.line, f.column)
        for name, result in corpus_run.items()
        for f in result.findings
        if f.rule == "parse-error"
    }
    assert got == PARSE_ERRORS
    assert {name for name, result in corpus_run.items() if result.not_manifest} == set(NOT_MANIFESTS)


def test_files_that_are_not_manifests_are_parse_errors_when_named(capsys, monkeypatch):
    monkeypatch.chdir(corpus_dir())
    code, out, _ = run_json(capsys, *NOT_MANIFESTS)
    assert code == 1
    assert {(f["file"], (f["line"], f["column"])) for f in out["findings"]} == set(NOT_MANIFESTS.items())


def run_json(capsys, *paths: str) -> tuple[int, dict, str]:
    code = main(["check", "--format", "json", *paths])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_valid_rejects_lint_cleanly(corpus_run):
    crd = corpus_run[
        "rejects/parse-error/prometheus-operator__kube-prometheus/manifests/setup/"
        "0alertmanagerConfigCustomResourceDefinition.yaml"
    ]
    assert (crd.findings, crd.objects) == ([], 1)
    secret = corpus_run["rejects/parse-error/kubernetes__examples/_archived/openshift-origin/secret.json"]
    assert (secret.findings, secret.documents) == ([], 0)


def test_duplicate_keys_of_the_corpus(corpus_run):
    files = {n for n, r in corpus_run.items() for f in r.findings if f.rule == "duplicate-key"}
    assert len(files) == 8


def test_corpus_sarif_validates(capsys, monkeypatch):
    root = corpus_dir()
    schema = json.loads(SARIF_SCHEMA.read_text())
    monkeypatch.chdir(root)
    code = main(["check", "--format", "sarif", "real", "rejects"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    log = json.loads(out)
    jsonschema.Draft4Validator(schema).validate(log)
    by_rule = Counter(r["ruleId"] for r in log["runs"][0]["results"])
    assert by_rule["parse-error"] == len(PARSE_ERRORS)

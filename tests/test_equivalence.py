"""Findings do not depend on how the work is split or which composer reads the YAML."""

from __future__ import annotations

import os

import pytest

from k8slint.catalog import catalog
from k8slint.engine import Engine, discover
from k8slint.loader import PurePythonLoader
from k8slint.runner import lint_all

from .helpers import FIXTURES, corpus_dir


def _key(findings):
    return sorted((f.rule, f.file, f.line, f.column) for f in findings)


def _severities():
    return {rule: meta.severity for rule, meta in catalog().items() if meta.enabled}


@pytest.fixture(scope="module")
def corpus_sources():
    root = corpus_dir()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        yield list(discover(["real", "rejects", "edge"]))
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def one_job(corpus_sources):
    cwd = os.getcwd()
    os.chdir(corpus_dir())
    try:
        return [f for r in lint_all(corpus_sources, _severities(), jobs=1) for f in r.findings]
    finally:
        os.chdir(cwd)


def test_same_findings_with_one_job_and_with_a_pool(corpus_sources, one_job, monkeypatch):
    monkeypatch.chdir(corpus_dir())
    pooled = [f for r in lint_all(corpus_sources, _severities(), jobs=3) for f in r.findings]
    assert len(one_job) > 1000
    assert _key(pooled) == _key(one_job)


def test_same_findings_with_the_pure_python_composer(corpus_sources, one_job, monkeypatch):
    monkeypatch.chdir(corpus_dir())
    engine = Engine(_severities(), loader_class=PurePythonLoader)
    pure = [f for s in corpus_sources for f in engine.lint_source(s).findings]
    got, want = _key(pure), _key(one_job)
    assert [k for k in got if k not in want] == [] and [k for k in want if k not in got] == []
    assert got == want


def test_fixtures_same_with_both_composers():
    sources = list(discover([str(FIXTURES)]))
    fast = Engine(_severities())
    pure = Engine(_severities(), loader_class=PurePythonLoader)
    for source in sources:
        assert _key(fast.lint_source(source).findings) == _key(pure.lint_source(source).findings), source

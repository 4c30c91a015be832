"""Docs are generated from rule metadata; these fail when a generated file is stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from k8slint.catalog import REQUIRED_FIELDS, CatalogError, _read, catalog, rules_dir
from k8slint.docs import (
    explain,
    rules_json,
    rules_markdown,
    security_band,
    with_rules_table,
)
from k8slint.findings import SEVERITIES

from .helpers import REPO


def test_readme_rule_table_is_current():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert with_rules_table(readme) == readme, "run: python -m k8slint.docs"


def test_docs_rules_md_is_current():
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), (
        "run: python -m k8slint.docs"
    )


def test_every_rule_has_complete_metadata():
    assert rules_dir() == REPO / "rules" or rules_dir().name == "_rules"
    for rule_id, meta in catalog().items():
        for field in REQUIRED_FIELDS:
            assert getattr(meta, field) not in ("", None), (rule_id, field)
        assert meta.severity in SEVERITIES, rule_id
        assert meta.precision in ("very-high", "high", "medium", "low"), rule_id
        assert meta.tags and meta.references and meta.instead, rule_id
        assert meta.summary.endswith("."), rule_id


def test_generated_rule_index_is_current():
    from k8slint.catalog import rule_index_source

    assert (REPO / "k8slint" / "_rule_index.py").read_text(encoding="utf-8") == rule_index_source(), (
        "run: python -m k8slint.docs"
    )


def _rule_file(folder: Path, extra: str) -> Path:
    path = folder / "some-rule.yaml"
    path.write_text(
        "id: some-rule\nsummary: Something.\nseverity: warning\n"
        "why: Because.\nexample: 'kind: Pod'\nfix: Fix it.\n" + extra,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("extra", "error"), [
    ("tags: [security]\n", "a rule tagged security needs a securitySeverity"),
    ("tags: [reliability]\nsecuritySeverity: '5.0'\n", "securitySeverity is only for rules tagged security"),
    ("tags: [security]\nsecuritySeverity: 5.0\n", "must be a quoted score"),
    ("tags: [security]\nsecuritySeverity: '0.0'\n", "must be a quoted score"),
    ("tags: [security]\nsecuritySeverity: '10.1'\n", "must be a quoted score"),
    ("tags: [security]\nsecuritySeverity: '7'\n", "must be a quoted score"),
    ("tags: [security]\nsecuritySeverity: 'high'\n", "must be a quoted score"),
])
def test_security_severity_is_checked(tmp_path: Path, extra: str, error: str) -> None:
    with pytest.raises(CatalogError, match=error):
        _read(_rule_file(tmp_path, extra))


@pytest.mark.parametrize("score", ["0.1", "4.0", "9.3", "10.0"])
def test_security_severity_accepted(tmp_path: Path, score: str) -> None:
    meta = _read(_rule_file(tmp_path, f"tags: [security]\nsecuritySeverity: '{score}'\n"))
    assert meta.security_severity == score


def test_every_security_rule_is_scored_and_shown() -> None:
    for rule_id, meta in catalog().items():
        assert (meta.security_severity is not None) == ("security" in meta.tags), rule_id
    meta = catalog()["privileged-container"]
    assert f"\nSecurity severity: {meta.security_severity} (critical in GitHub code scanning)\n" in explain(meta)
    assert "Security severity" not in explain(catalog()["latest-tag-drift"])
    assert f"- Security severity: **{meta.security_severity}** (critical" in rules_markdown()
    listed = {r["id"]: r["securitySeverity"] for r in json.loads(rules_json({}))}
    assert listed == {m.id: m.security_severity for m in catalog().values()}
    assert [security_band(s) for s in ("9.3", "9.0", "8.9", "7.0", "6.9", "4.0", "3.9", "0.1")] == [
        "critical", "critical", "high", "high", "medium", "medium", "low", "low"]

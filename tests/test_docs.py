"""Docs are generated from rule metadata; these fail when a generated file is stale."""

from __future__ import annotations

from k8slint.catalog import REQUIRED_FIELDS, catalog, rules_dir
from k8slint.docs import rules_markdown, with_rules_table
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

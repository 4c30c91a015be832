"""Each rule alone against its fixtures: the findings are exactly the ``# expect:`` marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8slint.catalog import catalog
from k8slint.checks import CHECKS, FILE_RULES
from k8slint.checks.cross import CROSS_CHECKS

from .helpers import FIXTURES, also_enabled, expected_marks, fixture_max_file_size, fixture_params, lint

RULES = sorted(catalog())
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file())


def test_every_rule_has_logic_metadata_and_both_fixtures():
    assert set(RULES) == set(CHECKS) | set(FILE_RULES) | set(CROSS_CHECKS)
    for rule in RULES:
        folder = FIXTURES / rule
        fails = [p for p in folder.glob("fail*") if any(r == rule for r, _ in expected_marks(p))]
        passes = list(folder.glob("pass*"))
        assert fails, f"{rule}: no failing fixture with an expect mark"
        assert passes, f"{rule}: no passing fixture"


def test_every_fixture_belongs_to_a_rule():
    for path in FIXTURE_FILES:
        assert path.parent.name in RULES, path
        assert path.name.startswith(("fail", "pass")), path


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_marks_match_findings_of_its_rule_alone(path: Path):
    rule = path.parent.name
    findings = [
        f for f in lint(path, rules=[rule] + also_enabled(path), params=fixture_params(path),
                        max_file_size=fixture_max_file_size(path))
        if f.rule == rule
    ]
    got = {(f.rule, f.line) for f in findings}
    want = {mark for mark in expected_marks(path) if mark[0] == rule}
    assert got == want
    assert len(findings) == len(want), "one finding per mark"
    if path.name.startswith("pass"):
        assert findings == []


CORE_RULES = ["missing-image-pull-policy", "invalid-image-pull-policy", "latest-tag-drift",
              "missing-termination-grace-period", "missing-prestop-hook", "even-etcd-cluster",
              "etcd-no-fault-tolerance", "duplicate-key"]


def _content_column(line: str) -> int:
    """Where a key or an item's content starts on a line: past the indent and any '- '."""
    stripped = line.lstrip(" ")
    column = len(line) - len(stripped) + 1
    while stripped.startswith("- "):
        rest = stripped[2:].lstrip(" ")
        column += len(stripped) - len(rest)
        stripped = rest
    return column


@pytest.mark.parametrize("rule", CORE_RULES)
def test_core_findings_point_at_the_key_or_item_column(rule):
    path = FIXTURES / rule / "fail.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    findings = [f for f in lint(path, rules=[rule] + also_enabled(path)) if f.rule == rule]
    assert findings
    for f in findings:
        assert f.column == _content_column(lines[f.line - 1]), (f.line, lines[f.line - 1])

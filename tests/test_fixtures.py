"""Each rule alone against its fixtures: the findings are exactly the ``# expect:`` marks,
rule, line and column (the mark syntax is in docs/fixtures.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from k8slint.catalog import catalog
from k8slint.checks import FILE_RULES
from k8slint.checks import RULES as DECLARED

from .helpers import (
    FIXTURES,
    Mark,
    MarkError,
    also_enabled,
    expected_marks,
    fixture_kubernetes_version,
    fixture_max_file_size,
    fixture_params,
    lint,
)

RULES = sorted(catalog())
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file())


def test_every_rule_has_logic_metadata_and_both_fixtures():
    assert set(RULES) == set(DECLARED) | set(FILE_RULES)
    assert not set(DECLARED) & set(FILE_RULES)
    for rule in RULES:
        folder = FIXTURES / rule
        fails = [p for p in folder.glob("fail*") if any(m.rule == rule for m in expected_marks(p))]
        passes = list(folder.glob("pass*"))
        assert fails, f"{rule}: no failing fixture with an expect mark"
        assert passes, f"{rule}: no passing fixture"


def test_every_rule_declares_what_it_visits_with_the_id_of_its_metadata():
    from k8slint.rule import declared

    for rule_id, rule in DECLARED.items():
        assert declared(rule.check) is rule or declared(rule.check).id == rule_id
        assert rule.visits in ("object", "pod", "container", "index"), rule_id
        assert rule.applies_to(), rule_id


def test_every_fixture_belongs_to_a_rule():
    for path in FIXTURE_FILES:
        assert path.parent.name in RULES, path
        assert path.name.startswith(("fail", "pass")), path


def _fixture_run(path: Path) -> list:
    """Every finding of a run over the fixture with only its rule (and the rules its
    ``# fixture:`` line names) enabled."""
    rule = path.parent.name
    return lint(path, rules=[rule] + also_enabled(path), params=fixture_params(path),
                max_file_size=fixture_max_file_size(path),
                kubernetes_version=fixture_kubernetes_version(path))


def _differences(path: Path, got: Counter, want: Counter) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()

    def show(kind: str, counts: Counter) -> list[str]:
        return [f"  {kind} {rule}@{column} on line {line}: {lines[line - 1].strip()[:90]}"
                for (rule, line, column), n in sorted(counts.items()) for _ in range(n)]

    return "\n".join([f"{path.relative_to(FIXTURES)}: findings and marks differ"]
                     + show("finding without a mark:", got - want)
                     + show("mark without a finding:", want - got))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_marks_match_findings_of_its_rule_alone(path: Path):
    marks = expected_marks(path)
    unplaced = [m for m in marks if m.column is None]
    assert not unplaced, f"every mark carries its column (# expect: rule@column): {unplaced}"
    findings = _fixture_run(path)
    # Every finding of the run, whatever its rule: one mark each, exactly where it points.
    got = Counter((f.rule, f.line, f.column) for f in findings)
    want = Counter((m.rule, m.line, m.column) for m in marks)
    assert got == want, _differences(path, got, want)
    if path.name.startswith("pass"):
        assert findings == []


# The rules whose columns are proven inside a line by a fixture written in flow style.
FLOW_RULES = ["missing-image-pull-policy", "latest-tag-drift", "missing-termination-grace-period",
              "missing-prestop-hook", "even-etcd-cluster", "etcd-no-fault-tolerance", "parse-error",
              "duplicate-key", "privileged-container", "single-replica", "host-port", "unsafe-proc-mount",
              "dangling-ingress", "missing-config-reference"]
# A file stops parsing at its first error: one finding per file, so one per fixture.
ONE_FINDING_PER_FILE = {"parse-error"}


@pytest.mark.parametrize("rule", FLOW_RULES)
def test_flow_style_fixture_points_inside_the_line(rule: str):
    path = FIXTURES / rule / "fail-flow.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    marks = expected_marks(path)
    assert marks and all(m.rule == rule for m in marks), path
    for mark in marks:
        assert mark.column is not None, mark
        before = lines[mark.line - 1][: mark.column - 1]
        assert "{" in before or "[" in before, f"{path}:{mark.line}: {mark} is not inside a flow collection"
    if rule not in ONE_FINDING_PER_FILE:
        assert len({m.line for m in marks}) < len(marks), f"{path}: no line holds two findings"


def test_marks_read_rule_line_and_column(tmp_path: Path):
    path = tmp_path / "fail.yaml"
    path.write_text("# fixture: max-file-size=400  # expect: file-too-large@1\n"
                    "a: {b: 1}  # expect: rule-a@9, rule-b@11,rule-a@9\n"
                    '{"c": 2}  // expect: parse-error@3\n'
                    "d: 3  # expect: no-column\n"
                    "e: 4  # a comment that says expect, not a mark\n")
    assert expected_marks(path) == [
        Mark("file-too-large", 1, 1), Mark("rule-a", 2, 9), Mark("rule-b", 2, 11), Mark("rule-a", 2, 9),
        Mark("parse-error", 3, 3), Mark("no-column", 4, None),
    ]


@pytest.mark.parametrize("mark", ["rule@", "rule@x", "rule@0", "rule@9 trailing words", "Rule@9", "rule-a@9,"])
def test_a_malformed_mark_is_an_error(tmp_path: Path, mark: str):
    path = tmp_path / "fail.yaml"
    path.write_text(f"a: 1  # expect: {mark}\n")
    with pytest.raises(MarkError, match=r"fail\.yaml:1:"):
        expected_marks(path)


# Rules whose metadata ``example`` does not fire, or whose ``instead`` fires, linted alone:
# each entry says why, and the test fails once the rule's metadata is right, so that the
# entry goes. Nothing else is skipped.
EXAMPLE_DOES_NOT_FIRE: dict[str, str] = {
    "file-too-large": "the example stands for a 40 MiB bundle, but its text is a few lines: "
                      "under even the 400-byte limit its fixture runs with",
}
INSTEAD_FIRES: dict[str, str] = {}


@pytest.mark.parametrize("rule", RULES)
def test_every_rules_example_fires_and_instead_stays_quiet(rule: str, tmp_path: Path):
    meta = catalog()[rule]
    # The rule's own fixture says which other rules and parameters it needs.
    directives = FIXTURES / rule / "fail.yaml"

    def findings_of_rule(name: str, text: str) -> list:
        path = tmp_path / name
        path.write_text(text + "\n", encoding="utf-8")
        findings = lint(path, rules=[rule] + also_enabled(directives), params=fixture_params(directives),
                        max_file_size=fixture_max_file_size(directives))
        return [f for f in findings if f.rule == rule]

    fired = findings_of_rule("example.yaml", meta.example)
    if rule in EXAMPLE_DOES_NOT_FIRE:
        assert not fired, f"{rule}: its example fires now: remove it from EXAMPLE_DOES_NOT_FIRE"
    else:
        assert fired, f"{rule}: its example gives no finding of the rule"
    if meta.instead:
        quiet = findings_of_rule("instead.yaml", meta.instead)
        if rule in INSTEAD_FIRES:
            assert quiet, f"{rule}: its instead is quiet now: remove it from INSTEAD_FIRES"
        else:
            assert not quiet, f"{rule}: its instead gives {[(f.line, f.column, f.message) for f in quiet]}"

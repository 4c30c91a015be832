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
    case_files,
    directives,
    expected_marks,
    fixture_cases,
    fixture_kubernetes_version,
    fixture_max_file_size,
    fixture_params,
    lint,
)

RULES = sorted(catalog())
FIXTURE_CASES = fixture_cases()


def test_every_rule_has_logic_metadata_and_both_fixtures():
    assert set(RULES) == set(DECLARED) | set(FILE_RULES)
    assert not set(DECLARED) & set(FILE_RULES)
    for rule in RULES:
        folder = FIXTURES / rule
        fails = [case for case in folder.glob("fail*")
                 if any(m.rule == rule for p in case_files(case) for m in expected_marks(p))]
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
    for case in FIXTURE_CASES:
        assert case.parent.name in RULES, case
        assert case.name.startswith(("fail", "pass")), case


def _fixture_run(case: Path) -> list:
    """Every finding of a run over the fixture with only its rule (and the rules its
    ``# fixture:`` line names) enabled."""
    rule = case.parent.name
    where = directives(case)
    return lint(case, rules=[rule] + also_enabled(where), params=fixture_params(where),
                max_file_size=fixture_max_file_size(where),
                kubernetes_version=fixture_kubernetes_version(where))


def _differences(case: Path, got: Counter, want: Counter) -> str:
    def show(kind: str, counts: Counter) -> list[str]:
        shown = []
        for (rule, name, line, column), n in sorted(counts.items()):
            path = case if case.is_file() else case / name
            text = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
            quoted = text[line - 1].strip()[:90] if 0 < line <= len(text) else ""
            shown += [f"  {kind} {rule}@{column} on {name} line {line}: {quoted}"] * n
        return shown

    return "\n".join([f"{case.relative_to(FIXTURES)}: findings and marks differ"]
                     + show("finding without a mark:", got - want)
                     + show("mark without a finding:", want - got))


def _name_in(case: Path, file: str) -> str:
    """A finding's file as its place in the fixture ("" for a file fixture)."""
    if case.is_file():
        return ""
    path = Path(file).resolve()
    return path.relative_to(case.resolve()).as_posix() if path.is_relative_to(case.resolve()) else file


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_marks_match_findings_of_its_rule_alone(case: Path):
    marks = [(m, "" if case.is_file() else p.relative_to(case).as_posix())
             for p in case_files(case) for m in expected_marks(p)]
    unplaced = [m for m, _ in marks if m.column is None]
    assert not unplaced, f"every mark carries its column (# expect: rule@column): {unplaced}"
    findings = _fixture_run(case)
    # Every finding of the run, whatever its rule: one mark each, exactly where it points.
    got = Counter((f.rule, _name_in(case, f.file), f.line, f.column) for f in findings)
    want = Counter((m.rule, name, m.line, m.column) for m, name in marks)
    assert got == want, _differences(case, got, want)
    if case.name.startswith("pass"):
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


def _example_case(rule: str, path: Path, text: str) -> Path:
    """Where a rule's example is linted: a file, or for the rules about rendering, the
    template of a chart or the kustomization of a folder it stands for."""
    if rule == "helm-render-error":
        chart = path.with_suffix("")
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: example\nversion: 0.1.0\n")
        (chart / "templates" / "deployment.yaml").write_text(text, encoding="utf-8")
        return chart
    if rule == "kustomize-build-error":
        from k8slint.kbuild import kustomize_command

        if kustomize_command() is None:
            pytest.skip("neither kustomize nor kubectl is on PATH")
        folder = path.with_suffix("")
        folder.mkdir()
        (folder / "kustomization.yaml").write_text(text, encoding="utf-8")
        return folder
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("rule", RULES)
def test_every_rules_example_fires_and_instead_stays_quiet(rule: str, tmp_path: Path):
    meta = catalog()[rule]
    # The rule's own fixture says which other rules and parameters it needs.
    first = FIXTURES / rule / "fail.yaml"
    where = first if first.is_file() else directives(sorted((FIXTURES / rule).glob("fail*"))[0])

    def findings_of_rule(name: str, text: str) -> list:
        path = _example_case(rule, tmp_path / name, text + "\n")
        findings = lint(path, rules=[rule] + also_enabled(where), params=fixture_params(where),
                        max_file_size=fixture_max_file_size(where))
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

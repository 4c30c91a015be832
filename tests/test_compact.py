"""--compact: a report a person reads, from which every finding can still be read back.

``expand_compact`` parses a compact report back into findings; the tests compare what it
reads with the JSON report of the same run, on the fixtures and on the real corpus.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8slint.cli import main
from k8slint.config import EMPTY
from k8slint.findings import Finding
from k8slint.report import RunSummary, render
from k8slint.report.compact import (
    CONTINUATION,
    LEGEND_TITLE,
    MAX_WIDTH,
    ROOT,
    UNNAMED,
    path_shape,
    render_compact,
)
from k8slint.report.text import printable, summary_line
from k8slint.session import Options, run

from .helpers import REPO, corpus_dir

CONTAINER = "      - name: c{n}\n        image: example/c{n}:1.0\n"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
    "  selector: {{matchLabels: {{app: demo}}}}\n  template:\n    metadata: {{labels: {{app: demo}}}}\n"
    "    spec:\n      terminationGracePeriodSeconds: 30\n      containers:\n{containers}"
)


def six_containers(name: str) -> str:
    return DEPLOYMENT.format(name=name, containers="".join(CONTAINER.format(n=n) for n in range(6)))


# --- the expander: a compact report back into findings --------------------------------


class Read(NamedTuple):
    """One finding as read back from a compact report."""

    file: str
    line: int
    column: int
    rule: str
    kind: str | None
    namespace: str | None
    name: str | None
    severity: str
    message: str  # with the suppression appended, as the report writes it


class _Form(NamedTuple):
    rule: str
    severity: str
    template: str
    values: int  # how many values a finding of this form writes


def _unquote(text: str) -> tuple[str, str]:
    """A quoted name at the start of ``text`` and what follows it."""
    out, i = [], 1
    while text[i] != '"':
        if text[i] == "\\":
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out), text[i + 1:]


def _part(text: str, stop: str = "") -> tuple[str, str]:
    """A name (quoted or not) at the start of ``text``, ending at ``stop`` if given."""
    if text.startswith('"'):
        return _unquote(text)
    cut = text.find(stop) if stop else -1
    return (text, "") if cut < 0 else (text[:cut], text[cut:])


_TOKEN = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^\s"])+')  # a word, or a quoted name with spaces


def _head(text: str, count: int) -> tuple[list[str], str]:
    """The first ``count`` names of an entry (quoted ones may hold spaces), and the rest."""
    names = []
    for _ in range(count):
        match = _TOKEN.match(text)
        assert match, text
        names.append(match.group())
        text = text[match.end() + 1:]
    return names, text


def _object(token: str) -> tuple[str | None, str | None]:
    """``ns/name:`` or ``name:`` into (namespace, name)."""
    assert token.endswith(":"), token
    first, rest = _part(token[:-1], "/")
    if rest.startswith("/"):
        namespace: str | None = first
        name, _ = _part(rest[1:])
        quoted_name = rest[1:].startswith('"')
    else:
        namespace, name, quoted_name = None, first, token.startswith('"')
    return namespace, (None if name == UNNAMED and not quoted_name else name)


def _logical_lines(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Each entry's indent and its physical lines, continuations stripped of their indent."""
    entries: list[tuple[int, list[str]]] = []
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if indent >= CONTINUATION:
            first = entries[-1][0]
            entries[-1][1].append(line[max(CONTINUATION, first + 4):])
        else:
            entries.append((indent, [line[indent:]]))
    return entries


def expand_compact(report: str) -> list[Read]:
    """Every finding of a compact report: file, position, rule, object, severity and the
    message rebuilt from the legend."""
    entries = _logical_lines(report.splitlines())
    title = next((n for n, (indent, parts) in enumerate(entries)
                  if indent == 0 and " ".join(parts) == LEGEND_TITLE), None)
    if title is None:
        return []  # no findings, no legend
    forms = _legend(entries[title + 1:])
    found: list[Read] = []
    folder = file = ""
    run_kind = ""

    def items(text: str, kind: str | None, namespace: str | None, name: str | None) -> None:
        """``LINE:COL RULE VALUE…`` findings ``;`` apart, and folded runs ``N× (RULE, …):``
        whose instances' findings are ``LINE:COL VALUE…``: the separator is glued to the
        last token of a finding, which the legend's value count tells."""
        tokens = text.split(" ")
        at = 0

        def take() -> str:
            nonlocal at
            at += 1
            return tokens[at - 1]

        def record(label: str, position: str) -> None:
            form = forms[label]
            values = [take() for _ in range(form.values)]
            if values and at < len(tokens):
                values[-1] = values[-1][:-1]
            line, column = position.rstrip(",;").split(":")
            slots = {str(n): value for n, value in enumerate(values, start=1)}
            slots.update(kind=kind or "", name=name or "")
            message = re.sub(r"‹(\d+|kind|name)›", lambda m: slots[m.group(1)], form.template)
            found.append(Read(folder + file, int(line), int(column), form.rule, kind, namespace,
                              name, form.severity, message.replace("\\u2039", "‹")))

        while at < len(tokens):
            count = re.fullmatch(r"(\d+)×", tokens[at])
            if count:
                at += 1
                labels = [take()]
                while not labels[-1].endswith(":"):
                    labels.append(take())
                for _ in range(int(count.group(1))):
                    for label in labels:
                        record(label.strip("(),:"), take())
            else:
                position = take()
                record(take().rstrip(";"), position)  # rule ids never end with ";"

    for indent, parts in entries[:title]:
        if indent == 0:
            header = "".join(parts)
            header = _unquote(header)[0] if header.startswith('"') else header
            folder = "" if header == ROOT else header
            continue
        text = " ".join(parts)
        if indent == 2:
            (first,), rest = _head(text, 1)
            loose = first.endswith(":")
            file = _part(first[:-1] if loose else first)[0]
            if loose:
                items(rest, None, None, None)
            elif rest:
                (_, kind, obj), rest = _head(text, 3)
                items(rest, _part(kind)[0], *_object(obj))
        elif indent == 4:
            run_header = re.fullmatch(r'\d+× ((?:"(?:[^"\\]|\\.)*"|\S)+)', text)
            if run_header:
                run_kind = _part(run_header.group(1))[0]
            else:
                (kind, obj), rest = _head(text, 2)
                items(rest, _part(kind)[0], *_object(obj))
        else:
            (obj,), rest = _head(text, 1)
            items(rest, run_kind, *_object(obj))
    return found


def _legend(entries: list[tuple[int, list[str]]]) -> dict[str, _Form]:
    """Each form's label (``rule`` or ``rule#2``), severity, template and value count."""
    forms: dict[str, _Form] = {}
    rule = ""
    severities: list[str] = []
    for indent, parts in entries:
        text = " ".join(parts)
        if indent == 0:
            break  # the summary line
        if indent == 2:
            rule, rest = text.split(": ", 1)
            severities = re.findall(r"(error|warning|info),", rest.split(" finding")[0])
            continue
        lead = re.match(r"(#\d+)?(?: ?\((error|warning|info)\))?: ", text)
        if lead:
            label, severity = rule + (lead.group(1) or ""), lead.group(2) or severities[0]
            template = text[lead.end():]
        else:
            label, severity, template = rule, severities[0], text
        forms[label] = _Form(rule, severity, template, len(re.findall(r"‹\d+›", template)))
    return forms


def from_json(document: str) -> list[Read]:
    """The same fields from the JSON report, shown as the compact report shows text."""
    out = []
    for f in json.loads(document)["findings"]:
        obj = f["object"] or {}
        message = printable(f["message"] + (f" (via {f['via']})" if "via" in f else ""))
        if f["suppressed"] is not None:
            reason = printable(f["suppressed"]["justification"]) or "no reason given"
            message += f" [suppressed: {reason}]"
        shown = {key: None if obj.get(key) is None else printable(obj[key])
                 for key in ("kind", "namespace", "name")}
        out.append(Read(printable(f["file"]), f["line"], f["column"], f["rule"], shown["kind"],
                        shown["namespace"], shown["name"], f["severity"], message))
    return out


def ordered(found: list[Read]) -> list[Read]:
    """Sorted, with None before any text."""
    return sorted(found, key=lambda r: tuple((x is not None, x) if not isinstance(x, int)
                                             else (True, x) for x in r))


def one_run(path: str, **options: object) -> RunSummary:
    outcome = run(Options((path,), jobs=1, **options), EMPTY)  # type: ignore[arg-type]
    assert not outcome.problems, outcome.problems
    return outcome.summary


def assert_round_trip(summary: RunSummary, width: int = 100, *, keeps_width: bool = True) -> str:
    """The compact report reads back as exactly the JSON report's findings, and keeps to
    its width: a longer line holds a single unbreakable token (a word or a quoted name;
    a path shape with spaces or quotes in its keys is one too, hence ``keeps_width``)."""
    compact = render("text", summary, compact=True, width=width)
    assert ordered(expand_compact(compact)) == ordered(from_json(render("json", summary)))
    limit = max(40, min(width, MAX_WIDTH))
    for line in compact.splitlines() if keeps_width else ():
        assert len(line) <= limit or len(_TOKEN.findall(line)) == 1, line
    return compact


# --- whole behaviour ------------------------------------------------------------------


def test_path_shape() -> None:
    assert path_shape(("spec", "containers", 3, "image")) == "spec.containers[*].image"
    assert path_shape(()) == ""


TITLE = """\
Rules, with each message once: ‹1›, ‹2›… are the values after a finding's rule, ‹kind› and ‹name›
        its object's (k8slint explain RULE tells why and how to fix):
"""


def test_a_pair_of_rules_on_six_containers_is_one_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.yaml").write_text(six_containers("web"))
    code = main(["check", "--compact", "--disable", "single-replica", "web.yaml"])
    assert code == 1
    assert capsys.readouterr().out == """\
./
  web.yaml Deployment web: 6× (missing-image-pull-policy, missing-prestop-hook): 12:9 "c0",
        12:9 "c0"; 14:9 "c1", 14:9 "c1"; 16:9 "c2", 16:9 "c2"; 18:9 "c3", 18:9 "c3"; 20:9 "c4",
        20:9 "c4"; 22:9 "c5", 22:9 "c5"
""" + TITLE + """\
  missing-image-pull-policy: warning, 6 findings at spec.template.spec.containers[*].imagePullPolicy
    container ‹1› sets no imagePullPolicy: Kubernetes sets IfNotPresent (the tag is "1.0") when the
        object is created and keeps it when the image changes later; set imagePullPolicy explicitly
  missing-prestop-hook: warning, 6 findings at spec.template.spec.containers[*].lifecycle.preStop
    container ‹1› has no preStop hook: on a drain it gets SIGTERM with no step to finish or hand
        over its work first; add lifecycle.preStop (a short sleep, or a graceful stop command)
12 findings (0 errors, 12 warnings, 0 info) in 1 of 1 file;
        6 fixable with k8slint fix (6 more with --unsafe-fixes); 1 document, 1 object checked.
        Compact: 12 lines for 12 findings.
"""


def test_folders_are_named_once_and_objects_of_one_kind_fold(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "a.yaml").write_text(six_containers("a") + "---\n" + six_containers("b"))
    (tmp_path / "deploy" / "b.yaml").write_text(six_containers("c"))
    summary = one_run(".", disable=("missing-prestop-hook",))
    assert render_compact(summary, width=100).split("Rules, ")[0] == """\
deploy/
  a.yaml
    2× Deployment
      a: 5:1 single-replica; 6× missing-image-pull-policy: 12:9 "c0"; 14:9 "c1"; 16:9 "c2";
          18:9 "c3"; 20:9 "c4"; 22:9 "c5"
      b: 29:1 single-replica; 6× missing-image-pull-policy: 36:9 "c0"; 38:9 "c1"; 40:9 "c2";
          42:9 "c3"; 44:9 "c4"; 46:9 "c5"
  b.yaml Deployment c: 5:1 single-replica; 6× missing-image-pull-policy: 12:9 "c0"; 14:9 "c1";
        16:9 "c2"; 18:9 "c3"; 20:9 "c4"; 22:9 "c5"
"""
    assert_round_trip(summary)


def test_a_rule_whose_messages_differ_keeps_only_what_differs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    containers = "      - name: a\n        image: example/a:1.0\n" \
                 "      - name: b\n        image: example/b:latest\n"
    (tmp_path / "web.yaml").write_text(DEPLOYMENT.format(name="web", containers=containers))
    summary = one_run("web.yaml", disable=("single-replica", "missing-prestop-hook", "latest-tag"))
    assert render_compact(summary, width=100) == """\
./
  web.yaml Deployment web: 2× missing-image-pull-policy: 12:9 "a" IfNotPresent "1.0";
        14:9 "b" Always "latest"
""" + TITLE + """\
  missing-image-pull-policy: warning, 2 findings at spec.template.spec.containers[*].imagePullPolicy
    container ‹1› sets no imagePullPolicy: Kubernetes sets ‹2› (the tag is ‹3›) when the object is
        created and keeps it when the image changes later; set imagePullPolicy explicitly
2 findings (0 errors, 2 warnings, 0 info) in 1 of 1 file; 2 fixable with k8slint fix;
        1 document, 1 object checked. Compact: 8 lines for 2 findings.
"""
    assert_round_trip(summary)


def test_forms_of_one_rule_and_the_objects_own_names(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rule with two message forms labels the second ``#2``; a value that is always the
    finding's own object name is ‹name› in the legend, not repeated on the line; a form
    with a single message is written whole."""
    monkeypatch.chdir(tmp_path)
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n"
        f"  terminationGracePeriodSeconds: 30\n  restartPolicy: {restart}\n  containers:\n"
        "  - {name: c, image: 'example/c:1', imagePullPolicy: Always}\n"
        for name, restart in (("a", "Always"), ("b", "Always"), ("c", "Never"))
    )
    (tmp_path / "pods.yaml").write_text(pods)
    summary = one_run("pods.yaml", disable=("missing-prestop-hook",))
    assert render_compact(summary, width=100) == """\
./
  pods.yaml
    3× Pod
      a: 4:1 bare-pod
      b: 14:1 bare-pod
      c: 24:1 bare-pod#2
""" + TITLE + """\
  bare-pod: warning, 3 findings at metadata.ownerReferences
    Pod "‹name›" has no controller: kubectl drain stops at it unless forced, then deletes it for
        good, and nothing recreates it after a node failure either; run it from a Deployment (or a
        StatefulSet, or a Job for one-off work)
    #2: Pod "c" has no controller: kubectl drain stops at it unless forced, then deletes it for
        good, and nothing recreates it after a node failure either; run it from a Job
3 findings (0 errors, 3 warnings, 0 info) in 1 of 1 file; 3 documents, 3 objects checked.
        Compact: 14 lines for 3 findings.
"""
    assert_round_trip(summary)


def test_the_summary_line_stays_last_with_the_compact_figure(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.yaml").write_text(DEPLOYMENT.format(name="one", containers=CONTAINER.format(n=0)))
    main(["check", "--compact", "one.yaml"])
    compact = capsys.readouterr().out.splitlines()
    main(["check", "one.yaml"])
    plain = capsys.readouterr().out.splitlines()
    shown = len(compact) - 3  # the summary takes three lines at 100 columns
    assert " ".join(line.strip() for line in compact[-3:]) == (
        f"{plain[-1]} Compact: {shown} lines for 3 findings."
    )


def test_no_findings() -> None:
    summary = RunSummary()
    summary.files = 2
    compact = render_compact(summary, width=100)
    assert compact == f"{summary_line(summary)} Compact: 0 lines for 0 findings.\n"
    assert expand_compact(compact) == []


def test_json_is_never_folded(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.yaml").write_text(six_containers("web"))
    main(["check", "--compact", "--disable", "single-replica", "--format", "json", "web.yaml"])
    assert len(json.loads(capsys.readouterr().out)["findings"]) == 12


def test_compact_escapes_manifest_keys(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 17 item 5: a key that reaches a path shape is escaped like every other text."""
    monkeypatch.chdir(tmp_path)
    key = r'"evil\e[31m\nkey\u202e"'
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n"
        f"  {key}: a\n  {key}: b\n  {key}: c\n"
    )
    main(["check", "--compact", "cm.yaml"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert r"at data.evil\x1b[31m\nkey\u202e" in out  # the path shape, escaped
    assert r'key "evil\x1b[31m\nkey\u202e" repeats' in out  # the message, escaped
    assert all(not line.startswith("key") for line in out.splitlines())  # no raw newline


def test_hostile_file_and_object_names_read_back(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my deploy").mkdir()
    (tmp_path / "my deploy" / "web app.yaml").write_text(
        six_containers('"web\\u202e"').replace("metadata:\n", "metadata:\n  namespace: prod\n")
        + "---\n" + six_containers("<unnamed>")
        + "---\n" + six_containers("3×").replace("kind: Deployment", "kind: StatefulSet")
    )
    (tmp_path / "top.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x\n")
    summary = one_run(".")
    compact = assert_round_trip(summary)
    assert "\u202e" not in compact
    assert compact.startswith("my deploy/\n")
    assert "\n./\n  top.yaml: 3:11 parse-error\n" in compact
    assert '  "web app.yaml"' in compact
    assert 'prod/web\\u202e:' in compact
    assert '"<unnamed>":' in compact


@pytest.mark.parametrize("width", [40, 72, 100, 120, 200])
def test_fixtures_read_back_at_every_width(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert_round_trip(one_run("fixtures", show_suppressed=True), width=width)


def test_fixtures_read_back_through_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(REPO)
    main(["check", "--compact", "fixtures"])
    compact = capsys.readouterr().out
    main(["check", "--format", "json", "fixtures"])
    assert ordered(expand_compact(compact)) == ordered(from_json(capsys.readouterr().out))


def test_corpus_reads_back_and_meets_its_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus_dir())
    summary = one_run("real")
    compact = assert_round_trip(summary, width=100)
    plain = render("text", summary)
    assert len(compact) <= 0.30 * len(plain)


def test_width_none_is_the_terminals_or_100(monkeypatch: pytest.MonkeyPatch) -> None:
    summary = RunSummary()
    summary.findings = [Finding("single-replica", "warning", "x " * 80, "a.yaml", 1, 1, 1, 1,
                                kind="Deployment", name="web")]
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert max(map(len, render_compact(summary).splitlines())) <= 100
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=(80, 24): os.terminal_size((60, 24)))
    assert max(map(len, render_compact(summary).splitlines())) <= 60


def test_color_paints_rules_by_severity_and_names_in_bold(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.yaml").write_text(six_containers("web"))
    summary = one_run("web.yaml")
    painted = render_compact(summary, color=True, width=100)
    assert "\x1b[1m./\x1b[0m" in painted and "\x1b[1mweb.yaml\x1b[0m" in painted
    assert "\x1b[33msingle-replica\x1b[0m" in painted
    assert "\x1b[33mwarning\x1b[0m," in painted
    plain = render_compact(summary, width=100)
    assert re.sub(r"\x1b\[[0-9;]*m", "", painted) == plain
    assert "\x1b" not in plain


def test_rendering_is_quick_on_many_findings() -> None:
    """Cost grows with the findings, not with their square."""
    import time

    findings = [
        Finding("missing-prestop-hook", "warning", f'container "c{n % 7}" has no preStop hook: x',
                f"deploy/{n // 40}/f{n // 4}.yaml", n, 9, n, 9, kind="Deployment",
                name=f"d{n // 4}", path=("spec", "containers", n % 4))
        for n in range(20000)
    ]
    summary = RunSummary()
    summary.findings = findings
    start = time.perf_counter()
    render_compact(summary, width=100)
    assert time.perf_counter() - start < 5


# --- any findings read back -----------------------------------------------------------

_HOSTILE = st.text(alphabet=st.sampled_from(list('ab/ :"\\<>×3#‹›;,()[].\t\n\x1b\u202e\u2028')),
                   max_size=8)


@st.composite
def _findings(draw: st.DrawFn) -> Finding:
    folder = draw(st.sampled_from(["", "d/", "a b/", " x/", '"q/', "d/e/"]))
    base = draw(st.text(alphabet=st.sampled_from(list('ab :"\\.')), min_size=1, max_size=5))
    kind = draw(st.one_of(st.none(), st.sampled_from(["Deployment", "Pod", "3×", "K ind", ""])))
    named = st.one_of(st.none(), _HOSTILE, st.just(UNNAMED))
    return Finding(
        draw(st.sampled_from(["rule-a", "rule-b"])), draw(st.sampled_from(["error", "warning"])),
        draw(st.text(alphabet=st.sampled_from(list('ab "x:;,.()[]‹1›\\ ')), max_size=20)),
        folder + base, draw(st.integers(1, 50)), draw(st.integers(1, 9)), 1, 1, kind=kind,
        namespace=None if kind is None else draw(named), name=None if kind is None else draw(named),
        path=tuple(draw(st.lists(st.one_of(_HOSTILE, st.integers(0, 3)), max_size=3))),
        suppressed=draw(st.one_of(st.none(), _HOSTILE)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_findings(), min_size=1, max_size=12), st.sampled_from([40, 100]))
def test_any_findings_read_back(findings: list[Finding], width: int) -> None:
    """Names with spaces, quotes, slashes and escapes, empty ones, messages of any words:
    the report still reads back as the JSON report's findings."""
    summary = RunSummary()
    summary.findings = sorted(findings, key=lambda f: f.sort_key)
    assert_round_trip(summary, width=width, keeps_width=False)

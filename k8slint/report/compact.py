"""``--compact``: the text report folded for a person to read (docs/compact-report.md).

Every finding keeps its file, line, column, rule and object; what repeats is written once:

- each folder is named once, then its files (``compress.fold_paths``);
- a file with one object shares its line with it; a file with several lists them below,
  and a run of objects of one kind names the kind once (``3× Deployment``);
- a finding is ``LINE:COL RULE`` and the values of its message that differ from the rule's
  other messages; the messages themselves, with ``‹1›``, ``‹2›``… where the values go, are
  written once each in the legend at the end (``Rules:``), so every message can be rebuilt;
- inside an object, a repeated run of findings (the same rules on container after
  container) names its rules once: ``6× (rule-a, rule-b): 10:9 "c0", 10:9 "c0"; 12:9 …``,
  the runs chosen by ``compress.fold_runs`` (the shortest folding, runs starting anywhere).

Lines wrap at the width (continuations 8 columns deeper than their entry); a folder breaks
at a ``/``; the summary line stays last. User text (file names, object names, message
values, path shapes) goes through ``printable`` before it is written.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from ..compress import fold, fold_paths, fold_runs
from ..findings import Finding
from . import DEFAULT_WIDTH, RunSummary
from .text import _COLORS, _paint, printable, severity_word, summary_line

MAX_WIDTH = 120  # no line is longer, except one holding a single unbreakable token
MIN_WIDTH = 40
# Entries sit at 0 to 6 columns; their continuations at 8 or more (4 deeper than the entry).
CONTINUATION = 8
MAX_UNIT = 32  # unit sizes tried inside an object: every rule on a few containers
SHAPES_SHOWN = 3  # path shapes named per rule in the legend
FORMS_TRIED = 8  # forms a message is compared with before it starts a form of its own
ROOT = "./"  # the folder header of files given without a folder
UNNAMED = "<unnamed>"
LEGEND_TITLE = (
    "Rules, with each message once: ‹1›, ‹2›… are the values after a finding's rule, "
    "‹kind› and ‹name› its object's (k8slint explain RULE tells why and how to fix):"
)
_BOLD = "1"


def path_shape(path: tuple) -> str:
    """``spec.containers[*].image``: the path with list indexes generalised."""
    out: list[str] = []
    for step in path:
        out.append("[*]" if isinstance(step, int) else ("." if out else "") + str(step))
    return "".join(out)


class _Atom(NamedTuple):
    """A piece of a line that is never broken: its text and that text as painted."""

    plain: str
    painted: str


def _atom(text: str, code: str | None = None, color: bool = False) -> _Atom:
    return _Atom(text, _paint(text, code, color) if code else text)


def _glue(atoms: list[_Atom], suffix: str) -> None:
    """Append punctuation to the last atom, outside its paint."""
    last = atoms[-1]
    atoms[-1] = _Atom(last.plain + suffix, last.painted + suffix)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_SPACE_OR_QUOTE = re.compile(r'[\s"]')


def _name(text: str, delimiters: str = "") -> str:
    """A printable name, quoted when it would not read back as one name: empty, holding a
    space or a quote, or one of the ``delimiters`` that separate it from its neighbours."""
    shown = printable(text)
    if not shown or _SPACE_OR_QUOTE.search(shown) or any(d in shown for d in delimiters):
        return _quote(shown)
    return shown


def _file_name(name: str) -> str:
    shown = _name(name)
    return _quote(printable(name)) if shown.endswith(":") else shown


def _kind_name(kind: str) -> str:
    shown = _name(kind)
    return _quote(printable(kind)) if re.fullmatch(r"\d+×", shown) else shown


def _object_name(namespace: str | None, name: str | None) -> str:
    shown = UNNAMED if name is None else _name(name, "/")
    if shown == UNNAMED and name is not None:
        shown = _quote(name)
    return shown if namespace is None else f"{_name(namespace, '/')}/{shown}"


# --- the legend: each message form once ---------------------------------------------

_Word = tuple[str, str]  # (what comes before it: a space or nothing, the word)
_PUNCTUATION = re.compile(r"([(\[]*)(.*?)([)\],;:.]*)", re.DOTALL)


def _message_words(f: Finding, cache: dict[str, tuple[_Word, ...]]) -> tuple[_Word, ...]:
    """The message (and suppression) as words, with brackets and trailing punctuation
    apart, so that a value is ``"3.1"`` rather than ``"3.1")``. Messages repeat, so
    ``cache`` keeps each one's words."""
    text = printable(f.told)
    if f.suppressed is not None:
        text += f" [suppressed: {printable(f.suppressed) or 'no reason given'}]"
    words = cache.get(text)
    if words is None:
        out: list[_Word] = []
        for n, word in enumerate(text.split(" ")):
            space = " " if n else ""
            match = _PUNCTUATION.fullmatch(word)
            before, core, after = match.groups() if match else ("", word, "")
            if not core:
                out.append((space, word))
                continue
            if before:
                out.append((space, before))
            out.append(("" if before else space, core))
            if after:
                out.append(("", after))
        words = cache[text] = tuple(out)
    return words


class _Form:
    """Messages of one rule that differ in a few words only: the words they share, and
    the positions (slots) where they differ."""

    __slots__ = ("label", "members", "rule", "severity", "slots", "template", "values", "words")

    def __init__(self, rule: str, severity: str, words: tuple[_Word, ...]):
        self.rule = rule
        self.severity = severity
        self.words = words
        self.slots: set[int] = set()
        self.members: list[int] = []  # indexes of its findings
        self.label = rule
        self.template = ""
        self.values: list[int] = []  # the slots a finding writes, in order


def _slot_limit(words: int) -> int:
    """How many words of a message may differ from its form's: a fifth of them."""
    return max(2, words // 5)


def _forms(findings: Sequence[Finding], words: Sequence[tuple[_Word, ...]]) -> list[_Form]:
    """Each rule's messages clustered into forms, greedily, most frequent message first:
    a message joins a form when the two differ in few enough words."""
    # Messages of a form have the same words (and spaces between them) but in its slots.
    groups: dict[tuple[str, str, tuple[str, ...]], dict[tuple[_Word, ...], list[int]]] = {}
    for i, (f, w) in enumerate(zip(findings, words, strict=True)):
        spacing = tuple(before for before, _ in w)
        groups.setdefault((f.rule, f.severity, spacing), {}).setdefault(w, []).append(i)
    by_rule: dict[str, list[_Form]] = {}
    for (rule, severity, spacing), messages in groups.items():
        limit = _slot_limit(len(spacing))
        group: list[_Form] = []
        for w in sorted(messages, key=lambda w: (-len(messages[w]), w)):
            for form in group[-FORMS_TRIED:]:
                # One spacing per group, so every message of it has as many words.
                differ = {n for n, (a, b) in enumerate(zip(form.words, w, strict=True)) if a != b}
                slots = form.slots | differ
                if len(slots) <= limit:
                    form.slots = slots
                    form.members.extend(messages[w])
                    break
            else:
                form = _Form(rule, severity, w)
                form.members.extend(messages[w])
                group.append(form)
        by_rule.setdefault(rule, []).extend(group)
    forms: list[_Form] = []
    for rule in sorted(by_rule):
        rule_forms = by_rule[rule]
        for form in rule_forms:
            form.members.sort()
        rule_forms.sort(key=lambda form: (-len(form.members), form.members[0]))
        for n, form in enumerate(rule_forms, start=1):
            form.label = rule if n == 1 else f"{rule}#{n}"  # the most frequent form is bare
            _fill_template(form, findings, words)
        forms.extend(rule_forms)
    return forms


def _object_placeholder(form: _Form, slot: int, findings: Sequence[Finding],
                        words: Sequence[tuple[_Word, ...]]) -> str | None:
    """``‹kind›`` or ``‹name›`` (quoted or not) when every finding of the form has its own
    object's kind or name in this slot: the finding's line shows it already."""
    for placeholder, field in (("‹kind›", "kind"), ("‹name›", "name")):
        for shape in ("{}", '"{}"'):
            if all(
                findings[i].kind is not None and getattr(findings[i], field) is not None
                and words[i][slot][1] == shape.format(printable(getattr(findings[i], field)))
                for i in form.members
            ):
                return shape.format(placeholder)
    return None


def _fill_template(form: _Form, findings: Sequence[Finding],
                   words: Sequence[tuple[_Word, ...]]) -> None:
    """The form's message with ‹1›, ‹2›… where its findings' values go."""
    out = [before + word.replace("‹", "\\u2039") for before, word in form.words]
    for slot in sorted(form.slots):
        placeholder = _object_placeholder(form, slot, findings, words)
        if placeholder is None:
            form.values.append(slot)
            placeholder = f"‹{len(form.values)}›"
        out[slot] = form.words[slot][0] + placeholder
    form.template = "".join(out)


# --- the body: folders, files, objects, findings ------------------------------------


_Group = list[_Atom]  # atoms kept on one line when they fit: a finding, say


class _Writer:
    """Lines wrapped at ``width``: a group that does not fit on the current line starts the
    next one (a continuation, deeper than its entry); one longer than a line breaks between
    its atoms; an atom never breaks."""

    def __init__(self, width: int):
        self.width = width
        self.lines: list[str] = []

    def line(self, indent: int, groups: Sequence[_Group], joiner: str = " ") -> None:
        cont = max(CONTINUATION, indent + 4)
        parts = [" " * indent]
        length = indent
        fresh = True  # nothing on the current line yet
        for group in groups:
            size = sum(len(a.plain) for a in group) + len(joiner) * (len(group) - 1)
            if not fresh and length + len(joiner) + size > self.width:
                self.lines.append("".join(parts))
                parts, length, fresh = [" " * cont], cont, True
            for plain, painted in group:
                if not fresh and length + len(joiner) + len(plain) > self.width:
                    self.lines.append("".join(parts))
                    parts, length, fresh = [" " * cont], cont, True
                parts.append(painted if fresh else joiner + painted)
                length += len(plain) if fresh else len(joiner) + len(plain)
                fresh = False
        self.lines.append("".join(parts))


def _words(text: str) -> _Group:
    return [_Atom(w, w) for w in text.split(" ")]


class _Renderer:
    """The report's lines: the findings (``body``), then the legend of their messages."""

    def __init__(self, findings: Sequence[Finding], width: int, color: bool):
        self.findings = findings
        self.color = color
        self.out = _Writer(width)
        cache: dict[str, tuple[_Word, ...]] = {}
        words = [_message_words(f, cache) for f in findings]
        self.words = words
        self.forms = _forms(findings, words)
        self.form_of: dict[int, _Form] = {i: form for form in self.forms for i in form.members}
        self.shapes = [path_shape(f.path) for f in findings]

    # A finding's pieces.

    def label(self, i: int, before: str = "", after: str = "") -> _Atom:
        return self.rule_atom(self.form_of[i].label, self.findings[i].severity, before, after)

    def rule_atom(self, text: str, severity: str, before: str = "", after: str = "") -> _Atom:
        """A rule id in its severity's colour (the finding lines have no severity word)."""
        painted = _paint(text, _COLORS[severity], self.color) if self.color else text
        return _Atom(before + text + after, before + painted + after)

    def finding(self, i: int, label: bool = True) -> _Group:
        """``LINE:COL RULE VALUE…`` (without the rule inside a folded run)."""
        f = self.findings[i]
        where = f"{f.line}:{f.column}"
        words = self.words[i]
        values = [_Atom(words[slot][1], words[slot][1]) for slot in self.form_of[i].values]
        return [_Atom(where, where), *([self.label(i)] if label else []), *values]

    def items(self, indexes: list[int]) -> list[_Group]:
        """An object's findings, ``;`` apart; a run of a repeated unit (the same rules on
        container after container) names its rules once, then each instance's findings,
        ``,`` apart."""
        tokens = [(self.form_of[i].label, self.shapes[i]) for i in indexes]
        groups: list[_Group] = []
        start = 0
        for run in fold_runs(tokens, lambda t: len(t[0]) + 2, max_unit=MAX_UNIT):
            k = len(run.unit)
            unit = indexes[start:start + k]
            if groups:
                _glue(groups[-1], ";")
            if run.count == 1:
                for n, i in enumerate(unit):
                    if n:
                        _glue(groups[-1], ";")
                    groups.append(self.finding(i))
            else:
                count = _Atom(f"{run.count}×", f"{run.count}×")
                if k == 1:
                    groups.append([count, self.label(unit[0], after=":")])
                else:
                    last = k - 1
                    groups.append([count, *(
                        self.label(i, before="" if j else "(", after="):" if j == last else ",")
                        for j, i in enumerate(unit)
                    )])
                groups[-1] += self.finding(unit[0], label=False)  # the header with its first
                for n in range(run.count):
                    for j, i in enumerate(indexes[start + n * k:start + (n + 1) * k]):
                        if n or j:
                            _glue(groups[-1], "," if j else ";")
                            groups.append(self.finding(i, label=False))
            start += run.count * k
        return groups

    # The structure.

    def body(self) -> None:
        by_file: dict[str, list[int]] = {}
        for i, f in enumerate(self.findings):
            by_file.setdefault(f.file, []).append(i)
        for folder, names in fold_paths(by_file):
            self.folder(folder)
            for name in names:
                self.file(name, by_file[folder + name])

    def folder(self, folder: str) -> None:
        """``deploy/base/``, broken after a ``/`` when longer than the line."""
        shown = printable(folder) if folder else ROOT
        if shown[:1].isspace() or shown.startswith('"'):
            shown = _quote(shown)
        segments = re.findall(r"[^/]*/|[^/]+$", shown)
        self.out.line(0, [[_atom(s, _BOLD, self.color)] for s in segments], joiner="")

    def file(self, name: str, indexes: list[int]) -> None:
        """One line for a file with one object; else the file (with its findings about no
        object) and then its objects, a run of one kind under ``N× Kind``."""
        objects: dict[tuple, list[int]] = {}
        loose: list[int] = []  # about the file, not an object (a parse error, say)
        for i in indexes:
            f = self.findings[i]
            if f.kind is None:
                loose.append(i)
            else:
                objects.setdefault((f.kind, f.namespace, f.name), []).append(i)
        head = _atom(_file_name(name), _BOLD, self.color)
        if len(objects) == 1 and not loose:
            [((kind, namespace, obj), members)] = objects.items()
            named = [head, _atom(_kind_name(kind)), _atom(_object_name(namespace, obj) + ":")]
            self.out.line(2, [named, *self.items(members)])
            return
        if loose:
            self.out.line(2, [[_Atom(head.plain + ":", head.painted + ":")], *self.items(loose)])
        else:
            self.out.line(2, [[head]])
        keys = list(objects)
        start = 0
        for run in fold([key[0] for key in keys], lambda kind: len(kind) + 1, max_unit=1).runs:
            kind = _kind_name(run.unit[0])
            if run.count == 1:
                _, namespace, obj = keys[start]
                named = [_atom(kind), _atom(_object_name(namespace, obj) + ":")]
                self.out.line(4, [named, *self.items(objects[keys[start]])])
            else:
                self.out.line(4, [[_atom(f"{run.count}×"), _atom(kind)]])
                for key in keys[start:start + run.count]:
                    named = [_atom(_object_name(key[1], key[2]) + ":")]
                    self.out.line(6, [named, *self.items(objects[key])])
            start += run.count

    def legend(self) -> None:
        """Per rule: its severity, count and path shapes, then each message form, the
        rule's most frequent one first and unlabelled, the others ``#2``, ``#3``…"""
        self.out.line(0, [_words(LEGEND_TITLE)])
        by_rule: dict[str, list[_Form]] = {}
        for form in self.forms:
            by_rule.setdefault(form.rule, []).append(form)
        for rule, forms in by_rule.items():
            members = [i for form in forms for i in form.members]
            severities = list(dict.fromkeys(form.severity for form in forms))
            shapes = Counter(printable(self.shapes[i]) or "the file" for i in members)
            named = [shape for shape, _ in shapes.most_common(SHAPES_SHOWN)]
            head = [self.rule_atom(rule, severities[0], after=":")]
            head.extend(_Atom(severity + ",", severity_word(severity, self.color) + ",")
                        for severity in severities)
            count = len(members)
            head += _words(f"{count} finding{'' if count == 1 else 's'} at")
            places = [[_atom(shape + ",")] for shape in named[:-1]] + [[_atom(named[-1])]]
            if len(shapes) > len(named):
                places.append(_words(f"and {len(shapes) - len(named)} more"))
            self.out.line(2, [head, *places])
            for n, form in enumerate(forms):
                lead: _Group = [_atom(form.label[len(rule):])] if n else []
                if len(severities) > 1:
                    word = severity_word(form.severity, self.color)
                    lead.append(_Atom(f"({form.severity})", f"({word})"))
                if lead:
                    _glue(lead, ":")
                elif form.template[:1] == " " or _LEAD.match(form.template):
                    lead = [_atom(":")]  # so that the message is not read as a label or indent
                self.out.line(4, [lead + _words(form.template)])


# What may stand before a form's message in the legend: its label, its severity, or ``:`` alone.
_LEAD = re.compile(r"(#\d+)?(?: ?\((?:error|warning|info)\))?: ")


def terminal_width() -> int:
    """The width a compact report wraps at when none is given: the terminal's when
    standard output is one, else 100 columns."""
    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def render_compact(summary: RunSummary, *, color: bool = False, width: int | None = None) -> str:
    """The compact report: the findings by folder, file and object, the legend of rule
    messages, then the summary line with the compact figure, last. ``width`` (None: see
    ``terminal_width``) is kept between 40 and 120 columns."""
    width = max(MIN_WIDTH, min(MAX_WIDTH, terminal_width() if width is None else width))
    findings = summary.findings
    renderer = _Renderer(findings, width, color)
    if findings:
        renderer.body()
        renderer.legend()
    lines = renderer.out.lines
    shown = f"{len(lines)} line" + ("" if len(lines) == 1 else "s")
    clauses = summary_line(summary).split("; ")
    groups = [_words(c + ("" if n == len(clauses) - 1 else ";")) for n, c in enumerate(clauses)]
    groups.append(_words(f"Compact: {shown} for {len(findings)} findings."))
    renderer.out.line(0, groups)
    return "\n".join(renderer.out.lines) + "\n"

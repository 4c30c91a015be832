"""One ``k8slint fix`` run: lint as ``check`` does, then make the fixes of the findings that
carry one, file by file, in place (or as a diff).

Only what was linted as a plain file is edited (kustomize patches are left out of the run
already); a file is written only when it lies inside a folder the run was given (or beside
a file it was given), never through a link that leads elsewhere; writes are atomic and keep
the file's mode. Each file is linted again after its fixes, and fixes that only then apply
(a grace period set, so a preStop sleep fits) are made too, so that a second run has
nothing left to do.
"""

from __future__ import annotations

import difflib
import os
import stat
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from .discover import is_within
from .findings import Finding
from .fixer import Planned, Refused, fix_bytes
from .session import Options, Outcome, run, run_version

MAX_ROUNDS = 4  # a file's lint-and-fix rounds; two suffice for today's rules


class FileFix(NamedTuple):
    file: str  # as reports show it
    fixed: Counter  # rule id -> fixes made
    refused: str | None  # why the file was left untouched
    diff: str
    skipped: tuple[str, ...] = ()  # fixes not made in a file otherwise fixed, each saying why


class FixReport(NamedTuple):
    files: list[FileFix]
    outcome: Outcome  # the lint before fixing
    left_unsafe: int  # fixable findings left because they need --unsafe-fixes
    problems: list[str]


def wanted(f: Finding, unsafe: bool) -> bool:
    return f.fix is not None and f.suppressed is None and (unsafe or f.fix.safe)


def run_fix(options: Options, config: object, *, unsafe: bool, diff: bool,
            say: Callable[[str], None]) -> FixReport:
    from .config import Config

    assert isinstance(config, Config)
    outcome = run(options, config)
    problems = list(outcome.problems)
    by_file: dict[str, list[Finding]] = {}
    for f in outcome.summary.findings:
        if wanted(f, unsafe) and f.unit:
            by_file.setdefault(f.source or f.file, []).append(f)
    left_unsafe = sum(1 for f in outcome.summary.active if f.fix is not None and not f.fix.safe
                      and not unsafe)
    roots = _roots(options.paths or (".",))
    relint = _Relinter(options, config)
    files = []
    for source, findings in by_file.items():
        display = findings[0].file
        real = os.path.realpath(source)
        root = next((r for r in roots if is_within(real, r)), None)
        if root is None:
            files.append(FileFix(display, Counter(), "it lies through a link outside the scanned tree", ""))
            continue
        try:
            info = os.lstat(real)
            if not stat.S_ISREG(info.st_mode):
                raise Refused("not a regular file")
            with open(real, "rb") as stream:
                raw = stream.read()
            new, fixed, skipped = _fix_rounds(raw, findings, display, source, unsafe, relint)
        except Refused as exc:
            files.append(FileFix(display, Counter(), str(exc), ""))
            continue
        except OSError as exc:
            problems.append(f"cannot read {display}: {exc.strerror or exc}")
            continue
        if new is None:
            if skipped:
                files.append(FileFix(display, Counter(), None, "", skipped))
            continue
        text_diff = _diff(display, raw, new) if diff else ""
        if not diff:
            from .output import replace_file

            try:
                replace_file(real, new, confine=root, mode=stat.S_IMODE(info.st_mode))
            except OSError as exc:
                problems.append(f"cannot write {display}: {exc.strerror or exc}")
                continue
        files.append(FileFix(display, fixed, None, text_diff, skipped))
    return FixReport(files, outcome, left_unsafe, problems)


def _fix_rounds(raw: bytes, findings: list[Finding], display: str, exact: str, unsafe: bool,
                relint: _Relinter) -> tuple[bytes | None, Counter, tuple[str, ...]]:
    """The file's new bytes (None when unchanged), the fixes made by rule, and the fixes
    not made, each as ``LINE:COLUMN: RULE not fixed: REASON`` (positions in the new text)."""
    json_file = display.lower().endswith(".json")
    fixed: Counter = Counter()
    current = raw
    skipped: tuple[str, ...] = ()
    for _ in range(MAX_ROUNDS):
        planned = [Planned(f.unit, f.fix) for f in findings if f.fix is not None]
        result = fix_bytes(current, planned, json_file=json_file)
        skipped = tuple(_why_not(item, reason, findings) for item, reason in result.skipped)
        if result.new is None:
            break
        for item in result.applied:
            fixed[_rule_of(item, findings)] += 1
        current = result.new
        findings = [f for f in relint.findings(display, exact, current) if wanted(f, unsafe)]
        if not findings:
            break
    return (current if current != raw else None), fixed, skipped


def _rule_of(item: Planned, findings: list[Finding]) -> str:
    return _finding_of(item, findings).rule


def _finding_of(item: Planned, findings: list[Finding]) -> Finding:
    return next(f for f in findings if f.fix is item.fix and f.unit == item.unit)


def _why_not(item: Planned, reason: str, findings: list[Finding]) -> str:
    f = _finding_of(item, findings)
    return f"{f.line}:{f.column}: {f.rule} not fixed: {reason}"


class _Relinter:
    """Lints one file's new text with the run's rules and settings, in-file suppressions
    applied, for the fixes that apply once others are made."""

    def __init__(self, options: Options, config: object):
        from .config import Config
        from .engine import Engine, default_severities
        from .rule import Settings

        assert isinstance(config, Config)
        severities = default_severities(options.enable, options.disable, config.severities,
                                        config.custom_rules)
        self.engine = Engine(severities, dict(config.params), max_file_size=options.max_file_size,
                             settings=Settings(kubernetes_version=run_version(options, config)),
                             custom_rules=config.custom_rules)

    def findings(self, display: str, exact: str, raw: bytes) -> list[Finding]:
        from .suppress import apply

        result = self.engine.lint_bytes(display, raw, exact=exact)
        return apply(result.findings, result.suppressions, set(), {}, set()).kept


def _roots(paths: tuple[str, ...]) -> list[str]:
    """The folders a run may write in: each folder given, and the folder of each file given."""
    roots = []
    for path in paths:
        if path == "-":
            continue
        absolute = os.path.abspath(path)
        roots.append(os.path.realpath(absolute if os.path.isdir(absolute) else os.path.dirname(absolute)))
    return roots


def _diff(display: str, old: bytes, new: bytes) -> str:
    before = old.decode("utf-8", "replace").splitlines(keepends=True)
    after = new.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(before, after, f"a/{display}", f"b/{display}"))
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in lines)

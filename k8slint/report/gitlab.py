"""GitLab Code Quality: the JSON array a job publishes as ``artifacts:reports:codequality``.

GitLab reads six fields of each issue and ignores the rest of the Code Climate spec
(docs.gitlab.com/ci/testing/code_quality, "Implement a custom tool"): ``description``,
``check_name``, ``fingerprint``, ``severity``, ``location.path`` and ``location.lines.begin``.
Exactly those are written. The merge request widget compares the fingerprints of the
source and target branches and shows issues with equal fingerprints as one, so a
fingerprint must survive edits that move lines and must never be shared by two findings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePath

from ..findings import Finding, identity
from . import RunSummary
from .json import indented
from .text import printable

# GitLab's scale is info < minor < major < critical < blocker. An error breaks a rollout,
# an upgrade or a drain (or the file cannot be read at all): critical. A warning is a
# real risk that teams sometimes accept: major. Info is advice: info. Blocker is left
# to tools whose findings must stop a merge, and minor to style nits k8slint has none of.
SEVERITIES = {"error": "critical", "warning": "major", "info": "info"}
FINGERPRINT_VERSION = "k8slint-codequality/v1"
STDIN = "<stdin>"  # what the engine calls standard input
# What printable() leaves that UTF-8 cannot encode or XML 1.0 cannot carry at all: lone
# surrogates (a JSON manifest may spell one as \ud800) and the two noncharacters.
_UNENCODABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def visible(text: str) -> str:
    """``printable()``, and then nothing left that a UTF-8 JSON or XML file cannot hold."""
    return _UNENCODABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", printable(text))


def repo_path(file: str, root: str) -> str:
    """``file`` relative to ``root`` (the checkout in CI), with ``/`` separators.

    Standard input has no file: ``stdin``, as in SARIF. A file outside the root (the
    session picks a root every reported file lies in, so only a hand-built run) keeps
    the path it was given rather than climbing out with ``..``."""
    if file == STDIN:
        return "stdin"
    try:
        relative = Path(os.path.abspath(file)).relative_to(os.path.abspath(root))
    except ValueError:
        return PurePath(file).as_posix()
    return "/".join(relative.parts)


def fingerprint(f: Finding, root: str, occurrence: int = 1) -> str:
    """Stable when lines move: the rule and what the finding is about (``identity``),
    never its line or column. The file part is taken relative to the root, so running
    ``k8slint check .`` or ``k8slint check deploy/`` gives the same fingerprints.

    ``occurrence`` tells apart findings with equal identities (the same object twice in
    one file); the first keeps the plain hash, so adding a twin changes nobody else."""
    exact_file, *about = identity(f)
    parts = [FINGERPRINT_VERSION, f.rule, repo_path(exact_file, root), *about]
    if occurrence > 1:
        parts.append(str(occurrence))
    # JSON keeps the parts apart whatever they contain (NUL, quotes) and escapes the
    # lone surrogates that stand for undecodable bytes of a file name.
    return hashlib.sha256(json.dumps(parts).encode("ascii")).hexdigest()[:32]


def fingerprints(summary: RunSummary, findings: list[Finding]) -> list[str]:
    """One fingerprint per finding, unique within the report: a repeated identity
    counts its occurrences in report order, as SARIF's partial fingerprints do."""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        base = fingerprint(f, summary.root)
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else fingerprint(f, summary.root, seen[base]))
    return out


def issue(f: Finding, key: str, root: str) -> dict:
    """One Code Quality issue with exactly the keys GitLab documents."""
    return {
        "description": visible(f"{f.rule}: {f.told}"),
        "check_name": visible(f.rule),
        "fingerprint": key,
        "severity": SEVERITIES[f.severity],
        "location": {"path": visible(repo_path(f.file, root)), "lines": {"begin": f.line}},
    }


def render_gitlab(summary: RunSummary) -> str:
    """The Code Quality report: active findings only, in report order.

    Suppressed findings (listed with ``--show-suppressed``) are left out: the format has
    no way to mark an issue as accepted, and GitLab would show them as new problems."""
    findings = summary.active
    keys = fingerprints(summary, findings)
    issues = [issue(f, key, summary.root) for f, key in zip(findings, keys, strict=True)]
    # No byte order mark: GitLab's parser refuses one.
    return html_safe(indented(issues)) + "\n"


def html_safe(document: str) -> str:
    """``<``, ``>`` and ``&`` as JSON escapes: the same data once parsed, but no markup
    from a manifest survives in the file's bytes should a viewer ever show them as HTML.
    These three occur only inside strings, so escaping them keeps the JSON valid."""
    return document.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

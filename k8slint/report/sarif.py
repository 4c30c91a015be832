"""SARIF 2.1.0, valid against the OASIS schema and complete for GitHub code scanning.

The run's skeleton and the rule descriptors are built with sarif-om. Results, of which a
run may have hundreds of thousands, are plain dicts built in one pass, with the keys and
key order that sarif-om's serialisation gives them: a sarif-om object per result, turned
into data through attrs introspection, made a report of 200,000 results take 36 s and
2 GB, where the text report of the same run takes 10 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_from_bytes

import attr
import sarif_om as om

from .. import __version__
from ..catalog import RuleMeta, with_custom
from ..findings import Finding, identity
from . import RunSummary
from .json import indented

if TYPE_CHECKING:
    from . import ReplacementsMemo

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "k8slintFinding/v1"
# GitHub code scanning rejects a whole upload whose run has more results than this (its
# documented hard limit, "Results per run"). Over it, the most severe results are kept.
MAX_RESULTS = 25_000
# What --category accepts: letters, digits, ".", "_" and "-", starting with a letter or a
# digit, in parts joined by single slashes. Code scanning reads automationDetails.id as
# "category/run-id", the category ending at the last slash: so no part may be empty and
# the name may not end with a slash. Anything else (spaces, other punctuation, non-ASCII
# letters) is refused rather than rewritten: a category is a key that must come out the
# same on every run.
_CATEGORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9._-]+)*")
# sarif-om gives every property a default, and emitting defaults is noise, except where
# the value carries meaning a consumer must not infer: a result's level falls back to
# "warning" when absent, whatever the rule says.
_ALWAYS_EMIT = frozenset({"level", "version"})
# sarif-om follows a pre-release draft in one place: the schema calls it "status".
_RENAMED = {(om.Suppression, "state"): "status"}


def to_sarif_dict(value: Any) -> Any:
    """sarif-om objects to plain JSON data, under the schema's property names."""
    if attr.has(type(value)):
        out = {}
        for a in attr.fields(type(value)):
            item = getattr(value, a.name)
            if item is None:
                continue
            name = _RENAMED.get((type(value), a.name)) or a.metadata.get("schema_property_name", a.name)
            default = a.default
            # attrs types Factory as a function; at run time it is the class of factory defaults.
            if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if name not in _ALWAYS_EMIT and default is not attr.NOTHING and item == default:
                continue
            out[name] = to_sarif_dict(item)
        return out
    if isinstance(value, dict):
        return {k: to_sarif_dict(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [to_sarif_dict(v) for v in value]
    return value


def automation_id(category: str | None) -> str:
    """``runAutomationDetails.id``: ``k8slint/``, or ``k8slint/NAME/`` for a category NAME.

    Code scanning takes everything before the last ``/`` as the run's category
    (``k8slint``, ``k8slint/NAME``) and what follows as a run id, left empty here: uploads
    with the same category replace each other, different categories stand side by side.
    A NAME outside ``_CATEGORY`` raises ValueError with a one-line message."""
    if category is None:
        return "k8slint/"
    if not _CATEGORY.fullmatch(category):
        raise ValueError(
            f"invalid SARIF category {category!r}: expected letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, in parts joined by single '/' (none at the end)"
        )
    return f"k8slint/{category}/"


def _descriptor(meta: RuleMeta) -> om.ReportingDescriptor:
    if meta.custom:
        return _custom_descriptor(meta)
    markdown = [meta.why, "", "**Fix:** " + meta.fix, "", "Example that fails:", "",
                "```yaml", meta.example, "```"]
    if meta.instead:
        markdown += ["", "Instead:", "", "```yaml", meta.instead, "```"]
    if meta.references:
        markdown += ["", "References:"] + [f"- {ref}" for ref in meta.references]
    properties: dict[str, Any] = {"tags": list(meta.tags), "precision": meta.precision}
    if meta.security_severity:  # the catalogue puts one on every rule tagged security
        properties["security-severity"] = meta.security_severity
    return om.ReportingDescriptor(
        id=meta.id,
        name="".join(part.capitalize() for part in meta.id.split("-")),
        short_description=om.MultiformatMessageString(text=meta.summary),
        full_description=om.MultiformatMessageString(text=meta.why),
        help=om.MultiformatMessageString(text=f"{meta.why}\n\nFix: {meta.fix}", markdown="\n".join(markdown)),
        help_uri=meta.references[0] if meta.references else None,
        default_configuration=om.ReportingConfiguration(level=LEVELS[meta.severity], enabled=meta.enabled),
        properties=properties,
    )


def _custom_descriptor(meta: RuleMeta) -> om.ReportingDescriptor:
    """A custom rule's descriptor: its own words where the config gives them, its message
    where it does not, and the JSON Schema it applies."""
    why = meta.why or meta.message
    text = why + (f"\n\nFix: {meta.fix}" if meta.fix else "")
    markdown = [why]
    if meta.fix:
        markdown += ["", "**Fix:** " + meta.fix]
    markdown += ["", f"Custom rule from `{meta.origin}`; the JSON Schema it applies:", "", "```json",
                 json.dumps(meta.schema, indent=2, ensure_ascii=False, default=str), "```"]
    if meta.references:
        markdown += ["", "References:"] + [f"- {ref}" for ref in meta.references]
    return om.ReportingDescriptor(
        id=meta.id,
        name="".join(part.capitalize() for part in meta.id.split("-")),
        short_description=om.MultiformatMessageString(text=meta.summary),
        full_description=om.MultiformatMessageString(text=why),
        help=om.MultiformatMessageString(text=text, markdown="\n".join(markdown)),
        help_uri=next((r for r in meta.references if r.startswith(("https://", "http://"))), None),
        default_configuration=om.ReportingConfiguration(level=LEVELS[meta.severity], enabled=True),
        properties={"tags": list(meta.tags), "precision": meta.precision},
    )


def _path_bytes(path: str) -> bytes:
    """The exact bytes of a path: undecodable bytes come back from their surrogate escapes."""
    try:
        return os.fsencode(path)
    except UnicodeEncodeError:  # a lone surrogate that no file system decoding produced
        return path.encode("utf-8", "surrogatepass")


def file_uri(path: str) -> str:
    """An absolute ``file:`` URI of the path's exact bytes, percent-encoded."""
    absolute = _path_bytes(os.path.abspath(path)).replace(os.sep.encode(), b"/")
    if not absolute.startswith(b"/"):  # a drive letter
        absolute = b"/" + absolute
    return "file://" + quote_from_bytes(absolute, safe="/")


def _folder_uri(path: str) -> str:
    uri = file_uri(path)
    return uri if uri.endswith("/") else uri + "/"


def relative_uri(file: str, root: str) -> tuple[str, str | None]:
    """The file's URI and base: relative to the scanned root (``%SRCROOT%``) when the file
    lies below it, else an absolute ``file:`` URI without a base. Percent-encoded from the
    path's exact bytes; never climbs out with ``..``; never raises."""
    if file == "<stdin>":
        return "stdin", None
    target = _path_bytes(os.path.abspath(file)).replace(os.sep.encode(), b"/")
    base = _path_bytes(os.path.abspath(root)).replace(os.sep.encode(), b"/")
    prefix = base if base.endswith(b"/") else base + b"/"
    if target.startswith(prefix) and len(target) > len(prefix):
        return quote_from_bytes(target[len(prefix):], safe="/"), SRCROOT
    return file_uri(file), None


def _identity_text(f: Finding) -> str:
    """What a fingerprint hashes: the rule, the finding's identity (shared with baselines
    and suppressions), and for a finding about no object (a parse error), its message."""
    return "\0".join((f.rule, *identity(f), f.message if f.kind is None else ""))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprint(f: Finding) -> str:
    """Stable when lines move: rule, file, object identity and path, never a line number."""
    return _digest(_identity_text(f))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def cut_to_limit(severities: list[str], limit: int,
                 scores: list[float] | None = None) -> tuple[range | list[int], dict[str, int]]:
    """Which findings (by their severities, in report order) a run of at most ``limit``
    results keeps: the most severe (error, then warning, then info; among equals, the
    higher security-severity score, then the earlier), as indexes in report order. Also
    how many of each severity are left out."""
    if len(severities) <= limit:
        return range(len(severities)), {}
    rank = {severity: n for n, severity in enumerate(LEVELS)}  # error first
    weight = scores or [0.0] * len(severities)
    best = sorted(range(len(severities)), key=lambda i: (rank[severities[i]], -weight[i], i))
    kept = sorted(best[:limit])
    counts = Counter(severities[i] for i in best[limit:])
    left_out = {s: counts[s] for s in LEVELS if counts[s]}
    return kept, left_out


def _cut_message(left_out: dict[str, int], total: int, limit: int) -> str:
    which = ", ".join(_plural(n, LEVELS[s]) for s, n in left_out.items())
    return (f"{sum(left_out.values()):,} of {total:,} results left out ({which}): GitHub code "
            f"scanning rejects a run of more than {limit:,} results; the {limit:,} most severe "
            "were kept")


# A file read again for its fixes' text is read only when it is at most this large (the
# run read it already, under its own --max-file-size).
MAX_FIX_FILE = 64 * 1024 * 1024


def _replacements(path: str, findings: list[Finding],
                  memo: ReplacementsMemo | None = None) -> list[list[Any] | None]:
    """Each finding's fix as replacements of the file's text (``fixer.fix_replacements``,
    through ``memo`` when the run keeps them); None for every finding when the file cannot
    be read again as a regular file."""
    from ..fixer import Planned, fix_replacements

    planned = [Planned(f.unit, f.fix) for f in findings if f.fix is not None]
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FIX_FILE:
                return [None] * len(findings)
            with os.fdopen(fd, "rb", closefd=False) as stream:
                raw = stream.read(MAX_FIX_FILE + 1)
        finally:
            os.close(fd)
    except OSError:
        return [None] * len(findings)
    json_file = findings[0].file.lower().endswith(".json")

    def compute() -> list[Any]:
        return list(fix_replacements(raw, planned, json_file=json_file))

    return compute() if memo is None else memo(raw, planned, json_file, compute)


def _fix(f: Finding, artifact: dict, replacements: list[Any]) -> dict:
    """A result's SARIF ``fix``: the edits of its one file, what it does, and whether it is
    safe (``k8slint fix`` makes it) or changes behaviour (only with ``--unsafe-fixes``)."""
    assert f.fix is not None
    if f.fix.safe:
        said = f"{f.fix.does} (safe: changes nothing a cluster does; `k8slint fix` makes it)"
    else:
        said = f"{f.fix.does} (unsafe: changes behaviour; `k8slint fix --unsafe-fixes` makes it)"
    changes = []
    for r in replacements:
        change: dict[str, Any] = {"deletedRegion": {"endColumn": r.end_column, "endLine": r.end_line,
                                                    "startColumn": r.start_column, "startLine": r.start_line}}
        if r.text:
            change["insertedContent"] = {"text": r.text}
        changes.append(change)
    return {
        "artifactChanges": [{"artifactLocation": artifact, "replacements": changes}],
        "description": {"text": said},
        "properties": {"safety": f.fix.safety},
    }


def build_log(summary: RunSummary, category: str | None = None,
              notices: list[str] | None = None) -> dict:
    """The SARIF log as plain JSON data; a cut to ``MAX_RESULTS`` is told in ``notices``."""
    run_id = automation_id(category)
    metas = list(with_custom(summary.custom_rules).values())
    index = {meta.id: i for i, meta in enumerate(metas)}
    findings = summary.findings
    # A fingerprint's occurrence number counts every finding, kept or not, so a result's
    # fingerprint does not depend on what a cut left out.
    texts = [_identity_text(f) for f in findings]
    occurrence: list[int] = []
    seen: Counter[str] = Counter()
    for text in texts:
        seen[text] += 1
        occurrence.append(seen[text])
    metas_by_id = {meta.id: meta for meta in metas}
    scores = [float(getattr(metas_by_id.get(f.rule), "security_severity", None) or 0) for f in findings]
    kept, left_out = cut_to_limit([f.severity for f in findings], MAX_RESULTS, scores)
    uris: dict[str, tuple[str, str | None]] = {}
    results: list[dict[str, Any]] = []
    # file -> (result index, finding, its artifactLocation), for the findings with a fix
    fixable: dict[str, list[tuple[int, Finding, dict]]] = {}
    for i in kept:
        f = findings[i]
        path = f.source or f.file
        if path not in uris:
            uris[path] = relative_uri(path, summary.root)
        uri, base = uris[path]
        key = _digest(texts[i])
        if occurrence[i] > 1:  # the same object twice in a file: keep the fingerprints apart
            key = f"{key}:{occurrence[i]}"
        artifact = {"uri": uri, "uriBaseId": base} if base else {"uri": uri}
        result: dict[str, Any] = {
            "message": {"text": f.message},
            "level": LEVELS[f.severity],
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact,
                "region": {"endColumn": f.end_column, "endLine": f.end_line,
                           "startColumn": f.column, "startLine": f.line},
            }}],
            "partialFingerprints": {FINGERPRINT_KEY: key},
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
        }
        if f.via:  # the chart or build root the finding came through
            result["properties"] = {"via": f.via}
        if f.fix is not None and f.suppressed is None and f.unit and path != "<stdin>":
            fixable.setdefault(path, []).append((len(results), f, artifact))
        if f.suppressed is not None:
            suppression = {"kind": "inSource"}
            if f.suppressed:  # an empty reason is no justification
                suppression["justification"] = f.suppressed
            suppression["status"] = "accepted"
            result["suppressions"] = [suppression]
        results.append(result)

    for path, items in fixable.items():
        found = _replacements(path, [f for _, f, _ in items], summary.replacements)
        for (n, f, artifact), replacements in zip(items, found, strict=True):
            if replacements:
                # "fixes" comes right after "message" in sarif-om's order of a result's keys.
                message = results[n].pop("message")
                results[n] = {"message": message, "fixes": [_fix(f, artifact, replacements)], **results[n]}

    invocations = None
    told = [om.Notification(message=om.Message(text=notice), level="warning")
            for notice in summary.notices]
    if left_out:
        message = _cut_message(left_out, len(findings), MAX_RESULTS)
        if notices is not None:
            notices.append(f"SARIF: {message}")
        told.append(om.Notification(message=om.Message(text=message), level="warning"))
    if told:
        invocations = [om.Invocation(execution_successful=True, tool_execution_notifications=told)]
    run = om.Run(
        tool=om.Tool(driver=om.ToolComponent(
            name="k8slint", version=__version__, semantic_version=__version__,
            rules=[_descriptor(m) for m in metas],
        )),
        column_kind="unicodeCodePoints",
        automation_details=om.RunAutomationDetails(id=run_id),
        invocations=invocations,
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=_folder_uri(summary.root))},
    )
    log = to_sarif_dict(om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run]))
    # "results" is the last property of a run that k8slint sets, so adding it here keeps
    # the order sarif-om's serialisation gives.
    log["runs"][0]["results"] = results
    return log


def render_sarif(summary: RunSummary, *, category: str | None = None,
                 notices: list[str] | None = None) -> str:
    """The SARIF report. ``category`` names the run in code scanning (ValueError when it is
    not one :func:`automation_id` accepts); a cut to ``MAX_RESULTS`` appends a line to
    ``notices``."""
    # Indented, as before: json's C encoder serves only unindented output, but with at most
    # MAX_RESULTS results the pure-Python one costs 0.8 s at worst (0.15 s unindented, on
    # 25,000 results), and a readable report that keeps its layout is worth that.
    return indented(build_log(summary, category, notices)) + "\n"

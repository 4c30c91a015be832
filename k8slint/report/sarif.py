"""SARIF 2.1.0, built with sarif-om and complete for GitHub code scanning."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attr
import sarif_om as om

from .. import __version__
from ..catalog import RuleMeta, catalog
from . import RunSummary

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "k8slintFinding/v1"
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


def _descriptor(meta: RuleMeta) -> om.ReportingDescriptor:
    markdown = [meta.why, "", "**Fix:** " + meta.fix, "", "Example that fails:", "",
                "```yaml", meta.example, "```"]
    if meta.instead:
        markdown += ["", "Instead:", "", "```yaml", meta.instead, "```"]
    if meta.references:
        markdown += ["", "References:"] + [f"- {ref}" for ref in meta.references]
    return om.ReportingDescriptor(
        id=meta.id,
        name="".join(part.capitalize() for part in meta.id.split("-")),
        short_description=om.MultiformatMessageString(text=meta.summary),
        full_description=om.MultiformatMessageString(text=meta.why),
        help=om.MultiformatMessageString(text=f"{meta.why}\n\nFix: {meta.fix}", markdown="\n".join(markdown)),
        help_uri=meta.references[0] if meta.references else None,
        default_configuration=om.ReportingConfiguration(level=LEVELS[meta.severity], enabled=meta.enabled),
        properties={"tags": list(meta.tags), "precision": meta.precision},
    )


def relative_uri(file: str, root: str) -> tuple[str, str | None]:
    """A URI relative to the scanned root (the session picks a root every file lies in)."""
    if file == "<stdin>":
        return "stdin", None
    relative = Path(os.path.abspath(file)).relative_to(os.path.abspath(root))
    return quote("/".join(relative.parts).encode("utf-8", "replace")), SRCROOT


def fingerprint(f) -> str:
    """Stable when lines move: rule, file, object identity and path, never a line number."""
    identity = "\0".join(
        str(part) for part in (f.rule, f.file, f.api_version, f.kind, f.namespace, f.name,
                               f.stable_path or f.dotted_path,
                               f.message if f.kind is None else "")
    )
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def build_log(summary: RunSummary) -> om.SarifLog:
    metas = list(catalog().values())
    index = {meta.id: i for i, meta in enumerate(metas)}
    results = []
    seen: dict[str, int] = {}
    for f in summary.findings:
        uri, base = relative_uri(f.file, summary.root)
        key = fingerprint(f)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:  # the same object twice in a file: keep the fingerprints apart
            key = f"{key}:{seen[key]}"
        results.append(om.Result(
            rule_id=f.rule,
            rule_index=index[f.rule],
            level=LEVELS[f.severity],
            message=om.Message(text=f.message),
            locations=[om.Location(physical_location=om.PhysicalLocation(
                artifact_location=om.ArtifactLocation(uri=uri, uri_base_id=base),
                region=om.Region(start_line=f.line, start_column=f.column,
                                 end_line=f.end_line, end_column=f.end_column),
            ))],
            partial_fingerprints={FINGERPRINT_KEY: key},
            suppressions=None if f.suppressed is None else [
                om.Suppression(kind="inSource", state="accepted", justification=f.suppressed or None)
            ],
        ))
    root_uri = Path(os.path.abspath(summary.root)).as_uri().rstrip("/") + "/"
    run = om.Run(
        tool=om.Tool(driver=om.ToolComponent(
            name="k8slint", version=__version__, semantic_version=__version__,
            rules=[_descriptor(m) for m in metas],
        )),
        results=results,
        column_kind="unicodeCodePoints",
        automation_details=om.RunAutomationDetails(id="k8slint/"),
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=root_uri)},
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


def render_sarif(summary: RunSummary) -> str:
    return json.dumps(to_sarif_dict(build_log(summary)), indent=2, ensure_ascii=False) + "\n"

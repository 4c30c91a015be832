"""A stable JSON shape for scripts; docs/output-formats.md documents every field."""

from __future__ import annotations

import json

from .. import __version__
from ..findings import Finding
from . import RunSummary
from .text import fixable_counts

FORMAT_VERSION = 1


def finding_dict(f: Finding) -> dict:
    obj = None
    if f.kind is not None:
        obj = {"apiVersion": f.api_version, "kind": f.kind, "namespace": f.namespace, "name": f.name}
    found = {
        "rule": f.rule,
        "severity": f.severity,
        "message": f.message,
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "endLine": f.end_line,
        "endColumn": f.end_column,
        "object": obj,
        "path": list(f.path),
        "suppressed": None if f.suppressed is None else {"kind": "inSource", "justification": f.suppressed},
    }
    if f.via:
        found["via"] = f.via
    return found


def render_json(summary: RunSummary) -> str:
    counts = summary.counts()
    fixable, fixable_unsafe = fixable_counts(summary)
    document = {
        "version": FORMAT_VERSION,
        "tool": {"name": "k8slint", "version": __version__},
        "findings": [finding_dict(f) for f in summary.findings],
        "summary": {
            "files": summary.files,
            "documents": summary.documents,
            "objects": summary.objects,
            "patchesSkipped": summary.patches_skipped,
            "notManifests": summary.not_manifests,
            "gitIgnored": summary.git_ignored,
            "linksOut": summary.links_out,
            "kubernetesVersion": summary.kubernetes_version,
            "objectsWithoutSchema": dict(sorted(summary.schemaless.items())),
            "findings": len(summary.active),
            "suppressed": summary.suppressed,
            "baselineKnown": summary.baseline_known,
            "error": counts["error"],
            "warning": counts["warning"],
            "info": counts["info"],
            "fixable": fixable,
            "fixableUnsafe": fixable_unsafe,
            "rendered": [{"kind": u.kind, "folder": u.display, "failed": u.failed,
                          "engine": u.engine, "engineSeconds": round(u.seconds, 3)}
                         for u in summary.units],
            "notices": list(summary.notices),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

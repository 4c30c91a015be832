"""A stable JSON shape for scripts; docs/output-formats.md documents every field."""

from __future__ import annotations

import json
from typing import Any

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
    return indented(document) + "\n"


def indented(value: object) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, the same text, built without the
    standard library's pure-Python encoder (which ``indent`` selects: a report of thousands
    of findings spent most of its time there). For plain JSON values: dicts with string keys,
    lists, strings, numbers, booleans and None; anything else is left to ``json.dumps``."""
    out: list[str] = []
    _indented(value, "\n", out)
    return "".join(out)


_STRING = json.encoder.encode_basestring  # the C function where there is one
_WORDS = {True: "true", False: "false", None: "null"}


def _indented(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_STRING(value))
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is bool or value is None:
        out.append(_WORDS[value])
    elif kind is dict and value and all(type(key) is str for key in value):
        inner = newline + "  "
        sep = "{" + inner
        for key, item in value.items():
            out.append(sep + _STRING(key) + ": ")
            _indented(item, inner, out)
            sep = "," + inner
        out.append(newline + "}")
    elif kind is list and value:
        inner = newline + "  "
        sep = "[" + inner
        for item in value:
            out.append(sep)
            _indented(item, inner, out)
            sep = "," + inner
        out.append(newline + "]")
    else:  # empty, a float, or what the report does not hold: the standard encoder's text
        out.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))

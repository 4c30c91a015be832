"""Baselines: adopt k8slint on a repository without fixing everything on day one.

``--write-baseline FILE`` records today's findings; ``--baseline FILE`` reports only the
ones not recorded. An entry is keyed by rule, file, object identity and object path, never
by line, so editing lines above a finding does not bring it back. Files are recorded
relative to the baseline's own folder, so the baseline works from any working folder.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Iterable

from .findings import Finding

FORMAT = "k8slint-baseline"
VERSION = 1


class BaselineError(Exception):
    pass


def _key(finding: Finding, base: Path) -> tuple:
    if finding.file == "<stdin>":
        file = finding.file
    else:
        file = Path(os.path.relpath(os.path.abspath(finding.file), base)).as_posix()
    return (finding.rule, file, finding.api_version or "", finding.kind or "",
            finding.namespace or "", finding.name or "", finding.stable_path or finding.dotted_path)


_FIELDS = ("rule", "file", "apiVersion", "kind", "namespace", "name", "path")


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    base = path.resolve().parent
    counts = Counter(_key(f, base) for f in findings)
    import json

    entries = [dict(zip(_FIELDS, key), count=n) for key, n in sorted(counts.items())]
    text = json.dumps({"format": FORMAT, "version": VERSION, "findings": entries}, indent=2) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return sum(counts.values())


class Baseline:
    def __init__(self, path: Path):
        import json

        self.base = path.resolve().parent
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BaselineError(f"cannot read the baseline {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise BaselineError(f"{path} is not a k8slint baseline: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
            raise BaselineError(f"{path} is not a k8slint baseline (format {FORMAT}, version {VERSION})")
        self.remaining: Counter = Counter()
        try:
            for entry in data["findings"]:
                self.remaining[tuple(entry[f] for f in _FIELDS)] += int(entry.get("count", 1))
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"{path}: a baseline entry is malformed ({exc})") from None

    def split(self, findings: Iterable[Finding]) -> tuple[list[Finding], int]:
        """(findings not in the baseline, how many were in it)."""
        new, known = [], 0
        for finding in findings:
            key = _key(finding, self.base)
            if self.remaining[key] > 0:
                self.remaining[key] -= 1
                known += 1
            else:
                new.append(finding)
        return new, known

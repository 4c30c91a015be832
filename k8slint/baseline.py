"""Baselines: adopt k8slint on a repository without fixing everything on day one.

``--write-baseline FILE`` records today's findings; ``--baseline FILE`` reports only the
ones not recorded. An entry is keyed by rule, file, object identity and object path, never
by line, so editing lines above a finding does not bring it back. Files are recorded
relative to the baseline's own folder, so the baseline works from any working folder.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .findings import Finding, identity

FORMAT = "k8slint-baseline"
VERSION = 2  # 2: objects keyed by kind, namespace and name (or generateName and order)
READABLE = (1, 2)


class BaselineError(Exception):
    pass


def _key(finding: Finding, base: Path) -> tuple:
    """The finding's identity (see ``findings.identity``), its file relative to the
    baseline's folder: exact bytes kept, so two names that display alike stay apart."""
    exact, kind, namespace, name, path = identity(finding)
    if exact != "<stdin>":
        exact = Path(os.path.relpath(os.path.abspath(exact), base)).as_posix()
    return (finding.rule, exact, kind, namespace, name, path)


_FIELDS = ("rule", "file", "kind", "namespace", "name", "path")


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    base = path.resolve().parent
    counts = Counter(_key(f, base) for f in findings)
    import json

    entries = [dict(zip(_FIELDS, key, strict=True), count=n) for key, n in sorted(counts.items())]
    text = json.dumps({"format": FORMAT, "version": VERSION, "findings": entries}, indent=2) + "\n"
    from .output import write_text

    write_text(str(path), text)  # never through a planted link or temporary name
    return sum(counts.values())


class Baseline:
    def __init__(self, path: Path):
        import json

        self.base = path.resolve().parent
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BaselineError(f"cannot read the baseline {path}: {exc.strerror or exc}") from None
        except (ValueError, RecursionError) as exc:  # RecursionError: nested past reason
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise BaselineError(f"{path} is not a k8slint baseline: {reason}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") not in READABLE:
            raise BaselineError(f"{path} is not a k8slint baseline (format {FORMAT}, version {VERSION})")
        self.remaining: Counter = Counter()
        try:
            for entry in data["findings"]:
                count = entry.get("count", 1)
                if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                    raise ValueError(f"count must be a whole number of at least 1, got {count!r}"[:200])
                self.remaining[tuple(entry[f] for f in _FIELDS)] += count
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

"""gitignore-style globs for the config's ``exclude`` list.

- A pattern with a slash at its start or middle is anchored at the config's folder;
  one without matches a name at any depth.
- A trailing slash matches folders only. ``*`` and ``?`` stop at slashes, ``**`` does not.
- ``!pattern`` takes a path back in, except below a folder that stays excluded.
- The last matching pattern wins; a path inside an excluded folder is excluded.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

Matcher = Callable[[str, bool], bool]


def _translate(pattern: str) -> tuple[re.Pattern, bool, bool]:
    """(regex over a relative posix path, negated, folders only)."""
    negated = pattern.startswith("!")
    if negated:
        pattern = pattern[1:]
    if pattern.startswith("\\"):  # "\!" or "\#": a literal first character
        pattern = pattern[1:]
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    try:
        return re.compile(f"^{prefix}{''.join(out)}$"), negated, dir_only
    except re.error:  # a bracket git would not read as a range ([z-a]): match it literally
        return re.compile(f"^{prefix}{re.escape(pattern)}$"), negated, dir_only


def compile_globs(patterns: Iterable[str]) -> Matcher:
    """A matcher ``(relative_posix_path, is_folder) -> excluded``."""
    compiled = [_translate(p) for p in patterns if p and not p.startswith("#")]

    def matches_itself(path: str, is_dir: bool) -> bool | None:
        verdict = None
        for regex, negated, dir_only in compiled:
            if dir_only and not is_dir:
                continue
            if regex.match(path):
                verdict = not negated
        return verdict

    def excluded(path: str, is_dir: bool) -> bool:
        parts = path.split("/")
        for depth in range(1, len(parts)):  # an excluded folder hides all below it
            if matches_itself("/".join(parts[:depth]), True):
                return True
        return bool(matches_itself(path, is_dir))

    return excluded

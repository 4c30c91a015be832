"""gitignore-style globs for the config's ``exclude`` list.

- A pattern with a slash at its start or middle is anchored at the config's folder;
  one without matches a name at any depth.
- A trailing slash matches folders only. ``*`` and ``?`` stop at slashes, ``**`` does not.
- ``!pattern`` takes a path back in, except below a folder that stays excluded.
- The last matching pattern wins; a path inside an excluded folder is excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Matcher = Callable[[str, bool], bool]

# Tokens of a compiled pattern.
_CHAR, _ANY_ONE, _STAR, _GLOBSTAR, _DIRS, _BELOW, _CLASS = range(7)


class _Glob:
    """One pattern, matched by simulating every place it could be at once: time is the
    path's length times the pattern's, never exponential (``**/**/**/...`` included),
    and one pass answers for every folder above the path too."""

    __slots__ = ("tokens", "negated", "dir_only")

    def __init__(self, pattern: str):
        pattern = _strip_trailing_spaces(pattern)
        self.negated = pattern.startswith("!")
        if self.negated:
            pattern = pattern[1:]
        self.dir_only = pattern.endswith("/") and not pattern.endswith("\\/")
        pattern = pattern.rstrip("/") if self.dir_only else pattern
        anchored = "/" in pattern.rstrip("/").replace("\\/", "")
        pattern = pattern.lstrip("/")
        tokens: list[tuple] = [] if anchored else [(_DIRS, None)]

        def add(kind: int, arg: object = None) -> None:
            # A run of wildcards is one: "***" is "*", "**/**/" is "**/", so a pattern's
            # length cannot multiply the work per character.
            if tokens and kind in (_STAR, _GLOBSTAR) and tokens[-1][0] in (_STAR, _GLOBSTAR):
                if kind == _GLOBSTAR:
                    tokens[-1] = (_GLOBSTAR, None)
                return
            if tokens and kind == _DIRS and tokens[-1][0] == _DIRS:
                return
            tokens.append((kind, arg))

        i, n = 0, len(pattern)
        while i < n:
            c = pattern[i]
            whole_segment = i == 0 or pattern[i - 1] == "/"
            if c == "\\" and i + 1 < n:  # an escaped character stands for itself
                add(_CHAR, pattern[i + 1])
                i += 2
            elif pattern.startswith("**/", i) and whole_segment:
                add(_DIRS)  # zero or more folders
                i += 3
            elif pattern.startswith("/**", i) and i + 3 == n:
                add(_BELOW)  # everything below
                i += 3
            elif pattern.startswith("**", i) and whole_segment and i + 2 == n:
                add(_GLOBSTAR)  # the pattern is "**": everything
                i += 2
            elif c == "*":
                while i < n and pattern[i] == "*":  # "**" inside a name is "*", as in git
                    i += 1
                add(_STAR)
            elif c == "?":
                add(_ANY_ONE)
                i += 1
            elif c == "[" and pattern.find("]", i + 2) != -1:
                end = pattern.find("]", i + 2)
                add(_CLASS, _char_class(pattern[i + 1:end]))
                i = end + 1
            else:
                add(_CHAR, c)
                i += 1
        self.tokens = tuple(tokens)

    def _closure(self, states: set[int]) -> set[int]:
        """Add the places reachable without reading a character."""
        todo = list(states)
        while todo:
            state = todo.pop()
            if state < len(self.tokens) and self.tokens[state][0] in (_STAR, _GLOBSTAR, _DIRS):
                nxt = state + 1  # these may match nothing
                if nxt not in states:
                    states.add(nxt)
                    todo.append(nxt)
        return states

    def match_prefixes(self, path: str) -> list[bool]:
        """For each ``/`` in ``path`` and for its end: whether the text before it matches."""
        end = len(self.tokens)
        tokens = self.tokens
        # A state is (token index, inside): ``inside`` marks a _DIRS or _BELOW token that
        # has read at least one character of its run.
        states = {(s, False) for s in self._closure({0})}
        answers = []
        for c in path:
            if c == "/":
                answers.append(self._accepts(states))
            following: set[tuple[int, bool]] = set()
            for state, inside in states:
                if state == end:
                    continue
                kind, arg = tokens[state]
                if kind == _CHAR:
                    if c == arg:
                        following.add((state + 1, False))
                elif kind == _ANY_ONE:
                    if c != "/":
                        following.add((state + 1, False))
                elif kind == _CLASS:
                    if c != "/" and arg(c):
                        following.add((state + 1, False))
                elif kind == _STAR:
                    if c != "/":
                        following.add((state, False))
                elif kind == _GLOBSTAR:
                    following.add((state, False))
                elif kind == _DIRS:  # (?:.*/)?: any run that ends with a slash
                    following.add((state, True))
                    if c == "/":
                        following.add((state + 1, False))
                elif kind == _BELOW and (inside or c == "/"):  # /.*: a slash, then anything
                    following.add((state, True))
            states = set()
            for state, inside in following:
                states.add((state, inside))
                if not inside or tokens[state][0] != _DIRS:
                    for extra in self._closure({state}) - {state}:
                        states.add((extra, False))
            if not states:
                break
        else:
            answers.append(self._accepts(states))
            return answers
        # Nothing can match from here: every later prefix answers no.
        return answers + [False] * (path.count("/") + 1 - len(answers))

    def _accepts(self, states: set[tuple[int, bool]]) -> bool:
        end = len(self.tokens)
        for state, inside in states:
            if state == end:
                return True
            if state == end - 1 and self.tokens[state][0] == _BELOW and inside:
                return True
        return False


def _strip_trailing_spaces(pattern: str) -> str:
    """git drops trailing spaces unless the last one is escaped with a backslash."""
    stripped = pattern.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(pattern):
        return stripped + " "
    return stripped


def _char_class(body: str) -> Callable[[str], bool]:
    negated = body.startswith(("!", "^"))
    if negated:
        body = body[1:]
    ranges, i = [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            ranges.append((body[i], body[i + 2]))
            i += 3
        else:
            ranges.append((body[i], body[i]))
            i += 1
    return lambda c: any(low <= c <= high for low, high in ranges) != negated


def compile_globs(patterns: Iterable[str]) -> Matcher:
    """A matcher ``(relative_posix_path, is_folder) -> excluded``."""
    compiled = [_Glob(p) for p in patterns if p and not p.startswith("#")]

    def excluded(path: str, is_dir: bool) -> bool:
        depth = path.count("/") + 1
        verdicts: list[bool | None] = [None] * depth  # per prefix: folder, ..., the path
        for glob in compiled:
            answers = glob.match_prefixes(path)
            for level, matched in enumerate(answers):
                last = level == depth - 1
                if matched and not (glob.dir_only and last and not is_dir):
                    verdicts[level] = not glob.negated
        # An excluded folder hides all below it, whatever a later pattern says.
        if any(verdicts[:-1]):
            return True
        return bool(verdicts[-1])

    return excluded

"""Run-length folding of repeated fixed-size units.

A sequence is cut from its start into units of ``k`` items (the last piece
may be shorter).  Each run of equal consecutive units is written as the run
length followed by the unit; a unit that occurs once gets no count.  Over
every ``k`` the shortest rendering wins, ties going to the smallest ``k``.

Units always start at the beginning of the sequence, so this is not a
general shortest-encoding search: ``"xababcdcdababcdcd"`` cannot be cut as
``x / ababcdcd / ababcdcd`` and stays uncompressed.  :func:`fold_runs` is that
search: each run picks its own unit size and may start at any token, so a
one-off token before a repeated stretch does not shift every unit after it.

Characters are just tokens of length 1, so strings and token sequences share
one folding core (``_runs`` / ``_best``).  The compact reporter uses the token
form to fold consecutive findings whose (rule, path-shape) units repeat, and
runs of objects of one kind; :func:`fold_paths` names each folder of a list of
paths once, then its files.

Cost: one candidate ``k`` is one left-to-right pass comparing slices, with
lengths summed as integers from a prefix-sum table; nothing is rendered until
the winning ``k`` is known.  The ``n / k`` Python-level steps per ``k`` add
up to about ``n ln n`` over all candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Generic, TypeVar

__all__ = [
    "Folded", "Run", "compress", "compressed_length", "expand", "fold", "fold_paths", "fold_runs",
    "render",
]

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Run(Generic[T]):
    """``count`` consecutive copies of ``unit`` (``count == 1`` is written bare)."""

    count: int
    unit: tuple[T, ...]


@dataclass(frozen=True)
class Folded(Generic[T]):
    """The shortest folding of a token sequence.

    ``unit_size`` is the chosen ``k``.  It is 0 for empty input, where no
    unit was ever cut.  When nothing can be shortened by folding, the
    whole sequence is reported as one run with ``unit_size == len(tokens)``;
    every ``k`` above ``len(tokens) // 2`` renders to that same length
    because nothing can repeat, so that ``k`` stands for all of them.
    """

    runs: tuple[Run[T], ...]
    unit_size: int
    length: int


def _str_len(token: object) -> int:
    """Default token width: the length of the token as ``str`` renders it."""
    return len(str(token))


def _count_len(count: int) -> int:
    """A count of 1 is not written; 10 or more takes several digits."""
    return len(str(count)) if count > 1 else 0


def _runs(seq: Sequence[Any], k: int) -> Iterator[tuple[int, int, int]]:
    """Yield ``(count, start, stop)`` for each run of ``seq`` cut into units of ``k``.

    ``seq[start:stop]`` is the run's unit, so callers can measure a run in
    O(1) from prefix sums or render it, and share this one scan.
    """
    n = len(seq)
    i = 0
    while i < n:
        stop = i + k
        unit = seq[i:stop]
        j = stop
        # Past the end the slice is empty or short, so it never equals a
        # unit and the loop needs no bounds check.
        while seq[j : j + k] == unit:
            j += k
        yield (j - i) // k, i, min(stop, n)
        i = j


def _best(seq: Sequence[Any], prefix: Sequence[int], max_unit: int | None = None) -> tuple[int, int]:
    """Return ``(k, length)`` of the shortest folding; ``(0, 0)`` for empty input.

    ``prefix[i]`` is the total width of ``seq[:i]``; ``max_unit`` bounds the candidate
    ``k`` (all of them when None).
    """
    n = len(seq)
    if n == 0:
        return 0, 0
    best_k, best_len = n, prefix[n]  # k = n: a single unfolded unit
    top = n // 2 if max_unit is None else min(n // 2, max_unit)
    # Descending so that ``<=`` leaves the smallest k among equal lengths.
    for k in range(top, 0, -1):
        length = 0
        for count, start, stop in _runs(seq, k):
            length += _count_len(count) + prefix[stop] - prefix[start]
        if length <= best_len:
            best_k, best_len = k, length
    return best_k, best_len


def compressed_length(s: str) -> int:
    """Length of the shortest unit-folding of ``s`` (0 for ``""``)."""
    # A character is 1 wide, so the prefix table of widths is just a range.
    return _best(s, range(len(s) + 1))[1]


def compress(s: str) -> str:
    """The shortest unit-folding of ``s``, ties broken by the smallest unit size.

    ``len(compress(s)) == compressed_length(s)`` always holds.
    """
    k, _ = _best(s, range(len(s) + 1))
    return "".join(
        f"{count}{s[start:stop]}" if count > 1 else s[start:stop]
        for count, start, stop in _runs(s, k)
    )


def fold(
    tokens: Sequence[T],
    token_length: Callable[[T], int] = _str_len,
    max_unit: int | None = None,
) -> Folded[T]:
    """Fold ``tokens`` like :func:`compress` folds characters.

    ``token_length`` gives each token's rendered width (called once per
    token); the reporter passes the length of a finding's rendered line.
    A run's width is its count's digits (none for 1) plus its unit's widths.
    ``max_unit`` bounds the unit size: every candidate costs a pass over the
    tokens, and a report of many thousands of findings needs no unit of
    thousands, so the reporter keeps its cost linear in the findings.
    """
    # A tuple so that slices, and hence run units, are tuples.
    items = tuple(tokens)
    prefix = list(accumulate(map(token_length, items), initial=0))
    k, length = _best(items, prefix, max_unit)
    runs = tuple(Run(count, items[start:stop]) for count, start, stop in _runs(items, k))
    return Folded(runs=runs, unit_size=k, length=length)


def fold_runs(
    tokens: Sequence[T],
    token_length: Callable[[T], int] = _str_len,
    max_unit: int | None = None,
) -> tuple[Run[T], ...]:
    """The shortest folding of ``tokens`` into runs that may start anywhere.

    Where :func:`fold` cuts the whole sequence into units of one size from its first
    token, here each run has its own unit (of at most ``max_unit`` tokens) and starts
    wherever it is worth it; tokens in no run stay as they are, gathered into runs of
    count 1.  Widths are counted as in :func:`fold` (a count's digits, then the unit's
    token widths), so ``render`` of the result is never longer than ``render(fold(...))``
    and ``expand`` gives ``tokens`` back.  On equal lengths a run wins over leaving
    tokens as they are (``"aa"`` is ``2a``, as :func:`compress` writes it).

    A dynamic programme over positions, from the end: for each start and unit size, the
    longest stretch of copies is known from one pass per size.  Two kinds of candidates
    are skipped because another is never longer: a unit that is itself a smaller unit
    repeated (the smaller unit's run covers the same tokens for at most one more digit
    and a shorter unit), and a run shorter than its stretch by more copies than the
    next run could share with it (``max_unit // k + 1`` for units of ``k``).  So the
    cost stays about ``n * max_unit`` comparisons, whatever repeats.
    """
    items = tuple(tokens)
    n = len(items)
    widths = list(map(token_length, items))
    prefix = list(accumulate(widths, initial=0))
    top = n // 2 if max_unit is None else min(n // 2, max_unit)
    # same[k][j]: how many tokens from j on equal the token k places further.
    same: list[list[int]] = [[]]
    for k in range(1, top + 1):
        run = [0] * (n + 1)
        for j in range(n - k - 1, -1, -1):
            if items[j] == items[j + k]:
                run[j] = run[j + 1] + 1
        same.append(run)
    divisors = [[d for d in range(1, k) if k % d == 0] for k in range(top + 1)]
    best = [0] * (n + 1)
    choice = [(0, 0)] * (n + 1)  # (unit size, count) of the first run; (0, 0): a bare token
    for i in range(n - 1, -1, -1):
        cost, pick = best[i + 1] + widths[i], (0, 0)
        for k in range(1, top + 1):
            copies = 1 + same[k][i] // k
            if copies < 2 or any(same[d][i] >= k - d for d in divisors[k]):
                continue
            unit = prefix[i + k] - prefix[i]
            for count in range(copies, max(1, copies - top // k - 1), -1):
                length = _count_len(count) + unit + best[i + count * k]
                if length < cost or (length == cost and pick == (0, 0)):
                    cost, pick = length, (k, count)
        best[i], choice[i] = cost, pick
    runs: list[Run[T]] = []
    loose: list[T] = []
    i = 0
    while i < n:
        k, count = choice[i]
        if not k:
            loose.append(items[i])
            i += 1
            continue
        if loose:
            runs.append(Run(1, tuple(loose)))
            loose = []
        runs.append(Run(count, items[i:i + k]))
        i += count * k
    if loose:
        runs.append(Run(1, tuple(loose)))
    return tuple(runs)


def _runs_of(folded: Folded[T] | Iterable[Run[T]]) -> Iterable[Run[T]]:
    return folded.runs if isinstance(folded, Folded) else folded


def expand(folded: Folded[T] | Iterable[Run[T]]) -> list[T]:
    """Undo :func:`fold`: the original token sequence, from a ``Folded`` or its runs."""
    out: list[T] = []
    for run in _runs_of(folded):
        out.extend(run.unit * run.count)
    return out


def render(
    folded: Folded[T] | Iterable[Run[T]], token_str: Callable[[T], str] = str
) -> str:
    """Write runs the way :func:`compress` writes them: count (if > 1), then the unit.

    Its length equals ``folded.length`` when ``len(token_str(t))`` matches the
    ``token_length`` given to :func:`fold`, as it does for both defaults.
    """
    return "".join(
        (str(run.count) if run.count > 1 else "") + "".join(map(token_str, run.unit))
        for run in _runs_of(folded)
    )


def fold_paths(paths: Iterable[str], sep: str = "/") -> list[tuple[str, list[str]]]:
    """Each folder once, then the names of its files: ``[("deploy/", ["a.yaml", "b.yaml"])]``.

    A path's folder is everything up to and including its last ``sep`` (``""`` for a bare
    name), so ``folder + name`` is the path again.  Folders come in the order they first
    appear and names keep their order, so a sorted list stays sorted inside each folder;
    a path given twice is named once.  Folders are grouped, not only run-folded: a folder
    whose files are interleaved with a subfolder's (``a/x``, ``a/b/y``, ``a/z``) is still
    named once.
    """
    folders: dict[str, list[str]] = {}
    for path in dict.fromkeys(paths):
        cut = path.rfind(sep) + 1
        folders.setdefault(path[:cut], []).append(path[cut:])
    return list(folders.items())

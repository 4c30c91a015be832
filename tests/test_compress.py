"""Tests for k8slint.compress, checked against a literal brute force."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from functools import cache
from itertools import groupby
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8slint.compress import (
    Folded,
    Run,
    compress,
    compressed_length,
    expand,
    fold,
    fold_paths,
    fold_runs,
    render,
)

EXAMPLES = [
    ("aabbaccc", 7, "2a2ba3c"),
    ("ababcdcdababcdcd", 9, "2ababcdcd"),
    ("abcabcdede", 8, "2abcdede"),
    ("abcabcabcabcdededededede", 14, "2abcabc2dedede"),
    ("xababcdcdababcdcd", 17, "xababcdcdababcdcd"),
]


def brute_encodings(s: str) -> list[str]:
    """The literal encoding for every k in 1..len(s), index k-1."""
    encodings = []
    for k in range(1, len(s) + 1):
        units = [s[i : i + k] for i in range(0, len(s), k)]
        parts = []
        for unit, group in groupby(units):
            count = len(list(group))
            parts.append((str(count) if count > 1 else "") + unit)
        encodings.append("".join(parts))
    return encodings


def brute_compress(s: str) -> str:
    # min() keeps the first of equal lengths, i.e. the smallest k.
    return min(brute_encodings(s), key=len, default="")


def brute_token_fold(
    tokens: Sequence[Any], width: Callable[[Any], int]
) -> tuple[int, int, list[tuple[int, tuple[Any, ...]]]]:
    """(length, k, runs) of the best k in 1..len(tokens), smallest k on ties."""
    best: tuple[int, int, list[tuple[int, tuple[Any, ...]]]] | None = None
    for k in range(1, len(tokens) + 1):
        units = [tuple(tokens[i : i + k]) for i in range(0, len(tokens), k)]
        runs = [(len(list(g)), unit) for unit, g in groupby(units)]
        length = sum(
            (len(str(c)) if c > 1 else 0) + sum(width(t) for t in unit) for c, unit in runs
        )
        if best is None or length < best[0]:
            best = (length, k, runs)
    return best if best is not None else (0, 0, [])


def decode(encoded: str, k: int) -> str:
    """Invert compress() for a digit-free source, given the unit size it used."""
    out = []
    i = 0
    while i < len(encoded):
        j = i
        while j < len(encoded) and encoded[j].isdigit():
            j += 1
        count = int(encoded[i:j]) if j > i else 1
        out.append(encoded[j : j + k] * count)
        i = j + k
    return "".join(out)


@pytest.mark.parametrize(("s", "length", "encoded"), EXAMPLES)
def test_spec_examples(s: str, length: int, encoded: str) -> None:
    assert compressed_length(s) == length
    assert compress(s) == encoded


@pytest.mark.parametrize(
    ("s", "encoded"),
    [("a" * 10, "10a"), ("a" * 100, "100a"), ("ab" * 10, "10ab"), ("a" * 9 + "b", "9ab")],
)
def test_multi_digit_counts(s: str, encoded: str) -> None:
    assert compress(s) == encoded
    assert compressed_length(s) == len(encoded)


@pytest.mark.parametrize("s", ["", "a", "z", "7"])
def test_trivial_strings(s: str) -> None:
    assert compressed_length(s) == len(s)
    assert compress(s) == s


def test_equal_length_tie_goes_to_smallest_k() -> None:
    # k=1 gives "2a", as long as leaving "aa" unfolded.
    assert compress("aa") == "2a"


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet="abc", max_size=40))
def test_string_matches_brute_force(s: str) -> None:
    encoded = compress(s)
    assert compressed_length(s) == len(brute_compress(s))
    assert len(encoded) == compressed_length(s)
    assert encoded == brute_compress(s)
    folded = fold(s)
    assert render(folded) == encoded
    assert decode(encoded, folded.unit_size) == s


@settings(deadline=None, max_examples=200)
@given(st.text(alphabet="ab01", max_size=30))
def test_digits_in_input_keep_lengths_consistent(s: str) -> None:
    assert len(compress(s)) == compressed_length(s) == len(brute_compress(s))


def _line(token: tuple[str, str]) -> int:
    return len(f"{token[0]}: {token[1]}")


def test_containers_times_rules_fold_to_one_run() -> None:
    path = "spec.template.spec.containers[*]"
    unit = (("missing-prestop-hook", path), ("no-resource-limits", path))
    folded = fold(list(unit) * 6, _line)
    assert folded.runs == (Run(6, unit),)
    assert folded.unit_size == 2
    assert folded.length == 1 + _line(unit[0]) + _line(unit[1])
    assert expand(folded) == list(unit) * 6
    assert expand(folded.runs) == list(unit) * 6


def test_fold_empty_and_single() -> None:
    assert fold([]) == Folded(runs=(), unit_size=0, length=0)
    assert expand(fold([])) == []
    assert fold([42]) == Folded(runs=(Run(1, (42,)),), unit_size=1, length=2)


def test_fold_unfoldable_is_one_run() -> None:
    tokens = ["abc", "de", "f", "gh"]
    folded = fold(tokens)
    assert folded.length == 8
    assert expand(folded) == tokens


def test_zero_width_tokens_are_left_unfolded() -> None:
    # A count costs a digit but a zero-width unit saves nothing, so k = n wins.
    folded = fold(["", "", ""])
    assert folded == Folded(runs=(Run(1, ("", "", "")),), unit_size=3, length=0)


def test_render_counts_then_units() -> None:
    folded = fold(["ab", "ab", "ab", "c"])
    assert folded.runs == (Run(3, ("ab",)), Run(1, ("c",)))
    assert render(folded) == "3abc"
    assert render(folded, token_str=lambda t: f"<{t}>") == "3<ab><c>"


def test_results_are_frozen() -> None:
    folded = fold([1, 1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        folded.length = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        folded.runs[0].count = 3  # type: ignore[misc]


small_tokens = st.one_of(
    st.integers(min_value=0, max_value=2),
    st.tuples(st.sampled_from("ab"), st.integers(min_value=0, max_value=1)),
)


@settings(deadline=None, max_examples=300)
@given(st.lists(small_tokens, max_size=30))
def test_fold_round_trips_and_is_minimal(tokens: list[Any]) -> None:
    folded = fold(tokens)
    assert expand(folded) == tokens
    length, k, runs = brute_token_fold(tokens, lambda t: len(str(t)))
    assert folded.length == length
    assert folded.unit_size == k
    assert [(r.count, r.unit) for r in folded.runs] == runs
    assert len(render(folded)) == folded.length


@settings(deadline=None, max_examples=300)
@given(
    st.lists(st.sampled_from(["x", "yy", "zzzzzzzzzzzz"]), max_size=30),
)
def test_fold_custom_width_is_minimal(tokens: list[str]) -> None:
    def width(t: str) -> int:
        return 3 * len(t)

    folded = fold(tokens, width)
    assert expand(folded) == tokens
    length, k, _ = brute_token_fold(tokens, width)
    assert (folded.length, folded.unit_size) == (length, k)


# --- fold_runs: runs that start anywhere -------------------------------------------


def brute_runs_length(
    tokens: Sequence[Any], width: Callable[[Any], int], max_unit: int | None = None
) -> int:
    """The shortest rendering over every cut into bare tokens and runs of any count."""
    n = len(tokens)
    top = n // 2 if max_unit is None else min(n // 2, max_unit)

    @cache
    def best(i: int) -> int:
        if i == n:
            return 0
        shortest = width(tokens[i]) + best(i + 1)
        for k in range(1, top + 1):
            unit = tuple(tokens[i : i + k])
            count = 1
            while tuple(tokens[i + count * k : i + (count + 1) * k]) == unit and len(unit) == k:
                count += 1
                shortest = min(shortest, len(str(count)) + sum(map(width, unit)) + best(i + count * k))
        return shortest

    return best(0)


def test_runs_start_where_the_repeats_start() -> None:
    # fold() must start its units at "x" and finds nothing; fold_runs leaves "x" bare.
    assert render(fold_runs("xababcdcdababcdcd")) == "x2ababcdcd"
    assert render(fold("xababcdcdababcdcd")) == "xababcdcdababcdcd"
    # Each run has its own unit size.
    assert render(fold_runs("abcabcabcabcdededededede")) == "4abc6de"


def test_runs_keep_a_one_off_token_out_of_the_units() -> None:
    # A finding before the per-container pairs: the pairs stay pairs.
    tokens = ["replicas"] + ["pull", "hook"] * 6
    assert fold_runs(tokens) == (Run(1, ("replicas",)), Run(6, ("pull", "hook")))


@pytest.mark.parametrize(("s", "encoded"), [("", ""), ("a", "a"), ("aa", "2a"), ("ab", "ab"),
                                             ("a" * 12, "12a"), ("aabbaccc", "2a2ba3c")])
def test_runs_small_cases(s: str, encoded: str) -> None:
    assert render(fold_runs(s)) == encoded
    assert "".join(expand(fold_runs(s))) == s


@settings(deadline=None, max_examples=400)
@given(st.text(alphabet="abc", max_size=36), st.one_of(st.none(), st.integers(1, 6)))
def test_runs_are_shortest_and_round_trip(s: str, max_unit: int | None) -> None:
    runs = fold_runs(s, max_unit=max_unit)
    assert "".join(expand(runs)) == s
    assert len(render(runs)) == brute_runs_length(s, len, max_unit)
    assert len(render(runs)) <= fold(s, max_unit=max_unit).length
    assert all(run.count > 1 or run is runs[-1] or runs[runs.index(run) + 1].count > 1
               for run in runs)  # bare tokens are gathered between runs


@settings(deadline=None, max_examples=200)
@given(st.lists(st.sampled_from(["x", "yy", "zzzzzzzzzzzz"]), max_size=30))
def test_runs_with_custom_widths_are_shortest(tokens: list[str]) -> None:
    def width(t: str) -> int:
        return 3 * len(t)

    runs = fold_runs(tokens, width)
    assert expand(runs) == tokens
    assert sum((len(str(r.count)) if r.count > 1 else 0) + sum(map(width, r.unit)) for r in runs) \
        == brute_runs_length(tokens, width)


def test_runs_stay_linear_on_long_repeats() -> None:
    import time

    start = time.perf_counter()
    assert fold_runs(["k"] * 20000, max_unit=32) == (Run(20000, ("k",)),)
    assert fold_runs(["a", "b"] * 10000, max_unit=32) == (Run(10000, ("a", "b")),)
    assert time.perf_counter() - start < 5


# --- fold_paths: each folder once -------------------------------------------------------


def test_fold_paths_names_each_folder_once() -> None:
    paths = ["a/x.yaml", "a/b/y.yaml", "a/z.yaml", "top.yaml", "a/x.yaml", "/etc/k.yaml"]
    assert fold_paths(paths) == [
        ("a/", ["x.yaml", "z.yaml"]),
        ("a/b/", ["y.yaml"]),
        ("", ["top.yaml"]),
        ("/etc/", ["k.yaml"]),
    ]
    assert fold_paths([]) == []


@given(st.lists(st.text(alphabet="ab/", max_size=8)))
def test_fold_paths_gives_every_path_back(paths: list[str]) -> None:
    folded = fold_paths(paths)
    assert [folder + name for folder, names in folded for name in names] == sorted(
        dict.fromkeys(paths), key=lambda p: [f for f, _ in folded].index(p[: p.rfind("/") + 1])
    )
    assert len({folder for folder, _ in folded}) == len(folded)
    assert all("/" not in name for _, names in folded for name in names)

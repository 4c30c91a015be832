"""API versions the target Kubernetes release no longer serves, or soon will not."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

from ..findings import Violation
from ..rule import View, object_rule
from ..versions import parse_version, shown, target

DATA = Path(__file__).resolve().parent.parent / "data" / "removed-apis.csv"


class Retirement(NamedTuple):
    deprecated_in: tuple[int, int] | None
    removed_in: tuple[int, int]
    replacement: str


@cache
def retirements() -> dict[tuple[str, str], Retirement]:
    """(apiVersion, kind) -> when it was deprecated and removed, and what replaces it."""
    table = {}
    with DATA.open(newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            deprecated = parse_version(row["deprecated_in"]) if row["deprecated_in"] else None
            table[(row["apiVersion"], row["kind"])] = Retirement(
                deprecated, parse_version(row["removed_in"]), row["replacement"])
    return table


def _target(view: View) -> tuple[int, int]:
    """The release judged against: the run's (session.run_version folds this rule's legacy
    kubernetesVersion param into it), else the newest release known."""
    return target(view.settings.kubernetes_version)


def _instead(retired: Retirement, kind: str) -> str:
    if retired.replacement:
        return f"use apiVersion: {retired.replacement}"
    return f"{kind} has no replacement API: remove it (and migrate to what replaced the feature)"


@object_rule("removed-api-version", kinds=None)
def removed_api_version(view: View) -> Iterator[Violation]:
    obj = view.obj
    retired = retirements().get((obj.api_version, obj.kind))
    target = _target(view)
    if retired is None or target < retired.removed_in:
        return
    yield Violation(("apiVersion",), (
        f"{obj.api_version} {obj.kind} was removed in Kubernetes {shown(retired.removed_in)}: "
        f"the API server of {shown(target)} rejects it, so an upgrade breaks every apply of "
        f"this file; {_instead(retired, obj.kind)}"
    ))


@object_rule("deprecated-api-version", kinds=None)
def deprecated_api_version(view: View) -> Iterator[Violation]:
    obj = view.obj
    retired = retirements().get((obj.api_version, obj.kind))
    target = _target(view)
    if retired is None or retired.deprecated_in is None:
        return
    if not (retired.deprecated_in <= target < retired.removed_in):
        return
    yield Violation(("apiVersion",), (
        f"{obj.api_version} {obj.kind} is deprecated since Kubernetes "
        f"{shown(retired.deprecated_in)} and removed in {shown(retired.removed_in)}: the "
        f"upgrade to {shown(retired.removed_in)} will reject it; {_instead(retired, obj.kind)}"
    ))

"""The Kubernetes releases k8slint knows, and the one a run targets.

One target for every feature (schemas, removed and deprecated APIs): the newest release
the shipped schema data covers, unless ``--kubernetes-version`` or the config's
``kubernetesVersion`` names another inside the range. ``scripts/generate_schemas.py``
writes the data for exactly this range (a test holds the two together).
"""

from __future__ import annotations

import re
from functools import cache

Version = tuple[int, int]

OLDEST: Version = (1, 28)
NEWEST: Version = (1, 37)

_FORM = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?")


def parse_version(text: str) -> Version:
    """``1.29`` (or ``v1.29``, ``1.29.3``) to ``(1, 29)``."""
    match = _FORM.fullmatch(str(text).strip())
    if match is None:
        raise ValueError(f"expected a Kubernetes release such as 1.29, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def shown(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def supported_range() -> str:
    return f"{shown(OLDEST)} to {shown(NEWEST)}"


def supported(text: str) -> Version:
    """The release ``text`` names, if k8slint ships data for it; else ValueError saying
    which releases it knows."""
    version = parse_version(text)
    if not OLDEST <= version <= NEWEST:
        raise ValueError(f"Kubernetes {shown(version)} is outside the releases k8slint knows "
                         f"({supported_range()})")
    return version


@cache
def target(given: str | None) -> Version:
    """The release a run checks against: the one given, else the newest known."""
    return parse_version(given) if given else NEWEST

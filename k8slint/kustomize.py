"""Kustomize patches are fragments, not objects: a patch that sets only a container's
resources would otherwise be reported for every field it leaves to its base. The files a
kustomization lists as resources (its bases) are whole objects, except that labels
kustomize adds may become their selectors (``commonLabels``, ``labels`` with
``includeSelectors``), so a base may leave a workload's selector to its kustomization.

A file is a patch when a kustomization in its folder or above (up to the folder the run
was started in) names it under ``patches``, ``patchesStrategicMerge`` or
``patchesJson6902``, and lies inside that kustomization's folder tree (kustomize itself
refuses paths outside its root). Any other file a kustomization names is linted as a plain
manifest: a kustomization cannot hide a file it does not own. Kustomizations are read with
the manifests' own bounded, tag-free loader.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from .discover import is_within
from .loader import DecodeProblem, decode, load_text

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class Roles(NamedTuple):
    patches: set[str]  # fragments: linted only through a build
    bases: set[str]  # resources of a kustomization: whole objects, selectors may be added


def kustomize_roles(real_paths: Iterable[str], top: Path, max_size: int) -> Roles:
    """The files among ``real_paths`` (resolved already) that a kustomization in their
    folder or above names as patches or as resources; kustomizations over ``max_size``
    bytes are not read."""
    roles = Roles(set(), set())
    for folder in kustomization_folders(real_paths, top):
        patches, bases = _named_in(folder, max_size)
        roles.patches.update(patches)
        roles.bases.update(bases)
    return roles


def kustomization_folders(real_paths: Iterable[str], top: Path) -> list[str]:
    """The folders holding a kustomization among the files' folders and their parents, up
    to ``top`` (or each file's own folder when it lies outside ``top``), each once."""
    found: list[str] = []
    seen: set[str] = set()
    top_real = str(top.resolve())
    for real in real_paths:
        folder = os.path.dirname(real)
        stop = top_real if is_within(folder, top_real) else folder
        while folder not in seen:
            seen.add(folder)
            if _kustomization_in(folder) is not None:
                found.append(folder)
            parent = os.path.dirname(folder)
            if folder == stop or parent == folder:
                break
            folder = parent
    return sorted(found)


def _kustomization_in(folder: str) -> str | None:
    for name in KUSTOMIZATION_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _named_in(folder: str, max_size: int) -> tuple[set[str], set[str]]:
    path = _kustomization_in(folder)
    if path is None:
        return set(), set()
    try:
        if os.stat(path).st_size > max_size:
            return set(), set()  # linted as a file of its own, which reports its size
        with open(path, "rb") as stream:
            raw = stream.read(max_size + 1)
        if len(raw) > max_size:
            return set(), set()
        loaded = load_text(decode(raw))
    except (OSError, DecodeProblem):
        return set(), set()  # a broken kustomization is linted as a file of its own
    data = loaded.documents[0].data if loaded.documents else None
    if loaded.problem is not None or not isinstance(data, dict):
        return set(), set()
    named: list[str] = []
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        entries = data.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, str):
                named.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
                named.append(entry["path"])
    resources = data.get("resources")
    listed = [e for e in resources if isinstance(e, str)] if isinstance(resources, list) else []
    return _inside(folder, named), _inside(folder, listed)  # folder: a real path already


def _inside(root: str, entries: list[str]) -> set[str]:
    """The entries' real paths that lie inside ``root`` (kustomize refuses others)."""
    inside = root.rstrip(os.sep) + os.sep
    found = set()
    for entry in entries:
        if "\n" in entry or "\0" in entry:
            continue
        real = os.path.realpath(os.path.join(root, entry))
        if real.startswith(inside):
            found.add(real)
    return found

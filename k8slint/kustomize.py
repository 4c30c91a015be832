"""Kustomize patches are fragments, not objects: a patch that sets only a container's
resources would otherwise be reported for every field it leaves to its base.

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

from .loader import DecodeProblem, decode, load_text

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def patch_files(real_paths: Iterable[str], top: Path, max_size: int) -> set[str]:
    """The files among ``real_paths`` (resolved already) that a kustomization names as
    patches; kustomizations over ``max_size`` bytes are not read."""
    found: set[str] = set()
    seen: set[Path] = set()
    top = top.resolve()
    for real in real_paths:
        folder = Path(real).parent
        stop = top if folder.is_relative_to(top) else folder
        while folder not in seen:
            seen.add(folder)
            found.update(_patches_named_in(folder, max_size))
            if folder == stop or folder.parent == folder:
                break
            folder = folder.parent
    return found


def _patches_named_in(folder: Path, max_size: int) -> set[str]:
    for name in KUSTOMIZATION_NAMES:
        path = folder / name
        if path.is_file():
            break
    else:
        return set()
    try:
        if path.stat().st_size > max_size:
            return set()  # linted as a file of its own, which reports its size
        with path.open("rb") as stream:
            raw = stream.read(max_size + 1)
        if len(raw) > max_size:
            return set()
        loaded = load_text(decode(raw))
    except (OSError, DecodeProblem):
        return set()  # a broken kustomization is linted as a file of its own
    data = loaded.documents[0].data if loaded.documents else None
    if loaded.problem is not None or not isinstance(data, dict):
        return set()
    named: list[str] = []
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        entries = data.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, str):
                named.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
                named.append(entry["path"])
    root = os.path.realpath(folder)
    inside = root.rstrip(os.sep) + os.sep
    patches = set()
    for entry in named:
        if "\n" in entry or "\0" in entry:
            continue
        real = os.path.realpath(os.path.join(root, entry))
        if real.startswith(inside):
            patches.add(real)
    return patches

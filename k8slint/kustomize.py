"""Kustomize patches are fragments, not objects: a patch that sets only a container's
resources would otherwise be reported for every field it leaves to its base.

A file is a patch when a kustomization in its folder or above (up to the folder the run
was started in) names it under ``patches``, ``patchesStrategicMerge`` or
``patchesJson6902``. Such files are counted and left out of the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import yaml

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def patch_files(real_paths: Iterable[str], top: Path) -> set[str]:
    """The files among ``real_paths`` (resolved already) that a kustomization names as patches."""
    found: set[str] = set()
    seen: set[Path] = set()
    top = top.resolve()
    for real in real_paths:
        folder = Path(real).parent
        stop = top if folder.is_relative_to(top) else folder
        while folder not in seen:
            seen.add(folder)
            found.update(_patches_named_in(folder))
            if folder == stop or folder.parent == folder:
                break
            folder = folder.parent
    return found


def _patches_named_in(folder: Path) -> set[str]:
    for name in KUSTOMIZATION_NAMES:
        path = folder / name
        if path.is_file():
            break
    else:
        return set()
    try:
        data = yaml.load(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError, ValueError):
        return set()  # a broken kustomization is linted as a file of its own
    if not isinstance(data, dict):
        return set()
    named: list[str] = []
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        entries = data.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, str):
                named.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
                named.append(entry["path"])
    return {os.path.realpath(folder / entry) for entry in named if "\n" not in entry and "\0" not in entry}

"""The ``k8slint`` command (``python -m k8slint`` too): its entry point, importing nothing.

The cyclic collector is paused before the command line's modules load (click and k8slint's
own, all of which live to the end: it would find nothing to free in them, and it runs
every few hundred allocations while they load); ``cli.main`` keeps it paused while a
command runs, as the lint itself always did (``session.lint_run``).
"""

from __future__ import annotations

import gc


def run() -> None:
    gc.disable()
    from .cli import entry

    entry()

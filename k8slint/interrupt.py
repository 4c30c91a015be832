"""SIGTERM and SIGHUP end a run as Ctrl-C does: workers stopped, no half-written report.

The handler raises :class:`Terminated` at once, which unwinds the run from wherever the main
thread waits. A raise can land where Python swallows exceptions (a fork handler, a
finalizer), so the signal is also remembered, and the run checks for it between files.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

_pending: int | None = None
stopped = False  # a run ended by Ctrl-C or a signal: the process may exit at once


class Terminated(BaseException):
    """The run was asked to stop by a signal; the exit code is 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    global _pending
    _pending = signum
    raise Terminated(signum)


def check() -> None:
    """Raise :class:`Terminated` if a signal arrived and its first raise was swallowed."""
    if _pending is not None:
        raise Terminated(_pending)


def install() -> Callable[[], None]:
    """Handle SIGTERM and SIGHUP; returns a function that restores the previous handlers."""
    global _pending
    _pending = None
    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is None:
            continue
        try:
            previous[signum] = signal.signal(signum, _on_signal)
        except ValueError:  # not the main thread (an embedding program): leave signals be
            pass

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore

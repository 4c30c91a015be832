"""A progress bar on stderr for long runs on a terminal; silent everywhere else."""

from __future__ import annotations

import sys
import time

MIN_FILES = 200  # fewer files finish before a bar would be read
_INTERVAL = 0.1


def wanted(files: int) -> bool:
    """Only for a person watching: both streams on a terminal, and enough files."""
    return (files >= MIN_FILES and sys.stdout is not None and sys.stderr is not None
            and sys.stdout.isatty() and sys.stderr.isatty())


class ProgressBar:
    def __init__(self, total: int, width: int = 30):
        self.total = total
        self.width = width
        self._last = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done < self.total and now - self._last < _INTERVAL:
            return
        self._last = now
        filled = self.width * done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{self.total} files")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\r" + " " * (self.width + 30) + "\r")
        sys.stderr.flush()

"""Writing reports and baselines where the user asked, and nowhere else.

A repository k8slint lints may not be trusted, and it can plant links where a report is
about to go (``report.sarif -> ~/.bashrc``) or a temporary name beside it. So:

- a path that names a stream (``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``), a FIFO or a
  character device is written directly, as a shell redirection would;
- a regular file (or a new one) is replaced atomically: the text goes to a temporary file
  created exclusively, under an unpredictable name, in the target's folder, which then
  replaces the target, so a failed run never leaves a truncated report behind;
- a link (in the name or in a folder above it) is followed only to a FIFO, a character
  device, or a regular file inside the working folder; any other link is refused;
- nothing that is not a regular file (a folder, a socket, a block device) is replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile

_STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}


class WriteRefused(OSError):
    """A path k8slint will not write to; its message says why, in one line."""


def write_text(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` by the rules above; raises OSError with a reason."""
    data = text.encode("utf-8", "backslashreplace")
    stream = _stream_fd(path)
    if stream is not None:
        import sys

        for open_stream in (sys.stdout, sys.stderr):
            try:
                open_stream.flush()  # what was printed before stays before
            except (OSError, ValueError):
                pass
        _write_all(stream, data)
        return
    absolute = os.path.abspath(path)
    real = os.path.realpath(absolute)
    try:
        info = os.stat(real)
    except FileNotFoundError:
        info = None
    if info is not None and (stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode)):
        _write_directly(real, data)
        return
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise WriteRefused(f"{path} is not a regular file; not replaced")
    if real != absolute and not _inside(real, os.path.realpath(os.getcwd())):
        raise WriteRefused(
            f"{path} leads through a link to {real}, outside the working folder; not written "
            f"(name the target itself if that is where the report belongs)"
        )
    _replace_atomically(real, data)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _stream_fd(path: str) -> int | None:
    """The open descriptor a stream name stands for: written to as it is, never reopened
    (reopening a redirected file would write from its start)."""
    if path in _STREAMS:
        return _STREAMS[path]
    if path.startswith("/dev/fd/") and path[len("/dev/fd/"):].isdigit():
        return int(path[len("/dev/fd/"):])
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_directly(path: str, data: bytes) -> None:
    # O_NONBLOCK is not used: a FIFO with no reader waits for one, as a shell would.
    fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _replace_atomically(target: str, data: bytes) -> None:
    folder = os.path.dirname(target)
    name = os.path.basename(target)
    # mkstemp opens with O_CREAT | O_EXCL and a random name: nothing planted can be followed.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".k8slint-tmp")
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would, not mkstemp's 0600
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise  # a signal arrives here as an exception too (see cli.main): nothing is left

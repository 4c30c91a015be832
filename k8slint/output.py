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

from .discover import is_within

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
    cwd = os.path.realpath(os.getcwd())
    through_link = real != absolute
    if through_link and not is_within(real, cwd):
        raise WriteRefused(
            f"{path} leads through a link to {real}, outside the working folder; not written "
            f"(name the target itself if that is where the report belongs)"
        )
    _replace_atomically(real, data, confine=cwd if through_link or is_within(real, cwd) else None)


def replace_file(real: str, data: bytes, *, confine: str, mode: int) -> None:
    """Replace the regular file ``real`` (a resolved path inside ``confine``) with ``data``,
    atomically, keeping its permission bits: how ``k8slint fix`` writes a manifest."""
    if not is_within(real, confine):
        raise WriteRefused(f"{real} is outside {confine}; not written")
    _replace_atomically(real, data, confine=confine, mode=mode)


def _stream_fd(path: str) -> int | None:
    """The open descriptor a stream name stands for: written to as it is, never reopened
    (reopening a redirected file would write from its start)."""
    if path in _STREAMS:
        return _STREAMS[path]
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        if path.startswith(prefix) and path[len(prefix):].isdigit():
            return int(path[len(prefix):])
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


def _replace_atomically(target: str, data: bytes, confine: str | None = None,
                        mode: int | None = None) -> None:
    """Replace ``target`` (a resolved path) with ``data``. The folder is opened once and
    everything after happens relative to that open folder, so a link swapped into the path
    meanwhile cannot redirect the write; ``confine``: the folder it must still lie in."""
    import secrets

    folder = os.path.dirname(target)
    name = os.path.basename(target)
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if confine is not None and not is_within(_fd_path(dir_fd, folder), confine):
            raise WriteRefused(f"{target}: its folder moved out of the working folder; not written")
        tmp = f".{name}.{secrets.token_hex(8)}.k8slint-tmp"
        # O_EXCL with O_NOFOLLOW and a random name: nothing planted can be followed.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=dir_fd)
        try:
            try:
                if mode is not None:
                    os.fchmod(fd, mode)
                _write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass
            raise  # a signal arrives here as an exception too (see interrupt.py): nothing is left
    finally:
        os.close(dir_fd)


def _fd_path(fd: int, fallback: str) -> str:
    """The real path of an open folder (Linux tells; elsewhere, the path it was opened by)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(fallback)

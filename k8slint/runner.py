"""Lint many files: one process for a few files, a pool of workers for many.

Only findings and counts come back from a file; its text and nodes are dropped once it
is linted, so memory stays flat however large the repository is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from . import interrupt
from .engine import DEFAULT_MAX_FILE_SIZE, Engine, FileResult, Source
from .render import UNIT_ROLES, RenderSettings
from .rule import Settings

if TYPE_CHECKING:  # imported when a pool is started, not by every run
    from concurrent.futures import ProcessPoolExecutor

    from .custom import CustomRule

# What each worker builds its engine from: severities, params, max_file_size, settings, the
# config's custom rules as plain data (each worker compiles their schemas once), and
# only_groups (see Engine), and how charts and build roots are rendered.
EngineArgs = tuple[dict[str, str], dict[str, dict] | None, int, Settings, tuple["CustomRule", ...],
                   frozenset[str] | None, RenderSettings]

WORKER_RECURSION_LIMIT = 4000

# Below this much input a pool costs more to start than it saves.
PARALLEL_MIN_BYTES = 512 * 1024
PARALLEL_MIN_FILES_PER_JOB = 4


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


class WorkerDied(Exception):
    """A worker process ended without its results (killed, out of memory)."""


def lint_all(
    sources: list[Source],
    severities: dict[str, str],
    jobs: int,
    progress: Callable[[int], None] | None = None,
    params: dict[str, dict] | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    settings: Settings | None = None,
    custom_rules: Sequence[CustomRule] = (),
    only_groups: frozenset[str] | None = None,
    render: RenderSettings | None = None,
) -> Iterator[FileResult]:
    """Results for every source, in no particular order; ``progress(n)`` after each file.
    ``only_groups``: judge only the objects of these API groups (see Engine)."""
    sizes = {source: _size(source) for source in sources}
    parallel = (
        jobs > 1
        and len(sources) >= jobs * PARALLEL_MIN_FILES_PER_JOB
        and sum(sizes.values()) >= PARALLEL_MIN_BYTES
        and all(source.path is not None for source in sources)
    )
    engine_args: EngineArgs = (severities, params, max_file_size, settings or Settings(),
                               tuple(custom_rules), only_groups, render or RenderSettings())
    if parallel:
        pool = _start_pool(jobs, engine_args)
        if pool is not None:
            # Largest files first, so that no worker is left with a big one at the end.
            ordered = sorted(sources, key=sizes.__getitem__, reverse=True)
            yield from _in_pool(pool, ordered, progress)
            return
    engine = Engine(severities, params, max_file_size=max_file_size, settings=settings,
                    custom_rules=custom_rules, only_groups=only_groups, render=render)
    for done, source in enumerate(sources, start=1):
        interrupt.check()
        yield engine.lint_source(source)
        if progress:
            progress(done)


# A chart or build root is rendered by an external engine: it goes to a worker first,
# as the largest file would, so that no worker waits on one at the end.
UNIT_SIZE = 1 << 40


def _size(source: Source) -> int:
    if source.role in UNIT_ROLES:
        return UNIT_SIZE
    if source.path is None:
        return 0
    try:
        return source.path.stat().st_size
    except OSError:
        return 0


_worker_engine: Engine | None = None


def _start_worker(severities: dict[str, str], params: dict[str, dict] | None, max_file_size: int,
                  settings: Settings, custom_rules: tuple[CustomRule, ...],
                  only_groups: frozenset[str] | None, render: RenderSettings) -> None:
    global _worker_engine
    import signal

    # A result travels back pickled, and pickling recurses once per level of nesting: a
    # CRD's schema may nest as deep as the loader allows (1,000 levels), past Python's
    # default limit. The walks over such data stop far sooner (the schema walk at 200).
    sys.setrecursionlimit(max(sys.getrecursionlimit(), WORKER_RECURSION_LIMIT))

    # The parent's handlers turn SIGTERM and SIGHUP into an exception; here they must
    # simply end the worker, which is how the parent stops its pool.
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)
    _worker_engine = Engine(severities, params, max_file_size=max_file_size, settings=settings,
                            custom_rules=custom_rules, only_groups=only_groups, render=render)


def _lint_in_worker(source: Source) -> FileResult:
    assert _worker_engine is not None
    return _worker_engine.lint_source(source)


def _start_pool(jobs: int, engine_args: EngineArgs) -> ProcessPoolExecutor | None:
    """A pool of workers, or None where this system cannot make one (no semaphores):
    then the files are linted in this process, before any result has been given out."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # (Where workers are spawned, their arguments are pickled here: see _start_worker.)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), WORKER_RECURSION_LIMIT))

    method = "fork" if sys.platform.startswith("linux") else None
    try:
        return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method),
                                   initializer=_start_worker, initargs=engine_args)
    except (OSError, NotImplementedError, ImportError):
        return None


def _in_pool(pool: ProcessPoolExecutor, sources: list[Source],
             progress: Callable[[int], None] | None) -> Iterator[FileResult]:
    from concurrent.futures.process import BrokenProcessPool

    try:
        for done, result in enumerate(pool.map(_lint_in_worker, sources, chunksize=2), 1):
            interrupt.check()
            yield result
            if progress:
                progress(done)
    except BrokenProcessPool:
        # A dead worker takes its files' results with it: say so, never wait for them.
        _stop_workers(pool)
        raise WorkerDied("a worker process died (out of memory, or killed); run again "
                         "with --jobs 1 to lint in one process") from None
    except BaseException:
        # Ctrl-C, SIGTERM, SIGHUP, or a reader that went away: stop the workers now, or
        # they would keep running (and keep standard output open) after this exits; and
        # never wait for the pool's own threads, which may wait on a worker just stopped.
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now. The pool's own threads are not waited for (they may wait on
    a worker just stopped) and may not speak: the run is ending."""
    import threading

    threading.excepthook = lambda args: None
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        try:
            process.terminate()
        except (OSError, ValueError):
            pass
    for process in processes:
        process.join(timeout=5)

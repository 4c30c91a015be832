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
        # This process is one of the jobs: it lints too, between handing out work and
        # taking results, so that N jobs are N busy processes, not N workers and a parent
        # that competes with them for the cores. A run this large meets most kinds: the
        # rules' modules are imported once, here, not again in each worker after the fork.
        own = _engine(engine_args)
        own.import_rules()
        pool = _start_pool(jobs - 1, engine_args)
        if pool is not None:
            # Largest files first, so that no worker is left with a big one at the end.
            ordered = sorted(sources, key=sizes.__getitem__, reverse=True)
            chunks = _chunks(ordered, sizes, jobs)
            yield from _in_pool(pool, jobs - 1, chunks, own, progress)
            return
    engine = _engine(engine_args)
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
        return os.stat(source.path).st_size
    except OSError:
        return 0


def _engine(args: EngineArgs) -> Engine:
    severities, params, max_file_size, settings, custom_rules, only_groups, render = args
    return Engine(severities, params, max_file_size=max_file_size, settings=settings,
                  custom_rules=custom_rules, only_groups=only_groups, render=render)


# Work is handed out in chunks of about this share of the input, so that a worker's round
# trip (its call sent, its results pickled back and read) is paid per chunk, not per file;
# never more files than CHUNK_MAX_FILES, so that no chunk holds the others up at the end.
CHUNKS_PER_JOB = 24
CHUNK_MAX_FILES = 24


def _chunks(ordered: list[Source], sizes: dict[Source, int], jobs: int) -> list[list[Source]]:
    """``ordered`` (largest first) cut into chunks: a large file or a unit alone, small files
    together, each chunk about the same share of the bytes."""
    total = sum(min(size, PARALLEL_MIN_BYTES) if size >= UNIT_SIZE else size
                for size in sizes.values())
    share = max(1, total // (jobs * CHUNKS_PER_JOB))
    chunks: list[list[Source]] = []
    chunk: list[Source] = []
    held = 0
    for source in ordered:
        chunk.append(source)
        held += sizes[source]
        if held >= share or len(chunk) >= CHUNK_MAX_FILES:
            chunks.append(chunk)
            chunk, held = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


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
    # The parent imported every module linting needs before it forked this worker (the
    # engine's, the rules', the loader's): nothing is imported again here.
    _worker_engine = _engine((severities, params, max_file_size, settings, custom_rules,
                              only_groups, render))


def _lint_chunk(chunk: list[Source]) -> list[FileResult]:
    """A chunk's results, each without its source: the parent has it already, and it need
    not travel back (see _in_pool)."""
    assert _worker_engine is not None
    results = [_worker_engine.lint_source(source) for source in chunk]
    for result in results:
        result.source = None
    return results


def _start_pool(jobs: int, engine_args: EngineArgs) -> ProcessPoolExecutor | None:
    """A pool of ``jobs`` workers, or None where this system cannot make one (no
    semaphores): then the files are linted in this process, before any result has been
    given out."""
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


# Chunks handed to each worker ahead of the one it is linting, so that it never waits for
# this process to finish a file of its own before it gets more.
QUEUED_PER_WORKER = 2


def _in_pool(pool: ProcessPoolExecutor, workers: int, chunks: list[list[Source]], engine: Engine,
             progress: Callable[[int], None] | None) -> Iterator[FileResult]:
    """The workers take chunks from the front (the largest files), this process lints
    single files from the back (the smallest) while they work, and gives out each result
    as it comes."""
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, wait
    from concurrent.futures.process import BrokenProcessPool

    todo = deque(chunks)
    own: deque[Source] = deque()  # the chunk this process is linting, from its end
    pending: dict[Future, list[Source]] = {}
    done = 0
    try:
        while todo or own or pending:
            while todo and len(pending) < workers * QUEUED_PER_WORKER:
                chunk = todo.popleft()
                pending[pool.submit(_lint_chunk, chunk)] = chunk
            finished = [future for future in pending if future.done()]
            if not finished and not (todo or own):
                finished = list(wait(pending, return_when=FIRST_COMPLETED).done)
            for future in finished:
                chunk = pending.pop(future)
                for source, result in zip(chunk, future.result(), strict=True):
                    result.source = source
                    interrupt.check()
                    done += 1
                    yield result
                    if progress:
                        progress(done)
            if not own and todo:
                own.extend(todo.pop())
            if own:
                interrupt.check()
                result = engine.lint_source(own.pop())
                done += 1
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

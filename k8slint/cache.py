"""The result cache: what linting one source gave, remembered by everything it depends on.

A source's result (findings, cross-object facts, suppressions, counts, CRDs: a
``FileResult``) depends only on the source and the run's settings, so a rerun on unchanged
files reads it back instead of linting again. The cross-object rules, suppressions and the
baseline run on every run, over the results whether linted or read back: they are cheap,
and they depend on the whole run rather than on one file. The re-check of custom resources
against the run's CRDs is kept under the source's key and the CRDs of its groups; a SARIF
report's fix replacements under the file's bytes and its fixes.

An entry is named by a digest (BLAKE2b) of its key:
- the run: k8slint's version and the files of the installed package (names, sizes and
  modification times, so that an edited checkout never reads its old results), the
  Python and PyYAML versions, the effective severities, params and custom rules, the
  size limit and the target Kubernetes release;
- the source: its path as reports show it and as it was given, its role (plain file,
  kustomization base, chart, build root), whether it is context, named or walked;
- a file's bytes, read once (the same read that is hashed is never trusted on its
  modification time alone);
- a chart: every file of its folder (path and bytes), its values files (path and bytes),
  release and namespace, and the Helm engine (the binary's path, size and modification
  time, or the SDK's files); a build root: every file its build reads (path and bytes)
  and the kustomize or kubectl binary the same way.

Entries are plain data (JSON and the CRD schemas' text, never pickle: cache_format.py),
checked field by field when read; one that is corrupt, truncated, of another format or
named for another key is ignored, and the source linted and written again. Writes go to
a temporary file in the cache's folder, then ``os.replace``: concurrent runs see a whole
entry or none. Results with errors (a file that could not be read, an internal error) and
failed renders (a timeout, a missing dependency may pass next time) are not kept.

The cache lives in the user's cache folder (``$XDG_CACHE_HOME/k8slint/results``, else
``~/.cache/k8slint/results``), never inside what is linted unless named with
``--cache-dir``. It keeps at most ``MAX_ENTRIES`` entries and ``MAX_BYTES`` bytes: a run
that wrote entries cleans it now and then (least recently used first; a read refreshes
an entry's time at most once per ``TOUCH_AFTER``). See docs/cache.md.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import __version__
from .render import BUILD, CHART, UNIT_ROLES, RenderSettings

if TYPE_CHECKING:
    from .custom import CustomRule
    from .engine import FileResult, Source
    from .fixer import Planned, Replacement
    from .rule import Settings
    from .schemas import CrdVersion
    from .session import CustomFile

try:  # the C module alone: hashlib loads OpenSSL, which a one-file run should not pay for
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import blake2b

FORMAT = "k8slint-result-cache"
FORMAT_VERSION = 2
SUBFOLDER = ("k8slint", "results")
MAX_ENTRIES = 100_000
MAX_BYTES = 512 << 20
CLEAN_TO = 0.9  # a cleaning leaves this share of each bound, so that it is not needed at once
CLEAN_INTERVAL = 3600.0  # seconds between two cleanings, unless a run wrote many entries
TOUCH_AFTER = 3600.0  # a read marks an entry used when its time is older than this
STALE_TEMP = 3600.0  # a temporary file this old was left by a run that died
MAX_INPUT = 64 << 20  # a render input larger than this: the unit is not cached
_NAME_LENGTH = 32  # hex digits of an entry's name (BLAKE2b, 16 bytes)
_MARKER = ".last-clean"

Lint = Callable[..., Iterator["FileResult"]]


class _Seen(NamedTuple):
    """A file as it was when its bytes were hashed: if it changed before its result is
    stored (linting reads it again), the result is not stored under the old bytes."""

    path: str
    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


class _Key(NamedTuple):
    name: str  # the entry's file name: the key's digest in hex
    seen: _Seen | None


def default_folder(scanned: Iterable[str]) -> tuple[Path | None, str | None]:
    """The user's cache folder for results, or None and why not: a relative path (``HOME``
    unset), or one inside the working folder or a folder the run reads (a cache there
    would be written into what is linted, or planted by it)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None, "no absolute user cache folder (set XDG_CACHE_HOME or HOME)"
    folder = os.path.join(os.path.realpath(base), *SUBFOLDER)
    for tree in (os.getcwd(), *scanned):
        real = os.path.realpath(tree)
        if folder == real or folder.startswith(real.rstrip(os.sep) + os.sep):
            return None, (f"the user cache folder {folder} lies inside {tree}, which is linted; "
                          f"name a cache folder with --cache-dir to use one there")
    return Path(folder), None


def run_digest(severities: dict[str, str], params: dict[str, dict], max_file_size: int,
               settings: Settings, custom_rules: Sequence[CustomRule]) -> bytes:
    """What every result of a run depends on, as one digest."""
    from .partial import PartialError, encode

    def plain(value: Any) -> Any:
        try:
            return encode(value)
        except PartialError:  # a value the partial format cannot hold: its repr, still exact
            return repr(value)

    digest = blake2b(digest_size=16)
    parts: list[Any] = [
        FORMAT, FORMAT_VERSION, __version__, _package_fingerprint(), list(sys.version_info[:3]),
        _yaml_version(), sorted(severities.items()), plain(params), max_file_size,
        plain(tuple(settings)), plain(tuple(custom_rules)),
    ]
    digest.update(json.dumps(parts, sort_keys=True, default=repr).encode("utf-8", "surrogatepass"))
    return digest.digest()


def _package_fingerprint() -> list:
    """k8slint's own files by name, size and modification time: a changed rule in a
    source checkout (same version number) must not read the results of the old one."""
    from .catalog import rules_dir

    root = os.path.dirname(os.path.abspath(__file__))
    found = _folder_files(root, skip=(".pyc", ".pyo"))
    rules = rules_dir()
    if rules.is_dir() and not str(rules).startswith(root + os.sep):
        found += _folder_files(str(rules))
    return found


def _yaml_version() -> str:
    import yaml

    return f"{yaml.__version__} {getattr(yaml, '__with_libyaml__', False)}"


class ResultCache:
    """One run's view of the cache folder: look results up, store new ones, clean."""

    def __init__(self, folder: Path, run: bytes, render: RenderSettings,
                 inputs: dict[str, frozenset[str]], max_file_size: int,
                 max_entries: int | None = None, max_bytes: int | None = None):
        self.folder = folder
        self.run = run
        self.render = render._replace(temp=None)  # the run's temporary folder changes nothing
        self.inputs = inputs  # build root -> every local file its build reads (render.Plan)
        self.max_file_size = max_file_size
        self.max_entries = MAX_ENTRIES if max_entries is None else max_entries
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        self.hits = 0
        self.written = 0
        self._engines: dict[str, Any] = {}
        self._ready = False
        self._keys: dict[Source, _Key] = {}  # the sources this run looked up, by their key

    # --- the run's side ------------------------------------------------------------------

    def lint(self, lint: Lint, sources: list[Source],
             progress: Callable[[int], None] | None = None) -> Iterator[FileResult]:
        """Every source's result: read back where an entry holds it, else from ``lint``
        (``runner.lint_all`` with the run's settings), and then stored."""
        pending: dict[Source, _Key] = {}
        misses: list[Source] = []
        hits = 0
        for source in sources:
            key = self.key(source)
            if key is not None:
                self._keys[source] = key
            found = self.read(key.name, source) if key is not None else None
            if found is None:
                misses.append(source)
                if key is not None:
                    pending[source] = key
                continue
            hits += 1
            if progress:
                progress(hits)
            yield found
        self.hits += hits
        if misses:
            step = (lambda done: progress(hits + done)) if progress else None
            for result in lint(misses, progress=step):
                key = pending.get(result.source) if result.source is not None else None
                if key is not None:
                    self.store(key, result)
                yield result
        if self.written:
            self.clean()

    def lint_again(self, lint: Lint, results: Sequence[CustomFile | FileResult],
                   crds: Sequence[CrdVersion]) -> Iterator[FileResult]:
        """The re-check of custom resources against the run's CRDs (``lint``: the schema
        rules, judging only the groups the CRDs define), for the results this run looked
        up: kept under the source's own key and the CRDs of the groups its objects use, so
        that an edited CRD re-checks only the resources of its group."""
        groups: dict[str, bytes] = {}  # a group -> the digest of its CRDs
        for crd in crds:
            before = groups.get(crd.group) or blake2b(digest_size=16).digest()
            step = blake2b(before, digest_size=16)
            step.update(repr((crd.version, crd.kind, crd.preserve_unknown, crd.source))
                        .encode("utf-8", "backslashreplace"))
            if crd.schema is not None:
                text = crd.schema.encode("utf-8", "surrogatepass")
                step.update(len(text).to_bytes(8, "big"))
                step.update(text)
            groups[crd.group] = step.digest()
        keys: dict[Source, _Key] = {}
        misses: list[Source] = []
        for result in results:
            source = result.source
            if source is None:
                continue
            own = self._keys.get(source)
            if own is None:
                misses.append(source)
                continue
            digest = blake2b(self.run, digest_size=16)
            digest.update(f"\0CRD re-check\0{own.name}".encode("ascii"))
            for group in sorted(result.custom_groups & groups.keys()):
                digest.update(f"\0{group}\0".encode("utf-8", "backslashreplace"))
                digest.update(groups[group])
            key = _Key(digest.hexdigest(), own.seen)
            found = self.read(key.name, source)
            if found is None:
                keys[source] = key
                misses.append(source)
            else:
                self.hits += 1
                yield found
        if misses:
            written = self.written
            for result in lint(misses):
                kept = keys.get(result.source) if result.source is not None else None
                if kept is not None:
                    self.store(kept, result)
                yield result
            if self.written > written:
                self.clean()

    def key(self, source: Source) -> _Key | None:
        """The entry a source's result is kept under; None when it is not kept (standard
        input, a file too large or not regular, one that cannot be read)."""
        if source.path is None or source.data is not None:
            return None
        digest = blake2b(self.run, digest_size=16)
        identity = (source.role, source.context, source.walked, source.display, source.exact)
        digest.update(repr(identity).encode("utf-8", "backslashreplace"))
        if source.role in UNIT_ROLES:
            return self._unit_key(digest, source)
        try:
            fd = os.open(source.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > self.max_file_size:
                return None
            raw = _read_all(fd, self.max_file_size + 1, info.st_size + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        if len(raw) > self.max_file_size:
            return None
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)
        seen = _Seen(str(source.path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns,
                     info.st_ctime_ns)
        return _Key(digest.hexdigest(), seen)

    def _unit_key(self, digest: Any, source: Source) -> _Key | None:
        real = source.real
        if real is None:
            return None
        if source.role == CHART:
            from .helm import chart_files

            chart = self.render.chart(real)
            settings: list[Any] = [chart.release, chart.namespace, self._engine(CHART)]
            files = sorted(chart_files(real))
            extra = list(chart.values)  # values files, wherever they are
        elif source.role == BUILD:
            if real not in self.inputs:
                return None
            settings = [self._engine(BUILD)]
            files = sorted(self.inputs[real])
            extra = []
        else:
            return None
        digest.update(json.dumps(settings, default=repr).encode("utf-8", "surrogatepass"))
        for group, paths in (("in", files), ("values", extra)):
            for path in paths:
                shown = os.path.relpath(path, real) if group == "in" else path
                raw = _input_bytes(path)
                if raw is None:
                    return None
                digest.update(f"\0{group}\0{shown}\0{len(raw)}\0".encode("utf-8", "surrogateescape"))
                digest.update(raw)
        return _Key(digest.hexdigest(), None)

    def _engine(self, role: str) -> Any:
        """What renders a chart or builds a root, as cheaply as it can be told apart:
        the binary's path, size and modification time (no subprocess is run)."""
        if role not in self._engines:
            if role == CHART:
                from .helm import _sdk_folder, helm_engine

                engine = helm_engine()
                if engine == "helm":
                    self._engines[role] = ["helm", _binary("helm")]
                else:
                    folder = _sdk_folder()
                    package = os.path.join(folder, "helm_python") if folder else None
                    self._engines[role] = [engine, _folder_files(package) if package else None]
            else:
                from .kbuild import kustomize_command

                command = kustomize_command()
                self._engines[role] = [command, _binary(command[0]) if command else None]
        return self._engines[role]

    def read(self, name: str, source: Source) -> FileResult | None:
        """The result an entry holds, when it is whole and of this key; else None."""
        from .cache_format import EntryError, load_result

        path = os.path.join(self.folder, name)
        found = _regular(path, self.max_bytes)  # (no entry is larger than the whole cache)
        if found is None:
            return None
        try:
            head, result = load_result(found[0])
        except (EntryError, RecursionError, TypeError):
            return None
        if (head.get("format") != FORMAT or head.get("version") != FORMAT_VERSION
                or head.get("key") != name or result.context != source.context):
            return None
        _touch(path, found[1])
        result.source = source
        if result.unit is not None:  # no engine ran this time
            result.unit = result.unit._replace(seconds=0.0)
        return result

    def store(self, key: _Key, result: FileResult) -> None:
        """Keep a result, unless it holds errors, its render failed, or the file changed
        since its bytes were hashed."""
        if result.errors or (result.unit is not None and result.unit.failed):
            return
        if key.seen is not None and not _unchanged(key.seen):
            return
        from .cache_format import EntryError, dump_result

        try:
            data = dump_result(result, {"format": FORMAT, "version": FORMAT_VERSION, "key": key.name})
        except (EntryError, RecursionError, TypeError, ValueError):  # not kept, then
            return
        if not self._prepare():
            return
        if _write(os.path.join(self.folder, key.name), data):
            self.written += 1

    def replacements(self, raw: bytes, planned: Sequence[Planned], json_file: bool,
                     compute: Callable[[], list[list[Replacement] | None]],
                     ) -> list[list[Replacement] | None]:
        """A file's fixes as SARIF replacements (``fixer.fix_replacements``: two parses of
        the file), kept under a digest of its bytes and of the fixes, so that the SARIF of
        an unchanged repository does not parse every fixable file twice again."""
        from .partial import PartialError, encode

        try:
            fixes = json.dumps(encode([[list(p.unit), p.fix] for p in planned]), sort_keys=True)
        except (PartialError, TypeError, ValueError):
            return compute()
        digest = blake2b(self.run, digest_size=16)
        digest.update(b"\0fix replacements\0" + (b"json" if json_file else b"yaml") + b"\0")
        digest.update(fixes.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(raw)
        name = digest.hexdigest()
        found = self._read_replacements(name, len(planned))
        if found is not None:
            return found
        value = compute()
        data = {"format": FORMAT, "version": FORMAT_VERSION, "key": name, "replacements": [
            None if each is None else [list(r) for r in each] for each in value]}
        if self._prepare() and _write(os.path.join(self.folder, name),
                                      json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")):
            self.written += 1
        return value

    def _read_replacements(self, name: str, count: int) -> list[list[Replacement] | None] | None:
        """The replacements an entry holds for ``count`` fixes, when it is whole, of this
        key, and every replacement in it well formed; else None."""
        from .fixer import Replacement

        path = os.path.join(self.folder, name)
        found = _regular(path, MAX_INPUT)
        if found is None:
            return None
        try:
            data = json.loads(found[0])
        except (ValueError, RecursionError):
            return None
        if (not isinstance(data, dict) or data.get("format") != FORMAT
                or data.get("version") != FORMAT_VERSION or data.get("key") != name):
            return None
        kept = data.get("replacements")
        if not isinstance(kept, list) or len(kept) != count:
            return None
        _touch(path, found[1])
        out: list[list[Replacement] | None] = []
        for each in kept:
            if each is None:
                out.append(None)
                continue
            if not isinstance(each, list) or not all(_replacement_row(r) for r in each):
                return None
            out.append([Replacement(*r) for r in each])
        return out

    def _prepare(self) -> bool:
        """The folder exists, tagged as a cache (backup tools and git leave it alone)."""
        if self._ready:
            return True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for name, text in (("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                "# This file is a cache tag created by k8slint (result cache).\n"),
                               (".gitignore", "# k8slint's result cache\n*\n")):
                if not os.path.exists(os.path.join(self.folder, name)):
                    _write(os.path.join(self.folder, name), text.encode("ascii"))
        except OSError:
            return False
        self._ready = True
        return True

    # --- cleaning ---------------------------------------------------------------------

    def clean(self, force: bool = False) -> None:
        """Drop the least recently used entries over the bounds, and temporary files a
        dead run left. Done when the last cleaning is older than ``CLEAN_INTERVAL`` or
        this run wrote a tenth of the entry bound: listing the folder costs a stat per
        entry, which a pre-commit run should not pay every time."""
        marker = os.path.join(self.folder, _MARKER)
        try:
            last = os.stat(marker).st_mtime
        except OSError:
            last = 0.0
        now = time.time()
        if not (force or now - last >= CLEAN_INTERVAL or self.written >= self.max_entries // 10):
            return
        _write(marker, b"")
        entries = []
        try:
            with os.scandir(self.folder) as listing:
                for item in listing:
                    try:
                        info = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if item.name.startswith(".tmp-"):
                        if now - info.st_mtime > STALE_TEMP:
                            _remove(item.path)
                    elif len(item.name) == _NAME_LENGTH and stat.S_ISREG(info.st_mode):
                        entries.append((info.st_mtime, info.st_size, item.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        if len(entries) <= self.max_entries and total <= self.max_bytes:
            return
        entries.sort()
        count = len(entries)
        keep_entries = int(self.max_entries * CLEAN_TO)
        keep_bytes = int(self.max_bytes * CLEAN_TO)
        for _, size, path in entries:
            if count <= keep_entries and total <= keep_bytes:
                break
            _remove(path)
            count -= 1
            total -= size


def _replacement_row(row: Any) -> bool:
    """[start line, start column, end line, end column, text]: positive whole numbers (no
    booleans), a start no later than the end, and text."""
    if not (isinstance(row, list) and len(row) == 5 and isinstance(row[4], str)):
        return False
    numbers = row[:4]
    if not all(type(n) is int and n >= 1 for n in numbers):
        return False
    return (numbers[0], numbers[1]) <= (numbers[2], numbers[3])


def _read_all(fd: int, limit: int, expected: int = 1 << 20) -> bytes:
    """A regular file's bytes up to ``limit``: first as many as ``expected`` (its size when
    opened, and one more, so that the buffer is the file's size and not a megabyte cut
    down), then to its end should it have grown."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        # At most a GiB a read: the kernel returns less than asked past about 2 GiB, which
        # must not be taken for the file's end.
        want = min(expected if not chunks else 1 << 20, limit - size, 1 << 30)
        chunk = os.read(fd, want)
        chunks.append(chunk)
        size += len(chunk)
        if len(chunk) < want:  # a regular file's end (a read gives less only there)
            break
    return b"".join(chunks)


def _input_bytes(path: str) -> bytes | None:
    found = _regular(path, MAX_INPUT)
    return None if found is None else found[0]


def _regular(path: str, limit: int) -> tuple[bytes, os.stat_result] | None:
    """A regular file's bytes and its status when opened, if it holds at most ``limit``
    bytes; None for anything else (a FIFO, a folder, a file that cannot be read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        raw = _read_all(fd, limit + 1, info.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return (raw, info) if len(raw) <= limit else None


def _touch(path: str, info: os.stat_result) -> None:
    """An entry read marked used (cleaned last), at most once per ``TOUCH_AFTER``."""
    if time.time() - info.st_mtime > TOUCH_AFTER:
        try:
            os.utime(path)
        except OSError:
            pass


def _binary(name: str) -> list | None:
    import shutil

    found = shutil.which(name)
    if found is None:
        return None
    real = os.path.realpath(found)
    try:
        info = os.stat(real)
    except OSError:
        return [real]
    return [real, info.st_size, info.st_mtime_ns]


def _folder_files(folder: str, skip: tuple[str, ...] = ()) -> list:
    """Every file below ``folder`` (``__pycache__`` left out): its path from there, size and
    modification time, in a stable order; ``skip``: name endings left out."""
    found = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if skip and name.endswith(skip):
                continue
            try:
                info = os.stat(os.path.join(current, name))
            except OSError:
                continue
            found.append([os.path.relpath(os.path.join(current, name), folder), info.st_size,
                          info.st_mtime_ns])
    return found


def _unchanged(seen: _Seen) -> bool:
    try:
        info = os.stat(seen.path)
    except OSError:
        return False
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns) == seen[1:]


def _write(path: str, data: bytes) -> bool:
    """``data`` into ``path`` whole or not at all: a temporary file beside it, then a rename."""
    folder = os.path.dirname(path)
    temp = os.path.join(folder, f".tmp-{os.getpid()}-{os.urandom(6).hex()}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temp, path)
    except OSError:
        _remove(temp)
        return False
    return True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

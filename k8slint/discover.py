"""Which files a run reads: paths named, manifests found below folders, what is left out.

- A file named on the command line is read whatever its name; in folders only ``*.yaml``,
  ``*.yml`` and ``*.json`` (any case) are.
- Links are followed, but no folder is entered twice and no file read twice.
- The config's ``exclude`` globs leave files out, whether named or found.
- Inside a git work tree, files git ignores are left out of folder walks (a file named on
  the command line is always read, and a file git tracks is never left out).
- FIFOs, sockets and devices are never opened: skipped in a walk, an error when named.

The walk is iterative, so a folder tree thousands of levels deep costs time in proportion
to its size, never a recursion error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from .globs import Matcher

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn"})
STDIN = "-"
STDIN_NAME = "<stdin>"


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit code 2."""


class Source(NamedTuple):
    display: str  # the path as reports show it (bytes that are not UTF-8 as U+FFFD)
    # None for standard input. Text, not a Path: a run holds every file's Source to its
    # end, and a Path keeps its parts besides (half a kilobyte a file).
    path: str | None
    context: bool = False  # read only for what cross-object rules need to see
    real: str | None = None  # the resolved path, found once while discovering
    walked: bool = False  # found in a folder (or passed by the pre-commit hook), not named
    exact: str = ""  # the path as given, undecodable bytes kept: what identity keys on
    data: bytes | None = None  # standard input, when it had to be read before linting
    role: str = ""  # what a kustomization makes of the file ("" a plain file; rule.py's roles)


class Exclusions(NamedTuple):
    """The config's exclude globs, relative to the config's folder."""

    matcher: Matcher
    base: Path

    def excluded(self, path: str | Path, is_dir: bool) -> bool:
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            try:
                relative = Path(candidate).relative_to(self.base)
            except ValueError:
                continue  # outside the config's folder (this way round): its globs do not reach
            return bool(relative.parts) and self.matcher("/".join(relative.parts), is_dir)
        return False


class Walk:
    """One discovery: what was found, and what was left out and why."""

    def __init__(self, exclusions: Exclusions | None = None, problems: list[str] | None = None,
                 gitignore: bool = True, named_walk_rules: bool = False):
        self.exclusions = exclusions
        self.problems = problems if problems is not None else []
        self.gitignore = gitignore
        self.named_walk_rules = named_walk_rules  # the hook's files follow the walk's rules
        self.ignored = 0  # files and folders git ignores, left out of folder walks
        self._seen_files: set[str] = set()
        self._seen_dirs: set[str] = set()
        self._git: dict[str, _GitIgnored | None] = {}  # work tree top -> what git ignores
        self.work_trees = WorkTrees()
        self.links_out = 0  # links in walked folders that lead out of the scanned tree

    def sources(self, args: Iterable[str]) -> Iterator[Source]:
        """Files named, and manifests found below folders named, in a stable order."""
        for arg in args:
            if arg == STDIN:
                yield Source(STDIN_NAME, None, exact=STDIN_NAME)
                continue
            path = Path(arg)
            try:
                mode = path.stat().st_mode
            except FileNotFoundError:
                raise UsageError(f"no such file or folder: {arg}") from None
            except OSError as exc:
                raise UsageError(f"cannot read {arg}: {exc.strerror}") from None
            if self._excluded(path, stat.S_ISDIR(mode)):
                continue
            if stat.S_ISDIR(mode):
                yield from self._walk(path)
            else:
                real = self._first_time(path)
                if real is not None:
                    yield _source(path, real, walked=self.named_walk_rules)

    def _excluded(self, path: str | Path, is_dir: bool) -> bool:
        return self.exclusions is not None and self.exclusions.excluded(path, is_dir)

    def _first_time(self, path: Path) -> str | None:
        """The resolved path, the first time a file is met; None after that."""
        real = os.path.realpath(path)
        if real in self._seen_files:
            return None
        self._seen_files.add(real)
        return real

    def _walk(self, top: Path) -> Iterator[Source]:
        top_real = os.path.realpath(top)
        gitignore = self.gitignore
        if gitignore:
            ignored_top = self._git_ignored(top_real)
            if ignored_top is not None and ignored_top.covers(top_real, True):
                gitignore = False  # a folder named on purpose is linted, ignored or not
        # Links may lead anywhere inside the scanned folder or its repository, never out:
        # a link to / in a repository must not make a hook read the whole machine.
        bounds = tuple(b for b in (top_real, self.work_trees.top(top_real)) if b)
        # Real paths are built one level at a time (only links are resolved), so a folder
        # tree thousands of levels deep costs time in proportion to its size.
        # Paths are kept as strings, as Path would write them (no "./" before a name).
        stack = [(os.fspath(top), top_real)]
        while stack:
            folder, real = stack.pop()
            if real in self._seen_dirs:
                continue
            self._seen_dirs.add(real)
            try:
                with os.scandir(folder) as entries:
                    listed = sorted(entries, key=lambda e: e.name)
            except OSError as exc:  # never skipped silently
                self.problems.append(f"cannot read folder {display(folder)}: {exc.strerror}")
                continue
            ignored = self._git_ignored(real) if gitignore else None
            subfolders = []
            for entry in listed:
                path = os.path.join(folder, entry.name) if folder != "." else entry.name
                try:
                    is_dir = entry.is_dir()  # follows links, as the walk does
                    is_link = entry.is_symlink()
                except OSError:
                    continue
                entry_real = os.path.realpath(path) if is_link else os.path.join(real, entry.name)
                if is_link and not any(is_within(entry_real, bound) for bound in bounds):
                    if os.path.exists(entry_real):  # (a dangling link reads nothing anyway)
                        self.links_out += 1
                    continue
                if is_dir:
                    if entry.name in SKIPPED_FOLDERS or self._excluded(path, True):
                        continue
                    if ignored is not None and ignored.covers(entry_real, True):
                        self.ignored += 1
                        continue
                    subfolders.append((path, entry_real))
                    continue
                if not entry.name.lower().endswith(MANIFEST_SUFFIXES) or self._excluded(path, False):
                    continue
                try:
                    if not stat.S_ISREG(entry.stat().st_mode):
                        continue  # a FIFO or device would block or never end
                except OSError:
                    continue  # a dangling link: nothing to read
                if ignored is not None and ignored.covers(entry_real, False):
                    self.ignored += 1
                    continue
                if entry_real in self._seen_files:
                    continue
                self._seen_files.add(entry_real)
                yield _source(path, entry_real, walked=True)
            stack.extend(reversed(subfolders))  # depth first, in name order

    def _git_ignored(self, real_folder: str) -> _GitIgnored | None:
        top = self.work_trees.top(real_folder)
        if top is None:
            return None
        if top not in self._git:
            self._git[top] = _GitIgnored.ask(top)
        return self._git[top]


class WorkTrees:
    """Which git work tree each folder lies in, each folder looked at once."""

    def __init__(self) -> None:
        self._tops: dict[str, str | None] = {}  # real folder -> its work tree's top

    def top(self, real_folder: str) -> str | None:
        """The nearest folder at or above ``real_folder`` that is a work tree (is_work_tree),
        remembered for every folder on the way."""
        climbed = []
        current = real_folder
        while current not in self._tops:
            climbed.append(current)
            if is_work_tree(current):
                found: str | None = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                found = None
                break
            current = parent
        else:
            found = self._tops[current]
        for folder in climbed:
            self._tops[folder] = found
        return found


def is_work_tree(folder: str | Path) -> bool:
    """``folder`` holds a git repository this user owns: a ``.git`` folder with a ``HEAD``,
    or a ``.git`` file naming one (a worktree, a submodule). An empty ``.git`` planted in
    a shared parent folder, or one another user owns, is not a repository root (git's own
    discovery passes over such a ``.git`` too). The config search and the walk's question
    to git both start from here."""
    marker = os.path.join(folder, ".git")
    try:
        info = os.lstat(marker)
    except OSError:
        return False
    if hasattr(os, "getuid") and info.st_uid not in (os.getuid(), 0):
        return False
    if os.path.isdir(marker):  # (a link to a folder counts, as git follows it)
        return os.path.isfile(os.path.join(marker, "HEAD"))
    try:
        fd = os.open(marker, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False  # a FIFO or a device named .git would block the run, or never end
        first = os.read(fd, 4096)
    except OSError:
        return False
    finally:
        os.close(fd)
    named = first[len(b"gitdir: "):].strip().splitlines() if first.startswith(b"gitdir: ") else []
    if not named:
        return False
    gitdir = os.path.join(folder, os.fsdecode(named[0]))  # (an absolute path stands alone)
    return os.path.isfile(os.path.join(gitdir, "HEAD"))


def is_within(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or lies below it (both absolute, normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _source(path: str | Path, real: str, walked: bool) -> Source:
    # One text where the names are alike (they are, but for bytes that are not UTF-8):
    # a run holds every file's Source to its end.
    exact_path = exact(path)
    shown = _shown(exact_path)
    shown = exact_path if shown == exact_path else shown
    return Source(shown, str(path), real=exact_path if real == exact_path else real,
                  walked=walked, exact=exact_path)


def discover(args: Iterable[str], exclusions: Exclusions | None = None,
             problems: list[str] | None = None, gitignore: bool = False) -> Iterator[Source]:
    """The files a run reads (see the module's docstring); ``gitignore`` asks git too."""
    return Walk(exclusions, problems, gitignore).sources(args)


def display(path: Path | str) -> str:
    """The path as reports show it; bytes that are not UTF-8 in a name show as U+FFFD."""
    return _shown(exact(path))


def _shown(exact_path: str) -> str:
    return exact_path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def exact(path: Path | str) -> str:
    """The normalised path with every byte kept (as surrogate escapes): two files whose
    names display alike stay two files."""
    return os.path.normpath(path).replace(os.sep, "/")


# --- what git ignores ----------------------------------------------------------------------

# A repository's own configuration must not run anything: no fsmonitor hook, no hooks at
# all, no pager, no untracked cache written into the repository.
_GIT_SAFETY = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
               "-c", "core.untrackedCache=false", "--no-pager")


class _GitIgnored:
    """The untracked files and folders git ignores in one work tree, asked once."""

    def __init__(self, top: str, files: set[str], folders: tuple[str, ...]):
        self.top = top
        self.files = files
        self.folders = folders  # each ends with "/"

    @classmethod
    def ask(cls, top: str) -> _GitIgnored | None:
        import subprocess

        command = ["git", *_GIT_SAFETY, "-C", top, "ls-files", "-z", "--others", "--ignored",
                   "--exclude-standard", "--directory"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env["GIT_TERMINAL_PROMPT"] = "0"
        try:
            done = subprocess.run(command, capture_output=True, env=env, timeout=60, check=False,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return None  # no git: nothing is known to be ignored
        if done.returncode != 0:
            return None  # not a work tree git accepts (another user's, say): lint it all
        files, folders = set(), []
        for entry in os.fsdecode(done.stdout).split("\0"):
            if not entry:
                continue
            absolute = os.path.join(top, entry)
            if entry.endswith("/"):
                folders.append(absolute)
            else:
                files.add(absolute)
        return cls(top, files, tuple(folders))

    def covers(self, real_path: str, is_dir: bool) -> bool:
        if is_dir and real_path + "/" in self.folders:
            return True
        return real_path in self.files or real_path.startswith(self.folders)

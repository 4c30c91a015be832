from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from k8slint.catalog import catalog
from k8slint.engine import Engine
from k8slint.findings import Finding

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
SHARED = Path(os.environ.get("K8SLINT_SHARED", REPO.parent / "shared"))
CORPUS = Path(os.environ.get("K8SLINT_CORPUS", SHARED / "corpus"))
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"


class Mark(NamedTuple):
    """One finding a fixture expects: its rule, line and column (1-based, as k8slint reports
    them). ``column`` is None for a mark written without one, which the fixture test rejects."""

    rule: str
    line: int
    column: int | None


# ``# expect: rule-a@9, rule-b@11`` (``// expect:`` in a JSON fixture), ending its line.
_EXPECT = re.compile(r"(?:#|//)\s*expect:(.*)$")
_EXPECT_ITEM = re.compile(r"\s*([a-z0-9-]+)(?:@([0-9]+))?\s*")


class MarkError(ValueError):
    """A mark that does not read as ``# expect: rule@column[, rule@column]...``."""


def expected_marks(path: Path) -> list[Mark]:
    """Every ``# expect: rule@column`` mark of a fixture, one per expected finding, in file
    order. Several on one line are separated by commas; a mark repeated on a line expects
    that finding twice."""
    marks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if not match:
            continue
        for item in match.group(1).split(","):
            parsed = _EXPECT_ITEM.fullmatch(item)
            if parsed is None or (parsed.group(2) is not None and int(parsed.group(2)) < 1):
                raise MarkError(f"{path}:{number}: {item.strip()!r} is not rule@column "
                                f"(a rule id, then @ and the 1-based column)")
            column = int(parsed.group(2)) if parsed.group(2) is not None else None
            marks.append(Mark(parsed.group(1), number, column))
    return marks


def fixture_cases() -> list[Path]:
    """Every fixture: a file of ``fixtures/<rule>/``, or a folder there (a Helm chart or a
    kustomization, linted as a whole, whose files carry the marks)."""
    return sorted(case for folder in FIXTURES.iterdir() if folder.is_dir() for case in folder.iterdir())


def case_files(case: Path) -> list[Path]:
    return [case] if case.is_file() else sorted(p for p in case.rglob("*") if p.is_file())


def directives(case: Path) -> Path:
    """The file whose first line holds a fixture's ``# fixture:`` directives: the fixture
    itself, or a folder fixture's Chart.yaml or kustomization.yaml."""
    if case.is_file():
        return case
    return next((case / name for name in ("Chart.yaml", "kustomization.yaml")
                 if (case / name).is_file()), case_files(case)[0])


_ALSO = re.compile(r"#\s*fixture:.*\balso-enable=([a-z0-9,-]+)")
_MAX_SIZE = re.compile(r"#\s*fixture:.*\bmax-file-size=(\d+)")
_PARAMS = re.compile(r"#\s*fixture:.*\bparams=([a-z0-9-]+)\.([A-Za-z0-9]+)=(\S+)")
_VERSION = re.compile(r"#\s*fixture:.*\bkubernetes-version=(\S+)")


def fixture_params(path: Path) -> dict:
    """``# fixture: params=rule.param=value`` on line 1: a rule parameter for the fixture."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    match = _PARAMS.search(first)
    return {match.group(1): {match.group(2): match.group(3)}} if match else {}


def also_enabled(path: Path) -> list[str]:
    """Rules a fixture needs besides its own: ``# fixture: also-enable=a,b`` on line 1."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    match = _ALSO.search(first)
    return match.group(1).split(",") if match else []


def fixture_max_file_size(path: Path) -> int | None:
    """``# fixture: max-file-size=N`` on line 1: the size limit the fixture runs with."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    match = _MAX_SIZE.search(first)
    return int(match.group(1)) if match else None


def fixture_kubernetes_version(path: Path) -> str | None:
    """``# fixture: kubernetes-version=1.N`` on line 1: the release the fixture targets."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    match = _VERSION.search(first)
    return match.group(1) if match else None


def lint(*paths: str | Path, rules: list[str] | None = None, params: dict | None = None,
         max_file_size: int | None = None, kubernetes_version: str | None = None) -> list[Finding]:
    """Findings of a whole run (suppressions applied) over paths, with only ``rules``
    enabled (every rule when None), sorted."""
    from k8slint.config import Config
    from k8slint.session import Options, run

    metas = catalog()
    wanted = set(rules if rules is not None else metas)
    severities = {r: (metas[r].severity if r in wanted else "off") for r in metas}
    options = Options(tuple(str(p) for p in paths), jobs=1, kubernetes_version=kubernetes_version)
    if max_file_size is not None:
        options = options._replace(max_file_size=max_file_size)
    outcome = run(options, Config(None, severities, params or {}))
    assert not outcome.problems, outcome.problems
    return outcome.summary.findings


def lint_text(text: str, name: str = "test.yaml", rules: list[str] | None = None) -> list[Finding]:
    metas = catalog()
    severities = {r: metas[r].severity for r in (rules if rules is not None else metas)}
    result = Engine(severities).lint_bytes(name, text.encode("utf-8"))
    assert not result.errors, result.errors
    return sorted(result.findings, key=lambda f: f.sort_key)


def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        if os.environ.get("K8SLINT_REQUIRE_CORPUS"):
            pytest.fail(f"the shared corpus is required here but missing: {CORPUS}")
        pytest.skip(f"the shared corpus is not beside this checkout: {CORPUS}")
    return CORPUS


def make_git_folder(folder: Path) -> None:
    """The smallest ``.git`` k8slint takes for a repository root: a folder with a HEAD
    (an empty ``.git`` is what a hostile parent folder could plant, and is refused)."""
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command line, in this process: (exit code, stdout, stderr)."""
    from k8slint.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err

"""The result cache: a warm run gives exactly the cold run's report, and each input of a
result invalidates that result and no other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from k8slint import cache as cache_module
from k8slint.cli import main
from k8slint.engine import Engine
from k8slint.kbuild import kustomize_command

from .helpers import FIXTURES, corpus_dir
from .test_shards import _tree

ENTRY_LENGTH = 32
# Linted on every run: the build root whose build fails (a failure is not kept).
EVERY_RUN = {"kustomize/failing"}


def again(linted: list[str]) -> set[str]:
    """What a run linted beyond what it lints every time."""
    return set(linted) - EVERY_RUN


@pytest.fixture(autouse=True)
def _plain_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "K8SLINT_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """The shards' tree (plain files with suppressions, a CRD and its resource, a chart,
    kustomize overlays where kubectl or kustomize is found), as the working folder."""
    root = _tree(tmp_path / "repo", kustomize=kustomize_command() is not None)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        yield root
    finally:
        os.chdir(cwd)


@pytest.fixture
def linted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the engine lints in this process (run with -j1), by path as reports show it."""
    seen: list[str] = []
    original = Engine.lint_source

    def spy(self: Engine, source: Any) -> Any:
        seen.append(source.display)
        return original(self, source)

    monkeypatch.setattr(Engine, "lint_source", spy)
    return seen


def check(out: Path, *args: str) -> tuple[int, dict, str]:
    """One run: exit code, JSON report (without engine timings), text report."""
    code = main(["check", "--format", "json", "--output", str(out.with_suffix(".json")),
                 "--report", f"text:{out.with_suffix('.txt')}", *args])
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    for unit in report["summary"].get("rendered", []):
        unit.pop("engineSeconds")
    return code, report, out.with_suffix(".txt").read_text(encoding="utf-8")


def entries(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if len(p.name) == ENTRY_LENGTH}


# --- warm equals cold ---------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_warm_run_equals_cold_and_uncached(repo: Path, tmp_path: Path, jobs: str) -> None:
    store = tmp_path / "store"
    cold = check(tmp_path / "cold", "--cache-dir", str(store), "-j", jobs, ".")
    assert len(entries(store)) > 5
    warm = check(tmp_path / "warm", "--cache-dir", str(store), "-j", jobs, ".")
    plain = check(tmp_path / "plain", "--no-cache", "-j", jobs, ".")
    assert cold == warm == plain
    assert cold[0] == 1 and cold[1]["findings"]


def test_warm_run_lints_nothing_again(repo: Path, tmp_path: Path, linted: list[str]) -> None:
    store = tmp_path / "store"
    check(tmp_path / "cold", "--cache-dir", str(store), "-j1", ".")
    assert linted
    linted.clear()
    check(tmp_path / "warm", "--cache-dir", str(store), "-j1", ".")
    assert again(linted) == set()
    assert "resources/widget.yaml" not in linted  # nor judged again against the CRDs


def test_an_edited_crd_rechecks_the_resources_of_its_group(repo: Path, tmp_path: Path,
                                                           linted: list[str]) -> None:
    """The re-check of custom resources against the run's CRDs is kept under the CRDs of
    the groups the file uses: a CRD that changes judges its resources again."""
    store = tmp_path / "store"
    _, cold, _ = check(tmp_path / "cold", "--cache-dir", str(store), "-j1", ".")
    assert any(f["rule"] != "unused-suppression" and f["file"] == "resources/widget.yaml"
               for f in cold["findings"])
    crd = repo / "crds" / "widget-crd.yaml"
    crd.write_text(crd.read_text().replace("size: {type: integer}", "size: {type: string}"))
    linted.clear()
    _, warm, _ = check(tmp_path / "warm", "--cache-dir", str(store), "-j1", ".")
    assert again(linted) == {"crds/widget-crd.yaml", "resources/widget.yaml"}
    assert warm == check(tmp_path / "plain", "--no-cache", "-j1", ".")[1]
    assert warm != cold  # size: three is a string now
    linted.clear()
    check(tmp_path / "again", "--cache-dir", str(store), "-j1", ".")
    assert again(linted) == set() and "resources/widget.yaml" not in linted


def test_fixtures_warm_equals_cold_for_every_job_count(tmp_path: Path) -> None:
    store = tmp_path / "store"
    reports = [check(tmp_path / f"run-{jobs}-{turn}", "--cache-dir", str(store), "-j", jobs,
                     str(FIXTURES)) for jobs in ("1", "2", "0") for turn in range(2)]
    reports.append(check(tmp_path / "plain", "--no-cache", str(FIXTURES)))
    assert all(report == reports[0] for report in reports)


def test_real_corpus_warm_equals_cold(tmp_path: Path) -> None:
    corpus = corpus_dir() / "real"
    store = tmp_path / "store"
    cwd = os.getcwd()
    os.chdir(corpus)
    try:
        plain = check(tmp_path / "plain", "--no-cache", "--no-render", ".")
        cold = check(tmp_path / "cold", "--cache-dir", str(store), "--no-render", ".")
        warm = check(tmp_path / "warm", "--cache-dir", str(store), "--no-render", ".")
        one = corpus / "coreos__etcd-operator" / "example" / "etcd-backup-operator" / "backup_cr.yaml"
        hook = ("--pre-commit", "--context", ".", "--", str(one.relative_to(corpus)))
        hook_plain = check(tmp_path / "hook-plain", "--no-cache", *hook)
        hook_warm = check(tmp_path / "hook-warm", "--cache-dir", str(store), *hook)
        hook_again = check(tmp_path / "hook-again", "--cache-dir", str(store), *hook)
    finally:
        os.chdir(cwd)
    assert plain == cold == warm
    assert hook_plain == hook_warm == hook_again


# --- what invalidates what ----------------------------------------------------------------


def test_changed_bytes_relint_that_file_only(repo: Path, tmp_path: Path, linted: list[str]) -> None:
    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    web = repo / "plain" / "web.yaml"
    web.write_text(web.read_text().replace("replicas: 3", "replicas: 4") + "\n")
    linted.clear()
    _, warm, _ = check(tmp_path / "second", "--cache-dir", str(store), "-j1", ".")
    assert again(linted) == {"plain/web.yaml"}
    assert warm == check(tmp_path / "plain", "--no-cache", "-j1", ".")[1]


@pytest.mark.parametrize("change", [
    ("--disable", "missing-prestop-hook"),
    ("--kubernetes-version", "1.30"),
    ("--max-file-size", "1M"),
])
def test_run_settings_relint_everything(repo: Path, tmp_path: Path, linted: list[str],
                                        change: tuple[str, str]) -> None:
    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    count = len(linted)
    linted.clear()
    changed = check(tmp_path / "second", "--cache-dir", str(store), "-j1", *change, ".")
    assert len(linted) == count
    linted.clear()
    assert check(tmp_path / "third", "--cache-dir", str(store), "-j1", *change, ".") == changed
    assert again(linted) == set()


def test_config_severity_and_param_relint_everything(repo: Path, tmp_path: Path,
                                                     linted: list[str]) -> None:
    store = tmp_path / "store"
    config = repo / ".k8slint.yaml"
    config.write_text("rules:\n  missing-prestop-hook: error\n")
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    count = len(linted)
    for text in ("rules:\n  missing-prestop-hook: info\n",
                 "rules:\n  missing-termination-grace-period:\n    params: {minimumSeconds: 45}\n"):
        config.write_text(text)
        linted.clear()
        _, warm, _ = check(tmp_path / "second", "--cache-dir", str(store), "-j1", ".")
        assert len(linted) == count, text
        assert warm == check(tmp_path / "plain", "--no-cache", "-j1", ".")[1]


def test_cache_false_in_the_config(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (repo / ".k8slint.yaml").write_text("cache: false\n")
    check(tmp_path / "first", "--cache-dir", str(store), ".")
    assert not store.exists()


def test_a_values_file_rerenders_its_chart_only(repo: Path, tmp_path: Path, linted: list[str]) -> None:
    from k8slint.helm import helm_engine

    if helm_engine() is None:
        pytest.skip("no Helm engine")
    store = tmp_path / "store"
    values = tmp_path / "extra-values.yaml"
    values.write_text("replicaCount: 2\n")
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", "--helm-values", str(values), ".")
    linted.clear()
    check(tmp_path / "same", "--cache-dir", str(store), "-j1", "--helm-values", str(values), ".")
    assert "charts/app" not in linted
    values.write_text("replicaCount: 1\n")
    _, warm, _ = check(tmp_path / "second", "--cache-dir", str(store), "-j1", "--helm-values",
                       str(values), ".")
    assert again(linted) == {"charts/app"}
    assert warm == check(tmp_path / "plain", "--no-cache", "-j1", "--helm-values", str(values), ".")[1]
    linted.clear()
    (repo / "charts" / "app" / "values.yaml").write_text(
        (repo / "charts" / "app" / "values.yaml").read_text() + "# changed\n")
    check(tmp_path / "third", "--cache-dir", str(store), "-j1", "--helm-values", str(values), ".")
    assert again(linted) == {"charts/app"}


def test_a_base_rebuilds_its_overlays_only(repo: Path, tmp_path: Path, linted: list[str]) -> None:
    if kustomize_command() is None:
        pytest.skip("neither kustomize nor kubectl is on PATH")
    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    units = {d for d in linted if d.startswith("kustomize/")}
    assert {"kustomize/overlays/smp", "kustomize/overlays/json"} <= units
    linted.clear()
    service = repo / "kustomize" / "base" / "service.yaml"
    service.write_text(service.read_text() + "# changed\n")
    _, warm, _ = check(tmp_path / "second", "--cache-dir", str(store), "-j1", ".")
    # The failing root's files (linted one by one) read nothing of the base.
    assert again(linted) == {"kustomize/overlays/smp", "kustomize/overlays/json",
                             "kustomize/overlays/legacy"}
    assert warm == check(tmp_path / "plain", "--no-cache", "-j1", ".")[1]


# --- entries that cannot be trusted --------------------------------------------------------


def test_corrupt_and_foreign_entries_are_ignored_and_rewritten(repo: Path, tmp_path: Path,
                                                               linted: list[str]) -> None:
    store = tmp_path / "store"
    _, cold, _ = check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    # Not the entries of what is linted every run anyway: their damage would not show; nor
    # those of the custom resource, whose re-check against the CRDs has an entry of its
    # own (two damaged entries of one file would show as one file linted again).
    names = sorted(name for name in entries(store)
                   if not any(shown in (store / name).read_text()
                              for shown in (*EVERY_RUN, "resources/widget.yaml")))
    damaged = {
        names[0]: b"",  # empty
        names[1]: (store / names[1]).read_bytes()[:100],  # truncated
        names[2]: (store / names[3]).read_bytes(),  # another key's entry
        names[3]: b'{"format": "k8slint-result-cache", "version": %d, "key": "%s", "result": '
                  b'[[{"$": "Popen", "v": []}]]}' % (cache_module.FORMAT_VERSION, names[3].encode()),
        names[4]: json.dumps({"format": "other", "version": 1, "key": names[4]}).encode(),
    }
    for name, data in damaged.items():
        (store / name).write_bytes(data)
    linted.clear()
    _, warm, _ = check(tmp_path / "second", "--cache-dir", str(store), "-j1", ".")
    assert warm == cold
    assert len(again(linted)) == len(damaged)
    for name, data in damaged.items():
        assert (store / name).read_bytes() != data
    linted.clear()
    check(tmp_path / "third", "--cache-dir", str(store), "-j1", ".")
    assert again(linted) == set()


def _head_and_tail(data: bytes) -> tuple[dict, bytes]:
    end = data.find(b"\n")
    return (json.loads(data), b"") if end < 0 else (json.loads(data[:end]), data[end:])


def _holds(entry: Path, shown: str) -> bool:
    """An entry of ``shown`` with findings and facts, or with CRDs."""
    result = _head_and_tail(entry.read_bytes())[0]["result"]
    findings, facts, crds = result[0], result[5], result[9]
    return (bool(crds) and crds[0][5] == shown) or (
        bool(findings and facts) and findings[0][3] == shown and facts[0][0] == shown)


def _set(path: tuple, value: Any) -> Any:
    """A change to an entry's result: the item at ``path`` (indexes into its lists) replaced."""
    def change(result: list) -> None:
        place = result
        for step in path[:-1]:
            place = place[step]
        place[path[-1]] = value
    return change


# Damage an entry of the current layout may come with (from a hostile repository's
# --cache-dir, or a bug), each with the file whose entry gets it. Result fields: 0 findings,
# 5 facts, 9 CRDs; a finding's fields: 4 line, 12 path, 18 fix; a Facts' 5: pod_labels, 7:
# selector.
HOSTILE = {
    "a finding short of a field": ("plain/api.yaml", lambda r: r[0][0].pop()),
    "a finding's line as text": ("plain/api.yaml", _set((0, 0, 4), "4")),
    "a mapping inside a path": ("plain/api.yaml", _set((0, 0, 12), [{"$": "Popen", "v": []}])),
    "a list inside a path": ("plain/api.yaml", _set((0, 0, 12), [["spec"]])),
    "an unknown record in a mapping": ("plain/api.yaml", _set((5, 0, 5), {"$": "Popen", "v": []})),
    "pod labels that are text": ("plain/api.yaml", _set((5, 0, 5), "abc")),
    "a selector that is a list": ("plain/api.yaml", _set((5, 0, 7), ["app", "web"])),
    "a fix that is no Fix": ("plain/api.yaml", _set((0, 0, 18), ["safe", "rm -rf /", "x", "y"])),
    "a result short of a field": ("plain/api.yaml", lambda r: r.pop()),
    "a count that is a flag": ("plain/api.yaml", _set((1,), True)),
    "a nesting too deep to read": ("plain/api.yaml", _set((0,), [[[[[[[[[[]]]]]]]]]] * 3)),
    "a schema past the entry's end": ("crds/widget-crd.yaml", _set((9, 0, 3), 10**9)),
    "a schema length that is text": ("crds/widget-crd.yaml", _set((9, 0, 3), "{}")),
}


@pytest.mark.parametrize("damage", sorted(HOSTILE))
def test_hostile_entries_of_this_layout_are_ignored_and_rewritten(
        repo: Path, tmp_path: Path, linted: list[str], damage: str) -> None:
    store = tmp_path / "store"
    _, cold, text = check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    shown, change = HOSTILE[damage]
    name = next(name for name in sorted(entries(store)) if _holds(store / name, shown))
    head, tail = _head_and_tail((store / name).read_bytes())
    change(head["result"])
    data = json.dumps(head).encode() + tail
    if damage == "a nesting too deep to read":
        data = data.replace(b"[[[[[[[[[[]]]]]]]]]]", b"[" * 100_000 + b"]" * 100_000)
    (store / name).write_bytes(data)
    linted.clear()
    _, warm, warm_text = check(tmp_path / "second", "--cache-dir", str(store), "-j1", ".")
    assert (warm, warm_text) == (cold, text)
    assert shown in linted
    assert (store / name).read_bytes() != data
    linted.clear()
    check(tmp_path / "third", "--cache-dir", str(store), "-j1", ".")
    assert again(linted) == set()


def test_schema_texts_outside_the_json(repo: Path, tmp_path: Path) -> None:
    """A CRD's schema text follows the entry's JSON on a line of its own, not escaped inside
    it; bytes after the last text are refused."""
    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    name = next(name for name in sorted(entries(store))
                if _holds(store / name, "crds/widget-crd.yaml"))
    data = (store / name).read_bytes()
    head, tail = _head_and_tail(data)
    crd = head["result"][9][0]
    assert crd[:3] == ["example.com", "v1", "Widget"]
    schema = tail[1:1 + crd[3]]
    assert json.loads(schema)["properties"]["spec"]["properties"]["size"] == {"type": "integer"}
    from k8slint.cache_format import EntryError, load_result

    assert load_result(data)[1].crds[0].schema == schema.decode()
    with pytest.raises(EntryError):
        load_result(data + b"\n{}")


def test_results_with_errors_are_not_kept(repo: Path, tmp_path: Path, linted: list[str]) -> None:
    """A file that cannot be read (here a FIFO named on the command line, which is never
    opened: unreadable for root too) is an error, and its result is not kept."""
    store = tmp_path / "store"
    os.mkfifo(repo / "plain" / "secret.yaml")
    code = check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".", "plain/secret.yaml")[0]
    assert code == 2
    linted.clear()
    check(tmp_path / "second", "--cache-dir", str(store), "-j1", ".", "plain/secret.yaml")
    assert "plain/secret.yaml" in linted


def test_concurrent_runs_share_one_cache(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    expected = check(tmp_path / "plain", "--no-cache", ".")[1]
    procs = [subprocess.Popen([sys.executable, "-m", "k8slint", "check", "--format", "json",
                               "--cache-dir", str(store), "-j", "2" if n % 2 else "1",
                               "--output", str(tmp_path / f"c{n}.json"), "."], cwd=repo,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, err
    for n in range(4):
        report = json.loads((tmp_path / f"c{n}.json").read_text())
        for unit in report["summary"].get("rendered", []):
            unit.pop("engineSeconds")
        assert report == expected
    assert not [p for p in store.iterdir() if p.name.startswith(".tmp-")]
    assert check(tmp_path / "warm", "--cache-dir", str(store), ".")[1] == expected


# --- bounds and cleaning -------------------------------------------------------------------


def test_the_cache_is_bounded_least_recently_used_first(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    first = entries(store)
    for name in first:  # long unused
        os.utime(store / name, (1_000_000_000, 1_000_000_000))
    (store / ".tmp-1-dead").write_bytes(b"{")
    os.utime(store / ".tmp-1-dead", (1_000_000_000, 1_000_000_000))
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", len(first))
    monkeypatch.setattr(cache_module, "CLEAN_INTERVAL", 0.0)
    check(tmp_path / "second", "--cache-dir", str(store), "-j1", "--kubernetes-version", "1.30", ".")
    second = entries(store)
    assert len(second) <= len(first)
    assert not set(second) & set(first)  # the old run's entries went first
    assert not (store / ".tmp-1-dead").exists()


def test_the_byte_bound(repo: Path, tmp_path: Path) -> None:
    from k8slint.cache import ResultCache
    from k8slint.render import RenderSettings

    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    sizes = {name: (store / name).stat().st_size for name in entries(store)}
    small = ResultCache(store, b"", RenderSettings(), {}, 1 << 20, max_bytes=sum(sizes.values()) // 2)
    small.clean(force=True)
    left = entries(store)
    assert left and sum(sizes[name] for name in left) <= sum(sizes.values()) // 2


def test_a_read_marks_an_entry_used(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), ".")
    for name in entries(store):
        os.utime(store / name, (1_000_000_000, 1_000_000_000))
    check(tmp_path / "second", "--cache-dir", str(store), ".")
    assert all(mtime > 1_000_000_000 * 10**9 for mtime in entries(store).values())


# --- where it lives ----------------------------------------------------------------------


def test_default_folder_is_the_user_cache(repo: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    check(tmp_path / "first", ".")
    assert entries(home / "k8slint" / "results")
    assert (home / "k8slint" / "results" / "CACHEDIR.TAG").is_file()


def test_never_written_inside_the_scanned_tree_by_default(repo: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    before = sorted(str(p) for p in repo.rglob("*"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(repo / ".cache"))
    _, report, _ = check(tmp_path / "first", ".")
    assert sorted(str(p) for p in repo.rglob("*")) == before
    assert any("result cache off" in n for n in report["summary"]["notices"])
    # Nor inside a context folder, nor inside a folder named on the command line.
    monkeypatch.setenv("XDG_CACHE_HOME", str(repo / "plain" / "cache"))
    check(tmp_path / "second", "--context", ".", "plain/web.yaml")
    check(tmp_path / "third", str(repo / "plain"))
    assert sorted(str(p) for p in repo.rglob("*")) == before


def test_cache_dir_inside_the_tree_when_named(repo: Path, tmp_path: Path) -> None:
    _, cold, _ = check(tmp_path / "first", "--cache-dir", ".k8slint-cache", ".")
    store = repo / ".k8slint-cache"
    assert entries(store)
    assert (store / ".gitignore").read_text().splitlines()[-1] == "*"
    _, warm, _ = check(tmp_path / "second", "--cache-dir", ".k8slint-cache", ".")
    assert warm == cold  # its entries are no manifests of the run


def test_no_cache_reads_and_writes_nothing(repo: Path, tmp_path: Path, linted: list[str]) -> None:
    store = tmp_path / "store"
    check(tmp_path / "first", "--cache-dir", str(store), "-j1", ".")
    before = entries(store)
    count = len(linted)
    linted.clear()
    check(tmp_path / "second", "--cache-dir", str(store), "--no-cache", "-j1", ".")
    assert len(linted) == count and entries(store) == before


def test_help_names_the_options() -> None:
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", "--help"], capture_output=True,
                          text=True, check=True)
    assert "--cache-dir DIR" in proc.stdout and "--no-cache" in proc.stdout


def _exact(value: Any) -> Any:
    """``value`` with every type inside it spelt out: what ``==`` does not tell (a tuple from
    a list, a frozenset from a set) compares unequal, what it need not (a set's order) equal."""
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted((_exact(v) for v in value), key=repr))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_exact(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(_exact(k), _exact(v)) for k, v in value.items()])
    return (type(value).__name__, value)


def test_an_entry_reads_back_exactly_what_was_written() -> None:
    """Every result of the fixtures and the real corpus, written as an entry and read back:
    the same records, with the same types inside (a tuple stays a tuple, a frozenset a
    frozenset, which ``==`` alone would not tell), and the same counts and sets."""
    from k8slint.cache_format import dump_result, load_result
    from k8slint.config import EMPTY
    from k8slint.runner import lint_all
    from k8slint.session import Options, prepare

    fields = ("findings", "documents", "objects", "errors", "suppressions", "facts", "context",
              "not_manifest", "schemaless", "crds", "custom_groups", "group", "unit", "origins")
    seen = {"fix": 0, "facts": 0, "suppressions": 0, "crds": 0, "serving": 0, "references": 0}
    for folder in (FIXTURES, corpus_dir() / "real"):
        prep = prepare(Options(paths=(str(folder),), render="off", cache=False), EMPTY)
        for result in lint_all(prep.sources, prep.severities, 1, params=prep.params,
                               settings=prep.settings):
            if result.errors:
                continue
            head, back = load_result(dump_result(result, {"key": "k"}))
            assert head == {"key": "k"}
            for name in fields:
                assert _exact(getattr(back, name)) == _exact(getattr(result, name)), name
            seen["fix"] += sum(f.fix is not None for f in result.findings)
            seen["facts"] += len(result.facts)
            seen["suppressions"] += len(result.suppressions)
            seen["crds"] += sum(crd.schema is not None for crd in result.crds)
            seen["serving"] += sum(bool(f.serving) for f in result.facts)
            seen["references"] += sum(bool(f.references) for f in result.facts)
    assert all(count > 10 for count in seen.values()), seen


# --- SARIF's fix replacements ------------------------------------------------------------------


@pytest.fixture
def replaced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many fixes each computation of a file's replacements was asked for."""
    from k8slint import fixer

    seen: list[int] = []
    original = fixer.fix_replacements

    def spy(raw: bytes, planned: Any, *, json_file: bool) -> Any:
        seen.append(len(planned))
        return original(raw, planned, json_file=json_file)

    monkeypatch.setattr(fixer, "fix_replacements", spy)
    return seen


def sarif(out: Path, *args: str) -> str:
    main(["check", "--format", "sarif", "--output", str(out), *args])
    return out.read_text(encoding="utf-8")


def replacement_entries(folder: Path) -> list[Path]:
    return sorted(folder / name for name in entries(folder)
                  if (folder / name).read_bytes().startswith(b'{"format"')
                  and b'"replacements"' in (folder / name).read_bytes())


def test_sarif_fix_replacements_are_kept(repo: Path, tmp_path: Path, replaced: list[int]) -> None:
    """A warm run writes the cold run's SARIF, fixes included, without parsing a fixable
    file again; a file that changed has its replacements made again, and only it."""
    store = tmp_path / "store"
    plain = sarif(tmp_path / "plain.sarif", "--no-cache", "-j1", ".")
    assert '"replacements"' in plain
    computed = len(replaced)
    assert computed >= 2
    replaced.clear()
    assert sarif(tmp_path / "cold.sarif", "--cache-dir", str(store), "-j1", ".") == plain
    assert len(replaced) == computed and len(replacement_entries(store)) == computed
    replaced.clear()
    assert sarif(tmp_path / "warm.sarif", "--cache-dir", str(store), "-j1", ".") == plain
    assert replaced == []
    edited = repo / "plain" / "web.yaml"
    edited.write_text("# moved down a line\n" + edited.read_text())
    after = sarif(tmp_path / "after.sarif", "--cache-dir", str(store), "-j1", ".")
    assert len(replaced) == 1
    assert after == sarif(tmp_path / "after-plain.sarif", "--no-cache", "-j1", ".") != plain


HOSTILE_REPLACEMENTS: dict[str, Any] = {
    "not a list": {"a": 1},
    "one fix too many": lambda kept: kept + [None],
    "a row too short": lambda kept: [[[1, 1, 1]] if each else each for each in kept],
    "a boolean line": lambda kept: [[[True, 1, 1, 1, "x"]] if each else each for each in kept],
    "a line 0": lambda kept: [[[0, 1, 1, 1, "x"]] if each else each for each in kept],
    "an end before its start": lambda kept: [[[3, 1, 2, 1, "x"]] if each else each for each in kept],
    "text that is a number": lambda kept: [[[1, 1, 1, 1, 5]] if each else each for each in kept],
    "another key": "key",
}


@pytest.mark.parametrize("damage", sorted(HOSTILE_REPLACEMENTS))
def test_hostile_replacement_entries_are_ignored_and_rewritten(
        repo: Path, tmp_path: Path, replaced: list[int], damage: str) -> None:
    store = tmp_path / "store"
    plain = sarif(tmp_path / "plain.sarif", "--no-cache", "-j1", ".")
    sarif(tmp_path / "cold.sarif", "--cache-dir", str(store), "-j1", ".")
    change = HOSTILE_REPLACEMENTS[damage]
    for path in replacement_entries(store):
        data = json.loads(path.read_text(encoding="utf-8"))
        if change == "key":
            data["key"] = "0" * ENTRY_LENGTH
        elif callable(change):
            data["replacements"] = change(data["replacements"])
        else:
            data["replacements"] = change
        path.write_text(json.dumps(data), encoding="utf-8")
    damaged = {path: path.read_bytes() for path in replacement_entries(store)}
    replaced.clear()
    assert sarif(tmp_path / "warm.sarif", "--cache-dir", str(store), "-j1", ".") == plain
    assert len(replaced) == len(damaged)
    assert all(path.read_bytes() != data for path, data in damaged.items())
    replaced.clear()
    assert sarif(tmp_path / "again.sarif", "--cache-dir", str(store), "-j1", ".") == plain
    assert replaced == []

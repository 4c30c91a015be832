"""Shards and their merge: one run's work split over N processes or machines.

``k8slint check --shard K/N --partial FILE`` lints the K-th of N parts of the run's units
(each plain file, each Helm chart, each Kustomize build root with every file it reads),
chosen by a hash of the unit's path relative to the scanned root, so that every machine
splits a checkout alike. It reads the CRDs of the whole run (only the files whose text
names CustomResourceDefinition), so that custom resources are judged as in one run, and
writes a partial (docs/partials.md): its files' results, as ``partial.py`` encodes them.

``k8slint merge`` reads the N partials, checks that they belong together, and finishes
the run as ``session.finish`` finishes a single one: cross-object rules per unit over every
shard's facts, suppressions (one used in any shard is used), the baseline.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import partial
from typing import Any, NamedTuple

from . import __version__
from .config import Config
from .discover import Source, UsageError
from .engine import FileResult
from .findings import Finding
from .partial import (
    PartialError,
    decode,
    decode_findings,
    decode_result,
    encode,
    encode_result,
)
from .render import BUILD, UNIT_ROLES, RenderTemp
from .report import RunSummary
from .rule import Settings
from .runner import default_jobs, lint_all
from .schemas import CrdVersion
from .session import (
    Options,
    Outcome,
    Prepared,
    Tally,
    chosen_crds,
    custom_resource_findings,
    finish,
    lint_run,
    prepare,
    without_groups,
)

FORMAT = "k8slint-partial"
FORMAT_VERSION = 1
CRD_MARK = b"CustomResourceDefinition"  # a file without it defines no CRD


class ShardSpec(NamedTuple):
    k: int  # this shard, from 1
    n: int  # how many


def parse_shard(text: str) -> ShardSpec:
    """``K/N`` with 1 <= K <= N; ValueError saying what is wrong."""
    k, sep, n = text.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise ValueError(f"expected K/N such as 2/5 (the K-th of N shards), got {text!r}")
    index, count = int(k), int(n)
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"K must be from 1 to N in K/N, got {text!r}")
    return ShardSpec(index, count)


def unit_key(source: Source, root: str) -> str:
    """The unit's path relative to the scanned root, with ``/``: the same on every machine
    that checked out the same tree, wherever it put it."""
    path = source.real or os.path.abspath(source.exact or source.display)
    return os.path.relpath(path, os.path.realpath(root)).replace(os.sep, "/")


def shard_of(key: str, count: int) -> int:
    """The shard (1 to ``count``) a unit belongs to: a hash of its key, not Python's
    ``hash()``, which differs between processes."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


# --- a shard ---------------------------------------------------------------------------------


def run_shard(options: Options, config: Config, spec: ShardSpec) -> tuple[dict, list[str]]:
    """Lint this shard's part of the run: the partial's data, and the problems met (files
    that could not be read, rule failures), which the partial records as well."""
    if any(p == "-" for p in options.paths):
        raise UsageError("standard input cannot be split into shards: name files or folders")
    with RenderTemp() as temp:
        return _run_shard(options, config, spec, temp)


def _run_shard(options: Options, config: Config, spec: ShardSpec,
               temp: RenderTemp) -> tuple[dict, list[str]]:
    prep = prepare(options, config, temp)
    summary = prep.summary
    patches_before = summary.patches_skipped
    keys = {id(s): unit_key(s, summary.root) for s in prep.sources}
    mine = [s for s in prep.sources if shard_of(keys[id(s)], spec.n) == spec.k]
    others = [s for s in prep.sources if shard_of(keys[id(s)], spec.n) != spec.k]
    results: list[FileResult] = []
    unbuilt: list[FileResult] = []
    skipped: list[str] = []
    built: set[str] = set()  # this shard's build roots whose build worked
    lint_run(prep, options, config, mine, results.append, unbuilt.append, skipped, built)
    problems: list[str] = []  # this shard's own, beyond those of each file
    custom_findings: list[Finding] = []
    every = results + unbuilt
    custom = [r for r in every if r.custom_groups]
    if custom:
        crds = [crd for r in every for crd in r.crds] + _crds_of(others, prep, options, config)
        if crds:
            found, groups = custom_resource_findings(
                options, custom, chosen_crds(crds, prep.version), prep.severities, prep.params,
                prep.settings, problems)
            custom_findings.extend(found)
            for r in every:
                r.schemaless = without_groups(r.schemaless, groups)
    root = os.path.realpath(summary.root)
    readers: dict[str, list[str]] = {}  # a file -> the build roots that read it
    for folder, files in prep.plan.fallback.items():
        for source in files:
            if source.real is not None:
                readers.setdefault(source.real, []).append(_key(folder, root))
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "k8slint": __version__,
        "shard": {"index": spec.k, "count": spec.n},
        "agreed": (agreed := _agreed(options, config, prep, sorted(keys.values()))),
        "fingerprint": fingerprint(agreed),
        "run": {
            "gitIgnored": summary.git_ignored,
            "linksOut": summary.links_out,
            "patchesSkipped": patches_before,
            "notices": list(summary.notices),
            "problems": list(prep.problems),
        },
        "results": [encode_result(r) for r in results],
        "builtRoots": sorted(_key(folder, root) for folder in built),
        "unbuilt": [_unbuilt(r.source.real if r.source else None, r, readers, root) for r in unbuilt]
                   + [_unbuilt(real, None, readers, root) for real in skipped],
        "customFindings": encode(custom_findings),
        "problems": problems,
    }
    return data, [*prep.problems, *(e for r in every for e in r.errors), *problems]


def _key(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _unbuilt(real: str | None, result: FileResult | None, readers: dict[str, list[str]],
             root: str) -> dict:
    """A file of a failed build root, linted one by one (or, ``result`` None, skipped as a
    patch), with every root that reads it: the merge keeps it only when none of them built."""
    real = real or root
    return {"file": _key(real, root), "readBy": sorted(readers.get(real, [])),
            "result": None if result is None else encode_result(result)}


def _crds_of(others: list[Source], prep: Prepared, options: Options,
             config: Config) -> list[CrdVersion]:
    """The CRDs of the other shards' units: only files whose text names
    CustomResourceDefinition are read, and only the units holding one are rendered."""
    if not others:
        return []
    limit = options.max_file_size
    wanted = [s for s in others if _names_crd(s, prep, limit)]
    if not wanted:
        return []
    lint = partial(lint_all, severities=prep.severities, jobs=options.jobs or default_jobs(),
                   params=prep.params, max_file_size=limit, settings=prep.settings,
                   custom_rules=config.custom_rules, render=prep.render)
    crds: list[CrdVersion] = []
    failed: list[str] = []
    for result in lint(wanted):
        crds.extend(result.crds)
        if result.unit is not None and result.unit.failed and result.unit.kind == BUILD:
            failed.append(result.group)
    if failed:  # a failed build's files are linted one by one: their CRDs count
        files = {s.real: s for root in failed for s in prep.plan.fallback.get(root, ())
                 if s.real is not None and _file_names_crd(s.real, limit)}
        for result in lint(list(files.values())):
            crds.extend(result.crds)
    return crds


def _names_crd(source: Source, prep: Prepared, limit: int) -> bool:
    """Whether the unit may define a CRD: a file of it names CustomResourceDefinition (a
    chart's files, a build root's folder and every file of the run it reads)."""
    if source.role not in UNIT_ROLES:
        return source.real is not None and _file_names_crd(source.real, limit)
    files = [s.real for s in prep.plan.fallback.get(source.real or "", ()) if s.real]
    for top, _, names in os.walk(source.real or ""):
        files.extend(os.path.join(top, name) for name in names)
    return any(_file_names_crd(f, limit) for f in files)


def _file_names_crd(path: str, limit: int) -> bool:
    try:
        with open(path, "rb") as stream:
            return CRD_MARK in stream.read(limit + 1)
    except OSError:
        return False


def _agreed(options: Options, config: Config, prep: Prepared, keys: list[str]) -> dict:
    """What every shard of one run must share: the settings that change any result, and
    the units the run was split from (a shard of another checkout does not belong)."""
    units = hashlib.sha256("\n".join(keys).encode("utf-8", "surrogateescape")).hexdigest()
    return {
        "severities": dict(sorted(prep.severities.items())),
        "params": encode(prep.params),
        "kubernetesVersion": prep.version,
        "render": _portable(prep.render._replace(temp=None)),  # each shard's own folder
        "customRules": encode(list(config.custom_rules)),
        "failOn": config.fail_on,
        "paths": list(options.paths),
        "context": list(options.context),
        "maxFileSize": options.max_file_size,
        "gitignore": options.gitignore,
        "preCommit": options.walk_rules_for_named,
        "root": os.path.relpath(prep.summary.root).replace(os.sep, "/"),
        "units": {"count": len(keys), "sha256": units},
    }


def _portable(value: Any) -> Any:
    """Settings as JSON data with absolute paths below the working folder made relative,
    so that two machines with the checkout in different places agree."""
    if isinstance(value, str):
        if os.path.isabs(value):
            return os.path.relpath(value).replace(os.sep, "/")
        return value
    if isinstance(value, dict):
        return {str(k): _portable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_portable(v) for v in value]
    return value


def fingerprint(agreed: dict) -> str:
    text = json.dumps([__version__, agreed], sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def write_partial(path: str, data: dict) -> None:
    """Atomically, as reports are written (output.py); OSError saying why not."""
    from .output import write_text

    write_text(path, json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n")


# --- reading and merging ---------------------------------------------------------------------


class Partial(NamedTuple):
    path: str
    shard: int  # K
    shards: int  # N
    agreed: dict
    fingerprint: str
    run: dict
    results: list[FileResult]
    built_roots: list[str]
    unbuilt: list[tuple[str, list[str], FileResult | None]]
    custom_findings: list[Finding]
    problems: list[str]


class MergeError(Exception):
    """Partials that cannot be merged; the message says which and why, in one line."""


def read_partial(path: str) -> Partial:
    """A partial, checked from its header to its last record; MergeError otherwise."""
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except OSError as exc:
        raise MergeError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        what = "truncated" if raw and not raw.rstrip().endswith(b"}") else "corrupt"
        raise MergeError(f"{path} is not a k8slint partial ({what}: {exc})") from None
    try:
        return _partial(path, data)
    except PartialError as exc:
        raise MergeError(f"{path} is not a valid k8slint partial: {exc}") from None


def _partial(path: str, data: Any) -> Partial:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise MergeError(f"{path} is not a k8slint partial (no \"format\": \"{FORMAT}\")")
    if data.get("version") != FORMAT_VERSION:
        raise MergeError(f"{path} is a partial of format version {data.get('version')!r}; this "
                         f"k8slint {__version__} reads version {FORMAT_VERSION}: run every shard "
                         f"and the merge with one k8slint")
    if data.get("k8slint") != __version__:
        raise MergeError(f"{path} was written by k8slint {data.get('k8slint')!r}, this is "
                         f"{__version__}: run every shard and the merge with one k8slint")
    expected = {"format", "version", "k8slint", "shard", "agreed", "fingerprint", "run", "results",
                "builtRoots", "unbuilt", "customFindings", "problems"}
    if set(data) != expected:
        raise PartialError(f"fields {sorted(set(data) ^ expected)} are wrong")
    shard = data["shard"]
    if not (isinstance(shard, dict) and set(shard) == {"index", "count"}
            and all(type(shard[k]) is int for k in shard) and 1 <= shard["index"] <= shard["count"]):
        raise PartialError("its shard is not {index: K, count: N} with 1 <= K <= N")
    agreed = data["agreed"]
    if not isinstance(agreed, dict) or not isinstance(agreed.get("severities"), dict):
        raise PartialError("its settings are missing")
    if data["fingerprint"] != fingerprint(agreed):
        raise PartialError("its fingerprint does not match its settings (edited or corrupt)")
    run = data["run"]
    kinds = {"gitIgnored": int, "linksOut": int, "patchesSkipped": int, "notices": list, "problems": list}
    if not isinstance(run, dict) or set(run) != set(kinds) or not all(
            isinstance(run[k], t) for k, t in kinds.items()):
        raise PartialError("its run counts are malformed")
    texts = [*run["notices"], *run["problems"], *_list(data["problems"], "problems"),
             *_list(data["builtRoots"], "builtRoots")]
    if not all(isinstance(t, str) for t in texts):
        raise PartialError("a notice, problem or path is not text")
    for key in ("severities", "kubernetesVersion", "root"):
        if key not in agreed:
            raise PartialError(f"its settings lack {key}")
    unbuilt = []
    for item in _list(data["unbuilt"], "unbuilt"):
        if not isinstance(item, dict) or set(item) != {"file", "readBy", "result"} \
                or not isinstance(item["file"], str) or not isinstance(item["readBy"], list) \
                or not all(isinstance(r, str) for r in item["readBy"]):
            raise PartialError("an unbuilt file's record is malformed")
        result = None if item["result"] is None else decode_result(item["result"])
        unbuilt.append((item["file"], item["readBy"], result))
    return Partial(
        path, shard["index"], shard["count"], agreed, data["fingerprint"], run,
        [decode_result(r) for r in _list(data["results"], "results")], list(data["builtRoots"]),
        unbuilt, decode_findings(data["customFindings"], "customFindings"),
        list(data["problems"]))


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise PartialError(f"{what} is not a list")
    return value


def check_together(partials: list[Partial]) -> None:
    """Every shard of one run, once: the same N, each K from 1 to N once, the same
    settings and units. MergeError says which partial does not fit, and how."""
    first = partials[0]
    for p in partials[1:]:
        if p.shards != first.shards:
            raise MergeError(f"{p.path} is shard {p.shard}/{p.shards}, {first.path} is shard "
                             f"{first.shard}/{first.shards}: the partials split the run into "
                             f"different numbers of shards")
    seen: dict[int, str] = {}
    for p in partials:
        if p.shard in seen:
            raise MergeError(f"{seen[p.shard]} and {p.path} are both shard {p.shard}/{p.shards}")
        seen[p.shard] = p.path
    missing = [k for k in range(1, first.shards + 1) if k not in seen]
    if missing:
        raise MergeError(f"shard{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(f'{k}/{first.shards}' for k in missing)} missing: a merge "
                         f"needs every shard's partial")
    for p in partials[1:]:
        if p.fingerprint == first.fingerprint:
            continue
        differ = sorted(k for k in set(p.agreed) | set(first.agreed)
                        if p.agreed.get(k) != first.agreed.get(k))
        raise MergeError(f"{p.path} and {first.path} are not shards of one run: they differ in "
                         f"{', '.join(differ) or 'their settings'}")


def merge(paths: list[str], baseline: str | None, show_suppressed: bool) -> Outcome:
    """The outcome of the run the partials at ``paths`` are the shards of."""
    partials = sorted((read_partial(p) for p in paths), key=lambda p: p.shard)
    check_together(partials)
    first = partials[0]
    agreed, run = first.agreed, first.run
    try:
        custom_rules = tuple(decode(agreed.get("customRules", {"$t": []})))
        params = decode(agreed.get("params", {}))
    except PartialError as exc:
        raise MergeError(f"{first.path} is not a valid k8slint partial: {exc}") from None
    from .custom import CustomRule

    if not all(isinstance(r, CustomRule) for r in custom_rules) or not isinstance(params, dict):
        raise MergeError(f"{first.path} is not a valid k8slint partial: malformed settings")
    summary = RunSummary(os.path.abspath(str(agreed["root"])))
    summary.git_ignored = run["gitIgnored"]
    summary.links_out = run["linksOut"]
    summary.patches_skipped = run["patchesSkipped"]
    summary.notices.extend(run["notices"])
    version = str(agreed["kubernetesVersion"])
    summary.kubernetes_version = version
    tally = Tally(summary, list(run["problems"]))
    for p in partials:
        for result in p.results:
            tally.take(result)
    # The files of failed builds, linted one by one where no other root that reads them
    # built (a shard knows only its own roots), and once (two failed roots may share one).
    built = {root for p in partials for root in p.built_roots}
    done: set[str] = set()
    for p in partials:
        for key, readers, linted in p.unbuilt:
            if key in done or any(root in built for root in readers):
                continue
            done.add(key)
            if linted is None:
                summary.patches_skipped += 1
            else:
                tally.take(linted)
    for p in partials:
        tally.findings.extend(p.custom_findings)
        tally.problems.extend(p.problems)
    fail_on = agreed.get("failOn")
    config = Config(None, {}, {}, fail_on=fail_on if isinstance(fail_on, str) else None,
                    kubernetes_version=version, custom_rules=custom_rules)
    severities = {str(k): str(v) for k, v in agreed["severities"].items()}
    return finish(tally, severities, params, Settings(kubernetes_version=version), custom_rules,
                  baseline, show_suppressed, config)


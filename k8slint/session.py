"""One ``k8slint check`` run, from options to a finished summary.

files -> (config excludes, kustomize patches) -> lint (one process or a pool) ->
suppressions -> baseline -> summary. The command line only parses and prints.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

from . import interrupt
from .catalog import rule_index
from .checks import INDEX_RULES
from .checks.schema import SCHEMA_RULES
from .config import EMPTY, Config, find_config, load_config
from .discover import Exclusions, Source, UsageError, Walk, discover, display, is_within
from .engine import DEFAULT_MAX_FILE_SIZE, FileResult, default_severities, rule_params
from .findings import Finding, ObjectRef, Span, make_finding
from .globs import compile_globs
from .index import Facts, Index
from .render import BUILD, RENDER_REQUIRED, UNIT_ROLES, Plan, RenderSettings, RenderTemp, plan_units
from .report import RunSummary
from .rule import KUSTOMIZE_BASE, RunView, Settings
from .runner import default_jobs, lint_all
from .schemas import CrdVersion
from .suppress import Suppression, apply
from .versions import NEWEST, parse_version, shown, supported

META_RULES = ("suppression-without-reason", "unused-suppression")


class Options(NamedTuple):
    paths: tuple[str, ...]
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    config: str | None = None  # None: look for .k8slint.yaml from here up
    jobs: int = 0
    show_suppressed: bool = False
    baseline: str | None = None
    write_baseline: str | None = None  # only so that an old one is not linted as a manifest
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    context: tuple[str, ...] = ()  # folders read only so cross-object rules see their objects
    kubernetes_version: str | None = None  # overrides the config's kubernetesVersion
    progress: Callable[[int], Callable[[int], None] | None] | None = None  # files -> callback
    gitignore: bool = True  # leave files git ignores out of folder walks
    walk_rules_for_named: bool = False  # named files follow the walk's rules (the hook's)
    render: str | None = None  # on, off or required (render.py); None: the config's
    helm_values: tuple[str, ...] = ()  # values files for every chart, after the config's


class Outcome(NamedTuple):
    summary: RunSummary
    config: Config
    problems: list[str]  # files that could not be read, rule failures
    all_findings: list[Finding]  # before the baseline: what --write-baseline records


def effective_config(options: Options) -> Config:
    path = Path(options.config) if options.config else find_config(Path.cwd(), options.paths)
    return load_config(path) if path else EMPTY


def run(options: Options, config: Config) -> Outcome:
    with RenderTemp() as temp:
        return _run(options, config, temp)


def _run(options: Options, config: Config, temp: RenderTemp) -> Outcome:
    severities = default_severities(options.enable, options.disable, config.severities,
                                    config.custom_rules)
    params = dict(config.params)
    version = run_version(options, config)
    exclusions = (
        Exclusions(compile_globs(config.exclude), config.base.resolve()) if config.exclude else None
    )
    own = {os.path.realpath(p) for p in (*config.files, options.baseline, options.write_baseline) if p}
    problems: list[str] = []
    walk = Walk(exclusions, problems, options.gitignore, options.walk_rules_for_named)
    sources = [
        s for s in walk.sources(options.paths or (".",))
        if s.real not in own  # our config and baseline
    ]
    summary = RunSummary()
    summary.git_ignored = walk.ignored
    summary.links_out = walk.links_out
    render = render_settings(options, config)
    context: list[Source] = []
    if options.context:
        context = _context_sources(options.context, sources, exclusions, options.gitignore)
    plan = plan_units(sources, context, render, Path.cwd(), options.max_file_size)
    sources, context = plan.sources, plan.context
    summary.notices.extend(plan.notices)
    if plan.unrendered and render.mode == RENDER_REQUIRED:
        problems.append(f"rendering is required (--require-render, or render: required in the "
                        f"config), and {len(plan.unrendered)} chart(s) or build root(s) could not "
                        f"be rendered: {', '.join(plan.unrendered[:5])}")
    sources = _kustomize_roles(sources, summary, options.max_file_size)
    if any(s.role in UNIT_ROLES for s in sources):
        render = render._replace(temp=temp.make())
    summary.root = scanned_root(sources)
    schemas = any(rule in severities for rule in SCHEMA_RULES)
    if context and (schemas or any(rule in severities for rule in INDEX_RULES)):
        sources += context
    if schemas:  # custom resources are checked once the run's CRDs are known: read it once
        sources = _stdin_read(sources, options.max_file_size)
    settings = Settings(kubernetes_version=version)  # what every rule of the run is handed
    summary.kubernetes_version = version
    crds: list[CrdVersion] = []  # where two define one kind, the first by path wins
    custom: list[FileResult] = []  # files with objects of groups no built-in schema has
    findings: list[Finding] = []
    suppressions: list[Suppression] = []
    facts: dict[str, list[Facts]] = {}  # by deployable unit: "" the plain files, else a folder
    failed: list[str] = []  # build roots whose build failed
    origins: set[str] = set()  # the files read: plain ones, and those units' objects come from

    progress = options.progress(len(sources)) if options.progress else None
    # What a run keeps grows with the repository, and the cyclic collector walks all of it
    # again and again: on ten copies of the corpus that made a linear run twice as slow.
    # Loaded files hold no reference cycles (a recursive alias aside, a few nodes kept to
    # the end), so reference counting frees them alone.
    collecting = gc.isenabled()
    gc.disable()
    def take(result: FileResult) -> None:
        if result.facts:
            facts.setdefault(result.group, []).extend(result.facts)
        crds.extend(result.crds)
        if result.custom_groups:
            custom.append(result)
        if result.context:
            summary.context_files += 1
            return
        if result.not_manifest:
            summary.not_manifests += 1
            return
        if result.unit is not None:
            summary.units.append(result.unit)
            origins.update(result.origins)
            if result.unit.failed and result.unit.kind == BUILD:
                failed.append(result.group)
                result.findings = [_with_fallback(f, plan.patches.get(result.group, 0))
                                   for f in result.findings]
        else:
            origins.add(result.source.exact if result.source is not None else f"#{len(origins)}")
        for kind, count in result.schemaless.items():
            summary.schemaless[kind] = summary.schemaless.get(kind, 0) + count
        summary.documents += result.documents
        summary.objects += result.objects
        findings.extend(result.findings)
        suppressions.extend(result.suppressions)
        problems.extend(result.errors)

    lint = partial(lint_all, severities=severities, jobs=options.jobs or default_jobs(),
                   params=params, max_file_size=options.max_file_size, settings=settings,
                   custom_rules=config.custom_rules, render=render)
    try:
        for result in lint(sources, progress=progress):
            take(result)
        if failed:  # what a failed build would have read, linted file by file instead
            again = unbuilt_files(plan, failed, summary, options.max_file_size)
            for result in lint(again):
                take(result)
    finally:
        if collecting:
            gc.enable()
        if progress is not None and hasattr(progress, "close"):
            progress.close()

    summary.files = len(origins)
    interrupt.check()
    if crds and custom:
        findings.extend(_custom_resource_findings(
            options, summary, custom, chosen_crds(crds, version), severities, params, settings,
            problems))
    for group, unit_facts in facts.items():
        findings.extend(cross_object_findings(Index(unit_facts), severities, problems, params,
                                              settings, via=_via(unit_facts, sources, group)))
    ran = {rule for rule in severities if rule not in META_RULES}
    known = set(rule_index()) | {rule.id for rule in config.custom_rules}
    # Suppressions first, each copy of a finding judged by its own unit's annotations;
    # then the copies two units give alike (and alike suppressed or not) become one.
    applied = apply(findings, suppressions, ran, severities, known)
    kept = merged(applied.kept) + applied.meta
    quiet = merged([f._replace(suppressed=s.reason) for f, s in applied.suppressed])
    summary.suppressed = len(quiet)
    all_findings = list(kept)
    if options.baseline:
        from .baseline import Baseline

        kept, summary.baseline_known = Baseline(Path(options.baseline)).split(kept)
    if options.show_suppressed:
        kept += quiet
    summary.findings = sorted(kept, key=lambda f: f.sort_key)
    if config.custom_rules:
        from .custom import meta

        summary.custom_rules = [meta(rule) for rule in config.custom_rules]
    return Outcome(summary, config, problems, all_findings)


def render_settings(options: Options, config: Config) -> RenderSettings:
    """How charts and build roots are rendered: the command line over the config."""
    settings = config.render
    if options.render is not None:
        settings = settings._replace(mode=options.render)
    if options.helm_values:
        settings = settings._replace(helm_values=settings.helm_values + tuple(
            os.path.abspath(p) for p in options.helm_values))
    return settings


def _kustomize_roles(sources: list[Source], summary: RunSummary, max_size: int) -> list[Source]:
    """Files of kustomizations that are not built (rendering off, no kustomize, a build
    that failed): patches skipped as fragments, resources marked as bases."""
    files = [s.real for s in sources if s.real is not None and s.role not in UNIT_ROLES]
    if not files:
        return sources
    from .kustomize import kustomize_roles

    roles = kustomize_roles(files, Path.cwd(), max_size)
    if roles.patches:
        unpatched = [s for s in sources if s.real not in roles.patches]
        summary.patches_skipped += len(sources) - len(unpatched)
        sources = unpatched
    if roles.bases:
        sources = [s._replace(role=KUSTOMIZE_BASE) if s.real in roles.bases else s
                   for s in sources]
    return sources


def _with_fallback(finding: Finding, patches: int) -> Finding:
    """A build's error, saying what becomes of the root's files."""
    if finding.rule != "kustomize-build-error":
        return finding
    skipped = (f"; its {patches} patch file{'s are' if patches != 1 else ' is'} skipped"
               if patches else "")
    return finding._replace(message=f"{finding.message} (the root's files are linted one by "
                                    f"one instead{skipped})")


def unbuilt_files(plan: Plan, failed: list[str], summary: RunSummary, max_size: int) -> list[Source]:
    """The files of the roots whose build failed that no build that worked has read:
    linted one by one, patches skipped (as without kustomize)."""
    covered = {s.real for root, files in plan.fallback.items() if root not in failed
               for s in files}
    again: dict[str, Source] = {}
    for root in failed:
        for source in plan.fallback.get(root, ()):
            if source.real not in covered and source.real is not None:
                again.setdefault(source.real, source)
    return _kustomize_roles(list(again.values()), summary, max_size)


def merged(findings: list[Finding]) -> list[Finding]:
    """One finding where two units give the same one (a base built alike by two
    overlays, its objects renamed or not): it names both. Two objects of one unit (a
    chart's loop) stay two findings, however alike."""
    slots: dict[tuple, list[tuple[set[str], int]]] = {}  # key -> (units, index in out)
    out: list[Finding] = []
    for f in findings:
        if not f.via:
            out.append(f)
            continue
        key = (f.rule, f.source, f.line, f.column, f.message, f.path, f.suppressed)
        places = slots.setdefault(key, [])
        slot = next((p for p in places if f.via not in p[0]), None)
        if slot is None:
            places.append(({f.via}, len(out)))
            out.append(f)
        else:
            slot[0].add(f.via)
            out[slot[1]] = out[slot[1]]._replace(via=", ".join(sorted(slot[0])))
    return out


def _via(facts: list[Facts], sources: list[Source], group: str) -> str:
    if not group:
        return ""
    return next((s.display for s in sources if s.real == group and s.role in UNIT_ROLES), group)


def _custom_resource_findings(options: Options, summary: RunSummary, custom: list[FileResult],
                              crds: tuple[CrdVersion, ...], severities: dict[str, str],
                              params: dict[str, dict], settings: Settings,
                              problems: list[str]) -> list[Finding]:
    """The schema rules' findings on custom resources whose group a CRD of the run
    defines: their files are read again, and only those objects judged."""
    groups = frozenset(crd.group for crd in crds)
    again = [r.source for r in custom if r.source is not None and r.custom_groups & groups]
    schema_rules = {rule: severities[rule] for rule in SCHEMA_RULES if rule in severities}
    found: list[Finding] = []
    for result in lint_all(again, schema_rules, options.jobs or default_jobs(), None, params,
                           options.max_file_size, settings._replace(crds=crds), only_groups=groups):
        found.extend(result.findings)
        problems.extend(result.errors)
    summary.schemaless = {key: count for key, count in summary.schemaless.items()
                          if key.rpartition("/")[0] not in groups}
    return found


def chosen_crds(crds: list[CrdVersion], version: str) -> tuple[CrdVersion, ...]:
    """One definition per group, version and kind, the same in every run whatever order
    the files were read in: the first by path (then by place in its file). CRDs of
    built-in groups are left out: the API server refuses them, and they must not replace
    a built-in schema."""
    from .schemas import builtin_groups

    builtin = builtin_groups(parse_version(version))
    chosen: dict[tuple[str, str, str], CrdVersion] = {}
    for crd in sorted(crds, key=lambda c: c.source):  # stable: a file's own order stays
        if crd.group not in builtin:
            chosen.setdefault((crd.group, crd.version, crd.kind), crd)
    return tuple(chosen.values())


def run_version(options: Options, config: Config) -> str:
    """The release every feature of the run targets: --kubernetes-version, else the
    config's kubernetesVersion, else a kubernetesVersion param the API rules were given
    (kept for configs that set one), else the newest release k8slint knows."""
    given = options.kubernetes_version or config.kubernetes_version or next(
        (config.params[rule]["kubernetesVersion"] for rule in ("removed-api-version",
         "deprecated-api-version") if "kubernetesVersion" in config.params.get(rule, {})), None)
    if given is None:
        return shown(NEWEST)
    try:
        return shown(supported(str(given)))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _stdin_read(sources: list[Source], max_size: int) -> list[Source]:
    """Standard input read now, when a check must see it before linting (its CRDs)."""
    import sys

    return [s._replace(data=sys.stdin.buffer.read(max_size + 1)) if s.path is None else s
            for s in sources]


def scanned_root(sources: list[Source]) -> str:
    """The folder report URIs are relative to: the working folder when every file lies
    below it (as in CI, where it is the checkout), else the files' common folder, so that
    no URI climbs out with ``..`` or becomes absolute."""
    paths = [os.path.abspath(s.path) for s in sources if s.path is not None]
    cwd = os.getcwd()
    if not paths or all(is_within(p, cwd) for p in paths):
        return cwd
    common = os.path.commonpath(paths)
    return common if os.path.isdir(common) else os.path.dirname(common)


def _context_sources(folders: tuple[str, ...], sources: list[Source], exclusions: Exclusions | None,
                     gitignore: bool) -> list[Source]:
    """Files below the context folders that are not reported on: their objects are
    seen by cross-object rules (a Service's pods, a workload's budget), nothing more."""
    reported = {s.real for s in sources if s.real is not None}
    return [
        s._replace(context=True)
        for s in discover(folders, exclusions, gitignore=gitignore)
        if s.real is not None and s.real not in reported
    ]


def cross_object_findings(index: Index, severities: dict[str, str], problems: list[str],
                          params: dict[str, dict] | None = None,
                          settings: Settings | None = None, via: str = "") -> list[Finding]:
    """Findings of the enabled cross-object rules, on reported objects only."""
    found = []
    metas = rule_index()
    params = params or {}
    settings = settings or Settings()
    for rule_id, rule in INDEX_RULES.items():
        if rule_id not in severities:
            continue
        try:
            view = RunView(index, rule_params(metas[rule_id], params.get(rule_id)), settings)
            violations = list(rule.check(view))
        except Exception as exc:  # a bug of ours must not hide the other findings
            problems.append(f"internal error in rule {rule_id}: {type(exc).__name__}: {exc} "
                            f"(please report this)")
            continue
        for violation in violations:
            f = violation.facts
            if f.context_only:
                continue
            anchor = f.anchors[violation.anchor]
            ref = f.ref or ObjectRef(f.file, f.name or "", (), f.api_version, f.kind,
                                     f.namespace, f.name)
            finding = make_finding(
                rule_id, severities[rule_id], violation.message, f.file, Span(*anchor.position),
                obj=ref, path=anchor.path, stable=anchor.stable_path,
            )
            if via:  # a rendered object's: where the anchor was moved to (a patch, a template)
                where = anchor.file or ref.source
                finding = finding._replace(file=display(where), source=where, via=via)
            found.append(finding)
    return found

"""One ``k8slint check`` run, from options to a finished summary.

files -> (config excludes, kustomize patches) -> lint (one process or a pool) ->
suppressions -> baseline -> summary. The command line only parses and prints.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import checks, interrupt
from .briefs import rule_index
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
from .suppress import Suppression, apply
from .versions import NEWEST, parse_version, shown, supported

if TYPE_CHECKING:
    from .cache import ResultCache
    from .custom import CustomRule
    from .schemas import CrdVersion

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
    cache: bool = True  # read and keep per-source results in the result cache (cache.py)
    cache_dir: str | None = None  # the cache's folder, used even inside what is linted


class Outcome(NamedTuple):
    summary: RunSummary
    config: Config
    problems: list[str]  # files that could not be read, rule failures
    all_findings: list[Finding]  # before the baseline: what --write-baseline records


def effective_config(options: Options) -> Config:
    path = Path(options.config) if options.config else find_config(Path.cwd(), options.paths)
    return load_config(path) if path else EMPTY


class Prepared(NamedTuple):
    """A run once its files are found and planned, before any is linted."""

    severities: dict[str, str]
    params: dict[str, dict]
    version: str  # the target Kubernetes release
    settings: Settings  # what every rule of the run is handed
    render: RenderSettings
    plan: Plan
    sources: list[Source]  # the units to lint: plain files, charts, build roots, context
    summary: RunSummary  # with what the walk and the plan counted
    problems: list[str]
    cache: ResultCache | None = None  # where per-source results are kept between runs


class CustomFile(NamedTuple):
    """A file with objects of API groups no built-in schema has: read again, once the
    run's CRDs are known, for the schema rules (custom_resource_findings)."""

    source: Source | None
    custom_groups: set[str]


class Tally:
    """What the linted files add up to: counts, findings, suppressions, the cross-object
    facts by unit. A run and a merge of shards feed it the same results."""

    def __init__(self, summary: RunSummary, problems: list[str]):
        self.summary = summary
        self.problems = problems
        # The one CRD per group, version and kind that chosen_crds would choose, with its
        # place: every copy of a CRD kept would hold its whole schema (4 MB a corpus copy).
        self._crds: dict[tuple[str, str, str], tuple[str, int, CrdVersion]] = {}
        self.custom: list[CustomFile] = []  # files with objects of groups no built-in schema has
        self.findings: list[Finding] = []
        self.suppressions: list[Suppression] = []
        self.facts: dict[str, list[Facts]] = {}  # by deployable unit: "" the plain files
        self.origins: set[str] = set()  # the files read: plain ones, and units' files
        self.units: dict[str, str] = {}  # a unit's group -> its folder as reports show it

    @property
    def crds(self) -> list[CrdVersion]:
        """The CRDs chosen_crds would choose among all those read, in the order it sorts
        them in (by path, then by place in their file)."""
        return [crd for _, _, crd in sorted(self._crds.values(), key=lambda kept: kept[:2])]

    def take(self, result: FileResult) -> None:
        summary = self.summary
        if result.facts:
            self.facts.setdefault(result.group, []).extend(result.facts)
        for place, crd in enumerate(result.crds):
            key = (crd.group, crd.version, crd.kind)
            kept = self._crds.get(key)
            if kept is None or (crd.source, place) < kept[:2]:
                self._crds[key] = (crd.source, place, crd)
        if result.custom_groups:
            self.custom.append(CustomFile(result.source, result.custom_groups))
        if result.context:
            summary.context_files += 1
            return
        if result.not_manifest:
            summary.not_manifests += 1
            return
        self.origins.update(result.origins)  # a plain file itself, a unit's files
        if result.unit is not None:
            summary.units.append(result.unit)
            self.units.setdefault(result.group, result.unit.display)
        for kind, count in result.schemaless.items():
            summary.schemaless[kind] = summary.schemaless.get(kind, 0) + count
        summary.documents += result.documents
        summary.objects += result.objects
        self.findings.extend(result.findings)
        self.suppressions.extend(result.suppressions)
        self.problems.extend(result.errors)


def run(options: Options, config: Config) -> Outcome:
    frozen = False
    try:
        with RenderTemp() as temp:
            prep = prepare(options, config, temp)
            tally = Tally(prep.summary, prep.problems)
            lint_run(prep, options, config, prep.sources, tally.take, tally.take)
            # Every result is kept to the end of the run: frozen, they are not walked again
            # by the collections the re-check and the cross-object rules set off (one full
            # collection cost 20 ms on the corpus, as much as all the cross-object rules).
            if gc.get_freeze_count() == 0:  # (a caller that froze its own is left alone)
                gc.freeze()
                frozen = True
            interrupt.check()
            if tally.crds and tally.custom:
                found, groups = custom_resource_findings(
                    options, tally.custom, chosen_crds(tally.crds, prep.version), prep.severities,
                    prep.params, prep.settings, prep.problems, prep.cache)
                tally.findings.extend(found)
                prep.summary.schemaless = without_groups(prep.summary.schemaless, groups)
        if prep.cache is not None:  # SARIF's fix replacements, kept as results are
            prep.summary.replacements = prep.cache.replacements
        return finish(tally, prep.severities, prep.params, prep.settings, config.custom_rules,
                      options.baseline, options.show_suppressed, config)
    finally:
        if frozen:
            gc.unfreeze()


def prepare(options: Options, config: Config, temp: RenderTemp | None = None) -> Prepared:
    """The run's settings, and its files found and planned into units; ``temp``: where
    engines may write while the run lasts (render.RenderTemp), made when a unit needs it."""
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
    plan = plan_units(sources, context, render, Path.cwd(), options.max_file_size,
                      walk.work_trees)
    sources, context = plan.sources, plan.context
    summary.notices.extend(plan.notices)
    if plan.unrendered and render.mode == RENDER_REQUIRED:
        problems.append(f"rendering is required (--require-render, or render: required in the "
                        f"config), and {len(plan.unrendered)} chart(s) or build root(s) could not "
                        f"be rendered: {', '.join(plan.unrendered[:5])}")
    sources, skipped = _kustomize_roles(sources, options.max_file_size)
    summary.patches_skipped += len(skipped)
    if temp is not None and any(s.role in UNIT_ROLES for s in sources):
        render = render._replace(temp=temp.make())
    summary.root = scanned_root(sources)
    schemas = any(rule in severities for rule in checks.rules_of("schema"))
    if context and (schemas or any(rule in severities for rule in checks.index_rule_ids())):
        sources += context
    if schemas:  # custom resources are checked once the run's CRDs are known: read it once
        sources = _stdin_read(sources, options.max_file_size)
    summary.kubernetes_version = version
    settings = Settings(kubernetes_version=version)
    cache = result_cache(options, config, severities, params, settings, render, plan, summary)
    return Prepared(severities, params, version, settings, render, plan, sources, summary,
                    problems, cache)


def result_cache(options: Options, config: Config, severities: dict[str, str],
                 params: dict[str, dict], settings: Settings, render: RenderSettings, plan: Plan,
                 summary: RunSummary) -> ResultCache | None:
    """The run's result cache: --cache-dir as named, else the user's cache folder unless
    it lies inside what is linted (a notice says so); None with --no-cache or
    ``cache: false`` in the config."""
    if not (options.cache and config.cache):
        return None
    from .cache import ResultCache, default_folder, run_digest

    if options.cache_dir:
        folder: Path | None = Path(os.path.abspath(options.cache_dir))
    else:
        scanned = [p for p in (*options.paths, *options.context) if p != "-"]
        folder, why = default_folder(scanned)
        if folder is None:
            summary.notices.append(f"result cache off: {why}")
            return None
    assert folder is not None
    digest = run_digest(severities, params, options.max_file_size, settings, config.custom_rules)
    return ResultCache(folder, digest, render, plan.inputs, options.max_file_size)


def lint_run(prep: Prepared, options: Options, config: Config, sources: list[Source],
             take: Callable[[FileResult], None], take_unbuilt: Callable[[FileResult], None],
             skipped: list[str] | None = None, built: set[str] | None = None) -> None:
    """Lint ``sources`` (each whole unit), handing each result to ``take``; then the files
    of the build roots whose build failed, one by one, to ``take_unbuilt``. ``skipped``
    collects the patch files of those roots that were left out (also counted). ``built``:
    when given, only the roots among ``sources`` are known, and those that built are
    added to it; a file another root reads too is then linted here all the same."""
    progress = options.progress(len(sources)) if options.progress else None
    failed: list[str] = []  # build roots whose build failed
    # What a run keeps grows with the repository, and the cyclic collector walks all of it
    # again and again: on ten copies of the corpus that made a linear run twice as slow.
    # Loaded files hold no reference cycles (a recursive alias aside, a few nodes kept to
    # the end), so reference counting frees them alone.
    collecting = gc.isenabled()
    gc.disable()
    lint = partial(lint_all, severities=prep.severities, jobs=options.jobs or default_jobs(),
                   params=prep.params, max_file_size=options.max_file_size,
                   settings=prep.settings, custom_rules=config.custom_rules, render=prep.render)
    if prep.cache is not None:  # results read back where they are kept, the others kept
        lint = partial(prep.cache.lint, lint)
    try:
        for result in lint(sources, progress=progress):
            if result.unit is not None and result.unit.failed and result.unit.kind == BUILD:
                failed.append(result.group)
                result.findings = [_with_fallback(f, prep.plan.patches.get(result.group, 0))
                                   for f in result.findings]
            elif built is not None and result.unit is not None and result.unit.kind == BUILD:
                built.add(result.group)
            take(result)
        if failed:  # what a failed build would have read, linted file by file instead
            again, left_out = unbuilt_files(prep.plan, failed, options.max_file_size, built)
            prep.summary.patches_skipped += len(left_out)
            if skipped is not None:
                skipped.extend(left_out)
            for result in lint(again):
                take_unbuilt(result)
    finally:
        if collecting:
            gc.enable()
        if progress is not None and hasattr(progress, "close"):
            progress.close()


def finish(tally: Tally, severities: dict[str, str], params: dict[str, dict], settings: Settings,
           custom_rules: Sequence[CustomRule], baseline: str | None, show_suppressed: bool,
           config: Config) -> Outcome:
    """Cross-object rules per unit, suppressions, the baseline: the run's outcome."""
    summary, problems = tally.summary, tally.problems
    summary.files = len(tally.origins)
    summary.units.sort(key=lambda u: (u.kind, u.display))  # the same whatever the lint order
    findings = tally.findings
    for group, unit_facts in tally.facts.items():
        via = tally.units.get(group, group) if group else ""
        findings.extend(cross_object_findings(Index(unit_facts), severities, problems, params,
                                              settings, via=via))
    ran = {rule for rule in severities if rule not in META_RULES}
    known = set(rule_index()) | {rule.id for rule in custom_rules}
    # Suppressions first, each copy of a finding judged by its own unit's annotations;
    # then the copies two units give alike (and alike suppressed or not) become one.
    applied = apply(findings, tally.suppressions, ran, severities, known)
    kept = merged(applied.kept) + applied.meta
    quiet = merged([f._replace(suppressed=s.reason) for f, s in applied.suppressed])
    summary.suppressed = len(quiet)
    all_findings = list(kept)
    if baseline:
        from .baseline import Baseline

        kept, summary.baseline_known = Baseline(Path(baseline)).split(kept)
    if show_suppressed:
        kept += quiet
    # Ties of the report's order (one line of a base, through two overlays) broken the same
    # whatever order the units were linted in. (``sort_key`` spelt out: a flat tuple whose
    # first item is a string compares faster, in the same order.)
    summary.findings = sorted(kept, key=lambda f: (f.file, f.line, f.column, f.rule, f.message,
                                                   f.via, repr(f.unit)))
    if custom_rules:
        from .custom import meta

        summary.custom_rules = [meta(rule) for rule in custom_rules]
    return Outcome(summary, config, problems, all_findings)


def without_groups(schemaless: dict[str, int], groups: frozenset[str]) -> dict[str, int]:
    """The counts of objects without a schema, less those of groups a CRD of the run defines."""
    return {key: count for key, count in schemaless.items()
            if key.rpartition("/")[0] not in groups}


def render_settings(options: Options, config: Config) -> RenderSettings:
    """How charts and build roots are rendered: the command line over the config."""
    settings = config.render
    if options.render is not None:
        settings = settings._replace(mode=options.render)
    if options.helm_values:
        settings = settings._replace(helm_values=settings.helm_values + tuple(
            os.path.abspath(p) for p in options.helm_values))
    return settings


def _kustomize_roles(sources: list[Source], max_size: int) -> tuple[list[Source], list[str]]:
    """Files of kustomizations that are not built (rendering off, no kustomize, a build
    that failed): patches skipped as fragments (their real paths returned), resources
    marked as bases."""
    files = [s.real for s in sources if s.real is not None and s.role not in UNIT_ROLES]
    if not files:
        return sources, []
    from .kustomize import kustomize_roles

    roles = kustomize_roles(files, Path.cwd(), max_size)
    skipped: list[str] = []
    if roles.patches:
        skipped = [s.real for s in sources if s.real in roles.patches and s.real is not None]
        sources = [s for s in sources if s.real not in roles.patches]
    if roles.bases:
        sources = [s._replace(role=KUSTOMIZE_BASE) if s.real in roles.bases else s
                   for s in sources]
    return sources, skipped


def _with_fallback(finding: Finding, patches: int) -> Finding:
    """A build's error, saying what becomes of the root's files."""
    if finding.rule != "kustomize-build-error":
        return finding
    skipped = (f"; its {patches} patch file{'s are' if patches != 1 else ' is'} skipped"
               if patches else "")
    return finding._replace(message=f"{finding.message} (the root's files are linted one by "
                                    f"one instead{skipped})")


def unbuilt_files(plan: Plan, failed: list[str], max_size: int,
                  built: set[str] | None = None) -> tuple[list[Source], list[str]]:
    """The files of the roots whose build failed that no build that worked has read:
    linted one by one, patches skipped (as without kustomize; their real paths returned).
    ``built``: the roots known to have built (None: every root that did not fail)."""
    covered = {s.real for root, files in plan.fallback.items()
               if (root not in failed if built is None else root in built) for s in files}
    again: dict[str, Source] = {}
    for root in failed:
        for source in plan.fallback.get(root, ()):
            if source.real not in covered and source.real is not None:
                again.setdefault(source.real, source)
    return _kustomize_roles(list(again.values()), max_size)


def merged(findings: list[Finding]) -> list[Finding]:
    """One finding where two units give the same one (a base built alike by two
    overlays, its objects renamed or not): it names both, and is the copy of the unit
    whose name sorts first, whatever order the units were linted in (by a pool, by
    shards). Two objects of one unit (a chart's loop) stay two findings, however alike."""
    slots: dict[tuple, list[list]] = {}  # key -> [its units, index in out, the kept copy's unit]
    out: list[Finding] = []
    for f in findings:
        if not f.via:
            out.append(f)
            continue
        key = (f.rule, f.source, f.line, f.column, f.message, f.path, f.suppressed)
        places = slots.setdefault(key, [])
        slot = next((p for p in places if f.via not in p[0]), None)
        if slot is None:
            places.append([{f.via}, len(out), f.via])
            out.append(f)
            continue
        units, at, own = slot
        units.add(f.via)
        kept = out[at]
        if f.via < own:
            kept, slot[2] = f, f.via
        out[at] = kept._replace(via=", ".join(sorted(units)))
    return out


def custom_resource_findings(options: Options, custom: Sequence[CustomFile | FileResult],
                             crds: tuple[CrdVersion, ...], severities: dict[str, str],
                             params: dict[str, dict], settings: Settings, problems: list[str],
                             cache: ResultCache | None = None) -> tuple[list[Finding], frozenset[str]]:
    """The schema rules' findings on custom resources whose group a CRD of the run
    defines: their files are read again (or their re-check read back from ``cache``), and
    only those objects judged. Also the groups the CRDs define, whose objects are no
    longer without a schema."""
    groups = frozenset(crd.group for crd in crds)
    again = [r for r in custom if r.source is not None and r.custom_groups & groups]
    schema_rules = {rule: severities[rule] for rule in checks.rules_of("schema") if rule in severities}
    found: list[Finding] = []
    lint = partial(lint_all, severities=schema_rules, jobs=options.jobs or default_jobs(),
                   params=params, max_file_size=options.max_file_size,
                   settings=settings._replace(crds=crds), only_groups=groups)
    results = (cache.lint_again(lint, again, crds) if cache is not None
               else lint([r.source for r in again if r.source is not None]))
    for result in results:
        found.extend(result.findings)
        problems.extend(result.errors)
    return found, groups


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
    for rule_id in checks.index_rule_ids():
        if rule_id not in severities:
            continue
        rule = checks.rule(rule_id)
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

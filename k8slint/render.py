"""Helm charts and Kustomize build roots: linted as they deploy, reported where a person edits.

A run is made of *deployable units*: each Helm chart (rendered by a real Helm engine, see
``helm.py``), each Kustomize build root (built by real kustomize, see ``kbuild.py``), and
the plain files outside any chart or build, which together make one more unit.

- Planning (this process): a file inside a chart belongs to the chart (a chart's ``crds/``
  are plain manifests, as Helm installs them unrendered); a file a build root reads belongs
  to the root, and is linted plainly only when the root's build fails (its patches then
  stay skipped). Charts and roots are found from the files the run reports on, so a
  pre-commit run re-renders exactly the charts and roots a changed file belongs to.
- Linting (a worker): the engine renders a unit, lints each rendered stream as if it were a
  file, and moves every finding, cross-object fact and suppression to the place the
  renderer's *place function* names: a template line, a base or patch line, a
  kustomization entry. Findings are then what they are for plain files, with ``via``
  naming the chart or root they came through and an object identity (``unit``) that
  starts with it, so that one base built by two overlays gives two objects.
- Cross-object rules run per unit (``FileResult.group``): a chart's Service meets its own
  Deployment, and two overlays of one base never satisfy each other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .discover import Source, WorkTrees, display, exact, is_within
from .suppress import COMMENT

if TYPE_CHECKING:
    from .findings import Finding
    from .index import Facts
    from .suppress import Suppression

CHART_FILE = "Chart.yaml"  # what makes a folder a Helm chart
CHART = "helm-chart"  # Source.role of a chart: its path is the chart's folder
BUILD = "kustomize-build"  # Source.role of a Kustomize build root: its path is the folder
UNIT_ROLES = (CHART, BUILD)
# What the pre-commit hook passes only because a chart's change re-renders it
# (_helpers.tpl, NOTES.txt): outside a chart such files are not manifests.
CHART_ONLY_SUFFIXES = (".tpl", ".txt")

RENDER_ON, RENDER_OFF, RENDER_REQUIRED = "on", "off", "required"
DEFAULT_TIMEOUT = 60.0
DEFAULT_RELEASE = "release-name"
DEFAULT_NAMESPACE = "default"

Place = tuple[str, int, int]  # (real path of the source file, line, column), 1-based
PlaceFunction = Callable[[int, tuple, int, int], Place]


class ChartSettings(NamedTuple):
    """How one chart is rendered: its values files (absolute), release and namespace."""

    values: tuple[str, ...] = ()
    release: str = DEFAULT_RELEASE
    namespace: str = DEFAULT_NAMESPACE


class RenderSettings(NamedTuple):
    """What the run decides about rendering (the command line over the config)."""

    mode: str = RENDER_ON
    timeout: float = DEFAULT_TIMEOUT
    helm_values: tuple[str, ...] = ()  # absolute paths, applied to every chart, after its own
    release: str = DEFAULT_RELEASE
    namespace: str = DEFAULT_NAMESPACE
    charts: tuple[tuple[str, ChartSettings], ...] = ()  # by the chart's real path
    temp: str | None = None  # the run's folder for what engines write (RenderTemp)

    def chart(self, real: str) -> ChartSettings:
        """The settings of the chart at ``real``: its own entry, else the run's."""
        for path, settings in self.charts:
            if path == real:
                return settings._replace(values=settings.values + self.helm_values)
        return ChartSettings(self.helm_values, self.release, self.namespace)


class UnitReport(NamedTuple):
    """What a worker tells the run about one unit it rendered or built."""

    kind: str  # CHART or BUILD
    display: str  # the chart's or root's folder, as reports show it
    failed: bool  # the render or build gave no objects (its error is a finding)
    seconds: float  # spent in the external engine
    engine: str  # "helm", "helm-python-sdk", "kustomize", "kubectl kustomize"


class Rendering(NamedTuple):
    """A renderer's answer: text to lint with its place functions, and its errors."""

    pieces: list[tuple[str, PlaceFunction]]
    errors: list[tuple[str, int, int, str]]  # (real path, line, column, message)
    seconds: float
    engine: str


# --- planning -------------------------------------------------------------------------------


class Plan(NamedTuple):
    sources: list[Source]  # plain files, then one source per chart and per build root
    fallback: dict[str, list[Source]]  # root -> its files, linted plainly if its build fails
    patches: dict[str, int]  # root -> how many of its patch files the run names
    context: list[Source]  # context files that belong to no chart and no build
    notices: list[str]
    unrendered: list[str]  # charts and roots not rendered for want of an engine
    inputs: dict[str, frozenset[str]]  # build root -> every local file its build reads


def plan_units(sources: list[Source], context: list[Source], settings: RenderSettings,
               top: Path, max_size: int, work_trees: WorkTrees | None = None) -> Plan:
    """Which files are linted plainly and which through a chart or a build root;
    ``work_trees``: what the walk learnt of the folders' repositories, if it is at hand."""
    notices: list[str] = []
    unrendered: list[str] = []
    charts: dict[str, str] = {}  # chart's real folder -> as reports show it
    plain: list[Source] = []
    bounds = _Bounds(top, [s.real for s in [*sources, *context] if s.real is not None],
                     work_trees or WorkTrees())
    for source in sources:
        chart = bounds.chart(source.real) if source.real else None
        if chart is not None:
            charts.setdefault(chart, _unit_display(source, chart))
            if _rendered_only(source.real or "", chart):
                continue
        if not (source.walked and source.exact.lower().endswith(CHART_ONLY_SUFFIXES)):
            plain.append(source)
        # else: a .tpl or .txt file the hook passed (for charts), outside any template
    context = [s for s in context if s.real is None or not _rendered_only(s.real, bounds.chart(s.real))]
    units: list[Source] = []
    if charts:
        from .helm import helm_engine, is_library

        charts = {real: shown for real, shown in charts.items() if not is_library(real)}
    if charts:
        why = ("--no-render" if settings.mode == RENDER_OFF else None if helm_engine()
               else "no Helm engine: put helm on PATH, or pip install 'k8slint[helm]'")
        if why is None:
            units += [Source(shown, real, real=real, exact=exact(shown), role=CHART)
                      for real, shown in sorted(charts.items(), key=lambda item: item[1])]
        else:
            names = sorted(charts.values())
            unrendered += names
            notices.append(f"{_count(len(names), 'Helm chart')} not rendered ({why}), so not "
                           f"linted: {_listed(names)}")

    fallback: dict[str, list[Source]] = {}
    patches: dict[str, int] = {}
    inputs: dict[str, frozenset[str]] = {}
    if settings.mode != RENDER_OFF and plain:
        from .kustomize import kustomization_folders

        folders = kustomization_folders(
            (s.real for s in [*plain, *context] if s.real is not None), top)
        trees = []
        if folders:  # kbuild (subprocess, tempfile) is imported only where it is needed
            from .kbuild import build_roots, kustomize_command

            trees = build_roots(folders)
        if trees and kustomize_command() is None:
            names = sorted(display(os.path.relpath(t.root)) for t in trees)
            unrendered += names
            notices.append(f"{_count(len(names), 'Kustomize build root')} not built (neither "
                           f"kustomize nor kubectl is on PATH): its files are linted one by one, "
                           f"its patches skipped: {_listed(names)}")
            trees = []
        by_real = {s.real: s for s in plain if s.real is not None}
        built: set[str] = set()
        for tree in trees:
            named = [by_real[f] for f in sorted(tree.files) if f in by_real]
            if not named:
                built.update(tree.files)  # a root only the context reaches: not reported
                continue
            shown = _unit_display(named[0], tree.root)
            units.append(Source(shown, tree.root, real=tree.root, exact=exact(shown),
                                role=BUILD))
            fallback[tree.root] = named
            inputs[tree.root] = tree.files
            patches[tree.root] = sum(1 for s in named if s.real in tree.patches)
            built.update(tree.files)
        plain = [s for s in plain if s.real not in built]
        context = [s for s in context if s.real not in built]
    return Plan(plain + units, fallback, patches, context, notices, unrendered, inputs)


def is_chart(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, CHART_FILE))


def chart_of(path: str, top: str | None = None) -> str | None:
    """The chart (real path) a file belongs to: the nearest folder above it with
    Chart.yaml, then on up through subcharts (a chart in a chart's ``charts/`` folder
    renders as part of that chart), looking no higher than ``top`` when given. A folder
    with Chart.yaml that holds another chart anywhere else does not take it in: Helm
    does not either. Cheap: a stat or two per folder above."""
    real = os.path.realpath(path)
    folder = real if os.path.isdir(real) else os.path.dirname(real)
    return _chart_above(folder, os.path.realpath(top) if top is not None else None)


def _chart_above(folder: str, stop: str | None,
                 is_chart: Callable[[str], bool] = is_chart) -> str | None:
    """``chart_of`` a real folder, looking no higher than the real folder ``stop``."""
    while not is_chart(folder):
        parent = os.path.dirname(folder)
        if folder == stop or parent == folder:
            return None
        folder = parent
    while folder != stop:
        holder = os.path.dirname(folder)
        parent = os.path.dirname(holder)
        if os.path.basename(holder) != "charts" or holder == stop or not is_chart(parent):
            break
        folder = parent
    return folder


# A chart's own files that are inputs of its render, not manifests.
CHART_INPUTS = frozenset({CHART_FILE, "values.yaml", "values.yml", "values.schema.json",
                          "Chart.lock", "requirements.yaml", "requirements.lock"})


def _rendered_only(real: str, chart: str | None) -> bool:
    """Whether a chart's file is an input of its render (a template, Chart.yaml, the
    values, of the chart or of a subchart): rendered, never linted as a file. Its other
    files (crds/, examples, a kustomization kept beside) are files like any other."""
    if chart is None:
        return False
    relative = real[len(chart):].lstrip(os.sep) if is_within(real, chart) else os.path.relpath(real, chart)
    parts = relative.split(os.sep)
    if parts[-1] in CHART_INPUTS and is_chart(os.path.join(chart, *parts[:-1])):
        return True
    return any(part == "templates" and is_chart(os.path.join(chart, *parts[:i]))
               for i, part in enumerate(parts[:-1]))


class _Bounds:
    """How high a file's chart may be looked for: its repository's top (a chart above the
    repository is not the repository's), else the run's folder when the file lies below
    it, else the folder all the run's files outside it share."""

    def __init__(self, top: Path, reals: list[str], work_trees: WorkTrees):
        self.top = str(top.resolve())
        self.work_trees = work_trees
        outside = [r for r in reals if not is_within(r, self.top)]
        self.common = os.path.dirname(os.path.commonpath(outside)) if outside else self.top
        self._charts: dict[str, str | None] = {}  # a folder -> the chart its files belong to
        self._known: dict[str, bool] = {}  # a folder -> whether it holds Chart.yaml

    def chart(self, real: str) -> str | None:
        """``chart_of`` the file, within its bound; asked once per folder (a walk of a
        repository meets each folder many times)."""
        folder = os.path.dirname(real)
        if folder not in self._charts:
            self._charts[folder] = _chart_above(folder, self.of(real), self._is_chart)
        return self._charts[folder]

    def _is_chart(self, folder: str) -> bool:
        known = self._known.get(folder)
        if known is None:
            known = self._known[folder] = is_chart(folder)
        return known

    def of(self, real: str) -> str:
        folder = os.path.dirname(real)
        work_tree = self.work_trees.top(folder)
        if work_tree is not None:
            return work_tree
        if is_within(folder, self.top):
            return self.top
        return self.common if is_within(folder, self.common) else folder


def _unit_display(member: Source, folder: str) -> str:
    """The unit's folder as reports show it, written the way the member file was given
    (``charts/etcd`` for ``charts/etcd/templates/sts.yaml``)."""
    relative = os.path.relpath(member.real or "", folder).replace(os.sep, "/")
    given = member.exact.replace(os.sep, "/")
    if not relative.startswith("../") and given.endswith("/" + relative):
        return display(given[: -len(relative) - 1] or "/")
    if given == relative:
        return "."
    return display(os.path.relpath(folder))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _listed(names: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


# --- rendering (in a worker) ----------------------------------------------------------------


class RenderTemp:
    """The run's own temporary folder: every copy of a chart, every wrapper kustomization
    and the Helm engine's working folder are made inside it, in this process and in the
    workers, so that one removal at the end of the run takes all of it, even what a
    worker stopped mid-render (Ctrl-C, SIGTERM) left behind."""

    def __init__(self) -> None:
        self.path: str | None = None

    def make(self) -> str:
        if self.path is None:
            import tempfile

            self.path = tempfile.mkdtemp(prefix="k8slint-run-")
        return self.path

    def __enter__(self) -> RenderTemp:
        return self

    def __exit__(self, *_: object) -> None:
        if self.path is None:
            return
        import shutil
        import sys

        helm = sys.modules.get("k8slint.helm")
        if helm is not None:  # this process's engine works in the folder: end it first
            helm.stop_engine()
        shutil.rmtree(self.path, ignore_errors=True)
        self.path = None


class _TempRoot:
    """``tempfile``'s folder set to the run's, while an engine runs."""

    def __init__(self, folder: str | None):
        self.folder = folder

    def __enter__(self) -> None:
        import tempfile

        self.before = tempfile.tempdir
        if self.folder is not None and os.path.isdir(self.folder):
            tempfile.tempdir = self.folder

    def __exit__(self, *_: object) -> None:
        import tempfile

        tempfile.tempdir = self.before


def render(source: Source, settings: RenderSettings, kubernetes_version: str) -> Rendering:
    """The unit rendered or built by its engine, in the run's temporary folder."""
    with _TempRoot(settings.temp):
        return _render(source, settings, kubernetes_version)


def _render(source: Source, settings: RenderSettings, kubernetes_version: str) -> Rendering:
    assert source.real is not None
    if source.role == CHART:
        from .helm import helm_engine, render_chart

        chart = settings.chart(source.real)
        rendered = render_chart(source.real, kube_version=kubernetes_version, values=chart.values,
                                release=chart.release, namespace=chart.namespace,
                                timeout=settings.timeout)
        engine = "helm template" if helm_engine() == "helm" else "helm-python-sdk"
        return Rendering([(p.text, p.place) for p in rendered.pieces],
                         [(e.file, e.line, e.column, e.message) for e in rendered.errors],
                         rendered.seconds, engine)
    from .kbuild import build, kustomize_command

    built = build(source.real, timeout=settings.timeout)
    errors = [] if built.error is None else [
        (built.error.file, built.error.line, built.error.column, built.error.message)]
    engine = " ".join(kustomize_command() or ["kustomize"])
    return Rendering([(p.text, p.place) for p in built.pieces], errors, built.seconds, engine)


class Mover:
    """Moves what linting one rendered stream gave to the files a person edits."""

    def __init__(self, unit: Source, piece: int, place: PlaceFunction, text: str):
        self.folder = unit.real or ""
        self.shown = unit.display
        self.via = unit.display
        self.piece = piece
        self._place = place
        self._text = text
        self.files: dict[str, str] = {}  # exact name -> real path, of every file pointed at
        self._texts: dict[str, list[str]] = {}  # name -> its lines, for comments' columns

    def name(self, real: str) -> str:
        """The file as reports show it: relative to the unit's folder as the user gave it."""
        relative = os.path.relpath(real, self.folder)
        shown = exact(os.path.join(self.shown, relative)) if self.shown != "." else exact(relative)
        self.files[shown] = real
        return shown

    def place(self, unit: tuple, path: tuple, line: int, column: int) -> tuple[str, int, int]:
        document = unit[0] if unit else _document_at(self._text, line)
        try:
            real, line, column = self._place(document, path, line, column)
        except Exception:  # a renderer's bug must not lose the finding: keep it unplaced
            real, line, column = self.folder, 1, 1
        return self.name(real), line, column

    def unit(self, unit: tuple) -> tuple:
        return (self.via, self.piece, *unit) if unit else ()

    def finding(self, f: Finding) -> Finding:
        name, line, column = self.place(f.unit, f.path, f.line, f.column)
        width = f.end_column - f.column if f.end_line == f.line else 1
        return f._replace(file=display(name), source=name, line=line, column=column,
                          end_line=line, end_column=column + max(width, 1), unit=self.unit(f.unit),
                          fix=None, via=self.via)

    def facts(self, facts: Facts) -> Facts:
        ref = facts.ref
        unit = ref.unit if ref is not None else ()
        anchors = {}
        for key, anchor in facts.anchors.items():
            name, line, column = self.place(unit, anchor.path, anchor.position.line,
                                            anchor.position.column)
            width = max(anchor.position.end_column - anchor.position.column, 1)
            anchors[key] = anchor._replace(position=anchor.position._replace(
                line=line, column=column, end_line=line, end_column=column + width), file=name)
        origin = self.place(unit, (), 1, 1)[0]
        return facts._replace(
            file=display(origin), anchors=anchors,
            ref=ref._replace(source=origin, unit=self.unit(unit)) if ref is not None else None)

    def comment(self, s: Suppression) -> Suppression:
        """A comment suppression of a rendered template: at its template line (and column
        there, when the template writes it), covering the template line of the rendered
        line it covers."""
        name, line, _ = self.place((), (), s.line, s.column)
        target = s.target_line or s.line
        target_line = line if target == s.line else self.place((), (), target, 1)[1]
        column, end_column = s.column, s.end_column
        written = self._line(name, line)
        match = re.search(COMMENT, written) if written is not None else None
        if match is not None and written is not None:
            column = written.index("#", match.start()) + 1
            end_column = len(written.rstrip()) + 1
        return s._replace(file=name, line=line, column=column, end_column=end_column,
                          target_line=target_line)

    def _line(self, name: str, line: int) -> str | None:
        """Line ``line`` of a file pointed into, read once (at most 10 MiB of it)."""
        lines = self._texts.get(name)
        if lines is None:
            try:
                with open(self.files.get(name, ""), "rb") as stream:
                    lines = stream.read(10 << 20).decode("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            self._texts[name] = lines
        return lines[line - 1] if 0 < line <= len(lines) else None

    def suppression(self, s: Suppression) -> Suppression:
        """An annotation suppression, where the annotation is written."""
        unit = s.target_unit or ()
        name, line, column = self.place(unit, s.path, s.line, s.column)
        return s._replace(file=name, line=line, column=column,
                          end_column=column + max(s.end_column - s.column, 1),
                          target_unit=self.unit(unit))


def unplaced(document: int, path: tuple, line: int, column: int) -> Place:
    """The place function of text no finding is placed in (a render's errors name their
    files and lines themselves)."""
    return "", line, column


_DOCUMENT_START = re.compile(r"^---(?:[ \t]|$)", re.M)


def _document_at(text: str, line: int) -> int:
    """The index of the document holding ``line`` (for a finding with no object: a
    rendered stream that does not parse)."""
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            break
    starts = _DOCUMENT_START.findall(text, 0, offset)
    leading = _DOCUMENT_START.match(text) is not None
    return max(len(starts) - (1 if leading else 0), 0)

"""Report formats. Each is a small function from a finished run to text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..findings import SEVERITIES, Finding

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..catalog import RuleMeta
    from ..fixer import Planned, Replacement
    from ..render import UnitReport

    # (the file's bytes, its fixes, whether it is JSON, how to compute them) -> replacements
    ReplacementsMemo = Callable[[bytes, Sequence[Planned], bool,
                                 Callable[[], list[list[Replacement] | None]]],
                                list[list[Replacement] | None]]


DEFAULT_WIDTH = 100  # a compact report's width when standard output is not a terminal


class RunSummary:
    """What one run found and what it looked at, in report order."""

    __slots__ = ("findings", "files", "documents", "objects", "root", "patches_skipped",
                 "suppressed", "baseline_known", "context_files", "not_manifests", "git_ignored",
                 "links_out", "schemaless", "kubernetes_version", "custom_rules", "units",
                 "notices", "replacements")

    def __init__(self, root: str = "."):
        self.findings: list[Finding] = []
        self.files = 0
        self.documents = 0
        self.objects = 0
        self.root = root  # the folder SARIF's relative URIs start from
        self.patches_skipped = 0  # kustomize patches: fragments, not objects
        self.suppressed = 0  # silenced by a suppression (listed only with --show-suppressed)
        self.baseline_known = 0  # recorded in the baseline, so not reported
        self.context_files = 0  # read for cross-object rules only (--context)
        self.not_manifests = 0  # found in a walk, not parsable, and no sign of a manifest
        self.git_ignored = 0  # files and folders git ignores, left out of folder walks
        self.links_out = 0  # links in walked folders that lead out of the scanned tree
        self.schemaless: dict[str, int] = {}  # objects no schema describes, by group/kind
        self.kubernetes_version: str | None = None  # the release the run checked against
        self.custom_rules: list[RuleMeta] = []  # the config's, described as built-in rules are
        self.units: list[UnitReport] = []  # charts rendered and build roots built
        self.notices: list[str] = []  # what the run could not do and how to enable it
        # How SARIF gets a file's fix replacements when the run has a result cache
        # (cache.ResultCache.replacements); None: computed every time.
        self.replacements: ReplacementsMemo | None = None

    @property
    def active(self) -> list[Finding]:
        """The findings that count: suppressed ones are shown only on request."""
        return [f for f in self.findings if f.suppressed is None]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.active:
            counts[finding.severity] += 1
        return counts

    @property
    def files_with_findings(self) -> int:
        return len({f.file for f in self.active})


def render(fmt: str, summary: RunSummary, *, color: bool = False, compact: bool = False,
           width: int | None = None, category: str | None = None,
           notices: list[str] | None = None) -> str:
    """The report in ``fmt``.

    ``compact`` folds repeated findings (text only), wrapped at ``width`` columns (None: the
    terminal's width, else 100); ``category`` names the SARIF run (``automationDetails.id``);
    a format appends to ``notices`` what the user must hear on standard error (results cut
    to fit a consumer's limit).
    """
    if notices is None:
        notices = []
    if fmt == "text":
        from .text import no_workflow_commands, render_text

        if compact:
            from .compact import render_compact

            return no_workflow_commands(render_compact(summary, color=color, width=width))
        return no_workflow_commands(render_text(summary, color=color))
    if fmt == "json":
        from .json import render_json

        return render_json(summary)
    if fmt == "sarif":
        from .sarif import render_sarif

        return render_sarif(summary, category=category, notices=notices)
    if fmt == "github":
        from .github import render_github

        return render_github(summary)
    if fmt == "junit":
        from .junit import render_junit

        return render_junit(summary)
    if fmt == "gitlab":
        from .gitlab import render_gitlab

        return render_gitlab(summary)
    raise ValueError(f"unknown format {fmt!r}")

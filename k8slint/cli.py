"""The command line: ``k8slint check``, ``merge``, ``fix``, ``rules``, ``explain``.

Only click is imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # for annotations only: a run imports them when it needs them
    from .config import Config
    from .report import RunSummary
    from .session import Options, Outcome
    from .shard import ShardSpec

FAIL_ON = ("error", "warning", "info", "never")


class RuleId(click.ParamType):
    """A rule id. Whether the rule exists is known once the config (which may define custom
    rules) is read: see :func:`_known_rules`."""

    name = "RULE"


def _known_rules(option: str, given: Sequence[str], known: Iterable[str]) -> None:
    """A usage error for the first unknown rule id, with the closest known ids as suggestions."""
    known = list(known)
    for value in given:
        if value in known:
            continue
        import difflib

        close = difflib.get_close_matches(value, known, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; see `k8slint rules`"
        raise click.BadParameter(f"unknown rule {value!r}{hint}", param_hint=f"'{option}'")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="k8slint", prog_name="k8slint")
def cli() -> None:
    """Lint Kubernetes manifests for what breaks rollouts, upgrades and node drains."""


def _default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


REPORT_FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


class ReportTarget(click.ParamType):
    """``FORMAT:PATH``: one more report of this run, written to its own file."""

    name = "FORMAT:PATH"

    def convert(self, value: str, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, str]:
        fmt, sep, path = value.partition(":")
        if not sep or fmt not in REPORT_FORMATS or not path:
            self.fail(f"expected FORMAT:PATH with FORMAT one of {', '.join(REPORT_FORMATS)}, "
                      f"got {value!r}", param, ctx)
        return fmt, path


def _category(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --category that code scanning accepts as an automationDetails.id part."""
    if value is not None:
        from .report.sarif import automation_id

        try:
            automation_id(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--category") from None
    return value


def _report_targets(command: Callable) -> Callable:
    """--format, --output, --report and --category: where a report goes and what SARIF
    names it, alike for check and merge."""
    for option in reversed((
        click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS),
                     default=_default_format, show_default="text; github when GITHUB_ACTIONS is set",
                     help="Report format on standard output (or in --output)."),
        click.option("--output", "-o", type=click.Path(dir_okay=False),
                     help="Write the --format report to FILE (atomically) instead of standard output."),
        click.option("--report", "reports", multiple=True, type=ReportTarget(),
                     help="Also write a report in FORMAT to PATH, e.g. sarif:k8slint.sarif (repeatable)."),
        click.option("--category", metavar="NAME", callback=_category,
                     help="SARIF: the run's category for code scanning (automationDetails.id "
                          "k8slint/NAME/)."),
    )):
        command = option(command)
    return command


def _run_outcome(whose_config: str) -> Callable[[Callable], Callable]:
    """--fail-on, --fail-if-no-objects, --show-suppressed, --baseline and --write-baseline:
    what a run's findings come to, alike for check and merge (``whose_config``: where
    --fail-on's default comes from, as its help says)."""
    def decorate(command: Callable) -> Callable:
        for option in reversed((
            click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
                         help="Exit 1 when a finding has this severity or a higher one  "
                              f"[default: {whose_config} failOn, else info]"),
            click.option("--fail-if-no-objects", is_flag=True,
                         help="Exit 1 when the run found no Kubernetes object at all (a wrong "
                              "path, say)."),
            click.option("--show-suppressed", is_flag=True,
                         help="List suppressed findings too, with their reasons."),
            click.option("--baseline", type=click.Path(dir_okay=False),
                         help="Report only findings that are not recorded in this baseline."),
            click.option("--write-baseline", type=click.Path(dir_okay=False),
                         help="Record the run's findings as the baseline in FILE."),
        )):
            command = option(command)
        return command
    return decorate


def _say(message: str) -> None:
    """One line on standard error; user text in it (file names, config keys) cannot forge
    workflow commands or drive the terminal."""
    from .report.text import printable

    click.echo(printable(message), err=True)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True, path_type=str))
@_report_targets
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: the nearest .k8slint.yaml from here up to the repository root).")
@click.option("--context", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Also read the manifests below DIR, only so that cross-object rules see "
                   "their objects (a Service's pods, a workload's budget); nothing there is "
                   "reported. The pre-commit hook passes the repository (repeatable).")
@click.option("--enable", multiple=True, type=RuleId(), help="Run RULE too (repeatable).")
@click.option("--disable", multiple=True, type=RuleId(), help="Do not run RULE (repeatable).")
@_run_outcome("the config's")
@click.option("--kubernetes-version", metavar="1.N",
              help="The Kubernetes release to check against (schemas, removed APIs), 1.28 to "
                   "1.37 [default: the config's kubernetesVersion, else 1.37].")
@click.option("--no-gitignore", is_flag=True,
              help="In folders, lint files git ignores too (by default they are skipped).")
@click.option("--pre-commit", "hook", is_flag=True,
              help="PATHS are files the pre-commit hook passes: each is a file (even one named "
                   "-), and files that are not manifests are skipped as in a folder walk.")
@click.option("--max-file-size", default="10M", show_default=True, metavar="SIZE",
              help="Report files larger than SIZE (bytes, or with K, M, G) without reading them.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Worker processes for large runs; 0 (the default) uses every CPU.")
@click.option("--compact", is_flag=True,
              help="Text format: fold repeated findings, one legend per rule "
                   "(json, sarif, github, junit and gitlab are never folded).")
@click.option("--no-render", is_flag=True,
              help="Do not render Helm charts or build Kustomize roots (their templates are "
                   "not linted; kustomizations' files are linted one by one, patches skipped).")
@click.option("--require-render", is_flag=True,
              help="Exit 2 when a chart or build root cannot be rendered for want of an engine.")
@click.option("--helm-values", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="FILE", help="Values file for every chart rendered, after its own "
                                   "values.yaml and the config's (repeatable).")
@click.option("--cache-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Keep per-file results in DIR (even inside the linted tree) [default: "
                   "$XDG_CACHE_HOME/k8slint/results, else ~/.cache/k8slint/results].")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor keep per-file results (docs/cache.md).")
@click.option("--shard", "shard", metavar="K/N",
              help="Lint only the K-th of N parts of the run (K from 1) and write what it found "
                   "to --partial; `k8slint merge` makes the report (docs/partials.md).")
@click.option("--partial", "partial_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="With --shard: where to write the shard's partial (JSON, atomically).")
def check(paths: tuple[str, ...], fmt: str, output: str | None, reports: tuple[tuple[str, str], ...],
          category: str | None, config_path: str | None, context: tuple[str, ...],
          enable: tuple[str, ...], disable: tuple[str, ...], fail_on: str | None,
          fail_if_no_objects: bool, show_suppressed: bool, baseline: str | None,
          write_baseline: str | None, kubernetes_version: str | None, no_gitignore: bool,
          hook: bool, max_file_size: str, jobs: int, compact: bool, no_render: bool,
          require_render: bool, helm_values: tuple[str, ...], cache_dir: str | None,
          no_cache: bool, shard: str | None, partial_path: str | None) -> int:
    """Lint PATHS: files, folders (searched for *.yaml, *.yml, *.json) or - for stdin.

    With no PATHS the current folder is linted. Exit codes: 0 no finding at or above
    --fail-on, 1 findings, 2 usage, configuration or I/O error.
    """
    from . import progress as bar
    from .baseline import BaselineError
    from .briefs import rule_index
    from .config import ConfigError
    from .engine import UsageError, parse_size
    from .runner import WorkerDied
    from .session import Options, effective_config, run

    if hook:
        _refuse_hook_options(paths)
    spec = _shard_spec(shard, partial_path)
    if spec is not None:
        _refuse_report_options(output=output, report=reports, category=category, fail_on=fail_on,
                               fail_if_no_objects=fail_if_no_objects, show_suppressed=show_suppressed,
                               baseline=baseline, write_baseline=write_baseline, compact=compact)
        if click.get_current_context().get_parameter_source("fmt") == click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("--format makes a report, which `k8slint merge` writes from "
                                   "the partials; a shard writes only its --partial")
    if no_render and require_render:
        raise click.UsageError("--no-render and --require-render contradict each other")

    try:
        size_limit = parse_size(max_file_size)
    except ValueError:
        raise click.BadParameter(f"expected a size such as 10M, 512K or 1048576, got {max_file_size!r}",
                                 param_hint="--max-file-size") from None
    if kubernetes_version is not None:
        from .versions import supported

        try:
            supported(kubernetes_version)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--kubernetes-version") from None
    options = Options(paths, enable, disable, config_path, jobs, show_suppressed, baseline,
                      max_file_size=size_limit, context=context,
                      kubernetes_version=kubernetes_version, write_baseline=write_baseline,
                      progress=lambda n: bar.ProgressBar(n) if bar.wanted(n) else None,
                      gitignore=not no_gitignore, walk_rules_for_named=hook,
                      render="off" if no_render else "required" if require_render else None,
                      helm_values=helm_values, cache=not no_cache, cache_dir=cache_dir)
    try:
        config = effective_config(options)
        known = [*rule_index(), *(rule.id for rule in config.custom_rules)]
        _known_rules("--enable", enable, known)
        _known_rules("--disable", disable, known)
        if spec is not None:
            return _run_shard(options, config, spec, partial_path or "")
        outcome = run(options, config)
    except ConfigError as exc:
        for problem in exc.problems:
            _say(f"k8slint: config error: {problem}")
        return 2
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except BaselineError as exc:  # bad input, not bad usage: no usage banner
        raise click.ClickException(str(exc)) from None
    except WorkerDied as exc:
        raise click.ClickException(str(exc)) from None
    return _report(outcome, fmt=fmt, output=output, reports=reports, category=category,
                   compact=compact, fail_on=fail_on, fail_if_no_objects=fail_if_no_objects,
                   write_baseline=write_baseline)


def _report(outcome: Outcome, *, fmt: str, output: str | None,
            reports: tuple[tuple[str, str], ...], category: str | None, compact: bool,
            fail_on: str | None, fail_if_no_objects: bool, write_baseline: str | None) -> int:
    """Write the reports of a run (or of a merge of shards) and say its exit code."""
    from .findings import SEVERITY_RANK
    from .output import write_text
    from .report import render

    summary = outcome.summary
    config = outcome.config

    if write_baseline:
        from .baseline import write_baseline as write

        try:
            recorded = write(Path(write_baseline), outcome.all_findings)
        except OSError as exc:
            raise click.ClickException(f"cannot write {write_baseline}: {exc.strerror or exc}") from None
        _say(f"k8slint: recorded {recorded} findings in {write_baseline}")
    # What the run could not do (a chart not rendered): the text report says it in its
    # summary; with another format on standard output, standard error does.
    notices: list[str] = [] if fmt == "text" and output is None else list(summary.notices)
    if output is None and sys.stdout is None:
        raise click.ClickException("standard output is closed, so the report cannot be written "
                                   "(write it to a file with --output)")
    color = (output is None and fmt == "text" and sys.stdout.isatty()
             and "NO_COLOR" not in os.environ)
    from .report import DEFAULT_WIDTH

    # A compact report wraps at the terminal's width on a terminal, and at a fixed width in
    # a file, whatever terminal the run happened to start from.
    text = render(fmt, summary, color=color, compact=compact, category=category, notices=notices,
                  width=None if output is None else DEFAULT_WIDTH)
    targets = [(fmt, output)] + [(f, p) for f, p in reports]
    for report_fmt, path in targets:
        if path is None:
            click.echo(text, nl=False)
            continue
        body = text if report_fmt == fmt and path == output else render(
            report_fmt, summary, compact=compact, category=category, notices=notices,
            width=DEFAULT_WIDTH)
        try:
            write_text(path, body)
        except OSError as exc:
            raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        _append_step_summary(os.environ["GITHUB_STEP_SUMMARY"], summary)
    for notice in dict.fromkeys(notices):
        _say(f"k8slint: {notice}")
    for problem in outcome.problems:
        _say(f"k8slint: error: {problem}")
    if outcome.problems:
        return 2
    if fail_if_no_objects and summary.objects == 0:
        _say("k8slint: no Kubernetes object was found, and --fail-if-no-objects was given")
        return 1
    threshold = SEVERITY_RANK.get(fail_on or config.fail_on or "info", 99)
    failing = any(SEVERITY_RANK[f.severity] >= threshold for f in summary.active)
    return 1 if failing else 0


def _shard_spec(shard: str | None, partial_path: str | None) -> ShardSpec | None:
    """``--shard K/N`` and ``--partial FILE``, which go together; None without them."""
    if shard is None and partial_path is None:
        return None
    if shard is None:
        raise click.UsageError("--partial goes with --shard K/N: it is where a shard writes its part")
    if partial_path is None:
        raise click.UsageError("--shard needs --partial FILE: where the shard writes what it found, "
                               "for `k8slint merge`")
    from .shard import parse_shard

    try:
        return parse_shard(shard)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None


def _refuse_report_options(**given: object) -> None:
    """Options that shape a report or its exit code belong to ``merge``, not to a shard."""
    for name, value in given.items():
        if value:
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} belongs to `k8slint merge`: a shard writes only its "
                                   f"--partial, and the merge of every shard makes the report")


def _run_shard(options: Options, config: Config, spec: ShardSpec, path: str) -> int:
    """Lint one shard and write its partial: exit 0 whatever it found, 2 when a file could
    not be read or the partial not written (the problems are in the partial too)."""
    from .shard import run_shard, write_partial

    data, problems = run_shard(options, config, spec)
    try:
        write_partial(path, data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    findings = sum(len(r["findings"]) for r in data["results"])
    _say(f"k8slint: shard {spec.k}/{spec.n}: {len(data['results'])} unit(s) linted, {findings} "
         f"finding(s) before suppressions and cross-object rules, written to {path}")
    for problem in problems:
        _say(f"k8slint: error: {problem}")
    return 2 if problems else 0


@cli.command()
@click.argument("partials", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@_report_targets
@_run_outcome("the shards' config's")
@click.option("--compact", is_flag=True,
              help="Text format: fold repeated findings, one legend per rule.")
def merge(partials: tuple[str, ...], fmt: str, output: str | None,
          reports: tuple[tuple[str, str], ...], category: str | None, fail_on: str | None,
          fail_if_no_objects: bool, show_suppressed: bool, baseline: str | None,
          write_baseline: str | None, compact: bool) -> int:
    """Merge the partials of every shard of one run (`check --shard K/N --partial FILE`)
    into one report: cross-object rules over all shards' objects, suppressions, baseline.

    Run it from the folder the shards ran in (report paths are relative to it). Exit codes
    as for check: 0 no finding at or above --fail-on, 1 findings, 2 usage or I/O error, or
    partials that are missing, duplicated or not of one run.
    """
    from .baseline import BaselineError
    from .shard import MergeError
    from .shard import merge as merge_partials

    try:
        outcome = merge_partials(list(partials), baseline, show_suppressed)
    except (MergeError, BaselineError) as exc:
        raise click.ClickException(str(exc)) from None
    return _report(outcome, fmt=fmt, output=output, reports=reports, category=category,
                   compact=compact, fail_on=fail_on, fail_if_no_objects=fail_if_no_objects,
                   write_baseline=write_baseline)


def _refuse_hook_options(paths: tuple[str, ...]) -> None:
    """The hook's entry ends its options with ``--``, so ``args:`` in a pre-commit config
    arrive as paths. Say so, rather than "no such file": options belong in .k8slint.yaml."""
    for path in paths:
        if path.startswith("-") and path != "-" and not os.path.lexists(path):
            raise click.UsageError(
                f"{path!r} reached the hook as a file name: the hook ends its options with -- so "
                f"that no committed file is ever read as an option, and so pre-commit's args: "
                f"cannot carry options; put them in .k8slint.yaml (failOn, rules, exclude, "
                f"kubernetesVersion)")


def _append_step_summary(path: str, summary: RunSummary) -> None:
    """GitHub's job summary: the file the runner names, appended to as its docs say."""
    from .report.github import step_summary

    try:
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as stream:
            stream.write(step_summary(summary))
    except OSError as exc:
        _say(f"k8slint: cannot write the job summary: {exc.strerror or exc}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--unsafe-fixes", is_flag=True,
              help="Also make the fixes that change behaviour (see `k8slint rules`: fix*).")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print a unified diff of the fixes and write nothing; exit 1 when there is one.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: the nearest .k8slint.yaml from here up to the repository root).")
@click.option("--enable", multiple=True, type=RuleId(), help="Run RULE too (repeatable).")
@click.option("--disable", multiple=True, type=RuleId(), help="Do not run RULE (repeatable).")
@click.option("--kubernetes-version", metavar="1.N",
              help="The Kubernetes release to target, 1.28 to 1.37 [default: the config's "
                   "kubernetesVersion, else 1.37].")
@click.option("--no-gitignore", is_flag=True, help="In folders, fix files git ignores too.")
@click.option("--pre-commit", "hook", is_flag=True,
              help="PATHS are files the pre-commit hook passes (see `check --pre-commit`).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Worker processes for the lint; 0 (the default) uses every CPU.")
def fix(paths: tuple[str, ...], unsafe_fixes: bool, show_diff: bool, config_path: str | None,
        enable: tuple[str, ...], disable: tuple[str, ...], kubernetes_version: str | None,
        no_gitignore: bool, hook: bool, jobs: int) -> int:
    """Repair in place what has one right answer: PATHS are files or folders (not stdin).

    Safe fixes change nothing a cluster does; --unsafe-fixes adds those that change
    behaviour. Every other byte of a file stays. Exit codes: 0 done, 1 --diff found
    something to change or a file was left untouched, 2 usage, configuration or I/O error.
    """
    from .briefs import rule_index
    from .config import ConfigError
    from .engine import UsageError
    from .fixrun import run_fix
    from .report.text import printable
    from .session import Options, effective_config

    if hook:
        _refuse_hook_options(paths)
    if "-" in paths and not hook:
        raise click.BadParameter("fix edits files: standard input cannot be fixed", param_hint="PATHS")
    if kubernetes_version is not None:
        from .versions import supported

        try:
            supported(kubernetes_version)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--kubernetes-version") from None
    # fix edits the files it lints: templates and what builds make are never among them.
    options = Options(paths, enable, disable, config_path, jobs, kubernetes_version=kubernetes_version,
                      gitignore=not no_gitignore, walk_rules_for_named=hook, render="off")
    try:
        config = effective_config(options)
        known = [*rule_index(), *(rule.id for rule in config.custom_rules)]
        _known_rules("--enable", enable, known)
        _known_rules("--disable", disable, known)
        report = run_fix(options, config, unsafe=unsafe_fixes, diff=show_diff, say=_say)
    except ConfigError as exc:
        for problem in exc.problems:
            _say(f"k8slint: config error: {problem}")
        return 2
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    total: dict[str, int] = {}
    changed = refused = unmade = 0
    for done in report.files:
        if done.refused is not None:
            refused += 1
            _say(printable(f"k8slint: {done.file}: not fixed: {done.refused}"))
            continue
        for why in done.skipped:
            unmade += 1
            _say(printable(f"k8slint: {done.file}:{why}"))
        if not done.fixed:
            continue
        changed += 1
        if show_diff:
            click.echo(printable_diff(done.diff), nl=False)
        for rule, n in done.fixed.items():
            total[rule] = total.get(rule, 0) + n
    count = sum(total.values())
    verb = "would fix" if show_diff else "fixed"
    word = "finding" if count == 1 else "findings"
    files = "file" if changed == 1 else "files"
    line = f"k8slint: {verb} {count} {word} in {changed} {files}"
    if total:
        line += " (" + ", ".join(f"{rule} {n}" for rule, n in sorted(total.items())) + ")"
    if report.left_unsafe:
        line += f"; {report.left_unsafe} more with --unsafe-fixes"
    if unmade:
        line += f"; {unmade} {'fix' if unmade == 1 else 'fixes'} not made"
    if refused:
        line += f"; {refused} {'file' if refused == 1 else 'files'} left untouched"
    _say(printable(line))
    for problem in report.problems:
        _say(f"k8slint: error: {problem}")
    if report.problems:
        return 2
    return 1 if refused or unmade or (show_diff and changed) else 0


def printable_diff(diff: str) -> str:
    """A diff with each line made printable (a manifest's text must not drive a terminal)."""
    from .report.text import printable

    return "".join(printable(line.rstrip("\r\n")) + "\n" for line in diff.splitlines(keepends=True))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
def rules(fmt: str) -> int:
    """List every rule: id, severity (or off), summary; the config's custom rules last."""
    from . import docs
    from .engine import default_severities
    from .report.text import printable_lines

    config = _config_for_docs()
    if config is None:
        return 2
    enabled = default_severities(configured=config.severities, custom=config.custom_rules)
    if fmt == "json":
        click.echo(docs.rules_json(enabled, config.custom_rules), nl=False)
    elif fmt == "markdown":
        click.echo(printable_lines(docs.rules_markdown(config.custom_rules)), nl=False)
    else:
        click.echo(printable_lines(docs.rules_text(enabled, config.custom_rules)), nl=False)
    return 0


@cli.command()
@click.argument("rule", type=RuleId())
def explain(rule: str) -> int:
    """Explain RULE: why it matters, a failing example, the fix (for a custom rule, what its
    config says and the JSON Schema it applies)."""
    from .catalog import catalog, with_custom
    from .custom import meta
    from .docs import explain as explain_rule
    from .report.text import printable_lines

    if rule in catalog():  # a built-in rule: whatever the config says, its docs are these
        click.echo(printable_lines(explain_rule(catalog()[rule])), nl=False)
        return 0
    config = _config_for_docs()
    if config is None:
        return 2
    metas = with_custom(meta(c) for c in config.custom_rules)
    _known_rules("RULE", [rule], metas)
    click.echo(printable_lines(explain_rule(metas[rule], config.custom_rules)), nl=False)
    return 0


def _config_for_docs() -> Config | None:
    """The config ``rules`` and ``explain`` describe (None after saying why it is bad)."""
    from .config import ConfigError
    from .session import Options, effective_config

    try:
        return effective_config(Options(()))
    except ConfigError as exc:
        for problem in exc.problems:
            _say(f"k8slint: config error: {problem}")
        return None


def _dash_after_double_dash(args: list[str]) -> list[str]:
    """After ``--`` every argument is a path: a file named ``-`` is that file, not stdin."""
    if "--" not in args:
        return args
    cut = args.index("--") + 1
    return args[:cut] + [os.path.join(".", a) if a == "-" else a for a in args[cut:]]


def _show(exc: click.ClickException) -> None:
    """click's own error display, with user text escaped (a path or a rule id may carry
    a newline that would forge a workflow command, or a terminal escape)."""
    from .report.text import printable

    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        click.echo(exc.ctx.get_usage(), err=True)
        hint = (f"Try '{exc.ctx.command_path} {exc.ctx.help_option_names[0]}' for help.\n"
                if exc.ctx.help_option_names else "")
        click.echo(hint, err=True, nl=False)
    click.echo(f"Error: {printable(exc.format_message())}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of raising it."""
    from . import interrupt

    args = _dash_after_double_dash(list(argv) if argv is not None else sys.argv[1:])
    restore_signals = interrupt.install()
    # A command's modules and the objects they define (classes, records, compiled patterns)
    # all live to the end: the cyclic collector, run every few hundred allocations while
    # they load, finds nothing to free and cost a short run a tenth of its time (the
    # ``k8slint`` command pauses it before click loads: command.py). The lint itself runs
    # with it off too (session.lint_run); a rendered unit's cycles are collected when it
    # is done (engine._lint_unit).
    collecting = gc.isenabled()
    gc.disable()
    try:
        code = cli.main(args=args, prog_name="k8slint", standalone_mode=False)
    except click.ClickException as exc:
        _show(exc)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except BrokenPipeError:
        # The reader went away (| head): nothing left to say, and nowhere to say it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        interrupt.stopped = True
        click.echo("Interrupted.", err=True)
        return 130
    except interrupt.Terminated as exc:
        interrupt.stopped = True
        click.echo(f"Terminated by signal {exc.signum}.", err=True)
        return 128 + exc.signum
    except OSError as exc:  # standard output closed or full: an I/O error, not a bug
        _last_words(f"k8slint: cannot write: {exc.strerror or exc}")
        return 2
    except Exception as exc:  # a bug of ours: one line, not a traceback (K8SLINT_DEBUG=1 shows it)
        if os.environ.get("K8SLINT_DEBUG"):
            raise
        from .report.text import printable

        click.echo(printable(f"k8slint: internal error: {type(exc).__name__}: {exc} (please report "
                             f"this; K8SLINT_DEBUG=1 shows where)"), err=True)
        return 2
    finally:
        restore_signals()
        if collecting:
            gc.enable()
    try:
        sys.stdout.flush()  # here, not at exit, where a failure would print a traceback
    except OSError as exc:
        _last_words(f"k8slint: cannot write: {exc.strerror or exc}")
        return 2
    return code if isinstance(code, int) else 0


def _last_words(message: str) -> None:
    """Say what went wrong on stderr if it still works; then make sure nothing else is
    written to the broken standard output when Python exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    try:
        click.echo(message, err=True)
    except (OSError, ValueError):
        pass


def entry() -> None:
    """The ``k8slint`` command. After Ctrl-C or SIGTERM nothing is left to finish (workers
    stopped, temporary files gone), so the process ends at once, without waiting for the
    worker pool's threads, which may wait forever on a worker that was just stopped."""
    from . import interrupt

    code = main()
    if interrupt.stopped:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(code)
    raise SystemExit(code)

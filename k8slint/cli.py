"""The command line: ``k8slint check``, ``k8slint rules``, ``k8slint explain``.

Only click is imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import click

FAIL_ON = ("error", "warning", "info", "never")


class RuleId(click.ParamType):
    """A known rule id; a typo gets the closest known ids as suggestions."""

    name = "RULE"

    def convert(self, value, param, ctx):
        from .catalog import rule_index

        known = rule_index()
        if value in known:
            return value
        import difflib

        close = difflib.get_close_matches(value, known, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; see `k8slint rules`"
        self.fail(f"unknown rule {value!r}{hint}", param, ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="k8slint", prog_name="k8slint")
def cli() -> None:
    """Lint Kubernetes manifests for what breaks rollouts, upgrades and node drains."""


def _default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]),
              default=_default_format, show_default="text; github when GITHUB_ACTIONS is set",
              help="Report format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to FILE (atomically) instead of standard output.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: the nearest .k8slint.yaml from here up to the repository root).")
@click.option("--context", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Also read the manifests below DIR, only so that cross-object rules see "
                   "their objects (a Service's pods, a workload's budget); nothing there is "
                   "reported. The pre-commit hook passes the repository (repeatable).")
@click.option("--enable", multiple=True, type=RuleId(), help="Run RULE too (repeatable).")
@click.option("--disable", multiple=True, type=RuleId(), help="Do not run RULE (repeatable).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Exit 1 when a finding has this severity or a higher one  [default: the "
                   "config's failOn, else info]")
@click.option("--show-suppressed", is_flag=True, help="List suppressed findings too, with their reasons.")
@click.option("--baseline", type=click.Path(dir_okay=False),
              help="Report only findings that are not recorded in this baseline.")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Record this run's findings as the baseline in FILE.")
@click.option("--kubernetes-version", metavar="1.N",
              help="The Kubernetes release the API-version rules check against "
                   "[default: the config's kubernetesVersion, else the newest one k8slint knows].")
@click.option("--max-file-size", default="10M", show_default=True, metavar="SIZE",
              help="Report files larger than SIZE (bytes, or with K, M, G) without reading them.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Worker processes for large runs; 0 (the default) uses every CPU.")
@click.option("--compact", is_flag=True,
              help="Text format: fold repeated findings into one line per run "
                   "(json, sarif and github are never folded).")
def check(paths: tuple[str, ...], fmt: str, output: str | None, config_path: str | None,
          context: tuple[str, ...], enable: tuple[str, ...], disable: tuple[str, ...], fail_on: str | None,
          show_suppressed: bool, baseline: str | None, write_baseline: str | None,
          kubernetes_version: str | None, max_file_size: str, jobs: int, compact: bool) -> int:
    """Lint PATHS: files, folders (searched for *.yaml, *.yml, *.json) or - for stdin.

    With no PATHS the current folder is linted. Exit codes: 0 no finding at or above
    --fail-on, 1 findings, 2 usage, configuration or I/O error.
    """
    from . import progress as bar
    from .baseline import BaselineError
    from .config import ConfigError
    from .engine import UsageError, parse_size
    from .findings import SEVERITY_RANK
    from .report import render
    from .runner import WorkerDied
    from .session import Options, effective_config, run

    try:
        size_limit = parse_size(max_file_size)
    except ValueError:
        raise click.BadParameter(f"expected a size such as 10M, 512K or 1048576, got {max_file_size!r}",
                                 param_hint="--max-file-size") from None
    if kubernetes_version is not None:
        import re

        if not re.fullmatch(r"v?1\.[0-9]+(\.[0-9]+)?", kubernetes_version):
            raise click.BadParameter(f"expected a release such as 1.29, got {kubernetes_version!r}",
                                     param_hint="--kubernetes-version")
    options = Options(paths, enable, disable, config_path, jobs, show_suppressed, baseline,
                      max_file_size=size_limit, context=context,
                      kubernetes_version=kubernetes_version, write_baseline=write_baseline,
                      progress=lambda n: bar.ProgressBar(n) if bar.wanted(n) else None)
    try:
        config = effective_config(options)
        outcome = run(options, config)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"k8slint: config error: {problem}", err=True)
        return 2
    except (UsageError, BaselineError) as exc:
        raise click.UsageError(str(exc)) from None
    except WorkerDied as exc:
        raise click.ClickException(str(exc)) from None
    summary = outcome.summary

    if write_baseline:
        from .baseline import write_baseline as write

        try:
            recorded = write(Path(write_baseline), outcome.all_findings)
        except OSError as exc:
            raise click.ClickException(f"cannot write {write_baseline}: {exc.strerror or exc}") from None
        click.echo(f"k8slint: recorded {recorded} findings in {write_baseline}", err=True)
    color = output is None and fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    report = render(fmt, summary, color=color, compact=compact)
    if output is None:
        click.echo(report, nl=False)
    else:
        _write_atomically(output, report)
    for problem in outcome.problems:
        click.echo(f"k8slint: error: {problem}", err=True)
    if outcome.problems:
        return 2
    threshold = SEVERITY_RANK.get(fail_on or config.fail_on or "info", 99)
    failing = any(SEVERITY_RANK[f.severity] >= threshold for f in summary.active)
    return 1 if failing else 0


def _write_atomically(path: str, text: str) -> None:
    """A failed run must never leave a truncated report for CI to upload."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".k8slint-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as stream:
                stream.write(text)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would, not mkstemp's 0600
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
def rules(fmt: str) -> int:
    """List every rule: id, severity (or off), summary."""
    from . import docs
    from .config import ConfigError
    from .engine import default_severities
    from .session import Options, effective_config

    try:
        config = effective_config(Options(()))
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"k8slint: config error: {problem}", err=True)
        return 2
    enabled = default_severities(configured=config.severities)
    if fmt == "json":
        click.echo(docs.rules_json(enabled), nl=False)
    elif fmt == "markdown":
        click.echo(docs.rules_markdown(), nl=False)
    else:
        click.echo(docs.rules_text(enabled), nl=False)
    return 0


@cli.command()
@click.argument("rule", type=RuleId())
def explain(rule: str) -> int:
    """Explain RULE: why it matters, a failing example, the fix."""
    from .catalog import catalog
    from .docs import explain as explain_rule

    click.echo(explain_rule(catalog()[rule]), nl=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of raising it."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="k8slint",
                        standalone_mode=False)
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.ClickException as exc:
        exc.show()
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
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # a bug of ours: one line, not a traceback (K8SLINT_DEBUG=1 shows it)
        if os.environ.get("K8SLINT_DEBUG"):
            raise
        click.echo(f"k8slint: internal error: {type(exc).__name__}: {exc} (please report this; "
                   f"K8SLINT_DEBUG=1 shows where)", err=True)
        return 2
    return code if isinstance(code, int) else 0

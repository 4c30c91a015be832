#!/usr/bin/env python3
"""k8slint's benchmark: time and peak memory against the parse floor and the bare interpreter.

Run by hand, from a virtual environment where k8slint and ruamel.yaml (with its C
extension, ruamel.yaml.clib) are installed, with the Helm engine for the charts:
``pip install '.[bench,helm]'``, then

    python benchmarks/bench.py [--corpus DIR] [--single FILE] [--runs N] [--scale N]

Every command runs as a child process, several times; the report gives medians, the
fastest run, the peak resident memory of the largest process (from wait4), the ratios the
performance targets speak of, and the machine. Figures from one run of this script are
comparable with each other; figures from different runs or machines are not.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "real"
DEFAULT_SINGLE = HERE.parent.parent / "shared" / "corpus" / "single" / "frontend-deployment.yaml"
DEFAULT_CHARTS = HERE.parent.parent / "shared" / "corpus" / "charts"
# Ten custom rules of a realistic policy pack (labels, registries, host ports, resources,
# probes, service accounts, namespaces, replicas): what they add to a corpus run.
CUSTOM_RULES = HERE / "custom-rules.yaml"

# Every manifest below the folders named, composed by COMPOSE (a call on the file's bytes),
# nothing else done with what it gives.
_COMPOSE_EACH = r"""
for top in sys.argv[1:]:
    for folder, _, names in os.walk(top):
        for name in names:
            if name.lower().endswith((".yaml", ".yml", ".json")):
                with open(os.path.join(folder, name), "rb") as f:
                    try:
                        for _ in COMPOSE(f.read()):
                            pass
                    except Exception:
                        pass
"""

# The parse floor: ruamel.yaml's C composer over the same files, nothing else.
FLOOR = r"""
import os, sys
from ruamel.yaml import YAML
yaml = YAML(typ="safe", pure=False)
if "CParser" not in repr(yaml.Parser):
    sys.exit("ruamel.yaml.clib (the C parser) is not installed: the floor would be wrong")
COMPOSE = yaml.compose_all
""" + _COMPOSE_EACH

# The floor of issue 16's targets: PyYAML's C composer (libyaml, CSafeLoader) over the same
# files, composing nodes and nothing else, in one process with the cyclic GC off.
CFLOOR = r"""
import gc, os, sys
import yaml
if not getattr(yaml, "__with_libyaml__", False):
    sys.exit("PyYAML is built without libyaml (CSafeLoader): the floor would be wrong")
gc.disable()
def COMPOSE(data):
    return yaml.compose_all(data, Loader=yaml.CSafeLoader)
""" + _COMPOSE_EACH


def run_once(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of the largest process of one run."""
    elapsed, rss, _ = run_timed(argv)
    return elapsed, rss


def run_timed(argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (bytes) of the largest process, and CPU seconds (user and
    system, the workers a run waited for included) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{err}")
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return elapsed, rss, usage.ru_utime + usage.ru_stime


class Measure:
    def __init__(self, name: str, argv: list[str], runs: int):
        self.name = name
        run_once(argv)  # warm the page cache and the bytecode cache
        samples = [run_once(argv) for _ in range(runs)]
        self.times = [t for t, _ in samples]
        self.rss = max(r for _, r in samples)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def row(self) -> str:
        return (f"{self.name:<44} {self.median * 1000:9.1f} ms {min(self.times) * 1000:9.1f} ms"
                f" {self.rss / 2**20:8.1f} MiB")


class Pair:
    """Two (or more) commands run in turns, so that a machine busy with other work slows
    them alike: the ratio of their medians is what one run can compare."""

    def __init__(self, names: tuple[str, ...], argvs: tuple[list[str], ...], runs: int):
        self.names = names
        for argv in argvs:
            run_timed(argv)  # warm the caches (the page cache, a config's validation)
        samples: tuple[list, ...] = tuple([] for _ in argvs)
        for _ in range(runs):
            for i, argv in enumerate(argvs):
                samples[i].append(run_timed(argv))
        self.times = [[t for t, _, _ in s] for s in samples]
        self.cpu = [[c for _, _, c in s] for s in samples]
        self.rss = [max(r for _, r, _ in s) for s in samples]

    def rows(self) -> str:
        return "\n".join(
            f"{name:<44} {statistics.median(t) * 1000:9.1f} ms {min(t) * 1000:9.1f} ms"
            f" {rss / 2**20:8.1f} MiB   CPU {statistics.median(c):6.2f} s"
            for name, t, c, rss in zip(self.names, self.times, self.cpu, self.rss, strict=True))

    def median(self, i: int) -> float:
        return statistics.median(self.times[i])

    def ratio(self, of: int = 1, to: int = 0) -> float:
        return self.median(of) / self.median(to)

    def cpu_ratio(self, of: int = 1, to: int = 0) -> float:
        return statistics.median(self.cpu[of]) / statistics.median(self.cpu[to])


def k8slint_command() -> list[str]:
    script = Path(sys.executable).with_name("k8slint")
    return [str(script)] if script.exists() else [sys.executable, "-m", "k8slint"]


def scaled_copy(corpus: Path, scale: int, into: Path) -> Path:
    """``scale`` copies of the corpus, as hard links where the file system allows."""
    for n in range(scale):
        target = into / f"copy{n}"
        try:
            shutil.copytree(corpus, target, copy_function=os.link)
        except OSError:
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(corpus, target)
    return into


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"{platform.platform()}; {os.cpu_count()} CPUs ({model}); Python "
            f"{platform.python_version()}; load average {load}")


def engine_time(lint: list[str], folder: Path) -> tuple[int, float, int]:
    """(units rendered or built, seconds spent in the external engines, units failed) of
    one run, from its JSON summary."""
    import json

    done = subprocess.run(lint + ["check", "--no-cache", "--format", "json", str(folder)],
                          capture_output=True,
                          text=True, check=False)
    rendered = json.loads(done.stdout)["summary"]["rendered"]
    return (len(rendered), sum(unit["engineSeconds"] for unit in rendered),
            sum(unit["failed"] for unit in rendered))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--single", type=Path, default=DEFAULT_SINGLE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=int, default=10, help="copies for the scaled run (0: skip)")
    parser.add_argument("--charts", type=Path, default=DEFAULT_CHARTS,
                        help="Helm charts to render (skipped when the folder is missing)")
    args = parser.parse_args()
    if not args.corpus.is_dir() or not args.single.is_file():
        parser.error(f"need a corpus folder and a single file: {args.corpus}, {args.single}")

    from k8slint.runner import default_jobs

    py, lint = sys.executable, k8slint_command()
    files = sum(1 for p in args.corpus.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in args.corpus.rglob("*") if p.is_file())
    print(f"machine: {machine()}")
    print(f"corpus: {args.corpus} ({files} files, {size / 1e6:.1f} MB); single: {args.single.name}; "
          f"{args.runs} runs each\n")
    print(f"{'':<44} {'median':>12} {'fastest':>12} {'peak RSS':>12}")

    def measure(name: str, argv: list[str]) -> Measure:
        m = Measure(name, argv, args.runs)
        print(m.row(), flush=True)
        return m

    bare = measure("python -c pass", [py, "-c", "pass"])
    # Start-up, in turns with what it is measured against (schema rules on: the default).
    one = Pair(('python -c "import click, ruamel.yaml"', "k8slint check ONE-FILE"),
               ([py, "-c", "import click, ruamel.yaml"], lint + ["check", "--no-cache", str(args.single)]),
               args.runs)
    print(one.rows(), flush=True)
    # The corpus figures are of the files as they are: kustomizations not built (that is
    # measured on its own below, with the time spent in kustomize itself). Both floors,
    # one job and the default jobs, in turns: their ratios are what the targets speak of.
    lint_plain = lint + ["check", "--no-cache", "--no-render"]
    jobs = default_jobs()
    corpus = Pair(("parse floor (ruamel C composer)", "parse floor (PyYAML CSafeLoader, GC off)",
                   "k8slint check -j1 CORPUS", f"k8slint check CORPUS (default jobs: {jobs})"),
                  ([py, "-c", FLOOR, str(args.corpus)], [py, "-c", CFLOOR, str(args.corpus)],
                   lint_plain + ["-j1", str(args.corpus)], lint_plain + [str(args.corpus)]), args.runs)
    print(corpus.rows(), flush=True)
    FLOOR_RUAMEL, FLOOR_C, JOBS1, JOBSN = range(4)
    from k8slint.checks.schema import SCHEMA_RULES  # switched off for the runs they are measured against

    # Without and with the schema rules, then without and with ten custom rules, in turns.
    no_schema = [arg for rule in SCHEMA_RULES for arg in ("--disable", rule)]
    schema = Pair(("k8slint check CORPUS, no schema rules", "k8slint check CORPUS, schema rules"),
                  (lint_plain + [*no_schema, str(args.corpus)], lint_plain + [str(args.corpus)]),
                  args.runs)
    print(schema.rows(), flush=True)
    # Without and with ten custom rules, in turns. The config's validation is remembered
    # after the warm-up run, as on any second run.
    custom = Pair(("k8slint check CORPUS, no custom rules", "k8slint check CORPUS, 10 custom rules"),
                  (lint_plain + ["--config", os.devnull, str(args.corpus)],
                   lint_plain + ["--config", str(CUSTOM_RULES), str(args.corpus)]), args.runs)
    print(custom.rows(), flush=True)
    # Rendering: the corpus's Kustomize roots built (in turns with the run that does not
    # build them), and the Helm charts rendered; the engines' own time from the JSON summary.
    render = Pair(("k8slint check --no-render CORPUS", "k8slint check CORPUS (roots built)"),
                  (lint_plain + [str(args.corpus)],
                   lint + ["check", "--no-cache", str(args.corpus)]), args.runs)
    print(render.rows(), flush=True)
    # The result cache: a cold run (no cache) against a warm rerun (every entry written by
    # the warm-up run), and a warm pre-commit run on one file of the corpus, reading the
    # corpus as context, against a cold one-file run without context. A cache folder of
    # the benchmark's own, so that no earlier run's entries count.
    with tempfile.TemporaryDirectory(prefix="k8slint-bench-cache-") as cache_dir:
        cached = lint + ["check", "--no-render", "--cache-dir", cache_dir]
        one_in_corpus = next(p for p in sorted(args.corpus.rglob("*.yaml")) if p.is_file())
        warm = Pair(("k8slint check CORPUS, cold (--no-cache)", "k8slint check CORPUS, warm cache",
                     "one file of the corpus, cold, no context",
                     "the same file, --context CORPUS --pre-commit, warm"),
                    (lint_plain + [str(args.corpus)], cached + [str(args.corpus)],
                     lint_plain + [str(one_in_corpus)],
                     cached + ["--context", str(args.corpus), "--pre-commit", "--", str(one_in_corpus)]),
                    args.runs)
        print(warm.rows(), flush=True)
    charts = None
    if args.charts.is_dir():
        charts = measure("k8slint check CHARTS (rendered)", lint + ["check", "--no-cache", str(args.charts)])

    scaled = None
    if args.scale:
        with tempfile.TemporaryDirectory(prefix="k8slint-bench-") as tmp:
            copy = scaled_copy(args.corpus, args.scale, Path(tmp))
            n = args.scale
            floor_n = measure(f"parse floor (CSafeLoader), {n}x", [py, "-c", CFLOOR, str(copy)])
            jobs1_n = measure(f"k8slint check -j1, {n}x", lint_plain + ["-j1", str(copy)])
            jobsn_n = measure(f"k8slint check, {n}x (default jobs)", lint_plain + [str(copy)])
            scaled = (n, floor_n, jobs1_n, jobsn_n)

    def ratio(label: str, value: float, target: str) -> None:
        print(f"  {label:<58} {value:6.2f}x   target {target}")

    print("\nratios (medians of this run):")
    ratio("one file / python -c 'import click, ruamel.yaml'", one.ratio(), "<= 1.2")
    ratio("  the same, CPU time", one.cpu_ratio(), "(for reference)")
    ratio("one file / python -c pass", one.median(1) / bare.median, "(for reference)")
    ratio("PyYAML CSafeLoader floor / ruamel C floor", corpus.ratio(FLOOR_C, FLOOR_RUAMEL), "(for reference)")
    ratio("corpus default jobs / CSafeLoader floor (cold, no cache)", corpus.ratio(JOBSN, FLOOR_C), "<= 0.75")
    ratio("  the same, CPU time", corpus.cpu_ratio(JOBSN, FLOOR_C), "(for reference)")
    ratio("corpus -j1 / CSafeLoader floor", corpus.ratio(JOBS1, FLOOR_C), "(for reference)")
    ratio("  the same, CPU time", corpus.cpu_ratio(JOBS1, FLOOR_C), "(for reference)")
    ratio(f"corpus default jobs / -j1 (ideal split: 1/{jobs})", corpus.ratio(JOBSN, JOBS1),
          f"{1 / jobs:.2f} ideal")
    ratio("  the same, CPU time (1.00: no work added by the pool)", corpus.cpu_ratio(JOBSN, JOBS1),
          "(for reference)")
    ratio("corpus -j1 / ruamel parse floor", corpus.ratio(JOBS1, FLOOR_RUAMEL), "<= 1.3")
    ratio("corpus default jobs / ruamel parse floor", corpus.ratio(JOBSN, FLOOR_RUAMEL), "< 1.0")
    ratio(f"corpus with / without schema rules (default jobs: {jobs})", schema.ratio(), "<= 1.15")
    ratio("  the same, CPU time", schema.cpu_ratio(), "(for reference)")
    ratio(f"corpus with 10 custom rules / without (default jobs: {jobs})", custom.ratio(), "<= 1.2")
    ratio("  the same, CPU time", custom.cpu_ratio(), "(for reference)")
    ratio("corpus warm rerun / cold run (result cache)", warm.ratio(1, 0), "<= 0.2")
    ratio("pre-commit one file with --context, warm / one file cold", warm.ratio(3, 2), "<= 3")
    ratio("corpus with kustomize roots built / --no-render", render.ratio(), "(for reference)")
    for label, folder in (("corpus", args.corpus), ("charts", args.charts if charts else None)):
        if folder is not None:
            units, seconds, failed = engine_time(lint, folder)
            print(f"  {'engines, ' + label + f' ({units} units, {failed} failed)':<58} {seconds:6.2f} s"
                  f"   summed over units, inside the run")
    if scaled:
        n, floor_n, jobs1_n, jobsn_n = scaled
        ratio(f"{n}x corpus -j1 / 1x corpus -j1", jobs1_n.median / corpus.median(JOBS1), f"<= {n + 0.5}")
        ratio(f"{n}x corpus default jobs / 1x default jobs", jobsn_n.median / corpus.median(JOBSN),
              f"<= {n + 0.5}")
        ratio(f"{n}x parse floor / 1x parse floor", floor_n.median / corpus.median(FLOOR_C),
              "(for reference)")
        print(f"  {'peak RSS, ' + str(n) + 'x corpus, -j1 / default jobs':<58} "
              f"{jobs1_n.rss / 2**20:6.1f} / {jobsn_n.rss / 2**20:.1f} MiB   target < 150 MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

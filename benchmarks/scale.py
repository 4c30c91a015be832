#!/usr/bin/env python3
"""k8slint over many copies of a corpus: peak memory, time, and what a run keeps (issue 16).

    python benchmarks/scale.py [--corpus DIR] [--scales 10,100] [--runs N] [--jobs default,1]
    python benchmarks/scale.py --kept [--corpus DIR] [--scales 10]

The copies are hard links (a walk keys on paths, so each link is a file of its own).
Each scale is linted with ``k8slint check --no-cache --no-render`` in a child process, once
per job count; the report gives CPU seconds (user and system, workers included), wall
seconds and the peak resident memory of the largest process (wait4), then the ratios of
each scale to the first.

``--kept`` says what a run keeps once its files are linted: the resident memory after
linting, in three child processes, one keeping everything, one dropping each file's
findings as it is taken, one collecting no cross-object facts either. Their differences,
divided by the findings and by the objects with facts, are the bytes a finding and a
fact cost, fragmentation of the allocator included.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import DEFAULT_CORPUS, k8slint_command, machine, run_timed, scaled_copy  # noqa: E402

# What the child of --kept prints, measured after linting (before the cross-object
# rules and the report).
KEPT = r"""
import json, sys
from k8slint.checks import INDEX_RULES
from k8slint.session import Options, Tally, effective_config, lint_run, prepare

mode, folder, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = Options((folder,), jobs=jobs, render="off", cache=False)
config = effective_config(options)
prep = prepare(options, config)
if mode == "no-facts":
    prep = prep._replace(severities={rule: severity for rule, severity in prep.severities.items()
                                     if rule not in INDEX_RULES})


class Counting(Tally):
    taken = 0

    def take(self, result):
        self.taken += len(result.findings)
        if mode != "all":
            result.findings = []
        super().take(result)


tally = Counting(prep.summary, prep.problems)
lint_run(prep, options, config, prep.sources, tally.take, tally.take)
with open("/proc/self/status") as status:
    rss = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))
print(json.dumps({"rss": rss, "findings": tally.taken, "sources": len(prep.sources),
                  "facts": sum(len(facts) for facts in tally.facts.values()),
                  "objects": tally.summary.objects}))
"""


def kept(folder: Path, jobs: int) -> dict[str, dict]:
    """What each mode of KEPT printed."""
    out = {}
    for mode in ("all", "no-findings", "no-facts"):
        done = subprocess.run([sys.executable, "-c", KEPT, mode, str(folder), str(jobs)],
                              capture_output=True, text=True, check=True)
        out[mode] = json.loads(done.stdout)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--scales", default="10,100", help="copies, comma-separated")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--jobs", default="default,1", help="job counts, comma-separated")
    parser.add_argument("--kept", action="store_true", help="measure what a run keeps instead")
    args = parser.parse_args()
    scales = [int(n) for n in args.scales.split(",")]
    print(f"machine: {machine()}\ncorpus: {args.corpus}\n")
    lint = k8slint_command() + ["check", "--no-cache", "--no-render"]
    figures: dict[tuple[int, str], tuple[float, float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="k8slint-scale-") as tmp:
        for n in scales:
            folder = scaled_copy(args.corpus, n, Path(tmp) / f"x{n}")
            if args.kept:
                got = kept(folder, jobs=1)
                full, lean, bare = got["all"], got["no-findings"], got["no-facts"]
                per_finding = (full["rss"] - lean["rss"]) / max(1, full["findings"])
                per_fact = (lean["rss"] - bare["rss"]) / max(1, full["facts"])
                print(f"{n}x, -j1: {full['sources']} files, {full['objects']} objects, "
                      f"{full['facts']} with facts, {full['findings']} findings (before the "
                      f"cross-object rules)")
                print(f"  resident after linting: {full['rss'] / 2**20:.1f} MiB; findings "
                      f"dropped {lean['rss'] / 2**20:.1f} MiB; no facts either "
                      f"{bare['rss'] / 2**20:.1f} MiB")
                print(f"  bytes per finding {per_finding:.0f}, per object with facts "
                      f"{per_fact:.0f}")
                shutil.rmtree(folder, ignore_errors=True)  # links only: the corpus stays
                continue
            for jobs in args.jobs.split(","):
                argv = lint + ([] if jobs == "default" else [f"-j{jobs}"]) + [str(folder)]
                runs = [run_timed(argv) for _ in range(args.runs)]
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[2] for r in runs)
                rss = max(r[1] for r in runs)
                figures[(n, jobs)] = (cpu, wall, rss)
                print(f"{n:>4}x jobs {jobs:<8} CPU {cpu:8.2f} s   wall {wall:8.2f} s   "
                      f"peak RSS {rss / 2**20:7.1f} MiB", flush=True)
            shutil.rmtree(folder, ignore_errors=True)
    if not args.kept and len(scales) > 1:
        first = scales[0]
        print("\nratios to the first scale (time should grow as the copies do):")
        for n in scales[1:]:
            for jobs in args.jobs.split(","):
                cpu0, wall0, _ = figures[(first, jobs)]
                cpu, wall, _ = figures[(n, jobs)]
                print(f"  {n}x / {first}x, jobs {jobs}: CPU {cpu / cpu0:.2f}, wall {wall / wall0:.2f} "
                      f"(copies {n / first:.0f}, target <= {1.1 * n / first:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

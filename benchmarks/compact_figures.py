#!/usr/bin/env python3
"""The compact report's figures, for the README: size against the plain text report, the
longest line, and the time the compact rendering takes.

    python benchmarks/compact_figures.py [--corpus DIR] [--width N] [--runs N]

Both reports come from one lint run of DIR (default: the shared real-world corpus),
rendered as ``k8slint check`` renders them when standard output is not a terminal (the
compact one at 100 columns unless --width says otherwise). The time is the median of
--runs renderings of the compact report alone, the lint run excluded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from k8slint.report.compact import MAX_WIDTH, render_compact
from k8slint.report.text import render_text
from k8slint.session import Options, effective_config, run

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
# As the README's commands name it from the checkout (paths in a report are as given).
SHOWN_CORPUS = Path(os.path.relpath(DEFAULT_CORPUS))


def figures(text: str) -> tuple[int, int, int]:
    """Characters, lines and the longest line's length."""
    lines = text.splitlines()
    return len(text), len(lines), max(map(len, lines), default=0)


def rows(text: str, width: int) -> int:
    """Rows the text takes on a terminal of ``width`` columns, long lines wrapping."""
    return sum(max(1, -(-len(line) // width)) for line in text.splitlines())


def overlong(text: str) -> int:
    """Lines over 120 characters that hold more than one token (those must not exist)."""
    return sum(1 for line in text.splitlines() if len(line) > MAX_WIDTH and " " in line.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHOWN_CORPUS)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    options = Options((str(args.corpus),), jobs=1)
    summary = run(options, effective_config(options)).summary
    plain = render_text(summary)
    compact = render_compact(summary, width=args.width)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        render_compact(summary, width=args.width)
        times.append(time.perf_counter() - start)
    p_chars, p_lines, p_long = figures(plain)
    c_chars, c_lines, c_long = figures(compact)
    print(f"corpus: {args.corpus} ({len(summary.findings):,} findings)")
    print(f"plain text: {p_chars:,} characters, {p_lines:,} lines, longest line {p_long:,}")
    print(f"compact at {args.width} columns: {c_chars:,} characters, {c_lines:,} lines, "
          f"longest line {c_long:,}")
    p_rows, c_rows = rows(plain, args.width), rows(compact, args.width)
    print(f"rows on a {args.width}-column terminal: plain {p_rows:,}, compact {c_rows:,}")
    print(f"compact / plain: {c_chars / p_chars:.1%} of the characters, "
          f"{c_lines / p_lines:.1%} of the lines, {c_rows / p_rows:.1%} of the rows")
    print(f"lines over {MAX_WIDTH} characters with more than one token: {overlong(compact)}")
    print(f"compact rendering: median {statistics.median(times) * 1000:.0f} ms "
          f"over {args.runs} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

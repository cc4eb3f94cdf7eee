"""Screening time of hostile records through the pipeline's guard (truncation + budget).

    .venv/bin/python -m benchmarks.screen_limits_benchmark [--sizes 1000000 10000000]

Issue 11: no record may stall the pipeline. ``services.pipeline.screen.screen_one``
cuts a record to ``LIVESCREEN_SCREEN_MAX_CHARS`` (100,000 by default) before the
criteria see it, so the time of the worst record is the time of the worst
100,000-character text; this prints it per hostile pattern and record size, next to
the per-record budget (``LIVESCREEN_SCREEN_SECONDS_PER_RECORD``, 5 s by default),
which must leave a wide margin over it. Figures taken while other processes run are
noisy.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.classify_benchmark import DEFAULT_PROTOCOL
from benchmarks.hostile_benchmark import PATTERNS, hostile_abstract
from services.pipeline.screen import ScreenLimits, build_screener, screen_one
from services.protocols import load_protocol


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args(argv)
    limits = ScreenLimits()
    screener = build_screener(load_protocol(DEFAULT_PROTOCOL))
    worst = 0.0
    for name, pattern in PATTERNS.items():
        cells = []
        for size in sorted(args.sizes):
            record = {"title": "Hostile record", "abstract": hostile_abstract(pattern, size)}
            start = time.perf_counter()
            verdicts = screen_one(screener, record, limits=limits)
            took = time.perf_counter() - start
            worst = max(worst, took)
            flag = " OVER BUDGET" if verdicts.problem else ""
            cells.append(f"{size / 1e6:g} MB {took:.2f} s ({verdicts.decision}){flag}")
        print(f"{name}: " + ", ".join(cells), flush=True)
    margin = limits.seconds_per_record / max(worst, 1e-9)
    print(
        f"worst {worst:.2f} s per record at max_chars={limits.max_chars:,}; budget "
        f"{limits.seconds_per_record:g} s ({margin:.0f}x margin)"
    )
    return 0 if worst < limits.seconds_per_record else 1


if __name__ == "__main__":
    sys.exit(main())

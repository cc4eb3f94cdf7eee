"""Time of the dose criterion (and the whole screener) on hostile, dose-dense abstracts.

    .venv/bin/python -m benchmarks.hostile_benchmark [--sizes 100000 1000000] [--dose-only]

Issue 11: an abstract of thousands of "psilocybin 1 mg placebo" repeats with no full
stop stalled every sweep (132 KB took 31 s, 1 MB over 11 minutes), because each dose
was linked against every mention of its sentence. Screening must now grow linearly
with the text: this prints seconds per size and the ratio to the smallest size, for
several hostile patterns (one sentence, no full stop). Timing targets live here, not
in the tests; figures taken while other processes run are noisy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.classify_benchmark import DEFAULT_PROTOCOL
from classifiers.criteria.dose import DoseCriterion
from classifiers.screen import Screener
from services.protocols import load_protocol

PATTERNS = {
    "repeats": "psilocybin 1 mg placebo ",
    "roles": "psilocybin 1 mg as an active placebo beside 25 mg, low dose of aspirin ",
    "lists": "0.5, 1 and 2 mg psilocybin or LSD 10 ug versus 10 and 20 ug/kg psilocin; ",
}
# The bound: a 1 MB record must not stall a sweep.
BUDGET_SECONDS = 30.0


def hostile_abstract(pattern: str, size: int) -> str:
    """``pattern`` repeated to exactly ``size`` characters (no sentence break anywhere)."""
    return (pattern * (size // len(pattern) + 1))[:size]


def seconds(evaluate: Callable[[dict[str, Any]], object], text: str) -> float:
    start = time.perf_counter()
    evaluate({"id": "hostile", "title": "Hostile record", "abstract": text})
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dose-only", action="store_true", help="skip the whole screener")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)
    targets: dict[str, Callable[[dict[str, Any]], object]] = {
        "dose criterion": DoseCriterion().evaluate
    }
    if not args.dose_only:
        config = load_protocol(DEFAULT_PROTOCOL).criteria_config
        targets["whole screener"] = Screener.from_config(config).screen
    failed = False
    for label, evaluate in targets.items():
        for name, pattern in PATTERNS.items():
            times = [seconds(evaluate, hostile_abstract(pattern, size)) for size in sizes]
            cells = ", ".join(
                f"{size / 1000:,.0f} KB {t:.2f} s (x{t / max(times[0], 1e-9):.1f})"
                for size, t in zip(sizes, times, strict=True)
            )
            over = times[-1] > BUDGET_SECONDS
            failed = failed or over
            verdict = "OVER BUDGET" if over else "ok"
            print(f"{label}, {name}: {cells} [{verdict}]", flush=True)
    print(
        f"(budget {BUDGET_SECONDS:.0f} s for the largest size; ratios near the size ratio = linear)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

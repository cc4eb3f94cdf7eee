"""Run every benchmark in turn: ``python -m benchmarks [--quick]``.

``--quick`` uses small inputs (for a smoke run); without it each benchmark uses the
sizes its issue sets (e.g. 100,000 PubMed records for the parser).
"""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    # (module, full arguments, quick arguments)
    ("benchmarks.parse_benchmark", ["--records", "100000"], ["--records", "2000"]),
    ("benchmarks.sweep_benchmark", ["--records", "50000"], ["--records", "3000"]),
    ("benchmarks.classify_benchmark", [], []),
    ("benchmarks.hostile_benchmark", [], ["--sizes", "10000", "100000"]),
    ("benchmarks.queue_benchmark", [], ["--records", "2000"]),
    ("benchmarks.alerts_benchmark", [], ["--alerts", "1000", "--webhooks", "50"]),
    ("benchmarks.loop_latency_benchmark", [], ["--records", "3"]),
    ("benchmarks.retrain_benchmark", [], ["--records", "3000", "--decided", "100"]),
    ("benchmarks.db_checkout_benchmark", [], ["--rounds", "300"]),
    ("benchmarks.import_benchmark", ["--records", "100000"], ["--records", "3000"]),
    ("benchmarks.store_benchmark", [], ["--records", "3000"]),
    ("benchmarks.dedup_benchmark", [], ["--originals", "3000", "--records", "6000"]),
    ("benchmarks.simulate_benchmark", ["--large", "10000"], ["--seeds", "1", "--only", "Donners"]),
    ("benchmarks.search_benchmark", [], ["--records", "2000"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run all livescreen benchmarks")
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke run")
    parser.add_argument("--only", action="append", help="run only modules containing this")
    args = parser.parse_args(argv)
    failures = 0
    for module_name, full, quick in BENCHMARKS:
        if args.only and not any(part in module_name for part in args.only):
            continue
        print(f"\n== {module_name}", flush=True)
        module = importlib.import_module(module_name)
        try:
            status = module.main(quick if args.quick else full)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        failures += 1 if status else 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

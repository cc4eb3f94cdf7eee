"""E-utilities requests per 1,000 records, full and incremental, against the local fake server.

    .venv/bin/python -m benchmarks.sweep_benchmark [--records 50000] [--database-url URL]

Target (issue 2): at most 6 requests per 1,000 records in a full sweep. The corpus
is larger than PubMed's 9,999 retrieval cap so the window splitting is exercised.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.pipeline.jobs import sweep_review  # noqa: E402
from services.pubmed.ratelimit import LocalRateLimiter  # noqa: E402
from services.runtime import Runtime, build_runtime  # noqa: E402
from services.settings import Settings  # noqa: E402
from tests.eutils_server import FakeEutils, synthetic_record  # noqa: E402

START = date(2016, 1, 1)
TODAY = date(2026, 11, 30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=1_000, help="new + revised before run 2")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)

    days = (TODAY - START).days
    corpus = [
        synthetic_record(str(20_000_000 + i), edat=START + timedelta(days=i * days // args.records))
        for i in range(args.records)
    ]
    with tempfile.TemporaryDirectory() as tmp, FakeEutils(corpus) as fake:
        protocol = Path(tmp) / "bench.toml"
        protocol.write_text('slug = "bench"\ntitle = "Benchmark"\nquery = "psilocybin[tiab]"\n')
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{tmp}/bench.db",
            eutils_url=fake.base_url,
            protocols=[protocol],
        )
        runtime = build_runtime(settings)
        rows = []
        try:
            rows.append(("full", *_sweep(runtime, TODAY)))
            later = TODAY + timedelta(days=2)
            half = args.changes // 2
            for i in range(half):
                fake.add(synthetic_record(str(40_000_000 + i), edat=later))
            for i in range(args.changes - half):
                pmid = str(20_000_000 + (i * 7) % args.records)
                fake.replace(
                    synthetic_record(pmid, title="Revised", edat=START, mdat=later, version=2)
                )
            rows.append(("incremental", *_sweep(runtime, later)))
        finally:
            runtime.close()

    print(f"{'sweep':<12} {'records':>8} {'requests':>9} {'req/1000':>9} {'seconds':>8}")
    for name, fetched, requests, seconds in rows:
        per = 1000 * requests / max(fetched, 1)
        print(f"{name:<12} {fetched:>8} {requests:>9} {per:>9.2f} {seconds:>8.1f}")
    return 0


def _sweep(runtime: Runtime, today: date) -> tuple[int, int, float]:
    started = time.perf_counter()
    result = sweep_review(runtime, "bench", today=today, limiter=LocalRateLimiter(1e6))
    return result.counts["fetched"], result.counts["requests"], time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())

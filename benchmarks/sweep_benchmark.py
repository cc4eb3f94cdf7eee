"""Sweep speed end to end (fetch, parse, store, screen) and requests per 1,000 records.

    .venv/bin/python -m benchmarks.sweep_benchmark [--records 20000] [--rate 10] [--screen]
        [--batch-size 500 | --batch-sizes 200,500,1000,5000] [--repeat 3] [--incremental]
        [--database-url URL]

The local E-utilities server runs in a process of its own (NCBI is not in our
process either) and answers 429 past NCBI's limit (10 requests/s with a key),
so a pacing fault shows as ``429s`` above zero (not enforced with ``--rate 0``).
``--rate`` is the client's pace (10 with an API key, 3 without, 0 for none);
``--screen`` screens with the flagship protocol, over titles and abstracts of the
shared flagship dev set.
``--batch-sizes`` runs one full sweep per efetch batch size, each in a fresh
process so its peak memory is its own; ``--repeat N`` runs each N times (fresh
processes too) and shows the median of each column, since a shared machine's
figures vary from run to run. ``--incremental`` adds an incremental
sweep after ``--changes`` new and revised records (issue 2's target: at most 6
requests per 1,000 records in a full sweep).

Targets (issue 14): 20,000 records with a key on SQLite at least 1,500 records/s
under 300 MB; at 3 requests/s within 10% of what the request budget allows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.pipeline.jobs import sweep_review  # noqa: E402
from services.pubmed.ratelimit import LocalRateLimiter  # noqa: E402
from services.runtime import build_runtime  # noqa: E402
from services.settings import FLAGSHIP_PROTOCOL, Settings  # noqa: E402
from tests.eutils_server import FakeEutils, FakeRecord, synthetic_record  # noqa: E402

START = date(2016, 1, 1)
TODAY = date(2026, 11, 30)
SHARED_DATA = Path(os.environ.get("LIVESCREEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
TEXTS = SHARED_DATA / "flagship-dev" / "records.jsonl"


def corpus(n: int) -> list[FakeRecord]:
    """``n`` records spread over ten years, with real-looking, all different texts."""
    if not TEXTS.is_file():
        raise SystemExit(f"{TEXTS} not found (set LIVESCREEN_SHARED_DATA to the shared data)")
    rows = [json.loads(line) for line in TEXTS.read_text().splitlines() if line.strip()]
    texts = [(r["title"], r.get("abstract") or "") for r in rows if r.get("title")]
    days = (TODAY - START).days
    out = []
    for i in range(n):
        title, abstract = texts[i % len(texts)]
        out.append(
            synthetic_record(
                str(20_000_000 + i),
                title=f"{title} ({i})",
                abstract=abstract,
                edat=START + timedelta(days=i * days // n),
            )
        )
    return out


def _serve(records: int, enforce_rate: bool, conn: Connection) -> None:
    """The server process: answer E-utilities until told to stop; apply changes on request."""
    with FakeEutils(corpus(records), enforce_rate=enforce_rate) as fake:
        conn.send(fake.base_url)
        while True:
            command, arg = conn.recv()
            if command == "stop":
                conn.send(fake.rate_limited)
                return
            if command == "changes":
                later = TODAY + timedelta(days=2)
                half = arg // 2
                for i in range(half):
                    fake.add(synthetic_record(str(40_000_000 + i), edat=later))
                for i in range(arg - half):
                    pmid = str(20_000_000 + (i * 7) % records)
                    fake.replace(
                        synthetic_record(pmid, title="Revised", edat=START, mdat=later, version=2)
                    )
                conn.send("ok")


@dataclass
class Row:
    name: str
    batch_size: int
    fetched: int
    requests: int
    seconds: float
    cpu_seconds: float  # of the sweeping process, all threads; steadier than wall time
    peak_mb: float
    rate_limited: int = 0

    @property
    def per_second(self) -> float:
        return self.fetched / self.seconds if self.seconds else 0.0


def run_once(args: argparse.Namespace, batch_size: int) -> list[Row]:
    """Full sweep (and optionally an incremental one) in this process."""
    parent, child = mp.Pipe()
    server = mp.get_context("fork").Process(
        target=_serve, args=(args.records, args.rate > 0, child)
    )
    server.start()
    rows: list[Row] = []
    try:
        base_url = parent.recv()
        with tempfile.TemporaryDirectory() as tmp:
            protocol = Path(tmp) / "bench.toml"
            if args.screen:
                text = FLAGSHIP_PROTOCOL.read_text()
                protocol.write_text(text.replace('"psilocybin-microdosing"', '"bench"', 1))
            else:
                protocol.write_text('slug = "bench"\ntitle = "Benchmark"\nquery = "psilocybin"\n')
            settings = Settings(
                database_url=args.database_url or f"sqlite:///{tmp}/bench.db",
                eutils_url=base_url,
                protocols=[protocol],
                ncbi_api_key="bench",
                efetch_batch_size=batch_size,
            )
            runtime = build_runtime(settings)
            try:
                rows.append(_sweep(runtime, "full", TODAY, args.rate, batch_size))
                if args.incremental:
                    parent.send(("changes", args.changes))
                    parent.recv()
                    later = TODAY + timedelta(days=2)
                    rows.append(_sweep(runtime, "incremental", later, args.rate, batch_size))
            finally:
                runtime.close()
    finally:
        parent.send(("stop", None))
        limited = parent.recv()
        server.join(timeout=10)
    for row in rows:
        row.rate_limited = limited
    return rows


def _sweep(runtime: Any, name: str, today: date, rate: float, batch_size: int) -> Row:
    limiter = LocalRateLimiter(rate if rate > 0 else 1e6)
    cpu_before = _cpu()
    started = time.perf_counter()
    result = sweep_review(runtime, "bench", today=today, limiter=limiter)
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu_before
    if result.state != "succeeded":
        raise SystemExit(f"benchmark sweep ended {result.state}: {result.summary('bench')}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fetched, requests = result.counts["fetched"], result.counts["requests"]
    return Row(name, batch_size, fetched, requests, seconds, cpu, peak)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def budget(records: int, batch_size: int, rate: float) -> float:
    """Records/s the request budget alone allows: one esearch plus one efetch per batch."""
    if rate <= 0:
        return float("inf")
    requests = 1 + -(-records // batch_size)
    return records / (requests / rate)


def _in_fresh_process(args: argparse.Namespace, size: int) -> list[Row]:
    """One run (full, and incremental if asked) in a process of its own."""
    command = [sys.executable, "-m", "benchmarks.sweep_benchmark", "--json"]
    command += [f"--records={args.records}", f"--rate={args.rate}", f"--batch-size={size}"]
    command += ["--screen"] if args.screen else []
    command += ["--incremental", f"--changes={args.changes}"] if args.incremental else []
    command += [f"--database-url={args.database_url}"] if args.database_url else []
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return [Row(**row) for row in json.loads(out.stdout)]


def _median(runs: list[Row]) -> Row:
    """Column by column median of repeated runs of one sweep (counts are the same in each)."""
    first = runs[0]
    return Row(
        first.name,
        first.batch_size,
        first.fetched,
        first.requests,
        statistics.median(r.seconds for r in runs),
        statistics.median(r.cpu_seconds for r in runs),
        statistics.median(r.peak_mb for r in runs),
        max(r.rate_limited for r in runs),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s; 0: unpaced")
    parser.add_argument("--batch-size", type=int, default=Settings().efetch_batch_size)
    parser.add_argument("--batch-sizes", help="comma-separated; one fresh process each")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians shown")
    parser.add_argument("--screen", action="store_true", help="screen with the flagship protocol")
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--changes", type=int, default=1_000, help="new + revised before run 2")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.batch_sizes or args.repeat > 1:
        sizes = [int(s) for s in args.batch_sizes.split(",")] if args.batch_sizes else []
        rows = []
        for size in sizes or [args.batch_size]:
            runs = [_in_fresh_process(args, size) for _ in range(args.repeat)]
            rows += [_median(list(same)) for same in zip(*runs, strict=True)]
    else:
        rows = run_once(args, args.batch_size)
    if args.json:
        print(json.dumps([row.__dict__ for row in rows]))
        return 0
    print(
        f"{'sweep':<12} {'batch':>6} {'records':>8} {'requests':>9} {'req/1000':>9} "
        f"{'seconds':>8} {'cpu s':>6} {'rec/s':>7} {'budget':>7} {'peak MB':>8} {'429s':>5}"
    )
    if args.repeat > 1:
        print(f"(median of {args.repeat} runs each)")
    for r in rows:
        per = 1000 * r.requests / max(r.fetched, 1)
        allowed = budget(r.fetched, r.batch_size, args.rate)
        shown = f"{allowed:>7.0f}" if allowed != float("inf") else f"{'-':>7}"
        print(
            f"{r.name:<12} {r.batch_size:>6} {r.fetched:>8} {r.requests:>9} {per:>9.2f} "
            f"{r.seconds:>8.1f} {r.cpu_seconds:>6.1f} {r.per_second:>7.0f} {shown} "
            f"{r.peak_mb:>8.0f} {r.rate_limited:>5}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

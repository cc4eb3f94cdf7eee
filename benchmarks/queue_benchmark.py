"""Latency of ``POST /next`` plus a decision with many reviewers at once, against a real server.

    .venv/bin/python -m benchmarks.queue_benchmark [--records 100000] [--reviewers 50]
        [--duration 20] [--database-url postgresql+psycopg://...]

Target (issue 4): p99 under 50 ms for next + decision with 50 concurrent reviewers
on PostgreSQL with 100,000 records. A reviewer reads each record before deciding
(``--think`` seconds on average, as people do); ``--think 0`` runs them back to
back, which measures saturation throughput rather than a reviewer's wait. Each
reviewer starts at a random point of one reading time, as people do; ``--lockstep``
makes all of them send their first measured request at the same instant. The
records carry machine screenings so the queue is ranked by ``p_include``. The data
goes into a fresh PostgreSQL schema that is dropped afterwards; the server is
``livescreen serve`` in its own process, as deployed (access log included), and the
reviewers are spread over several client processes so that the clients' own Python
does not inflate the server's figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from services.db.engine import make_engine, migrate, session_factory  # noqa: E402
from services.db.models import Record, Review, ReviewRecord, Screening, utcnow  # noqa: E402
from services.protocols import load_protocol  # noqa: E402
from services.web.accounts import create_user  # noqa: E402

DEFAULT_URL = os.environ.get(
    "LIVESCREEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SLUG = "bench"
PROTOCOL = f"""
slug = "{SLUG}"
title = "Queue benchmark"
query = "benchmark"
screening = "single"
blind = true
[[criteria]]
name = "psilocybin"
kind = "substance"
terms = ["psilocybin"]
[[criteria]]
name = "low_dose"
kind = "dose"
"""


def load(url: str, protocol_file: Path, records: int, reviewers: int) -> list[str]:
    """Create the review, ``records`` screened records and the reviewers; return their tokens."""
    engine = make_engine(url)
    try:
        migrate(engine)
        proto = load_protocol(protocol_file)
        sessions = session_factory(engine)
        with sessions() as s:
            review = Review(
                slug=SLUG, title=proto.title, query=proto.query, protocol_version=proto.version
            )
            s.add(review)
            tokens = [
                create_user(session=s, name=f"r{i}", role="reviewer")[1] for i in range(reviewers)
            ]
            s.commit()
            review_id = review.id
        now = utcnow()
        batch = 5000
        with engine.begin() as conn:
            for lo in range(0, records, batch):
                ids = range(lo + 1, min(records, lo + batch) + 1)
                rows: list[dict[str, Any]] = []
                for i in ids:
                    title = f"Record {i}: low-dose psilocybin and mood"
                    abstract = f"Abstract of record {i}. We studied psilocybin at a low dose."
                    rows.append(
                        {
                            "id": i,
                            "pmid": str(10_000_000 + i),
                            "version": 1,
                            "title": title,
                            "abstract": abstract,
                            "journal": "J Bench",
                            "year": 2000 + i % 26,
                            "doi": None,
                            "data": {"publication_types": ["Journal Article"], "mesh_terms": []},
                            "content_hash": hashlib.sha256(f"{i}".encode()).hexdigest(),
                            "deleted": False,
                            "retracted": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                conn.execute(sa.insert(Record.__table__), rows)  # type: ignore[attr-defined]
                conn.execute(
                    sa.insert(ReviewRecord.__table__),  # type: ignore[attr-defined]
                    [
                        {
                            "review_id": review_id,
                            "record_id": r["id"],
                            "added_at": now - timedelta(seconds=r["id"]),
                            "priority": ((r["id"] * 7919) % 10007) / 10007,
                        }
                        for r in rows
                    ],
                )
                conn.execute(
                    sa.insert(Screening.__table__),  # type: ignore[attr-defined]
                    [
                        {
                            "review_id": review_id,
                            "record_id": r["id"],
                            "protocol_version": proto.version,
                            "content_hash": r["content_hash"],
                            "decision": "include" if r["id"] % 7 == 0 else "exclude",
                            "p_include": ((r["id"] * 7919) % 10007) / 10007,
                            "criteria": {
                                "psilocybin": {
                                    "verdict": "yes",
                                    "confidence": 0.9,
                                    "evidence": [
                                        {
                                            "field": "title",
                                            "start": 20,
                                            "end": 30,
                                            "text": "psilocybin",
                                        }
                                    ],
                                }
                            },
                            "created_at": now,
                        }
                        for r in rows
                    ],
                )
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT setval('records_id_seq', :n)"), {"n": records})
        settle(engine)
        return tokens
    finally:
        engine.dispose()


def settle(engine: sa.Engine) -> None:
    """Finish the bulk load's after-effects before measuring, as a service that gathered its
    records over months would have: vacuum and statistics (else autovacuum works through
    the fresh tables during the run) and a checkpoint (else the load's dirty pages are
    written out during the run). Reviewers meet a steady database, not a bulk load."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE) records, review_records, screenings, users"))
        try:
            conn.execute(sa.text("CHECKPOINT"))
        except sa.exc.DBAPIError as exc:  # needs superuser or pg_checkpoint; not essential
            print(f"no checkpoint before measuring: {str(exc).splitlines()[0]}", file=sys.stderr)


def start_server(url: str, protocol_file: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``livescreen serve``, exactly as a deployment runs it, on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "LIVESCREEN_DATABASE_URL": url,
        "LIVESCREEN_PROTOCOLS": str(protocol_file),
        "LIVESCREEN_SECRET_KEY": "benchmark",
    }
    cmd = [sys.executable, "-m", "services.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code < 600:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"server did not start:\n{log.read_text()[-2000:]}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReviewerRun:
    """What one reviewer saw: timed rounds, and every answer that was not a success.

    Plain data (no exception objects), so it pickles back from the client processes
    whatever went wrong; an error is counted and sampled, and the reviewer carries on.
    """

    rounds: list[tuple[float, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)

    def failed(self, what: str, detail: str) -> None:
        self.errors[what] += 1
        self.samples.setdefault(what, detail[:500])

    def merge(self, other: ReviewerRun) -> None:
        self.rounds += other.rounds
        self.errors.update(other.errors)
        for key, sample in other.samples.items():
            self.samples.setdefault(key, sample)


def reviewer(
    base: str,
    token: str,
    start_at: float,
    stop_at: float,
    think: float,
    seed: int,
    lockstep: bool = False,
) -> ReviewerRun:
    """One reviewer: claim, read ``think`` s (jittered), decide; times (next ms, decision ms)."""
    rng = random.Random(seed)
    run = ReviewerRun()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        warm = c.post(f"/api/v1/reviews/{SLUG}/next")  # held until decided
        if warm.status_code >= 300:
            run.failed(f"warm-up next {warm.status_code}", warm.text)
        # Reviewers do not start in lockstep: each begins at a random point of one reading
        # time (with --lockstep all 50 fire their first request in the same instant).
        offset = 0.0 if lockstep else rng.uniform(0.0, think)
        time.sleep(max(0.0, start_at + offset - time.time()))
        while time.time() < stop_at:
            t0 = time.perf_counter()
            try:
                r = c.post(f"/api/v1/reviews/{SLUG}/next")
            except httpx.TransportError as exc:
                run.failed(f"next {exc.__class__.__name__}", str(exc))
                time.sleep(0.5)
                continue
            t1 = time.perf_counter()
            if r.status_code == 204:
                break
            if r.status_code >= 300:
                run.failed(f"next {r.status_code}", r.text)
                time.sleep(0.5)
                continue
            rid = r.json()["id"]
            if think:
                time.sleep(think * rng.uniform(0.5, 1.5))
            t1b = time.perf_counter()
            try:
                d = c.post(
                    f"/api/v1/reviews/{SLUG}/records/{rid}/decisions",
                    json={"decision": "exclude", "reasons": ["low_dose"]},
                )
            except httpx.TransportError as exc:
                run.failed(f"decision {exc.__class__.__name__}", str(exc))
                continue
            t2 = time.perf_counter()
            if d.status_code >= 300:
                run.failed(f"decision {d.status_code}", d.text)
                continue
            run.rounds.append(((t1 - t0) * 1000, (t2 - t1b) * 1000))
    return run


def client_process(
    base: str,
    tokens: list[str],
    start_at: float,
    stop_at: float,
    think: float,
    lockstep: bool = False,
    seed: int = 0,
) -> ReviewerRun:
    total = ReviewerRun()
    with ThreadPoolExecutor(len(tokens)) as pool:
        futures = [
            pool.submit(reviewer, base, t, start_at, stop_at, think, seed + i, lockstep)
            for i, t in enumerate(tokens)
        ]
        for future in futures:
            total.merge(future.result())
    return total


def server_errors(log: Path, limit: int = 40) -> list[str]:
    """The server log's error lines and tracebacks, to say what answered a failure."""
    lines = log.read_text(errors="replace").splitlines()
    picked = [
        line
        for line in lines
        if "Traceback" in line or "ERROR" in line or "Error" in line or '" 5' in line
    ]
    return picked[-limit:]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of measurement")
    parser.add_argument("--client-procs", type=int, default=5)
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="mean seconds a reviewer reads a record before deciding (0: back-to-back)",
    )
    parser.add_argument(
        "--lockstep",
        action="store_true",
        help="all reviewers send their first measured request at the same instant",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)

    admin = sa.create_engine(args.database_url)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.database_url else "?"
    url = f"{args.database_url}{sep}options=-csearch_path%3D{schema}"
    proc = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            protocol_file = Path(tmp) / "bench.toml"
            protocol_file.write_text(PROTOCOL)
            t = time.perf_counter()
            tokens = load(url, protocol_file, args.records, args.reviewers)
            print(f"loaded {args.records} records in {time.perf_counter() - t:.1f}s", flush=True)
            proc, base = start_server(url, protocol_file, Path(tmp) / "server.log")
            start_at = time.time() + 2.0
            stop_at = start_at + args.duration
            groups = [tokens[i :: args.client_procs] for i in range(args.client_procs)]
            with ProcessPoolExecutor(args.client_procs) as pool:
                futures = [
                    pool.submit(
                        client_process,
                        base,
                        g,
                        start_at,
                        stop_at,
                        args.think,
                        args.lockstep,
                        100 * n,
                    )
                    for n, g in enumerate(groups)
                    if g
                ]
                time.sleep(max(0.0, start_at - time.time()))
                cpu_before = cpu_seconds(proc.pid)
                seen = ReviewerRun()
                for future in futures:
                    seen.merge(future.result())
                cpu_used = cpu_seconds(proc.pid) - cpu_before
            log_errors = server_errors(Path(tmp) / "server.log") if seen.errors else []
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    rounds = seen.rounds
    if not rounds:
        print(json.dumps({"rounds": 0, "errors": dict(seen.errors), "samples": seen.samples}))
        print("\n".join(log_errors), file=sys.stderr)
        return 1
    nexts = [r[0] for r in rounds]
    decisions = [r[1] for r in rounds]
    both = [a + b for a, b in rounds]
    result = {
        "records": args.records,
        "reviewers": args.reviewers,
        "think_seconds": args.think,
        "lockstep_start": args.lockstep,
        "rounds": len(rounds),
        "rounds_per_second": round(len(rounds) / args.duration, 1),
        "next_plus_decision_ms": {
            "p50": round(pct(both, 50), 1),
            "p95": round(pct(both, 95), 1),
            "p99": round(pct(both, 99), 1),
            "mean": round(statistics.fmean(both), 1),
        },
        "next_ms": {"p50": round(pct(nexts, 50), 1), "p99": round(pct(nexts, 99), 1)},
        "decision_ms": {"p50": round(pct(decisions, 50), 1), "p99": round(pct(decisions, 99), 1)},
        # what one reviewer's next + decision costs the server, whatever the load
        "server_cpu_ms_per_round": round(cpu_used * 1000 / max(1, len(rounds)), 2),
        "target_p99_ms": 50,
        # every non-success answer, by request and status, with one sample body each
        "errors": dict(seen.errors),
        "error_samples": seen.samples,
    }
    print(json.dumps(result, indent=2))
    if log_errors:
        print("server log, error lines:\n" + "\n".join(log_errors), file=sys.stderr)
    return 1 if seen.errors else 0


if __name__ == "__main__":
    threading.current_thread().name = "benchmark"
    sys.exit(main())

"""Alert channels on local peers: digest size and speed, feed size, webhook latency.

    .venv/bin/python -m benchmarks.alerts_benchmark [--alerts 10000] [--webhooks 200]

The issue's target is "10,000 new records in one sweep: alerts raised and digests
sent within 60 s of the sweep's end"; this measures the channel part of that on one
core: building and sending one digest of ``--alerts`` alerts (top 50 shown) to a
local aiosmtpd server, building the Atom feed of them, and ``--webhooks`` signed
deliveries in a row to a local receiver (median and 95th percentile latency).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from classifiers.types import CriterionResult, Evidence
from services.alerts.email import DigestContext, DigestOptions, deliver_digest
from services.alerts.feed import build_feed
from services.alerts.outcome import Attempt
from services.alerts.payload import AlertPayload, record_url
from services.alerts.smtp_url import parse_smtp_url
from services.alerts.webhook import deliver_webhook
from tests.alerts.receiver import running_receiver
from tests.alerts.smtp_server import smtp_server

BASE = "https://livescreen.example.org"
SLUG = "psilocybin-microdosing"
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def synthetic_alerts(n: int, rng: random.Random) -> list[AlertPayload]:
    criteria = {
        "substance": CriterionResult("met", 0.95, [Evidence("abstract", 0, 10, "psilocybin")]),
        "design": CriterionResult("met", 0.9, [Evidence("abstract", 11, 21, "randomised")]),
        "dose": CriterionResult("unclear", 0.5),
        "publication_type": CriterionResult("met", 0.8),
    }
    return [
        AlertPayload(
            alert_id=f"a{i}",
            event="machine_include",
            review_slug=SLUG,
            record_id=i,
            record={
                "pmid": str(40_000_000 + i),
                "title": f"Trial {i} of microdosed psilocybin & mood <randomised>",
                "abstract": "psilocybin randomised " * 40,
                "journal": "J Psychopharmacol",
                "year": 2026,
            },
            record_url=record_url(BASE, SLUG, i),
            decision="include",
            p_include=rng.random(),
            criteria=criteria,
            raised_at=NOW - timedelta(seconds=i),
        )
        for i in range(n)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--webhooks", type=int, default=200)
    args = parser.parse_args(argv)
    rng = random.Random(0)
    alerts = synthetic_alerts(args.alerts, rng)

    ctx = DigestContext(
        SLUG,
        "Psilocybin microdosing",
        "#1",
        f"{BASE}/reviews/{SLUG}",
        "livescreen@example.org",
        "reviewer@example.org",
        NOW,
    )
    with smtp_server() as (inbox, port):
        tracemalloc.start()
        started = time.perf_counter()
        outcome = deliver_digest(
            alerts,
            ctx=ctx,
            options=DigestOptions(max_records=50),
            config=parse_smtp_url(f"smtp://127.0.0.1:{port}"),
            attempt=Attempt.first(NOW),
            timeout=10,
            rng=rng,
        )
        digest_s = time.perf_counter() - started
        _, digest_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    size = len(inbox.messages[0][2].as_bytes()) if inbox.messages else 0
    print(
        f"digest of {args.alerts} alerts (top 50): {outcome.status} in {digest_s:.3f} s, "
        f"{size / 1024:.1f} KiB, peak Python memory {digest_peak / 2**20:.1f} MiB"
    )

    started = time.perf_counter()
    document = build_feed(
        alerts,
        review_slug=SLUG,
        review_title="Psilocybin microdosing",
        review_url=f"{BASE}/reviews/{SLUG}",
        self_url=f"{BASE}/feed",
        now=NOW,
    )
    feed_s = time.perf_counter() - started
    print(f"Atom feed of {args.alerts} alerts: {feed_s:.3f} s, {len(document) / 2**20:.1f} MiB")

    latencies: list[float] = []
    with running_receiver("bench-secret") as receiver:
        for i, alert in enumerate(alerts[: args.webhooks]):
            started = time.perf_counter()
            result = deliver_webhook(
                alert,
                url=receiver.url(),
                secret="bench-secret",
                delivery_id=f"d{i}",
                attempt=Attempt.first(NOW),
                timeout=5,
                allow_private=True,
                rng=rng,
            )
            latencies.append(time.perf_counter() - started)
            if result.status != "delivered":
                print(f"webhook {i}: {result.status}: {result.reason}", file=sys.stderr)
                return 1
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"{len(latencies)} webhook deliveries: median {statistics.median(latencies) * 1000:.1f} "
        f"ms, p95 {p95 * 1000:.1f} ms, {len(latencies) / sum(latencies):.0f}/s"
    )
    return 0 if outcome.status == "delivered" else 1


if __name__ == "__main__":
    sys.exit(main())

"""From a record appearing in E-utilities to its webhook delivery, with the schedule forced.

``--mode embedded|celery|both``:

    .venv/bin/python -m benchmarks.loop_latency_benchmark [--records 20] [--mode both]

The issue's target: under 5 s on the embedded default and with Celery (median of 20
records). Each round adds one eligible trial to a local E-utilities server, starts the
review's chain at once (in-process, or ``livescreen.pipeline`` sent to a real
``livescreen worker`` on Redis) and waits for the signed webhook at a local receiver.
SQLite for the embedded mode; PostgreSQL (``LIVESCREEN_TEST_POSTGRES_URL``, default the
CI database) for Celery, each run in a schema of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from benchmarks.loop_setup import REDIS, SLUG, postgres_schema
from benchmarks.loop_setup import trial as eligible_trial
from services.alerts.subscriptions import subscribe
from services.pipeline import chain
from services.runtime import Runtime, build_runtime
from services.settings import FLAGSHIP_PROTOCOL, Settings
from tests.alerts.receiver import Receiver, running_receiver
from tests.eutils_server import FakeEutils

BASE_PMID = 43_000_000


def trial(i: int) -> object:
    return eligible_trial(BASE_PMID + i, edat=date.today())


def wait_for(hook: Receiver, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while len(hook.received) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"no webhook for record {count} within {seconds:.0f} s")
        time.sleep(0.005)


def measure(
    rounds: int, fake: FakeEutils, hook: Receiver, start: Callable[[], None]
) -> list[float]:
    took = []
    for i in range(rounds):
        fake.add(trial(i))  # type: ignore[arg-type]
        began = time.perf_counter()
        start()
        wait_for(hook, i + 1)
        took.append(time.perf_counter() - began)
    return took


def prepared(settings: Settings, hook: Receiver) -> Runtime:
    runtime = build_runtime(settings)
    with runtime.sessions() as session:
        subscribe(
            session=session,
            settings=settings,
            review_id=chain.review_id_of(runtime, SLUG),
            channel="webhook",
            target=hook.url(),
            secret="bench",
        )
        session.commit()
    return runtime


def embedded(rounds: int) -> list[float]:
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeEutils([]) as fake,
        running_receiver("bench") as hook,
    ):
        settings = Settings(
            database_url=f"sqlite:///{folder}/bench.db",
            eutils_url=fake.base_url,
            protocols=[FLAGSHIP_PROTOCOL],
            ncbi_api_key="bench",
            alerts_allow_private=True,
        )
        runtime = prepared(settings, hook)
        chain.run_pipeline(runtime, SLUG)  # the first, full sweep of an empty review
        try:
            return measure(rounds, fake, hook, lambda: chain.run_pipeline(runtime, SLUG))
        finally:
            runtime.close()


def celery(rounds: int) -> list[float]:
    from workers.celery_app import create_celery

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    broker = REDIS.rsplit("/", 1)[0] + "/12"
    with postgres_schema() as url, FakeEutils([]) as fake, running_receiver("bench") as hook:
        values = {
            "database_url": url,
            "broker_url": broker,
            "celery_queue": queue,
            "eutils_url": fake.base_url,
            "ncbi_api_key": "bench",
            "alerts_allow_private": True,
        }
        settings = Settings(protocols=[FLAGSHIP_PROTOCOL], **values)  # type: ignore[arg-type]
        runtime = prepared(settings, hook)
        env = {
            **os.environ,
            "LIVESCREEN_PROTOCOLS": str(FLAGSHIP_PROTOCOL),
            **{f"LIVESCREEN_{k.upper()}": str(v) for k, v in values.items()},
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker", "--loglevel=WARNING"],
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.DEVNULL,  # Celery's banner and log: not the benchmark's output
            stderr=subprocess.DEVNULL,
        )
        app = create_celery(settings)
        try:
            chain.run_pipeline(runtime, SLUG)  # the first, full sweep, in-process

            def start() -> None:
                app.send_task("livescreen.pipeline", args=[SLUG], queue=queue)

            return measure(rounds, fake, hook, start)
        finally:
            app.close()
            worker.terminate()
            worker.wait(timeout=30)
            runtime.close()


def report(mode: str, took: list[float]) -> bool:
    median = statistics.median(took)
    worst = max(took)
    ok = median < 5.0
    print(
        f"{mode:9s} {len(took)} records: median {median:.2f} s, max {worst:.2f} s "
        f"(target median < 5 s: {'met' if ok else 'NOT met'})"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--mode", choices=["embedded", "celery", "both"], default="both")
    args = parser.parse_args(argv)
    ok = True
    if args.mode in ("embedded", "both"):
        ok &= report("embedded", embedded(args.records))
    if args.mode in ("celery", "both"):
        ok &= report("celery", celery(args.records))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

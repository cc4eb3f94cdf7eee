"""10,000 new eligible records in one sweep on the Celery path: alerts and digests after it.

    .venv/bin/python -m benchmarks.sweep_alerts_benchmark [--records 10000]

The issue's target: alerts raised and digests sent within 60 s of the sweep's end, and
each worker under 300 MB. A real ``livescreen worker`` (solo pool) on Redis and
PostgreSQL (a schema of its own) runs ``livescreen.pipeline`` against a local
E-utilities server holding ``--records`` eligible trials; an e-mail subscription sends
its digest to a local SMTP server (aiosmtpd). Times are read from the step runs and
deliveries the chain writes; the worker's peak memory from ``/proc/PID/status``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from benchmarks.loop_setup import REDIS, SLUG, postgres_schema
from benchmarks.loop_setup import trial as eligible_trial
from services.alerts.subscriptions import subscribe
from services.db.alerts import Alert, Delivery
from services.db.runs import StepRun
from services.pipeline import chain
from services.runtime import build_runtime
from services.settings import FLAGSHIP_PROTOCOL, Settings
from tests.alerts.smtp_server import smtp_server
from tests.eutils_server import FakeEutils

BASE_PMID = 44_000_000


def trial(i: int) -> object:
    """Spread over days, 1,000 a day: one day's window holds at most E-utilities' retrieval
    cap of 9,999 records (10,000 on one day would be a sweep that cannot complete)."""
    return eligible_trial(BASE_PMID + i, edat=date(2026, 3, 1) + timedelta(days=i // 1000))


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--worker-log", type=Path, help="write the worker's INFO log here")
    args = parser.parse_args(argv)
    with postgres_schema() as url:
        records = [trial(i) for i in range(args.records)]
        with FakeEutils(records) as fake, smtp_server() as (inbox, port):  # type: ignore[arg-type]
            values = {
                "database_url": url,
                "broker_url": REDIS.rsplit("/", 1)[0] + "/12",
                "celery_queue": f"bench-{uuid.uuid4().hex[:8]}",
                "eutils_url": fake.base_url,
                "ncbi_api_key": "bench",
                "smtp_url": f"smtp://127.0.0.1:{port}",
                "alerts_allow_private": True,
            }
            settings = Settings(protocols=[FLAGSHIP_PROTOCOL], **values)  # type: ignore[arg-type]
            runtime = build_runtime(settings)
            review_id = chain.review_id_of(runtime, SLUG)
            with runtime.sessions() as session:
                subscribe(session=session, settings=settings, review_id=review_id,
                          channel="email", target="team@example.org")  # fmt: skip
                session.commit()
            env = {
                **os.environ,
                "LIVESCREEN_PROTOCOLS": str(FLAGSHIP_PROTOCOL),
                **{f"LIVESCREEN_{k.upper()}": str(v) for k, v in values.items()},
            }
            log = args.worker_log.open("wb") if args.worker_log else subprocess.DEVNULL
            worker = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "worker", "--pool=solo",
                 f"--loglevel={'INFO' if args.worker_log else 'WARNING'}"],
                env=env, cwd=Path(__file__).resolve().parents[1], stdout=log, stderr=log,
            )  # fmt: skip
            from workers.celery_app import create_celery

            app = create_celery(settings)
            peak = 0.0
            try:
                app.send_task("livescreen.pipeline", args=[SLUG], queue=values["celery_queue"])
                deadline = time.monotonic() + args.timeout
                while time.monotonic() < deadline:
                    peak = max(peak, peak_mb(worker.pid))
                    with runtime.sessions() as s:
                        done = s.exec(
                            select(StepRun).where(
                                StepRun.step == "deliver", StepRun.state == "succeeded"
                            )
                        ).first()
                    if done is not None and inbox.messages:
                        break
                    time.sleep(0.5)
                else:
                    raise SystemExit(f"the chain did not finish within {args.timeout:.0f} s")
                with runtime.sessions() as s:
                    sweep = s.exec(select(StepRun).where(StepRun.step == "sweep")).one()
                    steps = [
                        f"{r.step} {(r.finished_at - r.started_at).total_seconds():.1f} s"
                        for r in s.exec(select(StepRun).order_by(col(StepRun.id)))
                        if r.finished_at is not None
                    ]
                    alerts = s.exec(select(sa.func.count()).select_from(Alert)).one()
                    last = s.exec(select(sa.func.max(col(Delivery.delivered_at)))).one()
            finally:
                app.close()
                worker.terminate()
                worker.wait(timeout=60)
                runtime.close()
        assert sweep.finished_at is not None and last is not None
        after = (last - sweep.finished_at).total_seconds()
        swept = (sweep.finished_at - sweep.started_at).total_seconds()
        ok = after < 60 and peak < 300
        print(
            f"{args.records} records: sweep (with screening) {swept:.1f} s; {alerts} alerts "
            f"raised and {len(inbox.messages)} digest(s) sent {after:.1f} s after the sweep's "
            f"end (target < 60 s); worker peak {peak:.0f} MB (target < 300 MB): "
            f"{'met' if ok else 'NOT met'}"
        )
        print("steps: " + ", ".join(steps))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""A sweep run by a real Celery worker process on Redis, against the local E-utilities server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.db.models import Record, Sweep
from services.runtime import build_runtime
from services.settings import Settings
from tests.eutils_server import FakeEutils, synthetic_record

pytestmark = [pytest.mark.integration, pytest.mark.redis]


@pytest.fixture
def broker_url(redis_server: str) -> str:
    # A Redis database of its own so stray tasks of other runs are never consumed here.
    return redis_server.rsplit("/", 1)[0] + "/11"


@pytest.fixture
def worker_env(
    database_url: str, broker_url: str, tmp_path: Path
) -> Iterator[tuple[dict[str, str], FakeEutils]]:
    protocol = tmp_path / "celery-review.toml"
    protocol.write_text(
        'slug = "celery-review"\ntitle = "Celery review"\nquery = "psilocybin[tiab]"\n'
    )
    records = [
        synthetic_record(str(31_000_000 + i), edat=date(2026, 3, 1) + timedelta(days=i))
        for i in range(40)
    ]
    with FakeEutils(records) as fake:
        env = {
            **os.environ,
            "LIVESCREEN_DATABASE_URL": database_url,
            "LIVESCREEN_BROKER_URL": broker_url,
            "LIVESCREEN_EUTILS_URL": fake.base_url,
            "LIVESCREEN_PROTOCOLS": str(protocol),
            "LIVESCREEN_NCBI_API_KEY": "test",
        }
        yield env, fake


def start_worker(env: dict[str, str], queue: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_worker_sweeps_review_into_the_database_idempotently(
    worker_env: tuple[dict[str, str], FakeEutils],
) -> None:
    env, fake = worker_env
    settings = Settings(
        database_url=env["LIVESCREEN_DATABASE_URL"],
        broker_url=env["LIVESCREEN_BROKER_URL"],
        protocols=[Path(env["LIVESCREEN_PROTOCOLS"])],
    )
    runtime = build_runtime(settings)
    from workers.celery_app import create_celery

    app = create_celery(settings)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = start_worker(env, queue)
    try:
        first = app.send_task("livescreen.sweep_review", args=["celery-review"], queue=queue)
        result = first.get(timeout=90)
        assert result["state"] == "succeeded"
        assert result["new"] == 40
        second = app.send_task("livescreen.sweep_review", args=["celery-review"], queue=queue)
        again = second.get(timeout=90)
        assert again["state"] == "succeeded"
        assert again["new"] == 0 and again["updated"] == 0
        with runtime.sessions() as session:
            assert session.exec(select(func.count()).select_from(Record)).one() == 40
            states = [s.state for s in session.exec(select(Sweep).order_by(Sweep.id))]  # type: ignore[arg-type]
        assert states == ["succeeded", "succeeded"]
        assert all(r.params.get("tool") == "livescreen" for r in fake.requests)
        gone = app.send_task("livescreen.sweep_review", args=["no-such-review"], queue=queue)
        assert gone.get(timeout=30)["state"] == "unknown review"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        stderr = worker.stderr.read().decode() if worker.stderr else ""
        if worker.stderr:
            worker.stderr.close()
        app.close()
        runtime.close()
        time.sleep(0)
    assert "Traceback" not in stderr, stderr

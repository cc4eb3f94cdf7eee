"""`livescreen worker` and `livescreen beat` on the real Redis: a fresh deployment sweeps a
never-swept review as soon as beat starts (not a period later), through the whole chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.db.models import Record
from services.db.runs import StepRun
from services.runtime import build_runtime
from services.settings import Settings
from tests.eutils_server import FakeEutils, synthetic_record

pytestmark = [pytest.mark.integration, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]


def livescreen(*argv: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", *argv],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def deployment(
    database_url: str, redis_server: str, tmp_path: Path
) -> Iterator[tuple[dict[str, str], FakeEutils]]:
    protocol = tmp_path / "beat-review.toml"
    protocol.write_text('slug = "beat-review"\ntitle = "Beat review"\nquery = "psilocybin[tiab]"\n')
    records = [
        synthetic_record(str(32_000_000 + i), edat=date(2026, 3, 1) + timedelta(days=i))
        for i in range(12)
    ]
    with FakeEutils(records) as fake:
        yield (
            {
                **os.environ,
                "LIVESCREEN_DATABASE_URL": database_url,
                "LIVESCREEN_BROKER_URL": redis_server.rsplit("/", 1)[0] + "/11",
                "LIVESCREEN_CELERY_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
                "LIVESCREEN_EUTILS_URL": fake.base_url,
                "LIVESCREEN_PROTOCOLS": str(protocol),
                "LIVESCREEN_NCBI_API_KEY": "test",
            },
            fake,
        )


def test_beat_started_by_livescreen_sweeps_a_new_review_at_once(
    deployment: tuple[dict[str, str], FakeEutils], tmp_path: Path
) -> None:
    env, _fake = deployment
    settings = Settings(
        database_url=env["LIVESCREEN_DATABASE_URL"],
        protocols=[Path(env["LIVESCREEN_PROTOCOLS"])],
    )
    runtime = build_runtime(settings)
    worker = livescreen(
        "worker", "--pool=solo", "--loglevel=WARNING", env=env, log=tmp_path / "worker.log"
    )
    beat = livescreen(
        "beat", "--schedule", str(tmp_path / "beat-state"), env=env, log=tmp_path / "beat.log"
    )
    started = time.monotonic()
    try:
        steps: set[str] = set()
        while time.monotonic() - started < 45 and len(steps) < 5:
            with runtime.sessions() as session:
                steps = set(
                    session.exec(select(StepRun.step).where(StepRun.state == "succeeded")).all()
                )
            assert worker.poll() is None and beat.poll() is None
            time.sleep(0.5)
        took = time.monotonic() - started
        with runtime.sessions() as session:
            stored = session.exec(select(func.count()).select_from(Record)).one()
    finally:
        stop(beat)
        stop(worker)
        runtime.close()
    logs = (tmp_path / "worker.log").read_text() + (tmp_path / "beat.log").read_text()
    assert steps == {"sweep", "screen", "rank", "alerts", "deliver"}, logs
    assert stored == 12
    assert took < 45  # well inside beat's first minute: the start-up check sent it
    assert "Traceback" not in logs, logs


def test_worker_and_beat_refuse_without_a_broker_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESCREEN_")}
    for program in ("worker", "beat"):
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", program],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert done.stderr.strip().splitlines() == [
            f"livescreen {program}: error: LIVESCREEN_BROKER_URL is not set: a {program} needs "
            "a broker such as redis://127.0.0.1:6379/0 (without one, `livescreen run` runs "
            "the tasks in-process)"
        ]

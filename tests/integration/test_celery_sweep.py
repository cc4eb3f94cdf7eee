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


def test_worker_runs_the_whole_loop_and_a_new_trial_alerts_once(
    database_url: str, broker_url: str, tmp_path: Path
) -> None:
    """beat's entry (livescreen.pipeline) on a real worker: sweep, screen, rank, raise alerts
    and deliver them to a real webhook receiver; a second run sends nothing."""
    from services.alerts.subscriptions import subscribe
    from services.pipeline.chain import review_id_of
    from services.settings import FLAGSHIP_PROTOCOL
    from tests.alerts.receiver import running_receiver
    from tests.registry.server import FakeRegistry

    trial = synthetic_record(
        "41000001",
        title="Microdosing psilocybin in healthy adults: a randomised, double-blind, "
        "placebo-controlled trial",
        abstract="Healthy adults were randomised to psilocybin 1 mg or placebo on six "
        "occasions. Psilocybin at this low dose did not differ from placebo.",
        edat=date(2026, 3, 1),
    )
    other = synthetic_record("41000002", edat=date(2026, 3, 2))
    with (
        FakeEutils([trial, other]) as fake,
        running_receiver("celery-secret") as hook,
        FakeRegistry() as registry,  # the flagship's registry step asks it, not the real one
    ):
        env = {
            **os.environ,
            "LIVESCREEN_DATABASE_URL": database_url,
            "LIVESCREEN_BROKER_URL": broker_url,
            "LIVESCREEN_EUTILS_URL": fake.base_url,
            "LIVESCREEN_PROTOCOLS": str(FLAGSHIP_PROTOCOL),
            "LIVESCREEN_NCBI_API_KEY": "test",
            "LIVESCREEN_ALERTS_ALLOW_PRIVATE": "1",
            "LIVESCREEN_CLINICALTRIALS_URL": registry.base_url,
        }
        settings = Settings(
            database_url=database_url,
            broker_url=broker_url,
            protocols=[FLAGSHIP_PROTOCOL],
            alerts_allow_private=True,
        )
        runtime = build_runtime(settings)
        slug = "psilocybin-microdosing"
        with runtime.sessions() as session:
            review_id = review_id_of(runtime, slug)
            subscribe(
                session=session,
                settings=settings,
                review_id=review_id,
                channel="webhook",
                target=hook.url(),
                secret="celery-secret",
            )
            session.commit()
        from workers.celery_app import create_celery

        app = create_celery(settings)
        queue = f"test-{uuid.uuid4().hex[:8]}"
        worker = start_worker(env, queue)
        try:
            for run in (1, 2):
                app.send_task("livescreen.pipeline", args=[slug], queue=queue)
                state = wait_for_chain(runtime, review_id, sweeps=run)
                assert state == ("succeeded", 1), f"run {run}: {state}"
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
    assert "Traceback" not in stderr, stderr
    assert len(hook.received) == 1 and hook.received[0].signature_ok
    assert b'"pmid":"41000001"' in hook.received[0].body


def wait_for_chain(runtime: object, review_id: int, *, sweeps: int) -> tuple[str, int]:
    """Poll until the review has ``sweeps`` sweeps and their chain's deliver step finished;
    (that step's state, deliveries delivered)."""
    from services.db.alerts import Delivery
    from services.db.runs import StepRun

    deadline = time.monotonic() + 120
    state = ("not finished", 0)
    while time.monotonic() < deadline:
        with runtime.sessions() as session:  # type: ignore[attr-defined]
            swept = session.exec(
                select(func.count()).select_from(Sweep).where(Sweep.review_id == review_id)
            ).one()
            delivers = session.exec(
                select(func.count())
                .select_from(StepRun)
                .where(StepRun.review_id == review_id, StepRun.step == "deliver")
                .where(StepRun.state == "succeeded")
            ).one()
            delivered = session.exec(
                select(func.count()).select_from(Delivery).where(Delivery.state == "delivered")
            ).one()
        state = ("succeeded" if delivers >= sweeps else "running", int(delivered))
        if swept >= sweeps and delivers >= sweeps:
            return state
        time.sleep(0.5)
    return state

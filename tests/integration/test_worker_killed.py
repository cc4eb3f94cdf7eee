"""A worker killed with SIGKILL in the middle of the chain loses nothing and sends nothing twice.

A real worker (`livescreen worker`, solo pool) on the real Redis runs a review's chain
against the local E-utilities server and a local webhook receiver. It is killed while
the sweep waits on efetch, or while the webhook receiver holds the delivery's request;
a second worker is started, and the end state must be that of a run without the kill:
every record stored once, one alert, one delivered delivery, every step succeeded.
Short timeouts (visibility 3 s, sweep lock 2 s, delivery lease 5 s) stand in for the
production ones so the test takes seconds, not hours.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import func, select

from services.alerts.subscriptions import subscribe
from services.db.alerts import Alert, Delivery
from services.db.models import Record, Sweep
from services.db.runs import StepRun
from services.pipeline.chain import deliver_step, review_id_of
from services.runtime import Runtime, build_runtime
from services.settings import FLAGSHIP_PROTOCOL, Settings
from tests.alerts.receiver import HANG, Receiver, running_receiver
from tests.eutils_server import FakeEutils, synthetic_record
from tests.integration.test_worker_and_beat_commands import livescreen, stop

pytestmark = [pytest.mark.integration, pytest.mark.redis]
SLUG = "psilocybin-microdosing"
STEPS = {"sweep", "screen", "rank", "alerts", "deliver"}


@dataclass
class Deployment:
    env: dict[str, str]
    runtime: Runtime
    fake: FakeEutils
    hook: Receiver
    review_id: int
    logs: Path

    def send_pipeline(self) -> None:
        from workers.celery_app import create_celery

        app = create_celery(self.runtime.settings)
        try:
            app.send_task(
                "livescreen.pipeline", args=[SLUG], queue=self.env["LIVESCREEN_CELERY_QUEUE"]
            )
        finally:
            app.close()

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return livescreen(
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
            env=self.env,
            log=self.logs / f"{name}.log",
        )

    def count(self, query: object) -> int:
        with self.runtime.sessions() as session:
            return int(session.exec(query).one())  # type: ignore[call-overload]

    def succeeded_steps(self) -> set[str]:
        with self.runtime.sessions() as session:
            return set(session.exec(select(StepRun.step).where(StepRun.state == "succeeded")))


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def deployment(database_url: str, redis_server: str, tmp_path: Path) -> Iterator[Deployment]:
    trial = synthetic_record(
        "42000001",
        title="Microdosing psilocybin in healthy adults: a randomised, double-blind, "
        "placebo-controlled trial",
        abstract="Healthy adults were randomised to psilocybin 1 mg or placebo on six "
        "occasions. Psilocybin at this low dose did not differ from placebo.",
        edat=date(2026, 3, 1),
    )
    other = synthetic_record("42000002", edat=date(2026, 3, 2))
    with FakeEutils([trial, other]) as fake, running_receiver("kill-secret") as hook:
        values = {
            "database_url": database_url,
            "broker_url": redis_server.rsplit("/", 1)[0] + "/11",
            "celery_queue": f"test-{uuid.uuid4().hex[:8]}",
            "eutils_url": fake.base_url,
            "protocols": str(FLAGSHIP_PROTOCOL),
            "ncbi_api_key": "test",
            "alerts_allow_private": "1",
            "alerts_timeout": "2",
            "celery_visibility_timeout": "3",
            "sweep_lock_seconds": "2",
            "delivery_lease_seconds": "5",
            "http_backoff": "0.05",
        }
        env = {**os.environ, **{f"LIVESCREEN_{k.upper()}": v for k, v in values.items()}}
        settings = Settings(
            **{k: v for k, v in values.items() if k != "protocols"},  # type: ignore[arg-type]
            protocols=[FLAGSHIP_PROTOCOL],
        )
        runtime = build_runtime(settings)
        review_id = review_id_of(runtime, SLUG)
        with runtime.sessions() as session:
            subscribe(
                session=session,
                settings=settings,
                review_id=review_id,
                channel="webhook",
                target=hook.url(),
                secret="kill-secret",
            )
            session.commit()
        try:
            yield Deployment(env, runtime, fake, hook, review_id, tmp_path)
        finally:
            hook.release.set()
            runtime.close()


def assert_as_if_never_killed(d: Deployment) -> None:
    assert d.count(select(func.count()).select_from(Record)) == 2
    assert d.count(select(func.count()).select_from(Alert)) == 1
    assert d.count(select(func.count()).select_from(Delivery)) == 1
    assert (
        d.count(select(func.count()).select_from(Delivery).where(Delivery.state == "delivered"))
        == 1
    )
    with d.runtime.sessions() as session:
        states = {s.state for s in session.exec(select(Sweep))}
        running = list(session.exec(select(StepRun).where(StepRun.state == "running")))
    assert states == {"succeeded"}, states
    assert running == []  # the killed worker's runs are closed as abandoned, not left running
    keys = {r.headers["X-Livescreen-Delivery"] for r in d.hook.received}
    assert len(keys) == 1  # any repeat carries the same idempotency key
    assert all(json.loads(r.body)["record"]["pmid"] == "42000001" for r in d.hook.received)


def delivered_by_a_later_pass(d: Deployment) -> bool:
    """One pass of delivery, as beat's minute entry runs it: the dead worker's lease must
    lapse before the delivery is sent again."""
    deliver_step(d.runtime, None)
    query = select(func.count()).select_from(Delivery).where(Delivery.state == "delivered")
    return d.count(query) == 1


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_a_worker_killed_in_the_sweep_has_its_chain_completed_by_another(
    deployment: Deployment,
) -> None:
    d = deployment
    d.fake.delay_next("efetch", 8)  # the sweep will sit in efetch
    first = d.worker("first")
    try:
        d.send_pipeline()
        wait_until(
            lambda: d.count(select(func.count()).select_from(Sweep)) > 0,
            60,
            "the sweep to start",
        )
        time.sleep(1.5)  # esearch is answered at once: now inside the delayed efetch
        kill(first)
        assert "sweep" not in d.succeeded_steps()
        second = d.worker("second")
        try:
            wait_until(lambda: d.succeeded_steps() == STEPS, 90, "the chain to complete")
            wait_until(lambda: len(d.hook.received) >= 1, 30, "the webhook")
        finally:
            stop(second)
    finally:
        if first.poll() is None:
            kill(first)
    assert_as_if_never_killed(d)
    assert len(d.hook.received) == 1


def test_a_worker_killed_while_delivering_has_the_delivery_sent_once_more_with_its_key(
    deployment: Deployment,
) -> None:
    d = deployment
    d.hook.answer(HANG)  # the first request is held open: the worker dies mid-send
    first = d.worker("first")
    try:
        d.send_pipeline()
        wait_until(lambda: len(d.hook.received) == 1, 90, "the first delivery attempt")
        kill(first)
        d.hook.release.set()
        second = d.worker("second")
        try:
            wait_until(lambda: d.succeeded_steps() == STEPS, 90, "the chain to complete")
            wait_until(lambda: delivered_by_a_later_pass(d), 60, "the lease to lapse")
        finally:
            stop(second)
    finally:
        if first.poll() is None:
            kill(first)
    assert_as_if_never_killed(d)
    assert len(d.hook.received) == 2  # at least once over HTTP, one key: receivers drop repeats
